//! Latitude/longitude boxes, including boxes that cross the antimeridian.
//!
//! A [`GeoBox`] is given as west, south, east, north in degrees, the order
//! of a GeoJSON `bbox`. When `west > east` the box crosses ±180°: a map
//! viewport over the Bering Strait from 170°E to 170°W is
//! `GeoBox { west: 170.0, east: -170.0, .. }`. [`GeoBox::parts`] splits such
//! a box into the (at most two) ordinary rectangles an R-tree can answer.
//!
//! ```
//! use spatial_index::GeoBox;
//! let bering = GeoBox::new(170.0, 60.0, -170.0, 66.0).unwrap();
//! assert!(bering.crosses_antimeridian());
//! assert!(bering.contains(63.0, 179.5) && bering.contains(63.0, -175.0));
//! assert!(!bering.contains(63.0, 0.0));
//! assert_eq!(bering.parts().count(), 2);
//! ```

use serde::{Deserialize, Serialize};

/// A box in degrees; `west > east` crosses the antimeridian.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoBox {
    pub west: f64,
    pub south: f64,
    pub east: f64,
    pub north: f64,
}

/// An ordinary rectangle `[min_lon, min_lat, max_lon, max_lat]` that does
/// not cross the antimeridian.
pub type Rect = [f64; 4];

impl GeoBox {
    /// The whole Earth.
    pub const WORLD: GeoBox = GeoBox {
        west: -180.0,
        south: -90.0,
        east: 180.0,
        north: 90.0,
    };

    /// A checked box: finite, longitudes within ±180, latitudes within ±90
    /// and `south <= north`. `west > east` means it crosses the antimeridian.
    pub fn new(west: f64, south: f64, east: f64, north: f64) -> Option<GeoBox> {
        let ok = [west, south, east, north].iter().all(|v| v.is_finite())
            && (-180.0..=180.0).contains(&west)
            && (-180.0..=180.0).contains(&east)
            && (-90.0..=90.0).contains(&south)
            && (-90.0..=90.0).contains(&north)
            && south <= north;
        ok.then_some(GeoBox {
            west,
            south,
            east,
            north,
        })
    }

    /// True when the box crosses the antimeridian.
    pub fn crosses_antimeridian(&self) -> bool {
        self.west > self.east
    }

    /// True when the point lies in the box (edges included). Longitudes
    /// -180 and 180 are the same meridian.
    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        if !(lat >= self.south && lat <= self.north) {
            return false;
        }
        let in_lon = |x: f64| {
            if self.crosses_antimeridian() {
                x >= self.west || x <= self.east
            } else {
                x >= self.west && x <= self.east
            }
        };
        in_lon(lon) || (lon == 180.0 && in_lon(-180.0)) || (lon == -180.0 && in_lon(180.0))
    }

    /// The ordinary rectangles that make up the box: one, or two for a box
    /// crossing the antimeridian. A rectangle touching ±180° is followed by
    /// a zero-width one on the other side, so that a point stored at 180°
    /// is found by a box ending at -180° and the reverse.
    pub fn parts(&self) -> impl Iterator<Item = Rect> {
        let mut out = [[0.0; 4]; 4];
        let mut n = 0;
        let mut push = |r: Rect| {
            out[n] = r;
            n += 1;
        };
        if self.crosses_antimeridian() {
            push([self.west, self.south, 180.0, self.north]);
            push([-180.0, self.south, self.east, self.north]);
        } else {
            push([self.west, self.south, self.east, self.north]);
            if self.east == 180.0 && self.west > -180.0 {
                push([-180.0, self.south, -180.0, self.north]);
            }
            if self.west == -180.0 && self.east < 180.0 {
                push([180.0, self.south, 180.0, self.north]);
            }
        }
        out.into_iter().take(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks() {
        assert!(GeoBox::new(0.0, 10.0, 1.0, 9.0).is_none());
        assert!(GeoBox::new(f64::NAN, 0.0, 1.0, 1.0).is_none());
        assert!(GeoBox::new(-181.0, 0.0, 1.0, 1.0).is_none());
        assert!(GeoBox::new(0.0, -91.0, 1.0, 1.0).is_none());
        assert!(GeoBox::new(179.0, -1.0, -179.0, 1.0)
            .unwrap()
            .crosses_antimeridian());
    }

    #[test]
    fn meridian_180_is_shared() {
        let east_edge = GeoBox::new(170.0, -1.0, 180.0, 1.0).unwrap();
        assert!(east_edge.contains(0.0, -180.0));
        assert_eq!(east_edge.parts().count(), 2);
        let west_edge = GeoBox::new(-180.0, -1.0, -170.0, 1.0).unwrap();
        assert!(west_edge.contains(0.0, 180.0));
        assert_eq!(GeoBox::WORLD.parts().count(), 1);
    }
}
