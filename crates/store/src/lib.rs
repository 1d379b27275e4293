//! # store
//!
//! Lookout's durable state: one embedded SQLite database file
//! (`[state] database`, default `data/lookout.db`), shared with the webhook
//! sinks' outbox table.
//!
//! What lives here is what operators and the alert book would lose on a
//! crash: zones created over the API, contacts and their sightings,
//! incidents and their action log (an incident is rebuilt from its log, see
//! `sar::incident`), the latest state of every alert, and every
//! acknowledgement. The live picture itself is not here: it is rebuilt from
//! the feeds and the archive.
//!
//! ## Durability
//!
//! The database runs in WAL mode with `synchronous=FULL`. Every write is one
//! transaction, and a method returns only after it committed; with FULL the
//! commit has been fsynced to the WAL, so a write the API acknowledged (2xx)
//! survives `kill -9` *and* power loss or an OS crash. `NORMAL` would
//! survive a process crash but could lose the last commits on power loss —
//! the very writes an operator was just told were saved. The writes are
//! human-paced (an operator's actions, alert state changes in batches), so
//! the extra fsync per commit costs nothing that matters.
//!
//! ## Schema
//!
//! [`schema`] holds the migrations: ordered SQL steps, the database's
//! version in `PRAGMA user_version`, each applied step recorded in
//! `schema_history`. Opening applies whatever is missing, in one
//! transaction per step; re-opening an up-to-date database changes nothing;
//! a database from a newer Lookout is refused rather than misread.
//!
//! One [`Store`] holds one connection behind a mutex: writes are serialised
//! (SQLite has one writer anyway), reads are short.

pub mod schema;

use rusqlite::{params, Connection, OptionalExtension};
use sar::{Contact, ContactStatus, Incident, LogEntry, Sighting, SourceKind};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A storage failure (the message names the database file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The latest state of one alert.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRow {
    /// Identifies the alert across restarts: its situation and the message
    /// time it was raised (the alert book's `a-…` ids restart with the
    /// process; a replay raises the same alert at the same time again).
    pub key: String,
    pub alert_id: String,
    /// kind/mmsi/other/zone.
    pub situation: String,
    pub state: String,
    pub raised_ms: i64,
    pub updated_ms: i64,
    /// The alert's JSON.
    pub body: String,
}

/// One acknowledgement.
#[derive(Debug, Clone, PartialEq)]
pub struct AckRow {
    pub alert_key: String,
    pub alert_id: String,
    pub situation: String,
    pub who: String,
    pub at_ms: i64,
    pub note: Option<String>,
}

/// The database.
pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl Store {
    /// Open (or create) the database at `path` and bring its schema up to
    /// date.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError(format!("{}: {e}", dir.display())))?;
        }
        let conn = Connection::open(path).map_err(|e| err(path, e))?;
        Store::setup(conn, path)
    }

    /// A private in-memory database (tests).
    pub fn open_in_memory() -> Result<Store> {
        let path = Path::new(":memory:");
        let conn = Connection::open_in_memory().map_err(|e| err(path, e))?;
        Store::setup(conn, path)
    }

    fn setup(mut conn: Connection, path: &Path) -> Result<Store> {
        let e = |x| err(path, x);
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(e)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(e)?;
        if !mode.eq_ignore_ascii_case("wal") && path != Path::new(":memory:") {
            tracing::warn!(path = %path.display(), %mode, "state database: WAL mode unavailable");
        }
        conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
            .map_err(e)?;
        schema::migrate(&mut conn, schema::MIGRATIONS.len()).map_err(|m| err_msg(path, m))?;
        Ok(Store {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn e(&self, x: rusqlite::Error) -> StoreError {
        err(&self.path, x)
    }

    /// The schema version (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<u32> {
        self.conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|x| self.e(x))
    }

    // ---- zones created over the API ----

    /// Zones created over the API: (id, GeoJSON Feature), in id order.
    pub fn zones(&self) -> Result<Vec<(String, Value)>> {
        let c = self.conn();
        let mut st = c
            .prepare("SELECT id, feature FROM zones ORDER BY id")
            .map_err(|x| self.e(x))?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|x| self.e(x))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, text) = row.map_err(|x| self.e(x))?;
            let v = serde_json::from_str(&text)
                .map_err(|x| err_msg(&self.path, format!("zone {id}: {x}")))?;
            out.push((id, v));
        }
        Ok(out)
    }

    /// Create or replace a zone.
    pub fn put_zone(&self, id: &str, feature: &Value, now_ms: i64) -> Result<()> {
        self.conn()
            .execute(
                "INSERT INTO zones (id, feature, updated_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT(id) DO UPDATE SET feature = excluded.feature, updated_ms = excluded.updated_ms",
                params![id, feature.to_string(), now_ms],
            )
            .map_err(|x| self.e(x))?;
        Ok(())
    }

    /// Delete a zone; false when there was none.
    pub fn delete_zone(&self, id: &str) -> Result<bool> {
        let n = self
            .conn()
            .execute("DELETE FROM zones WHERE id = ?1", params![id])
            .map_err(|x| self.e(x))?;
        Ok(n > 0)
    }

    // ---- contacts ----

    /// Write a contact's row and its `new_sightings` (the ones not stored
    /// yet, appended in arrival order), in one transaction.
    pub fn save_contact(&self, c: &Contact, new_sightings: &[Sighting]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|x| self.e(x))?;
        tx.execute(
            "INSERT INTO contacts (id, description, status, created_ms, created_by, updated_ms, version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT(id) DO UPDATE SET description = excluded.description, status = excluded.status,
                 updated_ms = excluded.updated_ms, version = excluded.version",
            params![
                c.id,
                c.description,
                c.status.as_str(),
                c.created_ms,
                c.created_by,
                c.updated_ms,
                c.version as i64
            ],
        )
        .map_err(|x| self.e(x))?;
        {
            let mut st = tx
                .prepare_cached(
                    "INSERT INTO sightings (contact_id, seq, time_ms, lat, lon, uncertainty_m, course_deg,
                         speed_kn, source, reported_by, note)
                     VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM sightings WHERE contact_id = ?1),
                         ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .map_err(|x| self.e(x))?;
            for s in new_sightings {
                st.execute(params![
                    c.id,
                    s.time_ms,
                    s.lat,
                    s.lon,
                    s.uncertainty_m,
                    s.course_deg,
                    s.speed_kn,
                    s.source.as_str(),
                    s.reported_by,
                    s.note
                ])
                .map_err(|x| self.e(x))?;
            }
        }
        tx.commit().map_err(|x| self.e(x))
    }

    /// Every contact with its track, in id order.
    pub fn contacts(&self) -> Result<Vec<Contact>> {
        let c = self.conn();
        let mut out: Vec<Contact> = Vec::new();
        let mut st = c
            .prepare(
                "SELECT id, description, status, created_ms, created_by, updated_ms, version
                 FROM contacts ORDER BY id",
            )
            .map_err(|x| self.e(x))?;
        let rows = st
            .query_map([], |r| {
                Ok(Contact {
                    id: r.get(0)?,
                    description: r.get(1)?,
                    status: ContactStatus::parse(&r.get::<_, String>(2)?)
                        .unwrap_or(ContactStatus::Active),
                    created_ms: r.get(3)?,
                    created_by: r.get(4)?,
                    updated_ms: r.get(5)?,
                    version: r.get::<_, i64>(6)?.max(0) as u64,
                    sightings: Vec::new(),
                })
            })
            .map_err(|x| self.e(x))?;
        for row in rows {
            out.push(row.map_err(|x| self.e(x))?);
        }
        let mut st = c
            .prepare(
                "SELECT time_ms, lat, lon, uncertainty_m, course_deg, speed_kn, source, reported_by, note
                 FROM sightings WHERE contact_id = ?1 ORDER BY seq",
            )
            .map_err(|x| self.e(x))?;
        for contact in &mut out {
            let rows = st
                .query_map(params![contact.id], |r| {
                    Ok(Sighting {
                        time_ms: r.get(0)?,
                        lat: r.get(1)?,
                        lon: r.get(2)?,
                        uncertainty_m: r.get(3)?,
                        course_deg: r.get(4)?,
                        speed_kn: r.get(5)?,
                        source: SourceKind::parse(&r.get::<_, String>(6)?)
                            .unwrap_or(SourceKind::Other),
                        reported_by: r.get(7)?,
                        note: r.get(8)?,
                    })
                })
                .map_err(|x| self.e(x))?;
            for s in rows {
                let s = s.map_err(|x| self.e(x))?;
                // Same order as `Contact::add_sighting`: by time, ties in
                // arrival order.
                let at = contact
                    .sightings
                    .partition_point(|x| x.time_ms <= s.time_ms);
                contact.sightings.insert(at, s);
            }
            if contact.sightings.is_empty() {
                return Err(err_msg(
                    &self.path,
                    format!("contact {} has no sighting", contact.id),
                ));
            }
        }
        Ok(out)
    }

    // ---- incidents ----

    /// Append log entries of an incident (and refresh its row), in one
    /// transaction. An entry whose sequence number is already stored is an
    /// error: the log is append-only.
    pub fn append_incident(&self, i: &Incident, entries: &[LogEntry]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|x| self.e(x))?;
        tx.execute(
            "INSERT INTO incidents (id, title, status, created_ms, created_by, updated_ms, version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT(id) DO UPDATE SET title = excluded.title, status = excluded.status,
                 updated_ms = excluded.updated_ms, version = excluded.version",
            params![
                i.id,
                i.title,
                i.status.as_str(),
                i.created_ms,
                i.created_by,
                i.updated_ms,
                i.version as i64
            ],
        )
        .map_err(|x| self.e(x))?;
        {
            let mut st = tx
                .prepare_cached(
                    "INSERT INTO incident_log (incident_id, seq, time_ms, recorded_ms, who, action, body)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(|x| self.e(x))?;
            for e in entries {
                let body = serde_json::to_string(&e.action)
                    .map_err(|x| err_msg(&self.path, x.to_string()))?;
                st.execute(params![
                    i.id,
                    e.seq as i64,
                    e.time_ms,
                    e.recorded_ms,
                    e.who,
                    e.action.name(),
                    body
                ])
                .map_err(|x| self.e(x))?;
            }
        }
        tx.commit().map_err(|x| self.e(x))
    }

    /// Every incident, rebuilt from its log (`Incident::restore`: entries
    /// are not re-checked against today's rules), in id order.
    pub fn incidents(&self) -> Result<Vec<Incident>> {
        let c = self.conn();
        let ids: Vec<String> = {
            let mut st = c
                .prepare("SELECT id FROM incidents ORDER BY id")
                .map_err(|x| self.e(x))?;
            let rows = st.query_map([], |r| r.get(0)).map_err(|x| self.e(x))?;
            rows.collect::<std::result::Result<_, _>>()
                .map_err(|x| self.e(x))?
        };
        let mut st = c
            .prepare(
                "SELECT seq, time_ms, recorded_ms, who, body FROM incident_log
                 WHERE incident_id = ?1 ORDER BY seq",
            )
            .map_err(|x| self.e(x))?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let rows = st
                .query_map(params![id], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                })
                .map_err(|x| self.e(x))?;
            let mut log = Vec::new();
            for row in rows {
                let (seq, time_ms, recorded_ms, who, body) = row.map_err(|x| self.e(x))?;
                let action = serde_json::from_str(&body).map_err(|x| {
                    err_msg(&self.path, format!("incident {id} log entry {seq}: {x}"))
                })?;
                log.push(LogEntry {
                    seq: seq.max(0) as u64,
                    time_ms,
                    recorded_ms,
                    who,
                    action,
                });
            }
            let i = Incident::restore(&id, &log).map_err(|x| err_msg(&self.path, x.message))?;
            out.push(i);
        }
        Ok(out)
    }

    // ---- alerts ----

    /// Record the latest state of alerts (one transaction).
    pub fn record_alerts(&self, rows: &[AlertRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|x| self.e(x))?;
        {
            let mut st = tx.prepare_cached(UPSERT_ALERT).map_err(|x| self.e(x))?;
            for a in rows {
                st.execute(params![
                    a.key,
                    a.alert_id,
                    a.situation,
                    a.state,
                    a.raised_ms,
                    a.updated_ms,
                    a.body
                ])
                .map_err(|x| self.e(x))?;
            }
        }
        tx.commit().map_err(|x| self.e(x))
    }

    /// Record an acknowledgement and the alert's new state (one
    /// transaction).
    pub fn record_ack(&self, ack: &AckRow, alert: &AlertRow, recorded_ms: i64) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|x| self.e(x))?;
        tx.execute(
            "INSERT INTO alert_acks (alert_key, alert_id, situation, who, at_ms, note, recorded_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                ack.alert_key,
                ack.alert_id,
                ack.situation,
                ack.who,
                ack.at_ms,
                ack.note,
                recorded_ms
            ],
        )
        .map_err(|x| self.e(x))?;
        tx.execute(
            UPSERT_ALERT,
            params![
                alert.key,
                alert.alert_id,
                alert.situation,
                alert.state,
                alert.raised_ms,
                alert.updated_ms,
                alert.body
            ],
        )
        .map_err(|x| self.e(x))?;
        tx.commit().map_err(|x| self.e(x))
    }

    /// The latest acknowledgement of every acknowledged alert, with the
    /// alert's last recorded state (`None` when its row is missing).
    pub fn acknowledgements(&self) -> Result<Vec<(AckRow, Option<String>)>> {
        let c = self.conn();
        let mut st = c
            .prepare(
                "SELECT k.alert_key, k.alert_id, k.situation, k.who, k.at_ms, k.note, a.state
                 FROM alert_acks k LEFT JOIN alerts a ON a.key = k.alert_key
                 WHERE k.num = (SELECT MAX(num) FROM alert_acks WHERE alert_key = k.alert_key)
                 ORDER BY k.num",
            )
            .map_err(|x| self.e(x))?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    AckRow {
                        alert_key: r.get(0)?,
                        alert_id: r.get(1)?,
                        situation: r.get(2)?,
                        who: r.get(3)?,
                        at_ms: r.get(4)?,
                        note: r.get(5)?,
                    },
                    r.get::<_, Option<String>>(6)?,
                ))
            })
            .map_err(|x| self.e(x))?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(|x| self.e(x))
    }

    /// One alert's recorded state.
    pub fn alert(&self, key: &str) -> Result<Option<AlertRow>> {
        self.conn()
            .query_row(
                "SELECT key, alert_id, situation, state, raised_ms, updated_ms, body FROM alerts WHERE key = ?1",
                params![key],
                |r| {
                    Ok(AlertRow {
                        key: r.get(0)?,
                        alert_id: r.get(1)?,
                        situation: r.get(2)?,
                        state: r.get(3)?,
                        raised_ms: r.get(4)?,
                        updated_ms: r.get(5)?,
                        body: r.get(6)?,
                    })
                },
            )
            .optional()
            .map_err(|x| self.e(x))
    }

    /// Keep the answer given to a forwarded SAR write (`request`: its
    /// request id), so a retry of it — even after a restart — is answered
    /// with it instead of being applied again. The first answer kept for a
    /// request wins. Answers older than `keep_ms` before `now_ms`, and all
    /// but the newest `keep_max`, are forgotten.
    pub fn remember_sar_answer(
        &self,
        request: &str,
        answer: &[u8],
        now_ms: i64,
        keep_ms: i64,
        keep_max: usize,
    ) -> Result<()> {
        let mut c = self.conn();
        let tx = c.transaction().map_err(|x| self.e(x))?;
        tx.execute(
            "INSERT OR IGNORE INTO sar_answers (request, answer, at_ms) VALUES (?1, ?2, ?3)",
            params![request, answer, now_ms],
        )
        .map_err(|x| self.e(x))?;
        tx.execute(
            "DELETE FROM sar_answers WHERE at_ms < ?1",
            params![now_ms.saturating_sub(keep_ms)],
        )
        .map_err(|x| self.e(x))?;
        tx.execute(
            "DELETE FROM sar_answers WHERE request IN
                 (SELECT request FROM sar_answers ORDER BY at_ms DESC, rowid DESC LIMIT -1 OFFSET ?1)",
            params![keep_max as i64],
        )
        .map_err(|x| self.e(x))?;
        tx.commit().map_err(|x| self.e(x))
    }

    /// The answer kept for a forwarded SAR write, if any.
    pub fn sar_answer(&self, request: &str) -> Result<Option<Vec<u8>>> {
        self.conn()
            .query_row(
                "SELECT answer FROM sar_answers WHERE request = ?1",
                params![request],
                |r| r.get(0),
            )
            .optional()
            .map_err(|x| self.e(x))
    }
}

const UPSERT_ALERT: &str =
    "INSERT INTO alerts (key, alert_id, situation, state, raised_ms, updated_ms, body)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
     ON CONFLICT(key) DO UPDATE SET alert_id = excluded.alert_id, state = excluded.state,
         updated_ms = excluded.updated_ms, body = excluded.body";

fn err(path: &Path, e: rusqlite::Error) -> StoreError {
    StoreError(format!("{}: {e}", path.display()))
}

fn err_msg(path: &Path, m: impl std::fmt::Display) -> StoreError {
    StoreError(format!("{}: {m}", path.display()))
}
