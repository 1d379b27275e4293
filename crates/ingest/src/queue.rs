//! The one bounded queue between the sources and the pipeline.
//!
//! ```text
//! sources ──QueueSender──▶ [ LineQueue: bounded ] ──QueueReceiver──▶ consumer
//!                                                                    ├─▶ Recorder (tap)
//!                                                                    └─▶ Router → decoder → picture
//! ```
//!
//! Every source sends through its own [`QueueSender`], which carries the
//! source's explicit [`Overload`] policy for when the queue is full:
//!
//! * [`Overload::Block`] — the sender waits for room, which pushes back on
//!   the reader (a file or a replay simply reads slower; a TCP peer sees its
//!   window close). Nothing is lost. Right for files, stdin and replay.
//! * [`Overload::DropNewest`] — the line being sent is dropped.
//! * [`Overload::DropOldest`] — the oldest queued line that may be dropped
//!   (one from a source whose policy is not `block`) is evicted to make room;
//!   if there is none, the new line is dropped instead. Right for live
//!   feeds: under overload the picture stays current.
//!
//! Every drop is counted twice: on the queue ([`QueueStats::dropped`]) and on
//! the status of the source the dropped line came from
//! ([`crate::status::SourceStatus::dropped`]). Depth, high-water mark and
//! totals are readable at any time through a [`QueueMonitor`].
//!
//! The consumer takes lines in batches ([`QueueReceiver::recv_batch`]), which
//! is also the natural unit for the recorder's writes.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::line::{Line, SourceId};
use crate::status::SourceRegistry;

/// Default queue capacity, in lines: about 1.3 s of a 200,000 lines/s
/// feed (the ingest target), so a pause of the consumer (a burst of alert
/// work, a large query holding the picture's read lock) is absorbed rather
/// than dropped. Full, it holds some 35 MB.
pub const DEFAULT_CAPACITY: usize = 262_144;

/// What happens to a source's lines when the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overload {
    /// Wait for room (backpressure on the reader).
    Block,
    /// Drop the line being sent.
    DropNewest,
    /// Evict the oldest droppable queued line to make room.
    DropOldest,
}

impl Overload {
    /// A short stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Overload::Block => "block",
            Overload::DropNewest => "drop_newest",
            Overload::DropOldest => "drop_oldest",
        }
    }
}

/// The receiver is gone: the pipeline has stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the line queue is closed")
    }
}

impl std::error::Error for Closed {}

/// What became of a sent line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Queued.
    Queued,
    /// Queued after evicting an older line.
    QueuedEvicting,
    /// Dropped: the queue was full.
    Dropped,
}

/// Queue counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QueueStats {
    /// Maximum lines held.
    pub capacity: usize,
    /// Lines held now.
    pub depth: usize,
    /// Most lines ever held at once.
    pub max_depth: usize,
    /// Lines accepted.
    pub enqueued: u64,
    /// Lines handed to the consumer.
    pub dequeued: u64,
    /// Lines dropped under overload (new ones dropped plus old ones evicted).
    pub dropped: u64,
    /// Senders waiting for room right now (`block` policy).
    pub blocked_senders: usize,
}

struct Item {
    line: Line,
    droppable: bool,
}

struct State {
    items: VecDeque<Item>,
    closed: bool,
    max_depth: usize,
    enqueued: u64,
    dequeued: u64,
    dropped: u64,
}

struct Shared {
    state: Mutex<State>,
    capacity: usize,
    not_empty: Notify,
    not_full: Notify,
    producers: AtomicUsize,
    blocked: AtomicUsize,
    registry: Arc<SourceRegistry>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every critical section leaves the state consistent, so a poisoned
        // lock (a panic elsewhere while holding it) is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn producer_gone(&self) {
        if self.producers.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.not_empty.notify_one();
        }
    }
}

/// Makes senders; while any `LineQueue` or [`QueueSender`] exists the
/// receiver keeps waiting for lines.
pub struct LineQueue {
    shared: Arc<Shared>,
}

/// The single consumer end.
pub struct QueueReceiver {
    shared: Arc<Shared>,
}

/// One source's sending end, with its overload policy.
pub struct QueueSender {
    shared: Arc<Shared>,
    policy: Overload,
}

/// Read-only view of the queue's counters; does not keep the queue open.
#[derive(Clone)]
pub struct QueueMonitor {
    shared: Arc<Shared>,
}

/// A queue of at most `capacity` lines (at least 1). Drops are counted on
/// the sources in `registry`.
pub fn channel(capacity: usize, registry: Arc<SourceRegistry>) -> (LineQueue, QueueReceiver) {
    let capacity = capacity.max(1);
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            items: VecDeque::with_capacity(capacity.min(4096)),
            closed: false,
            max_depth: 0,
            enqueued: 0,
            dequeued: 0,
            dropped: 0,
        }),
        capacity,
        not_empty: Notify::new(),
        not_full: Notify::new(),
        producers: AtomicUsize::new(1),
        blocked: AtomicUsize::new(0),
        registry,
    });
    (
        LineQueue {
            shared: shared.clone(),
        },
        QueueReceiver { shared },
    )
}

fn stats(shared: &Shared) -> QueueStats {
    let st = shared.lock();
    QueueStats {
        capacity: shared.capacity,
        depth: st.items.len(),
        max_depth: st.max_depth,
        enqueued: st.enqueued,
        dequeued: st.dequeued,
        dropped: st.dropped,
        blocked_senders: shared.blocked.load(Ordering::Relaxed),
    }
}

impl LineQueue {
    /// A sender with the given overload policy.
    pub fn sender(&self, policy: Overload) -> QueueSender {
        self.shared.producers.fetch_add(1, Ordering::AcqRel);
        QueueSender {
            shared: self.shared.clone(),
            policy,
        }
    }

    /// A read-only monitor.
    pub fn monitor(&self) -> QueueMonitor {
        QueueMonitor {
            shared: self.shared.clone(),
        }
    }

    /// Counters now.
    pub fn stats(&self) -> QueueStats {
        stats(&self.shared)
    }
}

impl Clone for LineQueue {
    fn clone(&self) -> Self {
        self.shared.producers.fetch_add(1, Ordering::AcqRel);
        LineQueue {
            shared: self.shared.clone(),
        }
    }
}

impl Drop for LineQueue {
    fn drop(&mut self) {
        self.shared.producer_gone();
    }
}

impl QueueMonitor {
    /// Counters now.
    pub fn stats(&self) -> QueueStats {
        stats(&self.shared)
    }
}

impl Clone for QueueSender {
    fn clone(&self) -> Self {
        self.shared.producers.fetch_add(1, Ordering::AcqRel);
        QueueSender {
            shared: self.shared.clone(),
            policy: self.policy,
        }
    }
}

impl Drop for QueueSender {
    fn drop(&mut self) {
        self.shared.producer_gone();
    }
}

struct BlockedGuard<'a>(&'a AtomicUsize);
impl Drop for BlockedGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl QueueSender {
    /// This sender's policy.
    pub fn policy(&self) -> Overload {
        self.policy
    }

    /// Queue one line with the lock held, applying the overload policy.
    /// A `block` sender gets the line back when the queue is full; the
    /// sources of dropped lines are noted in `drops` (counted on their
    /// status after the lock is released).
    fn push_locked(
        &self,
        st: &mut State,
        line: Line,
        drops: &mut Vec<SourceId>,
    ) -> Result<Sent, Line> {
        let mut sent = Sent::Queued;
        if st.items.len() >= self.shared.capacity {
            match self.policy {
                Overload::Block => return Err(line),
                Overload::DropNewest => {
                    st.dropped += 1;
                    drops.push(line.source);
                    return Ok(Sent::Dropped);
                }
                Overload::DropOldest => match st.items.iter().position(|i| i.droppable) {
                    Some(pos) => {
                        let victim = st.items.remove(pos);
                        st.dropped += 1;
                        if let Some(v) = victim {
                            drops.push(v.line.source);
                        }
                        sent = Sent::QueuedEvicting;
                    }
                    None => {
                        st.dropped += 1;
                        drops.push(line.source);
                        return Ok(Sent::Dropped);
                    }
                },
            }
        }
        st.items.push_back(Item {
            line,
            droppable: self.policy != Overload::Block,
        });
        st.enqueued += 1;
        st.max_depth = st.max_depth.max(st.items.len());
        Ok(sent)
    }

    /// Count drops on their sources (outside the queue's lock).
    fn count_drops(&self, drops: &[SourceId]) {
        for &source in drops {
            if let Some(s) = self.shared.registry.get(source) {
                s.count_dropped(1);
            }
        }
    }

    /// Try to queue without waiting, applying the drop policies; a `block`
    /// sender gets the line back when the queue is full.
    fn try_push(&self, line: Line) -> Result<Result<Sent, Line>, Closed> {
        let mut drops = Vec::new();
        let mut st = self.shared.lock();
        if st.closed {
            return Err(Closed);
        }
        let r = self.push_locked(&mut st, line, &mut drops);
        drop(st);
        self.count_drops(&drops);
        if matches!(r, Ok(Sent::Queued | Sent::QueuedEvicting)) {
            self.shared.not_empty.notify_one();
        }
        Ok(r)
    }

    /// Queue as many of `lines` as the policy allows under one lock; with
    /// the `block` policy the first line that did not fit is returned (the
    /// rest stay in `lines`).
    fn try_push_many(&self, lines: &mut std::vec::Drain<'_, Line>) -> Result<Option<Line>, Closed> {
        let mut drops = Vec::new();
        let mut queued = false;
        let mut st = self.shared.lock();
        if st.closed {
            return Err(Closed);
        }
        let mut blocked = None;
        for line in lines.by_ref() {
            match self.push_locked(&mut st, line, &mut drops) {
                Ok(Sent::Dropped) => {}
                Ok(_) => queued = true,
                Err(line) => {
                    blocked = Some(line);
                    break;
                }
            }
        }
        drop(st);
        self.count_drops(&drops);
        if queued {
            self.shared.not_empty.notify_one();
        }
        Ok(blocked)
    }

    /// Send every line in `lines` (which is left empty), in order. One
    /// lock and one wake-up of the consumer for the lot, which matters at
    /// hundreds of thousands of lines per second; with the `block` policy
    /// this waits for room as often as needed. Fails only when the
    /// receiver is gone.
    pub async fn send_all(&self, lines: &mut Vec<Line>) -> Result<(), Closed> {
        let mut pending = lines.drain(..);
        while let Some(line) = self.try_push_many(&mut pending)? {
            self.send(line).await?;
        }
        Ok(())
    }

    /// Send a line. With the `block` policy this waits for room; the drop
    /// policies never wait. Fails only when the receiver is gone.
    /// Cancel-safe: if the future is dropped, the line was not queued.
    pub async fn send(&self, line: Line) -> Result<Sent, Closed> {
        let mut line = match self.try_push(line)? {
            Ok(sent) => return Ok(sent),
            Err(line) => line,
        };
        self.shared.blocked.fetch_add(1, Ordering::Relaxed);
        let _guard = BlockedGuard(&self.shared.blocked);
        loop {
            let notified = self.shared.not_full.notified();
            tokio::pin!(notified);
            // Register before checking, so a wake-up between the check and
            // the await is not lost.
            notified.as_mut().enable();
            line = match self.try_push(line)? {
                Ok(sent) => return Ok(sent),
                Err(line) => line,
            };
            notified.await;
        }
    }

    /// Counters now.
    pub fn stats(&self) -> QueueStats {
        stats(&self.shared)
    }
}

impl QueueReceiver {
    /// Wait for at least one line, then move up to `max` lines (at least 1)
    /// into `out`. Returns how many were moved; 0 means every producer is
    /// gone and the queue is empty.
    pub async fn recv_batch(&mut self, out: &mut Vec<Line>, max: usize) -> usize {
        let max = max.max(1);
        loop {
            let notified = self.shared.not_empty.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut st = self.shared.lock();
                let n = st.items.len().min(max);
                if n > 0 {
                    out.extend(st.items.drain(..n).map(|i| i.line));
                    st.dequeued += n as u64;
                    drop(st);
                    self.shared.not_full.notify_waiters();
                    return n;
                }
            }
            if self.shared.producers.load(Ordering::Acquire) == 0 {
                // Re-check: a producer may have pushed just before leaving.
                if self.shared.lock().items.is_empty() {
                    return 0;
                }
                continue;
            }
            notified.await;
        }
    }

    /// Take whatever is queued now, up to `max`, without waiting.
    pub fn try_recv_batch(&mut self, out: &mut Vec<Line>, max: usize) -> usize {
        let mut st = self.shared.lock();
        let n = st.items.len().min(max);
        out.extend(st.items.drain(..n).map(|i| i.line));
        st.dequeued += n as u64;
        drop(st);
        if n > 0 {
            self.shared.not_full.notify_waiters();
        }
        n
    }

    /// A read-only monitor.
    pub fn monitor(&self) -> QueueMonitor {
        QueueMonitor {
            shared: self.shared.clone(),
        }
    }

    /// Counters now.
    pub fn stats(&self) -> QueueStats {
        stats(&self.shared)
    }
}

impl Drop for QueueReceiver {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        st.closed = true;
        st.items.clear();
        drop(st);
        self.shared.not_full.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::line::SourceId;
    use crate::status::SourceSpec;

    fn line(src: u32, n: i64) -> Line {
        Line {
            source: SourceId(src),
            received_ms: n,
            bytes: format!("line {n}").into_bytes(),
        }
    }

    fn setup(cap: usize) -> (Arc<SourceRegistry>, LineQueue, QueueReceiver) {
        let reg = Arc::new(SourceRegistry::default());
        for (name, policy) in [
            ("block", Overload::Block),
            ("newest", Overload::DropNewest),
            ("oldest", Overload::DropOldest),
        ] {
            reg.register(SourceSpec {
                name: name.into(),
                kind: "test",
                own_asset: None,
                overload: policy,
            })
            .unwrap();
        }
        let (q, rx) = channel(cap, reg.clone());
        (reg, q, rx)
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn drop_newest_and_drop_oldest_are_counted() {
        rt().block_on(async {
            let (reg, q, mut rx) = setup(3);
            let newest = q.sender(Overload::DropNewest);
            let oldest = q.sender(Overload::DropOldest);
            for i in 0..3 {
                assert_eq!(newest.send(line(1, i)).await, Ok(Sent::Queued));
            }
            assert_eq!(newest.send(line(1, 3)).await, Ok(Sent::Dropped));
            assert_eq!(
                oldest.send(line(2, 4)).await,
                Ok(Sent::QueuedEvicting),
                "evicts line 0 of source 1"
            );
            let st = q.stats();
            assert_eq!((st.depth, st.dropped, st.max_depth), (3, 2, 3));
            assert_eq!(reg.get(SourceId(1)).unwrap().dropped(), 2);
            assert_eq!(reg.get(SourceId(2)).unwrap().dropped(), 0);
            let mut out = Vec::new();
            assert_eq!(rx.recv_batch(&mut out, 10).await, 3);
            let times: Vec<i64> = out.iter().map(|l| l.received_ms).collect();
            assert_eq!(times, vec![1, 2, 4]);
        });
    }

    #[test]
    fn drop_oldest_never_evicts_block_lines() {
        rt().block_on(async {
            let (reg, q, mut rx) = setup(2);
            let block = q.sender(Overload::Block);
            let oldest = q.sender(Overload::DropOldest);
            block.send(line(0, 0)).await.unwrap();
            block.send(line(0, 1)).await.unwrap();
            assert_eq!(oldest.send(line(2, 2)).await, Ok(Sent::Dropped));
            assert_eq!(reg.get(SourceId(2)).unwrap().dropped(), 1);
            assert_eq!(reg.get(SourceId(0)).unwrap().dropped(), 0);
            let mut out = Vec::new();
            rx.recv_batch(&mut out, 10).await;
            assert_eq!(out.len(), 2);
        });
    }

    #[test]
    fn block_waits_for_room_and_loses_nothing() {
        rt().block_on(async {
            let (_reg, q, mut rx) = setup(4);
            let tx = q.sender(Overload::Block);
            drop(q);
            let producer = tokio::spawn(async move {
                for i in 0..1000 {
                    tx.send(line(0, i)).await.unwrap();
                }
            });
            let mut got = Vec::new();
            let mut out = Vec::new();
            loop {
                out.clear();
                let n = rx.recv_batch(&mut out, 3).await;
                if n == 0 {
                    break;
                }
                assert!(rx.stats().depth <= 4);
                got.extend(out.iter().map(|l| l.received_ms));
            }
            producer.await.unwrap();
            assert_eq!(got, (0..1000).collect::<Vec<_>>());
            assert_eq!(rx.stats().dropped, 0);
            assert_eq!(rx.stats().max_depth, 4);
        });
    }

    #[test]
    fn senders_see_closed_when_receiver_goes() {
        rt().block_on(async {
            let (_reg, q, rx) = setup(1);
            let tx = q.sender(Overload::Block);
            tx.send(line(0, 0)).await.unwrap();
            let waiting = tokio::spawn(async move { tx.send(line(0, 1)).await });
            tokio::task::yield_now().await;
            drop(rx);
            assert_eq!(waiting.await.unwrap(), Err(Closed));
        });
    }
}
