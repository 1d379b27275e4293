//! Source configuration: one serde struct per kind of source, in a
//! [`SourceConfig`] enum tagged by `type`, each with a unique `name`.
//!
//! The binary reads a list of these (from TOML, JSON, …) and hands each to
//! [`crate::source::start_source`]. Defaults are chosen per kind: live
//! network sources drop the oldest queued line under overload, files, stdin
//! and replays apply backpressure. Listeners bind to loopback unless an
//! address says otherwise.
//!
//! ```
//! let json = r#"[
//!   {"type": "tcp_client", "name": "national", "address": "ais.example.org:5631"},
//!   {"type": "udp", "name": "rescue-1-gps", "own_asset": "RESCUE-1"},
//!   {"type": "file", "name": "old", "path": "old.nmea.gz"}
//! ]"#;
//! let sources: Vec<ingest::config::SourceConfig> = serde_json::from_str(json).unwrap();
//! assert_eq!(sources[1].name(), "rescue-1-gps");
//! assert_eq!(sources[1].own_asset(), Some("RESCUE-1"));
//! for s in &sources { s.validate().unwrap(); }
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::line::DEFAULT_MAX_LINE;
use crate::queue::{Overload, DEFAULT_CAPACITY};
use crate::recorder::RecorderConfig;

/// Default UDP port for NMEA 0183 over UDP.
pub const DEFAULT_UDP_PORT: u16 = 10110;

fn default_max_line() -> usize {
    DEFAULT_MAX_LINE
}
fn default_connect_timeout_ms() -> u64 {
    10_000
}
fn default_client_idle_ms() -> u64 {
    60_000
}
fn default_listener_idle_ms() -> u64 {
    300_000
}
fn default_initial_backoff_ms() -> u64 {
    500
}
fn default_max_backoff_ms() -> u64 {
    60_000
}
fn default_max_connections() -> usize {
    16
}
fn default_udp_recv_buffer() -> usize {
    4 << 20
}
fn default_udp_address() -> String {
    format!("127.0.0.1:{DEFAULT_UDP_PORT}")
}
fn default_true() -> bool {
    true
}
fn default_queue_capacity() -> usize {
    DEFAULT_CAPACITY
}

/// TCP client to a feed (e.g. a national AIS network's raw NMEA port).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpClientConfig {
    pub name: String,
    /// `host:port`.
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_asset: Option<String>,
    /// Default `drop_oldest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overload: Option<Overload>,
    #[serde(default = "default_max_line")]
    pub max_line_bytes: usize,
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// Reconnect when nothing arrives for this long; 0 = never.
    #[serde(default = "default_client_idle_ms")]
    pub idle_timeout_ms: u64,
    /// First retry delay; doubles per failed attempt, with jitter.
    #[serde(default = "default_initial_backoff_ms")]
    pub initial_backoff_ms: u64,
    /// Longest retry delay.
    #[serde(default = "default_max_backoff_ms")]
    pub max_backoff_ms: u64,
}

/// TCP listener that receivers connect to and push lines into.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpListenerConfig {
    pub name: String,
    /// `ip:port` to bind; use `127.0.0.1` unless receivers are remote.
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_asset: Option<String>,
    /// Default `drop_oldest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overload: Option<Overload>,
    #[serde(default = "default_max_line")]
    pub max_line_bytes: usize,
    /// Connections served at once; more are accepted and closed at once.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Close a connection that sends nothing for this long; 0 = never.
    #[serde(default = "default_listener_idle_ms")]
    pub idle_timeout_ms: u64,
}

/// UDP listener: one or many sentences per datagram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UdpConfig {
    pub name: String,
    /// `ip:port` to bind; default `127.0.0.1:10110`.
    #[serde(default = "default_udp_address")]
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_asset: Option<String>,
    /// Default `drop_oldest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overload: Option<Overload>,
    #[serde(default = "default_max_line")]
    pub max_line_bytes: usize,
    /// The socket's receive buffer (SO_RCVBUF): what absorbs bursts while
    /// the reader is busy. Default 4 MiB (about 50,000 sentences); the
    /// kernel caps it at `net.core.rmem_max`.
    #[serde(default = "default_udp_recv_buffer")]
    pub recv_buffer_bytes: usize,
}

/// A file, plain or gzip (detected by its magic bytes), read once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub name: String,
    pub path: PathBuf,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_asset: Option<String>,
    /// Default `block`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overload: Option<Overload>,
    #[serde(default = "default_max_line")]
    pub max_line_bytes: usize,
}

/// Standard input, plain or gzip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdinConfig {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_asset: Option<String>,
    /// Default `block`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overload: Option<Overload>,
    #[serde(default = "default_max_line")]
    pub max_line_bytes: usize,
}

/// Replay of Lookout archives (see `docs/recording.md`): lines come back
/// with their recorded receive time and, by default, their recorded source
/// name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayConfig {
    pub name: String,
    /// Archive files and/or directories.
    pub paths: Vec<PathBuf>,
    /// Only lines received at or after this time (see
    /// [`crate::timefmt::parse_time`] for the forms accepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Only lines received before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Playback speed relative to real time; 0 = as fast as the pipeline
    /// takes them.
    #[serde(default)]
    pub speed: f64,
    /// Attribute lines to their recorded source names (registered as
    /// sources of kind `replayed`); otherwise to this source.
    #[serde(default = "default_true")]
    pub keep_sources: bool,
    /// Own assets by recorded source name, for GNSS lines.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub own_assets: BTreeMap<String, String>,
    /// Own asset for lines attributed to this source itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_asset: Option<String>,
    /// Default `block`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overload: Option<Overload>,
}

/// One source, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SourceConfig {
    TcpClient(TcpClientConfig),
    TcpListener(TcpListenerConfig),
    Udp(UdpConfig),
    File(FileConfig),
    Stdin(StdinConfig),
    Replay(ReplayConfig),
}

/// Everything ingest needs: the queue, the sources, the recorder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestConfig {
    /// Lines the queue holds.
    #[serde(default = "default_queue_capacity")]
    pub queue_capacity: usize,
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorder: Option<RecorderConfig>,
}

/// A configuration mistake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Longest source or asset name.
pub const MAX_NAME_LEN: usize = 64;

/// Whether `name` can be a source or asset name: 1–64 characters from
/// `A–Z a–z 0–9 . _ -`. These go into TAG blocks (`s:`) and logs unescaped,
/// so nothing else is allowed.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn check_name(what: &str, name: &str) -> Result<(), ConfigError> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(ConfigError(format!(
            "{what} {name:?} must be 1-{MAX_NAME_LEN} characters of A-Z a-z 0-9 . _ -"
        )))
    }
}

impl SourceConfig {
    /// The source's name.
    pub fn name(&self) -> &str {
        match self {
            SourceConfig::TcpClient(c) => &c.name,
            SourceConfig::TcpListener(c) => &c.name,
            SourceConfig::Udp(c) => &c.name,
            SourceConfig::File(c) => &c.name,
            SourceConfig::Stdin(c) => &c.name,
            SourceConfig::Replay(c) => &c.name,
        }
    }

    /// The `type` tag.
    pub fn kind(&self) -> &'static str {
        match self {
            SourceConfig::TcpClient(_) => "tcp_client",
            SourceConfig::TcpListener(_) => "tcp_listener",
            SourceConfig::Udp(_) => "udp",
            SourceConfig::File(_) => "file",
            SourceConfig::Stdin(_) => "stdin",
            SourceConfig::Replay(_) => "replay",
        }
    }

    /// The own asset this source's `$` sentences describe.
    pub fn own_asset(&self) -> Option<&str> {
        match self {
            SourceConfig::TcpClient(c) => c.own_asset.as_deref(),
            SourceConfig::TcpListener(c) => c.own_asset.as_deref(),
            SourceConfig::Udp(c) => c.own_asset.as_deref(),
            SourceConfig::File(c) => c.own_asset.as_deref(),
            SourceConfig::Stdin(c) => c.own_asset.as_deref(),
            SourceConfig::Replay(c) => c.own_asset.as_deref(),
        }
    }

    /// The overload policy in force (configured, or the kind's default).
    pub fn overload(&self) -> Overload {
        let (set, default) = match self {
            SourceConfig::TcpClient(c) => (c.overload, Overload::DropOldest),
            SourceConfig::TcpListener(c) => (c.overload, Overload::DropOldest),
            SourceConfig::Udp(c) => (c.overload, Overload::DropOldest),
            SourceConfig::File(c) => (c.overload, Overload::Block),
            SourceConfig::Stdin(c) => (c.overload, Overload::Block),
            SourceConfig::Replay(c) => (c.overload, Overload::Block),
        };
        set.unwrap_or(default)
    }

    /// Check names, limits and times.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_name("source name", self.name())?;
        if let Some(a) = self.own_asset() {
            check_name("own_asset", a)?;
        }
        let max_line = match self {
            SourceConfig::TcpClient(c) => c.max_line_bytes,
            SourceConfig::TcpListener(c) => c.max_line_bytes,
            SourceConfig::Udp(c) => c.max_line_bytes,
            SourceConfig::File(c) => c.max_line_bytes,
            SourceConfig::Stdin(c) => c.max_line_bytes,
            SourceConfig::Replay(_) => DEFAULT_MAX_LINE,
        };
        if !(16..=65_536).contains(&max_line) {
            return Err(ConfigError(format!(
                "{}: max_line_bytes must be 16-65536",
                self.name()
            )));
        }
        match self {
            SourceConfig::TcpClient(c) => {
                if c.initial_backoff_ms == 0 || c.max_backoff_ms < c.initial_backoff_ms {
                    return Err(ConfigError(format!(
                        "{}: need 0 < initial_backoff_ms <= max_backoff_ms",
                        c.name
                    )));
                }
                if c.connect_timeout_ms == 0 {
                    return Err(ConfigError(format!("{}: connect_timeout_ms is 0", c.name)));
                }
            }
            SourceConfig::TcpListener(c) if c.max_connections == 0 => {
                return Err(ConfigError(format!("{}: max_connections is 0", c.name)));
            }
            SourceConfig::Replay(c) => {
                for t in [&c.from, &c.to].into_iter().flatten() {
                    crate::timefmt::parse_time(t)
                        .map_err(|e| ConfigError(format!("{}: {e}", c.name)))?;
                }
                if !(c.speed >= 0.0 && c.speed.is_finite()) {
                    return Err(ConfigError(format!("{}: speed must be >= 0", c.name)));
                }
                if c.paths.is_empty() {
                    return Err(ConfigError(format!("{}: no paths to replay", c.name)));
                }
                for (src, asset) in &c.own_assets {
                    check_name("own_assets source", src)?;
                    check_name("own_asset", asset)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl IngestConfig {
    /// Validate every source and check that names are unique.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut seen = std::collections::BTreeSet::new();
        for s in &self.sources {
            s.validate()?;
            if !seen.insert(s.name()) {
                return Err(ConfigError(format!("two sources are named {:?}", s.name())));
            }
        }
        if self.queue_capacity == 0 {
            return Err(ConfigError("queue_capacity is 0".into()));
        }
        if let Some(r) = &self.recorder {
            r.validate()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_tags() {
        let c: SourceConfig = serde_json::from_str(r#"{"type":"udp","name":"u"}"#).unwrap();
        match &c {
            SourceConfig::Udp(u) => {
                assert_eq!(u.address, "127.0.0.1:10110");
                assert_eq!(u.max_line_bytes, 1024);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(c.overload(), Overload::DropOldest);
        let f: SourceConfig =
            serde_json::from_str(r#"{"type":"file","name":"f","path":"x"}"#).unwrap();
        assert_eq!(f.overload(), Overload::Block);
        let t: SourceConfig = serde_json::from_str(
            r#"{"type":"tcp_client","name":"t","address":"h:1","overload":"drop_newest"}"#,
        )
        .unwrap();
        assert_eq!(t.overload(), Overload::DropNewest);
    }

    #[test]
    fn unknown_fields_and_bad_names_are_rejected() {
        assert!(serde_json::from_str::<SourceConfig>(
            r#"{"type":"udp","name":"u","adress":"1.2.3.4:5"}"#
        )
        .is_err());
        assert!(
            serde_json::from_str::<SourceConfig>(r#"{"type":"carrier_pigeon","name":"u"}"#)
                .is_err()
        );
        let c: SourceConfig = serde_json::from_str(r#"{"type":"udp","name":"has,comma"}"#).unwrap();
        assert!(c.validate().is_err());
        let c: SourceConfig =
            serde_json::from_str(r#"{"type":"udp","name":"ok","own_asset":"RESCUE 1"}"#).unwrap();
        assert!(c.validate().is_err());
    }

    #[test]
    fn duplicate_names() {
        let cfg: IngestConfig = serde_json::from_str(
            r#"{"sources":[{"type":"udp","name":"a"},{"type":"stdin","name":"a"}]}"#,
        )
        .unwrap();
        assert!(cfg.validate().unwrap_err().0.contains("two sources"));
    }
}
