//! Zone files: GeoJSON FeatureCollections of Polygon and MultiPolygon
//! features, read and validated all-or-nothing.
//!
//! Each feature needs `properties.id` (a unique non-empty string),
//! `properties.name` (a string) and `properties.kind` (`patrol_area`,
//! `sar_region`, `watch`, `port` or another word); `alerts` (default true),
//! `approximate` and `source` are optional, and every property is kept.
//!
//! Rejected, with an error naming the file, the feature (index and id) and
//! the place: not GeoJSON, other geometry types, positions that are not two
//! finite numbers within ±180°/±90°, rings with fewer than four positions
//! or three distinct ones, unclosed rings, rings of zero area, edges
//! spanning more than 180° of longitude (an antimeridian crossing must be
//! split into a MultiPolygon, RFC 7946 §3.1.9), self-intersections (edges
//! of a ring crossing or overlapping each other, or rings of one polygon
//! touching), holes outside their exterior ring, duplicate ids across all
//! files loaded together, and files over 64 MiB or 2 million positions.
//! Every error found is reported, and if there is any, nothing is loaded.
//!
//! ```
//! use spatial_index::zones::geojson::parse_str;
//! let ok = r#"{"type":"FeatureCollection","features":[{"type":"Feature",
//!   "properties":{"id":"z1","name":"Zone 1","kind":"watch"},
//!   "geometry":{"type":"Polygon","coordinates":[[[12,35],[13,35],[13,36],[12,35]]]}}]}"#;
//! assert_eq!(parse_str("a.geojson", ok).unwrap().len(), 1);
//! let open_ring = ok.replace("[12,35]]]", "[12,35.5]]]");
//! let err = parse_str("a.geojson", &open_ring).unwrap_err().to_string();
//! assert!(err.contains("a.geojson: feature #0 (id \"z1\")") && err.contains("not closed"), "{err}");
//! ```

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use geo::{Contains, Coord, LineString, Polygon};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};
use serde_json::Value;

use super::{Zone, ZoneKind};

/// Largest zone file read.
pub const MAX_FILE_BYTES: u64 = 64 << 20;
/// Most positions in one file.
pub const MAX_POSITIONS: usize = 2_000_000;

/// One problem in one zone file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneError {
    /// The file (or the name given to [`parse_str`]).
    pub file: String,
    /// Index of the feature in the collection, when the problem is in one.
    pub feature: Option<usize>,
    /// The feature's `properties.id`, when it has one.
    pub id: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ZoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(n) = self.feature {
            write!(f, ": feature #{n}")?;
            if let Some(id) = &self.id {
                write!(f, " (id {id:?})")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

/// Zone loading failed; nothing was loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneLoadError {
    /// Every problem found.
    pub errors: Vec<ZoneError>,
}

impl fmt::Display for ZoneLoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "zones not loaded: ")?;
        for (k, e) in self.errors.iter().enumerate() {
            if k > 0 {
                write!(f, "; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ZoneLoadError {}

impl ZoneLoadError {
    fn file(file: &str, message: String) -> Self {
        ZoneLoadError {
            errors: vec![ZoneError {
                file: file.to_owned(),
                feature: None,
                id: None,
                message,
            }],
        }
    }
}

/// Read zones from files and folders (every `*.geojson` and `*.json` in a
/// folder, in name order, not recursive). Ids must be unique across all of
/// them.
pub fn load_paths<P: AsRef<Path>>(paths: &[P]) -> Result<Vec<Zone>, ZoneLoadError> {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        let p = p.as_ref();
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => match std::fs::read_dir(p) {
                Ok(rd) => {
                    let mut found: Vec<PathBuf> = rd
                        .filter_map(Result::ok)
                        .map(|e| e.path())
                        .filter(|f| {
                            f.is_file()
                                && f.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                                    e.eq_ignore_ascii_case("geojson")
                                        || e.eq_ignore_ascii_case("json")
                                })
                        })
                        .collect();
                    found.sort();
                    files.extend(found);
                }
                Err(e) => errors
                    .extend(ZoneLoadError::file(&p.display().to_string(), e.to_string()).errors),
            },
            Ok(_) => files.push(p.to_path_buf()),
            Err(e) => {
                errors.extend(ZoneLoadError::file(&p.display().to_string(), e.to_string()).errors)
            }
        }
    }
    let mut zones = Vec::new();
    for f in &files {
        match load_file(f) {
            Ok(z) => zones.extend(z),
            Err(e) => errors.extend(e.errors),
        }
    }
    errors.extend(duplicate_ids(&zones));
    if errors.is_empty() {
        Ok(zones)
    } else {
        Err(ZoneLoadError { errors })
    }
}

/// Read zones from one file.
pub fn load_file(path: &Path) -> Result<Vec<Zone>, ZoneLoadError> {
    let name = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| ZoneLoadError::file(&name, e.to_string()))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(ZoneLoadError::file(
            &name,
            format!(
                "file is {} bytes, more than the {} allowed",
                meta.len(),
                MAX_FILE_BYTES
            ),
        ));
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| ZoneLoadError::file(&name, e.to_string()))?;
    parse_str(&name, &text)
}

/// Errors for ids used more than once.
pub fn duplicate_ids(zones: &[Zone]) -> Vec<ZoneError> {
    let mut first: HashMap<&str, &Zone> = HashMap::new();
    let mut errors = Vec::new();
    for z in zones {
        if let Some(prev) = first.get(&*z.id) {
            let (file, feature) = split_origin(&z.origin);
            errors.push(ZoneError {
                file,
                feature,
                id: Some(z.id.to_string()),
                message: format!("duplicate id, first defined in {}", prev.origin),
            });
        } else {
            first.insert(&z.id, z);
        }
    }
    errors
}

fn split_origin(origin: &str) -> (String, Option<usize>) {
    match origin.rsplit_once('#') {
        Some((f, n)) => (f.to_owned(), n.parse().ok()),
        None => (origin.to_owned(), None),
    }
}

/// Parse zones from GeoJSON text; `file` names the source in errors.
pub fn parse_str(file: &str, text: &str) -> Result<Vec<Zone>, ZoneLoadError> {
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| ZoneLoadError::file(file, format!("invalid JSON: {e}")))?;
    let features: Vec<&Value> = match doc.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => match doc.get("features").and_then(Value::as_array) {
            Some(f) => f.iter().collect(),
            None => {
                return Err(ZoneLoadError::file(
                    file,
                    "FeatureCollection without a \"features\" array".into(),
                ))
            }
        },
        Some("Feature") => vec![&doc],
        _ => {
            return Err(ZoneLoadError::file(
                file,
                "not a GeoJSON FeatureCollection or Feature".into(),
            ))
        }
    };
    let mut budget = MAX_POSITIONS;
    let mut zones = Vec::new();
    let mut errors = Vec::new();
    for (i, f) in features.into_iter().enumerate() {
        let origin = format!("{file}#{i}");
        match parse_feature(f, origin, &mut budget) {
            Ok(z) => zones.push(z),
            Err(message) => errors.push(ZoneError {
                file: file.to_owned(),
                feature: Some(i),
                id: f
                    .get("properties")
                    .and_then(|p| p.get("id"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                message,
            }),
        }
        if budget == 0 {
            break;
        }
    }
    errors.extend(duplicate_ids(&zones));
    if errors.is_empty() {
        Ok(zones)
    } else {
        Err(ZoneLoadError { errors })
    }
}

fn parse_feature(f: &Value, origin: String, budget: &mut usize) -> Result<Zone, String> {
    if f.get("type").and_then(Value::as_str) != Some("Feature") {
        return Err("not a GeoJSON Feature".into());
    }
    let props = f
        .get("properties")
        .and_then(Value::as_object)
        .ok_or("has no \"properties\" object")?;
    let id = props
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty() && s.len() <= 256)
        .ok_or("properties.id must be a non-empty string (at most 256 bytes)")?;
    let name = props
        .get("name")
        .and_then(Value::as_str)
        .ok_or("properties.name must be a string")?;
    let kind = props
        .get("kind")
        .and_then(Value::as_str)
        .and_then(ZoneKind::parse)
        .ok_or(
            "properties.kind must be one word: patrol_area, sar_region, watch, port or another",
        )?;
    let flag = |key: &str, default: bool| -> Result<bool, String> {
        match props.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(format!("properties.{key} must be true or false")),
        }
    };
    let alerts = flag("alerts", true)?;
    let approximate = flag("approximate", false)?;
    let source = match props.get("source") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err("properties.source must be a string".into()),
    };
    let geometry = f
        .get("geometry")
        .filter(|g| !g.is_null())
        .ok_or("has no geometry")?;
    let polygons = match (
        geometry.get("type").and_then(Value::as_str),
        geometry.get("coordinates").and_then(Value::as_array),
    ) {
        (Some("Polygon"), Some(c)) => vec![parse_polygon(c, None, budget)?],
        (Some("MultiPolygon"), Some(c)) => {
            if c.is_empty() {
                return Err("MultiPolygon has no polygons".into());
            }
            let mut v = Vec::with_capacity(c.len());
            for (pi, p) in c.iter().enumerate() {
                let rings = p
                    .as_array()
                    .ok_or_else(|| format!("polygon {pi}: not an array of rings"))?;
                v.push(parse_polygon(rings, Some(pi), budget)?);
            }
            v
        }
        (Some(t @ ("Polygon" | "MultiPolygon")), None) => {
            return Err(format!("{t} without a coordinates array"))
        }
        (Some(t), _) => return Err(format!("geometry type {t} is not Polygon or MultiPolygon")),
        (None, _) => return Err("geometry has no type".into()),
    };
    Ok(Zone {
        id: Arc::from(id),
        name: name.to_owned(),
        kind,
        alerts,
        approximate,
        source,
        properties: props.clone(),
        geometry: geo::MultiPolygon(polygons),
        origin,
    })
}

fn parse_polygon(
    rings: &[Value],
    part: Option<usize>,
    budget: &mut usize,
) -> Result<Polygon<f64>, String> {
    let label = |ri: usize| match part {
        Some(p) => format!("polygon {p} ring {ri}"),
        None => format!("ring {ri}"),
    };
    if rings.is_empty() {
        return Err(match part {
            Some(p) => format!("polygon {p} has no rings"),
            None => "polygon has no rings".into(),
        });
    }
    let mut parsed: Vec<Vec<Coord<f64>>> = Vec::with_capacity(rings.len());
    for (ri, r) in rings.iter().enumerate() {
        let l = label(ri);
        let positions = r
            .as_array()
            .ok_or_else(|| format!("{l}: not an array of positions"))?;
        if positions.len() > *budget {
            *budget = 0;
            return Err(format!("more than {MAX_POSITIONS} positions in the file"));
        }
        *budget -= positions.len();
        let mut ring = Vec::with_capacity(positions.len());
        for (k, p) in positions.iter().enumerate() {
            ring.push(parse_position(p).map_err(|e| format!("{l} position {k}: {e}"))?);
        }
        if ring.len() < 4 {
            return Err(format!(
                "{l} has {} positions; a ring needs at least 4 (3 corners and the first repeated)",
                ring.len()
            ));
        }
        let (first, last) = (ring[0], ring[ring.len() - 1]);
        if first != last {
            return Err(format!(
                "{l} is not closed: first position ({}, {}) differs from last ({}, {})",
                first.x, first.y, last.x, last.y
            ));
        }
        ring.dedup();
        if ring.len() < 4 {
            return Err(format!("{l} has fewer than 3 distinct positions"));
        }
        for w in ring.windows(2) {
            if (w[1].x - w[0].x).abs() > 180.0 {
                return Err(format!(
                    "{l}: edge from ({}, {}) to ({}, {}) spans more than 180° of longitude; \
                     split polygons at the antimeridian (RFC 7946 §3.1.9)",
                    w[0].x, w[0].y, w[1].x, w[1].y
                ));
            }
        }
        parsed.push(ring);
    }
    check_simple(&parsed).map_err(|(ra, ea, rb, eb, at, what)| {
        format!(
            "self-intersection: {} edge {ea} {what} {} edge {eb} at ({:.6}, {:.6})",
            label(ra),
            label(rb),
            at.x,
            at.y
        )
    })?;
    for (ri, ring) in parsed.iter().enumerate() {
        if shoelace(ring) == 0.0 {
            return Err(format!("{} has zero area", label(ri)));
        }
    }
    let mut rings_iter = parsed.into_iter().map(LineString::from);
    let exterior = rings_iter.next().unwrap_or_else(|| LineString::new(vec![]));
    let holes: Vec<LineString<f64>> = rings_iter.collect();
    let outer = Polygon::new(exterior.clone(), vec![]);
    for (k, h) in holes.iter().enumerate() {
        if !outer.contains(&h.0[0]) {
            return Err(format!(
                "{} (a hole) lies outside the exterior ring",
                label(k + 1)
            ));
        }
    }
    Ok(Polygon::new(exterior, holes))
}

fn parse_position(p: &Value) -> Result<Coord<f64>, String> {
    let a = p.as_array().ok_or("not an array")?;
    if a.len() < 2 || a.len() > 3 {
        return Err(format!(
            "has {} numbers, not 2 (longitude, latitude)",
            a.len()
        ));
    }
    let num = |v: &Value| v.as_f64().filter(|x| x.is_finite());
    let (Some(x), Some(y)) = (num(&a[0]), num(&a[1])) else {
        return Err("longitude and latitude must be finite numbers".into());
    };
    if !(-180.0..=180.0).contains(&x) {
        return Err(format!("longitude {x} outside -180..180"));
    }
    if !(-90.0..=90.0).contains(&y) {
        return Err(format!("latitude {y} outside -90..90"));
    }
    Ok(Coord { x, y })
}

fn shoelace(ring: &[Coord<f64>]) -> f64 {
    ring.windows(2)
        .map(|w| w[0].x * w[1].y - w[1].x * w[0].y)
        .sum::<f64>()
        / 2.0
}

type Crossing = (usize, usize, usize, usize, Coord<f64>, &'static str);

/// Find two edges of the polygon's rings that cross or overlap (edges next
/// to each other in a ring may share their common vertex).
fn check_simple(rings: &[Vec<Coord<f64>>]) -> Result<(), Crossing> {
    struct Seg {
        ring: usize,
        idx: usize,
        n: usize,
        line: geo::Line<f64>,
    }
    let mut segs = Vec::new();
    for (ri, r) in rings.iter().enumerate() {
        let n = r.len() - 1;
        for (k, w) in r.windows(2).enumerate() {
            segs.push(Seg {
                ring: ri,
                idx: k,
                n,
                line: geo::Line::new(w[0], w[1]),
            });
        }
    }
    let check = |a: &Seg, b: &Seg| -> Result<(), Crossing> {
        use geo::line_intersection::{line_intersection, LineIntersection};
        let adjacent = a.ring == b.ring
            && (a.idx + 1 == b.idx
                || b.idx + 1 == a.idx
                || (a.idx == 0 && b.idx + 1 == b.n)
                || (b.idx == 0 && a.idx + 1 == a.n));
        match line_intersection(a.line, b.line) {
            None => Ok(()),
            Some(LineIntersection::SinglePoint {
                is_proper: false, ..
            }) if adjacent => Ok(()),
            Some(LineIntersection::SinglePoint { intersection, .. }) => Err((
                a.ring,
                a.idx,
                b.ring,
                b.idx,
                intersection,
                if a.ring == b.ring {
                    "crosses"
                } else {
                    "touches"
                },
            )),
            Some(LineIntersection::Collinear { intersection }) => {
                Err((a.ring, a.idx, b.ring, b.idx, intersection.start, "overlaps"))
            }
        }
    };
    if segs.len() <= 64 {
        for i in 0..segs.len() {
            for j in i + 1..segs.len() {
                check(&segs[i], &segs[j])?;
            }
        }
        return Ok(());
    }
    let env = |s: &Seg| {
        AABB::from_corners(
            [s.line.start.x, s.line.start.y],
            [s.line.end.x, s.line.end.y],
        )
    };
    let tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>> = RTree::bulk_load(
        segs.iter()
            .enumerate()
            .map(|(i, s)| GeomWithData::new(Rectangle::from_aabb(env(s)), i))
            .collect(),
    );
    for (i, s) in segs.iter().enumerate() {
        for other in tree.locate_in_envelope_intersecting(&env(s)) {
            let j = other.data;
            if j > i {
                check(s, &segs[j])?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fc(geom: &str) -> String {
        format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"id":"z","name":"Z","kind":"watch"}},"geometry":{geom}}}]}}"#
        )
    }

    #[test]
    fn bow_tie_is_rejected() {
        let g = r#"{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}"#;
        let e = parse_str("t", &fc(g)).unwrap_err().to_string();
        assert!(
            e.contains("self-intersection") && e.contains("crosses"),
            "{e}"
        );
    }

    #[test]
    fn large_self_intersecting_ring_uses_the_tree() {
        // A 200-gon whose last vertices cut back across the first edge.
        let mut pts: Vec<String> = (0..200)
            .map(|k| {
                let a = k as f64 / 200.0 * std::f64::consts::TAU;
                format!("[{},{}]", 10.0 + a.cos(), 35.0 + a.sin())
            })
            .collect();
        pts.push("[10.5,34.0]".into());
        pts.push("[11.5,35.5]".into());
        pts.push(pts[0].clone());
        let g = format!(
            r#"{{"type":"Polygon","coordinates":[[{}]]}}"#,
            pts.join(",")
        );
        let e = parse_str("t", &fc(&g)).unwrap_err().to_string();
        assert!(e.contains("self-intersection"), "{e}");
        // Without the detour it is fine.
        let mut ok: Vec<String> = pts[..200].to_vec();
        ok.push(pts[0].clone());
        let g = format!(r#"{{"type":"Polygon","coordinates":[[{}]]}}"#, ok.join(","));
        assert!(parse_str("t", &fc(&g)).is_ok());
    }

    #[test]
    fn holes() {
        let inside = r#"{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[1,1],[2,1],[2,2],[1,1]]]}"#;
        assert!(parse_str("t", &fc(inside)).is_ok());
        let outside = r#"{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[5,5],[6,5],[6,6],[5,5]]]}"#;
        let e = parse_str("t", &fc(outside)).unwrap_err().to_string();
        assert!(e.contains("outside the exterior"), "{e}");
        let crossing = r#"{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[3,3],[5,3],[5,5],[3,3]]]}"#;
        let e = parse_str("t", &fc(crossing)).unwrap_err().to_string();
        assert!(e.contains("ring 0") && e.contains("ring 1"), "{e}");
    }

    #[test]
    fn spike_overlap_is_rejected() {
        let g = r#"{"type":"Polygon","coordinates":[[[0,0],[2,0],[1,0],[1,1],[0,0]]]}"#;
        let e = parse_str("t", &fc(g)).unwrap_err().to_string();
        assert!(e.contains("overlaps"), "{e}");
    }
}
