//! Which relayed messages an output passes: the sender's position (as the
//! picture has it after the message) inside the box, and its class in the
//! list. A message of a sender with no known position never passes a box
//! filter (a chartplotter could not place it anyway); a multi-sentence
//! message passes or fails whole, since it is one item.

use crate::config::NmeaCommon;
use engine::Relayed;

/// A compiled filter.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    bbox: Option<[f64; 4]>,
    classes: Option<Vec<String>>,
}

impl Filter {
    /// The filter of an output's settings.
    pub fn new(c: &NmeaCommon) -> Self {
        Filter {
            bbox: c.bbox,
            classes: c.classes.clone(),
        }
    }

    /// Does `item` pass?
    pub fn passes(&self, item: &Relayed) -> bool {
        let (class, position) = match item {
            Relayed::Ais(m) => (m.class, m.position),
            Relayed::OwnFix(f) => ("own_asset", Some((f.lat, f.lon))),
        };
        if let Some(classes) = &self.classes {
            if !classes.iter().any(|c| c == class) {
                return false;
            }
        }
        match (self.bbox, position) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(b), Some((lat, lon))) => in_box(b, lat, lon),
        }
    }
}

/// `[west, south, east, north]`; west > east wraps across 180°.
pub fn in_box([w, s, e, n]: [f64; 4], lat: f64, lon: f64) -> bool {
    if !(s..=n).contains(&lat) {
        return false;
    }
    if w <= e {
        (w..=e).contains(&lon)
    } else {
        lon >= w || lon <= e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_and_the_antimeridian() {
        assert!(in_box([11.0, 34.0, 16.0, 38.0], 35.5, 12.6));
        assert!(!in_box([11.0, 34.0, 16.0, 38.0], 35.5, 16.1));
        assert!(!in_box([11.0, 34.0, 16.0, 38.0], 33.9, 12.0));
        // Fiji: 177°E to 178°W.
        assert!(in_box([177.0, -20.0, -178.0, -15.0], -17.0, 179.5));
        assert!(in_box([177.0, -20.0, -178.0, -15.0], -17.0, -179.5));
        assert!(!in_box([177.0, -20.0, -178.0, -15.0], -17.0, 170.0));
    }
}
