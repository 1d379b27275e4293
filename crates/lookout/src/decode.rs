//! `lookout decode`: AIS sentences in, gpsd-compatible JSON lines out.
//!
//! Reads each FILE (or stdin for `-` / no file), decodes with
//! [`lookout_ais::Decoder`] and writes one JSON object per message to stdout.
//! Bad lines are skipped and counted; `--stats` prints the counts to stderr.
//! The exit code is 0 unless an input could not be read.

use crate::input;
use clap::Args;
use lookout_ais::json::{write_gpsd_json, JsonOptions};
use lookout_ais::nmea::FrameOptions;
use lookout_ais::{DecodeStats, Decoder, DecoderOptions};
use std::io::{self, Write};
use std::process::ExitCode;

#[derive(Args)]
pub struct DecodeArgs {
    /// Input files (plain or gzip); `-` or none for stdin.
    files: Vec<String>,
    /// Print a summary (lines, messages by type, errors by kind) to stderr.
    #[arg(long)]
    stats: bool,
    /// Accept sentences whose checksum does not match.
    #[arg(long)]
    no_checksum: bool,
    /// Accept sentences without a `*hh` checksum.
    #[arg(long)]
    allow_missing_checksum: bool,
    /// Leave out the added `talker`, `channel`, `tagblock` fields.
    #[arg(long)]
    gpsd_only: bool,
}

/// Output buffer flushed to stdout in large writes.
struct Out {
    buf: Vec<u8>,
    stdout: io::Stdout,
    broken: bool,
}

impl Out {
    fn flush_if_full(&mut self) {
        if self.buf.len() >= 1 << 20 {
            self.flush();
        }
    }
    fn flush(&mut self) {
        if !self.broken && !self.buf.is_empty() {
            let mut lock = self.stdout.lock();
            if lock
                .write_all(&self.buf)
                .and_then(|_| lock.flush())
                .is_err()
            {
                // Reader went away (e.g. `| head`): stop writing, keep counting.
                self.broken = true;
            }
        }
        self.buf.clear();
    }
}

pub fn run(args: DecodeArgs) -> ExitCode {
    let opts = DecoderOptions {
        frame: FrameOptions {
            verify_checksum: !args.no_checksum,
            allow_missing_checksum: args.allow_missing_checksum,
        },
        ..DecoderOptions::default()
    };
    let json_opts = if args.gpsd_only {
        JsonOptions {
            sentence_fields: false,
            tagblock: false,
        }
    } else {
        JsonOptions::default()
    };
    let mut decoder = Decoder::new(opts);
    let mut out = Out {
        buf: Vec::with_capacity(2 << 20),
        stdout: io::stdout(),
        broken: false,
    };
    let files = if args.files.is_empty() {
        vec!["-".to_string()]
    } else {
        args.files
    };
    let mut failed = false;
    for path in &files {
        let result = input::open(path).and_then(|reader| {
            input::for_each_line(reader, |line| {
                let _ = decoder.decode_line(line, |m| {
                    write_gpsd_json(&mut out.buf, &m, &json_opts);
                    out.buf.push(b'\n');
                });
                out.flush_if_full();
            })
        });
        if let Err(e) = result {
            eprintln!("lookout decode: {path}: {e}");
            failed = true;
        }
    }
    out.flush();
    if args.stats {
        print_stats(decoder.stats(), decoder.pending_groups());
    }
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

fn print_stats(s: &DecodeStats, pending: usize) {
    let mut e = io::stderr().lock();
    let _ = writeln!(e, "lines: {}", s.lines);
    let _ = writeln!(e, "non_ais_lines: {}", s.non_ais);
    let _ = writeln!(e, "sentences: {}", s.sentences);
    let _ = writeln!(e, "messages: {}", s.messages);
    for (t, n) in s.by_type.iter().enumerate().filter(|(_, n)| **n > 0) {
        let _ = writeln!(e, "  type {t}: {n}");
    }
    let _ = writeln!(e, "errors: {}", s.total_errors());
    for (name, n) in s.error_counts() {
        let _ = writeln!(e, "  {name}: {n}");
    }
    let _ = writeln!(e, "tag_block_errors: {}", s.tag_errors);
    let _ = writeln!(e, "orphaned_groups: {}", s.orphaned_groups + pending as u64);
    let _ = writeln!(e, "stray_fragments: {}", s.stray_fragments);
}
