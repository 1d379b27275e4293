//! RFC 7946 for every GeoJSON Lookout writes: [`normalize`] walks a
//! Feature, FeatureCollection or geometry (foreign members untouched) and
//!
//! * rounds every coordinate to 1e-6° ([`round6`]);
//! * orients polygon rings: the outer ring counter-clockwise, holes
//!   clockwise (right-hand rule, §3.1.6), by their signed area;
//! * cuts a LineString (or each line of a MultiLineString) where it
//!   crosses the antimeridian — a step of more than 180° of longitude —
//!   into a MultiLineString, each part ending on ±180° at the latitude
//!   interpolated linearly in longitude (§3.1.9). `properties.times` and
//!   other per-point arrays are left as they were: they follow the
//!   original points, in order.

use serde_json::{json, Value};

/// A coordinate rounded to 1e-6 degrees.
pub fn round6(x: f64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let r = (x * 1e6).round() / 1e6;
    if r == 0.0 {
        0.0 // no "-0"
    } else {
        r
    }
}

/// Normalize any GeoJSON object in place.
pub fn normalize(v: &mut Value) {
    let Some(kind) = v.get("type").and_then(Value::as_str).map(str::to_owned) else {
        return;
    };
    match kind.as_str() {
        "FeatureCollection" => {
            if let Some(fs) = v.get_mut("features").and_then(Value::as_array_mut) {
                fs.iter_mut().for_each(normalize);
            }
        }
        "Feature" => {
            if let Some(g) = v.get_mut("geometry") {
                normalize(g);
            }
        }
        "GeometryCollection" => {
            if let Some(gs) = v.get_mut("geometries").and_then(Value::as_array_mut) {
                gs.iter_mut().for_each(normalize);
            }
        }
        _ => geometry(v, &kind),
    }
}

fn geometry(g: &mut Value, kind: &str) {
    let Some(coords) = g.get_mut("coordinates") else {
        return;
    };
    match kind {
        "Point" => round_position(coords),
        "MultiPoint" => each(coords, round_position),
        "LineString" => {
            let line = positions(coords);
            let parts = cut_antimeridian(&line);
            if parts.len() > 1 {
                g["type"] = json!("MultiLineString");
                g["coordinates"] = lines_json(&parts);
            } else {
                *coords = line_json(&line);
            }
        }
        "MultiLineString" => {
            let parts: Vec<Vec<[f64; 2]>> = coords
                .as_array()
                .map(|ls| {
                    ls.iter()
                        .flat_map(|l| cut_antimeridian(&positions(l)))
                        .collect()
                })
                .unwrap_or_default();
            *coords = lines_json(&parts);
        }
        "Polygon" => orient_polygon(coords),
        "MultiPolygon" => each(coords, orient_polygon),
        _ => {}
    }
}

fn each(v: &mut Value, f: fn(&mut Value)) {
    if let Some(a) = v.as_array_mut() {
        a.iter_mut().for_each(f);
    }
}

/// `[lon, lat, …]` rounded (extra members such as altitude kept).
fn round_position(p: &mut Value) {
    if let Some(a) = p.as_array_mut() {
        for (i, x) in a.iter_mut().enumerate() {
            if i < 2 {
                if let Some(f) = x.as_f64() {
                    *x = json!(round6(f));
                }
            }
        }
    }
}

fn positions(v: &Value) -> Vec<[f64; 2]> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| Some([p.get(0)?.as_f64()?, p.get(1)?.as_f64()?]))
                .collect()
        })
        .unwrap_or_default()
}

fn line_json(l: &[[f64; 2]]) -> Value {
    Value::Array(
        l.iter()
            .map(|p| json!([round6(p[0]), round6(p[1])]))
            .collect(),
    )
}

fn lines_json(ls: &[Vec<[f64; 2]>]) -> Value {
    Value::Array(ls.iter().map(|l| line_json(l)).collect())
}

/// Split a line at every step of more than 180° of longitude: the step
/// is taken the short way round, through ±180°, where both parts end.
pub fn cut_antimeridian(line: &[[f64; 2]]) -> Vec<Vec<[f64; 2]>> {
    let mut parts = vec![Vec::new()];
    for (i, &p) in line.iter().enumerate() {
        if i > 0 {
            let q = line[i - 1];
            let d = p[0] - q[0];
            if d.abs() > 180.0 {
                // Going east across 180° (q near +180, p near -180) or west.
                let east = d < 0.0;
                let (edge_q, edge_p) = if east {
                    (180.0, -180.0)
                } else {
                    (-180.0, 180.0)
                };
                let span = if east {
                    (180.0 - q[0]) + (p[0] + 180.0)
                } else {
                    (q[0] + 180.0) + (180.0 - p[0])
                };
                let frac = if span > 0.0 {
                    (edge_q - q[0]).abs() / span
                } else {
                    0.5
                };
                let lat = q[1] + (p[1] - q[1]) * frac;
                parts.last_mut().expect("a part").push([edge_q, lat]);
                parts.push(vec![[edge_p, lat]]);
            }
        }
        parts.last_mut().expect("a part").push(p);
    }
    parts.retain(|p| !p.is_empty());
    parts
}

/// Twice the signed area of a ring in degrees (positive: counter-clockwise).
fn signed_area2(r: &[[f64; 2]]) -> f64 {
    r.windows(2)
        .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
        .sum()
}

fn orient_polygon(rings: &mut Value) {
    let Some(a) = rings.as_array_mut() else {
        return;
    };
    for (i, ring) in a.iter_mut().enumerate() {
        let mut r = positions(ring);
        let ccw = signed_area2(&r) > 0.0;
        let want_ccw = i == 0;
        if ccw != want_ccw {
            r.reverse();
        }
        *ring = line_json(&r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rings_follow_the_right_hand_rule() {
        let mut p = json!({"type": "Polygon", "coordinates": [
            [[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]],
            [[0.2, 0.2], [0.8, 0.2], [0.8, 0.8], [0.2, 0.8], [0.2, 0.2]]
        ]});
        normalize(&mut p);
        let outer = positions(&p["coordinates"][0]);
        let hole = positions(&p["coordinates"][1]);
        assert!(signed_area2(&outer) > 0.0, "outer ring counter-clockwise");
        assert!(signed_area2(&hole) < 0.0, "hole clockwise");
    }

    #[test]
    fn coordinates_are_rounded_without_noise() {
        let mut p =
            json!({"type": "Point", "coordinates": [12.600000381469727, 35.49999952316284]});
        normalize(&mut p);
        assert_eq!(p["coordinates"], json!([12.6, 35.5]));
    }

    #[test]
    fn crossing_west_is_cut_too() {
        let parts = cut_antimeridian(&[[-179.0, 0.0], [179.0, 2.0]]);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], vec![[-179.0, 0.0], [-180.0, 1.0]]);
        assert_eq!(parts[1], vec![[180.0, 1.0], [179.0, 2.0]]);
    }
}
