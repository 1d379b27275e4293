//! Message bodies on the bus: JSON (serde_json), one struct per subject.
//!
//! Vessels and alerts inside picture messages are exactly the objects the
//! WebSocket protocol v1 sends (`docs/protocol.md`): the core serialises a
//! vessel view once and the same text goes to its own clients and onto the
//! bus. The payload types are generic over the vessel type so the core can
//! publish pre-serialised JSON ([`serde_json::value::RawValue`]) and edges
//! can read typed views.

use serde::{Deserialize, Serialize};

/// Raw lines from one source of one ingest node, published to
/// `lookout.raw.<source>` on the JetStream stream `LOOKOUT_RAW`.
///
/// Each line is the text as received, TAG block included (`\s:…,c:…*hh\`),
/// so the stream replays any period like the archive does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawBatch {
    /// The ingest node that received the lines (`[bus] node`).
    pub node: String,
    /// The source's name on that node (from the config, or the TAG `s:`
    /// station of a replayed recording).
    pub source: String,
    /// The own asset whose position this source's `$` sentences give.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_asset: Option<String>,
    /// True for live feeds (the core's clock then also follows wall time);
    /// false for replays, whose picture runs on message time only.
    pub live: bool,
    pub lines: Vec<RawLine>,
}

/// One received line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawLine {
    /// Receive time, milliseconds since the UNIX epoch.
    pub received_ms: i64,
    /// The line without CR/LF, TAG block included.
    pub line: String,
}

/// What changed in a core's picture, published to `lookout.picture.changes`
/// after each applied batch. `seq` grows by one per batch within one run of
/// a core (`core`); a message with no changes and the current `seq` is a
/// heartbeat (once a second), so a mirror notices gaps and silent cores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "V: Deserialize<'de>"))]
pub struct PictureBatch<V> {
    /// Id of this run of the core (changes when it restarts).
    pub core: String,
    pub seq: u64,
    /// The core's picture clock (message time), ms.
    pub time_ms: Option<i64>,
    /// Highest `LOOKOUT_RAW` stream sequence applied so far (how far
    /// behind the raw stream this picture is; the bus benchmark's clock).
    #[serde(default)]
    pub through: u64,
    /// Vessels new or changed: full views (protocol v1 vessel objects).
    #[serde(default)]
    pub upserts: Vec<V>,
    /// MMSIs that left the picture.
    #[serde(default)]
    pub removed: Vec<u32>,
    /// Alert changes (protocol v1 alert objects), in order.
    #[serde(default)]
    pub alerts: Vec<serde_json::Value>,
}

/// One part of a snapshot, sent to the requester's inbox. Parts are sent in
/// order; the one with `last` ends it. The picture is as of `seq`: a mirror
/// applies only batches with a higher `seq` on top.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "V: Deserialize<'de>"))]
pub struct SnapshotPart<V> {
    pub core: String,
    pub seq: u64,
    pub part: u32,
    pub last: bool,
    pub time_ms: Option<i64>,
    #[serde(default)]
    pub vessels: Vec<V>,
    /// Every alert the core's book holds (only in the last part).
    #[serde(default)]
    pub alerts: Vec<serde_json::Value>,
}

/// One alert change on `lookout.alerts.<kind>`, published once per cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    pub core: String,
    pub alert: serde_json::Value,
}

/// An acknowledgement an edge forwards to the core (`lookout.ack`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AckRequest {
    pub id: String,
    pub who: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// The core's answer: the updated alert, or why not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AckReply {
    Ok(serde_json::Value),
    Error(String),
}

/// A contact, incident or zone write an edge forwards to the core
/// (`lookout.sar.write`). The edge has checked the operator's token; `who`
/// is the name recorded in the incident log. `request` is unique per
/// write: the core answers a repeated request with its first answer
/// instead of applying it twice (an edge retrying after a timeout).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SarWrite {
    pub request: String,
    pub who: String,
    #[serde(flatten)]
    pub op: SarOp,
}

/// The write itself: the same bodies as the HTTP API's (`docs/protocol.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum SarOp {
    CreateContact {
        body: serde_json::Value,
    },
    UpdateContact {
        id: String,
        body: serde_json::Value,
    },
    AddSighting {
        id: String,
        body: serde_json::Value,
    },
    CreateIncident {
        body: serde_json::Value,
    },
    IncidentAction {
        id: String,
        body: serde_json::Value,
    },
    PutZone {
        id: String,
        feature: serde_json::Value,
    },
    DeleteZone {
        id: String,
    },
}

/// The core's answer to a [`SarWrite`], sent after the write is in its
/// state database: the contact or incident object, the zone id, or the
/// HTTP status and sentence the single process would have answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SarWriteReply {
    Ok(serde_json::Value),
    Error { status: u16, message: String },
}

/// One change on `lookout.sar.changes`. `seq` grows by one per change
/// within one run of the core (`core`), so an edge sees a gap and takes a
/// fresh [`SarSnapshot`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SarChange {
    pub core: String,
    pub seq: u64,
    #[serde(flatten)]
    pub item: SarItem,
}

/// What changed: a contact or incident (its full object, with `version`),
/// or a zone (its GeoJSON Feature; `null` when deleted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SarItem {
    Contact {
        value: serde_json::Value,
    },
    Incident {
        value: serde_json::Value,
    },
    Zone {
        id: String,
        feature: Option<serde_json::Value>,
    },
}

/// One part of the core's contacts, incidents and zones as of change `seq`
/// of run `core` (answers on `lookout.sar.snapshot`, sent in order to the
/// requester's inbox, each under [`SAR_SNAPSHOT_PART_BYTES`] unless a single
/// object is larger; the one with `last` ends it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SarSnapshot {
    pub core: String,
    pub seq: u64,
    #[serde(default)]
    pub part: u32,
    #[serde(default = "yes")]
    pub last: bool,
    pub contacts: Vec<serde_json::Value>,
    pub incidents: Vec<serde_json::Value>,
    /// The zones created over the API (GeoJSON Features); zone files are
    /// each node's own configuration.
    pub zones: Vec<serde_json::Value>,
}

fn yes() -> bool {
    true
}

/// Target size of one [`SarSnapshot`] part (NATS's default max payload is 1 MiB).
pub const SAR_SNAPSHOT_PART_BYTES: usize = 256 * 1024;

/// What an organisation shares with partners (`share.<org>.picture`):
/// vessels (already filtered by its export rules) and removals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "V: Deserialize<'de>"))]
pub struct SharedBatch<V> {
    /// The sending organisation.
    pub origin: String,
    #[serde(default)]
    pub vessels: Vec<V>,
    #[serde(default)]
    pub removed: Vec<u32>,
    #[serde(default)]
    pub alerts: Vec<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::value::RawValue;

    #[test]
    fn raw_batches_round_trip() {
        let b = RawBatch {
            node: "ingest-a".into(),
            source: "lampedusa".into(),
            own_asset: None,
            live: true,
            lines: vec![RawLine {
                received_ms: 1_700_000_000_123,
                line:
                    r"\s:lampedusa,c:1700000000*5C\!AIVDM,1,1,,A,13u?etPv2;0n:dDPwUM1U1Cb069D,0*24"
                        .into(),
            }],
        };
        let text = serde_json::to_string(&b).unwrap();
        assert!(!text.contains("own_asset"));
        assert_eq!(serde_json::from_str::<RawBatch>(&text).unwrap(), b);
    }

    #[test]
    fn sar_messages_round_trip() {
        let w = SarWrite {
            request: "edge1-1-7".into(),
            who: "duty officer".into(),
            op: SarOp::UpdateContact {
                id: "c-000001".into(),
                body: serde_json::json!({"lat": 35.0, "lon": 12.0}),
            },
        };
        let text = serde_json::to_string(&w).unwrap();
        assert!(text.contains(r#""op":"update_contact""#), "{text}");
        assert_eq!(serde_json::from_str::<SarWrite>(&text).unwrap(), w);
        let c = SarChange {
            core: "core-1".into(),
            seq: 3,
            item: SarItem::Zone {
                id: "z".into(),
                feature: None,
            },
        };
        let text = serde_json::to_string(&c).unwrap();
        assert!(text.contains(r#""kind":"zone""#), "{text}");
        assert_eq!(serde_json::from_str::<SarChange>(&text).unwrap(), c);
        let e = SarWriteReply::Error {
            status: 404,
            message: "no contact".into(),
        };
        let text = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<SarWriteReply>(&text).unwrap(), e);
    }

    #[test]
    fn pre_serialised_vessels_read_back_typed() {
        let v = RawValue::from_string(r#"{"mmsi":1,"lat":2.0}"#.into()).unwrap();
        let batch = PictureBatch {
            core: "c1".into(),
            seq: 7,
            time_ms: Some(5),
            through: 9,
            upserts: vec![v],
            removed: vec![3],
            alerts: vec![],
        };
        let text = serde_json::to_string(&batch).unwrap();
        let back: PictureBatch<serde_json::Value> = serde_json::from_str(&text).unwrap();
        assert_eq!(back.upserts[0]["mmsi"], 1);
        assert_eq!(back.removed, vec![3]);
        // A heartbeat is a batch without changes.
        let hb: PictureBatch<serde_json::Value> =
            serde_json::from_str(r#"{"core":"c1","seq":7,"time_ms":null}"#).unwrap();
        assert!(hb.upserts.is_empty() && hb.alerts.is_empty());
    }
}
