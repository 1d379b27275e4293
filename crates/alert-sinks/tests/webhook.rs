//! The webhook sink against a real HTTP receiver on 127.0.0.1: signatures,
//! an outage of the receiver, a restart of the sink set on the same outbox,
//! the outbox bound, and hostile answers.

mod common;
#[path = "../../../tests/python_support.rs"]
mod python;

use alert_sinks::webhook::verify;
use alert_sinks::{SinkConfig, SinkSet, SinkStatus, WebhookConfig};
use alerts::Alert;
use common::{alerts, tmp, wait_until};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SECRET: &str = "s3cret-for-tests";

/// One request the receiver accepted (signature valid).
#[derive(Debug, Clone)]
struct Got {
    id: String,
    state: String,
    seq: i64,
    /// The body without `sent_at`, canonical (keys sorted).
    body: String,
    /// The body's `sent_at` (its own on every attempt).
    sent_at: String,
    /// The exact bytes received.
    raw: String,
    signature: String,
    schema_header: String,
}

/// Equal but for `sent_at` (and so the raw bytes and the signature).
impl PartialEq for Got {
    fn eq(&self, o: &Got) -> bool {
        (&self.id, &self.state, self.seq, &self.body) == (&o.id, &o.state, o.seq, &o.body)
    }
}

/// A body without its `sent_at`, canonical; and the `sent_at`.
fn split_sent_at(body: &[u8]) -> (String, String) {
    let mut v: serde_json::Value = serde_json::from_slice(body).expect("the body is JSON");
    let sent_at = v
        .as_object_mut()
        .expect("the body is an object")
        .remove("sent_at")
        .and_then(|s| s.as_str().map(str::to_string))
        .expect("every body has a sent_at string");
    (v.to_string(), sent_at)
}

/// The schema-2 body expected for an alert published without context
/// (without `sent_at`, canonical).
fn expected_body(a: &Alert, node: Option<&str>) -> String {
    let b = alert_sinks::SinkAlert {
        alert: a.clone(),
        context: Default::default(),
    }
    .webhook_body(node);
    serde_json::from_str::<serde_json::Value>(&b)
        .unwrap()
        .to_string()
}

/// How the receiver answers.
const OK: u8 = 0;
const GARBAGE: u8 = 1;
const ERROR_500: u8 = 2;

/// A tiny HTTP/1.1 receiver: one connection at a time, `Connection: close`.
struct Receiver {
    port: u16,
    got: Arc<Mutex<Vec<Got>>>,
    bad_signatures: Arc<AtomicU64>,
    requests: Arc<AtomicU64>,
    mode: Arc<AtomicU8>,
    /// Every correctly signed request, whatever the answer: raw bodies.
    attempts: Arc<Mutex<Vec<String>>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Receiver {
    async fn start() -> Receiver {
        let mut r = Receiver {
            port: 0,
            got: Default::default(),
            bad_signatures: Default::default(),
            requests: Default::default(),
            mode: Default::default(),
            attempts: Default::default(),
            task: None,
        };
        r.up().await;
        r
    }

    fn url(&self) -> String {
        format!(
            "http://127.0.0.1:{}/hooks/lookout?token=t0ps3cret",
            self.port
        )
    }

    /// Listen (again, on the same port).
    async fn up(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.port = listener.local_addr().unwrap().port();
        let (got, bad, requests, mode, attempts) = (
            self.got.clone(),
            self.bad_signatures.clone(),
            self.requests.clone(),
            self.mode.clone(),
            self.attempts.clone(),
        );
        self.task = Some(tokio::spawn(async move {
            loop {
                let Ok((conn, _)) = listener.accept().await else {
                    continue;
                };
                requests.fetch_add(1, Ordering::SeqCst);
                let m = mode.load(Ordering::SeqCst);
                let _ = handle(conn, &got, &bad, &attempts, m).await;
            }
        }));
    }

    /// Stop listening (connections are refused from now on).
    async fn down(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
    }

    fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }

    /// Distinct deliveries, first occurrence order (the receiver's dedup
    /// on the sequence number).
    fn distinct(&self) -> Vec<Got> {
        let mut seen = BTreeSet::new();
        self.got()
            .into_iter()
            .filter(|g| seen.insert(g.seq))
            .collect()
    }
}

async fn handle(
    mut conn: TcpStream,
    got: &Mutex<Vec<Got>>,
    bad: &AtomicU64,
    attempts: &Mutex<Vec<String>>,
    mode: u8,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let n = conn.read(&mut chunk).await?;
        if n == 0 || buf.len() > 65536 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    let len: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = &buf[head_end..head_end + len];
    assert!(
        head.starts_with("POST /hooks/lookout?token=t0ps3cret HTTP/1.1\r\n"),
        "{head}"
    );
    assert_eq!(header("content-type").as_deref(), Some("application/json"));
    let sig = header("x-lookout-signature").unwrap_or_default();
    if !verify(SECRET.as_bytes(), body, &sig) {
        bad.fetch_add(1, Ordering::SeqCst);
        conn.write_all(
            b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )
        .await?;
        return Ok(());
    }
    attempts
        .lock()
        .unwrap()
        .push(String::from_utf8_lossy(body).to_string());
    match mode {
        GARBAGE => {
            conn.write_all(b"\x00\xffNOT HTTP AT ALL\r\n\r\n\r\n")
                .await?;
            return Ok(());
        }
        ERROR_500 => {
            conn.write_all(
                b"HTTP/1.1 500 Oops\r\nContent-Length: 5\r\nConnection: close\r\n\r\noops!",
            )
            .await?;
            return Ok(());
        }
        _ => {}
    }
    got.lock().unwrap().push(Got {
        id: header("x-lookout-alert-id").unwrap_or_default(),
        state: header("x-lookout-alert-state").unwrap_or_default(),
        seq: header("x-lookout-sequence")
            .and_then(|v| v.parse().ok())
            .unwrap_or(-1),
        body: split_sent_at(body).0,
        sent_at: split_sent_at(body).1,
        raw: String::from_utf8_lossy(body).to_string(),
        signature: sig.clone(),
        schema_header: header("x-lookout-schema").unwrap_or_default(),
    });
    conn.write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        .await?;
    conn.shutdown().await
}

fn webhook(url: &str, outbox: &Path) -> WebhookConfig {
    let mut c = WebhookConfig::new("rcc", url, SECRET, outbox);
    c.retry_initial_ms = 20;
    c.retry_max_ms = 200;
    c.timeout_ms = 5_000;
    c.connect_timeout_ms = 2_000;
    c.shutdown_grace_ms = 2_000;
    c
}

fn status(set: &SinkSet) -> SinkStatus {
    set.status().remove(0)
}

/// Every alert delivered once (after dedup), in order, with the same
/// content, each duplicate an exact repeat but for `sent_at`, sequence
/// numbers increasing.
fn assert_exactly(r: &Receiver, sent: &[Alert]) {
    let got = r.got();
    let distinct = r.distinct();
    let bodies: Vec<&str> = distinct.iter().map(|g| g.body.as_str()).collect();
    let want: Vec<String> = sent.iter().map(|a| expected_body(a, None)).collect();
    assert_eq!(
        bodies, want,
        "distinct deliveries differ from the alerts published"
    );
    for (g, a) in distinct.iter().zip(sent) {
        assert_eq!(g.id, a.id);
        assert_eq!(g.state, alert_sinks::webhook::state_str(a.state));
    }
    assert!(
        distinct.windows(2).all(|w| w[0].seq < w[1].seq),
        "sequence numbers must increase: {:?}",
        distinct.iter().map(|g| g.seq).collect::<Vec<_>>()
    );
    for g in &got {
        let first = distinct.iter().find(|d| d.seq == g.seq).unwrap();
        assert_eq!(g, first, "a redelivery must be an exact repeat");
    }
    assert_eq!(r.bad_signatures.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn receiver_outage_loses_nothing_and_keeps_order() {
    let mut r = Receiver::start().await;
    let outbox = tmp("outage.sqlite");
    let set = SinkSet::start(&[SinkConfig::Webhook(webhook(&r.url(), &outbox))]).unwrap();
    let sent = alerts(1, 40);

    set.publish_all(&sent[..5]);
    wait_until("the first 5 alerts", 30, || r.distinct().len() == 5).await;
    // (and their answers read, so none is in flight when the receiver dies)
    wait_until("5 deliveries", 30, || status(&set).delivered == 5).await;

    r.down().await;
    set.publish_all(&sent[5..30]);
    wait_until("30 alerts committed to the outbox", 30, || {
        status(&set).accepted == 30
    })
    .await;
    wait_until("failed attempts while the receiver is down", 30, || {
        status(&set).failed >= 3
    })
    .await;
    assert_eq!(r.distinct().len(), 5);
    let s = status(&set);
    assert_eq!(s.pending, 25, "{s:?}");
    assert_eq!(s.outbox_rows, Some(25), "{s:?}");
    // The same on /metrics: pending, outbox depth, failures, deliveries.
    let mut reg = prometheus_client::registry::Registry::default();
    set.metrics(&mut reg);
    let mut m = String::new();
    prometheus_client::encoding::text::encode(&mut m, &reg).unwrap();
    for want in [
        "alert_sink_pending{sink=\"rcc\"} 25",
        "alert_sink_outbox_rows{sink=\"rcc\"} 25",
        "alert_sink_delivered_total{sink=\"rcc\"} 5",
    ] {
        assert!(m.contains(want), "{want} in {m}");
    }
    let failures: u64 = m
        .lines()
        .find_map(|l| l.strip_prefix("alert_sink_failures_total{sink=\"rcc\"} "))
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(failures >= 3, "{m}");
    assert!(
        s.last_error.as_deref().unwrap_or("").contains("connect"),
        "{s:?}"
    );
    assert!(
        !s.last_error.unwrap_or_default().contains("t0ps3cret"),
        "the URL's token must not be in errors"
    );
    assert!(!s.connected);

    r.up().await;
    set.publish_all(&sent[30..]);
    wait_until("all 40 alerts after the outage", 60, || {
        r.distinct().len() == 40
    })
    .await;
    assert_exactly(&r, &sent);
    wait_until("the outbox to empty", 30, || status(&set).pending == 0).await;
    wait_until("the outbox table to empty", 30, || {
        status(&set).outbox_rows == Some(0)
    })
    .await;
    set.shutdown().await;
    let s = status(&set);
    assert_eq!((s.accepted, s.dropped()), (40, 0), "{s:?}");
    assert!(s.delivered >= 40 && s.connected, "{s:?}");
}

#[tokio::test]
async fn restart_of_the_sink_set_while_the_receiver_is_down_delivers_everything() {
    let mut r = Receiver::start().await;
    r.down().await;
    let outbox = tmp("restart.sqlite");
    let cfg = [SinkConfig::Webhook(webhook(&r.url(), &outbox))];
    let sent = alerts(1, 30);

    // First life: accepted into the outbox, never delivered, then dropped
    // without a shutdown (what is still queued goes to the outbox too).
    let set = SinkSet::start(&cfg).unwrap();
    set.publish_all(&sent[..10]);
    wait_until("10 alerts in the outbox", 30, || {
        status(&set).accepted == 10
    })
    .await;
    set.publish_all(&sent[10..15]);
    drop(set);
    wait_until("the dropped set's alerts in the outbox", 30, || {
        alert_sinks::outbox::Outbox::open(&outbox, 1_000_000)
            .map(|o| o.len() == 15)
            .unwrap_or(false)
    })
    .await;

    // Second life: shut down properly, receiver still down.
    let set = SinkSet::start(&cfg).unwrap();
    assert_eq!(status(&set).pending, 15);
    set.publish_all(&sent[15..20]);
    wait_until("20 pending", 30, || status(&set).pending == 20).await;
    set.shutdown().await;
    assert_eq!(status(&set).pending, 20);
    drop(set);

    // Third life: the receiver comes back.
    let set = SinkSet::start(&cfg).unwrap();
    r.up().await;
    set.publish_all(&sent[20..]);
    wait_until("all 30 alerts after the restarts", 60, || {
        r.distinct().len() == 30
    })
    .await;
    assert_exactly(&r, &sent);
    wait_until("the outbox to empty", 30, || status(&set).pending == 0).await;
    set.shutdown().await;
    assert_eq!(status(&set).dropped(), 0);
}

#[tokio::test]
async fn a_full_outbox_drops_the_oldest_and_counts_them() {
    let mut r = Receiver::start().await;
    r.down().await;
    let outbox = tmp("bound.sqlite");
    let mut c = webhook(&r.url(), &outbox);
    c.outbox_max_rows = 5;
    let set = SinkSet::start(&[SinkConfig::Webhook(c)]).unwrap();
    let sent = alerts(1, 12);
    for a in &sent {
        set.publish(a);
        // One at a time, so the bound is applied per insert.
        let n = a.id[2..].parse::<u64>().unwrap();
        wait_until("the alert in the outbox", 30, || status(&set).accepted == n).await;
    }
    let s = status(&set);
    assert_eq!((s.pending, s.dropped_outbox_full), (5, 7), "{s:?}");
    r.up().await;
    wait_until("the 5 newest alerts", 60, || r.distinct().len() == 5).await;
    assert_exactly(&r, &sent[7..]);
    // The receiver sees the gap in the sequence numbers.
    assert_eq!(r.distinct()[0].seq, 8);
    set.shutdown().await;
}

#[tokio::test]
async fn garbage_and_errors_from_the_receiver_are_retried() {
    let r = Receiver::start().await;
    let outbox = tmp("garbage.sqlite");
    let set = SinkSet::start(&[SinkConfig::Webhook(webhook(&r.url(), &outbox))]).unwrap();
    let sent = alerts(1, 6);

    r.mode.store(GARBAGE, Ordering::SeqCst);
    set.publish_all(&sent[..3]);
    wait_until("garbage answers", 30, || status(&set).failed >= 3).await;
    assert!(status(&set).last_error.is_some());

    r.mode.store(ERROR_500, Ordering::SeqCst);
    let before = status(&set).failed;
    wait_until("500 answers", 30, || {
        status(&set).last_error.is_some_and(|e| e.contains("500")) && status(&set).failed > before
    })
    .await;
    assert!(r.distinct().is_empty());

    r.mode.store(OK, Ordering::SeqCst);
    set.publish_all(&sent[3..]);
    wait_until("all 6 alerts", 60, || r.distinct().len() == 6).await;
    assert_exactly(&r, &sent);
    set.shutdown().await;
    let s = status(&set);
    assert!(s.last_error.is_none() && s.pending == 0, "{s:?}");
}

#[tokio::test]
async fn a_wrong_secret_is_refused_by_the_receiver_and_never_logged() {
    let r = Receiver::start().await;
    let outbox = tmp("wrong-secret.sqlite");
    let mut c = webhook(&r.url(), &outbox);
    c.secret = Some(alert_sinks::Secret::new("not-the-shared-secret"));
    let set = SinkSet::start(&[SinkConfig::Webhook(c)]).unwrap();
    set.publish_all(&alerts(1, 1));
    wait_until("refusals", 30, || {
        r.bad_signatures.load(Ordering::SeqCst) >= 2
    })
    .await;
    let s = status(&set);
    assert!(
        s.last_error.as_deref().unwrap_or("").contains("401"),
        "{s:?}"
    );
    assert_eq!(s.pending, 1, "a refused alert stays in the outbox");
    let json = serde_json::to_string(&set.status()).unwrap();
    assert!(!json.contains("not-the-shared-secret"));
    drop(set);
    assert!(r.requests.load(Ordering::SeqCst) >= 2);
}

/// The verification example of docs/protocol.md ("Webhook"), run as an
/// independent receiver would: secret and signature header as arguments,
/// the raw body on stdin.
const PY_VERIFY: &str = r#"
import hashlib, hmac, sys
secret, header = sys.argv[1].encode(), sys.argv[2]
body = sys.stdin.buffer.read()
expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
print("ok" if hmac.compare_digest(expected, header) else "BAD")
"#;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn rfc3339_ms(s: &str) -> i64 {
    humantime::parse_rfc3339(s)
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test]
async fn the_body_names_vessels_and_zone_carries_node_schema_and_sent_at_and_verifies_independently(
) {
    let r = Receiver::start().await;
    let outbox = tmp("context.sqlite");
    let mut c = webhook(&r.url(), &outbox);
    c.node = Some("lookout-mt-1".into());
    let set = SinkSet::start(&[SinkConfig::Webhook(c)]).unwrap();
    let a = common::alert(7, alerts::AlertKind::ZoneEnter, alerts::AlertState::Raised);
    let ctx = alert_sinks::AlertContext {
        vessel_name: Some("SEA \"STAR\" Ü".into()),
        callsign: Some("9HA1234".into()),
        ship_type: Some(70),
        ship_type_text: Some("Cargo - all ships of this type".into()),
        zone_name: Some("Malta SAR approaches".into()),
        ..Default::default()
    };
    let before = now_ms();
    set.publish_with(&a, ctx);
    wait_until("the delivery", 30, || r.distinct().len() == 1).await;
    let after = now_ms();
    let g = r.got().remove(0);
    let v: serde_json::Value = serde_json::from_str(&g.raw).unwrap();
    assert_eq!(v["schema"], 2);
    assert_eq!(g.schema_header, "2");
    assert_eq!(v["node"], "lookout-mt-1");
    assert_eq!(v["vessel_name"], "SEA \"STAR\" Ü");
    assert_eq!(v["callsign"], "9HA1234");
    assert_eq!(v["ship_type"], 70);
    assert_eq!(v["ship_type_text"], "Cargo - all ships of this type");
    assert_eq!(v["zone_name"], "Malta SAR approaches");
    assert_eq!(v["zone"], "sar-malta");
    assert!(v["other_vessel_name"].is_null() && v["other_mmsi"].is_null());
    // Every field of the alert is still there, unchanged (schema 1 readers
    // keep working).
    let alert_json: serde_json::Value = serde_json::from_str(&a.to_json()).unwrap();
    for (k, want) in alert_json.as_object().unwrap() {
        assert_eq!(&v[k], want, "{k}");
    }
    let sent_at = v["sent_at"].as_str().unwrap();
    assert_eq!(g.sent_at, sent_at);
    assert!(sent_at.ends_with('Z') && sent_at.contains('.'), "{sent_at}");
    let t = rfc3339_ms(sent_at);
    assert!((before..=after).contains(&t), "{before} <= {t} <= {after}");
    // The signature, checked independently: HMAC-SHA256 by hand here, and
    // the documented Python example.
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(g.raw.as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(g.signature, format!("sha256={hex}"));
    let py = tokio::task::spawn_blocking(move || {
        let ok = python::run(PY_VERIFY, &[SECRET, &g.signature], g.raw.as_bytes());
        let bad = python::run(
            PY_VERIFY,
            &[SECRET, &g.signature],
            g.raw.replacen("9HA1234", "9HA1235", 1).as_bytes(),
        );
        (ok, bad)
    })
    .await
    .unwrap();
    assert_eq!(py.0.trim(), "ok");
    assert_eq!(py.1.trim(), "BAD");
    set.shutdown().await;
}

#[tokio::test]
async fn each_retry_has_its_own_sent_at_and_signature() {
    let r = Receiver::start().await;
    r.mode.store(ERROR_500, Ordering::SeqCst);
    let outbox = tmp("retry-sent-at.sqlite");
    let set = SinkSet::start(&[SinkConfig::Webhook(webhook(&r.url(), &outbox))]).unwrap();
    set.publish_all(&alerts(1, 1));
    wait_until("two refused attempts", 30, || {
        r.attempts.lock().unwrap().len() >= 2
    })
    .await;
    r.mode.store(OK, Ordering::SeqCst);
    wait_until("the delivery", 30, || r.distinct().len() == 1).await;
    let bodies = r.attempts.lock().unwrap().clone();
    let split: Vec<(String, String)> = bodies.iter().map(|b| split_sent_at(b.as_bytes())).collect();
    assert!(split.windows(2).all(|w| w[0].0 == w[1].0), "same content");
    assert!(
        split
            .windows(2)
            .all(|w| rfc3339_ms(&w[0].1) < rfc3339_ms(&w[1].1)),
        "sent_at increases: {split:?}"
    );
    set.shutdown().await;
}

#[tokio::test]
async fn rows_stored_by_an_older_version_are_still_delivered_as_schema_2() {
    let r = Receiver::start().await;
    let outbox = tmp("legacy.sqlite");
    let old = alerts(1, 3);
    {
        // What a version before schema 2 stored: the bare alert.
        let mut o = alert_sinks::outbox::Outbox::open(&outbox, 100).unwrap();
        let rows: Vec<(String, String, String)> = old
            .iter()
            .map(|a| {
                (
                    a.id.clone(),
                    alert_sinks::webhook::state_str(a.state).to_string(),
                    a.to_json(),
                )
            })
            .collect();
        o.insert(
            rows.iter()
                .map(|(i, s, b)| (i.as_str(), s.as_str(), b.as_str())),
        )
        .unwrap();
    }
    let mut c = webhook(&r.url(), &outbox);
    c.node = Some("node-b".into());
    let set = SinkSet::start(&[SinkConfig::Webhook(c)]).unwrap();
    set.publish_all(&alerts(4, 4));
    wait_until("old rows and the new one", 30, || r.distinct().len() == 4).await;
    let got = r.distinct();
    for (g, a) in got.iter().zip(alerts(1, 4)) {
        let v: serde_json::Value = serde_json::from_str(&g.raw).unwrap();
        assert_eq!(g.id, a.id);
        assert_eq!(v["schema"], 2);
        assert_eq!(v["node"], "node-b");
        assert!(v.get("vessel_name").is_some_and(|n| n.is_null()));
        assert!(v["sent_at"].is_string());
        let alert_json: serde_json::Value = serde_json::from_str(&a.to_json()).unwrap();
        for (k, want) in alert_json.as_object().unwrap() {
            assert_eq!(&v[k], want, "{k}");
        }
    }
    assert_eq!(r.bad_signatures.load(Ordering::SeqCst), 0);
    set.shutdown().await;
}
