//! [`SinkSet`]: the configured sinks, started together, fed together.
//!
//! [`SinkSet::start`] checks the whole list, builds every sink (opening
//! outboxes and files, so a bad path fails at start, not at the first
//! alert) and gives each its own named thread (`sink-<name>`) with a
//! current-thread tokio runtime and a bounded queue. It needs no runtime
//! from the caller. [`SinkSet::publish`] clones the alert once, then
//! offers it to every queue with `try_send`: it never waits, and a full
//! queue drops the alert **for that sink only**, counted in its status
//! and logged (the first drop, then every 1000th).
//!
//! [`SinkSet::shutdown`] closes the queues and waits (bounded by each
//! sink's `shutdown_grace_ms`, plus a margin) while the sinks flush: JSON
//! lines written, CoT sent if the server is there, webhook alerts committed
//! to the outbox and delivered if the receiver answers. Dropping a set
//! without a shutdown aborts the sinks at their next await point (the
//! webhook still moves queued alerts into its outbox).

use crate::config::{validate_all, SinkConfig};
use crate::context::{AlertContext, SinkAlert};
use crate::cot::CotSink;
use crate::jsonl::JsonLinesSink;
use crate::sink::{AlertSink, Inbox, SinkStats, SinkStatus};
use crate::webhook::WebhookSink;
use alerts::Alert;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// Why the set could not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartError {
    /// The sink at fault (empty for errors about the list).
    pub sink: String,
    pub message: String,
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.sink.is_empty() {
            write!(f, "alert sinks: {}", self.message)
        } else {
            write!(f, "alert sink `{}`: {}", self.sink, self.message)
        }
    }
}

impl std::error::Error for StartError {}

struct Handle {
    name: String,
    kind: &'static str,
    capacity: usize,
    grace: Duration,
    stats: Arc<SinkStats>,
    tx: RwLock<Option<mpsc::Sender<Arc<SinkAlert>>>>,
    done: Mutex<Option<oneshot::Receiver<()>>>,
}

/// The running sinks.
pub struct SinkSet {
    sinks: Vec<Handle>,
    abort: watch::Sender<bool>,
    closing: watch::Sender<bool>,
}

fn build(cfg: &SinkConfig) -> Result<(Box<dyn AlertSink>, Duration), String> {
    Ok(match cfg {
        SinkConfig::Webhook(c) => (
            Box::new(WebhookSink::new(c.clone())?),
            Duration::from_millis(c.shutdown_grace_ms),
        ),
        SinkConfig::JsonLines(c) => (Box::new(JsonLinesSink::new(c.clone())?), Duration::ZERO),
        SinkConfig::Cot(c) => (
            Box::new(CotSink::new(c.clone())?),
            Duration::from_millis(c.shutdown_grace_ms),
        ),
    })
}

impl SinkSet {
    /// Check the configuration, build every sink and start each on its own
    /// thread. An empty list gives a set that accepts and ignores alerts.
    pub fn start(configs: &[SinkConfig]) -> Result<SinkSet, StartError> {
        validate_all(configs).map_err(|message| StartError {
            sink: String::new(),
            message,
        })?;
        let mut built = Vec::with_capacity(configs.len());
        for c in configs {
            let (sink, grace) = build(c).map_err(|message| StartError {
                sink: c.name().to_string(),
                message,
            })?;
            built.push((c, sink, grace));
        }
        let (abort, abort_rx) = watch::channel(false);
        let (closing, closing_rx) = watch::channel(false);
        let mut sinks = Vec::with_capacity(built.len());
        for (c, sink, grace) in built {
            let (tx, rx) = mpsc::channel(c.queue_capacity());
            let stats = Arc::new(SinkStats::default());
            stats
                .pending
                .store(sink.initial_pending(), Ordering::Relaxed);
            let inbox = Inbox {
                name: c.name().to_string(),
                rx,
                stats: stats.clone(),
                abort: abort_rx.clone(),
                closing: closing_rx.clone(),
            };
            let (done_tx, done_rx) = oneshot::channel();
            let name = c.name().to_string();
            let spawned = std::thread::Builder::new()
                .name(format!("sink-{name}"))
                .spawn(move || {
                    let rt = match tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        Ok(rt) => rt,
                        Err(e) => {
                            tracing::error!(sink = %name, error = %e, "alert sink cannot start its runtime");
                            return;
                        }
                    };
                    rt.block_on(sink.run(inbox));
                    drop(rt);
                    let _ = done_tx.send(());
                });
            if let Err(e) = spawned {
                let _ = abort.send(true);
                return Err(StartError {
                    sink: c.name().to_string(),
                    message: format!("cannot start a thread: {e}"),
                });
            }
            tracing::info!(sink = %c.name(), kind = c.kind(), "alert sink started");
            sinks.push(Handle {
                name: c.name().to_string(),
                kind: c.kind(),
                capacity: c.queue_capacity(),
                grace,
                stats,
                tx: RwLock::new(Some(tx)),
                done: Mutex::new(Some(done_rx)),
            });
        }
        Ok(SinkSet {
            sinks,
            abort,
            closing,
        })
    }

    /// Offer one alert change to every sink, without context (see
    /// [`SinkSet::publish_with`]). Never blocks: a sink whose queue is full
    /// (or that has stopped) drops it and counts the drop.
    pub fn publish(&self, alert: &Alert) {
        self.publish_with(alert, AlertContext::default());
    }

    /// Offer one alert change with what the picture knows about it (vessel
    /// and zone names, the node) to every sink. Never blocks, as
    /// [`SinkSet::publish`].
    pub fn publish_with(&self, alert: &Alert, context: AlertContext) {
        if self.sinks.is_empty() {
            return;
        }
        let alert = Arc::new(SinkAlert {
            alert: alert.clone(),
            context,
        });
        for h in &self.sinks {
            SinkStats::inc(&h.stats.published);
            let tx = h.tx.read().unwrap_or_else(|p| p.into_inner());
            let sent = match tx.as_ref() {
                Some(tx) => tx.try_send(alert.clone()).is_ok(),
                None => false,
            };
            if !sent {
                let n = h.stats.dropped_queue_full.fetch_add(1, Ordering::Relaxed) + 1;
                if n == 1 || n % 1000 == 0 {
                    tracing::error!(sink = %h.name, dropped = n, alert = %alert.id,
                        "alert sink queue full (or sink stopped): alert DROPPED for this sink");
                }
            }
        }
    }

    /// Offer several alert changes, in order.
    pub fn publish_all<'a>(&self, alerts: impl IntoIterator<Item = &'a Alert>) {
        for a in alerts {
            self.publish(a);
        }
    }

    /// Names of the sinks, in configuration order.
    pub fn names(&self) -> Vec<&str> {
        self.sinks.iter().map(|h| h.name.as_str()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.sinks.is_empty()
    }

    /// A snapshot of every sink.
    pub fn status(&self) -> Vec<SinkStatus> {
        self.sinks
            .iter()
            .map(|h| {
                let queued =
                    h.tx.read()
                        .unwrap_or_else(|p| p.into_inner())
                        .as_ref()
                        .map_or(0, |tx| h.capacity.saturating_sub(tx.capacity()) as u64);
                SinkStatus::new(&h.name, h.kind, queued, &h.stats)
            })
            .collect()
    }

    /// Register every sink's counters and gauges (labelled `sink`), for a
    /// `/metrics` scrape.
    pub fn metrics(&self, reg: &mut Registry) {
        type Labels = Vec<(String, String)>;
        let counters = [
            ("alert_sink_published", "Alert changes offered to the sink"),
            (
                "alert_sink_accepted",
                "Alert changes the sink took on (webhook: committed to its outbox)",
            ),
            ("alert_sink_attempts", "Delivery attempts"),
            ("alert_sink_failures", "Failed delivery attempts (retried)"),
            ("alert_sink_delivered", "Alert changes delivered"),
            (
                "alert_sink_store_errors",
                "Failed writes to the sink's outbox (a full disk); retried",
            ),
        ];
        let families: Vec<Family<Labels, Counter>> =
            counters.iter().map(|_| Family::default()).collect();
        let dropped = Family::<Labels, Counter>::default();
        let pending = Family::<Labels, Gauge>::default();
        let queued = Family::<Labels, Gauge>::default();
        let connected = Family::<Labels, Gauge>::default();
        let held = Family::<Labels, Gauge>::default();
        let outbox_rows = Family::<Labels, Gauge>::default();
        for s in self.status() {
            let l = vec![("sink".to_string(), s.name.clone())];
            let values = [
                s.published,
                s.accepted,
                s.attempts,
                s.failed,
                s.delivered,
                s.store_errors,
            ];
            for (f, v) in families.iter().zip(values) {
                f.get_or_create(&l).inc_by(v);
            }
            for (reason, v) in [
                ("queue_full", s.dropped_queue_full),
                ("outbox_full", s.dropped_outbox_full),
                ("other", s.dropped_other),
                ("store_failed", s.dropped_store_failed),
            ] {
                let mut l = l.clone();
                l.push(("reason".to_string(), reason.to_string()));
                dropped.get_or_create(&l).inc_by(v);
            }
            pending.get_or_create(&l).set(s.pending as i64);
            queued.get_or_create(&l).set(s.queued as i64);
            connected.get_or_create(&l).set(s.connected as i64);
            held.get_or_create(&l).set(s.held as i64);
            if let Some(rows) = s.outbox_rows {
                outbox_rows.get_or_create(&l).set(rows as i64);
            }
        }
        for ((name, help), f) in counters.iter().zip(families) {
            reg.register(*name, *help, f);
        }
        reg.register(
            "alert_sink_dropped",
            "Alert changes dropped, by sink and reason",
            dropped,
        );
        reg.register(
            "alert_sink_pending",
            "Accepted alert changes not yet delivered (webhook: outbox rows)",
            pending,
        );
        reg.register(
            "alert_sink_queued",
            "Alert changes in the sink's in-memory queue",
            queued,
        );
        reg.register(
            "alert_sink_held",
            "Alert changes held in memory until the outbox can be written again",
            held,
        );
        reg.register(
            "alert_sink_connected",
            "1 when the last attempt reached the peer",
            connected,
        );
        reg.register(
            "alert_sink_outbox_rows",
            "Rows in a webhook sink's durable outbox (undelivered, and delivered ones not yet deleted)",
            outbox_rows,
        );
    }

    /// Stop taking alerts, let every sink flush (bounded by its
    /// `shutdown_grace_ms` plus 5 s), then abort what is still running.
    /// Alerts published afterwards are counted as dropped.
    pub async fn shutdown(&self) {
        let _ = self.closing.send(true);
        for h in &self.sinks {
            h.tx.write().unwrap_or_else(|p| p.into_inner()).take();
        }
        let max_grace = self.sinks.iter().map(|h| h.grace).max().unwrap_or_default();
        let deadline = tokio::time::Instant::now() + max_grace + Duration::from_secs(5);
        for h in &self.sinks {
            let done = h.done.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(done) = done {
                if tokio::time::timeout_at(deadline, done).await.is_err() {
                    tracing::warn!(sink = %h.name, "alert sink did not stop in time; aborting it");
                }
            }
        }
        let _ = self.abort.send(true);
        for s in self.status() {
            if s.pending > 0 || s.dropped() > 0 {
                tracing::warn!(sink = %s.name, pending = s.pending, dropped = s.dropped(), "alert sink stopped");
            } else {
                tracing::info!(sink = %s.name, delivered = s.delivered, "alert sink stopped");
            }
        }
    }
}

impl Drop for SinkSet {
    fn drop(&mut self) {
        let _ = self.abort.send(true);
    }
}
