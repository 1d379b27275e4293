//! `bench-replay`: where does `lookout replay`'s time go? The same path as
//! `lookout replay --speed max` (archive reader → [`engine::Engine`]:
//! decoder → picture → alert rules, one message at a time), run
//! cumulatively stage by stage on one thread:
//!
//! ```text
//! bench-replay busy.nmea [--zones config/zones] [--stages read,decode,engine]
//! ```
//!
//! * `read` — `ingest::archive_reader::ArchiveReader` only (lines and TAG
//!   times),
//! * `decode` — plus `lookout_ais::Decoder`,
//! * `engine` — the whole engine, every rule on (default config), i.e.
//!   what `lookout replay` does minus its progress bar and output files.
//!
//! Each stage prints lines/s of wall time and of CPU time (user + system of
//! this process, file reading included; run it twice so the recording is
//! in the page cache). On a shared machine the CPU figure is the one to
//! compare: it does not count time spent waiting for the core.

use clap::Parser;
use engine::{Engine, EngineConfig};
use ingest::archive_reader::{ArchiveReader, SourceIds};
use lookout_ais::{Decoder, DecoderOptions, LineContext};
use spatial_index::ZoneIndex;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Parser)]
#[command(about = "Replay throughput by stage (read, decode, engine)")]
struct Args {
    /// Recordings (files or folders, plain or .gz).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Zone files or folders.
    #[arg(long, default_value = "config/zones")]
    zones: Vec<PathBuf>,
    /// Stages to run, cumulative: read, decode, engine.
    #[arg(long, value_delimiter = ',', default_value = "read,decode,engine")]
    stages: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum Stage {
    Read,
    Decode,
    Engine,
}

fn run(args: &Args, stage: Stage) -> anyhow::Result<()> {
    let zones = ZoneIndex::load(&args.zones).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut engine = Engine::standalone(EngineConfig::default(), zones);
    engine.track_changes(false);
    let mut decoder = Decoder::new(DecoderOptions::default());
    let reader = ArchiveReader::open(&args.paths).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut sources = SourceIds::default();
    let (mut lines, mut messages, mut alerts) = (0u64, 0u64, 0u64);
    let start = Instant::now();
    let cpu_start = bench_tools::procfs::cpu_seconds(std::process::id()).unwrap_or(0.0);
    for line in reader {
        lines += 1;
        if stage == Stage::Read {
            std::hint::black_box(&line.raw);
            continue;
        }
        let ctx = LineContext {
            source: sources.id(line.source.as_deref()),
            received_ms: line.time_ms,
        };
        if stage == Stage::Decode {
            let _ = decoder.decode_line_with(&line.raw, &ctx, |d| {
                std::hint::black_box(&d);
                messages += 1;
            });
            continue;
        }
        let _ = engine.feed_raw(&line.raw, &ctx);
        if lines % 4096 == 0 {
            alerts += engine.take_alerts().len() as u64;
        }
    }
    if stage == Stage::Engine {
        engine.finish();
        alerts += engine.take_alerts().len() as u64;
        messages = engine.messages();
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = bench_tools::procfs::cpu_seconds(std::process::id()).unwrap_or(0.0) - cpu_start;
    println!(
        "{:<8} {lines} lines, {messages} messages, {} vessels, {} events, {alerts} alert changes: wall {wall:.2} s, {:.0} lines/s; CPU {cpu:.2} s, {:.0} lines/s",
        match stage {
            Stage::Read => "read",
            Stage::Decode => "decode",
            Stage::Engine => "engine",
        },
        engine.picture().len(),
        engine.events_total(),
        lines as f64 / wall.max(1e-9),
        lines as f64 / cpu.max(1e-9)
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    for s in &args.stages {
        let stage = match s.as_str() {
            "read" => Stage::Read,
            "decode" => Stage::Decode,
            "engine" => Stage::Engine,
            other => anyhow::bail!("unknown stage {other:?} (read, decode, engine)"),
        };
        run(&args, stage)?;
    }
    Ok(())
}
