//! JSON-lines sink: each alert change as one line of
//! [`alerts::Alert::to_json`], appended to a file (created when missing)
//! or written to standard output (`path = "-"`).
//!
//! Each line is written with a single `write` of the whole line and
//! flushed before the next alert is taken (optionally `fsync`ed), so a
//! reader tailing the file never sees a partial object from a healthy
//! writer and a crash loses at most the line being written. On a write
//! error the file is reopened (which also follows a rotation by rename)
//! and the line tried once more; if that fails too the alert is counted as
//! dropped and the error kept in the sink's status.

use crate::config::JsonLinesConfig;
use crate::sink::{AlertSink, Inbox, SinkFuture, SinkStats};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::Ordering;

enum Out {
    Stdout,
    File(Option<File>),
}

/// The JSON-lines sink.
pub struct JsonLinesSink {
    cfg: JsonLinesConfig,
    out: Out,
}

fn open(path: &Path) -> std::io::Result<File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    OpenOptions::new().create(true).append(true).open(path)
}

impl JsonLinesSink {
    /// Open the file now, so a bad path is an error at start.
    pub fn new(cfg: JsonLinesConfig) -> Result<JsonLinesSink, String> {
        let out = if cfg.path.as_os_str() == "-" {
            Out::Stdout
        } else {
            Out::File(Some(
                open(&cfg.path).map_err(|e| format!("{}: {e}", cfg.path.display()))?,
            ))
        };
        Ok(JsonLinesSink { cfg, out })
    }

    fn write_line(&mut self, line: &[u8]) -> std::io::Result<()> {
        match &mut self.out {
            Out::Stdout => {
                let mut o = std::io::stdout().lock();
                o.write_all(line)?;
                o.flush()
            }
            Out::File(f) => {
                if f.is_none() {
                    *f = Some(open(&self.cfg.path)?);
                }
                let file = f.as_mut().expect("just opened");
                let r = file
                    .write_all(line)
                    .and_then(|_| file.flush())
                    .and_then(|_| {
                        if self.cfg.fsync {
                            file.sync_data()
                        } else {
                            Ok(())
                        }
                    });
                if r.is_err() {
                    *f = None;
                }
                r
            }
        }
    }

    async fn main(mut self: Box<Self>, mut inbox: Inbox) {
        let stats = inbox.stats().clone();
        stats.connected.store(true, Ordering::Relaxed);
        while let Some(a) = inbox.recv().await {
            SinkStats::inc(&stats.accepted);
            let mut line = a.to_json().into_bytes();
            if line.is_empty() {
                SinkStats::inc(&stats.dropped_other);
                continue;
            }
            line.push(b'\n');
            SinkStats::inc(&stats.attempts);
            let mut r = self.write_line(&line);
            if r.is_err() {
                SinkStats::inc(&stats.failed);
                SinkStats::inc(&stats.attempts);
                r = self.write_line(&line);
            }
            match r {
                Ok(()) => stats.delivered_now(),
                Err(e) => {
                    SinkStats::inc(&stats.failed);
                    SinkStats::inc(&stats.dropped_other);
                    stats.set_error(format!("{}: {e}", self.cfg.path.display()));
                    tracing::error!(sink = %self.cfg.name, path = %self.cfg.path.display(), error = %e,
                        alert = %a.id, "cannot write an alert line: DROPPED");
                }
            }
        }
    }
}

impl AlertSink for JsonLinesSink {
    fn run(self: Box<Self>, inbox: Inbox) -> SinkFuture {
        Box::pin(self.main(inbox))
    }
}
