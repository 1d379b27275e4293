//! # alert-sinks
//!
//! Lookout's integrations: every alert change the [`alerts`] engine hands
//! out, delivered to other systems without losing it on the way.
//!
//! | module | what |
//! |---|---|
//! | [`config`] | [`SinkConfig`], one serde struct per sink, tagged by `type` |
//! | [`context`] | [`AlertContext`] (vessel/zone names, node) and the [`SinkAlert`] the sinks receive |
//! | [`sink`] | the [`AlertSink`] trait, its [`Inbox`], counters and status |
//! | [`set`] | [`SinkSet`]: start, `publish` (never blocks), `status`, `metrics`, `shutdown` |
//! | [`webhook`] | signed HTTP POST in order, through a durable outbox, at-least-once |
//! | [`outbox`] | the webhook's SQLite (WAL) outbox, bounded |
//! | [`jsonl`] | JSON lines to a file or stdout |
//! | [`cot`] | Cursor-on-Target XML to a TAK server (TCP or UDP) |
//!
//! The binary starts a [`SinkSet`] from the configuration and calls
//! [`SinkSet::publish_with`] (the alert and its [`AlertContext`]) for each change returned by
//! `AlertEngine::take_changes` (and by acknowledgements), after releasing
//! the picture's lock; each sink runs on its own thread behind a bounded
//! queue, so a slow or dead receiver never holds up the pipeline.

pub mod config;
pub mod context;
pub mod cot;
pub mod jsonl;
pub mod outbox;
pub mod set;
pub mod sink;
pub mod webhook;

pub use config::{CotConfig, CotProtocol, JsonLinesConfig, Secret, SinkConfig, WebhookConfig};
pub use context::{AlertContext, SinkAlert, WEBHOOK_SCHEMA};
pub use set::{SinkSet, StartError};
pub use sink::{AlertSink, Inbox, SinkStats, SinkStatus};
