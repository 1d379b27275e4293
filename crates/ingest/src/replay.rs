//! Replay source: feeds archived lines back into the queue as if they were
//! being received again.
//!
//! Each line goes out as it was originally received (Lookout's TAG fields
//! removed, see [`crate::archive::ArchiveLine::original`]), stamped with its
//! recorded receive time instead of the clock, so the decoder and the
//! picture see exactly what they saw live. With `keep_sources` (the
//! default) a line is attributed to its recorded source name, registered on
//! first sight as a source of kind `replayed` (with the own asset given for
//! it in `own_assets`), so per-source reassembly and own-asset fixes work as
//! they did live. A line Lookout did not write has no recorded source name
//! (its TAG `s:` is the sending station, see
//! [`ArchiveLine::source`](crate::archive::ArchiveLine::source)) and is
//! attributed to the replay itself. Each line (and its bytes) is counted
//! once, on the source it is attributed to, never also on the replay. `speed` > 0 paces lines by their
//! recorded times (2.0 = twice real time); 0 sends them as fast as the
//! pipeline takes them, which with the default `block` policy loses
//! nothing.
//!
//! The archive is read on a plain thread, in batches over a channel of a few
//! batches, so memory stays bounded whatever the archive's size.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::archive::ArchiveLine;
use crate::archive_reader::{ArchiveReader, ReaderStats};
use crate::config::{valid_name, ConfigError, ReplayConfig};
use crate::line::{Line, DEFAULT_MAX_LINE};
use crate::source::{BoxFuture, FeedSource, SourceContext};
use crate::status::{SourceErrorKind, SourceSpec, SourceState, SourceStatus};
use crate::timefmt::parse_time;

const BATCH: usize = 256;

/// The replay source.
#[derive(Debug, Clone)]
pub struct ReplaySource {
    config: ReplayConfig,
    from: Option<i64>,
    to: Option<i64>,
}

impl ReplaySource {
    /// A replay for this configuration.
    pub fn new(config: ReplayConfig) -> Result<Self, ConfigError> {
        let parse = |t: &Option<String>| {
            t.as_deref()
                .map(parse_time)
                .transpose()
                .map_err(ConfigError)
        };
        let (from, to) = (parse(&config.from)?, parse(&config.to)?);
        Ok(ReplaySource { config, from, to })
    }
}

impl FeedSource for ReplaySource {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn run(self: Box<Self>, ctx: SourceContext) -> BoxFuture {
        Box::pin(run(*self, ctx))
    }
}

enum Batch {
    Lines(Vec<ArchiveLine>),
    Done(ReaderStats),
    Failed(String),
}

fn reader_thread(src: ReplaySource, tx: mpsc::Sender<Batch>) {
    let reader = match ArchiveReader::open(&src.config.paths) {
        Ok(r) => r.with_range(src.from, src.to),
        Err(e) => {
            let _ = tx.blocking_send(Batch::Failed(e.to_string()));
            return;
        }
    };
    let mut reader = reader;
    let mut batch = Vec::with_capacity(BATCH);
    for line in reader.by_ref() {
        batch.push(line);
        if batch.len() == BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            if tx.blocking_send(Batch::Lines(full)).is_err() {
                return;
            }
        }
    }
    if !batch.is_empty() && tx.blocking_send(Batch::Lines(batch)).is_err() {
        return;
    }
    let _ = tx.blocking_send(Batch::Done(reader.stats().clone()));
}

struct Attribution {
    keep: bool,
    own_assets: BTreeMap<String, String>,
    own: Arc<SourceStatus>,
    cache: BTreeMap<String, Arc<SourceStatus>>,
}

impl Attribution {
    fn status_for(&mut self, ctx: &SourceContext, name: Option<&str>) -> Arc<SourceStatus> {
        let Some(name) = name.filter(|n| self.keep && valid_name(n)) else {
            return self.own.clone();
        };
        if let Some(s) = self.cache.get(name) {
            return s.clone();
        }
        let spec = SourceSpec {
            name: name.to_string(),
            kind: "replayed",
            own_asset: self.own_assets.get(name).cloned(),
            overload: self.own.overload(),
        };
        match ctx.registry.get_or_register(spec) {
            Ok(s) => {
                self.cache.insert(name.to_string(), s.clone());
                s
            }
            // Registry full: attribute to the replay itself.
            Err(_) => self.own.clone(),
        }
    }
}

async fn run(src: ReplaySource, ctx: SourceContext) {
    let status = ctx.status.clone();
    let mut shutdown = ctx.shutdown.clone();
    let name = src.config.name.clone();
    let speed = src.config.speed;
    let mut attribution = Attribution {
        keep: src.config.keep_sources,
        own_assets: src.config.own_assets.clone(),
        own: status.clone(),
        cache: BTreeMap::new(),
    };
    let (tx, mut rx) = mpsc::channel(4);
    let thread_src = src.clone();
    if let Err(e) = std::thread::Builder::new()
        .name(format!("replay-{name}"))
        .spawn(move || reader_thread(thread_src, tx))
    {
        status.count_error(SourceErrorKind::Io, &e);
        status.set_state(SourceState::Failed);
        return;
    }
    status.set_state(SourceState::Reading);
    tracing::info!(source = %name, paths = ?src.config.paths, "replaying");
    // Pacing: (first recorded time, instant it was sent).
    let mut origin: Option<(i64, tokio::time::Instant)> = None;
    let mut last_ms = ctx.clock.now_ms();
    let end = 'outer: loop {
        let batch = tokio::select! {
            _ = shutdown.wait() => break SourceState::Stopped,
            b = rx.recv() => b,
        };
        match batch {
            None => break SourceState::Failed,
            Some(Batch::Failed(e)) => {
                status.count_error(SourceErrorKind::Io, &e);
                status.set_last_error(&e);
                tracing::error!(source = %name, error = %e, "cannot read the archive");
                break SourceState::Failed;
            }
            Some(Batch::Done(stats)) => {
                tracing::info!(source = %name, lines = stats.lines, truncated = stats.truncated,
                    file_errors = stats.file_errors, "replay finished");
                if stats.file_errors > 0 {
                    if let Some(e) = &stats.last_error {
                        status.set_last_error(e);
                    }
                }
                break SourceState::Finished;
            }
            Some(Batch::Lines(lines)) => {
                for al in lines {
                    let t = al.time_ms.unwrap_or(last_ms);
                    last_ms = t;
                    if speed > 0.0 {
                        let (t0, i0) = *origin.get_or_insert((t, tokio::time::Instant::now()));
                        let offset = ((t - t0).max(0) as f64 / speed) as u64;
                        let due = i0 + Duration::from_millis(offset);
                        tokio::select! {
                            _ = shutdown.wait() => break 'outer SourceState::Stopped,
                            _ = tokio::time::sleep_until(due) => {}
                        }
                    }
                    let owner = attribution.status_for(&ctx, al.source.as_deref());
                    let bytes = al.original().into_owned();
                    if bytes.len() > DEFAULT_MAX_LINE {
                        owner.count_error(
                            SourceErrorKind::LineTooLong,
                            "an archived line is too long",
                        );
                        continue;
                    }
                    if !bytes
                        .iter()
                        .all(|&b| (0x20..=0x7e).contains(&b) || b == b'\t')
                    {
                        owner.count_error(
                            SourceErrorKind::NotText,
                            "an archived line is not printable ASCII",
                        );
                        continue;
                    }
                    // Counted once, on the source the line is attributed
                    // to: the sources' `lines` add up to what was received
                    // (`lookout_source_lines_total` summed over sources).
                    owner.add_bytes(bytes.len() + 1);
                    owner.count_lines(1, t);
                    let line = Line {
                        source: owner.id(),
                        received_ms: t,
                        bytes,
                    };
                    let sent = tokio::select! {
                        _ = shutdown.wait() => break 'outer SourceState::Stopped,
                        r = ctx.sender.send(line) => r,
                    };
                    if sent.is_err() {
                        break 'outer SourceState::Stopped;
                    }
                }
            }
        }
    };
    status.set_state(end);
}
