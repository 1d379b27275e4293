//! The `contacts` and `incidents` WebSocket channels.
//!
//! Contacts and incidents are few and change at human pace, so they are not
//! filtered by area: a client subscribed to a channel receives a snapshot
//! (`{"type":"contacts",…}` / `{"type":"incidents",…}`), then every change
//! (`{"type":"contact",…}` / `{"type":"incident",…}`), each object carrying
//! a `version` that only grows.
//!
//! History grows for months, so what goes over the channels is bounded
//! ([`ChannelBounds`]); everything stays available over HTTP:
//! - a snapshot holds what is still live (contacts not `closed`, incidents
//!   not `closed`) plus what was closed within the last
//!   [`ChannelBounds::closed_window`] by the **wall clock** (contacts and
//!   incidents are made by operators in real time and their `updated` is a
//!   wall-clock time, unlike the AIS picture whose clock is message time),
//!   newest change first, at most [`ChannelBounds::max_items`] of them
//!   (`"truncated":true` and `"total"` say when more matched); a snapshot
//!   larger than the message budget is cut into parts like vessel snapshots;
//! - a contact carries only its last [`ChannelBounds::max_sightings`]
//!   sightings under `track`, with `"sightings_total"`;
//! - an incident carries only its last [`ChannelBounds::max_log`] log
//!   entries in a snapshot, and in a change only the entries added since the
//!   version published before it (at most `max_log`), with `"log_total"`;
//!   clients merge log entries by their `seq`.
//!
//! Per client, changes queue in a [`SarQueue`] (part of the hub's
//! per-client state), bounded like alerts. On overflow the queued changes of
//! that kind are dropped and replaced by a fresh snapshot of the channel,
//! so a slow client loses nothing and never grows server memory. When a
//! snapshot goes out, changes queued before it are dropped: the snapshot is
//! queried after them and carries their state, and any later change is
//! queued again — a client never goes back a version.

use crate::api::PictureApi;
use crate::hub::ClientHandle;
use crate::protocol::Channels;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How much of the SAR history the channels carry (the rest is over HTTP:
/// `GET /api/contacts?status=closed`, `GET /api/incidents/{id}`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelBounds {
    /// Closed contacts and incidents stay in snapshots this long after their
    /// last change (wall clock).
    pub closed_window: Duration,
    /// Contacts (and, separately, incidents) in one snapshot at most.
    pub max_items: usize,
    /// Sightings per contact in a channel message.
    pub max_sightings: usize,
    /// Log entries per incident in a channel message.
    pub max_log: usize,
    /// Incidents whose last published version is remembered (to send log
    /// deltas); beyond it the memory is cleared and the next change of each
    /// carries its last `max_log` entries instead (clients merge by `seq`).
    pub max_remembered: usize,
}

impl Default for ChannelBounds {
    fn default() -> Self {
        ChannelBounds {
            closed_window: Duration::from_secs(24 * 3600),
            max_items: 1_000,
            max_sightings: 100,
            max_log: 100,
            max_remembered: 10_000,
        }
    }
}

/// The channel form of a contact: its last `max` sightings, and how many
/// there are.
pub fn contact_for_channel(c: &mut Value, max: usize) {
    let Some(obj) = c.as_object_mut() else {
        return;
    };
    let total = match obj.get_mut("track").and_then(Value::as_array_mut) {
        Some(track) => {
            let n = track.len();
            track.drain(..n.saturating_sub(max));
            n
        }
        None => 0,
    };
    obj.insert("sightings_total".into(), total.into());
}

/// The channel form of an incident: the log entries with `seq` above
/// `after` (all when `None`), at most the last `max`, and how many the
/// whole log has.
pub fn incident_for_channel(i: &mut Value, after: Option<u64>, max: usize) {
    let Some(obj) = i.as_object_mut() else {
        return;
    };
    let total = match obj.get_mut("log").and_then(Value::as_array_mut) {
        Some(log) => {
            let n = log.len();
            if let Some(after) = after {
                log.retain(|e| e["seq"].as_u64().is_none_or(|s| s > after));
            }
            let keep = log.len();
            log.drain(..keep.saturating_sub(max));
            n
        }
        None => 0,
    };
    obj.insert("log_total".into(), total.into());
}

/// Turns published contacts/incidents (their full objects, as HTTP returns
/// them) into their channel form; remembers, per incident, the version last
/// published so a change carries only the log entries added since.
#[derive(Debug, Default)]
pub struct SarPublisher {
    bounds: ChannelBounds,
    published: Mutex<HashMap<String, u64>>,
}

impl SarPublisher {
    pub fn new(bounds: ChannelBounds) -> SarPublisher {
        SarPublisher {
            bounds,
            published: Mutex::default(),
        }
    }

    pub fn bounds(&self) -> &ChannelBounds {
        &self.bounds
    }

    /// The channel form of a changed object (`full` is its JSON). Input that
    /// is not an object passes unchanged.
    pub fn channel_json(&self, kind: SarKind, full: &str) -> Arc<str> {
        let Ok(mut v) = serde_json::from_str::<Value>(full) else {
            return full.into();
        };
        match kind {
            SarKind::Contact => contact_for_channel(&mut v, self.bounds.max_sightings),
            SarKind::Coverage => {}
            SarKind::Incident => {
                let id = v["id"].as_str().unwrap_or_default().to_string();
                let version = v["version"].as_u64().unwrap_or(0);
                let after = {
                    let mut seen = self.published.lock().unwrap_or_else(|e| e.into_inner());
                    let before = seen.get(&id).copied();
                    if before.is_none() && seen.len() >= self.bounds.max_remembered.max(1) {
                        seen.clear();
                    }
                    let e = seen.entry(id).or_insert(0);
                    *e = (*e).max(version);
                    before
                };
                incident_for_channel(&mut v, after, self.bounds.max_log);
            }
        }
        v.to_string().into()
    }
}

/// When `updated` (RFC 3339) was, in UNIX ms.
fn updated_ms(v: &Value) -> Option<i64> {
    let t = humantime::parse_rfc3339_weak(v["updated"].as_str()?).ok()?;
    Some(t.duration_since(UNIX_EPOCH).ok()?.as_millis() as i64)
}

/// One page of an HTTP contact/incident list (newest change first): those
/// changed strictly before `before_ms` (UNIX ms), at most `limit`. The next
/// page is asked with `before` = the last item's `updated`.
pub fn page(list: Value, limit: Option<usize>, before_ms: Option<i64>) -> Value {
    let Value::Array(list) = list else {
        return list;
    };
    Value::Array(
        list.into_iter()
            .filter(|v| before_ms.is_none_or(|b| updated_ms(v).is_some_and(|u| u < b)))
            .take(limit.unwrap_or(usize::MAX))
            .collect(),
    )
}

/// A channel snapshot's items: everything not closed plus what was closed
/// within the window, newest change first (as the API lists them), at most
/// `max_items`, each in its channel form. Also returns how many matched.
pub fn snapshot_items(
    kind: SarKind,
    list: Value,
    bounds: &ChannelBounds,
    now: SystemTime,
) -> (Vec<Value>, usize) {
    let Value::Array(list) = list else {
        return (Vec::new(), 0);
    };
    let now_ms = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let since = now_ms - bounds.closed_window.as_millis() as i64;
    let mut kept: Vec<Value> = list
        .into_iter()
        .filter(|v| v["status"].as_str() != Some("closed") || updated_ms(v).unwrap_or(0) >= since)
        .collect();
    let total = kept.len();
    kept.truncate(bounds.max_items);
    for v in &mut kept {
        match kind {
            SarKind::Contact => contact_for_channel(v, bounds.max_sightings),
            SarKind::Incident => incident_for_channel(v, None, bounds.max_log),
            SarKind::Coverage => {}
        }
    }
    (kept, total)
}

/// Snapshot messages of one channel (`name` is `contacts` or `incidents`),
/// cut into parts of about `max_bytes`: the first replaces what the client
/// has, the rest carry `"part":1`, `"part":2`, … to add; all but the last
/// carry `"more":true`.
fn snapshot_messages(
    name: &str,
    items: Vec<Value>,
    total: usize,
    seq: &mut u64,
    max_bytes: usize,
) -> Vec<String> {
    let truncated = total > items.len();
    let mut parts: Vec<Vec<String>> = vec![Vec::new()];
    let mut bytes = 0;
    for v in items {
        let s = v.to_string();
        let cur = parts.last_mut().expect("one part at least");
        if !cur.is_empty() && bytes + s.len() > max_bytes {
            parts.push(Vec::new());
            bytes = 0;
        }
        bytes += s.len() + 1;
        parts.last_mut().expect("one part at least").push(s);
    }
    let n = parts.len();
    parts
        .into_iter()
        .enumerate()
        .map(|(k, p)| {
            *seq += 1;
            let mut m = format!(
                "{{\"type\":\"{name}\",\"seq\":{seq},\"{name}\":[{}],\"total\":{total},\"truncated\":{truncated}",
                p.join(",")
            );
            if k > 0 {
                m.push_str(&format!(",\"part\":{k}"));
            }
            if k + 1 < n {
                m.push_str(",\"more\":true");
            }
            m.push('}');
            m
        })
        .collect()
}

/// Which channel a change belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SarKind {
    Contact,
    Incident,
    /// An incident's live coverage (`{"type":"coverage",…}` on the
    /// `incidents` channel): the answer of `GET
    /// /api/incidents/{id}/coverage` with `incident`, pushed when it
    /// changes as the assets' positions arrive.
    Coverage,
}

/// One client's pending contact/incident messages.
#[derive(Debug, Default)]
pub struct SarQueue {
    queued: VecDeque<(SarKind, Arc<str>)>,
    contacts_snapshot: bool,
    incidents_snapshot: bool,
}

impl SarQueue {
    /// A subscription with these channels was (re)made: snapshot them.
    pub fn subscribed(&mut self, ch: Channels) {
        self.contacts_snapshot |= ch.contacts;
        self.incidents_snapshot |= ch.incidents;
    }

    /// Queue a change (at most `limit` queued; beyond it the channel is
    /// resnapshotted instead). Returns true when it overflowed.
    pub fn push(&mut self, kind: SarKind, json: Arc<str>, limit: usize) -> bool {
        if self.queued.len() >= limit.max(1) {
            self.queued.retain(|(k, _)| *k != kind);
            match kind {
                SarKind::Contact => self.contacts_snapshot = true,
                // Coverage is re-sent when it next changes (and is always
                // at GET …/coverage): dropping it loses nothing for good.
                SarKind::Incident | SarKind::Coverage => self.incidents_snapshot = true,
            }
            return true;
        }
        self.queued.push_back((kind, json));
        false
    }

    pub fn is_empty(&self) -> bool {
        self.queued.is_empty() && !self.contacts_snapshot && !self.incidents_snapshot
    }

    /// Queued bytes (for the client's memory accounting).
    pub fn bytes(&self) -> usize {
        self.queued.iter().map(|(_, j)| j.len()).sum()
    }
}

/// Does a subscription with `ch` want changes of `kind`?
pub fn wants(ch: &Channels, kind: SarKind) -> bool {
    match kind {
        SarKind::Contact => ch.contacts,
        SarKind::Incident | SarKind::Coverage => ch.incidents,
    }
}

/// Take what is pending for `client` and render it as protocol messages
/// (snapshots first, then changes).
pub fn render(
    client: &ClientHandle,
    api: &Arc<dyn PictureApi>,
    bounds: &ChannelBounds,
    max_bytes: usize,
    seq: &mut u64,
) -> Vec<String> {
    let (contacts, incidents, queued) = {
        let mut inner = client.inner.lock().unwrap_or_else(|e| e.into_inner());
        let q = &mut inner.sar;
        if q.is_empty() {
            return Vec::new();
        }
        let c = std::mem::take(&mut q.contacts_snapshot);
        let i = std::mem::take(&mut q.incidents_snapshot);
        (c, i, q.queued.drain(..).collect::<Vec<_>>())
    };
    let Some(sar) = api.sar() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let now = SystemTime::now();
    if contacts {
        if let Ok(list) = sar.contacts(None) {
            let (items, total) = snapshot_items(SarKind::Contact, list, bounds, now);
            out.extend(snapshot_messages("contacts", items, total, seq, max_bytes));
        }
    }
    if incidents {
        if let Ok(list) = sar.incidents(None) {
            let (items, total) = snapshot_items(SarKind::Incident, list, bounds, now);
            out.extend(snapshot_messages("incidents", items, total, seq, max_bytes));
        }
    }
    let mut push = |text: String| out.push(text);
    for (kind, json) in queued {
        match kind {
            SarKind::Contact if !contacts => {
                *seq += 1;
                push(format!(
                    "{{\"type\":\"contact\",\"seq\":{seq},\"contact\":{json}}}"
                ));
            }
            SarKind::Incident if !incidents => {
                *seq += 1;
                push(format!(
                    "{{\"type\":\"incident\",\"seq\":{seq},\"incident\":{json}}}"
                ));
            }
            // Not part of an incidents snapshot: always sent.
            SarKind::Coverage => {
                *seq += 1;
                push(format!(
                    "{{\"type\":\"coverage\",\"seq\":{seq},\"coverage\":{json}}}"
                ));
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_turns_into_a_snapshot_of_that_channel_only() {
        let mut q = SarQueue::default();
        for k in 0..3 {
            assert!(!q.push(SarKind::Incident, format!("{{\"i\":{k}}}").into(), 4));
        }
        assert!(!q.push(SarKind::Contact, "{}".into(), 4));
        assert!(q.push(SarKind::Contact, "{}".into(), 4));
        assert!(q.contacts_snapshot && !q.incidents_snapshot);
        assert_eq!(q.queued.len(), 3, "incident changes kept");
        let mut s = SarQueue::default();
        s.subscribed(Channels {
            incidents: true,
            ..Channels::DEFAULT
        });
        assert!(s.incidents_snapshot && !s.contacts_snapshot);
    }

    fn incident(version: u64) -> String {
        let log: Vec<Value> = (1..=version)
            .map(|k| serde_json::json!({"seq":k,"action":"note"}))
            .collect();
        serde_json::json!({"id":"i-000001","status":"open","version":version,"log":log}).to_string()
    }

    #[test]
    fn an_incident_change_carries_only_the_entries_since_the_last_published_version() {
        let p = SarPublisher::new(ChannelBounds {
            max_log: 3,
            ..ChannelBounds::default()
        });
        let seqs = |j: &str| -> (Vec<u64>, u64) {
            let v: Value = serde_json::from_str(j).unwrap();
            let s = v["log"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["seq"].as_u64().unwrap())
                .collect();
            (s, v["log_total"].as_u64().unwrap())
        };
        // First seen: its last max_log entries.
        assert_eq!(
            seqs(&p.channel_json(SarKind::Incident, &incident(5))),
            (vec![3, 4, 5], 5)
        );
        assert_eq!(
            seqs(&p.channel_json(SarKind::Incident, &incident(7))),
            (vec![6, 7], 7)
        );
        // Published out of order: an older version carries nothing new.
        assert_eq!(
            seqs(&p.channel_json(SarKind::Incident, &incident(6))),
            (vec![], 6)
        );
        assert_eq!(
            seqs(&p.channel_json(SarKind::Incident, &incident(8))),
            (vec![8], 8)
        );
    }

    #[test]
    fn snapshots_keep_live_and_recently_closed_newest_first_and_are_cut_into_parts() {
        let now = SystemTime::now();
        let at = |ago_h: u64| {
            humantime::format_rfc3339_millis(now - Duration::from_secs(ago_h * 3600)).to_string()
        };
        let list = serde_json::json!([
            {"id":"c-3","status":"active","updated":at(0),"track":[{"n":1},{"n":2},{"n":3}]},
            {"id":"c-2","status":"closed","updated":at(2),"track":[]},
            {"id":"c-1","status":"closed","updated":at(30),"track":[]},
            {"id":"c-0","status":"active","updated":at(100),"track":[]},
        ]);
        let bounds = ChannelBounds {
            max_sightings: 2,
            max_items: 2,
            ..ChannelBounds::default()
        };
        let (items, total) = snapshot_items(SarKind::Contact, list, &bounds, now);
        assert_eq!(total, 3, "c-1 closed 30 h ago is out of the window");
        let ids: Vec<_> = items.iter().map(|v| v["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["c-3", "c-2"]);
        assert_eq!(items[0]["track"], serde_json::json!([{"n":2},{"n":3}]));
        assert_eq!(items[0]["sightings_total"], 3);
        let mut seq = 0;
        let msgs = snapshot_messages("contacts", items, total, &mut seq, 10);
        assert_eq!(msgs.len(), 2);
        let m: Vec<Value> = msgs
            .iter()
            .map(|m| serde_json::from_str(m).unwrap())
            .collect();
        assert_eq!(
            (m[0]["truncated"].as_bool(), m[0]["total"].as_u64()),
            (Some(true), Some(3))
        );
        assert_eq!(
            (m[0].get("part"), m[0]["more"].as_bool()),
            (None, Some(true))
        );
        assert_eq!((m[1]["part"].as_u64(), m[1].get("more")), (Some(1), None));
        assert_eq!(seq, 2);
    }
}
