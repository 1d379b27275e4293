//! `ais_gap`: a vessel last seen inside a zone has been silent for more
//! than 30 minutes of message time.
//!
//! The rule remembers, for each vessel whose latest report was inside an
//! alerting zone, when and where that was, in a time-ordered set; each tick
//! raises the ones silent too long. Hearing the vessel again clears it. The
//! alert stays even after the picture forgets the vessel — going dark is
//! the news.

use super::label;
use crate::alert::{format_position, AlertKind, Severity};
use crate::book::{AlertBook, Facts, Situation};
use spatial_index::hash::{FastMap, FastSet};
use spatial_index::Picture;
use std::collections::BTreeSet;
use std::sync::Arc;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Seen {
    time: i64,
    lat: f64,
    lon: f64,
    zone: Arc<str>,
}

/// State of the gap rule. `seen` holds each vessel's latest report in a
/// zone and is only looked up (never iterated), so a hash map keeps replays
/// deterministic (and the integer hasher of `spatial_index::hash` keeps the
/// per-report look-up cheap); `by_time` queues one check per vessel, ordered by time,
/// which re-queues itself when the vessel was heard since — so a report
/// costs a hash update, not a tree update.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct GapRule {
    seen: FastMap<u32, Seen>,
    by_time: BTreeSet<(i64, u32)>,
    /// Vessels with a raised gap alert (so hearing from the others costs no
    /// alert-book look-up).
    raised: FastSet<u32>,
}

impl GapRule {
    /// A report from `mmsi` at `time`; `zone` is an alerting zone it is in.
    /// Called for every report, so it does no formatting and no allocation
    /// beyond the map entry.
    pub fn heard(
        &mut self,
        book: &mut AlertBook,
        mmsi: u32,
        time: i64,
        pos: Option<(f64, f64)>,
        zone: Option<&Arc<str>>,
    ) {
        if self.raised.remove(&mmsi) {
            book.clear(
                &Situation::vessel(AlertKind::AisGap, mmsi),
                time,
                "the vessel transmits again",
            );
        }
        match (pos, zone) {
            (Some((lat, lon)), Some(zone)) => match self.seen.get_mut(&mmsi) {
                // Already has a check queued: just move the facts on. The
                // queued check re-queues itself when it finds a newer time.
                Some(s) => {
                    s.time = time;
                    s.lat = lat;
                    s.lon = lon;
                    if !Arc::ptr_eq(&s.zone, zone) {
                        s.zone = zone.clone();
                    }
                }
                None => {
                    self.seen.insert(
                        mmsi,
                        Seen {
                            time,
                            lat,
                            lon,
                            zone: zone.clone(),
                        },
                    );
                    self.by_time.insert((time, mmsi));
                }
            },
            // Left the zones: the queued check finds nothing and is dropped.
            _ => {
                if !self.seen.is_empty() {
                    self.seen.remove(&mmsi);
                }
            }
        }
    }

    /// Raise gaps longer than `gap_ms` at `now`.
    pub fn tick(&mut self, book: &mut AlertBook, p: &Picture, now: i64, gap_ms: i64) {
        while let Some(&(t, mmsi)) = self.by_time.first() {
            if now - t <= gap_ms {
                break;
            }
            self.by_time.pop_first();
            match self.seen.get(&mmsi) {
                None => continue,
                Some(s) if s.time > t => {
                    // Heard since this check was queued: check again later.
                    self.by_time.insert((s.time, mmsi));
                    continue;
                }
                Some(_) => {}
            }
            let Some(s) = self.seen.remove(&mmsi) else {
                continue;
            };
            let zone_name = p
                .zones()
                .index_of(&s.zone)
                .map(|i| p.zones().zone(i).name.clone())
                .unwrap_or_else(|| s.zone.to_string());
            self.raised.insert(mmsi);
            book.raise(
                Situation::vessel(AlertKind::AisGap, mmsi),
                Facts {
                    time: t + gap_ms,
                    lat: Some(s.lat),
                    lon: Some(s.lon),
                    severity: Severity::Warning,
                    message: format!(
                        "{} silent for {} min; last seen in {} at {}.",
                        label(p, mmsi),
                        gap_ms / 60_000,
                        zone_name,
                        format_position(s.lat, s.lon)
                    ),
                    zone: Some(s.zone.clone()),
                },
            );
        }
    }

    /// Forget a vessel's pending gap (e.g. a beacon, not a ship).
    pub fn forget(&mut self, mmsi: u32) {
        if let Some(old) = self.seen.remove(&mmsi) {
            self.by_time.remove(&(old.time, mmsi));
        }
    }
}
