//! An incident as a case file: one GeoJSON FeatureCollection with
//! everything placed on the map during it — each contact's sightings (as
//! points and as its drift track), each assigned asset's and linked
//! vessel's track since the incident was opened, the search areas and
//! patterns — and the incident with its whole log as foreign members
//! (`incident`, `log`). `GET /api/incidents/{id}/export?format=geojson|kml`
//! serves it; `geoformat` turns it into KML.

use super::{no_incident, pattern_feature};
use crate::state::LiveState;
use broadcast::{ApiError, PictureApi};
use sar::contact::format_time;
use serde_json::{json, Value};

impl LiveState {
    /// The case file of incident `id`.
    pub(crate) fn case_file(&self, id: &str) -> Result<Value, ApiError> {
        // What the book says, taken at once (the tracks are read after:
        // they may come from the archive).
        let (incident, contacts, created_ms, mmsis, areas, patterns) = {
            let book = self.book();
            let inc = book.incidents.get(id).ok_or_else(|| no_incident(id))?;
            let contacts: Vec<Value> = inc
                .contacts
                .iter()
                .filter_map(|c| book.contacts.get(c))
                .flat_map(|c| {
                    let mut fs: Vec<Value> = c
                        .sightings
                        .iter()
                        .enumerate()
                        .map(|(k, s)| {
                            json!({
                                "type": "Feature",
                                "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
                                "properties": {
                                    "kind": "sighting",
                                    "name": format!("{} sighting {}", c.id, k + 1),
                                    "contact": c.id,
                                    "description": c.description,
                                    "time": format_time(s.time_ms),
                                    "uncertainty_m": s.uncertainty_m,
                                    "source": s.source,
                                    "reported_by": s.reported_by,
                                    "note": s.note,
                                },
                            })
                        })
                        .collect();
                    if c.sightings.len() > 1 {
                        fs.push(json!({
                            "type": "Feature",
                            "geometry": {"type": "LineString", "coordinates":
                                c.sightings.iter().map(|s| [s.lon, s.lat]).collect::<Vec<_>>()},
                            "properties": {
                                "kind": "contact_track",
                                "name": format!("{}: {}", c.id, c.description),
                                "contact": c.id,
                                "times": c.sightings.iter().map(|s| format_time(s.time_ms)).collect::<Vec<_>>(),
                            },
                        }));
                    }
                    fs
                })
                .collect();
            let mut mmsis: Vec<(u32, String, &'static str)> = inc
                .assets
                .iter()
                .filter_map(|a| {
                    let name = a.asset.name.clone().unwrap_or_default();
                    Some((a.asset.mmsi?, name, "asset"))
                })
                .collect();
            for &v in &inc.vessels {
                if !mmsis.iter().any(|m| m.0 == v) {
                    mmsis.push((v, String::new(), "vessel"));
                }
            }
            let areas: Vec<Value> = inc
                .search_areas
                .iter()
                .enumerate()
                .map(|(k, a)| {
                    let mut f = a.plan.area.clone();
                    if let Some(p) = f.get_mut("properties").and_then(Value::as_object_mut) {
                        p.insert("kind".into(), json!("search_area"));
                        p.insert("name".into(), json!(format!("search area {}", k + 1)));
                        p.insert("time".into(), json!(format_time(a.time_ms)));
                    }
                    f
                })
                .collect();
            let patterns: Vec<Value> = inc
                .patterns
                .iter()
                .enumerate()
                .map(|(k, p)| pattern_feature(id, k + 1, p))
                .collect();
            (
                inc.to_json(),
                contacts,
                inc.created_ms,
                mmsis,
                areas,
                patterns,
            )
        };
        let mut features = contacts;
        for (mmsi, name, kind) in mmsis {
            if let Some(mut t) = self.track(mmsi, Some(created_ms), None) {
                if let Some(p) = t.get_mut("properties").and_then(Value::as_object_mut) {
                    p.insert("kind".into(), json!(kind));
                    if !name.is_empty() {
                        p.insert("name".into(), json!(name));
                    }
                }
                features.push(t);
            }
        }
        features.extend(areas);
        features.extend(patterns);
        let log = incident.get("log").cloned().unwrap_or(json!([]));
        Ok(json!({
            "type": "FeatureCollection",
            "features": features,
            "incident": incident,
            "log": log,
        }))
    }
}
