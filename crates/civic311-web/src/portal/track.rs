//! A request's public page, by its number: status, the public timeline and notes,
//! when it is expected, where, and its public photos — never the requester's contact
//! details or internal notes. Anyone can follow it by email or SMS, or stop following.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use civic311_domain::i18n::Texts;
use civic311_domain::notify::{Follower, NotifyChannel};
use civic311_domain::request::{Event, RequestId, ServiceRequest, Status};
use jiff::Timestamp;

use super::{Chrome, Lang, failure, field, message};
use crate::AppState;
use crate::i18n;
use crate::open311::follower;
use crate::open311::render::{PUBLIC_EVENT_KINDS, is_public};
use crate::throttle::ClientAddr;

#[derive(Template)]
#[template(path = "portal/track.html")]
struct TrackPage {
    c: Chrome,
    t: &'static Texts,
    number: String,
    service: String,
    service_notice: String,
    status: &'static str,
    status_class: &'static str,
    merged_into: Option<String>,
    submitted: String,
    expected: Option<String>,
    closed: Option<String>,
    place: String,
    description: String,
    map: Option<String>,
    tiles: Option<String>,
    photos: Vec<i64>,
    timeline: Vec<(String, String)>,
    filed: bool,
    notice: Option<&'static str>,
    errors: Vec<String>,
    value: Vec<(String, String)>,
}

impl TrackPage {
    fn v(&self, name: &str) -> &str {
        self.value.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }
}

pub(super) fn not_found(state: &AppState, lang: &Lang) -> Response {
    let t = lang.t;
    message(state, lang, StatusCode::NOT_FOUND, t.get("track.not_found_title"), t.get("track.not_found"))
}

/// The public request with this number, or `None`.
async fn find(state: &AppState, number: &str) -> Result<Option<ServiceRequest>, civic311_store::StoreError> {
    let Some((year, seq)) = RequestId::parse(number.trim()) else { return Ok(None) };
    let Some(r) = state.store.request(seq).await? else { return Ok(None) };
    let public = state.city().service(&r.service_code).is_some_and(|s| s.is_public());
    Ok((public && year.is_none_or(|y| y == r.id.year)).then_some(r))
}

/// A time in the city's zone, as the resident's language writes it.
pub(super) fn when(state: &AppState, t: &Texts, at: Timestamp) -> String {
    i18n::datetime(t, &at.to_zoned(state.city().tz.clone()))
}

/// What a public event says, in the resident's words.
fn say(t: &'static Texts, e: &Event) -> String {
    let text = |k: &str| e.data.get(k).and_then(|v| v.as_str()).filter(|n| !n.is_empty());
    match e.kind.as_str() {
        "created" => t.get("track.event_created").to_owned(),
        "note" => text("text").unwrap_or_default().to_owned(),
        _ => {
            let to = text("to")
                .and_then(|s| Status::ALL.into_iter().find(|x| x.as_str() == s))
                .map_or_else(|| t.get("track.event_updated"), |s| t.status(s));
            let changed = t.get("track.event_status").replace("{status}", to);
            match text("note") {
                Some(note) => format!("{changed}: {note}"),
                None => changed,
            }
        }
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct PageParams {
    filed: Option<String>,
    followed: Option<String>,
    unfollowed: Option<String>,
}

async fn show(
    state: &AppState,
    lang: &Lang,
    r: &ServiceRequest,
    params: &PageParams,
    status: StatusCode,
    errors: Vec<String>,
    value: Vec<(String, String)>,
) -> Response {
    let t = lang.t;
    let city = state.city();
    let ids = [r.id.seq];
    let (events, photos, original) = match tokio::try_join!(
        state.store.events_of(&ids, &PUBLIC_EVENT_KINDS),
        state.store.photos(r.id.seq),
        crate::duplicates::public_original(state, &city, r),
    ) {
        Ok(x) => x,
        Err(e) => return failure(state, lang, e),
    };
    let service = city.service(&r.service_code).map(|s| s.localized(t.code));
    let point = r.location.point;
    let areas = city.outline_of(&r.areas);
    let number = r.id.to_string();
    let place = match (&r.location.address, point) {
        (Some(a), _) => a.clone(),
        (None, Some(p)) => format!("{:.5}, {:.5}", p.lat, p.lon),
        (None, None) => String::new(),
    };
    let notice = if params.followed.is_some() {
        Some(t.get("follow.done"))
    } else if params.unfollowed.is_some() {
        Some(t.get("follow.stopped"))
    } else {
        None
    };
    let page = TrackPage {
        c: Chrome::new(state, lang, &format!("/requests/{number}"), "requests"),
        t,
        service: service.as_ref().map_or_else(|| r.service_code.clone(), |s| s.name.clone()),
        service_notice: service.map(|s| s.service_notice).unwrap_or_default(),
        status: t.status(r.status),
        status_class: r.status.as_str(),
        merged_into: original.map(|o| o.id.to_string()),
        submitted: when(state, t, r.requested_at),
        expected: r.expected_at.filter(|_| r.closed_at.is_none()).map(|at| when(state, t, at)),
        closed: r.closed_at.map(|at| when(state, t, at)),
        place,
        description: r.description.clone(),
        map: point.and_then(|p| crate::ui::map::svg(p, &areas, &[], t.get("track.map_label"))),
        tiles: state.map_tiles.as_ref().zip(point).map(|(tl, p)| crate::ui::map::over_tiles(tl, p, &areas, &[])),
        photos: photos.iter().filter(|p| p.public).map(|p| p.id).collect(),
        timeline: events
            .iter()
            .map(|(_, e)| e)
            .filter(|e| is_public(e))
            .map(|e| (when(state, t, e.at), say(t, e)))
            .collect(),
        filed: params.filed.is_some(),
        notice,
        errors,
        value,
        number,
    };
    lang.render(status, &page)
}

/// The public request with this number, or the page to answer with instead.
async fn found(state: &AppState, lang: &Lang, number: &str) -> Result<ServiceRequest, Box<Response>> {
    match find(state, number).await {
        Ok(Some(r)) => Ok(r),
        Ok(None) => Err(Box::new(not_found(state, lang))),
        Err(e) => Err(Box::new(failure(state, lang, e))),
    }
}

/// `GET /requests/{number}`.
pub async fn page(
    State(state): State<AppState>,
    lang: Lang,
    Path(number): Path<String>,
    Query(params): Query<PageParams>,
) -> Response {
    match found(&state, &lang, &number).await {
        Ok(r) => show(&state, &lang, &r, &params, StatusCode::OK, Vec::new(), Vec::new()).await,
        Err(page) => *page,
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct Lookup {
    number: Option<String>,
}

/// `GET /track?number=…`: the lookup form on the home page.
pub async fn lookup(State(state): State<AppState>, lang: Lang, Query(q): Query<Lookup>) -> Response {
    let number = q.number.unwrap_or_default();
    match RequestId::parse(number.trim()) {
        Some(_) => Redirect::to(&format!("/requests/{}", crate::ui::encode(number.trim()))).into_response(),
        None => not_found(&state, &lang),
    }
}

/// The follower a portal form describes, in the resident's language; `None` when it
/// gives no usable email or phone.
pub(super) fn follower_from(fields: &[(String, String)], t: &Texts) -> Option<Follower> {
    let mut fields: Vec<(String, String)> = fields
        .iter()
        .filter(|(k, v)| !(k == "notify" && NotifyChannel::parse(v) == Some(NotifyChannel::None)))
        .cloned()
        .collect();
    // "Updates by email" with only a phone given means SMS, and the other way round.
    let has = |k: &str| field(&fields, k).is_some();
    let wants = field(&fields, "notify").map(str::to_owned);
    if (wants.as_deref() == Some("email") && !has("email") && has("phone"))
        || (wants.as_deref() == Some("sms") && !has("phone") && has("email"))
    {
        fields.retain(|(k, _)| k != "notify");
    }
    if field(&fields, "language").is_none() {
        fields.push(("language".into(), t.code.to_owned()));
    }
    follower(&fields).ok()
}

/// `POST /requests/{number}/follow`.
pub async fn follow(
    State(state): State<AppState>,
    lang: Lang,
    client: ClientAddr,
    Path(number): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(busy) = super::throttled(&state, &lang, client) {
        return *busy;
    }
    let r = match found(&state, &lang, &number).await {
        Ok(r) => r,
        Err(page) => return *page,
    };
    let Some(follower) = follower_from(&fields, lang.t) else {
        let errors = vec![lang.t.get("follow.contact_needed").to_owned()];
        return show(&state, &lang, &r, &PageParams::default(), StatusCode::BAD_REQUEST, errors, fields).await;
    };
    match crate::duplicates::follow_public(&state, r.id.seq, follower).await {
        Ok(Some(followed)) => Redirect::to(&format!("/requests/{}?followed=1", followed.id)).into_response(),
        Ok(None) => not_found(&state, &lang),
        Err(e) => failure(&state, &lang, e),
    }
}

/// `POST /requests/{number}/unfollow` with `address` (an email or phone). The answer
/// is the same whether or not the address was following, so nobody learns who does.
pub async fn unfollow(
    State(state): State<AppState>,
    lang: Lang,
    client: ClientAddr,
    Path(number): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(busy) = super::throttled(&state, &lang, client) {
        return *busy;
    }
    let r = match found(&state, &lang, &number).await {
        Ok(r) => r,
        Err(page) => return *page,
    };
    let address = field(&fields, "address").unwrap_or("");
    let followers = match state.store.followers(r.id.seq).await {
        Ok(f) => f,
        Err(e) => return failure(&state, &lang, e),
    };
    let same = |a: &str| a.eq_ignore_ascii_case(address);
    if let Some(f) = followers.into_iter().find(|f| !address.is_empty() && same(&f.address)) {
        let city = state.city();
        if let Err(e) = civic311_jobs::follow(&state.store, &city.workflow, r.id.seq, f, false, state.now()).await {
            return failure(&state, &lang, e);
        }
    }
    Redirect::to(&format!("/requests/{}?unfollowed=1", r.id)).into_response()
}
