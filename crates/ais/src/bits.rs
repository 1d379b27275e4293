//! De-armoured AIS payload bits and field extraction.
//!
//! AIS payloads travel as "armoured" ASCII: each character carries six bits
//! (ITU-R M.1371, IEC 61162-1). [`BitBuf`] turns one or more payload strings
//! into a big-endian bit array and reads unsigned, signed and 6-bit-text fields
//! at arbitrary bit offsets. It never allocates while de-armouring and never
//! panics on reads past the end: bits beyond the message read as zero, so the
//! message decoders only need to check lengths where the standard makes a
//! field optional.
//!
//! ```
//! use lookout_ais::bits::BitBuf;
//! let mut bits = BitBuf::new();
//! bits.push_armored(b"15RTgt0PAso;90TKcjM8h6g208CQ").unwrap();
//! bits.finish(0);
//! assert_eq!(bits.len(), 168);
//! assert_eq!(bits.u(0, 6), 1); // message type
//! assert_eq!(bits.u(8, 30), 371_798_000); // MMSI
//! ```

/// Largest payload the decoder accepts, in bits. AIS messages are at most
/// five slots (1008 bits); receivers that concatenate more are rejected
/// rather than allowed to grow memory.
pub const MAX_BITS: usize = 2048;
const MAX_BYTES: usize = MAX_BITS / 8;
/// Slack after the data so an 8-byte window read never leaves the array.
const SLACK: usize = 8;

/// Why a payload could not be de-armoured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArmorError {
    /// A character outside the AIS 6-bit armouring alphabet.
    BadCharacter(u8),
    /// More than [`MAX_BITS`] bits.
    TooLong,
}

/// A de-armoured AIS payload.
#[derive(Clone)]
pub struct BitBuf {
    bytes: [u8; MAX_BYTES + SLACK],
    /// Bytes written so far (whole bytes; a partial byte is in `acc`).
    byte_len: usize,
    /// Bytes that may be non-zero from an earlier message (cleared lazily).
    dirty: usize,
    acc: u32,
    acc_bits: u32,
    chars: usize,
    len_bits: usize,
}

impl Default for BitBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for BitBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BitBuf")
            .field("len_bits", &self.len_bits)
            .finish()
    }
}

/// Value of one armoured character, or `None` when it is not in the alphabet
/// (`0`..=`W` and `` ` ``..=`w`).
#[inline(always)]
pub fn sixbit_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'W' => Some(c - 48),
        b'`'..=b'w' => Some(c - 56),
        _ => None,
    }
}

/// Armoured character to its 6-bit value; 0xFF for characters outside the
/// alphabet.
static DEARMOR: [u8; 256] = {
    let mut t = [0xFFu8; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = match c as u8 {
            b'0'..=b'W' => c as u8 - 48,
            b'`'..=b'w' => c as u8 - 56,
            _ => 0xFF,
        };
        c += 1;
    }
    t
};

/// The 6-bit text alphabet of ITU-R M.1371 table 47.
const SIXBIT_ASCII: &[u8; 64] =
    b"@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_ !\"#$%&'()*+,-./0123456789:;<=>?";

impl BitBuf {
    /// An empty buffer.
    pub const fn new() -> Self {
        BitBuf {
            bytes: [0; MAX_BYTES + SLACK],
            byte_len: 0,
            dirty: 0,
            acc: 0,
            acc_bits: 0,
            chars: 0,
            len_bits: 0,
        }
    }

    /// Forget the previous message. Only the bytes it touched are zeroed.
    #[inline]
    pub fn clear(&mut self) {
        let dirty = self.dirty.min(self.bytes.len());
        self.bytes[..dirty].fill(0);
        self.byte_len = 0;
        self.dirty = 0;
        self.acc = 0;
        self.acc_bits = 0;
        self.chars = 0;
        self.len_bits = 0;
    }

    /// Append armoured characters (one sentence's payload field).
    #[inline]
    pub fn push_armored(&mut self, payload: &[u8]) -> Result<(), ArmorError> {
        if (self.chars + payload.len()) * 6 > MAX_BITS {
            return Err(ArmorError::TooLong);
        }
        let mut acc = self.acc as u64;
        let mut acc_bits = self.acc_bits;
        let mut pos = self.byte_len;
        // Four characters make 24 bits: three whole bytes, whatever the
        // number of bits already waiting in the accumulator (< 8).
        let mut quads = payload.chunks_exact(4);
        for q in &mut quads {
            let (a, b, c, d) = (
                DEARMOR[q[0] as usize],
                DEARMOR[q[1] as usize],
                DEARMOR[q[2] as usize],
                DEARMOR[q[3] as usize],
            );
            if (a | b | c | d) & 0xC0 != 0 {
                self.byte_len = pos;
                self.dirty = self.dirty.max(pos + 1);
                let bad = q.iter().find(|&&ch| DEARMOR[ch as usize] & 0xC0 != 0);
                return Err(ArmorError::BadCharacter(*bad.unwrap_or(&q[0])));
            }
            let v = (a as u64) << 18 | (b as u64) << 12 | (c as u64) << 6 | d as u64;
            acc = (acc << 24) | v;
            let out = (acc >> acc_bits) as u32;
            if let Some(dst) = self.bytes.get_mut(pos..pos + 3) {
                dst.copy_from_slice(&out.to_be_bytes()[1..]);
            }
            pos += 3;
            acc &= (1 << acc_bits) - 1;
        }
        for &ch in quads.remainder() {
            let v = DEARMOR[ch as usize];
            if v & 0xC0 != 0 {
                self.byte_len = pos;
                self.dirty = self.dirty.max(pos + 1);
                return Err(ArmorError::BadCharacter(ch));
            }
            acc = (acc << 6) | v as u64;
            acc_bits += 6;
            if acc_bits >= 8 {
                acc_bits -= 8;
                self.bytes[pos] = (acc >> acc_bits) as u8;
                pos += 1;
                acc &= (1 << acc_bits) - 1;
            }
        }
        self.acc = acc as u32;
        self.acc_bits = acc_bits;
        self.byte_len = pos;
        self.chars += payload.len();
        self.dirty = self.dirty.max(pos + 1);
        Ok(())
    }

    /// Close the payload: flush the partial byte and drop `fill` padding bits
    /// (0–5) from the end. Padding bits are zeroed so they never leak into
    /// fields or hex dumps.
    #[inline]
    pub fn finish(&mut self, fill: u8) {
        if self.acc_bits > 0 {
            self.bytes[self.byte_len] = (self.acc << (8 - self.acc_bits)) as u8;
        }
        let total = self.chars * 6;
        let fill = (fill as usize).min(total);
        self.len_bits = total - fill;
        // Zero the padding bits and anything after them in the last byte.
        let last = self.len_bits / 8;
        let rem = self.len_bits % 8;
        if rem != 0 {
            self.bytes[last] &= 0xFFu8 << (8 - rem);
            for b in &mut self.bytes[last + 1..(self.byte_len + 1).min(MAX_BYTES + SLACK)] {
                *b = 0;
            }
        } else {
            for b in &mut self.bytes[last..(self.byte_len + 1).min(MAX_BYTES + SLACK)] {
                *b = 0;
            }
        }
    }

    /// Number of payload bits after removing fill bits.
    #[inline]
    pub fn len(&self) -> usize {
        self.len_bits
    }

    /// True when no bits are held.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len_bits == 0
    }

    /// Unsigned field of `width` bits (1..=57) at bit `start`. Bits past the
    /// end of the message read as zero.
    #[inline(always)]
    pub fn u(&self, start: usize, width: u32) -> u64 {
        debug_assert!((1..=57).contains(&width));
        let b = start >> 3;
        match self.bytes.get(b..b + 8) {
            Some(w) => {
                let w = u64::from_be_bytes(w.try_into().unwrap());
                (w << (start & 7)) >> (64 - width)
            }
            None => 0,
        }
    }

    /// Two's-complement signed field of `width` bits at bit `start`.
    #[inline(always)]
    pub fn i(&self, start: usize, width: u32) -> i64 {
        let v = self.u(start, width) as i64;
        let shift = 64 - width;
        (v << shift) >> shift
    }

    /// Boolean (1-bit) field.
    #[inline(always)]
    pub fn flag(&self, start: usize) -> bool {
        self.u(start, 1) == 1
    }

    /// `nchars` characters of 6-bit text at bit `start`, with trailing `@`
    /// (the padding character) and spaces trimmed. Characters that run past
    /// the end of the message are not read.
    pub fn text(&self, start: usize, nchars: usize) -> String {
        let avail = self.len_bits.saturating_sub(start) / 6;
        let n = nchars.min(avail);
        let mut s = Vec::with_capacity(n);
        for k in 0..n {
            s.push(SIXBIT_ASCII[self.u(start + 6 * k, 6) as usize]);
        }
        while let Some(b'@' | b' ') = s.last() {
            s.pop();
        }
        // The alphabet is ASCII, so this never fails.
        String::from_utf8(s).unwrap_or_default()
    }

    /// The bits `start..start+nbits` (clamped to the message) packed
    /// big-endian into bytes, the last byte padded with zero bits.
    pub fn bytes_from(&self, start: usize, nbits: usize) -> Vec<u8> {
        let nbits = nbits.min(self.len_bits.saturating_sub(start));
        let mut out = Vec::with_capacity(nbits.div_ceil(8));
        let mut off = 0;
        while off < nbits {
            let take = (nbits - off).min(8) as u32;
            out.push((self.u(start + off, take) << (8 - take)) as u8);
            off += 8;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn armored(s: &str, fill: u8) -> BitBuf {
        let mut b = BitBuf::new();
        b.push_armored(s.as_bytes()).unwrap();
        b.finish(fill);
        b
    }

    #[test]
    fn every_alphabet_character_round_trips() {
        for v in 0u8..64 {
            let c = if v < 40 { v + 48 } else { v + 56 };
            assert_eq!(sixbit_value(c), Some(v));
            let b = armored(std::str::from_utf8(&[c]).unwrap(), 0);
            assert_eq!(b.u(0, 6), v as u64);
        }
        assert_eq!(sixbit_value(b'X'), None);
        assert_eq!(sixbit_value(b'_'), None);
        assert_eq!(sixbit_value(b'x'), None);
    }

    #[test]
    fn fill_bits_are_removed_and_zeroed() {
        let b = armored("w", 2); // 111111, last two bits are fill
        assert_eq!(b.len(), 4);
        assert_eq!(b.u(0, 6), 0b111100);
    }

    #[test]
    fn signed_fields_sign_extend() {
        // 6 bits all ones = -1
        let b = armored("w", 0);
        assert_eq!(b.i(0, 6), -1);
        assert_eq!(b.i(0, 3), -1);
        assert_eq!(b.i(1, 2), -1);
    }

    #[test]
    fn reads_past_the_end_are_zero_and_never_panic() {
        let b = armored("w", 0);
        assert_eq!(b.u(6, 30), 0);
        assert_eq!(b.u(MAX_BITS + 100, 30), 0);
        assert_eq!(b.text(0, 20), "?");
    }

    #[test]
    fn clear_forgets_previous_message() {
        let mut b = armored("wwwwwwwwww", 0);
        b.clear();
        b.push_armored(b"0").unwrap();
        b.finish(0);
        assert_eq!(b.u(0, 57), 0);
    }

    #[test]
    fn too_long_payload_is_rejected() {
        let mut b = BitBuf::new();
        let long = vec![b'0'; MAX_BITS / 6 + 1];
        assert_eq!(b.push_armored(&long), Err(ArmorError::TooLong));
    }

    #[test]
    fn text_trims_trailing_padding_but_keeps_inner_characters() {
        // "AB@ C@@" : A=1 B=2 @=0 space=32 C=3
        let mut b = BitBuf::new();
        for v in [1u8, 2, 0, 32, 3, 0, 0, 32] {
            let c = if v < 40 { v + 48 } else { v + 56 };
            b.push_armored(&[c]).unwrap();
        }
        b.finish(0);
        assert_eq!(b.text(0, 8), "AB@ C");
    }
}
