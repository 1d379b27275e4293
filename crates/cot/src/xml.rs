//! CoT XML text: escaping and times.

use std::time::Duration;

/// CoT "unknown" circular/linear error.
pub const UNKNOWN_ERROR: f64 = 9_999_999.0;

/// A CoT time (`time`, `start`, `stale`): RFC 3339, UTC, milliseconds
/// (`2026-11-28T06:00:00.000Z`), from ms since the UNIX epoch.
pub fn time(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(t).to_string()
}

/// Append `s` escaped for XML text and attribute values, without the
/// characters XML 1.0 forbids.
pub fn esc(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_drops_forbidden_characters() {
        let mut s = String::new();
        esc(&mut s, "a<b>&\"c'\u{1}\n");
        assert_eq!(s, "a&lt;b&gt;&amp;&quot;c&apos;&#10;");
        assert_eq!(time(1_795_845_600_000), "2026-11-28T06:00:00.000Z");
        assert_eq!(time(-5), "1970-01-01T00:00:00.000Z");
    }
}
