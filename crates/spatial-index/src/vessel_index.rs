//! The vessel R-tree, with loose ("fat") boxes so that most position
//! updates do not touch the tree.
//!
//! Each vessel is stored as a small box around its position — ±`margin`
//! degrees, default 0.05° (3 nm of latitude) — rather than as a point. A
//! position update that stays inside the stored box changes nothing in the
//! tree; only when the vessel leaves its box is the entry removed and
//! re-inserted around the new position. A ship at 20 kn reporting every
//! 2–10 s leaves a ±3 nm box every 9 minutes or so, i.e. once in 50–300
//! reports, which takes the R-tree's O(log n) remove-and-insert off the
//! per-update path. This is the "loose bounding volume" technique of
//! dynamic AABB trees in physics engines.
//!
//! The price is paid by queries, and it is small: the tree returns the
//! entries whose box meets the query, and the caller filters them by the
//! exact position it holds (see [`crate::query`]), which it must read
//! anyway to answer. Boxes are stored in single precision (16 bytes); the
//! margin dwarfs the rounding, and query rectangles are widened by 1e-4°
//! before rounding so no candidate is lost.
//!
//! ```
//! use spatial_index::vessel_index::VesselIndex;
//! let mut idx = VesselIndex::new(0.05);
//! let b = idx.insert(7, 35.5, 12.6);
//! // A small move stays inside the box: nothing to do.
//! assert_eq!(idx.update(7, b, 35.51, 12.61), b);
//! // A large one re-inserts.
//! assert_ne!(idx.update(7, b, 36.0, 13.0), b);
//! let mut found = Vec::new();
//! idx.for_each_in_rect([12.9, 35.9, 13.1, 36.1], |s| found.push(s));
//! assert_eq!(found, vec![7]);
//! ```

use std::ops::ControlFlow;

use rstar::{RStarInsertionStrategy, RTree, RTreeObject, RTreeParams, AABB};

use crate::geobox::Rect;

/// A stored box `[min_lon, min_lat, max_lon, max_lat]`.
pub type FatBox = [f32; 4];

/// R-tree node sizes: somewhat larger nodes than rstar's default (6) make
/// the tree shallower, which helps both the occasional re-insert and large
/// viewport queries over a million entries.
#[derive(Debug, Clone, Copy)]
pub struct VesselTreeParams;

impl RTreeParams for VesselTreeParams {
    const MIN_SIZE: usize = 4;
    const MAX_SIZE: usize = 12;
    const REINSERTION_COUNT: usize = 3;
    type DefaultInsertionStrategy = RStarInsertionStrategy;
}

/// One tree entry: a vessel slot and its box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    pub env: AABB<[f32; 2]>,
    pub slot: u32,
}

impl RTreeObject for Entry {
    type Envelope = AABB<[f32; 2]>;

    #[inline]
    fn envelope(&self) -> Self::Envelope {
        self.env
    }
}

/// R-tree of vessel slots by position.
#[derive(Debug, Clone)]
pub struct VesselIndex {
    tree: RTree<Entry, VesselTreeParams>,
    margin: f64,
    moves: u64,
}

impl Default for VesselIndex {
    fn default() -> Self {
        VesselIndex::new(0.05)
    }
}

#[inline]
fn to_env(b: FatBox) -> AABB<[f32; 2]> {
    AABB::from_corners([b[0], b[1]], [b[2], b[3]])
}

/// True when `(lat, lon)` lies in the stored box.
#[inline]
pub fn fat_contains(b: &FatBox, lat: f64, lon: f64) -> bool {
    lon >= f64::from(b[0])
        && lon <= f64::from(b[2])
        && lat >= f64::from(b[1])
        && lat <= f64::from(b[3])
}

impl VesselIndex {
    /// An empty index with boxes of ±`margin_deg` (clamped to 0–1°).
    pub fn new(margin_deg: f64) -> Self {
        let margin = if margin_deg.is_finite() {
            margin_deg.clamp(0.0, 1.0)
        } else {
            0.05
        };
        VesselIndex {
            tree: RTree::new_with_params(),
            margin,
            moves: 0,
        }
    }

    fn fat_box(&self, lat: f64, lon: f64) -> FatBox {
        let m = self.margin;
        [
            (lon - m) as f32,
            (lat - m) as f32,
            (lon + m) as f32,
            (lat + m) as f32,
        ]
    }

    /// Add a slot at a position; returns the stored box.
    pub fn insert(&mut self, slot: u32, lat: f64, lon: f64) -> FatBox {
        let b = self.fat_box(lat, lon);
        self.tree.insert(Entry {
            env: to_env(b),
            slot,
        });
        b
    }

    /// Move a slot stored with box `current` to a new position; returns
    /// the box now stored (`current` when the position is still inside it).
    #[inline]
    pub fn update(&mut self, slot: u32, current: FatBox, lat: f64, lon: f64) -> FatBox {
        if fat_contains(&current, lat, lon) {
            return current;
        }
        self.remove(slot, current);
        self.moves += 1;
        self.insert(slot, lat, lon)
    }

    /// Remove a slot stored with box `b`; false when it was not there.
    pub fn remove(&mut self, slot: u32, b: FatBox) -> bool {
        self.tree
            .remove(&Entry {
                env: to_env(b),
                slot,
            })
            .is_some()
    }

    /// Entries.
    pub fn len(&self) -> usize {
        self.tree.size()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.tree.size() == 0
    }

    /// Entries re-inserted because a vessel left its box.
    pub fn moves(&self) -> u64 {
        self.moves
    }

    /// Replace the whole tree by bulk loading `(slot, lat, lon)` entries
    /// (faster than inserting one by one); returns each slot's box in order.
    pub fn rebuild(&mut self, entries: &[(u32, f64, f64)]) -> Vec<FatBox> {
        let boxes: Vec<FatBox> = entries
            .iter()
            .map(|&(_, lat, lon)| self.fat_box(lat, lon))
            .collect();
        self.tree = RTree::bulk_load_with_params(
            entries
                .iter()
                .zip(&boxes)
                .map(|(&(slot, _, _), &b)| Entry {
                    env: to_env(b),
                    slot,
                })
                .collect(),
        );
        boxes
    }

    /// Call `f` with every slot whose box meets the rectangle (a superset
    /// of the slots positioned in it).
    #[inline]
    pub fn for_each_in_rect(&self, r: Rect, mut f: impl FnMut(u32)) {
        const WIDEN: f64 = 1e-4;
        let env = AABB::from_corners(
            [(r[0] - WIDEN) as f32, (r[1] - WIDEN) as f32],
            [(r[2] + WIDEN) as f32, (r[3] + WIDEN) as f32],
        );
        let _ = self
            .tree
            .locate_in_envelope_intersecting_int(&env, |e| -> ControlFlow<()> {
                f(e.slot);
                ControlFlow::Continue(())
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_only_when_leaving_the_box() {
        let mut idx = VesselIndex::new(0.05);
        let mut b = idx.insert(1, 35.0, 14.0);
        for k in 1..=10 {
            b = idx.update(1, b, 35.0 + k as f64 * 0.004, 14.0);
        }
        assert_eq!(idx.moves(), 0);
        b = idx.update(1, b, 35.06, 14.0);
        assert_eq!(idx.moves(), 1);
        assert_eq!(idx.len(), 1);
        assert!(idx.remove(1, b));
        assert!(idx.is_empty());
        assert!(!idx.remove(1, b));
    }

    #[test]
    fn rebuild_matches_inserts() {
        let mut idx = VesselIndex::new(0.01);
        let entries: Vec<(u32, f64, f64)> = (0..1000)
            .map(|k| (k, (k % 50) as f64, (k / 50) as f64))
            .collect();
        let boxes = idx.rebuild(&entries);
        assert_eq!(idx.len(), 1000);
        let mut n = 0;
        idx.for_each_in_rect([0.0, 0.0, 1.0, 1.0], |_| n += 1);
        assert_eq!(n, 4);
        assert!(idx.remove(7, boxes[7]));
    }
}
