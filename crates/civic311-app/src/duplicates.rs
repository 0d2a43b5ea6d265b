//! Duplicate candidates for a report: the store narrows the search to related services
//! near the point and inside the time window; the domain ranks what it finds.

use civic311_domain::duplicates::{Probe, rank};
use civic311_domain::request::{RequestId, ServiceRequest};
use civic311_store::{RequestQuery, StoreResult};
use jiff::SignedDuration;

use crate::{App, CityModel};

/// Most nearby requests read before ranking; the busiest corner of a city has fewer.
const SCAN_LIMIT: u32 = 500;

/// An existing request the report probably repeats.
#[derive(Debug, Clone)]
pub struct Found {
    pub request: ServiceRequest,
    pub distance_m: f64,
    pub score: f64,
}

/// The best candidates for `probe`, best first. Requests of internal services are
/// only offered to staff (`public = false`).
pub async fn candidates(app: &App, city: &CityModel, probe: &Probe<'_>, public: bool) -> StoreResult<Vec<Found>> {
    let settings = &city.workflow.config.duplicates;
    let now = app.now();
    let query = RequestQuery {
        service_codes: city.related_services(probe.service_code),
        exclude_services: if public { city.internal_codes() } else { Vec::new() },
        near: Some((probe.point, settings.radius_m)),
        requested_from: Some(now - SignedDuration::from_hours(24 * settings.window_days)),
        limit: SCAN_LIMIT,
        ..RequestQuery::default()
    };
    let nearby = app.store.list_requests(&query).await?;
    Ok(rank(settings, probe, &nearby, now)
        .into_iter()
        .map(|c| Found { request: c.request.clone(), distance_m: c.distance_m, score: c.score })
        .collect())
}

/// The request `r` was merged into, when the public may see it: a public page or a
/// follow never leads to internal work, even through a merge recorded before merges
/// across that line were refused.
pub async fn public_original(app: &App, city: &CityModel, r: &ServiceRequest) -> StoreResult<Option<ServiceRequest>> {
    let Some((year, seq)) = r.workflow.merged_into.as_deref().and_then(RequestId::parse) else { return Ok(None) };
    let original = app.store.request(seq).await?;
    Ok(original.filter(|o| {
        year.is_none_or(|y| y == o.id.year) && city.service(&o.service_code).is_some_and(|s| s.is_public())
    }))
}
