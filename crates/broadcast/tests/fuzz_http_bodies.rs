//! Fuzz target (stable harness, fuzz/README.md): the HTTP JSON bodies.
//!
//! Two layers:
//! * the checks at the edge of the API (`broadcast::input`): `check_body`
//!   on arbitrary JSON, `check_name` / `check_text` on arbitrary text, and
//!   `parse_time` / `json_time` on arbitrary and edge times;
//! * the whole HTTP stack in-process (`broadcast::http::app`: routing, the
//!   body limits, JSON decoding, path ids, authorisation, the checks, the
//!   handlers) against the fake picture and SAR store of `tests/support`,
//!   with arbitrary bytes, arbitrary JSON and structure-aware bodies (the
//!   keys of contacts, sightings, incidents, actions, status changes,
//!   acknowledgements, search areas, patterns and zones, with hostile
//!   values: NUL, control and bidirectional characters, times out of range
//!   or malformed, numbers at the edges) on every route that takes a body,
//!   and with hostile path ids.
//!
//! Checked: no panic; every answer is a status below 500 with a JSON body
//! (errors as `{"error": "…"}`); an accepted time lies in 1970–2199; what
//! reaches the SAR store is a JSON object that passes `check_body`.
//! (The real SAR store's parsing of these bodies is fuzzed end to end in
//! `crates/server/tests/fuzz_sar_bodies.rs`.)
//!
//! Cases: `FUZZ_CASES` / `FUZZ_SECONDS` / `FUZZ_SEED` (see the harness).

#[path = "../../../fuzz/harness.rs"]
mod harness;
mod support;

use axum::body::Body;
use axum::http::Request;
use broadcast::input::{
    check_body, check_name, check_text, forbidden_in_name, json_time, parse_time, MAX_TIME_MS,
    MIN_TIME_MS,
};
use broadcast::{AppState, Hub, Limits};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use support::{Fake, OPERATOR};
use tower::ServiceExt;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => ".{0,16}",
        2 => prop::sample::select(vec![
            "", " ", "\0", "a\0b", "a\nb", "\t", "\u{7f}", "\u{85}", "\u{9b}[31m", "\u{1b}[31m",
            "\u{202a}", "\u{202e}exe.txt", "\u{2066}", "\u{2069}", "\u{200e}", "\u{200f}",
            "\u{61c}", "\u{feff}", "\u{fffd}", "Ελλάδα ✓", "c-000001", "i-000001", "a-1",
        ])
        .prop_map(String::from),
        1 => "[a-z]{100,300}",
    ]
}

fn time_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "0",
            "-1",
            "7258118399999",
            "7258118400000",
            "9223372036854775807",
            "-9223372036854775808",
            "99999999999999999999",
            "1e3",
            "1.5",
            " 1000 ",
            "2026-11-28T06:25:00Z",
            "2026-11-28T06:25:00.123456789Z",
            "2026-11-28T06:25:00+01:00",
            "2026-11-28 06:25:00",
            "2026-02-30T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "1970-01-01T00:00:00Z",
            "2199-12-31T23:59:59.999Z",
            "2200-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "0000-01-01T00:00:00Z",
            "2026-11-28T24:00:00Z",
            "2026-11-28T23:59:60Z",
            "yesterday",
            "",
        ])
        .prop_map(String::from),
        1 => "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,12})?(Z|[+-][0-9]{2}:[0-9]{2})?",
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => ".{0,30}",
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => prop::sample::select(vec![
            json!(0),
            json!(-0.0),
            json!(1),
            json!(-1),
            json!(35.5),
            json!(14.2),
            json!(90),
            json!(90.000_001),
            json!(-90),
            json!(180),
            json!(180.5),
            json!(-180),
            json!(359.9),
            json!(360),
            json!(1e308),
            json!(-1e308),
            json!(5e-324),
            json!(i64::MAX),
            json!(i64::MIN),
            json!(u64::MAX),
            json!(999_999_999),
            json!(1_000_000_000),
            json!(4_294_967_296_u64),
        ]),
        1 => any::<f64>().prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
    ]
}

fn time_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        2 => time_text().prop_map(Value::from),
        1 => number(),
        1 => Just(Value::Null),
        1 => Just(json!(true)),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..5).prop_map(|kv| Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}

/// Keys of the API's bodies (and a few others).
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(vec![
            "description", "status", "lat", "lon", "time", "time_ms", "uncertainty_nm",
            "uncertainty_m", "source", "course_deg", "speed_kn", "note", "title", "contacts",
            "alerts", "vessels", "action", "text", "reason", "asset", "contact_id", "alert_id",
            "mmsi", "name", "kind", "id", "callsign", "state", "type", "properties", "geometry",
            "coordinates", "object", "datum", "pattern", "spacing_nm", "legs",
        ])
        .prop_map(String::from),
        1 => text(),
    ]
}

/// A value that fits the key more or less.
fn value_for(key: &str) -> BoxedStrategy<Value> {
    match key {
        "time" | "time_ms" => time_value().boxed(),
        "lat" | "lon" | "uncertainty_nm" | "uncertainty_m" | "course_deg" | "speed_kn" | "mmsi"
        | "spacing_nm" | "legs" => prop_oneof![4 => number(), 1 => any_json()].boxed(),
        "contacts" | "alerts" | "vessels" => prop_oneof![
            3 => prop::collection::vec(prop_oneof![text().prop_map(Value::from), number()], 0..4)
                .prop_map(Value::Array),
            1 => any_json(),
        ]
        .boxed(),
        "action" => prop_oneof![
            4 => prop::sample::select(vec![
                "note", "set_status", "assign_asset", "release_asset", "link_contact",
                "unlink_contact", "link_alert", "unlink_alert", "link_vessel", "unlink_vessel",
                "retitle", "create", "search_area", "search_pattern", "dance",
            ])
            .prop_map(Value::from),
            1 => any_json(),
        ]
        .boxed(),
        "status" => prop_oneof![
            4 => prop::sample::select(vec![
                "open", "assets_assigned", "rescued", "closed", "active", "OPEN", "",
            ])
            .prop_map(Value::from),
            1 => any_json(),
        ]
        .boxed(),
        _ => prop_oneof![3 => text().prop_map(Value::from), 1 => any_json()].boxed(),
    }
}

/// An object of API-ish keys with fitting (or hostile) values.
fn structured_body() -> impl Strategy<Value = Value> {
    prop::collection::vec(key(), 0..7)
        .prop_flat_map(|keys| {
            let values: Vec<_> = keys.iter().map(|k| value_for(k)).collect();
            (Just(keys), values)
        })
        .prop_map(|(keys, values)| {
            Value::Object(keys.into_iter().zip(values).collect::<Map<String, Value>>())
        })
}

/// Routes that take a body, with `{}` for the path id.
const ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/contacts"),
    ("PUT", "/api/contacts/{}"),
    ("PATCH", "/api/contacts/{}"),
    ("POST", "/api/contacts/{}/sightings"),
    ("POST", "/api/incidents"),
    ("PATCH", "/api/incidents/{}"),
    ("POST", "/api/incidents/{}/actions"),
    ("POST", "/api/incidents/{}/search-area"),
    ("POST", "/api/incidents/{}/patterns"),
    ("PUT", "/api/zones/{}"),
    ("POST", "/api/zones/{}"),
    ("POST", "/api/alerts/{}/ack"),
];

/// Percent-encode every byte but the unreserved ones.
fn encode_path(id: &str) -> String {
    let mut out = String::new();
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn path_id() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => Just("c-000001".to_string()),
        1 => text(),
        1 => Just("%ZZ".to_string()),
        1 => "[a-z]{129}",
    ]
}

struct Stack {
    rt: tokio::runtime::Runtime,
    app: axum::Router,
    fake: Arc<Fake>,
}

fn stack() -> Stack {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let limits = Limits {
        max_body_bytes: 4096,
        ..Limits::default()
    };
    let fake = Arc::new(Fake::default());
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let state = AppState {
        hub: Arc::new(Hub::new(limits)),
        api: fake.clone(),
        auth: Arc::new(support::auth()),
        shutdown: rx,
    };
    let app = broadcast::http::app(state, None);
    Stack { rt, app, fake }
}

/// One request through the whole stack; checks the answer.
fn call(stack: &Stack, route: usize, id: &str, body: Vec<u8>) -> Result<(), TestCaseError> {
    let (method, path) = ROUTES[route % ROUTES.len()];
    let uri = path.replace("{}", &encode_path(id));
    let req = Request::builder()
        .method(method)
        .uri(&uri)
        .header("authorization", format!("Bearer {OPERATOR}"))
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let (status, bytes) = stack.rt.block_on(async {
        let resp = stack.app.clone().oneshot(req).await.unwrap();
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, bytes)
    });
    // The fake SAR store plans no search (the trait's default answers 503
    // "planning is elsewhere"); anything else at 5xx is a failure.
    let planning = uri.ends_with("/search-area") || uri.ends_with("/patterns");
    prop_assert!(
        status < 500 || (status == 503 && planning),
        "{} {}: HTTP {}",
        method,
        uri,
        status
    );
    prop_assert!(
        ![401, 403].contains(&status),
        "{} {}: HTTP {}",
        method,
        uri,
        status
    );
    let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
        TestCaseError::fail(format!(
            "{method} {uri}: HTTP {status} with a body that is not JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        ))
    })?;
    if status >= 400 {
        prop_assert!(v["error"].is_string(), "{} {}: {}", method, uri, v);
    }
    // What reached the SAR store passed the checks.
    let writes = std::mem::take(&mut stack.fake.calls.lock().unwrap().sar_writes);
    for w in writes {
        prop_assert!(w.is_object(), "{}", w);
        prop_assert!(check_body(&w).is_ok(), "{}", w);
    }
    Ok(())
}

#[test]
fn fuzz_http_input_checks() {
    harness::fuzz(
        "http_input_checks",
        1500,
        (
            any_json(),
            structured_body(),
            text(),
            time_text(),
            time_value(),
        ),
        |(doc, body, s, t, tv)| {
            for v in [&doc, &body] {
                if check_body(v).is_ok() {
                    // Nothing with NUL got through, anywhere.
                    prop_assert!(!v.to_string().contains("\\u0000"), "{}", v);
                }
            }
            match check_name("id", &s) {
                Ok(()) => prop_assert!(!s.chars().any(forbidden_in_name)),
                Err(e) => prop_assert!(e.starts_with("id ")),
            }
            prop_assert_eq!(check_text("note", &s).is_ok(), !s.contains('\0'));
            if let Ok(ms) = parse_time("from", &t) {
                prop_assert!((MIN_TIME_MS..MAX_TIME_MS).contains(&ms), "{} -> {}", t, ms);
            }
            if let Ok(ms) = json_time("time", &tv) {
                prop_assert!((MIN_TIME_MS..MAX_TIME_MS).contains(&ms), "{} -> {}", tv, ms);
            }
            Ok(())
        },
    );
}

#[test]
fn fuzz_http_bodies_arbitrary() {
    let stack = stack();
    harness::fuzz(
        "http_bodies_arbitrary",
        1000,
        (
            any::<usize>(),
            path_id(),
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..300),
                any_json().prop_map(|v| v.to_string().into_bytes()),
                Just(Vec::new()),
                Just(vec![b'x'; 5000]),
            ],
        ),
        |(route, id, body)| call(&stack, route, &id, body),
    );
}

#[test]
fn fuzz_http_bodies_structured() {
    let stack = stack();
    harness::fuzz(
        "http_bodies_structured",
        1000,
        (any::<usize>(), path_id(), structured_body()),
        |(route, id, body)| call(&stack, route, &id, body.to_string().into_bytes()),
    );
}
