//! The one trait every sink implements, and what the set hands each sink.
//!
//! A sink is started by [`crate::SinkSet::start`] on its **own thread**
//! running a current-thread tokio runtime, so a slow disk, a dead TAK
//! server or a receiver that never answers only ever stalls that sink. It
//! receives alerts through an [`Inbox`]: the receiving end of a bounded
//! queue that [`crate::SinkSet::publish`] fills without waiting (a full
//! queue drops the alert and counts it in [`SinkStats`]). The inbox also
//! carries the set's stop signals:
//!
//! * **closing** (from [`crate::SinkSet::shutdown`]): no more alerts will
//!   come; the sink drains what is queued, makes a bounded last effort to
//!   deliver, and returns;
//! * **abort** (when the set is dropped without a shutdown): the sink
//!   returns at its next await point (the webhook first moves what is
//!   queued into its durable outbox).

use crate::context::SinkAlert;
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// A sink's main loop, as a future run on the sink's own thread.
pub type SinkFuture = Pin<Box<dyn Future<Output = ()>>>;

/// One integration (webhook, JSON lines, Cursor-on-Target, …).
pub trait AlertSink: Send + 'static {
    /// Take alerts from `inbox` until it is closed and drained (then flush
    /// and return) or aborted (return promptly). Deliveries, failures and
    /// what is pending are reported through [`Inbox::stats`].
    fn run(self: Box<Self>, inbox: Inbox) -> SinkFuture;

    /// Alerts already pending when the sink is built (the webhook's
    /// outbox left from the last run), so status is right from the start.
    fn initial_pending(&self) -> u64 {
        0
    }
}

/// Counters and gauges of one sink, shared between the sink's thread and
/// the set (lock-free reads for status and metrics).
#[derive(Debug, Default)]
pub struct SinkStats {
    /// Alerts handed to the sink's queue by `publish`.
    pub published: AtomicU64,
    /// Alerts dropped because the queue was full (or the sink had stopped).
    pub dropped_queue_full: AtomicU64,
    /// Alerts the sink took responsibility for (webhook: committed to the
    /// outbox; others: taken from the queue).
    pub accepted: AtomicU64,
    /// Delivery attempts (HTTP requests, datagrams, writes).
    pub attempts: AtomicU64,
    /// Attempts that failed (each retried or counted as dropped).
    pub failed: AtomicU64,
    /// Alerts delivered (webhook: a 2xx answer).
    pub delivered: AtomicU64,
    /// Undelivered alerts dropped from a full outbox (oldest first).
    pub dropped_outbox_full: AtomicU64,
    /// Alerts given up on for another reason (cannot be encoded, or left
    /// in the queue of a sink that stopped).
    pub dropped_other: AtomicU64,
    /// Alerts given up on because the outbox could not be written (a full
    /// disk) for longer than the memory queue (`max_held`) could bridge.
    pub dropped_store_failed: AtomicU64,
    /// Failed writes to the outbox (each retried).
    pub store_errors: AtomicU64,
    /// Alerts held in memory because the outbox cannot be written now.
    pub held: AtomicU64,
    /// Accepted but not yet delivered (webhook: outbox rows).
    pub pending: AtomicU64,
    /// Rows in the webhook's outbox table, delivered ones not yet deleted
    /// included (0 for other sinks).
    pub outbox_rows: AtomicU64,
    /// Connected to the peer (TCP); true for connectionless sinks.
    pub connected: AtomicBool,
    /// Wall-clock time (Unix ms) of the last delivery, 0 if none.
    pub last_delivery_ms: AtomicI64,
    last_error: Mutex<Option<String>>,
}

impl SinkStats {
    pub(crate) fn inc(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Record a failure's reason (kept for status; never holds secrets).
    pub fn set_error(&self, e: impl Into<String>) {
        let mut e: String = e.into();
        if e.len() > 300 {
            let mut cut = 300;
            while !e.is_char_boundary(cut) {
                cut -= 1;
            }
            e.truncate(cut);
        }
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
    }

    pub fn clear_error(&self) {
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// One delivery done now.
    pub fn delivered_now(&self) {
        Self::inc(&self.delivered);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        self.last_delivery_ms.store(now, Ordering::Relaxed);
    }
}

/// A snapshot of one sink for status pages and tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SinkStatus {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub published: u64,
    /// In the in-memory queue now.
    pub queued: u64,
    pub accepted: u64,
    pub attempts: u64,
    pub failed: u64,
    pub delivered: u64,
    /// Accepted, not yet delivered (webhook: outbox rows).
    pub pending: u64,
    pub dropped_queue_full: u64,
    pub dropped_outbox_full: u64,
    pub dropped_other: u64,
    /// Given up on: the outbox could not be written for too long.
    pub dropped_store_failed: u64,
    /// Failed writes to the outbox (retried).
    pub store_errors: u64,
    /// Held in memory until the outbox can be written again.
    pub held: u64,
    /// Rows in the outbox (webhook only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbox_rows: Option<u64>,
    pub connected: bool,
    /// RFC 3339, or null.
    pub last_delivery: Option<String>,
    pub last_error: Option<String>,
}

impl SinkStatus {
    pub(crate) fn new(name: &str, kind: &'static str, queued: u64, s: &SinkStats) -> Self {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let last = s.last_delivery_ms.load(Ordering::Relaxed);
        SinkStatus {
            name: name.to_string(),
            kind,
            published: g(&s.published),
            queued,
            accepted: g(&s.accepted),
            attempts: g(&s.attempts),
            failed: g(&s.failed),
            delivered: g(&s.delivered),
            pending: g(&s.pending),
            dropped_queue_full: g(&s.dropped_queue_full),
            dropped_outbox_full: g(&s.dropped_outbox_full),
            dropped_other: g(&s.dropped_other),
            dropped_store_failed: g(&s.dropped_store_failed),
            store_errors: g(&s.store_errors),
            held: g(&s.held),
            outbox_rows: (kind == "webhook").then(|| g(&s.outbox_rows)),
            connected: s.connected.load(Ordering::Relaxed),
            last_delivery: (last > 0).then(|| alerts::alert::format_time(last)),
            last_error: s.last_error(),
        }
    }

    /// Everything dropped, for any reason.
    pub fn dropped(&self) -> u64 {
        self.dropped_queue_full
            + self.dropped_outbox_full
            + self.dropped_other
            + self.dropped_store_failed
    }
}

/// What a sink receives: its queue, its counters, and the stop signals.
pub struct Inbox {
    pub(crate) name: String,
    pub(crate) rx: mpsc::Receiver<Arc<SinkAlert>>,
    pub(crate) stats: Arc<SinkStats>,
    pub(crate) abort: watch::Receiver<bool>,
    pub(crate) closing: watch::Receiver<bool>,
}

impl Drop for Inbox {
    /// Alerts a sink leaves in its queue (abort, or a sink giving up)
    /// are counted as dropped, never silently lost.
    fn drop(&mut self) {
        let mut n = 0;
        while self.rx.try_recv().is_ok() {
            n += 1;
        }
        if n > 0 {
            self.stats.dropped_other.fetch_add(n, Ordering::Relaxed);
            tracing::warn!(sink = %self.name, dropped = n, "alert sink stopped with alerts queued: DROPPED");
        }
    }
}

impl Inbox {
    /// The sink's name (for logs).
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn stats(&self) -> &Arc<SinkStats> {
        &self.stats
    }

    /// The next alert; `None` once the queue is closed and drained, or on
    /// abort.
    pub async fn recv(&mut self) -> Option<Arc<SinkAlert>> {
        if self.is_aborted() {
            return None;
        }
        let mut abort = self.abort.clone();
        tokio::select! {
            biased;
            a = self.rx.recv() => a,
            _ = wait_abort(&mut abort) => None,
        }
    }

    /// An alert already queued, without waiting.
    pub fn try_recv(&mut self) -> Option<Arc<SinkAlert>> {
        self.rx.try_recv().ok()
    }

    /// No more alerts will be published (shutdown), whether or not some
    /// are still queued.
    pub fn is_closing(&self) -> bool {
        *self.closing.borrow() || self.rx.is_closed()
    }

    /// The set was dropped without a shutdown: stop now.
    pub fn is_aborted(&self) -> bool {
        *self.abort.borrow()
    }

    /// Resolves on abort (never otherwise).
    pub async fn aborted(&self) {
        let mut abort = self.abort.clone();
        wait_abort(&mut abort).await
    }

    /// Sleep, cut short by an abort or by the start of a shutdown (so a
    /// long backoff does not outlast the shutdown grace). Returns false on
    /// abort.
    pub async fn sleep(&self, d: Duration) -> bool {
        let mut closing = self.closing.clone();
        let was_closing = self.is_closing();
        let closes = async {
            if was_closing {
                std::future::pending::<()>().await
            } else {
                let _ = closing.wait_for(|c| *c).await;
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(d) => !self.is_aborted(),
            _ = closes => !self.is_aborted(),
            _ = self.aborted() => false,
        }
    }
}

async fn wait_abort(abort: &mut watch::Receiver<bool>) {
    // A dropped sender counts as an abort too (the set is gone).
    let _ = abort.wait_for(|a| *a).await;
}

/// Exponential backoff with a cap and ±20 % jitter: the one the CoT
/// connections use too (`cot::Backoff`).
pub use cot::Backoff;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_errors_are_cut_on_a_char_boundary() {
        let s = SinkStats::default();
        s.set_error("é".repeat(400));
        assert!(s.last_error().unwrap().len() <= 300);
    }
}
