//! Situation reports (SITREPs) in the IMO/ICAO standard format of the
//! IAMSAR Manual: the short form (A–F: identity of the casualty, position,
//! situation, number of persons at risk, assistance required, coordinating
//! RCC) and the full form's further sections (G description of the
//! casualty, H weather on scene, J initial actions taken, K search area,
//! L coordinating instructions, M future plans, N additional information),
//! built from an [`Incident`], its contacts (with their sightings), its
//! assets and its log, as plain text for a message and as JSON.
//!
//! ```
//! use sar::sitrep::{sitrep, Rcc, SitrepOptions};
//! use sar::{Contact, Incident, Sighting, SourceKind};
//! let i = Incident::new("i-000001", "rubber boat SE of Lampedusa", "duty", 1_795_845_600_000, 0).unwrap();
//! let c = Contact::new("c-000001", "rubber boat, ~60 persons",
//!     Sighting::new(1_795_845_600_000, 35.2, 12.9, 500.0, SourceKind::Aircraft, "seabird"), 0).unwrap();
//! let rcc = Rcc { name: "MRCC Roma".into(), phone: Some("+39 06 0000 0000".into()), email: None, mmsi: Some(2_470_001) };
//! let opts = SitrepOptions { number: 1, time_ms: 1_795_849_200_000, ..Default::default() };
//! let s = sitrep(&i, &[c], &rcc, &opts);
//! assert_eq!(s.persons_at_risk, Some(60));
//! assert!(s.to_text().contains("B. POSITION: 35-12.000N 012-54.000E"));
//! ```

use crate::contact::{format_time, Contact};
use crate::incident::{Action, Asset, Incident, IncidentStatus};
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// The coordinating rescue centre.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Rcc {
    pub name: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub mmsi: Option<u32>,
}

/// Transmission priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    #[default]
    Distress,
    Urgency,
    Safety,
    Routine,
}

impl Priority {
    fn word(self) -> &'static str {
        match self {
            Priority::Distress => "DISTRESS",
            Priority::Urgency => "URGENCY",
            Priority::Safety => "SAFETY",
            Priority::Routine => "ROUTINE",
        }
    }
}

/// What the incident record does not hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct SitrepOptions {
    /// Serial number of this SITREP for the case (1, 2, …).
    pub number: u32,
    /// Its date and time (UNIX ms).
    pub time_ms: i64,
    pub priority: Priority,
    /// Addressees.
    pub to: Option<String>,
    /// Persons at risk (otherwise read from the contacts' descriptions,
    /// e.g. "rubber boat, ~60 persons").
    pub persons: Option<u32>,
    /// Nature of distress (fire, sinking, adrift, …).
    pub nature: Option<String>,
    pub assistance_required: Option<String>,
    /// Weather on scene, as text (wind, sea, visibility, …).
    pub weather: Option<String>,
    /// Search area, as text (see [`describe_search_area`]).
    pub search_area: Option<String>,
    pub future_plans: Option<String>,
    pub additional_information: Option<String>,
}

/// Where the casualty is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SitrepPosition {
    pub lat: f64,
    pub lon: f64,
    /// `DD-MM.MMMN DDD-MM.MMME`.
    pub text: String,
    pub time: String,
    pub source: String,
    pub contact: String,
}

/// A SITREP: the JSON form (`to_text` gives the message).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sitrep {
    pub priority: Priority,
    pub date_time: String,
    pub dtg: String,
    pub from: String,
    pub to: Option<String>,
    pub number: u32,
    pub incident: String,
    /// A.
    pub identity: String,
    /// B.
    pub position: Option<SitrepPosition>,
    /// C.
    pub situation: String,
    /// D.
    pub persons_at_risk: Option<u32>,
    /// E.
    pub assistance_required: String,
    /// F.
    pub coordinating_rcc: Rcc,
    /// G.
    pub description: String,
    /// H.
    pub weather: Option<String>,
    /// J.
    pub actions_taken: Vec<String>,
    /// K.
    pub search_area: Option<String>,
    /// L.
    pub coordinating_instructions: String,
    /// M.
    pub future_plans: String,
    /// N.
    pub additional_information: String,
}

/// `DD-MM.MMMN DDD-MM.MMME`.
pub fn format_position(lat: f64, lon: f64) -> String {
    let part = |v: f64, w: usize, pos: char, neg: char| {
        let m = (v.abs() * 60.0 * 1000.0).round() / 1000.0;
        let d = (m / 60.0).floor();
        format!(
            "{:0w$}-{:06.3}{}",
            d as u32,
            m - d * 60.0,
            if v < 0.0 { neg } else { pos },
            w = w
        )
    };
    format!("{} {}", part(lat, 2, 'N', 'S'), part(lon, 3, 'E', 'W'))
}

/// A date-time group, `DDHHMMZ MON YY` (e.g. `281200Z NOV 26`).
pub fn dtg(ms: i64) -> String {
    const MONTHS: [&str; 12] = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    let t = format_time(ms); // YYYY-MM-DDTHH:MM:SS…Z
    let month: usize = t[5..7].parse().unwrap_or(1);
    format!(
        "{}{}{}Z {} {}",
        &t[8..10],
        &t[11..13],
        &t[14..16],
        MONTHS[month.clamp(1, 12) - 1],
        &t[2..4]
    )
}

/// Hours and minutes of a time, `HHMMZ`.
fn hhmm(ms: i64) -> String {
    let t = format_time(ms);
    format!("{}{}Z", &t[11..13], &t[14..16])
}

fn asset_label(a: &Asset) -> String {
    match (&a.name, a.mmsi) {
        (Some(n), Some(m)) => format!("{n} (MMSI {m})"),
        (Some(n), None) => n.clone(),
        (None, Some(m)) => format!("MMSI {m}"),
        (None, None) => "unnamed unit".into(),
    }
}

/// Persons mentioned in a description: the number before "person(s)",
/// "people", "pob", "pax" or "migrants" (`~60 persons` → 60).
pub fn persons_in(text: &str) -> Option<u32> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_ascii_alphanumeric()))
        .filter(|w| !w.is_empty())
        .collect();
    words.windows(2).find_map(|w| {
        let unit = matches!(
            w[1],
            "person" | "persons" | "people" | "pob" | "pax" | "migrants" | "survivors"
        );
        if unit {
            w[0].parse().ok()
        } else {
            None
        }
    })
}

fn action_text(a: &Action) -> Option<String> {
    Some(match a {
        Action::Create { title } => format!("case opened: {title}"),
        Action::SetStatus { status, reason } => match reason {
            Some(r) => format!("status {} ({r})", status.as_str()),
            None => format!("status {}", status.as_str()),
        },
        Action::AssignAsset { asset } => format!("{} assigned", asset_label(asset)),
        Action::ReleaseAsset { asset } => format!("{} released", asset_label(asset)),
        Action::LinkContact { contact_id } => format!("contact {contact_id} linked"),
        Action::UnlinkContact { contact_id } => format!("contact {contact_id} unlinked"),
        Action::LinkAlert { alert_id } => format!("alert {alert_id} linked"),
        Action::UnlinkAlert { .. } => return None,
        Action::LinkVessel { mmsi } => format!("vessel {mmsi} linked"),
        Action::UnlinkVessel { .. } => return None,
        Action::Note { text } => text.clone(),
        Action::Notify { to, by, text } => match text {
            Some(t) => format!("{to} notified by {}: {t}", by.as_str()),
            None => format!("{to} notified by {}", by.as_str()),
        },
        Action::Retitle { title } => format!("case retitled: {title}"),
        Action::SearchArea { plan, .. } => {
            format!("search area computed: {}", describe_search_area(plan))
        }
        Action::SearchPattern { pattern, .. } => {
            format!(
                "search pattern planned: {}",
                crate::incident::describe_pattern(pattern)
            )
        }
    })
}

/// A one-line description of a search area for section K.
pub fn describe_search_area(resp: &crate::search_area::SearchAreaResponse) -> String {
    let p = &resp.area["properties"];
    format!(
        "datum {}, radius {:.2} NM (E {:.2} NM), rectangle {:.1} x {:.1} NM along {:03.0}T",
        format_position(resp.datum.lat, resp.datum.lon),
        resp.radius_nm,
        resp.error_nm,
        p["length_nm"].as_f64().unwrap_or(0.0),
        p["width_nm"].as_f64().unwrap_or(0.0),
        p["axis_deg"].as_f64().unwrap_or(0.0),
    )
}

/// The SITREP for an incident. `contacts` are the contacts of the picture
/// (those linked to the incident are used; with none linked, all given).
pub fn sitrep(
    incident: &Incident,
    contacts: &[Contact],
    rcc: &Rcc,
    opts: &SitrepOptions,
) -> Sitrep {
    let linked: Vec<&Contact> = {
        let l: Vec<&Contact> = contacts
            .iter()
            .filter(|c| incident.contacts.contains(&c.id))
            .collect();
        if l.is_empty() {
            contacts.iter().collect()
        } else {
            l
        }
    };
    // The casualty's position: the most recent sighting of any contact.
    let latest = linked.iter().max_by_key(|c| c.latest().time_ms);
    let position = latest.map(|c| {
        let s = c.latest();
        SitrepPosition {
            lat: s.lat,
            lon: s.lon,
            text: format_position(s.lat, s.lon),
            time: format_time(s.time_ms),
            source: format!("{} ({})", s.source.as_str(), s.reported_by),
            contact: c.id.clone(),
        }
    });
    let mut identity: Vec<String> = linked
        .iter()
        .map(|c| format!("{} ({})", c.description, c.id))
        .collect();
    identity.extend(incident.vessels.iter().map(|m| format!("vessel MMSI {m}")));
    let identity = if identity.is_empty() {
        incident.title.clone()
    } else {
        format!("{}: {}", incident.title, identity.join("; "))
    };
    let first_report = linked
        .iter()
        .flat_map(|c| c.sightings.first())
        .map(|s| s.time_ms)
        .min()
        .unwrap_or(incident.created_ms);
    let situation = format!(
        "{} {}: {}{}",
        opts.priority.word(),
        dtg(first_report),
        opts.nature
            .clone()
            .unwrap_or_else(|| incident.title.clone()),
        match incident.status {
            IncidentStatus::Open => String::new(),
            s => format!(" (case {})", s.as_str()),
        }
    );
    let persons = opts.persons.or_else(|| {
        let counts: Vec<u32> = linked
            .iter()
            .filter_map(|c| persons_in(&c.description))
            .collect();
        (!counts.is_empty()).then(|| counts.iter().sum())
    });
    let assets: Vec<String> = incident
        .assets
        .iter()
        .map(|a| asset_label(&a.asset))
        .collect();
    let assistance_required =
        opts.assistance_required
            .clone()
            .unwrap_or_else(|| match incident.status {
                IncidentStatus::Open => "search and rescue units to locate and assist".into(),
                IncidentStatus::AssetsAssigned => format!(
                    "{} unit(s) assigned; further units as requested",
                    assets.len()
                ),
                IncidentStatus::Rescued | IncidentStatus::Closed => "none".into(),
            });
    let description = linked
        .iter()
        .map(|c| {
            let mut sources: Vec<&str> = c.sightings.iter().map(|s| s.source.as_str()).collect();
            sources.sort_unstable();
            sources.dedup();
            format!(
                "{}: {} sighting(s) from {} ({}), last {}",
                c.id,
                c.sightings.len(),
                format_time(c.sightings[0].time_ms),
                sources.join(", "),
                format_time(c.latest().time_ms)
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let actions_taken: Vec<String> = incident
        .log
        .iter()
        .filter_map(|e| {
            action_text(&e.action).map(|t| format!("{} {} ({})", hhmm(e.time_ms), t, e.who))
        })
        .collect();
    let coordinating_instructions = if assets.is_empty() {
        "no unit assigned".to_string()
    } else {
        format!("units participating: {}", assets.join(", "))
    };
    let future_plans = opts.future_plans.clone().unwrap_or_else(|| {
        match incident.status {
            IncidentStatus::Open => "assign units and search the computed area",
            IncidentStatus::AssetsAssigned => {
                "continue the search; update the datum with each new sighting"
            }
            IncidentStatus::Rescued => "land survivors; close the case",
            IncidentStatus::Closed => "none: case closed",
        }
        .to_string()
    });
    let mut additional = opts.additional_information.clone().unwrap_or_default();
    if incident.status == IncidentStatus::Closed {
        if let Some(e) = incident.log.iter().rev().find(|e| {
            matches!(
                e.action,
                Action::SetStatus {
                    status: IncidentStatus::Closed,
                    ..
                }
            )
        }) {
            if !additional.is_empty() {
                additional.push_str("; ");
            }
            let _ = write!(additional, "SAR operations terminated {}", dtg(e.time_ms));
        }
    }
    Sitrep {
        priority: opts.priority,
        date_time: format_time(opts.time_ms),
        dtg: dtg(opts.time_ms),
        from: rcc.name.clone(),
        to: opts.to.clone(),
        number: opts.number.max(1),
        incident: incident.id.clone(),
        identity,
        position,
        situation,
        persons_at_risk: persons,
        assistance_required,
        coordinating_rcc: rcc.clone(),
        description,
        weather: opts.weather.clone(),
        actions_taken,
        search_area: opts.search_area.clone(),
        coordinating_instructions,
        future_plans,
        additional_information: additional,
    }
}

impl Sitrep {
    /// The SITREP as a message, one section per line.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let or = |v: &Option<String>| v.clone().unwrap_or_else(|| "not known".into());
        let _ = writeln!(s, "{}", self.priority.word());
        let _ = writeln!(s, "DATE AND TIME: {}", self.dtg);
        let _ = writeln!(s, "FROM: {}", self.from);
        if let Some(to) = &self.to {
            let _ = writeln!(s, "TO: {to}");
        }
        let _ = writeln!(s, "SAR SITREP {} ({})", self.number, self.incident);
        let _ = writeln!(s, "A. IDENTITY OF CASUALTY: {}", self.identity);
        let pos = match &self.position {
            Some(p) => format!("{} at {} ({}, {})", p.text, p.time, p.source, p.contact),
            None => "not known".into(),
        };
        let _ = writeln!(s, "B. POSITION: {pos}");
        let _ = writeln!(s, "C. SITUATION: {}", self.situation);
        let persons = self
            .persons_at_risk
            .map_or("not known".to_string(), |p| p.to_string());
        let _ = writeln!(s, "D. NUMBER OF PERSONS AT RISK: {persons}");
        let _ = writeln!(s, "E. ASSISTANCE REQUIRED: {}", self.assistance_required);
        let r = &self.coordinating_rcc;
        let mut rcc = r.name.clone();
        if let Some(p) = &r.phone {
            let _ = write!(rcc, ", tel {p}");
        }
        if let Some(e) = &r.email {
            let _ = write!(rcc, ", email {e}");
        }
        if let Some(m) = r.mmsi {
            let _ = write!(rcc, ", MMSI {m:09}");
        }
        let _ = writeln!(s, "F. COORDINATING RCC: {rcc}");
        let _ = writeln!(
            s,
            "G. DESCRIPTION OF CASUALTY: {}",
            if self.description.is_empty() {
                "not known"
            } else {
                &self.description
            }
        );
        let _ = writeln!(s, "H. WEATHER ON SCENE: {}", or(&self.weather));
        let _ = writeln!(s, "J. INITIAL ACTIONS TAKEN:");
        for a in &self.actions_taken {
            let _ = writeln!(s, "   {a}");
        }
        let _ = writeln!(s, "K. SEARCH AREA: {}", or(&self.search_area));
        let _ = writeln!(
            s,
            "L. COORDINATING INSTRUCTIONS: {}",
            self.coordinating_instructions
        );
        let _ = writeln!(s, "M. FUTURE PLANS: {}", self.future_plans);
        let n = if self.additional_information.is_empty() {
            "none"
        } else {
            &self.additional_information
        };
        let _ = writeln!(s, "N. ADDITIONAL INFORMATION: {n}");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Sighting, SourceKind};

    const T0: i64 = 1_795_845_600_000; // 2026-11-28T06:00:00Z

    #[test]
    fn formats() {
        assert_eq!(format_position(35.2, 12.9), "35-12.000N 012-54.000E");
        assert_eq!(
            format_position(-0.5, -179.999_999_9),
            "00-30.000S 180-00.000W"
        );
        assert_eq!(dtg(T0), "280600Z NOV 26");
        assert_eq!(persons_in("rubber boat, ~60 persons"), Some(60));
        assert_eq!(persons_in("Wooden boat 120 POB"), Some(120));
        assert_eq!(persons_in("rubber boat"), None);
    }

    #[test]
    fn full_sitrep_from_an_incident() {
        let mut i = Incident::new(
            "i-000007",
            "rubber boat adrift SE of Lampedusa",
            "duty",
            T0,
            T0,
        )
        .unwrap();
        i.execute(
            Action::LinkContact {
                contact_id: "c-000001".into(),
            },
            "duty",
            T0 + 60_000,
            T0,
        )
        .unwrap();
        i.execute(
            Action::AssignAsset {
                asset: Asset::vessel(247_000_001, Some("CP 301")),
            },
            "duty",
            T0 + 600_000,
            T0,
        )
        .unwrap();
        i.execute(
            Action::Note {
                text: "engine failure, taking water".into(),
            },
            "duty",
            T0 + 900_000,
            T0,
        )
        .unwrap();
        let mut c = Contact::new(
            "c-000001",
            "rubber boat, ~60 persons",
            Sighting::new(T0, 35.1, 12.8, 1852.0, SourceKind::Phone, "alarm phone"),
            T0,
        )
        .unwrap();
        c.add_sighting(
            Sighting::new(
                T0 + 3_600_000,
                35.2,
                12.9,
                200.0,
                SourceKind::Aircraft,
                "seabird",
            ),
            T0,
        )
        .unwrap();
        let other = Contact::new(
            "c-000009",
            "fishing boat, 5 persons",
            Sighting::new(T0, 36.0, 14.0, 1.0, SourceKind::Vessel, "x"),
            T0,
        )
        .unwrap();
        let rcc = Rcc {
            name: "MRCC Roma".into(),
            phone: Some("+39 06 0000".into()),
            email: Some("mrcc@example.invalid".into()),
            mmsi: Some(2_470_001),
        };
        let opts = SitrepOptions {
            number: 2,
            time_ms: T0 + 7_200_000,
            weather: Some("NW 15 kn, sea 3, vis 10 NM".into()),
            ..Default::default()
        };
        let s = sitrep(&i, &[c, other], &rcc, &opts);
        assert_eq!(
            s.persons_at_risk,
            Some(60),
            "only the linked contact counts"
        );
        assert_eq!(s.position.as_ref().unwrap().text, "35-12.000N 012-54.000E");
        assert!(s.identity.contains("rubber boat, ~60 persons (c-000001)"));
        assert!(s.situation.starts_with("DISTRESS 280600Z NOV 26"));
        assert!(s.assistance_required.contains("1 unit(s) assigned"));
        assert!(s
            .actions_taken
            .iter()
            .any(|a| a.starts_with("0610Z CP 301 (MMSI 247000001) assigned")));
        assert!(s.actions_taken.iter().any(|a| a.contains("engine failure")));
        assert!(
            s.description.contains("2 sighting(s)") && s.description.contains("aircraft, phone")
        );
        let text = s.to_text();
        for section in ["A. IDENTITY", "B. POSITION", "C. SITUATION", "D. NUMBER OF PERSONS AT RISK: 60", "E. ASSISTANCE", "F. COORDINATING RCC: MRCC Roma, tel +39 06 0000, email mrcc@example.invalid, MMSI 002470001", "H. WEATHER ON SCENE: NW 15 kn", "J. INITIAL ACTIONS", "L. COORDINATING INSTRUCTIONS: units participating: CP 301", "M. FUTURE PLANS", "SAR SITREP 2"] {
            assert!(text.contains(section), "{section}\n{text}");
        }
        let j = serde_json::to_value(&s).unwrap();
        assert_eq!(j["coordinating_rcc"]["mmsi"], 2_470_001);
        assert_eq!(j["position"]["lat"], 35.2);
        assert_eq!(j["priority"], "distress");
        // Closing records when operations terminated.
        i.execute(
            Action::SetStatus {
                status: IncidentStatus::Closed,
                reason: None,
            },
            "duty",
            T0 + 8_000_000,
            T0,
        )
        .unwrap();
        let s = sitrep(&i, &[], &rcc, &opts);
        assert!(
            s.additional_information
                .contains("terminated 280813Z NOV 26"),
            "{}",
            s.additional_information
        );
        assert!(s.position.is_none());
        assert!(s.to_text().contains("B. POSITION: not known"));
    }
}
