//! Fuzz target: framing, TAG blocks, reassembly, de-armouring, message
//! decoding and JSON rendering, on arbitrary bytes split into lines. Checks
//! that nothing panics and that the reassembly table stays bounded.
//!
//! Run: `make fuzz` (or `cd fuzz && cargo +nightly fuzz run decode_line`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use lookout_ais::assembler::AssemblerLimits;
use lookout_ais::json::{write_gpsd_json, JsonOptions};
use lookout_ais::nmea::FrameOptions;
use lookout_ais::{Decoder, DecoderOptions, LineContext};

fuzz_target!(|data: &[u8]| {
    // Lax framing reaches the deeper decoders more often.
    let lax = data.first().is_some_and(|b| b & 1 == 1);
    let mut decoder = Decoder::new(DecoderOptions {
        frame: FrameOptions {
            verify_checksum: !lax,
            allow_missing_checksum: lax,
        },
        assembler: AssemblerLimits {
            max_pending: 8,
            max_age_lines: 64,
            max_age_ms: 1000,
        },
    });
    let mut out = Vec::new();
    for (i, line) in data.split(|&c| c == b'\n').enumerate() {
        let ctx = LineContext {
            source: (i % 3) as u32,
            received_ms: Some(i as i64 * 100),
        };
        let _ = decoder.decode_line_with(line, &ctx, |m| {
            out.clear();
            write_gpsd_json(&mut out, &m, &JsonOptions::default());
            assert!(out.starts_with(b"{") && out.ends_with(b"}"));
        });
        assert!(decoder.pending_groups() <= 8);
    }
});
