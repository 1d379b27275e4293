//! The search area for a drifting contact, per IAMSAR's manual method:
//! drift the object from its last known position ([`crate::drift`]) to get
//! the left and right divergence datums, compose the total probable error
//! `E` ([`crate::probable_error`]), take the search radius `R = fs · E`,
//! and draw
//!
//! * the **circle** of radius `R` around the datum (the midpoint of the
//!   divergence datums), and
//! * the **search area**: the rectangle enclosing the circles of radius `R`
//!   around the left and right datums — `DD + 2R` long along the line
//!   joining them (DD: the distance between the datums) and `2R` wide.
//!
//! Geometry is computed in a local azimuthal plane in nautical miles around
//! the datum ([`LocalFrame`]) and returned as GeoJSON.
//!
//! The request and response are the JSON bodies of
//! `POST /api/incidents/{id}/search-area`:
//!
//! ```
//! use sar::search_area::{plan_search_area, SearchAreaRequest};
//! use sar::{Contact, Sighting, SourceKind};
//! let contact = Contact::new("c-000001", "rubber boat, ~60 persons",
//!     Sighting::new(1_795_845_600_000, 35.2, 12.9, 185.2, SourceKind::Phone, "duty"), 0).unwrap();
//! let req: SearchAreaRequest = serde_json::from_value(serde_json::json!({
//!     "contact": "c-000001", "object": "rubber_boat_overloaded",
//!     "wind": [{"at": "2026-11-28T06:00:00Z", "from_deg": 330, "kn": 15}],
//!     "current": {"set_deg": 120, "kn": 0.5},
//!     "at": "2026-11-28T12:00:00Z", "safety_factor": 1.1
//! })).unwrap();
//! let plan = plan_search_area(&req, Some(&contact), None).unwrap();
//! let body = serde_json::to_value(&plan.response).unwrap();
//! assert!(body["radius_nm"].as_f64().unwrap() > body["error_nm"].as_f64().unwrap());
//! assert_eq!(body["area"]["geometry"]["type"], "Polygon");
//! ```

use crate::contact::{format_time, Contact};
use crate::drift::{drift, Current, DatumTrack, WindObs};
use crate::error::SarError;
use crate::geo::{bearing_of, distance_nm, unit, LatLon, LocalFrame, NM_M};
use crate::geojson::{circle_xy, feature, polygon_geometry};
use crate::leeway;
use crate::probable_error::{
    check_safety_factor, drift_error_nm, safety_factor, NavFix, ProbableError, DRIFT_ERROR_FRACTION,
};
use crate::time::de_time;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};

/// Vertices of the circles drawn in GeoJSON.
const CIRCLE_VERTICES: usize = 48;

/// A last known position given directly instead of a contact's latest
/// sighting.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LkpInput {
    pub lat: f64,
    pub lon: f64,
    #[serde(deserialize_with = "de_time")]
    pub time: i64,
    /// Its probable error, NM (optional).
    #[serde(default)]
    pub error_nm: Option<f64>,
}

/// The body of `POST /api/incidents/{id}/search-area`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchAreaRequest {
    /// The contact whose latest sighting is the LKP (`c-…`).
    #[serde(default)]
    pub contact: Option<String>,
    /// Or the LKP itself (overrides the contact's latest sighting).
    #[serde(default)]
    pub lkp: Option<LkpInput>,
    /// Leeway category key (`data/leeway.csv`).
    pub object: String,
    /// One wind value or a list over time.
    #[serde(deserialize_with = "de_winds")]
    pub wind: Vec<WindObs>,
    /// Total water current; when absent, the caller may pass one measured
    /// from a drifting AIS-SART/MOB device.
    #[serde(default)]
    pub current: Option<Current>,
    /// The time of interest (commence search time).
    #[serde(deserialize_with = "de_time")]
    pub at: i64,
    /// Safety factor; default by `search_number` (1.1 for the first).
    #[serde(default)]
    pub safety_factor: Option<f64>,
    /// Which successive search of this datum (1, 2, …), for the default fs.
    #[serde(default)]
    pub search_number: Option<u32>,
    /// How the LKP was fixed (default GPS) — for X.
    #[serde(default)]
    pub position_fix: Option<NavFix>,
    /// Initial position error X, NM (overrides `position_fix`).
    #[serde(default)]
    pub x_nm: Option<f64>,
    /// The search facility's navigation (default GPS) — for Y.
    #[serde(default)]
    pub search_fix: Option<NavFix>,
    /// Search facility navigational error Y, NM (overrides `search_fix`).
    #[serde(default)]
    pub y_nm: Option<f64>,
    /// Drift error as a fraction of the drift distance (default 1/8).
    #[serde(default)]
    pub drift_error_fraction: Option<f64>,
    /// Spacing of the datum track points, minutes (default 60).
    #[serde(default)]
    pub track_step_min: Option<u32>,
}

/// `wind`: one object or a list; a missing `at` means "from the start".
fn de_winds<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<WindObs>, D::Error> {
    let v = Value::deserialize(d)?;
    let one = |mut o: Value| -> Result<WindObs, D::Error> {
        if let Value::Object(m) = &mut o {
            m.entry("at").or_insert(json!(0));
        }
        serde_json::from_value(o).map_err(serde::de::Error::custom)
    };
    match v {
        Value::Array(items) => items.into_iter().map(one).collect(),
        o @ Value::Object(_) => Ok(vec![one(o)?]),
        _ => Err(serde::de::Error::custom(
            "wind must be {\"from_deg\",\"kn\"} or a list of {\"at\",\"from_deg\",\"kn\"}",
        )),
    }
}

/// `{"kn", "deg"}`: a speed and the direction it moves towards.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpeedDir {
    pub kn: f64,
    pub deg: f64,
}

/// The left and right divergence datums.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Datums {
    pub left: LatLon,
    pub right: LatLon,
}

/// The response body: `{"datum", "datums", "leeway", "drift", "error_nm",
/// "radius_nm", "area", "track"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchAreaResponse {
    pub datum: LatLon,
    pub datums: Datums,
    pub leeway: SpeedDir,
    pub drift: SpeedDir,
    pub error_nm: f64,
    pub radius_nm: f64,
    /// GeoJSON Feature: the search rectangle as its Polygon geometry; the
    /// datum circle, the divergence datums' circles, the corners and the
    /// dimensions in its properties.
    pub area: Value,
    /// The datum track from the LKP to the time of interest
    /// ([`crate::drift::DatumTrack::to_geojson`]: left, right and datum
    /// LineStrings with per-point `times`), for the map's time slider.
    /// Absent from areas stored before it was added.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub track: Value,
}

/// The search area's geometry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchArea {
    pub datum: LatLon,
    pub left: LatLon,
    pub right: LatLon,
    pub radius_nm: f64,
    /// Distance between the divergence datums, NM.
    pub divergence_nm: f64,
    /// Direction of the rectangle's long axis (left → right datum), degrees.
    pub axis_deg: f64,
    pub length_nm: f64,
    pub width_nm: f64,
    /// The rectangle's corners, counter-clockwise.
    pub corners: [LatLon; 4],
}

impl SearchArea {
    /// The rectangle enclosing the circles of `radius_nm` around `left` and
    /// `right`; `fallback_axis_deg` orients it when the datums coincide.
    pub fn new(left: LatLon, right: LatLon, radius_nm: f64, fallback_axis_deg: f64) -> SearchArea {
        let datum = crate::drift::midpoint(left, right);
        let f = LocalFrame::new(datum);
        let (lx, ly) = f.to_xy(left);
        let (rx, ry) = f.to_xy(right);
        let dd = (rx - lx).hypot(ry - ly);
        let (ux, uy) = if dd > 1e-9 {
            ((rx - lx) / dd, (ry - ly) / dd)
        } else {
            unit(fallback_axis_deg)
        };
        // v: 90° to the right of u.
        let (vx, vy) = (uy, -ux);
        let a = dd / 2.0 + radius_nm;
        let r = radius_nm;
        let corner =
            |su: f64, sv: f64| f.to_latlon(su * a * ux + sv * r * vx, su * a * uy + sv * r * vy);
        // (−u, +v) → (+u, +v) → (+u, −v) → (−u, −v) runs counter-clockwise
        // because v is to the right of u.
        let corners = [
            corner(-1.0, 1.0),
            corner(1.0, 1.0),
            corner(1.0, -1.0),
            corner(-1.0, -1.0),
        ];
        SearchArea {
            datum,
            left,
            right,
            radius_nm,
            divergence_nm: dd,
            axis_deg: bearing_of(ux, uy),
            length_nm: dd + 2.0 * radius_nm,
            width_nm: 2.0 * radius_nm,
            corners,
        }
    }

    /// Area of the rectangle, NM².
    pub fn area_nm2(&self) -> f64 {
        self.length_nm * self.width_nm
    }

    /// A circle of `radius_nm` around `center` as a lat/lon ring.
    pub fn circle(center: LatLon, radius_nm: f64) -> Vec<LatLon> {
        let f = LocalFrame::new(center);
        circle_xy(0.0, 0.0, radius_nm, CIRCLE_VERTICES)
            .into_iter()
            .map(|(x, y)| f.to_latlon(x, y))
            .collect()
    }

    /// The search area as a GeoJSON Feature (see [`SearchAreaResponse::area`]).
    pub fn to_feature(&self, extra: Value) -> Value {
        let mut props = json!({
            "kind": "search_area",
            "radius_nm": self.radius_nm,
            "divergence_nm": self.divergence_nm,
            "axis_deg": self.axis_deg,
            "length_nm": self.length_nm,
            "width_nm": self.width_nm,
            "area_nm2": self.area_nm2(),
            "corners": self.corners,
            "circle": polygon_geometry(&SearchArea::circle(self.datum, self.radius_nm)),
            "datum_circles": {
                "left": polygon_geometry(&SearchArea::circle(self.left, self.radius_nm)),
                "right": polygon_geometry(&SearchArea::circle(self.right, self.radius_nm)),
            },
        });
        if let (Value::Object(p), Value::Object(e)) = (&mut props, extra) {
            p.extend(e);
        }
        feature(polygon_geometry(&self.corners), props)
    }
}

/// Everything computed for a search-area request.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchAreaPlan {
    /// The response body.
    pub response: SearchAreaResponse,
    /// The datum track from the LKP to the time of interest.
    pub track: DatumTrack,
    pub error: ProbableError,
    pub safety_factor: f64,
    pub area: SearchArea,
}

fn check_nm(what: &str, v: f64, max: f64) -> Result<f64, SarError> {
    if v.is_finite() && (0.0..=max).contains(&v) {
        Ok(v)
    } else {
        Err(SarError::invalid(format!("{what} must be within 0..{max}")))
    }
}

/// Compute the search area for `req`. The LKP is `req.lkp`, else the
/// contact's latest sighting (`contact` must then be the one `req.contact`
/// names). The current is `req.current`, else `observed_current` (e.g.
/// from [`crate::drift::current_from_nearest_beacon`]), else an error.
///
/// X is `x_nm`, else the larger of the fix error of `position_fix`
/// (default GPS) and the LKP's stated uncertainty; Y is `y_nm`, else the
/// fix error of `search_fix` (default GPS); De is `drift_error_fraction`
/// (default 1/8) of the longer of the two divergence drifts.
pub fn plan_search_area(
    req: &SearchAreaRequest,
    contact: Option<&Contact>,
    observed_current: Option<crate::drift::Current>,
) -> Result<SearchAreaPlan, SarError> {
    let object = leeway::require(&req.object)?;
    let (lkp, lkp_time, lkp_err_nm) = match (&req.lkp, contact) {
        (Some(l), _) => {
            let p = LatLon::new(l.lat, l.lon);
            if !p.is_valid() {
                return Err(SarError::invalid(
                    "lkp lat must be within -90..90 and lon within -180..180",
                ));
            }
            (
                p,
                l.time,
                check_nm("lkp error_nm", l.error_nm.unwrap_or(0.0), 500.0)?,
            )
        }
        (None, Some(c)) => {
            if let Some(id) = &req.contact {
                if id != &c.id {
                    return Err(SarError::invalid(format!("contact {} is not {id}", c.id)));
                }
            }
            let s = c.latest();
            (s.position(), s.time_ms, s.uncertainty_m / NM_M)
        }
        (None, None) => {
            return Err(SarError::invalid("a contact or an lkp is required"));
        }
    };
    let current =
        match req.current.or(observed_current) {
            Some(c) => c,
            None => return Err(SarError::invalid(
                "current is required ({\"set_deg\",\"kn\"}) when no drifting AIS-SART/MOB is near",
            )),
        };
    let fs = match req.safety_factor {
        Some(f) => check_safety_factor(f)?,
        None => safety_factor(req.search_number.unwrap_or(1)),
    };
    let fraction = check_nm(
        "drift_error_fraction",
        req.drift_error_fraction.unwrap_or(DRIFT_ERROR_FRACTION),
        1.0,
    )?;
    let x = match req.x_nm {
        Some(x) => check_nm("x_nm", x, 500.0)?,
        None => req
            .position_fix
            .unwrap_or(NavFix::Gps)
            .error_nm()
            .max(lkp_err_nm),
    };
    let y = match req.y_nm {
        Some(y) => check_nm("y_nm", y, 500.0)?,
        None => req.search_fix.unwrap_or(NavFix::Gps).error_nm(),
    };
    let step_ms = i64::from(req.track_step_min.unwrap_or(60).clamp(1, 360)) * 60_000;
    let track = drift(lkp, lkp_time, req.at, object, &req.wind, current, step_ms)?;
    let (dl, dr) = track.drift_distances_nm();
    let error = ProbableError::new(x, y, drift_error_nm(dl.max(dr), fraction));
    let radius = fs * error.e_nm;
    let last = *track.last();
    let area = SearchArea::new(last.left, last.right, radius, track.drift_deg);
    let feature = area.to_feature(json!({
        "object": object.key,
        "at": format_time(req.at),
        "lkp": lkp,
        "lkp_time": format_time(lkp_time),
        "safety_factor": fs,
        "error": error,
    }));
    let response = SearchAreaResponse {
        datum: area.datum,
        datums: Datums {
            left: last.left,
            right: last.right,
        },
        leeway: SpeedDir {
            kn: track.leeway_kn,
            deg: track.leeway_deg,
        },
        drift: SpeedDir {
            kn: track.drift_kn,
            deg: track.drift_deg,
        },
        error_nm: error.e_nm,
        radius_nm: radius,
        area: feature,
        track: track.to_geojson(),
    };
    debug_assert!(distance_nm(area.datum, last.datum) < 1e-6);
    Ok(SearchAreaPlan {
        response,
        track,
        error,
        safety_factor: fs,
        area,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::destination;
    use crate::geojson::{polygons_from_geojson, to_local};
    use ::geo::{Area, Contains, Coord};

    const T0: i64 = 1_795_845_600_000; // 2026-11-28T06:00:00Z
    const H: i64 = 3_600_000;

    fn req(v: Value) -> SearchAreaRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn rectangle_geometry_by_hand() {
        // Datums 4 NM apart east–west, R = 2 NM: the rectangle is
        // (4 + 2·2) × (2·2) = 8 × 4 NM = 32 NM², its long axis 090°.
        let c = LatLon::new(35.0, 13.0);
        let a = SearchArea::new(
            destination(c, 270.0, 2.0),
            destination(c, 90.0, 2.0),
            2.0,
            0.0,
        );
        assert!((a.divergence_nm - 4.0).abs() < 1e-9);
        assert!((a.area_nm2() - 32.0).abs() < 1e-9);
        assert!((a.axis_deg - 90.0).abs() < 1e-6);
        // Every corner is √(4² + 2²) = 4.4721 NM from the datum.
        for k in a.corners {
            assert!((distance_nm(a.datum, k) - 20f64.sqrt()).abs() < 1e-9);
        }
        // The polygon's area in the plane is the same, and it is CCW.
        let f = LocalFrame::new(a.datum);
        let polys = polygons_from_geojson(&a.to_feature(json!({}))).unwrap();
        let mp = to_local(&f, &polys);
        assert!((mp.unsigned_area() - 32.0).abs() < 1e-6);
        assert!(mp.signed_area() > 0.0);
        // Both datum circles fit inside.
        for p in [a.left, a.right] {
            for q in SearchArea::circle(p, 1.999) {
                let (x, y) = f.to_xy(q);
                assert!(mp.contains(&Coord { x, y }));
            }
        }
    }

    #[test]
    fn the_issue_example_end_to_end() {
        // The request of issue 17: overloaded rubber boat, wind 330° 15 kn,
        // current 120° 0.5 kn, 6 h of drift, fs 1.1. From the drift test the
        // datum is 6 × (0.63068 E, −0.59237 N) = (3.78408, −3.55422) NM from
        // the LKP, and each divergence datum ±6 × 0.064184 = 0.385104 NM off
        // it across the wind: right along 240° (−0.33351, −0.19255), left
        // along 060°. Right datum (3.45057, −3.74677): 5.0936 NM; left datum
        // (4.11759, −3.36167): 5.3156 NM, the longer → De = 5.3156/8 = 0.66445.
        // X = max(GPS 0.1, 185.2 m reported = 0.1) = 0.1, Y = 0.1:
        // E = √(0.01 + 0.01 + 0.441494) = 0.67934 NM, R = 1.1 E = 0.74727 NM.
        let contact = Contact::new(
            "c-000001",
            "rubber boat, ~60 persons",
            crate::Sighting::new(T0, 35.2, 12.9, 185.2, crate::SourceKind::Phone, "duty"),
            T0,
        )
        .unwrap();
        let r = req(json!({
            "contact": "c-000001", "object": "rubber_boat_overloaded",
            "wind": [{"at": T0, "from_deg": 330, "kn": 15}],
            "current": {"set_deg": 120, "kn": 0.5}, "at": T0 + 6 * H, "safety_factor": 1.1
        }));
        let p = plan_search_area(&r, Some(&contact), None).unwrap();
        assert!((p.error.de_nm - 0.66445).abs() < 2e-4, "{:?}", p.error);
        assert!((p.response.error_nm - 0.67934).abs() < 2e-4);
        assert!((p.response.radius_nm - 0.74727).abs() < 2e-4);
        assert!((p.response.radius_nm - 1.1 * p.response.error_nm).abs() < 1e-12);
        assert!((p.response.drift.kn - 0.86525).abs() < 1e-3);
        let body = serde_json::to_value(&p.response).unwrap();
        let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
        let mut want = vec![
            "area",
            "datum",
            "datums",
            "drift",
            "error_nm",
            "leeway",
            "radius_nm",
            "track",
        ];
        want.sort();
        assert_eq!(keys, want);
        // The datum track: left, right and datum lines with a time per point,
        // from the LKP to the datum.
        let sides: Vec<&str> = body["track"]["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"]["side"].as_str().unwrap())
            .collect();
        assert_eq!(sides, ["left", "right", "datum"]);
        let d = &body["track"]["features"][2];
        let pts = d["geometry"]["coordinates"].as_array().unwrap();
        assert_eq!(
            pts.len(),
            d["properties"]["times"].as_array().unwrap().len()
        );
        let last = pts.last().unwrap();
        assert!((last[1].as_f64().unwrap() - body["datum"]["lat"].as_f64().unwrap()).abs() < 1e-9);
        assert!(body["datum"]["lat"].is_f64() && body["datums"]["left"]["lon"].is_f64());
        assert!(body["leeway"]["kn"].is_f64() && body["drift"]["deg"].is_f64());
        assert_eq!(body["area"]["type"], "Feature");
        assert_eq!(body["area"]["properties"]["circle"]["type"], "Polygon");
        // A wrong contact, no current, an unknown object, time before the LKP.
        let mut bad = r.clone();
        bad.contact = Some("c-000002".into());
        assert!(plan_search_area(&bad, Some(&contact), None).is_err());
        let mut bad = r.clone();
        bad.current = None;
        assert!(plan_search_area(&bad, Some(&contact), None)
            .unwrap_err()
            .message
            .contains("current"));
        let observed = Current {
            set_deg: 120.0,
            kn: 0.5,
        };
        assert_eq!(
            plan_search_area(&bad, Some(&contact), Some(observed))
                .unwrap()
                .response,
            p.response
        );
        let mut bad = r.clone();
        bad.object = "kayak".into();
        assert!(plan_search_area(&bad, Some(&contact), None).is_err());
        let mut bad = r.clone();
        bad.at = T0 - 1;
        assert!(plan_search_area(&bad, Some(&contact), None).is_err());
        assert!(plan_search_area(&r, None, None).is_err());
    }

    #[test]
    fn one_wind_value_rfc3339_lkp_and_defaults() {
        let r = req(json!({
            "lkp": {"lat": 35.0, "lon": 13.0, "time": "2026-11-28T06:00:00Z", "error_nm": 2.0},
            "object": "person_in_water",
            "wind": {"from_deg": 0, "kn": 20},
            "current": {"set_deg": 0, "kn": 0},
            "at": "2026-11-28T16:00:00Z",
            "search_number": 2
        }));
        assert_eq!(r.wind.len(), 1);
        let p = plan_search_area(&r, None, None).unwrap();
        // PIW, 20 kn from north, 10 h (see drift tests): each datum 2.2029 NM
        // from the LKP → De = 0.27536; X = 2.0 (the stated error beats GPS),
        // Y = 0.1: E = √(4 + 0.01 + 0.075824) = 2.02134; second search fs 1.6.
        assert_eq!(p.safety_factor, 1.6);
        assert!((p.error.e_nm - 2.02134).abs() < 1e-4, "{:?}", p.error);
        assert!((p.area.divergence_nm - 2.16).abs() < 1e-3);
        assert!((p.area.length_nm - (2.16 + 2.0 * 1.6 * 2.02134)).abs() < 1e-3);
        assert_eq!(p.track.points.len(), 11);
        assert!(serde_json::from_value::<SearchAreaRequest>(json!({
            "object": "x", "wind": 5, "at": 0
        }))
        .is_err());
        assert!(serde_json::from_value::<SearchAreaRequest>(json!({
            "object": "x", "wind": [], "at": 0, "surprise": 1
        }))
        .is_err());
    }
}
