//! `distress_beacon` and `distress_beacon_test`.
//!
//! An AIS-SART (970xxxxxx), MOB (972xxxxxx) or EPIRB-AIS (974xxxxxx) in
//! active mode — navigation status 14, or its safety text "… ACTIVE" —
//! raises a critical alert, once per activation: further reports update its
//! position. Test mode — status 15 or "… TEST" — raises an info alert. The
//! activation ends (the alert clears) when the beacon falls silent long
//! enough for the picture to call it lost, or is removed.

use super::label;
use crate::alert::{format_position, AlertKind, Severity};
use crate::book::{AlertBook, Facts, Situation};
use spatial_index::Picture;

/// Beacon mode from a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Active,
    Test,
}

/// Mode from a navigation status.
pub fn mode_from_status(status: Option<u8>) -> Option<Mode> {
    match status {
        Some(14) => Some(Mode::Active),
        Some(15) => Some(Mode::Test),
        _ => None,
    }
}

/// Mode from a safety text ("SART ACTIVE", "MOB TEST", …).
pub fn mode_from_text(text: &str) -> Option<Mode> {
    let t = text.to_ascii_uppercase();
    if t.contains("ACTIVE") {
        Some(Mode::Active)
    } else if t.contains("TEST") {
        Some(Mode::Test)
    } else {
        None
    }
}

fn device(mmsi: u32) -> &'static str {
    match mmsi / 1_000_000 {
        970 => "AIS-SART",
        972 => "MOB device",
        974 => "EPIRB-AIS",
        _ => "Distress beacon",
    }
}

/// Raise or update for a beacon report in `mode` at `time`.
pub fn report(book: &mut AlertBook, p: &Picture, mmsi: u32, mode: Mode, time: i64) {
    let pos = p
        .vessel(mmsi)
        .and_then(|v| v.position.as_ref())
        .map(|f| (f.lat, f.lon));
    let (kind, severity, what) = match mode {
        Mode::Active => (AlertKind::DistressBeacon, Severity::Critical, "ACTIVE"),
        Mode::Test => (
            AlertKind::DistressBeaconTest,
            Severity::Info,
            "in TEST mode",
        ),
    };
    let at = pos
        .map(|(la, lo)| format!(" at {}", format_position(la, lo)))
        .unwrap_or_default();
    let name = label(p, mmsi);
    let message = if name.starts_with("MMSI") {
        format!("{} {mmsi} {what}{at}.", device(mmsi))
    } else {
        format!("{} {name} {what}{at}.", device(mmsi))
    };
    book.raise(
        Situation::vessel(kind, mmsi),
        Facts {
            time,
            lat: pos.map(|p| p.0),
            lon: pos.map(|p| p.1),
            severity,
            message,
            zone: None,
        },
    );
}

/// The beacon fell silent or was removed: its activation is over.
pub fn ended(book: &mut AlertBook, mmsi: u32, time: i64, why: &str) {
    for kind in [AlertKind::DistressBeacon, AlertKind::DistressBeaconTest] {
        book.clear(&Situation::vessel(kind, mmsi), time, why);
    }
}
