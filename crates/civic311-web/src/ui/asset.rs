//! An asset's page for staff: what and where it is, the request open about it now,
//! every request about it over time, and a mark when it fails again and again (the
//! city's repeat-failure rule: so many requests within so many days).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::session::StaffChrome;
use super::{Fault, Page, Staff};
use crate::AppState;
use crate::page::html;

/// One request about the asset, as listed.
struct Listed {
    id: String,
    service: String,
    status: &'static str,
    filed: String,
    open: bool,
}

#[derive(Template)]
#[template(path = "staff/asset.html")]
struct AssetPage {
    c: StaffChrome,
    label: String,
    kind: String,
    id: String,
    /// The nearest address, and the coordinates.
    place: String,
    properties: Vec<(String, String)>,
    open: Option<String>,
    /// "3 requests in 90 days" when the asset is marked as failing again and again.
    repeat: Option<String>,
    requests: Vec<Listed>,
}

/// `GET /staff/assets/{kind}/{id}`: any member of staff.
pub async fn page(State(state): State<AppState>, staff: Staff, Path((kind, id)): Path<(String, String)>) -> Page {
    let history = match civic311_app::assets::history(&state, &kind, &id).await {
        Ok(h) => h,
        Err(civic311_app::AppError::NotFound(_)) => {
            return Err(Fault::Refused(StatusCode::NOT_FOUND, format!("There is no {kind} {id}.")));
        }
        Err(e) => return Err(e.into()),
    };
    let city = state.city();
    let a = &history.asset;
    let near = city
        .addresses
        .nearest(a.point, civic311_app::intake::NEAR_METRES)
        .map(|p| format!("near {} · ", p.label()))
        .unwrap_or_default();
    let rule = city.workflow.config.repeat_failure;
    let requests = history
        .requests
        .iter()
        .map(|r| Listed {
            id: r.id.to_string(),
            service: city.service(&r.service_code).map_or_else(|| r.service_code.clone(), |s| s.name.clone()),
            status: super::queue::status_label(r.status),
            filed: r.requested_at.to_zoned(city.tz.clone()).strftime("%b %-d %Y").to_string(),
            open: !r.status.is_closed(),
        })
        .collect();
    let body = AssetPage {
        c: StaffChrome::new(&state, &staff),
        label: a.label(),
        kind: a.kind.replace(['_', '-'], " "),
        id: a.id.clone(),
        place: format!("{near}{:.5}, {:.5}", a.point.lat, a.point.lon),
        properties: a
            .properties
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
            .collect(),
        open: history.open.as_ref().map(|r| r.id.to_string()),
        repeat: history.repeat_failure.then(|| format!("{} or more requests within {} days", rule.failures, rule.days)),
        requests,
    };
    Ok(html(StatusCode::OK, &body))
}
