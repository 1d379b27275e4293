//! Restart: the live picture comes back within seconds after a crash or a
//! `kill -9`, from a periodic snapshot plus the recorded archive.
//!
//! ```text
//! running:  every `interval_secs` ─▶ copy each vessel's last state (read lock)
//!           ─▶ JSON lines ─▶ temp file ─▶ fsync ─▶ rename over the snapshot ─▶ fsync dir
//! start:    snapshot ─▶ each vessel's last position and static data, as
//!           decoded messages, through Picture::apply (so the R-tree, zones
//!           and staleness are rebuilt as they would be live)
//!           ─▶ archive lines received after the snapshot (minus a margin),
//!           up to the start, through the normal pipeline (decoder ─▶
//!           picture ─▶ alert rules) ─▶ then the feeds go live
//! ```
//!
//! The snapshot file (`picture-snapshot.jsonl` in the state directory) is
//! one header line, `{"lookout_picture_snapshot":1,"taken_ms":…,
//! "picture_ms":…,"vessels":N}`, then one JSON object per vessel: MMSI,
//! class, first/last seen, own-ship flag, the last accepted position
//! (`pos`: lat, lon, time, accuracy), speed, course, heading, navigational
//! status, altitude, and the static and voyage data (`info`, as the
//! picture keeps it). Tracks are not in it: older track points come from
//! the archive (`GET /api/vessels/{mmsi}/track?from=`). A line that does not
//! parse is skipped and counted; a missing or unreadable snapshot means the
//! archive alone is replayed (at most `max_replay_secs`, by default the
//! picture's removal age, so nothing the picture would still hold is left
//! out).
//!
//! Alerts raised again while replaying were raised (and sent) by the run
//! that recorded those lines: the alert engine learns them, the sinks are
//! not sent them twice.
//!
//! **Checkpoints** (the cluster core, `roles/checkpoint.rs`) are the same
//! text with an `engine` object in the header line: the raw-stream
//! sequence the picture covers, the alert rules' clock and their whole
//! state (`alerts::AlertEngine::save_state`: open situations, timers,
//! every kept alert). [`restore_checkpoint`] rebuilds the picture from the
//! records with the rules left out, then loads the rules' state as saved,
//! so they continue as if the engine had never stopped.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use lookout_ais::messages::{
    AidToNavigation, BaseStationReport, Body, ClassBPosition, Dimensions, Eta, PositionReport,
    SarAircraftReport, StaticVoyage, UtcTime,
};
use lookout_ais::{AisMessage, Decoded};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use spatial_index::vessel::{Fix, StaticInfo, VesselClass, VesselFlags};
use spatial_index::Picture;

/// File name of the snapshot in the state directory.
pub const SNAPSHOT_FILE: &str = "picture-snapshot.jsonl";
/// Archive lines are replayed from this long before the snapshot was
/// taken: lines received just before it may still have been queued.
pub const REPLAY_MARGIN_MS: i64 = 30_000;
const FORMAT: u32 = 1;

/// `[snapshot]` in the configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotConfig {
    /// Seconds between snapshots (0 = none; the archive alone is replayed
    /// at start).
    #[serde(default = "default_interval")]
    pub interval_secs: u64,
    /// Replay at most this much of the archive at start (default 3600 s,
    /// the picture's removal age).
    #[serde(default = "default_max_replay")]
    pub max_replay_secs: u64,
    /// Restore at start (default true; only with live feeds and a recorder).
    #[serde(default = "default_true")]
    pub restore: bool,
}

fn default_interval() -> u64 {
    30
}
fn default_max_replay() -> u64 {
    3600
}
fn default_true() -> bool {
    true
}

impl Default for SnapshotConfig {
    fn default() -> Self {
        SnapshotConfig {
            interval_secs: default_interval(),
            max_replay_secs: default_max_replay(),
            restore: true,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    lookout_picture_snapshot: u32,
    /// Receive-clock time the snapshot was taken (archive `rt:` scale).
    taken_ms: i64,
    /// The picture's (message-time) clock then.
    picture_ms: Option<i64>,
    vessels: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    engine: Option<EngineState>,
}

/// What a checkpoint adds to a snapshot: the engine beyond the picture.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EngineState {
    /// The raw-stream sequence the picture covers: every message up to it
    /// applied, none after.
    pub stream_seq: u64,
    /// The alert rules' clock (message time).
    pub rules_ms: i64,
    /// The alert rules' state (`alerts::AlertEngine::save_state`).
    pub rules: Box<RawValue>,
}

impl PartialEq for EngineState {
    fn eq(&self, o: &Self) -> bool {
        (self.stream_seq, self.rules_ms, self.rules.get())
            == (o.stream_seq, o.rules_ms, o.rules.get())
    }
}

/// One vessel's last state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VesselRecord {
    pub mmsi: u32,
    pub class: VesselClass,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub own_ship: bool,
    pub pos: Option<Fix>,
    pub sog: Option<f32>,
    pub cog: Option<f32>,
    pub heading: Option<u16>,
    pub nav_status: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub altitude_m: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<StaticInfo>,
}

/// A loaded snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub taken_ms: i64,
    pub picture_ms: Option<i64>,
    pub vessels: Vec<VesselRecord>,
    /// Lines that did not parse (skipped).
    pub bad_lines: u64,
    /// The rules' state and stream position (checkpoints only).
    pub engine: Option<EngineState>,
}

/// Copy every vessel's last state out of the picture (the caller holds
/// its read lock for as long as the copy takes).
pub fn take(p: &Picture, taken_ms: i64) -> Snapshot {
    let vessels = p
        .vessels()
        .map(|v| VesselRecord {
            mmsi: v.mmsi,
            class: v.class,
            first_seen_ms: v.first_seen_ms,
            last_seen_ms: v.last_seen_ms,
            own_ship: v.flags.contains(VesselFlags::OWN_SHIP),
            pos: v.position,
            sog: v.sog_kn,
            cog: v.cog_deg,
            heading: v.heading_deg,
            nav_status: v.nav_status,
            altitude_m: v.altitude_m,
            info: v.info.as_deref().cloned(),
        })
        .collect();
    Snapshot {
        taken_ms,
        picture_ms: p.now_ms(),
        vessels,
        bad_lines: 0,
        engine: None,
    }
}

/// A checkpoint of `e` (call it under the engine's lock: it copies the
/// picture and serialises the rules' state, nothing else), covering the
/// raw stream up to `stream_seq`.
pub fn take_checkpoint(
    e: &engine::Engine,
    stream_seq: u64,
    taken_ms: i64,
) -> Result<Snapshot, String> {
    if e.pending_fragments() > 0 {
        return Err("a multi-sentence message is half received".into());
    }
    let mut s = take(e.picture(), taken_ms);
    let (rules, rules_ms) = e.rules_state()?;
    s.engine = Some(EngineState {
        stream_seq,
        rules_ms,
        rules: RawValue::from_string(rules).map_err(|e| e.to_string())?,
    });
    Ok(s)
}

/// Restore a checkpoint into an empty engine: the picture from its
/// records (the rules left out), its clock to the checkpoint's, then the
/// rules' state as saved. Open, unacknowledged alerts are queued again for
/// `take_alerts` (they were published before: the alert bucket refuses them
/// again; acknowledgements recorded since apply to them). Returns the
/// messages applied.
pub fn restore_checkpoint(e: &mut engine::Engine, s: &Snapshot) -> Result<usize, String> {
    let state = s.engine.as_ref().ok_or("a snapshot, not a checkpoint")?;
    // Read first: a state that does not parse leaves the engine untouched.
    let rules = alerts::AlertEngine::parse_state(state.rules.get())?;
    e.mute_rules(true);
    let n = restore(e, s);
    if let Some(t) = s.picture_ms {
        e.advance_to(t);
    }
    e.mute_rules(false);
    e.restore_rules(rules, state.rules_ms);
    Ok(n)
}

/// A snapshot (or checkpoint) as bytes: the file's text.
pub fn to_bytes(s: &Snapshot) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(64 + s.vessels.len() * 256);
    write_to(s, &mut out)?;
    Ok(out)
}

/// A snapshot (or checkpoint) from [`to_bytes`]' text.
pub fn from_bytes(b: &[u8], name: &str) -> Result<Snapshot, String> {
    read_from(b, name)
}

fn write_to(s: &Snapshot, out: &mut impl Write) -> std::io::Result<()> {
    let header = Header {
        lookout_picture_snapshot: FORMAT,
        taken_ms: s.taken_ms,
        picture_ms: s.picture_ms,
        vessels: s.vessels.len(),
        engine: s.engine.clone(),
    };
    serde_json::to_writer(&mut *out, &header)?;
    out.write_all(b"\n")?;
    for v in &s.vessels {
        serde_json::to_writer(&mut *out, v)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

fn read_from(r: impl BufRead, name: &str) -> Result<Snapshot, String> {
    let mut lines = r.lines();
    let header: Header = lines
        .next()
        .transpose()
        .map_err(|e| format!("{name}: {e}"))?
        .and_then(|l| serde_json::from_str(&l).ok())
        .ok_or_else(|| format!("{name}: not a picture snapshot"))?;
    if header.lookout_picture_snapshot != FORMAT {
        return Err(format!(
            "{name}: snapshot format {} (this Lookout reads {FORMAT})",
            header.lookout_picture_snapshot
        ));
    }
    let mut s = Snapshot {
        taken_ms: header.taken_ms,
        picture_ms: header.picture_ms,
        vessels: Vec::with_capacity(header.vessels.min(4_000_000)),
        bad_lines: 0,
        engine: header.engine,
    };
    for line in lines {
        match line
            .map_err(|e| e.to_string())
            .and_then(|l| serde_json::from_str::<VesselRecord>(&l).map_err(|e| e.to_string()))
        {
            Ok(v) => s.vessels.push(v),
            Err(_) => s.bad_lines += 1,
        }
    }
    Ok(s)
}

/// Write `s` to `path` atomically: a temporary file beside it, fsync,
/// rename over `path`, fsync the directory. A crash at any point leaves
/// either the old snapshot or the new one, never a mix.
pub fn write(s: &Snapshot, path: &Path) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension("jsonl.tmp");
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
    write_to(s, &mut out)?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Take (under the engine's read lock) and write (after releasing it) a
/// snapshot; logs failures (the server goes on).
pub fn save(state: &crate::state::LiveState, taken_ms: i64, path: &Path) -> bool {
    let started = std::time::Instant::now();
    let s = take(&state.picture(), taken_ms);
    write_logged(&s, path, started)
}

fn write_logged(s: &Snapshot, path: &Path, started: std::time::Instant) -> bool {
    match write(s, path) {
        Ok(()) => {
            tracing::debug!(vessels = s.vessels.len(), ms = started.elapsed().as_millis() as u64,
                path = %path.display(), "picture snapshot written");
            true
        }
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "cannot write the picture snapshot");
            false
        }
    }
}

/// Read a snapshot; `Ok(None)` when there is none.
pub fn load(path: &Path) -> Result<Option<Snapshot>, String> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    read_from(std::io::BufReader::new(file), &path.display().to_string()).map(Some)
}

fn eta(e: Option<spatial_index::vessel::EtaInfo>) -> Eta {
    Eta {
        month: e.and_then(|e| e.month),
        day: e.and_then(|e| e.day),
        hour: e.and_then(|e| e.hour),
        minute: e.and_then(|e| e.minute),
    }
}

fn dims(i: &StaticInfo) -> Dimensions {
    i.dimensions
        .map(|d| Dimensions {
            to_bow: d.to_bow,
            to_stern: d.to_stern,
            to_port: d.to_port,
            to_starboard: d.to_starboard,
        })
        .unwrap_or_default()
}

/// A stable, distinct payload hash per synthetic message (the picture's
/// duplicate filter must not take two of them, or a real report, for
/// copies).
fn synthetic_hash(mmsi: u32, kind: u64, t: i64) -> u64 {
    let mut h = 0x9e37_79b9_7f4a_7c15u64 ^ kind;
    for v in [u64::from(mmsi), t as u64] {
        h = (h ^ v).wrapping_mul(0x0100_0000_01b3).rotate_left(29);
    }
    h
}

fn decoded(mmsi: u32, msg_type: u8, body: Body, own_ship: bool, t: i64) -> Decoded {
    Decoded {
        message: AisMessage {
            msg_type,
            repeat: 0,
            mmsi,
            body,
        },
        talker: *b"AI",
        own_ship,
        channel: None,
        fragments: 1,
        tag: None,
        payload_hash: synthetic_hash(mmsi, u64::from(msg_type), t),
        payload: None,
    }
}

/// The messages that rebuild a record: its last position report (of the
/// type its class sends) and, when it had static data, a type 5 with it.
/// Times are the record's own (message time), so staleness continues as
/// it would have.
fn messages(v: &VesselRecord) -> Vec<(i64, Decoded)> {
    let mut out = Vec::with_capacity(2);
    let info = v.info.as_ref();
    if let Some(fix) = v.pos {
        let (lat, lon) = (Some(fix.lat), Some(fix.lon));
        let sog = v.sog.map(f64::from);
        let cog = v.cog.map(f64::from);
        let (msg_type, body) = match v.class {
            VesselClass::B => (
                18,
                Body::ClassBPosition(ClassBPosition {
                    reserved: 0,
                    speed: sog,
                    accuracy: fix.accurate,
                    lon,
                    lat,
                    course: cog,
                    heading: v.heading,
                    second: None,
                    regional: 0,
                    cs: true,
                    display: false,
                    dsc: false,
                    band: false,
                    msg22: false,
                    assigned: false,
                    raim: false,
                    radio: 0,
                }),
            ),
            VesselClass::SarAircraft => (
                9,
                Body::SarAircraft(SarAircraftReport {
                    alt: v.altitude_m,
                    speed: v.sog.map(|s| s.round() as u16),
                    accuracy: fix.accurate,
                    lon,
                    lat,
                    course: cog,
                    second: None,
                    regional: 0,
                    dte: false,
                    assigned: false,
                    raim: false,
                    radio: 0,
                }),
            ),
            VesselClass::AtoN => (
                21,
                Body::AidToNavigation(AidToNavigation {
                    aid_type: info.and_then(|i| i.aid_type).unwrap_or(0),
                    name: info.and_then(|i| i.name.clone()).unwrap_or_default(),
                    accuracy: fix.accurate,
                    lon,
                    lat,
                    dimensions: info.map(dims).unwrap_or_default(),
                    epfd: 0,
                    second: None,
                    off_position: info.and_then(|i| i.off_position).unwrap_or(false),
                    regional: 0,
                    raim: false,
                    virtual_aid: info.and_then(|i| i.virtual_aid).unwrap_or(false),
                    assigned: false,
                }),
            ),
            VesselClass::BaseStation => (
                4,
                Body::BaseStation(BaseStationReport {
                    time: UtcTime {
                        year: None,
                        month: None,
                        day: None,
                        hour: None,
                        minute: None,
                        second: None,
                    },
                    accuracy: fix.accurate,
                    lon,
                    lat,
                    epfd: 0,
                    raim: false,
                    radio: 0,
                }),
            ),
            // Class A and the distress devices (their class comes from the
            // MMSI) send types 1–3.
            _ => (
                1,
                Body::Position(PositionReport {
                    status: v.nav_status.unwrap_or(15),
                    turn: None,
                    speed: sog,
                    accuracy: fix.accurate,
                    lon,
                    lat,
                    course: cog,
                    heading: v.heading,
                    second: None,
                    maneuver: 0,
                    raim: false,
                    radio: 0,
                }),
            ),
        };
        out.push((
            fix.time_ms,
            decoded(v.mmsi, msg_type, body, v.own_ship, fix.time_ms),
        ));
    }
    if let Some(i) = info.filter(|_| !matches!(v.class, VesselClass::AtoN)) {
        // At the vessel's last time (after its position): static data
        // restored at its own, older time would be applied to a vessel the
        // restore's clock then ages out before its position comes (data older
        // than the removal age was lost). Its `updated_ms` is not shown.
        let t = i.updated_ms.max(v.last_seen_ms);
        let body = Body::StaticVoyage(StaticVoyage {
            ais_version: 0,
            imo: i.imo,
            callsign: i.callsign.clone().unwrap_or_default(),
            shipname: i.name.clone().unwrap_or_default(),
            shiptype: i.ship_type,
            dimensions: dims(i),
            epfd: 0,
            eta: eta(i.eta),
            draught: i.draught_m.map(f64::from),
            destination: i.destination.clone().unwrap_or_default(),
            dte: false,
        });
        out.push((t, decoded(v.mmsi, 5, body, v.own_ship, t)));
    }
    out
}

/// A snapshot's records as messages, all in time order (at one time,
/// positions before static data: the position report decides the class).
pub fn restore_messages(s: &Snapshot) -> Vec<(i64, Decoded)> {
    let mut all: Vec<(i64, Decoded)> = s.vessels.iter().flat_map(messages).collect();
    all.sort_by_key(|(t, d)| (*t, d.message.msg_type == 5));
    all
}

/// Apply a snapshot to an engine (normally an empty one), through the
/// same steps as live messages (the rules see the restored vessels as they
/// would live). Returns the messages applied.
pub fn restore(e: &mut engine::Engine, s: &Snapshot) -> usize {
    let before = e.picture().stats().applied;
    for (t, d) in &restore_messages(s) {
        e.apply(d, Some(*t));
    }
    (e.picture().stats().applied - before) as usize
}

/// The snapshot path in a state directory.
pub fn path_in(state_dir: &Path) -> PathBuf {
    state_dir.join(SNAPSHOT_FILE)
}

/// What the restore at start did.
#[derive(Debug, Default)]
pub struct Restored {
    /// Vessels in the snapshot (0 without one).
    pub snapshot_vessels: usize,
    /// How old the snapshot was, ms.
    pub snapshot_age_ms: Option<i64>,
    /// Archive lines replayed, from `replayed_from_ms` to the start.
    pub replayed_lines: u64,
    pub replayed_from_ms: i64,
    /// Vessels in the picture afterwards.
    pub vessels: usize,
    pub elapsed_ms: u64,
}

/// Bring the picture back at start: the snapshot in `snapshot_path` (if
/// any), then the archive lines in `archive_dir` received from the
/// snapshot's time (less [`REPLAY_MARGIN_MS`], and at most
/// `max_replay_secs` back) up to `now_ms`, through the normal pipeline.
/// Runs before the recorder starts writing, so it reads only what the
/// earlier run recorded. Blocking: call it off the async workers.
pub fn restore_at_start(
    state: &std::sync::Arc<crate::state::LiveState>,
    cfg: &SnapshotConfig,
    snapshot_path: &Path,
    archive_dir: &Path,
    now_ms: i64,
) -> Restored {
    let started = std::time::Instant::now();
    let mut out = Restored {
        replayed_from_ms: now_ms.saturating_sub(cfg.max_replay_secs as i64 * 1000),
        ..Restored::default()
    };
    match load(snapshot_path) {
        Ok(Some(s)) => {
            if s.bad_lines > 0 {
                tracing::warn!(path = %snapshot_path.display(), bad_lines = s.bad_lines, "snapshot lines skipped");
            }
            let raised = {
                let mut e = state.engine_mut();
                e.track_changes(false);
                restore(&mut e, &s);
                state.take_alerts(&mut e)
            };
            // What they raise was raised (and sent) before the restart: it
            // is recorded (acknowledgements re-applied), not sent again.
            let _ = state.persist_alerts(raised);
            out.snapshot_vessels = s.vessels.len();
            out.snapshot_age_ms = Some(now_ms - s.taken_ms);
            out.replayed_from_ms = out
                .replayed_from_ms
                .max(s.taken_ms.saturating_sub(REPLAY_MARGIN_MS));
        }
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(error = %e, "picture snapshot not used; replaying the archive alone")
        }
    }
    match ingest::archive_reader::ArchiveReader::open(&[archive_dir]) {
        Ok(reader) => {
            // The archive's lines through the engine as they came live:
            // each with its recorded source (so multi-sentence messages
            // join within their feed) and receive time.
            let mut reader = reader.with_range(Some(out.replayed_from_ms), Some(now_ms));
            let mut sources = ingest::archive_reader::SourceIds::default();
            let mut last = out.replayed_from_ms;
            let mut chunk = 0usize;
            let mut e = state.engine_mut();
            e.track_changes(false);
            for al in reader.by_ref() {
                last = al.time_ms.unwrap_or(last);
                let ctx = lookout_ais::LineContext {
                    source: sources.id(al.source.as_deref()),
                    received_ms: Some(last),
                };
                let _ = e.feed_raw(&al.original(), &ctx);
                out.replayed_lines += 1;
                chunk += 1;
                if chunk == 4096 {
                    // Let readers in now and then; the alerts restored so
                    // far are recorded, not sent (the earlier run sent them).
                    chunk = 0;
                    let raised = state.take_alerts(&mut e);
                    drop(e);
                    let _ = state.persist_alerts(raised);
                    e = state.engine_mut();
                }
            }
            let raised = state.take_alerts(&mut e);
            e.track_changes(true);
            drop(e);
            let _ = state.persist_alerts(raised);
            let st = reader.stats();
            if st.file_errors + st.truncated > 0 {
                tracing::warn!(file_errors = st.file_errors, truncated = st.truncated,
                    last_error = ?st.last_error, "archive damage skipped while restoring");
            }
        }
        Err(e) => {
            tracing::warn!(dir = %archive_dir.display(), error = %e, "no archive to restore from")
        }
    }
    state.engine_mut().track_changes(true);
    out.vessels = state.picture().len();
    out.elapsed_ms = started.elapsed().as_millis() as u64;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use lookout_ais::{Decoder, DecoderOptions};
    use spatial_index::{PictureConfig, SharedPicture, ZoneIndex};
    use std::sync::{Arc, RwLock};

    fn picture_from(lines: &[(&str, &str)]) -> SharedPicture {
        let mut p = Picture::new(PictureConfig::default(), ZoneIndex::empty());
        let mut d = Decoder::new(DecoderOptions::default());
        for (tag, sentence) in lines {
            let line = lookout_ais::encode::with_tag_block(tag, sentence);
            d.decode_line(line.as_bytes(), |m| {
                p.apply(&m, None);
            })
            .unwrap();
        }
        Arc::new(RwLock::new(p))
    }

    #[test]
    fn a_picture_comes_back_from_its_snapshot() {
        // Class A with a type 5, class B, a SAR aircraft, with TAG times.
        let shared = picture_from(&[
            (
                "c:1700000000",
                "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A",
            ),
            (
                "c:1700000005",
                "!AIVDM,1,1,,A,B3KLehP0B@LTN6`Vl;rrBE063P06,0*5A",
            ),
            (
                "c:1700000006",
                "!AIVDM,1,1,,A,91b77=h3h00nHt0Q3r@@07000<0b,0*69",
            ),
            (
                "c:1700000007",
                "!AIVDM,1,1,,A,33fI1>0001QacOHEdQD1<6vl04g3,0*16",
            ),
            (
                "g:1-2-73,c:1700000010",
                "!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C",
            ),
            ("g:2-2-73", "!AIVDM,2,2,1,A,88888888880,2*25"),
        ]);
        assert!(shared.read().unwrap().len() >= 4);
        let dir = std::env::temp_dir().join(format!("lookout-snap-{}", std::process::id()));
        let path = path_in(&dir);
        let taken = take(&shared.read().unwrap(), 1_700_000_100_000);
        assert!(write_logged(&taken, &path, std::time::Instant::now()));
        let s = load(&path).unwrap().unwrap();
        assert_eq!(s.taken_ms, 1_700_000_100_000);
        assert_eq!(s.vessels.len(), shared.read().unwrap().len());
        assert_eq!(s.bad_lines, 0);

        let mut e = engine::Engine::standalone(Default::default(), ZoneIndex::empty());
        assert!(restore(&mut e, &s) >= 4);
        let p = e.picture();
        let before = shared.read().unwrap();
        assert_eq!(p.len(), before.len());
        for v in before.vessels() {
            let r = p.vessel(v.mmsi).unwrap();
            assert_eq!(r.class, v.class, "{}", v.mmsi);
            assert_eq!(
                r.position.map(|f| (f.time_ms, f.accurate)),
                v.position.map(|f| (f.time_ms, f.accurate))
            );
            if let (Some(a), Some(b)) = (r.position, v.position) {
                assert!((a.lat - b.lat).abs() < 1e-9 && (a.lon - b.lon).abs() < 1e-9);
            }
            assert_eq!(r.sog_kn.map(|s| s.round()), v.sog_kn.map(|s| s.round()));
            assert_eq!(r.heading_deg, v.heading_deg);
            assert_eq!(r.state, v.state);
            let name = |x: &spatial_index::Vessel| x.info.as_ref().and_then(|i| i.name.clone());
            assert_eq!(name(r), name(v));
            assert_eq!(
                r.info
                    .as_ref()
                    .map(|i| (i.callsign.clone(), i.ship_type, i.imo, i.dimensions)),
                v.info
                    .as_ref()
                    .map(|i| (i.callsign.clone(), i.ship_type, i.imo, i.dimensions))
            );
        }
        assert_eq!(p.now_ms(), before.now_ms());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The demo's first 100 minutes (every rule fires), the bundled zones.
    fn demo_lines() -> Vec<(i64, String)> {
        let mut sim = simulator::Simulator::new(&simulator::Scenario::demo()).unwrap();
        let mut out = Vec::new();
        sim.run_for(100 * 60_000, |t, line| out.push((t, line.to_string())));
        out
    }

    fn demo_engine() -> engine::Engine {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/zones");
        engine::Engine::standalone(Default::default(), ZoneIndex::load(&[dir]).unwrap())
    }

    fn feed(e: &mut engine::Engine, lines: &[(i64, String)]) {
        for (t, l) in lines {
            let ctx = lookout_ais::LineContext {
                source: 0,
                received_ms: Some(*t),
            };
            let _ = e.feed_raw(l.as_bytes(), &ctx);
        }
    }

    /// Every alert the book keeps, and every vessel as clients see it.
    fn state_of(e: &engine::Engine) -> (Vec<String>, Vec<String>) {
        let mut alerts: Vec<String> = e
            .rules()
            .list(None, None)
            .iter()
            .map(|a| a.to_json())
            .collect();
        alerts.sort();
        let mut views: Vec<String> = e
            .all_views()
            .iter()
            .map(|v| serde_json::to_string(v).unwrap())
            .collect();
        views.sort();
        (alerts, views)
    }

    #[test]
    fn an_engine_restored_from_a_checkpoint_continues_as_if_it_never_stopped() {
        let lines = demo_lines();
        let mut whole = demo_engine();
        feed(&mut whole, &lines);
        let whole_changes = whole.take_alerts();
        assert!(whole_changes.len() > 10, "the demo raises alerts");
        let expected = state_of(&whole);
        for cut in [lines.len() / 5, lines.len() / 2, lines.len() * 4 / 5] {
            let mut before = demo_engine();
            feed(&mut before, &lines[..cut]);
            // Checkpoints are taken between whole messages (the core waits
            // for that): no multi-sentence message half received.
            let mut cut = cut;
            while before.pending_fragments() > 0 {
                feed(&mut before, &lines[cut..cut + 1]);
                cut += 1;
            }
            let _ = before.take_alerts();
            let c = take_checkpoint(&before, cut as u64, 1).unwrap();
            let c = from_bytes(&to_bytes(&c).unwrap(), "checkpoint").unwrap();
            assert_eq!(c.engine.as_ref().unwrap().stream_seq, cut as u64);
            let mut after = demo_engine();
            assert!(restore_checkpoint(&mut after, &c).unwrap() > 0);
            // The open alerts come out again (already published: the alert
            // bucket refuses them), then exactly what the whole run raised
            // after the cut.
            let requeued = after.take_alerts();
            assert!(requeued
                .iter()
                .all(|a| a.state != alerts::AlertState::Cleared));
            feed(&mut after, &lines[cut..]);
            let (alerts, views) = state_of(&after);
            let only = |a: &[String], b: &[String]| -> Vec<String> {
                a.iter()
                    .filter(|x| !b.contains(x))
                    .take(4)
                    .cloned()
                    .collect()
            };
            assert!(
                alerts == expected.0,
                "alerts after a checkpoint at line {cut}: only restored {:#?}, only whole {:#?}",
                only(&alerts, &expected.0),
                only(&expected.0, &alerts)
            );
            assert!(
                views == expected.1,
                "picture after a checkpoint at line {cut}: only restored {:#?}, only whole {:#?}",
                only(&views, &expected.1),
                only(&expected.1, &views)
            );
        }
    }

    #[test]
    fn broken_snapshots_are_refused_or_skipped_line_by_line() {
        let dir = std::env::temp_dir().join(format!("lookout-snap-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = path_in(&dir);
        assert_eq!(load(&path).unwrap(), None);
        std::fs::write(&path, "garbage\n").unwrap();
        assert!(load(&path).is_err());
        std::fs::write(
            &path,
            "{\"lookout_picture_snapshot\":1,\"taken_ms\":5,\"picture_ms\":null,\"vessels\":2}\n{\"mmsi\":1}\nnot json\n",
        )
        .unwrap();
        let s = load(&path).unwrap().unwrap();
        assert_eq!((s.vessels.len(), s.bad_lines), (0, 2));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
