//! UDP listener source: NMEA 0183 over UDP, one or many lines per datagram.
//!
//! Binds `127.0.0.1:10110` (the customary NMEA-over-UDP port) unless told
//! otherwise — loopback by default, so a fresh install never listens on
//! the network by accident. The end of a datagram ends its last line; a
//! line never continues into the next datagram.
//!
//! UDP has no backpressure: whatever the program does not read in time the
//! kernel drops once the socket's receive buffer is full. So the socket is
//! read by a **dedicated thread** (not a task sharing the async workers with
//! the pipeline and the HTTP queries), with a large receive buffer
//! (`recv_buffer_bytes`, default 4 MiB, capped by the kernel at
//! `net.core.rmem_max`; the effective size is logged). Lines are handed to
//! the queue in batches (one lock per batch, not per line). What the kernel
//! still drops is read from the socket's `drops` counter in
//! `/proc/net/udp` once a second and counted as `kernel_drop` errors in the
//! source status, so the loss is visible. The default overload policy is
//! `drop_oldest`: under overload the picture stays current and every
//! dropped line is counted.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::UdpConfig;
use crate::source::{BoxFuture, FeedSource, Pump, SourceContext, StartError};
use crate::status::{SourceErrorKind, SourceState, SourceStatus};

/// Largest UDP payload.
const MAX_DATAGRAM: usize = 65_536;
/// Hand lines to the queue at the latest when this many are waiting…
const BATCH_LINES: usize = 512;
/// …or when the first of them has waited this long.
const BATCH_WAIT: Duration = Duration::from_millis(2);
/// How often the reader looks at the shutdown signal when idle.
const IDLE_WAIT: Duration = Duration::from_millis(100);
/// How often the kernel's drop counter is read.
const DROPS_EVERY: Duration = Duration::from_secs(1);

/// The UDP source, already bound.
#[derive(Debug)]
pub struct UdpSource {
    config: UdpConfig,
    socket: std::net::UdpSocket,
    local: SocketAddr,
    recv_buffer: usize,
}

impl UdpSource {
    /// Bind the configured address, with the configured receive buffer.
    pub async fn bind(config: UdpConfig) -> Result<Self, StartError> {
        let err = |error| StartError::Bind {
            source: config.name.clone(),
            address: config.address.clone(),
            error,
        };
        let addr = resolve(&config.address).map_err(err)?;
        let socket = socket2::Socket::new(
            socket2::Domain::for_address(addr),
            socket2::Type::DGRAM,
            Some(socket2::Protocol::UDP),
        )
        .map_err(err)?;
        // Asking for more than net.core.rmem_max is not an error: the
        // kernel gives the maximum. The effective size is logged at start.
        let _ = socket.set_recv_buffer_size(config.recv_buffer_bytes);
        socket.bind(&addr.into()).map_err(err)?;
        let recv_buffer = socket.recv_buffer_size().unwrap_or(0);
        let socket: std::net::UdpSocket = socket.into();
        socket.set_read_timeout(Some(IDLE_WAIT)).map_err(err)?;
        let local = socket.local_addr().map_err(err)?;
        Ok(UdpSource {
            config,
            socket,
            local,
            recv_buffer,
        })
    }
}

fn resolve(address: &str) -> std::io::Result<SocketAddr> {
    address.to_socket_addrs()?.next().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the address resolves to nothing",
        )
    })
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
    let name = src.config.name.clone();
    let status = ctx.status.clone();
    let mut shutdown = ctx.shutdown.clone();
    status.set_state(SourceState::Listening);
    // Linux reports twice the buffer it books (the other half is its own
    // bookkeeping); show what the user asked for in the same unit.
    let effective = if cfg!(target_os = "linux") {
        src.recv_buffer / 2
    } else {
        src.recv_buffer
    };
    if effective < src.config.recv_buffer_bytes {
        tracing::warn!(
            source = %name, address = %src.local, asked = src.config.recv_buffer_bytes, got = effective,
            "listening (udp) with a smaller receive buffer than configured: raise net.core.rmem_max to avoid kernel drops under bursts"
        );
    } else {
        tracing::info!(source = %name, address = %src.local, recv_buffer = effective, "listening (udp)");
    }
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::runtime::Handle::current();
    let thread_shutdown = ctx.shutdown.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("udp:{name}"))
        .spawn(move || {
            let mut pump = Pump::new(&ctx, src.config.max_line_bytes);
            read_loop(&src.socket, &mut pump, &ctx.status, &handle, || {
                thread_shutdown.is_triggered() || done_tx.is_closed()
            });
            // Lines read but not yet handed over.
            let _ = handle.block_on(pump.flush_pending());
            drop(done_tx);
        });
    match spawned {
        Ok(_) => {
            tokio::select! {
                _ = shutdown.wait() => {}
                _ = done_rx => {}
            }
        }
        Err(e) => {
            status.count_error(SourceErrorKind::Io, &e);
            status.set_last_error(format!("cannot start the reader thread: {e}"));
        }
    }
    status.set_state(SourceState::Stopped);
    tracing::info!(source = %name, "stopped");
}

/// The reader thread's loop: datagrams → lines → the queue in batches,
/// until `stop()` says so or the queue closes.
fn read_loop(
    socket: &std::net::UdpSocket,
    pump: &mut Pump,
    status: &Arc<SourceStatus>,
    handle: &tokio::runtime::Handle,
    stop: impl Fn() -> bool,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut kernel = KernelDrops::new(socket);
    let mut first_pending: Option<Instant> = None;
    let mut short_timeout = false;
    loop {
        if stop() {
            return;
        }
        // While lines wait, poll briefly so they are handed over within
        // BATCH_WAIT even if the sender pauses; when idle, wait longer.
        let want_short = first_pending.is_some();
        if want_short != short_timeout {
            let _ = socket.set_read_timeout(Some(if want_short { BATCH_WAIT } else { IDLE_WAIT }));
            short_timeout = want_short;
        }
        match socket.recv_from(&mut buf) {
            Ok((n, _peer)) => {
                pump.collect_datagram(&buf[..n]);
                first_pending.get_or_insert_with(Instant::now);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) => {}
            Err(e) => {
                // E.g. ICMP port unreachable reported on some platforms:
                // count and go on.
                status.count_error(SourceErrorKind::Io, &e);
                status.set_last_error(&e);
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let due = first_pending.is_some_and(|t| t.elapsed() >= BATCH_WAIT)
            || pump.pending() >= BATCH_LINES;
        if due {
            if handle.block_on(pump.flush_pending()).is_err() {
                return; // the pipeline is gone
            }
            first_pending = None;
        }
        kernel.check(status);
    }
}

/// The kernel's count of datagrams dropped on this socket (Linux:
/// `/proc/net/udp{,6}`, column `drops`, found by the socket's inode).
struct KernelDrops {
    inode: Option<u64>,
    seen: u64,
    last_check: Instant,
}

impl KernelDrops {
    fn new(socket: &std::net::UdpSocket) -> Self {
        // The counter belongs to this socket, bound moments ago: every drop
        // it shows (even before this thread started) is ours to count.
        KernelDrops {
            inode: socket_inode(socket),
            seen: 0,
            last_check: Instant::now(),
        }
    }

    fn read(&self) -> Option<u64> {
        let inode = self.inode?;
        ["/proc/net/udp", "/proc/net/udp6"]
            .iter()
            .find_map(|p| drops_for_inode(&std::fs::read_to_string(p).ok()?, inode))
    }

    fn check(&mut self, status: &SourceStatus) {
        if self.inode.is_none() || self.last_check.elapsed() < DROPS_EVERY {
            return;
        }
        self.last_check = Instant::now();
        if let Some(total) = self.read() {
            let new = total.saturating_sub(self.seen);
            self.seen = total;
            status.count_errors(
                SourceErrorKind::KernelDrop,
                new,
                "the kernel dropped datagrams: the socket's receive buffer was full",
            );
        }
    }
}

#[cfg(unix)]
fn socket_inode(socket: &std::net::UdpSocket) -> Option<u64> {
    use std::os::fd::AsRawFd;
    let link = std::fs::read_link(format!("/proc/self/fd/{}", socket.as_raw_fd())).ok()?;
    let text = link.to_str()?;
    text.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

#[cfg(not(unix))]
fn socket_inode(_: &std::net::UdpSocket) -> Option<u64> {
    None
}

/// The `drops` column of the `/proc/net/udp` row whose inode is `inode`.
fn drops_for_inode(table: &str, inode: u64) -> Option<u64> {
    table.lines().skip(1).find_map(|row| {
        let cols: Vec<&str> = row.split_whitespace().collect();
        // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
        (cols.len() >= 13 && cols[9].parse::<u64>().ok()? == inode)
            .then(|| cols[12].parse().ok())
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_are_read_from_the_sockets_row() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  123: 0100007F:277E 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 17
  124: 0100007F:277F 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4343 2 0000000000000000 5
";
        assert_eq!(drops_for_inode(table, 4343), Some(5));
        assert_eq!(drops_for_inode(table, 4242), Some(17));
        assert_eq!(drops_for_inode(table, 1), None);
        assert_eq!(drops_for_inode("garbage\nrow with few cols", 1), None);
    }

    #[test]
    fn a_bound_socket_is_found_in_proc_net_udp() {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        if let Some(inode) = socket_inode(&s) {
            let k = KernelDrops::new(&s);
            assert_eq!(k.inode, Some(inode));
            assert_eq!(k.read(), Some(0), "a fresh socket has dropped nothing");
        }
    }
}
