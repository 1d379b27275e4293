//! One connection to a TAK server's CoT stream input: plain TCP (e.g.
//! port 8087) or TLS with a client certificate (e.g. 8089, the way TAK
//! servers authenticate machines), one document per event followed by a
//! newline.
//!
//! A reader task reads and ignores what the server sends (pings, or
//! garbage from a hostile peer) until it closes or resets the connection,
//! then flags it, so the caller reconnects before the next event instead
//! of writing into a dead socket. Reconnecting is the caller's loop, with
//! [`Backoff`] between attempts.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// `tls = { ca, cert, key, server_name }`: PEM files.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsFiles {
    /// The CA (one or more certificates) the server's certificate must
    /// chain to.
    pub ca: PathBuf,
    /// This client's certificate chain; with `key`, or neither.
    pub cert: Option<PathBuf>,
    /// Its private key (PKCS#8, PKCS#1 or SEC1).
    pub key: Option<PathBuf>,
    /// The name the server's certificate must carry (default: the host of
    /// the address, a DNS name or an IP address).
    pub server_name: Option<String>,
}

/// A TLS client ready to connect (the files read and checked once).
#[derive(Clone)]
pub struct TlsSettings {
    connector: tokio_rustls::TlsConnector,
    server_name: Option<ServerName<'static>>,
}

impl std::fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSettings")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl TlsSettings {
    /// Read the PEM files; errors are sentences naming the file.
    pub fn load(files: &TlsFiles) -> Result<TlsSettings, String> {
        let certs = |p: &PathBuf| -> Result<Vec<CertificateDer<'static>>, String> {
            let v = CertificateDer::pem_file_iter(p)
                .and_then(|i| i.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("{}: {e}", p.display()))?;
            if v.is_empty() {
                return Err(format!("{}: no PEM certificate in it", p.display()));
            }
            Ok(v)
        };
        let mut roots = rustls::RootCertStore::empty();
        for c in certs(&files.ca)? {
            roots
                .add(c)
                .map_err(|e| format!("{}: {e}", files.ca.display()))?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots);
        let config = match (&files.cert, &files.key) {
            (Some(cert), Some(key)) => {
                let chain = certs(cert)?;
                let key = PrivateKeyDer::from_pem_file(key)
                    .map_err(|e| format!("{}: {e}", key.display()))?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| format!("client certificate and key: {e}"))?
            }
            (None, None) => builder.with_no_client_auth(),
            _ => return Err("tls: cert and key go together (both or neither)".into()),
        };
        let server_name = match &files.server_name {
            Some(n) => Some(
                ServerName::try_from(n.clone())
                    .map_err(|e| format!("tls: server_name {n:?}: {e}"))?,
            ),
            None => None,
        };
        Ok(TlsSettings {
            connector: tokio_rustls::TlsConnector::from(Arc::new(config)),
            server_name,
        })
    }
}

trait Writer: AsyncWrite + Send + Unpin {}
impl<T: AsyncWrite + Send + Unpin> Writer for T {}

/// An open connection.
pub struct Conn {
    write: Box<dyn Writer>,
    closed: Arc<AtomicBool>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// Every address `host:port` resolves to (at each connect, so a TAK
/// server that moves is found again).
pub async fn resolve(address: &str) -> std::io::Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host(address).await?.collect();
    if addrs.is_empty() {
        return Err(std::io::Error::other(format!(
            "{address}: no address found"
        )));
    }
    Ok(addrs)
}

async fn tcp(address: &str) -> std::io::Result<TcpStream> {
    let mut last = None;
    for a in resolve(address).await? {
        match TcpStream::connect(a).await {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no address")))
}

fn host_of(address: &str) -> &str {
    let host = address.rsplit_once(':').map_or(address, |(h, _)| h);
    host.trim_start_matches('[').trim_end_matches(']')
}

impl Conn {
    /// Connect (and, with `tls`, handshake) within `timeout`. `on_close`
    /// runs once when the server closes the connection.
    pub async fn connect(
        address: &str,
        tls: Option<&TlsSettings>,
        timeout: Duration,
        on_close: impl FnOnce() + Send + 'static,
    ) -> std::io::Result<Conn> {
        let open = async {
            let s = tcp(address).await?;
            let _ = s.set_nodelay(true);
            match tls {
                None => {
                    let (r, w) = s.into_split();
                    Ok::<_, std::io::Error>(Conn::new(r, Box::new(w), on_close))
                }
                Some(t) => {
                    let name = match &t.server_name {
                        Some(n) => n.clone(),
                        None => ServerName::try_from(host_of(address).to_string())
                            .map_err(|e| std::io::Error::other(format!("server name: {e}")))?,
                    };
                    let s = t.connector.connect(name, s).await?;
                    let (r, w) = tokio::io::split(s);
                    Ok(Conn::new(r, Box::new(w), on_close))
                }
            }
        };
        tokio::time::timeout(timeout, open)
            .await
            .map_err(|_| std::io::Error::other("connect timed out"))?
    }

    fn new(
        read: impl AsyncRead + Send + Unpin + 'static,
        write: Box<dyn Writer>,
        on_close: impl FnOnce() + Send + 'static,
    ) -> Conn {
        let closed = Arc::new(AtomicBool::new(false));
        let flag = closed.clone();
        let reader = tokio::spawn(async move {
            let mut read = read;
            let mut buf = [0u8; 4096];
            loop {
                match read.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
            flag.store(true, Ordering::Release);
            on_close();
        });
        Conn {
            write,
            closed,
            reader,
        }
    }

    /// Has the server closed it?
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Write one document and a newline, and flush, within `timeout`. After
    /// an error the connection is useless: drop it.
    pub async fn send(&mut self, doc: &[u8], timeout: Duration) -> std::io::Result<()> {
        let w = &mut self.write;
        tokio::time::timeout(timeout, async {
            w.write_all(doc).await?;
            w.write_all(b"\n").await?;
            w.flush().await
        })
        .await
        .unwrap_or_else(|_| Err(std::io::Error::other("write timed out")))
    }

    /// Close the writing side (TLS: `close_notify`) within a second.
    pub async fn shutdown(&mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(1), self.write.shutdown()).await;
    }
}

/// Reconnect delays: doubling from `initial` up to `max`, ±20 % jitter so
/// many clients of one server do not come back in step.
pub struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        Backoff {
            initial,
            max: max.max(initial),
            next: initial,
        }
    }

    /// The delay before the next try (and double the one after, capped).
    pub fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(self.max);
        let jitter = 0.8 + fastrand::f64() * 0.4;
        d.mul_f64(jitter).min(self.max)
    }

    pub fn reset(&mut self) {
        self.next = self.initial;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(1000));
        let d: Vec<u128> = (0..8).map(|_| b.next_delay().as_millis()).collect();
        assert!((80..=120).contains(&d[0]), "{d:?}");
        assert!((160..=240).contains(&d[1]), "{d:?}");
        assert!(d[6] <= 1000 && d[6] >= 800, "{d:?}");
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(120));
    }

    #[test]
    fn hosts_of_addresses() {
        assert_eq!(host_of("tak.example.org:8089"), "tak.example.org");
        assert_eq!(host_of("127.0.0.1:8089"), "127.0.0.1");
        assert_eq!(host_of("[::1]:8089"), "::1");
    }

    #[test]
    fn missing_files_are_named() {
        let e = TlsSettings::load(&TlsFiles {
            ca: "/nonexistent/ca.pem".into(),
            ..TlsFiles::default()
        })
        .unwrap_err();
        assert!(e.contains("/nonexistent/ca.pem"), "{e}");
    }
}
