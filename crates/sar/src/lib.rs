//! # sar
//!
//! The search-and-rescue side of the picture: what AIS does not see.
//!
//! Boats in distress in the central Mediterranean rarely carry AIS; a case
//! reaches a rescue centre as a phone call, an aircraft sighting or an NGO
//! report. This crate models those cases, with no I/O and no clock (every
//! time is passed in, so replays and tests are deterministic):
//!
//! | module | what it is |
//! |---|---|
//! | [`geo`] | great-circle distance, bearing and destination on a sphere |
//! | [`contact`] | a [`Contact`]: a non-AIS object with its own track of sightings, uncertainty and drift |
//! | [`incident`] | an [`Incident`]: one distress case, its status lifecycle, linked contacts/alerts/vessels, assigned assets, and the action log it is rebuilt from |
//! | [`intercept`] | which vessels can reach a (drifting) contact first: the classic intercept problem, ranked |
//!
//! Durable storage is `crates/store`; the HTTP/WebSocket API is in
//! `crates/broadcast`; `crates/lookout` joins them to the live picture.

pub mod contact;
pub mod error;
pub mod geo;
pub mod incident;
pub mod intercept;

pub use contact::{Contact, ContactStatus, Sighting, SourceKind};
pub use error::{ErrorKind, SarError};
pub use geo::LatLon;
pub use incident::{Action, Asset, Incident, IncidentStatus, LogEntry};
pub use intercept::{intercept, rank, Intercept, InterceptModel, Pursuer, Ranked, Target};
