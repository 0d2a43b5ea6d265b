//! The call-taker's intake screen: a phone or walk-in request logged in one screen —
//! the category found by name or keyword, the caller's details, the service's own
//! questions, the location, what to tell the caller beside the form, and the open
//! requests nearby it may repeat, with one button to make the caller a follower
//! instead. Everything is a plain form, so the keyboard alone does the whole job.

use crate::form::Form;
use crate::ui::session::StaffChrome;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use civic311_domain::duplicates::Probe;
use civic311_domain::geo::Point;
use civic311_domain::request::Channel;
use civic311_domain::service::{Service, search};

use super::{Fault, Page, Staff};
use crate::addresses::Lookup;
use crate::open311::raw_request;
use crate::page::html;
use crate::questions::{Question, questions};
use crate::{AppState, CityModel, i18n};
use civic311_app::AppError;
use civic311_app::intake;

#[derive(Template)]
#[template(path = "staff/intake.html")]
struct IntakePage<'a> {
    c: StaffChrome,
    q: &'a str,
    matches: Vec<(String, String, String)>,
    service: Option<(String, String, String, String)>,
    questions: Vec<Question>,
    value: Vec<(String, String)>,
    nearby: Vec<(String, String, String)>,
    /// Knowledge-base articles about the chosen service, internal ones included:
    /// title, paragraphs, staff only.
    answers: Vec<(String, Vec<String>, bool)>,
    /// A map to place the pin on (for `static/map.js`), when a tile source is set.
    pick: Option<String>,
    checked: bool,
    /// Places the typed address may mean, to choose from.
    places: Vec<String>,
    /// For a service about assets: what the asset field says (which types, how near
    /// the nearest is taken, whether one is required).
    asset_hint: Option<String>,
    /// Once the place is known: the assets near it (id, label, distance, picked, its
    /// open request).
    assets: Vec<(String, String, String, bool, Option<String>)>,
    /// An internal service (facilities, IT): no caller; the member of staff is the
    /// requester, kept informed by email at this address.
    internal: Option<String>,
    errors: Vec<String>,
}

impl IntakePage<'_> {
    /// The value the form had for `name`, to show it again.
    fn v(&self, name: &str) -> &str {
        self.value.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }

    fn is(&self, name: &str, value: &str) -> bool {
        self.v(name) == value
    }
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

/// The point the form's latitude and longitude give, if they are numbers on the globe.
fn point_of(fields: &[(String, String)]) -> Option<Point> {
    let (lat, lon) = (field(fields, "lat")?.parse().ok()?, field(fields, "long")?.parse().ok()?);
    Point::new(lat, lon).ok()
}

/// Nearby open requests the caller may be reporting again.
async fn nearby(state: &AppState, city: &CityModel, fields: &[(String, String)]) -> Vec<(String, String, String)> {
    let (Some(code), Some(point)) = (field(fields, "service_code"), point_of(fields)) else {
        return Vec::new();
    };
    let description = field(fields, "description").unwrap_or("");
    let probe = Probe { service_code: code, point, description, seq: None };
    match civic311_app::duplicates::candidates(state, city, &probe, false).await {
        Ok(found) => found
            .iter()
            .map(|f| {
                let text: String = f.request.description.chars().take(80).collect();
                (f.request.id.to_string(), text, super::distance_away(city, i18n::texts("en"), f.distance_m))
            })
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "duplicate lookup on the intake screen failed");
            Vec::new()
        }
    }
}

async fn show(
    state: &AppState,
    staff: &Staff,
    fields: Vec<(String, String)>,
    checked: bool,
    status: StatusCode,
    errors: Vec<String>,
) -> Page {
    render(state, staff, fields, checked, status, errors, Vec::new()).await
}

/// The intake form with what was typed, the nearby check when `checked`, and the
/// places an address may mean to choose from.
async fn render(
    state: &AppState,
    staff: &Staff,
    fields: Vec<(String, String)>,
    checked: bool,
    status: StatusCode,
    errors: Vec<String>,
    places: Vec<String>,
) -> Page {
    let city = state.city();
    let q = field(&fields, "q").unwrap_or("").to_owned();
    let all: Vec<&Service> = city.services().collect();
    let found: Vec<&Service> = if q.is_empty() { all.clone() } else { search(all.iter().copied(), &q) };
    let chosen = field(&fields, "service_code").and_then(|c| city.service(c));
    let near = if checked { nearby(state, &city, &fields).await } else { Vec::new() };
    let assets = match (chosen.and_then(|s| s.assets.as_ref()), point_of(&fields)) {
        (Some(used), Some(at)) => civic311_app::assets::nearby(state, used, at, field(&fields, "attribute[asset_id]"))
            .await
            .into_iter()
            .map(|n| (n.asset.id.clone(), n.asset.label(), format!("{:.0} m", n.metres), n.picked, n.reported))
            .collect(),
        _ => Vec::new(),
    };
    let page = IntakePage {
        c: StaffChrome::new(state, staff),
        q: &q,
        matches: found.iter().map(|s| (s.code.clone(), s.name.clone(), s.group.clone())).collect(),
        service: chosen.map(|s| (s.code.clone(), s.name.clone(), s.description.clone(), s.service_notice.clone())),
        questions: chosen.map(|s| questions(s, &fields, i18n::texts("en"))).unwrap_or_default(),
        nearby: near,
        answers: chosen
            .map(|s| {
                let about = city.articles.iter().filter(|a| a.services.contains(&s.code));
                about
                    .map(|a| (a.title.clone(), a.paragraphs().into_iter().map(str::to_owned).collect(), !a.public))
                    .collect()
            })
            .unwrap_or_default(),
        pick: chosen.and(state.map_tiles.as_ref()).zip(super::map::centre(&city)).map(|(t, c)| super::map::pick(t, c)),
        checked,
        places,
        asset_hint: chosen.and_then(|s| s.assets.as_ref()).map(|used| {
            let kinds = used.types.join(" or ").replace(['_', '-'], " ");
            let left_empty = if used.required { "required: left empty" } else { "left empty" };
            format!(
                "The {kinds}'s number, from its tag ({left_empty}, the nearest within {} m of the location is used).",
                used.snap_m
            )
        }),
        assets,
        internal: chosen.filter(|s| !s.is_public()).map(|_| staff.user.email.clone()),
        value: fields,
        errors,
    };
    Ok(html(status, &page))
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct Choose {
    q: Option<String>,
    service_code: Option<String>,
}

/// The caller's part of the form, which an internal request does not have.
const CALLER_FIELDS: [&str; 7] = ["first_name", "last_name", "phone", "email", "notify", "language", "channel"];

/// Refuses a member of staff whose role does not log requests (analysts).
fn logs_requests(staff: &Staff) -> Result<(), Fault> {
    if staff.user.role.logs_requests() {
        return Ok(());
    }
    let why = format!("Logging requests is not part of the {} role.", staff.user.role.as_str());
    Err(Fault::Refused(StatusCode::FORBIDDEN, why))
}

/// `GET /staff/intake`: find the category, then the form for it.
pub async fn page(State(state): State<AppState>, staff: Staff, Query(c): Query<Choose>) -> Page {
    logs_requests(&staff)?;
    let fields = [("q", c.q), ("service_code", c.service_code), ("channel", Some("phone".to_owned()))]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
        .collect();
    show(&state, &staff, fields, false, StatusCode::OK, Vec::new()).await
}

const EXPIRED: &str = "This form had expired; nothing was filed. Check the details and send it again.";

/// `POST /staff/intake`: file the request, or (`check`) look for nearby reports first.
pub async fn submit(State(state): State<AppState>, staff: Staff, Form(fields): Form<Vec<(String, String)>>) -> Page {
    logs_requests(&staff)?;
    if !staff.csrf_ok(field(&fields, "csrf")) {
        return show(&state, &staff, fields, false, StatusCode::FORBIDDEN, vec![EXPIRED.to_owned()]).await;
    }
    let mut fields = fields;
    // A place chosen from those an address may mean: located, and checked for reports
    // nearby, before it is filed.
    let picked = field(&fields, "pick_address").map(str::to_owned);
    if let Some(place) = &picked {
        fields.retain(|(k, _)| !matches!(k.as_str(), "pick_address" | "address_string" | "lat" | "long"));
        fields.push(("address_string".into(), place.clone()));
    }
    let places = match crate::addresses::locate_in_form(&state.city(), &mut fields, "address_string") {
        Lookup::Unclear(places) => places,
        Lookup::Located | Lookup::AsTyped => Vec::new(),
    };
    if !places.is_empty() {
        // The form again, asking which of them the caller means.
        return render(&state, &staff, fields, false, StatusCode::OK, Vec::new(), places).await;
    }
    if picked.is_some() || field(&fields, "check").is_some() {
        return show(&state, &staff, fields, true, StatusCode::OK, Vec::new()).await;
    }
    let internal = field(&fields, "service_code").and_then(|c| state.city().service(c).map(|s| !s.is_public()));
    let channel = match field(&fields, "channel") {
        _ if internal == Some(true) => Channel::Internal,
        Some("walk_in") => Channel::WalkIn,
        _ => Channel::Phone,
    };
    let mut filed = fields.clone();
    if channel == Channel::Internal {
        // The member of staff is the requester, and hears of it as a resident would.
        filed.retain(|(k, _)| !CALLER_FIELDS.contains(&k.as_str()));
        let me = &staff.user;
        filed.extend([
            ("first_name".to_owned(), me.display_name.clone()),
            ("email".to_owned(), me.email.clone()),
            ("notify".to_owned(), "email".to_owned()),
            ("language".to_owned(), "en".to_owned()),
        ]);
    }
    let raw = raw_request(&filed, Vec::new());
    let errors = match intake::submit_for_caller(&state, raw, channel, &staff.user.username).await {
        Ok(stored) => return Ok(Redirect::to(&format!("/staff/requests/{}?done=filed", stored.id)).into_response()),
        // No category chosen, or one that is gone.
        Err(e) if e.names("service_code") => vec!["Choose the category first.".to_owned()],
        Err(AppError::Invalid(errors)) => errors.iter().map(ToString::to_string).collect(),
        Err(e) => return Err(e.into()),
    };
    show(&state, &staff, fields, false, StatusCode::BAD_REQUEST, errors).await
}

/// `POST /staff/intake/follow/{id}`: the caller follows an existing request instead.
pub async fn follow(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    logs_requests(&staff)?;
    if !staff.csrf_ok(field(&fields, "csrf")) {
        return show(&state, &staff, fields, false, StatusCode::FORBIDDEN, vec![EXPIRED.to_owned()]).await;
    }
    let follower = match civic311_app::follow::follower(&fields) {
        Ok(f) => f,
        Err(e) => {
            let errors = vec![format!("To add the caller as a follower — {e}")];
            return show(&state, &staff, fields, true, StatusCode::BAD_REQUEST, errors).await;
        }
    };
    let seq = super::request::load(&state, &id).await?.id.seq;
    let city = state.city();
    let followed = civic311_app::engine::follow(
        &state.store,
        &city.workflow,
        seq,
        follower,
        true,
        &civic311_domain::workflow::Actor::Staff(staff.user.username.clone()),
        state.now(),
    )
    .await
    .map_err(|e| match e {
        AppError::NotFound(_) => Fault::Refused(StatusCode::NOT_FOUND, format!("There is no request {id}.")),
        e => e.into(),
    })?;
    Ok(Redirect::to(&format!("/staff/requests/{}?done=follow", followed.id)).into_response())
}
