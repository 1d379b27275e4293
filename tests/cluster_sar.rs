//! Contacts, incidents and zone edits in a cluster, on a real nats-server
//! (started here on 127.0.0.1 with JetStream in a temp folder) with one
//! core and two edge `lookout serve` processes: a contact, an incident and
//! a zone made on edge 1 are on edge 2 over HTTP and on its WebSocket
//! `contacts` channel; while the core is down a contact or zone write at an
//! edge is refused with 503 after its timeout; after the core is killed with SIGKILL and
//! restarted on the same state folder, it has them, a new edge loads them
//! from it, both edges still have them, a
//! sighting added at edge 2 reaches edge 1 and a contact made on the core's
//! own API reaches the edges; a write repeated with the same
//! request id is applied once.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

#[path = "node_support.rs"]
mod node_support;
use node_support::{lookout, Node};

/// This test run's own folder (removed at the end).
fn tmp_dir() -> PathBuf {
    std::env::temp_dir().join(format!("lookout-cluster-sar-{}", std::process::id()))
}

fn tmp(name: &str) -> PathBuf {
    std::fs::create_dir_all(tmp_dir()).unwrap();
    tmp_dir().join(name)
}

fn role(name: &str, role: &str, url: &str) -> Node {
    let mut cmd = lookout();
    cmd.arg("serve")
        .args(["--listen", "127.0.0.1:0", "--state-dir"])
        .arg(tmp(&format!("state-{name}")))
        .args(["--role", role, "--bus-url", url, "--node", name]);
    Node::start(name, cmd, tmp(&format!("{name}.log")))
}

/// One HTTP request (auth is off on loopback): status and JSON body.
async fn request(addr: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(
        format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).await.unwrap();
    let status = resp[9..12].parse().unwrap_or(0);
    let json = resp
        .split("\r\n\r\n")
        .nth(1)
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (status, json)
}

/// Poll `path` on `addr` until `ok` holds (15 s).
async fn until(addr: &str, path: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (st, v) = request(addr, "GET", path, None).await;
        if st == 200 && ok(&v) {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{addr}{path}: still {st} {v}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn has_zone(zones: &Value, id: &str) -> bool {
    zones["features"]
        .as_array()
        .is_some_and(|fs| fs.iter().any(|f| f["properties"]["id"] == id))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sar_written_at_one_edge_reaches_the_core_and_every_edge() {
    let Some(nats) = bus::testkit::NatsServer::start() else {
        return;
    };
    let url = nats.url();
    let mut core = Some(role("core1", "core", &url));
    let edge1 = role("edge1", "edge", &url);
    let edge2 = role("edge2", "edge", &url);
    // Both edges follow the core.
    for e in [&edge1, &edge2] {
        until(&e.addr, "/healthz", |v| !v["picture"]["core"].is_null()).await;
    }
    // An edge serves the same API and its document as the core (one
    // router), and refuses an unknown value the same way.
    let (st, doc) = request(&edge1.addr, "GET", "/api/openapi.json", None).await;
    assert_eq!(st, 200, "{doc}");
    let core_addr = core.as_ref().unwrap().addr.clone();
    let (_, core_doc) = request(&core_addr, "GET", "/api/openapi.json", None).await;
    assert_eq!(doc, core_doc);
    let (st, v) = request(&edge1.addr, "GET", "/api/alerts?state=x", None).await;
    assert_eq!(st, 400, "{v}");

    // A dispatcher at edge 2 watches the SAR channels.
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", edge2.addr))
        .await
        .unwrap();
    ws.send(Message::text(
        json!({"type": "subscribe", "id": "sar", "channels": ["contacts", "incidents"]})
            .to_string(),
    ))
    .await
    .unwrap();

    // An operator at edge 1 reports a contact and opens an incident.
    let (st, contact) = request(
        &edge1.addr,
        "POST",
        "/api/contacts",
        Some(
            &json!({"description": "rubber boat, ~60 persons", "lat": 35.1, "lon": 12.2,
                     "source": "aircraft", "course_deg": 200.0, "speed_kn": 1.5}),
        ),
    )
    .await;
    assert_eq!(st, 201, "{contact}");
    let cid = contact["id"].as_str().unwrap().to_string();
    let (st, incident) = request(
        &edge1.addr,
        "POST",
        "/api/incidents",
        Some(&json!({"title": "Rubber boat SE of Lampedusa", "contacts": [cid]})),
    )
    .await;
    assert_eq!(st, 201, "{incident}");
    let iid = incident["id"].as_str().unwrap().to_string();
    let zone = json!({"type": "Feature",
        "properties": {"name": "Search area 1", "kind": "sar"},
        "geometry": {"type": "Polygon", "coordinates": [[[12.0,35.0],[12.4,35.0],[12.4,35.3],[12.0,35.3],[12.0,35.0]]]}});
    let (st, v) = request(&edge1.addr, "PUT", "/api/zones/search-1", Some(&zone)).await;
    assert_eq!(st, 200, "{v}");

    // Edge 2 has them over HTTP …
    let seen = until(&edge2.addr, &format!("/api/contacts/{cid}"), |_| true).await;
    assert_eq!(seen["description"], "rubber boat, ~60 persons");
    assert_eq!(seen["version"], contact["version"]);
    let seen = until(&edge2.addr, &format!("/api/incidents/{iid}"), |_| true).await;
    assert_eq!(seen["contacts"], json!([cid]));
    until(&edge2.addr, "/api/contacts", |v| {
        v.as_array().is_some_and(|a| a.len() == 1)
    })
    .await;
    until(&edge2.addr, "/api/zones", |z| has_zone(z, "search-1")).await;
    // … ranked against its own mirror (no vessels here: an empty ranking, not an error).
    let (st, v) = request(
        &edge2.addr,
        "GET",
        &format!("/api/contacts/{cid}/intercepts"),
        None,
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["contact"], json!(cid));
    // … and on its WebSocket contacts channel.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut got_contact = false;
    while !got_contact {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("no contact on edge 2's WebSocket")
            .unwrap()
            .unwrap();
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(&t).unwrap();
            got_contact = (v["type"] == "contact" && v["contact"]["id"] == json!(cid))
                || (v["type"] == "contacts"
                    && v["contacts"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|c| c["id"] == json!(cid))));
        }
    }

    // A write repeated with the same request id (an edge retrying) is applied once.
    let client = async_nats::connect(&url).await.unwrap();
    let write = json!({"request": "test-retry-1", "who": "tester", "op": "update_contact",
                       "id": cid, "body": {"lat": 35.0, "lon": 12.1}});
    let mut versions = Vec::new();
    for _ in 0..2 {
        let r = client
            .request("lookout.sar.write", write.to_string().into())
            .await
            .unwrap();
        let r: Value = serde_json::from_slice(&r.payload).unwrap();
        versions.push(r["ok"]["version"].clone());
    }
    assert_eq!(versions[0], versions[1], "the retry was applied again");
    let v = until(&edge1.addr, &format!("/api/contacts/{cid}"), |c| {
        c["version"] == versions[0]
    })
    .await;
    assert_eq!(v["track"].as_array().unwrap().len(), 2, "{v}");

    // The core dies: a write at an edge is refused, clearly, after its timeout.
    core.take().unwrap().child.kill().unwrap();
    let (st, v) = request(
        &edge1.addr,
        "POST",
        "/api/contacts",
        Some(&json!({"description": "never saved", "lat": 35.0, "lon": 12.0})),
    )
    .await;
    assert_eq!(st, 503, "{v}");
    assert!(
        v["error"].as_str().unwrap_or_default().contains("core"),
        "{v}"
    );
    let (st, v) = request(&edge2.addr, "PUT", "/api/zones/never", Some(&zone)).await;
    assert_eq!(st, 503, "{v}");
    // The core comes back on its state folder: everything is still there,
    // on both edges.
    core = Some(role("core1", "core", &url));
    for e in [&edge1, &edge2] {
        until(&e.addr, "/api/contacts", |v| {
            v.as_array()
                .is_some_and(|a| a.len() == 1 && a[0]["id"] == json!(cid))
        })
        .await;
        until(&e.addr, &format!("/api/incidents/{iid}"), |_| true).await;
        until(&e.addr, "/api/zones", |z| has_zone(z, "search-1")).await;
    }
    // The restarted core has them from its state database, and a new edge
    // loads them from it.
    let core_addr = core.as_ref().unwrap().addr.clone();
    until(&core_addr, &format!("/api/contacts/{cid}"), |_| true).await;
    until(&core_addr, &format!("/api/incidents/{iid}"), |_| true).await;
    let edge3 = role("edge3", "edge", &url);
    until(&edge3.addr, &format!("/api/contacts/{cid}"), |_| true).await;
    until(&edge3.addr, &format!("/api/incidents/{iid}"), |_| true).await;
    until(&edge3.addr, "/api/zones", |z| has_zone(z, "search-1")).await;
    drop(edge3);
    // Writes flow again, from edge 2 to edge 1.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let updated = loop {
        let (st, v) = request(
            &edge2.addr,
            "POST",
            &format!("/api/contacts/{cid}/sightings"),
            Some(&json!({"lat": 34.9, "lon": 12.0, "source": "vessel"})),
        )
        .await;
        if st == 200 || st == 201 {
            break v;
        }
        assert!(tokio::time::Instant::now() < deadline, "{st} {v}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let v = until(&edge1.addr, &format!("/api/contacts/{cid}"), |c| {
        c["version"] == updated["version"]
    })
    .await;
    assert_eq!(v["track"].as_array().unwrap().len(), 3, "{v}");
    // A contact made on the core's own HTTP API reaches the edges too.
    let (st, v) = request(
        &core_addr,
        "POST",
        "/api/contacts",
        Some(&json!({"description": "fishing boat adrift", "lat": 35.4, "lon": 12.6})),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    until(
        &edge1.addr,
        &format!("/api/contacts/{}", v["id"].as_str().unwrap()),
        |_| true,
    )
    .await;
    let (st, v) = request(&edge1.addr, "DELETE", "/api/zones/search-1", None).await;
    assert_eq!(st, 200, "{v}");
    until(&edge2.addr, "/api/zones", |z| !has_zone(z, "search-1")).await;
    drop(core);
    let _ = std::fs::remove_dir_all(tmp_dir());
}
