//! Delivering a pattern to the searching unit: GPX 1.1 and KML 2.2 text
//! (XML escaped properly) for chart plotters and planning tools, and NMEA
//! 0183 `$GPWPL` (waypoint) and `$GPRTE` (route) sentences with their
//! checksums for equipment that takes a route over a serial line.
//!
//! * GPX: one `<wpt>` per waypoint (with its planned `<time>`) and the
//!   route as `<rte>` of `<rtept>` (Topografix GPX 1.1 schema order:
//!   `time` before `name`).
//! * KML: a `Document` with the track as a `LineString` Placemark and one
//!   Point Placemark per waypoint with a `TimeStamp`.
//! * NMEA: `$GPWPL,ddmm.mmmm,N,dddmm.mmmm,E,WP001*hh` per waypoint, then
//!   as many `$GPRTE,total,n,c,route,WP001,…*hh` as needed to keep each
//!   sentence within 82 characters; the checksum is the XOR of every byte
//!   between `$` and `*`, two upper-case hex digits.
//!
//! ```
//! use sar::export::{nmea_checksum, with_checksum};
//! // A GPWPL sentence with its checksum (XOR of the bytes between $ and *).
//! let s = with_checksum("GPWPL,4917.16,N,12310.64,W,003");
//! assert_eq!(s, "$GPWPL,4917.16,N,12310.64,W,003*65");
//! assert_eq!(nmea_checksum("GPWPL,4917.16,N,12310.64,W,003"), 0x65);
//! ```

use crate::contact::format_time;
use crate::patterns::Pattern;
use std::fmt::Write;

/// Escape text for XML content and attribute values.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all: dropped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// The pattern as a GPX 1.1 document.
pub fn to_gpx(p: &Pattern) -> String {
    let name = xml_escape(&p.title());
    let mut s = String::new();
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    s.push_str(
        "<gpx version=\"1.1\" creator=\"Lookout\" xmlns=\"http://www.topografix.com/GPX/1/1\">\n",
    );
    let _ = writeln!(
        s,
        "  <metadata><name>{name}</name><desc>{}</desc><time>{}</time></metadata>",
        xml_escape(&describe(p)),
        format_time(p.start_ms)
    );
    for w in &p.waypoints {
        let _ = writeln!(
            s,
            "  <wpt lat=\"{:.6}\" lon=\"{:.6}\"><time>{}</time><name>{}</name></wpt>",
            w.position.lat,
            w.position.lon,
            format_time(w.time_ms),
            w.name()
        );
    }
    let _ = writeln!(s, "  <rte><name>{name}</name>");
    for w in &p.waypoints {
        let _ = writeln!(
            s,
            "    <rtept lat=\"{:.6}\" lon=\"{:.6}\"><time>{}</time><name>{}</name></rtept>",
            w.position.lat,
            w.position.lon,
            format_time(w.time_ms),
            w.name()
        );
    }
    s.push_str("  </rte>\n</gpx>\n");
    s
}

/// The pattern as a KML 2.2 document.
pub fn to_kml(p: &Pattern) -> String {
    let name = xml_escape(&p.title());
    let mut s = String::new();
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    s.push_str("<kml xmlns=\"http://www.opengis.net/kml/2.2\">\n<Document>\n");
    let _ = writeln!(s, "  <name>{name}</name>");
    let _ = writeln!(
        s,
        "  <description>{}</description>",
        xml_escape(&describe(p))
    );
    let _ = writeln!(s, "  <Placemark><name>{name}</name>");
    let _ = writeln!(
        s,
        "    <TimeSpan><begin>{}</begin><end>{}</end></TimeSpan>",
        format_time(p.start_ms),
        format_time(p.end_ms())
    );
    s.push_str("    <LineString><tessellate>1</tessellate><coordinates>");
    for (i, w) in p.waypoints.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{:.6},{:.6},0", w.position.lon, w.position.lat);
    }
    s.push_str("</coordinates></LineString>\n  </Placemark>\n");
    for w in &p.waypoints {
        let _ = writeln!(
            s,
            "  <Placemark><name>{}</name><TimeStamp><when>{}</when></TimeStamp><Point><coordinates>{:.6},{:.6},0</coordinates></Point></Placemark>",
            w.name(),
            format_time(w.time_ms),
            w.position.lon,
            w.position.lat
        );
    }
    s.push_str("</Document>\n</kml>\n");
    s
}

fn describe(p: &Pattern) -> String {
    let mut d = format!(
        "{} search, {} legs, {:.1} NM at {:.1} kn, {} to {}",
        p.kind.as_str(),
        p.legs,
        p.length_nm(),
        p.speed_kn,
        format_time(p.start_ms),
        format_time(p.end_ms())
    );
    if p.spacing_nm > 0.0 {
        let _ = write!(d, ", track spacing {:.2} NM", p.spacing_nm);
    }
    d
}

/// The NMEA checksum of a sentence body (the text between `$` and `*`).
pub fn nmea_checksum(body: &str) -> u8 {
    body.bytes().fold(0, |a, b| a ^ b)
}

/// `$body*hh`.
pub fn with_checksum(body: &str) -> String {
    format!("${body}*{:02X}", nmea_checksum(body))
}

/// `ddmm.mmmm` / `dddmm.mmmm` and the hemisphere letter.
fn nmea_angle(v: f64, deg_digits: usize, pos: char, neg: char) -> (String, char) {
    let hemi = if v < 0.0 { neg } else { pos };
    // Round to 1e-4 minute first so 59.99996' carries into the degrees.
    let total_min = (v.abs() * 60.0 * 10_000.0).round() / 10_000.0;
    let deg = (total_min / 60.0).floor();
    let min = total_min - deg * 60.0;
    (
        format!("{:0w$}{:07.4}", deg as u32, min, w = deg_digits),
        hemi,
    )
}

/// Characters an NMEA field may not hold.
fn nmea_field(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_graphic() && !matches!(c, ',' | '*' | '$' | '!' | '\\' | '^' | '~'))
        .collect()
}

/// The pattern as NMEA 0183 sentences (without line ends): one `$GPWPL`
/// per waypoint, then the `$GPRTE` sentences of route `route_id`.
pub fn to_nmea(p: &Pattern, route_id: &str) -> Vec<String> {
    let mut out = Vec::new();
    let names: Vec<String> = p.waypoints.iter().map(|w| w.name()).collect();
    for (w, n) in p.waypoints.iter().zip(&names) {
        let (lat, ns) = nmea_angle(w.position.lat, 2, 'N', 'S');
        let (lon, ew) = nmea_angle(w.position.lon, 3, 'E', 'W');
        out.push(with_checksum(&format!("GPWPL,{lat},{ns},{lon},{ew},{n}")));
    }
    let mut id = nmea_field(route_id);
    id.truncate(16);
    // A sentence is at most 82 characters with "\r\n": "$" + body + "*hh"
    // ≤ 80, so the body is at most 76. The prefix "GPRTE,tt,nn,c,id" grows
    // with the sentence count: allow two digits for each.
    let prefix_len = "GPRTE,99,99,c,".len() + id.len();
    let mut chunks: Vec<Vec<&str>> = vec![Vec::new()];
    let mut len = prefix_len;
    for n in &names {
        let add = 1 + n.len();
        if len + add > 76 && !chunks.last().is_some_and(Vec::is_empty) {
            chunks.push(Vec::new());
            len = prefix_len;
        }
        chunks.last_mut().expect("one chunk").push(n);
        len += add;
    }
    let total = chunks.len();
    for (i, c) in chunks.iter().enumerate() {
        let mut body = format!("GPRTE,{total},{},c,{id}", i + 1);
        for n in c {
            body.push(',');
            body.push_str(n);
        }
        out.push(with_checksum(&body));
    }
    out
}

/// The sentences as one text with CR LF line ends.
pub fn nmea_text(p: &Pattern, route_id: &str) -> String {
    let mut s = String::new();
    for line in to_nmea(p, route_id) {
        s.push_str(&line);
        s.push_str("\r\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(xml_escape("a<b>&\"c'\u{1}"), "a&lt;b&gt;&amp;&quot;c&apos;");
    }

    #[test]
    fn nmea_angles_round_and_carry() {
        assert_eq!(nmea_angle(35.5, 2, 'N', 'S'), ("3530.0000".into(), 'N'));
        assert_eq!(nmea_angle(-12.25, 3, 'E', 'W'), ("01215.0000".into(), 'W'));
        // 59.999996' rounds to the next degree, not to "59.60.0000".
        assert_eq!(
            nmea_angle(12.0 + 59.999996 / 60.0, 3, 'E', 'W').0,
            "01300.0000"
        );
    }

    #[test]
    fn the_classic_example_checksum() {
        // The textbook GPRMC sentence: its checksum is 6A.
        let body = "GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W";
        assert_eq!(with_checksum(body), format!("${body}*6A"));
    }
}
