//! Per-source status, readable by the rest of the program at any time.
//!
//! Every source registered in the [`SourceRegistry`] gets an
//! `Arc<`[`SourceStatus`]`>`: atomics the source task (and the
//! [`crate::router::Router`] downstream, for decode results) update as lines
//! flow, and anyone else — the HTTP layer, a stats printer, a test — reads
//! without locking the pipeline. [`SourceRegistry::snapshot`] gives a
//! serializable view of all of them.
//!
//! The registry is also the table of source names: lines carry only a
//! [`SourceId`], an index into it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, RwLock};

use serde::Serialize;
use tokio::sync::watch;

use crate::line::SourceId;
use crate::queue::Overload;

/// What a source is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceState {
    /// Registered, not started yet.
    Starting,
    /// Trying to connect (TCP client).
    Connecting,
    /// Connected and reading (TCP client).
    Connected,
    /// Lost or could not make the connection; waiting to try again.
    Retrying,
    /// Bound and waiting for data or connections (listeners, UDP).
    Listening,
    /// Reading a file, stdin or an archive.
    Reading,
    /// Reached the end of its input.
    Finished,
    /// Stopped by an error it cannot recover from (e.g. file not found).
    Failed,
    /// Stopped on request.
    Stopped,
}

impl SourceState {
    /// A short stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceState::Starting => "starting",
            SourceState::Connecting => "connecting",
            SourceState::Connected => "connected",
            SourceState::Retrying => "retrying",
            SourceState::Listening => "listening",
            SourceState::Reading => "reading",
            SourceState::Finished => "finished",
            SourceState::Failed => "failed",
            SourceState::Stopped => "stopped",
        }
    }
}

/// Every way a line or a connection can go wrong, for counting per source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceErrorKind {
    /// A line longer than the limit (discarded).
    LineTooLong,
    /// A line with bytes that are not printable ASCII (discarded).
    NotText,
    /// A read or socket error.
    Io,
    /// A connection attempt failed or timed out (TCP client).
    ConnectFailed,
    /// Nothing received for the idle timeout; the connection was dropped.
    IdleTimeout,
    /// A connection refused because the listener was at its limit.
    ConnectionLimit,
    /// A `$` sentence of an own asset that did not parse.
    Gnss,
    /// Datagrams the kernel discarded because the UDP socket's receive
    /// buffer was full (read from the socket's `drops` in /proc/net/udp).
    KernelDrop,
    /// An AIS sentence the decoder rejected.
    Decode(lookout_ais::ErrorKind),
}

const LOCAL_KINDS: usize = 8;
/// Number of distinct [`SourceErrorKind`]s.
pub const ERROR_KINDS: usize = LOCAL_KINDS + lookout_ais::ErrorKind::ALL.len();

impl SourceErrorKind {
    /// Index into the counters.
    pub fn index(self) -> usize {
        match self {
            SourceErrorKind::LineTooLong => 0,
            SourceErrorKind::NotText => 1,
            SourceErrorKind::Io => 2,
            SourceErrorKind::ConnectFailed => 3,
            SourceErrorKind::IdleTimeout => 4,
            SourceErrorKind::ConnectionLimit => 5,
            SourceErrorKind::Gnss => 6,
            SourceErrorKind::KernelDrop => 7,
            SourceErrorKind::Decode(k) => LOCAL_KINDS + k as usize,
        }
    }

    /// The kind at `index` (inverse of [`SourceErrorKind::index`]).
    pub fn from_index(index: usize) -> Option<Self> {
        Some(match index {
            0 => SourceErrorKind::LineTooLong,
            1 => SourceErrorKind::NotText,
            2 => SourceErrorKind::Io,
            3 => SourceErrorKind::ConnectFailed,
            4 => SourceErrorKind::IdleTimeout,
            5 => SourceErrorKind::ConnectionLimit,
            6 => SourceErrorKind::Gnss,
            7 => SourceErrorKind::KernelDrop,
            i => SourceErrorKind::Decode(*lookout_ais::ErrorKind::ALL.get(i - LOCAL_KINDS)?),
        })
    }

    /// A short stable name for statistics and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceErrorKind::LineTooLong => "line_too_long",
            SourceErrorKind::NotText => "not_text",
            SourceErrorKind::Io => "io",
            SourceErrorKind::ConnectFailed => "connect_failed",
            SourceErrorKind::IdleTimeout => "idle_timeout",
            SourceErrorKind::ConnectionLimit => "connection_limit",
            SourceErrorKind::Gnss => "gnss",
            SourceErrorKind::KernelDrop => "kernel_drop",
            SourceErrorKind::Decode(k) => k.as_str(),
        }
    }
}

/// Static facts about a source, given when it is registered.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceSpec {
    /// Unique name (also written to the archive as the TAG block `s:`).
    pub name: String,
    /// Kind of source: `tcp_client`, `udp`, `file`, …
    pub kind: &'static str,
    /// The own asset whose position this source's `$` sentences give.
    pub own_asset: Option<String>,
    /// What the queue does with this source's lines when it is full.
    pub overload: Overload,
}

const NONE_MS: i64 = i64::MIN;

/// Live counters of one source. All methods take `&self`; share it as
/// `Arc<SourceStatus>`.
#[derive(Debug)]
pub struct SourceStatus {
    id: SourceId,
    name: Arc<str>,
    kind: &'static str,
    own_asset: Option<Arc<str>>,
    overload: Overload,
    state: watch::Sender<SourceState>,
    connections: AtomicU64,
    lines: AtomicU64,
    bytes: AtomicU64,
    messages: AtomicU64,
    fixes: AtomicU64,
    dropped: AtomicU64,
    reconnects: AtomicU64,
    last_line_ms: AtomicI64,
    last_message_ms: AtomicI64,
    errors: [AtomicU64; ERROR_KINDS],
    last_error: Mutex<Option<String>>,
    local_addr: Mutex<Option<SocketAddr>>,
}

impl SourceStatus {
    fn new(id: SourceId, spec: SourceSpec) -> Self {
        SourceStatus {
            id,
            name: spec.name.into(),
            kind: spec.kind,
            own_asset: spec.own_asset.map(Into::into),
            overload: spec.overload,
            state: watch::Sender::new(SourceState::Starting),
            connections: AtomicU64::new(0),
            lines: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            messages: AtomicU64::new(0),
            fixes: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            last_line_ms: AtomicI64::new(NONE_MS),
            last_message_ms: AtomicI64::new(NONE_MS),
            errors: std::array::from_fn(|_| AtomicU64::new(0)),
            last_error: Mutex::new(None),
            local_addr: Mutex::new(None),
        }
    }

    /// The source's id.
    pub fn id(&self) -> SourceId {
        self.id
    }
    /// The source's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The source's name, shared.
    pub fn name_arc(&self) -> Arc<str> {
        self.name.clone()
    }
    /// Kind of source.
    pub fn kind(&self) -> &'static str {
        self.kind
    }
    /// The own asset this source reports for, if any.
    pub fn own_asset(&self) -> Option<&Arc<str>> {
        self.own_asset.as_ref()
    }
    /// The overload policy.
    pub fn overload(&self) -> Overload {
        self.overload
    }

    /// Current state.
    pub fn state(&self) -> SourceState {
        *self.state.borrow()
    }
    /// Set the state; returns whether it changed.
    pub fn set_state(&self, new: SourceState) -> bool {
        self.state.send_if_modified(|s| {
            let changed = *s != new;
            *s = new;
            changed
        })
    }
    /// A receiver that sees every state change (for waiting on one).
    pub fn subscribe(&self) -> watch::Receiver<SourceState> {
        self.state.subscribe()
    }
    /// Wait until the state satisfies `pred`.
    pub async fn wait_for_state(&self, mut pred: impl FnMut(SourceState) -> bool) -> SourceState {
        let mut rx = self.subscribe();
        // The sender lives in `self`, so it cannot be dropped while we wait.
        let seen = rx.wait_for(|s| pred(*s)).await.map(|s| *s);
        seen.unwrap_or_else(|_| self.state())
    }

    /// Whether the source has a live connection (or, for listeners, at
    /// least one).
    pub fn connected(&self) -> bool {
        match self.state() {
            SourceState::Connected => true,
            SourceState::Listening => self.connections() > 0 || self.kind == "udp",
            SourceState::Reading => true,
            _ => false,
        }
    }

    /// Open connections (TCP client: 0 or 1; listener: accepted ones).
    pub fn connections(&self) -> u64 {
        self.connections.load(Relaxed)
    }
    pub(crate) fn connection_opened(&self) {
        self.connections.fetch_add(1, Relaxed);
    }
    pub(crate) fn connection_closed(&self) {
        // Never below zero.
        let _ = self
            .connections
            .fetch_update(Relaxed, Relaxed, |c| c.checked_sub(1));
    }

    /// Lines received (including those later dropped by the queue).
    pub fn lines(&self) -> u64 {
        self.lines.load(Relaxed)
    }
    /// Bytes read, terminators and discarded bytes included.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Relaxed)
    }
    /// AIS sentences framed by the decoder.
    pub fn messages(&self) -> u64 {
        self.messages.load(Relaxed)
    }
    /// Own-asset GNSS fixes produced.
    pub fn fixes(&self) -> u64 {
        self.fixes.load(Relaxed)
    }
    /// Lines of this source the queue dropped under overload.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Relaxed)
    }
    /// Connections made after the first one.
    pub fn reconnects(&self) -> u64 {
        self.reconnects.load(Relaxed)
    }
    /// Receive time of the last line.
    pub fn last_line_ms(&self) -> Option<i64> {
        Some(self.last_line_ms.load(Relaxed)).filter(|&t| t != NONE_MS)
    }
    /// Receive time of the last AIS sentence or GNSS fix.
    pub fn last_message_ms(&self) -> Option<i64> {
        Some(self.last_message_ms.load(Relaxed)).filter(|&t| t != NONE_MS)
    }
    /// Count of one error kind.
    pub fn errors(&self, kind: SourceErrorKind) -> u64 {
        self.errors[kind.index()].load(Relaxed)
    }
    /// All errors.
    pub fn total_errors(&self) -> u64 {
        self.errors.iter().map(|e| e.load(Relaxed)).sum()
    }
    /// The last I/O or connection error, as text.
    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().map(|e| e.clone()).unwrap_or(None)
    }
    /// The local address a listener or UDP source is bound to.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr.lock().map(|a| *a).unwrap_or(None)
    }

    pub(crate) fn set_local_addr(&self, addr: SocketAddr) {
        if let Ok(mut a) = self.local_addr.lock() {
            *a = Some(addr);
        }
    }
    pub(crate) fn add_bytes(&self, n: usize) {
        self.bytes.fetch_add(n as u64, Relaxed);
    }
    pub(crate) fn count_lines(&self, n: u64, received_ms: i64) {
        self.lines.fetch_add(n, Relaxed);
        self.last_line_ms.store(received_ms, Relaxed);
    }
    pub(crate) fn count_messages(&self, n: u64, received_ms: i64) {
        if n > 0 {
            self.messages.fetch_add(n, Relaxed);
            self.last_message_ms.store(received_ms, Relaxed);
        }
    }
    pub(crate) fn count_fix(&self, received_ms: i64) {
        self.fixes.fetch_add(1, Relaxed);
        self.last_message_ms.store(received_ms, Relaxed);
    }
    pub(crate) fn count_dropped(&self, n: u64) {
        self.dropped.fetch_add(n, Relaxed);
    }
    pub(crate) fn count_reconnect(&self) {
        self.reconnects.fetch_add(1, Relaxed);
    }

    /// Count `n` errors of one kind at once (e.g. kernel drops read from a
    /// counter); the first batch is logged like [`Self::count_error`].
    pub fn count_errors(&self, kind: SourceErrorKind, n: u64, detail: impl std::fmt::Display) {
        if n == 0 {
            return;
        }
        let before = self.errors[kind.index()].fetch_add(n, Relaxed);
        if before == 0 {
            tracing::warn!(
                source = %self.name,
                kind = kind.as_str(),
                "first {} errors ({n}): {detail} (further ones are counted in the source status, not logged)",
                kind.as_str()
            );
        }
    }

    /// Count an error. The first error of each kind is logged (as a
    /// warning, with `detail`); later ones are only counted, so a flood of
    /// garbage cannot flood the log.
    pub fn count_error(&self, kind: SourceErrorKind, detail: impl std::fmt::Display) {
        let before = self.errors[kind.index()].fetch_add(1, Relaxed);
        if before == 0 {
            tracing::warn!(
                source = %self.name,
                kind = kind.as_str(),
                "first {} error: {detail} (further ones are counted in the source status, not logged)",
                kind.as_str()
            );
        }
    }

    /// Remember an I/O or connection error for the status page.
    pub(crate) fn set_last_error(&self, e: impl std::fmt::Display) {
        if let Ok(mut slot) = self.last_error.lock() {
            *slot = Some(e.to_string());
        }
    }

    /// A consistent-enough copy of every counter.
    pub fn snapshot(&self) -> SourceSnapshot {
        let errors = (0..ERROR_KINDS)
            .filter_map(|i| {
                let n = self.errors[i].load(Relaxed);
                let kind = SourceErrorKind::from_index(i)?;
                (n > 0).then(|| (kind.as_str(), n))
            })
            .collect();
        SourceSnapshot {
            id: self.id.0,
            name: self.name.to_string(),
            kind: self.kind,
            own_asset: self.own_asset.as_ref().map(|a| a.to_string()),
            overload: self.overload,
            state: self.state(),
            connected: self.connected(),
            connections: self.connections(),
            local_addr: self.local_addr().map(|a| a.to_string()),
            lines: self.lines(),
            bytes: self.bytes(),
            messages: self.messages(),
            fixes: self.fixes(),
            dropped: self.dropped(),
            reconnects: self.reconnects(),
            last_line_ms: self.last_line_ms(),
            last_message_ms: self.last_message_ms(),
            errors,
            last_error: self.last_error(),
        }
    }
}

/// A serializable copy of a [`SourceStatus`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceSnapshot {
    pub id: u32,
    pub name: String,
    pub kind: &'static str,
    pub own_asset: Option<String>,
    pub overload: Overload,
    pub state: SourceState,
    pub connected: bool,
    pub connections: u64,
    pub local_addr: Option<String>,
    pub lines: u64,
    pub bytes: u64,
    pub messages: u64,
    pub fixes: u64,
    pub dropped: u64,
    pub reconnects: u64,
    pub last_line_ms: Option<i64>,
    pub last_message_ms: Option<i64>,
    /// Non-zero error counts by kind name.
    pub errors: Vec<(&'static str, u64)>,
    pub last_error: Option<String>,
}

/// Why a source could not be registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryError {
    /// Another source already has this name.
    DuplicateName(String),
    /// The registry holds its maximum number of sources.
    Full(usize),
}

impl std::fmt::Display for RegistryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RegistryError::DuplicateName(n) => write!(f, "two sources are named {n:?}"),
            RegistryError::Full(n) => write!(f, "too many sources (at most {n})"),
        }
    }
}

impl std::error::Error for RegistryError {}

/// All sources, by id. Bounded: replaying an archive registers the source
/// names it finds, and a hostile archive must not grow this without limit.
#[derive(Debug)]
pub struct SourceRegistry {
    sources: RwLock<Vec<Arc<SourceStatus>>>,
    max: usize,
}

/// Default maximum number of sources.
pub const DEFAULT_MAX_SOURCES: usize = 4096;

impl Default for SourceRegistry {
    fn default() -> Self {
        SourceRegistry::new(DEFAULT_MAX_SOURCES)
    }
}

impl SourceRegistry {
    /// An empty registry holding at most `max` sources.
    pub fn new(max: usize) -> Self {
        SourceRegistry {
            sources: RwLock::new(Vec::new()),
            max,
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Arc<SourceStatus>>> {
        // A panic while holding the lock leaves the data consistent (every
        // write is a single push), so a poisoned lock is still usable.
        self.sources.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Register a new source.
    pub fn register(&self, spec: SourceSpec) -> Result<Arc<SourceStatus>, RegistryError> {
        let mut all = self.sources.write().unwrap_or_else(|e| e.into_inner());
        if all.iter().any(|s| *s.name == *spec.name) {
            return Err(RegistryError::DuplicateName(spec.name));
        }
        if all.len() >= self.max {
            return Err(RegistryError::Full(self.max));
        }
        let id = SourceId(all.len() as u32);
        let status = Arc::new(SourceStatus::new(id, spec));
        all.push(status.clone());
        Ok(status)
    }

    /// The source named `spec.name`, registering it if it is new.
    pub fn get_or_register(&self, spec: SourceSpec) -> Result<Arc<SourceStatus>, RegistryError> {
        if let Some(s) = self.find(&spec.name) {
            return Ok(s);
        }
        match self.register(spec) {
            Err(RegistryError::DuplicateName(n)) => {
                self.find(&n).ok_or(RegistryError::DuplicateName(n))
            }
            r => r,
        }
    }

    /// The source with this id.
    pub fn get(&self, id: SourceId) -> Option<Arc<SourceStatus>> {
        self.read().get(id.index()).cloned()
    }

    /// The source with this name.
    pub fn find(&self, name: &str) -> Option<Arc<SourceStatus>> {
        self.read().iter().find(|s| *s.name == *name).cloned()
    }

    /// Name of a source.
    pub fn name(&self, id: SourceId) -> Option<Arc<str>> {
        self.read().get(id.index()).map(|s| s.name.clone())
    }

    /// Every source, in id order.
    pub fn all(&self) -> Vec<Arc<SourceStatus>> {
        self.read().clone()
    }

    /// Number of sources.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// No sources yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Snapshots of every source, in id order.
    pub fn snapshot(&self) -> Vec<SourceSnapshot> {
        self.read().iter().map(|s| s.snapshot()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str) -> SourceSpec {
        SourceSpec {
            name: name.into(),
            kind: "udp",
            own_asset: None,
            overload: Overload::DropOldest,
        }
    }

    #[test]
    fn error_kind_indices_round_trip() {
        for i in 0..ERROR_KINDS {
            let k = SourceErrorKind::from_index(i).unwrap();
            assert_eq!(k.index(), i);
        }
        assert_eq!(SourceErrorKind::from_index(ERROR_KINDS), None);
    }

    #[test]
    fn registry_ids_names_and_duplicates() {
        let r = SourceRegistry::new(2);
        let a = r.register(spec("a")).unwrap();
        assert_eq!(a.id(), SourceId(0));
        assert_eq!(
            r.register(spec("a")).unwrap_err(),
            RegistryError::DuplicateName("a".into())
        );
        let b = r.get_or_register(spec("b")).unwrap();
        assert_eq!(b.id(), SourceId(1));
        assert_eq!(r.get_or_register(spec("b")).unwrap().id(), SourceId(1));
        assert_eq!(r.register(spec("c")).unwrap_err(), RegistryError::Full(2));
        assert_eq!(r.name(SourceId(1)).as_deref(), Some("b"));
        assert!(r.get(SourceId(5)).is_none());
    }

    #[test]
    fn counters_and_snapshot() {
        let r = SourceRegistry::default();
        let s = r.register(spec("x")).unwrap();
        s.count_lines(1, 5);
        s.add_bytes(10);
        s.count_error(SourceErrorKind::LineTooLong, "x");
        s.count_error(
            SourceErrorKind::Decode(lookout_ais::ErrorKind::BadChecksum),
            "y",
        );
        assert!(s.set_state(SourceState::Listening));
        assert!(!s.set_state(SourceState::Listening));
        let snap = s.snapshot();
        assert_eq!(snap.lines, 1);
        assert_eq!(snap.bytes, 10);
        assert_eq!(snap.last_line_ms, Some(5));
        assert_eq!(snap.last_message_ms, None);
        assert_eq!(snap.errors, vec![("line_too_long", 1), ("bad_checksum", 1)]);
        assert_eq!(snap.state, SourceState::Listening);
        s.connection_closed();
        assert_eq!(s.connections(), 0);
    }
}
