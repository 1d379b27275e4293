//! Black-box helpers for the invariance and TAG-group tests
//! (`tests/engine_invariance.rs`, `tests/tag_groups_serve.rs`): run the
//! `lookout` binary, read its alert output (`--alerts-out` lines or
//! `/api/alerts`) as a set of alert situations, cut recordings into whole
//! AIS messages and put them back together, and a `lookout serve` child
//! that is killed when dropped.
//!
//! Nothing here uses the engine's Rust API: only the command line, the
//! HTTP API, the NMEA text and the zone file.

#![allow(dead_code)]

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The repository root (tests run the binary from there, so that
/// `config/zones` and `config/scenarios` resolve).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `lookout` binary, run from the repository root.
pub fn lookout() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lookout"));
    c.current_dir(repo());
    c
}

/// Run `cmd` to completion and fail the test (with its stderr) unless it
/// exits 0.
pub fn run_ok(cmd: &mut Command, what: &str) -> Output {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what}: exit {:?}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `lookout simulate [--scenario S] --duration D -o OUT`.
pub fn simulate(scenario: Option<&str>, duration: &str, out: &Path) {
    let mut c = lookout();
    c.arg("simulate");
    if let Some(s) = scenario {
        c.args(["--scenario", s]);
    }
    c.args(["--duration", duration, "-o"]).arg(out);
    run_ok(&mut c, &format!("lookout simulate {scenario:?} {duration}"));
}

/// What one `lookout replay` run gave.
pub struct ReplayRun {
    /// One JSON object per alert change, in the order written.
    pub changes: Vec<Value>,
    /// The `--events-out` file (only when asked for).
    pub events_path: Option<PathBuf>,
    /// The summary it printed on stderr.
    pub stderr: String,
    pub wall: Duration,
}

impl ReplayRun {
    pub fn situations(&self) -> BTreeSet<Situation> {
        fold_changes(&self.changes)
    }

    /// One JSON object per picture event.
    pub fn events(&self) -> Vec<Value> {
        read_json_lines(
            self.events_path
                .as_ref()
                .expect("replay run without --events-out"),
        )
    }
}

/// `lookout replay FILE [--speed S] --alerts-out … [--events-out …]`, with
/// the bundled zones; outputs go to `dir` under `name`.
pub fn replay(file: &Path, speed: Option<&str>, events: bool, dir: &Path, name: &str) -> ReplayRun {
    let alerts_out = dir.join(format!("{name}.alerts.jsonl"));
    let events_out = dir.join(format!("{name}.events.jsonl"));
    let mut c = lookout();
    c.arg("replay").arg(file).args(["--zones", "config/zones"]);
    if let Some(s) = speed {
        c.args(["--speed", s]);
    }
    c.arg("--alerts-out").arg(&alerts_out);
    if events {
        c.arg("--events-out").arg(&events_out);
    }
    let t = Instant::now();
    let out = run_ok(&mut c, &format!("lookout replay {name} (speed {speed:?})"));
    let wall = t.elapsed();
    ReplayRun {
        changes: read_json_lines(&alerts_out),
        events_path: events.then_some(events_out),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        wall,
    }
}

pub fn read_json_lines(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{}: {e}: {l}", path.display())))
        .collect()
}

/// `lookout decode FILE`: one JSON object per decoded message.
pub fn decode(file: &Path) -> Vec<Value> {
    let out = run_ok(lookout().arg("decode").arg(file), "lookout decode");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

// ---------------------------------------------------------------------------
// Alert situations

/// One alert situation, as an operator sees it: what, who, where, raised
/// when, cleared when. Ids, messages, positions and order are left out.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Situation {
    pub kind: String,
    /// Sorted MMSIs (`mmsi` and `other_mmsi`).
    pub vessels: Vec<u64>,
    pub zone: Option<String>,
    pub raised_ms: i64,
    pub cleared_ms: Option<i64>,
}

impl fmt::Display for Situation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v: Vec<String> = self.vessels.iter().map(u64::to_string).collect();
        write!(
            f,
            "{} [{}] zone {} raised {} cleared {}",
            self.kind,
            v.join("+"),
            self.zone.as_deref().unwrap_or("-"),
            fmt_ms(self.raised_ms),
            self.cleared_ms.map(fmt_ms).unwrap_or_else(|| "-".into())
        )
    }
}

impl Situation {
    pub fn from_alert(a: &Value) -> Situation {
        let mut vessels: Vec<u64> = [&a["mmsi"], &a["other_mmsi"]]
            .iter()
            .filter_map(|v| v.as_u64())
            .collect();
        vessels.sort_unstable();
        vessels.dedup();
        let raised = a["raised_at"]
            .as_str()
            .or_else(|| a["time"].as_str())
            .unwrap_or_else(|| panic!("alert without raised_at: {a}"));
        Situation {
            kind: a["kind"]
                .as_str()
                .unwrap_or_else(|| panic!("alert without kind: {a}"))
                .to_string(),
            vessels,
            zone: a["zone"].as_str().map(str::to_string),
            raised_ms: parse_rfc3339_ms(raised),
            cleared_ms: a["cleared_at"].as_str().map(parse_rfc3339_ms),
        }
    }

    /// The situation as it stood at message time `t_ms`: `None` if not yet
    /// raised, the clear forgotten if it came later.
    pub fn as_of(&self, t_ms: i64) -> Option<Situation> {
        if self.raised_ms > t_ms {
            return None;
        }
        let mut s = self.clone();
        if s.cleared_ms.is_some_and(|c| c > t_ms) {
            s.cleared_ms = None;
        }
        Some(s)
    }

    pub fn involves_only(&self, vessels: &BTreeSet<u64>) -> bool {
        self.vessels.iter().all(|m| vessels.contains(m))
    }
}

/// `--alerts-out` lines (raised, updated, cleared, …) folded per alert id
/// into one situation each.
pub fn fold_changes(changes: &[Value]) -> BTreeSet<Situation> {
    let mut by_id: BTreeMap<String, &Value> = BTreeMap::new();
    for c in changes {
        let id = c["id"]
            .as_str()
            .unwrap_or_else(|| panic!("alert change without id: {c}"));
        by_id.insert(id.to_string(), c);
    }
    by_id.values().map(|a| Situation::from_alert(a)).collect()
}

/// `/api/alerts` (an array of alert objects, every state).
pub fn api_situations(alerts: &Value) -> BTreeSet<Situation> {
    alerts
        .as_array()
        .unwrap_or_else(|| panic!("/api/alerts is not an array: {alerts}"))
        .iter()
        .map(Situation::from_alert)
        .collect()
}

/// `None` when equal, else a readable difference.
pub fn diff(
    a_name: &str,
    a: &BTreeSet<Situation>,
    b_name: &str,
    b: &BTreeSet<Situation>,
) -> Option<String> {
    if a == b {
        return None;
    }
    let mut s = format!(
        "alert situations differ: {a_name} has {}, {b_name} has {}\n",
        a.len(),
        b.len()
    );
    for x in a.difference(b) {
        s += &format!("  only in {a_name}: {x}\n");
    }
    for x in b.difference(a) {
        s += &format!("  only in {b_name}: {x}\n");
    }
    Some(s)
}

pub fn assert_same(a_name: &str, a: &BTreeSet<Situation>, b_name: &str, b: &BTreeSet<Situation>) {
    if let Some(d) = diff(a_name, a, b_name, b) {
        panic!("{d}");
    }
}

pub fn kinds(s: &BTreeSet<Situation>) -> BTreeSet<String> {
    s.iter().map(|x| x.kind.clone()).collect()
}

// ---------------------------------------------------------------------------
// Times

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `2026-11-28T07:13:44Z` / `…44.120Z` / `…44+00:00` → UNIX milliseconds.
pub fn parse_rfc3339_ms(s: &str) -> i64 {
    let bad = || panic!("not an RFC 3339 UTC time: {s:?}");
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        bad();
    }
    let num = |r: std::ops::Range<usize>| -> i64 { s[r].parse().unwrap_or_else(|_| bad()) };
    let (y, mo, d, h, mi, se) = (
        num(0..4),
        num(5..7),
        num(8..10),
        num(11..13),
        num(14..16),
        num(17..19),
    );
    let mut rest = &s[19..];
    let mut ms = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits: String = frac.chars().take_while(char::is_ascii_digit).collect();
        let padded = format!("{digits:0<3}");
        ms = padded[..3].parse().unwrap_or_else(|_| bad());
        rest = &frac[digits.len()..];
    }
    if !(rest == "Z" || rest == "+00:00") {
        bad();
    }
    ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60_000 + se * 1000 + ms
}

pub fn fmt_ms(ms: i64) -> String {
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (y, m, d) = civil_from_days(days);
    let (h, mi, s, frac) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    if frac == 0 {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{frac:03}Z")
    }
}

// ---------------------------------------------------------------------------
// Recordings as whole messages

/// One AIS message of a recording: its line(s), in order, the NMEA 4.10 `c:`
/// time of its first line and the MMSI its payload carries.
#[derive(Clone, Debug)]
pub struct Unit {
    pub time_s: i64,
    pub mmsi: u64,
    pub lines: Vec<String>,
}

/// The TAG block of a line (`\…*hh\` at its start), without the checksum.
pub fn tag_block(line: &str) -> Option<&str> {
    let rest = line.strip_prefix('\\')?;
    let end = rest.find('\\')?;
    let block = &rest[..end];
    Some(block.rsplit_once('*').map_or(block, |(b, _)| b))
}

/// A TAG field (`c`, `s`, `g`, …) of a line.
pub fn tag_field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    tag_block(line)?
        .split(',')
        .find_map(|kv| kv.strip_prefix(key).and_then(|r| r.strip_prefix(':')))
}

/// The sentence after the TAG block (`!AIVDM,…`).
pub fn sentence(line: &str) -> &str {
    match line
        .strip_prefix('\\')
        .and_then(|r| r.find('\\').map(|i| &r[i + 1..]))
    {
        Some(s) => s,
        None => line,
    }
}

/// The MMSI in an AIS payload (bits 8..38 of the six-bit armoured text).
pub fn payload_mmsi(payload: &str) -> Option<u64> {
    let mut bits: u64 = 0;
    let b = payload.as_bytes();
    if b.len() < 7 {
        return None;
    }
    for &c in &b[..7] {
        let mut v = c.checked_sub(48)?;
        if v > 40 {
            v -= 8;
        }
        bits = (bits << 6) | u64::from(v & 0x3f);
    }
    // 42 bits read: type (6), repeat (2), MMSI (30), 4 more.
    Some((bits >> 4) & 0x3fff_ffff)
}

/// Cut a recording (one `!AIVDM` sentence a line, TAG blocks with `c:`)
/// into whole messages; the sentences of a multi-sentence message must be
/// consecutive, as `lookout simulate` writes them.
pub fn units(text: &str) -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::new();
    let mut expect: Option<(usize, usize, String)> = None; // (next, total, seq id)
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = sentence(line).split(',').collect();
        assert!(f.len() >= 7, "not an AIS sentence: {line}");
        let total: usize = f[1].parse().unwrap();
        let num: usize = f[2].parse().unwrap();
        if num == 1 {
            assert!(expect.is_none(), "message cut short before: {line}");
            let time_s = tag_field(line, "c")
                .unwrap_or_else(|| panic!("no c: time: {line}"))
                .parse()
                .unwrap();
            let mmsi = payload_mmsi(f[5]).unwrap_or_else(|| panic!("no MMSI: {line}"));
            out.push(Unit {
                time_s,
                mmsi,
                lines: vec![line.to_string()],
            });
        } else {
            let (next, t, seq) = expect
                .take()
                .unwrap_or_else(|| panic!("fragment without its first: {line}"));
            assert!(
                num == next && total == t && f[3] == seq,
                "fragment out of order: {line}"
            );
            out.last_mut().unwrap().lines.push(line.to_string());
        }
        if num < total {
            expect = Some((num + 1, total, f[3].to_string()));
        }
    }
    assert!(expect.is_none(), "recording ends inside a message");
    out
}

pub fn write_units<'a>(path: &Path, units: impl IntoIterator<Item = &'a Unit>) -> usize {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut n = 0;
    for u in units {
        for l in &u.lines {
            writeln!(f, "{l}").unwrap();
            n += 1;
        }
    }
    f.flush().unwrap();
    n
}

/// Merge two recordings by message time (stable: at equal times `a`'s
/// messages come first); each message keeps its sentences together.
pub fn merge<'a>(a: &'a [Unit], b: &'a [Unit]) -> Vec<&'a Unit> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len() + b.len());
    while i < a.len() || j < b.len() {
        if j >= b.len() || (i < a.len() && a[i].time_s <= b[j].time_s) {
            out.push(&a[i]);
            i += 1;
        } else {
            out.push(&b[j]);
            j += 1;
        }
    }
    out
}

/// The messages of `vessels` only, in recording order.
pub fn only<'a>(units: &'a [Unit], vessels: &BTreeSet<u64>) -> Vec<&'a Unit> {
    units.iter().filter(|u| vessels.contains(&u.mmsi)).collect()
}

// ---------------------------------------------------------------------------
// Zones (config/zones/central-med.geojson), for "inside the zone"

pub struct Zones(Value);

impl Zones {
    pub fn bundled() -> Zones {
        let p = repo().join("config/zones/central-med.geojson");
        Zones(serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
    }

    /// Whether (lat, lon) is inside the zone with properties.id `id`.
    pub fn contains(&self, id: &str, lat: f64, lon: f64) -> bool {
        let f = self.0["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["properties"]["id"] == id || f["id"] == id)
            .unwrap_or_else(|| panic!("no zone {id} in config/zones"));
        let g = &f["geometry"];
        let polys: Vec<&Value> = match g["type"].as_str() {
            Some("Polygon") => vec![&g["coordinates"]],
            Some("MultiPolygon") => g["coordinates"].as_array().unwrap().iter().collect(),
            other => panic!("zone {id}: geometry {other:?}"),
        };
        polys.iter().any(|p| {
            let rings = p.as_array().unwrap();
            let inside = |r: &Value| ring_contains(r, lat, lon);
            inside(&rings[0]) && !rings[1..].iter().any(inside)
        })
    }
}

fn ring_contains(ring: &Value, lat: f64, lon: f64) -> bool {
    let pts: Vec<(f64, f64)> = ring
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
        .collect();
    let mut inside = false;
    let mut j = pts.len() - 1;
    for i in 0..pts.len() {
        let ((xi, yi), (xj, yj)) = (pts[i], pts[j]);
        if (yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// Great-circle distance in nautical miles.
pub fn distance_nm(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * a.sqrt().asin() * 3440.065
}

// ---------------------------------------------------------------------------
// lookout serve

/// A running `lookout serve --replay`, killed when dropped (also on panic).
pub struct Server {
    child: Child,
    /// `127.0.0.1:port` it listens on.
    pub addr: String,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// `lookout serve --listen 127.0.0.1:0 --replay FILE --speed SPEED`,
    /// state and web root in `dir`; waits for its address.
    pub fn replay(file: &Path, speed: &str, dir: &Path) -> Server {
        let state = dir.join("state");
        let web = dir.join("web");
        std::fs::create_dir_all(&state).unwrap();
        std::fs::create_dir_all(&web).unwrap();
        let child = lookout()
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--zones", "config/zones"])
            .arg("--state-dir")
            .arg(&state)
            .arg("--web-root")
            .arg(&web)
            .arg("--replay")
            .arg(file)
            .args(["--speed", speed])
            .env("RUST_LOG", "warn,lookout=info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn lookout serve");
        // The guard exists before anything can fail, so the child is
        // killed whatever happens next.
        let mut server = Server {
            child,
            addr: String::new(),
            log: Default::default(),
        };
        let stderr = server.child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let mut seen = Vec::new();
        server.addr = loop {
            let line = match lines.next() {
                Some(Ok(l)) => l,
                _ => panic!(
                    "lookout serve exited before listening:\n{}",
                    seen.join("\n")
                ),
            };
            if let Some(rest) = line.split("listening on http://").nth(1) {
                break rest.split_whitespace().next().unwrap().to_string();
            }
            seen.push(line);
        };
        let log = server.log.clone();
        std::thread::spawn(move || {
            for l in lines.map_while(Result::ok) {
                let mut g = log.lock().unwrap();
                g.push(l);
                if g.len() > 200 {
                    g.remove(0);
                }
            }
        });
        server
    }

    pub fn get(&self, path: &str) -> Value {
        http_get(&self.addr, path)
    }

    pub fn log_tail(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Wait until the replay source has read its whole file, the queue is
    /// empty, the picture clock is at `last_ms` (when given), and the
    /// status and alerts have stood still for three polls.
    pub fn wait_replay_done(&self, last_ms: Option<i64>, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut still: Option<(String, usize)> = None;
        let mut same = 0;
        loop {
            let st = self.get("/api/status");
            let sources = self.get("/api/sources");
            let finished = sources.as_array().is_some_and(|a| {
                a.iter()
                    .any(|s| s["name"] == "replay" && s["state"] == "finished")
            });
            let drained = st["queue_depth"].as_u64() == Some(0);
            let at_end = last_ms.is_none_or(|t| st["time_ms"].as_i64() == Some(t));
            if finished && drained && at_end {
                let alerts = self.get("/api/alerts");
                let key = (
                    format!("{} {}", st["time_ms"], st["vessels"]),
                    alerts.as_array().map_or(0, Vec::len),
                );
                if still.as_ref() == Some(&key) {
                    same += 1;
                    if same >= 3 {
                        return;
                    }
                } else {
                    still = Some(key);
                    same = 0;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the replay in lookout serve did not finish within {timeout:?} \
                 (waiting for clock {:?}): status {st}\nsources {sources}\nlog:\n{}",
                last_ms.map(fmt_ms),
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

/// A blocking HTTP GET that expects 200 and a JSON body.
pub fn http_get(addr: &str, path: &str) -> Value {
    let (status, body) = http_get_raw(addr, path);
    assert!(status == 200, "GET {path}: HTTP {status}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}

/// Status code and body (chunked bodies are put back together).
pub fn http_get_raw(addr: &str, path: &str) -> (u16, String) {
    let mut s =
        std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let resp = String::from_utf8_lossy(&resp).into_owned();
    let (head, body) = resp
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("GET {path}: {resp}"));
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase().starts_with("transfer-encoding:")
            && l.to_ascii_lowercase().contains("chunked")
    });
    if !chunked {
        return (status, body.to_string());
    }
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.split(';').next().unwrap().trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    (status, out)
}

/// The whole picture over HTTP (`/api/vessels` without a box is the whole
/// world): (mmsi, lat, lon, name, state) per vessel.
pub fn picture(server: &Server) -> BTreeSet<(u64, String, String, String, String)> {
    let fc = server.get("/api/vessels");
    fc["features"]
        .as_array()
        .unwrap_or_else(|| panic!("/api/vessels: {fc}"))
        .iter()
        .map(|f| {
            let p = &f["properties"];
            (
                p["mmsi"].as_u64().unwrap(),
                p["lat"].as_f64().map_or("-".into(), |x| format!("{x:.6}")),
                p["lon"].as_f64().map_or("-".into(), |x| format!("{x:.6}")),
                p["name"].as_str().unwrap_or("-").to_string(),
                p["state"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

/// NMEA 0183 checksum: XOR of the bytes, two upper-case hex digits.
pub fn nmea_checksum(s: &str) -> String {
    format!("{:02X}", s.bytes().fold(0u8, |a, b| a ^ b))
}

/// `\fields*hh\` for a TAG block's fields.
pub fn tag(fields: &str) -> String {
    format!("\\{fields}*{}\\", nmea_checksum(fields))
}
