//! The ingest consumer: lines from the queue → archive (tap) → the
//! [`engine::Engine`] (decoder → picture → alert rules, one message at a
//! time) → alerts to the sinks and changes for the WebSocket hub.
//!
//! The pipeline runs on its own OS thread ([`Pipeline::spawn`]), not on the
//! tokio workers that serve WebSocket and HTTP clients: a thousand sessions
//! busy writing cannot starve ingest, and a long batch cannot hold up the
//! sessions. It is the only writer of the engine besides acknowledgements
//! and zone edits.
//!
//! Each batch (up to 1024 lines) is fed to the engine under its write lock,
//! and the alert changes are taken in the same critical section. How lines
//! are grouped into batches changes nothing the engine decides (see
//! `crates/engine`). At most every [`PUBLISH_EVERY`] the touched vessels'
//! views are built, serialised once ([`VesselWire`]) and published to the
//! hub in one batch — so a vessel reported several times within that window
//! costs one view, and the hub's fan-out runs ~100 times a second whatever
//! the line rate. With no client connected the engine keeps no changes at
//! all; when one connects the whole picture is republished once
//! ([`broadcast::hub::Feed`]).
//!
//! Time: the picture runs on message time. With live feeds the pipeline
//! also moves the engine's clock forward from the receive clock every
//! quarter second, so vessels go stale when a feed falls silent; replays
//! (and the demo) move it by their own messages only, so the same recording
//! always gives the same picture and the same alerts.

use crate::state::LiveState;
use alerts::Alert;
use broadcast::hub::Feed;
use broadcast::{Change, Hub, VesselWire};
use ingest::clock::Clock;
use ingest::line::Line;
use ingest::queue::QueueReceiver;
use ingest::recorder::Recorder;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Changes are published to the hub at most this often.
pub const PUBLISH_EVERY: Duration = Duration::from_millis(10);

/// The consumer's state.
pub struct Pipeline {
    pub state: Arc<LiveState>,
    pub hub: Arc<Hub>,
    pub recorder: Option<Recorder>,
    /// Receive clock for live feeds (None for replays).
    pub live_clock: Option<Arc<dyn Clock>>,
    /// Replaying the archive at start (`crate::snapshot`): alerts go to the
    /// engine but not to sinks or clients (the run that recorded the lines
    /// sent them already).
    pub restoring: bool,
    /// Engine message count at the last rate estimate.
    messages_then: u64,
    rate_since: Instant,
    /// The engine holds vessel changes not yet published.
    changed: bool,
    last_publish: Instant,
}

/// The pipeline's thread; [`PipelineThread::finish`] waits for it.
pub struct PipelineThread {
    done: tokio::sync::oneshot::Receiver<()>,
}

impl PipelineThread {
    /// Wait (at most `limit`) for the pipeline to drain the queue and stop.
    pub async fn finish(self, limit: Duration) -> bool {
        matches!(tokio::time::timeout(limit, self.done).await, Ok(Ok(())))
    }
}

impl Pipeline {
    pub fn new(
        state: Arc<LiveState>,
        hub: Arc<Hub>,
        recorder: Option<Recorder>,
        live_clock: Option<Arc<dyn Clock>>,
    ) -> Self {
        Pipeline {
            state,
            hub,
            recorder,
            live_clock,
            restoring: false,
            messages_then: 0,
            rate_since: Instant::now(),
            changed: false,
            last_publish: Instant::now(),
        }
    }

    /// Run on a dedicated OS thread (with its own single-threaded runtime
    /// for the queue's wake-ups and the timers) until the queue closes.
    pub fn spawn(self, rx: QueueReceiver) -> std::io::Result<PipelineThread> {
        let (tx, done) = tokio::sync::oneshot::channel();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()?;
        std::thread::Builder::new()
            .name("lookout-pipeline".into())
            .spawn(move || {
                rt.block_on(self.run(rx));
                let _ = tx.send(());
            })?;
        Ok(PipelineThread { done })
    }

    /// Consume until every source has finished (the queue closes).
    pub async fn run(mut self, mut rx: QueueReceiver) {
        let mut batch: Vec<Line> = Vec::with_capacity(1024);
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let hub = self.hub.clone();
        let mut resync = false;
        loop {
            let publish_at = tokio::time::Instant::from_std(self.last_publish + PUBLISH_EVERY);
            let waiting = self.has_changes();
            tokio::select! {
                n = rx.recv_batch(&mut batch, 1024) => {
                    if n == 0 {
                        break;
                    }
                    self.process(&batch);
                    batch.clear();
                }
                _ = tick.tick() => self.tick(),
                _ = tokio::time::sleep_until(publish_at), if waiting => {}
                _ = hub.resync_wanted() => resync = true,
            }
            if resync || (self.has_changes() && self.last_publish.elapsed() >= PUBLISH_EVERY) {
                resync = false;
                self.publish_changes();
            }
        }
        // The input ended (a replay): the rules' clock runs to the last
        // message time, as `lookout replay` does at its end.
        self.update(|e| e.finish());
        self.tick();
        self.publish_changes();
        // Nothing will change the picture any more (a replay ended): leave
        // the whole of it published, so clients that connect from now on
        // still get their snapshots.
        if !self.restoring {
            self.resync_all();
        }
        if let Some(r) = self.recorder.take() {
            r.close();
        }
    }

    /// Apply one batch (published with the next [`PUBLISH_EVERY`]).
    pub fn process(&mut self, batch: &[Line]) {
        if let Some(r) = &self.recorder {
            r.record_batch(batch);
        }
        self.update(|e| e.feed_batch(batch));
    }

    /// Move the engine's clock on live feeds; refresh the rate estimate.
    fn tick(&mut self) {
        if let Some(clock) = self.live_clock.clone() {
            self.update(|e| e.advance_to(clock.now_ms()));
        }
        let dt = self.rate_since.elapsed().as_secs_f64();
        if dt >= 1.0 {
            let messages = self.state.engine().messages();
            let rate = messages.saturating_sub(self.messages_then) as f64 / dt;
            self.state
                .rate_milli
                .store((rate * 1000.0) as u64, Ordering::Relaxed);
            self.messages_then = messages;
            self.rate_since = Instant::now();
        }
    }

    /// With the engine locked: run `step`, take the alert changes and (when
    /// a client follows the picture) the vessel changes; after the lock is
    /// released, send out the alerts.
    fn update(&mut self, step: impl FnOnce(&mut engine::Engine)) {
        let following = !self.restoring && self.hub.feed() != Feed::Off;
        let (alerts, relayed) = {
            let mut e = self.state.engine_mut();
            e.track_changes(following);
            step(&mut e);
            if following {
                self.changed |= e.has_changes();
            }
            (self.state.take_alerts(&mut e), e.take_relayed())
        };
        self.publish_alerts(alerts);
        // The re-broadcast outputs (never while restoring: those lines
        // went out when they were received).
        if !self.restoring {
            self.state.outputs.send(&relayed);
        }
    }

    fn publish_alerts(&self, alerts: Vec<Alert>) {
        // Recorded in the state database, and acknowledgements made before
        // a restart applied again (also while restoring the picture).
        let alerts = self.state.persist_alerts(alerts);
        if self.restoring {
            return;
        }
        for a in alerts {
            self.state.publish_to_sinks(&a);
            self.hub.publish_alert(a.to_json().into());
        }
    }

    fn has_changes(&self) -> bool {
        self.changed
    }

    /// Publish what changed since the last time (or, when clients came
    /// back after a time without any, the whole picture).
    fn publish_changes(&mut self) {
        self.last_publish = Instant::now();
        self.changed = false;
        if self.restoring {
            return;
        }
        match self.hub.feed() {
            Feed::Off => {}
            Feed::Resync => {
                let _ = self.state.engine_mut().take_changes();
                self.resync_all()
            }
            Feed::Live => {
                let changes = self.state.engine_mut().take_changes();
                let mut out: Vec<Change> =
                    changes.removed.into_iter().map(Change::Remove).collect();
                out.extend(
                    changes
                        .upserts
                        .into_iter()
                        .map(|v| Change::Upsert(VesselWire::new(v))),
                );
                self.hub.publish(&out);
            }
        }
    }

    /// Publish every vessel (and own asset) as the hub's whole picture.
    fn resync_all(&self) {
        let views = self.state.engine().all_views();
        self.hub
            .resync(views.into_iter().map(VesselWire::new).collect());
    }
}
