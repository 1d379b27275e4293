//! `/metrics` of a real `lookout serve`, read by the Prometheus project's
//! own parsers (Python `prometheus_client`, installed by `make test-deps`):
//! the classic text format 0.0.4 by default, OpenMetrics when `Accept`
//! asks for it. Both parse, every family keeps its help text and type, and
//! both carry the same samples. The metrics added for monitoring are there
//! with sensible values: process and build, per-sink deliveries, failures,
//! pending and webhook outbox rows, the recorder's lines, the bus counters
//! of every cluster role. A replayed archive counts each line once.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[path = "node_support.rs"]
mod node_support;
#[path = "python_support.rs"]
mod python;
use node_support::{lookout, Node};

/// What Prometheus 2.x sends when scraping.
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
const OPENMETRICS_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const CLASSIC_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Status, headers (lower-case names) and body of a GET.
fn http_get(
    addr: &str,
    path: &str,
    accept: Option<&str>,
) -> (u16, BTreeMap<String, String>, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("{addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let accept = accept.map_or(String::new(), |a| format!("Accept: {a}\r\n"));
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{accept}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let resp = String::from_utf8(resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    // A header given more than once (`Vary`) is joined with ", ".
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in head.lines().skip(1).filter_map(|l| l.split_once(':')) {
        let v = v.trim();
        headers
            .entry(k.trim().to_ascii_lowercase())
            .and_modify(|all| *all = format!("{all}, {v}"))
            .or_insert_with(|| v.to_string());
    }
    let body = if headers
        .get("transfer-encoding")
        .is_some_and(|t| t.contains("chunked"))
    {
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap();
            if n == 0 {
                break;
            }
            out.push_str(&after[..n]);
            rest = &after[n + 2..];
        }
        out
    } else {
        body.to_string()
    };
    (status, headers, body)
}

fn get_json(addr: &str, path: &str) -> Value {
    let (status, _, body) = http_get(addr, path, None);
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// `/metrics` with `accept`: checks the content type and `Vary`, returns
/// the text.
fn scrape(addr: &str, accept: Option<&str>, want_type: &str) -> String {
    let (status, headers, body) = http_get(addr, "/metrics", accept);
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["content-type"], want_type, "Accept: {accept:?}");
    assert!(
        headers.get("vary").is_some_and(|v| v
            .split(',')
            .any(|v| v.trim().eq_ignore_ascii_case("accept"))),
        "{headers:?}"
    );
    body
}

/// One family as a parser read it.
#[derive(Debug, Clone)]
struct Family {
    name: String,
    kind: String,
    help: String,
    /// `(sample name, labels) → value`.
    samples: BTreeMap<(String, BTreeMap<String, String>), f64>,
}

const PARSE: &str = r#"
import json, math, sys
from prometheus_client.parser import text_string_to_metric_families as classic
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics
parse = {"classic": classic, "openmetrics": openmetrics}[sys.argv[1]]
out = []
for f in parse(sys.stdin.read()):
    out.append({"name": f.name, "type": f.type, "help": f.documentation,
                "samples": [[s.name, s.labels, float(s.value)] for s in f.samples]})
print(json.dumps(out, allow_nan=False))
"#;

/// Parse `text` with the reference parser of `format` (`classic` or
/// `openmetrics`); the parser raises (and the test fails) on anything it
/// does not accept.
fn parse(format: &str, text: &str) -> Vec<Family> {
    let out = python::run(PARSE, &[format], text.as_bytes());
    let v: Value = serde_json::from_str(&out).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|f| Family {
            name: f["name"].as_str().unwrap().to_string(),
            kind: f["type"].as_str().unwrap().to_string(),
            help: f["help"].as_str().unwrap().to_string(),
            samples: f["samples"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    let labels = s[1]
                        .as_object()
                        .unwrap()
                        .iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                        .collect();
                    (
                        (s[0].as_str().unwrap().to_string(), labels),
                        s[2].as_f64().unwrap(),
                    )
                })
                .collect(),
        })
        .collect()
}

/// A parsed exposition.
struct Exposition {
    families: Vec<Family>,
}

impl Exposition {
    fn samples(&self) -> BTreeMap<(String, BTreeMap<String, String>), f64> {
        self.families
            .iter()
            .flat_map(|f| f.samples.clone())
            .collect()
    }

    fn family(&self, name: &str) -> &Family {
        self.families
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("no family {name}"))
    }

    /// The value of the sample `name` whose labels include `labels`.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.samples().into_iter().find_map(|((n, l), v)| {
            (n == name
                && labels
                    .iter()
                    .all(|(k, want)| l.get(*k).map(String::as_str) == Some(*want)))
            .then_some(v)
        })
    }

    fn must(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.value(name, labels)
            .unwrap_or_else(|| panic!("no sample {name}{labels:?}"))
    }
}

/// Scrape `addr` in both formats (classic, OpenMetrics, classic again),
/// parse each with its reference parser and check what must hold of any
/// of Lookout's expositions; returns the second classic one.
fn scrape_both(addr: &str) -> Exposition {
    let classic_text = scrape(addr, None, CLASSIC_TYPE);
    let om_text = scrape(
        addr,
        Some("application/openmetrics-text; version=1.0.0"),
        OPENMETRICS_TYPE,
    );
    let classic_again = scrape(addr, Some("text/plain;version=0.0.4"), CLASSIC_TYPE);
    // Prometheus' own header gets OpenMetrics; a browser the classic text.
    assert!(scrape(addr, Some(PROMETHEUS_ACCEPT), OPENMETRICS_TYPE).ends_with("# EOF\n"));
    scrape(
        addr,
        Some("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        CLASSIC_TYPE,
    );

    assert!(om_text.ends_with("# EOF\n"), "{om_text}");
    assert!(!classic_text.contains("# EOF") && !classic_text.contains("# UNIT"));
    let classic = Exposition {
        families: parse("classic", &classic_text),
    };
    let om = Exposition {
        families: parse("openmetrics", &om_text),
    };
    let again = Exposition {
        families: parse("classic", &classic_again),
    };

    for (format, e) in [("classic", &classic), ("openmetrics", &om)] {
        let mut names = BTreeSet::new();
        for f in &e.families {
            assert!(names.insert(f.name.clone()), "{format}: {} twice", f.name);
            assert!(!f.help.is_empty(), "{format}: {} has no help", f.name);
            assert!(
                !["unknown", "untyped"].contains(&f.kind.as_str()),
                "{format}: {} is {} (its samples lost their family)",
                f.name,
                f.kind
            );
            assert!(!f.samples.is_empty(), "{format}: {} has no samples", f.name);
        }
    }
    // The same families, of the same types, with the same help: an
    // OpenMetrics `info` family is the classic gauge `<name>_info`.
    let classic_by_name: BTreeMap<&str, &Family> = classic
        .families
        .iter()
        .map(|f| (f.name.as_str(), f))
        .collect();
    assert_eq!(classic.families.len(), om.families.len());
    for f in &om.families {
        let (name, kind) = match f.kind.as_str() {
            "info" => (format!("{}_info", f.name), "gauge"),
            k => (f.name.clone(), k),
        };
        let c = classic_by_name
            .get(name.as_str())
            .unwrap_or_else(|| panic!("{name} is not in the classic exposition"));
        assert_eq!(c.kind, kind, "{name}");
        assert_eq!(c.help, f.help, "{name}");
        let keys = |f: &Family| f.samples.keys().cloned().collect::<BTreeSet<_>>();
        assert_eq!(keys(c), keys(f), "{name}: the same samples");
    }
    // The same values, for every sample that did not move between the
    // two classic scrapes around the OpenMetrics one (the process's CPU
    // time and the HTTP counters of these very requests do).
    let (c1, o, c2) = (classic.samples(), om.samples(), again.samples());
    let mut stable = 0;
    for (key, v) in &c1 {
        if c2.get(key) == Some(v) {
            assert_eq!(o.get(key), Some(v), "{key:?}");
            stable += 1;
        }
    }
    assert!(
        stable * 10 >= c1.len() * 8,
        "{stable} of {} stable",
        c1.len()
    );
    again
}

/// Process metrics and build information, as any node exports them.
fn check_process_and_build(m: &Exposition, started: f64) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let start = m.must("process_start_time_seconds", &[]);
    assert!(
        start >= started - 2.0 && start <= now + 1.0,
        "{start} {started} {now}"
    );
    let rss = m.must("process_resident_memory_bytes", &[]);
    assert!(rss > 4e6 && rss < 8e9, "{rss}");
    assert!(m.must("process_virtual_memory_bytes", &[]) >= rss);
    let (open, max) = (
        m.must("process_open_fds", &[]),
        m.must("process_max_fds", &[]),
    );
    assert!(open >= 3.0 && open <= max, "{open} {max}");
    // CPU time: some, and at most every core busy since the start.
    let cpu = m.must("process_cpu_seconds_total", &[]);
    let cores = std::thread::available_parallelism().map_or(64, |n| n.get()) as f64;
    assert!(cpu > 0.0 && cpu <= (now - start + 1.0) * cores, "{cpu}");
    assert_eq!(m.family("process_cpu_seconds").kind, "counter");
    assert_eq!(
        m.must(
            "lookout_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );
}

fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn simulate(dir: &Path, minutes: u32) -> (PathBuf, usize) {
    let rec = dir.join(format!("sim-{minutes}m.nmea"));
    assert!(lookout()
        .args(["simulate", "--duration", &format!("{minutes}m"), "-o"])
        .arg(&rec)
        .status()
        .unwrap()
        .success());
    let n = std::fs::read_to_string(&rec).unwrap().lines().count();
    (rec, n)
}

fn serve(dir: &Path, name: &str, args: &[&str]) -> Node {
    let mut cmd = lookout();
    cmd.arg("serve")
        .args(["--listen", "127.0.0.1:0", "--state-dir"])
        .arg(dir.join(format!("state-{name}")))
        .args(args);
    Node::start(name, cmd, dir.join(format!("{name}.log")))
}

fn wait_for(what: &str, secs: u64, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn metrics_in_both_formats_with_sinks_recorder_process_and_build() {
    let dir = tempfile::TempDir::new().unwrap();
    let started = now_s();
    let (rec, lines) = simulate(dir.path(), 15);
    // A port nothing listens on: the webhook fails and keeps its outbox.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    let journal = dir.path().join("alerts.jsonl");
    let config = dir.path().join("lookout.toml");
    std::fs::write(
        &config,
        format!(
            r#"listen = "127.0.0.1:0"
zones = ["config/zones"]
[ingest]
[[ingest.sources]]
type = "file"
name = "sim-feed"
path = {rec:?}
[ingest.recorder]
directory = {archive:?}
[[sinks]]
type = "json_lines"
name = "journal"
path = {journal:?}
[[sinks]]
type = "webhook"
name = "rcc"
url = "http://127.0.0.1:{dead_port}/hook"
secret = "metrics-test-secret"
retry_initial_ms = 100
retry_max_ms = 500
"#,
            archive = dir.path().join("archive"),
        ),
    )
    .unwrap();
    let node = serve(
        dir.path(),
        "single",
        &["--config", config.to_str().unwrap()],
    );
    let addr = node.addr.clone();

    // The feed read to its end, and the archive written.
    wait_for("the feed and the recorder", 120, || {
        let sources = get_json(&addr, "/api/sources");
        let feed_done = sources.as_array().unwrap().iter().any(|s| {
            s["name"] == "sim-feed"
                && s["state"] == "finished"
                && s["lines"].as_u64() == Some(lines as u64)
        });
        let status = get_json(&addr, "/api/status");
        feed_done && status["recorder"]["recorded_lines"].as_u64() == Some(lines as u64)
    });
    // The journal took every alert raised, the webhook has tried.
    wait_for("the sinks", 60, || {
        let status = get_json(&addr, "/api/status");
        let sinks = status["sinks"].as_array().unwrap();
        let journal = &sinks[0];
        let rcc = &sinks[1];
        journal["delivered"].as_u64() > Some(0)
            && journal["delivered"] == journal["published"]
            && rcc["accepted"] == rcc["published"]
            && rcc["failed"].as_u64() >= Some(2)
    });

    let m = scrape_both(&addr);
    check_process_and_build(&m, started);

    // Lines: the source, the decoder and the recorder agree.
    let n = lines as f64;
    assert_eq!(
        m.must("lookout_source_lines_total", &[("source", "sim-feed")]),
        n
    );
    assert_eq!(m.must("lookout_decoder_lines_total", &[]), n);
    assert_eq!(m.must("lookout_recorder_recorded_lines_total", &[]), n);
    assert_eq!(m.must("lookout_recorder_lost_lines_total", &[]), 0.0);
    assert_eq!(m.must("lookout_recorder_error_episodes_total", &[]), 0.0);
    assert_eq!(m.must("lookout_recorder_failing", &[]), 0.0);
    assert_eq!(m.family("lookout_recorder_recorded_lines").kind, "counter");

    // Sinks: the journal delivered every alert change (one JSON line
    // each), the webhook failed and holds them all in its outbox.
    let journal_lines = std::fs::read_to_string(&journal).unwrap().lines().count() as f64;
    let journal_label = [("sink", "journal")];
    assert_eq!(
        m.must("lookout_alert_sink_delivered_total", &journal_label),
        journal_lines
    );
    assert_eq!(
        m.must("lookout_alert_sink_failures_total", &journal_label),
        0.0
    );
    assert_eq!(m.must("lookout_alert_sink_pending", &journal_label), 0.0);
    assert_eq!(
        m.value("lookout_alert_sink_outbox_rows", &journal_label),
        None
    );
    let rcc = [("sink", "rcc")];
    let accepted = m.must("lookout_alert_sink_accepted_total", &rcc);
    assert_eq!(accepted, journal_lines);
    assert_eq!(m.must("lookout_alert_sink_delivered_total", &rcc), 0.0);
    assert!(m.must("lookout_alert_sink_failures_total", &rcc) >= 2.0);
    assert_eq!(m.must("lookout_alert_sink_pending", &rcc), accepted);
    assert_eq!(m.must("lookout_alert_sink_outbox_rows", &rcc), accepted);
    assert_eq!(m.must("lookout_alert_sink_connected", &rcc), 0.0);
    assert_eq!(m.family("lookout_alert_sink_failures").kind, "counter");
    assert_eq!(m.family("lookout_alert_sink_pending").kind, "gauge");
    drop(node);
}

/// A recording of the demo scenario archived as a feed named `sim-feed`,
/// then served with `--replay`: each line is attributed to `sim-feed` and
/// was also counted on the replay itself, so the sources' lines added up
/// to twice what was read.
#[test]
fn a_replayed_line_is_counted_once() {
    let dir = tempfile::TempDir::new().unwrap();
    let (rec, lines) = simulate(dir.path(), 5);
    let mut archive = Vec::new();
    let t0 = 1_795_845_600_000i64;
    for (i, l) in std::fs::read_to_string(&rec).unwrap().lines().enumerate() {
        ingest::archive::append_archive_line(
            &mut archive,
            l.as_bytes(),
            "sim-feed",
            t0 + i as i64 * 10,
        );
    }
    let archive_path = dir.path().join("archive.nmea");
    std::fs::write(&archive_path, archive).unwrap();
    let node = serve(
        dir.path(),
        "replay",
        &["--replay", archive_path.to_str().unwrap(), "--speed", "max"],
    );
    wait_for("the replay to finish", 120, || {
        get_json(&node.addr, "/api/sources")
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "replay" && s["state"] == "finished")
    });
    let m = scrape_both(&node.addr);
    let per_source = &m.family("lookout_source_lines").samples;
    let total: f64 = per_source.values().sum();
    let n = lines as f64;
    assert_eq!(total, n, "{per_source:?}");
    assert_eq!(
        m.must("lookout_source_lines_total", &[("source", "sim-feed")]),
        n
    );
    assert_eq!(
        m.must("lookout_source_lines_total", &[("source", "replay")]),
        0.0
    );
    assert_eq!(m.must("lookout_decoder_lines_total", &[]), n);
    let sources = get_json(&node.addr, "/api/sources");
    let api_total: u64 = sources
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["lines"].as_u64().unwrap())
        .sum();
    assert_eq!(api_total, lines as u64, "{sources}");
}

/// Ingest, core and edge on a real nats-server: each exports its bus
/// counters (`bus_connected` a gauge), parsed in both formats.
#[test]
fn cluster_roles_export_their_bus_counters() {
    let Some(nats) = bus::testkit::NatsServer::start() else {
        return;
    };
    let url = nats.url();
    let dir = tempfile::TempDir::new().unwrap();
    let started = now_s();
    let (rec, lines) = simulate(dir.path(), 5);
    // A small raw stream: JetStream refuses one larger than the free disk.
    let config = dir.path().join("cluster.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\nzones = [\"config/zones\"]\n[bus]\nraw_max_bytes = 268435456\n",
    )
    .unwrap();
    let config = config.to_str().unwrap().to_string();
    let role = |name: &str, role: &str, extra: &[&str]| {
        let mut args = vec!["--config", config.as_str(), "--role", role];
        args.extend_from_slice(&["--bus-url", url.as_str(), "--node", name]);
        args.extend_from_slice(extra);
        serve(dir.path(), name, &args)
    };
    let core = role("core1", "core", &[]);
    let edge = role("edge1", "edge", &[]);
    let ingest = role(
        "ingest1",
        "ingest",
        &["--replay", rec.to_str().unwrap(), "--speed", "max"],
    );
    let n = lines as f64;
    let counter = |addr: &str, name: &str| -> f64 {
        let (_, _, text) = http_get(addr, "/metrics", None);
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.parse().ok())
            .unwrap_or(-1.0)
    };
    wait_for("the core to take every line", 120, || {
        counter(&core.addr, "lookout_bus_received_lines_total") >= n
    });
    wait_for("the edge to apply picture batches", 60, || {
        counter(&edge.addr, "lookout_bus_picture_batches_total") > 0.0
    });

    let i = scrape_both(&ingest.addr);
    assert_eq!(i.must("lookout_bus_published_lines_total", &[]), n);
    assert_eq!(i.must("lookout_bus_publish_dropped_lines_total", &[]), 0.0);
    assert_eq!(
        i.must("lookout_source_lines_total", &[("source", "replay")]),
        n
    );
    let c = scrape_both(&core.addr);
    assert!(c.must("lookout_bus_received_lines_total", &[]) >= n);
    assert!(c.must("lookout_bus_picture_batches_total", &[]) > 0.0);
    let e = scrape_both(&edge.addr);
    assert!(e.must("lookout_vessels", &[]) > 0.0);
    for (m, who) in [(&i, "ingest"), (&c, "core"), (&e, "edge")] {
        check_process_and_build(m, started);
        assert_eq!(m.must("lookout_bus_connected", &[]), 1.0, "{who}");
        assert_eq!(m.family("lookout_bus_connected").kind, "gauge", "{who}");
        assert_eq!(
            m.family("lookout_bus_bad_messages").kind,
            "counter",
            "{who}"
        );
        // The sharing counters belong to a sharing connection, not here.
        assert!(
            m.value("lookout_bus_shared_in_total", &[]).is_none(),
            "{who}"
        );
    }
    drop((ingest, edge, core, nats));
}
