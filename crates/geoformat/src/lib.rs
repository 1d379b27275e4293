//! The geographic formats Lookout writes, in one place.
//!
//! * [`geojson`]: every GeoJSON answer passes through [`geojson::normalize`]
//!   so it follows RFC 7946: outer rings counter-clockwise and holes
//!   clockwise (§3.1.6), lines that cross 180° cut into MultiLineStrings
//!   (§3.1.9), coordinates rounded to 1e-6° (about 0.1 m; no float noise).
//! * [`export`]: the same GeoJSON as GPX 1.1 or KML 2.2, for case files,
//!   Google Earth, QGIS and chart plotters: LineStrings with per-point
//!   `properties.times` become tracks, Points become waypoints or
//!   placemarks, Polygons become KML polygons.
//!
//! ```
//! use serde_json::json;
//! let mut f = json!({"type": "Feature", "properties": {},
//!     "geometry": {"type": "LineString", "coordinates": [[179.5, 10.0], [-179.5, 10.0000000001]]}});
//! geoformat::geojson::normalize(&mut f);
//! assert_eq!(f["geometry"]["type"], "MultiLineString");
//! assert_eq!(f["geometry"]["coordinates"][0][1], json!([180.0, 10.0]));
//! assert_eq!(f["geometry"]["coordinates"][1][0], json!([-180.0, 10.0]));
//! ```

pub mod export;
pub mod geojson;

/// The media type of GeoJSON (RFC 7946 §12).
pub const GEOJSON_MEDIA_TYPE: &str = "application/geo+json";
/// The media type of GPX.
pub const GPX_MEDIA_TYPE: &str = "application/gpx+xml";
/// The media type of KML.
pub const KML_MEDIA_TYPE: &str = "application/vnd.google-earth.kml+xml";
