//! Test helpers: AIS messages built field by field, a feed that stamps
//! them with message time, and event collection.
#![allow(dead_code)]

use lookout_ais::messages::*;
use lookout_ais::tagblock::TagBlock;
use lookout_ais::Decoded;
use spatial_index::{Event, Outcome, Picture, PictureConfig, ZoneIndex};

pub const T0: i64 = 1_700_000_000_000;
pub const MIN: i64 = 60_000;

pub fn msg(msg_type: u8, mmsi: u32, body: Body) -> AisMessage {
    AisMessage {
        msg_type,
        repeat: 0,
        mmsi,
        body,
    }
}

/// Class A position report (type 1).
pub fn pos_a(mmsi: u32, lat: f64, lon: f64, sog: f64, status: u8) -> AisMessage {
    msg(
        1,
        mmsi,
        Body::Position(PositionReport {
            status,
            turn: None,
            speed: Some(sog),
            accuracy: true,
            lon: Some(lon),
            lat: Some(lat),
            course: Some(90.0),
            heading: Some(90),
            second: Some(TimeStamp::Second(0)),
            maneuver: 0,
            raim: false,
            radio: 0,
        }),
    )
}

/// Class A report with a position "not available".
pub fn pos_a_unavailable(mmsi: u32, sog: f64) -> AisMessage {
    let mut m = pos_a(mmsi, 0.0, 0.0, sog, 0);
    if let Body::Position(p) = &mut m.body {
        p.lat = None;
        p.lon = None;
    }
    m
}

/// Class B position report (type 18).
pub fn pos_b(mmsi: u32, lat: f64, lon: f64, sog: f64) -> AisMessage {
    msg(
        18,
        mmsi,
        Body::ClassBPosition(ClassBPosition {
            reserved: 0,
            speed: Some(sog),
            accuracy: false,
            lon: Some(lon),
            lat: Some(lat),
            course: Some(180.0),
            heading: None,
            second: Some(TimeStamp::Second(1)),
            regional: 0,
            cs: true,
            display: false,
            dsc: false,
            band: true,
            msg22: false,
            assigned: false,
            raim: false,
            radio: 0,
        }),
    )
}

/// Extended class B report (type 19).
pub fn ext_b(mmsi: u32, lat: f64, lon: f64, name: &str, shiptype: u8) -> AisMessage {
    msg(
        19,
        mmsi,
        Body::ClassBExtended(ClassBExtended {
            reserved: 0,
            speed: Some(5.0),
            accuracy: false,
            lon: Some(lon),
            lat: Some(lat),
            course: Some(10.0),
            heading: Some(12),
            second: Some(TimeStamp::Second(2)),
            regional: 0,
            shipname: name.into(),
            shiptype: Some(shiptype),
            dimensions: Dimensions {
                to_bow: 8,
                to_stern: 4,
                to_port: 2,
                to_starboard: 2,
            },
            epfd: 1,
            raim: false,
            dte: false,
            assigned: false,
        }),
    )
}

/// Static and voyage data (type 5).
pub fn voyage(mmsi: u32, name: &str, callsign: &str, imo: Option<u32>, dest: &str) -> AisMessage {
    msg(
        5,
        mmsi,
        Body::StaticVoyage(StaticVoyage {
            ais_version: 2,
            imo,
            callsign: callsign.into(),
            shipname: name.into(),
            shiptype: Some(70),
            dimensions: Dimensions {
                to_bow: 150,
                to_stern: 30,
                to_port: 12,
                to_starboard: 14,
            },
            epfd: 1,
            eta: Eta {
                month: Some(6),
                day: Some(21),
                hour: Some(14),
                minute: Some(30),
            },
            draught: Some(9.5),
            destination: dest.into(),
            dte: false,
        }),
    )
}

/// Type 24 part A.
pub fn part_a(mmsi: u32, name: &str) -> AisMessage {
    msg(
        24,
        mmsi,
        Body::StaticData(StaticDataReport::PartA {
            shipname: name.into(),
        }),
    )
}

/// Type 24 part B.
pub fn part_b(mmsi: u32, shiptype: u8, callsign: &str) -> AisMessage {
    msg(
        24,
        mmsi,
        Body::StaticData(StaticDataReport::PartB(StaticPartB {
            shiptype: Some(shiptype),
            vendorid: "SRT".into(),
            model: 1,
            serial: 42,
            callsign: callsign.into(),
            dimensions: Dimensions {
                to_bow: 6,
                to_stern: 4,
                to_port: 2,
                to_starboard: 1,
            },
            mothership_mmsi: None,
        })),
    )
}

/// SAR aircraft (type 9).
pub fn sar(mmsi: u32, lat: f64, lon: f64, speed: u16, alt: u16) -> AisMessage {
    msg(
        9,
        mmsi,
        Body::SarAircraft(SarAircraftReport {
            alt: Some(alt),
            speed: Some(speed),
            accuracy: true,
            lon: Some(lon),
            lat: Some(lat),
            course: Some(270.0),
            second: Some(TimeStamp::Second(3)),
            regional: 0,
            dte: false,
            assigned: false,
            raim: false,
            radio: 0,
        }),
    )
}

/// Aid to navigation (type 21).
pub fn aton(mmsi: u32, lat: f64, lon: f64, name: &str) -> AisMessage {
    msg(
        21,
        mmsi,
        Body::AidToNavigation(AidToNavigation {
            aid_type: 9,
            name: name.into(),
            accuracy: true,
            lon: Some(lon),
            lat: Some(lat),
            dimensions: Dimensions::default(),
            epfd: 7,
            second: Some(TimeStamp::Second(4)),
            off_position: false,
            regional: 0,
            raim: false,
            virtual_aid: true,
            assigned: false,
        }),
    )
}

/// Base station (type 4).
pub fn base(mmsi: u32, lat: f64, lon: f64) -> AisMessage {
    msg(
        4,
        mmsi,
        Body::BaseStation(BaseStationReport {
            time: UtcTime {
                year: Some(2023),
                month: Some(11),
                day: Some(14),
                hour: Some(22),
                minute: Some(13),
                second: Some(20),
            },
            accuracy: true,
            lon: Some(lon),
            lat: Some(lat),
            epfd: 7,
            raim: false,
            radio: 0,
        }),
    )
}

/// Long-range report (type 27).
pub fn long_range(mmsi: u32, lat: f64, lon: f64, sog: u8) -> AisMessage {
    msg(
        27,
        mmsi,
        Body::LongRange(LongRangeReport {
            accuracy: false,
            raim: false,
            status: 0,
            lon: Some(lon),
            lat: Some(lat),
            speed: Some(sog),
            course: Some(45),
            gnss: false,
        }),
    )
}

/// Wrap a message as the decoder would, with a TAG block time (seconds)
/// when given.
pub fn decoded(message: AisMessage, hash: u64, tag_secs: Option<i64>) -> Decoded {
    Decoded {
        message,
        talker: *b"AI",
        own_ship: false,
        channel: Some(b'A'),
        fragments: 1,
        tag: tag_secs.map(|s| TagBlock {
            time: Some(s),
            source: Some("test".into()),
            ..TagBlock::default()
        }),
        payload_hash: hash,
        payload: None,
    }
}

/// A picture fed with messages at explicit message times; every message
/// gets a fresh payload hash unless one is given.
pub struct Feed {
    pub picture: Picture,
    next_hash: u64,
}

impl Feed {
    pub fn new(zones: ZoneIndex) -> Self {
        Feed::with_config(PictureConfig::default(), zones)
    }

    pub fn with_config(cfg: PictureConfig, zones: ZoneIndex) -> Self {
        Feed {
            picture: Picture::new(cfg, zones),
            next_hash: 1,
        }
    }

    /// Apply `m` received at `t_ms` (no TAG block).
    pub fn send(&mut self, m: AisMessage, t_ms: i64) -> Outcome {
        self.next_hash += 1;
        let d = decoded(m, self.next_hash.wrapping_mul(0x9e37_79b9_7f4a_7c15), None);
        self.picture.apply(&d, Some(t_ms))
    }

    /// Apply a prepared message.
    pub fn send_decoded(&mut self, d: &Decoded, received_ms: Option<i64>) -> Outcome {
        self.picture.apply(d, received_ms)
    }

    /// Drain the events.
    pub fn events(&mut self) -> Vec<Event> {
        self.picture.events_mut().drain().map(|s| s.event).collect()
    }
}

/// Shipped zones.
pub fn shipped_zones() -> ZoneIndex {
    ZoneIndex::load(&[concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/zones")])
        .expect("shipped zones load")
}

/// Event names in order, for compact assertions.
pub fn names(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            let v = serde_json::to_value(e).unwrap();
            let mut n = v["event"].as_str().unwrap().to_owned();
            if let Some(z) = v.get("zone").and_then(|z| z.as_str()) {
                n.push(':');
                n.push_str(z);
            }
            n
        })
        .collect()
}

/// Small deterministic PRNG (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * (hi - lo)
    }
}
