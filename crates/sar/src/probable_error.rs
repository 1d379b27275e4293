//! Total probable error of position, as IAMSAR composes it:
//!
//! ```text
//! E = √(X² + Y² + De²)
//! ```
//!
//! * **X**, the initial position error: how well the distressed craft knew
//!   where it was (a navigational fix error by means of navigation, see
//!   [`NavFix`]), or the uncertainty of the report;
//! * **Y**, the search facility's navigational error (the same table);
//! * **De**, the drift error: for the manual method, one eighth of the
//!   drift distance ([`DRIFT_ERROR_FRACTION`]).
//!
//! The search radius is `R = fs · E`, with the safety factor `fs` growing
//! with each successive search of the same datum ([`safety_factor`]).
//!
//! ```
//! use sar::probable_error::{total_probable_error, NavFix, DRIFT_ERROR_FRACTION};
//! // GPS fix (X = 0.1), searching ship on GPS (Y = 0.1), 8 NM of drift (De = 1).
//! let e = total_probable_error(NavFix::Gps.error_nm(), NavFix::Gps.error_nm(), DRIFT_ERROR_FRACTION * 8.0);
//! assert!((e - (0.01f64 + 0.01 + 1.0).sqrt()).abs() < 1e-12);
//! ```

use crate::error::SarError;
use serde::{Deserialize, Serialize};

/// Drift error as a fraction of the drift distance (IAMSAR: one eighth).
pub const DRIFT_ERROR_FRACTION: f64 = 0.125;

/// How a position was obtained, for its probable error. Fix errors of
/// IAMSAR's navigational fix error table (as reproduced in the Australian
/// National SAR Manual, Appendix J, Table J-1); see `docs/sar.md`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NavFix {
    /// GPS (and satellite-phone positions read from a GPS): 0.1 NM.
    Gps,
    /// Radar fix: 1 NM.
    Radar,
    /// Visual fix (3 lines): 1 NM.
    Visual,
    /// Celestial fix (3 lines): 2 NM.
    Celestial,
    /// LORAN-C: 1 NM.
    LoranC,
    /// Marine radio beacon (3-beacon fix): 4 NM.
    RadioBeacon,
    /// Means of navigation unknown, a ship: 5 NM (IAMSAR's table for an
    /// unknown means of navigation; see `docs/sar.md` for its status).
    UnknownShip,
    /// Means of navigation unknown, a boat or small craft: 15 NM.
    UnknownBoat,
}

impl NavFix {
    /// The probable fix error, NM.
    pub fn error_nm(self) -> f64 {
        match self {
            NavFix::Gps => 0.1,
            NavFix::Radar | NavFix::Visual | NavFix::LoranC => 1.0,
            NavFix::Celestial => 2.0,
            NavFix::RadioBeacon => 4.0,
            NavFix::UnknownShip => 5.0,
            NavFix::UnknownBoat => 15.0,
        }
    }
}

/// Dead-reckoning error: `rate` (e.g. 0.05 for 5 %) of the distance run
/// since the last fix, added to that fix's error (IAMSAR's DR error rates;
/// see `docs/sar.md`).
pub fn dead_reckoning_error_nm(fix_error_nm: f64, dr_distance_nm: f64, rate: f64) -> f64 {
    fix_error_nm + rate * dr_distance_nm.max(0.0)
}

/// Drift error `De` for a drift distance, NM.
pub fn drift_error_nm(drift_distance_nm: f64, fraction: f64) -> f64 {
    fraction * drift_distance_nm.max(0.0)
}

/// `E = √(X² + Y² + De²)`, NM.
pub fn total_probable_error(x_nm: f64, y_nm: f64, de_nm: f64) -> f64 {
    (x_nm * x_nm + y_nm * y_nm + de_nm * de_nm).sqrt()
}

/// IAMSAR's safety factors for successive searches of the same datum: 1.1
/// for the first, 1.6, 2.0, then 2.3 for the fourth and later.
pub fn safety_factor(search_number: u32) -> f64 {
    match search_number {
        0 | 1 => 1.1,
        2 => 1.6,
        3 => 2.0,
        _ => 2.3,
    }
}

/// Check a safety factor given by an operator (1 ≤ fs ≤ 5).
pub fn check_safety_factor(fs: f64) -> Result<f64, SarError> {
    if fs.is_finite() && (1.0..=5.0).contains(&fs) {
        Ok(fs)
    } else {
        Err(SarError::invalid("safety_factor must be within 1..5"))
    }
}

/// The three components and their total, NM.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ProbableError {
    pub x_nm: f64,
    pub y_nm: f64,
    pub de_nm: f64,
    pub e_nm: f64,
}

impl ProbableError {
    pub fn new(x_nm: f64, y_nm: f64, de_nm: f64) -> ProbableError {
        ProbableError {
            x_nm,
            y_nm,
            de_nm,
            e_nm: total_probable_error(x_nm, y_nm, de_nm),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_example() {
        // LKP from a GPS (X = 0.1 NM), the searching ship on GPS (Y = 0.1 NM),
        // drift 12 NM → De = 12/8 = 1.5 NM.
        // E = √(0.01 + 0.01 + 2.25) = √2.27 = 1.50665 NM.
        // First search: R = 1.1 · 1.50665 = 1.65732 NM.
        let e = ProbableError::new(
            NavFix::Gps.error_nm(),
            0.1,
            drift_error_nm(12.0, DRIFT_ERROR_FRACTION),
        );
        assert!((e.de_nm - 1.5).abs() < 1e-12);
        assert!((e.e_nm - 1.50665).abs() < 1e-5);
        assert!((safety_factor(1) * e.e_nm - 1.65732).abs() < 1e-5);
        // Position from dead reckoning: last GPS fix, then 40 NM at a 5 % rate:
        // X = 0.1 + 2.0 = 2.1 NM; E = √(4.41 + 0.01 + 2.25) = 2.58263 NM.
        let x = dead_reckoning_error_nm(0.1, 40.0, 0.05);
        assert!((total_probable_error(x, 0.1, 1.5) - 2.58263).abs() < 1e-5);
    }

    #[test]
    fn safety_factors_and_fixes() {
        let fs: Vec<f64> = (1..=5).map(safety_factor).collect();
        assert_eq!(fs, vec![1.1, 1.6, 2.0, 2.3, 2.3]);
        assert!(check_safety_factor(0.5).is_err() && check_safety_factor(f64::NAN).is_err());
        assert_eq!(check_safety_factor(1.6), Ok(1.6));
        assert_eq!(NavFix::Celestial.error_nm(), 2.0);
        let f: NavFix = serde_json::from_str("\"unknown_boat\"").unwrap();
        assert_eq!(f.error_nm(), 15.0);
    }
}
