//! Shared helpers of the integration tests: alerts, temporary paths, and
//! bounded waits (no test relies on a sleep being long enough).

#![allow(dead_code)]

use alerts::{Alert, AlertKind, AlertState, Severity};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// 2026-11-28T06:00:00Z
pub const T0: i64 = 1_795_845_600_000;

/// Alert change number `n` (ids `a-00000n`, one minute apart).
pub fn alert(n: u32, kind: AlertKind, state: AlertState) -> Alert {
    Alert {
        id: format!("a-{n:06}"),
        kind,
        mmsi: 247_000_000 + n,
        other_mmsi: (kind == AlertKind::Encounter).then_some(247_999_999),
        zone: matches!(kind, AlertKind::ZoneEnter | AlertKind::ZoneExit)
            .then(|| Arc::from("sar-malta")),
        time: T0 + n as i64 * 60_000,
        lat: Some(35.0 + n as f64 / 1000.0),
        lon: Some(12.5 + n as f64 / 1000.0),
        severity: Severity::Warning,
        message: format!("alert {n}: vessel 2470000{n:02} <needs> attention & more"),
        state,
        raised_at: T0,
        cleared_at: (state == AlertState::Cleared).then_some(T0 + n as i64 * 60_000),
        acknowledged_by: None,
        acknowledged_at: None,
        note: None,
    }
}

/// A mix of kinds and states, as an engine would produce them.
pub fn alerts(from: u32, to: u32) -> Vec<Alert> {
    let kinds = [
        AlertKind::DistressBeacon,
        AlertKind::ZoneEnter,
        AlertKind::Loitering,
        AlertKind::Encounter,
    ];
    let states = [
        AlertState::Raised,
        AlertState::Updated,
        AlertState::Acknowledged,
        AlertState::Cleared,
    ];
    (from..=to)
        .map(|n| {
            alert(
                n,
                kinds[n as usize % kinds.len()],
                states[(n as usize / 3) % states.len()],
            )
        })
        .collect()
}

/// A fresh path in the temporary folder (any earlier file removed).
pub fn tmp(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("alert-sinks-it-{}-{name}", std::process::id()));
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", p.display()));
    }
    p
}

/// Poll `f` every 10 ms until it holds; panic after `secs` seconds.
pub async fn wait_until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let end = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !f() {
        if tokio::time::Instant::now() > end {
            panic!("timed out after {secs} s waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
