//! The WebSocket protocol and HTTP API against a real server on 127.0.0.1
//! and a real WebSocket client (tokio-tungstenite), with a small in-memory
//! picture behind the `PictureApi` trait.

use broadcast::auth::{hash_token, AuthConfig, TokenConfig};
use broadcast::server::serve_on;
use broadcast::{
    ApiError, AppState, Auth, BBox, Change, Filter, Hub, Limits, PictureApi, Role, VesselView,
    VesselWire,
};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;

#[derive(Default)]
struct FakePicture {
    vessels: Mutex<BTreeMap<u32, Arc<VesselWire>>>,
    acks: Mutex<Vec<(String, String)>>,
}

impl PictureApi for FakePicture {
    fn vessels_in(&self, bboxes: &[BBox], filter: &Filter) -> Vec<Arc<VesselWire>> {
        self.vessels
            .lock()
            .unwrap()
            .values()
            .filter(|w| {
                bboxes.iter().any(|b| b.contains(w.view.lon, w.view.lat)) && filter.matches(&w.view)
            })
            .cloned()
            .collect()
    }
    fn vessel(&self, mmsi: u32) -> Option<Value> {
        self.vessels
            .lock()
            .unwrap()
            .get(&mmsi)
            .map(|w| serde_json::from_str(&w.json).unwrap())
    }
    fn track(&self, mmsi: u32, _: Option<i64>, _: Option<i64>) -> Option<Value> {
        self.vessel(mmsi).map(
            |_| json!({"type": "Feature", "geometry": {"type": "LineString", "coordinates": []}}),
        )
    }
    fn search(&self, _: &str, _: usize) -> Vec<Arc<VesselWire>> {
        Vec::new()
    }
    fn nearest(&self, _: f64, _: f64, _: usize, _: &broadcast::view::NearestQuery) -> Vec<Value> {
        vec![]
    }
    fn zones(&self) -> Value {
        json!({"type": "FeatureCollection", "features": []})
    }
    fn put_zone(&self, _: &str, f: Value) -> Result<(), ApiError> {
        if f.get("type") == Some(&json!("Feature")) {
            Ok(())
        } else {
            Err(ApiError::invalid("not a Feature"))
        }
    }
    fn delete_zone(&self, _: &str) -> Result<bool, ApiError> {
        Ok(false)
    }
    fn sources(&self) -> Value {
        json!([])
    }
    fn alerts(&self, _: Option<&str>, _: Option<i64>) -> Value {
        json!([])
    }
    fn acknowledge(&self, id: &str, who: &str, _: Option<&str>) -> Result<Value, ApiError> {
        self.acks.lock().unwrap().push((id.into(), who.into()));
        Ok(json!({"id": id, "state": "acknowledged", "acknowledged_by": who}))
    }
    fn status(&self) -> Value {
        json!({"vessels": self.vessels.lock().unwrap().len()})
    }
    fn metrics(&self, _: &mut prometheus_client::registry::Registry) {}
}

fn view(mmsi: u32, lon: f64, lat: f64) -> VesselView {
    VesselView {
        mmsi,
        lat,
        lon,
        sog: Some(12.0),
        cog: Some(90.0),
        heading: Some(90),
        name: Some(format!("SHIP {mmsi}")),
        callsign: None,
        ship_type: Some(70),
        class: "A".into(),
        nav_status: Some(0),
        last_seen: 1_795_845_600_000,
        state: "live".into(),
        zones: vec![],
    }
}

struct Server {
    addr: std::net::SocketAddr,
    hub: Arc<Hub>,
    picture: Arc<FakePicture>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Server {
    async fn start(auth: Auth, limits: Limits) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hub = Arc::new(Hub::new(limits));
        let picture = Arc::new(FakePicture::default());
        let (tx, rx) = tokio::sync::watch::channel(false);
        let state = AppState {
            hub: hub.clone(),
            api: picture.clone(),
            auth: Arc::new(auth),
            shutdown: rx,
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(serve_on(listener, state, tx, async move {
            let _ = stopped.await;
        }));
        Server {
            addr,
            hub,
            picture,
            stop: Some(stop),
        }
    }

    /// Put a vessel in the picture and publish the change.
    fn move_vessel(&self, mmsi: u32, lon: f64, lat: f64) {
        let w = VesselWire::new(view(mmsi, lon, lat));
        self.picture.vessels.lock().unwrap().insert(mmsi, w.clone());
        self.hub.publish(&[Change::Upsert(w)]);
    }

    fn remove_vessel(&self, mmsi: u32) {
        self.picture.vessels.lock().unwrap().remove(&mmsi);
        self.hub.publish(&[Change::Remove(mmsi)]);
    }
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

async fn connect(
    addr: std::net::SocketAddr,
    token: Option<&str>,
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let url = match token {
        Some(t) => format!("ws://{addr}/ws?token={t}"),
        None => format!("ws://{addr}/ws"),
    };
    let (ws, _) = tokio_tungstenite::connect_async(url).await?;
    Ok(ws)
}

/// Next JSON text message (skipping pings), with a timeout.
async fn next(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a message within 5 s")
            .expect("stream open")
            .expect("no error");
        if let Message::Text(t) = msg {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

/// Next message of a given type.
async fn next_of(ws: &mut Ws, kind: &str) -> Value {
    loop {
        let v = next(ws).await;
        if v["type"] == kind {
            return v;
        }
    }
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

fn mmsis(v: &Value, key: &str) -> Vec<u64> {
    let mut out: Vec<u64> = v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            x.get("mmsi")
                .map_or_else(|| x.as_u64().unwrap(), |m| m.as_u64().unwrap())
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn snapshot_holds_only_vessels_inside_the_box_then_updates_and_removals() {
    let s = Server::start(Auth::disabled(), Limits::default()).await;
    s.move_vessel(1, 12.5, 35.5); // inside
    s.move_vessel(2, 14.5, 35.9); // inside
    s.move_vessel(3, 30.0, 35.0); // outside
    let mut ws = connect(s.addr, None).await.unwrap();
    assert_eq!(next(&mut ws).await["type"], "hello");
    send(
        &mut ws,
        json!({"type":"subscribe","id":"s1","bbox":[11.0,34.0,16.0,37.0],"max_rate_hz":10}),
    )
    .await;
    let snap = next_of(&mut ws, "snapshot").await;
    assert_eq!(snap["sub"], "s1");
    assert_eq!(mmsis(&snap, "vessels"), [1, 2]);
    let v = &snap["vessels"][0];
    for field in [
        "mmsi",
        "lat",
        "lon",
        "sog",
        "cog",
        "heading",
        "name",
        "callsign",
        "ship_type",
        "class",
        "nav_status",
        "last_seen",
        "state",
        "zones",
    ] {
        assert!(v.get(field).is_some(), "vessel object has {field}");
    }
    // Vessel 3 enters, vessel 1 leaves, vessel 2 is removed from the picture.
    s.move_vessel(3, 13.0, 35.0);
    s.move_vessel(1, 20.0, 35.5);
    s.remove_vessel(2);
    let up = next_of(&mut ws, "update").await;
    assert_eq!(mmsis(&up, "vessels"), [3]);
    assert_eq!(mmsis(&up, "removed"), [1, 2]);
    assert!(up["seq"].as_u64().unwrap() > snap["seq"].as_u64().unwrap());
}

#[tokio::test]
async fn a_new_subscribe_with_the_same_id_replaces_the_old_one() {
    let s = Server::start(Auth::disabled(), Limits::default()).await;
    s.move_vessel(1, 12.5, 35.5);
    s.move_vessel(2, -70.0, 40.0);
    let mut ws = connect(s.addr, None).await.unwrap();
    send(
        &mut ws,
        json!({"type":"subscribe","id":"map","bbox":[11.0,34.0,16.0,37.0]}),
    )
    .await;
    assert_eq!(mmsis(&next_of(&mut ws, "snapshot").await, "vessels"), [1]);
    // Pan to the Atlantic: same connection, same id.
    send(
        &mut ws,
        json!({"type":"subscribe","id":"map","bbox":[-75.0,35.0,-65.0,45.0]}),
    )
    .await;
    assert_eq!(mmsis(&next_of(&mut ws, "snapshot").await, "vessels"), [2]);
    // Movement in the old box is no longer sent.
    s.move_vessel(1, 12.6, 35.5);
    s.move_vessel(2, -70.1, 40.0);
    let up = next_of(&mut ws, "update").await;
    assert_eq!(mmsis(&up, "vessels"), [2]);
    send(&mut ws, json!({"type":"unsubscribe","id":"map"})).await;
    assert_eq!(next_of(&mut ws, "unsubscribed").await["sub"], "map");
}

#[tokio::test]
async fn updates_are_rate_limited_and_coalesced() {
    let s = Server::start(Auth::disabled(), Limits::default()).await;
    s.move_vessel(1, 12.5, 35.5);
    let mut ws = connect(s.addr, None).await.unwrap();
    send(
        &mut ws,
        json!({"type":"subscribe","id":"s","max_rate_hz":2}),
    )
    .await;
    next_of(&mut ws, "snapshot").await;
    // 200 position changes over ~2 s: at 2 Hz the client gets ~4-5 updates,
    // each with the latest position only.
    let start = Instant::now();
    let pump = async {
        for k in 0..200 {
            s.move_vessel(1, 12.5 + k as f64 * 0.001, 35.5);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let mut updates = Vec::new();
    let collect = async {
        while start.elapsed() < Duration::from_millis(2600) {
            if let Ok(Some(Ok(Message::Text(t)))) =
                tokio::time::timeout(Duration::from_millis(200), ws.next()).await
            {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["type"] == "update" {
                    updates.push((start.elapsed(), v));
                }
            }
        }
    };
    tokio::join!(pump, collect);
    assert!(
        (3..=7).contains(&updates.len()),
        "{} updates",
        updates.len()
    );
    for w in updates.windows(2) {
        assert!(
            w[1].0 - w[0].0 >= Duration::from_millis(400),
            "at most 2 per second"
        );
    }
    for (_, u) in &updates {
        assert_eq!(
            u["vessels"].as_array().unwrap().len(),
            1,
            "coalesced to one state"
        );
    }
    let last = &updates.last().unwrap().1["vessels"][0]["lon"];
    assert!(last.as_f64().unwrap() > 12.6);
}

#[tokio::test]
async fn a_stalled_client_is_bounded_does_not_delay_others_and_catches_up_with_current_state() {
    let limits = Limits {
        max_pending: 1000,
        stall_timeout: Duration::from_secs(2),
        ..Limits::default()
    };
    let s = Server::start(Auth::disabled(), limits).await;
    for m in 0..500 {
        s.move_vessel(m, 12.0 + m as f64 * 0.001, 35.0);
    }
    // The stalled client subscribes, then stops reading.
    let mut stalled = connect(s.addr, None).await.unwrap();
    send(
        &mut stalled,
        json!({"type":"subscribe","id":"s","max_rate_hz":20}),
    )
    .await;
    let mut healthy = connect(s.addr, None).await.unwrap();
    send(
        &mut healthy,
        json!({"type":"subscribe","id":"s","max_rate_hz":20}),
    )
    .await;
    next_of(&mut healthy, "snapshot").await;
    // Heavy traffic: many rounds of updates to all vessels.
    for round in 0..300 {
        for m in 0..500 {
            s.move_vessel(m, 12.0 + m as f64 * 0.001, 35.0 + round as f64 * 0.0001);
        }
        if round % 20 == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    // The healthy client still gets updates promptly, with current state.
    let t0 = Instant::now();
    let up = next_of(&mut healthy, "update").await;
    assert!(t0.elapsed() < Duration::from_secs(2));
    assert!(!up["vessels"].as_array().unwrap().is_empty());
    // The hub holds at most max_pending changes per subscription (bounded).
    assert!(s.hub.client_count() >= 1);
    // The stalled client, reading again, receives current positions, not a
    // backlog: the last state it sees for vessel 0 is the final one.
    let mut last_lat = 0.0;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_millis(500), stalled.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                for x in v["vessels"].as_array().into_iter().flatten() {
                    if x["mmsi"] == 0 {
                        last_lat = x["lat"].as_f64().unwrap();
                    }
                }
            }
            Ok(Some(Ok(_))) => {}
            _ => break,
        }
    }
    assert!(
        (last_lat - (35.0 + 299.0 * 0.0001)).abs() < 1e-9,
        "caught up to the latest state: {last_lat}"
    );
}

#[tokio::test]
async fn a_client_that_never_reads_is_disconnected_with_a_reason() {
    let limits = Limits {
        stall_timeout: Duration::from_millis(500),
        ..Limits::default()
    };
    let s = Server::start(Auth::disabled(), limits).await;
    // A raw TCP client that completes the upgrade and then never reads.
    let mut tcp = TcpStream::connect(s.addr).await.unwrap();
    tcp.write_all(
        format!(
            "GET /ws HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            s.addr
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    // Subscribe (masked client frame) to everything.
    let payload = br#"{"type":"subscribe","id":"s","max_rate_hz":20}"#;
    let mut frame = vec![0x81, 0x80 | payload.len() as u8, 1, 2, 3, 4];
    frame.extend(
        payload
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ [1, 2, 3, 4][i % 4]),
    );
    tcp.write_all(&frame).await.unwrap();
    // Flood vessel changes with large names until the socket buffers fill.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut k = 0u32;
    while s
        .hub
        .stats
        .stalled_disconnects
        .load(std::sync::atomic::Ordering::Relaxed)
        == 0
    {
        assert!(
            Instant::now() < deadline,
            "stalled client was never disconnected"
        );
        for m in 0..2000 {
            let mut v = view(m, 12.0, 35.0 + k as f64 * 1e-6);
            v.name = Some("X".repeat(200));
            s.hub.publish(&[Change::Upsert(VesselWire::new(v))]);
        }
        k += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while s.hub.client_count() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(s.hub.client_count(), 0, "its state is gone");
}

#[tokio::test]
async fn bad_input_gets_error_codes_and_the_connection_stays_up() {
    let s = Server::start(
        Auth::disabled(),
        Limits {
            max_subscriptions: 2,
            ..Limits::default()
        },
    )
    .await;
    let mut ws = connect(s.addr, None).await.unwrap();
    next(&mut ws).await; // hello
    for (input, code) in [
        ("not json".to_string(), "bad_json"),
        (json!({"type":"teleport"}).to_string(), "unknown_type"),
        (
            json!({"type":"subscribe","id":"a","bbox":[10,40,20,30]}).to_string(),
            "bad_bbox",
        ),
        (
            json!({"type":"subscribe","id":"a","bbox":[10,30,200,40]}).to_string(),
            "bad_bbox",
        ),
        (
            json!({"type":"subscribe","id":"a","max_rate_hz":-1}).to_string(),
            "bad_request",
        ),
        (
            json!({"type":"unsubscribe","id":"never"}).to_string(),
            "unknown_subscription",
        ),
        (
            format!(r#"{{"type":"subscribe","id":"{}"}}"#, "x".repeat(70_000)),
            "frame_too_large",
        ),
    ] {
        ws.send(Message::Text(input.into())).await.unwrap();
        let e = next_of(&mut ws, "error").await;
        assert_eq!(e["code"], code, "{e}");
        assert!(e["message"].as_str().unwrap().len() > 5);
    }
    send(&mut ws, json!({"type":"subscribe","id":"a"})).await;
    send(&mut ws, json!({"type":"subscribe","id":"b"})).await;
    send(&mut ws, json!({"type":"subscribe","id":"c"})).await;
    assert_eq!(
        next_of(&mut ws, "error").await["code"],
        "too_many_subscriptions"
    );
    // Still up: a valid subscription works.
    s.move_vessel(9, 1.0, 1.0);
    send(
        &mut ws,
        json!({"type":"subscribe","id":"a","bbox":[0,0,2,2]}),
    )
    .await;
    assert_eq!(mmsis(&next_of(&mut ws, "snapshot").await, "vessels"), [9]);
}

#[tokio::test]
async fn an_abusive_client_is_closed() {
    let s = Server::start(Auth::disabled(), Limits::default()).await;
    let mut ws = connect(s.addr, None).await.unwrap();
    for _ in 0..100 {
        if ws.send(Message::Text("garbage".into())).await.is_err() {
            break;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut closed = None;
    while Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(1), ws.next()).await {
            Ok(Some(Ok(Message::Close(Some(f))))) => {
                closed = Some((u16::from(f.code), f.reason.to_string()));
                break;
            }
            Ok(Some(Ok(_))) => {}
            _ => break,
        }
    }
    let (code, reason) = closed.expect("closed with a frame");
    assert_eq!(code, 1008);
    assert!(reason.contains("bad messages"));
}

async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, String) {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut resp = String::new();
    tcp.read_to_string(&mut resp).await.unwrap();
    let code = resp.split(' ').nth(1).unwrap().parse().unwrap();
    (code, resp)
}

#[tokio::test]
async fn every_endpoint_refuses_missing_and_invalid_tokens_and_enforces_roles() {
    let auth = Auth::new(&AuthConfig {
        cors_origins: Vec::new(),
        enabled: true,
        tokens: vec![
            TokenConfig {
                name: "watch".into(),
                role: Role::Viewer,
                sha256: hash_token("viewer-token"),
            },
            TokenConfig {
                name: "duty".into(),
                role: Role::Operator,
                sha256: hash_token("operator-token"),
            },
            TokenConfig {
                name: "root".into(),
                role: Role::Admin,
                sha256: hash_token("admin-token"),
            },
        ],
    })
    .unwrap();
    let s = Server::start(auth, Limits::default()).await;
    s.move_vessel(1, 12.0, 35.0);
    let zone = json!({"type":"Feature","properties":{"id":"z","name":"Z","kind":"watch"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}).to_string();
    let reads = [
        ("GET", "/api/vessels"),
        ("GET", "/api/vessels/1"),
        ("GET", "/api/vessels/1/track"),
        ("GET", "/api/nearest?lat=35&lon=12"),
        ("GET", "/api/zones"),
        ("GET", "/api/sources"),
        ("GET", "/api/alerts"),
        ("GET", "/api/status"),
        ("GET", "/metrics"),
    ];
    let writes = [
        ("PUT", "/api/zones/z"),
        ("POST", "/api/zones/z"),
        ("DELETE", "/api/zones/z"),
        ("POST", "/api/alerts/a1/ack"),
    ];
    for (m, p) in reads.iter().chain(writes.iter()) {
        let body = if p.contains("zones") && *m != "DELETE" {
            zone.as_str()
        } else {
            ""
        };
        assert_eq!(
            http(s.addr, m, p, None, body).await.0,
            401,
            "{m} {p} without token"
        );
        assert_eq!(
            http(s.addr, m, p, Some("forged"), body).await.0,
            401,
            "{m} {p} forged token"
        );
    }
    for (m, p) in reads {
        assert_eq!(
            http(s.addr, m, p, Some("viewer-token"), "").await.0,
            200,
            "{m} {p} as viewer"
        );
    }
    for (m, p) in writes {
        let body = if p.contains("zones") && m != "DELETE" {
            zone.as_str()
        } else {
            ""
        };
        assert_eq!(
            http(s.addr, m, p, Some("viewer-token"), body).await.0,
            403,
            "{m} {p} as viewer"
        );
        let code = http(s.addr, m, p, Some("operator-token"), body).await.0;
        assert!(code == 200 || code == 404, "{m} {p} as operator: {code}");
        let code = http(s.addr, m, p, Some("admin-token"), body).await.0;
        assert!(code == 200 || code == 404, "{m} {p} as admin: {code}");
    }
    // Health is public (for load balancers); it reveals no vessel data.
    assert_eq!(http(s.addr, "GET", "/healthz", None, "").await.0, 200);
    // WebSocket: refused without or with a forged token, accepted with one.
    assert!(connect(s.addr, None).await.is_err());
    assert!(connect(s.addr, Some("forged")).await.is_err());
    let mut ws = connect(s.addr, Some("viewer-token")).await.unwrap();
    let hello = next(&mut ws).await;
    assert_eq!(hello["role"], "viewer");
    // A viewer cannot acknowledge over the WebSocket; an operator can, the
    // acknowledgement records who, and every client with an alerts channel
    // sees the new state.
    send(
        &mut ws,
        json!({"type":"subscribe","id":"alerts","channels":["alerts"]}),
    )
    .await;
    send(&mut ws, json!({"type":"ack","alert_id":"a1"})).await;
    assert_eq!(next_of(&mut ws, "error").await["code"], "forbidden");
    let mut op = connect(s.addr, Some("operator-token")).await.unwrap();
    send(
        &mut op,
        json!({"type":"ack","alert_id":"a1","note":"tasked RESCUE 1"}),
    )
    .await;
    assert_eq!(
        next_of(&mut op, "acked").await["alert"]["acknowledged_by"],
        "duty"
    );
    let seen = next_of(&mut ws, "alert").await;
    assert_eq!(seen["alert"]["state"], "acknowledged");
    assert_eq!(seen["alert"]["acknowledged_by"], "duty");
    assert!(s
        .picture
        .acks
        .lock()
        .unwrap()
        .contains(&("a1".to_string(), "duty".to_string())));
}

#[tokio::test]
async fn shutdown_tells_clients() {
    let mut s = Server::start(Auth::disabled(), Limits::default()).await;
    let mut ws = connect(s.addr, None).await.unwrap();
    next(&mut ws).await;
    s.stop.take().unwrap().send(()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        assert!(Instant::now() < deadline);
        match tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .unwrap()
        {
            Some(Ok(Message::Close(Some(f)))) => {
                assert_eq!(u16::from(f.code), 1001);
                assert!(f.reason.contains("shutting down"));
                break;
            }
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

/// A client whose socket has a 4 KiB receive buffer and that never reads.
async fn never_reading_client(
    addr: std::net::SocketAddr,
    subscribe: Value,
) -> tokio_tungstenite::WebSocketStream<TcpStream> {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    let stream = sock.connect(addr).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/ws"), stream)
        .await
        .unwrap();
    ws.send(Message::Text(subscribe.to_string().into()))
        .await
        .unwrap();
    ws
}

/// A vessel with a long name (about 600 bytes of JSON), so buffers fill
/// quickly.
fn heavy(mmsi: u32, round: u32) -> Change {
    let mut v = view(
        mmsi,
        12.0 + (mmsi % 100) as f64 * 0.01,
        35.0 + round as f64 * 1e-5,
    );
    v.name = Some(format!("{round:06}{}", "X".repeat(400)));
    Change::Upsert(VesselWire::new(v))
}

#[tokio::test]
async fn a_stalled_client_holds_no_more_than_its_byte_budget_and_is_closed_with_the_documented_reason(
) {
    let limits = Limits {
        max_queued_bytes: 256 * 1024,
        max_message_bytes: 32 * 1024,
        stall_timeout: Duration::from_millis(1500),
        ..Limits::default()
    };
    let s = Server::start(Auth::disabled(), limits).await;
    let mut stalled = never_reading_client(
        s.addr,
        json!({"type":"subscribe","id":"all","max_rate_hz":20}),
    )
    .await;
    // 3,000 vessels of ~600 bytes: a snapshot alone is ~1.8 MB, seven times
    // the budget; every round changes all of them.
    let bound = limits.max_queued_bytes + 1024 + limits.max_message_bytes + 1024;
    let mut most = 0;
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut round = 0;
    while s
        .hub
        .stats
        .stalled_disconnects
        .load(std::sync::atomic::Ordering::Relaxed)
        == 0
    {
        assert!(
            Instant::now() < deadline,
            "the stalled client was never disconnected"
        );
        let batch: Vec<_> = (0..3000).map(|m| heavy(m, round)).collect();
        for chunk in batch.chunks(100) {
            s.hub.publish(chunk);
            let q = s.hub.queued_bytes().first().copied().unwrap_or(0);
            most = most.max(q);
        }
        round += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(round >= 3, "it was stalled for a while ({round} rounds)");
    assert!(
        most <= bound,
        "queued {most} bytes for the stalled client, budget {bound}"
    );
    assert!(
        s.hub
            .stats
            .overflow_resnapshots
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 1,
        "past the budget its changes were dropped for a snapshot"
    );
    // Its state is gone at once ...
    let gone = Instant::now() + Duration::from_secs(2);
    while s.hub.client_count() > 0 {
        assert!(Instant::now() < gone, "its hub state is dropped");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // ... and when it reads again it finds the documented close frame after
    // what the socket had taken.
    let mut close = None;
    while let Ok(Some(msg)) = tokio::time::timeout(Duration::from_secs(5), stalled.next()).await {
        match msg {
            Ok(Message::Close(Some(f))) => {
                close = Some((u16::from(f.code), f.reason.to_string()));
                break;
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    let (code, reason) = close.expect("a close frame");
    assert_eq!(code, 1013);
    assert_eq!(reason, broadcast::session::STALLED_REASON);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ten_hertz_client_keeps_its_rate_and_current_state_while_another_is_stalled() {
    let limits = Limits {
        max_queued_bytes: 2 << 20,
        max_message_bytes: 64 * 1024,
        stall_timeout: Duration::from_secs(30),
        ..Limits::default()
    };
    let s = Server::start(Auth::disabled(), limits).await;
    for m in 0..2000 {
        s.hub.publish(&[heavy(m, 0)]);
    }
    let _stalled = never_reading_client(
        s.addr,
        json!({"type":"subscribe","id":"all","max_rate_hz":20}),
    )
    .await;
    let mut fast = connect(s.addr, None).await.unwrap();
    send(
        &mut fast,
        json!({"type":"subscribe","id":"all","max_rate_hz":10}),
    )
    .await;
    // Read the snapshot (in parts) to its end.
    loop {
        let m = next(&mut fast).await;
        if m["type"] != "error" && m.get("more").is_none() && m["type"] != "hello" {
            break;
        }
    }
    // 3 s of traffic: 100 vessels change every 10 ms, published from a
    // thread of their own (as the pipeline does).
    let start = Instant::now();
    let hub = s.hub.clone();
    let pump = std::thread::spawn(move || {
        let mut round = 1;
        while start.elapsed() < Duration::from_secs(3) {
            let batch: Vec<_> = (0..100)
                .map(|k| heavy((round * 100 + k) % 2000, round))
                .collect();
            hub.publish(&batch);
            round += 1;
            std::thread::sleep(Duration::from_millis(10));
        }
        round
    });
    let mut arrivals = Vec::new();
    let mut snapshots = 0;
    let read = async {
        while start.elapsed() < Duration::from_millis(3200) {
            if let Ok(Some(Ok(Message::Text(t)))) =
                tokio::time::timeout(Duration::from_millis(200), fast.next()).await
            {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["type"] == "update" && v.get("more").is_none() {
                    arrivals.push(start.elapsed());
                }
                if v["type"] == "snapshot" {
                    snapshots += 1;
                }
            }
        }
    };
    read.await;
    let rounds = pump.join().unwrap();
    assert!(rounds > 30, "the publisher kept going ({rounds} rounds)");
    assert_eq!(snapshots, 0, "it kept up: no resynchronisation");
    // 10 Hz for 3 s: about 30 updates (fewer only when the test machine is
    // starved of CPU), never more than 10 a second, and no gap a stalled
    // neighbour could explain.
    assert!(
        (20..=33).contains(&arrivals.len()),
        "{} updates in 3 s",
        arrivals.len()
    );
    for w in arrivals.windows(2) {
        let gap = w[1] - w[0];
        assert!(gap <= Duration::from_millis(400), "kept its pace: {gap:?}");
    }
    for w in arrivals.windows(11) {
        let span = w[10] - w[0];
        assert!(
            span >= Duration::from_millis(900),
            "rate limited: 11 updates in {span:?}"
        );
    }
    let q = s.hub.queued_bytes();
    assert!(
        q[0] <= limits.max_queued_bytes + 1024 + limits.max_message_bytes + 1024,
        "the stalled one stays within its budget: {q:?}"
    );
}

#[tokio::test]
async fn a_large_snapshot_arrives_in_parts_that_add_up_to_every_vessel() {
    let limits = Limits {
        max_message_bytes: 16 * 1024,
        ..Limits::default()
    };
    let s = Server::start(Auth::disabled(), limits).await;
    for m in 0..3000 {
        s.move_vessel(m, 12.0 + (m % 50) as f64 * 0.01, 35.0);
    }
    s.move_vessel(99_999, 30.0, 35.0); // outside the box
    let mut ws = connect(s.addr, None).await.unwrap();
    send(
        &mut ws,
        json!({"type":"subscribe","id":"s","bbox":[11.0,34.0,16.0,37.0]}),
    )
    .await;
    let mut seen = std::collections::BTreeSet::new();
    let mut parts = 0;
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let Message::Text(t) = msg else { continue };
        let v: Value = serde_json::from_str(&t).unwrap();
        if v["type"] == "hello" {
            continue;
        }
        assert_eq!(
            v["type"],
            if parts == 0 { "snapshot" } else { "update" },
            "the first part is the snapshot, the rest add to it"
        );
        assert!(
            t.len() <= limits.max_message_bytes + 1024,
            "a part of {} bytes",
            t.len()
        );
        if parts > 0 {
            assert_eq!(v["part"], parts, "parts are numbered");
        }
        parts += 1;
        for m in mmsis(&v, "vessels") {
            assert!(seen.insert(m), "vessel {m} sent twice");
        }
        if v.get("more").is_none() {
            break;
        }
        assert_eq!(v["more"], true);
    }
    assert!(parts >= 10, "{parts} parts");
    assert_eq!(seen.len(), 3000);
    assert!(!seen.contains(&99_999));
}

/// Every text message until (and with) the first for which `stop` holds.
async fn until(ws: &mut Ws, stop: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let v = next(ws).await;
        let done = stop(&v);
        out.push(v);
        if done {
            return out;
        }
    }
}

#[tokio::test]
async fn every_message_carries_seq_and_a_refused_subscribe_its_sub() {
    let s = Server::start(Auth::disabled(), Limits::default()).await;
    s.move_vessel(1, 12.5, 35.5);
    let mut ws = connect(s.addr, None).await.unwrap();
    let mut got = vec![next(&mut ws).await];
    assert_eq!(got[0]["type"], "hello");
    send(
        &mut ws,
        json!({"type":"subscribe","id":"map","bbox":[11.0,37.0,16.0,34.0]}),
    )
    .await;
    let e = next_of(&mut ws, "error").await;
    assert_eq!(
        (e["code"].as_str(), e["sub"].as_str()),
        (Some("bad_bbox"), Some("map"))
    );
    got.push(e);
    send(
        &mut ws,
        json!({"type":"subscribe","id":"map","channels":["radar"]}),
    )
    .await;
    let e = next(&mut ws).await;
    assert_eq!(
        (e["code"].as_str(), e["sub"].as_str()),
        (Some("bad_request"), Some("map"))
    );
    got.push(e);
    // An id that cannot be echoed is not.
    send(&mut ws, json!({"type":"subscribe","id":"a\u{202E}b"})).await;
    let e = next(&mut ws).await;
    assert!(e["code"] == "bad_request" && e.get("sub").is_none(), "{e}");
    got.push(e);
    send(&mut ws, json!({"type":"unsubscribe","id":"nope"})).await;
    let e = next(&mut ws).await;
    assert_eq!(e["sub"], "nope");
    got.push(e);
    send(
        &mut ws,
        json!({"type":"subscribe","id":"map","bbox":[11.0,34.0,16.0,37.0]}),
    )
    .await;
    got.extend(until(&mut ws, |v| v["type"] == "snapshot").await);
    send(&mut ws, json!({"type":"ack","alert_id":"a-1"})).await;
    got.extend(until(&mut ws, |v| v["type"] == "acked").await);
    s.hub
        .publish_alert(r#"{"id":"a-2","lat":35.0,"lon":12.0}"#.into());
    got.extend(until(&mut ws, |v| v["type"] == "alert").await);
    send(&mut ws, json!({"type":"unsubscribe","id":"map"})).await;
    got.extend(until(&mut ws, |v| v["type"] == "unsubscribed").await);
    let seqs: Vec<u64> = got
        .iter()
        .map(|v| v["seq"].as_u64().unwrap_or_else(|| panic!("no seq: {v}")))
        .collect();
    let want: Vec<u64> = (1..=seqs.len() as u64).collect();
    assert_eq!(seqs, want, "seq counts every message: {got:?}");
}

#[tokio::test]
async fn a_large_update_comes_in_numbered_parts() {
    let limits = Limits {
        max_message_bytes: 16 * 1024,
        ..Limits::default()
    };
    let s = Server::start(Auth::disabled(), limits).await;
    s.move_vessel(5000, 12.0, 35.0);
    let mut ws = connect(s.addr, None).await.unwrap();
    send(
        &mut ws,
        json!({"type":"subscribe","id":"s","bbox":[11.0,34.0,16.0,37.0],"max_rate_hz":20}),
    )
    .await;
    let snap = next_of(&mut ws, "snapshot").await;
    assert!(snap.get("part").is_none() && snap.get("more").is_none());
    // One publication of 3000 vessels, and one leaving.
    let mut changes: Vec<Change> = (0..3000)
        .map(|m| {
            let w = VesselWire::new(view(m, 12.0 + (m % 50) as f64 * 0.01, 35.0));
            s.picture.vessels.lock().unwrap().insert(m, w.clone());
            Change::Upsert(w)
        })
        .collect();
    changes.push(Change::Remove(5000));
    s.hub.publish(&changes);
    let parts = until(&mut ws, |v| {
        v["type"] == "update" && v.get("more").is_none()
    })
    .await;
    assert!(parts.len() >= 10, "{} parts", parts.len());
    let mut seen = std::collections::BTreeSet::new();
    for (i, p) in parts.iter().enumerate() {
        assert_eq!(p["type"], "update");
        assert_eq!(
            p["part"], i as u64,
            "every part of a cut update is numbered"
        );
        assert_eq!(p["gen"], snap["gen"]);
        let last = i + 1 == parts.len();
        assert_eq!(p.get("more").is_some(), !last);
        assert_eq!(mmsis(p, "removed"), if last { vec![5000] } else { vec![] });
        for m in mmsis(p, "vessels") {
            assert!(seen.insert(m), "vessel {m} sent twice");
        }
    }
    assert_eq!(seen.len(), 3000);
    // A small update is whole: no `part`.
    s.move_vessel(1, 12.3, 35.1);
    let up = next_of(&mut ws, "update").await;
    assert!(up.get("part").is_none() && up.get("more").is_none(), "{up}");
}

#[tokio::test]
async fn no_frame_of_a_replaced_subscription_follows_the_new_snapshot() {
    let s = Arc::new(Server::start(Auth::disabled(), Limits::default()).await);
    for m in 0..200 {
        s.move_vessel(m, 12.0 + m as f64 * 0.01, 35.0); // the old box
        s.move_vessel(1000 + m, -70.0 + m as f64 * 0.01, 40.0); // the new one
    }
    let mut ws = connect(s.addr, None).await.unwrap();
    send(
        &mut ws,
        json!({"type":"subscribe","id":"map","bbox":[11.0,34.0,16.0,37.0],"max_rate_hz":20}),
    )
    .await;
    let first = next_of(&mut ws, "snapshot").await;
    let g1 = first["gen"].as_u64().unwrap();
    // Both boxes keep moving while the subscription is replaced.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mover = {
        let (s, stop) = (s.clone(), stop.clone());
        tokio::spawn(async move {
            let mut round = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                round += 1;
                for m in 0..200 {
                    let d = (round % 10) as f64 * 0.001;
                    s.move_vessel(m, 12.0 + m as f64 * 0.01 + d, 35.0);
                    s.move_vessel(1000 + m, -70.0 + m as f64 * 0.01 + d, 40.0);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    send(
        &mut ws,
        json!({"type":"subscribe","id":"map","bbox":[-75.0,35.0,-65.0,45.0],"max_rate_hz":20}),
    )
    .await;
    let before = until(&mut ws, |v| v["type"] == "snapshot").await;
    let snap = before.last().unwrap();
    let g2 = snap["gen"].as_u64().unwrap();
    assert!(g2 > g1, "a new subscribe, a new generation");
    for v in &before[..before.len() - 1] {
        if v["sub"] == "map" {
            assert_eq!(
                v["gen"], g1,
                "before the new snapshot: the old one's frames"
            );
        }
    }
    let deadline = Instant::now() + Duration::from_millis(700);
    let mut updates = 0;
    while Instant::now() < deadline {
        let v = next(&mut ws).await;
        if v["sub"] == "map" {
            assert_eq!(v["gen"], g2, "{v}");
            assert!(mmsis(&v, "vessels").iter().all(|m| *m >= 1000), "{v}");
            updates += 1;
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    mover.await.unwrap();
    assert!(updates >= 3, "{updates} updates of the new subscription");
}

#[tokio::test]
async fn alerts_are_for_the_whole_world_unless_the_subscription_asks_for_its_area() {
    let s = Server::start(Auth::disabled(), Limits::default()).await;
    let mut area = connect(s.addr, None).await.unwrap();
    let mut all = connect(s.addr, None).await.unwrap();
    send(
        &mut area,
        json!({"type":"subscribe","id":"map","bbox":[11.0,34.0,16.0,37.0],"alerts":"area"}),
    )
    .await;
    send(
        &mut all,
        json!({"type":"subscribe","id":"map","bbox":[11.0,34.0,16.0,37.0]}),
    )
    .await;
    next_of(&mut area, "snapshot").await;
    next_of(&mut all, "snapshot").await;
    let alert = |id: &str, pos: Option<(f64, f64)>, state: &str| -> Arc<str> {
        let mut v = json!({"id": id, "state": state, "kind": "distress_beacon"});
        if let Some((lon, lat)) = pos {
            v["lon"] = json!(lon);
            v["lat"] = json!(lat);
        }
        v.to_string().into()
    };
    s.hub
        .publish_alert(alert("a-in", Some((12.0, 35.0)), "raised"));
    s.hub
        .publish_alert(alert("a-out", Some((-70.0, 40.0)), "raised"));
    s.hub.publish_alert(alert("a-nowhere", None, "raised"));
    // The beacon in the area drifts out: its changes still come.
    s.hub
        .publish_alert(alert("a-in", Some((17.0, 35.0)), "updated"));
    s.hub
        .publish_alert(alert("a-out", Some((-70.0, 40.1)), "cleared"));
    s.hub
        .publish_alert(alert("a-end", Some((13.0, 36.0)), "raised"));
    let ids = |msgs: Vec<Value>| -> Vec<String> {
        msgs.iter()
            .filter(|v| v["type"] == "alert")
            .map(|v| {
                format!(
                    "{}/{}",
                    v["alert"]["id"].as_str().unwrap(),
                    v["alert"]["state"].as_str().unwrap()
                )
            })
            .collect()
    };
    let is_end = |v: &Value| v["type"] == "alert" && v["alert"]["id"] == "a-end";
    assert_eq!(
        ids(until(&mut area, is_end).await),
        [
            "a-in/raised",
            "a-nowhere/raised",
            "a-in/updated",
            "a-end/raised"
        ]
    );
    assert_eq!(ids(until(&mut all, is_end).await).len(), 6);
}
