//! Connecting to NATS and declaring what Lookout needs on JetStream.
//!
//! The client reconnects for ever (jittered, by async-nats) and retries the
//! first connection too, so a node can start before its server; each
//! state change is logged once and counted. Declarations are idempotent
//! (get-or-create), so every node may make them at start.

use crate::config::BusConfig;
use crate::stats::BusStats;
use crate::subjects;
use async_nats::jetstream::{self, consumer, kv, stream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// A connection to the bus.
#[derive(Clone)]
pub struct Bus {
    pub client: async_nats::Client,
    pub js: jetstream::Context,
    pub stats: Arc<BusStats>,
    pub node: String,
}

impl Bus {
    /// Connect as `node` (`role` names the connection for the server's
    /// monitoring). Returns once connected, or with an error after
    /// `timeout`; afterwards the connection heals itself.
    pub async fn connect(cfg: &BusConfig, timeout: Duration) -> Result<Bus, String> {
        let url = cfg.url.clone().ok_or("no [bus] url configured")?;
        let stats = Arc::new(BusStats::default());
        let st = stats.clone();
        let mut opts = async_nats::ConnectOptions::new()
            .name(format!("lookout-{}-{}", cfg.role, cfg.node))
            .retry_on_initial_connect()
            .max_reconnects(None)
            .connection_timeout(Duration::from_secs(5))
            // Subscriptions hold at most this many messages; beyond, the
            // client drops and reports a slow consumer (edges then
            // resnapshot) instead of growing memory or slowing the server.
            .subscription_capacity(16 * 1024)
            .event_callback(move |ev| {
                let st = st.clone();
                async move {
                    match ev {
                        async_nats::Event::Connected => {
                            st.connected.store(1, Ordering::Relaxed);
                            BusStats::add(&st.reconnects, 1);
                            tracing::info!("bus: connected");
                        }
                        async_nats::Event::Disconnected => {
                            st.connected.store(0, Ordering::Relaxed);
                            BusStats::add(&st.disconnects, 1);
                            tracing::warn!("bus: disconnected; reconnecting");
                        }
                        async_nats::Event::SlowConsumer(_) => {
                            BusStats::add(&st.slow_consumer, 1);
                        }
                        other => tracing::warn!("bus: {other}"),
                    }
                }
            });
        if let (Some(u), Some(p)) = (&cfg.user, &cfg.password) {
            opts = opts.user_and_password(u.clone(), p.clone());
        } else if let Some(t) = &cfg.token {
            opts = opts.token(t.clone());
        }
        let client = opts
            .connect(url.as_str())
            .await
            .map_err(|e| format!("bus {url}: {e}"))?;
        let deadline = tokio::time::Instant::now() + timeout;
        while client.connection_state() != async_nats::connection::State::Connected {
            if tokio::time::Instant::now() >= deadline {
                return Err(format!("bus {url}: not connected after {timeout:?}"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        stats.connected.store(1, Ordering::Relaxed);
        let js = jetstream::new(client.clone());
        Ok(Bus {
            client,
            js,
            stats,
            node: cfg.node.clone(),
        })
    }

    /// The raw-line stream (created if absent): every `lookout.raw.>`
    /// subject, on disk, bounded by age and bytes (oldest dropped), with a
    /// two-minute duplicate window so retried publishes count once.
    pub async fn raw_stream(&self, cfg: &BusConfig) -> Result<stream::Stream, String> {
        self.js
            .get_or_create_stream(stream::Config {
                name: subjects::RAW_STREAM.into(),
                subjects: vec![subjects::RAW_ALL.into()],
                storage: stream::StorageType::File,
                retention: stream::RetentionPolicy::Limits,
                discard: stream::DiscardPolicy::Old,
                max_age: cfg.raw_max_age,
                max_bytes: cfg.raw_max_bytes,
                duplicate_window: Duration::from_secs(120),
                ..Default::default()
            })
            .await
            .map_err(|e| format!("bus: stream {}: {e}", subjects::RAW_STREAM))
    }

    /// The core's durable pull consumer on the raw stream: `core-<node>`,
    /// every line from the start, explicit acknowledgement (an ack covers
    /// the batches before it), redelivery after `ack_wait`.
    pub async fn core_consumer(
        &self,
        stream: &stream::Stream,
        cfg: &BusConfig,
    ) -> Result<consumer::PullConsumer, String> {
        let name = format!("core-{}", cfg.node);
        stream
            .get_or_create_consumer(
                &name,
                consumer::pull::Config {
                    durable_name: Some(name.clone()),
                    deliver_policy: consumer::DeliverPolicy::All,
                    ack_policy: consumer::AckPolicy::All,
                    ack_wait: cfg.ack_wait,
                    filter_subject: subjects::RAW_ALL.into(),
                    max_ack_pending: 4096,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| format!("bus: consumer {name}: {e}"))
    }

    /// The key-value bucket where alert changes are created once.
    ///
    /// The bucket's stream (`KV_<bucket>`, subjects `$KV.<bucket>.>`, one
    /// value per key) is declared directly, as the KV layout specifies:
    /// async-nats' `create_key_value` first asks for account limits in a
    /// form Debian's nats-server 2.9 answers differently.
    pub async fn alert_bucket(&self) -> Result<kv::Store, String> {
        let bucket = subjects::ALERT_BUCKET;
        self.js
            .get_or_create_stream(stream::Config {
                name: format!("KV_{bucket}"),
                subjects: vec![format!("$KV.{bucket}.>")],
                max_messages_per_subject: 1,
                max_age: Duration::from_secs(7 * 24 * 3600),
                storage: stream::StorageType::File,
                discard: stream::DiscardPolicy::New,
                allow_rollup: true,
                deny_delete: true,
                allow_direct: true,
                duplicate_window: Duration::from_secs(120),
                ..Default::default()
            })
            .await
            .map_err(|e| format!("bus: bucket {bucket}: {e}"))?;
        self.js
            .get_key_value(bucket)
            .await
            .map_err(|e| format!("bus: bucket {bucket}: {e}"))
    }

    /// Create `key` if nobody has: true when this call created it (so this
    /// node publishes the alert change), false when it existed.
    pub async fn create_once(store: &kv::Store, key: &str) -> Result<bool, String> {
        match store.create(key, bytes::Bytes::from_static(b"1")).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(format!("bus: {key}: {e}")),
        }
    }
}

/// A key-value key from free text: KV keys allow `[-/_=.a-zA-Z0-9]`.
pub fn kv_key(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '=' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}
