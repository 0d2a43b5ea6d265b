//! The satisfaction page linked from the resolution notice: `/rate/{token}` shows the
//! resolved request and a 1–5 form; sending it is a `rate` action by the resident,
//! stored with the request and shown to staff. The token is the request's unguessable
//! lookup token, so the link is the only credential.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use civic311_domain::request::ServiceRequest;
use civic311_domain::workflow::{Action, Actor, WorkflowError};
use civic311_jobs::ActError;

use crate::AppState;
use crate::i18n::{self, Texts};
use crate::page::html;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/rate/{token}", get(show).post(submit))
}

/// Longest comment kept, in characters.
const MAX_COMMENT: usize = 2000;

#[derive(Template)]
#[template(path = "rate.html")]
struct RatePage<'a> {
    lang: &'static str,
    city: &'a str,
    t: &'static Texts,
    languages: Vec<(&'static str, &'static str)>,
    token: &'a str,
    number: String,
    service: &'a str,
    status: &'a str,
    resolution: Option<&'a str>,
    open_for_rating: bool,
    current: Option<u8>,
    choices: Vec<(u8, &'static str, bool)>,
    comment: &'a str,
    error: Option<&'static str>,
    notice: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    lang: &'static str,
    city: &'a str,
    title: &'static str,
    message: &'static str,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct PageParams {
    lang: Option<String>,
    done: Option<String>,
}

/// What a failed or refused submission shows again.
struct Retry<'a> {
    selected: Option<u8>,
    comment: &'a str,
    error: &'static str,
}

fn language(asked: Option<&str>, req: Option<&ServiceRequest>) -> &'static Texts {
    let contact = req.and_then(|r| r.contact.language.as_deref());
    i18n::texts(asked.filter(|l| !l.is_empty()).or(contact).unwrap_or(i18n::DEFAULT))
}

fn message(
    state: &AppState,
    status: StatusCode,
    t: &'static Texts,
    title: &'static str,
    text: &'static str,
) -> Response {
    let city = state.city();
    html(status, &MessagePage { lang: t.code, city: &city.settings.name, title: t.get(title), message: t.get(text) })
}

fn not_found(state: &AppState, t: &'static Texts) -> Response {
    message(state, StatusCode::NOT_FOUND, t, "rate.not_found_title", "rate.not_found")
}

fn failure(state: &AppState, t: &'static Texts, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "rating failed");
    message(state, StatusCode::INTERNAL_SERVER_ERROR, t, "page.error_title", "page.error")
}

fn page(
    state: &AppState,
    status: StatusCode,
    t: &'static Texts,
    token: &str,
    r: &ServiceRequest,
    retry: Option<Retry<'_>>,
    notice: Option<&'static str>,
) -> Response {
    let city = state.city();
    let current = r.workflow.rating.as_ref().map(|x| x.score);
    let selected = retry.as_ref().map_or(current, |x| x.selected);
    let keys = ["rate.score_1", "rate.score_2", "rate.score_3", "rate.score_4", "rate.score_5"];
    let choices = (1u8..=5).zip(keys).map(|(n, k)| (n, t.get(k), selected == Some(n))).collect();
    let saved_comment = r.workflow.rating.as_ref().map_or("", |x| x.comment.as_str());
    let status_key = format!("status.{}", r.status.as_str());
    let service = city.service(&r.service_code).map_or(r.service_code.as_str(), |s| s.name.as_str());
    let body = RatePage {
        lang: t.code,
        city: &city.settings.name,
        t,
        languages: i18n::languages(),
        token,
        number: r.id.to_string(),
        service,
        status: t.get(&status_key),
        resolution: r.status_notes.as_deref(),
        open_for_rating: Action::Rate { score: 1, comment: String::new() }.allowed_from().contains(&r.status),
        current,
        choices,
        comment: retry.as_ref().map_or(saved_comment, |x| x.comment),
        error: retry.map(|x| t.get(x.error)),
        notice: notice.map(|k| t.get(k)),
    };
    html(status, &body)
}

/// `GET /rate/{token}`.
async fn show(State(state): State<AppState>, Path(token): Path<String>, Query(q): Query<PageParams>) -> Response {
    let found = match state.store.request_by_token(&token).await {
        Ok(r) => r,
        Err(e) => return failure(&state, language(q.lang.as_deref(), None), e),
    };
    let t = language(q.lang.as_deref(), found.as_ref());
    match found {
        None => not_found(&state, t),
        Some(r) => {
            let notice = q.done.is_some().then_some("rate.thanks");
            page(&state, StatusCode::OK, t, &token, &r, None, notice)
        }
    }
}

/// `POST /rate/{token}` with `score` (1–5), `comment` and `lang`.
async fn submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let asked = field("lang");
    let found = match state.store.request_by_token(&token).await {
        Ok(r) => r,
        Err(e) => return failure(&state, language(asked, None), e),
    };
    let t = language(asked, found.as_ref());
    let Some(r) = found else { return not_found(&state, t) };
    let comment = field("comment").unwrap_or("");
    let score = field("score").and_then(|s| s.trim().parse::<u8>().ok()).filter(|s| (1..=5).contains(s));
    let retry = |error| Some(Retry { selected: score, comment, error });
    let Some(score) = score else {
        return page(&state, StatusCode::BAD_REQUEST, t, &token, &r, retry("rate.score_missing"), None);
    };
    if comment.chars().count() > MAX_COMMENT {
        return page(&state, StatusCode::BAD_REQUEST, t, &token, &r, retry("rate.comment_too_long"), None);
    }
    let city = state.city();
    let action = Action::Rate { score, comment: comment.to_owned() };
    let anyone = |_: &ServiceRequest| Ok(());
    match civic311_jobs::act(&state.store, &city.workflow, r.id.seq, &action, &Actor::Resident, &anyone, state.now())
        .await
    {
        Ok(_) => Redirect::to(&format!("/rate/{token}?lang={}&done=1", t.code)).into_response(),
        Err(ActError::Refused(WorkflowError::NotAllowed { .. })) => {
            page(&state, StatusCode::CONFLICT, t, &token, &r, None, None)
        }
        Err(ActError::Refused(WorkflowError::Invalid { .. })) => {
            page(&state, StatusCode::BAD_REQUEST, t, &token, &r, retry("rate.score_missing"), None)
        }
        Err(ActError::NotFound(_)) => not_found(&state, t),
        Err(e) => failure(&state, t, e),
    }
}
