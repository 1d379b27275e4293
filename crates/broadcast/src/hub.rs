//! The hub: fans picture changes out to connected clients, coalescing per
//! client, and keeps the *published picture* that snapshots are read from.
//!
//! **Published picture.** The hub holds the latest [`VesselWire`] of every
//! vessel the pipeline published (JSON serialised once per change, shared by
//! every client as an `Arc`). Snapshots are walked from it in MMSI order, a
//! part at a time, by each client's own session ([`Hub::snapshot_step`]): no
//! picture lock, no per-client serialisation, nothing inside the publish
//! loop. When no client is connected the pipeline stops publishing (it then
//! builds no views at all) and the hub forgets the published picture
//! ([`Hub::feed`] says [`Feed::Off`]); when a client connects again the
//! pipeline republishes everything in one go ([`Feed::Resync`] →
//! [`Hub::resync`]) and snapshots wait for that.
//!
//! **Per client, per subscription**, the hub keeps a *pending* map — MMSI →
//! latest change (latest state wins). When a change is published the hub,
//! for every subscription: records an upsert when the vessel's new state
//! matches the subscription's boxes and filter, a removal when its previous
//! published state matched but the new one does not (or it left the
//! picture), and nothing otherwise. A quick test against the union box of
//! the subscription rejects most changes with four comparisons. A client
//! that reads slowly therefore receives current positions when it catches
//! up, never a backlog.
//!
//! **Bounds.** Each client's pending changes are counted in bytes (the JSON
//! they will cost on the wire). Past [`Limits::max_queued_bytes`] (or past
//! [`Limits::max_pending`] vessels in one subscription) they are
//! dropped, every vessel subscription of that client is marked for a fresh
//! snapshot (counted in [`HubStats::overflow_resnapshots`]), and nothing
//! more is queued for it until the snapshot starts. A snapshot in progress
//! queues only changes to vessels it has already sent (the rest it will
//! read, current, when it gets there). So a stalled client holds at most its
//! byte budget of pending changes plus the one message being written
//! ([`Limits::max_message_bytes`]); its session disconnects it after
//! [`Limits::stall_timeout`] without progress, and everything it held is
//! freed when it goes.
//!
//! Alerts are not coalesced (each one matters): they queue per client up to
//! a bound, dropping (and counting) the oldest beyond it.
//!
//! Publishing takes each client's lock briefly and wakes a client only when
//! it has something new to act on; socket writes happen in the clients' own
//! tasks ([`crate::session`]), so a stalled client never delays the
//! pipeline or the others.
//!
//! Locks nest in one order only — the client list, then one client, then
//! the published picture — and nothing waits for another lock while holding
//! the published picture's, so no interleaving of publishers, sessions and
//! HTTP handlers can deadlock.

use crate::protocol::{Channels, Limits, Subscribe};
use crate::view::{BBox, Change, Filter, VesselWire};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use tokio::sync::Notify;
use tokio::time::Instant;

/// Bytes a pending removal is counted as (an MMSI and a comma).
const REMOVAL_BYTES: usize = 11;

/// Entries of the published picture a snapshot step looks at while holding
/// the locks, at most (then it lets the pipeline in).
const SNAPSHOT_SCAN_STEP: usize = 8_192;

/// Hashing of MMSIs for the pending maps (the fan-out's hottest path): one
/// multiplication by an odd key drawn at random once per process, so
/// colliding MMSIs cannot be worked out in advance from the code.
#[derive(Clone, Copy)]
pub struct MmsiHash(u64);

impl Default for MmsiHash {
    fn default() -> Self {
        static KEY: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        MmsiHash(*KEY.get_or_init(|| {
            std::collections::hash_map::RandomState::new().hash_one(0x006c_6f6f_6b6f_7574_u64) | 1
        }))
    }
}

impl BuildHasher for MmsiHash {
    type Hasher = MmsiHasher;
    fn build_hasher(&self) -> MmsiHasher {
        MmsiHasher { key: self.0, h: 0 }
    }
}

/// See [`MmsiHash`].
pub struct MmsiHasher {
    key: u64,
    h: u64,
}

impl Hasher for MmsiHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.h = (self.h.rotate_left(8) ^ b as u64).wrapping_mul(self.key);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.h = (self.h ^ n as u64).wrapping_mul(self.key);
    }
    fn finish(&self) -> u64 {
        self.h ^ (self.h >> 32)
    }
}

/// A subscription's pending changes, by MMSI.
pub type PendingMap = HashMap<u32, Pending, MmsiHash>;

/// A pending change for one vessel.
#[derive(Debug, Clone)]
pub enum Pending {
    Upsert(Arc<VesselWire>),
    Remove,
}

impl Pending {
    /// What the change costs on the wire, roughly.
    pub fn bytes(&self) -> usize {
        match self {
            Pending::Upsert(w) => w.json.len() + 1,
            Pending::Remove => REMOVAL_BYTES,
        }
    }
}

/// A snapshot being sent, part by part, in MMSI order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Walk {
    /// The next MMSI to look at: vessels from here on are not sent yet.
    pub next: u32,
    /// Parts sent so far (the first is the `snapshot` message).
    pub parts: u32,
}

/// One subscription's state.
pub struct SubState {
    pub id: String,
    /// Changes with each `subscribe` (a replaced subscription is a new one).
    pub generation: u64,
    pub bboxes: Vec<BBox>,
    pub filter: Filter,
    pub interval: std::time::Duration,
    pub channels: Channels,
    /// Alerts only where the boxes hold their position (`"alerts":"area"`).
    pub alerts_area: bool,
    /// Union of the boxes `[min_lon, min_lat, max_lon, max_lat]` (whole
    /// longitude range when a box crosses the antimeridian): a quick reject.
    bound: [f64; 4],
    /// Changes not yet sent.
    pub pending: PendingMap,
    /// Bytes `pending` will cost on the wire.
    pub pending_bytes: usize,
    /// The subscription is new or overflowed: send a snapshot.
    pub needs_snapshot: bool,
    /// A snapshot being sent.
    pub walk: Option<Walk>,
    /// When the next update may be sent.
    pub due: Instant,
}

impl SubState {
    /// Does the vessel match the boxes and the filter?
    pub fn matches(&self, w: &VesselWire) -> bool {
        let v = &w.view;
        self.bboxes.iter().any(|b| b.contains(v.lon, v.lat)) && self.filter.matches(v)
    }

    #[inline]
    fn may_contain(&self, lon: f64, lat: f64) -> bool {
        let b = &self.bound;
        lon >= b[0] && lat >= b[1] && lon <= b[2] && lat <= b[3]
    }

    fn clear_pending(&mut self) {
        self.pending = PendingMap::default();
        self.pending_bytes = 0;
    }
}

fn union_bound(boxes: &[BBox]) -> [f64; 4] {
    let mut b = [f64::INFINITY, f64::INFINITY, -f64::INFINITY, -f64::INFINITY];
    for x in boxes {
        let (lo, hi) = if x.min_lon <= x.max_lon {
            (x.min_lon, x.max_lon)
        } else {
            (-180.0, 180.0)
        };
        b = [
            b[0].min(lo),
            b[1].min(x.min_lat),
            b[2].max(hi),
            b[3].max(x.max_lat),
        ];
    }
    b
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
    /// Ids of the alerts sent to this client while it had an area-filtered
    /// alerts subscription: their later changes are sent wherever they
    /// are, so an alert shown is never left without its clearing
    /// (bounded: forgotten beyond [`MAX_AREA_ALERT_IDS`]).
    pub area_alert_ids: std::collections::HashSet<Arc<str>>,
}

/// An alert's id and position (`lon`, `lat`), for the area filter.
type AlertPlace = (Option<Arc<str>>, Option<(f64, f64)>);

/// Alert ids remembered per client for the area filter.
pub const MAX_AREA_ALERT_IDS: usize = 10_000;

impl ClientInner {
    /// Bytes of vessel changes waiting for this client.
    pub fn pending_bytes(&self) -> usize {
        self.subs.iter().map(|s| s.pending_bytes).sum()
    }
}

/// One connected client, shared between the hub and its session task.
pub struct ClientHandle {
    pub id: u64,
    pub inner: Mutex<ClientInner>,
    /// Woken when something was queued that the session must act on.
    pub notify: Notify,
    /// Bytes of the message being written to the socket now.
    pub in_flight: AtomicUsize,
}

impl ClientHandle {
    pub fn lock(&self) -> MutexGuard<'_, ClientInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Bytes held for this client: pending changes plus the message being
    /// written (bounded by the byte budget plus one message).
    pub fn queued_bytes(&self) -> usize {
        self.lock().pending_bytes() + self.in_flight.load(Ordering::Relaxed)
    }
}

/// Counters, exported as metrics.
#[derive(Default)]
pub struct HubStats {
    pub clients: AtomicU64,
    pub changes_published: AtomicU64,
    pub alerts_published: AtomicU64,
    /// Clients whose pending changes passed the byte budget and were
    /// resnapshotted.
    pub overflow_resnapshots: AtomicU64,
    /// Alerts dropped from full per-client queues.
    pub alerts_dropped: AtomicU64,
    /// Clients disconnected for stalling.
    pub stalled_disconnects: AtomicU64,
    /// Client messages refused with an error.
    pub client_errors: AtomicU64,
    pub messages_sent: AtomicU64,
    pub bytes_sent: AtomicU64,
    /// Snapshots sent in full.
    pub snapshots_sent: AtomicU64,
    /// `subscribe` messages refused with `rate_limited` (over
    /// `max_snapshots_per_window`).
    pub rate_limited: AtomicU64,
    /// WebSocket connections closed for a protocol error (close code 1002,
    /// 1007 or 1009).
    pub protocol_closes: AtomicU64,
    /// The HTTP server's counters (connections, timeouts, error answers).
    pub http: crate::conn::HttpStats,
}

/// A client asked for more subscriptions than allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManySubscriptions;

/// What the publisher (the pipeline) should do before publishing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// No client: publish nothing (the hub has forgotten the picture).
    Off,
    /// Clients are waiting for a picture the hub does not have: call
    /// [`Hub::resync`] with every vessel.
    Resync,
    /// Publish changes.
    Live,
}

/// The latest published state of every vessel.
struct Published {
    vessels: BTreeMap<u32, Arc<VesselWire>>,
    /// False while the publisher is off (no client): snapshots wait.
    valid: bool,
}

/// One published change, with the vessel's previous published state.
struct Entry {
    mmsi: u32,
    new: Option<Arc<VesselWire>>,
    old: Option<Arc<VesselWire>>,
    new_pos: (f64, f64),
    old_pos: (f64, f64),
}

fn pos(w: &Option<Arc<VesselWire>>) -> (f64, f64) {
    w.as_ref()
        .map_or((f64::NAN, f64::NAN), |w| (w.view.lon, w.view.lat))
}

/// One step of a snapshot walk.
pub struct SnapshotStep {
    /// The subscription was replaced or removed: drop the walk.
    pub gone: bool,
    /// The walk reached the end of the picture.
    pub done: bool,
    /// This step started a new walk (and emptied `out` of what an abandoned
    /// one had gathered).
    pub restarted: bool,
    /// The number of the part being gathered (0: the `snapshot` message).
    pub part: u32,
}

impl SnapshotStep {
    const GONE: SnapshotStep = SnapshotStep {
        gone: true,
        done: true,
        restarted: false,
        part: 0,
    };
}

/// Fan-out of changes to clients.
pub struct Hub {
    limits: Limits,
    clients: RwLock<Vec<Arc<ClientHandle>>>,
    published: RwLock<Published>,
    next_id: AtomicU64,
    next_generation: AtomicU64,
    /// Woken when a client connects while the published picture is off.
    resync_wanted: Notify,
    pub stats: HubStats,
    /// Contacts/incidents in their bounded channel form (`crate::sar_channel`).
    pub sar: crate::sar_channel::SarPublisher,
}

impl Hub {
    /// A hub whose published picture starts empty and valid (publish into
    /// it directly; [`Hub::feed`] switches it off while no one listens).
    pub fn new(limits: Limits) -> Hub {
        Hub {
            limits,
            clients: RwLock::new(Vec::new()),
            published: RwLock::new(Published {
                vessels: BTreeMap::new(),
                valid: true,
            }),
            next_id: AtomicU64::new(1),
            next_generation: AtomicU64::new(1),
            resync_wanted: Notify::new(),
            stats: HubStats::default(),
            sar: crate::sar_channel::SarPublisher::default(),
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    fn clients(&self) -> std::sync::RwLockReadGuard<'_, Vec<Arc<ClientHandle>>> {
        self.clients.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Register a new client.
    pub fn connect(&self) -> Arc<ClientHandle> {
        let c = Arc::new(ClientHandle {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            inner: Mutex::new(ClientInner::default()),
            notify: Notify::new(),
            in_flight: AtomicUsize::new(0),
        });
        {
            let mut clients = self.clients.write().unwrap_or_else(|e| e.into_inner());
            clients.push(c.clone());
            self.stats
                .clients
                .store(clients.len() as u64, Ordering::SeqCst);
        }
        // Counted before looking: either `feed` sees this client, or it has
        // switched the picture off already and this asks for a resync (the
        // client's snapshot waits for it). No other lock is held while the
        // published picture's is taken (locks nest clients → client →
        // published only).
        if !self.picture_ready() {
            self.resync_wanted.notify_one();
        }
        c
    }

    /// Resolves when a client connected while the published picture was
    /// off (the publisher should call [`Hub::feed`] now, not wait for its
    /// next change).
    pub async fn resync_wanted(&self) {
        self.resync_wanted.notified().await
    }

    /// Forget a client (its queued state goes with its handle).
    pub fn disconnect(&self, id: u64) {
        let mut clients = self.clients.write().unwrap_or_else(|e| e.into_inner());
        clients.retain(|c| c.id != id);
        self.stats
            .clients
            .store(clients.len() as u64, Ordering::SeqCst);
    }

    /// Number of connected clients.
    pub fn client_count(&self) -> usize {
        self.clients().len()
    }

    /// Bytes queued for each client (pending changes plus the message in
    /// flight), largest first.
    pub fn queued_bytes(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.clients().iter().map(|c| c.queued_bytes()).collect();
        v.sort_unstable_by(|a, b| b.cmp(a));
        v
    }

    /// Vessels in the published picture.
    pub fn published_len(&self) -> usize {
        self.published
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .vessels
            .len()
    }

    /// Whether snapshots can be read now.
    pub fn picture_ready(&self) -> bool {
        self.published
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .valid
    }

    /// Called by the publisher before publishing: with no client connected
    /// the published picture is dropped (memory returned) and nothing need
    /// be published; when clients came back it must be rebuilt first.
    pub fn feed(&self) -> Feed {
        let mut p = self.published.write().unwrap_or_else(|e| e.into_inner());
        if self.stats.clients.load(Ordering::SeqCst) == 0 {
            if p.valid {
                p.valid = false;
                p.vessels = BTreeMap::new();
            }
            Feed::Off
        } else if p.valid {
            Feed::Live
        } else {
            Feed::Resync
        }
    }

    /// Replace the published picture with `all` (every vessel) and wake the
    /// clients waiting for their snapshots.
    pub fn resync(&self, all: Vec<Arc<VesselWire>>) {
        {
            let mut p = self.published.write().unwrap_or_else(|e| e.into_inner());
            p.vessels = all.into_iter().map(|w| (w.view.mmsi, w)).collect();
            p.valid = true;
        }
        for c in self.clients().iter() {
            c.notify.notify_one();
        }
    }

    /// Add or replace subscription `s` of `client`. Refused when the client
    /// already has the maximum number of other subscriptions.
    pub fn subscribe(
        &self,
        client: &ClientHandle,
        s: Subscribe,
    ) -> Result<(), TooManySubscriptions> {
        let mut inner = client.lock();
        let existing = inner.subs.iter().position(|x| x.id == s.id);
        if existing.is_none() && inner.subs.len() >= self.limits.max_subscriptions {
            return Err(TooManySubscriptions);
        }
        let state = SubState {
            id: s.id,
            generation: self.next_generation.fetch_add(1, Ordering::Relaxed),
            bound: union_bound(&s.bboxes),
            bboxes: s.bboxes,
            filter: s.filter,
            interval: s.interval,
            channels: s.channels,
            alerts_area: s.alerts_area,
            pending: PendingMap::default(),
            pending_bytes: 0,
            needs_snapshot: s.channels.vessels,
            walk: None,
            due: Instant::now(),
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
        let mut inner = client.lock();
        let before = inner.subs.len();
        inner.subs.retain(|s| s.id != id);
        before != inner.subs.len()
    }

    /// Publish a batch of picture changes: update the published picture,
    /// then queue each change for every subscription it concerns.
    pub fn publish(&self, changes: &[Change]) {
        if changes.is_empty() {
            return;
        }
        self.stats
            .changes_published
            .fetch_add(changes.len() as u64, Ordering::Relaxed);
        let entries: Vec<Entry> = {
            let mut p = self.published.write().unwrap_or_else(|e| e.into_inner());
            changes
                .iter()
                .map(|c| {
                    let (mmsi, new, old) = match c {
                        Change::Upsert(w) => (
                            w.view.mmsi,
                            Some(w.clone()),
                            p.vessels.insert(w.view.mmsi, w.clone()),
                        ),
                        Change::Remove(m) => (*m, None, p.vessels.remove(m)),
                    };
                    Entry {
                        mmsi,
                        new_pos: pos(&new),
                        old_pos: pos(&old),
                        new,
                        old,
                    }
                })
                .collect()
        };
        for c in self.clients().iter() {
            let wake = self.fan_out(c, &entries);
            if wake {
                c.notify.notify_one();
            }
        }
    }

    /// Queue `entries` for one client; true when its session must wake.
    fn fan_out(&self, c: &ClientHandle, entries: &[Entry]) -> bool {
        let mut inner = c.lock();
        let mut wake = false;
        // Checked after every change, so the budget is never passed by more
        // than one vessel's JSON.
        let mut total = inner.pending_bytes();
        let mut overflow = false;
        'subs: for sub in inner.subs.iter_mut() {
            if !sub.channels.vessels || sub.needs_snapshot {
                // A snapshot is coming: it will carry the current state.
                continue;
            }
            for e in entries {
                if !(sub.may_contain(e.new_pos.0, e.new_pos.1)
                    || sub.may_contain(e.old_pos.0, e.old_pos.1))
                {
                    continue;
                }
                if sub.walk.is_some_and(|w| e.mmsi >= w.next) {
                    // The snapshot being sent has not got there yet; it
                    // will read the current state.
                    continue;
                }
                let change = match &e.new {
                    Some(w) if sub.matches(w) => Pending::Upsert(w.clone()),
                    _ if e.old.as_ref().is_some_and(|o| sub.matches(o)) => Pending::Remove,
                    _ => continue,
                };
                wake |= sub.pending.is_empty();
                let (add, prev) = (change.bytes(), sub.pending.insert(e.mmsi, change));
                let sub_bytes = prev.map_or(0, |p| p.bytes());
                sub.pending_bytes = sub.pending_bytes + add - sub_bytes;
                total = total + add - sub_bytes;
                if total > self.limits.max_queued_bytes
                    || sub.pending.len() > self.limits.max_pending
                {
                    overflow = true;
                    break 'subs;
                }
            }
        }
        if overflow {
            // Past the budget: give up deltas, send a fresh snapshot when the
            // client reads again.
            for sub in inner.subs.iter_mut().filter(|s| s.channels.vessels) {
                sub.clear_pending();
                sub.walk = None;
                sub.needs_snapshot = true;
            }
            self.stats
                .overflow_resnapshots
                .fetch_add(1, Ordering::Relaxed);
            wake = true;
        }
        wake
    }

    /// One step of subscription `sub` (index, of `generation`) of `client`'s
    /// snapshot: starts the walk if the subscription needs a snapshot, then
    /// appends matching vessels from the published picture to `out` until
    /// it holds `max_bytes` of JSON or [`SNAPSHOT_SCAN_STEP`] entries were
    /// looked at. Both locks are held for the step, so a change published
    /// meanwhile is either seen by the walk or queued as an update.
    pub fn snapshot_step(
        &self,
        client: &ClientHandle,
        sub: usize,
        generation: u64,
        out: &mut Vec<Arc<VesselWire>>,
        out_bytes: &mut usize,
        max_bytes: usize,
    ) -> SnapshotStep {
        let mut inner = client.lock();
        let Some(s) = inner
            .subs
            .get_mut(sub)
            .filter(|s| s.generation == generation)
        else {
            return SnapshotStep::GONE;
        };
        let mut restarted = false;
        if s.needs_snapshot {
            restarted = true;
            // Anything gathered belonged to an abandoned walk.
            out.clear();
            *out_bytes = 0;
            // Reset first: from now on every change reaches the client,
            // either through the walk or as an update.
            s.needs_snapshot = false;
            s.clear_pending();
            s.due = Instant::now() + s.interval;
            s.walk = Some(Walk { next: 0, parts: 0 });
        }
        let Some(mut walk) = s.walk else {
            return SnapshotStep::GONE;
        };
        let p = self.published.read().unwrap_or_else(|e| e.into_inner());
        let mut done = true;
        for (scanned, (&mmsi, w)) in p.vessels.range(walk.next..).enumerate() {
            if scanned >= SNAPSHOT_SCAN_STEP || *out_bytes >= max_bytes {
                walk.next = mmsi;
                done = false;
                break;
            }
            if s.matches(w) {
                *out_bytes += w.json.len() + 1;
                out.push(w.clone());
            }
        }
        drop(p);
        if done {
            s.walk = None;
        } else {
            s.walk = Some(walk);
        }
        SnapshotStep {
            gone: false,
            done,
            restarted,
            part: walk.parts,
        }
    }

    /// Count a part of a walk as sent (the first is the `snapshot`, later
    /// ones are updates).
    pub fn snapshot_part_sent(&self, client: &ClientHandle, sub: usize, generation: u64) {
        let mut inner = client.lock();
        if let Some(s) = inner
            .subs
            .get_mut(sub)
            .filter(|s| s.generation == generation)
        {
            if let Some(w) = &mut s.walk {
                w.parts += 1;
            }
        }
    }

    /// Publish an alert (its JSON object) to every client with an alerts
    /// channel.
    pub fn publish_alert(&self, alert_json: Arc<str>) {
        self.stats.alerts_published.fetch_add(1, Ordering::Relaxed);
        // Id and position, read once if a client filters by area.
        let mut where_: Option<AlertPlace> = None;
        let mut locate = || {
            where_
                .get_or_insert_with(|| {
                    let v: serde_json::Value =
                        serde_json::from_str(&alert_json).unwrap_or_default();
                    let id = v["id"].as_str().map(Arc::from);
                    let pos = v["lon"].as_f64().zip(v["lat"].as_f64());
                    (id, pos)
                })
                .clone()
        };
        for c in self.clients().iter() {
            let mut inner = c.lock();
            if !inner.subs.iter().any(|s| s.channels.alerts) {
                continue;
            }
            if inner
                .subs
                .iter()
                .any(|s| s.channels.alerts && s.alerts_area)
            {
                let (id, pos) = locate();
                let wanted = inner.subs.iter().any(|s| {
                    s.channels.alerts
                        && (!s.alerts_area
                            || pos.is_none_or(|(lon, lat)| {
                                s.bboxes.iter().any(|b| b.contains(lon, lat))
                            }))
                }) || id
                    .as_ref()
                    .is_some_and(|id| inner.area_alert_ids.contains(id));
                if !wanted {
                    continue;
                }
                if let Some(id) = id {
                    if inner.area_alert_ids.len() >= MAX_AREA_ALERT_IDS {
                        inner.area_alert_ids.clear();
                    }
                    inner.area_alert_ids.insert(id);
                }
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
        for c in self.clients().iter() {
            let mut inner = c.lock();
            if inner.subs.iter().any(|s| s.channels.zones) {
                inner.zones_changed = true;
                drop(inner);
                c.notify.notify_one();
            }
        }
    }

    /// Publish a changed contact or incident (its full JSON object) to
    /// clients with that channel, in its bounded channel form (last
    /// sightings, new log entries); bounded per client like alerts (see
    /// `crate::sar_channel`).
    pub fn publish_sar(&self, kind: crate::sar_channel::SarKind, json: Arc<str>) {
        let json = self.sar.channel_json(kind, &json);
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
        for c in self.clients().iter() {
            let mut inner = c.lock();
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

    fn wire(mmsi: u32, lon: f64, lat: f64) -> Arc<VesselWire> {
        VesselWire::new(VesselView {
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
        })
    }

    fn vessel(mmsi: u32, lon: f64, lat: f64) -> Change {
        Change::Upsert(wire(mmsi, lon, lat))
    }

    fn sub(id: &str, bbox: [f64; 4]) -> Subscribe {
        Subscribe {
            id: id.into(),
            bboxes: vec![BBox::from_array(bbox).unwrap()],
            filter: Filter::default(),
            interval: std::time::Duration::from_secs(1),
            channels: Channels::DEFAULT,
            alerts_area: false,
        }
    }

    /// Run the whole snapshot walk of subscription 0.
    fn snapshot(hub: &Hub, c: &ClientHandle) -> Vec<u32> {
        let generation = c.lock().subs[0].generation;
        let mut out = Vec::new();
        loop {
            let mut bytes = 0;
            let step = hub.snapshot_step(c, 0, generation, &mut out, &mut bytes, 1 << 20);
            if step.done {
                return out.iter().map(|w| w.view.mmsi).collect();
            }
        }
    }

    #[test]
    fn coalesces_latest_state_and_removes_on_leaving_the_box() {
        let hub = Hub::new(Limits::default());
        let c = hub.connect();
        hub.subscribe(&c, sub("s", [10.0, 30.0, 20.0, 40.0]))
            .unwrap();
        assert!(snapshot(&hub, &c).is_empty());
        for k in 0..100 {
            hub.publish(&[vessel(1, 11.0 + k as f64 * 0.01, 35.0)]);
        }
        {
            let inner = c.lock();
            assert_eq!(inner.subs[0].pending.len(), 1);
            let Pending::Upsert(w) = &inner.subs[0].pending[&1] else {
                panic!()
            };
            assert!((w.view.lon - 11.99).abs() < 1e-9, "latest wins");
            assert_eq!(inner.pending_bytes(), w.json.len() + 1, "counted once");
        }
        c.lock().subs[0].clear_pending();
        hub.publish(&[vessel(1, 25.0, 35.0), vessel(2, 25.0, 35.0)]);
        let inner = c.lock();
        assert!(matches!(inner.subs[0].pending[&1], Pending::Remove));
        assert!(
            !inner.subs[0].pending.contains_key(&2),
            "never shown, nothing to remove"
        );
    }

    #[test]
    fn a_snapshot_walk_sees_every_vessel_once_and_changes_behind_it_become_updates() {
        let hub = Hub::new(Limits::default());
        for m in 0..20_000 {
            hub.publish(&[vessel(m, 12.0, 35.0)]);
        }
        let c = hub.connect();
        hub.subscribe(&c, sub("s", [10.0, 30.0, 20.0, 40.0]))
            .unwrap();
        let generation = c.lock().subs[0].generation;
        let mut out = Vec::new();
        let mut bytes = 0;
        let step = hub.snapshot_step(&c, 0, generation, &mut out, &mut bytes, usize::MAX);
        assert!(!step.done, "one step looks at a bounded number of vessels");
        let next = c.lock().subs[0].walk.unwrap().next;
        assert_eq!(next as usize, SNAPSHOT_SCAN_STEP);
        // A vessel already walked moves: queued. One not walked yet: not
        // queued (the walk will read it).
        hub.publish(&[vessel(5, 12.5, 35.0), vessel(15_000, 12.5, 35.0)]);
        {
            let inner = c.lock();
            assert!(inner.subs[0].pending.contains_key(&5));
            assert!(!inner.subs[0].pending.contains_key(&15_000));
        }
        loop {
            let mut bytes = 0;
            if hub
                .snapshot_step(&c, 0, generation, &mut out, &mut bytes, usize::MAX)
                .done
            {
                break;
            }
        }
        assert_eq!(out.len(), 20_000);
        let w = out.iter().find(|w| w.view.mmsi == 15_000).unwrap();
        assert_eq!(w.view.lon, 12.5, "the walk read the current state");
    }

    #[test]
    fn past_the_byte_budget_pending_changes_are_dropped_for_a_snapshot() {
        let hub = Hub::new(Limits {
            max_queued_bytes: 10_000,
            ..Limits::default()
        });
        let c = hub.connect();
        hub.subscribe(&c, sub("s", [-180.0, -90.0, 180.0, 90.0]))
            .unwrap();
        snapshot(&hub, &c);
        let batch: Vec<_> = (0..1000).map(|m| vessel(m, 0.0, 0.0)).collect();
        hub.publish(&batch);
        let inner = c.lock();
        assert_eq!(inner.pending_bytes(), 0);
        assert!(inner.subs[0].pending.is_empty());
        assert!(inner.subs[0].needs_snapshot);
        assert_eq!(hub.stats.overflow_resnapshots.load(Ordering::Relaxed), 1);
        drop(inner);
        // While it waits for the snapshot nothing more is queued.
        hub.publish(&batch);
        assert_eq!(c.queued_bytes(), 0);
    }

    #[test]
    fn with_no_client_the_published_picture_is_dropped_and_rebuilt_on_demand() {
        let hub = Hub::new(Limits::default());
        hub.publish(&[vessel(1, 12.0, 35.0)]);
        assert_eq!(hub.feed(), Feed::Off);
        assert_eq!(hub.published_len(), 0);
        let c = hub.connect();
        assert!(!hub.picture_ready());
        use futures_util::FutureExt;
        assert!(
            hub.resync_wanted().now_or_never().is_some(),
            "the publisher is woken"
        );
        assert_eq!(hub.feed(), Feed::Resync);
        hub.resync(vec![wire(1, 12.0, 35.0), wire(2, 13.0, 35.0)]);
        assert_eq!(hub.feed(), Feed::Live);
        hub.subscribe(&c, sub("s", [10.0, 30.0, 20.0, 40.0]))
            .unwrap();
        assert_eq!(snapshot(&hub, &c), [1, 2]);
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
        let inner = c.lock();
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
