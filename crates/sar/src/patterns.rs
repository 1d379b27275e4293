//! Search patterns of the IAMSAR Manual for one searching unit, as timed
//! waypoints from a commence search point (CSP):
//!
//! * **expanding square (SS)**: from the CSP (the datum), legs of S, S, 2S,
//!   2S, 3S, 3S, … each turning 90° the same way;
//! * **sector search (VS)**: three 120° sectors around the CSP (the datum):
//!   every leg is one radius long and every turn is 120° the same way,
//!   except at the datum, which the unit crosses straight (legs 3–4 and
//!   6–7 are one straight line through it), so the nine legs search six
//!   radials 60° apart;
//! * **parallel sweep (PS)**: long legs S apart, alternating direction,
//!   joined by cross legs of S; [`parallel_sweep_for_area`] fills a search
//!   area's rectangle (CSP S/2 inside a corner, legs S/2 inside the sides);
//! * **track line (TS)**: along a track line from the CSP; with several
//!   legs, passes S apart centred on the line (two legs: the return search
//!   TSR, S/2 each side).
//!
//! Geometry is laid out in a local plane in nautical miles around the CSP
//! ([`LocalFrame`]) and each waypoint gets its planned time at the unit's
//! speed. The request is the body of `POST /api/incidents/{id}/patterns`.
//!
//! ```
//! use sar::patterns::{generate, PatternRequest};
//! let req: PatternRequest = serde_json::from_value(serde_json::json!({
//!     "asset": 247000001, "pattern": "expanding_square",
//!     "csp": {"lat": 35.0, "lon": 13.0}, "first_leg_deg": 0, "spacing_nm": 1.0,
//!     "legs": 9, "speed_kn": 12, "start": "2026-11-28T08:00:00Z"
//! })).unwrap();
//! let p = generate(&req).unwrap();
//! // 1+1+2+2+3+3+4+4+5 = 25 NM at 12 kn: 125 minutes.
//! assert!((p.length_nm() - 25.0).abs() < 1e-9);
//! assert_eq!(p.end_ms() - p.start_ms, 125 * 60_000);
//! assert_eq!(p.to_feature()["geometry"]["type"], "LineString");
//! ```

use crate::contact::format_time;
use crate::error::SarError;
use crate::geo::{bearing_of, normalize_deg, unit, LatLon, LocalFrame};
use crate::geojson::{feature, line_string_geometry};
use crate::search_area::SearchArea;
use crate::sweep_width::{sweep_width, SearchUnit, SweepWidth};
use crate::time::de_time;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Most legs in one pattern.
pub const MAX_LEGS: u32 = 200;
/// Longest leg / radius / spacing accepted, NM.
pub const MAX_LEG_NM: f64 = 500.0;

/// Which pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternKind {
    ExpandingSquare,
    Sector,
    Parallel,
    TrackLine,
}

impl PatternKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PatternKind::ExpandingSquare => "expanding_square",
            PatternKind::Sector => "sector",
            PatternKind::Parallel => "parallel",
            PatternKind::TrackLine => "track_line",
        }
    }
    /// IAMSAR's two-letter code.
    pub fn code(self) -> &'static str {
        match self {
            PatternKind::ExpandingSquare => "SS",
            PatternKind::Sector => "VS",
            PatternKind::Parallel => "PS",
            PatternKind::TrackLine => "TS",
        }
    }
}

/// Which way the pattern turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Turn {
    #[default]
    Right,
    Left,
}

impl Turn {
    fn sign(self) -> f64 {
        match self {
            Turn::Right => 1.0,
            Turn::Left => -1.0,
        }
    }
}

/// Derive the track spacing from the sweep-width table instead of giving it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepInput {
    /// Leeway object category key.
    pub object: String,
    pub unit: SearchUnit,
    pub visibility_nm: f64,
    #[serde(default)]
    pub wind_kn: f64,
    #[serde(default)]
    pub fatigued: bool,
}

/// The body of `POST /api/incidents/{id}/patterns`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatternRequest {
    /// The searching unit's MMSI.
    #[serde(default)]
    pub asset: Option<u32>,
    #[serde(default)]
    pub asset_name: Option<String>,
    pub pattern: PatternKind,
    pub csp: LatLon,
    #[serde(default)]
    pub first_leg_deg: f64,
    /// Track spacing S, NM (or `sweep` to take it from the table).
    #[serde(default)]
    pub spacing_nm: Option<f64>,
    #[serde(default)]
    pub sweep: Option<SweepInput>,
    /// Legs of an expanding square or sector search (default 9), long legs
    /// of a parallel sweep, passes of a track line search (default 1).
    #[serde(default)]
    pub legs: Option<u32>,
    pub speed_kn: f64,
    #[serde(deserialize_with = "de_time")]
    pub start: i64,
    /// Parallel sweep and track line: length of the long legs, NM.
    #[serde(default)]
    pub leg_length_nm: Option<f64>,
    /// Sector search: the radius, NM.
    #[serde(default)]
    pub radius_nm: Option<f64>,
    #[serde(default)]
    pub turn: Turn,
}

/// One waypoint with its planned time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Waypoint {
    /// From 0 (the start of the first leg).
    pub seq: usize,
    pub position: LatLon,
    pub time_ms: i64,
    /// Length of the leg that ends here, NM (0 for the first).
    pub leg_nm: f64,
    /// Course of that leg, degrees true (the first leg's for the first).
    pub course_deg: f64,
}

impl Waypoint {
    /// Its name in GPX, KML and NMEA: `WP001`, `WP002`, …
    pub fn name(&self) -> String {
        format!("WP{:03}", self.seq + 1)
    }
}

/// A planned pattern (serialised whole in the incident log, so a stored
/// pattern is delivered exactly as it was planned).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pattern {
    pub kind: PatternKind,
    pub asset: Option<u32>,
    pub asset_name: Option<String>,
    pub csp: LatLon,
    pub first_leg_deg: f64,
    /// S (0 for a sector search, which has no spacing).
    pub spacing_nm: f64,
    pub legs: u32,
    pub speed_kn: f64,
    pub start_ms: i64,
    pub waypoints: Vec<Waypoint>,
    /// When the spacing came from the sweep-width table.
    pub sweep: Option<SweepWidth>,
}

impl Pattern {
    pub fn length_nm(&self) -> f64 {
        self.waypoints.iter().map(|w| w.leg_nm).sum()
    }
    pub fn end_ms(&self) -> i64 {
        self.waypoints.last().map_or(self.start_ms, |w| w.time_ms)
    }
    pub fn positions(&self) -> Vec<LatLon> {
        self.waypoints.iter().map(|w| w.position).collect()
    }

    /// A name for the route: `SS 247000001` etc.
    pub fn title(&self) -> String {
        let who = match (&self.asset_name, self.asset) {
            (Some(n), _) => n.clone(),
            (None, Some(m)) => m.to_string(),
            (None, None) => "SRU".to_string(),
        };
        format!("{} {}", self.kind.code(), who)
    }

    /// The pattern as a GeoJSON Feature LineString whose properties list
    /// each waypoint with its planned time.
    pub fn to_feature(&self) -> Value {
        let wps: Vec<Value> = self
            .waypoints
            .iter()
            .map(|w| {
                json!({
                    "seq": w.seq,
                    "name": w.name(),
                    "lat": w.position.lat,
                    "lon": w.position.lon,
                    "time": format_time(w.time_ms),
                    "time_ms": w.time_ms,
                    "leg_nm": w.leg_nm,
                    "course_deg": w.course_deg,
                })
            })
            .collect();
        feature(
            line_string_geometry(&self.positions()),
            json!({
                "kind": "search_pattern",
                "pattern": self.kind.as_str(),
                "code": self.kind.code(),
                "asset": self.asset,
                "asset_name": self.asset_name,
                "csp": self.csp,
                "first_leg_deg": self.first_leg_deg,
                "spacing_nm": self.spacing_nm,
                "legs": self.legs,
                "speed_kn": self.speed_kn,
                "start": format_time(self.start_ms),
                "end": format_time(self.end_ms()),
                "length_nm": self.length_nm(),
                "sweep": self.sweep,
                "waypoints": wps,
            }),
        )
    }
}

fn check(what: &str, v: f64, lo: f64, hi: f64) -> Result<f64, SarError> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(v)
    } else {
        Err(SarError::invalid(format!(
            "{what} must be within {lo}..{hi}"
        )))
    }
}

/// Plane waypoints (NM around the CSP) of each pattern.
fn expanding_square(s: f64, legs: u32, h: f64, turn: f64) -> Vec<(f64, f64)> {
    let mut pts = vec![(0.0, 0.0)];
    let (mut x, mut y) = (0.0, 0.0);
    for i in 0..legs {
        let len = s * f64::from(i / 2 + 1);
        let (e, n) = unit(h + 90.0 * turn * f64::from(i));
        x += len * e;
        y += len * n;
        pts.push((x, y));
    }
    pts
}

fn sector(r: f64, legs: u32, h: f64, turn: f64) -> Vec<(f64, f64)> {
    let mut pts = vec![(0.0, 0.0)];
    let (mut x, mut y, mut heading) = (0.0, 0.0, h);
    for i in 0..legs {
        let (e, n) = unit(heading);
        x += r * e;
        y += r * n;
        pts.push((x, y));
        // Back at the datum after legs 3 and 6: cross it straight.
        if (i + 1) % 3 != 0 {
            heading += 120.0 * turn;
        }
    }
    pts
}

fn parallel(s: f64, legs: u32, len: f64, h: f64, turn: f64) -> Vec<(f64, f64)> {
    let mut pts = vec![(0.0, 0.0)];
    let (mut x, mut y) = (0.0, 0.0);
    let (ce, cn) = unit(h + 90.0 * turn);
    for i in 0..legs {
        let (e, n) = unit(if i % 2 == 0 { h } else { h + 180.0 });
        x += len * e;
        y += len * n;
        pts.push((x, y));
        if i + 1 < legs {
            x += s * ce;
            y += s * cn;
            pts.push((x, y));
        }
    }
    pts
}

fn track_line(s: f64, legs: u32, len: f64, h: f64, turn: f64) -> Vec<(f64, f64)> {
    let (ue, un) = unit(h);
    let (ve, vn) = unit(h + 90.0 * turn);
    let mut pts = Vec::new();
    for i in 0..legs {
        let off = (f64::from(i) - f64::from(legs - 1) / 2.0) * s;
        let (a, b) = if i % 2 == 0 { (0.0, len) } else { (len, 0.0) };
        pts.push((off * ve + a * ue, off * vn + a * un));
        pts.push((off * ve + b * ue, off * vn + b * un));
    }
    pts
}

/// Timed waypoints from plane points.
fn timed(
    frame: &LocalFrame,
    pts: &[(f64, f64)],
    speed_kn: f64,
    start_ms: i64,
    first_course: f64,
) -> Vec<Waypoint> {
    let mut out = Vec::with_capacity(pts.len());
    let mut dist = 0.0;
    for (i, &(x, y)) in pts.iter().enumerate() {
        let (leg, course) = if i == 0 {
            (0.0, normalize_deg(first_course))
        } else {
            let (px, py) = pts[i - 1];
            ((x - px).hypot(y - py), bearing_of(x - px, y - py))
        };
        dist += leg;
        out.push(Waypoint {
            seq: i,
            position: frame.to_latlon(x, y),
            time_ms: start_ms + (dist / speed_kn * 3_600_000.0).round() as i64,
            leg_nm: leg,
            course_deg: course,
        });
    }
    out
}

/// Plan the pattern a request describes, laid out in a plane around its CSP.
pub fn generate(req: &PatternRequest) -> Result<Pattern, SarError> {
    generate_in(req, &LocalFrame::new(req.csp))
}

/// Plan the pattern in a given local plane (directions are those of the
/// plane: a pattern fitted to a search area is laid out in the area's).
pub fn generate_in(req: &PatternRequest, frame: &LocalFrame) -> Result<Pattern, SarError> {
    if !req.csp.is_valid() {
        return Err(SarError::invalid(
            "csp lat must be within -90..90 and lon within -180..180",
        ));
    }
    let h = check("first_leg_deg", req.first_leg_deg, 0.0, 360.0)?;
    let speed = check("speed_kn", req.speed_kn, 0.5, 600.0)?;
    if let Some(n) = &req.asset_name {
        if n.chars().count() > 200 {
            return Err(SarError::invalid("asset_name is limited to 200 characters"));
        }
    }
    let sweep = match &req.sweep {
        Some(s) if req.spacing_nm.is_none() => Some(sweep_width(
            &s.object,
            s.unit,
            s.visibility_nm,
            s.wind_kn,
            s.fatigued,
        )?),
        _ => None,
    };
    let spacing = || -> Result<f64, SarError> {
        match (req.spacing_nm, &sweep) {
            (Some(s), _) => check("spacing_nm", s, 0.01, 50.0),
            (None, Some(w)) => check(
                "spacing from the sweep-width table",
                w.track_spacing_nm,
                0.01,
                50.0,
            ),
            (None, None) => Err(SarError::invalid("spacing_nm (or sweep) is required")),
        }
    };
    let leg_length = || {
        req.leg_length_nm
            .ok_or_else(|| SarError::invalid("leg_length_nm is required for this pattern"))
            .and_then(|l| check("leg_length_nm", l, 0.1, MAX_LEG_NM))
    };
    let turn = req.turn.sign();
    let (pts, s, legs) = match req.pattern {
        PatternKind::ExpandingSquare => {
            let legs = req.legs.unwrap_or(9);
            let s = spacing()?;
            check("legs", f64::from(legs), 1.0, f64::from(MAX_LEGS))?;
            (expanding_square(s, legs, h, turn), s, legs)
        }
        PatternKind::Sector => {
            let legs = req.legs.unwrap_or(9);
            check("legs of a sector search", f64::from(legs), 1.0, 9.0)?;
            let r = req
                .radius_nm
                .ok_or_else(|| SarError::invalid("radius_nm is required for a sector search"))?;
            let r = check("radius_nm", r, 0.1, 50.0)?;
            (sector(r, legs, h, turn), 0.0, legs)
        }
        PatternKind::Parallel => {
            let legs = req
                .legs
                .ok_or_else(|| SarError::invalid("legs is required for a parallel sweep"))?;
            check("legs", f64::from(legs), 1.0, f64::from(MAX_LEGS))?;
            let s = spacing()?;
            (parallel(s, legs, leg_length()?, h, turn), s, legs)
        }
        PatternKind::TrackLine => {
            let legs = req.legs.unwrap_or(1);
            check("legs", f64::from(legs), 1.0, f64::from(MAX_LEGS))?;
            let s = if legs > 1 {
                spacing()?
            } else {
                req.spacing_nm.unwrap_or(0.0)
            };
            (track_line(s, legs, leg_length()?, h, turn), s, legs)
        }
    };
    let (ox, oy) = frame.to_xy(req.csp);
    let pts: Vec<(f64, f64)> = pts.into_iter().map(|(x, y)| (x + ox, y + oy)).collect();
    let waypoints = timed(frame, &pts, speed, req.start, h);
    let p = Pattern {
        kind: req.pattern,
        asset: req.asset,
        asset_name: req.asset_name.clone(),
        csp: req.csp,
        first_leg_deg: h,
        spacing_nm: s,
        legs,
        speed_kn: speed,
        start_ms: req.start,
        waypoints,
        sweep,
    };
    if p.length_nm() > 20_000.0 {
        return Err(SarError::invalid("the pattern is longer than 20000 NM"));
    }
    Ok(p)
}

/// A parallel sweep filling a search area's rectangle with legs `spacing`
/// apart along its long axis (left datum → right datum): the CSP is S/2
/// inside the corner at the left datum's end on the left-hand side, the
/// legs run S/2 short of each end and step to the right, and there are
/// `n = ceil(width / S)` of them — S is closed up to `width / n` so that
/// they fill the rectangle's width exactly (the pattern's `spacing_nm` is
/// the spacing used).
pub fn parallel_sweep_for_area(
    area: &SearchArea,
    spacing_nm: f64,
    speed_kn: f64,
    start_ms: i64,
    asset: Option<u32>,
) -> Result<Pattern, SarError> {
    let s = check("spacing_nm", spacing_nm, 0.01, 50.0)?;
    let legs = (area.width_nm / s - 1e-9).ceil().max(1.0);
    if legs > f64::from(MAX_LEGS) {
        return Err(SarError::invalid(format!(
            "the area needs {legs} legs at this spacing (at most {MAX_LEGS})"
        )));
    }
    // Close the spacing up so the legs fill the width exactly.
    let s = area.width_nm / legs;
    let len = (area.length_nm - s).max(0.1);
    // corners[3] is the (−u, −v) corner: the left datum's end, left side.
    let f = LocalFrame::new(area.datum);
    let (cx, cy) = f.to_xy(area.corners[3]);
    let (ue, un) = unit(area.axis_deg);
    let (ve, vn) = unit(area.axis_deg + 90.0);
    let csp = f.to_latlon(cx + s / 2.0 * (ue + ve), cy + s / 2.0 * (un + vn));
    generate_in(
        &PatternRequest {
            asset,
            asset_name: None,
            pattern: PatternKind::Parallel,
            csp,
            first_leg_deg: area.axis_deg,
            spacing_nm: Some(s),
            sweep: None,
            legs: Some(legs as u32),
            speed_kn,
            start: start_ms,
            leg_length_nm: Some(len),
            radius_nm: None,
            turn: Turn::Right,
        },
        &f,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::{angle_between, bearing_deg, destination, distance_nm};

    const CSP: LatLon = LatLon::new(35.0, 13.0);
    const T0: i64 = 1_795_852_800_000; // 2026-11-28T08:00:00Z

    fn req(kind: PatternKind) -> PatternRequest {
        PatternRequest {
            asset: Some(247_000_001),
            asset_name: None,
            pattern: kind,
            csp: CSP,
            first_leg_deg: 0.0,
            spacing_nm: Some(1.0),
            sweep: None,
            legs: None,
            speed_kn: 12.0,
            start: T0,
            leg_length_nm: Some(10.0),
            radius_nm: Some(2.0),
            turn: Turn::Right,
        }
    }

    fn xy(p: &Pattern) -> Vec<(f64, f64)> {
        let f = LocalFrame::new(p.csp);
        p.waypoints.iter().map(|w| f.to_xy(w.position)).collect()
    }

    fn near(a: (f64, f64), b: (f64, f64)) -> bool {
        (a.0 - b.0).abs() < 1e-6 && (a.1 - b.1).abs() < 1e-6
    }

    #[test]
    fn expanding_square_by_hand() {
        // S = 1, first leg north, turning right: legs 1,1,2,2,3,3 NM on
        // N, E, S, W, N, E: (0,1) (1,1) (1,−1) (−1,−1) (−1,2) (2,2).
        let mut r = req(PatternKind::ExpandingSquare);
        r.legs = Some(6);
        let p = generate(&r).unwrap();
        let want = [
            (0.0, 0.0),
            (0.0, 1.0),
            (1.0, 1.0),
            (1.0, -1.0),
            (-1.0, -1.0),
            (-1.0, 2.0),
            (2.0, 2.0),
        ];
        for (got, w) in xy(&p).iter().zip(want) {
            assert!(near(*got, w), "{got:?} vs {w:?}");
        }
        // 12 NM at 12 kn: 1 h; the 2nd waypoint 5 min after the start.
        assert_eq!(p.end_ms() - T0, 3_600_000);
        assert_eq!(p.waypoints[1].time_ms - T0, 300_000);
        let courses: Vec<f64> = p.waypoints[1..]
            .iter()
            .map(|w| w.course_deg.round())
            .collect();
        assert_eq!(courses, vec![0.0, 90.0, 180.0, 270.0, 0.0, 90.0]);
        // Turning left mirrors it: the second leg goes west.
        r.turn = Turn::Left;
        let p = generate(&r).unwrap();
        assert!(near(xy(&p)[2], (-1.0, 1.0)));
    }

    #[test]
    fn sector_search_by_hand() {
        // R = 2, first leg north, right turns. Nine legs of 2 NM; back at
        // the datum after legs 3, 6 and 9; the outer points lie on six
        // radials 60° apart: 000, 060 (legs 1–2), 240, 300 (legs 4–5),
        // 120, 180 (legs 7–8).
        let p = generate(&req(PatternKind::Sector)).unwrap();
        assert_eq!(p.waypoints.len(), 10);
        assert!((p.length_nm() - 18.0).abs() < 1e-9);
        for w in &p.waypoints[1..] {
            assert!((w.leg_nm - 2.0).abs() < 1e-9);
        }
        for i in [3, 6, 9] {
            assert!(distance_nm(CSP, p.waypoints[i].position) < 1e-6, "leg {i}");
        }
        let mut radials: Vec<f64> = [1, 2, 4, 5, 7, 8]
            .iter()
            .map(|&i| {
                let q = p.waypoints[i].position;
                assert!((distance_nm(CSP, q) - 2.0).abs() < 1e-6);
                bearing_deg(CSP, q).round().rem_euclid(360.0)
            })
            .collect();
        radials.sort_by(f64::total_cmp);
        assert_eq!(radials, vec![0.0, 60.0, 120.0, 180.0, 240.0, 300.0]);
        // Legs 3 and 4 are one straight line through the datum.
        assert!(angle_between(p.waypoints[3].course_deg, p.waypoints[4].course_deg) < 1e-6);
        let mut r = req(PatternKind::Sector);
        r.legs = Some(10);
        assert!(generate(&r).is_err());
        r.legs = None;
        r.radius_nm = None;
        assert!(generate(&r).is_err());
    }

    #[test]
    fn parallel_sweep_by_hand() {
        // 4 legs of 10 NM, S = 1, first leg 090°, turning right (south):
        // (10,0) (10,−1) (0,−1) (0,−2) (10,−2) (10,−3) (0,−3). 43 NM.
        let mut r = req(PatternKind::Parallel);
        r.first_leg_deg = 90.0;
        r.legs = Some(4);
        let p = generate(&r).unwrap();
        let want = [
            (0.0, 0.0),
            (10.0, 0.0),
            (10.0, -1.0),
            (0.0, -1.0),
            (0.0, -2.0),
            (10.0, -2.0),
            (10.0, -3.0),
            (0.0, -3.0),
        ];
        let got = xy(&p);
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!(near(*g, w), "{g:?} vs {w:?}");
        }
        assert!((p.length_nm() - 43.0).abs() < 1e-9);
        r.leg_length_nm = None;
        assert!(generate(&r).is_err());
    }

    #[test]
    fn track_line_single_and_return() {
        let mut r = req(PatternKind::TrackLine);
        r.first_leg_deg = 45.0;
        let p = generate(&r).unwrap();
        assert_eq!(p.waypoints.len(), 2);
        let end = p.waypoints[1].position;
        assert!(distance_nm(destination(CSP, 45.0, 10.0), end) < 1e-6);
        // Return search: out S/2 left of the line, back S/2 right of it.
        r.legs = Some(2);
        r.first_leg_deg = 0.0;
        let got = xy(&generate(&r).unwrap());
        let want = [(-0.5, 0.0), (-0.5, 10.0), (0.5, 10.0), (0.5, 0.0)];
        for (g, w) in got.iter().zip(want) {
            assert!(near(*g, w), "{g:?} vs {w:?}");
        }
    }

    #[test]
    fn spacing_from_the_sweep_width_table_and_bad_requests() {
        let v = json!({
            "asset": 247000001, "pattern": "parallel", "csp": {"lat": 35.0, "lon": 13.0},
            "first_leg_deg": 0, "legs": 3, "speed_kn": 10, "start": T0, "leg_length_nm": 5,
            "sweep": {"object": "person_in_water", "unit": "ship", "visibility_nm": 5}
        });
        let r: PatternRequest = serde_json::from_value(v).unwrap();
        let p = generate(&r).unwrap();
        assert!((p.spacing_nm - 0.5).abs() < 1e-12);
        assert!(p.sweep.is_some());
        assert!(p.to_feature()["properties"]["sweep"]["source"].is_string());
        let mut bad = req(PatternKind::ExpandingSquare);
        bad.spacing_nm = None;
        assert!(generate(&bad).is_err());
        let mut bad = req(PatternKind::ExpandingSquare);
        bad.speed_kn = 0.0;
        assert!(generate(&bad).is_err());
        bad.speed_kn = 10.0;
        bad.legs = Some(1000);
        assert!(generate(&bad).is_err());
        assert!(serde_json::from_value::<PatternRequest>(json!({
            "pattern": "spiral", "csp": {"lat": 0, "lon": 0}, "speed_kn": 1, "start": 0
        }))
        .is_err());
    }

    #[test]
    fn parallel_sweep_fills_the_search_area() {
        // An 8 × 4 NM area (datums 4 NM apart east–west, R = 2; corners at
        // x = ±4, y = ±2), S = 1: 4 legs of 7 NM along 090°, the CSP 0.5 NM
        // inside the NW corner (the left side of the west→east axis), the
        // legs stepping south (right turns), the last ending 0.5 NM inside
        // the SW corner.
        let c = LatLon::new(35.0, 13.0);
        let a = SearchArea::new(
            destination(c, 270.0, 2.0),
            destination(c, 90.0, 2.0),
            2.0,
            0.0,
        );
        let p = parallel_sweep_for_area(&a, 1.0, 12.0, T0, None).unwrap();
        assert_eq!(p.legs, 4);
        let f = LocalFrame::new(a.datum);
        let (x, y) = f.to_xy(p.csp);
        assert!((x + 3.5).abs() < 1e-6 && (y - 1.5).abs() < 1e-6, "{x} {y}");
        // 4 × 7 + 3 × 1 = 31 NM.
        assert!((p.length_nm() - 31.0).abs() < 1e-6);
        let (x, y) = f.to_xy(p.waypoints.last().unwrap().position);
        assert!((x + 3.5).abs() < 1e-6 && (y + 1.5).abs() < 1e-6, "{x} {y}");
    }
}
