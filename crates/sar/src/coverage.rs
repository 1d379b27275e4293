//! Coverage of a search area by the assigned assets' tracks, and the
//! probability of detection, per IAMSAR's search theory:
//!
//! * each asset's track since its pattern started is buffered by half its
//!   sweep width W (a rectangle per track segment and a disc at every
//!   vertex, as polygons), the union is clipped to the search area: the
//!   **swept** region, returned as GeoJSON for the map;
//! * the **area effectively swept** Z is W × the track length inside the
//!   area (computed as the sum of the segment rectangles clipped to the
//!   area, so a leg along the edge counts only its inside half);
//! * the **coverage factor** is `C = Z / A` (A: the search area), and the
//!   **probability of detection** is read from IAMSAR's curve for ideal
//!   search conditions, `POD = 1 − e^(−C)`;
//! * successive searches combine as `1 − Π(1 − PODᵢ)` ([`cumulative_pod`]).
//!
//! Z counts overlapping passes twice, as the search effort does: two
//! passes over the same strip raise C (and POD) even though they add no new
//! swept region. Areas are computed in a local azimuthal plane in nautical
//! miles around the search area ([`LocalFrame`]).
//!
//! ```
//! use sar::coverage::{cumulative_pod, pod};
//! assert!((pod(1.0) - 0.632_120_558_8).abs() < 1e-9);
//! // Two searches of POD 0.5 and 0.6: 1 − 0.5 × 0.4 = 0.8.
//! assert!((cumulative_pod(&[0.5, 0.6]) - 0.8).abs() < 1e-12);
//! ```

use crate::drift::TrackPoint;
use crate::error::SarError;
use crate::geo::{LatLon, LocalFrame};
use crate::geojson::{
    circle_xy, feature, from_local, multipolygon_geometry, polygon_xy, to_local, Rings,
};
use crate::incident::Asset;
use crate::time::de_time;
use ::geo::{Area, BooleanOps, BoundingRect, Coord, MultiPolygon, Rect};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Vertices of the discs at track vertices.
const DISC_VERTICES: usize = 16;
/// Most track points used per asset.
pub const MAX_POINTS: usize = 20_000;

/// `POD = 1 − e^(−C)`: IAMSAR's probability of detection for ideal search
/// conditions.
pub fn pod(coverage_factor: f64) -> f64 {
    1.0 - (-coverage_factor.max(0.0)).exp()
}

/// Cumulative POD of several searches: `1 − Π(1 − PODᵢ)`.
pub fn cumulative_pod(pods: &[f64]) -> f64 {
    1.0 - pods
        .iter()
        .map(|p| 1.0 - p.clamp(0.0, 1.0))
        .product::<f64>()
}

/// One asset's track for a coverage computation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetTrack {
    pub asset: Asset,
    /// Its sweep width for this search object, NM.
    pub sweep_width_nm: f64,
    /// When its pattern started (UNIX ms or RFC 3339): earlier positions
    /// are not counted.
    #[serde(deserialize_with = "de_time")]
    pub since_ms: i64,
    /// Its positions (any order; sorted by time here).
    pub points: Vec<TrackPoint>,
}

/// One asset's share.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssetCoverage {
    pub asset: Asset,
    pub sweep_width_nm: f64,
    /// Track length since the pattern started, NM (inside or not).
    pub track_nm: f64,
    /// Area effectively swept inside the search area, NM².
    pub effort_nm2: f64,
    /// Region newly covered by this asset alone, clipped to the area, NM².
    pub swept_nm2: f64,
    pub coverage_factor: f64,
    pub pod: f64,
}

/// The response body of `GET /api/incidents/{id}/coverage`: exactly
/// `{"coverage_factor", "pod", "swept", "by_asset"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageReport {
    pub coverage_factor: f64,
    pub pod: f64,
    /// GeoJSON Feature (MultiPolygon): the swept region inside the area;
    /// its properties hold `area_nm2`, `swept_nm2`, `effort_nm2`.
    pub swept: Value,
    pub by_asset: Vec<AssetCoverage>,
}

/// Union of many polygons, pairwise in a balanced tree (the `geo` boolean
/// operations work on two operands at a time).
fn union_all(mut parts: Vec<MultiPolygon<f64>>) -> MultiPolygon<f64> {
    if parts.is_empty() {
        return MultiPolygon::new(vec![]);
    }
    while parts.len() > 1 {
        let mut next = Vec::with_capacity(parts.len().div_ceil(2));
        let mut it = parts.into_iter();
        while let Some(a) = it.next() {
            match it.next() {
                Some(b) => next.push(a.union(&b)),
                None => next.push(a),
            }
        }
        parts = next;
    }
    parts.pop().unwrap_or_else(|| MultiPolygon::new(vec![]))
}

fn rects_overlap(a: &Rect<f64>, b: &Rect<f64>) -> bool {
    a.min().x <= b.max().x
        && b.min().x <= a.max().x
        && a.min().y <= b.max().y
        && b.min().y <= a.max().y
}

/// Distance from `p` to the segment `a`–`b`.
fn seg_distance(p: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> f64 {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let l2 = dx * dx + dy * dy;
    let t = if l2 > 0.0 {
        (((p.x - a.x) * dx + (p.y - a.y) * dy) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (p.x - a.x - t * dx).hypot(p.y - a.y - t * dy)
}

/// Keep the first and last positions and every position farther than
/// `eps` from the segment joining the last kept one and the next.
fn thin(pts: &[Coord<f64>], eps: f64) -> Vec<Coord<f64>> {
    let mut out: Vec<Coord<f64>> = Vec::with_capacity(pts.len());
    for (i, &p) in pts.iter().enumerate() {
        let Some(&last) = out.last() else {
            out.push(p);
            continue;
        };
        if (p.x - last.x).hypot(p.y - last.y) <= eps && i + 1 < pts.len() {
            continue;
        }
        match pts.get(i + 1) {
            Some(&next) if seg_distance(p, last, next) <= eps => {}
            _ => out.push(p),
        }
    }
    out
}

struct Swept {
    track_nm: f64,
    effort_nm2: f64,
    region: MultiPolygon<f64>,
}

/// One asset's effort inside `area` and its (unclipped) buffered track.
fn sweep(
    frame: &LocalFrame,
    area: &MultiPolygon<f64>,
    bbox: Option<Rect<f64>>,
    t: &AssetTrack,
    until_ms: i64,
) -> Swept {
    let mut pts: Vec<&TrackPoint> = t
        .points
        .iter()
        .filter(|p| p.time_ms >= t.since_ms && p.time_ms <= until_ms && p.position().is_valid())
        .collect();
    pts.sort_by_key(|p| p.time_ms);
    pts.truncate(MAX_POINTS);
    let w = t.sweep_width_nm;
    let raw: Vec<Coord<f64>> = pts
        .iter()
        .map(|p| {
            let (x, y) = frame.to_xy(LatLon::new(p.lat, p.lon));
            Coord { x, y }
        })
        .collect();
    // Drop positions that add nothing at this sweep width (repeats, GPS
    // jitter on a straight leg): within W/20 (at most 50 m) of the line
    // through their neighbours.
    let coords = thin(&raw, (w / 20.0).clamp(1e-6, 0.027));
    let track_nm: f64 = coords
        .windows(2)
        .map(|s| (s[1].x - s[0].x).hypot(s[1].y - s[0].y))
        .sum();
    let mut effort = 0.0;
    let mut parts = Vec::new();
    let h = w / 2.0;
    for s in coords.windows(2) {
        let (a, b) = (s[0], s[1]);
        let len = (b.x - a.x).hypot(b.y - a.y);
        if len < 1e-9 {
            continue;
        }
        let (nx, ny) = (-(b.y - a.y) / len * h, (b.x - a.x) / len * h);
        let rect = polygon_xy(&[
            (a.x - nx, a.y - ny),
            (b.x - nx, b.y - ny),
            (b.x + nx, b.y + ny),
            (a.x + nx, a.y + ny),
        ]);
        let rb = rect.bounding_rect();
        let inside = match (bbox, rb) {
            (Some(ab), Some(rb)) if rects_overlap(&ab, &rb) => {
                area.intersection(&rect).unsigned_area()
            }
            _ => 0.0,
        };
        effort += inside;
        parts.push(MultiPolygon::new(vec![rect]));
    }
    for c in &coords {
        parts.push(MultiPolygon::new(vec![polygon_xy(&circle_xy(
            c.x,
            c.y,
            h,
            DISC_VERTICES,
        ))]));
    }
    Swept {
        track_nm,
        effort_nm2: effort,
        region: if w > 0.0 {
            union_all(parts)
        } else {
            MultiPolygon::new(vec![])
        },
    }
}

/// The coverage of the search area `area` (polygons as lat/lon rings, e.g.
/// from [`crate::geojson::polygons_from_geojson`] of the search-area
/// Feature) by `assets`' tracks up to `until_ms`.
pub fn coverage(
    area: &[Rings],
    assets: &[AssetTrack],
    until_ms: i64,
) -> Result<CoverageReport, SarError> {
    let first = area
        .first()
        .and_then(|r| r.first())
        .filter(|r| r.len() >= 3)
        .ok_or_else(|| SarError::invalid("the search area has no polygon"))?;
    if assets.len() > 100 {
        return Err(SarError::invalid("at most 100 assets"));
    }
    for a in assets {
        if !(a.sweep_width_nm.is_finite() && (0.0..=50.0).contains(&a.sweep_width_nm)) {
            return Err(SarError::invalid("sweep_width_nm must be within 0..50"));
        }
    }
    let n = first.len() as f64;
    let center = LatLon::new(
        first.iter().map(|p| p.lat).sum::<f64>() / n,
        first.iter().map(|p| p.lon).sum::<f64>() / n,
    );
    let frame = LocalFrame::new(center);
    let a_poly = to_local(&frame, area);
    let a_area = a_poly.unsigned_area();
    if a_area <= 1e-9 {
        return Err(SarError::invalid("the search area is empty"));
    }
    let bbox = a_poly.bounding_rect();
    let mut by_asset = Vec::with_capacity(assets.len());
    let mut covered = MultiPolygon::new(vec![]);
    let mut total_effort = 0.0;
    for t in assets {
        let s = sweep(&frame, &a_poly, bbox, t, until_ms);
        let clipped = a_poly.intersection(&s.region);
        let new = clipped.difference(&covered);
        let swept_new = new.unsigned_area();
        covered = covered.union(&clipped);
        total_effort += s.effort_nm2;
        let c = s.effort_nm2 / a_area;
        by_asset.push(AssetCoverage {
            asset: t.asset.clone(),
            sweep_width_nm: t.sweep_width_nm,
            track_nm: s.track_nm,
            effort_nm2: s.effort_nm2,
            swept_nm2: swept_new,
            coverage_factor: c,
            pod: pod(c),
        });
    }
    let c = total_effort / a_area;
    let swept_nm2 = covered.unsigned_area();
    let swept = feature(
        multipolygon_geometry(&from_local(&frame, &covered)),
        json!({
            "kind": "swept",
            "area_nm2": a_area,
            "swept_nm2": swept_nm2,
            "swept_fraction": swept_nm2 / a_area,
            "effort_nm2": total_effort,
        }),
    );
    Ok(CoverageReport {
        coverage_factor: c,
        pod: pod(c),
        swept,
        by_asset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::destination;

    #[test]
    fn thinning_keeps_corners_and_drops_collinear_points() {
        let c = |x: f64, y: f64| Coord { x, y };
        let pts = [
            c(0.0, 0.0),
            c(1.0, 0.0),
            c(1.0, 0.0),
            c(2.0, 0.001),
            c(3.0, 0.0),
            c(3.0, 1.0),
        ];
        assert_eq!(
            thin(&pts, 0.01),
            vec![c(0.0, 0.0), c(3.0, 0.0), c(3.0, 1.0)]
        );
        assert_eq!(thin(&pts[..1], 0.01).len(), 1);
        assert!(thin(&[], 0.01).is_empty());
    }

    #[test]
    fn pod_curve_and_cumulation() {
        assert_eq!(pod(0.0), 0.0);
        assert!((pod(2.0) - 0.864_664_716_8).abs() < 1e-9);
        assert!(pod(-1.0) == 0.0);
        assert_eq!(cumulative_pod(&[]), 0.0);
        assert!((cumulative_pod(&[0.63, 0.63, 0.63]) - (1.0 - 0.37f64.powi(3))).abs() < 1e-12);
    }

    #[test]
    fn one_straight_pass_through_a_square() {
        // A 4 × 4 NM square; a ship with W = 1 NM crosses it through the
        // middle, entering and leaving 1 NM outside: Z = 1 × 4 = 4 NM²,
        // C = 4/16 = 0.25, POD = 1 − e^−0.25 = 0.221199.
        let c = LatLon::new(35.0, 13.0);
        let f = LocalFrame::new(c);
        let sq: Vec<LatLon> = [(-2.0, -2.0), (2.0, -2.0), (2.0, 2.0), (-2.0, 2.0)]
            .iter()
            .map(|&(x, y)| f.to_latlon(x, y))
            .collect();
        let a = destination(c, 270.0, 3.0);
        let b = destination(c, 90.0, 3.0);
        let t = AssetTrack {
            asset: Asset::vessel(247_000_001, None),
            sweep_width_nm: 1.0,
            since_ms: 0,
            points: vec![
                TrackPoint::new(0, a.lat, a.lon),
                TrackPoint::new(1000, b.lat, b.lon),
            ],
        };
        let r = coverage(&[vec![sq]], &[t], 1000).unwrap();
        assert!(
            (r.coverage_factor - 0.25).abs() < 1e-3,
            "{}",
            r.coverage_factor
        );
        assert!((r.pod - 0.221199).abs() < 1e-3);
        assert!((r.by_asset[0].track_nm - 6.0).abs() < 1e-6);
        let swept = r.swept["properties"]["swept_nm2"].as_f64().unwrap();
        assert!((swept - 4.0).abs() < 1e-3, "{swept}");
        let keys: Vec<String> = serde_json::to_value(&r)
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys, vec!["by_asset", "coverage_factor", "pod", "swept"]);
    }
}
