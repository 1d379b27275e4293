//! The live picture: decoded AIS in, vessel records, spatial answers and
//! change events out.
//!
//! [`Picture`] owns the [`VesselTable`], the vessel R-tree
//! ([`VesselIndex`]), the [`ZoneIndex`] with each zone's current members,
//! the staleness queue, the duplicate filter and the [`EventSink`].
//! [`Picture::apply`] takes one [`Decoded`] message:
//!
//! 1. only the types the picture uses (1–5, 9, 18, 19, 21, 24, 27) go on;
//! 2. its time is the message time — TAG block `c:` when present, else the
//!    receive time the caller passes, else the picture's clock — never the
//!    wall clock, so a replay gives the same picture and the same events;
//! 3. a copy of a transmission already applied within the dedup window
//!    (same payload hash, another receiver) is dropped ([`crate::dedup`]);
//! 4. the clock moves forward to the message time, running any staleness
//!    transitions that fell due ([`Picture::advance_time`] does the same
//!    when the feed is quiet);
//! 5. the record is found or created, its class derived, static data
//!    merged, and a position checked ([`crate::plausibility`]) before it
//!    moves the vessel in the R-tree, updates its zone membership and its
//!    track.
//!
//! Every change is pushed to the event sink as an [`Event`].
//!
//! # Readers and ingest: one `RwLock`, short critical sections
//!
//! The picture is plain data (`Send + Sync`, no interior mutability, no
//! threads). A server shares it as [`SharedPicture`] =
//! `Arc<RwLock<Picture>>`: the ingest task takes the write lock for a small
//! batch (a few hundred messages, well under a millisecond at the measured
//! ~1 µs per update) and releases it; HTTP and WebSocket handlers take the
//! read lock for one query, copy out what they need — the query methods
//! return references into the picture, so the copy is the reader's choice
//! — and serialise *after* releasing it. Every reader therefore sees the
//! picture between two whole batches (consistent), and ingest waits at
//! most one query (a 10 000-vessel viewport is under 2 ms; k-nearest and
//! single-vessel look-ups are microseconds).
//!
//! The alternative — publishing an immutable `Arc` snapshot every second
//! — was rejected: at a million vessels a snapshot means copying every
//! record and bulk-loading a fresh R-tree, hundreds of milliseconds of a
//! core each time, to save readers a lock that costs them nothing
//! measurable. Consumers that need a running copy (the broadcast layer, a
//! remote machine) follow the event stream instead, starting from
//! [`Picture::vessels`].
//!
//! ```
//! use std::sync::{Arc, RwLock};
//! use lookout_ais::{Decoder, DecoderOptions};
//! use spatial_index::{Picture, PictureConfig, SharedPicture, ZoneIndex};
//!
//! let shared: SharedPicture = Arc::new(RwLock::new(Picture::new(PictureConfig::default(), ZoneIndex::empty())));
//! let mut decoder = Decoder::new(DecoderOptions::default());
//! // Ingest: a batch under the write lock.
//! {
//!     let mut p = shared.write().unwrap();
//!     decoder
//!         .decode_line(b"\\c:1700000000*5F\\!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A", |d| {
//!             p.apply(&d, None);
//!         })
//!         .unwrap();
//!     let events: Vec<_> = p.events_mut().drain().collect();
//!     assert_eq!(events.len(), 2); // vessel_new, vessel_updated
//! }
//! // A reader: one query, results copied out.
//! let near: Vec<(u32, f64)> = {
//!     let p = shared.read().unwrap();
//!     p.nearest(48.4, -123.4, 5).into_iter().map(|(v, nm)| (v.mmsi, nm)).collect()
//! };
//! assert_eq!(near[0].0, 371_798_000);
//! ```

use std::sync::{Arc, RwLock};

use lookout_ais::messages::{Body, StaticDataReport};
use lookout_ais::Decoded;
use serde::{Deserialize, Serialize};

use crate::events::{Event, EventSink, Flag};
use crate::geobox::GeoBox;
use crate::geodesy::NM;
use crate::hash::FastSet;
use crate::plausibility::{implied_knots, usable_position, PlausibilityConfig, Unusable};
use crate::query;
use crate::staleness::{ReportCategory, StalenessPolicy, StalenessQueue};
use crate::table::VesselTable;
use crate::track::TrackConfig;
use crate::vessel::{derive_class, Fix, Vessel, VesselFlags, VesselState};
use crate::vessel_index::VesselIndex;
use crate::zones::index::box_contains;
use crate::zones::{Zone, ZoneIndex};

/// The picture shared between ingest (writer) and readers.
pub type SharedPicture = Arc<RwLock<Picture>>;

/// Tunables of the picture. The defaults are the issue's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PictureConfig {
    /// Copies of one transmission within this much message time count
    /// once (default 5 s; 0 disables).
    pub dedup_window_ms: i64,
    /// Stale / lost / removed thresholds.
    pub staleness: StalenessPolicy,
    /// Jump check.
    pub plausibility: PlausibilityConfig,
    /// Track history bounds and thinning.
    pub track: TrackConfig,
    /// Events held until drained (default 65 536; the oldest are dropped
    /// and counted beyond that).
    pub event_capacity: usize,
    /// Emit `vessel_updated` for every applied report (default true).
    pub emit_updates: bool,
    /// Half-width of a vessel's box in the R-tree, degrees (default 0.05).
    pub tree_margin_deg: f64,
    /// A message time more than this ahead of the clock is refused
    /// (default 6 h) — unless 64 such messages in a row say the clock is
    /// wrong, as after a gap in a replay.
    pub max_forward_jump_ms: i64,
    /// Most records held; reports from further new MMSIs are refused and
    /// counted (default 4 million).
    pub max_vessels: usize,
}

impl Default for PictureConfig {
    fn default() -> Self {
        PictureConfig {
            dedup_window_ms: 5_000,
            staleness: StalenessPolicy::default(),
            plausibility: PlausibilityConfig::default(),
            track: TrackConfig::default(),
            event_capacity: 1 << 16,
            emit_updates: true,
            tree_margin_deg: 0.05,
            max_forward_jump_ms: 6 * 3_600_000,
            max_vessels: 4_000_000,
        }
    }
}

const RESYNC_AFTER: u32 = 64;

/// What [`Picture::apply`] did with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Applied to a record.
    Applied,
    /// A copy of a transmission already applied.
    Duplicate,
    /// A message type the picture does not use.
    Ignored,
    /// No message time, no receive time and no clock yet.
    NoTime,
    /// Message time implausibly far ahead of the clock, or so old that the
    /// record would already have been removed.
    TimeRejected,
    /// A new MMSI while the table is full.
    Refused,
}

/// Counters of everything the picture was given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PictureStats {
    pub applied: u64,
    pub duplicates: u64,
    pub ignored: u64,
    pub no_time: u64,
    pub time_rejected: u64,
    pub refused: u64,
    /// Position reports older than the record's position (kept out).
    pub out_of_order: u64,
    /// Position reports held back as implausible jumps.
    pub implausible_jumps: u64,
    /// Jumps later confirmed by a consistent report, and applied.
    pub confirmed_jumps: u64,
    /// Position reports without a usable position.
    pub position_unavailable: u64,
    /// Zone membership recomputations (the vessel left its safe box).
    pub zone_checks: u64,
    pub vessels_created: u64,
    pub vessels_removed: u64,
}

/// The dynamic part of a report.
struct Dynamic {
    lat: Option<f64>,
    lon: Option<f64>,
    accurate: bool,
    /// Speed, course, heading, status carried (false for base stations and
    /// aids to navigation).
    kinematics: bool,
    sog: Option<f32>,
    cog: Option<f32>,
    heading: Option<u16>,
    nav_status: Option<u8>,
    altitude: Option<u16>,
    aircraft: bool,
}

impl Dynamic {
    fn at(lat: Option<f64>, lon: Option<f64>, accurate: bool) -> Self {
        Dynamic {
            lat,
            lon,
            accurate,
            kinematics: false,
            sog: None,
            cog: None,
            heading: None,
            nav_status: None,
            altitude: None,
            aircraft: false,
        }
    }
}

/// The live picture. See the [module documentation](self).
#[derive(Debug)]
pub struct Picture {
    cfg: PictureConfig,
    table: VesselTable,
    index: VesselIndex,
    zones: ZoneIndex,
    /// Per zone: slots of the vessels inside.
    members: Vec<FastSet<u32>>,
    queue: StalenessQueue,
    events: EventSink,
    clock: Option<i64>,
    ahead_streak: u32,
    stats: PictureStats,
    scratch: Vec<u32>,
}

impl Picture {
    /// An empty picture with the given zones.
    pub fn new(cfg: PictureConfig, zones: ZoneIndex) -> Self {
        Picture {
            table: VesselTable::default(),
            index: VesselIndex::new(cfg.tree_margin_deg),
            members: vec![FastSet::default(); zones.len()],
            zones,
            queue: StalenessQueue::default(),
            events: EventSink::new(cfg.event_capacity),
            clock: None,
            ahead_streak: 0,
            stats: PictureStats::default(),
            scratch: Vec::new(),
            cfg,
        }
    }

    /// Would a message at `t` move the clock (not refused as implausibly
    /// far ahead of it)? The engine asks before running the rules' clock.
    pub fn admits_time(&self, t: i64) -> bool {
        self.clock
            .is_none_or(|c| t <= c.saturating_add(self.cfg.max_forward_jump_ms))
    }

    /// Apply one decoded message received at `received_ms` (ms since the
    /// epoch; used when the message has no TAG block time).
    pub fn apply(&mut self, d: &Decoded, received_ms: Option<i64>) -> Outcome {
        let msg = &d.message;
        if !matches!(msg.msg_type, 1..=5 | 9 | 18 | 19 | 21 | 24 | 27) {
            self.stats.ignored += 1;
            return Outcome::Ignored;
        }
        let Some(t) = d.time_ms(received_ms).or(self.clock) else {
            self.stats.no_time += 1;
            return Outcome::NoTime;
        };
        if let Some(c) = self.clock {
            if t > c.saturating_add(self.cfg.max_forward_jump_ms) {
                self.ahead_streak += 1;
                if self.ahead_streak < RESYNC_AFTER {
                    self.stats.time_rejected += 1;
                    return Outcome::TimeRejected;
                }
            } else {
                // Any message in step with the clock says the clock is right.
                self.ahead_streak = 0;
            }
        }
        // One look-up of the vessel per message (the table is the hot path).
        let existing = self.table.slot_of(msg.mmsi);
        if let Some(c) = self.clock {
            if existing.is_none() && t.saturating_add(self.cfg.staleness.remove_after_ms) <= c {
                self.stats.time_rejected += 1;
                return Outcome::TimeRejected;
            }
        }
        if let Some(s) = existing {
            if let Some(v) = self.table.by_slot_mut(s) {
                if v.recent
                    .is_duplicate(d.payload_hash, t, self.cfg.dedup_window_ms)
                {
                    self.stats.duplicates += 1;
                    return Outcome::Duplicate;
                }
            }
        }
        self.ahead_streak = 0;
        let removed_before = self.stats.vessels_removed;
        self.advance_time(t);
        let now = self.clock.unwrap_or(t);

        // The record may have been removed by advance_time just now.
        let still_there = |p: &Self| {
            p.stats.vessels_removed == removed_before || p.table.slot_of(msg.mmsi).is_some()
        };
        let slot = match existing.filter(|_| still_there(self)) {
            Some(s) => s,
            None => {
                if self.table.len() >= self.cfg.max_vessels {
                    self.stats.refused += 1;
                    return Outcome::Refused;
                }
                let mut v = Vessel::new(msg.mmsi, t);
                v.class = derive_class(v.class, msg.mmsi, msg.msg_type);
                v.flags.set(VesselFlags::OWN_SHIP, d.own_ship);
                v.recent.remember(d.payload_hash, t);
                self.events.push(Event::VesselNew {
                    mmsi: v.mmsi,
                    time_ms: t,
                    class: v.class,
                    flags: v.flags,
                });
                if v.flags.contains(VesselFlags::INVALID_MMSI) {
                    self.events.push(Event::VesselFlagged {
                        mmsi: v.mmsi,
                        time_ms: t,
                        flag: Flag::InvalidMmsi,
                    });
                }
                self.stats.vessels_created += 1;
                self.table.insert(v)
            }
        };
        let gen = self.table.generation(slot);
        let Picture {
            cfg,
            table,
            index,
            zones,
            members,
            queue,
            events,
            stats,
            scratch,
            ..
        } = self;
        let Some(v) = table.by_slot_mut(slot) else {
            return Outcome::Refused;
        };
        v.class = derive_class(v.class, msg.mmsi, msg.msg_type);
        v.messages = v.messages.saturating_add(1);
        if d.own_ship {
            v.flags.set(VesselFlags::OWN_SHIP, true);
        }

        let mut static_changed = false;
        let mut dynamic = None;
        match &msg.body {
            Body::Position(p) => {
                dynamic = Some(Dynamic {
                    kinematics: true,
                    sog: p.speed.map(|s| s as f32),
                    cog: p.course.map(|c| c as f32),
                    heading: p.heading,
                    nav_status: Some(p.status),
                    ..Dynamic::at(p.lat, p.lon, p.accuracy)
                })
            }
            Body::BaseStation(b) => dynamic = Some(Dynamic::at(b.lat, b.lon, b.accuracy)),
            Body::StaticVoyage(s) => static_changed = v.info_mut().merge_voyage(s),
            Body::SarAircraft(s) => {
                dynamic = Some(Dynamic {
                    kinematics: true,
                    sog: s.speed.map(f32::from),
                    cog: s.course.map(|c| c as f32),
                    altitude: s.alt,
                    aircraft: true,
                    ..Dynamic::at(s.lat, s.lon, s.accuracy)
                })
            }
            Body::ClassBPosition(b) => {
                dynamic = Some(Dynamic {
                    kinematics: true,
                    sog: b.speed.map(|s| s as f32),
                    cog: b.course.map(|c| c as f32),
                    heading: b.heading,
                    ..Dynamic::at(b.lat, b.lon, b.accuracy)
                })
            }
            Body::ClassBExtended(b) => {
                dynamic = Some(Dynamic {
                    kinematics: true,
                    sog: b.speed.map(|s| s as f32),
                    cog: b.course.map(|c| c as f32),
                    heading: b.heading,
                    ..Dynamic::at(b.lat, b.lon, b.accuracy)
                });
                let info = v.info_mut();
                static_changed = info.merge_name(&b.shipname);
                static_changed |= info.merge_type_dims(b.shiptype, &b.dimensions);
            }
            Body::AidToNavigation(a) => {
                dynamic = Some(Dynamic::at(a.lat, a.lon, a.accuracy));
                static_changed = v.info_mut().merge_aton(a);
            }
            Body::StaticData(StaticDataReport::PartA { shipname }) => {
                static_changed = v.info_mut().merge_name(shipname);
            }
            Body::StaticData(StaticDataReport::PartB(b)) => {
                static_changed = v.info_mut().merge_part_b(b);
            }
            Body::LongRange(l) => {
                dynamic = Some(Dynamic {
                    kinematics: true,
                    sog: l.speed.map(f32::from),
                    cog: l.course.map(f32::from),
                    nav_status: Some(l.status),
                    ..Dynamic::at(l.lat, l.lon, l.accuracy)
                })
            }
            _ => {}
        }
        if static_changed {
            if let Some(info) = v.info.as_mut() {
                info.updated_ms = info.updated_ms.max(t);
            }
        }

        let mut position_changed = false;
        if let Some(dy) = dynamic {
            position_changed = apply_dynamic(
                v, slot, t, &dy, cfg, index, zones, members, events, stats, scratch,
            );
        }

        // Liveness.
        v.last_seen_ms = v.last_seen_ms.max(t);
        let cat = ReportCategory::of(v.class, v.sog_kn, v.nav_status);
        let (state, _) = cfg.staleness.evaluate(cat, v.last_seen_ms, now);
        let state = state.unwrap_or(VesselState::Lost);
        if state != v.state {
            let was = v.state;
            v.state = state;
            let (stale_at, lost_at, _) = cfg.staleness.transition_times(cat, v.last_seen_ms);
            match state {
                VesselState::Active => events.push(Event::VesselActive {
                    mmsi: v.mmsi,
                    time_ms: t,
                    was,
                }),
                VesselState::Stale => events.push(Event::VesselStale {
                    mmsi: v.mmsi,
                    time_ms: stale_at,
                    last_seen_ms: v.last_seen_ms,
                }),
                VesselState::Lost => events.push(Event::VesselLost {
                    mmsi: v.mmsi,
                    time_ms: lost_at,
                    last_seen_ms: v.last_seen_ms,
                }),
            }
        }
        let (stale_at, lost_at, remove_at) = cfg.staleness.transition_times(cat, v.last_seen_ms);
        let next = match v.state {
            VesselState::Active => stale_at,
            VesselState::Stale => lost_at,
            VesselState::Lost => remove_at,
        };
        if next < v.check_at {
            v.check_at = next;
            queue.push(next, slot, gen);
        }

        if cfg.emit_updates {
            events.push(Event::VesselUpdated {
                mmsi: v.mmsi,
                time_ms: t,
                class: v.class,
                lat: v.position.map(|f| f.lat),
                lon: v.position.map(|f| f.lon),
                sog_kn: v.sog_kn,
                cog_deg: v.cog_deg,
                heading_deg: v.heading_deg,
                position_changed,
                static_changed,
            });
        }
        stats.applied += 1;
        Outcome::Applied
    }

    /// Move the clock to `now_ms` (if later) and make every staleness
    /// transition due by then: `stale`, `lost`, and removal, each an event
    /// stamped with the time it fell due.
    pub fn advance_time(&mut self, now_ms: i64) {
        let now = match self.clock {
            Some(c) if c >= now_ms => c,
            _ => {
                self.clock = Some(now_ms);
                now_ms
            }
        };
        while let Some((due, slot, gen)) = self.queue.pop_due(now) {
            if self.table.generation(slot) != gen {
                continue;
            }
            let policy = self.cfg.staleness;
            let Some(v) = self.table.by_slot_mut(slot) else {
                continue;
            };
            if v.check_at != due {
                continue;
            }
            v.check_at = i64::MAX;
            let cat = ReportCategory::of(v.class, v.sog_kn, v.nav_status);
            let (stale_at, lost_at, remove_at) = policy.transition_times(cat, v.last_seen_ms);
            if now >= stale_at && v.state == VesselState::Active {
                v.state = VesselState::Stale;
                self.events.push(Event::VesselStale {
                    mmsi: v.mmsi,
                    time_ms: stale_at,
                    last_seen_ms: v.last_seen_ms,
                });
            }
            if now >= lost_at && v.state == VesselState::Stale {
                v.state = VesselState::Lost;
                self.events.push(Event::VesselLost {
                    mmsi: v.mmsi,
                    time_ms: lost_at,
                    last_seen_ms: v.last_seen_ms,
                });
            }
            if now >= remove_at {
                self.remove_slot(slot, remove_at);
                continue;
            }
            let next = match v.state {
                VesselState::Active => stale_at,
                VesselState::Stale => lost_at,
                VesselState::Lost => remove_at,
            };
            v.check_at = next;
            self.queue.push(next, slot, gen);
        }
    }

    fn remove_slot(&mut self, slot: u32, time_ms: i64) {
        let Some(v) = self.table.remove(slot) else {
            return;
        };
        let (lat, lon) = v.position.map_or((f64::NAN, f64::NAN), |f| (f.lat, f.lon));
        for &z in &v.zones {
            if let Some(m) = self.members.get_mut(z as usize) {
                m.remove(&slot);
            }
            let zone = self.zones.zone(z);
            self.events.push(Event::ZoneLeft {
                mmsi: v.mmsi,
                time_ms,
                zone: zone.id.clone(),
                kind: zone.kind.clone(),
                alerts: zone.alerts,
                lat,
                lon,
            });
        }
        if let Some(b) = v.index.tree_box {
            self.index.remove(slot, b);
        }
        self.events.push(Event::VesselRemoved {
            mmsi: v.mmsi,
            time_ms,
            last_seen_ms: v.last_seen_ms,
        });
        self.stats.vessels_removed += 1;
    }

    /// Replace the zones (e.g. after an operator edited the zone files):
    /// every positioned vessel's membership is recomputed, with
    /// `zone_left` / `zone_entered` events for the differences (by zone id).
    pub fn set_zones(&mut self, zones: ZoneIndex) {
        let time_ms = self.clock.unwrap_or(0);
        let mut members = vec![FastSet::default(); zones.len()];
        let mut now_in = Vec::new();
        for (slot, v) in self.table.iter_mut() {
            let Some(fix) = v.position else {
                v.zones.clear();
                continue;
            };
            zones.zones_at(fix.lat, fix.lon, &mut now_in);
            v.index.safe_box = zones.safe_box(fix.lat, fix.lon);
            let was: Vec<&Zone> = v.zones.iter().map(|&z| self.zones.zone(z)).collect();
            let is: Vec<&Zone> = now_in.iter().map(|&z| zones.zone(z)).collect();
            for z in was.iter().filter(|z| !is.iter().any(|n| n.id == z.id)) {
                self.events.push(Event::ZoneLeft {
                    mmsi: v.mmsi,
                    time_ms,
                    zone: z.id.clone(),
                    kind: z.kind.clone(),
                    alerts: z.alerts,
                    lat: fix.lat,
                    lon: fix.lon,
                });
            }
            for z in is.iter().filter(|z| !was.iter().any(|o| o.id == z.id)) {
                self.events.push(Event::ZoneEntered {
                    mmsi: v.mmsi,
                    time_ms,
                    zone: z.id.clone(),
                    kind: z.kind.clone(),
                    alerts: z.alerts,
                    lat: fix.lat,
                    lon: fix.lon,
                });
            }
            for &z in &now_in {
                members[z as usize].insert(slot);
            }
            v.zones.clone_from(&now_in);
        }
        self.zones = zones;
        self.members = members;
    }

    // ---- reading ---------------------------------------------------------

    /// The record of an MMSI.
    pub fn vessel(&self, mmsi: u32) -> Option<&Vessel> {
        self.table.get(mmsi)
    }

    /// Every record (in slot order).
    pub fn vessels(&self) -> impl Iterator<Item = &Vessel> {
        self.table.iter().map(|(_, v)| v)
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// True when the picture holds no record.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    fn position_of(&self) -> impl Fn(u32) -> Option<(f64, f64)> + '_ {
        |slot| {
            self.table
                .by_slot(slot)
                .and_then(|v| v.position.map(|f| (f.lat, f.lon)))
        }
    }

    /// Vessels positioned inside any of the boxes (each once). A box with
    /// `west > east` crosses the antimeridian.
    pub fn in_boxes(&self, boxes: &[GeoBox]) -> Vec<&Vessel> {
        let mut slots = Vec::new();
        query::in_boxes(&self.index, boxes, self.position_of(), &mut slots);
        slots
            .into_iter()
            .filter_map(|s| self.table.by_slot(s))
            .collect()
    }

    /// Vessels within `radius_nm` nautical miles (great circle) of a point,
    /// nearest first, with their distances in nautical miles.
    pub fn within_radius(&self, lat: f64, lon: f64, radius_nm: f64) -> Vec<(&Vessel, f64)> {
        let mut found = Vec::new();
        query::within_radius(
            &self.index,
            lat,
            lon,
            radius_nm * NM,
            self.position_of(),
            &mut found,
        );
        self.with_vessels(found)
    }

    /// The `k` vessels nearest to a point (great circle), nearest first,
    /// with their distances in nautical miles.
    pub fn nearest(&self, lat: f64, lon: f64, k: usize) -> Vec<(&Vessel, f64)> {
        let mut found = Vec::new();
        query::nearest(&self.index, lat, lon, k, self.position_of(), &mut found);
        self.with_vessels(found)
    }

    fn with_vessels(&self, found: Vec<(u32, f64)>) -> Vec<(&Vessel, f64)> {
        found
            .into_iter()
            .filter_map(|(s, d)| self.table.by_slot(s).map(|v| (v, d / NM)))
            .collect()
    }

    /// Vessels inside a zone, by MMSI order; `None` for an unknown zone id.
    pub fn in_zone(&self, zone_id: &str) -> Option<Vec<&Vessel>> {
        let z = self.zones.index_of(zone_id)?;
        let mut v: Vec<&Vessel> = self.members[z as usize]
            .iter()
            .filter_map(|&s| self.table.by_slot(s))
            .collect();
        v.sort_unstable_by_key(|v| v.mmsi);
        Some(v)
    }

    /// The zones a vessel is in.
    pub fn zones_of<'a>(&'a self, v: &'a Vessel) -> impl Iterator<Item = &'a Zone> + 'a {
        v.zones.iter().map(move |&z| self.zones.zone(z))
    }

    /// The zone index.
    pub fn zones(&self) -> &ZoneIndex {
        &self.zones
    }

    /// The event sink, to drain.
    pub fn events_mut(&mut self) -> &mut EventSink {
        &mut self.events
    }

    /// The event sink, to inspect.
    pub fn events(&self) -> &EventSink {
        &self.events
    }

    /// Counters.
    pub fn stats(&self) -> &PictureStats {
        &self.stats
    }

    /// The clock: the latest message time applied (or given to
    /// [`Picture::advance_time`]).
    pub fn now_ms(&self) -> Option<i64> {
        self.clock
    }

    /// The configuration.
    pub fn config(&self) -> &PictureConfig {
        &self.cfg
    }

    /// Entries re-inserted in the vessel R-tree so far (vessels that left
    /// their box).
    pub fn tree_moves(&self) -> u64 {
        self.index.moves()
    }
}

/// Apply the dynamic part of a report to a record; true when the position
/// moved.
#[allow(clippy::too_many_arguments)]
#[inline]
fn apply_dynamic(
    v: &mut Vessel,
    slot: u32,
    t: i64,
    dy: &Dynamic,
    cfg: &PictureConfig,
    index: &mut VesselIndex,
    zones: &ZoneIndex,
    members: &mut [FastSet<u32>],
    events: &mut EventSink,
    stats: &mut PictureStats,
    scratch: &mut Vec<u32>,
) -> bool {
    let set_kinematics = |v: &mut Vessel| {
        if dy.kinematics {
            v.sog_kn = dy.sog;
            v.cog_deg = dy.cog;
            v.heading_deg = dy.heading;
            if dy.nav_status.is_some() {
                v.nav_status = dy.nav_status;
            }
            if dy.aircraft {
                v.altitude_m = dy.altitude;
            }
        }
    };
    let (lat, lon) = match usable_position(dy.lat, dy.lon) {
        Ok(p) => p,
        Err(why) => {
            stats.position_unavailable += 1;
            let (flag, ev) = match why {
                Unusable::NotAvailable => {
                    (VesselFlags::POSITION_UNAVAILABLE, Flag::PositionUnavailable)
                }
                Unusable::NullIsland => (VesselFlags::NULL_ISLAND, Flag::NullIsland),
            };
            if v.flags.set(flag, true) {
                events.push(Event::VesselFlagged {
                    mmsi: v.mmsi,
                    time_ms: t,
                    flag: ev,
                });
            }
            if v.position.is_none_or(|f| t >= f.time_ms) {
                set_kinematics(v);
            }
            return false;
        }
    };
    v.flags.set(VesselFlags::POSITION_UNAVAILABLE, false);
    v.flags.set(VesselFlags::NULL_ISLAND, false);
    if let Some(fix) = v.position {
        if t < fix.time_ms {
            stats.out_of_order += 1;
            return false;
        }
        if !dy.aircraft {
            let p = &cfg.plausibility;
            let knots = implied_knots(p, (fix.lat, fix.lon, fix.time_ms), (lat, lon, t));
            if p.is_jump(knots) {
                let confirmed = v.pending.is_some_and(|q| {
                    t >= q.time_ms
                        && !p.is_jump(implied_knots(p, (q.lat, q.lon, q.time_ms), (lat, lon, t)))
                });
                if !confirmed {
                    v.pending = Some(Fix {
                        lat,
                        lon,
                        time_ms: t,
                        accurate: dy.accurate,
                    });
                    v.implausible_jumps = v.implausible_jumps.saturating_add(1);
                    v.flags.set(VesselFlags::IMPLAUSIBLE_JUMP, true);
                    stats.implausible_jumps += 1;
                    events.push(Event::VesselFlagged {
                        mmsi: v.mmsi,
                        time_ms: t,
                        flag: Flag::ImplausibleJump {
                            from_lat: fix.lat,
                            from_lon: fix.lon,
                            to_lat: lat,
                            to_lon: lon,
                            knots,
                            seconds: t.saturating_sub(fix.time_ms) as f64 / 1000.0,
                        },
                    });
                    return false;
                }
                stats.confirmed_jumps += 1;
            }
        }
    }
    v.pending = None;
    v.flags.set(VesselFlags::IMPLAUSIBLE_JUMP, false);
    let moved = v.position.is_none_or(|f| f.lat != lat || f.lon != lon);
    v.position = Some(Fix {
        lat,
        lon,
        time_ms: t,
        accurate: dy.accurate,
    });
    set_kinematics(v);
    if moved {
        v.index.tree_box = Some(match v.index.tree_box {
            None => index.insert(slot, lat, lon),
            Some(b) => index.update(slot, b, lat, lon),
        });
        if !box_contains(&v.index.safe_box, lat, lon) {
            stats.zone_checks += 1;
            update_membership(v, slot, t, lat, lon, zones, members, events, scratch);
        }
    }
    v.track.push(&cfg.track, t, lat, lon);
    moved
}

/// Recompute a vessel's zones at a new position and emit the differences.
#[allow(clippy::too_many_arguments)]
fn update_membership(
    v: &mut Vessel,
    slot: u32,
    t: i64,
    lat: f64,
    lon: f64,
    zones: &ZoneIndex,
    members: &mut [FastSet<u32>],
    events: &mut EventSink,
    scratch: &mut Vec<u32>,
) {
    zones.zones_at(lat, lon, scratch);
    v.index.safe_box = zones.safe_box(lat, lon);
    if *scratch == v.zones {
        return;
    }
    let zone_event = |z: u32, entered: bool| {
        let zone = zones.zone(z);
        let (zone_id, kind, alerts) = (zone.id.clone(), zone.kind.clone(), zone.alerts);
        if entered {
            Event::ZoneEntered {
                mmsi: v.mmsi,
                time_ms: t,
                zone: zone_id,
                kind,
                alerts,
                lat,
                lon,
            }
        } else {
            Event::ZoneLeft {
                mmsi: v.mmsi,
                time_ms: t,
                zone: zone_id,
                kind,
                alerts,
                lat,
                lon,
            }
        }
    };
    for &z in v.zones.iter().filter(|z| scratch.binary_search(z).is_err()) {
        members[z as usize].remove(&slot);
        events.push(zone_event(z, false));
    }
    for &z in scratch.iter().filter(|z| v.zones.binary_search(z).is_err()) {
        members[z as usize].insert(slot);
        events.push(zone_event(z, true));
    }
    v.zones.clone_from(scratch);
}
