//! Riverton's address points, generated: a grid of numbered streets running east–west
//! and named avenues running north–south (named after the neighbourhoods they cross
//! and the trees, rivers and founders a prairie town names its streets after), with
//! houses on both sides of every street, numbered 100 a block from the west (odd on the
//! south side, even on the north), each with the ZIP code of the zipcodes layer it lies
//! in. Deterministic: the same layer on every run.

use civic311_domain::address::{AddressPoint, ordinal};
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

fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}
