//! Reading archives back, for replay and analysis.
//!
//! [`ArchiveReader`] takes files and/or directories. A directory stands for
//! its archive files (`*.nmea`, `*.nmea.gz`), sorted by the start time in
//! their names; if every file given has such a name, the whole list is
//! sorted that way, otherwise files keep the order given. Each file is read
//! plain or gzip (by magic bytes). Lines come out in that order as
//! [`ArchiveLine`]s with their time (`rt:`, else `c:`) and Lookout source
//! name (none for lines Lookout did not write: their `s:` station is not a
//! source, see [`ArchiveLine::source`]).
//!
//! Damage is counted, never fatal: a last line without its newline (the
//! recorder was killed mid-write) is skipped, as is an overlong line or the
//! rest of a file that cannot be read (a truncated `.gz`); the reader goes
//! on with the next file. [`ReaderStats`] says what was skipped.
//!
//! `from`/`to` select the half-open range `[from, to)` of line times. A
//! line without a time of its own takes the time of the line before it.
//! Whole files that end before `from` or start at or after `to` are not
//! opened.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::archive::{ArchiveLine, TagCache};
use crate::recorder::parse_archive_name;
use crate::stream::maybe_gunzip;

/// Longest archive line read; longer ones are skipped and counted.
pub const MAX_ARCHIVE_LINE: usize = 8 * 1024;

/// One file to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveFile {
    pub path: PathBuf,
    /// Start of its period, from its name.
    pub start_ms: Option<i64>,
    /// Sequence number within the period, from its name.
    pub seq: u32,
}

/// What the reader saw.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReaderStats {
    pub files: u64,
    /// Lines returned.
    pub lines: u64,
    /// Lines outside `[from, to)`.
    pub filtered: u64,
    /// Last lines without a newline (half-written).
    pub truncated: u64,
    /// Lines over [`MAX_ARCHIVE_LINE`].
    pub overlong: u64,
    /// Files that could not be opened or read to the end.
    pub file_errors: u64,
    pub last_error: Option<String>,
}

/// List the archive files in `paths` in reading order.
pub fn list_archive_files(paths: &[impl AsRef<Path>]) -> std::io::Result<Vec<ArchiveFile>> {
    let mut out = Vec::new();
    for p in paths {
        let p = p.as_ref();
        if p.is_dir() {
            let mut files = Vec::new();
            for e in std::fs::read_dir(p)? {
                let e = e?;
                let path = e.path();
                let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                if !(name.ends_with(".nmea") || name.ends_with(".nmea.gz")) || !path.is_file() {
                    continue;
                }
                let key = parse_archive_name(None, name);
                files.push(ArchiveFile {
                    start_ms: key.map(|k| k.0),
                    seq: key.map_or(0, |k| k.1),
                    path,
                });
            }
            files.sort_by(|a, b| {
                (a.start_ms.is_none(), a.start_ms, a.seq, &a.path).cmp(&(
                    b.start_ms.is_none(),
                    b.start_ms,
                    b.seq,
                    &b.path,
                ))
            });
            out.extend(files);
        } else {
            let key = p
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| parse_archive_name(None, n));
            out.push(ArchiveFile {
                path: p.to_path_buf(),
                start_ms: key.map(|k| k.0),
                seq: key.map_or(0, |k| k.1),
            });
        }
    }
    if out.iter().all(|f| f.start_ms.is_some()) {
        out.sort_by_key(|f| (f.start_ms, f.seq));
    }
    Ok(out)
}

/// Reads archive files in time order; an [`Iterator`] of [`ArchiveLine`].
pub struct ArchiveReader {
    files: VecDeque<ArchiveFile>,
    current: Option<(PathBuf, Box<dyn BufRead + Send>)>,
    from: Option<i64>,
    to: Option<i64>,
    last_time: Option<i64>,
    stats: ReaderStats,
    buf: Vec<u8>,
    tag_cache: TagCache,
}

impl ArchiveReader {
    /// A reader over files and/or directories.
    pub fn open(paths: &[impl AsRef<Path>]) -> std::io::Result<Self> {
        Ok(Self::from_files(list_archive_files(paths)?))
    }

    /// A reader over an explicit list of files, in that order.
    pub fn from_files(files: Vec<ArchiveFile>) -> Self {
        ArchiveReader {
            files: files.into(),
            current: None,
            from: None,
            to: None,
            last_time: None,
            stats: ReaderStats::default(),
            buf: Vec::with_capacity(256),
            tag_cache: TagCache::default(),
        }
    }

    /// Keep only lines with times in `[from, to)`.
    pub fn with_range(mut self, from: Option<i64>, to: Option<i64>) -> Self {
        self.from = from;
        self.to = to;
        self.prune();
        self
    }

    /// Files still to read (after the current one).
    pub fn remaining_files(&self) -> impl Iterator<Item = &ArchiveFile> {
        self.files.iter()
    }

    /// Counters so far.
    pub fn stats(&self) -> &ReaderStats {
        &self.stats
    }

    /// Drop files wholly outside the range (only when every file has a
    /// start time, i.e. the list is in time order).
    fn prune(&mut self) {
        if !self.files.iter().all(|f| f.start_ms.is_some()) {
            return;
        }
        if let Some(to) = self.to {
            self.files.retain(|f| f.start_ms.is_some_and(|s| s < to));
        }
        if let Some(from) = self.from {
            // A file ends where the next file with a later start begins
            // (`_1` files share their period's start).
            while let Some(front) = self.files.front() {
                let start = front.start_ms;
                let end = self
                    .files
                    .iter()
                    .map(|f| f.start_ms)
                    .find(|s| *s > start)
                    .flatten();
                if end.is_some_and(|e| e <= from) {
                    self.files.pop_front();
                } else {
                    break;
                }
            }
        }
    }

    fn error(&mut self, path: &Path, e: impl std::fmt::Display) {
        self.stats.file_errors += 1;
        self.stats.last_error = Some(format!("{}: {e}", path.display()));
        tracing::warn!(file = %path.display(), error = %e, "archive file skipped (in part)");
    }

    fn open_next(&mut self) -> bool {
        while let Some(f) = self.files.pop_front() {
            let opened = File::open(&f.path).and_then(maybe_gunzip);
            match opened {
                Ok(r) => {
                    self.stats.files += 1;
                    self.current = Some((f.path, Box::new(BufReader::with_capacity(64 * 1024, r))));
                    return true;
                }
                Err(e) => self.error(&f.path, e),
            }
        }
        false
    }

    /// Read one line into `self.buf`: Some(true) = a whole line, Some(false)
    /// = skipped (counted), None = end of the current file.
    fn read_line(&mut self) -> Option<bool> {
        self.buf.clear();
        let mut overlong = false;
        loop {
            let (path, r) = self.current.as_mut()?;
            let avail = match r.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let path = path.clone();
                    // The partial line before the error is not whole.
                    if !self.buf.is_empty() || overlong {
                        self.stats.truncated += 1;
                    }
                    self.current = None;
                    self.error(&path, e);
                    return None;
                }
            };
            if avail.is_empty() {
                self.current = None;
                if overlong {
                    self.stats.overlong += 1;
                    return Some(false);
                }
                if !self.buf.is_empty() {
                    self.stats.truncated += 1;
                    return Some(false);
                }
                return None;
            }
            let (take, done) = match memchr::memchr(b'\n', avail) {
                Some(i) => (i, true),
                None => (avail.len(), false),
            };
            if !overlong {
                if self.buf.len() + take > MAX_ARCHIVE_LINE {
                    overlong = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(&avail[..take]);
                }
            }
            r.consume(take + usize::from(done));
            if done {
                if overlong {
                    self.stats.overlong += 1;
                    return Some(false);
                }
                return Some(true);
            }
        }
    }
}

impl Iterator for ArchiveReader {
    type Item = ArchiveLine;

    fn next(&mut self) -> Option<ArchiveLine> {
        loop {
            if self.current.is_none() && !self.open_next() {
                return None;
            }
            match self.read_line() {
                None => continue,
                Some(false) => continue,
                Some(true) => {}
            }
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
            if self.buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let line = ArchiveLine::parse_cached(self.buf.clone(), &mut self.tag_cache);
            if let Some(t) = line.time_ms {
                self.last_time = Some(t);
            }
            if self.from.is_some() || self.to.is_some() {
                let keep = self.last_time.is_some_and(|t| {
                    self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|to| t < to)
                });
                if !keep {
                    self.stats.filtered += 1;
                    continue;
                }
            }
            self.stats.lines += 1;
            return Some(line);
        }
    }
}

/// Numbers the recorded source names of a replay (0, 1, 2, … in order of
/// first appearance; a line without one — not written by Lookout — is the
/// empty name), so the decoder keeps fragments of different feeds apart.
/// Consecutive lines usually come from the same source, so the last name is
/// checked before the map.
///
/// ```
/// use ingest::archive_reader::SourceIds;
/// let mut ids = SourceIds::default();
/// assert_eq!(ids.id(Some("rx-lampedusa")), 0);
/// assert_eq!(ids.id(Some("rx-malta")), 1);
/// assert_eq!(ids.id(Some("rx-lampedusa")), 0);
/// assert_eq!(ids.id(None), 2);
/// ```
#[derive(Debug, Default)]
pub struct SourceIds {
    ids: std::collections::HashMap<String, u32>,
    last: Option<(String, u32)>,
}

impl SourceIds {
    /// The number of `name`.
    pub fn id(&mut self, name: Option<&str>) -> u32 {
        let name = name.unwrap_or_default();
        if let Some((last, id)) = &self.last {
            if last == name {
                return *id;
            }
        }
        let next = self.ids.len() as u32;
        let id = *self.ids.entry(name.to_string()).or_insert(next);
        self.last = Some((name.to_string(), id));
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(start: i64, seq: u32) -> ArchiveFile {
        ArchiveFile {
            path: PathBuf::from(format!("f{start}_{seq}")),
            start_ms: Some(start),
            seq,
        }
    }

    fn kept(from: Option<i64>, to: Option<i64>) -> Vec<(i64, u32)> {
        let files = vec![
            file(0, 0),
            file(0, 1),
            file(10, 0),
            file(20, 0),
            file(20, 1),
        ];
        ArchiveReader::from_files(files)
            .with_range(from, to)
            .remaining_files()
            .map(|f| (f.start_ms.unwrap(), f.seq))
            .collect()
    }

    #[test]
    fn range_pruning_keeps_every_file_that_may_hold_lines_in_range() {
        assert_eq!(kept(None, None).len(), 5);
        assert_eq!(
            kept(Some(5), None),
            vec![(0, 0), (0, 1), (10, 0), (20, 0), (20, 1)]
        );
        assert_eq!(kept(Some(10), None), vec![(10, 0), (20, 0), (20, 1)]);
        assert_eq!(kept(Some(25), None), vec![(20, 0), (20, 1)]);
        assert_eq!(kept(None, Some(10)), vec![(0, 0), (0, 1)]);
        assert_eq!(kept(Some(12), Some(20)), vec![(10, 0)]);
    }
}
