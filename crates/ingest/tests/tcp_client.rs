//! TCP client source against a local listener that goes away and comes
//! back: reconnects with backoff, logs each state change once, loses no line.

mod common;

use common::*;
use ingest::status::{SourceErrorKind, SourceState};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

#[tokio::test]
async fn reconnects_after_the_feed_goes_away_and_logs_each_state_change_once() {
    capture_logs();
    let mut h = Harness::new(10_000);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let name = "national-reconnect";
    let src = h
        .start(Harness::from_json(&format!(
            r#"{{"type":"tcp_client","name":"{name}","address":"{addr}",
                "initial_backoff_ms":20,"max_backoff_ms":100,"idle_timeout_ms":0}}"#
        )))
        .await;
    let status = src.status.clone();

    // First connection: 100 lines, the last one without its newline, then
    // the feed closes and stops listening.
    let (mut conn, _) = within("first connect", listener.accept()).await.unwrap();
    let mut text = String::new();
    for i in 0..100 {
        text.push_str(&numbered_sentence(i));
        if i < 99 {
            text.push_str("\r\n");
        }
    }
    conn.write_all(text.as_bytes()).await.unwrap();
    conn.shutdown().await.unwrap();
    drop(conn);
    drop(listener);
    let first = h.collect(100).await;

    // While the feed is down, several attempts fail inside one retry episode.
    wait_until("three connection attempts failed", || {
        status.errors(SourceErrorKind::ConnectFailed) >= 3
    })
    .await;
    assert_eq!(status.state(), SourceState::Retrying);

    // The feed comes back on the same port.
    let listener = TcpListener::bind(addr).await.unwrap();
    let (mut conn, _) = within("reconnect", listener.accept()).await.unwrap();
    let mut text = String::new();
    for i in 100..200 {
        text.push_str(&numbered_sentence(i));
        text.push('\n');
    }
    conn.write_all(text.as_bytes()).await.unwrap();
    let second = h.collect(100).await;

    let got: Vec<String> = texts(&first).into_iter().chain(texts(&second)).collect();
    let want: Vec<String> = (0..200).map(numbered_sentence).collect();
    assert_eq!(
        got, want,
        "every line, in order, none lost across the reconnect"
    );
    assert!(first.iter().chain(&second).all(|l| l.source == status.id()));

    wait_until("connected again", || {
        status.state() == SourceState::Connected
    })
    .await;
    assert_eq!(status.reconnects(), 1);
    assert_eq!(status.lines(), 200);
    assert_eq!(status.connections(), 1);
    assert!(status.bytes() > 200 * 40);

    // Each state change logged once, not once per failed attempt.
    assert_eq!(count_logs(name, "connected"), 2, "{:#?}", logs_of(name));
    assert_eq!(count_logs(name, "disconnected"), 1, "{:#?}", logs_of(name));
    assert_eq!(count_logs(name, "retrying"), 1, "{:#?}", logs_of(name));
    assert!(
        count_logs(name, "retry failed") >= 2,
        "failed attempts go to debug"
    );
    let warnings = logs_of(name)
        .iter()
        .filter(|l| l.level <= tracing::Level::WARN)
        .count();
    assert!(
        warnings <= 3,
        "a few warnings at most, however long the outage: {:#?}",
        logs_of(name)
    );

    h.trigger.trigger();
    within("source stops", src.task).await.unwrap();
    assert_eq!(status.state(), SourceState::Stopped);
    drop(conn);
}

#[tokio::test]
async fn a_silent_connection_is_dropped_after_the_idle_timeout_and_reopened() {
    let h = Harness::new(100);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let src = h
        .start(Harness::from_json(&format!(
            r#"{{"type":"tcp_client","name":"silent","address":"{addr}",
                "initial_backoff_ms":10,"max_backoff_ms":50,"idle_timeout_ms":150}}"#
        )))
        .await;
    // Accept and say nothing, twice.
    let (c1, _) = within("connect", listener.accept()).await.unwrap();
    let (c2, _) = within("reconnect after idle", listener.accept())
        .await
        .unwrap();
    assert!(src.status.errors(SourceErrorKind::IdleTimeout) >= 1);
    wait_until("reconnect counted", || src.status.reconnects() >= 1).await;
    h.trigger.trigger();
    within("source stops", src.task).await.unwrap();
    drop((c1, c2));
}

#[tokio::test]
async fn an_unreachable_feed_keeps_retrying_within_the_bounded_delay() {
    // A port nobody listens on: bind, learn it, close.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let h = Harness::new(100);
    let src = h
        .start(Harness::from_json(&format!(
            r#"{{"type":"tcp_client","name":"down","address":"127.0.0.1:{port}",
                "initial_backoff_ms":5,"max_backoff_ms":20}}"#
        )))
        .await;
    // With the delay capped at 20 ms, 13 attempts take a fraction of a
    // second; uncapped doubling from 5 ms would need over 40 s, beyond the
    // wait's 20 s bound. (The exact bounds are unit-tested on `Backoff`.)
    wait_until("thirteen failed attempts", || {
        src.status.errors(SourceErrorKind::ConnectFailed) >= 13
    })
    .await;
    assert_eq!(src.status.state(), SourceState::Retrying);
    assert!(src.status.last_error().is_some());
    h.trigger.trigger();
    within("source stops", src.task).await.unwrap();
}
