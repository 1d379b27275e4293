//! Every subject Lookout uses on the bus, in one place.
//!
//! Subject tokens are separated by `.`; `*` and `>` are wildcards and a
//! token must not be empty or contain whitespace, so source names (free
//! text in the config) are reduced to a safe token by [`token`].

/// The JetStream stream that keeps every raw line (replayable like the archive).
pub const RAW_STREAM: &str = "LOOKOUT_RAW";
/// Prefix of raw-line subjects: `lookout.raw.<source>`.
pub const RAW_PREFIX: &str = "lookout.raw";
/// All raw-line subjects.
pub const RAW_ALL: &str = "lookout.raw.>";
/// Picture changes from a core (sequence-numbered [`crate::payload::PictureBatch`]es, and
/// heartbeats).
pub const PICTURE_CHANGES: &str = "lookout.picture.changes";
/// Prefix of alert events: `lookout.alerts.<kind>`.
pub const ALERTS_PREFIX: &str = "lookout.alerts";
/// Snapshot requests to the core (reply: [`crate::payload::SnapshotPart`]s on the inbox).
pub const SNAPSHOT: &str = "lookout.snapshot";
/// Alert acknowledgements forwarded by edges to the core (request/reply).
pub const ACK: &str = "lookout.ack";
/// Contact, incident and zone writes forwarded by edges to the core
/// (request/reply: [`crate::payload::SarWrite`] → [`crate::payload::SarWriteReply`]).
pub const SAR_WRITE: &str = "lookout.sar.write";
/// Every contact, incident and zone change the core made
/// ([`crate::payload::SarChange`], sequence-numbered per core run).
pub const SAR_CHANGES: &str = "lookout.sar.changes";
/// Requests for the core's current contacts, incidents and zones
/// (reply: one [`crate::payload::SarSnapshot`]).
pub const SAR_SNAPSHOT: &str = "lookout.sar.snapshot";
/// Key-value bucket where each alert change is created once (cluster-wide dedupe).
pub const ALERT_BUCKET: &str = "lookout_alert_changes";
/// Key-value bucket of the cores' picture checkpoints (`bus::checkpoint`).
pub const CHECKPOINT_BUCKET: &str = "lookout_checkpoints";
/// Prefix of what an organisation shares with partners: `share.<org>.picture` and
/// `share.<org>.alerts`.
pub const SHARE_PREFIX: &str = "share";

/// A safe subject token from free text: ASCII letters, digits, `-` and `_`
/// are kept, anything else becomes `_`; empty text becomes `_`.
pub fn token(s: &str) -> String {
    let t: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if t.is_empty() {
        "_".into()
    } else {
        t
    }
}

/// `lookout.raw.<source>`.
pub fn raw(source: &str) -> String {
    format!("{RAW_PREFIX}.{}", token(source))
}

/// `lookout.alerts.<kind>`.
pub fn alerts(kind: &str) -> String {
    format!("{ALERTS_PREFIX}.{}", token(kind))
}

/// `share.<org>.picture`.
pub fn share_picture(org: &str) -> String {
    format!("{SHARE_PREFIX}.{}.picture", token(org))
}

/// `share.<org>.alerts`.
pub fn share_alerts(org: &str) -> String {
    format!("{SHARE_PREFIX}.{}.alerts", token(org))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_safe() {
        assert_eq!(raw("national feed.it"), "lookout.raw.national_feed_it");
        assert_eq!(raw("a>*b"), "lookout.raw.a__b");
        assert_eq!(raw(""), "lookout.raw._");
        assert_eq!(alerts("ais_gap"), "lookout.alerts.ais_gap");
        assert_eq!(share_picture("mrcc rome"), "share.mrcc_rome.picture");
    }
}
