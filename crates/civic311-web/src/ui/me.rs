//! `/staff/me`: a member of staff's own settings — how they receive notification mail
//! (at once, or bundled hourly or daily). Any signed-in member of staff, for themselves
//! only.

use crate::form::Form;
use crate::ui::session::StaffChrome;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use civic311_app::configure;
use civic311_domain::org::MailDigest;

use super::{Page, Staff};
use crate::AppState;
use crate::page::html;

#[derive(Template)]
#[template(path = "staff/me.html")]
struct MePage {
    c: StaffChrome,
    name: String,
    email: String,
    role: &'static str,
    department: String,
    /// Value, label, hint, chosen.
    digests: Vec<(&'static str, &'static str, &'static str, bool)>,
    notice: Option<&'static str>,
    error: Option<String>,
}

fn label(d: MailDigest) -> (&'static str, &'static str) {
    match d {
        MailDigest::Immediate => ("At once", "Each message as it happens."),
        MailDigest::Hourly => ("Hourly digest", "One mail at the top of each hour with everything since the last."),
        MailDigest::Daily => ("Daily digest", "One mail each morning at 07:00."),
    }
}

async fn render(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Page {
    let city = state.city();
    let u = &staff.user;
    let page = MePage {
        c: StaffChrome::new(state, staff),
        name: u.display_name.clone(),
        email: u.email.clone(),
        role: u.role.as_str(),
        department: city.department_name(&u.department).to_owned(),
        digests: MailDigest::ALL
            .into_iter()
            .map(|d| {
                let (l, hint) = label(d);
                (d.as_str(), l, hint, d == u.digest)
            })
            .collect(),
        notice,
        error,
    };
    Ok(html(status, &page))
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct Saved {
    saved: Option<String>,
}

/// `GET /staff/me`.
pub async fn page(State(state): State<AppState>, staff: Staff, Query(q): Query<Saved>) -> Page {
    let notice = q.saved.map(|_| "Saved.");
    render(&state, &staff, StatusCode::OK, notice, None).await
}

/// `POST /staff/me` with `digest`: how the signed-in member of staff gets their mail.
pub async fn save(State(state): State<AppState>, staff: Staff, Form(fields): Form<Vec<(String, String)>>) -> Page {
    let field = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim());
    if !staff.csrf_ok(field("csrf")) {
        let expired = "This form had expired; nothing was changed.".to_owned();
        return render(&state, &staff, StatusCode::FORBIDDEN, None, Some(expired)).await;
    }
    let Some(digest) = field("digest").and_then(MailDigest::parse) else {
        let why = "Choose at once, hourly digest or daily digest.".to_owned();
        return render(&state, &staff, StatusCode::BAD_REQUEST, None, Some(why)).await;
    };
    // The stored record, not the session's copy: only the choice changes.
    let mut me = state
        .store
        .users()
        .await?
        .into_iter()
        .find(|u| u.username == staff.user.username)
        .ok_or_else(|| super::Fault::Refused(StatusCode::NOT_FOUND, "Your account is gone.".to_owned()))?;
    me.digest = digest;
    configure::put_item(&state, configure::By::Staff(&staff.user), me).await?;
    Ok(Redirect::to("/staff/me?saved=1").into_response())
}
