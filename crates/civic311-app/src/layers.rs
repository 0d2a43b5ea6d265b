//! The city's GIS layers as files (address points, street centrelines, assets): rows
//! read and checked one at a time, bad ones reported by line or feature with the
//! reason, and a digest that names what was read, so that importing the same file
//! again changes nothing.

use std::collections::HashSet;
use std::hash::BuildHasher;
use std::ops::Range;
use std::sync::Arc;

use civic311_store::RowSource;
use serde::{Deserialize, Serialize};
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

/// A file's bytes, shared by the passes that read it.
#[derive(Clone)]
pub struct FileBytes(Arc<Vec<u8>>);

impl From<Vec<u8>> for FileBytes {
    fn from(bytes: Vec<u8>) -> Self {
        Self(Arc::new(bytes))
    }
}

impl AsRef<[u8]> for FileBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// One pass over a file's rows: each with its line (or feature number) and the row,
/// or why it is bad.
pub(crate) type Rows<T> = Box<dyn Iterator<Item = (u64, Result<T, String>)> + Send>;

/// A file read through once: how many good rows it holds and their digest, the bad
/// ones, and the good rows to read again as they are written (never all held at once).
pub struct Scanned<T> {
    /// How many rows are good (and not a repeated id).
    pub count: usize,
    /// The good rows' [`LayerDigest`].
    pub digest: String,
    /// The first bad rows (up to a thousand), with their reasons.
    pub bad: Vec<BadRow>,
    /// How many rows were bad in all.
    pub refused: usize,
    /// The good rows, read from the file again each time they are asked for.
    pub rows: RowSource<T>,
}

/// What a file held, all read: the rows that passed, and those that did not.
#[derive(Debug)]
pub struct Read<T> {
    pub rows: Vec<T>,
    /// The first bad rows (up to a thousand), with their reasons.
    pub bad: Vec<BadRow>,
    /// How many rows were bad in all.
    pub refused: usize,
}

impl<T> Scanned<T> {
    /// The good rows read into memory, with the bad ones.
    pub fn read(self) -> Read<T> {
        Read { rows: self.rows.rows().collect(), bad: self.bad, refused: self.refused }
    }
}

/// The most bad rows kept to report; the count goes on beyond it.
const REPORTED: usize = 1000;

/// Reads the file once through `read`: checks every row, refuses a second row with an
/// id seen before, and digests the good ones. What is kept to read them again is one
/// flag a row; the ids seen are held as 128-bit hashes while the pass lasts.
pub(crate) fn scan<T, R>(bytes: FileBytes, read: R, id: fn(&T) -> &str) -> Result<Scanned<T>, String>
where
    T: Serialize + Send + 'static,
    R: Fn(&FileBytes) -> Result<Rows<T>, String> + Send + Sync + 'static,
{
    let hashers = (std::hash::RandomState::new(), std::hash::RandomState::new());
    let key = |id: &str| u128::from(hashers.0.hash_one(id)) << 64 | u128::from(hashers.1.hash_one(id));
    let (mut seen, mut keep, mut digest) = (HashSet::new(), Vec::new(), LayerDigest::default());
    let (mut bad, mut refused) = (Vec::new(), 0);
    let mut refuse = |line: u64, reason: String| {
        if bad.len() < REPORTED {
            bad.push(BadRow { line, reason });
        }
        refused += 1;
    };
    for (line, row) in read(&bytes)? {
        let kept = match row {
            Ok(row) if seen.insert(key(id(&row))) => {
                digest.add(&row);
                true
            }
            Ok(row) => {
                refuse(line, format!("the id {} appears twice", id(&row)));
                false
            }
            Err(reason) => {
                refuse(line, reason);
                false
            }
        };
        keep.push(kept);
    }
    drop(seen);
    let count = keep.iter().filter(|k| **k).count();
    let keep = Arc::new(keep);
    let rows = RowSource::new(move || -> Box<dyn Iterator<Item = T> + Send> {
        let keep = Arc::clone(&keep);
        match read(&bytes) {
            Ok(rows) => {
                Box::new(rows.zip(0..).filter_map(move |((_, row), i)| row.ok().filter(|_| keep.get(i) == Some(&true))))
            }
            // The same bytes read the same way: this cannot happen, and should it, the
            // write fails for the rows that did not come (see the store's layer write).
            Err(_) => Box::new(std::iter::empty()),
        }
    });
    Ok(Scanned { count, digest: digest.finish(), bad, refused, rows })
}

/// A digest of a set of rows that does not depend on their order and is made one row
/// at a time: the sum, lane by lane, of each row's SHA-256.
#[derive(Default)]
pub struct LayerDigest([u64; 4]);

impl LayerDigest {
    /// Adds one row.
    pub fn add<T: Serialize>(&mut self, row: &T) {
        let hash = Sha256::digest(serde_json::to_vec(row).unwrap_or_default());
        for (lane, bytes) in self.0.iter_mut().zip(hash.chunks_exact(8)) {
            *lane = lane.wrapping_add(u64::from_le_bytes(bytes.try_into().unwrap_or_default()));
        }
    }

    /// The digest, as hex.
    pub fn finish(&self) -> String {
        self.0.iter().map(|lane| format!("{lane:016x}")).collect()
    }
}

/// The [`LayerDigest`] of `rows`: the same rows, in any order, give the same digest.
pub fn digest<T: Serialize>(rows: &[T]) -> String {
    let mut digest = LayerDigest::default();
    rows.iter().for_each(|row| digest.add(row));
    digest.finish()
}

/// Where each feature of a GeoJSON FeatureCollection is in the file: the file is
/// walked once for the features' extents, and each is parsed only when its turn comes.
fn feature_spans(bytes: &[u8]) -> Result<Vec<Range<usize>>, String> {
    #[derive(Deserialize)]
    struct Collection<'a> {
        #[serde(borrow)]
        features: Vec<&'a serde_json::value::RawValue>,
    }
    let doc: Collection = serde_json::from_slice(bytes).map_err(|e| {
        if e.is_data() {
            "not a GeoJSON FeatureCollection (no \"features\" list)".to_owned()
        } else {
            format!("not JSON: {e}")
        }
    })?;
    let start = bytes.as_ptr() as usize;
    Ok(doc
        .features
        .iter()
        .map(|raw| {
            let at = (raw.get().as_ptr() as usize).saturating_sub(start);
            at..at + raw.get().len()
        })
        .collect())
}

/// The features of a FeatureCollection, numbered from 1, each checked by `check` from
/// its JSON text.
pub(crate) fn feature_rows<T: 'static>(
    bytes: &FileBytes,
    check: impl Fn(u64, &[u8]) -> Result<T, String> + Send + 'static,
) -> Result<Rows<T>, String> {
    let spans = feature_spans(bytes.as_ref())?;
    let bytes = bytes.clone();
    Ok(Box::new(spans.into_iter().zip(1u64..).map(move |(span, n)| {
        let text = bytes.as_ref().get(span).unwrap_or_default();
        (n, check(n, text))
    })))
}

/// The features of a FeatureCollection as GeoJSON features, each checked by `check`.
pub(crate) fn geojson_rows<T: 'static>(
    bytes: &FileBytes,
    check: impl Fn(u64, geojson::Feature) -> Result<T, String> + Send + 'static,
) -> Result<Rows<T>, String> {
    feature_rows(bytes, move |n, text| {
        serde_json::from_slice(text).map_err(|e| format!("not a GeoJSON Feature: {e}")).and_then(|f| check(n, f))
    })
}

/// A feature's property `name` in any case, as text (numbers too); `None` when absent
/// or empty.
pub(crate) fn property(feature: &geojson::Feature, names: &[&str]) -> Option<String> {
    let props = feature.properties.as_ref()?;
    names.iter().find_map(|name| {
        let (_, v) = props.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))?;
        let text = match v {
            serde_json::Value::String(s) => s.trim().to_owned(),
            serde_json::Value::Number(n) => n.to_string(),
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
/// outcome says how many were left out).
pub async fn import(
    app: &crate::App,
    by: crate::configure::By<'_>,
    layer: &Layer,
    bytes: Vec<u8>,
    skip_bad: bool,
) -> Result<Imported, NotImported> {
    fn checked<T>(read: Result<Scanned<T>, String>, skip_bad: bool) -> Result<Scanned<T>, NotImported> {
        let read = read.map_err(NotImported::Unreadable)?;
        if read.refused > 0 && !skip_bad {
            return Err(NotImported::BadRows { bad: read.bad, refused: read.refused });
        }
        Ok(read)
    }
    use crate::configure::{put_address_rows, put_assets, put_street_layer};
    let bytes = FileBytes::from(bytes);
    let (done, bad, skipped) = match layer {
        Layer::Addresses(format) => {
            // The points are read from the file again as they are written.
            let read = checked(crate::addresses::scan(*format, bytes), skip_bad)?;
            (put_address_rows(app, by, read.rows, read.count, read.digest).await, read.bad, read.refused)
        }
        Layer::Streets => {
            let read = checked(streets::scan(bytes), skip_bad)?.read();
            (put_street_layer(app, by, read.rows).await, read.bad, read.refused)
        }
        Layer::Assets(kind) => {
            let read = checked(assets::scan(kind, bytes), skip_bad)?.read();
            (put_assets(app, by, kind, read.rows).await, read.bad, read.refused)
        }
    };
    Ok(Imported { done: done.map_err(NotImported::Refused)?, bad, skipped })
}
