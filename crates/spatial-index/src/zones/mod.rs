//! Zones: named polygons (patrol areas, SAR regions, watch areas, ports)
//! loaded from GeoJSON, indexed for point membership.
//!
//! * [`geojson`] reads and validates FeatureCollections of Polygon and
//!   MultiPolygon features from files and folders (all-or-nothing).
//! * [`prepared`] turns each polygon into a banded edge list for fast
//!   point-in-polygon tests and tests segments against boxes.
//! * [`index`] holds the zones in R-trees and answers "which zones contain
//!   this point" and "how far can a vessel move before that can change".
//!
//! Polygon edges are straight lines in longitude/latitude, as RFC 7946
//! specifies; a zone crossing the antimeridian is given as a MultiPolygon
//! split at ±180°.

pub mod geojson;
pub mod index;
pub mod prepared;

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use geojson::{ZoneError, ZoneLoadError};
pub use index::ZoneIndex;

/// What a zone is for. Known kinds have variants; any other word is kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ZoneKind {
    PatrolArea,
    SarRegion,
    Watch,
    Port,
    Other(Arc<str>),
}

impl ZoneKind {
    /// Parse a kind word: letters, digits, `_` and `-`, at most 64 bytes.
    pub fn parse(s: &str) -> Option<ZoneKind> {
        Some(match s {
            "patrol_area" => ZoneKind::PatrolArea,
            "sar_region" => ZoneKind::SarRegion,
            "watch" => ZoneKind::Watch,
            "port" => ZoneKind::Port,
            _ => {
                let word = !s.is_empty()
                    && s.len() <= 64
                    && s.bytes()
                        .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
                if !word {
                    return None;
                }
                ZoneKind::Other(Arc::from(s))
            }
        })
    }

    /// The kind word.
    pub fn as_str(&self) -> &str {
        match self {
            ZoneKind::PatrolArea => "patrol_area",
            ZoneKind::SarRegion => "sar_region",
            ZoneKind::Watch => "watch",
            ZoneKind::Port => "port",
            ZoneKind::Other(s) => s,
        }
    }
}

impl fmt::Display for ZoneKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ZoneKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ZoneKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ZoneKind::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("bad zone kind {s:?}")))
    }
}

/// One zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    /// Unique id (`properties.id`).
    pub id: Arc<str>,
    /// Display name (`properties.name`).
    pub name: String,
    /// `properties.kind`.
    pub kind: ZoneKind,
    /// `properties.alerts` (default true): false keeps membership and
    /// events but tells the alert rules to stay quiet.
    pub alerts: bool,
    /// `properties.approximate`: a demonstration polygon, not an
    /// authoritative boundary.
    pub approximate: bool,
    /// `properties.source`: where the boundary comes from.
    pub source: Option<String>,
    /// Every property as given.
    pub properties: serde_json::Map<String, serde_json::Value>,
    /// The area (lon/lat).
    pub geometry: geo::MultiPolygon<f64>,
    /// `file#feature-index` the zone was read from.
    pub origin: String,
}

impl Zone {
    /// A zone from a polygon, with default properties (for tests and
    /// programmatic zones).
    pub fn from_polygon(id: &str, kind: ZoneKind, polygon: geo::Polygon<f64>) -> Zone {
        Zone {
            id: Arc::from(id),
            name: id.to_owned(),
            kind,
            alerts: true,
            approximate: false,
            source: None,
            properties: serde_json::Map::new(),
            geometry: geo::MultiPolygon(vec![polygon]),
            origin: String::from("<program>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(ZoneKind::parse("port"), Some(ZoneKind::Port));
        assert_eq!(ZoneKind::parse("anchorage").unwrap().as_str(), "anchorage");
        assert_eq!(ZoneKind::parse(""), None);
        assert_eq!(ZoneKind::parse("two words"), None);
        let j = serde_json::to_string(&ZoneKind::Other(Arc::from("fishing"))).unwrap();
        assert_eq!(j, "\"fishing\"");
        assert_eq!(
            serde_json::from_str::<ZoneKind>("\"watch\"").unwrap(),
            ZoneKind::Watch
        );
    }
}
