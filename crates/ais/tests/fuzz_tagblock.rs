//! Fuzz target (stable harness, fuzz/README.md): the NMEA 4.10 TAG block
//! parser, `TagBlock::parse`, alone and in front of a real sentence.
//!
//! Feeds: arbitrary bytes; and structure-aware blocks — comma-separated
//! fields whose keys are the known ones (`s c g n d t r`, the `xGy` group
//! form) or junk, with values at the edges (signs, 18/19/20-digit numbers,
//! `i64::MIN`, fractions of a second, group numbers 0/255/256, missing and
//! extra `-` parts, empty values, non-UTF-8 bytes).
//!
//! Checked: no panic; `Ok` or one of the three `TagError`s; an accepted
//! group is 1 ≤ sentence ≤ total; `unix_millis` and `merge_missing` never
//! panic; the same block before a valid sentence (with its checksum right)
//! is either used or counted as a TAG error by the decoder, and never
//! stops the sentence from decoding.
//!
//! Cases: `FUZZ_CASES` / `FUZZ_SECONDS` / `FUZZ_SEED` (see the harness).

#[path = "../../../fuzz/harness.rs"]
mod harness;

use lookout_ais::nmea::checksum;
use lookout_ais::tagblock::TagBlock;
use lookout_ais::{Decoder, DecoderOptions};
use proptest::prelude::*;

const SENTENCE: &str = "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A";

fn check_parse(content: &[u8]) -> Result<(), TestCaseError> {
    match TagBlock::parse(content) {
        Ok(mut tag) => {
            if let Some(g) = tag.group {
                prop_assert!(
                    g.sentence >= 1 && g.sentence <= g.total,
                    "group {:?} from {:?}",
                    g,
                    String::from_utf8_lossy(content)
                );
            }
            let _ = tag.unix_millis();
            let other = tag.clone();
            tag.merge_missing(&other);
            tag.merge_missing(&TagBlock::default());
            let _ = TagBlock::default().unix_millis();
        }
        Err(e) => {
            // A clear reason, printable.
            let why = format!("{e:?}");
            prop_assert!(!why.is_empty());
        }
    }
    Ok(())
}

/// The block in front of a valid sentence, its checksum right: the message
/// still decodes, and a block the parser refuses is counted.
fn check_in_line(content: &[u8]) -> Result<(), TestCaseError> {
    // A backslash or `*` inside would end the block early: a framing
    // matter, covered by the decoder target.
    if content.iter().any(|&c| c == b'\\' || c == b'*') {
        return Ok(());
    }
    let mut line = vec![b'\\'];
    line.extend_from_slice(content);
    line.extend_from_slice(format!("*{:02X}\\", checksum(content)).as_bytes());
    line.extend_from_slice(SENTENCE.as_bytes());
    let mut dec = Decoder::new(DecoderOptions::default());
    let mut got = Vec::new();
    let r = dec.decode_line(&line, |d| got.push(d));
    let parsed = TagBlock::parse(content);
    match &parsed {
        // A group of more than one sentence around a one-sentence message:
        // the decoder may wait for the rest or go by the sentence itself.
        Ok(t) if t.group.is_some_and(|g| g.total > 1) => {
            prop_assert!(got.len() <= 1);
        }
        Ok(t) => {
            prop_assert!(r.is_ok(), "{:?}", r);
            prop_assert_eq!(got.len(), 1);
            prop_assert_eq!(got[0].tag.as_ref().map(|x| &x.source), Some(&t.source));
            prop_assert_eq!(dec.stats().tag_errors, 0);
        }
        Err(_) => {
            prop_assert!(r.is_ok(), "{:?}", r);
            prop_assert_eq!(got.len(), 1);
            prop_assert_eq!(dec.stats().tag_errors, 1);
        }
    }
    Ok(())
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    let edge = prop::sample::select(vec![
        "",
        "0",
        "-0",
        "+1",
        "-",
        "+",
        "1428621738",
        "1428621738000",
        "1428621738.123",
        "1428621738.",
        ".5",
        "1.1234567891",
        "999999999999999999",
        "9999999999999999999",
        "99999999999999999999",
        "-999999999999999999",
        "-9223372036854775808",
        "9223372036854775807",
        "255",
        "256",
        "4294967295",
        "4294967296",
        "1-2-3",
        "0-2-3",
        "3-2-1",
        "1-0-1",
        "1-255-9",
        "255-255-4294967295",
        "256-256-1",
        "1-2",
        "1-2-3-4",
        "1--3",
        "--",
        "a-b-c",
        "b003669710",
        "\u{e9}t\u{e9}",
    ]);
    prop_oneof![
        3 => edge.prop_map(|s| s.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..24),
        1 => "[-+]?[0-9]{0,22}(\\.[0-9]{0,12})?".prop_map(String::into_bytes),
    ]
}

fn key() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::sample::select(vec!["s", "c", "g", "n", "d", "t", "r", "x", "", "G", "1G2", "2G2", "0G1", "3G2", "1G", "G2", "-1G2", "99999999999999999999G2", "1G2G3"])
            .prop_map(|s| s.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..6),
    ]
}

fn field() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => (key(), value()).prop_map(|(mut k, v)| {
            k.push(b':');
            k.extend(v);
            k
        }),
        1 => prop::collection::vec(any::<u8>(), 0..12),
        1 => Just(Vec::new()),
        1 => Just(b"::".to_vec()),
    ]
}

fn block() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(field(), 0..8).prop_map(|fields| fields.join(&b','))
}

#[test]
fn fuzz_tagblock_arbitrary_bytes() {
    harness::fuzz(
        "tagblock_arbitrary_bytes",
        2000,
        prop::collection::vec(any::<u8>(), 0..200),
        |content| {
            check_parse(&content)?;
            check_in_line(&content)
        },
    );
}

#[test]
fn fuzz_tagblock_structured() {
    harness::fuzz("tagblock_structured", 2000, block(), |content| {
        check_parse(&content)?;
        check_in_line(&content)
    });
}
