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

mod case_file;

use crate::config::RccConfig;
use crate::state::LiveState;
use alerts::{Alert, AlertState};
use broadcast::api::{PatternFormat, Planned, SitrepAnswer};
use broadcast::{ApiError, SarApi, VesselView};
use sar::coverage::{coverage, cumulative_pod, AssetTrack};
use sar::drift::{current_from_nearest_beacon, is_drifting_beacon, TrackPoint};
use sar::export;
use sar::geojson::polygons_from_geojson;
use sar::incident::PlannedPattern;
use sar::intercept::{rank, InterceptModel, Pursuer, Target};
use sar::patterns::{parallel_sweep_for_area, PatternKind, PatternRequest};
use sar::search_area::{SearchArea, SearchAreaRequest};
use sar::sitrep::{describe_search_area, sitrep, Priority, Rcc, SitrepOptions};
use sar::sweep_width::sweep_width;
use sar::{
    generate_pattern, Action, Asset, Contact, ContactStatus, ErrorKind, Incident, IncidentStatus,
    LatLon, SarError, Sighting, SourceKind,
};
use serde::Deserialize;
use serde_json::{json, Value};
use spatial_index::{VesselClass, ZoneKind};
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
    /// The rescue coordination centres of the configuration (`[[sar.rcc]]`).
    rcc: Vec<RccConfig>,
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
            rcc: Vec::new(),
        })
    }

    /// With the rescue coordination centres of the configuration.
    pub fn with_rcc(mut self, rcc: Vec<RccConfig>) -> SarBook {
        self.rcc = rcc;
        self
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
            Action::SearchArea { .. } => Err(bad(
                "a search area is computed by POST /api/incidents/{id}/search-area",
            )),
            Action::SearchPattern { .. } => Err(bad(
                "a search pattern is planned by POST /api/incidents/{id}/patterns",
            )),
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

    /// The incident, with the search and rescue region its position lies
    /// in and that region's RCC (`[[sar.rcc]]`) when known.
    fn incident(&self, id: &str) -> Option<Value> {
        let (mut v, pos, rccs) = {
            let book = self.book();
            let i = book.incidents.get(id)?;
            (i.to_json(), incident_position(&book, i), book.rcc.clone())
        };
        let pos = pos.or_else(|| self.linked_vessel_position(id));
        if let Some(pos) = pos {
            let (region, rcc) = self.region_and_rcc(pos, &rccs);
            if let Some((zid, name)) = region {
                v["sar_region"] = json!({"id": zid, "name": name});
            }
            if let Some(r) = rcc {
                v["rcc"] = rcc_json(r);
            }
        }
        Some(v)
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

    // ---- search planning (issue 17, docs/sar.md) ----

    fn plan_search_area(&self, id: &str, who: &str, body: Value) -> Result<Planned, ApiError> {
        let req: SearchAreaRequest =
            serde_json::from_value(body.clone()).map_err(|e| bad(format!("body: {e}")))?;
        // The LKP is `lkp`, else the latest sighting of the contact named,
        // else of the incident's most recently sighted contact.
        let contact: Option<Contact> = {
            let book = self.book();
            let inc = book.incidents.get(id).ok_or_else(|| no_incident(id))?;
            match (&req.contact, &req.lkp) {
                (Some(c), _) => Some(
                    book.contacts
                        .get(c)
                        .cloned()
                        .ok_or_else(|| ApiError::new(404, format!("no contact {c:?}")))?,
                ),
                (None, Some(_)) => None,
                (None, None) => Some(
                    inc.contacts
                        .iter()
                        .filter_map(|c| book.contacts.get(c))
                        .max_by_key(|c| c.latest().time_ms)
                        .cloned()
                        .ok_or_else(|| {
                            ApiError::new(
                                409,
                                format!("incident {id} has no contact: give contact (c-…) or lkp"),
                            )
                        })?,
                ),
            }
        };
        let lkp = match (&req.lkp, &contact) {
            (Some(l), _) => LatLon::new(l.lat, l.lon),
            (None, Some(c)) => c.latest().position(),
            (None, None) => return Err(bad("a contact or an lkp is required")),
        };
        // No current given: measured by the nearest drifting AIS-SART/MOB.
        let observed = match req.current {
            Some(_) => None,
            None => current_from_nearest_beacon(
                lkp,
                req.at.min(self.now_ms()),
                &self.beacon_tracks(lkp),
                BEACON_RADIUS_NM,
                BEACON_WINDOW_MS,
            ),
        };
        let plan = sar::search_area::plan_search_area(
            &req,
            contact.as_ref(),
            observed.map(|(_, o)| o.current),
        )
        .map_err(plan_failure)?;
        let current = match (req.current, observed) {
            (Some(c), _) => json!({"set_deg": c.set_deg, "kn": c.kn, "source": "given"}),
            (None, Some((mmsi, o))) => json!({
                "set_deg": o.current.set_deg, "kn": o.current.kn, "source": "beacon",
                "mmsi": mmsi, "span_min": o.span_ms as f64 / 60_000.0, "points": o.points,
            }),
            (None, None) => Value::Null,
        };
        let mut response = plan.response;
        let contact_id = contact.map(|c| c.id);
        let next = self.commit(id, who, |_, inc| {
            if let Value::Object(p) = &mut response.area["properties"] {
                p.insert("n".into(), json!(inc.search_areas.len() + 1));
                p.insert("incident".into(), json!(id));
                p.insert("contact".into(), json!(contact_id));
                p.insert("current".into(), current);
            }
            let mut actions = Vec::new();
            if let Some(c) = contact_id.as_ref().filter(|c| !inc.contacts.contains(c)) {
                actions.push(Action::LinkContact {
                    contact_id: c.clone(),
                });
            }
            actions.push(Action::SearchArea {
                request: body,
                plan: Box::new(response),
            });
            Ok(actions)
        })?;
        let stored = next.search_areas.last().ok_or_else(|| storage("no area"))?;
        Ok(Planned {
            answer: serde_json::to_value(&stored.plan).map_err(storage)?,
            incident: next.to_json(),
        })
    }

    fn search_area(&self, id: &str, n: Option<usize>) -> Result<Value, ApiError> {
        let book = self.book();
        let inc = book.incidents.get(id).ok_or_else(|| no_incident(id))?;
        let a = match n {
            None => inc.search_areas.last(),
            Some(n) => n.checked_sub(1).and_then(|k| inc.search_areas.get(k)),
        };
        let a = a.ok_or_else(|| match n {
            None => ApiError::new(404, format!("incident {id} has no search area")),
            Some(n) => ApiError::new(404, format!("incident {id} has no search area {n}")),
        })?;
        serde_json::to_value(&a.plan).map_err(storage)
    }

    fn plan_pattern(&self, id: &str, who: &str, mut body: Value) -> Result<Planned, ApiError> {
        let obj = body
            .as_object_mut()
            .ok_or_else(|| bad("the body must be a JSON object"))?;
        // Lookout's own fields (the rest is the model's PatternRequest).
        let sweep_width_nm = match obj.remove("sweep_width_nm") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_f64()
                    .filter(|w| w.is_finite() && *w > 0.0 && *w <= 50.0)
                    .ok_or_else(|| bad("sweep_width_nm must be a number above 0, at most 50"))?,
            ),
        };
        let fill = match obj.remove("fill_area") {
            None | Some(Value::Null) | Some(Value::Bool(false)) => false,
            Some(Value::Bool(true)) => true,
            Some(_) => return Err(bad("fill_area must be true or false")),
        };
        if fill {
            // Laid out from the area; a csp given is not used.
            obj.insert("csp".into(), json!({"lat": 0.0, "lon": 0.0}));
        }
        let req: PatternRequest =
            serde_json::from_value(body).map_err(|e| bad(format!("body: {e}")))?;
        if req.asset.is_none() && req.asset_name.is_none() {
            return Err(bad(
                "asset (the MMSI of a unit assigned to the incident) is required",
            ));
        }
        let pattern = if fill {
            if req.pattern != PatternKind::Parallel {
                return Err(bad("fill_area is for a parallel sweep (pattern: parallel)"));
            }
            let area = {
                let book = self.book();
                let inc = book.incidents.get(id).ok_or_else(|| no_incident(id))?;
                let a = inc.search_areas.last().ok_or_else(|| no_search_area(id))?;
                SearchArea::new(
                    a.plan.datums.left,
                    a.plan.datums.right,
                    a.plan.radius_nm,
                    a.plan.drift.deg,
                )
            };
            let sweep = match (&req.sweep, req.spacing_nm) {
                (Some(s), None) => Some(
                    sweep_width(&s.object, s.unit, s.visibility_nm, s.wind_kn, s.fatigued)
                        .map_err(plan_failure)?,
                ),
                _ => None,
            };
            let spacing = req
                .spacing_nm
                .or(sweep.as_ref().map(|w| w.track_spacing_nm))
                .ok_or_else(|| bad("spacing_nm (or sweep) is required"))?;
            let mut p = parallel_sweep_for_area(&area, spacing, req.speed_kn, req.start, req.asset)
                .map_err(plan_failure)?;
            p.asset_name = req.asset_name.clone();
            p.sweep = sweep;
            p
        } else {
            generate_pattern(&req).map_err(plan_failure)?
        };
        // The sweep width its coverage is computed with: given, else the
        // table's (with `sweep`), else the track spacing (S = W: C = 1).
        let w = sweep_width_nm
            .or(pattern.sweep.as_ref().map(|s| s.sweep_width_nm))
            .unwrap_or(pattern.spacing_nm);
        if w <= 0.0 {
            // A sector search or a single track line has no spacing.
            return Err(bad(
                "this pattern has no track spacing: give sweep (from the sweep-width table) or sweep_width_nm for its coverage",
            ));
        }
        let next = self.commit(id, who, move |_, inc| {
            let mut pattern = pattern;
            if pattern.asset_name.is_none() && pattern.asset.is_some() {
                pattern.asset_name = inc
                    .assets
                    .iter()
                    .find(|a| a.asset.mmsi == pattern.asset)
                    .and_then(|a| a.asset.name.clone());
            }
            Ok(vec![Action::SearchPattern {
                pattern: Box::new(pattern),
                sweep_width_nm: w,
            }])
        })?;
        let n = next.patterns.len();
        let p = next.patterns.last().ok_or_else(|| storage("no pattern"))?;
        // Delivered to the searching unit on every output that carries a
        // route (NMEA $GPWPL/$GPRTE, a TAK route).
        self.outputs.send_route(&pattern_route(id, n, &p.pattern));
        Ok(Planned {
            answer: pattern_feature(id, n, p),
            incident: next.to_json(),
        })
    }

    fn patterns(&self, id: &str) -> Result<Value, ApiError> {
        let book = self.book();
        let inc = book.incidents.get(id).ok_or_else(|| no_incident(id))?;
        Ok(json!({
            "type": "FeatureCollection",
            "features": inc.patterns.iter().enumerate()
                .map(|(k, p)| pattern_feature(id, k + 1, p))
                .collect::<Vec<_>>(),
        }))
    }

    fn pattern(&self, id: &str, n: usize, format: PatternFormat) -> Result<String, ApiError> {
        let book = self.book();
        let inc = book.incidents.get(id).ok_or_else(|| no_incident(id))?;
        let p = n
            .checked_sub(1)
            .and_then(|k| inc.patterns.get(k))
            .ok_or_else(|| ApiError::new(404, format!("incident {id} has no pattern {n}")))?;
        Ok(match format {
            PatternFormat::GeoJson => {
                // RFC 7946 like every GeoJSON answer (crates/geoformat).
                let mut f = pattern_feature(id, n, p);
                geoformat::geojson::normalize(&mut f);
                f.to_string()
            }
            PatternFormat::Gpx => export::to_gpx(&p.pattern),
            PatternFormat::Kml => export::to_kml(&p.pattern),
            PatternFormat::Nmea => export::nmea_text(&p.pattern, &format!("{id}-{n}")),
        })
    }

    fn coverage(&self, id: &str, until_ms: Option<i64>) -> Result<Value, ApiError> {
        let until = until_ms.unwrap_or_else(|| self.now_ms());
        let inc = {
            let book = self.book();
            book.incidents
                .get(id)
                .cloned()
                .ok_or_else(|| no_incident(id))?
        };
        if inc.search_areas.is_empty() {
            return Err(ApiError::new(
                409,
                format!(
                    "incident {id} has no search area: POST /api/incidents/{id}/search-area first"
                ),
            ));
        }
        // Each search area is one search: the assets of the patterns
        // planned after it (before the next area), tracks from their
        // pattern's start until the next area was computed (the current
        // one: until `until`).
        let mut pods = Vec::new();
        let mut current = None;
        for (k, area) in inc.search_areas.iter().enumerate() {
            let following = inc.search_areas.get(k + 1);
            let end = following.map_or(until, |a| a.time_ms.min(until));
            let polys = polygons_from_geojson(&area.plan.area).map_err(plan_failure)?;
            let mut assets: Vec<(Asset, i64, f64)> = Vec::new();
            for p in inc
                .patterns
                .iter()
                .filter(|p| p.seq > area.seq && following.is_none_or(|a| p.seq < a.seq))
            {
                let asset = Asset {
                    mmsi: p.pattern.asset,
                    name: p.pattern.asset_name.clone(),
                };
                match assets.iter_mut().find(|(a, _, _)| same_asset(a, &asset)) {
                    Some(e) => {
                        e.1 = e.1.min(p.pattern.start_ms);
                        e.2 = p.sweep_width_nm;
                    }
                    None => assets.push((asset, p.pattern.start_ms, p.sweep_width_nm)),
                }
            }
            let tracks: Vec<AssetTrack> = assets
                .into_iter()
                .map(|(asset, since_ms, w)| AssetTrack {
                    points: self.asset_track(asset.mmsi, end),
                    asset,
                    sweep_width_nm: w,
                    since_ms,
                })
                .collect();
            let report = coverage(&polys, &tracks, end).map_err(plan_failure)?;
            pods.push(report.pod);
            current = Some((k + 1, report));
        }
        let (n, report) = current.ok_or_else(|| no_search_area(id))?;
        let mut v = serde_json::to_value(&report).map_err(storage)?;
        v["incident"] = json!(id);
        v["search_area"] = json!(n);
        v["until"] = json!(sar::contact::format_time(until));
        v["cumulative_pod"] = json!(cumulative_pod(&pods));
        Ok(v)
    }

    fn case_file(&self, id: &str) -> Result<Value, ApiError> {
        LiveState::case_file(self, id)
    }

    fn sitrep(&self, id: &str, options: Value) -> Result<SitrepAnswer, ApiError> {
        let get = |k: &str| options.get(k).and_then(Value::as_str).map(str::to_string);
        let number = match get("number") {
            None => 1,
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=9999).contains(n))
                .ok_or_else(|| bad("number must be 1..9999"))?,
        };
        let persons = get("persons")
            .map(|v| {
                v.parse::<u32>()
                    .map_err(|_| bad("persons must be a whole number"))
            })
            .transpose()?;
        let priority: Priority = match get("priority") {
            None => Priority::default(),
            Some(v) => serde_json::from_value(json!(v))
                .map_err(|_| bad("priority is distress, urgency, safety or routine"))?,
        };
        let (inc, contacts, pos, rccs) = {
            let book = self.book();
            let inc = book.incidents.get(id).ok_or_else(|| no_incident(id))?;
            let contacts: Vec<Contact> = inc
                .contacts
                .iter()
                .filter_map(|c| book.contacts.get(c).cloned())
                .collect();
            (
                inc.clone(),
                contacts,
                incident_position(&book, inc),
                book.rcc.clone(),
            )
        };
        let pos = pos.or_else(|| self.linked_vessel_position(id));
        let (region, rcc) = match pos {
            Some(p) => self.region_and_rcc(p, &rccs),
            None => (None, None),
        };
        let rcc = rcc.map(rcc_of).unwrap_or_else(|| Rcc {
            name: "RCC not configured ([[sar.rcc]])".into(),
            ..Rcc::default()
        });
        let latest = inc.search_areas.last();
        let opts = SitrepOptions {
            number,
            time_ms: self.now_ms(),
            priority,
            to: get("to"),
            persons,
            nature: get("nature"),
            assistance_required: get("assistance_required"),
            weather: get("weather").or_else(|| latest.and_then(|a| weather_of(&a.request))),
            search_area: get("search_area")
                .or_else(|| latest.map(|a| describe_search_area(&a.plan))),
            future_plans: get("future_plans"),
            additional_information: get("additional_information"),
        };
        let s = sitrep(&inc, &contacts, &rcc, &opts);
        let mut json = serde_json::to_value(&s).map_err(storage)?;
        if let Some((zid, name)) = region {
            json["sar_region"] = json!({"id": zid, "name": name});
        }
        Ok(SitrepAnswer {
            text: s.to_text(),
            json,
        })
    }
}

// ---- search planning helpers ----

/// How far from the LKP a drifting AIS-SART/MOB/EPIRB-AIS is used to
/// measure the current, NM.
pub(crate) const BEACON_RADIUS_NM: f64 = 10.0;
/// Its positions used: the last three hours before the time of interest
/// (or the picture's clock, whichever is earlier).
pub(crate) const BEACON_WINDOW_MS: i64 = 3 * 3_600_000;

/// A refused planning request: bad input 400, an unknown id 404, a
/// conflict with the incident's state 409.
fn plan_failure(e: SarError) -> ApiError {
    let status = match e.kind {
        ErrorKind::Invalid => 400,
        ErrorKind::NotFound => 404,
        ErrorKind::Conflict => 409,
    };
    ApiError::new(status, e.message)
}

fn no_incident(id: &str) -> ApiError {
    ApiError::new(404, format!("no incident {id:?}"))
}

fn no_search_area(id: &str) -> ApiError {
    ApiError::new(
        409,
        format!("incident {id} has no search area: POST /api/incidents/{id}/search-area first"),
    )
}

/// Same MMSI, or (without MMSIs) the same name.
fn same_asset(a: &Asset, b: &Asset) -> bool {
    match (a.mmsi, b.mmsi) {
        (Some(x), Some(y)) => x == y,
        (None, None) => a.name == b.name,
        _ => false,
    }
}

/// Where the incident is: the latest sighting of its contacts, else its
/// current search area's datum.
fn incident_position(book: &SarBook, i: &Incident) -> Option<LatLon> {
    i.contacts
        .iter()
        .filter_map(|c| book.contacts.get(c))
        .max_by_key(|c| c.latest().time_ms)
        .map(|c| c.latest().position())
        .or_else(|| i.search_areas.last().map(|a| a.plan.datum))
}

fn rcc_json(r: &RccConfig) -> Value {
    json!({
        "name": r.name,
        "phone": r.phone,
        "email": r.email,
        "mmsi": r.mmsi,
        "sar_region": r.sar_region,
    })
}

fn rcc_of(r: &RccConfig) -> Rcc {
    Rcc {
        name: r.name.clone(),
        phone: r.phone.clone(),
        email: r.email.clone(),
        mmsi: r.mmsi,
    }
}

/// "wind 330T 15 kn" from a search-area request (its latest wind).
fn weather_of(request: &Value) -> Option<String> {
    let w = match &request["wind"] {
        Value::Array(list) => list.last()?,
        o @ Value::Object(_) => o,
        _ => return None,
    };
    let (from, kn) = (w["from_deg"].as_f64()?, w["kn"].as_f64()?);
    Some(format!(
        "wind {from:03.0}T {kn:.0} kn (search planning input)"
    ))
}

/// A stored pattern as its Feature, numbered.
/// Pattern `n` of incident `id` as a route for the outputs.
fn pattern_route(id: &str, n: usize, p: &sar::patterns::Pattern) -> outputs::route::Route {
    let route_id = format!("{id}-{n}");
    outputs::route::Route {
        nmea: export::to_nmea(p, &route_id),
        id: route_id,
        name: p.title(),
        remarks: sar::incident::describe_pattern(p),
        waypoints: p
            .waypoints
            .iter()
            .map(|w| outputs::route::RoutePoint {
                lat: w.position.lat,
                lon: w.position.lon,
                name: w.name(),
                time_ms: w.time_ms,
            })
            .collect(),
    }
}

fn pattern_feature(id: &str, n: usize, p: &PlannedPattern) -> Value {
    let mut f = p.pattern.to_feature();
    if let Value::Object(props) = &mut f["properties"] {
        props.insert("n".into(), json!(n));
        props.insert("incident".into(), json!(id));
        props.insert("sweep_width_nm".into(), json!(p.sweep_width_nm));
        props.insert(
            "planned".into(),
            json!(sar::contact::format_time(p.time_ms)),
        );
        props.insert("planned_by".into(), json!(p.who));
    }
    f
}

impl LiveState {
    /// The position of the first linked vessel the picture knows.
    fn linked_vessel_position(&self, id: &str) -> Option<LatLon> {
        let vessels = self.book().incidents.get(id)?.vessels.clone();
        vessels
            .iter()
            .find_map(|m| self.vessel_view(*m))
            .map(|v| LatLon::new(v.lat, v.lon))
    }

    /// The search and rescue region (zone of kind `sar_region`) at `pos`
    /// — one with an RCC configured if several — and its RCC, else the
    /// RCC configured without a region.
    fn region_and_rcc<'a>(
        &self,
        pos: LatLon,
        rccs: &'a [RccConfig],
    ) -> (Option<(String, String)>, Option<&'a RccConfig>) {
        let regions: Vec<(String, String)> = {
            let p = self.picture();
            let zones = p.zones();
            let mut at = Vec::new();
            zones.zones_at(pos.lat, pos.lon, &mut at);
            at.iter()
                .filter_map(|&i| zones.zones().get(i as usize))
                .filter(|z| z.kind == ZoneKind::SarRegion)
                .map(|z| (z.id.to_string(), z.name.clone()))
                .collect()
        };
        let found = regions.iter().find_map(|(zid, name)| {
            rccs.iter()
                .find(|r| r.sar_region.as_deref() == Some(zid.as_str()))
                .map(|r| ((zid.clone(), name.clone()), r))
        });
        match found {
            Some((region, r)) => (Some(region), Some(r)),
            None => (
                regions.into_iter().next(),
                rccs.iter().find(|r| r.sar_region.is_none()),
            ),
        }
    }

    /// Planning actions on an incident as one write, in the order of every
    /// write (check and apply to a copy, commit, then keep): `build` makes
    /// them from the incident as it is under the book's lock.
    fn commit(
        &self,
        id: &str,
        who: &str,
        build: impl FnOnce(&SarBook, &Incident) -> Result<Vec<Action>, ApiError>,
    ) -> Result<Incident, ApiError> {
        let store = self.store()?;
        let now = self.now_ms();
        let recorded = wall_ms();
        let mut book = self.book();
        let inc = book.incidents.get(id).ok_or_else(|| no_incident(id))?;
        let actions = build(&book, inc)?;
        let mut next = inc.clone();
        let mut entries = Vec::new();
        for a in actions {
            entries.extend(next.execute(a, who, now, recorded).map_err(plan_failure)?);
        }
        store.append_incident(&next, &entries).map_err(storage)?;
        book.incidents.insert(id.to_string(), next.clone());
        Ok(next)
    }

    /// Tracks of the drifting AIS-SART/MOB/EPIRB-AIS devices within
    /// [`BEACON_RADIUS_NM`] of `near`.
    fn beacon_tracks(&self, near: LatLon) -> Vec<(u32, Vec<TrackPoint>)> {
        let p = self.picture();
        p.within_radius(near.lat, near.lon, BEACON_RADIUS_NM)
            .into_iter()
            .filter(|(v, _)| {
                matches!(
                    v.class,
                    VesselClass::AisSart | VesselClass::Mob | VesselClass::EpirbAis
                ) || is_drifting_beacon(v.mmsi)
            })
            .map(|(v, _)| {
                let points = v
                    .track
                    .points()
                    .map(|t| TrackPoint::new(t.time_ms, f64::from(t.lat), f64::from(t.lon)))
                    .collect();
                (v.mmsi, points)
            })
            .collect()
    }

    /// An asset's track in the picture up to `until_ms` (none for a unit
    /// without an MMSI or unknown to the picture).
    fn asset_track(&self, mmsi: Option<u32>, until_ms: i64) -> Vec<TrackPoint> {
        let Some(m) = mmsi else {
            return Vec::new();
        };
        let p = self.picture();
        p.vessel(m)
            .map(|v| {
                v.track
                    .points()
                    .filter(|t| t.time_ms <= until_ms)
                    .map(|t| TrackPoint::new(t.time_ms, f64::from(t.lat), f64::from(t.lon)))
                    .collect()
            })
            .unwrap_or_default()
    }
}
