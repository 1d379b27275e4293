//! Picture outputs: what Lookout sends to other software besides alerts.
//!
//! ```text
//! Engine::take_relayed() ─▶ OutputSet::send ─▶ NmeaTcp  (OpenCPN, chartplotters: `listen`)
//!                                          ├─▶ NmeaUdp  (a `target` host:port)
//!                                          ├─▶ CotOutput (a TAK server: tracks, contacts, incidents)
//!                                          └─▶ AisStream (aisstream.io-compatible `/v0/stream` sessions)
//! ```
//!
//! Each output sits behind the [`Output`] trait and has its own serde
//! config (`[[outputs]]` in `lookout.toml`, tagged by `type`). Outputs
//! never slow the picture: [`Output::send`] only queues, each queue is
//! bounded, and what is dropped is counted in `/metrics`.
//!
//! * [`filter`]: which messages an output passes (area, station class).
//! * [`nmea`]: framing a relayed message (or an own-asset fix) as NMEA
//!   0183 sentences, with or without TAG blocks.
//! * [`nmea_tcp`]: the TCP server output; [`nmea_udp`]: the UDP one.
//! * [`cot`]: Cursor-on-Target to a TAK server (TCP, TLS, UDP).
//! * [`aisstream`]: the aisstream.io-compatible feed (always on with the
//!   server; the WebSocket is `crates/server/src/aisstream.rs`).
//! * [`set`]: the configured outputs together.

pub mod aisstream;
pub mod config;
pub mod cot;
pub mod filter;
pub mod nmea;
pub mod nmea_tcp;
pub mod nmea_udp;
pub mod route;
pub mod set;

pub use config::OutputConfig;
pub use set::OutputSet;

pub use set::OutputStats;

use engine::Relayed;

/// One picture output.
pub trait Output: Send + Sync {
    /// Queue what the engine relayed (never blocks).
    fn send(&self, items: &[Relayed]);
    /// Its counters now.
    fn stats(&self) -> OutputStats;
    /// Where it listens, for a server output.
    fn local_addr(&self) -> Option<std::net::SocketAddr> {
        None
    }
    /// Where contacts and incidents come from (only the CoT output uses
    /// it).
    fn set_markers(&self, _source: cot::MarkerSource) {}
    /// Deliver a search pattern as a route, where the output can carry one
    /// (never blocks; the default: not at all).
    fn send_route(&self, _route: &route::Route) {}
    /// Does it need the engine to keep payloads ([`engine::Engine::relay`])
    /// now? (The aisstream feed only while a session is open.)
    fn wants_relay(&self) -> bool {
        true
    }
    /// Stop accepting and close connections.
    fn shutdown(&self);
}
