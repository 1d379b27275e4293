//! Criterion benchmarks of the picture: position updates per second with
//! 10 k, 100 k and 1 M vessels, with the shipped zones and with 10 000
//! random zones (R-tree and zone membership included, track history on,
//! events drained); a viewport query returning about 10 000 vessels and a
//! k = 10 nearest query among 1 M vessels.
//!
//! `cargo bench -p spatial-index --bench picture`; `SI_SIZES=10000,100000`
//! limits the fleet sizes and `SI_ZONES=shipped` (or `10k`) the zone sets.
//! Memory per vessel: `--bench memory`.
//!
//! Times are the benchmark thread's CPU time (see `support/cputime.rs`):
//! the development machines have two cores shared with builds, and wall
//! time would count the time spent waiting for a core.

#[path = "support/mod.rs"]
mod support;

#[path = "support/cputime.rs"]
mod cputime;

use std::time::Duration;

use cputime::CpuTime;
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use spatial_index::{GeoBox, Picture, PictureConfig};
use support::*;

const BATCH: u64 = 100_000;

fn sizes() -> Vec<usize> {
    std::env::var("SI_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000, 1_000_000])
}

/// A box centred on (38°N, 15°E) whose query returns about `target`
/// vessels (found by bisection on its size).
fn viewport_for(p: &Picture, target: usize) -> (GeoBox, usize) {
    let (mut lo, mut hi) = (0.01f64, 10.0f64);
    let mut best = (GeoBox::WORLD, 0);
    for _ in 0..40 {
        let half = (lo + hi) / 2.0;
        let b = GeoBox::new(
            15.0 - half,
            38.0 - half * 0.75,
            15.0 + half,
            38.0 + half * 0.75,
        )
        .unwrap();
        let n = p.in_boxes(&[b]).len();
        best = (b, n);
        if n.abs_diff(target) * 50 < target {
            break;
        }
        if n < target {
            lo = half;
        } else {
            hi = half;
        }
    }
    best
}

fn updates(c: &mut Criterion<CpuTime>) {
    let only = std::env::var("SI_ZONES").unwrap_or_default();
    for (zname, random) in [("shipped_zones", false), ("10k_random_zones", true)] {
        if !only.is_empty() && !zname.starts_with(&only) {
            continue;
        }
        let mut g = c.benchmark_group(format!("updates/{zname}"));
        g.sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(4))
            .throughput(Throughput::Elements(BATCH));
        for n in sizes() {
            let zones = if random {
                random_zones(10_000, 7)
            } else {
                shipped_zones()
            };
            let mut fleet = Fleet::new(n, 11);
            let mut p = populate(&mut fleet, PictureConfig::default(), zones, true);
            g.bench_function(BenchmarkId::from_parameter(n), |b| {
                b.iter(|| black_box(run_updates(&mut p, &mut fleet, BATCH)))
            });
            if !random && n == 1_000_000 {
                drop(g);
                queries(c, &p);
                g = c.benchmark_group(format!("updates/{zname}"));
                g.sample_size(10)
                    .warm_up_time(Duration::from_secs(1))
                    .measurement_time(Duration::from_secs(4))
                    .throughput(Throughput::Elements(BATCH));
            }
        }
        g.finish();
    }
}

fn queries(c: &mut Criterion<CpuTime>, p: &Picture) {
    let mut g = c.benchmark_group(format!("query_{}_vessels", p.len()));
    g.sample_size(30).measurement_time(Duration::from_secs(4));
    let (vp, found) = viewport_for(p, 10_000);
    eprintln!(
        "viewport {:.3},{:.3} .. {:.3},{:.3} returns {found} vessels",
        vp.west, vp.south, vp.east, vp.north
    );
    g.bench_function(format!("viewport_{found}"), |b| {
        b.iter(|| black_box(p.in_boxes(&[vp]).len()))
    });
    let mut rng = Rng(5);
    let points: Vec<(f64, f64)> = (0..1024)
        .map(|_| (rng.range(31.0, 45.0), rng.range(-5.0, 35.0)))
        .collect();
    let mut k = 0usize;
    g.bench_function("nearest_k10", |b| {
        b.iter(|| {
            k = (k + 1) & 1023;
            let (lat, lon) = points[k];
            black_box(p.nearest(lat, lon, 10).len())
        })
    });
    g.bench_function("radius_10nm", |b| {
        b.iter(|| {
            k = (k + 1) & 1023;
            let (lat, lon) = points[k];
            black_box(p.within_radius(lat, lon, 10.0).len())
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(CpuTime);
    targets = updates
}
criterion_main!(benches);
