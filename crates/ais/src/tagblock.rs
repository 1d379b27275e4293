//! NMEA 4.10 TAG blocks: `\s:station,c:unixtime,g:1-2-42*hh\` in front of a
//! sentence.
//!
//! National networks (and Lookout's own recorder) use TAG blocks to say which
//! station heard a sentence and when, and to group the sentences of a
//! multi-sentence message. Both the standard `g:1-2-42` form and the
//! `1G2:42` form some networks send are understood. Keys this parser does not
//! know are kept, not rejected.
//!
//! ```
//! use lookout_ais::tagblock::TagBlock;
//! let tag = TagBlock::parse(b"g:1-2-27300,n:636994,s:b003669710,c:1428621738").unwrap();
//! assert_eq!(tag.source.as_deref(), Some("b003669710"));
//! assert_eq!(tag.time, Some(1428621738));
//! assert_eq!(tag.group.unwrap().id, 27300);
//! ```

/// Sentence grouping from a TAG block (`g:` or `xGy:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TagGroup {
    /// This sentence's number in the group (1-based).
    pub sentence: u8,
    /// Sentences in the group.
    pub total: u8,
    /// Group id, unique per source for a while.
    pub id: u32,
}

/// A parsed TAG block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagBlock {
    /// `s:` source/station identifier.
    pub source: Option<String>,
    /// `c:` UNIX time as sent: seconds, or milliseconds for values of 10^11
    /// and above (see [`TagBlock::unix_millis`]).
    pub time: Option<i64>,
    /// `g:` (or `xGy:`) sentence grouping.
    pub group: Option<TagGroup>,
    /// `n:` line count.
    pub line_count: Option<u64>,
    /// `d:` destination.
    pub destination: Option<String>,
    /// `t:` free text.
    pub text: Option<String>,
    /// `r:` relative time.
    pub relative_time: Option<i64>,
    /// Keys this parser does not interpret, kept in order.
    pub other: Vec<(String, String)>,
}

/// Why a TAG block could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagError {
    /// Its checksum did not match.
    BadChecksum,
    /// A field without `key:value` form.
    MalformedField,
    /// A known key with a value of the wrong form (e.g. `c:abc`).
    BadValue,
}

/// A decimal integer (optional sign, then 1–18 digits), as `str::parse`
/// would accept it, without the UTF-8 check and the generic parser: TAG
/// times are parsed on every line of a feed.
fn parse_int<T: TryFrom<i64>>(v: &[u8]) -> Result<T, TagError> {
    let (neg, digits) = match v.first() {
        Some(b'-') => (true, &v[1..]),
        Some(b'+') => (false, &v[1..]),
        _ => (false, v),
    };
    // 18 digits always fit an i64; longer values are not TAG values.
    if digits.is_empty() || digits.len() > 18 {
        return Err(TagError::BadValue);
    }
    let mut n: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return Err(TagError::BadValue);
        }
        n = n * 10 + (d - b'0') as i64;
    }
    T::try_from(if neg { -n } else { n }).map_err(|_| TagError::BadValue)
}

fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}

impl TagBlock {
    /// Parse TAG block content (without backslashes and checksum).
    pub fn parse(content: &[u8]) -> Result<TagBlock, TagError> {
        let mut tag = TagBlock::default();
        for field in content.split(|&c| c == b',') {
            if field.is_empty() {
                continue;
            }
            let colon = memchr::memchr(b':', field).ok_or(TagError::MalformedField)?;
            let (key, value) = (&field[..colon], &field[colon + 1..]);
            match key {
                b"s" => tag.source = Some(text(value)),
                b"c" => tag.time = Some(parse_time(value)?),
                b"n" => tag.line_count = Some(parse_int(value)?),
                b"d" => tag.destination = Some(text(value)),
                b"t" => tag.text = Some(text(value)),
                b"r" => tag.relative_time = Some(parse_int(value)?),
                b"g" => {
                    let mut parts = value.split(|&c| c == b'-');
                    let (Some(a), Some(b), Some(c), None) =
                        (parts.next(), parts.next(), parts.next(), parts.next())
                    else {
                        return Err(TagError::BadValue);
                    };
                    tag.group = Some(group(parse_int(a)?, parse_int(b)?, parse_int(c)?)?);
                }
                _ => {
                    // `1G2:4013`: sentence 1 of 2 in group 4013.
                    if let Some(gpos) = key.iter().position(|&c| c == b'G') {
                        let (a, b) = (&key[..gpos], &key[gpos + 1..]);
                        if let (Ok(n), Ok(t)) = (parse_int(a), parse_int(b)) {
                            tag.group = Some(group(n, t, parse_int(value)?)?);
                            continue;
                        }
                    }
                    tag.other.push((text(key), text(value)));
                }
            }
        }
        Ok(tag)
    }

    /// The `c:` time in milliseconds since the UNIX epoch.
    pub fn unix_millis(&self) -> Option<i64> {
        self.time.map(|t| {
            if t.unsigned_abs() >= 100_000_000_000 {
                t
            } else {
                t.saturating_mul(1000)
            }
        })
    }

    /// Fill fields missing here from `other` (the TAG blocks of later
    /// sentences of the same message usually carry only the group).
    pub fn merge_missing(&mut self, other: &TagBlock) {
        if self.source.is_none() {
            self.source.clone_from(&other.source);
        }
        if self.time.is_none() {
            self.time = other.time;
        }
        if self.destination.is_none() {
            self.destination.clone_from(&other.destination);
        }
        if self.text.is_none() {
            self.text.clone_from(&other.text);
        }
        if self.relative_time.is_none() {
            self.relative_time = other.relative_time;
        }
    }
}

fn group(sentence: u8, total: u8, id: u32) -> Result<TagGroup, TagError> {
    if sentence == 0 || total == 0 || sentence > total {
        return Err(TagError::BadValue);
    }
    Ok(TagGroup {
        sentence,
        total,
        id,
    })
}

/// `c:` is an integer; some writers add a fraction of a second, which is
/// kept as milliseconds.
fn parse_time(v: &[u8]) -> Result<i64, TagError> {
    match memchr::memchr(b'.', v) {
        None => parse_int(v),
        Some(dot) => {
            let secs: i64 = parse_int(&v[..dot])?;
            let frac = &v[dot + 1..];
            if frac.is_empty() || frac.len() > 9 || !frac.iter().all(u8::is_ascii_digit) {
                return Err(TagError::BadValue);
            }
            let mut ms = 0i64;
            for k in 0..3 {
                ms = ms * 10 + frac.get(k).map_or(0, |d| (d - b'0') as i64);
            }
            Ok(secs.saturating_mul(1000).saturating_add(ms))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_parse_like_str_parse() {
        assert_eq!(parse_int::<i64>(b"1241544035"), Ok(1_241_544_035));
        assert_eq!(parse_int::<i64>(b"-42"), Ok(-42));
        assert_eq!(parse_int::<i64>(b"+7"), Ok(7));
        assert_eq!(parse_int::<u8>(b"255"), Ok(255));
        for bad in [&b""[..], b"-", b"12a", b" 1", b"1.5", b"0x10"] {
            assert_eq!(parse_int::<i64>(bad), Err(TagError::BadValue), "{bad:?}");
        }
        assert_eq!(parse_int::<u8>(b"256"), Err(TagError::BadValue));
        assert_eq!(parse_int::<u64>(b"-1"), Err(TagError::BadValue));
        assert_eq!(
            parse_int::<i64>(b"1234567890123456789"),
            Err(TagError::BadValue),
            "more digits than a TAG value has"
        );
    }

    #[test]
    fn parses_every_standard_key_and_keeps_unknown_ones() {
        let t = TagBlock::parse(b"s:r003669945,c:1241544035,n:157036,d:ABC,t:hello,r:42,x:y,zz:1")
            .unwrap();
        assert_eq!(t.source.as_deref(), Some("r003669945"));
        assert_eq!(t.time, Some(1241544035));
        assert_eq!(t.unix_millis(), Some(1_241_544_035_000));
        assert_eq!(t.line_count, Some(157036));
        assert_eq!(t.destination.as_deref(), Some("ABC"));
        assert_eq!(t.text.as_deref(), Some("hello"));
        assert_eq!(t.relative_time, Some(42));
        assert_eq!(
            t.other,
            vec![("x".into(), "y".into()), ("zz".into(), "1".into())]
        );
    }

    #[test]
    fn both_group_forms() {
        let a = TagBlock::parse(b"g:2-3-4013").unwrap().group.unwrap();
        let b = TagBlock::parse(b"2G3:4013,s:x").unwrap().group.unwrap();
        assert_eq!(a, b);
        assert_eq!(
            a,
            TagGroup {
                sentence: 2,
                total: 3,
                id: 4013
            }
        );
        assert_eq!(TagBlock::parse(b"g:3-2-1"), Err(TagError::BadValue));
        assert_eq!(TagBlock::parse(b"g:1-2"), Err(TagError::BadValue));
    }

    #[test]
    fn bad_values_and_fields_are_errors() {
        assert_eq!(TagBlock::parse(b"c:abc"), Err(TagError::BadValue));
        assert_eq!(TagBlock::parse(b"nonsense"), Err(TagError::MalformedField));
    }

    #[test]
    fn millisecond_times() {
        let t = TagBlock::parse(b"c:1733782034123").unwrap();
        assert_eq!(t.unix_millis(), Some(1_733_782_034_123));
        let t = TagBlock::parse(b"c:1733782034.5").unwrap();
        assert_eq!(t.unix_millis(), Some(1_733_782_034_500));
    }
}
