//! The process's own metrics on `/metrics`, under the names every
//! Prometheus client library uses (`process_cpu_seconds_total`,
//! `process_resident_memory_bytes`, `process_virtual_memory_bytes`,
//! `process_open_fds`, `process_max_fds`, `process_start_time_seconds`),
//! and `lookout_build_info{version}`.
//!
//! On Linux they are read from `/proc/self` at each scrape (a few small
//! files, no dependency): `stat` for CPU time, virtual size, resident pages
//! and start time (in clock ticks since boot, with `btime` from
//! `/proc/stat`), `auxv` for the clock tick and page size the kernel gives
//! the process, `fd` and `limits` for descriptors. A value that cannot be
//! read is left out rather than reported as 0; on other systems none is.

use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

/// Register `lookout_build_info` (in a registry prefixed `lookout`, as
/// `build`): the version of this build, value 1.
pub fn register_build_info(reg: &mut Registry) {
    reg.register(
        "build",
        "The version of Lookout that is running",
        Info::new(vec![(
            "version".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        )]),
    );
}

/// What was read of the process.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcessStats {
    pub cpu_seconds: Option<f64>,
    pub resident_bytes: Option<u64>,
    pub virtual_bytes: Option<u64>,
    pub open_fds: Option<u64>,
    pub max_fds: Option<u64>,
    /// UNIX seconds.
    pub start_time_seconds: Option<f64>,
}

impl ProcessStats {
    /// The current process's figures (all `None` off Linux).
    pub fn read() -> ProcessStats {
        #[cfg(target_os = "linux")]
        {
            linux::read()
        }
        #[cfg(not(target_os = "linux"))]
        {
            ProcessStats::default()
        }
    }

    /// Register what was read, without a prefix (the names are standard).
    pub fn register(&self, reg: &mut Registry) {
        if let Some(v) = self.cpu_seconds {
            reg.register_with_unit(
                "process_cpu",
                "Total user and system CPU time spent in seconds",
                Unit::Seconds,
                ConstCounter::new(v),
            );
        }
        if let Some(v) = self.resident_bytes {
            reg.register_with_unit(
                "process_resident_memory",
                "Resident memory size in bytes",
                Unit::Bytes,
                ConstGauge::new(v as i64),
            );
        }
        if let Some(v) = self.virtual_bytes {
            reg.register_with_unit(
                "process_virtual_memory",
                "Virtual memory size in bytes",
                Unit::Bytes,
                ConstGauge::new(v as i64),
            );
        }
        if let Some(v) = self.open_fds {
            reg.register(
                "process_open_fds",
                "Number of open file descriptors",
                ConstGauge::new(v as i64),
            );
        }
        if let Some(v) = self.max_fds {
            reg.register(
                "process_max_fds",
                "Maximum number of open file descriptors",
                ConstGauge::new(v as i64),
            );
        }
        if let Some(v) = self.start_time_seconds {
            reg.register_with_unit(
                "process_start_time",
                "Start time of the process since unix epoch in seconds",
                Unit::Seconds,
                ConstGauge::new(v),
            );
        }
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use super::ProcessStats;

    /// `auxv` keys: clock ticks per second, page size.
    const AT_CLKTCK: usize = 17;
    const AT_PAGESZ: usize = 6;

    pub(super) fn read() -> ProcessStats {
        let aux = std::fs::read("/proc/self/auxv").unwrap_or_default();
        let ticks = auxv(&aux, AT_CLKTCK).filter(|&t| t > 0).unwrap_or(100) as f64;
        let page = auxv(&aux, AT_PAGESZ).filter(|&p| p > 0).unwrap_or(4096) as u64;
        let stat = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|s| parse_stat(&s));
        let btime = std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|s| parse_btime(&s));
        ProcessStats {
            cpu_seconds: stat.map(|s| (s.utime + s.stime) as f64 / ticks),
            resident_bytes: stat.map(|s| s.rss_pages.saturating_mul(page)),
            virtual_bytes: stat.map(|s| s.vsize),
            open_fds: std::fs::read_dir("/proc/self/fd")
                .ok()
                .map(|d| d.count() as u64),
            max_fds: std::fs::read_to_string("/proc/self/limits")
                .ok()
                .and_then(|s| parse_max_open_files(&s)),
            start_time_seconds: stat
                .zip(btime)
                .map(|(s, b)| b as f64 + s.starttime as f64 / ticks),
        }
    }

    /// A value of the auxiliary vector (native-endian word pairs).
    fn auxv(aux: &[u8], key: usize) -> Option<usize> {
        const W: usize = std::mem::size_of::<usize>();
        aux.chunks_exact(2 * W).find_map(|pair| {
            let k = usize::from_ne_bytes(pair[..W].try_into().ok()?);
            let v = usize::from_ne_bytes(pair[W..].try_into().ok()?);
            (k == key).then_some(v)
        })
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(super) struct Stat {
        pub utime: u64,
        pub stime: u64,
        pub starttime: u64,
        pub vsize: u64,
        pub rss_pages: u64,
    }

    /// Fields of `/proc/self/stat` (proc(5)); the command name, in
    /// parentheses, may itself hold spaces and parentheses.
    pub(super) fn parse_stat(s: &str) -> Option<Stat> {
        let rest = &s[s.rfind(')')? + 1..];
        // rest starts at field 3 (state).
        let f: Vec<&str> = rest.split_whitespace().collect();
        let n = |field: usize| f.get(field - 3)?.parse::<u64>().ok();
        Some(Stat {
            utime: n(14)?,
            stime: n(15)?,
            starttime: n(22)?,
            vsize: n(23)?,
            rss_pages: n(24)?,
        })
    }

    /// Boot time (UNIX seconds) from `/proc/stat`.
    pub(super) fn parse_btime(s: &str) -> Option<u64> {
        s.lines()
            .find_map(|l| l.strip_prefix("btime "))
            .and_then(|v| v.trim().parse().ok())
    }

    /// The soft limit of open files from `/proc/self/limits` (`None` when
    /// unlimited).
    pub(super) fn parse_max_open_files(s: &str) -> Option<u64> {
        s.lines()
            .find_map(|l| l.strip_prefix("Max open files"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn stat_fields_after_a_command_with_spaces_and_parens() {
            let line = "4242 (tokio (rt) 1) S 1 4242 4242 0 -1 4194560 1234 0 0 0 \
                        250 50 0 0 20 0 9 0 123456 987654321 2048 18446744073709551615 \
                        1 1 0 0 0 0 0 4096 17633 0 0 0 17 1 0 0 0 0 0";
            assert_eq!(
                parse_stat(line),
                Some(Stat {
                    utime: 250,
                    stime: 50,
                    starttime: 123456,
                    vsize: 987654321,
                    rss_pages: 2048,
                })
            );
            assert_eq!(parse_stat("1 (x) S 1 2"), None);
        }

        #[test]
        fn btime_and_open_files_limit() {
            assert_eq!(
                parse_btime("cpu  1 2 3\nintr 5\nbtime 1733782034\nprocesses 9\n"),
                Some(1_733_782_034)
            );
            let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                          Max cpu time              unlimited            unlimited            seconds   \n\
                          Max open files            1024                 524288               files     \n";
            assert_eq!(parse_max_open_files(limits), Some(1024));
            assert_eq!(
                parse_max_open_files("Max open files  unlimited  unlimited  files\n"),
                None
            );
        }

        #[test]
        fn this_process_reads_sensibly() {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs_f64();
            let p = read();
            let start = p.start_time_seconds.unwrap();
            assert!(start <= now + 1.0 && start > now - 3_600.0, "{p:?}");
            assert!(p.resident_bytes.unwrap() > 1 << 20, "{p:?}");
            assert!(
                p.virtual_bytes.unwrap() >= p.resident_bytes.unwrap(),
                "{p:?}"
            );
            let open = p.open_fds.unwrap();
            assert!(open >= 3, "{p:?}");
            if let Some(max) = p.max_fds {
                assert!(open <= max, "{p:?}");
            }
            assert!(p.cpu_seconds.unwrap() >= 0.0, "{p:?}");
        }
    }
}
