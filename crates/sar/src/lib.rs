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
//! | [`time`] | times in request bodies: UNIX ms or RFC 3339, as the HTTP API reads them |
//! | [`leeway`] | leeway by object category (downwind and crosswind, left and right), the table in `data/leeway.csv` |
//! | [`drift`] | the datum track: current plus leeway from the LKP, with the left and right divergence datums; current measured from a drifting AIS-SART/MOB |
//! | [`probable_error`] | total probable error `E = √(X² + Y² + De²)` and the safety factors |
//! | [`search_area`] | the IAMSAR search area (datum circle and the rectangle around the divergence datums) as GeoJSON |
//! | [`geojson`] | GeoJSON output and the bridge to `geo` polygons in a local plane |
//! | [`sweep_width`] | visual sweep width and track spacing by object, visibility and searching unit (`data/sweep_width.csv`), weather-corrected |
//! | [`patterns`] | IAMSAR search patterns (expanding square, sector, parallel sweep, track line) as timed waypoints |
//! | [`export`] | a pattern as GPX 1.1, KML 2.2 and NMEA `$GPWPL`/`$GPRTE` |
//! | [`coverage`] | swept area, coverage factor and probability of detection from the assets' tracks |
//! | [`sitrep`] | the IAMSAR SITREP (short and full form) from an incident, as text and JSON |
//!
//! Search planning follows the IAMSAR Manual, Volume II; the method, the
//! source of every coefficient and the limits of the model are in
//! `docs/sar.md`.
//!
//! Durable storage is `crates/store`; the HTTP/WebSocket API is in
//! `crates/broadcast`; `crates/lookout` joins them to the live picture.

pub mod contact;
pub mod coverage;
pub mod drift;
pub mod error;
pub mod export;
pub mod geo;
pub mod geojson;
pub mod incident;
pub mod intercept;
pub mod leeway;
pub mod patterns;
pub mod probable_error;
pub mod search_area;
pub mod sitrep;
pub mod sweep_width;
pub mod time;

pub use contact::{Contact, ContactStatus, Sighting, SourceKind};
pub use coverage::{coverage, cumulative_pod, AssetTrack, CoverageReport};
pub use error::{ErrorKind, SarError};
pub use geo::LatLon;
pub use incident::{Action, Asset, Incident, IncidentStatus, LogEntry};
pub use intercept::{intercept, rank, Intercept, InterceptModel, Pursuer, Ranked, Target};
pub use patterns::{generate as generate_pattern, Pattern, PatternRequest};
pub use search_area::{plan_search_area, SearchAreaPlan, SearchAreaRequest, SearchAreaResponse};
pub use sitrep::{sitrep, Rcc, Sitrep, SitrepOptions};
