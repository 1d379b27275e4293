//! `lookout decode` as a user runs it: files, stdin, gzip, `--stats`, bad
//! lines, exit codes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn lookout() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lookout"))
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/ais")
        .join(name)
}

fn run_with_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = lookout()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn json_lines(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn decodes_a_file_to_gpsd_style_json_lines() {
    let out = lookout()
        .args(["decode"])
        .arg(fixture("gpsd_sample.aivdm"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let msgs = json_lines(&out.stdout);
    assert!(msgs.len() > 90, "{} messages", msgs.len());
    let first = &msgs[0];
    assert_eq!(first["class"], "AIS");
    assert_eq!(first["type"], 1);
    assert_eq!(first["mmsi"], 371798000);
    assert_eq!(first["speed"], 12.3);
    assert_eq!(first["lat"], 48.381633);
    assert_eq!(first["lon"], -123.395383);
    assert_eq!(first["talker"], "AI");
    assert_eq!(first["channel"], "A");
    // Type 5 with its voyage data.
    let t5 = msgs.iter().find(|m| m["type"] == 5).unwrap();
    assert_eq!(t5["shipname"], "EVER DIADEM");
    assert_eq!(t5["callsign"], "3FOF8");
    assert_eq!(t5["eta"], "05-15T14:00Z");
    assert_eq!(t5["draught"], 12.2);
    // Not-available values are null: the second report has heading 511.
    assert!(msgs[1]["heading"].is_null());
    assert!(msgs[1]["turn"].is_null());
}

#[test]
fn reads_stdin_with_dash_or_no_file_and_carries_tag_blocks() {
    let input = std::fs::read(fixture("kystverket_tagblocks.nmea")).unwrap();
    let a = run_with_stdin(&["decode", "-"], &input);
    let b = run_with_stdin(&["decode"], &input);
    assert!(a.status.success() && b.status.success());
    assert_eq!(a.stdout, b.stdout);
    let msgs = json_lines(&a.stdout);
    let tagged = msgs.iter().find(|m| m["tagblock"].is_object()).unwrap();
    assert!(tagged["tagblock"]["s"].is_string());
    assert!(tagged["tagblock"]["c"].as_i64().unwrap() > 1_700_000_000);
    assert_eq!(tagged["talker"], "BS");
    let gpsd_only = run_with_stdin(&["decode", "--gpsd-only"], &input);
    assert!(!String::from_utf8_lossy(&gpsd_only.stdout).contains("tagblock"));
}

#[test]
fn reads_gzip_files() {
    let plain = std::fs::read(fixture("pyais_nmea_data_sample.nmea")).unwrap();
    let dir = std::env::temp_dir().join(format!("lookout-decode-gz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let gz = dir.join("sample.nmea.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&plain).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let from_gz = lookout().arg("decode").arg(&gz).output().unwrap();
    let from_plain = lookout()
        .arg("decode")
        .arg(fixture("pyais_nmea_data_sample.nmea"))
        .output()
        .unwrap();
    assert!(from_gz.status.success());
    assert!(!from_gz.stdout.is_empty());
    assert_eq!(from_gz.stdout, from_plain.stdout);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn bad_lines_are_skipped_and_counted_and_exit_is_zero() {
    let input = b"garbage\n\
        !AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4B\n\
        !AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A\n\
        $GPGGA,184353.07,1929.045,S,02410.506,E,1,04,2.6,100.00,M,-33.9,M,,0000*6D\n\
        !AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0\n";
    let out = run_with_stdin(&["decode", "--stats"], input);
    assert!(out.status.success());
    assert_eq!(json_lines(&out.stdout).len(), 1);
    let stats = String::from_utf8_lossy(&out.stderr);
    assert!(stats.contains("lines: 5"), "{stats}");
    assert!(stats.contains("messages: 1"), "{stats}");
    assert!(stats.contains("type 1: 1"), "{stats}");
    assert!(stats.contains("bad_checksum: 1"), "{stats}");
    assert!(stats.contains("missing_checksum: 1"), "{stats}");
    assert!(stats.contains("non_ais_lines: 2"), "{stats}");
}

#[test]
fn unreadable_input_is_an_error_but_other_files_still_decode() {
    let out = lookout()
        .arg("decode")
        .arg("/nonexistent/feed.nmea")
        .arg(fixture("pyais_sample.nmea"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/feed.nmea"));
    assert!(!json_lines(&out.stdout).is_empty());
}

#[test]
fn type_24_parts_are_separate_objects() {
    let out = lookout()
        .arg("decode")
        .arg(fixture("kystverket_tagblocks.nmea"))
        .output()
        .unwrap();
    let msgs = json_lines(&out.stdout);
    let parts: Vec<_> = msgs
        .iter()
        .filter(|m| m["type"] == 24)
        .map(|m| m["part"].as_str().unwrap().to_string())
        .collect();
    assert!(parts.contains(&"A".to_string()) && parts.contains(&"B".to_string()));
}
