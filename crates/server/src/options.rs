//! What a [`Server`](crate::Server) is started with: [`ServeOptions`]
//! (the configuration plus what `lookout serve` takes on its command line),
//! and [`parse_speed`], the `--speed` value shared with `lookout replay`.

use crate::config::LookoutConfig;
use crate::roles::ClusterOptions;
use std::path::PathBuf;

/// Everything [`Server::start`](crate::Server::start) needs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The configuration, with any command-line overrides (listen address,
    /// zones) already applied. `listen` may have port 0: the bound address
    /// is [`Server::local_addr`](crate::Server::local_addr).
    pub config: LookoutConfig,
    /// Overrides of the `[bus]` section: role, NATS URL, node name.
    pub cluster: ClusterOptions,
    /// Serve a live picture from these recordings (files or folders)
    /// instead of the configured feeds.
    pub replay: Vec<PathBuf>,
    /// Replay speed, a multiple of real time; `None` is as fast as possible.
    pub speed: Option<f64>,
    /// Folder of the web client's files, served at `/` (a folder that does
    /// not exist: the API only); `None`: the client compiled into the
    /// binary (`crate::web`).
    pub web_root: Option<PathBuf>,
    /// Where server state is kept: the state database `lookout.db` (unless
    /// `[state] database` names another file) and the picture snapshot.
    pub state_dir: PathBuf,
}

impl ServeOptions {
    /// The configured feeds (or the demo) at real time, no web client,
    /// state in `state_dir`.
    pub fn new(config: LookoutConfig, state_dir: impl Into<PathBuf>) -> ServeOptions {
        ServeOptions {
            config,
            cluster: ClusterOptions::default(),
            replay: Vec::new(),
            speed: Some(1.0),
            web_root: None,
            state_dir: state_dir.into(),
        }
    }
}

/// Parse `--speed`: `max` → None, else a positive multiple.
pub fn parse_speed(s: &str) -> Result<Option<f64>, String> {
    if s.eq_ignore_ascii_case("max") {
        return Ok(None);
    }
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() => Ok(Some(v)),
        _ => Err(format!(
            "--speed must be `max` or a positive number, not {s:?}"
        )),
    }
}
