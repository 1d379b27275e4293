//! `config/lookout.toml`: everything `lookout serve` needs, in one file.
//!
//! ```toml
//! listen = "127.0.0.1:8080"          # loopback unless told otherwise
//! zones = ["config/zones"]           # GeoJSON files or folders
//!
//! [ingest]                           # feeds, queue, recorder (crate `ingest`)
//! queue_capacity = 262144
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
//! [state]                            # durable state (SQLite, WAL)
//! database = "data/lookout.db"       # default: lookout.db in --state-dir
//!
//! [[sar.rcc]]                        # rescue coordination centres (SITREPs,
//! name = "RCC Malta"                 # the incident's `rcc`)
//! phone = "+356 0000 0000"
//! email = "rcc@example.mt"
//! mmsi = 2480001
//! sar_region = "malta_srr"           # id of its zone of kind sar_region
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
    /// Connection, request, body and subscription limits of the HTTP and
    /// WebSocket server (`[limits]`, docs/security.md).
    #[serde(default)]
    pub limits: broadcast::Limits,
    /// Where alerts go besides the WebSocket: `[[sinks]]` (webhook with a
    /// durable outbox, JSON lines, Cursor-on-Target).
    #[serde(default)]
    pub sinks: Vec<alert_sinks::SinkConfig>,
    /// Picture outputs: `[[outputs]]` (NMEA re-broadcast over TCP or UDP
    /// for chartplotters and other AIS software; see the `outputs` crate).
    #[serde(default)]
    pub outputs: Vec<outputs::OutputConfig>,
    /// Scale-out over NATS JetStream (`[bus]`: url, role, node; see the
    /// `bus` crate and docs/scaling.md). Absent: one process, no bus.
    #[serde(default)]
    pub bus: bus::BusConfig,
    /// Sharing with partner organisations over NATS leaf nodes
    /// (`[share]`, `[[share.export]]`, `[[share.accept]]`).
    #[serde(default)]
    pub share: bus::ShareConfig,
    /// Durable state (`[state]`).
    #[serde(default)]
    pub state: StateConfig,
    /// Periodic picture snapshots and the restore at start (with live
    /// feeds and a recorder): `[snapshot]`, see `crate::snapshot`.
    #[serde(default)]
    pub snapshot: crate::snapshot::SnapshotConfig,
    /// Search and rescue: the rescue coordination centres (`[sar]`,
    /// `[[sar.rcc]]`).
    #[serde(default)]
    pub sar: SarConfig,
}

/// `[sar]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SarConfig {
    /// `[[sar.rcc]]`: the rescue coordination centres. An incident's RCC
    /// is the one whose `sar_region` zone contains the incident's position
    /// (shown with the incident, and the originator of its SITREPs); an
    /// entry without `sar_region` is the RCC for positions in no listed
    /// region.
    #[serde(default)]
    pub rcc: Vec<RccConfig>,
}

/// One rescue coordination centre.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RccConfig {
    pub name: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// Its coast station MMSI (00 prefix) or another identity.
    #[serde(default)]
    pub mmsi: Option<u32>,
    /// The id of its search and rescue region: a zone of kind
    /// `sar_region` (a zone file's or one created over the API).
    #[serde(default)]
    pub sar_region: Option<String>,
}

impl SarConfig {
    /// Names present, one RCC per region, at most one without a region.
    pub fn validate(&self) -> Result<(), String> {
        let mut regions = std::collections::BTreeSet::new();
        let mut defaults = 0;
        for r in &self.rcc {
            if r.name.trim().is_empty() || r.name.chars().count() > 200 {
                return Err("sar.rcc: name must be 1..200 characters".into());
            }
            if r.mmsi.is_some_and(|m| m == 0 || m > 999_999_999) {
                return Err(format!("sar.rcc {:?}: mmsi must be 1..999999999", r.name));
            }
            match &r.sar_region {
                Some(z) if !regions.insert(z.as_str()) => {
                    return Err(format!("sar.rcc: two RCCs for the sar_region {z:?}"))
                }
                Some(_) => {}
                None => defaults += 1,
            }
        }
        if defaults > 1 {
            return Err("sar.rcc: at most one RCC without a sar_region (the default)".into());
        }
        Ok(())
    }
}

/// `[state]`: where durable state lives.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateConfig {
    /// The SQLite database (WAL) of zones created over the API, contacts,
    /// incidents, alert states and acknowledgements, and of webhook sinks
    /// that name no `outbox` of their own. Default: `lookout.db` in
    /// `--state-dir` (`data/lookout.db`).
    pub database: Option<PathBuf>,
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
    /// The state database: `[state] database`, or `lookout.db` in
    /// `state_dir`.
    pub fn state_database(&self, state_dir: &Path) -> PathBuf {
        self.state
            .database
            .clone()
            .unwrap_or_else(|| state_dir.join("lookout.db"))
    }

    /// The sinks, with webhook outboxes left empty pointed at the state
    /// database `db` (its `outbox` table).
    pub fn sinks_with_outbox(&self, db: &Path) -> Vec<alert_sinks::SinkConfig> {
        let mut sinks = self.sinks.clone();
        for s in &mut sinks {
            if let alert_sinks::SinkConfig::Webhook(w) = s {
                if w.outbox.as_os_str().is_empty() {
                    w.outbox = db.to_path_buf();
                }
                if w.node.is_none() {
                    w.node = Some(self.node_name());
                }
            }
        }
        sinks
    }

    /// This server's name for integrators (the webhook body's `node`):
    /// `[bus] node` when a bus is configured or the node was named, else
    /// the host name (else "lookout").
    pub fn node_name(&self) -> String {
        if self.bus.url.is_some() || self.bus.node != "lookout" {
            return self.bus.node.clone();
        }
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .or_else(|| std::env::var("COMPUTERNAME").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| self.bus.node.clone())
    }

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
        self.bus.validate()?;
        self.share.validate()?;
        self.sar.validate()?;
        alert_sinks::config::validate_all(&self.sinks_with_outbox(Path::new("data/lookout.db")))
            .map_err(|e| e.to_string())?;
        if !(self.demo.speed > 0.0 && self.demo.speed.is_finite()) {
            return Err("demo.speed must be a positive number".into());
        }
        if !(self.demo.hours > 0.0 && self.demo.hours <= 24.0 * 7.0) {
            return Err("demo.hours must be within 0..168".into());
        }
        Ok(())
    }
}

/// Zone paths: the given ones, else `config/zones` when it exists.
pub fn zone_paths(given: &[PathBuf]) -> Vec<PathBuf> {
    if !given.is_empty() {
        return given.to_vec();
    }
    let default = PathBuf::from("config/zones");
    if default.is_dir() {
        vec![default]
    } else {
        vec![]
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
    fn webhook_outbox_defaults_to_the_state_database() {
        let cfg: LookoutConfig = toml::from_str(
            r#"
            [state]
            database = "/var/lib/lookout/state.db"
            [[sinks]]
            type = "webhook"
            name = "rcc"
            url = "https://rcc.example/alerts"
            secret_env = "RCC_SECRET"
            [[sinks]]
            type = "webhook"
            name = "ngo"
            url = "https://ngo.example/alerts"
            secret_env = "NGO_SECRET"
            outbox = "data/ngo.sqlite"
            "#,
        )
        .unwrap();
        let db = cfg.state_database(Path::new("data"));
        assert_eq!(db, Path::new("/var/lib/lookout/state.db"));
        let outboxes: Vec<_> = cfg
            .sinks_with_outbox(&db)
            .into_iter()
            .map(|s| match s {
                alert_sinks::SinkConfig::Webhook(w) => w.outbox,
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(
            outboxes,
            vec![
                PathBuf::from("/var/lib/lookout/state.db"),
                PathBuf::from("data/ngo.sqlite")
            ]
        );
        assert_eq!(
            LookoutConfig::default().state_database(Path::new("data")),
            Path::new("data/lookout.db")
        );
        cfg.check().unwrap();
    }

    #[test]
    fn webhook_node_is_the_bus_node_or_the_host_name() {
        let named: LookoutConfig = toml::from_str(
            r#"
            [bus]
            node = "mt-rcc-1"
            [[sinks]]
            type = "webhook"
            name = "rcc"
            url = "https://rcc.example/alerts"
            secret_env = "RCC_SECRET"
            [[sinks]]
            type = "webhook"
            name = "ngo"
            url = "https://ngo.example/alerts"
            secret_env = "NGO_SECRET"
            node = "lookout-for-ngo"
            "#,
        )
        .unwrap();
        let nodes: Vec<_> = named
            .sinks_with_outbox(Path::new("x.db"))
            .into_iter()
            .map(|s| match s {
                alert_sinks::SinkConfig::Webhook(w) => w.node,
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(
            nodes,
            vec![Some("mt-rcc-1".to_string()), Some("lookout-for-ngo".into())]
        );
        let host = LookoutConfig::default().node_name();
        assert!(!host.is_empty() && host.trim() == host, "{host:?}");
    }

    #[test]
    fn sinks_are_a_top_level_array_not_under_alerts() {
        let e = toml::from_str::<LookoutConfig>(
            r#"
            [[alerts.sinks]]
            type = "json_lines"
            name = "journal"
            path = "-"
            "#,
        )
        .map(|_| ())
        .expect_err("[[alerts.sinks]] is refused");
        assert!(e.to_string().contains("sinks"), "{e}");
    }

    #[test]
    fn rescue_centres_by_region() {
        let cfg: LookoutConfig = toml::from_str(
            r#"
            [[sar.rcc]]
            name = "RCC Malta"
            phone = "+356 0000 0000"
            mmsi = 2480001
            sar_region = "malta_srr"
            [[sar.rcc]]
            name = "MRCC Roma"
            "#,
        )
        .unwrap();
        cfg.check().unwrap();
        assert_eq!(cfg.sar.rcc[0].sar_region.as_deref(), Some("malta_srr"));
        assert_eq!(cfg.sar.rcc[1].sar_region, None);
        let two: LookoutConfig = toml::from_str(
            "[[sar.rcc]]\nname = \"a\"\nsar_region = \"z\"\n[[sar.rcc]]\nname = \"b\"\nsar_region = \"z\"\n",
        )
        .unwrap();
        assert!(two.check().unwrap_err().contains("two RCCs"));
        assert!(
            toml::from_str::<LookoutConfig>("[[sar.rcc]]\nname = \"a\"\nfax = \"1\"\n").is_err()
        );
    }

    #[test]
    fn unknown_keys_are_errors() {
        let e = toml::from_str::<LookoutConfig>("listn = \"0.0.0.0:1\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("listn"), "{e}");
    }
}
