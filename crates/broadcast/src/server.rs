//! Serving: bind the one port, run until SIGINT/SIGTERM (or the given
//! shutdown signal), then tell every WebSocket client and drain.

use crate::http::{router, AppState};
use std::net::SocketAddr;
use tokio::net::TcpListener;

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

/// Like [`serve_on`], also serving the static files under `web_root` (the
/// operations-room client) for every path the API does not claim. The
/// client's files are public (they hold no data); the data they fetch is
/// behind the API's tokens.
pub async fn serve_with_files(
    listener: TcpListener,
    app: AppState,
    web_root: Option<std::path::PathBuf>,
    shutdown_tx: tokio::sync::watch::Sender<bool>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let hub = app.hub.clone();
    if !app.auth.enabled() {
        tracing::warn!(addr = %listener.local_addr()?, "authentication is OFF (allowed on loopback only)");
    }
    let mut router = router(app);
    if let Some(root) = web_root {
        router = router.fallback_service(tower_http::services::ServeDir::new(root));
    }
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!(
                clients = hub.client_count(),
                "shutting down: closing WebSocket clients"
            );
            let _ = shutdown_tx.send(true);
        })
        .await
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
