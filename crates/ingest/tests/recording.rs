//! The recorder and the archive reader: round trip through rotation and
//! compression, crash safety, unwritable directory and full disk, replay.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use ingest::archive_reader::ArchiveReader;
use ingest::clock::ManualClock;
use ingest::line::{Line, SourceId};
use ingest::queue::Overload;
use ingest::recorder::{Recorder, RecorderConfig};
use ingest::router::{Event, Router};
use ingest::status::{SourceRegistry, SourceSpec};

/// 2026-11-28T00:00:00Z
const DAY: i64 = 1_795_824_000_000;
const HOUR: i64 = 3_600_000;

fn registry(names: &[&str]) -> Arc<SourceRegistry> {
    let r = Arc::new(SourceRegistry::default());
    for n in names {
        r.register(SourceSpec {
            name: n.to_string(),
            kind: "test",
            own_asset: None,
            overload: Overload::DropOldest,
        })
        .unwrap();
    }
    r
}

fn config(dir: &Path) -> RecorderConfig {
    let mut c = RecorderConfig::new(dir);
    c.retry_ms = 30;
    c
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

/// A realistic mix: untagged AIS, national-network lines with their own
/// TAG blocks, a multi-sentence message, GNSS.
fn mixed_lines(n: usize, start_ms: i64, step_ms: i64) -> Vec<Line> {
    let kyst = [
        r"\s:2573238,c:1733782034*0A\!BSVDM,1,1,,A,13o4g`00000I2ENRH4g83S0L088C,0*3F",
        r"\s:2573210,c:1733782034*00\!BSVDM,1,1,,B,13mOO:9000PI6p`QrbwW646L2D1j,0*6B",
    ];
    (0..n)
        .map(|i| {
            let (source, text) = match i % 5 {
                0 | 1 => (0, numbered_sentence(i)),
                2 => (1, kyst[i % 2].to_string()),
                3 => (
                    2,
                    "$GPRMC,200255.00,A,5310.81257,N,00525.70577,E,0.021,,160414,,,D*7E".into(),
                ),
                _ => (0, "!AIVDM,2,2,1,A,88888888880,2*25".into()),
            };
            Line {
                source: SourceId(source),
                received_ms: start_ms + i as i64 * step_ms,
                bytes: text.into_bytes(),
            }
        })
        .collect()
}

const NAMES: [&str; 3] = ["national", "kystverket", "rescue-1-gps"];

#[test]
fn round_trip_through_rotation_and_compression() {
    let dir = tempdir("roundtrip");
    let reg = registry(&NAMES);
    let clock = Arc::new(ManualClock::new(DAY));
    let rec = Recorder::start(config(&dir), reg.clone(), clock.clone()).unwrap();
    // Three hours of lines, one every 10.8 s, in batches of 37 (so batches
    // straddle the hour boundaries).
    let lines = mixed_lines(1000, DAY + 30 * 60_000, 10_800);
    for batch in lines.chunks(37) {
        rec.record_batch(batch);
    }
    let status = rec.status();
    assert!(rec.sync(TIMEOUT));
    assert_eq!(status.recorded_lines(), 1000);
    assert_eq!(status.lost_lines(), 0);
    rec.close();
    assert_eq!(status.files_compressed(), 4);
    assert_eq!(
        files(&dir),
        vec![
            "lookout-20261128T0000Z.nmea.gz",
            "lookout-20261128T0100Z.nmea.gz",
            "lookout-20261128T0200Z.nmea.gz",
            "lookout-20261128T0300Z.nmea.gz",
        ]
    );

    // Read back: the same lines, in order, with their receive times and
    // sources.
    let mut reader = ArchiveReader::open(&[&dir]).unwrap();
    let back: Vec<_> = reader.by_ref().collect();
    assert_eq!(back.len(), 1000);
    for (a, l) in back.iter().zip(&lines) {
        assert_eq!(a.original(), &l.bytes[..]);
        assert_eq!(a.time_ms, Some(l.received_ms));
        assert_eq!(a.source.as_deref(), Some(NAMES[l.source.index()]));
        assert!(a.lookout);
    }
    assert_eq!(reader.stats().files, 4);
    assert_eq!(reader.stats().truncated, 0);

    // The archive is standard NMEA: the decoder reads it directly, and the
    // national network's station and time survive.
    let mut d = lookout_ais::Decoder::new(Default::default());
    let mut stations = std::collections::BTreeSet::new();
    for a in &back {
        let _ = d.decode_line(&a.raw, |m| {
            stations.insert(m.tag.and_then(|t| t.source).unwrap_or_default());
        });
    }
    assert_eq!(
        stations.into_iter().collect::<Vec<_>>(),
        vec!["2573210", "2573238", "national"]
    );

    // --from/--to: exactly the lines received in [01:00, 02:00).
    let from = ingest::timefmt::parse_time("2026-11-28T01:00:00Z").unwrap();
    let to = ingest::timefmt::parse_time("2026-11-28T02:00Z").unwrap();
    let mut reader = ArchiveReader::open(&[&dir])
        .unwrap()
        .with_range(Some(from), Some(to));
    let files_to_read = reader.remaining_files().count();
    assert_eq!(files_to_read, 1, "files outside the range are not opened");
    let window: Vec<_> = reader.by_ref().collect();
    let want: Vec<_> = lines
        .iter()
        .filter(|l| (from..to).contains(&l.received_ms))
        .collect();
    assert_eq!(window.len(), want.len());
    assert!(window
        .iter()
        .zip(&want)
        .all(|(a, l)| a.original() == &l.bytes[..]));

    // A restart that receives lines for an hour already compressed writes a
    // second file for that hour; reading keeps time order.
    let rec = Recorder::start(config(&dir), reg.clone(), clock.clone()).unwrap();
    let late = Line {
        source: SourceId(0),
        received_ms: DAY + 30 * 60_000 + 1,
        bytes: numbered_sentence(77_777).into_bytes(),
    };
    rec.record_batch(std::slice::from_ref(&late));
    rec.close();
    assert!(files(&dir).contains(&"lookout-20261128T0000Z_1.nmea.gz".to_string()));
    let all: Vec<_> = ArchiveReader::open(&[&dir]).unwrap().collect();
    let pos = all
        .iter()
        .position(|a| a.original() == &late.bytes[..])
        .unwrap();
    assert!(all[pos - 1].time_ms < Some(DAY + HOUR));
    assert!(all[pos + 1].time_ms >= Some(DAY + HOUR));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_file_past_its_period_is_closed_and_compressed_without_new_lines() {
    let dir = tempdir("idle");
    let reg = registry(&NAMES);
    let clock = Arc::new(ManualClock::new(DAY + 10));
    let rec = Recorder::start(config(&dir), reg, clock.clone()).unwrap();
    rec.record_batch(&mixed_lines(10, DAY + 10, 1));
    assert!(rec.sync(TIMEOUT));
    assert_eq!(files(&dir), vec!["lookout-20261128T0000Z.nmea"]);
    clock.set(DAY + HOUR + 5);
    let status = rec.status();
    let t0 = std::time::Instant::now();
    while status.files_compressed() < 1 {
        assert!(t0.elapsed() < TIMEOUT, "the idle file was not compressed");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(files(&dir), vec!["lookout-20261128T0000Z.nmea.gz"]);
    rec.close();
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_half_written_last_line_is_skipped_on_replay_and_repaired_on_restart() {
    let dir = tempdir("crash");
    let reg = registry(&NAMES);
    let clock = Arc::new(ManualClock::new(DAY));
    let mut cfg = config(&dir);
    cfg.compress = false;
    let rec = Recorder::start(cfg.clone(), reg.clone(), clock.clone()).unwrap();
    let lines = mixed_lines(100, DAY + 1000, 100);
    rec.record_batch(&lines[..50]);
    rec.record_batch(&lines[50..]);
    rec.close();
    let path = dir.join("lookout-20261128T0000Z.nmea");
    // Killed in the middle of writing the next line.
    let half = br"\rt:1795824999999,s:national,c:1795824999*00\!AIVDM,1,1,,A,15RTgt0P";
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    std::io::Write::write_all(&mut f, half).unwrap();
    drop(f);

    let mut reader = ArchiveReader::open(&[&path]).unwrap();
    let back: Vec<_> = reader.by_ref().collect();
    assert_eq!(back.len(), 100, "all whole lines");
    assert!(back
        .iter()
        .zip(&lines)
        .all(|(a, l)| a.original() == &l.bytes[..]));
    assert_eq!(
        reader.stats().truncated,
        1,
        "the half line is skipped and counted"
    );

    // Restarting in the same hour appends after cutting the half line.
    let rec = Recorder::start(cfg, reg, clock).unwrap();
    let more = mixed_lines(10, DAY + 200_000, 1);
    rec.record_batch(&more);
    let status = rec.status();
    rec.close();
    assert_eq!(status.snapshot().repaired_bytes, half.len() as u64);
    let mut reader = ArchiveReader::open(&[path]).unwrap();
    let back: Vec<_> = reader.by_ref().collect();
    assert_eq!(back.len(), 110);
    assert_eq!(reader.stats().truncated, 0);
    assert!(back[100..]
        .iter()
        .zip(&more)
        .all(|(a, l)| a.original() == &l.bytes[..]));
    std::fs::remove_dir_all(dir).ok();
}

/// Drive a real pipeline (UDP source → queue → recorder tap + router) for
/// `n` lines and return how many AIS messages the router produced.
async fn pipeline_round(
    h: &mut Harness,
    rec: &Recorder,
    router: &mut Router,
    udp: std::net::SocketAddr,
    tx: &tokio::net::UdpSocket,
    first: usize,
    n: usize,
) -> usize {
    let mut dg = String::new();
    for i in first..first + n {
        dg.push_str(&numbered_sentence(i));
        dg.push('\n');
    }
    tx.send_to(dg.as_bytes(), udp).await.unwrap();
    let batch = h.collect(n).await;
    rec.record_batch(&batch);
    let mut decoded = 0;
    router.handle_batch(&batch, |e| {
        if let Event::Ais(_) = e {
            decoded += 1
        }
    });
    decoded
}

async fn failing_then_resuming(
    tag: &str,
    break_it: impl Fn(&Path, &Path),
    fix_it: impl Fn(&Path, &Path),
) {
    capture_logs();
    let base = tempdir(tag);
    let dir = base.join("archive");
    // Receive times from a fixed clock: the file name is known.
    let clock = Arc::new(ManualClock::new(DAY + 5 * 60_000));
    let mut h = Harness::with_clock(10_000, clock.clone());
    let src = h
        .start(Harness::from_json(&format!(
            r#"{{"type":"udp","name":"{tag}-udp","address":"127.0.0.1:0"}}"#
        )))
        .await;
    let udp = src.local_addr.unwrap();
    let now_file = |d: &Path| d.join("lookout-20261128T0000Z.nmea");
    break_it(&dir, &now_file(&dir));
    let rec = Recorder::start(config(&dir), h.registry.clone(), clock).unwrap();
    let status = rec.status();
    let mut router = Router::new(h.registry.clone(), Default::default());
    let tx = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();

    // The live picture keeps going while recording fails.
    let mut next = 0;
    for _ in 0..5 {
        let decoded = pipeline_round(&mut h, &rec, &mut router, udp, &tx, next, 20).await;
        assert_eq!(decoded, 20, "every line still decodes");
        next += 20;
    }
    assert!(rec.sync(TIMEOUT));
    assert!(status.failing());
    assert_eq!(
        status.error_episodes(),
        1,
        "one episode, however many lines"
    );
    assert_eq!(status.lost_lines(), 100);
    assert!(status.lost_bytes() > 100 * 60);
    assert_eq!(status.recorded_lines(), 0);
    assert!(status.last_error().is_some());
    let dir_str = dir.display().to_string();
    let errors = logs_containing("recording failed")
        .into_iter()
        .filter(|l| l.fields.get("error").is_some_and(|e| e.contains(&dir_str)))
        .count();
    assert_eq!(errors, 1, "reported loudly, once per episode");

    // Fixed: the recorder notices by itself (retrying every 30 ms).
    fix_it(&dir, &now_file(&dir));
    let t0 = std::time::Instant::now();
    while status.failing() {
        assert!(t0.elapsed() < TIMEOUT, "recording did not resume");
        pipeline_round(&mut h, &rec, &mut router, udp, &tx, next, 1).await;
        next += 1;
        assert!(rec.sync(TIMEOUT));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let lost = status.lost_lines();
    for _ in 0..3 {
        pipeline_round(&mut h, &rec, &mut router, udp, &tx, next, 10).await;
        next += 10;
    }
    assert!(rec.sync(TIMEOUT));
    assert_eq!(status.lost_lines(), lost, "nothing lost after resuming");
    assert_eq!(status.error_episodes(), 1);
    assert_eq!(status.lost_lines() + status.recorded_lines(), next as u64);
    rec.close();
    let back: Vec<_> = ArchiveReader::open(&[&dir]).unwrap().collect();
    assert_eq!(back.len() as u64, next as u64 - lost);
    assert_eq!(
        back.last().unwrap().original(),
        numbered_sentence(next - 1).as_bytes()
    );
    assert_eq!(
        back.last().unwrap().source.as_deref(),
        Some(&*format!("{tag}-udp"))
    );
    h.trigger.trigger();
    std::fs::remove_dir_all(base).ok();
}

#[tokio::test]
async fn an_unwritable_directory_loses_counted_lines_and_recovers() {
    // Root can write anywhere, so "unwritable" is a directory path taken
    // by a regular file: every create fails until it is removed.
    failing_then_resuming(
        "unwritable",
        |dir, _| std::fs::write(dir, b"not a directory").unwrap(),
        |dir, _| std::fs::remove_file(dir).unwrap(),
    )
    .await;
}

#[tokio::test]
async fn a_full_disk_loses_counted_lines_and_recovers() {
    if !Path::new("/dev/full").exists() {
        eprintln!("no /dev/full here: skipping the full-disk case");
        return;
    }
    // The current hour's file is /dev/full: every write fails with ENOSPC.
    failing_then_resuming(
        "diskfull",
        |dir, file| {
            std::fs::create_dir_all(dir).unwrap();
            std::os::unix::fs::symlink("/dev/full", file).unwrap();
        },
        |_, file| std::fs::remove_file(file).unwrap(),
    )
    .await;
}

#[test]
fn a_writer_that_falls_behind_drops_and_counts_instead_of_blocking() {
    let dir = tempdir("backlog");
    let mut cfg = config(&dir);
    cfg.max_pending_bytes = 1; // nothing fits
    let rec = Recorder::start(cfg, registry(&NAMES), Arc::new(ManualClock::new(DAY))).unwrap();
    let lines = mixed_lines(100, DAY, 1);
    rec.record_batch(&lines);
    let s = rec.status().snapshot();
    assert_eq!(
        (s.lost_lines, s.backlog_lost_lines, s.recorded_lines),
        (100, 100, 0)
    );
    rec.close();
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn replay_gives_back_the_lines_with_their_times_and_sources() {
    let dir = tempdir("replay");
    let reg = registry(&NAMES);
    let rec = Recorder::start(config(&dir), reg, Arc::new(ManualClock::new(DAY))).unwrap();
    let lines = mixed_lines(500, DAY + 10 * 60_000, 20_000);
    rec.record_batch(&lines);
    rec.close();

    let mut h = Harness::new(50); // small: replay blocks, loses nothing
    let src = h
        .start(Harness::from_json(&format!(
            r#"{{"type":"replay","name":"replay","paths":[{:?}],
                "own_assets":{{"rescue-1-gps":"RESCUE-1"}}}}"#,
            dir
        )))
        .await;
    let got = h.collect_all().await;
    assert_eq!(got.len(), 500);
    for (g, l) in got.iter().zip(&lines) {
        assert_eq!(g.bytes, l.bytes, "the line as originally received");
        assert_eq!(
            g.received_ms, l.received_ms,
            "with its recorded receive time"
        );
        assert_eq!(
            &*h.registry.name(g.source).unwrap(),
            NAMES[l.source.index()],
            "attributed to its recorded source"
        );
    }
    // Each line is counted once, on the source it is attributed to (it was
    // also counted on the replay, so the sources added up to 1000).
    for name in NAMES {
        let status = h.registry.find(name).unwrap();
        let attributed = got.iter().filter(|g| g.source == status.id()).count();
        assert!(attributed > 0);
        assert_eq!(status.lines(), attributed as u64, "{name}");
    }
    assert_eq!(
        src.status.lines(),
        0,
        "every line belongs to a recorded source"
    );
    let total: u64 = h.registry.all().iter().map(|s| s.lines()).sum();
    assert_eq!(total, 500);
    let bytes: u64 = h.registry.all().iter().map(|s| s.bytes()).sum();
    let want: usize = lines.iter().map(|l| l.bytes.len() + 1).sum();
    assert_eq!(bytes, want as u64);
    assert_eq!(h.rx.stats().dropped, 0);
    // Own assets by recorded source name: GNSS fixes come back too.
    let mut router = Router::new(h.registry.clone(), Default::default());
    let mut fixes = 0;
    router.handle_batch(&got, |e| {
        if let Event::OwnAssetFix(f) = e {
            assert_eq!(&*f.asset, "RESCUE-1");
            fixes += 1;
        }
    });
    assert_eq!(fixes, 100);

    // A time window, from the config's from/to.
    let mut h = Harness::new(1000);
    h.start(Harness::from_json(&format!(
        r#"{{"type":"replay","name":"window","paths":[{:?}],
            "from":"2026-11-28T01:00:00Z","to":"2026-11-28T02:00:00Z","keep_sources":false}}"#,
        dir
    )))
    .await;
    let got = h.collect_all().await;
    let want = lines
        .iter()
        .filter(|l| (DAY + HOUR..DAY + 2 * HOUR).contains(&l.received_ms))
        .count();
    assert_eq!(got.len(), want);
    assert!(got.iter().all(|l| l.source == SourceId(0)));
    std::fs::remove_dir_all(dir).ok();
}
