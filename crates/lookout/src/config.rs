//! `config/lookout.toml`: everything `lookout serve` needs, in one file.
//!
//! ```toml
//! listen = "127.0.0.1:8080"          # loopback unless told otherwise
//! zones = ["config/zones"]           # GeoJSON files or folders
//!
//! [ingest]                           # feeds, queue, recorder (crate `ingest`)
//! queue_capacity = 65536
//! [[ingest.sources]]
//! type = "tcp_client"
//! name = "national-feed"
//! address = "127.0.0.1:5631"
//! [ingest.recorder]
//! directory = "data/archive"
//!
//! [auth]                             # off only on loopback
//! enabled = true
//! [[auth.tokens]]
//! name = "duty officer"
//! role = "operator"
//! sha256 = "…"                       # `lookout token hash`
//!
//! [demo]                             # served when no source is configured
//! scenario = "config/scenarios/central-med.toml"
//! speed = 10
//! ```
//!
//! Each section is the serde struct of the crate that uses it; this module
//! only composes them and checks the file as a whole.

use alerts::AlertConfig;
use broadcast::AuthConfig;
use ingest::config::IngestConfig;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookoutConfig {
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    #[serde(default = "default_zones")]
    pub zones: Vec<PathBuf>,
    #[serde(default = "default_ingest")]
    pub ingest: IngestConfig,
    #[serde(default)]
    pub auth: AuthConfig,
    #[serde(default)]
    pub demo: DemoConfig,
    #[serde(default)]
    pub alerts: AlertConfig,
    /// Where alerts go besides the WebSocket: `[[sinks]]` (webhook with a
    /// durable outbox, JSON lines, Cursor-on-Target).
    #[serde(default)]
    pub sinks: Vec<alert_sinks::SinkConfig>,
    /// Periodic picture snapshots and the restore at start (with live
    /// feeds and a recorder): `[snapshot]`, see `crate::snapshot`.
    #[serde(default)]
    pub snapshot: crate::snapshot::SnapshotConfig,
}

/// The built-in demonstration, used when no source is configured.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoConfig {
    /// Scenario file; the bundled central-Mediterranean one when absent.
    pub scenario: Option<PathBuf>,
    /// Replay speed (message time per wall time).
    #[serde(default = "default_demo_speed")]
    pub speed: f64,
    /// Hours of traffic to simulate.
    #[serde(default = "default_demo_hours")]
    pub hours: f64,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            scenario: None,
            speed: default_demo_speed(),
            hours: default_demo_hours(),
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_zones() -> Vec<PathBuf> {
    vec![PathBuf::from("config/zones")]
}
fn default_ingest() -> IngestConfig {
    toml::from_str("").expect("empty ingest config is valid")
}
fn default_demo_speed() -> f64 {
    10.0
}
fn default_demo_hours() -> f64 {
    6.0
}

impl Default for LookoutConfig {
    fn default() -> Self {
        toml::from_str("").expect("empty config is valid")
    }
}

impl LookoutConfig {
    /// Read and check a configuration file; errors name the file.
    pub fn load(path: &Path) -> Result<LookoutConfig, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let cfg: LookoutConfig =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        cfg.check()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(cfg)
    }

    /// Checks across sections.
    pub fn check(&self) -> Result<(), String> {
        self.ingest.validate().map_err(|e| e.to_string())?;
        alert_sinks::config::validate_all(&self.sinks).map_err(|e| e.to_string())?;
        if !(self.demo.speed > 0.0 && self.demo.speed.is_finite()) {
            return Err("demo.speed must be a positive number".into());
        }
        if !(self.demo.hours > 0.0 && self.demo.hours <= 24.0 * 7.0) {
            return Err("demo.hours must be within 0..168".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_config_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/lookout.toml");
        let cfg = LookoutConfig::load(&path).unwrap();
        assert!(cfg.listen.ip().is_loopback());
    }

    #[test]
    fn defaults_are_safe() {
        let cfg = LookoutConfig::default();
        assert_eq!(cfg.listen, "127.0.0.1:8080".parse().unwrap());
        assert!(cfg.ingest.sources.is_empty());
    }

    #[test]
    fn unknown_keys_are_errors() {
        let e = toml::from_str::<LookoutConfig>("listn = \"0.0.0.0:1\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("listn"), "{e}");
    }
}
