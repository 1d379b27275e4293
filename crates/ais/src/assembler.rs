//! Multi-sentence reassembly, by the rules of the standards.
//!
//! Messages longer than one sentence (type 5, long binary messages) arrive
//! as 2–9 sentences. IEC 61162-1 (NMEA 0183) sends the sentences of one
//! message consecutively and in order, numbered `1..=count`, all with the
//! same talker, channel and sequential message id; a receiver's sentences
//! of one message are never interleaved with each other. A feed merging
//! several receivers (a national network) may interleave messages, and
//! NMEA 0183 v4.10 TAG blocks group the sentences of one message with
//! `g:n-total-id` (or the older `nGtotal:id` form). The station `s:` and
//! time `c:` are often on the first sentence only, so they are never part
//! of the key.
//!
//! The rule:
//!
//! * A message starts with fragment 1. A fragment 1 whose identity
//!   ([`FragmentKey`]: feed source, talker, channel, sequence id, count and
//!   TAG group id) equals an open message's *restarts*: the old message is
//!   dropped (counted in `orphaned`) and the new one opened.
//! * A continuation (fragment k > 1) joins an open message only if that
//!   message holds exactly fragments `1..k` (k is the next one expected)
//!   and has the same feed source, talker, channel, sequence id and
//!   fragment count, and their TAG group ids do not differ: same `g:` id
//!   when both carry one; either side without a `g:` matches on the
//!   sentence fields alone ("TAG block on the first sentence only", or a
//!   group only on the continuations). When several open messages qualify,
//!   the one with the same group id wins, else the most recently extended
//!   one (the sentences of a message are consecutive).
//! * Any other continuation is *stray*: dropped at once and counted in
//!   `stray`. It is never kept to wait for a first fragment, so a
//!   fragment is never joined to a message it did not belong to. If the
//!   stray has exactly the identity of an open message that is missing an
//!   earlier fragment (a gap: fragment k arrived, k-1 never will), that
//!   message can no longer complete and is dropped too.
//!
//! Without TAG groups one case is inherently ambiguous: when a message with
//! some identity loses its tail and the next message with the very same
//! identity loses its head, the second's continuation looks exactly like
//! the first's. No rule can tell them apart; this one joins them.
//!
//! The assembler is bounded: at most `max_pending` messages are kept open
//! (the oldest is evicted when a new one needs room), and an open message
//! expires when it is older than `max_age_lines` sentences or `max_age_ms`
//! of message time. Evicted and expired messages are counted in `orphaned`.
//! The open messages are a small `Vec` searched linearly, and payload
//! buffers are recycled, so the steady state does not allocate.

use crate::tagblock::TagBlock;

/// Identifies the message a fragment belongs to. The TAG block station
/// (`s:`) is deliberately not part of it: continuations often omit it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FragmentKey {
    /// Caller's source (feed) id.
    pub source: u32,
    pub talker: [u8; 2],
    /// Channel byte (0 when empty).
    pub channel: u8,
    /// Sequence id (255 when empty).
    pub sequence: u8,
    pub count: u8,
    /// TAG block group id (`g:` / `xGy:`), when the fragment carries one.
    pub group: Option<u32>,
}

impl FragmentKey {
    /// Whether a continuation with key `self` may extend an open message
    /// whose fragment 1 had key `open`: `None` when it cannot, else whether
    /// both carry the same TAG group id. Every field must be equal, except
    /// that a group id on one side only matches (the TAG block was on the
    /// first sentence only, or on the continuations only).
    #[inline]
    fn fits(&self, open: &FragmentKey) -> Option<bool> {
        if self.source != open.source
            || self.talker != open.talker
            || self.channel != open.channel
            || self.sequence != open.sequence
            || self.count != open.count
        {
            return None;
        }
        match (self.group, open.group) {
            (Some(a), Some(b)) if a == b => Some(true),
            (Some(_), Some(_)) => None,
            _ => Some(false),
        }
    }
}

/// Limits of the assembler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssemblerLimits {
    /// Messages open at once (default 256).
    pub max_pending: usize,
    /// A message older than this many sentences (fed to the same
    /// assembler) is dropped (default 1000).
    pub max_age_lines: u64,
    /// A message older than this much message time is dropped (default
    /// 10 s).
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
    /// The message is complete: its payloads in order are in the
    /// assembler's output buffer ([`Assembler::parts`]).
    Complete { fill_bits: u8 },
    /// A fragment 1 with the identity of an open message: the old message
    /// was dropped (counted as orphaned) and a new one started.
    Restarted,
    /// A continuation that belongs to no open message: dropped and counted
    /// in [`Assembler::stray`].
    Stray,
}

struct Pending {
    /// The key of its fragment 1.
    key: FragmentKey,
    /// Fragments `1..=held` are in `buf`.
    held: u8,
    /// Payload bytes of the fragments held, in order.
    buf: Vec<u8>,
    /// `ends[k]`: end of fragment k+1 in `buf`.
    ends: [u32; 9],
    tag: Option<TagBlock>,
    born_line: u64,
    born_ms: Option<i64>,
    /// Sentence clock when the last fragment was added.
    last_line: u64,
}

/// Bounded reassembly of multi-sentence messages.
pub struct Assembler {
    limits: AssemblerLimits,
    pending: Vec<Pending>,
    /// Spare buffers of finished messages, reused to avoid allocation.
    spare: Vec<Vec<u8>>,
    out: Vec<u8>,
    out_spans: Vec<(u32, u32)>,
    out_tag: Option<TagBlock>,
    line: u64,
    /// Messages dropped incomplete (expired, evicted, restarted, or cut by
    /// a gap).
    pub orphaned: u64,
    /// Of those, dropped because the pending table was full.
    pub evicted: u64,
    /// Continuations dropped because they belonged to no open message.
    pub stray: u64,
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
            stray: 0,
        }
    }

    /// Messages currently waiting for fragments.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Advance the sentence clock (call once per sentence seen, fragment or
    /// not) and expire old messages.
    #[inline]
    pub fn tick(&mut self, now_ms: Option<i64>) {
        self.line += 1;
        if !self.pending.is_empty() && self.line % 16 == 0 {
            self.expire(now_ms);
        }
    }

    /// Drop messages older than the limits.
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

    /// Add fragment `number` of `key.count` with its payload and fill
    /// bits. `tag` is the fragment's TAG block: the first fragment's is
    /// kept, later ones fill the fields it lacks.
    pub fn add(
        &mut self,
        key: FragmentKey,
        number: u8,
        payload: &[u8],
        fill_bits: u8,
        tag: Option<TagBlock>,
        now_ms: Option<i64>,
    ) -> Assembled {
        if number == 0 || number > key.count || key.count as usize > 9 {
            self.stray += 1;
            return Assembled::Stray;
        }
        let mut restarted = false;
        let idx = if number == 1 {
            match self.pending.iter().position(|p| p.key == key) {
                Some(i) => {
                    // The same sender starts a new message with this
                    // identity: the open one can never complete.
                    self.orphaned += 1;
                    restarted = true;
                    let p = &mut self.pending[i];
                    p.held = 0;
                    p.buf.clear();
                    p.tag = None;
                    p.born_line = self.line;
                    p.born_ms = now_ms;
                    i
                }
                None => self.start(key, now_ms),
            }
        } else {
            // The open message this continuation extends: the one with the
            // same group id, else the most recently extended (a message's
            // sentences are consecutive).
            let mut best: Option<(usize, bool, u64)> = None;
            for (i, p) in self.pending.iter().enumerate() {
                if p.held + 1 != number {
                    continue;
                }
                if let Some(same_group) = key.fits(&p.key) {
                    let rank = (same_group, p.last_line);
                    if best.is_none_or(|(_, g, l)| rank > (g, l)) {
                        best = Some((i, same_group, p.last_line));
                    }
                }
            }
            match best {
                Some((i, _, _)) => i,
                None => {
                    self.stray_fragment(&key, number);
                    return Assembled::Stray;
                }
            }
        };
        let line = self.line;
        let p = &mut self.pending[idx];
        p.buf.extend_from_slice(payload);
        p.held = number;
        p.ends[(number - 1) as usize] = p.buf.len() as u32;
        p.last_line = line;
        if let Some(t) = tag {
            match &mut p.tag {
                None => p.tag = Some(t),
                Some(have) => have.merge_missing(&t),
            }
        }
        if number == p.key.count {
            let mut p = self.pending.swap_remove(idx);
            std::mem::swap(&mut self.out, &mut p.buf);
            self.out_spans.clear();
            let mut start = 0u32;
            for &end in &p.ends[..p.key.count as usize] {
                self.out_spans.push((start, end - start));
                start = end;
            }
            self.out_tag = p.tag.take();
            p.buf.clear();
            self.spare.push(p.buf);
            return Assembled::Complete { fill_bits };
        }
        if restarted {
            Assembled::Restarted
        } else {
            Assembled::Pending
        }
    }

    /// Count a stray continuation. An open message of exactly its identity
    /// that still lacks an earlier fragment has a gap (sentences come in
    /// order) and can never complete: drop it now rather than let a later
    /// stray fill the gap.
    #[cold]
    fn stray_fragment(&mut self, key: &FragmentKey, number: u8) {
        self.stray += 1;
        if let Some(i) = self
            .pending
            .iter()
            .position(|p| p.key == *key && p.held + 1 < number)
        {
            let p = self.pending.swap_remove(i);
            self.spare.push(p.buf);
            self.orphaned += 1;
        }
    }

    fn start(&mut self, key: FragmentKey, now_ms: Option<i64>) -> usize {
        if self.pending.len() >= self.limits.max_pending.max(1) {
            // Evict the oldest message.
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
            held: 0,
            buf,
            ends: [0; 9],
            tag: None,
            born_line: self.line,
            born_ms: now_ms,
            last_line: self.line,
        });
        self.pending.len() - 1
    }

    /// The payloads of the last completed message, in fragment order.
    pub fn parts(&self) -> impl Iterator<Item = &[u8]> {
        self.out_spans
            .iter()
            .map(|&(s, l)| &self.out[s as usize..(s + l) as usize])
    }

    /// Take the merged TAG block of the last completed message.
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
            talker: *b"AI",
            channel,
            sequence,
            count: 2,
            group: None,
        }
    }

    fn grouped(channel: u8, sequence: u8, group: u32) -> FragmentKey {
        FragmentKey {
            group: Some(group),
            ..key(channel, sequence)
        }
    }

    fn joined(a: &Assembler) -> Vec<u8> {
        a.parts().flatten().copied().collect()
    }

    fn tag(s: &str) -> Option<TagBlock> {
        Some(TagBlock::parse(s.as_bytes()).unwrap())
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
        assert_eq!(a.parts().count(), 2);
        assert_eq!(a.pending(), 0);
        assert_eq!((a.orphaned, a.stray), (0, 0));
    }

    #[test]
    fn a_continuation_before_its_first_fragment_is_stray() {
        // Sentences of one message come in order (IEC 61162-1): a
        // fragment 2 with no open message is dropped, never kept waiting
        // for a fragment 1 it may not belong to.
        let mut a = Assembler::new(AssemblerLimits::default());
        assert_eq!(
            a.add(key(b'A', 3), 2, b"stray", 1, None, None),
            Assembled::Stray
        );
        assert_eq!(a.pending(), 0);
        assert_eq!(
            a.add(key(b'A', 3), 1, b"first", 0, None, None),
            Assembled::Pending
        );
        assert_eq!(
            a.add(key(b'A', 3), 2, b"second", 3, None, None),
            Assembled::Complete { fill_bits: 3 }
        );
        assert_eq!(joined(&a), b"firstsecond");
        assert_eq!((a.orphaned, a.stray), (0, 1));
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
    fn repeated_continuation_is_stray_and_the_message_completes() {
        let mut k = key(b'A', 1);
        k.count = 3;
        let mut a = Assembler::new(AssemblerLimits::default());
        a.add(k, 1, b"1", 0, None, None);
        a.add(k, 2, b"2", 0, None, None);
        assert_eq!(a.add(k, 2, b"2", 0, None, None), Assembled::Stray);
        assert_eq!(
            a.add(k, 3, b"3", 0, None, None),
            Assembled::Complete { fill_bits: 0 }
        );
        assert_eq!(joined(&a), b"123");
        assert_eq!((a.orphaned, a.stray), (0, 1));
    }

    #[test]
    fn a_gap_drops_the_open_message() {
        let mut k = key(b'A', 1);
        k.count = 3;
        let mut a = Assembler::new(AssemblerLimits::default());
        a.add(k, 1, b"1", 0, None, None);
        // Fragment 2 was lost: 3 can never join, and nothing may later
        // fill the gap.
        assert_eq!(a.add(k, 3, b"3", 0, None, None), Assembled::Stray);
        assert_eq!(a.pending(), 0);
        assert_eq!(a.add(k, 2, b"x", 0, None, None), Assembled::Stray);
        assert_eq!((a.orphaned, a.stray), (1, 2));
    }

    #[test]
    fn tag_groups_join_whatever_else_the_tags_carry() {
        let mut a = Assembler::new(AssemblerLimits::default());
        // Two open messages with the same sentence fields, told apart by
        // their groups.
        a.add(
            grouped(b'A', 255, 42),
            1,
            b"x1",
            0,
            tag("g:1-2-42,s:rx1,c:1718431326"),
            None,
        );
        a.add(
            grouped(b'A', 255, 43),
            1,
            b"y1",
            0,
            tag("g:1-2-43,s:rx2,c:1718431327"),
            None,
        );
        assert_eq!(
            a.add(grouped(b'A', 255, 42), 2, b"x2", 0, tag("g:2-2-42"), None),
            Assembled::Complete { fill_bits: 0 }
        );
        assert_eq!(joined(&a), b"x1x2");
        let t = a.take_tag().unwrap();
        assert_eq!(t.source.as_deref(), Some("rx1"));
        assert_eq!(t.time, Some(1718431326));
        // A different group with the same sentence fields does not join.
        assert_eq!(
            a.add(grouped(b'A', 255, 44), 2, b"z2", 0, None, None),
            Assembled::Stray
        );
        assert_eq!(
            a.add(
                grouped(b'A', 255, 43),
                2,
                b"y2",
                0,
                tag("g:2-2-43,s:other"),
                None
            ),
            Assembled::Complete { fill_bits: 0 }
        );
        assert_eq!(joined(&a), b"y1y2");
        // The first fragment's station is authoritative.
        assert_eq!(a.take_tag().unwrap().source.as_deref(), Some("rx2"));
    }

    #[test]
    fn a_group_on_one_side_only_matches_on_the_sentence_fields() {
        let mut a = Assembler::new(AssemblerLimits::default());
        // `g:` on the first sentence only.
        a.add(grouped(b'B', 4, 42), 1, b"a1", 0, None, None);
        assert_eq!(
            a.add(key(b'B', 4), 2, b"a2", 0, None, None),
            Assembled::Complete { fill_bits: 0 }
        );
        // `g:` on the continuation only.
        a.add(key(b'B', 4), 1, b"b1", 0, None, None);
        assert_eq!(
            a.add(grouped(b'B', 4, 7), 2, b"b2", 0, None, None),
            Assembled::Complete { fill_bits: 0 }
        );
        assert_eq!(joined(&a), b"b1b2");
        // But never across a different sequence id or channel.
        a.add(grouped(b'B', 4, 42), 1, b"c1", 0, None, None);
        assert_eq!(
            a.add(key(b'B', 5), 2, b"?", 0, None, None),
            Assembled::Stray
        );
        assert_eq!(
            a.add(key(b'A', 4), 2, b"?", 0, None, None),
            Assembled::Stray
        );
        assert_eq!(a.pending(), 1);
    }

    #[test]
    fn the_same_group_wins_then_the_most_recent() {
        let mut a = Assembler::new(AssemblerLimits::default());
        a.add(grouped(b'A', 1, 9), 1, b"g1", 0, None, None);
        a.tick(None);
        a.add(key(b'A', 1), 1, b"n1", 0, None, None);
        a.tick(None);
        assert_eq!(a.pending(), 2);
        assert_eq!(
            a.add(grouped(b'A', 1, 9), 2, b"g2", 0, None, None),
            Assembled::Complete { fill_bits: 0 }
        );
        assert_eq!(joined(&a), b"g1g2");
        a.add(grouped(b'A', 1, 9), 1, b"h1", 0, None, None);
        a.tick(None);
        // Without a group of its own, a continuation follows the message
        // whose sentence came last.
        assert_eq!(
            a.add(key(b'A', 1), 2, b"h2", 0, None, None),
            Assembled::Complete { fill_bits: 0 }
        );
        assert_eq!(joined(&a), b"h1h2");
        assert_eq!(
            a.add(key(b'A', 1), 2, b"n2", 0, None, None),
            Assembled::Complete { fill_bits: 0 }
        );
        assert_eq!(joined(&a), b"n1n2");
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
        for i in 0..10_000u32 {
            let mut k = key(b'A', 1);
            k.source = i;
            a.add(k, 2, b"stray", 0, None, None);
            assert!(a.pending() <= 4);
        }
        assert!(a.stray >= 10_000 - 4);
    }
}
