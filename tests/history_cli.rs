//! `lookout history` over a simulated recording whose answer is known from
//! the scenario (`tests/scenarios/history-known.toml`): `lookout simulate`
//! writes two hours, the recorder (`ingest::Recorder`, as `lookout serve`
//! runs it) turns them into hourly archive files, gzipped, and the history
//! scan must find the vessel whose route passes the point at the known time,
//! the beacon at its known distance, and never the vessels that stay far
//! away.

use ingest::clock::{Clock, ManualClock};
use ingest::line::Line;
use ingest::queue::Overload;
use ingest::recorder::{Recorder, RecorderConfig};
use ingest::status::{SourceRegistry, SourceSpec};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

fn lookout() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lookout"));
    c.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."));
    c
}

fn t(s: &str) -> i64 {
    ingest::timefmt::parse_time(s).unwrap()
}

/// Simulate the scenario for 2 h and record it as an archive (once for all
/// tests in this file).
fn archive() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("lookout-history-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let sim = d.join("sim.nmea");
        assert!(lookout()
            .args([
                "simulate",
                "--scenario",
                "tests/scenarios/history-known.toml"
            ])
            .args(["--duration", "2h", "-o"])
            .arg(&sim)
            .status()
            .unwrap()
            .success());
        let archive = d.join("archive");
        let registry = Arc::new(SourceRegistry::default());
        let src = registry
            .register(SourceSpec {
                name: "national".into(),
                kind: "file",
                own_asset: None,
                overload: Overload::Block,
            })
            .unwrap();
        let clock = Arc::new(ManualClock::new(t("2026-11-28T06:00:00Z")));
        let rec = Recorder::start(
            RecorderConfig::new(&archive),
            registry,
            clock.clone() as Arc<dyn Clock>,
        )
        .unwrap();
        let text = std::fs::read_to_string(&sim).unwrap();
        let mut batch = Vec::new();
        for line in text.lines() {
            // Received 150 ms after the TAG block's c: second.
            let c: i64 = line
                .split("c:")
                .nth(1)
                .and_then(|r| r.split(['*', ',']).next())
                .and_then(|v| v.parse().ok())
                .unwrap();
            let received = c * 1000 + 150;
            clock.set(received);
            batch.push(Line {
                source: src.id(),
                received_ms: received,
                bytes: line.as_bytes().to_vec(),
            });
            if batch.len() == 1024 {
                rec.record_batch(&batch);
                batch.clear();
                rec.sync(Duration::from_secs(30));
            }
        }
        rec.record_batch(&batch);
        clock.set(t("2026-11-28T09:00:00Z"));
        assert!(rec.sync(Duration::from_secs(60)));
        let st = rec.status().snapshot();
        rec.close();
        assert_eq!(st.lost_lines, 0);
        assert_eq!(st.recorded_lines, text.lines().count() as u64);
        let names: Vec<String> = std::fs::read_dir(&archive)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().any(|n| n == "lookout-20261128T0600Z.nmea.gz"),
            "{names:?}"
        );
        assert!(names
            .iter()
            .any(|n| n.starts_with("lookout-20261128T0700Z")));
        archive
    })
    .clone()
}

fn history(args: &[&str]) -> Value {
    let out = lookout()
        .arg("history")
        .arg("--archive")
        .arg(archive())
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn features(v: &Value) -> &Vec<Value> {
    v["features"].as_array().unwrap()
}

fn cpa(f: &Value) -> (f64, i64) {
    let c = &f["properties"]["closest_approach"];
    (
        c["distance_nm"].as_f64().unwrap(),
        c["time_ms"].as_i64().unwrap(),
    )
}

#[test]
fn the_vessel_passing_the_point_is_found_at_its_known_time_and_the_far_ones_never() {
    // 1 NM around the point, 06:00–08:00: only the loitering vessel, which
    // arrives at 07:00 and holds there.
    let a = history(&[
        "--near",
        "34.8,12.2",
        "--radius",
        "1",
        "--from",
        "2026-11-28T06:00:00Z",
        "--to",
        "2026-11-28T08:00:00Z",
    ]);
    let f = features(&a);
    assert_eq!(f.len(), 1, "{a}");
    let loiterer = f[0]["id"].as_u64().unwrap();
    let (d, at) = cpa(&f[0]);
    assert!(d < 0.01, "{d}");
    // First report at the point: within one 10 s reporting interval of 07:00.
    assert!((at - t("2026-11-28T07:00:00Z")).abs() <= 15_000, "{}", f[0]);
    assert_eq!(f[0]["properties"]["class"], "A");
    assert!(
        f[0]["properties"]["name"].is_string(),
        "static data decoded"
    );
    // Its track runs from the west edge of the circle (plus the margin) in.
    let track = f[0]["geometry"]["coordinates"].as_array().unwrap();
    assert!(track.len() > 10);
    let first_lon = track[0][0].as_f64().unwrap();
    assert!(
        first_lon < 12.2 - 1.0 / 60.0 / 0.82,
        "starts outside 1 NM: {first_lon}"
    );
    let times = f[0]["properties"]["times"].as_array().unwrap();
    assert_eq!(times.len(), track.len());
    assert!(times.windows(2).all(|w| w[0].as_str() < w[1].as_str()));

    // 5 NM, 06:00–06:40: the loiterer is 2.67 NM west at 06:40 (its
    // closest in the window), the SART 3.88 NM away from 06:30.
    let a = history(&[
        "--near",
        "34.8,12.2",
        "--radius",
        "5",
        "--from",
        "2026-11-28T06:00:00Z",
        "--to",
        "2026-11-28T06:40:00Z",
    ]);
    let f = features(&a);
    assert_eq!(f.len(), 2, "{a}");
    assert_eq!(f[0]["id"].as_u64().unwrap(), loiterer);
    let (d, at) = cpa(&f[0]);
    assert!((d - 8.0 * 20.0 / 60.0).abs() < 0.05, "{d}");
    assert!(t("2026-11-28T06:39:40Z") <= at && at < t("2026-11-28T06:40:00Z"));
    assert_eq!(f[1]["properties"]["class"], "ais_sart");
    assert!(f[1]["id"].as_u64().unwrap() / 1_000_000 == 970);
    let (d, at) = cpa(&f[1]);
    assert!((d - 3.884).abs() < 0.01, "{d}");
    assert!((at - t("2026-11-28T06:30:00Z")).abs() <= 60_000, "{at}");

    // 06:00–06:20: the loiterer is still 5.3 NM out, the SART not on yet.
    let a = history(&[
        "--near",
        "34.8,12.2",
        "--radius",
        "5",
        "--from",
        "2026-11-28T06:00:00Z",
        "--to",
        "2026-11-28T06:20:00Z",
    ]);
    assert_eq!(features(&a).len(), 0, "{a}");

    // The far ones are in the archive: the five Gabes fishing vessels.
    let a = history(&[
        "--near",
        "34.25,11.1",
        "--radius",
        "30",
        "--from",
        "2026-11-28T06:00:00Z",
        "--to",
        "2026-11-28T08:00:00Z",
    ]);
    assert_eq!(features(&a).len(), 5, "{a}");
    assert!(features(&a)
        .iter()
        .all(|f| f["id"].as_u64() != Some(loiterer)));
}

#[test]
fn files_outside_the_window_are_skipped_and_threads_agree() {
    let args = [
        "--near",
        "34.8,12.2",
        "--radius",
        "5",
        "--from",
        "2026-11-28T07:10:00Z",
        "--to",
        "2026-11-28T07:30:00Z",
    ];
    let one = history(&[&args[..], &["--threads", "1"]].concat());
    let two = history(&[&args[..], &["--threads", "2"]].concat());
    assert_eq!(one["features"], two["features"]);
    assert_eq!(one["stats"]["files_read"], 1, "{}", one["stats"]);
    assert_eq!(one["stats"]["files_skipped"], 1, "{}", one["stats"]);
    assert_eq!(one["stats"]["file_errors"], 0);
    // A human table by default, nearest first.
    let out = lookout()
        .arg("history")
        .arg("--archive")
        .arg(archive())
        .args(args)
        .output()
        .unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.starts_with("MMSI"), "{table}");
    assert_eq!(table.lines().count(), 1 + features(&one).len(), "{table}");
    // Bad arguments are refused with a reason.
    let out = lookout()
        .args([
            "history",
            "--archive",
            "x",
            "--near",
            "95,12",
            "--radius",
            "1",
        ])
        .args(["--from", "2026-11-28", "--to", "2026-11-29"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("latitude"));
}
