//! The query parameters of the HTTP routes, as types.
//!
//! Each route's query is one struct here (serde `deny_unknown_fields`,
//! utoipa `IntoParams`), and each closed set of values an enum, so that:
//!
//! * an unknown parameter (`?foo=1`), an unknown value (`?class=zzz`,
//!   `?state=x`) or a value of the wrong type is answered 400 with the
//!   project's error body, naming the parameter and what it accepts —
//!   never silently ignored;
//! * the OpenAPI document ([`crate::openapi`]) lists exactly the
//!   parameters and values the handlers read, from these same types.
//!
//! The handlers call [`parse`] only after the caller was authorised, so a
//! caller without a token learns nothing from a bad query (401 first).
//! Comma-separated lists (`class=A,B`) are OpenAPI `style: form,
//! explode: false` arrays. Times stay text here and are checked by
//! [`crate::input::parse_time`] (UNIX ms or RFC 3339, 1970–2199).

use crate::api::ApiError;
use serde::de::{DeserializeOwned, IntoDeserializer};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::openapi::path::ParameterIn;
use utoipa::{IntoParams, ToSchema};

fn bad(message: String) -> ApiError {
    ApiError::bad_request(message)
}

/// The names of the query parameters `T` accepts, as documented.
pub fn names<T: IntoParams>() -> Vec<String> {
    T::into_params(|| Some(ParameterIn::Query))
        .into_iter()
        .map(|p| p.name)
        .collect()
}

/// A route's query string as `T`: 400 for an unknown or repeated
/// parameter, or a value `T` does not accept, naming the parameter and
/// what it accepts.
pub fn parse<T: DeserializeOwned + IntoParams>(raw: Option<&str>) -> Result<T, ApiError> {
    let raw = raw.unwrap_or("");
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw)
        .map_err(|e| bad(format!("the query string is not valid: {e}")))?;
    let accepted = names::<T>();
    for (i, (k, _)) in pairs.iter().enumerate() {
        if !accepted.contains(k) {
            return Err(bad(if accepted.is_empty() {
                format!("unknown query parameter {k:?}: this route takes none")
            } else {
                format!(
                    "unknown query parameter {k:?} (this route takes {})",
                    accepted.join(", ")
                )
            }));
        }
        if pairs[..i].iter().any(|(seen, _)| seen == k) {
            return Err(bad(format!("query parameter {k} is given more than once")));
        }
    }
    serde_urlencoded::from_str::<T>(raw).map_err(|e| {
        // Every field is optional, so the parameter that fails alone is
        // the one to name.
        pairs
            .iter()
            .find_map(|(k, v)| {
                let one = serde_urlencoded::to_string([(k, v)]).ok()?;
                serde_urlencoded::from_str::<T>(&one)
                    .err()
                    .map(|e| bad(format!("query parameter {k}: {e}")))
            })
            .unwrap_or_else(|| bad(format!("query: {e}")))
    })
}

/// `a,b,c` as a list of numbers (empty items are skipped).
fn numbers<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr,
{
    let text = String::deserialize(d)?;
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<T>().map_err(|_| {
                serde::de::Error::custom(format!("{s:?} is not a whole number in range"))
            })
        })
        .collect()
}

/// `a,b,c` as a list of values of a closed set (an enum) or of strings.
fn items<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let text = String::deserialize(d)?;
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| T::deserialize(s.into_deserializer()))
        .collect::<Result<_, serde::de::value::Error>>()
        .map_err(serde::de::Error::custom)
}

/// What kind of station a vessel is (`class` of a vessel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum VesselClass {
    #[serde(rename = "A")]
    A,
    #[serde(rename = "B")]
    B,
    #[serde(rename = "sar_aircraft")]
    SarAircraft,
    #[serde(rename = "aton")]
    Aton,
    #[serde(rename = "base_station")]
    BaseStation,
    #[serde(rename = "ais_sart")]
    AisSart,
    #[serde(rename = "mob")]
    Mob,
    #[serde(rename = "epirb_ais")]
    EpirbAis,
    #[serde(rename = "own_asset")]
    OwnAsset,
    #[serde(rename = "unknown")]
    Unknown,
}

impl VesselClass {
    /// Every class, in the order of the document.
    pub const ALL: [VesselClass; 10] = [
        VesselClass::A,
        VesselClass::B,
        VesselClass::SarAircraft,
        VesselClass::Aton,
        VesselClass::BaseStation,
        VesselClass::AisSart,
        VesselClass::Mob,
        VesselClass::EpirbAis,
        VesselClass::OwnAsset,
        VesselClass::Unknown,
    ];

    /// The name on the wire (`A`, `sar_aircraft`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            VesselClass::A => "A",
            VesselClass::B => "B",
            VesselClass::SarAircraft => "sar_aircraft",
            VesselClass::Aton => "aton",
            VesselClass::BaseStation => "base_station",
            VesselClass::AisSart => "ais_sart",
            VesselClass::Mob => "mob",
            VesselClass::EpirbAis => "epirb_ais",
            VesselClass::OwnAsset => "own_asset",
            VesselClass::Unknown => "unknown",
        }
    }
}

/// Where an alert is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    Raised,
    Updated,
    Cleared,
    Acknowledged,
}

impl AlertState {
    pub const ALL: [AlertState; 4] = [
        AlertState::Raised,
        AlertState::Updated,
        AlertState::Cleared,
        AlertState::Acknowledged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Raised => "raised",
            AlertState::Updated => "updated",
            AlertState::Cleared => "cleared",
            AlertState::Acknowledged => "acknowledged",
        }
    }
}

/// Whether a contact is still being followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactStatus {
    Active,
    Closed,
}

impl ContactStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ContactStatus::Active => "active",
            ContactStatus::Closed => "closed",
        }
    }
}

/// Where an incident is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    Open,
    AssetsAssigned,
    Rescued,
    Closed,
}

impl IncidentStatus {
    /// As a list filter, `open` means every status but `closed`.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Open => "open",
            IncidentStatus::AssetsAssigned => "assets_assigned",
            IncidentStatus::Rescued => "rescued",
            IncidentStatus::Closed => "closed",
        }
    }
}

/// The form of a SITREP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SitrepFormat {
    /// The message, `text/plain`.
    #[default]
    Text,
    /// The same sections as JSON fields.
    Json,
}

/// A SITREP's transmission priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SitrepPriority {
    Distress,
    Urgency,
    Safety,
    Routine,
}

/// `GET /api/vessels`: vessels in boxes passing a filter, or (with `q`) a
/// search of the whole picture.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VesselsParams {
    /// Boxes `minLon,minLat,maxLon,maxLat`, several separated by `;`; a
    /// box with minLon > maxLon crosses the antimeridian. Default: the
    /// world.
    #[param(example = "11.5,34.5,13.5,36.0")]
    pub bbox: Option<String>,
    /// Only these classes (comma-separated).
    #[serde(default, deserialize_with = "items")]
    #[param(style = Form, explode = false, value_type = Option<Vec<VesselClass>>)]
    pub class: Vec<VesselClass>,
    /// Only these AIS ship types, 0–255 (comma-separated).
    #[serde(default, deserialize_with = "numbers")]
    #[param(style = Form, explode = false, value_type = Option<Vec<u8>>)]
    pub ship_type: Vec<u8>,
    /// Only vessels in one of these zones (ids, comma-separated).
    #[serde(default, deserialize_with = "items")]
    #[param(style = Form, explode = false, value_type = Option<Vec<String>>)]
    pub zone: Vec<String>,
    /// Only these MMSIs (comma-separated).
    #[serde(default, deserialize_with = "numbers")]
    #[param(style = Form, explode = false, value_type = Option<Vec<u32>>)]
    pub mmsi: Vec<u32>,
    /// Search instead: name or call sign containing it (any case) or MMSI
    /// starting with it, 1–64 characters, best matches first.
    #[param(max_length = 64)]
    pub q: Option<String>,
    /// With `q`: at most this many (default 20).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<usize>,
}

/// `GET /api/vessels/{mmsi}/track`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TrackParams {
    /// From (UNIX ms or RFC 3339); older than the picture's memory reads
    /// the archive. At most 31 days before `to`.
    #[param(example = "2026-11-28T06:00:00Z")]
    pub from: Option<String>,
    /// To (UNIX ms or RFC 3339).
    pub to: Option<String>,
    /// `geojson` (default), `gpx` or `kml`.
    pub format: Option<crate::geo_response::ExportFormat>,
}

/// `GET /api/history`: who came within a radius of a point during a window.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// Latitude of the point, degrees.
    #[param(required = true, value_type = f64)]
    pub lat: Option<f64>,
    /// Longitude of the point, degrees.
    #[param(required = true, value_type = f64)]
    pub lon: Option<f64>,
    /// Radius, nautical miles.
    #[param(required = true, value_type = f64)]
    pub radius_nm: Option<f64>,
    /// Start of the window (UNIX ms or RFC 3339).
    #[param(required = true, value_type = String)]
    pub from: Option<String>,
    /// End of the window, after `from` (UNIX ms or RFC 3339).
    #[param(required = true, value_type = String)]
    pub to: Option<String>,
    /// `geojson` (default), `gpx` or `kml`.
    pub format: Option<crate::geo_response::ExportFormat>,
}

/// `GET /api/incidents/{id}/export`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `geojson` (default) or `kml` (`gpx` leaves the areas out: GPX has none).
    pub format: Option<crate::geo_response::ExportFormat>,
}

/// `GET /api/nearest`: the vessels nearest to a point that can help.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NearestParams {
    /// Latitude, -90..90.
    #[param(required = true, value_type = f64, minimum = -90, maximum = 90)]
    pub lat: Option<f64>,
    /// Longitude, -180..180.
    #[param(required = true, value_type = f64, minimum = -180, maximum = 180)]
    pub lon: Option<f64>,
    /// How many (default 10).
    #[param(minimum = 1, maximum = 1000)]
    pub k: Option<usize>,
    /// Rank every class (beacons, aids to navigation, lost tracks too).
    pub all: Option<bool>,
    /// Leave these MMSIs out (the object in distress itself).
    #[serde(default, deserialize_with = "numbers")]
    #[param(style = Form, explode = false, value_type = Option<Vec<u32>>)]
    pub exclude: Vec<u32>,
}

/// `GET /api/alerts`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AlertsParams {
    /// Only alerts in this state.
    pub state: Option<AlertState>,
    /// Only alerts whose latest change is at or after this time (UNIX ms or
    /// RFC 3339).
    pub since: Option<String>,
}

/// `GET /api/contacts`: newest change first, paged with `limit` and
/// `before`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ContactsParams {
    /// Only contacts with this status.
    pub status: Option<ContactStatus>,
    /// The first this many.
    #[param(minimum = 1, maximum = 10000)]
    pub limit: Option<usize>,
    /// Only those whose last change (`updated`) is strictly before this
    /// time (UNIX ms or RFC 3339).
    pub before: Option<String>,
}

/// `GET /api/incidents`: newest change first, paged with `limit` and
/// `before`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IncidentsParams {
    /// Only incidents with this status; `open` is every status but
    /// `closed`.
    pub status: Option<IncidentStatus>,
    /// The first this many.
    #[param(minimum = 1, maximum = 10000)]
    pub limit: Option<usize>,
    /// Only those whose last change (`updated`) is strictly before this
    /// time (UNIX ms or RFC 3339).
    pub before: Option<String>,
}

/// `…/intercepts`: who can reach it first.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InterceptParams {
    /// How many vessels (default 10).
    #[param(minimum = 1, maximum = 100)]
    pub k: Option<usize>,
}

/// `GET /api/incidents/{id}/search-area`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchAreaParams {
    /// Search area number `n` (from 1) instead of the current one.
    #[param(minimum = 1, maximum = 100000)]
    pub n: Option<usize>,
}

/// `GET /api/incidents/{id}/patterns/{n}`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PatternParams {
    /// The form for the searching unit's equipment (default `geojson`).
    pub format: Option<crate::api::PatternFormat>,
}

/// `GET /api/incidents/{id}/coverage`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CoverageParams {
    /// Up to this time (UNIX ms or RFC 3339; default the picture's clock).
    pub until: Option<String>,
}

/// `GET /api/incidents/{id}/sitrep`: the form, and the SITREP fields an
/// operator may give (the others come from the incident).
#[derive(Debug, Default, Deserialize, Serialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SitrepParams {
    /// `text` (default, `text/plain`) or `json`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<SitrepFormat>,
    /// The SITREP's number in the case (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(value_type = Option<u32>, minimum = 1, maximum = 9999)]
    pub number: Option<String>,
    /// Addressees.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Transmission priority (default from the incident).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<SitrepPriority>,
    /// Persons at risk.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(value_type = Option<u32>)]
    pub persons: Option<String>,
    /// Nature of the distress.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nature: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assistance_required: Option<String>,
    /// Default: the latest search area's wind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weather: Option<String>,
    /// Default: the current search area, described.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search_area: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub future_plans: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_information: Option<String>,
}

/// `GET /ws`: browsers cannot set headers on a WebSocket, so the token may
/// come as a parameter here (and only here).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WsParams {
    /// The access token, instead of `Authorization: Bearer`.
    pub token: Option<String>,
}

/// A route that takes no query parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NoParams {}

#[cfg(test)]
mod tests {
    use super::*;

    fn err<T: DeserializeOwned + IntoParams + std::fmt::Debug>(q: &str) -> String {
        let e = parse::<T>(Some(q)).unwrap_err();
        assert_eq!(e.status, 400, "{e}");
        e.message
    }

    #[test]
    fn valid_queries_parse() {
        let v: VesselsParams = parse(Some(
            "bbox=1,2,3,4&class=A,ais_sart&ship_type=70,80&mmsi=1,2&zone=a,b",
        ))
        .unwrap();
        assert_eq!(v.class, vec![VesselClass::A, VesselClass::AisSart]);
        assert_eq!(v.ship_type, vec![70, 80]);
        assert_eq!(v.mmsi, vec![1, 2]);
        assert_eq!(v.zone, vec!["a", "b"]);
        let a: AlertsParams = parse(Some("state=acknowledged&since=0")).unwrap();
        assert_eq!(a.state, Some(AlertState::Acknowledged));
        let n: NearestParams = parse(Some("lat=1.5&lon=-2&k=3&all=true&exclude=7")).unwrap();
        assert_eq!((n.lat, n.k, n.all), (Some(1.5), Some(3), Some(true)));
        let p: PatternParams = parse(Some("format=json")).unwrap();
        assert_eq!(p.format, Some(crate::api::PatternFormat::GeoJson));
        parse::<NoParams>(None).unwrap();
        parse::<NoParams>(Some("")).unwrap();
    }

    #[test]
    fn unknown_parameters_and_values_are_named_with_what_is_accepted() {
        let m = err::<VesselsParams>("class=zzz");
        assert!(
            m.contains("class") && m.contains("zzz") && m.contains("sar_aircraft"),
            "{m}"
        );
        let m = err::<VesselsParams>("class=A,zzz");
        assert!(m.contains("class") && m.contains("zzz"), "{m}");
        let m = err::<AlertsParams>("state=x");
        assert!(
            m.contains("state") && m.contains("`x`") && m.contains("acknowledged"),
            "{m}"
        );
        let m = err::<AlertsParams>("state=raised&foo=1");
        assert!(m.contains("\"foo\"") && m.contains("state, since"), "{m}");
        let m = err::<NoParams>("foo=1");
        assert!(m.contains("\"foo\"") && m.contains("takes none"), "{m}");
        let m = err::<IncidentsParams>("status=opened");
        assert!(m.contains("status") && m.contains("assets_assigned"), "{m}");
        let m = err::<NearestParams>("lat=x&lon=1");
        assert!(m.starts_with("query parameter lat:"), "{m}");
        let m = err::<InterceptParams>("k=-1");
        assert!(m.starts_with("query parameter k:"), "{m}");
        let m = err::<VesselsParams>("mmsi=12,abc");
        assert!(m.contains("mmsi") && m.contains("abc"), "{m}");
        let m = err::<VesselsParams>("q=a&q=b");
        assert!(m.contains("more than once"), "{m}");
        let m = err::<SitrepParams>("priority=high");
        assert!(m.contains("priority") && m.contains("urgency"), "{m}");
    }

    #[test]
    fn the_documented_names_are_the_accepted_ones() {
        assert_eq!(
            names::<VesselsParams>(),
            ["bbox", "class", "ship_type", "zone", "mmsi", "q", "limit"]
        );
        assert!(names::<NoParams>().is_empty());
        assert!(names::<SitrepParams>().contains(&"format".to_string()));
        // Every documented parameter parses alone (serde and the document
        // agree on the names).
        for name in names::<SitrepParams>() {
            let value = match name.as_str() {
                "format" => "json",
                "priority" => "urgency",
                _ => "1",
            };
            parse::<SitrepParams>(Some(&format!("{name}={value}")))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let v = VesselClass::ALL.map(|c| serde_json::to_value(c).unwrap());
        assert_eq!(
            v.iter().map(|v| v.as_str().unwrap()).collect::<Vec<_>>(),
            VesselClass::ALL.map(VesselClass::as_str)
        );
        for s in AlertState::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }
}
