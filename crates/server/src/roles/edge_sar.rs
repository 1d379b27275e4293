//! The edge's side of contacts, incidents and zone edits in a cluster.
//!
//! The core holds the durable state (see `sar_core`). An edge keeps a
//! mirror: contacts and incidents by id (the highest `version` wins) and
//! the core's API zones applied to its own zone set. It loads the mirror
//! from `lookout.sar.snapshot` with each picture snapshot, then follows
//! `lookout.sar.changes` in order (a gap or another core run: a fresh
//! snapshot). Reads — lists, single objects, intercept rankings against the
//! edge's mirror of the picture — are answered here; writes are forwarded
//! to the core (`lookout.sar.write`) with the operator's name (the edge
//! checked the token) and answered only after the core stored them.

use super::edge::EdgeApi;
use crate::state::sar_api::{can_help, intercepts_answer, pursuer, SEARCH_RADIUS_NM};
use broadcast::api::{ApiError, SarApi};
use broadcast::sar_channel::SarKind;
use broadcast::{Hub, PictureApi, VesselView};
use bus::payload::{SarChange, SarItem, SarOp, SarSnapshot, SarWrite, SarWriteReply};
use bus::{subjects, BusStats};
use futures_util::StreamExt;
use sar::{LatLon, Pursuer, Target};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

/// How long an edge waits for the core to confirm a write (then 503).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// One attempt; a write unanswered this long is sent again with the same
/// request id (the core answers a repeat without applying it twice).
const ATTEMPT: Duration = Duration::from_millis(2500);

/// The mirrored contacts and incidents of one core run.
#[derive(Default)]
pub struct SarMirror {
    core: Option<String>,
    seq: u64,
    contacts: HashMap<String, Value>,
    incidents: HashMap<String, Value>,
    /// Snapshot parts taken so far (while loading one).
    parts: u32,
}

/// The number the next snapshot part must have (and count it).
fn fresh_parts(m: &mut SarMirror) -> u32 {
    m.parts += 1;
    m.parts - 1
}

fn version(v: &Value) -> u64 {
    v["version"].as_u64().unwrap_or(0)
}

/// Keep `v` if it is newer than what is held; true when kept.
fn keep_newer(map: &mut HashMap<String, Value>, v: Value) -> bool {
    let Some(id) = v["id"].as_str().map(str::to_string) else {
        return false;
    };
    if map.get(&id).is_some_and(|old| version(old) >= version(&v)) {
        return false;
    }
    map.insert(id, v);
    true
}

fn ms(v: &Value) -> i64 {
    v.as_str()
        .and_then(|s| humantime::parse_rfc3339(s).ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Newest first, as the single process lists them.
fn newest_first(mut list: Vec<Value>) -> Value {
    list.sort_by(|a, b| {
        ms(&b["updated"])
            .cmp(&ms(&a["updated"]))
            .then_with(|| b["id"].as_str().cmp(&a["id"].as_str()))
    });
    Value::Array(list)
}

fn bad(m: impl Into<String>) -> ApiError {
    ApiError::new(400, m)
}

/// Classes that can go to help (as the single process).
fn contact_target(c: &Value) -> Option<Target> {
    let pos = LatLon::new(c["lat"].as_f64()?, c["lon"].as_f64()?);
    let t = c["time_ms"].as_i64()?;
    Some(match (c["course_deg"].as_f64(), c["speed_kn"].as_f64()) {
        (Some(course), Some(speed)) => Target::drifting(pos, t, course, speed),
        _ => Target::fixed(pos, t),
    })
}

impl EdgeApi {
    fn sar_read(&self) -> std::sync::RwLockReadGuard<'_, SarMirror> {
        self.sar.read().unwrap_or_else(|e| e.into_inner())
    }

    fn sar_write(&self) -> std::sync::RwLockWriteGuard<'_, SarMirror> {
        self.sar.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Load the core's contacts, incidents and zones; tell clients what
    /// changed.
    pub(super) async fn sar_snapshot(&self, hub: &Hub) -> Result<(), String> {
        let client = &self.bus.client;
        let inbox = client.new_inbox();
        let mut sub = client
            .subscribe(inbox.clone())
            .await
            .map_err(|e| e.to_string())?;
        client
            .publish_with_reply(subjects::SAR_SNAPSHOT, inbox, "{}".into())
            .await
            .map_err(|e| e.to_string())?;
        let mut fresh = SarMirror::default();
        let mut zones = Vec::new();
        let deadline = tokio::time::Instant::now() + WRITE_TIMEOUT;
        loop {
            let msg = tokio::time::timeout_at(deadline, sub.next())
                .await
                .map_err(|_| "no core answered the SAR snapshot request".to_string())?
                .ok_or("SAR snapshot subscription closed")?;
            let part: SarSnapshot = match serde_json::from_slice(&msg.payload) {
                Ok(p) => p,
                Err(e) => {
                    tracing::debug!("edge: bad SAR snapshot part: {e}");
                    BusStats::add(&self.bus.stats.bad_messages, 1);
                    continue;
                }
            };
            // Several cores may answer: keep the first one's parts.
            if fresh.core.get_or_insert_with(|| part.core.clone()) != &part.core {
                continue;
            }
            if part.part != fresh_parts(&mut fresh) {
                return Err("SAR snapshot parts out of order".into());
            }
            fresh.seq = part.seq;
            for c in part.contacts {
                if let Some(id) = c["id"].as_str() {
                    fresh.contacts.insert(id.to_string(), c);
                }
            }
            for i in part.incidents {
                if let Some(id) = i["id"].as_str() {
                    fresh.incidents.insert(id.to_string(), i);
                }
            }
            zones.extend(part.zones);
            if part.last {
                break;
            }
        }
        let mut changed = Vec::new();
        {
            let mut m = self.sar_write();
            for (id, c) in &fresh.contacts {
                if m.contacts
                    .get(id)
                    .is_none_or(|old| version(old) != version(c))
                {
                    changed.push((SarKind::Contact, c.to_string()));
                }
            }
            for (id, i) in &fresh.incidents {
                if m.incidents
                    .get(id)
                    .is_none_or(|old| version(old) != version(i))
                {
                    changed.push((SarKind::Incident, i.to_string()));
                }
            }
            fresh.parts = 0;
            *m = fresh;
        }
        for (kind, text) in changed {
            hub.publish_sar(kind, text.into());
        }
        if self.sync_zones(&zones) {
            hub.zones_changed();
        }
        let m = self.sar_read();
        tracing::info!(core = ?m.core, seq = m.seq, contacts = m.contacts.len(),
            incidents = m.incidents.len(), "edge: SAR snapshot loaded");
        Ok(())
    }

    /// Apply one change from the core; false when it does not follow (a
    /// snapshot is needed).
    pub(super) fn apply_sar(&self, hub: &Hub, c: SarChange) -> bool {
        {
            let mut m = self.sar_write();
            if m.core.as_deref() != Some(&c.core) {
                return false;
            }
            if c.seq <= m.seq {
                return true;
            }
            if c.seq != m.seq + 1 {
                BusStats::add(&self.bus.stats.sar_gaps, 1);
                return false;
            }
            m.seq = c.seq;
        }
        BusStats::add(&self.bus.stats.sar_changes, 1);
        self.apply_item(hub, c.item);
        true
    }

    fn apply_item(&self, hub: &Hub, item: SarItem) {
        match item {
            SarItem::Contact { value } => {
                let text = value.to_string();
                if keep_newer(&mut self.sar_write().contacts, value) {
                    hub.publish_sar(SarKind::Contact, text.into());
                }
            }
            SarItem::Incident { value } => {
                let text = value.to_string();
                if keep_newer(&mut self.sar_write().incidents, value) {
                    hub.publish_sar(SarKind::Incident, text.into());
                }
            }
            SarItem::Zone { id, feature } => {
                self.apply_zone(&id, feature);
                hub.zones_changed();
            }
        }
    }

    /// A zone from the core into this edge's own zone set.
    fn apply_zone(&self, id: &str, feature: Option<Value>) {
        let r = match feature {
            Some(f) => PictureApi::put_zone(&*self.state, id, f),
            None => PictureApi::delete_zone(&*self.state, id).map(|_| ()),
        };
        if let Err(e) = r {
            tracing::warn!(zone = id, "edge: zone from the core not applied: {e}");
        }
    }

    /// Make this edge's API zones the core's; true when something changed.
    fn sync_zones(&self, zones: &[Value]) -> bool {
        let current = self
            .state
            .api_zones
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut changed = false;
        for f in zones {
            let Some(id) = f["properties"]["id"].as_str() else {
                continue;
            };
            if !current.contains(f) {
                self.apply_zone(id, Some(f.clone()));
                changed = true;
            }
        }
        for c in &current {
            let Some(id) = c["properties"]["id"].as_str() else {
                continue;
            };
            if !zones.iter().any(|f| f["properties"]["id"] == id) {
                self.apply_zone(id, None);
                changed = true;
            }
        }
        changed
    }

    /// Send a write to the core and wait for its answer (the HTTP layer
    /// calls the API synchronously; the answer comes over the bus).
    fn forward(&self, who: &str, op: SarOp) -> Result<Value, ApiError> {
        let n = self
            .requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let write = SarWrite {
            request: format!("{}-{n}", self.request_prefix),
            who: who.into(),
            op,
        };
        let body = serde_json::to_vec(&write).map_err(|e| ApiError::new(500, e.to_string()))?;
        let client = self.bus.client.clone();
        let stats = self.bus.stats.clone();
        let answer = tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(async move {
                let deadline = tokio::time::Instant::now() + WRITE_TIMEOUT;
                loop {
                    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                    if left.is_zero() {
                        return Err(ApiError::new(
                            503,
                            format!(
                                "the core did not confirm the write within {} s: it may or may not be saved; check before repeating it",
                                WRITE_TIMEOUT.as_secs()
                            ),
                        ));
                    }
                    match tokio::time::timeout(
                        left.min(ATTEMPT),
                        client.request(subjects::SAR_WRITE, body.clone().into()),
                    )
                    .await
                    {
                        Ok(Ok(msg)) => return Ok(msg),
                        Ok(Err(e))
                            if e.kind() == async_nats::RequestErrorKind::NoResponders =>
                        {
                            // No core right now (restarting): try again
                            // until the deadline.
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                        Ok(Err(e)) if e.kind() == async_nats::RequestErrorKind::TimedOut => {}
                        Ok(Err(e)) => {
                            return Err(ApiError::new(
                                503,
                                format!("the core is unreachable, the write was not saved: {e}"),
                            ))
                        }
                        // Same request id again: the core applies it once.
                        Err(_) => {}
                    }
                }
            })
        })?;
        BusStats::add(&stats.sar_writes, 1);
        match serde_json::from_slice::<SarWriteReply>(&answer.payload) {
            Ok(SarWriteReply::Ok(v)) => Ok(v),
            Ok(SarWriteReply::Error { status, message }) => Err(ApiError::new(status, message)),
            Err(e) => Err(ApiError::new(502, format!("bad answer from the core: {e}"))),
        }
    }

    fn forward_contact(&self, who: &str, op: SarOp) -> Result<Value, ApiError> {
        let v = self.forward(who, op)?;
        keep_newer(&mut self.sar_write().contacts, v.clone());
        Ok(v)
    }

    fn forward_incident(&self, who: &str, op: SarOp) -> Result<Value, ApiError> {
        let v = self.forward(who, op)?;
        keep_newer(&mut self.sar_write().incidents, v.clone());
        Ok(v)
    }

    /// Zone writes (`PUT`/`DELETE /api/zones/{id}`) go to the core too.
    pub(super) fn forward_put_zone(&self, id: &str, feature: Value) -> Result<(), ApiError> {
        let mut stored = feature.clone();
        self.forward(
            "",
            SarOp::PutZone {
                id: id.into(),
                feature,
            },
        )?;
        if let Some(p) = stored.get_mut("properties").and_then(Value::as_object_mut) {
            p.insert("id".into(), json!(id));
        }
        self.apply_zone(id, Some(stored));
        Ok(())
    }

    pub(super) fn forward_delete_zone(&self, id: &str) -> Result<bool, ApiError> {
        match self.forward("", SarOp::DeleteZone { id: id.into() }) {
            Ok(_) => {
                self.apply_zone(id, None);
                Ok(true)
            }
            Err(f) if f.status == 404 => Ok(false),
            Err(f) => Err(f),
        }
    }

    /// Rank the mirrored vessels by time to reach `targets` (the single
    /// process's answer, from the edge's mirror of the picture).
    fn intercepts(
        &self,
        targets: &[(String, Target)],
        exclude: &BTreeSet<u32>,
        assigned: &BTreeSet<u32>,
        k: usize,
    ) -> Value {
        let (now, candidates) = {
            let m = self.read();
            let now = m.time_ms.unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis() as i64)
                    .unwrap_or(0)
            });
            let candidates: Vec<(VesselView, Pursuer)> = m
                .vessels
                .values()
                .map(|v| &v.wire.view)
                .filter(|v| !exclude.contains(&v.mmsi) && can_help(&v.class) && v.state != "lost")
                .filter(|v| {
                    targets.iter().any(|(_, t)| {
                        spatial_index::geodesy::haversine_nm(t.pos.lat, t.pos.lon, v.lat, v.lon)
                            <= SEARCH_RADIUS_NM
                    })
                })
                .map(|v| (v.clone(), pursuer(v)))
                .collect();
            (now, candidates)
        };
        intercepts_answer(targets, candidates, now, assigned, k)
    }
}

impl SarApi for EdgeApi {
    fn contacts(&self, status: Option<&str>) -> Result<Value, ApiError> {
        if let Some(s) = status {
            if sar::ContactStatus::parse(s).is_none() {
                return Err(bad("status is active or closed"));
            }
        }
        let m = self.sar_read();
        Ok(newest_first(
            m.contacts
                .values()
                .filter(|c| status.is_none_or(|s| c["status"] == s))
                .cloned()
                .collect(),
        ))
    }

    fn contact(&self, id: &str) -> Option<Value> {
        self.sar_read().contacts.get(id).cloned()
    }

    fn create_contact(&self, who: &str, body: Value) -> Result<Value, ApiError> {
        self.forward_contact(who, SarOp::CreateContact { body })
    }

    fn update_contact(&self, id: &str, who: &str, body: Value) -> Result<Value, ApiError> {
        self.forward_contact(
            who,
            SarOp::UpdateContact {
                id: id.into(),
                body,
            },
        )
    }

    fn add_sighting(&self, id: &str, who: &str, body: Value) -> Result<Value, ApiError> {
        self.forward_contact(
            who,
            SarOp::AddSighting {
                id: id.into(),
                body,
            },
        )
    }

    fn incidents(&self, status: Option<&str>) -> Result<Value, ApiError> {
        if let Some(s) = status {
            if s != "open" && sar::IncidentStatus::parse(s).is_none() {
                return Err(bad(
                    "status is open (anything not closed), assets_assigned, rescued or closed",
                ));
            }
        }
        let m = self.sar_read();
        Ok(newest_first(
            m.incidents
                .values()
                .filter(|i| match status {
                    None => true,
                    Some("open") => i["status"] != "closed",
                    Some(s) => i["status"] == s,
                })
                .cloned()
                .collect(),
        ))
    }

    fn incident(&self, id: &str) -> Option<Value> {
        self.sar_read().incidents.get(id).cloned()
    }

    fn create_incident(&self, who: &str, body: Value) -> Result<Value, ApiError> {
        self.forward_incident(who, SarOp::CreateIncident { body })
    }

    fn incident_action(&self, id: &str, who: &str, body: Value) -> Result<Value, ApiError> {
        self.forward_incident(
            who,
            SarOp::IncidentAction {
                id: id.into(),
                body,
            },
        )
    }

    fn contact_intercepts(&self, id: &str, k: usize) -> Result<Value, ApiError> {
        let target = {
            let m = self.sar_read();
            let c = m
                .contacts
                .get(id)
                .ok_or_else(|| ApiError::new(404, format!("no contact {id:?}")))?;
            contact_target(c)
                .ok_or_else(|| ApiError::new(500, format!("contact {id} has no position")))?
        };
        let mut v = self.intercepts(
            &[(id.to_string(), target)],
            &BTreeSet::new(),
            &BTreeSet::new(),
            k,
        );
        v["contact"] = json!(id);
        Ok(v)
    }

    fn incident_intercepts(&self, id: &str, k: usize) -> Result<Value, ApiError> {
        let (mut targets, vessels, alert_ids, assigned) = {
            let m = self.sar_read();
            let i = m
                .incidents
                .get(id)
                .ok_or_else(|| ApiError::new(404, format!("no incident {id:?}")))?;
            let ids = |k: &str| -> Vec<Value> { i[k].as_array().cloned().unwrap_or_default() };
            let targets: Vec<(String, Target)> = ids("contacts")
                .iter()
                .filter_map(|c| m.contacts.get(c.as_str()?))
                .filter(|c| c["status"] == "active")
                .filter_map(|c| Some((c["id"].as_str()?.to_string(), contact_target(c)?)))
                .collect();
            let vessels: Vec<u32> = ids("vessels")
                .iter()
                .filter_map(|v| v.as_u64().map(|m| m as u32))
                .collect();
            let alerts: Vec<String> = ids("alerts")
                .iter()
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect();
            let assigned: BTreeSet<u32> = ids("assets")
                .iter()
                .filter_map(|a| a["mmsi"].as_u64().map(|m| m as u32))
                .collect();
            (targets, vessels, alerts, assigned)
        };
        {
            // Linked vessels (the ones in distress) are targets, not helpers.
            let m = self.read();
            for mmsi in &vessels {
                if let Some(v) = m.vessels.get(mmsi).map(|v| &v.wire.view) {
                    let pos = LatLon::new(v.lat, v.lon);
                    let t = match (v.cog, v.sog) {
                        (Some(c), Some(s)) => Target::drifting(pos, v.last_seen, c, s),
                        _ => Target::fixed(pos, v.last_seen),
                    };
                    targets.push((mmsi.to_string(), t));
                }
            }
            for a in &alert_ids {
                if let Some(al) = m.alerts.get(a) {
                    if let (Some(lat), Some(lon)) = (al["lat"].as_f64(), al["lon"].as_f64()) {
                        targets.push((
                            a.clone(),
                            Target::fixed(LatLon::new(lat, lon), ms(&al["time"])),
                        ));
                    }
                }
            }
        }
        if targets.is_empty() {
            return Err(ApiError::new(
                409,
                format!("incident {id} has no position: link an active contact, a vessel or an alert with a position"),
            ));
        }
        let exclude: BTreeSet<u32> = vessels.into_iter().collect();
        let mut v = self.intercepts(&targets, &exclude, &assigned, k);
        v["incident"] = json!(id);
        Ok(v)
    }
}
