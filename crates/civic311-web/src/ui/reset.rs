//! Forgotten passwords: a member of staff asks by username or email, and a link that
//! works once, for 30 minutes, is mailed to the address on file. The answer is the
//! same whether or not the account exists. The link is sent at once, never through
//! the outbox, whose contents staff can read.

use crate::form::Form;
use crate::ui::session::StaffChrome;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use civic311_domain::signin::check_password;
use jiff::SignedDuration;

use super::Page;
use super::session::{form_cookie_ok, set_cookie};
use crate::AppState;
use crate::page::html;
use crate::throttle::{self, ClientAddr};
use civic311_app::passwords;
use civic311_app::tokens::new_token;
use civic311_app::tokens::token_hash;

/// How long a reset link works.
pub const LINK_LIFETIME: SignedDuration = SignedDuration::from_mins(30);

/// At most one link per user this often.
const ONE_LINK_PER: SignedDuration = SignedDuration::from_mins(5);

/// What the forgot form says when this server has no public address to link to.
const NO_PUBLIC_URL: &str = "This server cannot mail reset links until its administrator sets its public address \
     (CIVIC311_PUBLIC_URL, e.g. https://311.example.gov). Ask an administrator to set your password.";

/// What the forgot form says to a client over its budget.
const TOO_MANY: &str = "Too many requests from here just now. Please wait a few minutes and try again.";

/// The cookie carrying the forgot form's CSRF value.
const FORM_COOKIE: &str = "civic311_forgot";

#[derive(Template)]
#[template(path = "staff/forgot.html")]
struct ForgotPage {
    c: StaffChrome,
    sent: bool,
    error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "staff/reset.html")]
struct ResetPage<'a> {
    c: StaffChrome,
    token: &'a str,
    username: &'a str,
    error: Option<String>,
}

fn forgot_page(state: &AppState, status: StatusCode, sent: bool, error: Option<&'static str>) -> Response {
    let csrf = new_token();
    let mut r = html(status, &ForgotPage { c: StaffChrome::signed_out(state, &csrf), sent, error });
    r.headers_mut()
        .append(header::SET_COOKIE, set_cookie(state, FORM_COOKIE, &csrf, Some(SignedDuration::from_hours(1))));
    r
}

/// `GET /staff/forgot`.
pub async fn forgot_form(State(state): State<AppState>) -> Response {
    forgot_page(&state, StatusCode::OK, false, None)
}

#[derive(Debug, serde::Deserialize)]
pub struct Forgot {
    #[serde(default)]
    who: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /staff/forgot`.
pub async fn forgot(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    Form(f): Form<Forgot>,
) -> Page {
    if !form_cookie_ok(&headers, FORM_COOKIE, &f.csrf) {
        return Ok(forgot_page(&state, StatusCode::FORBIDDEN, false, Some("The form had expired. Please try again.")));
    }
    if let Err(r) = state.throttles.sign_in.take(&client.key(), throttle::SIGN_IN, state.now()) {
        let mut page = forgot_page(&state, StatusCode::TOO_MANY_REQUESTS, false, Some(TOO_MANY));
        page.headers_mut().insert(header::RETRY_AFTER, r.retry_after.into());
        return Ok(page);
    }
    // A link built from the request's Host header would let anyone who asks for a
    // reset choose where the link points; without a configured address none is sent.
    let Some(base) = state.mail_base().map(str::to_owned) else {
        tracing::error!("a password reset was asked for, but CIVIC311_PUBLIC_URL is not set: no link can be mailed");
        return Ok(forgot_page(&state, StatusCode::SERVICE_UNAVAILABLE, false, Some(NO_PUBLIC_URL)));
    };
    let who = f.who.trim();
    let users = state.store.users().await?;
    let user = users.into_iter().find(|u| u.active && (u.username == who || u.email.eq_ignore_ascii_case(who)));
    if let Some(u) = user.filter(|_| !who.is_empty()) {
        let now = state.now();
        let token = new_token();
        let expires = now.checked_add(LINK_LIFETIME).unwrap_or(now);
        let not_since = now.checked_sub(ONE_LINK_PER).unwrap_or(now);
        match state.store.create_password_reset(&token_hash(&token), &u.username, now, expires, not_since).await {
            Ok(true) => {
                let city = state.city();
                let body = format!(
                    "Someone asked to reset the password of {} for {} 311 staff.\n\n\
                     To choose a new password, open this link within 30 minutes (it works once):\n{base}/staff/reset/{token}\n\n\
                     If it was not you, ignore this message: your password has not changed.",
                    u.username, city.settings.name
                );
                if let Err(e) = state.notifiers.email(&u.email, "Reset your 311 staff password", &body).await {
                    tracing::error!(error = %e, user = u.username, "the password reset link could not be mailed");
                }
            }
            Ok(false) => tracing::info!(user = u.username, "a reset link was sent moments ago; not sending another"),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(forgot_page(&state, StatusCode::OK, true, None))
}

fn expired(state: &AppState) -> Response {
    let page = ResetPage {
        c: StaffChrome::signed_out(state, ""),
        token: "",
        username: "",
        error: Some("This link has expired or was already used. Ask for a new one.".into()),
    };
    html(StatusCode::NOT_FOUND, &page)
}

/// `GET /staff/reset/{token}`.
pub async fn reset_form(State(state): State<AppState>, Path(token): Path<String>) -> Page {
    let Some(username) = state.store.password_reset_user(&token_hash(&token), state.now()).await? else {
        return Ok(expired(&state));
    };
    let page = ResetPage { c: StaffChrome::signed_out(&state, ""), token: &token, username: &username, error: None };
    Ok(html(StatusCode::OK, &page))
}

#[derive(Debug, serde::Deserialize)]
pub struct Reset {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /staff/reset/{token}`. The token in the path is itself the credential, so the
/// form needs no other CSRF value.
pub async fn reset(State(state): State<AppState>, Path(token): Path<String>, Form(f): Form<Reset>) -> Page {
    let hash = token_hash(&token);
    let Some(username) = state.store.password_reset_user(&hash, state.now()).await? else {
        return Ok(expired(&state));
    };
    let again = |error: String| {
        html(
            StatusCode::BAD_REQUEST,
            &ResetPage {
                c: StaffChrome::signed_out(&state, ""),
                token: &token,
                username: &username,
                error: Some(error),
            },
        )
    };
    if f.password != f.confirm {
        return Ok(again("The two passwords are not the same.".into()));
    }
    if let Err(e) = check_password(&username, &f.password) {
        return Ok(again(format!("The password must have {}.", e.detail)));
    }
    let password_hash = passwords::hash(&state.codecs.passwords, f.password).await.map_err(super::Fault::Internal)?;
    if state.store.finish_password_reset(&hash, &password_hash, state.now()).await? {
        Ok(Redirect::to("/staff/sign-in?reset=1").into_response())
    } else {
        Ok(expired(&state))
    }
}
