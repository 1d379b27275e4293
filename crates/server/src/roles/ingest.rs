//! Ingest role: the sources' lines, unchanged, onto the bus.
//!
//! The queue's batches (still recorded to the local archive when a
//! recorder is configured) are cut into runs of one source and published as
//! [`bus::payload::RawBatch`]es to `lookout.raw.<source>`. Live feeds go
//! through [`RawPublisher::try_publish`]: when the bus is slow or away the
//! bounded buffer drops and counts (`bus_publish_dropped_lines`) rather than
//! stalling the feeds. A replay waits for room instead (it has nothing to
//! lose by waiting). No decoding happens here: the core decodes, so
//! multi-sentence messages and the picture stay in one place.

use bus::payload::{RawBatch, RawLine};
use bus::publish::RawPublisher;
use bus::{Bus, BusConfig};
use ingest::line::Line;
use ingest::queue::QueueReceiver;
use ingest::recorder::Recorder;
use ingest::status::SourceRegistry;
use std::sync::Arc;

/// Consume the queue until every source has finished, then wait until
/// JetStream acknowledged everything published.
pub async fn run(
    bus: Bus,
    cfg: BusConfig,
    registry: Arc<SourceRegistry>,
    mut rx: QueueReceiver,
    recorder: Option<Recorder>,
    live: bool,
) {
    let (publisher, task) = RawPublisher::start(&bus, cfg.publish_buffer, cfg.max_in_flight);
    let mut batch: Vec<Line> = Vec::with_capacity(1024);
    loop {
        if rx.recv_batch(&mut batch, 1024).await == 0 {
            break;
        }
        if let Some(r) = &recorder {
            r.record_batch(&batch);
        }
        for raw in cut_by_source(&cfg.node, &registry, &batch, live) {
            if live {
                publisher.try_publish(raw);
            } else if !publisher.publish(raw).await {
                break;
            }
        }
        batch.clear();
    }
    if let Some(r) = recorder {
        r.close();
    }
    drop(publisher);
    let _ = task.await;
    tracing::info!(
        lines = bus::BusStats::get(&bus.stats.published_lines),
        dropped = bus::BusStats::get(&bus.stats.publish_dropped_lines),
        "ingest: sources finished, everything published"
    );
}

/// Consecutive lines of one source become one batch (order kept).
fn cut_by_source(
    node: &str,
    registry: &SourceRegistry,
    lines: &[Line],
    live: bool,
) -> Vec<RawBatch> {
    let mut out: Vec<RawBatch> = Vec::new();
    let mut current = None;
    for l in lines {
        if current != Some(l.source) {
            current = Some(l.source);
            let status = registry.get(l.source);
            out.push(RawBatch {
                node: node.to_string(),
                source: status
                    .as_ref()
                    .map(|s| s.name().to_string())
                    .unwrap_or_else(|| l.source.0.to_string()),
                own_asset: status
                    .as_ref()
                    .and_then(|s| s.own_asset().map(|a| a.to_string())),
                live,
                lines: Vec::new(),
            });
        }
        if let Some(b) = out.last_mut() {
            b.lines.push(RawLine {
                received_ms: l.received_ms,
                line: String::from_utf8_lossy(&l.bytes).into_owned(),
            });
        }
    }
    out
}
