//! Each alert rule against scripted tracks that must raise it and control
//! tracks that must not (passing ships, anchored ships in port, a SART in
//! test mode, a ship skirting a zone edge), all on message time — run
//! through the engine, as every server and replay runs them.
//!
//! Every scenario runs twice: with its vessels alone, and with unrelated
//! traffic reporting every 10 s around them (fast ships crossing the
//! patrol box, ships far away). The same assertions must hold, raise and
//! clear times included: a rule decides from its vessels' reports and
//! message time, never from other traffic.

use alerts::{Alert, AlertKind, AlertState, Severity};
use engine::{Engine, EngineConfig};
use lookout_ais::encode::{encode_message, sentences, with_tag_block};
use lookout_ais::messages::*;
use lookout_ais::LineContext;
use spatial_index::zones::geojson::parse_str;
use spatial_index::ZoneIndex;

const T0: i64 = 1_795_845_600_000; // 2026-11-28T06:00:00Z
const MIN: i64 = 60_000;

/// A patrol area 12–13°E 35–36°N with a port in one corner and a
/// no-alerts zone beside it.
fn zones() -> ZoneIndex {
    let fc = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"id":"patrol","name":"Patrol box","kind":"patrol_area"},
       "geometry":{"type":"Polygon","coordinates":[[[12,35],[13,35],[13,36],[12,36],[12,35]]]}},
      {"type":"Feature","properties":{"id":"harbour","name":"Harbour","kind":"port"},
       "geometry":{"type":"Polygon","coordinates":[[[12.5,35.5],[12.6,35.5],[12.6,35.6],[12.5,35.6],[12.5,35.5]]]}},
      {"type":"Feature","properties":{"id":"quiet","name":"Quiet","kind":"watch","alerts":false},
       "geometry":{"type":"Polygon","coordinates":[[[14,35],[15,35],[15,36],[14,36],[14,35]]]}}
    ]}"#;
    ZoneIndex::new(parse_str("test.geojson", fc).unwrap()).unwrap()
}

thread_local! {
    /// Whether [`World::new`] adds unrelated traffic (set per test).
    static TRAFFIC: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// MMSIs of the unrelated traffic (their alerts are not the scenario's).
fn is_traffic(mmsi: u32) -> bool {
    mmsi / 1000 == 563_999
}

struct World {
    engine: Engine,
    changes: Vec<Alert>,
    traffic: bool,
    /// Message time the traffic has been sent up to.
    traffic_to: Option<i64>,
}

impl World {
    fn new() -> World {
        World {
            engine: Engine::standalone(EngineConfig::default(), zones()),
            changes: Vec::new(),
            traffic: TRAFFIC.with(|t| t.get()),
            traffic_to: None,
        }
    }

    fn feed(&mut self, t: i64, msg: &AisMessage) {
        let bits = encode_message(msg).unwrap();
        let ctx = LineContext {
            source: 0,
            received_ms: Some(t),
        };
        for s in sentences(&bits, "AI", Some('A'), 0) {
            let line = with_tag_block(&format!("s:test,c:{}", t / 1000), &s);
            self.engine.feed_raw(line.as_bytes(), &ctx).unwrap();
        }
        let changes = self.engine.take_alerts();
        self.changes.extend(
            changes
                .into_iter()
                .filter(|a| !(is_traffic(a.mmsi) && a.other_mmsi.is_none_or(is_traffic))),
        );
    }

    /// Unrelated traffic every 10 s of message time before `t`: three
    /// ships at 15 kn crossing the patrol box on 35.95°N, three far away.
    fn traffic_until(&mut self, t: i64) {
        if !self.traffic {
            return;
        }
        let mut tt = match self.traffic_to {
            Some(last) => last + 10_000,
            None => t - 10_000,
        };
        while tt < t {
            let hours = (tt - T0) as f64 / 3_600_000.0;
            for i in 0..6u32 {
                let (lat, lon0) = if i < 3 {
                    (35.95 - i as f64 * 0.01, 12.02)
                } else {
                    (40.0 + i as f64 * 0.1, 20.0)
                };
                let lon = lon0 + 15.0 * hours.max(0.0) / 60.0 / lat.to_radians().cos();
                self.feed(tt, &pos(563_999_000 + i, lat, lon, 15.0, 90.0, 0));
            }
            self.traffic_to = Some(tt);
            tt += 10_000;
        }
    }

    fn send(&mut self, t: i64, msg: AisMessage) {
        self.traffic_until(t);
        self.feed(t, &msg);
    }

    /// Let message time run to `t` without a message of the scenario's
    /// (other traffic goes on; alone, as a live feed's receive clock does).
    fn settle(&mut self, t: i64) {
        self.traffic_until(t);
        self.engine.advance_to(t);
        self.changes.extend(self.engine.take_alerts());
    }

    fn raised(&self, kind: AlertKind) -> Vec<&Alert> {
        self.changes
            .iter()
            .filter(|a| a.kind == kind && a.state == AlertState::Raised)
            .collect()
    }

    fn cleared(&self, kind: AlertKind) -> Vec<&Alert> {
        self.changes
            .iter()
            .filter(|a| a.kind == kind && a.state == AlertState::Cleared)
            .collect()
    }
}

fn pos(mmsi: u32, lat: f64, lon: f64, sog: f64, cog: f64, status: u8) -> AisMessage {
    AisMessage {
        msg_type: 1,
        repeat: 0,
        mmsi,
        body: Body::Position(PositionReport {
            status,
            turn: None,
            speed: Some(sog),
            accuracy: true,
            lon: Some(lon),
            lat: Some(lat),
            course: Some(cog),
            heading: Some(cog as u16),
            second: Some(TimeStamp::Second(0)),
            maneuver: 0,
            raim: false,
            radio: 0,
        }),
    }
}

fn text(mmsi: u32, t: &str) -> AisMessage {
    AisMessage {
        msg_type: 14,
        repeat: 0,
        mmsi,
        body: Body::SafetyBroadcast { text: t.into() },
    }
}

#[allow(clippy::too_many_arguments)]
/// A straight track: from (lat, lon) at `sog` kn due east, a report every
/// `every` ms from t0 for `dur` ms.
fn sail(
    w: &mut World,
    mmsi: u32,
    lat: f64,
    lon: f64,
    sog: f64,
    t0: i64,
    dur: i64,
    every: i64,
    status: u8,
) {
    let mut t = t0;
    while t <= t0 + dur {
        let hours = (t - t0) as f64 / 3_600_000.0;
        let dlon = sog * hours / 60.0 / lat.to_radians().cos();
        w.send(t, pos(mmsi, lat, lon + dlon, sog, 90.0, status));
        t += every;
    }
}

fn zone_enter_and_exit_with_hysteresis_and_no_flapping_along_the_edge() {
    let mut w = World::new();
    // Crosses into the patrol box at 12°E and out at 13°E.
    sail(
        &mut w,
        247_000_001,
        35.2,
        11.9,
        20.0,
        T0,
        5 * 60 * MIN,
        30_000,
        0,
    );
    w.settle(T0 + 6 * 60 * MIN);
    let enter = w.raised(AlertKind::ZoneEnter);
    assert_eq!(enter.len(), 1, "{:?}", w.changes);
    assert_eq!(enter[0].zone.as_deref(), Some("patrol"));
    assert_eq!(enter[0].severity, Severity::Info);
    assert!(enter[0].message.contains("entered Patrol box"));
    assert_eq!(w.raised(AlertKind::ZoneExit).len(), 1);
    assert_eq!(w.cleared(AlertKind::ZoneEnter).len(), 1);

    // Control: a ship skirting the western edge, in and out every minute.
    let mut w = World::new();
    w.send(T0, pos(247_000_002, 35.5, 11.99, 5.0, 0.0, 0)); // first seen outside
    for k in 1..60 {
        let lon = if k % 2 == 0 { 11.999 } else { 12.001 };
        w.send(
            T0 + k * MIN,
            pos(247_000_002, 35.5 + k as f64 * 0.001, lon, 5.0, 0.0, 0),
        );
    }
    w.settle(T0 + 61 * MIN);
    assert_eq!(
        w.raised(AlertKind::ZoneEnter).len(),
        1,
        "one entry, no flapping"
    );
    assert!(w.raised(AlertKind::ZoneExit).len() <= 1);

    // Control: first seen inside is not an entry; a zone with alerts:false
    // never alerts.
    let mut w = World::new();
    sail(
        &mut w,
        247_000_003,
        35.5,
        12.2,
        10.0,
        T0,
        30 * MIN,
        10_000,
        0,
    );
    sail(
        &mut w,
        247_000_004,
        35.5,
        13.9,
        10.0,
        T0,
        60 * MIN,
        10_000,
        0,
    );
    w.settle(T0 + 70 * MIN);
    assert!(w.raised(AlertKind::ZoneEnter).is_empty(), "{:?}", w.changes);
}

fn distress_beacon_once_per_activation_and_test_mode_is_info() {
    let mut w = World::new();
    let sart = 970_215_001;
    for k in 0..30 {
        w.send(T0 + k * MIN, pos(sart, 34.7, 13.1, 0.5, 0.0, 14));
        if k % 4 == 0 {
            w.send(T0 + k * MIN, text(sart, "SART ACTIVE"));
        }
    }
    let raised = w.raised(AlertKind::DistressBeacon);
    assert_eq!(raised.len(), 1, "once per activation");
    assert_eq!(raised[0].severity, Severity::Critical);
    assert!(raised[0].message.contains("AIS-SART") && raised[0].message.contains("34°42.0'N"));
    assert!(w
        .changes
        .iter()
        .any(|a| a.kind == AlertKind::DistressBeacon && a.state == AlertState::Updated));
    // Silent long enough to be lost: the activation ends.
    w.settle(T0 + 3 * 60 * MIN);
    assert_eq!(w.cleared(AlertKind::DistressBeacon).len(), 1);
    // A new activation is a new alert.
    w.send(T0 + 4 * 60 * MIN, pos(sart, 34.8, 13.1, 0.5, 0.0, 14));
    assert_eq!(w.raised(AlertKind::DistressBeacon).len(), 2);

    // Test mode (status 15 and "SART TEST") is info, never critical.
    let mut w = World::new();
    for k in 0..5 {
        w.send(T0 + k * MIN, pos(972_215_001, 35.9, 14.5, 0.0, 0.0, 15));
        w.send(T0 + k * MIN, text(972_215_001, "MOB TEST"));
    }
    assert!(w.raised(AlertKind::DistressBeacon).is_empty());
    let t = w.raised(AlertKind::DistressBeaconTest);
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].severity, Severity::Info);

    // Control: an ordinary ship with status 14 is not a beacon.
    let mut w = World::new();
    w.send(T0, pos(247_000_010, 35.0, 12.5, 0.0, 0.0, 14));
    assert!(w.raised(AlertKind::DistressBeacon).is_empty());
}

fn ais_gap_after_thirty_minutes_silent_in_a_zone() {
    let mut w = World::new();
    sail(
        &mut w,
        247_000_020,
        35.4,
        12.4,
        6.0,
        T0,
        20 * MIN,
        10_000,
        0,
    ); // in zone, then silent
    sail(
        &mut w,
        247_000_021,
        34.0,
        10.0,
        6.0,
        T0,
        20 * MIN,
        10_000,
        0,
    ); // outside zones, then silent
    sail(
        &mut w,
        247_000_022,
        35.6,
        12.2,
        6.0,
        T0,
        45 * MIN,
        10_000,
        0,
    ); // keeps reporting
    w.settle(T0 + 49 * MIN);
    assert!(
        w.raised(AlertKind::AisGap).is_empty(),
        "29 minutes is not 30"
    );
    sail(
        &mut w,
        247_000_022,
        35.6,
        12.3,
        6.0,
        T0 + 46 * MIN,
        30 * MIN,
        10_000,
        0,
    );
    let gaps = w.raised(AlertKind::AisGap);
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(gaps[0].mmsi, 247_000_020);
    assert_eq!(gaps[0].zone.as_deref(), Some("patrol"));
    // Heard again: cleared.
    w.send(T0 + 90 * MIN, pos(247_000_020, 35.4, 12.5, 6.0, 90.0, 0));
    assert_eq!(w.cleared(AlertKind::AisGap).len(), 1);
}

fn loitering_only_outside_ports_and_only_after_an_hour() {
    let mut w = World::new();
    sail(
        &mut w,
        247_000_030,
        35.2,
        12.2,
        1.0,
        T0,
        70 * MIN,
        3 * MIN,
        7,
    ); // slow in patrol box
    sail(
        &mut w,
        247_000_031,
        35.55,
        12.55,
        0.0,
        T0,
        120 * MIN,
        3 * MIN,
        1,
    ); // at anchor in the port
    sail(
        &mut w,
        247_000_032,
        35.8,
        12.8,
        1.0,
        T0,
        50 * MIN,
        3 * MIN,
        7,
    ); // slow, but only 50 min
    sail(
        &mut w,
        247_000_032,
        35.8,
        12.8,
        9.0,
        T0 + 53 * MIN,
        30 * MIN,
        10_000,
        0,
    ); // then under way
    w.settle(T0 + 121 * MIN);
    let l = w.raised(AlertKind::Loitering);
    assert_eq!(l.len(), 1, "{l:?}");
    assert_eq!(l[0].mmsi, 247_000_030);
    assert_eq!(l[0].time, T0 + 60 * MIN);
    // Gets under way: cleared.
    sail(
        &mut w,
        247_000_030,
        35.2,
        12.3,
        8.0,
        T0 + 125 * MIN,
        5 * MIN,
        10_000,
        0,
    );
    assert_eq!(w.cleared(AlertKind::Loitering).len(), 1);
}

fn encounter_of_two_slow_vessels_but_not_passing_ships_or_in_port() {
    let mut w = World::new();
    for k in 0..=40 {
        let t = T0 + k * MIN;
        // Alongside each other, ~150 m apart, drifting at 1 kn.
        w.send(t, pos(247_000_040, 35.30, 12.40, 1.0, 0.0, 0));
        w.send(t, pos(247_000_041, 35.30, 12.4016, 1.5, 0.0, 0));
        // Two ships passing each other at speed.
        let d = k as f64 * 0.005;
        w.send(t, pos(247_000_042, 35.10, 12.20 + d, 12.0, 90.0, 0));
        w.send(t, pos(247_000_043, 35.1005, 12.40 - d, 12.0, 270.0, 0));
        // Two slow vessels close together inside the port.
        w.send(t, pos(247_000_044, 35.55, 12.55, 0.0, 0.0, 5));
        w.send(t, pos(247_000_045, 35.551, 12.551, 0.0, 0.0, 5));
    }
    let e = w.raised(AlertKind::Encounter);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(
        (e[0].mmsi, e[0].other_mmsi),
        (247_000_040, Some(247_000_041))
    );
    assert!(e[0].time >= T0 + 30 * MIN && e[0].time <= T0 + 31 * MIN);
    // They separate (a plausible move: ~600 m in 2 minutes): cleared at
    // that report.
    w.send(
        T0 + 42 * MIN,
        pos(247_000_041, 35.3054, 12.4016, 9.0, 0.0, 0),
    );
    let c = w.cleared(AlertKind::Encounter);
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0].time, T0 + 42 * MIN);
}

fn position_jump_but_not_for_sar_aircraft() {
    let mut w = World::new();
    w.send(T0, pos(247_000_050, 35.0, 12.5, 10.0, 0.0, 0));
    w.send(T0 + MIN, pos(247_000_050, 36.0, 12.5, 10.0, 0.0, 0)); // 60 NM in a minute
    let j = w.raised(AlertKind::PositionJump);
    assert_eq!(j.len(), 1);
    assert!(j[0].message.contains("kn"));
    // A SAR aircraft at 140 kn is fine.
    let mut w = World::new();
    for k in 0..10 {
        let lat = 35.0 + k as f64 * 140.0 / 60.0 / 60.0;
        w.send(
            T0 + k * MIN,
            AisMessage {
                msg_type: 9,
                repeat: 0,
                mmsi: 111_247_001,
                body: Body::SarAircraft(SarAircraftReport {
                    alt: Some(300),
                    speed: Some(140),
                    accuracy: true,
                    lon: Some(12.5),
                    lat: Some(lat),
                    course: Some(0.0),
                    second: None,
                    regional: 0,
                    dte: false,
                    assigned: false,
                    raim: false,
                    radio: 0,
                }),
            },
        );
    }
    assert!(w.raised(AlertKind::PositionJump).is_empty());
}

fn nav_status_not_under_command_or_aground_in_a_zone() {
    let mut w = World::new();
    w.send(T0, pos(247_000_060, 35.3, 12.3, 0.0, 0.0, 6)); // aground in the patrol box
    w.send(T0, pos(247_000_061, 34.0, 10.0, 0.0, 0.0, 2)); // NUC, outside zones
    let n = w.raised(AlertKind::NavStatus);
    assert_eq!(n.len(), 1);
    assert!(n[0].message.contains("aground"));
    w.send(T0 + MIN, pos(247_000_060, 35.3, 12.3, 0.0, 0.0, 0));
    assert_eq!(w.cleared(AlertKind::NavStatus).len(), 1);
}

fn acknowledgement_and_deterministic_ids() {
    let run = || {
        let mut w = World::new();
        sail(
            &mut w,
            247_000_070,
            35.2,
            11.9,
            20.0,
            T0,
            60 * MIN,
            30_000,
            0,
        );
        for k in 0..10 {
            w.send(T0 + k * MIN, pos(970_215_009, 34.7, 13.1, 0.5, 0.0, 14));
        }
        w
    };
    let (a, mut b) = (run(), run());
    assert_eq!(a.changes, b.changes, "same input, same alerts");
    let id = b.raised(AlertKind::DistressBeacon)[0].id.clone();
    let acked = b
        .engine
        .acknowledge_at(&id, "duty officer", Some("RESCUE 1 tasked"), T0 + 11 * MIN)
        .unwrap();
    assert_eq!(acked.state, AlertState::Acknowledged);
    assert_eq!(acked.acknowledged_by.as_deref(), Some("duty officer"));
    assert_eq!(
        b.engine
            .rules()
            .list(Some(AlertState::Acknowledged), None)
            .len(),
        1
    );
}

/// Each scenario alone and with unrelated traffic around it.
macro_rules! alone_and_in_traffic {
    ($($script:ident => $alone:ident, $traffic:ident;)*) => {$(
        #[test]
        fn $alone() {
            TRAFFIC.with(|t| t.set(false));
            $script();
        }
        #[test]
        fn $traffic() {
            TRAFFIC.with(|t| t.set(true));
            $script();
        }
    )*};
}

alone_and_in_traffic! {
    zone_enter_and_exit_with_hysteresis_and_no_flapping_along_the_edge => zone_enter_and_exit_with_hysteresis_and_no_flapping_along_the_edge_alone, zone_enter_and_exit_with_hysteresis_and_no_flapping_along_the_edge_in_traffic;
    distress_beacon_once_per_activation_and_test_mode_is_info => distress_beacon_once_per_activation_and_test_mode_is_info_alone, distress_beacon_once_per_activation_and_test_mode_is_info_in_traffic;
    ais_gap_after_thirty_minutes_silent_in_a_zone => ais_gap_after_thirty_minutes_silent_in_a_zone_alone, ais_gap_after_thirty_minutes_silent_in_a_zone_in_traffic;
    loitering_only_outside_ports_and_only_after_an_hour => loitering_only_outside_ports_and_only_after_an_hour_alone, loitering_only_outside_ports_and_only_after_an_hour_in_traffic;
    encounter_of_two_slow_vessels_but_not_passing_ships_or_in_port => encounter_of_two_slow_vessels_but_not_passing_ships_or_in_port_alone, encounter_of_two_slow_vessels_but_not_passing_ships_or_in_port_in_traffic;
    position_jump_but_not_for_sar_aircraft => position_jump_but_not_for_sar_aircraft_alone, position_jump_but_not_for_sar_aircraft_in_traffic;
    nav_status_not_under_command_or_aground_in_a_zone => nav_status_not_under_command_or_aground_in_a_zone_alone, nav_status_not_under_command_or_aground_in_a_zone_in_traffic;
    acknowledgement_and_deterministic_ids => acknowledgement_and_deterministic_ids_alone, acknowledgement_and_deterministic_ids_in_traffic;
}
