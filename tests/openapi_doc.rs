//! The OpenAPI document of a running `lookout serve`, checked by an
//! independent validator (`openapi-spec-validator`, PyPI; `make
//! test-deps`), and the server's real answers checked against it:
//!
//! * `GET /api/openapi.json` (no token) is a valid OpenAPI **3.1**
//!   document (and a broken copy is refused, so the validator is live);
//! * every answer of a session that touches every route family (vessels,
//!   track, nearest, zones, alerts and an acknowledgement, contacts,
//!   incidents and actions, search area, pattern, coverage, SITREP, and
//!   error answers) validates against the schema the document gives for
//!   that operation, status and content type (`openapi-schema-validator`'s
//!   OAS 3.1 validator);
//! * every body the server accepted validates against the operation's
//!   request body schema;
//! * unknown query parameters and values are 400 in the error format.

#[path = "python_support.rs"]
mod python;
#[path = "sar_support.rs"]
mod support;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use support::{lookout, serve, token_hash, wait_for_replay};

const VIEWER: &str = "viewer-token-0a91";
const OPERATOR: &str = "operator-token-7f3c";
/// The scenario's start, 2026-11-28T06:00:00Z.
const T0: i64 = 1_795_845_600_000;
const MIN: i64 = 60_000;

/// A fishing vessel on its way east along 34.70N and an AIS-SART switched
/// on at one minute (a distress alert).
const SCENARIO: &str = r#"
name = "openapi-test"
start = "2026-11-28T06:00:00Z"
seed = 7
station = "sim"

[[events]]
kind = "loiter"
at = "20m"
duration = "1h"
lon = 13.1
lat = 34.7

[[events]]
kind = "sart_activation"
at = "1m"
lon = 13.0
lat = 34.75
"#;

fn recording(dir: &Path) -> PathBuf {
    let scenario = dir.join("scenario.toml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let out = dir.join("rec.nmea");
    let st = lookout()
        .args(["simulate", "--duration", "25m", "--scenario"])
        .arg(&scenario)
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    out
}

fn config(dir: &Path) -> PathBuf {
    let config = dir.join("lookout.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\n[auth]\nenabled = true\n\
             [[auth.tokens]]\nname = \"watch\"\nrole = \"viewer\"\nsha256 = \"{}\"\n\
             [[auth.tokens]]\nname = \"duty officer\"\nrole = \"operator\"\nsha256 = \"{}\"\n\
             [[sar.rcc]]\nname = \"RCC Malta\"\nsar_region = \"malta_srr\"\n",
            token_hash(VIEWER),
            token_hash(OPERATOR)
        ),
    )
    .unwrap();
    config
}

/// One exchange, as the validator reads it.
struct Exchange {
    method: &'static str,
    /// The documented path (`/api/contacts/{id}`).
    template: &'static str,
    status: u16,
    content_type: String,
    request: Option<Value>,
    body: Value,
}

struct Client {
    addr: String,
    log: Vec<Exchange>,
}

impl Client {
    /// Send; record the exchange; return `(status, body)` (text bodies as
    /// a JSON string).
    async fn send(
        &mut self,
        method: &'static str,
        template: &'static str,
        url: &str,
        token: Option<&str>,
        request: Option<Value>,
    ) -> (u16, Value) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(&self.addr).await.unwrap();
        let body = request.as_ref().map(Value::to_string).unwrap_or_default();
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let req = format!(
            "{method} {url} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut resp = Vec::new();
        s.read_to_end(&mut resp).await.unwrap();
        let resp = String::from_utf8(resp).unwrap();
        let (head, text) = resp.split_once("\r\n\r\n").unwrap();
        let status: u16 = head[9..12].parse().unwrap();
        let content_type = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-type:")
                    .map(|v| v.trim().to_string())
            })
            .unwrap_or_default();
        let body = if content_type.contains("json") {
            serde_json::from_str(text).unwrap_or_else(|e| panic!("{url}: {e}: {text}"))
        } else {
            Value::String(text.to_string())
        };
        self.log.push(Exchange {
            method,
            template,
            status,
            content_type,
            request,
            body: body.clone(),
        });
        (status, body)
    }
}

/// Validates the document as OpenAPI 3.1 and every exchange against it.
const VALIDATE: &str = r#"
import copy, json, sys
from openapi_spec_validator import validate, OpenAPIV31SpecValidator
from openapi_schema_validator import OAS31Validator
from openapi_schema_validator import oas31_format_checker

data = json.load(sys.stdin)
spec = data["spec"]
assert spec["openapi"].startswith("3.1"), spec["openapi"]
validate(spec, cls=OpenAPIV31SpecValidator)

# The validator is live: a broken copy is refused.
broken = copy.deepcopy(spec)
broken["paths"]["/api/status"]["get"]["responses"] = "none"
try:
    validate(broken, cls=OpenAPIV31SpecValidator)
    raise SystemExit("a broken document passed")
except SystemExit:
    raise
except Exception:
    pass

def check(schema, instance, what):
    # $refs (#/components/…) resolve against the document's components.
    root = dict(schema)
    root["components"] = spec["components"]
    OAS31Validator(root, format_checker=oas31_format_checker).validate(instance)

def media(content, content_type, what):
    for key, value in content.items():
        if key.split(";")[0].strip() == content_type.split(";")[0].strip():
            return value["schema"]
    raise SystemExit(f"{what}: {content_type} is not documented: {list(content)}")

answers = requests = 0
for x in data["exchanges"]:
    op = spec["paths"][x["template"]][x["method"].lower()]
    what = f'{x["method"]} {x["template"]} {x["status"]}'
    responses = op["responses"]
    if str(x["status"]) not in responses:
        raise SystemExit(f"{what}: status not documented ({list(responses)})")
    r = responses[str(x["status"])]
    if "content" in r:
        try:
            check(media(r["content"], x["content_type"], what), x["body"], what)
        except Exception as e:
            raise SystemExit(f"{what}: the answer does not match the document: {e}")
        answers += 1
    if x["request"] is not None and x["status"] < 300:
        schema = media(op["requestBody"]["content"], "application/json", what)
        try:
            check(schema, x["request"], what)
        except Exception as e:
            raise SystemExit(f"{what}: an accepted body does not match the document: {e}")
        requests += 1
print(json.dumps({"answers": answers, "requests": requests}))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_document_is_valid_openapi_3_1_and_describes_the_real_answers() {
    let dir = tempfile::TempDir::new().unwrap();
    let rec = recording(dir.path());
    let config = config(dir.path());
    let state = dir.path().join("state");
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
    let mut c = Client {
        addr: addr.clone(),
        log: Vec::new(),
    };
    let (vw, op) = (Some(VIEWER), Some(OPERATOR));

    // The document, without a token.
    let (st, spec) = c
        .send("GET", "/api/openapi.json", "/api/openapi.json", None, None)
        .await;
    assert_eq!(st, 200, "{spec}");
    c.log.clear();

    // The picture.
    c.send("GET", "/healthz", "/healthz", None, None).await;
    c.send("GET", "/healthz", "/healthz", vw, None).await;
    let (st, _) = c.send("GET", "/api/status", "/api/status", vw, None).await;
    assert_eq!(st, 200);
    c.send("GET", "/api/sources", "/api/sources", vw, None)
        .await;
    let (_, fc) = c
        .send(
            "GET",
            "/api/vessels",
            "/api/vessels?bbox=12.5,34.4,13.5,35.0&class=A,B,ais_sart",
            vw,
            None,
        )
        .await;
    let features = fc["features"].as_array().unwrap();
    assert!(!features.is_empty(), "{fc}");
    let vessel = features
        .iter()
        .find(|f| f["properties"]["class"] == "A")
        .map(|f| f["id"].as_u64().unwrap())
        .expect("a class A vessel near the contact");
    c.send("GET", "/api/vessels", "/api/vessels?q=2&limit=5", vw, None)
        .await;
    let (st, _) = c
        .send(
            "GET",
            "/api/vessels/{mmsi}",
            &format!("/api/vessels/{vessel}"),
            vw,
            None,
        )
        .await;
    assert_eq!(st, 200);
    let (st, _) = c
        .send(
            "GET",
            "/api/vessels/{mmsi}/track",
            &format!("/api/vessels/{vessel}/track"),
            vw,
            None,
        )
        .await;
    assert_eq!(st, 200);
    let (st, n) = c
        .send(
            "GET",
            "/api/nearest",
            "/api/nearest?lat=34.7&lon=13.0&k=3",
            vw,
            None,
        )
        .await;
    assert_eq!(st, 200, "{n}");
    c.send("GET", "/api/zones", "/api/zones", vw, None).await;

    // Zones written and deleted.
    let zone = json!({"type": "Feature",
        "properties": {"id": "test_box", "name": "Test box", "kind": "watch"},
        "geometry": {"type": "Polygon", "coordinates":
            [[[12.0, 34.0], [12.5, 34.0], [12.5, 34.5], [12.0, 34.5], [12.0, 34.0]]]}});
    let (st, v) = c
        .send(
            "PUT",
            "/api/zones/{id}",
            "/api/zones/test_box",
            op,
            Some(zone),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let (st, v) = c
        .send("DELETE", "/api/zones/{id}", "/api/zones/test_box", op, None)
        .await;
    assert_eq!(st, 200, "{v}");

    // Alerts and an acknowledgement.
    let (_, alerts) = c.send("GET", "/api/alerts", "/api/alerts", vw, None).await;
    let alert = alerts
        .as_array()
        .and_then(|a| a.first())
        .map(|a| a["id"].as_str().unwrap().to_string())
        .expect("the AIS-SART raised an alert");
    let (st, v) = c
        .send(
            "POST",
            "/api/alerts/{id}/ack",
            &format!("/api/alerts/{alert}/ack"),
            op,
            Some(json!({"note": "on it"})),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    c.send(
        "GET",
        "/api/alerts",
        "/api/alerts?state=acknowledged",
        vw,
        None,
    )
    .await;

    // A contact and an incident, as in docs/protocol.md.
    let (st, contact) = c
        .send(
            "POST",
            "/api/contacts",
            "/api/contacts",
            op,
            Some(
                json!({"description": "rubber boat, ~40 persons", "lat": 34.7, "lon": 13.046,
                        "time": T0, "uncertainty_nm": 1.0, "source": "aircraft",
                        "course_deg": 200.0, "speed_kn": 1.5, "note": "seen by SEABIRD"}),
            ),
        )
        .await;
    assert_eq!(st, 201, "{contact}");
    let cid = contact["id"].as_str().unwrap().to_string();
    let curl = format!("/api/contacts/{cid}");
    let (st, v) = c
        .send(
            "PUT",
            "/api/contacts/{id}",
            &curl,
            op,
            Some(json!({"description": "rubber boat, ~60 persons"})),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let (st, v) = c
        .send(
            "POST",
            "/api/contacts/{id}/sightings",
            &format!("{curl}/sightings"),
            op,
            Some(
                json!({"lat": 34.69, "lon": 13.04, "time": "2026-11-28T06:10:00Z",
                        "source": "vessel"}),
            ),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    c.send("GET", "/api/contacts/{id}", &curl, vw, None).await;
    c.send(
        "GET",
        "/api/contacts",
        "/api/contacts?status=active",
        vw,
        None,
    )
    .await;
    let (st, v) = c
        .send(
            "GET",
            "/api/contacts/{id}/intercepts",
            &format!("{curl}/intercepts?k=3"),
            vw,
            None,
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let (st, incident) = c
        .send(
            "POST",
            "/api/incidents",
            "/api/incidents",
            op,
            Some(
                json!({"title": "Rubber boat SW of Lampedusa", "contacts": [cid],
                        "alerts": [alert], "note": "call from Alarm Phone"}),
            ),
        )
        .await;
    assert_eq!(st, 201, "{incident}");
    let id = incident["id"].as_str().unwrap().to_string();
    let iurl = format!("/api/incidents/{id}");
    let (st, v) = c
        .send(
            "POST",
            "/api/incidents/{id}/actions",
            &format!("{iurl}/actions"),
            op,
            Some(json!({"action": "assign_asset", "asset": {"mmsi": vessel}})),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let (st, v) = c
        .send(
            "PATCH",
            "/api/incidents/{id}",
            &iurl,
            op,
            Some(json!({"action": "note", "text": "ETA 40 min"})),
        )
        .await;
    assert_eq!(st, 200, "{v}");

    // Search planning.
    let (st, v) = c
        .send(
            "POST",
            "/api/incidents/{id}/search-area",
            &format!("{iurl}/search-area"),
            op,
            Some(json!({"contact": cid, "object": "rubber_boat_overloaded",
                        "wind": [{"at": T0, "from_deg": 0, "kn": 10}],
                        "current": {"set_deg": 90, "kn": 0.2},
                        "at": T0 + 20 * MIN, "safety_factor": 1.1})),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    c.send(
        "GET",
        "/api/incidents/{id}/search-area",
        &format!("{iurl}/search-area?n=1"),
        vw,
        None,
    )
    .await;
    let (st, v) = c
        .send(
            "POST",
            "/api/incidents/{id}/patterns",
            &format!("{iurl}/patterns"),
            op,
            Some(json!({"asset": vessel, "pattern": "expanding_square",
                        "csp": {"lat": 34.6994, "lon": 13.0473}, "first_leg_deg": 0,
                        "spacing_nm": 1.0, "legs": 9, "speed_kn": 12, "start": T0})),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    c.send(
        "GET",
        "/api/incidents/{id}/patterns",
        &format!("{iurl}/patterns"),
        vw,
        None,
    )
    .await;
    for format in ["geojson", "gpx", "kml", "nmea"] {
        let (st, v) = c
            .send(
                "GET",
                "/api/incidents/{id}/patterns/{n}",
                &format!("{iurl}/patterns/1?format={format}"),
                vw,
                None,
            )
            .await;
        assert_eq!(st, 200, "{format}: {v}");
    }
    let (st, v) = c
        .send(
            "GET",
            "/api/incidents/{id}/coverage",
            &format!("{iurl}/coverage"),
            vw,
            None,
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let (st, v) = c
        .send(
            "GET",
            "/api/incidents/{id}/intercepts",
            &format!("{iurl}/intercepts?k=2"),
            vw,
            None,
        )
        .await;
    assert_eq!(st, 200, "{v}");
    for q in ["format=json&number=2&priority=urgency", "format=text"] {
        let (st, v) = c
            .send(
                "GET",
                "/api/incidents/{id}/sitrep",
                &format!("{iurl}/sitrep?{q}"),
                vw,
                None,
            )
            .await;
        assert_eq!(st, 200, "{q}: {v}");
    }
    c.send("GET", "/api/incidents/{id}", &iurl, vw, None).await;
    c.send(
        "GET",
        "/api/incidents",
        "/api/incidents?status=open",
        vw,
        None,
    )
    .await;

    // Error answers, each in the one error format.
    for (method, template, url, token, want) in [
        ("GET", "/api/vessels", "/api/vessels?class=zzz", vw, 400),
        ("GET", "/api/alerts", "/api/alerts?state=x", vw, 400),
        ("GET", "/api/alerts", "/api/alerts?foo=1", vw, 400),
        ("GET", "/api/incidents", "/api/incidents?status=x", vw, 400),
        ("GET", "/api/status", "/api/status?foo=1", vw, 400),
        ("GET", "/api/status", "/api/status", None, 401),
        ("GET", "/api/vessels/{mmsi}", "/api/vessels/1", vw, 404),
        (
            "GET",
            "/api/history",
            "/api/history?lat=1&lon=2&radius_nm=3&from=0&to=1",
            vw,
            503,
        ),
        ("DELETE", "/api/zones/{id}", "/api/zones/test_box", vw, 403),
    ] {
        let (st, v) = c.send(method, template, url, token, None).await;
        assert_eq!(st, want, "{method} {url}: {v}");
        assert!(v["error"].is_string(), "{method} {url}: {v}");
    }
    let (_, v) = c
        .send("GET", "/api/vessels", "/api/vessels?class=zzz", vw, None)
        .await;
    let message = v["error"].as_str().unwrap();
    assert!(
        message.contains("class") && message.contains("zzz") && message.contains("sar_aircraft"),
        "{message}"
    );

    // The independent validator: the document, then every exchange.
    let exchanges: Vec<Value> = c
        .log
        .iter()
        .map(|x| {
            json!({"method": x.method, "template": x.template, "status": x.status,
                   "content_type": x.content_type, "request": x.request, "body": x.body})
        })
        .collect();
    let input = json!({"spec": spec, "exchanges": exchanges}).to_string();
    let out = python::run(VALIDATE, &[], input.as_bytes());
    let counts: Value = serde_json::from_str(out.trim()).unwrap();
    assert!(counts["answers"].as_u64().unwrap() >= 40, "{counts}");
    assert!(counts["requests"].as_u64().unwrap() >= 10, "{counts}");

    child.kill().unwrap();
    child.wait().unwrap();
}
