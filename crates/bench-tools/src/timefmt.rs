//! RFC 3339 UTC times (`2026-11-28T06:10:02.000Z`, as Lookout and Signal K
//! write them) to UNIX milliseconds, without allocation: latency is
//! computed for every vessel of every update received.

/// Days from 1970-01-01 to a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn num(b: &[u8]) -> Option<i64> {
    let mut v = 0i64;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as i64;
    }
    Some(v)
}

/// Parse `YYYY-MM-DDTHH:MM:SS[.fff…]Z` to UNIX ms.
pub fn rfc3339_ms(s: &[u8]) -> Option<i64> {
    if s.len() < 20 || s[4] != b'-' || s[7] != b'-' || s[13] != b':' || s[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(&s[0..4])?, num(&s[5..7])?, num(&s[8..10])?);
    let (h, mi, se) = (num(&s[11..13])?, num(&s[14..16])?, num(&s[17..19])?);
    let mut ms = 0;
    if s[19] == b'.' {
        let frac: Vec<u8> = s[20..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .copied()
            .collect();
        let mut f = 0i64;
        for i in 0..3 {
            f = f * 10 + frac.get(i).map_or(0, |c| (c - b'0') as i64);
        }
        ms = f;
    }
    Some(((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60_000 + se * 1000 + ms)
}

/// Every value of `"key":"<time>"` in a JSON text, as UNIX ms, found by a
/// byte scan (no JSON parse).
pub fn scan_times<'a>(text: &'a [u8], key: &'a [u8]) -> impl Iterator<Item = i64> + 'a {
    let mut at = 0;
    std::iter::from_fn(move || loop {
        let rest = &text[at..];
        let i = find(rest, key)?;
        at += i + key.len();
        if let Some(t) = rfc3339_ms(&text[at..]) {
            return Some(t);
        }
    })
}

/// Position of `needle` in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    let first = needle[0];
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        match hay[i..].iter().position(|&b| b == first) {
            None => return None,
            Some(p) => {
                i += p;
                if i + needle.len() <= hay.len() && &hay[i..i + needle.len()] == needle {
                    return Some(i);
                }
                i += 1;
            }
        }
    }
    None
}

/// How many times `needle` occurs in `hay` (non-overlapping).
pub fn count(hay: &[u8], needle: &[u8]) -> usize {
    let mut n = 0;
    let mut at = 0;
    while let Some(i) = find(&hay[at..], needle) {
        n += 1;
        at += i + needle.len();
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_times() {
        assert_eq!(rfc3339_ms(b"1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            rfc3339_ms(b"2026-11-28T06:00:00.250Z"),
            Some(1_795_845_600_250)
        );
        assert_eq!(rfc3339_ms(b"2009-05-05T17:20:35Z"), Some(1_241_544_035_000));
    }

    #[test]
    fn scans() {
        let j = br#"{"vessels":[{"last_seen":"1970-01-01T00:00:01.5Z"},{"last_seen":"1970-01-01T00:00:02.000Z"}]}"#;
        let v: Vec<i64> = scan_times(j, b"\"last_seen\":\"").collect();
        assert_eq!(v, vec![1500, 2000]);
    }
}
