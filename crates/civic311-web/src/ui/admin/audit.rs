//! The audit log: the newest configuration changes, who made them and what they were.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::{Staff, failure, not_admin};
use crate::AppState;
use crate::page::html;

#[derive(Template)]
#[template(path = "staff/admin_audit.html")]
struct AuditPage<'a> {
    city: &'a str,
    display_name: &'a str,
    csrf: &'a str,
    changes: Vec<(String, String, String, String, String)>,
}

/// `GET /staff/admin/audit`: the newest configuration changes.
pub async fn audit(State(state): State<AppState>, staff: Staff) -> Response {
    if let Some(r) = not_admin(&staff) {
        return r;
    }
    let city = state.city();
    let changes = match state.store.config_changes(200).await {
        Ok(c) => c,
        Err(e) => return failure(e),
    };
    let page = AuditPage {
        city: &city.settings.name,
        display_name: &staff.user.display_name,
        csrf: &staff.session.csrf,
        changes: changes
            .into_iter()
            .map(|c| {
                let body: String = c.body.to_string().chars().take(300).collect();
                (c.at.to_zoned(city.tz.clone()).strftime("%Y-%m-%d %H:%M").to_string(), c.actor, c.kind, c.item, body)
            })
            .collect(),
    };
    html(StatusCode::OK, &page)
}
