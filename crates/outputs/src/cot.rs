//! The Cursor-on-Target picture output (`type = "cot"`): every vessel as a
//! CoT track on a TAK server (TCP, TLS with a client certificate, or UDP),
//! and the SAR book's open contacts and incidents as markers, so ATAK and
//! WinTAK users see the AIS picture beside their own units. Alerts go to
//! TAK through the alert sink (`crates/alert-sinks/src/cot.rs`); both use
//! the `cot` crate for escaping, times and the connection.
//!
//! ## Mapping
//!
//! | what | CoT `type` |
//! |---|---|
//! | class A/B, ship type 30 (fishing) | `a-n-S-X-F` |
//! | 31, 32, 52 (towing, tug) | `a-n-S-X-M-T` |
//! | 35 (military) | `a-n-S-C` |
//! | 36, 37 (sailing, pleasure) | `a-n-S-X-R` |
//! | 55 (law enforcement) | `a-n-S-X-L` |
//! | 60–69 (passenger) | `a-n-S-X-M-P` |
//! | 70–79 (cargo) | `a-n-S-X-M-C` |
//! | 80–89 (tanker) | `a-n-S-X-M-O` |
//! | any other or unknown ship type (51 SAR included) | `a-n-S-X` |
//! | SAR aircraft | `a-n-A-M-F` |
//! | aid to navigation | `a-n-G` |
//! | base station | `a-n-G-I` |
//! | AIS-SART, MOB, EPIRB-AIS, unknown class | `a-u-S` (the emergency itself is the alert sink's) |
//! | own asset (GNSS fix) | `a-f-S` |
//! | contact (`c-…`, active) | `a-u-S` |
//! | incident (open) | `b-m-p-s-m` (red spot marker) |
//! | contact closed, incident closed | `t-x-d-d` (delete) |
//! | search pattern planned for an incident | `b-m-r` (a route, one check point per waypoint; [`route_event`]) |
//!
//! Every event: `how="m-g"`, `uid` = prefix + `mmsi-<mmsi>`,
//! `contact-<id>` or `incident-<id>` (prefix default `lookout-<node>-`,
//! the `[bus] node` name, so stable across restarts and distinct per
//! deployment); `<point>` with `ce` 10 m for AIS and GNSS fixes (a
//! contact's uncertainty, an incident's search radius), `le` unknown,
//! `hae` the altitude of a SAR aircraft. `<detail>`: `<contact
//! callsign>` (name, else MMSI), `<track course speed>` (degrees true, m/s)
//! when both are known, `<__ais mmsi name callsign shiptype shiptype_text
//! class sog_kn cog heading time>` (the message time), `<remarks>`.
//!
//! ## Time
//! `time` = `start` = the wall clock when the event is written, `stale` =
//! that + `stale_s` minus the time the report waited here, so a TAK client
//! never receives an event stamped in the past or already stale; a report
//! that waited longer than `stale_s` (the server unreachable) is dropped
//! and counted. The message time stays in `<__ais time>`. In a replay
//! (`serve --replay`, the demo), `replay = "wallclock"` (default) does the
//! same and flags every event as a simulation (`opex="s-lookout-replay"`,
//! `<__lookout replay="true"/>`, remarks starting `REPLAY`); `"skip"` sends
//! nothing.
//!
//! ## Rate, queue, connection
//! At most one event per vessel per `min_interval_s` of wall-clock time
//! (the rate TAK clients and the network see, whatever the replay speed);
//! the latest report in between is sent when the interval is over, the
//! others are folded into it (counted as `filtered`). Reports wait in a
//! bounded queue (`queue`): when full they are dropped and counted. The
//! sender task folds what it takes from the queue per vessel, so while the
//! server is away each vessel waits as one latest report. TCP and TLS
//! reconnect with exponential backoff; UDP sends one datagram per event.
//! Contacts and incidents are polled from the SAR book every
//! `min_interval_s` (a `MarkerSource` the server sets): an event goes out
//! when one changes, and again every `stale_s / 2` so it never goes stale
//! while open; a delete when it closes.

use crate::config::{CotOutputConfig, CotTransport, ReplayPolicy};
use crate::filter::Filter;
use crate::nmea_tcp::Counters;
use crate::OutputStats;
use cot::{esc, Backoff, Conn, TlsFiles, TlsSettings, UNKNOWN_ERROR};
use engine::{Relayed, VesselFacts};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// Knots to metres per second.
const KN_MS: f64 = 1852.0 / 3600.0;
/// Circular error of an AIS or GNSS position, metres.
const CE_FIX_M: f64 = 10.0;

/// A contact or incident for the map.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    /// After the uid prefix: `contact-c-000042`, `incident-i-000007`.
    pub key: String,
    pub kind: MarkerKind,
    pub title: String,
    pub status: String,
    pub lat: f64,
    pub lon: f64,
    /// Circular error, metres.
    pub ce_m: f64,
    pub course_deg: Option<f64>,
    pub speed_kn: Option<f64>,
    /// Time of the position (sighting, search area), ms.
    pub time_ms: i64,
    /// Changes with every change of the contact or incident.
    pub version: u64,
}

/// What a [`Marker`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerKind {
    Contact,
    Incident,
}

/// The open contacts and incidents now (called from the output's task
/// every `min_interval_s`; keep it quick).
pub type MarkerSource = Arc<dyn Fn() -> Vec<Marker> + Send + Sync>;

/// Markers from the SAR API's JSON (`GET /api/contacts?status=active` and
/// `GET /api/incidents?status=open` bodies): a contact at its latest
/// sighting; an incident at its latest search area's datum, else at its
/// first linked contact with a position, else not at all.
pub fn markers_from_sar_json(
    contacts: &serde_json::Value,
    incidents: &serde_json::Value,
) -> Vec<Marker> {
    let empty = Vec::new();
    let list = |v: &serde_json::Value| v.as_array().unwrap_or(&empty).clone();
    let f = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_f64());
    let s = |v: &serde_json::Value, k: &str| {
        v.get(k)
            .and_then(|x| x.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let mut out = Vec::new();
    let mut at: HashMap<String, (f64, f64, f64)> = HashMap::new();
    for c in list(contacts) {
        let (Some(lat), Some(lon)) = (f(&c, "lat"), f(&c, "lon")) else {
            continue;
        };
        let id = s(&c, "id");
        let ce = f(&c, "uncertainty_m").unwrap_or(UNKNOWN_ERROR);
        at.insert(id.clone(), (lat, lon, ce));
        out.push(Marker {
            key: format!("contact-{id}"),
            kind: MarkerKind::Contact,
            title: s(&c, "description"),
            status: s(&c, "status"),
            lat,
            lon,
            ce_m: ce,
            course_deg: f(&c, "course_deg"),
            speed_kn: f(&c, "speed_kn"),
            time_ms: c.get("time_ms").and_then(|x| x.as_i64()).unwrap_or(0),
            version: c.get("version").and_then(|x| x.as_u64()).unwrap_or(0),
        });
    }
    for i in list(incidents) {
        let area = i
            .get("search_areas")
            .and_then(|a| a.as_array())
            .and_then(|a| a.last());
        let pos = area
            .and_then(|a| {
                let d = a.get("datum")?;
                Some((
                    f(d, "lat")?,
                    f(d, "lon")?,
                    f(a, "radius_nm").map_or(UNKNOWN_ERROR, |r| r * 1852.0),
                ))
            })
            .or_else(|| {
                i.get("contacts")?
                    .as_array()?
                    .iter()
                    .filter_map(|c| at.get(c.as_str()?))
                    .next()
                    .copied()
            });
        let Some((lat, lon, ce)) = pos else { continue };
        let id = s(&i, "id");
        out.push(Marker {
            key: format!("incident-{id}"),
            kind: MarkerKind::Incident,
            title: s(&i, "title"),
            status: s(&i, "status"),
            lat,
            lon,
            ce_m: ce,
            course_deg: None,
            speed_kn: None,
            time_ms: 0,
            version: i.get("version").and_then(|x| x.as_u64()).unwrap_or(0),
        });
    }
    out
}

/// One report of a vessel (or own asset), as the output keeps it.
#[derive(Debug, Clone)]
pub struct Track {
    pub mmsi: u32,
    pub class: &'static str,
    pub lat: f64,
    pub lon: f64,
    pub facts: VesselFacts,
    /// Message (or fix) time, ms.
    pub time_ms: i64,
    /// When the output was handed it.
    pub received: Instant,
}

impl Track {
    /// A relayed item as a track (None without a position).
    pub fn of(item: &Relayed) -> Option<Track> {
        match item {
            Relayed::Ais(m) => {
                let (lat, lon) = m.position?;
                Some(Track {
                    mmsi: m.mmsi,
                    class: m.class,
                    lat,
                    lon,
                    facts: (*m.vessel).clone(),
                    time_ms: m.time_ms,
                    received: Instant::now(),
                })
            }
            Relayed::OwnFix(f) => Some(Track {
                mmsi: f.mmsi,
                class: "own_asset",
                lat: f.lat,
                lon: f.lon,
                facts: VesselFacts {
                    name: Some(f.name.clone()),
                    sog_kn: f.sog.map(|v| v as f32),
                    cog_deg: f.cog.map(|v| v as f32),
                    heading_deg: f.heading,
                    ..VesselFacts::default()
                },
                time_ms: f.time_ms,
                received: Instant::now(),
            }),
        }
    }
}

/// The CoT `type` of a station class and ship type (module table).
pub fn track_type(class: &str, ship_type: Option<u8>) -> &'static str {
    match class {
        "A" | "B" => match ship_type {
            Some(30) => "a-n-S-X-F",
            Some(31 | 32 | 52) => "a-n-S-X-M-T",
            Some(35) => "a-n-S-C",
            Some(36 | 37) => "a-n-S-X-R",
            Some(55) => "a-n-S-X-L",
            Some(60..=69) => "a-n-S-X-M-P",
            Some(70..=79) => "a-n-S-X-M-C",
            Some(80..=89) => "a-n-S-X-M-O",
            _ => "a-n-S-X",
        },
        "sar_aircraft" => "a-n-A-M-F",
        "aton" => "a-n-G",
        "base_station" => "a-n-G-I",
        "own_asset" => "a-f-S",
        _ => "a-u-S",
    }
}

/// What every event needs besides its subject.
#[derive(Debug, Clone)]
pub struct Stamp {
    /// Wall clock now, ms.
    pub now_ms: i64,
    /// `stale` = now + this, ms.
    pub stale_ms: i64,
    /// Flag as a replay (simulation).
    pub replay: bool,
}

fn open_event(x: &mut String, uid: &str, ty: &str, s: &Stamp) {
    let time = cot::time(s.now_ms);
    let stale = cot::time(s.now_ms.saturating_add(s.stale_ms.max(1)));
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>");
    x.push_str("<event version=\"2.0\" uid=\"");
    esc(x, uid);
    let _ = write!(
        x,
        "\" type=\"{ty}\" time=\"{time}\" start=\"{time}\" stale=\"{stale}\" how=\"m-g\""
    );
    if s.replay {
        x.push_str(" opex=\"s-lookout-replay\"");
    }
    x.push('>');
}

fn point(x: &mut String, lat: f64, lon: f64, hae: f64, ce: f64) {
    let ok = lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0;
    let (lat, lon, ce) = if ok {
        (lat, lon, ce)
    } else {
        (0.0, 0.0, UNKNOWN_ERROR)
    };
    let _ = write!(
        x,
        "<point lat=\"{lat:.6}\" lon=\"{lon:.6}\" hae=\"{hae:.1}\" ce=\"{ce:.1}\" le=\"{UNKNOWN_ERROR:.1}\"/>"
    );
}

fn close_event(x: &mut String, replay: bool) {
    if replay {
        x.push_str("<__lookout replay=\"true\"/>");
    }
    x.push_str("</detail></event>");
}

/// A vessel (or own asset) as a CoT event document.
pub fn track_event(t: &Track, uid_prefix: &str, s: &Stamp) -> String {
    let mut x = String::with_capacity(900);
    let f = &t.facts;
    let uid = format!("{uid_prefix}mmsi-{}", t.mmsi);
    open_event(&mut x, &uid, track_type(t.class, f.ship_type), s);
    let hae = match (t.class, f.altitude_m) {
        ("sar_aircraft", Some(a)) => f64::from(a),
        _ => 0.0,
    };
    point(&mut x, t.lat, t.lon, hae, CE_FIX_M);
    let callsign = match f.name.as_deref() {
        Some(n) if !n.trim().is_empty() => n.trim().to_string(),
        _ => t.mmsi.to_string(),
    };
    x.push_str("<detail><contact callsign=\"");
    esc(&mut x, &callsign);
    x.push_str("\"/>");
    let course = f.cog_deg.map(f64::from).or(f.heading_deg.map(f64::from));
    if let (Some(c), Some(sog)) = (course, f.sog_kn) {
        let _ = write!(
            x,
            "<track course=\"{:.1}\" speed=\"{:.2}\"/>",
            c,
            f64::from(sog) * KN_MS
        );
    }
    let _ = write!(x, "<__ais mmsi=\"{}\"", t.mmsi);
    for (k, v) in [("name", &f.name), ("callsign", &f.callsign)] {
        if let Some(v) = v {
            let _ = write!(x, " {k}=\"");
            esc(&mut x, v);
            x.push('"');
        }
    }
    if let Some(st) = f.ship_type {
        let _ = write!(x, " shiptype=\"{st}\" shiptype_text=\"");
        esc(&mut x, lookout_ais::json::shiptype_text(st));
        x.push('"');
    }
    let _ = write!(x, " class=\"{}\"", t.class);
    if let Some(v) = f.sog_kn {
        let _ = write!(x, " sog_kn=\"{v:.1}\"");
    }
    if let Some(v) = f.cog_deg {
        let _ = write!(x, " cog=\"{v:.1}\"");
    }
    if let Some(v) = f.heading_deg {
        let _ = write!(x, " heading=\"{v}\"");
    }
    let _ = write!(x, " time=\"{}\"/>", cot::time(t.time_ms));
    x.push_str("<remarks>");
    if s.replay {
        x.push_str("REPLAY ");
    }
    esc(&mut x, &callsign);
    let _ = write!(x, ", MMSI {}", t.mmsi);
    if let Some(st) = f.ship_type {
        x.push_str(", ");
        esc(&mut x, lookout_ais::json::shiptype_text(st));
    }
    if let Some(v) = f.sog_kn {
        let _ = write!(x, ", {v:.1} kn");
    }
    let _ = write!(x, ", reported {}</remarks>", cot::time(t.time_ms));
    close_event(&mut x, s.replay);
    x
}

/// A contact or incident as a CoT event document.
pub fn marker_event(m: &Marker, uid_prefix: &str, s: &Stamp) -> String {
    let mut x = String::with_capacity(700);
    let uid = format!("{uid_prefix}{}", m.key);
    let ty = match m.kind {
        MarkerKind::Contact => "a-u-S",
        MarkerKind::Incident => "b-m-p-s-m",
    };
    open_event(&mut x, &uid, ty, s);
    point(&mut x, m.lat, m.lon, 0.0, m.ce_m);
    x.push_str("<detail><contact callsign=\"");
    let id = m.key.split_once('-').map_or(m.key.as_str(), |(_, id)| id);
    esc(&mut x, &format!("{id} {}", m.title));
    x.push_str("\"/>");
    if let (Some(c), Some(v)) = (m.course_deg, m.speed_kn) {
        let _ = write!(x, "<track course=\"{c:.1}\" speed=\"{:.2}\"/>", v * KN_MS);
    }
    if m.kind == MarkerKind::Incident {
        let _ = write!(x, "<color argb=\"{}\"/>", 0xFFFF_0000u32 as i32);
    }
    x.push_str("<remarks>");
    if s.replay {
        x.push_str("REPLAY ");
    }
    esc(&mut x, &format!("{id} ({}): {}", m.status, m.title));
    x.push_str("</remarks><__sar id=\"");
    esc(&mut x, id);
    x.push_str("\" status=\"");
    esc(&mut x, &m.status);
    let _ = write!(x, "\" version=\"{}\"", m.version);
    if m.time_ms > 0 {
        let _ = write!(x, " time=\"{}\"", cot::time(m.time_ms));
    }
    x.push_str("/>");
    close_event(&mut x, s.replay);
    x
}

/// A search pattern as a TAK route (`b-m-r`): one check point per
/// waypoint (`<link>`, the first `b-m-p-w`, the others `b-m-p-c`, in
/// order), drawn as a route on ATAK/WinTAK maps and selectable for
/// navigation; uid = prefix + `route-<id>`, so a pattern sent again
/// replaces it.
pub fn route_event(r: &crate::route::Route, uid_prefix: &str, s: &Stamp) -> String {
    let mut x = String::with_capacity(600 + 160 * r.waypoints.len());
    let uid = format!("{uid_prefix}route-{}", r.id);
    open_event(&mut x, &uid, "b-m-r", s);
    let (lat, lon) = r.waypoints.first().map_or((0.0, 0.0), |w| (w.lat, w.lon));
    point(&mut x, lat, lon, 0.0, UNKNOWN_ERROR);
    x.push_str("<detail>");
    for (k, w) in r.waypoints.iter().enumerate() {
        x.push_str("<link uid=\"");
        esc(&mut x, &format!("{uid}.{}", w.name));
        x.push_str("\" callsign=\"");
        esc(&mut x, &w.name);
        let ty = if k == 0 { "b-m-p-w" } else { "b-m-p-c" };
        let _ = write!(
            x,
            "\" type=\"{ty}\" point=\"{:.6},{:.6}\" relation=\"c\"/>",
            w.lat, w.lon
        );
    }
    x.push_str("<link_attr color=\"-65536\" method=\"Watercraft\" direction=\"Infil\" routetype=\"Primary\" order=\"Ascending Check Points\" prefix=\"WP\" type=\"Vehicle\" stroke=\"3\"/>");
    x.push_str("<contact callsign=\"");
    esc(&mut x, &r.name);
    x.push_str("\"/><remarks>");
    if s.replay {
        x.push_str("REPLAY ");
    }
    esc(&mut x, &r.remarks);
    x.push_str("</remarks><__navcues/>");
    close_event(&mut x, s.replay);
    x
}

/// Remove a marker from TAK maps (`t-x-d-d`).
pub fn delete_event(uid: &str, ty: &str, s: &Stamp) -> String {
    let mut x = String::with_capacity(500);
    open_event(&mut x, &format!("{uid}.delete"), "t-x-d-d", s);
    point(&mut x, 0.0, 0.0, 0.0, UNKNOWN_ERROR);
    x.push_str("<detail><link uid=\"");
    esc(&mut x, uid);
    let _ = write!(x, "\" relation=\"none\" type=\"{ty}\"/><__forcedelete/>");
    close_event(&mut x, s.replay);
    x
}

/// Where the output runs: the deployment's node name and whether the
/// server replays.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// `[bus] node`; the default uid prefix is `lookout-<node>-`.
    pub node: String,
    /// `serve --replay` or the demo.
    pub replay: bool,
}

/// The default uid prefix of a node.
pub fn default_prefix(node: &str) -> String {
    let node: String = node
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if node.is_empty() {
        "lookout-".into()
    } else {
        format!("lookout-{node}-")
    }
}

/// The CoT output.
pub struct CotOutput {
    name: String,
    filter: Filter,
    /// Skip everything (a replay with `replay = "skip"`).
    silent: bool,
    tx: Mutex<Option<mpsc::Sender<Track>>>,
    stats: Arc<Counters>,
    connected: Arc<AtomicBool>,
    markers: Arc<Mutex<Option<MarkerSource>>>,
    /// Routes waiting to go out (at most [`MAX_ROUTES`]).
    routes: Arc<Mutex<std::collections::VecDeque<crate::route::Route>>>,
    uid_prefix: String,
    stop: watch::Sender<bool>,
}

/// Routes waiting for the TAK server at most; beyond, the oldest is dropped
/// (counted).
const MAX_ROUTES: usize = 64;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

struct Worker {
    cfg: CotOutputConfig,
    uid_prefix: String,
    replay: bool,
    tls: Option<TlsSettings>,
    stats: Arc<Counters>,
    connected: Arc<AtomicBool>,
    markers: Arc<Mutex<Option<MarkerSource>>>,
    routes: Arc<Mutex<std::collections::VecDeque<crate::route::Route>>>,
}

enum Link {
    Stream(Option<Conn>),
    Udp(Option<(UdpSocket, SocketAddr)>),
}

impl CotOutput {
    /// Read the TLS files and start the sender task.
    pub fn start(name: String, cfg: &CotOutputConfig, ctx: &Context) -> Result<CotOutput, String> {
        let tls = match (&cfg.tls, cfg.protocol) {
            (Some(t), CotTransport::Tls) => Some(TlsSettings::load(&TlsFiles {
                ca: t.ca.clone(),
                cert: t.cert.clone(),
                key: t.key.clone(),
                server_name: t.server_name.clone(),
            })?),
            _ => None,
        };
        let uid_prefix = cfg
            .uid_prefix
            .clone()
            .unwrap_or_else(|| default_prefix(&ctx.node));
        let stats = Arc::new(Counters::default());
        let connected = Arc::new(AtomicBool::new(false));
        let markers: Arc<Mutex<Option<MarkerSource>>> = Arc::default();
        let routes: Arc<Mutex<std::collections::VecDeque<crate::route::Route>>> = Arc::default();
        let (tx, rx) = mpsc::channel(cfg.queue);
        let (stop, stopped) = watch::channel(false);
        let w = Worker {
            cfg: cfg.clone(),
            uid_prefix: uid_prefix.clone(),
            replay: ctx.replay,
            tls,
            stats: stats.clone(),
            connected: connected.clone(),
            markers: markers.clone(),
            routes: routes.clone(),
        };
        let silent = ctx.replay && cfg.replay == ReplayPolicy::Skip;
        if !silent {
            tokio::spawn(w.run(rx, stopped, name.clone()));
        }
        tracing::info!(output = %name, address = %cfg.address, protocol = ?cfg.protocol, %uid_prefix, silent, "CoT output started");
        Ok(CotOutput {
            name,
            filter: Filter::new(&cfg.common),
            silent,
            tx: Mutex::new(Some(tx)),
            stats,
            connected,
            markers,
            routes,
            uid_prefix,
            stop,
        })
    }

    /// Every uid starts with this.
    pub fn uid_prefix(&self) -> &str {
        &self.uid_prefix
    }
}

impl crate::Output for CotOutput {
    fn send(&self, items: &[Relayed]) {
        if self.silent {
            self.stats
                .filtered
                .fetch_add(items.len() as u64, Ordering::Relaxed);
            return;
        }
        let tx = lock(&self.tx).clone();
        let Some(tx) = tx else { return };
        for item in items {
            let t = match Track::of(item) {
                Some(t) if self.filter.passes(item) => t,
                _ => {
                    self.stats.filtered.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            };
            if tx.try_send(t).is_err() {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn stats(&self) -> OutputStats {
        OutputStats::new(
            &self.name,
            "cot",
            &self.stats,
            i64::from(self.connected.load(Ordering::Relaxed)),
        )
    }

    fn set_markers(&self, source: MarkerSource) {
        *lock(&self.markers) = Some(source);
    }

    fn send_route(&self, route: &crate::route::Route) {
        if self.silent {
            return;
        }
        let mut q = lock(&self.routes);
        if q.len() >= MAX_ROUTES {
            q.pop_front();
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
        }
        q.push_back(route.clone());
    }

    fn shutdown(&self) {
        let _ = self.stop.send(true);
        lock(&self.tx).take();
    }
}

/// A marker as last sent.
struct SentMarker {
    version: u64,
    lat: f64,
    lon: f64,
    ty: &'static str,
    at: Instant,
}

impl Worker {
    fn stamp(&self, waited: Duration) -> Stamp {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        Stamp {
            now_ms,
            stale_ms: ((self.cfg.stale_s * 1000.0) as i64 - waited.as_millis() as i64).max(1),
            replay: self.replay,
        }
    }

    /// Connect (or open the UDP socket) when needed.
    async fn ensure_link(&self, link: &mut Link, name: &str) -> std::io::Result<()> {
        let timeout = Duration::from_millis(self.cfg.timeout_ms);
        match link {
            Link::Stream(conn) => {
                if conn.as_ref().is_some_and(|c| c.is_closed()) {
                    tracing::info!(output = %name, "TAK server closed the connection; reconnecting");
                    *conn = None;
                }
                if conn.is_none() {
                    let flag = self.connected.clone();
                    let c =
                        Conn::connect(&self.cfg.address, self.tls.as_ref(), timeout, move || {
                            flag.store(false, Ordering::Relaxed)
                        })
                        .await?;
                    tracing::info!(output = %name, address = %self.cfg.address, tls = self.tls.is_some(), "connected to the TAK server");
                    *conn = Some(c);
                    self.connected.store(true, Ordering::Relaxed);
                }
            }
            Link::Udp(sock) => {
                if sock.is_none() {
                    let to = cot::conn::resolve(&self.cfg.address).await?[0];
                    let bind: SocketAddr = if to.is_ipv4() {
                        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
                    } else {
                        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
                    };
                    *sock = Some((UdpSocket::bind(bind).await?, to));
                    self.connected.store(true, Ordering::Relaxed);
                }
            }
        }
        Ok(())
    }

    async fn write(&self, link: &mut Link, doc: &str) -> std::io::Result<()> {
        let timeout = Duration::from_millis(self.cfg.timeout_ms);
        let r = match link {
            Link::Stream(conn) => match conn.as_mut() {
                Some(c) => c.send(doc.as_bytes(), timeout).await,
                None => Err(std::io::Error::other("not connected")),
            },
            Link::Udp(sock) => match sock.as_ref() {
                Some((s, to)) => s.send_to(doc.as_bytes(), *to).await.map(|_| ()),
                None => Err(std::io::Error::other("no socket")),
            },
        };
        match &r {
            Ok(()) => {
                self.stats
                    .bytes
                    .fetch_add(doc.len() as u64 + 1, Ordering::Relaxed);
                self.stats.messages.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {
                self.stats.errors.fetch_add(1, Ordering::Relaxed);
                match link {
                    Link::Stream(c) => *c = None,
                    Link::Udp(s) => *s = None,
                }
                self.connected.store(false, Ordering::Relaxed);
            }
        }
        r
    }

    /// Marker documents due now (changed, due for a refresh, or closed).
    fn marker_docs(&self, sent: &mut HashMap<String, SentMarker>) -> Vec<(String, String)> {
        let source = lock(&self.markers).clone();
        let Some(source) = source else {
            return Vec::new();
        };
        let now = Instant::now();
        let refresh = Duration::from_secs_f64(self.cfg.stale_s / 2.0);
        let list = source();
        let mut docs = Vec::new();
        let keys: std::collections::HashSet<&str> = list.iter().map(|m| m.key.as_str()).collect();
        sent.retain(|key, s| {
            if keys.contains(key.as_str()) {
                return true;
            }
            let uid = format!("{}{key}", self.uid_prefix);
            docs.push((
                String::new(),
                delete_event(&uid, s.ty, &self.stamp(Duration::ZERO)),
            ));
            false
        });
        for m in &list {
            let changed = sent.get(&m.key).is_none_or(|s| {
                s.version != m.version
                    || s.lat != m.lat
                    || s.lon != m.lon
                    || now.duration_since(s.at) >= refresh
            });
            if changed {
                let doc = marker_event(m, &self.uid_prefix, &self.stamp(Duration::ZERO));
                docs.push((m.key.clone(), doc));
                sent.insert(
                    m.key.clone(),
                    SentMarker {
                        version: m.version,
                        lat: m.lat,
                        lon: m.lon,
                        ty: match m.kind {
                            MarkerKind::Contact => "a-u-S",
                            MarkerKind::Incident => "b-m-p-s-m",
                        },
                        at: now,
                    },
                );
            }
        }
        docs
    }

    async fn run(
        self,
        mut rx: mpsc::Receiver<Track>,
        mut stopped: watch::Receiver<bool>,
        name: String,
    ) {
        let interval = Duration::from_secs_f64(self.cfg.min_interval_s);
        let stale = Duration::from_secs_f64(self.cfg.stale_s);
        let mut link = match self.cfg.protocol {
            CotTransport::Udp => Link::Udp(None),
            _ => Link::Stream(None),
        };
        let mut backoff = Backoff::new(
            Duration::from_millis(self.cfg.retry_initial_ms),
            Duration::from_millis(self.cfg.retry_max_ms),
        );
        let mut retry_at: Option<Instant> = None;
        let mut failing = 0u64;
        let mut pending: HashMap<u32, Track> = HashMap::new();
        let mut last_sent: HashMap<u32, Instant> = HashMap::new();
        let mut markers_sent: HashMap<String, SentMarker> = HashMap::new();
        let mut next_markers = Instant::now();
        let mut next_cleanup = Instant::now() + stale;
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let absorb = |pending: &mut HashMap<u32, Track>, t: Track| {
            if pending.insert(t.mmsi, t).is_some() {
                // The older report is folded into this one (min_interval_s).
                self.stats.filtered.fetch_add(1, Ordering::Relaxed);
            }
        };
        loop {
            tokio::select! {
                biased;
                _ = stopped.changed() => break,
                t = rx.recv() => match t {
                    Some(t) => absorb(&mut pending, t),
                    None => break,
                },
                _ = tick.tick() => {}
            }
            while let Ok(t) = rx.try_recv() {
                absorb(&mut pending, t);
            }
            let now = Instant::now();
            if now >= next_cleanup {
                last_sent.retain(|_, at| now.duration_since(*at) < interval.max(stale));
                next_cleanup = now + stale;
            }
            if retry_at.is_some_and(|r| now < r) {
                continue;
            }
            retry_at = None;
            let due: Vec<u32> = pending
                .keys()
                .copied()
                .filter(|m| {
                    last_sent
                        .get(m)
                        .is_none_or(|at| now.duration_since(*at) >= interval)
                })
                .collect();
            let markers_due = now >= next_markers && lock(&self.markers).is_some();
            let routes_due = !lock(&self.routes).is_empty();
            if due.is_empty() && !markers_due && !routes_due {
                continue;
            }
            let r = async {
                if let Err(e) = self.ensure_link(&mut link, &name).await {
                    self.stats.errors.fetch_add(1, Ordering::Relaxed);
                    return Err(e);
                }
                for m in due {
                    let Some(t) = pending.remove(&m) else {
                        continue;
                    };
                    let waited = t.received.elapsed();
                    if waited >= stale {
                        // Would arrive stale: dropped.
                        self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    let doc = track_event(&t, &self.uid_prefix, &self.stamp(waited));
                    if let Err(e) = self.write(&mut link, &doc).await {
                        // Keep the report unless a newer one came.
                        pending.entry(m).or_insert(t);
                        return Err(e);
                    }
                    last_sent.insert(m, Instant::now());
                }
                loop {
                    let Some(route) = lock(&self.routes).pop_front() else {
                        break;
                    };
                    let doc = route_event(&route, &self.uid_prefix, &self.stamp(Duration::ZERO));
                    if let Err(e) = self.write(&mut link, &doc).await {
                        // Sent again once the link is back.
                        lock(&self.routes).push_front(route);
                        return Err(e);
                    }
                }
                if markers_due {
                    next_markers = Instant::now() + interval.max(Duration::from_millis(200));
                    for (key, doc) in self.marker_docs(&mut markers_sent) {
                        if let Err(e) = self.write(&mut link, &doc).await {
                            // Sent again at the next poll.
                            markers_sent.remove(&key);
                            return Err(e);
                        }
                    }
                }
                Ok::<(), std::io::Error>(())
            }
            .await;
            match r {
                Ok(()) => {
                    if failing > 0 {
                        tracing::info!(output = %name, failed_attempts = failing, "CoT output delivers again");
                        failing = 0;
                    }
                    backoff.reset();
                }
                Err(e) => {
                    if failing == 0 {
                        tracing::warn!(output = %name, address = %self.cfg.address, error = %e, "CoT output: TAK server unreachable; retrying with backoff");
                    }
                    failing += 1;
                    retry_at = Some(Instant::now() + backoff.next_delay());
                }
            }
        }
        if let Link::Stream(Some(c)) = &mut link {
            c.shutdown().await;
        }
        self.connected.store(false, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(class: &'static str, ship_type: Option<u8>) -> Track {
        Track {
            mmsi: 247_123_456,
            class,
            lat: 35.5,
            lon: 12.6,
            facts: VesselFacts {
                name: Some("NAVE <\"ROSSA\"> & CO".into()),
                callsign: Some("IABC".into()),
                ship_type,
                sog_kn: Some(10.0),
                cog_deg: Some(90.0),
                heading_deg: Some(91),
                altitude_m: None,
            },
            time_ms: 1_795_845_600_000,
            received: Instant::now(),
        }
    }

    #[test]
    fn types_follow_the_table() {
        assert_eq!(track_type("A", Some(70)), "a-n-S-X-M-C");
        assert_eq!(track_type("A", Some(84)), "a-n-S-X-M-O");
        assert_eq!(track_type("B", Some(37)), "a-n-S-X-R");
        assert_eq!(track_type("A", Some(30)), "a-n-S-X-F");
        assert_eq!(track_type("A", Some(51)), "a-n-S-X");
        assert_eq!(track_type("A", None), "a-n-S-X");
        assert_eq!(track_type("sar_aircraft", None), "a-n-A-M-F");
        assert_eq!(track_type("ais_sart", None), "a-u-S");
        assert_eq!(track_type("own_asset", None), "a-f-S");
        assert_eq!(track_type("aton", None), "a-n-G");
    }

    #[test]
    fn a_track_event_carries_identity_and_wall_time() {
        let s = Stamp {
            now_ms: 1_800_000_000_000,
            stale_ms: 300_000,
            replay: false,
        };
        let x = track_event(&track("A", Some(70)), "lookout-n1-", &s);
        assert!(x.contains("uid=\"lookout-n1-mmsi-247123456\""), "{x}");
        assert!(x.contains("time=\"2027-01-15T08:00:00.000Z\" start=\"2027-01-15T08:00:00.000Z\" stale=\"2027-01-15T08:05:00.000Z\""), "{x}");
        assert!(
            x.contains("callsign=\"NAVE &lt;&quot;ROSSA&quot;&gt; &amp; CO\""),
            "{x}"
        );
        assert!(x.contains("<track course=\"90.0\" speed=\"5.14\"/>"), "{x}");
        assert!(x.contains("time=\"2026-11-28T06:00:00.000Z\"/>"), "{x}");
        assert!(!x.contains("opex"));
        let x = track_event(&track("A", None), "p-", &Stamp { replay: true, ..s });
        assert!(x.contains("opex=\"s-lookout-replay\""), "{x}");
        assert!(x.contains("<remarks>REPLAY "), "{x}");
    }

    #[test]
    fn markers_from_the_sar_api() {
        let contacts = serde_json::json!([
            {"id": "c-000001", "description": "rubber boat", "status": "active",
             "lat": 35.0, "lon": 12.0, "uncertainty_m": 500.0, "course_deg": 10.0,
             "speed_kn": 2.0, "time_ms": 1, "version": 3}
        ]);
        let incidents = serde_json::json!([
            {"id": "i-000001", "title": "boat in distress", "status": "open",
             "contacts": ["c-000001"], "search_areas": [], "version": 2},
            {"id": "i-000002", "title": "nowhere", "status": "open", "contacts": []}
        ]);
        let m = markers_from_sar_json(&contacts, &incidents);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].key, "contact-c-000001");
        assert_eq!(m[1].key, "incident-i-000001");
        assert_eq!((m[1].lat, m[1].lon, m[1].ce_m), (35.0, 12.0, 500.0));
        let s = Stamp {
            now_ms: 0,
            stale_ms: 1,
            replay: false,
        };
        let x = marker_event(&m[1], "p-", &s);
        assert!(x.contains("type=\"b-m-p-s-m\""), "{x}");
        let d = delete_event("p-contact-c-000001", "a-u-S", &s);
        assert!(d.contains("uid=\"p-contact-c-000001.delete\""), "{d}");
    }

    #[test]
    fn default_prefixes() {
        assert_eq!(default_prefix("rcc-rome"), "lookout-rcc-rome-");
        assert_eq!(default_prefix(""), "lookout-");
        assert_eq!(default_prefix("a b\"c"), "lookout-a_b_c-");
    }
}
