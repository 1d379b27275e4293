//! Shared test helpers: a pipeline harness over real sockets, bounded waits,
//! and a log capture to check that state changes are logged once.
#![allow(dead_code)]

use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use ingest::clock::{Clock, SystemClock};
use ingest::config::SourceConfig;
use ingest::line::Line;
use ingest::queue::{self, LineQueue, QueueReceiver};
use ingest::source::{self, RunningSource, Shutdown, ShutdownTrigger};
use ingest::status::SourceRegistry;

/// Generous bound for anything that should happen "soon".
pub const TIMEOUT: Duration = Duration::from_secs(20);

pub struct Harness {
    pub registry: Arc<SourceRegistry>,
    pub queue: Option<LineQueue>,
    pub rx: QueueReceiver,
    pub trigger: ShutdownTrigger,
    pub shutdown: Shutdown,
    pub clock: Arc<dyn Clock>,
}

impl Harness {
    pub fn new(capacity: usize) -> Self {
        Self::with_clock(capacity, Arc::new(SystemClock))
    }

    pub fn with_clock(capacity: usize, clock: Arc<dyn Clock>) -> Self {
        let registry = Arc::new(SourceRegistry::default());
        let (q, rx) = queue::channel(capacity, registry.clone());
        let (trigger, shutdown) = source::shutdown_pair();
        Harness {
            registry,
            queue: Some(q),
            rx,
            trigger,
            shutdown,
            clock,
        }
    }

    pub async fn start(&self, config: SourceConfig) -> RunningSource {
        source::start_source(
            &config,
            &self.registry,
            self.queue.as_ref().expect("queue still open"),
            self.clock.clone(),
            self.shutdown.clone(),
        )
        .await
        .expect("source starts")
    }

    pub fn from_json(json: &str) -> SourceConfig {
        serde_json::from_str(json).expect("valid source config")
    }

    /// Receive until `n` lines arrived (or panic after TIMEOUT).
    pub async fn collect(&mut self, n: usize) -> Vec<Line> {
        let mut out = Vec::new();
        let fut = async {
            while out.len() < n {
                if self.rx.recv_batch(&mut out, 4096).await == 0 {
                    break;
                }
            }
        };
        if tokio::time::timeout(TIMEOUT, fut).await.is_err() {
            panic!("timed out waiting for {n} lines");
        }
        out
    }

    /// Receive until every producer is gone.
    pub async fn collect_all(&mut self) -> Vec<Line> {
        self.queue = None;
        let mut out = Vec::new();
        let fut = async { while self.rx.recv_batch(&mut out, 4096).await > 0 {} };
        if tokio::time::timeout(TIMEOUT, fut).await.is_err() {
            panic!("timed out waiting for the sources to finish");
        }
        out
    }
}

/// Wait until `cond` holds, polling (bounded by TIMEOUT).
pub async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let fut = async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    if tokio::time::timeout(TIMEOUT, fut).await.is_err() {
        panic!("timed out waiting until {what}");
    }
}

pub async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    match tokio::time::timeout(TIMEOUT, f).await {
        Ok(v) => v,
        Err(_) => panic!("timed out: {what}"),
    }
}

/// An AIS sentence with a valid checksum whose payload encodes `n` (so
/// lines are distinguishable): a type 1 report prefix with varying chars.
pub fn numbered_sentence(n: usize) -> String {
    const ARMOR: &[u8] = b"0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVW`abcdefghijklmnopqrstuvw";
    let mut payload = String::from("15RTgt0PAso;90TKcjM8h6g208CQ");
    let mut x = n;
    let mut tail = String::new();
    for _ in 0..4 {
        tail.push(ARMOR[x % 64] as char);
        x /= 64;
    }
    payload.replace_range(payload.len() - 4.., &tail);
    let body = format!("AIVDM,1,1,,A,{payload},0");
    let sum = body.bytes().fold(0u8, |a, b| a ^ b);
    format!("!{body}*{sum:02X}")
}

pub fn texts(lines: &[Line]) -> Vec<String> {
    lines
        .iter()
        .map(|l| String::from_utf8(l.bytes.clone()).unwrap())
        .collect()
}

/// A fresh directory under the system temp dir.
pub fn tempdir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "ingest-test-{tag}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A file in the repository's fixtures/ais folder.
pub fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/ais")
        .join(name)
}

// ---- log capture ----

#[derive(Debug, Clone)]
pub struct Log {
    pub level: tracing::Level,
    pub message: String,
    pub source: Option<String>,
    /// Every other field, formatted.
    pub fields: std::collections::BTreeMap<String, String>,
}

static LOGS: OnceLock<Mutex<Vec<Log>>> = OnceLock::new();

struct Capture;

#[derive(Default)]
struct Visitor {
    message: String,
    source: Option<String>,
    fields: std::collections::BTreeMap<String, String>,
}

impl tracing::field::Visit for Visitor {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        match field.name() {
            "message" => self.message = value.to_string(),
            "source" => self.source = Some(value.to_string()),
            other => {
                self.fields.insert(other.to_string(), value.to_string());
            }
        }
    }
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "source" => self.source = Some(format!("{value:?}")),
            other => {
                self.fields.insert(other.to_string(), format!("{value:?}"));
            }
        }
    }
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        self.fields
            .insert(field.name().to_string(), value.to_string());
    }
    fn record_i64(&mut self, field: &tracing::field::Field, value: i64) {
        self.fields
            .insert(field.name().to_string(), value.to_string());
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut v = Visitor::default();
        event.record(&mut v);
        if let Some(logs) = LOGS.get() {
            logs.lock().unwrap().push(Log {
                level: *event.metadata().level(),
                message: v.message,
                source: v.source,
                fields: v.fields,
            });
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Install the capturing subscriber for this test binary (idempotent).
pub fn capture_logs() {
    LOGS.get_or_init(|| {
        let _ = tracing::subscriber::set_global_default(Capture);
        Mutex::new(Vec::new())
    });
}

/// Captured log events of one source.
pub fn logs_of(source: &str) -> Vec<Log> {
    LOGS.get()
        .map(|l| {
            l.lock()
                .unwrap()
                .iter()
                .filter(|e| e.source.as_deref() == Some(source))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// How many captured events of `source` have exactly this message.
pub fn count_logs(source: &str, message: &str) -> usize {
    logs_of(source)
        .iter()
        .filter(|e| e.message == message)
        .count()
}

/// All captured events whose message contains `needle`.
pub fn logs_containing(needle: &str) -> Vec<Log> {
    LOGS.get()
        .map(|l| {
            l.lock()
                .unwrap()
                .iter()
                .filter(|e| e.message.contains(needle))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}
