//! # bench-tools
//!
//! Load generators and measurement tools for Lookout's performance issues.
//! Everything here talks to a server on `127.0.0.1` only, runs for a bounded
//! time and a bounded number of lines/clients, and stops by itself.
//!
//! Binaries:
//!
//! * `bench-ingest` — sends a recording's lines over UDP and/or TCP to a
//!   running `lookout serve` (with `udp` and `tcp_listener` sources) at a set
//!   rate while querying `/api/vessels?bbox=…` in a loop, then reads
//!   `/metrics` to check that every line sent was received, queued and
//!   decoded (no loss).
//! * `bench-ws` — feeds lines over TCP at a set rate to a running server and
//!   connects many WebSocket clients (1 Hz viewports, fast all-area clients,
//!   stalled clients that never read), measuring delivered updates/s, the
//!   latency from the server's receipt of a line to the client's receipt of
//!   the update (p50/p99), and the server's RSS. Also speaks Signal K's
//!   `/signalk/v1/stream` for a like-for-like comparison.
//!
//! Library modules shared by both: [`recording`] (load lines), [`http`]
//! (a minimal HTTP/1.1 GET), [`metrics`] (Prometheus text), [`stats`]
//! (percentiles), [`timefmt`] (RFC 3339 ↔ UNIX ms), [`procfs`] (RSS and CPU
//! of a PID), [`pace`] (rate pacing).

pub mod http;
pub mod metrics;
pub mod pace;
pub mod procfs;
pub mod recording;
pub mod stats;
pub mod timefmt;

/// Refuse anything but a loopback address: these tools generate load.
pub fn require_loopback(addr: &std::net::SocketAddr) -> anyhow::Result<()> {
    if addr.ip().is_loopback() {
        Ok(())
    } else {
        anyhow::bail!("{addr}: bench tools only target 127.0.0.1 / ::1")
    }
}

/// Milliseconds since the UNIX epoch, from the system clock.
pub fn now_unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
