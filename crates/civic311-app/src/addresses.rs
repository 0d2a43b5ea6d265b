//! The city's address layer: read from a GeoJSON file of points or a CSV in the
//! OpenAddresses column layout, checked row by row, and imported as one audited
//! configuration change that replaces the layer whole. Importing the same points again
//! changes nothing.

use civic311_domain::address::AddressPoint;
use civic311_domain::geo::Point;
use serde_json::Value;

use crate::layers::{FileBytes, Rows, Scanned};

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
    if id.chars().count() > 100 || unit.as_ref().is_some_and(|u| u.chars().count() > 100) {
        return Err("ID, HASH or UNIT is longer than 100 characters".into());
    }
    Ok(AddressPoint { id, number, street, unit, city: clean(&f.city), postcode: clean(&f.postcode), point })
}

/// Reads an address file through once. Rows that fail are listed in
/// [`Scanned::bad`]; a file that cannot be read at all (not GeoJSON, no header) is an
/// error. The points are read from the file again when they are written.
pub fn scan(format: Format, bytes: FileBytes) -> Result<Scanned<AddressPoint>, String> {
    let rows = match format {
        Format::Csv => csv_rows,
        Format::GeoJson => geojson_rows,
    };
    crate::layers::scan(bytes, rows, |p| p.id.as_str())
}

fn csv_rows(bytes: &FileBytes) -> Result<Rows<AddressPoint>, String> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(std::io::Cursor::new(bytes.clone()));
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
    Ok(Box::new(reader.into_records().map(move |record| {
        let record = match record {
            Ok(r) => r,
            Err(e) => return (e.position().map_or(0, csv::Position::line), Err(format!("unreadable: {e}"))),
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
        (line, point_of(fields))
    })))
}

fn geojson_rows(bytes: &FileBytes) -> Result<Rows<AddressPoint>, String> {
    crate::layers::feature_rows(bytes, |_, text| {
        let feature: Value = serde_json::from_slice(text).map_err(|e| format!("not a GeoJSON Feature: {e}"))?;
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
            return Err("the geometry is not a Point".into());
        }
        let coords = geometry.and_then(|g| g.get("coordinates")).and_then(Value::as_array);
        let at = |i: usize| coords.and_then(|c| c.get(i)).map(|v| v.to_string()).unwrap_or_default();
        let id = feature.get("id").map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned));
        point_of(Fields {
            lon: at(0),
            lat: at(1),
            number: prop("number"),
            street: prop("street"),
            unit: prop("unit"),
            city: prop("city"),
            postcode: prop("postcode"),
            id: Some(prop("id")).filter(|s| !s.is_empty()).or(id).unwrap_or_default(),
            hash: prop("hash"),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(rows: &[&str]) -> FileBytes {
        FileBytes::from(format!("LON,LAT,NUMBER,STREET,ID\n{}\n", rows.join("\n")).into_bytes())
    }

    #[test]
    fn a_file_is_checked_once_and_its_good_rows_read_again_each_time_they_are_asked_for() {
        let file = csv(&[
            "-104.6,40.1,120,Oak St,a",
            "-104.6,north,122,Oak St,b",
            "-104.6,40.1,124,Oak St,a",
            "-104.6,40.1,126,Oak St,c",
        ]);
        let scanned = scan(Format::Csv, file).expect("a CSV with a header");
        assert_eq!((scanned.count, scanned.refused), (2, 2));
        let lines: Vec<u64> = scanned.bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, [3, 4]);
        assert!(scanned.bad[1].reason.contains("twice"), "{:?}", scanned.bad);
        for _ in 0..2 {
            let ids: Vec<String> = scanned.rows.rows().map(|p| p.id).collect();
            assert_eq!(ids, ["a", "c"], "the first of a repeated id is kept, and only the good rows");
        }
    }

    #[test]
    fn the_same_points_in_another_order_or_format_have_the_same_digest() {
        let one = scan(Format::Csv, csv(&["-104.6,40.1,120,Oak St,a", "-104.7,40.2,5,Elm St,b"])).expect("csv");
        let other = scan(Format::Csv, csv(&["-104.7,40.2,5,Elm St,b", "-104.6,40.1,120,Oak St,a"])).expect("csv");
        let changed = scan(Format::Csv, csv(&["-104.7,40.2,7,Elm St,b", "-104.6,40.1,120,Oak St,a"])).expect("csv");
        let geojson = br#"{"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"number": "5", "street": "Elm St", "id": "b"}, "geometry": {"type": "Point", "coordinates": [-104.7, 40.2]}},
            {"type": "Feature", "properties": {"number": 120, "street": "Oak St", "id": "a"}, "geometry": {"type": "Point", "coordinates": [-104.6, 40.1]}},
            {"type": "Feature", "properties": {"number": 1}, "geometry": {"type": "LineString", "coordinates": []}}
        ]}"#;
        let geojson = scan(Format::GeoJson, FileBytes::from(geojson.to_vec())).expect("geojson");
        assert_eq!(one.digest, other.digest);
        assert_eq!(one.digest, geojson.digest);
        assert_ne!(one.digest, changed.digest);
        assert_eq!(geojson.bad.iter().map(|b| b.line).collect::<Vec<_>>(), [3]);
        assert_eq!(one.digest, crate::layers::digest(&one.rows.rows().collect::<Vec<_>>()));
        assert!(scan(Format::GeoJson, FileBytes::from(b"{\"features\": 3}".to_vec())).is_err());
        assert!(scan(Format::GeoJson, FileBytes::from(b"{\"features\": [".to_vec())).is_err());
    }
}
