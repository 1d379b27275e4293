//! What the engine hands to re-broadcast outputs (the NMEA TCP/UDP output,
//! `crates/outputs`): each AIS message as it was received — its armoured
//! payload, talker, channel and TAG block — with the vessel's position and
//! class as that message left them in the picture, so an output can filter
//! by area and class without a second picture, and what the picture knows
//! of the sender ([`VesselFacts`]: name, call sign, ship type, speed,
//! course) for the CoT output; and each own-asset fix.
//!
//! Off by default ([`crate::Engine::relay`]): keeping payloads costs an
//! allocation per message. The queue is bounded ([`MAX_RELAYED`]); what
//! does not fit between two [`crate::Engine::take_relayed`] is dropped and
//! counted.

use lookout_ais::tagblock::TagBlock;
use lookout_ais::RawPayload;

/// At most this many items wait for [`crate::Engine::take_relayed`].
pub const MAX_RELAYED: usize = 65_536;

/// One item for the outputs.
#[derive(Debug, Clone, PartialEq)]
pub enum Relayed {
    /// An AIS message as received.
    Ais(RelayedAis),
    /// A fix of one of our own assets (GNSS), to be sent as `!AIVDO`.
    OwnFix(RelayedFix),
}

/// An AIS message as received, and where its sender is now.
#[derive(Debug, Clone, PartialEq)]
pub struct RelayedAis {
    pub mmsi: u32,
    /// Message time, ms since the UNIX epoch.
    pub time_ms: i64,
    /// The sender's class in the picture after this message (`A`, `B`,
    /// `sar_aircraft`, `aton`, `base_station`, `ais_sart`, `mob`,
    /// `epirb_ais`, `unknown`: the names of `VesselView::class`).
    pub class: &'static str,
    /// The sender's position in the picture after this message (a static
    /// report carries none: the last known one), if any.
    pub position: Option<(f64, f64)>,
    /// The sender's identity and motion in the picture after this message,
    /// for outputs that describe the vessel rather than re-send the bits
    /// (the CoT output). Boxed: one allocation, and the item stays small.
    pub vessel: Box<VesselFacts>,
    pub payload: Box<RawPayload>,
    pub talker: [u8; 2],
    pub own_ship: bool,
    pub channel: Option<u8>,
    pub tag: Option<TagBlock>,
}

/// What the picture knows of a sender (static data when received, the
/// latest speed, course and heading).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VesselFacts {
    pub name: Option<String>,
    pub callsign: Option<String>,
    /// Ship and cargo type (ITU-R M.1371 table 53).
    pub ship_type: Option<u8>,
    /// Speed over ground, knots.
    pub sog_kn: Option<f32>,
    /// Course over ground, degrees.
    pub cog_deg: Option<f32>,
    /// True heading, degrees.
    pub heading_deg: Option<u16>,
    /// Altitude (SAR aircraft), metres.
    pub altitude_m: Option<u16>,
}

/// A fix of an own asset.
#[derive(Debug, Clone, PartialEq)]
pub struct RelayedFix {
    /// The asset's identity in the picture.
    pub mmsi: u32,
    pub name: String,
    pub time_ms: i64,
    pub lat: f64,
    pub lon: f64,
    pub sog: Option<f64>,
    pub cog: Option<f64>,
    pub heading: Option<u16>,
}

impl Relayed {
    /// Message or fix time.
    pub fn time_ms(&self) -> i64 {
        match self {
            Relayed::Ais(m) => m.time_ms,
            Relayed::OwnFix(f) => f.time_ms,
        }
    }
}
