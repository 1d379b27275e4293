//! Load a recording's lines (NMEA, optionally with TAG blocks) into memory,
//! so senders are never slowed by disk reads.

use std::io::{BufRead, BufReader};
use std::path::Path;

/// Lines of a recording in one buffer; each line without its line ending.
pub struct Lines {
    buf: Vec<u8>,
    ends: Vec<usize>,
}

impl Lines {
    /// Read up to `max` non-empty lines. With `strip_tags`, a leading NMEA
    /// 4.10 TAG block (`\…\`) is removed, so the receiver stamps each line
    /// with its own receive time (as with most live feeds).
    pub fn load(path: &Path, max: usize, strip_tags: bool) -> anyhow::Result<Lines> {
        let f =
            std::fs::File::open(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let mut r = BufReader::with_capacity(1 << 20, f);
        let mut lines = Lines {
            buf: Vec::new(),
            ends: Vec::new(),
        };
        let mut line = Vec::with_capacity(256);
        while lines.len() < max {
            line.clear();
            if r.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            while matches!(line.last(), Some(b'\n' | b'\r')) {
                line.pop();
            }
            let mut l = &line[..];
            if strip_tags && l.first() == Some(&b'\\') {
                if let Some(end) = l[1..].iter().position(|&b| b == b'\\') {
                    l = &l[end + 2..];
                }
            }
            if l.is_empty() {
                continue;
            }
            lines.buf.extend_from_slice(l);
            lines.ends.push(lines.buf.len());
        }
        if lines.is_empty() {
            anyhow::bail!("{}: no lines", path.display());
        }
        Ok(lines)
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Line `i` (wrapping around: senders may cycle a short recording).
    pub fn get(&self, i: usize) -> &[u8] {
        let i = i % self.ends.len();
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.buf[start..self.ends[i]]
    }

    /// Whether line `i` completes a message (a single sentence, or the last
    /// fragment of a multi-sentence one): an estimate of how many messages
    /// the decoder should produce.
    pub fn ends_message(&self, i: usize) -> bool {
        let l = self.get(i);
        let l = match l.first() {
            Some(b'\\') => match l[1..].iter().position(|&b| b == b'\\') {
                Some(e) => &l[e + 2..],
                None => l,
            },
            _ => l,
        };
        let mut f = l.split(|&b| b == b',');
        let (_, count, num) = (f.next(), f.next(), f.next());
        matches!((count, num), (Some(c), Some(n)) if c == n)
    }
}
