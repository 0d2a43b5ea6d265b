//! The portal's home page: find the category in plain words, track a request by
//! number, the most common problems one tap away.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use civic311_domain::i18n::Texts;

use super::{Chrome, Lang};
use crate::AppState;

/// Categories listed on the home page.
const COMMON: usize = 8;

#[derive(Template)]
#[template(path = "portal/home.html")]
struct HomePage {
    c: Chrome,
    t: &'static Texts,
    common: Vec<(String, String)>,
}

/// `GET /`.
pub async fn page(State(state): State<AppState>, lang: Lang) -> Response {
    let city = state.city();
    let common =
        super::report::public_services(&city, lang.t).into_iter().take(COMMON).map(|s| (s.code, s.name)).collect();
    let page = HomePage { c: Chrome::new(&state, &lang, "/", ""), t: lang.t, common };
    lang.render(StatusCode::OK, &page)
}
