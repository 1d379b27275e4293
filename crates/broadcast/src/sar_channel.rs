//! The `contacts` and `incidents` WebSocket channels.
//!
//! Contacts and incidents are few and change at human pace, so they are not
//! filtered by area: a client subscribed to a channel receives a snapshot of
//! all of them (`{"type":"contacts",…}` / `{"type":"incidents",…}`), then
//! every change as the full object (`{"type":"contact",…}` /
//! `{"type":"incident",…}`), each carrying a `version` that only grows.
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
use std::collections::VecDeque;
use std::sync::Arc;

/// Which channel a change belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SarKind {
    Contact,
    Incident,
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
                SarKind::Incident => self.incidents_snapshot = true,
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
        SarKind::Incident => ch.incidents,
    }
}

/// Take what is pending for `client` and render it as protocol messages
/// (snapshots first, then changes).
pub fn render(client: &ClientHandle, api: &Arc<dyn PictureApi>, seq: &mut u64) -> Vec<String> {
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
    let mut push = |text: String| out.push(text);
    if contacts {
        if let Ok(list) = sar.contacts(None) {
            *seq += 1;
            push(format!(
                "{{\"type\":\"contacts\",\"seq\":{seq},\"contacts\":{list}}}"
            ));
        }
    }
    if incidents {
        if let Ok(list) = sar.incidents(None) {
            *seq += 1;
            push(format!(
                "{{\"type\":\"incidents\",\"seq\":{seq},\"incidents\":{list}}}"
            ));
        }
    }
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
}
