//! `position_jump`: consecutive positions of one vessel imply more than 60
//! knots (the picture flags them; SAR aircraft are excepted there) —
//! spoofing or a bad fix. Clears 30 minutes after the last jump (at that
//! exact message time, whenever the clock passes it).

use super::label;
use crate::alert::{format_position, AlertKind, Severity};
use crate::book::{AlertBook, Facts, Situation};
use spatial_index::hash::FastMap;
use spatial_index::Picture;
use std::collections::BTreeSet;

/// State of the jump rule.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct JumpRule {
    /// Each vessel's last jump.
    last: FastMap<u32, i64>,
    /// (last jump, MMSI), oldest first.
    by_time: BTreeSet<(i64, u32)>,
}

impl JumpRule {
    #[allow(clippy::too_many_arguments)]
    pub fn jump(
        &mut self,
        book: &mut AlertBook,
        p: &Picture,
        mmsi: u32,
        time: i64,
        to_lat: f64,
        to_lon: f64,
        knots: f64,
    ) {
        if let Some(old) = self.last.insert(mmsi, time) {
            self.by_time.remove(&(old, mmsi));
        }
        self.by_time.insert((time, mmsi));
        book.raise(
            Situation::vessel(AlertKind::PositionJump, mmsi),
            Facts {
                time,
                lat: Some(to_lat),
                lon: Some(to_lon),
                severity: Severity::Warning,
                message: format!(
                    "{} reported a position implying {:.0} kn (to {}): spoofing or a bad fix.",
                    label(p, mmsi),
                    knots,
                    format_position(to_lat, to_lon)
                ),
                zone: None,
            },
        );
    }

    pub fn tick(&mut self, book: &mut AlertBook, now: i64, clear_ms: i64) {
        while let Some(&(t, m)) = self.by_time.first() {
            let at = t.saturating_add(clear_ms);
            if at > now {
                break;
            }
            self.by_time.pop_first();
            self.last.remove(&m);
            book.clear(
                &Situation::vessel(AlertKind::PositionJump, m),
                at,
                "no further jumps",
            );
        }
    }
}
