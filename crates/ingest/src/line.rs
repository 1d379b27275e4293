//! Lines: the unit that flows from sources through the queue to the decoder
//! and the recorder.
//!
//! A source reads bytes (a TCP stream, UDP datagrams, a file) and cuts them
//! into lines with a [`LineSplitter`]: LF, CR or CRLF end a line, blank lines
//! are skipped, a line longer than the limit (1 KiB by default — an NMEA
//! sentence is at most 82 characters, a TAG block adds a few dozen) is
//! discarded up to its end and counted, and a line with bytes that are not
//! printable ASCII is counted and not forwarded. The splitter never holds
//! more than the limit, so a hostile peer cannot grow memory.
//!
//! Each surviving line becomes a [`Line`]: the raw bytes, the [`SourceId`]
//! of the source, and the receive time the source stamped on it with its
//! [`crate::clock::Clock`].

use lookout_ais::LineContext;
use memchr::memchr2;

/// Default longest line accepted, in bytes (without the line terminator).
pub const DEFAULT_MAX_LINE: usize = 1024;

/// A small number naming a source; its name and status live in the
/// [`crate::status::SourceRegistry`]. It is also the decoder's
/// [`LineContext::source`], so fragments from different feeds never combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, serde::Serialize)]
#[serde(transparent)]
pub struct SourceId(pub u32);

impl SourceId {
    /// The id as an index into the registry.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl std::fmt::Display for SourceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// One received line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Where it came from.
    pub source: SourceId,
    /// When it was received, milliseconds since the UNIX epoch.
    pub received_ms: i64,
    /// The raw bytes, without CR/LF. Printable ASCII when it comes from one
    /// of this crate's sources.
    pub bytes: Vec<u8>,
}

impl Line {
    /// The decoder context for this line.
    pub fn context(&self) -> LineContext {
        LineContext {
            source: self.source.0,
            received_ms: Some(self.received_ms),
        }
    }
}

/// What the splitter found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    /// A complete, non-blank, printable line.
    Line(&'a [u8]),
    /// A line longer than the limit; reported once, as soon as the limit is
    /// passed, and the rest of it is discarded up to the next terminator.
    TooLong,
    /// A line with bytes that are not printable ASCII (binary garbage).
    NotText,
}

/// Cuts a byte stream into bounded lines.
#[derive(Debug)]
pub struct LineSplitter {
    buf: Vec<u8>,
    max: usize,
    discarding: bool,
}

/// Printable ASCII or tab.
fn is_text(line: &[u8]) -> bool {
    line.iter()
        .all(|&b| (0x20..=0x7e).contains(&b) || b == b'\t')
}

fn emit<'a>(line: &'a [u8], f: &mut impl FnMut(Piece<'a>)) {
    if line.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    if is_text(line) {
        f(Piece::Line(line));
    } else {
        f(Piece::NotText);
    }
}

impl LineSplitter {
    /// A splitter accepting lines of at most `max_line` bytes (at least 1).
    pub fn new(max_line: usize) -> Self {
        let max = max_line.max(1);
        LineSplitter {
            buf: Vec::with_capacity(max.min(4096)),
            max,
            discarding: false,
        }
    }

    /// The line limit.
    pub fn max_line(&self) -> usize {
        self.max
    }

    /// Bytes of an unfinished line held from earlier calls.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Feed bytes; complete lines and errors go to `f` in order.
    pub fn push(&mut self, mut data: &[u8], mut f: impl FnMut(Piece<'_>)) {
        while !data.is_empty() {
            let (segment, terminated) = match memchr2(b'\n', b'\r', data) {
                Some(i) => (&data[..i], Some(i)),
                None => (data, None),
            };
            if self.discarding {
                // Still inside an overlong line: drop it.
            } else if self.buf.len() + segment.len() > self.max {
                self.buf.clear();
                self.discarding = true;
                f(Piece::TooLong);
            } else if terminated.is_some() && self.buf.is_empty() {
                // The whole line is in `data`: no copy.
                emit(segment, &mut f);
            } else {
                self.buf.extend_from_slice(segment);
            }
            match terminated {
                Some(i) => {
                    if !self.discarding && !self.buf.is_empty() {
                        let line = std::mem::take(&mut self.buf);
                        emit(&line, &mut f);
                        self.buf = line;
                        self.buf.clear();
                    }
                    self.discarding = false;
                    data = &data[i + 1..];
                }
                None => data = &[],
            }
        }
    }

    /// End of input (end of stream, end of a datagram, connection closed):
    /// an unterminated last line counts as a line.
    pub fn finish(&mut self, mut f: impl FnMut(Piece<'_>)) {
        if !self.discarding && !self.buf.is_empty() {
            let line = std::mem::take(&mut self.buf);
            emit(&line, &mut f);
            self.buf = line;
        }
        self.buf.clear();
        self.discarding = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    enum P {
        L(String),
        Long,
        Bin,
    }

    fn run(max: usize, chunks: &[&[u8]], finish: bool) -> Vec<P> {
        let mut s = LineSplitter::new(max);
        let mut out = Vec::new();
        let mut f = |p: Piece<'_>| {
            out.push(match p {
                Piece::Line(l) => P::L(String::from_utf8(l.to_vec()).unwrap()),
                Piece::TooLong => P::Long,
                Piece::NotText => P::Bin,
            })
        };
        for c in chunks {
            s.push(c, &mut f);
        }
        if finish {
            s.finish(&mut f);
        }
        assert!(s.pending() <= max);
        out
    }

    #[test]
    fn lf_crlf_cr_and_blank_lines() {
        assert_eq!(
            run(100, &[b"a\nb\r\nc\rd\n\n\r\n  \ne"], true),
            vec![
                P::L("a".into()),
                P::L("b".into()),
                P::L("c".into()),
                P::L("d".into()),
                P::L("e".into())
            ]
        );
    }

    #[test]
    fn lines_split_across_chunks() {
        assert_eq!(
            run(100, &[b"!AIV", b"DM,1", b"\r", b"\nx"], false),
            vec![P::L("!AIVDM,1".into())]
        );
    }

    #[test]
    fn overlong_lines_are_reported_once_and_discarded() {
        let long = vec![b'x'; 50];
        assert_eq!(
            run(10, &[b"ok\n", &long, &long, b"\nfine\n"], true),
            vec![P::L("ok".into()), P::Long, P::L("fine".into())]
        );
        // Exactly at the limit is fine.
        assert_eq!(
            run(3, &[b"abc\nabcd\n"], true),
            vec![P::L("abc".into()), P::Long]
        );
        // An overlong line cut by the end of input is not emitted.
        assert_eq!(run(3, &[b"abcdef"], true), vec![P::Long]);
    }

    #[test]
    fn binary_garbage_is_not_text() {
        assert_eq!(
            run(100, &[b"\x00\x01\xff\n!ok\n"], true),
            vec![P::Bin, P::L("!ok".into())]
        );
    }
}
