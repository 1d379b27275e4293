//! The CoT output against a local TAK server stand-in: TLS that requires a
//! client certificate (a CA, server and client certificates made here with
//! rcgen), or plain TCP. Every event received is parsed by takproto (the
//! Python TAK library, `tests/python/requirements.txt`) and checked against
//! the CoT event schema's required fields; then the tests check what the
//! events say: one per vessel, the rate limit, reconnecting, stable uids,
//! contacts and incidents as markers.

#[path = "../../../tests/python_support.rs"]
mod python;

use engine::{Engine, EngineConfig, Relayed};
use lookout_ais::LineContext;
use outputs::config::OutputConfig;
use outputs::cot::{Context, Marker, MarkerKind};
use outputs::OutputSet;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use spatial_index::ZoneIndex;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Notify};

/// Every message of a real recording, relayed by an engine.
fn relayed() -> Vec<Relayed> {
    let text = std::fs::read_to_string(format!(
        "{}/../../fixtures/ais/signalk_nais400-merrimac.log",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut e = Engine::standalone(EngineConfig::default(), ZoneIndex::empty());
    e.relay(true);
    let ctx = LineContext {
        source: 0,
        received_ms: Some(1_700_000_000_000),
    };
    for l in text.lines() {
        let _ = e.feed_raw(l.as_bytes(), &ctx);
    }
    e.take_relayed()
}

/// One AIS report with a position, `n` times, moved north 0.01° each time.
fn reports_of_one(n: usize) -> (u32, Vec<Relayed>) {
    let one = relayed()
        .into_iter()
        .find(|r| matches!(r, Relayed::Ais(m) if m.position.is_some()))
        .unwrap();
    let Relayed::Ais(m) = one else { unreachable!() };
    let (lat, lon) = m.position.unwrap();
    let out = (0..n)
        .map(|k| {
            let mut m = m.clone();
            m.position = Some((lat + 0.01 * k as f64, lon));
            Relayed::Ais(m)
        })
        .collect();
    (m.mmsi, out)
}

/// A CA, and a server and a client certificate it signed, as PEM files.
struct Pki {
    dir: tempfile::TempDir,
    server: rustls::ServerConfig,
}

fn pki() -> Pki {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    };
    let dir = tempfile::tempdir().unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, "Test TAK CA");
    let ca = p.self_signed(&ca_key).unwrap();
    let leaf = |names: Vec<String>, cn: &str, eku: ExtendedKeyUsagePurpose| {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(names).unwrap();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.extended_key_usages = vec![eku];
        (p.signed_by(&key, &ca, &ca_key).unwrap(), key)
    };
    let (srv, srv_key) = leaf(
        vec!["127.0.0.1".into(), "localhost".into()],
        "tak-server",
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let (cli, cli_key) = leaf(vec![], "lookout", ExtendedKeyUsagePurpose::ClientAuth);
    let w = |name: &str, text: String| std::fs::write(dir.path().join(name), text).unwrap();
    w("ca.pem", ca.pem());
    w("client.pem", cli.pem());
    w("client.key", cli_key.serialize_pem());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der().clone()).unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from(srv.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(srv_key.serialize_der())),
        )
        .unwrap();
    Pki { dir, server }
}

/// A TAK server stand-in: every event (a line) each connection sends,
/// and a way to close the connections.
struct Tak {
    addr: std::net::SocketAddr,
    events: mpsc::UnboundedReceiver<String>,
    /// Connections that completed (for TLS: the handshake with a valid
    /// client certificate).
    accepted: Arc<AtomicUsize>,
    kick: Arc<Notify>,
}

async fn tak(tls: Option<rustls::ServerConfig>) -> Tak {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, events) = mpsc::unbounded_channel();
    let accepted = Arc::new(AtomicUsize::new(0));
    let kick = Arc::new(Notify::new());
    let acceptor = tls.map(|c| tokio_rustls::TlsAcceptor::from(Arc::new(c)));
    let (n, k) = (accepted.clone(), kick.clone());
    tokio::spawn(async move {
        loop {
            let (s, _) = listener.accept().await.unwrap();
            let (tx, n, k, acceptor) = (tx.clone(), n.clone(), k.clone(), acceptor.clone());
            tokio::spawn(async move {
                match acceptor {
                    Some(a) => {
                        if let Ok(s) = a.accept(s).await {
                            n.fetch_add(1, Ordering::SeqCst);
                            serve(s, tx, k).await;
                        }
                    }
                    None => {
                        n.fetch_add(1, Ordering::SeqCst);
                        serve(s, tx, k).await;
                    }
                }
            });
        }
    });
    Tak {
        addr,
        events,
        accepted,
        kick,
    }
}

async fn serve(
    mut s: impl AsyncRead + Unpin,
    tx: mpsc::UnboundedSender<String>,
    kick: Arc<Notify>,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = tokio::select! {
            r = s.read(&mut chunk) => match r { Ok(0) | Err(_) => return, Ok(n) => n },
            _ = kick.notified() => return,
        };
        buf.extend_from_slice(&chunk[..n]);
        while let Some(i) = buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buf.drain(..=i).collect();
            let _ = tx.send(String::from_utf8(line[..i].to_vec()).unwrap());
        }
    }
}

impl Tak {
    /// The events that arrive within `wait` of each other.
    async fn take(&mut self, first: Duration, quiet: Duration) -> Vec<String> {
        let mut out = Vec::new();
        let mut wait = first;
        while let Ok(Some(e)) = tokio::time::timeout(wait, self.events.recv()).await {
            out.push(e);
            wait = quiet;
        }
        out
    }
}

async fn start(toml_text: &str, ctx: &Context) -> OutputSet {
    #[derive(serde::Deserialize)]
    struct F {
        outputs: Vec<OutputConfig>,
    }
    let f: F = toml::from_str(toml_text).unwrap();
    OutputSet::start_with(&f.outputs, ctx).await.unwrap()
}

fn tls_table(dir: &Path) -> String {
    format!(
        "tls = {{ ca = {:?}, cert = {:?}, key = {:?} }}",
        dir.join("ca.pem"),
        dir.join("client.pem"),
        dir.join("client.key")
    )
}

/// takproto parses every event (its `parse_proto` takes CoT XML to a
/// TakMessage) and the schema's required attributes are checked with
/// ElementTree; one JSON object per event back.
fn parse_with_takproto(events: &[String]) -> Vec<serde_json::Value> {
    const SCRIPT: &str = r#"
import json, sys, time
import xml.etree.ElementTree as ET
import takproto
now = time.time() * 1000
for line in sys.stdin.read().splitlines():
    msg = takproto.parse_proto(bytearray(line.encode()))
    assert msg is not None, line
    e = msg.cotEvent
    x = ET.fromstring(line)
    assert x.tag == "event" and x.get("version") == "2.0", line
    for a in ("uid", "type", "time", "start", "stale", "how"):
        assert x.get(a), (a, line)
    p = x.find("point")
    for a in ("lat", "lon", "hae", "ce", "le"):
        float(p.get(a))
    assert -90 <= e.lat <= 90 and -180 <= e.lon <= 180, line
    assert e.sendTime == e.startTime < e.staleTime, line
    d = x.find("detail")
    ais = d.find("__ais") if d is not None else None
    json.dump({
        "uid": e.uid, "type": e.type, "how": e.how, "opex": e.opex,
        "lat": e.lat, "lon": e.lon, "ce": e.ce,
        "callsign": e.detail.contact.callsign,
        "speed": e.detail.track.speed, "course": e.detail.track.course,
        "time_offset_s": (e.sendTime - now) / 1000.0,
        "stale_after_s": (e.staleTime - e.startTime) / 1000.0,
        "mmsi": ais.get("mmsi") if ais is not None else None,
        "message_time": ais.get("time") if ais is not None else None,
        "link": d.find("link").get("uid") if d is not None and d.find("link") is not None else None,
    }, sys.stdout)
    print()
"#;
    let mut input = events.join("\n");
    input.push('\n');
    python::run(SCRIPT, &[], input.as_bytes())
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_client_certificate_one_valid_event_per_vessel() {
    let pki = pki();
    let mut server = tak(Some(pki.server.clone())).await;
    let set = start(
        &format!(
            "[[outputs]]\ntype = \"cot\"\naddress = \"{}\"\nprotocol = \"tls\"\n{}\nmin_interval_s = 60\nstale_s = 120\n",
            server.addr,
            tls_table(pki.dir.path())
        ),
        &Context {
            node: "rcc-test".into(),
            replay: false,
        },
    )
    .await;
    let items = relayed();
    let expected: BTreeSet<String> = items
        .iter()
        .filter_map(|r| match r {
            Relayed::Ais(m) if m.position.is_some() => {
                Some(format!("lookout-rcc-test-mmsi-{}", m.mmsi))
            }
            _ => None,
        })
        .collect();
    assert!(expected.len() >= 3, "the fixture has vessels");
    set.send(&items);
    let events = server
        .take(Duration::from_secs(10), Duration::from_millis(1500))
        .await;
    assert_eq!(server.accepted.load(Ordering::SeqCst), 1);
    let parsed = parse_with_takproto(&events);
    let uids: BTreeSet<String> = parsed
        .iter()
        .map(|p| p["uid"].as_str().unwrap().to_string())
        .collect();
    // One event per vessel with a position (min_interval_s holds the rest).
    assert_eq!(parsed.len(), expected.len(), "{events:#?}");
    assert_eq!(uids, expected);
    for p in &parsed {
        assert_eq!(p["how"], "m-g");
        assert!(p["type"].as_str().unwrap().starts_with("a-"), "{p}");
        // Live: stamped with the wall clock (the fixture's messages are
        // from 2023), stale 120 s later; the message time in <__ais>.
        assert!(p["time_offset_s"].as_f64().unwrap().abs() < 30.0, "{p}");
        let stale = p["stale_after_s"].as_f64().unwrap();
        assert!(stale > 100.0 && stale <= 120.0, "{p}");
        assert!(
            p["message_time"].as_str().unwrap().starts_with("2023-"),
            "{p}"
        );
        assert_eq!(p["opex"], "");
        assert_eq!(
            format!("lookout-rcc-test-mmsi-{}", p["mmsi"].as_str().unwrap()),
            p["uid"].as_str().unwrap()
        );
    }
    let s = &set.stats()[0];
    assert_eq!(
        (s.kind, s.messages, s.clients),
        ("cot", parsed.len() as u64, 1)
    );
    set.shutdown();

    // Without the client certificate the server refuses the session.
    let set = start(
        &format!(
            "[[outputs]]\ntype = \"cot\"\naddress = \"{}\"\nprotocol = \"tls\"\ntls = {{ ca = {:?} }}\nretry_initial_ms = 100\n",
            server.addr,
            pki.dir.path().join("ca.pem")
        ),
        &Context::default(),
    )
    .await;
    set.send(&items);
    let none = server
        .take(Duration::from_secs(2), Duration::from_millis(200))
        .await;
    assert!(none.is_empty(), "{none:?}");
    assert_eq!(server.accepted.load(Ordering::SeqCst), 1);
    assert!(set.stats()[0].errors > 0);
    set.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_reports_within_the_interval_make_one_event_then_the_latest() {
    let mut server = tak(None).await;
    let set = start(
        &format!(
            "[[outputs]]\ntype = \"cot\"\naddress = \"{}\"\nmin_interval_s = 2.0\n",
            server.addr
        ),
        &Context::default(),
    )
    .await;
    let (mmsi, reports) = reports_of_one(10);
    for r in &reports {
        set.send(std::slice::from_ref(r));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let Relayed::Ais(first) = &reports[0] else {
        unreachable!()
    };
    let Relayed::Ais(last) = &reports[9] else {
        unreachable!()
    };
    // Within the interval: one event, the first report.
    let now = server
        .take(Duration::from_millis(1500), Duration::from_millis(1500))
        .await;
    let p = parse_with_takproto(&now);
    assert_eq!(p.len(), 1, "{now:#?}");
    assert_eq!(p[0]["uid"], format!("lookout-mmsi-{mmsi}"));
    assert!((p[0]["lat"].as_f64().unwrap() - first.position.unwrap().0).abs() < 1e-6);
    // When the interval is over: the latest report, once.
    let later = server
        .take(Duration::from_secs(3), Duration::from_millis(2500))
        .await;
    let p = parse_with_takproto(&later);
    assert_eq!(p.len(), 1, "{later:#?}");
    assert!((p[0]["lat"].as_f64().unwrap() - last.position.unwrap().0).abs() < 1e-6);
    let s = &set.stats()[0];
    assert_eq!((s.messages, s.filtered), (2, 8));
    set.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_over_tls_when_the_server_closes() {
    let pki = pki();
    let mut server = tak(Some(pki.server.clone())).await;
    let set = start(
        &format!(
            "[[outputs]]\ntype = \"cot\"\naddress = \"{}\"\nprotocol = \"tls\"\n{}\nretry_initial_ms = 100\nretry_max_ms = 1000\n",
            server.addr,
            tls_table(pki.dir.path())
        ),
        &Context::default(),
    )
    .await;
    let items: Vec<Relayed> = relayed()
        .into_iter()
        .filter(|r| matches!(r, Relayed::Ais(m) if m.position.is_some()))
        .collect();
    let mmsis: Vec<u32> = items
        .iter()
        .filter_map(|r| match r {
            Relayed::Ais(m) => Some(m.mmsi),
            _ => None,
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let of = |mmsi: u32| {
        items
            .iter()
            .find(|r| matches!(r, Relayed::Ais(m) if m.mmsi == mmsi))
            .unwrap()
            .clone()
    };
    set.send(&[of(mmsis[0])]);
    let a = server
        .take(Duration::from_secs(10), Duration::from_millis(300))
        .await;
    assert_eq!(parse_with_takproto(&a).len(), 1);
    // The server closes the session; the output notices.
    server.kick.notify_waiters();
    let t0 = std::time::Instant::now();
    while set.stats()[0].clients != 0 {
        assert!(t0.elapsed() < Duration::from_secs(10), "close not noticed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    set.send(&[of(mmsis[1])]);
    let b = server
        .take(Duration::from_secs(10), Duration::from_millis(300))
        .await;
    let p = parse_with_takproto(&b);
    assert_eq!(p.len(), 1, "{b:#?}");
    assert_eq!(p[0]["mmsi"], mmsis[1].to_string());
    assert_eq!(server.accepted.load(Ordering::SeqCst), 2);
    assert_eq!(set.stats()[0].clients, 1);
    set.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uids_are_stable_across_restarts_and_markers_follow_the_sar_book() {
    let mut server = tak(None).await;
    let cfg = format!(
        "[[outputs]]\ntype = \"cot\"\naddress = \"{}\"\nmin_interval_s = 0.3\nstale_s = 60\n",
        server.addr
    );
    let (mmsi, reports) = reports_of_one(1);
    let mut uids = Vec::new();
    for node in ["rcc-a", "rcc-a", "rcc-b"] {
        let set = start(
            &cfg,
            &Context {
                node: node.into(),
                replay: false,
            },
        )
        .await;
        set.send(&reports);
        let e = server
            .take(Duration::from_secs(10), Duration::from_millis(300))
            .await;
        let p = parse_with_takproto(&e);
        assert_eq!(p.len(), 1);
        uids.push(p[0]["uid"].as_str().unwrap().to_string());
        set.shutdown();
    }
    assert_eq!(uids[0], format!("lookout-rcc-a-mmsi-{mmsi}"));
    assert_eq!(
        uids[0], uids[1],
        "same deployment, same uid after a restart"
    );
    assert_eq!(uids[2], format!("lookout-rcc-b-mmsi-{mmsi}"));

    // Contacts and incidents: a marker each, a delete when one closes; a
    // replay is flagged as a simulation.
    let set = start(
        &cfg,
        &Context {
            node: "rcc-a".into(),
            replay: true,
        },
    )
    .await;
    let book = Arc::new(Mutex::new(vec![
        Marker {
            key: "contact-c-000001".into(),
            kind: MarkerKind::Contact,
            title: "rubber boat, ~60 persons".into(),
            status: "active".into(),
            lat: 35.1,
            lon: 12.2,
            ce_m: 900.0,
            course_deg: Some(200.0),
            speed_kn: Some(1.5),
            time_ms: 1_795_845_600_000,
            version: 1,
        },
        Marker {
            key: "incident-i-000001".into(),
            kind: MarkerKind::Incident,
            title: "Migrant boat <south of Lampedusa>".into(),
            status: "open".into(),
            lat: 35.0,
            lon: 12.5,
            ce_m: 18520.0,
            course_deg: None,
            speed_kn: None,
            time_ms: 0,
            version: 4,
        },
    ]));
    let b = book.clone();
    set.set_markers(Arc::new(move || b.lock().unwrap().clone()));
    let e = server
        .take(Duration::from_secs(10), Duration::from_millis(700))
        .await;
    let p = parse_with_takproto(&e);
    assert_eq!(p.len(), 2, "unchanged markers are not resent: {e:#?}");
    assert_eq!(p[0]["uid"], "lookout-rcc-a-contact-c-000001");
    assert_eq!(p[0]["type"], "a-u-S");
    assert_eq!(p[1]["uid"], "lookout-rcc-a-incident-i-000001");
    assert_eq!(p[1]["type"], "b-m-p-s-m");
    assert!(p.iter().all(|x| x["opex"] == "s-lookout-replay"));
    book.lock().unwrap().remove(0);
    let e = server
        .take(Duration::from_secs(5), Duration::from_millis(700))
        .await;
    let p = parse_with_takproto(&e);
    assert_eq!(p.len(), 1, "{e:#?}");
    assert_eq!(p[0]["type"], "t-x-d-d");
    assert_eq!(p[0]["link"], "lookout-rcc-a-contact-c-000001");
    set.shutdown();
}

fn a_route() -> outputs::route::Route {
    let waypoints: Vec<outputs::route::RoutePoint> = (0..5)
        .map(|k| outputs::route::RoutePoint {
            lat: 35.0 + 0.01 * k as f64,
            lon: 12.5 + 0.01 * (k % 2) as f64,
            name: format!("WP{:03}", k + 1),
            time_ms: 1_796_000_000_000 + 300_000 * k,
        })
        .collect();
    outputs::route::Route {
        id: "i-000001-1".into(),
        name: "SS RESCUE <1>".into(),
        remarks: "5 legs & more".into(),
        waypoints,
        nmea: vec!["$GPWPL,3500.0000,N,01230.0000,E,WP001*4C".into()],
    }
}

/// A planned pattern reaches TAK as a route: a `b-m-r` event whose check
/// points are the waypoints in order, parsed by takproto.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pattern_goes_to_tak_as_a_route() {
    let mut server = tak(None).await;
    let set = start(
        &format!(
            "[[outputs]]\ntype = \"cot\"\naddress = \"{}\"\n",
            server.addr
        ),
        &Context::default(),
    )
    .await;
    set.send_route(&a_route());
    let got = server
        .take(Duration::from_secs(5), Duration::from_millis(500))
        .await;
    assert_eq!(got.len(), 1, "{got:#?}");
    let p = parse_with_takproto(&got);
    assert_eq!(p[0]["type"], "b-m-r");
    assert_eq!(p[0]["uid"], "lookout-route-i-000001-1");
    assert_eq!(p[0]["callsign"], "SS RESCUE <1>");
    // The check points, in order, with their positions.
    let doc = roxmltree::Document::parse(&got[0]).unwrap();
    let links: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("link"))
        .collect();
    assert_eq!(links.len(), 5);
    assert_eq!(links[0].attribute("callsign"), Some("WP001"));
    assert_eq!(links[4].attribute("point"), Some("35.040000,12.500000"));
    set.shutdown();
}

/// And over an NMEA TCP output as its $GPWPL/$GPRTE sentences.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pattern_goes_to_nmea_clients_as_sentences() {
    let set = start(
        "[[outputs]]\ntype = \"nmea_tcp\"\nlisten = \"127.0.0.1:0\"\nbbox = [0, 0, 1, 1]\n",
        &Context::default(),
    )
    .await;
    let addr = set.local_addrs()[0].unwrap();
    let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
    for _ in 0..200 {
        if set.stats()[0].clients == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    set.send_route(&a_route());
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), client.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    // Routes are not vessels: the box filter does not hold them back.
    assert_eq!(&buf[..n], b"$GPWPL,3500.0000,N,01230.0000,E,WP001*4C\r\n");
    set.shutdown();
}
