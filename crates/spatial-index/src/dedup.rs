//! Duplicate suppression: the same transmission heard by several receivers
//! counts once.
//!
//! Every AIS transmission is heard by all receivers in range, and a
//! national network or an aggregator forwards each copy. The decoder gives
//! every message a [`payload_hash`](lookout_ais::Decoded::payload_hash) of
//! its armoured payload; copies of one transmission share it. Position
//! reports carry the UTC second and the radio slot state, so two genuine
//! reports of a vessel practically never share a payload within seconds,
//! while the copies of one transmission arrive within a second or two
//! (plus receiver clock skew). A message is a duplicate when the same hash
//! was accepted within `window_ms` of message time before or after it.
//!
//! Memory is bounded twice: entries older than the window (relative to the
//! newest time seen) are expired in arrival order, and at most `capacity`
//! entries are kept (the oldest go first), so a flood of unique messages or
//! wildly out-of-order times cannot grow the table.
//!
//! ```
//! use spatial_index::dedup::Deduplicator;
//! let mut d = Deduplicator::new(5_000, 1 << 16);
//! assert!(!d.is_duplicate(0xabc, 1_000)); // first copy
//! assert!(d.is_duplicate(0xabc, 1_400)); // second receiver, 0.4 s later
//! assert!(!d.is_duplicate(0xabc, 60_000)); // same payload a minute later: new
//! assert_eq!(d.duplicates(), 1);
//! ```

use std::collections::hash_map::Entry;
use std::collections::VecDeque;

use crate::hash::FastMap;

/// Sliding-window duplicate filter on payload hashes.
#[derive(Debug, Clone)]
pub struct Deduplicator {
    window_ms: i64,
    capacity: usize,
    seen: FastMap<u64, i64>,
    order: VecDeque<(u64, i64)>,
    newest: i64,
    duplicates: u64,
}

impl Deduplicator {
    /// A filter with the given window (message time) and entry bound.
    /// A window of 0 or less disables suppression.
    pub fn new(window_ms: i64, capacity: usize) -> Self {
        Deduplicator {
            window_ms,
            capacity: capacity.max(1),
            seen: FastMap::default(),
            order: VecDeque::new(),
            newest: i64::MIN,
            duplicates: 0,
        }
    }

    /// True when a message with this hash was accepted within the window;
    /// otherwise records it and returns false.
    pub fn is_duplicate(&mut self, hash: u64, time_ms: i64) -> bool {
        if self.window_ms <= 0 {
            return false;
        }
        self.expire(time_ms);
        match self.seen.entry(hash) {
            Entry::Occupied(mut e) => {
                if time_ms.abs_diff(*e.get()) <= self.window_ms as u64 {
                    self.duplicates += 1;
                    return true;
                }
                e.insert(time_ms);
            }
            Entry::Vacant(e) => {
                e.insert(time_ms);
            }
        }
        self.order.push_back((hash, time_ms));
        while self.order.len() > self.capacity {
            self.pop_front();
        }
        false
    }

    fn expire(&mut self, now_ms: i64) {
        if now_ms > self.newest {
            self.newest = now_ms;
        }
        let horizon = self.newest.saturating_sub(self.window_ms);
        while let Some(&(_, t)) = self.order.front() {
            if t >= horizon {
                break;
            }
            self.pop_front();
        }
    }

    fn pop_front(&mut self) {
        if let Some((h, t)) = self.order.pop_front() {
            if self.seen.get(&h) == Some(&t) {
                self.seen.remove(&h);
            }
        }
    }

    /// Messages suppressed so far.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Hashes currently remembered.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_is_symmetric_and_bounded() {
        let mut d = Deduplicator::new(2_000, 4);
        assert!(!d.is_duplicate(1, 10_000));
        // An earlier-stamped copy (receiver clock behind) is still a copy.
        assert!(d.is_duplicate(1, 8_500));
        for h in 2..20 {
            assert!(!d.is_duplicate(h, 10_000));
        }
        assert!(d.len() <= 4);
        // Hash 1 was pushed out by capacity: accepted again.
        assert!(!d.is_duplicate(1, 10_001));
    }

    #[test]
    fn expiry_by_time() {
        let mut d = Deduplicator::new(1_000, 1 << 10);
        for h in 0..100 {
            d.is_duplicate(h, 0);
        }
        d.is_duplicate(1000, 5_000);
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn disabled() {
        let mut d = Deduplicator::new(0, 8);
        assert!(!d.is_duplicate(1, 0));
        assert!(!d.is_duplicate(1, 0));
    }
}
