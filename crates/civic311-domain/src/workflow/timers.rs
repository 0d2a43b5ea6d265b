//! Timers: the next moment something must happen to a request by itself — the next
//! escalation level, a reminder, a missed first response — and what happens when that
//! moment comes.
//!
//! A request has at most one timer of each kind. They are recomputed from the
//! request's state after every change, so a sweep only ever looks at what is due.

use jiff::Timestamp;
use serde_json::json;

use super::{Actor, Change, NewEvent, ResidentNotice, WorkflowModel};
use crate::request::EventKind;
use crate::request::ServiceRequest;

/// What a timer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimerKind {
    Escalate,
    Remind,
    /// The first-response target passed with no response.
    Respond,
}

impl TimerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TimerKind::Escalate => "escalate",
            TimerKind::Remind => "remind",
            TimerKind::Respond => "respond",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "escalate" => Some(Self::Escalate),
            "remind" => Some(Self::Remind),
            "respond" => Some(Self::Respond),
            _ => None,
        }
    }
}

/// A request's pending timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timer {
    pub kind: TimerKind,
    pub due: Timestamp,
}

/// The timers a request needs in its current state (none once closed or paused).
pub fn timers(model: &WorkflowModel, req: &ServiceRequest) -> Vec<Timer> {
    let mut out = Vec::new();
    if req.status.is_closed() {
        return out;
    }
    let Some(clock) = req.workflow.sla.as_ref().filter(|c| c.running()) else { return out };
    let Some(cal) = model.calendar(&clock.calendar) else { return out };
    let Some(chain) = model.chain_for(&req.assignment.department, &req.service_code) else { return out };
    let level = usize::try_from(req.workflow.escalation_level).unwrap_or(usize::MAX);
    if let Some(due) = chain.level_due(level, clock, cal) {
        out.push(Timer { kind: TimerKind::Escalate, due });
    }
    if let (Some(after), Some(last)) = (chain.remind_after, req.workflow.last_activity)
        && let Some(due) = cal.add(last, after)
    {
        out.push(Timer { kind: TimerKind::Remind, due });
    }
    if !chain.config.response_overdue.is_empty()
        && !req.workflow.response_overdue_notified
        && let Some(due) = clock.response_due
    {
        out.push(Timer { kind: TimerKind::Respond, due });
    }
    out
}

/// The date to promise once a request is late: one more resolution target of business
/// time from `now`, on the calendar of its SLA policy.
fn new_expected(model: &WorkflowModel, req: &ServiceRequest, now: Timestamp) -> Option<Timestamp> {
    let clock = req.workflow.sla.as_ref()?;
    let start = clock.resolution_due.max(now);
    model.calendar(&clock.calendar)?.add(start, jiff::SignedDuration::from_secs(clock.resolution_target))
}

/// Runs a timer of `kind` at `now`. `None` when nothing is due any more (the request
/// changed since the timer was set): the caller just recomputes its timers.
pub fn fire(model: &WorkflowModel, req: &ServiceRequest, kind: TimerKind, now: Timestamp) -> Option<Change> {
    let due = timers(model, req).into_iter().find(|t| t.kind == kind)?;
    if due.due > now {
        return None;
    }
    let chain = model.chain_for(&req.assignment.department, &req.service_code)?;
    let mut r = req.clone();
    let mut staff = Vec::new();
    let mut resident = None;
    let event = match kind {
        TimerKind::Escalate => {
            let index = usize::try_from(req.workflow.escalation_level).ok()?;
            let level = chain.config.levels.get(index)?;
            let breach = level.at.trim().starts_with("breach");
            let template = if breach { "escalated" } else { "warning" };
            staff.extend(level.notify.iter().map(|a| (*a, template)));
            if level.mark_escalated {
                r.workflow.escalated = true;
            }
            let mut reassigned = None;
            if let Some(team) = level.reassign_team.as_ref().and_then(|t| model.directory.teams.get(t)) {
                r.assignment.department.clone_from(&team.department);
                r.assignment.team = Some(team.code.clone());
                r.assignment.assignee = None;
                reassigned = Some(team.code.clone());
            }
            if level.notify_resident && !r.workflow.delay_notified {
                r.workflow.delay_notified = true;
                r.workflow.new_expected = new_expected(model, req, now);
                resident = Some(ResidentNotice { kind: "delayed", note: None });
            }
            r.workflow.escalation_level += 1;
            NewEvent {
                kind: EventKind::Escalated,
                actor: Actor::System.name().to_owned(),
                data: json!({
                    "level": index + 1,
                    "at": level.at,
                    "chain": chain.config.name,
                    "notified": level.notify,
                    "marked_escalated": level.mark_escalated,
                    "reassigned_to": reassigned,
                    "resident_told": resident.is_some(),
                    "due": req.expected_at,
                }),
            }
        }
        TimerKind::Respond => {
            staff.extend(chain.config.response_overdue.iter().map(|a| (*a, "response_overdue")));
            r.workflow.response_overdue_notified = true;
            NewEvent {
                kind: EventKind::ResponseOverdue,
                actor: Actor::System.name().to_owned(),
                data: json!({ "due": due.due, "notified": chain.config.response_overdue }),
            }
        }
        TimerKind::Remind => {
            staff.push((crate::escalation::Audience::Assignee, "reminder"));
            // The reminder restarts the count, so the next one comes after another period.
            r.workflow.last_activity = Some(now);
            NewEvent {
                kind: EventKind::Reminder,
                actor: Actor::System.name().to_owned(),
                data: json!({ "inactive_since": req.workflow.last_activity }),
            }
        }
    };
    r.updated_at = now;
    Some(Change { request: r, events: vec![event], resident, staff })
}
