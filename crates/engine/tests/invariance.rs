//! The engine's promise: the same messages in the same order give the same
//! alerts and the same picture, however the input is cut into batches,
//! and the alerts of a set of vessels do not move when unrelated traffic
//! is interleaved with theirs, nor when their lines are played alone.
//!
//! The input is the bundled central-Mediterranean demo (`lookout simulate`'s
//! scenario, with the zones of `config/zones`): every rule fires in its
//! first 100 minutes (beacon test and activation, loitering, an encounter,
//! a vessel going dark, zone entries and exits).

use alerts::{Alert, AlertKind, AlertState};
use engine::{Engine, EngineConfig};
use ingest::line::{Line, SourceId};
use lookout_ais::{Decoder, DecoderOptions, LineContext};
use spatial_index::ZoneIndex;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

const MINUTES: i64 = 100;

/// (time ms, line) of the demo's first [`MINUTES`].
fn demo() -> &'static Vec<(i64, String)> {
    static LINES: OnceLock<Vec<(i64, String)>> = OnceLock::new();
    LINES.get_or_init(|| simulate(simulator::Scenario::demo()))
}

fn simulate(scenario: simulator::Scenario) -> Vec<(i64, String)> {
    let mut sim = simulator::Simulator::new(&scenario).expect("scenario");
    let mut out = Vec::new();
    sim.run_for(MINUTES * 60_000, |t, line| out.push((t, line.to_string())));
    out
}

fn zones() -> ZoneIndex {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/zones");
    ZoneIndex::load(&[dir]).expect("config/zones")
}

/// One alert situation as an operator sees it, ids aside: kind, vessels,
/// zone, raise time, clear time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Situation {
    kind: &'static str,
    mmsi: u32,
    other: Option<u32>,
    zone: Option<String>,
    raised: i64,
    cleared: Option<i64>,
}

/// Fold alert changes (by id) into situations.
fn situations(changes: &[Alert]) -> BTreeSet<Situation> {
    let mut by_id: BTreeMap<&str, Situation> = BTreeMap::new();
    for a in changes {
        let s = by_id.entry(&a.id).or_insert_with(|| Situation {
            kind: a.kind.as_str(),
            mmsi: a.mmsi,
            other: a.other_mmsi,
            zone: a.zone.as_deref().map(str::to_string),
            raised: a.raised_at,
            cleared: None,
        });
        if a.state == AlertState::Cleared {
            s.cleared = a.cleared_at.or(Some(a.time));
        }
    }
    by_id.into_values().collect()
}

/// What a run gives: alert situations and the final picture.
struct Run {
    alerts: BTreeSet<Situation>,
    /// (mmsi, lat, lon, name, state) of every vessel.
    picture: Vec<(u32, String, Option<String>, String)>,
}

fn finish(mut e: Engine, mut changes: Vec<Alert>) -> Run {
    e.finish();
    changes.extend(e.take_alerts());
    let mut picture: Vec<_> = e
        .all_views()
        .into_iter()
        .map(|v| {
            (
                v.mmsi,
                format!("{:.6},{:.6}", v.lat, v.lon),
                v.name,
                v.state,
            )
        })
        .collect();
    picture.sort();
    Run {
        alerts: situations(&changes),
        picture,
    }
}

/// The lines as a server's pipeline feeds them: batches of `batch` lines
/// of one source, alert and vessel changes taken after each batch.
fn run_batched(lines: &[(i64, String)], batch: usize) -> Run {
    let mut e = Engine::standalone(EngineConfig::default(), zones());
    let mut changes = Vec::new();
    for chunk in lines.chunks(batch) {
        let chunk: Vec<Line> = chunk
            .iter()
            .map(|(t, l)| Line {
                source: SourceId(0),
                received_ms: *t,
                bytes: l.as_bytes().to_vec(),
            })
            .collect();
        e.feed_batch(&chunk);
        changes.extend(e.take_alerts());
        let _ = e.take_changes();
    }
    finish(e, changes)
}

/// The lines as `lookout replay` feeds them (one at a time, no source).
fn run_replay(lines: &[(i64, String)]) -> Run {
    let mut e = Engine::standalone(EngineConfig::default(), zones());
    e.track_changes(false);
    let mut changes = Vec::new();
    for (i, (t, l)) in lines.iter().enumerate() {
        let ctx = LineContext {
            source: 0,
            received_ms: Some(*t),
        };
        let _ = e.feed_raw(l.as_bytes(), &ctx);
        if i % 4096 == 0 {
            changes.extend(e.take_alerts());
        }
    }
    finish(e, changes)
}

fn kinds(alerts: &BTreeSet<Situation>) -> BTreeSet<&'static str> {
    alerts.iter().map(|s| s.kind).collect()
}

fn diff(a: &BTreeSet<Situation>, b: &BTreeSet<Situation>) -> String {
    let only_a: Vec<_> = a.difference(b).collect();
    let only_b: Vec<_> = b.difference(a).collect();
    format!("only in the first: {only_a:#?}\nonly in the second: {only_b:#?}")
}

#[test]
fn the_demo_exercises_every_rule_that_needs_traffic() {
    let run = run_replay(demo());
    let k = kinds(&run.alerts);
    for want in [
        AlertKind::DistressBeacon,
        AlertKind::DistressBeaconTest,
        AlertKind::Loitering,
        AlertKind::Encounter,
        AlertKind::AisGap,
        AlertKind::ZoneEnter,
    ] {
        assert!(k.contains(want.as_str()), "no {want:?} in {k:?}");
    }
}

#[test]
fn batch_sizes_change_nothing() {
    let reference = run_replay(demo());
    for batch in [1, 7, 4096] {
        let run = run_batched(demo(), batch);
        assert_eq!(
            run.alerts,
            reference.alerts,
            "batches of {batch}:\n{}",
            diff(&run.alerts, &reference.alerts)
        );
        assert_eq!(run.picture, reference.picture, "batches of {batch}");
    }
}

/// MMSI of every message in a line (multi-sentence messages: each line of
/// the message gets the MMSI once it is complete).
fn tag_with_mmsi(lines: &[(i64, String)]) -> Vec<Option<u32>> {
    let mut d = Decoder::new(DecoderOptions::default());
    let mut out = vec![None; lines.len()];
    let mut open: Vec<usize> = Vec::new();
    for (i, (t, l)) in lines.iter().enumerate() {
        let ctx = LineContext {
            source: 0,
            received_ms: Some(*t),
        };
        let mut got = None;
        let _ = d.decode_line_with(l.as_bytes(), &ctx, |m| got = Some(m.message.mmsi));
        open.push(i);
        if let Some(m) = got {
            for j in open.drain(..) {
                out[j] = Some(m);
            }
        } else if d.pending_groups() == 0 {
            open.clear();
        }
    }
    out
}

fn only_vessels(lines: &[(i64, String)], keep: &BTreeSet<u32>) -> Vec<(i64, String)> {
    tag_with_mmsi(lines)
        .into_iter()
        .zip(lines)
        .filter(|(m, _)| m.is_some_and(|m| keep.contains(&m)))
        .map(|(_, l)| l.clone())
        .collect()
}

fn involving_only(alerts: &BTreeSet<Situation>, vessels: &BTreeSet<u32>) -> BTreeSet<Situation> {
    alerts
        .iter()
        .filter(|s| vessels.contains(&s.mmsi) && s.other.is_none_or(|o| vessels.contains(&o)))
        .cloned()
        .collect()
}

#[test]
fn a_loitering_vessel_alone_gives_the_same_alert_as_in_traffic() {
    let full = run_replay(demo());
    let loiter: Vec<_> = full
        .alerts
        .iter()
        .filter(|s| s.kind == "loitering")
        .collect();
    assert!(!loiter.is_empty(), "the demo loiters");
    for s in loiter {
        let keep = BTreeSet::from([s.mmsi]);
        let alone = run_replay(&only_vessels(demo(), &keep));
        let want = involving_only(&full.alerts, &keep);
        let got = involving_only(&alone.alerts, &keep);
        let want_l: BTreeSet<_> = want.iter().filter(|s| s.kind == "loitering").collect();
        let got_l: BTreeSet<_> = got.iter().filter(|s| s.kind == "loitering").collect();
        assert_eq!(got_l, want_l, "MMSI {} alone vs in traffic", s.mmsi);
    }
}

#[test]
fn an_encounter_pair_alone_gives_the_same_alert_as_in_traffic() {
    let full = run_replay(demo());
    let pairs: Vec<_> = full
        .alerts
        .iter()
        .filter(|s| s.kind == "encounter")
        .collect();
    assert!(!pairs.is_empty(), "the demo has an encounter");
    for s in pairs {
        let keep = BTreeSet::from([s.mmsi, s.other.expect("a pair")]);
        let alone = run_replay(&only_vessels(demo(), &keep));
        let pick = |a: &BTreeSet<Situation>| -> BTreeSet<Situation> {
            involving_only(a, &keep)
                .into_iter()
                .filter(|s| s.kind == "encounter")
                .collect()
        };
        assert_eq!(pick(&alone.alerts), pick(&full.alerts), "{keep:?}");
        // 30 minutes close, at least.
        let first_close = pick(&full.alerts).first().map(|s| s.raised);
        assert!(first_close.is_some());
    }
}

/// Another simulation of the same window (another seed, no scripted
/// events), every MMSI moved out of the demo's range, re-encoded.
fn unrelated_traffic() -> Vec<(i64, String)> {
    let mut scenario = simulator::Scenario::demo();
    scenario.seed ^= 0x5eed;
    scenario.events.clear();
    let lines = simulate(scenario);
    let mut d = Decoder::new(DecoderOptions::default());
    let mut out = Vec::new();
    for (t, l) in &lines {
        let ctx = LineContext {
            source: 0,
            received_ms: Some(*t),
        };
        let _ = d.decode_line_with(l.as_bytes(), &ctx, |m| {
            let mut msg = m.message.clone();
            if msg.mmsi / 1_000_000 == 111 {
                return; // aircraft: no room to move them
            }
            msg.mmsi += 500_000;
            let Ok(bits) = lookout_ais::encode::encode_message(&msg) else {
                return;
            };
            let talker = std::str::from_utf8(&m.talker).unwrap_or("AI").to_string();
            let channel = m.channel.map(char::from);
            for s in lookout_ais::encode::sentences(&bits, &talker, channel, 7) {
                let tag = format!("s:other,c:{}", t / 1000);
                out.push((*t, lookout_ais::encode::with_tag_block(&tag, &s)));
            }
        });
    }
    out
}

/// Merge two time-ordered recordings by time; on equal times the first
/// goes first (so no multi-sentence message is split).
fn merge(a: &[(i64, String)], b: &[(i64, String)]) -> Vec<(i64, String)> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len() + b.len());
    while i < a.len() || j < b.len() {
        if j >= b.len() || (i < a.len() && a[i].0 <= b[j].0) {
            out.push(a[i].clone());
            i += 1;
        } else {
            out.push(b[j].clone());
            j += 1;
        }
    }
    out
}

#[test]
fn unrelated_traffic_does_not_move_the_alerts_of_the_original_vessels() {
    let original = demo();
    let full = run_replay(original);
    let vessels: BTreeSet<u32> = tag_with_mmsi(original).into_iter().flatten().collect();
    let extra = unrelated_traffic();
    assert!(extra.len() > original.len() / 2, "real extra traffic");
    let mixed = run_replay(&merge(original, &extra));
    let want = involving_only(&full.alerts, &vessels);
    let got = involving_only(&mixed.alerts, &vessels);
    assert!(want.len() > 20, "the demo raises alerts: {}", want.len());
    assert_eq!(got, want, "{}", diff(&got, &want));
}
