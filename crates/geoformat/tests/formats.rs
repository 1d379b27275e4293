//! GeoJSON normalization properties and the GPX/KML exports read back with
//! an independent XML parser (roxmltree).

use geoformat::export::{to_gpx, to_kml};
use geoformat::geojson::{cut_antimeridian, normalize};
use proptest::prelude::*;
use serde_json::{json, Value};

fn track() -> Value {
    json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": 247001234,
         "geometry": {"type": "LineString", "coordinates": [[12.5, 35.5], [12.51, 35.52], [12.53, 35.55]]},
         "properties": {"mmsi": 247001234, "name": "SEA <WATCH> & \"4\"",
                        "times": ["2026-12-07T10:00:00Z", "2026-12-07T10:01:00Z", "2026-12-07T10:02:00Z"]}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [12.6, 35.6]},
         "properties": {"title": "sighting", "time": "2026-12-07T10:05:00Z"}},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates":
            [[[12.0, 35.0], [13.0, 35.0], [13.0, 36.0], [12.0, 36.0], [12.0, 35.0]]]},
         "properties": {"name": "search area"}}
    ]})
}

fn ns<'a>(doc: &'a roxmltree::Document, tag: &str) -> Vec<roxmltree::Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| n.tag_name().name() == tag)
        .collect()
}

#[test]
fn gpx_has_the_track_with_times_and_the_waypoint() {
    let text = to_gpx(&track(), "Lookout export");
    let doc = roxmltree::Document::parse(&text).unwrap();
    assert_eq!(
        doc.root_element().tag_name().namespace(),
        Some("http://www.topografix.com/GPX/1/1")
    );
    let pts = ns(&doc, "trkpt");
    assert_eq!(pts.len(), 3);
    assert_eq!(pts[1].attribute("lat"), Some("35.52"));
    assert_eq!(pts[1].attribute("lon"), Some("12.51"));
    let times: Vec<_> = ns(&doc, "time").iter().filter_map(|n| n.text()).collect();
    assert!(times.contains(&"2026-12-07T10:01:00Z"));
    let names: Vec<_> = ns(&doc, "name").iter().filter_map(|n| n.text()).collect();
    assert!(
        names.contains(&"SEA <WATCH> & \"4\""),
        "escaped and read back: {names:?}"
    );
    assert_eq!(ns(&doc, "wpt").len(), 1);
}

#[test]
fn kml_has_line_point_and_polygon() {
    let text = to_kml(&track(), "Incident 7");
    let doc = roxmltree::Document::parse(&text).unwrap();
    assert_eq!(
        doc.root_element().tag_name().namespace(),
        Some("http://www.opengis.net/kml/2.2")
    );
    assert_eq!(ns(&doc, "Placemark").len(), 3);
    let line = ns(&doc, "LineString")[0];
    let coords = line
        .descendants()
        .find(|n| n.has_tag_name("coordinates"))
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(coords, "12.5,35.5,0 12.51,35.52,0 12.53,35.55,0");
    assert_eq!(ns(&doc, "begin")[0].text(), Some("2026-12-07T10:00:00Z"));
    assert_eq!(ns(&doc, "outerBoundaryIs").len(), 1);
    assert_eq!(ns(&doc, "when")[0].text(), Some("2026-12-07T10:05:00Z"));
}

#[test]
fn a_track_across_180_is_a_multigeometry_in_kml() {
    let f = json!({"type": "Feature", "geometry": {"type": "LineString",
        "coordinates": [[179.0, -17.0], [179.9, -17.1], [-179.9, -17.2], [-179.0, -17.3]]},
        "properties": {"mmsi": 520000001}});
    let text = to_kml(&f, "Fiji");
    let doc = roxmltree::Document::parse(&text).unwrap();
    assert_eq!(ns(&doc, "MultiGeometry").len(), 1);
    assert_eq!(ns(&doc, "LineString").len(), 2);
}

proptest! {
    /// Every ring comes out with the right orientation, the same points.
    #[test]
    fn rings_are_oriented(pts in proptest::collection::vec((-170.0f64..170.0, -80.0f64..80.0), 3..12), reverse in any::<bool>()) {
        // A star-shaped ring around its centroid (never self-intersecting).
        let (cx, cy) = (pts.iter().map(|p| p.0).sum::<f64>() / pts.len() as f64, pts.iter().map(|p| p.1).sum::<f64>() / pts.len() as f64);
        let mut ring: Vec<[f64; 2]> = pts.iter().map(|p| [p.0, p.1]).collect();
        ring.sort_by(|a, b| (a[1] - cy).atan2(a[0] - cx).partial_cmp(&(b[1] - cy).atan2(b[0] - cx)).unwrap());
        if reverse { ring.reverse(); }
        ring.push(ring[0]);
        let mut g = json!({"type": "Polygon", "coordinates": [ring]});
        normalize(&mut g);
        let out: Vec<[f64; 2]> = g["coordinates"][0].as_array().unwrap().iter().map(|p| [p[0].as_f64().unwrap(), p[1].as_f64().unwrap()]).collect();
        let area2: f64 = out.windows(2).map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1]).sum();
        prop_assert!(area2 >= 0.0);
        prop_assert_eq!(out.len(), ring.len());
    }

    /// Cutting keeps every point, in order, and leaves no part with a step
    /// of more than 180° of longitude; cut ends lie on ±180°.
    #[test]
    fn cuts_keep_points_and_remove_jumps(lons in proptest::collection::vec(-180.0f64..180.0, 2..30)) {
        let line: Vec<[f64; 2]> = lons.iter().enumerate().map(|(i, &x)| [x, i as f64]).collect();
        let parts = cut_antimeridian(&line);
        let kept: Vec<[f64; 2]> = parts.iter().flatten().copied().filter(|p| p[0].abs() != 180.0 || line.contains(p)).collect();
        prop_assert_eq!(kept, line.clone());
        for p in &parts {
            for w in p.windows(2) {
                prop_assert!((w[1][0] - w[0][0]).abs() <= 180.0);
            }
        }
        for w in parts.windows(2) {
            prop_assert_eq!(w[0].last().unwrap()[0].abs(), 180.0);
            prop_assert_eq!(w[1].first().unwrap()[0].abs(), 180.0);
        }
    }
}
