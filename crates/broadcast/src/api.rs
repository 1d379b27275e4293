//! What the broadcast layer asks of the rest of Lookout.
//!
//! The server does not own the picture: the binary implements
//! [`PictureApi`] over the live picture (and, later, alerts and stored
//! state), and pushes changes into the [`crate::hub::Hub`]. Keeping this a
//! trait lets the WebSocket and HTTP layers be tested against a small fake.

use crate::view::{BBox, Filter, VesselWire};
use std::sync::Arc;

/// Why a request was not answered: the HTTP status (400 bad input, 404
/// unknown id, 409 conflict with the current state, 413 too large, 422
/// well-formed but invalid, 429 too many at once, 500 storage failure, 503
/// not available here or not confirmed by the core) and a sentence saying
/// what to change. Every route's failure is one of these; the HTTP layer
/// maps it to a response in one place (`{"error": message}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// 400: the request itself is wrong.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }

    /// 404: no such object.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, message)
    }

    /// 422: well-formed but not valid (a zone that is not a polygon).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(422, message)
    }

    /// 500: it could not be stored.
    pub fn storage(message: impl Into<String>) -> Self {
        Self::new(500, message)
    }

    /// 503: not available here (no archive, the core did not confirm).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(503, message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.status)
    }
}

impl std::error::Error for ApiError {}

/// The body of every error answer, [`ApiError`] on the wire: its message
/// (the status is the HTTP status).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    /// A sentence saying what to change.
    pub error: String,
}

/// The document names the error type of every route `ApiError`, with the
/// schema of what it is answered as ([`ErrorBody`]).
impl utoipa::PartialSchema for ApiError {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <ErrorBody as utoipa::PartialSchema>::schema()
    }
}

impl utoipa::ToSchema for ApiError {
    fn name() -> std::borrow::Cow<'static, str> {
        "ApiError".into()
    }
}

/// Queries and commands the HTTP and WebSocket layers need.
pub trait PictureApi: Send + Sync + 'static {
    /// Vessels inside any of `bboxes` that pass `filter`.
    fn vessels_in(&self, bboxes: &[BBox], filter: &Filter) -> Vec<Arc<VesselWire>>;
    /// Everything known about one vessel (static, voyage and dynamic data).
    fn vessel(&self, mmsi: u32) -> Option<serde_json::Value>;
    /// A vessel's track as a GeoJSON Feature with a LineString and times.
    fn track(
        &self,
        mmsi: u32,
        from_ms: Option<i64>,
        to_ms: Option<i64>,
    ) -> Option<serde_json::Value>;
    /// The `k` vessels nearest to a point, each with `distance_nm` and
    /// `time_to_reach_min` at its current speed.
    fn nearest(
        &self,
        lat: f64,
        lon: f64,
        k: usize,
        q: &crate::view::NearestQuery,
    ) -> Vec<serde_json::Value>;
    /// Vessels by name, call sign (anywhere, any case) or MMSI (prefix),
    /// best matches first, at most `limit` (`GET /api/vessels?q=`).
    fn search(&self, text: &str, limit: usize) -> Vec<Arc<VesselWire>>;
    /// Zones as a GeoJSON FeatureCollection.
    fn zones(&self) -> serde_json::Value;
    /// Create or replace a zone from a GeoJSON Feature (validated like zone
    /// files): 422 when it is not valid, 500 when it could not be stored,
    /// 503 on a cluster edge when the core did not confirm.
    fn put_zone(&self, id: &str, feature: serde_json::Value) -> Result<(), ApiError>;
    /// Delete a zone; `Ok(false)` when there was none.
    fn delete_zone(&self, id: &str) -> Result<bool, ApiError>;
    /// Feed status.
    fn sources(&self) -> serde_json::Value;
    /// Alerts, optionally by state and since a time.
    fn alerts(&self, state: Option<&str>, since_ms: Option<i64>) -> serde_json::Value;
    /// Acknowledge an alert as `who`; returns the updated alert.
    fn acknowledge(
        &self,
        alert_id: &str,
        who: &str,
        note: Option<&str>,
    ) -> Result<serde_json::Value, ApiError>;
    /// Status for `/healthz` and the map's status bar (clock, counts).
    fn status(&self) -> serde_json::Value;
    /// What keeps the server from doing its whole job, if anything
    /// (`/healthz` answers `degraded` with these reasons to an
    /// authenticated caller). Empty when healthy.
    fn degraded(&self) -> Vec<String> {
        Vec::new()
    }
    /// Register the current values of the picture's, decoder's, feeds' and
    /// queues' counters and gauges (called per scrape of `/metrics`).
    fn metrics(&self, registry: &mut prometheus_client::registry::Registry);
    /// Vessels that came within `radius_nm` of `(lat, lon)` during
    /// `[from_ms, to_ms)`, from the recorded archive: a GeoJSON
    /// FeatureCollection with each vessel's closest approach and track (see
    /// the `history` crate). It reads files, so the HTTP layer calls it on
    /// a blocking thread. The default has no archive.
    fn history(
        &self,
        _lat: f64,
        _lon: f64,
        _radius_nm: f64,
        _from_ms: i64,
        _to_ms: i64,
    ) -> Result<serde_json::Value, ApiError> {
        Err(ApiError::unavailable(
            "no archive: history needs the recorder ([ingest.recorder])",
        ))
    }
    /// Contacts and incidents ([`SarApi`]), when this server keeps them.
    /// The default has none: its endpoints answer 503 and its WebSocket
    /// channels stay silent.
    fn sar(&self) -> Option<&dyn SarApi> {
        None
    }
}

/// A search-planning write's answer and the incident it changed (the
/// HTTP layer publishes the incident on the `incidents` channel).
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// The route's answer (a search area, a pattern Feature).
    pub answer: serde_json::Value,
    /// The incident after the write (its log has the new entry).
    pub incident: serde_json::Value,
}

/// A SITREP: its JSON form and its text (the message).
#[derive(Debug, Clone, PartialEq)]
pub struct SitrepAnswer {
    pub json: serde_json::Value,
    pub text: String,
}

/// How a stored search pattern is delivered
/// (`GET /api/incidents/{id}/patterns/{n}?format=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PatternFormat {
    /// A GeoJSON Feature LineString with the waypoints and planned times
    /// (`json` is accepted for it too).
    #[serde(rename = "geojson", alias = "json")]
    GeoJson,
    /// GPX 1.1 (waypoints and a route).
    Gpx,
    /// KML 2.2 (the track and one placemark per waypoint).
    Kml,
    /// NMEA 0183 `$GPWPL` and `$GPRTE` sentences, CR LF.
    Nmea,
}

impl PatternFormat {
    pub fn parse(s: &str) -> Option<PatternFormat> {
        Some(match s {
            "geojson" | "json" => PatternFormat::GeoJson,
            "gpx" => PatternFormat::Gpx,
            "kml" => PatternFormat::Kml,
            "nmea" => PatternFormat::Nmea,
            _ => return None,
        })
    }

    /// The answer's `Content-Type`.
    pub fn content_type(self) -> &'static str {
        match self {
            PatternFormat::GeoJson => "application/geo+json",
            PatternFormat::Gpx => "application/gpx+xml",
            PatternFormat::Kml => "application/vnd.google-earth.kml+xml",
            PatternFormat::Nmea => "text/plain; charset=utf-8",
        }
    }

    /// The file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            PatternFormat::GeoJson => "geojson",
            PatternFormat::Gpx => "gpx",
            PatternFormat::Kml => "kml",
            PatternFormat::Nmea => "nmea",
        }
    }
}

/// The answer of the search-planning methods a server does not implement
/// (a cluster edge: planning reads and writes the core's incidents and
/// picture).
fn planning_elsewhere() -> ApiError {
    ApiError::unavailable("search planning is done on the core")
}

/// Search-and-rescue contacts and incidents (issue #8). Bodies and answers
/// are the JSON objects documented in `docs/protocol.md`; `who` is the
/// token's user name, recorded in the incident log. A write returns only
/// after it is durably stored, so the HTTP layer's 2xx means "saved".
/// Writes may block on storage: the HTTP layer calls them off the async
/// workers.
pub trait SarApi: Send + Sync {
    /// Contacts (optionally only `active` or `closed`), newest first.
    fn contacts(&self, status: Option<&str>) -> Result<serde_json::Value, ApiError>;
    fn contact(&self, id: &str) -> Option<serde_json::Value>;
    /// Create a contact from its first sighting and description.
    fn create_contact(
        &self,
        who: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, ApiError>;
    /// Update description/status and/or add a sighting.
    fn update_contact(
        &self,
        id: &str,
        who: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, ApiError>;
    /// Append a sighting to a contact's track.
    fn add_sighting(
        &self,
        id: &str,
        who: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, ApiError>;
    /// Incidents (optionally by status, or `open` for every status but
    /// closed), newest first.
    fn incidents(&self, status: Option<&str>) -> Result<serde_json::Value, ApiError>;
    fn incident(&self, id: &str) -> Option<serde_json::Value>;
    fn create_incident(
        &self,
        who: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, ApiError>;
    /// One action (status change, assign/release asset, link/unlink
    /// contact/alert/vessel, note, retitle), logged with `who`.
    fn incident_action(
        &self,
        id: &str,
        who: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, ApiError>;
    /// The `k` vessels that can reach the contact first.
    fn contact_intercepts(&self, id: &str, k: usize) -> Result<serde_json::Value, ApiError>;
    /// The `k` vessels that can reach the incident's contacts, vessels or
    /// alert positions first.
    fn incident_intercepts(&self, id: &str, k: usize) -> Result<serde_json::Value, ApiError>;

    // ---- search planning (issue 17); the defaults answer 503 ----

    /// Compute a search area for the incident (`POST …/search-area`) and
    /// store it in its log; the answer is the search area.
    fn plan_search_area(
        &self,
        _id: &str,
        _who: &str,
        _body: serde_json::Value,
    ) -> Result<Planned, ApiError> {
        Err(planning_elsewhere())
    }
    /// The incident's search areas (`GET …/search-area`): the current
    /// (latest) one, or search area `n` (from 1).
    fn search_area(&self, _id: &str, _n: Option<usize>) -> Result<serde_json::Value, ApiError> {
        Err(planning_elsewhere())
    }
    /// Plan a search pattern for an assigned asset (`POST …/patterns`) and
    /// store it in the incident's log; the answer is the pattern Feature.
    fn plan_pattern(
        &self,
        _id: &str,
        _who: &str,
        _body: serde_json::Value,
    ) -> Result<Planned, ApiError> {
        Err(planning_elsewhere())
    }
    /// The incident's patterns as a GeoJSON FeatureCollection.
    fn patterns(&self, _id: &str) -> Result<serde_json::Value, ApiError> {
        Err(planning_elsewhere())
    }
    /// Pattern `n` (from 1) of the incident in `format`.
    fn pattern(&self, _id: &str, _n: usize, _format: PatternFormat) -> Result<String, ApiError> {
        Err(planning_elsewhere())
    }
    /// Coverage of the current search area by the assigned assets' tracks
    /// since their patterns started, up to `until_ms` (default: the
    /// picture's clock).
    fn coverage(&self, _id: &str, _until_ms: Option<i64>) -> Result<serde_json::Value, ApiError> {
        Err(planning_elsewhere())
    }
    /// The incident's SITREP; `options` is an object of the query's
    /// strings (`number`, `to`, `priority`, `persons`, `nature`, …).
    fn sitrep(&self, _id: &str, _options: serde_json::Value) -> Result<SitrepAnswer, ApiError> {
        Err(planning_elsewhere())
    }
    /// The incident as a case file: a GeoJSON FeatureCollection of its
    /// contacts' sightings and tracks, its assets' and vessels' tracks
    /// since it was opened, its search areas and patterns, with the
    /// incident and its log as foreign members `incident` and `log`.
    fn case_file(&self, _id: &str) -> Result<serde_json::Value, ApiError> {
        Err(planning_elsewhere())
    }
}
