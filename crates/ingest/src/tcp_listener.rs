//! TCP listener source: receivers (shore stations, a vessel's AIS box)
//! connect and push NMEA lines.
//!
//! Several connections are served at once, each with its own line splitter
//! (partial lines never mix), all counted on this one source's status.
//! Connections are bounded by `max_connections`: one more is accepted and
//! closed at once, counted as a `connection_limit` error and logged once per
//! episode. A connection silent for `idle_timeout_ms` is closed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::config::TcpListenerConfig;
use crate::source::{BoxFuture, FeedSource, Pump, SourceContext, StartError};
use crate::status::{SourceErrorKind, SourceState};

/// The TCP listener source, already bound.
#[derive(Debug)]
pub struct TcpListenerSource {
    config: TcpListenerConfig,
    listener: TcpListener,
    local: SocketAddr,
}

impl TcpListenerSource {
    /// Bind the configured address.
    pub async fn bind(config: TcpListenerConfig) -> Result<Self, StartError> {
        let err = |error| StartError::Bind {
            source: config.name.clone(),
            address: config.address.clone(),
            error,
        };
        let listener = TcpListener::bind(&config.address).await.map_err(err)?;
        let local = listener.local_addr().map_err(err)?;
        Ok(TcpListenerSource {
            config,
            listener,
            local,
        })
    }
}

impl FeedSource for TcpListenerSource {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn local_addr(&self) -> Option<SocketAddr> {
        Some(self.local)
    }

    fn run(self: Box<Self>, ctx: SourceContext) -> BoxFuture {
        Box::pin(run(*self, ctx))
    }
}

async fn run(src: TcpListenerSource, ctx: SourceContext) {
    let TcpListenerSource {
        config: cfg,
        listener,
        local,
    } = src;
    let ctx = Arc::new(ctx);
    let status = ctx.status.clone();
    let name = cfg.name.clone();
    let idle = (cfg.idle_timeout_ms > 0).then(|| Duration::from_millis(cfg.idle_timeout_ms));
    let mut shutdown = ctx.shutdown.clone();
    let mut conns: JoinSet<()> = JoinSet::new();
    let mut at_limit = false;
    status.set_state(SourceState::Listening);
    tracing::info!(source = %name, address = %local, max_connections = cfg.max_connections, "listening");
    loop {
        // Reap finished connections so the count is current.
        while conns.try_join_next().is_some() {}
        let accepted = tokio::select! {
            _ = shutdown.wait() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
            r = listener.accept() => r,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // Usually a transient resource problem (out of file
                // descriptors): count, wait a little, keep listening.
                status.count_error(SourceErrorKind::Io, &e);
                status.set_last_error(format!("accept: {e}"));
                tokio::select! {
                    _ = shutdown.wait() => break,
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                }
                continue;
            }
        };
        if conns.len() >= cfg.max_connections {
            status.count_error(SourceErrorKind::ConnectionLimit, format_args!("{peer}"));
            if !at_limit {
                at_limit = true;
                tracing::warn!(source = %name, peer = %peer, max_connections = cfg.max_connections, "connection limit reached; refusing connections");
            }
            drop(stream);
            continue;
        }
        if at_limit {
            at_limit = false;
            tracing::info!(source = %name, "below the connection limit again");
        }
        let ctx = ctx.clone();
        let max_line = cfg.max_line_bytes;
        let name = name.clone();
        conns.spawn(async move {
            ctx.status.connection_opened();
            tracing::info!(source = %name, peer = %peer, "receiver connected");
            let why = serve(stream, &ctx, max_line, idle).await;
            ctx.status.connection_closed();
            tracing::info!(source = %name, peer = %peer, reason = why, "receiver disconnected");
        });
    }
    conns.shutdown().await;
    status.set_state(SourceState::Stopped);
    tracing::info!(source = %name, "stopped");
}

async fn serve(
    mut stream: TcpStream,
    ctx: &SourceContext,
    max_line: usize,
    idle: Option<Duration>,
) -> &'static str {
    let mut pump = Pump::new(ctx, max_line);
    let mut shutdown = ctx.shutdown.clone();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let read = async {
            match idle {
                Some(d) => tokio::time::timeout(d, stream.read(&mut buf)).await,
                None => Ok(stream.read(&mut buf).await),
            }
        };
        let r = tokio::select! {
            _ = shutdown.wait() => return "shutdown",
            r = read => r,
        };
        let n = match r {
            Ok(Ok(0)) => {
                let _ = tokio::select! {
                    _ = shutdown.wait() => return "shutdown",
                    r = pump.finish() => r,
                };
                return "closed by the peer";
            }
            Ok(Ok(n)) => n,
            Ok(Err(e)) => {
                ctx.status.count_error(SourceErrorKind::Io, &e);
                return "read error";
            }
            Err(_) => {
                ctx.status
                    .count_error(SourceErrorKind::IdleTimeout, "nothing received");
                return "idle timeout";
            }
        };
        let pushed = tokio::select! {
            _ = shutdown.wait() => return "shutdown",
            r = pump.push(&buf[..n]) => r,
        };
        if pushed.is_err() {
            return "queue closed";
        }
    }
}
