//! The server's configurable limits (issue 14): connections overall and
//! per address (WebSockets included), header, body and request timeouts,
//! requests in flight — each answered or closed as documented in
//! `docs/security.md`, and counted in `/metrics`.

mod support;

use broadcast::Limits;
use serde_json::json;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// A connection from a given loopback address (127.0.0.x all reach the
/// server on Linux).
async fn connect_from(last: u8, to: SocketAddr) -> TcpStream {
    let sock = TcpSocket::new_v4().unwrap();
    sock.bind(SocketAddr::new(
        IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)),
        0,
    ))
    .unwrap();
    sock.connect(to).await.unwrap()
}

/// True when the server answered 503 (JSON) and closed.
async fn refused(tcp: &mut TcpStream) -> Option<String> {
    let (code, body) = read_response(tcp, Duration::from_secs(2)).await?;
    (code == 503).then(|| error_of(&body))
}

/// True when the server keeps the connection and answers on it.
async fn served(tcp: &mut TcpStream) -> bool {
    let req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    if tcp.write_all(req.as_bytes()).await.is_err() {
        return false;
    }
    let mut buf = [0u8; 512];
    matches!(
        tokio::time::timeout(Duration::from_secs(2), tcp.read(&mut buf)).await,
        Ok(Ok(n)) if n > 0 && buf.starts_with(b"HTTP/1.1 200")
    )
}

#[tokio::test]
async fn connections_are_limited_overall_and_per_address_websockets_included() {
    let s = Server::start(Limits {
        max_connections: 4,
        max_connections_per_address: 2,
        ..Limits::default()
    })
    .await;
    let mut a1 = connect_from(1, s.addr).await;
    let mut a2 = connect_from(1, s.addr).await;
    assert!(served(&mut a1).await && served(&mut a2).await);
    // A third from the same address: refused, with a reason.
    let mut a3 = connect_from(1, s.addr).await;
    let why = refused(&mut a3).await.expect("refused");
    assert!(why.contains("your address"), "{why}");
    // Others may still come, up to the total.
    let mut b1 = connect_from(2, s.addr).await;
    assert!(served(&mut b1).await);
    // A WebSocket holds its slot for as long as it is open.
    let ws_sock = connect_from(3, s.addr).await;
    let (ws, _) =
        tokio_tungstenite::client_async(format!("ws://{}/ws?token={VIEWER}", s.addr), ws_sock)
            .await
            .unwrap();
    let mut c1 = connect_from(4, s.addr).await;
    let why = refused(&mut c1).await.expect("refused: 4 open");
    assert!(why.contains("too many connections"), "{why}");
    drop(ws);
    let t0 = Instant::now();
    loop {
        let mut c2 = connect_from(4, s.addr).await;
        if served(&mut c2).await {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(5), "the slot came back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop((a1, a2, b1));
    let m = s.metrics().await;
    assert!(
        metric(
            &m,
            "lookout_http_connections_refused_total{reason=\"max_connections_per_address\"}"
        ) >= 1.0,
        "{m}"
    );
    assert!(
        metric(
            &m,
            "lookout_http_connections_refused_total{reason=\"max_connections\"}"
        ) >= 1.0,
        "{m}"
    );
    assert!(metric(&m, "lookout_http_connections_open") >= 1.0, "{m}");
}

#[tokio::test]
async fn slow_headers_and_idle_connections_are_closed_after_the_header_timeout() {
    let s = Server::start(Limits {
        header_timeout: Duration::from_millis(300),
        ..Limits::default()
    })
    .await;
    // Half a request line, then nothing (slowloris).
    let mut slow = TcpStream::connect(s.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    // An idle keep-alive connection after one answer.
    let mut idle = TcpStream::connect(s.addr).await.unwrap();
    assert!(served(&mut idle).await);
    // Nothing at all.
    let mut silent = TcpStream::connect(s.addr).await.unwrap();
    let t0 = Instant::now();
    for tcp in [&mut slow, &mut idle, &mut silent] {
        let mut buf = Vec::new();
        let r = tokio::time::timeout(Duration::from_secs(3), tcp.read_to_end(&mut buf)).await;
        assert!(r.is_ok(), "closed by the server");
    }
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    let m = s.metrics().await;
    assert!(
        metric(&m, "lookout_http_header_timeouts_total") >= 2.0,
        "{m}"
    );
}

#[tokio::test]
async fn a_slow_body_gets_408_a_large_one_413_and_a_slow_answer_503() {
    let s = Server::start(Limits {
        body_timeout: Duration::from_millis(300),
        max_body_bytes: 10_000,
        request_timeout: Duration::from_millis(500),
        ..Limits::default()
    })
    .await;
    // Slow body from an authorised client.
    let mut tcp = TcpStream::connect(s.addr).await.unwrap();
    let head = format!(
        "POST /api/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {OPERATOR}\r\nContent-Length: 100\r\n\r\n{{\"descr"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let t0 = Instant::now();
    let (code, body) = read_response(&mut tcp, Duration::from_secs(3))
        .await
        .expect("answered");
    assert_eq!(code, 408, "{body}");
    assert!(error_of(&body).contains("did not arrive"), "{body}");
    assert!(t0.elapsed() < Duration::from_secs(2));
    // Over max_body_bytes: declared, and chunked (no length given).
    let big = json!({"description": "x".repeat(20_000), "lat": 1, "lon": 1}).to_string();
    let (code, body) = call(s.addr, "POST", "/api/contacts", Some(OPERATOR), &big).await;
    assert_eq!(code, 413, "{body}");
    assert!(error_of(&body).contains("10000"), "{body}");
    let mut tcp = TcpStream::connect(s.addr).await.unwrap();
    let chunk = "x".repeat(8_000);
    let req = format!(
        "POST /api/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {OPERATOR}\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len(),
        chunk.len()
    );
    let _ = tcp.write_all(req.as_bytes()).await;
    let (code, body) = read_response(&mut tcp, Duration::from_secs(3))
        .await
        .unwrap();
    assert_eq!(code, 413, "{body}");
    // An answer that takes too long: 503 with the documented body.
    s.fake.slow_history_ms.store(1_500, Ordering::Relaxed);
    let t0 = Instant::now();
    let (code, body) = get(
        s.addr,
        "/api/history?lat=35&lon=12&radius_nm=5&from=1795845600000&to=1795849200000",
        Some(VIEWER),
    )
    .await;
    assert_eq!(code, 503, "{body}");
    assert!(error_of(&body).contains("not answered within"), "{body}");
    assert!(t0.elapsed() < Duration::from_millis(1_400));
    let m = s.metrics().await;
    assert_eq!(metric(&m, "lookout_http_body_timeouts_total"), 1.0, "{m}");
    assert_eq!(
        metric(&m, "lookout_http_bodies_too_large_total"),
        2.0,
        "{m}"
    );
    assert_eq!(
        metric(&m, "lookout_http_request_timeouts_total"),
        1.0,
        "{m}"
    );
    assert_eq!(
        metric(&m, "lookout_http_error_responses_total{status=\"408\"}"),
        1.0
    );
}

#[tokio::test]
async fn requests_in_flight_are_bounded_and_wait_their_turn() {
    let s = Server::start(Limits {
        max_requests_in_flight: 1,
        ..Limits::default()
    })
    .await;
    s.fake.slow_history_ms.store(600, Ordering::Relaxed);
    let addr = s.addr;
    let slow = tokio::spawn(async move {
        get(
            addr,
            "/api/history?lat=35&lon=12&radius_nm=5&from=1795845600000&to=1795849200000",
            Some(VIEWER),
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let t0 = Instant::now();
    assert_eq!(get(addr, "/api/status", Some(VIEWER)).await.0, 200);
    assert!(
        t0.elapsed() >= Duration::from_millis(300),
        "waited for the one in flight: {:?}",
        t0.elapsed()
    );
    assert_eq!(slow.await.unwrap().0, 200);
}

#[tokio::test]
async fn invalid_limits_refuse_to_serve() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (tx, rx) = tokio::sync::watch::channel(false);
    let state = broadcast::AppState {
        hub: std::sync::Arc::new(broadcast::Hub::new(Limits {
            max_connections: 0,
            ..Limits::default()
        })),
        api: std::sync::Arc::new(Fake::default()),
        auth: std::sync::Arc::new(auth()),
        shutdown: rx,
    };
    let e = broadcast::server::serve_on(listener, state, tx, async {})
        .await
        .unwrap_err();
    assert!(e.to_string().contains("max_connections"), "{e}");
}

#[tokio::test]
async fn an_oversized_request_head_is_refused_with_431() {
    let s = Server::start(Limits {
        max_header_bytes: 8192,
        ..Limits::default()
    })
    .await;
    let mut tcp = TcpStream::connect(s.addr).await.unwrap();
    let req = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "y".repeat(20_000)
    );
    let _ = tcp.write_all(req.as_bytes()).await;
    let answer = read_response(&mut tcp, Duration::from_secs(3)).await;
    assert!(
        answer.as_ref().is_none_or(|(code, _)| *code == 431),
        "{answer:?}"
    );
    // A normal request still works, and the refusal was counted.
    assert_eq!(get(s.addr, "/healthz", None).await.0, 200);
    let m = s.metrics().await;
    assert!(
        metric(&m, "lookout_http_connection_errors_total") >= 1.0,
        "{m}"
    );
}
