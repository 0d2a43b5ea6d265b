//! What the city publishes about its requests (docs/OPEN_DATA.md): the columns of the
//! Open311 GeoReport bulk format and ours, and the privacy rules that decide what a
//! row may carry. Every export format and the public dashboard read rows from here.
//!
//! Never published: the requester's name, email, phone, device and account ids, and
//! anything else in their contact details; answers to the service's questions; photos;
//! staff names, teams, tags and internal notes; requests of internal services (and of
//! services the city no longer has). A service's [`OpenDataPolicy`] may withhold the
//! description and status notes and publish the location only to its block or to an
//! H3 cell.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use civic311_domain::address::hundred_block;
use civic311_domain::geo::Point;
use civic311_domain::request::{Channel, RequestId};
use civic311_domain::service::{OpenDataPolicy, Precision};
use civic311_store::{PublicRow, RequestQuery, StoreResult};
use jiff::Timestamp;

use crate::city::CityModel;

/// The Open311 GeoReport bulk columns, in order; the city's boundary layers follow
/// them, then [`OUR_COLUMNS`].
pub const BULK_COLUMNS: [&str; 14] = [
    "service_request_id",
    "requested_datetime",
    "updated_datetime",
    "closed_date",
    "status_description",
    "status_notes",
    "source",
    "service_name",
    "service_subtype",
    "description",
    "agency_responsible",
    "address",
    "lat",
    "long",
];

/// Columns of ours after the layers: what imports and apps need to read a row back.
pub const OUR_COLUMNS: [&str; 4] = ["service_code", "channel", "expected_datetime", "duplicate_of"];

/// Where `lat` and `long` sit in a row (GeoJSON moves them into the geometry).
pub const LAT: usize = 12;
pub const LONG: usize = 13;

/// One published value, borrowed from the request or the city where it can be.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Text(Cow<'a, str>),
    Number(f64),
    /// Written in the city's time zone with its offset.
    Time(Timestamp),
    Null,
}

impl<'a> Value<'a> {
    fn opt(s: Option<&'a str>) -> Self {
        s.filter(|s| !s.is_empty()).map_or(Value::Null, |s| Value::Text(Cow::Borrowed(s)))
    }

    fn text(s: &'a str) -> Self {
        Value::Text(Cow::Borrowed(s))
    }
}

/// Every column of a published row, in order: [`BULK_COLUMNS`], one per boundary
/// layer (named as the layer is), [`OUR_COLUMNS`].
pub fn columns(city: &CityModel) -> Vec<String> {
    let mut out: Vec<String> = BULK_COLUMNS.iter().map(|c| (*c).to_owned()).collect();
    out.extend(city.boundaries.layers().iter().cloned());
    out.extend(OUR_COLUMNS.iter().map(|c| (*c).to_owned()));
    out
}

/// How a channel reads in the bulk format's `source`.
pub fn source(c: Channel) -> &'static str {
    match c {
        Channel::Web => "Web",
        Channel::Mobile => "Mobile app",
        Channel::Phone => "Phone",
        Channel::Sms => "Text message",
        Channel::Email => "Email",
        Channel::WalkIn => "Walk-in",
        Channel::Internal => "City staff",
    }
}

/// The request's published row, or `None` when it may not be published at all.
/// `public_targets` holds the numbers of the requests others were merged into that
/// may be named (see [`merge_targets`]).
pub fn row<'a>(city: &'a CityModel, r: &'a PublicRow, public_targets: &HashSet<String>) -> Option<Vec<Value<'a>>> {
    let service = city.service(&r.service_code).filter(|s| s.is_public())?;
    let policy: OpenDataPolicy = service.open_data;
    let text = |s: Option<&'a str>| if policy.withhold_text { Value::Null } else { Value::opt(s) };
    let (address, point) = match policy.location {
        Precision::Exact => (r.address.as_deref().map(Cow::Borrowed), r.point),
        Precision::Block => (r.address.as_deref().and_then(hundred_block).map(Cow::Owned), r.point.map(to_block)),
        Precision::Cell(res) => (None, r.point.and_then(|p| cell_centre(p, res))),
    };
    let coordinate = |v: Option<f64>| v.map_or(Value::Null, Value::Number);
    let mut out = Vec::with_capacity(BULK_COLUMNS.len() + city.boundaries.layers().len() + OUR_COLUMNS.len());
    out.extend([
        Value::Text(Cow::Owned(r.id.to_string())),
        Value::Time(r.requested_at),
        Value::Time(r.updated_at),
        r.closed_at.filter(|_| r.status.is_closed()).map_or(Value::Null, Value::Time),
        Value::text(r.status.as_str()),
        text(r.status_notes.as_deref()),
        Value::text(source(r.channel)),
        Value::text(&service.name),
        Value::opt(Some(&service.group)),
        text(Some(&r.description)),
        Value::text(city.department_name(&r.department)),
        address.filter(|a| !a.is_empty()).map_or(Value::Null, Value::Text),
        coordinate(point.map(|p| p.lat)),
        coordinate(point.map(|p| p.lon)),
    ]);
    out.extend(city.boundaries.layers().iter().map(|l| Value::opt(r.areas.get(l).map(String::as_str))));
    let duplicate_of = r.merged_into.as_deref().filter(|t| public_targets.contains(*t));
    out.extend([
        Value::text(&r.service_code),
        Value::text(r.channel.as_str()),
        r.expected_at.map_or(Value::Null, Value::Time),
        Value::opt(duplicate_of),
    ]);
    Some(out)
}

/// A point published to its block: rounded to three decimals.
fn to_block(p: Point) -> Point {
    let round = |v: f64| (v * 1000.0).round() / 1000.0;
    Point { lat: round(p.lat), lon: round(p.lon) }
}

/// A point published as its H3 cell of resolution `res`: the cell's centre, to six
/// decimals (10 cm; short, and read back the same by every JSON parser). `None` (no
/// point published) for a point or a resolution H3 does not take.
fn cell_centre(p: Point, res: u8) -> Option<Point> {
    let res = h3o::Resolution::try_from(res).ok()?;
    let centre = h3o::LatLng::from(h3o::LatLng::new(p.lat, p.lon).ok()?.to_cell(res));
    let round = |v: f64| (v * 1e6).round() / 1e6;
    Some(Point { lat: round(centre.lat()), lon: round(centre.lng()) })
}

/// Of the requests `page` was merged into, the numbers that may be named: those of
/// public services (a merge into internal work is never shown).
pub async fn merge_targets(
    store: &dyn civic311_store::Store,
    city: &CityModel,
    page: &[PublicRow],
) -> StoreResult<HashSet<String>> {
    let mut asked: HashMap<i64, &str> = HashMap::new();
    for target in page.iter().filter_map(|r| r.merged_into.as_deref()) {
        if let Some((_, seq)) = RequestId::parse(target) {
            asked.insert(seq, target);
        }
    }
    if asked.is_empty() {
        return Ok(HashSet::new());
    }
    let query = RequestQuery {
        ids: asked.keys().copied().collect(),
        limit: u32::try_from(asked.len()).unwrap_or(u32::MAX),
        ..RequestQuery::default()
    };
    let found = store.public_rows(&query).await?;
    Ok(found
        .into_iter()
        .filter(|t| city.service(&t.service_code).is_some_and(|s| s.is_public()))
        .filter(|t| asked.get(&t.id.seq).is_some_and(|named| *named == t.id.to_string()))
        .map(|t| t.id.to_string())
        .collect())
}

/// Which requests an export holds: those of public services, filed from local midnight
/// of `from` to the end of `to` (both inclusive, either open), of `services` (all public
/// ones when empty), in the given boundary features; in filing order.
pub fn export_query(
    city: &CityModel,
    from: Option<jiff::civil::Date>,
    to: Option<jiff::civil::Date>,
    services: Vec<String>,
    areas: Vec<(String, Vec<String>)>,
) -> Result<RequestQuery, crate::error::AppError> {
    let end = match to {
        Some(day) => {
            Some(crate::reports::midnight(day.tomorrow().map_err(bad_day)?, city)? - jiff::Span::new().microseconds(1))
        }
        None => None,
    };
    Ok(RequestQuery {
        service_codes: services,
        exclude_services: city.internal_codes(),
        requested_from: from.map(|d| crate::reports::midnight(d, city)).transpose()?,
        requested_to: end,
        areas,
        sort: civic311_store::Sort::Oldest,
        ..RequestQuery::default()
    })
}

fn bad_day(e: jiff::Error) -> crate::error::AppError {
    crate::error::AppError::Internal(format!("export period: {e}"))
}
