//! A map that needs no tiles and no network: the boundary a request lies in, drawn as
//! an outline, with the request's point and nearby reports on it. It is what staff see
//! when map tiles cannot be reached, and it works without JavaScript.

use std::fmt::Write;

use civic311_domain::geo::{BoundaryFeature, Point};

use crate::MapTiles;

/// Drawing size in SVG units (scaled to the page by CSS).
const WIDTH: f64 = 320.0;
const HEIGHT: f64 = 240.0;
const MARGIN: f64 = 12.0;

/// An SVG of `areas` (outlines) with `point` marked and `others` as small dots; `None`
/// when there is nothing to draw. Only numbers and `label` (escaped) enter the markup.
pub fn svg(point: Point, areas: &[&BoundaryFeature], others: &[Point], label: &str) -> Option<String> {
    let rings: Vec<&Vec<[f64; 2]>> =
        areas.iter().flat_map(|f| f.polygons.iter().flat_map(|p| p.rings.iter())).collect();
    let (mut lo, mut hi) = ([point.lon, point.lat], [point.lon, point.lat]);
    for pos in rings.iter().flat_map(|r| r.iter()) {
        for i in 0..2 {
            lo[i] = lo[i].min(pos[i]);
            hi[i] = hi[i].max(pos[i]);
        }
    }
    // Without an outline, show some 400 m around the point.
    if rings.is_empty() {
        let d = 0.002;
        lo = [point.lon - d, point.lat - d];
        hi = [point.lon + d, point.lat + d];
    }
    // Longitude degrees shrink with latitude; keep the shape true.
    let k = point.lat.to_radians().cos().max(0.01);
    let (w, h) = (((hi[0] - lo[0]) * k).max(1e-9), (hi[1] - lo[1]).max(1e-9));
    let scale = ((WIDTH - 2.0 * MARGIN) / w).min((HEIGHT - 2.0 * MARGIN) / h);
    let (ox, oy) =
        (MARGIN + ((WIDTH - 2.0 * MARGIN) - w * scale) / 2.0, MARGIN + ((HEIGHT - 2.0 * MARGIN) - h * scale) / 2.0);
    let xy = |lon: f64, lat: f64| (ox + (lon - lo[0]) * k * scale, oy + (hi[1] - lat) * scale);
    if !xy(point.lon, point.lat).0.is_finite() {
        return None;
    }
    let mut out = format!(
        "<svg class=\"map\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-labelledby=\"map-title\"><title id=\"map-title\">{}</title>\
         <rect width=\"{WIDTH}\" height=\"{HEIGHT}\" fill=\"#eef1f4\"/>",
        escape(label)
    );
    for ring in rings {
        let mut d = String::new();
        for (i, pos) in ring.iter().enumerate() {
            let (x, y) = xy(pos[0], pos[1]);
            let _ = write!(d, "{}{x:.1},{y:.1} ", if i == 0 { "M" } else { "L" });
        }
        let _ = write!(out, "<path d=\"{d}Z\" fill=\"#dbe7f3\" stroke=\"#0b5cad\" stroke-width=\"1.5\"/>");
    }
    for o in others {
        let (x, y) = xy(o.lon, o.lat);
        if (0.0..=WIDTH).contains(&x) && (0.0..=HEIGHT).contains(&y) {
            let _ = write!(out, "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"#8a5a00\"/>");
        }
    }
    let (x, y) = xy(point.lon, point.lat);
    let _ = write!(
        out,
        "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"7\" fill=\"#a4161a\" stroke=\"#fff\" stroke-width=\"2\"/></svg>"
    );
    Some(out)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// What `static/map.js` needs to draw the same map over tiles: the tile source, the
/// point, the outlines (rings of `[lat, lon]`) and the other points, as JSON for a
/// `data-map` attribute.
pub fn over_tiles(tiles: &MapTiles, point: Point, areas: &[&BoundaryFeature], others: &[Point]) -> String {
    let rings: Vec<Vec<[f64; 2]>> = areas
        .iter()
        .flat_map(|f| f.polygons.iter().flat_map(|p| p.rings.iter()))
        .map(|ring| ring.iter().map(|[lon, lat]| [*lat, *lon]).collect())
        .collect();
    serde_json::json!({
        "tiles": tiles.url,
        "attribution": tiles.attribution,
        "point": [point.lat, point.lon],
        "outline": rings,
        "others": others.iter().map(|p| [p.lat, p.lon]).collect::<Vec<_>>(),
    })
    .to_string()
}

/// What `static/map.js` needs for a map to pick a location on: the tile source and
/// where to centre it, as JSON for a `data-pick` attribute.
pub fn pick(tiles: &MapTiles, centre: Point) -> String {
    serde_json::json!({ "tiles": tiles.url, "attribution": tiles.attribution, "centre": [centre.lat, centre.lon] })
        .to_string()
}

#[cfg(test)]
mod tests {
    use civic311_domain::geo::Polygon;

    use super::*;

    #[test]
    fn the_point_sits_inside_its_outline_and_text_is_escaped() {
        let ward = BoundaryFeature {
            layer: "wards".into(),
            feature: "W1".into(),
            name: "Ward 1".into(),
            polygons: vec![Polygon {
                rings: vec![vec![[-88.02, 41.0], [-88.0, 41.0], [-88.0, 41.02], [-88.02, 41.02], [-88.02, 41.0]]],
            }],
        };
        let p = Point::new(41.01, -88.01).expect("point");
        let out = svg(p, &[&ward], &[], "Ward <1>").expect("a map");
        assert!(out.contains("<title id=\"map-title\">Ward &lt;1&gt;</title>"));
        assert!(out.contains("<path d=\"M"));
        // The point is drawn in the middle of the square ward.
        assert!(out.contains("cx=\"160.0\" cy=\"120.0\" r=\"7\""), "{out}");
        assert!(svg(p, &[], &[], "alone").is_some(), "without an outline, the surroundings");
    }
}
