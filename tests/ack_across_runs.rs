//! An acknowledgement applies only to the alert it was made on — the same
//! kind, vessels, zone and raise time — never to whichever alert of a later
//! run gets the same number or the same vessel (issue 15, "acknowledgements
//! may jump between runs").
//!
//! One state folder, four `lookout serve` runs on recordings whose times are
//! around now (a live file feed):
//! 1. an AIS-SART activates; the operator acknowledges it;
//! 2. a restart on the same data: the same alert comes back acknowledged;
//! 3. the same beacon activates again at another time: a new alert, not
//!    acknowledged;
//! 4. `serve --replay` of the first recording after all that: the same
//!    alert (same content) again, so acknowledged — and kill -9 does not
//!    change that (tests/sar_crash.rs).

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn lookout() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lookout"));
    c.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."));
    c
}

struct Serve {
    child: Child,
    addr: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    fn start(args: &[&str], state: &Path) -> Serve {
        let child = lookout()
            .arg("serve")
            .args(args)
            .arg("--state-dir")
            .arg(state)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut s = Serve {
            child,
            addr: String::new(),
        };
        let mut lines = BufReader::new(s.child.stderr.take().unwrap()).lines();
        s.addr = loop {
            let l = lines.next().expect("serve printed its address").unwrap();
            if let Some(rest) = l.split("listening on http://").nth(1) {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        s
    }

    /// SIGTERM and wait: acknowledgements and alert states are flushed.
    fn stop(mut self) {
        assert!(Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success());
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "serve did not stop");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn request(&self, method: &str, path: &str) -> Value {
        let mut s = std::net::TcpStream::connect(&self.addr).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        assert!(resp.starts_with("HTTP/1.1 200"), "{method} {path}: {resp}");
        serde_json::from_str(resp.split("\r\n\r\n").nth(1).unwrap()).unwrap()
    }

    /// The distress alert, once raised.
    fn distress_alert(&self) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let alerts = self.request("GET", "/api/alerts");
            if let Some(a) = alerts
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["kind"] == "distress_beacon")
            {
                return a.clone();
            }
            assert!(Instant::now() < deadline, "no distress alert: {alerts}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// A small recording starting `start_s` (UNIX seconds), a SART activating
/// `sart_at` after the start.
fn recording(dir: &Path, name: &str, start_s: u64, sart_at: &str) -> std::path::PathBuf {
    let start = humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(start_s));
    let scenario = dir.join(format!("{name}.toml"));
    std::fs::write(
        &scenario,
        format!(
            "name = \"{name}\"\nstart = \"{start}\"\nseed = 7\nstation = \"sim\"\n\
             [[areas]]\nname = \"grounds\"\nbbox = [12.0, 34.5, 13.0, 35.0]\n\
             [[fleets]]\nkind = \"fishing\"\ncount = 5\narea = \"grounds\"\n\
             [[events]]\nkind = \"sart_activation\"\nat = \"{sart_at}\"\nlon = 13.1\nlat = 34.7\n"
        ),
    )
    .unwrap();
    let out = dir.join(format!("{name}.nmea"));
    let st = lookout()
        .args(["simulate", "--duration", "6m", "--scenario"])
        .arg(&scenario)
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    out
}

fn live_config(dir: &Path, name: &str, file: &Path) -> std::path::PathBuf {
    let config = dir.join(format!("{name}.toml.conf"));
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\nzones = [\"config/zones\"]\n[ingest]\n[[ingest.sources]]\ntype = \"file\"\nname = \"feed\"\npath = \"{}\"\n",
            file.display()
        ),
    )
    .unwrap();
    config
}

#[test]
fn an_acknowledgement_applies_only_to_the_alert_it_was_made_on() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let now_s = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // Message times a few minutes before now, so the live clock keeps them.
    let first = recording(dir.path(), "first", now_s - 600, "2m");
    let again = recording(dir.path(), "again", now_s - 600, "4m");

    // 1. Raised and acknowledged.
    let conf = live_config(dir.path(), "first", &first);
    let run1 = Serve::start(&["--config", conf.to_str().unwrap()], &state);
    let alert = run1.distress_alert();
    let id = alert["id"].as_str().unwrap().to_string();
    let acked = run1.request("POST", &format!("/api/alerts/{id}/ack"));
    assert_eq!(acked["state"], "acknowledged", "{acked}");
    run1.stop();

    // 2. A restart on the same data: the same alert, still acknowledged.
    let run2 = Serve::start(&["--config", conf.to_str().unwrap()], &state);
    let same = run2.distress_alert();
    assert_eq!(same["id"], alert["id"], "the same alert has the same id");
    assert_eq!(same["state"], "acknowledged", "{same}");
    run2.stop();

    // 3. The beacon activates at another time: another alert, open.
    let conf3 = live_config(dir.path(), "again", &again);
    let run3 = Serve::start(&["--config", conf3.to_str().unwrap()], &state);
    let other = run3.distress_alert();
    assert_eq!(other["mmsi"], alert["mmsi"], "the same beacon");
    assert_ne!(other["id"], alert["id"]);
    assert_ne!(other["state"], "acknowledged", "{other}");
    run3.stop();

    // 4. A replay of the first recording: the very alert run 1
    //    acknowledged (same kind, beacon and raise time), so acknowledged.
    let run4 = Serve::start(
        &[
            "--listen",
            "127.0.0.1:0",
            "--replay",
            first.to_str().unwrap(),
            "--speed",
            "max",
        ],
        &state,
    );
    let replayed = run4.distress_alert();
    assert_eq!(replayed["id"], alert["id"]);
    assert_eq!(replayed["state"], "acknowledged", "{replayed}");
    run4.stop();
}
