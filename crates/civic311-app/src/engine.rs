//! Applying a staff (or resident) action: decide in the domain, then commit the new
//! state, its events, the messages it causes and the request's new timers together.

use civic311_domain::notify::{Follower, Message};
use civic311_domain::org::StaffUser;
use civic311_domain::request::{EventKind, RequestId, ServiceRequest};
use civic311_domain::workflow::{
    self, Action, Actor, Change, WorkflowModel, resident_messages, staff_messages, webhook_messages,
};
use civic311_store::{RequestUpdate, SharedStore, StoreError, StoreResult};
use jiff::Timestamp;

use crate::{App, AppError};

/// Every message a change causes: to the resident and followers, to staff, to webhooks.
pub fn messages_for(model: &WorkflowModel, change: &Change, followers: &[Follower]) -> Vec<Message> {
    let r = &change.request;
    let mut out = Vec::new();
    if let Some(n) = &change.resident {
        out.extend(resident_messages(model, r, followers, n.kind, n.note.as_deref()));
    }
    // The reason given with the change (a transfer's), when there is one.
    let reason = change.events.iter().find_map(|e| e.data.get("reason").and_then(|v| v.as_str()));
    for (audience, kind) in &change.staff {
        out.extend(staff_messages(model, r, *audience, kind, reason));
    }
    out.extend(webhook_messages(model, r, &change.events));
    out
}

/// The error for a request number that names none.
pub fn no_request(number: &str) -> AppError {
    AppError::not_found("id", format!("no request {number}"))
}

/// The error for a merge into a number that names no request.
fn no_merge_target(number: &str) -> AppError {
    AppError::not_found("into", format!("no request {number}"))
}

async fn load(store: &SharedStore, seq: i64) -> Result<ServiceRequest, AppError> {
    store.request(seq).await?.ok_or_else(|| no_request(&seq.to_string()))
}

/// The update that records `change`: its events, the messages to everyone concerned,
/// and the request's recomputed timers.
pub async fn update_for(store: &SharedStore, model: &WorkflowModel, change: Change) -> StoreResult<RequestUpdate> {
    let followers = store.followers(change.request.id.seq).await?;
    let messages = messages_for(model, &change, &followers);
    let timers = workflow::timers(model, &change.request);
    let mut u = RequestUpdate::new(change.request);
    u.events = change.events;
    u.messages = messages;
    u.timers = timers;
    Ok(u)
}

/// How often an action is retried when the request changed under it.
const ATTEMPTS: usize = 3;

/// Who may act on a request, checked on the very copy the action is decided on.
pub type Guard<'a> = &'a (dyn Fn(&ServiceRequest) -> Result<(), String> + Send + Sync);

/// Applies `action` to request `seq` as `actor` at `now`, if `guard` allows it on the
/// request as read; returns the request as stored.
pub async fn act(
    store: &SharedStore,
    model: &WorkflowModel,
    seq: i64,
    action: &Action,
    actor: &Actor,
    guard: Guard<'_>,
    now: Timestamp,
) -> Result<ServiceRequest, AppError> {
    act_noted(store, model, seq, action, None, actor, guard, now).await
}

/// [`act`], with a note for staff only (`internal_note`) recorded in the same unit of
/// work: beside an action whose text residents see, what only colleagues should read.
#[allow(clippy::too_many_arguments)]
pub async fn act_noted(
    store: &SharedStore,
    model: &WorkflowModel,
    seq: i64,
    action: &Action,
    internal_note: Option<&str>,
    actor: &Actor,
    guard: Guard<'_>,
    now: Timestamp,
) -> Result<ServiceRequest, AppError> {
    let internal_note = internal_note.map(str::trim).filter(|n| !n.is_empty());
    // The action decided on `req`, with the internal note in the same change.
    let decide = |req: &ServiceRequest, action: &Action| {
        let change = workflow::decide(model, req, action, actor, now)?;
        match internal_note {
            Some(note) => workflow::with_internal_note(model, change, note, actor, now),
            None => Ok(change),
        }
    };
    let mut last = None;
    for _ in 0..ATTEMPTS {
        let req = load(store, seq).await?;
        guard(&req).map_err(AppError::Forbidden)?;
        let mut updates = Vec::new();
        if let Action::Merge { into } = action {
            // The original is named whole (its year included), and the actor must
            // be allowed to act on it too: a merge writes into both requests.
            let original = match RequestId::parse(into) {
                Some((year, n)) => match store.request(n).await? {
                    Some(o) if year.is_none_or(|y| y == o.id.year) => o,
                    _ => return Err(no_merge_target(into)),
                },
                None => return Err(no_merge_target(into)),
            };
            guard(&original).map_err(AppError::Forbidden)?;
            workflow::merge_target_ok(model, &req, &original)?;
            let named = Action::Merge { into: original.id.to_string() };
            let change = decide(&req, &named)?;
            let absorbed = workflow::absorb(&original, &req, actor, now);
            updates.push(update_for(store, model, change).await?);
            let mut u = update_for(store, model, absorbed).await?;
            u.followers_from = Some(req.id.seq);
            u.follow.extend(workflow::requester(&req));
            updates.push(u);
        } else {
            let mut u = update_for(store, model, decide(&req, action)?).await?;
            if let Action::AttachPhotos { photos, .. } = action {
                u.media.clone_from(photos);
            }
            updates.push(u);
        }
        match store.commit(updates).await {
            Ok(mut stored) => return Ok(stored.swap_remove(0)),
            Err(StoreError::Conflict(e)) => last = Some(StoreError::Conflict(e)),
            Err(e) => return Err(e.into()),
        }
    }
    Err(last.map_or_else(|| no_request(&seq.to_string()), AppError::from))
}

/// Adds (or, with `on = false`, removes) a follower of a request, recorded in its
/// history as done by `actor` (the resident by a link, or staff).
pub async fn follow(
    store: &SharedStore,
    model: &WorkflowModel,
    seq: i64,
    follower: Follower,
    on: bool,
    actor: &Actor,
    now: Timestamp,
) -> Result<ServiceRequest, AppError> {
    let mut last = None;
    for _ in 0..ATTEMPTS {
        let mut req = load(store, seq).await?;
        req.updated_at = now;
        let timers = workflow::timers(model, &req);
        let mut u = RequestUpdate::new(req);
        u.events.push(workflow::NewEvent {
            kind: if on { EventKind::Followed } else { EventKind::Unfollowed },
            actor: actor.name().to_owned(),
            data: serde_json::json!({ "channel": follower.channel }),
        });
        if on {
            u.follow.push(follower.clone());
        } else {
            u.unfollow.push(follower.address.clone());
        }
        // Following changes nothing about the work: the same timers.
        u.timers = timers;
        match store.commit(vec![u]).await {
            Ok(mut stored) => return Ok(stored.swap_remove(0)),
            Err(StoreError::Conflict(e)) => last = Some(StoreError::Conflict(e)),
            Err(e) => return Err(e.into()),
        }
    }
    Err(last.map_or_else(|| no_request(&seq.to_string()), AppError::from))
}

/// Applies `action` to request `seq` as member of staff `user`, if their role and
/// department allow it ([`civic311_domain::policy::may_act`]) — checked on the very
/// copy the action is decided on, so a concurrent transfer cannot let it through on a
/// request they no longer cover. The staff API, the workspace and the supervisor's
/// bulk actions all act through here.
///
/// `internal_note`, when given, is recorded with the action as a note for staff only.
pub async fn act_as_staff(
    app: &App,
    user: &StaffUser,
    seq: i64,
    action: &Action,
    internal_note: Option<&str>,
) -> Result<ServiceRequest, AppError> {
    let city = app.city();
    let roles = &city.workflow.config.roles;
    let guard = |r: &ServiceRequest| civic311_domain::policy::may_act(user, r, action, roles);
    let actor = Actor::Staff(user.username.clone());
    act_noted(&app.store, &city.workflow, seq, action, internal_note, &actor, &guard, app.now()).await
}
