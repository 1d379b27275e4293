//! The engine issue's invariance through the cluster: one recording,
//! published by an ingest node onto a real nats-server (JetStream, started
//! here on 127.0.0.1), applied by a core and mirrored by an edge, gives the
//! same alert situations — kind, vessels, zone, raise and clear times — as
//! `lookout replay` of the same file, on the core's and on the edge's
//! `/api/alerts`.
//!
//! One ingest node keeps the recording's order. (Several ingest nodes merge
//! their feeds in arrival order; docs/engine.md says what that changes.)

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

#[path = "invariance_support.rs"]
mod support;
use support::{api_situations, assert_same, fold_changes, kinds, replay, simulate};

#[path = "node_support.rs"]
mod node_support;
use node_support::Node;

fn serve(dir: &Path, name: &str, args: &[&str]) -> Node {
    let state = dir.join(format!("state-{name}"));
    std::fs::create_dir_all(&state).unwrap();
    let mut cmd = node_support::lookout();
    cmd.arg("serve")
        .args(["--listen", "127.0.0.1:0", "--zones", "config/zones"])
        .arg("--state-dir")
        .arg(&state)
        .args(args);
    Node::start(name, cmd, dir.join(format!("{name}.log")))
}

fn get(addr: &str, path: &str) -> Option<Value> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    if !resp.starts_with("HTTP/1.1 200") {
        return None;
    }
    serde_json::from_str(resp.split("\r\n\r\n").nth(1)?).ok()
}

/// `/api/alerts` once it has stopped changing (and holds something).
fn settled_alerts(addr: &str, deadline: Instant) -> Value {
    let mut last: Option<Value> = None;
    let mut same = 0;
    loop {
        assert!(Instant::now() < deadline, "{addr}: alerts never settled");
        std::thread::sleep(Duration::from_millis(700));
        let now = get(addr, "/api/alerts");
        if now
            .as_ref()
            .is_some_and(|a| a.as_array().is_some_and(|l| !l.is_empty()))
            && now == last
        {
            same += 1;
            if same >= 3 {
                return now.unwrap();
            }
        } else {
            same = 0;
        }
        last = now;
    }
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn ingest_core_edge_raise_what_replay_raises() {
    let Some(nats) = bus::testkit::NatsServer::start() else {
        return;
    };
    let url = nats.url();
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("demo-80m.nmea");
    simulate(None, "80m", &rec);
    let reference = fold_changes(&replay(&rec, None, false, dir.path(), "reference").changes);
    let k = kinds(&reference);
    assert!(
        k.contains("loitering") && k.contains("encounter") && k.contains("distress_beacon"),
        "{k:?}"
    );

    let bus = |role: &str, name: &str| -> Vec<String> {
        ["--role", role, "--bus-url", &url, "--node", name]
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    let core_args = bus("core", "core1");
    let edge_args = bus("edge", "edge1");
    let mut ingest_args = bus("ingest", "ingest1");
    ingest_args.extend(
        ["--replay", rec.to_str().unwrap(), "--speed", "max"]
            .iter()
            .map(|s| s.to_string()),
    );
    let core = serve(dir.path(), "core1", &args(&core_args));
    let edge = serve(dir.path(), "edge1", &args(&edge_args));
    let _ingest = serve(dir.path(), "ingest1", &args(&ingest_args));

    let deadline = Instant::now() + Duration::from_secs(180);
    let on_core = api_situations(&settled_alerts(&core.addr, deadline));
    assert_same("lookout replay", &reference, "the core", &on_core);
    let on_edge = api_situations(&settled_alerts(&edge.addr, deadline));
    assert_same("lookout replay", &reference, "the edge", &on_edge);
    let edge_kinds: BTreeSet<String> = kinds(&on_edge);
    assert!(edge_kinds.contains("encounter"), "{edge_kinds:?}");
}
