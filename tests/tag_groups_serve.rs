//! Standard NMEA 4.10 TAG groups in `lookout serve` and `lookout replay`
//! (issue item 1). A receiver network frames a two-sentence message as
//!
//! ```text
//! \g:1-2-42,s:rx1,c:1718431326*hh\!AIVDM,2,1,4,B,…
//! \g:2-2-42*hh\!AIVDM,2,2,4,B,…
//! ```
//!
//! with the station and the time on the first sentence only. The tests take
//! real recordings from `fixtures/ais/` (type 5 static and voyage data and
//! position reports of the same vessels), frame them that way, and check
//! that the static data reaches the picture. Each check first runs the same
//! messages framed with `s:` and `c:` on every sentence (the control), so a
//! failure points at the grouping and nothing else. Black-box: only the
//! `lookout` command line and HTTP API.

#[path = "invariance_support.rs"]
mod support;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::*;

/// The receiver recording used: Merrimac's nAIS-400 log from signalk-server
/// (plain `!AIVDM` lines with no TAG blocks, 35 type 5 messages).
const SOURCE: &str = "fixtures/ais/signalk_nais400-merrimac.log";
/// First message time given to it (the issue's example).
const T0: i64 = 1_718_431_326;

/// Frame the `!AIVDM`/`!AIVDO` sentences of `text`, one message per second
/// from `T0`: single sentences as `\s:rx1,c:T*hh\`, multi-sentence messages
/// as a TAG group with `s:` and `c:` on the first sentence only
/// (`grouped`), or with `s:` and `c:` on every sentence (`control`).
fn reframe(text: &str) -> (String, String) {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("!AIVDM") || l.starts_with("!AIVDO"))
        .collect();
    let (mut grouped, mut control) = (String::new(), String::new());
    let (mut t, mut gid, mut i) = (T0, 40, 0);
    while i < lines.len() {
        let f: Vec<&str> = lines[i].split(',').collect();
        let total: usize = f[1].parse().unwrap();
        if total == 1 {
            let l = format!("{}{}\n", tag(&format!("s:rx1,c:{t}")), lines[i]);
            grouped += &l;
            control += &l;
            i += 1;
        } else {
            // A whole message: its sentences in order, with one sequence id.
            let whole = i + total <= lines.len()
                && (0..total).all(|k| {
                    let g: Vec<&str> = lines[i + k].split(',').collect();
                    g[1] == f[1] && g[2] == (k + 1).to_string() && g[3] == f[3]
                });
            if !whole {
                i += 1;
                continue;
            }
            gid += 1;
            for k in 0..total {
                let first = if k == 0 {
                    format!(",s:rx1,c:{t}")
                } else {
                    String::new()
                };
                grouped += &format!(
                    "{}{}\n",
                    tag(&format!("g:{}-{total}-{gid}{first}", k + 1)),
                    lines[i + k]
                );
                control += &format!(
                    "{}{}\n",
                    tag(&format!("g:{}-{total}-{gid},s:rx1,c:{t}", k + 1)),
                    lines[i + k]
                );
            }
            i += total;
        }
        t += 1;
    }
    (grouped, control)
}

/// Static data expected per vessel, from `lookout decode` of the file:
/// every vessel with a type 5 message and a position report.
#[derive(Debug, Clone, PartialEq)]
struct Static {
    name: String,
    callsign: String,
    destination: String,
}

fn expected_static(decoded: &[Value]) -> BTreeMap<u64, Static> {
    let mut t5 = BTreeMap::new();
    let mut positioned = BTreeSet::new();
    for m in decoded {
        let mmsi = m["mmsi"].as_u64().unwrap();
        match m["type"].as_u64() {
            Some(5) => {
                let s = |k: &str| m[k].as_str().unwrap_or("").trim().to_string();
                t5.insert(
                    mmsi,
                    Static {
                        name: s("shipname"),
                        callsign: s("callsign"),
                        destination: s("destination"),
                    },
                );
            }
            Some(1..=3) if m["lat"].is_number() => {
                positioned.insert(mmsi);
            }
            _ => {}
        }
    }
    t5.retain(|m, s| positioned.contains(m) && !s.name.is_empty());
    t5
}

/// Serve `file`, and list every expected vessel whose name, call sign or
/// destination is not in `/api/vessels/{mmsi}` (and whose name is not in
/// `/api/vessels`).
fn serve_misses(file: &Path, dir: &Path, expected: &BTreeMap<u64, Static>) -> Vec<String> {
    std::fs::create_dir_all(dir).unwrap();
    let server = Server::replay(file, "max", dir);
    server.wait_replay_done(None, Duration::from_secs(60));
    let list = server.get("/api/vessels");
    let names: BTreeMap<u64, String> = list["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["properties"]["mmsi"].as_u64().unwrap(),
                f["properties"]["name"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let mut misses = Vec::new();
    for (mmsi, want) in expected {
        let (status, body) = http_get_raw(&server.addr, &format!("/api/vessels/{mmsi}"));
        if status != 200 {
            misses.push(format!(
                "{mmsi} ({}): /api/vessels/{mmsi} answered {status} {body}",
                want.name
            ));
            continue;
        }
        let v: Value = serde_json::from_str(&body).unwrap();
        let info = &v["info"];
        let got = |k: &str| info[k].as_str().unwrap_or("").trim().to_string();
        let mut wrong = Vec::new();
        if got("name") != want.name {
            wrong.push(format!("name {:?} (want {:?})", got("name"), want.name));
        }
        if got("callsign") != want.callsign {
            wrong.push(format!(
                "callsign {:?} (want {:?})",
                got("callsign"),
                want.callsign
            ));
        }
        if !want.destination.is_empty() && got("destination") != want.destination {
            wrong.push(format!(
                "destination {:?} (want {:?})",
                got("destination"),
                want.destination
            ));
        }
        if names.get(mmsi).map(String::as_str) != Some(want.name.as_str()) {
            wrong.push(format!("/api/vessels name {:?}", names.get(mmsi)));
        }
        if !wrong.is_empty() {
            misses.push(format!("{mmsi} ({}): {}", want.name, wrong.join(", ")));
        }
    }
    misses
}

struct Files {
    dir: tempfile::TempDir,
    grouped: PathBuf,
    control: PathBuf,
    expected: BTreeMap<u64, Static>,
    messages: usize,
}

fn receiver_files() -> Files {
    let dir = tempfile::Builder::new()
        .prefix("lookout-tag-groups-")
        .tempdir()
        .unwrap();
    let (grouped_text, control_text) =
        reframe(&std::fs::read_to_string(repo().join(SOURCE)).unwrap());
    assert!(
        grouped_text.contains("\\g:2-2-"),
        "no multi-sentence message in {SOURCE}"
    );
    let grouped = dir.path().join("receiver-grouped.nmea");
    let control = dir.path().join("receiver-control.nmea");
    std::fs::write(&grouped, grouped_text).unwrap();
    std::fs::write(&control, control_text).unwrap();
    // lookout decode assembles both framings to the same messages.
    let (dg, dc) = (decode(&grouped), decode(&control));
    let expected = expected_static(&dg);
    assert_eq!(
        expected,
        expected_static(&dc),
        "decode of the two framings differs"
    );
    assert!(
        expected.len() >= 20,
        "{SOURCE}: only {} vessels with a name and a position",
        expected.len()
    );
    Files {
        messages: dg.len(),
        dir,
        grouped,
        control,
        expected,
    }
}

#[test]
fn serve_shows_static_data_sent_in_first_sentence_only_tag_groups() {
    let f = receiver_files();
    let control = serve_misses(&f.control, &f.dir.path().join("serve-control"), &f.expected);
    assert!(
        control.is_empty(),
        "control (s: and c: on every sentence): {} of {} vessels lack static data:\n{}",
        control.len(),
        f.expected.len(),
        control.join("\n")
    );
    let grouped = serve_misses(&f.grouped, &f.dir.path().join("serve-grouped"), &f.expected);
    assert!(
        grouped.is_empty(),
        "NMEA 4.10 TAG groups (s: and c: on the first sentence only): {} of {} vessels lack static data in lookout serve:\n{}",
        grouped.len(),
        f.expected.len(),
        grouped.join("\n")
    );
}

/// `lookout replay` shows static data only in its events: every vessel
/// with a type 5 must get a `vessel_updated` with `static_changed`, and the
/// replay must count as many messages as `lookout decode` decodes.
#[test]
fn replay_applies_static_data_sent_in_first_sentence_only_tag_groups() {
    let f = receiver_files();
    let mut failures = Vec::new();
    for (label, file) in [("control", &f.control), ("TAG groups", &f.grouped)] {
        let run = replay(file, None, true, f.dir.path(), &label.replace(' ', "-"));
        let with_static: BTreeSet<u64> = run
            .events()
            .iter()
            .filter(|e| e["event"] == "vessel_updated" && e["static_changed"] == true)
            .filter_map(|e| e["mmsi"].as_u64())
            .collect();
        let missing: Vec<String> = f
            .expected
            .iter()
            .filter(|(m, _)| !with_static.contains(m))
            .map(|(m, s)| format!("{m} ({})", s.name))
            .collect();
        if !missing.is_empty() {
            failures.push(format!(
                "{label}: {} of {} vessels never got their static data in lookout replay: {}",
                missing.len(),
                f.expected.len(),
                missing.join(", ")
            ));
        }
        let summary = run.stderr.lines().next().unwrap_or("");
        if !summary.contains(&format!(", {} messages", f.messages)) {
            failures.push(format!(
                "{label}: lookout decode decodes {} messages, lookout replay says: {summary}",
                f.messages
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A real TAG group as a network wrote it (pyais's sample, from a US
/// receiver network): `\g:1-2-27300,n:636994,s:b003669710,c:1428621738*5F\`
/// then `\g:2-2-27300,n:636995*15\`, a type 5 of MARE ISLAND. Served as it
/// is, unmodified, the vessel's static data must be on the picture.
#[test]
fn serve_assembles_a_real_tag_group_from_a_network_feed() {
    let sample = std::fs::read_to_string(repo().join("fixtures/ais/pyais_sample.nmea")).unwrap();
    let pair: Vec<&str> = sample
        .lines()
        .filter(|l| l.starts_with("\\g:1-2-27300,") || l.starts_with("\\g:2-2-27300,"))
        .collect();
    assert_eq!(
        pair.len(),
        2,
        "the TAG group of fixtures/ais/pyais_sample.nmea"
    );
    assert_eq!(
        tag_field(pair[1], "c"),
        None,
        "c: is on the first sentence only"
    );
    let dir = tempfile::Builder::new()
        .prefix("lookout-tag-group-")
        .tempdir()
        .unwrap();
    let grouped = dir.path().join("pyais-group.nmea");
    std::fs::write(&grouped, format!("{}\n{}\n", pair[0], pair[1])).unwrap();
    // Control: the same two sentences, each with the group's s: and c:.
    let fields = tag_block(pair[0]).unwrap();
    let s_c: Vec<&str> = fields
        .split(',')
        .filter(|kv| kv.starts_with("s:") || kv.starts_with("c:"))
        .collect();
    let second = format!("{},{}", tag_block(pair[1]).unwrap(), s_c.join(","));
    let control = dir.path().join("pyais-control.nmea");
    std::fs::write(
        &control,
        format!("{}\n{}{}\n", pair[0], tag(&second), sentence(pair[1])),
    )
    .unwrap();

    let decoded = decode(&grouped);
    assert_eq!(
        decoded.len(),
        1,
        "lookout decode assembles the group: {decoded:?}"
    );
    let m = &decoded[0];
    let mmsi = m["mmsi"].as_u64().unwrap();
    let want = Static {
        name: m["shipname"].as_str().unwrap().trim().to_string(),
        callsign: m["callsign"].as_str().unwrap().trim().to_string(),
        destination: m["destination"].as_str().unwrap().trim().to_string(),
    };
    assert_eq!(want.name, "MARE ISLAND");
    let mut failures = Vec::new();
    for (label, file) in [("control", &control), ("TAG group", &grouped)] {
        let sdir = dir
            .path()
            .join(format!("serve-{}", label.replace(' ', "-")));
        std::fs::create_dir_all(&sdir).unwrap();
        let server = Server::replay(file, "max", &sdir);
        server.wait_replay_done(None, Duration::from_secs(30));
        let (status, body) = http_get_raw(&server.addr, &format!("/api/vessels/{mmsi}"));
        if status != 200 {
            failures.push(format!(
                "{label}: /api/vessels/{mmsi} answered {status} {body}"
            ));
            continue;
        }
        let v: Value = serde_json::from_str(&body).unwrap();
        let got = Static {
            name: v["info"]["name"].as_str().unwrap_or("").trim().to_string(),
            callsign: v["info"]["callsign"]
                .as_str()
                .unwrap_or("")
                .trim()
                .to_string(),
            destination: v["info"]["destination"]
                .as_str()
                .unwrap_or("")
                .trim()
                .to_string(),
        };
        if got != want {
            failures.push(format!(
                "{label}: /api/vessels/{mmsi} shows {got:?}, want {want:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
