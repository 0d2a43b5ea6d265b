//! Resolving in one step, as a crew does from the street on a phone: what was done,
//! the "after" photos, an internal note, and the open duplicates to close with it — one
//! form, one submit.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use civic311_domain::workflow::Action;

use super::act::{Back, apply, multipart_form};
use super::request::{load, render};
use super::{Page, Staff};
use crate::AppState;

/// `POST /staff/requests/{id}/resolve`: multipart `note` (public), `photo` files (the
/// "after" photos, public), `internal_note`, and `merge` for each open duplicate to
/// close with it. Who may: whoever may resolve the request (its department's staff,
/// field crews included); merging a duplicate asks the same of that duplicate.
pub async fn resolve(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(back): Query<Back>,
    body: Result<Multipart, MultipartRejection>,
) -> Page {
    let r = load(&state, &id).await?;
    let refuse = |status, message: String| render(&state, &staff, &r, back.queue(), status, None, Some(message));
    let (fields, mut photos) = match multipart_form(&state, &staff, &r, &back, body, "Say what was done.").await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let field = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim()).filter(|v| !v.is_empty());
    let Some(note) = field("note") else {
        return refuse(StatusCode::BAD_REQUEST, "Fill in what was done: residents are told.".into()).await;
    };
    let resolve = Action::Resolve { note: note.to_owned() };
    let roles = &state.city().workflow.config.roles;
    if let Err(why) = civic311_domain::policy::may_act(&staff.user, &r, &resolve, roles) {
        return refuse(StatusCode::FORBIDDEN, format!("Not allowed: {why}.")).await;
    }
    if !resolve.allowed_from().contains(&r.status) {
        return refuse(StatusCode::CONFLICT, format!("It cannot be resolved while it is {}.", r.status.as_str())).await;
    }
    // The duplicates to close with it: each must be a request, still open, and one
    // this member of staff may merge — all checked before anything is written, so a
    // refusal leaves the request, its photos and its duplicates as they were.
    let merge = Action::Merge { into: r.id.to_string() };
    let mut duplicates = Vec::new();
    for number in fields.iter().filter(|(k, _)| k == "merge").map(|(_, v)| v.trim()) {
        match state.request_named(number).await? {
            Some(d) if !d.status.is_closed() && d.id != r.id => {
                if let Err(why) = civic311_domain::policy::may_act(&staff.user, &d, &merge, roles) {
                    let said = format!("Not resolved: {} cannot be closed with it: {why}.", d.id);
                    return refuse(StatusCode::FORBIDDEN, said).await;
                }
                duplicates.push(d);
            }
            _ => return refuse(StatusCode::BAD_REQUEST, format!("{number} is not an open request to close.")).await,
        }
    }
    let user = &staff.user;
    if !photos.is_empty() {
        for p in &mut photos {
            p.public = true;
        }
        let after = Action::AttachPhotos { photos, public: true, note: Some("After the work".into()) };
        if let Err(e) = civic311_app::engine::act_as_staff(&state, user, r.id.seq, &after, None).await {
            return match super::refusal(&e) {
                Some((status, said)) => refuse(status, format!("Not resolved: the photos were refused: {said}")).await,
                None => Err(e.into()),
            };
        }
    }
    for d in &duplicates {
        if let Err(e) = civic311_app::engine::act_as_staff(&state, user, d.id.seq, &merge, None).await {
            return match super::refusal(&e) {
                Some((status, said)) => {
                    refuse(status, format!("Not resolved: {} could not be closed with it: {said}", d.id)).await
                }
                None => Err(e.into()),
            };
        }
    }
    apply(&state, &staff, &r, &back, &resolve, field("internal_note")).await
}
