//! Parsing `GET /requests` parameters into a [`RequestQuery`], with the spec's
//! defaults (the last 90 days, at most 1000 results) and a clear 400 for anything
//! malformed or out of range.

use civic311_domain::geo::Point;
use civic311_domain::request::{RequestId, Status};
use civic311_store::RequestQuery;
use jiff::{SignedDuration, Timestamp};

use super::super::{Format, Open311Error};
use civic311_app::CityModel;

/// The longest `start_date`–`end_date` span, and the default window.
pub(crate) const MAX_SPAN: SignedDuration = SignedDuration::from_hours(90 * 24);
/// Results per page by default and at most.
pub const MAX_PAGE_SIZE: u32 = 1000;
/// The largest search radius in metres.
const MAX_RADIUS_M: f64 = 50_000.0;

fn get<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, v)| k == name && !v.trim().is_empty()).map(|(_, v)| v.trim())
}

/// A W3C date-time parameter; a malformed one adds to `errors`.
pub(crate) fn datetime(params: &[(String, String)], name: &str, errors: &mut Vec<String>) -> Option<Timestamp> {
    let v = get(params, name)?;
    match v.parse::<Timestamp>() {
        Ok(t) => Some(t),
        Err(_) => {
            errors.push(format!("{name}: '{v}' is not a W3C date-time with an offset, e.g. 2026-03-01T14:05:00-06:00"));
            None
        }
    }
}

fn number<T: std::str::FromStr>(params: &[(String, String)], name: &str, errors: &mut Vec<String>) -> Option<T> {
    let v = get(params, name)?;
    match v.parse::<T>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push(format!("{name}: '{v}' is not a valid number"));
            None
        }
    }
}

fn list(v: &str) -> impl Iterator<Item = &str> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// Parses the query string; returns the query and whether `extensions=true` was asked.
pub fn parse_list_query(
    params: &[(String, String)],
    city: &CityModel,
    now: Timestamp,
    format: Format,
) -> Result<(RequestQuery, bool), Open311Error> {
    let mut errors = Vec::new();
    let mut q =
        RequestQuery { exclude_services: city.internal_codes(), limit: MAX_PAGE_SIZE, ..RequestQuery::default() };

    let page_size = number::<u32>(params, "page_size", &mut errors).unwrap_or(MAX_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
        errors.push(format!("page_size: must be between 1 and {MAX_PAGE_SIZE}"));
    }
    let page = number::<u64>(params, "page", &mut errors).unwrap_or(1);
    if page == 0 || page > 1_000_000 {
        errors.push("page: must be between 1 and 1000000".to_owned());
    }
    q.limit = page_size.clamp(1, MAX_PAGE_SIZE);
    q.offset = page.saturating_sub(1).saturating_mul(u64::from(q.limit));

    let extensions = match get(params, "extensions") {
        None | Some("false") => false,
        Some("true") => true,
        Some(v) => {
            errors.push(format!("extensions: '{v}' must be true or false"));
            false
        }
    };

    if let Some(ids) = get(params, "service_request_id") {
        // The spec: a request id list overrides every other filter.
        for id in list(ids) {
            match RequestId::parse(id) {
                Some((_, seq)) => q.ids.push(seq),
                None => errors.push(format!("service_request_id: '{id}' is not a request id")),
            }
        }
        return finish(q, extensions, errors, format);
    }

    if let Some(codes) = get(params, "service_code") {
        for code in list(codes) {
            if !city.service(code).is_some_and(|s| s.is_public()) {
                return Err(Open311Error::not_found(format, format!("service_code {code} not found")));
            }
            q.service_codes.push(code.to_owned());
        }
    }
    if let Some(statuses) = get(params, "status") {
        for s in list(statuses) {
            match Status::from_open311(s) {
                Some(all) => q.statuses.extend(all),
                None => errors.push(format!("status: '{s}' must be open or closed")),
            }
        }
    }

    let start = datetime(params, "start_date", &mut errors);
    let end = datetime(params, "end_date", &mut errors);
    let (from, to) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, s.saturating_add(MAX_SPAN).unwrap_or(s)),
        (None, Some(e)) => (e.saturating_sub(MAX_SPAN).unwrap_or(e), e),
        (None, None) => (now.saturating_sub(MAX_SPAN).unwrap_or(now), now),
    };
    if to < from {
        errors.push("end_date: must not be before start_date".to_owned());
    } else if to.duration_since(from) > MAX_SPAN {
        errors.push("start_date, end_date: the span may be at most 90 days".to_owned());
    }
    q.requested_from = Some(from);
    q.requested_to = Some(to);

    q.updated_from = datetime(params, "updated_after", &mut errors);
    q.updated_to = datetime(params, "updated_before", &mut errors);
    if let (Some(a), Some(b)) = (q.updated_from, q.updated_to)
        && b < a
    {
        errors.push("updated_before: must not be before updated_after".to_owned());
    }

    let lat = number::<f64>(params, "lat", &mut errors);
    let lon = number::<f64>(params, "long", &mut errors);
    let radius = number::<f64>(params, "radius", &mut errors);
    match (lat, lon, radius) {
        (None, None, None) => {}
        (Some(lat), Some(lon), Some(r)) => match Point::new(lat, lon) {
            Ok(p) if r > 0.0 && r <= MAX_RADIUS_M => q.near = Some((p, r)),
            Ok(_) => errors.push(format!("radius: must be more than 0 and at most {MAX_RADIUS_M} metres")),
            Err(e) => errors.push(e.to_string()),
        },
        _ => errors.push("lat, long, radius: give all three to search around a point".to_owned()),
    }

    if let Some(b) = get(params, "bbox") {
        let parts: Vec<Option<f64>> =
            b.split(',').map(|p| p.trim().parse::<f64>().ok().filter(|f| f.is_finite())).collect();
        match parts.as_slice() {
            [Some(min_lon), Some(min_lat), Some(max_lon), Some(max_lat)]
                if Point::new(*min_lat, *min_lon).is_ok()
                    && Point::new(*max_lat, *max_lon).is_ok()
                    && min_lon <= max_lon
                    && min_lat <= max_lat =>
            {
                q.bbox = Some([*min_lon, *min_lat, *max_lon, *max_lat]);
            }
            _ => errors.push(format!("bbox: '{b}' must be min_long,min_lat,max_long,max_lat in degrees")),
        }
    }
    finish(q, extensions, errors, format)
}

fn finish(
    q: RequestQuery,
    extensions: bool,
    errors: Vec<String>,
    format: Format,
) -> Result<(RequestQuery, bool), Open311Error> {
    if errors.is_empty() {
        Ok((q, extensions))
    } else {
        Err(Open311Error::many(axum::http::StatusCode::BAD_REQUEST, format, errors))
    }
}

/// The year each number in `service_request_id` asked for (`None` for a bare number),
/// by sequence, so a number is matched whole.
pub fn years_asked(params: &[(String, String)]) -> std::collections::HashMap<i64, Option<i16>> {
    get(params, "service_request_id")
        .map(|ids| list(ids).filter_map(RequestId::parse).map(|(y, seq)| (seq, y)).collect())
        .unwrap_or_default()
}
