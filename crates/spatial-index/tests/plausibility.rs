//! Implausible input is flagged, not silently applied.

mod common;

use common::*;
use spatial_index::{Event, Flag, VesselFlags, ZoneIndex};

fn flags(events: &[Event]) -> Vec<Flag> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::VesselFlagged { flag, .. } => Some(flag.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_jump_over_60_knots_is_held_and_flagged() {
    let mut f = Feed::new(ZoneIndex::empty());
    let m = 247_000_001;
    f.send(pos_a(m, 35.0, 14.0, 12.0, 0), T0);
    // 10 s later, 6 nm away: 2160 kn.
    f.send(pos_a(m, 35.1, 14.0, 12.0, 0), T0 + 10_000);
    let v = f.picture.vessel(m).unwrap();
    assert_eq!(v.position.unwrap().lat, 35.0, "position not applied");
    assert!(v.flags.contains(VesselFlags::IMPLAUSIBLE_JUMP));
    assert_eq!(v.implausible_jumps, 1);
    let ev = f.events();
    let fl = flags(&ev);
    assert_eq!(fl.len(), 1);
    let Flag::ImplausibleJump {
        knots,
        seconds,
        to_lat,
        ..
    } = fl[0]
    else {
        panic!("{fl:?}")
    };
    assert!(knots > 2000.0 && knots < 2200.0, "{knots}");
    assert_eq!((seconds, to_lat), (10.0, 35.1));
    // The update event reports the old position, unchanged.
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::VesselUpdated {
            position_changed: false,
            lat: Some(35.0),
            ..
        }
    )));
    // The vessel keeps reporting where it was: plausible, flag cleared.
    f.send(pos_a(m, 35.0005, 14.0, 12.0, 0), T0 + 20_000);
    let v = f.picture.vessel(m).unwrap();
    assert_eq!(v.position.unwrap().lat, 35.0005);
    assert!(!v.flags.contains(VesselFlags::IMPLAUSIBLE_JUMP));
    assert_eq!(f.picture.stats().implausible_jumps, 1);
}

#[test]
fn a_confirmed_jump_is_applied() {
    // The first fix was wrong (or the vessel really is elsewhere): two
    // consistent reports at the new place move it.
    let mut f = Feed::new(ZoneIndex::empty());
    let m = 247_000_002;
    f.send(pos_a(m, 40.0, 5.0, 12.0, 0), T0);
    f.send(pos_a(m, 35.0, 14.0, 12.0, 0), T0 + 10_000);
    assert_eq!(f.picture.vessel(m).unwrap().position.unwrap().lat, 40.0);
    f.send(pos_a(m, 35.0005, 14.0, 12.0, 0), T0 + 20_000);
    let v = f.picture.vessel(m).unwrap();
    assert_eq!(v.position.unwrap().lat, 35.0005);
    assert!(!v.flags.contains(VesselFlags::IMPLAUSIBLE_JUMP));
    assert_eq!(f.picture.stats().confirmed_jumps, 1);
    // And it is found at the new place.
    assert_eq!(f.picture.nearest(35.0, 14.0, 1)[0].0.mmsi, m);
}

#[test]
fn two_ships_sharing_an_mmsi_keep_being_flagged() {
    let mut f = Feed::new(ZoneIndex::empty());
    let m = 247_000_003;
    for k in 0..10 {
        let (lat, lon) = if k % 2 == 0 {
            (35.0, 14.0)
        } else {
            (37.0, 15.0)
        };
        f.send(pos_a(m, lat, lon, 10.0, 0), T0 + k * 10_000);
    }
    assert_eq!(f.picture.vessel(m).unwrap().implausible_jumps, 5);
    assert_eq!(f.picture.vessel(m).unwrap().position.unwrap().lat, 35.0);
}

#[test]
fn sar_aircraft_are_exempt() {
    let mut f = Feed::new(ZoneIndex::empty());
    let m = 111_247_001;
    f.send(sar(m, 35.0, 14.0, 150, 300), T0);
    // 10 nm in 4 minutes: 150 kn.
    f.send(sar(m, 35.0 + 10.0 / 60.0, 14.0, 150, 300), T0 + 240_000);
    let v = f.picture.vessel(m).unwrap();
    assert!((v.position.unwrap().lat - 35.1667).abs() < 1e-3);
    assert!(v.flags.is_empty());
}

#[test]
fn just_under_and_over_the_limit() {
    let mut f = Feed::new(ZoneIndex::empty());
    let (a, b) = (247_000_004, 247_000_005);
    // 55 kn for 6 minutes = 5.5 nm (+ the 200 m slack allowance).
    f.send(pos_a(a, 35.0, 14.0, 50.0, 0), T0);
    f.send(pos_a(a, 35.0 + 5.5 / 60.0, 14.0, 50.0, 0), T0 + 360_000);
    assert!(f.picture.vessel(a).unwrap().flags.is_empty());
    // 65 kn for 6 minutes.
    f.send(pos_a(b, 35.0, 14.0, 50.0, 0), T0);
    f.send(pos_a(b, 35.0 + 6.5 / 60.0, 14.0, 50.0, 0), T0 + 360_000);
    assert!(f
        .picture
        .vessel(b)
        .unwrap()
        .flags
        .contains(VesselFlags::IMPLAUSIBLE_JUMP));
}

#[test]
fn unavailable_and_null_island_positions() {
    let mut f = Feed::new(ZoneIndex::empty());
    let m = 247_000_006;
    f.send(pos_a_unavailable(m, 7.0), T0);
    let v = f.picture.vessel(m).unwrap();
    assert!(v.position.is_none());
    assert!(v.flags.contains(VesselFlags::POSITION_UNAVAILABLE));
    // Kinematics of the report still count.
    assert_eq!(v.sog_kn, Some(7.0));
    // Not on the map.
    assert!(f.picture.nearest(0.0, 0.0, 5).is_empty());
    // Flagged once, not on every report.
    f.send(pos_a_unavailable(m, 7.0), T0 + 10_000);
    assert_eq!(flags(&f.events()), vec![Flag::PositionUnavailable]);

    let n = 247_000_007;
    f.send(pos_a(n, 0.0, 0.0, 0.0, 0), T0);
    let v = f.picture.vessel(n).unwrap();
    assert!(v.position.is_none());
    assert!(v.flags.contains(VesselFlags::NULL_ISLAND));
    assert_eq!(flags(&f.events()), vec![Flag::NullIsland]);
    // A good fix clears the flags.
    f.send(pos_a(n, 35.0, 14.0, 0.0, 0), T0 + 10_000);
    assert!(f.picture.vessel(n).unwrap().flags.is_empty());
    assert_eq!(f.picture.stats().position_unavailable, 3);
}

#[test]
fn invalid_mid_is_kept_and_marked() {
    let mut f = Feed::new(ZoneIndex::empty());
    // MID 123 is not allocated.
    f.send(pos_a(123_456_789, 35.0, 14.0, 5.0, 0), T0);
    let v = f.picture.vessel(123_456_789).expect("kept");
    assert!(v.flags.contains(VesselFlags::INVALID_MMSI));
    assert!(v.position.is_some());
    let ev = f.events();
    assert!(
        matches!(&ev[0], Event::VesselNew { flags, .. } if flags.contains(VesselFlags::INVALID_MMSI))
    );
    assert_eq!(flags(&ev), vec![Flag::InvalidMmsi]);
    let j = serde_json::to_value(f.picture.vessel(123_456_789).unwrap()).unwrap();
    assert_eq!(j["flags"], serde_json::json!(["invalid_mmsi"]));
    // Distress devices have no MID and are valid.
    f.send(pos_a(970_123_456, 35.0, 14.0, 0.0, 14), T0);
    assert!(f.picture.vessel(970_123_456).unwrap().flags.is_empty());
}

#[test]
fn out_of_order_positions_do_not_move_the_vessel() {
    let mut f = Feed::new(ZoneIndex::empty());
    let m = 247_000_008;
    f.send(pos_a(m, 35.01, 14.0, 12.0, 0), T0 + 20_000);
    f.send(pos_a(m, 35.00, 14.0, 12.0, 0), T0 + 10_000);
    let v = f.picture.vessel(m).unwrap();
    assert_eq!(v.position.unwrap().lat, 35.01);
    assert_eq!(v.last_seen_ms, T0 + 20_000);
    assert_eq!(f.picture.stats().out_of_order, 1);
}
