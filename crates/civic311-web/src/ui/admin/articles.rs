//! The knowledge base: public answers residents read before they report, and internal
//! articles only staff see. Each article is edited as a short TOML document, checked
//! with the whole city (its services must exist) before it is saved.

use crate::form::Form;
use crate::ui::session::StaffChrome;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use civic311_domain::kb::Article;

use super::super::notice::Done;
use super::{Admin, AppError, Fault, Notice, Page, Said, Staff, refuse, submit};
use crate::AppState;
use crate::page::html;
use civic311_app::configure;

/// The path segment that starts a new article.
const NEW: &str = "new";

/// What a new article starts from.
const STARTER: &str = r#"slug = "short-name-for-the-address"
title = "The question residents ask"
public = true
services = []
keywords = ["words", "residents use"]
body = """
The answer, in plain words.

A blank line starts a new paragraph.
"""

[translations.es]
title = "La pregunta que hacen los residentes"
body = "La respuesta, en palabras sencillas."
"#;

#[derive(Template)]
#[template(path = "staff/admin_articles.html")]
struct ArticlesPage {
    c: StaffChrome,
    /// Slug, title, public, services it is linked from.
    articles: Vec<(String, String, bool, String)>,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "staff/admin_article.html")]
struct ArticlePage<'a> {
    c: StaffChrome,
    slug: &'a str,
    text: &'a str,
    notice: Option<String>,
    error: Option<String>,
}

/// `GET /staff/admin/articles`.
pub async fn articles(State(state): State<AppState>, Admin(staff): Admin, Query(n): Query<Notice>) -> Page {
    let city = state.city();
    let page = ArticlesPage {
        c: StaffChrome::new(&state, &staff),
        articles: city
            .articles
            .iter()
            .map(|a| (a.slug.clone(), a.title.clone(), a.public, a.services.join(", ")))
            .collect(),
        notice: n.text(),
    };
    Ok(html(StatusCode::OK, &page))
}

fn page(state: &AppState, staff: &Staff, status: StatusCode, (slug, text): (&str, &str), said: Said) -> Page {
    let page = ArticlePage { c: StaffChrome::new(state, staff), slug, text, notice: said.0, error: said.1 };
    Ok(html(status, &page))
}

/// `GET /staff/admin/articles/{slug}`: one article as text, or a starter for `new`.
pub async fn article(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(slug): Path<String>,
    Query(n): Query<Notice>,
) -> Page {
    let text = if slug == NEW {
        STARTER.to_owned()
    } else {
        let city = state.city();
        let Some(article) = city.articles.iter().find(|a| a.slug == slug) else {
            return Err(Fault::Refused(StatusCode::NOT_FOUND, format!("There is no article {slug}.")));
        };
        toml::to_string(article).unwrap_or_default()
    };
    page(&state, &staff, StatusCode::OK, (&slug, &text), (n.text(), None))
}

/// `POST /staff/admin/articles/{slug}`: save it; an article keeps its slug, and `new`
/// adds one whose slug is free.
pub async fn save_article(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(slug): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let text = fields.iter().find(|(k, _)| k == "article").map(|(_, v)| v.clone()).unwrap_or_default();
    let parsed = civic311_domain::exact::from_toml::<Article>("article", &text).map_err(AppError::from);
    let back = format!("/staff/admin/articles/{}", crate::ui::encode(parsed.as_ref().map_or("", |a| &a.slug)));
    let change = async {
        let article = parsed?;
        let taken = state.city().articles.iter().any(|a| a.slug == article.slug);
        if slug == NEW && taken {
            return Err(refuse("slug", format!("{} is taken; edit that article instead", article.slug)));
        }
        if slug != NEW && article.slug != slug {
            return Err(refuse("slug", format!("an article keeps its slug ({slug}); add a new article instead")));
        }
        let created = configure::put_item(&state, configure::By::Staff(&staff.user), article).await?;
        Ok(Done::added_or_saved(created))
    };
    let again = |status, error| std::future::ready(page(&state, &staff, status, (&slug, &text), (None, Some(error))));
    submit(&staff, &fields, &back, change, again).await
}

/// `POST /staff/admin/articles/{slug}/delete`.
pub async fn delete_article(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(slug): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let text = state.city().articles.iter().find(|a| a.slug == slug).map(|a| toml::to_string(a).unwrap_or_default());
    let change = async {
        configure::delete_article(&state, configure::By::Staff(&staff.user), &slug).await?;
        Ok(Done::Deleted)
    };
    let text = text.unwrap_or_default();
    let again = |status, error| std::future::ready(page(&state, &staff, status, (&slug, &text), (None, Some(error))));
    submit(&staff, &fields, "/staff/admin/articles", change, again).await
}
