//! One binary serves everything: the web client compiled into `lookout`
//! is served at `/` from any working directory (no `web/dist` beside it),
//! and `[auth] cors_origins` lets a dashboard on another origin call the
//! API from a browser — preflight included, tokens still required — while
//! other origins get no CORS grant.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Serve {
    child: Child,
    addr: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `lookout serve` run from `cwd` (a folder with nothing of the project).
fn serve(cwd: &std::path::Path, config: &str) -> Serve {
    let cfg = cwd.join("lookout.toml");
    std::fs::write(&cfg, config).unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    // A copy of the binary, as an operator would install it.
    let bin = cwd.join("lookout");
    std::fs::copy(env!("CARGO_BIN_EXE_lookout"), &bin).unwrap();
    let child = Command::new(&bin)
        .current_dir(cwd)
        .args(["serve", "--config", "lookout.toml", "--listen", &addr])
        .arg("--state-dir")
        .arg(cwd.join("state"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while TcpStream::connect(&addr).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "serve did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Serve { child, addr }
}

/// One raw HTTP/1.1 request: (status line and headers lowercased, body).
fn request(addr: &str, method: &str, path: &str, headers: &[(&str, &str)]) -> (String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&out[..split]).to_lowercase();
    (head, out[split + 4..].to_vec())
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .map(str::trim)
}

#[test]
fn the_built_in_client_is_served_from_any_directory() {
    let dir = tempfile::tempdir().unwrap();
    let s = serve(dir.path(), "zones = []\n[demo]\nspeed = 60\n");
    let (head, body) = request(&s.addr, "GET", "/", &[]);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(header(&head, "content-type")
        .unwrap()
        .starts_with("text/html"));
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains("app.js"), "the client's index.html: {html}");
    // Its script and style, with their types; revalidation by ETag.
    let (head, body) = request(&s.addr, "GET", "/app.js", &[]);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        header(&head, "content-type")
            .unwrap()
            .contains("javascript"),
        "{head}"
    );
    assert!(body.len() > 10_000);
    let etag = header(&head, "etag").unwrap().to_string();
    let (head, _) = request(&s.addr, "GET", "/app.js", &[("If-None-Match", &etag)]);
    assert!(head.starts_with("http/1.1 304"), "{head}");
    let (head, _) = request(&s.addr, "GET", "/app.css", &[]);
    assert!(header(&head, "content-type")
        .unwrap()
        .starts_with("text/css"));
    // The API beside it; unknown files are 404.
    let (head, _) = request(&s.addr, "GET", "/api/status", &[]);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let (head, _) = request(&s.addr, "GET", "/no-such-file.js", &[]);
    assert!(head.starts_with("http/1.1 404"), "{head}");
}

#[test]
fn cors_grants_the_configured_origins_only() {
    let dir = tempfile::tempdir().unwrap();
    // SHA-256 of the token, from the binary itself (token on stdin).
    let hash = {
        let mut c = Command::new(env!("CARGO_BIN_EXE_lookout"))
            .args(["token", "hash"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin
            .take()
            .unwrap()
            .write_all(b"dashboard-token\n")
            .unwrap();
        let out = c.wait_with_output().unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    assert_eq!(hash.len(), 64, "{hash}");
    let s = serve(
        dir.path(),
        &format!(
            "zones = []\n[demo]\nspeed = 60\n[auth]\nenabled = true\n\
             cors_origins = [\"https://dashboard.example.org\"]\n\
             [[auth.tokens]]\nname = \"dashboard\"\nrole = \"viewer\"\nsha256 = \"{hash}\"\n"
        ),
    );
    let origin = "https://dashboard.example.org";
    // Preflight: answered without a token (browsers send none).
    let (head, _) = request(
        &s.addr,
        "OPTIONS",
        "/api/vessels",
        &[
            ("Origin", origin),
            ("Access-Control-Request-Method", "GET"),
            ("Access-Control-Request-Headers", "authorization"),
        ],
    );
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(header(&head, "access-control-allow-origin"), Some(origin));
    assert!(header(&head, "access-control-allow-headers")
        .unwrap()
        .contains("authorization"));
    assert!(header(&head, "access-control-allow-methods")
        .unwrap()
        .contains("get"));
    // The real request: granted, and still needs the token.
    let (head, _) = request(&s.addr, "GET", "/api/vessels", &[("Origin", origin)]);
    assert!(head.starts_with("http/1.1 401"), "{head}");
    let (head, _) = request(
        &s.addr,
        "GET",
        "/api/vessels",
        &[
            ("Origin", origin),
            ("Authorization", "Bearer dashboard-token"),
        ],
    );
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(header(&head, "access-control-allow-origin"), Some(origin));
    // Another origin: no grant.
    let (head, _) = request(
        &s.addr,
        "GET",
        "/api/vessels",
        &[
            ("Origin", "https://evil.example"),
            ("Authorization", "Bearer dashboard-token"),
        ],
    );
    assert_eq!(header(&head, "access-control-allow-origin"), None, "{head}");
}

#[test]
fn a_malformed_origin_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("lookout.toml"),
        "zones = []\n[auth]\nenabled = false\ncors_origins = [\"dashboard.example.org/path\"]\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lookout"))
        .current_dir(dir.path())
        .args([
            "serve",
            "--config",
            "lookout.toml",
            "--listen",
            "127.0.0.1:0",
        ])
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cors_origins"), "{err}");
}
