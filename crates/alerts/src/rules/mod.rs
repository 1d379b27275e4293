//! The rules, one per module. Each keeps only the state it needs, bounded
//! by the number of vessels (or pairs) it follows, and iterates in a fixed
//! order so replays are deterministic.

pub mod distress;
pub mod encounter;
pub mod gap;
pub mod jump;
pub mod loiter;
pub mod nav;
pub mod zone;

use spatial_index::{Picture, Vessel, VesselClass, Zone, ZoneKind};

/// "AEGEAN STAR (247000162)", or the MMSI alone.
pub fn label(p: &Picture, mmsi: u32) -> String {
    match p
        .vessel(mmsi)
        .and_then(|v| v.info.as_ref())
        .and_then(|i| i.name.as_deref())
        .filter(|n| !n.is_empty())
    {
        Some(name) => format!("{name} ({mmsi})"),
        None => format!("MMSI {mmsi}"),
    }
}

/// Zones of the vessel's current position whose properties allow alerts.
pub fn alert_zones<'a>(p: &'a Picture, v: &'a Vessel) -> impl Iterator<Item = &'a Zone> + 'a {
    p.zones_of(v).filter(|z| z.alerts)
}

/// Is the vessel in a port zone?
pub fn in_port(p: &Picture, v: &Vessel) -> bool {
    p.zones_of(v).any(|z| z.kind == ZoneKind::Port)
}

/// Ships and craft (not aids to navigation, base stations, beacons or
/// aircraft).
pub fn is_craft(class: VesselClass) -> bool {
    matches!(
        class,
        VesselClass::A | VesselClass::B | VesselClass::Unknown
    )
}

/// Speed over ground in knots, when known.
pub fn sog(v: &Vessel) -> Option<f64> {
    v.sog_kn.map(f64::from)
}
