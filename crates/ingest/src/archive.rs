//! The archive line format: standard NMEA 0183 with an NMEA 4.10 TAG block
//! that says when and from where Lookout received the line.
//!
//! ```text
//! line received from source "national":  \s:2573238,c:1733782034*0A\!BSVDM,1,1,,A,13o4g`…,0*3F
//! archived:  \s:2573238,c:1733782034,rt:1733782034123,rs:national*hh\!BSVDM,1,1,,A,13o4g`…,0*3F
//!
//! line received from source "rescue-1-gps":  $GPRMC,200255.00,A,5310.81257,N,…*7E
//! archived:  \rt:1733782034123,s:rescue-1-gps,c:1733782034*hh\$GPRMC,200255.00,A,5310.81257,N,…*7E
//! ```
//!
//! The rules (the full description, for other tools, is
//! `docs/recording.md`):
//!
//! * A line with a valid TAG block keeps its fields, in order and byte for
//!   byte; one without (or with a TAG block that does not verify) gets a new
//!   one in front and keeps all its bytes after it.
//! * Lookout appends `rt:` — receive time, milliseconds since the UNIX
//!   epoch — always, right after the original fields; then `s:` (the source
//!   name) and `c:` (receive time, UNIX seconds) only if the line had none;
//!   then `rs:` (the source name) if the line's own `s:` names someone else.
//! * The TAG block checksum is recomputed (two upper-case hex digits).
//!
//! So everything before the last `rt:` field is original and everything
//! from it on is Lookout's: [`ArchiveLine::original`] gives back exactly the
//! line as received (except that an original TAG checksum written in lower
//! case comes back in upper case).
//!
//! Reading back, [`ArchiveLine::source`] is the Lookout source named by
//! `rs:` (or `s:`) of Lookout's part. A line without `rt:` — a recording
//! made by another tool, or a national network dump — has no Lookout
//! source: its `s:` is the station that heard the sentence, which the
//! continuation sentences of a multi-sentence message usually omit, so
//! the whole file is one feed.

use std::borrow::Cow;

use lookout_ais::nmea::checksum;
use lookout_ais::tagblock::TagBlock;
use memchr::memchr;

/// TAG key for Lookout's receive time in milliseconds.
pub const RECEIVE_TIME_KEY: &str = "rt";
/// TAG key for Lookout's source name when `s:` holds the sender's station.
pub const RECEIVE_SOURCE_KEY: &str = "rs";

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// A valid TAG block at the very start of `line`: `(content, rest)`.
fn leading_tag(line: &[u8]) -> Option<(&[u8], &[u8])> {
    if line.first() != Some(&b'\\') {
        return None;
    }
    let end = memchr(b'\\', &line[1..])? + 1;
    let block = &line[1..end];
    let star = block.iter().rposition(|&c| c == b'*')?;
    if block.len() != star + 3 {
        return None;
    }
    let sum = hex_val(block[star + 1])? << 4 | hex_val(block[star + 2])?;
    let content = &block[..star];
    (sum == checksum(content)).then_some((content, &line[end + 1..]))
}

fn fields(content: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    content
        .split(|&c| c == b',')
        .map(|f| match memchr(b':', f) {
            Some(i) => (&f[..i], &f[i + 1..]),
            None => (f, &[][..]),
        })
}

fn push_tag(out: &mut Vec<u8>, content: &[u8]) {
    out.push(b'\\');
    out.extend_from_slice(content);
    let sum = checksum(content);
    out.extend_from_slice(&[
        b'*',
        HEX[(sum >> 4) as usize],
        HEX[(sum & 15) as usize],
        b'\\',
    ]);
}

/// Append `line` as an archive line (TAG block added or completed, `\n`
/// terminated) to `out`. `source` must be a valid source name (see
/// [`crate::config::valid_name`]); `line` must not contain CR or LF.
pub fn append_archive_line(out: &mut Vec<u8>, line: &[u8], source: &str, received_ms: i64) {
    let (orig, rest) = match leading_tag(line) {
        Some((content, rest)) => (Some(content), rest),
        None => (None, line),
    };
    let mut has_c = false;
    let mut station: Option<&[u8]> = None;
    if let Some(c) = orig {
        for (k, v) in fields(c) {
            match k {
                b"c" => has_c = true,
                b"s" => station = Some(v),
                _ => {}
            }
        }
    }
    let mut content = Vec::with_capacity(orig.map_or(0, <[u8]>::len) + source.len() * 2 + 48);
    if let Some(c) = orig {
        content.extend_from_slice(c);
        content.push(b',');
    }
    let mut itoa = itoa_buf();
    content.extend_from_slice(b"rt:");
    content.extend_from_slice(fmt_i64(&mut itoa, received_ms));
    if station.is_none() {
        content.extend_from_slice(b",s:");
        content.extend_from_slice(source.as_bytes());
    }
    if !has_c {
        content.extend_from_slice(b",c:");
        content.extend_from_slice(fmt_i64(&mut itoa, received_ms.div_euclid(1000)));
    }
    if station.is_some_and(|s| s != source.as_bytes()) {
        content.extend_from_slice(b",rs:");
        content.extend_from_slice(source.as_bytes());
    }
    push_tag(out, &content);
    out.extend_from_slice(rest);
    out.push(b'\n');
}

fn itoa_buf() -> [u8; 24] {
    [0; 24]
}

fn fmt_i64(buf: &mut [u8; 24], v: i64) -> &[u8] {
    let mut n = v.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

/// One line read from an archive, without its line terminator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveLine {
    /// The line as stored.
    pub raw: Vec<u8>,
    /// Lookout's receive time (`rt:`), else the TAG `c:` time, in ms.
    pub time_ms: Option<i64>,
    /// The Lookout source (feed) the line was received from: `rs:`, else
    /// the `s:` of a line Lookout wrote (one with `rt:`). `None` for a line
    /// Lookout did not write: its `s:` is the sending station, which is
    /// not a feed and is often on the first sentence of a multi-sentence
    /// message only (NMEA 4.10 `g:` groups) — taken as the source, it
    /// would split the sentences of one message between sources. Such
    /// lines belong to the file or feed they are read from.
    pub source: Option<String>,
    /// Whether a Lookout `rt:` field was found.
    pub lookout: bool,
    /// Byte offset in `raw` where the original TAG content ends (before the
    /// comma or the start of `rt:`); `None` without a Lookout TAG.
    orig_end: Option<usize>,
    /// Byte offset in `raw` where the text after the TAG block starts.
    rest_start: usize,
}

fn parse_i64(v: &[u8]) -> Option<i64> {
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// The last foreign TAG block an [`ArchiveReader`](crate::archive_reader::ArchiveReader)
/// interpreted: consecutive lines of a recording usually carry the same one
/// (same station, same second), so it is parsed once.
#[derive(Debug, Default)]
pub(crate) struct TagCache {
    content: Vec<u8>,
    time_ms: Option<i64>,
    valid: bool,
}

impl ArchiveLine {
    /// Interpret a stored line.
    pub fn parse(raw: Vec<u8>) -> ArchiveLine {
        Self::parse_cached(raw, &mut TagCache::default())
    }

    /// [`ArchiveLine::parse`] with a cache of the previous line's TAG block.
    pub(crate) fn parse_cached(raw: Vec<u8>, cache: &mut TagCache) -> ArchiveLine {
        let mut line = ArchiveLine {
            raw,
            time_ms: None,
            source: None,
            lookout: false,
            orig_end: None,
            rest_start: 0,
        };
        let Some((content, rest)) = leading_tag(&line.raw) else {
            return line;
        };
        let content_start = 1;
        line.rest_start = line.raw.len() - rest.len();
        // The last `rt:` field starts Lookout's part.
        let mut pos = 0usize;
        let mut rt_at = None;
        for f in content.split(|&c| c == b',') {
            if f.starts_with(b"rt:") {
                rt_at = Some(pos);
            }
            pos += f.len() + 1;
        }
        match rt_at {
            Some(at) => {
                line.lookout = true;
                line.orig_end = Some(content_start + at.saturating_sub(1));
                let ours = &content[at..];
                let orig = &content[..at.saturating_sub(1)];
                let mut s_orig = None;
                let (mut s_ours, mut rs) = (None, None);
                for (k, v) in fields(ours) {
                    match k {
                        b"rt" if line.time_ms.is_none() => line.time_ms = parse_i64(v),
                        b"s" => s_ours = Some(v),
                        b"rs" => rs = Some(v),
                        _ => {}
                    }
                }
                for (k, v) in fields(orig) {
                    if k == b"s" {
                        s_orig = Some(v);
                    }
                }
                line.source = rs
                    .or(s_ours)
                    .or(s_orig)
                    .map(|v| String::from_utf8_lossy(v).into_owned());
            }
            None => {
                // Not written by Lookout: only the time is taken. Its `s:`
                // names the sending station, not a Lookout source (see
                // `ArchiveLine::source`).
                if !(cache.valid && cache.content == content) {
                    cache.content.clear();
                    cache.content.extend_from_slice(content);
                    cache.time_ms = TagBlock::parse(content).ok().and_then(|t| t.unix_millis());
                    cache.valid = true;
                }
                line.time_ms = cache.time_ms;
            }
        }
        line
    }

    /// The text after the TAG block (the sentence itself).
    pub fn sentence(&self) -> &[u8] {
        &self.raw[self.rest_start..]
    }

    /// The line as it was received, before Lookout added its TAG fields.
    /// Lines not written by Lookout come back unchanged.
    pub fn original(&self) -> Cow<'_, [u8]> {
        match self.orig_end {
            None => Cow::Borrowed(&self.raw),
            Some(end) if end <= 1 => Cow::Borrowed(self.sentence()),
            Some(end) => {
                let mut out = Vec::with_capacity(self.raw.len());
                push_tag(&mut out, &self.raw[1..end]);
                out.extend_from_slice(self.sentence());
                Cow::Owned(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(line: &[u8], src: &str, ms: i64) -> Vec<u8> {
        let mut out = Vec::new();
        append_archive_line(&mut out, line, src, ms);
        assert_eq!(out.last(), Some(&b'\n'));
        out.pop();
        out
    }

    fn tag_ok(raw: &[u8]) -> TagBlock {
        let (content, _) = leading_tag(raw).expect("valid TAG block");
        TagBlock::parse(content).expect("parsable TAG block")
    }

    #[test]
    fn untagged_line_gets_rt_s_c() {
        let line = b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A";
        let a = archive(line, "national", 1_733_782_034_123);
        assert!(a.starts_with(b"\\rt:1733782034123,s:national,c:1733782034*"));
        assert!(a.ends_with(line));
        let t = tag_ok(&a);
        assert_eq!(t.source.as_deref(), Some("national"));
        assert_eq!(t.time, Some(1_733_782_034));
        assert_eq!(t.other, vec![("rt".into(), "1733782034123".into())]);
        let p = ArchiveLine::parse(a);
        assert_eq!(p.time_ms, Some(1_733_782_034_123));
        assert_eq!(p.source.as_deref(), Some("national"));
        assert_eq!(p.original(), &line[..]);
        assert_eq!(p.sentence(), &line[..]);
    }

    #[test]
    fn existing_tag_keeps_station_and_time() {
        let line = b"\\s:2573238,c:1733782034*0A\\!BSVDM,1,1,,A,13o4g`00000I2ENRH4g83S0L088C,0*3F";
        let a = archive(line, "kystverket", 1_733_782_035_500);
        let t = tag_ok(&a);
        assert_eq!(t.source.as_deref(), Some("2573238"));
        assert_eq!(t.time, Some(1_733_782_034));
        assert_eq!(
            t.other,
            vec![
                ("rt".into(), "1733782035500".into()),
                ("rs".into(), "kystverket".into())
            ]
        );
        let p = ArchiveLine::parse(a);
        assert_eq!(p.time_ms, Some(1_733_782_035_500));
        assert_eq!(p.source.as_deref(), Some("kystverket"));
        assert_eq!(p.original(), &line[..]);
    }

    #[test]
    fn partial_tag_gets_only_missing_fields() {
        // Group-only TAG of a second fragment: s and c are added.
        let content = b"g:2-2-42";
        let mut line = Vec::new();
        push_tag(&mut line, content);
        line.extend_from_slice(b"!AIVDM,2,2,1,A,88888888880,2*25");
        let a = archive(&line, "x", 5_000);
        let t = tag_ok(&a);
        assert_eq!(t.group.unwrap().id, 42);
        assert_eq!(t.source.as_deref(), Some("x"));
        assert_eq!(t.time, Some(5));
        assert_eq!(ArchiveLine::parse(a).original(), &line[..]);
        // Same station name as the source: no rs.
        let mut line = Vec::new();
        push_tag(&mut line, b"s:x");
        line.extend_from_slice(b"$GPHDT,1.0,T*00");
        let a = archive(&line, "x", 5_000);
        assert!(!a.windows(3).any(|w| w == b"rs:"));
        assert_eq!(ArchiveLine::parse(a).source.as_deref(), Some("x"));
    }

    #[test]
    fn invalid_tag_is_kept_as_text() {
        let line = b"\\s:abc*00\\!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A";
        let a = archive(line, "n", 1000);
        let p = ArchiveLine::parse(a);
        assert_eq!(p.original(), &line[..]);
        assert_eq!(p.source.as_deref(), Some("n"));
        assert_eq!(p.time_ms, Some(1000));
    }

    #[test]
    fn foreign_lines_use_c_and_have_no_source() {
        // The station in a line Lookout did not write is not a source.
        let p = ArchiveLine::parse(b"\\s:2573238,c:1733782034*0A\\!BSVDM,1,1,,A,1,0*00".to_vec());
        assert!(!p.lookout);
        assert_eq!(p.time_ms, Some(1_733_782_034_000));
        assert_eq!(p.source, None);
        assert_eq!(p.original(), &p.raw[..]);
        let p = ArchiveLine::parse(b"plain".to_vec());
        assert_eq!((p.time_ms, p.source), (None, None));
        // Through the reader's cache too: a station-only TAG after a timed
        // one neither keeps the old time nor names a source.
        let mut cache = TagCache::default();
        let a = ArchiveLine::parse_cached(tagged("s:rx1,c:1718431326", "!x"), &mut cache);
        let b = ArchiveLine::parse_cached(tagged("g:2-2-42", "!x"), &mut cache);
        let c = ArchiveLine::parse_cached(tagged("g:2-2-42", "!x"), &mut cache);
        assert_eq!((a.time_ms, a.source), (Some(1_718_431_326_000), None));
        assert_eq!((b.time_ms, b.source), (None, None));
        assert_eq!((c.time_ms, c.source), (None, None));
    }

    fn tagged(content: &str, sentence: &str) -> Vec<u8> {
        let mut line = Vec::new();
        push_tag(&mut line, content.as_bytes());
        line.extend_from_slice(sentence.as_bytes());
        line
    }

    fn vdm(count: u8, num: u8, seq: &str, chan: &str, payload: &str, fill: u8) -> String {
        let body = format!("AIVDM,{count},{num},{seq},{chan},{payload},{fill}");
        format!("!{body}*{:02X}", checksum(body.as_bytes()))
    }

    /// A real type 5 (Kystverket) in two sentences, sequence id 4, channel B.
    fn type5_sentences() -> [String; 2] {
        [
            vdm(
                2,
                1,
                "4",
                "B",
                "53ufeF826Lb9<mET001<CK;:1H4pMD58@000000N1p733t0Ht;ARDj2CQp2C",
                0,
            ),
            vdm(2, 2, "4", "B", "`4jhAiDP@jh", 2),
        ]
    }

    /// Read `lines` (written to a file) back through an
    /// [`ArchiveReader`](crate::archive_reader::ArchiveReader) and decode
    /// them as `lookout replay` does: one decoder, each line's source
    /// numbered by [`SourceIds`](crate::archive_reader::SourceIds).
    fn replay(name: &str, lines: &[Vec<u8>]) -> (Vec<lookout_ais::Decoded>, Vec<Option<String>>) {
        use crate::archive_reader::{ArchiveReader, SourceIds};
        let path = std::env::temp_dir().join(format!(
            "lookout-archive-{name}-{}-{}.nmea",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let mut text = Vec::new();
        for l in lines {
            text.extend_from_slice(l);
            text.push(b'\n');
        }
        std::fs::write(&path, text).unwrap();
        let reader = ArchiveReader::open(&[&path]).unwrap();
        let mut decoder = lookout_ais::Decoder::new(Default::default());
        let mut sources = SourceIds::default();
        let (mut out, mut names) = (Vec::new(), Vec::new());
        for line in reader {
            names.push(line.source.clone());
            let ctx = lookout_ais::LineContext {
                source: sources.id(line.source.as_deref()),
                received_ms: line.time_ms,
            };
            let _ = decoder.decode_line_with(&line.raw, &ctx, |d| out.push(d));
        }
        std::fs::remove_file(&path).unwrap();
        (out, names)
    }

    #[test]
    fn replayed_foreign_tag_groups_with_the_station_on_the_first_sentence_only() {
        // NMEA 4.10 framing of a recording not made by Lookout: `s:` and
        // `c:` on the first sentence, the second has only `g:` — or no TAG
        // block at all.
        let [first, second] = type5_sentences();
        for (tag1, tag2, station) in [
            ("g:1-2-42,s:rx1,c:1718431326", Some("g:2-2-42"), "rx1"),
            ("g:1-2-43,s:rx2,c:1718431326", None, "rx2"),
            ("s:rx3,c:1718431326", None, "rx3"),
        ] {
            let lines = [
                tagged(tag1, &first),
                match tag2 {
                    Some(t) => tagged(t, &second),
                    None => second.clone().into_bytes(),
                },
            ];
            let (out, names) = replay("foreign", &lines);
            assert_eq!(out.len(), 1, "{tag1}: the type 5 is decoded");
            assert_eq!(names, [None, None], "{tag1}");
            let m = &out[0];
            let lookout_ais::Body::StaticVoyage(v) = &m.message.body else {
                panic!("{:?}", m.message)
            };
            assert_eq!(m.message.mmsi, 266_055_000);
            assert_eq!(v.shipname, "SD622 VANGUARD");
            let tag = m.tag.as_ref().unwrap();
            assert_eq!(tag.source.as_deref(), Some(station));
            assert_eq!(tag.time, Some(1718431326));
        }
    }

    #[test]
    fn replayed_lookout_archive_of_a_first_sentence_only_tag_group() {
        // The same sentences as received by Lookout from source
        // "national": both lines name it (`rs:` on the first, the added
        // `s:` on the second), so both have the same source.
        let [first, second] = type5_sentences();
        let lines = [
            archive(
                &tagged("g:1-2-42,s:rx1,c:1718431326", &first),
                "national",
                1_718_431_326_100,
            ),
            archive(&tagged("g:2-2-42", &second), "national", 1_718_431_326_200),
        ];
        assert_eq!(
            ArchiveLine::parse(lines[0].clone()).source.as_deref(),
            Some("national")
        );
        assert_eq!(
            ArchiveLine::parse(lines[1].clone()).source.as_deref(),
            Some("national")
        );
        let (out, names) = replay("lookout", &lines);
        assert_eq!(names, [Some("national".into()), Some("national".into())]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].message.msg_type, 5);
        assert_eq!(out[0].tag.as_ref().unwrap().source.as_deref(), Some("rx1"));
    }

    #[test]
    fn decoder_reads_archived_lines() {
        let line = b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A";
        let a = archive(line, "n", 1_733_782_034_123);
        let mut d = lookout_ais::Decoder::new(Default::default());
        let mut got = None;
        d.decode_line(&a, |m| got = Some(m)).unwrap();
        let m = got.unwrap();
        assert_eq!(m.message.mmsi, 371798000);
        assert_eq!(m.tag.unwrap().source.as_deref(), Some("n"));
    }

    #[test]
    fn negative_and_zero_times() {
        let mut b = itoa_buf();
        assert_eq!(fmt_i64(&mut b, 0), b"0");
        assert_eq!(fmt_i64(&mut b, -1500), b"-1500");
        assert_eq!(fmt_i64(&mut b, i64::MIN), b"-9223372036854775808");
    }
}
