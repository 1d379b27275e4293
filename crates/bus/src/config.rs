//! The `[bus]` section of `config/lookout.toml`.
//!
//! ```toml
//! [bus]
//! url = "nats://127.0.0.1:4222"   # the NATS server (a local one, or a leaf node)
//! role = "core"                   # ingest | core | edge | all (default all = one process, no bus)
//! node = "core-1"                 # this node's name (durable consumer, logs, raw batches)
//! # user = "lookout"; password = "…"  or  token = "…"  (never logged)
//! raw_max_age = "7d"              # how long the raw-line stream keeps lines
//! raw_max_bytes = 10737418240     # and how many bytes at most (oldest dropped)
//! publish_buffer = 4096           # batches waiting to be published (beyond: dropped, counted)
//! max_in_flight = 256             # JetStream publishes awaiting their ack
//! ack_wait = "10s"                # redelivery of unacknowledged lines to the core
//! checkpoint_every = "60s"        # core: picture checkpoints to JetStream ("0s": none)
//! ```

use serde::Deserialize;
use std::time::Duration;

/// What a `lookout serve` process does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Sources → raw lines on the bus; no picture.
    Ingest,
    /// The bus's raw lines → decoder → picture + alerts → changes on the bus.
    Core,
    /// Mirror of a core's picture from the bus → WebSocket/HTTP clients.
    Edge,
    /// Everything in one process, no bus (the default).
    #[default]
    All,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Ingest => "ingest",
            Role::Core => "core",
            Role::Edge => "edge",
            Role::All => "all",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        Ok(match s {
            "ingest" => Role::Ingest,
            "core" => Role::Core,
            "edge" => Role::Edge,
            "all" => Role::All,
            _ => return Err(format!("unknown role {s:?} (ingest, core, edge or all)")),
        })
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn de_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    humantime::parse_duration(&s).map_err(serde::de::Error::custom)
}

/// The `[bus]` section.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusConfig {
    /// NATS server URL; no bus when absent.
    pub url: Option<String>,
    #[serde(default)]
    pub role: Role,
    /// This node's name.
    #[serde(default = "default_node")]
    pub node: String,
    pub user: Option<String>,
    pub password: Option<String>,
    pub token: Option<String>,
    #[serde(default = "default_max_age", deserialize_with = "de_duration")]
    pub raw_max_age: Duration,
    #[serde(default = "default_max_bytes")]
    pub raw_max_bytes: i64,
    #[serde(default = "default_publish_buffer")]
    pub publish_buffer: usize,
    #[serde(default = "default_in_flight")]
    pub max_in_flight: usize,
    #[serde(default = "default_ack_wait", deserialize_with = "de_duration")]
    pub ack_wait: Duration,
    /// Core: wall time between picture checkpoints ("0s": none, a restart
    /// replays the whole stream).
    #[serde(default = "default_checkpoint_every", deserialize_with = "de_duration")]
    pub checkpoint_every: Duration,
}

// Credentials never reach logs, not even through `{:?}`.
impl std::fmt::Debug for BusConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BusConfig")
            .field("url", &self.url)
            .field("role", &self.role)
            .field("node", &self.node)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("token", &self.token.as_ref().map(|_| "<hidden>"))
            .field("raw_max_age", &self.raw_max_age)
            .field("raw_max_bytes", &self.raw_max_bytes)
            .field("publish_buffer", &self.publish_buffer)
            .field("max_in_flight", &self.max_in_flight)
            .field("ack_wait", &self.ack_wait)
            .field("checkpoint_every", &self.checkpoint_every)
            .finish()
    }
}

fn default_node() -> String {
    "lookout".into()
}
fn default_max_age() -> Duration {
    Duration::from_secs(7 * 24 * 3600)
}
fn default_max_bytes() -> i64 {
    10 << 30
}
fn default_publish_buffer() -> usize {
    4096
}
fn default_in_flight() -> usize {
    256
}
fn default_ack_wait() -> Duration {
    Duration::from_secs(10)
}
fn default_checkpoint_every() -> Duration {
    Duration::from_secs(60)
}

impl Default for BusConfig {
    fn default() -> Self {
        BusConfig {
            url: None,
            role: Role::All,
            node: default_node(),
            user: None,
            password: None,
            token: None,
            raw_max_age: default_max_age(),
            raw_max_bytes: default_max_bytes(),
            publish_buffer: default_publish_buffer(),
            max_in_flight: default_in_flight(),
            ack_wait: default_ack_wait(),
            checkpoint_every: default_checkpoint_every(),
        }
    }
}

impl BusConfig {
    /// Checks a role needs: a bus URL for every role but `all`, sane bounds.
    pub fn validate(&self) -> Result<(), String> {
        if self.role != Role::All && self.url.is_none() {
            return Err(format!("role {} needs [bus] url", self.role));
        }
        if self.publish_buffer == 0 || self.max_in_flight == 0 {
            return Err("bus.publish_buffer and bus.max_in_flight must be at least 1".into());
        }
        if self.node.is_empty() || crate::subjects::token(&self.node) != self.node {
            return Err(format!(
                "bus.node {:?} must be letters, digits, '-' or '_'",
                self.node
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct F {
        bus: BusConfig,
    }

    #[test]
    fn parses_and_hides_secrets() {
        let f: F = toml_like(
            r#"{"bus":{"url":"nats://127.0.0.1:4222","role":"edge","node":"edge-2","password":"s3cret","user":"u","ack_wait":"3s"}}"#,
        );
        assert_eq!(f.bus.role, Role::Edge);
        assert_eq!(f.bus.ack_wait, Duration::from_secs(3));
        assert!(f.bus.validate().is_ok());
        assert!(!format!("{:?}", f.bus).contains("s3cret"));
    }

    #[test]
    fn roles_other_than_all_need_a_url() {
        let mut c = BusConfig {
            role: Role::Core,
            ..Default::default()
        };
        assert!(c.validate().is_err());
        c.url = Some("nats://127.0.0.1:4222".into());
        assert!(c.validate().is_ok());
        c.node = "a b".into();
        assert!(c.validate().is_err());
        assert!("bogus".parse::<Role>().is_err());
    }

    fn toml_like<T: serde::de::DeserializeOwned>(json: &str) -> T {
        serde_json::from_str(json).unwrap()
    }
}

/// `[share]`: what this organisation shares with partners over NATS
/// leaf-node connections, and what it accepts from them.
///
/// ```toml
/// [share]
/// url = "nats://127.0.0.1:4222"  # this organisation's NATS server (partners connect as leaf nodes)
/// org = "mrcc"                   # published on share.<org>.picture / share.<org>.alerts
/// private = [247000001]          # own assets never shared (MMSIs) …
/// private_assets = ["patrol-1"]  # … and own-asset names (GNSS feeds)
/// [[share.export]]               # a vessel is exported when one rule matches
/// classes = ["A", "B"]           # empty: every class
/// zones = ["sar-lampedusa"]      # empty: anywhere
/// alerts = ["distress_beacon"]   # alert kinds shared (empty: none)
/// [[share.accept]]
/// from = "navy"                  # a partner's org name
/// classes = []                   # what is taken from it (empty: everything it sends)
/// ```
///
/// Subject permissions on the NATS servers decide what may cross at all;
/// these rules decide what Lookout puts on, and takes off, the shared subjects.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareConfig {
    pub url: Option<String>,
    #[serde(default)]
    pub org: String,
    pub user: Option<String>,
    pub password: Option<String>,
    #[serde(default)]
    pub private: Vec<u32>,
    #[serde(default)]
    pub private_assets: Vec<String>,
    #[serde(default)]
    pub export: Vec<ExportRule>,
    #[serde(default)]
    pub accept: Vec<AcceptRule>,
}

impl std::fmt::Debug for ShareConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShareConfig")
            .field("url", &self.url)
            .field("org", &self.org)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("private", &self.private)
            .field("private_assets", &self.private_assets)
            .field("export", &self.export)
            .field("accept", &self.accept)
            .finish()
    }
}

/// One export rule.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportRule {
    #[serde(default)]
    pub classes: Vec<String>,
    #[serde(default)]
    pub zones: Vec<String>,
    #[serde(default)]
    pub alerts: Vec<String>,
}

/// What is taken from one partner.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptRule {
    pub from: String,
    #[serde(default)]
    pub classes: Vec<String>,
}

impl ShareConfig {
    /// Sharing is on when a server is configured.
    pub fn enabled(&self) -> bool {
        self.url.is_some()
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.enabled() && (self.org.is_empty() || crate::subjects::token(&self.org) != self.org)
        {
            return Err("share.org must be set (letters, digits, '-', '_')".into());
        }
        Ok(())
    }

    /// Is a vessel of this class, in these zones, with this MMSI and
    /// name, exported?
    pub fn exports(&self, mmsi: u32, class: &str, name: Option<&str>, zones: &[String]) -> bool {
        if self.private.contains(&mmsi) {
            return false;
        }
        if class == "own_asset" && name.is_some_and(|n| self.private_assets.iter().any(|p| p == n))
        {
            return false;
        }
        self.export.iter().any(|r| {
            (r.classes.is_empty() || r.classes.iter().any(|c| c == class))
                && (r.zones.is_empty() || zones.iter().any(|z| r.zones.contains(z)))
        })
    }

    /// Is an alert of this kind exported?
    pub fn exports_alert(&self, kind: &str) -> bool {
        self.export
            .iter()
            .any(|r| r.alerts.iter().any(|k| k == kind))
    }

    /// The accept rule for a partner, if it is accepted at all.
    pub fn accepts(&self, from: &str) -> Option<&AcceptRule> {
        self.accept.iter().find(|a| a.from == from)
    }
}

#[cfg(test)]
mod share_tests {
    use super::*;

    #[test]
    fn private_assets_are_never_exported() {
        let s = ShareConfig {
            url: Some("nats://x".into()),
            org: "mrcc".into(),
            private: vec![7],
            private_assets: vec!["patrol-1".into()],
            export: vec![ExportRule::default()],
            ..Default::default()
        };
        assert!(s.validate().is_ok());
        assert!(s.exports(8, "A", None, &[]));
        assert!(!s.exports(7, "A", None, &[]));
        assert!(!s.exports(1, "own_asset", Some("patrol-1"), &[]));
        assert!(s.exports(2, "own_asset", Some("rescue-2"), &[]));
        let zoned = ShareConfig {
            export: vec![ExportRule {
                classes: vec!["A".into()],
                zones: vec!["z1".into()],
                alerts: vec!["distress_beacon".into()],
            }],
            ..s
        };
        assert!(!zoned.exports(8, "A", None, &[]));
        assert!(zoned.exports(8, "A", None, &["z1".into()]));
        assert!(!zoned.exports(8, "B", None, &["z1".into()]));
        assert!(zoned.exports_alert("distress_beacon") && !zoned.exports_alert("zone_enter"));
    }
}
