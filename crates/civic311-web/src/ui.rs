//! The staff workspace in the browser: sign-in and sessions, then the queues. Pages are
//! server-rendered (askama, escaped), work without JavaScript and on a phone.

mod act;
mod admin;
mod asset;
pub(crate) mod chart;
mod demand;
mod intake;
pub(crate) mod map;
mod me;
mod notice;
pub(crate) mod operations;
mod queue;
pub(crate) mod recurring;
pub(crate) mod reports;
mod request;
mod reset;
mod resolve;
mod search;
mod session;
mod sign_in;
mod stalls;
mod supervisor;
mod timeline;

use crate::ui::session::StaffChrome;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use civic311_app::AppError;

use crate::AppState;

pub use session::Staff;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/staff/sign-out", post(sign_in::sign_out))
        .route("/staff/forgot", get(reset::forgot_form).post(reset::forgot))
        .route("/staff/reset/{token}", get(reset::reset_form).post(reset::reset))
        .route("/staff", get(queue::page))
        .route("/staff/search", get(search::page))
        .route("/staff/me", get(me::page).post(me::save))
        .route("/staff/intake", get(intake::page).post(intake::submit))
        .route("/staff/supervisor", get(supervisor::page))
        .route("/staff/reports", get(reports::performance))
        .route("/staff/reports/csv", get(reports::csv))
        .route("/staff/reports/operations", get(operations::page))
        .route("/staff/reports/stalls", get(stalls::page))
        .route("/staff/reports/recurring", get(recurring::page))
        .route("/staff/reports/demand", get(demand::page))
        .route("/staff/admin", get(admin::users))
        .route("/staff/admin/users", post(admin::save_user))
        .route("/staff/admin/password", post(admin::set_password))
        .route("/staff/admin/rules", get(admin::rules).post(admin::save_rules))
        .route("/staff/admin/rules/{at}", get(admin::rule).post(admin::save_rule))
        .route("/staff/admin/workflow", get(admin::workflow).post(admin::save_workflow))
        .route("/staff/admin/audit", get(admin::audit))
        .route("/staff/admin/departments", get(admin::departments).post(admin::save_department))
        .route("/staff/admin/teams", post(admin::save_team))
        .route("/staff/admin/services", get(admin::services))
        .route("/staff/admin/services/{code}", get(admin::service).post(admin::save_service))
        .route("/staff/admin/boundaries", get(admin::boundaries).post(admin::import_layer))
        .route(
            "/staff/admin/layers",
            get(admin::layers)
                .post(admin::import_layers)
                .layer(axum::extract::DefaultBodyLimit::max(admin::MAX_UPLOAD)),
        )
        .route("/staff/admin/keys", get(admin::keys).post(admin::issue_key))
        .route("/staff/admin/keys/revoke", post(admin::revoke_key))
        .route("/staff/admin/deliveries", get(admin::deliveries))
        .route("/staff/admin/articles", get(admin::articles))
        .route("/staff/admin/articles/{slug}", get(admin::article).post(admin::save_article))
        .route("/staff/admin/articles/{slug}/delete", post(admin::delete_article))
        .route("/staff/admin/deliveries/{id}/retry", post(admin::retry))
        .route("/staff/supervisor/assign", post(supervisor::assign))
        .route("/staff/intake/follow/{id}", post(intake::follow))
        .route("/staff/requests/{id}", get(request::page))
        .route("/staff/assets/{kind}/{id}", get(asset::page))
        .route("/staff/requests/{id}/act", post(act::act))
        .route("/staff/requests/{id}/photos", post(act::photos))
        .route("/staff/requests/{id}/resolve", post(resolve::resolve))
        .route("/staff/requests/{id}/unfollow", post(act::unfollow))
        .route("/staff/media/{id}", get(act::media))
        .layer(axum::extract::DefaultBodyLimit::max(crate::open311::MAX_BODY))
}

#[derive(askama::Template)]
#[template(path = "staff/message.html")]
struct MessagePage<'a> {
    c: StaffChrome,
    title: &'a str,
    message: &'a str,
}

/// Who owns a request, in the names staff read: "Public Works · Streets North Crew ·
/// Jamie Novak" (codes only for what the city no longer knows).
pub(crate) fn owner_names(
    city: &crate::CityModel,
    department: &str,
    team: Option<&str>,
    assignee: Option<&str>,
) -> String {
    let dir = &city.workflow.directory;
    let team = team.map(|t| dir.teams.get(t).map_or(t, |x| x.name.as_str()));
    let person = assignee.map(|u| dir.users.get(u).map_or(u, |x| x.display_name.as_str()));
    [Some(city.department_name(department)), team, person].into_iter().flatten().collect::<Vec<_>>().join(" · ")
}

/// "120 ft away" (or "35 m away", as the city writes distances) in `t`'s language.
pub(crate) fn distance_away(city: &crate::CityModel, t: &civic311_domain::i18n::Texts, metres: f64) -> String {
    let (n, unit) = city.settings.units.distance(metres);
    t.get("report.distance_away").replace("{n}", &n).replace("{unit}", t.get(&format!("units.{unit}")))
}

/// A staff page that only says what went wrong with what was sent.
pub(crate) fn message(state: &AppState, status: StatusCode, title: &str, message: &str) -> Response {
    crate::page::html(status, &MessagePage { c: StaffChrome::signed_out(state, ""), title, message })
}

/// What a staff page handler answers: the page, or a [`Fault`] on our side. Store and
/// application calls inside a handler use `?`; refusals a person can act on are shown
/// through [`refusal`] on the page the form came from.
pub(crate) type Page = Result<Response, Fault>;

/// A fault on our side: logged with its cause, shown without internals. An
/// [`AppError`] that is a refusal rather than a fault keeps its status and sentence.
#[derive(Debug)]
pub(crate) enum Fault {
    /// Refused, with the status and the sentence [`refusal`] gives it.
    Refused(StatusCode, String),
    /// Broken on our side; the cause is logged, never shown.
    Internal(String),
}

impl From<AppError> for Fault {
    fn from(e: AppError) -> Self {
        match refusal(&e) {
            Some((status, said)) => Fault::Refused(status, said),
            None => Fault::Internal(e.to_string()),
        }
    }
}

impl From<civic311_store::StoreError> for Fault {
    fn from(e: civic311_store::StoreError) -> Self {
        Fault::Internal(e.to_string())
    }
}

impl IntoResponse for Fault {
    fn into_response(self) -> Response {
        match self {
            Fault::Refused(status, said) => (status, said).into_response(),
            Fault::Internal(cause) => {
                tracing::error!(error = %cause, "staff page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side; it has been logged. Try again.")
                    .into_response()
            }
        }
    }
}

/// The staff pages' form of an application error — the one place it is decided: the
/// status, and a sentence to show on the page the form came from. `None` for a fault
/// on our side, which is logged and answered as a [`Fault`] instead.
pub(crate) fn refusal(e: &AppError) -> Option<(StatusCode, String)> {
    let named = |field: &str| field.replace('_', " ");
    Some(match e {
        // The page exists; what its form named does not (a merge target, a key).
        AppError::NotFound(f) => (StatusCode::BAD_REQUEST, format!("Not done: {}.", f.detail)),
        AppError::Forbidden(why) => (StatusCode::FORBIDDEN, format!("Not allowed: {why}.")),
        AppError::Conflict(_) => {
            (StatusCode::CONFLICT, format!("Not done: {e}. The page shows things as they are now."))
        }
        AppError::Invalid(errors) => {
            let each: Vec<_> = errors.iter().map(|f| format!("{} — {}", named(&f.field), f.detail)).collect();
            (StatusCode::BAD_REQUEST, format!("Not done: {}.", each.join("; ")))
        }
        AppError::Unavailable(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("Not done: {why}.")),
        AppError::Internal(_) => return None,
    })
}

/// Percent-encodes a URL component.
pub use civic311_domain::text::percent_encode as encode;

/// `k=v&…` with every key and value percent-encoded.
pub(crate) fn query_string(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

/// A request's place as staff read it: its address, or "near" it when the address is
/// only the one nearest the pin.
pub(crate) fn place(city: &crate::CityModel, location: &civic311_domain::request::Location) -> Option<String> {
    city.place_of(location).map(|(address, near)| if near { format!("near {address}") } else { address })
}
