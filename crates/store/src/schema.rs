//! The schema and its migrations.
//!
//! [`MIGRATIONS`] is an ordered list of SQL steps; step *n* (from 1) brings
//! a database from version *n − 1* to *n*. The version is `PRAGMA
//! user_version` (in the database header, so it commits atomically with the
//! step); each step is also recorded in `schema_history` with its name and
//! when it ran, for people reading the file. A step runs in its own
//! `BEGIN IMMEDIATE` transaction, so a crash mid-upgrade leaves the
//! previous version intact. Steps are never edited once released: a change
//! is a new step at the end.
//!
//! The webhook sinks' `outbox` table lives in the same file but is created
//! by `alert-sinks` itself; no step here touches it.

use rusqlite::Connection;

/// (name, SQL) for each version, in order.
pub const MIGRATIONS: &[(&str, &str)] = &[
    (
        "zones created over the API; contacts and their sightings",
        "CREATE TABLE IF NOT EXISTS schema_history (
             version INTEGER PRIMARY KEY,
             name TEXT NOT NULL,
             applied_ms INTEGER NOT NULL
         );
         CREATE TABLE zones (
             id TEXT PRIMARY KEY,
             feature TEXT NOT NULL,
             updated_ms INTEGER NOT NULL
         );
         CREATE TABLE contacts (
             id TEXT PRIMARY KEY,
             description TEXT NOT NULL,
             status TEXT NOT NULL,
             created_ms INTEGER NOT NULL,
             created_by TEXT NOT NULL,
             updated_ms INTEGER NOT NULL,
             version INTEGER NOT NULL
         );
         CREATE TABLE sightings (
             contact_id TEXT NOT NULL REFERENCES contacts(id),
             seq INTEGER NOT NULL,
             time_ms INTEGER NOT NULL,
             lat REAL NOT NULL,
             lon REAL NOT NULL,
             uncertainty_m REAL NOT NULL,
             course_deg REAL,
             speed_kn REAL,
             source TEXT NOT NULL,
             reported_by TEXT NOT NULL,
             note TEXT,
             PRIMARY KEY (contact_id, seq)
         );",
    ),
    (
        "incidents and their append-only action log",
        "CREATE TABLE incidents (
             id TEXT PRIMARY KEY,
             title TEXT NOT NULL,
             status TEXT NOT NULL,
             created_ms INTEGER NOT NULL,
             created_by TEXT NOT NULL,
             updated_ms INTEGER NOT NULL,
             version INTEGER NOT NULL
         );
         CREATE TABLE incident_log (
             incident_id TEXT NOT NULL REFERENCES incidents(id),
             seq INTEGER NOT NULL,
             time_ms INTEGER NOT NULL,
             recorded_ms INTEGER NOT NULL,
             who TEXT NOT NULL,
             action TEXT NOT NULL,
             body TEXT NOT NULL,
             PRIMARY KEY (incident_id, seq)
         );",
    ),
    (
        "alert states and acknowledgements",
        "CREATE TABLE alerts (
             key TEXT PRIMARY KEY,
             alert_id TEXT NOT NULL,
             situation TEXT NOT NULL,
             state TEXT NOT NULL,
             raised_ms INTEGER NOT NULL,
             updated_ms INTEGER NOT NULL,
             body TEXT NOT NULL
         );
         CREATE INDEX alerts_by_situation ON alerts(situation);
         CREATE TABLE alert_acks (
             num INTEGER PRIMARY KEY AUTOINCREMENT,
             alert_key TEXT NOT NULL,
             alert_id TEXT NOT NULL,
             situation TEXT NOT NULL,
             who TEXT NOT NULL,
             at_ms INTEGER NOT NULL,
             note TEXT,
             recorded_ms INTEGER NOT NULL
         );
         CREATE INDEX alert_acks_by_key ON alert_acks(alert_key);",
    ),
    (
        "answers to forwarded SAR writes, by request id (a retry is answered, not applied again)",
        "CREATE TABLE sar_answers (
             request TEXT PRIMARY KEY,
             answer BLOB NOT NULL,
             at_ms INTEGER NOT NULL
         );
         CREATE INDEX sar_answers_by_time ON sar_answers(at_ms);",
    ),
];

/// Bring `conn` to version `target` (at most `MIGRATIONS.len()`).
pub fn migrate(conn: &mut Connection, target: usize) -> Result<(), String> {
    let current: usize = version(conn)?;
    if current > MIGRATIONS.len() {
        return Err(format!(
            "schema version {current} is newer than this Lookout knows ({}); refusing to open it",
            MIGRATIONS.len()
        ));
    }
    for (i, (name, sql)) in MIGRATIONS
        .iter()
        .enumerate()
        .take(target.min(MIGRATIONS.len()))
        .skip(current)
    {
        let v = i + 1;
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| e.to_string())?;
        // Another process may have migrated meanwhile.
        let now: usize = tx
            .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
            .map_err(|e| e.to_string())? as usize;
        if now >= v {
            continue;
        }
        tx.execute_batch(sql)
            .map_err(|e| format!("schema step {v} ({name}): {e}"))?;
        let applied = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        tx.execute(
            "INSERT INTO schema_history (version, name, applied_ms) VALUES (?1, ?2, ?3)",
            rusqlite::params![v as i64, name, applied],
        )
        .map_err(|e| e.to_string())?;
        tx.pragma_update(None, "user_version", v as i64)
            .map_err(|e| e.to_string())?;
        tx.commit().map_err(|e| e.to_string())?;
        tracing::info!(version = v, step = name, "state database schema upgraded");
    }
    Ok(())
}

/// The database's schema version.
pub fn version(conn: &Connection) -> Result<usize, String> {
    conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
        .map(|v| v.max(0) as usize)
        .map_err(|e| e.to_string())
}
