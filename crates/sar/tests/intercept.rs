//! Intercept ranking against hand-computed cases. Positions are laid out
//! with great-circle `destination` from the target, so distances are exact
//! and the expected times are plain arithmetic (distance / closing speed,
//! or the quadratic solved by hand).

use sar::geo::{bearing_deg, destination, distance_nm, LatLon};
use sar::intercept::{intercept, rank, InterceptModel, Pursuer, Target};

const BOAT: LatLon = LatLon::new(35.0, 13.0);
const HOUR: i64 = 3_600_000;

fn instant_turns() -> InterceptModel {
    InterceptModel {
        turn_rate_deg_per_min: None,
        ..Default::default()
    }
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[test]
fn a_fast_ship_farther_away_beats_a_slow_one_nearer() {
    let target = Target::fixed(BOAT, 0);
    // 10 NM at 5 kn = 120 min; 30 NM at 20 kn = 90 min; 60 NM at 12 kn = 300 min.
    let slow_near = Pursuer::new(destination(BOAT, 0.0, 10.0), 0, 5.0, None);
    let fast_far = Pursuer::new(destination(BOAT, 180.0, 30.0), 0, 20.0, None);
    let far = Pursuer::new(destination(BOAT, 90.0, 60.0), 0, 12.0, None);
    let r = rank(
        &[target],
        vec![(1, slow_near), (2, fast_far), (3, far)],
        0,
        &instant_turns(),
        10,
    );
    let keys: Vec<_> = r.iter().map(|x| x.key).collect();
    assert_eq!(keys, vec![2, 1, 3]);
    let mins: Vec<f64> = r.iter().map(|x| x.intercept.unwrap().minutes).collect();
    assert!(
        close(mins[0], 90.0, 1e-6) && close(mins[1], 120.0, 1e-6) && close(mins[2], 300.0, 1e-6),
        "{mins:?}"
    );
    assert!(close(r[0].distance_nm, 30.0, 1e-6));
    // The nearest is not the first: plain distance would have ranked 1 first.
    assert!(r[1].distance_nm < r[0].distance_nm);
    // Steer straight at a fixed target.
    assert!(close(r[0].intercept.unwrap().steer_deg, 0.0, 1e-6));
}

#[test]
fn a_target_drifting_towards_a_vessel_is_reached_sooner_than_one_drifting_away() {
    let ship = Pursuer::new(destination(BOAT, 0.0, 20.0), 0, 10.0, None);
    // Towards: closing 10 + 2 = 12 kn over 20 NM = 100 min.
    let towards = Target::drifting(BOAT, 0, 0.0, 2.0);
    let x = intercept(&towards, &ship, 0, &instant_turns()).unwrap();
    assert!(close(x.minutes, 100.0, 1e-6), "{}", x.minutes);
    // The meeting point is 2 kn × 100 min = 3.333 NM north of the start.
    assert!(close(distance_nm(BOAT, x.point), 10.0 / 3.0, 1e-6));
    // Away: closing 10 − 2 = 8 kn = 150 min.
    let away = Target::drifting(BOAT, 0, 180.0, 2.0);
    let y = intercept(&away, &ship, 0, &instant_turns()).unwrap();
    assert!(close(y.minutes, 150.0, 1e-6), "{}", y.minutes);
    assert!(close(y.steer_deg, 180.0, 1e-6));
}

#[test]
fn a_crossing_target_is_led_not_chased() {
    // Target moving east at 6 kn; ship 10 NM south at 10 kn.
    // |(6t, 10)| = 10t → 36t² + 100 = 100t² → t = 1.25 h = 75 min;
    // meeting point 7.5 NM east of the start; steer atan(7.5/10) = 36.87°.
    let target = Target::drifting(BOAT, 0, 90.0, 6.0);
    let ship = Pursuer::new(destination(BOAT, 180.0, 10.0), 0, 10.0, Some(0.0));
    let x = intercept(&target, &ship, 0, &instant_turns()).unwrap();
    assert!(close(x.minutes, 75.0, 0.05), "{}", x.minutes);
    assert!(close(distance_nm(BOAT, x.point), 7.5, 0.01));
    assert!(close(bearing_deg(BOAT, x.point), 90.0, 0.05));
    assert!(close(x.steer_deg, 36.87, 0.1), "{}", x.steer_deg);
    assert!(close(x.turn_deg, 36.87, 0.1));
}

#[test]
fn a_slower_vessel_catches_only_what_comes_towards_it() {
    // 5 kn ship, 20 NM north; target at 6 kn.
    let ship = Pursuer::new(destination(BOAT, 0.0, 20.0), 0, 5.0, None);
    let away = Target::drifting(BOAT, 0, 180.0, 6.0);
    assert!(intercept(&away, &ship, 0, &instant_turns()).is_none());
    // Towards: head-on closing 11 kn: 20/11 h.
    let towards = Target::drifting(BOAT, 0, 0.0, 6.0);
    let x = intercept(&towards, &ship, 0, &instant_turns()).unwrap();
    assert!(close(x.minutes, 20.0 / 11.0 * 60.0, 1e-6), "{}", x.minutes);
}

#[test]
fn stopped_vessels_never_intercept_and_rank_last_by_distance() {
    let target = Target::fixed(BOAT, 0);
    let anchored_near = Pursuer::new(destination(BOAT, 0.0, 1.0), 0, 0.0, None);
    let anchored_far = Pursuer::new(destination(BOAT, 0.0, 5.0), 0, 0.1, Some(90.0));
    let slow = Pursuer::new(destination(BOAT, 0.0, 50.0), 0, 1.0, None);
    let r = rank(
        &[target],
        vec![
            ("far", anchored_far),
            ("near", anchored_near),
            ("slow", slow),
        ],
        0,
        &instant_turns(),
        10,
    );
    assert_eq!(
        r.iter().map(|x| x.key).collect::<Vec<_>>(),
        vec!["slow", "near", "far"]
    );
    assert!(close(r[0].intercept.unwrap().minutes, 3000.0, 1e-6));
    assert!(r[1].intercept.is_none() && r[2].intercept.is_none());
    // A stopped vessel already at the position is there.
    let on_top = Pursuer::new(BOAT, 0, 0.0, None);
    assert_eq!(
        intercept(&target, &on_top, 0, &instant_turns())
            .unwrap()
            .minutes,
        0.0
    );
    // k limits the answer.
    assert_eq!(
        rank(
            &[target],
            vec![(1, slow), (2, on_top)],
            0,
            &instant_turns(),
            1
        )
        .len(),
        1
    );
}

#[test]
fn drift_since_the_sighting_and_dead_reckoning_bring_both_to_now() {
    // Sighted 1 h ago drifting south at 3 kn: now 3 NM south of the sighting.
    let target = Target::drifting(BOAT, 0, 180.0, 3.0);
    // Ship reported 6 min ago 14 NM south, heading north at 10 kn: now 13 NM
    // south of the sighting = 10 NM from the target, closing 13 kn.
    let ship = Pursuer::new(
        destination(BOAT, 180.0, 14.0),
        HOUR - 360_000,
        10.0,
        Some(0.0),
    );
    let x = intercept(&target, &ship, HOUR, &instant_turns()).unwrap();
    assert!(close(x.minutes, 10.0 / 13.0 * 60.0, 1e-6), "{}", x.minutes);
    // A report older than the dead-reckoning limit is moved 10 min only.
    let old = Pursuer::new(destination(BOAT, 180.0, 14.0), 0, 10.0, Some(0.0));
    let y = intercept(&Target::fixed(BOAT, 0), &old, HOUR, &instant_turns()).unwrap();
    // 14 − 10 kn × 10 min = 12.333 NM at 10 kn = 74 min.
    assert!(close(y.minutes, 74.0, 1e-6), "{}", y.minutes);
}

#[test]
fn turning_around_costs_time_at_the_rate_of_turn() {
    let target = Target::fixed(BOAT, 0);
    // 10 NM north of the target at 10 kn.
    let heading_away = Pursuer::new(destination(BOAT, 0.0, 10.0), 0, 10.0, Some(0.0));
    let heading_there = Pursuer::new(destination(BOAT, 0.0, 10.0), 0, 10.0, Some(180.0));
    let model = InterceptModel {
        turn_rate_deg_per_min: Some(30.0),
        max_dead_reckoning_min: 0.0,
        ..Default::default()
    };
    // 180° at 30°/min = 6 min, then 60 min.
    let x = intercept(&target, &heading_away, 0, &model).unwrap();
    assert!(close(x.minutes, 66.0, 1e-6), "{}", x.minutes);
    assert!(close(x.turn_deg, 180.0, 1e-6));
    let y = intercept(&target, &heading_there, 0, &model).unwrap();
    assert!(close(y.minutes, 60.0, 1e-6));
    let r = rank(
        &[target],
        vec![("away", heading_away), ("there", heading_there)],
        0,
        &model,
        5,
    );
    assert_eq!(r[0].key, "there");
}

#[test]
fn with_several_targets_each_vessel_is_ranked_by_the_one_it_reaches_first() {
    let a = Target::fixed(BOAT, 0);
    let b = Target::fixed(destination(BOAT, 90.0, 100.0), 0);
    let ship = Pursuer::new(destination(BOAT, 90.0, 90.0), 0, 10.0, None);
    let r = rank(&[a, b], vec![("s", ship)], 0, &instant_turns(), 5);
    assert_eq!(r[0].target, 1);
    assert!(close(r[0].intercept.unwrap().minutes, 60.0, 1e-6));
}

#[test]
fn across_the_antimeridian() {
    let t = LatLon::new(-10.0, 179.95);
    let ship = Pursuer::new(destination(t, 90.0, 12.0), 0, 12.0, None);
    assert!(ship.pos.lon < 0.0);
    let x = intercept(&Target::fixed(t, 0), &ship, 0, &instant_turns()).unwrap();
    assert!(close(x.minutes, 60.0, 1e-6));
    assert!(close(x.steer_deg, 270.0, 0.1));
}
