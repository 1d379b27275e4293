//! What the engine hands to re-broadcast outputs (the NMEA TCP/UDP output,
//! `crates/outputs`): each AIS message as it was received — its armoured
//! payload, talker, channel and TAG block — with the vessel's position and
//! class as that message left them in the picture, so an output can filter
//! by area and class without a second picture; and each own-asset fix.
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
    pub payload: Box<RawPayload>,
    pub talker: [u8; 2],
    pub own_ship: bool,
    pub channel: Option<u8>,
    pub tag: Option<TagBlock>,
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
