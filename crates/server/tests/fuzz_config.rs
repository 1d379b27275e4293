//! Fuzz target (stable harness, fuzz/README.md): the configuration file,
//! `config/lookout.toml`, as `lookout serve` reads it: TOML into
//! `server::LookoutConfig`, then its checks.
//!
//! Feeds:
//! * arbitrary text, and TOML-looking text;
//! * `config/lookout.toml` mutated line by line: lines deleted, duplicated,
//!   swapped, commented examples uncommented (so the feeds, recorder and
//!   token sections are reached), values replaced by edge values, bytes
//!   inserted;
//! * structure-aware documents: every section of the configuration
//!   (`[ingest]`, `[[ingest.sources]]` of every type, `[ingest.recorder]`,
//!   `[auth]`, `[[auth.tokens]]`, `[demo]`, `[alerts]`, `[limits]`,
//!   `[[sinks]]` of every type, `[bus]`, `[share]`, `[state]`,
//!   `[snapshot]`, `[[sar.rcc]]`), with its keys and values of the right
//!   type at their edges (0, -1, 2^32, i64::MAX, nan, inf, huge durations,
//!   bad addresses, bad hashes…) or of the wrong type.
//!
//! Checked: no panic; a refusal says what is wrong; a configuration the
//! checks accept (`LookoutConfig::check`, the tokens, the limits) can be put
//! to use: the access tokens load, the listen address is judged, the alert
//! rules run on it.
//!
//! Cases: `FUZZ_CASES` / `FUZZ_SECONDS` / `FUZZ_SEED` (see the harness).

#[path = "../../../fuzz/harness.rs"]
mod harness;

use proptest::prelude::*;
use proptest::sample::Index;
use server::LookoutConfig;
use spatial_index::{Picture, PictureConfig, ZoneIndex};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Configurations every check accepted, per structure-aware target.
static ACCEPTED_STRUCTURED: AtomicU64 = AtomicU64::new(0);
static ACCEPTED_MUTATED: AtomicU64 = AtomicU64::new(0);

fn shipped() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../config/lookout.toml"
    ))
    .expect("config/lookout.toml")
}

/// Parse and check as `lookout serve` does; use what is accepted.
fn check(text: &str, accepted: Option<&AtomicU64>) -> Result<(), TestCaseError> {
    let cfg: LookoutConfig = match toml::from_str(text) {
        Ok(c) => c,
        Err(e) => {
            prop_assert!(!e.to_string().is_empty());
            return Ok(());
        }
    };
    let _ = cfg.state_database(Path::new("data"));
    let _ = cfg.sinks_with_outbox(Path::new("data/lookout.db"));
    let checked = cfg.check();
    if let Err(e) = &checked {
        prop_assert!(!e.is_empty());
    }
    let limits = cfg.limits.validate();
    if let Err(e) = &limits {
        prop_assert!(!e.is_empty());
    }
    let auth = broadcast::Auth::new(&cfg.auth);
    if let Ok(a) = &auth {
        let _ = a.check_listen(&cfg.listen);
    }
    if checked.is_ok() && limits.is_ok() && auth.is_ok() {
        if let Some(n) = accepted {
            n.fetch_add(1, Ordering::Relaxed);
        }
        // The alert rules run on what was accepted.
        let picture = Picture::new(PictureConfig::default(), ZoneIndex::empty());
        let mut rules = alerts::AlertEngine::new(cfg.alerts.clone());
        for t in [0, 1_700_000_000_000, i64::MAX / 2] {
            rules.tick(t, &picture);
        }
        let _ = rules.take_changes();
    }
    Ok(())
}

/// Values at the edges, as TOML.
fn edge_value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "0", "1", "-1", "2", "30", "65535", "65536", "4294967295", "4294967296",
            "1000000000000000", "9223372036854775807", "-9223372036854775808",
            "0.0", "-0.0", "0.5", "1e-300", "1e308", "nan", "inf", "-inf", "168.0", "168.1",
            "true", "false", "\"\"", "\" \"", "\"x\"", "\"\\u0000\"", "\"\\u202e\"",
            "\"127.0.0.1:8080\"", "\"0.0.0.0:1\"", "\"[::1]:0\"", "\"localhost:80\"",
            "\"256.0.0.1:1\"", "\"127.0.0.1:65536\"", "\"nats://127.0.0.1:4222\"",
            "\"http://x\"", "\"https://rcc.example.org/hook\"", "\"ftp://x\"",
            "\"90m\"", "\"1h\"", "\"0s\"", "\"1ns\"", "\"99999999999999999999h\"",
            "\"584942417355y\"", "\"1 year\"", "\"-1s\"",
            "\"watch\"", "\"warning\"", "\"critical\"", "\"info\"",
            "\"viewer\"", "\"operator\"", "\"admin\"", "\"root\"",
            "\"tcp\"", "\"udp\"", "\"block\"", "\"drop_oldest\"", "\"drop_newest\"",
            "\"ingest\"", "\"core\"", "\"edge\"", "\"all\"",
            "\"2026-11-28T06:00:00Z\"", "\"yesterday\"",
            "\"config/zones\"", "\"/nonexistent/x\"", "\"data/archive\"",
            "\"0000000000000000000000000000000000000000000000000000000000000000\"",
            "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"",
            "\"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B85\"",
            "[]", "[\"\"]", "[\"config/zones\"]", "[1, 2]", "[0, 999999999, 1000000000]",
            "{}", "{ x = 1 }", "2026-11-28T06:00:00Z",
        ])
        .prop_map(String::from),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<f64>().prop_map(|x| format!("{x:?}")),
        1 => "\"[a-z0-9:/. ]{0,20}\"",
    ]
}

/// Sections and their keys.
const SECTIONS: &[(&str, &[&str])] = &[
    ("", &["listen", "zones"]),
    ("[ingest]", &["queue_capacity"]),
    (
        "[[ingest.sources]]",
        &[
            "type",
            "name",
            "address",
            "own_asset",
            "overload",
            "max_line_bytes",
            "connect_timeout_ms",
            "idle_timeout_ms",
            "initial_backoff_ms",
            "max_backoff_ms",
            "max_connections",
            "recv_buffer_bytes",
            "path",
            "paths",
            "from",
            "to",
            "speed",
            "keep_sources",
        ],
    ),
    (
        "[ingest.recorder]",
        &[
            "directory",
            "rotate_secs",
            "prefix",
            "compress",
            "max_pending_bytes",
            "retry_ms",
        ],
    ),
    ("[auth]", &["enabled"]),
    ("[[auth.tokens]]", &["name", "role", "sha256"]),
    ("[demo]", &["scenario", "speed", "hours"]),
    (
        "[alerts]",
        &[
            "zone_alerts",
            "zone_kinds_quiet",
            "zone_hysteresis_s",
            "ais_gap_min",
            "loiter_speed_kn",
            "loiter_min",
            "encounter_distance_m",
            "encounter_speed_kn",
            "encounter_min",
            "encounter_max_pairs",
            "jump_clear_min",
            "keep_closed",
        ],
    ),
    ("[alerts.zone_severity]", &["watch", "port", "sar_region"]),
    (
        "[limits]",
        &[
            "max_subscriptions",
            "max_bboxes",
            "max_rate_hz",
            "max_frame_bytes",
            "max_pending",
            "max_queued_alerts",
            "max_queued_bytes",
            "max_message_bytes",
            "stall_timeout_ms",
            "max_errors_per_minute",
            "max_snapshots_per_window",
            "snapshot_window_ms",
            "max_connections",
            "max_connections_per_address",
            "max_requests_in_flight",
            "header_timeout_ms",
            "body_timeout_ms",
            "request_timeout_ms",
            "max_body_bytes",
            "max_header_bytes",
        ],
    ),
    (
        "[[sinks]]",
        &[
            "type",
            "name",
            "url",
            "secret",
            "secret_env",
            "outbox",
            "outbox_max_rows",
            "max_held",
            "queue_capacity",
            "timeout_ms",
            "connect_timeout_ms",
            "retry_initial_ms",
            "retry_max_ms",
            "shutdown_grace_ms",
            "path",
            "fsync",
            "protocol",
            "address",
            "stale_min",
            "ce_m",
            "uid_prefix",
            "multicast_ttl",
        ],
    ),
    (
        "[bus]",
        &[
            "url",
            "role",
            "node",
            "user",
            "password",
            "token",
            "raw_max_age",
            "raw_max_bytes",
            "publish_buffer",
            "max_in_flight",
            "ack_wait",
        ],
    ),
    (
        "[share]",
        &[
            "url",
            "org",
            "user",
            "password",
            "private",
            "private_assets",
        ],
    ),
    ("[[share.export]]", &["classes", "zones", "alerts"]),
    ("[[share.accept]]", &["from", "classes"]),
    ("[state]", &["database"]),
    (
        "[snapshot]",
        &["interval_secs", "max_replay_secs", "restore"],
    ),
    (
        "[[sar.rcc]]",
        &["name", "phone", "email", "mmsi", "sar_region"],
    ),
];

/// A value that fits the key (most of the time).
fn value_for(key: &str) -> BoxedStrategy<String> {
    let pick = |v: Vec<&'static str>| {
        prop_oneof![4 => prop::sample::select(v).prop_map(String::from), 1 => edge_value()].boxed()
    };
    match key {
        "type" => pick(vec![
            "\"tcp_client\"",
            "\"tcp_listener\"",
            "\"udp\"",
            "\"file\"",
            "\"stdin\"",
            "\"replay\"",
            "\"webhook\"",
            "\"json_lines\"",
            "\"cot\"",
            "\"carrier_pigeon\"",
        ]),
        "name" | "node" | "org" | "prefix" | "uid_prefix" | "own_asset" | "from" => pick(vec![
            "\"a\"",
            "\"b\"",
            "\"RESCUE-1\"",
            "\"has,comma\"",
            "\"\"",
            "\" \"",
            "\"a\\nb\"",
        ]),
        "listen" | "address" => pick(vec![
            "\"127.0.0.1:0\"",
            "\"127.0.0.1:8080\"",
            "\"0.0.0.0:8080\"",
            "\"[::1]:1\"",
            "\"x:1\"",
            "\"\"",
        ]),
        "role" => pick(vec![
            "\"viewer\"",
            "\"operator\"",
            "\"admin\"",
            "\"ingest\"",
            "\"core\"",
            "\"edge\"",
            "\"all\"",
        ]),
        "url" => pick(vec![
            "\"nats://127.0.0.1:4222\"",
            "\"https://rcc.example.org/h\"",
            "\"http://127.0.0.1:1/\"",
            "\"not a url\"",
        ]),
        "raw_max_age" | "ack_wait" => pick(vec![
            "\"1h\"",
            "\"30s\"",
            "\"0s\"",
            "\"99999999999999999999h\"",
            "\"500000000y\"",
            "\"\"",
        ]),
        "sha256" => pick(vec![
            "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"",
            "\"zz\"",
            "\"\"",
        ]),
        "overload" => pick(vec![
            "\"block\"",
            "\"drop_oldest\"",
            "\"drop_newest\"",
            "\"x\"",
        ]),
        "protocol" => pick(vec!["\"tcp\"", "\"udp\"", "\"smtp\""]),
        "watch" | "port" | "sar_region" => pick(vec![
            "\"info\"",
            "\"warning\"",
            "\"critical\"",
            "\"x\"",
            "\"malta_srr\"",
        ]),
        "zones" | "paths" | "classes" | "alerts" | "zone_kinds_quiet" | "private_assets" => {
            pick(vec!["[]", "[\"config/zones\"]", "[\"A\", \"B\"]", "[\"\"]"])
        }
        "private" => pick(vec!["[]", "[1]", "[0]", "[4294967296]"]),
        "enabled" | "compress" | "fsync" | "restore" | "keep_sources" | "zone_alerts" => {
            pick(vec!["true", "false"])
        }
        "speed"
        | "hours"
        | "max_rate_hz"
        | "loiter_speed_kn"
        | "encounter_distance_m"
        | "encounter_speed_kn"
        | "stale_min"
        | "ce_m" => pick(vec![
            "0.0", "1.0", "10", "20.0", "168.0", "168.5", "-1.0", "nan", "inf", "1e-300",
        ]),
        "directory" | "path" | "outbox" | "database" | "scenario" | "secret_env" => pick(vec![
            "\"data/archive\"",
            "\"/nonexistent/x\"",
            "\"\"",
            "\"LOOKOUT_SECRET\"",
        ]),
        _ => pick(vec![
            "0",
            "1",
            "30",
            "1000",
            "65536",
            "4294967296",
            "1000000000000000",
            "9223372036854775807",
            "-1",
        ]),
    }
}

/// A document: sections (a table may repeat; arrays of tables often do),
/// each with some of its keys.
fn document() -> impl Strategy<Value = String> {
    let section = (any::<Index>(), prop::collection::vec(any::<Index>(), 0..6))
        .prop_flat_map(|(s, keys)| {
            let (header, names) = SECTIONS[s.index(SECTIONS.len())];
            let mut seen = Vec::new();
            for k in keys {
                let name = names[k.index(names.len())];
                if !seen.contains(&name) {
                    seen.push(name);
                }
            }
            let values: Vec<_> = seen.iter().map(|k| value_for(k)).collect();
            (Just(header), Just(seen), values)
        })
        .prop_map(|(header, keys, values)| {
            let mut out = format!("{header}\n");
            for (k, v) in keys.iter().zip(values) {
                out.push_str(&format!("{k} = {v}\n"));
            }
            out
        });
    prop::collection::vec(section, 0..6).prop_map(|sections| {
        // Top-level keys must come before any table.
        let (top, rest): (Vec<String>, Vec<String>) =
            sections.into_iter().partition(|s| s.starts_with('\n'));
        let mut doc = String::from("listen = \"127.0.0.1:0\"\nzones = []\n");
        // The generated top-level section repeats these keys: keep one.
        if let Some(t) = top.first() {
            doc = t.trim_start().to_string();
        }
        for s in rest {
            doc.push('\n');
            doc.push_str(&s);
        }
        doc
    })
}

#[derive(Debug, Clone)]
enum LineEdit {
    Delete(Index),
    Duplicate(Index),
    Swap(Index, Index),
    Uncomment(Index),
    Value(Index, String),
    Insert(Index, Index, u8),
}

fn line_edit() -> impl Strategy<Value = LineEdit> {
    prop_oneof![
        1 => any::<Index>().prop_map(LineEdit::Delete),
        1 => any::<Index>().prop_map(LineEdit::Duplicate),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| LineEdit::Swap(a, b)),
        4 => any::<Index>().prop_map(LineEdit::Uncomment),
        3 => (any::<Index>(), edge_value()).prop_map(|(i, v)| LineEdit::Value(i, v)),
        1 => (any::<Index>(), any::<Index>(), prop::sample::select(b"[]=\"#.,\n \\{}".to_vec()))
            .prop_map(|(l, at, c)| LineEdit::Insert(l, at, c)),
    ]
}

fn edit(lines: &mut Vec<String>, e: &LineEdit) {
    if lines.is_empty() {
        return;
    }
    let n = lines.len();
    match e {
        LineEdit::Delete(i) => {
            lines.remove(i.index(n));
        }
        LineEdit::Duplicate(i) => {
            let k = i.index(n);
            let l = lines[k].clone();
            lines.insert(k, l);
        }
        LineEdit::Swap(a, b) => lines.swap(a.index(n), b.index(n)),
        LineEdit::Uncomment(i) => {
            // The i-th commented line, without its `#`.
            let commented: Vec<usize> = (0..n)
                .filter(|&k| lines[k].trim_start().starts_with('#'))
                .collect();
            if !commented.is_empty() {
                let k = commented[i.index(commented.len())];
                let l = lines[k].trim_start().trim_start_matches('#');
                lines[k] = l.strip_prefix(' ').unwrap_or(l).to_string();
            }
        }
        LineEdit::Value(i, v) => {
            let with_value: Vec<usize> = (0..n).filter(|&k| lines[k].contains('=')).collect();
            if !with_value.is_empty() {
                let k = with_value[i.index(with_value.len())];
                let key = lines[k].split('=').next().unwrap_or("").to_string();
                lines[k] = format!("{key}= {v}");
            }
        }
        LineEdit::Insert(l, at, c) => {
            let k = l.index(n);
            let mut chars: Vec<char> = lines[k].chars().collect();
            let at = at.index(chars.len() + 1);
            chars.insert(at, *c as char);
            lines[k] = chars.into_iter().collect();
        }
    }
}

#[test]
fn fuzz_config_arbitrary_text() {
    harness::fuzz(
        "config_arbitrary_text",
        1500,
        prop_oneof![
            ".{0,200}",
            "([a-z_\\[\\]. ]{0,20} = [0-9a-z\"\\[\\]{},.:-]{0,20}\n){0,8}",
        ],
        |text| check(&text, None),
    );
}

#[test]
fn fuzz_config_mutated_shipped_file() {
    let base: Vec<String> = shipped().lines().map(String::from).collect();
    harness::fuzz(
        "config_mutated_shipped_file",
        1000,
        prop::collection::vec(line_edit(), 1..8),
        |edits| {
            let mut lines = base.clone();
            for e in &edits {
                edit(&mut lines, e);
            }
            check(&lines.join("\n"), Some(&ACCEPTED_MUTATED))
        },
    );
    let n = ACCEPTED_MUTATED.load(Ordering::Relaxed);
    eprintln!("fuzz config_mutated_shipped_file: {n} configurations accepted");
    assert!(n > 0, "no mutated configuration was ever accepted");
}

#[test]
fn fuzz_config_structured() {
    harness::fuzz("config_structured", 1000, document(), |doc| {
        check(&doc, Some(&ACCEPTED_STRUCTURED))
    });
    let n = ACCEPTED_STRUCTURED.load(Ordering::Relaxed);
    eprintln!("fuzz config_structured: {n} configurations accepted");
    assert!(n > 0, "no structured configuration was ever accepted");
}
