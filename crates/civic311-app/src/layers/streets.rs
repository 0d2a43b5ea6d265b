//! A street centreline file: a GeoJSON FeatureCollection of LineStrings or
//! MultiLineStrings, each with a street name and, where the city has them, the house
//! numbers each side spans.

use civic311_domain::address::{HouseRange, StreetSegment};
use geojson::GeometryValue;

use super::{FileBytes, Read, Scanned, feature_id, geojson_rows, line, property, scan as scan_rows};

/// The properties a street's name is read from, in order.
const NAME: &[&str] = &["name", "street", "fullname", "full_name", "st_name"];
/// The properties each end of each side's range is read from: ours, then the TIGER
/// names (`LFROMADD` in older files, `LFROMHN` in newer).
const LEFT_FROM: &[&str] = &["left_from", "lfromadd", "lfromhn", "l_f_add"];
const LEFT_TO: &[&str] = &["left_to", "ltoadd", "ltohn", "l_t_add"];
const RIGHT_FROM: &[&str] = &["right_from", "rfromadd", "rfromhn", "r_f_add"];
const RIGHT_TO: &[&str] = &["right_to", "rtoadd", "rtohn", "r_t_add"];
/// The properties a segment's id is read from when the feature has no `id`.
const ID: &[&str] = &["id", "segment_id", "tlid", "objectid"];

/// Reads a centreline file through once. Features that fail are listed in
/// [`Scanned::bad`]; a file that is not a FeatureCollection is an error.
pub fn scan(bytes: FileBytes) -> Result<Scanned<StreetSegment>, String> {
    scan_rows(bytes, |bytes| geojson_rows(bytes, segment), |s| s.id.as_str())
}

/// Reads a centreline file whole (see [`scan`]).
pub fn read(bytes: &[u8]) -> Result<Read<StreetSegment>, String> {
    scan(FileBytes::from(bytes.to_vec())).map(Scanned::read)
}

/// Checks the feature numbered `n`.
fn segment(n: u64, f: geojson::Feature) -> Result<StreetSegment, String> {
    let lines = match f.geometry.as_ref().map(|g| &g.value) {
        Some(GeometryValue::LineString { coordinates }) => vec![line(coordinates)?],
        Some(GeometryValue::MultiLineString { coordinates }) => {
            coordinates.iter().map(|l| line(l)).collect::<Result<Vec<_>, _>>()?
        }
        _ => return Err("the geometry is not a LineString or MultiLineString".into()),
    };
    let name = property(&f, NAME).ok_or("no street name (a name property)")?;
    if name.chars().count() > 100 {
        return Err("the street name is longer than 100 characters".into());
    }
    let id = feature_id(&f).or_else(|| property(&f, ID)).unwrap_or_else(|| format!("line-{n}"));
    let left = range(&f, "left", LEFT_FROM, LEFT_TO)?;
    let right = range(&f, "right", RIGHT_FROM, RIGHT_TO)?;
    Ok(StreetSegment { id, name, lines, left, right })
}

/// One side's range: both ends, or neither.
fn range(f: &geojson::Feature, side: &str, from: &[&str], to: &[&str]) -> Result<Option<HouseRange>, String> {
    let number = |names: &[&str]| -> Result<Option<u32>, String> {
        property(f, names)
            .map(|v| v.parse::<u32>().map_err(|_| format!("the {side} range has '{v}', not a house number")))
            .transpose()
    };
    match (number(from)?, number(to)?) {
        (Some(from), Some(to)) => Ok(Some(HouseRange { from, to })),
        (None, None) => Ok(None),
        _ => Err(format!("the {side} range needs both its first and its last number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centrelines_are_read_with_their_ranges_and_bad_features_reported_by_number() {
        let file = br#"{"type": "FeatureCollection", "features": [
            {"type": "Feature", "id": "s1", "properties": {"NAME": "Oak Street", "LFROMADD": "101", "LTOADD": 199, "RFROMADD": 100, "RTOADD": 198},
             "geometry": {"type": "LineString", "coordinates": [[-104.6, 40.1], [-104.6, 40.2]]}},
            {"type": "Feature", "properties": {"name": "Elm Street"},
             "geometry": {"type": "MultiLineString", "coordinates": [[[-104.6, 40.1], [-104.5, 40.1]], [[-104.5, 40.1], [-104.4, 40.1]]]}},
            {"type": "Feature", "properties": {"name": "Nowhere Rd"}, "geometry": {"type": "Point", "coordinates": [-104.6, 40.1]}},
            {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [[-104.6, 40.1], [-104.5, 40.1]]}},
            {"type": "Feature", "properties": {"name": "Ash St", "left_from": 1}, "geometry": {"type": "LineString", "coordinates": [[-104.6, 40.1], [-104.5, 40.1]]}},
            {"type": "Feature", "properties": {"name": "Ash St"}, "geometry": {"type": "LineString", "coordinates": [[-104.6, 95.0], [-104.5, 40.1]]}},
            {"type": "Feature", "id": "s1", "properties": {"name": "Ash St"}, "geometry": {"type": "LineString", "coordinates": [[-104.6, 40.1], [-104.5, 40.1]]}}
        ]}"#;
        let read = read(file).expect("a feature collection");
        assert_eq!(read.rows.len(), 2);
        assert_eq!(read.rows[0].left, Some(HouseRange { from: 101, to: 199 }));
        assert_eq!(read.rows[1].lines.len(), 2);
        assert_eq!(read.rows[1].id, "line-2");
        let lines: Vec<u64> = read.bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, [3, 4, 5, 6, 7], "{:?}", read.bad);
        assert!(read.bad[0].reason.contains("LineString"));
        assert!(read.bad[1].reason.contains("name"));
        assert!(read.bad[2].reason.contains("left range"));
        assert!(read.bad[3].reason.contains("latitude"));
        assert!(read.bad[4].reason.contains("twice"));
        assert!(super::read(b"[1, 2]").is_err());
    }
}
