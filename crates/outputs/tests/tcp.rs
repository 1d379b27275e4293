//! The NMEA outputs against real sockets: a client gets every message
//! framed and whole; a client that does not read is dropped with a count
//! and never holds up a client that does; `max_clients` refuses the rest.

use engine::{Engine, EngineConfig, Relayed};
use lookout_ais::{Decoder, DecoderOptions, LineContext};
use outputs::config::OutputConfig;
use outputs::OutputSet;
use spatial_index::ZoneIndex;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

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

fn decode(bytes: &[u8]) -> Vec<lookout_ais::Decoded> {
    let mut d = Decoder::new(DecoderOptions::default());
    let mut out = Vec::new();
    for l in bytes.split(|&b| b == b'\n') {
        let _ = d.decode_line_with(l, &LineContext::default(), |m| out.push(m));
    }
    out
}

async fn start(toml_text: &str) -> OutputSet {
    #[derive(serde::Deserialize)]
    struct F {
        outputs: Vec<OutputConfig>,
    }
    let f: F = toml::from_str(toml_text).unwrap();
    OutputSet::start(&f.outputs).await.unwrap()
}

async fn read_all(mut s: TcpStream, quiet: Duration) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    while let Ok(Ok(n)) = tokio::time::timeout(quiet, s.read(&mut buf)).await {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    out
}

async fn wait_clients(set: &OutputSet, n: i64) {
    for _ in 0..200 {
        if set.stats()[0].clients == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{:?}", set.stats());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_gets_every_message_and_a_stalled_one_is_dropped() {
    let items = relayed();
    assert!(items.len() > 600);
    let set = start("[[outputs]]\ntype = \"nmea_tcp\"\nlisten = \"127.0.0.1:0\"\n").await;
    let addr = set.local_addrs()[0].unwrap();
    let reader = TcpStream::connect(addr).await.unwrap();
    // A client that never reads, with a small receive buffer.
    let stalled = {
        let s = tokio::net::TcpSocket::new_v4().unwrap();
        s.set_recv_buffer_size(4096).unwrap();
        s.connect(addr).await.unwrap()
    };
    wait_clients(&set, 2).await;
    let read = tokio::spawn(read_all(reader, Duration::from_secs(2)));
    // 400 rounds of the recording (13 MB), paced as a busy feed: far more
    // than the socket buffers hold, well within what a reader takes.
    let rounds = 400;
    for _ in 0..rounds {
        set.send(&items);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let got = read.await.unwrap();
    let decoded = decode(&got);
    assert_eq!(
        decoded.len(),
        items.len() * rounds,
        "the reading client lost nothing"
    );
    let s = &set.stats()[0];
    assert_eq!(s.dropped, 1, "{s:?}");
    assert_eq!(s.messages, (items.len() * rounds) as u64);
    assert_eq!(s.clients, 1);
    drop(stalled);
    set.shutdown();
}

#[tokio::test]
async fn clients_over_the_limit_are_refused() {
    let set =
        start("[[outputs]]\ntype = \"nmea_tcp\"\nlisten = \"127.0.0.1:0\"\nmax_clients = 1\n")
            .await;
    let addr = set.local_addrs()[0].unwrap();
    let _first = TcpStream::connect(addr).await.unwrap();
    wait_clients(&set, 1).await;
    let second = TcpStream::connect(addr).await.unwrap();
    // The refused connection is closed at once.
    let got = read_all(second, Duration::from_secs(5)).await;
    assert!(got.is_empty());
    assert_eq!(set.stats()[0].refused, 1);
}

#[test]
fn bad_configs_are_refused_with_the_reason() {
    for (text, needle) in [
        (
            "type = \"nmea_tcp\"\nlisten = \"127.0.0.1:0\"\nclasses = [\"tanker\"]",
            "unknown class",
        ),
        (
            "type = \"nmea_tcp\"\nlisten = \"127.0.0.1:0\"\nbbox = [0, 10, 5, 1]",
            "bbox",
        ),
        (
            "type = \"nmea_udp\"\ntarget = \"127.0.0.1:9\"\nbbox = [0, 0, 200, 1]",
            "bbox",
        ),
    ] {
        let c: OutputConfig = toml::from_str(text).unwrap();
        let e = c.validate().unwrap_err();
        assert!(e.contains(needle), "{e}");
    }
    assert!(toml::from_str::<OutputConfig>(
        "type = \"nmea_tcp\"\nlisten = \"127.0.0.1:0\"\nbogus = 1"
    )
    .is_err());
    assert!(toml::from_str::<OutputConfig>("type = \"nmea_serial\"").is_err());
}
