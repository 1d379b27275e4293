//! Recording and replay round-trip a simulated hour exactly: `lookout serve`
//! reads a simulated recording as a live file feed with the recorder on;
//! the archive then gives back every line byte for byte, and replaying the
//! archive gives the same picture events and alerts as replaying the
//! simulation directly.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn lookout() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lookout"));
    c.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."));
    c
}

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("lookout-rr-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn get(addr: &str, path: &str) -> Value {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    serde_json::from_str(resp.split("\r\n\r\n").nth(1).unwrap()).unwrap()
}

fn replay(input: &Path, events: &Path, alerts: &Path) {
    let out = lookout()
        .arg("replay")
        .arg(input)
        .arg("--events-out")
        .arg(events)
        .arg("--alerts-out")
        .arg(alerts)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_simulated_hour_round_trips_through_the_recorder_exactly() {
    let d = dir();
    let sim = d.join("hour.nmea");
    assert!(lookout()
        .args(["simulate", "--duration", "1h", "-o"])
        .arg(&sim)
        .status()
        .unwrap()
        .success());
    let sim_lines: Vec<String> = std::fs::read_to_string(&sim)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert!(sim_lines.len() > 50_000);

    let archive = d.join("archive");
    let config = d.join("lookout.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\nzones = [\"config/zones\"]\n[ingest]\n[[ingest.sources]]\ntype = \"file\"\nname = \"sim-feed\"\npath = \"{}\"\n[ingest.recorder]\ndirectory = \"{}\"\n",
            sim.display(),
            archive.display()
        ),
    )
    .unwrap();
    let mut child = lookout()
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .arg("--state-dir")
        .arg(d.join("state"))
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
    // Wait until the file feed has been read to its end.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let sources = get(&addr, "/api/sources");
        let feed = sources
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "sim-feed")
            .cloned();
        if feed.as_ref().is_some_and(|f| {
            f["state"] == "finished" && f["lines"].as_u64() == Some(sim_lines.len() as u64)
        }) {
            break;
        }
        assert!(Instant::now() < deadline, "feed not finished: {feed:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Graceful stop flushes and compresses the archive.
    assert!(Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "serve did not stop");
        std::thread::sleep(Duration::from_millis(100));
    }

    // Every line comes back, in order, byte for byte: the archive keeps the
    // original TAG fields and appends Lookout's own.
    let reader = ingest::archive_reader::ArchiveReader::open(&[&archive]).unwrap();
    let originals: Vec<String> = reader
        .map(|l| String::from_utf8(l.original().into_owned()).unwrap())
        .collect();
    assert_eq!(originals.len(), sim_lines.len());
    assert!(
        originals == sim_lines,
        "archived lines differ from the input"
    );

    // Replaying the archive = replaying the simulation.
    let (e1, a1, e2, a2) = (d.join("e1"), d.join("a1"), d.join("e2"), d.join("a2"));
    replay(&sim, &e1, &a1);
    replay(&archive, &e2, &a2);
    assert_eq!(
        std::fs::read(&e1).unwrap(),
        std::fs::read(&e2).unwrap(),
        "same picture events"
    );
    assert_eq!(
        std::fs::read(&a1).unwrap(),
        std::fs::read(&a2).unwrap(),
        "same alerts"
    );
    assert!(std::fs::read_to_string(&a1)
        .unwrap()
        .contains("\"kind\":\"distress_beacon\""));
    std::fs::remove_dir_all(d).ok();
}
