//! Sink configuration: one serde struct per kind of sink, in a
//! [`SinkConfig`] enum tagged by `type`, each with a unique `name`.
//!
//! The binary reads a list of these (a top-level `[[sinks]]` array in
//! `config/lookout.toml`, or any serde format) and hands it to
//! [`crate::SinkSet::start`], which checks it as a whole
//! ([`validate_all`]) before starting anything.
//!
//! ```
//! let toml = r#"
//! [[sinks]]
//! type = "webhook"
//! name = "rcc"
//! url = "https://rcc.example.org/hooks/lookout"
//! secret_env = "LOOKOUT_RCC_SECRET"
//! outbox = "data/outbox-rcc.sqlite"  # optional in `lookout serve`: the state database
//!
//! [[sinks]]
//! type = "json_lines"
//! name = "journal"
//! path = "data/alerts.jsonl"
//!
//! [[sinks]]
//! type = "cot"
//! name = "tak"
//! protocol = "tcp"
//! address = "127.0.0.1:8087"
//! "#;
//! #[derive(serde::Deserialize)]
//! struct File { sinks: Vec<alert_sinks::SinkConfig> }
//! let f: File = toml::from_str(toml).unwrap();
//! assert_eq!(f.sinks[2].name(), "tak");
//! alert_sinks::config::validate_all(&f.sinks).unwrap();
//! ```
//!
//! Secrets (`secret`) are wrapped in [`Secret`], whose `Debug` never shows
//! the value, so a logged configuration does not leak them.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

/// Default bound of each sink's in-memory queue (alerts).
pub const DEFAULT_QUEUE_CAPACITY: usize = 1024;

fn default_queue() -> usize {
    DEFAULT_QUEUE_CAPACITY
}
fn default_max_held() -> usize {
    10_000
}
fn default_outbox_max_rows() -> u64 {
    100_000
}
fn default_timeout_ms() -> u64 {
    10_000
}
fn default_connect_timeout_ms() -> u64 {
    5_000
}
fn default_retry_initial_ms() -> u64 {
    500
}
fn default_retry_max_ms() -> u64 {
    60_000
}
fn default_shutdown_grace_ms() -> u64 {
    5_000
}
fn default_stale_min() -> f64 {
    10.0
}
fn default_ce_m() -> f64 {
    50.0
}
fn default_ttl() -> u32 {
    1
}

/// One sink, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SinkConfig {
    /// Signed HTTP POST per alert change, through a durable SQLite outbox.
    Webhook(WebhookConfig),
    /// One JSON object per line, to a file (appended) or stdout.
    JsonLines(JsonLinesConfig),
    /// Cursor-on-Target XML to a TAK server (TCP or UDP).
    Cot(CotConfig),
}

impl SinkConfig {
    /// The sink's name (unique in a set; used in logs, status and metrics).
    pub fn name(&self) -> &str {
        match self {
            SinkConfig::Webhook(c) => &c.name,
            SinkConfig::JsonLines(c) => &c.name,
            SinkConfig::Cot(c) => &c.name,
        }
    }

    /// The `type` tag.
    pub fn kind(&self) -> &'static str {
        match self {
            SinkConfig::Webhook(_) => "webhook",
            SinkConfig::JsonLines(_) => "json_lines",
            SinkConfig::Cot(_) => "cot",
        }
    }

    /// Bound of the sink's in-memory queue.
    pub fn queue_capacity(&self) -> usize {
        match self {
            SinkConfig::Webhook(c) => c.queue_capacity,
            SinkConfig::JsonLines(c) => c.queue_capacity,
            SinkConfig::Cot(c) => c.queue_capacity,
        }
    }

    /// Check this sink on its own.
    pub fn validate(&self) -> Result<(), String> {
        let name = self.name();
        if name.is_empty() || name.len() > 64 || name.chars().any(|c| c.is_control()) {
            return Err(format!("sink name {name:?}: 1 to 64 printable characters"));
        }
        let e = |m: String| format!("sink `{name}`: {m}");
        let cap = self.queue_capacity();
        if !(1..=1_000_000).contains(&cap) {
            return Err(e("queue_capacity must be within 1..=1000000".into()));
        }
        match self {
            SinkConfig::Webhook(c) => c.validate().map_err(e),
            SinkConfig::JsonLines(c) => {
                if c.path.as_os_str().is_empty() {
                    return Err(e("path is empty (use \"-\" for stdout)".into()));
                }
                Ok(())
            }
            SinkConfig::Cot(c) => c.validate().map_err(e),
        }
    }
}

/// Check a list of sinks: each one, unique names, and no two webhooks on
/// the same outbox file.
pub fn validate_all(sinks: &[SinkConfig]) -> Result<(), String> {
    let mut names = std::collections::BTreeSet::new();
    let mut outboxes = std::collections::BTreeSet::new();
    for s in sinks {
        s.validate()?;
        if !names.insert(s.name()) {
            return Err(format!("sink name `{}` is used twice", s.name()));
        }
        if let SinkConfig::Webhook(w) = s {
            if !outboxes.insert(&w.outbox) {
                return Err(format!(
                    "sink `{}`: outbox {} is used by another webhook sink",
                    w.name,
                    w.outbox.display()
                ));
            }
        }
    }
    Ok(())
}

/// A secret string: deserialized as a plain string, never shown by `Debug`
/// or `Display`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret itself (for signing only).
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// `type = "webhook"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub name: String,
    /// `http://` or `https://` URL the alerts are POSTed to.
    pub url: String,
    /// HMAC-SHA256 key. Prefer `secret_env`; one of the two is required.
    #[serde(default, skip_serializing)]
    pub secret: Option<Secret>,
    /// Name of an environment variable holding the HMAC key.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// SQLite file of the durable outbox (created when missing; its table
    /// is `outbox`, so it may be a file shared with other tables). Left
    /// out, `lookout serve` uses its state database (`[state] database`).
    #[serde(default)]
    pub outbox: PathBuf,
    /// Most undelivered alerts kept; beyond it the oldest are dropped (and
    /// counted, and logged as errors).
    #[serde(default = "default_outbox_max_rows")]
    pub outbox_max_rows: u64,
    /// Alerts kept in memory while the outbox cannot be written (a full
    /// disk): they are stored, in order, as soon as it can; beyond this
    /// many the oldest held are dropped (counted as `store_failed`).
    #[serde(default = "default_max_held")]
    pub max_held: usize,
    #[serde(default = "default_queue")]
    pub queue_capacity: usize,
    /// Whole-request timeout.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// First retry delay; doubled per failure up to `retry_max_ms`.
    #[serde(default = "default_retry_initial_ms")]
    pub retry_initial_ms: u64,
    #[serde(default = "default_retry_max_ms")]
    pub retry_max_ms: u64,
    /// On shutdown, how long delivery of what is pending may go on before
    /// the rest is left in the outbox for the next start.
    #[serde(default = "default_shutdown_grace_ms")]
    pub shutdown_grace_ms: u64,
    /// This server's name in the body's `node` field. Left out, `lookout
    /// serve` uses `[bus] node` when a bus is configured (or the node was
    /// named), else the host name.
    #[serde(default)]
    pub node: Option<String>,
}

impl WebhookConfig {
    /// A config with defaults for everything optional.
    pub fn new(name: &str, url: &str, secret: &str, outbox: impl Into<PathBuf>) -> Self {
        WebhookConfig {
            name: name.into(),
            url: url.into(),
            secret: Some(Secret::new(secret)),
            secret_env: None,
            outbox: outbox.into(),
            outbox_max_rows: default_outbox_max_rows(),
            max_held: default_max_held(),
            queue_capacity: default_queue(),
            timeout_ms: default_timeout_ms(),
            connect_timeout_ms: default_connect_timeout_ms(),
            retry_initial_ms: default_retry_initial_ms(),
            retry_max_ms: default_retry_max_ms(),
            shutdown_grace_ms: default_shutdown_grace_ms(),
            node: None,
        }
    }

    fn validate(&self) -> Result<(), String> {
        let url = reqwest::Url::parse(&self.url).map_err(|e| format!("url: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err("url must be an http:// or https:// URL with a host".into());
        }
        match (&self.secret, &self.secret_env) {
            (Some(_), Some(_)) => return Err("give secret or secret_env, not both".into()),
            (None, None) => return Err("secret_env (or secret) is required".into()),
            (Some(s), None) if s.is_empty() => return Err("secret is empty".into()),
            _ => {}
        }
        if self.outbox.as_os_str().is_empty() {
            return Err("outbox path is empty".into());
        }
        if self.outbox_max_rows == 0 {
            return Err("outbox_max_rows must be at least 1".into());
        }
        if self.max_held == 0 {
            return Err("max_held must be at least 1".into());
        }
        if self.timeout_ms == 0 || self.connect_timeout_ms == 0 {
            return Err("timeouts must be positive".into());
        }
        if self.retry_initial_ms == 0 || self.retry_max_ms < self.retry_initial_ms {
            return Err("need 0 < retry_initial_ms <= retry_max_ms".into());
        }
        Ok(())
    }

    /// The HMAC key: `secret`, or the variable named by `secret_env`.
    pub fn resolve_secret(&self) -> Result<Secret, String> {
        if let Some(s) = &self.secret {
            return Ok(s.clone());
        }
        let var = self.secret_env.as_deref().unwrap_or_default();
        match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Secret(v)),
            _ => Err(format!(
                "environment variable {var} (secret_env) is not set or empty"
            )),
        }
    }
}

/// `type = "json_lines"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonLinesConfig {
    pub name: String,
    /// File appended to (created when missing); `-` for standard output.
    pub path: PathBuf,
    /// Also `fsync` after each line (slower; survives power loss).
    #[serde(default)]
    pub fsync: bool,
    #[serde(default = "default_queue")]
    pub queue_capacity: usize,
}

impl JsonLinesConfig {
    pub fn new(name: &str, path: impl Into<PathBuf>) -> Self {
        JsonLinesConfig {
            name: name.into(),
            path: path.into(),
            fsync: false,
            queue_capacity: default_queue(),
        }
    }
}

/// How CoT travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CotProtocol {
    /// A stream of `<event>` documents (TAK server's CoT input, e.g. 8087);
    /// reconnects with backoff.
    Tcp,
    /// One `<event>` per datagram, unicast or multicast (e.g. 239.2.3.1:6969).
    Udp,
}

/// `type = "cot"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CotConfig {
    pub name: String,
    pub protocol: CotProtocol,
    /// `host:port` (resolved at each connect) or a multicast group for UDP.
    pub address: String,
    /// `stale` = alert time + this many minutes.
    #[serde(default = "default_stale_min")]
    pub stale_min: f64,
    /// Circular error (m) of a known position (AIS class A is ~10 m, but
    /// alerts are about where a vessel was); unknown positions say 9999999.
    #[serde(default = "default_ce_m")]
    pub ce_m: f64,
    /// Prefix of every event's `uid` (the alert id follows). Empty by
    /// default; set it when several Lookout servers feed one TAK server.
    #[serde(default)]
    pub uid_prefix: String,
    /// Multicast TTL (UDP to a multicast group).
    #[serde(default = "default_ttl")]
    pub multicast_ttl: u32,
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// TCP: first reconnect delay; doubled up to `retry_max_ms`.
    #[serde(default = "default_retry_initial_ms")]
    pub retry_initial_ms: u64,
    #[serde(default = "default_retry_max_ms")]
    pub retry_max_ms: u64,
    #[serde(default = "default_shutdown_grace_ms")]
    pub shutdown_grace_ms: u64,
    #[serde(default = "default_queue")]
    pub queue_capacity: usize,
}

impl CotConfig {
    pub fn new(name: &str, protocol: CotProtocol, address: &str) -> Self {
        CotConfig {
            name: name.into(),
            protocol,
            address: address.into(),
            stale_min: default_stale_min(),
            ce_m: default_ce_m(),
            uid_prefix: String::new(),
            multicast_ttl: default_ttl(),
            connect_timeout_ms: default_connect_timeout_ms(),
            retry_initial_ms: default_retry_initial_ms(),
            retry_max_ms: default_retry_max_ms(),
            shutdown_grace_ms: default_shutdown_grace_ms(),
            queue_capacity: default_queue(),
        }
    }

    fn validate(&self) -> Result<(), String> {
        if self
            .address
            .rsplit_once(':')
            .is_none_or(|(h, p)| h.is_empty() || p.parse::<u16>().map_or(true, |p| p == 0))
        {
            return Err(format!("address {:?} is not host:port", self.address));
        }
        if !(self.stale_min > 0.0 && self.stale_min <= 7.0 * 24.0 * 60.0) {
            return Err("stale_min must be within 0..10080".into());
        }
        if !(self.ce_m >= 0.0 && self.ce_m.is_finite()) {
            return Err("ce_m must be a non-negative number".into());
        }
        if self.uid_prefix.chars().any(|c| c.is_control()) || self.uid_prefix.len() > 64 {
            return Err("uid_prefix: at most 64 printable characters".into());
        }
        if self.connect_timeout_ms == 0
            || self.retry_initial_ms == 0
            || self.retry_max_ms < self.retry_initial_ms
        {
            return Err("need positive timeouts and retry_initial_ms <= retry_max_ms".into());
        }
        if self.multicast_ttl == 0 || self.multicast_ttl > 255 {
            return Err("multicast_ttl must be within 1..=255".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show() {
        let c = WebhookConfig::new("w", "http://127.0.0.1:1/", "hunter2", "/tmp/x.sqlite");
        let dbg = format!("{:?}", SinkConfig::Webhook(c.clone()));
        assert!(!dbg.contains("hunter2"), "{dbg}");
        let json = serde_json::to_string(&SinkConfig::Webhook(c)).unwrap();
        assert!(!json.contains("hunter2"), "{json}");
    }

    #[test]
    fn bad_configs_are_refused() {
        let mut c = WebhookConfig::new("w", "ftp://x/", "s", "o.sqlite");
        assert!(SinkConfig::Webhook(c.clone()).validate().is_err());
        c.url = "http://x/".into();
        SinkConfig::Webhook(c.clone()).validate().unwrap();
        c.secret = None;
        assert!(SinkConfig::Webhook(c.clone()).validate().is_err());
        let cot = CotConfig::new("t", CotProtocol::Udp, "239.2.3.1");
        assert!(SinkConfig::Cot(cot).validate().is_err());
        let j = JsonLinesConfig::new("j", "-");
        let dup = vec![
            SinkConfig::JsonLines(j.clone()),
            SinkConfig::JsonLines(j.clone()),
        ];
        assert!(validate_all(&dup).unwrap_err().contains("twice"));
    }

    #[test]
    fn unknown_keys_are_errors() {
        let e = serde_json::from_str::<SinkConfig>(
            r#"{"type":"json_lines","name":"j","path":"-","pth":"x"}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("pth"), "{e}");
    }
}
