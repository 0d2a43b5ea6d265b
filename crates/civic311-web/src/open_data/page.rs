//! `GET /open-data`: the open data described for people, in the portal's look and the
//! resident's language — what can be downloaded, how to keep a copy up to date, what
//! each column holds and what is never published. Public.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use civic311_app::open_data::columns;
use civic311_domain::i18n::Texts;

use crate::AppState;
use crate::portal::{Chrome, Lang};

#[derive(Template)]
#[template(path = "portal/open_data.html")]
struct OpenDataPage {
    c: Chrome,
    t: &'static Texts,
    filters: String,
    /// Each column and what it holds, in the reader's language.
    columns: Vec<(String, String)>,
}

pub async fn page(State(state): State<AppState>, lang: Lang) -> Response {
    let t = lang.t;
    let city = state.city();
    let layers = city.boundaries.layers();
    let columns = columns(&city)
        .into_iter()
        .map(|name| {
            let meaning = if layers.contains(&name) {
                t.get("open_data.layer").replace("{layer}", &name)
            } else {
                t.get(&format!("open_data.col.{name}")).to_owned()
            };
            (name, meaning)
        })
        .collect();
    let example = layers.first().map_or_else(String::new, |l| format!("{l}=…"));
    let page = OpenDataPage {
        c: Chrome::new(&state, &lang, "/open-data", "open-data"),
        t,
        filters: t.get("open_data.filters").replace("{layers}", &example),
        columns,
    };
    lang.render(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use civic311_app::open_data::{BULK_COLUMNS, OUR_COLUMNS};

    /// Every column is described in every language (a layer's by the layer text).
    #[test]
    fn every_column_is_described_in_every_language() {
        for (code, _) in civic311_domain::i18n::languages() {
            let t = civic311_domain::i18n::texts(code);
            for c in BULK_COLUMNS.iter().chain(OUR_COLUMNS.iter()) {
                let key = format!("open_data.col.{c}");
                assert_ne!(t.get(&key), key, "{code} lacks {key}");
            }
        }
    }
}
