//! Change events out of the picture, and the bounded sink that holds them.
//!
//! Every change the picture makes is an [`Event`]: a vessel appearing,
//! being updated, going stale, lost, coming back, being removed; a report
//! flagged as implausible; a vessel entering or leaving a zone. Events are
//! plain serialisable data (internally tagged JSON, `"event": "zone_entered"`)
//! so the alert rules, the broadcast layer and, later, a message bus between
//! machines all consume the same stream.
//!
//! [`EventSink`] is a bounded ring buffer the owner of the picture drains.
//! When it is full the *oldest* event is dropped and counted: a consumer
//! that fell behind is better served by recent events, and every event
//! carries a sequence number, so a gap tells it to resynchronise from the
//! picture itself.
//!
//! ```
//! use spatial_index::events::{Event, EventSink};
//! let mut sink = EventSink::new(2);
//! for mmsi in [1, 2, 3] {
//!     sink.push(Event::VesselRemoved { mmsi, time_ms: 0, last_seen_ms: 0 });
//! }
//! assert_eq!(sink.dropped(), 1);
//! let got: Vec<_> = sink.drain().collect();
//! assert_eq!(got[0].seq, 1); // seq 0 was dropped
//! let json = serde_json::to_string(&got[1]).unwrap();
//! assert_eq!(json, r#"{"seq":2,"event":"vessel_removed","mmsi":3,"time_ms":0,"last_seen_ms":0}"#);
//! ```

use std::collections::VecDeque;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::vessel::{VesselClass, VesselFlags, VesselState};
use crate::zones::ZoneKind;

/// Why a report was flagged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Flag {
    /// The MMSI has no valid MID; the record is kept.
    InvalidMmsi,
    /// Position "not available".
    PositionUnavailable,
    /// Position 0°N 0°E.
    NullIsland,
    /// The position implied more than the plausible speed from the
    /// previous one and was held back.
    ImplausibleJump {
        from_lat: f64,
        from_lon: f64,
        to_lat: f64,
        to_lon: f64,
        knots: f64,
        seconds: f64,
    },
}

/// What changed in the picture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// First report from an MMSI.
    VesselNew {
        mmsi: u32,
        time_ms: i64,
        class: VesselClass,
        flags: VesselFlags,
    },
    /// A report was applied. Carries the dynamic state after it; consumers
    /// read static data from the picture when `static_changed`.
    VesselUpdated {
        mmsi: u32,
        time_ms: i64,
        class: VesselClass,
        lat: Option<f64>,
        lon: Option<f64>,
        sog_kn: Option<f32>,
        cog_deg: Option<f32>,
        heading_deg: Option<u16>,
        position_changed: bool,
        static_changed: bool,
    },
    /// Silent for longer than its category allows.
    VesselStale {
        mmsi: u32,
        time_ms: i64,
        last_seen_ms: i64,
    },
    /// Silent for so long that its position is no longer to be trusted.
    VesselLost {
        mmsi: u32,
        time_ms: i64,
        last_seen_ms: i64,
    },
    /// Heard again after being stale or lost.
    VesselActive {
        mmsi: u32,
        time_ms: i64,
        was: VesselState,
    },
    /// Dropped from the picture (after leaving its zones).
    VesselRemoved {
        mmsi: u32,
        time_ms: i64,
        last_seen_ms: i64,
    },
    /// A report was implausible or incomplete.
    VesselFlagged { mmsi: u32, time_ms: i64, flag: Flag },
    /// The vessel's position is now inside the zone.
    ZoneEntered {
        mmsi: u32,
        time_ms: i64,
        zone: Arc<str>,
        kind: ZoneKind,
        alerts: bool,
        lat: f64,
        lon: f64,
    },
    /// The vessel's position is no longer inside the zone (it moved out,
    /// was removed, or the zones were reloaded).
    ZoneLeft {
        mmsi: u32,
        time_ms: i64,
        zone: Arc<str>,
        kind: ZoneKind,
        alerts: bool,
        lat: f64,
        lon: f64,
    },
}

impl Event {
    /// The MMSI the event is about.
    pub fn mmsi(&self) -> u32 {
        match self {
            Event::VesselNew { mmsi, .. }
            | Event::VesselUpdated { mmsi, .. }
            | Event::VesselStale { mmsi, .. }
            | Event::VesselLost { mmsi, .. }
            | Event::VesselActive { mmsi, .. }
            | Event::VesselRemoved { mmsi, .. }
            | Event::VesselFlagged { mmsi, .. }
            | Event::ZoneEntered { mmsi, .. }
            | Event::ZoneLeft { mmsi, .. } => *mmsi,
        }
    }

    /// Message time of the change.
    pub fn time_ms(&self) -> i64 {
        match self {
            Event::VesselNew { time_ms, .. }
            | Event::VesselUpdated { time_ms, .. }
            | Event::VesselStale { time_ms, .. }
            | Event::VesselLost { time_ms, .. }
            | Event::VesselActive { time_ms, .. }
            | Event::VesselRemoved { time_ms, .. }
            | Event::VesselFlagged { time_ms, .. }
            | Event::ZoneEntered { time_ms, .. }
            | Event::ZoneLeft { time_ms, .. } => *time_ms,
        }
    }
}

/// An event with its sequence number (consecutive from 0; a gap means
/// events were dropped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sequenced {
    pub seq: u64,
    #[serde(flatten)]
    pub event: Event,
}

/// Bounded FIFO of events; drops the oldest when full and counts it.
#[derive(Debug, Clone)]
pub struct EventSink {
    buf: VecDeque<Sequenced>,
    capacity: usize,
    next_seq: u64,
    dropped: u64,
}

impl EventSink {
    /// A sink holding at most `capacity` events (0 keeps none: every event
    /// is counted as dropped).
    pub fn new(capacity: usize) -> Self {
        EventSink {
            buf: VecDeque::with_capacity(capacity.min(1024)),
            capacity,
            next_seq: 0,
            dropped: 0,
        }
    }

    /// Append an event.
    #[inline]
    pub fn push(&mut self, event: Event) {
        let seq = self.next_seq;
        self.next_seq += 1;
        if self.capacity == 0 {
            self.dropped += 1;
            return;
        }
        if self.buf.len() >= self.capacity {
            self.buf.pop_front();
            self.dropped += 1;
        }
        self.buf.push_back(Sequenced { seq, event });
    }

    /// Take every pending event, oldest first.
    pub fn drain(&mut self) -> std::collections::vec_deque::Drain<'_, Sequenced> {
        self.buf.drain(..)
    }

    /// Take the oldest pending event.
    pub fn pop(&mut self) -> Option<Sequenced> {
        self.buf.pop_front()
    }

    /// Pending events.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Events dropped because the sink was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Sequence number the next event will get (= events produced so far).
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The bound.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_json() {
        let e = Event::ZoneEntered {
            mmsi: 247_000_001,
            time_ms: 1,
            zone: Arc::from("malta_srr"),
            kind: ZoneKind::SarRegion,
            alerts: true,
            lat: 35.0,
            lon: 14.0,
        };
        let j = serde_json::to_string(&e).unwrap();
        assert!(j.contains(r#""event":"zone_entered""#), "{j}");
        assert!(j.contains(r#""kind":"sar_region""#), "{j}");
        assert_eq!(serde_json::from_str::<Event>(&j).unwrap(), e);
        let f = Event::VesselFlagged {
            mmsi: 1,
            time_ms: 2,
            flag: Flag::ImplausibleJump {
                from_lat: 1.0,
                from_lon: 2.0,
                to_lat: 3.0,
                to_lon: 4.0,
                knots: 500.0,
                seconds: 10.0,
            },
        };
        let j = serde_json::to_string(&f).unwrap();
        assert_eq!(serde_json::from_str::<Event>(&j).unwrap(), f);
    }

    #[test]
    fn zero_capacity_counts_everything() {
        let mut s = EventSink::new(0);
        s.push(Event::VesselRemoved {
            mmsi: 1,
            time_ms: 0,
            last_seen_ms: 0,
        });
        assert_eq!((s.len(), s.dropped(), s.next_seq()), (0, 1, 1));
    }
}
