//! What a resident is told of how long their kind of problem usually takes where they
//! are: the median time to resolve of the same service's requests in the same area
//! (the city's boundary layer: its wards), over those resolved in the last 90 days, when
//! there were enough of them to say so. Worked out at most once per service and area
//! every [`FRESH`], however often the public confirmation page is opened.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use civic311_domain::report::Spread;
use civic311_domain::request::{ServiceRequest, Status};
use civic311_store::RequestQuery;
use jiff::SignedDuration;

use crate::{App, AppError};

/// How far back resolved requests are counted.
pub const WINDOW: SignedDuration = SignedDuration::from_hours(90 * 24);
/// Fewer resolved requests than this are too few to judge (the reports' threshold).
pub const ENOUGH: usize = 10;
/// Most requests read for one answer (the newest changed first).
const MOST_READ: u32 = 2_000;
/// How long an answer is reused.
pub const FRESH: SignedDuration = SignedDuration::from_mins(10);
/// Most answers kept (services × areas); past it the oldest are forgotten.
const MOST_KEPT: usize = 10_000;

/// Answers worked out lately, by service and area feature, with when.
#[derive(Clone, Default)]
pub struct Cache(Arc<Mutex<HashMap<(String, String), Kept>>>);

/// An answer and when it was worked out.
type Kept = (jiff::Timestamp, Option<Typical>);

/// The typical time to resolve a service in an area.
#[derive(Debug, Clone, PartialEq)]
pub struct Typical {
    /// Median days from request to resolution.
    pub median_days: f64,
    /// How many resolved requests that is of.
    pub count: usize,
    /// The area's name (`Ward 3`).
    pub area: String,
}

/// The typical time for requests like `r` (same service, same area), or `None` when
/// it has no area or too few were resolved lately. A request's resolution time is its
/// close time (the last time it was resolved or closed; duplicates never count).
pub async fn typical(app: &App, r: &ServiceRequest) -> Result<Option<Typical>, AppError> {
    let city = app.city();
    let layer = &city.settings.boundary_layer;
    let Some(feature) = r.areas.get(layer) else { return Ok(None) };
    let now = app.now();
    let key = (r.service_code.clone(), feature.clone());
    let kept = app.typical.0.lock().ok().and_then(|c| c.get(&key).cloned());
    if let Some((_, answer)) = kept.filter(|(at, _)| *at <= now && now.duration_since(*at) < FRESH) {
        return Ok(answer);
    }
    let answer = work_out(app, r, layer, feature, now).await?;
    if let Ok(mut c) = app.typical.0.lock() {
        if c.len() >= MOST_KEPT {
            c.retain(|_, (at, _)| now.duration_since(*at) < FRESH);
        }
        if c.len() < MOST_KEPT {
            c.insert(key, (now, answer.clone()));
        }
    }
    Ok(answer)
}

/// The answer from the store.
async fn work_out(
    app: &App,
    r: &ServiceRequest,
    layer: &str,
    feature: &str,
    now: jiff::Timestamp,
) -> Result<Option<Typical>, AppError> {
    let city = app.city();
    let since = now - WINDOW;
    let query = RequestQuery {
        service_codes: vec![r.service_code.clone()],
        areas: vec![(layer.to_owned(), vec![feature.to_owned()])],
        statuses: vec![Status::Resolved, Status::Closed],
        updated_from: Some(since),
        limit: MOST_READ,
        ..RequestQuery::default()
    };
    let days: Vec<f64> = app
        .store
        .list_requests(&query)
        .await?
        .iter()
        .filter(|x| x.id != r.id)
        .filter_map(|x| x.closed_at.filter(|c| *c >= since).map(|c| c.duration_since(x.requested_at)))
        .map(|d| d.as_secs_f64() / 86_400.0)
        .collect();
    let count = days.len();
    if count < ENOUGH {
        return Ok(None);
    }
    let area = city.boundaries.feature_name(layer, feature).unwrap_or(feature).to_owned();
    Ok(Spread::of(days).map(|s| Typical { median_days: s.median, count, area }))
}
