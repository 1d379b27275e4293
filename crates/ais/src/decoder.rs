//! The decoder: lines in, [`Decoded`] messages out.
//!
//! [`Decoder`] ties the pieces together in the order data flows: framing
//! ([`crate::nmea`]), TAG block ([`crate::tagblock`]), reassembly
//! ([`crate::assembler`]), de-armouring ([`crate::bits`]) and message decoding
//! ([`crate::messages`]). It is a plain state machine: no I/O, no clock, no
//! threads. Time, where it matters (fragment expiry), comes from the TAG
//! block `c:` or from the receive time the caller passes in.
//!
//! Every line is accounted for in [`DecodeStats`]: decoded, skipped as not
//! AIS, or rejected with a counted [`ErrorKind`]; every sentence of a
//! multi-sentence message ends in a message, a group dropped incomplete
//! (`orphaned_groups`) or a stray continuation (`stray_fragments`).
//!
//! Multi-sentence messages are put together by the rules of IEC 61162-1
//! (the sentences of a message come consecutively and in order, sharing
//! talker, channel and sequential message id) and NMEA 0183 v4.10 (a TAG
//! block `g:` group id ties the sentences of one message together when a
//! feed interleaves several receivers). A fragment's key is the caller's
//! feed ([`LineContext::source`]), talker, channel, sequence id, fragment
//! count and TAG group id; never the TAG block station `s:` or time `c:`,
//! which are often on the first sentence only. A continuation joins only
//! the open message that expects it next; anything else is dropped and
//! counted, so a message is never made of two messages' sentences. The
//! full rule is in [`crate::assembler`]. `lookout decode`, `serve` and
//! `replay` all decode through this one type.
//!
//! ```
//! use lookout_ais::{Decoder, DecoderOptions};
//! let mut decoder = Decoder::new(DecoderOptions::default());
//! let mut out = Vec::new();
//! decoder.decode_buffer(
//!     b"!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C\n\
//!       !AIVDM,2,2,1,A,88888888880,2*25\n",
//!     |m| out.push(m),
//! );
//! assert_eq!(out.len(), 1);
//! assert_eq!(out[0].message.msg_type, 5);
//! assert_eq!(decoder.stats().messages, 1);
//! ```

use crate::assembler::{Assembled, Assembler, AssemblerLimits, FragmentKey};
use crate::bits::{ArmorError, BitBuf};
use crate::messages::{decode_message, AisMessage, MessageError};
use crate::nmea::{parse_sentence, FrameError, FrameOptions, Sentence};
use crate::tagblock::{TagBlock, TagError};

/// Decoder configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DecoderOptions {
    /// Checksum policy.
    pub frame: FrameOptions,
    /// Reassembly bounds.
    pub assembler: AssemblerLimits,
    /// Keep each message's armoured payload in [`Decoded::payload`] (for
    /// re-broadcasting it); off by default: it costs an allocation per
    /// message.
    pub keep_payload: bool,
}

/// Per-line context the caller knows and the line does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LineContext {
    /// Which feed the line came from (a connection, a file being replayed);
    /// fragments from different sources never combine. It names the feed,
    /// not the station in a TAG block `s:`: the sentences of one message
    /// from one feed must have the same source.
    pub source: u32,
    /// Receive time, milliseconds since the UNIX epoch, used when the line
    /// has no TAG block time.
    pub received_ms: Option<i64>,
}

/// One decoded message with what the sentence said about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The message.
    pub message: AisMessage,
    /// Talker id of the (first) sentence: `AI`, `BS`, …
    pub talker: [u8; 2],
    /// Sent as `VDO`: the receiver's own ship.
    pub own_ship: bool,
    /// Radio channel as sent, if any.
    pub channel: Option<u8>,
    /// Number of sentences the message came in.
    pub fragments: u8,
    /// TAG block (merged over the message's sentences).
    pub tag: Option<TagBlock>,
    /// Hash of the armoured payload of all sentences: the same
    /// transmission heard by two receivers has the same hash.
    pub payload_hash: u64,
    /// The armoured payload as received, with
    /// [`DecoderOptions::keep_payload`] only.
    pub payload: Option<Box<RawPayload>>,
}

/// A message's armoured payload (all its sentences' payloads joined, six
/// bits a character) and its fill bits: exactly the bits that were sent,
/// whatever the message type, ready to be framed again
/// ([`crate::encode::frame_payload`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawPayload {
    pub armored: Box<[u8]>,
    pub fill_bits: u8,
}

impl Decoded {
    /// Message time: TAG block `c:` if present, else `received_ms`.
    pub fn time_ms(&self, received_ms: Option<i64>) -> Option<i64> {
        self.tag
            .as_ref()
            .and_then(TagBlock::unix_millis)
            .or(received_ms)
    }
}

/// Every way a line can be rejected, for counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    UnsupportedSentence,
    MissingFields,
    MissingChecksum,
    MalformedChecksum,
    BadChecksum,
    BadFragmentFields,
    BadFillBits,
    EmptyPayload,
    UnterminatedTagBlock,
    BadPayloadCharacter,
    PayloadTooLong,
    UnknownType,
    TooShort,
    BadPartNumber,
}

impl ErrorKind {
    /// All kinds, in a stable order.
    pub const ALL: [ErrorKind; 14] = [
        ErrorKind::UnsupportedSentence,
        ErrorKind::MissingFields,
        ErrorKind::MissingChecksum,
        ErrorKind::MalformedChecksum,
        ErrorKind::BadChecksum,
        ErrorKind::BadFragmentFields,
        ErrorKind::BadFillBits,
        ErrorKind::EmptyPayload,
        ErrorKind::UnterminatedTagBlock,
        ErrorKind::BadPayloadCharacter,
        ErrorKind::PayloadTooLong,
        ErrorKind::UnknownType,
        ErrorKind::TooShort,
        ErrorKind::BadPartNumber,
    ];

    /// A short stable name for statistics and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::UnsupportedSentence => "unsupported_sentence",
            ErrorKind::MissingFields => "missing_fields",
            ErrorKind::MissingChecksum => "missing_checksum",
            ErrorKind::MalformedChecksum => "malformed_checksum",
            ErrorKind::BadChecksum => "bad_checksum",
            ErrorKind::BadFragmentFields => "bad_fragment_fields",
            ErrorKind::BadFillBits => "bad_fill_bits",
            ErrorKind::EmptyPayload => "empty_payload",
            ErrorKind::UnterminatedTagBlock => "unterminated_tag_block",
            ErrorKind::BadPayloadCharacter => "bad_payload_character",
            ErrorKind::PayloadTooLong => "payload_too_long",
            ErrorKind::UnknownType => "unknown_type",
            ErrorKind::TooShort => "too_short",
            ErrorKind::BadPartNumber => "bad_part_number",
        }
    }
}

/// Why a line (or the message it completed) was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    Frame(FrameError),
    Armor(ArmorError),
    Message(MessageError),
}

impl DecodeError {
    /// The counted kind; `None` for lines that are simply not AIS.
    pub fn kind(self) -> Option<ErrorKind> {
        Some(match self {
            DecodeError::Frame(f) => match f {
                FrameError::NotAis => return None,
                FrameError::UnsupportedSentence => ErrorKind::UnsupportedSentence,
                FrameError::MissingFields => ErrorKind::MissingFields,
                FrameError::MissingChecksum => ErrorKind::MissingChecksum,
                FrameError::MalformedChecksum => ErrorKind::MalformedChecksum,
                FrameError::BadChecksum => ErrorKind::BadChecksum,
                FrameError::BadFragmentFields => ErrorKind::BadFragmentFields,
                FrameError::BadFillBits => ErrorKind::BadFillBits,
                FrameError::EmptyPayload => ErrorKind::EmptyPayload,
                FrameError::UnterminatedTagBlock => ErrorKind::UnterminatedTagBlock,
            },
            DecodeError::Armor(ArmorError::BadCharacter(_)) => ErrorKind::BadPayloadCharacter,
            DecodeError::Armor(ArmorError::TooLong) => ErrorKind::PayloadTooLong,
            DecodeError::Message(MessageError::UnknownType(_)) => ErrorKind::UnknownType,
            DecodeError::Message(MessageError::TooShort { .. }) => ErrorKind::TooShort,
            DecodeError::Message(MessageError::BadPartNumber(_)) => ErrorKind::BadPartNumber,
        })
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Frame(e) => write!(f, "framing: {}", e.as_str()),
            DecodeError::Armor(ArmorError::BadCharacter(c)) => {
                write!(
                    f,
                    "payload character {:?} is not 6-bit armouring",
                    *c as char
                )
            }
            DecodeError::Armor(ArmorError::TooLong) => write!(f, "payload too long"),
            DecodeError::Message(MessageError::UnknownType(t)) => {
                write!(f, "unknown message type {t}")
            }
            DecodeError::Message(MessageError::TooShort { msg_type, bits }) => {
                write!(f, "type {msg_type} message too short ({bits} bits)")
            }
            DecodeError::Message(MessageError::BadPartNumber(p)) => {
                write!(f, "type 24 part number {p} is neither A nor B")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// Counters of everything the decoder has seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Non-blank lines.
    pub lines: u64,
    /// Lines that held no AIS sentence (comments, `$` sentences, junk).
    pub non_ais: u64,
    /// AIS sentences framed successfully.
    pub sentences: u64,
    /// Messages decoded.
    pub messages: u64,
    /// Messages by type (index = type; 0 unused).
    pub by_type: [u64; 28],
    /// Rejections by [`ErrorKind`] (index = position in [`ErrorKind::ALL`]).
    pub errors: [u64; 14],
    /// TAG blocks ignored for a bad checksum or form (the sentence itself
    /// was still decoded).
    pub tag_errors: u64,
    /// Multi-sentence groups dropped incomplete.
    pub orphaned_groups: u64,
    /// Of those, evicted because too many groups were pending.
    pub evicted_groups: u64,
    /// Continuation sentences dropped because they belonged to no open
    /// group (their first sentence was lost, or they repeat or skip a
    /// sentence).
    pub stray_fragments: u64,
}

impl DecodeStats {
    /// Count for one error kind.
    pub fn error_count(&self, kind: ErrorKind) -> u64 {
        self.errors[kind as usize]
    }

    /// Total rejected.
    pub fn total_errors(&self) -> u64 {
        self.errors.iter().sum()
    }

    /// `(name, count)` for each non-zero error kind.
    pub fn error_counts(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        ErrorKind::ALL
            .iter()
            .map(|k| (k.as_str(), self.errors[*k as usize]))
            .filter(|(_, n)| *n > 0)
    }
}

/// Streaming AIS decoder. Keep one per process or per feed; it holds the
/// partial multi-sentence messages.
pub struct Decoder {
    opts: DecoderOptions,
    bits: BitBuf,
    assembler: Assembler,
    stats: DecodeStats,
    /// The last TAG block's content and what it parsed to. Consecutive
    /// lines of a feed usually carry the same TAG block (same station, same
    /// second), so it is parsed once and cloned after.
    last_tag: Option<(Vec<u8>, Result<TagBlock, TagError>)>,
}

/// Longest TAG block content worth keeping in the one-entry cache.
const TAG_CACHE_MAX: usize = 128;

/// Hash of payload bytes: eight bytes at a time with a multiply-rotate mix
/// (FxHash-style). Stable across runs and platforms, so replays are
/// deterministic; 64 bits make accidental collisions between different
/// transmissions negligible for duplicate suppression.
#[inline]
fn mix_hash(seed: u64, bytes: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = seed;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        h = (h.rotate_left(5) ^ u64::from_le_bytes(c.try_into().unwrap())).wrapping_mul(K);
    }
    let rem = chunks.remainder();
    if !rem.is_empty() {
        let mut w = [0u8; 8];
        w[..rem.len()].copy_from_slice(rem);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    (h.rotate_left(5) ^ bytes.len() as u64).wrapping_mul(K)
}
const HASH_SEED: u64 = 0xcbf2_9ce4_8422_2325;

impl Decoder {
    /// A decoder with the given options.
    pub fn new(opts: DecoderOptions) -> Self {
        Decoder {
            opts,
            bits: BitBuf::new(),
            assembler: Assembler::new(opts.assembler),
            stats: DecodeStats::default(),
            last_tag: None,
        }
    }

    /// Parse a TAG block, through the one-entry cache.
    fn parse_tag(&mut self, raw: &[u8]) -> Result<TagBlock, TagError> {
        if let Some((content, parsed)) = &self.last_tag {
            if content.as_slice() == raw {
                return parsed.clone();
            }
        }
        let parsed = TagBlock::parse(raw);
        if raw.len() <= TAG_CACHE_MAX {
            match &mut self.last_tag {
                Some((content, slot)) => {
                    content.clear();
                    content.extend_from_slice(raw);
                    *slot = parsed.clone();
                }
                None => self.last_tag = Some((raw.to_vec(), parsed.clone())),
            }
        }
        parsed
    }

    /// Turn [`DecoderOptions::keep_payload`] on or off from now on.
    pub fn set_keep_payload(&mut self, on: bool) {
        self.opts.keep_payload = on;
    }

    /// Counters so far.
    pub fn stats(&self) -> &DecodeStats {
        &self.stats
    }

    /// Multi-sentence groups waiting for more fragments.
    pub fn pending_groups(&self) -> usize {
        self.assembler.pending()
    }

    /// Decode every line in `buf` (LF or CRLF separated) with a default
    /// context.
    pub fn decode_buffer(&mut self, buf: &[u8], mut sink: impl FnMut(Decoded)) {
        let ctx = LineContext::default();
        for line in buf.split(|&c| c == b'\n') {
            let _ = self.decode_line_with(line, &ctx, &mut sink);
        }
    }

    /// Decode one line with a default context.
    pub fn decode_line(
        &mut self,
        line: &[u8],
        sink: impl FnMut(Decoded),
    ) -> Result<(), DecodeError> {
        self.decode_line_with(line, &LineContext::default(), sink)
    }

    /// Decode one line. A line may hold several sentences; each completed
    /// message goes to `sink`. Returns the last rejection, if any (it is
    /// also counted in [`Decoder::stats`]).
    pub fn decode_line_with(
        &mut self,
        line: &[u8],
        ctx: &LineContext,
        mut sink: impl FnMut(Decoded),
    ) -> Result<(), DecodeError> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        self.stats.lines += 1;
        let mut rest = line;
        let mut first = true;
        let mut result = Ok(());
        while !rest.is_empty() {
            match parse_sentence(rest, &self.opts.frame) {
                Ok((s, next)) => {
                    if let Err(e) = self.sentence(&s, ctx, &mut sink) {
                        self.count(e);
                        result = Err(e);
                    }
                    rest = next;
                }
                Err(FrameError::NotAis) => {
                    if first {
                        self.stats.non_ais += 1;
                        result = Err(DecodeError::Frame(FrameError::NotAis));
                    }
                    break;
                }
                Err(e) => {
                    let e = DecodeError::Frame(e);
                    self.count(e);
                    result = Err(e);
                    break;
                }
            }
            first = false;
        }
        self.stats.orphaned_groups = self.assembler.orphaned;
        self.stats.evicted_groups = self.assembler.evicted;
        self.stats.stray_fragments = self.assembler.stray;
        result
    }

    fn count(&mut self, e: DecodeError) {
        if let Some(k) = e.kind() {
            self.stats.errors[k as usize] += 1;
        }
    }

    fn sentence(
        &mut self,
        s: &Sentence<'_>,
        ctx: &LineContext,
        sink: &mut impl FnMut(Decoded),
    ) -> Result<(), DecodeError> {
        self.stats.sentences += 1;
        let mut tag = None;
        if let Some(raw) = s.tag {
            match self.parse_tag(raw) {
                Ok(t) => tag = Some(t),
                Err(_) => self.stats.tag_errors += 1,
            }
        }
        if s.tag_invalid {
            self.stats.tag_errors += 1;
        }
        let now_ms = tag
            .as_ref()
            .and_then(TagBlock::unix_millis)
            .or(ctx.received_ms);
        self.assembler.tick(now_ms);

        let payload_hash;
        let mut payload = None;
        if s.fragment_count == 1 {
            self.bits.clear();
            self.bits
                .push_armored(s.payload)
                .map_err(DecodeError::Armor)?;
            self.bits.finish(s.fill_bits);
            payload_hash = mix_hash(HASH_SEED, s.payload);
            if self.opts.keep_payload {
                payload = Some(Box::new(RawPayload {
                    armored: s.payload.into(),
                    fill_bits: s.fill_bits,
                }));
            }
        } else {
            // The key is what every sentence of the message carries: the
            // feed, the sentence fields and, when present, the TAG group
            // id. Never the TAG station `s:` or time `c:`, which are often
            // on the first sentence only (see `crate::assembler`).
            let key = FragmentKey {
                source: ctx.source,
                talker: s.talker,
                channel: s.channel.unwrap_or(0),
                sequence: s.sequence_id.unwrap_or(255),
                count: s.fragment_count,
                group: tag.as_ref().and_then(|t| t.group).map(|g| g.id),
            };
            match self
                .assembler
                .add(key, s.fragment_number, s.payload, s.fill_bits, tag, now_ms)
            {
                Assembled::Pending | Assembled::Restarted | Assembled::Stray => return Ok(()),
                Assembled::Complete { fill_bits } => {
                    self.bits.clear();
                    let mut h = HASH_SEED;
                    for part in self.assembler.parts() {
                        self.bits.push_armored(part).map_err(DecodeError::Armor)?;
                        h = mix_hash(h, part);
                    }
                    self.bits.finish(fill_bits);
                    payload_hash = h;
                    if self.opts.keep_payload {
                        let armored: Vec<u8> = self.assembler.parts().flatten().copied().collect();
                        payload = Some(Box::new(RawPayload {
                            armored: armored.into(),
                            fill_bits,
                        }));
                    }
                    tag = self.assembler.take_tag();
                }
            }
        }
        let message = decode_message(&self.bits).map_err(DecodeError::Message)?;
        self.stats.messages += 1;
        self.stats.by_type[message.msg_type as usize] += 1;
        sink(Decoded {
            message,
            talker: s.talker,
            own_ship: s.own_ship,
            channel: s.channel,
            fragments: s.fragment_count,
            tag,
            payload_hash,
            payload,
        });
        Ok(())
    }
}
