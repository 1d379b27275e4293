//! The webhook sink against a real HTTP receiver on 127.0.0.1: signatures,
//! an outage of the receiver, a restart of the sink set on the same outbox,
//! the outbox bound, and hostile answers.

mod common;

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
#[derive(Debug, Clone, PartialEq)]
struct Got {
    id: String,
    state: String,
    seq: i64,
    body: String,
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
        let (got, bad, requests, mode) = (
            self.got.clone(),
            self.bad_signatures.clone(),
            self.requests.clone(),
            self.mode.clone(),
        );
        self.task = Some(tokio::spawn(async move {
            loop {
                let Ok((conn, _)) = listener.accept().await else {
                    continue;
                };
                requests.fetch_add(1, Ordering::SeqCst);
                let _ = handle(conn, &got, &bad, mode.load(Ordering::SeqCst)).await;
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
        body: String::from_utf8_lossy(body).to_string(),
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

/// Every alert delivered once (after dedup), in order, byte for byte, each
/// duplicate an exact repeat, sequence numbers increasing.
fn assert_exactly(r: &Receiver, sent: &[Alert]) {
    let got = r.got();
    let distinct = r.distinct();
    let bodies: Vec<&str> = distinct.iter().map(|g| g.body.as_str()).collect();
    let want: Vec<String> = sent.iter().map(|a| a.to_json()).collect();
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
