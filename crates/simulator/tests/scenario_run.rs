//! The simulator's output, checked by decoding it with Lookout's own decoder:
//! deterministic, valid AIS, ITU reporting intervals, and every scripted
//! situation present with the properties the alert rules look for.

use lookout_ais::identity::{station_kind, StationKind};
use lookout_ais::messages::Body;
use lookout_ais::{Decoder, DecoderOptions};
use simulator::engine::separation_m;
use simulator::{Scenario, Simulator};
use std::collections::HashMap;

const H: i64 = 3_600_000;

struct Report {
    t: i64,
    mmsi: u32,
    msg_type: u8,
    pos: Option<(f64, f64)>,
    sog: Option<f64>,
    status: Option<u8>,
    text: Option<String>,
}

fn run(scenario: &Scenario, ms: i64) -> (Vec<String>, Vec<Report>) {
    let mut sim = Simulator::new(scenario).unwrap();
    let mut lines = Vec::new();
    sim.run_for(ms, |_, l| lines.push(l.to_string()));
    let mut d = Decoder::new(DecoderOptions::default());
    let mut reports = Vec::new();
    for l in &lines {
        d.decode_line(l.as_bytes(), |m| {
            let (sog, status) = match &m.message.body {
                Body::Position(p) => (p.speed, Some(p.status)),
                Body::ClassBPosition(p) => (p.speed, None),
                _ => (None, None),
            };
            let text = match &m.message.body {
                Body::SafetyBroadcast { text } => Some(text.clone()),
                _ => None,
            };
            reports.push(Report {
                t: m.time_ms(None).unwrap(),
                mmsi: m.message.mmsi,
                msg_type: m.message.msg_type,
                pos: m.message.position(),
                sog,
                status,
                text,
            });
        })
        .unwrap_or_else(|e| panic!("{e}: {l}"));
    }
    assert_eq!(d.stats().total_errors(), 0);
    assert_eq!(d.stats().orphaned_groups, 0);
    (lines, reports)
}

#[test]
fn same_scenario_same_bytes() {
    let s = Scenario::demo();
    let (a, _) = run(&s, 10 * 60_000);
    let (b, _) = run(&s, 10 * 60_000);
    assert_eq!(a, b);
    let mut other = s.clone();
    other.seed += 1;
    let (c, _) = run(&other, 10 * 60_000);
    assert_ne!(a, c);
}

#[test]
fn output_is_time_ordered_with_tag_blocks() {
    let (lines, reports) = run(&Scenario::demo(), 15 * 60_000);
    assert!(lines.iter().all(|l| l.starts_with("\\s:sim,c:")));
    assert!(lines.iter().all(|l| l.len() < 120));
    assert!(reports.windows(2).all(|w| w[0].t <= w[1].t));
    let start = Scenario::demo().start_ms().unwrap();
    assert!(reports.first().unwrap().t >= start);
    assert!(reports.last().unwrap().t < start + 15 * 60_000);
}

#[test]
fn reporting_intervals_follow_itu() {
    let (_, reports) = run(&Scenario::demo(), 30 * 60_000);
    let mut by_mmsi: HashMap<u32, Vec<&Report>> = HashMap::new();
    for r in reports.iter().filter(|r| matches!(r.msg_type, 1 | 18)) {
        by_mmsi.entry(r.mmsi).or_default().push(r);
    }
    let mut checked_a = 0;
    let mut checked_b = 0;
    for rs in by_mmsi.values() {
        for w in rs.windows(2) {
            let gap = w[1].t - w[0].t;
            let sog = w[0].sog.unwrap_or(0.0);
            match w[0].msg_type {
                1 if w[0].status == Some(0) && (3.0..=13.8).contains(&sog) => {
                    // Moving class A, 0-14 kn: 10 s (TAG time has 1 s resolution).
                    assert!(
                        (9_000..=11_000).contains(&gap),
                        "class A {sog} kn gap {gap}"
                    );
                    checked_a += 1;
                }
                1 if w[0].status == Some(0) && sog > 14.5 && sog < 22.5 => {
                    assert!((5_000..=7_000).contains(&gap), "class A {sog} kn gap {gap}");
                }
                18 if sog > 2.5 => {
                    assert!((29_000..=31_000).contains(&gap), "class B gap {gap}");
                    checked_b += 1;
                }
                _ => {}
            }
        }
    }
    assert!(
        checked_a > 1000 && checked_b > 100,
        "{checked_a} {checked_b}"
    );
    // Static data every 6 minutes: type 5 for class A, 24 A+B for class B.
    let t5 = reports.iter().filter(|r| r.msg_type == 5).count();
    let t24 = reports.iter().filter(|r| r.msg_type == 24).count();
    assert!(t5 > 500 && t24 > 100, "{t5} {t24}");
}

#[test]
fn scripted_situations_happen() {
    let s = Scenario::demo();
    let start = s.start_ms().unwrap();
    let (_, reports) = run(&s, 2 * H);

    // SART: active (status 14 and "SART ACTIVE") from 20 min, and a test
    // beacon (status 15, "SART TEST") from 5 min that stops.
    let sart: Vec<_> = reports
        .iter()
        .filter(|r| station_kind(r.mmsi, r.msg_type) == StationKind::AisSart)
        .collect();
    assert!(sart
        .iter()
        .any(|r| r.status == Some(14) && r.t >= start + 20 * 60_000));
    assert!(sart
        .iter()
        .any(|r| r.text.as_deref() == Some("SART ACTIVE")));
    assert!(sart.iter().any(|r| r.status == Some(15)));
    assert!(sart.iter().any(|r| r.text.as_deref() == Some("SART TEST")));
    let last_test = sart
        .iter()
        .filter(|r| r.status == Some(15))
        .map(|r| r.t)
        .max()
        .unwrap();
    assert!(last_test < start + 11 * 60_000);

    // Going dark: some vessel near (12.75E, 35.35N) reports before 40 min
    // and never after.
    let mut last_seen: HashMap<u32, (i64, (f64, f64))> = HashMap::new();
    for r in &reports {
        if let Some(p) = r.pos {
            last_seen.insert(r.mmsi, (r.t, p));
        }
    }
    let dark = last_seen.values().filter(|(t, p)| {
        *t < start + 40 * 60_000
            && *t > start + 35 * 60_000
            && separation_m(*p, (35.35, 12.75)) < 10_000.0
    });
    assert!(dark.count() >= 1, "a vessel went dark near the point");

    // Loitering: a vessel under 2 kn within 1 km of (12.2E, 34.8N) for 60+ min.
    let loiterers = slow_near(&reports, (34.8, 12.2), 2.0, 1_000.0);
    assert!(
        loiterers.values().any(|(a, b)| b - a >= 60 * 60_000),
        "{loiterers:?}"
    );

    // Encounter: two vessels within 500 m, both under 3 kn, for 30+ min.
    let pair = slow_near(&reports, (34.9, 15.2), 3.0, 600.0);
    let long: Vec<_> = pair
        .iter()
        .filter(|(_, (a, b))| b - a >= 30 * 60_000)
        .collect();
    assert!(long.len() >= 2, "{pair:?}");
}

/// For each MMSI: first and last time it was under `kn` within `radius_m`
/// of `point` (lat, lon), counting only unbroken runs.
fn slow_near(
    reports: &[Report],
    point: (f64, f64),
    kn: f64,
    radius_m: f64,
) -> HashMap<u32, (i64, i64)> {
    let mut runs: HashMap<u32, (i64, i64)> = HashMap::new();
    let mut best: HashMap<u32, (i64, i64)> = HashMap::new();
    for r in reports.iter().filter(|r| r.msg_type == 1) {
        let (Some(p), Some(sog)) = (r.pos, r.sog) else {
            continue;
        };
        if sog < kn && separation_m(p, point) < radius_m {
            let e = runs.entry(r.mmsi).or_insert((r.t, r.t));
            e.1 = r.t;
            let b = best.entry(r.mmsi).or_insert(*e);
            if e.1 - e.0 > b.1 - b.0 {
                *b = *e;
            }
        } else {
            runs.remove(&r.mmsi);
        }
    }
    best
}

#[test]
fn scales_to_a_hundred_thousand_vessels() {
    let mut s = Scenario::demo();
    for f in &mut s.fleets {
        f.count *= 400; // ~100k vessels
    }
    let mut sim = Simulator::new(&s).unwrap();
    assert!(sim.stations() >= 100_000);
    let mut n = 0u64;
    sim.run_for(20_000, |_, _| n += 1);
    assert!(n > 100_000, "{n} lines in 20 s of traffic");
}
