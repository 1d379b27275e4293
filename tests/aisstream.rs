//! The aisstream.io-compatible WebSocket (`/v0/stream`) end to end: a real
//! `lookout serve` (authentication on) fed a real recording over its TCP
//! listener source, real WebSocket clients subscribing as aisstream's
//! clients do, and pyais (an independent AIS decoder) reading the same
//! recording.
//!
//! * A box and message-type subscription gets exactly the position
//!   reports pyais finds inside the box (same MMSIs, same positions), each
//!   in aisstream's shape and field names.
//! * `FiltersShipMMSI` passes one vessel only; a subscription sent again
//!   replaces the first.
//! * An unfiltered subscription names each type as aisstream does and
//!   sends no unmapped type, and nothing from a sender with no known
//!   position.
//! * A bad `APIKey` is answered `{"error": "Api Key Is Not Valid"}` and
//!   the socket closed.

#[path = "python_support.rs"]
mod python;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

const RECORDING: &str = "fixtures/ais/signalk_nais400-merrimac.log";
/// West half of the recording's area, as aisstream corners: [lat, lon].
const BOX: [[f64; 2]; 2] = [[54.0, 5.40], [52.0, 4.0]];
const VIEWER: &str = "aisstream-viewer-token";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// pyais's reading of the recording: type, MMSI and position per message.
const PYAIS: &str = r#"
import sys, json
from pyais.stream import IterMessages
data = sys.stdin.buffer.read()
for msg in IterMessages([l for l in data.splitlines() if l.strip()]):
    d = msg.decode()
    print(json.dumps({"type": d.msg_type, "mmsi": d.mmsi,
                      "lat": getattr(d, 'lat', None), "lon": getattr(d, 'lon', None)}))
"#;

#[derive(Debug, Clone, serde::Deserialize)]
struct Msg {
    r#type: u8,
    mmsi: u32,
    lat: Option<f64>,
    lon: Option<f64>,
}

fn in_box(lat: f64, lon: f64) -> bool {
    (52.0..=54.0).contains(&lat) && (4.0..=5.40).contains(&lon)
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(addr: &str) -> Ws {
    tokio_tungstenite::connect_async(format!("ws://{addr}/v0/stream"))
        .await
        .unwrap()
        .0
}

async fn subscribe(ws: &mut Ws, sub: Value) {
    ws.send(Message::Text(sub.to_string().into()))
        .await
        .unwrap();
}

/// Every message until `quiet` passes without one (or the socket closes).
async fn collect(mut ws: Ws, quiet: Duration) -> Vec<Value> {
    let mut out = Vec::new();
    let start = Instant::now();
    loop {
        let wait = if out.is_empty() {
            Duration::from_secs(20)
        } else {
            quiet
        };
        match tokio::time::timeout(wait, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => out.push(serde_json::from_str(&t).unwrap()),
            Ok(Some(Ok(_))) => {}
            _ => break,
        }
        assert!(start.elapsed() < Duration::from_secs(25));
    }
    out
}

/// aisstream's required fields (its `type-definition.yaml`) per type.
fn required(name: &str) -> &'static [&'static str] {
    match name {
        "PositionReport" => &[
            "MessageID",
            "RepeatIndicator",
            "UserID",
            "Valid",
            "NavigationalStatus",
            "RateOfTurn",
            "Sog",
            "PositionAccuracy",
            "Longitude",
            "Latitude",
            "Cog",
            "TrueHeading",
            "Timestamp",
            "SpecialManoeuvreIndicator",
            "Spare",
            "Raim",
            "CommunicationState",
        ],
        "StandardClassBPositionReport" => &[
            "MessageID",
            "RepeatIndicator",
            "UserID",
            "Valid",
            "Spare1",
            "Sog",
            "PositionAccuracy",
            "Longitude",
            "Latitude",
            "Cog",
            "TrueHeading",
            "Timestamp",
            "Spare2",
            "ClassBUnit",
            "ClassBDisplay",
            "ClassBDsc",
            "ClassBBand",
            "ClassBMsg22",
            "AssignedMode",
            "Raim",
            "CommunicationStateIsItdma",
            "CommunicationState",
        ],
        "ShipStaticData" => &[
            "MessageID",
            "RepeatIndicator",
            "UserID",
            "Valid",
            "AisVersion",
            "ImoNumber",
            "CallSign",
            "Name",
            "Type",
            "Dimension",
            "FixType",
            "Eta",
            "MaximumStaticDraught",
            "Destination",
            "Dte",
            "Spare",
        ],
        "BaseStationReport" => &[
            "MessageID",
            "RepeatIndicator",
            "UserID",
            "Valid",
            "UtcYear",
            "UtcMonth",
            "UtcDay",
            "UtcHour",
            "UtcMinute",
            "UtcSecond",
            "PositionAccuracy",
            "Longitude",
            "Latitude",
            "FixType",
            "LongRangeEnable",
            "Spare",
            "Raim",
            "CommunicationState",
        ],
        "AidsToNavigationReport" => &[
            "MessageID",
            "RepeatIndicator",
            "UserID",
            "Valid",
            "Type",
            "Name",
            "PositionAccuracy",
            "Longitude",
            "Latitude",
            "Dimension",
            "Fixtype",
            "Timestamp",
            "OffPosition",
            "AtoN",
            "Raim",
            "VirtualAtoN",
            "AssignedMode",
            "Spare",
            "NameExtension",
        ],
        "StaticDataReport" => &[
            "MessageID",
            "RepeatIndicator",
            "UserID",
            "Valid",
            "Reserved",
            "PartNumber",
            "ReportA",
            "ReportB",
        ],
        _ => &["MessageID", "UserID", "Valid"],
    }
}

/// The envelope, the body's required fields and its agreement with the
/// metadata; returns (type name, body).
fn check_shape(m: &Value) -> (String, Value) {
    let name = m["MessageType"].as_str().expect("MessageType").to_string();
    let meta = &m["MetaData"];
    for k in [
        "MMSI",
        "MMSI_String",
        "ShipName",
        "latitude",
        "longitude",
        "time_utc",
    ] {
        assert!(meta.get(k).is_some(), "MetaData.{k} missing: {m}");
    }
    assert!(
        meta["time_utc"].as_str().unwrap().ends_with(" +0000 UTC"),
        "{m}"
    );
    let message = m["Message"].as_object().expect("Message");
    assert_eq!(message.len(), 1, "{m}");
    let body = message.get(&name).expect("Message.<MessageType>").clone();
    for k in required(&name) {
        assert!(body.get(*k).is_some(), "{name}.{k} missing: {body}");
    }
    assert_eq!(body["UserID"], meta["MMSI"], "{m}");
    assert_eq!(body["Valid"], json!(true));
    (name, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aisstream_clients_get_filtered_messages_in_aisstream_shape() {
    let dir = tempfile::tempdir().unwrap();
    let feed = free_port();
    let hash = python::run(
        "import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())",
        &[],
        VIEWER.as_bytes(),
    );
    let config = dir.path().join("lookout.toml");
    std::fs::write(
        &config,
        format!(
            "zones = []\n\
             [auth]\nenabled = true\n\
             [[auth.tokens]]\nname = \"watch\"\nrole = \"viewer\"\nsha256 = \"{}\"\n\
             [ingest]\n\
             [[ingest.sources]]\ntype = \"tcp_listener\"\nname = \"feed\"\naddress = \"127.0.0.1:{feed}\"\n",
            hash.trim()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lookout"))
        .current_dir(python::repo())
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .args(["--listen", "127.0.0.1:0", "--web-root", "/nonexistent"])
        .arg("--state-dir")
        .arg(dir.path())
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let _serve = Serve(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(stderr).lines() {
            let Ok(l) = l else { break };
            if let Some(rest) = l.split("listening on http://").nth(1) {
                let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_string());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("serve started");

    // A bad key: aisstream's error, then the socket closes.
    let mut bad = connect(&addr).await;
    subscribe(
        &mut bad,
        json!({"APIKey": "not-a-token", "BoundingBoxes": [[[-90, -180], [90, 180]]]}),
    )
    .await;
    let refused = collect(bad, Duration::from_secs(2)).await;
    assert_eq!(refused, vec![json!({"error": "Api Key Is Not Valid"})]);

    // The clients, subscribed before the first line arrives.
    let mut boxed = connect(&addr).await;
    subscribe(
        &mut boxed,
        json!({"APIKey": VIEWER, "BoundingBoxes": [BOX],
               "FilterMessageTypes": ["PositionReport", "StandardClassBPositionReport"]}),
    )
    .await;
    let input = std::fs::read(python::repo().join(RECORDING)).unwrap();
    let expected: Vec<Msg> = python::run(PYAIS, &[], &input)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The class A vessel heard most often.
    let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
    for m in expected.iter().filter(|m| (1..=3).contains(&m.r#type)) {
        *counts.entry(m.mmsi).or_default() += 1;
    }
    let (&one, _) = counts.iter().max_by_key(|(_, n)| **n).unwrap();
    let mut by_mmsi = connect(&addr).await;
    // First somewhere empty, then replaced.
    subscribe(
        &mut by_mmsi,
        json!({"APIKey": VIEWER, "BoundingBoxes": [[[-60, -150], [-59, -149]]]}),
    )
    .await;
    subscribe(
        &mut by_mmsi,
        json!({"APIKey": VIEWER, "BoundingBoxes": [[[-90, -180], [90, 180]]],
               "FiltersShipMMSI": [one.to_string()]}),
    )
    .await;
    let mut everything = connect(&addr).await;
    subscribe(
        &mut everything,
        json!({"Apikey": VIEWER, "BoundingBoxes": [[[-90, -180], [90, 180]]]}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let quiet = Duration::from_secs(3);
    let readers = (
        tokio::spawn(collect(boxed, quiet)),
        tokio::spawn(collect(by_mmsi, quiet)),
        tokio::spawn(collect(everything, quiet)),
    );
    let mut f = TcpStream::connect(("127.0.0.1", feed)).unwrap();
    f.write_all(&input).unwrap();
    f.flush().unwrap();
    let boxed = readers.0.await.unwrap();
    let by_mmsi = readers.1.await.unwrap();
    let everything = readers.2.await.unwrap();
    drop(f);

    // The box and types: exactly pyais's position reports inside the box.
    let mut got = Vec::new();
    for m in &boxed {
        let (name, body) = check_shape(m);
        let want = match name.as_str() {
            "PositionReport" => 1..=3,
            "StandardClassBPositionReport" => 18..=18,
            other => panic!("type {other} was not asked for"),
        };
        let id = body["MessageID"].as_u64().unwrap() as u8;
        assert!(want.contains(&id), "{m}");
        let (lat, lon) = (
            body["Latitude"].as_f64().unwrap(),
            body["Longitude"].as_f64().unwrap(),
        );
        assert!(in_box(lat, lon), "outside the box: {m}");
        assert_eq!(m["MetaData"]["latitude"].as_f64(), Some(lat));
        assert_eq!(m["MetaData"]["longitude"].as_f64(), Some(lon));
        got.push((body["UserID"].as_u64().unwrap() as u32, id, lat, lon));
    }
    let mut want: Vec<(u32, u8, f64, f64)> = expected
        .iter()
        .filter(|m| matches!(m.r#type, 1..=3 | 18))
        .filter_map(|m| Some((m.mmsi, m.r#type, m.lat?, m.lon?)))
        .filter(|&(_, _, lat, lon)| in_box(lat, lon))
        .collect();
    let order = |a: &(u32, u8, f64, f64), b: &(u32, u8, f64, f64)| {
        (a.0, a.1)
            .cmp(&(b.0, b.1))
            .then(a.2.total_cmp(&b.2))
            .then(a.3.total_cmp(&b.3))
    };
    got.sort_by(order);
    want.sort_by(order);
    assert!(want.len() > 50, "{} reports in the box", want.len());
    assert_eq!(got.len(), want.len(), "one message per report in the box");
    for (g, w) in got.iter().zip(&want) {
        assert_eq!((g.0, g.1), (w.0, w.1));
        assert!(
            (g.2 - w.2).abs() < 1e-5 && (g.3 - w.3).abs() < 1e-5,
            "{g:?} vs {w:?}"
        );
    }
    let types: BTreeSet<u8> = got.iter().map(|g| g.1).collect();
    assert!(types.contains(&18) && types.len() >= 2, "{types:?}");

    // One MMSI (the first, empty subscription was replaced).
    assert!(!by_mmsi.is_empty());
    for m in &by_mmsi {
        check_shape(m);
        assert_eq!(m["MetaData"]["MMSI"], json!(one), "{m}");
    }
    let reports = by_mmsi
        .iter()
        .filter(|m| m["MessageType"] == "PositionReport")
        .count();
    assert_eq!(reports, counts[&one]);

    // Unfiltered: aisstream's names, the message numbers behind them, no
    // unmapped type (the recording has 8, 15 and 20 too).
    let mut seen: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for m in &everything {
        let (name, body) = check_shape(m);
        seen.entry(name)
            .or_default()
            .insert(body["MessageID"].as_u64().unwrap());
    }
    let names: BTreeSet<&str> = seen.keys().map(String::as_str).collect();
    for n in [
        "PositionReport",
        "BaseStationReport",
        "ShipStaticData",
        "StandardClassBPositionReport",
        "AidsToNavigationReport",
    ] {
        assert!(names.contains(n), "{n} not seen: {names:?}");
    }
    // The recording's type 24 senders never report a position, so their
    // static reports pass no box (as on the NMEA outputs).
    let ids = |n: &str| seen[n].iter().copied().collect::<Vec<_>>();
    assert!(ids("PositionReport").iter().all(|i| (1..=3).contains(i)));
    assert_eq!(ids("BaseStationReport"), vec![4]);
    assert_eq!(ids("ShipStaticData"), vec![5]);
    assert_eq!(ids("StandardClassBPositionReport"), vec![18]);
    assert_eq!(ids("AidsToNavigationReport"), vec![21]);
    assert!(!names.contains("StaticDataReport"), "{names:?}");
    assert!(names.len() == 5, "{names:?}");
}
