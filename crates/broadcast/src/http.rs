//! The HTTP side of the one listening port: the JSON/GeoJSON API, health,
//! metrics, and the upgrade to the WebSocket at `/ws`.
//!
//! Every endpoint but `/healthz` needs a token (`Authorization: Bearer …`, or
//! `?token=` on the WebSocket, where browsers cannot set headers) unless
//! authentication is off on loopback. Reads need `viewer`; acknowledging
//! alerts, editing zones and writing contacts and incidents need `operator`.

use crate::api::{PictureApi, SarApi, SarFailure};
use crate::auth::{Auth, AuthError, Principal, Role};
use crate::hub::Hub;
use crate::sar_channel::SarKind;
use crate::session;
use crate::view::{BBox, Filter};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
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
        .with_state(state)
}

/// An error response with a JSON body.
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.0, Json(json!({"error": self.1}))).into_response();
        if self.0 == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("static"));
        }
        r
    }
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, msg.into())
}

fn token<'a>(headers: &'a HeaderMap, query: &'a HashMap<String, String>) -> Option<&'a str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .or_else(|| query.get("token").map(String::as_str))
}

fn authorize(
    s: &AppState,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
    need: Role,
) -> Result<Principal, ApiError> {
    s.auth
        .authorize(token(headers, q), need)
        .map_err(|e| match e {
            AuthError::Missing => ApiError(StatusCode::UNAUTHORIZED, "a token is required".into()),
            AuthError::Invalid => ApiError(StatusCode::UNAUTHORIZED, "invalid token".into()),
            AuthError::Forbidden => ApiError(
                StatusCode::FORBIDDEN,
                format!("this needs the {} role", need.as_str()),
            ),
        })
}

type Q = Query<HashMap<String, String>>;

async fn healthz(State(s): State<AppState>) -> Json<Value> {
    Json(json!({"status": "ok", "clients": s.hub.client_count(), "picture": s.api.status()}))
}

async fn status(
    State(s): State<AppState>,
    h: HeaderMap,
    Query(q): Q,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, &q, Role::Viewer)?;
    Ok(Json(s.api.status()))
}

async fn ws(
    State(s): State<AppState>,
    h: HeaderMap,
    Query(q): Q,
    up: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let who = authorize(&s, &h, &q, Role::Viewer)?;
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

fn list<T: std::str::FromStr>(q: &HashMap<String, String>, key: &str) -> Result<Vec<T>, ApiError> {
    match q.get(key) {
        None => Ok(Vec::new()),
        Some(v) => v
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.trim()
                    .parse::<T>()
                    .map_err(|_| bad(format!("bad {key} value {s:?}")))
            })
            .collect(),
    }
}

fn time_param(q: &HashMap<String, String>, key: &str) -> Result<Option<i64>, ApiError> {
    match q.get(key) {
        None => Ok(None),
        Some(v) => {
            if let Ok(ms) = v.parse::<i64>() {
                return Ok(Some(ms));
            }
            let t = humantime::parse_rfc3339_weak(v)
                .map_err(|_| bad(format!("{key}: RFC 3339 time or UNIX ms")))?;
            let d = t
                .duration_since(std::time::UNIX_EPOCH)
                .map_err(|_| bad(format!("{key} before 1970")))?;
            Ok(Some(d.as_millis() as i64))
        }
    }
}

async fn vessels(
    State(s): State<AppState>,
    h: HeaderMap,
    Query(q): Q,
) -> Result<Response, ApiError> {
    authorize(&s, &h, &q, Role::Viewer)?;
    let bboxes = match q.get("bbox") {
        Some(b) => b
            .split(';')
            .map(parse_bbox)
            .collect::<Result<Vec<_>, _>>()?,
        None => vec![BBox::WORLD],
    };
    let filter = Filter {
        mmsi: list(&q, "mmsi")?,
        classes: list(&q, "class")?,
        ship_types: list(&q, "ship_type")?,
        zones: list(&q, "zone")?,
    };
    // Written directly from each vessel's JSON, serialised once: no
    // intermediate JSON tree for a whole viewport.
    let wires = s.api.vessels_in(&bboxes, &filter);
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
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

fn mmsi(text: &str) -> Result<u32, ApiError> {
    text.parse().map_err(|_| bad("MMSI must be a number"))
}

async fn vessel(
    State(s): State<AppState>,
    h: HeaderMap,
    Query(q): Q,
    Path(m): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, &q, Role::Viewer)?;
    s.api
        .vessel(mmsi(&m)?)
        .map(Json)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no vessel {m}")))
}

async fn track(
    State(s): State<AppState>,
    h: HeaderMap,
    Query(q): Q,
    Path(m): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, &q, Role::Viewer)?;
    let (from, to) = (time_param(&q, "from")?, time_param(&q, "to")?);
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
        if end.saturating_sub(f) > MAX_TRACK_WINDOW_MS {
            return Err(bad(format!(
                "a track may cover at most {} days; narrow from/to",
                MAX_TRACK_WINDOW_MS / 86_400_000
            )));
        }
    }
    let api = s.api.clone();
    tokio::task::spawn_blocking(move || api.track(id, from, to))
        .await
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map(Json)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no track for {m}")))
}

/// Longest period one track request may cover.
pub const MAX_TRACK_WINDOW_MS: i64 = 31 * 86_400_000;

/// `GET /api/history?lat=&lon=&radius_nm=&from=&to=`: every vessel that came
/// within the radius during the window, from the archive (GeoJSON).
async fn history(
    State(s): State<AppState>,
    h: HeaderMap,
    Query(q): Q,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, &q, Role::Viewer)?;
    let num = |k: &str| -> Result<f64, ApiError> {
        q.get(k)
            .ok_or_else(|| bad(format!("{k} is required")))?
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| bad(format!("{k} must be a number")))
    };
    let (lat, lon, radius) = (num("lat")?, num("lon")?, num("radius_nm")?);
    let from = time_param(&q, "from")?.ok_or_else(|| bad("from is required"))?;
    let to = time_param(&q, "to")?.ok_or_else(|| bad("to is required"))?;
    let api = s.api.clone();
    match tokio::task::spawn_blocking(move || api.history(lat, lon, radius, from, to)).await {
        Ok(Ok(v)) => Ok(Json(v)),
        Ok(Err(f)) => Err(ApiError(
            StatusCode::from_u16(f.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            f.message,
        )),
        Err(e) => Err(ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
}

async fn nearest(
    State(s): State<AppState>,
    h: HeaderMap,
    Query(q): Q,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, &q, Role::Viewer)?;
    let num = |k: &str| -> Result<f64, ApiError> {
        q.get(k)
            .ok_or_else(|| bad(format!("{k} is required")))?
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| bad(format!("{k} must be a number")))
    };
    let (lat, lon) = (num("lat")?, num("lon")?);
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return Err(bad("lat must be within -90..90 and lon within -180..180"));
    }
    let k = q
        .get("k")
        .map_or(Ok(10), |v| v.parse::<usize>())
        .map_err(|_| bad("k must be a positive integer"))?;
    if k == 0 || k > 1000 {
        return Err(bad("k must be 1..1000"));
    }
    Ok(Json(
        json!({"lat": lat, "lon": lon, "vessels": s.api.nearest(lat, lon, k)}),
    ))
}

async fn zones(
    State(s): State<AppState>,
    h: HeaderMap,
    Query(q): Q,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, &q, Role::Viewer)?;
    Ok(Json(s.api.zones()))
}

async fn put_zone(
    State(s): State<AppState>,
    h: HeaderMap,
    Query(q): Q,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, &q, Role::Operator)?;
    let feature: Value = serde_json::from_slice(&body)
        .map_err(|e| bad(format!("zone must be a GeoJSON Feature: {e}")))?;
    s.api
        .put_zone_with_status(&id, feature)
        .map_err(sar_error)?;
    s.hub.zones_changed();
    Ok(Json(json!({"id": id, "status": "saved"})))
}

async fn delete_zone(
    State(s): State<AppState>,
    h: HeaderMap,
    Query(q): Q,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, &q, Role::Operator)?;
    match s.api.delete_zone_with_status(&id) {
        Ok(true) => {
            s.hub.zones_changed();
            Ok(Json(json!({"id": id, "status": "deleted"})))
        }
        Ok(false) => Err(ApiError(StatusCode::NOT_FOUND, format!("no zone {id:?}"))),
        Err(e) => Err(sar_error(e)),
    }
}

async fn sources(
    State(s): State<AppState>,
    h: HeaderMap,
    Query(q): Q,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, &q, Role::Viewer)?;
    Ok(Json(s.api.sources()))
}

async fn alerts(
    State(s): State<AppState>,
    h: HeaderMap,
    Query(q): Q,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, &q, Role::Viewer)?;
    let since = time_param(&q, "since")?;
    Ok(Json(
        s.api.alerts(q.get("state").map(String::as_str), since),
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AckBody {
    note: Option<String>,
}

async fn ack(
    State(s): State<AppState>,
    h: HeaderMap,
    Query(q): Q,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let who = authorize(&s, &h, &q, Role::Operator)?;
    let body: AckBody = if body.is_empty() {
        AckBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| bad(format!("body: {e}")))?
    };
    let alert = s
        .api
        .acknowledge(&id, &who.name, body.note.as_deref())
        .map_err(|e| ApiError(StatusCode::NOT_FOUND, e))?;
    s.hub.publish_alert(alert.to_string().into());
    Ok(Json(alert))
}

// ---- SAR contacts and incidents (issue #8) ----

fn sar_error(e: SarFailure) -> ApiError {
    ApiError(
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        e.message,
    )
}

fn no_sar() -> ApiError {
    ApiError(
        StatusCode::SERVICE_UNAVAILABLE,
        "this server keeps no contacts or incidents".into(),
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
    Ok(v)
}

/// Run a SAR call off the async workers (reads are quick, writes wait for
/// the database commit).
async fn sar_call<F>(s: &AppState, f: F) -> Result<Value, ApiError>
where
    F: FnOnce(&dyn SarApi) -> Result<Value, SarFailure> + Send + 'static,
{
    let api = s.api.clone();
    tokio::task::spawn_blocking(move || match api.sar() {
        Some(sar) => f(sar).map_err(sar_error),
        None => Err(no_sar()),
    })
    .await
    .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
}

fn k_param(q: &HashMap<String, String>) -> Result<usize, ApiError> {
    let k = q
        .get("k")
        .map_or(Ok(10), |v| v.parse::<usize>())
        .map_err(|_| bad("k must be a positive integer"))?;
    if k == 0 || k > 100 {
        return Err(bad("k must be 1..100"));
    }
    Ok(k)
}

/// `limit` (1–10,000) and `before` (RFC 3339 or UNIX ms) of a contact or
/// incident list (`crate::sar_channel::page`).
fn sar_page(q: &HashMap<String, String>) -> Result<(Option<usize>, Option<i64>), ApiError> {
    let limit = match q.get("limit") {
        None => None,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=10_000).contains(&n) => Some(n),
            _ => return Err(bad("limit must be 1..10000")),
        },
    };
    Ok((limit, time_param(q, "before")?))
}

async fn contacts(
    State(s): State<AppState>,
    h: HeaderMap,
    Query(q): Q,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, &q, Role::Viewer)?;
    let status = q.get("status").cloned();
    let (limit, before) = sar_page(&q)?;
    sar_call(&s, move |sar| sar.contacts(status.as_deref()))
        .await
        .map(|list| Json(crate::sar_channel::page(list, limit, before)))
}

async fn contact(
    State(s): State<AppState>,
    h: HeaderMap,
    Query(q): Q,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, &q, Role::Viewer)?;
    let sar = s.api.sar().ok_or_else(no_sar)?;
    sar.contact(&id)
        .map(Json)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no contact {id:?}")))
}

async fn create_contact(
    State(s): State<AppState>,
    h: HeaderMap,
    Query(q): Q,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let who = authorize(&s, &h, &q, Role::Operator)?;
    let body = json_body(&body)?;
    let c = sar_call(&s, move |sar| sar.create_contact(&who.name, body)).await?;
    s.hub.publish_sar(SarKind::Contact, c.to_string().into());
    let location = format!("/api/contacts/{}", c["id"].as_str().unwrap_or_default());
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(c)).into_response())
}

async fn update_contact(
    State(s): State<AppState>,
    h: HeaderMap,
    Query(q): Q,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let who = authorize(&s, &h, &q, Role::Operator)?;
    let body = json_body(&body)?;
    let c = sar_call(&s, move |sar| sar.update_contact(&id, &who.name, body)).await?;
    s.hub.publish_sar(SarKind::Contact, c.to_string().into());
    Ok(Json(c))
}

async fn add_sighting(
    State(s): State<AppState>,
    h: HeaderMap,
    Query(q): Q,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let who = authorize(&s, &h, &q, Role::Operator)?;
    let body = json_body(&body)?;
    let c = sar_call(&s, move |sar| sar.add_sighting(&id, &who.name, body)).await?;
    s.hub.publish_sar(SarKind::Contact, c.to_string().into());
    Ok((StatusCode::CREATED, Json(c)).into_response())
}

async fn contact_intercepts(
    State(s): State<AppState>,
    h: HeaderMap,
    Query(q): Q,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, &q, Role::Viewer)?;
    let k = k_param(&q)?;
    sar_call(&s, move |sar| sar.contact_intercepts(&id, k))
        .await
        .map(Json)
}

async fn incidents(
    State(s): State<AppState>,
    h: HeaderMap,
    Query(q): Q,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, &q, Role::Viewer)?;
    let status = q.get("status").cloned();
    let (limit, before) = sar_page(&q)?;
    sar_call(&s, move |sar| sar.incidents(status.as_deref()))
        .await
        .map(|list| Json(crate::sar_channel::page(list, limit, before)))
}

async fn incident(
    State(s): State<AppState>,
    h: HeaderMap,
    Query(q): Q,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, &q, Role::Viewer)?;
    let sar = s.api.sar().ok_or_else(no_sar)?;
    sar.incident(&id)
        .map(Json)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no incident {id:?}")))
}

async fn create_incident(
    State(s): State<AppState>,
    h: HeaderMap,
    Query(q): Q,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let who = authorize(&s, &h, &q, Role::Operator)?;
    let body = json_body(&body)?;
    let i = sar_call(&s, move |sar| sar.create_incident(&who.name, body)).await?;
    s.hub.publish_sar(SarKind::Incident, i.to_string().into());
    let location = format!("/api/incidents/{}", i["id"].as_str().unwrap_or_default());
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(i)).into_response())
}

async fn incident_action(
    State(s): State<AppState>,
    h: HeaderMap,
    Query(q): Q,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let who = authorize(&s, &h, &q, Role::Operator)?;
    let body = json_body(&body)?;
    let i = sar_call(&s, move |sar| sar.incident_action(&id, &who.name, body)).await?;
    s.hub.publish_sar(SarKind::Incident, i.to_string().into());
    Ok(Json(i))
}

async fn incident_intercepts(
    State(s): State<AppState>,
    h: HeaderMap,
    Query(q): Q,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorize(&s, &h, &q, Role::Viewer)?;
    let k = k_param(&q)?;
    sar_call(&s, move |sar| sar.incident_intercepts(&id, k))
        .await
        .map(Json)
}

async fn metrics(
    State(s): State<AppState>,
    h: HeaderMap,
    Query(q): Q,
) -> Result<Response, ApiError> {
    authorize(&s, &h, &q, Role::Viewer)?;
    let mut reg = Registry::with_prefix("lookout");
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
    s.api.metrics(&mut reg);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &reg)
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}
