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
