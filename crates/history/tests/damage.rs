//! A damaged archive never fails a history scan: a half-written last line
//! (the recorder killed mid-write), a truncated `.gz` (lines before the
//! damage still count) and a file that is not gzip or text at all are
//! skipped and counted, and every whole line is still found.

use std::io::Write;

use history::{scan, Query, ScanOptions};
use lookout_ais::encode::{encode_message, sentences};
use lookout_ais::messages::{Body, PositionReport};
use lookout_ais::AisMessage;

const HOUR0: i64 = 1_795_824_000_000; // 2026-11-28T00:00:00Z

fn line(mmsi: u32, lat: f64, lon: f64, t: i64) -> Vec<u8> {
    let m = AisMessage {
        msg_type: 1,
        repeat: 0,
        mmsi,
        body: Body::Position(PositionReport {
            status: 0,
            turn: None,
            speed: Some(10.0),
            accuracy: false,
            lon: Some(lon),
            lat: Some(lat),
            course: Some(0.0),
            heading: None,
            second: None,
            maneuver: 0,
            raim: false,
            radio: 0,
        }),
    };
    let s = sentences(&encode_message(&m).unwrap(), "AI", Some('A'), 0).remove(0);
    let mut out = Vec::new();
    ingest::archive::append_archive_line(&mut out, s.as_bytes(), "feed", t);
    out
}

#[test]
fn damage_is_skipped_and_counted_and_whole_lines_are_found() {
    let dir = std::env::temp_dir().join(format!("history-damage-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    // Hour 0, plain: two whole lines, then half of a third.
    let mut plain = line(247_000_001, 35.0, 14.0, HOUR0 + 1_000);
    plain.extend(line(247_000_002, 35.001, 14.0, HOUR0 + 2_000));
    let half = line(247_000_003, 35.0, 14.001, HOUR0 + 3_000);
    plain.extend_from_slice(&half[..half.len() / 2]);
    std::fs::write(dir.join("lookout-20261128T0000Z.nmea"), plain).unwrap();

    // Hour 1, gzip cut short: many lines of one vessel, then vessel 4 last.
    let mut text = Vec::new();
    for i in 0..5_000 {
        text.extend(line(
            247_000_010,
            35.0,
            14.0 + i as f64 * 1e-6,
            HOUR0 + 3_600_000 + i * 100,
        ));
    }
    text.extend(line(247_000_004, 35.0, 14.0, HOUR0 + 3_600_000 + 600_000));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&text).unwrap();
    let gz = gz.finish().unwrap();
    std::fs::write(
        dir.join("lookout-20261128T0100Z.nmea.gz"),
        &gz[..gz.len() * 2 / 3],
    )
    .unwrap();

    // Hour 2: gzip magic, then garbage.
    std::fs::write(
        dir.join("lookout-20261128T0200Z.nmea.gz"),
        b"\x1f\x8b\x08\x00garbage garbage garbage",
    )
    .unwrap();

    let q = Query::near(35.0, 14.0, 2.0, HOUR0, HOUR0 + 3 * 3_600_000).unwrap();
    let a = scan(&[&dir], &q, &ScanOptions::default()).unwrap();
    let found: Vec<u32> = a.vessels.iter().map(|v| v.mmsi).collect();
    assert!(
        found.contains(&247_000_001) && found.contains(&247_000_002),
        "{found:?}"
    );
    assert!(
        found.contains(&247_000_010),
        "lines before the gzip damage count: {found:?}"
    );
    assert!(!found.contains(&247_000_003), "half a line is not a line");
    assert!(
        !found.contains(&247_000_004),
        "after the damage nothing is read"
    );
    assert_eq!(a.stats.files_read, 3, "{:?}", a.stats);
    assert!(a.stats.truncated >= 1, "{:?}", a.stats);
    assert_eq!(a.stats.file_errors, 2, "{:?}", a.stats);
    assert!(a.stats.last_error.is_some());
    std::fs::remove_dir_all(&dir).unwrap();
}
