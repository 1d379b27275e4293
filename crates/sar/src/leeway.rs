//! Leeway: the motion of a search object through the water caused by the
//! wind, by object category, after the US Coast Guard leeway studies
//! (Allen & Plourde 1999, Allen 2005) as used by IAMSAR and by open drift
//! models (OpenDrift's `Leeway` model, the USCG's SAROPS).
//!
//! Leeway is split into a **downwind** component and a **crosswind**
//! component, each a linear function of the 10-m wind speed `U10`:
//!
//! ```text
//! DWL = a_dw · U10 + b_dw          (along the downwind direction)
//! CWL = a_cw · U10 + b_cw          (perpendicular to it)
//! ```
//!
//! with slopes `a` in percent of the wind speed and offsets `b` in cm/s.
//! An object does not know in advance to which side of downwind it will
//! settle, so every category has two crosswind fits: one for objects that
//! drifted to the **right** of downwind (positive) and one for those to the
//! **left** (negative). The two give the two divergence datums of IAMSAR.
//!
//! The table is data, not code: `data/leeway.csv` in this crate, with a
//! `source` for every row (see `docs/sar.md`), parsed once at first use.
//!
//! ```
//! use sar::leeway::{category, table};
//! let piw = category("person_in_water").unwrap();
//! let l = piw.leeway(15.0); // 15 kn of wind
//! // 0.96 % of 15 kn downwind, 0.54 % to each side.
//! assert!((l.downwind_kn - 0.144).abs() < 1e-9);
//! assert!((l.right_kn - 0.081).abs() < 1e-9 && (l.left_kn + 0.081).abs() < 1e-9);
//! assert!(table().len() >= 6);
//! ```

use crate::error::SarError;
use serde::Serialize;
use std::sync::OnceLock;

/// One knot in metres per second.
pub const KN_MS: f64 = 1852.0 / 3600.0;

/// The leeway table as shipped.
pub const LEEWAY_CSV: &str = include_str!("../data/leeway.csv");

/// The coefficients of one object category (one row of `data/leeway.csv`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeewayCategory {
    /// Key used in requests (`person_in_water`, `rubber_boat_overloaded`, …).
    pub key: String,
    pub name: String,
    /// Downwind slope, percent of U10.
    pub dw_slope_pct: f64,
    /// Downwind offset, cm/s.
    pub dw_offset_cms: f64,
    /// Downwind regression standard deviation, cm/s.
    pub dw_sd_cms: f64,
    /// Crosswind, right of downwind: slope (%), offset (cm/s), sd (cm/s).
    pub cwr_slope_pct: f64,
    pub cwr_offset_cms: f64,
    pub cwr_sd_cms: f64,
    /// Crosswind, left of downwind (negative values): slope, offset, sd.
    pub cwl_slope_pct: f64,
    pub cwl_offset_cms: f64,
    pub cwl_sd_cms: f64,
    /// The row of the sweep-width table for this object.
    pub sweep_target: String,
    /// Where the numbers come from.
    pub source: String,
}

/// Leeway components for one wind speed, knots.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Leeway {
    /// Along the downwind direction (never negative).
    pub downwind_kn: f64,
    /// To the right of downwind for a right-drifting object (never negative).
    pub right_kn: f64,
    /// To the right of downwind for a left-drifting object (never positive:
    /// it is to the left).
    pub left_kn: f64,
}

impl Leeway {
    /// The divergence angles (degrees) of the right- and left-drifting
    /// leeway from downwind: `atan(CWL / DWL)`.
    pub fn divergence_deg(&self) -> (f64, f64) {
        if self.downwind_kn <= 0.0 {
            return (0.0, 0.0);
        }
        (
            self.right_kn.atan2(self.downwind_kn).to_degrees(),
            (-self.left_kn).atan2(self.downwind_kn).to_degrees(),
        )
    }
}

impl LeewayCategory {
    /// Leeway for a 10-m wind of `wind_kn` knots. Each component is the
    /// linear fit, clipped at zero so that no fit (some have negative
    /// offsets) ever pushes an object upwind in light air or swaps its side.
    pub fn leeway(&self, wind_kn: f64) -> Leeway {
        let u = wind_kn.max(0.0) * KN_MS; // m/s
        let fit = |slope_pct: f64, offset_cms: f64| (slope_pct * u + offset_cms) * 0.01 / KN_MS;
        Leeway {
            downwind_kn: fit(self.dw_slope_pct, self.dw_offset_cms).max(0.0),
            right_kn: fit(self.cwr_slope_pct, self.cwr_offset_cms).max(0.0),
            left_kn: fit(self.cwl_slope_pct, self.cwl_offset_cms).min(0.0),
        }
    }
}

/// The built-in table (parsed once from `data/leeway.csv`).
pub fn table() -> &'static [LeewayCategory] {
    static TABLE: OnceLock<Vec<LeewayCategory>> = OnceLock::new();
    TABLE.get_or_init(|| parse_table(LEEWAY_CSV).expect("data/leeway.csv is valid"))
}

/// A category by key.
pub fn category(key: &str) -> Option<&'static LeewayCategory> {
    table().iter().find(|c| c.key == key)
}

/// A category by key, or an error listing the known keys.
pub fn require(key: &str) -> Result<&'static LeewayCategory, SarError> {
    category(key).ok_or_else(|| {
        let keys: Vec<&str> = table().iter().map(|c| c.key.as_str()).collect();
        SarError::invalid(format!(
            "unknown object {key:?}: one of {}",
            keys.join(", ")
        ))
    })
}

/// Parse a leeway table in the format of `data/leeway.csv` (`#` comments,
/// a header row, then one row per category).
pub fn parse_table(text: &str) -> Result<Vec<LeewayCategory>, String> {
    let mut rows = csv_rows(text).into_iter();
    let header = rows.next().ok_or("empty leeway table")?;
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("leeway table: no column {name}"))
    };
    let idx: Vec<usize> = [
        "key",
        "name",
        "dw_slope_pct",
        "dw_offset_cms",
        "dw_sd_cms",
        "cwr_slope_pct",
        "cwr_offset_cms",
        "cwr_sd_cms",
        "cwl_slope_pct",
        "cwl_offset_cms",
        "cwl_sd_cms",
        "sweep_target",
        "source",
    ]
    .iter()
    .map(|n| col(n))
    .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for (n, r) in rows.enumerate() {
        let get = |i: usize| r.get(idx[i]).map(String::as_str).unwrap_or("");
        let num = |i: usize| {
            get(i)
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("leeway table row {}: bad number {:?}", n + 1, get(i)))
        };
        let c = LeewayCategory {
            key: get(0).trim().to_string(),
            name: get(1).trim().to_string(),
            dw_slope_pct: num(2)?,
            dw_offset_cms: num(3)?,
            dw_sd_cms: num(4)?,
            cwr_slope_pct: num(5)?,
            cwr_offset_cms: num(6)?,
            cwr_sd_cms: num(7)?,
            cwl_slope_pct: num(8)?,
            cwl_offset_cms: num(9)?,
            cwl_sd_cms: num(10)?,
            sweep_target: get(11).trim().to_string(),
            source: get(12).trim().to_string(),
        };
        if c.key.is_empty() || c.source.is_empty() {
            return Err(format!(
                "leeway table row {}: key and source are required",
                n + 1
            ));
        }
        out.push(c);
    }
    Ok(out)
}

/// Rows of a small CSV: `#` comment lines and blank lines skipped, fields
/// split on commas, double-quoted fields may hold commas (`""` is a quote).
pub(crate) fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let mut fields = Vec::new();
        let mut cur = String::new();
        let mut quoted = false;
        let mut chars = t.chars().peekable();
        while let Some(ch) = chars.next() {
            match ch {
                '"' if quoted && chars.peek() == Some(&'"') => {
                    cur.push('"');
                    chars.next();
                }
                '"' => quoted = !quoted,
                ',' if !quoted => fields.push(std::mem::take(&mut cur)),
                _ => cur.push(ch),
            }
        }
        fields.push(cur);
        rows.push(fields);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_required_categories_are_there_with_sources() {
        for k in [
            "person_in_water",
            "life_raft_drogue",
            "life_raft_no_drogue",
            "rubber_boat_overloaded",
            "small_wooden_boat",
            "small_craft",
        ] {
            let c = category(k).unwrap_or_else(|| panic!("{k}"));
            assert!(!c.source.is_empty());
            assert!(c.dw_slope_pct > 0.0);
            assert!(c.cwr_slope_pct >= 0.0 && c.cwl_slope_pct <= 0.0, "{k}");
        }
        assert!(require("submarine")
            .unwrap_err()
            .message
            .contains("person_in_water"));
    }

    #[test]
    fn worked_example_life_raft_without_drogue() {
        // 20 kn = 10.2889 m/s. DWL = 3.75 % · 10.2889 − 2.30 cm/s = 36.283 cm/s
        // = 0.70530 kn. CWR = 0.78 % · 10.2889 − 3.60 = 4.4253 cm/s = 0.086022 kn.
        // CWL = −0.47 % · 10.2889 − 0.10 = −4.9358 cm/s = −0.095946 kn.
        let l = category("life_raft_no_drogue").unwrap().leeway(20.0);
        assert!((l.downwind_kn - 0.70530).abs() < 1e-4, "{l:?}");
        assert!((l.right_kn - 0.086022).abs() < 1e-5, "{l:?}");
        assert!((l.left_kn + 0.095946).abs() < 1e-5, "{l:?}");
        // Divergence = atan(0.086022/0.70530) = 6.95° right, atan(0.095946/0.70530) = 7.75° left.
        let (r, lft) = l.divergence_deg();
        assert!(
            (r - 6.95).abs() < 0.01 && (lft - 7.75).abs() < 0.01,
            "{r} {lft}"
        );
    }

    #[test]
    fn person_in_water_diverges_about_thirty_degrees_like_iamsar() {
        // atan(0.54 / 0.96) = 29.4°; IAMSAR's manual tables give 30° for a PIW.
        let (r, l) = category("person_in_water")
            .unwrap()
            .leeway(20.0)
            .divergence_deg();
        assert!((r - 29.36).abs() < 0.05 && (l - 29.36).abs() < 0.05);
    }

    #[test]
    fn fits_are_clipped_in_light_air() {
        // 3.75 %·U − 2.30 cm/s is negative below U = 0.61 m/s (1.19 kn).
        let l = category("life_raft_no_drogue").unwrap().leeway(1.0);
        assert_eq!(l.downwind_kn, 0.0);
        assert_eq!(l.right_kn, 0.0);
        assert!(l.left_kn <= 0.0);
        assert_eq!(l.divergence_deg(), (0.0, 0.0));
    }

    #[test]
    fn csv_quotes_and_bad_tables() {
        let rows = csv_rows("# c\n\na,\"b, c\",\"d \"\"e\"\"\"\n");
        assert_eq!(rows, vec![vec!["a", "b, c", "d \"e\""]]);
        assert!(parse_table("key,name\nx,y\n").is_err());
    }
}
