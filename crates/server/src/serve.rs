//! The server: feeds in, the live picture out — WebSocket and HTTP on one
//! port. What `lookout serve` runs, and what tests start in-process.
//!
//! ```text
//! let server = Server::start(ServeOptions { .. }).await?;   // listening when this returns
//! let stop = server.shutdown_handle();                      // stop.shutdown() from anywhere
//! server.run_until_shutdown().await?;                       // SIGINT/SIGTERM or the handle, then drain
//! ```
//! [`Server::start`] assembles it in one order: the state database, the
//! zones, the sources (`--replay` recordings, the configured feeds, or the
//! demo), the picture restored from snapshot + archive, the recorder, the
//! `Pipeline` thread or the cluster role, then HTTP on the bound
//! listener. Wiring (one direction): sources → bounded queue →
//! `Pipeline` (archive tap, engine) → hub → WebSocket sessions; HTTP
//! queries read the picture through `LiveState`. With no source
//! configured and no replay, the bundled demonstration scenario is
//! simulated and played. On shutdown: clients are told, sources stop, the
//! pipeline drains, the recorder is flushed and a last snapshot written.

use crate::config::{zone_paths, LookoutConfig};
use crate::options::ServeOptions;
use crate::pipeline::{Pipeline, PipelineThread};
use crate::roles::ClusterRun;
use crate::state::sar_api::{AckMemory, SarBook};
use crate::state::{LiveState, Mode};
use broadcast::{AppState, Auth, Hub};
use engine::{Engine, EngineConfig};
use ingest::clock::{Clock, SystemClock};
use ingest::config::{ReplayConfig, SourceConfig};
use ingest::recorder::Recorder;
use ingest::source::{RunningSource, ShutdownTrigger};
use ingest::status::SourceRegistry;
use ingest::{queue, source};
use simulator::{Scenario, Simulator};
use spatial_index::ZoneIndex;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use store::Store;
use tokio::task::JoinHandle;

/// A started server: listening, its sources and pipeline (or cluster role)
/// running. Stop it with [`Server::run_until_shutdown`] and a signal or
/// its [`ShutdownHandle`].
pub struct Server {
    local_addr: SocketAddr,
    stop: ShutdownHandle,
    served: JoinHandle<std::io::Result<()>>,
    running: Running,
}

/// Asks a [`Server`] to stop (as SIGTERM would); cheap to clone, usable
/// from any thread.
#[derive(Clone, Debug)]
pub struct ShutdownHandle(Arc<tokio::sync::watch::Sender<bool>>);

impl ShutdownHandle {
    /// Stop the server: it stops accepting, tells the WebSocket clients,
    /// then [`Server::run_until_shutdown`] drains and returns.
    pub fn shutdown(&self) {
        self.0.send_replace(true);
    }

    async fn requested(&self) {
        let mut rx = self.0.subscribe();
        let _ = rx.wait_for(|stop| *stop).await;
    }
}

/// What the drain at shutdown stops, in order.
struct Running {
    hub: Arc<Hub>,
    trigger: ShutdownTrigger,
    status_task: JoinHandle<()>,
    /// Live coverage of searches on the incidents channel.
    coverage_task: JoinHandle<()>,
    sources: Vec<RunningSource>,
    pipeline_thread: Option<PipelineThread>,
    cluster: Option<ClusterRun>,
    snapshot_task: Option<JoinHandle<()>>,
    state: Arc<LiveState>,
    clock: Arc<dyn Clock>,
    snapshot_path: PathBuf,
    sinks: Arc<alert_sinks::SinkSet>,
    /// The demo recording (a temporary file, removed when dropped — also
    /// when the start fails half-way).
    demo_file: Option<tempfile::TempPath>,
}

impl Server {
    /// Open the state, start the sources, the pipeline (or the cluster
    /// role) and HTTP; returns once listening. Errors are sentences for
    /// the operator (`lookout serve: …`).
    pub async fn start(opts: ServeOptions) -> Result<Server, String> {
        let cfg = crate::roles::configure(opts.config, &opts.cluster)?;
        let auth = Auth::new(&cfg.auth)?;
        auth.check_listen(&cfg.listen)?;

        // Durable state: one SQLite database (zones created over the API,
        // contacts, incidents, alert states and acknowledgements, and by
        // default the webhook outbox).
        let db_path = cfg.state_database(&opts.state_dir);
        let store = Arc::new(Store::open(&db_path).map_err(|e| e.to_string())?);
        import_legacy_zones(&opts.state_dir, &store)?;
        let sar_book = SarBook::load(&store)
            .map_err(|e| format!("{}: {e}", db_path.display()))?
            .with_rcc(cfg.sar.rcc.clone());
        let acks = AckMemory::load(&store).map_err(|e| format!("{}: {e}", db_path.display()))?;
        let (contacts, incidents) = sar_book.counts();
        tracing::info!(path = %db_path.display(), contacts, incidents, acknowledgements = acks.len(), "state database open");

        // Zones: files, then those created over the API (in the database).
        let file_zones = ZoneIndex::load(&zone_paths(&cfg.zones)).map_err(|e| e.to_string())?;
        let file_zone_list = file_zones.zones().to_vec();
        let api_zones: Vec<serde_json::Value> = store
            .zones()
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|(_, f)| f)
            .collect();

        // Sources: --replay, configured feeds, or the demo.
        let mut demo_file = None;
        let speed = check_speed(opts.speed)?;
        let (sources, mode) = if crate::roles::from_bus(cfg.bus.role) {
            // Core and edge nodes take their lines (or picture) from the bus.
            (Vec::new(), Mode::Live)
        } else if !opts.replay.is_empty() {
            let label = opts
                .replay
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            (
                vec![replay_source(opts.replay.clone(), speed.unwrap_or(0.0))],
                Mode::Replay {
                    speed: speed.unwrap_or(0.0),
                    label,
                },
            )
        } else if cfg.ingest.sources.is_empty() {
            let (file, label) = demo_recording(&cfg)?;
            let path = file.to_path_buf();
            demo_file = Some(file);
            tracing::info!(%label, speed = cfg.demo.speed, "no feed configured: playing the demonstration scenario");
            (
                vec![replay_source(vec![path], cfg.demo.speed)],
                Mode::Replay {
                    speed: cfg.demo.speed,
                    label,
                },
            )
        } else {
            (cfg.ingest.sources.clone(), Mode::Live)
        };

        let sinks = Arc::new(
            alert_sinks::SinkSet::start(&cfg.sinks_with_outbox(&db_path))
                .map_err(|e| e.to_string())?,
        );
        let mut output_set = outputs::OutputSet::start_with(
            &cfg.outputs,
            &outputs::cot::Context {
                node: cfg.bus.node.clone(),
                replay: mode != Mode::Live,
            },
        )
        .await?;
        // The aisstream.io-compatible feed (/v0/stream) is always there; it
        // asks the engine for payloads only while a client is connected.
        let configured_outputs = !output_set.is_empty();
        let aisstream = outputs::aisstream::AisStream::new();
        output_set.push(Box::new(aisstream.clone()));
        let outputs = Arc::new(output_set);
        let registry = Arc::new(SourceRegistry::default());
        let (line_queue, rx) = queue::channel(cfg.ingest.queue_capacity, registry.clone());
        let (trigger, shutdown) = source::shutdown_pair();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let running =
            source::start_sources(&sources, &registry, &line_queue, clock.clone(), shutdown)
                .await
                .map_err(|e| e.to_string())?;
        let monitor = line_queue.monitor();
        drop(line_queue);
        let live = mode == Mode::Live;
        // Started after the picture is restored from the archive (below), so
        // the restore reads only what the earlier run recorded.
        let recorder_cfg = match (&cfg.ingest.recorder, live) {
            (Some(r), true) => Some(r.clone()),
            _ => None,
        };

        let engine = Engine::new(
            EngineConfig {
                alerts: cfg.alerts.clone(),
                ..EngineConfig::default()
            },
            file_zones,
            registry.clone(),
        );
        let state = Arc::new(LiveState {
            engine: RwLock::new(engine),
            sinks: sinks.clone(),
            outputs: outputs.clone(),
            registry: registry.clone(),
            queue: monitor,
            mode,
            rate_milli: Default::default(),
            store: Some(store.clone()),
            sar: Mutex::new(sar_book),
            acks: Mutex::new(acks),
            api_zones: Mutex::new(Vec::new()),
            file_zones: file_zone_list,
            recorder: Default::default(),
            archive: cfg
                .ingest
                .recorder
                .as_ref()
                .map(|r| crate::history::ArchiveHistory::new(r.directory.clone())),
        });
        state
            .restore_api_zones(api_zones)
            .map_err(|e| format!("zones created over the API: {e}"))?;
        // Relay on while an aisstream client listens (always, with
        // configured outputs: then it is on already).
        if !configured_outputs {
            let weak = Arc::downgrade(&state);
            aisstream.on_active(move |on| {
                if let Some(st) = weak.upgrade() {
                    st.engine_mut().relay(on);
                }
            });
        }
        // The CoT outputs put the open contacts and incidents on TAK maps.
        let weak = Arc::downgrade(&state);
        outputs.set_markers(Arc::new(move || {
            use broadcast::SarApi;
            let Some(st) = weak.upgrade() else {
                return Vec::new();
            };
            let contacts = st.contacts(Some("active")).unwrap_or_default();
            let incidents = st.incidents(Some("open")).unwrap_or_default();
            outputs::cot::markers_from_sar_json(&contacts, &incidents)
        }));

        cfg.limits
            .validate()
            .map_err(|e| format!("[limits]: {e}"))?;
        let hub = Arc::new(Hub::new(cfg.limits));

        // Restart: the picture from the last snapshot plus the archive since.
        let snapshot_path = crate::snapshot::path_in(&opts.state_dir);
        if let Some(rc) = recorder_cfg.as_ref().filter(|_| cfg.snapshot.restore) {
            let (st, sc, sp, dir) = (
                state.clone(),
                cfg.snapshot.clone(),
                snapshot_path.clone(),
                rc.directory.clone(),
            );
            let now = clock.now_ms();
            let r = tokio::task::spawn_blocking(move || {
                crate::snapshot::restore_at_start(&st, &sc, &sp, &dir, now)
            })
            .await
            .map_err(|e| format!("restoring the picture: {e}"))?;
            tracing::info!(
                vessels = r.vessels,
                snapshot_vessels = r.snapshot_vessels,
                snapshot_age_s = r.snapshot_age_ms.map(|a| a / 1000),
                replayed_lines = r.replayed_lines,
                from = %ingest::timefmt::format_rfc3339(r.replayed_from_ms),
                ms = r.elapsed_ms,
                "picture restored"
            );
        }
        let recorder = recorder_cfg
            .map(|r| Recorder::start(r, registry.clone(), clock.clone()))
            .transpose()
            .map_err(|e| e.to_string())?;
        if let Some(r) = &recorder {
            let _ = state.recorder.set(r.status());
        }
        let snapshots_every = (recorder.is_some() && cfg.snapshot.interval_secs > 0)
            .then(|| Duration::from_secs(cfg.snapshot.interval_secs));

        // The re-broadcast outputs get messages from here on (not those of
        // the restore above, which went out when they were received).
        state.engine_mut().relay(outputs.wants_relay());
        let pipeline = Pipeline::new(
            state.clone(),
            hub.clone(),
            recorder,
            live.then(|| clock.clone()),
        );
        // Its own OS thread: client work on the tokio workers cannot starve
        // ingest, and ingest cannot stall the sessions.
        let (pipeline_thread, cluster) = if cfg.bus.role == bus::Role::All {
            let t = pipeline
                .spawn(rx)
                .map_err(|e| format!("cannot start the pipeline thread: {e}"))?;
            (Some(t), None)
        } else {
            // Cluster roles: ingest publishes the queue's lines to the bus,
            // core builds the picture from the bus, edge mirrors it.
            let run =
                crate::roles::start(&cfg, state.clone(), hub.clone(), rx, pipeline, live).await?;
            (None, Some(run))
        };

        // Periodic picture snapshots (atomic writes), for the restore above.
        let snapshot_task = snapshots_every.map(|every| {
            let (state, clock, path) = (state.clone(), clock.clone(), snapshot_path.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    let (state, path, now) = (state.clone(), path.clone(), clock.now_ms());
                    let _ = tokio::task::spawn_blocking(move || {
                        crate::snapshot::save(&state, now, &path)
                    })
                    .await;
                }
            })
        });

        // Feed status to clients with a `sources` channel.
        let status_task = {
            let (hub, state) = (hub.clone(), state.clone());
            tokio::spawn(async move {
                let mut every = tokio::time::interval(Duration::from_secs(2));
                loop {
                    every.tick().await;
                    let json = serde_json::json!({
                        "status": broadcast::PictureApi::status(&*state),
                        "sources": broadcast::PictureApi::sources(&*state),
                    });
                    hub.publish_sources(json.to_string().into());
                }
            })
        };

        let coverage_task = tokio::spawn(crate::coverage_push::run(state.clone(), hub.clone()));

        let api: Arc<dyn broadcast::PictureApi> = cluster
            .as_ref()
            .and_then(|c| c.api.clone())
            .unwrap_or_else(|| state.clone());
        // Partners' vessels merged in, ours out ([share], issue #9).
        let api: Arc<dyn broadcast::PictureApi> = if cfg.share.enabled() {
            crate::roles::share::start(&cfg.share, api, hub.clone()).await?
        } else {
            api
        };
        let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
        let app = AppState {
            hub: hub.clone(),
            api,
            auth: Arc::new(auth),
            shutdown: shutdown_rx,
        };
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", cfg.listen))?;
        let bound = listener.local_addr().map_err(|e| e.to_string())?;
        eprintln!(
            "lookout serve: listening on http://{bound} ({}){}",
            match &state.mode {
                Mode::Live => format!("{} live source(s)", sources.len()),
                Mode::Replay { speed, label } => format!(
                    "replaying {label} at {}",
                    if *speed > 0.0 {
                        format!("{speed}x")
                    } else {
                        "max speed".into()
                    }
                ),
            },
            if app.auth.enabled() {
                ""
            } else {
                "; authentication OFF (loopback only)"
            }
        );
        let web = crate::web::router(&crate::web::choose(opts.web_root.clone()));
        // /v0/stream in front of the web client's files: the same
        // connection limits and middleware as the API.
        let stream = crate::aisstream::router(
            aisstream,
            app.auth.clone(),
            *hub.limits(),
            app.shutdown.clone(),
        );
        let web = Some(match web {
            Some(w) => stream.merge(w),
            None => stream,
        });
        // HTTP and WebSocket are served from here on; they stop (and tell the
        // WebSocket clients) when the shutdown handle fires.
        let stop = Arc::new(tokio::sync::watch::channel(false).0);
        let mut stop_rx = stop.subscribe();
        let served = tokio::spawn(broadcast::server::serve_with_files(
            listener,
            app,
            web,
            shutdown_tx,
            async move {
                let _ = stop_rx.wait_for(|stop| *stop).await;
            },
        ));

        Ok(Server {
            local_addr: bound,
            stop: ShutdownHandle(stop),
            served,
            running: Running {
                hub,
                trigger,
                status_task,
                coverage_task,
                sources: running,
                pipeline_thread,
                cluster,
                snapshot_task,
                state,
                clock,
                snapshot_path,
                sinks,
                demo_file,
            },
        })
    }

    /// The address HTTP and WebSocket are served on (the real port when
    /// the configuration asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A handle that stops this server.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.stop.clone()
    }

    /// Serve until SIGINT, SIGTERM or the [`ShutdownHandle`], then drain:
    /// WebSocket clients are told and given a moment, sources stop, the
    /// pipeline drains, the recorder flushes, a last snapshot is written and
    /// the sinks finish.
    pub async fn run_until_shutdown(self) -> Result<(), String> {
        let Server {
            stop,
            mut served,
            running,
            ..
        } = self;
        let served = tokio::select! {
            served = &mut served => served,
            _ = async {
                tokio::select! {
                    _ = broadcast::server::signal() => {}
                    _ = stop.requested() => {}
                }
            } => {
                stop.shutdown();
                served.await
            }
        };
        let served = match served {
            Ok(served) => served,
            Err(e) => Err(std::io::Error::other(e)),
        };
        running.drain(served).await
    }
}

impl Running {
    /// The shutdown drain, after HTTP has stopped.
    async fn drain(self, served: std::io::Result<()>) -> Result<(), String> {
        let Running {
            hub,
            trigger,
            status_task,
            coverage_task,
            sources,
            pipeline_thread,
            cluster,
            snapshot_task,
            state,
            clock,
            snapshot_path,
            sinks,
            demo_file,
        } = self;

        // WebSocket sessions are sending their close frames: give them a moment.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        while hub.client_count() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Stop sources, let the pipeline drain and the recorder flush.
        trigger.trigger();
        status_task.abort();
        coverage_task.abort();
        for r in sources {
            let _ = tokio::time::timeout(Duration::from_secs(5), r.task).await;
        }
        if let Some(t) = pipeline_thread {
            t.finish(Duration::from_secs(10)).await;
        }
        if let Some(c) = cluster {
            c.finish(Duration::from_secs(10)).await;
        }
        if let Some(t) = snapshot_task {
            // A last snapshot of the drained picture: a clean restart replays
            // almost nothing.
            t.abort();
            crate::snapshot::save(&state, clock.now_ms(), &snapshot_path);
        }
        state.flush_alert_states();
        state.outputs.shutdown();
        sinks.shutdown().await;
        drop(demo_file);
        served.map_err(|e| e.to_string())
    }
}

/// Simulate the demo scenario into a temporary recording.
fn demo_recording(cfg: &LookoutConfig) -> Result<(tempfile::TempPath, String), String> {
    let scenario = match &cfg.demo.scenario {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            Scenario::from_toml(&text).map_err(|e| format!("{}: {e}", p.display()))?
        }
        None => Scenario::demo(),
    };
    let file = tempfile::Builder::new()
        .prefix("lookout-demo-")
        .suffix(".nmea")
        .tempfile()
        .map_err(|e| format!("the demo recording: {e}"))?;
    let (handle, path) = file.into_parts();
    let mut out = std::io::BufWriter::new(handle);
    let mut sim = Simulator::new(&scenario).map_err(|e| e.to_string())?;
    let mut err = None;
    sim.run_for((cfg.demo.hours * 3_600_000.0) as i64, |_, line| {
        if err.is_none() {
            err = out
                .write_all(line.as_bytes())
                .and_then(|_| out.write_all(b"\n"))
                .err();
        }
    });
    if let Some(e) = err.or_else(|| out.flush().err()) {
        return Err(format!("{}: {e}", path.display()));
    }
    Ok((path, format!("demo: {}", scenario.name)))
}

/// A replay speed: `None` is as fast as possible.
fn check_speed(speed: Option<f64>) -> Result<Option<f64>, String> {
    match speed {
        Some(v) if !(v > 0.0 && v.is_finite()) => Err(format!(
            "the replay speed must be a positive number, not {v}"
        )),
        _ => Ok(speed),
    }
}

/// Zones created over the API used to be kept in
/// `STATE_DIR/zones-api.geojson`: move them into the database once (the
/// file is renamed `….imported`).
fn import_legacy_zones(state_dir: &std::path::Path, store: &Store) -> Result<(), String> {
    let file = state_dir.join("zones-api.geojson");
    let Ok(text) = std::fs::read_to_string(&file) else {
        return Ok(());
    };
    let features = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("features").and_then(|f| f.as_array()).cloned())
        .ok_or_else(|| format!("{}: not a FeatureCollection", file.display()))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    for f in &features {
        let id = f["properties"]["id"].as_str().unwrap_or_default();
        if !id.is_empty() {
            store.put_zone(id, f, now).map_err(|e| e.to_string())?;
        }
    }
    std::fs::rename(&file, file.with_extension("geojson.imported"))
        .map_err(|e| format!("{}: {e}", file.display()))?;
    tracing::info!(zones = features.len(), from = %file.display(), "zones created over the API moved into the state database");
    Ok(())
}

fn replay_source(paths: Vec<PathBuf>, speed: f64) -> SourceConfig {
    SourceConfig::Replay(ReplayConfig {
        name: "replay".into(),
        paths,
        from: None,
        to: None,
        speed,
        keep_sources: true,
        own_assets: Default::default(),
        own_asset: None,
        overload: None,
    })
}
