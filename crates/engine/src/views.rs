//! How the picture's records look to clients: the WebSocket vessel object,
//! the vessel detail, tracks and "who can reach this point first".
//!
//! Everything here reads a `&Picture` (under the caller's read lock) and
//! copies out plain data, so the lock is released before serialising.
//! The cluster edge, which has no picture, answers with the same functions
//! over the views it mirrors ([`nearest_entry`]).

pub use broadcast::view::{can_help, NearestQuery};
use broadcast::VesselView;
use serde_json::{json, Value};
use spatial_index::geodesy::haversine_nm;
use spatial_index::{Picture, Vessel, VesselState};

/// `live`, `stale` or `lost`, as the protocol names them.
pub fn state_name(s: VesselState) -> &'static str {
    match s {
        VesselState::Active => "live",
        VesselState::Stale => "stale",
        VesselState::Lost => "lost",
    }
}

/// The protocol's vessel object; `None` for a record without a position.
pub fn vessel_view(p: &Picture, v: &Vessel) -> Option<VesselView> {
    let fix = v.position.as_ref()?;
    let info = v.info.as_deref();
    Some(VesselView {
        mmsi: v.mmsi,
        lat: fix.lat,
        lon: fix.lon,
        sog: v.sog_kn.map(|s| round(s as f64, 1)),
        cog: v.cog_deg.map(|c| round(c as f64, 1)),
        heading: v.heading_deg,
        name: info.and_then(|i| i.name.clone()),
        callsign: info.and_then(|i| i.callsign.clone()),
        ship_type: info.and_then(|i| i.ship_type),
        class: v.class.as_str().to_string(),
        nav_status: v.nav_status,
        last_seen: v.last_seen_ms,
        state: state_name(v.state).to_string(),
        zones: p.zones_of(v).map(|z| z.id.to_string()).collect(),
    })
}

fn round(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f
}

/// Everything known about a vessel.
pub fn vessel_detail(p: &Picture, v: &Vessel) -> Value {
    let mut out = serde_json::to_value(v).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut out {
        m.insert("state_name".into(), json!(state_name(v.state)));
        m.insert(
            "zones".into(),
            json!(p
                .zones_of(v)
                .map(|z| json!({"id": &*z.id, "name": z.name, "kind": z.kind.as_str()}))
                .collect::<Vec<_>>()),
        );
        m.insert(
            "last_seen".into(),
            json!(broadcast::view::format_time(v.last_seen_ms)),
        );
        m.insert(
            "first_seen".into(),
            json!(broadcast::view::format_time(v.first_seen_ms)),
        );
        if let Some(now) = p.now_ms() {
            m.insert(
                "last_report_age_s".into(),
                json!(((now - v.last_seen_ms) as f64 / 1000.0).max(0.0)),
            );
        }
        m.insert("track_points".into(), json!(v.track.len()));
    }
    out
}

/// The in-memory track as a GeoJSON Feature (LineString, per-point times).
pub fn track_feature(v: &Vessel, from_ms: Option<i64>, to_ms: Option<i64>) -> Value {
    let pts: Vec<_> = v
        .track
        .points()
        .filter(|p| from_ms.is_none_or(|f| p.time_ms >= f) && to_ms.is_none_or(|t| p.time_ms < t))
        .collect();
    json!({
        "type": "Feature",
        "id": v.mmsi,
        "geometry": {"type": "LineString", "coordinates": pts.iter().map(|p| [p.lon, p.lat]).collect::<Vec<_>>()},
        "properties": {
            "mmsi": v.mmsi,
            "times": pts.iter().map(|p| broadcast::view::format_time(p.time_ms)).collect::<Vec<_>>(),
        },
    })
}

/// Initial great-circle bearing from point 1 to point 2, degrees.
pub fn bearing_deg(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dl = (lon2 - lon1).to_radians();
    let y = dl.sin() * p2.cos();
    let x = p1.cos() * p2.sin() - p1.sin() * p2.cos() * dl.cos();
    (y.atan2(x).to_degrees() + 360.0) % 360.0
}

/// The `k` vessels nearest to a point that `q` admits (by default those
/// that can help), with distance, bearing (from the point), the course each
/// would steer, and the time to reach the point at its current speed
/// (`null` when not under way).
pub fn nearest(p: &Picture, lat: f64, lon: f64, k: usize, q: &NearestQuery) -> Vec<Value> {
    // Ask the R-tree for more until `k` candidates pass (or all did).
    let mut want = k.saturating_add(16);
    loop {
        let near = p.nearest(lat, lon, want);
        let exhausted = near.len() < want;
        let out: Vec<Value> = near
            .into_iter()
            .filter_map(|(v, nm)| {
                let view = vessel_view(p, v)?;
                q.admits(&view).then(|| nearest_entry(&view, lat, lon, nm))
            })
            .take(k)
            .collect();
        if out.len() >= k || exhausted {
            return out;
        }
        want = want.saturating_mul(4);
    }
}

/// One answer of "nearest to a point": the vessel `view`, `nm` from the
/// point (`lat`, `lon`). The single process and the cluster edge (over its
/// mirrored views) both answer with this.
pub fn nearest_entry(view: &VesselView, lat: f64, lon: f64, nm: f64) -> Value {
    let sog = view.sog.unwrap_or(0.0);
    let minutes = (sog >= 0.5).then(|| round(nm / sog * 60.0, 1));
    json!({
        "vessel": view,
        "distance_nm": round(nm, 2),
        "bearing_deg": round(bearing_deg(lat, lon, view.lat, view.lon), 1),
        "course_to_point_deg": round(bearing_deg(view.lat, view.lon, lat, lon), 1),
        "time_to_reach_min": minutes,
    })
}

/// Great-circle distance in nautical miles (for callers without a picture).
pub fn distance_nm(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    haversine_nm(lat1, lon1, lat2, lon2)
}

/// Vessels a watch officer looks for by name, call sign or MMSI.
///
/// `text` matches a name or call sign anywhere, case-insensitively, or the
/// start of the MMSI; the best matches come first (exact, then prefix,
/// then anywhere; then by name), at most `limit`.
pub struct Search {
    upper: String,
    limit: usize,
    found: Vec<(u8, String, VesselView)>,
}

impl Search {
    /// A search for `text` (trimmed; empty finds nothing).
    pub fn new(text: &str, limit: usize) -> Search {
        Search {
            upper: text.trim().to_uppercase(),
            limit,
            found: Vec::new(),
        }
    }

    /// How well a vessel matches (lower is better), or `None`.
    pub fn rank(&self, mmsi: u32, name: Option<&str>, callsign: Option<&str>) -> Option<u8> {
        let q = self.upper.as_str();
        if q.is_empty() {
            return None;
        }
        let text_rank = |s: Option<&str>| -> Option<u8> {
            let s = s?.trim().to_uppercase();
            if s == q {
                Some(0)
            } else if s.starts_with(q) {
                Some(1)
            } else if s.contains(q) {
                Some(2)
            } else {
                None
            }
        };
        let id = mmsi.to_string();
        let by_mmsi = if id == q {
            Some(0)
        } else if id.starts_with(q) {
            Some(1)
        } else {
            None
        };
        [by_mmsi, text_rank(name), text_rank(callsign)]
            .into_iter()
            .flatten()
            .min()
    }

    /// Offer a vessel; `view` is built only when it matches.
    pub fn offer(
        &mut self,
        mmsi: u32,
        name: Option<&str>,
        callsign: Option<&str>,
        view: impl FnOnce() -> Option<VesselView>,
    ) {
        if let Some(r) = self.rank(mmsi, name, callsign) {
            if let Some(v) = view() {
                self.found
                    .push((r, name.unwrap_or_default().to_string(), v));
            }
        }
    }

    /// The best `limit` matches.
    pub fn finish(mut self) -> Vec<VesselView> {
        self.found
            .sort_by(|a, b| (a.0, &a.1, a.2.mmsi).cmp(&(b.0, &b.1, b.2.mmsi)));
        self.found
            .into_iter()
            .take(self.limit)
            .map(|(_, _, v)| v)
            .collect()
    }
}

/// [`Search`] over the picture and the own assets.
pub fn search(p: &Picture, own: &crate::OwnAssets, text: &str, limit: usize) -> Vec<VesselView> {
    let mut s = Search::new(text, limit);
    for v in p.vessels() {
        let info = v.info.as_deref();
        s.offer(
            v.mmsi,
            info.and_then(|i| i.name.as_deref()),
            info.and_then(|i| i.callsign.as_deref()),
            || vessel_view(p, v),
        );
    }
    for v in own.all() {
        s.offer(v.mmsi, v.name.as_deref(), v.callsign.as_deref(), || {
            Some(v.clone())
        });
    }
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(mmsi: u32, name: &str, callsign: &str) -> VesselView {
        VesselView {
            mmsi,
            lat: 35.0,
            lon: 14.0,
            sog: None,
            cog: None,
            heading: None,
            name: Some(name.into()),
            callsign: Some(callsign.into()),
            ship_type: None,
            class: "A".into(),
            nav_status: None,
            last_seen: 0,
            state: "live".into(),
            zones: Vec::new(),
        }
    }

    fn find(list: &[VesselView], q: &str, limit: usize) -> Vec<u32> {
        let mut s = Search::new(q, limit);
        for v in list {
            s.offer(v.mmsi, v.name.as_deref(), v.callsign.as_deref(), || {
                Some(v.clone())
            });
        }
        s.finish().into_iter().map(|v| v.mmsi).collect()
    }

    #[test]
    fn search_matches_names_and_call_signs_anywhere_and_mmsi_from_the_start() {
        let list = [
            view(247_320_162, "AEGEAN STAR", "IT1234"),
            view(215_000_001, "BLUE STAR", "9HA01"),
            view(229_000_002, "STAR OF MALTA", "9HB02"),
            view(256_000_003, "NOTHING", "9HC03"),
        ];
        assert_eq!(find(&list, "gean", 20), [247_320_162]);
        assert_eq!(find(&list, "2473", 20), [247_320_162]);
        assert!(
            find(&list, "320162", 20).is_empty(),
            "MMSI from the start only"
        );
        assert_eq!(find(&list, "t12", 20), [247_320_162]);
        // A name starting with the text before one containing it; then by name.
        assert_eq!(
            find(&list, "star", 20),
            [229_000_002, 247_320_162, 215_000_001]
        );
        assert_eq!(find(&list, "9h", 2).len(), 2, "at most the limit");
        assert!(find(&list, "  ", 20).is_empty());
    }
}
