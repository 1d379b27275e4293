//! Serving: bind the one port, accept connections within the limits, run
//! until SIGINT/SIGTERM (or the given shutdown signal), then tell every
//! WebSocket client and drain.
//!
//! Each accepted connection first takes a slot ([`crate::conn`]): beyond
//! `max_connections` open, or `max_connections_per_address` from one IP
//! address, it is answered 503 and closed. Then hyper serves it (HTTP/1.1,
//! upgrades to WebSocket) with a header read timeout (`header_timeout_ms`,
//! which also closes idle keep-alive connections) and a bounded head
//! buffer (`max_header_bytes`); the router adds the per-request limits
//! ([`crate::http::app`]). See `docs/security.md`.
//!
//! Shutdown is bounded: open connections are asked to finish the request
//! they are on (no new one is read), and whatever is still open after
//! [`SHUTDOWN_GRACE`] — a client holding a half-sent request head or body,
//! say — is closed, so no client can hold the server's exit.

use crate::conn::{refusal_response, ConnLimiter, SlotIo};
use crate::http::{app, AppState};
use crate::protocol::MIN_HEADER_BYTES;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// How long shutdown waits for open HTTP connections to finish the request
/// they are on; then they are closed. Without it a client sending a request
/// head or body slowly would hold the exit until `header_timeout_ms` or
/// `body_timeout_ms` (issue 14).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Bind `addr` (refusing to run without authentication off loopback) and
/// serve `app` until `shutdown` resolves. Clients are sent a close frame
/// ("server shutting down") before the listener stops.
pub async fn serve(
    addr: SocketAddr,
    app: AppState,
    shutdown_tx: tokio::sync::watch::Sender<bool>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    app.auth
        .check_listen(&addr)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::PermissionDenied, e))?;
    let listener = TcpListener::bind(addr).await?;
    serve_on(listener, app, shutdown_tx, shutdown).await
}

/// Like [`serve_on`], with `web` (the operations-room client's files) for
/// every path the API does not claim. The client's files are public (they
/// hold no data); the data they fetch is behind the API's tokens.
pub async fn serve_with_files(
    listener: TcpListener,
    state: AppState,
    web: Option<axum::Router>,
    shutdown_tx: tokio::sync::watch::Sender<bool>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let hub = state.hub.clone();
    let limits = *hub.limits();
    limits
        .validate()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    if !state.auth.enabled() {
        tracing::warn!(addr = %listener.local_addr()?, "authentication is OFF (allowed on loopback only)");
    }
    let service = app(state, web);
    let limiter = Arc::new(ConnLimiter::new(
        limits.max_connections,
        limits.max_connections_per_address,
        hub.clone(),
    ));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.max_header_bytes.max(MIN_HEADER_BYTES));
    // `stop` tells the connections to finish (graceful shutdown), `close`
    // drops those still open after the grace period; every connection task
    // holds a `running` receiver, so `running_tx.closed()` resolves when the
    // last one has ended.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (close_tx, close_rx) = tokio::sync::watch::channel(false);
    let (running_tx, running_rx) = tokio::sync::watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment
                    // rather than spin.
                    tracing::error!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            },
        };
        let slot = match limiter.admit(peer.ip()) {
            Ok(slot) => slot,
            Err(refusal) => {
                // The socket is new: its send buffer takes the whole answer
                // without waiting.
                let _ = stream.try_write(&refusal_response(refusal));
                tracing::debug!(%peer, ?refusal, "connection refused: at the limit");
                continue;
            }
        };
        let io = TokioIo::new(SlotIo { stream, slot });
        let conn = http
            .serve_connection(io, TowerToHyperService::new(service.clone()))
            .with_upgrades();
        let mut stop = stop_rx.clone();
        let mut close = close_rx.clone();
        let running = running_rx.clone();
        let hub = hub.clone();
        tokio::spawn(async move {
            let mut conn = std::pin::pin!(conn);
            let mut stopping = false;
            let result = loop {
                tokio::select! {
                    r = conn.as_mut() => break Some(r),
                    _ = stop.changed(), if !stopping => {
                        stopping = true;
                        conn.as_mut().graceful_shutdown();
                    }
                    // The grace period is over (or the server is gone):
                    // drop the connection, whatever it was waiting for.
                    _ = close.changed() => break None,
                }
            };
            if let Some(Err(e)) = result {
                let http = &hub.stats.http;
                if e.is_timeout() {
                    http.header_timeouts.fetch_add(1, Ordering::Relaxed);
                } else {
                    http.connection_errors.fetch_add(1, Ordering::Relaxed);
                }
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(running);
        });
    }
    tracing::info!(
        clients = hub.client_count(),
        "shutting down: closing WebSocket clients"
    );
    let _ = shutdown_tx.send(true);
    drop(listener);
    let _ = stop_tx.send(true);
    drop(running_rx);
    if tokio::time::timeout(SHUTDOWN_GRACE, running_tx.closed())
        .await
        .is_err()
    {
        tracing::warn!(
            connections = running_tx.receiver_count(),
            grace_s = SHUTDOWN_GRACE.as_secs_f64(),
            "shutting down: closing connections whose request did not finish in time"
        );
        let _ = close_tx.send(true);
        // Dropping a connection is immediate; the tasks only need a turn.
        let _ = tokio::time::timeout(Duration::from_secs(1), running_tx.closed()).await;
    }
    Ok(())
}

/// Errors of one connection attempt (the listener is fine).
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset | Interrupted | WouldBlock
    )
}

/// Like [`serve`] on an already bound listener (tests bind port 0).
pub async fn serve_on(
    listener: TcpListener,
    app: AppState,
    shutdown_tx: tokio::sync::watch::Sender<bool>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with_files(listener, app, None, shutdown_tx, shutdown).await
}

/// Resolves on SIGINT or SIGTERM.
pub async fn signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
