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
//! The payload includes the MMSI, so copies always belong to the same
//! record, and each record remembers the hashes of its last
//! [`RECENT`] accepted messages. That bounds memory by the number of
//! records (64 bytes each), and costs no extra memory access on the hot
//! path: the record is read anyway. A station sends at most two or three
//! position reports within a few seconds (class A at speed: every 2 s),
//! so four is enough for a window of a few seconds; should a station send
//! more distinct messages than that within the window, the oldest is
//! forgotten first and a very late copy of it would count again.
//!
//! ```
//! use spatial_index::dedup::RecentPayloads;
//! let mut r = RecentPayloads::default();
//! assert!(!r.is_duplicate(0xabc, 1_000, 5_000)); // first copy
//! assert!(r.is_duplicate(0xabc, 1_400, 5_000)); // second receiver, 0.4 s later
//! assert!(!r.is_duplicate(0xabc, 60_000, 5_000)); // same payload a minute later: new
//! ```

/// How many recent payloads a record remembers.
pub const RECENT: usize = 4;

/// The hashes and message times of a record's last accepted messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecentPayloads {
    hashes: [u64; RECENT],
    times: [i64; RECENT],
    next: u8,
    filled: u8,
}

impl Default for RecentPayloads {
    fn default() -> Self {
        RecentPayloads {
            hashes: [0; RECENT],
            times: [0; RECENT],
            next: 0,
            filled: 0,
        }
    }
}

impl RecentPayloads {
    /// True when a message with this hash was accepted within `window_ms`
    /// of `time_ms`; otherwise remembers it and returns false. A window of
    /// 0 or less disables suppression.
    #[inline]
    pub fn is_duplicate(&mut self, hash: u64, time_ms: i64, window_ms: i64) -> bool {
        if window_ms <= 0 {
            return false;
        }
        for k in 0..usize::from(self.filled) {
            if self.hashes[k] == hash && time_ms.abs_diff(self.times[k]) <= window_ms as u64 {
                return true;
            }
        }
        self.remember(hash, time_ms);
        false
    }

    /// Remember an accepted message.
    #[inline]
    pub fn remember(&mut self, hash: u64, time_ms: i64) {
        let k = usize::from(self.next) % RECENT;
        self.hashes[k] = hash;
        self.times[k] = time_ms;
        self.next = ((k + 1) % RECENT) as u8;
        self.filled = (self.filled + 1).min(RECENT as u8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_is_symmetric() {
        let mut r = RecentPayloads::default();
        assert!(!r.is_duplicate(1, 10_000, 2_000));
        // An earlier-stamped copy (receiver clock behind) is still a copy.
        assert!(r.is_duplicate(1, 8_500, 2_000));
        assert!(!r.is_duplicate(1, 7_000, 2_000));
    }

    #[test]
    fn remembers_the_last_few() {
        let mut r = RecentPayloads::default();
        for h in 1..=6 {
            assert!(!r.is_duplicate(h, 0, 5_000));
        }
        for h in 3..=6 {
            assert!(r.is_duplicate(h, 100, 5_000));
        }
        // Forgotten: the oldest two.
        assert!(!r.is_duplicate(1, 100, 5_000));
    }

    #[test]
    fn hash_zero_and_extreme_times() {
        let mut r = RecentPayloads::default();
        assert!(!r.is_duplicate(0, i64::MIN + 1, 5_000));
        assert!(r.is_duplicate(0, i64::MIN + 2, 5_000));
        assert!(!r.is_duplicate(0, i64::MAX, 5_000));
        assert!(!r.is_duplicate(7, 0, 0));
        assert!(!r.is_duplicate(7, 0, 0));
    }
}
