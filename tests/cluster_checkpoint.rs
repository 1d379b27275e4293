//! Core restarts on a real nats-server (started here on 127.0.0.1 with
//! JetStream in a temporary folder):
//!
//! - a core writing picture checkpoints every second is killed with
//!   SIGKILL mid-stream and restarted: it restores the newest checkpoint,
//!   replays only the stream after it, and ends with exactly the vessels
//!   (`/api/vessels`) and alerts (`/api/alerts`) of a second core that ran
//!   uninterrupted on the same stream — and the alert situations of
//!   `lookout replay` of the same recording;
//! - a contact write repeated on `lookout.sar.write` with the same request
//!   id after a core `kill -9` and restart is answered with the first
//!   answer and not applied again (the answers are in the state database).

use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

#[path = "invariance_support.rs"]
mod support;
use support::{api_situations, assert_same, fold_changes, kinds, replay, simulate};

#[path = "node_support.rs"]
mod node_support;
use node_support::Node;

fn serve(dir: &Path, name: &str, args: &[&str]) -> Node {
    let state = dir.join(format!("state-{name}"));
    std::fs::create_dir_all(&state).unwrap();
    let mut cmd = node_support::lookout();
    cmd.arg("serve")
        .args(["--listen", "127.0.0.1:0", "--zones", "config/zones"])
        .arg("--state-dir")
        .arg(&state)
        .args(args);
    Node::start(name, cmd, dir.join(format!("{name}.log")))
}

fn get_text(addr: &str, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    if !resp.starts_with("HTTP/1.1 200") {
        return None;
    }
    Some(resp.split_once("\r\n\r\n")?.1.to_string())
}

fn get(addr: &str, path: &str) -> Option<Value> {
    serde_json::from_str(&get_text(addr, path)?).ok()
}

/// A counter from `/metrics` (0 when absent).
fn counter(addr: &str, name: &str) -> u64 {
    get_text(addr, "/metrics")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix(name)?
                .strip_prefix(' ')?
                .trim()
                .parse::<f64>()
                .ok()
        })
        .unwrap_or(0.0) as u64
}

/// Every vessel (GeoJSON features, every property), sorted by MMSI (the
/// list's order is not part of the API).
fn vessels(addr: &str) -> Option<Vec<Value>> {
    let mut v = get(addr, "/api/vessels")?["features"].as_array()?.clone();
    v.sort_by_key(|x| x["id"].as_u64());
    Some(v)
}

fn alerts(addr: &str) -> Option<Vec<Value>> {
    let mut v = get(addr, "/api/alerts")?.as_array()?.clone();
    v.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    Some(v)
}

fn cluster(role: &str, url: &str, name: &str, config: &Path) -> Vec<String> {
    let mut v: Vec<String> = ["--role", role, "--bus-url", url, "--node", name]
        .iter()
        .map(|s| s.to_string())
        .collect();
    v.extend(["--config".to_string(), config.display().to_string()]);
    v
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn a_core_restarted_from_its_checkpoint_has_the_uninterrupted_picture_and_alerts() {
    let Some(nats) = bus::testkit::NatsServer::start() else {
        return;
    };
    let url = nats.url();
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("demo-80m.nmea");
    simulate(None, "80m", &rec);
    let reference = fold_changes(&replay(&rec, None, false, dir.path(), "reference").changes);
    let k = kinds(&reference);
    assert!(
        k.contains("loitering") && k.contains("encounter") && k.contains("distress_beacon"),
        "{k:?}"
    );
    let every = |d: &str| {
        let p = dir.path().join(format!("checkpoint-{d}.toml"));
        std::fs::write(&p, format!("[bus]\ncheckpoint_every = \"{d}\"\n")).unwrap();
        p
    };
    let (often, never) = (every("1s"), every("0s"));

    let core1_args = cluster("core", &url, "core1", &often);
    let core2_args = cluster("core", &url, "core2", &never);
    let mut ingest_args = cluster("ingest", &url, "ingest1", &never);
    // About 15 s of stream at this speed.
    ingest_args.extend(["--replay", rec.to_str().unwrap(), "--speed", "320"].map(String::from));
    let core1 = serve(dir.path(), "core1", &args(&core1_args));
    let core2 = serve(dir.path(), "core2", &args(&core2_args));
    let ingest = serve(dir.path(), "ingest1", &args(&ingest_args));

    // Core 1 dies (SIGKILL) mid-stream once it has written a checkpoint.
    let deadline = Instant::now() + Duration::from_secs(40);
    while counter(&core1.addr, "lookout_bus_checkpoints_written_total") < 2 {
        assert!(Instant::now() < deadline, "core 1 wrote no checkpoint");
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(core1);
    let published_at_kill = counter(&ingest.addr, "lookout_bus_published_batches_total");
    let core1 = serve(dir.path(), "core1", &args(&core1_args));

    // It started from the checkpoint, replaying only the stream after it.
    let deadline = Instant::now() + Duration::from_secs(20);
    while counter(&core1.addr, "lookout_bus_checkpoints_restored_total") == 0
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    let restored = counter(&core1.addr, "lookout_bus_checkpoints_restored_total");
    let covered = counter(&core1.addr, "lookout_bus_checkpoint_covered_batches_total");
    let rebuilt = counter(&core1.addr, "lookout_bus_rebuilt_batches_total");
    eprintln!(
        "restarted core: checkpoint covered {covered} batches, replayed {rebuilt} after it \
         ({published_at_kill} published when it was killed)"
    );
    assert_eq!(restored, 1, "core 1 did not restore a checkpoint");
    assert!(covered > 0, "the checkpoint covered nothing");
    assert!(
        rebuilt < published_at_kill,
        "core 1 replayed {rebuilt} batches of {published_at_kill} (checkpoint at {covered})"
    );

    // When the stream has ended and both cores have applied all of it,
    // the restarted core and the uninterrupted one agree on everything.
    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut same, mut last) = (0, None);
    loop {
        std::thread::sleep(Duration::from_millis(700));
        let (v1, v2) = (vessels(&core1.addr), vessels(&core2.addr));
        let (a1, a2) = (alerts(&core1.addr), alerts(&core2.addr));
        if Instant::now() > deadline {
            let only = |a: &Option<Vec<Value>>, b: &Option<Vec<Value>>| -> Vec<Value> {
                let (a, b) = (a.clone().unwrap_or_default(), b.clone().unwrap_or_default());
                a.into_iter().filter(|x| !b.contains(x)).take(3).collect()
            };
            panic!(
                "the cores never agreed: vessels only on the restarted core {:#?}, only on the other {:#?}; \
                 alerts only on the restarted core {:#?}, only on the other {:#?}",
                only(&v1, &v2),
                only(&v2, &v1),
                only(&a1, &a2),
                only(&a2, &a1)
            );
        }
        // Settled (the stream has ended) and equal.
        let done = v1.as_ref().is_some_and(|v| !v.is_empty())
            && v1 == v2
            && a1 == a2
            && last.as_ref() == Some(&(v1.clone(), a1.clone()));
        last = Some((v1, a1));
        same = if done { same + 1 } else { 0 };
        if same >= 3 {
            break;
        }
    }
    let on_core1 = api_situations(&get(&core1.addr, "/api/alerts").unwrap());
    assert_same(
        "lookout replay",
        &reference,
        "the restarted core",
        &on_core1,
    );
    if std::env::var_os("KEEP_TEST_DIR").is_some() {
        eprintln!("logs kept in {}", dir.path().display());
        std::mem::forget(dir);
    }
}

/// One request on `lookout.sar.write`, its answer.
async fn sar_write(client: &async_nats::Client, w: &Value) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match tokio::time::timeout(
            Duration::from_secs(3),
            client.request("lookout.sar.write", w.to_string().into()),
        )
        .await
        {
            Ok(Ok(r)) => return serde_json::from_slice(&r.payload).unwrap(),
            // No core subscribed yet (it is starting).
            _ => {
                assert!(Instant::now() < deadline, "no core answered {w}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sar_write_retried_after_a_core_restart_is_applied_once() {
    let Some(nats) = bus::testkit::NatsServer::start() else {
        return;
    };
    let url = nats.url();
    let dir = tempfile::tempdir().unwrap();
    let core_args = ["--role", "core", "--bus-url", &url, "--node", "core1"];
    let core = serve(dir.path(), "core1", &core_args);
    let client = async_nats::connect(&url).await.unwrap();
    let create = json!({"request": "edge1-1-1", "who": "tester", "op": "create_contact",
                        "body": {"description": "rubber boat", "lat": 35.1, "lon": 12.2}});
    let first = sar_write(&client, &create).await;
    let id = first["ok"]["id"].as_str().expect("created").to_string();
    let update = json!({"request": "edge1-1-2", "who": "tester", "op": "add_sighting",
                        "id": id, "body": {"lat": 35.0, "lon": 12.1, "source": "vessel"}});
    let sighted = sar_write(&client, &update).await;
    assert!(sighted["ok"]["version"].is_u64(), "{sighted}");

    // kill -9, and the same state folder again.
    drop(core);
    let core = serve(dir.path(), "core1", &core_args);
    // Both writes repeated: the first answers, nothing applied again.
    assert_eq!(sar_write(&client, &create).await, first);
    assert_eq!(sar_write(&client, &update).await, sighted);
    let contacts = get(&core.addr, "/api/contacts").unwrap();
    let contacts = contacts.as_array().unwrap();
    assert_eq!(contacts.len(), 1, "{contacts:?}");
    let c = get(&core.addr, &format!("/api/contacts/{id}")).unwrap();
    assert_eq!(c["version"], sighted["ok"]["version"], "{c}");
    assert_eq!(c["track"].as_array().unwrap().len(), 2, "{c}");
    // A new request id is applied.
    let again = json!({"request": "edge1-1-3", "who": "tester", "op": "add_sighting",
                       "id": id, "body": {"lat": 34.9, "lon": 12.0, "source": "vessel"}});
    let r = sar_write(&client, &again).await;
    assert_ne!(r["ok"]["version"], sighted["ok"]["version"], "{r}");
}
