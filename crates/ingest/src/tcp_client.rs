//! TCP client source: connects to a feed (e.g. a national AIS network's raw
//! NMEA port) and keeps reconnecting.
//!
//! State machine, each change logged once:
//!
//! ```text
//! connecting ──ok──▶ connected ──EOF / error / idle──▶ (disconnected, logged)
//!     ▲                                                      │
//!     └──────── retrying (jittered exponential backoff) ◀────┘
//! ```
//!
//! A retry episode logs `retrying` once when it begins; the failed attempts
//! inside it are counted (`connect_failed` in the status) and logged only at
//! debug level, so a feed that is down for hours leaves a handful of log
//! lines, not thousands. The backoff starts at `initial_backoff_ms`, doubles
//! per failure up to `max_backoff_ms`, and resets after a connection.
//!
//! Lines go to the queue with this source's overload policy (default
//! `drop_oldest`); with `block`, a slow pipeline pushes back on the TCP
//! stream itself.

use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use crate::config::TcpClientConfig;
use crate::source::{seed_for, Backoff, BoxFuture, FeedSource, Pump, SourceContext};
use crate::status::{SourceErrorKind, SourceState};

/// The TCP client source.
#[derive(Debug, Clone)]
pub struct TcpClientSource {
    config: TcpClientConfig,
}

impl TcpClientSource {
    /// A client for this configuration.
    pub fn new(config: TcpClientConfig) -> Self {
        TcpClientSource { config }
    }
}

impl FeedSource for TcpClientSource {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn run(self: Box<Self>, ctx: SourceContext) -> BoxFuture {
        Box::pin(run(self.config, ctx))
    }
}

enum End {
    /// Shutdown or queue closed: stop the source.
    Stop,
    /// The connection is gone; reconnect.
    Lost(String),
}

fn ms(v: u64) -> Option<Duration> {
    (v > 0).then(|| Duration::from_millis(v))
}

async fn run(cfg: TcpClientConfig, mut ctx: SourceContext) {
    let status = ctx.status.clone();
    let name = cfg.name.as_str();
    let mut backoff = Backoff::new(
        Duration::from_millis(cfg.initial_backoff_ms),
        Duration::from_millis(cfg.max_backoff_ms),
        seed_for(name),
    );
    let connect_timeout = Duration::from_millis(cfg.connect_timeout_ms);
    let idle = ms(cfg.idle_timeout_ms);
    let mut ever_connected = false;
    let mut retrying = false;
    let mut shutdown = ctx.shutdown.clone();
    let mut buf = vec![0u8; 16 * 1024];

    'outer: loop {
        if !retrying {
            status.set_state(SourceState::Connecting);
        }
        let attempt = tokio::select! {
            _ = shutdown.wait() => break 'outer,
            r = tokio::time::timeout(connect_timeout, TcpStream::connect(&cfg.address)) => r,
        };
        let failure = match attempt {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                if ever_connected {
                    status.count_reconnect();
                }
                ever_connected = true;
                retrying = false;
                backoff.reset();
                status.connection_opened();
                status.set_state(SourceState::Connected);
                tracing::info!(source = name, address = %cfg.address, "connected");
                let mut pump = Pump::new(&ctx, cfg.max_line_bytes);
                let end = read_loop(stream, &mut pump, &mut buf, idle, &mut ctx).await;
                status.connection_closed();
                match end {
                    End::Stop => break 'outer,
                    End::Lost(why) => {
                        // The unterminated tail of the stream (its checksum
                        // decides whether it was whole).
                        let flushed = tokio::select! {
                            _ = shutdown.wait() => break 'outer,
                            r = pump.finish() => r,
                        };
                        if flushed.is_err() {
                            break 'outer;
                        }
                        status.set_last_error(&why);
                        tracing::warn!(source = name, address = %cfg.address, reason = %why, "disconnected");
                        why
                    }
                }
            }
            Ok(Err(e)) => {
                status.count_error(SourceErrorKind::ConnectFailed, &e);
                format!("cannot connect: {e}")
            }
            Err(_) => {
                status.count_error(SourceErrorKind::ConnectFailed, "connect timed out");
                format!("connect timed out after {} ms", cfg.connect_timeout_ms)
            }
        };
        let delay = backoff.next_delay();
        if retrying {
            tracing::debug!(source = name, reason = %failure, delay_ms = delay.as_millis() as u64, "retry failed");
        } else {
            retrying = true;
            status.set_last_error(&failure);
            status.set_state(SourceState::Retrying);
            tracing::info!(
                source = name,
                address = %cfg.address,
                reason = %failure,
                max_backoff_ms = cfg.max_backoff_ms,
                "retrying"
            );
        }
        tokio::select! {
            _ = shutdown.wait() => break 'outer,
            _ = tokio::time::sleep(delay) => {}
        }
    }
    status.set_state(SourceState::Stopped);
    tracing::info!(source = name, "stopped");
}

async fn read_loop(
    mut stream: TcpStream,
    pump: &mut Pump,
    buf: &mut [u8],
    idle: Option<Duration>,
    ctx: &mut SourceContext,
) -> End {
    let status = ctx.status.clone();
    loop {
        let read = async {
            match idle {
                Some(d) => tokio::time::timeout(d, stream.read(buf)).await,
                None => Ok(stream.read(buf).await),
            }
        };
        let r = tokio::select! {
            _ = ctx.shutdown.wait() => return End::Stop,
            r = read => r,
        };
        match r {
            Ok(Ok(0)) => return End::Lost("closed by the peer".into()),
            Ok(Ok(n)) => {
                let pushed = tokio::select! {
                    _ = ctx.shutdown.wait() => return End::Stop,
                    r = pump.push(&buf[..n]) => r,
                };
                if pushed.is_err() {
                    return End::Stop;
                }
            }
            Ok(Err(e)) => {
                status.count_error(SourceErrorKind::Io, &e);
                return End::Lost(format!("read error: {e}"));
            }
            Err(_) => {
                status.count_error(SourceErrorKind::IdleTimeout, "nothing received");
                return End::Lost("nothing received within the idle timeout".into());
            }
        }
    }
}
