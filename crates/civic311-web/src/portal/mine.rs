//! "My requests": a resident gives the email address they reported or followed with and
//! is mailed a link that lists those requests for a day. The answer is the same whether
//! or not the address is known, at most one link goes to an address every few
//! minutes, and the link is mailed at once, never through the outbox staff can read.

use crate::form::Form;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use civic311_domain::i18n::Texts;
use civic311_domain::text::looks_like_email;
use civic311_store::{RequestQuery, Sort};
use jiff::SignedDuration;

use super::browse::{Row, rows};
use super::{Chrome, Lang, Page, fault};
use crate::AppState;
use crate::throttle::ClientAddr;
use civic311_app::tokens::new_token;
use civic311_app::tokens::token_hash;

/// How long a link works.
const LINK_LIFETIME: SignedDuration = SignedDuration::from_hours(24);

/// At most one link per address this often.
const ONE_LINK_PER: SignedDuration = SignedDuration::from_mins(5);

/// Most requests a link lists, newest first.
const MOST: u32 = 200;

#[derive(Template)]
#[template(path = "portal/mine_ask.html")]
struct AskPage {
    c: Chrome,
    t: &'static Texts,
    email: String,
    /// What the page says above the form: the link was sent, or it had expired.
    notice: Option<String>,
    problem: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "portal/mine.html")]
struct MinePage {
    c: Chrome,
    t: &'static Texts,
    email: String,
    reported: Vec<Row>,
    following: Vec<Row>,
}

fn ask(
    state: &AppState,
    lang: &Lang,
    status: StatusCode,
    email: String,
    notice: Option<String>,
    problem: Option<&'static str>,
) -> Response {
    let page = AskPage { c: Chrome::new(state, lang, "/my", "mine"), t: lang.t, email, notice, problem };
    lang.render(status, &page)
}

/// `GET /my`: the form asking for the address.
pub async fn form(State(state): State<AppState>, lang: Lang) -> Response {
    ask(&state, &lang, StatusCode::OK, String::new(), None, None)
}

#[derive(Debug, serde::Deserialize)]
pub struct Ask {
    #[serde(default)]
    email: String,
}

/// The public requests reported with `email` or followed by it, newest first.
fn query(state: &AppState, email: &str, limit: u32) -> RequestQuery {
    RequestQuery {
        email: Some(email.to_owned()),
        exclude_services: state.city().internal_codes(),
        sort: Sort::Newest,
        limit,
        ..Default::default()
    }
}

/// `POST /my`: mails a link when the address has requests; the same answer either way.
pub async fn send(State(state): State<AppState>, lang: Lang, client: ClientAddr, Form(f): Form<Ask>) -> Page {
    super::throttled(&state, &lang, client)?;
    let t = lang.t;
    let email = f.email.trim().to_owned();
    if !looks_like_email(&email) || email.chars().count() > 254 {
        return Ok(ask(&state, &lang, StatusCode::BAD_REQUEST, email, None, Some(t.get("mine.bad_email"))));
    }
    // Links are built from the configured public address only, never the Host header.
    let Some(base) = state.mail_base().map(str::to_owned) else {
        tracing::error!(
            "a resident asked for their requests, but CIVIC311_PUBLIC_URL is not set: no link can be mailed"
        );
        return Ok(ask(&state, &lang, StatusCode::SERVICE_UNAVAILABLE, email, None, Some(t.get("mine.no_links"))));
    };
    let known = !state.store.list_requests(&query(&state, &email, 1)).await.map_err(fault(&state, &lang))?.is_empty();
    if known {
        let now = state.now();
        let token = new_token();
        let expires = now.checked_add(LINK_LIFETIME).unwrap_or(now);
        let not_since = now.checked_sub(ONE_LINK_PER).unwrap_or(now);
        let hash = token_hash(&token);
        let link = state.store.create_resident_link(&hash, &email, now, expires, not_since);
        if link.await.map_err(fault(&state, &lang))? {
            let city = state.city();
            let url = format!("{base}/my/{token}?lang={}", t.code);
            let fill = |s: &str| s.replace("{city}", &city.settings.name).replace("{url}", &url);
            let (subject, body) = (fill(t.get("mine.mail_subject")), fill(t.get("mine.mail_body")));
            if let Err(e) = state.notifiers.email(&email, &subject, &body).await {
                tracing::error!(error = %e, "the link to a resident's requests could not be mailed");
            }
        } else {
            tracing::info!("a link to these requests was sent moments ago; not sending another");
        }
    }
    let sent = t.get("mine.sent").replace("{email}", &email);
    Ok(ask(&state, &lang, StatusCode::OK, email, Some(sent), None))
}

/// `GET /my/{token}`: the requests of the address the link was mailed to.
pub async fn list(State(state): State<AppState>, lang: Lang, Path(token): Path<String>) -> Page {
    let t = lang.t;
    let linked = state.store.resident_link_email(&token_hash(&token), state.now()).await;
    let Some(email) = linked.map_err(fault(&state, &lang))? else {
        let expired = Some(t.get("mine.expired").into());
        return Ok(ask(&state, &lang, StatusCode::NOT_FOUND, String::new(), expired, None));
    };
    let found = state.store.list_requests(&query(&state, &email, MOST)).await.map_err(fault(&state, &lang))?;
    let city = state.city();
    let services: Vec<(String, String)> =
        super::report::public_services(&city, t).into_iter().map(|s| (s.code, s.name)).collect();
    let (reported, following): (Vec<_>, Vec<_>) = found
        .into_iter()
        .partition(|r| r.contact.email.as_deref().is_some_and(|e| e.trim().eq_ignore_ascii_case(&email)));
    let page = MinePage {
        c: Chrome::new(&state, &lang, &format!("/my/{token}"), "mine"),
        t,
        reported: rows(&city, &reported, &services, t, &city.tz),
        following: rows(&city, &following, &services, t, &city.tz),
        email,
    };
    let mut response = lang.render(StatusCode::OK, &page);
    // The link is the credential: never cached, never sent on as a referrer.
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    Ok(response)
}
