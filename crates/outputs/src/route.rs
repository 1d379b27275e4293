//! A search pattern on its way to the searching unit: planned for an
//! incident (`POST /api/incidents/{id}/patterns`), it goes out on every
//! output that can carry a route — the NMEA outputs as `$GPWPL` waypoints
//! and `$GPRTE` (chart plotters load it as a route), the CoT output as a
//! TAK route (`b-m-r`, one check point per waypoint). Routes are not
//! vessels: area and class filters do not apply to them.

/// One route.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Stable id (`i-000001-2`: incident and pattern number); a route sent
    /// again with the same id replaces it on TAK maps.
    pub id: String,
    /// What to call it (`SS RESCUE 1`).
    pub name: String,
    /// A line for people (`9 legs, S 1.00 NM, … from … to …`).
    pub remarks: String,
    pub waypoints: Vec<RoutePoint>,
    /// The `$GPWPL`/`$GPRTE` sentences (framed by `sar::export::to_nmea`,
    /// without line ends).
    pub nmea: Vec<String>,
}

/// One waypoint.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutePoint {
    pub lat: f64,
    pub lon: f64,
    /// `WP001`, … as in the NMEA sentences.
    pub name: String,
    /// Planned time, ms since the UNIX epoch.
    pub time_ms: i64,
}
