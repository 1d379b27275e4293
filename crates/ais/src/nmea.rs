//! NMEA 0183 framing of `!xxVDM` / `!xxVDO` sentences.
//!
//! [`parse_sentence`] finds one AIS sentence in a line and checks it, without
//! allocating: it tolerates what real feeds send (CR/LF, junk before `!`,
//! USCG-style fields after the checksum, an extra field before the fill bits,
//! an empty or numeric radio channel) and reports everything else as a
//! [`FrameError`]. The optional NMEA 4.10 TAG block in front of the sentence is
//! returned raw and parsed by [`crate::tagblock`].
//!
//! ```
//! use lookout_ais::nmea::{parse_sentence, FrameOptions};
//! let line = b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A\r\n";
//! let (s, _rest) = parse_sentence(line, &FrameOptions::default()).unwrap();
//! assert_eq!(&s.talker, b"AI");
//! assert_eq!(s.channel, Some(b'A'));
//! assert_eq!(s.fill_bits, 0);
//! ```

use memchr::{memchr, memchr2};

/// How strict framing is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameOptions {
    /// Reject sentences whose checksum does not match (default true).
    pub verify_checksum: bool,
    /// Accept sentences that carry no `*hh` checksum at all (default false).
    pub allow_missing_checksum: bool,
}

impl Default for FrameOptions {
    fn default() -> Self {
        FrameOptions {
            verify_checksum: true,
            allow_missing_checksum: false,
        }
    }
}

/// One framed AIS sentence, borrowing from the input line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sentence<'a> {
    /// Raw TAG block content between the backslashes, without its checksum
    /// (`s:…,c:…`), if the line had one. Its checksum was verified.
    pub tag: Option<&'a [u8]>,
    /// TAG block with a checksum that did not verify (content kept raw so the
    /// caller can count it).
    pub tag_invalid: bool,
    /// Talker id: `AI`, `AB`, `BS`, `SA`, …
    pub talker: [u8; 2],
    /// `VDO`: the receiver's own ship.
    pub own_ship: bool,
    /// Number of sentences in the message (1–9).
    pub fragment_count: u8,
    /// This sentence's number (1-based).
    pub fragment_number: u8,
    /// Sequential message id (0–9), `None` when the field is empty.
    pub sequence_id: Option<u8>,
    /// Radio channel as sent (`A`, `B`, `1`, `2`), `None` when empty.
    pub channel: Option<u8>,
    /// Armoured payload.
    pub payload: &'a [u8],
    /// Fill bits (0–5) of this sentence.
    pub fill_bits: u8,
}

/// Why a line is not a usable AIS sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameError {
    /// No `!` sentence in the line (blank, comment, `$` sentence, junk).
    NotAis,
    /// `!` sentence but not `VDM`/`VDO`.
    UnsupportedSentence,
    /// Fewer fields than a VDM sentence has.
    MissingFields,
    /// No `*hh` checksum, and the caller did not allow that.
    MissingChecksum,
    /// `*` not followed by two hex digits.
    MalformedChecksum,
    /// Checksum does not match the sentence.
    BadChecksum,
    /// Fragment count/number/sequence id outside 1–9 / 1–count / 0–9.
    BadFragmentFields,
    /// Fill bits field is not 0–5.
    BadFillBits,
    /// Empty payload.
    EmptyPayload,
    /// A TAG block that is not terminated by a second `\`.
    UnterminatedTagBlock,
}

impl FrameError {
    /// A short stable name, used in statistics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            FrameError::NotAis => "not_ais",
            FrameError::UnsupportedSentence => "unsupported_sentence",
            FrameError::MissingFields => "missing_fields",
            FrameError::MissingChecksum => "missing_checksum",
            FrameError::MalformedChecksum => "malformed_checksum",
            FrameError::BadChecksum => "bad_checksum",
            FrameError::BadFragmentFields => "bad_fragment_fields",
            FrameError::BadFillBits => "bad_fill_bits",
            FrameError::EmptyPayload => "empty_payload",
            FrameError::UnterminatedTagBlock => "unterminated_tag_block",
        }
    }
}

#[inline(always)]
fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// XOR of all bytes, the NMEA checksum.
#[inline]
pub fn checksum(bytes: &[u8]) -> u8 {
    // Eight bytes at a time: XOR is associative, fold the lanes at the end.
    let mut chunks = bytes.chunks_exact(8);
    let mut acc = 0u64;
    for c in &mut chunks {
        acc ^= u64::from_le_bytes(c.try_into().unwrap());
    }
    let mut x = acc ^ (acc >> 32);
    x ^= x >> 16;
    x ^= x >> 8;
    let mut sum = x as u8;
    for &b in chunks.remainder() {
        sum ^= b;
    }
    sum
}

/// Parse two hex digits at `s[0..2]`.
#[inline]
fn hex2(s: &[u8]) -> Option<u8> {
    match s {
        [a, b, ..] => Some(hex_val(*a)? << 4 | hex_val(*b)?),
        _ => None,
    }
}

/// Split a TAG block `\content*hh\` at the start of `line`; returns the
/// content, whether its checksum verified, and the rest of the line.
fn split_tag_block(line: &[u8]) -> Result<(&[u8], bool, &[u8]), FrameError> {
    debug_assert_eq!(line.first(), Some(&b'\\'));
    let end = memchr(b'\\', &line[1..]).ok_or(FrameError::UnterminatedTagBlock)? + 1;
    let block = &line[1..end];
    let rest = &line[end + 1..];
    match memchr(b'*', block) {
        Some(star) => {
            let content = &block[..star];
            let ok = hex2(&block[star + 1..]).is_some_and(|c| c == checksum(content))
                && block.len() == star + 3;
            Ok((content, ok, rest))
        }
        None => Ok((block, false, rest)),
    }
}

#[inline(always)]
fn small_digit(f: &[u8]) -> Option<u8> {
    match f {
        [d @ b'0'..=b'9'] => Some(d - b'0'),
        _ => None,
    }
}

/// Index of the first `c` in `s` at or after `from`, by a plain loop: the
/// fields it is used on are a few bytes long, where a vectorised search
/// costs more than it saves.
#[inline(always)]
fn find_short(s: &[u8], from: usize, c: u8) -> Option<usize> {
    s.get(from..)?
        .iter()
        .position(|&b| b == c)
        .map(|i| from + i)
}

/// Find and check the first AIS sentence in `line`.
///
/// Returns the sentence and the unread rest of the line: when a sender packs
/// several sentences in one line, the rest starts with the next `!` or `\`
/// and can be passed back in.
pub fn parse_sentence<'a>(
    line: &'a [u8],
    opts: &FrameOptions,
) -> Result<(Sentence<'a>, &'a [u8]), FrameError> {
    // Skip junk up to the first TAG block or sentence start (most lines
    // start with one). A line whose first non-blank byte is `#` is a
    // comment, even when it quotes a sentence.
    let start = match line.first() {
        Some(b'!' | b'\\') => 0,
        _ => {
            if line.iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'#') {
                return Err(FrameError::NotAis);
            }
            memchr2(b'!', b'\\', line).ok_or(FrameError::NotAis)?
        }
    };
    let mut s = &line[start..];
    let mut tag = None;
    let mut tag_invalid = false;
    if s[0] == b'\\' {
        let (content, ok, rest) = split_tag_block(s)?;
        if ok {
            tag = Some(content);
        } else {
            tag_invalid = true;
        }
        let bang = memchr(b'!', rest).ok_or(FrameError::NotAis)?;
        s = &rest[bang..];
    }
    // `b` is everything after '!': the checksum covers b[..star].
    let b = &s[1..];
    if b.len() < 6 || b[5] != b',' {
        return Err(FrameError::UnsupportedSentence);
    }
    let own_ship = match &b[2..5] {
        b"VDM" => false,
        b"VDO" => true,
        _ => return Err(FrameError::UnsupportedSentence),
    };
    let talker = [b[0], b[1]];

    // Four short fields, then the payload.
    let mut fields = [(0usize, 0usize); 4];
    let mut at = 6;
    for f in &mut fields {
        let comma = find_short(b, at, b',').ok_or(FrameError::MissingFields)?;
        *f = (at, comma);
        at = comma + 1;
    }
    let payload_end = memchr(b',', &b[at..])
        .map(|i| at + i)
        .ok_or(FrameError::MissingFields)?;
    let payload = &b[at..payload_end];

    // After the payload: the fill bits (possibly preceded by an extra
    // receiver-specific field), then `*hh`, then anything (USCG fields).
    let (body_end, rest_after) = match find_short(b, payload_end, b'*') {
        Some(star) => {
            let sum = hex2(&b[star + 1..]).ok_or(FrameError::MalformedChecksum)?;
            if opts.verify_checksum && sum != checksum(&b[..star]) {
                return Err(FrameError::BadChecksum);
            }
            (star, &b[star + 3..])
        }
        None if opts.allow_missing_checksum => {
            let end = b
                .iter()
                .rposition(|c| !c.is_ascii_whitespace())
                .map_or(0, |p| p + 1);
            (end.max(payload_end), &b[b.len()..])
        }
        None => return Err(FrameError::MissingChecksum),
    };
    let tail = &b[payload_end + 1..body_end];
    let fill = match memchr::memrchr(b',', tail) {
        Some(i) => &tail[i + 1..],
        None => tail,
    };
    let field = |k: usize| &b[fields[k].0..fields[k].1];

    let fragment_count = small_digit(field(0)).ok_or(FrameError::BadFragmentFields)?;
    let fragment_number = small_digit(field(1)).ok_or(FrameError::BadFragmentFields)?;
    if fragment_count == 0 || fragment_number == 0 || fragment_number > fragment_count {
        return Err(FrameError::BadFragmentFields);
    }
    let sequence_id = match field(2) {
        [] => None,
        seq => Some(small_digit(seq).ok_or(FrameError::BadFragmentFields)?),
    };
    let channel = match field(3) {
        [] => None,
        [c] => Some(*c),
        _ => return Err(FrameError::BadFragmentFields),
    };
    let fill_bits = match fill {
        [] => 0,
        _ => match small_digit(fill) {
            Some(d) if d <= 5 => d,
            _ => return Err(FrameError::BadFillBits),
        },
    };
    if payload.is_empty() {
        return Err(FrameError::EmptyPayload);
    }
    // Another sentence packed on the same line?
    let next = match rest_after.iter().position(|&c| c == b'!' || c == b'\\') {
        Some(i) => &rest_after[i..],
        None => &rest_after[rest_after.len()..],
    };
    Ok((
        Sentence {
            tag,
            tag_invalid,
            talker,
            own_ship,
            fragment_count,
            fragment_number,
            sequence_id,
            channel,
            payload,
            fill_bits,
        },
        next,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Sentence<'_>, FrameError> {
        parse_sentence(line.as_bytes(), &FrameOptions::default()).map(|(s, _)| s)
    }

    #[test]
    fn checksum_matches_reference_sentences() {
        assert_eq!(
            checksum(b"AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0"),
            0x4A
        );
        assert_eq!(checksum(b""), 0);
        assert_eq!(checksum(b"A"), b'A');
    }

    #[test]
    fn any_talker_and_vdo() {
        for t in ["AI", "AB", "BS", "SA", "AN", "B2"] {
            let body = format!("{t}VDO,1,1,,B,15RTgt0PAso;90TKcjM8h6g208CQ,0");
            let line = format!("!{body}*{:02X}", checksum(body.as_bytes()));
            let s = parse(&line).unwrap();
            assert_eq!(&s.talker, t.as_bytes());
            assert!(s.own_ship);
        }
    }

    #[test]
    fn checksum_in_either_case_and_enforced() {
        let body = "AIVDM,1,1,,A,13aEOK?P00PD2wVMdLDRhgvL289?,0";
        let sum = checksum(body.as_bytes());
        assert!(parse(&format!("!{body}*{sum:02x}")).is_ok());
        assert!(parse(&format!("!{body}*{sum:02X}")).is_ok());
        assert_eq!(
            parse(&format!("!{body}*{:02X}", sum ^ 1)),
            Err(FrameError::BadChecksum)
        );
        assert_eq!(parse(&format!("!{body}")), Err(FrameError::MissingChecksum));
        assert_eq!(
            parse(&format!("!{body}*Z1")),
            Err(FrameError::MalformedChecksum)
        );
        let lax = FrameOptions {
            verify_checksum: false,
            allow_missing_checksum: true,
        };
        assert!(parse_sentence(format!("!{body}").as_bytes(), &lax).is_ok());
        assert!(parse_sentence(format!("!{body}*00").as_bytes(), &lax).is_ok());
    }

    #[test]
    fn tolerates_real_feed_framing() {
        // CRLF, junk before '!', USCG trailing fields, extra field before fill.
        let s = parse("!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A\r\n").unwrap();
        assert_eq!(s.payload, b"15RTgt0PAso;90TKcjM8h6g208CQ");
        let s =
            parse("2020-01-01 12:00:00 !AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A").unwrap();
        assert_eq!(s.channel, Some(b'A'));
        let s = parse("!AIVDM,2,2,6,A,3OLc=UCRp,0*4A,b003660465,1272412827").unwrap();
        assert_eq!(s.fragment_number, 2);
        let s = parse("!AIVDM,1,1,1,,13aI8e?P00PGpU:NR6s00?vT2000,0,0*1C").unwrap();
        assert_eq!(s.channel, None);
        assert_eq!(s.sequence_id, Some(1));
        assert_eq!(s.fill_bits, 0);
    }

    #[test]
    fn numeric_channels_are_kept() {
        let body = "AIVDM,1,1,,2,15RTgt0PAso;90TKcjM8h6g208CQ,0";
        let line = format!("!{body}*{:02X}", checksum(body.as_bytes()));
        assert_eq!(parse(&line).unwrap().channel, Some(b'2'));
    }

    #[test]
    fn tag_block_is_split_and_verified() {
        let s =
            parse(r"\s:2573238,c:1733782034*0A\!BSVDM,1,1,,A,13o4g`00000I2ENRH4g83S0L088C,0*3F")
                .unwrap();
        assert_eq!(s.tag, Some(&b"s:2573238,c:1733782034"[..]));
        assert!(!s.tag_invalid);
        let s =
            parse(r"\s:2573238,c:1733782034*0B\!BSVDM,1,1,,A,13o4g`00000I2ENRH4g83S0L088C,0*3F")
                .unwrap();
        assert_eq!(s.tag, None);
        assert!(s.tag_invalid);
        assert_eq!(
            parse(r"\s:2573238,c:1733782034*0A!BSVDM,1,1,,A,13o4g`00000I2ENRH4g83S0L088C,0*3F"),
            Err(FrameError::UnterminatedTagBlock)
        );
    }

    #[test]
    fn several_sentences_in_one_line() {
        let a = "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A";
        let line = format!("{a}{a}");
        let (_, rest) = parse_sentence(line.as_bytes(), &FrameOptions::default()).unwrap();
        assert_eq!(rest, a.as_bytes());
    }

    #[test]
    fn rejects_bad_fields_cleanly() {
        let mk = |body: &str| format!("!{body}*{:02X}", checksum(body.as_bytes()));
        assert_eq!(
            parse(&mk("AIVDM,1,2,,A,15RT,0")),
            Err(FrameError::BadFragmentFields)
        );
        assert_eq!(
            parse(&mk("AIVDM,0,0,,A,15RT,0")),
            Err(FrameError::BadFragmentFields)
        );
        assert_eq!(
            parse(&mk("AIVDM,1,1,,A,15RT,6")),
            Err(FrameError::BadFillBits)
        );
        assert_eq!(parse(&mk("AIVDM,1,1,,A,,0")), Err(FrameError::EmptyPayload));
        assert_eq!(parse(&mk("AIVDM,1,1")), Err(FrameError::MissingFields));
        assert_eq!(
            parse(&mk("GPGGA,1,1")),
            Err(FrameError::UnsupportedSentence)
        );
        assert_eq!(parse("$GPGGA,1,2*00"), Err(FrameError::NotAis));
        assert_eq!(parse(""), Err(FrameError::NotAis));
        assert_eq!(
            parse("# !AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A"),
            Err(FrameError::NotAis)
        );
    }
}
