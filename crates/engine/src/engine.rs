//! [`Engine`]: lines or decoded messages in, the picture and the alert
//! rules stepped one message at a time, typed changes out.
//!
//! # One message, one step
//!
//! For each message with time `t` the engine:
//!
//! 1. when `t` moves message time forward, advances the picture's clock to
//!    `t` (staleness transitions fall due, each at its own time) and runs
//!    the rules' clock to `t`: everything due at or before `t` fires, at
//!    its exact due time, from the state that the messages *before* this one
//!    left;
//! 2. applies the message to the picture;
//! 3. hands the picture events it caused to the rules while the picture is
//!    exactly as this message left it — a rule never sees a state that a
//!    later message produced.
//!
//! Nothing else moves time: not the end of a batch, not the wall clock
//! (except [`Engine::advance_to`], which the server calls for *live* feeds
//! so vessels go stale when a feed falls silent). So the alerts and the
//! picture depend on the messages and their order only — the same for a
//! batch of 1 line or 4096, at any replay speed, with or without unrelated
//! traffic in between (tests/invariance.rs in this crate).
//!
//! # Changes
//!
//! Alert changes queue until [`Engine::take_alerts`]; the vessels touched
//! and removed since the last [`Engine::take_changes`] come out as typed
//! [`VesselView`]s (built once, when taken). A consumer that does not want
//! vessel changes (a replay, a restore) turns them off with
//! [`Engine::track_changes`] and pays nothing per message for them.

use crate::own_assets::OwnAssets;
use crate::views;
use alerts::{Alert, AlertConfig, AlertEngine};
use broadcast::VesselView;
use ingest::gnss::OwnAssetFix;
use ingest::line::Line;
use ingest::router::{Event as RouterEvent, Router};
use ingest::status::SourceRegistry;
use lookout_ais::{DecodeError, DecodeStats, Decoded, DecoderOptions, LineContext};
use spatial_index::{Event, Picture, PictureConfig, ZoneIndex};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The engine's settings.
#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    pub picture: PictureConfig,
    pub alerts: AlertConfig,
    pub decoder: DecoderOptions,
}

/// What changed since the last [`Engine::take_changes`].
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Changes {
    /// Current view of every vessel (and own asset) touched.
    pub upserts: Vec<VesselView>,
    /// Vessels dropped from the picture.
    pub removed: Vec<u32>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.upserts.is_empty() && self.removed.is_empty()
    }
}

/// The picture, the rules, own assets and the decoder, stepped together.
pub struct Engine {
    picture: Picture,
    rules: AlertEngine,
    own: OwnAssets,
    router: Router,
    /// Message time the rules' clock has run to.
    ticked: i64,
    /// Every picture event, kept for a caller that writes them out.
    log: Option<Vec<Event>>,
    /// Picture events handled since the engine started.
    events_total: u64,
    track: bool,
    touched: BTreeSet<u32>,
    removed: BTreeSet<u32>,
    own_changed: BTreeMap<u32, VesselView>,
    messages: u64,
}

impl Engine {
    /// An engine over `zones`, decoding lines of the sources in `registry`
    /// (own-asset GNSS lines go to their asset).
    pub fn new(cfg: EngineConfig, zones: ZoneIndex, registry: Arc<SourceRegistry>) -> Self {
        Engine {
            picture: Picture::new(cfg.picture, zones),
            rules: AlertEngine::new(cfg.alerts),
            own: OwnAssets::default(),
            router: Router::new(registry, cfg.decoder),
            ticked: i64::MIN,
            log: None,
            events_total: 0,
            track: true,
            touched: BTreeSet::new(),
            removed: BTreeSet::new(),
            own_changed: BTreeMap::new(),
            messages: 0,
        }
    }

    /// An engine for recordings outside a server (no registered sources).
    pub fn standalone(cfg: EngineConfig, zones: ZoneIndex) -> Self {
        Self::new(cfg, zones, Arc::new(SourceRegistry::default()))
    }

    /// Keep (or not) the vessels touched for [`Engine::take_changes`]
    /// (default on).
    pub fn track_changes(&mut self, on: bool) {
        self.track = on;
        if !on {
            self.touched.clear();
            self.removed.clear();
            self.own_changed.clear();
        }
    }

    /// Keep every picture event for [`Engine::take_events`] (default off).
    pub fn keep_events(&mut self, on: bool) {
        self.log = on.then(Vec::new);
    }

    /// Feed one line from a registered source (its id and receive time in
    /// the line).
    pub fn feed(&mut self, line: &Line) {
        let Engine {
            router,
            picture,
            rules,
            own,
            ticked,
            log,
            events_total,
            track,
            touched,
            removed,
            own_changed,
            messages,
            ..
        } = self;
        let mut step = Step {
            picture,
            rules,
            ticked,
            log,
            events_total,
            track: *track,
            touched,
            removed,
        };
        router.handle(line, |e| match e {
            RouterEvent::Ais(m) => {
                step.apply(&m.decoded, Some(m.received_ms));
                *messages += 1;
            }
            RouterEvent::OwnAssetFix(f) => {
                let v = own.update(&f, step.picture);
                if step.track {
                    own_changed.insert(v.mmsi, v);
                }
            }
        });
    }

    /// Feed a batch of lines: exactly [`Engine::feed`] for each, in order.
    pub fn feed_batch(&mut self, lines: &[Line]) {
        for l in lines {
            self.feed(l);
        }
    }

    /// Feed one line of a recording (`ctx`: its feed number and receive
    /// time, when known). Returns the decoder's verdict on the line.
    pub fn feed_raw(&mut self, raw: &[u8], ctx: &LineContext) -> Result<(), DecodeError> {
        let Engine {
            router,
            picture,
            rules,
            ticked,
            log,
            events_total,
            track,
            touched,
            removed,
            messages,
            ..
        } = self;
        let mut step = Step {
            picture,
            rules,
            ticked,
            log,
            events_total,
            track: *track,
            touched,
            removed,
        };
        router.handle_raw(raw, ctx, |d| {
            step.apply(&d, ctx.received_ms);
            *messages += 1;
        })
    }

    /// Apply one decoded message received at `received_ms` (used when the
    /// message has no TAG time).
    pub fn apply(&mut self, d: &Decoded, received_ms: Option<i64>) {
        self.step().apply(d, received_ms);
        self.messages += 1;
    }

    /// Apply an own asset's fix.
    pub fn apply_fix(&mut self, f: &OwnAssetFix) {
        let v = self.own.update(f, &self.picture);
        if self.track {
            self.own_changed.insert(v.mmsi, v);
        }
    }

    /// Move message time to `now_ms` without a message: for live feeds
    /// (the receive clock) so vessels go stale when a feed falls silent.
    /// Replays never call it.
    pub fn advance_to(&mut self, now_ms: i64) {
        self.step().advance(now_ms);
    }

    /// The input ended: run the rules' clock to the picture's clock.
    pub fn finish(&mut self) {
        if let Some(now) = self.picture.now_ms() {
            self.step().advance(now);
        }
    }

    fn step(&mut self) -> Step<'_> {
        Step {
            picture: &mut self.picture,
            rules: &mut self.rules,
            ticked: &mut self.ticked,
            log: &mut self.log,
            events_total: &mut self.events_total,
            track: self.track,
            touched: &mut self.touched,
            removed: &mut self.removed,
        }
    }

    /// Alert changes since the last call, in the order they happened.
    pub fn take_alerts(&mut self) -> Vec<Alert> {
        self.rules.take_changes()
    }

    /// Are vessel changes waiting for [`Engine::take_changes`]?
    pub fn has_changes(&self) -> bool {
        !(self.touched.is_empty() && self.removed.is_empty() && self.own_changed.is_empty())
    }

    /// Vessels touched and removed since the last call (with
    /// [`Engine::track_changes`] on), as views of their current state.
    pub fn take_changes(&mut self) -> Changes {
        let touched = std::mem::take(&mut self.touched);
        let removed = std::mem::take(&mut self.removed);
        let own = std::mem::take(&mut self.own_changed);
        let p = &self.picture;
        let mut upserts: Vec<VesselView> = touched
            .into_iter()
            .filter_map(|m| p.vessel(m).and_then(|v| views::vessel_view(p, v)))
            .collect();
        upserts.extend(own.into_values());
        Changes {
            upserts,
            removed: removed.into_iter().collect(),
        }
    }

    /// Picture events kept since the last call (with
    /// [`Engine::keep_events`] on).
    pub fn take_events(&mut self) -> Vec<Event> {
        self.log.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Every vessel and own asset, as views.
    pub fn all_views(&self) -> Vec<VesselView> {
        let p = &self.picture;
        p.vessels()
            .filter_map(|v| views::vessel_view(p, v))
            .chain(self.own.all().cloned())
            .collect()
    }

    /// Acknowledge an alert at the picture's time; the change is queued
    /// for [`Engine::take_alerts`] too.
    pub fn acknowledge(
        &mut self,
        id: &str,
        who: &str,
        note: Option<&str>,
    ) -> Result<Alert, String> {
        let now = self.picture.now_ms().unwrap_or_default();
        self.rules.acknowledge(id, who, note, now)
    }

    /// Acknowledge an alert at a given time (an acknowledgement restored
    /// from the state database).
    pub fn acknowledge_at(
        &mut self,
        id: &str,
        who: &str,
        note: Option<&str>,
        at_ms: i64,
    ) -> Result<Alert, String> {
        self.rules.acknowledge(id, who, note, at_ms)
    }

    /// Replace the zones (the picture re-checks membership).
    pub fn set_zones(&mut self, zones: ZoneIndex) {
        self.picture.set_zones(zones);
    }

    pub fn picture(&self) -> &Picture {
        &self.picture
    }

    pub fn rules(&self) -> &AlertEngine {
        &self.rules
    }

    pub fn own_assets(&self) -> &OwnAssets {
        &self.own
    }

    /// Decoder counters.
    pub fn decode_stats(&self) -> &DecodeStats {
        self.router.decoder().stats()
    }

    /// Picture events handled since the engine started.
    pub fn events_total(&self) -> u64 {
        self.events_total
    }

    /// Messages applied since the engine started.
    pub fn messages(&self) -> u64 {
        self.messages
    }
}

/// The parts one step touches (split borrows of [`Engine`], so the
/// decoder's callback can step the picture).
struct Step<'a> {
    picture: &'a mut Picture,
    rules: &'a mut AlertEngine,
    ticked: &'a mut i64,
    log: &'a mut Option<Vec<Event>>,
    events_total: &'a mut u64,
    track: bool,
    touched: &'a mut BTreeSet<u32>,
    removed: &'a mut BTreeSet<u32>,
}

impl Step<'_> {
    fn apply(&mut self, d: &Decoded, received_ms: Option<i64>) {
        let t = d.time_ms(received_ms).or(self.picture.now_ms());
        if let Some(t) = t {
            // Only a time the picture will accept moves the clocks (a
            // message hours ahead of the clock is refused by the picture).
            if self.picture.admits_time(t) {
                self.advance(t);
            }
        }
        self.picture.apply(d, received_ms);
        self.drain();
        if let Some(t) = t {
            self.rules.on_message(d, t, self.picture);
        }
    }

    /// Picture clock, then the rules' clock, to `t` (when it moves on).
    fn advance(&mut self, t: i64) {
        if t <= *self.ticked {
            return;
        }
        self.picture.advance_time(t);
        self.drain();
        *self.ticked = t;
        self.rules.tick(t, self.picture);
    }

    /// The picture's events to the rules, with the picture as it is now.
    fn drain(&mut self) {
        while let Some(s) = self.picture.events_mut().pop() {
            *self.events_total += 1;
            self.rules.on_event(&s.event, self.picture);
            if self.track {
                match &s.event {
                    Event::VesselRemoved { mmsi, .. } => {
                        self.touched.remove(mmsi);
                        self.removed.insert(*mmsi);
                    }
                    e => {
                        let m = e.mmsi();
                        self.removed.remove(&m);
                        self.touched.insert(m);
                    }
                }
            }
            if let Some(log) = self.log.as_mut() {
                log.push(s.event);
            }
        }
    }
}
