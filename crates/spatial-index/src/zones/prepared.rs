//! Prepared polygons: point-in-polygon in time proportional to the edges
//! near the point's latitude, not to all edges.
//!
//! A polygon's edges (exterior and holes together) are bucketed into
//! horizontal bands of equal height over its bounding box. The even-odd
//! ray test for a point only needs the edges that straddle the point's
//! latitude, and all of those are in the point's band, so a coastline of
//! thousands of vertices costs a handful of edge tests. Bands are capped
//! so that long edges spanning many bands cannot blow up memory.
//!
//! [`segment_intersects_box`] is the exact separating-axis test used to
//! find boxes no zone boundary passes through (see
//! [`super::index::ZoneIndex::safe_box`]).
//!
//! ```
//! use geo::polygon;
//! use spatial_index::zones::prepared::PreparedPolygon;
//! let square = polygon![(x: 0.0, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 2.0), (x: 0.0, y: 2.0)];
//! let p = PreparedPolygon::new(&square);
//! assert!(p.contains(1.0, 1.0));
//! assert!(!p.contains(3.0, 1.0));
//! ```

/// An edge: `[x1, y1, x2, y2]` (lon/lat).
pub type Edge = [f64; 4];

/// A polygon prepared for repeated point-in-polygon tests.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedPolygon {
    /// `[min_lon, min_lat, max_lon, max_lat]`.
    pub bbox: [f64; 4],
    edges: Vec<Edge>,
    inv_band_h: f64,
    band_start: Vec<u32>,
    band_edges: Vec<u32>,
}

const MAX_BANDS: usize = 4096;

impl PreparedPolygon {
    /// Prepare a polygon (exterior and interiors). An empty polygon
    /// contains nothing.
    pub fn new(polygon: &geo::Polygon<f64>) -> Self {
        let mut edges = Vec::new();
        for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
            for l in ring.lines() {
                if l.start != l.end {
                    edges.push([l.start.x, l.start.y, l.end.x, l.end.y]);
                }
            }
        }
        let mut bbox = [f64::INFINITY, f64::INFINITY, -f64::INFINITY, -f64::INFINITY];
        for e in &edges {
            bbox[0] = bbox[0].min(e[0]).min(e[2]);
            bbox[1] = bbox[1].min(e[1]).min(e[3]);
            bbox[2] = bbox[2].max(e[0]).max(e[2]);
            bbox[3] = bbox[3].max(e[1]).max(e[3]);
        }
        let mut nbands = (edges.len() / 2).clamp(1, MAX_BANDS);
        loop {
            let p = Self::banded(bbox, &edges, nbands);
            // Long edges are listed in every band they cross; keep the
            // index within a small multiple of the edge count.
            if p.band_edges.len() <= 8 * edges.len() + 64 || nbands == 1 {
                return PreparedPolygon { edges, ..p };
            }
            nbands /= 2;
        }
    }

    fn banded(bbox: [f64; 4], edges: &[Edge], nbands: usize) -> PreparedPolygon {
        let height = bbox[3] - bbox[1];
        let inv_band_h = if height > 0.0 {
            nbands as f64 / height
        } else {
            0.0
        };
        let band = |y: f64| -> usize {
            let b = (y - bbox[1]) * inv_band_h;
            if b.is_nan() || b < 0.0 {
                0
            } else {
                (b as usize).min(nbands - 1)
            }
        };
        let mut counts = vec![0u32; nbands + 1];
        for e in edges {
            let (lo, hi) = (band(e[1].min(e[3])), band(e[1].max(e[3])));
            for c in &mut counts[lo..=hi] {
                *c += 1;
            }
        }
        let mut band_start = Vec::with_capacity(nbands + 1);
        let mut acc = 0u32;
        for c in &counts[..nbands] {
            band_start.push(acc);
            acc += c;
        }
        band_start.push(acc);
        let mut fill = band_start.clone();
        let mut band_edges = vec![0u32; acc as usize];
        for (i, e) in edges.iter().enumerate() {
            let (lo, hi) = (band(e[1].min(e[3])), band(e[1].max(e[3])));
            for f in &mut fill[lo..=hi] {
                band_edges[*f as usize] = i as u32;
                *f += 1;
            }
        }
        PreparedPolygon {
            bbox,
            edges: Vec::new(),
            inv_band_h,
            band_start,
            band_edges,
        }
    }

    /// True when `(x, y)` = (lon, lat) is inside (even-odd rule; a point
    /// exactly on an edge may go either way).
    #[inline]
    pub fn contains(&self, x: f64, y: f64) -> bool {
        let b = &self.bbox;
        if !(x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3]) {
            return false;
        }
        let nbands = self.band_start.len() - 1;
        let band = (((y - b[1]) * self.inv_band_h) as usize).min(nbands - 1);
        let (s, e) = (
            self.band_start[band] as usize,
            self.band_start[band + 1] as usize,
        );
        let mut inside = false;
        for &i in &self.band_edges[s..e] {
            let [x1, y1, x2, y2] = self.edges[i as usize];
            if (y1 > y) != (y2 > y) {
                let xi = x1 + (y - y1) * (x2 - x1) / (y2 - y1);
                if x < xi {
                    inside = !inside;
                }
            }
        }
        inside
    }

    /// The edges, exterior first.
    pub fn edges(&self) -> &[Edge] {
        &self.edges
    }
}

/// True when segment `s` has a point in the closed box `b`
/// (`[min_x, min_y, max_x, max_y]`).
#[inline]
pub fn segment_intersects_box(s: &Edge, b: &[f64; 4]) -> bool {
    let [x1, y1, x2, y2] = *s;
    if x1.max(x2) < b[0] || x1.min(x2) > b[2] || y1.max(y2) < b[1] || y1.min(y2) > b[3] {
        return false;
    }
    // The boxes overlap; the segment misses the box only if all four
    // corners lie strictly on one side of its line.
    let (dx, dy) = (x2 - x1, y2 - y1);
    let side = |cx: f64, cy: f64| dx * (cy - y1) - dy * (cx - x1);
    let c = [
        side(b[0], b[1]),
        side(b[2], b[1]),
        side(b[0], b[3]),
        side(b[2], b[3]),
    ];
    !(c.iter().all(|&v| v > 0.0) || c.iter().all(|&v| v < 0.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Contains, Coord, LineString, Point, Polygon};

    fn star(n: usize, cx: f64, cy: f64, r: f64) -> Polygon<f64> {
        let pts: Vec<Coord<f64>> = (0..n)
            .map(|k| {
                let a = k as f64 / n as f64 * std::f64::consts::TAU;
                let rr = if k % 2 == 0 { r } else { r * 0.4 };
                Coord {
                    x: cx + rr * a.cos(),
                    y: cy + rr * a.sin(),
                }
            })
            .collect();
        Polygon::new(LineString::from(pts), vec![])
    }

    #[test]
    fn agrees_with_geo_contains() {
        // A spiky star with a hole, many edges.
        let outer = star(400, 10.0, 35.0, 2.0);
        let hole = star(40, 10.0, 35.0, 0.3);
        let poly = Polygon::new(outer.exterior().clone(), vec![hole.exterior().clone()]);
        let p = PreparedPolygon::new(&poly);
        let mut seed = 12345u64;
        let mut rnd = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..20_000 {
            let x = 7.5 + rnd() * 5.0;
            let y = 32.5 + rnd() * 5.0;
            assert_eq!(
                p.contains(x, y),
                poly.contains(&Point::new(x, y)),
                "{x},{y}"
            );
        }
    }

    #[test]
    fn degenerate_polygons() {
        let empty = Polygon::new(LineString::new(vec![]), vec![]);
        assert!(!PreparedPolygon::new(&empty).contains(0.0, 0.0));
        let flat = Polygon::new(
            LineString::from(vec![(0.0, 1.0), (2.0, 1.0), (0.0, 1.0)]),
            vec![],
        );
        assert!(!PreparedPolygon::new(&flat).contains(1.0, 1.0));
        assert!(!PreparedPolygon::new(&flat).contains(f64::NAN, 1.0));
    }

    #[test]
    fn segments_and_boxes() {
        let b = [0.0, 0.0, 1.0, 1.0];
        assert!(segment_intersects_box(&[-1.0, 0.5, 2.0, 0.5], &b));
        assert!(segment_intersects_box(&[0.5, 0.5, 0.6, 0.6], &b));
        assert!(!segment_intersects_box(&[-1.0, 1.5, 0.4, 3.0], &b));
        // Diagonal passing just outside the corner.
        assert!(!segment_intersects_box(&[1.2, 0.0, 2.0, 0.9], &b));
        // Boxes overlap but the line x + y = 2.2 passes the corner.
        assert!(!segment_intersects_box(&[0.5, 1.7, 1.7, 0.5], &b));
        assert!(segment_intersects_box(&[0.5, 1.4, 1.4, 0.5], &b));
        // Touching a corner counts.
        assert!(segment_intersects_box(&[1.0, 1.0, 2.0, 2.0], &b));
    }
}
