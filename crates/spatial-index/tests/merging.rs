//! Vessel table: one record per MMSI merging dynamic and static data, and
//! the class of each kind of station.

mod common;

use common::*;
use spatial_index::{Event, VesselClass, VesselFlags, ZoneIndex};

#[test]
fn class_a_dynamic_and_voyage_data_merge() {
    let mut f = Feed::new(ZoneIndex::empty());
    let mmsi = 247_123_456;
    f.send(pos_a(mmsi, 35.0, 14.0, 12.0, 0), T0);
    f.send(
        voyage(mmsi, "ALPHA STAR", "IABC", Some(9_123_456), "VALLETTA"),
        T0 + 5_000,
    );
    f.send(pos_a(mmsi, 35.001, 14.0, 12.5, 0), T0 + 10_000);
    let p = &f.picture;
    assert_eq!(p.len(), 1);
    let v = p.vessel(mmsi).unwrap();
    assert_eq!(v.class, VesselClass::A);
    assert_eq!(v.messages, 3);
    assert_eq!(v.sog_kn, Some(12.5));
    assert_eq!(v.position.unwrap().lat, 35.001);
    assert_eq!(v.first_seen_ms, T0);
    assert_eq!(v.last_seen_ms, T0 + 10_000);
    let i = v.info.as_ref().unwrap();
    assert_eq!(i.name.as_deref(), Some("ALPHA STAR"));
    assert_eq!(i.callsign.as_deref(), Some("IABC"));
    assert_eq!(i.imo, Some(9_123_456));
    assert_eq!(i.ship_type, Some(70));
    assert_eq!(i.dimensions.unwrap().length(), 180);
    assert_eq!(i.dimensions.unwrap().beam(), 26);
    assert_eq!(i.draught_m, Some(9.5));
    assert_eq!(i.destination.as_deref(), Some("VALLETTA"));
    assert_eq!(i.eta.unwrap().day, Some(21));
    assert_eq!(i.updated_ms, T0 + 5_000);

    // A later type 5 with blanks does not erase; a changed field updates.
    f.send(voyage(mmsi, "", "", None, "LAMPEDUSA"), T0 + 20_000);
    let i = f.picture.vessel(mmsi).unwrap().info.clone().unwrap();
    assert_eq!(i.name.as_deref(), Some("ALPHA STAR"));
    assert_eq!(i.imo, Some(9_123_456));
    assert_eq!(i.destination.as_deref(), Some("LAMPEDUSA"));

    let ev = f.events();
    let updates: Vec<(bool, bool)> = ev
        .iter()
        .filter_map(|e| match e {
            Event::VesselUpdated {
                position_changed,
                static_changed,
                ..
            } => Some((*position_changed, *static_changed)),
            _ => None,
        })
        .collect();
    assert_eq!(
        updates,
        vec![(true, false), (false, true), (true, false), (false, true)]
    );
    assert!(matches!(
        ev[0],
        Event::VesselNew {
            class: VesselClass::A,
            ..
        }
    ));
}

#[test]
fn class_b_merges_type_24_parts_and_type_19() {
    let mut f = Feed::new(ZoneIndex::empty());
    let b = 247_000_777;
    // Static data before any position: record created, class B.
    f.send(part_a(b, "SEA WIND"), T0);
    assert_eq!(f.picture.vessel(b).unwrap().class, VesselClass::B);
    assert!(f.picture.vessel(b).unwrap().position.is_none());
    f.send(part_b(b, 37, "IXYZ"), T0 + 1_000);
    f.send(pos_b(b, 35.5, 12.5, 6.0), T0 + 2_000);
    let v = f.picture.vessel(b).unwrap();
    let i = v.info.as_ref().unwrap();
    assert_eq!(i.name.as_deref(), Some("SEA WIND"));
    assert_eq!(i.callsign.as_deref(), Some("IXYZ"));
    assert_eq!(i.ship_type, Some(37));
    assert_eq!(i.vendor_id.as_deref(), Some("SRT"));
    assert_eq!(i.dimensions.unwrap().length(), 10);
    assert_eq!(v.position.unwrap().lon, 12.5);

    let c = 247_000_778;
    f.send(ext_b(c, 35.6, 12.6, "BETA", 36), T0);
    let v = f.picture.vessel(c).unwrap();
    assert_eq!(v.class, VesselClass::B);
    assert_eq!(v.name(), Some("BETA"));
    assert_eq!(v.heading_deg, Some(12));
    assert!(v.position.is_some());
}

#[test]
fn a_class_for_each_kind_of_station() {
    let mut f = Feed::new(ZoneIndex::empty());
    let cases: Vec<(lookout_ais::messages::AisMessage, VesselClass)> = vec![
        (pos_a(247_000_001, 35.0, 14.0, 10.0, 0), VesselClass::A),
        (pos_b(247_000_002, 35.0, 14.1, 5.0), VesselClass::B),
        (
            sar(111_247_001, 35.2, 14.2, 140, 300),
            VesselClass::SarAircraft,
        ),
        (
            aton(992_471_001, 35.3, 14.3, "LAMPEDUSA N"),
            VesselClass::AtoN,
        ),
        (base(2_470_001, 35.4, 14.4), VesselClass::BaseStation),
        (
            pos_a(970_123_456, 35.5, 14.5, 0.5, 14),
            VesselClass::AisSart,
        ),
        (pos_a(972_123_456, 35.6, 14.6, 0.5, 14), VesselClass::Mob),
        (
            pos_a(974_123_456, 35.7, 14.7, 0.5, 14),
            VesselClass::EpirbAis,
        ),
        (long_range(247_000_003, 35.8, 14.8, 9), VesselClass::A),
    ];
    for (k, (m, _)) in cases.iter().enumerate() {
        f.send(m.clone(), T0 + k as i64 * 1_000);
    }
    for (m, class) in &cases {
        let v = f.picture.vessel(m.mmsi).unwrap();
        assert_eq!(v.class, *class, "{}", m.mmsi);
        assert!(v.position.is_some(), "{}", m.mmsi);
    }
    let sart = f.picture.vessel(970_123_456).unwrap();
    assert!(sart.class.is_distress_device());
    let plane = f.picture.vessel(111_247_001).unwrap();
    assert_eq!(plane.altitude_m, Some(300));
    assert_eq!(plane.sog_kn, Some(140.0));
    let light = f.picture.vessel(992_471_001).unwrap();
    let i = light.info.as_ref().unwrap();
    assert_eq!(i.name.as_deref(), Some("LAMPEDUSA N"));
    assert_eq!((i.aid_type, i.virtual_aid), (Some(9), Some(true)));
    // Serialises with the stable class names.
    let j = serde_json::to_value(light).unwrap();
    assert_eq!(j["class"], "aton");
    assert_eq!(serde_json::to_value(sart).unwrap()["class"], "ais_sart");
}

#[test]
fn class_follows_position_reports_not_static_messages() {
    let mut f = Feed::new(ZoneIndex::empty());
    let m = 247_000_010;
    f.send(voyage(m, "X", "Y", None, "Z"), T0);
    assert_eq!(f.picture.vessel(m).unwrap().class, VesselClass::A);
    f.send(pos_b(m, 35.0, 14.0, 5.0), T0 + 1_000);
    assert_eq!(f.picture.vessel(m).unwrap().class, VesselClass::B);
    // A type 5 (class A static) no longer flips it back.
    f.send(voyage(m, "X", "Y", None, "Z"), T0 + 2_000);
    assert_eq!(f.picture.vessel(m).unwrap().class, VesselClass::B);
    // A type 27 neither.
    f.send(long_range(m, 35.0, 14.0, 5), T0 + 3_000);
    assert_eq!(f.picture.vessel(m).unwrap().class, VesselClass::B);
}

#[test]
fn own_ship_and_ignored_types() {
    let mut f = Feed::new(ZoneIndex::empty());
    let mut d = decoded(pos_a(247_000_020, 35.0, 14.0, 8.0, 0), 99, None);
    d.own_ship = true;
    f.send_decoded(&d, Some(T0));
    assert!(f
        .picture
        .vessel(247_000_020)
        .unwrap()
        .flags
        .contains(VesselFlags::OWN_SHIP));
    // A safety broadcast creates no record.
    let text = msg(
        14,
        247_000_021,
        lookout_ais::messages::Body::SafetyBroadcast {
            text: "HELLO".into(),
        },
    );
    assert_eq!(f.send(text, T0), spatial_index::Outcome::Ignored);
    assert!(f.picture.vessel(247_000_021).is_none());
    assert_eq!(f.picture.stats().ignored, 1);
}

#[test]
fn decoded_from_real_sentences() {
    // Type 5 in two fragments and a type 1, through the decoder.
    use lookout_ais::{Decoder, DecoderOptions, LineContext};
    let mut p = spatial_index::Picture::new(Default::default(), ZoneIndex::empty());
    let mut dec = Decoder::new(DecoderOptions::default());
    let ctx = LineContext {
        source: 0,
        received_ms: Some(T0),
    };
    for line in [
        "!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C",
        "!AIVDM,2,2,1,A,88888888880,2*25",
    ] {
        dec.decode_line_with(line.as_bytes(), &ctx, |d| {
            p.apply(&d, ctx.received_ms);
        })
        .unwrap();
    }
    let v = p.vessels().next().unwrap();
    assert_eq!(v.class, VesselClass::A);
    assert!(v.name().is_some_and(|n| !n.is_empty()));
    assert!(v.position.is_none());
}
