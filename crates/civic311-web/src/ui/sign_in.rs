//! Signing in and out. The sign-in form is protected from cross-site posting by a
//! double-submitted value (a cookie and a hidden field that must match); after sign-in
//! the session's own CSRF value protects every form. Attempts are counted in the store
//! before the password is checked, per username and client and per username from
//! everywhere ([`civic311_domain::signin::Lockout`]); past the free ones each waits.

use crate::form::Form;
use crate::ui::session::StaffChrome;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use civic311_domain::org::{Role, StaffUser};
use civic311_domain::signin::{EVERYWHERE, Lockout};
use civic311_store::Session;
use jiff::Timestamp;

use super::session::{LIFETIME, SESSION, Staff, form_cookie_ok, set_cookie};
use super::{Fault, Page};
use crate::AppState;
use crate::page::html;
use crate::throttle::{self, ClientAddr};
use civic311_app::passwords;
use civic311_app::tokens::new_token;
use civic311_app::tokens::token_hash;

/// The cookie that carries the sign-in form's CSRF value.
const FORM_COOKIE: &str = "civic311_sign_in";

#[derive(Template)]
#[template(path = "staff/sign_in.html")]
struct SignInPage<'a> {
    c: StaffChrome,
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

/// Where a member of staff starts the day: call takers on the intake screen, field
/// staff on their team's open work, supervisors on the supervisor view, analysts on
/// their department's queue (until there are reports), everyone else on their own work.
fn landing(user: &StaffUser) -> &'static str {
    match user.role {
        Role::Intake => "/staff/intake",
        Role::Field if user.team.is_some() => "/staff?view=team",
        Role::Supervisor => "/staff/supervisor",
        Role::Analyst => "/staff?view=department",
        Role::Field | Role::Staff | Role::Admin => "/staff",
    }
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
    let page = SignInPage { c: StaffChrome::signed_out(state, &csrf), next, username, error, reset_done };
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

/// Whether an attempt may be checked: `Ok(Err(message))` says why it waits. Counted
/// for this client first, then for the account from everywhere — whether or not the
/// username exists, so a lockout tells nobody which names do.
async fn claim(
    state: &AppState,
    username: &str,
    client: &ClientAddr,
) -> Result<Result<(), String>, civic311_store::StoreError> {
    let now = state.now();
    let minutes = |until: Timestamp| (until.duration_since(now).as_secs().max(1) + 59) / 60;
    let store = &state.store;
    if let Err(until) = store.claim_sign_in(username, &client.key(), Lockout::PER_CLIENT, now).await? {
        return Ok(Err(format!(
            "Too many failed sign-ins from here. Try again in {} minute(s), or use “Forgotten your password?”.",
            minutes(until)
        )));
    }
    Ok(store.claim_sign_in(username, EVERYWHERE, Lockout::EVERYWHERE, now).await?.map_err(|until| {
        format!(
            "This account has had too many failed sign-ins. Use “Forgotten your password?” to get in now, \
             or try again in {} minute(s).",
            minutes(until)
        )
    }))
}

/// `POST /staff/sign-in`. Every attempt is counted before its password is checked,
/// and a client has a budget of attempts whatever names it tries.
pub async fn submit(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    Form(f): Form<SignIn>,
) -> Page {
    let next = safe_next(f.next.as_deref()).to_owned();
    let username = f.username.trim().to_owned();
    let again = |status, error: &str| form_page(&state, status, &next, &username, Some(error.to_owned()));
    if !form_cookie_ok(&headers, FORM_COOKIE, &f.csrf) {
        return Ok(again(StatusCode::FORBIDDEN, "The sign-in form had expired. Please sign in again."));
    }
    let now = state.now();
    if let Err(r) = state.throttles.sign_in.take(&client.key(), throttle::SIGN_IN, now) {
        let message = format!("Too many sign-in attempts from here. Try again in {} second(s).", r.retry_after);
        let mut page = again(StatusCode::TOO_MANY_REQUESTS, &message);
        page.headers_mut().insert(header::RETRY_AFTER, r.retry_after.into());
        return Ok(page);
    }
    if username.is_empty() || username.chars().count() > 100 {
        return Ok(again(StatusCode::UNAUTHORIZED, "The username or password is not right."));
    }
    if let Err(message) = claim(&state, &username, &client).await? {
        return Ok(again(StatusCode::TOO_MANY_REQUESTS, &message));
    }
    // Known or not, the same work: an unknown name is checked against a decoy hash.
    let users = state.store.users().await?;
    let user = users.into_iter().find(|u| u.username == username && u.active);
    let credentials = match &user {
        Some(u) => state.store.credentials(&u.username).await?,
        None => None,
    };
    let hash = credentials.map(|c| c.password_hash).filter(|_| user.is_some());
    if !passwords::verify(&state.codecs.passwords, f.password, hash).await {
        return Ok(again(StatusCode::UNAUTHORIZED, "The username or password is not right."));
    }
    let token = new_token();
    let session = Session {
        token_hash: token_hash(&token),
        username: username.clone(),
        csrf: new_token(),
        created_at: now,
        expires_at: now.checked_add(LIFETIME).unwrap_or(now),
    };
    for scope in [client.key().as_str(), EVERYWHERE] {
        state.store.clear_sign_ins(&username, Some(scope)).await?;
    }
    state.store.create_session(&session).await?;
    // Signing in without a page to return to lands where the role works.
    let next = match &user {
        Some(u) if next == "/staff" => landing(u),
        _ => next.as_str(),
    };
    let mut response = Redirect::to(next).into_response();
    let h = response.headers_mut();
    h.append(header::SET_COOKIE, set_cookie(&state, SESSION, &token, Some(LIFETIME)));
    h.append(header::SET_COOKIE, set_cookie(&state, FORM_COOKIE, "", None));
    Ok(response)
}

#[derive(Debug, serde::Deserialize)]
pub struct SignOut {
    csrf: Option<String>,
}

/// `POST /staff/sign-out`.
pub async fn sign_out(State(state): State<AppState>, staff: Staff, Form(f): Form<SignOut>) -> Page {
    if !staff.csrf_ok(f.csrf.as_deref()) {
        let expired = "This form had expired; reload the page and try again.";
        return Err(Fault::Refused(StatusCode::FORBIDDEN, expired.to_owned()));
    }
    state.store.end_session(&staff.session.token_hash).await?;
    let mut response = Redirect::to("/staff/sign-in").into_response();
    response.headers_mut().append(header::SET_COOKIE, set_cookie(&state, SESSION, "", None));
    Ok(response)
}
