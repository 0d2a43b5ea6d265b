//! Signing in and out. The sign-in form is protected from cross-site posting by a
//! double-submitted value (a cookie and a hidden field that must match); after sign-in
//! the session's own CSRF value protects every form. Failed attempts in a row make the
//! next attempt wait ([`civic311_domain::signin::wait_after`]).

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use civic311_domain::signin::wait_after;
use civic311_store::Session;

use super::session::{LIFETIME, SESSION, Staff, form_cookie_ok, set_cookie};
use crate::api::token_hash;
use crate::intake::new_token;
use crate::page::html;
use crate::{AppState, passwords};

/// The cookie that carries the sign-in form's CSRF value.
const FORM_COOKIE: &str = "civic311_sign_in";

#[derive(Template)]
#[template(path = "staff/sign_in.html")]
struct SignInPage<'a> {
    city: &'a str,
    csrf: &'a str,
    next: &'a str,
    username: &'a str,
    error: Option<String>,
    reset_done: bool,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct Next {
    next: Option<String>,
    reset: Option<String>,
}

/// Only paths inside the workspace are followed after sign-in, never another site.
fn safe_next(next: Option<&str>) -> &str {
    next.filter(|n| n.starts_with("/staff") && !n.starts_with("//") && !n.contains('\\')).unwrap_or("/staff")
}

/// The form with a fresh CSRF value in its cookie and field.
fn form_page(state: &AppState, status: StatusCode, next: &str, username: &str, error: Option<String>) -> Response {
    form_page_with(state, status, next, username, error, false)
}

fn form_page_with(
    state: &AppState,
    status: StatusCode,
    next: &str,
    username: &str,
    error: Option<String>,
    reset_done: bool,
) -> Response {
    let csrf = new_token();
    let city = state.city();
    let page = SignInPage { city: &city.settings.name, csrf: &csrf, next, username, error, reset_done };
    let mut response = html(status, &page);
    let set = set_cookie(state, FORM_COOKIE, &csrf, Some(jiff::SignedDuration::from_hours(1)));
    response.headers_mut().append(header::SET_COOKIE, set);
    response
}

/// `GET /staff/sign-in`.
pub async fn form(State(state): State<AppState>, Query(q): Query<Next>) -> Response {
    form_page_with(&state, StatusCode::OK, safe_next(q.next.as_deref()), "", None, q.reset.is_some())
}

#[derive(Debug, serde::Deserialize)]
pub struct SignIn {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    next: Option<String>,
}

/// `POST /staff/sign-in`.
pub async fn submit(State(state): State<AppState>, headers: HeaderMap, Form(f): Form<SignIn>) -> Response {
    let next = safe_next(f.next.as_deref()).to_owned();
    let username = f.username.trim().to_owned();
    let again = |status, error: &str| form_page(&state, status, &next, &username, Some(error.to_owned()));
    if !form_cookie_ok(&headers, FORM_COOKIE, &f.csrf) {
        return again(StatusCode::FORBIDDEN, "The sign-in form had expired. Please sign in again.");
    }
    let now = state.now();
    let users = match state.store.users().await {
        Ok(u) => u,
        Err(e) => return super::failure(e),
    };
    let user = users.into_iter().find(|u| u.username == username && u.active);
    let credentials = match &user {
        Some(u) => match state.store.credentials(&u.username).await {
            Ok(c) => c,
            Err(e) => return super::failure(e),
        },
        None => None,
    };
    if let Some(at) = credentials.as_ref().and_then(|c| c.retry_at).filter(|at| *at > now) {
        let minutes = (at.duration_since(now).as_secs() + 59) / 60;
        let message = format!("Too many failed sign-ins. Try again in {minutes} minute(s), or ask an administrator.");
        return again(StatusCode::TOO_MANY_REQUESTS, &message);
    }
    let hash = credentials.as_ref().map(|c| c.password_hash.clone());
    let known = user.is_some() && hash.is_some();
    if !passwords::verify(f.password, hash).await {
        if let Some(c) = credentials.filter(|_| known) {
            let failures = c.failures.saturating_add(1);
            let retry_at = wait_after(failures).and_then(|d| now.checked_add(d).ok());
            if let Err(e) = state.store.record_sign_in(&username, true, retry_at).await {
                return super::failure(e);
            }
        }
        return again(StatusCode::UNAUTHORIZED, "The username or password is not right.");
    }
    let token = new_token();
    let session = Session {
        token_hash: token_hash(&token),
        username: username.clone(),
        csrf: new_token(),
        created_at: now,
        expires_at: now.checked_add(LIFETIME).unwrap_or(now),
    };
    if let Err(e) = state.store.record_sign_in(&username, false, None).await {
        return super::failure(e);
    }
    if let Err(e) = state.store.create_session(&session).await {
        return super::failure(e);
    }
    let mut response = Redirect::to(&next).into_response();
    let h = response.headers_mut();
    h.append(header::SET_COOKIE, set_cookie(&state, SESSION, &token, Some(LIFETIME)));
    h.append(header::SET_COOKIE, set_cookie(&state, FORM_COOKIE, "", None));
    response
}

#[derive(Debug, serde::Deserialize)]
pub struct SignOut {
    csrf: Option<String>,
}

/// `POST /staff/sign-out`.
pub async fn sign_out(State(state): State<AppState>, staff: Staff, Form(f): Form<SignOut>) -> Response {
    if !staff.csrf_ok(f.csrf.as_deref()) {
        return (StatusCode::FORBIDDEN, "This form had expired; reload the page and try again.").into_response();
    }
    if let Err(e) = state.store.end_session(&staff.session.token_hash).await {
        return super::failure(e);
    }
    let mut response = Redirect::to("/staff/sign-in").into_response();
    response.headers_mut().append(header::SET_COOKIE, set_cookie(&state, SESSION, "", None));
    response
}
