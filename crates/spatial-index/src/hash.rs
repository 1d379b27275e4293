//! A fast, deterministic hasher for the picture's integer-keyed maps
//! (MMSI → slot, payload hash → time, zone members).
//!
//! The standard library's SipHash defends against hash flooding from
//! untrusted keys; the keys here are MMSIs and already-mixed 64-bit payload
//! hashes, and the maps sit on the per-update hot path, so a single
//! folded 128-bit multiply is enough. It is deterministic (no random seed),
//! which keeps replays reproducible. Every map stays bounded by the
//! picture's own limits, so a hostile feed cannot grow one without bound.
//!
//! ```
//! use spatial_index::hash::FastMap;
//! let mut m: FastMap<u32, &str> = FastMap::default();
//! m.insert(247_123_456, "ALPHA");
//! assert_eq!(m.get(&247_123_456), Some(&"ALPHA"));
//! ```

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// Multiply-fold hasher for integer keys.
#[derive(Debug, Default, Clone, Copy)]
pub struct FoldHasher {
    h: u64,
}

const K: u64 = 0x9e37_79b9_7f4a_7c15;

impl Hasher for FoldHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        let m = u128::from(self.h ^ n) * u128::from(K);
        self.h = (m as u64) ^ ((m >> 64) as u64);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.h
    }
}

/// `HashMap` with [`FoldHasher`].
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FoldHasher>>;
/// `HashSet` with [`FoldHasher`].
pub type FastSet<K> = HashSet<K, BuildHasherDefault<FoldHasher>>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn sequential_keys_spread() {
        let b = BuildHasherDefault::<FoldHasher>::default();
        let mut top = FastSet::default();
        for k in 0u32..1024 {
            top.insert(b.hash_one(247_000_000 + k) >> 57);
        }
        // Sequential MMSIs must not collapse onto a few control bytes.
        assert!(top.len() > 100, "{}", top.len());
    }
}
