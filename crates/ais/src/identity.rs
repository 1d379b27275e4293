//! What kind of station an MMSI and message type identify.
//!
//! Distress devices announce themselves by their MMSI prefix (ITU-R M.585):
//! AIS-SART `970xxyyyy`, man-overboard `972xxyyyy`, EPIRB-AIS `974xxyyyy`.
//! Aids to navigation use `99MIDxxxx`, coast/base stations `00MIDxxxx`, SAR
//! aircraft `111MIDxxx` and send type 9. The message type decides the rest.
//!
//! ```
//! use lookout_ais::identity::{station_kind, StationKind, mid};
//! assert_eq!(station_kind(970_123_456, 1), StationKind::AisSart);
//! assert_eq!(station_kind(247_123_456, 18), StationKind::ClassB);
//! assert_eq!(mid(247_123_456), Some(247));
//! ```

/// Kind of AIS station.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StationKind {
    ClassA,
    ClassB,
    SarAircraft,
    AidToNavigation,
    BaseStation,
    AisSart,
    ManOverboard,
    EpirbAis,
    /// Not enough to tell (e.g. only a binary message seen).
    Unknown,
}

impl StationKind {
    /// A short stable name (`"A"`, `"B"`, `"sar_aircraft"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            StationKind::ClassA => "A",
            StationKind::ClassB => "B",
            StationKind::SarAircraft => "sar_aircraft",
            StationKind::AidToNavigation => "aton",
            StationKind::BaseStation => "base_station",
            StationKind::AisSart => "ais_sart",
            StationKind::ManOverboard => "mob",
            StationKind::EpirbAis => "epirb_ais",
            StationKind::Unknown => "unknown",
        }
    }

    /// True for AIS-SART, MOB and EPIRB-AIS: devices that mean distress.
    pub fn is_distress_device(self) -> bool {
        matches!(
            self,
            StationKind::AisSart | StationKind::ManOverboard | StationKind::EpirbAis
        )
    }
}

/// The device an MMSI prefix identifies, regardless of message type.
pub fn mmsi_device(mmsi: u32) -> Option<StationKind> {
    match mmsi / 1_000_000 {
        970 => Some(StationKind::AisSart),
        972 => Some(StationKind::ManOverboard),
        974 => Some(StationKind::EpirbAis),
        _ => None,
    }
}

/// The station kind from its MMSI and the type of a message it sent.
pub fn station_kind(mmsi: u32, msg_type: u8) -> StationKind {
    if let Some(kind) = mmsi_device(mmsi) {
        return kind;
    }
    match msg_type {
        1..=3 | 5 => StationKind::ClassA,
        18 | 19 | 24 => StationKind::ClassB,
        9 => StationKind::SarAircraft,
        21 => StationKind::AidToNavigation,
        4 => StationKind::BaseStation,
        27 => StationKind::ClassA,
        _ => match mmsi / 10_000_000 {
            99 => StationKind::AidToNavigation,
            0 if mmsi >= 1_000_000 => StationKind::BaseStation,
            _ => StationKind::Unknown,
        },
    }
}

/// The Maritime Identification Digits (country) of an MMSI, for ship
/// stations (`MIDxxxxxx`), coast stations (`00MIDxxxx`), group calls
/// (`0MIDxxxxx`), SAR aircraft (`111MIDxxx`), aids to navigation
/// (`99MIDxxxx`) and craft associated with a parent ship (`98MIDxxxx`).
/// `None` when the MMSI has no MID or it is outside 201–775.
pub fn mid(mmsi: u32) -> Option<u16> {
    let m = match mmsi {
        100_000_000..=999_999_999 => match mmsi / 10_000_000 {
            98 | 99 => (mmsi / 10_000) % 1000,
            97 => return None,
            _ if mmsi / 1_000_000 == 111 => (mmsi / 1000) % 1000,
            _ => mmsi / 1_000_000,
        },
        1_000_000..=9_999_999 => mmsi / 10_000,
        10_000_000..=99_999_999 => mmsi / 100_000,
        _ => return None,
    } as u16;
    (201..=775).contains(&m).then_some(m)
}

/// True when the MMSI carries a valid MID or is a device that has none
/// (AIS-SART, MOB, EPIRB-AIS).
pub fn mmsi_is_valid(mmsi: u32) -> bool {
    mmsi_device(mmsi).is_some() || mid(mmsi).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distress_devices_win_over_message_type() {
        assert_eq!(station_kind(970_010_001, 1), StationKind::AisSart);
        assert_eq!(station_kind(972_010_001, 14), StationKind::ManOverboard);
        assert_eq!(station_kind(974_010_001, 1), StationKind::EpirbAis);
        assert!(StationKind::EpirbAis.is_distress_device());
        assert!(!StationKind::ClassA.is_distress_device());
    }

    #[test]
    fn kinds_by_message_type_and_prefix() {
        assert_eq!(station_kind(247_000_001, 3), StationKind::ClassA);
        assert_eq!(station_kind(247_000_001, 19), StationKind::ClassB);
        assert_eq!(station_kind(111_247_001, 9), StationKind::SarAircraft);
        assert_eq!(station_kind(992_471_001, 21), StationKind::AidToNavigation);
        assert_eq!(station_kind(2_470_001, 4), StationKind::BaseStation);
        assert_eq!(station_kind(992_471_001, 8), StationKind::AidToNavigation);
        assert_eq!(station_kind(2_470_001, 8), StationKind::BaseStation);
        assert_eq!(station_kind(247_000_001, 8), StationKind::Unknown);
    }

    #[test]
    fn mids() {
        assert_eq!(mid(247_123_456), Some(247)); // Italy
        assert_eq!(mid(215_000_001), Some(215)); // Malta
        assert_eq!(mid(2_470_001), Some(247)); // coast station 00247xxxx
        assert_eq!(mid(992_151_234), Some(215)); // AtoN
        assert_eq!(mid(111_247_123), Some(247)); // SAR aircraft
        assert_eq!(mid(123_456_789), None); // MID 123 unassigned
        assert_eq!(mid(0), None);
        assert!(mmsi_is_valid(970_123_456));
        assert!(!mmsi_is_valid(999_999_999));
    }
}
