//! Shared by the SAR tests (`sar_api.rs`, `sar_crash.rs`): run the real
//! `lookout` binary, talk plain HTTP/1.1 to it over 127.0.0.1.

#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn lookout() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lookout"));
    c.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."));
    c
}

/// A fresh temporary folder for one test.
pub fn tmp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lookout-sar-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A simulated recording of `duration` (the bundled scenario: the AIS-SART
/// activates at 20 min), written once per test binary and name.
pub fn simulated(dir: &Path, duration: &str) -> PathBuf {
    let out = dir.join(format!("sim-{duration}.nmea"));
    let st = lookout()
        .args(["simulate", "--duration", duration, "-o"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    out
}

/// `lookout token hash` of a token.
pub fn token_hash(token: &str) -> String {
    let mut child = lookout()
        .args(["token", "hash"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(token.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Start `lookout serve` with `args`; returns the child and its address.
pub fn serve(args: &[&str]) -> (Child, String) {
    let mut child = lookout()
        .arg("serve")
        .args(["--listen", "127.0.0.1:0", "--web-root", "/nonexistent"])
        .args(args)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = match lines.next() {
            Some(Ok(l)) => l,
            _ => panic!("serve exited before listening: {:?}", child.try_wait()),
        };
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, addr)
}

/// One HTTP request; `(status, JSON body or Null)`. `Err` when the
/// connection failed or closed before a full answer (a killed server).
pub async fn try_request(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Result<(u16, Value), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).await.map_err(|e| e.to_string())?;
    let resp = String::from_utf8_lossy(&resp).to_string();
    let status: u16 = resp
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status line: {resp:?}"))?;
    let (head, body) = resp
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no header end: {resp:?}"))?;
    if let Some(len) = head.lines().find_map(|l| {
        l.to_ascii_lowercase()
            .strip_prefix("content-length:")
            .map(|v| v.trim().to_string())
    }) {
        let len: usize = len.parse().map_err(|_| "bad content-length")?;
        if body.len() < len {
            return Err(format!("short body ({} of {len})", body.len()));
        }
    }
    let v = if body.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(body).map_err(|e| format!("{e}: {body}"))?
    };
    Ok((status, v))
}

pub async fn request(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    try_request(addr, method, path, token, body)
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// Wait until the replay has been read to its end and the queue drained.
pub async fn wait_for_replay(addr: &str, token: Option<&str>) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (_, st) = request(addr, "GET", "/api/status", token, None).await;
        let (_, sources) = request(addr, "GET", "/api/sources", token, None).await;
        let finished = sources.as_array().is_some_and(|a| {
            a.iter()
                .any(|s| s["name"] == "replay" && s["state"] == "finished")
        });
        if finished && st["queue_depth"].as_u64() == Some(0) {
            tokio::time::sleep(Duration::from_millis(500)).await;
            return;
        }
        assert!(
            Instant::now() < deadline,
            "replay never finished: {st} {sources}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
