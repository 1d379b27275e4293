//! Lookout's engine: one place where messages become the picture and the
//! alerts.
//!
//! ```text
//! lines ─▶ decoder (ingest::Router: AIS reassembly, own-asset GNSS)
//!            └─▶ Engine: per message ─▶ Picture (spatial-index) ─▶ events ─▶ AlertEngine (alerts)
//!                                   └─▶ own assets
//!          take_alerts() ─▶ sinks, WebSocket, bus      take_changes() ─▶ VesselView upserts/removals
//! ```
//!
//! Every path that turns AIS into a picture drives this one [`Engine`]:
//! `lookout serve` (every role), the cluster core, `lookout replay`, the
//! restore at start and the replay benchmark. How it steps, and why the
//! result depends on message time and order only, is in [`engine`].
//! [`views`] is how the picture looks to clients (shared with the cluster
//! edge, which mirrors those views).
//!
//! ```
//! use engine::{Engine, EngineConfig};
//! use lookout_ais::LineContext;
//! use spatial_index::ZoneIndex;
//!
//! let mut e = Engine::standalone(EngineConfig::default(), ZoneIndex::empty());
//! let ctx = LineContext::default();
//! e.feed_raw(b"\\c:1700000000*5F\\!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A", &ctx)
//!     .unwrap();
//! let changes = e.take_changes();
//! assert_eq!(changes.upserts.len(), 1);
//! assert_eq!(changes.upserts[0].mmsi, 371_798_000);
//! ```

pub mod engine;
pub mod own_assets;
pub mod relay;
pub mod views;

pub use engine::{Changes, Engine, EngineConfig};
pub use own_assets::OwnAssets;
pub use relay::{Relayed, RelayedAis, RelayedFix, VesselFacts};
