//! The OpenAPI document against the router it describes (drift guard),
//! and the query checks on every route: an unknown parameter or value is
//! a 400 in the project's error format, never ignored.

mod support;

use broadcast::openapi::{operations, Access};
use broadcast::Limits;
use serde_json::Value;
use std::collections::BTreeSet;
use support::{call, error_of, get, Server, OPERATOR, VIEWER};

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// `(path, METHOD)` of every operation of the document.
fn documented() -> BTreeSet<(String, String)> {
    operations()
        .iter()
        .map(|op| {
            let m = serde_json::to_value(&op.method).unwrap();
            (op.path.to_string(), m.as_str().unwrap().to_uppercase())
        })
        .collect()
}

/// `(path, METHOD)` of every `.route(…)` of `broadcast::http::router`, read
/// from its source: the route table is one expression there.
fn routed_in_source() -> BTreeSet<(String, String)> {
    let src = include_str!("../src/http.rs");
    let start = src.find("pub fn router(").expect("the router function");
    let end = start + src[start..].find(".with_state(").expect("its end");
    let mut out = BTreeSet::new();
    for chunk in src[start..end].split(".route(").skip(1) {
        let path = chunk.split('"').nth(1).expect("a path literal");
        let rest = &chunk[chunk.find(',').expect("the method router")..];
        for word in rest.split(|c: char| !c.is_ascii_alphanumeric() && c != '_') {
            let upper = word.to_uppercase();
            if METHODS.contains(&upper.as_str()) && rest.contains(&format!("{word}(")) {
                out.insert((path.to_string(), upper));
            }
        }
    }
    assert!(out.len() > 30, "the router's table was not read: {out:?}");
    out
}

/// A concrete URL for a documented path.
fn concrete(path: &str) -> String {
    path.replace("{mmsi}", "247000123")
        .replace("{id}", "x-1")
        .replace("{n}", "1")
}

/// The router's own 404/405 (no route, or not this method) as opposed to
/// a handler's answer.
fn is_router_miss(code: u16, body: &str) -> bool {
    (code == 404 && error_of(body) == "not found")
        || (code == 405 && error_of(body) == "method not allowed")
}

#[test]
fn every_route_of_the_router_is_documented_and_nothing_else() {
    let routed = routed_in_source();
    let documented = documented();
    let missing: Vec<_> = routed.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&routed).collect();
    assert!(missing.is_empty(), "routed but not documented: {missing:?}");
    assert!(extra.is_empty(), "documented but not routed: {extra:?}");
}

#[tokio::test]
async fn the_server_answers_every_documented_operation_and_only_those() {
    let s = Server::start(Limits::default()).await;
    let documented = documented();
    let paths: BTreeSet<&String> = documented.iter().map(|(p, _)| p).collect();
    for path in paths {
        let url = concrete(path);
        for method in METHODS {
            let (code, body) = call(s.addr, method, &url, Some(OPERATOR), "").await;
            if documented.contains(&(path.clone(), method.to_string())) {
                assert!(
                    !is_router_miss(code, &body),
                    "{method} {path} is documented but not routed: {code} {body}"
                );
            } else {
                assert_eq!(
                    code, 405,
                    "{method} {path} is not documented, yet answered: {body}"
                );
            }
        }
    }
    // And a path that is not documented is not routed.
    let (code, body) = get(s.addr, "/api/vessels/1/nothing", Some(VIEWER)).await;
    assert!(is_router_miss(code, &body), "{code} {body}");
}

#[tokio::test]
async fn the_document_is_served_without_a_token_and_is_the_generated_one() {
    let s = Server::start(Limits::default()).await;
    let (code, body) = get(s.addr, "/api/openapi.json", None).await;
    assert_eq!(code, 200, "{body}");
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc,
        serde_json::to_value(broadcast::openapi::document()).unwrap()
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    // Everything else still needs a token.
    assert_eq!(get(s.addr, "/api/status", None).await.0, 401);
}

#[tokio::test]
async fn an_unknown_query_parameter_is_400_on_every_route_that_checks_tokens() {
    let s = Server::start(Limits::default()).await;
    for op in operations() {
        // The public routes answer anything; `/ws` is checked with a real
        // handshake below.
        if op.access == Access::Public || op.path == "/ws" {
            continue;
        }
        let method = serde_json::to_value(&op.method).unwrap();
        let method = method.as_str().unwrap().to_uppercase();
        let url = format!("{}?zzz_unknown=1", concrete(op.path));
        let (code, body) = call(s.addr, &method, &url, Some(OPERATOR), "").await;
        assert_eq!(code, 400, "{method} {url}: {body}");
        let message = error_of(&body);
        assert!(
            message.contains("\"zzz_unknown\"") && message.contains("this route takes"),
            "{method} {url}: {message}"
        );
        // No token: 401 first, the query says nothing to a stranger.
        let (code, _) = call(s.addr, &method, &url, None, "").await;
        assert_eq!(code, 401, "{method} {url}");
    }
}

#[tokio::test]
async fn unknown_values_are_400_naming_the_parameter_and_what_it_accepts() {
    let s = Server::start(Limits::default()).await;
    for (url, param, accepted) in [
        ("/api/vessels?class=zzz", "class", "sar_aircraft"),
        ("/api/vessels?class=A,zzz", "class", "ais_sart"),
        ("/api/alerts?state=x", "state", "acknowledged"),
        ("/api/contacts?status=open", "status", "closed"),
        ("/api/incidents?status=x", "status", "assets_assigned"),
        ("/api/incidents/x-1/patterns/1?format=pdf", "format", "gpx"),
        ("/api/incidents/x-1/sitrep?format=xml", "format", "json"),
        (
            "/api/incidents/x-1/sitrep?priority=x",
            "priority",
            "urgency",
        ),
        ("/api/nearest?lat=1&lon=2&all=maybe", "all", ""),
        ("/api/nearest?lat=1&lon=2&k=many", "k", ""),
        ("/api/vessels?mmsi=12,abc", "mmsi", "abc"),
    ] {
        let (code, body) = get(s.addr, url, Some(VIEWER)).await;
        assert_eq!(code, 400, "{url}: {body}");
        assert!(body.starts_with('{'), "{url}: the JSON error body: {body}");
        let message = error_of(&body);
        assert!(
            message.contains(param) && message.contains(accepted),
            "{url}: {message}"
        );
    }
    // Valid queries still work, with the values the web client sends.
    for url in [
        "/api/vessels?class=own_asset,A&bbox=11,34,14,36&mmsi=1,2&ship_type=70&zone=z1",
        "/api/vessels?q=PATROL&limit=20",
        "/api/nearest?lat=34.70000&lon=13.10000&k=10",
        "/api/nearest?lat=1&lon=2&k=3&all=true&exclude=5",
        "/api/alerts?state=raised&since=0",
        "/api/contacts?status=active&limit=5&before=2026-11-28T06:00:00Z",
        "/api/incidents?status=open&limit=10",
        "/api/contacts/x-1/intercepts?k=8",
        "/api/vessels/247000123/track?from=0&to=1000",
        "/api/history?lat=1&lon=2&radius_nm=3&from=0&to=1000",
    ] {
        let (code, body) = get(s.addr, url, Some(VIEWER)).await;
        assert!(code < 400, "{url}: {code} {body}");
    }
    // The query is read after the token: 401 for a stranger's bad query.
    assert_eq!(get(s.addr, "/api/alerts?state=x", None).await.0, 401);
}

#[tokio::test]
async fn the_websocket_refuses_an_unknown_parameter_after_the_token() {
    use tokio_tungstenite::tungstenite::Error;
    let s = Server::start(Limits::default()).await;
    let url = |q: &str| format!("ws://{}/ws?{q}", s.addr);
    let refused = |r: Result<_, Error>| match r {
        Err(Error::Http(resp)) => {
            let body = String::from_utf8(resp.body().clone().unwrap_or_default()).unwrap();
            (resp.status().as_u16(), body)
        }
        Err(e) => panic!("not an HTTP refusal: {e}"),
        Ok(_) => panic!("upgraded"),
    };
    let (code, body) = refused(
        tokio_tungstenite::connect_async(url(&format!("token={OPERATOR}&foo=1")))
            .await
            .map(|_| ()),
    );
    assert_eq!(code, 400, "{body}");
    let message = error_of(&body);
    assert!(
        message.contains("\"foo\"") && message.contains("token"),
        "{message}"
    );
    let (code, _) = refused(
        tokio_tungstenite::connect_async(url("token=wrong&foo=1"))
            .await
            .map(|_| ()),
    );
    assert_eq!(code, 401);
    // The documented parameter alone upgrades.
    let (ws, _) = tokio_tungstenite::connect_async(url(&format!("token={VIEWER}")))
        .await
        .expect("upgrade with ?token=");
    drop(ws);
}
