//! Drift: where a search object goes from its last known position (LKP),
//! as IAMSAR computes it — total water current plus leeway — with the two
//! **divergence datums** (left and right of downwind) tracked over time.
//!
//! The wind is one value or a list of observations (`from` direction and
//! speed); each observation holds from its time until the next one (the
//! first also covers any time before it). The total water current (set and
//! drift) is constant over the drift, or is measured from a drifting
//! AIS-SART / MOB device in the picture ([`current_from_track`]). The
//! drift is integrated in steps (at every wind change and at least every
//! `step_ms`), each step moving both datums along the great circle of their
//! velocity:
//!
//! ```text
//! v_right = TWC + DWL·d + CWR·r        v_left = TWC + DWL·d + CWL·r
//! ```
//!
//! with `d` the downwind unit vector, `r` the unit vector 90° to its right,
//! DWL/CWR/CWL from [`crate::leeway`]. The datum is the midpoint of the two.
//!
//! ```
//! use sar::drift::{drift, Current, WindObs};
//! use sar::{geo::distance_nm, leeway, LatLon};
//! let lkp = LatLon::new(35.0, 13.0);
//! let wind = [WindObs { at: 0, from_deg: 0.0, kn: 0.0 }];
//! let cur = Current { set_deg: 90.0, kn: 1.0 };
//! let obj = leeway::category("person_in_water").unwrap();
//! let t = drift(lkp, 0, 3 * 3_600_000, obj, &wind, cur, 3_600_000).unwrap();
//! // No wind: the current alone carries it 3 NM east in 3 hours.
//! // (Each hourly step follows its own great circle: within 1e-5 NM.)
//! assert!((distance_nm(lkp, t.datum()) - 3.0).abs() < 1e-5);
//! assert_eq!(t.points.len(), 4);
//! ```

use crate::error::SarError;
use crate::geo::{bearing_of, destination, distance_nm, unit, LatLon, LocalFrame};
use crate::leeway::LeewayCategory;
use crate::time::de_time;
use serde::{Deserialize, Serialize};

const HOUR_MS: f64 = 3_600_000.0;
/// Longest drift computed: 30 days.
pub const MAX_DRIFT_MS: i64 = 30 * 24 * 3_600_000;
/// Strongest wind accepted, knots.
pub const MAX_WIND_KN: f64 = 150.0;
/// Fastest total water current accepted, knots.
pub const MAX_CURRENT_KN: f64 = 15.0;

/// One wind observation: from `from_deg` (degrees true, where it blows
/// from) at `kn` knots (10-m wind), holding from `at` (UNIX ms).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindObs {
    #[serde(deserialize_with = "de_time")]
    pub at: i64,
    pub from_deg: f64,
    pub kn: f64,
}

impl WindObs {
    /// The direction it blows towards.
    pub fn downwind_deg(&self) -> f64 {
        (self.from_deg + 180.0).rem_euclid(360.0)
    }

    fn validate(&self) -> Result<(), SarError> {
        if !(self.from_deg.is_finite() && (0.0..=360.0).contains(&self.from_deg)) {
            return Err(SarError::invalid("wind from_deg must be within 0..360"));
        }
        if !(self.kn.is_finite() && (0.0..=MAX_WIND_KN).contains(&self.kn)) {
            return Err(SarError::invalid(format!(
                "wind kn must be within 0..{MAX_WIND_KN}"
            )));
        }
        Ok(())
    }
}

/// Total water current: flowing towards `set_deg` at `kn` knots.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Current {
    pub set_deg: f64,
    pub kn: f64,
}

impl Current {
    pub const NONE: Current = Current {
        set_deg: 0.0,
        kn: 0.0,
    };

    /// Velocity (east, north), knots.
    pub fn velocity(&self) -> (f64, f64) {
        let (e, n) = unit(self.set_deg);
        (e * self.kn, n * self.kn)
    }

    pub fn validate(&self) -> Result<(), SarError> {
        if !(self.set_deg.is_finite() && (0.0..=360.0).contains(&self.set_deg)) {
            return Err(SarError::invalid("current set_deg must be within 0..360"));
        }
        if !(self.kn.is_finite() && (0.0..=MAX_CURRENT_KN).contains(&self.kn)) {
            return Err(SarError::invalid(format!(
                "current kn must be within 0..{MAX_CURRENT_KN}"
            )));
        }
        Ok(())
    }
}

/// The two divergence datums and their midpoint at one time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DatumPoint {
    pub time_ms: i64,
    pub left: LatLon,
    pub right: LatLon,
    pub datum: LatLon,
}

/// The datum track from the LKP to the time of interest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatumTrack {
    pub lkp: LatLon,
    pub start_ms: i64,
    /// From the LKP (first point, all three positions equal) to the time of
    /// interest (last point).
    pub points: Vec<DatumPoint>,
    /// Mean leeway over the drift (the mean of the left and right leeway
    /// vectors): knots and the direction it moves the object towards.
    pub leeway_kn: f64,
    pub leeway_deg: f64,
    /// Mean total drift (current + leeway) from the LKP to the datum.
    pub drift_kn: f64,
    pub drift_deg: f64,
}

impl DatumTrack {
    pub fn last(&self) -> &DatumPoint {
        self.points.last().expect("a track has its LKP")
    }
    pub fn datum(&self) -> LatLon {
        self.last().datum
    }
    /// Drift distances LKP → left and LKP → right datum, NM.
    pub fn drift_distances_nm(&self) -> (f64, f64) {
        let p = self.last();
        (
            distance_nm(self.lkp, p.left),
            distance_nm(self.lkp, p.right),
        )
    }
    /// Distance between the divergence datums, NM.
    pub fn divergence_nm(&self) -> f64 {
        let p = self.last();
        distance_nm(p.left, p.right)
    }

    /// The track as GeoJSON: a FeatureCollection with the left and right
    /// datum tracks as LineStrings (properties: `side`, `times`).
    pub fn to_geojson(&self) -> serde_json::Value {
        let line = |side: &str, f: &dyn Fn(&DatumPoint) -> LatLon| {
            serde_json::json!({
                "type": "Feature",
                "geometry": {
                    "type": "LineString",
                    "coordinates": self.points.iter().map(|p| { let q = f(p); [q.lon, q.lat] }).collect::<Vec<_>>(),
                },
                "properties": {
                    "side": side,
                    "times": self.points.iter().map(|p| crate::contact::format_time(p.time_ms)).collect::<Vec<_>>(),
                },
            })
        };
        serde_json::json!({
            "type": "FeatureCollection",
            "features": [line("left", &|p| p.left), line("right", &|p| p.right), line("datum", &|p| p.datum)],
        })
    }
}

/// The wind holding at `t`: the latest observation at or before `t`, or the
/// first one when all are later. `winds` must be sorted by time.
fn wind_at(winds: &[WindObs], t: i64) -> WindObs {
    let i = winds.partition_point(|w| w.at <= t);
    winds[i.saturating_sub(1)]
}

/// Drift `object` from `lkp` at `start_ms` to `end_ms` under `winds` and
/// `current`, recording the datums at every wind change and at least every
/// `step_ms` (clamped to 1 min .. 6 h).
pub fn drift(
    lkp: LatLon,
    start_ms: i64,
    end_ms: i64,
    object: &LeewayCategory,
    winds: &[WindObs],
    current: Current,
    step_ms: i64,
) -> Result<DatumTrack, SarError> {
    if !lkp.is_valid() {
        return Err(SarError::invalid(
            "the last known position is not a valid position",
        ));
    }
    if end_ms < start_ms {
        return Err(SarError::invalid(
            "the time of interest is before the last known position's time",
        ));
    }
    if end_ms - start_ms > MAX_DRIFT_MS {
        return Err(SarError::invalid(
            "a drift is computed over at most 30 days",
        ));
    }
    if winds.is_empty() {
        return Err(SarError::invalid("at least one wind value is needed"));
    }
    if winds.len() > 10_000 {
        return Err(SarError::invalid("at most 10000 wind values"));
    }
    for w in winds {
        w.validate()?;
    }
    current.validate()?;
    let mut winds = winds.to_vec();
    winds.sort_by_key(|w| w.at);
    let step = step_ms.clamp(60_000, 6 * 3_600_000);

    // Breakpoints: regular steps plus every wind change inside the window.
    let mut times: Vec<i64> = Vec::new();
    let mut t = start_ms;
    while t < end_ms {
        times.push(t);
        t = t.saturating_add(step);
    }
    times.extend(
        winds
            .iter()
            .map(|w| w.at)
            .filter(|&a| a > start_ms && a < end_ms),
    );
    times.push(end_ms);
    times.sort_unstable();
    times.dedup();

    let (ce, cn) = current.velocity();
    let mut left = lkp;
    let mut right = lkp;
    let mut points = vec![DatumPoint {
        time_ms: start_ms,
        left,
        right,
        datum: lkp,
    }];
    // Mean leeway, accumulated as a plane vector (NM).
    let (mut lw_e, mut lw_n) = (0.0, 0.0);
    for pair in times.windows(2) {
        let (t0, t1) = (pair[0], pair[1]);
        let hours = (t1 - t0) as f64 / HOUR_MS;
        let w = wind_at(&winds, t0);
        let lw = object.leeway(w.kn);
        let dw = w.downwind_deg();
        let (de, dn) = unit(dw);
        let (re, rn) = unit(dw + 90.0);
        let side = |cw: f64| {
            (
                ce + lw.downwind_kn * de + cw * re,
                cn + lw.downwind_kn * dn + cw * rn,
            )
        };
        let (le, ln) = side(lw.left_kn);
        let (ri_e, ri_n) = side(lw.right_kn);
        left = step_along(left, le * hours, ln * hours);
        right = step_along(right, ri_e * hours, ri_n * hours);
        let mid_cw = 0.5 * (lw.left_kn + lw.right_kn);
        lw_e += (lw.downwind_kn * de + mid_cw * re) * hours;
        lw_n += (lw.downwind_kn * dn + mid_cw * rn) * hours;
        points.push(DatumPoint {
            time_ms: t1,
            left,
            right,
            datum: midpoint(left, right),
        });
    }
    let hours = (end_ms - start_ms) as f64 / HOUR_MS;
    let datum = points.last().map(|p| p.datum).unwrap_or(lkp);
    let (dx, dy) = LocalFrame::new(lkp).to_xy(datum);
    let (leeway_kn, leeway_deg, drift_kn, drift_deg) = if hours > 0.0 {
        (
            lw_e.hypot(lw_n) / hours,
            bearing_of(lw_e, lw_n),
            dx.hypot(dy) / hours,
            bearing_of(dx, dy),
        )
    } else {
        (0.0, 0.0, 0.0, 0.0)
    };
    Ok(DatumTrack {
        lkp,
        start_ms,
        points,
        leeway_kn,
        leeway_deg,
        drift_kn,
        drift_deg,
    })
}

/// Move `p` by a plane vector (NM east, NM north) along its great circle.
fn step_along(p: LatLon, e: f64, n: f64) -> LatLon {
    let d = e.hypot(n);
    if d == 0.0 {
        p
    } else {
        destination(p, bearing_of(e, n), d)
    }
}

/// The great-circle midpoint of two positions.
pub fn midpoint(a: LatLon, b: LatLon) -> LatLon {
    let d = distance_nm(a, b);
    if d == 0.0 {
        return a;
    }
    destination(a, crate::geo::bearing_deg(a, b), d / 2.0)
}

/// A position report of a tracked object.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrackPoint {
    pub time_ms: i64,
    pub lat: f64,
    pub lon: f64,
}

impl TrackPoint {
    pub fn new(time_ms: i64, lat: f64, lon: f64) -> TrackPoint {
        TrackPoint { time_ms, lat, lon }
    }
    pub fn position(&self) -> LatLon {
        LatLon::new(self.lat, self.lon)
    }
}

/// The water current measured from a drifting device's track.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ObservedCurrent {
    pub current: Current,
    /// Time covered by the fit, ms.
    pub span_ms: i64,
    /// Positions used.
    pub points: usize,
}

/// AIS-SART (970xxxxxx), MOB device (972xxxxxx) and EPIRB-AIS (974xxxxxx)
/// MMSIs (ITU-R M.585): devices that drift with the water and so measure
/// the total water current where they are.
pub fn is_drifting_beacon(mmsi: u32) -> bool {
    matches!(mmsi / 1_000_000, 970 | 972 | 974)
}

/// The drift (set and rate) of a device from its positions: a
/// least-squares velocity fit in a local plane. `None` with fewer than two
/// positions, a span under 10 minutes, or an implausible speed (> 10 kn:
/// the device is aboard a moving vessel). The device's own leeway is part
/// of what it measures (small for a SART or MOB device in the water: about
/// 1 % of the wind for a person in water).
pub fn current_from_track(points: &[TrackPoint]) -> Option<ObservedCurrent> {
    let valid: Vec<&TrackPoint> = points.iter().filter(|p| p.position().is_valid()).collect();
    if valid.len() < 2 {
        return None;
    }
    let t0 = valid.iter().map(|p| p.time_ms).min()?;
    let t1 = valid.iter().map(|p| p.time_ms).max()?;
    if t1 - t0 < 600_000 {
        return None;
    }
    let frame = LocalFrame::new(valid[valid.len() - 1].position());
    let n = valid.len() as f64;
    let ts: Vec<f64> = valid
        .iter()
        .map(|p| (p.time_ms - t0) as f64 / HOUR_MS)
        .collect();
    let xy: Vec<(f64, f64)> = valid.iter().map(|p| frame.to_xy(p.position())).collect();
    let mt = ts.iter().sum::<f64>() / n;
    let mx = xy.iter().map(|p| p.0).sum::<f64>() / n;
    let my = xy.iter().map(|p| p.1).sum::<f64>() / n;
    let stt: f64 = ts.iter().map(|t| (t - mt).powi(2)).sum();
    if stt <= 0.0 {
        return None;
    }
    let vx: f64 = ts
        .iter()
        .zip(&xy)
        .map(|(t, p)| (t - mt) * (p.0 - mx))
        .sum::<f64>()
        / stt;
    let vy: f64 = ts
        .iter()
        .zip(&xy)
        .map(|(t, p)| (t - mt) * (p.1 - my))
        .sum::<f64>()
        / stt;
    let kn = vx.hypot(vy);
    if !kn.is_finite() || kn > 10.0 {
        return None;
    }
    Some(ObservedCurrent {
        current: Current {
            set_deg: bearing_of(vx, vy),
            kn,
        },
        span_ms: t1 - t0,
        points: valid.len(),
    })
}

/// Of several drifting devices' tracks (`(mmsi, positions)`), the current
/// measured by the one nearest to `near` (by its latest position, within
/// `max_nm`), using its positions of the last `window_ms` before `at_ms`.
pub fn current_from_nearest_beacon(
    near: LatLon,
    at_ms: i64,
    beacons: &[(u32, Vec<TrackPoint>)],
    max_nm: f64,
    window_ms: i64,
) -> Option<(u32, ObservedCurrent)> {
    let mut best: Option<(f64, u32, ObservedCurrent)> = None;
    for (mmsi, track) in beacons {
        if !is_drifting_beacon(*mmsi) {
            continue;
        }
        let recent: Vec<TrackPoint> = track
            .iter()
            .copied()
            .filter(|p| p.time_ms <= at_ms && p.time_ms >= at_ms - window_ms)
            .collect();
        let Some(last) = recent.iter().max_by_key(|p| p.time_ms) else {
            continue;
        };
        let d = distance_nm(near, last.position());
        if d > max_nm {
            continue;
        }
        if let Some(obs) = current_from_track(&recent) {
            if best.as_ref().is_none_or(|b| d < b.0) {
                best = Some((d, *mmsi, obs));
            }
        }
    }
    best.map(|(_, m, o)| (m, o))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::{bearing_deg, distance_nm};
    use crate::leeway::category;

    const H: i64 = 3_600_000;
    const LKP: LatLon = LatLon::new(35.0, 13.0);

    fn wind(at: i64, from: f64, kn: f64) -> WindObs {
        WindObs {
            at,
            from_deg: from,
            kn,
        }
    }

    #[test]
    fn person_in_water_in_steady_wind_worked_example() {
        // Wind from 000° at 20 kn for 10 h, no current. PIW leeway
        // (0.96 % DW, ±0.54 % CW, no offsets): DWL = 0.192 kn towards 180°,
        // CWL = 0.108 kn. Right of downwind (180° + 90° = 270°, west) and left
        // (east). Over 10 h: 1.92 NM south, 1.08 NM west / east. Each
        // divergence datum is √(1.92² + 1.08²) = 2.2029 NM from the LKP, on
        // 180° ± 29.36°; the datums are 2.16 NM apart; the datum (midpoint)
        // is 1.92 NM due south.
        let obj = category("person_in_water").unwrap();
        let t = drift(LKP, 0, 10 * H, obj, &[wind(0, 0.0, 20.0)], Current::NONE, H).unwrap();
        let p = t.last();
        assert!((distance_nm(LKP, p.right) - 2.2029).abs() < 1e-3);
        assert!((bearing_deg(LKP, p.right) - (180.0 + 29.36)).abs() < 0.05);
        assert!((bearing_deg(LKP, p.left) - (180.0 - 29.36)).abs() < 0.05);
        assert!((distance_nm(p.left, p.right) - 2.16).abs() < 1e-3);
        assert!((distance_nm(LKP, p.datum) - 1.92).abs() < 1e-3);
        assert!((t.leeway_kn - 0.192).abs() < 1e-6 && (t.leeway_deg - 180.0).abs() < 1e-6);
        assert!((t.drift_kn - 0.192).abs() < 1e-4);
        assert_eq!(t.points.len(), 11);
    }

    #[test]
    fn current_and_leeway_add_as_vectors() {
        // Overloaded rubber boat, wind from 330° at 15 kn, current 120° at
        // 0.5 kn, 6 h. U = 7.7167 m/s. DWL = 1.56 %·7.7167 + 8.30 = 20.338 cm/s
        // = 0.39534 kn towards 150°. CW = ±(0.078 %·7.7167 + 2.70) = ±3.3019
        // cm/s = ±0.064184 kn. Mean leeway (CW cancels) 0.39534 kn towards
        // 150°. Mean drift = current + leeway:
        //   east  = 0.5 sin120 + 0.39534 sin150 = 0.43301 + 0.19767 = 0.63068
        //   north = 0.5 cos120 + 0.39534 cos150 = −0.25 − 0.34237 = −0.59237
        //   speed = 0.86525 kn, towards atan2(0.63068, −0.59237) = 133.20°.
        let obj = category("rubber_boat_overloaded").unwrap();
        let t = drift(
            LKP,
            0,
            6 * H,
            obj,
            &[wind(0, 330.0, 15.0)],
            Current {
                set_deg: 120.0,
                kn: 0.5,
            },
            H,
        )
        .unwrap();
        assert!((t.leeway_kn - 0.39534).abs() < 1e-4, "{}", t.leeway_kn);
        assert!((t.leeway_deg - 150.0).abs() < 1e-6);
        assert!((t.drift_kn - 0.86525).abs() < 1e-3, "{}", t.drift_kn);
        assert!((t.drift_deg - 133.20).abs() < 0.05, "{}", t.drift_deg);
        // Divergence: 2 · 0.064184 kn · 6 h = 0.77 NM between the datums.
        assert!(
            (t.divergence_nm() - 0.7702).abs() < 2e-3,
            "{}",
            t.divergence_nm()
        );
    }

    #[test]
    fn winds_over_time_hold_until_the_next() {
        // 3 h of wind from north then 3 h from south at the same speed:
        // the leeway cancels and only the current (none) remains.
        let obj = category("person_in_water").unwrap();
        let winds = [wind(3 * H, 180.0, 20.0), wind(-5 * H, 0.0, 20.0)];
        let t = drift(LKP, 0, 6 * H, obj, &winds, Current::NONE, 6 * H).unwrap();
        // (Within 1e-4 NM: great-circle legs out and back along opposite
        // initial bearings do not retrace exactly.)
        assert!(
            distance_nm(LKP, t.datum()) < 1e-4,
            "{}",
            distance_nm(LKP, t.datum())
        );
        // Breakpoints: 0, 3 h (the change), 6 h.
        assert_eq!(
            t.points.iter().map(|p| p.time_ms).collect::<Vec<_>>(),
            vec![0, 3 * H, 6 * H]
        );
        // The first observation also covers the time before it.
        let t = drift(LKP, 0, 2 * H, obj, &[wind(H, 0.0, 20.0)], Current::NONE, H).unwrap();
        assert!((distance_nm(LKP, t.datum()) - 0.384).abs() < 1e-4);
    }

    #[test]
    fn bad_inputs_are_refused() {
        let obj = category("person_in_water").unwrap();
        let w = [wind(0, 0.0, 10.0)];
        assert!(drift(LKP, 10, 0, obj, &w, Current::NONE, H).is_err());
        assert!(drift(LKP, 0, 31 * 24 * H, obj, &w, Current::NONE, H).is_err());
        assert!(drift(LKP, 0, H, obj, &[], Current::NONE, H).is_err());
        assert!(drift(LKP, 0, H, obj, &[wind(0, 400.0, 1.0)], Current::NONE, H).is_err());
        let fast = Current {
            set_deg: 0.0,
            kn: 99.0,
        };
        assert!(drift(LKP, 0, H, obj, &w, fast, H).is_err());
        let t = drift(LKP, 5, 5, obj, &w, Current::NONE, H).unwrap();
        assert_eq!(t.points.len(), 1);
        assert_eq!(t.drift_kn, 0.0);
    }

    #[test]
    fn a_drifting_sart_measures_the_current() {
        // A SART drifting 0.8 kn towards 045° for 2 h, a fix every 6 min.
        let pts: Vec<TrackPoint> = (0..=20)
            .map(|i| {
                let p = destination(LKP, 45.0, 0.8 * i as f64 / 10.0);
                TrackPoint::new(i * H / 10, p.lat, p.lon)
            })
            .collect();
        let o = current_from_track(&pts).unwrap();
        assert!((o.current.kn - 0.8).abs() < 1e-3, "{o:?}");
        assert!((o.current.set_deg - 45.0).abs() < 0.1, "{o:?}");
        assert_eq!(o.points, 21);
        assert!(current_from_track(&pts[..1]).is_none());
        assert!(
            current_from_track(&pts[..2]).is_none(),
            "6 min is too short"
        );
        assert!(is_drifting_beacon(970_123_456) && is_drifting_beacon(972_000_001));
        assert!(!is_drifting_beacon(247_000_001));
        let far = vec![
            TrackPoint::new(0, 40.0, 20.0),
            TrackPoint::new(H, 40.01, 20.0),
        ];
        let beacons = vec![
            (970_000_002, far),
            (970_000_001, pts.clone()),
            (247_000_001, pts),
        ];
        let (m, o) = current_from_nearest_beacon(LKP, 2 * H, &beacons, 20.0, 6 * H).unwrap();
        assert_eq!(m, 970_000_001);
        assert!((o.current.kn - 0.8).abs() < 1e-3);
    }
}
