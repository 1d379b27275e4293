//! `lookout simulate` as a user runs it: the bundled scenario or a file,
//! written to a file, read back by `lookout decode` and by gpsd's reference
//! decoder.

use std::path::Path;
use std::process::Command;

fn lookout() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lookout"))
}

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("lookout-sim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn simulated_hour_decodes_cleanly_and_is_deterministic() {
    let a = tmp("a.nmea");
    let b = tmp("b.nmea");
    for out in [&a, &b] {
        let st = lookout()
            .args(["simulate", "--duration", "30m", "-o"])
            .arg(out)
            .status()
            .unwrap();
        assert!(st.success());
    }
    let (ta, tb) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert_eq!(ta, tb, "same scenario, same bytes");
    let out = lookout()
        .arg("decode")
        .arg("--stats")
        .arg(&a)
        .output()
        .unwrap();
    let stats = String::from_utf8_lossy(&out.stderr);
    assert!(stats.contains("errors: 0"), "{stats}");
    let decoded = String::from_utf8_lossy(&out.stdout).lines().count();
    assert!(decoded > 40_000, "{decoded}");
    // gpsd's decoder reads every message too.
    if Path::new("/usr/bin/gpsdecode").exists() {
        let gpsd = Command::new("gpsdecode")
            .arg("-s")
            .stdin(std::fs::File::open(&a).unwrap())
            .output()
            .unwrap();
        let n = String::from_utf8_lossy(&gpsd.stdout).lines().count();
        assert_eq!(n, decoded);
    }
}

#[test]
fn scenario_file_errors_are_clear() {
    let bad = tmp("bad.toml");
    std::fs::write(&bad, "name = 'x'\nstart = 'not a time'\n").unwrap();
    let out = lookout()
        .args(["simulate", "--scenario"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml") && err.contains("start"), "{err}");
}
