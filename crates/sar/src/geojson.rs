//! GeoJSON (RFC 7946) for the search-planning outputs, and the bridge to
//! the `geo` crate's polygons in a [`LocalFrame`] (nautical miles around a
//! centre), where areas, unions and intersections are computed.
//!
//! Positions are `[lon, lat]`; polygon exterior rings are closed and
//! counter-clockwise, as RFC 7946 asks.
//!
//! ```
//! use sar::geojson::{polygon_geometry, polygons_from_geojson};
//! use sar::LatLon;
//! let ring = [LatLon::new(35.0, 13.0), LatLon::new(35.0, 13.1), LatLon::new(35.1, 13.1)];
//! let g = polygon_geometry(&ring);
//! assert_eq!(g["coordinates"][0].as_array().unwrap().len(), 4, "closed");
//! let back = polygons_from_geojson(&g).unwrap();
//! assert_eq!(back[0][0].len(), 3);
//! ```

use crate::error::SarError;
use crate::geo::{LatLon, LocalFrame};
use ::geo::{Coord, LineString, MultiPolygon, Polygon};
use serde_json::{json, Value};

/// A polygon as rings of positions (first the exterior, then holes), not
/// closed (the last position is not a repeat of the first).
pub type Rings = Vec<Vec<LatLon>>;

fn signed_area(ring: &[LatLon]) -> f64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            a.lon * b.lat - b.lon * a.lat
        })
        .sum::<f64>()
        / 2.0
}

fn closed_coords(ring: &[LatLon], ccw: bool) -> Vec<[f64; 2]> {
    let mut r: Vec<LatLon> = ring.to_vec();
    if (signed_area(&r) > 0.0) != ccw {
        r.reverse();
    }
    let mut c: Vec<[f64; 2]> = r.iter().map(|p| [p.lon, p.lat]).collect();
    if let Some(first) = c.first().copied() {
        c.push(first);
    }
    c
}

/// A GeoJSON Polygon geometry from one exterior ring.
pub fn polygon_geometry(ring: &[LatLon]) -> Value {
    json!({ "type": "Polygon", "coordinates": [closed_coords(ring, true)] })
}

/// A GeoJSON MultiPolygon geometry.
pub fn multipolygon_geometry(polys: &[Rings]) -> Value {
    let coords: Vec<Vec<Vec<[f64; 2]>>> = polys
        .iter()
        .map(|rings| {
            rings
                .iter()
                .enumerate()
                .map(|(i, r)| closed_coords(r, i == 0))
                .collect()
        })
        .collect();
    json!({ "type": "MultiPolygon", "coordinates": coords })
}

/// A GeoJSON LineString geometry.
pub fn line_string_geometry(points: &[LatLon]) -> Value {
    json!({
        "type": "LineString",
        "coordinates": points.iter().map(|p| [p.lon, p.lat]).collect::<Vec<_>>(),
    })
}

/// A GeoJSON Feature.
pub fn feature(geometry: Value, properties: Value) -> Value {
    json!({ "type": "Feature", "geometry": geometry, "properties": properties })
}

fn ring_from(v: &Value) -> Result<Vec<LatLon>, SarError> {
    let bad = || SarError::invalid("a polygon ring must be a list of [lon, lat] positions");
    let pts = v.as_array().ok_or_else(bad)?;
    let mut ring = Vec::with_capacity(pts.len());
    for p in pts {
        let a = p.as_array().ok_or_else(bad)?;
        let lon = a.first().and_then(Value::as_f64).ok_or_else(bad)?;
        let lat = a.get(1).and_then(Value::as_f64).ok_or_else(bad)?;
        let q = LatLon::new(lat, lon);
        if !q.is_valid() {
            return Err(bad());
        }
        ring.push(q);
    }
    if ring.len() > 1 && ring.first() == ring.last() {
        ring.pop();
    }
    if ring.len() < 3 {
        return Err(SarError::invalid(
            "a polygon ring needs at least 3 positions",
        ));
    }
    Ok(ring)
}

fn rings_from(v: &Value) -> Result<Rings, SarError> {
    v.as_array()
        .ok_or_else(|| SarError::invalid("polygon coordinates must be a list of rings"))?
        .iter()
        .map(ring_from)
        .collect()
}

/// The polygons of a GeoJSON Feature or geometry (Polygon or MultiPolygon).
pub fn polygons_from_geojson(v: &Value) -> Result<Vec<Rings>, SarError> {
    let g = if v.get("type").and_then(Value::as_str) == Some("Feature") {
        v.get("geometry")
            .ok_or_else(|| SarError::invalid("the feature has no geometry"))?
    } else {
        v
    };
    let coords = g.get("coordinates");
    match (g.get("type").and_then(Value::as_str), coords) {
        (Some("Polygon"), Some(c)) => Ok(vec![rings_from(c)?]),
        (Some("MultiPolygon"), Some(c)) => c
            .as_array()
            .ok_or_else(|| SarError::invalid("MultiPolygon coordinates must be a list"))?
            .iter()
            .map(rings_from)
            .collect(),
        _ => Err(SarError::invalid(
            "the search area must be a GeoJSON Polygon or MultiPolygon",
        )),
    }
}

/// Polygons (lat/lon rings) into the local plane.
pub fn to_local(frame: &LocalFrame, polys: &[Rings]) -> MultiPolygon<f64> {
    let ls = |r: &Vec<LatLon>| {
        LineString::from(
            r.iter()
                .map(|p| {
                    let (x, y) = frame.to_xy(*p);
                    Coord { x, y }
                })
                .collect::<Vec<_>>(),
        )
    };
    MultiPolygon::new(
        polys
            .iter()
            .filter(|rings| !rings.is_empty())
            .map(|rings| Polygon::new(ls(&rings[0]), rings[1..].iter().map(ls).collect()))
            .collect(),
    )
}

/// Local-plane polygons back to lat/lon rings (open rings).
pub fn from_local(frame: &LocalFrame, mp: &MultiPolygon<f64>) -> Vec<Rings> {
    let ring = |l: &LineString<f64>| {
        let mut r: Vec<LatLon> = l.0.iter().map(|c| frame.to_latlon(c.x, c.y)).collect();
        if r.len() > 1 && r.first() == r.last() {
            r.pop();
        }
        r
    };
    mp.0.iter()
        .map(|p| {
            std::iter::once(ring(p.exterior()))
                .chain(p.interiors().iter().map(ring))
                .collect()
        })
        .collect()
}

/// A regular polygon approximating a circle of `radius` around `(cx, cy)`
/// in the plane, counter-clockwise, `n` vertices (the polygon's area is
/// `n/(2π)·sin(2π/n)` of the circle's: 99.7 % at n = 48).
pub fn circle_xy(cx: f64, cy: f64, radius: f64, n: usize) -> Vec<(f64, f64)> {
    (0..n)
        .map(|i| {
            let a = std::f64::consts::TAU * i as f64 / n as f64;
            (cx + radius * a.cos(), cy + radius * a.sin())
        })
        .collect()
}

/// A plane ring (open) as a `geo` polygon.
pub fn polygon_xy(ring: &[(f64, f64)]) -> Polygon<f64> {
    Polygon::new(
        LineString::from(
            ring.iter()
                .map(|&(x, y)| Coord { x, y })
                .collect::<Vec<_>>(),
        ),
        vec![],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::geo::Area;

    #[test]
    fn rings_are_closed_and_counter_clockwise() {
        // Clockwise input comes out counter-clockwise.
        let cw = [
            LatLon::new(0.0, 0.0),
            LatLon::new(1.0, 0.0),
            LatLon::new(1.0, 1.0),
            LatLon::new(0.0, 1.0),
        ];
        let g = polygon_geometry(&cw);
        let c = g["coordinates"][0].as_array().unwrap();
        assert_eq!(c.len(), 5);
        assert_eq!(c[0], c[4]);
        let back = polygons_from_geojson(&feature(g, json!({}))).unwrap();
        assert!(signed_area(&back[0][0]) > 0.0);
    }

    #[test]
    fn local_round_trip_and_area() {
        let f = LocalFrame::new(LatLon::new(35.0, 13.0));
        let sq = polygon_xy(&[(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)]);
        let mp = MultiPolygon::new(vec![sq]);
        let rings = from_local(&f, &mp);
        let again = to_local(&f, &rings);
        assert!((again.unsigned_area() - 4.0).abs() < 1e-9);
        let circle = polygon_xy(&circle_xy(0.0, 0.0, 1.0, 48));
        let ratio = circle.unsigned_area() / std::f64::consts::PI;
        assert!((ratio - 0.99715).abs() < 1e-4, "{ratio}");
    }

    #[test]
    fn bad_geojson_is_refused() {
        assert!(polygons_from_geojson(&json!({"type": "Point", "coordinates": [1, 2]})).is_err());
        assert!(polygons_from_geojson(
            &json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]})
        )
        .is_err());
        assert!(polygons_from_geojson(
            &json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 100], [2, 0]]]})
        )
        .is_err());
    }
}
