//! The simulation loop: a priority queue of "next report due" times, one
//! entry per vessel, popped in message-time order. Each pop advances that
//! vessel's kinematics to the due time, emits its position report (and its
//! static report every six minutes), and schedules the next report by the
//! ITU-R M.1371 reporting intervals:
//!
//! | station | when | interval |
//! |---|---|---|
//! | class A | at anchor / moored / under 3 kn holding | 3 min |
//! | class A | 0–14 kn | 10 s |
//! | class A | 14–23 kn | 6 s |
//! | class A | over 23 kn | 2 s |
//! | class B (CS) | over 2 kn | 30 s |
//! | class B (CS) | 2 kn or less | 3 min |
//! | SAR aircraft | | 10 s |
//! | AIS-SART | | 1 min (position), 4 min (safety text) |
//! | static/voyage (5, 24 A+B) | | 6 min |
//!
//! Scripted events are applied at their time, before any report due at or
//! after it, so the output is one deterministic, time-ordered stream.

use crate::fleet::{Identity, Registry};
use crate::motion::{Kinematics, Motion};
use crate::scenario::{Event, FleetKind, Scenario, ScenarioError};
use crate::sphere::{destination, distance_m, NM};
use lookout_ais::encode::{encode_message, sentences, with_tag_block};
use lookout_ais::messages::*;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// What a simulated station is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Fleet(FleetKind),
    Sart { test: bool },
}

struct SimVessel {
    id: Identity,
    role: Role,
    kin: Kinematics,
    status: u8,
    next_static_ms: i64,
    /// Stops transmitting at this time (going dark, SART test ending).
    silent_from: Option<i64>,
    /// Switch to this motion at this time.
    then_at: Option<(i64, Motion)>,
}

/// Generates a recording from a scenario.
pub struct Simulator {
    start_ms: i64,
    station: String,
    rng: fastrand::Rng,
    registry: Registry,
    vessels: Vec<SimVessel>,
    due: BinaryHeap<Reverse<(i64, usize)>>,
    events: Vec<(i64, Event)>,
    next_event: usize,
    seq_id: u8,
    channel_b: bool,
    lines: u64,
}

const MIN: i64 = 60_000;

impl Simulator {
    /// Build the initial fleet of `scenario`.
    pub fn new(scenario: &Scenario) -> Result<Simulator, ScenarioError> {
        let start_ms = scenario.start_ms()?;
        let mut sim = Simulator {
            start_ms,
            station: scenario.station.clone(),
            rng: fastrand::Rng::with_seed(scenario.seed),
            registry: Registry::new(),
            vessels: Vec::new(),
            due: BinaryHeap::new(),
            events: Vec::new(),
            next_event: 0,
            seq_id: 0,
            channel_b: false,
            lines: 0,
        };
        for fleet in &scenario.fleets {
            for _ in 0..fleet.count {
                let lane = fleet
                    .lane
                    .as_ref()
                    .and_then(|n| scenario.lanes.iter().find(|l| &l.name == n));
                let area = fleet
                    .area
                    .as_ref()
                    .and_then(|n| scenario.areas.iter().find(|a| &a.name == n));
                let kin = match (lane, area) {
                    (Some(l), _) => sim.on_lane(&l.points, fleet.kind),
                    (None, Some(a)) => sim.in_area(a.bbox, fleet.kind),
                    (None, None) => continue,
                };
                let id = sim.registry.identity(fleet.kind, &mut sim.rng);
                let status = match fleet.kind {
                    FleetKind::Fishing => 7,
                    FleetKind::Pleasure | FleetKind::SarAircraft => 15,
                    _ => 0,
                };
                sim.add(id, Role::Fleet(fleet.kind), kin, status, None);
            }
        }
        // Scripted events: some spawn their actors now (so they are on the
        // picture before the situation), all act at their time.
        let mut events: Vec<(i64, Event)> = scenario
            .events
            .iter()
            .map(|e| (start_ms + at(e).as_millis() as i64, e.clone()))
            .collect();
        events.sort_by_key(|(t, _)| *t);
        for (t, e) in &events {
            sim.prepare(*t, e);
        }
        sim.events = events;
        Ok(sim)
    }

    /// Lines written so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Stations simulated so far (including those spawned by events).
    pub fn stations(&self) -> usize {
        self.vessels.len()
    }

    fn on_lane(&mut self, points: &[[f64; 2]], kind: FleetKind) -> Kinematics {
        let seg = self.rng.usize(0..points.len() - 1);
        let f = self.rng.f64();
        let [x0, y0] = points[seg];
        let [x1, y1] = points[seg + 1];
        // Spread ships across the lane's width (about ±3 NM).
        let (lat, lon) = destination(
            y0 + (y1 - y0) * f,
            x0 + (x1 - x0) * f,
            self.rng.f64() * 360.0,
            self.rng.f64() * 3.0 * NM,
        );
        let forward = self.rng.bool();
        let cruise = match kind {
            FleetKind::Merchant => 10.0 + self.rng.f64() * 10.0,
            _ => 8.0 + self.rng.f64() * 6.0,
        };
        Kinematics {
            lat,
            lon,
            sog: cruise,
            cog: 0.0,
            cruise,
            motion: Motion::Lane {
                points: points.to_vec(),
                next: if forward { seg + 1 } else { seg },
                forward,
            },
            t_ms: self.start_ms,
        }
    }

    fn in_area(&mut self, bbox: [f64; 4], kind: FleetKind) -> Kinematics {
        let [x0, y0, x1, y1] = bbox;
        let lon = x0 + (x1 - x0) * self.rng.f64();
        let lat = y0 + (y1 - y0) * self.rng.f64();
        let cruise = match kind {
            FleetKind::Fishing => 3.0 + self.rng.f64() * 4.0,
            FleetKind::Pleasure => 5.0 + self.rng.f64() * 12.0,
            FleetKind::Patrol => 10.0 + self.rng.f64() * 6.0,
            FleetKind::Rescue => 4.0 + self.rng.f64() * 6.0,
            FleetKind::SarAircraft => 130.0 + self.rng.f64() * 40.0,
            FleetKind::Merchant => 12.0,
        };
        Kinematics {
            lat,
            lon,
            sog: cruise,
            cog: self.rng.f64() * 360.0,
            cruise,
            motion: Motion::Wander {
                bbox,
                change_at_ms: self.start_ms,
            },
            t_ms: self.start_ms,
        }
    }

    fn add(
        &mut self,
        id: Identity,
        role: Role,
        kin: Kinematics,
        status: u8,
        first_ms: Option<i64>,
    ) -> usize {
        let idx = self.vessels.len();
        let t0 = kin.t_ms;
        let first = first_ms.unwrap_or_else(|| t0 + self.rng.i64(0..10_000));
        let next_static_ms = t0 + self.rng.i64(0..6 * MIN);
        self.vessels.push(SimVessel {
            id,
            role,
            kin,
            status,
            next_static_ms,
            silent_from: None,
            then_at: None,
        });
        self.due.push(Reverse((first, idx)));
        idx
    }

    /// Spawn the actors of a scripted event (at the start, or at the event
    /// time for beacons).
    fn prepare(&mut self, t: i64, e: &Event) {
        let start = self.start_ms;
        match *e {
            Event::GoDark { lon, lat, .. } => {
                // A fishing vessel working around the point, silent from t.
                let bbox = [lon - 0.05, lat - 0.05, lon + 0.05, lat + 0.05];
                let mut kin = self.in_area(bbox, FleetKind::Fishing);
                kin.lat = lat;
                kin.lon = lon;
                let id = self.registry.identity(FleetKind::Fishing, &mut self.rng);
                let i = self.add(id, Role::Fleet(FleetKind::Fishing), kin, 7, None);
                self.vessels[i].silent_from = Some(t);
            }
            Event::Loiter {
                lon, lat, duration, ..
            } => {
                let i = self.approach(t, lat, lon, 270.0, FleetKind::Fishing);
                let leave = Motion::Wander {
                    bbox: [lon - 0.5, lat - 0.5, lon + 0.5, lat + 0.5],
                    change_at_ms: 0,
                };
                self.vessels[i].then_at = Some((t + duration.as_millis() as i64, leave));
            }
            Event::Encounter {
                lon, lat, duration, ..
            } => {
                // Two ships meet about 150 m apart.
                let (lat2, lon2) = destination(lat, lon, 90.0, 150.0);
                let a = self.approach(t, lat, lon, 0.0, FleetKind::Fishing);
                let b = self.approach(t, lat2, lon2, 180.0, FleetKind::Merchant);
                let end = t + duration.as_millis() as i64;
                for (i, dir) in [(a, 0.0), (b, 180.0)] {
                    let (y, x) = destination(lat, lon, dir, 30.0 * NM);
                    let away = Motion::GoTo {
                        lat: y,
                        lon: x,
                        arrive_ms: end + 3 * 3_600_000,
                        then: Box::new(Motion::Hold { lat: y, lon: x }),
                    };
                    self.vessels[i].then_at = Some((end, away));
                }
            }
            Event::SartActivation { .. } | Event::SartTest { .. } => {
                let _ = start;
            }
        }
    }

    /// A vessel that starts `10 NM` from the point (in direction `from`) and
    /// arrives at it at time `t`, then holds there.
    fn approach(&mut self, t: i64, lat: f64, lon: f64, from: f64, kind: FleetKind) -> usize {
        let minutes = ((t - self.start_ms) / MIN).max(0) as f64;
        let dist = (minutes / 60.0 * 8.0 * NM).min(10.0 * NM);
        let (y, x) = destination(lat, lon, from, dist);
        let kin = Kinematics {
            lat: y,
            lon: x,
            sog: 8.0,
            cog: (from + 180.0) % 360.0,
            cruise: 8.0,
            motion: Motion::GoTo {
                lat,
                lon,
                arrive_ms: t,
                then: Box::new(Motion::Hold { lat, lon }),
            },
            t_ms: self.start_ms,
        };
        let id = self.registry.identity(kind, &mut self.rng);
        let status = if kind == FleetKind::Fishing { 7 } else { 0 };
        self.add(id, Role::Fleet(kind), kin, status, None)
    }

    fn act(&mut self, t: i64, e: &Event) {
        match *e {
            Event::SartActivation { lon, lat, .. } | Event::SartTest { lon, lat, .. } => {
                let test = matches!(e, Event::SartTest { .. });
                let id = self.registry.sart();
                let kin = Kinematics {
                    lat,
                    lon,
                    sog: 0.5,
                    cog: 0.0,
                    cruise: 0.5,
                    motion: Motion::Hold { lat, lon },
                    t_ms: t,
                };
                let i = self.add(
                    id,
                    Role::Sart { test },
                    kin,
                    if test { 15 } else { 14 },
                    Some(t),
                );
                self.vessels[i].next_static_ms = t;
                if test {
                    self.vessels[i].silent_from = Some(t + 5 * MIN);
                }
            }
            Event::GoDark { .. } | Event::Loiter { .. } | Event::Encounter { .. } => {}
        }
    }

    /// Run until `duration_ms` after the start, calling `emit(time_ms,
    /// line)` for every line in time order. Can be called again to continue.
    pub fn run_for(&mut self, duration_ms: i64, mut emit: impl FnMut(i64, &str)) {
        let end = self.start_ms + duration_ms;
        loop {
            let next_due = self.due.peek().map(|Reverse((t, _))| *t);
            let next_evt = self.events.get(self.next_event).map(|(t, _)| *t);
            match (next_due, next_evt) {
                (_, Some(te)) if te <= end && next_due.is_none_or(|td| te <= td) => {
                    let (t, e) = self.events[self.next_event].clone();
                    self.next_event += 1;
                    self.act(t, &e);
                }
                (Some(td), _) if td < end => {
                    let Reverse((t, i)) = self.due.pop().expect("peeked");
                    if let Some(next) = self.report(t, i, &mut emit) {
                        self.due.push(Reverse((next, i)));
                    }
                }
                _ => break,
            }
        }
    }

    /// Emit vessel `i`'s reports due at `t`; returns when it reports next.
    fn report(&mut self, t: i64, i: usize, emit: &mut impl FnMut(i64, &str)) -> Option<i64> {
        let mut rng = std::mem::replace(&mut self.rng, fastrand::Rng::with_seed(0));
        let v = &mut self.vessels[i];
        if let Some((when, _)) = &v.then_at {
            if t >= *when {
                let (_, m) = v.then_at.take().expect("checked");
                v.kin.motion = m;
            }
        }
        v.kin.advance(t, &mut rng);
        self.rng = rng;
        let v = &self.vessels[i];
        if v.silent_from.is_some_and(|s| t >= s) {
            return None;
        }
        let mut msgs = vec![self.position_message(i, t)];
        let v = &self.vessels[i];
        let static_due = t >= v.next_static_ms;
        if static_due {
            msgs.extend(self.static_messages(i));
            self.vessels[i].next_static_ms = t + match self.vessels[i].role {
                Role::Sart { .. } => 4 * MIN,
                _ => 6 * MIN,
            };
        }
        for m in msgs {
            self.emit_message(t, &m, emit);
        }
        Some(t + self.interval(i))
    }

    fn interval(&self, i: usize) -> i64 {
        let v = &self.vessels[i];
        let holding = matches!(v.kin.motion, Motion::Hold { .. });
        match v.role {
            Role::Sart { .. } => MIN,
            Role::Fleet(FleetKind::SarAircraft) => 10_000,
            Role::Fleet(_) if v.id.class_b => {
                if v.kin.sog > 2.0 {
                    30_000
                } else {
                    3 * MIN
                }
            }
            Role::Fleet(_) => {
                let sog = v.kin.sog;
                if (holding && sog < 3.0) || matches!(v.status, 1 | 5) {
                    3 * MIN
                } else if sog <= 14.0 {
                    10_000
                } else if sog <= 23.0 {
                    6_000
                } else {
                    2_000
                }
            }
        }
    }

    fn position_message(&self, i: usize, t: i64) -> AisMessage {
        let v = &self.vessels[i];
        let k = &v.kin;
        let second = Some(TimeStamp::Second(((t / 1000) % 60) as u8));
        let heading = Some((k.cog.round() as u16) % 360);
        let body = match v.role {
            Role::Fleet(FleetKind::SarAircraft) => Body::SarAircraft(SarAircraftReport {
                alt: Some(300),
                speed: Some(k.sog.round() as u16),
                accuracy: true,
                lon: Some(k.lon),
                lat: Some(k.lat),
                course: Some((k.cog * 10.0).round() / 10.0),
                second,
                regional: 0,
                dte: false,
                assigned: false,
                raim: false,
                radio: 0,
            }),
            Role::Fleet(_) if v.id.class_b => Body::ClassBPosition(ClassBPosition {
                reserved: 0,
                speed: Some((k.sog * 10.0).round() / 10.0),
                accuracy: false,
                lon: Some(k.lon),
                lat: Some(k.lat),
                course: Some((k.cog * 10.0).round() / 10.0),
                heading: None,
                second,
                regional: 0,
                cs: true,
                display: false,
                dsc: true,
                band: true,
                msg22: true,
                assigned: false,
                raim: false,
                radio: 0,
            }),
            _ => Body::Position(PositionReport {
                status: v.status,
                turn: Some(Turn::Rate(0.0)),
                speed: Some((k.sog * 10.0).round() / 10.0),
                accuracy: true,
                lon: Some(k.lon),
                lat: Some(k.lat),
                course: Some((k.cog * 10.0).round() / 10.0),
                heading: if matches!(v.role, Role::Sart { .. }) {
                    None
                } else {
                    heading
                },
                second,
                maneuver: 0,
                raim: false,
                radio: 0,
            }),
        };
        let msg_type = match body {
            Body::SarAircraft(_) => 9,
            Body::ClassBPosition(_) => 18,
            _ => 1,
        };
        AisMessage {
            msg_type,
            repeat: 0,
            mmsi: v.id.mmsi,
            body,
        }
    }

    fn static_messages(&self, i: usize) -> Vec<AisMessage> {
        let v = &self.vessels[i];
        let id = &v.id;
        let dims = Dimensions {
            to_bow: id.dims.0,
            to_stern: id.dims.1,
            to_port: id.dims.2,
            to_starboard: id.dims.3,
        };
        let msg = |msg_type, body| AisMessage {
            msg_type,
            repeat: 0,
            mmsi: id.mmsi,
            body,
        };
        match v.role {
            Role::Sart { test } => vec![msg(
                14,
                Body::SafetyBroadcast {
                    text: if test { "SART TEST" } else { "SART ACTIVE" }.into(),
                },
            )],
            Role::Fleet(FleetKind::SarAircraft) => vec![],
            Role::Fleet(_) if id.class_b => vec![
                msg(
                    24,
                    Body::StaticData(StaticDataReport::PartA {
                        shipname: id.name.clone(),
                    }),
                ),
                msg(
                    24,
                    Body::StaticData(StaticDataReport::PartB(StaticPartB {
                        shiptype: Some(id.shiptype),
                        vendorid: "SIM".into(),
                        model: 1,
                        serial: id.mmsi % 1_000_000,
                        callsign: id.callsign.clone(),
                        dimensions: dims,
                        mothership_mmsi: None,
                    })),
                ),
            ],
            Role::Fleet(kind) => {
                let destination = match kind {
                    FleetKind::Merchant => [
                        "VALLETTA",
                        "AUGUSTA",
                        "TRIPOLI",
                        "PIRAEUS",
                        "GIBRALTAR",
                        "PORT SAID",
                    ][(id.mmsi % 6) as usize],
                    FleetKind::Fishing => "FISHING GROUNDS",
                    _ => "PATROL",
                };
                vec![msg(
                    5,
                    Body::StaticVoyage(StaticVoyage {
                        ais_version: 2,
                        imo: id.imo,
                        callsign: id.callsign.clone(),
                        shipname: id.name.clone(),
                        shiptype: Some(id.shiptype),
                        dimensions: dims,
                        epfd: 1,
                        eta: Eta {
                            month: Some(12),
                            day: Some(1 + (id.mmsi % 28) as u8),
                            hour: Some((id.mmsi % 24) as u8),
                            minute: Some(0),
                        },
                        draught: Some(match kind {
                            FleetKind::Merchant => 6.0 + (id.mmsi % 80) as f64 / 10.0,
                            _ => 3.5,
                        }),
                        destination: destination.into(),
                        dte: false,
                    }),
                )]
            }
        }
    }

    fn emit_message(&mut self, t: i64, m: &AisMessage, emit: &mut impl FnMut(i64, &str)) {
        let Ok(bits) = encode_message(m) else { return };
        self.channel_b = !self.channel_b;
        let chan = if self.channel_b { 'B' } else { 'A' };
        let parts = sentences(&bits, "AI", Some(chan), self.seq_id);
        if parts.len() > 1 {
            self.seq_id = (self.seq_id + 1) % 10;
        }
        let tag = format!("s:{},c:{}", self.station, t.div_euclid(1000));
        for p in parts {
            self.lines += 1;
            emit(t, &with_tag_block(&tag, &p));
        }
    }
}

fn at(e: &Event) -> std::time::Duration {
    match *e {
        Event::SartActivation { at, .. }
        | Event::SartTest { at, .. }
        | Event::GoDark { at, .. }
        | Event::Loiter { at, .. }
        | Event::Encounter { at, .. } => at,
    }
}

/// Distance helper re-exported for tests of scripted situations.
pub fn separation_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    distance_m(a.0, a.1, b.0, b.1)
}
