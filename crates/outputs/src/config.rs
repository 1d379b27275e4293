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
//!
//! [[outputs]]
//! type = "cot"                      # the picture to a TAK server (crate::cot)
//! address = "tak.example.org:8089"
//! protocol = "tls"
//! tls = { ca = "tak-ca.pem", cert = "lookout.pem", key = "lookout.key" }
//! min_interval_s = 10               # per vessel
//! stale_s = 300
//! ```

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

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
    /// Cursor-on-Target to a TAK server: vessel tracks, contacts and
    /// incidents ([`crate::cot`]).
    Cot(CotOutputConfig),
}

/// How the CoT output reaches the TAK server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CotTransport {
    /// A stream of events on one connection (TAK server's 8087), reconnecting.
    #[default]
    Tcp,
    /// The same over TLS with a client certificate (`tls = { … }`, 8089).
    Tls,
    /// One event per datagram, unicast or multicast (239.2.3.1:6969).
    Udp,
}

/// What the CoT output does while `serve --replay` (or the demo) plays.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplayPolicy {
    /// Send, stamped with the wall clock like live events, and flagged as a
    /// simulation (`opex="s-lookout-replay"`, `replay="true"`, remarks
    /// starting `REPLAY`).
    #[default]
    Wallclock,
    /// Send nothing (vessels, contacts, incidents) during a replay.
    Skip,
}

/// `tls = { ca = "…", cert = "…", key = "…" }`, PEM files.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CotTls {
    /// The CA the TAK server's certificate chains to.
    pub ca: PathBuf,
    /// Lookout's client certificate (chain) and key; both or neither.
    #[serde(default)]
    pub cert: Option<PathBuf>,
    #[serde(default)]
    pub key: Option<PathBuf>,
    /// The name in the server's certificate (default: the address's host).
    #[serde(default)]
    pub server_name: Option<String>,
}

/// `type = "cot"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CotOutputConfig {
    /// `host:port` of the TAK server (resolved at each connect), or a
    /// UDP (multicast) address.
    pub address: String,
    #[serde(default)]
    pub protocol: CotTransport,
    #[serde(default)]
    pub tls: Option<CotTls>,
    /// At most one event per vessel per this many seconds (default 10); the
    /// latest report in between is the one sent.
    #[serde(default = "default_min_interval")]
    pub min_interval_s: f64,
    /// Events go stale on TAK maps this many seconds after they are sent
    /// (default 300).
    #[serde(default = "default_stale")]
    pub stale_s: f64,
    /// Every uid starts with this (default `lookout-<[bus] node>-`).
    #[serde(default)]
    pub uid_prefix: Option<String>,
    #[serde(default)]
    pub replay: ReplayPolicy,
    /// Reports waiting for the sender task (default 4096); more are
    /// dropped and counted.
    #[serde(default = "default_cot_queue")]
    pub queue: usize,
    /// First reconnect delay (ms, default 500), doubled up to
    /// `retry_max_ms` (default 30000).
    #[serde(default = "default_retry_initial")]
    pub retry_initial_ms: u64,
    #[serde(default = "default_retry_max")]
    pub retry_max_ms: u64,
    /// Connect (and TLS handshake) and write timeout (ms, default 5000).
    #[serde(default = "default_connect_timeout")]
    pub timeout_ms: u64,
    /// `name`, `bbox`, `classes` as for the NMEA outputs (`tag_blocks`
    /// does not apply).
    #[serde(flatten)]
    pub common: NmeaCommon,
}

fn default_min_interval() -> f64 {
    10.0
}
fn default_stale() -> f64 {
    300.0
}
fn default_cot_queue() -> usize {
    4096
}
fn default_retry_initial() -> u64 {
    500
}
fn default_retry_max() -> u64 {
    30_000
}
fn default_connect_timeout() -> u64 {
    5_000
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
            OutputConfig::Cot(c) => &c.common,
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
            OutputConfig::Cot(c) => format!("cot {}", c.address),
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
        if let OutputConfig::Cot(cot) = self {
            cot.validate()
                .map_err(|e| format!("output {}: {e}", self.name()))?;
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

impl CotOutputConfig {
    fn validate(&self) -> Result<(), String> {
        if self
            .address
            .rsplit_once(':')
            .is_none_or(|(h, p)| h.is_empty() || p.parse::<u16>().map_or(true, |p| p == 0))
        {
            return Err(format!("address must be host:port, got {:?}", self.address));
        }
        match (self.protocol, &self.tls) {
            (CotTransport::Tls, None) => {
                return Err("protocol \"tls\" needs tls = { ca, cert, key }".into())
            }
            (CotTransport::Tcp | CotTransport::Udp, Some(_)) => {
                return Err("tls = { … } is for protocol = \"tls\"".into())
            }
            _ => {}
        }
        if let Some(t) = &self.tls {
            if t.cert.is_some() != t.key.is_some() {
                return Err("tls: cert and key go together (both or neither)".into());
            }
        }
        if !(self.min_interval_s.is_finite() && self.min_interval_s >= 0.0) {
            return Err("min_interval_s must be 0 or more".into());
        }
        if !(self.stale_s.is_finite() && self.stale_s > 0.0) {
            return Err("stale_s must be more than 0".into());
        }
        if self.queue == 0 {
            return Err("queue must be at least 1".into());
        }
        if self.common.tag_blocks {
            return Err("tag_blocks is for the NMEA outputs".into());
        }
        Ok(())
    }
}
