//! The scan: archive files → (threads) → per-vessel accumulators → answer.
//!
//! Each worker thread takes the next file from a shared queue, streams its
//! lines through the cheap filters of [`crate::lines`] and its own
//! `lookout-ais` decoder, and adds what passes to its own accumulators; at
//! the end the threads' accumulators are merged, tracks sorted, deduplicated
//! and thinned. Workers share nothing but the queue index and a counter of
//! vessels found (for [`ScanOptions::max_vessels`]).

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use ingest::archive_reader::{list_archive_files, ArchiveFile};
use lookout_ais::messages::{Body, StaticDataReport};
use lookout_ais::{AisMessage, Decoder, DecoderOptions, LineContext};
use spatial_index::geodesy::{cap_box, haversine_nm, NM};
use spatial_index::vessel::{derive_class, VesselClass};
use spatial_index::GeoBox;

use crate::lines::{
    for_each_line, line_time, message_type, peek_mmsi, peek_position, sentence_head,
};
use crate::{Answer, Approach, Query, ScanError, ScanOptions, ScanStats, TrackPoint, VesselPass};

/// The archive files of `paths` that may hold lines in `[from_ms, to_ms)`,
/// in time order, and how many were listed. A file's period runs from the
/// start in its name to the next later start (the last one is open-ended);
/// files without an archive name are always kept.
pub fn select_files(
    paths: &[impl AsRef<Path>],
    from_ms: i64,
    to_ms: i64,
) -> std::io::Result<(Vec<ArchiveFile>, usize)> {
    let files = list_archive_files(paths)?;
    let listed = files.len();
    let starts: Vec<Option<i64>> = files.iter().map(|f| f.start_ms).collect();
    let keep = files
        .into_iter()
        .enumerate()
        .filter(|(i, f)| {
            let Some(start) = f.start_ms else {
                return true;
            };
            if start >= to_ms {
                return false;
            }
            let end = starts[i + 1..]
                .iter()
                .flatten()
                .copied()
                .find(|s| *s > start);
            end.is_none_or(|e| e > from_ms)
        })
        .map(|(_, f)| f)
        .collect();
    Ok((keep, listed))
}

/// Scan the archive files and directories in `paths` for `query`.
pub fn scan(
    paths: &[impl AsRef<Path>],
    query: &Query,
    opts: &ScanOptions,
) -> Result<Answer, ScanError> {
    let started = Instant::now();
    let (files, listed) = select_files(paths, query.from_ms, query.to_ms)?;
    let selected = files.len();
    let mut answer = scan_files(files, query, opts)?;
    answer.stats.files_listed = listed as u64;
    answer.stats.files_skipped = (listed - selected) as u64;
    answer.stats.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(answer)
}

/// Scan exactly these files (already selected) for `query`.
pub fn scan_files(
    files: Vec<ArchiveFile>,
    query: &Query,
    opts: &ScanOptions,
) -> Result<Answer, ScanError> {
    let started = Instant::now();
    let threads = match opts.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .clamp(1, files.len().max(1));
    let next = AtomicUsize::new(0);
    let found = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let shared = Shared {
        files: &files,
        next: &next,
        found: &found,
        stop: &stop,
        query,
        opts,
        bbox: query
            .area
            .and_then(|a| cap_box(a.lat, a.lon, (a.radius_nm + query.track_margin_nm) * NM)),
    };
    let workers: Vec<Worker> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| s.spawn(|| Worker::new(&shared).run()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("history worker panicked"))
            .collect()
    });
    if let Some(limit) = opts.max_vessels {
        if stop.load(Ordering::Relaxed) {
            return Err(ScanError::TooManyVessels { limit });
        }
    }
    let mut stats = ScanStats {
        threads: threads as u64,
        ..ScanStats::default()
    };
    let mut vessels: HashMap<u32, Acc> = HashMap::new();
    let mut statics: HashMap<u32, Static> = HashMap::new();
    for w in workers {
        let s = w.stats;
        stats.files_read += s.files_read;
        stats.bytes += s.bytes;
        stats.lines += s.lines;
        stats.lines_in_window += s.lines_in_window;
        stats.decoded_lines += s.decoded_lines;
        stats.positions += s.positions;
        stats.in_box += s.in_box;
        stats.truncated += s.truncated;
        stats.overlong += s.overlong;
        stats.file_errors += s.file_errors;
        if s.last_error.is_some() {
            stats.last_error = s.last_error;
        }
        for (mmsi, acc) in w.vessels {
            match vessels.entry(mmsi) {
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(acc);
                }
                std::collections::hash_map::Entry::Occupied(mut e) => e.get_mut().merge(acc),
            }
        }
        for (mmsi, st) in w.statics {
            statics.entry(mmsi).or_default().merge(st);
        }
    }
    let mut out: Vec<VesselPass> = vessels
        .into_iter()
        .filter(|(_, a)| a.reports > 0)
        .map(|(mmsi, a)| a.finish(mmsi, query, statics.remove(&mmsi)))
        .collect();
    out.sort_by(|a, b| {
        let d = |v: &VesselPass| v.closest.map_or(0.0, |c| c.distance_nm);
        d(a).total_cmp(&d(b)).then(a.mmsi.cmp(&b.mmsi))
    });
    if let Some(limit) = opts.max_vessels {
        if out.len() > limit {
            return Err(ScanError::TooManyVessels { limit });
        }
    }
    stats.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(Answer {
        query: query.clone(),
        vessels: out,
        stats,
    })
}

struct Shared<'a> {
    files: &'a [ArchiveFile],
    next: &'a AtomicUsize,
    found: &'a AtomicUsize,
    stop: &'a AtomicBool,
    query: &'a Query,
    opts: &'a ScanOptions,
    bbox: Option<GeoBox>,
}

/// Per-vessel accumulator.
#[derive(Default)]
struct Acc {
    closest: Option<Approach>,
    first_ms: i64,
    last_ms: i64,
    reports: u64,
    track: Vec<TrackPoint>,
    /// Last message type with a position (for the class).
    class: Option<VesselClass>,
}

impl Acc {
    fn merge(&mut self, o: Acc) {
        if let Some(c) = o.closest {
            if self.closest.is_none_or(|m| closer(&c, &m)) {
                self.closest = Some(c);
            }
        }
        if o.reports > 0 {
            if self.reports == 0 {
                self.first_ms = o.first_ms;
                self.last_ms = o.last_ms;
            } else {
                self.first_ms = self.first_ms.min(o.first_ms);
                self.last_ms = self.last_ms.max(o.last_ms);
            }
        }
        self.reports += o.reports;
        self.track.extend(o.track);
        self.class = self.class.or(o.class);
    }

    fn finish(mut self, mmsi: u32, q: &Query, st: Option<Static>) -> VesselPass {
        let track = thin(
            std::mem::take(&mut self.track),
            q,
            self.closest.map(|c| c.point),
        );
        let st = st.unwrap_or_default();
        VesselPass {
            mmsi,
            name: st.name.map(|(n, _)| n),
            callsign: st.callsign.map(|(n, _)| n),
            ship_type: st.ship_type.map(|(n, _)| n),
            class: self.class.unwrap_or(VesselClass::Unknown).as_str(),
            closest: self.closest,
            first_ms: self.first_ms,
            last_ms: self.last_ms,
            reports: self.reports,
            track,
        }
    }
}

/// Nearer, or as near and earlier.
fn closer(a: &Approach, b: &Approach) -> bool {
    a.distance_nm < b.distance_nm
        || (a.distance_nm == b.distance_nm && a.point.time_ms < b.point.time_ms)
}

/// Are two times at least `interval` ms apart (either way)? Without
/// overflow whatever times an archive holds.
fn spaced_by(a: i64, b: i64, interval: i64) -> bool {
    i64::try_from(a.abs_diff(b)).map_or(true, |d| d >= interval)
}

/// Sort, drop repeated times, keep points at least the query's interval
/// apart, cap the count; the closest approach always stays.
fn thin(mut pts: Vec<TrackPoint>, q: &Query, keep: Option<TrackPoint>) -> Vec<TrackPoint> {
    pts.sort_by_key(|p| p.time_ms);
    pts.dedup_by_key(|p| p.time_ms);
    let mut out: Vec<TrackPoint> = Vec::with_capacity(pts.len());
    let n = pts.len();
    for (i, p) in pts.into_iter().enumerate() {
        let is_keep = keep.is_some_and(|k| k.time_ms == p.time_ms);
        let spaced = out
            .last()
            .is_none_or(|l| spaced_by(p.time_ms, l.time_ms, q.track_interval_ms));
        if spaced || is_keep || i + 1 == n {
            // The last point of the track is kept too (where it was last
            // seen), in place of the one before it if they are too close.
            let prev_is_keep = out
                .last()
                .is_some_and(|l| keep.is_some_and(|k| k.time_ms == l.time_ms));
            if !spaced && !is_keep && out.len() > 1 && !prev_is_keep {
                out.pop();
            }
            out.push(p);
        }
    }
    if q.max_track_points > 1 && out.len() > q.max_track_points {
        let step = out.len() as f64 / q.max_track_points as f64;
        let last = out.len() - 1;
        let mut picked: Vec<TrackPoint> = (0..q.max_track_points - 1)
            .map(|i| out[(i as f64 * step) as usize])
            .collect();
        picked.push(out[last]);
        if let Some(k) = keep {
            if !picked.iter().any(|p| p.time_ms == k.time_ms) {
                let at = picked.partition_point(|p| p.time_ms < k.time_ms);
                // Replace a neighbour, never the last point.
                let at = at.min(picked.len() - 2);
                picked[at] = k;
                picked.sort_by_key(|p| p.time_ms);
            }
        }
        out = picked;
    }
    out
}

/// Static data, each field with the time it was reported.
#[derive(Default)]
struct Static {
    name: Option<(String, i64)>,
    callsign: Option<(String, i64)>,
    ship_type: Option<(u8, i64)>,
}

fn newer<T>(slot: &mut Option<(T, i64)>, v: Option<T>, t: i64) {
    if let Some(v) = v {
        if slot.as_ref().is_none_or(|(_, at)| t >= *at) {
            *slot = Some((v, t));
        }
    }
}

fn text(s: &str) -> Option<String> {
    let s = s.trim_end_matches(['@', ' ']).trim();
    (!s.is_empty()).then(|| s.to_string())
}

impl Static {
    fn merge(&mut self, o: Static) {
        if let Some((v, t)) = o.name {
            newer(&mut self.name, Some(v), t);
        }
        if let Some((v, t)) = o.callsign {
            newer(&mut self.callsign, Some(v), t);
        }
        if let Some((v, t)) = o.ship_type {
            newer(&mut self.ship_type, Some(v), t);
        }
    }

    fn take(&mut self, m: &AisMessage, t: i64) {
        match &m.body {
            Body::StaticVoyage(s) => {
                newer(&mut self.name, text(&s.shipname), t);
                newer(&mut self.callsign, text(&s.callsign), t);
                newer(&mut self.ship_type, s.shiptype, t);
            }
            Body::ClassBExtended(b) => {
                newer(&mut self.name, text(&b.shipname), t);
                newer(&mut self.ship_type, b.shiptype, t);
            }
            Body::StaticData(StaticDataReport::PartA { shipname }) => {
                newer(&mut self.name, text(shipname), t);
            }
            Body::StaticData(StaticDataReport::PartB(b)) => {
                newer(&mut self.callsign, text(&b.callsign), t);
                newer(&mut self.ship_type, b.shiptype, t);
            }
            _ => {}
        }
    }
}

/// Position, speed and course of a vessel's position report (not base
/// stations or aids to navigation: they are not vessels).
fn kinematics(m: &AisMessage) -> Option<(f64, f64, Option<f32>, Option<f32>)> {
    let (lat, lon, sog, cog) = match &m.body {
        Body::Position(p) => (
            p.lat,
            p.lon,
            p.speed.map(|s| s as f32),
            p.course.map(|c| c as f32),
        ),
        Body::ClassBPosition(p) => (
            p.lat,
            p.lon,
            p.speed.map(|s| s as f32),
            p.course.map(|c| c as f32),
        ),
        Body::ClassBExtended(p) => (
            p.lat,
            p.lon,
            p.speed.map(|s| s as f32),
            p.course.map(|c| c as f32),
        ),
        Body::SarAircraft(p) => (
            p.lat,
            p.lon,
            p.speed.map(f32::from),
            p.course.map(|c| c as f32),
        ),
        Body::LongRange(p) => (
            p.lat,
            p.lon,
            p.speed.map(f32::from),
            p.course.map(f32::from),
        ),
        _ => return None,
    };
    Some((lat?, lon?, sog, cog))
}

/// Message types whose first sentence carries a vessel position.
#[inline]
fn is_position_type(t: u8) -> bool {
    matches!(t, 1..=3 | 9 | 18 | 19 | 27)
}

struct Worker<'a> {
    shared: &'a Shared<'a>,
    decoder: Decoder,
    vessels: HashMap<u32, Acc>,
    statics: HashMap<u32, Static>,
    stats: ScanStats,
    buf: Vec<u8>,
}

impl<'a> Worker<'a> {
    fn new(shared: &'a Shared<'a>) -> Self {
        Worker {
            shared,
            decoder: Decoder::new(DecoderOptions::default()),
            vessels: HashMap::new(),
            statics: HashMap::new(),
            stats: ScanStats::default(),
            buf: Vec::new(),
        }
    }

    fn run(mut self) -> Self {
        loop {
            if self.shared.stop.load(Ordering::Relaxed) {
                break;
            }
            let i = self.shared.next.fetch_add(1, Ordering::Relaxed);
            let Some(f) = self.shared.files.get(i) else {
                break;
            };
            self.file(f);
        }
        self
    }

    fn error(&mut self, path: &Path, e: impl std::fmt::Display) {
        self.stats.file_errors += 1;
        self.stats.last_error = Some(format!("{}: {e}", path.display()));
        tracing::warn!(file = %path.display(), error = %e, "archive file skipped (in part)");
    }

    fn file(&mut self, f: &ArchiveFile) {
        let reader = match std::fs::File::open(&f.path).and_then(ingest::stream::maybe_gunzip) {
            Ok(r) => r,
            Err(e) => return self.error(&f.path, e),
        };
        self.stats.files_read += 1;
        let mut buf = std::mem::take(&mut self.buf);
        // A line without a time of its own takes the time of the line
        // before it; the first lines of a file, the file's start.
        let mut last_time = f.start_ms;
        let outcome = for_each_line(reader, &mut buf, |line| self.line(line, &mut last_time));
        self.buf = buf;
        self.stats.bytes += outcome.bytes;
        self.stats.lines += outcome.lines;
        self.stats.truncated += outcome.truncated;
        self.stats.overlong += outcome.overlong;
        if let Some(e) = outcome.error {
            self.error(&f.path, e);
        }
    }

    #[inline]
    fn line(&mut self, line: &[u8], last_time: &mut Option<i64>) {
        let q = self.shared.query;
        let (t, start) = line_time(line);
        if t.is_some() {
            *last_time = t;
        }
        let Some(t) = *last_time else {
            return;
        };
        if t < q.from_ms || t >= q.to_ms {
            return;
        }
        self.stats.lines_in_window += 1;
        let sentence = &line[start..];
        let Some(head) = sentence_head(sentence) else {
            return;
        };
        let ctx = LineContext {
            source: 0,
            received_ms: Some(t),
        };
        let names = self.shared.opts.names && q.mmsi.is_none();
        let input = if head.fragments == 1 {
            let Some(ty) = message_type(head.payload) else {
                return;
            };
            let wanted = is_position_type(ty) || (names && ty == 24);
            if !wanted {
                return;
            }
            if let Some(m) = q.mmsi {
                if peek_mmsi(head.payload) != Some(m) {
                    return;
                }
            }
            // Most reports are far from the area: rule them out from the
            // payload bits before decoding (the decoder still checks, and
            // decodes, every report that may be inside).
            if let Some(b) = &self.shared.bbox {
                if let Some((lat, lon)) = peek_position(ty, head.payload) {
                    if !b.contains(lat, lon) {
                        self.stats.positions += 1;
                        return;
                    }
                }
            }
            // The TAG block is read already: the decoder gets the sentence.
            sentence
        } else {
            // Multi-sentence messages are static data (type 5) or binary;
            // they are decoded whole (the TAG block joins the fragments)
            // only when names are wanted.
            if !names {
                return;
            }
            if head.fragment == 1 {
                match message_type(head.payload) {
                    Some(5 | 19) => {}
                    _ => return,
                }
            }
            line
        };
        self.stats.decoded_lines += 1;
        let mut msgs: [Option<AisMessage>; 1] = [None];
        let _ = self
            .decoder
            .decode_line_with(input, &ctx, |d| msgs[0] = Some(d.message));
        let Some(m) = msgs[0].take() else {
            return;
        };
        if names && matches!(m.msg_type, 5 | 19 | 24) {
            self.statics.entry(m.mmsi).or_default().take(&m, t);
        }
        if q.mmsi.is_some_and(|want| want != m.mmsi) {
            return;
        }
        let Some((lat, lon, sog, cog)) = kinematics(&m) else {
            return;
        };
        self.stats.positions += 1;
        let point = TrackPoint {
            time_ms: t,
            lat,
            lon,
            sog,
            cog,
        };
        match q.area {
            None => self.add(m.mmsi, m.msg_type, point, None),
            Some(a) => {
                if let Some(b) = &self.shared.bbox {
                    if !b.contains(lat, lon) {
                        return;
                    }
                }
                self.stats.in_box += 1;
                let d = haversine_nm(a.lat, a.lon, lat, lon);
                if d > a.radius_nm + q.track_margin_nm {
                    return;
                }
                self.add(m.mmsi, m.msg_type, point, Some((d, d <= a.radius_nm)));
            }
        }
    }

    fn add(&mut self, mmsi: u32, msg_type: u8, p: TrackPoint, dist: Option<(f64, bool)>) {
        let q = self.shared.query;
        let new = !self.vessels.contains_key(&mmsi);
        let acc = self.vessels.entry(mmsi).or_default();
        acc.class = Some(derive_class(
            acc.class.unwrap_or(VesselClass::Unknown),
            mmsi,
            msg_type,
        ));
        let inside = dist.is_none_or(|(_, inside)| inside);
        if inside {
            if acc.reports == 0 {
                acc.first_ms = p.time_ms;
                acc.last_ms = p.time_ms;
                if let Some(limit) = self.shared.opts.max_vessels {
                    // Counted across threads: a vessel seen by two threads
                    // counts twice, so this may stop a little early.
                    if self.shared.found.fetch_add(1, Ordering::Relaxed) >= limit.saturating_mul(2)
                    {
                        self.shared.stop.store(true, Ordering::Relaxed);
                    }
                }
            } else {
                acc.first_ms = acc.first_ms.min(p.time_ms);
                acc.last_ms = acc.last_ms.max(p.time_ms);
            }
            acc.reports += 1;
        }
        if let Some((d, true)) = dist {
            let c = Approach {
                distance_nm: d,
                point: p,
            };
            if acc.closest.is_none_or(|m| closer(&c, &m)) {
                acc.closest = Some(c);
            }
        }
        // Thin as we go (lines of one file are nearly in time order); the
        // final thinning after the merge is exact.
        let spaced = acc
            .track
            .last()
            .is_none_or(|l| spaced_by(p.time_ms, l.time_ms, q.track_interval_ms));
        if spaced || new {
            acc.track.push(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q() -> Query {
        let mut q = Query::near(35.0, 14.0, 5.0, 0, 1_000_000).unwrap();
        q.track_interval_ms = 10;
        q.max_track_points = 4;
        q
    }

    fn pt(t: i64) -> TrackPoint {
        TrackPoint {
            time_ms: t,
            lat: 35.0,
            lon: 14.0,
            sog: None,
            cog: None,
        }
    }

    #[test]
    fn thinning_keeps_spacing_last_point_closest_and_bound() {
        let pts = vec![pt(30), pt(0), pt(5), pt(10), pt(10), pt(12)];
        let out: Vec<i64> = thin(pts, &q(), None).iter().map(|p| p.time_ms).collect();
        assert_eq!(out, vec![0, 10, 30]);
        let pts: Vec<_> = (0..100).map(|i| pt(i * 10)).collect();
        let out = thin(pts, &q(), Some(pt(370)));
        assert_eq!(out.len(), 4);
        assert!(out.iter().any(|p| p.time_ms == 370));
        assert_eq!(out.last().unwrap().time_ms, 990);
        assert!(out.windows(2).all(|w| w[0].time_ms < w[1].time_ms));
    }

    #[test]
    fn files_outside_the_window_are_not_selected() {
        let dir = std::env::temp_dir().join(format!("history-select-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in [
            "lookout-20261128T0000Z.nmea.gz",
            "lookout-20261128T0100Z.nmea.gz",
            "lookout-20261128T0100Z_1.nmea.gz",
            "lookout-20261128T0200Z.nmea",
            "notes.txt",
        ] {
            std::fs::write(dir.join(name), b"").unwrap();
        }
        let h = |s: &str| ingest::timefmt::parse_time(s).unwrap();
        let names = |from, to| -> Vec<String> {
            select_files(&[&dir], from, to)
                .unwrap()
                .0
                .iter()
                .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(
            names(h("2026-11-28T01:10:00Z"), h("2026-11-28T01:20:00Z")),
            vec![
                "lookout-20261128T0100Z.nmea.gz",
                "lookout-20261128T0100Z_1.nmea.gz"
            ]
        );
        assert_eq!(
            names(h("2026-11-28T05:00:00Z"), h("2026-11-28T06:00:00Z")),
            vec!["lookout-20261128T0200Z.nmea"]
        );
        assert_eq!(
            names(h("2026-11-27T00:00:00Z"), h("2026-11-28T00:00:00Z")).len(),
            0
        );
        assert_eq!(select_files(&[&dir], 0, i64::MAX).unwrap().1, 4);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
