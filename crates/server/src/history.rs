//! The server's side of history: `GET /api/history` and the archive part
//! of `GET /api/vessels/{mmsi}/track`, answered by scanning the recorder's
//! archive with the `history` crate (the same scan `lookout history` runs
//! on the command line). No separate database: the archive is the history.

use ::history::{output, scan, Query, ScanOptions};
use std::path::PathBuf;

/// The server's side of history: `GET /api/history` and the part of
/// `GET /api/vessels/{mmsi}/track` older than the picture's memory, both
/// answered from the recorder's archive directory. Bounded: the window,
/// the radius and the number of vessels have limits (a query beyond them is
/// refused with a sentence saying so), and at most [`MAX_CONCURRENT_SCANS`]
/// scans run at once.
pub struct ArchiveHistory {
    dir: PathBuf,
    running: std::sync::atomic::AtomicUsize,
}

/// Longest window of one `/api/history` query.
pub const MAX_HISTORY_WINDOW_MS: i64 = 7 * 86_400_000;
/// Largest radius of one `/api/history` query, NM.
pub const MAX_HISTORY_RADIUS_NM: f64 = 500.0;
/// Most vessels in one `/api/history` answer.
pub const MAX_HISTORY_VESSELS: usize = 5_000;
/// Scans (history or track) running at once; more are refused with 429.
pub const MAX_CONCURRENT_SCANS: usize = 2;

/// Decrements the running-scan count when dropped.
struct Slot<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl ArchiveHistory {
    /// History over the archive in `dir` (the recorder's directory).
    pub fn new(dir: PathBuf) -> Self {
        ArchiveHistory {
            dir,
            running: Default::default(),
        }
    }

    fn slot(&self) -> Result<Slot<'_>, broadcast::api::ApiError> {
        use std::sync::atomic::Ordering::SeqCst;
        if self.running.fetch_add(1, SeqCst) >= MAX_CONCURRENT_SCANS {
            self.running.fetch_sub(1, SeqCst);
            return Err(broadcast::api::ApiError::new(
                429,
                format!("{MAX_CONCURRENT_SCANS} archive scans are running; try again shortly"),
            ));
        }
        Ok(Slot(&self.running))
    }

    /// `/api/history`: GeoJSON, or why not.
    pub fn near(
        &self,
        lat: f64,
        lon: f64,
        radius_nm: f64,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<serde_json::Value, broadcast::api::ApiError> {
        use broadcast::api::ApiError;
        let q = Query::near(lat, lon, radius_nm, from_ms, to_ms)
            .map_err(|e| ApiError::new(400, e.0))?;
        q.check_max_window(MAX_HISTORY_WINDOW_MS)
            .map_err(|e| ApiError::new(400, e.0))?;
        if radius_nm > MAX_HISTORY_RADIUS_NM {
            return Err(ApiError::new(
                400,
                format!("radius_nm is at most {MAX_HISTORY_RADIUS_NM}"),
            ));
        }
        let _slot = self.slot()?;
        let opts = ScanOptions {
            threads: 0,
            names: true,
            max_vessels: Some(MAX_HISTORY_VESSELS),
        };
        match scan(&[&self.dir], &q, &opts) {
            Ok(a) => {
                tracing::info!(query = %format!("{lat},{lon} r={radius_nm} NM"), "{}", output::summary(&a));
                Ok(output::to_geojson(&a))
            }
            Err(e @ ::history::ScanError::TooManyVessels { .. }) => {
                Err(ApiError::new(400, e.to_string()))
            }
            Err(e) => Err(ApiError::new(500, e.to_string())),
        }
    }

    /// One vessel's archived positions in `[from_ms, to_ms)`, oldest first
    /// (empty when the archive has none or cannot be read, which is
    /// logged).
    pub fn track(&self, mmsi: u32, from_ms: i64, to_ms: i64) -> Vec<::history::TrackPoint> {
        let Ok(q) = Query::vessel(mmsi, from_ms, to_ms) else {
            return Vec::new();
        };
        let Ok(_slot) = self.slot() else {
            tracing::warn!(mmsi, "track: archive busy, answering from memory only");
            return Vec::new();
        };
        match scan(&[&self.dir], &q, &ScanOptions::default()) {
            Ok(mut a) => a.vessels.pop().map(|v| v.track).unwrap_or_default(),
            Err(e) => {
                tracing::warn!(mmsi, error = %e, "track: cannot read the archive");
                Vec::new()
            }
        }
    }
}
