//! Criterion measurement of the benchmark thread's CPU time (Linux
//! `/proc/thread-self/schedstat`), so that figures mean "on one core" even
//! on a machine shared with builds: wall time counts the time the thread
//! waited for a core, CPU time does not. Falls back to wall time where the
//! file is missing.

#![allow(dead_code)]

use std::time::Instant;

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::Throughput;

/// Nanoseconds of CPU time this thread has used.
pub fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or_else(|| {
            thread_local!(static T0: Instant = Instant::now());
            T0.with(|t| t.elapsed().as_nanos() as u64)
        })
}

/// Thread CPU time, in nanoseconds.
pub struct CpuTime;

impl Measurement for CpuTime {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns().saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuFormatter
    }
}

struct CpuFormatter;

impl ValueFormatter for CpuFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (div, unit) = if typical < 1e3 {
            (1.0, "ns cpu")
        } else if typical < 1e6 {
            (1e3, "µs cpu")
        } else if typical < 1e9 {
            (1e6, "ms cpu")
        } else {
            (1e9, "s cpu")
        };
        values.iter_mut().for_each(|v| *v /= div);
        unit
    }

    fn scale_throughputs(&self, typical: f64, t: &Throughput, values: &mut [f64]) -> &'static str {
        let per = match t {
            Throughput::Elements(n) | Throughput::Bytes(n) | Throughput::BytesDecimal(n) => {
                *n as f64
            }
        };
        // elements per CPU-second
        let typical_rate = per * 1e9 / typical;
        let (div, unit) = if typical_rate >= 1e6 {
            (1e6, "Melem/cpu-s")
        } else if typical_rate >= 1e3 {
            (1e3, "Kelem/cpu-s")
        } else {
            (1.0, "elem/cpu-s")
        };
        values.iter_mut().for_each(|v| *v = per * 1e9 / *v / div);
        unit
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}
