//! Multi-sentence reassembly.
//!
//! Messages longer than one sentence (type 5, long binary messages) arrive as
//! 2–9 fragments, often interleaved with other traffic and, on national
//! networks, with other stations' fragments. Fragments are grouped by a
//! [`FragmentKey`]: the caller's source id, the TAG block station, talker,
//! channel, sequence id and fragment count — or, when the sequence id is
//! empty and a TAG `g:` group is present, by that group id. So the same
//! sequence id on channels A and B at the same time makes two messages, and
//! interleaved groups never mix.
//!
//! The assembler is bounded: at most `max_pending` groups are kept (the
//! oldest is evicted when a new one needs room), and a group expires when it
//! is older than `max_age_lines` sentences or `max_age_ms` of message time.
//! Evicted and expired groups are counted as orphans. Fragments may arrive in
//! any order.

use crate::tagblock::TagBlock;

/// Identifies the message a fragment belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FragmentKey {
    /// Caller's source (feed) id.
    pub source: u32,
    /// Hash of the TAG block `s:` station (0 when none).
    pub station: u64,
    pub talker: [u8; 2],
    /// Channel byte (0 when empty).
    pub channel: u8,
    /// Sequence id (255 when empty).
    pub sequence: u8,
    pub count: u8,
    /// TAG block group id, used when the sequence id is empty.
    pub group: Option<u32>,
}

/// Limits of the assembler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssemblerLimits {
    /// Groups in flight at once (default 256).
    pub max_pending: usize,
    /// A group older than this many sentences (fed to the same assembler)
    /// is dropped (default 1000).
    pub max_age_lines: u64,
    /// A group older than this much message time is dropped (default 10 s).
    pub max_age_ms: i64,
}

impl Default for AssemblerLimits {
    fn default() -> Self {
        AssemblerLimits {
            max_pending: 256,
            max_age_lines: 1000,
            max_age_ms: 10_000,
        }
    }
}

/// What happened to a fragment.
#[derive(Debug, PartialEq, Eq)]
pub enum Assembled {
    /// More fragments are needed.
    Pending,
    /// The group is complete: its payloads in order are in the assembler's
    /// output buffer ([`Assembler::parts`]).
    Complete { fill_bits: u8 },
    /// The fragment repeats a number already held for its group; the old
    /// group was dropped (counted as orphaned) and a new one started.
    Restarted,
}

struct Pending {
    key: FragmentKey,
    /// Bit k set when fragment k+1 is held.
    have: u16,
    /// Payload bytes of each fragment, concatenated; `spans[k]` locates
    /// fragment k+1.
    buf: Vec<u8>,
    spans: [(u32, u32); 9],
    fill_bits: u8,
    tag: Option<TagBlock>,
    born_line: u64,
    born_ms: Option<i64>,
}

/// Bounded reassembly of multi-sentence messages.
pub struct Assembler {
    limits: AssemblerLimits,
    pending: Vec<Pending>,
    /// Spare buffers of finished groups, reused to avoid allocation.
    spare: Vec<Vec<u8>>,
    out: Vec<u8>,
    out_spans: Vec<(u32, u32)>,
    out_tag: Option<TagBlock>,
    line: u64,
    /// Groups dropped incomplete (expired, evicted, restarted).
    pub orphaned: u64,
    /// Of those, dropped because the pending table was full.
    pub evicted: u64,
}

impl Assembler {
    /// A new assembler with the given limits.
    pub fn new(limits: AssemblerLimits) -> Self {
        Assembler {
            limits,
            pending: Vec::new(),
            spare: Vec::new(),
            out: Vec::new(),
            out_spans: Vec::new(),
            out_tag: None,
            line: 0,
            orphaned: 0,
            evicted: 0,
        }
    }

    /// Groups currently waiting for fragments.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Advance the sentence clock (call once per sentence seen, fragment or
    /// not) and expire old groups.
    #[inline]
    pub fn tick(&mut self, now_ms: Option<i64>) {
        self.line += 1;
        if !self.pending.is_empty() && self.line % 16 == 0 {
            self.expire(now_ms);
        }
    }

    /// Drop groups older than the limits.
    pub fn expire(&mut self, now_ms: Option<i64>) {
        let limits = self.limits;
        let line = self.line;
        let before = self.pending.len();
        let spare = &mut self.spare;
        self.pending.retain_mut(|p| {
            let old_lines = line.saturating_sub(p.born_line) > limits.max_age_lines;
            let old_time = matches!((now_ms, p.born_ms), (Some(now), Some(born)) if now - born > limits.max_age_ms);
            if old_lines || old_time {
                spare.push(std::mem::take(&mut p.buf));
                false
            } else {
                true
            }
        });
        self.orphaned += (before - self.pending.len()) as u64;
    }

    /// Add fragment `number` of `key.count` with its payload. `tag` is the
    /// fragment's TAG block, merged into the group's.
    pub fn add(
        &mut self,
        key: FragmentKey,
        number: u8,
        payload: &[u8],
        fill_bits: u8,
        tag: Option<TagBlock>,
        now_ms: Option<i64>,
    ) -> Assembled {
        let bit = 1u16 << (number - 1);
        let mut restarted = false;
        let idx = match self.pending.iter().position(|p| p.key == key) {
            Some(i) if self.pending[i].have & bit != 0 => {
                // A repeated fragment number: the old group can never
                // complete correctly. Drop it and start again.
                let mut old = self.pending.swap_remove(i);
                self.orphaned += 1;
                restarted = true;
                old.buf.clear();
                self.spare.push(old.buf);
                self.start(key, now_ms)
            }
            Some(i) => i,
            None => self.start(key, now_ms),
        };
        let p = &mut self.pending[idx];
        let at = p.buf.len() as u32;
        p.buf.extend_from_slice(payload);
        p.spans[(number - 1) as usize] = (at, payload.len() as u32);
        p.have |= bit;
        if number == key.count {
            p.fill_bits = fill_bits;
        }
        if let Some(t) = tag {
            match &mut p.tag {
                None => p.tag = Some(t),
                Some(have) if number == 1 => {
                    // The first fragment's TAG is authoritative.
                    let mut t = t;
                    t.merge_missing(have);
                    *have = t;
                }
                Some(have) => have.merge_missing(&t),
            }
        }
        let full = (1u16 << key.count) - 1;
        if p.have == full {
            let mut p = self.pending.swap_remove(idx);
            self.out.clear();
            self.out_spans.clear();
            for k in 0..key.count as usize {
                let (s, l) = p.spans[k];
                self.out_spans.push((self.out.len() as u32, l));
                self.out
                    .extend_from_slice(&p.buf[s as usize..(s + l) as usize]);
            }
            self.out_tag = p.tag.take();
            p.buf.clear();
            self.spare.push(p.buf);
            return Assembled::Complete {
                fill_bits: p.fill_bits,
            };
        }
        if restarted {
            Assembled::Restarted
        } else {
            Assembled::Pending
        }
    }

    fn start(&mut self, key: FragmentKey, now_ms: Option<i64>) -> usize {
        if self.pending.len() >= self.limits.max_pending.max(1) {
            // Evict the oldest group.
            let oldest = self
                .pending
                .iter()
                .enumerate()
                .min_by_key(|(_, p)| p.born_line)
                .map(|(i, _)| i)
                .unwrap_or(0);
            let old = self.pending.swap_remove(oldest);
            self.spare.push(old.buf);
            self.orphaned += 1;
            self.evicted += 1;
        }
        let mut buf = self.spare.pop().unwrap_or_default();
        buf.clear();
        self.pending.push(Pending {
            key,
            have: 0,
            buf,
            spans: [(0, 0); 9],
            fill_bits: 0,
            tag: None,
            born_line: self.line,
            born_ms: now_ms,
        });
        self.pending.len() - 1
    }

    /// The payloads of the last completed group, in fragment order.
    pub fn parts(&self) -> impl Iterator<Item = &[u8]> {
        self.out_spans
            .iter()
            .map(|&(s, l)| &self.out[s as usize..(s + l) as usize])
    }

    /// Take the merged TAG block of the last completed group.
    pub fn take_tag(&mut self) -> Option<TagBlock> {
        self.out_tag.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(channel: u8, sequence: u8) -> FragmentKey {
        FragmentKey {
            source: 0,
            station: 0,
            talker: *b"AI",
            channel,
            sequence,
            count: 2,
            group: None,
        }
    }

    fn joined(a: &Assembler) -> Vec<u8> {
        a.parts().flatten().copied().collect()
    }

    #[test]
    fn interleaved_groups_do_not_mix() {
        let mut a = Assembler::new(AssemblerLimits::default());
        assert_eq!(
            a.add(key(b'A', 1), 1, b"a1", 0, None, None),
            Assembled::Pending
        );
        assert_eq!(
            a.add(key(b'B', 1), 1, b"b1", 0, None, None),
            Assembled::Pending
        );
        assert_eq!(
            a.add(key(b'B', 1), 2, b"b2", 2, None, None),
            Assembled::Complete { fill_bits: 2 }
        );
        assert_eq!(joined(&a), b"b1b2");
        assert_eq!(
            a.add(key(b'A', 1), 2, b"a2", 0, None, None),
            Assembled::Complete { fill_bits: 0 }
        );
        assert_eq!(joined(&a), b"a1a2");
        assert_eq!(a.pending(), 0);
        assert_eq!(a.orphaned, 0);
    }

    #[test]
    fn out_of_order_fragments_complete() {
        let mut a = Assembler::new(AssemblerLimits::default());
        a.add(key(b'A', 3), 2, b"second", 1, None, None);
        assert_eq!(
            a.add(key(b'A', 3), 1, b"first", 0, None, None),
            Assembled::Complete { fill_bits: 1 }
        );
        assert_eq!(joined(&a), b"firstsecond");
    }

    #[test]
    fn repeated_first_fragment_restarts_and_counts_orphan() {
        let mut a = Assembler::new(AssemblerLimits::default());
        a.add(key(b'A', 1), 1, b"old", 0, None, None);
        assert_eq!(
            a.add(key(b'A', 1), 1, b"new", 0, None, None),
            Assembled::Restarted
        );
        a.add(key(b'A', 1), 2, b"2", 0, None, None);
        assert_eq!(joined(&a), b"new2");
        assert_eq!(a.orphaned, 1);
    }

    #[test]
    fn groups_expire_by_lines_and_by_time() {
        let limits = AssemblerLimits {
            max_pending: 8,
            max_age_lines: 10,
            max_age_ms: 1000,
        };
        let mut a = Assembler::new(limits);
        a.add(key(b'A', 1), 1, b"x", 0, None, None);
        for _ in 0..32 {
            a.tick(None);
        }
        assert_eq!(a.pending(), 0);
        assert_eq!(a.orphaned, 1);

        a.add(key(b'A', 2), 1, b"x", 0, None, Some(0));
        a.tick(Some(500));
        a.expire(Some(500));
        assert_eq!(a.pending(), 1);
        a.expire(Some(1001));
        assert_eq!(a.pending(), 0);
        assert_eq!(a.orphaned, 2);
    }

    #[test]
    fn flood_of_orphans_is_bounded() {
        let limits = AssemblerLimits {
            max_pending: 4,
            ..AssemblerLimits::default()
        };
        let mut a = Assembler::new(limits);
        for i in 0..10_000u32 {
            let mut k = key(b'A', 1);
            k.source = i;
            a.add(k, 1, b"orphan-fragment", 0, None, None);
            assert!(a.pending() <= 4);
        }
        assert_eq!(a.evicted, 10_000 - 4);
        assert!(
            a.spare.len() <= 5,
            "spare buffers are recycled, not hoarded"
        );
    }
}
