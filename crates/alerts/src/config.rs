//! Rule tunables, from `[alerts]` in `config/lookout.toml`. Defaults are
//! the issue's.

use crate::alert::Severity;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Alert rule settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertConfig {
    /// Zone entry/exit alerts at all.
    pub zone_alerts: bool,
    /// Severity of zone entry/exit by zone kind (default: `watch` warning,
    /// others info).
    pub zone_severity: BTreeMap<String, Severity>,
    /// Zone kinds that raise no entry/exit alerts (e.g. `["sar_region"]`).
    pub zone_kinds_quiet: Vec<String>,
    /// A vessel must stay out this long before leaving counts, and
    /// re-entering within it is not a new entry (default 120 s).
    pub zone_hysteresis_s: u64,
    /// Silence after last being seen in a zone (default 30 min).
    pub ais_gap_min: u64,
    /// Loitering: below this speed (default 2 kn)…
    pub loiter_speed_kn: f64,
    /// …for this long (default 60 min), in a zone that is not a port.
    pub loiter_min: u64,
    /// Encounter: within this distance (default 500 m)…
    pub encounter_distance_m: f64,
    /// …both below this speed (default 3 kn)…
    pub encounter_speed_kn: f64,
    /// …for this long (default 30 min), outside ports.
    pub encounter_min: u64,
    /// Most vessel pairs followed as encounter candidates (bounded).
    pub encounter_max_pairs: usize,
    /// A position jump alert clears after this long without another jump.
    pub jump_clear_min: u64,
    /// Closed alerts kept in memory for `GET /api/alerts` (open ones are
    /// always kept).
    pub keep_closed: usize,
}

impl AlertConfig {
    /// `zone_hysteresis_s` in milliseconds.
    pub fn zone_hysteresis_ms(&self) -> i64 {
        to_ms(self.zone_hysteresis_s, 1000)
    }
    /// `ais_gap_min` in milliseconds.
    pub fn ais_gap_ms(&self) -> i64 {
        to_ms(self.ais_gap_min, 60_000)
    }
    /// `loiter_min` in milliseconds.
    pub fn loiter_ms(&self) -> i64 {
        to_ms(self.loiter_min, 60_000)
    }
    /// `encounter_min` in milliseconds.
    pub fn encounter_ms(&self) -> i64 {
        to_ms(self.encounter_min, 60_000)
    }
    /// `jump_clear_min` in milliseconds.
    pub fn jump_clear_ms(&self) -> i64 {
        to_ms(self.jump_clear_min, 60_000)
    }
}

/// A configured duration in milliseconds, saturating: a value too large
/// for an `i64` of milliseconds (the config file may say anything) means
/// "never", not an overflow.
fn to_ms(v: u64, unit_ms: i64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX).saturating_mul(unit_ms)
}

impl Default for AlertConfig {
    fn default() -> Self {
        AlertConfig {
            zone_alerts: true,
            zone_severity: BTreeMap::from([("watch".to_string(), Severity::Warning)]),
            zone_kinds_quiet: Vec::new(),
            zone_hysteresis_s: 120,
            ais_gap_min: 30,
            loiter_speed_kn: 2.0,
            loiter_min: 60,
            encounter_distance_m: 500.0,
            encounter_speed_kn: 3.0,
            encounter_min: 30,
            encounter_max_pairs: 100_000,
            jump_clear_min: 30,
            keep_closed: 10_000,
        }
    }
}
