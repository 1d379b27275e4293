//! Contacts: non-AIS objects an operator (or an integration) reports.
//!
//! A contact is what a phone call, an aircraft sighting or an NGO report
//! puts on the map: "rubber boat, ~60 persons" at a position, at a time,
//! within an uncertainty radius, perhaps drifting at a course and speed.
//! Each new report is a [`Sighting`] appended to the contact's own track;
//! the contact's current position is its latest sighting (by sighting time,
//! so a late-arriving older report extends the track without moving the
//! contact backwards), projected along its drift by [`Contact::position_at`].
//!
//! ```
//! use sar::{Contact, Sighting, SourceKind};
//! let s = Sighting::new(1_000, 34.5, 12.5, 1852.0, SourceKind::Aircraft, "seabird");
//! let mut c = Contact::new("c-000001", "rubber boat, ~60 persons", s, 1_000).unwrap();
//! let mut later = Sighting::new(3_601_000, 34.4, 12.5, 500.0, SourceKind::Phone, "duty officer");
//! later.course_deg = Some(180.0);
//! later.speed_kn = Some(1.0);
//! c.add_sighting(later, 3_601_000).unwrap();
//! assert_eq!(c.sightings.len(), 2);
//! assert_eq!(c.latest().lat, 34.4);
//! // One hour later it has drifted one mile south.
//! let (p, _) = c.position_at(7_201_000);
//! assert!((sar::geo::distance_nm(sar::LatLon::new(34.4, 12.5), p) - 1.0).abs() < 1e-6);
//! ```

use crate::error::SarError;
use crate::geo::{destination, LatLon, NM_M};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Largest uncertainty radius accepted, metres (500 NM).
pub const MAX_UNCERTAINTY_M: f64 = 500.0 * NM_M;
/// Fastest drift accepted for a contact, knots.
pub const MAX_CONTACT_SPEED_KN: f64 = 60.0;
/// Longest description or note, characters.
pub const MAX_TEXT: usize = 2000;

/// Who reported a sighting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Aircraft,
    Phone,
    Vessel,
    Other,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Aircraft => "aircraft",
            SourceKind::Phone => "phone",
            SourceKind::Vessel => "vessel",
            SourceKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<SourceKind> {
        Some(match s {
            "aircraft" => SourceKind::Aircraft,
            "phone" => SourceKind::Phone,
            "vessel" => SourceKind::Vessel,
            "other" => SourceKind::Other,
            _ => return None,
        })
    }
}

/// Whether a contact is still being followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactStatus {
    Active,
    Closed,
}

impl ContactStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ContactStatus::Active => "active",
            ContactStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<ContactStatus> {
        match s {
            "active" => Some(ContactStatus::Active),
            "closed" => Some(ContactStatus::Closed),
            _ => None,
        }
    }
}

/// One report of where a contact was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sighting {
    /// When it was seen (UNIX ms, message time of the picture).
    pub time_ms: i64,
    pub lat: f64,
    pub lon: f64,
    /// Radius of the circle the object is believed to be in, metres.
    pub uncertainty_m: f64,
    /// Drift: course over ground, degrees true.
    pub course_deg: Option<f64>,
    /// Drift: speed over ground, knots.
    pub speed_kn: Option<f64>,
    pub source: SourceKind,
    /// Who entered it (the token's user name).
    pub reported_by: String,
    pub note: Option<String>,
}

impl Sighting {
    /// A sighting with no drift and no note.
    pub fn new(
        time_ms: i64,
        lat: f64,
        lon: f64,
        uncertainty_m: f64,
        source: SourceKind,
        reported_by: &str,
    ) -> Sighting {
        Sighting {
            time_ms,
            lat,
            lon,
            uncertainty_m,
            course_deg: None,
            speed_kn: None,
            source,
            reported_by: reported_by.to_string(),
            note: None,
        }
    }

    pub fn position(&self) -> LatLon {
        LatLon::new(self.lat, self.lon)
    }

    /// Drift as (course, speed) when both are known and the speed is not 0.
    pub fn drift(&self) -> Option<(f64, f64)> {
        match (self.course_deg, self.speed_kn) {
            (Some(c), Some(s)) if s > 0.0 => Some((c, s)),
            _ => None,
        }
    }

    /// Check ranges; the error says which field is wrong.
    pub fn validate(&self) -> Result<(), SarError> {
        if !self.position().is_valid() {
            return Err(SarError::invalid(
                "lat must be within -90..90 and lon within -180..180",
            ));
        }
        if !(self.uncertainty_m.is_finite()
            && (0.0..=MAX_UNCERTAINTY_M).contains(&self.uncertainty_m))
        {
            return Err(SarError::invalid(
                "uncertainty must be 0..500 NM (uncertainty_nm or uncertainty_m)",
            ));
        }
        if let Some(c) = self.course_deg {
            if !(c.is_finite() && (0.0..360.0).contains(&c)) {
                return Err(SarError::invalid("course_deg must be within 0..360"));
            }
        }
        if let Some(s) = self.speed_kn {
            if !(s.is_finite() && (0.0..=MAX_CONTACT_SPEED_KN).contains(&s)) {
                return Err(SarError::invalid(format!(
                    "speed_kn must be within 0..{MAX_CONTACT_SPEED_KN}"
                )));
            }
        }
        if self.speed_kn.is_some_and(|s| s > 0.0) && self.course_deg.is_none() {
            return Err(SarError::invalid("a drift speed needs a course_deg"));
        }
        if self
            .note
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_TEXT)
        {
            return Err(SarError::invalid(format!(
                "note is limited to {MAX_TEXT} characters"
            )));
        }
        Ok(())
    }

    /// The sighting as its API object.
    pub fn to_json(&self) -> Value {
        json!({
            "time": format_time(self.time_ms),
            "time_ms": self.time_ms,
            "lat": self.lat,
            "lon": self.lon,
            "uncertainty_m": self.uncertainty_m,
            "uncertainty_nm": self.uncertainty_m / NM_M,
            "course_deg": self.course_deg,
            "speed_kn": self.speed_kn,
            "source": self.source,
            "reported_by": self.reported_by,
            "note": self.note,
        })
    }
}

/// A non-AIS object in the picture.
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    /// Stable id (`c-000042`), assigned by the store.
    pub id: String,
    /// What it is, e.g. "rubber boat, ~60 persons".
    pub description: String,
    pub status: ContactStatus,
    pub created_ms: i64,
    pub created_by: String,
    /// Time of the latest change (UNIX ms).
    pub updated_ms: i64,
    /// Increases by one with every change: a client keeps the highest.
    pub version: u64,
    /// The track, sorted by sighting time (equal times in arrival order).
    pub sightings: Vec<Sighting>,
}

impl Contact {
    /// A new contact from its first sighting.
    pub fn new(
        id: &str,
        description: &str,
        first: Sighting,
        now_ms: i64,
    ) -> Result<Contact, SarError> {
        check_description(description)?;
        first.validate()?;
        Ok(Contact {
            id: id.to_string(),
            description: description.trim().to_string(),
            status: ContactStatus::Active,
            created_ms: now_ms,
            created_by: first.reported_by.clone(),
            updated_ms: now_ms,
            version: 1,
            sightings: vec![first],
        })
    }

    /// Append a sighting to the track (kept in time order).
    pub fn add_sighting(&mut self, s: Sighting, now_ms: i64) -> Result<(), SarError> {
        s.validate()?;
        if self.sightings.len() >= MAX_SIGHTINGS {
            return Err(SarError::conflict(format!(
                "contact {} already has {MAX_SIGHTINGS} sightings",
                self.id
            )));
        }
        let at = self.sightings.partition_point(|x| x.time_ms <= s.time_ms);
        self.sightings.insert(at, s);
        self.touch(now_ms);
        Ok(())
    }

    /// Change the description.
    pub fn set_description(&mut self, d: &str, now_ms: i64) -> Result<(), SarError> {
        check_description(d)?;
        self.description = d.trim().to_string();
        self.touch(now_ms);
        Ok(())
    }

    /// Close or reopen.
    pub fn set_status(&mut self, s: ContactStatus, now_ms: i64) {
        self.status = s;
        self.touch(now_ms);
    }

    fn touch(&mut self, now_ms: i64) {
        self.updated_ms = now_ms.max(self.updated_ms);
        self.version += 1;
    }

    /// The latest sighting (by sighting time).
    pub fn latest(&self) -> &Sighting {
        self.sightings
            .last()
            .expect("a contact always has its first sighting")
    }

    /// Where the contact is believed to be at `t_ms`: the latest sighting
    /// moved along its drift (never backwards in time), and the uncertainty
    /// radius (metres), unchanged by the projection.
    pub fn position_at(&self, t_ms: i64) -> (LatLon, f64) {
        let s = self.latest();
        let p = match s.drift() {
            Some((course, speed)) => {
                let hours = (t_ms - s.time_ms).max(0) as f64 / 3_600_000.0;
                destination(s.position(), course, speed * hours)
            }
            None => s.position(),
        };
        (p, s.uncertainty_m)
    }

    /// The contact as its API/WebSocket object: latest position and drift
    /// at the top, the whole track under `track`.
    pub fn to_json(&self) -> Value {
        let s = self.latest();
        json!({
            "id": self.id,
            "description": self.description,
            "status": self.status,
            "source": s.source,
            "time": format_time(s.time_ms),
            "time_ms": s.time_ms,
            "lat": s.lat,
            "lon": s.lon,
            "uncertainty_m": s.uncertainty_m,
            "uncertainty_nm": s.uncertainty_m / NM_M,
            "course_deg": s.course_deg,
            "speed_kn": s.speed_kn,
            "created": format_time(self.created_ms),
            "created_by": self.created_by,
            "updated": format_time(self.updated_ms),
            "version": self.version,
            "track": self.sightings.iter().map(Sighting::to_json).collect::<Vec<_>>(),
        })
    }
}

/// Most sightings kept per contact (a contact followed for days by an
/// aircraft every minute stays well within it).
pub const MAX_SIGHTINGS: usize = 10_000;

fn check_description(d: &str) -> Result<(), SarError> {
    if d.trim().is_empty() {
        return Err(SarError::invalid("description is required"));
    }
    if d.chars().count() > MAX_TEXT {
        return Err(SarError::invalid(format!(
            "description is limited to {MAX_TEXT} characters"
        )));
    }
    Ok(())
}

/// RFC 3339 UTC with milliseconds when not whole seconds (no clock read).
pub fn format_time(ms: i64) -> String {
    // Civil-from-days (Howard Hinnant's algorithm): no dependency for one
    // formatting function.
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    let (hh, mm, ss) = (sod / 3600, (sod % 3600) / 60, sod % 60);
    if millis == 0 {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{millis:03}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(t: i64, lat: f64) -> Sighting {
        Sighting::new(t, lat, 12.0, 1000.0, SourceKind::Phone, "op")
    }

    #[test]
    fn times_format_like_the_rest_of_the_api() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_time(1_795_845_600_000), "2026-11-28T06:00:00Z");
        assert_eq!(format_time(1_795_845_600_123), "2026-11-28T06:00:00.123Z");
        assert_eq!(format_time(951_782_400_000), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn sightings_form_a_time_ordered_track_and_bump_the_version() {
        let mut c = Contact::new("c-1", "boat", s(1000, 34.0), 1000).unwrap();
        c.add_sighting(s(3000, 34.2), 3000).unwrap();
        c.add_sighting(s(2000, 34.1), 4000).unwrap();
        let lats: Vec<f64> = c.sightings.iter().map(|x| x.lat).collect();
        assert_eq!(lats, vec![34.0, 34.1, 34.2]);
        assert_eq!(
            c.latest().lat,
            34.2,
            "an older late report does not move it back"
        );
        assert_eq!(c.version, 3);
        assert_eq!(c.updated_ms, 4000);
    }

    #[test]
    fn bad_input_is_refused_with_the_field_named() {
        let mut bad = s(0, 95.0);
        assert!(Contact::new("c", "x", bad.clone(), 0)
            .unwrap_err()
            .message
            .contains("lat"));
        bad.lat = 34.0;
        bad.uncertainty_m = -1.0;
        assert!(bad.validate().unwrap_err().message.contains("uncertainty"));
        bad.uncertainty_m = 10.0;
        bad.speed_kn = Some(2.0);
        assert!(bad.validate().unwrap_err().message.contains("course"));
        bad.course_deg = Some(f64::NAN);
        assert!(bad.validate().is_err());
        assert!(Contact::new("c", "  ", s(0, 1.0), 0).is_err());
    }

    #[test]
    fn drift_is_never_projected_backwards() {
        let mut first = s(10_000, 34.0);
        first.course_deg = Some(0.0);
        first.speed_kn = Some(3.0);
        let c = Contact::new("c", "x", first, 0).unwrap();
        assert_eq!(c.position_at(0).0, LatLon::new(34.0, 12.0));
        let (p, u) = c.position_at(10_000 + 3_600_000);
        assert!((crate::geo::distance_nm(LatLon::new(34.0, 12.0), p) - 3.0).abs() < 1e-9);
        assert_eq!(u, 1000.0);
    }
}
