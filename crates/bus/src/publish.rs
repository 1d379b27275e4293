//! The ingest node's bounded publish buffer: raw batches → JetStream.
//!
//! Sources hand batches to [`RawPublisher::try_publish`], which never
//! waits: when the buffer (`publish_buffer` batches) is full the batch is
//! dropped and its lines counted (`bus_publish_dropped_lines`), so a slow or
//! unreachable bus never blocks the feeds or grows memory. One task
//! publishes, keeping up to `max_in_flight` publishes awaiting JetStream's
//! acknowledgement; each carries a `Nats-Msg-Id` (node, run, counter), so a
//! publish retried after a timeout or a reconnect is stored once. A batch
//! counts as published when JetStream acknowledged it (it is on disk).

use crate::conn::Bus;
use crate::payload::RawBatch;
use crate::stats::BusStats;
use crate::subjects;
use async_nats::jetstream::context::PublishAckFuture;
use bytes::Bytes;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Handle of the publish task.
#[derive(Clone)]
pub struct RawPublisher {
    tx: mpsc::Sender<RawBatch>,
    stats: Arc<BusStats>,
}

struct InFlight {
    subject: String,
    msg_id: String,
    payload: Bytes,
    lines: u64,
    ack: Option<PublishAckFuture>,
}

impl RawPublisher {
    /// Start the publish task. It ends when every handle is dropped and
    /// what it holds is acknowledged (or after `drain` on shutdown).
    pub fn start(
        bus: &Bus,
        capacity: usize,
        max_in_flight: usize,
    ) -> (RawPublisher, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let stats = bus.stats.clone();
        let task = tokio::spawn(run(bus.clone(), rx, max_in_flight.max(1)));
        (RawPublisher { tx, stats }, task)
    }

    /// Queue a batch; false when the buffer was full (the batch's lines are
    /// counted as dropped).
    pub fn try_publish(&self, batch: RawBatch) -> bool {
        let n = batch.lines.len() as u64;
        match self.tx.try_send(batch) {
            Ok(()) => true,
            Err(_) => {
                BusStats::add(&self.stats.publish_dropped_lines, n);
                false
            }
        }
    }

    /// Queue a batch, waiting for room (for replays, whose reader can
    /// simply wait); false when the publisher has stopped.
    pub async fn publish(&self, batch: RawBatch) -> bool {
        self.tx.send(batch).await.is_ok()
    }
}

async fn send(bus: &Bus, f: &mut InFlight) {
    let mut backoff = Duration::from_millis(50);
    loop {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(async_nats::header::NATS_MESSAGE_ID, f.msg_id.as_str());
        match bus
            .js
            .publish_with_headers(f.subject.clone(), headers, f.payload.clone())
            .await
        {
            Ok(ack) => {
                f.ack = Some(ack);
                return;
            }
            Err(e) => {
                BusStats::add(&bus.stats.publish_retries, 1);
                tracing::debug!("bus: publish {}: {e}; retrying", f.subject);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
        }
    }
}

/// Wait for the oldest publish's acknowledgement, republishing (same
/// message id) until it comes.
async fn settle(bus: &Bus, f: &mut InFlight) {
    loop {
        let ack = match f.ack.take() {
            Some(a) => a,
            None => {
                send(bus, f).await;
                continue;
            }
        };
        match ack.await {
            Ok(_) => {
                BusStats::add(&bus.stats.published_batches, 1);
                BusStats::add(&bus.stats.published_lines, f.lines);
                return;
            }
            Err(e) => {
                BusStats::add(&bus.stats.publish_retries, 1);
                tracing::debug!("bus: no ack for {}: {e}; republishing", f.msg_id);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn run(bus: Bus, mut rx: mpsc::Receiver<RawBatch>, max_in_flight: usize) {
    // Unique per process start: node + start time.
    let run = format!(
        "{}-{}",
        bus.node,
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0)
    );
    let mut counter = 0u64;
    let mut in_flight: VecDeque<InFlight> = VecDeque::new();
    let mut open = true;
    while open || !in_flight.is_empty() {
        // Take what is waiting, up to the in-flight window.
        while open && in_flight.len() < max_in_flight {
            let next = if in_flight.is_empty() {
                rx.recv().await
            } else {
                match rx.try_recv() {
                    Ok(b) => Some(b),
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => None,
                }
            };
            let Some(batch) = next else {
                open = false;
                break;
            };
            counter += 1;
            let payload = match serde_json::to_vec(&batch) {
                Ok(p) => Bytes::from(p),
                Err(_) => continue,
            };
            let mut f = InFlight {
                subject: subjects::raw(&batch.source),
                msg_id: format!("{run}-{counter}"),
                payload,
                lines: batch.lines.len() as u64,
                ack: None,
            };
            send(&bus, &mut f).await;
            in_flight.push_back(f);
        }
        if let Some(mut f) = in_flight.pop_front() {
            settle(&bus, &mut f).await;
        }
    }
}
