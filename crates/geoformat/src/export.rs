//! GeoJSON (as Lookout writes it) to GPX 1.1 and KML 2.2.
//!
//! What each Feature becomes:
//!
//! | geometry | GPX | KML |
//! |---|---|---|
//! | Point | `<wpt>` (with `<time>` from `properties.time`) | Point Placemark (with `TimeStamp`) |
//! | LineString, MultiLineString | `<trk>`, one `<trkseg>` per line, `<trkpt>` times from `properties.times` | LineString Placemark (a MultiGeometry when cut at 180°), `TimeSpan` of the times |
//! | Polygon, MultiPolygon | left out (GPX has no areas) | Polygon Placemark, holes as inner boundaries |
//!
//! The name is `properties.name`, else `title`, else `MMSI {mmsi}`, else
//! the Feature's id; the scalar properties go to the KML `ExtendedData`
//! and the GPX `<desc>`. Text is escaped by the XML writer.

use crate::geojson::{cut_antimeridian, round6};
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;
use serde_json::Value;
use std::io;

/// One Feature, read for export.
struct Item<'a> {
    name: String,
    props: Option<&'a serde_json::Map<String, Value>>,
    geometry: &'a Value,
}

fn items(doc: &Value) -> Vec<Item<'_>> {
    let features: Vec<&Value> = match doc.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => doc
            .get("features")
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default(),
        Some("Feature") => vec![doc],
        _ => Vec::new(),
    };
    features
        .into_iter()
        .filter_map(|f| {
            let geometry = f.get("geometry").filter(|g| !g.is_null())?;
            let props = f.get("properties").and_then(Value::as_object);
            Some(Item {
                name: name_of(f, props),
                props,
                geometry,
            })
        })
        .collect()
}

fn name_of(f: &Value, props: Option<&serde_json::Map<String, Value>>) -> String {
    let text = |k: &str| {
        props
            .and_then(|p| p.get(k))
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
    };
    text("name")
        .or_else(|| text("title"))
        .or_else(|| {
            props
                .and_then(|p| p.get("mmsi"))
                .and_then(Value::as_u64)
                .map(|m| format!("MMSI {m}"))
        })
        .or_else(|| {
            f.get("id")
                .map(|i| i.as_str().map_or(i.to_string(), str::to_owned))
        })
        .unwrap_or_else(|| "feature".into())
}

fn positions(v: &Value) -> Vec<[f64; 2]> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| Some([p.get(0)?.as_f64()?, p.get(1)?.as_f64()?]))
                .collect()
        })
        .unwrap_or_default()
}

/// The lines of a (Multi)LineString, with each point's time when
/// `properties.times` lists one per point (of a LineString).
fn lines(item: &Item) -> Vec<Vec<([f64; 2], Option<String>)>> {
    let g = item.geometry;
    let coords = &g["coordinates"];
    let times: Option<Vec<Option<String>>> = item
        .props
        .and_then(|p| p.get("times"))
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|t| t.as_str().map(str::to_owned)).collect());
    match g.get("type").and_then(Value::as_str) {
        Some("LineString") => {
            let pts = positions(coords);
            let times = times.filter(|t| t.len() == pts.len());
            vec![pts
                .into_iter()
                .enumerate()
                .map(|(i, p)| (p, times.as_ref().and_then(|t| t[i].clone())))
                .collect()]
        }
        Some("MultiLineString") => coords
            .as_array()
            .map(|ls| {
                ls.iter()
                    .map(|l| positions(l).into_iter().map(|p| (p, None)).collect())
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn point_time(item: &Item) -> Option<String> {
    let p = item.props?;
    ["time", "last_seen", "at"]
        .iter()
        .find_map(|k| p.get(*k).and_then(Value::as_str).map(str::to_owned))
}

/// Scalar properties, for descriptions.
fn scalars<'a>(item: &'a Item) -> Vec<(&'a str, String)> {
    item.props
        .map(|p| {
            p.iter()
                .filter_map(|(k, v)| match v {
                    Value::String(s) => Some((k.as_str(), s.clone())),
                    Value::Number(n) => Some((k.as_str(), n.to_string())),
                    Value::Bool(b) => Some((k.as_str(), b.to_string())),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

fn coord(x: f64) -> String {
    round6(x).to_string()
}

fn text<W: io::Write>(w: &mut Writer<W>, tag: &str, t: &str) -> io::Result<()> {
    w.create_element(tag)
        .write_text_content(BytesText::new(t))?;
    Ok(())
}

fn finish(w: Writer<Vec<u8>>) -> String {
    String::from_utf8(w.into_inner()).unwrap_or_default()
}

/// GeoJSON → GPX 1.1 (`title` names the file's metadata).
pub fn to_gpx(doc: &Value, title: &str) -> String {
    let items = items(doc);
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 1);
    let result: io::Result<()> = (|| {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.create_element("gpx")
            .with_attributes([
                ("version", "1.1"),
                ("creator", "Lookout"),
                ("xmlns", "http://www.topografix.com/GPX/1/1"),
            ])
            .write_inner_content(|w| {
                w.create_element("metadata")
                    .write_inner_content(|w| text(w, "name", title))?;
                // Schema order: every wpt, then rte, then trk.
                for it in &items {
                    if it.geometry.get("type").and_then(Value::as_str) != Some("Point") {
                        continue;
                    }
                    let p = positions(&Value::Array(vec![it.geometry["coordinates"].clone()]));
                    let Some(p) = p.first() else { continue };
                    w.create_element("wpt")
                        .with_attributes([
                            ("lat", coord(p[1]).as_str()),
                            ("lon", coord(p[0]).as_str()),
                        ])
                        .write_inner_content(|w| {
                            if let Some(t) = point_time(it) {
                                text(w, "time", &t)?;
                            }
                            text(w, "name", &it.name)?;
                            desc(w, it)
                        })?;
                }
                for it in &items {
                    let ls = lines(it);
                    if ls.is_empty() {
                        continue;
                    }
                    w.create_element("trk").write_inner_content(|w| {
                        text(w, "name", &it.name)?;
                        desc(w, it)?;
                        for l in &ls {
                            w.create_element("trkseg").write_inner_content(|w| {
                                for (p, t) in l {
                                    let e = w.create_element("trkpt").with_attributes([
                                        ("lat", coord(p[1]).as_str()),
                                        ("lon", coord(p[0]).as_str()),
                                    ]);
                                    match t {
                                        Some(t) => {
                                            e.write_inner_content(|w| text(w, "time", t))?;
                                        }
                                        None => {
                                            e.write_empty()?;
                                        }
                                    }
                                }
                                Ok(())
                            })?;
                        }
                        Ok(())
                    })?;
                }
                Ok(())
            })?;
        Ok(())
    })();
    debug_assert!(result.is_ok(), "writing to memory");
    finish(w)
}

fn desc<W: io::Write>(w: &mut Writer<W>, it: &Item) -> io::Result<()> {
    let s = scalars(it);
    if s.is_empty() {
        return Ok(());
    }
    let d = s
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join("; ");
    text(w, "desc", &d)
}

fn kml_coords(l: &[[f64; 2]]) -> String {
    l.iter()
        .map(|p| format!("{},{},0", coord(p[0]), coord(p[1])))
        .collect::<Vec<_>>()
        .join(" ")
}

/// GeoJSON → KML 2.2 (`title` names the Document).
pub fn to_kml(doc: &Value, title: &str) -> String {
    let items = items(doc);
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 1);
    let result: io::Result<()> = (|| {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.create_element("kml")
            .with_attribute(("xmlns", "http://www.opengis.net/kml/2.2"))
            .write_inner_content(|w| {
                w.create_element("Document").write_inner_content(|w| {
                    text(w, "name", title)?;
                    if let Some(log) = log_text(doc) {
                        text(w, "description", &log)?;
                    }
                    for it in &items {
                        placemark(w, it)?;
                    }
                    Ok(())
                })?;
                Ok(())
            })?;
        Ok(())
    })();
    debug_assert!(result.is_ok(), "writing to memory");
    finish(w)
}

/// A case file's `log` (foreign member) as lines of text: time, who,
/// action and what it said.
fn log_text(doc: &Value) -> Option<String> {
    let log = doc.get("log")?.as_array()?;
    let lines: Vec<String> = log
        .iter()
        .map(|e| {
            let f = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("");
            let mut l = format!("{} {} {}", f("time"), f("who"), f("action"));
            for k in ["text", "note", "contact", "status"] {
                if let Some(v) = e.get(k).and_then(Value::as_str) {
                    l.push_str(&format!(" — {v}"));
                }
            }
            l.trim().to_string()
        })
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

fn placemark<W: io::Write>(w: &mut Writer<W>, it: &Item) -> io::Result<()> {
    let kind = it
        .geometry
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("");
    let coords = &it.geometry["coordinates"];
    w.create_element("Placemark").write_inner_content(|w| {
        text(w, "name", &it.name)?;
        match kind {
            "Point" => {
                if let Some(t) = point_time(it) {
                    w.create_element("TimeStamp")
                        .write_inner_content(|w| text(w, "when", &t))?;
                }
            }
            "LineString" | "MultiLineString" => {
                let times: Vec<String> = lines(it)
                    .into_iter()
                    .flatten()
                    .filter_map(|(_, t)| t)
                    .collect();
                if let (Some(a), Some(b)) = (times.first(), times.last()) {
                    w.create_element("TimeSpan").write_inner_content(|w| {
                        text(w, "begin", a)?;
                        text(w, "end", b)
                    })?;
                }
            }
            _ => {}
        }
        let s = scalars(it);
        if !s.is_empty() {
            w.create_element("ExtendedData").write_inner_content(|w| {
                for (k, v) in &s {
                    w.create_element("Data")
                        .with_attribute(("name", *k))
                        .write_inner_content(|w| text(w, "value", v))?;
                }
                Ok(())
            })?;
        }
        match kind {
            "Point" => {
                let p = positions(&Value::Array(vec![coords.clone()]));
                if let Some(p) = p.first() {
                    w.create_element("Point")
                        .write_inner_content(|w| text(w, "coordinates", &kml_coords(&[*p])))?;
                }
            }
            "LineString" | "MultiLineString" => {
                let parts: Vec<Vec<[f64; 2]>> = lines(it)
                    .into_iter()
                    .flat_map(|l| {
                        cut_antimeridian(&l.into_iter().map(|(p, _)| p).collect::<Vec<_>>())
                    })
                    .collect();
                let line = |w: &mut Writer<W>, l: &[[f64; 2]]| -> io::Result<()> {
                    w.create_element("LineString").write_inner_content(|w| {
                        text(w, "tessellate", "1")?;
                        text(w, "coordinates", &kml_coords(l))
                    })?;
                    Ok(())
                };
                if parts.len() == 1 {
                    line(w, &parts[0])?;
                } else {
                    w.create_element("MultiGeometry").write_inner_content(|w| {
                        for l in &parts {
                            line(w, l)?;
                        }
                        Ok(())
                    })?;
                }
            }
            "Polygon" => polygon(w, coords)?,
            "MultiPolygon" => {
                w.create_element("MultiGeometry").write_inner_content(|w| {
                    for p in coords.as_array().into_iter().flatten() {
                        polygon(w, p)?;
                    }
                    Ok(())
                })?;
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(())
}

fn polygon<W: io::Write>(w: &mut Writer<W>, rings: &Value) -> io::Result<()> {
    let rings: Vec<Vec<[f64; 2]>> = rings
        .as_array()
        .into_iter()
        .flatten()
        .map(positions)
        .collect();
    w.create_element("Polygon").write_inner_content(|w| {
        for (i, r) in rings.iter().enumerate() {
            let tag = if i == 0 {
                "outerBoundaryIs"
            } else {
                "innerBoundaryIs"
            };
            w.create_element(tag).write_inner_content(|w| {
                w.create_element("LinearRing")
                    .write_inner_content(|w| text(w, "coordinates", &kml_coords(r)))?;
                Ok(())
            })?;
        }
        Ok(())
    })?;
    Ok(())
}
