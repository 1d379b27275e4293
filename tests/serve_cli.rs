//! `lookout serve` and `lookout replay` as a user runs them: a simulated
//! recording served over a real WebSocket and HTTP, then SIGTERM; replays
//! that give byte-identical events twice.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

fn lookout() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lookout"));
    c.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."));
    c
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lookout-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A 15-minute simulated recording, made once for all tests (they run in
/// parallel: written to a temporary name, then renamed).
fn simulated_15m() -> PathBuf {
    static REC: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    REC.get_or_init(|| {
        let out = tmp("sim-15m.nmea");
        let part = tmp("sim-15m.nmea.part");
        let st = lookout()
            .args(["simulate", "--duration", "15m", "-o"])
            .arg(&part)
            .status()
            .unwrap();
        assert!(st.success());
        std::fs::rename(&part, &out).unwrap();
        out
    })
    .clone()
}

/// Start `lookout serve` with `args`; returns the child and its address.
fn serve(args: &[&str]) -> (Child, String) {
    let mut child = lookout()
        .arg("serve")
        .args(["--listen", "127.0.0.1:0", "--state-dir"])
        .arg(tmp("state"))
        .args(args)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines.next().expect("serve printed its address").unwrap();
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, addr)
}

async fn get(addr: &str, path: &str) -> Value {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).await.unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{path}: {resp}");
    let body = resp.split("\r\n\r\n").nth(1).unwrap();
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

/// Wait until the replay has been read to its end (so the picture stands
/// still) and holds at least `n` vessels.
async fn wait_for_replay(addr: &str, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let st = get(addr, "/api/status").await;
        let sources = get(addr, "/api/sources").await;
        let finished = sources
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "replay" && s["state"] == "finished");
        let drained = st["queue_depth"].as_u64() == Some(0);
        if finished && drained && st["vessels"].as_u64().unwrap_or(0) >= n {
            // The pipeline may still hold the last batch for a moment.
            tokio::time::sleep(Duration::from_millis(500)).await;
            return;
        }
        assert!(
            Instant::now() < deadline,
            "replay never finished: {st} {sources}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_a_replay_over_websocket_and_http_and_shuts_down_cleanly() {
    let rec = simulated_15m();
    let web = tmp("web-root");
    std::fs::create_dir_all(&web).unwrap();
    std::fs::write(
        web.join("index.html"),
        "<!doctype html><title>Lookout</title>",
    )
    .unwrap();
    let (mut child, addr) = serve(&[
        "--replay",
        rec.to_str().unwrap(),
        "--speed",
        "max",
        "--web-root",
        web.to_str().unwrap(),
    ]);
    wait_for_replay(&addr, 200).await;
    // The web client's files are served at / beside the API.
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).await.unwrap();
        assert!(
            resp.starts_with("HTTP/1.1 200")
                && resp.contains("text/html")
                && resp.contains("<title>Lookout</title>"),
            "{resp}"
        );
    }

    // WebSocket: a viewport around Lampedusa gets only vessels inside it.
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .unwrap();
    let bbox = [11.5, 34.5, 13.5, 36.0];
    ws.send(Message::Text(
        json!({"type":"subscribe","id":"map","bbox":bbox})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let snap = loop {
        let m = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let Message::Text(t) = m {
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["type"] == "snapshot" {
                break v;
            }
        }
    };
    let vessels = snap["vessels"].as_array().unwrap();
    assert!(vessels.len() > 10, "{} vessels", vessels.len());
    for v in vessels {
        let (lon, lat) = (v["lon"].as_f64().unwrap(), v["lat"].as_f64().unwrap());
        assert!(lon >= bbox[0] && lon <= bbox[2] && lat >= bbox[1] && lat <= bbox[3]);
        assert!(v["last_seen"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-28T06:"));
    }

    // HTTP agrees with the WebSocket.
    let fc = get(&addr, "/api/vessels?bbox=11.5,34.5,13.5,36").await;
    assert_eq!(fc["type"], "FeatureCollection");
    assert_eq!(fc["features"].as_array().unwrap().len(), vessels.len());
    let mmsi = vessels[0]["mmsi"].as_u64().unwrap();
    let detail = get(&addr, &format!("/api/vessels/{mmsi}")).await;
    assert_eq!(detail["mmsi"].as_u64(), Some(mmsi));
    let track = get(&addr, &format!("/api/vessels/{mmsi}/track")).await;
    assert_eq!(track["geometry"]["type"], "LineString");
    let near = get(&addr, "/api/nearest?lat=35.5&lon=12.6&k=5").await;
    let d: Vec<f64> = near["vessels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["distance_nm"].as_f64().unwrap())
        .collect();
    assert_eq!(d.len(), 5);
    assert!(
        d.windows(2).all(|w| w[0] <= w[1]),
        "sorted by distance: {d:?}"
    );
    let zones = get(&addr, "/api/zones").await;
    assert!(zones["features"].as_array().unwrap().len() >= 5);
    let sources = get(&addr, "/api/sources").await;
    assert!(sources
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["name"] == "replay"));

    // SIGTERM: the client is told, the process exits 0.
    let st = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .unwrap()
        {
            Some(Ok(Message::Close(f))) => break f,
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(close.map(|f| u16::from(f.code)), Some(1001));
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "serve did not exit");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
}

#[test]
fn refuses_to_listen_off_loopback_without_authentication() {
    let out = lookout()
        .args(["serve", "--listen", "0.0.0.0:0", "--replay"])
        .arg(simulated_15m())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("authentication is off"));
}

#[test]
fn replay_is_deterministic_and_summarises() {
    let rec = simulated_15m();
    let mut outs = Vec::new();
    for k in 0..2 {
        let events = tmp(&format!("events-{k}.jsonl"));
        let out = lookout()
            .arg("replay")
            .arg(&rec)
            .arg("--events-out")
            .arg(&events)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let summary = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(
            summary.contains("messages")
                && summary.contains("vessels")
                && summary.contains("lines/s"),
            "{summary}"
        );
        outs.push(std::fs::read(&events).unwrap());
    }
    assert_eq!(outs[0], outs[1], "byte-identical event output");
    let text = String::from_utf8_lossy(&outs[0]);
    assert!(text.lines().count() > 1000);
    assert!(text.contains("\"event\":\"zone_entered\""));
    // --from/--to select a window of message time.
    let events = tmp("events-window.jsonl");
    let out = lookout()
        .arg("replay")
        .arg(&rec)
        .args([
            "--from",
            "2026-11-28T06:05:00Z",
            "--to",
            "2026-11-28T06:06:00Z",
            "--events-out",
        ])
        .arg(&events)
        .output()
        .unwrap();
    assert!(out.status.success());
    let window = std::fs::read_to_string(&events).unwrap();
    for l in window.lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        let t = v["time_ms"].as_i64().unwrap();
        assert!(
            (1_795_845_900_000..1_795_845_960_000 + 3_600_000).contains(&t),
            "{l}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_own_asset_gnss_feed_is_on_the_picture() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/ais/signalk_nais400-merrimac.log");
    let config = tmp("own-asset.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\n[ingest]\n[[ingest.sources]]\ntype = \"file\"\nname = \"merrimac-nav\"\npath = \"{}\"\nown_asset = \"MERRIMAC\"\n",
            fixture.display()
        ),
    )
    .unwrap();
    let (mut child, addr) = serve(&["--config", config.to_str().unwrap()]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let own = loop {
        let fc = get(&addr, "/api/vessels?class=own_asset").await;
        if let Some(f) = fc["features"].as_array().unwrap().first() {
            break f.clone();
        }
        assert!(Instant::now() < deadline, "no own asset appeared");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(own["properties"]["name"], "MERRIMAC");
    assert_eq!(own["properties"]["class"], "own_asset");
    let lat = own["properties"]["lat"].as_f64().unwrap();
    assert!(
        (53.0..53.5).contains(&lat),
        "the recording's own position (Harlingen, NL): {lat}"
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_reach_the_configured_sinks_including_acknowledgements() {
    let rec = tmp("sim-30m.nmea");
    assert!(lookout()
        .args(["simulate", "--duration", "30m", "-o"])
        .arg(&rec)
        .status()
        .unwrap()
        .success());
    let journal = tmp("alerts.jsonl");
    let config = tmp("sinks.toml");
    std::fs::write(
        &config,
        format!("listen = \"127.0.0.1:0\"\n[[sinks]]\ntype = \"json_lines\"\nname = \"journal\"\npath = \"{}\"\n", journal.display()),
    )
    .unwrap();
    let (mut child, addr) = serve(&[
        "--config",
        config.to_str().unwrap(),
        "--replay",
        rec.to_str().unwrap(),
        "--speed",
        "max",
    ]);
    wait_for_replay(&addr, 200).await;
    let alerts = get(&addr, "/api/alerts").await;
    let beacon = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "distress_beacon" && a["state"] != "cleared")
        .cloned()
        .unwrap_or_else(|| panic!("the scenario SART raised no distress alert: {alerts}"));
    assert_eq!(beacon["severity"], "critical");
    // Acknowledge over HTTP (auth is off on loopback: anonymous admin).
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let id = beacon["id"].as_str().unwrap();
        let body = r#"{"note":"RESCUE 1 tasked"}"#;
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        s.write_all(
            format!("POST /api/alerts/{id}/ack HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).as_bytes(),
        )
        .await
        .unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).await.unwrap();
        assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(&journal).unwrap_or_default();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let raised = lines
            .iter()
            .any(|a| a["kind"] == "distress_beacon" && a["state"] == "raised");
        let acked = lines.iter().any(|a| {
            a["id"] == beacon["id"]
                && a["state"] == "acknowledged"
                && a["note"] == "RESCUE 1 tasked"
        });
        if raised && acked {
            break;
        }
        assert!(Instant::now() < deadline, "journal: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

/// A start that fails half-way (the port is taken, after the demo
/// recording was written) leaves no temporary file behind and says why.
#[test]
fn a_failed_start_leaves_no_temporary_files() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    let state = dir.path().join("state");
    std::fs::create_dir_all(&tmp).unwrap();
    let out = lookout()
        .arg("serve")
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--state-dir")
        .arg(&state)
        .env("TMPDIR", &tmp)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot listen"), "{err}");
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// `lookout replay` refuses a missing input and a window that ends before
/// it starts, with exit status 2 and the reason.
#[test]
fn replay_refuses_missing_inputs_and_backward_windows() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-recording.nmea");
    let out = lookout().arg("replay").arg(&missing).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-recording.nmea"));
    let rec = dir.path().join("one.nmea");
    std::fs::write(
        &rec,
        "\\c:1700000000*5F\\!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A\n",
    )
    .unwrap();
    let out = lookout()
        .arg("replay")
        .arg(&rec)
        .args(["--from", "2026-11-28T07:00:00Z", "--to", "2026-11-28"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not before --to"));
    let ok = lookout().arg("replay").arg(&rec).output().unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

/// "Nearest" ranks responders: never the distress beacon (or any AIS-SART,
/// MOB or EPIRB), nor the object in distress itself when named in
/// `exclude`; `all=true` lists every class. A search finds any vessel of
/// the picture by name, call sign or MMSI, wherever it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nearest_ranks_responders_and_search_finds_any_vessel() {
    let rec = simulated_15m();
    let (mut child, addr) = serve(&["--replay", rec.to_str().unwrap(), "--speed", "max"]);
    // The demo's AIS-SART activates 20 minutes in; its test 5 minutes in
    // (Valletta). Wait for the picture to hold the test beacon.
    let deadline = Instant::now() + Duration::from_secs(60);
    let beacon = loop {
        let fc = get(&addr, "/api/vessels?class=ais_sart").await;
        if let Some(b) = fc["features"].as_array().and_then(|f| f.first()).cloned() {
            break b["properties"].clone();
        }
        assert!(Instant::now() < deadline, "no AIS-SART in the picture");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let (lat, lon) = (
        beacon["lat"].as_f64().unwrap(),
        beacon["lon"].as_f64().unwrap(),
    );
    let classes = |v: &Value| -> Vec<String> {
        v["vessels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["vessel"]["class"].as_str().unwrap().to_string())
            .collect()
    };
    let near = get(&addr, &format!("/api/nearest?lat={lat}&lon={lon}&k=8")).await;
    let c = classes(&near);
    assert_eq!(c.len(), 8, "{near}");
    assert!(
        c.iter().all(
            |k| !["ais_sart", "mob", "epirb_ais", "aton", "base_station"].contains(&k.as_str())
        ),
        "responders only: {c:?}"
    );
    let all = get(
        &addr,
        &format!("/api/nearest?lat={lat}&lon={lon}&k=8&all=true"),
    )
    .await;
    assert_eq!(
        all["vessels"][0]["vessel"]["mmsi"], beacon["mmsi"],
        "with all=true the beacon itself is nearest: {all}"
    );
    let first = near["vessels"][0]["vessel"]["mmsi"].as_u64().unwrap();
    let without = get(
        &addr,
        &format!("/api/nearest?lat={lat}&lon={lon}&k=8&exclude={first}"),
    )
    .await;
    assert!(without["vessels"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["vessel"]["mmsi"].as_u64() != Some(first)));

    // Search: a named vessel far from that point, by part of its name in
    // lower case, by call sign and by the start of its MMSI.
    let fc = get(&addr, "/api/vessels").await;
    let named = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"].clone())
        .find(|v| v["name"].as_str().is_some_and(|n| n.len() > 6) && v["callsign"].is_string())
        .expect("a named vessel");
    let name = named["name"].as_str().unwrap();
    let part = name[1..name.len() - 1].to_lowercase();
    for q in [
        part.clone(),
        named["callsign"].as_str().unwrap().to_string(),
        named["mmsi"].to_string(),
    ] {
        let found = get(&addr, &format!("/api/vessels?q={}", q.replace(' ', "%20"))).await;
        let ids: Vec<u64> = found["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"]["mmsi"].as_u64().unwrap())
            .collect();
        assert!(
            ids.contains(&named["mmsi"].as_u64().unwrap()),
            "q={q}: {ids:?}"
        );
        assert!(ids.len() <= 20);
    }
    let _ = child.kill();
    let _ = child.wait();
}
