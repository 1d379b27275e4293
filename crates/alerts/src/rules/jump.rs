//! `position_jump`: consecutive positions of one vessel imply more than 60
//! knots (the picture flags them; SAR aircraft are excepted there) —
//! spoofing or a bad fix. Clears after 30 minutes without another jump.

use super::label;
use crate::alert::{format_position, AlertKind, Severity};
use crate::book::{AlertBook, Facts, Situation};
use spatial_index::Picture;
use std::collections::BTreeMap;

/// State of the jump rule.
#[derive(Debug, Default)]
pub struct JumpRule {
    last: BTreeMap<u32, i64>,
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
        self.last.insert(mmsi, time);
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
        let done: Vec<u32> = self
            .last
            .iter()
            .filter(|(_, &t)| now - t >= clear_ms)
            .map(|(&m, _)| m)
            .collect();
        for m in done {
            self.last.remove(&m);
            book.clear(
                &Situation::vessel(AlertKind::PositionJump, m),
                now,
                "no further jumps",
            );
        }
    }
}
