//! `/v0/stream`: the aisstream.io-compatible WebSocket (docs/protocol.md,
//! "aisstream.io-compatible stream"). A client connects, sends one
//! subscription message (`APIKey`, `BoundingBoxes`, optional
//! `FiltersShipMMSI` / `FilterMessageTypes`) within
//! [`SUBSCRIBE_WITHIN`], and receives the messages of
//! [`outputs::aisstream`] that pass its filter. The key is a Lookout token
//! (role viewer or more; any key with authentication off). A bad key or
//! subscription is answered `{"error": "…"}` and the socket closed, as
//! aisstream does. A subscription sent again replaces the filter.
//!
//! Merged into the app in front of the web client's files
//! (`crate::serve`), so the server's connection limits and middleware
//! apply to it as to `/ws`.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use broadcast::{Auth, Limits, Role};
use outputs::aisstream::{parse_subscription, AisStream, Subscription, ERR_API_KEY};
use std::sync::Arc;
use std::time::Duration;

/// The subscription must arrive this soon after the upgrade (aisstream: 3 s).
pub const SUBSCRIBE_WITHIN: Duration = Duration::from_secs(3);

#[derive(Clone)]
struct Ctx {
    stream: AisStream,
    auth: Arc<Auth>,
    limits: Limits,
    shutdown: tokio::sync::watch::Receiver<bool>,
}

/// The `/v0/stream` route.
pub fn router(
    stream: AisStream,
    auth: Arc<Auth>,
    limits: Limits,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Router {
    Router::new()
        .route("/v0/stream", get(upgrade))
        .with_state(Ctx {
            stream,
            auth,
            limits,
            shutdown,
        })
}

async fn upgrade(State(c): State<Ctx>, up: WebSocketUpgrade) -> Response {
    let max = c.limits.max_frame_bytes;
    up.max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |ws| session(ws, c))
}

/// The key and filter of a subscription message, or aisstream's error text.
fn subscribe(c: &Ctx, text: &str) -> Result<Subscription, &'static str> {
    let (key, sub) = parse_subscription(text)?;
    if c.auth.enabled() && c.auth.authorize(Some(&key), Role::Viewer).is_err() {
        return Err(ERR_API_KEY);
    }
    Ok(sub)
}

async fn fail(mut ws: WebSocket, error: &str) {
    let body = serde_json::json!({ "error": error }).to_string();
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let _ = ws.send(Message::Text(body.into())).await;
        let _ = ws.send(Message::Close(None)).await;
    })
    .await;
}

async fn session(mut ws: WebSocket, c: Ctx) {
    let first = tokio::time::timeout(SUBSCRIBE_WITHIN, async {
        loop {
            match ws.recv().await {
                Some(Ok(Message::Text(t))) => return Some(t.to_string()),
                Some(Ok(Message::Binary(b))) => {
                    return Some(String::from_utf8_lossy(&b).into_owned())
                }
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await;
    let text = match first {
        Ok(Some(t)) => t,
        Ok(None) => return,
        Err(_) => return fail(ws, "Subscription Not Received In Time").await,
    };
    let sub = match subscribe(&c, &text) {
        Ok(s) => s,
        Err(e) => return fail(ws, e).await,
    };
    let Some(mut s) = c.stream.open(sub) else {
        return fail(ws, "Too Many Connections").await;
    };
    let stall = c.limits.stall_timeout;
    let mut shutdown = c.shutdown.clone();
    loop {
        tokio::select! {
            m = s.recv() => {
                let Some(m) = m else { break };
                let sent = tokio::time::timeout(stall, ws.send(Message::Text(m.as_ref().into()))).await;
                if !matches!(sent, Ok(Ok(()))) {
                    break;
                }
            }
            incoming = ws.recv() => match incoming {
                Some(Ok(Message::Text(t))) => match subscribe(&c, &t) {
                    Ok(sub) => s.set_filter(sub),
                    Err(e) => return fail(ws, e).await,
                },
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            _ = async { let _ = shutdown.wait_for(|stop| *stop).await; } => {
                let _ = tokio::time::timeout(Duration::from_secs(1), ws.send(Message::Close(None))).await;
                break;
            }
        }
    }
}
