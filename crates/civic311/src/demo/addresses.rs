//! Riverton's address points, generated: a grid of numbered streets running east–west
//! and named avenues running north–south (named after the neighbourhoods they cross
//! and the trees, rivers and founders a prairie town names its streets after), with
//! houses on both sides of every street, numbered 100 a block from the west (odd on the
//! south side, even on the north), each with the ZIP code of the zipcodes layer it lies
//! in. The streets' centrelines carry the same numbering as ranges, and the streets
//! carry the city's assets: a light mid-block, hydrants and signals at corners, trees
//! along the avenues. Deterministic: the same layers on every run.

use civic311_domain::address::{AddressPoint, HouseRange, StreetSegment, ordinal};
use civic311_domain::asset::Asset;
use civic311_domain::geo::{BoundaryIndex, Point};

/// North–south avenues, west to east.
const AVENUES: [&str; 42] = [
    "Prairie View",
    "Cedar",
    "Northgate",
    "Elm",
    "Meadowbrook",
    "Willow",
    "Foundry",
    "Aspen",
    "Brickworks",
    "Maple",
    "College",
    "Oak",
    "Market",
    "Birch",
    "Union",
    "Walnut",
    "Lakeside",
    "Spruce",
    "Riverside",
    "Cottonwood",
    "Mill",
    "Juniper",
    "Fairview",
    "Sycamore",
    "Granite",
    "Hawthorn",
    "Pioneer",
    "Linden",
    "Summit",
    "Alder",
    "Founders",
    "Chestnut",
    "Harvest",
    "Poplar",
    "Railroad",
    "Hickory",
    "Canal",
    "Sage",
    "Depot",
    "Larch",
    "Bluestem",
    "Kestrel",
];

/// Houses on each side of a street, per block.
const HOUSES_PER_SIDE: u32 = 6;
/// Degrees between east–west streets (about 200 m).
const STREET_STEP: f64 = 0.0018;
/// Where the city's grid starts and ends (its wards cover this rectangle).
const WEST: f64 = -104.7;
const EAST: f64 = -104.5;
const SOUTH: f64 = 40.1;
const NORTH: f64 = 40.3;
/// How far a house stands from the street's centreline, in degrees of latitude (~20 m).
const SETBACK: f64 = 0.00018;

/// Every address point of the demo city, inside `outline` (its wards), with the ZIP
/// code `zipcodes` gives it.
pub fn points(outline: &BoundaryIndex, zipcodes: &BoundaryIndex) -> Vec<AddressPoint> {
    let block_width = (EAST - WEST) / AVENUES.len() as f64;
    let streets = ((NORTH - SOUTH) / STREET_STEP) as u32;
    let mut out = Vec::new();
    for s in 1..streets {
        let lat = SOUTH + f64::from(s) * STREET_STEP;
        let street = format!("{} Street", ordinal(s));
        for (block, avenue_west) in (0u32..).zip(AVENUES) {
            let west_edge = WEST + f64::from(block) * block_width;
            for k in 0..HOUSES_PER_SIDE {
                let along = west_edge + block_width * (f64::from(k) + 0.5) / f64::from(HOUSES_PER_SIDE);
                for (side, offset) in [(1u32, -SETBACK), (0, SETBACK)] {
                    let number = 100 * (block + 1) + 2 * k + side;
                    let Ok(point) = Point::new(round6(lat + offset), round6(along)) else { continue };
                    if outline.locate(&point).is_empty() {
                        continue;
                    }
                    let postcode = zipcodes.locate(&point).into_values().next();
                    out.push(AddressPoint {
                        id: format!("rv-{s}-{number}"),
                        number: number.to_string(),
                        street: street.clone(),
                        unit: None,
                        city: Some("Riverton".into()),
                        postcode,
                        point,
                    });
                }
            }
            // Corner houses face the avenue: a few addresses on every avenue too.
            if s % 2 == 0 {
                let number = 100 * s + 1;
                let Ok(point) = Point::new(round6(lat + STREET_STEP / 2.0), round6(west_edge + SETBACK)) else {
                    continue;
                };
                if outline.locate(&point).is_empty() {
                    continue;
                }
                out.push(AddressPoint {
                    id: format!("rv-{avenue_west}-{number}"),
                    number: number.to_string(),
                    street: format!("{avenue_west} Avenue"),
                    unit: None,
                    city: Some("Riverton".into()),
                    postcode: zipcodes.locate(&point).into_values().next(),
                    point,
                });
            }
        }
    }
    out
}

/// The grid's west edge of block `b` (where avenue `b` runs) and the latitude of
/// numbered street `s` (0 is the city's south edge).
fn grid(b: u32, s: u32) -> [f64; 2] {
    let block_width = (EAST - WEST) / AVENUES.len() as f64;
    [round6(WEST + f64::from(b) * block_width), round6(SOUTH + f64::from(s) * STREET_STEP)]
}

/// How many numbered streets the grid has (plus one: the south edge is street 0).
fn street_count() -> u32 {
    ((NORTH - SOUTH) / STREET_STEP) as u32
}

/// True when the middle of `a`–`b` lies in the city.
fn in_city(outline: &BoundaryIndex, a: [f64; 2], b: [f64; 2]) -> bool {
    Point::new((a[1] + b[1]) / 2.0, (a[0] + b[0]) / 2.0).is_ok_and(|p| !outline.locate(&p).is_empty())
}

/// One block-long segment from `a` to `b`: its left side numbered from `first` (even),
/// its right from `first + 1` (odd), up to the next hundred.
fn block(id: String, name: String, a: [f64; 2], b: [f64; 2], first: u32) -> StreetSegment {
    StreetSegment {
        id,
        name,
        lines: vec![vec![a, b]],
        left: Some(HouseRange { from: first, to: first + 98 }),
        right: Some(HouseRange { from: first + 1, to: first + 99 }),
    }
}

/// The centrelines of the grid, a segment a block, inside `outline`. Streets run west
/// to east (even numbers on the left, the north side), avenues south to north (even
/// on the left, the west side), numbered as the address points are.
pub fn streets(outline: &BoundaryIndex) -> Vec<StreetSegment> {
    let mut out = Vec::new();
    let avenues = u32::try_from(AVENUES.len()).unwrap_or(0);
    for s in 1..street_count() {
        for b in 0..avenues {
            let (a, e) = (grid(b, s), grid(b + 1, s));
            if in_city(outline, a, e) {
                out.push(block(format!("st-{s}-{b}"), format!("{} Street", ordinal(s)), a, e, 100 * (b + 1)));
            }
        }
    }
    for (b, avenue) in (0..avenues).zip(AVENUES) {
        for s in 0..street_count() {
            let (a, e) = (grid(b, s), grid(b, s + 1));
            if in_city(outline, a, e) {
                out.push(block(format!("av-{b}-{s}"), format!("{avenue} Avenue"), a, e, 100 * s));
            }
        }
    }
    out
}

/// An asset of the demo city at `[lon, lat]`.
fn asset(kind: &str, id: String, name: String, at: [f64; 2]) -> Option<Asset> {
    let point = Point::new(round6(at[1]), round6(at[0])).ok()?;
    Some(Asset { kind: kind.into(), id, name: Some(name), point, line: Vec::new(), properties: Default::default() })
}

/// The demo city's assets inside `outline`: a streetlight mid-block on every street,
/// a hydrant at every other corner, signals where the main streets cross, and trees
/// along the avenues.
pub fn assets(outline: &BoundaryIndex) -> Vec<Asset> {
    let mut out = Vec::new();
    let avenues = u32::try_from(AVENUES.len()).unwrap_or(0);
    let inside = |at: [f64; 2]| Point::new(at[1], at[0]).is_ok_and(|p| !outline.locate(&p).is_empty());
    for s in 1..street_count() {
        let street = format!("{} St", ordinal(s));
        for (b, avenue) in (0..avenues).zip(AVENUES) {
            let [west, lat] = grid(b, s);
            let east = grid(b + 1, s)[0];
            let light = [(west + east) / 2.0, lat + SETBACK / 2.0];
            if inside(light) {
                let name = format!("Light by {} {street}", 100 * (b + 1) + 6);
                out.extend(asset("streetlight", format!("SL-{s:03}-{b:02}"), name, light));
            }
            let corner = [west + SETBACK / 2.0, lat + SETBACK / 2.0];
            if !inside(corner) {
                continue;
            }
            if (s + b) % 2 == 0 {
                let name = format!("Hydrant at {street} & {avenue} Ave");
                out.extend(asset("hydrant", format!("HY-{s:03}-{b:02}"), name, corner));
            }
            if s % 10 == 0 && b % 6 == 0 {
                let name = format!("Signal at {street} & {avenue} Ave");
                out.extend(asset("traffic_signal", format!("TS-{s:03}-{b:02}"), name, grid(b, s)));
            }
            let tree = [west - SETBACK / 2.0, lat + STREET_STEP / 2.0];
            if s % 3 == 0 && inside(tree) {
                let name = format!("Tree by {} {avenue} Ave", 100 * s + 50);
                out.extend(asset("tree", format!("TR-{s:03}-{b:02}"), name, tree));
            }
        }
    }
    out
}

fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}
