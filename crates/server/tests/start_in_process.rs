//! A [`Server`] started in-process, without the `lookout` binary: a short
//! simulated recording replayed at max speed on 127.0.0.1:0, the picture
//! read over real HTTP, then stopped through its shutdown handle.

use server::{LookoutConfig, ServeOptions, Server};
use simulator::{Scenario, Simulator};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// Ten minutes of the demo scenario, as `lookout simulate` writes it.
fn write_recording(path: &std::path::Path) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut sim = Simulator::new(&Scenario::demo()).unwrap();
    sim.run_for(10 * 60_000, |_, line| {
        out.write_all(line.as_bytes()).unwrap();
        out.write_all(b"\n").unwrap();
    });
    out.flush().unwrap();
}

/// Status code and body of a GET (chunked bodies are put back together).
fn http_get_raw(addr: &str, path: &str) -> (u16, String) {
    let mut s =
        std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let resp = String::from_utf8_lossy(&resp).into_owned();
    let (head, body) = resp
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("GET {path}: {resp}"));
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase().starts_with("transfer-encoding:")
            && l.to_ascii_lowercase().contains("chunked")
    });
    if !chunked {
        return (status, body.to_string());
    }
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.split(';').next().unwrap().trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    (status, out)
}

/// A GET answered 200 with JSON, off the runtime's threads.
async fn get(addr: &str, path: &str) -> serde_json::Value {
    let (addr, path) = (addr.to_string(), path.to_string());
    tokio::task::spawn_blocking(move || {
        let (status, body) = http_get_raw(&addr, &path);
        assert_eq!(status, 200, "GET {path}: HTTP {status}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_serves_and_stops_in_process() {
    let dir = tempfile::TempDir::new().unwrap();
    let recording = dir.path().join("demo.nmea");
    write_recording(&recording);
    let state_dir = dir.path().join("state");
    std::fs::create_dir_all(&state_dir).unwrap();

    let config = LookoutConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        zones: Vec::new(),
        ..LookoutConfig::default()
    };
    let mut opts = ServeOptions::new(config, &state_dir);
    opts.replay = vec![recording];
    opts.speed = None; // --speed max

    let server = Server::start(opts).await.expect("server starts");
    let addr = server.local_addr();
    assert!(addr.ip().is_loopback() && addr.port() != 0, "bound {addr}");
    let addr = addr.to_string();
    let stop = server.shutdown_handle();
    let run = tokio::spawn(server.run_until_shutdown());

    // The replay fills the picture.
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        let st = get(&addr, "/api/status").await;
        if st["vessels"].as_u64().unwrap_or(0) > 0 {
            break st;
        }
        assert!(Instant::now() < deadline, "no vessels after 60 s: {st}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status["mode"], "replay", "{status}");

    let vessels = get(&addr, "/api/vessels").await;
    assert_eq!(vessels["type"], "FeatureCollection", "{vessels}");
    let features = vessels["features"].as_array().expect("features");
    assert!(!features.is_empty(), "{vessels}");
    for f in features {
        assert!(f["properties"]["mmsi"].as_u64().is_some(), "{f}");
    }

    // Stopped through the handle, it drains and returns.
    let asked = Instant::now();
    stop.shutdown();
    let result = tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("run_until_shutdown returns within 10 s of the handle")
        .expect("the server task does not panic");
    assert_eq!(result, Ok(()));
    assert!(asked.elapsed() < Duration::from_secs(10));
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "still listening on {addr} after shutdown"
    );
    assert!(
        state_dir.join("lookout.db").exists(),
        "the state database is in the state dir"
    );
}
