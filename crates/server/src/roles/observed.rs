//! The server's own answers plus its bus counters: `/healthz` gains a
//! `bus` object (role, node, counters) and `/metrics` the `bus_*`
//! counters, so an ingest node's dropped lines and a core's
//! deduplicated alerts are visible where everything else is.

use super::sar_core::{ChangeOut, PublishingSar};
use broadcast::api::{ApiError, SarApi};
use broadcast::{BBox, Filter, PictureApi, VesselWire};
use bus::payload::SarItem;
use bus::{BusStats, Role};
use serde_json::{json, Value};
use std::sync::Arc;

pub struct Observed {
    pub inner: Arc<dyn PictureApi>,
    pub stats: Arc<BusStats>,
    pub role: Role,
    pub node: String,
    /// On a core: where SAR and zone changes are published for the edges.
    pub sar_out: Option<Arc<ChangeOut>>,
}

impl Observed {
    fn publishing(&self) -> Result<PublishingSar<'_>, ApiError> {
        match (self.inner.sar(), &self.sar_out) {
            (Some(inner), Some(out)) => Ok(PublishingSar { inner, out }),
            _ => Err(ApiError::new(503, "no contacts or incidents here")),
        }
    }
}

impl PictureApi for Observed {
    fn vessels_in(&self, bboxes: &[BBox], filter: &Filter) -> Vec<Arc<VesselWire>> {
        self.inner.vessels_in(bboxes, filter)
    }
    fn vessel(&self, mmsi: u32) -> Option<Value> {
        self.inner.vessel(mmsi)
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
    fn put_zone(&self, id: &str, feature: Value) -> Result<(), ApiError> {
        let Some(out) = &self.sar_out else {
            return self.inner.put_zone(id, feature);
        };
        let mut stored = feature.clone();
        self.inner.put_zone(id, feature)?;
        if let Some(p) = stored.get_mut("properties").and_then(Value::as_object_mut) {
            p.insert("id".into(), json!(id));
        }
        out.send(SarItem::Zone {
            id: id.into(),
            feature: Some(stored),
        });
        Ok(())
    }
    fn delete_zone(&self, id: &str) -> Result<bool, ApiError> {
        let deleted = self.inner.delete_zone(id)?;
        if let (true, Some(out)) = (deleted, &self.sar_out) {
            out.send(SarItem::Zone {
                id: id.into(),
                feature: None,
            });
        }
        Ok(deleted)
    }
    fn sources(&self) -> Value {
        self.inner.sources()
    }
    fn alerts(&self, state: Option<&str>, since_ms: Option<i64>) -> Value {
        self.inner.alerts(state, since_ms)
    }
    fn acknowledge(
        &self,
        alert_id: &str,
        who: &str,
        note: Option<&str>,
    ) -> Result<Value, ApiError> {
        self.inner.acknowledge(alert_id, who, note)
    }
    fn status(&self) -> Value {
        let mut s = self.inner.status();
        s["bus"] = json!({
            "role": self.role.as_str(),
            "node": self.node,
            "counters": self.stats.to_json(),
        });
        s
    }
    fn metrics(&self, registry: &mut prometheus_client::registry::Registry) {
        self.inner.metrics(registry);
        super::register_bus_metrics(registry, &self.stats, super::cluster_bus_name);
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
    fn sar(&self) -> Option<&dyn SarApi> {
        match self.sar_out {
            Some(_) => self.inner.sar().map(|_| self as &dyn SarApi),
            None => self.inner.sar(),
        }
    }
}

/// A core's contacts and incidents: each successful write also goes out on
/// `lookout.sar.changes` (see `sar_core`).
impl SarApi for Observed {
    fn contacts(&self, status: Option<&str>) -> Result<Value, ApiError> {
        self.publishing()?.contacts(status)
    }
    fn contact(&self, id: &str) -> Option<Value> {
        self.publishing().ok()?.contact(id)
    }
    fn create_contact(&self, who: &str, body: Value) -> Result<Value, ApiError> {
        self.publishing()?.create_contact(who, body)
    }
    fn update_contact(&self, id: &str, who: &str, body: Value) -> Result<Value, ApiError> {
        self.publishing()?.update_contact(id, who, body)
    }
    fn add_sighting(&self, id: &str, who: &str, body: Value) -> Result<Value, ApiError> {
        self.publishing()?.add_sighting(id, who, body)
    }
    fn incidents(&self, status: Option<&str>) -> Result<Value, ApiError> {
        self.publishing()?.incidents(status)
    }
    fn incident(&self, id: &str) -> Option<Value> {
        self.publishing().ok()?.incident(id)
    }
    fn create_incident(&self, who: &str, body: Value) -> Result<Value, ApiError> {
        self.publishing()?.create_incident(who, body)
    }
    fn incident_action(&self, id: &str, who: &str, body: Value) -> Result<Value, ApiError> {
        self.publishing()?.incident_action(id, who, body)
    }
    fn contact_intercepts(&self, id: &str, k: usize) -> Result<Value, ApiError> {
        self.publishing()?.contact_intercepts(id, k)
    }
    fn incident_intercepts(&self, id: &str, k: usize) -> Result<Value, ApiError> {
        self.publishing()?.incident_intercepts(id, k)
    }
}
