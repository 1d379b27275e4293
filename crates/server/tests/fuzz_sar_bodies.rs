//! Fuzz target (stable harness, fuzz/README.md): the SAR request bodies,
//! end to end — a real `Server` (in-process, 127.0.0.1:0, state in a
//! temporary directory, a short simulated recording replayed), driven over
//! HTTP: the body checks, the server's own body types (contact, sighting,
//! incident, status change), the `sar` model's serde types (`Action`,
//! `SearchAreaRequest`, `PatternRequest`, their times, winds, assets) and
//! what the model and the state database do with what is accepted.
//!
//! Feeds: sequences of 1–4 requests per case on every SAR route — create,
//! update and sight contacts; create incidents; actions and status changes;
//! search areas and patterns; and the reads (incident, sitrep, coverage,
//! patterns in every format, intercepts, lists with their paging) — whose
//! bodies are built from a schema of each body: required fields present
//! most of the time, values of the right kind (positions near the demo
//! scenario, times around it as UNIX ms or RFC 3339, known contact and
//! incident ids) mixed with edge values (out-of-range and non-finite-like
//! numbers, 2^32, times before 1970 and after 2200, NUL, control and
//! bidirectional characters, wrong types, unknown keys), and arbitrary
//! bytes and JSON.
//!
//! Checked: no panic (a handler panic is a 500, or a dropped connection);
//! every answer is below 500 with a JSON body (errors `{"error": …}`); the
//! current incident stays readable after every case; and at the end the
//! server is stopped and started again on the same state: everything it
//! accepted loads back (same contacts and incidents, each readable).
//!
//! Cases: `FUZZ_CASES` / `FUZZ_SECONDS` / `FUZZ_SEED` (see the harness).

#[path = "../../../fuzz/harness.rs"]
mod harness;

use broadcast::auth::{hash_token, AuthConfig, TokenConfig};
use broadcast::Role;
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use server::{LookoutConfig, ServeOptions, Server, ShutdownHandle};
use simulator::{Scenario, Simulator};
use std::cell::RefCell;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

const TOKEN: &str = "fuzz-operator-token";
/// The unit assigned to every incident, so that patterns can be planned.
const ASSIGNED: u32 = 247_000_001;
/// The demo scenario's start, 2026-11-28T06:00:00Z.
const T0: i64 = 1_795_845_600_000;

// ---- a server, and a small keep-alive HTTP client ----

struct Live {
    rt: tokio::runtime::Runtime,
    addr: String,
    stop: ShutdownHandle,
    run: tokio::task::JoinHandle<Result<(), String>>,
}

fn write_recording(path: &Path) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut sim = Simulator::new(&Scenario::demo()).unwrap();
    sim.run_for(2 * 60_000, |_, line| {
        out.write_all(line.as_bytes()).unwrap();
        out.write_all(b"\n").unwrap();
    });
    out.flush().unwrap();
}

fn start(state_dir: &Path, recording: &Path) -> Live {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let config = LookoutConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        zones: vec![PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../config/zones"
        ))],
        auth: AuthConfig {
            cors_origins: Vec::new(),
            enabled: true,
            tokens: vec![TokenConfig {
                name: "fuzz".into(),
                role: Role::Operator,
                sha256: hash_token(TOKEN),
            }],
        },
        ..LookoutConfig::default()
    };
    let mut opts = ServeOptions::new(config, state_dir);
    opts.replay = vec![recording.to_path_buf()];
    opts.speed = None;
    let server = rt.block_on(Server::start(opts)).expect("server starts");
    let addr = server.local_addr().to_string();
    let stop = server.shutdown_handle();
    let run = rt.spawn(server.run_until_shutdown());
    Live {
        rt,
        addr,
        stop,
        run,
    }
}

impl Live {
    fn stop(self) {
        self.stop.shutdown();
        let r = self.rt.block_on(self.run).expect("server task");
        r.expect("server stops cleanly");
    }
}

struct Client {
    addr: String,
    conn: Option<BufReader<TcpStream>>,
}

impl Client {
    fn new(addr: &str) -> Client {
        Client {
            addr: addr.to_string(),
            conn: None,
        }
    }

    /// `(status, content type, body)`; reconnects once if a kept-alive
    /// connection was closed by the server in between.
    fn send(&mut self, method: &str, path: &str, body: &[u8]) -> (u16, String, Vec<u8>) {
        for attempt in 0..2 {
            let fresh = self.conn.is_none();
            match self.try_send(method, path, body) {
                Ok(r) => return r,
                Err(e) => {
                    self.conn = None;
                    assert!(
                        attempt == 0 && !fresh,
                        "{method} {path}: connection failed: {e} (did the handler panic?)"
                    );
                }
            }
        }
        unreachable!()
    }

    fn try_send(
        &mut self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> std::io::Result<(u16, String, Vec<u8>)> {
        if self.conn.is_none() {
            let s = TcpStream::connect(&self.addr)?;
            s.set_read_timeout(Some(Duration::from_secs(60)))?;
            s.set_nodelay(true)?;
            self.conn = Some(BufReader::new(s));
        }
        let conn = self.conn.as_mut().unwrap();
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: fuzz\r\nAuthorization: Bearer {TOKEN}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(body);
        conn.get_mut().write_all(&req)?;
        let mut line = String::new();
        if conn.read_line(&mut line)? == 0 {
            return Err(std::io::Error::other("closed before the answer"));
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("status line {line:?}")))?;
        let (mut length, mut chunked, mut close, mut ctype) = (None, false, false, String::new());
        loop {
            line.clear();
            conn.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let (k, v) = l.split_once(':').unwrap_or((l, ""));
            let (k, v) = (k.to_ascii_lowercase(), v.trim());
            match k.as_str() {
                "content-length" => length = v.parse::<usize>().ok(),
                "transfer-encoding" => chunked = v.eq_ignore_ascii_case("chunked"),
                "connection" => close = v.eq_ignore_ascii_case("close"),
                "content-type" => ctype = v.to_string(),
                _ => {}
            }
        }
        let mut out = Vec::new();
        if chunked {
            loop {
                line.clear();
                conn.read_line(&mut line)?;
                let n = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                if n == 0 {
                    line.clear();
                    conn.read_line(&mut line)?;
                    break;
                }
                let start = out.len();
                out.resize(start + n, 0);
                conn.read_exact(&mut out[start..])?;
                line.clear();
                conn.read_line(&mut line)?;
            }
        } else if let Some(n) = length {
            out.resize(n, 0);
            conn.read_exact(&mut out)?;
        } else {
            conn.read_to_end(&mut out)?;
            close = true;
        }
        if close {
            self.conn = None;
        }
        Ok((status, ctype, out))
    }

    /// A request that must succeed with JSON.
    fn json(&mut self, method: &str, path: &str, body: &Value) -> Value {
        let (status, _, out) = self.send(method, path, body.to_string().as_bytes());
        assert!(
            (200..300).contains(&status),
            "{method} {path} {body}: HTTP {status}: {}",
            String::from_utf8_lossy(&out)
        );
        serde_json::from_slice(&out).unwrap()
    }
}

// ---- body schemas ----

#[derive(Clone, Copy, Debug)]
enum K {
    Lat,
    Lon,
    Time,
    /// A time after the sightings' (a time of interest, a start).
    Later,
    Nm,
    /// A number in a range (the model's limits).
    Range(f64, f64),
    /// The MMSI of the unit assigned to every incident at setup.
    Assigned,
    Deg,
    Kn,
    Text,
    Name,
    Contact,
    Alert,
    Mmsi,
    Small,
    Bool,
    Enum(&'static [&'static str]),
    Obj(&'static [(&'static str, K, bool)]),
    List(&'static K),
    Wind,
}

const CONTACT: &[(&str, K, bool)] = &[
    ("description", K::Text, false),
    ("status", K::Enum(&["active", "closed"]), false),
    ("lat", K::Lat, true),
    ("lon", K::Lon, true),
    ("time", K::Time, false),
    ("uncertainty_nm", K::Nm, false),
    ("uncertainty_m", K::Nm, false),
    (
        "source",
        K::Enum(&["aircraft", "phone", "vessel", "other"]),
        false,
    ),
    ("course_deg", K::Deg, false),
    ("speed_kn", K::Kn, false),
    ("note", K::Text, false),
];
const NEW_CONTACT: &[(&str, K, bool)] = &[
    ("description", K::Text, true),
    ("lat", K::Lat, true),
    ("lon", K::Lon, true),
    ("time", K::Time, false),
    ("uncertainty_nm", K::Nm, false),
    (
        "source",
        K::Enum(&["aircraft", "phone", "vessel", "other"]),
        false,
    ),
    ("course_deg", K::Deg, false),
    ("speed_kn", K::Kn, false),
    ("note", K::Text, false),
];
const NEW_INCIDENT: &[(&str, K, bool)] = &[
    ("title", K::Text, true),
    ("contacts", K::List(&K::Contact), false),
    ("alerts", K::List(&K::Alert), false),
    ("vessels", K::List(&K::Mmsi), false),
    ("note", K::Text, false),
];
const STATUSES: &[&str] = &["open", "assets_assigned", "rescued", "closed"];
const ASSET: &[(&str, K, bool)] = &[("mmsi", K::Mmsi, false), ("name", K::Name, false)];
const LKP: &[(&str, K, bool)] = &[
    ("lat", K::Lat, true),
    ("lon", K::Lon, true),
    ("time", K::Time, true),
    ("error_nm", K::Range(0.0, 5.0), false),
];
const CURRENT: &[(&str, K, bool)] = &[("set_deg", K::Deg, true), ("kn", K::Kn, true)];
const OBJECTS: &[&str] = &[
    "person_in_water",
    "life_raft_no_drogue",
    "rubber_boat_overloaded",
    "small_wooden_boat",
];
const FIXES: &[&str] = &["gps", "radar", "visual", "celestial"];
const SEARCH_AREA: &[(&str, K, bool)] = &[
    ("contact", K::Contact, false),
    ("lkp", K::Obj(LKP), false),
    ("object", K::Enum(OBJECTS), true),
    ("wind", K::Wind, true),
    ("current", K::Obj(CURRENT), true),
    ("at", K::Later, true),
    ("safety_factor", K::Range(1.0, 5.0), false),
    ("search_number", K::Small, false),
    ("position_fix", K::Enum(FIXES), false),
    ("x_nm", K::Range(0.0, 20.0), false),
    ("search_fix", K::Enum(FIXES), false),
    ("y_nm", K::Range(0.0, 20.0), false),
    ("drift_error_fraction", K::Range(0.0, 1.0), false),
    ("track_step_min", K::Small, false),
];
const CSP: &[(&str, K, bool)] = &[("lat", K::Lat, true), ("lon", K::Lon, true)];
const SWEEP: &[(&str, K, bool)] = &[
    ("object", K::Enum(OBJECTS), true),
    (
        "unit",
        K::Enum(&["smaller_vessel", "larger_vessel", "boat", "ship"]),
        true,
    ),
    ("visibility_nm", K::Range(0.5, 20.0), true),
    ("wind_kn", K::Kn, false),
    ("fatigued", K::Bool, false),
];
const PATTERN: &[(&str, K, bool)] = &[
    ("asset", K::Assigned, true),
    ("asset_name", K::Name, false),
    (
        "pattern",
        K::Enum(&["expanding_square", "sector", "parallel", "track_line"]),
        true,
    ),
    ("csp", K::Obj(CSP), true),
    ("first_leg_deg", K::Deg, false),
    ("spacing_nm", K::Range(0.2, 5.0), false),
    ("sweep", K::Obj(SWEEP), false),
    ("legs", K::Range(1.0, 9.0), true),
    ("speed_kn", K::Range(1.0, 30.0), true),
    ("start", K::Later, true),
    ("leg_length_nm", K::Range(1.0, 20.0), false),
    ("radius_nm", K::Range(0.5, 20.0), false),
    ("turn", K::Enum(&["right", "left"]), false),
];

/// An action body: `{"action": name, …its fields}`.
fn action(hostile: bool) -> BoxedStrategy<Value> {
    let with = |name: &'static str, fields: &'static [(&'static str, K, bool)]| {
        object(fields, hostile).prop_map(move |mut v| {
            v["action"] = json!(name);
            v
        })
    };
    const TEXT: &[(&str, K, bool)] = &[("text", K::Text, true)];
    const TITLE: &[(&str, K, bool)] = &[("title", K::Text, true)];
    const STATUS: &[(&str, K, bool)] = &[
        ("status", K::Enum(STATUSES), true),
        ("reason", K::Text, false),
    ];
    const ASSIGN: &[(&str, K, bool)] = &[("asset", K::Obj(ASSET), true)];
    const CONTACT_ID: &[(&str, K, bool)] = &[("contact_id", K::Contact, true)];
    const ALERT_ID: &[(&str, K, bool)] = &[("alert_id", K::Alert, true)];
    const MMSI: &[(&str, K, bool)] = &[("mmsi", K::Mmsi, true)];
    const PLAN: &[(&str, K, bool)] = &[("request", K::Obj(SEARCH_AREA), true)];
    prop_oneof![
        3 => with("note", TEXT),
        1 => with("retitle", TITLE),
        2 => with("set_status", STATUS),
        2 => with("assign_asset", ASSIGN),
        2 => with("release_asset", ASSIGN),
        1 => with("link_contact", CONTACT_ID),
        1 => with("unlink_contact", CONTACT_ID),
        1 => with("link_alert", ALERT_ID),
        1 => with("unlink_alert", ALERT_ID),
        1 => with("link_vessel", MMSI),
        1 => with("unlink_vessel", MMSI),
        1 => with("create", TITLE),
        1 => with("search_area", PLAN),
        1 => object(STATUS, hostile),
    ]
    .boxed()
}

fn edge() -> BoxedStrategy<Value> {
    prop::sample::select(vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(-0.0),
        json!(1e308),
        json!(-1e308),
        json!(5e-324),
        json!(4_294_967_296_u64),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(999_999_999),
        json!(1_000_000_000),
        json!(7_258_118_400_000_i64),
        json!(""),
        json!(" "),
        json!("\u{0}"),
        json!("a\u{0}b"),
        json!("\u{1b}[31m"),
        json!("\u{202e}exe"),
        json!("\u{2066}"),
        json!("\u{85}"),
        json!("x".repeat(5000)),
        json!("1969-12-31T23:59:59Z"),
        json!("2200-01-01T00:00:00Z"),
        json!("9999-12-31T23:59:59Z"),
        json!("2026-02-30T00:00:00Z"),
        json!("nan"),
        json!([]),
        json!({}),
        json!([1, 2]),
    ])
    .boxed()
}

fn any_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<f64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        ".{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-z_]{1,12}", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
    .boxed()
}

fn time() -> BoxedStrategy<Value> {
    let ms = (-6 * 3_600_000i64..12 * 3_600_000).prop_map(|d| T0 + d);
    prop_oneof![
        2 => ms.clone().prop_map(Value::from),
        2 => ms.prop_map(|t| {
            let st = std::time::UNIX_EPOCH + Duration::from_millis(t as u64);
            json!(humantime::format_rfc3339_millis(st).to_string())
        }),
        1 => prop::sample::select(vec![
            json!("2026-11-28T06:00:00Z"),
            json!("2026-11-28T06:00:00+01:00"),
            json!("2026-11-28 06:00:00"),
            json!(T0),
            json!(T0 + 400 * 86_400_000),
        ]),
    ]
    .boxed()
}

/// A value of kind `k`: well-formed, or (`hostile`) now and then an edge
/// value or anything at all.
fn value(k: K, hostile: bool) -> BoxedStrategy<Value> {
    let good: BoxedStrategy<Value> = match k {
        K::Lat => prop_oneof![4 => 33.0f64..37.0, 1 => -90.0f64..=90.0]
            .prop_map(Value::from)
            .boxed(),
        K::Lon => prop_oneof![4 => 11.0f64..16.0, 1 => -180.0f64..=180.0]
            .prop_map(Value::from)
            .boxed(),
        K::Time => time(),
        K::Later => (0..12 * 3_600_000i64)
            .prop_map(|d| json!(T0 + 2 * 3_600_000 + d))
            .boxed(),
        K::Range(lo, hi) => {
            if lo.fract() == 0.0 && hi.fract() == 0.0 && hi - lo < 50.0 {
                (lo as u32..=hi as u32).prop_map(Value::from).boxed()
            } else {
                (lo..=hi).prop_map(Value::from).boxed()
            }
        }
        K::Assigned => prop_oneof![4 => Just(ASSIGNED), 1 => 200_000_000u32..800_000_000]
            .prop_map(Value::from)
            .boxed(),
        K::Nm => prop_oneof![4 => 0.0f64..20.0, 1 => Just(0.0), 1 => 0.0f64..1e4]
            .prop_map(Value::from)
            .boxed(),
        K::Deg => (0.0f64..360.0).prop_map(Value::from).boxed(),
        K::Kn => (0.0f64..40.0).prop_map(Value::from).boxed(),
        K::Text => prop_oneof![
            4 => "[A-Za-z0-9 ,.-]{1,30}",
            1 => ".{0,20}",
            1 => Just("line 1\nline 2".to_string()),
        ]
        .prop_map(Value::from)
        .boxed(),
        K::Name => "[A-Z0-9 -]{1,12}".prop_map(Value::from).boxed(),
        K::Contact => prop::sample::select(vec!["c-000001", "c-000001", "c-000002", "c-999999"])
            .prop_map(Value::from)
            .boxed(),
        K::Alert => prop::sample::select(vec!["a-1", "a-2", "a-999999"])
            .prop_map(Value::from)
            .boxed(),
        K::Mmsi => prop_oneof![
            3 => 200_000_000u32..800_000_000,
            1 => Just(0u32),
            1 => Just(u32::MAX),
        ]
        .prop_map(Value::from)
        .boxed(),
        K::Small => prop_oneof![4 => 0u32..30, 1 => 0u32..1000, 1 => Just(u32::MAX)]
            .prop_map(Value::from)
            .boxed(),
        K::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        K::Enum(names) => prop::sample::select(names).prop_map(Value::from).boxed(),
        K::Obj(fields) => object(fields, hostile),
        K::List(k) => prop::collection::vec(value(*k, hostile), 0..4)
            .prop_map(Value::Array)
            .boxed(),
        K::Wind => {
            const WIND: &[(&str, K, bool)] = &[
                ("at", K::Time, false),
                ("from_deg", K::Deg, true),
                ("kn", K::Kn, true),
            ];
            prop_oneof![
                2 => object(WIND, hostile),
                1 => prop::collection::vec(object(WIND, hostile), 1..4).prop_map(Value::Array),
            ]
            .boxed()
        }
    };
    if hostile {
        prop_oneof![12 => good, 1 => edge(), 1 => any_json()].boxed()
    } else {
        good
    }
}

/// An object from a schema: required fields there, optional ones half of
/// the time; hostile, also a required field missing or an unknown key now
/// and then.
fn object(fields: &'static [(&'static str, K, bool)], hostile: bool) -> BoxedStrategy<Value> {
    let parts: Vec<BoxedStrategy<Option<Value>>> = fields
        .iter()
        .map(|&(_, k, required)| {
            if required && hostile {
                prop_oneof![12 => value(k, true).prop_map(Some), 1 => Just(None)].boxed()
            } else if required {
                value(k, false).prop_map(Some).boxed()
            } else {
                prop_oneof![1 => value(k, hostile).prop_map(Some), 1 => Just(None)].boxed()
            }
        })
        .collect();
    let extra = if hostile {
        prop_oneof![15 => Just(None), 1 => ("[a-z]{1,8}", edge()).prop_map(Some)].boxed()
    } else {
        Just(None).boxed()
    };
    (parts, extra)
        .prop_map(move |(values, extra)| {
            let mut m = Map::new();
            for ((name, _, _), v) in fields.iter().zip(values) {
                if let Some(v) = v {
                    m.insert(name.to_string(), v);
                }
            }
            if let Some((k, v)) = extra {
                m.insert(k, v);
            }
            Value::Object(m)
        })
        .boxed()
}

/// A request: method, path (`{C}`: the known contact, `{I}`: the current
/// incident) and body.
#[derive(Debug, Clone)]
struct Op {
    method: &'static str,
    path: String,
    body: Vec<u8>,
}

fn new_contact_body(h: bool) -> BoxedStrategy<Value> {
    object(NEW_CONTACT, h)
}
fn contact_body(h: bool) -> BoxedStrategy<Value> {
    object(CONTACT, h)
}
fn new_incident_body(h: bool) -> BoxedStrategy<Value> {
    object(NEW_INCIDENT, h)
}
fn search_area_body(h: bool) -> BoxedStrategy<Value> {
    object(SEARCH_AREA, h)
}
fn pattern_body(h: bool) -> BoxedStrategy<Value> {
    object(PATTERN, h)
}

fn op() -> impl Strategy<Value = Op> {
    // Half well-formed bodies (to reach the model and the database), half
    // hostile ones, and arbitrary JSON and bytes.
    let body = |make: fn(bool) -> BoxedStrategy<Value>| -> BoxedStrategy<Vec<u8>> {
        prop_oneof![
            10 => make(false).prop_map(|v| v.to_string().into_bytes()),
            10 => make(true).prop_map(|v| v.to_string().into_bytes()),
            1 => any_json().prop_map(|v| v.to_string().into_bytes()),
            1 => prop::collection::vec(any::<u8>(), 0..64),
        ]
        .boxed()
    };
    let post = |m: &'static str, p: &'static str, b: BoxedStrategy<Vec<u8>>| {
        b.prop_map(move |body| Op {
            method: m,
            path: p.to_string(),
            body,
        })
    };
    let get = |p: BoxedStrategy<String>| {
        p.prop_map(|path| Op {
            method: "GET",
            path,
            body: Vec::new(),
        })
    };
    let q = |v: Vec<&'static str>| prop::sample::select(v).prop_map(String::from).boxed();
    prop_oneof![
        2 => post("POST", "/api/contacts", body(new_contact_body)),
        2 => post("PUT", "/api/contacts/{C}", body(contact_body)),
        1 => post("PATCH", "/api/contacts/{C}", body(contact_body)),
        2 => post("POST", "/api/contacts/{C}/sightings", body(contact_body)),
        1 => post("POST", "/api/incidents", body(new_incident_body)),
        4 => post("PATCH", "/api/incidents/{I}", body(action)),
        3 => post("POST", "/api/incidents/{I}/actions", body(action)),
        3 => post("POST", "/api/incidents/{I}/search-area", body(search_area_body)),
        3 => post("POST", "/api/incidents/{I}/patterns", body(pattern_body)),
        2 => get(
            (
                q(vec![
                    "/api/incidents/{I}",
                    "/api/incidents/{I}/sitrep",
                    "/api/incidents/{I}/coverage",
                    "/api/incidents/{I}/search-area",
                    "/api/incidents/{I}/patterns",
                    "/api/incidents/{I}/patterns/1",
                    "/api/incidents/{I}/patterns/0",
                    "/api/incidents/{I}/intercepts",
                    "/api/contacts/{C}",
                    "/api/contacts/{C}/intercepts",
                    "/api/contacts",
                    "/api/incidents",
                ]),
                q(vec![
                    "",
                    "?k=1",
                    "?k=100",
                    "?k=0",
                    "?k=101",
                    "?n=1",
                    "?n=99999999999999999999",
                    "?format=gpx",
                    "?format=kml",
                    "?format=geojson",
                    "?format=csv",
                    "?until=2026-11-28T12:00:00Z",
                    "?until=9999-01-01T00:00:00Z",
                    "?until=-1",
                    "?status=open",
                    "?status=closed",
                    "?status=x",
                    "?limit=1&before=2026-11-28T12:00:00Z",
                    "?limit=0",
                    "?before=1e99",
                    "?rcc=x&originator=%00",
                ]),
            )
                .prop_map(|(p, q)| format!("{p}{q}"))
                .boxed()
        ),
    ]
}

/// Answers by route template: (2xx, 4xx), printed at the end so that a
/// route no body ever gets through shows.
type Tally = std::collections::BTreeMap<String, (u64, u64)>;

/// Run one request; check the answer.
fn run(
    client: &mut Client,
    o: &Op,
    contact: &str,
    incident: &str,
    tally: &mut Tally,
) -> Result<(), TestCaseError> {
    let path = o.path.replace("{C}", contact).replace("{I}", incident);
    let (status, ctype, out) = client.send(o.method, &path, &o.body);
    let route = format!("{} {}", o.method, o.path.split('?').next().unwrap_or(""));
    let t = tally.entry(route).or_default();
    if status < 300 {
        t.0 += 1;
    } else {
        t.1 += 1;
    }
    let shown = || {
        format!(
            "{} {} {}: HTTP {status}: {}",
            o.method,
            path,
            String::from_utf8_lossy(&o.body),
            String::from_utf8_lossy(&out)
        )
    };
    prop_assert!(status < 500, "{}", shown());
    prop_assert!(![401, 403].contains(&status), "{}", shown());
    if ctype.starts_with("application/json") || status >= 400 {
        let v: Value = serde_json::from_slice(&out)
            .map_err(|e| TestCaseError::fail(format!("not JSON ({e}): {}", shown())))?;
        if status >= 400 {
            prop_assert!(v["error"].is_string(), "{}", shown());
        } else if o.method != "GET" {
            prop_assert!(v.is_object(), "{}", shown());
        }
    }
    Ok(())
}

/// Contacts and incidents as the server lists them: `(id, version)`.
fn inventory(client: &mut Client) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for list in ["/api/contacts?limit=10000", "/api/incidents?limit=10000"] {
        let v = client.json("GET", list, &Value::Null);
        let items = v
            .as_array()
            .or_else(|| v["items"].as_array())
            .cloned()
            .unwrap_or_default();
        for item in items {
            out.push((
                item["id"].as_str().unwrap_or_default().to_string(),
                item["version"].as_u64().unwrap_or(0),
            ));
        }
    }
    out.sort();
    out
}

#[test]
fn fuzz_sar_bodies_end_to_end() {
    let dir = tempfile::TempDir::new().unwrap();
    let recording = dir.path().join("demo.nmea");
    write_recording(&recording);
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();

    let live = start(&state, &recording);
    let mut client = Client::new(&live.addr);
    let contact = client.json(
        "POST",
        "/api/contacts",
        &json!({"description": "rubber boat", "lat": 35.0, "lon": 13.0, "time": T0}),
    );
    let contact = contact["id"].as_str().unwrap().to_string();
    let new_incident = |c: &mut Client| {
        let id = c.json(
            "POST",
            "/api/incidents",
            &json!({"title": "fuzz", "contacts": [contact]}),
        )["id"]
            .as_str()
            .unwrap()
            .to_string();
        c.json(
            "POST",
            &format!("/api/incidents/{id}/actions"),
            &json!({"action": "assign_asset", "asset": {"mmsi": ASSIGNED, "name": "RESCUE 1"}}),
        );
        id
    };
    let incident = RefCell::new(new_incident(&mut client));
    let client = RefCell::new(client);
    let tally = RefCell::new(Tally::new());

    harness::fuzz(
        "sar_bodies_end_to_end",
        300,
        prop::collection::vec(op(), 1..5),
        |ops| {
            let mut c = client.borrow_mut();
            let i = incident.borrow().clone();
            for o in &ops {
                run(&mut c, o, &contact, &i, &mut tally.borrow_mut())?;
            }
            // The incident stays readable; a long log starts a new one so
            // that cases stay quick.
            let path = format!("/api/incidents/{i}");
            let (status, _, out) = c.send("GET", &path, b"");
            prop_assert_eq!(status, 200, "{}", String::from_utf8_lossy(&out));
            let v: Value =
                serde_json::from_slice(&out).map_err(|e| TestCaseError::fail(e.to_string()))?;
            if v["version"].as_u64().unwrap_or(0) > 100 {
                *incident.borrow_mut() = new_incident(&mut c);
            }
            Ok(())
        },
    );

    for (route, (ok, refused)) in tally.borrow().iter() {
        eprintln!("fuzz sar_bodies_end_to_end: {route}: {ok} accepted, {refused} refused");
    }

    // Everything accepted loads back after a restart.
    let before = inventory(&mut client.borrow_mut());
    drop(client);
    live.stop();
    let live = start(&state, &recording);
    let mut client = Client::new(&live.addr);
    let after = inventory(&mut client);
    assert_eq!(before, after, "contacts and incidents after a restart");
    for (id, _) in &after {
        let kind = if id.starts_with("i-") {
            "incidents"
        } else {
            "contacts"
        };
        let (status, _, out) = client.send("GET", &format!("/api/{kind}/{id}"), b"");
        assert_eq!(status, 200, "{id}: {}", String::from_utf8_lossy(&out));
        if kind == "incidents" {
            for sub in ["sitrep", "coverage", "patterns"] {
                let (status, _, out) =
                    client.send("GET", &format!("/api/incidents/{id}/{sub}"), b"");
                assert!(
                    status < 500,
                    "{id}/{sub}: HTTP {status}: {}",
                    String::from_utf8_lossy(&out)
                );
            }
        }
    }
    eprintln!(
        "fuzz sar_bodies_end_to_end: {} contacts and incidents survived a restart",
        after.len()
    );
    live.stop();
}
