//! Own assets: a patrol boat's or rescue ship's own navigation feed (GNSS
//! `$` sentences of a source with `own_asset`), shown as vessels of class
//! `own_asset`.
//!
//! They have no MMSI of their own on the feed, so each gets a display id
//! below 1000 (not a valid MMSI) in the order they first report.

use broadcast::{BBox, VesselView};
use ingest::gnss::OwnAssetFix;
use spatial_index::Picture;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Own assets by name.
#[derive(Debug, Default)]
pub struct OwnAssets {
    assets: BTreeMap<Arc<str>, VesselView>,
}

impl OwnAssets {
    /// Apply a fix; returns the asset's view (its zones from `p`).
    pub fn update(&mut self, f: &OwnAssetFix, p: &Picture) -> VesselView {
        let next_id = self.assets.len() as u32 + 1;
        let v = self
            .assets
            .entry(f.asset.clone())
            .or_insert_with(|| VesselView {
                mmsi: next_id.min(999),
                lat: f.lat,
                lon: f.lon,
                sog: None,
                cog: None,
                heading: None,
                name: Some(f.asset.to_string()),
                callsign: None,
                ship_type: None,
                class: "own_asset".into(),
                nav_status: None,
                last_seen: f.time_ms,
                state: "live".into(),
                zones: Vec::new(),
            });
        v.lat = f.lat;
        v.lon = f.lon;
        v.sog = f.sog.map(|s| (s as f64 * 10.0).round() / 10.0);
        v.cog = f.cog.map(|c| (c as f64 * 10.0).round() / 10.0);
        v.heading = f.heading.map(|h| (h.round() as u16) % 360);
        v.last_seen = f.time_ms;
        let mut idx = Vec::new();
        p.zones().zones_at(f.lat, f.lon, &mut idx);
        v.zones = idx
            .iter()
            .map(|&i| p.zones().zone(i).id.to_string())
            .collect();
        v.clone()
    }

    /// Assets inside any of the boxes.
    pub fn in_boxes(&self, boxes: &[BBox]) -> Vec<VesselView> {
        self.assets
            .values()
            .filter(|v| boxes.iter().any(|b| b.contains(v.lon, v.lat)))
            .cloned()
            .collect()
    }

    /// Every asset.
    pub fn all(&self) -> impl Iterator<Item = &VesselView> {
        self.assets.values()
    }
}
