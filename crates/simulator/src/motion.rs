//! How simulated vessels move: along lanes, wandering in an area, holding
//! a point, or steering to one — advanced in message time with great-circle
//! steps and small random course and speed changes.

use crate::sphere::{bearing_deg, destination, distance_m, NM};

/// A vessel's movement plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Motion {
    /// Follow waypoints (`[lon, lat]`), then turn round and sail back.
    Lane {
        points: Vec<[f64; 2]>,
        next: usize,
        forward: bool,
    },
    /// Random slow course changes inside a box; bounces off its edges.
    Wander { bbox: [f64; 4], change_at_ms: i64 },
    /// Stay near a point at very low speed (anchored, loitering, drifting).
    Hold { lat: f64, lon: f64 },
    /// Steer to a point, arriving by `arrive_ms`, then continue with `then`.
    GoTo {
        lat: f64,
        lon: f64,
        arrive_ms: i64,
        then: Box<Motion>,
    },
}

/// Kinematic state.
#[derive(Debug, Clone, PartialEq)]
pub struct Kinematics {
    pub lat: f64,
    pub lon: f64,
    /// Knots.
    pub sog: f64,
    /// Degrees.
    pub cog: f64,
    /// Cruise speed for this vessel, knots.
    pub cruise: f64,
    pub motion: Motion,
    /// Message time of this state, ms.
    pub t_ms: i64,
}

impl Kinematics {
    /// Advance to `t_ms`.
    pub fn advance(&mut self, t_ms: i64, rng: &mut fastrand::Rng) {
        let dt = (t_ms - self.t_ms).max(0) as f64 / 1000.0;
        self.t_ms = t_ms;
        if dt == 0.0 {
            return;
        }
        match &mut self.motion {
            Motion::Lane {
                points,
                next,
                forward,
            } => {
                let [lon, lat] = points[*next];
                let remaining = distance_m(self.lat, self.lon, lat, lon);
                let step = self.cruise * NM / 3600.0 * dt;
                if remaining <= step.max(50.0) {
                    self.lat = lat;
                    self.lon = lon;
                    // Next waypoint, turning round at the ends.
                    if *forward && *next + 1 == points.len() {
                        *forward = false;
                    } else if !*forward && *next == 0 {
                        *forward = true;
                    }
                    *next = if *forward {
                        (*next + 1).min(points.len() - 1)
                    } else {
                        next.saturating_sub(1)
                    };
                } else {
                    self.cog = bearing_deg(self.lat, self.lon, lat, lon);
                    (self.lat, self.lon) = destination(self.lat, self.lon, self.cog, step);
                }
                self.sog = (self.cruise + rng.f64() * 0.4 - 0.2).max(0.0);
            }
            Motion::Wander { bbox, change_at_ms } => {
                if t_ms >= *change_at_ms {
                    self.cog = (self.cog + rng.f64() * 90.0 - 45.0 + 360.0) % 360.0;
                    self.sog = (self.cruise * (0.5 + rng.f64())).max(0.2);
                    *change_at_ms = t_ms + 600_000 + rng.i64(0..1_200_000);
                }
                let [x0, y0, x1, y1] = *bbox;
                (self.lat, self.lon) =
                    destination(self.lat, self.lon, self.cog, self.sog * NM / 3600.0 * dt);
                // Turn back towards the box centre when outside.
                if self.lon < x0 || self.lon > x1 || self.lat < y0 || self.lat > y1 {
                    self.cog = bearing_deg(self.lat, self.lon, (y0 + y1) / 2.0, (x0 + x1) / 2.0);
                }
            }
            Motion::Hold { lat, lon } => {
                // Drift around the point: under 1 kn, staying within ~200 m.
                self.sog = 0.2 + rng.f64() * 0.6;
                if distance_m(self.lat, self.lon, *lat, *lon) > 150.0 {
                    self.cog = bearing_deg(self.lat, self.lon, *lat, *lon);
                } else {
                    self.cog = (self.cog + rng.f64() * 60.0 - 30.0 + 360.0) % 360.0;
                }
                (self.lat, self.lon) =
                    destination(self.lat, self.lon, self.cog, self.sog * NM / 3600.0 * dt);
            }
            Motion::GoTo {
                lat,
                lon,
                arrive_ms,
                then,
            } => {
                let remaining = distance_m(self.lat, self.lon, *lat, *lon);
                let left_s = ((*arrive_ms - t_ms) as f64 / 1000.0).max(1.0);
                // Speed needed to arrive on time, within what ships do.
                self.sog = (remaining / NM / (left_s / 3600.0)).clamp(1.0, 30.0);
                let step = self.sog * NM / 3600.0 * dt;
                if remaining <= step || t_ms >= *arrive_ms {
                    self.lat = *lat;
                    self.lon = *lon;
                    self.motion =
                        std::mem::replace(then.as_mut(), Motion::Hold { lat: 0.0, lon: 0.0 });
                } else {
                    self.cog = bearing_deg(self.lat, self.lon, *lat, *lon);
                    (self.lat, self.lon) = destination(self.lat, self.lon, self.cog, step);
                }
            }
        }
        self.lat = self.lat.clamp(-89.9, 89.9);
    }
}
