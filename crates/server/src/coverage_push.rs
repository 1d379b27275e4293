//! Live coverage on the `incidents` channel: every few seconds, for each
//! open incident with a search pattern, the coverage of its search area by
//! its assets' AIS tracks (`GET /api/incidents/{id}/coverage`, computed at
//! the picture's message time) is pushed as `{"type":"coverage",…}` when it
//! has changed — so the map shades the swept area and the incident panel
//! shows C and POD rising as the positions arrive, without polling.
//!
//! The cadence is wall-clock (a few seconds), the values are message-time
//! (the picture's clock): a replay shows the same coverage at the same
//! message time whatever its speed; only how often it is pushed differs.

use crate::state::LiveState;
use broadcast::sar_channel::SarKind;
use broadcast::{Hub, PictureApi};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How often coverage is recomputed.
pub const EVERY: Duration = Duration::from_secs(3);

/// What a client sees of a coverage answer, to tell whether it changed
/// (to 1e-6: finer differences are the geometry's rounding noise).
fn key(v: &Value) -> (i64, i64, usize) {
    let r = |x: &Value| (x.as_f64().unwrap_or(0.0) * 1e6).round() as i64;
    (
        r(&v["coverage_factor"]),
        r(&v["cumulative_pod"]),
        v["by_asset"].as_array().map_or(0, Vec::len),
    )
}

/// Run until the task is dropped.
pub async fn run(state: Arc<LiveState>, hub: Arc<Hub>) {
    let mut sent: HashMap<String, (i64, i64, usize)> = HashMap::new();
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        // No client connected: nothing to push, nothing to compute (the
        // next client gets coverage from its first push or GET …/coverage).
        if hub.client_count() == 0 {
            sent.clear();
            continue;
        }
        let st = state.clone();
        let changed = tokio::task::spawn_blocking(move || {
            let Some(sar) = st.sar() else {
                return Vec::new();
            };
            let Ok(list) = sar.incidents(Some("open")) else {
                return Vec::new();
            };
            let mut out = Vec::new();
            for i in list.as_array().into_iter().flatten() {
                let planned = i["patterns"].as_array().is_some_and(|p| !p.is_empty());
                let open = i["status"].as_str() != Some("closed");
                let Some(id) = i["id"].as_str().filter(|_| planned && open) else {
                    continue;
                };
                if let Ok(mut c) = sar.coverage(id, None) {
                    if let Some(o) = c.as_object_mut() {
                        o.insert("incident".into(), Value::from(id));
                    }
                    geoformat::geojson::normalize(&mut c["swept"]);
                    out.push((id.to_string(), c));
                }
            }
            out
        })
        .await
        .unwrap_or_default();
        for (id, c) in changed {
            let k = key(&c);
            if sent.get(&id) != Some(&k) {
                sent.insert(id, k);
                hub.publish_sar(SarKind::Coverage, c.to_string().into());
            }
        }
    }
}
