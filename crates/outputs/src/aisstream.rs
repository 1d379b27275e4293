//! The aisstream.io-compatible feed (`/v0/stream`): every AIS message
//! Lookout decodes, in the JSON shape of aisstream.io's WebSocket API
//! (`{"MessageType", "MetaData", "Message": {<type>: {...}}}`, field names
//! from aisstream's published `type-definition.yaml`), fanned out to
//! subscribed sessions, each with its own filter (bounding boxes, MMSIs,
//! message types) and its own bounded queue.
//!
//! ```text
//! OutputSet::send ─▶ AisStream::send ─▶ decode payload again (lookout_ais)
//!                                     ─▶ map to aisstream JSON (once, when a session wants it)
//!                                     ─▶ Session queue (bounded; full: dropped and counted)
//! ```
//!
//! The WebSocket itself (subscription message, API key, timeouts) is
//! served by `crates/server/src/aisstream.rs`; this module knows nothing of
//! HTTP. [`AisStream::on_active`] tells the server when the first session
//! opens and the last one closes, so the engine keeps payloads (relay) only
//! while someone listens.
//!
//! Mapped types: 1–3 `PositionReport`, 4 `BaseStationReport`, 5
//! `ShipStaticData`, 9 `StandardSearchAndRescueAircraftReport`, 14
//! `SafetyBroadcastMessage`, 18 `StandardClassBPositionReport`, 19
//! `ExtendedClassBPositionReport`, 21 `AidsToNavigationReport`, 24
//! `StaticDataReport`. Any other type is not sent. "Not available" values
//! go out as the raw values aisstream sends (latitude 91, longitude 181,
//! speed 102.3, course 360, heading 511, rate of turn -128, …).

use crate::nmea_tcp::Counters;
use crate::set::OutputStats;
use crate::Output;
use engine::{Relayed, RelayedAis};
use lookout_ais::bits::BitBuf;
use lookout_ais::messages::{decode_message, Body, Dimensions, StaticDataReport, TimeStamp, Turn};
use lookout_ais::AisMessage;
use serde_json::{json, Map, Value};
use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Sessions open at once; beyond, a new one is refused (counted).
pub const MAX_SESSIONS: usize = 256;
/// Messages waiting for one session's socket; beyond, dropped (counted).
pub const SESSION_QUEUE: usize = 4096;
/// MMSIs in one `FiltersShipMMSI`.
pub const MAX_MMSI_FILTER: usize = 1000;
/// Boxes in one `BoundingBoxes`.
pub const MAX_BOXES: usize = 100;

/// aisstream's message type names (its `AisMessageTypes`), all accepted in
/// `FilterMessageTypes`; only [`MAPPED`] ones are ever sent.
pub const TYPE_NAMES: [&str; 25] = [
    "PositionReport",
    "UnknownMessage",
    "AddressedSafetyMessage",
    "AddressedBinaryMessage",
    "AidsToNavigationReport",
    "AssignedModeCommand",
    "BaseStationReport",
    "BinaryAcknowledge",
    "BinaryBroadcastMessage",
    "ChannelManagement",
    "CoordinatedUTCInquiry",
    "DataLinkManagementMessage",
    "DataLinkManagementMessageData",
    "ExtendedClassBPositionReport",
    "GroupAssignmentCommand",
    "GnssBroadcastBinaryMessage",
    "Interrogation",
    "LongRangeAisBroadcastMessage",
    "MultiSlotBinaryMessage",
    "SafetyBroadcastMessage",
    "ShipStaticData",
    "SingleSlotBinaryMessage",
    "StandardClassBPositionReport",
    "StandardSearchAndRescueAircraftReport",
    "StaticDataReport",
];

/// The types this feed sends.
pub const MAPPED: [&str; 9] = [
    "PositionReport",
    "BaseStationReport",
    "ShipStaticData",
    "StandardSearchAndRescueAircraftReport",
    "SafetyBroadcastMessage",
    "StandardClassBPositionReport",
    "ExtendedClassBPositionReport",
    "AidsToNavigationReport",
    "StaticDataReport",
];

/// aisstream's error texts (`{"error": …}`, then the socket closes).
pub const ERR_API_KEY: &str = "Api Key Is Not Valid";
pub const ERR_MALFORMED: &str = "Subscription Object Is Malformed";

/// One session's filter (aisstream's subscription message without the key).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Subscription {
    /// (south, west, north, east), degrees.
    pub boxes: Vec<[f64; 4]>,
    /// None: every MMSI.
    pub mmsi: Option<HashSet<u32>>,
    /// Bit i: [`TYPE_NAMES`]\[i\]; None: every type.
    pub types: Option<u32>,
}

/// Read a subscription message: its API key and filter. Keys are matched
/// without regard to case (`APIKey` and `Apikey` both work, as with
/// aisstream's Go decoder).
pub fn parse_subscription(text: &str) -> Result<(String, Subscription), &'static str> {
    let v: Value = serde_json::from_str(text).map_err(|_| ERR_MALFORMED)?;
    let obj = v.as_object().ok_or(ERR_MALFORMED)?;
    let get = |name: &str| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    let key = get("APIKey")
        .and_then(Value::as_str)
        .ok_or(ERR_API_KEY)?
        .to_string();
    let boxes_v = get("BoundingBoxes")
        .and_then(Value::as_array)
        .ok_or(ERR_MALFORMED)?;
    if boxes_v.is_empty() || boxes_v.len() > MAX_BOXES {
        return Err(ERR_MALFORMED);
    }
    let mut boxes = Vec::with_capacity(boxes_v.len());
    for b in boxes_v {
        let corners = b.as_array().ok_or(ERR_MALFORMED)?;
        if corners.len() != 2 {
            return Err(ERR_MALFORMED);
        }
        let mut c = [[0.0f64; 2]; 2];
        for (i, corner) in corners.iter().enumerate() {
            let p = corner.as_array().ok_or(ERR_MALFORMED)?;
            if p.len() != 2 {
                return Err(ERR_MALFORMED);
            }
            for (j, x) in p.iter().enumerate() {
                c[i][j] = x.as_f64().filter(|x| x.is_finite()).ok_or(ERR_MALFORMED)?;
            }
        }
        let [[lat1, lon1], [lat2, lon2]] = c;
        boxes.push([
            lat1.min(lat2),
            lon1.min(lon2),
            lat1.max(lat2),
            lon1.max(lon2),
        ]);
    }
    let mmsi = match get("FiltersShipMMSI") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) if a.len() <= MAX_MMSI_FILTER => {
            let mut set = HashSet::with_capacity(a.len());
            for m in a {
                let n = match m {
                    Value::String(s) => s.trim().parse::<u32>().ok(),
                    Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
                    _ => None,
                };
                set.insert(n.ok_or(ERR_MALFORMED)?);
            }
            (!set.is_empty()).then_some(set)
        }
        Some(_) => return Err(ERR_MALFORMED),
    };
    let types = match get("FilterMessageTypes") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => {
            let mut bits = 0u32;
            for t in a {
                let name = t.as_str().ok_or(ERR_MALFORMED)?;
                let i = TYPE_NAMES
                    .iter()
                    .position(|n| *n == name)
                    .ok_or(ERR_MALFORMED)?;
                bits |= 1 << i;
            }
            (!a.is_empty()).then_some(bits)
        }
        Some(_) => return Err(ERR_MALFORMED),
    };
    Ok((key, Subscription { boxes, mmsi, types }))
}

impl Subscription {
    /// Does a message of `type_bit` from `mmsi` at `pos` pass?
    pub fn matches(&self, type_bit: u32, mmsi: u32, pos: Option<(f64, f64)>) -> bool {
        if self.types.is_some_and(|t| t & type_bit == 0) {
            return false;
        }
        if self.mmsi.as_ref().is_some_and(|m| !m.contains(&mmsi)) {
            return false;
        }
        let Some((lat, lon)) = pos else {
            return false;
        };
        self.boxes
            .iter()
            .any(|b| lat >= b[0] && lat <= b[2] && lon >= b[1] && lon <= b[3])
    }
}

struct SessionShared {
    id: u64,
    filter: Mutex<Arc<Subscription>>,
    tx: mpsc::Sender<Arc<str>>,
    dropped: AtomicU64,
}

type OnActive = Box<dyn Fn(bool) + Send + Sync>;

struct Inner {
    sessions: Mutex<Vec<Arc<SessionShared>>>,
    next_id: AtomicU64,
    clients: AtomicI64,
    on_active: Mutex<Option<OnActive>>,
    counters: Counters,
}

/// The feed: sessions and their filters (cheap to clone).
#[derive(Clone)]
pub struct AisStream {
    inner: Arc<Inner>,
}

impl Default for AisStream {
    fn default() -> Self {
        Self::new()
    }
}

/// One subscribed client: its queue and filter. Dropping it closes it.
pub struct Session {
    shared: Arc<SessionShared>,
    rx: mpsc::Receiver<Arc<str>>,
    stream: AisStream,
}

impl Session {
    /// The next message for this client (JSON text).
    pub async fn recv(&mut self) -> Option<Arc<str>> {
        self.rx.recv().await
    }
    /// Replace the filter (a subscription sent again).
    pub fn set_filter(&self, sub: Subscription) {
        *self.shared.filter.lock().unwrap_or_else(|p| p.into_inner()) = Arc::new(sub);
    }
    /// Messages dropped because this client's queue was full.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let inner = &self.stream.inner;
        let mut s = inner.sessions.lock().unwrap_or_else(|p| p.into_inner());
        s.retain(|x| x.id != self.shared.id);
        inner.clients.store(s.len() as i64, Ordering::Relaxed);
        if s.is_empty() {
            if let Some(f) = &*inner.on_active.lock().unwrap_or_else(|p| p.into_inner()) {
                f(false);
            }
        }
    }
}

impl AisStream {
    pub fn new() -> Self {
        AisStream {
            inner: Arc::new(Inner {
                sessions: Mutex::new(Vec::new()),
                next_id: AtomicU64::new(1),
                clients: AtomicI64::new(0),
                on_active: Mutex::new(None),
                counters: Counters::default(),
            }),
        }
    }

    /// Call `f(true)` when the first session opens, `f(false)` when the
    /// last closes (with the session list locked: calls are in order).
    pub fn on_active(&self, f: impl Fn(bool) + Send + Sync + 'static) {
        *self
            .inner
            .on_active
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(Box::new(f));
    }

    /// Is any session open?
    pub fn active(&self) -> bool {
        self.inner.clients.load(Ordering::Relaxed) > 0
    }

    /// Open a session with `sub` (None beyond [`MAX_SESSIONS`], counted).
    pub fn open(&self, sub: Subscription) -> Option<Session> {
        let inner = &self.inner;
        let mut s = inner.sessions.lock().unwrap_or_else(|p| p.into_inner());
        if s.len() >= MAX_SESSIONS {
            inner.counters.refused.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let (tx, rx) = mpsc::channel(SESSION_QUEUE);
        let shared = Arc::new(SessionShared {
            id: inner.next_id.fetch_add(1, Ordering::Relaxed),
            filter: Mutex::new(Arc::new(sub)),
            tx,
            dropped: AtomicU64::new(0),
        });
        s.push(shared.clone());
        inner.clients.store(s.len() as i64, Ordering::Relaxed);
        if s.len() == 1 {
            if let Some(f) = &*inner.on_active.lock().unwrap_or_else(|p| p.into_inner()) {
                f(true);
            }
        }
        Some(Session {
            shared,
            rx,
            stream: self.clone(),
        })
    }

    fn send_one(&self, m: &RelayedAis, sessions: &[(Arc<SessionShared>, Arc<Subscription>)]) {
        let c = &self.inner.counters;
        let mut bits = BitBuf::new();
        if bits.push_armored(&m.payload.armored).is_err() {
            c.errors.fetch_add(1, Ordering::Relaxed);
            return;
        }
        bits.finish(m.payload.fill_bits);
        let Ok(msg) = decode_message(&bits) else {
            c.errors.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let Some(name) = type_name(&msg) else {
            c.filtered.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let bit = 1u32 << TYPE_NAMES.iter().position(|n| *n == name).unwrap_or(0);
        // Where the sender is: the message's own position when it carries
        // one, else the picture's (static reports follow their sender).
        let pos = msg.position().or(m.position);
        let mut text: Option<Arc<str>> = None;
        for (s, f) in sessions {
            if !f.matches(bit, msg.mmsi, pos) {
                c.filtered.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let t = text
                .get_or_insert_with(|| to_json(name, &msg, m, pos).to_string().into())
                .clone();
            let len = t.len() as u64;
            if s.tx.try_send(t).is_ok() {
                c.messages.fetch_add(1, Ordering::Relaxed);
                c.bytes.fetch_add(len, Ordering::Relaxed);
            } else {
                s.dropped.fetch_add(1, Ordering::Relaxed);
                c.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

impl Output for AisStream {
    fn send(&self, items: &[Relayed]) {
        // The filters as they are now, without holding the list while
        // decoding.
        let sessions: Vec<(Arc<SessionShared>, Arc<Subscription>)> = {
            let s = self
                .inner
                .sessions
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if s.is_empty() {
                return;
            }
            s.iter()
                .map(|x| {
                    let f = x.filter.lock().unwrap_or_else(|p| p.into_inner()).clone();
                    (x.clone(), f)
                })
                .collect()
        };
        for item in items {
            if let Relayed::Ais(m) = item {
                self.send_one(m, &sessions);
            }
        }
    }

    fn stats(&self) -> OutputStats {
        OutputStats::new(
            "aisstream",
            "aisstream",
            &self.inner.counters,
            self.inner.clients.load(Ordering::Relaxed),
        )
    }

    /// Only while a session is open.
    fn wants_relay(&self) -> bool {
        self.active()
    }

    fn shutdown(&self) {}
}

/// aisstream's `MessageType` for a message (None: not mapped).
pub fn type_name(m: &AisMessage) -> Option<&'static str> {
    Some(match &m.body {
        Body::Position(_) => "PositionReport",
        Body::BaseStation(_) if m.msg_type == 4 => "BaseStationReport",
        Body::StaticVoyage(_) => "ShipStaticData",
        Body::SarAircraft(_) => "StandardSearchAndRescueAircraftReport",
        Body::SafetyBroadcast { .. } => "SafetyBroadcastMessage",
        Body::ClassBPosition(_) => "StandardClassBPositionReport",
        Body::ClassBExtended(_) => "ExtendedClassBPositionReport",
        Body::AidToNavigation(_) => "AidsToNavigationReport",
        Body::StaticData(_) => "StaticDataReport",
        _ => return None,
    })
}

fn lat(v: Option<f64>) -> f64 {
    v.unwrap_or(91.0)
}
fn lon(v: Option<f64>) -> f64 {
    v.unwrap_or(181.0)
}
fn cog(v: Option<f64>) -> f64 {
    v.unwrap_or(360.0)
}
fn heading(v: Option<u16>) -> u16 {
    v.unwrap_or(511)
}
fn second(v: Option<TimeStamp>) -> u8 {
    v.map_or(60, TimeStamp::raw)
}
fn rot(v: Option<Turn>) -> i64 {
    match v {
        None => -128,
        Some(Turn::FastLeft) => -127,
        Some(Turn::FastRight) => 127,
        Some(Turn::Rate(r)) => {
            let raw = (4.733 * r.abs().sqrt()).round() as i64;
            if r < 0.0 {
                -raw
            } else {
                raw
            }
        }
    }
}
fn dim(d: &Dimensions) -> Value {
    json!({"A": d.to_bow, "B": d.to_stern, "C": d.to_port, "D": d.to_starboard})
}

/// The `Message.<type>` object, in aisstream's field names.
fn body(m: &AisMessage) -> Value {
    let mut v = match &m.body {
        Body::Position(p) => json!({
            "NavigationalStatus": p.status, "RateOfTurn": rot(p.turn),
            "Sog": p.speed.unwrap_or(102.3), "PositionAccuracy": p.accuracy,
            "Longitude": lon(p.lon), "Latitude": lat(p.lat), "Cog": cog(p.course),
            "TrueHeading": heading(p.heading), "Timestamp": second(p.second),
            "SpecialManoeuvreIndicator": p.maneuver, "Spare": 0, "Raim": p.raim,
            "CommunicationState": p.radio,
        }),
        Body::BaseStation(b) => json!({
            "UtcYear": b.time.year.unwrap_or(0), "UtcMonth": b.time.month.unwrap_or(0),
            "UtcDay": b.time.day.unwrap_or(0), "UtcHour": b.time.hour.unwrap_or(24),
            "UtcMinute": b.time.minute.unwrap_or(60), "UtcSecond": b.time.second.unwrap_or(60),
            "PositionAccuracy": b.accuracy, "Longitude": lon(b.lon), "Latitude": lat(b.lat),
            "FixType": b.epfd, "LongRangeEnable": false, "Spare": 0, "Raim": b.raim,
            "CommunicationState": b.radio,
        }),
        Body::StaticVoyage(s) => json!({
            "AisVersion": s.ais_version, "ImoNumber": s.imo.unwrap_or(0),
            "CallSign": s.callsign, "Name": s.shipname, "Type": s.shiptype.unwrap_or(0),
            "Dimension": dim(&s.dimensions), "FixType": s.epfd,
            "Eta": {"Month": s.eta.month.unwrap_or(0), "Day": s.eta.day.unwrap_or(0),
                    "Hour": s.eta.hour.unwrap_or(24), "Minute": s.eta.minute.unwrap_or(60)},
            "MaximumStaticDraught": s.draught.unwrap_or(0.0), "Destination": s.destination,
            "Dte": s.dte, "Spare": false,
        }),
        Body::SarAircraft(a) => json!({
            "Altitude": a.alt.unwrap_or(4095), "Sog": a.speed.unwrap_or(1023) as f64,
            "PositionAccuracy": a.accuracy, "Longitude": lon(a.lon), "Latitude": lat(a.lat),
            "Cog": cog(a.course), "Timestamp": second(a.second), "AltFromBaro": false,
            "Spare1": a.regional, "Dte": a.dte, "Spare2": 0, "AssignedMode": a.assigned,
            "Raim": a.raim, "CommunicationStateIsItdma": false, "CommunicationState": a.radio,
        }),
        Body::SafetyBroadcast { text } => json!({"Spare": 0, "Text": text}),
        Body::ClassBPosition(b) => json!({
            "Spare1": b.reserved, "Sog": b.speed.unwrap_or(102.3),
            "PositionAccuracy": b.accuracy, "Longitude": lon(b.lon), "Latitude": lat(b.lat),
            "Cog": cog(b.course), "TrueHeading": heading(b.heading),
            "Timestamp": second(b.second), "Spare2": b.regional, "ClassBUnit": b.cs,
            "ClassBDisplay": b.display, "ClassBDsc": b.dsc, "ClassBBand": b.band,
            "ClassBMsg22": b.msg22, "AssignedMode": b.assigned, "Raim": b.raim,
            "CommunicationStateIsItdma": false, "CommunicationState": b.radio,
        }),
        Body::ClassBExtended(b) => json!({
            "Spare1": b.reserved, "Sog": b.speed.unwrap_or(102.3),
            "PositionAccuracy": b.accuracy, "Longitude": lon(b.lon), "Latitude": lat(b.lat),
            "Cog": cog(b.course), "TrueHeading": heading(b.heading),
            "Timestamp": second(b.second), "Spare2": b.regional, "Name": b.shipname,
            "Type": b.shiptype.unwrap_or(0), "Dimension": dim(&b.dimensions),
            "FixType": b.epfd, "Raim": b.raim, "Dte": b.dte, "AssignedMode": b.assigned,
            "Spare3": 0,
        }),
        Body::AidToNavigation(a) => {
            // Lookout joins the name and its extension; aisstream keeps
            // the 20-character name and the extension apart.
            let split = a
                .name
                .char_indices()
                .nth(20)
                .map_or(a.name.len(), |(i, _)| i);
            json!({
                "Type": a.aid_type, "Name": a.name[..split].trim_end(),
                "PositionAccuracy": a.accuracy, "Longitude": lon(a.lon), "Latitude": lat(a.lat),
                "Dimension": dim(&a.dimensions), "Fixtype": a.epfd,
                "Timestamp": second(a.second), "OffPosition": a.off_position,
                "AtoN": a.regional, "Raim": a.raim, "VirtualAtoN": a.virtual_aid,
                "AssignedMode": a.assigned, "Spare": false,
                "NameExtension": &a.name[split..],
            })
        }
        Body::StaticData(StaticDataReport::PartA { shipname }) => json!({
            "Reserved": 0, "PartNumber": false,
            "ReportA": {"Valid": true, "Name": shipname},
            "ReportB": {"Valid": false, "ShipType": 0, "VendorIDName": "", "VenderIDModel": 0,
                        "VenderIDSerial": 0, "CallSign": "", "Dimension": dim(&Dimensions::default()),
                        "FixType": 0, "Spare": 0},
        }),
        Body::StaticData(StaticDataReport::PartB(b)) => json!({
            "Reserved": 0, "PartNumber": true,
            "ReportA": {"Valid": false, "Name": ""},
            "ReportB": {"Valid": true, "ShipType": b.shiptype.unwrap_or(0),
                        "VendorIDName": b.vendorid.chars().take(3).collect::<String>().trim_end(),
                        "VenderIDModel": b.model, "VenderIDSerial": b.serial,
                        "CallSign": b.callsign, "Dimension": dim(&b.dimensions),
                        "FixType": 0, "Spare": 0},
        }),
        _ => Value::Object(Map::new()),
    };
    if let Value::Object(o) = &mut v {
        o.insert("MessageID".into(), m.msg_type.into());
        o.insert("RepeatIndicator".into(), m.repeat.into());
        o.insert("UserID".into(), m.mmsi.into());
        o.insert("Valid".into(), true.into());
    }
    v
}

/// The whole aisstream message.
pub fn to_json(name: &str, msg: &AisMessage, m: &RelayedAis, pos: Option<(f64, f64)>) -> Value {
    let (la, lo) = pos.unwrap_or((91.0, 181.0));
    let mut message = Map::new();
    message.insert(name.to_string(), body(msg));
    json!({
        "MessageType": name,
        "MetaData": {
            "MMSI": msg.mmsi,
            // A number on aisstream's wire too, despite its name.
            "MMSI_String": msg.mmsi,
            "ShipName": m.vessel.name.as_deref().unwrap_or(""),
            "latitude": la,
            "longitude": lo,
            "time_utc": time_utc(m.time_ms),
        },
        "Message": message,
    })
}

/// `2022-12-29 18:22:32.318 +0000 UTC` (Go's `time.Time.String`, as
/// aisstream writes it; milliseconds here).
pub fn time_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{milli:03} +0000 UTC",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_shapes() {
        let (k, s) = parse_subscription(
            r#"{"Apikey":"t","BoundingBoxes":[[[53,5],[52,4]]],"FiltersShipMMSI":["244660000"],"FilterMessageTypes":["PositionReport"]}"#,
        )
        .unwrap();
        assert_eq!(k, "t");
        assert_eq!(s.boxes, vec![[52.0, 4.0, 53.0, 5.0]]);
        assert!(s.matches(1, 244660000, Some((52.5, 4.5))));
        assert!(!s.matches(1, 244660000, Some((52.5, 5.5))));
        assert!(!s.matches(1, 1, Some((52.5, 4.5))));
        assert!(!s.matches(1 << 20, 244660000, Some((52.5, 4.5))));
        assert!(!s.matches(1, 244660000, None));
        assert_eq!(
            parse_subscription(r#"{"BoundingBoxes":[[[1,2],[3,4]]]}"#),
            Err(ERR_API_KEY)
        );
        for bad in [
            "x",
            r#"{"APIKey":"k"}"#,
            r#"{"APIKey":"k","BoundingBoxes":[[1,2]]}"#,
            r#"{"APIKey":"k","BoundingBoxes":[[[1,2],[3,4]]],"FilterMessageTypes":["Nope"]}"#,
        ] {
            assert_eq!(parse_subscription(bad), Err(ERR_MALFORMED), "{bad}");
        }
    }

    fn decode(armored: &str) -> AisMessage {
        let mut b = BitBuf::new();
        b.push_armored(armored.as_bytes()).unwrap();
        b.finish(0);
        decode_message(&b).unwrap()
    }

    #[test]
    fn static_data_safety_and_sar_aircraft_bodies() {
        let a = decode("H3KLehQ=DtddT00000000000000");
        assert_eq!(type_name(&a), Some("StaticDataReport"));
        let v = body(&a);
        assert_eq!(v["PartNumber"], json!(false));
        assert_eq!(v["ReportA"]["Valid"], json!(true));
        assert!(!v["ReportA"]["Name"].as_str().unwrap().is_empty(), "{v}");
        assert_eq!(v["MessageID"], json!(24));
        let b = body(&decode("H39k:bTTC=D70iM47Ponkq106220"));
        assert_eq!(b["PartNumber"], json!(true));
        assert_eq!(b["ReportB"]["Valid"], json!(true));
        for k in [
            "ShipType",
            "VendorIDName",
            "VenderIDModel",
            "VenderIDSerial",
            "CallSign",
            "Dimension",
        ] {
            assert!(b["ReportB"].get(k).is_some(), "{k}: {b}");
        }
        let safety = AisMessage {
            msg_type: 14,
            repeat: 0,
            mmsi: 970010000,
            body: Body::SafetyBroadcast {
                text: "SART ACTIVE".into(),
            },
        };
        assert_eq!(type_name(&safety), Some("SafetyBroadcastMessage"));
        assert_eq!(body(&safety)["Text"], json!("SART ACTIVE"));
        let sar = AisMessage {
            msg_type: 9,
            repeat: 0,
            mmsi: 111247001,
            body: Body::SarAircraft(lookout_ais::messages::SarAircraftReport {
                alt: Some(300),
                speed: None,
                accuracy: true,
                lon: Some(12.5),
                lat: None,
                course: Some(90.0),
                second: Some(TimeStamp::Second(12)),
                regional: 0,
                dte: false,
                assigned: false,
                raim: false,
                radio: 0,
            }),
        };
        assert_eq!(
            type_name(&sar),
            Some("StandardSearchAndRescueAircraftReport")
        );
        let v = body(&sar);
        assert_eq!(
            (
                v["Altitude"].clone(),
                v["Sog"].clone(),
                v["Latitude"].clone(),
                v["Longitude"].clone()
            ),
            (json!(300), json!(1023.0), json!(91.0), json!(12.5))
        );
    }

    #[test]
    fn go_time_format() {
        assert_eq!(
            time_utc(1_672_338_152_318),
            "2022-12-29 18:22:32.318 +0000 UTC"
        );
        assert_eq!(time_utc(0), "1970-01-01 00:00:00.000 +0000 UTC");
    }

    #[test]
    fn rate_of_turn_round_trips_raw() {
        for raw in [-126i64, -20, -1, 0, 1, 5, 126] {
            let v = raw as f64 / 4.733;
            assert_eq!(rot(Some(Turn::Rate((v * v).copysign(raw as f64)))), raw);
        }
    }
}
