//! The cheap part of the scan: reading an archive file line by line without
//! copying, and looking at a line (its TAG time, the sentence's fragment
//! count and message type, the MMSI) without decoding it.
//!
//! These read the archive format of `docs/recording.md` directly; anything
//! that does not look like it is left to the decoder or skipped.

use std::io::Read;

use lookout_ais::nmea::checksum;

/// Longest line read (as `ingest::archive_reader`); longer ones are skipped.
pub const MAX_LINE: usize = ingest::archive_reader::MAX_ARCHIVE_LINE;

/// What reading one file gave.
#[derive(Debug, Default)]
pub struct ReadOutcome {
    pub bytes: u64,
    pub lines: u64,
    pub truncated: u64,
    pub overlong: u64,
    pub error: Option<std::io::Error>,
}

/// Call `line` for every whole line of `r` (without `\n` or `\r\n`). A last
/// line without its newline is not whole (the recorder was killed while
/// writing it) and is counted as truncated; a read error ends the file
/// with what was read before it.
pub fn for_each_line(
    mut r: impl Read,
    buf: &mut Vec<u8>,
    mut line: impl FnMut(&[u8]),
) -> ReadOutcome {
    const CHUNK: usize = 1 << 20;
    let mut out = ReadOutcome::default();
    buf.clear();
    buf.resize(CHUNK + MAX_LINE, 0);
    // `buf[..filled]` holds unread bytes; `skipping` = inside an overlong line.
    let mut filled = 0usize;
    let mut skipping = false;
    loop {
        if filled == buf.len() {
            // No newline in a full buffer: the line is overlong.
            skipping = true;
            filled = 0;
        }
        let n = match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                out.error = Some(e);
                break;
            }
        };
        out.bytes += n as u64;
        let end = filled + n;
        let mut start = 0usize;
        for nl in memchr::memchr_iter(b'\n', &buf[filled..end]) {
            let nl = filled + nl;
            let mut l = &buf[start..nl];
            start = nl + 1;
            if skipping {
                skipping = false;
                out.overlong += 1;
                continue;
            }
            if l.len() > MAX_LINE {
                out.overlong += 1;
                continue;
            }
            if l.last() == Some(&b'\r') {
                l = &l[..l.len() - 1];
            }
            out.lines += 1;
            line(l);
        }
        if skipping {
            // Still inside an overlong line: drop what was read of it.
            filled = 0;
            continue;
        }
        buf.copy_within(start..end, 0);
        filled = end - start;
        if filled > MAX_LINE {
            skipping = true;
            filled = 0;
        }
    }
    if filled > 0 || skipping {
        out.truncated += 1;
    }
    out
}

#[inline]
fn digits(v: &[u8]) -> Option<i64> {
    if v.is_empty() || v.len() > 18 {
        return None;
    }
    let mut n = 0i64;
    for &c in v {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(c - b'0');
    }
    Some(n)
}

#[inline]
fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// A line's time and where its sentence starts: the time is Lookout's
/// receive time (the last `rt:`, ms) if present, else the TAG `c:` time
/// (seconds; 10^11 and above taken as ms) — the rule of
/// `ingest::archive::ArchiveLine`. A TAG block counts only if it starts the
/// line and its checksum verifies.
#[inline]
pub fn line_time(line: &[u8]) -> (Option<i64>, usize) {
    if line.first() != Some(&b'\\') {
        return (None, 0);
    }
    let Some(end) = memchr::memchr(b'\\', &line[1..]).map(|i| i + 1) else {
        return (None, 0);
    };
    let block = &line[1..end];
    let Some(star) = memchr::memrchr(b'*', block) else {
        return (None, 0);
    };
    if block.len() != star + 3 {
        return (None, 0);
    }
    let content = &block[..star];
    match (hex(block[star + 1]), hex(block[star + 2])) {
        (Some(a), Some(b)) if (a << 4 | b) == checksum(content) => {}
        _ => return (None, 0),
    }
    let (mut rt, mut c) = (None, None);
    for f in content.split(|&b| b == b',') {
        if let Some(v) = f.strip_prefix(b"rt:") {
            rt = digits(v).or(rt);
        } else if let Some(v) = f.strip_prefix(b"c:") {
            c = c.or_else(|| digits(v));
        }
    }
    let t = rt.or_else(|| c.map(|s| if s >= 100_000_000_000 { s } else { s * 1000 }));
    (t, end + 1)
}

/// The parts of an AIS sentence the scan decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentenceHead<'a> {
    /// Total fragments of the message (1 for a single sentence).
    pub fragments: u8,
    /// This fragment's number.
    pub fragment: u8,
    pub payload: &'a [u8],
}

/// Read `!xxVDM,count,number,seq,channel,payload,...` without checking
/// more than that; `None` for anything else (GNSS `$` sentences, junk).
#[inline]
pub fn sentence_head(s: &[u8]) -> Option<SentenceHead<'_>> {
    if s.first() != Some(&b'!') {
        return None;
    }
    let mut commas = memchr::memchr_iter(b',', s);
    let c0 = commas.next()?;
    let c1 = commas.next()?;
    let c2 = commas.next()?;
    let _c3 = commas.next()?;
    let c4 = commas.next()?;
    let c5 = commas.next()?;
    let num = |v: &[u8]| -> Option<u8> {
        match v {
            [d] if d.is_ascii_digit() => Some(d - b'0'),
            _ => None,
        }
    };
    Some(SentenceHead {
        fragments: num(&s[c0 + 1..c1])?,
        fragment: num(&s[c1 + 1..c2])?,
        payload: &s[c4 + 1..c5],
    })
}

#[inline]
fn sixbit(c: u8) -> Option<u8> {
    let v = c.checked_sub(48)?;
    match v {
        0..=39 => Some(v),
        48..=71 => Some(v - 8),
        _ => None,
    }
}

/// Message type from the first payload character.
#[inline]
pub fn message_type(payload: &[u8]) -> Option<u8> {
    sixbit(*payload.first()?)
}

/// MMSI (bits 8–37) from the first seven payload characters.
#[inline]
pub fn peek_mmsi(payload: &[u8]) -> Option<u32> {
    if payload.len() < 7 {
        return None;
    }
    let mut acc = 0u64;
    for &c in &payload[1..7] {
        acc = acc << 6 | u64::from(sixbit(c)?);
    }
    Some(((acc >> 4) & 0x3FFF_FFFF) as u32)
}

/// `width` bits (≤ 32) from bit `start` of the armoured payload, as an
/// unsigned number; `None` when the payload is too short or not 6-bit text.
#[inline]
fn payload_bits(payload: &[u8], start: usize, width: usize) -> Option<u64> {
    let first = start / 6;
    let last = (start + width - 1) / 6;
    let chars = payload.get(first..=last)?;
    let mut acc = 0u64;
    for &c in chars {
        acc = acc << 6 | u64::from(sixbit(c)?);
    }
    let total = chars.len() * 6;
    let shift = total - (start - first * 6) - width;
    Some((acc >> shift) & ((1u64 << width) - 1))
}

#[inline]
fn signed(v: u64, width: usize) -> i64 {
    let shift = 64 - width;
    ((v << shift) as i64) >> shift
}

/// Position (lat, lon in degrees) of a vessel position report, read from
/// the payload without decoding it, to rule out reports far from the area
/// before the decoder runs. Types 1–3, 9, 18, 19 and 27; `None` for other
/// types or a payload too short. "Not available" comes out as 91/181°,
/// outside any area, as the decoder would also give no position.
#[inline]
pub fn peek_position(msg_type: u8, payload: &[u8]) -> Option<(f64, f64)> {
    let (lon_at, lat_at, lon_w, lat_w, scale) = match msg_type {
        1..=3 | 9 => (61, 89, 28, 27, 600_000.0),
        18 | 19 => (57, 85, 28, 27, 600_000.0),
        27 => (44, 62, 18, 17, 600.0),
        _ => return None,
    };
    let lon = signed(payload_bits(payload, lon_at, lon_w)?, lon_w) as f64 / scale;
    let lat = signed(payload_bits(payload, lat_at, lat_w)?, lat_w) as f64 / scale;
    Some((lat, lon))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_from_rt_else_c_and_only_from_a_valid_tag() {
        let mut l = Vec::new();
        ingest::archive::append_archive_line(
            &mut l,
            b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A",
            "n",
            1_733_782_034_123,
        );
        l.pop();
        let (t, start) = line_time(&l);
        assert_eq!(t, Some(1_733_782_034_123));
        assert_eq!(
            &l[start..],
            b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A"
        );
        let foreign = b"\\s:2573238,c:1733782034*0A\\!BSVDM,1,1,,A,1,0*00";
        assert_eq!(line_time(foreign).0, Some(1_733_782_034_000));
        let bad = b"\\s:2573238,c:1733782034*0B\\!BSVDM,1,1,,A,1,0*00";
        assert_eq!(line_time(bad), (None, 0));
        assert_eq!(line_time(b"!AIVDM,1,1,,A,1,0*00"), (None, 0));
        assert_eq!(line_time(b"\\c:1*"), (None, 0));
    }

    #[test]
    fn sentence_type_and_mmsi_without_decoding() {
        let s = b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A";
        let h = sentence_head(s).unwrap();
        assert_eq!((h.fragments, h.fragment), (1, 1));
        assert_eq!(message_type(h.payload), Some(1));
        assert_eq!(peek_mmsi(h.payload), Some(371_798_000));
        let b = sentence_head(
            b"!AIVDM,2,1,3,B,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C",
        )
        .unwrap();
        assert_eq!((b.fragments, b.fragment), (2, 1));
        assert_eq!(message_type(b.payload), Some(5));
        assert_eq!(message_type(b"B"), Some(18));
        assert_eq!(message_type(b"H"), Some(24));
        assert!(sentence_head(b"$GPRMC,1,2,3,4,5,6").is_none());
        assert!(sentence_head(b"!AIVDM,1").is_none());
        assert!(peek_mmsi(b"1~~").is_none());
    }

    #[test]
    fn peeked_positions_match_the_decoder() {
        // Sentences of each position type from fixtures/ais.
        use lookout_ais::{Decoder, DecoderOptions};
        let lines: &[&[u8]] = &[
            b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A",
            b"!AIVDM,1,1,,A,33fI1>0001QacOHEdQD1<6vl04g3,0*16",
            b"!AIVDM,1,1,,A,B3KLehP0B@LTN6`Vl;rrBE063P06,0*5A",
            b"!AIVDM,1,1,,A,91b77=h3h00nHt0Q3r@@07000<0b,0*69",
            b"!AIVDM,1,1,,B,KC5E2b@U19PFdLbMuc5=ROv62<7m,0*16",
            b"!AIVDM,1,1,,B,C5N3SRgPEnJGEBT>NhWAwwo862PaLELTBJ:V00000000S0D:R220,0*0B",
        ];
        let mut d = Decoder::new(DecoderOptions::default());
        let mut checked = 0;
        for l in lines {
            let h = sentence_head(l).unwrap();
            let t = message_type(h.payload).unwrap();
            d.decode_line(l, |m| {
                let want = m.message.position().unwrap();
                let got = peek_position(t, h.payload).unwrap();
                assert!(
                    (want.0 - got.0).abs() < 1e-9 && (want.1 - got.1).abs() < 1e-9,
                    "{t}: {want:?} {got:?}"
                );
                checked += 1;
            })
            .unwrap();
        }
        assert_eq!(checked, lines.len());
        assert_eq!(
            peek_position(
                5,
                b"55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8"
            ),
            None
        );
        assert_eq!(peek_position(1, b"15RTgt"), None);
    }

    #[test]
    fn lines_split_across_reads_truncated_and_overlong() {
        let long = vec![b'x'; MAX_LINE + 10];
        let mut data = b"a\r\nbb\n".to_vec();
        data.extend_from_slice(&long);
        data.extend_from_slice(b"\ncc\nhalf");
        // A reader that gives 3 bytes at a time.
        struct Slow<'a>(&'a [u8]);
        impl Read for Slow<'_> {
            fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(3).min(b.len());
                b[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut got = Vec::new();
        let mut buf = Vec::new();
        let o = for_each_line(Slow(&data), &mut buf, |l| got.push(l.to_vec()));
        assert_eq!(got, vec![b"a".to_vec(), b"bb".to_vec(), b"cc".to_vec()]);
        assert_eq!((o.lines, o.truncated, o.overlong), (3, 1, 1));
        assert_eq!(o.bytes, data.len() as u64);
    }
}
