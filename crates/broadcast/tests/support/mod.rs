//! A broadcast server on 127.0.0.1 with a small fake picture and fake SAR
//! store that record what reaches them, and raw HTTP helpers (the
//! hardening tests need to send partial requests, so no HTTP client
//! library).

#![allow(dead_code)]

use broadcast::api::{ApiError, SarApi};
use broadcast::auth::{hash_token, AuthConfig, TokenConfig};
use broadcast::server::serve_on;
use broadcast::{AppState, Auth, BBox, Change, Filter, Hub, Limits, PictureApi, Role};
use broadcast::{VesselView, VesselWire};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const VIEWER: &str = "viewer-token";
pub const OPERATOR: &str = "operator-token";

/// What reached the picture and the SAR store.
#[derive(Default)]
pub struct Calls {
    pub history: Vec<(i64, i64)>,
    pub tracks: Vec<(u32, Option<i64>, Option<i64>)>,
    pub alerts: Vec<Option<i64>>,
    pub sar_writes: Vec<Value>,
}

#[derive(Default)]
pub struct Fake {
    pub calls: Mutex<Calls>,
    /// History queries take this long (ms).
    pub slow_history_ms: std::sync::atomic::AtomicU64,
}

impl PictureApi for Fake {
    fn vessels_in(&self, _: &[BBox], _: &Filter) -> Vec<Arc<VesselWire>> {
        vec![]
    }
    fn vessel(&self, mmsi: u32) -> Option<Value> {
        Some(json!({ "mmsi": mmsi }))
    }
    fn track(&self, mmsi: u32, from: Option<i64>, to: Option<i64>) -> Option<Value> {
        self.calls.lock().unwrap().tracks.push((mmsi, from, to));
        Some(json!({"type":"Feature","geometry":{"type":"LineString","coordinates":[]}}))
    }
    fn search(&self, _: &str, _: usize) -> Vec<Arc<VesselWire>> {
        Vec::new()
    }
    fn nearest(&self, _: f64, _: f64, _: usize, _: &broadcast::view::NearestQuery) -> Vec<Value> {
        vec![]
    }
    fn zones(&self) -> Value {
        json!({"type":"FeatureCollection","features":[]})
    }
    fn put_zone(&self, _: &str, _: Value) -> Result<(), ApiError> {
        Ok(())
    }
    fn delete_zone(&self, _: &str) -> Result<bool, ApiError> {
        Ok(true)
    }
    fn sources(&self) -> Value {
        json!([])
    }
    fn alerts(&self, _: Option<&str>, since: Option<i64>) -> Value {
        self.calls.lock().unwrap().alerts.push(since);
        json!([])
    }
    fn acknowledge(&self, id: &str, who: &str, _: Option<&str>) -> Result<Value, ApiError> {
        Ok(json!({"id": id, "state": "acknowledged", "acknowledged_by": who}))
    }
    fn status(&self) -> Value {
        json!({"vessels": 0, "archive": "/secret/path/archive"})
    }
    fn metrics(&self, _: &mut prometheus_client::registry::Registry) {}
    fn history(&self, _: f64, _: f64, _: f64, from_ms: i64, to_ms: i64) -> Result<Value, ApiError> {
        self.calls.lock().unwrap().history.push((from_ms, to_ms));
        let slow = self
            .slow_history_ms
            .load(std::sync::atomic::Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(slow));
        Ok(json!({"type":"FeatureCollection","features":[]}))
    }
    fn sar(&self) -> Option<&dyn SarApi> {
        Some(self)
    }
}

impl Fake {
    fn write(&self, body: Value) -> Result<Value, ApiError> {
        self.calls.lock().unwrap().sar_writes.push(body);
        Ok(json!({"id": "c-000001", "version": 1}))
    }
}

impl SarApi for Fake {
    fn contacts(&self, _: Option<&str>) -> Result<Value, ApiError> {
        Ok(json!([]))
    }
    fn contact(&self, id: &str) -> Option<Value> {
        Some(json!({ "id": id }))
    }
    fn create_contact(&self, _: &str, body: Value) -> Result<Value, ApiError> {
        self.write(body)
    }
    fn update_contact(&self, _: &str, _: &str, body: Value) -> Result<Value, ApiError> {
        self.write(body)
    }
    fn add_sighting(&self, _: &str, _: &str, body: Value) -> Result<Value, ApiError> {
        self.write(body)
    }
    fn incidents(&self, _: Option<&str>) -> Result<Value, ApiError> {
        Ok(json!([]))
    }
    fn incident(&self, id: &str) -> Option<Value> {
        Some(json!({ "id": id }))
    }
    fn create_incident(&self, _: &str, body: Value) -> Result<Value, ApiError> {
        self.write(body)
    }
    fn incident_action(&self, _: &str, _: &str, body: Value) -> Result<Value, ApiError> {
        self.write(body)
    }
    fn contact_intercepts(&self, _: &str, _: usize) -> Result<Value, ApiError> {
        Ok(json!({}))
    }
    fn incident_intercepts(&self, _: &str, _: usize) -> Result<Value, ApiError> {
        Ok(json!({}))
    }
}

pub fn auth() -> Auth {
    Auth::new(&AuthConfig {
        cors_origins: Vec::new(),
        enabled: true,
        tokens: vec![
            TokenConfig {
                name: "watch".into(),
                role: Role::Viewer,
                sha256: hash_token(VIEWER),
            },
            TokenConfig {
                name: "duty".into(),
                role: Role::Operator,
                sha256: hash_token(OPERATOR),
            },
        ],
    })
    .unwrap()
}

pub struct Server {
    pub addr: std::net::SocketAddr,
    pub hub: Arc<Hub>,
    pub fake: Arc<Fake>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Server {
    /// A server with tokens (viewer and operator) and these limits.
    pub async fn start(limits: Limits) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hub = Arc::new(Hub::new(limits));
        let fake = Arc::new(Fake::default());
        let (tx, rx) = tokio::sync::watch::channel(false);
        let state = AppState {
            hub: hub.clone(),
            api: fake.clone(),
            auth: Arc::new(auth()),
            shutdown: rx,
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(serve_on(listener, state, tx, async move {
            let _ = stopped.await;
        }));
        Server {
            addr,
            hub,
            fake,
            _stop: stop,
        }
    }

    /// Publish `n` vessels spread over the world.
    pub fn publish_world(&self, n: u32) {
        let changes: Vec<Change> = (0..n)
            .map(|i| {
                Change::Upsert(VesselWire::new(VesselView {
                    mmsi: 200_000_000 + i,
                    lat: -60.0 + (i % 120) as f64,
                    lon: -170.0 + (i % 340) as f64,
                    sog: Some(10.0),
                    cog: Some(90.0),
                    heading: None,
                    name: Some(format!("VESSEL {i} WITH A NAME OF SOME LENGTH")),
                    callsign: None,
                    ship_type: Some(70),
                    class: "A".into(),
                    nav_status: Some(0),
                    last_seen: 1_795_845_600_000,
                    state: "live".into(),
                    zones: vec![],
                }))
            })
            .collect();
        self.hub.publish(&changes);
    }

    pub async fn metrics(&self) -> String {
        get(self.addr, "/metrics", Some(VIEWER)).await.1
    }
}

/// A metric's value from the Prometheus text (0 when absent).
pub fn metric(text: &str, name_and_labels: &str) -> f64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(name_and_labels)
                .and_then(|rest| rest.strip_prefix(' '))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0.0)
}

/// One whole request with `Connection: close`; `(status, body)`.
pub async fn request(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    auth_header: Option<&str>,
    body: &str,
) -> (u16, String) {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let auth = auth_header
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    // A server that answers before the whole body (401, 413) may close
    // while it is still being written: read its answer all the same.
    let _ = tcp.write_all(req.as_bytes()).await;
    read_response(&mut tcp, Duration::from_secs(10))
        .await
        .expect("an answer")
}

/// `request` with a bearer token.
pub async fn call(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, String) {
    let auth = token.map(|t| format!("Bearer {t}"));
    request(addr, method, path, auth.as_deref(), body).await
}

pub async fn get(addr: std::net::SocketAddr, path: &str, token: Option<&str>) -> (u16, String) {
    call(addr, "GET", path, token, "").await
}

/// Read one response (until the server closes, or `Content-Length` bytes
/// of body arrived) within `within`; `(status, body)`, or `None` on a
/// timeout or a connection closed before a status line.
pub async fn read_response(tcp: &mut TcpStream, within: Duration) -> Option<(u16, String)> {
    let read = async {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            let n = match tcp.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).to_string();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len = head.lines().find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                });
                if len.is_some_and(|n| body.len() >= n) {
                    break;
                }
            }
        }
        let text = String::from_utf8_lossy(&buf).to_string();
        let status = text.split(' ').nth(1)?.parse().ok()?;
        let body = text
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_string();
        Some((status, body))
    };
    tokio::time::timeout(within, read).await.ok().flatten()
}

/// The `"error"` of a JSON error body (panics when the body is not one).
pub fn error_of(body: &str) -> String {
    let v: Value = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("error body is not JSON ({e}): {body:?}"));
    v["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no \"error\" in {body}"))
        .to_string()
}
