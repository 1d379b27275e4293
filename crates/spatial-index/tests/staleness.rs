//! Staleness transitions under replayed (message) time.

mod common;

use common::*;
use spatial_index::{Event, VesselState, ZoneIndex};

/// (event name, mmsi, time) of the liveness events.
fn transitions(events: &[Event]) -> Vec<(&'static str, u32, i64)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::VesselStale { mmsi, time_ms, .. } => Some(("stale", *mmsi, *time_ms)),
            Event::VesselLost { mmsi, time_ms, .. } => Some(("lost", *mmsi, *time_ms)),
            Event::VesselRemoved { mmsi, time_ms, .. } => Some(("removed", *mmsi, *time_ms)),
            Event::VesselActive { mmsi, time_ms, .. } => Some(("active", *mmsi, *time_ms)),
            _ => None,
        })
        .collect()
}

/// Advance in 30 s steps to `until`, collecting events.
fn run_clock(f: &mut Feed, from: i64, until: i64) -> Vec<Event> {
    let mut out = Vec::new();
    let mut t = from;
    while t <= until {
        f.picture.advance_time(t);
        out.extend(f.events());
        t += 30_000;
    }
    out
}

#[test]
fn moving_class_a_goes_stale_lost_removed() {
    let mut f = Feed::new(ZoneIndex::empty());
    let m = 247_000_001;
    let mut t = T0;
    for k in 0..30 {
        f.send(pos_a(m, 35.0 + k as f64 * 0.0005, 14.0, 12.0, 0), t);
        t += 10_000;
    }
    let last = t - 10_000;
    f.events();
    let ev = run_clock(&mut f, last, last + 2 * 3_600_000);
    assert_eq!(
        transitions(&ev),
        vec![
            ("stale", m, last + 3 * MIN),
            ("lost", m, last + 10 * MIN),
            ("removed", m, last + 60 * MIN),
        ]
    );
    assert!(f.picture.vessel(m).is_none());
    assert!(f.picture.is_empty());
}

#[test]
fn state_is_visible_on_the_record() {
    let mut f = Feed::new(ZoneIndex::empty());
    let m = 247_000_001;
    f.send(pos_a(m, 35.0, 14.0, 12.0, 0), T0);
    f.picture.advance_time(T0 + 2 * MIN);
    assert_eq!(f.picture.vessel(m).unwrap().state, VesselState::Active);
    f.picture.advance_time(T0 + 4 * MIN);
    assert_eq!(f.picture.vessel(m).unwrap().state, VesselState::Stale);
    f.picture.advance_time(T0 + 11 * MIN);
    assert_eq!(f.picture.vessel(m).unwrap().state, VesselState::Lost);
}

#[test]
fn anchored_and_class_b_last_longer() {
    let mut f = Feed::new(ZoneIndex::empty());
    let (anch, bfast, bslow) = (247_000_002, 247_000_003, 247_000_004);
    f.send(pos_a(anch, 35.0, 14.0, 0.1, 1), T0);
    f.send(pos_b(bfast, 35.1, 14.0, 8.0), T0);
    f.send(pos_b(bslow, 35.2, 14.0, 0.5), T0);
    f.events();
    let ev = run_clock(&mut f, T0, T0 + 2 * 3_600_000);
    let mut tr = transitions(&ev);
    tr.sort_by_key(|t| (t.1, t.2));
    assert_eq!(
        tr,
        vec![
            ("stale", anch, T0 + 10 * MIN),
            ("lost", anch, T0 + 30 * MIN),
            ("removed", anch, T0 + 60 * MIN),
            ("stale", bfast, T0 + 5 * MIN),
            ("lost", bfast, T0 + 20 * MIN),
            ("removed", bfast, T0 + 60 * MIN),
            ("stale", bslow, T0 + 10 * MIN),
            ("lost", bslow, T0 + 30 * MIN),
            ("removed", bslow, T0 + 60 * MIN),
        ]
    );
}

#[test]
fn a_report_brings_a_stale_vessel_back() {
    let mut f = Feed::new(ZoneIndex::empty());
    let m = 247_000_005;
    f.send(pos_a(m, 35.0, 14.0, 12.0, 0), T0);
    f.picture.advance_time(T0 + 5 * MIN);
    f.send(pos_a(m, 35.01, 14.0, 12.0, 0), T0 + 6 * MIN);
    let ev = f.events();
    assert_eq!(
        transitions(&ev),
        vec![("stale", m, T0 + 3 * MIN), ("active", m, T0 + 6 * MIN)]
    );
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::VesselActive {
            was: VesselState::Stale,
            ..
        }
    )));
    // The next stale time follows the new report, not the old one.
    let ev = run_clock(&mut f, T0 + 6 * MIN, T0 + 12 * MIN);
    assert_eq!(transitions(&ev), vec![("stale", m, T0 + 9 * MIN)]);
    // Back from lost too.
    f.picture.advance_time(T0 + 20 * MIN);
    f.send(pos_a(m, 35.02, 14.0, 12.0, 0), T0 + 21 * MIN);
    assert!(f.events().iter().any(|e| matches!(
        e,
        Event::VesselActive {
            was: VesselState::Lost,
            ..
        }
    )));
}

#[test]
fn other_vessels_messages_drive_the_clock() {
    // No advance_time at all: the busy vessel's reports move message time.
    let mut f = Feed::new(ZoneIndex::empty());
    let (quiet, busy) = (247_000_006, 247_000_007);
    f.send(pos_a(quiet, 35.0, 14.0, 12.0, 0), T0);
    let mut ev = Vec::new();
    for k in 1..=70 {
        f.send(
            pos_a(busy, 36.0 + k as f64 * 0.0005, 14.0, 12.0, 0),
            T0 + k * 10_000,
        );
        ev.extend(f.events());
    }
    assert_eq!(
        transitions(&ev),
        vec![
            ("stale", quiet, T0 + 3 * MIN),
            ("lost", quiet, T0 + 10 * MIN)
        ]
    );
}

#[test]
fn one_big_step_emits_every_transition_in_order() {
    let mut f = Feed::new(shipped_zones());
    let m = 247_000_008;
    // In the Malta SRR, the Triton area and the EUNAVFOR MED area.
    f.send(pos_a(m, 35.0, 14.0, 12.0, 0), T0);
    f.events();
    f.picture.advance_time(T0 + 5 * 3_600_000);
    let ev = f.events();
    let n = names(&ev);
    assert_eq!(
        n,
        vec![
            "vessel_stale",
            "vessel_lost",
            "zone_left:malta_srr",
            "zone_left:frontex_triton",
            "zone_left:eunavfor_med",
            "vessel_removed"
        ]
    );
    assert_eq!(ev[2].time_ms(), T0 + 60 * MIN);
    assert_eq!(f.picture.in_zone("malta_srr").unwrap().len(), 0);
}

#[test]
fn category_changes_reschedule() {
    let mut f = Feed::new(ZoneIndex::empty());
    let m = 247_000_009;
    // Moving, then anchoring: the longer anchored thresholds apply.
    f.send(pos_a(m, 35.0, 14.0, 10.0, 0), T0);
    f.send(pos_a(m, 35.0, 14.0, 0.0, 1), T0 + MIN);
    let ev = run_clock(&mut f, T0 + MIN, T0 + 40 * MIN);
    assert_eq!(
        transitions(&ev),
        vec![("stale", m, T0 + 11 * MIN), ("lost", m, T0 + 31 * MIN)]
    );
    // Anchored, then getting under way: the shorter ones.
    let n = 247_000_010;
    f.send(pos_a(n, 36.0, 14.0, 0.0, 1), T0 + 40 * MIN);
    f.send(pos_a(n, 36.0, 14.0, 9.0, 0), T0 + 41 * MIN);
    let ev = run_clock(&mut f, T0 + 41 * MIN, T0 + 52 * MIN);
    let tr: Vec<_> = transitions(&ev).into_iter().filter(|t| t.1 == n).collect();
    assert_eq!(
        tr,
        vec![("stale", n, T0 + 44 * MIN), ("lost", n, T0 + 51 * MIN)]
    );
}

#[test]
fn custom_removal_time() {
    let cfg = spatial_index::PictureConfig {
        staleness: spatial_index::staleness::StalenessPolicy {
            remove_after_ms: 15 * MIN,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut f = Feed::with_config(cfg, ZoneIndex::empty());
    f.send(pos_a(247_000_011, 35.0, 14.0, 12.0, 0), T0);
    let ev = run_clock(&mut f, T0, T0 + 20 * MIN);
    assert_eq!(
        transitions(&ev).last().unwrap(),
        &("removed", 247_000_011, T0 + 15 * MIN)
    );
    // A removed MMSI heard again is a new vessel.
    f.send(pos_a(247_000_011, 35.0, 14.0, 12.0, 0), T0 + 21 * MIN);
    assert!(matches!(f.events()[0], Event::VesselNew { .. }));
}
