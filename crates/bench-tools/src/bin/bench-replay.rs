//! `bench-replay`: where does `lookout replay`'s time go? The same loop as
//! `lookout replay --speed max` (archive reader → decoder → picture →
//! alert rules, with the picture's events drained to the rules every 4096
//! lines), run cumulatively stage by stage on one thread:
//!
//! ```text
//! bench-replay busy.nmea [--zones config/zones] [--stages read,decode,picture,rules]
//! ```
//!
//! * `read` — `ingest::archive_reader::ArchiveReader` only (lines and TAG
//!   times),
//! * `decode` — plus `lookout_ais::Decoder`,
//! * `picture` — plus `spatial_index::Picture::apply` and draining its
//!   events (the issue's "decoder + picture"),
//! * `rules` — plus `alerts::AlertEngine` (every rule, default config), i.e.
//!   what `lookout replay` does minus its progress bar and output files.
//!
//! Each stage prints lines/s of wall time and of CPU time (user + system of
//! this process, file reading included; run it twice so the recording is
//! in the page cache). On a shared machine the CPU figure is the one to
//! compare: it does not count time spent waiting for the core.

use alerts::{AlertConfig, AlertEngine};
use clap::Parser;
use ingest::archive_reader::{ArchiveReader, SourceIds};
use lookout_ais::{Decoder, DecoderOptions, LineContext};
use spatial_index::{Picture, PictureConfig, ZoneIndex};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Parser)]
#[command(about = "Replay throughput by pipeline stage (read, decode, picture, rules)")]
struct Args {
    /// Recordings (files or folders, plain or .gz).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Zone files or folders.
    #[arg(long, default_value = "config/zones")]
    zones: Vec<PathBuf>,
    /// Stages to run, cumulative: read, decode, picture, rules.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "read,decode,picture,rules"
    )]
    stages: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum Stage {
    Read,
    Decode,
    Picture,
    Rules,
}

fn run(args: &Args, stage: Stage) -> anyhow::Result<()> {
    let zones = ZoneIndex::load(&args.zones).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut picture = Picture::new(PictureConfig::default(), zones);
    let mut decoder = Decoder::new(DecoderOptions::default());
    let mut engine = AlertEngine::new(AlertConfig::default());
    let reader = ArchiveReader::open(&args.paths).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut sources = SourceIds::default();
    let (mut lines, mut messages, mut events, mut alerts) = (0u64, 0u64, 0u64, 0u64);
    let start = Instant::now();
    let cpu_start = bench_tools::procfs::cpu_seconds(std::process::id()).unwrap_or(0.0);
    for line in reader {
        lines += 1;
        if stage == Stage::Read {
            std::hint::black_box(&line.raw);
            continue;
        }
        let t = line.time_ms;
        let source = sources.id(line.source.as_deref());
        let ctx = LineContext {
            source,
            received_ms: t,
        };
        let _ = decoder.decode_line_with(&line.raw, &ctx, |d| {
            messages += 1;
            if stage >= Stage::Picture {
                picture.apply(&d, t);
                if stage >= Stage::Rules {
                    if let Some(mt) = d.time_ms(t) {
                        engine.on_message(&d, mt, &picture);
                    }
                }
            }
        });
        if stage >= Stage::Picture && lines % 4096 == 0 {
            (events, alerts) = drain(&mut picture, &mut engine, stage, events, alerts);
        }
    }
    if stage >= Stage::Picture {
        (events, alerts) = drain(&mut picture, &mut engine, stage, events, alerts);
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = bench_tools::procfs::cpu_seconds(std::process::id()).unwrap_or(0.0) - cpu_start;
    println!(
        "{:<8} {lines} lines, {messages} messages, {} vessels, {events} events, {alerts} alert changes: wall {wall:.2} s, {:.0} lines/s; CPU {cpu:.2} s, {:.0} lines/s",
        match stage {
            Stage::Read => "read",
            Stage::Decode => "decode",
            Stage::Picture => "picture",
            Stage::Rules => "rules",
        },
        picture.len(),
        lines as f64 / wall.max(1e-9),
        lines as f64 / cpu.max(1e-9)
    );
    Ok(())
}

fn drain(
    p: &mut Picture,
    engine: &mut AlertEngine,
    stage: Stage,
    mut events: u64,
    mut alerts: u64,
) -> (u64, u64) {
    if let Some(now) = p.now_ms() {
        p.advance_time(now);
    }
    let drained: Vec<_> = p.events_mut().drain().collect();
    events += drained.len() as u64;
    if stage >= Stage::Rules {
        for e in &drained {
            engine.on_event(&e.event, p);
        }
        if let Some(now) = p.now_ms() {
            engine.tick(now, p);
        }
        alerts += engine.take_changes().len() as u64;
    }
    (events, alerts)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    for s in &args.stages {
        let stage = match s.as_str() {
            "read" => Stage::Read,
            "decode" => Stage::Decode,
            "picture" => Stage::Picture,
            "rules" => Stage::Rules,
            other => anyhow::bail!("unknown stage {other:?} (read, decode, picture, rules)"),
        };
        run(&args, stage)?;
    }
    Ok(())
}
