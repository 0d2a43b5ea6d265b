//! The satisfaction page linked from the resolution notice: `/rate/{token}` shows the
//! resolved request and a 1–5 form; sending it is a `rate` action by the resident,
//! stored with the request and shown to staff. The token is the request's unguessable
//! lookup token, so the link is the only credential.

use crate::form::Form;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use civic311_app::AppError;
use civic311_domain::i18n::Texts;
use civic311_domain::request::ServiceRequest;
use civic311_domain::workflow::{Action, Actor};

use super::{Chrome, Instead, Lang, Page, fault, message, refused};
use crate::AppState;
use crate::throttle::ClientAddr;

/// Longest comment kept, in characters.
const MAX_COMMENT: usize = 2000;

#[derive(Template)]
#[template(path = "portal/rate.html")]
struct RatePage<'a> {
    c: Chrome,
    t: &'static Texts,
    token: &'a str,
    number: String,
    service: String,
    status: &'static str,
    resolution: Option<&'a str>,
    open_for_rating: bool,
    current: Option<u8>,
    choices: Vec<(u8, &'static str, bool)>,
    comment: &'a str,
    error: Option<&'static str>,
    notice: Option<&'static str>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct PageParams {
    done: Option<String>,
}

/// What a failed or refused submission shows again.
struct Retry<'a> {
    selected: Option<u8>,
    comment: &'a str,
    error: &'static str,
}

fn not_found(state: &AppState, lang: &Lang) -> Response {
    let t = lang.t;
    message(state, lang, StatusCode::NOT_FOUND, t.get("rate.not_found_title"), t.get("rate.not_found"))
}

/// The request the link is for, and the language to answer in: the one asked for,
/// else the one the resident chose when reporting.
async fn lookup(state: &AppState, lang: Lang, token: &str) -> Result<(ServiceRequest, Lang), Instead> {
    let Some(r) = state.store.request_by_token(token).await.map_err(fault(state, &lang))? else {
        return Err(not_found(state, &lang).into());
    };
    let lang = lang.unless_asked(r.contact.language.as_deref());
    Ok((r, lang))
}

fn page(
    state: &AppState,
    status: StatusCode,
    lang: &Lang,
    token: &str,
    r: &ServiceRequest,
    retry: Option<Retry<'_>>,
    notice: Option<&'static str>,
) -> Response {
    let (t, city) = (lang.t, state.city());
    let current = r.workflow.rating.as_ref().map(|x| x.score);
    let selected = retry.as_ref().map_or(current, |x| x.selected);
    let keys = ["rate.score_1", "rate.score_2", "rate.score_3", "rate.score_4", "rate.score_5"];
    let choices = (1u8..=5).zip(keys).map(|(n, k)| (n, t.get(k), selected == Some(n))).collect();
    let saved_comment = r.workflow.rating.as_ref().map_or("", |x| x.comment.as_str());
    let service = city.service(&r.service_code).map_or_else(|| r.service_code.clone(), |s| s.localized(t.code).name);
    let body = RatePage {
        c: Chrome::new(state, lang, &format!("/rate/{token}"), ""),
        t,
        token,
        number: r.id.to_string(),
        service,
        status: t.status(r.status),
        resolution: r.status_notes.as_deref(),
        open_for_rating: Action::Rate { score: 1, comment: String::new() }.allowed_from().contains(&r.status),
        current,
        choices,
        comment: retry.as_ref().map_or(saved_comment, |x| x.comment),
        error: retry.map(|x| t.get(x.error)),
        notice: notice.map(|k| t.get(k)),
    };
    lang.render(status, &body)
}

/// `GET /rate/{token}`.
pub(super) async fn show(
    State(state): State<AppState>,
    lang: Lang,
    Path(token): Path<String>,
    Query(q): Query<PageParams>,
) -> Page {
    let (r, lang) = lookup(&state, lang, &token).await?;
    let notice = q.done.is_some().then_some("rate.thanks");
    Ok(page(&state, StatusCode::OK, &lang, &token, &r, None, notice))
}

/// `POST /rate/{token}` with `score` (1–5) and `comment`.
pub(super) async fn submit(
    State(state): State<AppState>,
    lang: Lang,
    client: ClientAddr,
    Path(token): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Page {
    super::throttled(&state, &lang, client)?;
    let (r, lang) = lookup(&state, lang, &token).await?;
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let comment = field("comment").unwrap_or("");
    let score = field("score").and_then(|s| s.trim().parse::<u8>().ok()).filter(|s| (1..=5).contains(s));
    let retry = |error| Some(Retry { selected: score, comment, error });
    let Some(score) = score else {
        return Ok(page(&state, StatusCode::BAD_REQUEST, &lang, &token, &r, retry("rate.score_missing"), None));
    };
    if comment.chars().count() > MAX_COMMENT {
        return Ok(page(&state, StatusCode::BAD_REQUEST, &lang, &token, &r, retry("rate.comment_too_long"), None));
    }
    let city = state.city();
    let action = Action::Rate { score, comment: comment.to_owned() };
    let anyone = |_: &ServiceRequest| Ok(());
    let acted = civic311_app::engine::act(
        &state.store,
        &city.workflow,
        r.id.seq,
        &action,
        &Actor::Resident,
        &anyone,
        state.now(),
    )
    .await;
    Ok(match acted {
        Ok(_) => Redirect::to(&format!("/rate/{token}?lang={}&done=1", lang.t.code)).into_response(),
        Err(AppError::Conflict(_)) => page(&state, StatusCode::CONFLICT, &lang, &token, &r, None, None),
        Err(AppError::Invalid(_)) => {
            page(&state, StatusCode::BAD_REQUEST, &lang, &token, &r, retry("rate.score_missing"), None)
        }
        Err(AppError::NotFound(_)) => not_found(&state, &lang),
        Err(e) => refused(&state, &lang, e),
    })
}
