//! Message time and duplicate suppression.

mod common;

use common::*;
use spatial_index::{Outcome, Picture, PictureConfig, ZoneIndex};

#[test]
fn same_sentence_from_several_receivers_counts_once() {
    let mut p = Picture::new(PictureConfig::default(), ZoneIndex::empty());
    let m = pos_a(247_000_001, 35.0, 14.0, 10.0, 0);
    let hash = 0xfeed_beef;
    // Heard by three receivers; their TAG clocks differ by up to 2 s.
    let a = decoded(m.clone(), hash, Some(1_700_000_000));
    let b = decoded(m.clone(), hash, Some(1_700_000_001));
    let c = decoded(m.clone(), hash, Some(1_699_999_998));
    assert_eq!(p.apply(&a, None), Outcome::Applied);
    assert_eq!(p.apply(&b, None), Outcome::Duplicate);
    assert_eq!(p.apply(&c, None), Outcome::Duplicate);
    assert_eq!(p.vessel(247_000_001).unwrap().messages, 1);
    assert_eq!(p.stats().duplicates, 2);
    // The same payload a minute later is a new report (e.g. an AtoN
    // repeating itself).
    let later = decoded(m, hash, Some(1_700_000_060));
    assert_eq!(p.apply(&later, None), Outcome::Applied);
    assert_eq!(p.vessel(247_000_001).unwrap().messages, 2);
    // Only one update event per counted report.
    let updates = p
        .events_mut()
        .drain()
        .filter(|e| matches!(e.event, spatial_index::Event::VesselUpdated { .. }))
        .count();
    assert_eq!(updates, 2);
}

#[test]
fn busy_stations_keep_their_distinct_reports() {
    // A base station sending several different messages within a second:
    // none of them is a duplicate, and copies of each still are.
    let mut p = Picture::new(PictureConfig::default(), ZoneIndex::empty());
    for k in 0..4u64 {
        let d = decoded(base(2_470_001, 35.0, 14.0), 100 + k, None);
        assert_eq!(p.apply(&d, Some(T0 + k as i64 * 100)), Outcome::Applied);
    }
    for k in 0..4u64 {
        let d = decoded(base(2_470_001, 35.0, 14.0), 100 + k, None);
        assert_eq!(p.apply(&d, Some(T0 + 900)), Outcome::Duplicate);
    }
    // Disabled.
    let cfg = PictureConfig {
        dedup_window_ms: 0,
        ..PictureConfig::default()
    };
    let mut p = Picture::new(cfg, ZoneIndex::empty());
    let d = decoded(base(2_470_001, 35.0, 14.0), 1, None);
    assert_eq!(p.apply(&d, Some(T0)), Outcome::Applied);
    assert_eq!(p.apply(&d, Some(T0)), Outcome::Applied);
}

#[test]
fn tag_time_wins_over_receive_time_and_no_wall_clock() {
    let mut p = Picture::new(PictureConfig::default(), ZoneIndex::empty());
    let d = decoded(
        pos_a(247_000_001, 35.0, 14.0, 10.0, 0),
        1,
        Some(1_600_000_000),
    );
    p.apply(&d, Some(T0));
    let v = p.vessel(247_000_001).unwrap();
    assert_eq!(v.last_seen_ms, 1_600_000_000_000);
    assert_eq!(v.position.unwrap().time_ms, 1_600_000_000_000);
    assert_eq!(p.now_ms(), Some(1_600_000_000_000));
    // Without a TAG time, the receive time.
    let d = decoded(pos_a(247_000_002, 35.0, 14.0, 10.0, 0), 2, None);
    p.apply(&d, Some(1_600_000_005_000));
    assert_eq!(
        p.vessel(247_000_002).unwrap().last_seen_ms,
        1_600_000_005_000
    );
    // Without either, the picture's clock — never the wall clock.
    let d = decoded(pos_a(247_000_003, 35.0, 14.0, 10.0, 0), 3, None);
    p.apply(&d, None);
    assert_eq!(
        p.vessel(247_000_003).unwrap().last_seen_ms,
        1_600_000_005_000
    );
    // A fresh picture with no time at all refuses.
    let mut fresh = Picture::new(PictureConfig::default(), ZoneIndex::empty());
    assert_eq!(fresh.apply(&d, None), Outcome::NoTime);
}

fn replay(lines: &[(i64, lookout_ais::messages::AisMessage, u64)]) -> Vec<String> {
    let mut p = Picture::new(PictureConfig::default(), shipped_zones());
    let mut out = Vec::new();
    for (t, m, h) in lines {
        p.apply(&decoded(m.clone(), *h, Some(*t)), None);
        out.extend(
            p.events_mut()
                .drain()
                .map(|e| serde_json::to_string(&e).unwrap()),
        );
    }
    p.advance_time(lines.last().unwrap().0 * 1000 + 3 * 3_600_000);
    out.extend(
        p.events_mut()
            .drain()
            .map(|e| serde_json::to_string(&e).unwrap()),
    );
    out
}

#[test]
fn replays_are_deterministic() {
    let mut lines = Vec::new();
    let mut rng = Rng(7);
    for k in 0..2_000i64 {
        let mmsi = 247_000_000 + (rng.next_u64() % 50) as u32;
        let lat = 35.0 + (mmsi % 50) as f64 * 0.02 + k as f64 * 1e-5;
        lines.push((
            1_700_000_000 + k,
            pos_a(mmsi, lat, 12.6, 8.0, 0),
            rng.next_u64(),
        ));
    }
    let a = replay(&lines);
    let b = replay(&lines);
    assert!(a.len() > 2_000);
    assert_eq!(a, b);
}

#[test]
fn absurd_future_time_is_refused_until_confirmed() {
    let mut p = Picture::new(PictureConfig::default(), ZoneIndex::empty());
    p.apply(
        &decoded(pos_a(247_000_001, 35.0, 14.0, 1.0, 0), 1, None),
        Some(T0),
    );
    // One receiver with a clock decades ahead must not age out everyone.
    let bad = decoded(
        pos_a(247_000_002, 35.0, 14.0, 1.0, 0),
        2,
        Some(4_000_000_000),
    );
    assert_eq!(p.apply(&bad, None), Outcome::TimeRejected);
    assert_eq!(p.now_ms(), Some(T0));
    assert!(p.vessel(247_000_001).is_some());
    // Interleaved with receivers in step, a bad clock never wins.
    for k in 0..500i64 {
        let good = decoded(
            pos_a(247_000_001, 35.0, 14.0, 1.0, 0),
            1000 + k as u64,
            None,
        );
        p.apply(&good, Some(T0 + 1_000 * (k + 1)));
        let bad = decoded(
            pos_a(247_000_002, 35.0, 14.0, 1.0, 0),
            5000 + k as u64,
            Some(4_000_000_000 + k),
        );
        assert_eq!(p.apply(&bad, None), Outcome::TimeRejected);
    }
    assert!(p.vessel(247_000_002).is_none());
    // A replay that really jumps a day ahead: after a run of messages the
    // clock follows.
    let mut last = Outcome::TimeRejected;
    for k in 0..100u64 {
        let d = decoded(
            pos_a(247_000_003, 35.0, 14.0, 1.0, 0),
            100 + k,
            Some(T0 / 1000 + 86_400 + k as i64),
        );
        last = p.apply(&d, None);
    }
    assert_eq!(last, Outcome::Applied);
    assert!(p.now_ms().unwrap() > T0 + 86_000_000);
    // The old record aged out along the way.
    assert!(p.vessel(247_000_001).is_none());
}

#[test]
fn reports_too_old_to_matter_create_nothing() {
    let mut p = Picture::new(PictureConfig::default(), ZoneIndex::empty());
    p.apply(
        &decoded(pos_a(247_000_001, 35.0, 14.0, 1.0, 0), 1, None),
        Some(T0),
    );
    let old = decoded(pos_a(247_000_002, 35.0, 14.0, 1.0, 0), 2, None);
    assert_eq!(
        p.apply(&old, Some(T0 - 2 * 3_600_000)),
        Outcome::TimeRejected
    );
    assert!(p.vessel(247_000_002).is_none());
}
