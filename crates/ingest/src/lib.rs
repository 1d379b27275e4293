//! # ingest
//!
//! Lookout's feeds: where lines come from, how they reach the decoder, and
//! how every one of them is kept.
//!
//! ```text
//!  sources (one task each)                 consumer (one task)
//!  ┌────────────────────┐
//!  │ tcp_client         │──┐
//!  │ tcp_listener       │──┤  QueueSender            ┌─▶ Recorder::record_batch ─▶ writer thread ─▶ hourly .nmea ─▶ gzip thread
//!  │ udp                │──┼─(overload policy)─▶ LineQueue ─▶ QueueReceiver::recv_batch
//!  │ file / stdin (.gz) │──┤   (bounded)             └─▶ Router::handle ─▶ lookout-ais Decoder ─▶ Event::Ais ──┐
//!  │ replay (archives)  │──┘                                         └─▶ GnssTracker ─▶ Event::OwnAssetFix ─┴─▶ picture
//!  └────────────────────┘
//! ```
//!
//! * [`source`]: the [`source::FeedSource`] trait, [`source::start_source`]
//!   (config → registered, bound, running task), shutdown and backoff. One
//!   module per kind: [`tcp_client`], [`tcp_listener`], [`udp`], [`stream`]
//!   (file, stdin, any reader), [`replay`]. Configured from [`config`].
//! * [`mod@line`]: bounded line splitting; a [`line::Line`] is raw bytes + source
//!   id + receive time from the source's [`clock::Clock`] — the only place
//!   wall-clock time enters.
//! * [`queue`]: the one bounded queue with an explicit, counted overload
//!   policy per source.
//! * [`status`]: per-source counters and state ([`status::SourceRegistry`]),
//!   readable at any time.
//! * [`router`]: decoder and own-asset [`gnss`] tracking on the consumer side.
//! * [`recorder`], [`archive`], [`archive_reader`], [`timefmt`]: the archive
//!   (NMEA with TAG blocks, hourly files, gzip) and reading it back.
//!
//! Wiring, as the binary does it:
//!
//! ```no_run
//! use std::sync::Arc;
//! use ingest::{clock::SystemClock, config::IngestConfig, queue, recorder::Recorder,
//!              router::{Event, Router}, source, status::SourceRegistry};
//!
//! # async fn run(cfg: IngestConfig) -> Result<(), Box<dyn std::error::Error>> {
//! cfg.validate()?;
//! let registry = Arc::new(SourceRegistry::default());
//! let (queue, mut rx) = queue::channel(cfg.queue_capacity, registry.clone());
//! let (trigger, shutdown) = source::shutdown_pair();
//! let clock = Arc::new(SystemClock);
//! let _running = source::start_sources(&cfg.sources, &registry, &queue, clock.clone(), shutdown).await?;
//! drop(queue); // the receiver ends when every source has finished
//! let recorder = cfg.recorder.clone()
//!     .map(|r| Recorder::start(r, registry.clone(), clock.clone())).transpose()?;
//! let mut router = Router::new(registry.clone(), Default::default());
//! let mut batch = Vec::new();
//! while rx.recv_batch(&mut batch, 1024).await > 0 {
//!     if let Some(r) = &recorder { r.record_batch(&batch); }
//!     router.handle_batch(&batch, |event| match event {
//!         Event::Ais(m) => { /* update the picture */ let _ = m; }
//!         Event::OwnAssetFix(f) => { /* move our own unit */ let _ = f; }
//!     });
//!     batch.clear();
//! }
//! if let Some(r) = recorder { r.close(); }
//! drop(trigger);
//! # Ok(()) }
//! ```

pub mod archive;
pub mod archive_reader;
pub mod clock;
pub mod config;
pub mod gnss;
pub mod line;
pub mod queue;
pub mod recorder;
pub mod replay;
pub mod router;
pub mod source;
pub mod status;
pub mod stream;
pub mod tcp_client;
pub mod tcp_listener;
pub mod timefmt;
pub mod udp;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{IngestConfig, SourceConfig};
pub use line::{Line, SourceId};
pub use queue::{LineQueue, Overload, QueueReceiver, QueueSender};
pub use recorder::{Recorder, RecorderConfig};
pub use router::{Event, Router};
pub use source::{start_source, start_sources, FeedSource, Shutdown, SourceContext};
pub use status::{SourceRegistry, SourceState, SourceStatus};
