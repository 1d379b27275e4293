//! Sweep width and track spacing for a visual search by a vessel, by search
//! object, meteorological visibility and searching-unit type, corrected for
//! weather (and optionally crew fatigue), per IAMSAR.
//!
//! The uncorrected sweep widths are data (`data/sweep_width.csv`: the
//! IAMSAR visual sweep width tables for smaller and larger vessels as
//! reproduced by the Danish Maritime Authority; see `docs/sar.md`),
//! interpolated linearly in visibility between the tabulated 1, 3, 5, 10,
//! 15 and 20 NM (and held constant outside). The corrected sweep width is
//!
//! ```text
//! W = W0 · fw · ff
//! ```
//!
//! with the weather factor `fw` (winds ≥ 15 kn or ≥ 25 kn reduce it, much
//! more for small objects) and the fatigue factor `ff` (0.9 when the crew is
//! tired). The track spacing for a coverage factor `C` is `S = W / C`
//! (`C = 1` by default: the spacing equals the sweep width).
//!
//! ```
//! use sar::sweep_width::{sweep_width, SearchUnit};
//! // Person in water, larger vessel, visibility 5 NM, 10 kn of wind: 0.5 NM.
//! let w = sweep_width("person_in_water", SearchUnit::LargerVessel, 5.0, 10.0, false).unwrap();
//! assert!((w.sweep_width_nm - 0.5).abs() < 1e-12);
//! assert_eq!(w.track_spacing_nm, w.sweep_width_nm);
//! ```

use crate::error::SarError;
use crate::leeway::csv_rows;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// The table as shipped.
pub const SWEEP_WIDTH_CSV: &str = include_str!("../data/sweep_width.csv");

/// Tabulated visibilities, NM.
pub const VISIBILITIES_NM: [f64; 6] = [1.0, 3.0, 5.0, 10.0, 15.0, 20.0];

/// Where the table comes from (one line; details in `docs/sar.md`).
pub const SOURCE: &str = "IAMSAR Vol. II visual sweep widths for vessels, via DMA EPD SweepWidthValues (SAR Denmark table 4-7); IAMSAR weather correction factors";

/// The searching unit, as the table distinguishes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchUnit {
    /// A boat or small vessel (lower eye height).
    #[serde(alias = "boat", alias = "small_vessel")]
    SmallerVessel,
    /// A ship.
    #[serde(alias = "ship", alias = "large_vessel")]
    LargerVessel,
}

impl SearchUnit {
    fn key(self) -> &'static str {
        match self {
            SearchUnit::SmallerVessel => "smaller_vessel",
            SearchUnit::LargerVessel => "larger_vessel",
        }
    }
}

#[derive(Debug, Clone)]
struct Row {
    target: String,
    unit: String,
    widths: [f64; 6],
}

fn rows() -> &'static [Row] {
    static ROWS: OnceLock<Vec<Row>> = OnceLock::new();
    ROWS.get_or_init(|| {
        csv_rows(SWEEP_WIDTH_CSV)
            .into_iter()
            .skip(1)
            .map(|r| {
                let mut widths = [0.0; 6];
                for (i, w) in widths.iter_mut().enumerate() {
                    *w = r[2 + i]
                        .trim()
                        .parse()
                        .expect("data/sweep_width.csv is valid");
                }
                Row {
                    target: r[0].trim().to_string(),
                    unit: r[1].trim().to_string(),
                    widths,
                }
            })
            .collect()
    })
}

/// The uncorrected sweep width (NM) of a table target (`piw`, `raft_6`,
/// `power_20ft`, …) for a unit and visibility, or `None` if not tabled.
pub fn uncorrected_nm(target: &str, unit: SearchUnit, visibility_nm: f64) -> Option<f64> {
    let row = rows()
        .iter()
        .find(|r| r.target == target && r.unit == unit.key())?;
    let v = visibility_nm.clamp(VISIBILITIES_NM[0], VISIBILITIES_NM[5]);
    let i = VISIBILITIES_NM.partition_point(|&x| x <= v).clamp(1, 5);
    let (x0, x1) = (VISIBILITIES_NM[i - 1], VISIBILITIES_NM[i]);
    let (y0, y1) = (row.widths[i - 1], row.widths[i]);
    Some(y0 + (y1 - y0) * (v - x0) / (x1 - x0))
}

/// Objects that take the small-object weather factors: a person in water,
/// a life raft, or a boat up to about 10 m (33 ft).
fn is_small(target: &str) -> bool {
    target == "piw"
        || target.starts_with("raft_")
        || matches!(
            target,
            "power_15ft"
                | "power_20ft"
                | "power_33ft"
                | "sail_15ft"
                | "sail_20ft"
                | "sail_25ft"
                | "sail_30ft"
        )
}

/// IAMSAR's weather correction factor for a target and on-scene wind:
/// below 15 kn 1.0; 15–25 kn 0.5 for small objects, 0.9 otherwise; above
/// 25 kn 0.25 for small objects, 0.9 otherwise.
pub fn weather_factor(target: &str, wind_kn: f64) -> f64 {
    let small = is_small(target);
    if wind_kn < 15.0 {
        1.0
    } else if wind_kn <= 25.0 {
        if small {
            0.5
        } else {
            0.9
        }
    } else if small {
        0.25
    } else {
        0.9
    }
}

/// A sweep width with how it was obtained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepWidth {
    pub object: String,
    pub target: String,
    pub unit: SearchUnit,
    pub visibility_nm: f64,
    pub wind_kn: f64,
    pub uncorrected_nm: f64,
    pub weather_factor: f64,
    pub fatigue_factor: f64,
    pub sweep_width_nm: f64,
    /// For a coverage factor of 1.
    pub track_spacing_nm: f64,
    /// Always [`SOURCE`] (read back as such from a stored pattern).
    #[serde(skip_deserializing, default = "source")]
    pub source: &'static str,
}

fn source() -> &'static str {
    SOURCE
}

/// The corrected sweep width for a leeway object category (its
/// `sweep_target`), a searching unit, visibility and wind.
pub fn sweep_width(
    object: &str,
    unit: SearchUnit,
    visibility_nm: f64,
    wind_kn: f64,
    fatigued: bool,
) -> Result<SweepWidth, SarError> {
    if !(visibility_nm.is_finite() && visibility_nm > 0.0 && visibility_nm <= 100.0) {
        return Err(SarError::invalid("visibility_nm must be within 0..100"));
    }
    if !(wind_kn.is_finite() && (0.0..=150.0).contains(&wind_kn)) {
        return Err(SarError::invalid("wind_kn must be within 0..150"));
    }
    let cat = crate::leeway::require(object)?;
    let target = cat.sweep_target.clone();
    let w0 = uncorrected_nm(&target, unit, visibility_nm).ok_or_else(|| {
        SarError::invalid(format!(
            "no sweep width tabled for {target} from a {}",
            unit.key()
        ))
    })?;
    let fw = weather_factor(&target, wind_kn);
    let ff = if fatigued { 0.9 } else { 1.0 };
    let w = w0 * fw * ff;
    Ok(SweepWidth {
        object: object.to_string(),
        target,
        unit,
        visibility_nm,
        wind_kn,
        uncorrected_nm: w0,
        weather_factor: fw,
        fatigue_factor: ff,
        sweep_width_nm: w,
        track_spacing_nm: w,
        source: SOURCE,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_lookup_and_interpolation() {
        assert_eq!(
            uncorrected_nm("raft_6", SearchUnit::SmallerVessel, 10.0),
            Some(3.6)
        );
        // Halfway between 5 NM (3.4) and 10 NM (4.7) for a larger vessel: 4.05.
        let w = uncorrected_nm("raft_6", SearchUnit::LargerVessel, 7.5).unwrap();
        assert!((w - 4.05).abs() < 1e-12);
        // Held constant outside 1..20 NM.
        assert_eq!(
            uncorrected_nm("piw", SearchUnit::LargerVessel, 0.2),
            Some(0.3)
        );
        assert_eq!(
            uncorrected_nm("piw", SearchUnit::LargerVessel, 40.0),
            Some(0.5)
        );
        assert_eq!(
            uncorrected_nm("submarine", SearchUnit::LargerVessel, 5.0),
            None
        );
    }

    #[test]
    fn corrections() {
        // Overloaded rubber boat → power_33ft; smaller vessel, 10 NM: 4.7 NM;
        // 20 kn of wind on a small object: × 0.5; tired crew: × 0.9 → 2.115.
        let w = sweep_width(
            "rubber_boat_overloaded",
            SearchUnit::SmallerVessel,
            10.0,
            20.0,
            true,
        )
        .unwrap();
        assert_eq!(w.target, "power_33ft");
        assert!((w.sweep_width_nm - 2.115).abs() < 1e-12);
        // A fishing vessel in 30 kn: × 0.9.
        let w = sweep_width(
            "fishing_vessel",
            SearchUnit::LargerVessel,
            10.0,
            30.0,
            false,
        )
        .unwrap();
        assert!((w.sweep_width_nm - 9.1 * 0.9).abs() < 1e-12);
        assert!(sweep_width(
            "person_in_water",
            SearchUnit::LargerVessel,
            -1.0,
            0.0,
            false
        )
        .is_err());
        let u: SearchUnit = serde_json::from_str("\"ship\"").unwrap();
        assert_eq!(u, SearchUnit::LargerVessel);
        // Every leeway category has a sweep width row for both units.
        for c in crate::leeway::table() {
            for u in [SearchUnit::SmallerVessel, SearchUnit::LargerVessel] {
                assert!(
                    uncorrected_nm(&c.sweep_target, u, 5.0).is_some(),
                    "{}",
                    c.key
                );
            }
        }
    }
}
