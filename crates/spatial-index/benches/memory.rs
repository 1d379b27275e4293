//! Memory per vessel and update cost from 10 k to 1 M vessels, measured
//! with a counting global allocator.
//!
//! `cargo bench -p spatial-index --bench memory` (add `-- quick` for
//! 10 k and 100 k only).

#[path = "support/mod.rs"]
mod support;

#[path = "support/cputime.rs"]
mod cputime;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;

use spatial_index::track::TrackConfig;
use spatial_index::PictureConfig;
use support::*;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        System.dealloc(p, l)
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        System.alloc_zeroed(l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        System.realloc(p, l, new)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

fn profile(n: usize, random: bool, tracks: bool) {
    let zones = if random {
        random_zones(10_000, 7)
    } else {
        shipped_zones()
    };
    let mut cfg = PictureConfig::default();
    if !tracks {
        cfg.track.max_points = 0;
    }
    let mut fleet = Fleet::new(n, 11);
    let mut p = populate(&mut fleet, cfg, zones, false);
    let count = std::env::var("SI_COUNT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5_000_000);
    let start = cputime::thread_cpu_ns();
    std::hint::black_box(run_updates(&mut p, &mut fleet, count));
    let secs = (cputime::thread_cpu_ns() - start) as f64 / 1e9;
    println!(
        "{n} vessels: {:.2} M updates per CPU-second",
        count as f64 / secs / 1e6
    );
}

/// R-tree alone: cost of a forced move and of a viewport of ~10k.
fn tree(n: usize) {
    use spatial_index::VesselIndex;
    let mut rng = Rng(3);
    let mut idx = VesselIndex::new(0.05);
    let mut pts: Vec<(f64, f64)> = (0..n)
        .map(|_| (rng.range(LAT.0, LAT.1), rng.range(LON.0, LON.1)))
        .collect();
    let t = Instant::now();
    let mut boxes = idx.rebuild(
        &pts.iter()
            .enumerate()
            .map(|(i, p)| (i as u32, p.0, p.1))
            .collect::<Vec<_>>(),
    );
    println!("bulk load {n}: {:.0} ms", t.elapsed().as_secs_f64() * 1e3);
    let moves = 1_000_000;
    let t = Instant::now();
    for _ in 0..moves {
        let i = (rng.next_u64() % n as u64) as usize;
        let p = &mut pts[i];
        p.0 = (p.0 + 0.06).min(LAT.1);
        boxes[i] = idx.update(i as u32, boxes[i], p.0, p.1);
    }
    println!(
        "forced move: {:.2} us",
        t.elapsed().as_secs_f64() * 1e6 / moves as f64
    );
    let t = Instant::now();
    let mut c = 0;
    for _ in 0..100 {
        idx.for_each_in_rect([13.5, 36.9, 16.5, 39.1], |_| c += 1);
    }
    println!(
        "viewport candidates {}: {:.0} us",
        c / 100,
        t.elapsed().as_secs_f64() * 1e6 / 100.0
    );
}

/// Zone index alone: membership test and safe box at random points.
fn zones_probe() {
    let z = random_zones(10_000, 7);
    let mut rng = Rng(9);
    let pts: Vec<(f64, f64)> = (0..1_000_000)
        .map(|_| (rng.range(LAT.0, LAT.1), rng.range(LON.0, LON.1)))
        .collect();
    let mut out = Vec::new();
    let t = Instant::now();
    let mut n = 0;
    for &(lat, lon) in &pts {
        z.zones_at(lat, lon, &mut out);
        n += out.len();
    }
    println!(
        "zones_at: {:.2} us (avg {:.2} zones)",
        t.elapsed().as_secs_f64(),
        n as f64 / 1e6
    );
    let t = Instant::now();
    let mut w = 0.0;
    for &(lat, lon) in &pts {
        let b = z.safe_box(lat, lon);
        if b[2].is_finite() {
            w += b[2] - b[0];
        }
    }
    println!(
        "safe_box: {:.2} us (avg width {:.4})",
        t.elapsed().as_secs_f64(),
        w / 1e6
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "zones") {
        zones_probe();
        return;
    }
    if args.iter().any(|a| a == "tree") {
        tree(1_000_000);
        return;
    }
    if let Some(pos) = args.iter().position(|a| a == "profile") {
        let n = args
            .get(pos + 1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(1_000_000);
        profile(
            n,
            args.iter().any(|a| a == "random"),
            !args.iter().any(|a| a == "notrack"),
        );
        return;
    }
    let quick = std::env::args().any(|a| a == "quick");
    let sizes: &[usize] = if quick {
        &[10_000, 100_000]
    } else {
        &[10_000, 100_000, 1_000_000]
    };
    println!("| vessels | zones | bytes/vessel (no track) | bytes/vessel (track, 2 h of reports) | updates per CPU-second, tracks off | R-tree moves per 1000 updates | zone checks per 1000 updates |");
    println!("|---:|---|---:|---:|---:|---:|---:|");
    for (zname, zones) in [
        ("shipped", shipped_zones as fn() -> _),
        ("10k random", || random_zones(10_000, 7)),
    ] {
        for &n in sizes {
            let zones = zones();
            // Memory without track history: zones excluded; the event
            // sink (bounded, not per vessel) included as it stands after
            // populating.
            let before = live();
            let cfg = PictureConfig {
                track: TrackConfig {
                    max_points: 0,
                    ..TrackConfig::default()
                },
                ..PictureConfig::default()
            };
            let mut fleet = Fleet::new(n, 11);
            let fleet_bytes = live() - before;
            let before = live();
            let mut p = populate(&mut fleet, cfg, zones, true);
            let bytes = live() - before;
            // Update rate on this picture.
            let count = (n as u64 * 3).max(1_000_000);
            let moves0 = p.tree_moves();
            let checks0 = p.stats().zone_checks;
            let start = cputime::thread_cpu_ns();
            std::hint::black_box(run_updates(&mut p, &mut fleet, count));
            let secs = (cputime::thread_cpu_ns() - start) as f64 / 1e9;
            let moves = (p.tree_moves() - moves0) as f64 * 1000.0 / count as f64;
            let checks = (p.stats().zone_checks - checks0) as f64 * 1000.0 / count as f64;
            let grown = live() - before;
            drop(p);
            // With track history: 2 h of 10 s reports thinned to 720
            // points, measured on a smaller picture and scaled per vessel.
            let m = n.min(20_000);
            let mut small = Fleet::new(m, 13);
            let before = live();
            let mut p = populate(&mut small, PictureConfig::default(), shipped_zones(), true);
            run_updates(&mut p, &mut small, m as u64 * 720);
            let tracked = (live() - before) as f64 / m as f64;
            drop(p);
            let _ = fleet_bytes;
            println!(
                "| {n} | {zname} | {:.0} (after updates: {:.0}) | {:.0} | {:.2} M | {:.1} | {:.1} |",
                bytes as f64 / n as f64,
                grown as f64 / n as f64,
                tracked,
                count as f64 / secs / 1e6,
                moves,
                checks
            );
        }
    }
}
