//! The bus path under load: raw lines published as an ingest node does,
//! through a running `lookout serve --role core`, to what an edge
//! receives (`lookout.picture.changes`). Run by `scripts/bench-bus.sh`,
//! which starts nats-server, the core and an edge.
//!
//! ```text
//! BUS_URL=nats://127.0.0.1:4222 RECORDING=sim.nmea RATE=0 BATCH=100 \
//!     cargo bench -p bus --bench bus_path
//! ```
//! RATE is lines per second (0: as fast as JetStream takes them). Each raw
//! batch's publish time is kept by its stream sequence (from JetStream's
//! ack); each picture batch says up to which sequence the core had applied
//! (`through`). Latency = arrival of the first picture batch covering a raw
//! batch − that batch's publish: line received at ingest → change at the
//! edge. Throughput = lines / (last covering picture batch − first publish).

use bus::payload::{PictureBatch, RawBatch, RawLine};
use bus::{subjects, Bus, BusConfig};
use futures_util::StreamExt;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Ok(url) = std::env::var("BUS_URL") else {
        eprintln!("bus_path: set BUS_URL and RECORDING (scripts/bench-bus.sh does); skipping");
        return;
    };
    let recording = std::env::var("RECORDING").expect("RECORDING");
    let rate: f64 = env("RATE", 0.0);
    let batch_lines: usize = env("BATCH", 100);
    let text = std::fs::read_to_string(&recording).expect("recording");
    let lines: Vec<&str> = text.lines().collect();
    let cfg = BusConfig {
        url: Some(url),
        node: "bench".into(),
        ..Default::default()
    };
    let bus = Bus::connect(&cfg, Duration::from_secs(10)).await.unwrap();
    bus.raw_stream(&cfg).await.unwrap();

    // What an edge receives: (arrival, through).
    let events: Arc<Mutex<Vec<(Instant, u64)>>> = Arc::default();
    let mut sub = bus
        .client
        .subscribe(subjects::PICTURE_CHANGES)
        .await
        .unwrap();
    let ev = events.clone();
    tokio::spawn(async move {
        while let Some(m) = sub.next().await {
            if let Ok(b) = serde_json::from_slice::<PictureBatch<serde::de::IgnoredAny>>(&m.payload)
            {
                ev.lock().unwrap().push((Instant::now(), b.through));
            }
        }
    });

    let start = Instant::now();
    let mut published: Vec<(u64, Instant, usize)> = Vec::new();
    let mut in_flight: VecDeque<(
        Instant,
        usize,
        async_nats::jetstream::context::PublishAckFuture,
    )> = VecDeque::new();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    for (i, chunk) in lines.chunks(batch_lines).enumerate() {
        if rate > 0.0 {
            let due = start + Duration::from_secs_f64((i * batch_lines) as f64 / rate);
            tokio::time::sleep_until(due.into()).await;
        }
        let b = RawBatch {
            node: "bench".into(),
            source: "bench".into(),
            own_asset: None,
            live: false,
            lines: chunk
                .iter()
                .map(|l| RawLine {
                    received_ms: now_ms,
                    line: l.to_string(),
                })
                .collect(),
        };
        let t = Instant::now();
        let ack = bus
            .js
            .publish(
                subjects::raw("bench"),
                serde_json::to_vec(&b).unwrap().into(),
            )
            .await
            .unwrap();
        in_flight.push_back((t, chunk.len(), ack));
        while in_flight.len() >= 256 || (rate > 0.0 && in_flight.len() > 1) {
            let (t, n, ack) = in_flight.pop_front().unwrap();
            published.push((ack.await.unwrap().sequence, t, n));
        }
    }
    while let Some((t, n, ack)) = in_flight.pop_front() {
        published.push((ack.await.unwrap().sequence, t, n));
    }
    let publish_done = start.elapsed();
    let last_seq = published.iter().map(|p| p.0).max().unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(300);
    while !events.lock().unwrap().iter().any(|e| e.1 >= last_seq) {
        assert!(Instant::now() < deadline, "the core never caught up");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let events = events.lock().unwrap().clone();
    let mut latencies: Vec<f64> = Vec::with_capacity(published.len());
    let mut j = 0;
    published.sort_by_key(|p| p.0);
    for (seq, t, _) in &published {
        while j < events.len() && events[j].1 < *seq {
            j += 1;
        }
        // Events arrive in order and `through` only grows.
        if let Some(e) = events[j..].iter().find(|e| e.1 >= *seq) {
            latencies.push(e.0.saturating_duration_since(*t).as_secs_f64() * 1000.0);
        }
    }
    latencies.sort_by(f64::total_cmp);
    let end = events.iter().find(|e| e.1 >= last_seq).unwrap().0;
    let total: usize = published.iter().map(|p| p.2).sum();
    let elapsed = end.duration_since(start).as_secs_f64();
    println!(
        "bus_path: {total} lines in {} batches of {batch_lines}, rate {}: published in {:.2} s, at the edge after {elapsed:.2} s = {:.0} lines/s; latency ingest→edge p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        published.len(),
        if rate > 0.0 { format!("{rate:.0} lines/s") } else { "max".into() },
        publish_done.as_secs_f64(),
        total as f64 / elapsed,
        pct(&latencies, 0.5),
        pct(&latencies, 0.99),
        latencies.last().copied().unwrap_or(f64::NAN),
    );
}
