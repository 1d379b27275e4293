//! A real `nats-server` for tests: started on 127.0.0.1 on a free port with
//! JetStream in a temporary folder, stopped (and its folder removed) when
//! dropped. `make test` installs the Debian package `nats-server`; when the
//! binary is absent outside CI, [`NatsServer::start`] says so loudly and
//! returns `None` so the caller can skip; in CI (`CI` set) it panics.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The JetStream file storage the test servers may reserve, bytes (1 TiB).
/// By default nats-server allows 75 % of the disk's free space, and refuses
/// a stream whose `max_bytes` (the raw stream's default is 10 GiB) does not
/// fit in it — on a nearly full disk every cluster test would fail with
/// "insufficient storage" though the tests store a few megabytes. Streams
/// still only take the space they use.
const JS_MAX_FILE_STORE: u64 = 1 << 40;

/// A running nats-server.
pub struct NatsServer {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

/// The nats-server binary, if installed.
pub fn binary() -> Option<PathBuf> {
    ["/usr/sbin/nats-server", "/usr/bin/nats-server"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .or_else(|| {
            std::env::var_os("PATH").and_then(|path| {
                std::env::split_paths(&path)
                    .map(|d| d.join("nats-server"))
                    .find(|p| p.exists())
            })
        })
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

fn unique_dir(tag: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("lookout-nats-{tag}-{}-{n}", std::process::id()))
}

impl NatsServer {
    /// `nats-server -js -sd <tmp> -a 127.0.0.1 -p <port>`.
    pub fn start() -> Option<NatsServer> {
        Self::start_with("", "js")
    }

    /// Start with extra configuration text (leaf nodes, accounts, …) added
    /// to a generated config that sets the address, port and JetStream
    /// folder.
    pub fn start_with(extra_config: &str, tag: &str) -> Option<NatsServer> {
        let Some(bin) = binary() else {
            if std::env::var_os("CI").is_some() {
                panic!("nats-server is not installed (make test-deps installs it)");
            }
            eprintln!(
                "\n\n!!! SKIPPED: nats-server is not installed; `make test-deps` (as root) installs it !!!\n"
            );
            return None;
        };
        let dir = unique_dir(tag);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let port = free_port();
        let conf = dir.join("nats.conf");
        let mut f = std::fs::File::create(&conf).expect("nats.conf");
        write!(
            f,
            "listen: \"127.0.0.1:{port}\"\njetstream {{ store_dir: \"{}\", max_file_store: {JS_MAX_FILE_STORE} }}\n{extra_config}\n",
            dir.join("js").display()
        )
        .expect("nats.conf");
        drop(f);
        let log = std::fs::File::create(dir.join("nats.log")).expect("nats.log");
        let child = Command::new(bin)
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start nats-server");
        let server = NatsServer { child, port, dir };
        server.wait_ready();
        Some(server)
    }

    fn wait_ready(&self) {
        let addr: SocketAddr = ([127, 0, 0, 1], self.port).into();
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nats-server did not start: {}",
                std::fs::read_to_string(self.dir.join("nats.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Rewrite the extra configuration and make the server reload it
    /// (SIGHUP): permission changes, removed users, closed leaf nodes.
    pub fn reload(&self, extra_config: &str) {
        self.reload_file(extra_config);
        let st = Command::new("kill")
            .arg("-HUP")
            .arg(self.child.id().to_string())
            .status()
            .expect("kill -HUP");
        assert!(st.success());
    }

    fn reload_file(&self, extra_config: &str) {
        let conf = self.dir.join("nats.conf");
        std::fs::write(
            &conf,
            format!(
                "listen: \"127.0.0.1:{}\"\njetstream {{ store_dir: \"{}\", max_file_store: {JS_MAX_FILE_STORE} }}\n{extra_config}\n",
                self.port,
                self.dir.join("js").display()
            ),
        )
        .expect("nats.conf");
    }

    /// Stop the server and start it again on the same port and folder with
    /// new extra configuration (Debian's nats-server 2.9 keeps existing
    /// leaf connections across a reload, so revoking one takes a restart).
    pub fn restart_with(&mut self, extra_config: &str) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.reload_file(extra_config);
        let log = std::fs::OpenOptions::new()
            .append(true)
            .open(self.dir.join("nats.log"))
            .expect("nats.log");
        self.child = Command::new(binary().expect("nats-server"))
            .arg("-c")
            .arg(self.dir.join("nats.conf"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("restart nats-server");
        self.wait_ready();
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The server's log so far (for failing tests).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("nats.log")).unwrap_or_default()
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
