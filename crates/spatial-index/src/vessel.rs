//! The vessel record: one per MMSI, merging dynamic reports with static and
//! voyage data, and the station class derived from what it sent.
//!
//! Dynamic data (position, speed, course, heading, status) comes from types
//! 1, 2, 3, 18, 19, 27 (ships), 9 (SAR aircraft), 21 (aids to navigation)
//! and 4 (base stations). Static and voyage data (name, call sign, IMO,
//! ship type, dimensions, draught, destination, ETA) comes from types 5,
//! 19, 24 parts A and B, and 21. A field a message leaves "not available"
//! (empty name, IMO 0, zero dimensions) never erases a known value.
//!
//! The [class](VesselClass) follows the evidence: the MMSI prefix of a
//! distress device (AIS-SART 970, MOB 972, EPIRB-AIS 974) wins over
//! everything; a position report decides between class A (1–3), class B
//! (18, 19), SAR aircraft (9), aid to navigation (21) and base station (4);
//! static-only or long-range messages (5, 24, 27) only fill in a class not
//! yet known.
//!
//! ```
//! use spatial_index::vessel::{derive_class, VesselClass};
//! assert_eq!(derive_class(VesselClass::Unknown, 247_123_456, 24), VesselClass::B);
//! // A class A ship's type 5 does not turn a known class B into A …
//! assert_eq!(derive_class(VesselClass::B, 247_123_456, 5), VesselClass::B);
//! // … but its position reports do.
//! assert_eq!(derive_class(VesselClass::B, 247_123_456, 1), VesselClass::A);
//! assert_eq!(derive_class(VesselClass::A, 970_123_456, 1), VesselClass::AisSart);
//! ```

use lookout_ais::identity::{mmsi_device, station_kind, StationKind};
use lookout_ais::messages::{Dimensions, Eta};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Serialize, Serializer};

use crate::dedup::RecentPayloads;
use crate::track::Track;

/// What kind of station a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum VesselClass {
    #[serde(rename = "A")]
    A,
    #[serde(rename = "B")]
    B,
    #[serde(rename = "sar_aircraft")]
    SarAircraft,
    #[serde(rename = "aton")]
    AtoN,
    #[serde(rename = "base_station")]
    BaseStation,
    #[serde(rename = "ais_sart")]
    AisSart,
    #[serde(rename = "mob")]
    Mob,
    #[serde(rename = "epirb_ais")]
    EpirbAis,
    #[serde(rename = "unknown")]
    Unknown,
}

impl From<StationKind> for VesselClass {
    fn from(k: StationKind) -> Self {
        match k {
            StationKind::ClassA => VesselClass::A,
            StationKind::ClassB => VesselClass::B,
            StationKind::SarAircraft => VesselClass::SarAircraft,
            StationKind::AidToNavigation => VesselClass::AtoN,
            StationKind::BaseStation => VesselClass::BaseStation,
            StationKind::AisSart => VesselClass::AisSart,
            StationKind::ManOverboard => VesselClass::Mob,
            StationKind::EpirbAis => VesselClass::EpirbAis,
            StationKind::Unknown => VesselClass::Unknown,
        }
    }
}

impl VesselClass {
    /// The stable name used in JSON (`"A"`, `"B"`, `"sar_aircraft"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            VesselClass::A => "A",
            VesselClass::B => "B",
            VesselClass::SarAircraft => "sar_aircraft",
            VesselClass::AtoN => "aton",
            VesselClass::BaseStation => "base_station",
            VesselClass::AisSart => "ais_sart",
            VesselClass::Mob => "mob",
            VesselClass::EpirbAis => "epirb_ais",
            VesselClass::Unknown => "unknown",
        }
    }

    /// AIS-SART, MOB and EPIRB-AIS: devices that mean distress.
    pub fn is_distress_device(self) -> bool {
        matches!(
            self,
            VesselClass::AisSart | VesselClass::Mob | VesselClass::EpirbAis
        )
    }
}

/// The class after a message of `msg_type` from `mmsi`, given the class
/// known so far.
pub fn derive_class(current: VesselClass, mmsi: u32, msg_type: u8) -> VesselClass {
    if let Some(device) = mmsi_device(mmsi) {
        return device.into();
    }
    let said: VesselClass = station_kind(mmsi, msg_type).into();
    if said == VesselClass::Unknown {
        return current;
    }
    let decisive = matches!(msg_type, 1..=4 | 9 | 18 | 19 | 21);
    if decisive || current == VesselClass::Unknown {
        said
    } else {
        current
    }
}

/// Liveness of a record; see [`crate::staleness`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VesselState {
    Active,
    Stale,
    Lost,
}

/// Marks on a record for input that was implausible or incomplete. The
/// record is kept; the marks say what to distrust.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct VesselFlags(u8);

impl VesselFlags {
    /// The MMSI has no valid MID (and is no distress device).
    pub const INVALID_MMSI: VesselFlags = VesselFlags(1);
    /// The last position report said "position not available".
    pub const POSITION_UNAVAILABLE: VesselFlags = VesselFlags(2);
    /// The last position report gave 0°N 0°E, a common default of
    /// unconfigured GNSS receivers.
    pub const NULL_ISLAND: VesselFlags = VesselFlags(4);
    /// The last position report implied an impossible speed and was held
    /// back (see [`crate::plausibility`]).
    pub const IMPLAUSIBLE_JUMP: VesselFlags = VesselFlags(8);
    /// Reported as own ship (`!AIVDO`).
    pub const OWN_SHIP: VesselFlags = VesselFlags(16);

    const NAMES: [(VesselFlags, &'static str); 5] = [
        (Self::INVALID_MMSI, "invalid_mmsi"),
        (Self::POSITION_UNAVAILABLE, "position_unavailable"),
        (Self::NULL_ISLAND, "null_island"),
        (Self::IMPLAUSIBLE_JUMP, "implausible_jump"),
        (Self::OWN_SHIP, "own_ship"),
    ];

    /// No flags.
    pub const fn empty() -> Self {
        VesselFlags(0)
    }

    /// True when every flag of `other` is set.
    pub fn contains(self, other: VesselFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// True when no flag is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Set or clear `other`; returns true when that changed anything.
    pub fn set(&mut self, other: VesselFlags, on: bool) -> bool {
        let before = self.0;
        if on {
            self.0 |= other.0;
        } else {
            self.0 &= !other.0;
        }
        before != self.0
    }

    /// Names of the set flags.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES
            .into_iter()
            .filter(move |(f, _)| self.contains(*f))
            .map(|(_, n)| n)
    }
}

impl Serialize for VesselFlags {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for n in self.names() {
            seq.serialize_element(n)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for VesselFlags {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        let mut f = VesselFlags::empty();
        for n in names {
            match Self::NAMES.iter().find(|(_, name)| *name == n) {
                Some((flag, _)) => {
                    f.set(*flag, true);
                }
                None => return Err(serde::de::Error::custom(format!("unknown flag {n:?}"))),
            }
        }
        Ok(f)
    }
}

/// A position and when it was true.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    pub lat: f64,
    pub lon: f64,
    /// Message time of the report, ms since the UNIX epoch.
    pub time_ms: i64,
    /// Position accuracy flag: true = better than 10 m (DGNSS).
    pub accurate: bool,
}

/// Dimensions from the position reference point, metres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dims {
    pub to_bow: u16,
    pub to_stern: u16,
    pub to_port: u8,
    pub to_starboard: u8,
}

impl Dims {
    /// Length overall, metres.
    pub fn length(&self) -> u16 {
        self.to_bow.saturating_add(self.to_stern)
    }

    /// Beam, metres.
    pub fn beam(&self) -> u16 {
        u16::from(self.to_port) + u16::from(self.to_starboard)
    }

    fn from_ais(d: &Dimensions) -> Option<Dims> {
        let dims = Dims {
            to_bow: d.to_bow,
            to_stern: d.to_stern,
            to_port: d.to_port,
            to_starboard: d.to_starboard,
        };
        (dims.length() > 0 || dims.beam() > 0).then_some(dims)
    }
}

/// Estimated time of arrival as sent: month, day, hour, minute, no year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EtaInfo {
    pub month: Option<u8>,
    pub day: Option<u8>,
    pub hour: Option<u8>,
    pub minute: Option<u8>,
}

/// Static and voyage data, kept out of line: most of a record's updates
/// are positions, and many stations never send any of this.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StaticInfo {
    pub name: Option<String>,
    pub callsign: Option<String>,
    pub imo: Option<u32>,
    /// Ship and cargo type (ITU-R M.1371 table 53).
    pub ship_type: Option<u8>,
    pub dimensions: Option<Dims>,
    pub draught_m: Option<f32>,
    pub destination: Option<String>,
    pub eta: Option<EtaInfo>,
    /// Type 24 part B vendor id.
    pub vendor_id: Option<String>,
    /// Type 24 part B: parent ship of an auxiliary craft (98MIDxxxx).
    pub mothership_mmsi: Option<u32>,
    /// Type 21: kind of aid to navigation.
    pub aid_type: Option<u8>,
    /// Type 21: virtual aid (no physical structure).
    pub virtual_aid: Option<bool>,
    /// Type 21: the aid is off its charted position.
    pub off_position: Option<bool>,
    /// Message time of the last static update.
    pub updated_ms: i64,
}

fn set_text(slot: &mut Option<String>, v: &str) -> bool {
    let v = v.trim_matches(|c| c == ' ' || c == '@');
    if v.is_empty() || slot.as_deref() == Some(v) {
        return false;
    }
    *slot = Some(v.to_owned());
    true
}

fn set_some<T: PartialEq>(slot: &mut Option<T>, v: Option<T>) -> bool {
    match v {
        Some(v) if slot.as_ref() != Some(&v) => {
            *slot = Some(v);
            true
        }
        _ => false,
    }
}

impl StaticInfo {
    /// Name (types 5, 19, 24A, 21).
    pub fn merge_name(&mut self, name: &str) -> bool {
        set_text(&mut self.name, name)
    }

    /// Type 5 static and voyage data.
    pub fn merge_voyage(&mut self, s: &lookout_ais::messages::StaticVoyage) -> bool {
        let mut c = set_text(&mut self.name, &s.shipname);
        c |= set_text(&mut self.callsign, &s.callsign);
        c |= set_some(&mut self.imo, s.imo);
        c |= set_some(&mut self.ship_type, s.shiptype);
        c |= set_some(&mut self.dimensions, Dims::from_ais(&s.dimensions));
        c |= set_some(&mut self.draught_m, s.draught.map(|d| d as f32));
        c |= set_text(&mut self.destination, &s.destination);
        c |= set_some(&mut self.eta, eta(&s.eta));
        c
    }

    /// Ship type and dimensions (types 19, 24B, 21).
    pub fn merge_type_dims(&mut self, ship_type: Option<u8>, dims: &Dimensions) -> bool {
        let mut c = set_some(&mut self.ship_type, ship_type);
        c |= set_some(&mut self.dimensions, Dims::from_ais(dims));
        c
    }

    /// Type 24 part B.
    pub fn merge_part_b(&mut self, b: &lookout_ais::messages::StaticPartB) -> bool {
        let mut c = self.merge_type_dims(b.shiptype, &b.dimensions);
        c |= set_text(&mut self.callsign, &b.callsign);
        c |= set_text(&mut self.vendor_id, &b.vendorid);
        c |= set_some(
            &mut self.mothership_mmsi,
            b.mothership_mmsi.filter(|&m| m != 0),
        );
        c
    }

    /// Type 21 aid-to-navigation fields.
    pub fn merge_aton(&mut self, a: &lookout_ais::messages::AidToNavigation) -> bool {
        let mut c = set_text(&mut self.name, &a.name);
        c |= set_some(&mut self.dimensions, Dims::from_ais(&a.dimensions));
        c |= set_some(&mut self.aid_type, Some(a.aid_type).filter(|&t| t != 0));
        c |= set_some(&mut self.virtual_aid, Some(a.virtual_aid));
        c |= set_some(&mut self.off_position, Some(a.off_position));
        c
    }
}

fn eta(e: &Eta) -> Option<EtaInfo> {
    let info = EtaInfo {
        month: e.month,
        day: e.day,
        hour: e.hour,
        minute: e.minute,
    };
    (info.month.is_some() || info.day.is_some()).then_some(info)
}

/// Where a record sits in the indexes; owned by the picture.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct IndexState {
    /// The record's entry in the vessel R-tree (a box around the position).
    pub tree_box: Option<[f32; 4]>,
    /// Box around the position in which zone membership cannot change.
    pub safe_box: [f64; 4],
}

/// An empty box: contains nothing.
pub(crate) const EMPTY_BOX: [f64; 4] =
    [f64::INFINITY, f64::INFINITY, -f64::INFINITY, -f64::INFINITY];

/// One station in the picture.
#[derive(Debug, Clone, Serialize)]
pub struct Vessel {
    pub mmsi: u32,
    pub class: VesselClass,
    pub state: VesselState,
    pub flags: VesselFlags,
    /// Message time of the first and the latest report, ms since the epoch.
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    /// Reports applied (duplicates not counted).
    pub messages: u32,
    /// Latest accepted position.
    pub position: Option<Fix>,
    /// Speed over ground, knots.
    pub sog_kn: Option<f32>,
    /// Course over ground, degrees.
    pub cog_deg: Option<f32>,
    /// True heading, degrees.
    pub heading_deg: Option<u16>,
    /// Navigational status (class A, type 27), 0–15.
    pub nav_status: Option<u8>,
    /// Altitude (SAR aircraft), metres.
    pub altitude_m: Option<u16>,
    /// Position reports held back as implausible jumps so far.
    pub implausible_jumps: u32,
    /// Static and voyage data, when any was received.
    pub info: Option<Box<StaticInfo>>,
    /// Position history (serialised separately on request).
    #[serde(skip)]
    pub track: Track,
    /// Zones the position is inside (indexes into the picture's zone
    /// index), sorted.
    #[serde(skip)]
    pub(crate) zones: Vec<u32>,
    #[serde(skip)]
    pub(crate) index: IndexState,
    /// A position held back as an implausible jump; accepted if the next
    /// report confirms it.
    #[serde(skip)]
    pub(crate) pending: Option<Fix>,
    /// When the staleness queue will next look at this record.
    #[serde(skip)]
    pub(crate) check_at: i64,
    /// Hashes of the last payloads applied, for duplicate suppression.
    #[serde(skip)]
    pub(crate) recent: RecentPayloads,
}

impl Vessel {
    /// A new record first seen at `time_ms`.
    pub fn new(mmsi: u32, time_ms: i64) -> Self {
        let mut flags = VesselFlags::empty();
        flags.set(
            VesselFlags::INVALID_MMSI,
            !lookout_ais::identity::mmsi_is_valid(mmsi),
        );
        Vessel {
            mmsi,
            class: VesselClass::Unknown,
            state: VesselState::Active,
            flags,
            first_seen_ms: time_ms,
            last_seen_ms: time_ms,
            messages: 0,
            position: None,
            sog_kn: None,
            cog_deg: None,
            heading_deg: None,
            nav_status: None,
            altitude_m: None,
            implausible_jumps: 0,
            info: None,
            track: Track::default(),
            zones: Vec::new(),
            index: IndexState {
                tree_box: None,
                safe_box: EMPTY_BOX,
            },
            pending: None,
            check_at: i64::MAX,
            recent: RecentPayloads::default(),
        }
    }

    /// Static data, created on first use.
    pub fn info_mut(&mut self) -> &mut StaticInfo {
        self.info.get_or_insert_with(Box::default)
    }

    /// Name, when known.
    pub fn name(&self) -> Option<&str> {
        self.info.as_ref().and_then(|i| i.name.as_deref())
    }

    /// Bytes of heap this record holds (static data, zone list, track),
    /// for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        let strings = self.info.as_ref().map_or(0, |i| {
            std::mem::size_of::<StaticInfo>()
                + [&i.name, &i.callsign, &i.destination, &i.vendor_id]
                    .iter()
                    .map(|s| s.as_ref().map_or(0, String::capacity))
                    .sum::<usize>()
        });
        strings + self.zones.capacity() * 4 + self.track.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        use VesselClass::*;
        assert_eq!(derive_class(Unknown, 247_000_001, 18), B);
        assert_eq!(derive_class(Unknown, 111_247_001, 9), SarAircraft);
        assert_eq!(derive_class(Unknown, 992_471_001, 21), AtoN);
        assert_eq!(derive_class(Unknown, 2_470_001, 4), BaseStation);
        assert_eq!(derive_class(Unknown, 972_000_001, 14), Mob);
        assert_eq!(derive_class(Unknown, 974_000_001, 1), EpirbAis);
        assert_eq!(derive_class(Unknown, 247_000_001, 27), A);
        assert_eq!(derive_class(B, 247_000_001, 27), B);
        assert_eq!(derive_class(A, 247_000_001, 8), A);
        assert_eq!(derive_class(Unknown, 247_000_001, 8), Unknown);
    }

    #[test]
    fn flags_round_trip() {
        let mut f = VesselFlags::empty();
        assert!(f.set(VesselFlags::INVALID_MMSI, true));
        assert!(!f.set(VesselFlags::INVALID_MMSI, true));
        f.set(VesselFlags::NULL_ISLAND, true);
        let j = serde_json::to_string(&f).unwrap();
        assert_eq!(j, r#"["invalid_mmsi","null_island"]"#);
        assert_eq!(serde_json::from_str::<VesselFlags>(&j).unwrap(), f);
        assert!(serde_json::from_str::<VesselFlags>(r#"["nope"]"#).is_err());
    }

    #[test]
    fn empty_values_never_erase() {
        let mut s = StaticInfo::default();
        assert!(s.merge_name("ALPHA"));
        assert!(!s.merge_name(""));
        assert!(!s.merge_name("@@@"));
        assert_eq!(s.name.as_deref(), Some("ALPHA"));
        assert!(!s.merge_type_dims(None, &Dimensions::default()));
    }
}
