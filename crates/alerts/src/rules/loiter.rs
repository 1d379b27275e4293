//! `loitering`: a vessel stays under 2 knots for 60 minutes or more inside
//! a zone whose kind is not `port`.
//!
//! Each report of a ship or craft either starts (or continues) its slow
//! period — slow and inside an alerting zone that is not a port — or ends
//! it, clearing any alert. Ticks raise the periods that reached the
//! duration, oldest first.

use super::{alert_zones, in_port, is_craft, label, sog};
use crate::alert::{format_position, AlertKind, Severity};
use crate::book::{AlertBook, Facts, Situation};
use crate::config::AlertConfig;
use spatial_index::{Picture, Vessel, ZoneKind};
use std::collections::{BTreeMap, BTreeSet};

/// State of the loitering rule.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct LoiterRule {
    since: BTreeMap<u32, i64>,
    /// Slow periods not yet raised, by start time.
    waiting: BTreeSet<(i64, u32)>,
}

impl LoiterRule {
    pub fn report(
        &mut self,
        book: &mut AlertBook,
        cfg: &AlertConfig,
        p: &Picture,
        v: &Vessel,
        time: i64,
    ) {
        let mmsi = v.mmsi;
        let slow_in_zone = is_craft(v.class)
            && v.position.is_some()
            && sog(v).is_some_and(|s| s < cfg.loiter_speed_kn)
            && !in_port(p, v)
            && alert_zones(p, v).any(|z| z.kind != ZoneKind::Port);
        if slow_in_zone {
            if let std::collections::btree_map::Entry::Vacant(e) = self.since.entry(mmsi) {
                e.insert(time);
                self.waiting.insert((time, mmsi));
            }
        } else if self.since.is_empty() {
        } else if let Some(start) = self.since.remove(&mmsi) {
            self.waiting.remove(&(start, mmsi));
            book.clear(
                &Situation::vessel(AlertKind::Loitering, mmsi),
                time,
                "the vessel is under way again or left the zone",
            );
        }
    }

    pub fn forget(&mut self, book: &mut AlertBook, mmsi: u32, time: i64) {
        if let Some(start) = self.since.remove(&mmsi) {
            self.waiting.remove(&(start, mmsi));
        }
        book.clear(
            &Situation::vessel(AlertKind::Loitering, mmsi),
            time,
            "the vessel is no longer tracked",
        );
    }

    pub fn tick(&mut self, book: &mut AlertBook, cfg: &AlertConfig, p: &Picture, now: i64) {
        let need = cfg.loiter_ms();
        while let Some(&(start, mmsi)) = self.waiting.first() {
            if now - start < need {
                break;
            }
            self.waiting.pop_first();
            let v = p.vessel(mmsi);
            let pos = v.and_then(|v| v.position.as_ref()).map(|f| (f.lat, f.lon));
            let zone = v.and_then(|v| {
                alert_zones(p, v)
                    .find(|z| z.kind != ZoneKind::Port)
                    .map(|z| (z.id.clone(), z.name.clone()))
            });
            book.raise(
                Situation::vessel(AlertKind::Loitering, mmsi),
                Facts {
                    time: start + need,
                    lat: pos.map(|p| p.0),
                    lon: pos.map(|p| p.1),
                    severity: Severity::Warning,
                    message: format!(
                        "{} below {} kn for {} min in {}{}.",
                        label(p, mmsi),
                        cfg.loiter_speed_kn,
                        cfg.loiter_min,
                        zone.as_ref().map_or("a zone", |z| z.1.as_str()),
                        pos.map(|(a, b)| format!(" at {}", format_position(a, b)))
                            .unwrap_or_default()
                    ),
                    zone: zone.map(|z| z.0),
                },
            );
        }
    }
}
