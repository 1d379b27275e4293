//! Great-circle helpers on a spherical Earth (radius 6,371,008.8 m): enough
//! for ship kinematics over minutes to hours, where the ellipsoid's
//! 0.5% error does not matter.

/// Mean Earth radius, metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;
/// Metres per nautical mile.
pub const NM: f64 = 1852.0;

/// Distance in metres between two (lat, lon) points in degrees (haversine).
pub fn distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
}

/// Initial bearing in degrees (0–360) from point 1 to point 2.
pub fn bearing_deg(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dl = (lon2 - lon1).to_radians();
    let y = dl.sin() * p2.cos();
    let x = p1.cos() * p2.sin() - p1.sin() * p2.cos() * dl.cos();
    (y.atan2(x).to_degrees() + 360.0) % 360.0
}

/// The point `dist_m` metres from (lat, lon) along `bearing` degrees.
pub fn destination(lat: f64, lon: f64, bearing: f64, dist_m: f64) -> (f64, f64) {
    let d = dist_m / EARTH_RADIUS_M;
    let (p1, l1, b) = (lat.to_radians(), lon.to_radians(), bearing.to_radians());
    let p2 = (p1.sin() * d.cos() + p1.cos() * d.sin() * b.cos()).asin();
    let l2 = l1 + (b.sin() * d.sin() * p1.cos()).atan2(d.cos() - p1.sin() * p2.sin());
    let lon2 = (l2.to_degrees() + 540.0) % 360.0 - 180.0;
    (p2.to_degrees(), lon2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valletta_to_lampedusa() {
        // Valletta (35.8989 N, 14.5146 E) to Lampedusa (35.5069 N, 12.6053 E):
        // about 178 km.
        let d = distance_m(35.8989, 14.5146, 35.5069, 12.6053);
        assert!((d - 178_000.0).abs() < 2_000.0, "{d}");
        let b = bearing_deg(35.8989, 14.5146, 35.5069, 12.6053);
        assert!((b - 256.0).abs() < 2.0, "{b}");
    }

    #[test]
    fn destination_inverts_distance_and_bearing() {
        let (lat, lon) = destination(35.0, 14.0, 45.0, 10.0 * NM);
        assert!((distance_m(35.0, 14.0, lat, lon) - 10.0 * NM).abs() < 0.01);
        assert!((bearing_deg(35.0, 14.0, lat, lon) - 45.0).abs() < 0.01);
        // Across the antimeridian.
        let (_, lon) = destination(0.0, 179.9, 90.0, 30_000.0);
        assert!(lon < -179.0);
    }
}
