//! Byte-stream sources: a file, stdin, or any [`std::io::Read`].
//!
//! Reading is blocking I/O, so it happens on a plain thread that hands
//! 64 KiB chunks to the async source task over a channel of four chunks;
//! the task cuts them into lines and sends them to the queue. Memory stays
//! bounded, and with the default `block` policy a slow pipeline slows the
//! reading down instead of losing lines.
//!
//! Gzip is recognised by its magic bytes (`1f 8b`), not by the file name,
//! for files and stdin alike; concatenated gzip members (what `cat a.gz
//! b.gz` gives) are read through. The reader thread is detached: a source
//! stopped while stdin is idle leaves it blocked in `read`, which costs
//! nothing and ends with the process.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;

use flate2::bufread::MultiGzDecoder;
use tokio::sync::mpsc;

use crate::source::{BoxFuture, FeedSource, Pump, SourceContext};
use crate::status::{SourceErrorKind, SourceState};

const CHUNK: usize = 64 * 1024;

type Opener = Box<dyn FnOnce() -> std::io::Result<Box<dyn Read + Send>> + Send>;

/// A source reading one byte stream to its end.
pub struct ReaderSource {
    name: String,
    what: String,
    open: Opener,
    max_line: usize,
}

impl std::fmt::Debug for ReaderSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReaderSource")
            .field("name", &self.name)
            .field("what", &self.what)
            .field("max_line", &self.max_line)
            .finish()
    }
}

impl ReaderSource {
    /// Read any reader (a pipe, a socket, a test buffer).
    pub fn new(name: &str, reader: impl Read + Send + 'static, max_line: usize) -> Self {
        ReaderSource {
            name: name.to_string(),
            what: "stream".to_string(),
            open: Box::new(move || Ok(Box::new(reader) as Box<dyn Read + Send>)),
            max_line,
        }
    }

    /// Read a file (opened on the reader thread).
    pub fn file(name: &str, path: PathBuf, max_line: usize) -> Self {
        ReaderSource {
            name: name.to_string(),
            what: path.display().to_string(),
            open: Box::new(move || {
                std::fs::File::open(&path).map(|f| Box::new(f) as Box<dyn Read + Send>)
            }),
            max_line,
        }
    }

    /// Read standard input.
    pub fn stdin(name: &str, max_line: usize) -> Self {
        ReaderSource {
            name: name.to_string(),
            what: "stdin".to_string(),
            open: Box::new(|| Ok(Box::new(std::io::stdin()) as Box<dyn Read + Send>)),
            max_line,
        }
    }
}

impl FeedSource for ReaderSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn run(self: Box<Self>, ctx: SourceContext) -> BoxFuture {
        Box::pin(run(*self, ctx))
    }
}

/// Wrap `r` in a gzip decoder if it starts with the gzip magic bytes.
pub fn maybe_gunzip<R: Read + Send + 'static>(r: R) -> std::io::Result<Box<dyn Read + Send>> {
    let mut br = BufReader::with_capacity(CHUNK, r);
    let head = br.fill_buf()?;
    if head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b {
        Ok(Box::new(MultiGzDecoder::new(br)))
    } else {
        Ok(Box::new(br))
    }
}

fn reader_thread(open: Opener, tx: mpsc::Sender<std::io::Result<Vec<u8>>>) {
    let mut r = match open().and_then(maybe_gunzip) {
        Ok(r) => r,
        Err(e) => {
            let _ = tx.blocking_send(Err(e));
            return;
        }
    };
    loop {
        let mut chunk = vec![0u8; CHUNK];
        match r.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => {
                chunk.truncate(n);
                if tx.blocking_send(Ok(chunk)).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        }
    }
}

async fn run(src: ReaderSource, ctx: SourceContext) {
    let status = ctx.status.clone();
    let mut shutdown = ctx.shutdown.clone();
    let (tx, mut rx) = mpsc::channel(4);
    let open = src.open;
    let spawned = std::thread::Builder::new()
        .name(format!("read-{}", src.name))
        .spawn(move || reader_thread(open, tx));
    if let Err(e) = spawned {
        status.count_error(SourceErrorKind::Io, &e);
        status.set_last_error(&e);
        status.set_state(SourceState::Failed);
        return;
    }
    status.set_state(SourceState::Reading);
    tracing::info!(source = %src.name, input = %src.what, "reading");
    let mut pump = Pump::new(&ctx, src.max_line);
    let end = loop {
        let chunk = tokio::select! {
            _ = shutdown.wait() => break SourceState::Stopped,
            c = rx.recv() => c,
        };
        let r = match chunk {
            None => {
                tokio::select! {
                    _ = shutdown.wait() => break SourceState::Stopped,
                    r = pump.finish() => r,
                }
                .ok();
                break SourceState::Finished;
            }
            Some(Err(e)) => {
                // Keep what was read (a truncated .gz still gave its lines).
                let _ = tokio::select! {
                    _ = shutdown.wait() => break SourceState::Stopped,
                    r = pump.finish() => r,
                };
                status.count_error(SourceErrorKind::Io, &e);
                status.set_last_error(&e);
                tracing::error!(source = %src.name, input = %src.what, error = %e, "read failed");
                break SourceState::Failed;
            }
            Some(Ok(chunk)) => tokio::select! {
                _ = shutdown.wait() => break SourceState::Stopped,
                r = pump.push(&chunk) => r,
            },
        };
        if r.is_err() {
            break SourceState::Stopped;
        }
    };
    status.set_state(end);
    tracing::info!(source = %src.name, input = %src.what, lines = status.lines(), state = end.as_str(), "done");
}
