//! Issue 14 against a real server with the default limits: times bounded
//! at the edge on every route that takes one, the token checked before a
//! body is read, snapshots rate-limited per connection, JSON error bodies,
//! tokens only where documented, close codes for WebSocket protocol
//! errors, and no control characters in ids and names.

mod support;

use broadcast::Limits;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::*;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

const MIN: &str = "-9223372036854775808";
const MAX: &str = "9223372036854775807";

#[tokio::test]
async fn every_time_parameter_is_bounded_to_1970_2200_and_a_wrapped_window_never_reaches_the_archive(
) {
    let s = Server::start(Limits::default()).await;
    let near = "lat=35&lon=12&radius_nm=5";
    // The report of the issue: the window wraps and passes the limit.
    for (from, to) in [
        (MIN, MAX),
        ("0", MAX),
        (MIN, "0"),
        ("-1", "1000"),
        ("0", "7258118400000"),
        ("1969-12-31T23:00:00Z", "1970-01-01T01:00:00Z"),
        ("2199-12-31T00:00:00Z", "2200-01-01T00:00:01Z"),
    ] {
        let (code, body) = get(
            s.addr,
            &format!("/api/history?{near}&from={from}&to={to}"),
            Some(VIEWER),
        )
        .await;
        assert_eq!(code, 400, "history from={from} to={to}: {body}");
        assert!(error_of(&body).contains("between 1970 and 2200"), "{body}");
    }
    let (code, body) = get(
        s.addr,
        &format!("/api/history?{near}&from=2000&to=1000"),
        Some(VIEWER),
    )
    .await;
    assert_eq!(code, 400, "{body}");
    assert!(
        s.fake.calls.lock().unwrap().history.is_empty(),
        "no refused window reached the archive"
    );
    // A sound window is passed on exactly.
    let (code, _) = get(
        s.addr,
        &format!("/api/history?{near}&from=2026-11-28T06:00:00Z&to=1795849200000"),
        Some(VIEWER),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        s.fake.calls.lock().unwrap().history,
        [(1_795_845_600_000, 1_795_849_200_000)]
    );

    // Tracks: from and to.
    for q in [
        format!("from={MIN}"),
        format!("to={MAX}"),
        format!("from=9223372036854775806&to={MAX}"),
        "from=-5".to_string(),
        "to=99999999999999999".to_string(),
    ] {
        let (code, body) = get(s.addr, &format!("/api/vessels/1/track?{q}"), Some(VIEWER)).await;
        assert_eq!(code, 400, "track {q}: {body}");
    }
    assert!(s.fake.calls.lock().unwrap().tracks.is_empty());
    assert_eq!(
        get(
            s.addr,
            "/api/vessels/1/track?from=1795845600000",
            Some(VIEWER)
        )
        .await
        .0,
        200
    );

    // Alerts since, contact and incident pages before.
    for path in [
        format!("/api/alerts?since={MIN}"),
        format!("/api/alerts?since={MAX}"),
        format!("/api/contacts?before={MAX}"),
        format!("/api/incidents?before={MIN}"),
        "/api/contacts?before=3000-01-01T00:00:00Z".to_string(),
    ] {
        let (code, body) = get(s.addr, &path, Some(VIEWER)).await;
        assert_eq!(code, 400, "{path}: {body}");
        assert!(!error_of(&body).is_empty());
    }
    assert!(s.fake.calls.lock().unwrap().alerts.is_empty());

    // Times in bodies: contacts, sightings, updates.
    let bodies = [
        (
            "POST",
            "/api/contacts",
            json!({"description":"boat","lat":35,"lon":12,"time": i64::MIN}),
        ),
        (
            "POST",
            "/api/contacts",
            json!({"description":"boat","lat":35,"lon":12,"time": MAX}),
        ),
        (
            "POST",
            "/api/contacts/c-000001/sightings",
            json!({"lat":35,"lon":12,"time":"1900-01-01T00:00:00Z"}),
        ),
        (
            "PUT",
            "/api/contacts/c-000001",
            json!({"lat":35,"lon":12,"time": 1e300}),
        ),
        (
            "PATCH",
            "/api/contacts/c-000001",
            json!({"lat":35,"lon":12,"time": -1}),
        ),
    ];
    for (m, p, b) in &bodies {
        let (code, body) = call(s.addr, m, p, Some(OPERATOR), &b.to_string()).await;
        assert_eq!(code, 400, "{m} {p} {b}: {body}");
        assert!(error_of(&body).contains("time"), "{body}");
    }
    assert!(s.fake.calls.lock().unwrap().sar_writes.is_empty());
    let ok = json!({"description":"boat","lat":35,"lon":12,"time":"2026-11-28T06:25:00Z"});
    assert_eq!(
        call(
            s.addr,
            "POST",
            "/api/contacts",
            Some(OPERATOR),
            &ok.to_string()
        )
        .await
        .0,
        201
    );
}

#[tokio::test]
async fn without_a_token_the_body_is_never_waited_for() {
    let s = Server::start(Limits::default()).await;
    // The attack of the issue: a large declared body, the last byte
    // withheld, no token. The answer must not wait for the body.
    for auth in [
        None,
        Some("Bearer forged"),
        Some(&*format!("Bearer {VIEWER}")),
    ] {
        let mut tcp = TcpStream::connect(s.addr).await.unwrap();
        let auth_line = auth
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        let head = format!(
            "POST /api/contacts HTTP/1.1\r\nHost: x\r\n{auth_line}Content-Type: application/json\r\nContent-Length: 2097100\r\n\r\n"
        );
        tcp.write_all(head.as_bytes()).await.unwrap();
        tcp.write_all(&[b' '; 1000]).await.unwrap();
        let t0 = Instant::now();
        let (code, body) = read_response(&mut tcp, Duration::from_secs(3))
            .await
            .unwrap_or_else(|| panic!("no answer without the body ({auth:?})"));
        assert!(t0.elapsed() < Duration::from_secs(2));
        let want = if auth.is_some_and(|a| a.contains(VIEWER)) {
            403
        } else {
            401
        };
        assert_eq!(code, want, "{auth:?}: {body}");
        assert!(!error_of(&body).is_empty());
    }
}

#[tokio::test]
async fn tokens_only_where_documented_and_health_says_only_alive_to_strangers() {
    let s = Server::start(Limits::default()).await;
    // `?token=` is for the WebSocket (browsers cannot set its headers),
    // not for every HTTP route (where it ends up in logs and histories).
    let (code, body) = get(s.addr, &format!("/api/vessels?token={VIEWER}"), None).await;
    assert_eq!(code, 401, "{body}");
    assert_eq!(
        get(s.addr, &format!("/metrics?token={VIEWER}"), None)
            .await
            .0,
        401
    );
    // The scheme is case-insensitive (RFC 7235).
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let (code, body) = request(
            s.addr,
            "GET",
            "/api/status",
            Some(&format!("{scheme} {VIEWER}")),
            "",
        )
        .await;
        assert_eq!(code, 200, "{scheme}: {body}");
    }
    assert_eq!(
        request(
            s.addr,
            "GET",
            "/api/status",
            Some(&format!("Basic {VIEWER}")),
            ""
        )
        .await
        .0,
        401
    );
    // Health: alive, nothing more, to a caller without a token.
    let (code, body) = get(s.addr, "/healthz", None).await;
    assert_eq!(code, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"status":"ok"})
    );
    let (_, body) = get(s.addr, "/healthz", Some("forged")).await;
    assert!(!body.contains("secret"), "{body}");
    let (code, body) = get(s.addr, "/healthz", Some(VIEWER)).await;
    assert_eq!(code, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(
        v.get("clients").is_some() && v.get("picture").is_some(),
        "{v}"
    );
    // The WebSocket still takes `?token=`.
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws?token={VIEWER}", s.addr))
        .await
        .unwrap();
    drop(ws);
}

#[tokio::test]
async fn every_error_body_is_the_documented_json_413_included() {
    let s = Server::start(Limits::default()).await;
    let big = format!(
        "{{\"description\":\"{}\",\"lat\":35,\"lon\":12}}",
        "x".repeat(3 << 20)
    );
    let cases: Vec<(&str, &str, Option<&str>, String, u16)> = vec![
        ("POST", "/api/contacts", Some(OPERATOR), big, 413),
        ("DELETE", "/api/vessels", Some(VIEWER), String::new(), 405),
        ("GET", "/api/nothing-here", Some(VIEWER), String::new(), 404),
        (
            "GET",
            "/api/vessels/notanumber",
            Some(VIEWER),
            String::new(),
            400,
        ),
        (
            "POST",
            "/api/contacts",
            Some(OPERATOR),
            "{not json".into(),
            400,
        ),
        ("GET", "/api/status", None, String::new(), 401),
        ("POST", "/api/contacts", Some(VIEWER), "{}".into(), 403),
    ];
    for (m, p, t, b, want) in cases {
        let (code, body) = call(s.addr, m, p, t, &b).await;
        assert_eq!(code, want, "{m} {p}: {body}");
        assert!(!error_of(&body).is_empty(), "{m} {p}");
    }
    let m = s.metrics().await;
    assert!(
        metric(&m, "lookout_http_error_responses_total{status=\"413\"}") >= 1.0,
        "{m}"
    );
    assert!(
        metric(&m, "lookout_http_bodies_too_large_total") >= 1.0,
        "{m}"
    );
    assert!(metric(&m, "lookout_http_error_responses_total{status=\"405\"}") >= 1.0);
}

#[tokio::test]
async fn control_and_bidi_characters_are_refused_in_ids_and_names_nul_in_text() {
    let s = Server::start(Limits::default()).await;
    let zone = json!({"type":"Feature","properties":{"id":"z","name":"Z","kind":"watch"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}});
    let (code, body) = call(
        s.addr,
        "PUT",
        "/api/zones/evil%E2%80%AEtxt",
        Some(OPERATOR),
        &zone.to_string(),
    )
    .await;
    assert_eq!(code, 400, "{body}");
    let mut bad_name = zone.clone();
    bad_name["properties"]["name"] = json!("Z\u{1b}[31m");
    let (code, body) = call(
        s.addr,
        "PUT",
        "/api/zones/z",
        Some(OPERATOR),
        &bad_name.to_string(),
    )
    .await;
    assert_eq!(code, 400, "{body}");
    assert_eq!(
        call(
            s.addr,
            "PUT",
            "/api/zones/z",
            Some(OPERATOR),
            &zone.to_string()
        )
        .await
        .0,
        200
    );
    for b in [
        json!({"description":"boat\u{0}","lat":35,"lon":12}),
        json!({"description":"boat","lat":35,"lon":12,"source":"phone\u{202E}"}),
    ] {
        let (code, body) = call(
            s.addr,
            "POST",
            "/api/contacts",
            Some(OPERATOR),
            &b.to_string(),
        )
        .await;
        assert_eq!(code, 400, "{b}: {body}");
    }
    let (code, _) = call(
        s.addr,
        "POST",
        "/api/incidents",
        Some(OPERATOR),
        &json!({"title":"Boat\u{2066} SW","note":"line 1\nline 2"}).to_string(),
    )
    .await;
    assert_eq!(code, 400);
    let (code, _) = call(
        s.addr,
        "POST",
        "/api/incidents",
        Some(OPERATOR),
        &json!({"title":"Boat SW","note":"line 1\nline 2"}).to_string(),
    )
    .await;
    assert_eq!(code, 201, "line breaks are fine in free text");
    assert_eq!(s.fake.calls.lock().unwrap().sar_writes.len(), 1);
    // Over the WebSocket: subscription ids.
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/ws?token={VIEWER}", s.addr))
            .await
            .unwrap();
    ws.send(Message::Text(
        json!({"type":"subscribe","id":"map\u{202E}"})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let e = next_of(&mut ws, "error").await;
    assert_eq!(e["code"], "bad_request", "{e}");
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

async fn next_of(ws: &mut Ws, kind: &str) -> Value {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a message within 5 s")
            .expect("open")
            .expect("no error");
        if let Message::Text(t) = m {
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["type"] == kind {
                return v;
            }
        }
    }
}

#[tokio::test]
async fn a_subscribe_flood_gets_rate_limited_not_a_snapshot_each() {
    let s = Server::start(Limits::default()).await;
    s.publish_world(5_000);
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/ws?token={VIEWER}", s.addr))
            .await
            .unwrap();
    // The attack of the issue: subscribe again and again, whole world.
    for k in 0..200 {
        let id = if k % 2 == 0 { "a" } else { "b" };
        if ws
            .send(Message::Text(
                json!({"type":"subscribe","id":id}).to_string().into(),
            ))
            .await
            .is_err()
        {
            break;
        }
    }
    let (mut snapshots, mut limited, mut bytes) = (0, 0, 0usize);
    let mut retry_after = None;
    let mut closed = None;
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(15) {
        match tokio::time::timeout(Duration::from_secs(2), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                bytes += t.len();
                let v: Value = serde_json::from_str(&t).unwrap();
                match v["type"].as_str() {
                    Some("snapshot") => snapshots += 1,
                    Some("error") if v["code"] == "rate_limited" => {
                        limited += 1;
                        retry_after = v["retry_after_ms"].as_u64();
                        assert!(v["sub"].is_string(), "{v}");
                    }
                    _ => {}
                }
            }
            Ok(Some(Ok(Message::Close(f)))) => {
                closed = f.map(|f| u16::from(f.code));
                break;
            }
            Ok(Some(Ok(_))) => {}
            _ => break,
        }
    }
    let max = Limits::default().max_snapshots_per_window as usize;
    assert!(snapshots <= max, "{snapshots} snapshots for 200 subscribes");
    assert!(limited > 0, "refused with rate_limited");
    assert!(
        retry_after.is_some_and(|ms| ms > 0 && ms <= 10_001),
        "{retry_after:?}"
    );
    // The rest of the flood counts as bad messages: the client is closed
    // (1008), or — when the close frame is lost to the reset of a socket
    // the client is still writing to — the connection simply ends.
    assert!(closed.is_none_or(|c| c == 1008), "{closed:?}");
    assert!(bytes < (max + 2) * 5_000 * 400, "{bytes} bytes sent");
    let m = s.metrics().await;
    // Every refusal the client read was counted (some may be lost with the
    // reset, never the other way round).
    assert!(
        metric(&m, "lookout_ws_rate_limited_total") >= limited as f64,
        "{m}"
    );
}

#[tokio::test]
async fn a_websocket_frame_beyond_the_hard_limit_is_closed_with_1009() {
    let s = Server::start(Limits::default()).await;
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/ws?token={VIEWER}", s.addr))
            .await
            .unwrap();
    next_of(&mut ws, "hello").await;
    let huge = format!(
        "{{\"type\":\"subscribe\",\"id\":\"{}\"}}",
        "x".repeat(2 << 20)
    );
    let _ = ws.send(Message::Text(huge.into())).await;
    let mut code = None;
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(5) {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Close(f)))) => {
                code = f.map(|f| u16::from(f.code));
                break;
            }
            Ok(Some(Ok(_))) => continue,
            _ => break,
        }
    }
    assert_eq!(code, Some(1009), "closed with a close frame and code");
    let m = s.metrics().await;
    assert_eq!(metric(&m, "lookout_ws_protocol_closes_total"), 1.0, "{m}");
}
