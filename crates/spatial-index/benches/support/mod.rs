//! Synthetic traffic for the benchmarks: vessels spread over the
//! Mediterranean, moving at 0–25 kn and reporting every 10 s of message
//! time, in a shuffled (cache-unfriendly) order; and random zones.
#![allow(dead_code)]

use lookout_ais::messages::*;
use lookout_ais::Decoded;
use spatial_index::zones::{Zone, ZoneIndex, ZoneKind};
use spatial_index::{Picture, PictureConfig};

/// Where the vessels are: the Mediterranean's bounding box.
pub const LAT: (f64, f64) = (30.0, 46.0);
pub const LON: (f64, f64) = (-6.0, 36.0);
pub const T0: i64 = 1_700_000_000_000;
/// Message time between two reports of a vessel.
pub const INTERVAL_MS: i64 = 10_000;

pub struct Rng(pub u64);

impl Rng {
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    #[inline]
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * (hi - lo)
    }
}

/// The simulated fleet.
/// One simulated vessel (one cache line).
#[derive(Clone, Copy)]
pub struct Sim {
    pub lat: f64,
    pub lon: f64,
    dlat: f64,
    dlon: f64,
    sog: f64,
}

pub struct Fleet {
    pub sims: Vec<Sim>,
    order: Vec<u32>,
    pub k: u64,
    /// Message time at the start of the current round.
    round_start: i64,
    /// Message time between two reports of a vessel in this round.
    interval: i64,
    /// Distance factor: a warp of 15 with a 150 s interval moves vessels
    /// 15 normal reports' worth per report, at their own speed.
    warp: f64,
    rng: Rng,
    template: Decoded,
}

pub fn mmsi(i: u32) -> u32 {
    // Valid Maltese/Italian-style MMSIs: MID 215..=(215 + n / 1e6).
    215_000_000 + i
}

impl Fleet {
    pub fn new(n: usize, seed: u64) -> Fleet {
        let mut rng = Rng(seed);
        let mut f = Fleet {
            sims: Vec::with_capacity(n),
            order: (0..n as u32).collect(),
            k: 0,
            round_start: T0,
            interval: INTERVAL_MS,
            warp: 1.0,
            rng: Rng(seed ^ 0xabcdef),
            template: Decoded {
                message: AisMessage {
                    msg_type: 1,
                    repeat: 0,
                    mmsi: 0,
                    body: Body::Position(PositionReport {
                        status: 0,
                        turn: None,
                        speed: None,
                        accuracy: true,
                        lon: None,
                        lat: None,
                        course: None,
                        heading: None,
                        second: Some(TimeStamp::Second(0)),
                        maneuver: 0,
                        raim: false,
                        radio: 0,
                    }),
                },
                talker: *b"AI",
                own_ship: false,
                channel: Some(b'A'),
                fragments: 1,
                tag: None,
                payload_hash: 0,
                payload: None,
            },
        };
        for _ in 0..n {
            let lat = rng.range(LAT.0, LAT.1);
            let sog = rng.range(0.0, 25.0);
            let course = rng.range(0.0, std::f64::consts::TAU);
            // Degrees per report.
            let step = sog * (INTERVAL_MS as f64 / 3_600_000.0) / 60.0;
            f.sims.push(Sim {
                lat,
                lon: rng.range(LON.0, LON.1),
                dlat: step * course.cos(),
                dlon: step * course.sin() / lat.to_radians().cos(),
                sog,
            });
        }
        // Shuffle the reporting order (Fisher–Yates).
        for i in (1..n).rev() {
            let j = (rng.next_u64() % (i as u64 + 1)) as usize;
            f.order.swap(i, j);
        }
        f
    }

    pub fn len(&self) -> usize {
        self.sims.len()
    }

    /// Message time of the next update.
    #[inline]
    pub fn now(&self) -> i64 {
        let n = self.len() as i64;
        self.round_start + ((self.k % n as u64) as i64 * self.interval) / n
    }

    /// Report every `interval_ms` and move `warp` normal steps per report
    /// from the next round on (speeds stay as they are).
    pub fn set_pace(&mut self, interval_ms: i64, warp: f64) {
        self.interval = interval_ms;
        self.warp = warp;
    }

    /// The next position report (moves one vessel one step).
    #[inline]
    pub fn next(&mut self) -> (&Decoded, i64) {
        let n = self.len() as u64;
        let pos = self.k % n;
        let i = self.order[pos as usize] as usize;
        let t = self.now();
        self.k += 1;
        if self.k % n == 0 {
            self.round_start += self.interval;
        }
        let w = self.warp;
        let v = &mut self.sims[i];
        let (mut lat, mut lon) = (v.lat + v.dlat * w, v.lon + v.dlon * w);
        if !(LAT.0..=LAT.1).contains(&lat) {
            v.dlat = -v.dlat;
            lat = v.lat;
        }
        if !(LON.0..=LON.1).contains(&lon) {
            v.dlon = -v.dlon;
            lon = v.lon;
        }
        v.lat = lat;
        v.lon = lon;
        let sog = v.sog;
        let d = &mut self.template;
        d.message.mmsi = mmsi(i as u32);
        d.payload_hash = self.rng.next_u64();
        if let Body::Position(p) = &mut d.message.body {
            p.lat = Some(lat);
            p.lon = Some(lon);
            p.speed = Some(sog);
        }
        (&self.template, t)
    }

    /// A type 5 (name, call sign, destination) for vessel `i`.
    pub fn voyage(&mut self, i: u32) -> Decoded {
        let mut d = self.template.clone();
        d.message.msg_type = 5;
        d.message.mmsi = mmsi(i);
        d.payload_hash = self.rng.next_u64();
        d.message.body = Body::StaticVoyage(StaticVoyage {
            ais_version: 2,
            imo: Some(9_000_000 + i),
            callsign: format!("C{:05}", i % 100_000),
            shipname: format!("VESSEL {i:08}"),
            shiptype: Some(70),
            dimensions: Dimensions {
                to_bow: 100,
                to_stern: 20,
                to_port: 10,
                to_starboard: 10,
            },
            epfd: 1,
            eta: Eta {
                month: Some(1),
                day: Some(2),
                hour: Some(3),
                minute: Some(4),
            },
            draught: Some(7.5),
            destination: String::from("VALLETTA"),
            dte: false,
        });
        d
    }
}

/// A picture with every vessel of the fleet reported once (and, with
/// `static_data`, one type 5 each), then aged to a steady state: 8 rounds
/// of reports 150 s apart, each moving a vessel as far as 15 ten-second
/// reports would (120 reports' worth, more than the ~86 an average vessel
/// needs to leave its first R-tree box), so that vessels sit at random
/// points of their R-tree and zone boxes as in a long-running picture.
/// Events drained; the fleet is back to reports every 10 s.
pub fn populate(
    fleet: &mut Fleet,
    cfg: PictureConfig,
    zones: ZoneIndex,
    static_data: bool,
) -> Picture {
    let mut p = Picture::new(cfg, zones);
    let n = fleet.len() as u32;
    for _ in 0..n {
        let (d, t) = fleet.next();
        p.apply(d, Some(t));
        if p.events().len() > 60_000 {
            p.events_mut().drain().for_each(drop);
        }
    }
    if static_data {
        let t = fleet.now();
        for i in 0..n {
            let d = fleet.voyage(i);
            p.apply(&d, Some(t));
            if p.events().len() > 60_000 {
                p.events_mut().drain().for_each(drop);
            }
        }
    }
    fleet.set_pace(150_000, 15.0);
    run_updates(&mut p, fleet, 8 * n as u64);
    fleet.set_pace(INTERVAL_MS, 1.0);
    // Finish the round at the warped pace's time base.
    while fleet.k % n as u64 != 0 {
        let (d, t) = fleet.next();
        p.apply(d, Some(t));
    }
    p.events_mut().drain().for_each(drop);
    p
}

/// Apply `count` updates, draining events every 8192 like a consumer.
#[inline(never)]
pub fn run_updates(p: &mut Picture, fleet: &mut Fleet, count: u64) -> u64 {
    let mut seen = 0u64;
    for k in 0..count {
        let (d, t) = fleet.next();
        p.apply(d, Some(t));
        if k & 8191 == 0 {
            for e in p.events_mut().drain() {
                seen = seen.wrapping_add(e.seq);
            }
        }
    }
    seen
}

pub fn shipped_zones() -> ZoneIndex {
    ZoneIndex::load(&[concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/zones")]).unwrap()
}

/// `n` random convex-ish polygons (6–16 vertices, radius 0.02°–0.3°,
/// about 1–35 nm across) scattered over the fleet's area, plus the shipped
/// zones.
pub fn random_zones(n: usize, seed: u64) -> ZoneIndex {
    let mut rng = Rng(seed);
    let mut zones = shipped_zones().zones().to_vec();
    for k in 0..n {
        let cx = rng.range(LON.0, LON.1);
        let cy = rng.range(LAT.0, LAT.1);
        let r = rng.range(0.02, 0.3);
        let m = 6 + (rng.next_u64() % 11) as usize;
        let pts: Vec<(f64, f64)> = (0..m)
            .map(|i| {
                let a = i as f64 / m as f64 * std::f64::consts::TAU;
                let rr = r * rng.range(0.7, 1.0);
                (cx + rr * a.cos() / cy.to_radians().cos(), cy + rr * a.sin())
            })
            .collect();
        zones.push(Zone::from_polygon(
            &format!("random-{k}"),
            ZoneKind::Watch,
            geo::Polygon::new(geo::LineString::from(pts), vec![]),
        ));
    }
    ZoneIndex::new(zones).unwrap()
}
