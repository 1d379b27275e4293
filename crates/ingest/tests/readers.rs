//! File, gzip and stdin-like sources, and own-asset GNSS fixes from a real
//! recording with `$GPRMC`/`$GPGGA` mixed into AIS.

mod common;

use std::io::Write;
use std::sync::Arc;

use common::*;
use flate2::write::GzEncoder;
use ingest::clock::ManualClock;
use ingest::queue::Overload;
use ingest::router::{Event, Router};
use ingest::source::spawn_source;
use ingest::status::{SourceErrorKind, SourceSpec, SourceState};
use ingest::stream::ReaderSource;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn sample(n: usize) -> (String, Vec<String>) {
    let lines: Vec<String> = (0..n).map(numbered_sentence).collect();
    (lines.join("\n") + "\n", lines)
}

#[tokio::test]
async fn plain_and_gzip_files_are_read_whole_with_injected_receive_time() {
    let dir = tempdir("files");
    let (text, want) = sample(500);
    std::fs::write(dir.join("plain.nmea"), &text).unwrap();
    // Gzip detected by magic bytes, whatever the name; two members
    // concatenated read as one stream.
    let mut two = gzip(&text.as_bytes()[..text.len() / 2]);
    two.extend(gzip(&text.as_bytes()[text.len() / 2..]));
    std::fs::write(dir.join("packed.log"), &two).unwrap();

    let clock = Arc::new(ManualClock::new(1_733_782_034_123));
    let mut h = Harness::with_clock(1000, clock.clone());
    let a = h
        .start(Harness::from_json(&format!(
            r#"{{"type":"file","name":"plain","path":{:?}}}"#,
            dir.join("plain.nmea")
        )))
        .await;
    let got = h.collect(500).await;
    assert_eq!(texts(&got), want);
    assert!(got.iter().all(|l| l.received_ms == 1_733_782_034_123));
    assert!(got.iter().all(|l| l.source == a.status.id()));
    within("plain done", a.task).await.unwrap();
    assert_eq!(a.status.state(), SourceState::Finished);

    clock.set(1_800_000_000_000);
    let b = h
        .start(Harness::from_json(&format!(
            r#"{{"type":"file","name":"packed","path":{:?}}}"#,
            dir.join("packed.log")
        )))
        .await;
    let got = h.collect_all().await;
    assert_eq!(texts(&got), want);
    assert!(got.iter().all(|l| l.received_ms == 1_800_000_000_000));
    assert_eq!(b.status.lines(), 500);
    assert_eq!(b.status.state(), SourceState::Finished);
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn a_missing_file_fails_the_source_not_the_program() {
    let mut h = Harness::new(10);
    let src = h
        .start(Harness::from_json(
            r#"{"type":"file","name":"missing","path":"/nonexistent/x.nmea"}"#,
        ))
        .await;
    assert!(h.collect_all().await.is_empty());
    assert_eq!(src.status.state(), SourceState::Failed);
    assert_eq!(src.status.errors(SourceErrorKind::Io), 1);
    assert!(src.status.last_error().unwrap().contains("No such file"));
}

#[tokio::test]
async fn a_truncated_gzip_file_gives_its_whole_lines_and_an_error() {
    let dir = tempdir("truncgz");
    let (text, want) = sample(2000);
    let gz = gzip(text.as_bytes());
    std::fs::write(dir.join("cut.nmea.gz"), &gz[..gz.len() * 3 / 4]).unwrap();
    let mut h = Harness::new(10_000);
    let src = h
        .start(Harness::from_json(&format!(
            r#"{{"type":"file","name":"cut","path":{:?}}}"#,
            dir.join("cut.nmea.gz")
        )))
        .await;
    let got = texts(&h.collect_all().await);
    assert!(got.len() > 100, "the readable part came through");
    // Every whole line is a prefix of what was written; at most the last
    // one is cut.
    assert_eq!(got[..got.len() - 1], want[..got.len() - 1]);
    assert_eq!(src.status.state(), SourceState::Failed);
    assert_eq!(src.status.errors(SourceErrorKind::Io), 1);
    std::fs::remove_dir_all(dir).ok();
}

/// Stdin is a pipe: the same reader source over a real pipe (a Unix socket
/// pair), written in pieces by another thread, plain and gzipped.
#[tokio::test]
async fn a_stdin_like_pipe_is_read_as_it_arrives() {
    let mut h = Harness::new(10_000);
    let (text, want) = sample(300);
    for (k, payload) in [text.as_bytes().to_vec(), gzip(text.as_bytes())]
        .into_iter()
        .enumerate()
    {
        let (mut w, r) = std::os::unix::net::UnixStream::pair().unwrap();
        let name = format!("stdin-{k}");
        let status = h
            .registry
            .register(SourceSpec {
                name: name.clone(),
                kind: "stdin",
                own_asset: None,
                overload: Overload::Block,
            })
            .unwrap();
        let running = spawn_source(
            Box::new(ReaderSource::new(&name, r, 1024)),
            status,
            h.queue.as_ref().unwrap(),
            Overload::Block,
            &h.registry,
            h.clock.clone(),
            h.shutdown.clone(),
        );
        let writer = std::thread::spawn(move || {
            for piece in payload.chunks(333) {
                w.write_all(piece).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        });
        let got = h.collect(300).await;
        assert_eq!(texts(&got), want, "{name}");
        writer.join().unwrap();
        within("pipe closed", running.task).await.unwrap();
        assert_eq!(running.status.state(), SourceState::Finished);
    }
    assert!(h.collect_all().await.is_empty());
}

#[tokio::test]
async fn own_asset_fixes_from_a_real_recording_with_ais_mixed_in() {
    let path = fixture("signalk_nais400-merrimac.log");
    let text = std::fs::read_to_string(&path).unwrap();
    let rmc = text.lines().filter(|l| l.starts_with("$GPRMC")).count();
    let gga = text.lines().filter(|l| l.starts_with("$GPGGA")).count();
    let ais = text.lines().filter(|l| l.starts_with('!')).count();
    assert!(rmc >= 10 && gga >= 10 && ais > 500);

    let mut h = Harness::new(100_000);
    let src = h
        .start(Harness::from_json(&format!(
            r#"{{"type":"file","name":"rescue-1-nav","path":{:?},"own_asset":"RESCUE-1"}}"#,
            path
        )))
        .await;
    let lines = h.collect_all().await;
    let mut router = Router::new(h.registry.clone(), Default::default());
    let (mut fixes, mut messages) = (Vec::new(), 0);
    router.handle_batch(&lines, |e| match e {
        Event::OwnAssetFix(f) => fixes.push(f),
        Event::Ais(_) => messages += 1,
    });
    assert_eq!(
        fixes.len(),
        rmc + gga,
        "every RMC and GGA with a fix gives a fix"
    );
    assert!(fixes
        .iter()
        .all(|f| &*f.asset == "RESCUE-1" && f.source == src.status.id()));
    // $GPRMC,200255.00,A,5310.81257,N,00525.70577,E,0.021,,160414,,,D*7E
    let first_rmc = text.lines().find(|l| l.starts_with("$GPRMC")).unwrap();
    assert!(first_rmc.starts_with("$GPRMC,200255.00,A,5310.81257,N,00525.70577,E,0.021,"));
    let f = fixes
        .iter()
        .find(|f| f.time_ms == 1_397_678_575_000 && f.sog.is_some())
        .expect("the fix of the first RMC (2014-04-16T20:02:55Z)");
    assert!((f.lat - (53.0 + 10.81257 / 60.0)).abs() < 1e-7);
    assert!((f.lon - (5.0 + 25.70577 / 60.0)).abs() < 1e-7);
    assert_eq!(f.sog, Some(0.021));
    // Fix times follow the feed's own date (2014), not the receive time.
    assert!(fixes
        .iter()
        .all(|f| (1_397_678_000_000..1_397_679_000_000).contains(&f.time_ms)));
    // Fix times never go backwards in this recording.
    assert!(fixes.windows(2).all(|w| w[0].time_ms <= w[1].time_ms));

    // The AIS part decodes as it does on its own.
    let mut alone = lookout_ais::Decoder::new(Default::default());
    let mut expect = 0;
    alone.decode_buffer(text.as_bytes(), |_| expect += 1);
    assert_eq!(messages, expect);
    assert_eq!(src.status.fixes(), (rmc + gga) as u64);
    assert_eq!(src.status.messages(), alone.stats().sentences);
    assert_eq!(src.status.errors(SourceErrorKind::Gnss), 0);
}

#[tokio::test]
async fn dollar_lines_of_a_source_without_own_asset_are_left_alone() {
    let mut h = Harness::new(100_000);
    let _src = h
        .start(Harness::from_json(&format!(
            r#"{{"type":"file","name":"plain-feed","path":{:?}}}"#,
            fixture("signalk_nais400-merrimac.log")
        )))
        .await;
    let lines = h.collect_all().await;
    let mut router = Router::new(h.registry.clone(), Default::default());
    let mut fixes = 0;
    router.handle_batch(&lines, |e| {
        if let Event::OwnAssetFix(_) = e {
            fixes += 1
        }
    });
    assert_eq!(fixes, 0);
}
