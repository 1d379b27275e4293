//! `lookout`: the command-line entry point.
//!
//! A thin layer over the library crates: it parses arguments with clap and
//! hands each subcommand to its own module.
//!
//! - `lookout decode [FILE ...]` — AIS/NMEA to gpsd-compatible JSON lines
//!   ([`decode`]).
//! - `lookout simulate` — a realistic AIS recording from a scenario
//!   ([`simulate`]).

mod decode;
mod input;
mod simulate;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "lookout",
    version,
    about = "Maritime operations picture for SAR and patrol coordination"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode AIS (NMEA 0183 !AIVDM/!AIVDO) from files or stdin to JSON lines
    /// with gpsd's field names.
    Decode(decode::DecodeArgs),
    /// Write a realistic AIS recording (NMEA with TAG blocks) from a scenario.
    Simulate(simulate::SimulateArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Decode(args) => decode::run(args),
        Command::Simulate(args) => simulate::run(args),
    }
}
