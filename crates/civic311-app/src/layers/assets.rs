//! An asset file: a GeoJSON FeatureCollection of one type of asset (streetlights,
//! hydrants…), Points or LineStrings, each with the city's id and whatever properties
//! the city keeps.

use civic311_domain::asset::Asset;
use civic311_domain::geo::Point;
use geojson::GeometryValue;

use super::{FileBytes, Read, Scanned, feature_id, geojson_rows, line, position, property, scan as scan_rows};

/// The properties an asset's id is read from when the feature has no `id`.
const ID: &[&str] = &["asset_id", "id", "objectid", "facilityid"];
/// The properties its name is read from.
const NAME: &[&str] = &["name", "label"];
/// The most characters an asset type may have.
const MAX_TYPE: usize = 40;

/// An asset type is a short code: lower-case letters, digits, `-` and `_`.
pub fn check_kind(kind: &str) -> Result<(), String> {
    let ok = !kind.is_empty()
        && kind.len() <= MAX_TYPE
        && kind.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!("the asset type '{kind}' must be up to {MAX_TYPE} lower-case letters, digits, - or _"))
    }
}

/// Reads an asset file of type `kind` through once. Features that fail are listed in
/// [`Scanned::bad`]; a file that is not a FeatureCollection is an error.
pub fn scan(kind: &str, bytes: FileBytes) -> Result<Scanned<Asset>, String> {
    check_kind(kind)?;
    let kind = kind.to_owned();
    scan_rows(
        bytes,
        move |bytes| {
            geojson_rows(bytes, {
                let kind = kind.clone();
                move |_, f| asset(&kind, f)
            })
        },
        |a| a.id.as_str(),
    )
}

/// Reads an asset file whole (see [`scan`]).
pub fn read(kind: &str, bytes: &[u8]) -> Result<Read<Asset>, String> {
    scan(kind, FileBytes::from(bytes.to_vec())).map(Scanned::read)
}

fn asset(kind: &str, f: geojson::Feature) -> Result<Asset, String> {
    let (point, line) = match f.geometry.as_ref().map(|g| &g.value) {
        Some(GeometryValue::Point { coordinates }) => (position(coordinates)?, Vec::new()),
        Some(GeometryValue::LineString { coordinates }) => {
            let line = line(coordinates)?;
            (line[line.len() / 2], line)
        }
        _ => return Err("the geometry is not a Point or a LineString".into()),
    };
    let id = feature_id(&f).or_else(|| property(&f, ID)).ok_or("no asset id (an asset_id or id property)")?;
    if id.chars().count() > 60 {
        return Err("the asset id is longer than 60 characters".into());
    }
    let name = property(&f, NAME).filter(|n| n.chars().count() <= 100);
    let mut properties = f.properties.clone().unwrap_or_default();
    properties.retain(|k, _| !ID.iter().chain(NAME).any(|n| k.eq_ignore_ascii_case(n)));
    let point = Point::new(point[1], point[0]).map_err(|e| e.detail)?;
    Ok(Asset { kind: kind.to_owned(), id, name, point, line, properties })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_are_read_with_their_ids_and_properties() {
        let file = br#"{"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"asset_id": "SL-1", "name": "Pole 1", "wattage": 150},
             "geometry": {"type": "Point", "coordinates": [-104.6, 40.1]}},
            {"type": "Feature", "id": 7, "properties": {},
             "geometry": {"type": "LineString", "coordinates": [[-104.6, 40.1], [-104.6, 40.2], [-104.6, 40.3]]}},
            {"type": "Feature", "properties": {"name": "no id"}, "geometry": {"type": "Point", "coordinates": [-104.6, 40.1]}},
            {"type": "Feature", "properties": {"id": "P"}, "geometry": {"type": "Polygon", "coordinates": []}}
        ]}"#;
        let read = read("streetlight", file).expect("a feature collection");
        assert_eq!(read.rows.len(), 2);
        assert_eq!((read.rows[0].id.as_str(), read.rows[0].name.as_deref()), ("SL-1", Some("Pole 1")));
        assert_eq!(read.rows[0].properties.get("wattage"), Some(&serde_json::json!(150)));
        assert!(!read.rows[0].properties.contains_key("asset_id"));
        assert_eq!(read.rows[1].id, "7");
        assert!((read.rows[1].point.lat - 40.2).abs() < 1e-9, "a line stands at its middle position");
        assert_eq!(read.bad.iter().map(|b| b.line).collect::<Vec<_>>(), [3, 4]);
        assert!(super::read("Street Lights", file).is_err(), "not a type code");
    }
}
