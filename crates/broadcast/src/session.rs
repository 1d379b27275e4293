//! One WebSocket connection: reads the client's messages, writes its
//! snapshots, updates and alerts at the pace it asked for.
//!
//! The session task owns the socket. It produces one message at a time
//! ([`Outbox::next_message`]) and writes it; while a write is in progress it
//! keeps reading the client's frames, so a subscribe or an ack is handled
//! even while a large snapshot goes out. Messages come, in order of
//! priority, from: replies to the client (and pings), alerts, zones,
//! sources, contacts/incidents, then the vessel subscriptions in turn —
//! a snapshot part, or the subscription's coalesced changes once its next
//! update is due (at most `max_rate_hz` per second).
//!
//! Snapshots and updates are cut into parts of about
//! [`Limits::max_message_bytes`](crate::protocol::Limits): a snapshot is
//! walked from the hub's published picture part by part
//! ([`Hub::snapshot_step`]), so a 100,000-vessel snapshot never exists in
//! memory as one text, and a client that stops reading holds one part in
//! flight. Only the first part of a snapshot has type `snapshot`; the others
//! are `update`s numbered by `"part"` (1, 2, …), and every part but the last
//! (of a snapshot or of a large update) carries `"more":true`. A large
//! update's parts all carry `"part"` (0, 1, …). Every vessel message
//! carries `"gen"`, the generation of its subscription (new with each
//! `subscribe`), and every JSON message the connection's `"seq"` (pings
//! are WebSocket control frames, not messages).
//!
//! A write that does not complete within the stall timeout means the client
//! has stopped reading: it is disconnected with close code 1013 and the
//! reason [`STALLED_REASON`], and its hub state (all bounded) is dropped.
//! Pings go out every 20 s when the connection is otherwise idle; a client
//! that has not answered for 60 s is closed.

use crate::api::PictureApi;
use crate::auth::{Principal, Role};
use crate::hub::{ClientHandle, Hub, Pending, PendingMap};
use crate::protocol::{self, ClientMessage, ProtocolError};
use crate::view::VesselWire;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep_until, timeout, Instant};

const PING_EVERY: Duration = Duration::from_secs(20);
const PONG_TIMEOUT: Duration = Duration::from_secs(60);

/// Replies queued for the client at most; beyond, the session stops reading
/// its frames until they are written (a client that sends but never reads
/// cannot grow them).
const MAX_REPLIES: usize = 256;

/// How long a close frame may take to go out.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// Read buffer of a connection: client frames are small (it grows for a
/// larger one, up to the frame limit).
pub const READ_BUFFER_BYTES: usize = 4096;

/// The close reason of a client disconnected for not reading.
pub const STALLED_REASON: &str = "client too slow: stopped reading";

/// Close codes used by the server.
pub mod close {
    /// Going away: the server is shutting down.
    pub const GOING_AWAY: u16 = 1001;
    /// Protocol error: a frame the WebSocket protocol does not allow.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// Invalid data: a text frame that is not UTF-8.
    pub const INVALID_DATA: u16 = 1007;
    /// Message too big: a frame over 16 times `max_frame_bytes`.
    pub const TOO_BIG: u16 = 1009;
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

/// How the session goes on after a client frame.
enum Flow {
    Continue,
    /// The connection is gone.
    End,
    /// The client broke the WebSocket protocol: close with this code.
    Close(u16, &'static str),
}

/// The close code and reason for a WebSocket read error, or `None` when
/// the connection is simply gone (reset, closed).
fn protocol_close(e: axum::Error) -> Option<(u16, &'static str)> {
    let inner = e.into_inner();
    match inner.downcast_ref::<tungstenite::Error>()? {
        tungstenite::Error::Capacity(_) => Some((close::TOO_BIG, "frame too large")),
        tungstenite::Error::Utf8(_) => Some((close::INVALID_DATA, "text frame is not UTF-8")),
        tungstenite::Error::Protocol(_) => {
            Some((close::PROTOCOL_ERROR, "WebSocket protocol error"))
        }
        _ => None,
    }
}

/// The rest of an update being sent in parts.
struct UpdateParts {
    generation: u64,
    /// The number of the next part.
    part: u32,
    id: String,
    upserts: Vec<Arc<VesselWire>>,
    removed: Vec<u32>,
}

/// What the session sends next.
struct Outbox {
    seq: u64,
    max_bytes: usize,
    replies: VecDeque<Message>,
    update: Option<UpdateParts>,
    /// The vessel subscription to look at first next time (round robin).
    next_sub: usize,
    /// Close with this once the replies are out.
    closing: Option<(u16, &'static str)>,
}

impl Outbox {
    fn text(&mut self, body: impl FnOnce(u64) -> String) -> Message {
        self.seq += 1;
        Message::Text(body(self.seq).into())
    }

    /// Queue a reply (a JSON object), numbered with the next `seq`.
    fn reply(&mut self, text: String) {
        let m = self.text(|seq| with_seq(&text, seq));
        self.replies.push_back(m);
    }

    /// The next message to write, if any is ready.
    fn next_message(
        &mut self,
        hub: &Hub,
        client: &ClientHandle,
        api: &Arc<dyn PictureApi>,
    ) -> Option<Message> {
        if let Some(m) = self.replies.pop_front() {
            return Some(m);
        }
        if self.closing.is_some() {
            return None;
        }
        let (alert, zones, sources) = {
            let mut inner = client.lock();
            match inner.alerts.pop_front() {
                Some(a) => (Some(a), false, None),
                None => (
                    None,
                    std::mem::take(&mut inner.zones_changed),
                    inner.sources.take(),
                ),
            }
        };
        if let Some(a) = alert {
            return Some(
                self.text(|seq| format!("{{\"type\":\"alert\",\"seq\":{seq},\"alert\":{a}}}")),
            );
        }
        if let Some(s) = sources {
            let m =
                self.text(|seq| format!("{{\"type\":\"sources\",\"seq\":{seq},\"sources\":{s}}}"));
            self.replies.push_back(m);
        }
        if zones {
            let z = api.zones();
            let m = self.text(|seq| format!("{{\"type\":\"zones\",\"seq\":{seq},\"zones\":{z}}}"));
            self.replies.push_back(m);
        }
        let mut seq = self.seq;
        for text in
            crate::sar_channel::render(client, api, hub.sar.bounds(), self.max_bytes, &mut seq)
        {
            self.replies.push_back(Message::Text(text.into()));
        }
        self.seq = seq;
        if let Some(m) = self.replies.pop_front() {
            return Some(m);
        }
        if let Some(m) = self.update_part(client) {
            return Some(m);
        }
        self.vessels(hub, client)
    }

    /// A snapshot part or an update from the next vessel subscription that
    /// has one ready.
    fn vessels(&mut self, hub: &Hub, client: &ClientHandle) -> Option<Message> {
        enum Ready {
            Snapshot,
            Update(PendingMap),
        }
        let now = Instant::now();
        let ready = hub.picture_ready();
        let n = client.lock().subs.len();
        for k in 0..n {
            let i = (self.next_sub + k) % n;
            let (generation, id, what) = {
                let mut inner = client.lock();
                let Some(s) = inner.subs.get_mut(i) else {
                    break;
                };
                if !s.channels.vessels {
                    continue;
                }
                let what = if s.walk.is_some() || (s.needs_snapshot && ready) {
                    Ready::Snapshot
                } else if !s.pending.is_empty() && s.due <= now {
                    s.due = now + s.interval;
                    s.pending_bytes = 0;
                    // The next period will likely see as many: no regrowing.
                    let next =
                        PendingMap::with_capacity_and_hasher(s.pending.len(), Default::default());
                    Ready::Update(std::mem::replace(&mut s.pending, next))
                } else {
                    continue;
                };
                (s.generation, s.id.clone(), what)
            };
            self.next_sub = i + 1;
            match what {
                Ready::Snapshot => {
                    if let Some(m) = self.snapshot_part(hub, client, i, generation, &id) {
                        return Some(m);
                    }
                }
                Ready::Update(pending) => {
                    let mut upserts = Vec::with_capacity(pending.len());
                    let mut removed = Vec::new();
                    for (mmsi, p) in pending {
                        match p {
                            Pending::Upsert(w) => upserts.push(w),
                            Pending::Remove => removed.push(mmsi),
                        }
                    }
                    self.update = Some(UpdateParts {
                        generation,
                        part: 0,
                        id,
                        upserts,
                        removed,
                    });
                    if let Some(m) = self.update_part(client) {
                        return Some(m);
                    }
                }
            }
        }
        None
    }

    /// The next part of the update being sent (dropped if its subscription
    /// was replaced or removed meanwhile).
    fn update_part(&mut self, client: &ClientHandle) -> Option<Message> {
        let mut parts = self.update.take()?;
        if !client
            .lock()
            .subs
            .iter()
            .any(|s| s.generation == parts.generation)
        {
            return None;
        }
        let mut take = 0;
        let mut bytes = 0;
        while take < parts.upserts.len() && (take == 0 || bytes < self.max_bytes) {
            bytes += parts.upserts[take].json.len() + 1;
            take += 1;
        }
        let vessels: Vec<_> = parts.upserts.drain(..take).collect();
        let last = parts.upserts.is_empty();
        let removed = if last {
            std::mem::take(&mut parts.removed)
        } else {
            Vec::new()
        };
        let id = parts.id.clone();
        let generation = parts.generation;
        // Numbered only when cut: a whole update has no `part`.
        let part = (parts.part > 0 || !last).then_some(parts.part);
        parts.part += 1;
        if !last {
            self.update = Some(parts);
        }
        Some(self.text(|seq| {
            vessels_message(
                "update",
                &id,
                generation,
                seq,
                &vessels,
                Some(&removed),
                part,
                !last,
            )
        }))
    }

    /// The next part of subscription `i`'s snapshot (None when the
    /// subscription went away).
    fn snapshot_part(
        &mut self,
        hub: &Hub,
        client: &ClientHandle,
        i: usize,
        generation: u64,
        id: &str,
    ) -> Option<Message> {
        let mut vessels = Vec::new();
        let mut bytes = 0;
        let mut part = None;
        let done = loop {
            let step = hub.snapshot_step(
                client,
                i,
                generation,
                &mut vessels,
                &mut bytes,
                self.max_bytes,
            );
            if step.gone {
                return None;
            }
            if step.restarted {
                part = Some(0);
            }
            part.get_or_insert(step.part);
            if step.done || bytes >= self.max_bytes {
                hub.snapshot_part_sent(client, i, generation);
                break step.done;
            }
        };
        if done {
            hub.stats.snapshots_sent.fetch_add(1, Ordering::Relaxed);
        }
        let (kind, removed, part) = match part.unwrap_or(0) {
            0 => ("snapshot", None, None),
            n => ("update", Some(&[][..]), Some(n)),
        };
        Some(
            self.text(|seq| {
                vessels_message(kind, id, generation, seq, &vessels, removed, part, !done)
            }),
        )
    }

    /// When the next vessel message is due (far future when nothing is
    /// waiting).
    fn next_wake(&self, hub: &Hub, client: &ClientHandle) -> Instant {
        let now = Instant::now();
        let far = now + Duration::from_secs(3600);
        let ready = hub.picture_ready();
        let inner = client.lock();
        inner
            .subs
            .iter()
            .filter(|s| s.channels.vessels)
            .filter_map(|s| {
                if s.walk.is_some() || (s.needs_snapshot && ready) {
                    Some(now)
                } else if !s.pending.is_empty() {
                    Some(s.due)
                } else {
                    None
                }
            })
            .min()
            .unwrap_or(far)
    }
}

/// A reply object with `"seq":N` added at its end.
fn with_seq(json: &str, seq: u64) -> String {
    match json.trim_end().strip_suffix('}') {
        Some(head) if head.trim_end() != "{" => format!("{head},\"seq\":{seq}}}"),
        Some(_) => format!("{{\"seq\":{seq}}}"),
        None => json.to_string(),
    }
}

/// `{"type":KIND,"sub":ID,"gen":G,"seq":N,"vessels":[…]` (+
/// `"removed":[…]`) (+ `"part":N` for the rest of a snapshot or the parts
/// of a cut update) (+ `"more":true`) `}`, splicing each vessel's
/// pre-serialised JSON.
#[allow(clippy::too_many_arguments)]
fn vessels_message(
    kind: &str,
    id: &str,
    generation: u64,
    seq: u64,
    vessels: &[Arc<VesselWire>],
    removed: Option<&[u32]>,
    part: Option<u32>,
    more: bool,
) -> String {
    let len: usize = vessels.iter().map(|w| w.json.len() + 1).sum();
    let mut text = String::with_capacity(96 + id.len() + len + removed.map_or(0, |r| r.len() * 11));
    text.push_str("{\"type\":\"");
    text.push_str(kind);
    text.push_str("\",\"sub\":");
    text.push_str(&serde_json::to_string(id).unwrap_or_default());
    text.push_str(",\"gen\":");
    text.push_str(&generation.to_string());
    text.push_str(",\"seq\":");
    text.push_str(&seq.to_string());
    text.push_str(",\"vessels\":[");
    for (i, w) in vessels.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&w.json);
    }
    text.push(']');
    if let Some(r) = removed {
        text.push_str(",\"removed\":[");
        for (i, m) in r.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str(&m.to_string());
        }
        text.push(']');
    }
    if let Some(n) = part {
        text.push_str(",\"part\":");
        text.push_str(&n.to_string());
    }
    if more {
        text.push_str(",\"more\":true");
    }
    text.push('}');
    text
}

/// The reading side's state.
struct Reader {
    errors: Vec<Instant>,
    last_pong: Instant,
    /// Times of the subscribes accepted in the last `snapshot_window`.
    subscribes: VecDeque<Instant>,
}

impl Reader {
    /// Handle one frame (or the end of the stream).
    #[allow(clippy::too_many_arguments)]
    fn frame(
        &mut self,
        msg: Option<Result<Message, axum::Error>>,
        hub: &Hub,
        client: &ClientHandle,
        api: &Arc<dyn PictureApi>,
        who: &Principal,
        limits: &protocol::Limits,
        out: &mut Outbox,
    ) -> Flow {
        let refused = match msg {
            None | Some(Ok(Message::Close(_))) => return Flow::End,
            Some(Err(e)) => {
                return match protocol_close(e) {
                    Some((code, reason)) => {
                        hub.stats.protocol_closes.fetch_add(1, Ordering::Relaxed);
                        hub.stats.client_errors.fetch_add(1, Ordering::Relaxed);
                        Flow::Close(code, reason)
                    }
                    None => Flow::End,
                }
            }
            Some(Ok(Message::Text(t))) => {
                match handle(&t, hub, client, api, who, limits, &mut self.subscribes) {
                    Ok(Some(reply)) => {
                        out.reply(reply);
                        None
                    }
                    Ok(None) => None,
                    Err(e) => Some(e),
                }
            }
            Some(Ok(Message::Binary(_))) => Some((
                ProtocolError::new(
                    "bad_request",
                    "binary frames are not part of the protocol; send JSON text",
                ),
                None,
            )),
            Some(Ok(Message::Pong(_))) => {
                self.last_pong = Instant::now();
                None
            }
            Some(Ok(Message::Ping(_))) => None,
        };
        if let Some((e, sub)) = refused {
            hub.stats.client_errors.fetch_add(1, Ordering::Relaxed);
            if e.code == "rate_limited" {
                hub.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
            }
            out.reply(e.to_json(sub.as_deref()));
            let now = Instant::now();
            self.errors
                .retain(|t| now.duration_since(*t) < Duration::from_secs(60));
            self.errors.push(now);
            if self.errors.len() as u32 > limits.max_errors_per_minute {
                out.closing = Some((close::POLICY, "too many bad messages"));
            }
        }
        Flow::Continue
    }
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
    let mut reader = Reader {
        errors: Vec::new(),
        last_pong: Instant::now(),
        subscribes: VecDeque::new(),
    };
    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    let mut out = Outbox {
        seq: 0,
        max_bytes: limits.max_message_bytes.max(1),
        replies: VecDeque::new(),
        update: None,
        next_sub: 0,
        closing: None,
    };
    out.reply(
        serde_json::json!({
            "type": "hello",
            "protocol": 1,
            "server": concat!("lookout ", env!("CARGO_PKG_VERSION")),
            "user": who.name,
            "role": who.role.as_str(),
        })
        .to_string(),
    );

    let close_with: Option<(u16, &str)> = 'session: loop {
        if let Some(msg) = out.next_message(&hub, &client, &api) {
            let len = match &msg {
                Message::Text(t) => t.len(),
                _ => 0,
            };
            client.in_flight.store(len, Ordering::Relaxed);
            let sent = {
                let send = timeout(limits.stall_timeout, tx.send(msg));
                tokio::pin!(send);
                loop {
                    tokio::select! {
                        biased;
                        _ = shutdown.changed() => break 'session Some((close::GOING_AWAY, "server shutting down")),
                        r = &mut send => break r,
                        m = rx.next(), if out.replies.len() < MAX_REPLIES => {
                            match reader.frame(m, &hub, &client, &api, &who, &limits, &mut out) {
                                Flow::Continue => {}
                                Flow::End => break 'session None,
                                Flow::Close(code, reason) => break 'session Some((code, reason)),
                            }
                        }
                    }
                }
            };
            client.in_flight.store(0, Ordering::Relaxed);
            match sent {
                Ok(Ok(())) => {
                    hub.stats.messages_sent.fetch_add(1, Ordering::Relaxed);
                    hub.stats
                        .bytes_sent
                        .fetch_add(len as u64, Ordering::Relaxed);
                }
                Ok(Err(_)) => break None,
                Err(_) => {
                    hub.stats
                        .stalled_disconnects
                        .fetch_add(1, Ordering::Relaxed);
                    tracing::info!(
                        client = client.id,
                        "disconnecting a client that stopped reading"
                    );
                    break Some((close::TRY_AGAIN_LATER, STALLED_REASON));
                }
            }
            continue;
        }
        if let Some(c) = out.closing {
            break Some(c);
        }
        let wake = out.next_wake(&hub, &client);
        tokio::select! {
            biased;
            _ = shutdown.changed() => break Some((close::GOING_AWAY, "server shutting down")),
            m = rx.next() => {
                match reader.frame(m, &hub, &client, &api, &who, &limits, &mut out) {
                    Flow::Continue => {}
                    Flow::End => break None,
                    Flow::Close(code, reason) => break Some((code, reason)),
                }
            }
            _ = client.notify.notified() => {}
            _ = sleep_until(wake) => {}
            _ = ping.tick() => {
                if reader.last_pong.elapsed() > PONG_TIMEOUT {
                    break Some((close::POLICY, "no pong"));
                }
                out.replies.push_back(Message::Ping(Vec::new().into()));
            }
        }
    };
    if close_with.is_some_and(|(code, _)| code == close::TRY_AGAIN_LATER) {
        // Stalled: let go of everything queued for it now; the close frame
        // waits behind the data the socket did not take, for a client that
        // wakes up within the grace period.
        hub.disconnect(client.id);
        *client.lock() = Default::default();
    }
    if let Some((code, reason)) = close_with {
        let _ = timeout(CLOSE_GRACE, tx.send(close_frame(code, reason))).await;
    }
    hub.disconnect(client.id);
}

/// Handle one client frame; `Ok(Some(text))` is an immediate reply.
/// `subscribes` holds the times of the subscribes accepted lately (each
/// costs a snapshot): at most `max_snapshots_per_window` per
/// `snapshot_window`, beyond that a subscribe is refused `rate_limited`.
fn handle(
    text: &str,
    hub: &Hub,
    client: &ClientHandle,
    api: &Arc<dyn PictureApi>,
    who: &Principal,
    limits: &protocol::Limits,
    subscribes: &mut VecDeque<Instant>,
) -> Result<Option<String>, (ProtocolError, Option<String>)> {
    match protocol::parse(text, limits).map_err(|e| (e, protocol::request_id(text)))? {
        ClientMessage::Subscribe(s) => {
            let id = s.id.clone();
            let now = Instant::now();
            while subscribes
                .front()
                .is_some_and(|t| now.duration_since(*t) >= limits.snapshot_window)
            {
                subscribes.pop_front();
            }
            if subscribes.len() >= limits.max_snapshots_per_window as usize {
                let wait = subscribes.front().map_or(Duration::ZERO, |t| {
                    limits
                        .snapshot_window
                        .saturating_sub(now.duration_since(*t))
                });
                let mut e = ProtocolError::new(
                    "rate_limited",
                    format!(
                        "at most {} subscribes (each one a snapshot) per {} s on one connection; try again in {} ms",
                        limits.max_snapshots_per_window,
                        limits.snapshot_window.as_secs_f64(),
                        wait.as_millis()
                    ),
                );
                e.retry_after_ms = Some(wait.as_millis().min(u64::MAX as u128) as u64 + 1);
                return Err((e, Some(id)));
            }
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
            subscribes.push_back(now);
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
                Err(e) => {
                    let code = if e.status == 404 {
                        "not_found"
                    } else {
                        "bad_request"
                    };
                    Err((ProtocolError::new(code, e.message), None))
                }
            }
        }
    }
}
