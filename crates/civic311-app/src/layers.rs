//! The city's GIS layers as files (address points, street centrelines, assets): rows
//! read and checked one at a time, bad ones reported by line or feature with the
//! reason, and a digest that names what was read, so that importing the same file
//! again changes nothing.

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub mod assets;
pub mod streets;

/// A row a file could not give, and why: `line` is the CSV line, or the number of the
/// feature (from 1) in a GeoJSON file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    pub line: u64,
    pub reason: String,
}

impl std::fmt::Display for BadRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.line, self.reason)
    }
}

/// What a file held: the rows that passed, and those that did not.
#[derive(Debug)]
pub struct Read<T> {
    pub rows: Vec<T>,
    /// The first bad rows (up to a thousand), with their reasons.
    pub bad: Vec<BadRow>,
    /// How many rows were bad in all.
    pub refused: usize,
}

impl<T> Default for Read<T> {
    fn default() -> Self {
        Self { rows: Vec::new(), bad: Vec::new(), refused: 0 }
    }
}

/// The most bad rows kept to report; the count goes on beyond it.
const REPORTED: usize = 1000;

impl<T> Read<T> {
    pub(crate) fn refuse(&mut self, line: u64, reason: impl Into<String>) {
        if self.bad.len() < REPORTED {
            self.bad.push(BadRow { line, reason: reason.into() });
        }
        self.refused += 1;
    }

    /// Keeps `row` unless its `id` came earlier in the file (then reports it).
    pub(crate) fn keep(&mut self, line: u64, id: &str, row: T, seen: &mut std::collections::HashSet<String>) {
        if seen.insert(id.to_owned()) {
            self.rows.push(row);
        } else {
            self.refuse(line, format!("the id {id} appears twice"));
        }
    }
}

/// A digest of `rows`: the same rows, in any order, give the same digest.
pub fn digest<T: Serialize>(rows: &[T], id: impl Fn(&T) -> &str) -> String {
    let mut sorted: Vec<&T> = rows.iter().collect();
    sorted.sort_by(|a, b| id(a).cmp(id(b)));
    let mut hash = Sha256::new();
    for row in sorted {
        hash.update(serde_json::to_vec(row).unwrap_or_default());
        hash.update(b"\n");
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads a GeoJSON FeatureCollection, checking each feature with `check` and keeping
/// those that pass unless their `id` came earlier. A file that is not a
/// FeatureCollection is an error.
pub(crate) fn read_features<T>(
    bytes: &[u8],
    check: impl Fn(u64, geojson::Feature) -> Result<T, String>,
    id: impl Fn(&T) -> String,
) -> Result<Read<T>, String> {
    let mut doc: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let Some(Value::Array(features)) = doc.get_mut("features").map(Value::take) else {
        return Err("not a GeoJSON FeatureCollection (no \"features\" list)".into());
    };
    let mut out = Read::default();
    let mut seen = std::collections::HashSet::new();
    for (n, value) in (1u64..).zip(features) {
        let checked =
            serde_json::from_value(value).map_err(|e| format!("not a GeoJSON Feature: {e}")).and_then(|f| check(n, f));
        match checked {
            Ok(row) => {
                let key = id(&row);
                out.keep(n, &key, row, &mut seen);
            }
            Err(reason) => out.refuse(n, reason),
        }
    }
    Ok(out)
}

/// A feature's property `name` in any case, as text (numbers too); `None` when absent
/// or empty.
pub(crate) fn property(feature: &geojson::Feature, names: &[&str]) -> Option<String> {
    let props = feature.properties.as_ref()?;
    names.iter().find_map(|name| {
        let (_, v) = props.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))?;
        let text = match v {
            Value::String(s) => s.trim().to_owned(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        (!text.is_empty()).then_some(text)
    })
}

/// A feature's own id (the GeoJSON `id` member), as text.
pub(crate) fn feature_id(feature: &geojson::Feature) -> Option<String> {
    match feature.id.as_ref()? {
        geojson::feature::Id::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        geojson::feature::Id::Number(n) => Some(n.to_string()),
    }
}

/// A GeoJSON position as `[lon, lat]`, checked to lie on the Earth.
pub(crate) fn position(p: &geojson::Position) -> Result<[f64; 2], String> {
    let (Some(lon), Some(lat)) = (p.as_slice().first().copied(), p.as_slice().get(1).copied()) else {
        return Err("a position needs a longitude and a latitude".into());
    };
    civic311_domain::geo::Point::new(lat, lon).map_err(|e| e.detail)?;
    Ok([lon, lat])
}

/// A line's positions, checked: at least two, each on the Earth.
pub(crate) fn line(positions: &[geojson::Position]) -> Result<Vec<[f64; 2]>, String> {
    if positions.len() < 2 {
        return Err("a line needs at least two positions".into());
    }
    positions.iter().map(position).collect()
}

/// A GIS layer to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layer {
    /// Address points, in this format.
    Addresses(crate::addresses::Format),
    /// Street centrelines (GeoJSON).
    Streets,
    /// Assets of this type (GeoJSON).
    Assets(String),
}

impl Layer {
    /// What its rows are called: `address points`, `street segments`, `hydrant assets`.
    pub fn rows(&self) -> String {
        match self {
            Layer::Addresses(_) => "address points".into(),
            Layer::Streets => "street segments".into(),
            Layer::Assets(kind) => format!("{kind} assets"),
        }
    }

    /// What a bad row's number counts: CSV lines, or GeoJSON features.
    pub fn place(&self) -> &'static str {
        if *self == Layer::Addresses(crate::addresses::Format::Csv) { "line" } else { "feature" }
    }
}

/// What an import did, with the bad rows it left out (when asked to skip them).
#[derive(Debug)]
pub struct Imported {
    pub done: crate::configure::Imported,
    pub bad: Vec<BadRow>,
    pub skipped: usize,
}

/// Why an import wrote nothing.
#[derive(Debug)]
pub enum NotImported {
    /// The file cannot be read as that layer at all.
    Unreadable(String),
    /// Some rows are bad (the first of them, and how many in all) and skipping them
    /// was not asked for.
    BadRows { bad: Vec<BadRow>, refused: usize },
    /// The rows are good but the change was refused (no rows, a conflict…).
    Refused(crate::AppError),
}

/// Reads `bytes` as `layer` and imports it as one audited change by `by`: nothing is
/// written when a row is bad, unless `skip_bad` (then the good rows are, and the
/// outcome says how many were left out). The file's bytes are let go once read.
pub async fn import(
    app: &crate::App,
    by: crate::configure::By<'_>,
    layer: &Layer,
    bytes: Vec<u8>,
    skip_bad: bool,
) -> Result<Imported, NotImported> {
    fn checked<T>(read: Result<Read<T>, String>, skip_bad: bool) -> Result<Read<T>, NotImported> {
        let read = read.map_err(NotImported::Unreadable)?;
        if read.refused > 0 && !skip_bad {
            return Err(NotImported::BadRows { bad: read.bad, refused: read.refused });
        }
        Ok(read)
    }
    use crate::configure::{put_address_layer, put_assets, put_street_layer};
    let (done, bad, skipped) = match layer {
        Layer::Addresses(format) => {
            let read = crate::addresses::read(*format, &bytes);
            drop(bytes);
            let read = checked(read, skip_bad)?;
            (put_address_layer(app, by, read.rows).await, read.bad, read.refused)
        }
        Layer::Streets => {
            let read = checked(streets::read(&bytes), skip_bad)?;
            (put_street_layer(app, by, read.rows).await, read.bad, read.refused)
        }
        Layer::Assets(kind) => {
            let read = checked(assets::read(kind, &bytes), skip_bad)?;
            (put_assets(app, by, kind, read.rows).await, read.bad, read.refused)
        }
    };
    Ok(Imported { done: done.map_err(NotImported::Refused)?, bad, skipped })
}
