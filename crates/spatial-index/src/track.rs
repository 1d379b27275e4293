//! Track history: a vessel's recent positions, bounded and thinned.
//!
//! A track keeps at most `max_points` points no older than `max_age_ms`
//! (defaults 720 points / 2 h) behind the newest. Points are thinned as
//! they arrive: a new point is stored only when at least `min_interval_ms`
//! has passed since the last stored point *and* the vessel has moved at
//! least `min_distance_m` from it — or when `heartbeat_ms` has passed, so a
//! ship that stopped still shows that it stayed. A ship at anchor reporting
//! every 3 minutes therefore adds one point per heartbeat (default 10 min),
//! not one per report, and a fast ship reporting every 2 s adds one point
//! per 10 s: 720 points cover the full 2 hours.
//!
//! ```
//! use spatial_index::track::{Track, TrackConfig};
//! let cfg = TrackConfig::default();
//! let mut t = Track::default();
//! // A stopped ship reporting every 10 s for an hour.
//! for k in 0..360 {
//!     t.push(&cfg, k * 10_000, 35.5, 12.6);
//! }
//! assert_eq!(t.len(), 6); // one point per 10-minute heartbeat
//! ```

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::geodesy::haversine_m;

/// Bounds and thinning of track history.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrackConfig {
    /// Oldest point kept, relative to the newest (default 2 h).
    pub max_age_ms: i64,
    /// Most points kept (default 720). 0 disables track history.
    pub max_points: usize,
    /// Least time between stored points (default 10 s).
    pub min_interval_ms: i64,
    /// Least movement between stored points (default 50 m).
    pub min_distance_m: f64,
    /// Store a point after this long even without movement (default 10 min).
    pub heartbeat_ms: i64,
}

impl Default for TrackConfig {
    fn default() -> Self {
        TrackConfig {
            max_age_ms: 2 * 3_600_000,
            max_points: 720,
            min_interval_ms: 10_000,
            min_distance_m: 50.0,
            heartbeat_ms: 600_000,
        }
    }
}

/// One stored position. Single precision keeps a point at 16 bytes; it
/// resolves about a metre, plenty for drawing a track.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrackPoint {
    pub time_ms: i64,
    pub lat: f32,
    pub lon: f32,
}

/// True when `(lat, lon)` is at least `metres` from `p`: settled by cheap
/// bounds in degrees when possible, by haversine otherwise.
#[inline]
fn moved_at_least(p: &TrackPoint, lat: f64, lon: f64, metres: f64) -> bool {
    const DEG_M: f64 = crate::geodesy::EARTH_RADIUS_M * std::f64::consts::PI / 180.0;
    let (plat, plon) = (f64::from(p.lat), f64::from(p.lon));
    let dlat = (lat - plat).abs() * DEG_M;
    if dlat >= metres {
        return true;
    }
    let dlon = (lon - plon).abs() * DEG_M;
    if dlon < 180.0 * DEG_M && (dlat * dlat + dlon * dlon).sqrt() < metres {
        return false;
    }
    haversine_m(plat, plon, lat, lon) >= metres
}

/// Bounded, thinned position history.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Track {
    /// The newest stored point, kept inline so that deciding to skip a
    /// report does not touch the heap.
    last: Option<TrackPoint>,
    points: VecDeque<TrackPoint>,
}

impl Track {
    /// Offer a position; returns true when it was stored. Points older
    /// than the newest stored one are ignored (tracks only grow forward).
    pub fn push(&mut self, cfg: &TrackConfig, time_ms: i64, lat: f64, lon: f64) -> bool {
        if cfg.max_points == 0 {
            return false;
        }
        if let Some(last) = &self.last {
            let dt = time_ms.saturating_sub(last.time_ms);
            if dt < 0 {
                return false;
            }
            if dt < cfg.heartbeat_ms {
                if dt < cfg.min_interval_ms {
                    return false;
                }
                if !moved_at_least(last, lat, lon, cfg.min_distance_m) {
                    return false;
                }
            }
        }
        if self.points.len() >= cfg.max_points {
            self.points.pop_front();
        } else if self.points.len() == self.points.capacity() {
            // Grow by doubling, but never past the bound: a full track of
            // 720 points holds 720, not 1024.
            let len = self.points.len();
            let want = (len * 2).clamp(4, cfg.max_points);
            self.points.reserve_exact(want - len);
        }
        let point = TrackPoint {
            time_ms,
            lat: lat as f32,
            lon: lon as f32,
        };
        self.last = Some(point);
        self.points.push_back(point);
        let horizon = time_ms.saturating_sub(cfg.max_age_ms);
        while self.points.front().is_some_and(|p| p.time_ms < horizon) {
            self.points.pop_front();
        }
        true
    }

    /// Stored points, oldest first.
    pub fn points(&self) -> impl ExactSizeIterator<Item = &TrackPoint> + DoubleEndedIterator {
        self.points.iter()
    }

    /// Number of stored points.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Bytes of heap this track holds.
    pub fn heap_bytes(&self) -> usize {
        self.points.capacity() * std::mem::size_of::<TrackPoint>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_by_points_and_time() {
        let cfg = TrackConfig {
            max_points: 5,
            ..TrackConfig::default()
        };
        let mut t = Track::default();
        for k in 0..20 {
            // 0.01° of latitude per 10 s: always far enough.
            t.push(&cfg, k * 10_000, 35.0 + k as f64 * 0.01, 14.0);
        }
        assert_eq!(t.len(), 5);
        assert_eq!(t.points().next().unwrap().time_ms, 150_000);

        let cfg = TrackConfig::default();
        let mut t = Track::default();
        for k in 0..(4 * 360) {
            t.push(&cfg, k * 10_000, 35.0 + k as f64 * 0.01, 14.0);
        }
        let first = t.points().next().unwrap().time_ms;
        let last = t.points().last().unwrap().time_ms;
        assert!(last - first <= cfg.max_age_ms);
        assert_eq!(t.len(), 720);
        assert!(t.heap_bytes() <= 720 * 16 + 64, "{}", t.heap_bytes());
    }

    #[test]
    fn fast_reports_are_thinned_by_interval() {
        let cfg = TrackConfig::default();
        let mut t = Track::default();
        for k in 0..1800 {
            // 2 s reports at ~20 kn (0.0002° lat per 2 s ≈ 22 m).
            t.push(&cfg, k * 2_000, 35.0 + k as f64 * 0.0002, 14.0);
        }
        // One hour: one point per 10 s.
        assert_eq!(t.len(), 360);
    }

    #[test]
    fn disabled_and_backwards() {
        let cfg = TrackConfig {
            max_points: 0,
            ..TrackConfig::default()
        };
        let mut t = Track::default();
        assert!(!t.push(&cfg, 0, 0.0, 0.0));
        let cfg = TrackConfig::default();
        assert!(t.push(&cfg, 100_000, 0.0, 0.0));
        assert!(!t.push(&cfg, 0, 1.0, 1.0));
    }
}
