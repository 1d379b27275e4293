//! The ingest consumer: lines from the queue → archive (tap) → decoder →
//! picture → changes for the WebSocket hub.
//!
//! One task owns the decoder (via `ingest::router::Router`) and is the only
//! writer of the picture. It takes the write lock once per batch (up to
//! 1024 lines), applies every message, lets the picture run its staleness
//! clock, drains the picture's events and turns them into
//! [`broadcast::Change`]s, which it publishes after releasing the lock.
//!
//! Time: the picture runs on message time. With live feeds the pipeline
//! also moves the picture's clock forward from the receive clock every
//! quarter second, so vessels go stale when a feed falls silent; replays
//! (and the demo) move it by their own messages only, so the same recording
//! always gives the same picture.

use crate::state::LiveState;
use crate::views;
use alerts::{Alert, AlertEngine};
use broadcast::{Change, Hub, VesselWire};
use ingest::clock::Clock;
use ingest::line::Line;
use ingest::queue::QueueReceiver;
use ingest::recorder::Recorder;
use ingest::router::{Event, Router};
use spatial_index::{Event as PictureEvent, Picture, Sequenced};
use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The consumer task's state.
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
        }
    }

    /// Consume until every source has finished (the queue closes).
    pub async fn run(mut self, mut rx: QueueReceiver) {
        let mut batch: Vec<Line> = Vec::with_capacity(1024);
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                n = rx.recv_batch(&mut batch, 1024) => {
                    if n == 0 {
                        break;
                    }
                    self.process(&batch);
                    batch.clear();
                }
                _ = tick.tick() => self.tick(),
            }
        }
        self.tick();
        if let Some(r) = self.recorder.take() {
            r.close();
        }
    }

    /// Apply one batch.
    pub fn process(&mut self, batch: &[Line]) {
        if let Some(r) = &self.recorder {
            r.record_batch(batch);
        }
        let mut messages = 0u64;
        let mut own_fixes = Vec::new();
        let (views, removed, alerts) = {
            let mut p = self
                .state
                .picture
                .write()
                .unwrap_or_else(|e| e.into_inner());
            let mut engine = self.state.alerts.lock().unwrap_or_else(|e| e.into_inner());
            let mut own = self
                .state
                .own_assets
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            self.router.handle_batch(batch, |e| match e {
                Event::Ais(m) => {
                    p.apply(&m.decoded, Some(m.received_ms));
                    let t = m
                        .decoded
                        .time_ms(Some(m.received_ms))
                        .unwrap_or(m.received_ms);
                    engine.on_message(&m.decoded, t, &p);
                    messages += 1;
                }
                Event::OwnAssetFix(f) => own_fixes.push(own.update(&f, &p)),
            });
            if let Some(now) = p.now_ms() {
                p.advance_time(now);
            }
            let (views, removed) =
                collect_changes(&mut p, &mut engine, self.hub.client_count() > 0);
            (views, removed, engine.take_changes())
        };
        self.messages += messages;
        *self
            .state
            .decode_stats
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = self.router.decoder().stats().clone();
        self.publish(views.into_iter().chain(own_fixes).collect(), removed);
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

    fn tick(&mut self) {
        if let Some(clock) = &self.live_clock {
            let (views, removed, alerts) = {
                let mut p = self
                    .state
                    .picture
                    .write()
                    .unwrap_or_else(|e| e.into_inner());
                let mut engine = self.state.alerts.lock().unwrap_or_else(|e| e.into_inner());
                p.advance_time(clock.now_ms());
                let (views, removed) =
                    collect_changes(&mut p, &mut engine, self.hub.client_count() > 0);
                (views, removed, engine.take_changes())
            };
            self.publish(views, removed);
            self.publish_alerts(alerts);
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

    fn publish(&self, views: Vec<broadcast::VesselView>, removed: Vec<u32>) {
        if views.is_empty() && removed.is_empty() {
            return;
        }
        let mut changes: Vec<Change> = views
            .into_iter()
            .map(|v| Change::Upsert(VesselWire::new(v)))
            .collect();
        changes.extend(removed.into_iter().map(Change::Remove));
        self.hub.publish(&changes);
    }
}

/// Drain the picture's events, feed them to the alert rules (then run the
/// rules' clock), and return the current view of every vessel they touched
/// and the MMSIs removed.
pub fn collect_changes(
    p: &mut Picture,
    engine: &mut AlertEngine,
    want_views: bool,
) -> (Vec<broadcast::VesselView>, Vec<u32>) {
    let events: Vec<Sequenced> = p.events_mut().drain().collect();
    let mut touched = BTreeSet::new();
    let mut removed = Vec::new();
    for s in &events {
        engine.on_event(&s.event, p);
        match &s.event {
            PictureEvent::VesselRemoved { mmsi, .. } => {
                touched.remove(mmsi);
                removed.push(*mmsi);
            }
            e => {
                touched.insert(e.mmsi());
            }
        }
    }
    if let Some(now) = p.now_ms() {
        engine.tick(now, p);
    }
    if !want_views {
        // Nobody is watching: no views to build (clients that connect get a
        // snapshot).
        return (Vec::new(), Vec::new());
    }
    let views = touched
        .into_iter()
        .filter_map(|m| p.vessel(m).and_then(|v| views::vessel_view(p, v)))
        .collect();
    (views, removed)
}
