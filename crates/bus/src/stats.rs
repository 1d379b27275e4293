//! Counters of a node's bus traffic, exported on `/metrics` and in
//! `/healthz` by every role (the bus is bounded everywhere, and every bound
//! says what it dropped).

use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! counters {
    ($($name:ident: $help:literal,)*) => {
        /// Bus counters (all monotonic but `connected`).
        #[derive(Debug, Default)]
        pub struct BusStats {
            $(#[doc = $help] pub $name: AtomicU64,)*
        }

        impl BusStats {
            /// `(name, help, value)` of every counter.
            pub fn list(&self) -> Vec<(&'static str, &'static str, u64)> {
                vec![$((concat!("bus_", stringify!($name)), $help, self.$name.load(Ordering::Relaxed)),)*]
            }

            /// The counters as a JSON object.
            pub fn to_json(&self) -> serde_json::Value {
                let mut m = serde_json::Map::new();
                $(m.insert(stringify!($name).into(), self.$name.load(Ordering::Relaxed).into());)*
                serde_json::Value::Object(m)
            }
        }
    };
}

counters! {
    connected: "1 while connected to the NATS server",
    reconnects: "Connections (re)established",
    disconnects: "Connections lost",
    slow_consumer: "Messages the NATS client dropped for a slow subscription",
    published_batches: "Raw batches acknowledged by JetStream",
    published_lines: "Raw lines acknowledged by JetStream",
    publish_dropped_lines: "Raw lines dropped because the publish buffer was full",
    publish_retries: "JetStream publishes retried after an error or timeout",
    received_batches: "Raw batches taken from the durable consumer",
    received_lines: "Raw lines taken from the durable consumer",
    rebuilt_batches: "Raw batches replayed at start to rebuild the picture",
    skipped_redelivered: "Redelivered batches already applied (acknowledged, not applied twice)",
    bad_messages: "Bus messages that could not be read (counted, skipped)",
    picture_batches: "Picture change batches published (core) or applied (edge)",
    alerts_published: "Alert changes published on lookout.alerts",
    alerts_deduplicated: "Alert changes another core (or an earlier run) had already published",
    snapshots_served: "Snapshots sent to edges",
    checkpoints_written: "Picture checkpoints written to the checkpoint bucket (core)",
    checkpoints_failed: "Picture checkpoints that could not be taken or written (core; the next one is tried)",
    checkpoints_restored: "Starts that restored the picture from a checkpoint (core)",
    checkpoint_covered_batches: "Raw batches the checkpoint restored at start covered, not replayed (core)",
    snapshots_loaded: "Snapshots loaded by this edge",
    gaps: "Missed or out-of-order picture batches that forced a fresh snapshot",
    sar_writes: "Contact, incident and zone writes applied for edges (core) or forwarded (edge)",
    sar_writes_repeated: "Forwarded writes answered again without applying them (a retried request id)",
    sar_changes: "Contact, incident and zone changes published (core) or applied (edge)",
    sar_changes_dropped: "SAR changes dropped because the core's change buffer was full",
    sar_gaps: "Missed SAR changes that forced a fresh SAR snapshot (edge)",
    shared_in: "Vessels received from partner organisations",
    shared_out: "Vessels sent to partner organisations",
    shared_refused: "Shared vessels refused by the accept rules",
}

impl BusStats {
    pub fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }
    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
}
