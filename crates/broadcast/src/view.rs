//! What clients see of a vessel, and the changes the picture publishes.
//!
//! [`VesselView`] is the wire form of one vessel (protocol v1, see
//! `docs/protocol.md`). The pipeline turns picture events into [`Change`]s
//! and hands them to the [`crate::hub::Hub`]; each view is serialised to
//! JSON once, when it is published ([`VesselWire`]), and that text is shared
//! by every client that receives it.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One vessel as clients see it. It reads back from its own JSON (a
/// cluster edge mirrors the core's views this way).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VesselView {
    pub mmsi: u32,
    pub lat: f64,
    pub lon: f64,
    /// Speed over ground, knots.
    pub sog: Option<f64>,
    /// Course over ground, degrees.
    pub cog: Option<f64>,
    /// True heading, degrees.
    pub heading: Option<u16>,
    pub name: Option<String>,
    pub callsign: Option<String>,
    pub ship_type: Option<u8>,
    /// `A`, `B`, `sar_aircraft`, `aton`, `base_station`, `ais_sart`, `mob`,
    /// `epirb_ais`, `own_asset`, `unknown`.
    #[schema(value_type = crate::params::VesselClass)]
    pub class: String,
    pub nav_status: Option<u8>,
    /// Message time of the last report, RFC 3339 UTC.
    #[serde(serialize_with = "rfc3339_ms", deserialize_with = "from_rfc3339_ms")]
    #[schema(value_type = String, format = DateTime)]
    pub last_seen: i64,
    /// `live`, `stale` or `lost`.
    #[schema(examples("live", "stale", "lost"))]
    pub state: String,
    /// Ids of the zones the vessel is in.
    #[serde(default)]
    pub zones: Vec<String>,
}

fn rfc3339_ms<S: serde::Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(*ms))
}

fn from_rfc3339_ms<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let text = String::deserialize(d)?;
    parse_time(&text).ok_or_else(|| serde::de::Error::custom("last_seen: not an RFC 3339 time"))
}

/// A UNIX time in ms from RFC 3339 (the inverse of [`format_time`]).
pub fn parse_time(text: &str) -> Option<i64> {
    let t = humantime::parse_rfc3339(text).ok()?;
    let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
    i64::try_from(d.as_millis()).ok()
}

/// RFC 3339 UTC with milliseconds for a UNIX time in ms.
pub fn format_time(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(t).to_string()
}

/// A vessel view with its JSON text, serialised once at publish time.
#[derive(Debug)]
pub struct VesselWire {
    pub view: VesselView,
    pub json: Box<str>,
}

impl VesselWire {
    /// Serialise `view`.
    pub fn new(view: VesselView) -> Arc<VesselWire> {
        let json = serde_json::to_string(&view)
            .unwrap_or_else(|_| "{}".into())
            .into_boxed_str();
        Arc::new(VesselWire { view, json })
    }
}

/// A change to the picture, as the broadcast layer consumes it.
#[derive(Debug, Clone)]
pub enum Change {
    /// A vessel is new or changed (position, identity, state, zones).
    Upsert(Arc<VesselWire>),
    /// A vessel left the picture.
    Remove(u32),
}

/// Client-side filter of a subscription (all parts optional; empty = any).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    #[serde(default)]
    pub mmsi: Vec<u32>,
    #[serde(default)]
    pub classes: Vec<String>,
    #[serde(default)]
    pub ship_types: Vec<u8>,
    #[serde(default)]
    pub zones: Vec<String>,
}

impl Filter {
    /// Does `v` pass?
    pub fn matches(&self, v: &VesselView) -> bool {
        (self.mmsi.is_empty() || self.mmsi.contains(&v.mmsi))
            && (self.classes.is_empty() || self.classes.contains(&v.class))
            && (self.ship_types.is_empty()
                || v.ship_type.is_some_and(|t| self.ship_types.contains(&t)))
            && (self.zones.is_empty() || v.zones.iter().any(|z| self.zones.contains(z)))
    }

    /// True when the filter lets everything through.
    pub fn is_empty(&self) -> bool {
        self.mmsi.is_empty()
            && self.classes.is_empty()
            && self.ship_types.is_empty()
            && self.zones.is_empty()
    }
}

/// A lon/lat box. `min_lon > max_lon` means the box crosses the
/// antimeridian (e.g. 170 → -170).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BBox {
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
}

impl BBox {
    /// The whole world.
    pub const WORLD: BBox = BBox {
        min_lon: -180.0,
        min_lat: -90.0,
        max_lon: 180.0,
        max_lat: 90.0,
    };

    /// Check a `[minLon, minLat, maxLon, maxLat]` array from a client.
    pub fn from_array(a: [f64; 4]) -> Result<BBox, String> {
        let [min_lon, min_lat, max_lon, max_lat] = a;
        if a.iter().any(|v| !v.is_finite()) {
            return Err("bbox values must be finite numbers".into());
        }
        if !(-180.0..=180.0).contains(&min_lon) || !(-180.0..=180.0).contains(&max_lon) {
            return Err("bbox longitudes must be within -180..180".into());
        }
        if !(-90.0..=90.0).contains(&min_lat) || !(-90.0..=90.0).contains(&max_lat) {
            return Err("bbox latitudes must be within -90..90".into());
        }
        if min_lat >= max_lat {
            return Err("bbox minLat must be below maxLat".into());
        }
        if min_lon == max_lon {
            return Err("bbox has no width".into());
        }
        Ok(BBox {
            min_lon,
            min_lat,
            max_lon,
            max_lat,
        })
    }

    /// Does the box contain the point?
    #[inline]
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        lat >= self.min_lat
            && lat <= self.max_lat
            && if self.min_lon <= self.max_lon {
                lon >= self.min_lon && lon <= self.max_lon
            } else {
                lon >= self.min_lon || lon <= self.max_lon
            }
    }

    /// The box as one or two boxes that do not cross the antimeridian.
    pub fn split(&self) -> Vec<BBox> {
        if self.min_lon <= self.max_lon {
            vec![*self]
        } else {
            vec![
                BBox {
                    max_lon: 180.0,
                    ..*self
                },
                BBox {
                    min_lon: -180.0,
                    ..*self
                },
            ]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn antimeridian_boxes() {
        let b = BBox::from_array([170.0, -10.0, -170.0, 10.0]).unwrap();
        assert!(b.contains(175.0, 0.0));
        assert!(b.contains(-175.0, 0.0));
        assert!(!b.contains(0.0, 0.0));
        assert_eq!(b.split().len(), 2);
    }

    #[test]
    fn absurd_boxes_are_refused() {
        assert!(BBox::from_array([0.0, 10.0, 1.0, 5.0]).is_err());
        assert!(BBox::from_array([0.0, 0.0, 200.0, 5.0]).is_err());
        assert!(BBox::from_array([f64::NAN, 0.0, 1.0, 5.0]).is_err());
        assert!(BBox::from_array([0.0, -91.0, 1.0, 5.0]).is_err());
    }

    #[test]
    fn time_is_rfc3339_utc() {
        assert_eq!(format_time(1_733_782_034_123), "2024-12-09T22:07:14.123Z");
    }
}

/// Classes that can go to help: ships, craft, SAR aircraft and own assets
/// — not distress beacons (AIS-SART, MOB, EPIRB-AIS), aids to navigation
/// or base stations.
pub fn can_help(class: &str) -> bool {
    matches!(class, "A" | "B" | "sar_aircraft" | "own_asset" | "unknown")
}

/// What `GET /api/nearest` ranks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NearestQuery {
    /// Every vessel, beacons and aids to navigation included (default:
    /// only those that can help, [`can_help`], and not lost).
    pub all: bool,
    /// Left out (the object in distress itself).
    pub exclude: Vec<u32>,
}

impl NearestQuery {
    /// Is this vessel a candidate?
    pub fn admits(&self, v: &VesselView) -> bool {
        (self.all || (can_help(&v.class) && v.state != "lost")) && !self.exclude.contains(&v.mmsi)
    }
}
