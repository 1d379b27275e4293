//! The HTTP side of the one listening port: the JSON/GeoJSON API, health,
//! metrics, and the upgrade to the WebSocket at `/ws`.
//!
//! Every endpoint but `/healthz` needs a token (`Authorization: Bearer …`,
//! the scheme in any case; or `?token=` on the WebSocket only, where
//! browsers cannot set headers) unless authentication is off on loopback.
//! Reads need `viewer`; acknowledging alerts, editing zones and writing
//! contacts and incidents need `operator`. `/healthz` tells an
//! unauthenticated caller only that the server is alive.
//!
//! The token is checked from the headers **before** a request body is
//! read, so a caller without one never makes the server buffer anything;
//! bodies are then read within `max_body_bytes` (413) and
//! `body_timeout_ms` (408). Times, ids and text are checked at the edge
//! ([`crate::input`]). Every error answer is `{"error":"…"}` — those of
//! the middleware (405, 408, 413, 503 timeouts, …) included — and is
//! counted by status in `/metrics`.

use crate::api::{ApiError, ErrorBody, PatternFormat, PictureApi, Planned, SarApi};
use crate::auth::{Auth, AuthError, Principal, Role};
use crate::geo_response::{self, GeoJson};
use crate::hub::Hub;
use crate::input;
use crate::params::{self, NoParams};
use crate::sar_channel::SarKind;
use crate::session;
use crate::view::{BBox, Filter};
use axum::body::{Body, Bytes};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    pub hub: Arc<Hub>,
    pub api: Arc<dyn PictureApi>,
    pub auth: Arc<Auth>,
    pub shutdown: tokio::sync::watch::Receiver<bool>,
}

/// The router for the API and the WebSocket.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/ws", get(ws))
        .route("/api/openapi.json", get(openapi))
        .route("/api/status", get(status))
        .route("/api/vessels", get(vessels))
        .route("/api/vessels/{mmsi}", get(vessel))
        .route("/api/vessels/{mmsi}/track", get(track))
        .route("/api/nearest", get(nearest))
        .route("/api/history", get(history))
        .route("/api/zones", get(zones))
        .route(
            "/api/zones/{id}",
            post(put_zone).put(put_zone).delete(delete_zone),
        )
        .route("/api/sources", get(sources))
        .route("/api/alerts", get(alerts))
        .route("/api/alerts/{id}/ack", post(ack))
        .route("/api/contacts", get(contacts).post(create_contact))
        .route(
            "/api/contacts/{id}",
            get(contact).put(update_contact).patch(update_contact),
        )
        .route("/api/contacts/{id}/sightings", post(add_sighting))
        .route("/api/contacts/{id}/intercepts", get(contact_intercepts))
        .route("/api/incidents", get(incidents).post(create_incident))
        .route("/api/incidents/{id}", get(incident).patch(incident_action))
        .route("/api/incidents/{id}/actions", post(incident_action))
        .route("/api/incidents/{id}/intercepts", get(incident_intercepts))
        .route(
            "/api/incidents/{id}/search-area",
            get(search_area).post(plan_search_area),
        )
        .route(
            "/api/incidents/{id}/patterns",
            get(patterns).post(plan_pattern),
        )
        .route("/api/incidents/{id}/patterns/{n}", get(pattern))
        .route("/api/incidents/{id}/coverage", get(coverage))
        .route("/api/incidents/{id}/sitrep", get(sitrep))
        .route("/api/incidents/{id}/export", get(incident_export))
        .with_state(state)
}

/// The router with the web client's files (if any) as the fallback, and
/// the per-request limits of [`crate::Limits`] as tower middleware:
/// outermost the JSON error bodies (and their counts), then the request
/// timeout (503), the global limit on requests in flight, and the body
/// size limit the handlers' body reads obey.
///
/// `web` answers every path the API does not claim (the web client's
/// files, from a folder or built into the binary; the server crate puts
/// its `/v0/stream` route, the aisstream.io-compatible WebSocket, in front
/// of them, so these limits apply to it too). Outermost, when
/// `[auth] cors_origins` lists any, CORS answers browsers' preflights.
pub fn app(state: AppState, web: Option<Router>) -> Router {
    let hub = state.hub.clone();
    let limits = *hub.limits();
    let cors = cors_layer(state.auth.cors_origins());
    let mut r = router(state);
    if let Some(web) = web {
        r = r.fallback_service(web);
    }
    let r = r.layer(
        tower::ServiceBuilder::new()
            .layer(axum::middleware::from_fn_with_state(hub, json_errors))
            .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                StatusCode::SERVICE_UNAVAILABLE,
                limits.request_timeout,
            ))
            .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
                limits.max_requests_in_flight,
            ))
            .layer(DefaultBodyLimit::max(limits.max_body_bytes)),
    );
    // gzip when the client accepts it (bodies over 1 KiB; not the
    // WebSocket upgrade, not already-compressed media).
    let r = r.layer(
        tower_http::compression::CompressionLayer::new()
            .gzip(true)
            .compress_when({
                use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
                DefaultPredicate::new().and(SizeAbove::new(1024)).and(
                    |s: StatusCode,
                     _: axum::http::Version,
                     _: &HeaderMap,
                     _: &axum::http::Extensions| {
                        s != StatusCode::SWITCHING_PROTOCOLS
                    },
                )
            }),
    );
    match cors {
        Some(c) => r.layer(c),
        None => r,
    }
}

/// CORS for the configured origins (None: no cross-origin access). Tokens
/// travel in the `Authorization` header, never in cookies, so credentials
/// are not allowed and `"*"` is safe to offer.
fn cors_layer(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::{header, HeaderValue, Method};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// Every error answer as `{"error":"…"}` (the handlers' already are; the
/// router's 404/405, the timeout's 503 and the like are rewritten), each
/// counted by status.
async fn json_errors(State(hub): State<Arc<Hub>>, req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let http = &hub.stats.http;
    http.count_status(status.as_u16());
    let content_type = resp.headers().get(header::CONTENT_TYPE);
    if content_type.is_some_and(|v| v.as_bytes().starts_with(b"application/json")) {
        return resp;
    }
    let limits = hub.limits();
    let message = match status {
        // Only the timeout middleware answers 503 without a body.
        StatusCode::SERVICE_UNAVAILABLE if content_type.is_none() => {
            http.request_timeouts.fetch_add(1, Ordering::Relaxed);
            format!(
                "the request was not answered within {} s",
                limits.request_timeout.as_secs_f64()
            )
        }
        StatusCode::PAYLOAD_TOO_LARGE => too_large_message(limits),
        StatusCode::NOT_FOUND => "not found".to_string(),
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed".to_string(),
        s => s.canonical_reason().unwrap_or("error").to_lowercase(),
    };
    let (mut parts, _) = resp.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let body = serde_json::to_string(&ErrorBody { error: message }).unwrap_or_default();
    Response::from_parts(parts, Body::from(body))
}

fn too_large_message(limits: &crate::Limits) -> String {
    format!(
        "the request body is larger than {} bytes (max_body_bytes)",
        limits.max_body_bytes
    )
}

/// Read a request's body, after it was authorised: at most
/// `max_body_bytes` (413, refused from `Content-Length` before reading
/// when it says so) within `body_timeout_ms` (408). Nothing of it outlives
/// the request.
async fn read_body(s: &AppState, headers: &HeaderMap, req: Request) -> Result<Bytes, ApiError> {
    let limits = s.hub.limits();
    let http = &s.hub.stats.http;
    let too_large = || {
        http.bodies_too_large.fetch_add(1, Ordering::Relaxed);
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE.as_u16(),
            too_large_message(limits),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_body_bytes as u64) {
        return Err(too_large());
    }
    match tokio::time::timeout(limits.body_timeout, Bytes::from_request(req, &())).await {
        Ok(Ok(b)) => Ok(b),
        Ok(Err(rejection)) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Err(too_large())
        }
        Ok(Err(rejection)) => Err(ApiError::new(
            rejection.status().as_u16(),
            rejection.body_text(),
        )),
        Err(_) => {
            http.body_timeouts.fetch_add(1, Ordering::Relaxed);
            Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT.as_u16(),
                format!(
                    "the request body did not arrive within {} s",
                    limits.body_timeout.as_secs_f64()
                ),
            ))
        }
    }
}

/// An id from the path: 1-128 characters, no control or bidirectional
/// formatting characters.
fn path_id(what: &str, id: &str) -> Result<(), ApiError> {
    if id.is_empty() || id.chars().count() > 128 {
        return Err(bad(format!("{what} must be 1-128 characters")));
    }
    input::check_name(what, id).map_err(bad)
}

/// An error response with a JSON body.
/// Every failure of every route becomes a response here, and only here:
/// its status and `{"error": message}` (401 with `WWW-Authenticate`).
impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut r = (
            status,
            Json(ErrorBody {
                error: self.message,
            }),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("static"));
        }
        r
    }
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST.as_u16(), msg.into())
}

/// The token of `Authorization: Bearer <token>` (the scheme in any case,
/// RFC 7235).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Who is calling, from the headers only (HTTP routes; `?token=` is for
/// the WebSocket).
fn authorize(s: &AppState, headers: &HeaderMap, need: Role) -> Result<Principal, ApiError> {
    check_token(s, bearer(headers), need)
}

fn check_token(s: &AppState, token: Option<&str>, need: Role) -> Result<Principal, ApiError> {
    s.auth.authorize(token, need).map_err(|e| match e {
        AuthError::Missing => {
            ApiError::new(StatusCode::UNAUTHORIZED.as_u16(), "a token is required")
        }
        AuthError::Invalid => ApiError::new(StatusCode::UNAUTHORIZED.as_u16(), "invalid token"),
        AuthError::Forbidden => ApiError::new(
            StatusCode::FORBIDDEN.as_u16(),
            format!("this needs the {} role", need.as_str()),
        ),
    })
}

/// The OpenAPI 3.1 document of this API ([`crate::openapi`]), public like
/// `/healthz`: it says what the routes are, not what the picture holds.
async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::json(),
    )
        .into_response()
}

/// Liveness for anyone; the counts and the picture's status only for a
/// caller with a token (or with authentication off).
async fn healthz(State(s): State<AppState>, h: HeaderMap) -> Json<Value> {
    if authorize(&s, &h, Role::Viewer).is_err() {
        return Json(json!({"status": "ok"}));
    }
    let reasons = s.api.degraded();
    let status = if reasons.is_empty() { "ok" } else { "degraded" };
    Json(json!({
        "status": status,
        "reasons": reasons,
        "clients": s.hub.client_count(),
        "picture": s.api.status(),
    }))
}

async fn status(
    State(s): State<AppState>,
    h: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, Role::Viewer)?;
    params::parse::<NoParams>(raw.as_deref())?;
    Ok(Json(s.api.status()))
}

async fn ws(
    State(s): State<AppState>,
    h: HeaderMap,
    RawQuery(raw): RawQuery,
    up: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    // The token first (a caller without one learns nothing of the query).
    let q = params::parse::<params::WsParams>(raw.as_deref());
    let loose = ws_token(raw.as_deref());
    let token = bearer(&h).or(loose.as_deref());
    let who = check_token(&s, token, Role::Viewer)?;
    q?;
    // Frames up to 16x the protocol limit are read and answered with a
    // `frame_too_large` error; beyond that the client is abusive and the
    // WebSocket layer drops the connection.
    let hard_max = s.hub.limits().max_frame_bytes.saturating_mul(16);
    Ok(up
        .max_message_size(hard_max)
        .max_frame_size(hard_max)
        // Clients send small frames: a 4 KiB read buffer (it grows for a
        // larger frame) instead of 128 KiB, which tungstenite zeroes before
        // every read and which would cost 128 KiB per connection.
        .read_buffer_size(session::READ_BUFFER_BYTES)
        .on_upgrade(move |socket| {
            session::run(
                socket,
                s.hub.clone(),
                s.api.clone(),
                who,
                s.shutdown.clone(),
            )
        }))
}

/// `?token=` of a WebSocket request, whatever else the query holds.
fn ws_token(raw: Option<&str>) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(raw?)
        .ok()?
        .into_iter()
        .find_map(|(k, v)| (k == "token").then_some(v))
}

fn parse_bbox(text: &str) -> Result<BBox, ApiError> {
    let v: Vec<f64> = text
        .split(',')
        .map(|x| x.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad("bbox is minLon,minLat,maxLon,maxLat"))?;
    let a: [f64; 4] = v
        .try_into()
        .map_err(|_| bad("bbox is minLon,minLat,maxLon,maxLat"))?;
    BBox::from_array(a).map_err(bad)
}

/// A time parameter (UNIX ms or RFC 3339), in 1970–2199
/// ([`input::parse_time`]).
fn time_param(key: &str, value: &Option<String>) -> Result<Option<i64>, ApiError> {
    value
        .as_ref()
        .map(|v| input::parse_time(key, v))
        .transpose()
        .map_err(bad)
}

async fn vessels(
    State(s): State<AppState>,
    h: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    authorize(&s, &h, Role::Viewer)?;
    let q: params::VesselsParams = params::parse(raw.as_deref())?;
    if let Some(text) = &q.q {
        // A search: the best matches anywhere in the picture.
        input::check_text("q", text).map_err(bad)?;
        if text.trim().is_empty() || text.len() > 64 {
            return Err(bad("q must be 1..64 characters"));
        }
        let limit = q.limit.unwrap_or(20);
        if limit == 0 || limit > 200 {
            return Err(bad("limit must be 1..200"));
        }
        let wires = s.api.search(text, limit);
        return Ok(feature_collection(&wires));
    }
    let bboxes = match &q.bbox {
        Some(b) => b
            .split(';')
            .map(parse_bbox)
            .collect::<Result<Vec<_>, _>>()?,
        None => vec![BBox::WORLD],
    };
    let filter = Filter {
        mmsi: q.mmsi,
        classes: q.class.iter().map(|c| c.as_str().to_string()).collect(),
        ship_types: q.ship_type,
        zones: q.zone,
    };
    let wires = s.api.vessels_in(&bboxes, &filter);
    Ok(feature_collection(&wires))
}

/// Vessels as a GeoJSON FeatureCollection, written directly from each
/// vessel's JSON (serialised once): no intermediate JSON tree for a whole
/// viewport.
fn feature_collection(wires: &[Arc<crate::VesselWire>]) -> Response {
    let mut body = String::with_capacity(64 + wires.len() * 400);
    body.push_str(r#"{"type":"FeatureCollection","features":["#);
    for (i, w) in wires.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        let (lon, lat) = (w.view.lon, w.view.lat);
        body.push_str(&format!(
            r#"{{"type":"Feature","id":{},"geometry":{{"type":"Point","coordinates":[{lon},{lat}]}},"properties":"#,
            w.view.mmsi
        ));
        body.push_str(&w.json);
        body.push('}');
    }
    body.push_str("]}");
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn mmsi(text: &str) -> Result<u32, ApiError> {
    text.parse().map_err(|_| bad("MMSI must be a number"))
}

async fn vessel(
    State(s): State<AppState>,
    h: HeaderMap,
    Path(m): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, Role::Viewer)?;
    params::parse::<NoParams>(raw.as_deref())?;
    s.api
        .vessel(mmsi(&m)?)
        .map(Json)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND.as_u16(), format!("no vessel {m}")))
}

async fn track(
    State(s): State<AppState>,
    h: HeaderMap,
    RawQuery(raw): RawQuery,
    Path(m): Path<String>,
) -> Result<Response, ApiError> {
    authorize(&s, &h, Role::Viewer)?;
    let q: params::TrackParams = params::parse(raw.as_deref())?;
    let (from, to) = (time_param("from", &q.from)?, time_param("to", &q.to)?);
    let id = mmsi(&m)?;
    // A `from` older than the picture's memory reaches into the archive
    // (files are read): bounded, and off the async workers.
    if let Some(f) = from {
        let end = to.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(i64::MAX, |d| d.as_millis() as i64)
        });
        if to.is_some_and(|t| t <= f) {
            return Err(bad("to must be after from"));
        }
        if end.checked_sub(f).is_none_or(|w| w > MAX_TRACK_WINDOW_MS) {
            return Err(bad(format!(
                "a track may cover at most {} days; narrow from/to",
                MAX_TRACK_WINDOW_MS / 86_400_000
            )));
        }
    }
    let api = s.api.clone();
    let track = tokio::task::spawn_blocking(move || api.track(id, from, to))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR.as_u16(), e.to_string()))?
        .ok_or_else(|| {
            ApiError::new(StatusCode::NOT_FOUND.as_u16(), format!("no track for {m}"))
        })?;
    Ok(geo_response::export(
        track,
        q.format.unwrap_or_default(),
        &format!("Track of MMSI {id}"),
        &format!("track-{id}"),
    ))
}

/// Longest period one track request may cover.
pub const MAX_TRACK_WINDOW_MS: i64 = 31 * 86_400_000;

/// `GET /api/history?lat=&lon=&radius_nm=&from=&to=`: every vessel that came
/// within the radius during the window, from the archive (GeoJSON).
async fn history(
    State(s): State<AppState>,
    h: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    authorize(&s, &h, Role::Viewer)?;
    let q: params::HistoryParams = params::parse(raw.as_deref())?;
    let (lat, lon) = (
        required_number("lat", q.lat)?,
        required_number("lon", q.lon)?,
    );
    let radius = required_number("radius_nm", q.radius_nm)?;
    let from = time_param("from", &q.from)?.ok_or_else(|| bad("from is required"))?;
    let to = time_param("to", &q.to)?.ok_or_else(|| bad("to is required"))?;
    if to <= from {
        return Err(bad("to must be after from"));
    }
    let api = s.api.clone();
    match tokio::task::spawn_blocking(move || api.history(lat, lon, radius, from, to)).await {
        Ok(Ok(v)) => Ok(geo_response::export(
            v,
            q.format.unwrap_or_default(),
            &format!("Within {radius} NM of {lat}, {lon}"),
            "history",
        )),
        Ok(Err(f)) => Err(f),
        Err(e) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR.as_u16(),
            e.to_string(),
        )),
    }
}

/// A required, finite number of the query.
fn required_number(key: &str, v: Option<f64>) -> Result<f64, ApiError> {
    v.ok_or_else(|| bad(format!("{key} is required")))?;
    v.filter(|v| v.is_finite())
        .ok_or_else(|| bad(format!("{key} must be a number")))
}

async fn nearest(
    State(s): State<AppState>,
    h: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, Role::Viewer)?;
    let q: params::NearestParams = params::parse(raw.as_deref())?;
    let (lat, lon) = (
        required_number("lat", q.lat)?,
        required_number("lon", q.lon)?,
    );
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return Err(bad("lat must be within -90..90 and lon within -180..180"));
    }
    let k = q.k.unwrap_or(10);
    if k == 0 || k > 1000 {
        return Err(bad("k must be 1..1000"));
    }
    let query = crate::view::NearestQuery {
        all: q.all.unwrap_or(false),
        exclude: q.exclude,
    };
    Ok(Json(
        json!({"lat": lat, "lon": lon, "vessels": s.api.nearest(lat, lon, k, &query)}),
    ))
}

async fn zones(
    State(s): State<AppState>,
    h: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<GeoJson, ApiError> {
    authorize(&s, &h, Role::Viewer)?;
    params::parse::<NoParams>(raw.as_deref())?;
    Ok(GeoJson(s.api.zones()))
}

async fn put_zone(
    State(s): State<AppState>,
    h: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, Role::Operator)?;
    params::parse::<NoParams>(raw.as_deref())?;
    path_id("zone id", &id)?;
    let body = read_body(&s, &h, req).await?;
    let feature: Value = serde_json::from_slice(&body)
        .map_err(|e| bad(format!("zone must be a GeoJSON Feature: {e}")))?;
    input::check_body(&feature).map_err(bad)?;
    s.api.put_zone(&id, feature)?;
    s.hub.zones_changed();
    Ok(Json(json!({"id": id, "status": "saved"})))
}

async fn delete_zone(
    State(s): State<AppState>,
    h: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, Role::Operator)?;
    params::parse::<NoParams>(raw.as_deref())?;
    path_id("zone id", &id)?;
    match s.api.delete_zone(&id) {
        Ok(true) => {
            s.hub.zones_changed();
            Ok(Json(json!({"id": id, "status": "deleted"})))
        }
        Ok(false) => Err(ApiError::new(
            StatusCode::NOT_FOUND.as_u16(),
            format!("no zone {id:?}"),
        )),
        Err(e) => Err(e),
    }
}

async fn sources(
    State(s): State<AppState>,
    h: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, Role::Viewer)?;
    params::parse::<NoParams>(raw.as_deref())?;
    Ok(Json(s.api.sources()))
}

async fn alerts(
    State(s): State<AppState>,
    h: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, Role::Viewer)?;
    let q: params::AlertsParams = params::parse(raw.as_deref())?;
    let since = time_param("since", &q.since)?;
    Ok(Json(s.api.alerts(q.state.map(|s| s.as_str()), since)))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AckBody {
    note: Option<String>,
}

async fn ack(
    State(s): State<AppState>,
    h: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    let who = authorize(&s, &h, Role::Operator)?;
    params::parse::<NoParams>(raw.as_deref())?;
    path_id("alert id", &id)?;
    let body = read_body(&s, &h, req).await?;
    let body: AckBody = if body.is_empty() {
        AckBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| bad(format!("body: {e}")))?
    };
    if let Some(n) = &body.note {
        input::check_text("note", n).map_err(bad)?;
    }
    let alert = s.api.acknowledge(&id, &who.name, body.note.as_deref())?;
    s.hub.publish_alert(alert.to_string().into());
    Ok(Json(alert))
}

// ---- SAR contacts and incidents (issue #8) ----

fn no_sar() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE.as_u16(),
        "this server keeps no contacts or incidents",
    )
}

fn json_body(body: &[u8]) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Err(bad("a JSON object body is required"));
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| bad(format!("body: {e}")))?;
    if !v.is_object() {
        return Err(bad("the body must be a JSON object"));
    }
    input::check_body(&v).map_err(bad)?;
    Ok(v)
}

/// Run a SAR call off the async workers (reads are quick, writes wait for
/// the database commit).
async fn sar_call<F>(s: &AppState, f: F) -> Result<Value, ApiError>
where
    F: FnOnce(&dyn SarApi) -> Result<Value, ApiError> + Send + 'static,
{
    let api = s.api.clone();
    tokio::task::spawn_blocking(move || match api.sar() {
        Some(sar) => f(sar),
        None => Err(no_sar()),
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR.as_u16(), e.to_string()))?
}

fn k_param(k: Option<usize>) -> Result<usize, ApiError> {
    let k = k.unwrap_or(10);
    if k == 0 || k > 100 {
        return Err(bad("k must be 1..100"));
    }
    Ok(k)
}

/// `limit` (1–10,000) and `before` (RFC 3339 or UNIX ms) of a contact or
/// incident list (`crate::sar_channel::page`).
fn sar_page(
    limit: Option<usize>,
    before: &Option<String>,
) -> Result<(Option<usize>, Option<i64>), ApiError> {
    if limit.is_some_and(|n| !(1..=10_000).contains(&n)) {
        return Err(bad("limit must be 1..10000"));
    }
    Ok((limit, time_param("before", before)?))
}

async fn contacts(
    State(s): State<AppState>,
    h: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, Role::Viewer)?;
    let q: params::ContactsParams = params::parse(raw.as_deref())?;
    let status = q.status.map(|s| s.as_str());
    let (limit, before) = sar_page(q.limit, &q.before)?;
    sar_call(&s, move |sar| sar.contacts(status))
        .await
        .map(|list| Json(crate::sar_channel::page(list, limit, before)))
}

async fn contact(
    State(s): State<AppState>,
    h: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, Role::Viewer)?;
    params::parse::<NoParams>(raw.as_deref())?;
    let sar = s.api.sar().ok_or_else(no_sar)?;
    sar.contact(&id)
        .map(Json)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND.as_u16(), format!("no contact {id:?}")))
}

async fn create_contact(
    State(s): State<AppState>,
    h: HeaderMap,
    RawQuery(raw): RawQuery,
    req: Request,
) -> Result<Response, ApiError> {
    let who = authorize(&s, &h, Role::Operator)?;
    params::parse::<NoParams>(raw.as_deref())?;
    let body = json_body(&read_body(&s, &h, req).await?)?;
    let c = sar_call(&s, move |sar| sar.create_contact(&who.name, body)).await?;
    s.hub.publish_sar(SarKind::Contact, c.to_string().into());
    let location = format!("/api/contacts/{}", c["id"].as_str().unwrap_or_default());
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(c)).into_response())
}

async fn update_contact(
    State(s): State<AppState>,
    h: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    let who = authorize(&s, &h, Role::Operator)?;
    params::parse::<NoParams>(raw.as_deref())?;
    path_id("id", &id)?;
    let body = json_body(&read_body(&s, &h, req).await?)?;
    let c = sar_call(&s, move |sar| sar.update_contact(&id, &who.name, body)).await?;
    s.hub.publish_sar(SarKind::Contact, c.to_string().into());
    Ok(Json(c))
}

async fn add_sighting(
    State(s): State<AppState>,
    h: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    req: Request,
) -> Result<Response, ApiError> {
    let who = authorize(&s, &h, Role::Operator)?;
    params::parse::<NoParams>(raw.as_deref())?;
    let body = json_body(&read_body(&s, &h, req).await?)?;
    let c = sar_call(&s, move |sar| sar.add_sighting(&id, &who.name, body)).await?;
    s.hub.publish_sar(SarKind::Contact, c.to_string().into());
    Ok((StatusCode::CREATED, Json(c)).into_response())
}

async fn contact_intercepts(
    State(s): State<AppState>,
    h: HeaderMap,
    RawQuery(raw): RawQuery,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, Role::Viewer)?;
    let q: params::InterceptParams = params::parse(raw.as_deref())?;
    let k = k_param(q.k)?;
    sar_call(&s, move |sar| sar.contact_intercepts(&id, k))
        .await
        .map(Json)
}

async fn incidents(
    State(s): State<AppState>,
    h: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, Role::Viewer)?;
    let q: params::IncidentsParams = params::parse(raw.as_deref())?;
    let status = q.status.map(|s| s.as_str());
    let (limit, before) = sar_page(q.limit, &q.before)?;
    sar_call(&s, move |sar| sar.incidents(status))
        .await
        .map(|list| Json(crate::sar_channel::page(list, limit, before)))
}

async fn incident(
    State(s): State<AppState>,
    h: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, Role::Viewer)?;
    params::parse::<NoParams>(raw.as_deref())?;
    let sar = s.api.sar().ok_or_else(no_sar)?;
    sar.incident(&id).map(Json).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND.as_u16(),
            format!("no incident {id:?}"),
        )
    })
}

async fn create_incident(
    State(s): State<AppState>,
    h: HeaderMap,
    RawQuery(raw): RawQuery,
    req: Request,
) -> Result<Response, ApiError> {
    let who = authorize(&s, &h, Role::Operator)?;
    params::parse::<NoParams>(raw.as_deref())?;
    let body = json_body(&read_body(&s, &h, req).await?)?;
    let i = sar_call(&s, move |sar| sar.create_incident(&who.name, body)).await?;
    s.hub.publish_sar(SarKind::Incident, i.to_string().into());
    let location = format!("/api/incidents/{}", i["id"].as_str().unwrap_or_default());
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(i)).into_response())
}

async fn incident_action(
    State(s): State<AppState>,
    h: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    let who = authorize(&s, &h, Role::Operator)?;
    params::parse::<NoParams>(raw.as_deref())?;
    path_id("id", &id)?;
    let body = json_body(&read_body(&s, &h, req).await?)?;
    let i = sar_call(&s, move |sar| sar.incident_action(&id, &who.name, body)).await?;
    s.hub.publish_sar(SarKind::Incident, i.to_string().into());
    Ok(Json(i))
}

async fn incident_intercepts(
    State(s): State<AppState>,
    h: HeaderMap,
    RawQuery(raw): RawQuery,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, Role::Viewer)?;
    let q: params::InterceptParams = params::parse(raw.as_deref())?;
    let k = k_param(q.k)?;
    sar_call(&s, move |sar| sar.incident_intercepts(&id, k))
        .await
        .map(Json)
}

// ---- search planning (issue 17) ----

/// `n` of `…/patterns/{n}` or `?n=`: a whole number from 1.
fn number(what: &str, v: &str) -> Result<usize, ApiError> {
    match v.parse::<usize>() {
        Ok(n) if (1..=100_000).contains(&n) => Ok(n),
        _ => Err(bad(format!("{what} must be a whole number from 1"))),
    }
}

/// A planning write (search area, pattern): run it, publish the changed
/// incident, answer 201 with the result and where it can be read again.
async fn planned<F>(
    s: &AppState,
    id: &str,
    location: impl FnOnce(&Value) -> String,
    f: F,
) -> Result<Response, ApiError>
where
    F: FnOnce(&dyn SarApi) -> Result<Planned, ApiError> + Send + 'static,
{
    let api = s.api.clone();
    let p = tokio::task::spawn_blocking(move || match api.sar() {
        Some(sar) => f(sar),
        None => Err(no_sar()),
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR.as_u16(), e.to_string()))??;
    s.hub
        .publish_sar(SarKind::Incident, p.incident.to_string().into());
    let location = format!("/api/incidents/{id}/{}", location(&p.answer));
    // GeoJSON by RFC 7946 as everywhere: a pattern is a Feature, a search
    // area's answer carries one under `area` (the same as GET answers).
    let mut answer = p.answer;
    geoformat::geojson::normalize(&mut answer);
    let answer = geo_members(answer, &["area", "track"]);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], answer).into_response())
}

async fn plan_search_area(
    State(s): State<AppState>,
    h: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    req: Request,
) -> Result<Response, ApiError> {
    let who = authorize(&s, &h, Role::Operator)?;
    params::parse::<NoParams>(raw.as_deref())?;
    path_id("id", &id)?;
    let body = json_body(&read_body(&s, &h, req).await?)?;
    let i = id.clone();
    planned(
        &s,
        &id,
        |a| match a["area"]["properties"]["n"].as_u64() {
            Some(n) => format!("search-area?n={n}"),
            None => "search-area".into(),
        },
        move |sar| sar.plan_search_area(&i, &who.name, body),
    )
    .await
}

async fn search_area(
    State(s): State<AppState>,
    h: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, Role::Viewer)?;
    path_id("id", &id)?;
    let q: params::SearchAreaParams = params::parse(raw.as_deref())?;
    let n = q.n.map(|n| number("n", &n.to_string())).transpose()?;
    sar_call(&s, move |sar| sar.search_area(&id, n))
        .await
        .map(|v| geo_members(v, &["area", "track"]))
}

/// A JSON answer whose members `keys` are GeoJSON: those normalized by
/// RFC 7946 like every GeoJSON body ([`GeoJson`]).
fn geo_members(mut v: Value, keys: &[&str]) -> Json<Value> {
    for k in keys {
        if let Some(g) = v.get_mut(*k) {
            geoformat::geojson::normalize(g);
        }
    }
    Json(v)
}

/// `GET /api/incidents/{id}/export?format=geojson|kml|gpx`: the incident
/// as a case file (see [`SarApi::case_file`]) to attach to a report or open
/// in Google Earth or QGIS.
async fn incident_export(
    State(s): State<AppState>,
    h: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    authorize(&s, &h, Role::Viewer)?;
    path_id("id", &id)?;
    let q: params::ExportParams = params::parse(raw.as_deref())?;
    let i = id.clone();
    let doc = sar_call(&s, move |sar| sar.case_file(&i)).await?;
    let title = format!(
        "Incident {id}: {}",
        doc["incident"]["title"].as_str().unwrap_or("")
    );
    Ok(geo_response::export(
        doc,
        q.format.unwrap_or_default(),
        &title,
        &format!("incident-{id}"),
    ))
}

async fn plan_pattern(
    State(s): State<AppState>,
    h: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    req: Request,
) -> Result<Response, ApiError> {
    let who = authorize(&s, &h, Role::Operator)?;
    params::parse::<NoParams>(raw.as_deref())?;
    path_id("id", &id)?;
    let body = json_body(&read_body(&s, &h, req).await?)?;
    let i = id.clone();
    planned(
        &s,
        &id,
        |p| format!("patterns/{}", p["properties"]["n"].as_u64().unwrap_or(0)),
        move |sar| sar.plan_pattern(&i, &who.name, body),
    )
    .await
}

async fn patterns(
    State(s): State<AppState>,
    h: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<GeoJson, ApiError> {
    authorize(&s, &h, Role::Viewer)?;
    params::parse::<NoParams>(raw.as_deref())?;
    path_id("id", &id)?;
    sar_call(&s, move |sar| sar.patterns(&id))
        .await
        .map(GeoJson)
}

async fn pattern(
    State(s): State<AppState>,
    h: HeaderMap,
    Path((id, n)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    authorize(&s, &h, Role::Viewer)?;
    path_id("id", &id)?;
    let n = number("pattern number", &n)?;
    let q: params::PatternParams = params::parse(raw.as_deref())?;
    let format = q.format.unwrap_or(PatternFormat::GeoJson);
    let name = format!("{id}-pattern-{n}.{}", format.extension());
    let api = s.api.clone();
    let body = tokio::task::spawn_blocking(move || match api.sar() {
        Some(sar) => sar.pattern(&id, n, format),
        None => Err(no_sar()),
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR.as_u16(), e.to_string()))??;
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response())
}

async fn coverage(
    State(s): State<AppState>,
    h: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, Role::Viewer)?;
    path_id("id", &id)?;
    let q: params::CoverageParams = params::parse(raw.as_deref())?;
    let until = time_param("until", &q.until)?;
    sar_call(&s, move |sar| sar.coverage(&id, until))
        .await
        .map(|v| geo_members(v, &["swept", "area"]))
}

async fn sitrep(
    State(s): State<AppState>,
    h: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    authorize(&s, &h, Role::Viewer)?;
    path_id("id", &id)?;
    let q: params::SitrepParams = params::parse(raw.as_deref())?;
    let text = q.format.unwrap_or_default() == params::SitrepFormat::Text;
    // The options as the strings of the query (`format` is not one).
    let mut options = serde_json::to_value(&q)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR.as_u16(), e.to_string()))?;
    if let Some(m) = options.as_object_mut() {
        m.remove("format");
    }
    for (k, v) in options.as_object().into_iter().flatten() {
        input::check_text(k, v.as_str().unwrap_or_default()).map_err(bad)?;
    }
    let api = s.api.clone();
    let answer = tokio::task::spawn_blocking(move || match api.sar() {
        Some(sar) => sar.sitrep(&id, options),
        None => Err(no_sar()),
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR.as_u16(), e.to_string()))??;
    Ok(if text {
        (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            answer.text,
        )
            .into_response()
    } else {
        Json(answer.json).into_response()
    })
}

async fn metrics(
    State(s): State<AppState>,
    h: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    authorize(&s, &h, Role::Viewer)?;
    // Like every route: an unknown query parameter is a 400, not ignored.
    params::parse::<NoParams>(raw.as_deref())?;
    // The process's own metrics under their standard names, the rest
    // prefixed `lookout_`.
    let mut root = Registry::default();
    crate::process_metrics::ProcessStats::read().register(&mut root);
    let reg = root.sub_registry_with_prefix("lookout");
    crate::process_metrics::register_build_info(reg);
    let st = &s.hub.stats;
    let c = |v: &std::sync::atomic::AtomicU64| ConstCounter::new(v.load(Ordering::Relaxed));
    reg.register(
        "ws_clients",
        "Connected WebSocket clients",
        ConstGauge::new(st.clients.load(Ordering::Relaxed) as i64),
    );
    reg.register(
        "ws_changes_published",
        "Vessel changes published to the hub",
        c(&st.changes_published),
    );
    reg.register(
        "ws_alerts_published",
        "Alerts published to WebSocket clients",
        c(&st.alerts_published),
    );
    reg.register(
        "ws_overflow_resnapshots",
        "Subscriptions whose pending changes overflowed (sent a snapshot instead)",
        c(&st.overflow_resnapshots),
    );
    reg.register(
        "ws_alerts_dropped",
        "Alerts dropped from full per-client queues",
        c(&st.alerts_dropped),
    );
    reg.register(
        "ws_stalled_disconnects",
        "Clients disconnected for not reading",
        c(&st.stalled_disconnects),
    );
    reg.register(
        "ws_client_errors",
        "Client messages refused with an error",
        c(&st.client_errors),
    );
    reg.register(
        "ws_messages_sent",
        "WebSocket messages sent",
        c(&st.messages_sent),
    );
    reg.register(
        "ws_bytes_sent",
        "WebSocket payload bytes sent",
        c(&st.bytes_sent),
    );
    reg.register(
        "ws_snapshots_sent",
        "WebSocket snapshots sent in full",
        c(&st.snapshots_sent),
    );
    reg.register(
        "ws_rate_limited",
        "Subscribe messages refused with rate_limited (over max_snapshots_per_window)",
        c(&st.rate_limited),
    );
    reg.register(
        "ws_protocol_closes",
        "WebSocket connections closed for a protocol error (1002, 1007, 1009)",
        c(&st.protocol_closes),
    );
    let http = &st.http;
    reg.register(
        "http_connections_open",
        "TCP connections open (HTTP and WebSocket)",
        ConstGauge::new(http.connections_open.load(Ordering::Relaxed) as i64),
    );
    reg.register(
        "http_connections_accepted",
        "TCP connections accepted",
        c(&http.connections_accepted),
    );
    let refused = Family::<Vec<(String, String)>, Counter>::default();
    for (reason, v) in [
        ("max_connections", &http.refused_max_connections),
        ("max_connections_per_address", &http.refused_per_address),
    ] {
        refused
            .get_or_create(&vec![("reason".to_string(), reason.to_string())])
            .inc_by(v.load(Ordering::Relaxed));
    }
    reg.register(
        "http_connections_refused",
        "TCP connections refused (answered 503 and closed), by the limit reached",
        refused,
    );
    reg.register(
        "http_header_timeouts",
        "Connections closed because request headers did not arrive within header_timeout_ms (idle keep-alive included)",
        c(&http.header_timeouts),
    );
    reg.register(
        "http_connection_errors",
        "Connections ended by another HTTP error (malformed request, headers over max_header_bytes, reset)",
        c(&http.connection_errors),
    );
    reg.register(
        "http_body_timeouts",
        "Request bodies that did not arrive within body_timeout_ms (408)",
        c(&http.body_timeouts),
    );
    reg.register(
        "http_bodies_too_large",
        "Request bodies over max_body_bytes (413)",
        c(&http.bodies_too_large),
    );
    reg.register(
        "http_request_timeouts",
        "Requests not answered within request_timeout_ms (503)",
        c(&http.request_timeouts),
    );
    let errors = Family::<Vec<(String, String)>, Counter>::default();
    let statuses = crate::conn::COUNTED_STATUSES
        .iter()
        .map(|&s| (s.to_string(), Some(s)))
        .chain([("other".to_string(), None)]);
    for (label, status) in statuses {
        errors
            .get_or_create(&vec![("status".to_string(), label)])
            .inc_by(http.errors_with_status(status));
    }
    reg.register(
        "http_error_responses",
        "HTTP error answers (4xx, 5xx), by status",
        errors,
    );
    let queued = s.hub.queued_bytes();
    reg.register(
        "ws_queued_bytes",
        "Bytes queued for WebSocket clients (pending changes and messages being written)",
        ConstGauge::new(queued.iter().sum::<usize>() as i64),
    );
    reg.register(
        "ws_queued_bytes_max_client",
        "Bytes queued for the WebSocket client with the most",
        ConstGauge::new(queued.first().copied().unwrap_or(0) as i64),
    );
    s.api.metrics(reg);
    // OpenMetrics or the classic text format, by `Accept`
    // (crate::metrics_format); the answer varies with it.
    let format = crate::metrics_format::Format::from_accept(
        h.get(header::ACCEPT).and_then(|v| v.to_str().ok()),
    );
    let text = format
        .encode(&root)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR.as_u16(), e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type()),
            (header::VARY, "Accept"),
        ],
        text,
    )
        .into_response())
}
