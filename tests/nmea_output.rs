//! The NMEA re-broadcast outputs (`[[outputs]]` `nmea_tcp` / `nmea_udp`)
//! end to end: a real `lookout serve` fed a real recording over its TCP
//! listener source and an own asset's GNSS feed; real TCP and UDP clients
//! read the outputs, and pyais (a second, independent AIS decoder) decodes
//! what they received.
//!
//! * The unfiltered output carries every message of the input, whole
//!   (multi-sentence messages too), as plain `!AIVDM` lines, and the own
//!   asset's fix as `!AIVDO`.
//! * The filtered output (box + classes, TAG blocks on) carries exactly
//!   the class A messages whose sender is inside the box, and the own
//!   asset; nothing of another class or outside the box.
//! * The UDP output carries the same messages as the unfiltered TCP one.

#[path = "python_support.rs"]
mod python;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

const RECORDING: &str = "fixtures/ais/signalk_nais400-merrimac.log";
/// West half of the recording's area (it spans 4.71–6.16°E).
const BOX: [f64; 4] = [4.0, 52.0, 5.40, 54.0];

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `lookout serve`, killed when dropped.
struct Serve {
    child: Child,
    addr: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    fn start(config: &Path, state: &Path) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lookout"))
            .current_dir(python::repo())
            .arg("serve")
            .arg("--config")
            .arg(config)
            .args(["--listen", "127.0.0.1:0", "--web-root", "/nonexistent"])
            .arg("--state-dir")
            .arg(state)
            .env("RUST_LOG", "info")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let l2 = log.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(stderr).lines() {
                let Ok(l) = l else { break };
                if let Some(rest) = l.split("listening on http://").nth(1) {
                    let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_string());
                }
                l2.lock().unwrap().push(l);
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("serve did not start: {:?}", log.lock().unwrap()));
        Serve { child, addr, log }
    }

    fn get(&self, path: &str) -> String {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }
}

/// Connect (retrying while the server starts its outputs).
fn connect(port: u16) -> TcpStream {
    let start = Instant::now();
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => return s,
            Err(e) if start.elapsed() > Duration::from_secs(30) => panic!("connect {port}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Read everything a client gets until `quiet` passes without data.
fn read_until_quiet(mut s: TcpStream, quiet: Duration) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        s.set_read_timeout(Some(quiet)).unwrap();
        let mut out = Vec::new();
        let mut buf = [0u8; 65536];
        let mut got_any = false;
        let start = Instant::now();
        loop {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    got_any = true;
                    out.extend_from_slice(&buf[..n]);
                }
                Err(_) if got_any || start.elapsed() > Duration::from_secs(60) => break,
                Err(_) => {}
            }
        }
        out
    })
}

/// pyais's reading of NMEA text: one JSON object per message with its
/// type, MMSI, position (if any) and whether it came as VDO.
const PYAIS: &str = r#"
import sys, json
from pyais.stream import IterMessages
data = sys.stdin.buffer.read()
for msg in IterMessages([l for l in data.splitlines() if l.strip()]):
    d = msg.decode()
    lat = getattr(d, 'lat', None)
    lon = getattr(d, 'lon', None)
    print(json.dumps({"type": d.msg_type, "mmsi": d.mmsi, "lat": lat, "lon": lon,
                      "vdo": msg.raw.startswith(b'!AIVDO') or b'VDO,' in msg.raw[:12],
                      "tag": msg.tag_block is not None}))
"#;

#[derive(Debug, Clone, serde::Deserialize)]
struct Msg {
    r#type: u8,
    mmsi: u32,
    lat: Option<f64>,
    lon: Option<f64>,
    vdo: bool,
    tag: bool,
}

fn pyais(bytes: &[u8]) -> Vec<Msg> {
    python::run(PYAIS, &[], bytes)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn key_counts(msgs: &[Msg]) -> BTreeMap<(u32, u8), usize> {
    let mut m = BTreeMap::new();
    for x in msgs {
        *m.entry((x.mmsi, x.r#type)).or_insert(0) += 1;
    }
    m
}

/// An RMC sentence with its checksum.
fn rmc(lat_min: f64, lon_min: f64) -> String {
    let body =
        format!("GPRMC,120000,A,53{lat_min:07.4},N,005{lon_min:07.4},E,010.0,084.0,071226,,,A");
    let cs = body.bytes().fold(0u8, |a, b| a ^ b);
    format!("${body}*{cs:02X}")
}

#[test]
fn nmea_outputs_rebroadcast_what_was_received_filtered_and_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (feed, gnss, all, filtered) = (free_port(), free_port(), free_port(), free_port());
    // The whole recording arrives as one burst of datagrams: a receive
    // buffer that holds it (the kernel drops what does not fit, which
    // would be the test's loss, not the output's).
    let udp = {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).unwrap();
        s.set_recv_buffer_size(4 << 20).unwrap();
        s.bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
        UdpSocket::from(s)
    };
    udp.set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    let config = dir.path().join("lookout.toml");
    std::fs::write(
        &config,
        format!(
            "zones = []\n\
             [ingest]\n\
             [[ingest.sources]]\ntype = \"tcp_listener\"\nname = \"feed\"\naddress = \"127.0.0.1:{feed}\"\n\
             [[ingest.sources]]\ntype = \"tcp_listener\"\nname = \"rescue-gps\"\naddress = \"127.0.0.1:{gnss}\"\nown_asset = \"RESCUE-1\"\n\
             [[outputs]]\ntype = \"nmea_tcp\"\nlisten = \"127.0.0.1:{all}\"\n\
             [[outputs]]\ntype = \"nmea_tcp\"\nname = \"west\"\nlisten = \"127.0.0.1:{filtered}\"\n\
             bbox = [{}, {}, {}, {}]\nclasses = [\"A\", \"own_asset\"]\ntag_blocks = true\n\
             [[outputs]]\ntype = \"nmea_udp\"\ntarget = \"{}\"\n",
            BOX[0],
            BOX[1],
            BOX[2],
            BOX[3],
            udp.local_addr().unwrap()
        ),
    )
    .unwrap();
    let serve = Serve::start(&config, dir.path());

    let all_reader = read_until_quiet(connect(all), Duration::from_secs(3));
    let filtered_reader = read_until_quiet(connect(filtered), Duration::from_secs(3));
    let udp_reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut buf = [0u8; 2048];
        let mut datagrams = 0;
        let start = Instant::now();
        loop {
            match udp.recv(&mut buf) {
                Ok(n) => {
                    datagrams += 1;
                    out.extend_from_slice(&buf[..n]);
                }
                Err(_) if datagrams > 0 || start.elapsed() > Duration::from_secs(60) => break,
                Err(_) => {}
            }
        }
        (out, datagrams)
    });
    // Both output clients are connected (the server accepted them) before
    // the first line arrives.
    std::thread::sleep(Duration::from_millis(300));

    let input = std::fs::read(python::repo().join(RECORDING)).unwrap();
    let mut g = connect(gnss);
    g.write_all(format!("{}\r\n", rmc(10.0, 20.0)).as_bytes())
        .unwrap();
    let mut f = connect(feed);
    f.write_all(&input).unwrap();
    f.flush().unwrap();

    let all_bytes = all_reader.join().unwrap();
    let filtered_bytes = filtered_reader.join().unwrap();
    let (udp_bytes, datagrams) = udp_reader.join().unwrap();
    let metrics = serve.get("/metrics");
    drop(f);
    drop(g);

    let expected = pyais(&input);
    assert!(
        expected.len() > 600,
        "{} messages in the recording",
        expected.len()
    );
    // The recording has its receiver's own ship (VDO) too; our own asset
    // is the VDO sender the recording does not have.
    let in_input: std::collections::BTreeSet<u32> = expected.iter().map(|m| m.mmsi).collect();
    assert!(
        expected.iter().any(|m| m.vdo),
        "the recording has VDO sentences"
    );
    let is_ours = |m: &Msg| m.vdo && !in_input.contains(&m.mmsi);

    // Unfiltered: every message, plain lines, plus the own asset as VDO.
    let all_text = String::from_utf8(all_bytes.clone()).unwrap();
    assert!(
        all_text
            .lines()
            .all(|l| l.starts_with("!AIVDM,") || l.starts_with("!AIVDO,")),
        "plain sentences only: {}",
        &all_text[..all_text.len().min(400)]
    );
    assert!(all_text.lines().all(|l| l.len() <= 82));
    let got = pyais(&all_bytes);
    let (own, received): (Vec<Msg>, Vec<Msg>) = got.into_iter().partition(is_ours);
    assert_eq!(
        key_counts(&received),
        key_counts(&expected),
        "the unfiltered output is the input, message for message ({} vs {})\n{:?}",
        received.len(),
        expected.len(),
        serve.log.lock().unwrap()
    );
    assert_eq!(own.len(), 1, "the own asset's fix as !AIVDO: {own:?}");
    assert_eq!(own[0].r#type, 1);
    let (lat, lon) = (own[0].lat.unwrap(), own[0].lon.unwrap());
    assert!((lat - (53.0 + 10.0 / 60.0)).abs() < 1e-4, "{lat}");
    assert!((lon - (5.0 + 20.0 / 60.0)).abs() < 1e-4, "{lon}");

    // UDP: the same messages, one datagram each.
    let by_udp = pyais(&udp_bytes);
    assert_eq!(datagrams, by_udp.len(), "one datagram per message");
    assert_eq!(
        key_counts(
            &by_udp
                .into_iter()
                .filter(|m| !is_ours(m))
                .collect::<Vec<_>>()
        ),
        key_counts(&expected)
    );

    // Filtered: TAG blocks on every sentence; class A inside the box only.
    let filtered_text = String::from_utf8(filtered_bytes.clone()).unwrap();
    assert!(
        filtered_text.lines().all(|l| l.starts_with('\\')),
        "TAG blocks on"
    );
    let got = pyais(&filtered_bytes);
    assert!(got.iter().all(|m| m.tag));
    // Class A senders: those that sent class A reports (types 1–3, 5) and
    // nothing of another station kind.
    let mut kinds: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
    for m in &expected {
        kinds.entry(m.mmsi).or_default().push(m.r#type);
    }
    let class_a = |mmsi: u32| {
        kinds.get(&mmsi).is_some_and(|t| {
            t.iter().any(|&x| (1..=3).contains(&x))
                && t.iter().all(|&x| matches!(x, 1..=3 | 5 | 8 | 15 | 20))
        })
    };
    let inside = |m: &Msg| {
        let (lat, lon) = (m.lat.unwrap(), m.lon.unwrap());
        (BOX[1]..=BOX[3]).contains(&lat) && (BOX[0]..=BOX[2]).contains(&lon)
    };
    let (own, received): (Vec<Msg>, Vec<Msg>) = got.into_iter().partition(is_ours);
    assert_eq!(
        own.len(),
        1,
        "own assets pass classes = [.., \"own_asset\"]"
    );
    for m in &received {
        assert!(class_a(m.mmsi), "not class A: {m:?}");
        if (1..=3).contains(&m.r#type) {
            assert!(inside(m), "outside the box: {m:?}");
        }
    }
    let wanted: Vec<Msg> = expected
        .iter()
        .filter(|m| (1..=3).contains(&m.r#type) && class_a(m.mmsi) && inside(m))
        .cloned()
        .collect();
    let got_positions: Vec<Msg> = received
        .iter()
        .filter(|m| (1..=3).contains(&m.r#type))
        .cloned()
        .collect();
    assert!(wanted.len() > 50, "{} wanted", wanted.len());
    assert_eq!(key_counts(&got_positions), key_counts(&wanted));
    assert!(received.len() < expected.len() / 2 + 50);

    // Counted in /metrics.
    assert!(metrics.contains("output_messages"), "{metrics}");
    assert!(metrics.contains("output=\"west\""), "{metrics}");
}

/// One HTTP request with a JSON body; the status.
fn post(addr: &str, path: &str, body: &serde_json::Value) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    let b = body.to_string();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{b}",
        b.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    (out[9..12].parse().unwrap(), out)
}

/// A search pattern planned for an incident goes to the asset over the
/// NMEA output as `$GPWPL` waypoints and a `$GPRTE` route, with valid
/// checksums, one waypoint per turn of the pattern.
#[test]
fn a_planned_pattern_is_delivered_as_a_route() {
    let dir = tempfile::tempdir().unwrap();
    let (out, feed) = (free_port(), free_port());
    let config = dir.path().join("lookout.toml");
    std::fs::write(
        &config,
        format!(
            "zones = []\n[ingest]\n[[ingest.sources]]\ntype = \"tcp_listener\"\nname = \"feed\"\naddress = \"127.0.0.1:{feed}\"\n\
             [[outputs]]\ntype = \"nmea_tcp\"\nlisten = \"127.0.0.1:{out}\"\nclasses = [\"own_asset\"]\n"
        ),
    )
    .unwrap();
    let serve = Serve::start(&config, dir.path());
    let reader = read_until_quiet(connect(out), Duration::from_secs(3));
    std::thread::sleep(Duration::from_millis(300));
    let (st, body) = post(
        &serve.addr,
        "/api/incidents",
        &serde_json::json!({"title": "boat adrift"}),
    );
    assert_eq!(st, 201, "{body}");
    let (st, body) = post(
        &serve.addr,
        "/api/incidents/i-000001/actions",
        &serde_json::json!({"action": "assign_asset", "asset": {"mmsi": 247000123, "name": "RESCUE 1"}}),
    );
    assert_eq!(st, 200, "{body}");
    let (st, body) = post(
        &serve.addr,
        "/api/incidents/i-000001/patterns",
        &serde_json::json!({"asset": 247000123, "pattern": "expanding_square", "csp": {"lat": 35.2, "lon": 12.4},
                            "first_leg_deg": 0, "spacing_nm": 1.0, "legs": 9, "speed_kn": 12,
                            "start": "2026-12-07T10:00:00Z"}),
    );
    assert_eq!(st, 201, "{body}");
    let text = String::from_utf8(reader.join().unwrap()).unwrap();
    let wpl: Vec<&str> = text.lines().filter(|l| l.starts_with("$GPWPL,")).collect();
    let rte: Vec<&str> = text.lines().filter(|l| l.starts_with("$GPRTE,")).collect();
    assert_eq!(wpl.len(), 10, "CSP and 9 turns: {text}");
    assert!(!rte.is_empty(), "{text}");
    for l in wpl.iter().chain(&rte) {
        let (body, cs) = l[1..].split_once('*').unwrap();
        let x = body.bytes().fold(0u8, |a, b| a ^ b);
        assert_eq!(format!("{x:02X}"), cs, "{l}");
        assert!(l.len() + 2 <= 82, "{l}");
    }
    assert!(rte[0].contains("i-000001-1"), "{rte:?}");
}
