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
