//! What a sink knows about an alert besides the alert itself: the names an
//! integrator wants to show (vessel name, call sign, ship type, zone name)
//! and which server raised it.
//!
//! The [`alerts::Alert`] carries only ids (MMSI, zone id). The binary looks
//! the rest up in the picture at the moment it publishes the alert
//! ([`crate::SinkSet::publish_with`]) and hands both to the sinks as one
//! [`SinkAlert`]. Whatever is unknown (a vessel that never sent its static
//! data, a zone deleted since) is `None`.

use alerts::Alert;
use serde::{Deserialize, Serialize};
use std::ops::Deref;

/// The version of the webhook body's layout (the `schema` field).
/// 1 (no `schema` field) was the bare alert; 2 adds the fields of
/// [`AlertContext`], `node`, `schema` and `sent_at`.
pub const WEBHOOK_SCHEMA: u32 = 2;

/// Names looked up in the picture when the alert was published.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertContext {
    /// The vessel's name (AIS static data), trimmed.
    pub vessel_name: Option<String>,
    pub callsign: Option<String>,
    /// AIS ship type code (0–99).
    pub ship_type: Option<u8>,
    /// The code as text (ITU-R M.1371), e.g. "Cargo - all ships of this type".
    pub ship_type_text: Option<String>,
    /// The same, for the other vessel of an encounter.
    pub other_vessel_name: Option<String>,
    pub other_callsign: Option<String>,
    pub other_ship_type: Option<u8>,
    /// The zone's name (for zone alerts).
    pub zone_name: Option<String>,
    /// The server (node) that published the alert; the webhook falls back
    /// to its configured `node` when this is `None`.
    pub node: Option<String>,
}

/// An alert with its context, as the sinks receive it. Derefs to the
/// alert, so sinks that need only the alert read it as before.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkAlert {
    pub alert: Alert,
    pub context: AlertContext,
}

impl Deref for SinkAlert {
    type Target = Alert;
    fn deref(&self) -> &Alert {
        &self.alert
    }
}

impl SinkAlert {
    /// The webhook body as stored in the outbox (schema 2, without
    /// `sent_at`, which is added at every attempt): the alert's fields,
    /// then the context's, `node` and `schema`. Empty if it cannot be
    /// encoded.
    pub fn webhook_body(&self, default_node: Option<&str>) -> String {
        let Ok(serde_json::Value::Object(mut m)) = serde_json::to_value(&self.alert) else {
            return String::new();
        };
        let Ok(serde_json::Value::Object(c)) = serde_json::to_value(&self.context) else {
            return String::new();
        };
        for (k, v) in c {
            m.insert(k, v);
        }
        let node = self.context.node.as_deref().or(default_node);
        m.insert("node".into(), serde_json::json!(node));
        m.insert("schema".into(), serde_json::json!(WEBHOOK_SCHEMA));
        serde_json::to_string(&m).unwrap_or_default()
    }
}

/// The body actually sent: the stored body with `sent_at` (wall clock of
/// this attempt, RFC 3339 UTC with milliseconds). A row stored by a version
/// before schema 2 (a bare alert) is brought to schema 2 on the way: the
/// context fields are `null` (not known any more), `node` is
/// `default_node`. A body that is not a JSON object is sent unchanged.
pub fn webhook_body_at(stored: &str, default_node: Option<&str>, sent_at_ms: i64) -> String {
    let Ok(serde_json::Value::Object(mut m)) = serde_json::from_str(stored) else {
        return stored.to_string();
    };
    if !m.contains_key("schema") {
        if let Ok(serde_json::Value::Object(c)) = serde_json::to_value(AlertContext::default()) {
            for (k, v) in c {
                m.entry(k).or_insert(v);
            }
        }
        m.insert("node".into(), serde_json::json!(default_node));
        m.insert("schema".into(), serde_json::json!(WEBHOOK_SCHEMA));
    }
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(sent_at_ms.max(0) as u64);
    m.insert(
        "sent_at".into(),
        serde_json::json!(humantime::format_rfc3339_millis(t).to_string()),
    );
    serde_json::to_string(&m).unwrap_or_else(|_| stored.to_string())
}
