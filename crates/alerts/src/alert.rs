//! The alert object, as sinks and clients receive it.

use serde::{Serialize, Serializer};
use std::sync::Arc;

/// What the alert is about.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    ZoneEnter,
    ZoneExit,
    DistressBeacon,
    DistressBeaconTest,
    AisGap,
    Loitering,
    Encounter,
    PositionJump,
    NavStatus,
}

impl AlertKind {
    pub const ALL: [AlertKind; 9] = [
        AlertKind::ZoneEnter,
        AlertKind::ZoneExit,
        AlertKind::DistressBeacon,
        AlertKind::DistressBeaconTest,
        AlertKind::AisGap,
        AlertKind::Loitering,
        AlertKind::Encounter,
        AlertKind::PositionJump,
        AlertKind::NavStatus,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::ZoneEnter => "zone_enter",
            AlertKind::ZoneExit => "zone_exit",
            AlertKind::DistressBeacon => "distress_beacon",
            AlertKind::DistressBeaconTest => "distress_beacon_test",
            AlertKind::AisGap => "ais_gap",
            AlertKind::Loitering => "loitering",
            AlertKind::Encounter => "encounter",
            AlertKind::PositionJump => "position_jump",
            AlertKind::NavStatus => "nav_status",
        }
    }
}

/// How urgent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

/// Where the alert is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    Raised,
    Updated,
    Cleared,
    Acknowledged,
}

impl AlertState {
    pub fn parse(s: &str) -> Option<AlertState> {
        Some(match s {
            "raised" => AlertState::Raised,
            "updated" => AlertState::Updated,
            "cleared" => AlertState::Cleared,
            "acknowledged" => AlertState::Acknowledged,
            _ => return None,
        })
    }
}

fn rfc3339<S: Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(*ms))
}

fn opt_rfc3339<S: Serializer>(ms: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match ms {
        Some(ms) => s.serialize_str(&format_time(*ms)),
        None => s.serialize_none(),
    }
}

fn parse_time(s: &str) -> Result<i64, String> {
    let t = humantime::parse_rfc3339(s).map_err(|e| format!("{s:?}: {e}"))?;
    t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .map_err(|e| e.to_string())
}

fn de_rfc3339<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let s = <String as serde::Deserialize>::deserialize(d)?;
    parse_time(&s).map_err(serde::de::Error::custom)
}

fn de_opt_rfc3339<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    <Option<String> as serde::Deserialize>::deserialize(d)?
        .map(|s| parse_time(&s))
        .transpose()
        .map_err(serde::de::Error::custom)
}

/// RFC 3339 UTC (seconds, or milliseconds when not whole).
pub fn format_time(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    if ms % 1000 == 0 {
        humantime::format_rfc3339_seconds(t).to_string()
    } else {
        humantime::format_rfc3339_millis(t).to_string()
    }
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Alert {
    /// Stable id from the alert's content (`a-` and 16 hex digits, see
    /// [`crate::book::alert_id`]): the same situation raised at the same
    /// message time has the same id in every run; no other alert has it.
    pub id: String,
    pub kind: AlertKind,
    pub mmsi: u32,
    pub other_mmsi: Option<u32>,
    pub zone: Option<Arc<str>>,
    /// Message time of the latest change.
    #[serde(serialize_with = "rfc3339", deserialize_with = "de_rfc3339")]
    pub time: i64,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub severity: Severity,
    /// One human sentence.
    pub message: String,
    pub state: AlertState,
    #[serde(serialize_with = "rfc3339", deserialize_with = "de_rfc3339")]
    pub raised_at: i64,
    #[serde(serialize_with = "opt_rfc3339", deserialize_with = "de_opt_rfc3339")]
    pub cleared_at: Option<i64>,
    pub acknowledged_by: Option<String>,
    #[serde(serialize_with = "opt_rfc3339", deserialize_with = "de_opt_rfc3339")]
    pub acknowledged_at: Option<i64>,
    pub note: Option<String>,
}

impl Alert {
    /// The alert as a JSON line.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Degrees and decimal minutes, as watch officers read positions:
/// `34°42.0'N 013°06.0'E`.
pub fn format_position(lat: f64, lon: f64) -> String {
    let part = |v: f64, width: usize, pos: char, neg: char| {
        // Round to tenths of a minute first, so 59.96' reads 1° 00.0', not 60.0'.
        let tenths = (v.abs() * 600.0).round() as u64;
        let (d, m) = (tenths / 600, tenths % 600);
        format!(
            "{:0width$}°{:02}.{}'{}",
            d,
            m / 10,
            m % 10,
            if v >= 0.0 { pos } else { neg }
        )
    };
    format!("{} {}", part(lat, 2, 'N', 'S'), part(lon, 3, 'E', 'W'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_round_into_the_next_degree() {
        assert_eq!(format_position(34.99999, 12.99999), "35°00.0'N 013°00.0'E");
        assert_eq!(format_position(-0.05, -0.0), "00°03.0'S 000°00.0'E");
    }

    #[test]
    fn positions_read_like_a_chart() {
        assert_eq!(format_position(34.7, 13.1), "34°42.0'N 013°06.0'E");
        assert_eq!(format_position(-1.5, -70.25), "01°30.0'S 070°15.0'W");
    }

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(format_time(1_795_845_600_000), "2026-11-28T06:00:00Z");
    }
}
