//! `lookout replay`: the engine (decoder → picture → alert rules, the same
//! [`engine::Engine`] `lookout serve` runs) over recordings, as fast as
//! possible or at N× real time.
//!
//! ```text
//! lookout replay FILE|DIR ... [--speed N|max] [--from T] [--to T] [--zones PATH] [--alerts-out FILE] [--events-out FILE]
//! ```
//! Files in a folder are read in time order (archive names carry their
//! start time); time comes from each line's TAG block (Lookout's `rt:`,
//! else `c:`), never from the wall clock, so two replays of the same input
//! give byte-identical event and alert output. A progress bar shows on a terminal; a
//! summary (lines, messages, vessels, events, time span, rate) ends the run.

use clap::Args;
use engine::{Engine, EngineConfig};
use indicatif::{ProgressBar, ProgressStyle};
use ingest::archive_reader::ArchiveReader;
use ingest::timefmt::parse_time;
use lookout_ais::LineContext;
use server::{parse_speed, zone_paths};
use spatial_index::ZoneIndex;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct ReplayArgs {
    /// Recordings: archive files (plain or .gz) and/or folders of them.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// `max` (default) or a multiple of real time, e.g. `10`.
    #[arg(long, default_value = "max")]
    speed: String,
    /// Only lines at or after this time: RFC 3339 (2026-11-28T06:00:00Z), a
    /// date (2026-11-28) or UNIX seconds or milliseconds.
    #[arg(long)]
    from: Option<String>,
    /// Only lines before this time (same forms as --from).
    #[arg(long)]
    to: Option<String>,
    /// Zone files or folders (default: config/zones when it exists).
    #[arg(long)]
    zones: Vec<PathBuf>,
    /// Write every picture event (vessel new/stale/lost/removed, zone
    /// entered/left, flags) as JSON lines to this file.
    #[arg(long)]
    events_out: Option<PathBuf>,
    /// Write every alert change (raised, updated, cleared) as JSON lines
    /// to this file.
    #[arg(long)]
    alerts_out: Option<PathBuf>,
}

pub fn run(args: ReplayArgs) -> ExitCode {
    match replay(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lookout replay: {e}");
            ExitCode::from(2)
        }
    }
}

fn replay(args: ReplayArgs) -> Result<(), String> {
    let speed = parse_speed(&args.speed)?;
    let from = args
        .from
        .as_deref()
        .map(parse_time)
        .transpose()
        .map_err(|e| format!("--from: {e}"))?;
    let to = args
        .to
        .as_deref()
        .map(parse_time)
        .transpose()
        .map_err(|e| format!("--to: {e}"))?;
    if let (Some(f), Some(t)) = (from, to) {
        if f >= t {
            return Err(format!(
                "--from ({}) is not before --to ({})",
                args.from.as_deref().unwrap_or_default(),
                args.to.as_deref().unwrap_or_default()
            ));
        }
    }
    for p in &args.paths {
        std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    let zones = ZoneIndex::load(&zone_paths(&args.zones)).map_err(|e| e.to_string())?;
    let zone_count = zones.len();
    let mut engine = Engine::standalone(EngineConfig::default(), zones);
    engine.track_changes(false);
    engine.keep_events(args.events_out.is_some());
    let mut reader = ArchiveReader::open(&args.paths)
        .map_err(|e| e.to_string())?
        .with_range(from, to);
    let total_bytes: u64 = reader
        .remaining_files()
        .filter(|f| !f.path.to_string_lossy().ends_with(".gz"))
        .filter_map(|f| std::fs::metadata(&f.path).ok().map(|m| m.len()))
        .sum();
    let bar = if std::io::stderr().is_terminal() {
        let b = ProgressBar::new(total_bytes.max(1));
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    let create = |p: &Option<PathBuf>| -> Result<Option<BufWriter<std::fs::File>>, String> {
        match p {
            Some(p) => Ok(Some(BufWriter::new(
                std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()))?,
            ))),
            None => Ok(None),
        }
    };
    let mut events_out = create(&args.events_out)?;
    let mut alerts_out = create(&args.alerts_out)?;
    let mut alert_count = 0u64;

    let wall_start = Instant::now();
    let mut sources = ingest::archive_reader::SourceIds::default();
    let (mut lines, mut bytes) = (0u64, 0u64);
    let (mut first_ms, mut last_ms): (Option<i64>, Option<i64>) = (None, None);
    let mut pace_origin: Option<(i64, Instant)> = None;
    for line in reader.by_ref() {
        lines += 1;
        bytes += line.raw.len() as u64 + 1;
        let t = line.time_ms;
        if let Some(t) = t {
            first_ms = Some(first_ms.map_or(t, |f| f.min(t)));
            last_ms = Some(last_ms.map_or(t, |l| l.max(t)));
            if let Some(speed) = speed {
                let (t0, w0) = *pace_origin.get_or_insert((t, Instant::now()));
                let due = w0 + Duration::from_secs_f64(((t - t0).max(0) as f64 / 1000.0) / speed);
                let now = Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                }
            }
        }
        let source = sources.id(line.source.as_deref());
        let ctx = LineContext {
            source,
            received_ms: t,
        };
        let _ = engine.feed_raw(&line.raw, &ctx);
        if lines % 4096 == 0 {
            write_json_lines(&engine.take_events(), events_out.as_mut())?;
            alert_count += write_json_lines(&engine.take_alerts(), alerts_out.as_mut())?;
            if let Some(b) = &bar {
                b.set_position(bytes.min(total_bytes));
                b.set_message(format!(
                    "{} messages, {} vessels",
                    engine.messages(),
                    engine.picture().len()
                ));
            }
        }
    }
    engine.finish();
    write_json_lines(&engine.take_events(), events_out.as_mut())?;
    let events = engine.events_total();
    alert_count += write_json_lines(&engine.take_alerts(), alerts_out.as_mut())?;
    let messages = engine.messages();
    for w in [events_out, alerts_out].into_iter().flatten() {
        let mut w = w;
        w.flush().map_err(|e| e.to_string())?;
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let wall = wall_start.elapsed().as_secs_f64();
    let span = match (first_ms, last_ms) {
        (Some(a), Some(b)) => format!(
            "{} → {} ({})",
            broadcast::view::format_time(a),
            broadcast::view::format_time(b),
            humantime::format_duration(Duration::from_secs(((b - a) / 1000).max(0) as u64))
        ),
        _ => "no timed lines".into(),
    };
    let st = engine.decode_stats();
    eprintln!(
        "replayed {lines} lines, {messages} messages ({} decode errors), {} vessels, {events} events, {alert_count} alert changes ({} open), {zone_count} zones\n\
         message time {span}\n\
         {:.1} s wall, {:.0} lines/s",
        st.total_errors(),
        engine.picture().len(),
        engine.rules().open_count(),
        wall,
        lines as f64 / wall.max(1e-9)
    );
    let st = reader.stats();
    if st.file_errors > 0 {
        return Err(format!(
            "{} input file(s) could not be read to the end (last error: {})",
            st.file_errors,
            st.last_error.as_deref().unwrap_or("unknown")
        ));
    }
    Ok(())
}

/// Write `items` (picture events, alert changes) as JSON lines when there
/// is a file; returns how many there were.
fn write_json_lines<T: serde::Serialize>(
    items: &[T],
    out: Option<&mut BufWriter<std::fs::File>>,
) -> Result<u64, String> {
    if let Some(w) = out {
        for item in items {
            serde_json::to_writer(&mut *w, item).map_err(|e| e.to_string())?;
            w.write_all(b"\n").map_err(|e| e.to_string())?;
        }
    }
    Ok(items.len() as u64)
}
