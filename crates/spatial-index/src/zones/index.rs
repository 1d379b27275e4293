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
//!   membership cannot change. It tries a box of ±`max_half_deg` (default
//!   0.25°, 15 nm) and shrinks it four-fold until it is clear of edges
//!   (or gives up below ±`min_half_deg`, about 100 m).
//!
//! The picture keeps each vessel's zones and safe box; a position update
//! inside the safe box (nearly all of them: a ship at 20 kn crosses 15 nm
//! in 45 minutes) costs four comparisons, and only an update leaving it
//! queries the trees.
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
            max_half_deg: 0.25,
            min_half_deg: 0.001,
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
    /// zones. [`NO_BOX`] when the point is within about `min_half_deg` of a
    /// boundary; [`ALL_BOX`] when there are no zones.
    pub fn safe_box(&self, lat: f64, lon: f64) -> [f64; 4] {
        if self.edge_tree.size() == 0 {
            return ALL_BOX;
        }
        if !(lat.is_finite() && lon.is_finite()) {
            return NO_BOX;
        }
        let mut r = self.max_half_deg;
        while r >= self.min_half_deg {
            let b = [lon - r, lat - r, lon + r, lat + r];
            let env = AABB::from_corners([b[0], b[1]], [b[2], b[3]]);
            let hit = self
                .edge_tree
                .locate_in_envelope_intersecting_int(&env, |l: &EdgeEntry| {
                    let s = [l.from[0], l.from[1], l.to[0], l.to[1]];
                    if segment_intersects_box(&s, &b) {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                });
            if hit.is_continue() {
                return b;
            }
            r *= 0.25;
        }
        NO_BOX
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
        assert_eq!(idx.safe_box(10.0, 10.0), [9.75, 9.75, 10.25, 10.25]);
        // 0.1° from an edge: a smaller box that stays clear of it.
        let b = idx.safe_box(0.5, 1.9);
        assert!(b[2] < 2.0 && b[0] <= 1.9, "{b:?}");
        // On an edge: nothing.
        assert_eq!(idx.safe_box(0.5, 2.0), NO_BOX);
        assert_eq!(ZoneIndex::empty().safe_box(0.0, 0.0), ALL_BOX);
        assert_eq!(idx.safe_box(f64::NAN, 0.0), NO_BOX);
    }

    #[test]
    fn duplicate_ids_rejected() {
        let e = ZoneIndex::new(vec![square("a", 0.0, 0.0, 1.0), square("a", 5.0, 5.0, 1.0)])
            .unwrap_err();
        assert!(e.to_string().contains("duplicate id"), "{e}");
    }
}
