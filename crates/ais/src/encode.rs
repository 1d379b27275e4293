//! AIS encoding: typed messages back to armoured `!AIVDM` sentences.
//!
//! The simulator (`lookout simulate`) and tests use this to produce real AIS
//! that any decoder — ours, gpsd, pyais — reads. It covers the messages a
//! traffic picture is made of: position reports (1–3, 18, 27), base
//! stations (4), static data (5, 19, 24), SAR aircraft (9), safety text (14)
//! and aids to navigation (21). Values are the inverse of
//! [`crate::messages`]: `None` encodes the standard's "not available".
//!
//! ```
//! use lookout_ais::encode::{encode_message, sentences};
//! use lookout_ais::messages::*;
//! use lookout_ais::{Decoder, DecoderOptions};
//! let msg = AisMessage {
//!     msg_type: 14,
//!     repeat: 0,
//!     mmsi: 970_010_001,
//!     body: Body::SafetyBroadcast { text: "SART ACTIVE".into() },
//! };
//! let lines = sentences(&encode_message(&msg).unwrap(), "AI", Some('A'), 0);
//! let mut d = Decoder::new(DecoderOptions::default());
//! d.decode_line(lines[0].as_bytes(), |m| assert_eq!(m.message, msg)).unwrap();
//! ```

use crate::messages::*;
use crate::nmea::checksum;

/// Bits being assembled, most significant first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BitWriter {
    bytes: Vec<u8>,
    len: usize,
}

impl BitWriter {
    /// Empty.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of bits written.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Append the low `width` bits of `v` (width ≤ 64).
    pub fn u(&mut self, width: u32, v: u64) -> &mut Self {
        for k in (0..width).rev() {
            let bit = (v >> k) & 1;
            if self.len % 8 == 0 {
                self.bytes.push(0);
            }
            if bit == 1 {
                let last = self.bytes.len() - 1;
                self.bytes[last] |= 0x80 >> (self.len % 8);
            }
            self.len += 1;
        }
        self
    }

    /// Append a two's-complement signed value.
    pub fn i(&mut self, width: u32, v: i64) -> &mut Self {
        let mask = if width >= 64 {
            u64::MAX
        } else {
            (1u64 << width) - 1
        };
        self.u(width, v as u64 & mask)
    }

    /// Append a boolean.
    pub fn flag(&mut self, v: bool) -> &mut Self {
        self.u(1, v as u64)
    }

    /// Append `chars` characters of 6-bit text, padded with `@`. Characters
    /// outside the AIS alphabet become `?`; lower case is upper-cased.
    pub fn text(&mut self, chars: usize, s: &str) -> &mut Self {
        let mut it = s.bytes();
        for _ in 0..chars {
            let c = it.next().map_or(b'@', |c| c.to_ascii_uppercase());
            let v = match c {
                b'@'..=b'_' => c - 64,
                b' '..=b'?' => c,
                _ => b'?',
            };
            self.u(6, v as u64);
        }
        self
    }

    /// Armoured payload and its fill bits.
    pub fn armor(&self) -> (String, u8) {
        let fill = ((6 - self.len % 6) % 6) as u8;
        let nchars = (self.len + fill as usize) / 6;
        let mut s = String::with_capacity(nchars);
        for k in 0..nchars {
            let mut v = 0u8;
            for b in 0..6 {
                let pos = k * 6 + b;
                let bit = if pos < self.len {
                    (self.bytes[pos / 8] >> (7 - pos % 8)) & 1
                } else {
                    0
                };
                v = v << 1 | bit;
            }
            s.push((if v < 40 { v + 48 } else { v + 56 }) as char);
        }
        (s, fill)
    }
}

/// Why a message cannot be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodeError {
    /// The encoder does not produce this message type.
    Unsupported(u8),
}

fn lon28(w: &mut BitWriter, v: Option<f64>) {
    w.i(
        28,
        v.map_or(181 * 600_000, |d| (d * 600_000.0).round() as i64),
    );
}
fn lat27(w: &mut BitWriter, v: Option<f64>) {
    w.i(
        27,
        v.map_or(91 * 600_000, |d| (d * 600_000.0).round() as i64),
    );
}
fn speed10(w: &mut BitWriter, v: Option<f64>) {
    w.u(
        10,
        v.map_or(1023, |s| ((s * 10.0).round() as u64).min(1022)),
    );
}
fn course12(w: &mut BitWriter, v: Option<f64>) {
    w.u(12, v.map_or(3600, |c| ((c * 10.0).round() as u64) % 3600));
}
fn heading9(w: &mut BitWriter, v: Option<u16>) {
    w.u(9, v.map_or(511, |h| (h % 360) as u64));
}
fn second6(w: &mut BitWriter, v: Option<TimeStamp>) {
    w.u(6, v.map_or(60, |s| s.raw() as u64));
}
fn dims(w: &mut BitWriter, d: &Dimensions) {
    w.u(9, d.to_bow as u64)
        .u(9, d.to_stern as u64)
        .u(6, d.to_port as u64)
        .u(6, d.to_starboard as u64);
}
fn turn8(w: &mut BitWriter, t: Option<Turn>) {
    let raw = match t {
        None => -128,
        Some(Turn::FastLeft) => -127,
        Some(Turn::FastRight) => 127,
        Some(Turn::Rate(r)) => {
            let v = 4.733 * r.abs().sqrt();
            (v.round() as i64).min(126) * if r < 0.0 { -1 } else { 1 }
        }
    };
    w.i(8, raw);
}

/// Encode a message's bits.
pub fn encode_message(m: &AisMessage) -> Result<BitWriter, EncodeError> {
    let mut w = BitWriter::new();
    w.u(6, m.msg_type as u64)
        .u(2, m.repeat as u64)
        .u(30, m.mmsi as u64);
    match &m.body {
        Body::Position(p) => {
            w.u(4, p.status as u64);
            turn8(&mut w, p.turn);
            speed10(&mut w, p.speed);
            w.flag(p.accuracy);
            lon28(&mut w, p.lon);
            lat27(&mut w, p.lat);
            course12(&mut w, p.course);
            heading9(&mut w, p.heading);
            second6(&mut w, p.second);
            w.u(2, p.maneuver as u64)
                .u(3, 0)
                .flag(p.raim)
                .u(19, p.radio as u64);
        }
        Body::BaseStation(p) => {
            let t = p.time;
            w.u(14, t.year.unwrap_or(0) as u64)
                .u(4, t.month.unwrap_or(0) as u64)
                .u(5, t.day.unwrap_or(0) as u64)
                .u(5, t.hour.unwrap_or(24) as u64)
                .u(6, t.minute.unwrap_or(60) as u64)
                .u(6, t.second.unwrap_or(60) as u64)
                .flag(p.accuracy);
            lon28(&mut w, p.lon);
            lat27(&mut w, p.lat);
            w.u(4, p.epfd as u64)
                .u(10, 0)
                .flag(p.raim)
                .u(19, p.radio as u64);
        }
        Body::StaticVoyage(p) => {
            w.u(2, p.ais_version as u64)
                .u(30, p.imo.unwrap_or(0) as u64)
                .text(7, &p.callsign)
                .text(20, &p.shipname)
                .u(8, p.shiptype.unwrap_or(0) as u64);
            dims(&mut w, &p.dimensions);
            w.u(4, p.epfd as u64)
                .u(4, p.eta.month.unwrap_or(0) as u64)
                .u(5, p.eta.day.unwrap_or(0) as u64)
                .u(5, p.eta.hour.unwrap_or(24) as u64)
                .u(6, p.eta.minute.unwrap_or(60) as u64)
                .u(
                    8,
                    p.draught.map_or(0, |d| (d * 10.0).round() as u64).min(255),
                )
                .text(20, &p.destination)
                .flag(p.dte)
                .u(1, 0);
        }
        Body::SarAircraft(p) => {
            w.u(12, p.alt.map_or(4095, |a| a.min(4094) as u64))
                .u(10, p.speed.map_or(1023, |s| s.min(1022) as u64))
                .flag(p.accuracy);
            lon28(&mut w, p.lon);
            lat27(&mut w, p.lat);
            course12(&mut w, p.course);
            second6(&mut w, p.second);
            w.u(8, p.regional as u64)
                .flag(p.dte)
                .u(3, 0)
                .flag(p.assigned)
                .flag(p.raim)
                .u(20, p.radio as u64);
        }
        Body::SafetyBroadcast { text } => {
            w.u(2, 0);
            w.text(text.len().min(161), text);
        }
        Body::ClassBPosition(p) => {
            w.u(8, p.reserved as u64);
            speed10(&mut w, p.speed);
            w.flag(p.accuracy);
            lon28(&mut w, p.lon);
            lat27(&mut w, p.lat);
            course12(&mut w, p.course);
            heading9(&mut w, p.heading);
            second6(&mut w, p.second);
            w.u(2, p.regional as u64)
                .flag(p.cs)
                .flag(p.display)
                .flag(p.dsc)
                .flag(p.band)
                .flag(p.msg22)
                .flag(p.assigned)
                .flag(p.raim)
                .u(20, p.radio as u64);
        }
        Body::ClassBExtended(p) => {
            w.u(8, p.reserved as u64);
            speed10(&mut w, p.speed);
            w.flag(p.accuracy);
            lon28(&mut w, p.lon);
            lat27(&mut w, p.lat);
            course12(&mut w, p.course);
            heading9(&mut w, p.heading);
            second6(&mut w, p.second);
            w.u(4, p.regional as u64)
                .text(20, &p.shipname)
                .u(8, p.shiptype.unwrap_or(0) as u64);
            dims(&mut w, &p.dimensions);
            w.u(4, p.epfd as u64)
                .flag(p.raim)
                .flag(p.dte)
                .flag(p.assigned)
                .u(4, 0);
        }
        Body::AidToNavigation(p) => {
            let (name, ext) = if p.name.len() > 20 {
                p.name.split_at(20)
            } else {
                (p.name.as_str(), "")
            };
            w.u(5, p.aid_type as u64).text(20, name).flag(p.accuracy);
            lon28(&mut w, p.lon);
            lat27(&mut w, p.lat);
            dims(&mut w, &p.dimensions);
            w.u(4, p.epfd as u64);
            second6(&mut w, p.second);
            w.flag(p.off_position)
                .u(8, p.regional as u64)
                .flag(p.raim)
                .flag(p.virtual_aid)
                .flag(p.assigned)
                .u(1, 0);
            if !ext.is_empty() {
                let n = ext.len().min(14);
                w.text(n, ext);
            }
        }
        Body::StaticData(StaticDataReport::PartA { shipname }) => {
            w.u(2, 0).text(20, shipname);
        }
        Body::StaticData(StaticDataReport::PartB(p)) => {
            w.u(2, 1)
                .u(8, p.shiptype.unwrap_or(0) as u64)
                .text(3, p.vendorid.get(..3).unwrap_or(&p.vendorid))
                .u(4, p.model as u64)
                .u(20, p.serial as u64)
                .text(7, &p.callsign);
            match p.mothership_mmsi {
                Some(mmsi) => {
                    w.u(30, mmsi as u64);
                }
                None => dims(&mut w, &p.dimensions),
            }
            w.u(6, 0);
        }
        Body::LongRange(p) => {
            w.flag(p.accuracy).flag(p.raim).u(4, p.status as u64);
            w.i(18, p.lon.map_or(181 * 600, |d| (d * 600.0).round() as i64));
            w.i(17, p.lat.map_or(91 * 600, |d| (d * 600.0).round() as i64));
            w.u(6, p.speed.map_or(63, |s| s.min(62) as u64))
                .u(9, p.course.map_or(511, |c| (c % 360) as u64))
                .flag(p.gnss)
                .u(1, 0);
        }
        _ => return Err(EncodeError::Unsupported(m.msg_type)),
    }
    Ok(w)
}

/// Most armoured characters per sentence, keeping sentences within the
/// 82-character NMEA limit.
pub const MAX_PAYLOAD_CHARS: usize = 60;

/// Frame a payload as one or more `!xxVDM` sentences (no line terminator).
/// `seq_id` (0–9) is used only when more than one sentence is needed.
pub fn sentences(bits: &BitWriter, talker: &str, channel: Option<char>, seq_id: u8) -> Vec<String> {
    let (payload, fill) = bits.armor();
    frame_payload(payload.as_bytes(), fill, talker, false, channel, seq_id)
}

/// Frame an armoured payload (six-bit characters, `fill` bits of padding
/// at its end) as one or more `!xxVDM` sentences, or `!xxVDO` for the
/// receiver's own ship, of at most [`MAX_PAYLOAD_CHARS`] payload characters
/// each (no line terminator). `seq_id` (0–9) is used only when more than
/// one sentence is needed; the fill bits go on the last sentence.
pub fn frame_payload(
    armored: &[u8],
    fill: u8,
    talker: &str,
    own_ship: bool,
    channel: Option<char>,
    seq_id: u8,
) -> Vec<String> {
    let parts: Vec<&str> = armored
        .chunks(MAX_PAYLOAD_CHARS)
        .map(|c| std::str::from_utf8(c).unwrap_or(""))
        .collect();
    let parts = if parts.is_empty() { vec![""] } else { parts };
    let n = parts.len();
    let chan = channel.map(String::from).unwrap_or_default();
    let kind = if own_ship { "VDO" } else { "VDM" };
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let seq = if n > 1 {
                (seq_id % 10).to_string()
            } else {
                String::new()
            };
            let f = if i + 1 == n { fill } else { 0 };
            let body = format!("{talker}{kind},{n},{},{seq},{chan},{p},{f}", i + 1);
            format!("!{body}*{:02X}", checksum(body.as_bytes()))
        })
        .collect()
}

/// Prefix a sentence with an NMEA 4.10 TAG block built from `fields`
/// (e.g. `s:sim,c:1733782034`).
pub fn with_tag_block(fields: &str, sentence: &str) -> String {
    format!("\\{fields}*{:02X}\\{sentence}", checksum(fields.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Decoder, DecoderOptions};

    fn round_trip(m: &AisMessage) -> AisMessage {
        let lines = sentences(&encode_message(m).unwrap(), "AI", Some('B'), 3);
        let mut d = Decoder::new(DecoderOptions::default());
        let mut out = Vec::new();
        for l in &lines {
            d.decode_line(l.as_bytes(), |x| out.push(x.message))
                .unwrap();
        }
        assert_eq!(out.len(), 1, "{lines:?}");
        out.pop().unwrap()
    }

    #[test]
    fn position_report_round_trips() {
        let m = AisMessage {
            msg_type: 1,
            repeat: 0,
            mmsi: 247_320_162,
            body: Body::Position(PositionReport {
                status: 0,
                turn: Some(Turn::FastRight),
                speed: Some(12.3),
                accuracy: true,
                lon: Some(12.6),
                lat: Some(35.5),
                course: Some(181.5),
                heading: Some(180),
                second: Some(TimeStamp::Second(34)),
                maneuver: 0,
                raim: false,
                radio: 0,
            }),
        };
        assert_eq!(round_trip(&m), m);
    }

    #[test]
    fn static_voyage_spans_two_sentences_and_round_trips() {
        let m = AisMessage {
            msg_type: 5,
            repeat: 0,
            mmsi: 215_123_000,
            body: Body::StaticVoyage(StaticVoyage {
                ais_version: 0,
                imo: Some(9_700_001),
                callsign: "9HA1234".into(),
                shipname: "MEDITERRANEAN STAR".into(),
                shiptype: Some(70),
                dimensions: Dimensions {
                    to_bow: 150,
                    to_stern: 30,
                    to_port: 12,
                    to_starboard: 14,
                },
                epfd: 1,
                eta: Eta {
                    month: Some(12),
                    day: Some(1),
                    hour: Some(6),
                    minute: Some(30),
                },
                draught: Some(9.8),
                destination: "LA VALLETTA".into(),
                dte: false,
            }),
        };
        let lines = sentences(&encode_message(&m).unwrap(), "AI", Some('A'), 1);
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| l.len() <= 82));
        assert_eq!(round_trip(&m), m);
    }

    #[test]
    fn class_b_and_sar_aircraft_and_not_available_round_trip() {
        let b = AisMessage {
            msg_type: 18,
            repeat: 0,
            mmsi: 247_000_555,
            body: Body::ClassBPosition(ClassBPosition {
                reserved: 0,
                speed: None,
                accuracy: false,
                lon: None,
                lat: None,
                course: None,
                heading: None,
                second: None,
                regional: 0,
                cs: true,
                display: false,
                dsc: true,
                band: true,
                msg22: true,
                assigned: false,
                raim: false,
                radio: 0,
            }),
        };
        assert_eq!(round_trip(&b), b);
        let sar = AisMessage {
            msg_type: 9,
            repeat: 0,
            mmsi: 111_247_001,
            body: Body::SarAircraft(SarAircraftReport {
                alt: Some(300),
                speed: Some(140),
                accuracy: true,
                lon: Some(13.5),
                lat: Some(35.9),
                course: Some(270.0),
                second: Some(TimeStamp::Second(5)),
                regional: 0,
                dte: false,
                assigned: false,
                raim: false,
                radio: 0,
            }),
        };
        assert_eq!(round_trip(&sar), sar);
    }

    #[test]
    fn tag_block_prefix_is_valid() {
        let m = AisMessage {
            msg_type: 14,
            repeat: 0,
            mmsi: 970_000_001,
            body: Body::SafetyBroadcast {
                text: "SART TEST".into(),
            },
        };
        let line = with_tag_block(
            "s:sim,c:1733782034",
            &sentences(&encode_message(&m).unwrap(), "AI", None, 0)[0],
        );
        let mut d = Decoder::new(DecoderOptions::default());
        d.decode_line(line.as_bytes(), |x| {
            assert_eq!(x.tag.as_ref().unwrap().time, Some(1733782034));
            assert_eq!(x.message, m);
        })
        .unwrap();
    }
}
