//! The ingest consumer: lines from the queue → archive (tap) → decoder →
//! picture → alerts, and changes for the WebSocket hub.
//!
//! The pipeline runs on its own OS thread ([`Pipeline::spawn`]), not on the
//! tokio workers that serve WebSocket and HTTP clients: a thousand sessions
//! busy writing cannot starve ingest, and a long batch cannot hold up the
//! sessions. It is the only writer of the picture.
//!
//! Each batch (up to 1024 lines) is applied under the picture's write lock;
//! then, in the same critical section ([`Pipeline::update_picture`], shared
//! with the live clock's tick), the picture's events go to the alert rules
//! and the MMSIs they touch are noted. At most every [`PUBLISH_EVERY`] the
//! touched vessels' views are built (under the read lock), serialised once
//! ([`VesselWire`]) and published to the hub in one batch — so a vessel
//! reported several times within that window costs one view, and the hub's
//! fan-out runs ~100 times a second whatever the line rate. With no client
//! connected nothing is built at all; when one connects the whole picture is
//! republished once ([`broadcast::hub::Feed`]).
//!
//! Time: the picture runs on message time. With live feeds the pipeline
//! also moves the picture's clock forward from the receive clock every
//! quarter second, so vessels go stale when a feed falls silent; replays
//! (and the demo) move it by their own messages only, so the same recording
//! always gives the same picture.

use crate::state::{LiveState, OwnAssets};
use crate::views;
use alerts::{Alert, AlertEngine};
use broadcast::hub::Feed;
use broadcast::{BBox, Change, Hub, VesselView, VesselWire};
use ingest::clock::Clock;
use ingest::line::Line;
use ingest::queue::QueueReceiver;
use ingest::recorder::Recorder;
use ingest::router::{Event, Router};
use spatial_index::{Event as PictureEvent, Picture, Sequenced};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Changes are published to the hub at most this often.
pub const PUBLISH_EVERY: Duration = Duration::from_millis(10);

/// The consumer's state.
pub struct Pipeline {
    pub state: Arc<LiveState>,
    pub hub: Arc<Hub>,
    pub router: Router,
    pub recorder: Option<Recorder>,
    /// Receive clock for live feeds (None for replays).
    pub live_clock: Option<Arc<dyn Clock>>,
    /// Replaying the archive at start (`crate::snapshot`): alerts go to the
    /// engine but not to sinks or clients (the run that recorded the lines
    /// sent them already).
    pub restoring: bool,
    messages: u64,
    rate_since: Instant,
    /// Changed since the last publish: vessels, removed vessels, own assets.
    touched: BTreeSet<u32>,
    removed: BTreeSet<u32>,
    own_changed: BTreeMap<u32, VesselView>,
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
        router: Router,
        recorder: Option<Recorder>,
        live_clock: Option<Arc<dyn Clock>>,
    ) -> Self {
        Pipeline {
            state,
            hub,
            router,
            recorder,
            live_clock,
            restoring: false,
            messages: 0,
            rate_since: Instant::now(),
            touched: BTreeSet::new(),
            removed: BTreeSet::new(),
            own_changed: BTreeMap::new(),
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
        let mut messages = 0u64;
        self.update_picture(|router, p, engine, own, own_views| {
            router.handle_batch(batch, |e| match e {
                Event::Ais(m) => {
                    p.apply(&m.decoded, Some(m.received_ms));
                    let t = m
                        .decoded
                        .time_ms(Some(m.received_ms))
                        .unwrap_or(m.received_ms);
                    engine.on_message(&m.decoded, t, p);
                    messages += 1;
                }
                Event::OwnAssetFix(f) => own_views.push(own.update(&f, p)),
            });
            if let Some(now) = p.now_ms() {
                p.advance_time(now);
            }
        });
        self.messages += messages;
        *self
            .state
            .decode_stats
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = self.router.decoder().stats().clone();
    }

    /// Move the picture's clock on live feeds; refresh the rate estimate.
    fn tick(&mut self) {
        if let Some(clock) = self.live_clock.clone() {
            self.update_picture(|_, p, _, _, _| p.advance_time(clock.now_ms()));
        }
        let dt = self.rate_since.elapsed().as_secs_f64();
        if dt >= 1.0 {
            let rate = self.messages as f64 / dt;
            self.state
                .rate_milli
                .store((rate * 1000.0) as u64, Ordering::Relaxed);
            self.messages = 0;
            self.rate_since = Instant::now();
        }
    }

    /// With the picture, the alert rules and the own assets locked: run
    /// `step` (decode and apply messages, or move the clock), then feed the picture's
    /// events to the rules, run the rules' clock and note what changed;
    /// after the locks are released, send out the alerts.
    fn update_picture(
        &mut self,
        step: impl FnOnce(
            &mut Router,
            &mut Picture,
            &mut AlertEngine,
            &mut OwnAssets,
            &mut Vec<VesselView>,
        ),
    ) {
        let alerts = {
            let state = &self.state;
            let mut p = state.picture.write().unwrap_or_else(|e| e.into_inner());
            let mut engine = state.alerts.lock().unwrap_or_else(|e| e.into_inner());
            let mut own = state.own_assets.lock().unwrap_or_else(|e| e.into_inner());
            let mut own_views = Vec::new();
            step(
                &mut self.router,
                &mut p,
                &mut engine,
                &mut own,
                &mut own_views,
            );
            drain_events(&mut p, &mut engine, &mut self.touched, &mut self.removed);
            for v in own_views {
                self.own_changed.insert(v.mmsi, v);
            }
            engine.take_changes()
        };
        self.publish_alerts(alerts);
    }

    fn publish_alerts(&self, alerts: Vec<Alert>) {
        // Recorded in the state database, and acknowledgements made before
        // a restart applied again (also while restoring the picture).
        let alerts = self.state.persist_alerts(alerts);
        if self.restoring {
            return;
        }
        for a in alerts {
            self.state.sinks.publish(&a);
            self.hub.publish_alert(a.to_json().into());
        }
    }

    fn has_changes(&self) -> bool {
        !(self.touched.is_empty() && self.removed.is_empty() && self.own_changed.is_empty())
    }

    /// Publish what changed since the last time (or, when clients came
    /// back after a time without any, the whole picture).
    fn publish_changes(&mut self) {
        self.last_publish = Instant::now();
        let touched = std::mem::take(&mut self.touched);
        let removed = std::mem::take(&mut self.removed);
        let own = std::mem::take(&mut self.own_changed);
        if self.restoring {
            return;
        }
        match self.hub.feed() {
            Feed::Off => {}
            Feed::Resync => self.resync_all(),
            Feed::Live => {
                let views: Vec<VesselView> = {
                    let p = self.state.picture.read().unwrap_or_else(|e| e.into_inner());
                    touched
                        .iter()
                        .filter_map(|&m| p.vessel(m).and_then(|v| views::vessel_view(&p, v)))
                        .collect()
                };
                let mut changes: Vec<Change> = removed.into_iter().map(Change::Remove).collect();
                changes.extend(
                    views
                        .into_iter()
                        .chain(own.into_values())
                        .map(|v| Change::Upsert(VesselWire::new(v))),
                );
                self.hub.publish(&changes);
            }
        }
    }

    /// Publish every vessel (and own asset) as the hub's whole picture.
    fn resync_all(&self) {
        let views: Vec<VesselView> = {
            let p = self.state.picture.read().unwrap_or_else(|e| e.into_inner());
            p.vessels()
                .filter_map(|v| views::vessel_view(&p, v))
                .collect()
        };
        let own = self
            .state
            .own_assets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .in_boxes(&[BBox::WORLD]);
        self.hub
            .resync(views.into_iter().chain(own).map(VesselWire::new).collect());
    }
}

/// Drain the picture's events into the alert rules (then run the rules'
/// clock), noting the vessels they touched and those removed (a vessel
/// removed then reported again counts as touched).
pub fn drain_events(
    p: &mut Picture,
    engine: &mut AlertEngine,
    touched: &mut BTreeSet<u32>,
    removed: &mut BTreeSet<u32>,
) {
    let events: Vec<Sequenced> = p.events_mut().drain().collect();
    for s in &events {
        engine.on_event(&s.event, p);
        match &s.event {
            PictureEvent::VesselRemoved { mmsi, .. } => {
                touched.remove(mmsi);
                removed.insert(*mmsi);
            }
            e => {
                removed.remove(&e.mmsi());
                touched.insert(e.mmsi());
            }
        }
    }
    if let Some(now) = p.now_ms() {
        engine.tick(now, p);
    }
}

/// [`drain_events`] for one step, returning the current view of every
/// vessel touched (when `want_views`) and the MMSIs removed.
pub fn collect_changes(
    p: &mut Picture,
    engine: &mut AlertEngine,
    want_views: bool,
) -> (Vec<VesselView>, Vec<u32>) {
    let mut touched = BTreeSet::new();
    let mut removed = BTreeSet::new();
    drain_events(p, engine, &mut touched, &mut removed);
    if !want_views {
        return (Vec::new(), Vec::new());
    }
    let views = touched
        .into_iter()
        .filter_map(|m| p.vessel(m).and_then(|v| views::vessel_view(p, v)))
        .collect();
    (views, removed.into_iter().collect())
}
