//! gpsd-compatible AIS JSON.
//!
//! [`write_gpsd_json`] renders a [`Decoded`] message as one JSON object with
//! the field names, units and scaling of gpsd's AIS JSON (`gpsdecode`'s
//! default, scaled output), so existing gpsd consumers can read it. The one
//! deliberate difference: a value the standard marks "not available" is
//! `null` instead of gpsd's sentinel number. Type 24 parts are separate
//! objects (as `gpsdecode -s` prints them). Optional extras: `talker`,
//! `channel`, `own_ship` and the `tagblock`.
//!
//! The writer appends to a `Vec<u8>` without intermediate allocation: it is
//! on the hot path of `lookout decode`.
//!
//! ```
//! use lookout_ais::{Decoder, DecoderOptions, json::{write_gpsd_json, JsonOptions}};
//! let mut d = Decoder::new(DecoderOptions::default());
//! let mut out = Vec::new();
//! d.decode_line(b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A", |m| {
//!     write_gpsd_json(&mut out, &m, &JsonOptions::default())
//! }).unwrap();
//! let text = String::from_utf8(out).unwrap();
//! assert!(text.starts_with(r#"{"class":"AIS","type":1,"repeat":0,"mmsi":371798000,"#));
//! assert!(text.contains(r#""lat":48.381633"#));
//! ```

use crate::application;
use crate::decoder::Decoded;
use crate::messages::*;

/// What to add beyond gpsd's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonOptions {
    /// Add `talker`, `channel` and (for VDO) `own_ship`.
    pub sentence_fields: bool,
    /// Add `tagblock` when the message had one.
    pub tagblock: bool,
}

impl Default for JsonOptions {
    fn default() -> Self {
        JsonOptions {
            sentence_fields: true,
            tagblock: true,
        }
    }
}

/// Small JSON object writer over a byte vector.
pub struct ObjectWriter<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> ObjectWriter<'a> {
    /// Start an object (writes `{`).
    pub fn open(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        ObjectWriter { out, first: true }
    }

    // Inlined so the key's length is a constant at each call site and the
    // copy compiles to a few moves.
    #[inline(always)]
    fn key(&mut self, k: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(k.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    /// `"k":null`
    #[inline(always)]
    pub fn null(&mut self, k: &str) {
        self.key(k);
        self.out.extend_from_slice(b"null");
    }

    /// Unsigned integer.
    #[inline(always)]
    pub fn uint(&mut self, k: &str, v: u64) {
        self.key(k);
        self.out
            .extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    }

    /// Signed integer.
    #[inline(always)]
    pub fn int(&mut self, k: &str, v: i64) {
        self.key(k);
        self.out
            .extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    }

    /// Optional unsigned integer (`null` when `None`).
    #[inline(always)]
    pub fn opt_uint(&mut self, k: &str, v: Option<u64>) {
        match v {
            Some(v) => self.uint(k, v),
            None => self.null(k),
        }
    }

    /// Boolean.
    #[inline(always)]
    pub fn boolean(&mut self, k: &str, v: bool) {
        self.key(k);
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
    }

    /// String, JSON-escaped.
    #[inline(always)]
    pub fn string(&mut self, k: &str, v: &str) {
        self.key(k);
        write_str(self.out, v);
    }

    /// Fixed-point number with `decimals` digits after the point (like C's
    /// `%.Nf`).
    #[inline(always)]
    pub fn fixed(&mut self, k: &str, v: f64, decimals: u32) {
        self.key(k);
        write_fixed(self.out, v, decimals);
    }

    /// Optional fixed-point number (`null` when `None`).
    #[inline(always)]
    pub fn opt_fixed(&mut self, k: &str, v: Option<f64>, decimals: u32) {
        match v {
            Some(v) => self.fixed(k, v, decimals),
            None => self.null(k),
        }
    }

    /// A raw JSON value written by the caller.
    pub fn raw(&mut self, k: &str, json: &[u8]) {
        self.key(k);
        self.out.extend_from_slice(json);
    }

    /// Binary payload as gpsd prints it: `"<bits>:<hex>"`.
    pub fn bits_hex(&mut self, k: &str, bits: usize, data: &[u8]) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        self.key(k);
        self.out.push(b'"');
        self.out
            .extend_from_slice(itoa::Buffer::new().format(bits).as_bytes());
        self.out.push(b':');
        for &b in data {
            self.out.push(HEX[(b >> 4) as usize]);
            self.out.push(HEX[(b & 15) as usize]);
        }
        self.out.push(b'"');
    }

    /// Close the object (writes `}`).
    pub fn close(self) {
        self.out.push(b'}');
    }
}

/// Write `v` with exactly `decimals` (at most 9) fractional digits, rounding
/// half away from zero.
pub fn write_fixed(out: &mut Vec<u8>, v: f64, decimals: u32) {
    const POW10: [f64; 10] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
    let d = decimals.min(9) as usize;
    let x = v * POW10[d];
    if !x.is_finite() {
        out.extend_from_slice(b"null");
        return;
    }
    if x.abs() >= 9.0e15 {
        // Out of exact integer range: fall back to Rust's formatting.
        out.extend_from_slice(format!("{v:.d$}").as_bytes());
        return;
    }
    // Adding ±0.5 then truncating rounds half away from zero, like
    // `f64::round`, without a libm call.
    let n = (x + 0.5f64.copysign(x)) as i64;
    if n < 0 {
        out.push(b'-');
    }
    let mut buf = itoa::Buffer::new();
    let digits = buf.format(n.unsigned_abs()).as_bytes();
    if d == 0 {
        out.extend_from_slice(digits);
        return;
    }
    if digits.len() > d {
        let (int, frac) = digits.split_at(digits.len() - d);
        out.extend_from_slice(int);
        out.push(b'.');
        out.extend_from_slice(frac);
    } else {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', d - digits.len()));
        out.extend_from_slice(digits);
    }
}

/// Write a JSON string literal.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0..=0x1f => {
                out.extend_from_slice(b"\\u00");
                out.push(b"0123456789abcdef"[(b >> 4) as usize]);
                out.push(b"0123456789abcdef"[(b & 15) as usize]);
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// Navigational status texts (gpsd's wording).
pub const NAV_STATUS_TEXT: [&str; 16] = [
    "Under way using engine",
    "At anchor",
    "Not under command",
    "Restricted manoeuverability",
    "Constrained by her draught",
    "Moored",
    "Aground",
    "Engaged in fishing",
    "Under way sailing",
    "Reserved for HSC",
    "Reserved for WIG",
    "Reserved",
    "Reserved",
    "Reserved",
    "AIS-SART is active",
    "Not defined",
];

/// EPFD (position fixing device) texts (gpsd's wording).
pub fn epfd_text(v: u8) -> &'static str {
    const T: [&str; 9] = [
        "Undefined",
        "GPS",
        "GLONASS",
        "Combined GPS/GLONASS",
        "Loran-C",
        "Chayka",
        "Integrated navigation system",
        "Surveyed",
        "Galileo",
    ];
    T.get(v as usize).copied().unwrap_or("INVALID EPFD")
}

/// Ship and cargo type texts (gpsd's wording).
pub fn shiptype_text(v: u8) -> &'static str {
    const CAT: [&str; 5] = [
        "all ships of this type",
        "Hazardous category A",
        "Hazardous category B",
        "Hazardous category C",
        "Hazardous category D",
    ];
    let family = |name: &'static str, d: u8| -> &'static str {
        // Static strings per family and digit.
        macro_rules! fam {
            ($p:literal) => {
                match d {
                    0 => concat!($p, " - all ships of this type"),
                    1 => concat!($p, " - Hazardous category A"),
                    2 => concat!($p, " - Hazardous category B"),
                    3 => concat!($p, " - Hazardous category C"),
                    4 => concat!($p, " - Hazardous category D"),
                    9 => concat!($p, " - No additional information"),
                    _ => concat!($p, " - Reserved for future use"),
                }
            };
        }
        let _ = CAT;
        match name {
            "WIG" => fam!("Wing in ground (WIG)"),
            "HSC" => fam!("High speed craft (HSC)"),
            "Passenger" => fam!("Passenger"),
            "Cargo" => fam!("Cargo"),
            "Tanker" => fam!("Tanker"),
            _ => match d {
                0 => "Other Type - all ships of this type",
                1 => "Other Type - Hazardous category A",
                2 => "Other Type - Hazardous category B",
                3 => "Other Type - Hazardous category C",
                4 => "Other Type - Hazardous category D",
                9 => "Other Type - no additional information",
                _ => "Other Type - Reserved for future use",
            },
        }
    };
    match v {
        0 => "Not available",
        1..=19 => "Reserved for future use",
        20..=29 => family("WIG", v - 20),
        30 => "Fishing",
        31 => "Towing",
        32 => "Towing: length exceeds 200m or breadth exceeds 25m",
        33 => "Dredging or underwater ops",
        34 => "Diving ops",
        35 => "Military ops",
        36 => "Sailing",
        37 => "Pleasure Craft",
        38 | 39 => "Reserved",
        40..=49 => family("HSC", v - 40),
        50 => "Pilot Vessel",
        51 => "Search and Rescue vessel",
        52 => "Tug",
        53 => "Port Tender",
        54 => "Anti-pollution equipment",
        55 => "Law Enforcement",
        56 | 57 => "Spare - Local Vessel",
        58 => "Medical Transport",
        59 => "Ship according to RR Resolution No. 18",
        60..=69 => family("Passenger", v - 60),
        70..=79 => family("Cargo", v - 70),
        80..=89 => family("Tanker", v - 80),
        90..=99 => family("Other", v - 90),
        _ => "INVALID SHIP TYPE",
    }
}

/// Aid-to-navigation type texts (gpsd's wording).
pub fn aid_type_text(v: u8) -> &'static str {
    const T: [&str; 32] = [
        "Unspecified",
        "Reference point",
        "RACON",
        "Fixed offshore structure",
        "Spare, Reserved for future use.",
        "Light, without sectors",
        "Light, with sectors",
        "Leading Light Front",
        "Leading Light Rear",
        "Beacon, Cardinal N",
        "Beacon, Cardinal E",
        "Beacon, Cardinal S",
        "Beacon, Cardinal W",
        "Beacon, Port hand",
        "Beacon, Starboard hand",
        "Beacon, Preferred Channel port hand",
        "Beacon, Preferred Channel starboard hand",
        "Beacon, Isolated danger",
        "Beacon, Safe water",
        "Beacon, Special mark",
        "Cardinal Mark N",
        "Cardinal Mark E",
        "Cardinal Mark S",
        "Cardinal Mark W",
        "Port hand Mark",
        "Starboard hand Mark",
        "Preferred Channel Port hand",
        "Preferred Channel Starboard hand",
        "Isolated danger",
        "Safe Water",
        "Special Mark",
        "Light Vessel / LANBY / Rigs",
    ];
    T[(v & 31) as usize]
}

/// Station type texts for type 23 (gpsd's wording).
pub fn station_type_text(v: u8) -> &'static str {
    match v {
        0 => "All types of mobiles",
        1 => "Reserved for future use",
        2 => "All types of Class B mobile stations",
        3 => "SAR airborne mobile station",
        4 => "Aid to Navigation station",
        5 => "Class B shipborne mobile station",
        6 => "Regional use and inland waterways",
        7..=9 => "Regional use and inland waterways",
        _ => "Reserved for future use",
    }
}

fn lat6(w: &mut ObjectWriter<'_>, lon: Option<f64>, lat: Option<f64>) {
    w.opt_fixed("lon", lon, 6);
    w.opt_fixed("lat", lat, 6);
}

fn turn(w: &mut ObjectWriter<'_>, t: Option<Turn>) {
    match t {
        None => w.null("turn"),
        Some(Turn::FastLeft) => w.string("turn", "fastleft"),
        Some(Turn::FastRight) => w.string("turn", "fastright"),
        Some(Turn::Rate(r)) => w.fixed("turn", r, 0),
    }
}

fn second(w: &mut ObjectWriter<'_>, s: Option<TimeStamp>) {
    w.opt_uint("second", s.map(|s| s.raw() as u64));
}

fn dims(w: &mut ObjectWriter<'_>, d: &Dimensions) {
    w.uint("to_bow", d.to_bow as u64);
    w.uint("to_stern", d.to_stern as u64);
    w.uint("to_port", d.to_port as u64);
    w.uint("to_starboard", d.to_starboard as u64);
}

fn shiptype(w: &mut ObjectWriter<'_>, t: Option<u8>) {
    match t {
        Some(t) => {
            w.uint("shiptype", t as u64);
            w.string("shiptype_text", shiptype_text(t));
        }
        None => {
            w.null("shiptype");
            w.string("shiptype_text", shiptype_text(0));
        }
    }
}

fn epfd(w: &mut ObjectWriter<'_>, v: u8) {
    w.uint("epfd", v as u64);
    w.string("epfd_text", epfd_text(v));
}

fn two(out: &mut Vec<u8>, v: u8) {
    out.push(b'0' + v / 10 % 10);
    out.push(b'0' + v % 10);
}

fn binary(w: &mut ObjectWriter<'_>, p: &BinaryData) {
    match &p.application {
        Some(app) => application::write_json(w, app),
        None => w.bits_hex("data", p.bits, &p.data),
    }
}

/// Append `d` as one gpsd-style JSON object (no newline).
pub fn write_gpsd_json(out: &mut Vec<u8>, d: &Decoded, opts: &JsonOptions) {
    let m = &d.message;
    let mut w = ObjectWriter::open(out);
    w.string("class", "AIS");
    w.uint("type", m.msg_type as u64);
    w.uint("repeat", m.repeat as u64);
    w.uint("mmsi", m.mmsi as u64);
    w.boolean("scaled", true);
    match &m.body {
        Body::Position(p) => {
            w.uint("status", p.status as u64);
            w.string("status_text", NAV_STATUS_TEXT[(p.status & 15) as usize]);
            turn(&mut w, p.turn);
            w.opt_fixed("speed", p.speed, 1);
            w.boolean("accuracy", p.accuracy);
            lat6(&mut w, p.lon, p.lat);
            w.opt_fixed("course", p.course, 1);
            w.opt_uint("heading", p.heading.map(u64::from));
            second(&mut w, p.second);
            w.uint("maneuver", p.maneuver as u64);
            w.boolean("raim", p.raim);
            w.uint("radio", p.radio as u64);
        }
        Body::BaseStation(p) => {
            let t = p.time;
            match (t.year, t.month, t.day, t.hour, t.minute, t.second) {
                (Some(y), Some(mo), Some(da), Some(h), Some(mi), Some(s)) => {
                    w.key("timestamp");
                    let out = &mut *w.out;
                    out.push(b'"');
                    let yb = itoa::Buffer::new().format(y).as_bytes().to_vec();
                    for _ in yb.len()..4 {
                        out.push(b'0');
                    }
                    out.extend_from_slice(&yb);
                    out.push(b'-');
                    two(out, mo);
                    out.push(b'-');
                    two(out, da);
                    out.push(b'T');
                    two(out, h);
                    out.push(b':');
                    two(out, mi);
                    out.push(b':');
                    two(out, s);
                    out.extend_from_slice(b"Z\"");
                }
                _ => w.null("timestamp"),
            }
            w.boolean("accuracy", p.accuracy);
            lat6(&mut w, p.lon, p.lat);
            epfd(&mut w, p.epfd);
            w.boolean("raim", p.raim);
            w.uint("radio", p.radio as u64);
        }
        Body::StaticVoyage(p) => {
            w.opt_uint("imo", p.imo.map(u64::from));
            w.uint("ais_version", p.ais_version as u64);
            w.string("callsign", &p.callsign);
            w.string("shipname", &p.shipname);
            shiptype(&mut w, p.shiptype);
            dims(&mut w, &p.dimensions);
            epfd(&mut w, p.epfd);
            match (p.eta.month, p.eta.day, p.eta.hour, p.eta.minute) {
                (Some(mo), Some(da), Some(h), Some(mi)) => {
                    w.key("eta");
                    let out = &mut *w.out;
                    out.push(b'"');
                    two(out, mo);
                    out.push(b'-');
                    two(out, da);
                    out.push(b'T');
                    two(out, h);
                    out.push(b':');
                    two(out, mi);
                    out.extend_from_slice(b"Z\"");
                }
                _ => w.null("eta"),
            }
            w.opt_fixed("draught", p.draught, 1);
            w.string("destination", &p.destination);
            w.uint("dte", p.dte as u64);
        }
        Body::AddressedBinary(p) => {
            w.uint("seqno", p.seqno as u64);
            w.uint("dest_mmsi", p.dest_mmsi as u64);
            w.boolean("retransmit", p.retransmit);
            w.uint("dac", p.payload.dac.unwrap_or(0) as u64);
            w.uint("fid", p.payload.fid.unwrap_or(0) as u64);
            binary(&mut w, &p.payload);
        }
        Body::Acknowledge(a) => {
            for (k, name) in ["mmsi1", "mmsi2", "mmsi3", "mmsi4"].iter().enumerate() {
                w.uint(name, a.acks.get(k).map_or(0, |a| a.0 as u64));
            }
        }
        Body::BroadcastBinary(p) => {
            w.uint("dac", p.dac.unwrap_or(0) as u64);
            w.uint("fid", p.fid.unwrap_or(0) as u64);
            binary(&mut w, p);
        }
        Body::SarAircraft(p) => {
            w.opt_uint("alt", p.alt.map(u64::from));
            w.opt_uint("speed", p.speed.map(u64::from));
            w.boolean("accuracy", p.accuracy);
            lat6(&mut w, p.lon, p.lat);
            w.opt_fixed("course", p.course, 1);
            second(&mut w, p.second);
            w.uint("regional", p.regional as u64);
            w.uint("dte", p.dte as u64);
            w.boolean("assigned", p.assigned);
            w.boolean("raim", p.raim);
            w.uint("radio", p.radio as u64);
        }
        Body::UtcInquiry { dest_mmsi } => w.uint("dest_mmsi", *dest_mmsi as u64),
        Body::AddressedSafety(p) => {
            w.uint("seqno", p.seqno as u64);
            w.uint("dest_mmsi", p.dest_mmsi as u64);
            w.boolean("retransmit", p.retransmit);
            w.string("text", &p.text);
        }
        Body::SafetyBroadcast { text } => w.string("text", text),
        Body::Interrogation(p) => {
            w.uint("mmsi1", p.mmsi1 as u64);
            w.uint("type1_1", p.type1_1 as u64);
            w.uint("offset1_1", p.offset1_1 as u64);
            let (t, o) = p.type1_2.unwrap_or((0, 0));
            w.uint("type1_2", t as u64);
            w.uint("offset1_2", o as u64);
            let (m2, t2, o2) = p.mmsi2.unwrap_or((0, 0, 0));
            w.uint("mmsi2", m2 as u64);
            w.uint("type2_1", t2 as u64);
            w.uint("offset2_1", o2 as u64);
        }
        Body::AssignmentCommand(p) => {
            for k in 0..2 {
                let (mmsi, off, inc) = p.assignments.get(k).copied().unwrap_or((0, 0, 0));
                let n = [
                    ("mmsi1", "offset1", "increment1"),
                    ("mmsi2", "offset2", "increment2"),
                ][k];
                w.uint(n.0, mmsi as u64);
                w.uint(n.1, off as u64);
                w.uint(n.2, inc as u64);
            }
        }
        Body::Dgnss(p) => {
            w.opt_fixed("lon", p.lon, 4);
            w.opt_fixed("lat", p.lat, 4);
            w.bits_hex("data", p.bits, &p.data);
        }
        Body::ClassBPosition(p) => {
            w.uint("reserved", p.reserved as u64);
            w.opt_fixed("speed", p.speed, 1);
            w.boolean("accuracy", p.accuracy);
            lat6(&mut w, p.lon, p.lat);
            w.opt_fixed("course", p.course, 1);
            w.opt_uint("heading", p.heading.map(u64::from));
            second(&mut w, p.second);
            w.uint("regional", p.regional as u64);
            w.boolean("cs", p.cs);
            w.boolean("display", p.display);
            w.boolean("dsc", p.dsc);
            w.boolean("band", p.band);
            w.boolean("msg22", p.msg22);
            w.boolean("assigned", p.assigned);
            w.boolean("raim", p.raim);
            w.uint("radio", p.radio as u64);
        }
        Body::ClassBExtended(p) => {
            w.uint("reserved", p.reserved as u64);
            w.opt_fixed("speed", p.speed, 1);
            w.boolean("accuracy", p.accuracy);
            lat6(&mut w, p.lon, p.lat);
            w.opt_fixed("course", p.course, 1);
            w.opt_uint("heading", p.heading.map(u64::from));
            second(&mut w, p.second);
            w.uint("regional", p.regional as u64);
            w.string("shipname", &p.shipname);
            shiptype(&mut w, p.shiptype);
            dims(&mut w, &p.dimensions);
            epfd(&mut w, p.epfd);
            w.boolean("raim", p.raim);
            w.uint("dte", p.dte as u64);
            w.boolean("assigned", p.assigned);
        }
        Body::DataLinkManagement(p) => {
            const N: [[&str; 4]; 4] = [
                ["offset1", "number1", "timeout1", "increment1"],
                ["offset2", "number2", "timeout2", "increment2"],
                ["offset3", "number3", "timeout3", "increment3"],
                ["offset4", "number4", "timeout4", "increment4"],
            ];
            for (k, n) in N.iter().enumerate() {
                let r = p.reservations.get(k).copied().unwrap_or(SlotReservation {
                    offset: 0,
                    number: 0,
                    timeout: 0,
                    increment: 0,
                });
                w.uint(n[0], r.offset as u64);
                w.uint(n[1], r.number as u64);
                w.uint(n[2], r.timeout as u64);
                w.uint(n[3], r.increment as u64);
            }
        }
        Body::AidToNavigation(p) => {
            w.uint("aid_type", p.aid_type as u64);
            w.string("aid_type_text", aid_type_text(p.aid_type));
            w.string("name", &p.name);
            lat6(&mut w, p.lon, p.lat);
            w.boolean("accuracy", p.accuracy);
            dims(&mut w, &p.dimensions);
            epfd(&mut w, p.epfd);
            second(&mut w, p.second);
            w.uint("regional", p.regional as u64);
            w.boolean("off_position", p.off_position);
            w.boolean("raim", p.raim);
            w.boolean("virtual_aid", p.virtual_aid);
            w.boolean("assigned", p.assigned);
        }
        Body::ChannelManagement(p) => {
            w.uint("channel_a", p.channel_a as u64);
            w.uint("channel_b", p.channel_b as u64);
            w.uint("txrx", p.txrx as u64);
            w.boolean("power", p.power);
            match p.target {
                ChannelTarget::Area(a) => area(&mut w, &a),
                ChannelTarget::Addressed { dest1, dest2 } => {
                    w.uint("dest1", dest1 as u64);
                    w.uint("dest2", dest2 as u64);
                }
            }
            w.boolean(
                "addressed",
                matches!(p.target, ChannelTarget::Addressed { .. }),
            );
            w.boolean("band_a", p.band_a);
            w.boolean("band_b", p.band_b);
            w.uint("zonesize", p.zonesize as u64);
        }
        Body::GroupAssignment(p) => {
            area(&mut w, &p.area);
            w.uint("stationtype", p.station_type as u64);
            w.string("stationtype_text", station_type_text(p.station_type));
            w.uint("shiptype", p.ship_type as u64);
            w.string("shiptype_text", shiptype_text(p.ship_type));
            w.uint("txrx", p.txrx as u64);
            w.uint("interval", p.interval as u64);
            w.uint("quiet", p.quiet as u64);
        }
        Body::StaticData(StaticDataReport::PartA { shipname }) => {
            w.string("part", "A");
            w.string("shipname", shipname);
        }
        Body::StaticData(StaticDataReport::PartB(p)) => {
            w.string("part", "B");
            shiptype(&mut w, p.shiptype);
            w.string("vendorid", &p.vendorid);
            w.uint("model", p.model as u64);
            w.uint("serial", p.serial as u64);
            w.string("callsign", &p.callsign);
            match p.mothership_mmsi {
                Some(m) => w.uint("mothership_mmsi", m as u64),
                None => dims(&mut w, &p.dimensions),
            }
        }
        Body::SlotBinary(p) => {
            w.boolean("addressed", p.addressed);
            w.boolean("structured", p.structured);
            w.uint("dest_mmsi", p.dest_mmsi.unwrap_or(0) as u64);
            let app_id = match (p.payload.dac, p.payload.fid) {
                (Some(dac), Some(fid)) => ((dac as u64) << 6) | fid as u64,
                _ => 0,
            };
            w.uint("app_id", app_id);
            w.bits_hex("data", p.payload.bits, &p.payload.data);
            if let Some(r) = p.radio {
                w.uint("radio", r as u64);
            }
        }
        Body::LongRange(p) => {
            w.uint("status", p.status as u64);
            w.string("status_text", NAV_STATUS_TEXT[(p.status & 15) as usize]);
            w.boolean("accuracy", p.accuracy);
            w.opt_fixed("lon", p.lon, 4);
            w.opt_fixed("lat", p.lat, 4);
            w.opt_uint("speed", p.speed.map(u64::from));
            w.opt_uint("course", p.course.map(u64::from));
            w.boolean("raim", p.raim);
            w.boolean("gnss", p.gnss);
        }
    }
    if opts.sentence_fields {
        w.key("talker");
        // Escaped: a hostile line may carry any two bytes as its talker.
        write_str(w.out, &String::from_utf8_lossy(&d.talker));
        if let Some(c) = d.channel {
            w.key("channel");
            w.out.push(b'"');
            if c.is_ascii_graphic() && c != b'"' && c != b'\\' {
                w.out.push(c);
            }
            w.out.push(b'"');
        }
        if d.own_ship {
            w.boolean("own_ship", true);
        }
    }
    if opts.tagblock {
        if let Some(t) = &d.tag {
            w.key("tagblock");
            let mut tw = ObjectWriter::open(w.out);
            if let Some(s) = &t.source {
                tw.string("s", s);
            }
            if let Some(c) = t.time {
                tw.int("c", c);
            }
            if let Some(g) = t.group {
                tw.uint("g_sentence", g.sentence as u64);
                tw.uint("g_total", g.total as u64);
                tw.uint("g_id", g.id as u64);
            }
            if let Some(n) = t.line_count {
                tw.uint("n", n);
            }
            if let Some(s) = &t.destination {
                tw.string("d", s);
            }
            if let Some(s) = &t.text {
                tw.string("t", s);
            }
            if let Some(r) = t.relative_time {
                tw.int("r", r);
            }
            for (k, v) in &t.other {
                // Keys are arbitrary text: escape them as values are.
                if !tw.first {
                    tw.out.push(b',');
                }
                tw.first = false;
                write_str(tw.out, k);
                tw.out.push(b':');
                write_str(tw.out, v);
            }
            tw.close();
        }
    }
    w.close();
}

fn area(w: &mut ObjectWriter<'_>, a: &Area) {
    w.fixed("ne_lon", a.ne_lon, 6);
    w.fixed("ne_lat", a.ne_lat, 6);
    w.fixed("sw_lon", a.sw_lon, 6);
    w.fixed("sw_lat", a.sw_lat, 6);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(v: f64, d: u32) -> String {
        let mut out = Vec::new();
        write_fixed(&mut out, v, d);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn fixed_point_formatting_matches_printf() {
        assert_eq!(fixed(48.381633333, 6), "48.381633");
        assert_eq!(fixed(-0.05, 1), "-0.1");
        assert_eq!(fixed(-0.04, 1), "0.0");
        assert_eq!(fixed(12.3, 1), "12.3");
        assert_eq!(fixed(3.0, 0), "3");
        assert_eq!(fixed(0.000001, 6), "0.000001");
        assert_eq!(fixed(f64::NAN, 2), "null");
    }

    #[test]
    fn strings_are_escaped() {
        let mut out = Vec::new();
        write_str(&mut out, "A\"B\\C\n");
        assert_eq!(String::from_utf8(out).unwrap(), r#""A\"B\\C\u000a""#);
    }

    #[test]
    fn ship_type_texts() {
        assert_eq!(shiptype_text(70), "Cargo - all ships of this type");
        assert_eq!(shiptype_text(99), "Other Type - no additional information");
        assert_eq!(shiptype_text(51), "Search and Rescue vessel");
        assert_eq!(shiptype_text(200), "INVALID SHIP TYPE");
    }
}
