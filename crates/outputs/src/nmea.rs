//! Framing for the NMEA outputs: a relayed AIS message becomes the
//! `!xxVDM`/`!xxVDO` sentences of exactly the bits Lookout received (framed
//! again from the armoured payload, so a message that came with a TAG block
//! or split differently is sent as one clean group); an own-asset fix
//! becomes a type 1 position report sent as `!AIVDO`, which chartplotters
//! show as their own ship.
//!
//! With `tag_blocks`, each sentence gets an NMEA 4.10 TAG block: the first
//! carries the station (`s:`, as received) and the message time (`c:`,
//! seconds), and a multi-sentence message carries a `g:` group on every
//! sentence.

use engine::{Relayed, RelayedFix};
use lookout_ais::encode::{encode_message, frame_payload, with_tag_block};
use lookout_ais::messages::{AisMessage, Body, PositionReport};

/// Frames relayed items, keeping the sequence and group counters.
#[derive(Debug, Default)]
pub struct Framer {
    tag_blocks: bool,
    /// Sequential message id of the next multi-sentence message (0–9).
    seq: u8,
    /// TAG group id of the next multi-sentence message (1–9999).
    group: u32,
}

impl Framer {
    pub fn new(tag_blocks: bool) -> Self {
        Framer {
            tag_blocks,
            seq: 0,
            group: 0,
        }
    }

    /// Append the sentences of `item` to `out`, each ending in CR LF.
    pub fn frame(&mut self, item: &Relayed, out: &mut Vec<u8>) {
        let (sentences, station, time_ms) = match item {
            Relayed::Ais(m) => {
                let talker = std::str::from_utf8(&m.talker).unwrap_or("AI");
                let lines = frame_payload(
                    &m.payload.armored,
                    m.payload.fill_bits,
                    talker,
                    m.own_ship,
                    m.channel.map(char::from),
                    self.seq,
                );
                let station = m.tag.as_ref().and_then(|t| t.source.clone());
                (lines, station, m.time_ms)
            }
            Relayed::OwnFix(f) => (own_fix_sentences(f, self.seq), None, f.time_ms),
        };
        if sentences.len() > 1 {
            self.seq = (self.seq + 1) % 10;
        }
        if !self.tag_blocks {
            for s in &sentences {
                out.extend_from_slice(s.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            return;
        }
        let n = sentences.len();
        let group = (n > 1).then(|| {
            self.group = self.group % 9999 + 1;
            self.group
        });
        for (i, s) in sentences.iter().enumerate() {
            let mut fields = Vec::new();
            if let Some(g) = group {
                fields.push(format!("g:{}-{n}-{g}", i + 1));
            }
            if i == 0 {
                if let Some(st) = station.as_deref().filter(|s| is_tag_text(s)) {
                    fields.push(format!("s:{st}"));
                }
                fields.push(format!("c:{}", time_ms.div_euclid(1000)));
            }
            out.extend_from_slice(with_tag_block(&fields.join(","), s).as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
}

/// A station name that can go in a TAG block unchanged (no delimiter).
fn is_tag_text(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| (0x20..0x7f).contains(&b) && !matches!(b, b',' | b'*' | b'\\' | b'!' | b'$'))
}

/// An own asset's fix as a type 1 position report from the receiver's own
/// ship (`!AIVDO`).
pub fn own_fix_sentences(f: &RelayedFix, seq: u8) -> Vec<String> {
    let m = AisMessage {
        msg_type: 1,
        repeat: 0,
        mmsi: f.mmsi,
        body: Body::Position(PositionReport {
            status: 15,
            turn: None,
            speed: f.sog,
            accuracy: false,
            lon: Some(f.lon),
            lat: Some(f.lat),
            course: f.cog,
            heading: f.heading,
            second: None,
            maneuver: 0,
            raim: false,
            radio: 0,
        }),
    };
    match encode_message(&m) {
        Ok(bits) => {
            let (armored, fill) = bits.armor();
            frame_payload(armored.as_bytes(), fill, "AI", true, None, seq)
        }
        Err(_) => Vec::new(),
    }
}
