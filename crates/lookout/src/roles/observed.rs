//! The server's own answers plus its bus counters: `/healthz` gains a
//! `bus` object (role, node, counters) and `/metrics` the `bus_*`
//! counters, so an ingest node's dropped lines and a core's
//! deduplicated alerts are visible where everything else is.

use broadcast::api::{HistoryFailure, SarApi};
use broadcast::{BBox, Filter, PictureApi, VesselWire};
use bus::{BusStats, Role};
use serde_json::{json, Value};
use std::sync::Arc;

pub struct Observed {
    pub inner: Arc<dyn PictureApi>,
    pub stats: Arc<BusStats>,
    pub role: Role,
    pub node: String,
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
    fn nearest(&self, lat: f64, lon: f64, k: usize) -> Vec<Value> {
        self.inner.nearest(lat, lon, k)
    }
    fn zones(&self) -> Value {
        self.inner.zones()
    }
    fn put_zone(&self, id: &str, feature: Value) -> Result<(), String> {
        self.inner.put_zone(id, feature)
    }
    fn delete_zone(&self, id: &str) -> Result<bool, String> {
        self.inner.delete_zone(id)
    }
    fn sources(&self) -> Value {
        self.inner.sources()
    }
    fn alerts(&self, state: Option<&str>, since_ms: Option<i64>) -> Value {
        self.inner.alerts(state, since_ms)
    }
    fn acknowledge(&self, alert_id: &str, who: &str, note: Option<&str>) -> Result<Value, String> {
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
        for (name, help, value) in self.stats.list() {
            registry.register(
                name,
                help,
                prometheus_client::metrics::counter::ConstCounter::new(value),
            );
        }
    }
    fn history(
        &self,
        lat: f64,
        lon: f64,
        radius_nm: f64,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Value, HistoryFailure> {
        self.inner.history(lat, lon, radius_nm, from_ms, to_ms)
    }
    fn sar(&self) -> Option<&dyn SarApi> {
        self.inner.sar()
    }
}
