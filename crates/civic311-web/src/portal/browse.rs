//! What has been reported: the city's public requests on a map, with nearby ones
//! gathered into clusters, and the same requests as a list that needs no map. Filters
//! by category, status, date and ward; newest first, a page at a time.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use civic311_domain::geo::Point;
use civic311_domain::i18n::Texts;
use civic311_domain::request::{ServiceRequest, Status};
use civic311_store::{RequestQuery, Sort};
use jiff::civil::Date;

use super::{Chrome, Lang, Page, fault};
use crate::AppState;
use crate::ui::query_string;

/// Requests listed per page.
const PAGE: u32 = 50;
/// Most requests drawn on the map: the newest that match.
const MAP_POINTS: u32 = 1000;

#[derive(Debug, Default, serde::Deserialize)]
pub struct Filters {
    service: Option<String>,
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
    area: Option<String>,
    cursor: Option<String>,
}

/// One request in a list of them.
pub(super) struct Row {
    pub(super) number: String,
    pub(super) service: String,
    pub(super) status: &'static str,
    pub(super) status_class: &'static str,
    pub(super) submitted: String,
    pub(super) place: String,
}

#[derive(Template)]
#[template(path = "portal/browse.html")]
struct BrowsePage {
    c: Chrome,
    t: &'static Texts,
    services: Vec<(String, String)>,
    areas: Vec<(String, String)>,
    statuses: Vec<(&'static str, &'static str)>,
    service: String,
    status: String,
    from: String,
    to: String,
    area: String,
    rows: Vec<Row>,
    total: i64,
    map: Option<String>,
    tiles: Option<String>,
    next_page: Option<String>,
    problems: Vec<&'static str>,
}

/// The rows of a request list: `services` names the categories (code, name) in `t`'s
/// language.
pub(super) fn rows(
    city: &crate::CityModel,
    page: &[ServiceRequest],
    services: &[(String, String)],
    t: &'static Texts,
    tz: &jiff::tz::TimeZone,
) -> Vec<Row> {
    page.iter()
        .map(|r| Row {
            number: r.id.to_string(),
            service: services
                .iter()
                .find(|(c, _)| *c == r.service_code)
                .map_or_else(|| r.service_code.clone(), |(_, n)| n.clone()),
            status: t.status(r.status),
            status_class: r.status.as_str(),
            submitted: crate::i18n::date(t, &r.requested_at.to_zoned(tz.clone())),
            place: super::place(city, t, &r.location).unwrap_or_default(),
        })
        .collect()
}

/// The first instant of `day` in the city (`to` days count to their end).
fn day_start(text: &str, tz: &jiff::tz::TimeZone, next: bool) -> Option<jiff::Timestamp> {
    let d: Date = text.trim().parse().ok()?;
    let d = if next { d.tomorrow().ok()? } else { d };
    d.to_zoned(tz.clone()).ok().map(|z| z.timestamp())
}

/// `GET /requests`: the public map and list.
pub async fn page(State(state): State<AppState>, lang: Lang, Query(f): Query<Filters>) -> Page {
    let t = lang.t;
    let city = state.city();
    let mut problems = Vec::new();
    let mut q =
        RequestQuery { exclude_services: city.internal_codes(), sort: Sort::Newest, limit: PAGE, ..Default::default() };
    let services: Vec<(String, String)> =
        super::report::public_services(&city, t).into_iter().map(|s| (s.code, s.name)).collect();
    let service = f.service.filter(|c| services.iter().any(|(k, _)| k == c)).unwrap_or_default();
    if !service.is_empty() {
        q.service_codes = vec![service.clone()];
    }
    let status = f.status.filter(|s| matches!(s.as_str(), "open" | "closed")).unwrap_or_default();
    q.statuses = Status::ALL
        .into_iter()
        .filter(|s| match status.as_str() {
            "open" => !s.is_closed(),
            "closed" => s.is_closed(),
            _ => false,
        })
        .collect();
    let (from, to) = (f.from.unwrap_or_default(), f.to.unwrap_or_default());
    for (text, next, slot) in [(&from, false, &mut q.requested_from), (&to, true, &mut q.requested_to)] {
        if text.trim().is_empty() {
            continue;
        }
        match day_start(text, &city.tz, next) {
            Some(at) => *slot = Some(at),
            None => problems.push(t.get("requests.bad_date")),
        }
    }
    let layer = &city.settings.boundary_layer;
    let areas: Vec<(String, String)> = city
        .boundaries
        .features()
        .iter()
        .filter(|x| &x.layer == layer)
        .map(|x| (x.feature.clone(), x.name.clone()))
        .collect();
    let area = f.area.filter(|a| areas.iter().any(|(k, _)| k == a)).unwrap_or_default();
    if !area.is_empty() {
        q.areas = vec![(layer.clone(), vec![area.clone()])];
    }
    let mut list = q.clone();
    if let Some(c) = f.cursor.as_deref() {
        match c.split_once('.').and_then(|(k, i)| Some((k.parse().ok()?, i.parse().ok()?))) {
            Some(after) => list.after = Some(after),
            None => problems.push(t.get("requests.bad_page")),
        }
    }
    let on_map = RequestQuery { limit: MAP_POINTS, ..q.clone() };
    let store = &state.store;
    let (page, total, mapped) =
        tokio::try_join!(store.list_requests(&list), store.count_matching(&q), store.list_requests(&on_map))
            .map_err(fault(&state, &lang))?;
    let rows = rows(&city, &page, &services, t, &city.tz);
    let points: Vec<Point> = mapped.iter().filter_map(|r| r.location.point).collect();
    let outline: Vec<_> = city.boundaries.features().iter().filter(|x| &x.layer == layer).collect();
    let label = t.get("requests.map_label").replace("{n}", &points.len().to_string());
    let filters = [
        ("service", service.as_str()),
        ("status", status.as_str()),
        ("from", from.as_str()),
        ("to", to.as_str()),
        ("area", area.as_str()),
    ];
    let next_page = (page.len() == PAGE as usize).then(|| page.last()).flatten().map(|last| {
        let cursor = format!("{}.{}", Sort::Newest.key(last), last.id.seq);
        let mut pairs: Vec<(&str, &str)> = filters.iter().copied().filter(|(_, v)| !v.is_empty()).collect();
        pairs.push(("cursor", &cursor));
        format!("/requests?{}", query_string(&pairs))
    });
    let body = BrowsePage {
        c: Chrome::new(&state, &lang, "/requests", "requests"),
        t,
        statuses: vec![
            ("", t.get("requests.any_status")),
            ("open", t.get("requests.open")),
            ("closed", t.get("requests.closed")),
        ],
        map: crate::ui::map::clusters(&outline, &points, &label),
        tiles: state.map_tiles.as_ref().map(|tl| crate::ui::map::cluster_data(tl, &outline, &points)),
        services,
        areas,
        service,
        status,
        from,
        to,
        area,
        rows,
        total,
        next_page,
        problems,
    };
    Ok(lang.render(StatusCode::OK, &body))
}
