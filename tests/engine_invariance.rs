//! The alert stream must not depend on how a recording is played (issue
//! items 3 and 4). Black-box: only the `lookout` command line and HTTP API.
//!
//! One simulated recording of the bundled central-Mediterranean demo (100
//! minutes: a SART test, an active SART, a loitering vessel, two vessels
//! meeting at sea, a vessel going dark, zone entries and exits) is played
//!
//! * by `lookout replay` at `--speed max` and at `--speed N`,
//! * by `lookout serve --replay` at `--speed max` and at `--speed N`, read
//!   back over `/api/alerts` and `/api/vessels`,
//! * interleaved with unrelated simulated traffic (Aegean),
//! * and vessel by vessel: the lines of the vessels of each alert alone,
//!
//! and each time the alert situations — (kind, vessels, zone, raise time,
//! clear time), ids, messages and order aside — must be the same. A replay
//! of some vessels alone ends at their last message, so it can only be
//! compared with the full replay up to that time (`Situation::as_of`): a
//! timeout (an AIS gap, a beacon no longer heard) after it cannot happen
//! there.

#[path = "invariance_support.rs"]
mod support;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use support::*;

/// How much of the demo to simulate: past the loitering alert's clear
/// (90 min) and the AIS gap (70 min).
const DURATION: &str = "100m";
/// The demo scenario's start, 2026-11-28T06:00:00Z.
const START_MS: i64 = 1_795_845_600_000;
const MIN: i64 = 60_000;

/// The demo recording in a temporary directory of its own, cut into
/// messages, and its `lookout replay --speed max`.
struct Demo {
    dir: tempfile::TempDir,
    rec: PathBuf,
    units: Vec<Unit>,
    full: ReplayRun,
}

/// The demo, shared by the tests that run at the same time (they only add
/// files of their own names to its directory); the directory is removed
/// when the last of them is done with it.
fn demo() -> Arc<Demo> {
    static SHARED: Mutex<Weak<Demo>> = Mutex::new(Weak::new());
    let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(d) = shared.upgrade() {
        return d;
    }
    let d = Arc::new(Demo::new());
    *shared = Arc::downgrade(&d);
    d
}

impl Demo {
    fn new() -> Demo {
        let dir = tempfile::Builder::new()
            .prefix("lookout-invariance-")
            .tempdir()
            .unwrap();
        let rec = dir.path().join("demo.nmea");
        simulate(Some("config/scenarios/central-med.toml"), DURATION, &rec);
        let units = units(&std::fs::read_to_string(&rec).unwrap());
        let full = replay(&rec, None, false, dir.path(), "full");
        assert!(
            full.situations().len() > 20,
            "the demo raised only {:?}",
            full.situations()
        );
        Demo {
            dir,
            rec,
            units,
            full,
        }
    }

    /// Message time of the recording's last line.
    fn last_ms(&self) -> i64 {
        self.units.iter().map(|u| u.time_s).max().unwrap() * 1000
    }

    fn mmsis(&self) -> BTreeSet<u64> {
        self.units.iter().map(|u| u.mmsi).collect()
    }

    /// Replay the messages of `vessels` alone; returns the run and the
    /// message time of its last line.
    fn alone(&self, vessels: &BTreeSet<u64>, name: &str) -> (ReplayRun, i64) {
        let sel = only(&self.units, vessels);
        assert!(!sel.is_empty(), "no lines of {vessels:?}");
        let file = self.dir.path().join(format!("{name}.nmea"));
        write_units(&file, sel.iter().copied());
        let t_end = sel.iter().map(|u| u.time_s).max().unwrap() * 1000;
        (replay(&file, None, false, self.dir.path(), name), t_end)
    }

    /// The full replay's situations of `vessels` only, as they stood at
    /// `t_ms`.
    fn full_as_of(&self, vessels: &BTreeSet<u64>, t_ms: i64) -> BTreeSet<Situation> {
        self.full
            .situations()
            .iter()
            .filter(|s| s.involves_only(vessels))
            .filter_map(|s| s.as_of(t_ms))
            .collect()
    }

    /// The two vessels the scenario makes meet at sea (the `encounter`
    /// event at 34.9 N 15.2 E, from 06:20 for 45 min): those reporting
    /// under 2 kn within 1 NM of the point between 06:30 and 06:50.
    fn scripted_encounter_pair(&self) -> BTreeSet<u64> {
        let window: Vec<&Unit> = self
            .units
            .iter()
            .filter(|u| (START_MS / 1000 + 30 * 60..START_MS / 1000 + 50 * 60).contains(&u.time_s))
            .collect();
        let file = self.dir.path().join("encounter-window.nmea");
        write_units(&file, window);
        let pair: BTreeSet<u64> = decode(&file)
            .iter()
            .filter(|m| {
                let (lat, lon, sog) = (m["lat"].as_f64(), m["lon"].as_f64(), m["speed"].as_f64());
                matches!((lat, lon, sog), (Some(la), Some(lo), Some(s))
                    if s < 2.0 && distance_nm(la, lo, 34.9, 15.2) < 1.0)
            })
            .map(|m| m["mmsi"].as_u64().unwrap())
            .collect();
        assert_eq!(
            pair.len(),
            2,
            "expected the scenario's two vessels alongside at 34.9N 15.2E, found {pair:?}"
        );
        pair
    }
}

fn set(v: &[u64]) -> BTreeSet<u64> {
    v.iter().copied().collect()
}

/// The last position and the last lifecycle event of each vessel, from
/// `--events-out`.
fn final_picture_from_events(events: &[Value]) -> BTreeMap<u64, (String, String)> {
    let mut out: BTreeMap<u64, (String, String)> = BTreeMap::new();
    for e in events {
        let Some(m) = e["mmsi"].as_u64() else {
            continue;
        };
        let entry = out.entry(m).or_insert_with(|| ("-".into(), "-".into()));
        match e["event"].as_str() {
            Some("vessel_updated") => {
                if let (Some(la), Some(lo)) = (e["lat"].as_f64(), e["lon"].as_f64()) {
                    entry.0 = format!("{la:.6},{lo:.6}");
                }
            }
            Some(ev) if ev.starts_with("vessel_") && ev != "vessel_flagged" => {
                entry.1 = ev.to_string()
            }
            _ => {}
        }
    }
    out
}

fn vessels_in_summary(stderr: &str) -> u64 {
    stderr
        .split(", ")
        .find_map(|p| p.strip_suffix(" vessels"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no vessel count in the replay summary: {stderr}"))
}

/// The rules the demo is there to show, and that the invariance tests
/// below therefore cover. (The position-jump and navigation-status rules
/// are not: the simulator has no event that triggers them.)
#[test]
fn the_demo_recording_raises_every_scripted_alert_kind() {
    let demo = demo();
    let situations = demo.full.situations();
    let present = kinds(&situations);
    let wanted = [
        "distress_beacon",
        "distress_beacon_test",
        "loitering",
        "encounter",
        "ais_gap",
        "zone_enter",
        "zone_exit",
    ];
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|k| !present.contains(*k))
        .collect();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &situations {
        *counts.entry(s.kind.as_str()).or_default() += 1;
    }
    assert!(
        missing.is_empty(),
        "lookout replay of {DURATION} of the demo raised no {missing:?} alert \
         (the scenario scripts a SART test, an active SART, a loitering vessel, \
         two vessels meeting at sea, a vessel going dark); situations by kind: {counts:?}"
    );
}

#[test]
fn lookout_replay_gives_the_same_alerts_and_picture_at_max_speed_and_at_speed_n() {
    let demo = demo();
    let max = replay(&demo.rec, Some("max"), true, demo.dir.path(), "max");
    // 100 min of message time at 3600x: about 1.7 s of pacing.
    let paced = replay(&demo.rec, Some("3600"), true, demo.dir.path(), "x3600");
    assert!(
        paced.wall >= Duration::from_millis(1300),
        "--speed 3600 was not paced: {:?}",
        paced.wall
    );
    assert_same(
        "replay --speed max",
        &max.situations(),
        "replay --speed 3600",
        &paced.situations(),
    );
    assert_same(
        "replay (default speed)",
        &demo.full.situations(),
        "replay --speed 3600",
        &paced.situations(),
    );
    // The picture events are the same, byte for byte (the fast check);
    // if not, at least the final picture must be.
    let (ea, eb) = (
        max.events_path.as_ref().unwrap(),
        paced.events_path.as_ref().unwrap(),
    );
    if std::fs::read(ea).unwrap() == std::fs::read(eb).unwrap() {
        return;
    }
    let (a, b) = (
        final_picture_from_events(&max.events()),
        final_picture_from_events(&paced.events()),
    );
    assert!(a.len() > 200, "{} vessels in the picture", a.len());
    let differ: Vec<String> = a
        .keys()
        .chain(b.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|m| a.get(m) != b.get(m))
        .take(20)
        .map(|m| format!("  {m}: max {:?}, 3600x {:?}", a.get(m), b.get(m)))
        .collect();
    assert!(
        differ.is_empty(),
        "final picture (last position, last lifecycle event) differs:\n{}",
        differ.join("\n")
    );
}

#[test]
fn serve_replay_gives_the_same_alerts_as_lookout_replay_at_any_speed() {
    let demo = demo();
    let reference = demo.full.situations();
    let last = demo.last_ms();
    let mut failures = Vec::new();
    let mut pictures = Vec::new();
    // 100 min at 3000x: 2 s of pacing.
    for speed in ["max", "3000"] {
        let dir = demo.dir.path().join(format!("serve-{speed}"));
        std::fs::create_dir_all(&dir).unwrap();
        let t = Instant::now();
        let server = Server::replay(&demo.rec, speed, &dir);
        server.wait_replay_done(Some(last), Duration::from_secs(90));
        let served = api_situations(&server.get("/api/alerts"));
        let pic = picture(&server);
        drop(server);
        eprintln!("serve --speed {speed}: {:?}", t.elapsed());
        assert!(
            pic.len() > 200,
            "serve --speed {speed}: {} vessels",
            pic.len()
        );
        if let Some(d) = diff(
            "lookout replay",
            &reference,
            &format!("serve --replay --speed {speed} (/api/alerts)"),
            &served,
        ) {
            failures.push(d);
        }
        pictures.push((speed, pic));
    }
    let (a, b) = (&pictures[0], &pictures[1]);
    if a.1 != b.1 {
        let mut d = format!(
            "final picture (/api/vessels: mmsi, lat, lon, name, state) differs between serve --speed {} and --speed {}:\n",
            a.0, b.0
        );
        for x in a.1.difference(&b.1).take(10) {
            d += &format!("  only at {}: {x:?}\n", a.0);
        }
        for x in b.1.difference(&a.1).take(10) {
            d += &format!("  only at {}: {x:?}\n", b.0);
        }
        failures.push(d);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn unrelated_traffic_does_not_change_the_alerts_of_the_original_vessels() {
    let demo = demo();
    let extra_rec = demo.dir.path().join("aegean.nmea");
    simulate(
        Some("tests/scenarios/aegean-traffic.toml"),
        DURATION,
        &extra_rec,
    );
    let original = demo.mmsis();
    // MMSIs come from a vessel's number in its scenario: drop the extra
    // vessels that share one with the demo.
    let extra: Vec<Unit> = units(&std::fs::read_to_string(&extra_rec).unwrap())
        .into_iter()
        .filter(|u| !original.contains(&u.mmsi))
        .collect();
    let extra_vessels: BTreeSet<u64> = extra.iter().map(|u| u.mmsi).collect();
    assert!(
        extra_vessels.len() >= 100,
        "only {} extra vessels",
        extra_vessels.len()
    );
    let merged = demo.dir.path().join("merged.nmea");
    let lines = write_units(&merged, merge(&demo.units, &extra));
    assert!(lines > 150_000);
    let run = replay(&merged, None, false, demo.dir.path(), "merged");
    let (n_full, n_merged) = (
        vessels_in_summary(&demo.full.stderr),
        vessels_in_summary(&run.stderr),
    );
    assert!(
        n_merged >= n_full + 100,
        "the extra traffic is not in the picture: {n_full} vessels alone, {n_merged} merged"
    );
    let theirs: BTreeSet<Situation> = run
        .situations()
        .into_iter()
        .filter(|s| s.involves_only(&original))
        .collect();
    assert_same(
        "the demo alone",
        &demo.full.situations(),
        "the demo with Aegean traffic",
        &theirs,
    );
}

/// Speed reports of one vessel: (time ms, lat, lon, speed kn), time order.
fn reports(decoded: &[Value]) -> Vec<(i64, f64, f64, Option<f64>)> {
    let mut r: Vec<(i64, f64, f64, Option<f64>)> = decoded
        .iter()
        .filter(|m| matches!(m["type"].as_u64(), Some(1 | 2 | 3 | 18 | 19)))
        .filter_map(|m| {
            Some((
                m["tagblock"]["c"].as_i64()? * 1000,
                m["lat"].as_f64()?,
                m["lon"].as_f64()?,
                m["speed"].as_f64(),
            ))
        })
        .collect();
    r.sort_by_key(|x| x.0);
    r
}

/// Check a loitering raise time against the vessel's reports: the run of
/// reports under 2 kn inside `zone` that leads up to the raise must have
/// begun at least 60 min before it, and the alert must be raised no later
/// than the first report at or after those 60 min.
fn check_loitering_raise(
    what: &str,
    raised_ms: i64,
    reports: &[(i64, f64, f64, Option<f64>)],
    zone: &str,
    zones: &Zones,
) -> Option<String> {
    let slow = |r: &(i64, f64, f64, Option<f64>)| {
        r.3.is_some_and(|s| s < 2.0) && zones.contains(zone, r.1, r.2)
    };
    let before: Vec<_> = reports.iter().filter(|r| r.0 <= raised_ms).collect();
    let run_len = before.iter().rev().take_while(|r| slow(r)).count();
    if run_len == 0 {
        return Some(format!(
            "{what}: loitering raised at {} but the vessel's last report before it ({:?}) is not under 2 kn in {zone}",
            fmt_ms(raised_ms),
            before.last()
        ));
    }
    let since = before[before.len() - run_len].0;
    let due = since + 60 * MIN;
    let first_after = reports.iter().map(|r| r.0).find(|&t| t >= due);
    if raised_ms < due {
        let d = (raised_ms - since) / 1000;
        return Some(format!(
            "{what}: loitering raised at {} only {}m{:02}s after the vessel's first report under 2 kn in {zone} ({}); the rule says 60 min",
            fmt_ms(raised_ms),
            d / 60,
            d % 60,
            fmt_ms(since)
        ));
    }
    if let Some(t) = first_after {
        if raised_ms > t {
            return Some(format!(
                "{what}: loitering raised at {}, later than the vessel's first report 60 min after it slowed ({}; first slow report {})",
                fmt_ms(raised_ms),
                fmt_ms(t),
                fmt_ms(since)
            ));
        }
    }
    None
}

#[test]
fn a_loitering_vessel_alone_raises_the_same_loitering_alert_after_60_minutes() {
    let demo = demo();
    let zones = Zones::bundled();
    let loiter: Vec<Situation> = demo
        .full
        .situations()
        .into_iter()
        .filter(|s| s.kind == "loitering")
        .collect();
    assert!(
        !loiter.is_empty(),
        "the demo's loitering vessel raised no loitering alert: {:?}",
        kinds(&demo.full.situations())
    );
    let mut failures = Vec::new();
    for s in &loiter {
        let vessels = set(&s.vessels);
        let (alone, t_end) = demo.alone(&vessels, &format!("loiter-{}", s.vessels[0]));
        let alone_loiter: BTreeSet<Situation> = alone
            .situations()
            .into_iter()
            .filter(|x| x.kind == "loitering")
            .collect();
        let expected: BTreeSet<Situation> = s.as_of(t_end).into_iter().collect();
        if let Some(d) = diff(
            "with all traffic",
            &expected,
            "the vessel alone",
            &alone_loiter,
        ) {
            failures.push(format!("vessel {}: {d}", s.vessels[0]));
        }
        let file = demo
            .dir
            .path()
            .join(format!("loiter-{}.nmea", s.vessels[0]));
        let reps = reports(&decode(&file));
        let zone = s.zone.clone().expect("a loitering alert names its zone");
        failures.extend(check_loitering_raise(
            "with all traffic",
            s.raised_ms,
            &reps,
            &zone,
            &zones,
        ));
        for a in &alone_loiter {
            failures.extend(check_loitering_raise(
                "alone",
                a.raised_ms,
                &reps,
                &zone,
                &zones,
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn two_vessels_meeting_at_sea_alone_raise_the_same_encounter_as_in_traffic() {
    let demo = demo();
    let pair = demo.scripted_encounter_pair();
    let pair_vec: Vec<u64> = pair.iter().copied().collect();
    let (alone, t_end) = demo.alone(&pair, "encounter-pair");
    let is_pair = |s: &Situation| s.kind == "encounter" && s.vessels == pair_vec;
    let full_enc: BTreeSet<Situation> = demo
        .full
        .situations()
        .into_iter()
        .filter(|s| is_pair(s))
        .collect();
    let alone_enc: BTreeSet<Situation> = alone
        .situations()
        .into_iter()
        .filter(|s| is_pair(s))
        .collect();
    let mut failures = Vec::new();
    if full_enc.is_empty() {
        let theirs: Vec<String> = demo
            .full
            .situations()
            .iter()
            .filter(|s| s.vessels.iter().any(|m| pair.contains(m)))
            .map(ToString::to_string)
            .collect();
        failures.push(format!(
            "lookout replay raised no encounter for the scripted pair {pair_vec:?} \
             (alongside at 34.9N 15.2E from 06:20 for 45 min); their alerts: {theirs:?}"
        ));
    }
    if alone_enc.is_empty() {
        failures.push(format!(
            "the pair {pair_vec:?} replayed alone raised no encounter; alerts alone: {:?}",
            alone
                .situations()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        ));
    }
    let full_as_of: BTreeSet<Situation> = full_enc.iter().filter_map(|s| s.as_of(t_end)).collect();
    if let Some(d) = diff(
        "with all traffic",
        &full_as_of,
        "the pair alone",
        &alone_enc,
    ) {
        failures.push(d);
    }
    for s in full_enc.iter().chain(&alone_enc) {
        if !(START_MS + 20 * MIN..=START_MS + 65 * MIN).contains(&s.raised_ms) {
            failures.push(format!(
                "{s}: raised outside the time the two are alongside (06:20 to 07:05)"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every rule, vessel by vessel: the lines of the vessels of each alert
/// situation, replayed with no other traffic, give the same situations for
/// those vessels as the full recording (up to their last message).
#[test]
fn every_alert_situation_is_the_same_with_its_vessels_alone() {
    let demo = demo();
    let groups: BTreeSet<Vec<u64>> = demo
        .full
        .situations()
        .iter()
        .map(|s| s.vessels.clone())
        .collect();
    assert!(groups.len() > 20, "{} vessel groups", groups.len());
    let mut failures = Vec::new();
    let mut checked = BTreeMap::<String, usize>::new();
    for g in &groups {
        let vessels = set(g);
        let name = format!(
            "alone-{}",
            g.iter().map(u64::to_string).collect::<Vec<_>>().join("-")
        );
        let (alone, t_end) = demo.alone(&vessels, &name);
        let expected = demo.full_as_of(&vessels, t_end);
        for s in &expected {
            *checked.entry(s.kind.clone()).or_default() += 1;
        }
        let got: BTreeSet<Situation> = alone
            .situations()
            .into_iter()
            .filter_map(|s| s.as_of(t_end))
            .collect();
        if let Some(d) = diff("with all traffic", &expected, "alone", &got) {
            failures.push(format!(
                "vessels {g:?} (last message {}): {d}",
                fmt_ms(t_end)
            ));
        }
    }
    eprintln!("situations compared alone, by kind: {checked:?}");
    assert!(
        failures.is_empty(),
        "{} of {} vessel groups raise different alerts alone:\n{}",
        failures.len(),
        groups.len(),
        failures.join("\n")
    );
}
