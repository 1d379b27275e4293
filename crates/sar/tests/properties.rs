//! Properties of the search-planning model over random inputs.

use proptest::prelude::*;
use sar::drift::{drift, Current, WindObs};
use sar::export::{nmea_checksum, to_gpx, to_kml, to_nmea};
use sar::geo::{distance_nm, LatLon, LocalFrame};
use sar::leeway::{category, table};
use sar::patterns::{generate, PatternKind, PatternRequest, Turn};

const H: i64 = 3_600_000;

/// A request at `csp` with first leg `h`, spacing (and sector radius) `s`,
/// `legs` legs, 12 kn, right turns.
fn request(kind: PatternKind, csp: LatLon, h: f64, s: f64, legs: u32) -> PatternRequest {
    PatternRequest {
        asset: Some(247_000_001),
        asset_name: None,
        pattern: kind,
        csp,
        first_leg_deg: h,
        spacing_nm: Some(s),
        sweep: None,
        legs: Some(legs),
        speed_kn: 12.0,
        start: 1_795_845_600_000,
        leg_length_nm: Some(5.0),
        radius_nm: Some(s),
        turn: Turn::Right,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Expanding square: legs S, S, 2S, 2S, …, each turned 90° the same
    /// way, times at the unit's speed.
    #[test]
    fn expanding_square_legs_and_turns(
        lat in -60.0f64..60.0, lon in -179.0f64..179.0, h in 0.0f64..360.0,
        s in 0.1f64..3.0, legs in 1u32..30, speed in 3.0f64..150.0, right in any::<bool>(),
    ) {
        let mut r = request(PatternKind::ExpandingSquare, LatLon::new(lat, lon), h, s, legs);
        r.speed_kn = speed;
        r.turn = if right { Turn::Right } else { Turn::Left };
        let p = generate(&r).unwrap();
        prop_assert_eq!(p.waypoints.len(), legs as usize + 1);
        let f = LocalFrame::new(p.csp);
        let xy: Vec<(f64, f64)> = p.waypoints.iter().map(|w| f.to_xy(w.position)).collect();
        let sign = if right { 1.0 } else { -1.0 };
        for i in 0..legs as usize {
            let (dx, dy) = (xy[i + 1].0 - xy[i].0, xy[i + 1].1 - xy[i].1);
            let want = s * (i / 2 + 1) as f64;
            prop_assert!((dx.hypot(dy) - want).abs() < 1e-6 * want.max(1.0));
            let brg = dx.atan2(dy).to_degrees();
            let expect = h + sign * 90.0 * i as f64;
            let diff = (brg - expect).rem_euclid(360.0);
            prop_assert!(diff.min(360.0 - diff) < 1e-6, "leg {} bearing {} vs {}", i, brg, expect);
        }
        let total: f64 = (0..legs).map(|i| s * f64::from(i / 2 + 1)).sum();
        prop_assert!((p.length_nm() - total).abs() < 1e-6 * total.max(1.0));
        let dur = (p.end_ms() - p.start_ms) as f64 / 3_600_000.0;
        prop_assert!((dur - total / speed).abs() < 1e-6 + 1.0 / 3_600_000.0);
        prop_assert!(p.waypoints.windows(2).all(|w| w[0].time_ms <= w[1].time_ms));
    }

    /// Every exported form is well-formed for any pattern.
    #[test]
    fn exports_are_well_formed(
        lat in -70.0f64..70.0, lon in -179.0f64..179.0, h in 0.0f64..360.0,
        s in 0.2f64..2.0, legs in 1u32..80, kind in 0usize..4, name in "[ -~]{0,20}",
    ) {
        let kinds = [PatternKind::ExpandingSquare, PatternKind::Sector, PatternKind::Parallel, PatternKind::TrackLine];
        let legs = if kinds[kind] == PatternKind::Sector { legs.min(9) } else { legs };
        let mut r = request(kinds[kind], LatLon::new(lat, lon), h, s, legs);
        r.asset_name = Some(name.clone());
        let p = generate(&r).unwrap();
        let gpx = to_gpx(&p);
        let doc = roxmltree::Document::parse(&gpx).unwrap();
        prop_assert_eq!(doc.descendants().filter(|n| n.has_tag_name("wpt")).count(), p.waypoints.len());
        let kml = to_kml(&p);
        let doc = roxmltree::Document::parse(&kml).unwrap();
        let first_name = doc.descendants().find(|n| n.has_tag_name("name")).and_then(|n| n.text()).unwrap_or("");
        prop_assert_eq!(first_name, p.title());
        for line in to_nmea(&p, &name) {
            prop_assert!(line.len() + 2 <= 82);
            prop_assert!(line.is_ascii());
            let (body, sum) = line[1..].split_once('*').unwrap();
            prop_assert_eq!(u8::from_str_radix(sum, 16).unwrap(), nmea_checksum(body));
            prop_assert!(!body.contains('$') && !body.contains('*'));
        }
    }

    /// With no wind the object moves with the current, plus at most the
    /// fits' offsets (which are not forced through zero), and the datums
    /// diverge by at most the crosswind offsets.
    #[test]
    fn calm_drift_is_the_current(
        set in 0.0f64..360.0, kn in 0.0f64..3.0, hours in 0i64..48, key in 0usize..32,
    ) {
        let obj = &table()[key % table().len()];
        let lkp = LatLon::new(35.0, 14.0);
        let w = [WindObs { at: 0, from_deg: 0.0, kn: 0.0 }];
        let t = drift(lkp, 0, hours * H, obj, &w, Current { set_deg: set, kn }, H).unwrap();
        let cms_to_kn = 0.01 * 3600.0 / 1852.0;
        let off_dw = obj.dw_offset_cms.max(0.0) * cms_to_kn;
        let off_cw = (obj.cwr_offset_cms.max(0.0) + (-obj.cwl_offset_cms).max(0.0)) * cms_to_kn;
        let h = hours as f64;
        let slack = (off_dw + off_cw) * h + 1e-3 * (kn * h).max(1.0);
        prop_assert!((distance_nm(lkp, t.datum()) - kn * h).abs() <= slack);
        // (Within 5 %: meridians converge or spread as the current carries
        // both datums north or south over up to 48 h and 150 NM, so two
        // datums side by side drift apart a little on the sphere.)
        prop_assert!(t.divergence_nm() <= off_cw * h * 1.05 + 1e-6);
        if obj.dw_offset_cms <= 0.0 && obj.cwr_offset_cms <= 0.0 && obj.cwl_offset_cms >= 0.0 {
            prop_assert!(t.leeway_kn < 1e-12 && t.divergence_nm() < 1e-9);
        }
    }

    /// The datums lie on either side of downwind, diverge over time, and a
    /// stronger wind moves the object at least as far.
    #[test]
    fn leeway_diverges_and_grows_with_the_wind(
        from in 0.0f64..360.0, kn in 5.0f64..40.0, extra in 0.0f64..10.0,
    ) {
        let piw = category("person_in_water").unwrap();
        let lkp = LatLon::new(35.0, 14.0);
        let run = |k: f64, hrs: i64| drift(lkp, 0, hrs * H, piw, &[WindObs { at: 0, from_deg: from, kn: k }], Current::NONE, H).unwrap();
        let a = run(kn, 6);
        let b = run(kn + extra, 6);
        let c = run(kn, 12);
        prop_assert!(distance_nm(lkp, b.datum()) + 1e-9 >= distance_nm(lkp, a.datum()));
        prop_assert!(c.divergence_nm() > a.divergence_nm());
        // Right of downwind is the right-hand side looking downwind.
        let down = (from + 180.0) % 360.0;
        let p = a.last();
        let f = LocalFrame::new(lkp);
        let (rx, ry) = f.to_xy(p.right);
        let (dx, dy) = (down.to_radians().sin(), down.to_radians().cos());
        // Cross product of downwind × right-datum < 0 means "to the right".
        prop_assert!(dx * ry - dy * rx < 0.0);
        let expected_dw = 0.0096 * kn * 6.0;
        let (mx, my) = f.to_xy(p.datum);
        prop_assert!((mx * dx + my * dy - expected_dw).abs() < 1e-3);
    }
}
