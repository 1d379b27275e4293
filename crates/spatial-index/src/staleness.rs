//! Staleness: when a silent station becomes `stale`, then `lost`, then is
//! removed — on message time, from the ITU reporting intervals.
//!
//! ITU-R M.1371-5 (Annex 1, tables 1 and 2) fixes how often each station
//! reports: a class A ship under way every 2–10 s (3 min at anchor or
//! moored and slower than 3 kn), a class B "CS" unit every 30 s (3 min at
//! 2 kn or less), a SAR aircraft every 10 s, a base station every 10 s, an
//! aid to navigation every 3 min, an AIS-SART / MOB / EPIRB-AIS every
//! minute. A record's [`ReportCategory`] comes from its class, last speed
//! and navigational status, and the [`StalenessPolicy`] gives each
//! category how long it may stay silent before it is `stale` and `lost`.
//! The defaults allow many missed reports — VHF reception at sea is patchy
//! and class B is the first to fade — and match the issue: 10 minutes
//! until a moving class A ship is lost, longer for anchored ships and
//! class B. A record is removed `remove_after_ms` (default 60 min, never
//! sooner than its `lost` time) after its last report.
//!
//! | category | nominal interval | stale after | lost after |
//! |---|---|---|---|
//! | class A under way | 2–10 s | 3 min | 10 min |
//! | class A anchored/moored, ≤ 3 kn | 3 min | 10 min | 30 min |
//! | class B > 2 kn | 30 s (5–30 s) | 5 min | 20 min |
//! | class B ≤ 2 kn | 3 min | 10 min | 30 min |
//! | SAR aircraft | 10 s | 2 min | 10 min |
//! | base station | 10 s | 3 min | 10 min |
//! | aid to navigation | 3 min | 10 min | 30 min |
//! | AIS-SART, MOB, EPIRB-AIS | 1 min | 5 min | 15 min |
//! | other (no position report yet, long-range only) | 3–6 min | 15 min | 45 min |
//!
//! Time here is always message time: [`StalenessQueue`] is driven by the
//! picture's clock, which only moves with message times (or an explicit
//! `advance_time`), never by the wall clock, so a replay produces the same
//! transitions at the same message times as the live run did.
//!
//! The queue holds at most one live entry per record: a report that only
//! postpones the next transition does not touch the queue; when an entry
//! comes due it re-reads the record and either makes the transition or
//! re-schedules itself at the record's new deadline. Ingest therefore pays
//! nothing for staleness on almost every update.
//!
//! ```
//! use spatial_index::staleness::{ReportCategory, StalenessPolicy};
//! use spatial_index::vessel::VesselClass;
//! let p = StalenessPolicy::default();
//! let moving_a = ReportCategory::of(VesselClass::A, Some(12.0), Some(0));
//! assert_eq!(p.thresholds(moving_a).lost_ms, 600_000);
//! let anchored = ReportCategory::of(VesselClass::A, Some(0.1), Some(1));
//! assert!(p.thresholds(anchored).lost_ms > 600_000);
//! ```

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use serde::{Deserialize, Serialize};

use crate::vessel::{VesselClass, VesselState};

/// Reporting behaviour a station is expected to have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportCategory {
    ClassAMoving,
    ClassAAnchored,
    ClassBMoving,
    ClassBSlow,
    SarAircraft,
    BaseStation,
    AtoN,
    DistressDevice,
    Other,
}

impl ReportCategory {
    /// The category of a station from its class, last speed over ground
    /// (knots) and navigational status.
    pub fn of(class: VesselClass, sog_kn: Option<f32>, nav_status: Option<u8>) -> ReportCategory {
        let sog = sog_kn.unwrap_or(0.0);
        match class {
            VesselClass::A => {
                // Status 1 = at anchor, 5 = moored.
                if matches!(nav_status, Some(1 | 5)) && sog <= 3.0 {
                    ReportCategory::ClassAAnchored
                } else {
                    ReportCategory::ClassAMoving
                }
            }
            VesselClass::B if sog > 2.0 => ReportCategory::ClassBMoving,
            VesselClass::B => ReportCategory::ClassBSlow,
            VesselClass::SarAircraft => ReportCategory::SarAircraft,
            VesselClass::BaseStation => ReportCategory::BaseStation,
            VesselClass::AtoN => ReportCategory::AtoN,
            VesselClass::AisSart | VesselClass::Mob | VesselClass::EpirbAis => {
                ReportCategory::DistressDevice
            }
            VesselClass::Unknown => ReportCategory::Other,
        }
    }

    /// The ITU nominal reporting interval (the longest for the category),
    /// milliseconds.
    pub fn nominal_interval_ms(self) -> i64 {
        match self {
            ReportCategory::ClassAMoving => 10_000,
            ReportCategory::ClassAAnchored => 180_000,
            ReportCategory::ClassBMoving => 30_000,
            ReportCategory::ClassBSlow => 180_000,
            ReportCategory::SarAircraft => 10_000,
            ReportCategory::BaseStation => 10_000,
            ReportCategory::AtoN => 180_000,
            ReportCategory::DistressDevice => 60_000,
            ReportCategory::Other => 360_000,
        }
    }
}

/// Silence allowed before `stale` and before `lost`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thresholds {
    pub stale_ms: i64,
    pub lost_ms: i64,
}

const fn th(stale_min: i64, lost_min: i64) -> Thresholds {
    Thresholds {
        stale_ms: stale_min * 60_000,
        lost_ms: lost_min * 60_000,
    }
}

/// How long each category may stay silent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StalenessPolicy {
    pub class_a_moving: Thresholds,
    pub class_a_anchored: Thresholds,
    pub class_b_moving: Thresholds,
    pub class_b_slow: Thresholds,
    pub sar_aircraft: Thresholds,
    pub base_station: Thresholds,
    pub aton: Thresholds,
    pub distress_device: Thresholds,
    pub other: Thresholds,
    /// Remove a record this long after its last report (default 60 min;
    /// never before it is lost).
    pub remove_after_ms: i64,
}

impl Default for StalenessPolicy {
    fn default() -> Self {
        StalenessPolicy {
            class_a_moving: th(3, 10),
            class_a_anchored: th(10, 30),
            class_b_moving: th(5, 20),
            class_b_slow: th(10, 30),
            sar_aircraft: th(2, 10),
            base_station: th(3, 10),
            aton: th(10, 30),
            distress_device: th(5, 15),
            other: th(15, 45),
            remove_after_ms: 60 * 60_000,
        }
    }
}

impl StalenessPolicy {
    /// Thresholds of a category (sanitised: `0 <= stale <= lost`).
    pub fn thresholds(&self, c: ReportCategory) -> Thresholds {
        let t = match c {
            ReportCategory::ClassAMoving => self.class_a_moving,
            ReportCategory::ClassAAnchored => self.class_a_anchored,
            ReportCategory::ClassBMoving => self.class_b_moving,
            ReportCategory::ClassBSlow => self.class_b_slow,
            ReportCategory::SarAircraft => self.sar_aircraft,
            ReportCategory::BaseStation => self.base_station,
            ReportCategory::AtoN => self.aton,
            ReportCategory::DistressDevice => self.distress_device,
            ReportCategory::Other => self.other,
        };
        let stale_ms = t.stale_ms.max(0);
        Thresholds {
            stale_ms,
            lost_ms: t.lost_ms.max(stale_ms),
        }
    }

    /// Silence after which a record in category `c` is removed.
    pub fn remove_ms(&self, c: ReportCategory) -> i64 {
        self.remove_after_ms.max(self.thresholds(c).lost_ms)
    }

    /// What a record last heard at `last_seen_ms` should be at `now_ms`:
    /// its state, or `None` when it is due for removal; with the time of
    /// the next transition.
    pub fn evaluate(
        &self,
        c: ReportCategory,
        last_seen_ms: i64,
        now_ms: i64,
    ) -> (Option<VesselState>, i64) {
        let t = self.thresholds(c);
        let stale_at = last_seen_ms.saturating_add(t.stale_ms);
        let lost_at = last_seen_ms.saturating_add(t.lost_ms);
        let remove_at = last_seen_ms.saturating_add(self.remove_ms(c));
        if now_ms >= remove_at {
            (None, i64::MAX)
        } else if now_ms >= lost_at {
            (Some(VesselState::Lost), remove_at)
        } else if now_ms >= stale_at {
            (Some(VesselState::Stale), lost_at)
        } else {
            (Some(VesselState::Active), stale_at)
        }
    }

    /// Time of each transition for a record last heard at `last_seen_ms`:
    /// (stale, lost, removed).
    pub fn transition_times(&self, c: ReportCategory, last_seen_ms: i64) -> (i64, i64, i64) {
        let t = self.thresholds(c);
        (
            last_seen_ms.saturating_add(t.stale_ms),
            last_seen_ms.saturating_add(t.lost_ms),
            last_seen_ms.saturating_add(self.remove_ms(c)),
        )
    }
}

/// Min-queue of (due time, slot, generation): when to look at which record.
#[derive(Debug, Clone, Default)]
pub struct StalenessQueue {
    heap: BinaryHeap<Reverse<(i64, u32, u32)>>,
}

impl StalenessQueue {
    /// Schedule a look at `slot` (of generation `gen`) at `due_ms`.
    pub fn push(&mut self, due_ms: i64, slot: u32, gen: u32) {
        self.heap.push(Reverse((due_ms, slot, gen)));
    }

    /// The next entry due at or before `now_ms`, removed from the queue.
    pub fn pop_due(&mut self, now_ms: i64) -> Option<(i64, u32, u32)> {
        match self.heap.peek() {
            Some(Reverse((due, _, _))) if *due <= now_ms => self.heap.pop().map(|Reverse(e)| e),
            _ => None,
        }
    }

    /// The earliest due time.
    pub fn next_due(&self) -> Option<i64> {
        self.heap.peek().map(|Reverse((d, _, _))| *d)
    }

    /// Entries queued (live and superseded).
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories() {
        use ReportCategory::*;
        use VesselClass as C;
        assert_eq!(ReportCategory::of(C::A, Some(0.0), Some(5)), ClassAAnchored);
        assert_eq!(ReportCategory::of(C::A, Some(5.0), Some(1)), ClassAMoving);
        assert_eq!(ReportCategory::of(C::A, Some(0.0), Some(0)), ClassAMoving);
        assert_eq!(ReportCategory::of(C::B, Some(8.0), None), ClassBMoving);
        assert_eq!(ReportCategory::of(C::B, None, None), ClassBSlow);
        assert_eq!(ReportCategory::of(C::Mob, None, None), DistressDevice);
        assert_eq!(ReportCategory::of(C::Unknown, None, None), Other);
    }

    #[test]
    fn evaluate_walks_the_states() {
        let p = StalenessPolicy::default();
        let c = ReportCategory::ClassAMoving;
        assert_eq!(
            p.evaluate(c, 0, 60_000),
            (Some(VesselState::Active), 180_000)
        );
        assert_eq!(
            p.evaluate(c, 0, 180_000),
            (Some(VesselState::Stale), 600_000)
        );
        assert_eq!(
            p.evaluate(c, 0, 600_000),
            (Some(VesselState::Lost), 3_600_000)
        );
        assert_eq!(p.evaluate(c, 0, 3_600_000).0, None);
        // Longer for anchored ships and class B.
        for c in [
            ReportCategory::ClassAAnchored,
            ReportCategory::ClassBMoving,
            ReportCategory::ClassBSlow,
        ] {
            assert!(p.thresholds(c).lost_ms > p.thresholds(ReportCategory::ClassAMoving).lost_ms);
        }
    }

    #[test]
    fn bad_policy_is_sanitised() {
        let p = StalenessPolicy {
            class_a_moving: Thresholds {
                stale_ms: 100,
                lost_ms: 10,
            },
            remove_after_ms: 0,
            ..StalenessPolicy::default()
        };
        let t = p.thresholds(ReportCategory::ClassAMoving);
        assert_eq!(t.lost_ms, 100);
        assert_eq!(p.remove_ms(ReportCategory::ClassAMoving), 100);
        // Extreme times saturate instead of overflowing.
        let _ = p.evaluate(ReportCategory::ClassAMoving, i64::MAX - 5, i64::MIN);
        let _ = p.transition_times(ReportCategory::Other, i64::MAX);
    }
}
