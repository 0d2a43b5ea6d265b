//! `GET /open-data`: the open data for people, in the portal's look and the resident's
//! language — the dashboard of how the city is doing (see [`super::dashboard`]), then
//! what can be downloaded, how to keep a copy up to date, what each column holds and
//! what is never published. `?table=ID&format=csv` downloads one of the dashboard's
//! tables. Public.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use civic311_app::open_data::columns;
use civic311_domain::i18n::Texts;

use super::dashboard::{self, Choice, PERIODS, Params};
use crate::AppState;
use crate::portal::{Chrome, Lang};
use crate::ui::reports::Section;

#[derive(Template)]
#[template(path = "portal/open_data.html")]
struct OpenDataPage {
    c: Chrome,
    t: &'static Texts,
    /// Days and whether chosen, for the period choice.
    periods: Vec<(i64, bool)>,
    /// The boundary layers to choose from: code, name in the page's language, chosen.
    layers: Vec<(String, String, bool)>,
    /// Why the choice in the address was refused, shown above the form.
    refused: Option<String>,
    tiles: Vec<(String, String, String)>,
    sections: Vec<Section>,
    filters: String,
    /// The nightly dumps, newest first (name, size), and what is said of them; `None`
    /// when none are written.
    dumps: Option<(Vec<(String, String)>, String)>,
    /// Each column and what it holds, in the reader's language.
    columns: Vec<(String, String)>,
}

pub async fn page(State(state): State<AppState>, lang: Lang, Query(p): Query<Params>) -> Response {
    let t = lang.t;
    let city = state.city();
    let (choice, refused) = match Choice::parse(&p, &city) {
        Ok(c) => (c, None),
        Err(why) => (Choice::parse(&Params::default(), &city).unwrap_or(Choice { days: 90, layer: None }), Some(why)),
    };
    if p.format.is_some() || p.table.is_some() {
        if let Some(why) = refused {
            return (StatusCode::BAD_REQUEST, t.get(why).to_owned()).into_response();
        }
        return csv(&state, &lang, &choice, &p).await;
    }
    let built = match dashboard::get(&state, &choice, t).await {
        Ok(d) => d,
        Err(e) => return crate::portal::failure(&state, &lang, format!("{e:?}")),
    };
    let mut sections = built.sections.clone();
    for s in &mut sections {
        s.csv = format!("/open-data?{}&table={}&format=csv", choice.query(), s.id);
    }
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
        periods: PERIODS.iter().map(|d| (*d, *d == choice.days)).collect(),
        layers: layers
            .iter()
            .map(|l| (l.clone(), city.settings.layer_name(l, t.code).to_owned(), Some(l) == choice.layer.as_ref()))
            .collect(),
        refused: refused.map(|why| t.get(why).to_owned()),
        tiles: built.tiles.clone(),
        sections,
        filters: t.get("open_data.filters").replace("{layers}", &example),
        dumps: state.dumps.as_ref().map(|config| {
            let files = super::dumps::list(&config.dir);
            let said = if files.is_empty() { "open_data.dumps_none" } else { "open_data.dumps_text" };
            let text = t
                .get(said)
                .replace("{hour}", &format!("{:02}:00", super::dumps::DUMP_HOUR))
                .replace("{keep}", &config.keep.to_string());
            (files.into_iter().map(|f| (f.name, size(f.bytes))).collect(), text)
        }),
        columns,
    };
    let status = if page.refused.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    lang.render(status, &page)
}

/// A file's size as people read it: `820 kB`, `61.2 MB`.
fn size(bytes: u64) -> String {
    match bytes {
        b if b < 1_000 => format!("{b} B"),
        b if b < 1_000_000 => format!("{} kB", b.div_ceil(1_000)),
        b => format!("{:.1} MB", b as f64 / 1e6),
    }
}

/// One table of the dashboard as CSV, or a 400 in the reader's language.
async fn csv(state: &AppState, lang: &Lang, choice: &Choice, p: &Params) -> Response {
    let t = lang.t;
    if p.format.as_deref() != Some("csv") {
        return (StatusCode::BAD_REQUEST, t.get("open_data.dash.bad_table").to_owned()).into_response();
    }
    let built = match dashboard::get(state, choice, t).await {
        Ok(d) => d,
        Err(e) => return crate::portal::failure(state, lang, format!("{e:?}")),
    };
    let Some(s) = built.sections.iter().find(|s| Some(s.id) == p.table.as_deref()) else {
        return (StatusCode::BAD_REQUEST, t.get("open_data.dash.bad_table").to_owned()).into_response();
    };
    let name = format!("{}-{}-{}.csv", s.id, built.from, built.to);
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        s.to_csv(),
    )
        .into_response()
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
