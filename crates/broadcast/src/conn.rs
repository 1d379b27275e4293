//! Connection slots and the HTTP counters.
//!
//! Every accepted TCP connection takes a slot from the [`ConnLimiter`]:
//! one of [`Limits::max_connections`](crate::Limits) overall and one of
//! [`Limits::max_connections_per_address`](crate::Limits) for its peer's IP
//! address. The slot travels inside the connection's I/O object
//! ([`SlotIo`]), so it is held as long as the socket exists — through an
//! upgrade to a WebSocket too — and is given back when the socket is
//! dropped, whatever path closed it. A connection beyond a limit is
//! answered `503` (JSON) and closed at once, and counted in
//! [`HttpStats`].

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Error statuses counted one by one in
/// `lookout_http_error_responses_total{status=…}` (others as `other`).
pub const COUNTED_STATUSES: [u16; 13] = [
    400, 401, 403, 404, 405, 408, 409, 413, 422, 429, 431, 500, 503,
];

/// HTTP counters, exported in `/metrics` (see `docs/security.md`).
#[derive(Debug, Default)]
pub struct HttpStats {
    /// TCP connections open now (HTTP and WebSocket).
    pub connections_open: AtomicU64,
    /// TCP connections accepted.
    pub connections_accepted: AtomicU64,
    /// Connections refused because `max_connections` were open.
    pub refused_max_connections: AtomicU64,
    /// Connections refused because their address had
    /// `max_connections_per_address` open.
    pub refused_per_address: AtomicU64,
    /// Connections closed because a request's headers did not arrive
    /// within `header_timeout_ms` (idle keep-alive connections included).
    pub header_timeouts: AtomicU64,
    /// Connections that ended with another HTTP error (malformed request,
    /// headers over `max_header_bytes`, reset by the peer).
    pub connection_errors: AtomicU64,
    /// Request bodies that did not arrive within `body_timeout_ms` (408).
    pub body_timeouts: AtomicU64,
    /// Request bodies over `max_body_bytes` (413).
    pub bodies_too_large: AtomicU64,
    /// Requests not answered within `request_timeout_ms` (503).
    pub request_timeouts: AtomicU64,
    /// Error responses by status ([`COUNTED_STATUSES`], then others).
    pub error_responses: [AtomicU64; COUNTED_STATUSES.len() + 1],
}

impl HttpStats {
    /// Count an error response.
    pub fn count_status(&self, status: u16) {
        let i = COUNTED_STATUSES
            .iter()
            .position(|&s| s == status)
            .unwrap_or(COUNTED_STATUSES.len());
        self.error_responses[i].fetch_add(1, Ordering::Relaxed);
    }

    /// Error responses of one status so far (`None`: the others).
    pub fn errors_with_status(&self, status: Option<u16>) -> u64 {
        let i = status
            .and_then(|s| COUNTED_STATUSES.iter().position(|&c| c == s))
            .unwrap_or(COUNTED_STATUSES.len());
        self.error_responses[i].load(Ordering::Relaxed)
    }
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `max_connections` are open.
    Total,
    /// The address has `max_connections_per_address` open.
    PerAddress,
}

/// Counts open connections, overall and per address.
pub struct ConnLimiter {
    max_total: usize,
    max_per_address: usize,
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
    hub: Arc<crate::hub::Hub>,
}

impl ConnLimiter {
    pub fn new(max_total: usize, max_per_address: usize, hub: Arc<crate::hub::Hub>) -> Self {
        ConnLimiter {
            max_total: max_total.max(1),
            max_per_address: max_per_address.max(1),
            open: Mutex::new((0, HashMap::new())),
            hub,
        }
    }

    fn http(&self) -> &HttpStats {
        &self.hub.stats.http
    }

    /// Take a slot for a connection from `ip`, or say why not (counted).
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<ConnSlot, Refusal> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let refusal = if open.0 >= self.max_total {
            Some(Refusal::Total)
        } else if open.1.get(&ip).copied().unwrap_or(0) >= self.max_per_address {
            Some(Refusal::PerAddress)
        } else {
            None
        };
        let http = self.http();
        match refusal {
            Some(Refusal::Total) => {
                http.refused_max_connections.fetch_add(1, Ordering::Relaxed);
                Err(Refusal::Total)
            }
            Some(Refusal::PerAddress) => {
                http.refused_per_address.fetch_add(1, Ordering::Relaxed);
                Err(Refusal::PerAddress)
            }
            None => {
                open.0 += 1;
                *open.1.entry(ip).or_insert(0) += 1;
                http.connections_accepted.fetch_add(1, Ordering::Relaxed);
                http.connections_open
                    .store(open.0 as u64, Ordering::Relaxed);
                Ok(ConnSlot {
                    limiter: self.clone(),
                    ip,
                })
            }
        }
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).0
    }

    fn release(&self, ip: IpAddr) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.0 = open.0.saturating_sub(1);
        if let Some(n) = open.1.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                // The map holds only addresses with open connections.
                open.1.remove(&ip);
            }
        }
        self.http()
            .connections_open
            .store(open.0 as u64, Ordering::Relaxed);
    }
}

/// One connection's place; given back when dropped.
pub struct ConnSlot {
    limiter: Arc<ConnLimiter>,
    ip: IpAddr,
}

impl Drop for ConnSlot {
    fn drop(&mut self) {
        self.limiter.release(self.ip);
    }
}

/// A TCP stream that holds its connection slot for as long as it lives.
pub struct SlotIo {
    pub stream: TcpStream,
    pub slot: ConnSlot,
}

impl AsyncRead for SlotIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for SlotIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// The answer to a refused connection: a complete HTTP response, so a
/// client sees why (written without waiting, then the socket is closed).
pub fn refusal_response(r: Refusal) -> Vec<u8> {
    let body = match r {
        Refusal::Total => r#"{"error":"too many connections to this server; try again shortly"}"#,
        Refusal::PerAddress => {
            r#"{"error":"too many connections from your address; close some and try again"}"#
        }
    };
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
