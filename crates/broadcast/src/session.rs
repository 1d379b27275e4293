//! One WebSocket connection: reads the client's messages, writes its
//! snapshots, updates and alerts at the pace it asked for.
//!
//! The session task owns the socket. It wakes when the hub queued something
//! (or a subscription's next update is due), takes the pending changes out
//! of the hub under a short lock, builds the message text outside the lock
//! (splicing each vessel's pre-serialised JSON), and writes it. A write that
//! does not complete within the stall timeout means the client has stopped
//! reading: it is disconnected with a close reason, and its hub state (all
//! bounded) is dropped. Pings go out every 20 s; a client that has not
//! answered for 60 s is closed.
//!
//! Snapshot consistency: when a subscription (re)starts, its pending state
//! is reset under the lock *before* the picture is queried, so every change
//! published after that point reaches the client as an update — the client
//! may see a vessel twice (latest wins), never miss a change.

use crate::api::PictureApi;
use crate::auth::{Principal, Role};
use crate::hub::{ClientHandle, Hub, Pending};
use crate::protocol::{self, ClientMessage, ProtocolError};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep_until, timeout, Instant};

const PING_EVERY: Duration = Duration::from_secs(20);
const PONG_TIMEOUT: Duration = Duration::from_secs(60);

/// Close codes used by the server.
pub mod close {
    /// Going away: the server is shutting down.
    pub const GOING_AWAY: u16 = 1001;
    /// Policy violation: abusive client.
    pub const POLICY: u16 = 1008;
    /// Try again later: the client was too slow.
    pub const TRY_AGAIN_LATER: u16 = 1013;
}

fn close_frame(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from(reason.to_string()),
    }))
}

/// Run a session until the client leaves, stalls, misbehaves or the server
/// shuts down.
pub async fn run(
    socket: WebSocket,
    hub: Arc<Hub>,
    api: Arc<dyn PictureApi>,
    who: Principal,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let client = hub.connect();
    let (mut tx, mut rx) = socket.split();
    let limits = *hub.limits();
    let mut seq: u64 = 0;
    let mut next_due: HashMap<String, Instant> = HashMap::new();
    let mut last_pong = Instant::now();
    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    let mut errors: Vec<Instant> = Vec::new();
    let mut outgoing: Vec<String> = vec![serde_json::json!({
        "type": "hello",
        "protocol": 1,
        "server": concat!("lookout ", env!("CARGO_PKG_VERSION")),
        "user": who.name,
        "role": who.role.as_str(),
    })
    .to_string()];

    'session: loop {
        // Write what is ready.
        outgoing.extend(collect(&client, &api, &mut next_due, &mut seq));
        for text in outgoing.drain(..) {
            let len = text.len() as u64;
            match timeout(limits.stall_timeout, tx.send(Message::Text(text.into()))).await {
                Ok(Ok(())) => {
                    hub.stats.messages_sent.fetch_add(1, Ordering::Relaxed);
                    hub.stats.bytes_sent.fetch_add(len, Ordering::Relaxed);
                }
                Ok(Err(_)) => break 'session,
                Err(_) => {
                    hub.stats
                        .stalled_disconnects
                        .fetch_add(1, Ordering::Relaxed);
                    tracing::info!(
                        client = client.id,
                        "disconnecting a client that stopped reading"
                    );
                    let _ = timeout(
                        Duration::from_secs(1),
                        tx.send(close_frame(
                            close::TRY_AGAIN_LATER,
                            "client too slow: stopped reading",
                        )),
                    )
                    .await;
                    break 'session;
                }
            }
        }
        let wake = next_wake(&client, &next_due);
        tokio::select! {
            biased;
            _ = shutdown.changed() => {
                let _ = timeout(Duration::from_secs(2), tx.send(close_frame(close::GOING_AWAY, "server shutting down"))).await;
                break 'session;
            }
            msg = rx.next() => match msg {
                None | Some(Err(_)) => break 'session,
                Some(Ok(Message::Text(t))) => {
                    match handle(&t, &hub, &client, &api, &who, &limits) {
                        Ok(Some(reply)) => outgoing.push(reply),
                        Ok(None) => {}
                        Err((e, sub)) => {
                            hub.stats.client_errors.fetch_add(1, Ordering::Relaxed);
                            outgoing.push(e.to_json(sub.as_deref()));
                            let now = Instant::now();
                            errors.retain(|t| now.duration_since(*t) < Duration::from_secs(60));
                            errors.push(now);
                            if errors.len() as u32 > limits.max_errors_per_minute {
                                for text in outgoing.drain(..) {
                                    let _ = timeout(Duration::from_secs(1), tx.send(Message::Text(text.into()))).await;
                                }
                                let _ = timeout(Duration::from_secs(1), tx.send(close_frame(close::POLICY, "too many bad messages"))).await;
                                break 'session;
                            }
                        }
                    }
                }
                Some(Ok(Message::Binary(_))) => {
                    outgoing.push(ProtocolError::new("bad_request", "binary frames are not part of the protocol; send JSON text").to_json(None));
                }
                Some(Ok(Message::Pong(_))) => last_pong = Instant::now(),
                Some(Ok(Message::Ping(_))) => {}
                Some(Ok(Message::Close(_))) => break 'session,
            },
            _ = client.notify.notified() => {}
            _ = sleep_until(wake) => {}
            _ = ping.tick() => {
                if last_pong.elapsed() > PONG_TIMEOUT {
                    let _ = timeout(Duration::from_secs(1), tx.send(close_frame(close::POLICY, "no pong"))).await;
                    break 'session;
                }
                if timeout(limits.stall_timeout, tx.send(Message::Ping(Vec::new().into()))).await.is_err() {
                    hub.stats.stalled_disconnects.fetch_add(1, Ordering::Relaxed);
                    break 'session;
                }
            }
        }
    }
    hub.disconnect(client.id);
}

/// When the next subscription update is due (far future when nothing is
/// pending).
fn next_wake(client: &ClientHandle, next_due: &HashMap<String, Instant>) -> Instant {
    let inner = client.inner.lock().unwrap_or_else(|e| e.into_inner());
    let far = Instant::now() + Duration::from_secs(3600);
    inner
        .subs
        .iter()
        .filter(|s| s.needs_snapshot || !s.pending.is_empty())
        .map(|s| next_due.get(&s.id).copied().unwrap_or_else(Instant::now))
        .min()
        .unwrap_or(far)
}

/// Handle one client frame; `Ok(Some(text))` is an immediate reply.
fn handle(
    text: &str,
    hub: &Hub,
    client: &ClientHandle,
    api: &Arc<dyn PictureApi>,
    who: &Principal,
    limits: &protocol::Limits,
) -> Result<Option<String>, (ProtocolError, Option<String>)> {
    match protocol::parse(text, limits).map_err(|e| (e, None))? {
        ClientMessage::Subscribe(s) => {
            let id = s.id.clone();
            hub.subscribe(client, s).map_err(|_| {
                (
                    ProtocolError::new(
                        "too_many_subscriptions",
                        format!(
                            "at most {} subscriptions per connection",
                            limits.max_subscriptions
                        ),
                    ),
                    Some(id),
                )
            })?;
            Ok(None)
        }
        ClientMessage::Unsubscribe { id } => {
            if hub.unsubscribe(client, &id) {
                Ok(Some(
                    serde_json::json!({"type": "unsubscribed", "sub": id}).to_string(),
                ))
            } else {
                Err((
                    ProtocolError::new("unknown_subscription", format!("no subscription {id:?}")),
                    Some(id),
                ))
            }
        }
        ClientMessage::Acknowledge { alert_id, note } => {
            if who.role < Role::Operator {
                return Err((
                    ProtocolError::new("forbidden", "acknowledging alerts needs the operator role"),
                    None,
                ));
            }
            match api.acknowledge(&alert_id, &who.name, note.as_deref()) {
                Ok(alert) => {
                    // Every client with an alerts channel sees the new state.
                    hub.publish_alert(alert.to_string().into());
                    Ok(Some(
                        serde_json::json!({"type": "acked", "alert": alert}).to_string(),
                    ))
                }
                Err(e) => Err((ProtocolError::new("bad_request", e), None)),
            }
        }
    }
}

/// Take everything due from the hub and render it as protocol messages.
fn collect(
    client: &ClientHandle,
    api: &Arc<dyn PictureApi>,
    next_due: &mut HashMap<String, Instant>,
    seq: &mut u64,
) -> Vec<String> {
    let now = Instant::now();
    let mut out = Vec::new();
    let mut snapshots = Vec::new();
    let mut updates = Vec::new();
    let (alerts, zones, sources) = {
        let mut inner = client.inner.lock().unwrap_or_else(|e| e.into_inner());
        for s in inner.subs.iter_mut() {
            let due = next_due.get(&s.id).is_none_or(|d| *d <= now);
            if !s.channels.vessels {
                continue;
            }
            if s.needs_snapshot {
                // Reset first (see the module doc), query after the lock.
                s.needs_snapshot = false;
                s.pending.clear();
                s.known.clear();
                snapshots.push((s.id.clone(), s.bboxes.clone(), s.filter.clone()));
                next_due.insert(s.id.clone(), now + s.interval);
            } else if due && !s.pending.is_empty() {
                updates.push((s.id.clone(), std::mem::take(&mut s.pending)));
                next_due.insert(s.id.clone(), now + s.interval);
            }
        }
        next_due.retain(|id, _| inner.subs.iter().any(|s| &s.id == id));
        let alerts: Vec<_> = inner.alerts.drain(..).collect();
        let zones = std::mem::take(&mut inner.zones_changed);
        (alerts, zones, inner.sources.take())
    };
    for (id, bboxes, filter) in snapshots {
        let vessels = api.vessels_in(&bboxes, &filter);
        {
            let mut inner = client.inner.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(s) = inner.subs.iter_mut().find(|s| s.id == id) {
                s.known.extend(vessels.iter().map(|w| w.view.mmsi));
            }
        }
        *seq += 1;
        let mut text = String::with_capacity(64 + vessels.len() * 256);
        text.push_str("{\"type\":\"snapshot\",\"sub\":");
        text.push_str(&serde_json::to_string(&id).unwrap_or_default());
        text.push_str(&format!(",\"seq\":{seq},\"vessels\":["));
        for (i, w) in vessels.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str(&w.json);
        }
        text.push_str("]}");
        out.push(text);
    }
    for (id, pending) in updates {
        *seq += 1;
        let mut text = String::with_capacity(64 + pending.len() * 256);
        text.push_str("{\"type\":\"update\",\"sub\":");
        text.push_str(&serde_json::to_string(&id).unwrap_or_default());
        text.push_str(&format!(",\"seq\":{seq},\"vessels\":["));
        let mut first = true;
        let mut removed = Vec::new();
        for (mmsi, p) in &pending {
            match p {
                Pending::Upsert(w) => {
                    if !first {
                        text.push(',');
                    }
                    first = false;
                    text.push_str(&w.json);
                }
                Pending::Remove => removed.push(*mmsi),
            }
        }
        text.push_str("],\"removed\":");
        text.push_str(&serde_json::to_string(&removed).unwrap_or_default());
        text.push('}');
        out.push(text);
    }
    for a in alerts {
        *seq += 1;
        out.push(format!(
            "{{\"type\":\"alert\",\"seq\":{seq},\"alert\":{a}}}"
        ));
    }
    if zones {
        *seq += 1;
        out.push(format!(
            "{{\"type\":\"zones\",\"seq\":{seq},\"zones\":{}}}",
            api.zones()
        ));
    }
    if let Some(s) = sources {
        *seq += 1;
        out.push(format!(
            "{{\"type\":\"sources\",\"seq\":{seq},\"sources\":{s}}}"
        ));
    }
    out.extend(crate::sar_channel::render(client, api, seq));
    out
}
