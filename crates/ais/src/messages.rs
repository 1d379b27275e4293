//! Typed AIS messages (ITU-R M.1371-5, types 1–27) and the bit layouts that
//! fill them.
//!
//! [`decode_message`] reads a de-armoured payload ([`BitBuf`]) into an
//! [`AisMessage`]. Every value the standard reserves for "not available"
//! (latitude 91°, longitude 181°, speed 102.3 kn, course 360°, heading 511,
//! second 60, rate of turn -128, …) becomes `None`, never a number.
//! Coordinates are `f64` degrees, speeds knots, courses degrees.
//!
//! Length tolerances follow what real transmitters send: types 1–3 of 163
//! bits or more (168 nominal), type 5 at 420–424 bits, type 24 part A at 160
//! bits, the short (one-station) type 16. Anything shorter than a type's fixed part is
//! a [`MessageError::TooShort`], never a panic.
//!
//! ```
//! use lookout_ais::bits::BitBuf;
//! use lookout_ais::messages::{decode_message, Body};
//! let mut bits = BitBuf::new();
//! bits.push_armored(b"15RTgt0PAso;90TKcjM8h6g208CQ").unwrap();
//! bits.finish(0);
//! let msg = decode_message(&bits).unwrap();
//! assert_eq!(msg.mmsi, 371798000);
//! let Body::Position(p) = &msg.body else { panic!() };
//! assert_eq!(p.speed, Some(12.3));
//! assert!((p.lat.unwrap() - 48.381633).abs() < 1e-6);
//! ```

use crate::application::{self, Application};
use crate::bits::BitBuf;

/// Why a payload is not a valid message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageError {
    /// Message type 0 or 28–63.
    UnknownType(u8),
    /// Fewer bits than the type's fixed part.
    TooShort { msg_type: u8, bits: usize },
    /// Type 24 with a part number other than 0 (A) or 1 (B).
    BadPartNumber(u8),
}

impl MessageError {
    /// A short stable name, used in statistics.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageError::UnknownType(_) => "unknown_type",
            MessageError::TooShort { .. } => "too_short",
            MessageError::BadPartNumber(_) => "bad_part_number",
        }
    }
}

/// A decoded AIS message: the common header and a typed body.
#[derive(Debug, Clone, PartialEq)]
pub struct AisMessage {
    /// Message type, 1–27.
    pub msg_type: u8,
    /// Repeat indicator, 0–3.
    pub repeat: u8,
    /// Sending station's MMSI.
    pub mmsi: u32,
    /// Type-specific contents.
    pub body: Body,
}

/// Rate of turn as sent (ITU-R M.1371 ROT_AIS).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Turn {
    /// Turning at the given rate (degrees per minute, negative = port),
    /// from the `4.733 * sqrt(rot)` encoding.
    Rate(f64),
    /// Turning left faster than 5°/30 s, no turn indicator.
    FastLeft,
    /// Turning right faster than 5°/30 s, no turn indicator.
    FastRight,
}

impl Turn {
    /// The raw ROT_AIS value (-127..=127) back from its decoded form is not
    /// kept; this is the signed raw value as received.
    fn from_raw(raw: i64) -> Option<Turn> {
        match raw {
            -128 => None,
            -127 => Some(Turn::FastLeft),
            127 => Some(Turn::FastRight),
            r => {
                let v = r as f64 / 4.733;
                Some(Turn::Rate((v * v).copysign(r as f64)))
            }
        }
    }
}

/// Time-stamp second field (0–59), or what the transmitter said instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeStamp {
    /// UTC second of the position fix.
    Second(u8),
    /// 61: positioning system in manual input mode.
    Manual,
    /// 62: electronic position fixing in estimated (dead reckoning) mode.
    DeadReckoning,
    /// 63: positioning system inoperative.
    Inoperative,
}

impl TimeStamp {
    fn from_raw(v: u64) -> Option<TimeStamp> {
        match v {
            0..=59 => Some(TimeStamp::Second(v as u8)),
            61 => Some(TimeStamp::Manual),
            62 => Some(TimeStamp::DeadReckoning),
            63 => Some(TimeStamp::Inoperative),
            _ => None,
        }
    }

    /// The raw 6-bit value.
    pub fn raw(self) -> u8 {
        match self {
            TimeStamp::Second(s) => s,
            TimeStamp::Manual => 61,
            TimeStamp::DeadReckoning => 62,
            TimeStamp::Inoperative => 63,
        }
    }
}

/// Class A position report (types 1, 2, 3).
#[derive(Debug, Clone, PartialEq)]
pub struct PositionReport {
    /// Navigational status 0–15 (15 = not defined).
    pub status: u8,
    pub turn: Option<Turn>,
    /// Speed over ground, knots (102.2 means 102.2 or more).
    pub speed: Option<f64>,
    pub accuracy: bool,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// Course over ground, degrees.
    pub course: Option<f64>,
    /// True heading, degrees.
    pub heading: Option<u16>,
    pub second: Option<TimeStamp>,
    pub maneuver: u8,
    pub raim: bool,
    pub radio: u32,
}

/// UTC date and time as reported by a base station or in a UTC response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcTime {
    pub year: Option<u16>,
    pub month: Option<u8>,
    pub day: Option<u8>,
    pub hour: Option<u8>,
    pub minute: Option<u8>,
    pub second: Option<u8>,
}

/// Base station report (type 4) and UTC/date response (type 11).
#[derive(Debug, Clone, PartialEq)]
pub struct BaseStationReport {
    pub time: UtcTime,
    pub accuracy: bool,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// Position fixing device type (EPFD), 0 = undefined.
    pub epfd: u8,
    pub raim: bool,
    pub radio: u32,
}

/// Ship dimensions from the reference point of the position, metres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dimensions {
    pub to_bow: u16,
    pub to_stern: u16,
    pub to_port: u8,
    pub to_starboard: u8,
}

/// Estimated time of arrival (month, day, hour, minute; no year).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Eta {
    pub month: Option<u8>,
    pub day: Option<u8>,
    pub hour: Option<u8>,
    pub minute: Option<u8>,
}

/// Static and voyage related data (type 5).
#[derive(Debug, Clone, PartialEq)]
pub struct StaticVoyage {
    pub ais_version: u8,
    /// IMO number, `None` when 0.
    pub imo: Option<u32>,
    pub callsign: String,
    pub shipname: String,
    /// Ship and cargo type, `None` when 0.
    pub shiptype: Option<u8>,
    pub dimensions: Dimensions,
    pub epfd: u8,
    pub eta: Eta,
    /// Maximum present static draught, metres; `None` when 0.
    pub draught: Option<f64>,
    pub destination: String,
    /// Data terminal equipment ready (false = available).
    pub dte: bool,
}

/// An application payload (types 6, 8, 25, 26): its identifier and the bits,
/// plus the decoded application data where Lookout knows the format.
#[derive(Debug, Clone, PartialEq)]
pub struct BinaryData {
    /// Designated area code, when the message carries one.
    pub dac: Option<u16>,
    /// Function identifier, when the message carries one.
    pub fid: Option<u8>,
    /// Number of payload bits in `data`.
    pub bits: usize,
    /// Payload bits packed big-endian, the last byte zero-padded.
    pub data: Vec<u8>,
    /// Decoded contents for known DAC/FI pairs.
    pub application: Option<Application>,
}

/// Addressed binary message (type 6).
#[derive(Debug, Clone, PartialEq)]
pub struct AddressedBinary {
    pub seqno: u8,
    pub dest_mmsi: u32,
    pub retransmit: bool,
    pub payload: BinaryData,
}

/// Binary or safety acknowledgement (types 7 and 13): up to four
/// (MMSI, sequence number) pairs.
#[derive(Debug, Clone, PartialEq)]
pub struct Acknowledge {
    pub acks: Vec<(u32, u8)>,
}

/// Search and rescue aircraft position report (type 9).
#[derive(Debug, Clone, PartialEq)]
pub struct SarAircraftReport {
    /// Altitude, metres (4094 means 4094 or more).
    pub alt: Option<u16>,
    /// Speed over ground, knots (1022 means 1022 or more).
    pub speed: Option<u16>,
    pub accuracy: bool,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub course: Option<f64>,
    pub second: Option<TimeStamp>,
    pub regional: u8,
    pub dte: bool,
    pub assigned: bool,
    pub raim: bool,
    pub radio: u32,
}

/// Addressed safety related message (type 12).
#[derive(Debug, Clone, PartialEq)]
pub struct AddressedSafety {
    pub seqno: u8,
    pub dest_mmsi: u32,
    pub retransmit: bool,
    pub text: String,
}

/// Interrogation (type 15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interrogation {
    pub mmsi1: u32,
    pub type1_1: u8,
    pub offset1_1: u16,
    pub type1_2: Option<(u8, u16)>,
    pub mmsi2: Option<(u32, u8, u16)>,
}

/// Assignment mode command (type 16): one or two stations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentCommand {
    /// (MMSI, offset, increment) per assigned station.
    pub assignments: Vec<(u32, u16, u16)>,
}

/// DGNSS broadcast binary message (type 17).
#[derive(Debug, Clone, PartialEq)]
pub struct DgnssBroadcast {
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub bits: usize,
    pub data: Vec<u8>,
}

/// Standard class B position report (type 18).
#[derive(Debug, Clone, PartialEq)]
pub struct ClassBPosition {
    pub reserved: u8,
    pub speed: Option<f64>,
    pub accuracy: bool,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub course: Option<f64>,
    pub heading: Option<u16>,
    pub second: Option<TimeStamp>,
    pub regional: u8,
    pub cs: bool,
    pub display: bool,
    pub dsc: bool,
    pub band: bool,
    pub msg22: bool,
    pub assigned: bool,
    pub raim: bool,
    pub radio: u32,
}

/// Extended class B position report (type 19).
#[derive(Debug, Clone, PartialEq)]
pub struct ClassBExtended {
    pub reserved: u8,
    pub speed: Option<f64>,
    pub accuracy: bool,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub course: Option<f64>,
    pub heading: Option<u16>,
    pub second: Option<TimeStamp>,
    pub regional: u8,
    pub shipname: String,
    pub shiptype: Option<u8>,
    pub dimensions: Dimensions,
    pub epfd: u8,
    pub raim: bool,
    pub dte: bool,
    pub assigned: bool,
}

/// One slot reservation of a data link management message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotReservation {
    pub offset: u16,
    pub number: u8,
    pub timeout: u8,
    pub increment: u16,
}

/// Data link management (type 20): one to four reservations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataLinkManagement {
    pub reservations: Vec<SlotReservation>,
}

/// Aid-to-navigation report (type 21).
#[derive(Debug, Clone, PartialEq)]
pub struct AidToNavigation {
    pub aid_type: u8,
    /// Name with the name extension appended.
    pub name: String,
    pub accuracy: bool,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub dimensions: Dimensions,
    pub epfd: u8,
    pub second: Option<TimeStamp>,
    pub off_position: bool,
    pub regional: u8,
    pub raim: bool,
    pub virtual_aid: bool,
    pub assigned: bool,
}

/// Area of a channel management or group assignment message
/// (corners at 1/10 minute resolution).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Area {
    pub ne_lon: f64,
    pub ne_lat: f64,
    pub sw_lon: f64,
    pub sw_lat: f64,
}

/// Where a channel management message applies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ChannelTarget {
    Area(Area),
    Addressed { dest1: u32, dest2: u32 },
}

/// Channel management (type 22).
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelManagement {
    pub channel_a: u16,
    pub channel_b: u16,
    pub txrx: u8,
    pub power: bool,
    pub target: ChannelTarget,
    pub band_a: bool,
    pub band_b: bool,
    pub zonesize: u8,
}

/// Group assignment command (type 23).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupAssignment {
    pub area: Area,
    pub station_type: u8,
    pub ship_type: u8,
    pub txrx: u8,
    pub interval: u8,
    pub quiet: u8,
}

/// Static data report (type 24), part A or part B. The two parts arrive as
/// separate messages; the picture merges them.
#[derive(Debug, Clone, PartialEq)]
pub enum StaticDataReport {
    /// Part A: the name.
    PartA { shipname: String },
    /// Part B: type, vendor, call sign, dimensions (or mothership).
    PartB(StaticPartB),
}

/// Type 24 part B.
#[derive(Debug, Clone, PartialEq)]
pub struct StaticPartB {
    pub shiptype: Option<u8>,
    /// Vendor id: 3-character manufacturer id (ITU-R M.1371-4+) followed by
    /// what older units used as 4 more characters.
    pub vendorid: String,
    /// Unit model code (M.1371-4+).
    pub model: u8,
    /// Unit serial number (M.1371-4+).
    pub serial: u32,
    pub callsign: String,
    /// Dimensions, or for an auxiliary craft (MMSI 98xxxxxxx) the mother
    /// ship's MMSI.
    pub dimensions: Dimensions,
    pub mothership_mmsi: Option<u32>,
}

/// Single slot (type 25) and multiple slot (type 26) binary messages.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotBinary {
    pub addressed: bool,
    pub structured: bool,
    pub dest_mmsi: Option<u32>,
    pub payload: BinaryData,
    /// Communication state (type 26 only).
    pub radio: Option<u32>,
}

/// Long range AIS broadcast (type 27).
#[derive(Debug, Clone, PartialEq)]
pub struct LongRangeReport {
    pub accuracy: bool,
    pub raim: bool,
    pub status: u8,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// Knots (whole), `None` when 63.
    pub speed: Option<u8>,
    /// Degrees (whole), `None` when 511.
    pub course: Option<u16>,
    /// false = current GNSS position, true = not GNSS position.
    pub gnss: bool,
}

/// Message contents by type.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// Types 1, 2, 3.
    Position(PositionReport),
    /// Types 4 and 11.
    BaseStation(BaseStationReport),
    /// Type 5.
    StaticVoyage(StaticVoyage),
    /// Type 6.
    AddressedBinary(AddressedBinary),
    /// Types 7 and 13.
    Acknowledge(Acknowledge),
    /// Type 8.
    BroadcastBinary(BinaryData),
    /// Type 9.
    SarAircraft(SarAircraftReport),
    /// Type 10: UTC/date inquiry to `dest_mmsi`.
    UtcInquiry { dest_mmsi: u32 },
    /// Type 12.
    AddressedSafety(AddressedSafety),
    /// Type 14.
    SafetyBroadcast { text: String },
    /// Type 15.
    Interrogation(Interrogation),
    /// Type 16.
    AssignmentCommand(AssignmentCommand),
    /// Type 17.
    Dgnss(DgnssBroadcast),
    /// Type 18.
    ClassBPosition(ClassBPosition),
    /// Type 19.
    ClassBExtended(ClassBExtended),
    /// Type 20.
    DataLinkManagement(DataLinkManagement),
    /// Type 21.
    AidToNavigation(AidToNavigation),
    /// Type 22.
    ChannelManagement(ChannelManagement),
    /// Type 23.
    GroupAssignment(GroupAssignment),
    /// Type 24.
    StaticData(StaticDataReport),
    /// Types 25 and 26.
    SlotBinary(SlotBinary),
    /// Type 27.
    LongRange(LongRangeReport),
}

// ---- field helpers: raw value to Option ------------------------------------

/// Longitude in 1/10000 minute (28 bits), `None` for 181° or out of range.
#[inline]
fn lon_28(b: &BitBuf, at: usize) -> Option<f64> {
    let raw = b.i(at, 28);
    (raw.abs() <= 180 * 600_000).then(|| raw as f64 / 600_000.0)
}

/// Latitude in 1/10000 minute (27 bits), `None` for 91° or out of range.
#[inline]
fn lat_27(b: &BitBuf, at: usize) -> Option<f64> {
    let raw = b.i(at, 27);
    (raw.abs() <= 90 * 600_000).then(|| raw as f64 / 600_000.0)
}

/// Longitude in 1/10 minute (18 bits), `None` for 181° or out of range.
#[inline]
fn lon_18(b: &BitBuf, at: usize) -> Option<f64> {
    let raw = b.i(at, 18);
    (raw.abs() <= 180 * 600).then(|| raw as f64 / 600.0)
}

/// Latitude in 1/10 minute (17 bits), `None` for 91° or out of range.
#[inline]
fn lat_17(b: &BitBuf, at: usize) -> Option<f64> {
    let raw = b.i(at, 17);
    (raw.abs() <= 90 * 600).then(|| raw as f64 / 600.0)
}

/// Speed in 1/10 knot (10 bits), `None` for 1023.
#[inline]
fn speed_10(b: &BitBuf, at: usize) -> Option<f64> {
    let raw = b.u(at, 10);
    (raw != 1023).then(|| raw as f64 / 10.0)
}

/// Course in 1/10 degree (12 bits), `None` for 3600 and above.
#[inline]
fn course_12(b: &BitBuf, at: usize) -> Option<f64> {
    let raw = b.u(at, 12);
    (raw < 3600).then(|| raw as f64 / 10.0)
}

/// Heading in degrees (9 bits), `None` for 511 (and invalid 360–510).
#[inline]
fn heading_9(b: &BitBuf, at: usize) -> Option<u16> {
    let raw = b.u(at, 9) as u16;
    (raw < 360).then_some(raw)
}

/// `nchars` characters of 6-bit text ending at the first `@`.
///
/// `@` (value 0) is the padding character of AIS text fields (ITU-R M.1371
/// table 47): whatever follows it in a field is padding or garbage left by
/// the transmitter (`"BUNKEREN@@@@@@@B"`), not text. gpsd and pyais end the
/// text there too.
fn text_until_at(b: &BitBuf, start: usize, nchars: usize) -> String {
    let mut s = b.text(start, nchars);
    if let Some(at) = s.find('@') {
        s.truncate(at);
    }
    s
}

/// A text field: up to the first `@`, trailing spaces removed.
pub(crate) fn text(b: &BitBuf, start: usize, nchars: usize) -> String {
    let mut s = text_until_at(b, start, nchars);
    let trimmed = s.trim_end_matches(' ').len();
    s.truncate(trimmed);
    s
}

#[inline]
fn nonzero_u8(v: u64) -> Option<u8> {
    (v != 0).then_some(v as u8)
}

fn dimensions(b: &BitBuf, at: usize) -> Dimensions {
    Dimensions {
        to_bow: b.u(at, 9) as u16,
        to_stern: b.u(at + 9, 9) as u16,
        to_port: b.u(at + 18, 6) as u8,
        to_starboard: b.u(at + 24, 6) as u8,
    }
}

fn eta(b: &BitBuf, at: usize) -> Eta {
    let month = b.u(at, 4);
    let day = b.u(at + 4, 5);
    let hour = b.u(at + 9, 5);
    let minute = b.u(at + 14, 6);
    Eta {
        month: (1..=12).contains(&month).then_some(month as u8),
        day: (1..=31).contains(&day).then_some(day as u8),
        hour: (hour < 24).then_some(hour as u8),
        minute: (minute < 60).then_some(minute as u8),
    }
}

fn area(b: &BitBuf, at: usize) -> Area {
    Area {
        ne_lon: b.i(at, 18) as f64 / 600.0,
        ne_lat: b.i(at + 18, 17) as f64 / 600.0,
        sw_lon: b.i(at + 35, 18) as f64 / 600.0,
        sw_lat: b.i(at + 53, 17) as f64 / 600.0,
    }
}

/// The payload bits from `start` to the end (`end` bits before the end).
fn binary_data(
    b: &BitBuf,
    start: usize,
    tail: usize,
    dac: Option<u16>,
    fid: Option<u8>,
    msg_type: u8,
) -> BinaryData {
    let nbits = b.len().saturating_sub(start + tail);
    let application = match (dac, fid) {
        (Some(dac), Some(fid)) => application::decode(msg_type, dac, fid, b, start, nbits),
        _ => None,
    };
    BinaryData {
        dac,
        fid,
        bits: nbits,
        data: b.bytes_from(start, nbits),
        application,
    }
}

fn need(b: &BitBuf, msg_type: u8, bits: usize) -> Result<(), MessageError> {
    if b.len() < bits {
        Err(MessageError::TooShort {
            msg_type,
            bits: b.len(),
        })
    } else {
        Ok(())
    }
}

/// Decode one complete, de-armoured message.
pub fn decode_message(b: &BitBuf) -> Result<AisMessage, MessageError> {
    if b.len() < 38 {
        let t = b.u(0, 6) as u8;
        if t == 0 || t > 27 {
            return Err(MessageError::UnknownType(t));
        }
        return Err(MessageError::TooShort {
            msg_type: t,
            bits: b.len(),
        });
    }
    let msg_type = b.u(0, 6) as u8;
    let repeat = b.u(6, 2) as u8;
    let mmsi = b.u(8, 30) as u32;
    let body = match msg_type {
        1..=3 => {
            // 168 bits nominal. 163–167 occur in the wild (a 28-character
            // payload sent with too many fill bits); every navigation field
            // ends at bit 149, so only the radio status is short. Its
            // missing low bits read as zero. Longer messages are accepted.
            need(b, msg_type, 163)?;
            Body::Position(PositionReport {
                status: b.u(38, 4) as u8,
                turn: Turn::from_raw(b.i(42, 8)),
                speed: speed_10(b, 50),
                accuracy: b.flag(60),
                lon: lon_28(b, 61),
                lat: lat_27(b, 89),
                course: course_12(b, 116),
                heading: heading_9(b, 128),
                second: TimeStamp::from_raw(b.u(137, 6)),
                maneuver: b.u(143, 2) as u8,
                raim: b.flag(148),
                radio: b.u(149, 19) as u32,
            })
        }
        4 | 11 => {
            need(b, msg_type, 168)?;
            let (year, month, day) = (b.u(38, 14), b.u(52, 4), b.u(56, 5));
            let (hour, minute, second) = (b.u(61, 5), b.u(66, 6), b.u(72, 6));
            Body::BaseStation(BaseStationReport {
                time: UtcTime {
                    year: (year != 0).then_some(year as u16),
                    month: (1..=12).contains(&month).then_some(month as u8),
                    day: (1..=31).contains(&day).then_some(day as u8),
                    hour: (hour < 24).then_some(hour as u8),
                    minute: (minute < 60).then_some(minute as u8),
                    second: (second < 60).then_some(second as u8),
                },
                accuracy: b.flag(78),
                lon: lon_28(b, 79),
                lat: lat_27(b, 107),
                epfd: b.u(134, 4) as u8,
                raim: b.flag(148),
                radio: b.u(149, 19) as u32,
            })
        }
        5 => {
            // 424 nominal; 420 and 422 are common from real transmitters.
            need(b, msg_type, 420)?;
            let draught = b.u(294, 8);
            let imo = b.u(40, 30) as u32;
            Body::StaticVoyage(StaticVoyage {
                ais_version: b.u(38, 2) as u8,
                imo: (imo != 0).then_some(imo),
                callsign: text(b, 70, 7),
                shipname: text(b, 112, 20),
                shiptype: nonzero_u8(b.u(232, 8)),
                dimensions: dimensions(b, 240),
                epfd: b.u(270, 4) as u8,
                eta: eta(b, 274),
                draught: (draught != 0).then(|| draught as f64 / 10.0),
                destination: text(b, 302, 20),
                dte: b.flag(422),
            })
        }
        6 => {
            need(b, msg_type, 88)?;
            let dac = b.u(72, 10) as u16;
            let fid = b.u(82, 6) as u8;
            Body::AddressedBinary(AddressedBinary {
                seqno: b.u(38, 2) as u8,
                dest_mmsi: b.u(40, 30) as u32,
                retransmit: b.flag(70),
                payload: binary_data(b, 88, 0, Some(dac), Some(fid), 6),
            })
        }
        7 | 13 => {
            need(b, msg_type, 72)?;
            let n = ((b.len() - 40) / 32).min(4);
            let acks = (0..n)
                .map(|k| {
                    let at = 40 + 32 * k;
                    (b.u(at, 30) as u32, b.u(at + 30, 2) as u8)
                })
                .collect();
            Body::Acknowledge(Acknowledge { acks })
        }
        8 => {
            need(b, msg_type, 56)?;
            let dac = b.u(40, 10) as u16;
            let fid = b.u(50, 6) as u8;
            Body::BroadcastBinary(binary_data(b, 56, 0, Some(dac), Some(fid), 8))
        }
        9 => {
            need(b, msg_type, 168)?;
            let alt = b.u(38, 12) as u16;
            let speed = b.u(50, 10) as u16;
            Body::SarAircraft(SarAircraftReport {
                alt: (alt != 4095).then_some(alt),
                speed: (speed != 1023).then_some(speed),
                accuracy: b.flag(60),
                lon: lon_28(b, 61),
                lat: lat_27(b, 89),
                course: course_12(b, 116),
                second: TimeStamp::from_raw(b.u(128, 6)),
                regional: b.u(134, 8) as u8,
                dte: b.flag(142),
                assigned: b.flag(146),
                raim: b.flag(147),
                radio: b.u(148, 20) as u32,
            })
        }
        10 => {
            need(b, msg_type, 70)?;
            Body::UtcInquiry {
                dest_mmsi: b.u(40, 30) as u32,
            }
        }
        12 => {
            need(b, msg_type, 72)?;
            Body::AddressedSafety(AddressedSafety {
                seqno: b.u(38, 2) as u8,
                dest_mmsi: b.u(40, 30) as u32,
                retransmit: b.flag(70),
                text: text(b, 72, (b.len() - 72) / 6),
            })
        }
        14 => {
            need(b, msg_type, 40)?;
            Body::SafetyBroadcast {
                text: text(b, 40, (b.len() - 40) / 6),
            }
        }
        15 => {
            need(b, msg_type, 88)?;
            let type1_2 = (b.len() >= 110).then(|| (b.u(90, 6) as u8, b.u(96, 12) as u16));
            let mmsi2 = (b.len() >= 158)
                .then(|| (b.u(110, 30) as u32, b.u(140, 6) as u8, b.u(146, 12) as u16));
            Body::Interrogation(Interrogation {
                mmsi1: b.u(40, 30) as u32,
                type1_1: b.u(70, 6) as u8,
                offset1_1: b.u(76, 12) as u16,
                type1_2,
                mmsi2,
            })
        }
        16 => {
            need(b, msg_type, 92)?;
            let mut assignments =
                vec![(b.u(40, 30) as u32, b.u(70, 12) as u16, b.u(82, 10) as u16)];
            if b.len() >= 144 {
                assignments.push((b.u(92, 30) as u32, b.u(122, 12) as u16, b.u(134, 10) as u16));
            }
            Body::AssignmentCommand(AssignmentCommand { assignments })
        }
        17 => {
            need(b, msg_type, 80)?;
            let nbits = b.len() - 80;
            Body::Dgnss(DgnssBroadcast {
                lon: lon_18(b, 40),
                lat: lat_17(b, 58),
                bits: nbits,
                data: b.bytes_from(80, nbits),
            })
        }
        18 => {
            need(b, msg_type, 168)?;
            Body::ClassBPosition(ClassBPosition {
                reserved: b.u(38, 8) as u8,
                speed: speed_10(b, 46),
                accuracy: b.flag(56),
                lon: lon_28(b, 57),
                lat: lat_27(b, 85),
                course: course_12(b, 112),
                heading: heading_9(b, 124),
                second: TimeStamp::from_raw(b.u(133, 6)),
                regional: b.u(139, 2) as u8,
                cs: b.flag(141),
                display: b.flag(142),
                dsc: b.flag(143),
                band: b.flag(144),
                msg22: b.flag(145),
                assigned: b.flag(146),
                raim: b.flag(147),
                radio: b.u(148, 20) as u32,
            })
        }
        19 => {
            need(b, msg_type, 312)?;
            Body::ClassBExtended(ClassBExtended {
                reserved: b.u(38, 8) as u8,
                speed: speed_10(b, 46),
                accuracy: b.flag(56),
                lon: lon_28(b, 57),
                lat: lat_27(b, 85),
                course: course_12(b, 112),
                heading: heading_9(b, 124),
                second: TimeStamp::from_raw(b.u(133, 6)),
                regional: b.u(139, 4) as u8,
                shipname: text(b, 143, 20),
                shiptype: nonzero_u8(b.u(263, 8)),
                dimensions: dimensions(b, 271),
                epfd: b.u(301, 4) as u8,
                raim: b.flag(305),
                dte: b.flag(306),
                assigned: b.flag(307),
            })
        }
        20 => {
            need(b, msg_type, 70)?;
            let reservations = (0..4)
                .map(|k| 40 + 30 * k)
                .filter(|&at| at + 30 <= b.len())
                .map(|at| SlotReservation {
                    offset: b.u(at, 12) as u16,
                    number: b.u(at + 12, 4) as u8,
                    timeout: b.u(at + 16, 3) as u8,
                    increment: b.u(at + 19, 11) as u16,
                })
                .collect();
            Body::DataLinkManagement(DataLinkManagement { reservations })
        }
        21 => {
            need(b, msg_type, 272)?;
            // The name extension (up to 14 more characters) continues the
            // name field only when that is full (ITU-R M.1371-5 table 74:
            // "may be combined with the parameter Name at the end of that
            // parameter, when more than 20 characters are needed"). Bits
            // after a shorter name are spare or padding, not text.
            let full = (0..20).all(|k| b.u(43 + 6 * k, 6) != 0);
            let mut name = text_until_at(b, 43, 20);
            if full && b.len() > 272 {
                // A full name has no `@`, so only spaces were trimmed from
                // its end: put them back before appending.
                while name.len() < 20 {
                    name.push(' ');
                }
                name.push_str(&text_until_at(b, 272, (b.len() - 272) / 6));
            }
            let trimmed = name.trim_end_matches(' ').len();
            name.truncate(trimmed);
            Body::AidToNavigation(AidToNavigation {
                aid_type: b.u(38, 5) as u8,
                name,
                accuracy: b.flag(163),
                lon: lon_28(b, 164),
                lat: lat_27(b, 192),
                dimensions: dimensions(b, 219),
                epfd: b.u(249, 4) as u8,
                second: TimeStamp::from_raw(b.u(253, 6)),
                off_position: b.flag(259),
                regional: b.u(260, 8) as u8,
                raim: b.flag(268),
                virtual_aid: b.flag(269),
                assigned: b.flag(270),
            })
        }
        22 => {
            need(b, msg_type, 168)?;
            let addressed = b.flag(139);
            let target = if addressed {
                ChannelTarget::Addressed {
                    dest1: b.u(69, 30) as u32,
                    dest2: b.u(104, 30) as u32,
                }
            } else {
                ChannelTarget::Area(area(b, 69))
            };
            Body::ChannelManagement(ChannelManagement {
                channel_a: b.u(40, 12) as u16,
                channel_b: b.u(52, 12) as u16,
                txrx: b.u(64, 4) as u8,
                power: b.flag(68),
                target,
                band_a: b.flag(140),
                band_b: b.flag(141),
                zonesize: b.u(142, 3) as u8,
            })
        }
        23 => {
            need(b, msg_type, 160)?;
            Body::GroupAssignment(GroupAssignment {
                area: area(b, 40),
                station_type: b.u(110, 4) as u8,
                ship_type: b.u(114, 8) as u8,
                txrx: b.u(144, 2) as u8,
                interval: b.u(146, 4) as u8,
                quiet: b.u(150, 4) as u8,
            })
        }
        24 => {
            need(b, msg_type, 40)?;
            match b.u(38, 2) {
                0 => {
                    need(b, msg_type, 160)?;
                    Body::StaticData(StaticDataReport::PartA {
                        shipname: text(b, 40, 20),
                    })
                }
                1 => {
                    need(b, msg_type, 162)?;
                    let auxiliary = mmsi / 10_000_000 == 98;
                    let (dimensions, mothership_mmsi) = if auxiliary {
                        (Dimensions::default(), Some(b.u(132, 30) as u32))
                    } else {
                        (self::dimensions(b, 132), None)
                    };
                    Body::StaticData(StaticDataReport::PartB(StaticPartB {
                        shiptype: nonzero_u8(b.u(40, 8)),
                        vendorid: text(b, 48, 7),
                        model: b.u(66, 4) as u8,
                        serial: b.u(70, 20) as u32,
                        callsign: text(b, 90, 7),
                        dimensions,
                        mothership_mmsi,
                    }))
                }
                p => return Err(MessageError::BadPartNumber(p as u8)),
            }
        }
        25 | 26 => {
            let tail = if msg_type == 26 { 20 } else { 0 };
            need(b, msg_type, 40 + tail)?;
            let addressed = b.flag(38);
            let structured = b.flag(39);
            let mut at = 40;
            let dest_mmsi = if addressed {
                need(b, msg_type, 72 + tail)?;
                at += 32;
                Some(b.u(40, 30) as u32)
            } else {
                None
            };
            let (dac, fid) = if structured {
                need(b, msg_type, at + 16 + tail)?;
                let ids = (Some(b.u(at, 10) as u16), Some(b.u(at + 10, 6) as u8));
                at += 16;
                ids
            } else {
                (None, None)
            };
            let radio = (msg_type == 26).then(|| b.u(b.len() - 20, 20) as u32);
            Body::SlotBinary(SlotBinary {
                addressed,
                structured,
                dest_mmsi,
                payload: binary_data(b, at, tail, dac, fid, msg_type),
                radio,
            })
        }
        27 => {
            need(b, msg_type, 96)?;
            let speed = b.u(79, 6) as u8;
            let course = b.u(85, 9) as u16;
            Body::LongRange(LongRangeReport {
                accuracy: b.flag(38),
                raim: b.flag(39),
                status: b.u(40, 4) as u8,
                lon: lon_18(b, 44),
                lat: lat_17(b, 62),
                speed: (speed != 63).then_some(speed),
                course: (course < 360).then_some(course),
                gnss: b.flag(94),
            })
        }
        t => return Err(MessageError::UnknownType(t)),
    };
    Ok(AisMessage {
        msg_type,
        repeat,
        mmsi,
        body,
    })
}

impl AisMessage {
    /// Position of the sender, when the message carries one that is
    /// available: `(lat, lon)` in degrees.
    pub fn position(&self) -> Option<(f64, f64)> {
        let (lat, lon) = match &self.body {
            Body::Position(p) => (p.lat, p.lon),
            Body::BaseStation(p) => (p.lat, p.lon),
            Body::SarAircraft(p) => (p.lat, p.lon),
            Body::ClassBPosition(p) => (p.lat, p.lon),
            Body::ClassBExtended(p) => (p.lat, p.lon),
            Body::AidToNavigation(p) => (p.lat, p.lon),
            Body::LongRange(p) => (p.lat, p.lon),
            _ => return None,
        };
        Some((lat?, lon?))
    }
}
