//! The operations-room web client's files, answered for every path the API
//! does not claim: from `--web-root DIR` when given (development: edit and
//! reload), else the build compiled into the binary (`web/dist` when the
//! binary was built; `make build` builds the client first), so `lookout
//! serve` serves the map from any directory and as a copied binary.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::path::PathBuf;

/// `web/dist` as it was when this crate was compiled (empty when the
/// client had not been built).
#[derive(rust_embed::RustEmbed)]
#[folder = "../../web/dist"]
#[allow_missing = true]
struct Built;

/// Where the client's files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebSource {
    /// A folder on disk.
    Dir(PathBuf),
    /// The build compiled into the binary.
    Embedded,
    /// No client: the API only.
    None,
}

/// Is a client build compiled in?
pub fn embedded_available() -> bool {
    Built::get("index.html").is_some()
}

/// The source for `--web-root` (None: not given).
pub fn choose(web_root: Option<PathBuf>) -> WebSource {
    match web_root {
        Some(root) if root.is_dir() => WebSource::Dir(root),
        Some(root) => {
            tracing::info!(path = %root.display(), "no web client at --web-root; serving the API only");
            WebSource::None
        }
        None if embedded_available() => WebSource::Embedded,
        None => {
            tracing::info!("no web client built into this binary (run `make web` before building); serving the API only");
            WebSource::None
        }
    }
}

/// The fallback router for `source`.
pub fn router(source: &WebSource) -> Option<Router> {
    match source {
        WebSource::Dir(root) => {
            Some(Router::new().fallback_service(tower_http::services::ServeDir::new(root)))
        }
        WebSource::Embedded => Some(Router::new().fallback(embedded)),
        WebSource::None => None,
    }
}

/// One compiled-in file: `/` is `index.html`; ETag from the file's hash,
/// so a reload revalidates cheaply; GET and HEAD only.
async fn embedded(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let path = uri.path().trim_start_matches('/');
    let path = if path.is_empty() || path.ends_with('/') {
        format!("{path}index.html")
    } else {
        path.to_string()
    };
    let Some(file) = Built::get(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!(
        "\"{}\"",
        file.metadata
            .sha256_hash()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let mut resp = if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else if method == Method::HEAD {
        Response::new(Body::empty())
    } else {
        Response::new(Body::from(file.data.into_owned()))
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(file.metadata.mimetype()) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}
