//! Geodesic queries over the vessel R-tree: boxes (several at once, across
//! the antimeridian), radius in nautical miles, and k nearest — all by
//! great-circle distance.
//!
//! Each query asks the R-tree ([`VesselIndex`]) for candidates with a
//! conservative degree rectangle — the box itself, split at ±180°, or the
//! [`cap_box`] of a distance circle — and then decides with the exact
//! position (`pos(slot)`): inside the box, or within the haversine
//! distance. k-nearest runs radius queries of growing size until one
//! holds at least k vessels and keeps the k closest, which is exact near
//! the poles and across the antimeridian, where planar (degree) order is
//! wrong.
//!
//! A slot found through more than one rectangle is reported once: it is
//! skipped in every rectangle after the first that contains it.
//!
//! ```
//! use spatial_index::query::{nearest, within_radius};
//! use spatial_index::vessel_index::VesselIndex;
//! let pts = [(0.0, 179.95), (0.0, -179.95), (0.0, 179.0)];
//! let mut idx = VesselIndex::new(0.01);
//! for (s, &(lat, lon)) in pts.iter().enumerate() {
//!     idx.insert(s as u32, lat, lon);
//! }
//! let pos = |s: u32| pts.get(s as usize).copied();
//! let mut out = Vec::new();
//! // Across the antimeridian, the point 0.1° away is nearer than the one
//! // 0.95° away on the same side.
//! nearest(&idx, 0.0, 179.95, 2, pos, &mut out);
//! assert_eq!(out.iter().map(|o| o.0).collect::<Vec<_>>(), vec![0, 1]);
//! within_radius(&idx, 0.0, -179.99, 10.0 * 1852.0, pos, &mut out);
//! assert_eq!(out.len(), 2);
//! ```

use crate::geobox::{GeoBox, Rect};
use crate::geodesy::{cap_box, haversine_m, wrap_lon, EARTH_RADIUS_M, NM};
use crate::vessel_index::VesselIndex;

#[inline]
fn in_rect(r: &Rect, lat: f64, lon: f64) -> bool {
    lon >= r[0] && lon <= r[2] && lat >= r[1] && lat <= r[3]
}

fn rects_of(boxes: &[GeoBox]) -> Vec<Rect> {
    boxes.iter().flat_map(GeoBox::parts).collect()
}

/// Slots positioned inside any of the boxes, each once, into `out`
/// (cleared first). Boxes with `west > east` cross the antimeridian.
pub fn in_boxes(
    index: &VesselIndex,
    boxes: &[GeoBox],
    pos: impl Fn(u32) -> Option<(f64, f64)>,
    out: &mut Vec<u32>,
) {
    out.clear();
    let rects = rects_of(boxes);
    for (i, r) in rects.iter().enumerate() {
        index.for_each_in_rect(*r, |slot| {
            if let Some((lat, lon)) = pos(slot) {
                if in_rect(r, lat, lon) && !rects[..i].iter().any(|p| in_rect(p, lat, lon)) {
                    out.push(slot);
                }
            }
        });
    }
}

/// Slots within `radius_m` (great-circle) of `(lat, lon)`, with their
/// distances in metres, nearest first, into `out` (cleared first). Nothing
/// for invalid input.
pub fn within_radius(
    index: &VesselIndex,
    lat: f64,
    lon: f64,
    radius_m: f64,
    pos: impl Fn(u32) -> Option<(f64, f64)>,
    out: &mut Vec<(u32, f64)>,
) {
    out.clear();
    let Some(lon) = wrap_lon(lon) else { return };
    let Some(cap) = cap_box(lat, lon, radius_m) else {
        return;
    };
    let rects: Vec<Rect> = cap.parts().collect();
    for (i, r) in rects.iter().enumerate() {
        index.for_each_in_rect(*r, |slot| {
            if let Some((plat, plon)) = pos(slot) {
                if !in_rect(r, plat, plon) || rects[..i].iter().any(|p| in_rect(p, plat, plon)) {
                    return;
                }
                let d = haversine_m(lat, lon, plat, plon);
                if d <= radius_m {
                    out.push((slot, d));
                }
            }
        });
    }
    out.sort_unstable_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
}

/// The `k` slots nearest to `(lat, lon)` by great-circle distance, with
/// distances in metres, nearest first, into `out` (cleared first).
///
/// Radius queries of growing size: every slot within the radius is found,
/// so once at least `k` are, the `k` nearest of them are the `k` nearest
/// of all. The first radius is 2 nm; each next one is scaled by the
/// density seen so far (`√(k / found)`, at least doubled), up to the
/// whole Earth.
pub fn nearest(
    index: &VesselIndex,
    lat: f64,
    lon: f64,
    k: usize,
    pos: impl Fn(u32) -> Option<(f64, f64)>,
    out: &mut Vec<(u32, f64)>,
) {
    out.clear();
    let Some(lon) = wrap_lon(lon) else { return };
    if k == 0 || index.is_empty() || !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
        return;
    }
    let everything = std::f64::consts::PI * EARTH_RADIUS_M;
    let mut r = 2.0 * NM;
    loop {
        within_radius(index, lat, lon, r, &pos, out);
        if out.len() >= k {
            out.truncate(k);
            return;
        }
        if r >= everything {
            return;
        }
        let grow = if out.is_empty() {
            4.0
        } else {
            ((k as f64 / out.len() as f64).sqrt() * 1.25).max(2.0)
        };
        r = (r * grow).min(everything);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_report_each_slot_once() {
        let pts = [(10.0, 10.0), (10.5, 10.5), (-5.0, 179.5), (-5.0, -179.5)];
        let mut idx = VesselIndex::new(0.05);
        for (s, &(lat, lon)) in pts.iter().enumerate() {
            idx.insert(s as u32, lat, lon);
        }
        let pos = |s: u32| pts.get(s as usize).copied();
        let mut out = Vec::new();
        let a = GeoBox::new(9.0, 9.0, 11.0, 11.0).unwrap();
        let b = GeoBox::new(10.2, 10.2, 12.0, 12.0).unwrap();
        let across = GeoBox::new(179.0, -6.0, -179.0, -4.0).unwrap();
        in_boxes(&idx, &[a, b, across], pos, &mut out);
        out.sort();
        assert_eq!(out, vec![0, 1, 2, 3]);
        in_boxes(&idx, &[b], pos, &mut out);
        assert_eq!(out, vec![1]);
    }

    #[test]
    fn hostile_queries_return_nothing() {
        let idx = VesselIndex::new(0.05);
        let pos = |_s: u32| None;
        let mut out = Vec::new();
        within_radius(&idx, f64::NAN, 0.0, 1.0, pos, &mut out);
        nearest(&idx, 0.0, f64::INFINITY, 3, pos, &mut out);
        nearest(&idx, 0.0, 0.0, 3, pos, &mut out);
        assert!(out.is_empty());
    }
}
