//! Administration in the browser, for administrators only: staff and roles,
//! departments and teams, services and their questions, boundary layers, the routing
//! rules (with a panel to try them), the workflow document (SLAs, calendars,
//! escalation, templates, webhooks), Open311 API keys, the delivery log of messages
//! and webhooks, and the audit log. Every change goes through [`civic311_app::configure`], so
//! it is checked against the whole city, in effect at once and audited exactly as
//! through the API.

mod articles;
mod audit;
mod boundaries;
mod deliveries;
mod keys;
mod layers;
mod org;
mod rule_form;
mod rules;
mod service_form;
mod services;
mod users;
mod workflow;

use std::future::Future;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};

pub use articles::{article, articles, delete_article, save_article};
pub use audit::audit;
pub use boundaries::{boundaries, import_layer};
pub use deliveries::{deliveries, retry};
pub use keys::{issue_key, keys, revoke_key};
pub use layers::{MAX_UPLOAD, import as import_layers, layers};
pub use org::{departments, save_department, save_team};
pub use rule_form::{rule, save_rule};
pub use rules::{rules, save_rules};
pub use services::{save_service, service, services};
pub use users::{save_user, set_password, users};
pub use workflow::{save_workflow, workflow};

use super::notice::Done;
use super::session::Admin;
use super::{Fault, Page, Staff};
use civic311_app::AppError;

/// What an expired or forged form is told.
const EXPIRED: &str = "This form had expired; nothing was saved.";

/// `?done=` on a page shown after a change: a code, never words.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Notice {
    done: Option<String>,
}

impl Notice {
    /// What the page says for the code, if it is one of ours.
    fn text(&self) -> Option<String> {
        super::notice::text(self.done.as_deref())
    }
}

/// A posted field, trimmed; empty when absent.
fn field(fields: &[(String, String)], k: &str) -> String {
    fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_owned()).unwrap_or_default()
}

/// A comma-separated list as typed in a form, each item trimmed, empty ones dropped.
fn comma_list(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

/// True when a form's `confirm` box says the change may remove every item of a list.
fn confirmed(fields: &[(String, String)]) -> bool {
    field(fields, "confirm") == civic311_app::configure::CONFIRM_DELETE_ALL
}

/// A refusal of the change, for checks the page makes before
/// [`civic311_app::configure`] does its own.
fn refuse(field: &str, detail: impl Into<String>) -> AppError {
    AppError::invalid(field, detail)
}

/// Carries out a posted administration form (its handler took [`Admin`], so only an
/// administrator gets here);
/// a form without the session's CSRF value changes nothing and is shown again by
/// `again` with the reason; otherwise `change` runs, and its notice is shown on `back`
/// after a redirect, or its refusal by `again` (with what was typed kept).
async fn submit<F: Future<Output = Page>>(
    staff: &Staff,
    fields: &[(String, String)],
    back: &str,
    change: impl Future<Output = Result<Done, AppError>>,
    again: impl FnOnce(StatusCode, String) -> F,
) -> Page {
    if !staff.csrf_ok(Some(&field(fields, "csrf"))) {
        return again(StatusCode::FORBIDDEN, EXPIRED.to_owned()).await;
    }
    match change.await {
        Ok(done) => Ok(Redirect::to(&format!("{back}?done={}", done.code())).into_response()),
        Err(e) => match super::refusal(&e) {
            Some((status, said)) => again(status, said).await,
            None => Err(e.into()),
        },
    }
}

/// A notice and an error to show on a page.
type Said = (Option<String>, Option<String>);

/// What was typed into a form, to show it again after a refusal.
#[derive(Debug, Default)]
struct Typed(Vec<(String, String)>);

impl Typed {
    /// The typed value of `name`, or "".
    fn v(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }
}
