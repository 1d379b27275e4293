//! `server`: the Lookout server assembled as a library — what `lookout
//! serve` runs, and what tests start in-process without the binary.
//!
//! ```text
//! sources (feeds, --replay recordings, or the demo)
//!    │
//!    ▼
//! bounded queue ──▶ recorder tap ──▶ archive (restore at start, /api/history)
//!    │
//!    ▼
//! engine: decoder → picture → alert rules          (the pipeline thread)
//!    │ alerts ──▶ sinks (webhook, JSON lines, Cursor-on-Target)
//!    │ changes ─▶ hub ──▶ WebSocket sessions ──┐
//!    ▼                                         ├── one port
//! live state + state database ◀── HTTP API ────┘
//!
//! cluster roles on the NATS JetStream bus (role `all`: the above, no bus)
//! ingest   sources → queue → recorder tap → lookout.raw.<source>
//! core     durable consumer → engine → lookout.picture / lookout.alerts, sinks, hub
//! edge     lookout.picture → mirror → hub → WebSocket + HTTP
//! ```
//!
//! ```no_run
//! # async fn run() -> Result<(), String> {
//! use server::{LookoutConfig, ServeOptions, Server};
//! let mut opts = ServeOptions::new(LookoutConfig::load("config/lookout.toml".as_ref())?, "data");
//! opts.config.listen = "127.0.0.1:0".parse().unwrap();
//! let server = Server::start(opts).await?;          // listening when this returns
//! println!("http://{}", server.local_addr());
//! let stop = server.shutdown_handle();              // stop.shutdown() ends it, as SIGTERM does
//! # drop(stop);
//! server.run_until_shutdown().await                 // then the drain: sources, pipeline, recorder
//! # }
//! ```
//!
//! Modules, one concern each:
//!
//! - [`serve`] — [`Server`]: start-up in order (state database, zones,
//!   sources, restore, recorder, pipeline or cluster role, HTTP, snapshots)
//!   and the shutdown drain.
//! - [`options`] — [`ServeOptions`] and [`parse_speed`].
//! - [`config`] — [`LookoutConfig`], the `config/lookout.toml` file, and
//!   [`zone_paths`].
//! - `pipeline` — the ingest consumer thread: queue → recorder tap →
//!   engine → alerts to the sinks, changes to the hub.
//! - `state` — the shared live state and its answers to HTTP and
//!   WebSocket; `state::sar_api`: contacts, incidents, acknowledgements.
//! - `snapshot` — periodic picture snapshots and the restore at start.
//! - `history` — `/api/history` and archived tracks from the recorder's
//!   archive.
//! - `roles` — the cluster roles (ingest, core, edge) on the bus, and
//!   sharing between organisations.

mod aisstream;
pub mod config;
mod coverage_push;
mod history;
pub mod options;
mod pipeline;
mod roles;
pub mod serve;
mod snapshot;
mod state;
pub mod web;

pub use config::{zone_paths, LookoutConfig};
pub use options::{parse_speed, ServeOptions};
pub use roles::ClusterOptions;
pub use serve::{Server, ShutdownHandle};
pub use snapshot::SnapshotConfig;
