//! WebSocket protocol v1: the messages clients send, their checks, and the
//! error codes the server answers with. (Server-to-client messages are
//! written by [`crate::session`], which splices pre-serialised vessels.)
//! The full description with examples is `docs/protocol.md`.

use crate::view::{BBox, Filter};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Limits on what one client may ask for, and on the HTTP server itself.
///
/// Read from the configuration (serde, every key optional with the default
/// below; times in milliseconds, `*_ms`). `docs/security.md` explains each
/// and what `/metrics` counts when it bites.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Subscriptions per connection.
    pub max_subscriptions: usize,
    /// Boxes per subscription.
    pub max_bboxes: usize,
    /// Highest update rate a subscription may ask for.
    pub max_rate_hz: f64,
    /// Largest client frame, bytes.
    pub max_frame_bytes: usize,
    /// Pending (coalesced) vessel changes per subscription before the
    /// server gives up on deltas and sends a fresh snapshot instead.
    pub max_pending: usize,
    /// Alerts queued per client (oldest dropped beyond, and counted).
    pub max_queued_alerts: usize,
    /// Byte budget of one client's pending vessel changes (their JSON):
    /// beyond it they are dropped and a fresh snapshot is sent instead.
    pub max_queued_bytes: usize,
    /// Snapshots and updates are sent in parts of about this many bytes, so
    /// at most one part per client is being written at a time.
    pub max_message_bytes: usize,
    /// A client whose socket accepts nothing for this long is disconnected.
    #[serde(rename = "stall_timeout_ms", with = "duration_ms")]
    pub stall_timeout: Duration,
    /// Bad messages tolerated per minute before the connection is closed.
    pub max_errors_per_minute: u32,
    /// `subscribe` messages (each one costs a snapshot) one WebSocket
    /// connection may send per [`Limits::snapshot_window`]; beyond, the
    /// subscribe is refused with `rate_limited`.
    pub max_snapshots_per_window: u32,
    /// The window of [`Limits::max_snapshots_per_window`].
    #[serde(rename = "snapshot_window_ms", with = "duration_ms")]
    pub snapshot_window: Duration,
    /// TCP connections open at once (HTTP and WebSocket); beyond, a new
    /// connection is answered 503 and closed.
    pub max_connections: usize,
    /// TCP connections open at once from one IP address.
    pub max_connections_per_address: usize,
    /// HTTP requests being handled at once; more wait for a turn.
    pub max_requests_in_flight: usize,
    /// A request's line and headers must arrive within this after the
    /// connection opens or the previous answer was sent (so it is also
    /// the keep-alive idle timeout); beyond, the connection is closed.
    #[serde(rename = "header_timeout_ms", with = "duration_ms")]
    pub header_timeout: Duration,
    /// A request body must arrive whole within this once the request is
    /// authorised (408 beyond).
    #[serde(rename = "body_timeout_ms", with = "duration_ms")]
    pub body_timeout: Duration,
    /// A request must be answered within this (503 beyond).
    #[serde(rename = "request_timeout_ms", with = "duration_ms")]
    pub request_timeout: Duration,
    /// Largest request body, bytes (413 beyond).
    pub max_body_bytes: usize,
    /// Largest request line plus headers, bytes (at least 8192).
    pub max_header_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_subscriptions: 8,
            max_bboxes: 16,
            max_rate_hz: 20.0,
            max_frame_bytes: 64 * 1024,
            max_pending: 50_000,
            max_queued_alerts: 1_000,
            max_queued_bytes: 8 << 20,
            max_message_bytes: 256 << 10,
            stall_timeout: Duration::from_secs(10),
            max_errors_per_minute: 30,
            max_snapshots_per_window: 30,
            snapshot_window: Duration::from_secs(10),
            max_connections: 1024,
            max_connections_per_address: 64,
            max_requests_in_flight: 256,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(120),
            max_body_bytes: 1 << 20,
            max_header_bytes: 64 << 10,
        }
    }
}

impl Limits {
    /// Refuse settings the server cannot run with (zero connections, a
    /// zero timeout, a header limit below 8 KiB, …), naming the key.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("max_subscriptions", self.max_subscriptions),
            ("max_bboxes", self.max_bboxes),
            ("max_frame_bytes", self.max_frame_bytes),
            ("max_pending", self.max_pending),
            ("max_queued_alerts", self.max_queued_alerts),
            ("max_queued_bytes", self.max_queued_bytes),
            ("max_message_bytes", self.max_message_bytes),
            ("max_errors_per_minute", self.max_errors_per_minute as usize),
            (
                "max_snapshots_per_window",
                self.max_snapshots_per_window as usize,
            ),
            ("max_connections", self.max_connections),
            (
                "max_connections_per_address",
                self.max_connections_per_address,
            ),
            ("max_requests_in_flight", self.max_requests_in_flight),
            ("max_body_bytes", self.max_body_bytes),
        ];
        for (key, v) in positive {
            if v == 0 {
                return Err(format!("limits: {key} must be at least 1"));
            }
        }
        for (key, d) in [
            ("stall_timeout_ms", self.stall_timeout),
            ("snapshot_window_ms", self.snapshot_window),
            ("header_timeout_ms", self.header_timeout),
            ("body_timeout_ms", self.body_timeout),
            ("request_timeout_ms", self.request_timeout),
        ] {
            if d.is_zero() {
                return Err(format!("limits: {key} must be above 0"));
            }
        }
        if !(self.max_rate_hz.is_finite() && self.max_rate_hz > 0.0) {
            return Err("limits: max_rate_hz must be a number above 0".into());
        }
        if self.max_header_bytes < MIN_HEADER_BYTES {
            return Err(format!(
                "limits: max_header_bytes must be at least {MIN_HEADER_BYTES}"
            ));
        }
        if self.max_snapshots_per_window > 100_000 {
            return Err("limits: max_snapshots_per_window is at most 100000".into());
        }
        Ok(())
    }
}

/// The longest interval between a subscription's updates, seconds (a
/// `max_rate_hz` below one per day is served once a day).
pub const MAX_INTERVAL_SECS: f64 = 86_400.0;

/// The smallest request-head buffer the HTTP layer (hyper) accepts.
pub const MIN_HEADER_BYTES: usize = 8192;

/// `Duration` as whole milliseconds in the configuration.
mod duration_ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis().min(u64::MAX as u128) as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

/// Channels a subscription can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Channels {
    pub vessels: bool,
    pub alerts: bool,
    pub zones: bool,
    pub sources: bool,
    /// SAR contacts: a snapshot of all on subscribing, then each change.
    pub contacts: bool,
    /// SAR incidents: a snapshot of all on subscribing, then each change.
    pub incidents: bool,
}

impl Channels {
    /// The default: vessels and alerts.
    pub const DEFAULT: Channels = Channels {
        vessels: true,
        alerts: true,
        zones: false,
        sources: false,
        contacts: false,
        incidents: false,
    };
}

/// A checked `subscribe` request.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscribe {
    pub id: String,
    pub bboxes: Vec<BBox>,
    pub filter: Filter,
    pub interval: Duration,
    pub channels: Channels,
    /// `"alerts":"area"`: alerts only where a box of this subscription
    /// holds their position (default `"all"`: every alert).
    pub alerts_area: bool,
}

/// A checked client message.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientMessage {
    Subscribe(Subscribe),
    Unsubscribe {
        id: String,
    },
    /// Acknowledge an alert (operator role).
    Acknowledge {
        alert_id: String,
        note: Option<String>,
    },
}

/// Why a client message was refused: a stable `code` and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError {
    pub code: &'static str,
    pub message: String,
    /// When the client may try again (`rate_limited`), ms.
    pub retry_after_ms: Option<u64>,
}

impl ProtocolError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        ProtocolError {
            code,
            message: message.into(),
            retry_after_ms: None,
        }
    }

    /// `{"type":"error","code":…,"message":…}` (with the subscription id
    /// when known).
    pub fn to_json(&self, sub: Option<&str>) -> String {
        let mut v =
            serde_json::json!({"type": "error", "code": self.code, "message": self.message});
        if let Some(s) = sub {
            v["sub"] = serde_json::Value::String(s.to_string());
        }
        if let Some(ms) = self.retry_after_ms {
            v["retry_after_ms"] = ms.into();
        }
        v.to_string()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubscribe {
    #[serde(rename = "type")]
    _type: String,
    id: String,
    bbox: Option<[f64; 4]>,
    bboxes: Option<Vec<[f64; 4]>>,
    filter: Option<Filter>,
    max_rate_hz: Option<f64>,
    channels: Option<Vec<String>>,
    alerts: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUnsubscribe {
    #[serde(rename = "type")]
    _type: String,
    id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAck {
    #[serde(rename = "type")]
    _type: String,
    alert_id: String,
    note: Option<String>,
}

/// Parse and check one client text frame.
pub fn parse(text: &str, limits: &Limits) -> Result<ClientMessage, ProtocolError> {
    if text.len() > limits.max_frame_bytes {
        return Err(ProtocolError::new(
            "frame_too_large",
            format!("frames are limited to {} bytes", limits.max_frame_bytes),
        ));
    }
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| ProtocolError::new("bad_json", format!("not valid JSON: {e}")))?;
    let kind = value
        .get("type")
        .and_then(|t| t.as_str())
        .ok_or_else(|| ProtocolError::new("bad_request", "a message needs a string \"type\""))?
        .to_string();
    let bad = |e: serde_json::Error| ProtocolError::new("bad_request", format!("{kind}: {e}"));
    match kind.as_str() {
        "subscribe" => {
            let raw: RawSubscribe = serde_json::from_value(value).map_err(bad)?;
            subscribe(raw, limits).map(ClientMessage::Subscribe)
        }
        "unsubscribe" => {
            let raw: RawUnsubscribe = serde_json::from_value(value).map_err(bad)?;
            check_name("subscription id", &raw.id)?;
            Ok(ClientMessage::Unsubscribe { id: raw.id })
        }
        "ack" => {
            let raw: RawAck = serde_json::from_value(value).map_err(bad)?;
            check_name("alert_id", &raw.alert_id)?;
            if let Some(n) = &raw.note {
                crate::input::check_text("note", n)
                    .map_err(|e| ProtocolError::new("bad_request", e))?;
            }
            Ok(ClientMessage::Acknowledge {
                alert_id: raw.alert_id,
                note: raw.note,
            })
        }
        other => Err(ProtocolError::new(
            "unknown_type",
            format!("unknown message type {other:?} (expected subscribe, unsubscribe or ack)"),
        )),
    }
}

/// The subscription id of a `subscribe` or `unsubscribe` frame that was
/// refused, when it has a usable one (1–64 characters, no control or
/// bidirectional formatting characters), so the error can name it.
pub fn request_id(text: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    if !matches!(
        v.get("type").and_then(|t| t.as_str()),
        Some("subscribe" | "unsubscribe")
    ) {
        return None;
    }
    let id = v.get("id")?.as_str()?;
    (!id.is_empty() && id.len() <= 64 && check_name("subscription id", id).is_ok())
        .then(|| id.to_string())
}

/// An id without control or bidirectional formatting characters.
fn check_name(what: &str, s: &str) -> Result<(), ProtocolError> {
    crate::input::check_name(what, s).map_err(|e| ProtocolError::new("bad_request", e))
}

fn subscribe(raw: RawSubscribe, limits: &Limits) -> Result<Subscribe, ProtocolError> {
    if raw.id.is_empty() || raw.id.len() > 64 {
        return Err(ProtocolError::new(
            "bad_request",
            "subscription id must be 1-64 characters",
        ));
    }
    check_name("subscription id", &raw.id)?;
    let arrays: Vec<[f64; 4]> = match (raw.bbox, raw.bboxes) {
        (Some(b), None) => vec![b],
        (None, Some(bs)) => bs,
        (Some(b), Some(mut bs)) => {
            bs.push(b);
            bs
        }
        (None, None) => vec![[-180.0, -90.0, 180.0, 90.0]],
    };
    if arrays.is_empty() || arrays.len() > limits.max_bboxes {
        return Err(ProtocolError::new(
            "bad_bbox",
            format!("a subscription takes 1 to {} boxes", limits.max_bboxes),
        ));
    }
    let bboxes = arrays
        .into_iter()
        .map(|a| BBox::from_array(a).map_err(|e| ProtocolError::new("bad_bbox", e)))
        .collect::<Result<Vec<_>, _>>()?;
    let rate = raw.max_rate_hz.unwrap_or(1.0);
    if !rate.is_finite() || rate <= 0.0 || rate > limits.max_rate_hz {
        return Err(ProtocolError::new(
            "bad_request",
            format!(
                "max_rate_hz must be above 0 and at most {}",
                limits.max_rate_hz
            ),
        ));
    }
    let channels = match raw.channels {
        None => Channels::DEFAULT,
        Some(list) => {
            let mut c = Channels::default();
            for name in &list {
                match name.as_str() {
                    "vessels" => c.vessels = true,
                    "alerts" => c.alerts = true,
                    "zones" => c.zones = true,
                    "sources" => c.sources = true,
                    "contacts" => c.contacts = true,
                    "incidents" => c.incidents = true,
                    other => {
                        return Err(ProtocolError::new(
                            "bad_request",
                            format!("unknown channel {other:?} (vessels, alerts, zones, sources, contacts, incidents)"),
                        ))
                    }
                }
            }
            c
        }
    };
    let alerts_area = match raw.alerts.as_deref() {
        None | Some("all") => false,
        Some("area") => true,
        Some(other) => {
            return Err(ProtocolError::new(
                "bad_request",
                format!("alerts must be \"all\" or \"area\", not {other:?}"),
            ))
        }
    };
    Ok(Subscribe {
        id: raw.id,
        bboxes,
        filter: raw.filter.unwrap_or_default(),
        // At most a day between updates: a tiny rate (1e-20 Hz) would
        // overflow the Duration, or the Instant it is added to, and panic.
        interval: Duration::from_secs_f64((1.0 / rate).min(MAX_INTERVAL_SECS)),
        channels,
        alerts_area,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<ClientMessage, ProtocolError> {
        parse(s, &Limits::default())
    }

    #[test]
    fn limits_read_from_toml_like_json_with_defaults_and_checks() {
        let l: Limits =
            serde_json::from_str(r#"{"max_connections":10,"header_timeout_ms":2500}"#).unwrap();
        assert_eq!(l.max_connections, 10);
        assert_eq!(l.header_timeout, Duration::from_millis(2500));
        assert_eq!(l.max_body_bytes, Limits::default().max_body_bytes);
        assert!(l.validate().is_ok());
        assert!(serde_json::from_str::<Limits>(r#"{"max_conections":10}"#).is_err());
        for bad in [
            r#"{"max_connections":0}"#,
            r#"{"body_timeout_ms":0}"#,
            r#"{"max_header_bytes":100}"#,
            r#"{"max_snapshots_per_window":0}"#,
        ] {
            let l: Limits = serde_json::from_str(bad).unwrap();
            assert!(l.validate().is_err(), "{bad}");
        }
    }

    #[test]
    fn subscribe_with_defaults() {
        let ClientMessage::Subscribe(s) =
            p(r#"{"type":"subscribe","id":"s1","bbox":[10,30,20,40]}"#).unwrap()
        else {
            panic!()
        };
        assert_eq!(s.interval, Duration::from_secs(1));
        assert_eq!(s.channels, Channels::DEFAULT);
        assert_eq!(s.bboxes.len(), 1);
        assert!(!s.alerts_area);
        let ClientMessage::Subscribe(s) =
            p(r#"{"type":"subscribe","id":"s1","bbox":[10,30,20,40],"alerts":"area"}"#).unwrap()
        else {
            panic!()
        };
        assert!(s.alerts_area);
        assert_eq!(
            p(r#"{"type":"subscribe","id":"s1","alerts":"near"}"#)
                .unwrap_err()
                .code,
            "bad_request"
        );
    }

    #[test]
    fn refused_subscribes_name_their_id_when_usable() {
        let id = |s: &str| request_id(s);
        assert_eq!(
            id(r#"{"type":"subscribe","id":"map","bbox":[0,10,1,5]}"#).as_deref(),
            Some("map")
        );
        assert_eq!(
            id(r#"{"type":"unsubscribe","id":"x"}"#).as_deref(),
            Some("x")
        );
        assert_eq!(id(r#"{"type":"subscribe","id":"a\u202Eb"}"#), None);
        assert_eq!(id(r#"{"type":"subscribe","id":7}"#), None);
        assert_eq!(id(r#"{"type":"ack","id":"x"}"#), None);
        assert_eq!(id("{nope"), None);
    }

    #[test]
    fn errors_have_codes() {
        assert_eq!(p("{nope").unwrap_err().code, "bad_json");
        assert_eq!(p(r#"{"type":"dance"}"#).unwrap_err().code, "unknown_type");
        assert_eq!(
            p(r#"{"type":"subscribe","id":"a","bbox":[0,10,1,5]}"#)
                .unwrap_err()
                .code,
            "bad_bbox"
        );
        assert_eq!(
            p(r#"{"type":"subscribe","id":"a","max_rate_hz":1000}"#)
                .unwrap_err()
                .code,
            "bad_request"
        );
        assert_eq!(
            p(r#"{"type":"subscribe","id":"a","colour":"red"}"#)
                .unwrap_err()
                .code,
            "bad_request"
        );
        assert_eq!(
            p(r#"{"type":"subscribe","id":"a","channels":["tv"]}"#)
                .unwrap_err()
                .code,
            "bad_request"
        );
        assert_eq!(
            p(r#"{"type":"subscribe","id":"a\u202Eb"}"#)
                .unwrap_err()
                .code,
            "bad_request"
        );
        assert_eq!(
            p(r#"{"type":"ack","alert_id":"a-1","note":"x\u0000"}"#)
                .unwrap_err()
                .code,
            "bad_request"
        );
        // A tiny positive rate is served once a day, not a panic.
        let ClientMessage::Subscribe(s) =
            p(r#"{"type":"subscribe","id":"a","max_rate_hz":1e-300}"#).unwrap()
        else {
            panic!()
        };
        assert_eq!(s.interval, Duration::from_secs(86_400));
        let big = format!(r#"{{"type":"subscribe","id":"{}"}}"#, "x".repeat(70_000));
        assert_eq!(p(&big).unwrap_err().code, "frame_too_large");
    }
}
