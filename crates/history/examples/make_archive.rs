//! Write a simulated archive exactly as `lookout serve`'s recorder writes
//! one: the simulator's lines go through `ingest::Recorder` (hourly files,
//! TAG blocks with `rt:`, closed files gzipped), stamped with their message
//! time as receive time under a manual clock, so hours of traffic are
//! recorded in minutes. Used by `scripts/bench-history.sh` and the history
//! tests.
//!
//! ```text
//! cargo run --release -p history --example make_archive -- \
//!     SCENARIO.toml HOURS OUT_DIR [SOURCE_NAME]
//! ```
//! Prints the lines recorded. Deterministic per scenario seed.

use std::sync::Arc;
use std::time::Duration;

use ingest::clock::{Clock, ManualClock};
use ingest::line::Line;
use ingest::queue::Overload;
use ingest::recorder::{Recorder, RecorderConfig};
use ingest::status::{SourceRegistry, SourceSpec};
use simulator::{Scenario, Simulator};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: make_archive SCENARIO.toml HOURS OUT_DIR [SOURCE_NAME]");
        std::process::exit(2);
    }
    let text = std::fs::read_to_string(&args[0]).expect("scenario file");
    let scenario = Scenario::from_toml(&text).expect("scenario");
    let hours: f64 = args[1].parse().expect("HOURS is a number");
    let out = std::path::PathBuf::from(&args[2]);
    let source = args.get(3).map_or("national", String::as_str);

    let registry = Arc::new(SourceRegistry::default());
    let src = registry
        .register(SourceSpec {
            name: source.to_string(),
            kind: "file",
            own_asset: None,
            overload: Overload::Block,
        })
        .expect("source");
    let start = scenario.start_ms().expect("start");
    let clock = Arc::new(ManualClock::new(start));
    let recorder = Recorder::start(
        RecorderConfig::new(&out),
        registry.clone(),
        clock.clone() as Arc<dyn Clock>,
    )
    .expect("recorder");
    let mut sim = Simulator::new(&scenario).expect("simulator");
    let mut batch: Vec<Line> = Vec::with_capacity(4096);
    let mut recorded = 0u64;
    let flush = |batch: &mut Vec<Line>, recorded: &mut u64| {
        recorder.record_batch(batch);
        *recorded += batch.len() as u64;
        batch.clear();
        // Keep the writer's backlog small: it drops beyond its bound.
        if recorder.status().snapshot().pending_bytes > 4 << 20 {
            recorder.sync(Duration::from_secs(60));
        }
    };
    // An hour at a time, so memory stays small.
    let total_ms = (hours * 3_600_000.0) as i64;
    let mut done = 0i64;
    while done < total_ms {
        let step = (total_ms - done).min(3_600_000);
        sim.run_for(done + step, |t, line| {
            clock.set(t);
            batch.push(Line {
                source: src.id(),
                received_ms: t,
                bytes: line.as_bytes().to_vec(),
            });
            if batch.len() == batch.capacity() {
                flush(&mut batch, &mut recorded);
            }
        });
        done += step;
    }
    flush(&mut batch, &mut recorded);
    // Past the last period, so the last file is closed and compressed too.
    clock.set(start + total_ms + 3_600_000);
    recorder.sync(Duration::from_secs(600));
    let lost = recorder.status().snapshot();
    recorder.close();
    assert_eq!(
        lost.lost_lines + lost.backlog_lost_lines,
        0,
        "recorder lost lines: {lost:?}"
    );
    println!("{recorded}");
}
