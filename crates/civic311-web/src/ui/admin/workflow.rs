//! The workflow document — calendars, SLA policies, escalation chains, message
//! templates, webhooks and duplicate settings — edited as checked TOML, with every
//! message template previewed with sample values.

use crate::ui::session::StaffChrome;
use std::collections::BTreeMap;

use crate::form::Form;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use civic311_domain::workflow::{WorkflowConfig, notice_conflict};

use super::super::notice::Done;
use super::{Admin, AppError, Notice, Page, Staff, confirmed, submit};
use crate::AppState;
use crate::page::html;
use civic311_app::configure;

#[derive(Template)]
#[template(path = "staff/admin_workflow.html")]
struct WorkflowPage {
    c: StaffChrome,
    text: String,
    /// Kind, language, subject and body of every template in effect, rendered with
    /// sample values.
    previews: Vec<(String, String, String, String)>,
    /// Services whose notice promises residents other than their SLA policy gives:
    /// code, name and why.
    conflicts: Vec<(String, String, String)>,
    error: Option<String>,
    notice: Option<String>,
}

/// Sample values for template previews.
fn sample_vars(city: &str) -> BTreeMap<String, String> {
    [
        ("number", "2026-000123"),
        ("service", "Pothole"),
        ("status", "in progress"),
        ("note", "A crew is booked for Thursday."),
        ("expected", "Fri Nov 27, 17:00"),
        ("url", "https://311.example.gov/requests/2026-000123?lang=en"),
        ("rating_url", "https://311.example.gov/rate/…"),
        ("unfollow_url", "https://311.example.gov/requests/2026-000123/unfollow/…"),
        ("department", "Public Works"),
        ("due", "Fri Nov 27, 17:00"),
        ("original", "2026-000101"),
        ("city", city),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn workflow_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    text: String,
    error: Option<String>,
    notice: Option<String>,
) -> Page {
    let city = state.city();
    let vars = sample_vars(&city.settings.name);
    let previews = city
        .workflow
        .templates
        .all()
        .map(|t| {
            let (subject, body) = t.render(&vars);
            (t.kind.clone(), t.language.clone(), subject, body)
        })
        .collect();
    let conflicts = city
        .services()
        .filter_map(|s| Some((s.code.clone(), s.name.clone(), notice_conflict(s, &city.workflow)?)))
        .collect();
    let page = WorkflowPage { c: StaffChrome::new(state, staff), text, previews, conflicts, error, notice };
    Ok(html(status, &page))
}

/// `GET /staff/admin/workflow`: calendars, SLA policies, escalation, templates,
/// webhooks and duplicate settings as one TOML document, with every message template
/// previewed.
pub async fn workflow(State(state): State<AppState>, Admin(staff): Admin, Query(n): Query<Notice>) -> Page {
    let stored = state.store.workflow_config().await?;
    let text = toml::to_string(&stored.unwrap_or_default().redacted()).unwrap_or_default();
    workflow_page(&state, &staff, StatusCode::OK, text, None, n.text())
}

/// `POST /staff/admin/workflow`: replace the workflow document from the editor.
pub async fn save_workflow(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let text = fields.iter().find(|(k, _)| k == "workflow").map(|(_, v)| v.clone()).unwrap_or_default();
    let change = async {
        let config: WorkflowConfig = civic311_domain::exact::from_toml("workflow", &text).map_err(AppError::from)?;
        configure::put_workflow(&state, configure::By::Staff(&staff.user), &config, confirmed(&fields)).await?;
        Ok(Done::Saved)
    };
    let again =
        |status, error| std::future::ready(workflow_page(&state, &staff, status, text.clone(), Some(error), None));
    submit(&staff, &fields, "/staff/admin/workflow", change, again).await
}
