//! Core role: the picture and the alert rules, fed from the bus.
//!
//! ```text
//! LOOKOUT_RAW ─durable consumer core-<node>─▶ Engine (decoder ─▶ picture ─▶ alert rules)
//!                   ack after apply ◀──────────────┘                 │
//!        lookout.picture.changes (seq-numbered PictureBatch, heartbeat 1/s) ◀──┤
//!        lookout.alerts.<kind> (each change once, via the alert bucket) ◀──────┘
//!        lookout.snapshot (request) ─▶ SnapshotParts to the requester's inbox
//!        lookout.ack (request) ─▶ acknowledge an alert, answer with it
//! ```
//!
//! **Restart without loss.** JetStream messages are acknowledged only after
//! their lines were applied and the resulting changes published. The
//! picture itself lives in memory, so at start the core first rebuilds it:
//! it replays the stream in stream order (an ordered consumer) up to the
//! last message the durable consumer ever *delivered*, then continues with
//! the durable consumer, acknowledging without applying again anything it
//! redelivers from that range. The picture after a `kill -9` and restart is
//! therefore the one an uninterrupted run gives: same lines, same order.
//! (The rebuild is bounded by the stream's limits, `raw_max_age` and
//! `raw_max_bytes`.)
//!
//! **Checkpoints.** Every `checkpoint_every` (wall time) the core copies
//! its engine — the picture and the alert rules' whole state
//! (`snapshot::take_checkpoint`) — as of the last raw-stream sequence it
//! applied, at a moment when its changes are published and no
//! multi-sentence message is half received, and writes it from a task to
//! the `lookout_checkpoints` bucket (`bus::checkpoint`: chunks, then a
//! manifest with their SHA-256; the newest two kept). At start it restores
//! the newest valid checkpoint (at most the consumer's delivered position)
//! and replays the stream only after it. The engine restored continues as
//! the one that saved it (same picture, same alerts); open alerts come out
//! again and are refused by the alert bucket (already published).
//!
//! **Alerts once per cluster.** Every alert change has a key (alert id,
//! state, time — ids are given in message-time order, so two cores or two
//! runs on the same stream give the same ids); the core creates the key in
//! the `lookout_alert_changes` bucket and only the creator publishes it on
//! `lookout.alerts.<kind>` and to its sinks. Changes re-raised during a
//! rebuild, or by a second core, are therefore not sent twice.
//!
//! **Time.** Replayed lines (`live: false`) move the picture's clock by
//! message time only, as in `lookout replay`; live lines also let wall time
//! advance it every second, so vessels go stale when feeds fall silent.

use crate::state::LiveState;
use alerts::Alert;
use async_nats::jetstream::{consumer, kv, stream};
use broadcast::{Change, Hub, VesselWire};
use bus::payload::{AckReply, AckRequest, PictureBatch, RawBatch, SnapshotPart};
use bus::{subjects, Bus, BusConfig, BusStats};
use bytes::Bytes;
use futures_util::StreamExt;
use ingest::line::{Line, SourceId};
use ingest::queue::Overload;
use ingest::status::SourceSpec;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Largest snapshot part, bytes (NATS' default max payload is 1 MiB).
const SNAPSHOT_PART_BYTES: usize = 256 * 1024;
/// Largest picture batch, bytes of vessel JSON.
const PICTURE_PART_BYTES: usize = 256 * 1024;
/// JetStream messages applied between two publications of changes.
const CHUNK: usize = 64;
/// Interval standing for "never" (checkpoints off).
const NEVER: Duration = Duration::from_secs(365 * 24 * 3600);

/// The core's state.
pub struct Core {
    bus: Bus,
    state: Arc<LiveState>,
    hub: Arc<Hub>,
    /// This run's id (changes at each start, so mirrors resnapshot).
    id: String,
    seq: u64,
    live: bool,
    sources: HashMap<(String, String), SourceId>,
    alert_keys: kv::Store,
    stream: stream::Stream,
    consumer: consumer::PullConsumer,
    /// Stream sequence up to which the rebuild applied everything.
    rebuilt: u64,
    /// Highest stream sequence applied.
    through: u64,
    /// `through` of the last picture batch published.
    published_through: u64,
    alerts: Vec<Alert>,
    /// Engine message count at the last rate estimate.
    messages_then: u64,
    rate_since: Instant,
    /// Where checkpoints go (none when `checkpoint_every` is 0).
    checkpoints: Option<bus::checkpoint::Checkpoints>,
    checkpoint_every: Duration,
    /// Stream sequence of the last checkpoint written or restored.
    checkpointed: u64,
    /// A checkpoint is due (taken at the next moment it can be).
    checkpoint_due: bool,
    /// A checkpoint is being written.
    checkpoint_writing: Arc<std::sync::atomic::AtomicBool>,
}

impl Core {
    /// Declare the stream, the durable consumer and the alert bucket.
    pub async fn new(
        bus: Bus,
        cfg: BusConfig,
        state: Arc<LiveState>,
        hub: Arc<Hub>,
    ) -> Result<Core, String> {
        let stream = bus.raw_stream(&cfg).await?;
        let consumer = bus.core_consumer(&stream, &cfg).await?;
        let alert_keys = bus.alert_bucket().await?;
        let checkpoints = if cfg.checkpoint_every.is_zero() {
            None
        } else {
            match bus.checkpoints().await {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::warn!(
                        "core: {e}; no picture checkpoints (a restart replays the whole stream)"
                    );
                    None
                }
            }
        };
        let id = format!(
            "{}-{}",
            cfg.node,
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0)
        );
        Ok(Core {
            bus,
            state,
            hub,
            id,
            seq: 0,
            live: false,
            sources: HashMap::new(),
            alert_keys,
            stream,
            consumer,
            rebuilt: 0,
            through: 0,
            published_through: 0,
            alerts: Vec::new(),
            messages_then: 0,
            rate_since: Instant::now(),
            checkpoints,
            checkpoint_every: cfg.checkpoint_every,
            checkpointed: 0,
            checkpoint_due: false,
            checkpoint_writing: Arc::default(),
        })
    }

    /// Run until `stop`.
    pub async fn run(mut self, mut stop: tokio::sync::watch::Receiver<bool>) {
        tokio::select! {
            r = self.run_inner() => if let Err(e) = r {
                tracing::error!("core: {e}");
            },
            _ = stop.changed() => {}
        }
    }

    async fn run_inner(&mut self) -> Result<(), String> {
        let delivered = self
            .consumer
            .info()
            .await
            .map_err(|e| format!("consumer info: {e}"))?
            .delivered
            .stream_sequence;
        if delivered > 0 {
            let from = self.restore_checkpoint(delivered).await;
            self.rebuild(from, delivered).await?;
        }
        let client = self.bus.client.clone();
        let mut snapshots = client
            .subscribe(subjects::SNAPSHOT)
            .await
            .map_err(|e| e.to_string())?;
        let mut acks = client
            .subscribe(subjects::ACK)
            .await
            .map_err(|e| e.to_string())?;
        let mut heartbeat = tokio::time::interval(Duration::from_secs(1));
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // This node's own clients: a hub that dropped its picture while
        // nobody was connected gets it again when someone connects.
        let mut hub_check = tokio::time::interval(Duration::from_millis(200));
        hub_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let every = if self.checkpoints.is_some() {
            self.checkpoint_every
        } else {
            NEVER
        };
        let mut checkpoint_tick =
            tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        checkpoint_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tracing::info!(core = %self.id, rebuilt_to = self.rebuilt, "core: consuming lookout.raw.>");
        'consume: loop {
            let mut msgs = match self.consumer.messages().await {
                Ok(m) => m.ready_chunks(CHUNK),
                Err(e) => {
                    tracing::warn!("core: consumer: {e}; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            loop {
                tokio::select! {
                    chunk = msgs.next() => {
                        let Some(chunk) = chunk else { continue 'consume };
                        self.apply_chunk(chunk).await;
                        self.maybe_checkpoint();
                    }
                    _ = checkpoint_tick.tick() => {
                        self.checkpoint_due = true;
                        self.maybe_checkpoint();
                    }
                    Some(req) = snapshots.next() => self.serve_snapshot(req).await,
                    Some(req) = acks.next() => self.serve_ack(req).await,
                    _ = heartbeat.tick() => self.tick().await,
                    _ = hub_check.tick() => {
                        crate::roles::edge::publish_to_hub(&self.hub, &[], || self.all_wires());
                    }
                }
            }
        }
    }

    /// Restore the newest valid checkpoint covering at most `delivered`
    /// into the (empty) engine. Returns the stream sequence it covers (0:
    /// none, the whole stream is replayed).
    async fn restore_checkpoint(&mut self, delivered: u64) -> u64 {
        let Some(store) = self.checkpoints.clone() else {
            return 0;
        };
        let started = Instant::now();
        let (m, bytes) = match store.newest(delivered).await {
            Ok(Some(found)) => found,
            Ok(None) => return 0,
            Err(e) => {
                tracing::warn!("core: {e}; replaying the whole stream");
                return 0;
            }
        };
        let fetched_ms = started.elapsed().as_millis() as u64;
        let snap = match crate::snapshot::from_bytes(&bytes, "checkpoint") {
            Ok(s) if s.bad_lines == 0 => s,
            Ok(_) => {
                tracing::warn!(
                    seq = m.seq,
                    "core: checkpoint has unreadable lines; replaying the whole stream"
                );
                return 0;
            }
            Err(e) => {
                tracing::warn!(
                    seq = m.seq,
                    "core: checkpoint: {e}; replaying the whole stream"
                );
                return 0;
            }
        };
        let restored = {
            let mut e = self.state.engine_mut();
            if !e.picture().is_empty() {
                tracing::warn!("core: the picture is not empty at start; checkpoint not used");
                return 0;
            }
            crate::snapshot::restore_checkpoint(&mut e, &snap)
                .map(|_| self.state.take_alerts(&mut e))
        };
        match restored {
            Ok(alerts) => {
                // Open alerts again: the alert bucket refuses them (they
                // were published); acknowledgements recorded since the
                // checkpoint are applied to them.
                self.record_alerts(alerts);
                self.through = m.seq;
                self.checkpointed = m.seq;
                BusStats::add(&self.bus.stats.checkpoints_restored, 1);
                BusStats::add(&self.bus.stats.checkpoint_covered_batches, m.seq);
                tracing::info!(
                    seq = m.seq,
                    vessels = snap.vessels.len(),
                    bytes = m.bytes,
                    fetch_ms = fetched_ms,
                    ms = started.elapsed().as_millis() as u64,
                    "core: picture restored from checkpoint"
                );
                m.seq
            }
            Err(e) => {
                // Refused before the engine was touched.
                tracing::warn!(
                    seq = m.seq,
                    "core: checkpoint not restored: {e}; replaying the whole stream"
                );
                0
            }
        }
    }

    /// Take a checkpoint when one is due and the engine is at a clean
    /// point: every change published, no multi-sentence message half
    /// received, nothing new since the last one, no write under way. The
    /// copy is made under the engine lock; serialising and writing happen
    /// in a task.
    fn maybe_checkpoint(&mut self) {
        if !self.checkpoint_due || !self.alerts.is_empty() {
            return;
        }
        let Some(store) = self.checkpoints.clone() else {
            return;
        };
        if self.through <= self.checkpointed {
            self.checkpoint_due = false;
            return;
        }
        if self.checkpoint_writing.load(Ordering::Acquire) {
            return;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let started = Instant::now();
        let taken = {
            let e = self.state.engine();
            if e.pending_fragments() > 0 {
                return; // after the next chunk
            }
            crate::snapshot::take_checkpoint(&e, self.through, now)
        };
        let snap = match taken {
            Ok(s) => s,
            Err(e) => {
                BusStats::add(&self.bus.stats.checkpoints_failed, 1);
                tracing::warn!("core: checkpoint not taken: {e}");
                self.checkpoint_due = false;
                return;
            }
        };
        let locked_ms = started.elapsed().as_millis() as u64;
        self.checkpoint_due = false;
        self.checkpointed = self.through;
        let seq = self.through;
        let writing = self.checkpoint_writing.clone();
        writing.store(true, Ordering::Release);
        let stats = self.bus.stats.clone();
        tokio::spawn(async move {
            let bytes = tokio::task::spawn_blocking(move || crate::snapshot::to_bytes(&snap))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string()));
            let r = match bytes {
                Ok(b) => store.put(seq, now, &b).await,
                Err(e) => Err(e),
            };
            match r {
                Ok(m) => {
                    BusStats::add(&stats.checkpoints_written, 1);
                    tracing::info!(
                        seq,
                        bytes = m.bytes,
                        chunks = m.chunks,
                        locked_ms,
                        ms = started.elapsed().as_millis() as u64,
                        "core: checkpoint written"
                    );
                }
                Err(e) => {
                    BusStats::add(&stats.checkpoints_failed, 1);
                    tracing::warn!(seq, "core: checkpoint not written: {e}");
                }
            }
            writing.store(false, Ordering::Release);
        });
    }

    /// Replay the stream, in order, after `from` up to `delivered`.
    async fn rebuild(&mut self, from: u64, delivered: u64) -> Result<(), String> {
        self.rebuilt = delivered;
        if from >= delivered {
            return Ok(());
        }
        let started = Instant::now();
        let ordered = self
            .stream
            .create_consumer(consumer::pull::OrderedConfig {
                filter_subject: subjects::RAW_ALL.into(),
                deliver_policy: if from == 0 {
                    consumer::DeliverPolicy::All
                } else {
                    consumer::DeliverPolicy::ByStartSequence {
                        start_sequence: from + 1,
                    }
                },
                ..Default::default()
            })
            .await
            .map_err(|e| format!("rebuild consumer: {e}"))?;
        let mut msgs = ordered
            .messages()
            .await
            .map_err(|e| format!("rebuild: {e}"))?;
        let mut n = 0u64;
        while let Some(m) = msgs.next().await {
            let m = m.map_err(|e| format!("rebuild: {e}"))?;
            let seq = m.info().map(|i| i.stream_sequence).unwrap_or(0);
            self.apply_message(&m.payload);
            self.through = self.through.max(seq);
            BusStats::add(&self.bus.stats.rebuilt_batches, 1);
            n += 1;
            if n % CHUNK as u64 == 0 {
                self.flush(false).await;
            }
            if seq >= delivered {
                break;
            }
        }
        self.flush(false).await;
        self.rebuilt = delivered;
        tracing::info!(
            batches = n,
            after = from,
            up_to = delivered,
            ms = started.elapsed().as_millis() as u64,
            "core: picture rebuilt from the stream"
        );
        Ok(())
    }

    async fn apply_chunk(
        &mut self,
        chunk: Vec<Result<async_nats::jetstream::Message, consumer::pull::MessagesError>>,
    ) {
        let mut last: Option<(u64, async_nats::jetstream::Message)> = None;
        for m in chunk {
            let m = match m {
                Ok(m) => m,
                Err(e) => {
                    tracing::debug!("core: {e}");
                    continue;
                }
            };
            let seq = m.info().map(|i| i.stream_sequence).unwrap_or(0);
            if seq <= self.rebuilt {
                BusStats::add(&self.bus.stats.skipped_redelivered, 1);
            } else {
                BusStats::add(&self.bus.stats.received_batches, 1);
                self.apply_message(&m.payload);
                self.through = self.through.max(seq);
            }
            if last.as_ref().is_none_or(|(s, _)| seq >= *s) {
                last = Some((seq, m));
            }
        }
        self.flush(true).await;
        // Applied and published: now (and only now) acknowledged. The ack
        // policy is "all", so the highest one covers the chunk.
        if let Some((_, m)) = last {
            if let Err(e) = m.ack().await {
                tracing::warn!("core: ack: {e}");
            }
        }
    }

    fn source_id(&mut self, b: &RawBatch) -> Option<SourceId> {
        let key = (b.node.clone(), b.source.clone());
        if let Some(id) = self.sources.get(&key) {
            return Some(*id);
        }
        let status = self
            .state
            .registry
            .get_or_register(SourceSpec {
                name: format!("{}/{}", b.node, b.source),
                kind: "bus",
                own_asset: b.own_asset.clone(),
                overload: Overload::Block,
            })
            .ok()?;
        let id = status.id();
        self.sources.insert(key, id);
        Some(id)
    }

    /// Decode and apply one raw batch (a bad payload is counted, skipped).
    fn apply_message(&mut self, payload: &[u8]) {
        let batch: RawBatch = match serde_json::from_slice(payload) {
            Ok(b) => b,
            Err(_) => {
                BusStats::add(&self.bus.stats.bad_messages, 1);
                return;
            }
        };
        let Some(source) = self.source_id(&batch) else {
            BusStats::add(&self.bus.stats.bad_messages, 1);
            return;
        };
        self.live = batch.live;
        BusStats::add(&self.bus.stats.received_lines, batch.lines.len() as u64);
        let lines: Vec<Line> = batch
            .lines
            .into_iter()
            .map(|l| Line {
                source,
                received_ms: l.received_ms,
                bytes: l.line.into_bytes(),
            })
            .collect();
        let (changes, relayed) = {
            let mut e = self.state.engine_mut();
            e.feed_batch(&lines);
            (self.state.take_alerts(&mut e), e.take_relayed())
        };
        self.record_alerts(changes);
        // Re-broadcast outputs on the core: live lines only, not a rebuild
        // from the stream (those went out when they were received).
        if self.live {
            self.state.outputs.send(&relayed);
        }
    }

    /// Alert changes into the state database (acknowledgements made
    /// before a restart are applied again as the rebuild re-raises their
    /// alerts), then queued for the next flush.
    fn record_alerts(&mut self, changes: Vec<Alert>) {
        let changes = self.state.persist_alerts(changes);
        self.alerts.extend(changes);
    }

    /// Publish what changed since the last flush: one [`PictureBatch`] on
    /// the bus (and to this node's own clients) when `publish`, alert
    /// changes once per cluster in any case.
    async fn flush(&mut self, publish: bool) {
        let alerts = std::mem::take(&mut self.alerts);
        let mut alert_values = Vec::with_capacity(alerts.len());
        for a in &alerts {
            let value = serde_json::to_value(a).unwrap_or_default();
            self.publish_alert_once(a, &value).await;
            alert_values.push(value);
        }
        if !publish {
            return;
        }
        let (changes, time_ms) = {
            let mut e = self.state.engine_mut();
            (e.take_changes(), e.picture().now_ms())
        };
        if changes.is_empty() && alerts.is_empty() {
            return;
        }
        let removed = changes.removed;
        let wires: Vec<Arc<VesselWire>> =
            changes.upserts.into_iter().map(VesselWire::new).collect();
        // One batch per PICTURE_PART_BYTES of vessels (NATS refuses
        // messages over its max payload, 1 MiB by default), each with its
        // own seq; removals and alerts go in the first, and only the last
        // says how far the raw stream is applied.
        let mut parts: Vec<PictureBatch<Box<RawValue>>> = Vec::new();
        let mut bytes = usize::MAX;
        let mut removed_alerts = Some((removed.to_vec(), alert_values));
        for w in &wires {
            if bytes.saturating_add(w.json.len()) > PICTURE_PART_BYTES {
                parts.push(self.picture_part(time_ms, removed_alerts.take()));
                bytes = 0;
            }
            bytes += w.json.len() + 1;
            if let (Some(p), Ok(raw)) =
                (parts.last_mut(), RawValue::from_string(w.json.to_string()))
            {
                p.upserts.push(raw);
            }
        }
        if parts.is_empty() || removed_alerts.is_some() {
            parts.push(self.picture_part(time_ms, removed_alerts.take()));
        }
        if let Some(last) = parts.last_mut() {
            last.through = self.through;
        }
        self.published_through = self.through;
        for part in &parts {
            self.publish_json(subjects::PICTURE_CHANGES.to_string(), part)
                .await;
            BusStats::add(&self.bus.stats.picture_batches, 1);
        }
        // This node's own WebSocket clients.
        let mut changes: Vec<Change> = removed.into_iter().map(Change::Remove).collect();
        changes.extend(wires.into_iter().map(Change::Upsert));
        crate::roles::edge::publish_to_hub(&self.hub, &changes, || self.all_wires());
        for a in alerts {
            self.hub.publish_alert(a.to_json().into());
        }
    }

    /// Every vessel's wire form (for a hub that needs its picture again).
    fn all_wires(&self) -> Vec<Arc<VesselWire>> {
        self.all_views().into_iter().map(VesselWire::new).collect()
    }

    fn all_views(&self) -> Vec<broadcast::VesselView> {
        self.state.engine().all_views()
    }

    async fn publish_alert_once(&self, a: &Alert, value: &serde_json::Value) {
        let state = value["state"].as_str().unwrap_or("changed");
        let key = bus::conn::kv_key(&format!("{}.{}.{}", a.id, state, a.time));
        match Bus::create_once(&self.alert_keys, &key).await {
            Ok(true) => {
                let ev = bus::payload::AlertEvent {
                    core: self.id.clone(),
                    alert: value.clone(),
                };
                self.publish_json(subjects::alerts(a.kind.as_str()), &ev)
                    .await;
                self.state.publish_to_sinks(a);
                BusStats::add(&self.bus.stats.alerts_published, 1);
            }
            Ok(false) => BusStats::add(&self.bus.stats.alerts_deduplicated, 1),
            Err(e) => {
                // The bucket is unreachable: publishing twice is better than
                // never raising a distress alert.
                tracing::warn!("core: {e}; publishing the alert change anyway");
                self.state.publish_to_sinks(a);
            }
        }
    }

    async fn publish_json<T: serde::Serialize>(&self, subject: String, value: &T) {
        match serde_json::to_vec(value) {
            Ok(body) => {
                if let Err(e) = self.bus.client.publish(subject, Bytes::from(body)).await {
                    tracing::debug!("core: publish: {e}");
                }
            }
            Err(e) => tracing::warn!("core: serialise: {e}"),
        }
    }

    /// Once a second: the wall clock for live feeds, the message rate, and
    /// a heartbeat so mirrors notice a silent core or a missed batch.
    async fn tick(&mut self) {
        if self.live {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0);
            let changes = {
                let mut e = self.state.engine_mut();
                e.advance_to(now);
                self.state.take_alerts(&mut e)
            };
            self.record_alerts(changes);
            self.flush(true).await;
        }
        let dt = self.rate_since.elapsed().as_secs_f64();
        if dt >= 1.0 {
            let messages = self.state.engine().messages();
            self.state.rate_milli.store(
                (messages.saturating_sub(self.messages_then) as f64 / dt * 1000.0) as u64,
                Ordering::Relaxed,
            );
            self.messages_then = messages;
            self.rate_since = Instant::now();
        }
        let time_ms = self.state.picture().now_ms();
        let hb: PictureBatch<()> = PictureBatch {
            core: self.id.clone(),
            seq: self.seq,
            time_ms,
            through: self.through,
            upserts: Vec::new(),
            removed: Vec::new(),
            alerts: Vec::new(),
        };
        self.publish_json(subjects::PICTURE_CHANGES.to_string(), &hb)
            .await;
    }

    /// The whole picture, as of `seq`, in parts to the requester's inbox.
    async fn serve_snapshot(&mut self, req: async_nats::Message) {
        let Some(reply) = req.reply else { return };
        let views = self.all_views();
        let (time_ms, alerts) = {
            let e = self.state.engine();
            (
                e.picture().now_ms(),
                e.rules()
                    .list(None, None)
                    .into_iter()
                    .map(|a| serde_json::to_value(a).unwrap_or_default())
                    .collect::<Vec<_>>(),
            )
        };
        let mut parts: Vec<SnapshotPart<Box<RawValue>>> = Vec::new();
        let mut bytes = usize::MAX;
        for v in views {
            let Ok(text) = serde_json::to_string(&v) else {
                continue;
            };
            if bytes.saturating_add(text.len()) > SNAPSHOT_PART_BYTES {
                parts.push(self.part(parts.len(), time_ms));
                bytes = 0;
            }
            bytes += text.len() + 1;
            if let (Some(part), Ok(raw)) = (parts.last_mut(), RawValue::from_string(text)) {
                part.vessels.push(raw);
            }
        }
        bytes = usize::MAX;
        for a in alerts {
            let len = a.to_string().len();
            if bytes.saturating_add(len) > SNAPSHOT_PART_BYTES {
                parts.push(self.part(parts.len(), time_ms));
                bytes = 0;
            }
            bytes += len + 1;
            if let Some(part) = parts.last_mut() {
                part.alerts.push(a);
            }
        }
        if parts.is_empty() {
            parts.push(self.part(0, time_ms));
        }
        if let Some(last) = parts.last_mut() {
            last.last = true;
        }
        for part in &parts {
            self.publish_json(reply.to_string(), part).await;
        }
        let _ = self.bus.client.flush().await;
        BusStats::add(&self.bus.stats.snapshots_served, 1);
    }

    /// The next picture batch (next seq), empty.
    fn picture_part(
        &mut self,
        time_ms: Option<i64>,
        removed_alerts: Option<(Vec<u32>, Vec<serde_json::Value>)>,
    ) -> PictureBatch<Box<RawValue>> {
        self.seq += 1;
        let (removed, alerts) = removed_alerts.unwrap_or_default();
        PictureBatch {
            core: self.id.clone(),
            seq: self.seq,
            time_ms,
            through: self.published_through,
            upserts: Vec::new(),
            removed,
            alerts,
        }
    }

    fn part(&self, n: usize, time_ms: Option<i64>) -> SnapshotPart<Box<RawValue>> {
        SnapshotPart {
            core: self.id.clone(),
            seq: self.seq,
            part: n as u32,
            last: false,
            time_ms,
            vessels: Vec::new(),
            alerts: Vec::new(),
        }
    }

    /// An edge forwarded an operator's acknowledgement.
    async fn serve_ack(&mut self, req: async_nats::Message) {
        let Some(reply) = req.reply.clone() else {
            return;
        };
        let answer = match serde_json::from_slice::<AckRequest>(&req.payload) {
            Err(e) => AckReply::Error(format!("bad acknowledgement: {e}")),
            Ok(a) => {
                let r = self
                    .state
                    .engine_mut()
                    .acknowledge(&a.id, &a.who, a.note.as_deref());
                match r {
                    Ok(alert) => match self.state.persist_ack(&alert) {
                        Err(e) => AckReply::Error(format!("acknowledgement not stored: {e}")),
                        Ok(()) => {
                            tracing::info!(alert = %alert.id, by = %a.who, "alert acknowledged (via an edge)");
                            // The change is in the engine's queue: published
                            // (once, to edges and sinks) by this flush.
                            let changes = self.state.engine_mut().take_alerts();
                            self.alerts.extend(changes);
                            self.flush(true).await;
                            AckReply::Ok(serde_json::to_value(&alert).unwrap_or_default())
                        }
                    },
                    Err(e) => AckReply::Error(e),
                }
            }
        };
        self.publish_json(reply.to_string(), &answer).await;
    }
}
