//! How an [`Answer`] is shown: GeoJSON for programs (the HTTP API and
//! `lookout history --json`), a table for people.
//!
//! The GeoJSON is a FeatureCollection with one Feature per vessel: its track
//! as a LineString (a Point when there is a single report), per-point times
//! in `properties.times`, and the closest approach, the time inside the
//! radius and the static data in `properties`. The query and the scan's
//! counters ride along as foreign members `query` and `stats`.

use serde_json::{json, Value};

use crate::{Answer, TrackPoint, VesselPass};
use ingest::timefmt::format_rfc3339;

fn round(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f
}

fn coords(p: &TrackPoint) -> Value {
    json!([round(p.lon, 6), round(p.lat, 6)])
}

/// One vessel as a GeoJSON Feature.
pub fn vessel_feature(v: &VesselPass) -> Value {
    let geometry = if v.track.len() == 1 {
        json!({"type": "Point", "coordinates": coords(&v.track[0])})
    } else {
        json!({"type": "LineString", "coordinates": v.track.iter().map(coords).collect::<Vec<_>>()})
    };
    let closest = v.closest.map(|c| {
        json!({
            "distance_nm": round(c.distance_nm, 3),
            "time": format_rfc3339(c.point.time_ms),
            "time_ms": c.point.time_ms,
            "lat": round(c.point.lat, 6),
            "lon": round(c.point.lon, 6),
            "sog": c.point.sog.map(|s| round(f64::from(s), 1)),
            "cog": c.point.cog.map(|s| round(f64::from(s), 1)),
        })
    });
    json!({
        "type": "Feature",
        "id": v.mmsi,
        "geometry": geometry,
        "properties": {
            "mmsi": v.mmsi,
            "name": v.name,
            "callsign": v.callsign,
            "ship_type": v.ship_type,
            "class": v.class,
            "closest_approach": closest,
            "first_seen": format_rfc3339(v.first_ms),
            "last_seen": format_rfc3339(v.last_ms),
            "reports": v.reports,
            "times": v.track.iter().map(|p| format_rfc3339(p.time_ms)).collect::<Vec<_>>(),
            "sog": v.track.iter().map(|p| p.sog.map(|s| round(f64::from(s), 1))).collect::<Vec<_>>(),
            "cog": v.track.iter().map(|p| p.cog.map(|s| round(f64::from(s), 1))).collect::<Vec<_>>(),
        },
    })
}

/// The whole answer as a GeoJSON FeatureCollection (with `query` and
/// `stats`).
pub fn to_geojson(a: &Answer) -> Value {
    let q = &a.query;
    json!({
        "type": "FeatureCollection",
        "query": {
            "lat": q.area.map(|c| c.lat),
            "lon": q.area.map(|c| c.lon),
            "radius_nm": q.area.map(|c| c.radius_nm),
            "mmsi": q.mmsi,
            "from": format_rfc3339(q.from_ms),
            "to": format_rfc3339(q.to_ms),
            "track_margin_nm": q.track_margin_nm,
        },
        "vessels": a.vessels.len(),
        "features": a.vessels.iter().map(vessel_feature).collect::<Vec<_>>(),
        "stats": a.stats,
    })
}

/// A table for a terminal: one row per vessel, nearest first.
pub fn table(a: &Answer) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<9}  {:<20}  {:<12}  {:>7}  {:<20}  {:>9}  {:>10}  {:<20}  {:<20}  {:>6}",
        "MMSI",
        "NAME",
        "CLASS",
        "CPA_NM",
        "CPA_TIME",
        "CPA_LAT",
        "CPA_LON",
        "FIRST_IN",
        "LAST_IN",
        "POINTS"
    );
    for v in &a.vessels {
        let name: String = v.name.as_deref().unwrap_or("-").chars().take(20).collect();
        let (d, t, lat, lon) = match v.closest {
            Some(c) => (
                format!("{:.2}", c.distance_nm),
                to_seconds(c.point.time_ms),
                format!("{:.5}", c.point.lat),
                format!("{:.5}", c.point.lon),
            ),
            None => ("-".into(), "-".into(), "-".into(), "-".into()),
        };
        let _ = writeln!(
            out,
            "{:<9}  {:<20}  {:<12}  {:>7}  {:<20}  {:>9}  {:>10}  {:<20}  {:<20}  {:>6}",
            v.mmsi,
            name,
            v.class,
            d,
            t,
            lat,
            lon,
            to_seconds(v.first_ms),
            to_seconds(v.last_ms),
            v.track.len()
        );
    }
    out
}

/// One line about the scan, for stderr.
pub fn summary(a: &Answer) -> String {
    let s = &a.stats;
    let secs = (s.elapsed_ms as f64 / 1000.0).max(1e-3);
    format!(
        "{} vessel(s); {} of {} files read ({} skipped by time), {} lines ({:.1} MB) in {:.2} s = {:.0} lines/s on {} thread(s); {} in window, {} positions, {} in box{}",
        a.vessels.len(),
        s.files_read,
        s.files_listed,
        s.files_skipped,
        s.lines,
        s.bytes as f64 / 1e6,
        secs,
        s.lines as f64 / secs,
        s.threads,
        s.lines_in_window,
        s.positions,
        s.in_box,
        if s.file_errors + s.truncated + s.overlong > 0 {
            format!(
                "; skipped: {} file error(s), {} truncated, {} overlong line(s){}",
                s.file_errors,
                s.truncated,
                s.overlong,
                s.last_error.as_deref().map(|e| format!(" (last: {e})")).unwrap_or_default()
            )
        } else {
            String::new()
        }
    )
}

/// RFC 3339 to the second (`2026-11-28T06:25:00Z`); never panics on a
/// time outside what the calendar formats.
fn to_seconds(ms: i64) -> String {
    let t = format_rfc3339(ms);
    match t.get(..19) {
        Some(s) if t.len() == 24 => format!("{s}Z"),
        _ => t,
    }
}
