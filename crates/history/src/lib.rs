//! # history
//!
//! "Who was where": every vessel that came within a radius of a point
//! during a time window, with its closest approach and its track there —
//! or one vessel's track over any period — answered from the recorded
//! archive itself (hourly NMEA files with TAG blocks, `.gz` included, as
//! `ingest::recorder` writes them; see `docs/recording.md`). No separate
//! database: the archive is the record, and scanning it is fast enough.
//!
//! ```text
//! archive dir ─▶ list files, drop hours outside [from, to) by name
//!             ─▶ work queue ─▶ N threads, one file at a time:
//!                   read (gunzip) ─▶ split lines ─▶ TAG time in window?
//!                   ─▶ position report? (first payload character)
//!                   ─▶ lookout-ais decoder ─▶ bounding box ─▶ haversine
//!                   ─▶ per-vessel closest approach + thinned track
//!             ─▶ merge, sort, thin ─▶ [`Answer`] ─▶ table / GeoJSON
//! ```
//!
//! How it stays fast (figures in `docs/performance.md`, "History"):
//!
//! * whole hours outside the window are skipped by their file names, never
//!   opened;
//! * a line's time is read straight from its TAG block (`rt:`, else `c:`)
//!   without building anything, and lines outside the window stop there;
//! * only position reports (types 1–3, 9, 18, 19, 27, told by the first
//!   payload character) and, for names, static reports (5, 24) reach the
//!   decoder; everything else is skipped unparsed;
//! * a decoded position is checked against the circle's bounding box
//!   before the haversine distance;
//! * files are spread over threads through a shared work queue, and lines
//!   are streamed: memory holds one read buffer per thread plus the
//!   vessels found, never a file.
//!
//! Damage is counted, never fatal, with the same rules as
//! `ingest::archive_reader`: a half-written last line is skipped, a corrupt
//! `.gz` gives the lines before the damage, an unreadable file is counted
//! and the scan goes on.
//!
//! ```
//! use history::{scan, Query, ScanOptions};
//! # let dir = std::env::temp_dir().join(format!("history-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! // One archived position report (as the recorder writes it), in the
//! // file of its hour.
//! let mut line = Vec::new();
//! ingest::archive::append_archive_line(
//!     &mut line,
//!     b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A",
//!     "national",
//!     1_733_782_034_123,
//! );
//! std::fs::write(dir.join("lookout-20241209T2200Z.nmea"), &line).unwrap();
//!
//! // Who was within 5 NM of 48.38 N, 123.39 W that hour?
//! let from = 1_733_781_600_000; // 2024-12-09T22:00Z
//! let query = Query::near(48.38, -123.39, 5.0, from, from + 3_600_000).unwrap();
//! let answer = scan(&[&dir], &query, &ScanOptions::default()).unwrap();
//! assert_eq!(answer.vessels.len(), 1);
//! let v = &answer.vessels[0];
//! assert_eq!(v.mmsi, 371_798_000);
//! let cpa = v.closest.as_ref().unwrap();
//! assert!(cpa.distance_nm < 1.0);
//! assert_eq!(cpa.point.time_ms, 1_733_782_034_123);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

mod lines;
pub mod output;
mod scan;

pub use scan::{scan, scan_files, select_files};

use serde::Serialize;

/// Longest window one query may cover by default (31 days).
pub const DEFAULT_MAX_WINDOW_MS: i64 = 31 * 24 * 3_600_000;

/// Earliest time a query looks at: 1970-01-01T00:00:00Z.
pub const MIN_TIME_MS: i64 = 0;
/// Latest time a query looks at: 2200-01-01T00:00:00Z (exclusive).
/// Windows are clamped to `[MIN_TIME_MS, MAX_TIME_MS)`, so an open end
/// (`i64::MAX`) still works and every window length fits in an `i64`.
pub const MAX_TIME_MS: i64 = 7_258_118_400_000;

/// A circle on the sphere.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Circle {
    pub lat: f64,
    pub lon: f64,
    pub radius_nm: f64,
}

/// What to look for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Query {
    /// Vessels that came within this circle (with [`Query::near`]).
    pub area: Option<Circle>,
    /// Only this vessel (with [`Query::vessel`]; also narrows an area query).
    pub mmsi: Option<u32>,
    /// Window `[from_ms, to_ms)` of line times (receive time `rt:`, else the
    /// TAG `c:` time), ms since the UNIX epoch.
    pub from_ms: i64,
    pub to_ms: i64,
    /// Track points are kept out to `radius + track_margin_nm`, so a track
    /// shows the approach and the departure, not only the part inside.
    /// Default: half the radius, at most 10 NM.
    pub track_margin_nm: f64,
    /// Track points closer in time than this to the previous kept one are
    /// dropped (default 10 s, like the live picture's tracks; 0 keeps all).
    pub track_interval_ms: i64,
    /// At most this many points per track (default 5,000), evenly thinned
    /// beyond that; the closest approach is always kept.
    pub max_track_points: usize,
}

/// A query that makes no sense.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError(pub String);

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for QueryError {}

/// The window clamped to 1970–2200, or why it is empty.
fn check_window(from_ms: i64, to_ms: i64) -> Result<(i64, i64), QueryError> {
    if to_ms <= from_ms {
        return Err(QueryError(
            "the window is empty: `to` must be after `from`".into(),
        ));
    }
    let (from, to) = (
        from_ms.clamp(MIN_TIME_MS, MAX_TIME_MS),
        to_ms.clamp(MIN_TIME_MS, MAX_TIME_MS),
    );
    if to <= from {
        return Err(QueryError(
            "the window lies outside 1970-2200: nothing was recorded then".into(),
        ));
    }
    Ok((from, to))
}

impl Query {
    /// Vessels within `radius_nm` of `(lat, lon)` during `[from_ms, to_ms)`.
    pub fn near(
        lat: f64,
        lon: f64,
        radius_nm: f64,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Query, QueryError> {
        if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
            return Err(QueryError("latitude must be within -90..90".into()));
        }
        if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
            return Err(QueryError("longitude must be within -180..180".into()));
        }
        if !(radius_nm.is_finite() && radius_nm > 0.0 && radius_nm <= 5_400.0) {
            return Err(QueryError(
                "radius must be a positive number of nautical miles (at most 5400)".into(),
            ));
        }
        let (from_ms, to_ms) = check_window(from_ms, to_ms)?;
        Ok(Query {
            area: Some(Circle {
                lat,
                lon,
                radius_nm,
            }),
            mmsi: None,
            from_ms,
            to_ms,
            track_margin_nm: (radius_nm * 0.5).min(10.0),
            track_interval_ms: 10_000,
            max_track_points: 5_000,
        })
    }

    /// One vessel's reported positions during `[from_ms, to_ms)`, wherever
    /// it was.
    pub fn vessel(mmsi: u32, from_ms: i64, to_ms: i64) -> Result<Query, QueryError> {
        let (from_ms, to_ms) = check_window(from_ms, to_ms)?;
        Ok(Query {
            area: None,
            mmsi: Some(mmsi),
            from_ms,
            to_ms,
            track_margin_nm: 0.0,
            track_interval_ms: 10_000,
            max_track_points: 20_000,
        })
    }

    /// Refuse windows longer than `max_ms` (servers bound their work).
    /// The length is computed with checked arithmetic: a window whose
    /// length does not fit in an `i64` (possible only for a `Query` built
    /// by hand) is refused too, never wrapped into a short one.
    pub fn check_max_window(&self, max_ms: i64) -> Result<(), QueryError> {
        match self.to_ms.checked_sub(self.from_ms) {
            Some(len) if len <= max_ms => Ok(()),
            len => Err(QueryError(format!(
                "the window is {}; at most {:.1} h may be asked at once",
                len.map_or_else(
                    || "longer than anything recordable".to_string(),
                    |l| format!("{:.1} h", l as f64 / 3_600_000.0)
                ),
                max_ms as f64 / 3_600_000.0
            ))),
        }
    }
}

/// How to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Worker threads (0 = one per available core).
    pub threads: usize,
    /// Decode static reports (types 5, 19, 24) for names, call signs and
    /// ship types (default true).
    pub names: bool,
    /// Stop with an error once more than this many vessels are found
    /// (servers bound their answers; default: no limit).
    pub max_vessels: Option<usize>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            threads: 0,
            names: true,
            max_vessels: None,
        }
    }
}

/// Why a scan failed (damage inside files is counted in [`ScanStats`]
/// instead).
#[derive(Debug)]
pub enum ScanError {
    /// The archive directory (or a path given) cannot be listed.
    Io(std::io::Error),
    /// More vessels than [`ScanOptions::max_vessels`].
    TooManyVessels { limit: usize },
}

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScanError::Io(e) => write!(f, "cannot list the archive: {e}"),
            ScanError::TooManyVessels { limit } => write!(
                f,
                "more than {limit} vessels match; narrow the radius or the window"
            ),
        }
    }
}

impl std::error::Error for ScanError {}

impl From<std::io::Error> for ScanError {
    fn from(e: std::io::Error) -> Self {
        ScanError::Io(e)
    }
}

/// One reported position.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TrackPoint {
    /// Line time (receive time `rt:`, else TAG `c:`), ms since the epoch.
    pub time_ms: i64,
    pub lat: f64,
    pub lon: f64,
    /// Speed over ground, knots, as reported.
    pub sog: Option<f32>,
    /// Course over ground, degrees, as reported.
    pub cog: Option<f32>,
}

/// The closest reported position to the query's centre.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Approach {
    pub distance_nm: f64,
    #[serde(flatten)]
    pub point: TrackPoint,
}

/// One vessel in an answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VesselPass {
    pub mmsi: u32,
    /// From the newest static report in the archive files read (types 5,
    /// 19, 24), when names were asked for.
    pub name: Option<String>,
    pub callsign: Option<String>,
    pub ship_type: Option<u8>,
    /// Station class as the picture derives it (`A`, `B`, `sar_aircraft`,
    /// `ais_sart`, …).
    pub class: &'static str,
    /// Closest reported approach (area queries).
    pub closest: Option<Approach>,
    /// First and last report inside the radius (area queries), or of the
    /// track (vessel queries).
    pub first_ms: i64,
    pub last_ms: i64,
    /// Position reports inside the radius (area queries) or in the window
    /// (vessel queries), before thinning.
    pub reports: u64,
    /// The track, oldest first: points inside `radius + track_margin_nm`
    /// (area queries) or every point (vessel queries), thinned.
    pub track: Vec<TrackPoint>,
}

/// What the scan did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ScanStats {
    /// Archive files found.
    pub files_listed: u64,
    /// Files skipped by name (their hour lies outside the window).
    pub files_skipped: u64,
    /// Files read.
    pub files_read: u64,
    /// Bytes of lines read (after decompression).
    pub bytes: u64,
    pub lines: u64,
    /// Lines whose time fell in the window.
    pub lines_in_window: u64,
    /// Lines given to the decoder.
    pub decoded_lines: u64,
    /// Position reports decoded in the window.
    pub positions: u64,
    /// Positions inside the circle's bounding box (area queries).
    pub in_box: u64,
    /// Half-written last lines skipped.
    pub truncated: u64,
    /// Lines over 8 KiB skipped.
    pub overlong: u64,
    /// Files that could not be opened or read to the end.
    pub file_errors: u64,
    pub last_error: Option<String>,
    pub threads: u64,
    /// Wall time of the scan.
    pub elapsed_ms: u64,
}

/// The answer to a [`Query`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    pub query: Query,
    /// Nearest closest approach first (area queries), else by MMSI.
    pub vessels: Vec<VesselPass>,
    pub stats: ScanStats,
}
