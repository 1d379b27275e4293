//! The server's shared state, and its answers to the HTTP and WebSocket
//! layers ([`broadcast::PictureApi`]).
//!
//! The [`engine::Engine`] (picture, alert rules, own assets, decoder) is
//! behind one `RwLock`: the pipeline (or the cluster core) writes it in
//! short batches, every query here takes the read lock
//! ([`LiveState::picture`], [`LiveState::engine`]), copies out what it
//! needs and serialises after releasing it.
//!
//! Durable state (zones created over the API here; contacts, incidents,
//! alert states and acknowledgements in [`sar_api`]) is in the SQLite
//! `store`, written before a request is answered.

use alerts::AlertState;
use broadcast::{ApiError, BBox, Filter, PictureApi, VesselWire};
use engine::{views, Engine};
use ingest::queue::QueueMonitor;
use ingest::status::SourceRegistry;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::registry::Registry;
use serde_json::{json, Value};
use spatial_index::zones::geojson::parse_str;
use spatial_index::{GeoBox, Picture, Zone, ZoneIndex};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

pub mod sar_api;

/// How the server gets its lines.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// Live feeds.
    Live,
    /// Replaying recordings (or the demo) at `speed` × real time.
    Replay { speed: f64, label: String },
}

/// Shared state of a running server.
pub struct LiveState {
    /// The picture, the alert rules and book, own assets and the decoder
    /// (written by the pipeline or the core, read and acknowledged through
    /// the API).
    pub engine: RwLock<Engine>,
    /// Alert sinks (webhook, files, TAK).
    pub sinks: Arc<alert_sinks::SinkSet>,
    /// Picture outputs (`[[outputs]]`: NMEA re-broadcast).
    pub outputs: Arc<outputs::OutputSet>,
    pub registry: Arc<SourceRegistry>,
    pub queue: QueueMonitor,
    pub mode: Mode,
    /// Messages decoded per second of wall time (pipeline's estimate, ×1000).
    pub rate_milli: AtomicU64,
    /// The state database: zones created over the API, contacts,
    /// incidents, alert states and acknowledgements (`crates/store`).
    pub store: Option<Arc<store::Store>>,
    /// Contacts and incidents (their durable copy is in `store`).
    pub sar: Mutex<sar_api::SarBook>,
    /// Acknowledgements to restore when their alerts are raised again.
    pub acks: Mutex<sar_api::AckMemory>,
    /// Zones created over the API (GeoJSON Features by id).
    pub api_zones: Mutex<Vec<Value>>,
    /// Zones loaded from files at start.
    pub file_zones: Vec<Zone>,
    /// The recorder's counters and state (set once it starts; none
    /// without a recorder).
    pub recorder: std::sync::OnceLock<Arc<ingest::recorder::RecorderStatus>>,
    /// The recorder's archive, for history and for tracks older than the
    /// picture's memory (None without a recorder).
    pub archive: Option<crate::history::ArchiveHistory>,
}

/// A read guard on the engine that reads as its picture.
pub struct PictureRead<'a>(RwLockReadGuard<'a, Engine>);

impl std::ops::Deref for PictureRead<'_> {
    type Target = Picture;
    fn deref(&self) -> &Picture {
        self.0.picture()
    }
}

impl LiveState {
    /// The engine, for reading (short: copy out, then serialise).
    pub fn engine(&self) -> RwLockReadGuard<'_, Engine> {
        self.engine.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The engine, for writing (the pipeline, the core, acknowledgements,
    /// zone changes).
    pub fn engine_mut(&self) -> RwLockWriteGuard<'_, Engine> {
        self.engine.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The picture, for reading.
    pub fn picture(&self) -> PictureRead<'_> {
        PictureRead(self.engine())
    }

    /// What the picture knows about an alert now (vessel names, call
    /// signs, ship types, the zone's name), for the sinks. Takes the
    /// engine's read lock briefly: call without holding it.
    pub fn sink_context(&self, a: &alerts::Alert) -> alert_sinks::AlertContext {
        alert_context(&self.picture(), a)
    }

    /// Hand an alert change to the sinks, with its context from the
    /// picture (call without holding the engine's lock).
    pub fn publish_to_sinks(&self, a: &alerts::Alert) {
        if self.sinks.is_empty() {
            return;
        }
        let ctx = self.sink_context(a);
        self.sinks.publish_with(a, ctx);
    }
}

/// The [`alert_sinks::AlertContext`] of an alert, from a picture.
pub fn alert_context(p: &Picture, a: &alerts::Alert) -> alert_sinks::AlertContext {
    let info = |mmsi: u32| p.vessel(mmsi).and_then(|v| v.info.as_deref());
    let text = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let me = info(a.mmsi);
    let other = a.other_mmsi.and_then(info);
    let ship_type = me.and_then(|i| i.ship_type);
    alert_sinks::AlertContext {
        vessel_name: me.and_then(|i| text(&i.name)),
        callsign: me.and_then(|i| text(&i.callsign)),
        ship_type,
        ship_type_text: ship_type.map(|t| lookout_ais::json::shiptype_text(t).to_string()),
        other_vessel_name: other.and_then(|i| text(&i.name)),
        other_callsign: other.and_then(|i| text(&i.callsign)),
        other_ship_type: other.and_then(|i| i.ship_type),
        zone_name: a.zone.as_deref().and_then(|id| {
            let zones = p.zones();
            zones.index_of(id).map(|i| zones.zone(i).name.clone())
        }),
        node: None,
    }
}

/// Convert a protocol box to the picture's.
pub fn geobox(b: &BBox) -> Option<GeoBox> {
    GeoBox::new(b.min_lon, b.min_lat, b.max_lon, b.max_lat)
}

/// A zone as a GeoJSON Feature.
pub fn zone_feature(z: &Zone) -> Value {
    let polys: Vec<Value> = z
        .geometry
        .0
        .iter()
        .map(|p| {
            let ring =
                |r: &geo::LineString<f64>| r.0.iter().map(|c| [c.x, c.y]).collect::<Vec<_>>();
            let mut rings = vec![ring(p.exterior())];
            rings.extend(p.interiors().iter().map(ring));
            json!(rings)
        })
        .collect();
    let mut props = z.properties.clone();
    props.insert("id".into(), json!(&*z.id));
    props.insert("name".into(), json!(z.name));
    props.insert("kind".into(), json!(z.kind.as_str()));
    props.insert("alerts".into(), json!(z.alerts));
    json!({
        "type": "Feature",
        "id": &*z.id,
        "geometry": {"type": "MultiPolygon", "coordinates": polys},
        "properties": props,
    })
}

impl LiveState {
    /// The zone index of file zones plus `api` zones (validated like zone
    /// files).
    fn build_zones(&self, api: &[Value]) -> Result<ZoneIndex, String> {
        let mut zones = self.file_zones.clone();
        if !api.is_empty() {
            let fc = json!({"type": "FeatureCollection", "features": api}).to_string();
            zones.extend(parse_str("api", &fc).map_err(|e| e.to_string())?);
        }
        ZoneIndex::new(zones).map_err(|e| e.to_string())
    }

    fn swap_zones(&self, index: ZoneIndex) {
        self.engine_mut().set_zones(index);
    }

    /// Put back the zones created over the API (from the state database) at
    /// start.
    pub fn restore_api_zones(&self, features: Vec<Value>) -> Result<(), String> {
        let mut api = self.api_zones.lock().unwrap_or_else(|e| e.into_inner());
        let index = self.build_zones(&features)?;
        self.swap_zones(index);
        *api = features;
        Ok(())
    }
}

impl PictureApi for LiveState {
    fn vessels_in(&self, bboxes: &[BBox], filter: &Filter) -> Vec<Arc<VesselWire>> {
        let boxes: Vec<GeoBox> = bboxes.iter().filter_map(geobox).collect();
        let views: Vec<_> = {
            let e = self.engine();
            let p = e.picture();
            p.in_boxes(&boxes)
                .into_iter()
                .filter_map(|v| views::vessel_view(p, v))
                .chain(e.own_assets().in_boxes(bboxes))
                .filter(|v| filter.matches(v))
                .collect()
        };
        views.into_iter().map(VesselWire::new).collect()
    }

    fn vessel(&self, mmsi: u32) -> Option<Value> {
        let p = self.picture();
        p.vessel(mmsi).map(|v| views::vessel_detail(&p, v))
    }

    /// The picture's track; when `from_ms` is older than its first point
    /// (or the picture no longer knows the vessel) and there is an archive,
    /// the archived positions from `from_ms` up to that first point come
    /// first (merged, sorted, one point per time).
    fn track(&self, mmsi: u32, from_ms: Option<i64>, to_ms: Option<i64>) -> Option<Value> {
        let memory: Option<Vec<(i64, f64, f64)>> = {
            let p = self.picture();
            p.vessel(mmsi).map(|v| {
                v.track
                    .points()
                    .filter(|t| {
                        from_ms.is_none_or(|f| t.time_ms >= f)
                            && to_ms.is_none_or(|e| t.time_ms < e)
                    })
                    .map(|t| (t.time_ms, f64::from(t.lat), f64::from(t.lon)))
                    .collect()
            })
        };
        let first_in_memory = {
            let p = self.picture();
            p.vessel(mmsi)
                .and_then(|v| v.track.points().next().map(|t| t.time_ms))
        };
        let reach_back = match (&self.archive, from_ms) {
            (Some(a), Some(f)) if first_in_memory.is_none_or(|m| f < m) => Some((a, f)),
            _ => None,
        };
        let Some((archive, from)) = reach_back else {
            let p = self.picture();
            return p
                .vessel(mmsi)
                .map(|v| views::track_feature(v, from_ms, to_ms));
        };
        let until = match (first_in_memory, to_ms) {
            (Some(m), Some(t)) => m.min(t),
            (Some(m), None) => m,
            (None, Some(t)) => t,
            (None, None) => i64::MAX,
        };
        let mut points: Vec<(i64, f64, f64)> = archive
            .track(mmsi, from, until)
            .into_iter()
            .map(|t| (t.time_ms, t.lat, t.lon))
            .collect();
        let archived = points.len();
        if memory.is_none() && archived == 0 {
            return None;
        }
        points.extend(memory.unwrap_or_default());
        points.sort_by_key(|p| p.0);
        points.dedup_by_key(|p| p.0);
        Some(json!({
            "type": "Feature",
            "id": mmsi,
            "geometry": {"type": "LineString", "coordinates": points.iter().map(|p| [p.2, p.1]).collect::<Vec<_>>()},
            "properties": {
                "mmsi": mmsi,
                "times": points.iter().map(|p| broadcast::view::format_time(p.0)).collect::<Vec<_>>(),
                "archived_points": archived,
            },
        }))
    }

    fn history(
        &self,
        lat: f64,
        lon: f64,
        radius_nm: f64,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Value, broadcast::api::ApiError> {
        match &self.archive {
            Some(a) => a.near(lat, lon, radius_nm, from_ms, to_ms),
            None => Err(broadcast::api::ApiError::new(
                503,
                "no archive: history needs the recorder ([ingest.recorder])",
            )),
        }
    }

    fn nearest(
        &self,
        lat: f64,
        lon: f64,
        k: usize,
        q: &broadcast::view::NearestQuery,
    ) -> Vec<Value> {
        let p = self.picture();
        views::nearest(&p, lat, lon, k, q)
    }

    fn search(&self, text: &str, limit: usize) -> Vec<Arc<VesselWire>> {
        let found = {
            let e = self.engine();
            views::search(e.picture(), e.own_assets(), text, limit)
        };
        found.into_iter().map(VesselWire::new).collect()
    }

    fn zones(&self) -> Value {
        let p = self.picture();
        json!({"type": "FeatureCollection", "features": p.zones().zones().iter().map(zone_feature).collect::<Vec<_>>()})
    }

    fn put_zone(&self, id: &str, mut feature: Value) -> Result<(), ApiError> {
        if self.file_zones.iter().any(|z| &*z.id == id) {
            return Err(ApiError::invalid(format!(
                "zone {id:?} comes from a zone file; edit the file instead"
            )));
        }
        let props = feature
            .get_mut("properties")
            .and_then(Value::as_object_mut)
            .ok_or_else(|| ApiError::invalid("a zone Feature needs properties (name, kind)"))?;
        props.insert("id".into(), json!(id));
        let mut api = self.api_zones.lock().unwrap_or_else(|e| e.into_inner());
        let mut next: Vec<Value> = api
            .iter()
            .filter(|f| f["properties"]["id"] != json!(id))
            .cloned()
            .collect();
        next.push(feature.clone());
        // Validate, store durably, then show: the picture never has a zone
        // the database does not.
        let index = self.build_zones(&next).map_err(ApiError::invalid)?;
        if let Some(store) = &self.store {
            store
                .put_zone(id, &feature, self.now_ms())
                .map_err(|e| ApiError::storage(format!("zone not saved: {e}")))?;
        }
        self.swap_zones(index);
        *api = next;
        Ok(())
    }

    fn delete_zone(&self, id: &str) -> Result<bool, ApiError> {
        let mut api = self.api_zones.lock().unwrap_or_else(|e| e.into_inner());
        let next: Vec<Value> = api
            .iter()
            .filter(|f| f["properties"]["id"] != json!(id))
            .cloned()
            .collect();
        if next.len() == api.len() {
            return Ok(false);
        }
        let index = self.build_zones(&next).map_err(ApiError::storage)?;
        if let Some(store) = &self.store {
            store
                .delete_zone(id)
                .map_err(|e| ApiError::storage(format!("zone deletion not saved: {e}")))?;
        }
        self.swap_zones(index);
        *api = next;
        Ok(true)
    }

    fn sources(&self) -> Value {
        serde_json::to_value(self.registry.snapshot()).unwrap_or(Value::Null)
    }

    fn alerts(&self, state: Option<&str>, since_ms: Option<i64>) -> Value {
        let state = state.and_then(AlertState::parse);
        let engine = self.engine();
        let mut list: Vec<_> = engine.rules().list(state, since_ms);
        // Newest first, as an operator reads them.
        list.sort_by(|a, b| b.time.cmp(&a.time).then(b.id.cmp(&a.id)));
        serde_json::to_value(list).unwrap_or(Value::Null)
    }

    fn acknowledge(
        &self,
        alert_id: &str,
        who: &str,
        note: Option<&str>,
    ) -> Result<Value, ApiError> {
        let mut engine = self.engine_mut();
        let alert = engine
            .acknowledge(alert_id, who, note)
            .map_err(ApiError::not_found)?;
        // The change also went to the engine's queue; the pipeline would
        // publish it with the next batch, the HTTP/WS layer publishes it
        // now. Drop the queued copy so clients do not see it twice (the
        // pipeline takes its changes under this same lock, so nothing
        // else is queued).
        let _ = engine.take_alerts();
        drop(engine);
        // Durable before the client is told (kept across restarts).
        self.persist_ack(&alert).map_err(ApiError::storage)?;
        self.publish_to_sinks(&alert);
        tracing::info!(alert = %alert.id, by = %who, "alert acknowledged");
        serde_json::to_value(alert).map_err(|e| ApiError::storage(e.to_string()))
    }

    fn status(&self) -> Value {
        let p = self.picture();
        let (mode, speed, label) = match &self.mode {
            Mode::Live => ("live", None, None),
            Mode::Replay { speed, label } => ("replay", Some(*speed), Some(label.clone())),
        };
        json!({
            "mode": mode,
            "replay_speed": speed,
            "replay": label,
            "time": p.now_ms().map(broadcast::view::format_time),
            "time_ms": p.now_ms(),
            "vessels": p.len(),
            "zones": p.zones().len(),
            "messages_per_s": self.rate_milli.load(Ordering::Relaxed) as f64 / 1000.0,
            "sources": self.registry.len(),
            "queue_depth": self.queue.stats().depth,
            "sinks": self.sinks.status(),
            "recorder": self.recorder.get().map(|r| r.snapshot()),
            "degraded": self.degraded(),
        })
    }

    fn degraded(&self) -> Vec<String> {
        let mut why = Vec::new();
        if let Some(r) = self.recorder.get().map(|r| r.snapshot()) {
            if r.failing {
                why.push(format!(
                    "recorder failing: {} lines lost so far ({})",
                    r.lost_lines,
                    r.last_error.as_deref().unwrap_or("unknown error")
                ));
            }
        }
        for s in self.sinks.status() {
            if s.held > 0 {
                why.push(format!(
                    "alert sink {}: {} alerts held in memory (cannot be stored: {})",
                    s.name,
                    s.held,
                    s.last_error.as_deref().unwrap_or("unknown error")
                ));
            }
        }
        let q = self.queue.stats();
        if q.depth >= q.capacity && q.capacity > 0 && self.mode == Mode::Live {
            why.push(format!("ingest queue full ({} lines)", q.depth));
        }
        why
    }

    fn sar(&self) -> Option<&dyn broadcast::SarApi> {
        Some(self)
    }

    fn metrics(&self, reg: &mut Registry) {
        self.outputs.metrics(reg);
        let (len, stats, events_dropped) = {
            let p = self.picture();
            (p.len(), p.stats().clone(), p.events().dropped())
        };
        reg.register(
            "vessels",
            "Vessels in the picture",
            ConstGauge::new(len as i64),
        );
        reg.register(
            "picture_applied",
            "Reports applied to the picture",
            ConstCounter::new(stats.applied),
        );
        reg.register(
            "picture_duplicates",
            "Reports heard twice (counted once)",
            ConstCounter::new(stats.duplicates),
        );
        reg.register(
            "picture_implausible_jumps",
            "Position reports held back as >60 kn jumps",
            ConstCounter::new(stats.implausible_jumps),
        );
        reg.register(
            "picture_refused",
            "Reports refused because the table was full",
            ConstCounter::new(stats.refused),
        );
        reg.register(
            "picture_events_dropped",
            "Picture events dropped from the full event sink",
            ConstCounter::new(events_dropped),
        );
        let d = self.engine().decode_stats().clone();
        reg.register(
            "decoder_lines",
            "Lines given to the decoder",
            ConstCounter::new(d.lines),
        );
        reg.register(
            "decoder_messages",
            "AIS messages decoded",
            ConstCounter::new(d.messages),
        );
        reg.register(
            "decoder_errors",
            "Lines rejected by the decoder",
            ConstCounter::new(d.total_errors()),
        );
        reg.register(
            "decoder_orphaned_groups",
            "Multi-sentence messages dropped incomplete",
            ConstCounter::new(d.orphaned_groups),
        );
        reg.register(
            "decoder_stray_fragments",
            "Continuation sentences that belonged to no open message (dropped)",
            ConstCounter::new(d.stray_fragments),
        );
        if let Some(r) = self.recorder.get() {
            for m in r.snapshot().metrics() {
                if m.counter {
                    reg.register(m.name, m.help, ConstCounter::new(m.value));
                } else {
                    reg.register(m.name, m.help, ConstGauge::new(m.value as i64));
                }
            }
        }
        // Per sink: published, accepted, attempts, failures, deliveries,
        // drops by reason, pending, queued, held, webhook outbox rows.
        self.sinks.metrics(reg);
        let q = self.queue.stats();
        reg.register(
            "queue_depth",
            "Lines waiting in the ingest queue",
            ConstGauge::new(q.depth as i64),
        );
        reg.register(
            "queue_capacity",
            "Ingest queue capacity",
            ConstGauge::new(q.capacity as i64),
        );
        reg.register(
            "queue_dropped",
            "Lines dropped by the ingest queue's overload policy",
            ConstCounter::new(q.dropped),
        );
        let lines = Family::<Vec<(String, String)>, Counter>::default();
        let errors = Family::<Vec<(String, String)>, Counter>::default();
        let dropped = Family::<Vec<(String, String)>, Counter>::default();
        let connected = Family::<Vec<(String, String)>, Gauge>::default();
        for s in self.registry.all() {
            let label = vec![("source".to_string(), s.name().to_string())];
            lines.get_or_create(&label).inc_by(s.lines());
            errors.get_or_create(&label).inc_by(s.total_errors());
            dropped.get_or_create(&label).inc_by(s.dropped());
            connected.get_or_create(&label).set(s.connected() as i64);
        }
        reg.register("source_lines", "Lines received, by source", lines);
        reg.register("source_errors", "Errors, by source", errors);
        reg.register(
            "source_dropped",
            "Lines dropped under overload, by source",
            dropped,
        );
        reg.register(
            "source_connected",
            "1 when the source is connected",
            connected,
        );
        let engine = self.engine();
        let engine = engine.rules();
        let st = engine.stats();
        let raised = Family::<Vec<(String, String)>, Counter>::default();
        let cleared = Family::<Vec<(String, String)>, Counter>::default();
        for k in alerts::AlertKind::ALL {
            let label = vec![("kind".to_string(), k.as_str().to_string())];
            raised
                .get_or_create(&label)
                .inc_by(st.raised.get(&k).copied().unwrap_or(0));
            cleared
                .get_or_create(&label)
                .inc_by(st.cleared.get(&k).copied().unwrap_or(0));
        }
        reg.register("alerts_raised", "Alerts raised, by kind", raised);
        reg.register("alerts_cleared", "Alerts cleared, by kind", cleared);
        reg.register(
            "alerts_open",
            "Alerts open now",
            ConstGauge::new(engine.open_count() as i64),
        );
    }
}

#[cfg(test)]
mod sink_context_tests {
    use super::*;
    use lookout_ais::{Decoder, DecoderOptions};
    use spatial_index::PictureConfig;

    #[test]
    fn the_context_names_the_vessel_and_the_zone_from_the_picture() {
        let zones = parse_str(
            "test",
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"malta-srr",
                "properties":{"id":"malta-srr","name":"Malta SRR","kind":"sar_region"},
                "geometry":{"type":"Polygon","coordinates":[[[11,33],[16,33],[16,37],[11,37],[11,33]]]}}]}"#,
        )
        .unwrap();
        let mut p = Picture::new(PictureConfig::default(), ZoneIndex::new(zones).unwrap());
        let mut d = Decoder::new(DecoderOptions::default());
        for (tag, sentence) in [
            (
                "g:1-2-73,c:1700000010",
                "!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C",
            ),
            ("g:2-2-73", "!AIVDM,2,2,1,A,88888888880,2*25"),
        ] {
            let line = lookout_ais::encode::with_tag_block(tag, sentence);
            d.decode_line(line.as_bytes(), |m| {
                p.apply(&m, None);
            })
            .unwrap();
        }
        let v = p
            .vessels()
            .find(|v| v.info.as_ref().is_some_and(|i| i.name.is_some()))
            .expect("the type 5 gave a name");
        let info = v.info.as_deref().unwrap();
        let alert = alerts::Alert {
            id: "a-0000000000000001".into(),
            kind: alerts::AlertKind::ZoneEnter,
            mmsi: v.mmsi,
            other_mmsi: Some(1),
            zone: Some(Arc::from("malta-srr")),
            time: 1_700_000_010_000,
            lat: Some(35.0),
            lon: Some(14.0),
            severity: alerts::Severity::Warning,
            message: "enters".into(),
            state: AlertState::Raised,
            raised_at: 1_700_000_010_000,
            cleared_at: None,
            acknowledged_by: None,
            acknowledged_at: None,
            note: None,
        };
        let c = alert_context(&p, &alert);
        assert_eq!(
            c.vessel_name.as_deref(),
            info.name.as_deref().map(str::trim)
        );
        assert!(c.vessel_name.as_deref().is_some_and(|n| !n.is_empty()));
        assert_eq!(
            c.callsign.as_deref(),
            info.callsign.as_deref().map(str::trim)
        );
        assert_eq!(c.ship_type, info.ship_type);
        assert_eq!(
            c.ship_type_text.as_deref(),
            info.ship_type.map(lookout_ais::json::shiptype_text)
        );
        assert_eq!(c.zone_name.as_deref(), Some("Malta SRR"));
        // An unknown other vessel and an unknown zone: nothing invented.
        assert_eq!((c.other_vessel_name, c.other_ship_type), (None, None));
        let gone = alerts::Alert {
            zone: Some(Arc::from("deleted-zone")),
            ..alert
        };
        assert_eq!(alert_context(&p, &gone).zone_name, None);
    }
}
