//! An export's parameters, read and checked before anything is read from the store.

use civic311_app::city::CityModel;
use civic311_app::open_data::export_query;
use civic311_store::RequestQuery;
use jiff::Timestamp;
use jiff::civil::Date;

/// Most parameters one export may carry.
const MAX_PARAMS: usize = 32;
/// Most values in one comma-separated list.
const MAX_VALUES: usize = 100;
/// The change feed's page when `limit` is not given, and its largest.
pub const DEFAULT_PAGE: u32 = 1_000;
pub const MAX_PAGE: u32 = 10_000;

/// What an export asks for.
#[derive(Debug)]
pub struct Ask {
    pub query: RequestQuery,
    pub mode: Mode,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Mode {
    /// Every matching request, streamed in filing order.
    Everything,
    /// One page of the change feed after `(stamp, number)`.
    Changes { after: (i64, i64), limit: u32 },
}

/// Reads the parameters; a clear sentence naming the first one that is wrong.
pub fn parse(given: &[(String, String)], city: &CityModel) -> Result<Ask, String> {
    if given.len() > MAX_PARAMS {
        return Err(format!("at most {MAX_PARAMS} parameters"));
    }
    let mut from = None;
    let mut to = None;
    let mut services = Vec::new();
    let mut areas: Vec<(String, Vec<String>)> = Vec::new();
    let mut updated_after = None;
    let mut cursor = None;
    let mut limit = None;
    for (key, value) in given {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match key.as_str() {
            "from" => from = Some(date(key, value)?),
            "to" => to = Some(date(key, value)?),
            "service_code" => {
                for code in list(key, value)? {
                    if !city.service(code).is_some_and(|s| s.is_public()) {
                        return Err(format!("service_code: no service {code}; /open311/v2/services.json lists them"));
                    }
                    services.push(code.to_owned());
                }
            }
            "updated_after" => {
                let t: Timestamp = value.parse().map_err(|_| {
                    format!("updated_after: '{value}' is not a date-time with an offset (2026-03-01T14:05:00-05:00)")
                })?;
                updated_after = Some(t);
            }
            "cursor" => cursor = Some(read_cursor(value)?),
            "limit" => {
                let n: u32 = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_PAGE).contains(n))
                    .ok_or_else(|| format!("limit: '{value}' is not a whole number from 1 to {MAX_PAGE}"))?;
                limit = Some(n);
            }
            layer if city.boundaries.layers().iter().any(|l| l == layer) => {
                let known = |f: &str| city.boundaries.features().iter().any(|x| x.layer == layer && x.feature == f);
                let mut features = Vec::new();
                for f in list(key, value)? {
                    if !known(f) {
                        return Err(format!("{layer}: no feature {f} in the {layer} layer"));
                    }
                    features.push(f.to_owned());
                }
                areas.push((layer.to_owned(), features));
            }
            other => {
                let layers = city.boundaries.layers().join(", ");
                return Err(format!(
                    "unknown parameter {other}; an export takes from, to, service_code, {layers}, \
                     updated_after, cursor and limit"
                ));
            }
        }
    }
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err("from must not be after to".to_owned());
    }
    let mut query = export_query(city, from, to, services, areas).map_err(|e| e.to_string())?;
    // Changed after the instant: the first microsecond after it.
    query.updated_from = updated_after.and_then(|t| t.checked_add(jiff::Span::new().microseconds(1)).ok());
    let mode = if cursor.is_some() || updated_after.is_some() || limit.is_some() {
        Mode::Changes { after: cursor.unwrap_or((-1, 0)), limit: limit.unwrap_or(DEFAULT_PAGE) }
    } else {
        Mode::Everything
    };
    Ok(Ask { query, mode })
}

fn date(key: &str, value: &str) -> Result<Date, String> {
    value.parse().map_err(|_| format!("{key}: '{value}' is not a date (2026-03-01)"))
}

fn list<'a>(key: &str, value: &'a str) -> Result<Vec<&'a str>, String> {
    let items: Vec<&str> = value.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    if items.len() > MAX_VALUES {
        return Err(format!("{key}: at most {MAX_VALUES} values"));
    }
    Ok(items)
}

/// A cursor as the feed hands it out: `STAMP.NUMBER`.
fn read_cursor(value: &str) -> Result<(i64, i64), String> {
    let bad = || format!("cursor: '{value}' is not a cursor this feed handed out");
    let (stamp, id) = value.split_once('.').ok_or_else(bad)?;
    let stamp: i64 = stamp.parse().ok().filter(|n| *n >= 0).ok_or_else(bad)?;
    let id: i64 = id.parse().ok().filter(|n| *n >= 0).ok_or_else(bad)?;
    Ok((stamp, id))
}

/// The query of the next page: the same parameters with the cursor moved on.
pub fn next_query(given: &[(String, String)], next: (i64, i64)) -> String {
    let mut pairs: Vec<(&str, String)> =
        given.iter().filter(|(k, _)| k != "cursor").map(|(k, v)| (k.as_str(), v.clone())).collect();
    let at = if next.0 < 0 { "0.0".to_owned() } else { format!("{}.{}", next.0, next.1) };
    pairs.push(("cursor", at));
    serde_urlencoded::to_string(&pairs).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_as_handed_out() {
        assert_eq!(read_cursor("123.45"), Ok((123, 45)));
        assert!(read_cursor("123").is_err());
        assert!(read_cursor("-1.5").is_err());
        assert!(read_cursor("a.b").is_err());
        let given = vec![("cursor".to_owned(), "1.2".to_owned()), ("service_code".to_owned(), "POTHOLE".to_owned())];
        assert_eq!(next_query(&given, (9, 40)), "service_code=POTHOLE&cursor=9.40");
    }
}
