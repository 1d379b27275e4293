//! `lookout simulate`: write a realistic AIS recording from a scenario.
//!
//! ```text
//! lookout simulate [--scenario FILE] [--duration 1h] [-o OUT.nmea]
//! ```
//! Without `--scenario`, the bundled central-Mediterranean demonstration
//! (`config/scenarios/central-med.toml`) is used; without `-o`, lines go to
//! stdout. The output is NMEA with TAG blocks, readable by `lookout decode`,
//! `lookout replay` and any NMEA tool.

use clap::Args;
use simulator::{Scenario, Simulator};
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args)]
pub struct SimulateArgs {
    /// Scenario TOML file (default: the bundled central-Mediterranean demo).
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// How much message time to simulate, e.g. `90m`, `1h`, `24h`.
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Output file (`-` or none for stdout).
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
}

pub fn run(args: SimulateArgs) -> ExitCode {
    let scenario = match &args.scenario {
        None => Scenario::demo(),
        Some(path) => {
            let loaded = std::fs::read_to_string(path)
                .map_err(|e| e.to_string())
                .and_then(|t| Scenario::from_toml(&t).map_err(|e| e.to_string()));
            match loaded {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("lookout simulate: {}: {e}", path.display());
                    return ExitCode::from(2);
                }
            }
        }
    };
    let mut sim = match Simulator::new(&scenario) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("lookout simulate: {e}");
            return ExitCode::from(2);
        }
    };
    let sink: Box<dyn Write> = match args.output.as_deref() {
        None => Box::new(io::stdout().lock()),
        Some(p) if p.as_os_str() == "-" => Box::new(io::stdout().lock()),
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("lookout simulate: {}: {e}", p.display());
                return ExitCode::from(2);
            }
        },
    };
    let mut out = BufWriter::with_capacity(1 << 20, sink);
    let mut failed = None;
    sim.run_for(args.duration.as_millis() as i64, |_, line| {
        if failed.is_none() {
            if let Err(e) = out
                .write_all(line.as_bytes())
                .and_then(|_| out.write_all(b"\r\n"))
            {
                failed = Some(e);
            }
        }
    });
    if let Some(e) = failed.or_else(|| out.flush().err()) {
        eprintln!("lookout simulate: write failed: {e}");
        return ExitCode::from(2);
    }
    eprintln!(
        "lookout simulate: {} stations, {} lines, {} of message time from {}",
        sim.stations(),
        sim.lines(),
        humantime::format_duration(args.duration),
        scenario.start
    );
    ExitCode::SUCCESS
}
