//! Geometry for boundary layers: points, polygons with holes, GeoJSON import and a
//! spatial index that finds which feature of every layer a point falls in. GeoJSON is
//! read with `geojson` and points are placed in polygons with `geo`'s exact predicates.

use std::collections::BTreeMap;

use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};
use serde::{Deserialize, Serialize};

use geo::CoordinatePosition;
use geo::algorithm::coordinate_position::CoordPos;

use crate::error::FieldError;

/// A WGS 84 position.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub lat: f64,
    pub lon: f64,
}

impl Point {
    /// A point with latitude in [-90, 90] and longitude in [-180, 180].
    pub fn new(lat: f64, lon: f64) -> Result<Self, FieldError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(FieldError::new("lat", "latitude must be a number between -90 and 90"));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(FieldError::new("long", "longitude must be a number between -180 and 180"));
        }
        Ok(Self { lat, lon })
    }

    /// Great-circle distance in metres (haversine, from `geo`).
    pub fn distance_m(&self, other: &Point) -> f64 {
        use geo::Distance;
        geo::Haversine.distance(geo::Point::new(self.lon, self.lat), geo::Point::new(other.lon, other.lat))
    }
}

/// Metres per degree of latitude, for turning radii into coordinate deltas.
pub const METRES_PER_DEGREE: f64 = 111_195.0;

/// A closed ring of `[lon, lat]` positions (GeoJSON order).
pub type Ring = Vec<[f64; 2]>;

/// A polygon: an outer ring and any holes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Polygon {
    pub rings: Vec<Ring>,
}

impl Polygon {
    /// The polygon as `geo` works with it.
    fn to_geo(&self) -> geo::Polygon<f64> {
        let ring = |r: &Ring| geo::LineString::from(r.iter().map(|p| (p[0], p[1])).collect::<Vec<_>>());
        let mut rings = self.rings.iter().map(ring);
        let exterior = rings.next().unwrap_or_else(|| geo::LineString::new(Vec::new()));
        geo::Polygon::new(exterior, rings.collect())
    }

    /// True when `p` is inside or on the boundary. Holes are excluded, but their edges
    /// count as the polygon's boundary.
    pub fn contains(&self, p: &Point) -> bool {
        covers(&self.to_geo(), p)
    }
}

/// True when `p` lies in `area` or on its boundary (exact predicates, from `geo`).
fn covers<G: CoordinatePosition<Scalar = f64>>(area: &G, p: &Point) -> bool {
    area.coordinate_position(&geo::Coord { x: p.lon, y: p.lat }) != CoordPos::Outside
}

/// One named area of a boundary layer (Ward 3, the Riverside neighbourhood, ZIP 60601).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoundaryFeature {
    pub layer: String,
    /// Stable identifier within the layer, recorded on requests.
    pub feature: String,
    pub name: String,
    pub polygons: Vec<Polygon>,
}

impl BoundaryFeature {
    pub fn contains(&self, p: &Point) -> bool {
        covers(&self.to_geo(), p)
    }

    /// The feature's area as `geo` works with it.
    fn to_geo(&self) -> geo::MultiPolygon<f64> {
        geo::MultiPolygon::new(self.polygons.iter().map(Polygon::to_geo).collect())
    }

    /// `[min_lon, min_lat], [max_lon, max_lat]` of every outer ring.
    pub fn bbox(&self) -> ([f64; 2], [f64; 2]) {
        let mut lo = [f64::INFINITY; 2];
        let mut hi = [f64::NEG_INFINITY; 2];
        for pos in self.polygons.iter().filter_map(|p| p.rings.first()).flatten() {
            for i in 0..2 {
                lo[i] = lo[i].min(pos[i]);
                hi[i] = hi[i].max(pos[i]);
            }
        }
        (lo, hi)
    }
}

/// Reads a GeoJSON FeatureCollection (or a single Feature) of Polygons and
/// MultiPolygons into features of `layer`. A feature's id comes from the property
/// `id_property` when given, else from the Feature `id`, else from the properties
/// `id`, `code` or `name`; its display name from `name`.
pub fn parse_geojson(layer: &str, text: &str, id_property: Option<&str>) -> Result<Vec<BoundaryFeature>, FieldError> {
    let err = |detail: String| FieldError::new(layer, detail);
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| err(format!("not valid JSON: {e}")))?;
    let features = match serde_json::from_value::<geojson::GeoJson>(doc) {
        Ok(geojson::GeoJson::FeatureCollection(c)) => c.features,
        Ok(geojson::GeoJson::Feature(f)) => vec![f],
        Ok(geojson::GeoJson::Geometry(_)) => {
            return Err(err("expected a FeatureCollection or Feature, found a bare geometry".into()));
        }
        Err(e) => return Err(err(format!("not GeoJSON: {e}"))),
    };
    let mut out: Vec<BoundaryFeature> = Vec::with_capacity(features.len());
    for (i, f) in features.iter().enumerate() {
        let prop = |k: &str| f.property(k).and_then(json_scalar);
        let own_id = || match &f.id {
            Some(geojson::feature::Id::String(s)) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
            Some(geojson::feature::Id::Number(n)) => Some(n.to_string()),
            None => None,
        };
        let feature = match id_property {
            Some(k) => prop(k),
            None => own_id().or_else(|| prop("id")).or_else(|| prop("code")).or_else(|| prop("name")),
        }
        .ok_or_else(|| err(format!("feature {i} has no id (set an id property)")))?;
        let name = prop("name").unwrap_or_else(|| feature.clone());
        let geometry = f.geometry.as_ref().ok_or_else(|| err(format!("feature {feature} has no geometry")))?;
        let polygons = polygons(&geometry.value).map_err(|d| err(format!("feature {feature}: {d}")))?;
        if out.iter().any(|o| o.feature == feature) {
            return Err(err(format!("feature id {feature} appears twice")));
        }
        out.push(BoundaryFeature { layer: layer.to_owned(), feature, name, polygons });
    }
    if out.is_empty() {
        return Err(err("the file has no features".into()));
    }
    Ok(out)
}

fn json_scalar(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The polygons of a Polygon or MultiPolygon, checked.
fn polygons(g: &geojson::GeometryValue) -> Result<Vec<Polygon>, String> {
    let parts: Vec<&Vec<Vec<geojson::Position>>> = match g {
        geojson::GeometryValue::Polygon { coordinates } => vec![coordinates],
        geojson::GeometryValue::MultiPolygon { coordinates } => coordinates.iter().collect(),
        other => return Err(format!("only Polygon and MultiPolygon are supported, found {}", other.type_name())),
    };
    parts.into_iter().map(|rings| polygon(rings)).collect()
}

fn polygon(rings: &[Vec<geojson::Position>]) -> Result<Polygon, String> {
    if rings.is_empty() {
        return Err("polygon without rings".into());
    }
    let mut out = Vec::with_capacity(rings.len());
    for r in rings {
        if r.len() < 4 {
            return Err("a ring needs at least four positions".into());
        }
        let ring: Ring = r
            .iter()
            .map(|p| match p.as_slice() {
                [lon, lat, ..] if Point::new(*lat, *lon).is_ok() => Ok([*lon, *lat]),
                _ => Err("a position is outside [-180, 180] × [-90, 90]".to_owned()),
            })
            .collect::<Result<_, _>>()?;
        out.push(ring);
    }
    Ok(Polygon { rings: out })
}

/// Every boundary feature of the city, indexed for point lookups.
#[derive(Debug, Default)]
pub struct BoundaryIndex {
    features: Vec<BoundaryFeature>,
    /// Each feature's area, prepared once for point lookups.
    areas: Vec<geo::MultiPolygon<f64>>,
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
    layers: Vec<String>,
}

impl BoundaryIndex {
    pub fn new(mut features: Vec<BoundaryFeature>) -> Self {
        // Deterministic: a point on a shared border belongs to the first feature by id.
        features.sort_by(|a, b| (&a.layer, &a.feature).cmp(&(&b.layer, &b.feature)));
        let entries = features
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let (lo, hi) = f.bbox();
                GeomWithData::new(Rectangle::from_corners(lo, hi), i)
            })
            .collect();
        let mut layers: Vec<String> = features.iter().map(|f| f.layer.clone()).collect();
        layers.dedup();
        let areas = features.iter().map(BoundaryFeature::to_geo).collect();
        Self { tree: RTree::bulk_load(entries), features, areas, layers }
    }

    pub fn layers(&self) -> &[String] {
        &self.layers
    }

    pub fn features(&self) -> &[BoundaryFeature] {
        &self.features
    }

    /// The layer with fewest features (wards before neighbourhoods): its areas are the
    /// likeliest to hold enough requests to judge, so reports and dashboards start
    /// with it. `None` without boundaries.
    pub fn broadest_layer(&self) -> Option<&str> {
        let features = |l: &String| self.features.iter().filter(|f| f.layer == *l).count();
        self.layers.iter().min_by_key(|l| features(l)).map(String::as_str)
    }

    /// The feature of each layer that contains `p`, by layer name.
    pub fn locate(&self, p: &Point) -> BTreeMap<String, String> {
        let mut hits: Vec<usize> = self.tree.locate_all_at_point(&[p.lon, p.lat]).map(|e| e.data).collect();
        hits.sort_unstable();
        let mut out = BTreeMap::new();
        for i in hits {
            let f = &self.features[i];
            if !out.contains_key(&f.layer) && covers(&self.areas[i], p) {
                out.insert(f.layer.clone(), f.feature.clone());
            }
        }
        out
    }

    /// Display name of a feature.
    pub fn feature_name(&self, layer: &str, feature: &str) -> Option<&str> {
        self.features.iter().find(|f| f.layer == layer && f.feature == feature).map(|f| f.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Ring {
        vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    }

    fn pt(lon: f64, lat: f64) -> Point {
        Point { lat, lon }
    }

    #[test]
    fn inside_outside_edges_and_vertices() {
        let p = Polygon { rings: vec![square(0.0, 0.0, 10.0, 10.0)] };
        assert!(p.contains(&pt(5.0, 5.0)));
        assert!(!p.contains(&pt(15.0, 5.0)));
        assert!(p.contains(&pt(0.0, 5.0)), "on the west edge");
        assert!(p.contains(&pt(10.0, 10.0)), "on a vertex");
        assert!(!p.contains(&pt(-1.0, 10.0)), "level with the top edge, outside");
        assert!(!p.contains(&pt(-1.0, 0.0)), "ray through two vertices");
    }

    #[test]
    fn holes_are_outside_but_their_edges_are_boundary() {
        let p = Polygon { rings: vec![square(0.0, 0.0, 10.0, 10.0), square(4.0, 4.0, 6.0, 6.0)] };
        assert!(!p.contains(&pt(5.0, 5.0)));
        assert!(p.contains(&pt(4.0, 5.0)));
        assert!(p.contains(&pt(2.0, 5.0)));
    }

    #[test]
    fn concave_polygon_ray_through_reflex_vertex() {
        // A "U" shape open to the north.
        let u = Polygon {
            rings: vec![vec![
                [0.0, 0.0],
                [6.0, 0.0],
                [6.0, 6.0],
                [4.0, 6.0],
                [4.0, 2.0],
                [2.0, 2.0],
                [2.0, 6.0],
                [0.0, 6.0],
                [0.0, 0.0],
            ]],
        };
        assert!(!u.contains(&pt(3.0, 4.0)), "inside the notch");
        assert!(u.contains(&pt(1.0, 4.0)));
        assert!(u.contains(&pt(5.0, 2.0)), "level with the notch floor");
        assert!(u.contains(&pt(3.0, 1.0)));
    }

    #[test]
    fn index_finds_one_feature_per_layer_and_breaks_ties_by_id() {
        let f = |layer: &str, id: &str, r: Ring| BoundaryFeature {
            layer: layer.into(),
            feature: id.into(),
            name: id.into(),
            polygons: vec![Polygon { rings: vec![r] }],
        };
        let idx = BoundaryIndex::new(vec![
            f("wards", "W2", square(5.0, 0.0, 10.0, 10.0)),
            f("wards", "W1", square(0.0, 0.0, 5.0, 10.0)),
            f("zip", "Z1", square(0.0, 0.0, 10.0, 10.0)),
        ]);
        let hit = idx.locate(&pt(7.0, 7.0));
        assert_eq!(hit.get("wards").map(String::as_str), Some("W2"));
        assert_eq!(hit.get("zip").map(String::as_str), Some("Z1"));
        assert_eq!(idx.locate(&pt(5.0, 5.0)).get("wards").map(String::as_str), Some("W1"), "shared border");
        assert!(idx.locate(&pt(20.0, 20.0)).is_empty());
        assert_eq!(idx.broadest_layer(), Some("zip"), "the layer with fewest features");
        assert_eq!(BoundaryIndex::new(vec![]).broadest_layer(), None);
    }

    #[test]
    fn geojson_polygon_and_multipolygon() {
        let text = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"id":"A","name":"Alpha"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}},
          {"type":"Feature","id":7,"properties":{"name":"Beta"},"geometry":{"type":"MultiPolygon","coordinates":[[[[2,2],[3,2],[3,3],[2,3],[2,2]]],[[[5,5],[6,5],[6,6],[5,6],[5,5]]]]}}]}"#;
        let fs = parse_geojson("wards", text, None).unwrap();
        assert_eq!(fs[0].feature, "A");
        assert_eq!(fs[1].feature, "7");
        assert!(fs[1].contains(&pt(5.5, 5.5)));
        assert!(
            parse_geojson(
                "wards",
                r#"{"type":"Feature","properties":{"id":"x"},"geometry":{"type":"Point","coordinates":[0,0]}}"#,
                None
            )
            .is_err()
        );
        assert!(parse_geojson("wards", "nope", None).is_err());
    }

    proptest::proptest! {
        /// The indexed lookup agrees with testing every feature in id order, on a
        /// jittered grid whose features share edges, and every point of the grid's
        /// extent falls in exactly one feature per layer.
        #[test]
        fn index_agrees_with_brute_force(jitter in proptest::collection::vec(-0.3f64..0.3, 50), x in 0.0f64..4.0, y in 0.0f64..4.0) {
            let n = 4;
            let corner = |i: usize, j: usize| -> [f64; 2] {
                let interior = i > 0 && i < n && j > 0 && j < n;
                let k = (i * (n + 1) + j) % jitter.len();
                if interior { [i as f64 + jitter[k], j as f64 + jitter[(k + 7) % jitter.len()]] } else { [i as f64, j as f64] }
            };
            let mut features = Vec::new();
            for i in 0..n {
                for j in 0..n {
                    let ring = vec![corner(i, j), corner(i + 1, j), corner(i + 1, j + 1), corner(i, j + 1), corner(i, j)];
                    features.push(BoundaryFeature { layer: "grid".into(), feature: format!("{i:02}{j:02}"), name: String::new(), polygons: vec![Polygon { rings: vec![ring] }] });
                }
            }
            let p = pt(x, y);
            let brute = features.iter().find(|f| f.contains(&p)).map(|f| f.feature.clone());
            let idx = BoundaryIndex::new(features);
            proptest::prop_assert_eq!(idx.locate(&p).get("grid").cloned(), brute.clone());
            proptest::prop_assert!(brute.is_some(), "a point inside the grid's extent is in some cell");
        }
    }

    #[test]
    fn point_validation() {
        assert!(Point::new(91.0, 0.0).is_err());
        assert!(Point::new(0.0, f64::NAN).is_err());
        assert!(Point::new(41.0, -87.0).is_ok());
    }
}
