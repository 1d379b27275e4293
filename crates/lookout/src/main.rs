//! `lookout`: the command-line entry point — a thin binary over the
//! library crates.
//!
//! It parses arguments with clap, sets up logging (stderr, `RUST_LOG`) and
//! hands each subcommand to a small module; the work is done in the
//! libraries (`server`, `engine`, `ingest`, `history`, `simulator`,
//! `lookout-ais`, `broadcast`).
//!
//! - `lookout decode [FILE ...]` — AIS/NMEA to gpsd-compatible JSON lines
//!   ([`decode`], reading through [`input`]).
//! - `lookout simulate` — a realistic AIS recording from a scenario
//!   ([`simulate`], over the `simulator` crate).
//! - `lookout replay FILE|DIR ...` — the engine over recordings
//!   ([`replay`]).
//! - `lookout serve` — the live picture over WebSocket and HTTP: the
//!   command line ([`serve_cli`]) of `server::Server`, which assembles
//!   sources, pipeline or cluster role, HTTP and the shutdown drain.
//! - `lookout history --archive DIR --near LAT,LON --radius NM --from T
//!   --to T` — who was near a point, from the recorded archive
//!   ([`history`], over the `history` crate).
//! - `lookout token hash` — the SHA-256 to put in the config for a token.

mod decode;
mod history;
mod input;
mod replay;
mod serve_cli;
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
    /// Run the decoder and picture over recordings (files or folders).
    Replay(replay::ReplayArgs),
    /// Serve the live picture (WebSocket and HTTP API on one port).
    Serve(serve_cli::ServeArgs),
    /// Every vessel that came within a radius of a point during a window,
    /// with its closest approach and track, from the recorded archive.
    History(history::HistoryArgs),
    /// Access tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Print the SHA-256 of a token read from stdin, for `[[auth.tokens]]`.
    Hash,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Logs go to stderr; RUST_LOG sets the level (default: info).
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match cli.command {
        Command::Decode(args) => decode::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Serve(args) => serve_cli::run(args),
        Command::History(args) => history::run(args),
        Command::Token(TokenCommand::Hash) => {
            let mut token = String::new();
            if std::io::stdin().read_line(&mut token).is_err() || token.trim().is_empty() {
                eprintln!("lookout token hash: give the token on stdin");
                return ExitCode::from(2);
            }
            println!("{}", broadcast::auth::hash_token(token.trim()));
            ExitCode::SUCCESS
        }
    }
}
