//! Cursor-on-Target sink: alerts as CoT 2.0 `<event>`s to a TAK server
//! (TCP, reconnecting) or to TAK clients (UDP, unicast or multicast), so
//! they appear on ATAK/WinTAK maps beside the other assets.
//!
//! ## Mapping
//!
//! | alert | CoT `type` | detail |
//! |---|---|---|
//! | `distress_beacon` (raised, updated, acknowledged) | `b-a-o-tbl` (emergency "911 Alert") | `<emergency type="911 Alert">` |
//! | `distress_beacon` cleared | `b-a-o-can` (emergency cancelled) | `<emergency cancel="true">` |
//! | `zone_enter`, `zone_exit` | `b-a-g` (geofence breach) | — |
//! | any other kind (incl. `distress_beacon_test`) | `b-m-p-s-m` (spot marker) | `<color>` by severity |
//! | any non-distress alert cleared | `t-x-d-d` (delete) | `<link uid=…>` + `<__forcedelete/>` |
//!
//! Every event has `how="m-g"` (machine-generated), `uid` = `uid_prefix` +
//! the alert's stable id (so every change of an alert replaces the same
//! map object; a delete has `uid` + `.delete` and links the alert's uid),
//! `time` = `start` = the alert's (message) time, `stale` = `time` +
//! `stale_min`, and `<point lat lon hae="0" ce le="9999999">` with `ce` =
//! `ce_m` — or `lat=0 lon=0 ce=9999999` when the alert has no position
//! (CoT's "unknown"). `<detail>` holds `<contact callsign="KIND MMSI"/>`,
//! `<remarks>` = the alert's message, and `<__lookout>` with the alert's id,
//! kind, state, severity, MMSI, other MMSI and zone for consumers that want
//! the facts. Text is XML-escaped and characters XML 1.0 forbids are
//! dropped, whatever the AIS data said.
//!
//! ## Transport
//! TCP: one document per event, each followed by a newline, on one
//! connection; a reader task notices at once when the server closes it,
//! and a closed or failed connection is reopened with exponential backoff
//! and the event resent (in order). UDP: one datagram per event to
//! the address (multicast TTL from config). CoT is not durable: while the
//! server is unreachable alerts wait in the bounded queue (new ones dropped
//! and counted when it is full).

//!
//! Escaping, times and the TCP connection are the `cot` crate's, shared
//! with the picture's CoT output (`crates/outputs/src/cot.rs`).

use crate::config::{CotConfig, CotProtocol};
use crate::sink::{AlertSink, Inbox, SinkFuture, SinkStats};
use alerts::{Alert, AlertKind, AlertState, Severity};
use cot::conn::resolve;
use cot::{esc, Backoff, Conn};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::time::Instant;

pub use cot::UNKNOWN_ERROR;

/// The CoT `type` an alert is sent as.
pub fn cot_type(a: &Alert) -> &'static str {
    match (a.kind, a.state) {
        (AlertKind::DistressBeacon, AlertState::Cleared) => "b-a-o-can",
        (AlertKind::DistressBeacon, _) => "b-a-o-tbl",
        (_, AlertState::Cleared) => "t-x-d-d",
        (AlertKind::ZoneEnter | AlertKind::ZoneExit, _) => "b-a-g",
        _ => "b-m-p-s-m",
    }
}

use cot::time as cot_time;

/// One alert as a CoT event document (XML declaration included).
pub fn to_cot(a: &Alert, cfg: &CotConfig) -> String {
    let mut x = String::with_capacity(768);
    let ty = cot_type(a);
    let mut uid = String::new();
    esc(&mut uid, &cfg.uid_prefix);
    esc(&mut uid, &a.id);
    let time = cot_time(a.time);
    let stale = cot_time(
        a.time
            .saturating_add((cfg.stale_min * 60_000.0).round() as i64),
    );
    let pos = match (a.lat, a.lon) {
        (Some(lat), Some(lon))
            if lat.is_finite()
                && lon.is_finite()
                && (-90.0..=90.0).contains(&lat)
                && (-180.0..=180.0).contains(&lon) =>
        {
            Some((lat, lon))
        }
        _ => None,
    };
    let (lat, lon, ce) = match pos {
        Some((lat, lon)) => (lat, lon, cfg.ce_m),
        None => (0.0, 0.0, UNKNOWN_ERROR),
    };
    let callsign = match a.kind {
        AlertKind::DistressBeacon => format!("DISTRESS {}", a.mmsi),
        k => format!("{} {}", k.as_str().to_uppercase(), a.mmsi),
    };
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>");
    x.push_str("<event version=\"2.0\" uid=\"");
    x.push_str(&uid);
    if ty == "t-x-d-d" {
        x.push_str(".delete");
    }
    let _ = write!(
        x,
        "\" type=\"{ty}\" time=\"{time}\" start=\"{time}\" stale=\"{stale}\" how=\"m-g\">"
    );
    let _ = write!(
        x,
        "<point lat=\"{lat:.6}\" lon=\"{lon:.6}\" hae=\"0\" ce=\"{ce:.1}\" le=\"{UNKNOWN_ERROR:.1}\"/>"
    );
    x.push_str("<detail><contact callsign=\"");
    esc(&mut x, &callsign);
    x.push_str("\"/>");
    match ty {
        "b-a-o-tbl" => {
            x.push_str("<emergency type=\"911 Alert\">");
            esc(&mut x, &callsign);
            x.push_str("</emergency>");
        }
        "b-a-o-can" => {
            x.push_str("<emergency cancel=\"true\">");
            esc(&mut x, &callsign);
            x.push_str("</emergency>");
        }
        "t-x-d-d" => {
            x.push_str("<link uid=\"");
            x.push_str(&uid);
            let _ = write!(
                x,
                "\" relation=\"none\" type=\"{}\"/><__forcedelete/>",
                match a.kind {
                    AlertKind::ZoneEnter | AlertKind::ZoneExit => "b-a-g",
                    _ => "b-m-p-s-m",
                }
            );
        }
        "b-m-p-s-m" => {
            // ARGB as a signed 32-bit integer, as TAK writes it.
            let argb: i32 = match a.severity {
                Severity::Critical => 0xFFFF_0000u32 as i32,
                Severity::Warning => 0xFFFF_A500u32 as i32,
                Severity::Info => 0xFFFF_FFFFu32 as i32,
            };
            let _ = write!(x, "<color argb=\"{argb}\"/>");
        }
        _ => {}
    }
    x.push_str("<remarks>");
    esc(&mut x, &a.message);
    x.push_str("</remarks><__lookout id=\"");
    esc(&mut x, &a.id);
    let _ = write!(
        x,
        "\" kind=\"{}\" state=\"{}\" severity=\"{}\" mmsi=\"{}\"",
        a.kind.as_str(),
        crate::webhook::state_str(a.state),
        match a.severity {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        },
        a.mmsi
    );
    if let Some(o) = a.other_mmsi {
        let _ = write!(x, " other_mmsi=\"{o}\"");
    }
    if let Some(z) = &a.zone {
        x.push_str(" zone=\"");
        esc(&mut x, z);
        x.push('"');
    }
    x.push_str("/></detail></event>");
    x
}

enum Transport {
    /// The connection ([`cot::Conn`]: its reader task notices when the
    /// server closes it).
    Tcp(Option<Conn>),
    Udp(Option<UdpSocket>, Option<SocketAddr>),
}

/// The Cursor-on-Target sink.
pub struct CotSink {
    cfg: CotConfig,
    transport: Transport,
}

impl CotSink {
    pub fn new(cfg: CotConfig) -> Result<CotSink, String> {
        let transport = match cfg.protocol {
            CotProtocol::Tcp => Transport::Tcp(None),
            CotProtocol::Udp => Transport::Udp(None, None),
        };
        Ok(CotSink { cfg, transport })
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.cfg.connect_timeout_ms)
    }

    async fn send(&mut self, doc: &[u8], stats: &Arc<SinkStats>) -> std::io::Result<()> {
        let timeout = self.timeout();
        let address = self.cfg.address.clone();
        let ttl = self.cfg.multicast_ttl;
        match &mut self.transport {
            Transport::Tcp(conn) => {
                if conn.as_ref().is_some_and(|c| c.is_closed()) {
                    tracing::info!(sink = %self.cfg.name, "TAK server closed the connection; reconnecting");
                    *conn = None;
                }
                if conn.is_none() {
                    let st = stats.clone();
                    let c = Conn::connect(&address, None, timeout, move || {
                        st.connected.store(false, Ordering::Relaxed)
                    })
                    .await?;
                    tracing::info!(sink = %self.cfg.name, address = %address, "connected to the TAK server");
                    *conn = Some(c);
                    stats.connected.store(true, Ordering::Relaxed);
                }
                let c = conn.as_mut().expect("connected above");
                let r = c.send(doc, timeout).await;
                if r.is_err() {
                    *conn = None;
                    stats.connected.store(false, Ordering::Relaxed);
                }
                r
            }
            Transport::Udp(sock, target) => {
                if target.is_none() {
                    *target = Some(resolve(&address).await?[0]);
                }
                let to = target.expect("resolved above");
                if sock.is_none() {
                    let bind: SocketAddr = if to.is_ipv4() {
                        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
                    } else {
                        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
                    };
                    let s = UdpSocket::bind(bind).await?;
                    if to.ip().is_multicast() {
                        if to.is_ipv4() {
                            s.set_multicast_ttl_v4(ttl)?;
                        }
                        tracing::info!(sink = %self.cfg.name, group = %to, ttl, "sending CoT to a multicast group");
                    }
                    *sock = Some(s);
                }
                let s = sock.as_ref().expect("bound above");
                match s.send_to(doc, to).await {
                    Ok(n) if n == doc.len() => Ok(()),
                    Ok(n) => Err(std::io::Error::other(format!(
                        "datagram truncated to {n} of {} bytes",
                        doc.len()
                    ))),
                    Err(e) => {
                        // Resolve and bind again next time.
                        *sock = None;
                        *target = None;
                        Err(e)
                    }
                }
            }
        }
    }

    async fn main(mut self: Box<Self>, mut inbox: Inbox) {
        let stats = inbox.stats().clone();
        let name = self.cfg.name.clone();
        stats
            .connected
            .store(self.cfg.protocol == CotProtocol::Udp, Ordering::Relaxed);
        let grace = Duration::from_millis(self.cfg.shutdown_grace_ms);
        let mut backoff = Backoff::new(
            Duration::from_millis(self.cfg.retry_initial_ms),
            Duration::from_millis(self.cfg.retry_max_ms),
        );
        let mut deadline: Option<Instant> = None;
        let mut failing = 0u64;
        'alerts: while let Some(a) = inbox.recv().await {
            SinkStats::inc(&stats.accepted);
            let doc = to_cot(&a, &self.cfg);
            stats.pending.store(1, Ordering::Relaxed);
            loop {
                if deadline.is_none() && inbox.is_closing() {
                    deadline = Some(Instant::now() + grace);
                }
                SinkStats::inc(&stats.attempts);
                let sent = tokio::select! {
                    r = self.send(doc.as_bytes(), &stats) => r,
                    _ = inbox.aborted() => break 'alerts,
                };
                match sent {
                    Ok(()) => {
                        stats.delivered_now();
                        if failing > 0 {
                            tracing::info!(sink = %name, failed_attempts = failing, "CoT delivery works again");
                            stats.clear_error();
                            failing = 0;
                        }
                        backoff.reset();
                        break;
                    }
                    Err(e) => {
                        SinkStats::inc(&stats.failed);
                        if failing == 0 {
                            tracing::warn!(sink = %name, address = %self.cfg.address, error = %e, "CoT delivery failed; retrying with backoff");
                        }
                        failing += 1;
                        stats.set_error(e.to_string());
                        if deadline.is_some_and(|d| Instant::now() >= d) {
                            // Shutting down and the peer is gone: give up
                            // on this and everything still queued.
                            let mut lost = 1;
                            while inbox.try_recv().is_some() {
                                lost += 1;
                            }
                            stats.dropped_other.fetch_add(lost, Ordering::Relaxed);
                            tracing::warn!(sink = %name, dropped = lost, "CoT: shutdown grace over, undelivered alerts dropped");
                            break 'alerts;
                        }
                        let mut d = backoff.next_delay();
                        if let Some(dl) = deadline {
                            d = d.min(dl.saturating_duration_since(Instant::now()));
                        }
                        if !inbox.sleep(d).await {
                            break 'alerts;
                        }
                    }
                }
            }
            stats.pending.store(0, Ordering::Relaxed);
        }
        stats.pending.store(0, Ordering::Relaxed);
        if let Transport::Tcp(Some(c)) = &mut self.transport {
            c.shutdown().await;
        }
    }
}

impl AlertSink for CotSink {
    fn run(self: Box<Self>, inbox: Inbox) -> SinkFuture {
        Box::pin(self.main(inbox))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn alert(kind: AlertKind, state: AlertState) -> Alert {
        Alert {
            id: "a-000007".into(),
            kind,
            mmsi: 970_123_456,
            other_mmsi: None,
            zone: Some(Arc::from("SAR <Malta> & \"Lampedusa\"")),
            time: 1_795_845_600_000,
            lat: Some(35.5),
            lon: Some(12.6),
            severity: Severity::Critical,
            message: "AIS-SART active \u{1} <test> & more".into(),
            state,
            raised_at: 1_795_845_600_000,
            cleared_at: None,
            acknowledged_by: None,
            acknowledged_at: None,
            note: None,
        }
    }

    #[test]
    fn types_follow_the_mapping() {
        use AlertKind::*;
        use AlertState::*;
        assert_eq!(cot_type(&alert(DistressBeacon, Raised)), "b-a-o-tbl");
        assert_eq!(cot_type(&alert(DistressBeacon, Cleared)), "b-a-o-can");
        assert_eq!(cot_type(&alert(ZoneEnter, Updated)), "b-a-g");
        assert_eq!(cot_type(&alert(ZoneExit, Raised)), "b-a-g");
        assert_eq!(cot_type(&alert(Loitering, Raised)), "b-m-p-s-m");
        assert_eq!(cot_type(&alert(DistressBeaconTest, Raised)), "b-m-p-s-m");
        assert_eq!(cot_type(&alert(Loitering, Cleared)), "t-x-d-d");
    }

    #[test]
    fn hostile_text_is_escaped() {
        let cfg = CotConfig::new("t", CotProtocol::Udp, "127.0.0.1:1");
        let x = to_cot(&alert(AlertKind::DistressBeacon, AlertState::Raised), &cfg);
        assert!(
            x.contains("<remarks>AIS-SART active  &lt;test&gt; &amp; more</remarks>"),
            "{x}"
        );
        assert!(
            x.contains("zone=\"SAR &lt;Malta&gt; &amp; &quot;Lampedusa&quot;\""),
            "{x}"
        );
        assert!(x.contains("stale=\"2026-11-28T06:10:00.000Z\""), "{x}");
        assert!(!x.contains('\u{1}'));
        let mut a = alert(AlertKind::Encounter, AlertState::Raised);
        a.lat = Some(f64::NAN);
        let x = to_cot(&a, &cfg);
        assert!(
            x.contains("lat=\"0.000000\" lon=\"0.000000\" hae=\"0\" ce=\"9999999.0\""),
            "{x}"
        );
    }
}
