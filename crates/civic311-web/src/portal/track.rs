//! A request's public page, by its number: status, the public timeline and notes,
//! when it is expected, where, and its public photos — never the requester's contact
//! details or internal notes. Anyone can follow it by email or SMS, or stop following.

use crate::form::Form;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use civic311_domain::i18n::Texts;
use civic311_domain::notify::{Follower, LinkPurpose, NotifyChannel};
use civic311_domain::request::{Event, EventKind, ServiceRequest, Status};
use jiff::Timestamp;

use super::{Chrome, Instead, Lang, Page, fault, field, message, refused};
use crate::AppState;
use crate::i18n;
use crate::throttle::ClientAddr;
use civic311_app::AppError;
use civic311_domain::request::PUBLIC_EVENT_KINDS;

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
    /// Past its due time and still being worked on.
    delayed: bool,
    /// Just filed: how long such requests took here lately, when there are enough.
    typical: Option<String>,
    expected: Option<String>,
    /// The due time a delayed request was first given.
    was_expected: Option<String>,
    resolved: Option<String>,
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
    let Some(r) = state.request_named(number.trim()).await? else { return Ok(None) };
    let public = state.city().service(&r.service_code).is_some_and(|s| s.is_public());
    Ok(public.then_some(r))
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

/// The dates a resident reads on a request's page.
#[derive(Debug, Default, PartialEq)]
struct Dates {
    delayed: bool,
    /// When the work is expected to be done, while it is still to do and that moment
    /// is ahead (a delayed request's new date).
    expected: Option<Timestamp>,
    /// A delayed request's original due time.
    was_expected: Option<Timestamp>,
    /// When it was last resolved, if it is resolved (or closed after being resolved).
    resolved: Option<Timestamp>,
    /// When it was last closed, if it is closed (or merged as a duplicate).
    closed: Option<Timestamp>,
}

impl Dates {
    fn of<'a>(r: &ServiceRequest, events: impl Iterator<Item = &'a Event>, now: Timestamp) -> Self {
        let mut last_to = std::collections::BTreeMap::new();
        for e in events.filter(|e| e.kind == EventKind::StatusChanged) {
            if let Some(to) = e.data.get("to").and_then(|v| v.as_str()) {
                last_to.insert(to.to_owned(), e.at);
            }
        }
        let entered = |s: Status| last_to.get(s.as_str()).copied().or(r.closed_at);
        let delayed = r.delayed(now);
        let expected = r.expected_by().filter(|at| !r.status.is_closed() && (!delayed || *at > now));
        Self {
            delayed,
            expected,
            was_expected: r.expected_at.filter(|_| delayed),
            resolved: match r.status {
                Status::Resolved => entered(Status::Resolved),
                Status::Closed => last_to.get(Status::Resolved.as_str()).copied(),
                _ => None,
            },
            closed: matches!(r.status, Status::Closed | Status::Duplicate).then(|| entered(r.status)).flatten(),
        }
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct PageParams {
    filed: Option<String>,
    /// A follow was asked for: the confirmation is on its way.
    asked: Option<String>,
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
) -> Page {
    let t = lang.t;
    let city = state.city();
    let ids = [r.id.seq];
    let (events, photos, original) = tokio::try_join!(
        state.store.events_of(&ids, &PUBLIC_EVENT_KINDS),
        state.store.photos(r.id.seq),
        civic311_app::duplicates::public_original(state, &city, r),
    )
    .map_err(fault(state, lang))?;
    let service = city.service(&r.service_code).map(|s| s.localized(t.code));
    let point = r.location.point;
    let areas = city.outline_of(&r.areas);
    let number = r.id.to_string();
    let place = match (super::place(&city, t, &r.location), point) {
        (Some(a), _) => a,
        (None, Some(p)) => format!("{:.5}, {:.5}", p.lat, p.lon),
        (None, None) => String::new(),
    };
    let dates = Dates::of(r, events.iter().map(|(_, e)| e), state.now());
    let filed = params.filed.is_some();
    let typical = if filed && !r.status.is_closed() {
        civic311_app::typical::typical(state, r).await.map_err(fault(state, lang))?
    } else {
        None
    };
    let service_name = service.as_ref().map_or_else(|| r.service_code.clone(), |s| s.name.clone());
    let typical = typical.map(|x| typical_words(t, &service_name, &x));
    let notice = if params.asked.is_some() {
        Some(t.get("follow.asked"))
    } else if params.followed.is_some() {
        Some(t.get("follow.done"))
    } else if params.unfollowed.is_some() {
        Some(t.get("follow.stopped"))
    } else {
        None
    };
    let page = TrackPage {
        c: Chrome::new(state, lang, &format!("/requests/{number}"), "requests"),
        t,
        service: service_name,
        service_notice: service.map(|s| s.service_notice).unwrap_or_default(),
        status: t.status(r.status),
        status_class: r.status.as_str(),
        merged_into: original.map(|o| o.id.to_string()),
        submitted: when(state, t, r.requested_at),
        delayed: dates.delayed,
        expected: dates.expected.map(|at| when(state, t, at)),
        was_expected: dates.was_expected.map(|at| when(state, t, at)),
        resolved: dates.resolved.map(|at| when(state, t, at)),
        closed: dates.closed.map(|at| when(state, t, at)),
        place,
        description: r.description.clone(),
        map: point.and_then(|p| crate::ui::map::svg(p, &areas, &[], t.get("track.map_label"))),
        tiles: state.map_tiles.as_ref().zip(point).map(|(tl, p)| crate::ui::map::over_tiles(tl, p, &areas, &[])),
        photos: photos.iter().filter(|p| p.public).map(|p| p.id).collect(),
        timeline: events
            .iter()
            .map(|(_, e)| e)
            .filter(|e| e.is_public())
            .map(|e| (when(state, t, e.at), say(t, e)))
            .collect(),
        filed,
        typical,
        notice,
        errors,
        value,
        number,
    };
    Ok(lang.render(status, &page))
}

/// "Half of the Pothole requests in Ward 1 resolved in the last 90 days took 6 days or
/// less", in `t`'s language: whole days, rounded up.
/// "Half of the Pothole requests in Ward 1 resolved in the last 90 days took 6 days or
/// less." in the language of `t`.
pub(crate) fn typical_words(t: &Texts, service: &str, x: &civic311_app::typical::Typical) -> String {
    let time = if x.median_days < 1.0 {
        t.get("track.typical_under_a_day").to_owned()
    } else {
        match x.median_days.ceil() as u64 {
            1 => t.get("track.typical_day").to_owned(),
            n => t.get("track.typical_days").replace("{n}", &n.to_string()),
        }
    };
    t.get("track.typical").replace("{service}", service).replace("{area}", &x.area).replace("{time}", &time)
}

/// The public request with this number, or the page to answer with instead.
async fn found(state: &AppState, lang: &Lang, number: &str) -> Result<ServiceRequest, Instead> {
    find(state, number).await.map_err(fault(state, lang))?.ok_or_else(|| not_found(state, lang).into())
}

/// `GET /requests/{number}`.
pub async fn page(
    State(state): State<AppState>,
    lang: Lang,
    Path(number): Path<String>,
    Query(params): Query<PageParams>,
) -> Page {
    let r = found(&state, &lang, &number).await?;
    show(&state, &lang, &r, &params, StatusCode::OK, Vec::new(), Vec::new()).await
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct Lookup {
    number: Option<String>,
}

/// `GET /track?number=…`: the lookup form on the home page. The number may be typed
/// as people do (`2026 005001`, `2026005001`, `5001`); the request's page is at its
/// proper number.
pub async fn lookup(State(state): State<AppState>, lang: Lang, Query(q): Query<Lookup>) -> Response {
    let number = q.number.unwrap_or_default();
    match find(&state, &number).await {
        Ok(Some(r)) => Redirect::to(&format!("/requests/{}?lang={}", r.id, lang.t.code)).into_response(),
        Ok(None) => not_found(&state, &lang),
        Err(e) => super::failure(&state, &lang, e),
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
    civic311_app::follow::follower(&fields).ok()
}

/// Asks for `follower` to follow request `seq` and answers as the portal does: back to
/// the request followed, saying a confirmation is on its way (the same whether or not
/// one was sent).
pub(super) async fn ask_to_follow(state: &AppState, lang: &Lang, seq: i64, follower: Follower) -> Response {
    match civic311_app::follow::ask(state, seq, follower).await {
        Ok(r) => Redirect::to(&format!("/requests/{}?asked=1", r.id)).into_response(),
        Err(AppError::Unavailable(why)) => {
            tracing::error!("a resident asked to follow, but {why}");
            let t = lang.t;
            message(state, lang, StatusCode::SERVICE_UNAVAILABLE, t.get("follow.heading"), t.get("follow.no_links"))
        }
        Err(e) => refused(state, lang, e),
    }
}

/// `POST /requests/{number}/follow`: asks for a confirmation (see [`crate::follow`]).
pub async fn follow(
    State(state): State<AppState>,
    lang: Lang,
    client: ClientAddr,
    Path(number): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    super::throttled(&state, &lang, client)?;
    let r = found(&state, &lang, &number).await?;
    let Some(follower) = follower_from(&fields, lang.t) else {
        let errors = vec![lang.t.get("follow.contact_needed").to_owned()];
        return show(&state, &lang, &r, &PageParams::default(), StatusCode::BAD_REQUEST, errors, fields).await;
    };
    Ok(ask_to_follow(&state, &lang, r.id.seq, follower).await)
}

#[derive(Template)]
#[template(path = "portal/follow_link.html")]
struct LinkPage<'a> {
    c: Chrome,
    t: &'static Texts,
    title: &'a str,
    heading: String,
    text: String,
    action: String,
    button: &'a str,
    number: String,
}

/// The request and the follower a signed link names, or the page saying it does not
/// work (any more).
async fn linked(
    state: &AppState,
    lang: &Lang,
    number: &str,
    purpose: LinkPurpose,
    sig: &str,
) -> Result<(ServiceRequest, Follower), Instead> {
    let t = lang.t;
    let expired = || {
        let (title, text) = (t.get("follow.link_expired_title"), t.get("follow.link_expired"));
        Instead::from(message(state, lang, StatusCode::NOT_FOUND, title, text))
    };
    let r = find(state, number).await.map_err(fault(state, lang))?.ok_or_else(expired)?;
    let f = civic311_app::follow::named_by(state, purpose, &r, sig).await.map_err(fault(state, lang))?;
    Ok((r, f.ok_or_else(expired)?))
}

/// `GET /requests/{number}/confirm/{sig}` and `…/unfollow/{sig}`: what the link will
/// do, with a button — a mail scanner that opens links changes nothing.
async fn link_page(state: &AppState, lang: &Lang, number: &str, purpose: LinkPurpose, sig: &str) -> Page {
    let (r, f) = linked(state, lang, number, purpose, sig).await?;
    let t = lang.t;
    let city = state.city();
    let service = city.service(&r.service_code).map_or_else(|| r.service_code.clone(), |s| s.localized(t.code).name);
    let fill = |key: &str| {
        t.get(key)
            .replace("{number}", &r.id.to_string())
            .replace("{service}", &service)
            .replace("{address}", &civic311_app::follow::masked(&f.address))
    };
    let (title, heading, text, button) = match purpose {
        LinkPurpose::Confirm => (
            t.get("follow.confirm_title"),
            fill("follow.confirm_heading"),
            fill("follow.confirm_text"),
            t.get("follow.confirm"),
        ),
        LinkPurpose::Unfollow => {
            (t.get("follow.stop_title"), fill("follow.stop_question"), String::new(), t.get("follow.stop"))
        }
    };
    let path = civic311_app::follow::link_path(state, purpose, &r, &f.address);
    let page = LinkPage {
        c: Chrome::new(state, lang, &path, "requests"),
        t,
        title,
        heading,
        text,
        action: format!("{path}?lang={}", t.code),
        button,
        number: r.id.to_string(),
    };
    let mut response = lang.render(StatusCode::OK, &page);
    // The link is the credential: never cached, never sent on as a referrer.
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    Ok(response)
}

/// Carries out what a signed link's button asks: start or stop the updates.
async fn link_done(state: &AppState, lang: &Lang, number: &str, purpose: LinkPurpose, sig: &str) -> Page {
    let (r, f) = linked(state, lang, number, purpose, sig).await?;
    let on = purpose == LinkPurpose::Confirm;
    let city = state.city();
    civic311_app::engine::follow(
        &state.store,
        &city.workflow,
        r.id.seq,
        f,
        on,
        &civic311_domain::workflow::Actor::Resident,
        state.now(),
    )
    .await
    .map_err(fault(state, lang))?;
    let done = if on { "followed" } else { "unfollowed" };
    Ok(Redirect::to(&format!("/requests/{}?{done}=1&lang={}", r.id, lang.t.code)).into_response())
}

/// `GET /requests/{number}/confirm/{sig}` and `GET /requests/{number}/unfollow/{sig}`.
pub async fn link(
    State(state): State<AppState>,
    lang: Lang,
    Path((number, verb, sig)): Path<(String, String, String)>,
) -> Page {
    match LinkPurpose::parse(&verb) {
        Some(p) => link_page(&state, &lang, &number, p, &sig).await,
        None => Ok(not_found(&state, &lang)),
    }
}

/// `POST /requests/{number}/confirm/{sig}` (the address starts to follow) and
/// `POST /requests/{number}/unfollow/{sig}` (it stops). Only a link from a message
/// does either; staff may also stop an address from the request page.
pub async fn use_link(
    State(state): State<AppState>,
    lang: Lang,
    client: ClientAddr,
    Path((number, verb, sig)): Path<(String, String, String)>,
) -> Page {
    super::throttled(&state, &lang, client)?;
    match LinkPurpose::parse(&verb) {
        Some(p) => link_done(&state, &lang, &number, p, &sig).await,
        None => Ok(not_found(&state, &lang)),
    }
}
