//! UTC time helpers for archive file names and `--from`/`--to` arguments.
//!
//! Archive files are named by the UTC start of their period in a compact
//! form that sorts in time order (`20261128T0100Z`); the replay reader
//! parses those names back, and accepts times on the command line as RFC
//! 3339 (`2026-11-28T01:00:00Z`, with an optional fraction or `±hh:mm`
//! offset), a date (`2026-11-28`, midnight UTC), the compact form, or a
//! UNIX time (seconds, or milliseconds for values of 10^11 and above).

use chrono::{DateTime, Datelike, NaiveDate, Timelike};

/// `YYYYMMDDTHHMMZ` for a time in ms since the epoch (UTC).
pub fn format_compact(ms: i64) -> String {
    match DateTime::from_timestamp_millis(ms) {
        Some(t) => format!(
            "{:04}{:02}{:02}T{:02}{:02}Z",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute()
        ),
        None => "00000000T0000Z".to_string(),
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for a time in ms since the epoch.
pub fn format_rfc3339(ms: i64) -> String {
    match DateTime::from_timestamp_millis(ms) {
        Some(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.timestamp_subsec_millis()
        ),
        None => format!("@{ms}ms"),
    }
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn ymd_hms_ms(y: u32, mo: u32, d: u32, h: u32, mi: u32, s: u32, ms: u32) -> Option<i64> {
    let date = NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, mo, d)?;
    let t = date.and_hms_milli_opt(h, mi, s, ms)?;
    Some(t.and_utc().timestamp_millis())
}

/// Parse `YYYYMMDDTHHMM[SS]Z`.
pub fn parse_compact(s: &str) -> Option<i64> {
    let s = s.strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    if date.len() != 8 || !(time.len() == 4 || time.len() == 6) || !s.is_ascii() {
        return None;
    }
    let sec = if time.len() == 6 {
        num(&time[4..6])?
    } else {
        0
    };
    ymd_hms_ms(
        num(&date[..4])?,
        num(&date[4..6])?,
        num(&date[6..8])?,
        num(&time[..2])?,
        num(&time[2..4])?,
        sec,
        0,
    )
}

/// Parse an RFC 3339 time, a date, the compact form or a UNIX time.
pub fn parse_time(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let bad = || {
        format!("cannot read {s:?} as a time (use e.g. 2026-11-28T01:00:00Z, 2026-11-28 or UNIX seconds)")
    };
    if !s.is_ascii() || s.is_empty() {
        return Err(bad());
    }
    // A plain (non-negative) number: UNIX seconds or milliseconds.
    if s.bytes().all(|b| b.is_ascii_digit()) {
        let v: i64 = s.parse().map_err(|_| bad())?;
        return Ok(if v >= 100_000_000_000 {
            v
        } else {
            v.saturating_mul(1000)
        });
    }
    if let Some(t) = parse_compact(s) {
        return Ok(t);
    }
    // Date part.
    if s.len() < 10 || &s[4..5] != "-" || &s[7..8] != "-" {
        return Err(bad());
    }
    let (y, mo, d) = (
        num(&s[..4]).ok_or_else(bad)?,
        num(&s[5..7]).ok_or_else(bad)?,
        num(&s[8..10]).ok_or_else(bad)?,
    );
    let rest = &s[10..];
    if rest.is_empty() {
        return ymd_hms_ms(y, mo, d, 0, 0, 0, 0).ok_or_else(bad);
    }
    let rest = rest
        .strip_prefix('T')
        .or_else(|| rest.strip_prefix('t'))
        .or_else(|| rest.strip_prefix(' '))
        .ok_or_else(bad)?;
    // Offset: Z, or ±hh:mm at the end.
    let (clock, offset_min) = if let Some(c) = rest.strip_suffix('Z').or(rest.strip_suffix('z')) {
        (c, 0i64)
    } else if rest.len() > 6 && matches!(&rest[rest.len() - 6..rest.len() - 5], "+" | "-") {
        let off = &rest[rest.len() - 6..];
        if &off[3..4] != ":" {
            return Err(bad());
        }
        let m = i64::from(num(&off[1..3]).ok_or_else(bad)?) * 60
            + i64::from(num(&off[4..6]).ok_or_else(bad)?);
        (
            &rest[..rest.len() - 6],
            if off.starts_with('-') { -m } else { m },
        )
    } else {
        return Err(bad());
    };
    let (hms, frac) = match clock.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (clock, None),
    };
    let parts: Vec<&str> = hms.split(':').collect();
    let (h, mi, sec) = match parts.as_slice() {
        [h, m] => (num(h), num(m), Some(0)),
        [h, m, s] => (num(h), num(m), num(s)),
        _ => return Err(bad()),
    };
    let ms = match frac {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            let mut ms = 0;
            for k in 0..3 {
                ms = ms * 10 + f.as_bytes().get(k).map_or(0, |d| u32::from(d - b'0'));
            }
            ms
        }
        Some(_) => return Err(bad()),
    };
    let t = ymd_hms_ms(
        y,
        mo,
        d,
        h.ok_or_else(bad)?,
        mi.ok_or_else(bad)?,
        sec.ok_or_else(bad)?,
        ms,
    )
    .ok_or_else(bad)?;
    Ok(t - offset_min * 60_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_795_827_600_000; // 2026-11-28T01:00:00Z

    #[test]
    fn compact_names_round_trip_and_sort() {
        assert_eq!(format_compact(T), "20261128T0100Z");
        assert_eq!(parse_compact("20261128T0100Z"), Some(T));
        assert_eq!(parse_compact("20261128T010005Z"), Some(T + 5000));
        assert!(format_compact(T) < format_compact(T + 3_600_000));
        assert!(format_compact(T + 3_600_000) < format_compact(T + 86_400_000));
        assert_eq!(parse_compact("2026112T0100Z"), None);
        assert_eq!(parse_compact("20261328T0100Z"), None);
    }

    #[test]
    fn parse_time_forms() {
        assert_eq!(parse_time("2026-11-28T01:00:00Z"), Ok(T));
        assert_eq!(parse_time("2026-11-28T01:00Z"), Ok(T));
        assert_eq!(parse_time("2026-11-28 01:00:00.250Z"), Ok(T + 250));
        assert_eq!(parse_time("2026-11-28T02:00:00+01:00"), Ok(T));
        assert_eq!(parse_time("2026-11-28"), Ok(T - 3_600_000));
        assert_eq!(parse_time("20261128T0100Z"), Ok(T));
        assert_eq!(parse_time("1795827600"), Ok(T));
        assert_eq!(parse_time("1795827600000"), Ok(T));
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-11-28T25:00Z",
            "2026-11-28T01:00",
            "é",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
        assert_eq!(format_rfc3339(T + 5), "2026-11-28T01:00:00.005Z");
    }

    #[test]
    fn hostile_time_strings_never_panic() {
        let alphabet = b"0123456789-+:.TZtz ";
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..50_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 32) as usize;
            let s: String = (0..len)
                .map(|k| alphabet[((x >> (k % 50)) as usize + k) % alphabet.len()] as char)
                .collect();
            let _ = parse_time(&s);
            let _ = parse_compact(&s);
        }
        let _ = format_compact(i64::MAX);
        let _ = format_rfc3339(i64::MIN);
    }
}
