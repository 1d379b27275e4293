//! Sharing between organisations (issue #9): selected parts of this
//! picture out to partners, theirs in, over NATS leaf-node connections.
//!
//! ```text
//! this picture ─[[share.export]] rules, private assets removed─▶ share.<org>.picture / .alerts
//! share.<partner>.picture ─[[share.accept]]─▶ shared table ─▶ /api/vessels, WebSocket (origin, shared)
//! ```
//!
//! What may cross at all is decided by the NATS servers (leaf-node
//! connection and subject permissions, see docs/scaling.md); Lookout
//! decides what it puts on its own subject and what it takes. Every second
//! the exporter sends the vessels that changed (and those gone); every
//! tenth second everything, so a partner that (re)connects catches up.
//! Received vessels keep their `origin`, are marked `"shared": true`, and
//! are merged with the local picture by MMSI: a vessel this organisation
//! sees itself is shown from its own picture. A shared vessel not refreshed
//! for [`SHARED_TTL`] is dropped, so revoking a partner (closing the leaf
//! connection or removing its permission) also clears what it had sent.

use crate::roles::edge::{publish_to_hub, read_vessel};
use broadcast::api::ApiError;
use broadcast::{BBox, Change, Filter, Hub, PictureApi, VesselWire};
use bus::payload::SharedBatch;
use bus::{subjects, Bus, BusConfig, BusStats, ShareConfig};
use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// A shared vessel not heard again for this long is dropped.
pub const SHARED_TTL: Duration = Duration::from_secs(30);
const PART_BYTES: usize = 256 * 1024;

struct Shared {
    wire: Arc<VesselWire>,
    heard: Instant,
}

/// Which counters of the sharing connection go to `/metrics`, and as
/// what: the sharing counters under their names, the connection's own
/// state as `share_…` (a cluster node has `bus_…` for its cluster bus).
pub(crate) fn share_metric_name(name: &'static str) -> Option<String> {
    match name {
        "bus_shared_in" | "bus_shared_out" | "bus_shared_refused" => Some(name.to_string()),
        "bus_connected" | "bus_reconnects" | "bus_disconnects" | "bus_slow_consumer"
        | "bus_bad_messages" => Some(name.replacen("bus_", "share_", 1)),
        _ => None,
    }
}

/// The server's answers with partners' vessels merged in.
pub struct SharedApi {
    inner: Arc<dyn PictureApi>,
    cfg: ShareConfig,
    bus: Bus,
    vessels: RwLock<HashMap<u32, Shared>>,
    alerts: RwLock<HashMap<String, Value>>,
}

/// Connect to this organisation's NATS server and start exporting and
/// importing; returns the API to serve.
pub async fn start(
    cfg: &ShareConfig,
    inner: Arc<dyn PictureApi>,
    hub: Arc<Hub>,
) -> Result<Arc<SharedApi>, String> {
    let bus_cfg = BusConfig {
        url: cfg.url.clone(),
        node: cfg.org.clone(),
        user: cfg.user.clone(),
        password: cfg.password.clone(),
        ..Default::default()
    };
    let bus = Bus::connect(&bus_cfg, Duration::from_secs(30)).await?;
    let api = Arc::new(SharedApi {
        inner,
        cfg: cfg.clone(),
        bus,
        vessels: RwLock::new(HashMap::new()),
        alerts: RwLock::new(HashMap::new()),
    });
    if !cfg.export.is_empty() {
        tokio::spawn(export(api.clone()));
    }
    for rule in &cfg.accept {
        let sub = api
            .bus
            .client
            .subscribe(subjects::share_picture(&rule.from))
            .await
            .map_err(|e| format!("share: {e}"))?;
        tokio::spawn(import(api.clone(), hub.clone(), rule.from.clone(), sub));
    }
    tracing::info!(org = %cfg.org, exports = cfg.export.len(), partners = cfg.accept.len(), "sharing with partners");
    Ok(api)
}

async fn export(api: Arc<SharedApi>) {
    let subject = subjects::share_picture(&api.cfg.org);
    let mut sent: HashMap<u32, Box<str>> = HashMap::new();
    let mut sent_alerts: BTreeSet<String> = BTreeSet::new();
    let mut every = tokio::time::interval(Duration::from_secs(1));
    for tick in 0u64.. {
        every.tick().await;
        let full = tick % 10 == 0;
        let local = api.inner.vessels_in(&[BBox::WORLD], &Filter::default());
        let mut now: HashMap<u32, Arc<VesselWire>> = HashMap::new();
        for w in local {
            let v = &w.view;
            if api
                .cfg
                .exports(v.mmsi, &v.class, v.name.as_deref(), &v.zones)
            {
                now.insert(v.mmsi, w);
            }
        }
        let removed: Vec<u32> = sent
            .keys()
            .filter(|m| !now.contains_key(m))
            .copied()
            .collect();
        let changed: Vec<&Arc<VesselWire>> = now
            .values()
            .filter(|w| full || sent.get(&w.view.mmsi).is_none_or(|j| **j != *w.json))
            .collect();
        let alerts: Vec<Value> = api
            .inner
            .alerts(None, None)
            .as_array()
            .map(|l| {
                l.iter()
                    .filter(|a| api.cfg.exports_alert(a["kind"].as_str().unwrap_or("")))
                    .filter(|a| full || !sent_alerts.contains(&alert_key(a)))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        let mut batches = vec![SharedBatch::<Box<RawValue>> {
            origin: api.cfg.org.clone(),
            vessels: Vec::new(),
            removed,
            alerts,
        }];
        let mut bytes = 0usize;
        for w in &changed {
            if bytes + w.json.len() > PART_BYTES {
                batches.push(SharedBatch {
                    origin: api.cfg.org.clone(),
                    vessels: Vec::new(),
                    removed: Vec::new(),
                    alerts: Vec::new(),
                });
                bytes = 0;
            }
            bytes += w.json.len() + 1;
            if let (Some(b), Ok(raw)) = (
                batches.last_mut(),
                RawValue::from_string(w.json.to_string()),
            ) {
                b.vessels.push(raw);
            }
        }
        for b in &batches {
            if b.vessels.is_empty() && b.removed.is_empty() && b.alerts.is_empty() {
                continue;
            }
            BusStats::add(&api.bus.stats.shared_out, b.vessels.len() as u64);
            if let Ok(body) = serde_json::to_vec(b) {
                let _ = api
                    .bus
                    .client
                    .publish(subject.clone(), Bytes::from(body))
                    .await;
            }
            for a in &b.alerts {
                sent_alerts.insert(alert_key(a));
            }
        }
        sent = now.into_iter().map(|(m, w)| (m, w.json.clone())).collect();
    }
}

fn alert_key(a: &Value) -> String {
    format!("{} {} {}", a["id"], a["state"], a["time"])
}

async fn import(api: Arc<SharedApi>, hub: Arc<Hub>, from: String, mut sub: async_nats::Subscriber) {
    let mut expire = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            msg = sub.next() => {
                let Some(msg) = msg else { return };
                api.receive(&hub, &from, &msg.payload);
            }
            _ = expire.tick() => api.expire(&hub),
        }
    }
}

impl SharedApi {
    fn receive(&self, hub: &Hub, from: &str, payload: &[u8]) {
        let Ok(batch) = serde_json::from_slice::<SharedBatch<Value>>(payload) else {
            BusStats::add(&self.bus.stats.bad_messages, 1);
            return;
        };
        // The subject names the partner; a payload claiming another origin
        // is refused (as is anything from a partner no longer accepted).
        let Some(rule) = self.cfg.accepts(from).filter(|_| batch.origin == from) else {
            BusStats::add(&self.bus.stats.shared_refused, batch.vessels.len() as u64);
            return;
        };
        let local: BTreeSet<u32> = self
            .inner
            .vessels_in(&[BBox::WORLD], &Filter::default())
            .iter()
            .map(|w| w.view.mmsi)
            .collect();
        let mut changes = Vec::new();
        {
            let mut shared = self.vessels.write().unwrap_or_else(|e| e.into_inner());
            for mmsi in batch.removed {
                if shared.remove(&mmsi).is_some() && !local.contains(&mmsi) {
                    changes.push(Change::Remove(mmsi));
                }
            }
            for mut v in batch.vessels {
                let class = v["class"].as_str().unwrap_or("").to_string();
                if !rule.classes.is_empty() && !rule.classes.contains(&class) {
                    BusStats::add(&self.bus.stats.shared_refused, 1);
                    continue;
                }
                v["origin"] = json!(from);
                v["shared"] = json!(true);
                let Some(w) = RawValue::from_string(v.to_string())
                    .ok()
                    .and_then(|raw| read_vessel(&raw))
                else {
                    BusStats::add(&self.bus.stats.bad_messages, 1);
                    continue;
                };
                BusStats::add(&self.bus.stats.shared_in, 1);
                let mmsi = w.view.mmsi;
                if !local.contains(&mmsi) {
                    changes.push(Change::Upsert(w.clone()));
                }
                shared.insert(
                    mmsi,
                    Shared {
                        wire: w,
                        heard: Instant::now(),
                    },
                );
            }
        }
        {
            let mut alerts = self.alerts.write().unwrap_or_else(|e| e.into_inner());
            for mut a in batch.alerts {
                a["origin"] = json!(from);
                a["shared"] = json!(true);
                let id = format!("{from}:{}", a["id"].as_str().unwrap_or(""));
                hub.publish_alert(a.to_string().into());
                alerts.insert(id, a);
            }
        }
        publish_to_hub(hub, &changes, || {
            self.vessels_in(&[BBox::WORLD], &Filter::default())
        });
    }

    fn expire(&self, hub: &Hub) {
        let gone: Vec<u32> = {
            let mut shared = self.vessels.write().unwrap_or_else(|e| e.into_inner());
            let gone: Vec<u32> = shared
                .iter()
                .filter(|(_, s)| s.heard.elapsed() > SHARED_TTL)
                .map(|(m, _)| *m)
                .collect();
            for m in &gone {
                shared.remove(m);
            }
            gone
        };
        if !gone.is_empty() {
            let changes: Vec<Change> = gone.into_iter().map(Change::Remove).collect();
            publish_to_hub(hub, &changes, || {
                self.vessels_in(&[BBox::WORLD], &Filter::default())
            });
        }
    }
}

impl PictureApi for SharedApi {
    fn vessels_in(&self, bboxes: &[BBox], filter: &Filter) -> Vec<Arc<VesselWire>> {
        let mut out = self.inner.vessels_in(bboxes, filter);
        let local: BTreeSet<u32> = out.iter().map(|w| w.view.mmsi).collect();
        let shared = self.vessels.read().unwrap_or_else(|e| e.into_inner());
        out.extend(
            shared
                .values()
                .filter(|s| {
                    let v = &s.wire.view;
                    !local.contains(&v.mmsi)
                        && bboxes.iter().any(|b| b.contains(v.lon, v.lat))
                        && filter.matches(v)
                })
                .map(|s| s.wire.clone()),
        );
        out
    }
    fn vessel(&self, mmsi: u32) -> Option<Value> {
        self.inner.vessel(mmsi).or_else(|| {
            let shared = self.vessels.read().unwrap_or_else(|e| e.into_inner());
            shared
                .get(&mmsi)
                .and_then(|s| serde_json::from_str(&s.wire.json).ok())
        })
    }
    fn track(&self, mmsi: u32, from_ms: Option<i64>, to_ms: Option<i64>) -> Option<Value> {
        self.inner.track(mmsi, from_ms, to_ms)
    }
    fn nearest(
        &self,
        lat: f64,
        lon: f64,
        k: usize,
        q: &broadcast::view::NearestQuery,
    ) -> Vec<Value> {
        self.inner.nearest(lat, lon, k, q)
    }
    fn search(&self, text: &str, limit: usize) -> Vec<Arc<VesselWire>> {
        self.inner.search(text, limit)
    }
    fn degraded(&self) -> Vec<String> {
        self.inner.degraded()
    }
    fn zones(&self) -> Value {
        self.inner.zones()
    }
    fn put_zone(&self, id: &str, feature: Value) -> Result<(), broadcast::ApiError> {
        self.inner.put_zone(id, feature)
    }
    fn delete_zone(&self, id: &str) -> Result<bool, broadcast::ApiError> {
        self.inner.delete_zone(id)
    }
    fn sources(&self) -> Value {
        self.inner.sources()
    }
    fn alerts(&self, state: Option<&str>, since_ms: Option<i64>) -> Value {
        let mut list = self.inner.alerts(state, since_ms);
        if let Some(l) = list.as_array_mut() {
            let shared = self.alerts.read().unwrap_or_else(|e| e.into_inner());
            l.extend(
                shared
                    .values()
                    .filter(|a| state.is_none_or(|s| a["state"] == s))
                    .cloned(),
            );
        }
        list
    }
    fn acknowledge(
        &self,
        alert_id: &str,
        who: &str,
        note: Option<&str>,
    ) -> Result<Value, broadcast::ApiError> {
        self.inner.acknowledge(alert_id, who, note)
    }
    fn status(&self) -> Value {
        let mut s = self.inner.status();
        s["share"] = json!({
            "org": self.cfg.org,
            "shared_vessels": self.vessels.read().unwrap_or_else(|e| e.into_inner()).len(),
            "bus": self.bus.stats.to_json(),
        });
        s
    }
    fn metrics(&self, registry: &mut prometheus_client::registry::Registry) {
        self.inner.metrics(registry);
        super::register_bus_metrics(registry, &self.bus.stats, share_metric_name);
    }
    fn history(
        &self,
        lat: f64,
        lon: f64,
        radius_nm: f64,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Value, ApiError> {
        self.inner.history(lat, lon, radius_nm, from_ms, to_ms)
    }
    fn sar(&self) -> Option<&dyn broadcast::api::SarApi> {
        self.inner.sar()
    }
}
