//! The state database on real SQLite files: migrations from empty, from an
//! older version, re-open idempotence, refusal of a newer schema; contacts,
//! incidents, alerts and acknowledgements round-tripping through a re-open;
//! and the webhook outbox living in the same file.

use sar::{Action, Asset, Contact, Incident, IncidentStatus, Sighting, SourceKind};
use serde_json::json;
use std::path::PathBuf;
use store::{schema, AckRow, AlertRow, Store};

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lookout-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{name}.db"));
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", p.display()));
    }
    p
}

fn history(path: &PathBuf) -> Vec<(i64, String)> {
    let c = rusqlite_conn(path);
    let mut st = c
        .prepare("SELECT version, name FROM schema_history ORDER BY version")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn rusqlite_conn(path: &PathBuf) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

#[test]
fn migrates_from_empty_and_reopening_changes_nothing() {
    let p = tmp("empty");
    let s = Store::open(&p).unwrap();
    assert_eq!(
        s.schema_version().unwrap() as usize,
        schema::MIGRATIONS.len()
    );
    s.put_zone("z1", &json!({"type": "Feature"}), 1).unwrap();
    drop(s);
    let h = history(&p);
    assert_eq!(h.len(), schema::MIGRATIONS.len());
    assert_eq!(h.iter().map(|x| x.0).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    // WAL mode is a property of the file.
    let mode: String = rusqlite_conn(&p)
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    for _ in 0..3 {
        let s = Store::open(&p).unwrap();
        assert_eq!(
            s.schema_version().unwrap() as usize,
            schema::MIGRATIONS.len()
        );
        assert_eq!(s.zones().unwrap().len(), 1);
    }
    assert_eq!(history(&p), h, "re-opening runs no step again");
}

#[test]
fn upgrades_an_older_database_keeping_its_data() {
    let p = tmp("older");
    {
        let mut c = rusqlite_conn(&p);
        schema::migrate(&mut c, 1).unwrap();
        assert_eq!(schema::version(&c).unwrap(), 1);
        c.execute(
            "INSERT INTO zones (id, feature, updated_ms) VALUES ('old', '{\"type\":\"Feature\"}', 5)",
            [],
        )
        .unwrap();
    }
    let s = Store::open(&p).unwrap();
    assert_eq!(
        s.schema_version().unwrap() as usize,
        schema::MIGRATIONS.len()
    );
    assert_eq!(s.zones().unwrap()[0].0, "old");
    assert!(s.incidents().unwrap().is_empty(), "step 2's tables exist");
    assert_eq!(history(&p).len(), schema::MIGRATIONS.len());
}

#[test]
fn a_newer_schema_is_refused() {
    let p = tmp("newer");
    drop(Store::open(&p).unwrap());
    rusqlite_conn(&p)
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let e = Store::open(&p).err().unwrap().to_string();
    assert!(e.contains("newer"), "{e}");
}

#[test]
fn zones_are_put_replaced_and_deleted() {
    let s = Store::open_in_memory().unwrap();
    s.put_zone("b", &json!({"v": 1}), 1).unwrap();
    s.put_zone("a", &json!({"v": 1}), 1).unwrap();
    s.put_zone("b", &json!({"v": 2}), 2).unwrap();
    let z = s.zones().unwrap();
    assert_eq!(
        z,
        vec![("a".into(), json!({"v": 1})), ("b".into(), json!({"v": 2}))]
    );
    assert!(s.delete_zone("a").unwrap());
    assert!(!s.delete_zone("a").unwrap());
    assert_eq!(s.zones().unwrap().len(), 1);
}

fn sighting(t: i64, lat: f64) -> Sighting {
    let mut s = Sighting::new(t, lat, 12.5, 1852.0, SourceKind::Aircraft, "seabird");
    s.course_deg = Some(200.0);
    s.speed_kn = Some(1.5);
    s.note = Some("~60 persons".into());
    s
}

#[test]
fn contacts_and_their_tracks_survive_a_reopen() {
    let p = tmp("contacts");
    let mut c = Contact::new("c-000001", "rubber boat", sighting(1000, 34.0), 1000).unwrap();
    let mut c2 = Contact::new("c-000002", "fishing boat", sighting(500, 35.0), 500).unwrap();
    {
        let s = Store::open(&p).unwrap();
        s.save_contact(&c, &c.sightings.clone()).unwrap();
        s.save_contact(&c2, &c2.sightings.clone()).unwrap();
        let late = sighting(3000, 34.2);
        c.add_sighting(late.clone(), 3000).unwrap();
        s.save_contact(&c, &[late]).unwrap();
        // An older report arriving late goes in the middle of the track.
        let older = sighting(2000, 34.1);
        c.add_sighting(older.clone(), 4000).unwrap();
        s.save_contact(&c, &[older]).unwrap();
        c2.set_status(sar::ContactStatus::Closed, 5000);
        s.save_contact(&c2, &[]).unwrap();
    }
    let s = Store::open(&p).unwrap();
    let back = s.contacts().unwrap();
    assert_eq!(back, vec![c, c2]);
}

#[test]
fn incidents_are_rebuilt_from_their_log_which_is_append_only() {
    let p = tmp("incidents");
    let mut i = Incident::new("i-000001", "boat SE of Lampedusa", "alice", 10, 100).unwrap();
    {
        let s = Store::open(&p).unwrap();
        s.append_incident(&i, &i.log.clone()).unwrap();
        for (a, who) in [
            (
                Action::LinkContact {
                    contact_id: "c-000001".into(),
                },
                "alice",
            ),
            (
                Action::AssignAsset {
                    asset: Asset::vessel(247_000_001, Some("RESCUE 1")),
                },
                "bob",
            ),
            (
                Action::Note {
                    text: "60 persons, 2 injured".into(),
                },
                "bob",
            ),
            (
                Action::SetStatus {
                    status: IncidentStatus::Rescued,
                    reason: Some("all aboard".into()),
                },
                "carol",
            ),
        ] {
            let entries = i.execute(a, who, 20, 200).unwrap();
            s.append_incident(&i, &entries).unwrap();
        }
        // Writing an entry twice is refused (append-only).
        let again = i.log.last().unwrap().clone();
        assert!(s.append_incident(&i, &[again]).is_err());
    }
    let s = Store::open(&p).unwrap();
    let back = s.incidents().unwrap();
    assert_eq!(back, vec![i.clone()]);
    assert_eq!(back[0].status, IncidentStatus::Rescued);
    assert_eq!(back[0].log.len(), 6);
}

fn alert(key: &str, state: &str) -> AlertRow {
    AlertRow {
        key: key.into(),
        alert_id: "a-000001".into(),
        situation: "distress_beacon/970000001/0/".into(),
        state: state.into(),
        raised_ms: 1000,
        updated_ms: 2000,
        body: format!("{{\"state\":\"{state}\"}}"),
    }
}

#[test]
fn acknowledgements_and_alert_states_survive_a_reopen() {
    let p = tmp("alerts");
    {
        let s = Store::open(&p).unwrap();
        s.record_alerts(&[alert("k1", "raised"), alert("k2", "raised")])
            .unwrap();
        let ack = |who: &str| AckRow {
            alert_key: "k1".into(),
            alert_id: "a-000001".into(),
            situation: "distress_beacon/970000001/0/".into(),
            who: who.into(),
            at_ms: 1500,
            note: Some("RESCUE 1 tasked".into()),
        };
        s.record_ack(&ack("alice"), &alert("k1", "acknowledged"), 9)
            .unwrap();
        s.record_ack(&ack("bob"), &alert("k1", "acknowledged"), 10)
            .unwrap();
        s.record_alerts(&[alert("k2", "cleared")]).unwrap();
    }
    let s = Store::open(&p).unwrap();
    let acks = s.acknowledgements().unwrap();
    assert_eq!(acks.len(), 1, "the latest per alert");
    assert_eq!(acks[0].0.who, "bob");
    assert_eq!(acks[0].1.as_deref(), Some("acknowledged"));
    assert_eq!(s.alert("k2").unwrap().unwrap().state, "cleared");
    assert!(s.alert("k3").unwrap().is_none());
}

#[test]
fn the_webhook_outbox_lives_in_the_same_file() {
    let p = tmp("shared");
    let s = Store::open(&p).unwrap();
    let mut o = alert_sinks::outbox::Outbox::open(&p, 100).unwrap();
    o.insert([("a-1", "raised", "{}")]).unwrap();
    s.put_zone("z", &json!({}), 1).unwrap();
    drop(o);
    drop(s);
    let s = Store::open(&p).unwrap();
    let o = alert_sinks::outbox::Outbox::open(&p, 100).unwrap();
    assert_eq!(o.len(), 1);
    assert_eq!(s.zones().unwrap().len(), 1);
    assert_eq!(
        s.schema_version().unwrap() as usize,
        schema::MIGRATIONS.len()
    );
}

#[test]
fn sar_answers_survive_reopening_first_answer_wins_and_are_bounded() {
    let p = tmp("sar-answers");
    {
        let s = Store::open(&p).unwrap();
        assert_eq!(s.sar_answer("edge1-1-1").unwrap(), None);
        s.remember_sar_answer("edge1-1-1", b"{\"ok\":1}", 1_000, 60_000, 3)
            .unwrap();
        // A second answer for the same request never replaces the first.
        s.remember_sar_answer("edge1-1-1", b"{\"ok\":2}", 1_001, 60_000, 3)
            .unwrap();
    }
    let s = Store::open(&p).unwrap();
    assert_eq!(
        s.sar_answer("edge1-1-1").unwrap().as_deref(),
        Some(&b"{\"ok\":1}"[..])
    );
    // At most 3 kept: the oldest go first.
    for (i, t) in [(2, 2_000), (3, 3_000), (4, 4_000)] {
        s.remember_sar_answer(&format!("edge1-1-{i}"), b"{}", t, 60_000, 3)
            .unwrap();
    }
    assert_eq!(s.sar_answer("edge1-1-1").unwrap(), None);
    assert!(s.sar_answer("edge1-1-2").unwrap().is_some());
    assert!(s.sar_answer("edge1-1-4").unwrap().is_some());
    // Older than the window: forgotten.
    s.remember_sar_answer("edge1-1-5", b"{}", 100_000, 60_000, 3)
        .unwrap();
    assert_eq!(s.sar_answer("edge1-1-2").unwrap(), None);
    assert_eq!(s.sar_answer("edge1-1-4").unwrap(), None);
    assert!(s.sar_answer("edge1-1-5").unwrap().is_some());
}
