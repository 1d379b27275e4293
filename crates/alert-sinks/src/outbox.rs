//! The webhook's durable outbox: a SQLite table (WAL, `synchronous=FULL`)
//! of alert changes not yet acknowledged by the receiver.
//!
//! Every change is inserted with the sink's next **sequence number**
//! (`INTEGER PRIMARY KEY AUTOINCREMENT`, so numbers are never reused, even
//! across restarts) before the webhook counts it as accepted; the delivery
//! loop always sends the row with the lowest sequence number and deletes it
//! only after a 2xx. After a restart the same file is opened and delivery
//! resumes from its head, so the order is kept across restarts.
//!
//! The table is bounded: when an insert takes it over `max_rows`, the
//! oldest undelivered rows are deleted and counted (the caller logs them as
//! errors). The body is stored as the exact bytes that are signed and sent,
//! so a replay after an hour (or a restart) sends exactly what was raised.
//!
//! Used only from the webhook sink's own thread: calls block that thread,
//! never the publisher.

use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;

/// One undelivered alert change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub seq: i64,
    pub alert_id: String,
    pub state: String,
    pub body: String,
    /// Failed delivery attempts so far (across restarts).
    pub attempts: u32,
}

/// The outbox file.
pub struct Outbox {
    conn: Connection,
    max_rows: u64,
    rows: u64,
    dropped_on_open: u64,
    /// Tests: make every write fail as a full disk does.
    #[cfg(test)]
    pub(crate) fail_writes: bool,
}

/// What an insert did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Inserted {
    pub inserted: u64,
    /// Oldest undelivered rows deleted to stay within the bound.
    pub dropped: u64,
}

impl Outbox {
    /// Open (or create) the outbox at `path`.
    pub fn open(path: &Path, max_rows: u64) -> Result<Outbox, rusqlite::Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // WAL: readers never block the writer; FULL: a committed row
        // survives power loss, not just a crash of the process.
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(path = %path.display(), %mode, "outbox: WAL mode unavailable");
        }
        conn.execute_batch(
            "PRAGMA synchronous=FULL;
             CREATE TABLE IF NOT EXISTS outbox (
                 seq INTEGER PRIMARY KEY AUTOINCREMENT,
                 alert_id TEXT NOT NULL,
                 state TEXT NOT NULL,
                 body TEXT NOT NULL,
                 enqueued_ms INTEGER NOT NULL,
                 attempts INTEGER NOT NULL DEFAULT 0
             );",
        )?;
        let rows: i64 = conn.query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))?;
        let mut outbox = Outbox {
            conn,
            max_rows: max_rows.max(1),
            rows: rows.max(0) as u64,
            dropped_on_open: 0,
            #[cfg(test)]
            fail_writes: false,
        };
        // A smaller bound than last time applies at once.
        outbox.dropped_on_open = outbox.enforce_bound()?;
        Ok(outbox)
    }

    /// Rows dropped when opening, because the bound is now smaller.
    pub fn dropped_on_open(&self) -> u64 {
        self.dropped_on_open
    }

    /// Rows waiting.
    pub fn len(&self) -> u64 {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Append changes `(alert_id, state, body)` in one transaction, then
    /// drop the oldest rows beyond the bound.
    pub fn insert<'a>(
        &mut self,
        items: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
    ) -> Result<Inserted, rusqlite::Error> {
        self.check_writable()?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let tx = self.conn.transaction()?;
        let mut n = 0;
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO outbox (alert_id, state, body, enqueued_ms) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (id, state, body) in items {
                st.execute(params![id, state, body, now])?;
                n += 1;
            }
        }
        tx.commit()?;
        self.rows += n;
        let dropped = self.enforce_bound()?;
        Ok(Inserted {
            inserted: n,
            dropped,
        })
    }

    fn enforce_bound(&mut self) -> Result<u64, rusqlite::Error> {
        if self.rows <= self.max_rows {
            return Ok(0);
        }
        let excess = self.rows - self.max_rows;
        let n = self.conn.execute(
            "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT ?1)",
            params![excess as i64],
        )? as u64;
        self.rows = self.rows.saturating_sub(n);
        Ok(n)
    }

    #[cfg(test)]
    fn check_writable(&self) -> Result<(), rusqlite::Error> {
        if self.fail_writes {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
                Some("database or disk is full (test)".into()),
            ));
        }
        Ok(())
    }

    #[cfg(not(test))]
    #[inline]
    fn check_writable(&self) -> Result<(), rusqlite::Error> {
        Ok(())
    }

    /// The oldest undelivered change.
    pub fn head(&self) -> Result<Option<OutboxRow>, rusqlite::Error> {
        self.head_after(0)
    }

    /// The oldest change with a sequence number above `seq` (the rows up to
    /// `seq` were delivered but could not be deleted yet).
    pub fn head_after(&self, seq: i64) -> Result<Option<OutboxRow>, rusqlite::Error> {
        self.conn
            .prepare_cached(
                "SELECT seq, alert_id, state, body, attempts FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT 1",
            )?
            .query_row(params![seq], |r| {
                Ok(OutboxRow {
                    seq: r.get(0)?,
                    alert_id: r.get(1)?,
                    state: r.get(2)?,
                    body: r.get(3)?,
                    attempts: r.get::<_, i64>(4)?.clamp(0, u32::MAX as i64) as u32,
                })
            })
            .optional()
    }

    /// Delete every row up to `seq` (delivered ones); how many went.
    pub fn remove_through(&mut self, seq: i64) -> Result<u64, rusqlite::Error> {
        self.check_writable()?;
        let n = self
            .conn
            .prepare_cached("DELETE FROM outbox WHERE seq <= ?1")?
            .execute(params![seq])? as u64;
        self.rows = self.rows.saturating_sub(n);
        Ok(n)
    }

    /// The receiver acknowledged `seq`.
    pub fn remove(&mut self, seq: i64) -> Result<(), rusqlite::Error> {
        self.check_writable()?;
        let n = self
            .conn
            .prepare_cached("DELETE FROM outbox WHERE seq = ?1")?
            .execute(params![seq])?;
        self.rows = self.rows.saturating_sub(n as u64);
        Ok(())
    }

    /// Count a failed attempt on `seq`.
    pub fn note_failure(&mut self, seq: i64) -> Result<(), rusqlite::Error> {
        self.conn
            .prepare_cached("UPDATE outbox SET attempts = attempts + 1 WHERE seq = ?1")?
            .execute(params![seq])?;
        Ok(())
    }

    /// Every row, oldest first (for tests and inspection).
    pub fn all(&self) -> Result<Vec<OutboxRow>, rusqlite::Error> {
        let mut st = self
            .conn
            .prepare("SELECT seq, alert_id, state, body, attempts FROM outbox ORDER BY seq")?;
        let rows = st.query_map([], |r| {
            Ok(OutboxRow {
                seq: r.get(0)?,
                alert_id: r.get(1)?,
                state: r.get(2)?,
                body: r.get(3)?,
                attempts: r.get::<_, i64>(4)?.clamp(0, u32::MAX as i64) as u32,
            })
        })?;
        rows.collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!(
            "alert-sinks-outbox-{}-{name}.sqlite",
            std::process::id()
        ));
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{ext}", p.display()));
        }
        p
    }

    #[test]
    fn keeps_order_across_reopen_and_never_reuses_seq() {
        let p = tmp("order");
        let mut o = Outbox::open(&p, 10).unwrap();
        o.insert([("a-1", "raised", "{1}"), ("a-2", "raised", "{2}")])
            .unwrap();
        let h = o.head().unwrap().unwrap();
        assert_eq!((h.seq, h.alert_id.as_str()), (1, "a-1"));
        o.remove(h.seq).unwrap();
        drop(o);
        let mut o = Outbox::open(&p, 10).unwrap();
        assert_eq!(o.len(), 1);
        o.insert([("a-3", "raised", "{3}")]).unwrap();
        let all = o.all().unwrap();
        assert_eq!(all.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![2, 3]);
        o.remove(2).unwrap();
        o.remove(3).unwrap();
        o.insert([("a-4", "raised", "{4}")]).unwrap();
        assert_eq!(o.head().unwrap().unwrap().seq, 4);
    }

    #[test]
    fn bound_drops_oldest_and_counts() {
        let p = tmp("bound");
        let mut o = Outbox::open(&p, 3).unwrap();
        let bodies: Vec<String> = (0..5).map(|i| format!("{{{i}}}")).collect();
        let r = o
            .insert(bodies.iter().map(|b| ("a", "raised", b.as_str())))
            .unwrap();
        assert_eq!(
            r,
            Inserted {
                inserted: 5,
                dropped: 2
            }
        );
        assert_eq!(o.len(), 3);
        assert_eq!(o.head().unwrap().unwrap().body, "{2}");
        drop(o);
        let o = Outbox::open(&p, 1).unwrap();
        assert_eq!(o.len(), 1);
        assert_eq!(o.dropped_on_open(), 2);
        assert_eq!(o.head().unwrap().unwrap().body, "{4}");
    }
}
