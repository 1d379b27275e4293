//! Fuzz target (stable harness, fuzz/README.md): the WebSocket client
//! messages, `protocol::parse` — what the server does with every text frame
//! a client sends.
//!
//! Feeds: arbitrary text; arbitrary JSON; structure-aware messages
//! (`subscribe` / `unsubscribe` / `ack` / other types, ids with control and
//! bidirectional characters or too long, `bbox` / `bboxes` with values at
//! and beyond the edges, `filter`s of the wrong shape, `max_rate_hz` from
//! the smallest positive float to 1e308, known and unknown `channels`,
//! extra keys), under the default limits and under tight ones.
//!
//! Checked: no panic; a refusal carries one of the documented codes
//! (docs/protocol.md) and renders as a JSON error message; what is
//! accepted keeps the limits (id length and characters, 1..max boxes, each
//! box valid, an update interval that is a finite positive duration).
//!
//! Cases: `FUZZ_CASES` / `FUZZ_SECONDS` / `FUZZ_SEED` (see the harness).

#[path = "../../../fuzz/harness.rs"]
mod harness;

use broadcast::input::forbidden_in_name;
use broadcast::protocol::{parse, ClientMessage, MAX_INTERVAL_SECS};
use broadcast::Limits;
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Structured messages accepted: a generator that never gets one past the
/// checks fails instead of passing idle.
static ACCEPTED: AtomicU64 = AtomicU64::new(0);

const CODES: &[&str] = &[
    "frame_too_large",
    "bad_json",
    "bad_request",
    "unknown_type",
    "bad_bbox",
];

fn tight() -> Limits {
    Limits {
        max_frame_bytes: 300,
        max_bboxes: 2,
        max_rate_hz: 0.5,
        ..Limits::default()
    }
}

fn check(text: &str, limits: &Limits) -> Result<(), TestCaseError> {
    match parse(text, limits) {
        Ok(ClientMessage::Subscribe(s)) => {
            prop_assert!(!s.id.is_empty() && s.id.len() <= 64, "{:?}", s.id);
            prop_assert!(!s.id.chars().any(forbidden_in_name), "{:?}", s.id);
            prop_assert!(!s.bboxes.is_empty() && s.bboxes.len() <= limits.max_bboxes);
            for b in &s.bboxes {
                prop_assert!(b.min_lat < b.max_lat && b.min_lon != b.max_lon, "{:?}", b);
                prop_assert!([b.min_lon, b.max_lon]
                    .iter()
                    .all(|x| (-180.0..=180.0).contains(x)));
                prop_assert!([b.min_lat, b.max_lat]
                    .iter()
                    .all(|y| (-90.0..=90.0).contains(y)));
            }
            prop_assert!(s.interval > Duration::ZERO, "{:?}", s.interval);
            prop_assert!(
                s.interval <= Duration::from_secs_f64(MAX_INTERVAL_SECS),
                "{:?}",
                s.interval
            );
            // The server adds it to the clock: that must not overflow.
            let _ = std::time::Instant::now() + s.interval;
            prop_assert!(
                s.interval >= Duration::from_secs_f64(1.0 / limits.max_rate_hz) / 2,
                "{:?}",
                s.interval
            );
        }
        Ok(ClientMessage::Unsubscribe { id }) => {
            prop_assert!(!id.chars().any(forbidden_in_name), "{:?}", id);
        }
        Ok(ClientMessage::Acknowledge { alert_id, note }) => {
            prop_assert!(!alert_id.chars().any(forbidden_in_name), "{:?}", alert_id);
            prop_assert!(!note.unwrap_or_default().contains('\0'));
        }
        Err(e) => {
            prop_assert!(CODES.contains(&e.code), "undocumented code {:?}", e.code);
            prop_assert!(!e.message.is_empty());
            let v: Value = serde_json::from_str(&e.to_json(Some("s\u{0}1")))
                .map_err(|x| TestCaseError::fail(x.to_string()))?;
            prop_assert_eq!(&v["type"], "error");
            prop_assert_eq!(&v["code"], e.code);
        }
    }
    Ok(())
}

fn check_both(text: &str) -> Result<(), TestCaseError> {
    check(text, &Limits::default())?;
    check(text, &tight())
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,10}".prop_map(Value::String),
        prop::sample::select(vec!["subscribe", "unsubscribe", "ack", "vessels"])
            .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "type", "id", "bbox", "bboxes", "filter", "channels", "alert_id", "note",
                        "mmsi", "zones",
                    ]),
                    inner
                ),
                0..6
            )
            .prop_map(|kv| Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}

fn name() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "s1",
            "",
            " ",
            "a\u{0}",
            "a\nb",
            "\u{202e}exe",
            "a\u{2066}b",
            "\u{85}",
            "\u{200f}",
            "Ελλάδα ✓",
            "a-1",
        ])
        .prop_map(Value::from),
        1 => "[a-z]{60,70}".prop_map(Value::from),
        1 => ".{0,8}".prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => Just(Value::Null),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => prop::sample::select(vec![
            0.0,
            -0.0,
            1.0,
            20.0,
            20.000_000_1,
            0.5,
            0.499,
            1e-300,
            5e-324,
            1e-20,
            1e-9,
            1e308,
            -1.0,
            180.0,
            180.1,
            -180.0,
            90.0,
            -90.0,
            90.5,
        ])
        .prop_map(Value::from),
        2 => (-200.0f64..200.0).prop_map(Value::from),
        1 => any::<f64>().prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => Just(json!("1")),
    ]
}

fn bbox() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => prop::collection::vec(number(), 4).prop_map(Value::Array),
        2 => (-179.0f64..179.0, -89.0f64..89.0, 0.1f64..10.0, 0.1f64..10.0)
            .prop_map(|(x, y, w, h)| json!([x, y, (x + w).min(180.0), (y + h).min(90.0)])),
        1 => prop::collection::vec(number(), 0..6).prop_map(Value::Array),
        1 => any_json(),
    ]
}

fn channels() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => prop::collection::vec(
            prop::sample::select(vec![
                "vessels", "alerts", "zones", "sources", "contacts", "incidents", "tv", "",
                "VESSELS",
            ]),
            0..5
        )
        .prop_map(|v| json!(v)),
        1 => any_json(),
    ]
}

fn filter() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => (
            prop::collection::vec(any::<u32>(), 0..3),
            prop::collection::vec(prop::sample::select(vec!["A", "B", "base", ""]), 0..3),
            prop::collection::vec(0u16..300, 0..3),
            prop::collection::vec(".{0,6}", 0..3),
        )
            .prop_map(|(m, c, t, z)| json!({"mmsi": m, "classes": c, "ship_types": t, "zones": z})),
        1 => any_json(),
    ]
}

/// Mostly good ids, sometimes bad ones.
fn id() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => "[a-z0-9-]{1,12}".prop_map(Value::from),
        1 => name(),
    ]
}

/// An object from optional fields, with a rare extra key.
fn object(
    kind: Value,
    fields: Vec<(&'static str, Option<Value>)>,
    extra: Option<(String, Value)>,
) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), kind);
    for (k, v) in fields {
        if let Some(v) = v {
            m.insert(k.into(), v);
        }
    }
    if let Some((k, v)) = extra {
        m.insert(k, v);
    }
    Value::Object(m)
}

fn extra() -> impl Strategy<Value = Option<(String, Value)>> {
    prop_oneof![
        9 => Just(None),
        1 => (".{1,6}", any_json()).prop_map(Some),
    ]
}

fn subscribe() -> impl Strategy<Value = Value> {
    (
        id(),
        prop::option::of(bbox()),
        prop::option::of(prop::collection::vec(bbox(), 0..20)),
        prop::option::of(filter()),
        prop::option::of(number()),
        prop::option::of(channels()),
        extra(),
    )
        .prop_map(|(id, bbox, bboxes, filter, rate, channels, extra)| {
            object(
                json!("subscribe"),
                vec![
                    ("id", Some(id)),
                    ("bbox", bbox),
                    ("bboxes", bboxes.map(Value::Array)),
                    ("filter", filter),
                    ("max_rate_hz", rate),
                    ("channels", channels),
                ],
                extra,
            )
        })
}

fn unsubscribe() -> impl Strategy<Value = Value> {
    (id(), extra())
        .prop_map(|(id, extra)| object(json!("unsubscribe"), vec![("id", Some(id))], extra))
}

fn ack() -> impl Strategy<Value = Value> {
    (
        id(),
        prop::option::of(prop_oneof![name(), ".{0,20}".prop_map(Value::from)]),
        extra(),
    )
        .prop_map(|(id, note, extra)| {
            object(
                json!("ack"),
                vec![("alert_id", Some(id)), ("note", note)],
                extra,
            )
        })
}

/// Any type (often a wrong one) with any of the fields.
fn other() -> impl Strategy<Value = Value> {
    (
        name(),
        prop::option::of(name()),
        prop::option::of(bbox()),
        prop::option::of(name()),
        extra(),
    )
        .prop_map(|(kind, id, bbox, alert_id, extra)| {
            object(
                kind,
                vec![("id", id), ("bbox", bbox), ("alert_id", alert_id)],
                extra,
            )
        })
}

fn message() -> impl Strategy<Value = Value> {
    prop_oneof![4 => subscribe(), 1 => unsubscribe(), 1 => ack(), 1 => other()]
}

#[test]
fn fuzz_ws_arbitrary_text() {
    harness::fuzz(
        "ws_arbitrary_text",
        2000,
        prop_oneof![
            ".{0,120}",
            "[\\[\\]{}\",:0-9a-z .eE+-]{0,120}",
            "\\{\"type\":\"(subscribe|unsubscribe|ack)\",[\\[\\]{}\",:0-9a-z_ .eE+-]{0,100}",
        ],
        |text| check_both(&text),
    );
}

#[test]
fn fuzz_ws_arbitrary_json() {
    harness::fuzz("ws_arbitrary_json", 2000, any_json(), |v| {
        check_both(&v.to_string())
    });
}

#[test]
fn fuzz_ws_structured_messages() {
    harness::fuzz("ws_structured_messages", 2000, message(), |v| {
        let text = v.to_string();
        if parse(&text, &Limits::default()).is_ok() {
            ACCEPTED.fetch_add(1, Ordering::Relaxed);
        }
        check_both(&text)
    });
    let n = ACCEPTED.load(Ordering::Relaxed);
    eprintln!("fuzz ws_structured_messages: {n} messages accepted");
    assert!(n > 0, "no structured message was ever accepted");
}
