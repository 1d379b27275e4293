//! Two organisations share their pictures through real NATS servers
//! joined by a leaf-node connection with subject permissions: the rescue
//! centre (`mrcc`, hub server) exports its tracks except an own asset
//! marked private; the naval operation (`navy`, leaf server) accepts them.
//! The navy's map shows the centre's vessels marked shared with their
//! origin, merged with its own; the private asset never crosses; revoking
//! the partner on the hub (its leaf user removed from the hub's
//! configuration, the hub restarted: the leaf cannot reconnect) stops the
//! flow, while the centre reconnects and goes on exporting.

use futures_util::StreamExt;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[path = "node_support.rs"]
mod node_support;
use node_support::{lookout, Node};

fn tmp_dir() -> PathBuf {
    std::env::temp_dir().join(format!("lookout-federation-{}", std::process::id()))
}

fn tmp(name: &str) -> PathBuf {
    assert!(!name.is_empty());
    std::fs::create_dir_all(tmp_dir()).unwrap();
    tmp_dir().join(name)
}

fn serve(name: &str, config: &str, args: &[&str]) -> Node {
    let cfg = tmp(&format!("{name}.toml"));
    std::fs::write(&cfg, config).unwrap();
    let mut cmd = lookout();
    cmd.arg("serve")
        .args(["--listen", "127.0.0.1:0", "--config"])
        .arg(&cfg)
        .arg("--state-dir")
        .arg(tmp(&format!("state-{name}")))
        .args(args);
    Node::start(name, cmd, tmp(&format!("{name}.log")))
}

async fn vessels(addr: &str) -> BTreeMap<u64, Value> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else {
        return BTreeMap::new();
    };
    let _ = s
        .write_all(b"GET /api/vessels HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await;
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp).await;
    let body = resp.split("\r\n\r\n").nth(1).unwrap_or("{}");
    let fc: Value = serde_json::from_str(body).unwrap_or_default();
    fc["features"]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|f| (f["id"].as_u64().unwrap_or(0), f["properties"].clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// Split a recording by MMSI parity (multi-sentence messages kept whole);
/// also returns the first even MMSI.
fn split(rec: &Path) -> (PathBuf, PathBuf, u32) {
    let text = std::fs::read_to_string(rec).unwrap();
    let mut decoder = lookout_ais::Decoder::new(lookout_ais::DecoderOptions::default());
    let ctx = lookout_ais::LineContext {
        source: 0,
        received_ms: None,
    };
    let (mut a, mut b, mut pending) = (String::new(), String::new(), String::new());
    let mut first_even = None;
    for line in text.lines() {
        pending.push_str(line);
        pending.push('\n');
        let mut mmsi = None;
        let _ = decoder.decode_line_with(line.as_bytes(), &ctx, |d| mmsi = Some(d.message.mmsi));
        if let Some(m) = mmsi {
            if m % 2 == 0 {
                first_even.get_or_insert(m);
                a.push_str(&pending);
            } else {
                b.push_str(&pending);
            }
            pending.clear();
        }
    }
    let (pa, pb) = (tmp("mrcc.nmea"), tmp("navy.nmea"));
    std::fs::write(&pa, a).unwrap();
    std::fs::write(&pb, b).unwrap();
    (pa, pb, first_even.unwrap())
}

/// The hub's configuration: the centre's own user, and the navy's leaf
/// user, allowed to send on its own subject and receive the centre's. A
/// revoked partner has no user any more: reloading the configuration closes
/// its leaf connection.
fn hub_config(leaf_port: u16, navy_partner: bool) -> String {
    let navy = if navy_partner {
        r#"{ user: "navy", password: "navy-pw",
         permissions: { publish: ["share.navy.>"], subscribe: ["share.mrcc.>", "_INBOX.>"] } }"#
    } else {
        ""
    };
    format!(
        r#"
accounts {{
  SHARE {{
    users = [
      {{ user: "mrcc", password: "mrcc-pw" }},
      {navy}
    ]
  }}
}}
leafnodes {{ listen: "127.0.0.1:{leaf_port}" }}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partners_share_only_what_they_export_and_revocation_stops_it() {
    let leaf_port = bus::testkit::free_port();
    let Some(mut hub) = bus::testkit::NatsServer::start_with(&hub_config(leaf_port, true), "mrcc")
    else {
        return;
    };
    let leaf = bus::testkit::NatsServer::start_with(
        &format!(
            r#"leafnodes {{ remotes: [ {{ url: "nats-leaf://navy:navy-pw@127.0.0.1:{leaf_port}" }} ] }}"#
        ),
        "navy",
    )
    .unwrap();

    let rec = tmp("sim.nmea");
    assert!(lookout()
        .args(["simulate", "--duration", "20m", "-o"])
        .arg(&rec)
        .status()
        .unwrap()
        .success());
    let (mrcc_rec, navy_rec, private) = split(&rec);

    // Everything the navy's server receives on the centre's subject.
    let navy_client = async_nats::connect(leaf.url()).await.unwrap();
    let mut seen = navy_client.subscribe("share.mrcc.>").await.unwrap();
    // The leaf connection is up once the subscription's interest crossed.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let mrcc = serve(
        "mrcc",
        &format!(
            r#"
[share]
url = "{}"
org = "mrcc"
user = "mrcc"
password = "mrcc-pw"
private = [{private}]
[[share.export]]
"#,
            hub.url()
        ),
        &["--replay", mrcc_rec.to_str().unwrap(), "--speed", "30"],
    );
    let navy = serve(
        "navy",
        &format!(
            r#"
[share]
url = "{}"
org = "navy"
[[share.accept]]
from = "mrcc"
"#,
            leaf.url()
        ),
        &["--replay", navy_rec.to_str().unwrap(), "--speed", "30"],
    );

    // The navy's picture: its own vessels, and the centre's marked shared.
    let deadline = Instant::now() + Duration::from_secs(60);
    let (ours, shared) = loop {
        let v = vessels(&navy.addr).await;
        let shared: Vec<&Value> = v.values().filter(|p| p["shared"] == true).collect();
        let ours = v.values().filter(|p| p.get("origin").is_none()).count();
        if shared.len() >= 50 && ours >= 50 {
            assert!(shared.iter().all(|p| p["origin"] == "mrcc"));
            assert!(v
                .iter()
                .filter(|(_, p)| p["shared"] == true)
                .all(|(m, _)| m % 2 == 0));
            break (ours, shared.len());
        }
        assert!(
            Instant::now() < deadline,
            "no shared vessels reached the navy: {v:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let at_mrcc = vessels(&mrcc.addr).await;
    assert!(
        at_mrcc.contains_key(&(private as u64)),
        "the private asset is in its own picture"
    );
    assert!(
        !vessels(&navy.addr).await.contains_key(&(private as u64)),
        "the private asset is not in the partner's picture"
    );
    eprintln!("navy: {ours} own vessels, {shared} shared by mrcc");

    // Revoke: the hub drops the navy's user (new configuration; the leaf
    // connection is closed and cannot come back).
    let mut before = 0;
    while let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(200), seen.next()).await {
        assert!(!String::from_utf8_lossy(&m.payload).contains(&format!("\"mmsi\":{private},")));
        before += 1;
    }
    assert!(before > 0);
    hub.restart_with(&hub_config(leaf_port, false));
    // In flight at the moment of the reload may still arrive; then nothing.
    tokio::time::sleep(Duration::from_secs(2)).await;
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(100), seen.next()).await {}
    let after = tokio::time::timeout(Duration::from_secs(4), seen.next()).await;
    assert!(
        after.is_err(),
        "messages still flow after revocation; hub log:\n{}",
        hub.log()
    );
    // The centre reconnected and goes on exporting: a subscriber on the hub
    // still receives it (it is the hub that stops the flow to the navy).
    let hub_client =
        async_nats::ConnectOptions::with_user_and_password("mrcc".into(), "mrcc-pw".into())
            .connect(hub.url())
            .await
            .unwrap();
    let mut at_hub = hub_client.subscribe("share.mrcc.>").await.unwrap();
    assert!(
        tokio::time::timeout(Duration::from_secs(15), at_hub.next())
            .await
            .is_ok(),
        "the centre stopped exporting"
    );
    drop((mrcc, navy, leaf, hub));
    let _ = std::fs::remove_dir_all(tmp_dir());
}
