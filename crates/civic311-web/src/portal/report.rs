//! Reporting a problem, in two steps that each work without JavaScript. First the
//! category — browsed by group or found in plain words — then where it is (a map pin,
//! the device's location, or a typed address: the path that needs no map) and what it
//! is. Then the details: requests already reported nearby, each with one button to
//! follow it instead; how to reach the resident (optional, with email or SMS updates
//! in their language); the service's questions; photos. The report is filed through
//! the same intake as every other channel and answered with its tracking page.

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use civic311_domain::FieldError;
use civic311_domain::duplicates::Probe;
use civic311_domain::geo::Point;
use civic311_domain::request::Channel;
use civic311_domain::service::{AssetUse, Service, search};

use super::{Chrome, Instead, Lang, Page, fault, field, message};
use crate::addresses::Lookup;
use crate::i18n::{self, Texts};
use crate::media::{BodyError, read_parts};
use crate::open311::raw_request;
use crate::questions::{Question, questions};
use crate::throttle::ClientAddr;
use crate::{AppState, CityModel};
use civic311_app::AppError;
use civic311_app::intake;
use civic311_app::photo::{PhotoProblem, clean_photos};

/// A category as listed: code, name, what it covers.
type Listed = (String, String, String);

#[derive(Template)]
#[template(path = "portal/pick.html")]
struct PickPage {
    c: Chrome,
    t: &'static Texts,
    q: String,
    found: Option<Vec<(String, String, String)>>,
    groups: Vec<(String, Vec<Listed>)>,
    answers: Vec<(String, String, String)>,
}

/// The public services as a resident reading `t` sees them, in catalogue order.
pub(super) fn public_services(city: &CityModel, t: &Texts) -> Vec<Service> {
    city.services().filter(|s| s.is_public()).map(|s| s.localized(t.code)).collect()
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct PickParams {
    q: Option<String>,
}

/// `GET /report[?q=…]`: every category by group, and what a search finds.
pub async fn pick(State(state): State<AppState>, lang: Lang, Query(p): Query<PickParams>) -> Response {
    let city = state.city();
    let services = public_services(&city, lang.t);
    let q = p.q.unwrap_or_default().trim().to_owned();
    let item = |s: &Service| (s.code.clone(), s.name.clone(), s.description.clone());
    let found = (!q.is_empty()).then(|| search(&services, &q).into_iter().map(item).collect());
    let mut groups: Vec<(String, Vec<Listed>)> = Vec::new();
    for s in &services {
        match groups.iter_mut().find(|(g, _)| *g == s.group) {
            Some((_, items)) => items.push(item(s)),
            None => groups.push((s.group.clone(), vec![item(s)])),
        }
    }
    let answers = super::help::answers_for(&state, lang.t, &q, None);
    let page = PickPage { c: Chrome::new(&state, &lang, "/report", "report"), t: lang.t, q, found, groups, answers };
    lang.render(StatusCode::OK, &page)
}

/// A request reported nearby that the resident may be about to repeat.
struct Nearby {
    id: String,
    service: String,
    status: &'static str,
    distance: String,
    text: String,
}

/// One of the city's assets near the report, to pick.
struct AssetOption {
    id: String,
    label: String,
    distance: String,
    checked: bool,
    /// The open request about it, when there is one: follow that instead.
    reported: Option<String>,
}

/// The nearby assets of the kinds the service concerns.
struct AssetChoice {
    options: Vec<AssetOption>,
    required: bool,
    /// The report's point with the assets numbered as in the list.
    map: Option<String>,
}

impl AssetChoice {
    /// The picked asset's open request, offered to follow before anything else.
    fn reported(&self) -> Option<&str> {
        self.options.iter().find(|o| o.checked).and_then(|o| o.reported.as_deref())
    }
}

/// The assets near the report's point to pick from, numbered on a map as in the list.
async fn asset_choice(
    state: &AppState,
    t: &'static Texts,
    service: &Service,
    fields: &[(String, String)],
) -> Option<AssetChoice> {
    let used = service.assets.as_ref()?;
    let at = point(fields)?;
    let near = civic311_app::assets::nearby(state, used, at, field(fields, ASSET_FIELD)).await;
    let pins: Vec<(Point, String, String)> = near
        .iter()
        .zip(1..)
        .map(|(n, i)| (n.asset.point, n.asset.id.clone(), format!("{i}. {}", n.asset.label())))
        .collect();
    let map = crate::ui::map::pins(at, &pins, t.get("report.asset_map")).filter(|_| !pins.is_empty());
    let options = near
        .into_iter()
        .map(|n| AssetOption {
            checked: n.picked,
            label: n.asset.label(),
            distance: crate::ui::distance_away(&state.city(), t, n.metres),
            id: n.asset.id,
            reported: n.reported,
        })
        .collect();
    Some(AssetChoice { options, required: used.required, map })
}

/// The form field a picked asset travels in (Open311's `attribute[asset_id]`).
const ASSET_FIELD: &str = "attribute[asset_id]";

#[derive(Template)]
#[template(path = "portal/report.html")]
struct ReportPage {
    c: Chrome,
    t: &'static Texts,
    service: Service,
    /// The second step (details), reached once a location is given.
    details: bool,
    value: Vec<(String, String)>,
    errors: Vec<String>,
    pick: Option<String>,
    place: String,
    change_where: String,
    map: Option<String>,
    tiles: Option<String>,
    nearby: Vec<Nearby>,
    questions: Vec<Question>,
    notify: String,
    notify_choices: Vec<(&'static str, &'static str)>,
    language: &'static str,
    languages: Vec<(&'static str, &'static str)>,
    answers: Vec<(String, String, String)>,
    /// Places a typed address may mean (label, link), the last one "as typed".
    candidates: Vec<(String, String)>,
    /// The address could not be placed on the city's map.
    unplaced: bool,
    /// The assets to pick from, for a service about assets.
    assets: Option<AssetChoice>,
}

impl ReportPage {
    /// The requests the resident may follow instead of reporting again: the picked
    /// asset's open request first, then those nearby. Their buttons sit with the
    /// contact fields a follow needs.
    fn follows(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.assets.as_ref().and_then(AssetChoice::reported).into_iter().collect();
        for n in &self.nearby {
            if !ids.contains(&n.id.as_str()) {
                ids.push(&n.id);
            }
        }
        ids
    }
}

impl ReportPage {
    /// The value the form had for `name`, to show it again.
    fn v(&self, name: &str) -> &str {
        self.value.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }
}

/// The point the form gives, if both coordinates are numbers on the globe.
fn point(fields: &[(String, String)]) -> Option<Point> {
    let lat = field(fields, "lat")?.parse().ok()?;
    let lon = field(fields, "long")?.parse().ok()?;
    Point::new(lat, lon).ok()
}

/// Whether the location step is complete; the reason when it is not.
fn where_problem(fields: &[(String, String)], t: &'static Texts) -> Option<&'static str> {
    let typed = |k| field(fields, k).is_some();
    if (typed("lat") || typed("long")) && point(fields).is_none() {
        return Some(t.get("report.error_coordinates"));
    }
    if point(fields).is_none() && !typed("address") && !typed("address_string") {
        return Some(t.get("report.error_location"));
    }
    None
}

/// Requests nearby the resident may be repeating, in their words.
async fn nearby(
    state: &AppState,
    city: &CityModel,
    t: &'static Texts,
    code: &str,
    fields: &[(String, String)],
) -> Vec<Nearby> {
    let Some(point) = point(fields) else { return Vec::new() };
    let description = field(fields, "description").unwrap_or("");
    let probe = Probe { service_code: code, point, description, seq: None };
    let found = match civic311_app::duplicates::candidates(state, city, &probe, true).await {
        Ok(f) => f,
        Err(e) => {
            // The report can still be made; the check is a courtesy.
            tracing::warn!(error = %e, "duplicate lookup on the report form failed");
            return Vec::new();
        }
    };
    found
        .iter()
        .map(|f| Nearby {
            id: f.request.id.to_string(),
            service: city.service(&f.request.service_code).map_or_else(String::new, |s| s.localized(t.code).name),
            status: t.status(f.request.status),
            distance: crate::ui::distance_away(city, t, f.distance_m),
            text: f.request.description.chars().take(120).collect(),
        })
        .collect()
}

/// Renders the form at the step its fields reach.
async fn show(
    state: &AppState,
    lang: &Lang,
    service: &Service,
    mut fields: Vec<(String, String)>,
    details: bool,
    status: StatusCode,
    errors: Vec<String>,
) -> Page {
    let city = state.city();
    let t = lang.t;
    // The details step posts the address as Open311's `address_string`.
    if let Some(a) = field(&fields, "address_string").map(str::to_owned)
        && field(&fields, "address").is_none()
    {
        fields.push(("address".into(), a));
    }
    let at = point(&fields);
    let place = match (field(&fields, "address"), at) {
        (Some(a), _) => a.to_owned(),
        // A point alone reads as the address nearest it, as intake will store it.
        (None, Some(p)) => match city.addresses.nearest(p, intake::NEAR_METRES) {
            Some(near) => t.get("report.near").replace("{address}", &near.label()),
            None => format!("{:.5}, {:.5}", p.lat, p.lon),
        },
        (None, None) => String::new(),
    };
    let keep: Vec<(&str, &str)> = ["address", "lat", "long", "description"]
        .into_iter()
        .filter_map(|k| field(&fields, k).map(|v| (k, v)))
        .collect();
    let change_where = format!("/report/{}?{}", service.code, crate::ui::query_string(&keep));
    let located = at.map(|p| city.boundaries.locate(&p)).unwrap_or_default();
    let areas = city.outline_of(&located);
    let mut near = if details { nearby(state, &city, t, &service.code, &fields).await } else { Vec::new() };
    let assets = if details { asset_choice(state, t, service, &fields).await } else { None };
    // The open report about the picked asset is offered on its own, not twice.
    if let Some(reported) = assets.as_ref().and_then(AssetChoice::reported) {
        near.retain(|n| n.id != reported);
    }
    let label = t.get("report.map_where");
    let map = details.then_some(at).flatten().and_then(|p| crate::ui::map::svg(p, &areas, &[], label));
    let tiles = state.map_tiles.as_ref();
    let answers = super::help::answers_for(state, t, "", Some(&service.code));
    let page = ReportPage {
        c: Chrome::new(state, lang, &format!("/report/{}", service.code), "report"),
        t,
        details,
        pick: (!details)
            .then_some(tiles)
            .flatten()
            .zip(crate::ui::map::centre(&city))
            .map(|(t, c)| crate::ui::map::pick(t, c)),
        place,
        change_where,
        map,
        tiles: details.then_some(tiles.zip(at)).flatten().map(|(tl, p)| crate::ui::map::over_tiles(tl, p, &areas, &[])),
        nearby: near,
        candidates: if details { Vec::new() } else { candidates(&city, &service.code, &fields) },
        unplaced: details && at.is_none(),
        assets,
        questions: questions(service, &fields, t),
        notify: field(&fields, "notify").unwrap_or("none").to_owned(),
        notify_choices: vec![
            ("none", t.get("report.updates_none")),
            ("email", t.get("report.updates_email")),
            ("sms", t.get("report.updates_sms")),
        ],
        language: field(&fields, "language").map_or(t.code, |l| i18n::texts(l).code),
        languages: i18n::languages(),
        service: service.clone(),
        value: fields,
        errors,
        answers,
    };
    Ok(lang.render(status, &page))
}

/// The public service `code` as the resident reads it, or the page saying there is none.
fn service(state: &AppState, lang: &Lang, code: &str) -> Result<Service, Instead> {
    let city = state.city();
    match city.service(code) {
        Some(s) if s.is_public() => Ok(s.localized(lang.t.code)),
        _ => {
            let (title, text) = (lang.t.get("report.unknown_title"), lang.t.get("report.unknown"));
            Err(message(state, lang, StatusCode::NOT_FOUND, title, text).into())
        }
    }
}

/// `GET /report/{code}`: where and what; with `step=details` and a location, the rest.
pub async fn form(
    State(state): State<AppState>,
    lang: Lang,
    Path(code): Path<String>,
    Query(fields): Query<Vec<(String, String)>>,
) -> Page {
    let service = service(&state, &lang, &code)?;
    if field(&fields, "step") != Some("details") {
        return show(&state, &lang, &service, fields, false, StatusCode::OK, Vec::new()).await;
    }
    if let Some(problem) = where_problem(&fields, lang.t) {
        return show(&state, &lang, &service, fields, false, StatusCode::BAD_REQUEST, vec![problem.to_owned()]).await;
    }
    let mut fields = fields;
    match crate::addresses::locate_in_form(&state.city(), &mut fields, "address") {
        // Several places may be meant: the first step again, offering them.
        Lookup::Unclear(_) => show(&state, &lang, &service, fields, false, StatusCode::OK, Vec::new()).await,
        Lookup::Located | Lookup::AsTyped => {
            show(&state, &lang, &service, fields, true, StatusCode::OK, Vec::new()).await
        }
    }
}

/// Places a typed address may mean, each with the link that goes on with it; the last
/// goes on with the address as typed.
fn candidates(city: &CityModel, code: &str, fields: &[(String, String)]) -> Vec<(String, String)> {
    let Some(typed) =
        field(fields, "address").filter(|_| point(fields).is_none() && field(fields, "as_typed").is_none())
    else {
        return Vec::new();
    };
    let description = field(fields, "description").unwrap_or("");
    let link = |pairs: &[(&str, &str)]| format!("/report/{code}?{}", crate::ui::query_string(pairs));
    let mut out: Vec<(String, String)> = city
        .addresses
        .forward(typed, 5)
        .into_iter()
        .map(|c| {
            let (lat, long) = (c.point.lat.to_string(), c.point.lon.to_string());
            let pairs = [
                ("step", "details"),
                ("address", &c.label),
                ("lat", &lat),
                ("long", &long),
                ("description", description),
            ];
            (c.label.clone(), link(&pairs))
        })
        .collect();
    if !out.is_empty() {
        let pairs = [("step", "details"), ("address", typed), ("as_typed", "1"), ("description", description)];
        out.push((typed.to_owned(), link(&pairs)));
    }
    out
}

/// An intake problem in the resident's words.
fn explain(t: &'static Texts, service: &Service, e: &FieldError) -> String {
    let question = |code: &str| service.attributes.iter().find(|a| a.code == code).map(|a| a.description.clone());
    match e.field.as_str() {
        "location" => t.get("report.error_location").to_owned(),
        "lat" | "long" if e.detail.contains("outside") => t.get("report.error_outside").to_owned(),
        "lat" | "long" => t.get("report.error_coordinates").to_owned(),
        "email" if e.detail.contains("needed") => t.get("report.error_email_needed").to_owned(),
        "email" => t.get("report.error_email").to_owned(),
        "phone" => t.get("report.error_phone_needed").to_owned(),
        "description" => t.get("report.error_description").to_owned(),
        AssetUse::FIELD => t.get("report.error_asset").to_owned(),
        f => match f.strip_prefix("attribute[").and_then(|r| question(r.trim_end_matches(']'))) {
            Some(q) => format!("{} {q}", t.get("report.error_answer")),
            None => format!("{}: {}", e.field, e.detail),
        },
    }
}

/// A refused photo in the resident's words.
fn photo_problem(t: &'static Texts, p: &PhotoProblem) -> String {
    let key = match p {
        PhotoProblem::WrongType { .. } => "report.photo_type",
        PhotoProblem::Invalid { .. } => "report.photo_invalid",
        PhotoProblem::TooLarge { .. } => "report.photo_large",
        PhotoProblem::TooMany => "report.photo_many",
        PhotoProblem::Busy => "report.photo_busy",
    };
    format!("{} {}", t.get(key), t.get("report.photo_again"))
}

/// The report form again, saying its body could not be read: 413 when it was too
/// large, 400 otherwise.
async fn unreadable(state: &AppState, lang: &Lang, service: &Service, e: &BodyError) -> Page {
    tracing::info!(error = %e, "unreadable report form");
    let (status, key) = if e.too_large {
        (StatusCode::PAYLOAD_TOO_LARGE, "report.error_too_large")
    } else {
        (StatusCode::BAD_REQUEST, "report.error_unreadable")
    };
    show(state, lang, service, Vec::new(), false, status, vec![lang.t.get(key).to_owned()]).await
}

/// `POST /report/{code}` (multipart): file the report.
pub async fn submit(
    State(state): State<AppState>,
    lang: Lang,
    client: ClientAddr,
    Path(code): Path<String>,
    body: Result<Multipart, MultipartRejection>,
) -> Page {
    // Before the body is read: a client over its budget costs nothing more.
    super::throttled(&state, &lang, client)?;
    let service = service(&state, &lang, &code)?;
    let t = lang.t;
    let parts = match body.map_err(BodyError::from) {
        Ok(body) => read_parts(body).await,
        Err(e) => Err(e),
    };
    let parts = match parts {
        Ok(p) => p,
        Err(e) => return unreadable(&state, &lang, &service, &e).await,
    };
    let fields = parts.fields;
    let media = match clean_photos(&state.codecs.photos, parts.uploads).await {
        Ok(m) => m,
        Err(p) => {
            let status =
                if p == PhotoProblem::Busy { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::BAD_REQUEST };
            return show(&state, &lang, &service, fields, true, status, vec![photo_problem(t, &p)]).await;
        }
    };
    let mut raw = raw_request(&fields, media);
    raw.service_code = code;
    if raw.contact.language.is_none() {
        raw.contact.language = Some(t.code.to_owned());
    }
    match intake::submit(&state, raw, Channel::Web).await {
        Ok(stored) => Ok(Redirect::to(&format!("/requests/{}?filed=1", stored.id)).into_response()),
        Err(AppError::Invalid(errors)) => {
            let errors = errors.iter().map(|e| explain(t, &service, e)).collect();
            show(&state, &lang, &service, fields, true, StatusCode::BAD_REQUEST, errors).await
        }
        // The service vanished mid-report (a configuration change): a failure, logged.
        Err(e) => Err(fault(&state, &lang)(e)),
    }
}

/// `POST /report/{code}/follow/{id}` (the report form's "follow this one"): the
/// resident follows an existing request with the contact they gave, instead of filing.
pub async fn follow(
    State(state): State<AppState>,
    lang: Lang,
    client: ClientAddr,
    Path((code, id)): Path<(String, String)>,
    body: Result<Multipart, MultipartRejection>,
) -> Page {
    super::throttled(&state, &lang, client)?;
    let service = service(&state, &lang, &code)?;
    let t = lang.t;
    // The photos of a report not filed are never looked at.
    let parts = match body.map_err(BodyError::from) {
        Ok(body) => read_parts(body).await,
        Err(e) => Err(e),
    };
    let fields = match parts {
        Ok(p) => p.fields,
        Err(e) => return unreadable(&state, &lang, &service, &e).await,
    };
    let Some(follower) = super::track::follower_from(&fields, t) else {
        let errors = vec![t.get("follow.contact_needed").to_owned()];
        return show(&state, &lang, &service, fields, true, StatusCode::BAD_REQUEST, errors).await;
    };
    let Some(r) = state.request_named(&id).await.map_err(fault(&state, &lang))? else {
        return Ok(super::track::not_found(&state, &lang));
    };
    Ok(super::track::ask_to_follow(&state, &lang, r.id.seq, follower).await)
}
