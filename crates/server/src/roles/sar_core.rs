//! The core's side of contacts, incidents and zone edits in a cluster.
//!
//! Edges do not keep their own SAR state: every write an operator makes at
//! an edge is forwarded to the core (`lookout.sar.write`, request/reply),
//! applied here through the same [`SarApi`] and [`PictureApi`] code as the
//! single process (validation, the state database, the book), and answered
//! only once it is stored. Every change the core makes — forwarded or made
//! by the core's own HTTP clients — goes out on `lookout.sar.changes`
//! ([`ChangeOut`], numbered per core run), and `lookout.sar.snapshot`
//! answers an edge that starts or lost track. Subjects and guarantees are in
//! `docs/scaling.md`.

use crate::state::LiveState;
use broadcast::api::{ApiError, SarApi};
use broadcast::sar_channel::SarKind;
use broadcast::{Hub, PictureApi};
use bus::payload::{
    SarChange, SarItem, SarOp, SarSnapshot, SarWrite, SarWriteReply, SAR_SNAPSHOT_PART_BYTES,
};
use bus::{subjects, Bus, BusStats};
use futures_util::StreamExt;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Changes waiting for the bus; beyond this one is dropped (counted in
/// `bus_sar_changes_dropped`) and the edges' gap detection resnapshots.
const CHANGE_BUFFER: usize = 4096;
/// Answers kept for repeated requests (an edge's retry comes within seconds).
const DEDUPE_KEEP: usize = 10_000;
/// Answers kept in the state database, so a retry after a core restart is
/// answered too: the newest [`DEDUPE_KEEP`], at most this old.
const DEDUPE_KEEP_MS: i64 = 24 * 3600 * 1000;

/// Publishes the core's SAR and zone changes in order, numbered.
pub struct ChangeOut {
    core: String,
    seq: Mutex<u64>,
    tx: tokio::sync::mpsc::Sender<Vec<u8>>,
    stats: Arc<BusStats>,
}

impl ChangeOut {
    /// Start the publishing task on the current runtime.
    pub fn start(bus: &Bus, node: &str) -> Arc<ChangeOut> {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(CHANGE_BUFFER);
        let client = bus.client.clone();
        tokio::spawn(async move {
            while let Some(body) = rx.recv().await {
                if let Err(e) = client.publish(subjects::SAR_CHANGES, body.into()).await {
                    tracing::warn!("core: SAR change not published: {e}");
                }
            }
        });
        let start = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        Arc::new(ChangeOut {
            core: format!("{node}-sar-{start}"),
            seq: Mutex::new(0),
            tx,
            stats: bus.stats.clone(),
        })
    }

    /// The last change number given out (read before the state for a
    /// snapshot, so a change made meanwhile is applied again, harmlessly).
    pub fn seq(&self) -> u64 {
        *self.seq.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Number and queue one change (never blocks: a full buffer drops it,
    /// and the edges' gap detection resnapshots).
    pub fn send(&self, item: SarItem) {
        let mut seq = self.seq.lock().unwrap_or_else(|e| e.into_inner());
        *seq += 1;
        let change = SarChange {
            core: self.core.clone(),
            seq: *seq,
            item,
        };
        let Ok(body) = serde_json::to_vec(&change) else {
            return;
        };
        if self.tx.try_send(body).is_ok() {
            BusStats::add(&self.stats.sar_changes, 1);
        } else {
            BusStats::add(&self.stats.sar_changes_dropped, 1);
            tracing::warn!("core: SAR change buffer full; edges will resnapshot");
        }
    }
}

/// The core's [`SarApi`]: the state's own, plus each successful write
/// published on the bus.
pub struct PublishingSar<'a> {
    pub inner: &'a dyn SarApi,
    pub out: &'a ChangeOut,
}

impl PublishingSar<'_> {
    fn contact(&self, r: Result<Value, ApiError>) -> Result<Value, ApiError> {
        if let Ok(v) = &r {
            self.out.send(SarItem::Contact { value: v.clone() });
        }
        r
    }
    fn incident(&self, r: Result<Value, ApiError>) -> Result<Value, ApiError> {
        if let Ok(v) = &r {
            self.out.send(SarItem::Incident { value: v.clone() });
        }
        r
    }
}

impl SarApi for PublishingSar<'_> {
    fn contacts(&self, status: Option<&str>) -> Result<Value, ApiError> {
        self.inner.contacts(status)
    }
    fn contact(&self, id: &str) -> Option<Value> {
        self.inner.contact(id)
    }
    fn create_contact(&self, who: &str, body: Value) -> Result<Value, ApiError> {
        self.contact(self.inner.create_contact(who, body))
    }
    fn update_contact(&self, id: &str, who: &str, body: Value) -> Result<Value, ApiError> {
        self.contact(self.inner.update_contact(id, who, body))
    }
    fn add_sighting(&self, id: &str, who: &str, body: Value) -> Result<Value, ApiError> {
        self.contact(self.inner.add_sighting(id, who, body))
    }
    fn incidents(&self, status: Option<&str>) -> Result<Value, ApiError> {
        self.inner.incidents(status)
    }
    fn incident(&self, id: &str) -> Option<Value> {
        self.inner.incident(id)
    }
    fn create_incident(&self, who: &str, body: Value) -> Result<Value, ApiError> {
        self.incident(self.inner.create_incident(who, body))
    }
    fn incident_action(&self, id: &str, who: &str, body: Value) -> Result<Value, ApiError> {
        self.incident(self.inner.incident_action(id, who, body))
    }
    fn contact_intercepts(&self, id: &str, k: usize) -> Result<Value, ApiError> {
        self.inner.contact_intercepts(id, k)
    }
    fn incident_intercepts(&self, id: &str, k: usize) -> Result<Value, ApiError> {
        self.inner.incident_intercepts(id, k)
    }
}

/// Apply one forwarded write through `api` (the core's published API, so
/// the change goes on the bus like any other) and tell the core's own
/// WebSocket clients.
fn apply(api: &dyn PictureApi, hub: &Hub, w: SarWrite) -> SarWriteReply {
    let who = w.who.as_str();
    let sar = || {
        api.sar()
            .ok_or_else(|| ApiError::new(503, "the core keeps no contacts or incidents"))
    };
    let result: Result<(Option<SarKind>, Value), ApiError> = match w.op {
        SarOp::CreateContact { body } => sar()
            .and_then(|s| s.create_contact(who, body))
            .map(|v| (Some(SarKind::Contact), v)),
        SarOp::UpdateContact { id, body } => sar()
            .and_then(|s| s.update_contact(&id, who, body))
            .map(|v| (Some(SarKind::Contact), v)),
        SarOp::AddSighting { id, body } => sar()
            .and_then(|s| s.add_sighting(&id, who, body))
            .map(|v| (Some(SarKind::Contact), v)),
        SarOp::CreateIncident { body } => sar()
            .and_then(|s| s.create_incident(who, body))
            .map(|v| (Some(SarKind::Incident), v)),
        SarOp::IncidentAction { id, body } => sar()
            .and_then(|s| s.incident_action(&id, who, body))
            .map(|v| (Some(SarKind::Incident), v)),
        SarOp::PutZone { id, feature } => api
            .put_zone(&id, feature)
            .map(|()| (None, serde_json::json!({"id": id, "status": "saved"}))),
        SarOp::DeleteZone { id } => match api.delete_zone(&id) {
            Ok(true) => Ok((None, serde_json::json!({"id": id, "status": "deleted"}))),
            Ok(false) => Err(ApiError::new(404, format!("no zone {id:?}"))),
            Err(e) => Err(e),
        },
    };
    match result {
        Ok((Some(kind), v)) => {
            hub.publish_sar(kind, v.to_string().into());
            SarWriteReply::Ok(v)
        }
        Ok((None, v)) => {
            hub.zones_changed();
            SarWriteReply::Ok(v)
        }
        Err(f) => SarWriteReply::Error {
            status: f.status,
            message: f.message,
        },
    }
}

/// Apply a forwarded write once: a request id the state database already
/// has an answer for (a retry, possibly across a core restart) gets that
/// answer and is not applied again; otherwise the write is applied and its
/// answer kept (before the edge is answered). Returns the answer and
/// whether it was a repeat.
fn apply_once(
    api: &dyn PictureApi,
    hub: &Hub,
    db: Option<&store::Store>,
    w: SarWrite,
) -> (Vec<u8>, bool) {
    if let Some(db) = db {
        match db.sar_answer(&w.request) {
            Ok(Some(answer)) => return (answer, true),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(request = %w.request, error = %e, "core: SAR answers not readable")
            }
        }
    }
    let request = w.request.clone();
    let body = serde_json::to_vec(&apply(api, hub, w)).unwrap_or_default();
    if let Some(db) = db {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        if let Err(e) = db.remember_sar_answer(&request, &body, now, DEDUPE_KEEP_MS, DEDUPE_KEEP) {
            tracing::warn!(request = %request, error = %e, "core: SAR answer not kept (a retry after a restart would apply it again)");
        }
    }
    (body, false)
}

/// Answers already given, by request id (bounded, oldest forgotten).
#[derive(Default)]
struct Answered {
    replies: HashMap<String, Vec<u8>>,
    order: VecDeque<String>,
}

impl Answered {
    fn keep(&mut self, id: String, reply: Vec<u8>) {
        if self.replies.len() >= DEDUPE_KEEP {
            if let Some(old) = self.order.pop_front() {
                self.replies.remove(&old);
            }
        }
        self.order.push_back(id.clone());
        self.replies.insert(id, reply);
    }
}

/// The core's contacts, incidents and API zones, numbered, in parts of
/// about [`SAR_SNAPSHOT_PART_BYTES`] (serialised).
fn snapshot(api: &dyn PictureApi, state: &LiveState, out: &ChangeOut) -> Vec<Vec<u8>> {
    // The number first, then the state: a change made in between is in
    // the state and is applied again (harmlessly) by the edge.
    let seq = out.seq();
    let list = |v: Option<Value>| match v {
        Some(Value::Array(a)) => a,
        _ => Vec::new(),
    };
    let (contacts, incidents) = match api.sar() {
        Some(s) => (list(s.contacts(None).ok()), list(s.incidents(None).ok())),
        None => (Vec::new(), Vec::new()),
    };
    let zones = state
        .api_zones
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    split(&out.core, seq, contacts, incidents, zones)
        .iter()
        .map(|p| serde_json::to_vec(p).unwrap_or_default())
        .collect()
}

/// Cut a snapshot into parts of about [`SAR_SNAPSHOT_PART_BYTES`]; the last
/// has `last` set.
fn split(
    core: &str,
    seq: u64,
    contacts: Vec<Value>,
    incidents: Vec<Value>,
    zones: Vec<Value>,
) -> Vec<SarSnapshot> {
    let empty = |part: u32| SarSnapshot {
        core: core.to_string(),
        seq,
        part,
        last: false,
        contacts: Vec::new(),
        incidents: Vec::new(),
        zones: Vec::new(),
    };
    let mut parts = vec![empty(0)];
    let mut bytes = 0;
    let items = contacts
        .into_iter()
        .map(|v| (0, v))
        .chain(incidents.into_iter().map(|v| (1, v)))
        .chain(zones.into_iter().map(|v| (2, v)));
    for (kind, v) in items {
        let size = v.to_string().len();
        if bytes > 0 && bytes + size > SAR_SNAPSHOT_PART_BYTES {
            parts.push(empty(parts.len() as u32));
            bytes = 0;
        }
        bytes += size;
        let p = parts.last_mut().expect("one part at least");
        match kind {
            0 => p.contacts.push(v),
            1 => p.incidents.push(v),
            _ => p.zones.push(v),
        }
    }
    if let Some(p) = parts.last_mut() {
        p.last = true;
    }
    parts
}

/// Answer forwarded writes and snapshot requests until `stop`. Writes are
/// applied one at a time, in arrival order (they come at human pace), off
/// the async workers (they wait for SQLite).
pub async fn serve(
    bus: Bus,
    api: Arc<dyn PictureApi>,
    state: Arc<LiveState>,
    hub: Arc<Hub>,
    out: Arc<ChangeOut>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let subscribe = |subject: &'static str| {
        let client = bus.client.clone();
        async move {
            loop {
                match client.subscribe(subject).await {
                    Ok(s) => break s,
                    Err(e) => {
                        tracing::warn!("core: subscribe {subject}: {e}; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        }
    };
    let mut writes = subscribe(subjects::SAR_WRITE).await;
    let mut snaps = subscribe(subjects::SAR_SNAPSHOT).await;
    let answered = Arc::new(Mutex::new(Answered::default()));
    loop {
        tokio::select! {
            msg = writes.next() => {
                let Some(msg) = msg else { return };
                let Some(reply_to) = msg.reply.clone() else { continue };
                let reply = match serde_json::from_slice::<SarWrite>(&msg.payload) {
                    Err(e) => serde_json::to_vec(&SarWriteReply::Error {
                        status: 400,
                        message: format!("bad forwarded write: {e}"),
                    })
                    .unwrap_or_default(),
                    Ok(w) => {
                        let known = answered
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .replies
                            .get(&w.request)
                            .cloned();
                        match known {
                            Some(r) => {
                                BusStats::add(&bus.stats.sar_writes_repeated, 1);
                                tracing::info!(request = %w.request, "core: repeated SAR write answered again, not applied");
                                r
                            }
                            None => {
                                let (api, hub, db) = (api.clone(), hub.clone(), state.store.clone());
                                let request = w.request.clone();
                                let (body, repeated) = tokio::task::spawn_blocking(move || apply_once(&*api, &hub, db.as_deref(), w))
                                    .await
                                    .unwrap_or_else(|e| (serde_json::to_vec(&SarWriteReply::Error {
                                        status: 500,
                                        message: format!("the core failed: {e}"),
                                    }).unwrap_or_default(), false));
                                if repeated {
                                    BusStats::add(&bus.stats.sar_writes_repeated, 1);
                                    tracing::info!(request = %request, "core: SAR write repeated after a restart answered again from the state database, not applied");
                                } else {
                                    BusStats::add(&bus.stats.sar_writes, 1);
                                }
                                answered
                                    .lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .keep(request, body.clone());
                                body
                            }
                        }
                    }
                };
                if let Err(e) = bus.client.publish(reply_to, reply.into()).await {
                    tracing::warn!("core: SAR write answer not sent: {e}");
                }
            }
            msg = snaps.next() => {
                let Some(msg) = msg else { return };
                let Some(reply_to) = msg.reply.clone() else { continue };
                let (api, state, out) = (api.clone(), state.clone(), out.clone());
                let parts = tokio::task::spawn_blocking(move || snapshot(&*api, &state, &out))
                    .await
                    .unwrap_or_default();
                for body in parts {
                    if let Err(e) = bus.client.publish(reply_to.clone(), body.into()).await {
                        tracing::warn!("core: SAR snapshot part not sent: {e}");
                        break;
                    }
                }
            }
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn snapshots_are_cut_into_parts_that_keep_everything() {
        let long = "x".repeat(1000);
        let contacts: Vec<Value> = (0..700)
            .map(|i| json!({"id": format!("c-{i:06}"), "description": long}))
            .collect();
        let incidents = vec![json!({"id": "i-000001"})];
        let zones = vec![json!({"type": "Feature", "properties": {"id": "z"}})];
        let parts = split("core-1", 9, contacts, incidents, zones);
        assert!(parts.len() >= 3, "{} parts", parts.len());
        for (i, p) in parts.iter().enumerate() {
            assert_eq!(p.part as usize, i);
            assert_eq!(p.last, i == parts.len() - 1);
            assert_eq!(p.seq, 9);
            assert!(serde_json::to_vec(p).unwrap().len() < SAR_SNAPSHOT_PART_BYTES + 2048);
        }
        let n: usize = parts.iter().map(|p| p.contacts.len()).sum();
        assert_eq!(n, 700);
        assert_eq!(parts.iter().map(|p| p.incidents.len()).sum::<usize>(), 1);
        assert_eq!(parts.iter().map(|p| p.zones.len()).sum::<usize>(), 1);
        // Nothing at all is still one (last) part.
        let empty = split("core-1", 0, vec![], vec![], vec![]);
        assert_eq!(empty.len(), 1);
        assert!(empty[0].last);
    }
}
