//! After `kill -9` and a restart on the same state directory and archive,
//! the live picture is back within seconds (issue #8): `lookout serve` with
//! a TCP listener feed and the recorder is fed position reports, killed
//! with SIGKILL, restarted, and `/api/vessels` must hold every vessel again
//! — those in the last periodic snapshot and those received after it (only
//! in the archive). Also over the real server: a track reaching back into
//! the archive and `/api/history`, with its limits.

use lookout_ais::encode::{encode_message, sentences};
use lookout_ais::messages::{Body, PositionReport};
use lookout_ais::AisMessage;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

fn lookout() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lookout"));
    c.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."));
    c
}

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("lookout-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Start `lookout serve`; returns the child and its HTTP address.
fn serve(config: &Path, state: &Path) -> (Child, String) {
    let mut child = lookout()
        .arg("serve")
        .arg("--config")
        .arg(config)
        .arg("--state-dir")
        .arg(state)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let l = lines.next().expect("serve printed its address").unwrap();
        if let Some(rest) = l.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, addr)
}

/// GET a path: (status, JSON body).
fn get(addr: &str, path: &str) -> (u16, Value) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp[9..12].parse().unwrap();
    let body = resp.split("\r\n\r\n").nth(1).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn vessels(addr: &str) -> Vec<(u32, f64, f64)> {
    let (status, v) = get(addr, "/api/vessels");
    assert_eq!(status, 200, "{v}");
    v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let c = &f["geometry"]["coordinates"];
            (
                f["id"].as_u64().unwrap() as u32,
                c[1].as_f64().unwrap(),
                c[0].as_f64().unwrap(),
            )
        })
        .collect()
}

/// A class A position report (no TAG block: its time is the receive time).
fn position(mmsi: u32, lat: f64, lon: f64) -> String {
    let m = AisMessage {
        msg_type: 1,
        repeat: 0,
        mmsi,
        body: Body::Position(PositionReport {
            status: 0,
            turn: None,
            speed: Some(12.0),
            accuracy: true,
            lon: Some(lon),
            lat: Some(lat),
            course: Some(90.0),
            heading: Some(90),
            second: None,
            maneuver: 0,
            raim: false,
            radio: 0,
        }),
    };
    let bits = encode_message(&m).unwrap();
    sentences(&bits, "AI", Some('A'), 0).remove(0)
}

fn wait_for(addr: &str, want: &[(u32, f64, f64)], within: Duration) -> Duration {
    let t0 = Instant::now();
    loop {
        let have = vessels(addr);
        let all = want.iter().all(|(m, lat, lon)| {
            have.iter()
                .any(|(h, hl, ho)| h == m && (hl - lat).abs() < 2e-5 && (ho - lon).abs() < 2e-5)
        });
        if all {
            return t0.elapsed();
        }
        assert!(
            t0.elapsed() < within,
            "vessels missing after {:?}: want {want:?}, have {have:?}",
            t0.elapsed()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn after_kill_9_the_picture_is_back_from_snapshot_and_archive_within_seconds() {
    let d = dir();
    let (archive, state) = (d.join("archive"), d.join("state"));
    let feed_port = free_port();
    let config = d.join("lookout.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\nzones = [\"config/zones\"]\n\
             [ingest]\n[[ingest.sources]]\ntype = \"tcp_listener\"\nname = \"receivers\"\naddress = \"127.0.0.1:{feed_port}\"\n\
             [ingest.recorder]\ndirectory = \"{}\"\n\
             [snapshot]\ninterval_secs = 1\n",
            archive.display()
        ),
    )
    .unwrap();
    let started_ms = now_ms();
    let (mut first, addr) = serve(&config, &state);
    let mut feed = {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match std::net::TcpStream::connect(("127.0.0.1", feed_port)) {
                Ok(s) => break s,
                Err(e) => {
                    assert!(Instant::now() < deadline, "feed port: {e}");
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    };

    // Before the snapshot: 20 vessels, each reporting twice 1.5 s apart,
    // 11 m further on (the first report ends up only in the archive's
    // track; a bigger step would be held back as an implausible jump).
    let before: Vec<(u32, f64, f64)> = (0..20)
        .map(|i| (247_000_100 + i, 35.0 + i as f64 * 0.01, 14.0))
        .collect();
    for (m, lat, lon) in &before {
        writeln!(feed, "{}", position(*m, lat - 0.0001, *lon)).unwrap();
    }
    feed.flush().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    for (m, lat, lon) in &before {
        writeln!(feed, "{}", position(*m, *lat, *lon)).unwrap();
    }
    feed.flush().unwrap();
    wait_for(&addr, &before, Duration::from_secs(10));
    // A snapshot taken after they arrived.
    let snapshot = state.join("picture-snapshot.jsonl");
    let seen = SystemTime::now();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let fresh = std::fs::metadata(&snapshot)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t > seen + Duration::from_millis(100));
        if fresh {
            break;
        }
        assert!(Instant::now() < deadline, "no snapshot written");
        std::thread::sleep(Duration::from_millis(50));
    }
    // After the snapshot: 10 more vessels, and new positions for 5 of the
    // first ones; the server is killed before another snapshot.
    let after: Vec<(u32, f64, f64)> = (0..10)
        .map(|i| (247_000_200 + i, 36.0, 12.0 + i as f64 * 0.01))
        .collect();
    let moved: Vec<(u32, f64, f64)> = before[..5]
        .iter()
        .map(|(m, lat, lon)| (*m, lat + 0.0001, *lon))
        .collect();
    for (m, lat, lon) in after.iter().chain(&moved) {
        writeln!(feed, "{}", position(*m, *lat, *lon)).unwrap();
    }
    feed.flush().unwrap();
    let mut expected: Vec<(u32, f64, f64)> = before[5..].to_vec();
    expected.extend(&after);
    expected.extend(&moved);
    wait_for(&addr, &expected, Duration::from_secs(10));
    // The recorder writes each batch at once; give it a moment to run.
    std::thread::sleep(Duration::from_millis(300));
    first.kill().unwrap(); // SIGKILL: no shutdown, no last snapshot
    first.wait().unwrap();
    drop(feed);

    let restarted = Instant::now();
    let (mut second, addr) = serve(&config, &state);
    let back = wait_for(&addr, &expected, Duration::from_secs(5));
    let total = restarted.elapsed();
    eprintln!("picture back {back:?} after the address was printed, {total:?} after the restart");
    assert!(total < Duration::from_secs(5), "{total:?}");
    assert_eq!(vessels(&addr).len(), expected.len());

    // The track reaches into the archive for the report before the
    // restored one.
    let (m, lat, _) = before[7];
    let (status, track) = get(
        &addr,
        &format!("/api/vessels/{m}/track?from={}", started_ms - 60_000),
    );
    assert_eq!(status, 200, "{track}");
    let coords = track["geometry"]["coordinates"].as_array().unwrap();
    assert!(
        track["properties"]["archived_points"].as_u64().unwrap() >= 1,
        "{track}"
    );
    assert!(coords.len() >= 2, "{track}");
    assert!(
        (coords[0][1].as_f64().unwrap() - (lat - 0.0001)).abs() < 2e-5,
        "{track}"
    );
    // Without `from`, the picture's own track only.
    let (_, mem) = get(&addr, &format!("/api/vessels/{m}/track"));
    assert!(mem["properties"]["archived_points"].is_null(), "{mem}");

    // History over the same archive, through the server.
    let (status, h) = get(
        &addr,
        &format!(
            "/api/history?lat=36.0&lon=12.045&radius_nm=3&from={}&to={}",
            started_ms - 60_000,
            now_ms() + 1
        ),
    );
    assert_eq!(status, 200, "{h}");
    let mut got: Vec<u64> = h["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_u64().unwrap())
        .collect();
    got.sort();
    assert_eq!(got, (247_000_200..247_000_210).collect::<Vec<u64>>(), "{h}");
    let nearest = &h["features"][0]["properties"]["closest_approach"];
    assert!(nearest["distance_nm"].as_f64().unwrap() < 0.3, "{h}");
    // Limits and bad input are clear 400s.
    let (status, e) = get(
        &addr,
        "/api/history?lat=36&lon=12&radius_nm=2&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z",
    );
    assert_eq!(status, 400, "{e}");
    assert!(e["error"].as_str().unwrap().contains("at most"), "{e}");
    let (status, e) = get(&addr, "/api/history?lat=36&lon=12&from=0&to=1000");
    assert_eq!(status, 400, "{e}");
    assert!(e["error"].as_str().unwrap().contains("radius_nm"), "{e}");
    let (status, _) = get(
        &addr,
        "/api/history?lat=36&lon=12&radius_nm=900&from=0&to=1000",
    );
    assert_eq!(status, 400);

    second.kill().unwrap();
    second.wait().unwrap();
    std::fs::remove_dir_all(&d).ok();
}
