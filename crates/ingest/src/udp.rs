//! UDP listener source: NMEA 0183 over UDP, one or many lines per datagram.
//!
//! Binds `127.0.0.1:10110` (the customary NMEA-over-UDP port) unless told
//! otherwise — loopback by default, so a fresh install never listens on
//! the network by accident. The end of a datagram ends its last line; a
//! line never continues into the next datagram. UDP has no backpressure, so
//! the default overload policy is `drop_oldest`: the kernel would drop
//! datagrams anyway, this makes the loss visible and counted.

use std::net::SocketAddr;

use tokio::net::UdpSocket;

use crate::config::UdpConfig;
use crate::source::{BoxFuture, FeedSource, Pump, SourceContext, StartError};
use crate::status::{SourceErrorKind, SourceState};

/// Largest UDP payload.
const MAX_DATAGRAM: usize = 65_536;

/// The UDP source, already bound.
#[derive(Debug)]
pub struct UdpSource {
    config: UdpConfig,
    socket: UdpSocket,
    local: SocketAddr,
}

impl UdpSource {
    /// Bind the configured address.
    pub async fn bind(config: UdpConfig) -> Result<Self, StartError> {
        let err = |error| StartError::Bind {
            source: config.name.clone(),
            address: config.address.clone(),
            error,
        };
        let socket = UdpSocket::bind(&config.address).await.map_err(err)?;
        let local = socket.local_addr().map_err(err)?;
        Ok(UdpSource {
            config,
            socket,
            local,
        })
    }
}

impl FeedSource for UdpSource {
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

async fn run(src: UdpSource, ctx: SourceContext) {
    let UdpSource {
        config: cfg,
        socket,
        local,
    } = src;
    let status = ctx.status.clone();
    let mut shutdown = ctx.shutdown.clone();
    let mut pump = Pump::new(&ctx, cfg.max_line_bytes);
    let mut buf = vec![0u8; MAX_DATAGRAM];
    status.set_state(SourceState::Listening);
    tracing::info!(source = %cfg.name, address = %local, "listening (udp)");
    loop {
        let r = tokio::select! {
            _ = shutdown.wait() => break,
            r = socket.recv_from(&mut buf) => r,
        };
        match r {
            Ok((n, _peer)) => {
                let pushed = tokio::select! {
                    _ = shutdown.wait() => break,
                    r = pump.push_datagram(&buf[..n]) => r,
                };
                if pushed.is_err() {
                    break;
                }
            }
            Err(e) => {
                // E.g. ICMP port unreachable reported on some platforms:
                // count and go on.
                status.count_error(SourceErrorKind::Io, &e);
                status.set_last_error(&e);
                tokio::select! {
                    _ = shutdown.wait() => break,
                    _ = tokio::time::sleep(std::time::Duration::from_millis(10)) => {}
                }
            }
        }
    }
    status.set_state(SourceState::Stopped);
    tracing::info!(source = %cfg.name, "stopped");
}
