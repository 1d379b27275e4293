//! Contacts, incidents and durable alert acknowledgements of a running
//! server: [`broadcast::SarApi`] over the `sar` model and the `store`.
//!
//! Every write follows one order, under the [`SarBook`] lock: check and
//! apply the change to a copy, commit it to SQLite, then keep the copy —
//! so memory never holds what the database does not, and the HTTP layer's
//! 2xx (sent after this returns) means the write is on disk. Contacts and
//! incidents are loaded from the database at start; incidents are rebuilt
//! from their log.
//!
//! Times: a sighting without a time and every log entry take the
//! picture's clock (message time, so a training replay reads in scenario
//! time); log entries also record the wall-clock time (the audit trail).
//!
//! Alert states are queued and written by a background thread twice a
//! second (the pipeline never waits for the disk); acknowledgements are
//! written before the API answers.
//!
//! Alert acknowledgements: the alert book lives in memory and its `a-…`
//! ids restart with the process, so each alert is stored under a key made
//! of its situation (kind, vessels, zone) and the message time it was
//! raised. When an alert is raised after a restart, an acknowledgement
//! recorded for the same key (the same alert replayed) or for the same
//! situation whose alert had not cleared (the situation still going on) is
//! applied again, with its original who, when and note.

use crate::state::LiveState;
use alerts::{Alert, AlertState};
use broadcast::{ApiError, SarApi, VesselView};
use sar::intercept::{rank, InterceptModel, Pursuer, Target};
use sar::{
    Action, Contact, ContactStatus, ErrorKind, Incident, IncidentStatus, LatLon, SarError,
    Sighting, SourceKind,
};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::{AckRow, AlertRow, Store};

/// Contacts and incidents in memory (their durable copy is in the store).
#[derive(Default)]
pub struct SarBook {
    contacts: BTreeMap<String, Contact>,
    incidents: BTreeMap<String, Incident>,
    next_contact: u64,
    next_incident: u64,
}

fn id_number(id: &str) -> u64 {
    id.get(2..).and_then(|n| n.parse().ok()).unwrap_or(0)
}

impl SarBook {
    /// Load everything from the store.
    pub fn load(store: &Store) -> Result<SarBook, String> {
        let contacts: BTreeMap<_, _> = store
            .contacts()
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        let incidents: BTreeMap<_, _> = store
            .incidents()
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|i| (i.id.clone(), i))
            .collect();
        Ok(SarBook {
            next_contact: contacts.keys().map(|k| id_number(k)).max().unwrap_or(0) + 1,
            next_incident: incidents.keys().map(|k| id_number(k)).max().unwrap_or(0) + 1,
            contacts,
            incidents,
        })
    }

    pub fn counts(&self) -> (usize, usize) {
        (self.contacts.len(), self.incidents.len())
    }
}

/// Acknowledgements to apply again when their alerts are raised after a
/// restart (see the module doc).
#[derive(Default)]
pub struct AckMemory {
    /// Acknowledgements by the alert's content key (situation and raise
    /// time).
    by_key: HashMap<String, AckRow>,
    /// Alert states waiting for the writer thread (latest per alert).
    states: Arc<Mutex<HashMap<String, AlertRow>>>,
    writer_started: bool,
}

/// How often queued alert states are written (one transaction each time).
const ALERT_STATES_EVERY: Duration = Duration::from_millis(500);

/// Write queued alert states in the background: the pipeline thread never
/// waits for an fsync. The queue keeps one row per alert (latest wins), so
/// it is bounded by the alerts the book holds. A crash loses at most the
/// last half second of alert *states*, which the rules derive again from
/// the data; acknowledgements are written synchronously (`persist_ack`).
fn start_alert_state_writer(store: Arc<Store>, states: Arc<Mutex<HashMap<String, AlertRow>>>) {
    let spawned = std::thread::Builder::new()
        .name("alert-states".into())
        .spawn(move || loop {
            std::thread::sleep(ALERT_STATES_EVERY);
            let rows: Vec<AlertRow> =
                std::mem::take(&mut *states.lock().unwrap_or_else(|e| e.into_inner()))
                    .into_values()
                    .collect();
            if let Err(e) = store.record_alerts(&rows) {
                tracing::error!(error = %e, rows = rows.len(), "alert states not saved");
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the alert-state writer");
    }
}

impl AckMemory {
    /// The acknowledgements recorded by earlier runs, to apply again when
    /// their alerts are raised again (a restart rebuilding the picture).
    pub fn load(store: &Store) -> Result<AckMemory, String> {
        let mut m = AckMemory::default();
        for (ack, _state) in store.acknowledgements().map_err(|e| e.to_string())? {
            m.by_key.insert(ack.alert_key.clone(), ack);
        }
        Ok(m)
    }

    /// None from earlier runs: a replay (or the demo) is a new exercise
    /// each run, even over the same recording, so what an operator
    /// acknowledged in an earlier run does not carry over.
    pub fn fresh() -> AckMemory {
        AckMemory::default()
    }

    pub fn len(&self) -> usize {
        self.by_key.len()
    }
}

/// `kind/mmsi/other/zone`: what identifies an alert's situation.
pub fn situation(a: &Alert) -> String {
    format!(
        "{}/{}/{}/{}",
        a.kind.as_str(),
        a.mmsi,
        a.other_mmsi.unwrap_or(0),
        a.zone.as_deref().unwrap_or("")
    )
}

/// The alert's key across restarts: situation and raise time.
pub fn alert_key(a: &Alert) -> String {
    format!("{}@{}", situation(a), a.raised_at)
}

fn alert_state(s: AlertState) -> &'static str {
    match s {
        AlertState::Raised => "raised",
        AlertState::Updated => "updated",
        AlertState::Cleared => "cleared",
        AlertState::Acknowledged => "acknowledged",
    }
}

/// The stored row of an alert.
pub fn alert_row(a: &Alert) -> AlertRow {
    AlertRow {
        key: alert_key(a),
        alert_id: a.id.clone(),
        situation: situation(a),
        state: alert_state(a.state).into(),
        raised_ms: a.raised_at,
        updated_ms: a.time,
        body: a.to_json(),
    }
}

fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn failure(e: SarError) -> ApiError {
    let status = match e.kind {
        ErrorKind::Invalid => 422,
        ErrorKind::NotFound => 404,
        ErrorKind::Conflict => 409,
    };
    ApiError::new(status, e.message)
}

fn storage(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "state database write failed");
    ApiError::new(500, format!("not saved: {e}"))
}

fn bad(m: impl Into<String>) -> ApiError {
    ApiError::new(400, m)
}

/// A time given as UNIX milliseconds or RFC 3339.
#[derive(Deserialize)]
#[serde(untagged)]
enum TimeValue {
    Ms(i64),
    Text(String),
}

impl TimeValue {
    fn ms(&self) -> Result<i64, ApiError> {
        match self {
            TimeValue::Ms(ms) => Ok(*ms),
            TimeValue::Text(t) => {
                let t = humantime::parse_rfc3339_weak(t)
                    .map_err(|_| bad("time: RFC 3339 or UNIX ms"))?;
                t.duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis() as i64)
                    .map_err(|_| bad("time before 1970"))
            }
        }
    }
}

/// The body of `POST /api/contacts`, `PUT /api/contacts/{id}` and
/// `POST /api/contacts/{id}/sightings`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ContactBody {
    description: Option<String>,
    status: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    time: Option<TimeValue>,
    uncertainty_nm: Option<f64>,
    uncertainty_m: Option<f64>,
    source: Option<String>,
    course_deg: Option<f64>,
    speed_kn: Option<f64>,
    note: Option<String>,
}

/// Uncertainty when a report gives none: one nautical mile.
const DEFAULT_UNCERTAINTY_M: f64 = 1852.0;

impl ContactBody {
    fn parse(v: Value) -> Result<ContactBody, ApiError> {
        serde_json::from_value(v).map_err(|e| bad(format!("body: {e}")))
    }

    fn has_sighting(&self) -> bool {
        self.lat.is_some()
            || self.lon.is_some()
            || self.time.is_some()
            || self.uncertainty_m.is_some()
            || self.uncertainty_nm.is_some()
            || self.course_deg.is_some()
            || self.speed_kn.is_some()
            || self.note.is_some()
            || self.source.is_some()
    }

    /// The sighting in the body (lat and lon required).
    fn sighting(
        &self,
        who: &str,
        now_ms: i64,
        default_source: SourceKind,
    ) -> Result<Sighting, ApiError> {
        let (Some(lat), Some(lon)) = (self.lat, self.lon) else {
            return Err(bad("a sighting needs lat and lon"));
        };
        let uncertainty_m = match (self.uncertainty_m, self.uncertainty_nm) {
            (Some(_), Some(_)) => {
                return Err(bad("give uncertainty_nm or uncertainty_m, not both"))
            }
            (Some(m), None) => m,
            (None, Some(nm)) => nm * 1852.0,
            (None, None) => DEFAULT_UNCERTAINTY_M,
        };
        let source = match &self.source {
            Some(s) => SourceKind::parse(s)
                .ok_or_else(|| bad("source is aircraft, phone, vessel or other"))?,
            None => default_source,
        };
        let time_ms = match &self.time {
            Some(t) => t.ms()?,
            None => now_ms,
        };
        Ok(Sighting {
            time_ms,
            lat,
            lon,
            uncertainty_m,
            course_deg: self.course_deg,
            speed_kn: self.speed_kn,
            source,
            reported_by: who.to_string(),
            note: self.note.clone(),
        })
    }
}

/// The body of `POST /api/incidents`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IncidentBody {
    title: String,
    #[serde(default)]
    contacts: Vec<String>,
    #[serde(default)]
    alerts: Vec<String>,
    #[serde(default)]
    vessels: Vec<u32>,
    note: Option<String>,
}

/// `PATCH /api/incidents/{id}` may also be just a status change.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: IncidentStatus,
    reason: Option<String>,
}

pub(crate) use engine::views::can_help;

/// How far from a target candidates are looked for, nautical miles.
pub(crate) const SEARCH_RADIUS_NM: f64 = 300.0;

/// A vessel as a pursuer: where it was, when, at what speed and course.
pub(crate) fn pursuer(v: &VesselView) -> Pursuer {
    Pursuer::new(
        LatLon::new(v.lat, v.lon),
        v.last_seen,
        v.sog.unwrap_or(0.0),
        v.cog,
    )
}

/// The answer of `/api/contacts/{id}/intercepts` and
/// `/api/incidents/{id}/intercepts`: the `k` candidates that reach
/// `targets` first at `now`, with the model used (the single process and a
/// cluster edge rank the same way, each from its own picture).
pub(crate) fn intercepts_answer(
    targets: &[(String, Target)],
    candidates: Vec<(VesselView, Pursuer)>,
    now: i64,
    assigned: &BTreeSet<u32>,
    k: usize,
) -> Value {
    let model = InterceptModel::default();
    let ts: Vec<Target> = targets.iter().map(|(_, t)| *t).collect();
    let ranked = rank(&ts, candidates, now, &model, k);
    let vessels: Vec<Value> = ranked
        .into_iter()
        .map(|r| {
            let x = r.intercept;
            json!({
                "vessel": r.key,
                "target": targets[r.target].0,
                "distance_nm": round(r.distance_nm, 2),
                "reachable": x.is_some(),
                "time_to_intercept_min": x.map(|x| round(x.minutes, 1)),
                "eta": x.map(|x| sar::contact::format_time(now + (x.minutes * 60_000.0) as i64)),
                "intercept": x.map(|x| json!({"lat": round(x.point.lat, 5), "lon": round(x.point.lon, 5)})),
                "steer_deg": x.map(|x| round(x.steer_deg, 1)),
                "turn_deg": x.map(|x| round(x.turn_deg, 1)),
                "assigned": assigned.contains(&r.key.mmsi),
            })
        })
        .collect();
    json!({
        "time": sar::contact::format_time(now),
        "targets": targets.iter().map(|(id, t)| {
            let p = t.at(now as f64);
            json!({"id": id, "lat": round(p.lat, 5), "lon": round(p.lon, 5),
                   "course_deg": t.drift.map(|d| d.0), "speed_kn": t.drift.map(|d| d.1)})
        }).collect::<Vec<_>>(),
        "model": {
            "turn_rate_deg_per_min": model.turn_rate_deg_per_min,
            "max_dead_reckoning_min": model.max_dead_reckoning_min,
            "min_speed_kn": model.min_speed_kn,
            "search_radius_nm": SEARCH_RADIUS_NM,
        },
        "vessels": vessels,
    })
}

impl LiveState {
    /// The picture's clock (message time), or the wall clock before the
    /// first message.
    pub fn now_ms(&self) -> i64 {
        self.picture().now_ms().unwrap_or_else(wall_ms)
    }

    fn store(&self) -> Result<&Store, ApiError> {
        self.store
            .as_deref()
            .ok_or_else(|| ApiError::new(503, "no state database"))
    }

    fn book(&self) -> std::sync::MutexGuard<'_, SarBook> {
        self.sar.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Take the engine's alert changes — under the caller's write lock on
    /// it — with the acknowledgements recorded before a restart applied
    /// again to the very alerts they were made on (see the module doc), in
    /// the same critical section: no reader ever sees such an alert
    /// unacknowledged, not even for a moment.
    pub fn take_alerts(&self, engine: &mut engine::Engine) -> Vec<Alert> {
        let mut alerts = engine.take_alerts();
        if self.store.is_none() || alerts.is_empty() {
            return alerts;
        }
        let again: Vec<(usize, AckRow)> = {
            let acks = self.acks.lock().unwrap_or_else(|e| e.into_inner());
            if acks.by_key.is_empty() {
                return alerts;
            }
            alerts
                .iter()
                .enumerate()
                .filter(|(_, a)| a.state != AlertState::Cleared && a.acknowledged_by.is_none())
                // Only the acknowledgement of this very alert — same kind,
                // vessels, zone and raise time — applies: never one made
                // on another alert of the same situation (an earlier raise).
                .filter_map(|(i, a)| acks.by_key.get(&alert_key(a)).map(|ack| (i, ack.clone())))
                .collect()
        };
        if again.is_empty() {
            return alerts;
        }
        for (i, ack) in again {
            if let Ok(acked) =
                engine.acknowledge_at(&alerts[i].id, &ack.who, ack.note.as_deref(), ack.at_ms)
            {
                tracing::info!(alert = %acked.id, by = %ack.who, "acknowledgement restored");
                alerts[i] = acked;
            }
        }
        // Published with this batch: drop the queued copies.
        let _ = engine.take_alerts();
        alerts
    }

    /// Record alert changes (taken with [`LiveState::take_alerts`]) in the
    /// state database, in the background. Returns them, to publish.
    pub fn persist_alerts(&self, alerts: Vec<Alert>) -> Vec<Alert> {
        let Some(store) = self.store.clone() else {
            return alerts;
        };
        if alerts.is_empty() {
            return alerts;
        }
        let states = {
            let mut acks = self.acks.lock().unwrap_or_else(|e| e.into_inner());
            if !acks.writer_started {
                acks.writer_started = true;
                start_alert_state_writer(store, acks.states.clone());
            }
            acks.states.clone()
        };
        let mut queued = states.lock().unwrap_or_else(|e| e.into_inner());
        for a in &alerts {
            let row = alert_row(a);
            queued.insert(row.key.clone(), row);
        }
        drop(queued);
        alerts
    }

    /// Write the queued alert states now (at shutdown).
    pub fn flush_alert_states(&self) {
        let Some(store) = self.store.as_deref() else {
            return;
        };
        let states = self
            .acks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .states
            .clone();
        let rows: Vec<AlertRow> =
            std::mem::take(&mut *states.lock().unwrap_or_else(|e| e.into_inner()))
                .into_values()
                .collect();
        if let Err(e) = store.record_alerts(&rows) {
            tracing::error!(error = %e, "alert states not saved");
        }
    }

    /// Record an acknowledgement durably (called with the acknowledged
    /// alert, before the API answers).
    pub fn persist_ack(&self, a: &Alert) -> Result<(), String> {
        let Some(store) = self.store.as_deref() else {
            return Ok(());
        };
        let ack = AckRow {
            alert_key: alert_key(a),
            alert_id: a.id.clone(),
            situation: situation(a),
            who: a.acknowledged_by.clone().unwrap_or_default(),
            at_ms: a.acknowledged_at.unwrap_or(a.time),
            note: a.note.clone(),
        };
        // A queued older state of this alert must not overwrite this one.
        self.acks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .states
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&ack.alert_key);
        store
            .record_ack(&ack, &alert_row(a), wall_ms())
            .map_err(|e| format!("acknowledgement not saved: {e}"))
    }

    fn vessel_view(&self, mmsi: u32) -> Option<VesselView> {
        let p = self.picture();
        p.vessel(mmsi)
            .and_then(|v| engine::views::vessel_view(&p, v))
    }

    fn check_action(&self, book: &SarBook, a: &mut Action) -> Result<(), ApiError> {
        match a {
            Action::LinkContact { contact_id } if !book.contacts.contains_key(contact_id) => {
                Err(ApiError::new(404, format!("no contact {contact_id:?}")))
            }
            Action::LinkAlert { alert_id } => {
                let engine = self.engine();
                if engine
                    .rules()
                    .list(None, None)
                    .iter()
                    .any(|x| &x.id == alert_id)
                {
                    Ok(())
                } else {
                    Err(ApiError::new(404, format!("no alert {alert_id:?}")))
                }
            }
            Action::LinkVessel { mmsi } if *mmsi == 0 || *mmsi > 999_999_999 => {
                Err(bad("mmsi must be 1..999999999"))
            }
            Action::AssignAsset { asset } => {
                // Name a vessel asset from the picture when not given.
                if let (Some(m), None) = (asset.mmsi, &asset.name) {
                    asset.name = self.vessel_view(m).and_then(|v| v.name);
                }
                Ok(())
            }
            Action::Create { .. } => Err(bad("create is POST /api/incidents")),
            _ => Ok(()),
        }
    }

    fn run_action(&self, id: &str, who: &str, mut action: Action) -> Result<Value, ApiError> {
        let store = self.store()?;
        let now = self.now_ms();
        let mut book = self.book();
        self.check_action(&book, &mut action)?;
        let inc = book
            .incidents
            .get(id)
            .ok_or_else(|| ApiError::new(404, format!("no incident {id:?}")))?;
        let mut next = inc.clone();
        let entries = next.execute(action, who, now, wall_ms()).map_err(failure)?;
        store.append_incident(&next, &entries).map_err(storage)?;
        let out = next.to_json();
        book.incidents.insert(id.to_string(), next);
        Ok(out)
    }

    /// Candidate vessels near any target, minus `exclude`.
    fn candidates(
        &self,
        targets: &[Target],
        exclude: &BTreeSet<u32>,
    ) -> Vec<(VesselView, Pursuer)> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        let mut add = |v: VesselView, out: &mut Vec<(VesselView, Pursuer)>| {
            if exclude.contains(&v.mmsi) || !can_help(&v.class) || v.state == "lost" {
                return;
            }
            if !seen.insert(v.mmsi) {
                return;
            }
            let p = pursuer(&v);
            out.push((v, p));
        };
        {
            let p = self.picture();
            for t in targets {
                for (v, _) in p.within_radius(t.pos.lat, t.pos.lon, SEARCH_RADIUS_NM) {
                    if let Some(view) = engine::views::vessel_view(&p, v) {
                        add(view, &mut out);
                    }
                }
            }
        }
        let own = self
            .engine()
            .own_assets()
            .in_boxes(&[broadcast::BBox::WORLD]);
        for v in own {
            add(v, &mut out);
        }
        out
    }

    fn intercepts(
        &self,
        targets: &[(String, Target)],
        exclude: &BTreeSet<u32>,
        assigned: &BTreeSet<u32>,
        k: usize,
    ) -> Value {
        let now = self.now_ms();
        let ts: Vec<Target> = targets.iter().map(|(_, t)| *t).collect();
        let candidates = self.candidates(&ts, exclude);
        intercepts_answer(targets, candidates, now, assigned, k)
    }
}

fn round(v: f64, d: i32) -> f64 {
    let f = 10f64.powi(d);
    (v * f).round() / f
}

fn contact_target(c: &Contact) -> Target {
    let s = c.latest();
    Target {
        pos: s.position(),
        time_ms: s.time_ms,
        drift: s.drift(),
    }
}

impl SarApi for LiveState {
    fn contacts(&self, status: Option<&str>) -> Result<Value, ApiError> {
        let status = match status {
            None => None,
            Some(s) => {
                Some(ContactStatus::parse(s).ok_or_else(|| bad("status is active or closed"))?)
            }
        };
        let book = self.book();
        let mut list: Vec<&Contact> = book
            .contacts
            .values()
            .filter(|c| status.is_none_or(|s| c.status == s))
            .collect();
        list.sort_by(|a, b| b.updated_ms.cmp(&a.updated_ms).then(b.id.cmp(&a.id)));
        Ok(Value::Array(
            list.into_iter().map(Contact::to_json).collect(),
        ))
    }

    fn contact(&self, id: &str) -> Option<Value> {
        self.book().contacts.get(id).map(Contact::to_json)
    }

    fn create_contact(&self, who: &str, body: Value) -> Result<Value, ApiError> {
        let store = self.store()?;
        let b = ContactBody::parse(body)?;
        if b.status.is_some() {
            return Err(bad("a new contact is active; status is for updates"));
        }
        let description = b
            .description
            .clone()
            .ok_or_else(|| bad("description is required"))?;
        let now = self.now_ms();
        let first = b.sighting(who, now, SourceKind::Other)?;
        let mut book = self.book();
        let id = format!("c-{:06}", book.next_contact);
        let c = Contact::new(&id, &description, first, wall_ms()).map_err(failure)?;
        store.save_contact(&c, &c.sightings).map_err(storage)?;
        book.next_contact += 1;
        let out = c.to_json();
        book.contacts.insert(id, c);
        Ok(out)
    }

    fn update_contact(&self, id: &str, who: &str, body: Value) -> Result<Value, ApiError> {
        let store = self.store()?;
        let b = ContactBody::parse(body)?;
        let now = self.now_ms();
        let mut book = self.book();
        let c = book
            .contacts
            .get(id)
            .ok_or_else(|| ApiError::new(404, format!("no contact {id:?}")))?;
        let mut next = c.clone();
        let recorded = wall_ms();
        let mut changed = false;
        if let Some(d) = &b.description {
            next.set_description(d, recorded).map_err(failure)?;
            changed = true;
        }
        if let Some(s) = &b.status {
            let s = ContactStatus::parse(s).ok_or_else(|| bad("status is active or closed"))?;
            next.set_status(s, recorded);
            changed = true;
        }
        let mut new = Vec::new();
        if b.has_sighting() {
            let s = b.sighting(who, now, next.latest().source)?;
            next.add_sighting(s.clone(), recorded).map_err(failure)?;
            new.push(s);
            changed = true;
        }
        if !changed {
            return Err(bad(
                "nothing to change: give description, status, or a sighting (lat, lon, …)",
            ));
        }
        store.save_contact(&next, &new).map_err(storage)?;
        let out = next.to_json();
        book.contacts.insert(id.to_string(), next);
        Ok(out)
    }

    fn add_sighting(&self, id: &str, who: &str, body: Value) -> Result<Value, ApiError> {
        let b = ContactBody::parse(body.clone())?;
        if b.description.is_some() || b.status.is_some() {
            return Err(bad(
                "a sighting has no description or status (PUT the contact)",
            ));
        }
        if b.lat.is_none() || b.lon.is_none() {
            return Err(bad("a sighting needs lat and lon"));
        }
        self.update_contact(id, who, body)
    }

    fn incidents(&self, status: Option<&str>) -> Result<Value, ApiError> {
        // None: all; Some(None): every status but closed; Some(Some(s)): s.
        let filter: Option<Option<IncidentStatus>> = match status {
            None => None,
            Some("open") => Some(None),
            Some(s) => Some(Some(IncidentStatus::parse(s).ok_or_else(|| {
                bad("status is open (anything not closed), assets_assigned, rescued or closed")
            })?)),
        };
        let book = self.book();
        let mut list: Vec<&Incident> = book
            .incidents
            .values()
            .filter(|i| match filter {
                None => true,
                Some(None) => i.is_open(),
                Some(Some(s)) => i.status == s,
            })
            .collect();
        list.sort_by(|a, b| b.updated_ms.cmp(&a.updated_ms).then(b.id.cmp(&a.id)));
        Ok(Value::Array(
            list.into_iter().map(Incident::to_json).collect(),
        ))
    }

    fn incident(&self, id: &str) -> Option<Value> {
        self.book().incidents.get(id).map(Incident::to_json)
    }

    fn create_incident(&self, who: &str, body: Value) -> Result<Value, ApiError> {
        let store = self.store()?;
        let b: IncidentBody =
            serde_json::from_value(body).map_err(|e| bad(format!("body: {e}")))?;
        let now = self.now_ms();
        let recorded = wall_ms();
        let mut book = self.book();
        let id = format!("i-{:06}", book.next_incident);
        let mut inc = Incident::new(&id, &b.title, who, now, recorded).map_err(failure)?;
        let mut actions: Vec<Action> = Vec::new();
        actions.extend(
            b.contacts
                .into_iter()
                .map(|c| Action::LinkContact { contact_id: c }),
        );
        actions.extend(
            b.alerts
                .into_iter()
                .map(|a| Action::LinkAlert { alert_id: a }),
        );
        actions.extend(
            b.vessels
                .into_iter()
                .map(|m| Action::LinkVessel { mmsi: m }),
        );
        actions.extend(b.note.map(|t| Action::Note { text: t }));
        for mut a in actions {
            self.check_action(&book, &mut a)?;
            inc.execute(a, who, now, recorded).map_err(failure)?;
        }
        store.append_incident(&inc, &inc.log).map_err(storage)?;
        book.next_incident += 1;
        let out = inc.to_json();
        book.incidents.insert(id, inc);
        Ok(out)
    }

    fn incident_action(&self, id: &str, who: &str, body: Value) -> Result<Value, ApiError> {
        let action: Action = if body.get("action").is_some() {
            serde_json::from_value(body).map_err(|e| bad(format!("action: {e}")))?
        } else {
            let s: StatusBody = serde_json::from_value(body).map_err(|e| {
                bad(format!(
                    "body: an action ({{\"action\":\"note\",\"text\":…}}) or a status change ({{\"status\":…}}): {e}"
                ))
            })?;
            Action::SetStatus {
                status: s.status,
                reason: s.reason,
            }
        };
        self.run_action(id, who, action)
    }

    fn contact_intercepts(&self, id: &str, k: usize) -> Result<Value, ApiError> {
        let target = {
            let book = self.book();
            let c = book
                .contacts
                .get(id)
                .ok_or_else(|| ApiError::new(404, format!("no contact {id:?}")))?;
            contact_target(c)
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
            let book = self.book();
            let i = book
                .incidents
                .get(id)
                .ok_or_else(|| ApiError::new(404, format!("no incident {id:?}")))?;
            let targets: Vec<(String, Target)> = i
                .contacts
                .iter()
                .filter_map(|c| book.contacts.get(c))
                .filter(|c| c.status == ContactStatus::Active)
                .map(|c| (c.id.clone(), contact_target(c)))
                .collect();
            let assigned: BTreeSet<u32> = i.assets.iter().filter_map(|a| a.asset.mmsi).collect();
            (targets, i.vessels.clone(), i.alerts.clone(), assigned)
        };
        // Linked vessels (the ones in distress) are targets, not helpers.
        for m in &vessels {
            if let Some(v) = self.vessel_view(*m) {
                let drift = match (v.cog, v.sog) {
                    (Some(c), Some(s)) if s > 0.0 => Some((c, s)),
                    _ => None,
                };
                targets.push((
                    m.to_string(),
                    Target {
                        pos: LatLon::new(v.lat, v.lon),
                        time_ms: v.last_seen,
                        drift,
                    },
                ));
            }
        }
        {
            let engine = self.engine();
            for a in engine.rules().list(None, None) {
                if let (true, Some(lat), Some(lon)) = (alert_ids.contains(&a.id), a.lat, a.lon) {
                    targets.push((a.id.clone(), Target::fixed(LatLon::new(lat, lon), a.time)));
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
