//! The alert book: one alert per situation, and its lifecycle.
//!
//! A *situation* is (kind, MMSI, other MMSI, zone). Raising a situation that
//! is open updates its alert instead of raising a new one; clearing closes
//! it; acknowledging records who and when. Every state change is queued as
//! a change for the sinks (WebSocket, webhook, files). An alert's id is
//! derived from its content — kind, vessels, zone and the message time it
//! was raised ([`alert_id`]) — so a replay, a restart or a second core gives
//! the same alert the same id, and no other alert can ever get it (an
//! acknowledgement kept under an id applies to that situation only). Closed alerts beyond a bound are forgotten (oldest
//! first); open ones never are.

use crate::alert::{Alert, AlertKind, AlertState, Severity};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// What identifies a situation.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Situation {
    pub kind: AlertKind,
    pub mmsi: u32,
    pub other: u32,
    pub zone: Option<Arc<str>>,
}

impl Situation {
    pub fn vessel(kind: AlertKind, mmsi: u32) -> Self {
        Situation {
            kind,
            mmsi,
            other: 0,
            zone: None,
        }
    }
}

/// The facts of a trigger.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub time: i64,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub severity: Severity,
    pub message: String,
    /// Zone to name in the alert when the situation is not per zone.
    pub zone: Option<Arc<str>>,
}

/// Counters by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BookStats {
    pub raised: BTreeMap<AlertKind, u64>,
    pub updated: BTreeMap<AlertKind, u64>,
    pub cleared: BTreeMap<AlertKind, u64>,
    pub acknowledged: u64,
}

/// All alerts and the open situations. Serialised (for a checkpoint)
/// without the queued changes, the bound and the counters.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct AlertBook {
    alerts: BTreeMap<u64, Alert>,
    #[serde(with = "crate::state::pairs")]
    open: BTreeMap<Situation, u64>,
    /// Open situations per vessel (either party): clearing for a vessel
    /// with none open costs one hash look-up, not a tree search.
    open_per_vessel: spatial_index::hash::FastMap<u32, u32>,
    closed: VecDeque<u64>,
    #[serde(skip)]
    keep_closed: usize,
    next: u64,
    #[serde(skip)]
    changes: Vec<Alert>,
    #[serde(skip)]
    pub stats: BookStats,
}

/// The id of the alert raised for situation `s` at message time `raised_ms`:
/// `a-` and 16 hex digits of a stable 64-bit hash (FNV-1a) of the content.
///
/// ```
/// use alerts::book::{alert_id, Situation};
/// use alerts::AlertKind;
/// let s = Situation::vessel(AlertKind::DistressBeacon, 970_215_001);
/// assert_eq!(alert_id(&s, 1_795_846_800_000), alert_id(&s, 1_795_846_800_000));
/// assert_ne!(alert_id(&s, 1_795_846_800_000), alert_id(&s, 1_795_846_860_000));
/// assert!(alert_id(&s, 0).starts_with("a-") && alert_id(&s, 0).len() == 18);
/// ```
pub fn alert_id(s: &Situation, raised_ms: i64) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        // A separator, so fields cannot run into each other.
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    };
    eat(s.kind.as_str().as_bytes());
    eat(&s.mmsi.to_le_bytes());
    eat(&s.other.to_le_bytes());
    eat(s.zone.as_deref().unwrap_or("").as_bytes());
    eat(&raised_ms.to_le_bytes());
    format!("a-{h:016x}")
}

/// Updates of one open alert closer together than this (message time) are
/// applied silently, so a moving beacon does not flood the sinks.
const UPDATE_EVERY_MS: i64 = 60_000;

impl AlertBook {
    pub fn new(keep_closed: usize) -> Self {
        AlertBook {
            keep_closed,
            ..Default::default()
        }
    }

    /// Queue every open, unacknowledged alert as a change again (after a
    /// restore from a checkpoint: acknowledgements recorded since are
    /// applied to them as they are taken).
    pub fn requeue_open(&mut self) {
        let again: Vec<Alert> = self
            .open
            .values()
            .filter_map(|seq| self.alerts.get(seq))
            .filter(|a| a.acknowledged_by.is_none())
            .cloned()
            .collect();
        self.changes.extend(again);
    }

    /// Take the state of `saved` (a deserialised book), keeping this
    /// book's bound.
    pub(crate) fn restore_from(&mut self, saved: AlertBook) {
        let keep_closed = self.keep_closed;
        *self = AlertBook {
            keep_closed,
            stats: std::mem::take(&mut self.stats),
            ..saved
        };
    }

    /// Is the situation open?
    pub fn is_open(&self, s: &Situation) -> bool {
        self.open.contains_key(s)
    }

    /// Raise the situation, or update its open alert.
    pub fn raise(&mut self, s: Situation, f: Facts) {
        if let Some(&seq) = self.open.get(&s) {
            let a = self.alerts.get_mut(&seq).expect("open alerts are kept");
            let quiet = f.time - a.time < UPDATE_EVERY_MS;
            a.lat = f.lat.or(a.lat);
            a.lon = f.lon.or(a.lon);
            a.severity = a.severity.max(f.severity);
            a.message = f.message;
            if quiet {
                return;
            }
            a.time = f.time;
            if a.state != AlertState::Acknowledged {
                a.state = AlertState::Updated;
            }
            *self.stats.updated.entry(s.kind).or_default() += 1;
            self.changes.push(a.clone());
            return;
        }
        self.next += 1;
        let seq = self.next;
        let a = Alert {
            id: alert_id(&s, f.time),
            kind: s.kind,
            mmsi: s.mmsi,
            other_mmsi: (s.other != 0).then_some(s.other),
            zone: s.zone.clone().or(f.zone),
            time: f.time,
            lat: f.lat,
            lon: f.lon,
            severity: f.severity,
            message: f.message,
            state: AlertState::Raised,
            raised_at: f.time,
            cleared_at: None,
            acknowledged_by: None,
            acknowledged_at: None,
            note: None,
        };
        *self.stats.raised.entry(s.kind).or_default() += 1;
        self.changes.push(a.clone());
        self.alerts.insert(seq, a);
        *self.open_per_vessel.entry(s.mmsi).or_default() += 1;
        if s.other != 0 {
            *self.open_per_vessel.entry(s.other).or_default() += 1;
        }
        self.open.insert(s, seq);
    }

    fn forget_open(&mut self, mmsi: u32) {
        if let Some(n) = self.open_per_vessel.get_mut(&mmsi) {
            *n -= 1;
            if *n == 0 {
                self.open_per_vessel.remove(&mmsi);
            }
        }
    }

    /// Close the situation's alert, if open.
    pub fn clear(&mut self, s: &Situation, time: i64, why: &str) {
        if !self.open_per_vessel.contains_key(&s.mmsi) {
            return;
        }
        let Some(seq) = self.open.remove(s) else {
            return;
        };
        self.forget_open(s.mmsi);
        if s.other != 0 {
            self.forget_open(s.other);
        }
        if let Some(a) = self.alerts.get_mut(&seq) {
            a.state = AlertState::Cleared;
            a.time = time.max(a.time);
            a.cleared_at = Some(a.time);
            a.message = format!("{} Cleared: {why}.", a.message.trim_end_matches('.'));
            *self.stats.cleared.entry(s.kind).or_default() += 1;
            self.changes.push(a.clone());
        }
        self.closed.push_back(seq);
        while self.closed.len() > self.keep_closed {
            if let Some(old) = self.closed.pop_front() {
                self.alerts.remove(&old);
            }
        }
    }

    /// Open situations of a kind for a vessel (as either party).
    pub fn open_for(&self, mmsi: u32) -> Vec<Situation> {
        if !self.open_per_vessel.contains_key(&mmsi) {
            return Vec::new();
        }
        self.open
            .keys()
            .filter(|s| s.mmsi == mmsi || s.other == mmsi)
            .cloned()
            .collect()
    }

    /// Acknowledge by id.
    pub fn acknowledge(
        &mut self,
        id: &str,
        who: &str,
        note: Option<&str>,
        at: i64,
    ) -> Result<Alert, String> {
        let a = self
            .alerts
            .values_mut()
            .find(|a| a.id == id)
            .ok_or_else(|| format!("no alert {id:?}"))?;
        if a.acknowledged_by.is_none() {
            self.stats.acknowledged += 1;
        }
        a.acknowledged_by = Some(who.to_string());
        a.acknowledged_at = Some(at);
        a.note = note.map(str::to_string);
        if a.state != AlertState::Cleared {
            a.state = AlertState::Acknowledged;
        }
        let out = a.clone();
        self.changes.push(out.clone());
        Ok(out)
    }

    /// Take the queued changes, in order.
    pub fn take_changes(&mut self) -> Vec<Alert> {
        std::mem::take(&mut self.changes)
    }

    /// Alerts, optionally by state and changed at or after `since`.
    pub fn list(&self, state: Option<AlertState>, since: Option<i64>) -> Vec<&Alert> {
        self.alerts
            .values()
            .filter(|a| state.is_none_or(|s| a.state == s))
            .filter(|a| since.is_none_or(|t| a.time >= t))
            .collect()
    }

    /// Number of open alerts.
    pub fn open_count(&self) -> usize {
        self.open.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(t: i64) -> Facts {
        Facts {
            time: t,
            lat: Some(35.0),
            lon: Some(12.0),
            severity: Severity::Warning,
            message: "Something.".into(),
            zone: None,
        }
    }

    #[test]
    fn one_alert_per_situation_then_cleared_then_new() {
        let mut b = AlertBook::new(10);
        let s = Situation::vessel(AlertKind::Loitering, 1);
        b.raise(s.clone(), facts(0));
        b.raise(s.clone(), facts(10_000)); // quiet update
        b.raise(s.clone(), facts(120_000)); // visible update
        let ch = b.take_changes();
        assert_eq!(ch.len(), 2);
        assert_eq!(ch[0].state, AlertState::Raised);
        assert_eq!(ch[1].state, AlertState::Updated);
        assert_eq!(ch[0].id, ch[1].id);
        b.clear(&s, 200_000, "moving again");
        b.raise(s, facts(300_000));
        let ch = b.take_changes();
        assert_eq!(ch[0].state, AlertState::Cleared);
        assert_ne!(ch[1].id, ch[0].id);
    }

    #[test]
    fn acknowledgement_records_who_and_survives_updates() {
        let mut b = AlertBook::new(10);
        let s = Situation::vessel(AlertKind::DistressBeacon, 970_000_001);
        b.raise(s.clone(), facts(0));
        let id = b.take_changes()[0].id.clone();
        let a = b
            .acknowledge(&id, "duty officer", Some("RESCUE 1 tasked"), 5_000)
            .unwrap();
        assert_eq!(a.state, AlertState::Acknowledged);
        assert_eq!(a.acknowledged_by.as_deref(), Some("duty officer"));
        b.raise(s, facts(200_000));
        let ch = b.take_changes();
        assert_eq!(ch.last().unwrap().state, AlertState::Acknowledged);
        assert!(b.acknowledge("a-999999", "x", None, 0).is_err());
    }

    #[test]
    fn closed_alerts_are_bounded() {
        let mut b = AlertBook::new(3);
        for m in 0..10 {
            let s = Situation::vessel(AlertKind::AisGap, m);
            b.raise(s.clone(), facts(0));
            b.clear(&s, 1, "heard again");
        }
        assert_eq!(b.list(None, None).len(), 3);
    }
}
