//! Webhook sink: every alert change POSTed as JSON to another system,
//! signed, in order, through a durable outbox — an hour-long outage of the
//! receiver, or a restart of Lookout, loses nothing.
//!
//! ## Delivery
//! * Body (`Content-Type: application/json`, schema 2): the fields of
//!   [`alerts::Alert`], plus the [`crate::AlertContext`] looked up when the
//!   alert was published (`vessel_name`, `callsign`, `ship_type`,
//!   `ship_type_text`, `other_vessel_name`, `other_callsign`,
//!   `other_ship_type`, `zone_name`; `null` when unknown), `node` (the
//!   server: `[bus] node`, else the host name), `schema` (2) and `sent_at`
//!   (wall clock of **this attempt**, RFC 3339 UTC with milliseconds). All
//!   but `sent_at` is stored once in the [`crate::outbox`]; `sent_at` is
//!   set on every attempt, so each retry has its own `sent_at` (and
//!   signature). Rows stored by a version before schema 2 (a bare alert)
//!   are sent as schema 2 with the context fields `null`
//!   ([`crate::context::webhook_body_at`]). The scheme is documented for
//!   integrators in `docs/protocol.md` ("Webhook").
//! * Headers: `X-Lookout-Signature: sha256=<hex HMAC-SHA256 of the exact
//!   body bytes sent with the shared secret>`, `X-Lookout-Schema` (2),
//!   `X-Lookout-Alert-Id` (the alert's stable
//!   id), `X-Lookout-Alert-State` (`raised`, `updated`, `cleared`,
//!   `acknowledged`), `X-Lookout-Sequence` (the outbox sequence number:
//!   increasing per sink, never reused, also across restarts) and
//!   `X-Lookout-Attempt`.
//! * Success is any 2xx; anything else (other status, timeout, refused
//!   connection, garbage) is retried after an exponential backoff
//!   (`retry_initial_ms` doubled up to `retry_max_ms`, ±20 % jitter).
//!   Redirects are not followed. The secret is never logged.
//! * Order: one request at a time, always the oldest undelivered change,
//!   so the receiver sees changes in the order they were raised (a change
//!   that keeps failing holds back the ones after it).
//!
//! ## Durability and what the receiver must do
//! An alert change is *accepted* when it is committed to the SQLite outbox
//! (WAL, `synchronous=FULL`), and removed only after a 2xx. On start the
//! outbox is replayed from its head. Delivery is therefore
//! **at-least-once**: a request whose 2xx was lost (timeout after the
//! receiver committed, crash between the 2xx and the delete) is sent
//! again. Receivers must deduplicate on (`X-Lookout-Alert-Id`,
//! `X-Lookout-Alert-State`, the body's `time`) — or simply on
//! `X-Lookout-Sequence` per sender — and should verify the signature in
//! constant time over the raw body before parsing it.
//!
//! Between [`crate::SinkSet::publish`] and the commit an alert sits in the
//! sink's bounded in-memory queue (microseconds when the disk is healthy);
//! [`crate::SinkSet::shutdown`] and even dropping the set move it into the
//! outbox, only a hard kill of the process can lose it. The outbox holds at
//! most `outbox_max_rows`; beyond it the **oldest undelivered** changes are
//! dropped, counted (`dropped_outbox_full`) and logged as errors — the gap
//! is visible to the receiver as a jump in `X-Lookout-Sequence`.
//!
//! ## When the outbox cannot be written (a full disk)
//! Alerts that cannot be committed are **held in memory**, in order, up to
//! `max_held` (counted in `held` and `store_errors`, the error logged once
//! per episode), and stored — before any newer one — as soon as a write
//! succeeds again: retried on every new alert and at least every few
//! seconds. Delivery of what the outbox already holds goes on meanwhile;
//! a delivered row that cannot be deleted is remembered and deleted later
//! (never sent again in this run). Only beyond `max_held` are the oldest
//! held alerts dropped (`dropped_store_failed`, logged as errors), and
//! alerts still held when the sink stops are counted there too.

use crate::config::{Secret, WebhookConfig};
use crate::context::{webhook_body_at, SinkAlert, WEBHOOK_SCHEMA};
use crate::outbox::{Outbox, OutboxRow};
use crate::sink::{AlertSink, Backoff, Inbox, SinkFuture, SinkStats};
use alerts::AlertState;
use hmac::{Hmac, Mac};
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use sha2::Sha256;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// `sha256=<lowercase hex>` of HMAC-SHA256(`secret`, `body`).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    let mut s = String::with_capacity(7 + 64);
    s.push_str("sha256=");
    for b in tag {
        s.push(char::from_digit((b >> 4) as u32, 16).unwrap_or('0'));
        s.push(char::from_digit((b & 15) as u32, 16).unwrap_or('0'));
    }
    s
}

/// Check a `sha256=<hex>` signature in constant time (for receivers and
/// tests).
pub fn verify(secret: &[u8], body: &[u8], signature: &str) -> bool {
    let Some(hex) = signature.strip_prefix("sha256=") else {
        return false;
    };
    if hex.len() != 64 || !hex.is_ascii() {
        return false;
    }
    let mut tag = [0u8; 32];
    for (i, t) in tag.iter_mut().enumerate() {
        match u8::from_str_radix(&hex[2 * i..2 * i + 2], 16) {
            Ok(b) => *t = b,
            Err(_) => return false,
        }
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.verify_slice(&tag).is_ok()
}

/// The wire name of an alert state.
pub fn state_str(s: AlertState) -> &'static str {
    match s {
        AlertState::Raised => "raised",
        AlertState::Updated => "updated",
        AlertState::Cleared => "cleared",
        AlertState::Acknowledged => "acknowledged",
    }
}

/// The webhook sink (see the module doc).
pub struct WebhookSink {
    cfg: WebhookConfig,
    secret: Secret,
    url: reqwest::Url,
    client: reqwest::Client,
    outbox: Outbox,
    /// Alerts not yet stored (the outbox could not be written), oldest
    /// first: `(alert_id, state, body)`.
    held: VecDeque<(String, &'static str, String)>,
    /// In an episode of failed outbox writes.
    store_failing: bool,
    /// Highest sequence number delivered in this run: rows up to it are
    /// never sent again (some may wait to be deleted).
    delivered_through: i64,
    /// Delivered rows whose delete failed (deleted later).
    undeleted: u64,
}

/// How often held alerts are retried at least, while nothing else happens.
const STORE_RETRY_MAX: Duration = Duration::from_secs(2);

enum Failure {
    /// Retry later.
    Retry(String),
    /// The set was dropped, or the shutdown grace ran out.
    Stop,
}

impl WebhookSink {
    /// Resolve the secret, open the outbox and build the HTTP client.
    pub fn new(cfg: WebhookConfig) -> Result<WebhookSink, String> {
        let secret = cfg.resolve_secret()?;
        let url = reqwest::Url::parse(&cfg.url).map_err(|e| format!("url: {e}"))?;
        let outbox = Outbox::open(&cfg.outbox, cfg.outbox_max_rows)
            .map_err(|e| format!("outbox {}: {e}", cfg.outbox.display()))?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(cfg.timeout_ms))
            .connect_timeout(Duration::from_millis(cfg.connect_timeout_ms))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("lookout-alert-sinks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        if url.scheme() == "http"
            && !url
                .host_str()
                .is_some_and(|h| h == "localhost" || h.starts_with("127.") || h == "[::1]")
        {
            tracing::warn!(sink = %cfg.name, host = url.host_str().unwrap_or(""),
                "webhook over plain http: alerts are signed but not encrypted");
        }
        Ok(WebhookSink {
            cfg,
            secret,
            url,
            client,
            outbox,
            held: VecDeque::new(),
            store_failing: false,
            delivered_through: 0,
            undeleted: 0,
        })
    }

    fn set_pending(&self, stats: &SinkStats) {
        stats.pending.store(
            self.outbox.len().saturating_sub(self.undeleted),
            Ordering::Relaxed,
        );
        stats
            .outbox_rows
            .store(self.outbox.len(), Ordering::Relaxed);
        stats.held.store(self.held.len() as u64, Ordering::Relaxed);
    }

    /// Commit the held alerts to the outbox, in order; false while it
    /// cannot be written (they stay held).
    fn store_held(&mut self, stats: &SinkStats) -> bool {
        if self.held.is_empty() {
            return true;
        }
        let result = self.outbox.insert(
            self.held
                .iter()
                .map(|(id, state, body)| (id.as_str(), *state, body.as_str())),
        );
        let ok = match result {
            Ok(ins) => {
                stats.accepted.fetch_add(ins.inserted, Ordering::Relaxed);
                if self.store_failing {
                    self.store_failing = false;
                    stats.clear_error();
                    tracing::warn!(sink = %self.cfg.name, stored = ins.inserted,
                        "webhook outbox writable again: the alerts held in memory are stored");
                }
                self.held.clear();
                if ins.dropped > 0 {
                    let total = stats
                        .dropped_outbox_full
                        .fetch_add(ins.dropped, Ordering::Relaxed)
                        + ins.dropped;
                    tracing::error!(
                        sink = %self.cfg.name,
                        dropped = ins.dropped,
                        total,
                        max_rows = self.cfg.outbox_max_rows,
                        "webhook outbox full: the oldest undelivered alerts were DROPPED"
                    );
                }
                true
            }
            Err(e) => {
                stats.store_errors.fetch_add(1, Ordering::Relaxed);
                stats.set_error(format!("outbox: {e}"));
                if !self.store_failing {
                    self.store_failing = true;
                    tracing::error!(sink = %self.cfg.name, held = self.held.len(),
                        max_held = self.cfg.max_held, error = %e,
                        "cannot store alerts in the webhook outbox (disk full?): holding them in memory and retrying");
                }
                false
            }
        };
        self.set_pending(stats);
        ok
    }

    /// Delete delivered rows whose delete failed before.
    fn tidy(&mut self, stats: &SinkStats) {
        if self.undeleted == 0 {
            return;
        }
        if self.outbox.remove_through(self.delivered_through).is_ok() {
            self.undeleted = 0;
            self.set_pending(stats);
        }
    }

    /// Commit alerts to the outbox (they are accepted from then on).
    fn accept(&mut self, batch: &[Arc<SinkAlert>], stats: &SinkStats) {
        if batch.is_empty() {
            return;
        }
        let rows: Vec<(String, &'static str, String)> = batch
            .iter()
            .map(|a| {
                (
                    a.id.clone(),
                    state_str(a.state),
                    a.webhook_body(self.cfg.node.as_deref()),
                )
            })
            .collect();
        let (good, bad): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| !r.2.is_empty());
        if !bad.is_empty() {
            stats
                .dropped_other
                .fetch_add(bad.len() as u64, Ordering::Relaxed);
            tracing::error!(sink = %self.cfg.name, n = bad.len(), "alerts that cannot be encoded were dropped");
        }
        // Behind any still held, so the order is kept.
        self.held.extend(good);
        let over = self.held.len().saturating_sub(self.cfg.max_held);
        if over > 0 {
            self.held.drain(..over);
            let total = stats
                .dropped_store_failed
                .fetch_add(over as u64, Ordering::Relaxed)
                + over as u64;
            tracing::error!(sink = %self.cfg.name, dropped = over, total, max_held = self.cfg.max_held,
                "webhook outbox unwritable and the memory queue full: the oldest held alerts were DROPPED");
        }
        self.store_held(stats);
    }

    /// Move everything queued into the outbox, without waiting.
    fn absorb(&mut self, inbox: &mut Inbox, first: Option<Arc<SinkAlert>>) {
        let stats = inbox.stats().clone();
        let mut batch: Vec<Arc<SinkAlert>> = first.into_iter().collect();
        if batch.is_empty() {
            // Nothing new may come for a while: retry what is held.
            self.store_held(&stats);
        }
        loop {
            while batch.len() < 512 {
                match inbox.try_recv() {
                    Some(a) => batch.push(a),
                    None => break,
                }
            }
            if batch.is_empty() {
                return;
            }
            let full = batch.len() == 512;
            self.accept(&batch, &stats);
            batch.clear();
            if !full {
                return;
            }
        }
    }

    async fn post(
        &self,
        row: &OutboxRow,
        inbox: &Inbox,
        deadline: Option<Instant>,
    ) -> Result<(), Failure> {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let body = webhook_body_at(&row.body, self.cfg.node.as_deref(), now_ms);
        let sig = sign(self.secret.expose().as_bytes(), body.as_bytes());
        let hv = |s: &str| HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static("invalid"));
        let req = self
            .client
            .post(self.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header("X-Lookout-Signature", hv(&sig))
            .header("X-Lookout-Schema", WEBHOOK_SCHEMA)
            .header("X-Lookout-Alert-Id", hv(&row.alert_id))
            .header("X-Lookout-Alert-State", hv(&row.state))
            .header("X-Lookout-Sequence", row.seq)
            .header("X-Lookout-Attempt", row.attempts as u64 + 1)
            .body(body);
        SinkStats::inc(&inbox.stats().attempts);
        let grace = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        let resp = tokio::select! {
            r = req.send() => r,
            _ = inbox.aborted() => return Err(Failure::Stop),
            _ = grace => return Err(Failure::Stop),
        };
        match resp {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(Failure::Retry(format!("HTTP {}", r.status()))),
            Err(e) => Err(Failure::Retry(describe(e))),
        }
    }

    /// Wait `d` (or until the grace deadline) while still committing new
    /// alerts to the outbox. Returns false on abort.
    async fn pause(&mut self, inbox: &mut Inbox, d: Duration, deadline: Option<Instant>) -> bool {
        let mut until = Instant::now() + d;
        if let Some(dl) = deadline {
            until = until.min(dl);
        }
        if inbox.is_closing() {
            self.absorb(inbox, None);
            return inbox
                .sleep(until.saturating_duration_since(Instant::now()))
                .await;
        }
        loop {
            if inbox.is_aborted() {
                return false;
            }
            if inbox.is_closing() {
                // A shutdown began: back to the main loop, which sets the
                // grace deadline and tries once more.
                self.absorb(inbox, None);
                return true;
            }
            tokio::select! {
                _ = tokio::time::sleep_until(until) => return true,
                a = inbox.recv() => {
                    if let Some(a) = a {
                        self.absorb(inbox, Some(a));
                    }
                }
            }
        }
    }

    async fn main(mut self: Box<Self>, mut inbox: Inbox) {
        let stats = inbox.stats().clone();
        let name = self.cfg.name.clone();
        stats.connected.store(true, Ordering::Relaxed);
        self.set_pending(&stats);
        let lost = self.outbox.dropped_on_open();
        if lost > 0 {
            stats.dropped_outbox_full.fetch_add(lost, Ordering::Relaxed);
            tracing::error!(sink = %name, dropped = lost,
                "webhook outbox over its (new) bound: the oldest undelivered alerts were DROPPED");
        }
        if !self.outbox.is_empty() {
            tracing::info!(sink = %name, pending = self.outbox.len(), "webhook: resuming delivery from the outbox");
        }
        let grace = Duration::from_millis(self.cfg.shutdown_grace_ms);
        let mut backoff = Backoff::new(
            Duration::from_millis(self.cfg.retry_initial_ms),
            Duration::from_millis(self.cfg.retry_max_ms),
        );
        let mut deadline: Option<Instant> = None;
        let mut failing = 0u64;
        let mut store_retry = Backoff::new(
            Duration::from_millis(self.cfg.retry_initial_ms.min(1000)),
            STORE_RETRY_MAX,
        );
        loop {
            if inbox.is_aborted() {
                break;
            }
            if deadline.is_none() && inbox.is_closing() {
                deadline = Some(Instant::now() + grace);
            }
            self.absorb(&mut inbox, None);
            self.tidy(&stats);
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            let row = match self.outbox.head_after(self.delivered_through) {
                Ok(r) => r,
                Err(e) => {
                    stats.set_error(format!("outbox: {e}"));
                    tracing::error!(sink = %name, error = %e, "webhook outbox cannot be read");
                    let d = backoff.next_delay();
                    if !self.pause(&mut inbox, d, deadline).await {
                        break;
                    }
                    continue;
                }
            };
            let Some(row) = row else {
                if !self.held.is_empty() {
                    // Nothing stored to deliver, alerts waiting for the
                    // disk: try again shortly (new alerts try at once).
                    let d = store_retry.next_delay();
                    if !self.pause(&mut inbox, d, deadline).await {
                        break;
                    }
                    if self.held.is_empty() {
                        store_retry.reset();
                    }
                    continue;
                }
                store_retry.reset();
                if inbox.is_closing() {
                    break;
                }
                if let Some(a) = inbox.recv().await {
                    self.absorb(&mut inbox, Some(a));
                }
                continue;
            };
            match self.post(&row, &inbox, deadline).await {
                Ok(()) => {
                    self.delivered_through = self.delivered_through.max(row.seq);
                    if let Err(e) = self.outbox.remove(row.seq) {
                        // Delivered but still stored: not sent again in this
                        // run (deleted later); after a restart it would be
                        // (at-least-once). Say so.
                        self.undeleted += 1;
                        stats.store_errors.fetch_add(1, Ordering::Relaxed);
                        stats.set_error(format!("outbox: {e}"));
                        tracing::error!(sink = %name, error = %e, seq = row.seq, "webhook outbox: cannot remove a delivered alert");
                    }
                    stats.delivered_now();
                    stats.connected.store(true, Ordering::Relaxed);
                    self.set_pending(&stats);
                    backoff.reset();
                    if failing > 0 {
                        tracing::info!(sink = %name, failed_attempts = failing, pending = self.outbox.len(), "webhook receiver is answering again");
                        stats.clear_error();
                        failing = 0;
                    }
                }
                Err(Failure::Stop) => break,
                Err(Failure::Retry(e)) => {
                    SinkStats::inc(&stats.failed);
                    stats.connected.store(false, Ordering::Relaxed);
                    let _ = self.outbox.note_failure(row.seq);
                    if failing == 0 {
                        tracing::warn!(sink = %name, error = %e, seq = row.seq, alert = %row.alert_id, pending = self.outbox.len(),
                            "webhook delivery failed; retrying with backoff");
                    } else {
                        tracing::debug!(sink = %name, error = %e, seq = row.seq, "webhook delivery failed again");
                    }
                    stats.set_error(e);
                    failing += 1;
                    let d = backoff.next_delay();
                    if !self.pause(&mut inbox, d, deadline).await {
                        break;
                    }
                }
            }
        }
        // Whatever is still queued in memory goes to the outbox for the
        // next start.
        self.absorb(&mut inbox, None);
        self.tidy(&stats);
        if !self.held.is_empty() {
            let n = self.held.len() as u64;
            stats.dropped_store_failed.fetch_add(n, Ordering::Relaxed);
            tracing::error!(sink = %name, dropped = n,
                "webhook stopped while the outbox could not be written: held alerts DROPPED");
            self.held.clear();
        }
        self.set_pending(&stats);
        if !self.outbox.is_empty() {
            tracing::warn!(sink = %name, pending = self.outbox.len(),
                "webhook stopped with undelivered alerts; they stay in the outbox for the next start");
        }
    }
}

/// An error without its URL (which might carry a token) and with its
/// causes.
fn describe(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_request() {
        "request failed"
    } else {
        "error"
    };
    let e = e.without_url();
    let mut s = format!("{kind}: {e}");
    let mut src = std::error::Error::source(&e);
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

impl AlertSink for WebhookSink {
    fn run(self: Box<Self>, inbox: Inbox) -> SinkFuture {
        Box::pin(self.main(inbox))
    }

    fn initial_pending(&self) -> u64 {
        self.outbox.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(n: u32) -> Arc<SinkAlert> {
        Arc::new(SinkAlert {
            alert: alerts::Alert {
                id: format!("a-{n:06}"),
                kind: alerts::AlertKind::DistressBeacon,
                mmsi: 970_000_000 + n,
                other_mmsi: None,
                zone: None,
                time: 1_795_845_600_000 + n as i64,
                lat: Some(35.0),
                lon: Some(12.0),
                severity: alerts::Severity::Critical,
                message: format!("alert {n}"),
                state: AlertState::Raised,
                raised_at: 1_795_845_600_000,
                cleared_at: None,
                acknowledged_by: None,
                acknowledged_at: None,
                note: None,
            },
            context: Default::default(),
        })
    }

    #[test]
    fn alerts_that_cannot_be_stored_are_held_in_order_and_stored_when_the_disk_works() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = WebhookConfig::new(
            "rcc",
            "http://127.0.0.1:9/hook",
            "s3cret",
            dir.path().join("outbox.sqlite"),
        );
        cfg.max_held = 10;
        let mut sink = WebhookSink::new(cfg).unwrap();
        let stats = SinkStats::default();
        sink.accept(&[alert(1)], &stats);
        sink.outbox.fail_writes = true;
        // The disk is full: 12 alerts in three batches.
        sink.accept(&(2..=5).map(alert).collect::<Vec<_>>(), &stats);
        sink.accept(&(6..=9).map(alert).collect::<Vec<_>>(), &stats);
        assert!(!sink.store_held(&stats));
        let g = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
        assert_eq!(g(&stats.held), 8);
        assert_eq!(g(&stats.accepted), 1);
        assert!(g(&stats.store_errors) >= 3);
        assert_eq!(g(&stats.dropped_other), 0, "nothing dropped");
        assert!(stats.last_error().unwrap().contains("full"));
        // Beyond max_held the oldest held go, counted.
        sink.accept(&(10..=13).map(alert).collect::<Vec<_>>(), &stats);
        assert_eq!(g(&stats.held), 10);
        assert_eq!(g(&stats.dropped_store_failed), 2);
        // Space again: everything held is stored, in order.
        sink.outbox.fail_writes = false;
        assert!(sink.store_held(&stats));
        assert_eq!(g(&stats.held), 0);
        assert_eq!(g(&stats.accepted), 11);
        assert!(stats.last_error().is_none());
        let ids: Vec<String> = sink
            .outbox
            .all()
            .unwrap()
            .into_iter()
            .map(|r| r.alert_id)
            .collect();
        let want: Vec<String> = [1]
            .into_iter()
            .chain(4..=13)
            .map(|n| format!("a-{n:06}"))
            .collect();
        assert_eq!(ids, want);
    }

    #[test]
    fn a_delivered_row_that_cannot_be_deleted_is_not_sent_again_and_is_deleted_later() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = WebhookConfig::new(
            "rcc",
            "http://127.0.0.1:9/hook",
            "s3cret",
            dir.path().join("outbox.sqlite"),
        );
        let mut sink = WebhookSink::new(cfg).unwrap();
        let stats = SinkStats::default();
        sink.accept(&[alert(1), alert(2)], &stats);
        let head = sink
            .outbox
            .head_after(sink.delivered_through)
            .unwrap()
            .unwrap();
        sink.outbox.fail_writes = true;
        assert!(sink.outbox.remove(head.seq).is_err());
        sink.delivered_through = head.seq;
        sink.undeleted = 1;
        let next = sink
            .outbox
            .head_after(sink.delivered_through)
            .unwrap()
            .unwrap();
        assert_eq!(next.alert_id, "a-000002");
        sink.tidy(&stats);
        assert_eq!(sink.outbox.len(), 2);
        sink.outbox.fail_writes = false;
        sink.tidy(&stats);
        assert_eq!(sink.outbox.len(), 1);
        assert_eq!(g_pending(&stats), 1);
    }

    fn g_pending(s: &SinkStats) -> u64 {
        s.pending.load(Ordering::Relaxed)
    }

    #[test]
    fn signatures_match_a_known_vector() {
        // RFC 4231 test case 2.
        let s = sign(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            s,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(verify(b"Jefe", b"what do ya want for nothing?", &s));
        assert!(!verify(b"Jefe", b"what do ya want for nothing!", &s));
        assert!(!verify(b"Jefe", b"x", "sha256=zz"));
        assert!(!verify(b"Jefe", b"x", "md5=00"));
        assert!(!verify(
            b"Jefe",
            b"x",
            &format!("sha256={}", "é".repeat(32))
        ));
    }
}
