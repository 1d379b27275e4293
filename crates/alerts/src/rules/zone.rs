//! `zone_enter` / `zone_exit`, with hysteresis.
//!
//! Entering raises `zone_enter` at once — unless the vessel left the same
//! zone less than the hysteresis ago, in which case it never really left
//! (a track along the edge does not flap). Leaving is confirmed only after
//! the vessel has stayed out for the hysteresis; then `zone_enter` clears
//! and `zone_exit` is raised. A vessel first seen already inside a zone did
//! not enter it; a vessel dropped from the picture did not leave it.

use super::label;
use crate::alert::{AlertKind, Severity};
use crate::book::{AlertBook, Facts, Situation};
use crate::config::AlertConfig;
use spatial_index::{Picture, ZoneKind};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct PendingExit {
    since: i64,
    lat: f64,
    lon: f64,
    #[serde(with = "crate::state::zone_kind")]
    kind: ZoneKind,
}

/// State of the zone rule.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct ZoneRule {
    #[serde(with = "crate::state::pairs")]
    pending_exit: BTreeMap<(u32, Arc<str>), PendingExit>,
    /// MMSI → time of its first report (entries at that time are initial
    /// membership, not entries).
    first_seen: BTreeMap<u32, i64>,
}

fn severity(cfg: &AlertConfig, kind: &ZoneKind) -> Severity {
    cfg.zone_severity
        .get(kind.as_str())
        .copied()
        .unwrap_or(Severity::Info)
}

fn quiet(cfg: &AlertConfig, kind: &ZoneKind) -> bool {
    !cfg.zone_alerts || cfg.zone_kinds_quiet.iter().any(|k| k == kind.as_str())
}

fn zone_name(p: &Picture, id: &str) -> String {
    p.zones()
        .index_of(id)
        .map(|i| p.zones().zone(i).name.clone())
        .unwrap_or_else(|| id.to_string())
}

impl ZoneRule {
    pub fn vessel_new(&mut self, mmsi: u32, time: i64) {
        self.first_seen.insert(mmsi, time);
    }

    #[allow(clippy::too_many_arguments)]
    pub fn entered(
        &mut self,
        book: &mut AlertBook,
        cfg: &AlertConfig,
        p: &Picture,
        mmsi: u32,
        zone: &Arc<str>,
        kind: &ZoneKind,
        alerts: bool,
        time: i64,
        lat: f64,
        lon: f64,
    ) {
        if !alerts || quiet(cfg, kind) {
            return;
        }
        if self.pending_exit.remove(&(mmsi, zone.clone())).is_some() {
            return; // back within the hysteresis: never left
        }
        if self.first_seen.get(&mmsi) == Some(&time) {
            return; // first seen inside
        }
        let s = Situation {
            kind: AlertKind::ZoneEnter,
            mmsi,
            other: 0,
            zone: Some(zone.clone()),
        };
        book.clear(
            &Situation {
                kind: AlertKind::ZoneExit,
                ..s.clone()
            },
            time,
            "the vessel is back inside",
        );
        book.raise(
            s,
            Facts {
                time,
                lat: Some(lat),
                lon: Some(lon),
                severity: severity(cfg, kind),
                message: format!(
                    "{} entered {} ({}).",
                    label(p, mmsi),
                    zone_name(p, zone),
                    kind.as_str()
                ),
                zone: None,
            },
        );
    }

    #[allow(clippy::too_many_arguments)]
    pub fn left(
        &mut self,
        cfg: &AlertConfig,
        mmsi: u32,
        zone: &Arc<str>,
        kind: &ZoneKind,
        alerts: bool,
        time: i64,
        lat: f64,
        lon: f64,
    ) {
        if !alerts || quiet(cfg, kind) {
            return;
        }
        self.pending_exit
            .entry((mmsi, zone.clone()))
            .or_insert(PendingExit {
                since: time,
                lat,
                lon,
                kind: kind.clone(),
            });
    }

    /// The vessel was dropped from the picture: its zone departures are
    /// not exits.
    pub fn removed(&mut self, mmsi: u32) {
        self.pending_exit.retain(|(m, _), _| *m != mmsi);
        self.first_seen.remove(&mmsi);
    }

    /// Confirm exits that stayed out for the hysteresis.
    pub fn tick(&mut self, book: &mut AlertBook, cfg: &AlertConfig, p: &Picture, now: i64) {
        let hold = cfg.zone_hysteresis_ms();
        let due: Vec<_> = self
            .pending_exit
            .iter()
            .filter(|(_, e)| now - e.since >= hold)
            .map(|(k, e)| (k.clone(), e.clone()))
            .collect();
        for ((mmsi, zone), e) in due {
            self.pending_exit.remove(&(mmsi, zone.clone()));
            let enter = Situation {
                kind: AlertKind::ZoneEnter,
                mmsi,
                other: 0,
                zone: Some(zone.clone()),
            };
            let t = e.since.saturating_add(hold);
            book.clear(&enter, t, "the vessel left the zone");
            book.raise(
                Situation {
                    kind: AlertKind::ZoneExit,
                    ..enter
                },
                Facts {
                    time: t,
                    lat: Some(e.lat),
                    lon: Some(e.lon),
                    severity: severity(cfg, &e.kind),
                    message: format!(
                        "{} left {} ({}).",
                        label(p, mmsi),
                        zone_name(p, &zone),
                        e.kind.as_str()
                    ),
                    zone: None,
                },
            );
        }
    }
}
