//! Hostile and malformed input: no panics, bounded state, consistent
//! indexes.

mod common;

use common::*;
use lookout_ais::messages::Body;
use lookout_ais::{Decoder, DecoderOptions, LineContext};
use spatial_index::{GeoBox, Outcome, Picture, PictureConfig, ZoneIndex};

/// Internal consistency a caller can observe.
fn check_consistency(p: &Picture) {
    let positioned = p.vessels().filter(|v| v.position.is_some()).count();
    let everywhere = p.in_boxes(&[GeoBox::WORLD]).len();
    assert_eq!(everywhere, positioned);
    for z in p.zones().zones() {
        for v in p.in_zone(&z.id).unwrap() {
            assert!(p.zones_of(v).any(|zz| zz.id == z.id));
        }
    }
}

#[test]
fn garbage_values_do_not_panic() {
    let mut p = Picture::new(PictureConfig::default(), shipped_zones());
    let weird = [
        f64::NAN,
        f64::INFINITY,
        -f64::INFINITY,
        1e300,
        -1e300,
        90.0,
        -90.0,
        180.0,
        -180.0,
        0.0,
        -0.0,
        35.5,
        12.6,
    ];
    let times = [i64::MIN, -1, 0, T0, T0 + 1, i64::MAX - 1, i64::MAX];
    let mut rng = Rng(1);
    for k in 0..20_000u64 {
        let lat = weird[(rng.next_u64() % weird.len() as u64) as usize];
        let lon = weird[(rng.next_u64() % weird.len() as u64) as usize];
        let t = times[(rng.next_u64() % times.len() as u64) as usize];
        let mmsi = (rng.next_u64() % 5) as u32 * 123_456_789;
        let mut m = match k % 5 {
            0 => pos_a(mmsi, lat, lon, lat, (k % 16) as u8),
            1 => pos_b(mmsi, lat, lon, lon),
            2 => sar(mmsi, lat, lon, u16::MAX, u16::MAX),
            3 => aton(mmsi, lat, lon, "\u{0}\u{ffff} weird"),
            _ => long_range(mmsi, lat, lon, u8::MAX),
        };
        if let Body::Position(pr) = &mut m.body {
            pr.course = Some(lon);
        }
        let d = decoded(m, rng.next_u64() % 64, (k % 3 == 0).then_some(t / 1000));
        let _ = p.apply(&d, Some(t));
        if k % 1000 == 0 {
            p.advance_time(t);
            let _ = p.nearest(lat, lon, 5);
            let _ = p.within_radius(lat, lon, lat);
            let _ = p.in_boxes(&[GeoBox {
                west: lat,
                south: lon,
                east: lon,
                north: lat,
            }]);
            check_consistency(&p);
        }
    }
    check_consistency(&p);
    p.advance_time(i64::MAX);
    p.advance_time(i64::MIN);
    check_consistency(&p);
}

#[test]
fn a_flood_of_mmsis_is_bounded() {
    let cfg = PictureConfig {
        max_vessels: 1_000,
        event_capacity: 100,
        ..PictureConfig::default()
    };
    let mut f = Feed::with_config(cfg, ZoneIndex::empty());
    let mut refused = 0;
    for k in 0..5_000u32 {
        if f.send(pos_a(200_000_000 + k, 35.0, 14.0, 1.0, 0), T0) == Outcome::Refused {
            refused += 1;
        }
    }
    assert_eq!(f.picture.len(), 1_000);
    assert_eq!(refused, 4_000);
    assert_eq!(f.picture.events().len(), 100);
    assert!(f.picture.events().dropped() > 0);
    // The sequence numbers show the gap.
    let first = f.picture.events_mut().pop().unwrap().seq;
    assert!(first > 0);
}

#[test]
fn real_recordings_keep_the_picture_consistent() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/ais");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e != "md"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let mut p = Picture::new(PictureConfig::default(), shipped_zones());
    let mut dec = Decoder::new(DecoderOptions::default());
    let mut applied = 0;
    for (n, f) in files.iter().enumerate() {
        let text = std::fs::read(f).unwrap();
        for (k, line) in text.split(|&c| c == b'\n').enumerate() {
            // Receive time advances a second per line; TAG times win.
            let ctx = LineContext {
                source: n as u32,
                received_ms: Some(T0 + k as i64 * 1_000),
            };
            let _ = dec.decode_line_with(line, &ctx, |d| {
                if p.apply(&d, ctx.received_ms) == Outcome::Applied {
                    applied += 1;
                }
            });
        }
    }
    assert!(applied > 100, "{applied}");
    assert!(!p.is_empty());
    check_consistency(&p);
    // Every event serialises.
    for e in p.events_mut().drain() {
        serde_json::to_string(&e).unwrap();
    }
}
