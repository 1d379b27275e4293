//! `encounter`: two vessels stay within 500 m of each other for 30 minutes
//! or more, both under 3 knots, outside `port` zones — the pattern of
//! transshipment at sea.
//!
//! Candidates come from the picture's R-tree: when a slow vessel outside
//! ports reports, a radius query finds the slow vessels near it (so the
//! cost grows with neighbours, not with the square of the fleet). Each
//! candidate pair is followed from when it was first close; ticks check the
//! pairs against the current picture, drop (and clear) the ones that moved
//! apart or sped up, and raise the ones close for long enough. The pair
//! table is bounded; pairs refused because it is full are counted.

use super::{in_port, is_craft, label, sog};
use crate::alert::{format_position, AlertKind, Severity};
use crate::book::{AlertBook, Facts, Situation};
use crate::config::AlertConfig;
use spatial_index::geodesy::haversine_m;
use spatial_index::{Picture, Vessel, VesselState};
use std::collections::BTreeMap;

/// State of the encounter rule.
#[derive(Debug, Default)]
pub struct EncounterRule {
    /// (lower MMSI, higher MMSI) → first time close.
    pairs: BTreeMap<(u32, u32), i64>,
    /// Pairs not followed because the table was full.
    pub refused: u64,
    /// When each vessel last looked for neighbours: at most once a minute
    /// of message time (the rule needs 30 minutes), so a busy picture does
    /// not pay an R-tree query per report.
    last_query: std::collections::HashMap<u32, i64>,
}

/// Message time between two neighbour queries of one vessel.
const QUERY_EVERY_MS: i64 = 60_000;

fn eligible(p: &Picture, v: &Vessel, cfg: &AlertConfig) -> bool {
    is_craft(v.class)
        && v.state == VesselState::Active
        && v.position.is_some()
        && sog(v).is_some_and(|s| s < cfg.encounter_speed_kn)
        && !in_port(p, v)
}

impl EncounterRule {
    /// A report from `mmsi`: look for slow neighbours.
    pub fn report(&mut self, cfg: &AlertConfig, p: &Picture, mmsi: u32, time: i64) {
        let Some(v) = p.vessel(mmsi) else { return };
        if !eligible(p, v, cfg) {
            return;
        }
        match self.last_query.get(&mmsi) {
            Some(&t) if time - t < QUERY_EVERY_MS && time >= t => return,
            _ => {
                if self.last_query.len() >= cfg.encounter_max_pairs {
                    self.last_query.clear();
                }
                self.last_query.insert(mmsi, time);
            }
        }
        let Some(fix) = v.position.as_ref() else {
            return;
        };
        for (w, _nm) in p.within_radius(fix.lat, fix.lon, cfg.encounter_distance_m / 1852.0) {
            if w.mmsi == mmsi || !eligible(p, w, cfg) {
                continue;
            }
            let key = (mmsi.min(w.mmsi), mmsi.max(w.mmsi));
            if !self.pairs.contains_key(&key) {
                if self.pairs.len() >= cfg.encounter_max_pairs {
                    self.refused += 1;
                    continue;
                }
                self.pairs.insert(key, time);
            }
        }
    }

    pub fn tick(&mut self, book: &mut AlertBook, cfg: &AlertConfig, p: &Picture, now: i64) {
        let need = cfg.encounter_min as i64 * 60_000;
        let mut gone = Vec::new();
        for (&(a, b), &since) in &self.pairs {
            let (Some(va), Some(vb)) = (p.vessel(a), p.vessel(b)) else {
                gone.push((a, b));
                continue;
            };
            let (Some(fa), Some(fb)) = (va.position.as_ref(), vb.position.as_ref()) else {
                gone.push((a, b));
                continue;
            };
            let dist = haversine_m(fa.lat, fa.lon, fb.lat, fb.lon);
            if dist > cfg.encounter_distance_m || !eligible(p, va, cfg) || !eligible(p, vb, cfg) {
                gone.push((a, b));
                continue;
            }
            let situation = Situation {
                kind: AlertKind::Encounter,
                mmsi: a,
                other: b,
                zone: None,
            };
            if now - since >= need && !book.is_open(&situation) {
                let (lat, lon) = ((fa.lat + fb.lat) / 2.0, (fa.lon + fb.lon) / 2.0);
                book.raise(
                    situation,
                    Facts {
                        time: now.max(since + need),
                        lat: Some(lat),
                        lon: Some(lon),
                        severity: Severity::Warning,
                        message: format!(
                            "{} and {} within {:.0} m of each other, both under {} kn, for {} min at {}.",
                            label(p, a),
                            label(p, b),
                            dist,
                            cfg.encounter_speed_kn,
                            (now - since) / 60_000,
                            format_position(lat, lon)
                        ),
                        zone: None,
                    },
                );
            }
        }
        for (a, b) in gone {
            self.pairs.remove(&(a, b));
            book.clear(
                &Situation {
                    kind: AlertKind::Encounter,
                    mmsi: a,
                    other: b,
                    zone: None,
                },
                now,
                "the vessels separated or got under way",
            );
        }
    }

    /// Pairs followed now.
    pub fn pairs(&self) -> usize {
        self.pairs.len()
    }
}
