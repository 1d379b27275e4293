//! Own-asset positions from GNSS `$` sentences.
//!
//! A source configured with `own_asset = "RESCUE-1"` carries the navigation
//! feed of one of our own units (a patrol boat, a rescue ship). Its `$`
//! sentences are parsed with the `nmea` crate and merged per asset by a
//! [`GnssTracker`] into [`OwnAssetFix`] events:
//!
//! * `GGA` and `RMC` carry a position: each valid one emits a fix.
//! * `RMC` also gives speed and course over ground and the date; `VTG`
//!   updates speed and course, `HDT` the true heading. These are merged
//!   into the following fixes while they are fresh (10 s by receive time),
//!   so a failed gyro does not leave a stale heading on the picture.
//! * Fix time: `RMC` date and time; for `GGA` (time of day only), the day
//!   nearest the last `RMC` time, else nearest the receive time, so fixes
//!   around midnight land on the right day.
//!
//! Other sentences (`GSV`, `GLL`, …) are ignored; sentences that fail to
//! parse or verify are counted as `gnss` errors on the source.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveTime};
use nmea::ParseResult;
use serde::Serialize;

use crate::line::SourceId;

/// Freshness limit for merged speed, course and heading.
pub const MERGE_MAX_AGE_MS: i64 = 10_000;

/// The position of one of our own assets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OwnAssetFix {
    /// The asset (`own_asset` of the source).
    #[serde(serialize_with = "serialize_arc_str")]
    pub asset: Arc<str>,
    /// The source it came from.
    pub source: SourceId,
    /// Fix time from the sentence, ms since the UNIX epoch.
    pub time_ms: i64,
    /// When the sentence was received.
    pub received_ms: i64,
    /// Degrees, north positive.
    pub lat: f64,
    /// Degrees, east positive.
    pub lon: f64,
    /// Speed over ground, knots.
    pub sog: Option<f32>,
    /// Course over ground, degrees true.
    pub cog: Option<f32>,
    /// Heading, degrees true.
    pub heading: Option<f32>,
}

fn serialize_arc_str<S: serde::Serializer>(v: &Arc<str>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v)
}

/// Why a `$` sentence gave nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GnssError {
    /// Bad checksum, bad field, not a sentence.
    Invalid(String),
}

impl std::fmt::Display for GnssError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GnssError::Invalid(e) => write!(f, "invalid GNSS sentence: {e}"),
        }
    }
}

impl std::error::Error for GnssError {}

#[derive(Debug, Clone, Copy)]
struct Timed<T> {
    value: T,
    at_ms: i64,
}

/// Merges one asset's GNSS sentences into fixes.
#[derive(Debug, Clone)]
pub struct GnssTracker {
    asset: Arc<str>,
    source: SourceId,
    /// Last full date+time from RMC, ms.
    last_rmc_ms: Option<i64>,
    sog: Option<Timed<f32>>,
    cog: Option<Timed<f32>>,
    heading: Option<Timed<f32>>,
}

/// The `$…*hh` sentence in a line: after an optional TAG block, up to the
/// two checksum digits.
fn sentence(line: &[u8]) -> Option<&str> {
    let mut s = line;
    if s.first() == Some(&b'\\') {
        let end = memchr::memchr(b'\\', &s[1..])? + 1;
        s = &s[end + 1..];
    }
    let start = memchr::memchr(b'$', s)?;
    let s = &s[start..];
    let end = match memchr::memchr(b'*', s) {
        Some(star) => (star + 3).min(s.len()),
        None => s.len(),
    };
    let s = std::str::from_utf8(&s[..end]).ok()?;
    Some(s.trim_end())
}

/// Whether a line holds a `$` sentence (after an optional TAG block).
pub fn is_gnss_line(line: &[u8]) -> bool {
    let mut s = line;
    if s.first() == Some(&b'\\') {
        match memchr::memchr(b'\\', &s[1..]) {
            Some(end) => s = &s[end + 2..],
            None => return false,
        }
    }
    s.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'$')
}

fn valid_position(lat: Option<f64>, lon: Option<f64>) -> Option<(f64, f64)> {
    match (lat, lon) {
        (Some(la), Some(lo))
            if la.is_finite() && lo.is_finite() && la.abs() <= 90.0 && lo.abs() <= 180.0 =>
        {
            Some((la, lo))
        }
        _ => None,
    }
}

fn angle(v: Option<f32>) -> Option<f32> {
    v.filter(|x| x.is_finite() && (0.0..=360.0).contains(x))
}

fn speed(v: Option<f32>) -> Option<f32> {
    v.filter(|x| x.is_finite() && *x >= 0.0 && *x < 1000.0)
}

fn date_time_ms(date: NaiveDate, time: NaiveTime) -> i64 {
    date.and_time(time).and_utc().timestamp_millis()
}

/// The time of day `time` on the day nearest `reference_ms`.
fn nearest_day(time: NaiveTime, reference_ms: i64) -> Option<i64> {
    let day = DateTime::from_timestamp_millis(reference_ms)?.date_naive();
    [day.pred_opt(), Some(day), day.succ_opt()]
        .into_iter()
        .flatten()
        .map(|d| date_time_ms(d, time))
        .min_by_key(|t| (t - reference_ms).abs())
}

impl GnssTracker {
    /// A tracker for one asset fed by one source.
    pub fn new(asset: Arc<str>, source: SourceId) -> Self {
        GnssTracker {
            asset,
            source,
            last_rmc_ms: None,
            sog: None,
            cog: None,
            heading: None,
        }
    }

    /// The asset.
    pub fn asset(&self) -> &Arc<str> {
        &self.asset
    }

    fn fresh(v: Option<Timed<f32>>, now: i64) -> Option<f32> {
        v.filter(|t| (now - t.at_ms).abs() <= MERGE_MAX_AGE_MS)
            .map(|t| t.value)
    }

    fn set(slot: &mut Option<Timed<f32>>, v: Option<f32>, at_ms: i64) {
        if let Some(value) = v {
            *slot = Some(Timed { value, at_ms });
        }
    }

    fn fix(&self, time_ms: i64, received_ms: i64, lat: f64, lon: f64) -> OwnAssetFix {
        OwnAssetFix {
            asset: self.asset.clone(),
            source: self.source,
            time_ms,
            received_ms,
            lat,
            lon,
            sog: Self::fresh(self.sog, received_ms),
            cog: Self::fresh(self.cog, received_ms),
            heading: Self::fresh(self.heading, received_ms),
        }
    }

    /// Handle one line. `Ok(Some(fix))` for a position, `Ok(None)` for a
    /// sentence merged or ignored.
    pub fn handle(
        &mut self,
        line: &[u8],
        received_ms: i64,
    ) -> Result<Option<OwnAssetFix>, GnssError> {
        let Some(s) = sentence(line) else {
            return Err(GnssError::Invalid("no $ sentence".into()));
        };
        let parsed = match nmea::parse_str(s) {
            Ok(p) => p,
            Err(
                nmea::Error::DisabledSentence
                | nmea::Error::Unsupported(_)
                | nmea::Error::Unknown(_),
            ) => return Ok(None),
            Err(e) => return Err(GnssError::Invalid(format!("{e:?}"))),
        };
        match parsed {
            ParseResult::RMC(r) => {
                if matches!(
                    r.status_of_fix,
                    nmea::sentences::rmc::RmcStatusOfFix::Invalid
                ) {
                    return Ok(None);
                }
                let time_ms = match (r.fix_date, r.fix_time) {
                    (Some(d), Some(t)) => {
                        let ms = date_time_ms(d, t);
                        self.last_rmc_ms = Some(ms);
                        Some(ms)
                    }
                    (None, Some(t)) => nearest_day(t, self.last_rmc_ms.unwrap_or(received_ms)),
                    _ => None,
                };
                Self::set(&mut self.sog, speed(r.speed_over_ground), received_ms);
                Self::set(&mut self.cog, angle(r.true_course), received_ms);
                let Some((lat, lon)) = valid_position(r.lat, r.lon) else {
                    return Ok(None);
                };
                let mut fix = self.fix(time_ms.unwrap_or(received_ms), received_ms, lat, lon);
                // RMC's own values win over merged ones; an empty course
                // field means "not known now".
                fix.sog = speed(r.speed_over_ground).or(fix.sog);
                fix.cog = angle(r.true_course);
                Ok(Some(fix))
            }
            ParseResult::GGA(g) => {
                if !g.fix_type.is_some_and(|f| f.is_valid()) {
                    return Ok(None);
                }
                let Some((lat, lon)) = valid_position(g.latitude, g.longitude) else {
                    return Ok(None);
                };
                // The day comes from the feed's own RMC date when there is
                // one (a replayed recording, a receiver whose clock differs
                // from ours), else from the receive time.
                let reference = self.last_rmc_ms.unwrap_or(received_ms);
                let time_ms = g
                    .fix_time
                    .and_then(|t| nearest_day(t, reference))
                    .unwrap_or(received_ms);
                Ok(Some(self.fix(time_ms, received_ms, lat, lon)))
            }
            ParseResult::VTG(v) => {
                Self::set(&mut self.sog, speed(v.speed_over_ground), received_ms);
                Self::set(&mut self.cog, angle(v.true_course), received_ms);
                Ok(None)
            }
            ParseResult::HDT(h) => {
                Self::set(&mut self.heading, angle(h.heading), received_ms);
                Ok(None)
            }
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracker() -> GnssTracker {
        GnssTracker::new("RESCUE-1".into(), SourceId(3))
    }

    fn nmea_line(body: &str) -> String {
        let sum = body.bytes().fold(0u8, |a, b| a ^ b);
        format!("${body}*{sum:02X}")
    }

    #[test]
    fn rmc_then_gga_from_the_fixture() {
        let mut t = tracker();
        let rx = 1_700_000_000_000;
        let fix = t
            .handle(
                b"$GPRMC,200255.00,A,5310.81257,N,00525.70577,E,0.021,,160414,,,D*7E",
                rx,
            )
            .unwrap()
            .unwrap();
        // 2014-04-16T20:02:55Z
        assert_eq!(fix.time_ms, 1_397_678_575_000);
        assert!((fix.lat - 53.180_209_5).abs() < 1e-6, "{}", fix.lat);
        assert!((fix.lon - 5.428_429_5).abs() < 1e-6, "{}", fix.lon);
        assert_eq!(fix.sog, Some(0.021));
        assert_eq!(fix.cog, None);
        assert_eq!(&*fix.asset, "RESCUE-1");
        let fix = t
            .handle(
                b"$GPGGA,200256.00,5310.81255,N,00525.70577,E,2,09,1.12,3.6,M,45.7,M,,0000*58",
                rx + 1000,
            )
            .unwrap()
            .unwrap();
        assert_eq!(fix.time_ms, 1_397_678_576_000, "GGA takes the RMC date");
        assert_eq!(fix.sog, Some(0.021), "merged from RMC");
    }

    #[test]
    fn vtg_and_hdt_merge_while_fresh() {
        let mut t = tracker();
        let rx = 1_733_782_034_000; // 2024-12-09T22:07:14Z
        assert_eq!(
            t.handle(
                nmea_line("GPVTG,054.7,T,034.4,M,005.5,N,010.2,K").as_bytes(),
                rx
            ),
            Ok(None)
        );
        assert_eq!(t.handle(nmea_line("HEHDT,52.5,T").as_bytes(), rx), Ok(None));
        let fix = t
            .handle(
                nmea_line("GPGGA,220714.00,6000.000,N,00500.000,E,1,08,0.9,5.0,M,40.0,M,,")
                    .as_bytes(),
                rx,
            )
            .unwrap()
            .unwrap();
        assert_eq!(fix.time_ms, rx, "GGA takes the receive date");
        assert_eq!(
            (fix.sog, fix.cog, fix.heading),
            (Some(5.5), Some(54.7), Some(52.5))
        );
        assert_eq!((fix.lat, fix.lon), (60.0, 5.0));
        // 11 s later the merged values are stale.
        let fix = t
            .handle(
                nmea_line("GPGGA,220725.00,6000.000,N,00500.000,E,1,08,0.9,5.0,M,40.0,M,,")
                    .as_bytes(),
                rx + 11_000,
            )
            .unwrap()
            .unwrap();
        assert_eq!((fix.sog, fix.cog, fix.heading), (None, None, None));
    }

    #[test]
    fn gga_near_midnight_lands_on_the_right_day() {
        let mut t = tracker();
        // Received 2024-12-10T00:00:01Z, fix time 23:59:59 → the 9th.
        let rx = 1_733_788_801_000;
        let fix = t
            .handle(
                nmea_line("GPGGA,235959.00,6000.000,N,00500.000,E,1,08,0.9,5.0,M,40.0,M,,")
                    .as_bytes(),
                rx,
            )
            .unwrap()
            .unwrap();
        assert_eq!(fix.time_ms, rx - 2000);
    }

    #[test]
    fn invalid_and_ignored_sentences() {
        let mut t = tracker();
        // No fix.
        assert_eq!(
            t.handle(
                nmea_line("GPRMC,200255.00,V,,,,,,,160414,,,N").as_bytes(),
                0
            ),
            Ok(None)
        );
        assert_eq!(
            t.handle(nmea_line("GPGGA,200256.00,,,,,0,00,,,M,,M,,").as_bytes(), 0),
            Ok(None)
        );
        // Not ours.
        assert_eq!(
            t.handle(b"$GPGLL,5310.81258,N,00525.70578,E,200254.00,A,D*63", 0),
            Ok(None)
        );
        assert_eq!(
            t.handle(b"$GPGBS,200254.00,2.8,2.1,4.4,,,,*49", 0),
            Ok(None)
        );
        // Broken.
        assert!(t
            .handle(
                b"$GPRMC,200255.00,A,5310.81257,N,00525.70577,E,0.021,,160414,,,D*00",
                0
            )
            .is_err());
        assert!(t.handle(b"$GPGGA,garbage*11", 0).is_err());
        assert!(t.handle(b"no sentence", 0).is_err());
        // TAG block in front is fine.
        assert!(t
            .handle(
                b"\\s:x,c:1*00\\$GPRMC,200255.00,A,5310.81257,N,00525.70577,E,0.021,,160414,,,D*7E",
                0
            )
            .unwrap()
            .is_some());
    }

    #[test]
    fn hostile_dollar_lines_never_panic() {
        let mut t = tracker();
        let mut x = 0x1234_5678_u64;
        for _ in 0..20_000 {
            let mut line = b"$GP".to_vec();
            let n = (x % 90) as usize;
            for _ in 0..n {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                line.push(b",.*0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-"[(x % 40) as usize]);
            }
            let _ = t.handle(&line, 0);
            for kind in ["RMC", "GGA", "VTG", "HDT"] {
                let mut l = format!("$GP{kind},").into_bytes();
                l.extend_from_slice(&line[3..]);
                let _ = t.handle(&l, 0);
            }
        }
    }

    #[test]
    fn gnss_line_detection() {
        assert!(is_gnss_line(b"$GPRMC,"));
        assert!(is_gnss_line(b"\\s:a*00\\$GPRMC,"));
        assert!(!is_gnss_line(b"!AIVDM,"));
        assert!(!is_gnss_line(b"\\s:a*00"));
    }
}
