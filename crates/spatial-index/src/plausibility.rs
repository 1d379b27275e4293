//! Plausibility of position reports: what is flagged instead of applied.
//!
//! * A position implying more than `max_knots` (default 60 kn) from the
//!   previous accepted one is held back and flagged: the record keeps its
//!   old position and the report becomes *pending*. If the next report is
//!   plausible from the pending position but not from the old one, the
//!   jump was real (or the old position was the bad one) and the record
//!   moves there; otherwise the pending position is replaced. SAR aircraft
//!   (type 9) are exempt: 60 kn is a slow aircraft.
//! * Position "not available" (91°/181°, which the decoder turns into
//!   `None`) and 0°N 0°E — the default of an unconfigured GNSS receiver —
//!   are flagged and never placed on the map.
//! * An MMSI without a valid MID is kept and marked (see
//!   [`crate::vessel::VesselFlags::INVALID_MMSI`]).
//!
//! GNSS noise and coarse positions (type 27 gives 1/10 minute, about
//! 180 m) must not trip the speed check on reports a few seconds apart,
//! so `slack_m` (default 200 m) is subtracted from the distance first, and
//! time differences under a second count as one second.
//!
//! ```
//! use spatial_index::plausibility::{implied_knots, PlausibilityConfig};
//! let cfg = PlausibilityConfig::default();
//! // 10 nm in 6 minutes is 100 knots.
//! let k = implied_knots(&cfg, (35.0, 14.0, 0), (35.0 + 10.0 / 60.0, 14.0, 360_000));
//! assert!(k > 95.0 && cfg.is_jump(k));
//! // 1 nm in 6 minutes is 10 knots.
//! let k = implied_knots(&cfg, (35.0, 14.0, 0), (35.0 + 1.0 / 60.0, 14.0, 360_000));
//! assert!(!cfg.is_jump(k));
//! ```

use serde::{Deserialize, Serialize};

use crate::geodesy::{haversine_m, EARTH_RADIUS_M, KNOT_MS};

/// Metres in one degree of great-circle arc.
const DEG_M: f64 = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;

/// Limits of the plausibility checks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlausibilityConfig {
    /// Highest plausible speed between two reports, knots (default 60).
    pub max_knots: f64,
    /// Distance always allowed between reports for GNSS noise, metres
    /// (default 200).
    pub slack_m: f64,
}

impl Default for PlausibilityConfig {
    fn default() -> Self {
        PlausibilityConfig {
            max_knots: 60.0,
            slack_m: 200.0,
        }
    }
}

impl PlausibilityConfig {
    /// True when `knots` exceeds the limit.
    pub fn is_jump(&self, knots: f64) -> bool {
        knots > self.max_knots
    }
}

/// Speed, knots, implied by moving from `a` to `b`, each `(lat, lon,
/// time_ms)`, after the slack; 0 when within the slack.
///
/// The common case — a ship a few hundred metres from its last report —
/// is settled without trigonometry: the distance in degrees with
/// longitude unscaled (`√(Δlat² + Δlon²)`, never less than the true
/// distance away from the antimeridian) bounds the speed from above, and
/// when even that bound is at most half the limit the exact haversine
/// value is not needed; the bound is returned instead.
#[inline]
pub fn implied_knots(cfg: &PlausibilityConfig, a: (f64, f64, i64), b: (f64, f64, i64)) -> f64 {
    let dt_s = (b.2.saturating_sub(a.2).unsigned_abs() as f64 / 1000.0).max(1.0);
    let (dlat, dlon) = (b.0 - a.0, b.1 - a.1);
    // One degree of arc is at most 111.2 km; add 0.1 % for rounding.
    let bound_m = (dlat * dlat + dlon * dlon).sqrt() * (DEG_M * 1.001);
    if bound_m.is_finite() && dlon.abs() < 90.0 {
        let bound_kn = (bound_m - cfg.slack_m).max(0.0) / dt_s / KNOT_MS;
        if bound_kn <= cfg.max_knots * 0.5 {
            return bound_kn;
        }
    }
    let d = haversine_m(a.0, a.1, b.0, b.1) - cfg.slack_m;
    if d.is_nan() {
        return f64::INFINITY;
    }
    if d <= 0.0 {
        return 0.0;
    }
    d / dt_s / KNOT_MS
}

/// Why a reported position is not placed on the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    /// Not available (`None` from the decoder, or out of range).
    NotAvailable,
    /// 0°N 0°E.
    NullIsland,
}

/// Check a reported position for use.
pub fn usable_position(lat: Option<f64>, lon: Option<f64>) -> Result<(f64, f64), Unusable> {
    match (lat, lon) {
        (Some(lat), Some(lon)) if crate::geodesy::valid_point(lat, lon) => {
            if lat == 0.0 && lon == 0.0 {
                Err(Unusable::NullIsland)
            } else {
                Ok((lat, lon))
            }
        }
        _ => Err(Unusable::NotAvailable),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        assert_eq!(
            usable_position(None, Some(1.0)),
            Err(Unusable::NotAvailable)
        );
        assert_eq!(
            usable_position(Some(91.0), Some(1.0)),
            Err(Unusable::NotAvailable)
        );
        assert_eq!(
            usable_position(Some(f64::NAN), Some(1.0)),
            Err(Unusable::NotAvailable)
        );
        assert_eq!(
            usable_position(Some(0.0), Some(0.0)),
            Err(Unusable::NullIsland)
        );
        assert_eq!(usable_position(Some(35.5), Some(12.6)), Ok((35.5, 12.6)));
    }

    #[test]
    fn slack_and_short_intervals() {
        let cfg = PlausibilityConfig::default();
        // 150 m of noise between reports 0.5 s apart: within the slack.
        assert_eq!(
            implied_knots(&cfg, (35.0, 14.0, 0), (35.00135, 14.0, 500)),
            0.0
        );
        // The same place twice is never a jump.
        assert_eq!(implied_knots(&cfg, (35.0, 14.0, 0), (35.0, 14.0, 0)), 0.0);
        // 1 km in no time at all is.
        assert!(cfg.is_jump(implied_knots(&cfg, (35.0, 14.0, 0), (35.009, 14.0, 0))));
        assert!(implied_knots(&cfg, (f64::NAN, 14.0, 0), (35.0, 14.0, 0)).is_infinite());
        // The fast bound never hides a jump: compare with the exact value
        // around the limit, at several latitudes and across ±180°.
        for lat in [0.0, 35.0, 60.0, 80.0, 89.0] {
            for k in 0..200 {
                let d = k as f64 * 0.001;
                let a = (lat, 179.999, 0);
                let b = (lat - d * 0.3, 179.999 + d, 10_000);
                let fast = implied_knots(&cfg, a, b);
                let exact = {
                    let m = haversine_m(a.0, a.1, b.0, b.1) - cfg.slack_m;
                    if m <= 0.0 {
                        0.0
                    } else {
                        m / 10.0 / KNOT_MS
                    }
                };
                assert_eq!(cfg.is_jump(fast), cfg.is_jump(exact), "{lat} {d}");
                assert!(fast >= exact - 1e-9);
            }
        }
    }
}
