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
//!   membership cannot change — from the distance to the nearest edge (one
//!   nearest-neighbour query), capped at ±`max_half_deg` (default 1°), and
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
use rstar::{RTree, AABB};

use super::geojson::{duplicate_ids, load_paths, ZoneLoadError};
use super::prepared::{segment_intersects_box, PreparedPolygon};
use super::Zone;

type PartEntry = GeomWithData<Rectangle<[f64; 2]>, u32>;
type EdgeEntry = Line<[f64; 2]>;

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
    part_tree: RTree<PartEntry>,
    edge_tree: RTree<EdgeEntry>,
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
            part_tree: RTree::new(),
            edge_tree: RTree::new(),
            max_half_deg: 1.0,
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
        let part_tree = RTree::bulk_load(
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
            edge_tree: RTree::bulk_load(edges),
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
        for e in self.part_tree.locate_all_at_point(&[lon, lat]) {
            let (zone, poly) = &self.parts[e.data as usize];
            if poly.contains(lon, lat) {
                out.push(*zone);
            }
        }
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
    /// One nearest-neighbour query on the edge tree gives the Euclidean
    /// (degree) distance `d` to the nearest boundary edge; the square of
    /// half-width `d / √2` fits inside that circle, so no edge meets it.
    /// The half-width is capped at `max_half_deg`.
    pub fn safe_box(&self, lat: f64, lon: f64) -> [f64; 4] {
        if self.edge_tree.size() == 0 {
            return ALL_BOX;
        }
        if !(lat.is_finite() && lon.is_finite()) {
            return NO_BOX;
        }
        let Some((_, d2)) = self
            .edge_tree
            .nearest_neighbor_iter_with_distance_2(&[lon, lat])
            .next()
        else {
            return ALL_BOX;
        };
        // A hair under d/√2 so rounding cannot put an edge point inside.
        let r = (d2.sqrt() * std::f64::consts::FRAC_1_SQRT_2 * (1.0 - 1e-9)).min(self.max_half_deg);
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
        assert_eq!(idx.safe_box(10.0, 10.0), [9.0, 9.0, 11.0, 11.0]);
        // 0.1° from an edge: a smaller box that stays clear of it.
        let b = idx.safe_box(0.5, 1.9);
        assert!(b[2] < 2.0 && b[2] > 1.95 && b[0] <= 1.9, "{b:?}");
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
    fn duplicate_ids_rejected() {
        let e = ZoneIndex::new(vec![square("a", 0.0, 0.0, 1.0), square("a", 5.0, 5.0, 1.0)])
            .unwrap_err();
        assert!(e.to_string().contains("duplicate id"), "{e}");
    }
}
