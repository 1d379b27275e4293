//! Issue 14, item 5: with the archive on a full disk the recorder logged
//! one line and nothing in `/metrics`, `/api/status` or `/api/sources`
//! showed it. Its state, lines written and lost, and the last error are
//! now data ([`Recorder::snapshot`]), and recording resumes by itself once
//! the disk works again.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use ingest::clock::ManualClock;
use ingest::line::{Line, SourceId};
use ingest::queue::Overload;
use ingest::recorder::{Recorder, RecorderConfig, RecorderState};
use ingest::status::{SourceRegistry, SourceSpec};

/// 2026-11-28T00:05:00Z
const T: i64 = 1_795_824_300_000;

fn lines(first: usize, n: usize) -> Vec<Line> {
    (first..first + n)
        .map(|i| Line {
            source: SourceId(0),
            received_ms: T + i as i64,
            bytes: numbered_sentence(i).into_bytes(),
        })
        .collect()
}

fn metric(s: &ingest::recorder::RecorderSnapshot, name: &str) -> u64 {
    s.metrics().iter().find(|m| m.name == name).unwrap().value
}

fn run(tag: &str, break_it: impl Fn(&Path, &Path), fix_it: impl Fn(&Path, &Path)) {
    let base = tempdir(tag);
    let dir = base.join("archive");
    let file = dir.join("lookout-20261128T0000Z.nmea");
    let registry = Arc::new(SourceRegistry::default());
    registry
        .register(SourceSpec {
            name: "feed".into(),
            kind: "test",
            own_asset: None,
            overload: Overload::DropOldest,
        })
        .unwrap();
    let mut cfg = RecorderConfig::new(&dir);
    cfg.retry_ms = 30;
    let clock = Arc::new(ManualClock::new(T));
    break_it(&dir, &file);
    let rec = Recorder::start(cfg, registry, clock).unwrap();
    assert_eq!(rec.snapshot().state, RecorderState::Idle);

    rec.record_batch(&lines(0, 40));
    assert!(rec.sync(TIMEOUT));
    let s = rec.snapshot();
    assert_eq!(s.state, RecorderState::Failing, "{s:?}");
    assert_eq!((s.recorded_lines, s.lost_lines), (0, 40));
    assert_eq!(s.lost_lines_in_episode, 40);
    assert_eq!(s.failing_since_ms, Some(T));
    assert_eq!(s.last_error_ms, Some(T));
    assert!(s.last_error.as_deref().is_some_and(|e| !e.is_empty()));
    // As data for /api/status and /metrics.
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["state"], "failing");
    assert_eq!(json["lost_lines"], 40);
    assert!(json["last_error"].is_string());
    assert_eq!(metric(&s, "recorder_failing"), 1);
    assert_eq!(metric(&s, "recorder_lost_lines"), 40);

    // Space again: the recorder notices by itself and resumes.
    fix_it(&dir, &file);
    let t0 = Instant::now();
    let mut next = 40;
    while rec.snapshot().state != RecorderState::Recording {
        assert!(t0.elapsed() < TIMEOUT, "recording did not resume");
        std::thread::sleep(Duration::from_millis(35));
        rec.record_batch(&lines(next, 1));
        next += 1;
        assert!(rec.sync(TIMEOUT));
    }
    let lost = rec.snapshot().lost_lines;
    rec.record_batch(&lines(next, 10));
    next += 10;
    assert!(rec.sync(TIMEOUT));
    let s = rec.snapshot();
    assert_eq!(s.state, RecorderState::Recording);
    assert_eq!(s.lost_lines, lost, "nothing lost after resuming");
    assert_eq!(s.recorded_lines + s.lost_lines, next as u64);
    assert_eq!((s.failing_since_ms, s.lost_lines_in_episode), (None, 0));
    assert!(s.last_error.is_some(), "the last error stays visible");
    assert_eq!(metric(&s, "recorder_failing"), 0);
    assert_eq!(metric(&s, "recorder_error_episodes"), 1);
    let status = rec.status();
    rec.close();
    assert_eq!(status.snapshot().state, RecorderState::Stopped);
    std::fs::remove_dir_all(base).ok();
}

#[test]
fn an_unwritable_archive_shows_in_the_snapshot_and_recording_resumes() {
    // Root writes anywhere: the directory path is taken by a file.
    run(
        "status-unwritable",
        |dir, _| std::fs::write(dir, b"not a directory").unwrap(),
        |dir, _| std::fs::remove_file(dir).unwrap(),
    );
}

#[test]
fn a_full_disk_shows_in_the_snapshot_and_recording_resumes() {
    if !Path::new("/dev/full").exists() {
        eprintln!("no /dev/full here: skipping the full-disk case");
        return;
    }
    // The current hour's file is /dev/full: every write fails (ENOSPC).
    run(
        "status-diskfull",
        |dir, file| {
            std::fs::create_dir_all(dir).unwrap();
            std::os::unix::fs::symlink("/dev/full", file).unwrap();
        },
        |_, file| std::fs::remove_file(file).unwrap(),
    );
}
