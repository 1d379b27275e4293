//! `lookout history`: who was near a point during a window, from the
//! recorded archive.
//!
//! ```text
//! lookout history --archive DIR --near LAT,LON --radius NM --from T --to T [--json]
//! ```
//! A thin layer over the `history` crate (the same scan serves
//! `GET /api/history`): parse the arguments, scan, print a table (nearest
//! first) or GeoJSON with tracks, and a one-line summary of the scan on
//! stderr. Times are RFC 3339, a date, `YYYYMMDDTHHMMZ` or UNIX time.

use ::history::{output, scan, Query, ScanOptions};
use clap::Args;
use ingest::timefmt::parse_time;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct HistoryArgs {
    /// Archive folder(s) or files, as the recorder writes them.
    #[arg(long, required = true)]
    archive: Vec<PathBuf>,
    /// Centre of the circle: LAT,LON in degrees.
    #[arg(long, value_name = "LAT,LON", allow_hyphen_values = true)]
    near: String,
    /// Radius of the circle, nautical miles.
    #[arg(long, value_name = "NM")]
    radius: f64,
    /// Start of the window (inclusive).
    #[arg(long, value_name = "T")]
    from: String,
    /// End of the window (exclusive).
    #[arg(long, value_name = "T")]
    to: String,
    /// Print GeoJSON (a FeatureCollection with each vessel's track).
    #[arg(long)]
    json: bool,
    /// Only this vessel.
    #[arg(long)]
    mmsi: Option<u32>,
    /// Keep track points this far beyond the radius, NM (default: half the
    /// radius, at most 10).
    #[arg(long, value_name = "NM")]
    margin: Option<f64>,
    /// Least seconds between track points (0 keeps every report).
    #[arg(long, default_value = "10")]
    track_interval: f64,
    /// Worker threads (0 = one per core).
    #[arg(long, default_value = "0")]
    threads: usize,
    /// Do not decode static reports for names (a little faster).
    #[arg(long)]
    no_names: bool,
}

fn query(args: &HistoryArgs) -> Result<Query, String> {
    let (lat, lon) = args
        .near
        .split_once(',')
        .and_then(|(a, b)| Some((a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?)))
        .ok_or_else(|| format!("--near {:?}: give LAT,LON in degrees", args.near))?;
    let from = parse_time(&args.from).map_err(|e| format!("--from: {e}"))?;
    let to = parse_time(&args.to).map_err(|e| format!("--to: {e}"))?;
    let mut q = Query::near(lat, lon, args.radius, from, to).map_err(|e| e.to_string())?;
    q.mmsi = args.mmsi;
    if let Some(m) = args.margin {
        if !(m.is_finite() && m >= 0.0) {
            return Err("--margin must be a non-negative number of NM".into());
        }
        q.track_margin_nm = m;
    }
    if !(args.track_interval.is_finite() && args.track_interval >= 0.0) {
        return Err("--track-interval must be a non-negative number of seconds".into());
    }
    q.track_interval_ms = (args.track_interval * 1000.0) as i64;
    Ok(q)
}

pub fn run(args: HistoryArgs) -> ExitCode {
    let q = match query(&args) {
        Ok(q) => q,
        Err(e) => {
            eprintln!("lookout history: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(missing) = args.archive.iter().find(|p| !p.exists()) {
        eprintln!(
            "lookout history: {}: no such file or directory",
            missing.display()
        );
        return ExitCode::from(2);
    }
    let opts = ScanOptions {
        threads: args.threads,
        names: !args.no_names,
        max_vessels: None,
    };
    let answer = match scan(&args.archive, &q, &opts) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("lookout history: {e}");
            return ExitCode::from(1);
        }
    };
    let text = if args.json {
        let mut s = output::to_geojson(&answer).to_string();
        s.push('\n');
        s
    } else {
        output::table(&answer)
    };
    let mut out = std::io::stdout().lock();
    if out
        .write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .is_err()
    {
        return ExitCode::from(1);
    }
    eprintln!("lookout history: {}", output::summary(&answer));
    ExitCode::SUCCESS
}

/// The server's side of history: `GET /api/history` and the part of
/// `GET /api/vessels/{mmsi}/track` older than the picture's memory, both
/// answered from the recorder's archive directory. Bounded: the window,
/// the radius and the number of vessels have limits (a query beyond them is
/// refused with a sentence saying so), and at most [`MAX_CONCURRENT_SCANS`]
/// scans run at once.
pub struct ArchiveHistory {
    dir: PathBuf,
    running: std::sync::atomic::AtomicUsize,
}

/// Longest window of one `/api/history` query.
pub const MAX_HISTORY_WINDOW_MS: i64 = 7 * 86_400_000;
/// Largest radius of one `/api/history` query, NM.
pub const MAX_HISTORY_RADIUS_NM: f64 = 500.0;
/// Most vessels in one `/api/history` answer.
pub const MAX_HISTORY_VESSELS: usize = 5_000;
/// Scans (history or track) running at once; more are refused with 429.
pub const MAX_CONCURRENT_SCANS: usize = 2;

/// Decrements the running-scan count when dropped.
struct Slot<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl ArchiveHistory {
    /// History over the archive in `dir` (the recorder's directory).
    pub fn new(dir: PathBuf) -> Self {
        ArchiveHistory {
            dir,
            running: Default::default(),
        }
    }

    fn slot(&self) -> Result<Slot<'_>, broadcast::api::HistoryFailure> {
        use std::sync::atomic::Ordering::SeqCst;
        if self.running.fetch_add(1, SeqCst) >= MAX_CONCURRENT_SCANS {
            self.running.fetch_sub(1, SeqCst);
            return Err(broadcast::api::HistoryFailure::new(
                429,
                format!("{MAX_CONCURRENT_SCANS} archive scans are running; try again shortly"),
            ));
        }
        Ok(Slot(&self.running))
    }

    /// `/api/history`: GeoJSON, or why not.
    pub fn near(
        &self,
        lat: f64,
        lon: f64,
        radius_nm: f64,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<serde_json::Value, broadcast::api::HistoryFailure> {
        use broadcast::api::HistoryFailure;
        let q = Query::near(lat, lon, radius_nm, from_ms, to_ms)
            .map_err(|e| HistoryFailure::new(400, e.0))?;
        q.check_max_window(MAX_HISTORY_WINDOW_MS)
            .map_err(|e| HistoryFailure::new(400, e.0))?;
        if radius_nm > MAX_HISTORY_RADIUS_NM {
            return Err(HistoryFailure::new(
                400,
                format!("radius_nm is at most {MAX_HISTORY_RADIUS_NM}"),
            ));
        }
        let _slot = self.slot()?;
        let opts = ScanOptions {
            threads: 0,
            names: true,
            max_vessels: Some(MAX_HISTORY_VESSELS),
        };
        match scan(&[&self.dir], &q, &opts) {
            Ok(a) => {
                tracing::info!(query = %format!("{lat},{lon} r={radius_nm} NM"), "{}", output::summary(&a));
                Ok(output::to_geojson(&a))
            }
            Err(e @ ::history::ScanError::TooManyVessels { .. }) => {
                Err(HistoryFailure::new(400, e.to_string()))
            }
            Err(e) => Err(HistoryFailure::new(500, e.to_string())),
        }
    }

    /// One vessel's archived positions in `[from_ms, to_ms)`, oldest first
    /// (empty when the archive has none or cannot be read, which is
    /// logged).
    pub fn track(&self, mmsi: u32, from_ms: i64, to_ms: i64) -> Vec<::history::TrackPoint> {
        let Ok(q) = Query::vessel(mmsi, from_ms, to_ms) else {
            return Vec::new();
        };
        let Ok(_slot) = self.slot() else {
            tracing::warn!(mmsi, "track: archive busy, answering from memory only");
            return Vec::new();
        };
        match scan(&[&self.dir], &q, &ScanOptions::default()) {
            Ok(mut a) => a.vessels.pop().map(|v| v.track).unwrap_or_default(),
            Err(e) => {
                tracing::warn!(mmsi, error = %e, "track: cannot read the archive");
                Vec::new()
            }
        }
    }
}
