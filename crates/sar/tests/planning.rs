//! Search planning end to end, as the HTTP routes of issue 17 will use it:
//! the search area for a contact, a parallel sweep filling it, the pattern
//! delivered as GPX / KML / NMEA (parsed back), and the coverage of the
//! area by a simulated asset flying the pattern at its speed.

use sar::coverage::{coverage, cumulative_pod, pod, AssetTrack};
use sar::drift::TrackPoint;
use sar::export::{nmea_checksum, nmea_text, to_gpx, to_kml, to_nmea};
use sar::geo::{bearing_deg, destination, distance_nm, LatLon};
use sar::geojson::polygons_from_geojson;
use sar::patterns::{generate, parallel_sweep_for_area, Pattern, PatternRequest};
use sar::search_area::{plan_search_area, SearchArea, SearchAreaRequest};
use sar::{Asset, Contact, Sighting, SourceKind};
use serde_json::json;

const T0: i64 = 1_795_845_600_000; // 2026-11-28T06:00:00Z
const MIN: i64 = 60_000;

/// Positions of an asset flying `p` exactly at its speed: every waypoint
/// at its planned time, and a position every `step_ms` between them.
fn fly(p: &Pattern, step_ms: i64) -> Vec<TrackPoint> {
    let mut out = Vec::new();
    for pair in p.waypoints.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let (d, brg) = (
            distance_nm(a.position, b.position),
            bearing_deg(a.position, b.position),
        );
        let mut t = a.time_ms;
        while t < b.time_ms {
            let f = (t - a.time_ms) as f64 / (b.time_ms - a.time_ms) as f64;
            let q = destination(a.position, brg, d * f);
            out.push(TrackPoint::new(t, q.lat, q.lon));
            t += step_ms;
        }
    }
    let last = p.waypoints.last().unwrap();
    out.push(TrackPoint::new(
        last.time_ms,
        last.position.lat,
        last.position.lon,
    ));
    out
}

/// An 8 × 4 NM search area: datums 4 NM apart east–west, R = 2 NM.
fn area() -> SearchArea {
    let c = LatLon::new(35.5, 12.6);
    SearchArea::new(
        destination(c, 270.0, 2.0),
        destination(c, 90.0, 2.0),
        2.0,
        0.0,
    )
}

#[test]
fn coverage_and_pod_rise_as_the_asset_flies_the_pattern() {
    // S = W = 1 NM, 12 kn: 4 legs of 7 NM + 3 cross legs of 1 NM = 31 NM in
    // 155 min, all inside the 32 NM² area. At t minutes after the start the
    // asset has swept Z = W · 12 kn · t/60 h, so C(t) = 0.2 t / 32 and at the
    // end C = 31/32 = 0.96875, POD = 1 − e^−0.96875 = 0.62045.
    let a = area();
    let p = parallel_sweep_for_area(&a, 1.0, 12.0, T0, Some(247_000_001)).unwrap();
    assert_eq!(p.end_ms() - T0, 155 * MIN);
    let track = AssetTrack {
        asset: Asset::vessel(247_000_001, Some("CP 301")),
        sweep_width_nm: 1.0,
        since_ms: T0,
        points: fly(&p, MIN),
    };
    let polys = polygons_from_geojson(&a.to_feature(json!({}))).unwrap();
    let mut last_c = 0.0;
    for minutes in [0, 20, 40, 80, 120, 155] {
        let r = coverage(&polys, std::slice::from_ref(&track), T0 + minutes * MIN).unwrap();
        let want = 0.2 * minutes as f64 / 32.0;
        assert!(
            (r.coverage_factor - want).abs() < 2e-3,
            "{minutes} min: C {} vs {want}",
            r.coverage_factor
        );
        assert!((r.pod - pod(want)).abs() < 2e-3);
        assert!(r.coverage_factor >= last_c);
        last_c = r.coverage_factor;
    }
    let r = coverage(&polys, std::slice::from_ref(&track), T0 + 155 * MIN).unwrap();
    assert!((r.coverage_factor - 0.96875).abs() < 2e-3);
    assert!((r.pod - 0.62045).abs() < 2e-3);
    // The swept region is most of the area (the corners the turns cut are not).
    let swept = r.swept["properties"]["swept_nm2"].as_f64().unwrap();
    assert!(swept > 31.0 && swept <= 32.0 + 1e-6, "{swept}");
    assert_eq!(r.swept["geometry"]["type"], "MultiPolygon");
    assert!((r.by_asset[0].track_nm - 31.0).abs() < 1e-3);

    // A second asset that stays 20 NM away adds nothing.
    let far = {
        let mut q = generate(&PatternRequest {
            csp: destination(a.datum, 0.0, 20.0),
            ..serde_json::from_value(json!({
                "asset": 247000002, "pattern": "expanding_square", "csp": {"lat": 0, "lon": 0},
                "spacing_nm": 1.0, "legs": 12, "speed_kn": 12, "start": T0
            }))
            .unwrap()
        })
        .unwrap();
        q.asset = Some(247_000_002);
        AssetTrack {
            asset: Asset::vessel(247_000_002, None),
            sweep_width_nm: 1.0,
            since_ms: T0,
            points: fly(&q, MIN),
        }
    };
    let both = coverage(&polys, &[track.clone(), far], T0 + 155 * MIN).unwrap();
    assert_eq!(both.by_asset[1].effort_nm2, 0.0);
    assert_eq!(both.by_asset[1].coverage_factor, 0.0);
    // Its square is 2 × (1 + 2 + … + 6) = 42 NM; by then (155 min at 12 kn)
    // it has flown 31 NM of it, none inside.
    assert!(
        (both.by_asset[1].track_nm - 31.0).abs() < 1e-3,
        "{}",
        both.by_asset[1].track_nm
    );
    assert!((both.coverage_factor - r.coverage_factor).abs() < 1e-12);

    // Positions before the pattern started do not count.
    let mut early = track.clone();
    early.since_ms = T0 + 155 * MIN + 1;
    let r0 = coverage(&polys, &[early], T0 + 155 * MIN).unwrap();
    assert_eq!(r0.coverage_factor, 0.0);

    // A second search of the same area: cumulative POD 1 − (1 − 0.62045)².
    let cum = cumulative_pod(&[r.pod, r.pod]);
    assert!((cum - (1.0 - (1.0 - 0.62045f64).powi(2))).abs() < 4e-3);
}

#[test]
fn from_a_contact_to_the_assets_route() {
    let contact = Contact::new(
        "c-000001",
        "rubber boat, ~60 persons",
        Sighting::new(T0, 35.2, 12.9, 926.0, SourceKind::Phone, "alarm phone"),
        T0,
    )
    .unwrap();
    // The request, times as UNIX ms this time.
    let req: SearchAreaRequest = serde_json::from_value(json!({
        "contact": "c-000001", "object": "rubber_boat_overloaded",
        "wind": [{"at": T0, "from_deg": 330, "kn": 15}, {"at": T0 + 3 * 3_600_000, "from_deg": 300, "kn": 20}],
        "current": {"set_deg": 120, "kn": 0.5}, "at": T0 + 8 * 3_600_000, "safety_factor": 1.1
    }))
    .unwrap();
    let plan = plan_search_area(&req, Some(&contact), None).unwrap();
    // X is the reported 0.5 NM (926 m), larger than the GPS 0.1 NM.
    assert!((plan.error.x_nm - 0.5).abs() < 1e-9);
    assert!(plan.response.radius_nm > 0.5);
    // The datum track: hourly from the LKP to the time of interest.
    assert_eq!(plan.track.points.len(), 9);
    assert_eq!(
        plan.track.to_geojson()["features"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // Fill the area with a parallel sweep at the sweep-table spacing.
    let w = sar::sweep_width::sweep_width(
        "rubber_boat_overloaded",
        sar::sweep_width::SearchUnit::LargerVessel,
        5.0,
        20.0,
        false,
    )
    .unwrap();
    let p = parallel_sweep_for_area(
        &plan.area,
        w.track_spacing_nm,
        14.0,
        T0 + 9 * 3_600_000,
        Some(247_000_001),
    )
    .unwrap();
    let f = p.to_feature();
    assert_eq!(f["type"], "Feature");
    let wps = f["properties"]["waypoints"].as_array().unwrap();
    assert_eq!(wps.len(), p.waypoints.len());
    assert_eq!(wps[0]["time"], "2026-11-28T15:00:00Z");
    // The route fits the area: every waypoint is inside the rectangle.
    let polys = polygons_from_geojson(&plan.response.area).unwrap();
    let track = AssetTrack {
        asset: Asset::vessel(247_000_001, None),
        sweep_width_nm: w.sweep_width_nm,
        since_ms: p.start_ms,
        points: fly(&p, 2 * MIN),
    };
    let r = coverage(&polys, &[track], p.end_ms()).unwrap();
    // W = 3.8 NM (power_33ft, larger vessel, 5 NM) × 0.5 (20 kn) = 1.9 NM;
    // the 2.35 NM-wide area needs two legs, closed up to S = 1.17 NM < W,
    // so C is above 1 (overlapping passes count twice) — about 1.08 here.
    assert!((w.sweep_width_nm - 1.9).abs() < 1e-12);
    assert_eq!(p.legs, 2);
    assert!(p.spacing_nm < w.sweep_width_nm);
    assert!(
        r.coverage_factor > 1.0 && r.coverage_factor < 1.3,
        "{}",
        r.coverage_factor
    );

    // Delivery: GPX and KML parse as XML with the expected structure.
    let gpx = to_gpx(&p);
    let doc = roxmltree::Document::parse(&gpx).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "gpx");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.topografix.com/GPX/1/1")
    );
    assert_eq!(root.attribute("version"), Some("1.1"));
    let wpts: Vec<_> = root.children().filter(|n| n.has_tag_name("wpt")).collect();
    assert_eq!(wpts.len(), p.waypoints.len());
    let lat: f64 = wpts[0].attribute("lat").unwrap().parse().unwrap();
    assert!((lat - p.waypoints[0].position.lat).abs() < 1e-6);
    let rte = root.children().find(|n| n.has_tag_name("rte")).unwrap();
    assert_eq!(
        rte.children().filter(|n| n.has_tag_name("rtept")).count(),
        p.waypoints.len()
    );
    let kml = to_kml(&p);
    let doc = roxmltree::Document::parse(&kml).unwrap();
    assert_eq!(
        doc.root_element().tag_name().namespace(),
        Some("http://www.opengis.net/kml/2.2")
    );
    let placemarks = doc
        .descendants()
        .filter(|n| n.has_tag_name("Placemark"))
        .count();
    assert_eq!(placemarks, 1 + p.waypoints.len());
    let coords = doc
        .descendants()
        .find(|n| n.has_tag_name("coordinates"))
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(coords.split_whitespace().count(), p.waypoints.len());

    // NMEA: checksums, lengths, and the route lists every waypoint in order.
    let lines = to_nmea(&p, "SAR-1");
    let mut route = Vec::new();
    for l in &lines {
        assert!(l.len() + 2 <= 82, "{l}");
        let (body, sum) = l[1..].split_once('*').unwrap();
        assert_eq!(u8::from_str_radix(sum, 16).unwrap(), nmea_checksum(body));
        if let Some(rest) = body.strip_prefix("GPRTE,") {
            route.extend(rest.split(',').skip(4).map(str::to_string));
        }
    }
    let names: Vec<String> = p.waypoints.iter().map(|w| w.name()).collect();
    assert_eq!(route, names);
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("$GPWPL")).count(),
        names.len()
    );
    assert!(nmea_text(&p, "SAR-1").ends_with("\r\n"));
}

#[test]
fn xml_special_characters_survive_the_round_trip() {
    let mut req: PatternRequest = serde_json::from_value(json!({
        "pattern": "sector", "csp": {"lat": -33.9, "lon": 151.3}, "radius_nm": 1.5,
        "speed_kn": 20, "start": "2026-11-28T06:00:00Z"
    }))
    .unwrap();
    req.asset_name = Some("Rescue <1> & \"Mike's\"".into());
    let p = generate(&req).unwrap();
    let gpx = to_gpx(&p);
    let doc = roxmltree::Document::parse(&gpx).unwrap();
    let name = doc.descendants().find(|n| n.has_tag_name("name")).unwrap();
    assert_eq!(name.text(), Some("VS Rescue <1> & \"Mike's\""));
    let kml = to_kml(&p);
    let doc = roxmltree::Document::parse(&kml).unwrap();
    let name = doc.descendants().find(|n| n.has_tag_name("name")).unwrap();
    assert_eq!(name.text(), Some("VS Rescue <1> & \"Mike's\""));
    // Southern and western hemispheres in NMEA.
    let wpl = &to_nmea(&p, "R")[0];
    assert!(
        wpl.starts_with("$GPWPL,3354.0000,S,15118.0000,E,WP001*"),
        "{wpl}"
    );
}
