//! # bus
//!
//! Lookout grown onto NATS with JetStream: the subjects, payloads and
//! connection handling that let one picture be built and served by several
//! machines, and shared between organisations.
//!
//! ```text
//!  ingest nodes ──RawBatch──▶ JetStream stream LOOKOUT_RAW (lookout.raw.<source>)
//!                                      │ durable consumer per core (ack after apply)
//!                                      ▼
//!                              core: decoder → picture → alerts
//!                                      │ PictureBatch (lookout.picture.changes, seq-numbered)
//!                                      │ AlertEvent   (lookout.alerts.<kind>, once per cluster)
//!                                      │ snapshots    (request on lookout.snapshot)
//!                                      ▼
//!                              edge nodes: mirror → WebSocket/HTTP clients
//! ```
//!
//! [`subjects`] names every subject, [`payload`] every message body (JSON,
//! serde), [`config`] the `[bus]` section, [`conn`] connects (reconnecting
//! for ever) and declares the stream, consumer and key-value bucket,
//! [`publish`] is the bounded, counted publish buffer of ingest nodes, and
//! [`stats`] the counters every role exports. The wire contract is
//! documented in `docs/scaling.md`.

pub mod checkpoint;
pub mod config;
pub mod conn;
pub mod payload;
pub mod publish;
pub mod stats;
pub mod subjects;
pub mod testkit;

pub use config::{BusConfig, Role, ShareConfig};
pub use conn::Bus;
pub use stats::BusStats;
