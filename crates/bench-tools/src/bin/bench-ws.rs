//! `bench-ws`: WebSocket fan-out under load — delivered updates/s and the
//! latency from the server's receipt of a line to a client's receipt of the
//! update, for many viewport clients, fast all-area clients and stalled
//! clients, against `lookout serve` or a Signal K server.
//!
//! ```text
//! bench-ws --target lookout --http 127.0.0.1:8092 --feed-tcp 127.0.0.1:10193 \
//!     --recording ws-100k.nmea --preload-lines 2400000 --rate 20000 \
//!     --clients 1000 --fast-clients 1 --stalled 100 --phase-seconds 45 --server-pid PID
//! ```
//!
//! Steps (all bounded; loopback only):
//!
//! 1. A feeder thread connects to the server's NMEA TCP input and sends the
//!    recording's lines with their TAG blocks removed: first
//!    `--preload-lines` at `--preload-rate` (to fill the picture — 100,000
//!    vessels), then `--rate` lines/s until the end.
//! 2. `--clients` clients connect, each with a random viewport over the
//!    central Mediterranean (0.5°–3° wide) at `--client-hz`; `--fast-clients`
//!    subscribe to the whole area at `--fast-hz`. Lookout: `/ws`,
//!    `subscribe` with `bbox` and `max_rate_hz`. Signal K:
//!    `/signalk/v1/stream?subscribe=none`, then a subscription to
//!    `navigation.position` with `policy: fixed`, `period` = 1000/hz ms
//!    (Signal K's per-vessel coalescing, like Lookout's) and, for viewport
//!    clients, a `relativePosition` context (circle around the viewport's
//!    centre, radius half its diagonal) — Signal K has no box filter.
//! 3. Phase 1 (`--phase-seconds`): every update received is measured.
//! 4. Phase 2 (`--stalled-seconds`): `--stalled` more clients connect with a
//!    4 KiB receive buffer, subscribe to everything at the highest rate and
//!    never read; the others are measured again. The default, 8 s, is less
//!    than Lookout's stall limit (10 s), so the stalled clients are all
//!    connected for the whole phase.
//! 5. Phase 3 (`--phase-seconds`): after — the server has cut the stalled
//!    clients off (or not); the others are measured a third time.
//!
//! The server's RSS (`/proc/PID/status`) is sampled every second, its CPU
//! time (`/proc/PID/stat`) per phase — also per line fed and per vessel
//! update delivered, figures that hold on a loaded machine — and the load
//! average at the start of each phase. The all-area clients run on a
//! runtime thread of their own, so their receive times are not held up by
//! this process parsing the viewport clients' traffic (on a real network
//! every client has its own machine); the viewport clients share two
//! threads, so their figures include this tool's own queueing.
//!
//! Latency: the lines carry no TAG block, so the server stamps each with
//! its receive time (UNIX ms) and that is the vessel's `last_seen`
//! (Lookout) or the update's `timestamp` (Signal K). For each vessel in
//! each update, latency = client receive time − that stamp, both read from
//! this machine's clock. It is the latency of the *latest* line of that
//! vessel (earlier ones were coalesced away, as the protocol intends).
//! Snapshots are not counted.

use bench_tools::pace::Pacer;
use bench_tools::recording::Lines;
use bench_tools::stats::Samples;
use bench_tools::timefmt::{find, scan_times};
use bench_tools::{http, metrics, now_unix_ms, procfs, require_loopback};
use clap::{Parser, ValueEnum};
use futures_util::{SinkExt, StreamExt};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Target {
    Lookout,
    Signalk,
}

#[derive(Parser)]
#[command(about = "WebSocket fan-out benchmark: updates/s and receive-to-client latency")]
struct Args {
    #[arg(long, value_enum, default_value = "lookout")]
    target: Target,
    /// The server's HTTP/WebSocket address.
    #[arg(long, default_value = "127.0.0.1:8092")]
    http: SocketAddr,
    /// The server's NMEA TCP input (Lookout `tcp_listener`; Signal K's
    /// NMEA 0183 TCP server, port 10110 by default).
    #[arg(long, default_value = "127.0.0.1:10193")]
    feed_tcp: SocketAddr,
    /// Recording to feed (TAG blocks are removed).
    #[arg(long)]
    recording: PathBuf,
    /// Lines sent first, fast, to fill the picture.
    #[arg(long, default_value_t = 2_400_000)]
    preload_lines: usize,
    #[arg(long, default_value_t = 150_000.0)]
    preload_rate: f64,
    /// Lines/s during the measurement.
    #[arg(long, default_value_t = 20_000.0)]
    rate: f64,
    /// Viewport clients.
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    #[arg(long, default_value_t = 1.0)]
    client_hz: f64,
    /// All-area clients.
    #[arg(long, default_value_t = 1)]
    fast_clients: usize,
    #[arg(long, default_value_t = 10.0)]
    fast_hz: f64,
    /// Viewport width range in degrees of longitude (height 0.8 of it).
    #[arg(long, default_value_t = 0.5)]
    viewport_min_deg: f64,
    #[arg(long, default_value_t = 3.0)]
    viewport_max_deg: f64,
    /// Clients that subscribe and never read (phase 2).
    #[arg(long, default_value_t = 100)]
    stalled: usize,
    /// Length of phases 1 and 3.
    #[arg(long, default_value_t = 40.0)]
    phase_seconds: f64,
    /// Length of phase 2 (stalled clients connected).
    #[arg(long, default_value_t = 8.0)]
    stalled_seconds: f64,
    /// Seconds between the clients' connection and the first phase.
    #[arg(long, default_value_t = 5.0)]
    warmup_seconds: f64,
    /// Seconds to let the server digest the preload before clients connect.
    #[arg(long, default_value_t = 5.0)]
    settle_seconds: f64,
    /// Server PID for RSS and CPU.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Seed for the viewports.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Write the report as JSON here too.
    #[arg(long)]
    json_out: Option<PathBuf>,
}

/// One measured phase.
struct PhaseInfo {
    secs: f64,
    /// Lines fed during the phase.
    lines: u64,
    /// CPU seconds of the server and of this process.
    server_cpu: Option<f64>,
    own_cpu: Option<f64>,
    /// Load average at the start.
    load: String,
}

/// Measurements of one group of clients in one phase.
#[derive(Default)]
struct Group {
    /// Update messages (a large update comes in parts).
    messages: AtomicU64,
    /// Complete updates (the last part of each).
    updates: AtomicU64,
    vessels: AtomicU64,
    bytes: AtomicU64,
    snapshots: AtomicU64,
    latency: Mutex<Samples>,
}

const PHASES: usize = 4; // 0 warm-up (ignored), 1 baseline, 2 with stalled clients, 3 after

struct Shared {
    phase: AtomicU8,
    stop: AtomicBool,
    /// [group][phase]: group 0 viewport clients, 1 fast clients.
    groups: [[Group; PHASES]; 2],
    connected: AtomicU64,
    first_frame: AtomicU64,
    failed: AtomicU64,
    closed: AtomicU64,
    /// The first few reasons clients were closed.
    close_reasons: Mutex<Vec<String>>,
}

#[derive(Clone, Copy)]
struct View {
    bbox: Option<[f64; 4]>,
    hz: f64,
}

fn random_view(hz: f64, (min, max): (f64, f64)) -> View {
    let w = min + fastrand::f64() * (max - min);
    let h = min + fastrand::f64() * (max - min) * 0.8;
    let lon = 10.0 + fastrand::f64() * (16.5 - 10.0 - w);
    let lat = 33.0 + fastrand::f64() * (38.0 - 33.0 - h);
    View {
        bbox: Some([lon, lat, lon + w, lat + h]),
        hz,
    }
}

fn ws_url(t: Target, addr: SocketAddr) -> String {
    match t {
        Target::Lookout => format!("ws://{addr}/ws"),
        Target::Signalk => format!("ws://{addr}/signalk/v1/stream?subscribe=none"),
    }
}

fn subscribe_msg(t: Target, v: View) -> String {
    match t {
        Target::Lookout => {
            let bbox = v
                .bbox
                .map(|b| {
                    format!(
                        "\"bbox\":[{:.4},{:.4},{:.4},{:.4}],",
                        b[0], b[1], b[2], b[3]
                    )
                })
                .unwrap_or_default();
            format!(
                "{{\"type\":\"subscribe\",\"id\":\"map\",{bbox}\"max_rate_hz\":{},\"channels\":[\"vessels\"]}}",
                v.hz
            )
        }
        Target::Signalk => {
            let period = (1000.0 / v.hz).round() as u64;
            let context = match v.bbox {
                Some(b) => {
                    let (clon, clat) = ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
                    let dx = (b[2] - b[0]) / 2.0 * 60.0 * 1852.0 * clat.to_radians().cos();
                    let dy = (b[3] - b[1]) / 2.0 * 60.0 * 1852.0;
                    format!(
                        "{{\"radius\":{:.0},\"position\":{{\"latitude\":{clat:.4},\"longitude\":{clon:.4}}}}}",
                        (dx * dx + dy * dy).sqrt()
                    )
                }
                None => "\"vessels.*\"".into(),
            };
            format!(
                "{{\"context\":{context},\"subscribe\":[{{\"path\":\"navigation.position\",\"period\":{period},\"policy\":\"fixed\"}}]}}"
            )
        }
    }
}

/// Is this Lookout frame part of a snapshot? A snapshot's first part has
/// type `snapshot`; its later parts are `update`s, sent one after the other
/// until the one without `"more":true`. (A large *update* is cut into
/// parts too, each with `"part"`, so `"part"` alone does not tell.)
/// `in_snapshot` is the connection's state, kept across frames.
fn lookout_snapshot_part(text: &[u8], in_snapshot: &mut bool) -> bool {
    let head = &text[..text.len().min(48)];
    let tail = &text[text.len().saturating_sub(40)..];
    let more = find(tail, b"\"more\":true").is_some();
    if find(head, b"\"type\":\"snapshot\"").is_some() {
        *in_snapshot = more;
        return true;
    }
    if *in_snapshot && find(head, b"\"type\":\"update\"").is_some() {
        *in_snapshot = more;
        return true;
    }
    false
}

/// Measure one text frame (`snapshot`: a part of a snapshot, not counted).
fn measure(t: Target, text: &[u8], g: &Group, recv_ms: i64, snapshot: bool) {
    let head = &text[..text.len().min(48)];
    let tail = &text[text.len().saturating_sub(40)..];
    let (is_update, key): (bool, &[u8]) = match t {
        Target::Lookout => {
            if snapshot {
                g.snapshots.fetch_add(1, Ordering::Relaxed);
                return;
            }
            if find(tail, b"\"more\":true").is_none() {
                g.updates.fetch_add(1, Ordering::Relaxed);
            }
            (
                find(head, b"\"type\":\"update\"").is_some(),
                b"\"last_seen\":\"",
            )
        }
        Target::Signalk => {
            let u = find(text, b"\"updates\"").is_some();
            if u {
                g.updates.fetch_add(1, Ordering::Relaxed);
            }
            (u, b"\"timestamp\":\"")
        }
    };
    if !is_update {
        return;
    }
    g.messages.fetch_add(1, Ordering::Relaxed);
    g.bytes.fetch_add(text.len() as u64, Ordering::Relaxed);
    let mut local = Vec::new();
    for ts in scan_times(text, key) {
        local.push(recv_ms - ts);
    }
    g.vessels.fetch_add(local.len() as u64, Ordering::Relaxed);
    if !local.is_empty() {
        let mut s = g.latency.lock().unwrap_or_else(|e| e.into_inner());
        s.0.extend_from_slice(&local);
    }
}

/// Client limits large enough for a snapshot of the whole picture
/// (100,000 vessels are ~30 MB of JSON in one frame).
fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(1 << 30))
        .max_frame_size(Some(1 << 30))
}

async fn client(t: Target, url: String, view: View, group: usize, sh: Arc<Shared>) {
    let conn = tokio::time::timeout(
        Duration::from_secs(30),
        tokio_tungstenite::connect_async_with_config(url.as_str(), Some(ws_config()), true),
    )
    .await;
    let mut ws = match conn {
        Ok(Ok((ws, _))) => ws,
        other => {
            sh.failed.fetch_add(1, Ordering::Relaxed);
            let why = match other {
                Ok(Err(e)) => e.to_string(),
                _ => "connect timed out (30 s)".into(),
            };
            let mut r = sh.close_reasons.lock().unwrap_or_else(|e| e.into_inner());
            if r.len() < 5 {
                r.push(format!("group {group}: connect failed: {why}"));
            }
            return;
        }
    };
    sh.connected.fetch_add(1, Ordering::Relaxed);
    if ws
        .send(Message::text(subscribe_msg(t, view)))
        .await
        .is_err()
    {
        sh.failed.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let mut first = true;
    let mut in_snapshot = false;
    while !sh.stop.load(Ordering::Relaxed) {
        let next = tokio::time::timeout(Duration::from_millis(500), ws.next()).await;
        let msg = match next {
            Err(_) => continue,
            Ok(None) | Ok(Some(Err(_))) => {
                sh.closed.fetch_add(1, Ordering::Relaxed);
                let why = match next {
                    Ok(Some(Err(e))) => e.to_string(),
                    _ => "end of stream".into(),
                };
                let mut r = sh.close_reasons.lock().unwrap_or_else(|e| e.into_inner());
                if r.len() < 5 {
                    r.push(format!("group {group}: {why}"));
                }
                return;
            }
            Ok(Some(Ok(m))) => m,
        };
        if let Message::Text(text) = msg {
            let recv = now_unix_ms();
            if first {
                first = false;
                sh.first_frame.fetch_add(1, Ordering::Relaxed);
            }
            let snapshot =
                t == Target::Lookout && lookout_snapshot_part(text.as_bytes(), &mut in_snapshot);
            let phase = sh.phase.load(Ordering::Relaxed) as usize;
            if phase > 0 {
                measure(t, text.as_bytes(), &sh.groups[group][phase], recv, snapshot);
            }
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
}

/// A client that subscribes to everything at the highest rate and never
/// reads; its socket has a 4 KiB receive buffer so it fills at once.
async fn stalled_client(
    t: Target,
    addr: SocketAddr,
    url: String,
) -> anyhow::Result<tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>> {
    let sock = tokio::net::TcpSocket::new_v4()?;
    sock.set_recv_buffer_size(4096)?;
    let stream = sock.connect(addr).await?;
    let (mut ws, _) = tokio_tungstenite::client_async(url.as_str(), stream).await?;
    let hz = if t == Target::Lookout { 20.0 } else { 10.0 };
    ws.send(Message::text(subscribe_msg(t, View { bbox: None, hz })))
        .await?;
    Ok(ws)
}

fn feeder(
    lines: Arc<Lines>,
    to: SocketAddr,
    (preload, preload_rate, rate): (usize, f64, f64),
    sh: Arc<Shared>,
    preloaded: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
) -> anyhow::Result<()> {
    let mut s = std::net::TcpStream::connect(to)?;
    let mut buf = Vec::with_capacity(1 << 20);
    let mut i = 0usize;
    let mut stage =
        |count: usize, rate: f64, i: &mut usize, stop_on_flag: bool| -> anyhow::Result<()> {
            let pacer = Pacer::new(rate);
            let start = *i;
            // Lines dropped from the schedule while the server held the
            // socket back: the feed never bursts more than a second's worth.
            let mut skipped = 0usize;
            let burst = rate as usize;
            while *i - start < count && !(stop_on_flag && sh.stop.load(Ordering::Relaxed)) {
                let mut due = (pacer.due() as usize).saturating_sub(skipped).min(count);
                if due > *i - start + burst {
                    skipped += due - (*i - start + burst);
                    due = *i - start + burst;
                }
                if due <= *i - start {
                    Pacer::idle();
                    continue;
                }
                while *i - start < due {
                    buf.extend_from_slice(lines.get(*i));
                    buf.extend_from_slice(b"\r\n");
                    *i += 1;
                }
                s.write_all(&buf)?;
                buf.clear();
                sent.store(*i as u64, Ordering::Relaxed);
            }
            Ok(())
        };
    stage(preload, preload_rate, &mut i, false)?;
    preloaded.store(true, Ordering::Relaxed);
    stage(usize::MAX / 2, rate, &mut i, true)?;
    Ok(())
}

fn rss_mib(pid: Option<u32>) -> Option<f64> {
    pid.and_then(procfs::rss_kib).map(|k| k as f64 / 1024.0)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    require_loopback(&args.http)?;
    require_loopback(&args.feed_tcp)?;
    if !(args.phase_seconds > 0.0 && args.phase_seconds <= 300.0) {
        anyhow::bail!("--phase-seconds must be in (0, 300]");
    }
    if args.clients + args.fast_clients + args.stalled > 5000 {
        anyhow::bail!("at most 5000 clients in all");
    }
    fastrand::seed(args.seed);
    if !(args.stalled_seconds > 0.0 && args.stalled_seconds <= 300.0) {
        anyhow::bail!("--stalled-seconds must be in (0, 300]");
    }
    let measured_s = args.settle_seconds
        + args.warmup_seconds
        + 2.0 * args.phase_seconds
        + args.stalled_seconds
        + 60.0;
    let want = args.preload_lines + (args.rate * measured_s) as usize;
    let t = Instant::now();
    let lines = Arc::new(Lines::load(&args.recording, want, true)?);
    eprintln!(
        "bench-ws: {} lines loaded in {:.1} s (the feed cycles them if it runs past the end)",
        lines.len(),
        t.elapsed().as_secs_f64()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let sh = Arc::new(Shared {
        phase: AtomicU8::new(0),
        stop: AtomicBool::new(false),
        groups: Default::default(),
        connected: AtomicU64::new(0),
        first_frame: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        closed: AtomicU64::new(0),
        close_reasons: Mutex::new(Vec::new()),
    });
    let rss_start = rss_mib(args.server_pid);
    let preloaded = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let feed = {
        let (l, sh, p, s) = (lines.clone(), sh.clone(), preloaded.clone(), sent.clone());
        let (to, n, pr, r) = (
            args.feed_tcp,
            args.preload_lines,
            args.preload_rate,
            args.rate,
        );
        std::thread::spawn(move || feeder(l, to, (n, pr, r), sh, p, s))
    };
    let t0 = Instant::now();
    while !preloaded.load(Ordering::Relaxed) {
        if feed.is_finished() {
            return match feed.join() {
                Ok(Err(e)) => Err(e.context("feeder")),
                _ => Err(anyhow::anyhow!("feeder stopped")),
            };
        }
        if t0.elapsed() > Duration::from_secs(300) {
            anyhow::bail!("preload took more than 300 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "bench-ws: preloaded {} lines in {:.1} s",
        args.preload_lines,
        t0.elapsed().as_secs_f64()
    );
    std::thread::sleep(Duration::from_secs_f64(args.settle_seconds));
    let vessels = rt.block_on(async {
        match args.target {
            Target::Lookout => http::get(args.http, "/api/status", Duration::from_secs(10))
                .await
                .ok()
                .and_then(|r| serde_json::from_slice::<serde_json::Value>(&r.body).ok())
                .and_then(|v| v["vessels"].as_u64()),
            Target::Signalk => None,
        }
    });
    let rss_preloaded = rss_mib(args.server_pid);

    // Clients (the all-area ones on a runtime thread of their own).
    let fast_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("bench-ws-fast")
        .enable_all()
        .build()?;
    let url = ws_url(args.target, args.http);
    let mut handles = Vec::new();
    rt.block_on(async {
        for i in 0..args.clients + args.fast_clients {
            let (group, view) = if i < args.fast_clients {
                (
                    1,
                    View {
                        bbox: None,
                        hz: args.fast_hz,
                    },
                )
            } else {
                (
                    0,
                    random_view(
                        args.client_hz,
                        (args.viewport_min_deg, args.viewport_max_deg),
                    ),
                )
            };
            let task = client(args.target, url.clone(), view, group, sh.clone());
            handles.push(if group == 1 {
                fast_rt.spawn(task)
            } else {
                tokio::spawn(task)
            });
            if i % 50 == 49 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        let n = (args.clients + args.fast_clients) as u64;
        while sh.connected.load(Ordering::Relaxed) + sh.failed.load(Ordering::Relaxed) < n
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    eprintln!(
        "bench-ws: {} clients connected ({} failed)",
        sh.connected.load(Ordering::Relaxed),
        sh.failed.load(Ordering::Relaxed)
    );
    std::thread::sleep(Duration::from_secs_f64(args.warmup_seconds));
    let rss_clients = rss_mib(args.server_pid);

    let mut rss_samples: [Vec<f64>; PHASES] = Default::default();
    let mut phase_info = Vec::new();
    let mut stalled = Vec::new();
    let mut stall_failed = 0;
    let before_metrics = match args.target {
        Target::Lookout => rt.block_on(metrics::scrape(args.http)).ok(),
        Target::Signalk => None,
    };
    for (phase, samples) in rss_samples.iter_mut().enumerate().skip(1) {
        if phase == 2 {
            rt.block_on(async {
                for _ in 0..args.stalled {
                    let c = stalled_client(args.target, args.http, url.clone());
                    match tokio::time::timeout(Duration::from_secs(10), c).await {
                        Ok(Ok(ws)) => stalled.push(ws),
                        _ => stall_failed += 1,
                    }
                }
            });
            eprintln!(
                "bench-ws: {} stalled clients connected ({stall_failed} failed)",
                stalled.len()
            );
        }
        let sent0 = sent.load(Ordering::Relaxed);
        let cpu0 = args.server_pid.and_then(procfs::cpu_seconds);
        let own0 = procfs::cpu_seconds(std::process::id());
        let load = std::fs::read_to_string("/proc/loadavg")
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_default();
        let length = if phase == 2 {
            args.stalled_seconds
        } else {
            args.phase_seconds
        };
        sh.phase.store(phase as u8, Ordering::Relaxed);
        let start = Instant::now();
        while start.elapsed().as_secs_f64() < length {
            std::thread::sleep(Duration::from_secs(1));
            if let Some(r) = rss_mib(args.server_pid) {
                samples.push(r);
            }
        }
        sh.phase.store(0, Ordering::Relaxed);
        let secs = start.elapsed().as_secs_f64();
        let server_cpu = match (cpu0, args.server_pid.and_then(procfs::cpu_seconds)) {
            (Some(a), Some(b)) => Some(b - a),
            _ => None,
        };
        let own_cpu = match (own0, procfs::cpu_seconds(std::process::id())) {
            (Some(a), Some(b)) => Some(b - a),
            _ => None,
        };
        phase_info.push(PhaseInfo {
            secs,
            lines: sent.load(Ordering::Relaxed) - sent0,
            server_cpu,
            own_cpu,
            load,
        });
    }
    let rss_end = rss_mib(args.server_pid);
    let after_metrics = match args.target {
        Target::Lookout => rt.block_on(metrics::scrape(args.http)).ok(),
        Target::Signalk => None,
    };
    sh.stop.store(true, Ordering::Relaxed);
    drop(stalled);
    rt.block_on(async {
        for h in handles {
            let _ = tokio::time::timeout(Duration::from_secs(5), h).await;
        }
    });
    fast_rt.shutdown_background();
    let feed_result = feed.join();

    // Report.
    let name = match args.target {
        Target::Lookout => "lookout",
        Target::Signalk => "signalk",
    };
    let mut out = format!(
        "bench-ws {name}: {} viewport clients at {} Hz, {} all-area at {} Hz, {} stalled; feed {:.0} lines/s after a preload of {} lines{}\n",
        args.clients,
        args.client_hz,
        args.fast_clients,
        args.fast_hz,
        args.stalled,
        args.rate,
        args.preload_lines,
        vessels.map(|v| format!(" ({v} vessels in the picture)")).unwrap_or_default()
    );
    let mut json = serde_json::json!({"target": name, "clients": args.clients,
        "fast_clients": args.fast_clients, "stalled": args.stalled, "rate": args.rate,
        "vessels": vessels, "phases": []});
    for (pi, ph) in phase_info.iter().enumerate() {
        let phase = pi + 1;
        let secs = ph.secs;
        let feed_rate = ph.lines as f64 / secs;
        let delivered: u64 = (0..2)
            .map(|gi| sh.groups[gi][phase].vessels.load(Ordering::Relaxed))
            .sum();
        out += &format!(
            "phase {phase} ({}, {secs:.0} s, load average {} at the start, feed achieved {feed_rate:.0} lines/s):\n",
            ["", "baseline", "with stalled clients", "after the stalled clients"][phase],
            ph.load,
        );
        if let Some(c) = ph.server_cpu {
            out += &format!(
                "  server CPU {:.0}% of a core: {:.1} µs per line fed, {:.2} µs per vessel update delivered{}\n",
                c / secs * 100.0,
                c * 1e6 / ph.lines.max(1) as f64,
                c * 1e6 / delivered.max(1) as f64,
                ph.own_cpu
                    .map(|o| format!(" (bench-ws itself: {:.0}% of a core)", o / secs * 100.0))
                    .unwrap_or_default()
            );
        }
        let mut pj = Vec::new();
        for (gi, gname) in ["viewport", "all-area"].iter().enumerate() {
            let g = &sh.groups[gi][phase];
            let mut lat = std::mem::take(&mut *g.latency.lock().unwrap_or_else(|e| e.into_inner()));
            let msgs = g.messages.load(Ordering::Relaxed) as f64 / secs;
            let ups = g.updates.load(Ordering::Relaxed) as f64 / secs;
            let ves = g.vessels.load(Ordering::Relaxed) as f64 / secs;
            let mb = g.bytes.load(Ordering::Relaxed) as f64 / secs / 1e6;
            let p = lat.percentiles(&[50.0, 99.0]);
            out += &format!(
                "  {gname}: {ups:.0} updates/s ({msgs:.0} messages/s), {ves:.0} vessel updates/s, {mb:.1} MB/s; latency {}\n",
                lat.summary()
            );
            pj.push(serde_json::json!({"group": gname, "updates_per_s": ups,
                "messages_per_s": msgs,
                "vessel_updates_per_s": ves, "mb_per_s": mb,
                "p50_ms": p.as_ref().map(|v| v[0]), "p99_ms": p.as_ref().map(|v| v[1]),
                "samples": lat.len()}));
        }
        json["phases"].as_array_mut().expect("array").push(
            serde_json::json!({"phase": phase, "seconds": secs, "load_average": ph.load,
                "feed_lines_per_s": feed_rate, "server_cpu_s": ph.server_cpu,
                "bench_cpu_s": ph.own_cpu, "vessel_updates_delivered": delivered, "groups": pj}),
        );
    }
    let max = |v: &Vec<f64>| v.iter().cloned().fold(f64::NAN, f64::max);
    let f = |v: Option<f64>| v.map_or("?".into(), |v| format!("{v:.0}"));
    out += &format!(
        "server RSS MiB: start {}, after preload {}, with clients {}, max phase 1 {:.0}, max phase 2 {:.0}, max phase 3 {:.0}, end {}\n",
        f(rss_start),
        f(rss_preloaded),
        f(rss_clients),
        max(&rss_samples[1]),
        max(&rss_samples[2]),
        max(&rss_samples[3]),
        f(rss_end)
    );
    json["rss_mib"] = serde_json::json!({"start": rss_start, "preloaded": rss_preloaded,
        "clients": rss_clients, "phase1": rss_samples[1], "phase2": rss_samples[2],
        "phase3": rss_samples[3], "end": rss_end});
    if let (Some(a), Some(b)) = (&before_metrics, &after_metrics) {
        let d = |n: &str| b.get(n) - a.get(n);
        out += &format!(
            "server metrics over the three phases: stalled disconnects +{:.0}, overflow resnapshots +{:.0}, queue dropped +{:.0}, ws messages sent +{:.0}, ws MB sent +{:.1}\n",
            d("lookout_ws_stalled_disconnects"),
            d("lookout_ws_overflow_resnapshots"),
            d("lookout_queue_dropped"),
            d("lookout_ws_messages_sent"),
            d("lookout_ws_bytes_sent") / 1e6
        );
    }
    out += &format!(
        "clients: {} connected, {} failed, {} closed by the server while measured\n",
        sh.connected.load(Ordering::Relaxed),
        sh.failed.load(Ordering::Relaxed),
        sh.closed.load(Ordering::Relaxed)
    );
    for r in sh
        .close_reasons
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
    {
        out += &format!("  closed: {r}\n");
    }
    if let Ok(Err(e)) = feed_result {
        out += &format!("feeder error: {e}\n");
    }
    print!("{out}");
    if let Some(p) = &args.json_out {
        std::fs::write(p, serde_json::to_string_pretty(&json)?)?;
    }
    Ok(())
}
