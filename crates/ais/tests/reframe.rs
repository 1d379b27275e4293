//! Re-framing: a message decoded with `keep_payload` and framed again with
//! `encode::frame_payload` decodes to the same message, for every message of
//! every real recording in `fixtures/ais/` (every type they hold, single and
//! multi-sentence, VDM and VDO). This is what the NMEA re-broadcast output
//! sends, so a chartplotter sees exactly the bits Lookout received.

use lookout_ais::encode::frame_payload;
use lookout_ais::{Decoded, Decoder, DecoderOptions, LineContext};

fn decode_all(decoder: &mut Decoder, text: &str) -> Vec<Decoded> {
    let mut out = Vec::new();
    let ctx = LineContext::default();
    for line in text.lines() {
        let _ = decoder.decode_line_with(line.as_bytes(), &ctx, |d| out.push(d));
    }
    out
}

#[test]
fn every_fixture_message_reframes_to_the_same_message() {
    let dir = format!("{}/../../fixtures/ais", env!("CARGO_MANIFEST_DIR"));
    let mut total = 0;
    let mut multi = 0;
    let mut own = 0;
    let mut types = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        let mut d = Decoder::new(DecoderOptions {
            keep_payload: true,
            ..DecoderOptions::default()
        });
        for (i, m) in decode_all(&mut d, &text).into_iter().enumerate() {
            let p = m
                .payload
                .as_ref()
                .expect("keep_payload keeps every payload");
            let talker = std::str::from_utf8(&m.talker).unwrap();
            let channel = m.channel.map(char::from);
            let lines = frame_payload(
                &p.armored,
                p.fill_bits,
                talker,
                m.own_ship,
                channel,
                (i % 10) as u8,
            );
            assert!(lines.iter().all(|l| l.len() <= 82), "{lines:?}");
            let mut again = Decoder::new(DecoderOptions::default());
            let back = decode_all(&mut again, &lines.join("\n"));
            assert_eq!(back.len(), 1, "{}: {lines:?}", path.display());
            assert_eq!(back[0].message, m.message, "{}: {lines:?}", path.display());
            assert_eq!(back[0].own_ship, m.own_ship);
            assert_eq!(back[0].talker, m.talker);
            total += 1;
            multi += usize::from(lines.len() > 1);
            own += usize::from(m.own_ship);
            types.insert(m.message.msg_type);
        }
    }
    assert!(total > 1000, "{total} messages");
    assert!(multi > 10, "{multi} multi-sentence messages");
    assert!(own > 0, "no VDO message in the fixtures");
    assert!(types.len() >= 15, "types {types:?}");
}

#[test]
fn without_keep_payload_nothing_is_kept() {
    let mut d = Decoder::new(DecoderOptions::default());
    let out = decode_all(&mut d, "!AIVDM,1,1,,B,15M67FC000G?ufbE`FepT@3n00Sa,0*5C");
    assert_eq!(out.len(), 1);
    assert!(out[0].payload.is_none());
}
