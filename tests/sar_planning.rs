//! Search planning (issue 17) through `lookout serve` as a client sees it:
//! real HTTP on 127.0.0.1, tokens with roles, an RCC in the config, and a
//! simulated recording in which a fishing vessel steams east through the
//! point where a rubber boat was reported, with an AIS-SART drifting 3 NM
//! away.
//!
//! * `POST …/search-area`: the answer's shape and numbers (R = fs × E, the
//!   datum moved downwind and with the current from the contact), stored in
//!   the incident's log; the current measured from the AIS-SART when none
//!   is given;
//! * `POST …/patterns` for the assigned vessel; `GET …/patterns/{n}` as
//!   GeoJSON, GPX and KML (parsed back) and NMEA (checksums verified);
//! * `GET …/coverage` rising while the replay moves the vessel through the
//!   area, then the same numbers as of given times (`until`);
//! * `GET …/sitrep` and the incident's `rcc` from `[[sar.rcc]]`;
//! * 400/403/404/409 on bad input, and everything the same after a
//!   restart on the same state database.

#[path = "sar_support.rs"]
mod support;

use sar::geo::{bearing_deg, distance_nm, LatLon};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::*;

const VIEWER: &str = "viewer-token-5d21";
const OPERATOR: &str = "operator-token-c8e0";
/// The scenario's start, 2026-11-28T06:00:00Z.
const T0: i64 = 1_795_845_600_000;
const MIN: i64 = 60_000;
/// Where the boat was reported: on the fishing vessel's way east along
/// 34.70N, 2.8 NM after its start.
const LKP: (f64, f64) = (34.70, 13.046);

/// The fishing vessel starts 5.3 NM west of (34.7N, 13.1E) and arrives
/// there at 40 minutes (8 kn due east); the AIS-SART is switched on at one
/// minute 3 NM to the north-west.
const SCENARIO: &str = r#"
name = "sar-planning-test"
start = "2026-11-28T06:00:00Z"
seed = 17
station = "sim"

[[events]]
kind = "loiter"
at = "40m"
duration = "2h"
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
    let out = dir.join("planning.nmea");
    let st = lookout()
        .args(["simulate", "--duration", "45m", "--scenario"])
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
             [[sar.rcc]]\nname = \"RCC Malta\"\nphone = \"+356 2180 0000\"\n\
             email = \"rcc@example.mt\"\nmmsi = 2150001\nsar_region = \"malta_srr\"\n\
             [[sar.rcc]]\nname = \"JRCC Libya\"\nsar_region = \"libya_srr\"\n",
            token_hash(VIEWER),
            token_hash(OPERATOR)
        ),
    )
    .unwrap();
    config
}

/// One HTTP request answered with any content: `(status, content type,
/// body)`.
async fn raw(addr: &str, path: &str, token: &str) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).await.unwrap();
    let resp = String::from_utf8(resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    let status = head[9..12].parse().unwrap();
    let ctype = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type:")
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_default();
    (status, ctype, body.to_string())
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn latlon(v: &Value) -> LatLon {
    LatLon::new(f(&v["lat"]), f(&v["lon"]))
}

/// `… ?until=` as RFC 3339.
fn at(ms: i64) -> String {
    sar::contact::format_time(ms)
}

/// The NMEA checksum is the XOR of the bytes between `$` and `*`.
fn check_nmea(line: &str) {
    assert!(line.len() + 2 <= 82, "longer than 82 characters: {line}");
    let body = line.strip_prefix('$').unwrap_or_else(|| panic!("{line}"));
    let (body, sum) = body.split_once('*').unwrap();
    let x = body.bytes().fold(0u8, |a, b| a ^ b);
    assert_eq!(format!("{x:02X}"), sum, "checksum of {line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_planning_over_http() {
    let dir = tempfile::TempDir::new().unwrap();
    let rec = recording(dir.path());
    let config = config(dir.path());
    let state = dir.path().join("state");
    let serve_args = |speed: &str| {
        vec![
            "--config".to_string(),
            config.to_str().unwrap().to_string(),
            "--state-dir".into(),
            state.to_str().unwrap().to_string(),
            "--replay".into(),
            rec.to_str().unwrap().to_string(),
            "--speed".into(),
            speed.to_string(),
        ]
    };
    // 45 minutes of message time in about 22 seconds: the vessel crosses
    // the search area between about 6 and 14 seconds after the start.
    let args = serve_args("120");
    let (mut child, addr) = serve(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let a = addr.as_str();
    let op = Some(OPERATOR);
    let vw = Some(VIEWER);

    // The fishing vessel, as soon as the picture has it.
    let deadline = Instant::now() + Duration::from_secs(10);
    let vessel = loop {
        let (_, fc) = request(a, "GET", "/api/vessels?bbox=12.9,34.6,13.2,34.8", vw, None).await;
        let found = fc["features"].as_array().and_then(|l| {
            l.iter()
                .map(|v| &v["properties"])
                .find(|p| p["class"] == "A")
                .and_then(|p| p["mmsi"].as_u64())
        });
        if let Some(m) = found {
            break m;
        }
        assert!(
            Instant::now() < deadline,
            "the fishing vessel never appeared"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    // A reported rubber boat on its way, and the incident.
    let (st, c) = request(
        a,
        "POST",
        "/api/contacts",
        op,
        Some(
            &json!({"description": "rubber boat, ~40 persons", "lat": LKP.0, "lon": LKP.1,
                     "time": T0, "uncertainty_nm": 1.0, "source": "aircraft"}),
        ),
    )
    .await;
    assert_eq!(st, 201, "{c}");
    let cid = c["id"].as_str().unwrap().to_string();
    let (st, i) = request(
        a,
        "POST",
        "/api/incidents",
        op,
        Some(&json!({"title": "rubber boat SW of Lampedusa", "contacts": [cid]})),
    )
    .await;
    assert_eq!(st, 201, "{i}");
    let id = i["id"].as_str().unwrap().to_string();
    let url = |tail: &str| format!("/api/incidents/{id}/{tail}");

    let area_body = json!({
        "contact": cid, "object": "rubber_boat_overloaded",
        "wind": [{"at": T0, "from_deg": 0, "kn": 10}],
        "current": {"set_deg": 90, "kn": 0.2},
        "at": T0 + 20 * MIN, "safety_factor": 1.1
    });
    let pattern_body = json!({
        "asset": vessel, "pattern": "expanding_square", "csp": {"lat": LKP.0, "lon": LKP.1},
        "first_leg_deg": 0, "spacing_nm": 1.0, "legs": 9, "speed_kn": 12, "start": T0
    });

    // Refusals before anything is planned.
    for (method, path, body, token, want) in [
        ("POST", url("search-area"), area_body.clone(), VIEWER, 403),
        ("POST", url("patterns"), pattern_body.clone(), VIEWER, 403),
        (
            "POST",
            url("search-area"),
            json!({"object": "rubber_boat_overloaded"}),
            OPERATOR,
            400,
        ),
        (
            "POST",
            url("search-area"),
            json!({"contact": cid, "object": "kayak", "wind": {"from_deg": 0, "kn": 5},
            "current": {"set_deg": 0, "kn": 0}, "at": T0 + MIN}),
            OPERATOR,
            400,
        ),
        (
            "POST",
            url("search-area"),
            json!({"contact": cid, "object": "person_in_water", "wind": {"from_deg": 0, "kn": 5},
            "current": {"set_deg": 0, "kn": 0}, "at": T0 - MIN}),
            OPERATOR,
            400,
        ),
        (
            "POST",
            url("search-area"),
            json!({"contact": "c-999999", "object": "person_in_water",
            "wind": {"from_deg": 0, "kn": 5}, "current": {"set_deg": 0, "kn": 0}, "at": T0}),
            OPERATOR,
            404,
        ),
        (
            "POST",
            "/api/incidents/i-999999/search-area".to_string(),
            area_body.clone(),
            OPERATOR,
            404,
        ),
        // Not assigned yet.
        ("POST", url("patterns"), pattern_body.clone(), OPERATOR, 409),
        (
            "POST",
            url("patterns"),
            json!({"asset": vessel, "pattern": "zigzag", "csp": {"lat": 34.7, "lon": 13.0},
            "speed_kn": 12, "start": T0}),
            OPERATOR,
            400,
        ),
        // A sector search has no spacing: its coverage needs a sweep width.
        (
            "POST",
            url("patterns"),
            json!({"asset": vessel, "pattern": "sector", "csp": {"lat": 34.7, "lon": 13.0},
            "radius_nm": 2, "speed_kn": 12, "start": T0}),
            OPERATOR,
            400,
        ),
        // Written only by the planning routes.
        (
            "POST",
            url("actions"),
            json!({"action": "search_area", "request": {}, "plan": {}}),
            OPERATOR,
            400,
        ),
    ] {
        let (st, v) = request(a, method, &path, Some(token), Some(&body)).await;
        assert_eq!(st, want, "{method} {path} {body}: {v}");
        assert!(v["error"].is_string(), "{v}");
    }
    for (path, want) in [
        (url("coverage"), 409),
        (url("search-area"), 404),
        (url("patterns/1"), 404),
        (url("patterns/0"), 400),
        ("/api/incidents/i-999999/coverage".to_string(), 404),
        ("/api/incidents/i-999999/sitrep".to_string(), 404),
    ] {
        let (st, v) = request(a, "GET", &path, vw, None).await;
        assert_eq!(st, want, "GET {path}: {v}");
    }

    // The vessel is assigned; the search area and its pattern.
    let (st, v) = request(
        a,
        "POST",
        &url("actions"),
        op,
        Some(&json!({"action": "assign_asset", "asset": {"mmsi": vessel}})),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let (st, area) = request(a, "POST", &url("search-area"), op, Some(&area_body)).await;
    assert_eq!(st, 201, "{area}");
    let mut keys: Vec<&str> = area
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "area",
            "datum",
            "datums",
            "drift",
            "error_nm",
            "leeway",
            "radius_nm",
            "track"
        ]
    );
    let (e, r) = (f(&area["error_nm"]), f(&area["radius_nm"]));
    assert!((r - 1.1 * e).abs() < 1e-9, "R = fs E: {r} {e}");
    assert!((1.0..1.1).contains(&e), "X is the sighting's 1 NM: E = {e}");
    // Leeway downwind (a north wind: towards 180), the drift between it
    // and the current (090), the datum moved that way from the contact by
    // drift × 20 minutes.
    assert!((f(&area["leeway"]["deg"]) - 180.0).abs() < 1.0, "{area}");
    let drift_deg = f(&area["drift"]["deg"]);
    assert!((90.0..180.0).contains(&drift_deg), "{drift_deg}");
    let lkp = LatLon::new(LKP.0, LKP.1);
    let datum = latlon(&area["datum"]);
    let moved = distance_nm(lkp, datum);
    assert!(
        (moved - f(&area["drift"]["kn"]) / 3.0).abs() < 0.01,
        "{moved} NM in 20 min at {}",
        area["drift"]
    );
    assert!((bearing_deg(lkp, datum) - drift_deg).abs() < 1.0);
    let (left, right) = (
        latlon(&area["datums"]["left"]),
        latlon(&area["datums"]["right"]),
    );
    assert!(left.lon > right.lon, "left of downwind (south) is east");
    assert_eq!(area["area"]["type"], "Feature");
    assert_eq!(area["area"]["geometry"]["type"], "Polygon");
    let ring = area["area"]["geometry"]["coordinates"][0]
        .as_array()
        .unwrap();
    assert_eq!(ring.len(), 5);
    assert_eq!(ring[0], ring[4]);
    let props = &area["area"]["properties"];
    assert_eq!(props["n"], 1);
    assert_eq!(props["current"]["source"], "given");
    assert!((f(&props["width_nm"]) - 2.0 * r).abs() < 1e-9);

    let (st, pattern) = request(a, "POST", &url("patterns"), op, Some(&pattern_body)).await;
    assert_eq!(st, 201, "{pattern}");
    assert_eq!(pattern["type"], "Feature");
    assert_eq!(pattern["geometry"]["type"], "LineString");
    let pp = &pattern["properties"];
    assert_eq!(pp["n"], 1);
    assert_eq!(pp["asset"], vessel);
    assert_eq!(pp["code"], "SS");
    let wps = pp["waypoints"].as_array().unwrap();
    assert_eq!(wps.len(), 10);
    assert_eq!(
        pattern["geometry"]["coordinates"].as_array().unwrap().len(),
        10
    );
    assert_eq!(wps[0]["time_ms"], T0);
    // 1+1+2+2+3+3+4+4+5 = 25 NM at 12 kn: 125 minutes.
    assert_eq!(wps[9]["time_ms"], T0 + 125 * MIN);
    assert!((f(&pp["length_nm"]) - 25.0).abs() < 1e-9);
    assert_eq!(f(&pp["sweep_width_nm"]), 1.0, "the spacing");

    // Both are in the incident's log (and shown with it).
    let (_, inc) = request(a, "GET", &format!("/api/incidents/{id}"), vw, None).await;
    let log = inc["log"].as_array().unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(
        actions.ends_with(&["search_area", "search_pattern"]),
        "{actions:?}"
    );
    assert_eq!(log[log.len() - 1]["n"], 1);
    assert!(log[log.len() - 2]["text"]
        .as_str()
        .unwrap()
        .contains("datum"));
    assert_eq!(inc["patterns"][0]["asset"], vessel);
    assert_eq!(inc["search_areas"][0]["n"], 1);
    assert_eq!(inc["sar_region"]["id"], "malta_srr", "{inc}");
    assert_eq!(inc["rcc"]["name"], "RCC Malta");
    assert_eq!(inc["rcc"]["phone"], "+356 2180 0000");

    // A client on the incidents channel is pushed the coverage as it
    // changes (no polling): collected while the vessel crosses.
    let pushed = {
        use futures_util::{SinkExt, StreamExt};
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{a}/ws?token={VIEWER}"))
            .await
            .unwrap();
        ws.send(tokio_tungstenite::tungstenite::Message::Text(
            json!({"type": "subscribe", "id": "sar", "channels": ["incidents"]})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
        let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Value>::new()));
        let into = got.clone();
        let task = tokio::spawn(async move {
            while let Some(Ok(m)) = ws.next().await {
                if let tokio_tungstenite::tungstenite::Message::Text(t) = m {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if v["type"] == "coverage" {
                        into.lock().unwrap().push(v["coverage"].clone());
                    }
                }
            }
        });
        (got, task)
    };

    // Coverage rises as the replay moves the vessel through the area.
    let mut seen: Vec<f64> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (st, cov) = request(a, "GET", &url("coverage"), vw, None).await;
        assert_eq!(st, 200, "{cov}");
        seen.push(f(&cov["coverage_factor"]));
        let (_, sources) = request(a, "GET", "/api/sources", vw, None).await;
        let done = sources.as_array().is_some_and(|l| {
            l.iter()
                .any(|s| s["name"] == "replay" && s["state"] == "finished")
        });
        if done {
            break;
        }
        assert!(Instant::now() < deadline, "the replay never finished");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    wait_for_replay(a, vw).await;
    let (_, cov) = request(a, "GET", &url("coverage"), vw, None).await;
    seen.push(f(&cov["coverage_factor"]));
    assert!(
        seen.windows(2).all(|w| w[1] >= w[0] - 1e-6),
        "coverage never falls: {seen:?}"
    );
    let distinct = {
        let mut d: Vec<f64> = seen.clone();
        d.dedup_by(|x, y| (*x - *y).abs() < 1e-6);
        d.len()
    };
    assert!(
        seen[0] < 1e-9 && distinct >= 3,
        "coverage rose from 0 in steps while the vessel crossed: {seen:?}"
    );

    // The pushes: for this incident, rising, the last one the final answer
    // (within one push period after the replay ended).
    tokio::time::sleep(Duration::from_secs(4)).await;
    pushed.1.abort();
    let pushed: Vec<Value> = pushed.0.lock().unwrap().clone();
    let of_this: Vec<f64> = pushed
        .iter()
        .filter(|c| c["incident"] == id.as_str())
        .map(|c| f(&c["coverage_factor"]))
        .collect();
    assert!(of_this.len() >= 2, "coverage pushed as it rose: {pushed:?}");
    assert!(
        of_this.windows(2).all(|w| w[1] > w[0] - 1e-6),
        "{of_this:?}"
    );
    assert!(
        (of_this.last().unwrap() - f(&cov["coverage_factor"])).abs() < 2e-6,
        "the last push is the final coverage: {of_this:?} vs {cov}"
    );
    assert_eq!(pushed.last().unwrap()["swept"]["type"], "Feature");
    // The report: one asset, C = W × chord / A for a straight pass along
    // the area's long axis, POD = 1 − e^(−C).
    let mut keys: Vec<&str> = cov
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    for k in ["by_asset", "coverage_factor", "pod", "swept"] {
        assert!(keys.contains(&k), "{keys:?}");
    }
    let c = f(&cov["coverage_factor"]);
    assert!((f(&cov["pod"]) - (1.0 - (-c).exp())).abs() < 1e-9);
    assert_eq!(cov["by_asset"].as_array().unwrap().len(), 1);
    assert_eq!(cov["by_asset"][0]["asset"]["mmsi"], vessel);
    assert_eq!(cov["swept"]["type"], "Feature");
    assert_eq!(cov["search_area"], 1);
    let expect = 1.0 * f(&props["length_nm"]) / f(&props["area_nm2"]);
    assert!(
        (c - expect).abs() < 0.1 * expect,
        "C {c}, expected about {expect}"
    );
    assert!((f(&cov["cumulative_pod"]) - f(&cov["pod"])).abs() < 1e-12);
    // As of given times: before the vessel reached the area, half way
    // through, after it left.
    let until = |ms: i64| url(&format!("coverage?until={}", at(ms)));
    let (_, before) = request(a, "GET", &until(T0 + 10 * MIN), vw, None).await;
    let (_, midway) = request(a, "GET", &until(T0 + 20 * MIN), vw, None).await;
    let (_, after) = request(a, "GET", &until(T0 + 40 * MIN), vw, None).await;
    let (c0, c1, c2) = (
        f(&before["coverage_factor"]),
        f(&midway["coverage_factor"]),
        f(&after["coverage_factor"]),
    );
    assert!(c0 < 1e-9 && c1 > 0.2 * c && c1 < 0.8 * c, "{c0} {c1} {c}");
    // (The polygon operations leave noise of about 1e-8 once the
    // vessel is out of the area.)
    assert!((c2 - c).abs() < 1e-4 * c, "{c2} {c}");

    // The pattern delivered in every format.
    let (st, ct, gpx) = raw(a, &url("patterns/1?format=gpx"), VIEWER).await;
    assert_eq!((st, ct.as_str()), (200, "application/gpx+xml"), "{gpx}");
    let doc = roxmltree::Document::parse(&gpx).unwrap();
    let wpt: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("wpt"))
        .collect();
    assert_eq!(wpt.len(), 10);
    let rtept = doc
        .descendants()
        .filter(|n| n.has_tag_name("rtept"))
        .count();
    assert_eq!(rtept, 10);
    let w0 = LatLon::new(
        wpt[0].attribute("lat").unwrap().parse().unwrap(),
        wpt[0].attribute("lon").unwrap().parse().unwrap(),
    );
    assert!(distance_nm(w0, lkp) < 1e-3, "the CSP: {w0:?}");
    let t0 = wpt[0]
        .children()
        .find(|n| n.has_tag_name("time"))
        .and_then(|n| n.text())
        .unwrap();
    assert_eq!(t0, "2026-11-28T06:00:00Z");

    let (st, ct, kml) = raw(a, &url("patterns/1?format=kml"), VIEWER).await;
    assert_eq!(
        (st, ct.as_str()),
        (200, "application/vnd.google-earth.kml+xml"),
        "{kml}"
    );
    let doc = roxmltree::Document::parse(&kml).unwrap();
    let line = doc
        .descendants()
        .find(|n| n.has_tag_name("LineString"))
        .and_then(|l| l.children().find(|n| n.has_tag_name("coordinates")))
        .and_then(|n| n.text())
        .unwrap();
    let coords: Vec<Vec<f64>> = line
        .split_whitespace()
        .map(|c| c.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    assert_eq!(coords.len(), 10);
    assert!(distance_nm(LatLon::new(coords[0][1], coords[0][0]), lkp) < 1e-3);
    let placemarks = doc
        .descendants()
        .filter(|n| n.has_tag_name("Placemark"))
        .count();
    assert!(placemarks >= 10, "{placemarks}");

    let (st, ct, nmea) = raw(a, &url("patterns/1?format=nmea"), VIEWER).await;
    assert_eq!((st, ct.as_str()), (200, "text/plain; charset=utf-8"));
    assert!(nmea.ends_with("\r\n"));
    let lines: Vec<&str> = nmea.split("\r\n").filter(|l| !l.is_empty()).collect();
    lines.iter().for_each(|l| check_nmea(l));
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("$GPWPL,")).count(),
        10
    );
    assert!(lines.iter().any(|l| l.starts_with("$GPRTE,")));

    let (st, ct, gj) = raw(a, &url("patterns/1?format=geojson"), VIEWER).await;
    assert_eq!((st, ct.as_str()), (200, "application/geo+json"));
    assert_eq!(serde_json::from_str::<Value>(&gj).unwrap(), pattern);
    let (st, _, _) = raw(a, &url("patterns/1?format=shp"), VIEWER).await;
    assert_eq!(st, 400);
    let (st, _, _) = raw(a, &url("patterns/2"), VIEWER).await;
    assert_eq!(st, 404);
    let (_, all) = request(a, "GET", &url("patterns"), vw, None).await;
    assert_eq!(all["features"].as_array().unwrap().len(), 1);
    let (_, stored) = request(a, "GET", &url("search-area"), vw, None).await;
    assert_eq!(stored, area);
    let (st, _) = request(a, "GET", &url("search-area?n=2"), vw, None).await;
    assert_eq!(st, 404);

    // The SITREP, from the RCC of the region the case lies in.
    let (st, rep) = request(a, "GET", &url("sitrep?format=json&number=2"), vw, None).await;
    assert_eq!(st, 200, "{rep}");
    assert_eq!(rep["coordinating_rcc"]["name"], "RCC Malta");
    assert_eq!(rep["from"], "RCC Malta");
    assert_eq!(rep["number"], 2);
    assert_eq!(rep["persons_at_risk"], 40);
    assert_eq!(rep["position"]["contact"], cid.as_str());
    assert_eq!(rep["sar_region"]["id"], "malta_srr");
    assert!(rep["search_area"].as_str().unwrap().starts_with("datum "));
    assert!(rep["weather"].as_str().unwrap().contains("wind 000T 10 kn"));
    let (st, ct, text) = raw(a, &url("sitrep"), VIEWER).await;
    assert_eq!((st, ct.as_str()), (200, "text/plain; charset=utf-8"));
    assert!(text.contains("FROM: RCC Malta"), "{text}");
    assert!(text.contains("F. COORDINATING RCC: RCC Malta, tel +356 2180 0000"));
    assert!(text.contains("K. SEARCH AREA: datum "), "{text}");
    assert!(text.contains("search pattern planned: SS"), "{text}");
    for bad in [
        "sitrep?format=pdf",
        "sitrep?number=0",
        "sitrep?priority=loud",
        "sitrep?colour=red",
    ] {
        let (st, v) = request(a, "GET", &url(bad), vw, None).await;
        assert_eq!(st, 400, "{bad}: {v}");
    }

    // No current given: measured by the AIS-SART drifting nearby; none
    // near: refused. A closed incident takes no plan.
    let (_, i2) = request(
        a,
        "POST",
        "/api/incidents",
        op,
        Some(&json!({"title": "person in water"})),
    )
    .await;
    let id2 = i2["id"].as_str().unwrap().to_string();
    let near_sart = json!({"lkp": {"lat": 34.751, "lon": 13.004, "time": T0 + 30 * MIN},
        "object": "person_in_water", "wind": {"from_deg": 300, "kn": 12}, "at": T0 + 44 * MIN});
    let path2 = format!("/api/incidents/{id2}/search-area");
    let (st, v) = request(a, "POST", &path2, op, Some(&near_sart)).await;
    assert_eq!(st, 201, "{v}");
    let current = &v["area"]["properties"]["current"];
    assert_eq!(current["source"], "beacon", "{current}");
    assert_eq!(current["mmsi"].as_u64().unwrap() / 1_000_000, 970);
    assert!(f(&current["kn"]) < 10.0 && f(&current["span_min"]) >= 10.0);
    let mut far = near_sart.clone();
    far["lkp"] = json!({"lat": 34.0, "lon": 12.0, "time": T0 + 30 * MIN});
    let (st, v) = request(a, "POST", &path2, op, Some(&far)).await;
    assert_eq!(st, 400, "{v}");
    assert!(v["error"].as_str().unwrap().contains("current"), "{v}");
    let (st, _) = request(
        a,
        "PATCH",
        &format!("/api/incidents/{id2}"),
        op,
        Some(&json!({"status": "closed"})),
    )
    .await;
    assert_eq!(st, 200);
    let (st, v) = request(a, "POST", &path2, op, Some(&near_sart)).await;
    assert_eq!(st, 409, "{v}");

    child.kill().unwrap();
    child.wait().unwrap();

    // A restart on the same state database: the plans are in the log.
    let args = serve_args("max");
    let (mut child, addr) = serve(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let a = addr.as_str();
    wait_for_replay(a, vw).await;
    let (_, _, gpx2) = raw(a, &url("patterns/1?format=gpx"), VIEWER).await;
    assert_eq!(gpx2, gpx);
    let (_, _, nmea2) = raw(a, &url("patterns/1?format=nmea"), VIEWER).await;
    assert_eq!(nmea2, nmea);
    let (_, stored) = request(a, "GET", &url("search-area"), vw, None).await;
    assert!(distance_nm(latlon(&stored["datum"]), datum) < 1e-9);
    assert_eq!(
        stored["radius_nm"].as_f64().map(|x| (x - r).abs() < 1e-9),
        Some(true)
    );
    let (_, cov2) = request(a, "GET", &until(T0 + 40 * MIN), vw, None).await;
    assert!((f(&cov2["coverage_factor"]) - c2).abs() < 1e-6, "{cov2}");
    child.kill().unwrap();
    child.wait().unwrap();
}
