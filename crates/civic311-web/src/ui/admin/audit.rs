//! The audit log: the newest configuration changes, who made them and what they were.

use crate::ui::session::StaffChrome;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;

use super::{Admin, Page};
use crate::AppState;
use crate::page::html;

#[derive(Template)]
#[template(path = "staff/admin_audit.html")]
struct AuditPage {
    c: StaffChrome,
    changes: Vec<(String, String, String, String, String)>,
}

/// `GET /staff/admin/audit`: the newest configuration changes.
pub async fn audit(State(state): State<AppState>, Admin(staff): Admin) -> Page {
    let city = state.city();
    let changes = state.store.config_changes(200).await?;
    let page = AuditPage {
        c: StaffChrome::new(&state, &staff),
        changes: changes
            .into_iter()
            .map(|c| {
                let body: String = c.body.to_string().chars().take(300).collect();
                (c.at.to_zoned(city.tz.clone()).strftime("%Y-%m-%d %H:%M").to_string(), c.actor, c.kind, c.item, body)
            })
            .collect(),
    };
    Ok(html(StatusCode::OK, &page))
}
