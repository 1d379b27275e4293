//! The NMEA UDP output: each message that passes the filter as one
//! datagram (its sentences, CR LF after each) to a `target`, the way AIS
//! receivers feed OpenCPN or a network of AIS software over UDP.
//!
//! Sending happens on a task behind a bounded queue (1024 datagrams); when
//! it is full, datagrams are dropped and counted. Send errors (nothing
//! listening on the target is not an error for UDP; an unreachable network
//! is) are counted, never fatal.

use crate::filter::Filter;
use crate::nmea::Framer;
use crate::nmea_tcp::Counters;
use crate::{config::NmeaCommon, OutputStats};
use engine::Relayed;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

/// Datagrams waiting to be sent.
const QUEUE: usize = 1024;

/// The UDP output.
pub struct NmeaUdp {
    name: String,
    filter: Filter,
    framer: Mutex<Framer>,
    tx: Mutex<Option<mpsc::Sender<Vec<u8>>>>,
    stats: Arc<Counters>,
}

impl NmeaUdp {
    /// Open a socket for `target` and start the sender task.
    pub async fn start(
        name: String,
        target: SocketAddr,
        common: &NmeaCommon,
    ) -> std::io::Result<NmeaUdp> {
        let bind: SocketAddr = if target.is_ipv4() {
            "0.0.0.0:0".parse().expect("address")
        } else {
            "[::]:0".parse().expect("address")
        };
        let socket = UdpSocket::bind(bind).await?;
        let stats = Arc::new(Counters::default());
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(QUEUE);
        let counters = stats.clone();
        tokio::spawn(async move {
            while let Some(d) = rx.recv().await {
                match socket.send_to(&d, target).await {
                    Ok(n) => {
                        counters.bytes.fetch_add(n as u64, Ordering::Relaxed);
                    }
                    Err(_) => {
                        counters.errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
        Ok(NmeaUdp {
            name,
            filter: Filter::new(common),
            framer: Mutex::new(Framer::new(common.tag_blocks)),
            tx: Mutex::new(Some(tx)),
            stats,
        })
    }

    fn snapshot(&self) -> OutputStats {
        OutputStats::new(&self.name, "nmea_udp", &self.stats, 0)
    }
}

impl crate::Output for NmeaUdp {
    fn send(&self, items: &[Relayed]) {
        let tx = self.tx.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let Some(tx) = tx else { return };
        let mut framer = self.framer.lock().unwrap_or_else(|p| p.into_inner());
        for item in items {
            if !self.filter.passes(item) {
                self.stats.filtered.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let mut datagram = Vec::new();
            framer.frame(item, &mut datagram);
            self.stats.messages.fetch_add(1, Ordering::Relaxed);
            if tx.try_send(datagram).is_err() {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn send_route(&self, route: &crate::route::Route) {
        let tx = self.tx.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let Some(tx) = tx else { return };
        let mut datagram = Vec::new();
        for s in &route.nmea {
            datagram.extend_from_slice(s.as_bytes());
            datagram.extend_from_slice(b"\r\n");
        }
        if !datagram.is_empty() && tx.try_send(datagram).is_err() {
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn stats(&self) -> OutputStats {
        self.snapshot()
    }

    fn shutdown(&self) {
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}
