//! Edge role: a mirror of a core's picture, fed from the bus, serving
//! WebSocket and HTTP clients.
//!
//! The edge runs no decoder, picture engine or rules. It subscribes to
//! `lookout.picture.changes`, asks a core for a snapshot
//! (`lookout.snapshot`, parts sent to its inbox, the picture as of the
//! core's `seq`), then applies that core's batches with higher sequence
//! numbers, in order. It resnapshots when a batch is missing (the NATS
//! client drops for a slow subscription rather than slowing the core), when
//! its core falls silent (no heartbeat for [`SILENT`]) or another core run
//! takes over (a core restart). Queries (`/api/vessels`, snapshots for
//! WebSocket clients, `/api/alerts`, nearest, tracks of what the edge has
//! seen) are answered from the mirror; acknowledgements are forwarded to
//! the core (`lookout.ack`); contacts, incidents and zone edits are
//! mirrored and forwarded (`edge_sar`); zones, sources and the rest come
//! from the edge's own state.

use super::edge_sar::SarMirror;
use crate::state::LiveState;
use broadcast::api::ApiError;
use broadcast::hub::Feed;
use broadcast::{BBox, Change, Filter, Hub, PictureApi, VesselView, VesselWire};
use bus::payload::{AckReply, AckRequest, PictureBatch, SarChange, SnapshotPart};
use bus::{subjects, Bus, BusStats};
use futures_util::StreamExt;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// A core not heard for this long is taken for dead: resnapshot from
/// whichever core answers.
pub const SILENT: Duration = Duration::from_secs(3);
/// Track points kept per vessel on an edge.
const TRACK_POINTS: usize = 256;

/// A vessel object as it travels (the engine's [`VesselView`], protocol
/// v1), read back with its wire text (kept, so it is not serialised again).
pub(crate) fn read_vessel(raw: &RawValue) -> Option<Arc<VesselWire>> {
    let view: VesselView = serde_json::from_str(raw.get()).ok()?;
    Some(Arc::new(VesselWire {
        view,
        json: raw.get().into(),
    }))
}

/// One mirrored vessel.
pub(super) struct Mirrored {
    pub(super) wire: Arc<VesselWire>,
    track: VecDeque<(i64, f64, f64)>,
}

/// The mirror of one core's picture.
#[derive(Default)]
pub struct Mirror {
    core: Option<String>,
    seq: u64,
    pub(super) time_ms: Option<i64>,
    pub(super) vessels: HashMap<u32, Mirrored>,
    pub(super) alerts: HashMap<String, Value>,
    last_heard: Option<Instant>,
}

impl Mirror {
    fn upsert(&mut self, w: Arc<VesselWire>) {
        let v = &w.view;
        let point = (v.last_seen, v.lat, v.lon);
        match self.vessels.get_mut(&v.mmsi) {
            Some(m) => {
                if m.track.back().is_none_or(|p| p.0 < point.0) {
                    m.track.push_back(point);
                    if m.track.len() > TRACK_POINTS {
                        m.track.pop_front();
                    }
                }
                m.wire = w;
            }
            None => {
                self.vessels.insert(
                    v.mmsi,
                    Mirrored {
                        track: VecDeque::from([point]),
                        wire: w,
                    },
                );
            }
        }
    }

    fn alert(&mut self, a: Value) {
        if let Some(id) = a["id"].as_str() {
            self.alerts.insert(id.to_string(), a);
        }
    }

    fn wires(&self) -> Vec<Arc<VesselWire>> {
        self.vessels.values().map(|m| m.wire.clone()).collect()
    }
}

/// Publish changes to a hub that may have dropped its picture while no
/// client was connected (then it is given the whole picture again).
pub fn publish_to_hub(hub: &Hub, changes: &[Change], all: impl FnOnce() -> Vec<Arc<VesselWire>>) {
    match hub.feed() {
        Feed::Off => {}
        Feed::Resync => hub.resync(all()),
        Feed::Live => hub.publish(changes),
    }
}

/// The edge's answers to HTTP and WebSocket queries.
pub struct EdgeApi {
    pub(super) bus: Bus,
    pub(super) state: Arc<LiveState>,
    mirror: RwLock<Mirror>,
    /// Contacts and incidents mirrored from the core.
    pub(super) sar: RwLock<SarMirror>,
    /// Forwarded writes: `<request_prefix>-<n>` is unique per write.
    pub(super) request_prefix: String,
    pub(super) requests: std::sync::atomic::AtomicU64,
}

impl EdgeApi {
    pub fn new(bus: Bus, state: Arc<LiveState>) -> Self {
        let start = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        EdgeApi {
            request_prefix: format!("{}-{start}", bus.node),
            bus,
            state,
            mirror: RwLock::new(Mirror::default()),
            sar: RwLock::new(SarMirror::default()),
            requests: std::sync::atomic::AtomicU64::new(0),
        }
    }

    pub(super) fn read(&self) -> std::sync::RwLockReadGuard<'_, Mirror> {
        self.mirror.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Mirror> {
        self.mirror.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Ask the cores for a snapshot and load the first complete one.
    async fn snapshot(&self, hub: &Hub) -> Result<(), String> {
        let client = &self.bus.client;
        let inbox = client.new_inbox();
        let mut sub = client
            .subscribe(inbox.clone())
            .await
            .map_err(|e| e.to_string())?;
        client
            .publish_with_reply(subjects::SNAPSHOT, inbox, "{}".into())
            .await
            .map_err(|e| e.to_string())?;
        let mut core: Option<String> = None;
        let mut next_part = 0u32;
        let mut fresh = Mirror::default();
        // No answer within 2 s: no core is up (ask again soon); once one
        // answers, the parts have 10 s.
        let mut deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        loop {
            let msg = tokio::time::timeout_at(deadline, sub.next())
                .await
                .map_err(|_| "no core answered the snapshot request".to_string())?
                .ok_or("snapshot subscription closed")?;
            let part: SnapshotPart<Box<RawValue>> = match serde_json::from_slice(&msg.payload) {
                Ok(p) => p,
                Err(e) => {
                    tracing::debug!("edge: bad snapshot part: {e}");
                    BusStats::add(&self.bus.stats.bad_messages, 1);
                    continue;
                }
            };
            // Several cores may answer: keep the first one's parts.
            if core.get_or_insert_with(|| part.core.clone()) != &part.core {
                continue;
            }
            if part.part != next_part {
                return Err("snapshot parts out of order".into());
            }
            if next_part == 0 {
                deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            }
            next_part += 1;
            fresh.seq = part.seq;
            fresh.time_ms = part.time_ms;
            for v in &part.vessels {
                if let Some(w) = read_vessel(v) {
                    fresh.upsert(w);
                }
            }
            for a in part.alerts {
                fresh.alert(a);
            }
            if part.last {
                break;
            }
        }
        fresh.core = core;
        fresh.last_heard = Some(Instant::now());
        // Clients: what left, what is new or changed, alerts they lack.
        let (changes, new_alerts, all) = {
            let mut m = self.write();
            let mut changes: Vec<Change> = m
                .vessels
                .keys()
                .filter(|k| !fresh.vessels.contains_key(k))
                .map(|&k| Change::Remove(k))
                .collect();
            changes.extend(
                fresh
                    .vessels
                    .values()
                    .filter(|f| {
                        m.vessels
                            .get(&f.wire.view.mmsi)
                            .is_none_or(|old| old.wire.json != f.wire.json)
                    })
                    .map(|f| Change::Upsert(f.wire.clone())),
            );
            let new_alerts: Vec<Value> = fresh
                .alerts
                .iter()
                .filter(|(id, a)| m.alerts.get(*id) != Some(a))
                .map(|(_, a)| a.clone())
                .collect();
            *m = fresh;
            (changes, new_alerts, m.wires())
        };
        publish_to_hub(hub, &changes, || all);
        for a in new_alerts {
            hub.publish_alert(a.to_string().into());
        }
        BusStats::add(&self.bus.stats.snapshots_loaded, 1);
        {
            let m = self.read();
            tracing::info!(core = ?m.core, seq = m.seq, vessels = m.vessels.len(), "edge: snapshot loaded");
        }
        // Contacts, incidents and zones with every picture snapshot (a
        // start, a gap, another core run).
        self.sar_snapshot(hub).await
    }

    /// Apply a batch; false when it does not follow (a snapshot is needed).
    fn apply(&self, hub: &Hub, b: PictureBatch<Box<RawValue>>) -> bool {
        let mut m = self.write();
        if m.core.as_deref() != Some(&b.core) {
            // Another core (or an earlier run): ours must have been silent
            // for a while before we switch.
            return m.last_heard.is_some_and(|t| t.elapsed() < SILENT / 2);
        }
        m.last_heard = Some(Instant::now());
        if b.seq <= m.seq {
            // A heartbeat, or already in the snapshot.
            return true;
        }
        if b.seq != m.seq + 1 {
            BusStats::add(&self.bus.stats.gaps, 1);
            return false;
        }
        m.seq = b.seq;
        m.time_ms = b.time_ms;
        let mut changes = Vec::with_capacity(b.upserts.len() + b.removed.len());
        for mmsi in b.removed {
            m.vessels.remove(&mmsi);
            changes.push(Change::Remove(mmsi));
        }
        for v in &b.upserts {
            match read_vessel(v) {
                Some(w) => {
                    m.upsert(w.clone());
                    changes.push(Change::Upsert(w));
                }
                None => BusStats::add(&self.bus.stats.bad_messages, 1),
            }
        }
        for a in &b.alerts {
            m.alert(a.clone());
        }
        let all = || m.wires();
        publish_to_hub(hub, &changes, all);
        drop(m);
        for a in b.alerts {
            hub.publish_alert(a.to_string().into());
        }
        BusStats::add(&self.bus.stats.picture_batches, 1);
        true
    }

    /// Clients came after a time without any: the hub needs the picture.
    fn refresh_hub(&self, hub: &Hub) {
        publish_to_hub(hub, &[], || self.read().wires());
    }

    fn silent(&self) -> bool {
        self.read().last_heard.is_none_or(|t| t.elapsed() > SILENT)
    }
}

/// Follow the cores until `stop`.
pub async fn run(api: Arc<EdgeApi>, hub: Arc<Hub>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut sub = loop {
        match api.bus.client.subscribe(subjects::PICTURE_CHANGES).await {
            Ok(s) => break s,
            Err(e) => {
                tracing::warn!("edge: subscribe: {e}; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    let mut sar_changes = loop {
        match api.bus.client.subscribe(subjects::SAR_CHANGES).await {
            Ok(s) => break s,
            Err(e) => {
                tracing::warn!("edge: subscribe: {e}; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    let mut need_snapshot = true;
    let mut check = tokio::time::interval(Duration::from_millis(200));
    loop {
        if need_snapshot {
            match api.snapshot(&hub).await {
                Ok(()) => need_snapshot = false,
                Err(e) => {
                    tracing::warn!("edge: {e}; asking again");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = stop.changed() => return,
                    }
                    continue;
                }
            }
        }
        tokio::select! {
            msg = sub.next() => {
                let Some(msg) = msg else { return };
                match serde_json::from_slice::<PictureBatch<Box<RawValue>>>(&msg.payload) {
                    Ok(b) => need_snapshot = !api.apply(&hub, b),
                    Err(e) => {
                        tracing::debug!("edge: bad picture batch: {e}");
                        BusStats::add(&api.bus.stats.bad_messages, 1)
                    }
                }
            }
            msg = sar_changes.next() => {
                let Some(msg) = msg else { return };
                match serde_json::from_slice::<SarChange>(&msg.payload) {
                    Ok(c) => need_snapshot |= !api.apply_sar(&hub, c),
                    Err(e) => {
                        tracing::debug!("edge: bad SAR change: {e}");
                        BusStats::add(&api.bus.stats.bad_messages, 1)
                    }
                }
            }
            _ = check.tick() => {
                need_snapshot = api.silent();
                api.refresh_hub(&hub);
            }
            _ = stop.changed() => return,
        }
    }
}

fn rfc3339_ms(s: &str) -> Option<i64> {
    humantime::parse_rfc3339(s)
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_millis() as i64)
}

impl PictureApi for EdgeApi {
    fn vessels_in(&self, bboxes: &[BBox], filter: &Filter) -> Vec<Arc<VesselWire>> {
        let m = self.read();
        let mut out: Vec<Arc<VesselWire>> = m
            .vessels
            .values()
            .filter(|v| {
                let w = &v.wire.view;
                bboxes.iter().any(|b| b.contains(w.lon, w.lat)) && filter.matches(w)
            })
            .map(|v| v.wire.clone())
            .collect();
        out.sort_by_key(|w| w.view.mmsi);
        out
    }

    fn vessel(&self, mmsi: u32) -> Option<Value> {
        let m = self.read();
        let v = m.vessels.get(&mmsi)?;
        let mut value: Value = serde_json::from_str(&v.wire.json).ok()?;
        value["mirrored_from"] = json!(m.core);
        Some(value)
    }

    fn track(&self, mmsi: u32, from_ms: Option<i64>, to_ms: Option<i64>) -> Option<Value> {
        let m = self.read();
        let v = m.vessels.get(&mmsi)?;
        let pts: Vec<_> = v
            .track
            .iter()
            .filter(|p| from_ms.is_none_or(|f| p.0 >= f) && to_ms.is_none_or(|t| p.0 < t))
            .collect();
        Some(json!({
            "type": "Feature",
            "id": mmsi,
            "geometry": {"type": "LineString", "coordinates": pts.iter().map(|p| [p.2, p.1]).collect::<Vec<_>>()},
            "properties": {
                "mmsi": mmsi,
                "times": pts.iter().map(|p| broadcast::view::format_time(p.0)).collect::<Vec<_>>(),
            },
        }))
    }

    /// The single process's answer ([`engine::views::nearest_entry`]) over
    /// the mirrored views.
    fn nearest(
        &self,
        lat: f64,
        lon: f64,
        k: usize,
        q: &broadcast::view::NearestQuery,
    ) -> Vec<Value> {
        let m = self.read();
        let mut all: Vec<(f64, &VesselView)> = m
            .vessels
            .values()
            .filter(|v| q.admits(&v.wire.view))
            .map(|v| {
                let w = &v.wire.view;
                (engine::views::distance_nm(lat, lon, w.lat, w.lon), w)
            })
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.mmsi.cmp(&b.1.mmsi)));
        all.into_iter()
            .take(k)
            .map(|(d, v)| engine::views::nearest_entry(v, lat, lon, d))
            .collect()
    }

    /// The single process's search over the mirrored views.
    fn search(&self, text: &str, limit: usize) -> Vec<Arc<VesselWire>> {
        let m = self.read();
        let mut s = engine::views::Search::new(text, limit);
        let mut wires: std::collections::HashMap<u32, Arc<VesselWire>> = Default::default();
        for v in m.vessels.values() {
            let w = &v.wire.view;
            s.offer(w.mmsi, w.name.as_deref(), w.callsign.as_deref(), || {
                wires.insert(w.mmsi, v.wire.clone());
                Some(w.clone())
            });
        }
        s.finish()
            .into_iter()
            .filter_map(|v| wires.remove(&v.mmsi))
            .collect()
    }

    fn zones(&self) -> Value {
        self.state.zones()
    }

    fn put_zone(&self, id: &str, feature: Value) -> Result<(), ApiError> {
        self.forward_put_zone(id, feature)
    }

    fn delete_zone(&self, id: &str) -> Result<bool, ApiError> {
        self.forward_delete_zone(id)
    }

    fn sources(&self) -> Value {
        self.state.sources()
    }

    fn alerts(&self, state: Option<&str>, since_ms: Option<i64>) -> Value {
        let m = self.read();
        let mut list: Vec<&Value> = m
            .alerts
            .values()
            .filter(|a| state.is_none_or(|s| a["state"] == s))
            .filter(|a| {
                since_ms.is_none_or(|t| a["time"].as_str().and_then(rfc3339_ms).unwrap_or(0) >= t)
            })
            .collect();
        list.sort_by(|a, b| {
            let ta = a["time"].as_str().and_then(rfc3339_ms);
            let tb = b["time"].as_str().and_then(rfc3339_ms);
            tb.cmp(&ta)
                .then_with(|| b["id"].as_str().cmp(&a["id"].as_str()))
        });
        json!(list)
    }

    fn acknowledge(
        &self,
        alert_id: &str,
        who: &str,
        note: Option<&str>,
    ) -> Result<Value, ApiError> {
        let body = serde_json::to_vec(&AckRequest {
            id: alert_id.into(),
            who: who.into(),
            note: note.map(str::to_string),
        })
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let client = self.bus.client.clone();
        // The HTTP layer calls this synchronously; the answer comes over
        // the bus, so wait for it on this worker thread.
        let answer = tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(async move {
                tokio::time::timeout(
                    Duration::from_secs(5),
                    client.request(subjects::ACK, body.into()),
                )
                .await
            })
        })
        .map_err(|_| ApiError::unavailable("the core did not answer the acknowledgement"))?
        .map_err(|e| ApiError::unavailable(format!("the core is unreachable: {e}")))?;
        match serde_json::from_slice::<AckReply>(&answer.payload) {
            Ok(AckReply::Ok(v)) => {
                self.write().alert(v.clone());
                Ok(v)
            }
            Ok(AckReply::Error(e)) => Err(ApiError::not_found(e)),
            Err(e) => Err(ApiError::unavailable(format!(
                "bad answer from the core: {e}"
            ))),
        }
    }

    fn status(&self) -> Value {
        let m = self.read();
        json!({
            "mode": "edge",
            "role": "edge",
            "node": self.bus.node,
            "core": m.core,
            "seq": m.seq,
            "time": m.time_ms.map(broadcast::view::format_time),
            "time_ms": m.time_ms,
            "vessels": m.vessels.len(),
            "alerts": m.alerts.len(),
            "bus": self.bus.stats.to_json(),
        })
    }

    fn metrics(&self, reg: &mut prometheus_client::registry::Registry) {
        use prometheus_client::metrics::gauge::ConstGauge;
        reg.register(
            "vessels",
            "Vessels in the mirrored picture",
            ConstGauge::new(self.read().vessels.len() as i64),
        );
        super::register_bus_metrics(reg, &self.bus.stats, super::cluster_bus_name);
    }

    fn history(
        &self,
        lat: f64,
        lon: f64,
        radius_nm: f64,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Value, broadcast::api::ApiError> {
        self.state.history(lat, lon, radius_nm, from_ms, to_ms)
    }

    fn sar(&self) -> Option<&dyn broadcast::api::SarApi> {
        Some(self)
    }
}
