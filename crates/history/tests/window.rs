//! Issue 14, item 1: a window given as the extremes of `i64` wrapped
//! `to - from` into a short one and passed the server's limit; windows
//! are now clamped to 1970–2200 and their length computed with checked
//! arithmetic.

use history::{Query, MAX_TIME_MS, MIN_TIME_MS};

const WEEK_MS: i64 = 168 * 3_600_000;

#[test]
fn the_extremes_of_i64_are_a_window_too_long_never_a_wrapped_short_one() {
    let q = Query::near(35.0, 12.0, 5.0, i64::MIN, i64::MAX).unwrap();
    assert_eq!((q.from_ms, q.to_ms), (MIN_TIME_MS, MAX_TIME_MS));
    let e = q.check_max_window(WEEK_MS).unwrap_err();
    assert!(e.0.contains("at most 168.0 h"), "{e}");
    let q = Query::vessel(1, i64::MIN + 1, i64::MAX).unwrap();
    assert!(q.check_max_window(WEEK_MS).is_err());
}

#[test]
fn a_hand_built_query_cannot_wrap_either() {
    let mut q = Query::vessel(1, 0, 1000).unwrap();
    q.from_ms = i64::MIN;
    q.to_ms = i64::MAX;
    let e = q.check_max_window(WEEK_MS).unwrap_err();
    assert!(e.0.contains("longer than anything recordable"), "{e}");
    q.from_ms = i64::MAX;
    q.to_ms = i64::MIN;
    assert!(
        q.check_max_window(WEEK_MS).is_err(),
        "overflows the other way"
    );
}

#[test]
fn an_open_end_still_works_and_a_window_outside_the_calendar_is_empty() {
    let from = 1_795_845_600_000; // 2026-11-28T06:00Z
    let q = Query::vessel(1, from, i64::MAX).unwrap();
    assert_eq!((q.from_ms, q.to_ms), (from, MAX_TIME_MS));
    let q = Query::near(35.0, 12.0, 5.0, from, from + 3_600_000).unwrap();
    assert!(q.check_max_window(WEEK_MS).is_ok());
    assert!(Query::near(35.0, 12.0, 5.0, i64::MIN, -1).is_err());
    assert!(Query::vessel(1, MAX_TIME_MS, i64::MAX).is_err());
    assert!(Query::vessel(1, 10, 10).is_err());
}
