//! # alerts
//!
//! What needs a human, said once, with the facts. The [`AlertEngine`]
//! consumes the picture's event stream (and the decoded safety texts of
//! distress beacons), runs every rule on **message time** — so a replay
//! raises exactly the alerts the live run raised — and keeps one
//! [`Alert`] per situation: repeated triggers update it, it clears when the
//! situation ends, operators acknowledge it.
//!
//! | module | rule |
//! |---|---|
//! | [`rules::zone`] | `zone_enter` / `zone_exit`, with hysteresis |
//! | [`rules::distress`] | `distress_beacon` (AIS-SART, MOB, EPIRB-AIS active), `distress_beacon_test` |
//! | [`rules::gap`] | `ais_gap`: silent for 30 min after last being seen in a zone |
//! | [`rules::loiter`] | `loitering`: under 2 kn for 60 min in a zone that is not a port |
//! | [`rules::encounter`] | `encounter`: two vessels within 500 m, both under 3 kn, 30 min, outside ports (R-tree, not quadratic) |
//! | [`rules::jump`] | `position_jump`: positions implying more than 60 kn |
//! | [`rules::nav`] | `nav_status`: not under command or aground in a zone |
//!
//! [`book`] holds the alerts and their lifecycle; [`config`] the tunables.

pub mod alert;
pub mod book;
pub mod config;
pub mod engine;
pub mod rules;
pub mod state;

pub use alert::{Alert, AlertKind, AlertState, Severity};
pub use config::AlertConfig;
pub use engine::AlertEngine;
