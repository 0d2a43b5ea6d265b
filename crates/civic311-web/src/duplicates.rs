//! Duplicate candidates for a report: the store narrows the search to related services
//! near the point and inside the time window; the domain ranks what it finds.

use civic311_domain::duplicates::{Probe, rank};
use civic311_domain::request::ServiceRequest;
use civic311_store::{RequestQuery, StoreResult};
use jiff::SignedDuration;

use crate::{AppState, CityModel};

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
pub async fn candidates(
    state: &AppState,
    city: &CityModel,
    probe: &Probe<'_>,
    public: bool,
) -> StoreResult<Vec<Found>> {
    let settings = &city.workflow.config.duplicates;
    let now = state.now();
    let query = RequestQuery {
        service_codes: city.related_services(probe.service_code),
        exclude_services: if public { city.internal_codes() } else { Vec::new() },
        near: Some((probe.point, settings.radius_m)),
        requested_from: Some(now - SignedDuration::from_hours(24 * settings.window_days)),
        limit: SCAN_LIMIT,
        ..RequestQuery::default()
    };
    let nearby = state.store.list_requests(&query).await?;
    Ok(rank(settings, probe, &nearby, now)
        .into_iter()
        .map(|c| Found { request: c.request.clone(), distance_m: c.distance_m, score: c.score })
        .collect())
}
