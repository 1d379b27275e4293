//! Webhook sink: every alert change POSTed as JSON to another system,
//! signed, in order, through a durable outbox — an hour-long outage of the
//! receiver, or a restart of Lookout, loses nothing.
//!
//! ## Delivery
//! * Body: exactly [`alerts::Alert::to_json`] (`Content-Type:
//!   application/json`), stored once in the [`crate::outbox`] and sent
//!   byte-for-byte the same on every attempt.
//! * Headers: `X-Lookout-Signature: sha256=<hex HMAC-SHA256 of the body
//!   with the shared secret>`, `X-Lookout-Alert-Id` (the alert's stable
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

use crate::config::{Secret, WebhookConfig};
use crate::outbox::{Outbox, OutboxRow};
use crate::sink::{AlertSink, Backoff, Inbox, SinkFuture, SinkStats};
use alerts::{Alert, AlertState};
use hmac::{Hmac, Mac};
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use sha2::Sha256;
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
}

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
        })
    }

    fn set_pending(&self, stats: &SinkStats) {
        stats.pending.store(self.outbox.len(), Ordering::Relaxed);
    }

    /// Commit alerts to the outbox (they are accepted from then on).
    fn accept(&mut self, batch: &[Arc<Alert>], stats: &SinkStats) {
        if batch.is_empty() {
            return;
        }
        let rows: Vec<(String, &'static str, String)> = batch
            .iter()
            .map(|a| (a.id.clone(), state_str(a.state), a.to_json()))
            .collect();
        let (good, bad): (Vec<_>, Vec<_>) = rows.iter().partition(|r| !r.2.is_empty());
        if !bad.is_empty() {
            stats
                .dropped_other
                .fetch_add(bad.len() as u64, Ordering::Relaxed);
            tracing::error!(sink = %self.cfg.name, n = bad.len(), "alerts that cannot be encoded were dropped");
        }
        match self
            .outbox
            .insert(good.iter().map(|r| (r.0.as_str(), r.1, r.2.as_str())))
        {
            Ok(ins) => {
                stats.accepted.fetch_add(ins.inserted, Ordering::Relaxed);
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
            }
            Err(e) => {
                stats
                    .dropped_other
                    .fetch_add(good.len() as u64, Ordering::Relaxed);
                stats.set_error(format!("outbox: {e}"));
                tracing::error!(sink = %self.cfg.name, n = good.len(), error = %e,
                    "cannot store alerts in the webhook outbox: DROPPED");
            }
        }
        self.set_pending(stats);
    }

    /// Move everything queued into the outbox, without waiting.
    fn absorb(&mut self, inbox: &mut Inbox, first: Option<Arc<Alert>>) {
        let stats = inbox.stats().clone();
        let mut batch: Vec<Arc<Alert>> = first.into_iter().collect();
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
        let sig = sign(self.secret.expose().as_bytes(), row.body.as_bytes());
        let hv = |s: &str| HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static("invalid"));
        let req = self
            .client
            .post(self.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header("X-Lookout-Signature", hv(&sig))
            .header("X-Lookout-Alert-Id", hv(&row.alert_id))
            .header("X-Lookout-Alert-State", hv(&row.state))
            .header("X-Lookout-Sequence", row.seq)
            .header("X-Lookout-Attempt", row.attempts as u64 + 1)
            .body(row.body.clone());
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
        loop {
            if inbox.is_aborted() {
                break;
            }
            if deadline.is_none() && inbox.is_closing() {
                deadline = Some(Instant::now() + grace);
            }
            self.absorb(&mut inbox, None);
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            let row = match self.outbox.head() {
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
                    if let Err(e) = self.outbox.remove(row.seq) {
                        // Delivered but still stored: it will be sent again
                        // (at-least-once); say so.
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
