//! GeoJSON by RFC 7946 and exports for case files, against a real `lookout
//! serve`, read by independent parsers (shapely, gpxpy, Python's XML):
//!
//! * `Content-Type: application/geo+json` where the body is GeoJSON, gzip
//!   when the client accepts it;
//! * zone polygons with counter-clockwise outer rings;
//! * a track across 180° cut into a MultiLineString, coordinates at 1e-6°;
//! * `?format=gpx|kml` on a vessel track, `/api/incidents/{id}/export`;
//! * `/api/history` without an archive: a clear error, not an empty 200.
//!
//! The vessel crossing the antimeridian is encoded by pyais (not by
//! Lookout's own encoder).

#[path = "python_support.rs"]
mod python;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Serve {
    child: Child,
    addr: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn serve(dir: &std::path::Path, feed: u16) -> Serve {
    let cfg = dir.join("lookout.toml");
    std::fs::write(
        &cfg,
        format!(
            "zones = [\"config/zones\"]\n[ingest]\n[[ingest.sources]]\ntype = \"tcp_listener\"\nname = \"feed\"\naddress = \"127.0.0.1:{feed}\"\n"
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lookout"))
        .current_dir(python::repo())
        .args(["serve", "--config"])
        .arg(&cfg)
        .args(["--listen", "127.0.0.1:0", "--state-dir"])
        .arg(dir.join("state"))
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let l = lines.next().expect("serve exited").unwrap();
        if let Some(rest) = l.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Serve { child, addr }
}

/// A raw request: (status, lower-cased head, body bytes).
fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        req.push_str("Content-Type: application/json\r\n");
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(&body);
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&out[..split]).to_lowercase();
    let status = head[9..12].parse().unwrap();
    let mut body = out[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    (status, head, body)
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let n = usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap().trim(), 16).unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + n]);
        b = &b[eol + 2 + n + 2..];
    }
    out
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .map(str::trim)
}

/// pyais encodes a type 1 report; a TAG block gives its time.
const ENCODE: &str = r#"
import sys, json
from pyais.encode import encode_dict
for line in sys.stdin:
    d = json.loads(line)
    t = d.pop('t')
    for s in encode_dict(d, radio_channel='A', talker_id='AIVDM'):
        tag = 'c:%d' % t
        cs = 0
        for ch in tag: cs ^= ord(ch)
        print('\\%s*%02X\\%s' % (tag, cs, s))
"#;

fn crossing_lines(mmsi: u32, t0: i64) -> Vec<u8> {
    // 10 kn due east at 17°S: 0.0029° of longitude a minute; across 180°.
    let mut input = String::new();
    for k in 0..12 {
        let mut lon = 179.985 + 0.0029 * k as f64;
        if lon > 180.0 {
            lon -= 360.0;
        }
        input.push_str(
            &json!({"type": 1, "mmsi": mmsi, "lat": -17.0, "lon": lon, "speed": 10.0, "course": 90.0,
                    "heading": 90, "status": 0, "t": t0 + 60 * k})
            .to_string(),
        );
        input.push('\n');
    }
    python::run(ENCODE, &[], input.as_bytes())
        .replace('\n', "\r\n")
        .into_bytes()
}

#[test]
fn geojson_follows_rfc7946_and_exports_parse() {
    let dir = tempfile::tempdir().unwrap();
    let feed = free_port();
    let s = serve(dir.path(), feed);
    let mmsi = 520_000_001;
    // Message times a quarter of an hour ago (a live feed's times must be
    // near the receive clock).
    let t0 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        - 900;
    let mut f = TcpStream::connect(("127.0.0.1", feed)).unwrap();
    f.write_all(&crossing_lines(mmsi, t0)).unwrap();
    let start = Instant::now();
    loop {
        let (st, _, b) = request(
            &s.addr,
            "GET",
            &format!("/api/vessels/{mmsi}/track"),
            &[],
            None,
        );
        if st == 200 {
            let v: Value = serde_json::from_slice(&b).unwrap();
            let n: usize = match v["geometry"]["type"].as_str() {
                Some("MultiLineString") => v["geometry"]["coordinates"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| l.as_array().unwrap().len())
                    .sum(),
                _ => v["geometry"]["coordinates"].as_array().map_or(0, Vec::len),
            };
            if n >= 12 {
                break;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the track never filled"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // The track: GeoJSON media type, cut at 180°, 1e-6° coordinates.
    let (st, head, body) = request(
        &s.addr,
        "GET",
        &format!("/api/vessels/{mmsi}/track"),
        &[],
        None,
    );
    assert_eq!(st, 200);
    assert_eq!(header(&head, "content-type"), Some("application/geo+json"));
    let track: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(track["geometry"]["type"], "MultiLineString", "{track}");
    let parts = track["geometry"]["coordinates"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(
        parts[0].as_array().unwrap().last().unwrap()[0],
        json!(180.0)
    );
    assert_eq!(parts[1][0][0], json!(-180.0));
    for p in parts.iter().flat_map(|l| l.as_array().unwrap()) {
        for x in p.as_array().unwrap() {
            let x = x.as_f64().unwrap();
            assert!(
                ((x * 1e6).round() - x * 1e6).abs() < 1e-6,
                "not rounded to 1e-6: {x}"
            );
        }
    }
    // shapely agrees it is a valid MultiLineString with no 180° jump.
    let out = python::run(
        "import sys, json\nfrom shapely.geometry import shape\ng = shape(json.load(sys.stdin)['geometry'])\nprint(g.geom_type, g.is_valid, max(abs(a[0]-b[0]) for l in g.geoms for a, b in zip(l.coords, l.coords[1:])))",
        &[],
        &body,
    );
    let words: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(&words[..2], ["MultiLineString", "True"], "{out}");
    assert!(words[2].parse::<f64>().unwrap() < 1.0, "{out}");

    // GPX and KML of the same track.
    let (st, head, gpx) = request(
        &s.addr,
        "GET",
        &format!("/api/vessels/{mmsi}/track?format=gpx"),
        &[],
        None,
    );
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&gpx));
    assert!(
        header(&head, "content-type")
            .unwrap()
            .starts_with("application/gpx+xml"),
        "{head}"
    );
    let out = python::run(
        "import sys, gpxpy\ng = gpxpy.parse(sys.stdin.read())\npts = [p for t in g.tracks for s in t.segments for p in s.points]\nprint(len(pts), all(p.time is not None for p in pts))",
        &[],
        &gpx,
    );
    assert_eq!(out.trim(), "12 True", "gpxpy: {out}");
    let (st, head, kml) = request(
        &s.addr,
        "GET",
        &format!("/api/vessels/{mmsi}/track?format=kml"),
        &[],
        None,
    );
    assert_eq!(st, 200);
    assert!(header(&head, "content-type")
        .unwrap()
        .starts_with("application/vnd.google-earth.kml+xml"));
    let out = python::run(
        "import sys\nimport xml.etree.ElementTree as ET\nns={'k':'http://www.opengis.net/kml/2.2'}\nr = ET.fromstring(sys.stdin.buffer.read())\nprint(len(r.findall('.//k:LineString', ns)))",
        &[],
        &kml,
    );
    assert_eq!(out.trim(), "2", "one LineString each side of 180°");
    let (st, _, _) = request(
        &s.addr,
        "GET",
        &format!("/api/vessels/{mmsi}/track?format=shp"),
        &[],
        None,
    );
    assert_eq!(st, 400, "an unknown format is refused");

    // Zones: GeoJSON, outer rings counter-clockwise (shapely), gzip.
    let (st, head, body) = request(
        &s.addr,
        "GET",
        "/api/zones",
        &[("Accept-Encoding", "gzip")],
        None,
    );
    assert_eq!(st, 200);
    assert_eq!(header(&head, "content-type"), Some("application/geo+json"));
    assert_eq!(header(&head, "content-encoding"), Some("gzip"), "{head}");
    let out = python::run(
        "import sys, gzip, json\nfrom shapely.geometry import shape\nfc = json.loads(gzip.decompress(sys.stdin.buffer.read()))\npolys = [g for f in fc['features'] for g in ([shape(f['geometry'])] if shape(f['geometry']).geom_type == 'Polygon' else list(shape(f['geometry']).geoms))]\nprint(len(polys), all(p.exterior.is_ccw for p in polys), all(not i.is_ccw for p in polys for i in p.interiors))",
        &[],
        &body,
    );
    let words: Vec<&str> = out.split_whitespace().collect();
    assert!(words[0].parse::<usize>().unwrap() > 0, "{out}");
    assert_eq!(&words[1..], ["True", "True"], "ring orientation: {out}");

    // No archive configured: history is a clear error.
    let (st, _, body) = request(
        &s.addr,
        "GET",
        "/api/history?lat=-17&lon=180&radius_nm=5&from=2026-12-01T00:00:00Z&to=2026-12-01T01:00:00Z",
        &[],
        None,
    );
    assert!(st >= 400, "history without an archive answered {st}");
    let e: Value = serde_json::from_slice(&body).unwrap();
    assert!(e["error"].as_str().unwrap().contains("archive"), "{e}");

    // An incident's case file: the contact's sightings, the asset's track,
    // the log; as GeoJSON and as KML.
    let (st, _, c) = request(
        &s.addr,
        "POST",
        "/api/contacts",
        &[],
        Some(&json!({
        "description": "rubber boat, ~40 persons", "lat": -17.01, "lon": 179.99,
        "time": t0 * 1000 + 300_000, "uncertainty_m": 500, "source": "vessel"})),
    );
    assert_eq!(st, 201, "{}", String::from_utf8_lossy(&c));
    let cid = serde_json::from_slice::<Value>(&c).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (st, _, i) = request(
        &s.addr,
        "POST",
        "/api/incidents",
        &[],
        Some(&json!({"title": "Boat near 180", "contacts": [cid]})),
    );
    assert_eq!(st, 201);
    let iid = serde_json::from_slice::<Value>(&i).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (st, _, _) = request(
        &s.addr,
        "POST",
        &format!("/api/incidents/{iid}/actions"),
        &[],
        Some(&json!({"action": "assign_asset", "asset": {"mmsi": mmsi}})),
    );
    assert_eq!(st, 200);
    let (st, head, body) = request(
        &s.addr,
        "GET",
        &format!("/api/incidents/{iid}/export?format=geojson"),
        &[],
        None,
    );
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(header(&head, "content-type"), Some("application/geo+json"));
    let fc: Value = serde_json::from_slice(&body).unwrap();
    let kinds: Vec<&str> = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["properties"]["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"sighting"), "{kinds:?}");
    assert!(kinds.contains(&"asset"), "{kinds:?}");
    assert!(
        fc["log"].as_array().unwrap().len() >= 3,
        "create, link, assign"
    );
    let (st, _, kml) = request(
        &s.addr,
        "GET",
        &format!("/api/incidents/{iid}/export?format=kml"),
        &[],
        None,
    );
    assert_eq!(st, 200);
    let out = python::run(
        "import sys\nimport xml.etree.ElementTree as ET\nns={'k':'http://www.opengis.net/kml/2.2'}\nr = ET.fromstring(sys.stdin.buffer.read())\nprint(len(r.findall('.//k:Placemark', ns)), len(r.findall('.//k:Point', ns)))",
        &[],
        &kml,
    );
    let n: Vec<usize> = out.split_whitespace().map(|x| x.parse().unwrap()).collect();
    assert!(n[0] >= 2 && n[1] >= 1, "{out}");
}
