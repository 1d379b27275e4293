//! The hub: fans picture changes out to connected clients, coalescing per
//! client.
//!
//! Each client owns, per subscription, a *pending* map — MMSI → latest
//! change — and the set of vessels it currently shows (*known*). When the
//! pipeline publishes a change the hub, for every subscription: records an
//! upsert when the vessel matches the subscription's boxes and filter, a
//! removal when it no longer does but the client shows it, and nothing
//! otherwise. A later change to the same vessel replaces the earlier one
//! (latest state wins), so a client that reads slowly receives current
//! positions when it catches up, never a backlog. The pending map is capped
//! ([`crate::protocol::Limits::max_pending`]): past the cap it is dropped
//! and the subscription is marked for a fresh snapshot, which is counted.
//!
//! Alerts are not coalesced (each one matters): they queue per client up to
//! a bound, dropping (and counting) the oldest beyond it.
//!
//! Publishing takes each client's lock briefly; clients' socket writes
//! happen outside the hub, in their own tasks ([`crate::session`]), so a
//! stalled client never delays the pipeline or the others.

use crate::protocol::{Channels, Limits, Subscribe};
use crate::view::{BBox, Change, Filter, VesselWire};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::Notify;

/// A pending change for one vessel.
#[derive(Debug, Clone)]
pub enum Pending {
    Upsert(Arc<VesselWire>),
    Remove,
}

/// One subscription's state.
pub struct SubState {
    pub id: String,
    pub bboxes: Vec<BBox>,
    pub filter: Filter,
    pub interval: std::time::Duration,
    pub channels: Channels,
    /// Vessels the client shows for this subscription.
    pub known: HashSet<u32>,
    /// Changes not yet sent.
    pub pending: HashMap<u32, Pending>,
    /// The pending map overflowed (or the subscription is new): send a
    /// snapshot instead of an update.
    pub needs_snapshot: bool,
}

impl SubState {
    fn matches(&self, w: &VesselWire) -> bool {
        let v = &w.view;
        self.bboxes.iter().any(|b| b.contains(v.lon, v.lat)) && self.filter.matches(v)
    }
}

/// What the hub holds for one client.
#[derive(Default)]
pub struct ClientInner {
    pub subs: Vec<SubState>,
    pub alerts: VecDeque<Arc<str>>,
    pub zones_changed: bool,
    pub sources: Option<Arc<str>>,
    /// Contact/incident changes and snapshots due (`crate::sar_channel`).
    pub sar: crate::sar_channel::SarQueue,
}

/// One connected client, shared between the hub and its session task.
pub struct ClientHandle {
    pub id: u64,
    pub inner: Mutex<ClientInner>,
    /// Woken when something was queued.
    pub notify: Notify,
}

/// Counters, exported as metrics.
#[derive(Default)]
pub struct HubStats {
    pub clients: AtomicU64,
    pub changes_published: AtomicU64,
    pub alerts_published: AtomicU64,
    /// Subscriptions whose pending map overflowed and were resnapshotted.
    pub overflow_resnapshots: AtomicU64,
    /// Alerts dropped from full per-client queues.
    pub alerts_dropped: AtomicU64,
    /// Clients disconnected for stalling.
    pub stalled_disconnects: AtomicU64,
    /// Client messages refused with an error.
    pub client_errors: AtomicU64,
    pub messages_sent: AtomicU64,
    pub bytes_sent: AtomicU64,
}

/// A client asked for more subscriptions than allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManySubscriptions;

/// Fan-out of changes to clients.
pub struct Hub {
    limits: Limits,
    clients: RwLock<Vec<Arc<ClientHandle>>>,
    next_id: AtomicU64,
    pub stats: HubStats,
}

impl Hub {
    pub fn new(limits: Limits) -> Hub {
        Hub {
            limits,
            clients: RwLock::new(Vec::new()),
            next_id: AtomicU64::new(1),
            stats: HubStats::default(),
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Register a new client.
    pub fn connect(&self) -> Arc<ClientHandle> {
        let c = Arc::new(ClientHandle {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            inner: Mutex::new(ClientInner::default()),
            notify: Notify::new(),
        });
        let mut clients = self.clients.write().unwrap_or_else(|e| e.into_inner());
        clients.push(c.clone());
        self.stats
            .clients
            .store(clients.len() as u64, Ordering::Relaxed);
        c
    }

    /// Forget a client.
    pub fn disconnect(&self, id: u64) {
        let mut clients = self.clients.write().unwrap_or_else(|e| e.into_inner());
        clients.retain(|c| c.id != id);
        self.stats
            .clients
            .store(clients.len() as u64, Ordering::Relaxed);
    }

    /// Number of connected clients.
    pub fn client_count(&self) -> usize {
        self.clients.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Add or replace subscription `s` of `client`. Refused when the client
    /// already has the maximum number of other subscriptions.
    pub fn subscribe(
        &self,
        client: &ClientHandle,
        s: Subscribe,
    ) -> Result<(), TooManySubscriptions> {
        let mut inner = client.inner.lock().unwrap_or_else(|e| e.into_inner());
        let existing = inner.subs.iter().position(|x| x.id == s.id);
        if existing.is_none() && inner.subs.len() >= self.limits.max_subscriptions {
            return Err(TooManySubscriptions);
        }
        let state = SubState {
            id: s.id,
            bboxes: s.bboxes,
            filter: s.filter,
            interval: s.interval,
            channels: s.channels,
            known: HashSet::new(),
            pending: HashMap::new(),
            needs_snapshot: true,
        };
        match existing {
            Some(i) => inner.subs[i] = state,
            None => inner.subs.push(state),
        }
        if s.channels.zones {
            inner.zones_changed = true;
        }
        inner.sar.subscribed(s.channels);
        drop(inner);
        client.notify.notify_one();
        Ok(())
    }

    /// Remove a subscription; false if there was none with that id.
    pub fn unsubscribe(&self, client: &ClientHandle, id: &str) -> bool {
        let mut inner = client.inner.lock().unwrap_or_else(|e| e.into_inner());
        let before = inner.subs.len();
        inner.subs.retain(|s| s.id != id);
        before != inner.subs.len()
    }

    /// Publish a batch of picture changes to every client.
    pub fn publish(&self, changes: &[Change]) {
        if changes.is_empty() {
            return;
        }
        self.stats
            .changes_published
            .fetch_add(changes.len() as u64, Ordering::Relaxed);
        let clients = self.clients.read().unwrap_or_else(|e| e.into_inner());
        for c in clients.iter() {
            let mut queued = false;
            {
                let mut inner = c.inner.lock().unwrap_or_else(|e| e.into_inner());
                for sub in inner.subs.iter_mut().filter(|s| s.channels.vessels) {
                    for change in changes {
                        queued |= self.apply(sub, change);
                    }
                }
            }
            if queued {
                c.notify.notify_one();
            }
        }
    }

    fn apply(&self, sub: &mut SubState, change: &Change) -> bool {
        let (mmsi, pending) = match change {
            Change::Upsert(w) => {
                if sub.matches(w) {
                    sub.known.insert(w.view.mmsi);
                    (w.view.mmsi, Pending::Upsert(w.clone()))
                } else if sub.known.remove(&w.view.mmsi) {
                    (w.view.mmsi, Pending::Remove)
                } else {
                    return false;
                }
            }
            Change::Remove(mmsi) => {
                if sub.known.remove(mmsi) {
                    (*mmsi, Pending::Remove)
                } else {
                    return false;
                }
            }
        };
        if sub.needs_snapshot {
            // A snapshot is coming: it will carry the current state.
            return true;
        }
        sub.pending.insert(mmsi, pending);
        if sub.pending.len() > self.limits.max_pending {
            sub.pending = HashMap::new();
            sub.needs_snapshot = true;
            self.stats
                .overflow_resnapshots
                .fetch_add(1, Ordering::Relaxed);
        }
        true
    }

    /// Publish an alert (its JSON object) to every client with an alerts
    /// channel.
    pub fn publish_alert(&self, alert_json: Arc<str>) {
        self.stats.alerts_published.fetch_add(1, Ordering::Relaxed);
        let clients = self.clients.read().unwrap_or_else(|e| e.into_inner());
        for c in clients.iter() {
            let mut inner = c.inner.lock().unwrap_or_else(|e| e.into_inner());
            if !inner.subs.iter().any(|s| s.channels.alerts) {
                continue;
            }
            if inner.alerts.len() >= self.limits.max_queued_alerts {
                inner.alerts.pop_front();
                self.stats.alerts_dropped.fetch_add(1, Ordering::Relaxed);
            }
            inner.alerts.push_back(alert_json.clone());
            drop(inner);
            c.notify.notify_one();
        }
    }

    /// Tell clients subscribed to the zones channel that zones changed.
    pub fn zones_changed(&self) {
        let clients = self.clients.read().unwrap_or_else(|e| e.into_inner());
        for c in clients.iter() {
            let mut inner = c.inner.lock().unwrap_or_else(|e| e.into_inner());
            if inner.subs.iter().any(|s| s.channels.zones) {
                inner.zones_changed = true;
                drop(inner);
                c.notify.notify_one();
            }
        }
    }

    /// Publish a changed contact or incident (its full JSON object) to
    /// clients with that channel; bounded per client like alerts (see
    /// `crate::sar_channel`).
    pub fn publish_sar(&self, kind: crate::sar_channel::SarKind, json: Arc<str>) {
        let clients = self.clients.read().unwrap_or_else(|e| e.into_inner());
        for c in clients.iter() {
            let mut inner = c.inner.lock().unwrap_or_else(|e| e.into_inner());
            if !inner
                .subs
                .iter()
                .any(|s| crate::sar_channel::wants(&s.channels, kind))
            {
                continue;
            }
            if inner
                .sar
                .push(kind, json.clone(), self.limits.max_queued_alerts)
            {
                self.stats
                    .overflow_resnapshots
                    .fetch_add(1, Ordering::Relaxed);
            }
            drop(inner);
            c.notify.notify_one();
        }
    }

    /// Publish feed status (JSON) to clients with a sources channel
    /// (latest wins).
    pub fn publish_sources(&self, json: Arc<str>) {
        let clients = self.clients.read().unwrap_or_else(|e| e.into_inner());
        for c in clients.iter() {
            let mut inner = c.inner.lock().unwrap_or_else(|e| e.into_inner());
            if inner.subs.iter().any(|s| s.channels.sources) {
                inner.sources = Some(json.clone());
                drop(inner);
                c.notify.notify_one();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::VesselView;

    fn vessel(mmsi: u32, lon: f64, lat: f64) -> Change {
        Change::Upsert(VesselWire::new(VesselView {
            mmsi,
            lat,
            lon,
            sog: Some(10.0),
            cog: None,
            heading: None,
            name: None,
            callsign: None,
            ship_type: None,
            class: "A".into(),
            nav_status: Some(0),
            last_seen: 0,
            state: "live".into(),
            zones: vec![],
        }))
    }

    fn sub(id: &str, bbox: [f64; 4]) -> Subscribe {
        Subscribe {
            id: id.into(),
            bboxes: vec![BBox::from_array(bbox).unwrap()],
            filter: Filter::default(),
            interval: std::time::Duration::from_secs(1),
            channels: Channels::DEFAULT,
        }
    }

    #[test]
    fn coalesces_latest_state_and_removes_on_leaving_the_box() {
        let hub = Hub::new(Limits::default());
        let c = hub.connect();
        hub.subscribe(&c, sub("s", [10.0, 30.0, 20.0, 40.0]))
            .unwrap();
        c.inner.lock().unwrap().subs[0].needs_snapshot = false;
        for k in 0..100 {
            hub.publish(&[vessel(1, 11.0 + k as f64 * 0.01, 35.0)]);
        }
        {
            let inner = c.inner.lock().unwrap();
            assert_eq!(inner.subs[0].pending.len(), 1);
            let Pending::Upsert(w) = &inner.subs[0].pending[&1] else {
                panic!()
            };
            assert!((w.view.lon - 11.99).abs() < 1e-9, "latest wins");
        }
        c.inner.lock().unwrap().subs[0].pending.clear();
        hub.publish(&[vessel(1, 25.0, 35.0), vessel(2, 25.0, 35.0)]);
        let inner = c.inner.lock().unwrap();
        assert!(matches!(inner.subs[0].pending[&1], Pending::Remove));
        assert!(
            !inner.subs[0].pending.contains_key(&2),
            "never shown, nothing to remove"
        );
    }

    #[test]
    fn overflow_turns_into_a_snapshot_and_is_counted() {
        let hub = Hub::new(Limits {
            max_pending: 10,
            ..Limits::default()
        });
        let c = hub.connect();
        hub.subscribe(&c, sub("s", [-180.0, -90.0, 180.0, 90.0]))
            .unwrap();
        c.inner.lock().unwrap().subs[0].needs_snapshot = false;
        let batch: Vec<_> = (0..1000).map(|m| vessel(m, 0.0, 0.0)).collect();
        hub.publish(&batch);
        let inner = c.inner.lock().unwrap();
        assert!(inner.subs[0].pending.len() <= 10);
        assert!(inner.subs[0].needs_snapshot);
        assert_eq!(hub.stats.overflow_resnapshots.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn alert_queue_is_bounded() {
        let hub = Hub::new(Limits {
            max_queued_alerts: 5,
            ..Limits::default()
        });
        let c = hub.connect();
        hub.subscribe(&c, sub("s", [-180.0, -90.0, 180.0, 90.0]))
            .unwrap();
        for k in 0..20 {
            hub.publish_alert(format!("{{\"id\":\"{k}\"}}").into());
        }
        let inner = c.inner.lock().unwrap();
        assert_eq!(inner.alerts.len(), 5);
        assert_eq!(&*inner.alerts[0], "{\"id\":\"15\"}");
        assert_eq!(hub.stats.alerts_dropped.load(Ordering::Relaxed), 15);
    }

    #[test]
    fn subscription_limit() {
        let hub = Hub::new(Limits {
            max_subscriptions: 2,
            ..Limits::default()
        });
        let c = hub.connect();
        assert!(hub.subscribe(&c, sub("a", [0.0, 0.0, 1.0, 1.0])).is_ok());
        assert!(hub.subscribe(&c, sub("b", [0.0, 0.0, 1.0, 1.0])).is_ok());
        assert!(
            hub.subscribe(&c, sub("a", [0.0, 0.0, 2.0, 2.0])).is_ok(),
            "replacing is fine"
        );
        assert!(hub.subscribe(&c, sub("c", [0.0, 0.0, 1.0, 1.0])).is_err());
    }
}
