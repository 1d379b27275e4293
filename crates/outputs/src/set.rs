//! The configured outputs together: started from `[[outputs]]`, fed by the
//! pipeline after each batch, counted in `/metrics`, stopped at shutdown.

use crate::config::OutputConfig;
use crate::cot::{Context, CotOutput, MarkerSource};
use crate::nmea_tcp::{Counters, NmeaTcp};
use crate::nmea_udp::NmeaUdp;
use crate::Output;
use engine::Relayed;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::Ordering;

/// Every output.
#[derive(Default)]
pub struct OutputSet {
    outputs: Vec<Box<dyn Output>>,
}

/// One output's counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputStats {
    pub name: String,
    pub kind: &'static str,
    /// Messages (and own-asset fixes) that passed the filter and were framed.
    pub messages: u64,
    /// Items the filter held back.
    pub filtered: u64,
    /// Bytes handed to clients (TCP) or sent (UDP, CoT). CoT: `messages`
    /// counts events sent, `filtered` also the reports folded into a later
    /// one by `min_interval_s`, `dropped` reports lost on a full queue or
    /// too old to send, `clients` 1 while connected.
    pub bytes: u64,
    /// TCP: slow clients dropped; UDP: datagrams dropped on a full queue.
    pub dropped: u64,
    /// TCP: clients refused over `max_clients`.
    pub refused: u64,
    /// Accept or send errors.
    pub errors: u64,
    /// TCP: clients connected now.
    pub clients: i64,
}

impl OutputStats {
    pub(crate) fn new(name: &str, kind: &'static str, c: &Counters, clients: i64) -> Self {
        OutputStats {
            name: name.to_string(),
            kind,
            messages: c.messages.load(Ordering::Relaxed),
            filtered: c.filtered.load(Ordering::Relaxed),
            bytes: c.bytes.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            refused: c.refused.load(Ordering::Relaxed),
            errors: c.errors.load(Ordering::Relaxed),
            clients,
        }
    }
}

impl OutputSet {
    /// Start every configured output (on the current tokio runtime), for
    /// a live node with no name.
    pub async fn start(configs: &[OutputConfig]) -> Result<OutputSet, String> {
        Self::start_with(configs, &Context::default()).await
    }

    /// Start every configured output, knowing the node's name (the CoT
    /// uid prefix) and whether the server replays (the CoT time policy).
    pub async fn start_with(configs: &[OutputConfig], ctx: &Context) -> Result<OutputSet, String> {
        let mut outputs: Vec<Box<dyn Output>> = Vec::new();
        for c in configs {
            c.validate()?;
            let name = c.name();
            let o: Box<dyn Output> = match c {
                OutputConfig::NmeaTcp {
                    listen,
                    common,
                    max_clients,
                    client_buffer_bytes,
                } => Box::new(
                    NmeaTcp::start(
                        name.clone(),
                        *listen,
                        common,
                        *max_clients,
                        *client_buffer_bytes,
                    )
                    .await
                    .map_err(|e| format!("output {name}: cannot listen on {listen}: {e}"))?,
                ),
                OutputConfig::NmeaUdp { target, common } => Box::new(
                    NmeaUdp::start(name.clone(), *target, common)
                        .await
                        .map_err(|e| format!("output {name}: cannot open a UDP socket: {e}"))?,
                ),
                OutputConfig::Cot(cot) => Box::new(
                    CotOutput::start(name.clone(), cot, ctx)
                        .map_err(|e| format!("output {name}: {e}"))?,
                ),
            };
            outputs.push(o);
        }
        Ok(OutputSet { outputs })
    }

    /// No output configured.
    pub fn is_empty(&self) -> bool {
        self.outputs.is_empty()
    }

    /// Add an output that is not configured (the aisstream feed), after
    /// the configured ones.
    pub fn push(&mut self, o: Box<dyn Output>) {
        self.outputs.push(o);
    }

    /// Does any output need the engine's relayed messages now?
    pub fn wants_relay(&self) -> bool {
        self.outputs.iter().any(|o| o.wants_relay())
    }

    /// Hand relayed items to every output (never blocks).
    pub fn send(&self, items: &[Relayed]) {
        if items.is_empty() {
            return;
        }
        for o in &self.outputs {
            o.send(items);
        }
    }

    /// Deliver a search pattern as a route on every output that carries one.
    pub fn send_route(&self, route: &crate::route::Route) {
        for o in &self.outputs {
            o.send_route(route);
        }
    }

    /// Where the server outputs listen, in configuration order (None for
    /// the others).
    pub fn local_addrs(&self) -> Vec<Option<std::net::SocketAddr>> {
        self.outputs.iter().map(|o| o.local_addr()).collect()
    }

    /// Every output's counters.
    pub fn stats(&self) -> Vec<OutputStats> {
        self.outputs.iter().map(|o| o.stats()).collect()
    }

    /// Where the CoT outputs take contacts and incidents from.
    pub fn set_markers(&self, source: MarkerSource) {
        for o in &self.outputs {
            o.set_markers(source.clone());
        }
    }

    /// Stop every output.
    pub fn shutdown(&self) {
        for o in &self.outputs {
            o.shutdown();
        }
    }

    /// Register the outputs' counters (labelled `output` and `type`).
    pub fn metrics(&self, reg: &mut Registry) {
        if self.outputs.is_empty() {
            return;
        }
        type Labels = Vec<(String, String)>;
        type CounterDefs = [(&'static str, &'static str, fn(&OutputStats) -> u64); 6];
        let counters: CounterDefs = [
            (
                "output_messages",
                "Messages and own-asset fixes sent by the output (passed its filter; a TCP output with no client sends and counts nothing)",
                |s| s.messages,
            ),
            (
                "output_filtered",
                "Messages held back by the output's filter",
                |s| s.filtered,
            ),
            (
                "output_bytes",
                "Bytes handed to the output's clients or sent",
                |s| s.bytes,
            ),
            (
                "output_dropped",
                "Slow TCP clients dropped, or UDP datagrams dropped on a full queue",
                |s| s.dropped,
            ),
            (
                "output_refused",
                "TCP clients refused over max_clients",
                |s| s.refused,
            ),
            ("output_errors", "Accept or send errors", |s| s.errors),
        ];
        let families: Vec<Family<Labels, Counter>> =
            counters.iter().map(|_| Family::default()).collect();
        let clients = Family::<Labels, Gauge>::default();
        for s in self.stats() {
            let l = vec![
                ("output".to_string(), s.name.clone()),
                ("type".to_string(), s.kind.to_string()),
            ];
            for ((_, _, get), f) in counters.iter().zip(&families) {
                f.get_or_create(&l).inc_by(get(&s));
            }
            clients.get_or_create(&l).set(s.clients);
        }
        for ((name, help, _), f) in counters.iter().zip(families) {
            reg.register(*name, *help, f);
        }
        reg.register(
            "output_clients",
            "Clients connected to the output now",
            clients,
        );
    }
}
