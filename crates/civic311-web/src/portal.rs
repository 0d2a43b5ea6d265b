//! The resident portal: report a problem without an account, track and follow any
//! request by number, list one's own requests by a mailed link, browse what has been
//! reported, in the resident's language. Every
//! page is server-rendered and works without JavaScript; scripts only add the map pin
//! and "use my location".

mod browse;
mod help;
mod home;
mod mine;
mod rate;
mod report;
mod track;

pub(crate) use track::typical_words;

use std::convert::Infallible;

use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use civic311_app::AppError;

use crate::AppState;
use crate::i18n::{self, Texts};
use crate::page::html;
use crate::throttle::{self, ClientAddr};

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/", get(home::page))
        .route("/track", get(track::lookup))
        .route("/report", get(report::pick))
        .route("/report/{code}", get(report::form).post(report::submit))
        .route("/report/{code}/follow/{id}", post(report::follow))
        .route("/requests", get(browse::page))
        .route("/rate/{token}", get(rate::show).post(rate::submit))
        .route("/my", get(mine::form).post(mine::send))
        .route("/my/{token}", get(mine::list))
        .route("/help", get(help::index))
        .route("/help/{slug}", get(help::article))
        .route("/requests/{id}", get(track::page))
        .route("/requests/{id}/follow", post(track::follow))
        .route("/requests/{id}/{verb}/{sig}", get(track::link).post(track::use_link))
        .layer(axum::extract::DefaultBodyLimit::max(crate::open311::MAX_BODY))
}

/// How long the chosen language is remembered.
const REMEMBER_SECONDS: u32 = 365 * 24 * 3600;

/// The resident's language: `?lang=` (then remembered in a cookie), else the cookie,
/// else the browser's `Accept-Language`, else English.
pub(crate) struct Lang {
    pub(crate) t: &'static Texts,
    /// Set when `?lang=` chose it: the response remembers it.
    remember: bool,
}

fn known(code: &str) -> Option<&'static Texts> {
    let base = i18n::base_language(code.trim());
    i18n::languages().iter().any(|(c, _)| *c == base).then(|| i18n::texts(&base))
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        let asked = parts.uri.query().unwrap_or("").split('&').find_map(|kv| kv.strip_prefix("lang=")).and_then(known);
        if let Some(t) = asked {
            return Ok(Lang { t, remember: true });
        }
        let header_text = |name| parts.headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>();
        let cookie = header_text(header::COOKIE)
            .iter()
            .flat_map(|c| c.split(';'))
            .find_map(|kv| kv.trim().strip_prefix("lang="))
            .and_then(known);
        let accepted = || {
            header_text(header::ACCEPT_LANGUAGE)
                .iter()
                .flat_map(|a| a.split(','))
                .find_map(|tag| known(tag.split(';').next().unwrap_or("")))
        };
        Ok(Lang { t: cookie.or_else(accepted).unwrap_or_else(|| i18n::texts(i18n::DEFAULT)), remember: false })
    }
}

impl Lang {
    /// This language if the resident asked for it in the address, else `preferred`
    /// (the one they chose when reporting) when it is known.
    pub(crate) fn unless_asked(self, preferred: Option<&str>) -> Lang {
        match preferred.and_then(known) {
            Some(t) if !self.remember => Lang { t, remember: false },
            _ => self,
        }
    }

    /// A page in this language, remembering the choice when it was just made.
    pub(crate) fn render(&self, status: StatusCode, page: &impl Template) -> Response {
        let mut response = html(status, page);
        if self.remember {
            let cookie = format!("lang={}; Path=/; Max-Age={REMEMBER_SECONDS}; SameSite=Lax", self.t.code);
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                response.headers_mut().append(header::SET_COOKIE, v);
            }
        }
        response
    }
}

/// What every portal page's layout shows: the city, the language and its switch.
pub(crate) struct Chrome {
    pub(crate) city: String,
    pub(crate) lang: &'static str,
    /// The other languages, with a link to this page in each.
    pub(crate) others: Vec<(&'static str, &'static str, String)>,
    /// The tab the page belongs to, for `aria-current`.
    pub(crate) section: &'static str,
}

impl Chrome {
    pub(crate) fn new(state: &AppState, lang: &Lang, path: &str, section: &'static str) -> Self {
        let others = i18n::languages()
            .into_iter()
            .filter(|(c, _)| *c != lang.t.code)
            .map(|(c, name)| (c, name, format!("{path}?lang={c}")))
            .collect();
        Chrome { city: state.city().settings.name.clone(), lang: lang.t.code, others, section }
    }
}

#[derive(Template)]
#[template(path = "portal/message.html")]
struct MessagePage<'a> {
    c: Chrome,
    t: &'static Texts,
    title: &'a str,
    message: &'a str,
}

/// A page that only says something: not found, or a failure on our side.
pub(crate) fn message(state: &AppState, lang: &Lang, status: StatusCode, title: &str, text: &str) -> Response {
    let page = MessagePage { c: Chrome::new(state, lang, "/", ""), t: lang.t, title, message: text };
    lang.render(status, &page)
}

/// What a portal handler answers: its page, or a page to answer with [`Instead`].
pub(crate) type Page = Result<Response, Instead>;

/// A page answered instead of the one asked for — not found, busy, a failure on our
/// side — already in the resident's language, so a handler can pass it on with `?`.
#[derive(Debug)]
pub(crate) struct Instead(Box<Response>);

impl From<Response> for Instead {
    fn from(page: Response) -> Self {
        Instead(Box::new(page))
    }
}

impl IntoResponse for Instead {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// The failure page for `e`, to answer with instead: `.map_err(fault(&state, &lang))?`.
pub(crate) fn fault<'a, E: std::fmt::Display>(state: &'a AppState, lang: &'a Lang) -> impl Fn(E) -> Instead + 'a {
    move |e| failure(state, lang, e).into()
}

/// A failure on our side: logged with its cause, shown without internals.
pub(crate) fn failure(state: &AppState, lang: &Lang, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "portal page failed");
    message(state, lang, StatusCode::INTERNAL_SERVER_ERROR, lang.t.get("page.error_title"), lang.t.get("page.error"))
}

/// The portal's answer to an application error its page has no words of its own for —
/// the one place it is decided. Residents read the city's words in their language,
/// never ours: a request that does not exist is "not found"; anything else is a failure
/// on our side, logged with its cause (whatever refuses a resident's input is shown
/// by its page, next to the input).
pub(crate) fn refused(state: &AppState, lang: &Lang, e: AppError) -> Response {
    match e {
        AppError::NotFound(_) => track::not_found(state, lang),
        e => failure(state, lang, e),
    }
}

/// Takes one unit of the client's budget for the portal's public forms; when it is
/// spent, the page saying so instead (429 with `Retry-After`).
pub(crate) fn throttled(state: &AppState, lang: &Lang, client: ClientAddr) -> Result<(), Instead> {
    state.throttles.portal.take(&client.key(), throttle::PORTAL, state.now()).map_err(|r| {
        let t = lang.t;
        let text = t.get("page.busy").replace("{minutes}", &r.retry_after.div_ceil(60).to_string());
        let mut page = message(state, lang, StatusCode::TOO_MANY_REQUESTS, t.get("page.busy_title"), &text);
        page.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(r.retry_after));
        page.into()
    })
}

/// The value of `name` in a form, trimmed; `None` when empty.
pub(crate) fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

/// A request's place as a resident reads it in `t`'s language: its address, or "near"
/// it when the address is only the one nearest the pin.
pub(crate) fn place(
    city: &crate::CityModel,
    t: &'static Texts,
    location: &civic311_domain::request::Location,
) -> Option<String> {
    let (address, near) = city.place_of(location)?;
    Some(if near { t.get("report.near").replace("{address}", &address) } else { address })
}

#[cfg(test)]
mod tests {
    /// Every text a portal template or handler asks for exists in English.
    #[test]
    fn every_portal_text_has_an_english_original() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["templates/portal", "src/portal"] {
            for e in std::fs::read_dir(root.join(dir)).unwrap() {
                files.push(std::fs::read_to_string(e.unwrap().path()).unwrap());
            }
        }
        let en = crate::i18n::texts("en");
        let mut missing = Vec::new();
        for text in files {
            for part in text.split("t.get(\"").skip(1) {
                let key = part.split('"').next().unwrap();
                if en.find(key).is_none() {
                    missing.push(key.to_owned());
                }
            }
        }
        assert!(missing.is_empty(), "texts missing from i18n/en.toml: {missing:?}");
    }
}
