//! Open311 API keys: who holds one, issuing a key to an app or partner, and revoking
//! one at once.

use crate::form::Form;
use crate::ui::session::StaffChrome;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use civic311_store::ApiKey;

use super::super::notice::Done;
use super::{Admin, Notice, Page, Said, Staff, Typed, field, refuse, submit};
use crate::AppState;
use crate::page::html;
use civic311_app::configure;

#[derive(Template)]
#[template(path = "staff/admin_keys.html")]
struct KeysPage<'a> {
    c: StaffChrome,
    keys: Vec<ApiKey>,
    typed: &'a Typed,
    notice: Option<String>,
    error: Option<String>,
}

async fn page(state: &AppState, staff: &Staff, status: StatusCode, typed: &Typed, said: Said) -> Page {
    let keys = state.store.api_keys().await?;
    let page = KeysPage { c: StaffChrome::new(state, staff), keys, typed, notice: said.0, error: said.1 };
    Ok(html(status, &page))
}

/// `GET /staff/admin/keys`: the keys in effect and who holds each.
pub async fn keys(State(state): State<AppState>, Admin(staff): Admin, Query(n): Query<Notice>) -> Page {
    page(&state, &staff, StatusCode::OK, &Typed::default(), (n.text(), None)).await
}

/// `POST /staff/admin/keys`: issue a key for `label`.
pub async fn issue_key(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let label = field(&fields, "label");
    let per_minute = match (field(&fields, "unlimited").as_str(), field(&fields, "per_minute")) {
        ("true", _) => Ok(None),
        (_, n) if n.is_empty() => Ok(Some(civic311_store::ApiKey::DEFAULT_PER_MINUTE)),
        (_, n) => n.parse::<u32>().map(Some),
    };
    let change = async {
        let per_minute =
            per_minute.map_err(|_| refuse("per_minute", "requests a minute must be a whole number, like 300"))?;
        configure::issue_api_key(&state, configure::By::Staff(&staff.user), &label, per_minute).await?;
        Ok(Done::KeyIssued)
    };
    let typed = Typed(fields.clone());
    let again = |status, error| page(&state, &staff, status, &typed, (None, Some(error)));
    submit(&staff, &fields, "/staff/admin/keys", change, again).await
}

/// `POST /staff/admin/keys/revoke`: revoke `key`.
pub async fn revoke_key(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let change = async {
        configure::revoke_api_key(&state, configure::By::Staff(&staff.user), &field(&fields, "key")).await?;
        Ok(Done::KeyRevoked)
    };
    let typed = Typed::default();
    let again = |status, error| page(&state, &staff, status, &typed, (None, Some(error)));
    submit(&staff, &fields, "/staff/admin/keys", change, again).await
}
