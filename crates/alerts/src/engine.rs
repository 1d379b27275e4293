//! The engine: routes the picture's events to the rules, runs their clocks
//! on message time, and hands out the alert changes.
//!
//! The engine (`crates/engine`) drives it one message at a time:
//! [`AlertEngine::tick`] when message time moves forward (the time-based
//! rules fire what fell due, each at its exact due time, from the state as
//! of the messages before), then [`AlertEngine::on_event`] for each picture
//! event that message caused — with the picture exactly as that message
//! left it — and [`AlertEngine::on_message`] for beacons' safety texts.
//! Decisions therefore depend on message time and on each vessel's own
//! reports only: never on batch sizes, replay speed or unrelated traffic.
//! Changes are taken with [`AlertEngine::take_changes`] for the sinks.

use crate::alert::{Alert, AlertState};
use crate::book::{AlertBook, BookStats};
use crate::config::AlertConfig;
use crate::rules::{
    self, distress, encounter::EncounterRule, gap::GapRule, jump::JumpRule, loiter::LoiterRule,
    zone::ZoneRule,
};
use lookout_ais::messages::Body;
use lookout_ais::Decoded;
use spatial_index::{Event, Flag, Picture, VesselClass};

/// The rules' and the book's state, read back
/// ([`AlertEngine::parse_state`]).
#[derive(serde::Deserialize)]
pub struct SavedRules {
    book: AlertBook,
    zone: ZoneRule,
    gap: GapRule,
    loiter: LoiterRule,
    encounter: EncounterRule,
    jump: JumpRule,
    now: i64,
}

/// All rules and the alert book.
pub struct AlertEngine {
    cfg: AlertConfig,
    book: AlertBook,
    zone: ZoneRule,
    gap: GapRule,
    loiter: LoiterRule,
    encounter: EncounterRule,
    jump: JumpRule,
    now: i64,
}

impl AlertEngine {
    pub fn new(cfg: AlertConfig) -> Self {
        AlertEngine {
            book: AlertBook::new(cfg.keep_closed),
            cfg,
            zone: ZoneRule::default(),
            gap: GapRule::default(),
            loiter: LoiterRule::default(),
            encounter: EncounterRule::default(),
            jump: JumpRule::default(),
            now: i64::MIN,
        }
    }

    /// A decoded message (after the picture applied it). Only beacons'
    /// safety texts matter here; positions come through events.
    pub fn on_message(&mut self, d: &Decoded, time_ms: i64, p: &Picture) {
        if let Body::SafetyBroadcast { text } = &d.message.body {
            let mmsi = d.message.mmsi;
            if lookout_ais::identity::mmsi_device(mmsi).is_some() {
                if let Some(mode) = distress::mode_from_text(text) {
                    distress::report(&mut self.book, p, mmsi, mode, time_ms);
                }
            }
        }
    }

    /// One picture event.
    pub fn on_event(&mut self, e: &Event, p: &Picture) {
        let cfg = &self.cfg;
        match e {
            Event::VesselNew { mmsi, time_ms, .. } => self.zone.vessel_new(*mmsi, *time_ms),
            Event::VesselUpdated {
                mmsi,
                time_ms,
                class,
                ..
            } => {
                let (mmsi, time) = (*mmsi, *time_ms);
                let Some(v) = p.vessel(mmsi) else { return };
                if class.is_distress_device() {
                    if let Some(mode) = distress::mode_from_status(v.nav_status) {
                        distress::report(&mut self.book, p, mmsi, mode, time);
                    }
                    return;
                }
                if rules::is_craft(*class) {
                    let pos = v.position.as_ref().map(|f| (f.lat, f.lon));
                    let zone = rules::alert_zones(p, v).next().map(|z| &z.id);
                    self.gap.heard(&mut self.book, mmsi, time, pos, zone);
                    self.loiter.report(&mut self.book, cfg, p, v, time);
                    self.encounter.report(&mut self.book, cfg, p, v, time);
                    rules::nav::report(&mut self.book, p, v, time);
                }
            }
            Event::VesselActive { mmsi, time_ms, .. }
                if !p
                    .vessel(*mmsi)
                    .is_some_and(|v| v.class.is_distress_device()) =>
            {
                let pos = p
                    .vessel(*mmsi)
                    .and_then(|v| v.position.as_ref())
                    .map(|f| (f.lat, f.lon));
                let zone = p
                    .vessel(*mmsi)
                    .and_then(|v| rules::alert_zones(p, v).next().map(|z| &z.id));
                self.gap.heard(&mut self.book, *mmsi, *time_ms, pos, zone);
            }
            Event::VesselLost { mmsi, time_ms, .. } => {
                self.encounter.silent(&mut self.book, *mmsi, *time_ms);
                distress::ended(
                    &mut self.book,
                    *mmsi,
                    *time_ms,
                    "the beacon is no longer heard",
                );
            }
            Event::VesselRemoved { mmsi, time_ms, .. } => {
                distress::ended(
                    &mut self.book,
                    *mmsi,
                    *time_ms,
                    "the beacon is no longer heard",
                );
                self.zone.removed(*mmsi);
                self.loiter.forget(&mut self.book, *mmsi, *time_ms);
                self.encounter.forget(&mut self.book, *mmsi, *time_ms);
                for s in self.book.open_for(*mmsi) {
                    if matches!(
                        s.kind,
                        crate::AlertKind::ZoneEnter
                            | crate::AlertKind::ZoneExit
                            | crate::AlertKind::NavStatus
                    ) {
                        self.book
                            .clear(&s, *time_ms, "the vessel is no longer tracked");
                    }
                }
            }
            Event::VesselFlagged {
                mmsi,
                time_ms,
                flag:
                    Flag::ImplausibleJump {
                        to_lat,
                        to_lon,
                        knots,
                        ..
                    },
            } => {
                let aircraft = p
                    .vessel(*mmsi)
                    .is_some_and(|v| v.class == VesselClass::SarAircraft);
                if !aircraft {
                    self.jump
                        .jump(&mut self.book, p, *mmsi, *time_ms, *to_lat, *to_lon, *knots);
                }
            }
            Event::ZoneEntered {
                mmsi,
                time_ms,
                zone,
                kind,
                alerts,
                lat,
                lon,
            } if p.vessel(*mmsi).is_some_and(|v| rules::is_craft(v.class)) => {
                self.zone.entered(
                    &mut self.book,
                    cfg,
                    p,
                    *mmsi,
                    zone,
                    kind,
                    *alerts,
                    *time_ms,
                    *lat,
                    *lon,
                );
            }
            Event::ZoneLeft {
                mmsi,
                time_ms,
                zone,
                kind,
                alerts,
                lat,
                lon,
            } if p.vessel(*mmsi).is_none_or(|v| rules::is_craft(v.class)) => {
                self.zone
                    .left(cfg, *mmsi, zone, kind, *alerts, *time_ms, *lat, *lon);
            }
            _ => {}
        }
    }

    /// Run the time-based rules up to `now_ms` (message time).
    pub fn tick(&mut self, now_ms: i64, p: &Picture) {
        if now_ms < self.now {
            return;
        }
        self.now = now_ms;
        let cfg = &self.cfg;
        self.zone.tick(&mut self.book, cfg, p, now_ms);
        self.gap.tick(&mut self.book, p, now_ms, cfg.ais_gap_ms());
        self.loiter.tick(&mut self.book, cfg, p, now_ms);
        self.encounter.tick(&mut self.book, cfg, p, now_ms);
        self.jump.tick(&mut self.book, now_ms, cfg.jump_clear_ms());
    }

    /// The rules' and the book's state (JSON), for a checkpoint: an engine
    /// given it with [`AlertEngine::restore_state`] continues exactly as
    /// this one (same open situations and timers, same alerts). Queued
    /// changes, counters and the configuration are not in it.
    pub fn save_state(&self) -> Result<String, String> {
        #[derive(serde::Serialize)]
        struct State<'a> {
            book: &'a AlertBook,
            zone: &'a ZoneRule,
            gap: &'a GapRule,
            loiter: &'a LoiterRule,
            encounter: &'a EncounterRule,
            jump: &'a JumpRule,
            now: i64,
        }
        serde_json::to_string(&State {
            book: &self.book,
            zone: &self.zone,
            gap: &self.gap,
            loiter: &self.loiter,
            encounter: &self.encounter,
            jump: &self.jump,
            now: self.now,
        })
        .map_err(|e| e.to_string())
    }

    /// Read the state [`AlertEngine::save_state`] gave (nothing changes
    /// yet: see [`AlertEngine::restore_state`]).
    pub fn parse_state(json: &str) -> Result<SavedRules, String> {
        serde_json::from_str(json).map_err(|e| format!("alert rules' state: {e}"))
    }

    /// Take a saved state (this engine's configuration and counters stay).
    pub fn restore_state(&mut self, s: SavedRules) {
        self.book.restore_from(s.book);
        self.zone = s.zone;
        self.gap = s.gap;
        self.loiter = s.loiter;
        self.encounter = s.encounter;
        self.jump = s.jump;
        self.now = s.now;
    }

    /// Queue every open, unacknowledged alert as a change again (see
    /// [`AlertBook::requeue_open`]).
    pub fn requeue_open(&mut self) {
        self.book.requeue_open();
    }

    /// Alerts that changed since the last call, in order.
    pub fn take_changes(&mut self) -> Vec<Alert> {
        self.book.take_changes()
    }

    /// Acknowledge an alert (`at_ms`: when, on the picture's clock).
    pub fn acknowledge(
        &mut self,
        id: &str,
        who: &str,
        note: Option<&str>,
        at_ms: i64,
    ) -> Result<Alert, String> {
        self.book.acknowledge(id, who, note, at_ms)
    }

    /// Alerts by state and time of last change.
    pub fn list(&self, state: Option<AlertState>, since_ms: Option<i64>) -> Vec<&Alert> {
        self.book.list(state, since_ms)
    }

    /// Counters.
    pub fn stats(&self) -> &BookStats {
        &self.book.stats
    }

    /// Open alerts.
    pub fn open_count(&self) -> usize {
        self.book.open_count()
    }

    /// Encounter candidate pairs refused because the table was full.
    pub fn encounter_pairs_refused(&self) -> u64 {
        self.encounter.refused
    }
}
