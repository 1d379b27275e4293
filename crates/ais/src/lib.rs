//! # lookout-ais
//!
//! A pure AIS decoder: NMEA 0183 `!xxVDM`/`!xxVDO` sentences in, typed
//! messages out. No I/O, no async, no clock — so it can be embedded, fuzzed
//! and benchmarked on its own. Lookout's ingest feeds it lines; `lookout
//! decode` prints what it returns as gpsd-compatible JSON.
//!
//! The data path, one module per step:
//! [`nmea`] (framing, checksum) → [`tagblock`] (NMEA 4.10 TAG blocks) →
//! [`assembler`] (multi-sentence reassembly, bounded) → [`bits`]
//! (6-bit de-armouring) → [`messages`] (types 1–27) and [`application`]
//! (DAC/FI payloads) → [`identity`] (what kind of station) → [`json`]
//! (gpsd-style JSON). [`Decoder`] runs them in that order and counts every
//! outcome.
//!
//! ```
//! use lookout_ais::{Decoder, DecoderOptions, messages::Body};
//! let mut decoder = Decoder::new(DecoderOptions::default());
//! decoder
//!     .decode_line(b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A", |d| {
//!         assert_eq!(d.message.mmsi, 371798000);
//!         assert!(matches!(d.message.body, Body::Position(_)));
//!     })
//!     .unwrap();
//! ```

pub mod application;
pub mod assembler;
pub mod bits;
pub mod decoder;
pub mod encode;
pub mod identity;
pub mod json;
pub mod messages;
pub mod nmea;
pub mod tagblock;

pub use decoder::{
    DecodeError, DecodeStats, Decoded, Decoder, DecoderOptions, ErrorKind, LineContext, RawPayload,
};
pub use messages::{AisMessage, Body};
