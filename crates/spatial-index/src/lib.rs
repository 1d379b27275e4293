//! # spatial-index
//!
//! Lookout's live picture: one record per MMSI built from decoded AIS
//! ([`lookout_ais::Decoded`]), an R-tree of vessel positions and an R-tree
//! of zones, incremental zone membership, staleness on message time, and a
//! stream of change events for the alert rules, the broadcast layer and a
//! future message bus.
//!
//! A library with no async and no I/O except reading zone files.
//!
//! | module | what it is for |
//! |---|---|
//! | [`picture`] | [`Picture`]: ingestion (`apply`), time (`advance_time`), queries, events |
//! | [`table`] | [`VesselTable`]: records by slot and MMSI |
//! | [`vessel`] | the record, class derivation, static-data merging |
//! | [`dedup`] | one transmission heard by several receivers counts once |
//! | [`staleness`] | ITU reporting intervals → stale / lost / removed |
//! | [`plausibility`] | 60-knot jumps, unavailable positions, invalid MMSIs |
//! | [`track`] | bounded, thinned track history |
//! | [`vessel_index`] | the vessel R-tree with loose boxes |
//! | [`query`] | box, radius and k-nearest queries by great-circle distance |
//! | [`geodesy`] | haversine, nautical miles, the degree envelope of a circle |
//! | [`geobox`] | lat/lon boxes, across the antimeridian |
//! | [`zones`] | GeoJSON zones, prepared polygons, the zone R-trees |
//! | [`events`] | the event enum and the bounded sink |
//! | [`hash`] | the fast deterministic hasher of the hot maps |
//!
//! ```
//! use lookout_ais::{Decoder, DecoderOptions, LineContext};
//! use spatial_index::{Event, GeoBox, Picture, PictureConfig, ZoneIndex};
//!
//! let zones = ZoneIndex::load(&[concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/zones")]).unwrap();
//! let mut picture = Picture::new(PictureConfig::default(), zones);
//! let mut decoder = Decoder::new(DecoderOptions::default());
//! let ctx = LineContext { source: 0, received_ms: Some(1_700_000_000_000) };
//! decoder
//!     .decode_line_with(b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A", &ctx, |d| {
//!         picture.apply(&d, ctx.received_ms);
//!     })
//!     .unwrap();
//! let v = picture.vessel(371_798_000).unwrap();
//! assert_eq!(v.class.as_str(), "A");
//! let viewport = GeoBox::new(-124.0, 48.0, -123.0, 49.0).unwrap(); // Victoria, BC
//! assert_eq!(picture.in_boxes(&[viewport]).len(), 1);
//! assert!(matches!(
//!     picture.events_mut().pop().unwrap().event,
//!     Event::VesselNew { mmsi: 371_798_000, .. }
//! ));
//! ```

pub mod dedup;
pub mod events;
pub mod geobox;
pub mod geodesy;
pub mod hash;
pub mod picture;
pub mod plausibility;
pub mod query;
pub mod staleness;
pub mod table;
pub mod track;
pub mod vessel;
pub mod vessel_index;
pub mod zones;

pub use events::{Event, EventSink, Flag, Sequenced};
pub use geobox::GeoBox;
pub use picture::{Outcome, Picture, PictureConfig, PictureStats, SharedPicture};
pub use table::VesselTable;
pub use vessel::{Vessel, VesselClass, VesselFlags, VesselState};
pub use vessel_index::VesselIndex;
pub use zones::{Zone, ZoneError, ZoneIndex, ZoneKind, ZoneLoadError};
