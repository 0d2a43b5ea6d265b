//! The city's address layer: read from a GeoJSON file of points or a CSV in the
//! OpenAddresses column layout, checked row by row, and imported as one audited
//! configuration change that replaces the layer whole. Importing the same points again
//! changes nothing.

use std::collections::HashSet;

use civic311_domain::address::AddressPoint;
use civic311_domain::geo::Point;
use serde_json::Value;

/// The formats an address file may come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A FeatureCollection of Points with OpenAddresses properties.
    GeoJson,
    /// OpenAddresses CSV: LON, LAT, NUMBER, STREET, UNIT, CITY, DISTRICT, REGION,
    /// POSTCODE, ID, HASH (a header row; columns in any order, any case).
    Csv,
}

impl Format {
    /// The format a file name says (`.geojson`/`.json`, `.csv`).
    pub fn of(name: &str) -> Option<Self> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".geojson") || lower.ends_with(".json") {
            Some(Self::GeoJson)
        } else if lower.ends_with(".csv") {
            Some(Self::Csv)
        } else {
            None
        }
    }
}

/// What an address file held.
pub type Read = crate::layers::Read<AddressPoint>;

/// The fields of one row, as text, before checking.
#[derive(Default)]
struct Fields {
    lon: String,
    lat: String,
    number: String,
    street: String,
    unit: String,
    city: String,
    postcode: String,
    id: String,
    hash: String,
}

/// Checks one row; the point, or why not.
fn point_of(f: Fields) -> Result<AddressPoint, String> {
    let coordinate = |s: &str, name: &str| {
        s.trim().parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| format!("{name} '{s}' is not a number"))
    };
    let (lon, lat) = (coordinate(&f.lon, "LON")?, coordinate(&f.lat, "LAT")?);
    let point = Point::new(lat, lon).map_err(|e| e.detail)?;
    let clean = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_owned);
    let number = clean(&f.number).ok_or("no house number (NUMBER)")?;
    let street = clean(&f.street).ok_or("no street (STREET)")?;
    for (name, v) in [("NUMBER", &number), ("STREET", &street)] {
        if v.chars().count() > 100 {
            return Err(format!("{name} is longer than 100 characters"));
        }
    }
    let unit = clean(&f.unit);
    let id = clean(&f.id).or_else(|| clean(&f.hash)).unwrap_or_else(|| {
        let key = format!("{number} {street} {}", unit.as_deref().unwrap_or(""));
        civic311_domain::address::normalize_street(&key)
    });
    Ok(AddressPoint { id, number, street, unit, city: clean(&f.city), postcode: clean(&f.postcode), point })
}

/// Adds the row at `line` to `read`, or reports it; a second row with an id already
/// seen is reported too.
fn take(read: &mut Read, line: u64, fields: Fields, seen: &mut HashSet<String>) {
    match point_of(fields) {
        Ok(p) => {
            let id = p.id.clone();
            read.keep(line, &id, p, seen);
        }
        Err(reason) => read.refuse(line, reason),
    }
}

/// Reads an address file. Rows that fail are listed in [`Read::bad`]; a file that
/// cannot be read at all (not GeoJSON, no header) is an error.
pub fn read(format: Format, bytes: &[u8]) -> Result<Read, String> {
    match format {
        Format::Csv => read_csv(bytes),
        Format::GeoJson => read_geojson(bytes),
    }
}

fn read_csv(bytes: &[u8]) -> Result<Read, String> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| format!("no header row: {e}"))?
        .iter()
        .map(|h| h.trim().to_ascii_uppercase())
        .collect();
    let column = |name: &str| header.iter().position(|h| h == name);
    let (Some(lon), Some(lat), Some(number), Some(street)) =
        (column("LON"), column("LAT"), column("NUMBER"), column("STREET"))
    else {
        return Err("the header must name LON, LAT, NUMBER and STREET (the OpenAddresses columns)".into());
    };
    let optional = ["UNIT", "CITY", "POSTCODE", "ID", "HASH"].map(column);
    // Sized once from the line count: growing a list of a million points doubles it
    // in memory while it is copied.
    let lines = bytes.iter().filter(|b| **b == b'\n').count();
    let mut out = Read { rows: Vec::with_capacity(lines), ..Read::default() };
    let mut seen = HashSet::with_capacity(lines);
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                out.refuse(line, format!("unreadable: {e}"));
                continue;
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        let get = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("").to_owned();
        let fields = Fields {
            lon: get(Some(lon)),
            lat: get(Some(lat)),
            number: get(Some(number)),
            street: get(Some(street)),
            unit: get(optional[0]),
            city: get(optional[1]),
            postcode: get(optional[2]),
            id: get(optional[3]),
            hash: get(optional[4]),
        };
        take(&mut out, line, fields, &mut seen);
    }
    Ok(out)
}

fn read_geojson(bytes: &[u8]) -> Result<Read, String> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let Some(features) = doc.get("features").and_then(Value::as_array) else {
        return Err("not a GeoJSON FeatureCollection (no \"features\" list)".into());
    };
    let mut out = Read::default();
    let mut seen = HashSet::new();
    for (n, feature) in (1u64..).zip(features) {
        let props = feature.get("properties").and_then(Value::as_object);
        // OpenAddresses writes its properties in lower case; accept either.
        let prop = |name: &str| {
            props
                .and_then(|p| p.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
                .map(|(_, v)| match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => String::new(),
                })
                .unwrap_or_default()
        };
        let geometry = feature.get("geometry");
        if geometry.and_then(|g| g.get("type")).and_then(Value::as_str) != Some("Point") {
            out.refuse(n, "the geometry is not a Point");
            continue;
        }
        let coords = geometry.and_then(|g| g.get("coordinates")).and_then(Value::as_array);
        let at = |i: usize| coords.and_then(|c| c.get(i)).map(|v| v.to_string()).unwrap_or_default();
        let id = feature.get("id").map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned));
        let fields = Fields {
            lon: at(0),
            lat: at(1),
            number: prop("number"),
            street: prop("street"),
            unit: prop("unit"),
            city: prop("city"),
            postcode: prop("postcode"),
            id: Some(prop("id")).filter(|s| !s.is_empty()).or(id).unwrap_or_default(),
            hash: prop("hash"),
        };
        take(&mut out, n, fields, &mut seen);
    }
    Ok(out)
}

/// A digest of the points: the same points, in any order, give the same digest.
pub fn digest(points: &[AddressPoint]) -> String {
    crate::layers::digest(points, |p| p.id.as_str())
}
