//! The public knowledge base: answers residents can search before they report, and
//! the answers linked from a category on its report form. Internal articles never
//! appear here.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use civic311_domain::i18n::Texts;
use civic311_domain::kb::{Article, search};

use super::{Chrome, Lang, message};
use crate::{AppState, CityModel};

/// Most answers offered beside a search or a report form.
const OFFERED: usize = 3;

/// The public articles as a reader of `t` sees them.
fn public_articles(city: &CityModel, t: &Texts) -> Vec<Article> {
    city.articles.iter().filter(|a| a.public).map(|a| a.localized(t.code)).collect()
}

/// Answers to offer a resident: those about `service`, else those matching `q`, as
/// `(slug, title, summary)`.
pub(super) fn answers_for(
    state: &AppState,
    t: &Texts,
    q: &str,
    service: Option<&str>,
) -> Vec<(String, String, String)> {
    let all = public_articles(&state.city(), t);
    let chosen: Vec<&Article> = match service {
        Some(code) => all.iter().filter(|a| a.services.iter().any(|s| s == code)).collect(),
        None => search(&all, q),
    };
    chosen.into_iter().take(OFFERED).map(|a| (a.slug.clone(), a.title.clone(), a.summary())).collect()
}

#[derive(Template)]
#[template(path = "portal/help.html")]
struct HelpPage {
    c: Chrome,
    t: &'static Texts,
    q: String,
    results: Vec<(String, String, String)>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct HelpParams {
    q: Option<String>,
}

/// `GET /help[?q=…]`: every public answer, or the best matches for a search.
pub async fn index(State(state): State<AppState>, lang: Lang, Query(p): Query<HelpParams>) -> Response {
    let t = lang.t;
    let q = p.q.unwrap_or_default().trim().to_owned();
    let all = public_articles(&state.city(), t);
    let shown: Vec<&Article> = if q.is_empty() { all.iter().collect() } else { search(&all, &q) };
    let results = shown.into_iter().map(|a| (a.slug.clone(), a.title.clone(), a.summary())).collect();
    let page = HelpPage { c: Chrome::new(&state, &lang, "/help", "help"), t, q, results };
    lang.render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "portal/article.html")]
struct ArticlePage {
    c: Chrome,
    t: &'static Texts,
    title: String,
    paragraphs: Vec<String>,
    /// Categories it concerns, to report straight from it: `(code, name)`.
    services: Vec<(String, String)>,
}

/// `GET /help/{slug}`.
pub async fn article(State(state): State<AppState>, lang: Lang, Path(slug): Path<String>) -> Response {
    let t = lang.t;
    let city = state.city();
    let Some(a) = city.articles.iter().find(|a| a.public && a.slug == slug).map(|a| a.localized(t.code)) else {
        return message(&state, &lang, StatusCode::NOT_FOUND, t.get("help.not_found_title"), t.get("help.not_found"));
    };
    let services = a
        .services
        .iter()
        .filter_map(|c| city.service(c).filter(|s| s.is_public()))
        .map(|s| (s.code.clone(), s.localized(t.code).name))
        .collect();
    let page = ArticlePage {
        c: Chrome::new(&state, &lang, &format!("/help/{}", a.slug), "help"),
        t,
        paragraphs: a.paragraphs().into_iter().map(str::to_owned).collect(),
        title: a.title,
        services,
    };
    lang.render(StatusCode::OK, &page)
}
