//! A map that needs no tiles and no network: the boundary a request lies in, drawn as
//! an outline, with the request's point and nearby reports on it. It is what staff see
//! when map tiles cannot be reached, and it works without JavaScript.

use std::fmt::Write;

use civic311_domain::geo::{BoundaryFeature, Point};

use crate::{CityModel, MapTiles};

/// Drawing size in SVG units (scaled to the page by CSS).
const WIDTH: f64 = 320.0;
const HEIGHT: f64 = 240.0;
const MARGIN: f64 = 12.0;

/// Fits a box of longitudes and latitudes into the drawing, keeping its shape.
struct Projection {
    lo: [f64; 2],
    hi: [f64; 2],
    k: f64,
    scale: f64,
    offset: (f64, f64),
}

impl Projection {
    fn new(lo: [f64; 2], hi: [f64; 2]) -> Self {
        // Longitude degrees shrink with latitude.
        let k = ((lo[1] + hi[1]) / 2.0).to_radians().cos().max(0.01);
        let (w, h) = (((hi[0] - lo[0]) * k).max(1e-9), (hi[1] - lo[1]).max(1e-9));
        let scale = ((WIDTH - 2.0 * MARGIN) / w).min((HEIGHT - 2.0 * MARGIN) / h);
        let offset =
            (MARGIN + ((WIDTH - 2.0 * MARGIN) - w * scale) / 2.0, MARGIN + ((HEIGHT - 2.0 * MARGIN) - h * scale) / 2.0);
        Projection { lo, hi, k, scale, offset }
    }

    fn xy(&self, lon: f64, lat: f64) -> (f64, f64) {
        (self.offset.0 + (lon - self.lo[0]) * self.k * self.scale, self.offset.1 + (self.hi[1] - lat) * self.scale)
    }
}

fn rings<'a>(areas: &[&'a BoundaryFeature]) -> Vec<&'a Vec<[f64; 2]>> {
    areas.iter().flat_map(|f| f.polygons.iter().flat_map(|p| p.rings.iter())).collect()
}

/// The box around `rings` and `points`, or `None` when there is nothing.
fn bounds(rings: &[&Vec<[f64; 2]>], points: &[Point]) -> Option<([f64; 2], [f64; 2])> {
    let all = rings.iter().flat_map(|r| r.iter().copied()).chain(points.iter().map(|p| [p.lon, p.lat]));
    all.fold(None, |acc, pos| {
        let (mut lo, mut hi) = acc.unwrap_or((pos, pos));
        for i in 0..2 {
            lo[i] = lo[i].min(pos[i]);
            hi[i] = hi[i].max(pos[i]);
        }
        Some((lo, hi))
    })
}

/// The opening of a map drawing, and its outlines.
fn start(label: &str, rings: &[&Vec<[f64; 2]>], p: &Projection) -> String {
    let mut out = format!(
        "<svg class=\"map\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-labelledby=\"map-title\"><title id=\"map-title\">{}</title>\
         <rect width=\"{WIDTH}\" height=\"{HEIGHT}\" fill=\"#eef1f4\"/>",
        escape(label)
    );
    for ring in rings {
        let mut d = String::new();
        for (i, pos) in ring.iter().enumerate() {
            let (x, y) = p.xy(pos[0], pos[1]);
            let _ = write!(d, "{}{x:.1},{y:.1} ", if i == 0 { "M" } else { "L" });
        }
        let _ = write!(out, "<path d=\"{d}Z\" fill=\"#dbe7f3\" stroke=\"#0b5cad\" stroke-width=\"1.5\"/>");
    }
    out
}

/// An SVG of `areas` (outlines) with `point` marked and `others` as small dots; `None`
/// when there is nothing to draw. Only numbers and `label` (escaped) enter the markup.
pub fn svg(point: Point, areas: &[&BoundaryFeature], others: &[Point], label: &str) -> Option<String> {
    let rings = rings(areas);
    // Without an outline, show some 400 m around the point.
    let (lo, hi) = if rings.is_empty() {
        let d = 0.002;
        ([point.lon - d, point.lat - d], [point.lon + d, point.lat + d])
    } else {
        bounds(&rings, &[point])?
    };
    let p = Projection::new(lo, hi);
    if !p.xy(point.lon, point.lat).0.is_finite() {
        return None;
    }
    let mut out = start(label, &rings, &p);
    for o in others {
        let (x, y) = p.xy(o.lon, o.lat);
        if (0.0..=WIDTH).contains(&x) && (0.0..=HEIGHT).contains(&y) {
            let _ = write!(out, "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"#8a5a00\"/>");
        }
    }
    let (x, y) = p.xy(point.lon, point.lat);
    let _ = write!(
        out,
        "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"7\" fill=\"#a4161a\" stroke=\"#fff\" stroke-width=\"2\"/></svg>"
    );
    Some(out)
}

/// A drawing of `point` (the report) and, numbered from 1, the `pins` near it (each a
/// position, an id and what a screen reader says of it), each pin a link to `#pick-ID`
/// (the choice in the list beside the map; the portal's script picks it on a click).
/// Shows at least 100 m around the point. Only numbers and escaped text enter it.
pub fn pins(point: Point, pins: &[(Point, String, String)], label: &str) -> Option<String> {
    let d = 0.0009;
    let mut lo = [point.lon - d, point.lat - d * 0.75];
    let mut hi = [point.lon + d, point.lat + d * 0.75];
    for (p, _, _) in pins {
        lo = [lo[0].min(p.lon), lo[1].min(p.lat)];
        hi = [hi[0].max(p.lon), hi[1].max(p.lat)];
    }
    let p = Projection::new(lo, hi);
    let (x, y) = p.xy(point.lon, point.lat);
    if !x.is_finite() || !y.is_finite() {
        return None;
    }
    let mut out = format!(
        "<svg class=\"map\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"group\" aria-label=\"{}\">\
         <rect width=\"{WIDTH}\" height=\"{HEIGHT}\" fill=\"#eef1f4\"/>",
        escape(label)
    );
    for (n, (at, id, said)) in (1..).zip(pins) {
        let (x, y) = p.xy(at.lon, at.lat);
        let _ = write!(
            out,
            "<a href=\"#pick-{id}\" data-asset=\"{id}\" aria-label=\"{said}\"><circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"11\" \
             fill=\"#0b5cad\" stroke=\"#fff\" stroke-width=\"2\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" \
             font-size=\"12\" font-weight=\"bold\" fill=\"#fff\">{n}</text></a>",
            y + 4.0,
            id = escape(id),
            said = escape(said),
        );
    }
    // The report's point last, on top of a pin that stands beside it.
    let _ = write!(
        out,
        "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"5\" fill=\"#a4161a\" stroke=\"#fff\" stroke-width=\"2\"/></svg>"
    );
    Some(out)
}

/// Size of a cluster cell, in drawing units.
const CELL: f64 = 24.0;

/// An SVG of `areas` with `points` gathered into clusters: every point within one
/// cell of a grid is one circle, labelled with how many it holds.
pub fn clusters(areas: &[&BoundaryFeature], points: &[Point], label: &str) -> Option<String> {
    let rings = rings(areas);
    let (lo, hi) = bounds(&rings, points)?;
    let p = Projection::new(lo, hi);
    let mut cells: std::collections::BTreeMap<(i64, i64), (usize, f64, f64)> = Default::default();
    for pt in points {
        let (x, y) = p.xy(pt.lon, pt.lat);
        if !x.is_finite() || !y.is_finite() {
            continue;
        }
        let cell = cells.entry(((x / CELL).floor() as i64, (y / CELL).floor() as i64)).or_default();
        *cell = (cell.0 + 1, cell.1 + x, cell.2 + y);
    }
    let mut out = start(label, &rings, &p);
    for (n, sx, sy) in cells.values() {
        let (x, y) = (sx / *n as f64, sy / *n as f64);
        if *n == 1 {
            let _ = write!(out, "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"#a4161a\"/>");
        } else {
            let r = 7.0 + (*n as f64).log10() * 4.0;
            let _ = write!(
                out,
                "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{r:.1}\" fill=\"#a4161a\" fill-opacity=\"0.85\"/>\
                 <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"9\" fill=\"#fff\">{n}</text>",
                y + 3.0
            );
        }
    }
    out.push_str("</svg>");
    Some(out)
}

/// An SVG of `areas` with squares shaded over them: each `(south-west corner as
/// longitude and latitude, side in degrees, strength 0 to 1, number)`, the number
/// written on it to match the table beneath. `None` when there is nothing to draw.
pub fn squares(areas: &[&BoundaryFeature], squares: &[([f64; 2], f64, f64, usize)], label: &str) -> Option<String> {
    let rings = rings(areas);
    let corners: Vec<Point> = squares
        .iter()
        .flat_map(|(c, side, ..)| [Point { lon: c[0], lat: c[1] }, Point { lon: c[0] + side, lat: c[1] + side }])
        .collect();
    let (lo, hi) = bounds(&rings, &corners)?;
    let p = Projection::new(lo, hi);
    let mut out = start(label, &rings, &p);
    for (corner, side, strength, n) in squares {
        let (x0, y0) = p.xy(corner[0], corner[1] + side);
        let (x1, y1) = p.xy(corner[0] + side, corner[1]);
        if !(x0.is_finite() && y0.is_finite() && x1.is_finite() && y1.is_finite()) {
            continue;
        }
        let (w, h) = ((x1 - x0).max(6.0), (y1 - y0).max(6.0));
        let _ = write!(
            out,
            "<rect x=\"{x0:.1}\" y=\"{y0:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"#a4161a\" \
             fill-opacity=\"{:.2}\" stroke=\"#a4161a\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" \
             font-size=\"10\" font-weight=\"bold\" fill=\"#1b1b1b\">{n}</text>",
            0.35 + 0.55 * strength.clamp(0.0, 1.0),
            x0 + w / 2.0,
            y0 - 2.0,
        );
    }
    out.push_str("</svg>");
    Some(out)
}

/// What `static/map.js` needs to draw clustered points over tiles, as JSON for a
/// `data-cluster` attribute.
pub fn cluster_data(tiles: &MapTiles, areas: &[&BoundaryFeature], points: &[Point]) -> String {
    serde_json::json!({
        "tiles": tiles.url,
        "attribution": tiles.attribution,
        "outline": outline(areas),
        "points": points.iter().map(|p| [p.lat, p.lon]).collect::<Vec<_>>(),
    })
    .to_string()
}

/// Outline rings as `[lat, lon]`, the order Leaflet takes.
fn outline(areas: &[&BoundaryFeature]) -> Vec<Vec<[f64; 2]>> {
    rings(areas).into_iter().map(|ring| ring.iter().map(|[lon, lat]| [*lat, *lon]).collect()).collect()
}

/// Text made safe inside SVG markup and its attributes.
pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// What `static/map.js` needs to draw the same map over tiles: the tile source, the
/// point, the outlines (rings of `[lat, lon]`) and the other points, as JSON for a
/// `data-map` attribute.
pub fn over_tiles(tiles: &MapTiles, point: Point, areas: &[&BoundaryFeature], others: &[Point]) -> String {
    let rings = outline(areas);
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

/// The middle of the city's outline layer, where a map to pick a location starts.
pub(crate) fn centre(city: &CityModel) -> Option<Point> {
    let layer = &city.settings.boundary_layer;
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for (a, b) in city.boundaries.features().iter().filter(|f| &f.layer == layer).map(|f| f.bbox()) {
        for i in 0..2 {
            lo[i] = lo[i].min(a[i]);
            hi[i] = hi[i].max(b[i]);
        }
    }
    Point::new((lo[1] + hi[1]) / 2.0, (lo[0] + hi[0]) / 2.0).ok()
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

    #[test]
    fn points_close_together_are_one_cluster_with_their_count() {
        let p = |lat, lon| Point::new(lat, lon).expect("point");
        let near: Vec<Point> = (0..12).map(|i| p(41.0 + f64::from(i) * 1e-5, -88.0)).collect();
        let all: Vec<Point> = near.iter().copied().chain([p(41.5, -88.5)]).collect();
        let out = clusters(&[], &all, "13 requests").expect("a map");
        assert!(out.contains(">12</text>"), "{out}");
        assert_eq!(out.matches("<circle").count(), 2, "{out}");
        assert!(clusters(&[], &[], "none").is_none());
    }
}
