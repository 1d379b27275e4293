//! Checks on what clients send, at the edge of the API, before anything
//! else sees it: times, ids and names, free text.
//!
//! * **Times** (query parameters `from`, `to`, `since`, `before`, and `time`
//!   in request bodies) are UNIX milliseconds or RFC 3339, and must lie in
//!   the years 1970–2199 ([`MIN_TIME_MS`]..[`MAX_TIME_MS`]). Every time the
//!   server subtracts therefore fits in an `i64` many times over; a time
//!   outside is a 400 that names the parameter, never a wrapped window.
//! * **Ids and names** (path ids, subscription ids, `name`, `title`, …)
//!   may not hold control characters (C0, DEL, C1) or the bidirectional
//!   embedding, override and isolate characters (U+202A–U+202E,
//!   U+2066–U+2069) nor the direction marks (U+200E, U+200F, U+061C), which
//!   can make a name read differently on an operator's screen or in a log.
//! * **Free text** (`description`, `note`, `text`, `reason`, …) may hold
//!   line breaks, but never NUL.

use serde_json::Value;

/// 1970-01-01T00:00:00Z.
pub const MIN_TIME_MS: i64 = 0;
/// 2200-01-01T00:00:00Z (exclusive).
pub const MAX_TIME_MS: i64 = 7_258_118_400_000;

/// `ms` if it lies in 1970–2199.
pub fn time_in_range(what: &str, ms: i64) -> Result<i64, String> {
    if (MIN_TIME_MS..MAX_TIME_MS).contains(&ms) {
        Ok(ms)
    } else {
        Err(format!(
            "{what} must be a time between 1970 and 2200 (UNIX ms or RFC 3339)"
        ))
    }
}

/// A time given as UNIX milliseconds or RFC 3339, in 1970–2199.
pub fn parse_time(what: &str, text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(ms) = text.parse::<i64>() {
        return time_in_range(what, ms);
    }
    let t = humantime::parse_rfc3339_weak(text).map_err(|_| {
        format!("{what} must be a time between 1970 and 2200 (UNIX ms or RFC 3339)")
    })?;
    let ms = match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(_) => -1,
    };
    time_in_range(what, ms)
}

/// A time in a JSON body: a number of UNIX ms or an RFC 3339 string.
pub fn json_time(what: &str, v: &Value) -> Result<i64, String> {
    match v {
        Value::String(s) => parse_time(what, s),
        Value::Number(n) => match n.as_i64() {
            Some(ms) => time_in_range(what, ms),
            None => Err(format!(
                "{what} must be a whole number of UNIX ms between 1970 and 2200"
            )),
        },
        _ => Err(format!(
            "{what} must be a time between 1970 and 2200 (UNIX ms or RFC 3339)"
        )),
    }
}

/// Characters refused in ids and names.
pub fn forbidden_in_name(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
        )
}

/// An id or a name: no control or bidirectional formatting characters.
pub fn check_name(what: &str, s: &str) -> Result<(), String> {
    match s.chars().find(|&c| forbidden_in_name(c)) {
        Some(c) => Err(format!(
            "{what} may not contain control or bidirectional formatting characters (found U+{:04X})",
            c as u32
        )),
        None => Ok(()),
    }
}

/// Free text: anything but NUL.
pub fn check_text(what: &str, s: &str) -> Result<(), String> {
    if s.contains('\0') {
        Err(format!("{what} may not contain NUL characters"))
    } else {
        Ok(())
    }
}

/// Keys whose string values are ids or names.
const NAME_KEYS: &[&str] = &[
    "id",
    "name",
    "title",
    "kind",
    "status",
    "state",
    "action",
    "source",
    "contact_id",
    "alert_id",
    "callsign",
    // Lists of ids (incident bodies).
    "contacts",
    "alerts",
];

/// Keys whose values are times.
const TIME_KEYS: &[&str] = &["time", "time_ms"];

/// Check a JSON request body: no NUL anywhere (keys included), ids and
/// names (by key) without control or bidirectional characters, and times
/// (`time`, `time_ms`) in range. The error names the offending key.
pub fn check_body(v: &Value) -> Result<(), String> {
    check_value(None, v)
}

fn check_value(key: Option<&str>, v: &Value) -> Result<(), String> {
    let what = key.unwrap_or("a value");
    if let Some(k) = key.filter(|k| TIME_KEYS.contains(k)) {
        if !v.is_null() {
            json_time(k, v)?;
        }
    }
    match v {
        Value::String(s) => {
            if key.is_some_and(|k| NAME_KEYS.contains(&k)) {
                check_name(what, s)
            } else {
                check_text(what, s)
            }
        }
        Value::Array(items) => items.iter().try_for_each(|x| check_value(key, x)),
        Value::Object(map) => map.iter().try_for_each(|(k, x)| {
            check_text("a key", k)?;
            check_value(Some(k), x)
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn times_are_bounded_at_both_ends() {
        assert_eq!(parse_time("t", "0"), Ok(0));
        assert_eq!(
            parse_time("t", "2026-11-28T06:00:00Z"),
            Ok(1_795_845_600_000)
        );
        for bad in [
            "-1",
            "-9223372036854775808",
            "9223372036854775807",
            "7258118400000",
            "1969-12-31T23:59:59Z",
            "2200-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "yesterday",
            "",
        ] {
            assert!(parse_time("from", bad).is_err(), "{bad}");
        }
        assert!(json_time("time", &json!(1e300)).is_err());
        assert!(json_time("time", &json!(-5)).is_err());
        assert!(json_time("time", &json!(true)).is_err());
        assert_eq!(json_time("time", &json!(1000)), Ok(1000));
    }

    #[test]
    fn names_refuse_control_and_bidi_text_refuses_nul() {
        assert!(check_name("id", "zone-1 Malta").is_ok());
        assert!(check_name("id", "Ελλάδα ✓").is_ok());
        for bad in [
            "a\nb",
            "a\u{0}",
            "a\u{7f}",
            "\u{202E}exe.txt",
            "a\u{2066}b",
            "\u{85}",
        ] {
            assert!(check_name("id", bad).is_err(), "{bad:?}");
        }
        assert!(check_text("note", "line 1\nline 2\ttab").is_ok());
        assert!(check_text("note", "a\0b").is_err());
    }

    #[test]
    fn bodies_are_walked_by_key() {
        assert!(check_body(
            &json!({"description":"rubber boat\n60 persons","lat":1,"time":"2026-11-28T06:25:00Z"})
        )
        .is_ok());
        assert!(check_body(&json!({"time": -9_223_372_036_854_775_807_i64})).is_err());
        assert!(check_body(&json!({"time": "1900-01-01T00:00:00Z"})).is_err());
        assert!(check_body(&json!({"note":"a\u{0}"})).is_err());
        assert!(check_body(&json!({"asset":{"name":"HELO\u{202E}21"}})).is_err());
        assert!(check_body(&json!({"properties":{"name":"Z\u{1b}[31m"}})).is_err());
        assert!(check_body(&json!({"contacts":["c-1","c\u{7}"]})).is_err());
        assert!(check_body(&json!({"contacts":["c-1"],"note":"x"})).is_ok());
        assert!(check_body(&json!({"k\u{0}":1})).is_err());
        assert!(check_body(&json!({"time": null})).is_ok());
    }
}
