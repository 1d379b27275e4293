//! Great-circle distances on a spherical Earth (haversine) and the
//! conservative degree envelope of a distance circle.
//!
//! The picture measures distance along great circles, not in degrees: one
//! degree of longitude is 60 nm at the equator and 30 nm at 60°N. The
//! haversine formula on a sphere of the IUGG mean radius (6 371 008.8 m,
//! the radius `geo` uses) is within 0.5 % of the WGS-84 ellipsoid, which is
//! ample for viewport, radius and nearest-vessel queries and for the 60-knot
//! plausibility check; it is also fast and well-conditioned for short
//! distances. A nautical mile is 1852 m exactly.
//!
//! [`cap_box`] gives the smallest latitude/longitude box containing every
//! point within a distance of a centre. The R-tree is queried with that box
//! (split at the antimeridian when needed) and the candidates are then
//! filtered and sorted by haversine distance, so answers are exact near the
//! poles and across ±180°.
//!
//! ```
//! use spatial_index::geodesy::{haversine_nm, NM};
//! // One degree of latitude is about 60 nautical miles.
//! let d = haversine_nm(35.0, 14.0, 36.0, 14.0);
//! assert!((d - 60.04).abs() < 0.01);
//! // Across the antimeridian, 0.2° of longitude on the equator.
//! assert!((haversine_nm(0.0, 179.9, 0.0, -179.9) - 12.008).abs() < 0.01);
//! assert_eq!(NM, 1852.0);
//! ```

use crate::geobox::GeoBox;

/// Mean Earth radius, metres (IUGG; the value `geo::Haversine` uses).
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;
/// One nautical mile, metres.
pub const NM: f64 = 1852.0;
/// Metres per second in one knot.
pub const KNOT_MS: f64 = NM / 3600.0;

/// Great-circle distance in metres between two points given in degrees.
/// Non-finite input gives a non-finite (NaN) result, never a panic.
#[inline]
pub fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let s1 = (dp * 0.5).sin();
    let s2 = (dl * 0.5).sin();
    let a = s1 * s1 + p1.cos() * p2.cos() * s2 * s2;
    let a = a.clamp(0.0, 1.0);
    // atan2 rather than asin: well conditioned up to the antipodes.
    2.0 * EARTH_RADIUS_M * a.sqrt().atan2((1.0 - a).sqrt())
}

/// Great-circle distance in nautical miles.
#[inline]
pub fn haversine_nm(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    haversine_m(lat1, lon1, lat2, lon2) / NM
}

/// Longitude wrapped into `[-180, 180]` (180 stays 180). `None` when not
/// finite.
#[inline]
pub fn wrap_lon(lon: f64) -> Option<f64> {
    if !lon.is_finite() {
        return None;
    }
    if (-180.0..=180.0).contains(&lon) {
        return Some(lon);
    }
    let w = (lon + 180.0).rem_euclid(360.0) - 180.0;
    Some(w)
}

/// True for a latitude/longitude pair that names a place on Earth.
#[inline]
pub fn valid_point(lat: f64, lon: f64) -> bool {
    lat.is_finite()
        && lon.is_finite()
        && (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lon)
}

/// The smallest box (in degrees) containing the spherical cap of
/// `radius_m` around `(lat, lon)`: the whole longitude range when the cap
/// reaches a pole, a box crossing the antimeridian when it straddles ±180°.
/// Padded by a hair so that rounding never loses a point on the edge.
/// `None` for invalid input (non-finite, negative radius, latitude out of
/// range).
pub fn cap_box(lat: f64, lon: f64, radius_m: f64) -> Option<GeoBox> {
    let lon = wrap_lon(lon)?;
    if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) || radius_m.is_nan() || radius_m < 0.0 {
        return None;
    }
    const PAD: f64 = 1e-7;
    let d = radius_m / EARTH_RADIUS_M; // angular radius, radians
    if d >= std::f64::consts::PI {
        return Some(GeoBox::WORLD);
    }
    let d_deg = d.to_degrees();
    let south = lat - d_deg - PAD;
    let north = lat + d_deg + PAD;
    if north >= 90.0 || south <= -90.0 {
        // The cap contains a pole: every longitude.
        return Some(GeoBox {
            west: -180.0,
            south: south.max(-90.0),
            east: 180.0,
            north: north.min(90.0),
        });
    }
    let ratio = d.sin() / lat.to_radians().cos();
    if ratio >= 1.0 {
        return Some(GeoBox {
            west: -180.0,
            south,
            east: 180.0,
            north,
        });
    }
    let dl = ratio.asin().to_degrees() + PAD;
    if dl >= 180.0 {
        return Some(GeoBox {
            west: -180.0,
            south,
            east: 180.0,
            north,
        });
    }
    let west = lon - dl;
    let east = lon + dl;
    let west = if west < -180.0 { west + 360.0 } else { west };
    let east = if east > 180.0 { east - 360.0 } else { east };
    Some(GeoBox {
        west,
        south,
        east,
        north,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Distance, Haversine, Point};

    #[test]
    fn agrees_with_geo() {
        let cases = [
            (35.8989, 14.5146, 35.5, 12.6),
            (0.0, 179.9, 0.0, -179.9),
            (89.9, 0.0, 89.9, 180.0),
            (-33.0, 151.0, 51.5, -0.1),
            (10.0, 10.0, 10.0, 10.0),
        ];
        for (a, b, c, d) in cases {
            let ours = haversine_m(a, b, c, d);
            let theirs = Haversine::distance(Point::new(b, a), Point::new(d, c));
            assert!(
                (ours - theirs).abs() < 1e-6 * theirs.max(1.0),
                "{ours} {theirs}"
            );
        }
    }

    #[test]
    fn cap_box_contains_the_circle() {
        for &(lat, lon, r_nm) in &[
            (35.0, 14.0, 50.0),
            (0.0, 179.8, 30.0),
            (89.5, 10.0, 60.0),
            (-89.9, -170.0, 5.0),
            (60.0, -179.99, 100.0),
            (10.0, 0.0, 12_000.0),
        ] {
            let b = cap_box(lat, lon, r_nm * NM).unwrap();
            for k in 0..360 {
                let brg = (k as f64).to_radians();
                // Destination point on the sphere.
                let d = r_nm * NM / EARTH_RADIUS_M * 0.999_999;
                let (p1, l1) = (lat.to_radians(), lon.to_radians());
                let p2 = (p1.sin() * d.cos() + p1.cos() * d.sin() * brg.cos()).asin();
                let l2 = l1 + (brg.sin() * d.sin() * p1.cos()).atan2(d.cos() - p1.sin() * p2.sin());
                let (plat, plon) = (p2.to_degrees(), wrap_lon(l2.to_degrees()).unwrap());
                assert!(
                    b.contains(plat, plon),
                    "{lat},{lon} r={r_nm}: {plat},{plon} not in {b:?}"
                );
            }
        }
    }

    #[test]
    fn hostile_input() {
        assert!(cap_box(f64::NAN, 0.0, 1.0).is_none());
        assert!(cap_box(0.0, 0.0, -1.0).is_none());
        assert!(cap_box(95.0, 0.0, 1.0).is_none());
        assert_eq!(cap_box(0.0, 0.0, f64::INFINITY), Some(GeoBox::WORLD));
        assert!(haversine_m(f64::NAN, 0.0, 0.0, 0.0).is_nan());
        assert_eq!(wrap_lon(190.0), Some(-170.0));
        assert_eq!(wrap_lon(-540.0), Some(-180.0));
        assert!(wrap_lon(f64::INFINITY).is_none());
    }
}
