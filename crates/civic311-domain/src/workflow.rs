//! The request lifecycle: which actions are allowed in which state, what each one
//! changes, the events it records, who is told, and the SLA and escalation timers
//! that follow from the new state.
//!
//! `new → open → in_progress → resolved → closed`; `on_hold` and
//! `waiting_on_resident` pause the SLA clock; resolved or closed requests can be
//! reopened; a request merged into another is closed as `duplicate`.

mod messages;
mod model;
mod promise;
mod timers;

#[cfg(test)]
mod tests;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::escalation::Audience;
use crate::notify::Follower;
use crate::request::{EventKind, Media, Priority, ServiceRequest, Status};
use crate::sla::SlaClock;

pub use messages::{resident_messages, staff_messages, webhook_messages};
pub use model::{Directory, RoleSettings, WorkflowConfig, WorkflowModel};
pub use promise::{Promise, notice_conflict, promised};
pub use timers::{Timer, TimerKind, fire, timers};

// Stored with every request: what is zero, false or absent is left out (and read back
// as such), so a new request's state is a few dozen bytes, not hundreds.
fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Workflow facts about a request beyond its status and owner.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<SlaClock>,
    /// Escalation levels already carried out.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub escalation_level: u32,
    #[serde(default, skip_serializing_if = "is_false")]
    pub escalated: bool,
    /// The resident has been told of the delay (it is said once).
    #[serde(default, skip_serializing_if = "is_false")]
    pub delay_notified: bool,
    /// The date the resident was told to expect once the resolution due time passed
    /// (set with the delay notice); shown as the expected date from then on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_expected: Option<Timestamp>,
    /// Staff have been told the first response is overdue (it is said once).
    #[serde(default, skip_serializing_if = "is_false")]
    pub response_overdue_notified: bool,
    /// The last staff activity, for reminders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_activity: Option<Timestamp>,
    /// Other departments involved through linked tasks; the owner stays accountable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub involved: Vec<LinkedTask>,
    /// The request this one was merged into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<Rating>,
}

/// Work another department does on a request it does not own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedTask {
    pub department: String,
    pub note: String,
    pub at: Timestamp,
}

/// A resident's rating of a resolved request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    pub score: u8,
    pub comment: String,
    pub at: Timestamp,
}

/// Who acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Staff(String),
    Resident,
    System,
}

impl Actor {
    /// As recorded on events: a username, `resident` or `system`.
    pub fn name(&self) -> &str {
        match self {
            Actor::Staff(u) => u,
            Actor::Resident => "resident",
            Actor::System => "system",
        }
    }
}

/// Everything staff (and residents, for ratings) can do to a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Confirms the city has seen it: a new request becomes open; the first response is met.
    Acknowledge {
        #[serde(default)]
        note: Option<String>,
    },
    /// Gives the request to a team of the owning department and/or a person.
    Assign {
        #[serde(default)]
        team: Option<String>,
        #[serde(default)]
        assignee: Option<String>,
    },
    /// Hands the request to another department (it was sent to the wrong place).
    Transfer {
        department: String,
        #[serde(default)]
        team: Option<String>,
        reason: String,
    },
    /// Involves a second department through a linked task; the owner stays accountable.
    Involve {
        department: String,
        note: String,
    },
    /// Work has started.
    Start {
        #[serde(default)]
        note: Option<String>,
    },
    /// Pauses the SLA clock: waiting on something outside the city's control.
    Hold {
        reason: String,
    },
    /// Pauses the SLA clock: a question to the resident.
    WaitOnResident {
        question: String,
    },
    /// Resumes work after a hold or the resident's answer.
    Resume {
        #[serde(default)]
        note: Option<String>,
    },
    SetPriority {
        priority: Priority,
        #[serde(default)]
        reason: Option<String>,
    },
    /// A note: public ones are shown to the resident and followers, internal ones to staff only.
    Note {
        text: String,
        public: bool,
    },
    /// Photos from staff, such as a crew's before and after. They arrive as files, so
    /// this is never read from a JSON action body.
    #[serde(skip)]
    AttachPhotos {
        photos: Vec<Media>,
        /// Public photos join the request's Open311 `media_url`s; internal ones are for staff.
        public: bool,
        note: Option<String>,
    },
    Resolve {
        note: String,
    },
    Close {
        #[serde(default)]
        note: Option<String>,
    },
    Reopen {
        reason: String,
    },
    /// Closes this request as a duplicate of another (the request number).
    Merge {
        into: String,
    },
    /// A resident's rating of a resolved request, 1 to 5.
    Rate {
        score: u8,
        #[serde(default)]
        comment: String,
    },
}

impl Action {
    /// The action's name, as in the API.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Acknowledge { .. } => "acknowledge",
            Action::Assign { .. } => "assign",
            Action::Transfer { .. } => "transfer",
            Action::Involve { .. } => "involve",
            Action::Start { .. } => "start",
            Action::Hold { .. } => "hold",
            Action::WaitOnResident { .. } => "wait_on_resident",
            Action::Resume { .. } => "resume",
            Action::SetPriority { .. } => "set_priority",
            Action::Note { .. } => "note",
            Action::AttachPhotos { .. } => "attach_photos",
            Action::Resolve { .. } => "resolve",
            Action::Close { .. } => "close",
            Action::Reopen { .. } => "reopen",
            Action::Merge { .. } => "merge",
            Action::Rate { .. } => "rate",
        }
    }

    /// The states the action is allowed from.
    pub fn allowed_from(&self) -> &'static [Status] {
        use Status::*;
        const ACTIVE: &[Status] = &Status::ACTIVE;
        match self {
            Action::Acknowledge { .. } => &[New, Open],
            Action::Start { .. } => &[New, Open, OnHold, WaitingOnResident],
            Action::Hold { .. } | Action::WaitOnResident { .. } => &[Open, InProgress],
            Action::Resume { .. } => &[OnHold, WaitingOnResident],
            Action::Close { .. } => &[New, Open, InProgress, OnHold, WaitingOnResident, Resolved],
            Action::Reopen { .. } => &[Resolved, Closed],
            Action::Rate { .. } => &[Resolved, Closed],
            Action::Note { .. } | Action::AttachPhotos { .. } => {
                &[New, Open, InProgress, OnHold, WaitingOnResident, Resolved, Closed, Duplicate]
            }
            Action::Assign { .. }
            | Action::Transfer { .. }
            | Action::Involve { .. }
            | Action::SetPriority { .. }
            | Action::Resolve { .. }
            | Action::Merge { .. } => ACTIVE,
        }
    }
}

/// The most photos one action attaches.
pub const MAX_PHOTOS: usize = 5;

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    #[error("{action} is not allowed while the request is {status}")]
    NotAllowed { action: &'static str, status: &'static str },
    #[error("{field}: {detail}")]
    Invalid { field: String, detail: String },
    /// Well formed, but not possible with the request and city as they are: a team or
    /// person that does not exist or works elsewhere, a change to what is already so,
    /// a merge the two requests do not allow.
    #[error("{field}: {detail}")]
    Conflict { field: String, detail: String },
}

fn invalid(field: &str, detail: impl Into<String>) -> WorkflowError {
    WorkflowError::Invalid { field: field.to_owned(), detail: detail.into() }
}

fn conflict(field: &str, detail: impl Into<String>) -> WorkflowError {
    WorkflowError::Conflict { field: field.to_owned(), detail: detail.into() }
}

fn required(field: &str, text: &str) -> Result<String, WorkflowError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(invalid(field, "is required"));
    }
    if t.chars().count() > 4000 {
        return Err(invalid(field, "at most 4000 characters"));
    }
    crate::text::check_text(field, t).map_err(|e| invalid(&e.field, e.detail))?;
    Ok(t.to_owned())
}

fn optional(field: &str, text: &Option<String>) -> Result<Option<String>, WorkflowError> {
    match text.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => required(field, t).map(Some),
    }
}

/// An event to append: its kind, who acted and what happened.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub kind: EventKind,
    pub actor: String,
    pub data: serde_json::Value,
}

/// What a resident should be told about a change, before it is addressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentNotice {
    /// Template kind: `status_changed`, `resolved`, `merged`, `note`, `delayed`.
    pub kind: &'static str,
    pub note: Option<String>,
}

/// The outcome of an allowed action: the request as it is now and what to record.
#[derive(Debug, Clone)]
pub struct Change {
    pub request: ServiceRequest,
    pub events: Vec<NewEvent>,
    pub resident: Option<ResidentNotice>,
    /// Staff to tell, with the template kind (`warning`, `escalated`, `reminder`).
    pub staff: Vec<(Audience, &'static str)>,
}

/// Decides an action on `req` at `now`. Nothing is changed when it is refused.
/// `Merge` is checked against the original by the caller (see [`merge_target_ok`]).
pub fn decide(
    model: &WorkflowModel,
    req: &ServiceRequest,
    action: &Action,
    actor: &Actor,
    now: Timestamp,
) -> Result<Change, WorkflowError> {
    if !action.allowed_from().contains(&req.status) {
        return Err(WorkflowError::NotAllowed { action: action.name(), status: req.status.as_str() });
    }
    let dir = &model.directory;
    let mut r = req.clone();
    let mut events = Vec::new();
    let mut resident = None;
    let mut staff = Vec::new();
    let mut event =
        |kind: EventKind, data: serde_json::Value| events.push(NewEvent { kind, actor: actor.name().to_owned(), data });
    let from = req.status;
    let calendar = r.workflow.sla.as_ref().and_then(|c| model.calendar(&c.calendar)).cloned();
    let set_status = |r: &mut ServiceRequest, to: Status, note: Option<String>| {
        r.status = to;
        if note.is_some() {
            r.status_notes.clone_from(&note);
        }
        (from != to).then(|| json!({ "from": from.as_str(), "to": to.as_str(), "note": note }))
    };
    match action {
        Action::Acknowledge { note } => {
            let note = optional("note", note)?;
            if let Some(d) = set_status(&mut r, Status::Open, note.clone()) {
                event(EventKind::StatusChanged, d);
            }
            event(EventKind::Acknowledged, json!({ "note": note }));
        }
        Action::Assign { team, assignee } => {
            if team.is_none() && assignee.is_none() {
                return Err(invalid("team", "give a team, an assignee or both"));
            }
            let dept = r.assignment.department.clone();
            if let Some(t) = team {
                let known = dir.teams.get(t).ok_or_else(|| {
                    let own = dir.teams.values().filter(|x| x.department == dept).map(|x| x.code.as_str());
                    conflict("team", crate::error::unknown("team", t, own))
                })?;
                if known.department != dept {
                    return Err(conflict(
                        "team",
                        format!(
                            "team '{t}' belongs to {}, not to the owning department {dept}: transfer first",
                            known.department
                        ),
                    ));
                }
                r.assignment.team = Some(t.clone());
            }
            if let Some(u) = assignee {
                let user = dir.users.get(u).ok_or_else(|| {
                    let own =
                        dir.users.values().filter(|x| x.active && x.department == dept).map(|x| x.username.as_str());
                    conflict("assignee", crate::error::unknown("user", u, own))
                })?;
                if user.department != dept {
                    return Err(conflict("assignee", format!("'{u}' works in {}, not in {dept}", user.department)));
                }
                if !user.active {
                    return Err(conflict("assignee", format!("'{u}' is no longer active")));
                }
                if team.is_none() && user.team.is_some() {
                    r.assignment.team.clone_from(&user.team);
                }
            }
            r.assignment.assignee.clone_from(assignee);
            if r.status == Status::New {
                r.status = Status::Open;
            }
            // The person given the work is told, unless they took it themselves.
            if assignee.as_ref().is_some_and(|u| *actor != Actor::Staff(u.clone())) {
                staff.push((Audience::Assignee, "assigned"));
            }
            event(
                EventKind::Assigned,
                json!({ "department": dept, "team": r.assignment.team, "assignee": r.assignment.assignee }),
            );
        }
        Action::Transfer { department, team, reason } => {
            let reason = required("reason", reason)?;
            if !dir.departments.contains_key(department) {
                let known = dir.departments.keys().map(String::as_str);
                return Err(conflict("department", crate::error::unknown("department", department, known)));
            }
            if *department == r.assignment.department {
                return Err(conflict("department", "the request is already owned by this department"));
            }
            if let Some(t) = team {
                let known = dir.teams.get(t).ok_or_else(|| {
                    let theirs = dir.teams.values().filter(|x| x.department == *department).map(|x| x.code.as_str());
                    conflict("team", crate::error::unknown("team", t, theirs))
                })?;
                if known.department != *department {
                    return Err(conflict("team", format!("team '{t}' belongs to {}", known.department)));
                }
            }
            let old = r.assignment.department.clone();
            r.assignment.department.clone_from(department);
            // Without a team named, it lands on the receiving department's intake team.
            let team = team.clone().or_else(|| dir.departments.get(department).and_then(|d| d.intake_team.clone()));
            r.assignment.team.clone_from(&team);
            r.assignment.assignee = None;
            staff.push((Audience::Supervisor, "transferred"));
            if r.status == Status::New || r.status == Status::InProgress {
                r.status = Status::Open;
            }
            event(EventKind::Transferred, json!({ "from": old, "to": department, "team": team, "reason": reason }));
        }
        Action::Involve { department, note } => {
            let note = required("note", note)?;
            if !dir.departments.contains_key(department) {
                let known = dir.departments.keys().map(String::as_str);
                return Err(conflict("department", crate::error::unknown("department", department, known)));
            }
            if *department == r.assignment.department {
                return Err(conflict("department", "the owning department is already involved"));
            }
            r.workflow.involved.push(LinkedTask { department: department.clone(), note: note.clone(), at: now });
            event(EventKind::Involved, json!({ "department": department, "note": note }));
        }
        Action::Hold { reason } | Action::WaitOnResident { question: reason } => {
            let reason = required(if matches!(action, Action::Hold { .. }) { "reason" } else { "question" }, reason)?;
            let to = if matches!(action, Action::Hold { .. }) { Status::OnHold } else { Status::WaitingOnResident };
            if let (Some(c), Some(cal)) = (r.workflow.sla.as_mut(), &calendar) {
                c.pause(cal, now);
            }
            if let Some(d) = set_status(&mut r, to, Some(reason.clone())) {
                event(EventKind::StatusChanged, d);
            }
            resident = Some(ResidentNotice { kind: "status_changed", note: Some(reason) });
        }
        Action::Start { note } | Action::Resume { note } => {
            let note = optional("note", note)?;
            if let (Some(c), Some(cal)) = (r.workflow.sla.as_mut(), &calendar) {
                c.resume(cal, now);
            }
            if let Some(d) = set_status(&mut r, Status::InProgress, note.clone()) {
                event(EventKind::StatusChanged, d);
            }
            // Whoever starts unassigned work of their own department takes it: it is
            // on their "My work" from then on.
            let starter = match (action, actor) {
                (Action::Start { .. }, Actor::Staff(u)) if r.assignment.assignee.is_none() => dir.users.get(u),
                _ => None,
            };
            if let Some(user) = starter.filter(|u| u.active && u.department == r.assignment.department) {
                r.assignment.assignee = Some(user.username.clone());
                if r.assignment.team.is_none() {
                    r.assignment.team.clone_from(&user.team);
                }
                let a = &r.assignment;
                event(
                    EventKind::Assigned,
                    json!({ "department": a.department, "team": a.team, "assignee": a.assignee }),
                );
            }
            resident = Some(ResidentNotice { kind: "status_changed", note });
        }
        Action::SetPriority { priority, reason } => {
            let reason = optional("reason", reason)?;
            if *priority == r.assignment.priority {
                return Err(conflict("priority", format!("the priority is already {}", priority.as_str())));
            }
            event(
                EventKind::PriorityChanged,
                json!({ "from": r.assignment.priority.as_str(), "to": priority.as_str(), "reason": reason }),
            );
            r.assignment.priority = *priority;
        }
        Action::Note { text, public } => {
            let text = required("text", text)?;
            // The status is kept so update feeds can say what it was when the note was made.
            event(EventKind::Note, json!({ "text": text, "public": public, "status": from.as_str() }));
            if *public {
                resident = Some(ResidentNotice { kind: "note", note: Some(text) });
            }
        }
        Action::AttachPhotos { photos, public, note } => {
            if photos.is_empty() || photos.len() > MAX_PHOTOS {
                return Err(invalid("photo", format!("attach between 1 and {MAX_PHOTOS} photos at a time")));
            }
            let note = optional("note", note)?;
            let types: Vec<&str> = photos.iter().map(|p| p.content_type.as_str()).collect();
            event(
                EventKind::PhotosAttached,
                json!({ "count": photos.len(), "public": public, "types": types, "note": note }),
            );
        }
        Action::Resolve { note } => {
            let note = required("note", note)?;
            if let Some(c) = r.workflow.sla.as_mut() {
                c.stop(now);
            }
            if let Some(d) = set_status(&mut r, Status::Resolved, Some(note.clone())) {
                event(EventKind::StatusChanged, d);
            }
            r.closed_at = Some(now);
            resident = Some(ResidentNotice { kind: "resolved", note: Some(note) });
        }
        Action::Close { note } => {
            let note = optional("note", note)?;
            if from != Status::Resolved && note.is_none() {
                return Err(conflict("note", "say why a request that was not resolved is closed"));
            }
            if let Some(c) = r.workflow.sla.as_mut() {
                c.stop(now);
            }
            if let Some(d) = set_status(&mut r, Status::Closed, note.clone()) {
                event(EventKind::StatusChanged, d);
            }
            r.closed_at.get_or_insert(now);
            if from != Status::Resolved {
                resident = Some(ResidentNotice { kind: "status_changed", note });
            }
        }
        Action::Reopen { reason } => {
            let reason = required("reason", reason)?;
            if let (Some(c), Some(cal)) = (r.workflow.sla.as_mut(), &calendar) {
                c.restart(cal, now);
            }
            r.closed_at = None;
            r.workflow.escalation_level = 0;
            r.workflow.escalated = false;
            r.workflow.delay_notified = false;
            r.workflow.new_expected = None;
            if let Some(d) = set_status(&mut r, Status::Open, Some(reason.clone())) {
                event(EventKind::StatusChanged, d);
            }
            event(EventKind::Reopened, json!({ "reason": reason }));
            resident = Some(ResidentNotice { kind: "status_changed", note: Some(reason) });
        }
        Action::Merge { into } => {
            if let Some(c) = r.workflow.sla.as_mut() {
                c.stop(now);
            }
            r.workflow.merged_into = Some(into.clone());
            let note = format!("Duplicate of {into}");
            if let Some(d) = set_status(&mut r, Status::Duplicate, Some(note)) {
                event(EventKind::StatusChanged, d);
            }
            r.closed_at = Some(now);
            event(EventKind::Merged, json!({ "into": into }));
            resident = Some(ResidentNotice { kind: "merged", note: None });
        }
        Action::Rate { score, comment } => {
            if !(1..=5).contains(score) {
                return Err(invalid("score", "a whole number from 1 to 5"));
            }
            if comment.chars().count() > 2000 {
                return Err(invalid("comment", "at most 2000 characters"));
            }
            crate::text::check_text("comment", comment).map_err(|e| invalid(&e.field, e.detail))?;
            let comment = comment.trim().to_owned();
            r.workflow.rating = Some(Rating { score: *score, comment: comment.clone(), at: now });
            event(EventKind::Rated, json!({ "score": score, "comment": comment }));
        }
    }
    if let Actor::Staff(_) = actor {
        r.workflow.last_activity = Some(now);
        if let Some(c) = r.workflow.sla.as_mut() {
            c.respond(now);
        }
    }
    // While the clock is paused nothing is due: the request is not overdue, and it
    // sorts after the work that is.
    r.expected_at = r.workflow.sla.as_ref().filter(|c| c.paused_at.is_none()).map(|c| c.resolution_due);
    r.updated_at = now;
    Ok(Change { request: r, events, resident, staff })
}

/// Adds a note for staff only to `change`, in the same unit of work: the internal
/// note offered beside an action whose own text residents see.
pub fn with_internal_note(
    model: &WorkflowModel,
    change: Change,
    text: &str,
    actor: &Actor,
    now: Timestamp,
) -> Result<Change, WorkflowError> {
    let note = Action::Note { text: text.to_owned(), public: false };
    let noted = decide(model, &change.request, &note, actor, now)?;
    let mut events = change.events;
    events.extend(noted.events);
    Ok(Change { request: noted.request, events, resident: change.resident, staff: change.staff })
}

/// Checks that `original` can absorb `duplicate`.
///
/// A merge makes the duplicate's page, followers and notices point at the original,
/// so it never crosses the line between public and internal work: requests of
/// internal-only services are neither merged into nor merged with public ones.
pub fn merge_target_ok(
    model: &WorkflowModel,
    duplicate: &ServiceRequest,
    original: &ServiceRequest,
) -> Result<(), WorkflowError> {
    if duplicate.id.seq == original.id.seq {
        return Err(conflict("into", "a request cannot be merged into itself"));
    }
    let public = |r: &ServiceRequest| model.directory.is_public(&r.service_code);
    if !public(original) {
        return Err(conflict(
            "into",
            format!("{} is internal work; nothing is merged into an internal request", original.id),
        ));
    }
    if !public(duplicate) {
        return Err(conflict(
            "into",
            format!("{} is internal work and {} is public; they cannot be merged", duplicate.id, original.id),
        ));
    }
    if matches!(original.status, Status::Duplicate | Status::Closed) {
        return Err(conflict(
            "into",
            format!("{} is {} and cannot take duplicates", original.id, original.status.as_str()),
        ));
    }
    Ok(())
}

/// The original's side of a merge: an event naming the duplicate, whose requester
/// and followers now follow the original.
pub fn absorb(original: &ServiceRequest, duplicate: &ServiceRequest, actor: &Actor, now: Timestamp) -> Change {
    let mut r = original.clone();
    r.updated_at = now;
    Change {
        request: r,
        events: vec![NewEvent {
            kind: EventKind::MergedIn,
            actor: actor.name().to_owned(),
            data: json!({ "from": duplicate.id.to_string() }),
        }],
        resident: None,
        staff: Vec::new(),
    }
}

/// Starts the workflow of a new request: its SLA clock by policy.
pub fn start(
    model: &WorkflowModel,
    service: &str,
    department: &str,
    priority: Priority,
    now: Timestamp,
) -> WorkflowState {
    let sla = model.policy_for(service, department, priority).and_then(|(p, cal)| SlaClock::start(p, cal, now));
    WorkflowState { sla, last_activity: Some(now), ..WorkflowState::default() }
}

/// The requester as followers (one per chosen channel), when they asked to be told
/// and left an address.
pub fn requester(req: &ServiceRequest) -> Vec<Follower> {
    crate::notify::contact_followers(&req.contact)
}
