//! The city's assets (streetlights, hydrants, trees, signals…): what a request about
//! one of them concerns, found near a point, and whether it keeps failing.

use std::collections::HashMap;

use rstar::primitives::GeomWithData;
use rstar::{PointDistance, RTree};
use serde::{Deserialize, Serialize};

use crate::geo::Point;

/// The area layer under which a request keeps its asset (`streetlight:SL-1001`), so
/// that the requests about one asset are found as those in an area are.
pub const ASSET_LAYER: &str = "asset";

/// One asset of the city's layers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Asset {
    /// Its type (`streetlight`), as services name the types they concern.
    pub kind: String,
    /// The city's id for it, unique within its type.
    pub id: String,
    /// What the city calls it, when it says (`Pole 14, Oak St`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Where it stands; the middle of a line asset.
    pub point: Point,
    /// A line asset's positions (`[lon, lat]`), for a stretch of pipe or kerb.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub line: Vec<[f64; 2]>,
    /// The city's other attributes, as it gave them.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub properties: serde_json::Map<String, serde_json::Value>,
}

impl Asset {
    /// The key a request keeps under [`ASSET_LAYER`]: `streetlight:SL-1001`.
    pub fn key(&self) -> String {
        key(&self.kind, &self.id)
    }

    /// How staff and residents read it: its name, else its type and id.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("{name} ({})", self.id),
            None => format!("{} {}", self.kind.replace(['_', '-'], " "), self.id),
        }
    }
}

/// The key of asset `id` of type `kind`.
pub fn key(kind: &str, id: &str) -> String {
    format!("{kind}:{id}")
}

/// Metres per degree of latitude.
const METRES_PER_DEGREE: f64 = 111_320.0;

/// The assets near a point; a line asset counts at each of its positions.
#[derive(Debug, Default)]
pub struct AssetIndex {
    assets: Vec<Asset>,
    by_key: HashMap<String, u32>,
    tree: RTree<GeomWithData<[f64; 2], u32>>,
    lon_scale: f64,
    /// The types the index holds.
    kinds: std::collections::BTreeSet<String>,
    /// The digest of the asset layers as last imported.
    pub digest: Option<String>,
}

/// An asset found near a point, with how far away it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Near<'a> {
    pub asset: &'a Asset,
    pub metres: f64,
}

impl AssetIndex {
    pub fn new(assets: Vec<Asset>, digest: Option<String>) -> Self {
        let mean_lat =
            if assets.is_empty() { 0.0 } else { assets.iter().map(|a| a.point.lat).sum::<f64>() / assets.len() as f64 };
        let lon_scale = METRES_PER_DEGREE * mean_lat.to_radians().cos();
        let mut entries = Vec::with_capacity(assets.len());
        let mut by_key = HashMap::with_capacity(assets.len());
        for (i, a) in assets.iter().enumerate() {
            let Ok(i) = u32::try_from(i) else { break };
            by_key.insert(a.key(), i);
            if a.line.is_empty() {
                entries.push(GeomWithData::new([a.point.lon * lon_scale, a.point.lat * METRES_PER_DEGREE], i));
            } else {
                entries
                    .extend(a.line.iter().map(|p| GeomWithData::new([p[0] * lon_scale, p[1] * METRES_PER_DEGREE], i)));
            }
        }
        let kinds = assets.iter().map(|a| a.kind.clone()).collect();
        Self { assets, by_key, tree: RTree::bulk_load(entries), lon_scale, kinds, digest }
    }

    pub fn len(&self) -> usize {
        self.assets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.assets.is_empty()
    }

    /// The asset of type `kind` with the city's id `id`.
    pub fn get(&self, kind: &str, id: &str) -> Option<&Asset> {
        self.by_key.get(&key(kind, id)).map(|i| &self.assets[*i as usize])
    }

    /// The asset a request keeps under [`ASSET_LAYER`].
    pub fn by_key(&self, key: &str) -> Option<&Asset> {
        self.by_key.get(key).map(|i| &self.assets[*i as usize])
    }

    /// The asset with id `id` among the types `kinds` (an Open311 client names only
    /// the id).
    pub fn find(&self, kinds: &[String], id: &str) -> Option<&Asset> {
        kinds.iter().find_map(|k| self.get(k, id))
    }

    /// Assets of the types `kinds` within `within_m` metres of `p`, nearest first, at
    /// most `limit`.
    pub fn near(&self, kinds: &[String], p: Point, within_m: f64, limit: usize) -> Vec<Near<'_>> {
        let at = [p.lon * self.lon_scale, p.lat * METRES_PER_DEGREE];
        let mut out: Vec<Near<'_>> = Vec::new();
        for entry in self.tree.nearest_neighbor_iter(&at) {
            let metres = entry.distance_2(&at).sqrt();
            if metres > within_m || out.len() >= limit {
                break;
            }
            let asset = &self.assets[entry.data as usize];
            if kinds.contains(&asset.kind) && !out.iter().any(|n| std::ptr::eq(n.asset, asset)) {
                out.push(Near { asset, metres });
            }
        }
        out
    }

    /// The nearest asset of the types `kinds` within `within_m` metres of `p`.
    pub fn nearest(&self, kinds: &[String], p: Point, within_m: f64) -> Option<Near<'_>> {
        self.near(kinds, p, within_m, 1).into_iter().next()
    }

    /// True when the city has any asset of the types `kinds` (a service cannot
    /// require an asset of a type it has none of).
    pub fn holds(&self, kinds: &[String]) -> bool {
        self.kinds.iter().any(|k| kinds.contains(k))
    }

    /// Every asset, in the order they were loaded.
    pub fn iter(&self) -> impl Iterator<Item = &Asset> {
        self.assets.iter()
    }
}

/// When an asset counts as failing again and again: `failures` requests about it
/// within `days` days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepeatFailure {
    pub failures: u32,
    pub days: u32,
}

impl Default for RepeatFailure {
    fn default() -> Self {
        Self { failures: 3, days: 90 }
    }
}

impl RepeatFailure {
    /// True when `filed` (when each request about the asset was filed) holds
    /// `failures` within any `days`-day window.
    pub fn marks(&self, filed: &[jiff::Timestamp]) -> bool {
        let n = self.failures.max(1) as usize;
        if filed.len() < n {
            return false;
        }
        let mut sorted = filed.to_vec();
        sorted.sort_unstable();
        let window = jiff::SignedDuration::from_hours(24 * i64::from(self.days));
        sorted.windows(n).any(|w| w[n - 1].duration_since(w[0]) <= window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset(kind: &str, id: &str, lat: f64, lon: f64) -> Asset {
        Asset {
            kind: kind.into(),
            id: id.into(),
            name: None,
            point: Point::new(lat, lon).expect("point"),
            line: Vec::new(),
            properties: serde_json::Map::new(),
        }
    }

    #[test]
    fn nearby_assets_of_the_asked_types_come_nearest_first() {
        let index = AssetIndex::new(
            vec![
                asset("streetlight", "SL-1", 40.0, -104.0),
                asset("streetlight", "SL-2", 40.0002, -104.0),
                asset("hydrant", "H-1", 40.00001, -104.0),
                asset("streetlight", "SL-3", 40.01, -104.0),
            ],
            None,
        );
        let lights = ["streetlight".to_owned()];
        let near = index.near(&lights, Point::new(40.00015, -104.0).expect("point"), 50.0, 5);
        let ids: Vec<&str> = near.iter().map(|n| n.asset.id.as_str()).collect();
        assert_eq!(ids, ["SL-2", "SL-1"]);
        assert!(near[0].metres < near[1].metres);
        assert_eq!(index.nearest(&lights, Point::new(40.005, -104.0).expect("point"), 30.0), None);
        assert_eq!(index.find(&lights, "H-1"), None, "a hydrant is not a streetlight");
        assert_eq!(index.by_key("hydrant:H-1").map(|a| a.id.as_str()), Some("H-1"));
    }

    #[test]
    fn a_line_asset_is_near_anywhere_along_it() {
        let mut kerb = asset("kerb", "K-1", 40.0, -104.0);
        kerb.line = vec![[-104.0, 40.0], [-104.0, 40.001], [-104.0, 40.002]];
        let index = AssetIndex::new(vec![kerb], None);
        let near = index.near(&["kerb".to_owned()], Point::new(40.002, -104.0).expect("point"), 10.0, 5);
        assert_eq!(near.len(), 1, "found once, at its nearest position");
    }

    #[test]
    fn repeat_failures_count_within_a_window() {
        let day = |d: i64| jiff::Timestamp::from_second(d * 86_400).expect("time");
        let rule = RepeatFailure { failures: 3, days: 30 };
        assert!(rule.marks(&[day(100), day(1), day(110), day(125)]));
        assert!(!rule.marks(&[day(1), day(40), day(80)]));
        assert!(!rule.marks(&[day(1), day(2)]));
    }
}
