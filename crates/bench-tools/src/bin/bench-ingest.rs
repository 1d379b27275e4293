//! `bench-ingest`: does `lookout serve` take a given line rate over UDP and
//! TCP with no loss while the picture is being queried?
//!
//! ```text
//! bench-ingest --recording busy.nmea --http 127.0.0.1:8091 \
//!     --udp 127.0.0.1:10191 --tcp 127.0.0.1:10192 --rate 200000 --seconds 10
//! ```
//!
//! 1. Loads `rate × seconds` lines of the recording into memory (cycling a
//!    short one).
//! 2. Scrapes `/metrics` (before).
//! 3. Sends the lines at `--rate` lines/s in total, split evenly between the
//!    transports given (`--udp`: many lines per datagram up to
//!    `--datagram-bytes`; `--tcp`: one connection, batched writes), each
//!    from its own OS thread, paced every ~0.5 ms. Each transport sends its
//!    own contiguous part of the recording, so multi-sentence messages stay
//!    whole.
//! 4. Meanwhile `--queriers` tasks GET `/api/vessels?bbox=…` (random boxes
//!    over the central Mediterranean) in a loop, timing each answer.
//! 5. When sending ends, waits for the server to drain (queue depth 0 and
//!    `decoder_lines` steady, at most 30 s), scrapes `/metrics` (after) and
//!    compares: lines sent per transport vs `lookout_source_lines{source}`,
//!    `lookout_source_dropped`, `lookout_queue_dropped`,
//!    `lookout_decoder_lines/messages/errors`, and the kernel's UDP
//!    `RcvbufErrors`. Prints a report; `--json-out` writes it as JSON.
//!
//! Loopback only; bounded by `--seconds` (and the 30 s drain wait).

use bench_tools::metrics::{scrape, Scrape};
use bench_tools::pace::Pacer;
use bench_tools::recording::Lines;
use bench_tools::stats::Samples;
use bench_tools::{http, procfs, require_loopback};
use clap::Parser;
use std::io::Write;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(
    about = "Send a recording over UDP/TCP to lookout serve at a set rate while querying; check for loss"
)]
struct Args {
    /// Recording (NMEA lines, TAG blocks kept unless --strip-tags).
    #[arg(long)]
    recording: PathBuf,
    /// The server's HTTP address (for /metrics and /api/vessels).
    #[arg(long, default_value = "127.0.0.1:8091")]
    http: SocketAddr,
    /// The server's `udp` source address.
    #[arg(long)]
    udp: Option<SocketAddr>,
    /// The server's `tcp_listener` source address.
    #[arg(long)]
    tcp: Option<SocketAddr>,
    /// Source names in the server config (for per-source metrics).
    #[arg(long, default_value = "bench-udp")]
    udp_source: String,
    #[arg(long, default_value = "bench-tcp")]
    tcp_source: String,
    /// Total lines per second over all transports.
    #[arg(long, default_value_t = 200_000.0)]
    rate: f64,
    /// How long to send.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Largest UDP datagram (lines are packed whole).
    #[arg(long, default_value_t = 8192)]
    datagram_bytes: usize,
    /// Concurrent /api/vessels query loops.
    #[arg(long, default_value_t = 2)]
    queriers: usize,
    /// Remove TAG blocks (the server then stamps receive time).
    #[arg(long)]
    strip_tags: bool,
    /// The server's PID, to report its CPU time and RSS.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Write the report as JSON here too.
    #[arg(long)]
    json_out: Option<PathBuf>,
}

struct Sent {
    lines: u64,
    messages: u64,
    datagrams: u64,
    bytes: u64,
    elapsed: Duration,
    error: Option<String>,
}

fn send_udp(
    lines: Arc<Lines>,
    range: (usize, usize),
    to: SocketAddr,
    rate: f64,
    max_dgram: usize,
) -> Sent {
    let mut sent = Sent {
        lines: 0,
        messages: 0,
        datagrams: 0,
        bytes: 0,
        elapsed: Duration::ZERO,
        error: None,
    };
    let sock = match UdpSocket::bind("127.0.0.1:0").and_then(|s| s.connect(to).map(|_| s)) {
        Ok(s) => s,
        Err(e) => {
            sent.error = Some(e.to_string());
            return sent;
        }
    };
    let total = (range.1 - range.0) as u64;
    let pacer = Pacer::new(rate);
    let mut dgram = Vec::with_capacity(max_dgram);
    let mut i = 0u64;
    while i < total {
        let due = pacer.due().min(total);
        if due <= i {
            Pacer::idle();
            continue;
        }
        while i < due {
            let idx = range.0 + i as usize;
            let l = lines.get(idx);
            if !dgram.is_empty() && dgram.len() + l.len() + 2 > max_dgram {
                if let Err(e) = sock.send(&dgram) {
                    sent.error.get_or_insert(e.to_string());
                }
                sent.datagrams += 1;
                sent.bytes += dgram.len() as u64;
                dgram.clear();
            }
            dgram.extend_from_slice(l);
            dgram.extend_from_slice(b"\r\n");
            sent.messages += lines.ends_message(idx) as u64;
            i += 1;
        }
        // Flush at every pacing step: datagrams are not held back.
        if !dgram.is_empty() {
            if let Err(e) = sock.send(&dgram) {
                sent.error.get_or_insert(e.to_string());
            }
            sent.datagrams += 1;
            sent.bytes += dgram.len() as u64;
            dgram.clear();
        }
    }
    sent.lines = i;
    sent.elapsed = pacer.elapsed();
    sent
}

fn send_tcp(lines: Arc<Lines>, range: (usize, usize), to: SocketAddr, rate: f64) -> Sent {
    let mut sent = Sent {
        lines: 0,
        messages: 0,
        datagrams: 0,
        bytes: 0,
        elapsed: Duration::ZERO,
        error: None,
    };
    let mut s = match TcpStream::connect(to) {
        Ok(s) => s,
        Err(e) => {
            sent.error = Some(e.to_string());
            return sent;
        }
    };
    let total = (range.1 - range.0) as u64;
    let pacer = Pacer::new(rate);
    let mut buf = Vec::with_capacity(1 << 20);
    let mut i = 0u64;
    while i < total {
        let due = pacer.due().min(total);
        if due <= i {
            Pacer::idle();
            continue;
        }
        while i < due {
            let idx = range.0 + i as usize;
            buf.extend_from_slice(lines.get(idx));
            buf.extend_from_slice(b"\r\n");
            sent.messages += lines.ends_message(idx) as u64;
            i += 1;
        }
        if let Err(e) = s.write_all(&buf) {
            sent.error = Some(e.to_string());
            break;
        }
        sent.bytes += buf.len() as u64;
        buf.clear();
    }
    let _ = s.flush();
    sent.lines = i;
    sent.elapsed = pacer.elapsed();
    // Close only after the server has read everything (it reads until EOF).
    let _ = s.shutdown(std::net::Shutdown::Write);
    sent
}

#[derive(Default)]
struct QueryStats {
    ok: u64,
    failed: u64,
    bytes: u64,
    features: u64,
    latency: Samples,
}

fn random_bbox() -> String {
    let w = 0.5 + fastrand::f64() * 2.5;
    let h = 0.5 + fastrand::f64() * 2.0;
    let lon = 10.0 + fastrand::f64() * (16.5 - 10.0 - w);
    let lat = 33.0 + fastrand::f64() * (38.0 - 33.0 - h);
    format!("{lon:.3},{lat:.3},{:.3},{:.3}", lon + w, lat + h)
}

async fn query_loop(addr: SocketAddr, stop: Arc<AtomicBool>) -> QueryStats {
    let mut st = QueryStats::default();
    while !stop.load(Ordering::Relaxed) {
        let path = format!("/api/vessels?bbox={}", random_bbox());
        let t = Instant::now();
        match http::get(addr, &path, Duration::from_secs(10)).await {
            Ok(r) if r.status == 200 => {
                st.ok += 1;
                st.bytes += r.body.len() as u64;
                st.features += bench_tools::timefmt::count(&r.body, b"\"Feature\"") as u64;
                st.latency.push(t.elapsed().as_millis() as i64);
            }
            _ => st.failed += 1,
        }
    }
    st
}

/// Wait until the server has taken everything in: queue empty and decoder
/// line count steady for a second (at most 30 s).
async fn settle(addr: SocketAddr) -> anyhow::Result<Scrape> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = scrape(addr).await?;
    let mut steady_since = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = scrape(addr).await?;
        let moving = now.get("lookout_decoder_lines") != last.get("lookout_decoder_lines")
            || now.sum("lookout_source_lines") != last.sum("lookout_source_lines")
            || now.get("lookout_queue_depth") > 0.0;
        if moving {
            steady_since = Instant::now();
        }
        last = now;
        if steady_since.elapsed() >= Duration::from_secs(1) || Instant::now() > deadline {
            return Ok(last);
        }
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    require_loopback(&args.http)?;
    for a in [args.udp, args.tcp].iter().flatten() {
        require_loopback(a)?;
    }
    let transports = args.udp.is_some() as usize + args.tcp.is_some() as usize;
    if transports == 0 {
        anyhow::bail!("give --udp and/or --tcp");
    }
    if args.seconds <= 0.0 || args.seconds > 600.0 || args.rate <= 0.0 || args.rate.is_nan() {
        anyhow::bail!("--seconds must be in (0, 600] and --rate positive");
    }
    let total = (args.rate * args.seconds) as usize;
    let t = Instant::now();
    let lines = Arc::new(Lines::load(&args.recording, total, args.strip_tags)?);
    eprintln!(
        "bench-ingest: {} lines loaded in {:.1} s; sending {total} lines at {:.0} lines/s over {} for {:.0} s",
        lines.len(),
        t.elapsed().as_secs_f64(),
        args.rate,
        [args.udp.map(|_| "udp"), args.tcp.map(|_| "tcp")]
            .iter()
            .flatten()
            .copied()
            .collect::<Vec<_>>()
            .join("+"),
        args.seconds
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let before = rt.block_on(scrape(args.http))?;
    let kernel_before = procfs::udp_rcvbuf_errors();
    let cpu_before = args.server_pid.and_then(procfs::cpu_seconds);

    let stop = Arc::new(AtomicBool::new(false));
    let queriers: Vec<_> = (0..args.queriers)
        .map(|_| rt.spawn(query_loop(args.http, stop.clone())))
        .collect();

    let per = total / transports;
    let rate = args.rate / transports as f64;
    let start = Instant::now();
    let mut senders = Vec::new();
    let mut next = 0usize;
    if let Some(to) = args.udp {
        let (l, r, d) = (lines.clone(), (next, next + per), args.datagram_bytes);
        next += per;
        senders.push((
            "udp",
            std::thread::spawn(move || send_udp(l, r, to, rate, d)),
        ));
    }
    if let Some(to) = args.tcp {
        let (l, r) = (lines.clone(), (next, next + per));
        senders.push(("tcp", std::thread::spawn(move || send_tcp(l, r, to, rate))));
    }
    let mut results = Vec::new();
    for (name, h) in senders {
        let s = h
            .join()
            .map_err(|_| anyhow::anyhow!("{name} sender panicked"))?;
        results.push((name, s));
    }
    let send_wall = start.elapsed();
    let after = rt.block_on(settle(args.http))?;
    let drain_wall = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    let mut q = QueryStats::default();
    for h in queriers {
        let s = rt.block_on(h)?;
        q.ok += s.ok;
        q.failed += s.failed;
        q.bytes += s.bytes;
        q.features += s.features;
        q.latency.extend(&s.latency);
    }
    let kernel_after = procfs::udp_rcvbuf_errors();
    let cpu_after = args.server_pid.and_then(procfs::cpu_seconds);
    let rss = args.server_pid.and_then(procfs::rss_kib);

    let d = |name: &str| after.get(name) - before.get(name);
    let ds = |name: &str| after.sum(name) - before.sum(name);
    let mut report = serde_json::Map::new();
    let mut out = String::new();
    let mut lost_total = 0i64;
    let mut sent_lines = 0u64;
    let mut sent_messages = 0u64;
    for (name, s) in &results {
        let src = if *name == "udp" {
            &args.udp_source
        } else {
            &args.tcp_source
        };
        let got = d(&format!("lookout_source_lines{{source=\"{src}\"}}"));
        let dropped = d(&format!("lookout_source_dropped{{source=\"{src}\"}}"));
        let lost = s.lines as i64 - got as i64;
        lost_total += lost.max(0);
        sent_lines += s.lines;
        sent_messages += s.messages;
        let achieved = s.lines as f64 / s.elapsed.as_secs_f64().max(1e-9);
        out += &format!(
            "{name}: sent {} lines ({} datagrams, {:.1} MB) in {:.2} s = {achieved:.0} lines/s; server counted {got:.0} (lost {lost}), source dropped {dropped:.0}{}\n",
            s.lines,
            s.datagrams,
            s.bytes as f64 / 1e6,
            s.elapsed.as_secs_f64(),
            s.error.as_ref().map(|e| format!("; send error: {e}")).unwrap_or_default()
        );
        report.insert(
            name.to_string(),
            serde_json::json!({"sent": s.lines, "received": got, "lost": lost,
                "source_dropped": dropped, "achieved_lines_per_s": achieved,
                "seconds": s.elapsed.as_secs_f64(), "error": s.error}),
        );
    }
    let queue_dropped = d("lookout_queue_dropped");
    let dec_lines = d("lookout_decoder_lines");
    let dec_msgs = d("lookout_decoder_messages");
    let dec_errs = d("lookout_decoder_errors");
    let kernel = match (kernel_before, kernel_after) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let offered = sent_lines as f64 / send_wall.as_secs_f64();
    let taken = dec_lines / drain_wall.as_secs_f64();
    out += &format!(
        "server: decoder took {dec_lines:.0} lines ({dec_msgs:.0} messages, {dec_errs:.0} errors; ~{sent_messages} messages expected), queue dropped {queue_dropped:.0}, all sources dropped {:.0}, kernel UDP RcvbufErrors +{}\n\
         rate: offered {offered:.0} lines/s over {:.2} s; decoded {taken:.0} lines/s including the drain ({:.2} s in all)\n",
        ds("lookout_source_dropped"),
        kernel.map_or("?".into(), |k| k.to_string()),
        send_wall.as_secs_f64(),
        drain_wall.as_secs_f64()
    );
    if let (Some(a), Some(b)) = (cpu_before, cpu_after) {
        out += &format!(
            "server CPU: {:.1} s over {:.1} s wall ({:.0}% of one core); RSS {} MiB\n",
            b - a,
            drain_wall.as_secs_f64(),
            100.0 * (b - a) / drain_wall.as_secs_f64(),
            rss.unwrap_or(0) / 1024
        );
    }
    out += &format!(
        "queries: {} /api/vessels answered ({} failed), {:.1} per s, {:.0} features each on average, latency {}\n",
        q.ok,
        q.failed,
        q.ok as f64 / drain_wall.as_secs_f64(),
        q.features as f64 / q.ok.max(1) as f64,
        q.latency.summary()
    );
    let no_loss = lost_total == 0 && queue_dropped == 0.0 && ds("lookout_source_dropped") == 0.0;
    out += &format!(
        "verdict: {} at {:.0} lines/s offered\n",
        if no_loss { "NO LOSS" } else { "LOSS" },
        offered
    );
    print!("{out}");
    if let Some(p) = &args.json_out {
        let lat = q.latency.percentiles(&[50.0, 99.0]);
        report.insert(
            "server".into(),
            serde_json::json!({"decoder_lines": dec_lines, "decoder_messages": dec_msgs,
                "decoder_errors": dec_errs, "queue_dropped": queue_dropped,
                "kernel_udp_rcvbuf_errors": kernel, "offered_lines_per_s": offered,
                "no_loss": no_loss}),
        );
        report.insert(
            "queries".into(),
            serde_json::json!({"ok": q.ok, "failed": q.failed,
                "p50_ms": lat.as_ref().map(|v| v[0]), "p99_ms": lat.as_ref().map(|v| v[1])}),
        );
        std::fs::write(p, serde_json::to_string_pretty(&report)?)?;
    }
    Ok(())
}
