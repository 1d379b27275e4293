//! Who can reach a contact first: time-to-intercept ranking.
//!
//! Distance alone answers the wrong question. A 20-knot rescue ship 30 NM
//! away reaches a rubber boat before a 5-knot fishing boat 10 NM away, and a
//! boat drifting at 2 knots is reached sooner by a ship it drifts towards
//! than by one it drifts away from. This module solves the classic
//! **intercept problem** for each candidate vessel and ranks them by time.
//!
//! ## The model
//!
//! 1. **Now.** Everything is brought to the picture's current time `now`:
//!    the target's latest position is moved along its drift (course and
//!    speed, if known) by `now − sighting time`; each vessel's last report is
//!    dead-reckoned along its course over ground at its speed for at most
//!    [`InterceptModel::max_dead_reckoning_min`] (an older report is used
//!    as it is rather than extrapolated far).
//! 2. **Turn.** The vessel keeps its current speed but may steer any
//!    course. If its course is known and a turn rate is set, turning onto
//!    the intercept heading costs `turn angle / rate` minutes, during which
//!    it is taken to stay in place while the target keeps drifting (a
//!    slightly pessimistic simplification). The heading depends on the
//!    solution, so the solution is iterated (it converges in a few steps).
//! 3. **Intercept.** Positions go onto a local plane: the azimuthal
//!    equidistant projection centred on the target, so the vessel's distance
//!    to the target is the exact great-circle distance `d` and directions
//!    near the target are true. With the target at the origin moving at
//!    velocity **v** and the vessel at **p** with speed `s`, the earliest
//!    meeting time `t ≥ 0` satisfies `|v·t − p| = s·t`, i.e.
//!
//!    ```text
//!    (|v|² − s²)·t² − 2(p·v)·t + |p|² = 0
//!    ```
//!
//!    For a vessel faster than the drift there is exactly one positive
//!    root; for a slower one there is a solution only if the target comes
//!    towards it (then the smaller positive root); a vessel with no speed
//!    (below [`InterceptModel::min_speed_kn`]) intercepts only what is
//!    already at its position. The intercept point is `v·t` from the
//!    target, mapped back to latitude/longitude along the great circle.
//! 4. **Rank.** Vessels that can intercept come first, by time (ties by
//!    distance); those that never can (too slow, or stopped) come last, by
//!    distance, with no time.
//!
//! The plane is accurate to well under 1 % for the few-hundred-mile ranges
//! of a SAR case; the assumption that a vessel holds its current speed is
//! the real limit (a ship at anchor could weigh anchor; an operator knows).
//!
//! ```
//! use sar::geo::{destination, LatLon};
//! use sar::intercept::{rank, InterceptModel, Pursuer, Target};
//! let boat = LatLon::new(35.0, 13.0);
//! let target = Target::fixed(boat, 0);
//! let model = InterceptModel { turn_rate_deg_per_min: None, ..Default::default() };
//! // A 5-knot fishing boat 10 NM north, a 20-knot rescue ship 30 NM south.
//! let fisher = Pursuer::new(destination(boat, 0.0, 10.0), 0, 5.0, None);
//! let rescuer = Pursuer::new(destination(boat, 180.0, 30.0), 0, 20.0, None);
//! let ranked = rank(&[target], vec![("fisher", fisher), ("rescuer", rescuer)], 0, &model, 10);
//! assert_eq!(ranked[0].key, "rescuer");
//! assert!((ranked[0].intercept.as_ref().unwrap().minutes - 90.0).abs() < 1e-6);
//! assert!((ranked[1].intercept.as_ref().unwrap().minutes - 120.0).abs() < 1e-6);
//! ```

use crate::geo::{angle_between, bearing_deg, destination, distance_nm, normalize_deg, LatLon};

/// What is being reached: a position at a time, perhaps drifting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    pub pos: LatLon,
    pub time_ms: i64,
    /// Drift: (course degrees true, speed knots).
    pub drift: Option<(f64, f64)>,
}

impl Target {
    /// A target that does not move.
    pub fn fixed(pos: LatLon, time_ms: i64) -> Target {
        Target {
            pos,
            time_ms,
            drift: None,
        }
    }

    /// A target drifting at `course` (degrees) and `speed` (knots).
    pub fn drifting(pos: LatLon, time_ms: i64, course: f64, speed: f64) -> Target {
        Target {
            pos,
            time_ms,
            drift: (speed > 0.0).then_some((course, speed)),
        }
    }

    /// Where it is at `t_ms` (never projected backwards).
    pub fn at(&self, t_ms: f64) -> LatLon {
        match self.drift {
            Some((c, v)) => {
                let h = ((t_ms - self.time_ms as f64) / 3_600_000.0).max(0.0);
                destination(self.pos, c, v * h)
            }
            None => self.pos,
        }
    }
}

/// A vessel that could go: its last report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pursuer {
    pub pos: LatLon,
    pub time_ms: i64,
    /// Speed over ground, knots (held during the intercept).
    pub speed_kn: f64,
    /// Course over ground, degrees; `None` when unknown.
    pub course_deg: Option<f64>,
}

impl Pursuer {
    pub fn new(pos: LatLon, time_ms: i64, speed_kn: f64, course_deg: Option<f64>) -> Pursuer {
        Pursuer {
            pos,
            time_ms,
            speed_kn,
            course_deg,
        }
    }
}

/// Parameters of the model (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InterceptModel {
    /// Rate of turn, degrees per minute; `None`: turns are instantaneous.
    pub turn_rate_deg_per_min: Option<f64>,
    /// A vessel's last report is dead-reckoned at most this far, minutes.
    pub max_dead_reckoning_min: f64,
    /// Slower than this a vessel counts as stopped, knots.
    pub min_speed_kn: f64,
}

impl Default for InterceptModel {
    /// 60°/min (a half turn in 3 minutes), 10 minutes of dead reckoning,
    /// 0.5 kn to count as under way.
    fn default() -> Self {
        InterceptModel {
            turn_rate_deg_per_min: Some(60.0),
            max_dead_reckoning_min: 10.0,
            min_speed_kn: 0.5,
        }
    }
}

/// One vessel's intercept.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Intercept {
    /// From now until the vessel meets the target, minutes (turn included).
    pub minutes: f64,
    /// Where they meet.
    pub point: LatLon,
    /// Course to steer, degrees true (initial great-circle bearing).
    pub steer_deg: f64,
    /// How far it must turn from its current course, degrees (0 when the
    /// course is unknown).
    pub turn_deg: f64,
}

/// A ranked vessel.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked<K> {
    pub key: K,
    /// Which of the targets it reaches first (index into the slice given).
    pub target: usize,
    /// Distance now (both brought to `now`), nautical miles.
    pub distance_nm: f64,
    /// `None`: it cannot intercept at its current speed.
    pub intercept: Option<Intercept>,
}

/// Where the pursuer is at `now` (dead reckoning, bounded).
fn pursuer_now(p: &Pursuer, now_ms: i64, m: &InterceptModel) -> LatLon {
    match p.course_deg {
        Some(c) if p.speed_kn >= m.min_speed_kn => {
            let min = ((now_ms - p.time_ms) as f64 / 60_000.0).clamp(0.0, m.max_dead_reckoning_min);
            destination(p.pos, c, p.speed_kn * min / 60.0)
        }
        _ => p.pos,
    }
}

/// Solve the intercept on the plane centred on `tgt`: hours until the
/// meeting and the meeting point, or `None`.
fn solve(
    tgt: LatLon,
    drift: Option<(f64, f64)>,
    from: LatLon,
    speed: f64,
) -> Option<(f64, LatLon)> {
    let d = distance_nm(tgt, from);
    if d < 1e-9 {
        return Some((0.0, tgt));
    }
    let b = bearing_deg(tgt, from).to_radians();
    let (px, py) = (d * b.sin(), d * b.cos());
    let (vx, vy) = match drift {
        Some((c, v)) => {
            let c = c.to_radians();
            (v * c.sin(), v * c.cos())
        }
        None => (0.0, 0.0),
    };
    // |v t − p| = s t  →  a t² + bq t + c = 0
    let a = vx * vx + vy * vy - speed * speed;
    let bq = -2.0 * (px * vx + py * vy);
    let c = d * d;
    let t = if a.abs() < 1e-12 {
        // Equal speeds: linear.
        (bq < 0.0).then(|| -c / bq)?
    } else {
        let disc = bq * bq - 4.0 * a * c;
        if disc < 0.0 {
            return None;
        }
        let sq = disc.sqrt();
        let r1 = (-bq - sq) / (2.0 * a);
        let r2 = (-bq + sq) / (2.0 * a);
        [r1, r2]
            .into_iter()
            .filter(|r| r.is_finite() && *r >= 0.0)
            .fold(None, |best: Option<f64>, r| {
                Some(best.map_or(r, |b| b.min(r)))
            })?
    };
    let (x, y) = (vx * t, vy * t);
    let run = (x * x + y * y).sqrt();
    let point = if run > 0.0 {
        destination(tgt, normalize_deg(x.atan2(y).to_degrees()), run)
    } else {
        tgt
    };
    Some((t, point))
}

/// The intercept of `target` by `p`, from `now_ms`; `None` if it cannot.
pub fn intercept(
    target: &Target,
    p: &Pursuer,
    now_ms: i64,
    m: &InterceptModel,
) -> Option<Intercept> {
    let from = pursuer_now(p, now_ms, m);
    let here = target.at(now_ms as f64);
    if distance_nm(from, here) < 1e-9 {
        return Some(Intercept {
            minutes: 0.0,
            point: here,
            steer_deg: p.course_deg.unwrap_or(0.0),
            turn_deg: 0.0,
        });
    }
    if !(p.speed_kn.is_finite() && p.speed_kn >= m.min_speed_kn) {
        return None;
    }
    let mut turn_min = 0.0;
    let mut best = None;
    for _ in 0..8 {
        let start = target.at(now_ms as f64 + turn_min * 60_000.0);
        let (hours, point) = solve(start, target.drift, from, p.speed_kn)?;
        let steer = if distance_nm(from, point) > 1e-9 {
            bearing_deg(from, point)
        } else {
            p.course_deg.unwrap_or(0.0)
        };
        let turn = p.course_deg.map_or(0.0, |c| angle_between(c, steer));
        let next_turn_min = match m.turn_rate_deg_per_min {
            Some(r) if r > 0.0 && r.is_finite() => turn / r,
            _ => 0.0,
        };
        best = Some(Intercept {
            minutes: turn_min + hours * 60.0,
            point,
            steer_deg: steer,
            turn_deg: turn,
        });
        if (next_turn_min - turn_min).abs() < 1e-6 {
            break;
        }
        turn_min = next_turn_min;
    }
    best
}

/// Rank `candidates` by the earliest time each can reach any of `targets`
/// (see the module doc); at most `k` are returned.
pub fn rank<K>(
    targets: &[Target],
    candidates: impl IntoIterator<Item = (K, Pursuer)>,
    now_ms: i64,
    m: &InterceptModel,
    k: usize,
) -> Vec<Ranked<K>> {
    if targets.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<Ranked<K>> = candidates
        .into_iter()
        .map(|(key, p)| {
            let from = pursuer_now(&p, now_ms, m);
            let mut best: Option<(usize, f64, Option<Intercept>)> = None;
            for (i, t) in targets.iter().enumerate() {
                let dist = distance_nm(from, t.at(now_ms as f64));
                let x = intercept(t, &p, now_ms, m);
                if best
                    .as_ref()
                    .is_none_or(|(_, bd, bx)| before(x.as_ref(), dist, bx.as_ref(), *bd))
                {
                    best = Some((i, dist, x));
                }
            }
            let (target, distance_nm, intercept) = best.expect("at least one target");
            Ranked {
                key,
                target,
                distance_nm,
                intercept,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        order(
            a.intercept.as_ref(),
            a.distance_nm,
            b.intercept.as_ref(),
            b.distance_nm,
        )
    });
    out.truncate(k);
    out
}

fn order(a: Option<&Intercept>, da: f64, b: Option<&Intercept>, db: f64) -> std::cmp::Ordering {
    match (a, b) {
        (Some(x), Some(y)) => x.minutes.total_cmp(&y.minutes).then(da.total_cmp(&db)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => da.total_cmp(&db),
    }
}

fn before(a: Option<&Intercept>, da: f64, b: Option<&Intercept>, db: f64) -> bool {
    order(a, da, b, db) == std::cmp::Ordering::Less
}
