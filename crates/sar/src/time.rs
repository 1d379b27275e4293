//! Times in SAR request bodies: UNIX milliseconds (a JSON number or a
//! string of digits) or RFC 3339, in the years 1970–2199 — the same rule as
//! the HTTP API's `crates/broadcast/src/input.rs` (`parse_time` /
//! `json_time`), with the same parser (`humantime`), so a time that is
//! valid anywhere in the API is valid here. Written back with
//! [`format_time`](crate::contact::format_time).
//!
//! ```
//! use sar::time::parse_time;
//! assert_eq!(parse_time("at", "2026-11-28T06:00:00Z"), Ok(1_795_845_600_000));
//! assert_eq!(parse_time("at", "1795845600000"), Ok(1_795_845_600_000));
//! assert!(parse_time("at", "yesterday").is_err());
//! ```

use crate::error::SarError;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// 1970-01-01T00:00:00Z.
pub const MIN_TIME_MS: i64 = 0;
/// 2200-01-01T00:00:00Z (exclusive).
pub const MAX_TIME_MS: i64 = 7_258_118_400_000;

fn range_error(what: &str) -> String {
    format!("{what} must be a time between 1970 and 2200 (UNIX ms or RFC 3339)")
}

/// `ms` if it lies in 1970–2199.
pub fn time_in_range(what: &str, ms: i64) -> Result<i64, String> {
    if (MIN_TIME_MS..MAX_TIME_MS).contains(&ms) {
        Ok(ms)
    } else {
        Err(range_error(what))
    }
}

/// A time given as UNIX milliseconds or RFC 3339, in 1970–2199.
pub fn parse_time(what: &str, text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(ms) = text.parse::<i64>() {
        return time_in_range(what, ms);
    }
    let t = humantime::parse_rfc3339_weak(text).map_err(|_| range_error(what))?;
    let ms = match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(_) => -1,
    };
    time_in_range(what, ms)
}

/// A time in a JSON value: a number of UNIX ms or an RFC 3339 string.
pub fn json_time(what: &str, v: &Value) -> Result<i64, SarError> {
    match v {
        Value::String(s) => parse_time(what, s).map_err(SarError::invalid),
        Value::Number(n) => match n.as_i64() {
            Some(ms) => time_in_range(what, ms).map_err(SarError::invalid),
            None => Err(SarError::invalid(format!(
                "{what} must be a whole number of UNIX ms between 1970 and 2200"
            ))),
        },
        _ => Err(SarError::invalid(range_error(what))),
    }
}

/// Serde helper: `#[serde(deserialize_with = "sar::time::de_time")]` on an
/// `i64` field reads a number of UNIX ms or an RFC 3339 string.
pub fn de_time<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let v = Value::deserialize(d)?;
    json_time("time", &v).map_err(|e| serde::de::Error::custom(e.message))
}

/// Serde helper for an optional time (absent or `null` is `None`).
pub fn de_opt_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => json_time("time", &v)
            .map(Some)
            .map_err(|e| serde::de::Error::custom(e.message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_forms_and_the_range() {
        assert_eq!(json_time("t", &json!(1000)).unwrap(), 1000);
        assert_eq!(
            json_time("t", &json!("2026-11-28T06:00:00.123Z")).unwrap(),
            1_795_845_600_123
        );
        assert!(json_time("t", &json!(-1)).is_err());
        assert!(json_time("t", &json!(1.5)).is_err());
        assert!(json_time("t", &json!("2300-01-01T00:00:00Z")).is_err());
        assert!(json_time("t", &json!(true)).is_err());
        let e = parse_time("start", "soon").unwrap_err();
        assert!(e.starts_with("start must be"), "{e}");
    }

    #[test]
    fn round_trips_with_format_time() {
        for ms in [0, 1_795_845_600_000, 951_782_400_123] {
            let s = crate::contact::format_time(ms);
            assert_eq!(parse_time("t", &s), Ok(ms));
        }
    }
}
