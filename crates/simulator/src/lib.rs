//! # simulator
//!
//! Writes realistic AIS recordings for demos, training, tests and load
//! tests: a scenario (TOML, see `config/scenarios/`) describes shipping
//! lanes, areas and fleets — merchant ships on the central-Mediterranean
//! lanes, fishing vessels, class B craft, patrol and rescue ships, SAR
//! aircraft — and scripted events (an AIS-SART activation, a vessel going
//! dark, a loitering vessel, an encounter at sea). The [`Simulator`] moves
//! every vessel with plausible kinematics and emits each report when the ITU
//! reporting interval says it is due, as real `!AIVDM` sentences with NMEA
//! 4.10 TAG blocks (`s:` station, `c:` time), in time order.
//!
//! Everything is a pure function of the scenario and its seed: the same
//! scenario gives the same recording, byte for byte.
//!
//! Modules, in the order data flows: [`scenario`] (the file) → [`fleet`]
//! (who the vessels are) → [`motion`] (how they move, on a sphere via
//! [`sphere`]) → [`engine`] (when they report, scripted events, AIS
//! encoding).
//!
//! ```
//! use simulator::{Scenario, Simulator};
//! let scenario = Scenario::demo();
//! let mut sim = Simulator::new(&scenario).unwrap();
//! let mut lines = Vec::new();
//! sim.run_for(60_000, |_t, line| lines.push(line.to_string()));
//! assert!(lines.len() > 100);
//! assert!(lines[0].starts_with("\\s:"));
//! ```

pub mod engine;
pub mod fleet;
pub mod motion;
pub mod scenario;
pub mod sphere;

pub use engine::Simulator;
pub use scenario::{Scenario, ScenarioError};
