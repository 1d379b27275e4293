//! `[[outputs]]`: one table per output, tagged by `type`.
//!
//! ```toml
//! [[outputs]]
//! type = "nmea_tcp"                 # a TCP server OpenCPN connects to
//! listen = "127.0.0.1:10110"
//! bbox = [11.0, 34.0, 16.0, 38.0]   # west, south, east, north (optional)
//! classes = ["A", "B", "ais_sart"]  # optional; own assets: "own_asset"
//! tag_blocks = false                # plain !AIVDM lines (the default)
//!
//! [[outputs]]
//! type = "nmea_udp"
//! target = "192.0.2.10:10110"
//! ```

use serde::Deserialize;
use std::net::SocketAddr;

/// One output's configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum OutputConfig {
    /// A TCP server streaming AIS sentences to every client.
    NmeaTcp {
        /// Where to listen (loopback unless told otherwise).
        listen: SocketAddr,
        #[serde(flatten)]
        common: NmeaCommon,
        /// At most this many clients at once (default 64); more are refused.
        #[serde(default = "default_max_clients")]
        max_clients: usize,
        /// Bytes queued per client before it counts as too slow and is
        /// dropped (default 1 MiB).
        #[serde(default = "default_client_buffer")]
        client_buffer_bytes: usize,
    },
    /// UDP datagrams to one target (one datagram per message).
    NmeaUdp {
        target: SocketAddr,
        #[serde(flatten)]
        common: NmeaCommon,
    },
}

/// What both NMEA outputs share.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct NmeaCommon {
    /// A name for `/metrics` (default: the output's type and address).
    #[serde(default)]
    pub name: Option<String>,
    /// `[west, south, east, north]`, degrees; west > east crosses 180°.
    #[serde(default)]
    pub bbox: Option<[f64; 4]>,
    /// Station classes to pass (the picture's names: `A`, `B`,
    /// `sar_aircraft`, `aton`, `base_station`, `ais_sart`, `mob`,
    /// `epirb_ais`, `unknown`, and `own_asset` for our own units).
    #[serde(default)]
    pub classes: Option<Vec<String>>,
    /// Send the NMEA 4.10 TAG block (station, time, group) in front of the
    /// sentences (default false: plain `!AIVDM` lines, as OpenCPN expects).
    #[serde(default)]
    pub tag_blocks: bool,
}

fn default_max_clients() -> usize {
    64
}

fn default_client_buffer() -> usize {
    1 << 20
}

/// Every class name the filter knows.
pub const CLASSES: &[&str] = &[
    "A",
    "B",
    "sar_aircraft",
    "aton",
    "base_station",
    "ais_sart",
    "mob",
    "epirb_ais",
    "unknown",
    "own_asset",
];

impl OutputConfig {
    /// The shared settings.
    pub fn common(&self) -> &NmeaCommon {
        match self {
            OutputConfig::NmeaTcp { common, .. } | OutputConfig::NmeaUdp { common, .. } => common,
        }
    }

    /// The name in `/metrics`.
    pub fn name(&self) -> String {
        if let Some(n) = &self.common().name {
            return n.clone();
        }
        match self {
            OutputConfig::NmeaTcp { listen, .. } => format!("nmea_tcp {listen}"),
            OutputConfig::NmeaUdp { target, .. } => format!("nmea_udp {target}"),
        }
    }

    /// Check what serde cannot: box bounds and class names.
    pub fn validate(&self) -> Result<(), String> {
        let c = self.common();
        if let Some([w, s, e, n]) = c.bbox {
            let lon_ok = |x: f64| (-180.0..=180.0).contains(&x);
            let lat_ok = |x: f64| (-90.0..=90.0).contains(&x);
            if !(lon_ok(w) && lon_ok(e) && lat_ok(s) && lat_ok(n)) || s > n {
                return Err(format!(
                    "output {}: bbox must be [west, south, east, north] in degrees with south <= north, got {:?}",
                    self.name(),
                    [w, s, e, n]
                ));
            }
        }
        if let Some(classes) = &c.classes {
            if let Some(bad) = classes.iter().find(|k| !CLASSES.contains(&k.as_str())) {
                return Err(format!(
                    "output {}: unknown class {bad:?} (known: {})",
                    self.name(),
                    CLASSES.join(", ")
                ));
            }
        }
        if let OutputConfig::NmeaTcp { max_clients: 0, .. } = self {
            return Err(format!(
                "output {}: max_clients must be at least 1",
                self.name()
            ));
        }
        Ok(())
    }
}
