//! The NMEA TCP output: a server that streams AIS sentences to every
//! connected client, as any AIS feed does (OpenCPN's "TCP client" data
//! connection, a bridge chartplotter, `gpsdecode`, another Lookout).
//!
//! [`NmeaTcp::send`] frames the items that pass the filter once and hands
//! the bytes to each client's writer task. A client's queue is bounded in
//! bytes (`client_buffer_bytes`): a client that does not read fast enough
//! is dropped and counted, it never slows the picture or the other
//! clients. Clients beyond `max_clients` are refused and counted. What a
//! client sends is ignored.

use crate::filter::Filter;
use crate::nmea::Framer;
use crate::{config::NmeaCommon, OutputStats};
use engine::Relayed;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

/// A client that has not taken a chunk within this time is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

struct Client {
    tx: mpsc::UnboundedSender<Arc<[u8]>>,
    /// Bytes queued for it and not yet written.
    queued: Arc<AtomicUsize>,
}

/// The TCP server output.
pub struct NmeaTcp {
    name: String,
    local: SocketAddr,
    filter: Filter,
    framer: Mutex<Framer>,
    clients: Arc<Mutex<Vec<Client>>>,
    buffer_bytes: usize,
    stats: Arc<Counters>,
    stop: watch::Sender<bool>,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub messages: AtomicU64,
    pub filtered: AtomicU64,
    pub bytes: AtomicU64,
    pub dropped: AtomicU64,
    pub refused: AtomicU64,
    pub errors: AtomicU64,
}

impl NmeaTcp {
    /// Bind `listen` and start accepting (on the current tokio runtime).
    pub async fn start(
        name: String,
        listen: SocketAddr,
        common: &NmeaCommon,
        max_clients: usize,
        buffer_bytes: usize,
    ) -> std::io::Result<NmeaTcp> {
        let listener = TcpListener::bind(listen).await?;
        let local = listener.local_addr()?;
        let clients: Arc<Mutex<Vec<Client>>> = Arc::default();
        let stats = Arc::new(Counters::default());
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(accept(
            listener,
            clients.clone(),
            stats.clone(),
            max_clients,
            stopped,
        ));
        tracing::info!(output = %name, %local, "NMEA TCP output listening");
        Ok(NmeaTcp {
            name,
            local,
            filter: Filter::new(common),
            framer: Mutex::new(Framer::new(common.tag_blocks)),
            clients,
            buffer_bytes,
            stats,
            stop,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Clients connected now.
    pub fn clients(&self) -> usize {
        lock(&self.clients).len()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

async fn accept(
    listener: TcpListener,
    clients: Arc<Mutex<Vec<Client>>>,
    stats: Arc<Counters>,
    max_clients: usize,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        let conn = tokio::select! {
            c = listener.accept() => c,
            _ = stopped.changed() => return,
        };
        let (stream, peer) = match conn {
            Ok(c) => c,
            Err(e) => {
                // Out of descriptors and the like: wait, do not spin.
                tracing::warn!(error = %e, "NMEA TCP output: accept failed");
                stats.errors.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let mut list = lock(&clients);
        list.retain(|c| !c.tx.is_closed());
        if list.len() >= max_clients {
            stats.refused.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%peer, max_clients, "NMEA TCP output: client refused (max_clients)");
            continue;
        }
        let _ = stream.set_nodelay(true);
        let (tx, rx) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicUsize::new(0));
        list.push(Client {
            tx,
            queued: queued.clone(),
        });
        tracing::info!(%peer, "NMEA TCP output: client connected");
        tokio::spawn(write(stream, rx, queued, stopped.clone()));
    }
}

/// One client's writer: chunks in order, each within [`WRITE_TIMEOUT`].
async fn write(
    mut stream: TcpStream,
    mut rx: mpsc::UnboundedReceiver<Arc<[u8]>>,
    queued: Arc<AtomicUsize>,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        let chunk = tokio::select! {
            c = rx.recv() => match c { Some(c) => c, None => break },
            _ = stopped.changed() => break,
        };
        match tokio::time::timeout(WRITE_TIMEOUT, stream.write_all(&chunk)).await {
            Ok(Ok(())) => {
                queued.fetch_sub(chunk.len(), Ordering::Relaxed);
            }
            _ => break,
        }
    }
    let _ = stream.shutdown().await;
}

impl crate::Output for NmeaTcp {
    fn send(&self, items: &[Relayed]) {
        // Nobody to send to: no framing at all (this runs per batch).
        if lock(&self.clients).is_empty() {
            return;
        }
        let mut bytes = Vec::new();
        {
            let mut framer = lock(&self.framer);
            for item in items {
                if self.filter.passes(item) {
                    framer.frame(item, &mut bytes);
                    self.stats.messages.fetch_add(1, Ordering::Relaxed);
                } else {
                    self.stats.filtered.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        self.fan_out(bytes);
    }

    fn send_route(&self, route: &crate::route::Route) {
        let mut bytes = Vec::new();
        for s in &route.nmea {
            bytes.extend_from_slice(s.as_bytes());
            bytes.extend_from_slice(b"\r\n");
        }
        self.fan_out(bytes);
    }

    fn stats(&self) -> OutputStats {
        self.snapshot()
    }

    fn local_addr(&self) -> Option<SocketAddr> {
        Some(self.local)
    }

    fn shutdown(&self) {
        let _ = self.stop.send(true);
        lock(&self.clients).clear();
    }
}

impl NmeaTcp {
    /// Queue `bytes` for every client; a client too far behind is dropped.
    fn fan_out(&self, bytes: Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        let chunk: Arc<[u8]> = bytes.into();
        let mut clients = lock(&self.clients);
        clients.retain(|c| {
            if c.tx.is_closed() {
                return false;
            }
            let q = c.queued.load(Ordering::Relaxed);
            if q + chunk.len() > self.buffer_bytes {
                // Too slow: dropping the sender ends its writer.
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(output = %self.name, queued = q, "NMEA TCP output: slow client dropped");
                return false;
            }
            c.queued.fetch_add(chunk.len(), Ordering::Relaxed);
            if c.tx.send(chunk.clone()).is_err() {
                return false;
            }
            self.stats
                .bytes
                .fetch_add(chunk.len() as u64, Ordering::Relaxed);
            true
        });
    }

    fn snapshot(&self) -> OutputStats {
        OutputStats::new(&self.name, "nmea_tcp", &self.stats, self.clients() as i64)
    }
}
