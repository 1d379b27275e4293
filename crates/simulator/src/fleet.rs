//! Who the simulated vessels are: MMSI, name, call sign, ship type,
//! dimensions and AIS class, drawn deterministically from the seed.
//!
//! MMSIs use the real Maritime Identification Digits of flags common in the
//! central Mediterranean (Malta 215/229/248/249/256, Italy 247, Tunisia 672,
//! Libya 642, Greece 237/239/240/241, Panama 351–357, Liberia 636, Marshall
//! Islands 538), so the picture's MID checks see valid identities; names are
//! invented.

use crate::scenario::FleetKind;

/// Static identity of a simulated station.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub mmsi: u32,
    pub name: String,
    pub callsign: String,
    pub imo: Option<u32>,
    pub shiptype: u8,
    /// to_bow, to_stern, to_port, to_starboard (metres).
    pub dims: (u16, u16, u8, u8),
    pub class_b: bool,
}

const MIDS: [u32; 16] = [
    215, 229, 248, 249, 256, 247, 672, 642, 237, 239, 241, 351, 353, 357, 636, 538,
];
const ADJ: [&str; 16] = [
    "AEGEAN",
    "IONIAN",
    "TYRRHENIAN",
    "LEVANT",
    "SIRIUS",
    "NORTHERN",
    "GOLDEN",
    "BLUE",
    "SILVER",
    "OCEAN",
    "CAPE",
    "STELLA",
    "MARE",
    "LIBERTY",
    "GRAND",
    "PACIFIC",
];
const NOUN: [&str; 16] = [
    "STAR",
    "SPIRIT",
    "TRADER",
    "PIONEER",
    "HORIZON",
    "VOYAGER",
    "EXPRESS",
    "WIND",
    "PRIDE",
    "DAWN",
    "BRIDGE",
    "FORTUNE",
    "GLORY",
    "HARMONY",
    "NAVIGATOR",
    "CARRIER",
];

/// Draws identities; `serial` makes each MMSI unique.
pub struct Registry {
    serial: u32,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl Registry {
    pub fn new() -> Self {
        Registry { serial: 0 }
    }

    fn next_serial(&mut self) -> u32 {
        self.serial += 1;
        self.serial
    }

    /// A new identity of `kind`.
    pub fn identity(&mut self, kind: FleetKind, rng: &mut fastrand::Rng) -> Identity {
        let n = self.next_serial();
        let mid = match kind {
            FleetKind::Patrol | FleetKind::Rescue => [215, 247, 229][rng.usize(0..3)],
            FleetKind::Fishing => [247, 672, 215, 642][rng.usize(0..4)],
            FleetKind::Pleasure => [247, 215, 229, 237][rng.usize(0..4)],
            _ => MIDS[rng.usize(0..MIDS.len())],
        };
        if kind == FleetKind::SarAircraft {
            // 111MIDxxx
            let mmsi = 111_000_000 + mid * 1000 + n % 1000;
            return Identity {
                mmsi,
                name: format!("SAR AIRCRAFT {n}"),
                callsign: String::new(),
                imo: None,
                shiptype: 0,
                dims: (0, 0, 0, 0),
                class_b: false,
            };
        }
        let mmsi = mid * 1_000_000 + (n % 1_000_000);
        let adj = ADJ[rng.usize(0..ADJ.len())];
        let noun = NOUN[rng.usize(0..NOUN.len())];
        let (name, shiptype, len, beam, class_b) = match kind {
            FleetKind::Merchant => {
                let t = [70u8, 70, 71, 79, 80, 81, 84, 60][rng.usize(0..8)];
                (
                    format!("{adj} {noun}"),
                    t,
                    rng.u16(90..330),
                    rng.u8(16..48),
                    false,
                )
            }
            FleetKind::Fishing => (
                format!("{noun} {}", n % 100),
                30,
                rng.u16(12..40),
                rng.u8(4..10),
                false,
            ),
            FleetKind::Pleasure => (
                format!("{adj} {}", n % 1000),
                [36u8, 37][rng.usize(0..2)],
                rng.u16(8..25),
                rng.u8(3..7),
                true,
            ),
            FleetKind::Patrol => (
                format!("PATROL {n}"),
                55,
                rng.u16(40..90),
                rng.u8(7..14),
                false,
            ),
            FleetKind::Rescue => (
                format!("RESCUE {n}"),
                51,
                rng.u16(30..70),
                rng.u8(8..14),
                false,
            ),
            FleetKind::SarAircraft => unreachable!("handled above"),
        };
        let to_bow = len * 3 / 4;
        let callsign = format!(
            "{}{:04}",
            ["9H", "IT", "3E", "TS", "5A", "SV", "V7", "D5"][rng.usize(0..8)],
            n % 10_000
        );
        Identity {
            mmsi,
            name,
            callsign,
            imo: (!class_b && kind == FleetKind::Merchant).then(|| 9_000_000 + n % 999_999),
            shiptype,
            dims: (to_bow, len - to_bow, beam / 2, beam - beam / 2),
            class_b,
        }
    }

    /// An AIS-SART identity (970MIDxxx... simplified to 970 + serial).
    pub fn sart(&mut self) -> Identity {
        let n = self.next_serial();
        Identity {
            mmsi: 970_000_000 + 215_000 + n % 1000,
            name: format!("SART {n}"),
            callsign: String::new(),
            imo: None,
            shiptype: 0,
            dims: (0, 0, 0, 0),
            class_b: false,
        }
    }
}
