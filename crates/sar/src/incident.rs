//! Incidents: one distress case, its status, and the log it is rebuilt from.
//!
//! An incident groups the contacts, alerts and vessels of one case, the
//! assets assigned to it, and a time-stamped log of every action with who
//! did it. The log is the truth: an [`Incident`] is the fold of its
//! [`LogEntry`]s, so the store keeps the log and a restart rebuilds exactly
//! what operators saw. [`Incident::replay`] checks every entry against the
//! rules; [`Incident::restore`], used to load stored logs, checks only their
//! structure, so a log written under older rules still loads.
//!
//! Status lifecycle (anything else is refused as a conflict):
//!
//! ```text
//!   open ──assign──▶ assets_assigned ──▶ rescued ──▶ closed
//!    │  ◀──last asset released──┘ │                   │
//!    └────────────▶ closed ◀──────┘      closed ──reopen──▶ open
//! ```
//!
//! Assigning the first asset to an `open` incident moves it to
//! `assets_assigned`, and releasing the last one moves it back (the only way
//! back: an incident with assets assigned is never `open`): each such
//! follow-up is its own log entry, so the log reads as what happened. A
//! closed incident takes only notes and a reopen.
//!
//! ```
//! use sar::{Action, Asset, Incident, IncidentStatus};
//! let mut i = Incident::new("i-000001", "rubber boat SE of Lampedusa", "duty officer", 1_000, 1_000).unwrap();
//! let entries = i.execute(Action::AssignAsset { asset: Asset::vessel(247_000_001, Some("RESCUE 1")) }, "duty officer", 2_000, 2_000).unwrap();
//! assert_eq!(entries.len(), 2, "the assignment and the status change it implies");
//! assert_eq!(i.status, IncidentStatus::AssetsAssigned);
//! i.execute(Action::SetStatus { status: IncidentStatus::Rescued, reason: None }, "duty officer", 3_000, 3_000).unwrap();
//! assert!(i.execute(Action::SetStatus { status: IncidentStatus::Open, reason: None }, "x", 4_000, 4_000).is_err());
//! let rebuilt = Incident::replay("i-000001", &i.log).unwrap();
//! assert_eq!(rebuilt, i);
//! ```

use crate::contact::{format_time, MAX_TEXT};
use crate::error::SarError;
use crate::patterns::Pattern;
use crate::search_area::SearchAreaResponse;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Where a case is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    Open,
    AssetsAssigned,
    Rescued,
    Closed,
}

impl IncidentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Open => "open",
            IncidentStatus::AssetsAssigned => "assets_assigned",
            IncidentStatus::Rescued => "rescued",
            IncidentStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<IncidentStatus> {
        Some(match s {
            "open" => IncidentStatus::Open,
            "assets_assigned" => IncidentStatus::AssetsAssigned,
            "rescued" => IncidentStatus::Rescued,
            "closed" => IncidentStatus::Closed,
            _ => return None,
        })
    }

    /// The transitions the lifecycle allows (see the module doc).
    pub fn can_become(self, next: IncidentStatus) -> bool {
        use IncidentStatus::*;
        matches!(
            (self, next),
            (Open, AssetsAssigned)
                | (Open, Closed)
                | (AssetsAssigned, Open)
                | (AssetsAssigned, Rescued)
                | (AssetsAssigned, Closed)
                | (Rescued, Closed)
                | (Closed, Open)
        )
    }
}

/// An asset that can be assigned: a vessel by MMSI (or own asset id), or a
/// named unit without AIS (a helicopter, an aircraft call sign).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mmsi: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Asset {
    pub fn vessel(mmsi: u32, name: Option<&str>) -> Asset {
        Asset {
            mmsi: Some(mmsi),
            name: name.map(str::to_string),
        }
    }

    pub fn named(name: &str) -> Asset {
        Asset {
            mmsi: None,
            name: Some(name.to_string()),
        }
    }

    /// Two references to the same asset: same MMSI, or (without MMSIs)
    /// the same name.
    fn same(&self, other: &Asset) -> bool {
        match (self.mmsi, other.mmsi) {
            (Some(a), Some(b)) => a == b,
            (None, None) => self.name == other.name,
            _ => false,
        }
    }

    fn label(&self) -> String {
        match (&self.name, self.mmsi) {
            (Some(n), Some(m)) => format!("{n} ({m})"),
            (Some(n), None) => n.clone(),
            (None, Some(m)) => m.to_string(),
            (None, None) => "?".into(),
        }
    }

    fn validate(&self) -> Result<(), SarError> {
        if self.mmsi.is_none() && self.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
            return Err(SarError::invalid("an asset needs an mmsi or a name"));
        }
        if self.name.as_ref().is_some_and(|n| n.chars().count() > 200) {
            return Err(SarError::invalid("asset name is limited to 200 characters"));
        }
        Ok(())
    }
}

/// How a notification was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyMeans {
    Phone,
    Email,
    Vhf,
    Dsc,
    Satcom,
    Fax,
    Other,
}

impl NotifyMeans {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyMeans::Phone => "phone",
            NotifyMeans::Email => "email",
            NotifyMeans::Vhf => "VHF",
            NotifyMeans::Dsc => "DSC",
            NotifyMeans::Satcom => "satcom",
            NotifyMeans::Fax => "fax",
            NotifyMeans::Other => "other means",
        }
    }
}

/// One thing done to an incident. Serialised with `"action"` as the tag,
/// which is also the API's request body: `{"action":"note","text":"…"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    Create {
        title: String,
    },
    SetStatus {
        status: IncidentStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    AssignAsset {
        asset: Asset,
    },
    ReleaseAsset {
        asset: Asset,
    },
    LinkContact {
        contact_id: String,
    },
    UnlinkContact {
        contact_id: String,
    },
    LinkAlert {
        alert_id: String,
    },
    UnlinkAlert {
        alert_id: String,
    },
    LinkVessel {
        mmsi: u32,
    },
    UnlinkVessel {
        mmsi: u32,
    },
    Note {
        text: String,
    },
    /// Someone was told about the case: the entry's `who` (the operator)
    /// notified `to` (an RCC, a ship, an authority) `by` a means (`phone`,
    /// `email`, `vhf`, `dsc`, `satcom`, `fax`, `other`), optionally what
    /// was said — so the log records who notified whom, when, and how.
    Notify {
        to: String,
        by: NotifyMeans,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
    Retitle {
        title: String,
    },
    /// A search area computed for the case (`POST …/search-area`): the
    /// request as given and the answer, whose `area` is the area the
    /// coverage is measured against. Written by the server, never by a
    /// client through the actions route.
    SearchArea {
        request: Value,
        plan: Box<SearchAreaResponse>,
    },
    /// A search pattern planned for an assigned asset (`POST …/patterns`),
    /// whole (waypoints and planned times), with the sweep width its
    /// coverage is computed with.
    SearchPattern {
        pattern: Box<Pattern>,
        sweep_width_nm: f64,
    },
}

impl Action {
    /// The action's name, as in the API (`set_status`, `note`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Action::Create { .. } => "create",
            Action::SetStatus { .. } => "set_status",
            Action::AssignAsset { .. } => "assign_asset",
            Action::ReleaseAsset { .. } => "release_asset",
            Action::LinkContact { .. } => "link_contact",
            Action::UnlinkContact { .. } => "unlink_contact",
            Action::LinkAlert { .. } => "link_alert",
            Action::UnlinkAlert { .. } => "unlink_alert",
            Action::LinkVessel { .. } => "link_vessel",
            Action::UnlinkVessel { .. } => "unlink_vessel",
            Action::Note { .. } => "note",
            Action::Notify { .. } => "notify",
            Action::Retitle { .. } => "retitle",
            Action::SearchArea { .. } => "search_area",
            Action::SearchPattern { .. } => "search_pattern",
        }
    }
}

/// One line of the incident log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Position in this incident's log, from 1.
    pub seq: u64,
    /// Picture time when it was done (message time: replays and training
    /// runs read in scenario time).
    pub time_ms: i64,
    /// Wall-clock time when the server recorded it (the audit trail).
    pub recorded_ms: i64,
    /// Who did it (the token's user name).
    pub who: String,
    pub action: Action,
}

impl LogEntry {
    /// The entry as the API shows it: the action's fields, `seq`, `time`,
    /// `recorded` and `who`. A search area or pattern is summarised (with
    /// a `text`); the whole of it is at `…/search-area` and
    /// `…/patterns/{n}`.
    pub fn to_json(&self) -> Value {
        let mut v = match &self.action {
            Action::SearchArea { plan, .. } => json!({
                "action": "search_area",
                "datum": plan.datum,
                "radius_nm": plan.radius_nm,
                "error_nm": plan.error_nm,
                "text": crate::sitrep::describe_search_area(plan),
            }),
            Action::SearchPattern {
                pattern,
                sweep_width_nm,
            } => json!({
                "action": "search_pattern",
                "pattern": pattern.kind,
                "asset": pattern.asset,
                "asset_name": pattern.asset_name,
                "start": format_time(pattern.start_ms),
                "end": format_time(pattern.end_ms()),
                "sweep_width_nm": sweep_width_nm,
                "text": describe_pattern(pattern),
            }),
            a => serde_json::to_value(a).unwrap_or(Value::Null),
        };
        if let Value::Object(m) = &mut v {
            m.insert("seq".into(), json!(self.seq));
            m.insert("time".into(), json!(format_time(self.time_ms)));
            m.insert("recorded".into(), json!(format_time(self.recorded_ms)));
            m.insert("who".into(), json!(self.who));
        }
        v
    }
}

/// A one-line description of a pattern: `SS RESCUE 1: 9 legs, S 1.00 NM,
/// 25.0 NM at 12 kn from 2026-11-28T08:00:00Z to …`.
pub fn describe_pattern(p: &Pattern) -> String {
    format!(
        "{}: {} legs, S {:.2} NM, {:.1} NM at {} kn from {} to {}",
        p.title(),
        p.legs,
        p.spacing_nm,
        p.length_nm(),
        p.speed_kn,
        format_time(p.start_ms),
        format_time(p.end_ms())
    )
}

/// A search area of the case, as computed (a `search_area` log entry).
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedArea {
    /// The log entry it came from.
    pub seq: u64,
    pub time_ms: i64,
    pub who: String,
    pub request: Value,
    pub plan: SearchAreaResponse,
}

/// A search pattern of the case (a `search_pattern` log entry).
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedPattern {
    pub seq: u64,
    pub time_ms: i64,
    pub who: String,
    pub pattern: Pattern,
    pub sweep_width_nm: f64,
}

/// An assigned asset and when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assignment {
    pub asset: Asset,
    pub assigned_ms: i64,
    pub assigned_by: String,
}

/// One distress case.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    pub id: String,
    pub title: String,
    pub status: IncidentStatus,
    pub contacts: Vec<String>,
    pub alerts: Vec<String>,
    pub vessels: Vec<u32>,
    pub assets: Vec<Assignment>,
    pub log: Vec<LogEntry>,
    /// Search areas computed, oldest first: the last is the current search
    /// (`…/search-area/…`, coverage).
    pub search_areas: Vec<PlannedArea>,
    /// Search patterns planned, oldest first; pattern `n` of the API is
    /// `patterns[n - 1]`.
    pub patterns: Vec<PlannedPattern>,
    pub created_ms: i64,
    pub created_by: String,
    pub updated_ms: i64,
    /// Equals the number of log entries: a client keeps the highest.
    pub version: u64,
}

impl Incident {
    /// A new open incident; its log starts with the `create` entry.
    pub fn new(
        id: &str,
        title: &str,
        who: &str,
        time_ms: i64,
        recorded_ms: i64,
    ) -> Result<Incident, SarError> {
        let entry = LogEntry {
            seq: 1,
            time_ms,
            recorded_ms,
            who: who.to_string(),
            action: Action::Create {
                title: title.trim().to_string(),
            },
        };
        Incident::replay(id, std::slice::from_ref(&entry))
    }

    /// Rebuild an incident from its log (the first entry must be `create`).
    pub fn replay(id: &str, log: &[LogEntry]) -> Result<Incident, SarError> {
        let first = log
            .first()
            .ok_or_else(|| SarError::invalid(format!("incident {id}: empty log")))?;
        let Action::Create { title } = &first.action else {
            return Err(SarError::invalid(format!(
                "incident {id}: the log does not start with create"
            )));
        };
        check_text("title", title)?;
        let mut i = Incident {
            id: id.to_string(),
            title: title.clone(),
            status: IncidentStatus::Open,
            contacts: Vec::new(),
            alerts: Vec::new(),
            vessels: Vec::new(),
            assets: Vec::new(),
            log: vec![first.clone()],
            search_areas: Vec::new(),
            patterns: Vec::new(),
            created_ms: first.recorded_ms,
            created_by: first.who.clone(),
            updated_ms: first.recorded_ms,
            version: 1,
        };
        for e in &log[1..] {
            i.apply(e)?;
        }
        Ok(i)
    }

    /// Rebuild an incident from its stored log without checking each entry
    /// against today's rules (they were checked when written): a log
    /// written by an older Lookout always loads. Only its structure is
    /// checked (starts with `create`, entries in order).
    pub fn restore(id: &str, log: &[LogEntry]) -> Result<Incident, SarError> {
        let mut i = Incident::replay(id, &log[..log.len().min(1)])?;
        for e in log.iter().skip(1) {
            i.check_order(e)?;
            i.record(e);
        }
        Ok(i)
    }

    /// Do `action` as `who`: validate, apply it and its follow-ups, and
    /// return the new log entries (to be stored). On error nothing changes.
    pub fn execute(
        &mut self,
        action: Action,
        who: &str,
        time_ms: i64,
        recorded_ms: i64,
    ) -> Result<Vec<LogEntry>, SarError> {
        if who.trim().is_empty() {
            return Err(SarError::invalid("an action needs who did it"));
        }
        let mut next = self.clone();
        let mut entries = Vec::new();
        let mut todo = vec![action];
        while let Some(a) = todo.pop() {
            let e = LogEntry {
                seq: next.log.len() as u64 + 1,
                time_ms,
                recorded_ms,
                who: who.to_string(),
                action: a,
            };
            next.apply(&e)?;
            if let Some(follow) = next.follow_up(&e.action) {
                todo.push(follow);
            }
            entries.push(e);
        }
        *self = next;
        Ok(entries)
    }

    /// The status change an action implies, if any.
    fn follow_up(&self, a: &Action) -> Option<Action> {
        match a {
            Action::AssignAsset { .. } if self.status == IncidentStatus::Open => {
                Some(Action::SetStatus {
                    status: IncidentStatus::AssetsAssigned,
                    reason: Some("asset assigned".into()),
                })
            }
            Action::ReleaseAsset { .. }
                if self.status == IncidentStatus::AssetsAssigned && self.assets.is_empty() =>
            {
                Some(Action::SetStatus {
                    status: IncidentStatus::Open,
                    reason: Some("no asset assigned".into()),
                })
            }
            _ => None,
        }
    }

    /// Apply one log entry, checking it against the current state.
    pub fn apply(&mut self, e: &LogEntry) -> Result<(), SarError> {
        self.check_order(e)?;
        self.check(e)?;
        self.record(e);
        Ok(())
    }

    fn check_order(&self, e: &LogEntry) -> Result<(), SarError> {
        if e.seq != self.log.len() as u64 + 1 {
            return Err(SarError::invalid(format!(
                "incident {}: log entry {} out of order (expected {})",
                self.id,
                e.seq,
                self.log.len() + 1
            )));
        }
        if matches!(e.action, Action::Create { .. }) {
            return Err(SarError::conflict(format!(
                "incident {} already exists",
                self.id
            )));
        }
        Ok(())
    }

    /// Is `e` allowed now? (No change.)
    fn check(&self, e: &LogEntry) -> Result<(), SarError> {
        if self.status == IncidentStatus::Closed
            && !matches!(
                e.action,
                Action::Note { .. }
                    | Action::Notify { .. }
                    | Action::SetStatus {
                        status: IncidentStatus::Open,
                        ..
                    }
            )
        {
            return Err(SarError::conflict(format!(
                "incident {} is closed: reopen it first (set_status open)",
                self.id
            )));
        }
        match &e.action {
            Action::Create { .. } => {}
            Action::SetStatus { status, reason } => {
                if let Some(r) = reason {
                    check_text("reason", r)?;
                }
                if *status == self.status {
                    return Err(SarError::conflict(format!(
                        "incident {} is already {}",
                        self.id,
                        status.as_str()
                    )));
                }
                if !self.status.can_become(*status) {
                    return Err(SarError::conflict(format!(
                        "incident {}: {} cannot become {}",
                        self.id,
                        self.status.as_str(),
                        status.as_str()
                    )));
                }
                if *status == IncidentStatus::AssetsAssigned && self.assets.is_empty() {
                    return Err(SarError::conflict(
                        "assets_assigned needs an assigned asset (assign_asset)",
                    ));
                }
                if self.status == IncidentStatus::AssetsAssigned
                    && *status == IncidentStatus::Open
                    && !self.assets.is_empty()
                {
                    return Err(SarError::conflict(
                        "assets are still assigned: release them (release_asset) to stand down",
                    ));
                }
            }
            Action::AssignAsset { asset } => {
                asset.validate()?;
                if self.assets.iter().any(|a| a.asset.same(asset)) {
                    return Err(SarError::conflict(format!(
                        "{} is already assigned",
                        asset.label()
                    )));
                }
            }
            Action::ReleaseAsset { asset } => {
                if !self.assets.iter().any(|a| a.asset.same(asset)) {
                    return Err(SarError::not_found(format!(
                        "{} is not assigned",
                        asset.label()
                    )));
                }
            }
            Action::LinkContact { contact_id } => can_link(&self.contacts, contact_id, "contact")?,
            Action::UnlinkContact { contact_id } => {
                can_unlink(&self.contacts, contact_id, "contact")?
            }
            Action::LinkAlert { alert_id } => can_link(&self.alerts, alert_id, "alert")?,
            Action::UnlinkAlert { alert_id } => can_unlink(&self.alerts, alert_id, "alert")?,
            Action::LinkVessel { mmsi } => can_link(&self.vessels, mmsi, "vessel")?,
            Action::UnlinkVessel { mmsi } => can_unlink(&self.vessels, mmsi, "vessel")?,
            Action::Note { text } => check_text("text", text)?,
            Action::Notify { to, text, .. } => {
                check_text("to", to)?;
                if let Some(t) = text {
                    check_text("text", t)?;
                }
            }
            Action::Retitle { title } => check_text("title", title)?,
            Action::SearchArea { plan, .. } => {
                if !(plan.radius_nm.is_finite() && plan.radius_nm >= 0.0) {
                    return Err(SarError::invalid("a search area needs a finite radius"));
                }
            }
            Action::SearchPattern {
                pattern,
                sweep_width_nm,
            } => {
                let asset = Asset {
                    mmsi: pattern.asset,
                    name: pattern.asset_name.clone(),
                };
                asset.validate().map_err(|_| {
                    SarError::invalid("a pattern needs the asset it is for (asset: MMSI)")
                })?;
                if !self.assets.iter().any(|a| a.asset.same(&asset)) {
                    return Err(SarError::conflict(format!(
                        "{} is not assigned to incident {}: assign it first (assign_asset)",
                        asset.label(),
                        self.id
                    )));
                }
                if !(sweep_width_nm.is_finite() && (0.0..=50.0).contains(sweep_width_nm)) {
                    return Err(SarError::invalid("sweep_width_nm must be within 0..50"));
                }
            }
        }
        Ok(())
    }

    /// Make the change (already checked, or from a stored log) and log it.
    /// Total: a stored entry always applies, so a log written under older
    /// rules still loads.
    fn record(&mut self, e: &LogEntry) {
        match &e.action {
            Action::Create { .. } | Action::Note { .. } | Action::Notify { .. } => {}
            Action::SetStatus { status, .. } => self.status = *status,
            Action::AssignAsset { asset } => {
                if !self.assets.iter().any(|a| a.asset.same(asset)) {
                    self.assets.push(Assignment {
                        asset: asset.clone(),
                        assigned_ms: e.time_ms,
                        assigned_by: e.who.clone(),
                    });
                }
            }
            Action::ReleaseAsset { asset } => self.assets.retain(|a| !a.asset.same(asset)),
            Action::LinkContact { contact_id } => link(&mut self.contacts, contact_id),
            Action::UnlinkContact { contact_id } => self.contacts.retain(|x| x != contact_id),
            Action::LinkAlert { alert_id } => link(&mut self.alerts, alert_id),
            Action::UnlinkAlert { alert_id } => self.alerts.retain(|x| x != alert_id),
            Action::LinkVessel { mmsi } => link(&mut self.vessels, mmsi),
            Action::UnlinkVessel { mmsi } => self.vessels.retain(|x| x != mmsi),
            Action::Retitle { title } => self.title = title.trim().to_string(),
            Action::SearchArea { request, plan } => self.search_areas.push(PlannedArea {
                seq: e.seq,
                time_ms: e.time_ms,
                who: e.who.clone(),
                request: request.clone(),
                plan: (**plan).clone(),
            }),
            Action::SearchPattern {
                pattern,
                sweep_width_nm,
            } => self.patterns.push(PlannedPattern {
                seq: e.seq,
                time_ms: e.time_ms,
                who: e.who.clone(),
                pattern: (**pattern).clone(),
                sweep_width_nm: *sweep_width_nm,
            }),
        }
        self.log.push(e.clone());
        self.updated_ms = self.updated_ms.max(e.recorded_ms);
        self.version = self.log.len() as u64;
    }

    /// Open means anything before `closed`.
    pub fn is_open(&self) -> bool {
        self.status != IncidentStatus::Closed
    }

    /// The incident as its API/WebSocket object (with the whole log).
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "contacts": self.contacts,
            "alerts": self.alerts,
            "vessels": self.vessels,
            "assets": self.assets.iter().map(|a| json!({
                "mmsi": a.asset.mmsi,
                "name": a.asset.name,
                "assigned": format_time(a.assigned_ms),
                "assigned_by": a.assigned_by,
            })).collect::<Vec<_>>(),
            "created": format_time(self.created_ms),
            "created_by": self.created_by,
            "updated": format_time(self.updated_ms),
            "version": self.version,
            "search_areas": self.search_areas.iter().enumerate().map(|(k, a)| json!({
                "n": k + 1,
                "seq": a.seq,
                "time": format_time(a.time_ms),
                "who": a.who,
                "datum": a.plan.datum,
                "radius_nm": a.plan.radius_nm,
                "error_nm": a.plan.error_nm,
            })).collect::<Vec<_>>(),
            "patterns": self.patterns.iter().enumerate().map(|(k, p)| json!({
                "n": k + 1,
                "seq": p.seq,
                "time": format_time(p.time_ms),
                "who": p.who,
                "pattern": p.pattern.kind,
                "code": p.pattern.kind.code(),
                "asset": p.pattern.asset,
                "asset_name": p.pattern.asset_name,
                "start": format_time(p.pattern.start_ms),
                "end": format_time(p.pattern.end_ms()),
                "length_nm": p.pattern.length_nm(),
                "sweep_width_nm": p.sweep_width_nm,
            })).collect::<Vec<_>>(),
            "log": self.log_json(),
        })
    }

    /// The log as the API shows it; search areas and patterns carry their
    /// number `n` (`…/patterns/{n}`).
    fn log_json(&self) -> Vec<Value> {
        let (mut areas, mut patterns) = (0, 0);
        self.log
            .iter()
            .map(|e| {
                let mut v = e.to_json();
                let n = match e.action {
                    Action::SearchArea { .. } => {
                        areas += 1;
                        Some(areas)
                    }
                    Action::SearchPattern { .. } => {
                        patterns += 1;
                        Some(patterns)
                    }
                    _ => None,
                };
                if let (Some(n), Value::Object(m)) = (n, &mut v) {
                    m.insert("n".into(), json!(n));
                }
                v
            })
            .collect()
    }
}

fn can_link<T: PartialEq + std::fmt::Display>(
    list: &[T],
    item: &T,
    what: &str,
) -> Result<(), SarError> {
    if list.contains(item) {
        return Err(SarError::conflict(format!(
            "{what} {item} is already linked"
        )));
    }
    if list.len() >= 1000 {
        return Err(SarError::conflict(format!(
            "at most 1000 {what}s per incident"
        )));
    }
    Ok(())
}

fn can_unlink<T: PartialEq + std::fmt::Display>(
    list: &[T],
    item: &T,
    what: &str,
) -> Result<(), SarError> {
    if !list.contains(item) {
        return Err(SarError::not_found(format!("{what} {item} is not linked")));
    }
    Ok(())
}

fn link<T: PartialEq + Clone>(list: &mut Vec<T>, item: &T) {
    if !list.contains(item) {
        list.push(item.clone());
    }
}

fn check_text(field: &str, t: &str) -> Result<(), SarError> {
    if t.trim().is_empty() {
        return Err(SarError::invalid(format!("{field} must not be empty")));
    }
    if t.chars().count() > MAX_TEXT {
        return Err(SarError::invalid(format!(
            "{field} is limited to {MAX_TEXT} characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use IncidentStatus::*;

    fn new() -> Incident {
        Incident::new("i-1", "boat in distress", "alice", 10, 100).unwrap()
    }

    fn status(s: IncidentStatus) -> Action {
        Action::SetStatus {
            status: s,
            reason: None,
        }
    }

    #[test]
    fn every_transition_is_checked() {
        let all = [Open, AssetsAssigned, Rescued, Closed];
        let allowed: Vec<_> = all
            .iter()
            .flat_map(|a| all.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| a.can_become(*b))
            .collect();
        assert_eq!(
            allowed,
            vec![
                (Open, AssetsAssigned),
                (Open, Closed),
                (AssetsAssigned, Open),
                (AssetsAssigned, Rescued),
                (AssetsAssigned, Closed),
                (Rescued, Closed),
                (Closed, Open),
            ]
        );
    }

    #[test]
    fn the_log_records_who_notified_whom() {
        let mut i = new();
        let body = serde_json::json!({"action": "notify", "to": "RCC Malta", "by": "phone", "text": "position passed"});
        let a: Action = serde_json::from_value(body).unwrap();
        i.execute(a, "duty officer", 20, 200).unwrap();
        let e = i.log.last().unwrap().to_json();
        assert_eq!(e["action"], "notify");
        assert_eq!(e["who"], "duty officer");
        assert_eq!(e["to"], "RCC Malta");
        assert_eq!(e["by"], "phone");
        // A blank addressee and an unknown means are refused.
        let blank: Action = serde_json::from_value(
            serde_json::json!({"action": "notify", "to": " ", "by": "email"}),
        )
        .unwrap();
        assert!(i.execute(blank, "x", 21, 201).is_err());
        assert!(serde_json::from_value::<Action>(
            serde_json::json!({"action": "notify", "to": "x", "by": "pigeon"})
        )
        .is_err());
        // Allowed on a closed case too (a late notification is still logged).
        i.execute(status(Closed), "bob", 22, 202).unwrap();
        let late: Action = serde_json::from_value(
            serde_json::json!({"action": "notify", "to": "MRCC Rome", "by": "email"}),
        )
        .unwrap();
        i.execute(late, "bob", 23, 203).unwrap();
    }

    #[test]
    fn full_lifecycle_with_who_did_what() {
        let mut i = new();
        assert_eq!(i.status, Open);
        let e = i.execute(status(Rescued), "bob", 20, 200).unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Conflict);
        assert!(
            i.execute(status(AssetsAssigned), "bob", 20, 200).is_err(),
            "no asset yet"
        );
        let entries = i
            .execute(
                Action::AssignAsset {
                    asset: Asset::vessel(247_000_001, Some("RESCUE 1")),
                },
                "bob",
                30,
                300,
            )
            .unwrap();
        assert_eq!(
            entries.iter().map(|e| e.action.name()).collect::<Vec<_>>(),
            vec!["assign_asset", "set_status"]
        );
        assert_eq!(i.status, AssetsAssigned);
        i.execute(
            Action::LinkContact {
                contact_id: "c-1".into(),
            },
            "bob",
            31,
            301,
        )
        .unwrap();
        assert_eq!(
            i.execute(
                Action::LinkContact {
                    contact_id: "c-1".into()
                },
                "bob",
                31,
                301
            )
            .unwrap_err()
            .kind,
            crate::ErrorKind::Conflict
        );
        i.execute(
            Action::LinkAlert {
                alert_id: "a-000001".into(),
            },
            "bob",
            32,
            302,
        )
        .unwrap();
        i.execute(Action::LinkVessel { mmsi: 970_000_001 }, "bob", 33, 303)
            .unwrap();
        i.execute(
            Action::Note {
                text: "60 persons reported".into(),
            },
            "carol",
            34,
            304,
        )
        .unwrap();
        i.execute(status(Rescued), "carol", 40, 400).unwrap();
        i.execute(status(Closed), "carol", 50, 500).unwrap();
        let e = i
            .execute(Action::LinkVessel { mmsi: 1 }, "carol", 51, 501)
            .unwrap_err();
        assert!(e.message.contains("closed"), "{e}");
        i.execute(
            Action::Note {
                text: "debrief".into(),
            },
            "carol",
            52,
            502,
        )
        .unwrap();
        i.execute(status(Open), "dave", 60, 600).unwrap();
        assert_eq!(i.log.len() as u64, i.version);
        assert_eq!(i.log.last().unwrap().who, "dave");
        assert_eq!(i.updated_ms, 600);
        assert_eq!(Incident::replay("i-1", &i.log).unwrap(), i);
    }

    #[test]
    fn releasing_the_last_asset_reopens() {
        let mut i = new();
        let a = Asset::named("HELO 21");
        i.execute(Action::AssignAsset { asset: a.clone() }, "x", 1, 1)
            .unwrap();
        i.execute(
            Action::AssignAsset {
                asset: Asset::vessel(5, None),
            },
            "x",
            1,
            1,
        )
        .unwrap();
        assert_eq!(i.status, AssetsAssigned);
        assert_eq!(
            i.execute(status(Open), "x", 2, 2).unwrap_err().kind,
            crate::ErrorKind::Conflict,
            "open with assets assigned"
        );
        i.execute(Action::ReleaseAsset { asset: a.clone() }, "x", 2, 2)
            .unwrap();
        assert_eq!(i.status, AssetsAssigned);
        let entries = i
            .execute(
                Action::ReleaseAsset {
                    asset: Asset::vessel(5, None),
                },
                "x",
                3,
                3,
            )
            .unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(i.status, Open);
        assert_eq!(
            i.execute(Action::ReleaseAsset { asset: a }, "x", 4, 4)
                .unwrap_err()
                .kind,
            crate::ErrorKind::NotFound
        );
    }

    #[test]
    fn a_failed_action_changes_nothing() {
        let mut i = new();
        let before = i.clone();
        assert!(i
            .execute(Action::Note { text: " ".into() }, "x", 1, 1)
            .is_err());
        assert!(i
            .execute(
                Action::AssignAsset {
                    asset: Asset {
                        mmsi: None,
                        name: None
                    }
                },
                "x",
                1,
                1
            )
            .is_err());
        assert_eq!(i, before);
    }

    #[test]
    fn actions_parse_from_the_api_body() {
        let a: Action = serde_json::from_str(
            r#"{"action":"assign_asset","asset":{"mmsi":247000001,"name":"RESCUE 1"}}"#,
        )
        .unwrap();
        assert_eq!(
            a,
            Action::AssignAsset {
                asset: Asset::vessel(247_000_001, Some("RESCUE 1"))
            }
        );
        let a: Action =
            serde_json::from_str(r#"{"action":"set_status","status":"rescued"}"#).unwrap();
        assert_eq!(a, status(Rescued));
        assert!(
            serde_json::from_str::<Action>(r#"{"action":"set_status","status":"sunk"}"#).is_err()
        );
        assert!(
            serde_json::from_str::<Action>(r#"{"action":"note","text":"x","extra":1}"#).is_err()
        );
    }

    #[test]
    fn a_stored_log_loads_even_if_todays_rules_would_refuse_an_entry() {
        let mut i = new();
        i.execute(
            Action::AssignAsset {
                asset: Asset::named("HELO 21"),
            },
            "x",
            1,
            1,
        )
        .unwrap();
        let mut log = i.log.clone();
        // Written under an older rule: open while an asset is assigned.
        log.push(LogEntry {
            seq: 4,
            time_ms: 2,
            recorded_ms: 2,
            who: "x".into(),
            action: status(Open),
        });
        assert!(Incident::replay("i-1", &log).is_err());
        let r = Incident::restore("i-1", &log).unwrap();
        assert_eq!((r.status, r.version, r.assets.len()), (Open, 4, 1));
        assert_eq!(Incident::restore("i-1", &i.log).unwrap(), i);
        let mut bad = i.log.clone();
        bad[1].seq = 7;
        assert!(
            Incident::restore("i-1", &bad).is_err(),
            "structure is still checked"
        );
    }

    #[test]
    fn search_areas_and_patterns_are_log_entries_that_round_trip() {
        let mut i = new();
        let contact = crate::Contact::new(
            "c-1",
            "rubber boat",
            crate::Sighting::new(0, 35.0, 13.0, 185.2, crate::SourceKind::Phone, "x"),
            0,
        )
        .unwrap();
        let request = json!({
            "contact": "c-1", "object": "person_in_water",
            "wind": {"from_deg": 0, "kn": 10}, "current": {"set_deg": 90, "kn": 0.5},
            "at": 3_600_000
        });
        let req: crate::SearchAreaRequest = serde_json::from_value(request.clone()).unwrap();
        let plan = crate::plan_search_area(&req, Some(&contact), None).unwrap();
        i.execute(
            Action::SearchArea {
                request,
                plan: Box::new(plan.response.clone()),
            },
            "x",
            5,
            5,
        )
        .unwrap();
        let preq: crate::PatternRequest = serde_json::from_value(json!({
            "asset": 247_000_001, "pattern": "expanding_square", "csp": plan.response.datum,
            "sweep": {"object": "person_in_water", "unit": "small_vessel", "visibility_nm": 5},
            "speed_kn": 10, "start": 3_600_000
        }))
        .unwrap();
        let pattern = crate::generate_pattern(&preq).unwrap();
        let a = Action::SearchPattern {
            pattern: Box::new(pattern.clone()),
            sweep_width_nm: 0.5,
        };
        let e = i.execute(a.clone(), "x", 6, 6).unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Conflict, "{e}");
        i.execute(
            Action::AssignAsset {
                asset: Asset::vessel(247_000_001, None),
            },
            "x",
            7,
            7,
        )
        .unwrap();
        i.execute(a, "x", 8, 8).unwrap();
        assert_eq!(i.search_areas.len(), 1);
        assert_eq!(i.patterns[0].pattern, pattern);
        // Through JSON (the store) and back: the same incident (to the
        // last bit or so: serde_json's default float parsing is not
        // always correctly rounded).
        let stored: Vec<LogEntry> = i
            .log
            .iter()
            .map(|e| LogEntry {
                action: serde_json::from_str(&serde_json::to_string(&e.action).unwrap()).unwrap(),
                ..e.clone()
            })
            .collect();
        let r = Incident::restore("i-1", &stored).unwrap();
        assert_eq!((r.version, r.status), (i.version, i.status));
        assert_eq!(r.search_areas.len(), 1);
        let (a, b) = (&r.patterns[0].pattern, &i.patterns[0].pattern);
        assert_eq!(
            (a.kind, a.asset, a.start_ms, a.waypoints.len()),
            (b.kind, b.asset, b.start_ms, b.waypoints.len())
        );
        for (x, y) in a.waypoints.iter().zip(&b.waypoints) {
            assert!((x.position.lat - y.position.lat).abs() < 1e-12);
            assert!((x.position.lon - y.position.lon).abs() < 1e-12);
            assert_eq!(x.time_ms, y.time_ms);
        }
        assert_eq!(a.sweep.as_ref().unwrap().source, crate::sweep_width::SOURCE);
        assert!(
            (r.search_areas[0].plan.radius_nm - i.search_areas[0].plan.radius_nm).abs() < 1e-12
        );
        let v = i.to_json();
        assert_eq!(v["patterns"][0]["n"], 1);
        assert_eq!(v["search_areas"][0]["n"], 1);
        let last = &v["log"][v["log"].as_array().unwrap().len() - 1];
        assert_eq!(last["action"], "search_pattern");
        assert_eq!(last["n"], 1);
        assert!(last["text"].as_str().unwrap().starts_with("SS 247000001"));
        assert!(last.get("waypoints").is_none(), "summarised: {last}");
    }

    #[test]
    fn a_log_out_of_order_or_without_create_is_refused() {
        let i = new();
        let mut log = i.log.clone();
        log.push(LogEntry {
            seq: 5,
            time_ms: 0,
            recorded_ms: 0,
            who: "x".into(),
            action: Action::Note { text: "n".into() },
        });
        assert!(Incident::replay("i-1", &log).is_err());
        assert!(Incident::replay("i-1", &log[1..]).is_err());
        assert!(Incident::replay("i-1", &[]).is_err());
    }
}
