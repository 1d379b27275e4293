//! Runs the independent Python parsers of `tests/python/requirements.txt`
//! (installed by `make test-deps` into `target/py`) on Lookout's outputs.
//!
//! Include with `#[path = "python_support.rs"] mod python;`. The
//! interpreter is `$LOOKOUT_PYTHON` or `target/py/bin/python3`; a test that
//! needs it fails with a clear message when neither exists (run
//! `make test-deps`), it never skips silently.

#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The workspace root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The interpreter with the reference parsers.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("LOOKOUT_PYTHON") {
        return PathBuf::from(p);
    }
    let p = repo().join("target/py/bin/python3");
    assert!(
        p.exists(),
        "{} is missing: run `make test-deps` (installs tests/python/requirements.txt)",
        p.display()
    );
    p
}

/// Run `script` (Python source) with `stdin` on its standard input and
/// `args` as `sys.argv[1:]`; return its standard output. Panics with the
/// script's standard error when it exits non-zero.
pub fn run(script: &str, args: &[&str], stdin: &[u8]) -> String {
    let mut child = Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin)
        .expect("write to python");
    let out = child.wait_with_output().expect("python ran");
    assert!(
        out.status.success(),
        "python failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("python printed UTF-8")
}
