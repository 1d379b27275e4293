//! The cluster on a real nats-server (started here on 127.0.0.1 with
//! JetStream in a temp folder): 2 ingest + 1 core + 2 edge `lookout serve`
//! processes fed a simulated recording agree with a single-process run of
//! the same recording (same vessels and positions on /api/vessels, same
//! alerts on /api/alerts); meanwhile an edge is killed and its WebSocket
//! client reconnects to the other edge and gets a fresh snapshot, and the
//! core is killed with SIGKILL and restarted without losing anything it had
//! acknowledged. Every alert change is published once on the bus, although
//! the restarted core raised them all again while rebuilding.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

#[path = "node_support.rs"]
mod node_support;
use node_support::{lookout, Node};

/// This test run's own folder (removed at the end).
fn tmp_dir() -> PathBuf {
    std::env::temp_dir().join(format!("lookout-cluster-{}", std::process::id()))
}

fn tmp(name: &str) -> PathBuf {
    let dir = tmp_dir();
    std::fs::create_dir_all(&dir).unwrap();
    assert!(!name.is_empty());
    dir.join(name)
}

fn serve(name: &str, args: &[&str]) -> Node {
    let mut cmd = lookout();
    cmd.arg("serve")
        .args(["--listen", "127.0.0.1:0", "--state-dir"])
        .arg(tmp(&format!("state-{name}")))
        .args(args);
    Node::start(name, cmd, tmp(&format!("{name}.log")))
}

fn role(name: &str, role: &str, url: &str, extra: &[&str]) -> Node {
    let mut args = vec!["--role", role, "--bus-url", url, "--node", name];
    args.extend_from_slice(extra);
    serve(name, &args)
}

async fn get(addr: &str, path: &str) -> Option<Value> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).await.ok()?;
    if !resp.starts_with("HTTP/1.1 200") {
        return None;
    }
    serde_json::from_str(resp.split("\r\n\r\n").nth(1)?).ok()
}

async fn post(addr: &str, path: &str) -> Value {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).await.unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{path}: {resp}");
    serde_json::from_str(resp.split("\r\n\r\n").nth(1).unwrap()).unwrap()
}

/// The picture as compared: MMSI → (position, state, name, class).
async fn vessels(addr: &str) -> Option<BTreeMap<u64, Value>> {
    let fc = get(addr, "/api/vessels").await?;
    Some(
        fc["features"]
            .as_array()?
            .iter()
            .map(|f| {
                let p = &f["properties"];
                (
                    f["id"].as_u64().unwrap_or(0),
                    json!([
                        f["geometry"]["coordinates"],
                        p["state"],
                        p["name"],
                        p["class"],
                        p["last_seen"]
                    ]),
                )
            })
            .collect(),
    )
}

/// Alerts as compared: each situation and where it stands.
async fn alerts(addr: &str) -> Option<BTreeSet<String>> {
    let list = get(addr, "/api/alerts").await?;
    Some(
        list.as_array()?
            .iter()
            .map(|a| {
                format!(
                    "{} {} {} {} {}",
                    a["kind"], a["mmsi"], a["other_mmsi"], a["zone"], a["state"]
                )
            })
            .collect(),
    )
}

/// Split a recording in two by MMSI (odd/even), keeping the lines of a
/// multi-sentence message together: two receivers that hear different
/// ships.
fn split_by_mmsi(rec: &Path) -> (PathBuf, PathBuf) {
    let text = std::fs::read_to_string(rec).unwrap();
    let mut decoder = lookout_ais::Decoder::new(lookout_ais::DecoderOptions::default());
    let ctx = lookout_ais::LineContext {
        source: 0,
        received_ms: None,
    };
    let (mut a, mut b) = (String::new(), String::new());
    let mut pending = String::new();
    for line in text.lines() {
        pending.push_str(line);
        pending.push('\n');
        let mut mmsi = None;
        let _ = decoder.decode_line_with(line.as_bytes(), &ctx, |d| mmsi = Some(d.message.mmsi));
        if let Some(m) = mmsi {
            if m % 2 == 0 { &mut a } else { &mut b }.push_str(&pending);
            pending.clear();
        }
    }
    let (pa, pb) = (tmp("half-a.nmea"), tmp("half-b.nmea"));
    std::fs::write(&pa, a).unwrap();
    std::fs::write(&pb, b).unwrap();
    (pa, pb)
}

async fn ws_subscribe(
    addr: &str,
) -> Option<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
> {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .ok()?;
    ws.send(Message::text(
        json!({"type":"subscribe","id":"s1","bbox":[-180,-90,180,90],"max_rate_hz":5}).to_string(),
    ))
    .await
    .ok()?;
    Some(ws)
}

/// Next snapshot on `ws`: its vessels' MMSIs.
async fn next_snapshot(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Option<BTreeSet<u64>> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .ok()??
            .ok()?;
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(&t).ok()?;
            if v["type"] == "snapshot" {
                return Some(
                    v["vessels"]
                        .as_array()?
                        .iter()
                        .filter_map(|v| v["mmsi"].as_u64())
                        .collect(),
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_ingest_one_core_two_edges_agree_with_one_process() {
    let Some(nats) = bus::testkit::NatsServer::start() else {
        return;
    };
    let url = nats.url();
    let rec = tmp("sim-20m.nmea");
    assert!(lookout()
        .args(["simulate", "--duration", "20m", "-o"])
        .arg(&rec)
        .status()
        .unwrap()
        .success());
    let (half_a, half_b) = split_by_mmsi(&rec);

    // Every alert change published on the bus, as a subscriber sees it.
    let client = async_nats::connect(&url).await.unwrap();
    let mut alert_sub = client.subscribe("lookout.alerts.>").await.unwrap();

    // The reference: one process, the whole recording.
    let single = serve(
        "single",
        &["--replay", rec.to_str().unwrap(), "--speed", "max"],
    );

    // The cluster.
    let mut core = Some(role("core1", "core", &url, &[]));
    let mut edge1 = Some(role("edge1", "edge", &url, &[]));
    let edge2 = role("edge2", "edge", &url, &[]);
    // A client on edge 1 sees the picture build up.
    let mut ws = loop {
        if let Some(ws) = ws_subscribe(&edge1.as_ref().unwrap().addr).await {
            break ws;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let _first = next_snapshot(&mut ws)
        .await
        .expect("a snapshot from edge 1");
    // Two receivers, each hearing half the ships, at 60x real time (20 s).
    let speed = ["--speed", "60"];
    let ingest_a = role(
        "ingest-a",
        "ingest",
        &url,
        &[&["--replay", half_a.to_str().unwrap()][..], &speed[..]].concat(),
    );
    let ingest_b = role(
        "ingest-b",
        "ingest",
        &url,
        &[&["--replay", half_b.to_str().unwrap()][..], &speed[..]].concat(),
    );

    // Mid-stream, edge 1 dies: its client reconnects to edge 2 and gets a
    // fresh snapshot (the current picture, not an empty one).
    tokio::time::sleep(Duration::from_secs(6)).await;
    drop(edge1.take());
    let cut = Instant::now();
    loop {
        match ws.next().await {
            None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
            Some(Ok(_)) => {}
        }
    }
    let mut ws2 = ws_subscribe(&edge2.addr)
        .await
        .expect("edge 2 accepts the client");
    let snap = next_snapshot(&mut ws2)
        .await
        .expect("a snapshot from edge 2");
    let reconnected_in = cut.elapsed();
    let on_edge2 = vessels(&edge2.addr).await.unwrap();
    assert!(
        snap.len() >= 100 && snap.len() as f64 >= on_edge2.len() as f64 * 0.9,
        "the snapshot after reconnecting holds the current picture: {} vessels, edge 2 has {}",
        snap.len(),
        on_edge2.len()
    );
    assert!(
        reconnected_in < Duration::from_secs(5),
        "{reconnected_in:?}"
    );

    // Then the core is killed (SIGKILL) mid-stream and restarted.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut dead = core.take().unwrap();
    dead.child.kill().unwrap();
    let _ = dead.child.wait();
    tokio::time::sleep(Duration::from_secs(1)).await;
    core = Some(role("core1", "core", &url, &[]));

    // Reference picture and alerts.
    let deadline = Instant::now() + Duration::from_secs(120);
    let (want_vessels, want_alerts) = loop {
        let (v1, a1) = (vessels(&single.addr).await, alerts(&single.addr).await);
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (v2, a2) = (vessels(&single.addr).await, alerts(&single.addr).await);
        if let (Some(v), Some(a)) = (&v1, &a1) {
            if v1 == v2 && a1 == a2 && v.len() > 200 {
                break (v.clone(), a.clone());
            }
        }
        assert!(
            Instant::now() < deadline,
            "the single-process replay never settled"
        );
    };
    assert!(!want_alerts.is_empty());

    // The edge (and the core) agree once the ingest nodes are done.
    let core_addr = core.as_ref().unwrap().addr.clone();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let got = (
            vessels(&edge2.addr).await,
            alerts(&edge2.addr).await,
            vessels(&core_addr).await,
            alerts(&core_addr).await,
        );
        if got.0.as_ref() == Some(&want_vessels)
            && got.1.as_ref() == Some(&want_alerts)
            && got.2.as_ref() == Some(&want_vessels)
            && got.3.as_ref() == Some(&want_alerts)
        {
            break;
        }
        if Instant::now() > deadline {
            let diff = |a: &BTreeMap<u64, Value>, b: &Option<BTreeMap<u64, Value>>| {
                let b = b.clone().unwrap_or_default();
                a.iter()
                    .filter(|(k, v)| b.get(k) != Some(v))
                    .take(5)
                    .map(|(k, v)| format!("{k}: want {v} got {:?}", b.get(k)))
                    .collect::<Vec<_>>()
            };
            panic!(
                "cluster and single process disagree:\nedge vessels {:?}\ncore vessels {:?}\nedge alerts missing {:?} extra {:?}\ncore alerts {:?}",
                diff(&want_vessels, &got.0),
                diff(&want_vessels, &got.2),
                want_alerts.difference(&got.1.clone().unwrap_or_default()).collect::<Vec<_>>(),
                got.1.clone().unwrap_or_default().difference(&want_alerts).collect::<Vec<_>>(),
                got.3.map(|a| a.len()),
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // The ingest nodes' bounded publishers lost nothing (replays wait for
    // room), and their counters are on /healthz and /metrics.
    for node in [&ingest_a, &ingest_b] {
        let h = get(&node.addr, "/healthz").await.unwrap();
        let c = &h["picture"]["bus"]["counters"];
        assert!(c["published_lines"].as_u64() > Some(1000), "{h}");
        assert_eq!(c["publish_dropped_lines"], 0, "{h}");
    }

    // An operator on an edge acknowledges an alert: the core applies it,
    // and it survives another kill -9 of the core (kept in the core's state
    // database, applied again when the rebuild raises the alert).
    let open = get(&edge2.addr, "/api/alerts?state=raised").await.unwrap();
    let id = open[0]["id"].as_str().expect("an open alert").to_string();
    let acked = post(&edge2.addr, &format!("/api/alerts/{id}/ack")).await;
    assert_eq!(acked["state"], "acknowledged", "{acked}");
    let acked_on = |list: Value| {
        list.as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == id.as_str() && a["state"] == "acknowledged")
    };
    assert!(acked_on(get(&core_addr, "/api/alerts").await.unwrap()));
    let mut dead = core.take().unwrap();
    dead.child.kill().unwrap();
    let _ = dead.child.wait();
    core = Some(role("core1", "core", &url, &[]));
    let core_addr = core.as_ref().unwrap().addr.clone();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let core_ok = get(&core_addr, "/api/alerts").await.is_some_and(acked_on);
        let edge_ok = get(&edge2.addr, "/healthz")
            .await
            .is_some_and(|h| h["picture"]["bus"]["snapshots_loaded"].as_u64() >= Some(3))
            && get(&edge2.addr, "/api/alerts").await.is_some_and(acked_on);
        if core_ok && edge_ok && vessels(&edge2.addr).await.as_ref() == Some(&want_vessels) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the acknowledgement did not survive the core's restart"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // The restarted core rebuilt its picture from the stream (re-raising
    // every alert) but each alert change went out on the bus only once.
    let mut seen = BTreeMap::new();
    while let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(500), alert_sub.next()).await
    {
        let ev: Value = serde_json::from_slice(&m.payload).unwrap();
        let a = &ev["alert"];
        *seen
            .entry(format!("{} {} {}", a["id"], a["state"], a["time"]))
            .or_insert(0) += 1;
    }
    assert!(!seen.is_empty());
    let dups: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dups.is_empty(), "alert changes published twice: {dups:?}");
    let status = get(&edge2.addr, "/healthz").await.unwrap();
    assert!(
        status.to_string().contains("\"snapshots_loaded\""),
        "{status}"
    );
    drop((ingest_a, ingest_b, core, single, edge2, nats));
    let _ = std::fs::remove_dir_all(tmp_dir());
}
