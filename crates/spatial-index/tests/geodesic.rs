//! Box, radius and k-nearest queries by great-circle distance, checked
//! against known distances and against brute force, near the antimeridian
//! and the poles.

mod common;

use common::*;
use geo::{Distance, Geodesic, Point};
use spatial_index::geodesy::{haversine_nm, NM};
use spatial_index::{GeoBox, Picture, PictureConfig, ZoneIndex};

const VALLETTA: (f64, f64) = (35.8989, 14.5146);
const LAMPEDUSA: (f64, f64) = (35.5000, 12.6050);

fn karney_nm(a: (f64, f64), b: (f64, f64)) -> f64 {
    Geodesic::distance(Point::new(a.1, a.0), Point::new(b.1, b.0)) / NM
}

#[test]
fn known_distances() {
    // Valletta – Lampedusa: about 96 nm; haversine within 0.3 % of the
    // WGS-84 geodesic (Karney).
    let h = haversine_nm(VALLETTA.0, VALLETTA.1, LAMPEDUSA.0, LAMPEDUSA.1);
    let k = karney_nm(VALLETTA, LAMPEDUSA);
    assert!((95.0..97.5).contains(&h), "{h}");
    assert!((h - k).abs() / k < 0.003, "{h} vs {k}");
    // One degree of arc on the sphere: 60.04 nm, whichever way it runs.
    let deg = std::f64::consts::PI * 6_371_008.8 / 180.0 / NM;
    for (a, b) in [
        ((0.0, 10.0), (1.0, 10.0)),      // along a meridian
        ((0.0, 179.5), (0.0, -179.5)),   // across the antimeridian
        ((89.5, 0.0), (89.5, 180.0)),    // over the north pole
        ((-89.5, 90.0), (-89.5, -90.0)), // over the south pole
    ] {
        let d = haversine_nm(a.0, a.1, b.0, b.1);
        assert!((d - deg).abs() < 1e-9, "{a:?}-{b:?}: {d}");
    }
    // A quarter meridian and the antipodes.
    assert!((haversine_nm(0.0, 0.0, 90.0, 0.0) - 90.0 * deg).abs() < 1e-6);
    // (Haversine is ill-conditioned at the antipodes: a couple of metres.)
    assert!((haversine_nm(10.0, 20.0, -10.0, -160.0) - 180.0 * deg).abs() < 1e-3);
}

#[test]
fn picture_radius_and_nearest_use_nautical_miles() {
    let mut f = Feed::new(ZoneIndex::empty());
    f.send(pos_a(215_000_001, VALLETTA.0, VALLETTA.1, 0.0, 5), T0);
    f.send(pos_a(247_000_001, LAMPEDUSA.0, LAMPEDUSA.1, 0.0, 5), T0);
    let near = f.picture.within_radius(VALLETTA.0, VALLETTA.1, 100.0);
    assert_eq!(near.len(), 2);
    assert_eq!(near[0].0.mmsi, 215_000_001);
    assert!(
        (near[1].1 - haversine_nm(VALLETTA.0, VALLETTA.1, LAMPEDUSA.0, LAMPEDUSA.1)).abs() < 1e-9
    );
    assert_eq!(
        f.picture.within_radius(VALLETTA.0, VALLETTA.1, 90.0).len(),
        1
    );
    let k = f.picture.nearest(LAMPEDUSA.0, LAMPEDUSA.1 + 0.1, 1);
    assert_eq!(k[0].0.mmsi, 247_000_001);
    assert!((k[0].1 - 0.1 * 60.04 * LAMPEDUSA.0.to_radians().cos()).abs() < 0.05);
}

/// A picture with vessels around the antimeridian, the north pole, the
/// south pole and the central Mediterranean.
fn scattered(n_per_region: usize) -> (Picture, Vec<(u32, f64, f64)>) {
    let mut p = Picture::new(PictureConfig::default(), ZoneIndex::empty());
    let mut rng = Rng(0x5eed);
    let mut all = Vec::new();
    let mut mmsi = 201_000_000u32;
    let mut add = |p: &mut Picture, lat: f64, lon: f64| {
        mmsi += 1;
        let d = decoded(pos_a(mmsi, lat, lon, 5.0, 0), mmsi as u64, None);
        p.apply(&d, Some(T0));
        all.push((mmsi, lat, lon));
    };
    for _ in 0..n_per_region {
        let lon = rng.range(175.0, 185.0);
        let lon = if lon > 180.0 { lon - 360.0 } else { lon };
        add(&mut p, rng.range(-10.0, 10.0), lon);
        add(&mut p, rng.range(84.0, 90.0), rng.range(-180.0, 180.0));
        add(&mut p, rng.range(-90.0, -86.0), rng.range(-180.0, 180.0));
        add(&mut p, rng.range(33.0, 38.0), rng.range(11.0, 16.0));
    }
    (p, all)
}

fn brute_radius(all: &[(u32, f64, f64)], lat: f64, lon: f64, nm: f64) -> Vec<(u32, f64)> {
    let mut v: Vec<(u32, f64)> = all
        .iter()
        .map(|&(m, a, b)| (m, haversine_nm(lat, lon, a, b)))
        .filter(|&(_, d)| d <= nm)
        .collect();
    v.sort_by(|a, b| a.1.total_cmp(&b.1));
    v
}

#[test]
fn radius_matches_brute_force_at_antimeridian_and_poles() {
    let (p, all) = scattered(1500);
    let mut rng = Rng(99);
    let centres: Vec<(f64, f64)> = (0..40)
        .map(|k| match k % 4 {
            0 => (
                rng.range(-9.0, 9.0),
                if k % 8 == 0 { 179.9 } else { -179.95 },
            ),
            1 => (rng.range(86.0, 90.0), rng.range(-180.0, 180.0)),
            2 => (rng.range(-90.0, -87.0), rng.range(-180.0, 180.0)),
            _ => (rng.range(34.0, 37.0), rng.range(12.0, 15.0)),
        })
        .collect();
    for (k, &(lat, lon)) in centres.iter().enumerate() {
        let r = [5.0, 30.0, 120.0, 400.0][k % 4];
        let got: Vec<(u32, f64)> = p
            .within_radius(lat, lon, r)
            .iter()
            .map(|(v, d)| (v.mmsi, *d))
            .collect();
        let want = brute_radius(&all, lat, lon, r);
        let mut g: Vec<u32> = got.iter().map(|x| x.0).collect();
        let mut w: Vec<u32> = want.iter().map(|x| x.0).collect();
        g.sort();
        w.sort();
        assert_eq!(g, w, "radius {r} nm at {lat},{lon}");
        // Sorted by distance.
        assert!(got.windows(2).all(|x| x[0].1 <= x[1].1));
    }
}

#[test]
fn nearest_matches_brute_force_at_antimeridian_and_poles() {
    let (p, all) = scattered(1000);
    let mut rng = Rng(1234);
    for k in 0..60 {
        let (lat, lon) = match k % 4 {
            // Just west of the antimeridian: the nearest are often east.
            0 => (rng.range(-5.0, 5.0), 179.99),
            1 => (rng.range(87.0, 90.0), rng.range(-180.0, 180.0)),
            2 => (-90.0, 0.0),
            _ => (rng.range(34.0, 37.0), rng.range(12.0, 15.0)),
        };
        for kk in [1, 10, 25] {
            let got: Vec<f64> = p.nearest(lat, lon, kk).iter().map(|x| x.1).collect();
            let want: Vec<f64> = all
                .iter()
                .map(|&(_, a, b)| haversine_nm(lat, lon, a, b))
                .collect::<Vec<_>>()
                .tap_sort()
                .into_iter()
                .take(kk)
                .collect();
            assert_eq!(got.len(), kk);
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() < 1e-9,
                    "k={kk} at {lat},{lon}: {got:?} vs {want:?}"
                );
            }
        }
    }
    // More than there are.
    let mut small = Feed::new(ZoneIndex::empty());
    small.send(pos_a(247_000_001, 10.0, 10.0, 1.0, 0), T0);
    assert_eq!(small.picture.nearest(0.0, 0.0, 10).len(), 1);
    assert!(small.picture.nearest(0.0, 0.0, 0).is_empty());
}

trait TapSort {
    fn tap_sort(self) -> Self;
}

impl TapSort for Vec<f64> {
    fn tap_sort(mut self) -> Self {
        self.sort_by(f64::total_cmp);
        self
    }
}

#[test]
fn boxes_across_the_antimeridian_and_several_at_once() {
    let (p, all) = scattered(1500);
    let check = |boxes: &[GeoBox]| {
        let mut got: Vec<u32> = p.in_boxes(boxes).iter().map(|v| v.mmsi).collect();
        let n = got.len();
        got.sort();
        got.dedup();
        assert_eq!(got.len(), n, "a vessel reported twice for {boxes:?}");
        let mut want: Vec<u32> = all
            .iter()
            .filter(|&&(_, lat, lon)| boxes.iter().any(|b| b.contains(lat, lon)))
            .map(|x| x.0)
            .collect();
        want.sort();
        assert_eq!(got, want, "{boxes:?}");
        n
    };
    let across = GeoBox::new(178.0, -5.0, -178.0, 5.0).unwrap();
    let n = check(&[across]);
    assert!(n > 100, "{n}");
    // Its two halves are found (both sides have vessels).
    let east = p
        .in_boxes(&[across])
        .iter()
        .filter(|v| v.position.unwrap().lon > 0.0)
        .count();
    assert!(east > 0 && east < n);
    // Several boxes, overlapping, one across the antimeridian.
    let med_a = GeoBox::new(11.0, 33.0, 14.0, 36.0).unwrap();
    let med_b = GeoBox::new(13.0, 35.0, 16.0, 38.0).unwrap();
    check(&[med_a, med_b, across]);
    // A polar box: every longitude.
    check(&[GeoBox::new(-180.0, 88.0, 180.0, 90.0).unwrap()]);
    // Boxes ending exactly at ±180.
    check(&[GeoBox::new(179.0, -10.0, 180.0, 10.0).unwrap()]);
    check(&[GeoBox::new(-180.0, -10.0, -179.0, 10.0).unwrap()]);
    // Nothing asked, nothing found.
    assert!(p.in_boxes(&[]).is_empty());
}

#[test]
fn queries_follow_moving_vessels() {
    // The loose-box R-tree must still answer exactly after many moves.
    let mut f = Feed::new(ZoneIndex::empty());
    let mut rng = Rng(3);
    let n = 500u32;
    let mut pos: Vec<(f64, f64)> = (0..n)
        .map(|_| (rng.range(34.0, 37.0), rng.range(12.0, 15.0)))
        .collect();
    for step in 0..40i64 {
        for (k, p) in pos.iter_mut().enumerate() {
            // ~20 kn north-east, 30 s apart: 0.0035° per step.
            p.0 += 0.0025;
            p.1 += 0.0025;
            f.send(
                pos_a(247_000_000 + k as u32, p.0, p.1, 20.0, 0),
                T0 + step * 30_000,
            );
        }
    }
    assert!(f.picture.tree_moves() > 0);
    let b = GeoBox::new(12.5, 34.5, 13.5, 35.5).unwrap();
    let mut got: Vec<u32> = f.picture.in_boxes(&[b]).iter().map(|v| v.mmsi).collect();
    got.sort();
    let want: Vec<u32> = pos
        .iter()
        .enumerate()
        .filter(|(_, p)| b.contains(p.0, p.1))
        .map(|(k, _)| 247_000_000 + k as u32)
        .collect();
    assert_eq!(got, want);
}
