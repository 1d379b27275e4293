//! GeoJSON answers and their exports, in one place: every GeoJSON body goes
//! out through [`GeoJson`] (normalized by RFC 7946 — ring orientation,
//! antimeridian cuts, 1e-6° coordinates — with `Content-Type:
//! application/geo+json`), and `?format=geojson|gpx|kml` on tracks,
//! history and incident exports through [`export`].

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// A GeoJSON body (normalized when sent).
pub struct GeoJson(pub Value);

impl IntoResponse for GeoJson {
    fn into_response(mut self) -> Response {
        geoformat::geojson::normalize(&mut self.0);
        let mut r = axum::Json(self.0).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(geoformat::GEOJSON_MEDIA_TYPE),
        );
        r
    }
}

/// What an export is written as (`?format=`; absent: GeoJSON; any other
/// value is a 400 naming these).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// GeoJSON (RFC 7946), `application/geo+json`.
    #[default]
    GeoJson,
    /// GPX 1.1, `application/gpx+xml`.
    Gpx,
    /// KML 2.2, `application/vnd.google-earth.kml+xml`.
    Kml,
}

/// `doc` (GeoJSON as Lookout writes it) in `format`, named `title`, offered
/// as a download named `file` (without extension) for GPX and KML.
pub fn export(doc: Value, format: ExportFormat, title: &str, file: &str) -> Response {
    let (body, media, ext) = match format {
        ExportFormat::GeoJson => return GeoJson(doc).into_response(),
        ExportFormat::Gpx => (
            geoformat::export::to_gpx(&doc, title),
            geoformat::GPX_MEDIA_TYPE,
            "gpx",
        ),
        ExportFormat::Kml => (
            geoformat::export::to_kml(&doc, title),
            geoformat::KML_MEDIA_TYPE,
            "kml",
        ),
    };
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    let safe: String = file
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}.{ext}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}
