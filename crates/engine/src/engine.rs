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
use crate::relay::{Relayed, RelayedAis, RelayedFix, VesselFacts, MAX_RELAYED};
use crate::views;
use alerts::{Alert, AlertConfig, AlertEngine};
use broadcast::VesselView;
use ingest::gnss::OwnAssetFix;
use ingest::line::Line;
use ingest::router::{Event as RouterEvent, Router};
use ingest::status::SourceRegistry;
use lookout_ais::{DecodeError, DecodeStats, Decoded, DecoderOptions, LineContext, RawPayload};
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
    /// Lines → decoded messages and own-asset fixes.
    router: Router,
    /// Everything a message steps.
    core: Core,
}

/// The engine less its decoder: what one message (or clock move) steps.
/// Kept apart so the decoder's callback can step it.
struct Core {
    picture: Picture,
    rules: AlertEngine,
    own: OwnAssets,
    /// Message time the rules' clock has run to.
    ticked: i64,
    /// Every picture event, kept for a caller that writes them out.
    log: Option<Vec<Event>>,
    /// Picture events handled since the engine started.
    events_total: u64,
    /// Keep the vessels touched (for [`Engine::take_changes`]).
    track: bool,
    touched: BTreeSet<u32>,
    removed: BTreeSet<u32>,
    own_changed: BTreeMap<u32, VesselView>,
    messages: u64,
    /// Messages and fixes for re-broadcast outputs, when on.
    relay: Option<Vec<Relayed>>,
    /// Relayed items dropped because nobody took them in time.
    relay_dropped: u64,
    /// Rules left out (restoring a checkpoint: the picture is rebuilt,
    /// the rules' state is loaded as saved).
    mute: bool,
}

impl Engine {
    /// An engine over `zones`, decoding lines of the sources in `registry`
    /// (own-asset GNSS lines go to their asset).
    pub fn new(cfg: EngineConfig, zones: ZoneIndex, registry: Arc<SourceRegistry>) -> Self {
        Engine {
            router: Router::new(registry, cfg.decoder),
            core: Core {
                picture: Picture::new(cfg.picture, zones),
                rules: AlertEngine::new(cfg.alerts),
                own: OwnAssets::default(),
                ticked: i64::MIN,
                log: None,
                events_total: 0,
                track: true,
                touched: BTreeSet::new(),
                removed: BTreeSet::new(),
                own_changed: BTreeMap::new(),
                messages: 0,
                relay: None,
                relay_dropped: 0,
                mute: false,
            },
        }
    }

    /// An engine for recordings outside a server (no registered sources).
    pub fn standalone(cfg: EngineConfig, zones: ZoneIndex) -> Self {
        Self::new(cfg, zones, Arc::new(SourceRegistry::default()))
    }

    /// Keep (or not) the vessels touched for [`Engine::take_changes`]
    /// (default on).
    pub fn track_changes(&mut self, on: bool) {
        let c = &mut self.core;
        c.track = on;
        if !on {
            c.touched.clear();
            c.removed.clear();
            c.own_changed.clear();
        }
    }

    /// Keep every picture event for [`Engine::take_events`] (default off).
    pub fn keep_events(&mut self, on: bool) {
        self.core.log = on.then(Vec::new);
    }

    /// Keep every message as received (and every own-asset fix) for
    /// [`Engine::take_relayed`]: the re-broadcast outputs (default off).
    pub fn relay(&mut self, on: bool) {
        self.router.decoder_mut().set_keep_payload(on);
        self.core.relay = on.then(Vec::new);
    }

    /// The messages and fixes kept since the last call ([`Engine::relay`]).
    pub fn take_relayed(&mut self) -> Vec<Relayed> {
        match self.core.relay.as_mut() {
            Some(v) => std::mem::take(v),
            None => Vec::new(),
        }
    }

    /// Relayed items dropped because the queue was full
    /// ([`crate::relay::MAX_RELAYED`]).
    pub fn relay_dropped(&self) -> u64 {
        self.core.relay_dropped
    }

    /// Feed one line from a registered source (its id and receive time in
    /// the line).
    pub fn feed(&mut self, line: &Line) {
        let Engine { router, core } = self;
        router.handle(line, |e| match e {
            RouterEvent::Ais(m) => core.apply_owned(m.decoded, Some(m.received_ms)),
            RouterEvent::OwnAssetFix(f) => core.apply_fix(&f),
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
        let Engine { router, core } = self;
        router.handle_raw(raw, ctx, |d| core.apply_owned(d, ctx.received_ms))
    }

    /// Apply one decoded message received at `received_ms` (used when the
    /// message has no TAG time).
    pub fn apply(&mut self, d: &Decoded, received_ms: Option<i64>) {
        self.core.apply(d, received_ms);
    }

    /// Apply an own asset's fix.
    pub fn apply_fix(&mut self, f: &OwnAssetFix) {
        self.core.apply_fix(f);
    }

    /// Move message time to `now_ms` without a message: for live feeds
    /// (the receive clock) so vessels go stale when a feed falls silent.
    /// Replays never call it.
    pub fn advance_to(&mut self, now_ms: i64) {
        self.core.advance(now_ms);
    }

    /// The input ended: run the rules' clock to the picture's clock.
    pub fn finish(&mut self) {
        if let Some(now) = self.core.picture.now_ms() {
            self.core.advance(now);
        }
    }

    /// Alert changes since the last call, in the order they happened.
    pub fn take_alerts(&mut self) -> Vec<Alert> {
        self.core.rules.take_changes()
    }

    /// Are vessel changes waiting for [`Engine::take_changes`]?
    pub fn has_changes(&self) -> bool {
        let c = &self.core;
        !(c.touched.is_empty() && c.removed.is_empty() && c.own_changed.is_empty())
    }

    /// Vessels touched and removed since the last call (with
    /// [`Engine::track_changes`] on), as views of their current state.
    pub fn take_changes(&mut self) -> Changes {
        let c = &mut self.core;
        let touched = std::mem::take(&mut c.touched);
        let removed = std::mem::take(&mut c.removed);
        let own = std::mem::take(&mut c.own_changed);
        let p = &c.picture;
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
        self.core
            .log
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Every vessel and own asset, as views.
    pub fn all_views(&self) -> Vec<VesselView> {
        let p = &self.core.picture;
        p.vessels()
            .filter_map(|v| views::vessel_view(p, v))
            .chain(self.core.own.all().cloned())
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
        let now = self.core.picture.now_ms().unwrap_or_default();
        self.core.rules.acknowledge(id, who, note, now)
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
        self.core.rules.acknowledge(id, who, note, at_ms)
    }

    /// The alert rules' state (JSON) and clock, for a checkpoint (see
    /// [`Engine::restore_rules`]).
    pub fn rules_state(&self) -> Result<(String, i64), String> {
        Ok((self.core.rules.save_state()?, self.core.ticked))
    }

    /// Leave the alert rules out of every step while on: the picture alone
    /// is stepped (restoring a checkpoint's picture, whose rules' state is
    /// then loaded with [`Engine::restore_rules`]).
    pub fn mute_rules(&mut self, on: bool) {
        self.core.mute = on;
    }

    /// Load the rules' state (read from [`Engine::rules_state`]'s text
    /// with `alerts::AlertEngine::parse_state`) and clock; every open,
    /// unacknowledged alert is queued again for [`Engine::take_alerts`] (so
    /// acknowledgements recorded since can be applied to it).
    pub fn restore_rules(&mut self, saved: alerts::engine::SavedRules, ticked: i64) {
        self.core.rules.restore_state(saved);
        self.core.ticked = ticked;
        self.core.rules.requeue_open();
    }

    /// Replace the zones (the picture re-checks membership).
    pub fn set_zones(&mut self, zones: ZoneIndex) {
        self.core.picture.set_zones(zones);
    }

    pub fn picture(&self) -> &Picture {
        &self.core.picture
    }

    pub fn rules(&self) -> &AlertEngine {
        &self.core.rules
    }

    pub fn own_assets(&self) -> &OwnAssets {
        &self.core.own
    }

    /// Decoder counters.
    pub fn decode_stats(&self) -> &DecodeStats {
        self.router.decoder().stats()
    }

    /// Multi-sentence messages half received (a checkpoint is taken only
    /// when there are none: the decoder's fragments are not in it).
    pub fn pending_fragments(&self) -> usize {
        self.router.decoder().pending_groups()
    }

    /// Picture events handled since the engine started.
    pub fn events_total(&self) -> u64 {
        self.core.events_total
    }

    /// Messages applied since the engine started.
    pub fn messages(&self) -> u64 {
        self.core.messages
    }
}

impl Core {
    /// One message: the clocks to its time, the message, its events.
    fn apply(&mut self, d: &Decoded, received_ms: Option<i64>) {
        self.messages += 1;
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
        if let Some(t) = t.filter(|_| !self.mute) {
            self.rules.on_message(d, t, &self.picture);
        }
    }

    /// [`Core::apply`] for a message the decoder just made: its payload
    /// (kept when relaying) goes to the outputs after it is applied.
    fn apply_owned(&mut self, mut d: Decoded, received_ms: Option<i64>) {
        let payload = d.payload.take();
        self.apply(&d, received_ms);
        if let Some(p) = payload {
            self.relay_message(&d, received_ms, p);
        }
    }

    /// An own asset's fix (own assets are not in the picture's table).
    fn apply_fix(&mut self, f: &OwnAssetFix) {
        let v = self.own.update(f, &self.picture);
        if self.relay.is_some() {
            self.push_relayed(Relayed::OwnFix(RelayedFix {
                mmsi: v.mmsi,
                name: f.asset.to_string(),
                time_ms: f.time_ms,
                lat: v.lat,
                lon: v.lon,
                sog: v.sog,
                cog: v.cog,
                heading: v.heading,
            }));
        }
        if self.track {
            self.own_changed.insert(v.mmsi, v);
        }
    }

    /// Keep an applied message for the outputs, with its sender as the
    /// picture now has it.
    fn relay_message(&mut self, d: &Decoded, received_ms: Option<i64>, payload: Box<RawPayload>) {
        if self.relay.is_none() {
            return;
        }
        let mmsi = d.message.mmsi;
        let vessel = self.picture.vessel(mmsi);
        let item = RelayedAis {
            mmsi,
            time_ms: d
                .time_ms(received_ms)
                .or(self.picture.now_ms())
                .unwrap_or(0),
            class: vessel.map_or("unknown", |v| v.class.as_str()),
            position: vessel.and_then(|v| v.position.map(|f| (f.lat, f.lon))),
            vessel: Box::new(vessel.map_or_else(VesselFacts::default, |v| {
                let info = v.info.as_deref();
                VesselFacts {
                    name: info.and_then(|i| i.name.clone()),
                    callsign: info.and_then(|i| i.callsign.clone()),
                    ship_type: info.and_then(|i| i.ship_type),
                    sog_kn: v.sog_kn,
                    cog_deg: v.cog_deg,
                    heading_deg: v.heading_deg,
                    altitude_m: v.altitude_m,
                }
            })),
            payload,
            talker: d.talker,
            own_ship: d.own_ship,
            channel: d.channel,
            tag: d.tag.clone(),
        };
        self.push_relayed(Relayed::Ais(item));
    }

    fn push_relayed(&mut self, item: Relayed) {
        if let Some(q) = self.relay.as_mut() {
            if q.len() < MAX_RELAYED {
                q.push(item);
            } else {
                self.relay_dropped += 1;
            }
        }
    }

    /// Picture clock, then the rules' clock, to `t` (when it moves on).
    fn advance(&mut self, t: i64) {
        if t <= self.ticked {
            return;
        }
        self.picture.advance_time(t);
        self.drain();
        self.ticked = t;
        if !self.mute {
            self.rules.tick(t, &self.picture);
        }
    }

    /// The picture's events to the rules, with the picture as it is now.
    fn drain(&mut self) {
        while let Some(s) = self.picture.events_mut().pop() {
            self.events_total += 1;
            if !self.mute {
                self.rules.on_event(&s.event, &self.picture);
            }
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
