//! The recorder: every line received, appended to hourly archive files.
//!
//! The recorder taps the queue on the consumer side: the pipeline's loop
//! takes a batch from [`crate::queue::QueueReceiver::recv_batch`], hands it
//! to [`Recorder::record_batch`] and then to the decoder. `record_batch`
//! never blocks and never fails: it formats the batch into archive lines
//! (see [`crate::archive`]) and passes the bytes to a writer thread over a
//! bounded channel (bounded in bytes too, `max_pending_bytes`). If the writer
//! falls behind or the disk is in trouble, lines are counted as lost; the
//! live picture never waits for the disk.
//!
//! Files:
//!
//! * One file per period (default an hour) of *receive time*, named by the
//!   UTC start of the period, `{prefix}-YYYYMMDDTHHMMZ.nmea`, so names sort in
//!   time order. Periods only move forward: a line a few ms late for the
//!   previous hour goes into the current file.
//! * Append-only; each batch is written with one `write` call of whole
//!   lines, so a crash loses at most the batch in flight and a reader
//!   skips a half-written last line. On restart an existing file for the
//!   current period is cut back to its last complete line before appending.
//! * Closed files (rotation, idle past their period, shutdown) are gzipped
//!   by a separate compressor thread (`.nmea.gz`, written to a `.tmp` and
//!   renamed, then the plain file removed), so ingest never waits for
//!   compression. Left-over plain files of past periods are compressed at
//!   startup.
//!
//! Errors (disk full, directory missing or unwritable): reported loudly
//! once per episode (`tracing::error!` and [`RecorderStatus::failing`]),
//! every line lost meanwhile counted (lines and bytes), and the writer
//! retries every `retry_ms` until it works, then says so once.
//!
//! What the recorder is doing is data, for `/api/status` and `/metrics`:
//! [`Recorder::snapshot`] gives a [`RecorderSnapshot`] (serde `Serialize`)
//! with its [`RecorderState`] (`recording`, `idle`, `failing`, `stopped`),
//! lines and bytes written and lost, the last error and when it happened,
//! and since when the current failure lasts; [`RecorderSnapshot::metrics`]
//! lists the same as Prometheus counters and gauges.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{
    AtomicBool, AtomicI64, AtomicU64, AtomicU8, AtomicUsize, Ordering::Relaxed,
};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::archive::append_archive_line;
use crate::clock::Clock;
use crate::config::{valid_name, ConfigError};
use crate::line::Line;
use crate::status::SourceRegistry;
use crate::timefmt::{format_compact, parse_compact};

fn default_rotate_secs() -> u64 {
    3600
}
fn default_prefix() -> String {
    "lookout".into()
}
fn default_true() -> bool {
    true
}
fn default_max_pending() -> usize {
    16 * 1024 * 1024
}
fn default_retry_ms() -> u64 {
    5000
}

/// Recorder settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecorderConfig {
    /// Where archive files go (created if missing).
    pub directory: PathBuf,
    /// Period of a file in seconds: a multiple of 60 that divides a day.
    #[serde(default = "default_rotate_secs")]
    pub rotate_secs: u64,
    /// File name prefix.
    #[serde(default = "default_prefix")]
    pub prefix: String,
    /// Gzip closed files.
    #[serde(default = "default_true")]
    pub compress: bool,
    /// Bytes waiting for the writer before new lines are dropped (counted).
    #[serde(default = "default_max_pending")]
    pub max_pending_bytes: usize,
    /// How often to retry after a write error.
    #[serde(default = "default_retry_ms")]
    pub retry_ms: u64,
}

impl RecorderConfig {
    /// Settings with the defaults, writing to `directory`.
    pub fn new(directory: impl Into<PathBuf>) -> Self {
        RecorderConfig {
            directory: directory.into(),
            rotate_secs: default_rotate_secs(),
            prefix: default_prefix(),
            compress: true,
            max_pending_bytes: default_max_pending(),
            retry_ms: default_retry_ms(),
        }
    }

    /// Check the period and prefix.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.rotate_secs < 60
            || !self.rotate_secs.is_multiple_of(60)
            || !86_400u64.is_multiple_of(self.rotate_secs)
        {
            return Err(ConfigError(format!(
                "recorder rotate_secs {} must be a multiple of 60 that divides 86400",
                self.rotate_secs
            )));
        }
        if !valid_name(&self.prefix) {
            return Err(ConfigError(format!(
                "recorder prefix {:?} must be 1-64 characters of A-Z a-z 0-9 . _ -",
                self.prefix
            )));
        }
        if self.retry_ms == 0 {
            return Err(ConfigError("recorder retry_ms is 0".into()));
        }
        Ok(())
    }

    fn period_ms(&self) -> i64 {
        self.rotate_secs as i64 * 1000
    }
}

/// What the recorder is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecorderState {
    /// Writing to an archive file.
    Recording,
    /// Working, with no file open (nothing received yet this period).
    Idle,
    /// Writes fail (disk full, directory missing or unwritable): lines
    /// are lost and counted, the writer retries every `retry_ms`.
    Failing,
    /// Closed.
    Stopped,
}

impl RecorderState {
    fn from_u8(v: u8) -> RecorderState {
        match v {
            1 => RecorderState::Recording,
            2 => RecorderState::Failing,
            3 => RecorderState::Stopped,
            _ => RecorderState::Idle,
        }
    }

    fn as_u8(self) -> u8 {
        match self {
            RecorderState::Idle => 0,
            RecorderState::Recording => 1,
            RecorderState::Failing => 2,
            RecorderState::Stopped => 3,
        }
    }

    /// A short stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            RecorderState::Recording => "recording",
            RecorderState::Idle => "idle",
            RecorderState::Failing => "failing",
            RecorderState::Stopped => "stopped",
        }
    }
}

/// No time recorded (for the `*_ms` atomics).
const NO_TIME: i64 = i64::MIN;

/// Live recorder counters, readable at any time.
#[derive(Debug)]
pub struct RecorderStatus {
    recorded_lines: AtomicU64,
    recorded_bytes: AtomicU64,
    lost_lines: AtomicU64,
    lost_bytes: AtomicU64,
    backlog_lost_lines: AtomicU64,
    skipped_lines: AtomicU64,
    failing: AtomicBool,
    error_episodes: AtomicU64,
    files_opened: AtomicU64,
    files_compressed: AtomicU64,
    compress_errors: AtomicU64,
    repaired_bytes: AtomicU64,
    pending_bytes: AtomicUsize,
    state: AtomicU8,
    /// Clock time of the last error ([`NO_TIME`]: none).
    last_error_ms: AtomicI64,
    /// Clock time the current failure began ([`NO_TIME`]: not failing).
    failing_since_ms: AtomicI64,
    /// Lines lost in the current failure.
    lost_in_episode: AtomicU64,
    last_error: Mutex<Option<String>>,
    current_file: Mutex<Option<PathBuf>>,
}

impl Default for RecorderStatus {
    fn default() -> Self {
        RecorderStatus {
            recorded_lines: AtomicU64::new(0),
            recorded_bytes: AtomicU64::new(0),
            lost_lines: AtomicU64::new(0),
            lost_bytes: AtomicU64::new(0),
            backlog_lost_lines: AtomicU64::new(0),
            skipped_lines: AtomicU64::new(0),
            failing: AtomicBool::new(false),
            error_episodes: AtomicU64::new(0),
            files_opened: AtomicU64::new(0),
            files_compressed: AtomicU64::new(0),
            compress_errors: AtomicU64::new(0),
            repaired_bytes: AtomicU64::new(0),
            pending_bytes: AtomicUsize::new(0),
            state: AtomicU8::new(RecorderState::Idle.as_u8()),
            last_error_ms: AtomicI64::new(NO_TIME),
            failing_since_ms: AtomicI64::new(NO_TIME),
            lost_in_episode: AtomicU64::new(0),
            last_error: Mutex::new(None),
            current_file: Mutex::new(None),
        }
    }
}

/// A serializable copy of [`RecorderStatus`]: what `/api/status` shows of
/// the recorder (see [`RecorderSnapshot::metrics`] for `/metrics`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecorderSnapshot {
    /// `recording`, `idle`, `failing` or `stopped`.
    pub state: RecorderState,
    pub recorded_lines: u64,
    pub recorded_bytes: u64,
    /// Lines not recorded because of write errors or a full backlog.
    pub lost_lines: u64,
    pub lost_bytes: u64,
    /// Of `lost_lines`, those dropped because the writer was behind.
    pub backlog_lost_lines: u64,
    /// Lines not recorded because they are not printable ASCII.
    pub skipped_lines: u64,
    pub failing: bool,
    pub error_episodes: u64,
    pub files_opened: u64,
    pub files_compressed: u64,
    pub compress_errors: u64,
    /// Bytes of half-written lines cut from files reopened after a crash.
    pub repaired_bytes: u64,
    pub pending_bytes: usize,
    pub last_error: Option<String>,
    /// When the last error happened (the recorder's clock, UNIX ms).
    pub last_error_ms: Option<i64>,
    /// When the current failure began (UNIX ms); `None` unless failing.
    pub failing_since_ms: Option<i64>,
    /// Lines lost in the current failure (0 unless failing).
    pub lost_lines_in_episode: u64,
    pub current_file: Option<String>,
}

/// One value of [`RecorderSnapshot::metrics`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecorderMetric {
    /// Metric name, without a prefix (e.g. `recorder_lost_lines`).
    pub name: &'static str,
    pub help: &'static str,
    /// A counter (monotonic) rather than a gauge.
    pub counter: bool,
    pub value: u64,
}

impl RecorderSnapshot {
    /// The snapshot as Prometheus counters and gauges, for the server's
    /// `/metrics` (register each under its name; counters get `_total`).
    pub fn metrics(&self) -> Vec<RecorderMetric> {
        let m = |name, help, counter, value| RecorderMetric {
            name,
            help,
            counter,
            value,
        };
        vec![
            m(
                "recorder_failing",
                "1 while archive writes fail (lines are being lost)",
                false,
                (self.state == RecorderState::Failing) as u64,
            ),
            m(
                "recorder_recorded_lines",
                "Lines written to the archive",
                true,
                self.recorded_lines,
            ),
            m(
                "recorder_recorded_bytes",
                "Bytes written to the archive",
                true,
                self.recorded_bytes,
            ),
            m(
                "recorder_lost_lines",
                "Lines not recorded (write errors or a full backlog)",
                true,
                self.lost_lines,
            ),
            m(
                "recorder_lost_bytes",
                "Bytes not recorded",
                true,
                self.lost_bytes,
            ),
            m(
                "recorder_backlog_lost_lines",
                "Lines not recorded because the writer was behind",
                true,
                self.backlog_lost_lines,
            ),
            m(
                "recorder_skipped_lines",
                "Lines not recorded because they are not printable ASCII",
                true,
                self.skipped_lines,
            ),
            m(
                "recorder_error_episodes",
                "Episodes of failed archive writes",
                true,
                self.error_episodes,
            ),
            m(
                "recorder_files_opened",
                "Archive files opened",
                true,
                self.files_opened,
            ),
            m(
                "recorder_files_compressed",
                "Archive files gzipped",
                true,
                self.files_compressed,
            ),
            m(
                "recorder_compress_errors",
                "Archive files that could not be gzipped",
                true,
                self.compress_errors,
            ),
            m(
                "recorder_pending_bytes",
                "Bytes waiting for the archive writer",
                false,
                self.pending_bytes as u64,
            ),
        ]
    }
}

impl RecorderStatus {
    /// Lines written.
    pub fn recorded_lines(&self) -> u64 {
        self.recorded_lines.load(Relaxed)
    }
    /// Lines lost (write errors or backlog).
    pub fn lost_lines(&self) -> u64 {
        self.lost_lines.load(Relaxed)
    }
    /// Bytes lost.
    pub fn lost_bytes(&self) -> u64 {
        self.lost_bytes.load(Relaxed)
    }
    /// In an error episode now.
    pub fn failing(&self) -> bool {
        self.failing.load(Relaxed)
    }
    /// Error episodes so far.
    pub fn error_episodes(&self) -> u64 {
        self.error_episodes.load(Relaxed)
    }
    /// Files gzipped.
    pub fn files_compressed(&self) -> u64 {
        self.files_compressed.load(Relaxed)
    }
    /// The last error, as text.
    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().map(|e| e.clone()).unwrap_or(None)
    }

    /// What the recorder is doing now.
    pub fn state(&self) -> RecorderState {
        RecorderState::from_u8(self.state.load(Relaxed))
    }

    fn set_state(&self, s: RecorderState) {
        self.state.store(s.as_u8(), Relaxed);
    }

    /// A copy of every counter.
    pub fn snapshot(&self) -> RecorderSnapshot {
        let time = |a: &AtomicI64| Some(a.load(Relaxed)).filter(|&t| t != NO_TIME);
        let failing = self.failing();
        RecorderSnapshot {
            state: self.state(),
            last_error_ms: time(&self.last_error_ms),
            failing_since_ms: if failing {
                time(&self.failing_since_ms)
            } else {
                None
            },
            lost_lines_in_episode: if failing {
                self.lost_in_episode.load(Relaxed)
            } else {
                0
            },
            recorded_lines: self.recorded_lines.load(Relaxed),
            recorded_bytes: self.recorded_bytes.load(Relaxed),
            lost_lines: self.lost_lines.load(Relaxed),
            lost_bytes: self.lost_bytes.load(Relaxed),
            backlog_lost_lines: self.backlog_lost_lines.load(Relaxed),
            skipped_lines: self.skipped_lines.load(Relaxed),
            failing: self.failing(),
            error_episodes: self.error_episodes(),
            files_opened: self.files_opened.load(Relaxed),
            files_compressed: self.files_compressed(),
            compress_errors: self.compress_errors.load(Relaxed),
            repaired_bytes: self.repaired_bytes.load(Relaxed),
            pending_bytes: self.pending_bytes.load(Relaxed),
            last_error: self.last_error(),
            current_file: self
                .current_file
                .lock()
                .ok()
                .and_then(|p| p.as_ref().map(|p| p.display().to_string())),
        }
    }

    fn lose(&self, lines: u64, bytes: u64) {
        self.lost_lines.fetch_add(lines, Relaxed);
        self.lost_bytes.fetch_add(bytes, Relaxed);
    }

    fn set_error(&self, e: String) {
        if let Ok(mut s) = self.last_error.lock() {
            *s = Some(e);
        }
    }

    fn set_current(&self, p: Option<PathBuf>) {
        if let Ok(mut s) = self.current_file.lock() {
            *s = p;
        }
    }
}

struct Chunk {
    period: i64,
    bytes: Vec<u8>,
    lines: u64,
}

enum Msg {
    Chunk(Chunk),
    Sync(mpsc::Sender<()>),
    Close,
}

/// The recorder handle. Cheap calls from the pipeline; the work happens on
/// its writer and compressor threads.
pub struct Recorder {
    tx: SyncSender<Msg>,
    status: Arc<RecorderStatus>,
    registry: Arc<SourceRegistry>,
    period_ms: i64,
    max_pending: usize,
    writer: Option<JoinHandle<()>>,
    compressor: Arc<Mutex<Option<JoinHandle<()>>>>,
}

/// Messages the channel holds; the byte bound usually bites first.
const CHANNEL_MSGS: usize = 4096;

impl Recorder {
    /// Start the writer and compressor threads. Fails only on an invalid
    /// configuration or if a thread cannot be started; an unwritable
    /// directory is a runtime error episode, not a startup failure.
    pub fn start(
        config: RecorderConfig,
        registry: Arc<SourceRegistry>,
        clock: Arc<dyn Clock>,
    ) -> Result<Recorder, ConfigError> {
        config.validate()?;
        let status = Arc::new(RecorderStatus::default());
        let (tx, rx) = mpsc::sync_channel(CHANNEL_MSGS);
        let (ctx, crx) = mpsc::sync_channel::<PathBuf>(1024);
        let compressor = {
            let status = status.clone();
            std::thread::Builder::new()
                .name("recorder-gzip".into())
                .spawn(move || compressor(crx, status))
                .map_err(|e| ConfigError(format!("cannot start the recorder: {e}")))?
        };
        let compressor = Arc::new(Mutex::new(Some(compressor)));
        let period_ms = config.period_ms();
        let max_pending = config.max_pending_bytes;
        let writer = Writer {
            cfg: config,
            status: status.clone(),
            clock,
            current: None,
            period: None,
            failing: false,
            lost_in_episode: 0,
            next_retry: Instant::now(),
            compress: Some(ctx),
        };
        let writer = std::thread::Builder::new()
            .name("recorder".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| ConfigError(format!("cannot start the recorder: {e}")))?;
        Ok(Recorder {
            tx,
            status,
            registry,
            period_ms,
            max_pending,
            writer: Some(writer),
            compressor,
        })
    }

    /// The live counters.
    pub fn status(&self) -> Arc<RecorderStatus> {
        self.status.clone()
    }

    /// What the recorder is doing and has done, as data (for
    /// `/api/status` and, through [`RecorderSnapshot::metrics`],
    /// `/metrics`).
    pub fn snapshot(&self) -> RecorderSnapshot {
        self.status.snapshot()
    }

    /// Record a batch of lines. Never blocks.
    pub fn record_batch(&self, lines: &[Line]) {
        if lines.is_empty() {
            return;
        }
        let sources = self.registry.all();
        let mut chunk: Option<Chunk> = None;
        for line in lines {
            let text = !line.bytes.is_empty()
                && line
                    .bytes
                    .iter()
                    .all(|&b| (0x20..=0x7e).contains(&b) || b == b'\t');
            let name = sources.get(line.source.index()).map(|s| s.name());
            let (true, Some(name)) = (text, name) else {
                self.status.skipped_lines.fetch_add(1, Relaxed);
                continue;
            };
            let period = line.received_ms.div_euclid(self.period_ms) * self.period_ms;
            if chunk.as_ref().is_some_and(|c| c.period != period) {
                if let Some(c) = chunk.take() {
                    self.send(c);
                }
            }
            let c = chunk.get_or_insert_with(|| Chunk {
                period,
                bytes: Vec::with_capacity(lines.len() * 120),
                lines: 0,
            });
            append_archive_line(&mut c.bytes, &line.bytes, name, line.received_ms);
            c.lines += 1;
        }
        if let Some(c) = chunk {
            self.send(c);
        }
    }

    fn send(&self, c: Chunk) {
        let len = c.bytes.len();
        let (lines, bytes) = (c.lines, len as u64);
        let pending = self.status.pending_bytes.fetch_add(len, Relaxed);
        if pending + len > self.max_pending {
            self.status.pending_bytes.fetch_sub(len, Relaxed);
            self.status.backlog_lost_lines.fetch_add(lines, Relaxed);
            self.status.lose(lines, bytes);
            return;
        }
        match self.tx.try_send(Msg::Chunk(c)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.status.pending_bytes.fetch_sub(len, Relaxed);
                self.status.backlog_lost_lines.fetch_add(lines, Relaxed);
                self.status.lose(lines, bytes);
            }
        }
    }

    /// Wait (blocking, up to `timeout`) until everything sent so far has
    /// been written or counted as lost. For tests and orderly shutdown; not
    /// for the pipeline loop.
    pub fn sync(&self, timeout: Duration) -> bool {
        let (tx, rx) = mpsc::channel();
        let deadline = Instant::now() + timeout;
        let mut msg = Msg::Sync(tx);
        loop {
            match self.tx.try_send(msg) {
                Ok(()) => break,
                Err(TrySendError::Full(m)) => {
                    if Instant::now() >= deadline {
                        return false;
                    }
                    msg = m;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(TrySendError::Disconnected(_)) => return false,
            }
        }
        rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .is_ok()
    }

    /// Close the current file, compress it, and wait for both threads.
    pub fn close(mut self) {
        self.shutdown(true);
    }

    fn shutdown(&mut self, wait: bool) {
        // A blocking send: the writer drains the channel quickly.
        let _ = self.tx.send(Msg::Close);
        if let Some(w) = self.writer.take() {
            if wait {
                let _ = w.join();
                if let Some(c) = self.compressor.lock().ok().and_then(|mut c| c.take()) {
                    let _ = c.join();
                }
            }
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        // Ask the threads to finish, without waiting (use `close` to wait).
        self.shutdown(false);
    }
}

struct OpenFile {
    path: PathBuf,
    file: File,
    len: u64,
}

struct Writer {
    cfg: RecorderConfig,
    status: Arc<RecorderStatus>,
    clock: Arc<dyn Clock>,
    current: Option<OpenFile>,
    period: Option<i64>,
    failing: bool,
    lost_in_episode: u64,
    next_retry: Instant,
    compress: Option<SyncSender<PathBuf>>,
}

/// The base name of the file for a period, with a sequence number for
/// periods entered again after their file was compressed.
fn stem(prefix: &str, period: i64, seq: u32) -> String {
    if seq == 0 {
        format!("{prefix}-{}", format_compact(period))
    } else {
        format!("{prefix}-{}_{seq}", format_compact(period))
    }
}

/// Parse `{prefix}-YYYYMMDDTHHMMZ[_n].nmea[.gz]`: `(start_ms, seq)`.
pub fn parse_archive_name(prefix: Option<&str>, file_name: &str) -> Option<(i64, u32)> {
    let base = file_name
        .strip_suffix(".nmea.gz")
        .or_else(|| file_name.strip_suffix(".nmea"))?;
    let (p, rest) = base.rsplit_once('-')?;
    if prefix.is_some_and(|want| want != p) {
        return None;
    }
    let (time, seq) = match rest.split_once('_') {
        Some((t, s)) => (t, s.parse().ok()?),
        None => (rest, 0),
    };
    Some((parse_compact(time)?, seq))
}

fn with_ext(dir: &Path, stem: &str, ext: &str) -> PathBuf {
    dir.join(format!("{stem}{ext}"))
}

impl Writer {
    fn run(mut self, rx: Receiver<Msg>) {
        self.recover();
        let tick = Duration::from_millis(self.cfg.retry_ms.clamp(10, 1000));
        loop {
            match rx.recv_timeout(tick) {
                Ok(Msg::Chunk(c)) => {
                    let len = c.bytes.len();
                    self.chunk(c);
                    self.status.pending_bytes.fetch_sub(len, Relaxed);
                }
                Ok(Msg::Sync(ack)) => {
                    let _ = ack.send(());
                }
                Ok(Msg::Close) | Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => self.idle(),
            }
        }
        self.close_current();
        self.status.set_state(RecorderState::Stopped);
        // Dropping the sender lets the compressor finish its queue and stop.
        self.compress = None;
    }

    /// Compress plain files of past periods left by an earlier run, and
    /// tidy half-done compressions.
    fn recover(&mut self) {
        let Ok(entries) = std::fs::read_dir(&self.cfg.directory) else {
            return;
        };
        let now_period = self.period_of(self.clock.now_ms());
        for e in entries.flatten() {
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            let path = e.path();
            if let Some(base) = name.strip_suffix(".gz.tmp") {
                if parse_archive_name(Some(&self.cfg.prefix), base).is_some() {
                    let _ = std::fs::remove_file(&path);
                }
                continue;
            }
            if !name.ends_with(".nmea") {
                continue;
            }
            let Some((start, _)) = parse_archive_name(Some(&self.cfg.prefix), name) else {
                continue;
            };
            let gz = path.with_file_name(format!("{name}.gz"));
            if gz.exists() {
                // Crash between the rename of the .gz and the removal.
                let _ = std::fs::remove_file(&path);
            } else if start < now_period && self.cfg.compress {
                self.queue_compress(path);
            }
        }
    }

    fn period_of(&self, ms: i64) -> i64 {
        let p = self.cfg.period_ms();
        ms.div_euclid(p) * p
    }

    fn idle(&mut self) {
        // Close (and compress) the file once its period is over, even if no
        // newer line arrives to rotate it.
        let now = self.period_of(self.clock.now_ms());
        if self.current.is_some() && self.period.is_some_and(|p| now > p) {
            self.close_current();
            self.period = Some(now);
        }
    }

    fn chunk(&mut self, c: Chunk) {
        let period = self.period.map_or(c.period, |p| p.max(c.period));
        if self.period != Some(period) {
            self.close_current();
            self.period = Some(period);
        }
        if self.failing && Instant::now() < self.next_retry {
            self.lost(&c);
            return;
        }
        if self.current.is_none() {
            match self.open(period) {
                Ok(f) => {
                    self.status.set_current(Some(f.path.clone()));
                    self.current = Some(f);
                    if !self.failing {
                        self.status.set_state(RecorderState::Recording);
                    }
                }
                Err(e) => {
                    self.fail(format!(
                        "cannot open an archive file in {}: {e}",
                        self.cfg.directory.display()
                    ));
                    self.lost(&c);
                    return;
                }
            }
        }
        let Some(f) = self.current.as_mut() else {
            return;
        };
        match f.file.write_all(&c.bytes) {
            Ok(()) => {
                f.len += c.bytes.len() as u64;
                self.status.recorded_lines.fetch_add(c.lines, Relaxed);
                self.status
                    .recorded_bytes
                    .fetch_add(c.bytes.len() as u64, Relaxed);
                if self.failing {
                    self.failing = false;
                    self.status.failing.store(false, Relaxed);
                    self.status.set_state(RecorderState::Recording);
                    self.status.failing_since_ms.store(NO_TIME, Relaxed);
                    self.status.lost_in_episode.store(0, Relaxed);
                    tracing::warn!(
                        file = %f.path.display(),
                        lost_lines = self.lost_in_episode,
                        "recording resumed"
                    );
                    self.lost_in_episode = 0;
                }
            }
            Err(e) => {
                // Take back a partial write so the file ends with a whole
                // line; if even that fails, the next open repairs it.
                let _ = f.file.set_len(f.len);
                let msg = format!("cannot write {}: {e}", f.path.display());
                self.current = None;
                self.status.set_current(None);
                self.fail(msg);
                self.lost(&c);
            }
        }
    }

    fn lost(&mut self, c: &Chunk) {
        self.status.lose(c.lines, c.bytes.len() as u64);
        self.lost_in_episode += c.lines;
        self.status
            .lost_in_episode
            .store(self.lost_in_episode, Relaxed);
    }

    fn fail(&mut self, msg: String) {
        self.next_retry = Instant::now() + Duration::from_millis(self.cfg.retry_ms);
        let now = self.clock.now_ms();
        self.status.last_error_ms.store(now, Relaxed);
        if !self.failing {
            self.failing = true;
            self.status.failing.store(true, Relaxed);
            self.status.set_state(RecorderState::Failing);
            self.status.failing_since_ms.store(now, Relaxed);
            self.status.error_episodes.fetch_add(1, Relaxed);
            tracing::error!(
                error = %msg,
                retry_ms = self.cfg.retry_ms,
                "recording failed; the live picture goes on, lost lines are counted, retrying"
            );
        } else {
            tracing::debug!(error = %msg, "recording retry failed");
        }
        self.status.set_error(msg);
    }

    fn open(&mut self, period: i64) -> std::io::Result<OpenFile> {
        let dir = self.cfg.directory.clone();
        std::fs::create_dir_all(&dir)?;
        for seq in 0..1000 {
            let stem = stem(&self.cfg.prefix, period, seq);
            if with_ext(&dir, &stem, ".nmea.gz").exists() {
                continue;
            }
            let path = with_ext(&dir, &stem, ".nmea");
            let mut file = OpenOptions::new()
                .read(true)
                .append(true)
                .create(true)
                .open(&path)?;
            let meta = file.metadata()?;
            let mut len = meta.len();
            if meta.is_file() && len > 0 {
                let keep = last_line_end(&mut file, len)?;
                if keep < len {
                    file.set_len(keep)?;
                    self.status.repaired_bytes.fetch_add(len - keep, Relaxed);
                    tracing::warn!(
                        file = %path.display(),
                        bytes = len - keep,
                        "cut a half-written last line left by an earlier run"
                    );
                    len = keep;
                }
            }
            self.status.files_opened.fetch_add(1, Relaxed);
            tracing::info!(file = %path.display(), "recording to");
            return Ok(OpenFile { path, file, len });
        }
        Err(std::io::Error::other(
            "no free archive file name for this period",
        ))
    }

    fn close_current(&mut self) {
        if let Some(f) = self.current.take() {
            if let Err(e) = f.file.sync_all() {
                tracing::warn!(file = %f.path.display(), error = %e, "fsync failed");
            }
            drop(f.file);
            self.status.set_current(None);
            if !self.failing {
                self.status.set_state(RecorderState::Idle);
            }
            if self.cfg.compress {
                self.queue_compress(f.path);
            }
        }
    }

    fn queue_compress(&mut self, path: PathBuf) {
        if let Some(tx) = &self.compress {
            if tx.try_send(path).is_err() {
                tracing::warn!("compression queue full; a file stays uncompressed until restart");
            }
        }
    }
}

/// Offset just past the last `\n` in the first `len` bytes of `file` (0 if
/// there is none).
fn last_line_end(file: &mut File, len: u64) -> std::io::Result<u64> {
    let mut end = len;
    let mut buf = vec![0u8; 8192];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let n = (end - start) as usize;
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut buf[..n])?;
        if let Some(i) = memchr::memrchr(b'\n', &buf[..n]) {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

fn compressor(rx: Receiver<PathBuf>, status: Arc<RecorderStatus>) {
    for path in rx {
        match compress_file(&path) {
            Ok(true) => {
                status.files_compressed.fetch_add(1, Relaxed);
                tracing::debug!(file = %path.display(), "compressed");
            }
            Ok(false) => {}
            Err(e) => {
                status.compress_errors.fetch_add(1, Relaxed);
                tracing::error!(file = %path.display(), error = %e, "cannot compress an archive file; it stays uncompressed");
            }
        }
    }
}

/// Gzip `path` to `path.gz` (through `path.gz.tmp`) and remove `path`.
/// Returns false if `path` is not a regular file (nothing done).
pub fn compress_file(path: &Path) -> std::io::Result<bool> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    if !meta.is_file() {
        return Ok(false);
    }
    let mut gz_name = path.as_os_str().to_owned();
    gz_name.push(".gz");
    let gz = PathBuf::from(gz_name);
    let mut tmp_name = gz.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let result = (|| {
        let mut src = File::open(path)?;
        let out = File::create(&tmp)?;
        let mut enc = flate2::write::GzEncoder::new(
            std::io::BufWriter::new(out),
            flate2::Compression::default(),
        );
        std::io::copy(&mut src, &mut enc)?;
        let out = enc.finish()?.into_inner().map_err(|e| e.into_error())?;
        out.sync_all()?;
        std::fs::rename(&tmp, &gz)?;
        std::fs::remove_file(path)?;
        Ok(true)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sort() {
        let t = 1_795_827_600_000;
        assert_eq!(stem("lookout", t, 0), "lookout-20261128T0100Z");
        assert_eq!(
            parse_archive_name(Some("lookout"), "lookout-20261128T0100Z.nmea.gz"),
            Some((t, 0))
        );
        assert_eq!(
            parse_archive_name(None, "x-y-20261128T0100Z_3.nmea"),
            Some((t, 3))
        );
        assert_eq!(
            parse_archive_name(Some("other"), "lookout-20261128T0100Z.nmea"),
            None
        );
        assert_eq!(parse_archive_name(None, "notes.txt"), None);
        let mut names = [
            format!("{}.nmea", stem("l", t + 3_600_000, 0)),
            format!("{}.nmea.gz", stem("l", t, 1)),
            format!("{}.nmea.gz", stem("l", t, 0)),
        ];
        names.sort();
        assert_eq!(names[0], "l-20261128T0100Z.nmea.gz");
        assert_eq!(names[1], "l-20261128T0100Z_1.nmea.gz");
    }

    #[test]
    fn config_validation() {
        let mut c = RecorderConfig::new("/tmp/x");
        assert!(c.validate().is_ok());
        c.rotate_secs = 7 * 60;
        assert!(c.validate().is_err());
        c.rotate_secs = 600;
        assert!(c.validate().is_ok());
        c.prefix = "a/b".into();
        assert!(c.validate().is_err());
    }
}
