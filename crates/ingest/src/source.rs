//! The [`FeedSource`] trait every source implements, and what they share.
//!
//! A source is a small async task: it reads bytes from somewhere, cuts them
//! into lines (the crate-private `Pump` wraps the [`LineSplitter`]), stamps them with its
//! clock and sends them through its [`QueueSender`]. It reports what it is
//! doing in its [`SourceStatus`] and stops when the [`Shutdown`] signal
//! fires or the queue closes.
//!
//! [`start_source`] is the one entry point the binary needs: it validates a
//! [`SourceConfig`], registers the source, binds listening sockets (so a
//! port in use is a startup error, not a log line) and spawns the task.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::config::{ConfigError, SourceConfig};
use crate::line::{Line, LineSplitter, Piece};
use crate::queue::{Closed, LineQueue, QueueSender};
use crate::status::{RegistryError, SourceErrorKind, SourceRegistry, SourceSpec, SourceStatus};

/// A boxed future, as [`FeedSource::run`] returns.
pub type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Everything a running source needs.
pub struct SourceContext {
    /// Where its lines go.
    pub sender: QueueSender,
    /// Its status.
    pub status: Arc<SourceStatus>,
    /// Its receive-time clock.
    pub clock: Arc<dyn Clock>,
    /// Fires when the program stops.
    pub shutdown: Shutdown,
    /// All sources (replay registers the recorded source names here).
    pub registry: Arc<SourceRegistry>,
}

/// One kind of feed.
pub trait FeedSource: Send + 'static {
    /// The source's name.
    fn name(&self) -> &str;
    /// The address it is bound to, for listeners.
    fn local_addr(&self) -> Option<SocketAddr> {
        None
    }
    /// Run until the input ends, the queue closes or shutdown fires. Errors
    /// are reported through the status and the log, not returned.
    fn run(self: Box<Self>, ctx: SourceContext) -> BoxFuture;
}

/// Fires once, for every clone, when the [`ShutdownTrigger`] fires or is
/// dropped.
#[derive(Clone, Debug)]
pub struct Shutdown(watch::Receiver<bool>);

/// Fires the [`Shutdown`] signal.
#[derive(Debug)]
pub struct ShutdownTrigger(watch::Sender<bool>);

/// A trigger and its signal.
pub fn shutdown_pair() -> (ShutdownTrigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (ShutdownTrigger(tx), Shutdown(rx))
}

impl ShutdownTrigger {
    /// Stop everything holding the signal.
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }
}

impl Shutdown {
    /// A signal that never fires.
    pub fn never() -> Shutdown {
        let (tx, rx) = watch::channel(false);
        // Keep the sender alive for the life of the program.
        std::mem::forget(tx);
        Shutdown(rx)
    }

    /// Whether it has fired.
    pub fn is_triggered(&self) -> bool {
        *self.0.borrow() || self.0.has_changed().is_err()
    }

    /// Wait until it fires.
    pub async fn wait(&mut self) {
        let _ = self.0.wait_for(|v| *v).await;
    }
}

/// Jittered exponential backoff with a bounded delay: attempt `n` waits a
/// random time in `[d/2, d]` where `d = min(max, initial * 2^n)`.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    attempt: u32,
    rng: u64,
}

impl Backoff {
    /// A backoff from `initial` up to `max`; `seed` varies the jitter
    /// between sources.
    pub fn new(initial: Duration, max: Duration, seed: u64) -> Self {
        Backoff {
            initial: initial.max(Duration::from_millis(1)),
            max: max.max(initial),
            attempt: 0,
            rng: seed ^ 0x9e37_79b9_7f4a_7c15,
        }
    }

    /// Start over after a success.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// Failed attempts since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    fn next_random(&mut self) -> u64 {
        // splitmix64
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// The delay before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(31)).unwrap_or(u32::MAX);
        let d = self.initial.saturating_mul(factor).min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        let ms = d.as_millis().min(u64::MAX as u128) as u64;
        let half = ms / 2;
        let jitter = if half == 0 {
            0
        } else {
            self.next_random() % (half + 1)
        };
        Duration::from_millis(ms - half + jitter)
    }
}

/// Bytes in, stamped lines out to the queue: the part every reading source
/// shares. One per connection (each has its own partial line).
pub(crate) struct Pump {
    splitter: LineSplitter,
    sender: QueueSender,
    status: Arc<SourceStatus>,
    clock: Arc<dyn Clock>,
    batch: Vec<Line>,
}

impl Pump {
    pub(crate) fn new(ctx: &SourceContext, max_line: usize) -> Self {
        Pump {
            splitter: LineSplitter::new(max_line),
            sender: ctx.sender.clone(),
            status: ctx.status.clone(),
            clock: ctx.clock.clone(),
            batch: Vec::new(),
        }
    }

    fn collect(&mut self, data: &[u8], finish: bool) {
        let received_ms = self.clock.now_ms();
        let source = self.status.id();
        let max = self.splitter.max_line();
        let status = &self.status;
        let batch = &mut self.batch;
        let mut f = |p: Piece<'_>| match p {
            Piece::Line(l) => {
                batch.push(Line {
                    source,
                    received_ms,
                    bytes: l.to_vec(),
                });
            }
            Piece::TooLong => status.count_error(
                SourceErrorKind::LineTooLong,
                format_args!("a line longer than {max} bytes was discarded"),
            ),
            Piece::NotText => status.count_error(
                SourceErrorKind::NotText,
                "a line with bytes that are not printable ASCII was discarded",
            ),
        };
        self.splitter.push(data, &mut f);
        if finish {
            self.splitter.finish(&mut f);
        }
    }

    async fn flush(&mut self) -> Result<(), Closed> {
        // Lines count as received when they are handed over, so the
        // status's `lines` always equals what reached the queue (queued or
        // dropped by its policy).
        if let Some(last) = self.batch.last() {
            self.status
                .count_lines(self.batch.len() as u64, last.received_ms);
        }
        self.sender.send_all(&mut self.batch).await
    }

    /// Feed received bytes.
    pub(crate) async fn push(&mut self, data: &[u8]) -> Result<(), Closed> {
        self.status.add_bytes(data.len());
        self.collect(data, false);
        self.flush().await
    }

    /// Cut one datagram into lines (its end ends its last line) and keep
    /// them until [`Pump::flush_pending`]: lets a reader batch many small
    /// datagrams into one hand-over to the queue.
    pub(crate) fn collect_datagram(&mut self, data: &[u8]) {
        self.status.add_bytes(data.len());
        self.collect(data, true);
    }

    /// Lines collected and not yet handed to the queue.
    pub(crate) fn pending(&self) -> usize {
        self.batch.len()
    }

    /// Hand the collected lines to the queue.
    pub(crate) async fn flush_pending(&mut self) -> Result<(), Closed> {
        self.flush().await
    }

    /// End of input: an unterminated last line is still a line.
    pub(crate) async fn finish(&mut self) -> Result<(), Closed> {
        self.collect(&[], true);
        self.flush().await
    }
}

/// Why a source could not be started.
#[derive(Debug)]
pub enum StartError {
    /// The configuration is wrong.
    Config(ConfigError),
    /// The name is taken (or the registry is full).
    Registry(RegistryError),
    /// A socket could not be bound.
    Bind {
        source: String,
        address: String,
        error: std::io::Error,
    },
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Config(e) => write!(f, "{e}"),
            StartError::Registry(e) => write!(f, "{e}"),
            StartError::Bind {
                source,
                address,
                error,
            } => write!(f, "source {source}: cannot bind {address}: {error}"),
        }
    }
}

impl std::error::Error for StartError {}

impl From<ConfigError> for StartError {
    fn from(e: ConfigError) -> Self {
        StartError::Config(e)
    }
}

impl From<RegistryError> for StartError {
    fn from(e: RegistryError) -> Self {
        StartError::Registry(e)
    }
}

/// Build the source a configuration describes; binds listening sockets.
pub async fn build_source(config: &SourceConfig) -> Result<Box<dyn FeedSource>, StartError> {
    config.validate()?;
    Ok(match config {
        SourceConfig::TcpClient(c) => Box::new(crate::tcp_client::TcpClientSource::new(c.clone())),
        SourceConfig::TcpListener(c) => {
            Box::new(crate::tcp_listener::TcpListenerSource::bind(c.clone()).await?)
        }
        SourceConfig::Udp(c) => Box::new(crate::udp::UdpSource::bind(c.clone()).await?),
        SourceConfig::File(c) => Box::new(crate::stream::ReaderSource::file(
            &c.name,
            c.path.clone(),
            c.max_line_bytes,
        )),
        SourceConfig::Stdin(c) => Box::new(crate::stream::ReaderSource::stdin(
            &c.name,
            c.max_line_bytes,
        )),
        SourceConfig::Replay(c) => Box::new(crate::replay::ReplaySource::new(c.clone())?),
    })
}

/// A started source.
#[derive(Debug)]
pub struct RunningSource {
    /// Its status (also in the registry).
    pub status: Arc<SourceStatus>,
    /// The bound address, for listeners.
    pub local_addr: Option<SocketAddr>,
    /// Its task; finishes when the source stops.
    pub task: JoinHandle<()>,
}

/// Validate, register, bind and spawn one source on the current tokio
/// runtime.
pub async fn start_source(
    config: &SourceConfig,
    registry: &Arc<SourceRegistry>,
    queue: &LineQueue,
    clock: Arc<dyn Clock>,
    shutdown: Shutdown,
) -> Result<RunningSource, StartError> {
    let source = build_source(config).await?;
    let status = registry.register(SourceSpec {
        name: config.name().to_string(),
        kind: config.kind(),
        own_asset: config.own_asset().map(str::to_string),
        overload: config.overload(),
    })?;
    Ok(spawn_source(
        source,
        status,
        queue,
        config.overload(),
        registry,
        clock,
        shutdown,
    ))
}

/// Spawn an already built source with an already registered status (for
/// sources built by hand, e.g. [`crate::stream::ReaderSource::new`] over any
/// reader).
pub fn spawn_source(
    source: Box<dyn FeedSource>,
    status: Arc<SourceStatus>,
    queue: &LineQueue,
    overload: crate::queue::Overload,
    registry: &Arc<SourceRegistry>,
    clock: Arc<dyn Clock>,
    shutdown: Shutdown,
) -> RunningSource {
    let local_addr = source.local_addr();
    if let Some(a) = local_addr {
        // Bound: the kernel already queues connections and datagrams.
        status.set_local_addr(a);
        status.set_state(crate::status::SourceState::Listening);
    }
    let ctx = SourceContext {
        sender: queue.sender(overload),
        status: status.clone(),
        clock,
        shutdown,
        registry: registry.clone(),
    };
    let task = tokio::spawn(source.run(ctx));
    RunningSource {
        status,
        local_addr,
        task,
    }
}

/// Start every source of a configuration; stops at the first error (sources
/// already started keep running until `shutdown`).
pub async fn start_sources(
    configs: &[SourceConfig],
    registry: &Arc<SourceRegistry>,
    queue: &LineQueue,
    clock: Arc<dyn Clock>,
    shutdown: Shutdown,
) -> Result<Vec<RunningSource>, StartError> {
    let mut out = Vec::with_capacity(configs.len());
    for c in configs {
        out.push(start_source(c, registry, queue, clock.clone(), shutdown.clone()).await?);
    }
    Ok(out)
}

/// A seed for jitter that differs between sources and runs.
pub(crate) fn seed_for(name: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    h ^ t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_stays_bounded() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(1000), 7);
        let mut prev_cap = 0;
        for n in 0..40 {
            let d = b.next_delay().as_millis() as u64;
            let cap = (100u64 << n.min(20)).min(1000);
            assert!(
                d >= cap / 2 && d <= cap,
                "attempt {n}: {d} not in [{}, {cap}]",
                cap / 2
            );
            assert!(cap >= prev_cap);
            prev_cap = cap;
        }
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
    }

    #[test]
    fn jitter_varies() {
        let mut b = Backoff::new(Duration::from_secs(10), Duration::from_secs(10), 1);
        let v: std::collections::BTreeSet<_> = (0..20).map(|_| b.next_delay()).collect();
        assert!(v.len() > 10);
    }

    #[test]
    fn shutdown_fires_for_all_clones_and_on_drop() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let (t, mut s) = shutdown_pair();
            let mut s2 = s.clone();
            assert!(!s.is_triggered());
            t.trigger();
            s.wait().await;
            s2.wait().await;
            let (t, mut s) = shutdown_pair();
            drop(t);
            s.wait().await;
            assert!(s.is_triggered());
            assert!(!Shutdown::never().is_triggered());
        });
    }
}
