//! A `lookout serve` child process for the multi-process tests (cluster,
//! federation): started from the built binary in the repository root,
//! its address read from its "listening on" line, the rest of its log
//! copied to a file for a post-mortem, and killed when dropped.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The `lookout` binary, run from the repository root.
pub fn lookout() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lookout"));
    c.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."));
    c
}

/// A running `lookout serve`, killed when dropped.
pub struct Node {
    pub child: Child,
    /// `ip:port` it listens on.
    pub addr: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Node {
    /// Start `serve` (a `lookout serve …` command, listening on port 0)
    /// and wait for its address; its log goes to `log`.
    pub fn start(name: &str, mut serve: Command, log: PathBuf) -> Node {
        let mut child = serve
            .env("RUST_LOG", "warn,lookout=info")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let addr = loop {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("{name} exited before listening"))
                .unwrap();
            if let Some(rest) = line.split("listening on http://").nth(1) {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        std::thread::spawn(move || {
            let mut f = std::fs::File::create(log).unwrap();
            for l in lines.map_while(Result::ok) {
                let _ = writeln!(f, "{l}");
            }
        });
        Node { child, addr }
    }
}
