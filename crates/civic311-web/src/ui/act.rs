//! Workflow actions from the request page: each form posts the action's fields with
//! the session's CSRF value; a refused action re-shows the page with the reason and
//! changes nothing, a done one comes back to the page with a notice.

use crate::form::Form;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use civic311_app::AppError;
use civic311_domain::request::ServiceRequest;
use civic311_domain::workflow::Action;
use serde_json::{Map, Value};

use super::request::{load, render};
use super::{Fault, Page, Staff};
use crate::AppState;
use crate::media::read_multipart;

/// Form fields that are yes/no rather than text.
const BOOLEAN_FIELDS: [&str; 1] = ["public"];

/// Fields of a form that are not the action's own.
const FORM_ONLY: [&str; 3] = ["csrf", "internal_note", "confirm"];

/// The question to ask before assigning someone else outside the team that owns the
/// request (the request would move to their team), or `None`. Taking work oneself
/// ("Assign to me") is never asked about.
fn outside_team(state: &AppState, staff: &Staff, r: &ServiceRequest, action: &Action) -> Option<String> {
    let Action::Assign { team, assignee: Some(user) } = action else { return None };
    if *user == staff.user.username {
        return None;
    }
    let city = state.city();
    let dir = &city.workflow.directory;
    let owning = team.as_ref().or(r.assignment.team.as_ref())?;
    let person = dir.users.get(user)?;
    if person.team.as_ref() == Some(owning) {
        return None;
    }
    let name = |t: &String| dir.teams.get(t).map_or_else(|| t.clone(), |x| x.name.clone());
    let theirs = person.team.as_ref().map_or_else(|| "no team".to_owned(), |t| format!("the {} team", name(t)));
    let moves = match (&person.team, team) {
        (Some(t), None) => format!(" Assigning moves the request to {}.", name(t)),
        _ => String::new(),
    };
    Some(format!(
        "{} is on {theirs}, not on {}, which owns request {}.{moves} Assign anyway?",
        person.display_name,
        name(owning),
        r.id
    ))
}

fn confirmed(fields: &[(String, String)]) -> bool {
    fields.iter().any(|(k, v)| k == "confirm" && v == "yes")
}

#[derive(askama::Template)]
#[template(path = "staff/confirm.html")]
struct ConfirmPage<'a> {
    c: super::session::StaffChrome,
    title: String,
    question: String,
    action: String,
    fields: &'a [(String, String)],
    button: &'static str,
    back: String,
}

/// Asks `question` before the form's action is carried out: the same form again with
/// `confirm=yes`, or back to the request.
fn confirm(
    state: &AppState,
    staff: &Staff,
    r: &ServiceRequest,
    back: &Back,
    question: String,
    fields: &[(String, String)],
) -> axum::response::Response {
    let keep = back.queue().map(|q| format!("?queue={}", super::encode(q))).unwrap_or_default();
    let page = ConfirmPage {
        c: super::session::StaffChrome::new(state, staff),
        title: format!("Assign {} outside its team?", r.id),
        question,
        action: format!("/staff/requests/{}/act{keep}", r.id),
        fields,
        button: "Assign anyway",
        back: format!("/staff/requests/{}{keep}", r.id),
    };
    crate::page::html(StatusCode::OK, &page)
}

/// The action a form describes: its fields as the staff API's JSON, blanks left out
/// (the separate internal note too: see [`internal_note`]).
fn action_of(fields: &[(String, String)]) -> Result<Action, String> {
    let mut obj = Map::new();
    for (k, v) in fields {
        let v = v.trim();
        if FORM_ONLY.contains(&k.as_str()) || v.is_empty() {
            continue;
        }
        let value =
            if BOOLEAN_FIELDS.contains(&k.as_str()) { Value::Bool(v == "true") } else { Value::String(v.to_owned()) };
        obj.insert(k.clone(), value);
    }
    serde_json::from_value(Value::Object(obj)).map_err(|e| {
        let text = e.to_string();
        match text.split_once("missing field `") {
            Some((_, rest)) => {
                format!("Fill in {}.", rest.split('`').next().unwrap_or("every required field").replace('_', " "))
            }
            None => format!("This form could not be read: {text}"),
        }
    })
}

/// The note for staff only that a form sent beside its public text, if any.
fn internal_note(fields: &[(String, String)]) -> Option<&str> {
    fields.iter().find(|(k, _)| k == "internal_note").map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

/// Carries out `action` (with its internal note) as the signed-in member of staff,
/// answering as the page does.
pub(super) async fn apply(
    state: &AppState,
    staff: &Staff,
    r: &ServiceRequest,
    back: &Back,
    action: &Action,
    note: Option<&str>,
) -> Page {
    let refused = |status, message: String| render(state, staff, r, back.queue(), status, None, Some(message));
    match civic311_app::engine::act_as_staff(state, &staff.user, r.id.seq, action, note).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/staff/requests/{}?done={}{}", r.id, action.name(), back.suffix()))
                .into_response())
        }
        // The request itself is gone: there is no page to show it on.
        Err(AppError::NotFound(f)) if f.field == "id" => {
            Err(Fault::Refused(StatusCode::NOT_FOUND, format!("There is no request {}.", r.id)))
        }
        Err(e) => match super::refusal(&e) {
            Some((status, said)) => refused(status, said).await,
            None => Err(e.into()),
        },
    }
}

/// The queue a request page was opened from (its filters), kept through the page's
/// forms so that, once done, the page offers the next request in that queue.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Back {
    queue: Option<String>,
}

impl Back {
    pub(super) fn queue(&self) -> Option<&str> {
        self.queue.as_deref().filter(|q| !q.is_empty() && q.len() <= 1000)
    }

    /// `&queue=…` for a link back to the request page, or nothing.
    fn suffix(&self) -> String {
        self.queue().map(|q| format!("&queue={}", super::encode(q))).unwrap_or_default()
    }
}

pub(super) const EXPIRED: &str = "This form had expired (or came from elsewhere). Nothing was changed; try again.";

/// `POST /staff/requests/{id}/act`.
pub async fn act(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(back): Query<Back>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let r = load(&state, &id).await?;
    let csrf = fields.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str());
    if !staff.csrf_ok(csrf) {
        return render(&state, &staff, &r, back.queue(), StatusCode::FORBIDDEN, None, Some(EXPIRED.to_owned())).await;
    }
    if fields.iter().any(|(k, v)| k == "action" && v == "attach_photos") {
        return render(
            &state,
            &staff,
            &r,
            back.queue(),
            StatusCode::BAD_REQUEST,
            None,
            Some("Photos go through the photo form.".into()),
        )
        .await;
    }
    match action_of(&fields) {
        Ok(action) => {
            if let Some(question) = outside_team(&state, &staff, &r, &action).filter(|_| !confirmed(&fields)) {
                return Ok(confirm(&state, &staff, &r, &back, question, &fields));
            }
            apply(&state, &staff, &r, &back, &action, internal_note(&fields)).await
        }
        Err(message) => render(&state, &staff, &r, back.queue(), StatusCode::BAD_REQUEST, None, Some(message)).await,
    }
}

/// A multipart form of the request page, its CSRF value checked: its fields and photos,
/// or the page again saying why not (`missing` when nothing could be read).
pub(super) async fn multipart_form(
    state: &AppState,
    staff: &Staff,
    r: &ServiceRequest,
    back: &Back,
    body: Result<Multipart, MultipartRejection>,
    missing: &str,
) -> Result<(Vec<(String, String)>, Vec<civic311_domain::request::Media>), Page> {
    let again = |status, message: String| render(state, staff, r, back.queue(), status, None, Some(message));
    let Ok(mp) = body else { return Err(again(StatusCode::BAD_REQUEST, missing.to_owned()).await) };
    let (fields, photos) = match read_multipart(&state.codecs.photos, mp).await {
        Ok(x) => x,
        Err((status, e)) => return Err(again(status, format!("Nothing was changed: {e}.")).await),
    };
    let csrf = fields.iter().find(|(n, _)| n == "csrf").map(|(_, v)| v.trim());
    if !staff.csrf_ok(csrf) {
        return Err(again(StatusCode::FORBIDDEN, EXPIRED.to_owned()).await);
    }
    Ok((fields, photos))
}

/// `POST /staff/requests/{id}/photos`: multipart photos, `public` and `note`.
pub async fn photos(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(back): Query<Back>,
    body: Result<Multipart, MultipartRejection>,
) -> Page {
    let r = load(&state, &id).await?;
    let (fields, mut photos) =
        match multipart_form(&state, &staff, &r, &back, body, "Choose one or more photos to attach.").await {
            Ok(x) => x,
            Err(page) => return page,
        };
    let bad = |message: String| render(&state, &staff, &r, back.queue(), StatusCode::BAD_REQUEST, None, Some(message));
    let field = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_owned());
    let public = match field("public").as_deref() {
        Some("true") => true,
        Some("false") => false,
        _ => return bad("Say whether residents may see these photos.".into()).await,
    };
    for p in &mut photos {
        p.public = public;
    }
    let action = Action::AttachPhotos { photos, public, note: field("note") };
    apply(&state, &staff, &r, &back, &action, None).await
}

/// `POST /staff/requests/{id}/unfollow` with `address`: stops the updates to a
/// follower (who asked by phone, say), for staff who may write on the request.
pub async fn unfollow(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(back): Query<Back>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let r = load(&state, &id).await?;
    let field = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim());
    if !staff.csrf_ok(field("csrf")) {
        return render(&state, &staff, &r, back.queue(), StatusCode::FORBIDDEN, None, Some(EXPIRED.to_owned())).await;
    }
    let writes = Action::Note { text: String::new(), public: false };
    if let Err(why) = civic311_domain::policy::may_act(&staff.user, &r, &writes, &state.city().workflow.config.roles) {
        return render(
            &state,
            &staff,
            &r,
            back.queue(),
            StatusCode::FORBIDDEN,
            None,
            Some(format!("Not allowed: {why}.")),
        )
        .await;
    }
    let followers = state.store.followers(r.id.seq).await?;
    let Some(f) = followers.into_iter().find(|f| Some(f.address.as_str()) == field("address")) else {
        let error = "That address does not follow this request (any more).".to_owned();
        return render(&state, &staff, &r, back.queue(), StatusCode::BAD_REQUEST, None, Some(error)).await;
    };
    let city = state.city();
    civic311_app::engine::follow(
        &state.store,
        &city.workflow,
        r.id.seq,
        f,
        false,
        &civic311_domain::workflow::Actor::Staff(staff.user.username.clone()),
        state.now(),
    )
    .await?;
    Ok(Redirect::to(&format!("/staff/requests/{}?done=unfollow{}", r.id, back.suffix())).into_response())
}

/// `GET /staff/media/{id}`: any photo, public or internal, to signed-in staff.
pub async fn media(State(state): State<AppState>, _staff: Staff, Path(id): Path<String>) -> Page {
    let missing = || Fault::Refused(StatusCode::NOT_FOUND, "no such photo".to_owned());
    let id = id.parse::<i64>().map_err(|_| missing())?;
    let (m, _) = state.store.media(id).await?.ok_or_else(missing)?;
    let cache = (header::CACHE_CONTROL, "private, max-age=3600".to_owned());
    Ok(([(header::CONTENT_TYPE, m.content_type), cache], m.bytes).into_response())
}
