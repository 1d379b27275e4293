//! Fuzz target (stable harness, fuzz/README.md): the zone GeoJSON parser,
//! `zones::geojson::parse_str`, and the index built from what it accepts.
//!
//! Feeds:
//! * arbitrary text and arbitrary JSON documents;
//! * structure-aware FeatureCollections: features with ids (often
//!   repeated), names, kinds, flags of the wrong type, Polygon /
//!   MultiPolygon / other geometries whose rings come from a small grid
//!   (so degenerate, collinear, self-intersecting, unclosed, hole-outside
//!   and antimeridian-spanning rings are common) with out-of-range and
//!   non-numeric positions mixed in;
//! * the real zone files of `config/zones`, mutated at the JSON level
//!   (a node anywhere replaced by an edge value, removed, duplicated,
//!   arrays reversed or cut) and at the byte level.
//!
//! Checked: no panic; an error names the file and says what is wrong; what
//! is accepted is what the parser promises (ids unique and non-empty,
//! every position finite and within ±180°/±90°, rings closed with at least
//! four positions), and indexes and answers point queries without panic.
//!
//! Cases: `FUZZ_CASES` / `FUZZ_SECONDS` / `FUZZ_SEED` (see the harness).

#[path = "../../../fuzz/harness.rs"]
mod harness;

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{json, Value};
use spatial_index::zones::geojson::parse_str;
use spatial_index::ZoneIndex;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

const FILE: &str = "fuzz.geojson";

/// Documents accepted by the structure-aware targets, so that a generator
/// that never produces a valid zone (and so never reaches the index) fails
/// instead of passing idle.
static ACCEPTED_STRUCTURED: AtomicU64 = AtomicU64::new(0);
static ACCEPTED_MUTATED: AtomicU64 = AtomicU64::new(0);

/// The shipped zone files, parsed.
fn real_zones() -> &'static [Value] {
    static DOCS: OnceLock<Vec<Value>> = OnceLock::new();
    DOCS.get_or_init(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/zones");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .expect("config/zones")
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let docs: Vec<Value> = files
            .iter()
            .map(|f| serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap())
            .collect();
        assert!(!docs.is_empty());
        docs
    })
}

/// Parse, then check what came out either way; counts what is accepted.
fn check(text: &str, accepted: Option<&AtomicU64>) -> Result<(), TestCaseError> {
    match parse_str(FILE, text) {
        Ok(zones) => {
            if let Some(n) = accepted.filter(|_| !zones.is_empty()) {
                n.fetch_add(1, Ordering::Relaxed);
            }
            let mut ids = HashSet::new();
            for z in &zones {
                prop_assert!(!z.id.trim().is_empty() && z.id.len() <= 256);
                prop_assert!(ids.insert(z.id.clone()), "duplicate id {:?}", z.id);
                prop_assert!(!z.geometry.0.is_empty());
                for poly in &z.geometry.0 {
                    for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                        prop_assert!(ring.0.len() >= 4, "{:?}", ring);
                        prop_assert_eq!(ring.0.first(), ring.0.last());
                        for c in &ring.0 {
                            prop_assert!(
                                c.x.is_finite()
                                    && c.y.is_finite()
                                    && (-180.0..=180.0).contains(&c.x)
                                    && (-90.0..=90.0).contains(&c.y),
                                "{:?}",
                                c
                            );
                        }
                    }
                }
            }
            let index = ZoneIndex::new(zones).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut out = Vec::new();
            for (lat, lon) in [
                (0.0, 0.0),
                (1.0, 1.0),
                (35.5, 14.5),
                (90.0, 180.0),
                (-90.0, -180.0),
                (f64::NAN, 0.0),
            ] {
                index.zones_at(lat, lon, &mut out);
                for &k in &out {
                    prop_assert!((k as usize) < index.len());
                }
                let b = index.safe_box(lat, lon);
                let _ = index.edges_meet_box(&b);
            }
        }
        Err(e) => {
            prop_assert!(!e.errors.is_empty());
            for err in &e.errors {
                prop_assert_eq!(&err.file, FILE);
                prop_assert!(!err.message.is_empty());
            }
            prop_assert!(e.to_string().contains(FILE));
        }
    }
    Ok(())
}

/// Any JSON document, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            "FeatureCollection",
            "Feature",
            "Polygon",
            "MultiPolygon",
            "Point",
            "features",
            "type",
            "coordinates",
            "geometry",
            "properties",
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "type",
                        "features",
                        "properties",
                        "geometry",
                        "coordinates",
                        "id",
                        "name",
                        "kind",
                        "alerts",
                        "x",
                    ]),
                    inner
                ),
                0..6
            )
            .prop_map(|kv| Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}

/// An edge value to put anywhere.
fn edge_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(vec![
            Value::Null,
            json!(true),
            json!(0),
            json!(-0.0),
            json!(180),
            json!(180.000_000_1),
            json!(-180),
            json!(90),
            json!(-90.5),
            json!(1e308),
            json!(-1e308),
            json!(5e-324),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(""),
            json!(" "),
            json!("patrol_area"),
            json!("bad kind!"),
            json!("x".repeat(300)),
            json!([]),
            json!([[]]),
            json!([0]),
            json!([0, 0, 0, 0]),
            json!([[0, 0], [1, 0], [0, 0]]),
            json!({}),
            json!({"type": "Polygon"}),
            json!({"type": "Polygon", "coordinates": null}),
            json!({"type": "MultiPolygon", "coordinates": []}),
            json!({"type": "GeometryCollection", "geometries": []}),
        ]),
        any_json(),
    ]
}

/// A position from a small grid (so rings collide often), sometimes out of
/// range or not a position at all.
fn position() -> impl Strategy<Value = Value> {
    prop_oneof![
        8 => (0i32..4, 0i32..4).prop_map(|(x, y)| json!([10 + x, 30 + y])),
        1 => (0i32..4, 0i32..4, any::<f64>()).prop_map(|(x, y, z)| json!([x, y, z])),
        1 => prop::sample::select(vec![
            json!([179.5, 0]),
            json!([-179.5, 0]),
            json!([180.5, 0]),
            json!([0, 90.5]),
            json!([1e308, 0]),
            json!(["10", 30]),
            json!([null, 30]),
            json!([10]),
            json!([10, 30, 0, 0]),
            json!(10),
            json!(null),
        ]),
    ]
}

/// A ring: positions, closed most of the time.
fn ring() -> impl Strategy<Value = Value> {
    (prop::collection::vec(position(), 0..9), any::<u8>()).prop_map(|(mut ps, close)| {
        if close % 8 != 0 {
            if let Some(first) = ps.first().cloned() {
                ps.push(first);
            }
        }
        Value::Array(ps)
    })
}

/// A valid ring (a triangle or a rectangle on the grid), in either
/// direction, so that whole collections are accepted often enough to
/// reach the index.
fn good_ring() -> impl Strategy<Value = Value> {
    (
        0i32..4,
        0i32..4,
        1i32..4,
        1i32..4,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(x, y, w, h, triangle, reverse)| {
            let (x, y) = (10 + x, 30 + y);
            let mut ps = vec![json!([x, y]), json!([x + w, y]), json!([x + w, y + h])];
            if !triangle {
                ps.push(json!([x, y + h]));
            }
            if reverse {
                ps.reverse();
            }
            ps.push(ps[0].clone());
            Value::Array(ps)
        })
}

fn geometry() -> impl Strategy<Value = Value> {
    let polygon = || {
        prop_oneof![
            3 => good_ring().prop_map(|r| vec![r]),
            2 => prop::collection::vec(prop_oneof![good_ring(), ring()], 0..4),
        ]
    };
    prop_oneof![
        5 => polygon().prop_map(|p| json!({"type": "Polygon", "coordinates": p})),
        3 => prop::collection::vec(polygon(), 0..4)
            .prop_map(|ps| json!({"type": "MultiPolygon", "coordinates": ps})),
        1 => edge_value(),
    ]
}

fn feature() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec!["z1", "z2", "z3", "", " ", "\u{202e}z"]),
        prop::sample::select(vec![
            "watch",
            "port",
            "sar_region",
            "patrol_area",
            "anchorage",
            "",
            "two words",
        ]),
        prop_oneof![
            4 => Just(Value::Null),
            4 => any::<bool>().prop_map(Value::Bool),
            1 => edge_value(),
        ],
        geometry(),
        any::<u8>(),
    )
        .prop_map(|(id, kind, alerts, geometry, drop)| {
            let mut props =
                json!({"id": id, "name": format!("Zone {id}"), "kind": kind, "alerts": alerts});
            if drop % 7 == 0 {
                props.as_object_mut().unwrap().remove("name");
            }
            let mut f = json!({"type": "Feature", "properties": props, "geometry": geometry});
            if drop % 11 == 1 {
                f["type"] = json!("Point");
            }
            f
        })
}

/// One step of a walk into a document: the child at this index.
fn child_mut(v: &mut Value, pick: Index) -> Option<&mut Value> {
    match v {
        Value::Array(a) if !a.is_empty() => {
            let n = a.len();
            a.get_mut(pick.index(n))
        }
        Value::Object(m) if !m.is_empty() => {
            let n = m.len();
            m.values_mut().nth(pick.index(n))
        }
        _ => None,
    }
}

#[derive(Debug, Clone)]
enum JsonMutation {
    Replace(Value),
    Remove(Index),
    Duplicate(Index),
    Reverse,
    Truncate(Index),
}

fn json_mutation() -> impl Strategy<Value = (Vec<Index>, JsonMutation)> {
    (
        prop::collection::vec(any::<Index>(), 0..9),
        prop_oneof![
            3 => edge_value().prop_map(JsonMutation::Replace),
            1 => any::<Index>().prop_map(JsonMutation::Remove),
            1 => any::<Index>().prop_map(JsonMutation::Duplicate),
            1 => Just(JsonMutation::Reverse),
            1 => any::<Index>().prop_map(JsonMutation::Truncate),
        ],
    )
}

fn mutate(doc: &mut Value, path: &[Index], m: &JsonMutation) {
    let mut node = doc;
    for &p in path {
        if node.is_array() || node.is_object() {
            // Stop on a leaf's parent half of the time (Replace needs one).
            if child_mut(node, p).is_none() {
                break;
            }
            node = child_mut(node, p).unwrap();
        }
    }
    match (m, node) {
        (JsonMutation::Replace(v), node) => *node = v.clone(),
        (JsonMutation::Remove(i), Value::Array(a)) if !a.is_empty() => {
            let n = a.len();
            a.remove(i.index(n));
        }
        (JsonMutation::Remove(i), Value::Object(o)) if !o.is_empty() => {
            let n = o.len();
            let k = o.keys().nth(i.index(n)).unwrap().clone();
            o.remove(&k);
        }
        (JsonMutation::Duplicate(i), Value::Array(a)) if !a.is_empty() => {
            let n = a.len();
            let k = i.index(n);
            let x = a[k].clone();
            a.insert(k, x);
        }
        (JsonMutation::Reverse, Value::Array(a)) => a.reverse(),
        (JsonMutation::Truncate(i), Value::Array(a)) => {
            let n = a.len();
            a.truncate(i.index(n + 1));
        }
        _ => {}
    }
}

#[test]
fn fuzz_zones_arbitrary_text() {
    harness::fuzz(
        "zones_arbitrary_text",
        1000,
        prop_oneof![
            ".{0,200}",
            prop::collection::vec(any::<u8>(), 0..200)
                .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
            "[\\[\\]{}\",:0-9a-zA-Z .eE+-]{0,200}",
        ],
        |text| check(&text, None),
    );
}

#[test]
fn fuzz_zones_arbitrary_json() {
    harness::fuzz(
        "zones_arbitrary_json",
        1000,
        (any_json(), any::<bool>()),
        |(doc, collection)| {
            let doc = if collection {
                json!({"type": "FeatureCollection", "features": [doc]})
            } else {
                doc
            };
            check(&doc.to_string(), None)
        },
    );
}

#[test]
fn fuzz_zones_structured_collections() {
    harness::fuzz(
        "zones_structured_collections",
        1000,
        (prop::collection::vec(feature(), 0..5), any::<bool>()),
        |(features, single)| {
            let doc = if single && features.len() == 1 {
                features[0].clone()
            } else {
                json!({"type": "FeatureCollection", "features": features})
            };
            check(&doc.to_string(), Some(&ACCEPTED_STRUCTURED))
        },
    );
    let n = ACCEPTED_STRUCTURED.load(Ordering::Relaxed);
    eprintln!("fuzz zones_structured_collections: {n} collections accepted");
    assert!(n > 0, "no zone was ever accepted");
}

#[test]
fn fuzz_zones_mutated_real_files() {
    harness::fuzz(
        "zones_mutated_real_files",
        500,
        (
            any::<Index>(),
            prop::collection::vec(json_mutation(), 1..5),
            prop::collection::vec((any::<Index>(), any::<Index>(), 0u8..3), 0..3),
        ),
        |(file, mutations, byte_edits)| {
            let docs = real_zones();
            let mut doc = docs[file.index(docs.len())].clone();
            for (path, m) in &mutations {
                mutate(&mut doc, path, m);
            }
            let mut text = doc.to_string().into_bytes();
            const BYTES: &[u8] = b"[]{},:\"0-.e9 ";
            for (at, what, op) in &byte_edits {
                let n = text.len();
                let at = at.index(n + 1);
                match op {
                    0 => text.insert(at, BYTES[what.index(BYTES.len())]),
                    1 if at < n => {
                        text.remove(at);
                    }
                    _ => text.truncate(at),
                }
            }
            check(&String::from_utf8_lossy(&text), Some(&ACCEPTED_MUTATED))
        },
    );
    let n = ACCEPTED_MUTATED.load(Ordering::Relaxed);
    eprintln!("fuzz zones_mutated_real_files: {n} files accepted");
    assert!(n > 0, "no mutated file was ever accepted");
}
