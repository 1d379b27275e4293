//! Cursor-on-Target over UDP and TCP to local listeners, JSON lines to a
//! file, bounded queues that count drops, and configuration from TOML.

mod common;

use alert_sinks::{CotConfig, CotProtocol, JsonLinesConfig, SinkConfig, SinkSet, SinkStatus};
use alerts::{Alert, AlertKind, AlertState};
use common::{alert, alerts, tmp, wait_until, T0};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, UdpSocket};

fn status(set: &SinkSet) -> SinkStatus {
    set.status().remove(0)
}

/// Parse one CoT document and check it against the alert it came from.
fn check_cot(xml: &str, a: &Alert, want_type: &str, stale_min: i64) {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("{e}: {xml}"));
    let ev = doc.root_element();
    assert_eq!(ev.tag_name().name(), "event");
    assert_eq!(ev.attribute("version"), Some("2.0"));
    assert_eq!(ev.attribute("type"), Some(want_type), "{xml}");
    assert_eq!(ev.attribute("how"), Some("m-g"));
    let uid = if want_type == "t-x-d-d" {
        format!("{}.delete", a.id)
    } else {
        a.id.clone()
    };
    assert_eq!(ev.attribute("uid"), Some(uid.as_str()));
    let t = |ms: i64| {
        humantime::format_rfc3339_millis(std::time::UNIX_EPOCH + Duration::from_millis(ms as u64))
            .to_string()
    };
    assert_eq!(ev.attribute("time"), Some(t(a.time).as_str()));
    assert_eq!(ev.attribute("start"), Some(t(a.time).as_str()));
    assert_eq!(
        ev.attribute("stale"),
        Some(t(a.time + stale_min * 60_000).as_str())
    );
    let point = ev
        .children()
        .find(|n| n.has_tag_name("point"))
        .expect("point");
    let f = |k: &str| point.attribute(k).unwrap().parse::<f64>().unwrap();
    assert!((f("lat") - a.lat.unwrap()).abs() < 1e-6, "{xml}");
    assert!((f("lon") - a.lon.unwrap()).abs() < 1e-6, "{xml}");
    assert_eq!(f("hae"), 0.0);
    assert_eq!(f("ce"), 50.0);
    assert_eq!(f("le"), 9_999_999.0);
    let detail = ev
        .children()
        .find(|n| n.has_tag_name("detail"))
        .expect("detail");
    let remarks = detail
        .children()
        .find(|n| n.has_tag_name("remarks"))
        .expect("remarks");
    assert_eq!(remarks.text(), Some(a.message.as_str()));
    let lk = detail
        .children()
        .find(|n| n.has_tag_name("__lookout"))
        .expect("__lookout");
    assert_eq!(lk.attribute("id"), Some(a.id.as_str()));
    assert_eq!(lk.attribute("kind"), Some(a.kind.as_str()));
    let mmsi = a.mmsi.to_string();
    assert_eq!(lk.attribute("mmsi"), Some(mmsi.as_str()));
    match want_type {
        "b-a-o-tbl" => {
            let e = detail
                .children()
                .find(|n| n.has_tag_name("emergency"))
                .expect("emergency");
            assert_eq!(e.attribute("type"), Some("911 Alert"));
        }
        "t-x-d-d" => {
            let l = detail
                .children()
                .find(|n| n.has_tag_name("link"))
                .expect("link");
            assert_eq!(l.attribute("uid"), Some(a.id.as_str()));
            assert!(detail.children().any(|n| n.has_tag_name("__forcedelete")));
        }
        "b-a-g" => assert_eq!(lk.attribute("zone"), Some("sar-malta")),
        _ => {}
    }
}

/// The alerts of the CoT tests and the types they map to.
fn cot_cases() -> Vec<(Alert, &'static str)> {
    vec![
        (
            alert(1, AlertKind::DistressBeacon, AlertState::Raised),
            "b-a-o-tbl",
        ),
        (alert(2, AlertKind::ZoneEnter, AlertState::Raised), "b-a-g"),
        (alert(3, AlertKind::ZoneExit, AlertState::Updated), "b-a-g"),
        (
            alert(4, AlertKind::Loitering, AlertState::Raised),
            "b-m-p-s-m",
        ),
        (
            alert(5, AlertKind::Encounter, AlertState::Acknowledged),
            "b-m-p-s-m",
        ),
        (
            alert(6, AlertKind::Loitering, AlertState::Cleared),
            "t-x-d-d",
        ),
        (
            alert(7, AlertKind::DistressBeacon, AlertState::Cleared),
            "b-a-o-can",
        ),
    ]
}

#[tokio::test]
async fn cot_over_udp() {
    let rx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = rx.local_addr().unwrap().to_string();
    let mut c = CotConfig::new("tak-udp", CotProtocol::Udp, &addr);
    c.stale_min = 15.0;
    let set = SinkSet::start(&[SinkConfig::Cot(c)]).unwrap();
    let cases = cot_cases();
    for (a, _) in &cases {
        set.publish(a);
    }
    let mut buf = vec![0u8; 65536];
    for (a, ty) in &cases {
        let n = tokio::time::timeout(Duration::from_secs(30), rx.recv(&mut buf))
            .await
            .expect("a datagram within 30 s")
            .unwrap();
        let xml = std::str::from_utf8(&buf[..n]).unwrap();
        check_cot(xml, a, ty, 15);
    }
    set.shutdown().await;
    let s = status(&set);
    assert_eq!((s.delivered, s.failed, s.dropped()), (7, 0, 0), "{s:?}");
}

/// Read newline-separated CoT documents from a connection.
async fn read_docs(conn: &mut tokio::net::TcpStream, buf: &mut String, n: usize) -> Vec<String> {
    let mut docs = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = tokio::time::Instant::now() + Duration::from_secs(30);
    while docs.len() < n {
        while let Some(p) = buf.find('\n') {
            docs.push(buf[..p].to_string());
            buf.drain(..=p);
        }
        if docs.len() >= n {
            break;
        }
        let r = tokio::time::timeout_at(end, conn.read(&mut chunk))
            .await
            .expect("CoT documents within 30 s")
            .unwrap();
        assert!(r > 0, "connection closed early");
        buf.push_str(std::str::from_utf8(&chunk[..r]).unwrap());
    }
    docs
}

#[tokio::test]
async fn cot_over_tcp_reconnects() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let mut c = CotConfig::new("tak-tcp", CotProtocol::Tcp, &addr);
    c.retry_initial_ms = 20;
    c.retry_max_ms = 200;
    let set = SinkSet::start(&[SinkConfig::Cot(c)]).unwrap();
    let cases = cot_cases();

    for (a, _) in &cases[..3] {
        set.publish(a);
    }
    let (mut conn, _) = tokio::time::timeout(Duration::from_secs(30), listener.accept())
        .await
        .unwrap()
        .unwrap();
    let mut buf = String::new();
    let docs = read_docs(&mut conn, &mut buf, 3).await;
    for (d, (a, ty)) in docs.iter().zip(&cases) {
        check_cot(d, a, ty, 10);
    }
    // The TAK server goes away; the sink notices, then reconnects for the
    // next alerts.
    drop(conn);
    wait_until("the sink to notice the closed connection", 30, || {
        !status(&set).connected
    })
    .await;
    for (a, _) in &cases[3..] {
        set.publish(a);
    }
    let (mut conn, _) = tokio::time::timeout(Duration::from_secs(30), listener.accept())
        .await
        .unwrap()
        .unwrap();
    let mut buf = String::new();
    let docs = read_docs(&mut conn, &mut buf, 4).await;
    for (d, (a, ty)) in docs.iter().zip(&cases[3..]) {
        check_cot(d, a, ty, 10);
    }
    wait_until("connected again", 30, || status(&set).connected).await;
    set.shutdown().await;
    let s = status(&set);
    assert_eq!((s.delivered, s.dropped()), (7, 0), "{s:?}");
}

#[tokio::test]
async fn cot_to_a_dead_server_fills_the_bounded_queue_and_counts_drops() {
    // A port nobody listens on.
    let addr = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().to_string()
    };
    let mut c = CotConfig::new("tak-dead", CotProtocol::Tcp, &addr);
    c.queue_capacity = 4;
    c.retry_initial_ms = 60_000;
    c.retry_max_ms = 60_000;
    c.shutdown_grace_ms = 100;
    let set = SinkSet::start(&[SinkConfig::Cot(c)]).unwrap();
    let sent = alerts(1, 11);
    set.publish(&sent[0]);
    // The sink holds the first alert, waiting a minute to retry.
    wait_until("the first failed attempt", 30, || status(&set).failed >= 1).await;
    for a in &sent[1..] {
        set.publish(a);
    }
    let s = status(&set);
    assert_eq!(s.published, 11);
    assert_eq!(s.queued, 4, "{s:?}");
    assert_eq!(s.dropped_queue_full, 6, "{s:?}");
    assert_eq!(s.pending, 1, "{s:?}");
    assert!(!s.connected);
    // Shutting down with the server still gone gives up within the grace.
    tokio::time::timeout(Duration::from_secs(30), set.shutdown())
        .await
        .expect("shutdown is bounded");
    let s = status(&set);
    assert_eq!(s.delivered, 0);
    assert_eq!(s.dropped(), 6 + 5, "{s:?}");
    // Published after shutdown: counted as dropped, never blocks.
    set.publish(&sent[0]);
    assert_eq!(status(&set).dropped_queue_full, 7);
}

#[tokio::test]
async fn json_lines_file_gets_exactly_the_alerts() {
    let path = tmp("alerts.jsonl");
    let set = SinkSet::start(&[SinkConfig::JsonLines(JsonLinesConfig::new(
        "journal", &path,
    ))])
    .unwrap();
    let sent = alerts(1, 25);
    set.publish_all(&sent[..10]);
    // Flushed per alert: readable before any shutdown.
    wait_until("10 lines", 30, || {
        std::fs::read_to_string(&path).is_ok_and(|t| t.lines().count() == 10)
    })
    .await;
    set.publish_all(&sent[10..]);
    set.shutdown().await;
    let text = std::fs::read_to_string(&path).unwrap();
    let want: String = sent.iter().map(|a| a.to_json() + "\n").collect();
    assert_eq!(text, want);
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["id"].as_str().unwrap().starts_with("a-"));
    }
    let s = status(&set);
    assert_eq!((s.delivered, s.pending, s.dropped()), (25, 0, 0), "{s:?}");

    // Appends on the next start.
    let set = SinkSet::start(&[SinkConfig::JsonLines(JsonLinesConfig::new(
        "journal", &path,
    ))])
    .unwrap();
    set.publish(&sent[0]);
    set.shutdown().await;
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 26);
}

#[tokio::test]
async fn several_sinks_from_toml_all_get_every_alert() {
    let rx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let path = tmp("toml.jsonl");
    let text = format!(
        r#"
        [[sinks]]
        type = "json_lines"
        name = "journal"
        path = "{}"

        [[sinks]]
        type = "cot"
        name = "tak"
        protocol = "udp"
        address = "{}"
        uid_prefix = "lookout."
        "#,
        path.display(),
        rx.local_addr().unwrap()
    );
    #[derive(serde::Deserialize)]
    struct File {
        sinks: Vec<SinkConfig>,
    }
    let f: File = toml::from_str(&text).unwrap();
    let set = SinkSet::start(&f.sinks).unwrap();
    assert_eq!(set.names(), vec!["journal", "tak"]);
    let a = alert(42, AlertKind::PositionJump, AlertState::Raised);
    set.publish(&a);
    let mut buf = vec![0u8; 65536];
    let n = tokio::time::timeout(Duration::from_secs(30), rx.recv(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let xml = std::str::from_utf8(&buf[..n]).unwrap();
    assert!(xml.contains("uid=\"lookout.a-000042\""), "{xml}");
    set.shutdown().await;
    assert_eq!(std::fs::read_to_string(&path).unwrap(), a.to_json() + "\n");

    let mut reg = prometheus_client::registry::Registry::default();
    set.metrics(&mut reg);
    let mut m = String::new();
    prometheus_client::encoding::text::encode(&mut m, &reg).unwrap();
    assert!(
        m.contains("alert_sink_delivered_total{sink=\"tak\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("alert_sink_dropped_total{sink=\"journal\",reason=\"queue_full\"} 0"),
        "{m}"
    );
    assert!(m.contains("alert_sink_pending{sink=\"journal\"} 0"), "{m}");
    // No outbox behind these sinks: no outbox depth either.
    assert!(!m.contains("alert_sink_outbox_rows{"), "{m}");
    assert!(status(&set).outbox_rows.is_none());
    let _ = T0;
}

#[test]
fn bad_configuration_fails_at_start_with_the_sink_named() {
    let mut j = JsonLinesConfig::new("journal", "/proc/no/such/dir/alerts.jsonl");
    let e = SinkSet::start(&[SinkConfig::JsonLines(j.clone())])
        .err()
        .unwrap();
    assert_eq!(e.sink, "journal");
    j.path = tmp("ok.jsonl");
    let dup = [
        SinkConfig::JsonLines(j.clone()),
        SinkConfig::JsonLines(j.clone()),
    ];
    assert!(SinkSet::start(&dup)
        .err()
        .unwrap()
        .to_string()
        .contains("twice"));
    // No runtime needed to start, publish or drop a set.
    let set = SinkSet::start(&[SinkConfig::JsonLines(j)]).unwrap();
    set.publish(&alert(1, AlertKind::AisGap, AlertState::Raised));
    drop(set);
    assert!(SinkSet::start(&[]).unwrap().is_empty());
}
