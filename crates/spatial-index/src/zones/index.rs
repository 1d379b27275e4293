//! The zone index: which zones contain a point, and how far a vessel can
//! move before that can change.
//!
//! Two R-trees over the zones:
//!
//! * the **part tree** holds the bounding box of every polygon of every
//!   zone; a point's candidate zones are the boxes containing it, each
//!   confirmed with its [`PreparedPolygon`];
//! * the **edge tree** holds every boundary edge. [`ZoneIndex::safe_box`]
//!   finds a box around a point that no edge passes through — inside it,
//!   membership cannot change — from the distance to the nearest edge
//!   within ±`max_half_deg` (default 0.1°, 6 nm; one box query), and
//!   none closer than ±`min_half_deg` (default 0.0001°, about 10 m) to a
//!   boundary.
//!
//! The picture keeps each vessel's zones and safe box; a position update
//! inside the safe box (nearly all of them: a ship at 20 kn 6 nm from the
//! nearest boundary stays inside for 10 minutes) costs four comparisons,
//! and only an update leaving it queries the trees.
//!
//! ```
//! use geo::polygon;
//! use spatial_index::zones::{Zone, ZoneIndex, ZoneKind};
//! let port = polygon![(x: 12.59, y: 35.49), (x: 12.64, y: 35.49), (x: 12.64, y: 35.51), (x: 12.59, y: 35.51)];
//! let idx = ZoneIndex::new(vec![Zone::from_polygon("lampedusa_port", ZoneKind::Port, port)]).unwrap();
//! let mut inside = Vec::new();
//! idx.zones_at(35.50, 12.61, &mut inside);
//! assert_eq!(idx.zone(inside[0]).id.as_ref(), "lampedusa_port");
//! let b = idx.safe_box(35.50, 12.61);
//! assert!(b[0] <= 12.61 && 12.61 <= b[2] && b[2] <= 12.64);
//! ```

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use rstar::primitives::{GeomWithData, Line, Rectangle};
use rstar::{RStarInsertionStrategy, RTree, RTreeParams, AABB};

use super::geojson::{duplicate_ids, load_paths, ZoneLoadError};
use super::prepared::{segment_intersects_box, PreparedPolygon};
use super::Zone;

type PartEntry = GeomWithData<Rectangle<[f64; 2]>, u32>;
type EdgeEntry = Line<[f64; 2]>;

/// The zone trees are bulk-loaded once and only read: wide nodes make
/// them shallow, which is what point and box look-ups want.
#[derive(Debug, Clone, Copy)]
pub struct StaticTreeParams;

impl RTreeParams for StaticTreeParams {
    const MIN_SIZE: usize = 8;
    const MAX_SIZE: usize = 16;
    const REINSERTION_COUNT: usize = 4;
    type DefaultInsertionStrategy = RStarInsertionStrategy;
}

/// Box in which nothing is known (contains no point).
pub const NO_BOX: [f64; 4] = [f64::INFINITY, f64::INFINITY, -f64::INFINITY, -f64::INFINITY];
/// Box covering everything.
pub const ALL_BOX: [f64; 4] = [-f64::INFINITY, -f64::INFINITY, f64::INFINITY, f64::INFINITY];

/// Zones with their R-trees and prepared polygons.
#[derive(Debug, Clone)]
pub struct ZoneIndex {
    zones: Vec<Zone>,
    by_id: HashMap<Arc<str>, u32>,
    /// (zone index, polygon) per polygon part.
    parts: Vec<(u32, PreparedPolygon)>,
    part_tree: RTree<PartEntry, StaticTreeParams>,
    edge_tree: RTree<EdgeEntry, StaticTreeParams>,
    max_half_deg: f64,
    min_half_deg: f64,
}

impl Default for ZoneIndex {
    fn default() -> Self {
        ZoneIndex::empty()
    }
}

impl ZoneIndex {
    /// No zones.
    pub fn empty() -> Self {
        ZoneIndex {
            zones: Vec::new(),
            by_id: HashMap::new(),
            parts: Vec::new(),
            part_tree: RTree::new_with_params(),
            edge_tree: RTree::new_with_params(),
            max_half_deg: 0.1,
            min_half_deg: 0.000_1,
        }
    }

    /// Index zones; fails on duplicate ids.
    pub fn new(zones: Vec<Zone>) -> Result<Self, ZoneLoadError> {
        let errors = duplicate_ids(&zones);
        if !errors.is_empty() {
            return Err(ZoneLoadError { errors });
        }
        let mut parts = Vec::new();
        let mut edges = Vec::new();
        for (zi, z) in zones.iter().enumerate() {
            for poly in &z.geometry.0 {
                let p = PreparedPolygon::new(poly);
                if p.edges().is_empty() {
                    continue;
                }
                edges.extend(
                    p.edges()
                        .iter()
                        .map(|e| Line::new([e[0], e[1]], [e[2], e[3]])),
                );
                parts.push((zi as u32, p));
            }
        }
        let part_tree = RTree::bulk_load_with_params(
            parts
                .iter()
                .enumerate()
                .map(|(pi, (_, p))| {
                    let b = p.bbox;
                    GeomWithData::new(
                        Rectangle::from_corners([b[0], b[1]], [b[2], b[3]]),
                        pi as u32,
                    )
                })
                .collect(),
        );
        let by_id = zones
            .iter()
            .enumerate()
            .map(|(i, z)| (z.id.clone(), i as u32))
            .collect();
        Ok(ZoneIndex {
            zones,
            by_id,
            parts,
            part_tree,
            edge_tree: RTree::bulk_load_with_params(edges),
            ..ZoneIndex::empty()
        })
    }

    /// Load and index zones from files and folders (see
    /// [`super::geojson`]); all or nothing.
    pub fn load<P: AsRef<std::path::Path>>(paths: &[P]) -> Result<Self, ZoneLoadError> {
        ZoneIndex::new(load_paths(paths)?)
    }

    /// Set the largest and smallest half-widths, in degrees, tried for
    /// safe boxes.
    pub fn with_safe_box_limits(mut self, max_half_deg: f64, min_half_deg: f64) -> Self {
        if max_half_deg.is_finite() && min_half_deg.is_finite() && min_half_deg > 0.0 {
            self.max_half_deg = max_half_deg.max(min_half_deg);
            self.min_half_deg = min_half_deg;
        }
        self
    }

    /// Number of zones.
    pub fn len(&self) -> usize {
        self.zones.len()
    }

    /// True when there are no zones.
    pub fn is_empty(&self) -> bool {
        self.zones.is_empty()
    }

    /// A zone by index.
    ///
    /// # Panics
    /// When `index >= len()`.
    pub fn zone(&self, index: u32) -> &Zone {
        &self.zones[index as usize]
    }

    /// A zone's index by id.
    pub fn index_of(&self, id: &str) -> Option<u32> {
        self.by_id.get(id).copied()
    }

    /// All zones, in load order.
    pub fn zones(&self) -> &[Zone] {
        &self.zones
    }

    /// Total boundary edges.
    pub fn edge_count(&self) -> usize {
        self.edge_tree.size()
    }

    /// Indexes of the zones containing `(lat, lon)`, sorted, into `out`
    /// (cleared first).
    pub fn zones_at(&self, lat: f64, lon: f64, out: &mut Vec<u32>) {
        out.clear();
        if !(lat.is_finite() && lon.is_finite()) {
            return;
        }
        let _ = self
            .part_tree
            .locate_all_at_point_int(&[lon, lat], |e| -> ControlFlow<()> {
                let (zone, poly) = &self.parts[e.data as usize];
                if poly.contains(lon, lat) {
                    out.push(*zone);
                }
                ControlFlow::Continue(())
            });
        if out.len() > 1 {
            out.sort_unstable();
            out.dedup();
        }
    }

    /// A box `[min_lon, min_lat, max_lon, max_lat]` around `(lat, lon)` that
    /// no zone boundary crosses, so that every point in it is in the same
    /// zones. [`NO_BOX`] when the point is within `min_half_deg` of a
    /// boundary; [`ALL_BOX`] when there are no zones.
    ///
    /// One box query on the edge tree, ±`max_half_deg` (default 0.1°)
    /// around the point, finds the edges that could come closer than that;
    /// the half-width is the smallest Chebyshev (L∞) distance from the
    /// point to any of them — the largest square centred on the point that
    /// no edge meets. Edges outside the query box are farther than
    /// `max_half_deg` in that distance, so they cannot meet a square of at
    /// most that half-width.
    pub fn safe_box(&self, lat: f64, lon: f64) -> [f64; 4] {
        if self.edge_tree.size() == 0 {
            return ALL_BOX;
        }
        if !(lat.is_finite() && lon.is_finite()) {
            return NO_BOX;
        }
        let r0 = self.max_half_deg;
        let env = AABB::from_corners([lon - r0, lat - r0], [lon + r0, lat + r0]);
        let mut nearest = r0;
        let _ = self.edge_tree.locate_in_envelope_intersecting_int(
            &env,
            |l: &EdgeEntry| -> ControlFlow<()> {
                nearest = nearest.min(segment_linf(l, lon, lat));
                ControlFlow::Continue(())
            },
        );
        // A hair under the distance so that rounding `lon ± r` cannot put
        // an edge point inside.
        let r = nearest.min(r0) * (1.0 - 1e-9) - 1e-12;
        if r.is_nan() || r < self.min_half_deg {
            return NO_BOX;
        }
        [lon - r, lat - r, lon + r, lat + r]
    }

    /// True when some boundary edge has a point in the box (exact test;
    /// for checking safe boxes).
    pub fn edges_meet_box(&self, b: &[f64; 4]) -> bool {
        let env = AABB::from_corners([b[0], b[1]], [b[2], b[3]]);
        self.edge_tree
            .locate_in_envelope_intersecting_int(&env, |l: &EdgeEntry| {
                let s = [l.from[0], l.from[1], l.to[0], l.to[1]];
                if segment_intersects_box(&s, b) {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .is_break()
    }
}

/// Chebyshev (L∞) distance, in degrees, from a point to a segment: the
/// half-width of the smallest square around the point that meets it.
/// `max(|x(t) − px|, |y(t) − py|)` is convex and piecewise linear in the
/// segment parameter `t`, so its minimum is at an end, where one term is
/// zero, or where the two terms are equal.
#[inline]
fn segment_linf(l: &EdgeEntry, px: f64, py: f64) -> f64 {
    let (ax, ay) = (l.from[0] - px, l.from[1] - py);
    let (dx, dy) = (l.to[0] - l.from[0], l.to[1] - l.from[1]);
    let at = |t: f64| (ax + t * dx).abs().max((ay + t * dy).abs());
    let mut best = at(0.0).min(at(1.0));
    for (num, den) in [
        (-ax, dx),
        (-ay, dy),
        (ay - ax, dx - dy),
        (-ay - ax, dx + dy),
    ] {
        if den != 0.0 {
            let t = num / den;
            if (0.0..=1.0).contains(&t) {
                best = best.min(at(t));
            }
        }
    }
    best
}

/// True when the point lies in the box.
#[inline]
pub fn box_contains(b: &[f64; 4], lat: f64, lon: f64) -> bool {
    lon >= b[0] && lon <= b[2] && lat >= b[1] && lat <= b[3]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zones::ZoneKind;
    use geo::polygon;

    fn square(id: &str, x: f64, y: f64, s: f64) -> Zone {
        Zone::from_polygon(
            id,
            ZoneKind::Watch,
            polygon![(x: x, y: y), (x: x + s, y: y), (x: x + s, y: y + s), (x: x, y: y + s)],
        )
    }

    #[test]
    fn overlapping_zones_and_safe_boxes() {
        let idx =
            ZoneIndex::new(vec![square("a", 0.0, 0.0, 2.0), square("b", 1.0, 1.0, 2.0)]).unwrap();
        let mut out = Vec::new();
        idx.zones_at(1.5, 1.5, &mut out);
        assert_eq!(out, vec![0, 1]);
        idx.zones_at(0.5, 0.5, &mut out);
        assert_eq!(out, vec![0]);
        idx.zones_at(5.0, 5.0, &mut out);
        assert!(out.is_empty());
        // Far from every edge: the largest box.
        let b = idx.safe_box(10.0, 10.0);
        assert!(
            (b[2] - b[0] - 0.2).abs() < 1e-8 && box_contains(&b, 10.0, 10.0),
            "{b:?}"
        );
        // 0.1° from an edge: a smaller box that stays clear of it.
        let b = idx.safe_box(0.5, 1.9);
        assert!(b[2] < 2.0 && b[2] > 1.9999 && b[0] <= 1.9, "{b:?}");
        assert!(!idx.edges_meet_box(&b));
        // On an edge: nothing.
        assert_eq!(idx.safe_box(0.5, 2.0), NO_BOX);
        assert_eq!(ZoneIndex::empty().safe_box(0.0, 0.0), ALL_BOX);
        assert_eq!(idx.safe_box(f64::NAN, 0.0), NO_BOX);
    }

    #[test]
    fn safe_boxes_never_meet_an_edge() {
        let idx = ZoneIndex::new(vec![
            square("a", 0.0, 0.0, 2.0),
            square("b", 1.0, 1.0, 2.0),
            Zone::from_polygon(
                "tri",
                ZoneKind::Port,
                polygon![(x: 0.3, y: 2.5), (x: 2.7, y: 0.2), (x: 2.9, y: 2.9)],
            ),
        ])
        .unwrap();
        let mut seed = 99u64;
        for _ in 0..20_000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let x = (seed >> 11) as f64 / (1u64 << 53) as f64 * 4.0 - 0.5;
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let y = (seed >> 11) as f64 / (1u64 << 53) as f64 * 4.0 - 0.5;
            let b = idx.safe_box(y, x);
            if b != NO_BOX {
                assert!(box_contains(&b, y, x));
                assert!(!idx.edges_meet_box(&b), "{x},{y}: {b:?}");
            }
        }
    }

    #[test]
    fn chebyshev_distance_to_segments() {
        let seg = |a: [f64; 2], b: [f64; 2]| Line::new(a, b);
        assert_eq!(segment_linf(&seg([1.0, -5.0], [1.0, 5.0]), 0.0, 0.0), 1.0);
        assert_eq!(segment_linf(&seg([2.0, 3.0], [2.0, 3.0]), 0.0, 0.0), 3.0);
        // The diagonal x + y = 2: the square of half-width 1 touches it.
        assert!((segment_linf(&seg([0.0, 2.0], [2.0, 0.0]), 0.0, 0.0) - 1.0).abs() < 1e-12);
        assert!((segment_linf(&seg([3.0, 2.0], [5.0, 0.0]), 0.0, 0.0) - 3.0).abs() < 1e-12);
        assert!((segment_linf(&seg([-1.0, 3.0], [3.0, -1.0]), 0.0, 0.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn duplicate_ids_rejected() {
        let e = ZoneIndex::new(vec![square("a", 0.0, 0.0, 1.0), square("a", 5.0, 5.0, 1.0)])
            .unwrap_err();
        assert!(e.to_string().contains("duplicate id"), "{e}");
    }
}
