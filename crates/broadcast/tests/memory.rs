//! Issue 14, item 3: 300 connections without a token each declaring a
//! 2 MB body and sending all of it but the last byte must not make the
//! server buffer those bodies (they took RSS from 20 MB to 956 MB, which
//! stayed after they closed). Alone in its test binary: it measures this
//! process's resident memory.

mod support;

use broadcast::Limits;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::*;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpSocket;

/// Resident memory of this process, bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

const DECLARED: usize = 2_097_100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_bodies_are_never_buffered_and_memory_stays_flat() {
    if rss() == 0 {
        eprintln!("no /proc/self/status here: skipping");
        return;
    }
    let s = Server::start(Limits::default()).await;
    // Warm up the server's paths once.
    assert_eq!(get(s.addr, "/api/status", None).await.0, 401);
    let base = rss();
    let peak = Arc::new(AtomicU64::new(base));
    let sampling = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let body: Arc<[u8]> = vec![b' '; DECLARED - 1].into();
    let answered_401 = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    // 300 connections from 5 loopback addresses (within the default
    // per-address limit: this is about bodies, not connection counts).
    for i in 0..300u32 {
        let (addr, body, answered) = (s.addr, body.clone(), answered_401.clone());
        clients.push(tokio::spawn(async move {
            let sock = TcpSocket::new_v4().unwrap();
            let from = Ipv4Addr::new(127, 0, 0, 10 + (i % 5) as u8);
            sock.bind(SocketAddr::new(IpAddr::V4(from), 0)).unwrap();
            let tcp = sock.connect(addr).await.unwrap();
            let (mut rd, mut wr) = tcp.into_split();
            let head = format!(
                "POST /api/contacts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {DECLARED}\r\n\r\n"
            );
            let writer = tokio::spawn(async move {
                if wr.write_all(head.as_bytes()).await.is_ok() {
                    // All but the last byte (an error once the server has
                    // answered and closed is expected).
                    let _ = wr.write_all(&body).await;
                }
                wr
            });
            let mut buf = Vec::new();
            let _ = tokio::time::timeout(
                Duration::from_secs(10),
                tokio::io::AsyncReadExt::read_to_end(&mut rd, &mut buf),
            )
            .await;
            if buf.starts_with(b"HTTP/1.1 401") {
                answered.fetch_add(1, Ordering::Relaxed);
            }
            let wr = tokio::time::timeout(Duration::from_secs(5), writer).await;
            drop((rd, wr));
        }));
    }
    for c in clients {
        c.await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    sampling.abort();
    let peak = peak.load(Ordering::Relaxed);
    let after = rss();
    let mb = |b: u64| b as f64 / (1 << 20) as f64;
    eprintln!(
        "RSS: base {:.0} MB, peak {:.0} MB, after {:.0} MB; {} of 300 answered 401",
        mb(base),
        mb(peak),
        mb(after),
        answered_401.load(Ordering::Relaxed)
    );
    // 300 buffered bodies would be 600 MB.
    assert!(
        peak.saturating_sub(base) < 120 << 20,
        "peak grew by {:.0} MB",
        mb(peak - base)
    );
    assert!(
        after.saturating_sub(base) < 60 << 20,
        "memory did not return: +{:.0} MB",
        mb(after.saturating_sub(base))
    );
    assert!(
        answered_401.load(Ordering::Relaxed) >= 250,
        "refused at once with 401: {}",
        answered_401.load(Ordering::Relaxed)
    );
}
