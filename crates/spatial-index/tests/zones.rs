//! Zone loading (and its errors) and zone membership events.

mod common;

use std::path::PathBuf;

use common::*;
use geo::{Contains, Point};
use spatial_index::zones::geojson::parse_str;
use spatial_index::{Event, ZoneIndex, ZoneKind};

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("spatial-index-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn feature(id: &str, extra_props: &str, geometry: &str) -> String {
    format!(
        r#"{{"type":"Feature","properties":{{"id":"{id}","name":"Zone {id}","kind":"watch"{extra_props}}},"geometry":{geometry}}}"#
    )
}

fn collection(features: &[String]) -> String {
    format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        features.join(",")
    )
}

const SQUARE: &str =
    r#"{"type":"Polygon","coordinates":[[[12,35],[13,35],[13,36],[12,36],[12,35]]]}"#;

fn error_of(text: &str) -> String {
    parse_str("zones/test.geojson", text)
        .unwrap_err()
        .to_string()
}

#[test]
fn shipped_zones_load() {
    let z = shipped_zones();
    let ids: Vec<&str> = z.zones().iter().map(|z| z.id.as_ref()).collect();
    assert_eq!(
        ids,
        vec![
            "malta_srr",
            "libya_srr",
            "frontex_triton",
            "eunavfor_med",
            "lampedusa_port",
            "lampedusa_approaches"
        ]
    );
    for zone in z.zones() {
        assert!(zone.approximate, "{}", zone.id);
        assert!(
            zone.source.as_deref().is_some_and(|s| !s.is_empty()),
            "{}",
            zone.id
        );
        assert!(zone.alerts);
    }
    assert_eq!(
        z.zone(z.index_of("lampedusa_port").unwrap()).kind,
        ZoneKind::Port
    );
    assert_eq!(
        z.zone(z.index_of("malta_srr").unwrap()).kind,
        ZoneKind::SarRegion
    );
    // Landmarks.
    let at = |lat: f64, lon: f64| {
        let mut v = Vec::new();
        z.zones_at(lat, lon, &mut v);
        v.iter()
            .map(|&i| z.zone(i).id.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(at(35.90, 14.52), vec!["malta_srr", "frontex_triton"]); // off Valletta
    assert_eq!(
        at(35.495, 12.61),
        vec![
            "malta_srr",
            "frontex_triton",
            "eunavfor_med",
            "lampedusa_port",
            "lampedusa_approaches"
        ]
    );
    assert_eq!(at(33.5, 15.0), vec!["libya_srr", "eunavfor_med"]); // off Misrata
    assert_eq!(at(32.89, 13.18), Vec::<String>::new()); // Tripoli, ashore
    assert_eq!(at(45.0, 13.0), Vec::<String>::new()); // Adriatic
}

#[test]
fn loading_errors_name_file_and_feature() {
    let cases: Vec<(String, &str)> = vec![
        (
            collection(&[feature(
                "open",
                "",
                r#"{"type":"Polygon","coordinates":[[[12,35],[13,35],[13,36],[12,36]]]}"#,
            )]),
            "not closed",
        ),
        (
            collection(&[feature(
                "lon",
                "",
                r#"{"type":"Polygon","coordinates":[[[12,35],[200,35],[13,36],[12,35]]]}"#,
            )]),
            "longitude 200 outside",
        ),
        (
            collection(&[feature(
                "lat",
                "",
                r#"{"type":"Polygon","coordinates":[[[12,35],[13,95],[13,36],[12,35]]]}"#,
            )]),
            "latitude 95 outside",
        ),
        (
            collection(&[feature(
                "text",
                "",
                r#"{"type":"Polygon","coordinates":[[[12,35],["13",35],[13,36],[12,35]]]}"#,
            )]),
            "finite numbers",
        ),
        (
            collection(&[feature(
                "one",
                "",
                r#"{"type":"Polygon","coordinates":[[[12,35],[13],[13,36],[12,35]]]}"#,
            )]),
            "has 1 numbers",
        ),
        (
            collection(&[feature(
                "bowtie",
                "",
                r#"{"type":"Polygon","coordinates":[[[12,35],[13,36],[13,35],[12,36],[12,35]]]}"#,
            )]),
            "self-intersection",
        ),
        (
            collection(&[feature(
                "pt",
                "",
                r#"{"type":"Point","coordinates":[12,35]}"#,
            )]),
            "geometry type Point is not Polygon or MultiPolygon",
        ),
        (
            collection(&[feature(
                "short",
                "",
                r#"{"type":"Polygon","coordinates":[[[12,35],[13,35],[12,35]]]}"#,
            )]),
            "at least 4",
        ),
        (
            collection(&[feature(
                "wrap",
                "",
                r#"{"type":"Polygon","coordinates":[[[179,0],[-179,0],[-179,1],[179,1],[179,0]]]}"#,
            )]),
            "antimeridian",
        ),
        (
            collection(&[feature("kind", r#","kind":"two words""#, SQUARE)]),
            "properties.kind",
        ),
        (
            collection(&[feature("alerts", r#","alerts":"no""#, SQUARE)]),
            "properties.alerts must be true or false",
        ),
        (
            collection(&[feature("dup", "", SQUARE), feature("dup", "", SQUARE)]),
            "duplicate id, first defined in zones/test.geojson#0",
        ),
    ];
    for (text, expect) in cases {
        let e = error_of(&text);
        assert!(e.contains("zones/test.geojson: feature #"), "{e}");
        assert!(e.contains(expect), "expected {expect:?} in {e}");
    }
    // The id is named when there is one.
    let e = error_of(&collection(&[feature(
        "lon",
        "",
        r#"{"type":"Polygon","coordinates":[[[12,35],[200,35],[13,36],[12,35]]]}"#,
    )]));
    assert!(e.contains(r#"feature #0 (id "lon")"#), "{e}");
    // Without an id.
    let e = error_of(
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"x","kind":"watch"},"geometry":null}]}"#,
    );
    assert!(e.contains("feature #0: properties.id"), "{e}");
    // Not JSON, not GeoJSON.
    assert!(error_of("{nope").contains("zones/test.geojson: invalid JSON"));
    assert!(error_of(r#"{"type":"Point"}"#).contains("not a GeoJSON FeatureCollection"));
}

#[test]
fn every_error_is_reported_and_nothing_half_loads() {
    let text = collection(&[
        feature("good", "", SQUARE),
        feature(
            "bad1",
            "",
            r#"{"type":"Polygon","coordinates":[[[12,35],[13,35],[13,36],[12,36]]]}"#,
        ),
        feature(
            "bad2",
            "",
            r#"{"type":"LineString","coordinates":[[12,35],[13,35]]}"#,
        ),
    ]);
    let err = parse_str("f.geojson", &text).unwrap_err();
    assert_eq!(err.errors.len(), 2);
    assert_eq!(err.errors[0].feature, Some(1));
    assert_eq!(err.errors[0].id.as_deref(), Some("bad1"));
    assert_eq!(err.errors[1].feature, Some(2));

    // A folder with a good file and a bad one: nothing is loaded.
    let dir = temp_dir("half");
    std::fs::write(
        dir.join("a-good.geojson"),
        collection(&[feature("a", "", SQUARE)]),
    )
    .unwrap();
    std::fs::write(
        dir.join("b-bad.geojson"),
        collection(&[feature(
            "b",
            "",
            r#"{"type":"Polygon","coordinates":[[[0,0],[1,1]]]}"#,
        )]),
    )
    .unwrap();
    std::fs::write(dir.join("notes.txt"), "not a zone file").unwrap();
    let err = ZoneIndex::load(&[&dir]).unwrap_err();
    assert_eq!(err.errors.len(), 1);
    assert!(err.errors[0].file.ends_with("b-bad.geojson"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn folders_files_and_duplicates_across_files() {
    let dir = temp_dir("multi");
    std::fs::write(
        dir.join("one.geojson"),
        collection(&[feature("x", "", SQUARE)]),
    )
    .unwrap();
    let extra = dir.join("extra.json");
    std::fs::write(
        &extra,
        collection(&[feature("y", r#","alerts":false"#, SQUARE)]),
    )
    .unwrap();
    // --zones FILE next to the default folder.
    let sub = dir.join("config");
    std::fs::create_dir(&sub).unwrap();
    std::fs::rename(dir.join("one.geojson"), sub.join("one.geojson")).unwrap();
    let z = ZoneIndex::load(&[&sub, &extra]).unwrap();
    assert_eq!(z.len(), 2);
    assert!(!z.zone(z.index_of("y").unwrap()).alerts);
    // The same id in two files.
    std::fs::write(
        sub.join("two.geojson"),
        collection(&[feature("y", "", SQUARE)]),
    )
    .unwrap();
    let err = ZoneIndex::load(&[&sub, &extra]).unwrap_err().to_string();
    assert!(
        err.contains("extra.json: feature #0 (id \"y\"): duplicate id, first defined in"),
        "{err}"
    );
    assert!(err.contains("two.geojson#0"), "{err}");
    // A missing path.
    let err = ZoneIndex::load(&[dir.join("missing")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn zone_events(events: &[Event]) -> Vec<String> {
    names(events)
        .into_iter()
        .filter(|n| n.starts_with("zone_"))
        .collect()
}

#[test]
fn entering_and_leaving_zones_along_a_track() {
    let mut f = Feed::new(shipped_zones());
    let m = 247_000_001;
    // From east of Lampedusa, west at 20 kn into the harbour, then back out.
    let mut lon = 13.2;
    let lat = 35.505;
    let mut t = T0;
    let mut track = Vec::new();
    while lon > 12.615 {
        track.push((lon, t));
        lon -= 0.00339;
        t += 30_000;
    }
    for k in 0..20 {
        track.push((12.615, t + k * 30_000));
    }
    t += 20 * 30_000;
    let mut lon = 12.615;
    while lon < 13.0 {
        lon += 0.00339;
        t += 30_000;
        track.push((lon, t));
    }
    let zones = shipped_zones();
    let mut all = Vec::new();
    for &(lon, t) in &track {
        f.send(pos_a(m, lat, lon, 20.0, 0), t);
        all.extend(f.events());
        // Membership always matches the polygons.
        let v = f.picture.vessel(m).unwrap();
        let mut got: Vec<String> = f.picture.zones_of(v).map(|z| z.id.to_string()).collect();
        got.sort();
        let mut want: Vec<String> = zones
            .zones()
            .iter()
            .filter(|z| z.geometry.contains(&Point::new(lon, lat)))
            .map(|z| z.id.to_string())
            .collect();
        want.sort();
        assert_eq!(got, want, "at {lon}");
    }
    assert_eq!(
        zone_events(&all),
        vec![
            "zone_entered:malta_srr",
            "zone_entered:frontex_triton",
            "zone_entered:lampedusa_approaches",
            "zone_entered:lampedusa_port",
            "zone_left:lampedusa_port",
            "zone_left:lampedusa_approaches",
        ]
    );
    let entered_port = all
        .iter()
        .find(|e| matches!(e, Event::ZoneEntered { zone, .. } if zone.as_ref() == "lampedusa_port"))
        .unwrap();
    let Event::ZoneEntered {
        kind, alerts, lon, ..
    } = entered_port
    else {
        unreachable!()
    };
    assert_eq!((kind, *alerts), (&ZoneKind::Port, true));
    assert!(*lon <= 12.64);
    // Zone queries.
    assert_eq!(f.picture.in_zone("malta_srr").unwrap().len(), 1);
    assert!(f.picture.in_zone("lampedusa_port").unwrap().is_empty());
    assert!(f.picture.in_zone("nowhere").is_none());
}

#[test]
fn updates_away_from_boundaries_skip_the_zone_test() {
    let mut f = Feed::new(shipped_zones());
    let m = 247_000_004;
    // 200 reports, 10 s apart at 15 kn, in open water inside the Malta SRR.
    for k in 0..200i64 {
        f.send(
            pos_a(m, 35.2 + k as f64 * 0.0007, 17.5, 15.0, 0),
            T0 + k * 10_000,
        );
    }
    let checks = f.picture.stats().zone_checks;
    assert!(checks <= 3, "{checks}");
    assert_eq!(
        zone_events(&f.events()),
        vec!["zone_entered:malta_srr", "zone_entered:eunavfor_med"]
    );
    // And the R-tree entry moved only a few times.
    assert!(f.picture.tree_moves() <= 3, "{}", f.picture.tree_moves());
}

#[test]
fn membership_matches_polygons_under_random_walks() {
    // Many vessels wandering across boundaries of overlapping zones: the
    // incremental membership must equal a from-scratch point-in-polygon
    // test after every update, and the events must add up to it.
    let mut rng = Rng(42);
    let mut zones = shipped_zones().zones().to_vec();
    for k in 0..200 {
        let (cx, cy, r) = (
            rng.range(11.0, 16.0),
            rng.range(33.0, 37.0),
            rng.range(0.02, 0.3),
        );
        let n = 3 + (rng.next_u64() % 10) as usize;
        let pts: Vec<(f64, f64)> = (0..n)
            .map(|i| {
                let a = i as f64 / n as f64 * std::f64::consts::TAU;
                (cx + r * a.cos(), cy + r * a.sin())
            })
            .collect();
        zones.push(spatial_index::Zone::from_polygon(
            &format!("r{k}"),
            ZoneKind::Watch,
            geo::Polygon::new(geo::LineString::from(pts), vec![]),
        ));
    }
    let index = ZoneIndex::new(zones.clone()).unwrap();
    let mut f = Feed::new(index);
    let n = 60u32;
    let mut pos: Vec<(f64, f64)> = (0..n)
        .map(|_| (rng.range(33.5, 36.5), rng.range(11.5, 15.5)))
        .collect();
    let mut members: std::collections::HashMap<(u32, String), bool> = Default::default();
    for step in 0..300i64 {
        for (k, p) in pos.iter_mut().enumerate() {
            // Up to ~50 kn for 60 s: plausible, erratic.
            p.0 += rng.range(-0.013, 0.013);
            p.1 += rng.range(-0.013, 0.013);
            let mmsi = 247_100_000 + k as u32;
            f.send(pos_a(mmsi, p.0, p.1, 10.0, 0), T0 + step * 60_000);
            let v = f.picture.vessel(mmsi).unwrap();
            let mut got: Vec<&str> = f.picture.zones_of(v).map(|z| z.id.as_ref()).collect();
            got.sort();
            let mut want: Vec<&str> = zones
                .iter()
                .filter(|z| z.geometry.contains(&Point::new(p.1, p.0)))
                .map(|z| z.id.as_ref())
                .collect();
            want.sort();
            assert_eq!(got, want, "vessel {k} step {step} at {p:?}");
        }
        for e in f.events() {
            match e {
                Event::ZoneEntered { mmsi, zone, .. } => {
                    assert!(members.insert((mmsi, zone.to_string()), true).is_none());
                }
                Event::ZoneLeft { mmsi, zone, .. } => {
                    assert!(members.remove(&(mmsi, zone.to_string())).is_some());
                }
                _ => {}
            }
        }
    }
    let total: usize = f
        .picture
        .zones()
        .zones()
        .iter()
        .map(|z| f.picture.in_zone(&z.id).unwrap().len())
        .sum();
    assert_eq!(total, members.len());
    assert!(total > 0);
}

#[test]
fn a_zone_across_the_antimeridian() {
    let text = collection(&[feature(
        "dateline",
        r#","alerts":false"#,
        r#"{"type":"MultiPolygon","coordinates":[
            [[[170,-5],[180,-5],[180,5],[170,5],[170,-5]]],
            [[[-180,-5],[-170,-5],[-170,5],[-180,5],[-180,-5]]]]}"#,
    )]);
    let z = ZoneIndex::new(parse_str("dateline.geojson", &text).unwrap()).unwrap();
    let mut f = Feed::new(z);
    let m = 247_000_002;
    f.send(pos_a(m, 0.0, 179.99, 20.0, 0), T0);
    f.send(pos_a(m, 0.0, -179.995, 20.0, 0), T0 + 60_000);
    f.send(pos_a(m, 0.0, -179.99, 20.0, 0), T0 + 120_000);
    let ev = f.events();
    assert_eq!(zone_events(&ev), vec!["zone_entered:dateline"]);
    assert!(ev
        .iter()
        .any(|e| matches!(e, Event::ZoneEntered { alerts: false, .. })));
    assert_eq!(f.picture.in_zone("dateline").unwrap().len(), 1);
}

#[test]
fn reloading_zones_emits_the_differences() {
    let mut f = Feed::new(shipped_zones());
    let m = 247_000_003;
    f.send(pos_a(m, 35.9, 14.52, 0.0, 5), T0);
    f.events();
    // New zones: a Valletta harbour zone; the SRRs gone.
    let text = collection(&[feature(
        "valletta",
        "",
        r#"{"type":"Polygon","coordinates":[[[14.4,35.8],[14.6,35.8],[14.6,36.0],[14.4,36.0],[14.4,35.8]]]}"#,
    )]);
    f.picture
        .set_zones(ZoneIndex::new(parse_str("v.geojson", &text).unwrap()).unwrap());
    assert_eq!(
        zone_events(&f.events()),
        vec![
            "zone_left:malta_srr",
            "zone_left:frontex_triton",
            "zone_entered:valletta"
        ]
    );
    assert_eq!(f.picture.in_zone("valletta").unwrap()[0].mmsi, m);
    // Membership keeps working after the swap.
    f.send(pos_a(m, 35.7, 14.52, 3.0, 0), T0 + 30 * MIN);
    assert_eq!(zone_events(&f.events()), vec!["zone_left:valletta"]);
}
