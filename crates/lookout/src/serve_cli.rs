//! `lookout serve`: the command line of the server in `crates/server`.
//!
//! ```text
//! lookout serve [--config FILE] [--listen ADDR] [--zones PATH] [--replay FILE --speed N]
//!               [--web-root DIR] [--state-dir DIR] [--role ROLE] [--bus-url URL] [--node NAME]
//! ```
//! Reads the configuration file, applies the command-line overrides, turns
//! the arguments into [`ServeOptions`] and runs a [`Server`] until
//! SIGINT/SIGTERM, on a multi-threaded tokio runtime. Errors are printed as
//! `lookout serve: …` with exit status 2.

use clap::Args;
use server::{parse_speed, ClusterOptions, LookoutConfig, ServeOptions, Server};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ServeArgs {
    /// Configuration file.
    #[arg(long, default_value = "config/lookout.toml")]
    config: PathBuf,
    /// Listen address (overrides the config), e.g. 127.0.0.1:8080.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Zone files or folders (override the config).
    #[arg(long)]
    zones: Vec<PathBuf>,
    /// Serve a live picture from recordings instead of the configured feeds.
    #[arg(long)]
    replay: Vec<PathBuf>,
    /// Replay speed: a multiple of real time, or `max`.
    #[arg(long, default_value = "1")]
    speed: String,
    /// Serve the web client from this folder (e.g. `web/dist` while
    /// developing it) instead of the build compiled into the binary.
    #[arg(long)]
    web_root: Option<PathBuf>,
    /// Where server state is kept: the state database `lookout.db` (zones
    /// created over the API, contacts, incidents, acknowledgements) unless
    /// `[state] database` names another file.
    #[arg(long, default_value = "data")]
    state_dir: PathBuf,
    /// Cluster role and bus (issue #9): --role, --bus-url, --node.
    #[command(flatten)]
    cluster: ClusterArgs,
}

/// Command-line overrides of the `[bus]` section.
#[derive(Args, Debug, Clone, Default)]
pub struct ClusterArgs {
    /// Role of this process: ingest, core, edge or all (default: [bus] role, else all).
    #[arg(long)]
    pub role: Option<bus::Role>,
    /// NATS server URL (overrides [bus] url).
    #[arg(long)]
    pub bus_url: Option<String>,
    /// This node's name (overrides [bus] node).
    #[arg(long)]
    pub node: Option<String>,
}

pub fn run(args: ServeArgs) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lookout serve: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = rt.block_on(serve(args));
    // A blocking task still running (a long archive scan for a history
    // query) must not hold the exit: give such tasks a moment, then go.
    rt.shutdown_timeout(std::time::Duration::from_secs(2));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lookout serve: {e}");
            ExitCode::from(2)
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let opts = options(args)?;
    Server::start(opts).await?.run_until_shutdown().await
}

/// The arguments as the server's options.
fn options(args: ServeArgs) -> Result<ServeOptions, String> {
    let config = load_config(&args)?;
    let speed = parse_speed(&args.speed)?;
    Ok(ServeOptions {
        config,
        cluster: ClusterOptions {
            role: args.cluster.role,
            bus_url: args.cluster.bus_url,
            node: args.cluster.node,
        },
        replay: args.replay,
        speed,
        web_root: args.web_root,
        state_dir: args.state_dir,
    })
}

/// The configuration file (none at the default path: the defaults), with
/// `--listen` and `--zones` applied.
fn load_config(args: &ServeArgs) -> Result<LookoutConfig, String> {
    let mut cfg = if args.config.exists() {
        LookoutConfig::load(&args.config)?
    } else if args.config.as_os_str() == "config/lookout.toml" {
        LookoutConfig::default()
    } else {
        return Err(format!("{}: no such file", args.config.display()));
    };
    if let Some(l) = args.listen {
        cfg.listen = l;
    }
    if !args.zones.is_empty() {
        cfg.zones = args.zones.clone();
    }
    Ok(cfg)
}
