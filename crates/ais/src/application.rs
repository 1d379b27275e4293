//! Decoders for application-specific payloads of binary messages, selected
//! by designated area code (DAC) and function identifier (FI).
//!
//! Lookout decodes the payloads that matter to a search-and-rescue picture
//! and that are actually on the air:
//!
//! - **DAC 1 FI 31**, meteorological and hydrographic data (IMO
//!   SN.1/Circ.289), and its predecessor **DAC 1 FI 11** (IMO SN/Circ.236):
//!   wind, sea state, visibility, currents from weather stations and buoys.
//!   Both become one [`MetHydro`] (with its [`MetHydroFormat`]).
//! - **DAC 200 FI 10**, inland ship static and voyage related data (the
//!   European Inland AIS standard, IALA ASM registry): ENI number,
//!   dimensions, ERI ship type, hazardous cargo, load state
//!   ([`InlandStaticVoyage`]).
//!
//! All three are broadcast in message 8. Every other DAC/FI — and a known
//! DAC/FI that is too short or malformed — stays raw bits in
//! [`crate::messages::BinaryData::data`].
//!
//! As in [`crate::messages`], every value the specification reserves for
//! "not available" (and every reserved, out-of-range value) is `None`; scaled
//! quantities are `f64` in the unit the standard uses (knots, °C, hPa, NM,
//! metres). [`write_json`] renders them with gpsd's field names, units and
//! text fields (`gpsdecode`'s scaled output) with `null` for "not
//! available". Where gpsd's text tables contradict the specification
//! (trend codes 1/2, load state 1/2 are swapped in gpsd 3.22) Lookout
//! follows the specification; `tests/differential_gpsd.rs` records those.
//!
//! ```
//! use lookout_ais::{Decoder, DecoderOptions, Body};
//! use lookout_ais::application::Application;
//! let mut decoder = Decoder::new(DecoderOptions::default());
//! decoder
//!     .decode_line(b"!AIVDM,1,1,,B,83aDChPj2d<dL<uM=hhhI?a@6HP0,0*40", |d| {
//!         let Body::BroadcastBinary(p) = &d.message.body else { panic!() };
//!         let Some(Application::InlandStaticVoyage(s)) = &p.application else { panic!() };
//!         assert_eq!(s.vin, "02103547");
//!         assert_eq!(s.ship_type, 8010);
//!     })
//!     .unwrap();
//! ```

use crate::bits::BitBuf;
use crate::json::ObjectWriter;
use crate::messages::text;

/// A decoded application payload.
#[derive(Debug, Clone, PartialEq)]
pub enum Application {
    /// DAC 1 FI 31 or FI 11: meteorological and hydrographic data.
    MetHydro(MetHydro),
    /// DAC 200 FI 10: inland ship static and voyage related data.
    InlandStaticVoyage(InlandStaticVoyage),
}

/// Which specification a [`MetHydro`] came in. Field widths, offsets and
/// ranges differ between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetHydroFormat {
    /// DAC 1 FI 11, IMO SN/Circ.236 (2004). 352 bits.
    Imo236,
    /// DAC 1 FI 31, IMO SN.1/Circ.289 (2010). 360 bits.
    Imo289,
}

/// Air pressure or water level tendency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tendency {
    /// Code 0.
    Steady,
    /// Code 1.
    Decreasing,
    /// Code 2.
    Increasing,
}

impl Tendency {
    fn from_raw(v: u64) -> Option<Tendency> {
        match v {
            0 => Some(Tendency::Steady),
            1 => Some(Tendency::Decreasing),
            2 => Some(Tendency::Increasing),
            _ => None,
        }
    }

    /// `"steady"`, `"decreasing"` or `"increasing"` (gpsd's words).
    pub fn as_str(self) -> &'static str {
        match self {
            Tendency::Steady => "steady",
            Tendency::Decreasing => "decreasing",
            Tendency::Increasing => "increasing",
        }
    }
}

/// One current measurement: the surface current, or one at a depth.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Current {
    /// Knots. IMO289: 25.1 means 25.1 kn or more.
    pub speed: Option<f64>,
    /// Degrees true, the direction the current flows to.
    pub direction: Option<u16>,
    /// Measuring level below the surface, metres (`None` for the surface
    /// current, which has no depth field).
    pub depth: Option<u8>,
}

/// Meteorological and hydrographic report (DAC 1 FI 31 or FI 11).
#[derive(Debug, Clone, PartialEq)]
pub struct MetHydro {
    pub format: MetHydroFormat,
    /// Position of the measurement, degrees.
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// Position accuracy flag (IMO289 only; `None` for IMO236).
    pub accuracy: Option<bool>,
    /// UTC day of month, hour and minute of the observation.
    pub day: Option<u8>,
    pub hour: Option<u8>,
    pub minute: Option<u8>,
    /// Ten-minute average wind speed, knots (IMO289: 126 = 126 or more).
    pub wind_speed: Option<u8>,
    /// Ten-minute maximum gust, knots.
    pub wind_gust: Option<u8>,
    /// Degrees true.
    pub wind_direction: Option<u16>,
    pub wind_gust_direction: Option<u16>,
    /// Dry-bulb air temperature, °C.
    pub air_temperature: Option<f64>,
    /// Relative humidity, %.
    pub humidity: Option<u8>,
    /// Dew point, °C.
    pub dew_point: Option<f64>,
    /// Air pressure, hPa (IMO289: 799 = 799 or less, 1201 = 1201 or more).
    pub air_pressure: Option<u16>,
    pub pressure_tendency: Option<Tendency>,
    /// Visibility is greater than the value given (IMO289 only).
    pub visibility_greater: bool,
    /// Horizontal visibility, nautical miles.
    pub visibility: Option<f64>,
    /// Water level (including tide) relative to chart datum, metres.
    pub water_level: Option<f64>,
    pub water_level_trend: Option<Tendency>,
    /// Surface current (index 0) and the currents at two depths.
    pub currents: [Current; 3],
    /// Significant wave height, metres.
    pub wave_height: Option<f64>,
    /// Seconds.
    pub wave_period: Option<u8>,
    /// Degrees true.
    pub wave_direction: Option<u16>,
    pub swell_height: Option<f64>,
    pub swell_period: Option<u8>,
    pub swell_direction: Option<u16>,
    /// Beaufort 0–12.
    pub sea_state: Option<u8>,
    /// Water temperature, °C.
    pub water_temperature: Option<f64>,
    /// Precipitation type (WMO code: 1 rain, 2 thunderstorm, 3 freezing
    /// rain, 4 mixed/ice, 5 snow; 0 and 6 reserved).
    pub precipitation: Option<u8>,
    /// Salinity, ‰ (IMO289: 50.1 = 50.1 or more).
    pub salinity: Option<f64>,
    /// Ice: 0 no, 1 yes, 2 reserved.
    pub ice: Option<u8>,
}

/// Inland ship static and voyage related data (DAC 200 FI 10).
#[derive(Debug, Clone, PartialEq)]
pub struct InlandStaticVoyage {
    /// Unique European Vessel Identification Number (ENI), 8 characters.
    pub vin: String,
    /// Length of ship, metres (0.1 m resolution).
    pub length: Option<f64>,
    /// Beam of ship, metres (0.1 m resolution).
    pub beam: Option<f64>,
    /// ERI ship or combination type code (e.g. 8010 motor freighter).
    pub ship_type: u16,
    /// Blue cones/lights 0–3, or 4 for the B flag. `None`: unknown.
    pub hazard: Option<u8>,
    /// Draught, metres (0.01 m resolution).
    pub draught: Option<f64>,
    /// `Some(true)` loaded, `Some(false)` unloaded.
    pub loaded: Option<bool>,
    /// High-quality (not GNSS) speed, course and heading information.
    pub speed_quality: bool,
    pub course_quality: bool,
    pub heading_quality: bool,
}

/// Decode the payload at bit `start` (length `nbits`) of a message of type
/// `msg_type` if its DAC/FI is one Lookout knows and it is well formed.
pub fn decode(
    msg_type: u8,
    dac: u16,
    fid: u8,
    b: &BitBuf,
    start: usize,
    nbits: usize,
) -> Option<Application> {
    if msg_type != 8 {
        return None;
    }
    match (dac, fid) {
        // Fields end 294 bits into the payload; 304 with the spare bits.
        (1, 31) if nbits >= 294 => Some(Application::MetHydro(met_hydro_289(b, start))),
        // Fields end 290 bits into the payload; 296 with the spare bits.
        (1, 11) if nbits >= 290 => Some(Application::MetHydro(met_hydro_236(b, start))),
        // Exactly one slot (168 bits). Longer type 8s with this DAC/FI
        // exist and are not this layout (gpsd's sample has a 368-bit one
        // with garbage in every field), nor is a hazard code above 5.
        (200, 10) if nbits == 112 && b.u(start + 85, 3) <= 5 => {
            Some(Application::InlandStaticVoyage(inland_static(b, start)))
        }
        _ => None,
    }
}

/// `raw` if it is in `range`.
#[inline]
fn within<T: TryFrom<u64>>(raw: u64, range: std::ops::RangeInclusive<u64>) -> Option<T> {
    if range.contains(&raw) {
        T::try_from(raw).ok()
    } else {
        None
    }
}

/// `raw / div - offset` if `raw` is in `range`.
#[inline]
fn scaled(raw: u64, range: std::ops::RangeInclusive<u64>, div: f64, offset: f64) -> Option<f64> {
    range.contains(&raw).then(|| raw as f64 / div - offset)
}

/// Signed `raw / div` if `raw` is in `range`.
#[inline]
fn scaled_signed(raw: i64, range: std::ops::RangeInclusive<i64>, div: f64) -> Option<f64> {
    range.contains(&raw).then(|| raw as f64 / div)
}

/// Position in 1/1000 minute: `None` when out of range (91°/181° and the
/// all-ones some IMO236 stations send).
#[inline]
fn degrees(raw: i64, limit: i64) -> Option<f64> {
    (raw.abs() <= limit * 60_000).then(|| raw as f64 / 60_000.0)
}

/// IMO SN.1/Circ.289 layout (offsets relative to the payload start, which is
/// bit 56 of the message).
fn met_hydro_289(b: &BitBuf, s: usize) -> MetHydro {
    let current = |at: usize, depth: bool| Current {
        speed: scaled(b.u(s + at, 8), 0..=251, 10.0, 0.0),
        direction: within(b.u(s + at + 8, 9), 0..=359),
        depth: if depth {
            within(b.u(s + at + 17, 5), 0..=30)
        } else {
            None
        },
    };
    MetHydro {
        format: MetHydroFormat::Imo289,
        lon: degrees(b.i(s, 25), 180),
        lat: degrees(b.i(s + 25, 24), 90),
        accuracy: Some(b.flag(s + 49)),
        day: within(b.u(s + 50, 5), 1..=31),
        hour: within(b.u(s + 55, 5), 0..=23),
        minute: within(b.u(s + 60, 6), 0..=59),
        wind_speed: within(b.u(s + 66, 7), 0..=126),
        wind_gust: within(b.u(s + 73, 7), 0..=126),
        wind_direction: within(b.u(s + 80, 9), 0..=359),
        wind_gust_direction: within(b.u(s + 89, 9), 0..=359),
        air_temperature: scaled_signed(b.i(s + 98, 11), -600..=600, 10.0),
        humidity: within(b.u(s + 109, 7), 0..=100),
        dew_point: scaled_signed(b.i(s + 116, 10), -200..=500, 10.0),
        // 0 = 799 hPa or less, 1–401 = 800–1200, 402 = 1201 or more.
        air_pressure: within::<u16>(b.u(s + 126, 9), 0..=402).map(|p| p + 799),
        pressure_tendency: Tendency::from_raw(b.u(s + 135, 2)),
        visibility_greater: b.flag(s + 137),
        visibility: scaled(b.u(s + 138, 7), 0..=126, 10.0, 0.0),
        // Centimetres with a +10 m offset: -10.00 … +30.00 m.
        water_level: scaled(b.u(s + 145, 12), 0..=4000, 100.0, 10.0),
        water_level_trend: Tendency::from_raw(b.u(s + 157, 2)),
        currents: [current(159, false), current(176, true), current(198, true)],
        wave_height: scaled(b.u(s + 220, 8), 0..=251, 10.0, 0.0),
        wave_period: within(b.u(s + 228, 6), 0..=60),
        wave_direction: within(b.u(s + 234, 9), 0..=359),
        swell_height: scaled(b.u(s + 243, 8), 0..=251, 10.0, 0.0),
        swell_period: within(b.u(s + 251, 6), 0..=60),
        swell_direction: within(b.u(s + 257, 9), 0..=359),
        sea_state: within(b.u(s + 266, 4), 0..=12),
        water_temperature: scaled_signed(b.i(s + 270, 10), -100..=500, 10.0),
        precipitation: within(b.u(s + 280, 3), 0..=6),
        // 501 = 50.1 ‰ or more; 510 not available, 511 no sensor.
        salinity: scaled(b.u(s + 283, 9), 0..=501, 10.0, 0.0),
        ice: within(b.u(s + 292, 2), 0..=2),
    }
}

/// IMO SN/Circ.236 layout (offsets relative to the payload start). Latitude
/// comes before longitude here, and values are unsigned with offsets;
/// "not available" is all ones.
fn met_hydro_236(b: &BitBuf, s: usize) -> MetHydro {
    let current = |at: usize, depth: bool| Current {
        speed: scaled(b.u(s + at, 8), 0..=250, 10.0, 0.0),
        direction: within(b.u(s + at + 8, 9), 0..=359),
        depth: if depth {
            within(b.u(s + at + 17, 5), 0..=30)
        } else {
            None
        },
    };
    MetHydro {
        format: MetHydroFormat::Imo236,
        lat: degrees(b.i(s, 24), 90),
        lon: degrees(b.i(s + 24, 25), 180),
        accuracy: None,
        day: within(b.u(s + 49, 5), 1..=31),
        hour: within(b.u(s + 54, 5), 0..=23),
        minute: within(b.u(s + 59, 6), 0..=59),
        wind_speed: within(b.u(s + 65, 7), 0..=126),
        wind_gust: within(b.u(s + 72, 7), 0..=126),
        wind_direction: within(b.u(s + 79, 9), 0..=359),
        wind_gust_direction: within(b.u(s + 88, 9), 0..=359),
        air_temperature: scaled(b.u(s + 97, 11), 0..=1200, 10.0, 60.0),
        humidity: within(b.u(s + 108, 7), 0..=100),
        dew_point: scaled(b.u(s + 115, 10), 0..=700, 10.0, 20.0),
        air_pressure: within::<u16>(b.u(s + 125, 9), 0..=400).map(|p| p + 800),
        pressure_tendency: Tendency::from_raw(b.u(s + 134, 2)),
        visibility_greater: false,
        visibility: scaled(b.u(s + 136, 8), 0..=250, 10.0, 0.0),
        water_level: scaled(b.u(s + 144, 9), 0..=400, 10.0, 10.0),
        water_level_trend: Tendency::from_raw(b.u(s + 153, 2)),
        currents: [current(155, false), current(172, true), current(194, true)],
        wave_height: scaled(b.u(s + 216, 8), 0..=250, 10.0, 0.0),
        wave_period: within(b.u(s + 224, 6), 0..=60),
        wave_direction: within(b.u(s + 230, 9), 0..=359),
        swell_height: scaled(b.u(s + 239, 8), 0..=250, 10.0, 0.0),
        swell_period: within(b.u(s + 247, 6), 0..=60),
        swell_direction: within(b.u(s + 253, 9), 0..=359),
        sea_state: within(b.u(s + 262, 4), 0..=12),
        water_temperature: scaled(b.u(s + 266, 10), 0..=600, 10.0, 10.0),
        precipitation: within(b.u(s + 276, 3), 0..=6),
        salinity: scaled(b.u(s + 279, 9), 0..=500, 10.0, 0.0),
        ice: within(b.u(s + 288, 2), 0..=2),
    }
}

/// DAC 200 FI 10 layout (offsets relative to the payload start).
fn inland_static(b: &BitBuf, s: usize) -> InlandStaticVoyage {
    InlandStaticVoyage {
        vin: text(b, s, 8),
        length: scaled(b.u(s + 48, 13), 1..=8000, 10.0, 0.0),
        beam: scaled(b.u(s + 61, 10), 1..=1000, 10.0, 0.0),
        ship_type: b.u(s + 71, 14) as u16,
        // 5 = unknown (default); decode() rejects 6 and 7.
        hazard: within(b.u(s + 85, 3), 0..=4),
        draught: scaled(b.u(s + 88, 11), 1..=2000, 100.0, 0.0),
        // IALA ASM registry: 1 = loaded, 2 = unloaded, 0 = not available,
        // 3 should not be used.
        loaded: match b.u(s + 99, 2) {
            1 => Some(true),
            2 => Some(false),
            _ => None,
        },
        speed_quality: b.flag(s + 101),
        course_quality: b.flag(s + 102),
        heading_quality: b.flag(s + 103),
    }
}

/// Precipitation type texts (gpsd's words).
pub fn precipitation_text(v: Option<u8>) -> &'static str {
    match v {
        Some(1) => "rain",
        Some(2) => "thunderstorm",
        Some(3) => "freezing rain",
        Some(4) => "mixed/ice",
        Some(5) => "snow",
        Some(_) => "reserved",
        None => "N/A",
    }
}

/// Ice texts (gpsd's words).
pub fn ice_text(v: Option<u8>) -> &'static str {
    match v {
        Some(0) => "no",
        Some(1) => "yes",
        Some(_) => "reserved",
        None => "N/A",
    }
}

/// Hazardous cargo texts for DAC 200 FI 10 (gpsd's words).
pub fn hazard_text(v: Option<u8>) -> &'static str {
    match v {
        Some(0) => "0 blue cones/lights",
        Some(1) => "1 blue cone/light",
        Some(2) => "2 blue cones/lights",
        Some(3) => "3 blue cones/lights",
        Some(4) => "4 B-Flag",
        _ => "Unknown",
    }
}

/// Load state texts for DAC 200 FI 10 (gpsd's words, the specification's
/// meaning).
pub fn loaded_text(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "Loaded",
        Some(false) => "Unloaded",
        None => "N/A (default)",
    }
}

/// ERI ship and convoy types (UN/ECE, as listed by gpsd).
const ERI_SHIP_TYPES: [(u16, &str); 42] = [
    (8000, "Vessel, type unknown"),
    (8010, "Motor freighter"),
    (8020, "Motor tanker"),
    (8021, "Motor tanker, liquid cargo, type N"),
    (8022, "Motor tanker, liquid cargo, type C"),
    (8023, "Motor tanker, dry cargo as if liquid (e.g. cement)"),
    (8030, "Container vessel"),
    (8040, "Gas tanker"),
    (8050, "Motor freighter, tug"),
    (8060, "Motor tanker, tug"),
    (8070, "Motor freighter with one or more ships alongside"),
    (8080, "Motor freighter with tanker"),
    (8090, "Motor freighter pushing one or more freighters"),
    (8100, "Motor freighter pushing at least one tank-ship"),
    (8110, "Tug, freighter"),
    (8120, "Tug, tanker"),
    (8130, "Tug freighter, coupled"),
    (8140, "Tug, freighter/tanker, coupled"),
    (8150, "Freightbarge"),
    (8160, "Tankbarge"),
    (8161, "Tankbarge, liquid cargo, type N"),
    (8162, "Tankbarge, liquid cargo, type C"),
    (8163, "Tankbarge, dry cargo as if liquid (e.g. cement)"),
    (8170, "Freightbarge with containers"),
    (8180, "Tankbarge, gas"),
    (8210, "Pushtow, one cargo barge"),
    (8220, "Pushtow, two cargo barges"),
    (8230, "Pushtow, three cargo barges"),
    (8240, "Pushtow, four cargo barges"),
    (8250, "Pushtow, five cargo barges"),
    (8260, "Pushtow, six cargo barges"),
    (8270, "Pushtow, seven cargo barges"),
    (8280, "Pushtow, eigth cargo barges"),
    (8290, "Pushtow, nine or more barges"),
    (8310, "Pushtow, one tank/gas barge"),
    (8320, "Pushtow, two barges at least one tanker or gas barge"),
    (
        8330,
        "Pushtow, three barges at least one tanker or gas barge",
    ),
    (
        8340,
        "Pushtow, four barges at least one tanker or gas barge",
    ),
    (
        8350,
        "Pushtow, five barges at least one tanker or gas barge",
    ),
    (8360, "Pushtow, six barges at least one tanker or gas barge"),
    (
        8370,
        "Pushtow, seven barges at least one tanker or gas barg",
    ),
    (0, "Illegal ship type value."),
];

/// Text of an ERI ship/convoy type code (gpsd's words).
pub fn eri_ship_type_text(code: u16) -> &'static str {
    ERI_SHIP_TYPES
        .iter()
        .find(|(c, _)| *c == code && code != 0)
        .map_or("Illegal ship type value.", |(_, t)| t)
}

/// `DDTHH:MMZ`, or `None` if any part is not available.
fn day_time(m: &MetHydro) -> Option<String> {
    Some(format!("{:02}T{:02}:{:02}Z", m.day?, m.hour?, m.minute?))
}

fn opt_u(w: &mut ObjectWriter<'_>, k: &str, v: Option<impl Into<u64>>) {
    w.opt_uint(k, v.map(Into::into));
}

fn opt_str(w: &mut ObjectWriter<'_>, k: &str, v: Option<&str>) {
    match v {
        Some(s) => w.string(k, s),
        None => w.null(k),
    }
}

/// Write the decoded application fields into a gpsd-style JSON object
/// (after `dac` and `fid`), in gpsd's order and units.
pub fn write_json(w: &mut ObjectWriter<'_>, app: &Application) {
    match app {
        Application::MetHydro(m) => write_met_hydro(w, m),
        Application::InlandStaticVoyage(s) => {
            w.string("vin", &s.vin);
            // gpsd prints the raw decimetres / centimetres.
            opt_u(w, "length", s.length.map(|v| (v * 10.0).round() as u64));
            opt_u(w, "beam", s.beam.map(|v| (v * 10.0).round() as u64));
            w.uint("shiptype", s.ship_type as u64);
            w.string("shiptype_text", eri_ship_type_text(s.ship_type));
            opt_u(w, "hazard", s.hazard);
            w.string("hazard_text", hazard_text(s.hazard));
            opt_u(w, "draught", s.draught.map(|v| (v * 100.0).round() as u64));
            opt_u(w, "loaded", s.loaded.map(|l| if l { 1u8 } else { 2 }));
            w.string("loaded_text", loaded_text(s.loaded));
            w.boolean("speed_q", s.speed_quality);
            w.boolean("course_q", s.course_quality);
            w.boolean("heading_q", s.heading_quality);
        }
    }
}

fn write_met_hydro(w: &mut ObjectWriter<'_>, m: &MetHydro) {
    let imo289 = m.format == MetHydroFormat::Imo289;
    w.opt_fixed("lat", m.lat, 6);
    w.opt_fixed("lon", m.lon, 6);
    if let Some(a) = m.accuracy {
        w.boolean("accuracy", a);
    }
    opt_str(w, "timestamp", day_time(m).as_deref());
    opt_u(w, "wspeed", m.wind_speed);
    opt_u(w, "wgust", m.wind_gust);
    opt_u(w, "wdir", m.wind_direction);
    opt_u(w, "wgustdir", m.wind_gust_direction);
    opt_u(w, "humidity", m.humidity);
    w.opt_fixed("airtemp", m.air_temperature, 1);
    w.opt_fixed("dewpoint", m.dew_point, 1);
    opt_u(w, "pressure", m.air_pressure);
    opt_str(w, "pressuretend", m.pressure_tendency.map(Tendency::as_str));
    if imo289 {
        w.boolean("visgreater", m.visibility_greater);
    }
    w.opt_fixed("visibility", m.visibility, 1);
    // IMO289 water level has centimetre resolution.
    w.opt_fixed("waterlevel", m.water_level, if imo289 { 2 } else { 1 });
    opt_str(w, "leveltrend", m.water_level_trend.map(Tendency::as_str));
    const NAMES: [(&str, &str, &str); 3] = [
        ("cspeed", "cdir", ""),
        ("cspeed2", "cdir2", "cdepth2"),
        ("cspeed3", "cdir3", "cdepth3"),
    ];
    for (c, (speed, dir, depth)) in m.currents.iter().zip(NAMES) {
        w.opt_fixed(speed, c.speed, 1);
        opt_u(w, dir, c.direction);
        if !depth.is_empty() {
            opt_u(w, depth, c.depth);
        }
    }
    w.opt_fixed("waveheight", m.wave_height, 1);
    opt_u(w, "waveperiod", m.wave_period);
    opt_u(w, "wavedir", m.wave_direction);
    w.opt_fixed("swellheight", m.swell_height, 1);
    opt_u(w, "swellperiod", m.swell_period);
    opt_u(w, "swelldir", m.swell_direction);
    opt_u(w, "seastate", m.sea_state);
    w.opt_fixed("watertemp", m.water_temperature, 1);
    // gpsd prints IMO289 codes as their text, IMO236 codes as number + text.
    if imo289 {
        opt_str(
            w,
            "preciptype",
            m.precipitation.map(|p| precipitation_text(Some(p))),
        );
    } else {
        opt_u(w, "preciptype", m.precipitation);
        w.string("preciptype_text", precipitation_text(m.precipitation));
    }
    w.opt_fixed("salinity", m.salinity, 1);
    if imo289 {
        opt_str(w, "ice", m.ice.map(|i| ice_text(Some(i))));
    } else {
        opt_u(w, "ice", m.ice);
        w.string("ice_text", ice_text(m.ice));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::Body;
    use crate::{Decoder, DecoderOptions};

    /// Decode `lines` (one message) and return its application payload.
    fn app(lines: &[&str]) -> Option<Application> {
        let mut d = Decoder::new(DecoderOptions::default());
        let mut out = None;
        for l in lines {
            d.decode_line(l.as_bytes(), |m| {
                let Body::BroadcastBinary(p) = m.message.body else {
                    panic!("not a type 8: {:?}", m.message)
                };
                out = Some(p.application);
            })
            .unwrap();
        }
        out.expect("no message decoded")
    }

    fn met(lines: &[&str]) -> MetHydro {
        match app(lines) {
            Some(Application::MetHydro(m)) => m,
            other => panic!("not met/hydro: {other:?}"),
        }
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9)
    }

    fn json(lines: &[&str]) -> serde_json::Value {
        let mut d = Decoder::new(DecoderOptions::default());
        let mut out = Vec::new();
        for l in lines {
            d.decode_line(l.as_bytes(), |m| {
                crate::json::write_gpsd_json(&mut out, &m, &crate::json::JsonOptions::default())
            })
            .unwrap();
        }
        serde_json::from_slice(&out).unwrap()
    }

    // gpsd_ais-nmea-type6-fid55.log: a UK station (MMSI 002320061) near
    // the Thames estuary. Bits checked by hand: lon raw 18672, lat raw
    // 3087858 (1/1000 min), 10th 08:01 UTC, wind 4 kn gusting 11 from 222°,
    // air 158 (15.8 °C), humidity 69 %, dew point 101 (10.1 °C), pressure
    // raw 213 (+799 = 1012 hPa); everything else "not available".
    const FI31: [&str; 2] = [
        "!AIVDM,2,1,8,B,8h2=Vg@0Gh0TN1N>vAB0@PegFPClDIFcgwl?wnSwe7wvlOwwsAwwnSGm,0*29",
        "!AIVDM,2,2,8,B,wvh0,0*44",
    ];

    #[test]
    fn imo289_met_hydro_from_a_real_station() {
        let m = met(&FI31);
        assert_eq!(m.format, MetHydroFormat::Imo289);
        assert!(close(m.lon, 18672.0 / 60000.0));
        assert!(close(m.lat, 3087858.0 / 60000.0));
        assert_eq!(m.accuracy, Some(false));
        assert_eq!((m.day, m.hour, m.minute), (Some(10), Some(8), Some(1)));
        assert_eq!((m.wind_speed, m.wind_gust), (Some(4), Some(11)));
        assert_eq!((m.wind_direction, m.wind_gust_direction), (Some(222), None));
        assert!(close(m.air_temperature, 15.8));
        assert_eq!(m.humidity, Some(69));
        assert!(close(m.dew_point, 10.1));
        assert_eq!(m.air_pressure, Some(1012));
        assert_eq!(m.pressure_tendency, None);
        assert_eq!((m.visibility_greater, m.visibility), (false, None));
        assert_eq!((m.water_level, m.water_level_trend), (None, None));
        assert_eq!(m.currents, [Current::default(); 3]);
        assert_eq!(
            (m.wave_height, m.wave_period, m.wave_direction),
            (None, None, None)
        );
        assert_eq!(
            (m.swell_height, m.swell_period, m.swell_direction),
            (None, None, None)
        );
        assert_eq!((m.sea_state, m.water_temperature), (None, None));
        assert_eq!((m.precipitation, m.salinity, m.ice), (None, None, None));

        let j = json(&FI31);
        assert_eq!(j["timestamp"], "10T08:01Z");
        assert_eq!(j["pressure"], 1012);
        assert_eq!(j["airtemp"], 15.8);
        assert_eq!(j["lat"], 51.464300);
        assert!(j["wgustdir"].is_null() && j["pressuretend"].is_null());
        assert!(j["preciptype"].is_null() && j["ice"].is_null());
        assert_eq!(j["visgreater"], false);
    }

    #[test]
    fn imo289_water_level_has_a_ten_metre_offset() {
        // Same station, another report: water level raw 1150 = +1.50 m.
        let m = met(&[
            "!AIVDM,2,1,1,B,8h2=Vg@0GwwnfiND1QB0OwvlFR06EuOwgr?ownSwe7wvlOwwsAwwnSGm,0*22",
            "!AIVDM,2,2,1,B,wvh0,0*4D",
        ]);
        assert!(close(m.water_level, 1.5));
        assert!(close(m.lon, -4746.0 / 60000.0));
        assert_eq!(m.wind_speed, None);
    }

    #[test]
    fn imo289_all_not_available() {
        // gpsd_sample.aivdm: a Kanaton3 with every sensor value "not
        // available" (wind 127, directions 360, air -1024, humidity 101,
        // dew point 501, pressure 511, water level 4001, sea state 13,
        // water 501, salinity 510 …); only position and time are set.
        let m = met(&[
            "!AIVDO,1,1,5,A,8>jR06@0Gwli:QQUP3en?wvlFR06EuOwgwl?wnSwe7wvlOwwsAwwnSGmwvh0,0*51",
        ]);
        assert!(m.lat.is_some() && m.lon.is_some());
        assert_eq!((m.day, m.hour, m.minute), (Some(29), Some(23), Some(24)));
        assert_eq!(m.accuracy, Some(false));
        assert_eq!((m.wind_speed, m.wind_gust), (None, None));
        assert_eq!((m.wind_direction, m.air_temperature), (None, None));
        assert_eq!(
            (m.humidity, m.dew_point, m.air_pressure),
            (None, None, None)
        );
        assert_eq!(
            (m.visibility, m.water_level, m.sea_state),
            (None, None, None)
        );
        assert_eq!((m.water_temperature, m.salinity, m.ice), (None, None, None));
        assert_eq!(m.currents, [Current::default(); 3]);
    }

    // gpsd_sample.aivdm: a Kanaton fed hard-coded values, checked against
    // the Kanaton decoder's own printout in the file's comments.
    const FI11: &str =
        "!AIVDO,1,1,4,B,8>jR06@0Bk3:wOli;<`WPhh<1rqVBQf2V@Pdt0J82avIM2b<<Rv1t<ot=@1,2*54";

    #[test]
    fn imo236_met_hydro_matches_the_kanaton_printout() {
        let m = met(&[FI11]);
        assert_eq!(m.format, MetHydroFormat::Imo236);
        assert!(close(m.lat, 3197693.0 / 60000.0)); // 53°17.693'
        assert!(close(m.lon, -368039.0 / 60000.0)); // 006°08.039' W
        assert_eq!(m.accuracy, None);
        assert_eq!((m.day, m.hour, m.minute), (Some(18), Some(17), Some(15)));
        assert_eq!((m.wind_speed, m.wind_gust), (Some(3), Some(6)));
        assert_eq!(
            (m.wind_direction, m.wind_gust_direction),
            (Some(12), Some(15))
        );
        assert!(close(m.air_temperature, 14.2));
        assert_eq!(m.humidity, Some(50));
        assert!(close(m.dew_point, 12.3));
        assert_eq!(m.air_pressure, Some(1024));
        assert_eq!(m.pressure_tendency, Some(Tendency::Increasing));
        assert!(close(m.visibility, 15.3));
        assert!(close(m.water_level, -8.4));
        assert_eq!(m.water_level_trend, Some(Tendency::Decreasing));
        assert!(close(m.currents[0].speed, 10.3));
        assert_eq!(
            (m.currents[0].direction, m.currents[0].depth),
            (Some(256), None)
        );
        assert!(close(m.currents[1].speed, 10.4));
        assert_eq!(
            (m.currents[1].direction, m.currents[1].depth),
            (Some(257), Some(10))
        );
        assert!(close(m.currents[2].speed, 12.6));
        assert_eq!(
            (m.currents[2].direction, m.currents[2].depth),
            (Some(203), Some(20))
        );
        assert!(close(m.wave_height, 4.2));
        assert_eq!((m.wave_period, m.wave_direction), (Some(35), Some(25)));
        assert!(close(m.swell_height, 2.3));
        assert_eq!((m.swell_period, m.swell_direction), (Some(48), Some(124)));
        assert_eq!(m.sea_state, Some(3));
        assert!(close(m.water_temperature, 12.3));
        assert_eq!(m.precipitation, Some(6));
        assert!(close(m.salinity, 5.3));
        assert_eq!(m.ice, Some(0));

        let j = json(&[FI11]);
        assert_eq!(j["pressuretend"], "increasing");
        assert_eq!(j["leveltrend"], "decreasing");
        assert_eq!(j["preciptype"], 6);
        assert_eq!(j["preciptype_text"], "reserved");
        assert_eq!(j["ice"], 0);
        assert_eq!(j["ice_text"], "no");
        assert_eq!(j["timestamp"], "18T17:15Z");
        assert!(j.get("accuracy").is_none() && j.get("visgreater").is_none());
    }

    #[test]
    fn imo236_all_ones_is_not_available() {
        let m = met(&[
            "!AIVDO,1,1,4,B,8>jR06@0Bk3:vOli;L`nwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwt1,2*0E",
        ]);
        assert!(m.lat.is_some());
        assert_eq!(
            (m.wind_speed, m.wind_direction, m.air_temperature),
            (None, None, None)
        );
        assert_eq!(
            (m.air_pressure, m.visibility, m.water_level),
            (None, None, None)
        );
        assert_eq!(
            (m.sea_state, m.water_temperature, m.salinity),
            (None, None, None)
        );
        assert_eq!((m.precipitation, m.ice), (None, None));
        assert_eq!(m.currents, [Current::default(); 3]);
        let j = json(&[
            "!AIVDO,1,1,4,B,8>jR06@0Bk3:vOli;L`nwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwt1,2*0E",
        ]);
        assert!(j["preciptype"].is_null());
        assert_eq!(j["preciptype_text"], "N/A");
    }

    #[test]
    fn inland_static_voyage_matches_the_sample_comment() {
        // gpsd_sample.aivdm, from Paul Courbis: VIN 02103547, length 390,
        // beam 50 (decimetres), type 8010, hazard 0, draught 204 (cm),
        // load state 1, quality flags clear.
        let line = "!AIVDM,1,1,,B,83aDChPj2d<dL<uM=hhhI?a@6HP0,0*40";
        let Some(Application::InlandStaticVoyage(s)) = app(&[line]) else {
            panic!()
        };
        assert_eq!(s.vin, "02103547");
        assert!(close(s.length, 39.0));
        assert!(close(s.beam, 5.0));
        assert_eq!(s.ship_type, 8010);
        assert_eq!(s.hazard, Some(0));
        assert!(close(s.draught, 2.04));
        // 1 = loaded in the IALA registry (gpsd 3.22 prints "Unloaded").
        assert_eq!(s.loaded, Some(true));
        assert!(!s.speed_quality && !s.course_quality && !s.heading_quality);

        let j = json(&[line]);
        assert_eq!(j["length"], 390);
        assert_eq!(j["beam"], 50);
        assert_eq!(j["draught"], 204);
        assert_eq!(j["shiptype_text"], "Motor freighter");
        assert_eq!(j["hazard_text"], "0 blue cones/lights");
        assert_eq!(j["loaded"], 1);
        assert_eq!(j["loaded_text"], "Loaded");
    }

    #[test]
    fn inland_layout_needs_exactly_one_slot() {
        // The 368-bit "spoof" from the same MMSI in gpsd_sample.aivdm.
        let got = app(&[
            "!AIVDM,2,1,4,A,83aDChPj2d<dL<uM=hhhI?a@6HP0e9QvUEEEOPPrE4t880>p2JqA6wimt:Ow,0*22",
            "!AIVDM,2,2,4,A,UPP8k;JvOeD,2*7F",
        ]);
        assert_eq!(got, None);
    }

    #[test]
    fn short_payloads_stay_raw_and_never_panic() {
        let mut b = BitBuf::new();
        b.push_armored(b"8>jR06@0Bk3:wOli;<`WPhh<").unwrap();
        b.finish(0);
        for (dac, fid) in [(1, 31), (1, 11), (200, 10)] {
            assert_eq!(decode(8, dac, fid, &b, 56, b.len() - 56), None);
            assert_eq!(decode(8, dac, fid, &b, 56, 0), None);
        }
        // Other message types never carry these layouts.
        assert_eq!(decode(6, 1, 31, &b, 88, 400), None);
    }

    /// Pack `bits` into armoured characters; returns them and the fill.
    fn armor(bits: &[bool]) -> (Vec<u8>, u8) {
        let fill = (6 - bits.len() % 6) % 6;
        let chars = bits
            .chunks(6)
            .map(|c| {
                let v = (0..6).fold(0u8, |v, k| {
                    v << 1 | c.get(k).copied().unwrap_or(false) as u8
                });
                if v < 40 {
                    v + 48
                } else {
                    v + 56
                }
            })
            .collect();
        (chars, fill as u8)
    }

    #[test]
    fn random_payloads_never_panic_and_render_valid_json() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut decoded = 0;
        for n in 0..3000 {
            let (dac, fid) = [(1u64, 31u64), (1, 11), (200, 10)][n % 3];
            let len = match next() % 4 {
                0 => 168,
                1 => 352,
                2 => 360,
                _ => 56 + (next() % 400) as usize,
            };
            let mut bits: Vec<bool> = (0..len).map(|_| next() & 1 == 1).collect();
            let mut set = |at: usize, width: usize, v: u64| {
                for k in 0..width {
                    bits[at + k] = v >> (width - 1 - k) & 1 == 1;
                }
            };
            set(0, 6, 8); // message type 8
            set(40, 10, dac);
            set(50, 6, fid);
            let (chars, fill) = armor(&bits);
            let mut b = BitBuf::new();
            b.push_armored(&chars).unwrap();
            b.finish(fill);
            let message = crate::messages::decode_message(&b).unwrap();
            if let Body::BroadcastBinary(p) = &message.body {
                decoded += p.application.is_some() as usize;
            }
            let d = crate::Decoded {
                message,
                talker: *b"AI",
                own_ship: false,
                channel: Some(b'A'),
                fragments: 1,
                tag: None,
                payload_hash: 0,
                payload: None,
            };
            let mut out = Vec::new();
            crate::json::write_gpsd_json(&mut out, &d, &crate::json::JsonOptions::default());
            let v: serde_json::Value = serde_json::from_slice(&out)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out)));
            assert_eq!(v["dac"], dac);
        }
        assert!(decoded > 500, "only {decoded} decoded");
    }

    #[test]
    fn eri_texts() {
        assert_eq!(eri_ship_type_text(8030), "Container vessel");
        assert_eq!(eri_ship_type_text(0), "Illegal ship type value.");
        assert_eq!(eri_ship_type_text(80), "Illegal ship type value.");
    }
}
