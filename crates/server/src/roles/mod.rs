//! Cluster roles of `lookout serve` (issue #9): one picture built and
//! served by several processes over NATS JetStream (crate `bus`).
//!
//! ```text
//! --role ingest   sources → bounded publish buffer → JetStream (lookout.raw.<source>)   [ingest]
//! --role core     durable consumer → decoder → picture + alerts → lookout.picture/alerts [core]
//! --role edge     picture changes → mirror → WebSocket/HTTP clients                      [edge]
//! --role all      today's single process, no bus (the default)
//! ```
//!
//! `serve.rs` builds the same [`Server`](crate::Server) for every role; with a role other
//! than `all` it hands the queue's receiver and the pipeline's parts to
//! [`start`] instead of running the pipeline, and an edge answers HTTP and
//! WebSocket queries from its mirror ([`edge::EdgeApi`]). Subjects and
//! payloads are documented in `docs/scaling.md`.

pub mod core;
pub mod edge;
pub mod edge_sar;
pub mod ingest;
pub mod observed;
pub mod sar_core;
pub mod share;

use crate::config::LookoutConfig;
use crate::pipeline::Pipeline;
use crate::state::LiveState;
use ::ingest::queue::QueueReceiver;
use broadcast::{Hub, PictureApi};
use bus::{Bus, Role};
use std::sync::Arc;
use std::time::Duration;

/// Overrides of the `[bus]` section (the command line's `--role`,
/// `--bus-url` and `--node`).
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// Role of this process: ingest, core, edge or all (default: [bus] role, else all).
    pub role: Option<Role>,
    /// NATS server URL (overrides [bus] url).
    pub bus_url: Option<String>,
    /// This node's name (overrides [bus] node).
    pub node: Option<String>,
}

/// Apply the overrides and check the result.
pub fn configure(mut cfg: LookoutConfig, args: &ClusterOptions) -> Result<LookoutConfig, String> {
    if let Some(r) = args.role {
        cfg.bus.role = r;
    }
    if let Some(u) = &args.bus_url {
        cfg.bus.url = Some(u.clone());
    }
    if let Some(n) = &args.node {
        cfg.bus.node = n.clone();
    }
    cfg.bus.validate()?;
    Ok(cfg)
}

/// Roles that take their lines from the bus, not from sources.
pub fn from_bus(role: Role) -> bool {
    matches!(role, Role::Core | Role::Edge)
}

/// A running role.
pub struct ClusterRun {
    /// What HTTP and WebSocket queries go to (an edge's mirror); `None`:
    /// the server's own state.
    pub api: Option<Arc<dyn PictureApi>>,
    task: tokio::task::JoinHandle<()>,
    stop: tokio::sync::watch::Sender<bool>,
}

impl ClusterRun {
    /// Stop: an ingest node publishes what it holds (waiting for
    /// JetStream's acks) within `limit`.
    pub async fn finish(self, limit: Duration) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(limit, self.task).await;
    }
}

/// Register a bus connection's counters for `/metrics`: each `(name,
/// help, value)` of [`bus::BusStats::list`] that `rename` maps to a name,
/// `bus_connected` (and its renamings) as a gauge, the rest as counters.
pub(crate) fn register_bus_metrics(
    reg: &mut prometheus_client::registry::Registry,
    stats: &bus::BusStats,
    rename: impl Fn(&'static str) -> Option<String>,
) {
    use prometheus_client::metrics::counter::ConstCounter;
    use prometheus_client::metrics::gauge::ConstGauge;
    for (name, help, value) in stats.list() {
        let Some(as_name) = rename(name) else {
            continue;
        };
        if name == "bus_connected" {
            reg.register(as_name, help, ConstGauge::new(value as i64));
        } else {
            reg.register(as_name, help, ConstCounter::new(value));
        }
    }
}

/// The cluster bus's counters: all but the sharing ones, which count on
/// the sharing connection (`share.rs`) and would otherwise be registered
/// twice on a node that does both.
pub(crate) fn cluster_bus_name(name: &'static str) -> Option<String> {
    (!name.starts_with("bus_shared_")).then(|| name.to_string())
}

/// The server's own state, with the bus counters in `/healthz` and `/metrics`.
fn observed(
    bus: &Bus,
    cfg: &LookoutConfig,
    state: Arc<LiveState>,
    sar_out: Option<Arc<sar_core::ChangeOut>>,
) -> Arc<dyn PictureApi> {
    Arc::new(observed::Observed {
        inner: state,
        stats: bus.stats.clone(),
        role: cfg.bus.role,
        node: cfg.bus.node.clone(),
        sar_out,
    })
}

/// Connect to the bus and start the configured role in place of the
/// single-process pipeline.
pub async fn start(
    cfg: &LookoutConfig,
    state: Arc<LiveState>,
    hub: Arc<Hub>,
    rx: QueueReceiver,
    mut pipeline: Pipeline,
    live: bool,
) -> Result<ClusterRun, String> {
    let bus = Bus::connect(&cfg.bus, Duration::from_secs(30)).await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tracing::info!(role = %cfg.bus.role, node = %cfg.bus.node, "cluster role started");
    let (api, task): (Option<Arc<dyn PictureApi>>, _) = match cfg.bus.role {
        Role::Ingest => {
            bus.raw_stream(&cfg.bus).await?;
            let api = observed(&bus, cfg, state.clone(), None);
            let recorder = pipeline.recorder.take();
            let task = tokio::spawn(ingest::run(
                bus,
                cfg.bus.clone(),
                state.registry.clone(),
                rx,
                recorder,
                live,
            ));
            (Some(api), task)
        }
        Role::Core => {
            drop(rx);
            let sar_out = sar_core::ChangeOut::start(&bus, &cfg.bus.node);
            let api = observed(&bus, cfg, state.clone(), Some(sar_out.clone()));
            tokio::spawn(sar_core::serve(
                bus.clone(),
                api.clone(),
                state.clone(),
                hub.clone(),
                sar_out,
                stopped.clone(),
            ));
            let core = core::Core::new(bus, cfg.bus.clone(), state, hub).await?;
            (Some(api), tokio::spawn(core.run(stopped)))
        }
        Role::Edge => {
            drop(rx);
            let mirror = Arc::new(edge::EdgeApi::new(bus.clone(), state));
            let task = tokio::spawn(edge::run(mirror.clone(), hub, stopped));
            (Some(mirror as Arc<dyn PictureApi>), task)
        }
        Role::All => return Err("role all runs without the bus".into()),
    };
    Ok(ClusterRun { api, task, stop })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    fn encode(f: impl Fn(&mut prometheus_client::registry::Registry)) -> String {
        let mut reg = prometheus_client::registry::Registry::with_prefix("lookout");
        f(&mut reg);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &reg).unwrap();
        text
    }

    #[test]
    fn bus_metrics_connected_is_a_gauge_and_sharing_counters_are_registered_once() {
        let cluster = bus::BusStats::default();
        cluster.connected.store(1, Ordering::Relaxed);
        cluster.received_lines.store(42, Ordering::Relaxed);
        let share = bus::BusStats::default();
        share.shared_in.store(7, Ordering::Relaxed);
        // A core that also shares: both connections on one /metrics.
        let text = encode(|reg| {
            register_bus_metrics(reg, &cluster, cluster_bus_name);
            register_bus_metrics(reg, &share, share::share_metric_name);
        });
        assert!(
            text.contains("# TYPE lookout_bus_connected gauge\nlookout_bus_connected 1\n"),
            "{text}"
        );
        assert!(
            text.contains("lookout_bus_received_lines_total 42\n"),
            "{text}"
        );
        assert!(text.contains("# TYPE lookout_share_connected gauge\nlookout_share_connected 0\n"));
        assert!(text.contains("lookout_share_reconnects_total 0\n"));
        assert_eq!(
            text.matches("# TYPE lookout_bus_shared_in counter").count(),
            1,
            "{text}"
        );
        assert!(text.contains("lookout_bus_shared_in_total 7\n"), "{text}");
        // Every family once.
        let types: Vec<&str> = text.lines().filter(|l| l.starts_with("# TYPE ")).collect();
        let unique: std::collections::BTreeSet<&&str> = types.iter().collect();
        assert_eq!(types.len(), unique.len(), "{text}");
        assert_eq!(types.len(), cluster.list().len() - 3 + 8);
    }
}
