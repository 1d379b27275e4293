//! `nav_status`: a vessel reports "not under command" (2) or "aground" (6)
//! inside a zone. Clears when it reports another status or leaves the
//! zones.

use super::{alert_zones, label};
use crate::alert::{format_position, AlertKind, Severity};
use crate::book::{AlertBook, Facts, Situation};
use spatial_index::{Picture, Vessel};

pub fn report(book: &mut AlertBook, p: &Picture, v: &Vessel, time: i64) {
    let mmsi = v.mmsi;
    let what = match v.nav_status {
        Some(2) => "not under command",
        Some(6) => "aground",
        _ => {
            let s = Situation::vessel(AlertKind::NavStatus, mmsi);
            book.clear(&s, time, "navigation status back to normal");
            return;
        }
    };
    let s = Situation::vessel(AlertKind::NavStatus, mmsi);
    let Some(zone) = alert_zones(p, v).next() else {
        book.clear(&s, time, "the vessel left the zones");
        return;
    };
    let pos = v.position.as_ref().map(|f| (f.lat, f.lon));
    book.raise(
        s,
        Facts {
            time,
            lat: pos.map(|p| p.0),
            lon: pos.map(|p| p.1),
            severity: Severity::Warning,
            message: format!(
                "{} reports {what} in {}{}.",
                label(p, mmsi),
                zone.name,
                pos.map(|(a, b)| format!(" at {}", format_position(a, b)))
                    .unwrap_or_default()
            ),
            zone: Some(zone.id.clone()),
        },
    );
}
