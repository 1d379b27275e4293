//! Crash safety of the state database: `lookout serve` as a child process,
//! a client writing contacts, sightings and incident actions in a loop,
//! `kill -9` of the server in the middle of it, restart on the same state
//! folder — several times. Every write that got a 2xx must be there after
//! each restart, with nothing acknowledged lost; an alert acknowledged
//! before the first kill must be acknowledged again after each restart; a
//! zone created over the API must still be there.

#[path = "sar_support.rs"]
mod support;

use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::*;

/// What the server acknowledged (2xx) so far.
#[derive(Default)]
struct Ledger {
    /// Contact id → sighting times (ms) acknowledged.
    contacts: BTreeMap<String, BTreeSet<i64>>,
    /// Incident id → note texts acknowledged.
    incidents: BTreeMap<String, BTreeSet<String>>,
    writes: u64,
}

const BASE_MS: i64 = 1_795_845_600_000; // 2026-11-28T06:00:00Z

/// One writer: a mix of writes until `stop`; records every 2xx.
async fn writer(
    addr: String,
    ledger: Arc<Mutex<Ledger>>,
    counter: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::Relaxed) {
        let n = counter.fetch_add(1, Ordering::Relaxed);
        let t = BASE_MS + n as i64 * 1000;
        let (contact, incident) = {
            let l = ledger.lock().unwrap();
            let c = l
                .contacts
                .keys()
                .nth((n as usize) % l.contacts.len().max(1))
                .cloned();
            let i = l
                .incidents
                .keys()
                .nth((n as usize) % l.incidents.len().max(1))
                .cloned();
            (c, i)
        };
        let lat = 34.0 + (n % 100) as f64 * 0.01;
        match (n % 4, contact, incident) {
            (1, Some(c), _) => {
                let b = json!({"lat": lat, "lon": 12.5, "time": t, "uncertainty_m": 300.0, "source": "phone"});
                if let Ok((201, _)) = try_request(
                    &addr,
                    "POST",
                    &format!("/api/contacts/{c}/sightings"),
                    None,
                    Some(&b),
                )
                .await
                {
                    let mut l = ledger.lock().unwrap();
                    l.contacts.get_mut(&c).unwrap().insert(t);
                    l.writes += 1;
                }
            }
            (2 | 3, _, Some(i)) => {
                let text = format!("note {n}");
                let b = json!({"action": "note", "text": text});
                if let Ok((200, _)) = try_request(
                    &addr,
                    "POST",
                    &format!("/api/incidents/{i}/actions"),
                    None,
                    Some(&b),
                )
                .await
                {
                    let mut l = ledger.lock().unwrap();
                    l.incidents.get_mut(&i).unwrap().insert(text);
                    l.writes += 1;
                }
            }
            (_, _, i) if n % 16 == 0 || i.is_none() => {
                let b = json!({"title": format!("case {n}")});
                if let Ok((201, v)) =
                    try_request(&addr, "POST", "/api/incidents", None, Some(&b)).await
                {
                    let mut l = ledger.lock().unwrap();
                    l.incidents
                        .insert(v["id"].as_str().unwrap().to_string(), BTreeSet::new());
                    l.writes += 1;
                }
            }
            _ => {
                let b =
                    json!({"description": format!("boat {n}"), "lat": lat, "lon": 12.4, "time": t});
                if let Ok((201, v)) =
                    try_request(&addr, "POST", "/api/contacts", None, Some(&b)).await
                {
                    let mut l = ledger.lock().unwrap();
                    l.contacts
                        .insert(v["id"].as_str().unwrap().to_string(), BTreeSet::from([t]));
                    l.writes += 1;
                }
            }
        }
    }
}

/// Everything in the ledger is on the server.
async fn check(addr: &str, ledger: &Ledger, round: usize) {
    let (st, contacts) = request(addr, "GET", "/api/contacts", None, None).await;
    assert_eq!(st, 200);
    let by_id: BTreeMap<&str, &Value> = contacts
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap(), c))
        .collect();
    for (id, times) in &ledger.contacts {
        let c = by_id
            .get(id.as_str())
            .unwrap_or_else(|| panic!("round {round}: contact {id} lost"));
        let have: BTreeSet<i64> = c["track"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["time_ms"].as_i64().unwrap())
            .collect();
        let missing: Vec<_> = times.difference(&have).collect();
        assert!(
            missing.is_empty(),
            "round {round}: contact {id} lost sightings {missing:?}"
        );
    }
    let (st, incidents) = request(addr, "GET", "/api/incidents", None, None).await;
    assert_eq!(st, 200);
    let by_id: BTreeMap<&str, &Value> = incidents
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["id"].as_str().unwrap(), i))
        .collect();
    for (id, notes) in &ledger.incidents {
        let i = by_id
            .get(id.as_str())
            .unwrap_or_else(|| panic!("round {round}: incident {id} lost"));
        let have: BTreeSet<String> = i["log"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["text"].as_str().map(str::to_string))
            .collect();
        let missing: Vec<_> = notes.difference(&have).collect();
        assert!(
            missing.is_empty(),
            "round {round}: incident {id} lost notes {missing:?}"
        );
    }
}

fn beacon(alerts: &Value) -> Option<Value> {
    alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "distress_beacon" && a["state"] != "cleared")
        .cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_acknowledged_write_is_lost_when_the_server_is_killed() {
    let dir = tmp_dir("crash");
    let rec = simulated(&dir, "30m");
    let state = dir.join("state");
    let args = [
        "--state-dir",
        state.to_str().unwrap(),
        "--replay",
        rec.to_str().unwrap(),
        "--speed",
        "max",
    ];
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let counter = Arc::new(AtomicU64::new(0));
    let mut acked: Option<Value> = None;
    let rounds = 5;
    for round in 0..=rounds {
        let (mut child, addr) = serve(&args);
        // Everything acknowledged before the last kill is there.
        let acknowledged = {
            let l = ledger.lock().unwrap();
            Ledger {
                contacts: l.contacts.clone(),
                incidents: l.incidents.clone(),
                writes: l.writes,
            }
        };
        check(&addr, &acknowledged, round).await;
        wait_for_replay(&addr, None).await;
        let (_, alerts) = request(&addr, "GET", "/api/alerts", None, None).await;
        let b = beacon(&alerts)
            .unwrap_or_else(|| panic!("the scenario's SART raised no alert: {alerts}"));
        match &acked {
            None => {
                let id = b["id"].as_str().unwrap();
                let (st, a) = request(
                    &addr,
                    "POST",
                    &format!("/api/alerts/{id}/ack"),
                    None,
                    Some(&json!({"note": "RESCUE 1 tasked"})),
                )
                .await;
                assert_eq!(st, 200, "{a}");
                acked = Some(a);
                let zone = json!({"type": "Feature", "properties": {"name": "Search box A", "kind": "watch"},
                    "geometry": {"type": "Polygon", "coordinates": [[[12.0, 34.5], [12.8, 34.5], [12.8, 35.0], [12.0, 35.0], [12.0, 34.5]]]}});
                let (st, v) = request(&addr, "PUT", "/api/zones/search-a", None, Some(&zone)).await;
                assert_eq!(st, 200, "{v}");
            }
            Some(a) => {
                assert_eq!(
                    b["state"], "acknowledged",
                    "round {round}: the acknowledgement was lost: {b}"
                );
                assert_eq!(b["raised_at"], a["raised_at"]);
                assert_eq!(b["acknowledged_by"], a["acknowledged_by"]);
                assert_eq!(b["note"], "RESCUE 1 tasked");
                let (_, zones) = request(&addr, "GET", "/api/zones", None, None).await;
                assert!(
                    zones["features"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|f| f["id"] == "search-a"),
                    "round {round}: the zone created over the API was lost"
                );
            }
        }
        if round == rounds {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
            break;
        }
        // Write from three clients at once, then kill -9 mid-stream.
        let stop = Arc::new(AtomicBool::new(false));
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                tokio::spawn(writer(
                    addr.clone(),
                    ledger.clone(),
                    counter.clone(),
                    stop.clone(),
                ))
            })
            .collect();
        let before = ledger.lock().unwrap().writes;
        tokio::time::sleep(Duration::from_millis(400 + 150 * round as u64)).await;
        child.kill().unwrap(); // SIGKILL
        let _ = child.wait();
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            t.await.unwrap();
        }
        let after = ledger.lock().unwrap().writes;
        assert!(
            after > before,
            "round {round}: no write was acknowledged before the kill"
        );
        eprintln!(
            "round {round}: {} writes acknowledged before kill -9",
            after - before
        );
    }
    let l = ledger.lock().unwrap();
    assert!(
        l.contacts.len() >= 3 && !l.incidents.is_empty(),
        "the writers did write"
    );
}
