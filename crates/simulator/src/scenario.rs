//! Scenario files: what the simulator simulates.
//!
//! A scenario is TOML (see `config/scenarios/central-med.toml`, which is
//! also compiled in as [`Scenario::demo`]):
//!
//! ```toml
//! name = "example"
//! start = "2026-11-28T06:00:00Z"   # message time of the first report
//! seed = 7                         # same seed, same recording
//! station = "sim"                  # TAG block s: of every line
//!
//! [[lanes]]                        # shipping lanes: lon, lat waypoints
//! name = "sicily-channel"
//! points = [[11.0, 37.3], [15.0, 36.4]]
//!
//! [[areas]]                        # boxes: minLon, minLat, maxLon, maxLat
//! name = "grounds"
//! bbox = [12.0, 35.0, 13.0, 35.8]
//!
//! [[fleets]]                       # who sails where
//! kind = "merchant"                # merchant|fishing|pleasure|patrol|rescue|sar_aircraft
//! count = 20
//! lane = "sicily-channel"
//!
//! [[fleets]]
//! kind = "fishing"
//! count = 5
//! area = "grounds"
//!
//! [[events]]                       # scripted situations
//! kind = "sart_activation"         # sart_activation|sart_test|go_dark|loiter|encounter
//! at = "10m"                       # after start
//! lon = 12.5
//! lat = 35.2
//! ```

use serde::Deserialize;
use std::time::Duration;

/// The demonstration scenario shipped with Lookout (central Mediterranean).
pub const DEMO_TOML: &str = include_str!("../../../config/scenarios/central-med.toml");

/// A parsed, checked scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    /// RFC 3339 UTC start time (message time of the recording).
    pub start: String,
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// TAG block station (`s:`) written on every line.
    #[serde(default = "default_station")]
    pub station: String,
    #[serde(default)]
    pub lanes: Vec<Lane>,
    #[serde(default)]
    pub areas: Vec<Area>,
    #[serde(default)]
    pub fleets: Vec<Fleet>,
    #[serde(default)]
    pub events: Vec<Event>,
}

fn default_seed() -> u64 {
    1
}
fn default_station() -> String {
    "sim".into()
}

/// A shipping lane: waypoints as `[lon, lat]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lane {
    pub name: String,
    pub points: Vec<[f64; 2]>,
}

/// A box: `[min_lon, min_lat, max_lon, max_lat]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Area {
    pub name: String,
    pub bbox: [f64; 4],
}

/// Kinds of simulated traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FleetKind {
    /// Class A cargo ships and tankers following a lane.
    Merchant,
    /// Class A fishing vessels working an area slowly.
    Fishing,
    /// Class B pleasure craft in an area.
    Pleasure,
    /// Class A patrol ships sweeping an area.
    Patrol,
    /// Class A rescue (SAR) ships holding station in an area.
    Rescue,
    /// SAR aircraft (type 9) patrolling an area.
    SarAircraft,
}

/// A group of vessels of one kind on one lane or in one area.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fleet {
    pub kind: FleetKind,
    pub count: usize,
    #[serde(default)]
    pub lane: Option<String>,
    #[serde(default)]
    pub area: Option<String>,
}

/// A scripted situation at a time after the start.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    /// An AIS-SART switches on in active mode at the point and drifts.
    SartActivation {
        #[serde(with = "humantime_serde_shim")]
        at: Duration,
        lon: f64,
        lat: f64,
    },
    /// An AIS-SART transmits in test mode for a few minutes.
    SartTest {
        #[serde(with = "humantime_serde_shim")]
        at: Duration,
        lon: f64,
        lat: f64,
    },
    /// The vessel nearest to the point at that time stops transmitting.
    GoDark {
        #[serde(with = "humantime_serde_shim")]
        at: Duration,
        lon: f64,
        lat: f64,
    },
    /// A vessel arrives at the point at `at` and stays below 2 kn for
    /// `duration`, then leaves.
    Loiter {
        #[serde(with = "humantime_serde_shim")]
        at: Duration,
        #[serde(with = "humantime_serde_shim")]
        duration: Duration,
        lon: f64,
        lat: f64,
    },
    /// Two vessels meet at the point at `at` and stay within a few hundred
    /// metres of each other, slow, for `duration`.
    Encounter {
        #[serde(with = "humantime_serde_shim")]
        at: Duration,
        #[serde(with = "humantime_serde_shim")]
        duration: Duration,
        lon: f64,
        lat: f64,
    },
}

/// Durations written like "90s", "10m", "1h 30m".
mod humantime_serde_shim {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(&s).map_err(serde::de::Error::custom)
    }
}

/// Why a scenario is not usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError(pub String);

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScenarioError {}

fn valid_point(lon: f64, lat: f64) -> bool {
    (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat)
}

impl Scenario {
    /// Parse and check a scenario.
    pub fn from_toml(text: &str) -> Result<Scenario, ScenarioError> {
        let s: Scenario = toml::from_str(text).map_err(|e| ScenarioError(e.to_string()))?;
        s.check()?;
        Ok(s)
    }

    /// The bundled central-Mediterranean demonstration scenario.
    pub fn demo() -> Scenario {
        Scenario::from_toml(DEMO_TOML).expect("bundled scenario is valid")
    }

    /// Start time, milliseconds since the UNIX epoch.
    pub fn start_ms(&self) -> Result<i64, ScenarioError> {
        let t = humantime::parse_rfc3339(&self.start)
            .map_err(|e| ScenarioError(format!("start {:?}: {e}", self.start)))?;
        let d = t
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|_| ScenarioError("start is before 1970".into()))?;
        Ok(d.as_millis() as i64)
    }

    fn check(&self) -> Result<(), ScenarioError> {
        self.start_ms()?;
        if self.station.is_empty()
            || !self
                .station
                .bytes()
                .all(|c| c.is_ascii_graphic() && !b",*\\!".contains(&c))
        {
            return Err(ScenarioError(format!(
                "station {:?} must be printable without , * \\ !",
                self.station
            )));
        }
        for l in &self.lanes {
            if l.points.len() < 2 || l.points.iter().any(|p| !valid_point(p[0], p[1])) {
                return Err(ScenarioError(format!(
                    "lane {:?} needs two or more valid [lon, lat] points",
                    l.name
                )));
            }
        }
        for a in &self.areas {
            let [x0, y0, x1, y1] = a.bbox;
            if !valid_point(x0, y0) || !valid_point(x1, y1) || x0 >= x1 || y0 >= y1 {
                return Err(ScenarioError(format!(
                    "area {:?} bbox must be [minLon, minLat, maxLon, maxLat]",
                    a.name
                )));
            }
        }
        for f in &self.fleets {
            match (&f.lane, &f.area) {
                (Some(l), None) if self.lanes.iter().any(|x| &x.name == l) => {}
                (None, Some(a)) if self.areas.iter().any(|x| &x.name == a) => {}
                _ => {
                    return Err(ScenarioError(format!(
                        "fleet of {:?} needs exactly one existing lane or area",
                        f.kind
                    )))
                }
            }
            if f.kind == FleetKind::Merchant && f.lane.is_none() {
                return Err(ScenarioError("merchant fleets follow a lane".into()));
            }
        }
        for e in &self.events {
            let (lon, lat) = match *e {
                Event::SartActivation { lon, lat, .. }
                | Event::SartTest { lon, lat, .. }
                | Event::GoDark { lon, lat, .. }
                | Event::Loiter { lon, lat, .. }
                | Event::Encounter { lon, lat, .. } => (lon, lat),
            };
            if !valid_point(lon, lat) {
                return Err(ScenarioError(format!(
                    "event {e:?} has an invalid position"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_scenario_parses() {
        let s = Scenario::demo();
        assert!(!s.fleets.is_empty());
        assert!(s
            .events
            .iter()
            .any(|e| matches!(e, Event::SartActivation { .. })));
    }

    #[test]
    fn errors_name_the_problem() {
        let e = Scenario::from_toml("name='x'\nstart='2026-01-01T00:00:00Z'\n[[fleets]]\nkind='merchant'\ncount=1\nlane='nope'").unwrap_err();
        assert!(e.0.contains("lane"), "{e}");
        let e = Scenario::from_toml("name='x'\nstart='yesterday'").unwrap_err();
        assert!(e.0.contains("start"), "{e}");
        let e = Scenario::from_toml("name='x'\nstart='2026-01-01T00:00:00Z'\nbogus=1").unwrap_err();
        assert!(e.0.contains("bogus"), "{e}");
    }
}
