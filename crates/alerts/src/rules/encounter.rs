//! `encounter`: two vessels stay within 500 m of each other for 30 minutes
//! or more, both under 3 knots, outside `port` zones — the pattern of
//! transshipment at sea.
//!
//! The rule is driven by the two vessels' own reports, never by other
//! traffic or by when a tick happens to run:
//!
//! - when a slow vessel outside ports reports, a radius query on the
//!   picture's R-tree finds the slow vessels near it (so the cost grows
//!   with neighbours, not with the square of the fleet) and a new pair is
//!   followed from that report's time (`since`);
//! - every report of either vessel re-checks its pairs against the state
//!   *as of that report* (distance, both slow, both live, outside ports);
//!   a pair that fails is dropped and its alert, if raised, cleared at that
//!   report's time; a vessel lost (silent past the picture's lost age) or
//!   removed drops its pairs. A vessel merely *stale* keeps them: a slow
//!   class A ship reports every 3 minutes, just at the picture's stale age,
//!   and that is no sign the two vessels parted;
//! - the clock ([`EncounterRule::tick`]) raises a pair at exactly
//!   `since + 30 min` when it was not dropped before.
//!
//! So the raise and clear times depend on the two vessels' reports only.
//! The pair table is bounded; pairs refused because it is full are counted.

use super::{in_port, is_craft, label, sog};
use crate::alert::{format_position, AlertKind, Severity};
use crate::book::{AlertBook, Facts, Situation};
use crate::config::AlertConfig;
use spatial_index::geodesy::haversine_m;
use spatial_index::hash::FastMap;
use spatial_index::{Picture, Vessel, VesselState};
use std::collections::{BTreeMap, BTreeSet};

/// State of the encounter rule.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct EncounterRule {
    /// (lower MMSI, higher MMSI) → (first time close, time it is due).
    #[serde(with = "crate::state::pairs")]
    pairs: BTreeMap<(u32, u32), (i64, i64)>,
    /// Each vessel's partners in `pairs` (so a report re-checks only its
    /// own pairs).
    partners: FastMap<u32, Vec<u32>>,
    /// Pairs not yet raised, by the time they are due.
    due: BTreeSet<(i64, u32, u32)>,
    /// Pairs not followed because the table was full.
    pub refused: u64,
    /// When each vessel last looked for neighbours: at most once a minute
    /// of its own message time (the rule needs 30 minutes), so a busy
    /// picture does not pay an R-tree query per report. One entry per
    /// vessel in the picture (forgotten when the picture drops it).
    last_query: FastMap<u32, i64>,
}

/// Message time between two neighbour queries of one vessel.
const QUERY_EVERY_MS: i64 = 60_000;

fn eligible(p: &Picture, v: &Vessel, cfg: &AlertConfig) -> bool {
    is_craft(v.class)
        && v.state != VesselState::Lost
        && v.position.is_some()
        && sog(v).is_some_and(|s| s < cfg.encounter_speed_kn)
        && !in_port(p, v)
}

fn close(a: &Vessel, b: &Vessel, cfg: &AlertConfig) -> Option<f64> {
    let (fa, fb) = (a.position.as_ref()?, b.position.as_ref()?);
    let d = haversine_m(fa.lat, fa.lon, fb.lat, fb.lon);
    (d <= cfg.encounter_distance_m).then_some(d)
}

fn situation(a: u32, b: u32) -> Situation {
    Situation {
        kind: AlertKind::Encounter,
        mmsi: a,
        other: b,
        zone: None,
    }
}

impl EncounterRule {
    /// A report from `mmsi` at `time` (the picture holds the state as of
    /// that report): re-check its pairs, then look for slow neighbours.
    pub fn report(
        &mut self,
        book: &mut AlertBook,
        cfg: &AlertConfig,
        p: &Picture,
        v: &Vessel,
        time: i64,
    ) {
        let mmsi = v.mmsi;
        if !eligible(p, v, cfg) {
            self.drop_all(book, mmsi, time);
            return;
        }
        if let Some(partners) = self.partners.get(&mmsi) {
            let gone: Vec<u32> = partners
                .iter()
                .copied()
                .filter(|&o| {
                    !p.vessel(o)
                        .is_some_and(|w| eligible(p, w, cfg) && close(v, w, cfg).is_some())
                })
                .collect();
            for o in gone {
                self.drop_pair(book, mmsi, o, time);
            }
        }
        match self.last_query.get(&mmsi) {
            Some(&t) if time - t < QUERY_EVERY_MS && time >= t => return,
            _ => {
                self.last_query.insert(mmsi, time);
            }
        }
        let Some(fix) = v.position.as_ref() else {
            return;
        };
        for (w, _nm) in p.within_radius(fix.lat, fix.lon, cfg.encounter_distance_m / 1852.0) {
            if w.mmsi == mmsi || !eligible(p, w, cfg) || close(v, w, cfg).is_none() {
                continue;
            }
            let key = (mmsi.min(w.mmsi), mmsi.max(w.mmsi));
            if self.pairs.contains_key(&key) {
                continue;
            }
            if self.pairs.len() >= cfg.encounter_max_pairs {
                self.refused += 1;
                continue;
            }
            let due = time.saturating_add(cfg.encounter_ms());
            self.pairs.insert(key, (time, due));
            self.partners.entry(key.0).or_default().push(key.1);
            self.partners.entry(key.1).or_default().push(key.0);
            self.due.insert((due, key.0, key.1));
        }
    }

    /// The vessel was lost (silent too long): its pairs end at `time`.
    pub fn silent(&mut self, book: &mut AlertBook, mmsi: u32, time: i64) {
        self.drop_all(book, mmsi, time);
    }

    /// The picture dropped the vessel: forget it entirely.
    pub fn forget(&mut self, book: &mut AlertBook, mmsi: u32, time: i64) {
        self.drop_all(book, mmsi, time);
        self.last_query.remove(&mmsi);
    }

    fn drop_all(&mut self, book: &mut AlertBook, mmsi: u32, time: i64) {
        if self.partners.is_empty() {
            return;
        }
        if let Some(partners) = self.partners.get(&mmsi) {
            for o in partners.clone() {
                self.drop_pair(book, mmsi, o, time);
            }
        }
    }

    fn drop_pair(&mut self, book: &mut AlertBook, x: u32, y: u32, time: i64) {
        let (a, b) = (x.min(y), x.max(y));
        let Some((_, due)) = self.pairs.remove(&(a, b)) else {
            return;
        };
        for (m, o) in [(a, b), (b, a)] {
            if let Some(list) = self.partners.get_mut(&m) {
                list.retain(|&q| q != o);
                if list.is_empty() {
                    self.partners.remove(&m);
                }
            }
        }
        // When not raised yet, its due entry is still queued.
        self.due.remove(&(due, a, b));
        book.clear(
            &situation(a, b),
            time,
            "the vessels separated or got under way",
        );
    }

    /// Raise the pairs close for long enough by `now`, each at the moment
    /// it became due.
    pub fn tick(&mut self, book: &mut AlertBook, cfg: &AlertConfig, p: &Picture, now: i64) {
        while let Some(&(due, a, b)) = self.due.first() {
            if due > now {
                break;
            }
            self.due.pop_first();
            let Some(&(since, _)) = self.pairs.get(&(a, b)) else {
                continue;
            };
            let (Some(va), Some(vb)) = (p.vessel(a), p.vessel(b)) else {
                continue;
            };
            let (Some(fa), Some(fb)) = (va.position.as_ref(), vb.position.as_ref()) else {
                continue;
            };
            let dist = haversine_m(fa.lat, fa.lon, fb.lat, fb.lon);
            let (lat, lon) = ((fa.lat + fb.lat) / 2.0, (fa.lon + fb.lon) / 2.0);
            book.raise(
                situation(a, b),
                Facts {
                    time: due,
                    lat: Some(lat),
                    lon: Some(lon),
                    severity: Severity::Warning,
                    message: format!(
                        "{} and {} within {:.0} m of each other, both under {} kn, for {} min at {}.",
                        label(p, a),
                        label(p, b),
                        dist,
                        cfg.encounter_speed_kn,
                        (due - since) / 60_000,
                        format_position(lat, lon)
                    ),
                    zone: None,
                },
            );
        }
    }

    /// Pairs followed now.
    pub fn pairs(&self) -> usize {
        self.pairs.len()
    }
}
