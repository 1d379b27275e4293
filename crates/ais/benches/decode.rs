//! Decoder throughput over the bundled real recordings.
//!
//! Corpus: every file in `fixtures/ais/` concatenated and repeated to about
//! 200,000 lines (the measuring rule). Reported per line, so
//! criterion's "thrpt" in elements/s is lines/s.
//!
//! Run: `cargo bench -p lookout-ais --bench decode`
//!
//! `naive_dearmour` is the floor the issue quotes: line split, checksum and
//! 6-bit de-armouring only, no fields, no reassembly.
//!
//! Times are the benchmark thread's CPU time (from
//! `/proc/thread-self/schedstat`), not wall time, so the figures mean "on
//! one core" even when the machine is shared; on an idle machine the two
//! agree.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use lookout_ais::bits::BitBuf;
use lookout_ais::json::{write_gpsd_json, JsonOptions};
use lookout_ais::nmea::checksum;
use lookout_ais::{Decoder, DecoderOptions};
use std::time::Duration;

fn corpus() -> Vec<u8> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/ais");
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e != "md"))
        .collect();
    names.sort();
    let mut one = Vec::new();
    for n in names {
        one.extend_from_slice(&std::fs::read(n).unwrap());
        if one.last() != Some(&b'\n') {
            one.push(b'\n');
        }
    }
    let lines = one.iter().filter(|&&c| c == b'\n').count();
    let reps = 200_000usize.div_ceil(lines);
    one.repeat(reps)
}

/// Lines without their terminator, split with memchr as `lookout decode`
/// does.
fn lines_of(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', data).map(move |nl| {
        let line = &data[start..nl];
        start = nl + 1;
        line
    })
}

/// CPU time this thread has run, from the kernel's scheduler statistics.
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map(Duration::from_nanos)
        .unwrap_or_default()
}

/// Run `f` `iters` times and return the CPU time it took.
fn cpu_time(iters: u64, mut f: impl FnMut()) -> Duration {
    let t0 = thread_cpu();
    for _ in 0..iters {
        f();
    }
    thread_cpu() - t0
}

fn bench(c: &mut Criterion) {
    let data = corpus();
    let lines = data.iter().filter(|&&c| c == b'\n').count() as u64;
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(lines));
    g.sample_size(20);

    g.bench_function("lookout_structs", |b| {
        b.iter_custom(|iters| {
            cpu_time(iters, || {
                let mut d = Decoder::new(DecoderOptions::default());
                let mut n = 0u64;
                for line in lines_of(&data) {
                    let _ = d.decode_line(line, |m| {
                        n += black_box(&m).message.mmsi as u64 & 1;
                    });
                }
                black_box(n);
            })
        })
    });

    g.bench_function("lookout_gpsd_json", |b| {
        let mut out = Vec::with_capacity(1 << 20);
        let opts = JsonOptions::default();
        b.iter_custom(|iters| {
            cpu_time(iters, || {
                let mut d = Decoder::new(DecoderOptions::default());
                for line in lines_of(&data) {
                    let _ = d.decode_line(line, |m| {
                        write_gpsd_json(&mut out, &m, &opts);
                        out.push(b'\n');
                    });
                    if out.len() > 1 << 20 {
                        black_box(&out);
                        out.clear();
                    }
                }
            })
        })
    });

    g.bench_function("naive_dearmour", |b| {
        let mut bits = BitBuf::new();
        b.iter_custom(|iters| {
            cpu_time(iters, || {
                let mut ok = 0u64;
                for line in lines_of(&data) {
                    let Some(bang) = line.iter().position(|&c| c == b'!') else {
                        continue;
                    };
                    let Some(star) = line.iter().rposition(|&c| c == b'*') else {
                        continue;
                    };
                    if star <= bang {
                        continue;
                    }
                    let body = &line[bang + 1..star];
                    black_box(checksum(body));
                    let payload = body.split(|&c| c == b',').nth(5).unwrap_or(b"");
                    bits.clear();
                    if bits.push_armored(payload).is_ok() {
                        bits.finish(0);
                        ok += bits.u(0, 6);
                    }
                }
                black_box(ok);
            })
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
