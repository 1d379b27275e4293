//! Fuzz target (stable harness, fuzz/README.md): the AIS line decoder.
//!
//! Hostile input must never panic, and every line ends in a clear answer:
//! decoded messages or a counted rejection. Three feeds:
//!
//! * arbitrary bytes, split into lines, strict and lax framing;
//! * real lines from `fixtures/ais/*` with byte-level mutations (flips,
//!   inserts of NMEA punctuation and armour characters, deletions,
//!   duplications, splices of two lines, truncations), with the sentence and
//!   TAG block checksums recomputed half of the time so that the mutation
//!   reaches reassembly and the message decoders instead of the checksum;
//! * well-framed sentences around random armoured payloads of every message
//!   type and length (single and multi-sentence, with and without TAG
//!   groups), which exercise the bit-level decoders of all 27 types.
//!
//! Checked on every case: no panic; the reassembly table stays within its
//! bound; the counters add up (every non-blank line is counted, every
//! message is counted); every decoded message renders to gpsd JSON that is
//! a valid JSON object with `class` `AIS` and its type.
//!
//! Cases: `FUZZ_CASES` / `FUZZ_SECONDS` / `FUZZ_SEED` (see the harness).

#[path = "../../../fuzz/harness.rs"]
mod harness;

use lookout_ais::assembler::AssemblerLimits;
use lookout_ais::json::{write_gpsd_json, JsonOptions};
use lookout_ais::nmea::{checksum, FrameOptions};
use lookout_ais::{Decoded, Decoder, DecoderOptions, LineContext};
use proptest::prelude::*;
use proptest::sample::Index;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

const MAX_PENDING: usize = 8;

/// Messages decoded by each target, so that a target that stopped reaching
/// the decoders (a generator gone wrong) fails instead of passing idle.
static DECODED_MUTATED: AtomicU64 = AtomicU64::new(0);
static DECODED_RANDOM: AtomicU64 = AtomicU64::new(0);

/// Every sentence-looking line of the real recordings in `fixtures/ais`.
fn fixture_lines() -> &'static [Vec<u8>] {
    static LINES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    LINES.get_or_init(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/ais");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .expect("fixtures/ais")
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e != "md"))
            .collect();
        files.sort();
        let mut lines = Vec::new();
        for f in files {
            let text = std::fs::read(&f).unwrap();
            for l in text.split(|&c| c == b'\n') {
                let l = l.strip_suffix(b"\r").unwrap_or(l);
                if l.windows(2).any(|w| w == b"VD") && !l.starts_with(b"#") {
                    lines.push(l.to_vec());
                }
            }
        }
        assert!(lines.len() > 1000, "{} fixture lines", lines.len());
        lines
    })
}

/// Bytes a mutation inserts: NMEA punctuation, digits, armour and junk.
const INTERESTING: &[u8] =
    b"!\\,*$:-.0123456789ABCDEFGHIJKLMNOPQRSTUVW`abcdefghijklmnopqrstuvwxyz\r\t \x00\xff\x7f#gGcsn";

#[derive(Debug, Clone)]
enum Mutation {
    Flip(Index, u8),
    Insert(Index, Index),
    Delete(Index, u8),
    Duplicate(Index, u8),
    Truncate(Index),
    Splice(Index, Index, Index),
    /// Replace a comma-separated field with an interesting value.
    Field(Index, &'static str),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let fields = prop::sample::select(vec![
        "",
        "0",
        "1",
        "2",
        "9",
        "10",
        "99",
        "-1",
        "255",
        "256",
        "A",
        "B",
        "AB",
        "1G2:5",
        "g:1-2-3",
        "c:99999999999999999999",
        "c:-9223372036854775808",
        "c:1.5",
        "s:",
        "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ",
        "w",
        "?",
        "*",
        "\\",
        "!",
    ]);
    prop_oneof![
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<Index>(), any::<Index>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<Index>(), 1u8..12).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<Index>(), 1u8..40).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), any::<Index>(), any::<Index>())
            .prop_map(|(a, o, b)| Mutation::Splice(a, o, b)),
        (any::<Index>(), fields).prop_map(|(i, f)| Mutation::Field(i, f)),
    ]
}

fn apply(line: &mut Vec<u8>, m: &Mutation) {
    let n = line.len();
    match m {
        Mutation::Flip(i, b) if n > 0 => {
            let i = i.index(n);
            line[i] ^= b | 1;
        }
        Mutation::Insert(i, b) => {
            let c = INTERESTING[b.index(INTERESTING.len())];
            line.insert(i.index(n + 1), c);
        }
        Mutation::Delete(i, k) if n > 0 => {
            let i = i.index(n);
            line.drain(i..(i + *k as usize).min(n));
        }
        Mutation::Duplicate(i, k) if n > 0 => {
            let i = i.index(n);
            let piece = line[i..(i + *k as usize).min(n)].to_vec();
            line.splice(i..i, piece);
        }
        Mutation::Truncate(i) => line.truncate(i.index(n + 1)),
        Mutation::Splice(at, other, from) => {
            let lines = fixture_lines();
            let o = &lines[other.index(lines.len())];
            let tail = &o[from.index(o.len() + 1)..];
            line.truncate(at.index(n + 1));
            line.extend_from_slice(tail);
        }
        Mutation::Field(i, value) => {
            let commas: Vec<usize> = line
                .iter()
                .enumerate()
                .filter(|(_, &c)| c == b',')
                .map(|(k, _)| k)
                .collect();
            if commas.len() >= 2 {
                let k = i.index(commas.len() - 1);
                line.splice(commas[k] + 1..commas[k + 1], value.bytes());
            }
        }
        _ => {}
    }
}

/// Recompute the TAG block and sentence checksums of a (mutated) line, so
/// the mutation gets past framing.
fn fix_checksums(line: &mut [u8]) {
    let mut from = 0;
    if line.first() == Some(&b'\\') {
        if let Some(end) = line[1..].iter().position(|&c| c == b'\\').map(|p| p + 1) {
            if let Some(star) = line[1..end].iter().rposition(|&c| c == b'*') {
                let star = star + 1;
                if end >= star + 3 {
                    let sum = checksum(&line[1..star]);
                    line[star + 1..star + 3].copy_from_slice(format!("{sum:02X}").as_bytes());
                }
            }
            from = end + 1;
        }
    }
    let Some(bang) = line[from..]
        .iter()
        .position(|&c| c == b'!')
        .map(|p| p + from)
    else {
        return;
    };
    if let Some(star) = line[bang..]
        .iter()
        .rposition(|&c| c == b'*')
        .map(|p| p + bang)
    {
        if line.len() >= star + 3 {
            let sum = checksum(&line[bang + 1..star]);
            line[star + 1..star + 3].copy_from_slice(format!("{sum:02X}").as_bytes());
        }
    }
}

fn decoder(lax: bool) -> Decoder {
    Decoder::new(DecoderOptions {
        frame: FrameOptions {
            verify_checksum: !lax,
            allow_missing_checksum: lax,
        },
        assembler: AssemblerLimits {
            max_pending: MAX_PENDING,
            max_age_lines: 64,
            max_age_ms: 1000,
        },
        keep_payload: lax,
    })
}

/// A decoded message as gpsd JSON must be one valid JSON object.
fn check_message(d: &Decoded, out: &mut Vec<u8>) -> Result<(), TestCaseError> {
    out.clear();
    write_gpsd_json(out, d, &JsonOptions::default());
    let v: serde_json::Value = serde_json::from_slice(out).map_err(|e| {
        TestCaseError::fail(format!(
            "invalid JSON ({e}) for {d:?}: {}",
            String::from_utf8_lossy(out)
        ))
    })?;
    prop_assert_eq!(&v["class"], "AIS", "{}", v);
    prop_assert_eq!(v["type"].as_u64(), Some(d.message.msg_type as u64), "{}", v);
    prop_assert!((1..=27).contains(&d.message.msg_type), "{:?}", d);
    prop_assert!(d.message.mmsi < 1 << 30, "{:?}", d);
    let _ = d.time_ms(Some(0));
    Ok(())
}

/// Feed the lines to one decoder; check bounds, counters and every message.
fn run_lines<'a>(
    lines: impl IntoIterator<Item = &'a [u8]>,
    lax: bool,
    decoded: Option<&AtomicU64>,
) -> Result<(), TestCaseError> {
    let mut dec = decoder(lax);
    let mut out = Vec::new();
    let mut messages = 0u64;
    let mut counted_lines = 0u64;
    let mut failure = Ok(());
    for (i, line) in lines.into_iter().enumerate() {
        let ctx = LineContext {
            source: (i % 2) as u32,
            received_ms: Some(1_700_000_000_000 + i as i64 * 100),
        };
        let before = dec.stats().clone();
        let r = dec.decode_line_with(line, &ctx, |d| {
            messages += 1;
            if failure.is_ok() {
                failure = check_message(&d, &mut out);
            }
        });
        failure.clone()?;
        if !line.iter().all(u8::is_ascii_whitespace) {
            counted_lines += 1;
        }
        let after = dec.stats();
        if r.is_err() {
            prop_assert!(
                after.total_errors() > before.total_errors() || after.non_ais > before.non_ais,
                "a rejection that was not counted: {:?} for {:?}",
                r,
                String::from_utf8_lossy(line)
            );
        }
        prop_assert!(dec.pending_groups() <= MAX_PENDING);
    }
    prop_assert_eq!(dec.stats().lines, counted_lines);
    prop_assert_eq!(dec.stats().messages, messages);
    let _ = dec.stats().error_counts().count();
    if let Some(n) = decoded {
        n.fetch_add(messages, Ordering::Relaxed);
    }
    Ok(())
}

/// A 6-bit armour character for `v` (0..64).
fn armour(v: u8) -> u8 {
    let v = v & 63;
    if v < 40 {
        v + 48
    } else {
        v + 56
    }
}

/// A well-framed message around a random payload: one sentence or several,
/// maybe with TAG blocks carrying a group.
#[derive(Debug, Clone)]
struct Framed {
    lines: Vec<Vec<u8>>,
}

fn framed() -> impl Strategy<Value = Framed> {
    (
        0u8..28,
        prop::collection::vec(any::<u8>(), 0..130),
        0u8..8,
        1usize..5,
        any::<bool>(),
        any::<bool>(),
        prop::sample::select(vec!["AIVDM", "AIVDO", "BSVDM", "ABVDM"]),
        prop::sample::select(vec!["A", "B", "", "1", "2"]),
    )
        .prop_map(
            |(msg_type, bits, fill, parts, tag, shuffle, head, channel)| {
                let mut payload: Vec<u8> = Vec::with_capacity(bits.len() + 1);
                payload.push(armour(msg_type));
                payload.extend(bits.iter().map(|&b| armour(b)));
                let parts = parts.min(payload.len()).max(1);
                let chunk = payload.len().div_ceil(parts);
                let pieces: Vec<&[u8]> = payload.chunks(chunk.max(1)).collect();
                let total = pieces.len();
                let seq = if total > 1 { "7" } else { "" };
                let mut lines: Vec<Vec<u8>> = pieces
                    .iter()
                    .enumerate()
                    .map(|(k, p)| {
                        let f = if k + 1 == total { fill } else { 0 };
                        let body = format!(
                            "{head},{total},{},{seq},{channel},{},{f}",
                            k + 1,
                            String::from_utf8_lossy(p)
                        );
                        let mut line = format!("!{body}*{:02X}", checksum(body.as_bytes()));
                        if tag {
                            let t = if k == 0 {
                                format!("g:{}-{total}-42,s:fuzz,c:1700000000", k + 1)
                            } else {
                                format!("g:{}-{total}-42", k + 1)
                            };
                            line = format!("\\{t}*{:02X}\\{line}", checksum(t.as_bytes()));
                        }
                        line.into_bytes()
                    })
                    .collect();
                if shuffle {
                    lines.reverse();
                }
                Framed { lines }
            },
        )
}

#[test]
fn fuzz_decode_arbitrary_bytes() {
    harness::fuzz(
        "decode_arbitrary_bytes",
        2000,
        (prop::collection::vec(any::<u8>(), 0..600), any::<bool>()),
        |(data, lax)| {
            run_lines(data.split(|&c| c == b'\n'), lax, None)?;
            // decode_buffer on the same bytes, in one call.
            let mut dec = decoder(lax);
            let mut n = 0u64;
            dec.decode_buffer(&data, |_| n += 1);
            prop_assert_eq!(dec.stats().messages, n);
            Ok(())
        },
    );
}

#[test]
fn fuzz_decode_mutated_fixture_lines() {
    let lines = (
        any::<Index>(),
        prop::collection::vec(mutation(), 0..5),
        any::<bool>(),
    );
    harness::fuzz(
        "decode_mutated_fixture_lines",
        1000,
        (prop::collection::vec(lines, 1..8), any::<bool>()),
        |(picks, lax)| {
            let all = fixture_lines();
            let lines: Vec<Vec<u8>> = picks
                .iter()
                .map(|(pick, muts, fix)| {
                    let mut l = all[pick.index(all.len())].clone();
                    for m in muts {
                        apply(&mut l, m);
                    }
                    if *fix {
                        fix_checksums(&mut l);
                    }
                    l
                })
                .collect();
            run_lines(lines.iter().map(Vec::as_slice), lax, Some(&DECODED_MUTATED))
        },
    );
    assert!(
        DECODED_MUTATED.load(Ordering::Relaxed) > 0,
        "nothing decoded"
    );
}

#[test]
fn fuzz_decode_random_payloads() {
    harness::fuzz(
        "decode_random_payloads",
        2000,
        (prop::collection::vec(framed(), 1..5), any::<bool>()),
        |(messages, interleave)| {
            let mut lines: Vec<Vec<u8>> = Vec::new();
            if interleave {
                let longest = messages.iter().map(|m| m.lines.len()).max().unwrap_or(0);
                for k in 0..longest {
                    for m in &messages {
                        lines.extend(m.lines.get(k).cloned());
                    }
                }
            } else {
                lines.extend(messages.iter().flat_map(|m| m.lines.iter().cloned()));
            }
            run_lines(
                lines.iter().map(Vec::as_slice),
                false,
                Some(&DECODED_RANDOM),
            )
        },
    );
    assert!(
        DECODED_RANDOM.load(Ordering::Relaxed) > 0,
        "nothing decoded"
    );
}
