//! Contacts and incidents through `lookout serve` as a client sees them:
//! real HTTP and a real WebSocket client (tokio-tungstenite) on 127.0.0.1,
//! tokens with roles from the config, a simulated recording in the picture.
//! Covers the lifecycles, every refusal (no token, bad token 401; viewer
//! writing 403), bad input, the `contacts`/`incidents` channels (snapshot,
//! then each change), and intercept ranking on the live picture.

#[path = "sar_support.rs"]
mod support;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::*;
use tokio_tungstenite::tungstenite::Message;

const VIEWER: &str = "viewer-token-7f3a";
const OPERATOR: &str = "operator-token-91c2";

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next message satisfying `pred` (others are skipped).
async fn next_matching(ws: &mut Ws, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let msg = tokio::time::timeout(left, ws.next())
            .await
            .unwrap_or_else(|_| panic!("no {what} on the WebSocket"))
            .expect("socket open")
            .unwrap();
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(&t).unwrap();
            if pred(&v) {
                return v;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_and_incidents_over_http_and_websocket_with_roles() {
    let dir = tmp_dir("api");
    let rec = simulated(&dir, "30m");
    let config = dir.join("lookout.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\n[auth]\nenabled = true\n\
             [[auth.tokens]]\nname = \"watch\"\nrole = \"viewer\"\nsha256 = \"{}\"\n\
             [[auth.tokens]]\nname = \"duty officer\"\nrole = \"operator\"\nsha256 = \"{}\"\n",
            token_hash(VIEWER),
            token_hash(OPERATOR)
        ),
    )
    .unwrap();
    let state = dir.join("state");
    let (mut child, addr) = serve(&[
        "--config",
        config.to_str().unwrap(),
        "--state-dir",
        state.to_str().unwrap(),
        "--replay",
        rec.to_str().unwrap(),
        "--speed",
        "max",
    ]);
    wait_for_replay(&addr, Some(VIEWER)).await;

    // Refusals on every new endpoint, before any data exists.
    let body = json!({"description": "x", "lat": 34.0, "lon": 12.0});
    let endpoints: [(&str, &str, bool); 12] = [
        ("GET", "/api/contacts", false),
        ("POST", "/api/contacts", true),
        ("GET", "/api/contacts/c-000001", false),
        ("PUT", "/api/contacts/c-000001", true),
        ("POST", "/api/contacts/c-000001/sightings", true),
        ("GET", "/api/contacts/c-000001/intercepts", false),
        ("GET", "/api/incidents", false),
        ("POST", "/api/incidents", true),
        ("GET", "/api/incidents/i-000001", false),
        ("PATCH", "/api/incidents/i-000001", true),
        ("POST", "/api/incidents/i-000001/actions", true),
        ("GET", "/api/incidents/i-000001/intercepts", false),
    ];
    for (method, path, write) in endpoints {
        let b = write.then_some(&body);
        let (st, _) = request(&addr, method, path, None, b).await;
        assert_eq!(st, 401, "{method} {path} without a token");
        let (st, _) = request(&addr, method, path, Some("not-a-token"), b).await;
        assert_eq!(st, 401, "{method} {path} with a bad token");
        let (st, v) = request(&addr, method, path, Some(VIEWER), b).await;
        if write {
            assert_eq!(st, 403, "{method} {path} as viewer: {v}");
        } else {
            assert!(
                st == 200 || st == 404,
                "{method} {path} as viewer: {st} {v}"
            );
        }
    }
    // A WebSocket with a bad token is refused before the upgrade.
    assert!(
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws?token=nope"))
            .await
            .is_err()
    );

    // A viewer watches the SAR channels.
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws?token={VIEWER}"))
        .await
        .unwrap();
    ws.send(Message::Text(
        json!({"type": "subscribe", "id": "sar", "channels": ["contacts", "incidents"]})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let snap = next_matching(&mut ws, "contacts snapshot", |v| v["type"] == "contacts").await;
    assert_eq!(snap["contacts"], json!([]));
    let snap = next_matching(&mut ws, "incidents snapshot", |v| v["type"] == "incidents").await;
    assert_eq!(snap["incidents"], json!([]));

    // Bad input.
    for (b, want) in [
        (json!({"lat": 34.0, "lon": 12.0}), 400),
        (
            json!({"description": "boat", "lat": 95.0, "lon": 12.0}),
            422,
        ),
        (json!({"description": "boat", "lat": 34.0}), 400),
        (
            json!({"description": "boat", "lat": 34.0, "lon": 12.0, "colour": "red"}),
            400,
        ),
        (
            json!({"description": "boat", "lat": 34.0, "lon": 12.0, "source": "radio"}),
            400,
        ),
        (
            json!({"description": "boat", "lat": 34.0, "lon": 12.0, "speed_kn": 2.0}),
            422,
        ),
        (json!([1, 2]), 400),
    ] {
        let (st, v) = request(&addr, "POST", "/api/contacts", Some(OPERATOR), Some(&b)).await;
        assert_eq!(st, want, "{b}: {v}");
        assert!(v["error"].is_string(), "{v}");
    }

    // Contact lifecycle.
    let (st, c) = request(
        &addr,
        "POST",
        "/api/contacts",
        Some(OPERATOR),
        Some(&json!({
            "description": "rubber boat, ~60 persons",
            "lat": 34.9, "lon": 12.6, "uncertainty_nm": 2.0,
            "source": "aircraft", "course_deg": 200.0, "speed_kn": 1.5,
            "note": "seen by SEABIRD",
            "time": "2026-11-28T06:25:00Z"
        })),
    )
    .await;
    assert_eq!(st, 201, "{c}");
    let id = c["id"].as_str().unwrap().to_string();
    assert_eq!(id, "c-000001");
    assert_eq!(c["status"], "active");
    assert_eq!(c["version"], 1);
    assert_eq!(c["created_by"], "duty officer");
    assert_eq!(c["uncertainty_m"], 3704.0);
    assert_eq!(c["time"], "2026-11-28T06:25:00Z");
    let seen = next_matching(&mut ws, "the new contact", |v| v["type"] == "contact").await;
    assert_eq!(seen["contact"]["id"], id.as_str());
    assert_eq!(seen["contact"]["version"], 1);

    let (st, c) = request(
        &addr,
        "POST",
        &format!("/api/contacts/{id}/sightings"),
        Some(OPERATOR),
        Some(
            &json!({"lat": 34.85, "lon": 12.58, "uncertainty_m": 500.0, "source": "phone",
                     "time": "2026-11-28T06:28:00Z", "course_deg": 190.0, "speed_kn": 1.0}),
        ),
    )
    .await;
    assert_eq!(st, 201, "{c}");
    assert_eq!(c["track"].as_array().unwrap().len(), 2);
    assert_eq!(c["lat"], 34.85);
    assert_eq!(c["source"], "phone");
    assert_eq!(c["track"][1]["reported_by"], "duty officer");
    let (st, c) = request(
        &addr,
        "PUT",
        &format!("/api/contacts/{id}"),
        Some(OPERATOR),
        Some(&json!({"description": "rubber boat, ~60 persons, engine failure"})),
    )
    .await;
    assert_eq!(st, 200, "{c}");
    assert_eq!(c["version"], 3);
    let seen = next_matching(&mut ws, "version 3", |v| {
        v["type"] == "contact" && v["contact"]["version"] == 3
    })
    .await;
    assert_eq!(
        seen["contact"]["description"],
        "rubber boat, ~60 persons, engine failure"
    );
    assert_eq!(seen["contact"]["track"].as_array().unwrap().len(), 2);
    let (st, _) = request(
        &addr,
        "PUT",
        &format!("/api/contacts/{id}"),
        Some(OPERATOR),
        Some(&json!({})),
    )
    .await;
    assert_eq!(st, 400, "nothing to change");
    let (st, _) = request(&addr, "GET", "/api/contacts/c-999999", Some(VIEWER), None).await;
    assert_eq!(st, 404);
    let (st, list) = request(
        &addr,
        "GET",
        "/api/contacts?status=active",
        Some(VIEWER),
        None,
    )
    .await;
    assert_eq!((st, list.as_array().unwrap().len()), (200, 1));

    // Intercepts for the contact: ranked by time, reachable first.
    let (st, x) = request(
        &addr,
        "GET",
        &format!("/api/contacts/{id}/intercepts?k=5"),
        Some(VIEWER),
        None,
    )
    .await;
    assert_eq!(st, 200, "{x}");
    let vessels = x["vessels"].as_array().unwrap();
    assert!(!vessels.is_empty() && vessels.len() <= 5, "{x}");
    assert!(vessels[0]["reachable"] == true, "{x}");
    let mut last = 0.0;
    let mut seen_unreachable = false;
    for v in vessels {
        match v["time_to_intercept_min"].as_f64() {
            Some(t) => {
                assert!(!seen_unreachable && t >= last, "sorted by time: {x}");
                // Nobody arrives faster than straight-line at speed + drift.
                let sog = v["vessel"]["sog"].as_f64().unwrap();
                let d = v["distance_nm"].as_f64().unwrap();
                assert!(t >= d / (sog + 1.0) * 60.0 - 0.5, "{v}");
                last = t;
            }
            None => seen_unreachable = true,
        }
    }
    let (st, _) = request(
        &addr,
        "GET",
        &format!("/api/contacts/{id}/intercepts?k=0"),
        Some(VIEWER),
        None,
    )
    .await;
    assert_eq!(st, 400);
    let helper = vessels[0]["vessel"]["mmsi"].as_u64().unwrap();

    // Incident lifecycle.
    let (st, i) = request(
        &addr,
        "POST",
        "/api/incidents",
        Some(OPERATOR),
        Some(&json!({"title": "Rubber boat SW of Lampedusa", "contacts": [id], "note": "call from Alarm Phone"})),
    )
    .await;
    assert_eq!(st, 201, "{i}");
    let iid = i["id"].as_str().unwrap().to_string();
    assert_eq!(
        (iid.as_str(), i["status"].as_str()),
        ("i-000001", Some("open"))
    );
    let actions: Vec<_> = i["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].clone())
        .collect();
    assert_eq!(
        actions,
        vec![json!("create"), json!("link_contact"), json!("note")]
    );
    assert_eq!(i["log"][0]["who"], "duty officer");
    next_matching(&mut ws, "the new incident", |v| {
        v["type"] == "incident" && v["incident"]["id"] == iid.as_str()
    })
    .await;
    let (st, _) = request(
        &addr,
        "POST",
        "/api/incidents",
        Some(OPERATOR),
        Some(&json!({"title": "x", "contacts": ["c-424242"]})),
    )
    .await;
    assert_eq!(st, 404, "linking an unknown contact");

    let act = |b: Value| {
        let (addr, iid) = (addr.clone(), iid.clone());
        async move {
            request(
                &addr,
                "POST",
                &format!("/api/incidents/{iid}/actions"),
                Some(OPERATOR),
                Some(&b),
            )
            .await
        }
    };
    let (st, i) = act(json!({"action": "assign_asset", "asset": {"mmsi": helper}})).await;
    assert_eq!(st, 200, "{i}");
    assert_eq!(i["status"], "assets_assigned", "assigning moves it on");
    assert_eq!(i["assets"][0]["mmsi"], helper);
    let (st, _) = act(json!({"action": "assign_asset", "asset": {"mmsi": helper}})).await;
    assert_eq!(st, 409, "assigned twice");
    let (st, i) = act(json!({"action": "note", "text": "ETA 40 min"})).await;
    assert_eq!(
        (
            st,
            i["log"].as_array().unwrap().last().unwrap()["text"].clone()
        ),
        (200, json!("ETA 40 min"))
    );
    let (st, x) = request(
        &addr,
        "GET",
        &format!("/api/incidents/{iid}/intercepts?k=3"),
        Some(VIEWER),
        None,
    )
    .await;
    assert_eq!(st, 200, "{x}");
    assert_eq!(x["targets"][0]["id"], id.as_str());
    assert!(
        x["vessels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["assigned"] == true),
        "{x}"
    );
    let (st, i) = request(
        &addr,
        "PATCH",
        &format!("/api/incidents/{iid}"),
        Some(OPERATOR),
        Some(&json!({"status": "rescued"})),
    )
    .await;
    assert_eq!((st, i["status"].as_str()), (200, Some("rescued")), "{i}");
    let (st, e) = act(json!({"action": "set_status", "status": "open"})).await;
    assert_eq!(st, 409, "rescued cannot go back to open: {e}");
    let (st, _) = act(json!({"action": "dance"})).await;
    assert_eq!(st, 400);
    let (st, i) =
        act(json!({"action": "set_status", "status": "closed", "reason": "all 60 aboard"})).await;
    assert_eq!((st, i["status"].as_str()), (200, Some("closed")));
    let (st, _) = act(json!({"action": "link_vessel", "mmsi": 247000001})).await;
    assert_eq!(st, 409, "closed");
    let (st, _) = request(
        &addr,
        "POST",
        "/api/incidents/i-000404/actions",
        Some(OPERATOR),
        Some(&json!({"action": "note", "text": "x"})),
    )
    .await;
    assert_eq!(st, 404);
    let (_, open) = request(
        &addr,
        "GET",
        "/api/incidents?status=open",
        Some(VIEWER),
        None,
    )
    .await;
    assert_eq!(open, json!([]));
    let (_, closed) = request(
        &addr,
        "GET",
        "/api/incidents?status=closed",
        Some(VIEWER),
        None,
    )
    .await;
    assert_eq!(closed[0]["id"], iid.as_str());
    let who: Vec<_> = closed[0]["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["who"].as_str().unwrap().to_string())
        .collect();
    assert!(who.iter().all(|w| w == "duty officer"), "{who:?}");
    let seen = next_matching(&mut ws, "the closed incident", |v| {
        v["type"] == "incident" && v["incident"]["status"] == "closed"
    })
    .await;
    assert_eq!(seen["incident"]["version"], closed[0]["version"]);

    // A second client subscribing now gets the live and just-closed ones.
    let (mut ws2, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws?token={OPERATOR}"))
        .await
        .unwrap();
    ws2.send(Message::Text(
        json!({"type": "subscribe", "id": "s", "channels": ["incidents", "contacts"]})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let snap = next_matching(&mut ws2, "contacts snapshot", |v| v["type"] == "contacts").await;
    assert_eq!(snap["contacts"][0]["version"], 3);
    let snap = next_matching(&mut ws2, "incidents snapshot", |v| v["type"] == "incidents").await;
    assert_eq!(snap["incidents"][0]["status"], "closed");

    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

/// The channels stay bounded as history grows: an incident closed two days
/// ago (written to the state database as an earlier run would have) is not
/// in the snapshot but is over HTTP; a contact with more sightings than a
/// channel message carries arrives with its last 100 and the total; an
/// incident change carries only its new log entries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_carry_recent_history_last_sightings_and_log_deltas() {
    let dir = tmp_dir("bounded");
    let config = dir.join("lookout.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\n[auth]\nenabled = true\n\
             [[auth.tokens]]\nname = \"duty officer\"\nrole = \"operator\"\nsha256 = \"{}\"\n",
            token_hash(OPERATOR)
        ),
    )
    .unwrap();
    let state = dir.join("state");
    std::fs::create_dir_all(&state).unwrap();
    {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let (opened, closed) = (wall - 72 * 3_600_000, wall - 48 * 3_600_000);
        let store = store::Store::open(&state.join("lookout.db")).unwrap();
        let mut old =
            sar::Incident::new("i-000001", "Old case", "night watch", opened, opened).unwrap();
        old.execute(
            sar::Action::SetStatus {
                status: sar::IncidentStatus::Closed,
                reason: None,
            },
            "night watch",
            closed,
            closed,
        )
        .unwrap();
        store.append_incident(&old, &old.log).unwrap();
    }
    let (mut child, addr) = serve(&[
        "--config",
        config.to_str().unwrap(),
        "--state-dir",
        state.to_str().unwrap(),
    ]);
    let tok = Some(OPERATOR);

    // A contact with 105 sightings.
    let (st, c) = request(
        &addr,
        "POST",
        "/api/contacts",
        tok,
        Some(
            &json!({"description": "drifting boat", "lat": 34.0, "lon": 12.0,
                     "time": 1_795_800_000_000_i64}),
        ),
    )
    .await;
    assert_eq!(st, 201, "{c}");
    let cid = c["id"].as_str().unwrap().to_string();
    for k in 1..105_i64 {
        let (st, c) = request(
            &addr,
            "POST",
            &format!("/api/contacts/{cid}/sightings"),
            tok,
            Some(&json!({"lat": 34.0 - k as f64 * 0.001, "lon": 12.0,
                         "time": 1_795_800_000_000_i64 + k * 60_000})),
        )
        .await;
        assert_eq!(st, 201, "{c}");
    }
    // An incident closed just now.
    let (st, inc) = request(
        &addr,
        "POST",
        "/api/incidents",
        tok,
        Some(&json!({"title": "Recent case", "contacts": [cid]})),
    )
    .await;
    assert_eq!(st, 201, "{inc}");
    let iid = inc["id"].as_str().unwrap().to_string();
    assert_eq!(iid, "i-000002", "the stored incident was loaded");
    let (st, inc) = request(
        &addr,
        "PATCH",
        &format!("/api/incidents/{iid}"),
        tok,
        Some(&json!({"status": "closed"})),
    )
    .await;
    assert_eq!(st, 200, "{inc}");

    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws?token={OPERATOR}"))
        .await
        .unwrap();
    ws.send(Message::Text(
        json!({"type": "subscribe", "id": "sar", "channels": ["contacts", "incidents"]})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let snap = next_matching(&mut ws, "contacts snapshot", |v| v["type"] == "contacts").await;
    assert_eq!(
        (snap["total"].as_u64(), snap["truncated"].as_bool()),
        (Some(1), Some(false))
    );
    let sc = &snap["contacts"][0];
    assert_eq!(sc["sightings_total"], 105);
    let track = sc["track"].as_array().unwrap();
    assert_eq!(track.len(), 100, "the last 100 sightings");
    assert_eq!(track[99]["time_ms"], 1_795_800_000_000_i64 + 104 * 60_000);
    assert_eq!(track[0]["time_ms"], 1_795_800_000_000_i64 + 5 * 60_000);
    let snap = next_matching(&mut ws, "incidents snapshot", |v| v["type"] == "incidents").await;
    let ids: Vec<_> = snap["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, [iid.as_str()], "closed 48 h ago: not in the snapshot");
    assert_eq!(snap["incidents"][0]["log_total"], inc["version"]);

    // Over HTTP: everything, the full track, and closed incidents by page.
    let (_, full) = request(&addr, "GET", &format!("/api/contacts/{cid}"), tok, None).await;
    assert_eq!(full["track"].as_array().unwrap().len(), 105);
    let (_, closed) = request(&addr, "GET", "/api/incidents?status=closed", tok, None).await;
    let ids: Vec<_> = closed
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [iid.as_str(), "i-000001"]);
    let (_, first) = request(
        &addr,
        "GET",
        "/api/incidents?status=closed&limit=1",
        tok,
        None,
    )
    .await;
    assert_eq!(first.as_array().unwrap().len(), 1);
    assert_eq!(first[0]["id"], iid.as_str());
    let before = first[0]["updated"].as_str().unwrap();
    let (_, next) = request(
        &addr,
        "GET",
        &format!("/api/incidents?status=closed&limit=1&before={before}"),
        tok,
        None,
    )
    .await;
    assert_eq!(next[0]["id"], "i-000001");
    assert_eq!(next[0]["log"].as_array().unwrap().len(), 2);
    let (st, _) = request(&addr, "GET", "/api/incidents?limit=0", tok, None).await;
    assert_eq!(st, 400);

    // A change carries the incident's state and only the new log entry.
    let (st, noted) = request(
        &addr,
        "POST",
        &format!("/api/incidents/{iid}/actions"),
        tok,
        Some(&json!({"action": "note", "text": "debrief filed"})),
    )
    .await;
    assert_eq!(st, 200, "{noted}");
    let version = noted["version"].as_u64().unwrap();
    assert!(version >= 4, "{noted}");
    let seen = next_matching(&mut ws, "the note", |v| {
        v["type"] == "incident" && v["incident"]["version"] == version
    })
    .await;
    let i = &seen["incident"];
    assert_eq!(i["status"], "closed");
    assert_eq!(i["log_total"], version);
    let log = i["log"].as_array().unwrap();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(
        (log[0]["seq"].as_u64(), log[0]["text"].as_str()),
        (Some(version), Some("debrief filed"))
    );
    let (_, whole) = request(&addr, "GET", &format!("/api/incidents/{iid}"), tok, None).await;
    assert_eq!(whole["log"].as_array().unwrap().len() as u64, version);

    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}
