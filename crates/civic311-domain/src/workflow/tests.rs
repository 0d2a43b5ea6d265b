use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::org::{Department, Role, StaffUser, Team};
use crate::request::{Assignment, Channel, Contact, Event, Location, RequestId};

const CONFIG: &str = r#"
[[calendar]]
name = "office"
time_zone = "America/Denver"
[calendar.hours]
mon = ["08:00-17:00"]
tue = ["08:00-17:00"]
wed = ["08:00-17:00"]
thu = ["08:00-17:00"]
fri = ["08:00-17:00"]

[[sla]]
name = "standard"
calendar = "office"
response = "4h"
resolution = "2d"

[[escalation]]
name = "standard"
remind_after = "1d"
response_overdue = ["supervisor"]
[[escalation.level]]
at = "80%"
notify = ["assignee"]
[[escalation.level]]
at = "breach"
notify = ["supervisor"]
mark_escalated = true
notify_resident = true
[[escalation.level]]
at = "breach+1d"
reassign_team = "PW-MGR"
"#;

fn model() -> WorkflowModel {
    let dept = |code: &str| Department {
        code: code.into(),
        name: code.into(),
        email: format!("{code}@city.test"),
        intake_team: None,
        translations: Default::default(),
    };
    let team = |code: &str, d: &str| Team { code: code.into(), department: d.into(), name: code.into() };
    let user = |u: &str, team: &str, role| StaffUser {
        username: u.into(),
        display_name: u.into(),
        email: format!("{u}@city.test"),
        department: "PW".into(),
        team: Some(team.into()),
        role,
        also_departments: vec![],
        active: true,
        digest: Default::default(),
    };
    let directory = Directory {
        city_name: "Testville".into(),
        departments: [dept("PW"), dept("SAN")].into_iter().map(|d| (d.code.clone(), d)).collect(),
        teams: [team("PW-ROADS", "PW"), team("PW-MGR", "PW"), team("SAN-CREW", "SAN")]
            .into_iter()
            .map(|t| (t.code.clone(), t))
            .collect(),
        users: [user("ann", "PW-ROADS", Role::Staff), user("sue", "PW-ROADS", Role::Supervisor)]
            .into_iter()
            .map(|u| (u.username.clone(), u))
            .collect(),
        services: BTreeMap::new(),
        time_zone: jiff::tz::TimeZone::get("America/Denver").unwrap(),
    };
    WorkflowModel::new(toml::from_str(CONFIG).unwrap(), directory).unwrap()
}

fn at(s: &str) -> Timestamp {
    s.parse::<jiff::civil::DateTime>()
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get("America/Denver").unwrap())
        .unwrap()
        .timestamp()
}

fn request(m: &WorkflowModel, now: Timestamp) -> ServiceRequest {
    ServiceRequest {
        id: RequestId::new(1, now),
        service_code: "POTHOLE".into(),
        description: "hole".into(),
        location: Location::default(),
        answers: BTreeMap::new(),
        channel: Channel::Web,
        contact: Contact { email: Some("res@example.test".into()), ..Contact::default() },
        status: Status::Open,
        status_notes: None,
        assignment: Assignment {
            department: "PW".into(),
            team: Some("PW-ROADS".into()),
            assignee: Some("ann".into()),
            priority: Priority::Normal,
            tags: vec![],
        },
        areas: BTreeMap::new(),
        media_url: None,
        media_ids: vec![],
        token: "t".into(),
        requested_at: now,
        updated_at: now,
        closed_at: None,
        expected_at: None,
        workflow: start(m, "POTHOLE", "PW", Priority::Normal, now),
        version: 1,
    }
}

fn staff() -> Actor {
    Actor::Staff("ann".into())
}

#[test]
fn actions_outside_their_states_are_refused() {
    let m = model();
    let now = at("2026-11-23T09:00");
    let mut r = request(&m, now);
    r.status = Status::Closed;
    let err = decide(&m, &r, &Action::Hold { reason: "parts".into() }, &staff(), now).unwrap_err();
    assert_eq!(err.to_string(), "hold is not allowed while the request is closed");
    r.status = Status::Open;
    assert!(matches!(
        decide(&m, &r, &Action::Resolve { note: " ".into() }, &staff(), now),
        Err(WorkflowError::Invalid { field, .. }) if field == "note"
    ));
    assert!(
        decide(&m, &r, &Action::Transfer { department: "SAN".into(), team: None, reason: "".into() }, &staff(), now)
            .is_err()
    );
    assert!(decide(&m, &r, &Action::Assign { team: Some("SAN-CREW".into()), assignee: None }, &staff(), now).is_err());
    assert!(decide(&m, &r, &Action::Rate { score: 5, comment: String::new() }, &Actor::Resident, now).is_err());
}

#[test]
fn a_hold_moves_the_due_time_by_the_paused_business_time() {
    let m = model();
    let filed = at("2026-11-23T09:00");
    let r = request(&m, filed);
    let due = r.workflow.sla.as_ref().unwrap().resolution_due;
    assert_eq!(due, at("2026-11-25T09:00"));
    let held = decide(&m, &r, &Action::Hold { reason: "waiting for asphalt".into() }, &staff(), at("2026-11-23T10:00"))
        .unwrap();
    assert_eq!(held.request.status, Status::OnHold);
    assert!(timers(&m, &held.request).is_empty(), "a paused clock sets no timers");
    let resumed = decide(&m, &held.request, &Action::Resume { note: None }, &staff(), at("2026-11-26T10:00")).unwrap();
    let new_due = resumed.request.expected_at.unwrap();
    let cal = m.calendar("office").unwrap();
    assert_eq!(cal.between(due, new_due), cal.between(at("2026-11-23T10:00"), at("2026-11-26T10:00")));
    assert_eq!(new_due, at("2026-11-30T09:00"));
}

#[test]
fn transfer_keeps_one_owner_and_records_the_reason() {
    let m = model();
    let now = at("2026-11-23T09:00");
    let r = request(&m, now);
    let c = decide(
        &m,
        &r,
        &Action::Transfer {
            department: "SAN".into(),
            team: Some("SAN-CREW".into()),
            reason: "bulk item, not a pothole".into(),
        },
        &staff(),
        now,
    )
    .unwrap();
    assert_eq!(c.request.assignment.department, "SAN");
    assert_eq!(c.request.assignment.assignee, None);
    assert_eq!(c.events[0].kind, crate::request::EventKind::Transferred);
    assert_eq!(c.events[0].data["reason"], "bulk item, not a pothole");
    assert_eq!(c.events[0].actor, "ann");
}

#[test]
fn escalation_warns_then_escalates_then_reassigns_and_tells_the_resident_once() {
    let m = model();
    let filed = at("2026-11-23T09:00");
    let r = request(&m, filed);
    // 80% of 2 business days (18h) = 14.4h in: Tuesday 14:24.
    let t = timers(&m, &r);
    assert_eq!(t[0], Timer { kind: TimerKind::Escalate, due: at("2026-11-24T14:24") });
    assert_eq!(t[1], Timer { kind: TimerKind::Remind, due: at("2026-11-24T09:00") });
    assert!(fire(&m, &r, TimerKind::Escalate, at("2026-11-24T14:23")).is_none(), "not due yet");
    let warn = fire(&m, &r, TimerKind::Escalate, at("2026-11-24T14:24")).unwrap();
    assert_eq!(warn.staff, vec![(crate::escalation::Audience::Assignee, "warning")]);
    assert!(warn.resident.is_none());
    let breach = fire(&m, &warn.request, TimerKind::Escalate, at("2026-11-25T09:00")).unwrap();
    assert!(breach.request.workflow.escalated);
    assert_eq!(breach.resident.as_ref().unwrap().kind, "delayed");
    assert_eq!(breach.staff, vec![(crate::escalation::Audience::Supervisor, "escalated")]);
    let next = timers(&m, &breach.request);
    assert_eq!(next[0].due, at("2026-11-26T09:00"));
    let moved = fire(&m, &breach.request, TimerKind::Escalate, at("2026-11-26T09:00")).unwrap();
    assert_eq!(moved.request.assignment.team.as_deref(), Some("PW-MGR"));
    assert!(moved.resident.is_none(), "the delay notice is sent once");
    assert!(timers(&m, &moved.request).iter().all(|t| t.kind != TimerKind::Escalate), "the chain has ended");
    let staff_mail = staff_messages(&m, &breach.request, crate::escalation::Audience::Supervisor, "escalated", None);
    assert_eq!(staff_mail[0].recipient, "sue@city.test");
    // Written as a person would: what, where, and how late.
    let mut late = moved.request.clone();
    late.location.address = Some("120 Oak St".into());
    late.updated_at = at("2026-11-28T09:00");
    let mail = staff_messages(&m, &late, crate::escalation::Audience::Supervisor, "escalated", None);
    let mut vars = mail[0].vars.clone();
    vars.insert("number".into(), "2026-004943".into());
    let (subject, body) = m.templates.get("escalated", "en").unwrap().render(&vars);
    assert_eq!(subject, "Escalated to you: request 2026-004943 (POTHOLE, 120 Oak St) is 3 days past due");
    assert!(
        body.starts_with("Request 2026-004943 (POTHOLE, 120 Oak St) is 3 days past due and has been escalated to you.")
    );
}

#[test]
fn a_transfer_lands_on_the_intake_team_and_tells_its_supervisor_and_assigning_tells_the_person() {
    let mut m = model();
    m.directory.departments.get_mut("SAN").unwrap().intake_team = Some("SAN-CREW".into());
    let now = at("2026-11-23T09:00");
    let r = request(&m, now);
    let transfer = Action::Transfer { department: "SAN".into(), team: None, reason: "bulk trash".into() };
    let moved = decide(&m, &r, &transfer, &staff(), now).unwrap();
    assert_eq!(moved.request.assignment.team.as_deref(), Some("SAN-CREW"));
    assert_eq!(moved.staff, vec![(crate::escalation::Audience::Supervisor, "transferred")]);
    let to = Action::Assign { team: None, assignee: Some("sue".into()) };
    let by_other = decide(&m, &r, &to, &Actor::Staff("ann".into()), now).unwrap();
    assert_eq!(by_other.staff, vec![(crate::escalation::Audience::Assignee, "assigned")]);
    let by_self = decide(&m, &r, &to, &Actor::Staff("sue".into()), now).unwrap();
    assert!(by_self.staff.is_empty(), "taking work oneself tells nobody");
}

#[test]
fn resolving_stops_the_clock_and_asks_for_a_rating() {
    let m = model();
    let now = at("2026-11-23T09:00");
    let r = request(&m, now);
    let done =
        decide(&m, &r, &Action::Resolve { note: "Filled".into() }, &staff(), now + SignedDuration::from_hours(2))
            .unwrap();
    assert_eq!(done.request.status, Status::Resolved);
    assert!(timers(&m, &done.request).is_empty());
    let msgs = resident_messages(&m, &done.request, &[], "resolved", Some("Filled"));
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].recipient, "res@example.test");
    let rated =
        decide(&m, &done.request, &Action::Rate { score: 4, comment: "quick".into() }, &Actor::Resident, now).unwrap();
    assert_eq!(rated.request.workflow.rating.as_ref().unwrap().score, 4);
    assert!(
        decide(&m, &done.request, &Action::Rate { score: 6, comment: String::new() }, &Actor::Resident, now).is_err()
    );
}

#[test]
fn a_missed_first_response_tells_the_supervisor_once_and_a_response_cancels_it() {
    let m = model();
    let filed = at("2026-11-23T09:00");
    let r = request(&m, filed);
    let respond = |r: &ServiceRequest| timers(&m, r).into_iter().find(|t| t.kind == TimerKind::Respond);
    // A 4-hour first response, from 09:00: 13:00 the same day.
    assert_eq!(respond(&r).map(|t| t.due), Some(at("2026-11-23T13:00")));
    assert!(fire(&m, &r, TimerKind::Respond, at("2026-11-23T12:59")).is_none(), "not due yet");
    let late = fire(&m, &r, TimerKind::Respond, at("2026-11-23T13:00")).unwrap();
    assert_eq!(late.staff, vec![(crate::escalation::Audience::Supervisor, "response_overdue")]);
    assert_eq!(late.events[0].kind, crate::request::EventKind::ResponseOverdue);
    assert!(late.resident.is_none(), "the resident hears about delays at breach, not here");
    assert_eq!(respond(&late.request), None, "said once");
    let mail = staff_messages(&m, &late.request, crate::escalation::Audience::Supervisor, "response_overdue", None);
    assert_eq!(mail[0].recipient, "sue@city.test");
    // Acknowledged in time: no timer at all.
    let acked = decide(&m, &r, &Action::Acknowledge { note: None }, &staff(), at("2026-11-23T10:00")).unwrap();
    assert_eq!(respond(&acked.request), None);
}

#[test]
fn starting_unassigned_work_assigns_the_person_who_started_it() {
    let m = model();
    let now = at("2026-11-23T09:00");
    let mut r = request(&m, now);
    r.assignment.assignee = None;
    r.assignment.team = None;
    let start = Action::Start { note: None };
    let c = decide(&m, &r, &start, &Actor::Staff("sue".into()), now).unwrap();
    assert_eq!(c.request.status, Status::InProgress);
    assert_eq!(c.request.assignment.assignee.as_deref(), Some("sue"));
    assert_eq!(c.request.assignment.team.as_deref(), Some("PW-ROADS"), "with their team");
    assert!(c.events.iter().any(|e| e.kind == EventKind::Assigned && e.actor == "sue"));
    // Work already someone's stays theirs; a resume or the system assigns no one.
    r.assignment.assignee = Some("ann".into());
    let c = decide(&m, &r, &start, &Actor::Staff("sue".into()), now).unwrap();
    assert_eq!(c.request.assignment.assignee.as_deref(), Some("ann"));
    r.assignment.assignee = None;
    r.status = Status::OnHold;
    let c = decide(&m, &r, &Action::Resume { note: None }, &Actor::Staff("sue".into()), now).unwrap();
    assert_eq!(c.request.assignment.assignee, None);
    r.status = Status::Open;
    let c = decide(&m, &r, &start, &Actor::System, now).unwrap();
    assert_eq!(c.request.assignment.assignee, None);
}

/// Runs `actions` on `r` in order, each at its time, keeping the events as stored.
fn history(m: &WorkflowModel, r: &mut ServiceRequest, actions: &[(&str, Action)]) -> Vec<Event> {
    let mut events = vec![Event {
        id: 0,
        at: r.requested_at,
        kind: EventKind::Created,
        actor: "resident".into(),
        data: serde_json::Value::Null,
    }];
    for (when, action) in actions {
        let change = decide(m, r, action, &staff(), at(when)).unwrap();
        *r = change.request;
        for e in change.events {
            let id = i64::try_from(events.len()).unwrap();
            events.push(Event { id, at: at(when), kind: e.kind, actor: e.actor, data: e.data });
        }
    }
    events
}

#[test]
fn report_facts_follow_the_history() {
    use crate::report::Facts;
    let m = model();
    let cal = m.calendar("office").unwrap();
    // Filed Monday 09:00; 2 business days of 9 hours: due Wednesday 09:00.
    let mut r = request(&m, at("2026-11-23T09:00"));
    let resolve = |note: &str| Action::Resolve { note: note.into() };
    // On hold Monday 10:00 to Tuesday 10:00 (9 business hours), resolved Wednesday
    // 12:00, reopened Thursday 09:00, resolved again Thursday 15:00, closed Friday.
    let events = history(
        &m,
        &mut r,
        &[
            ("2026-11-23T10:00", Action::Hold { reason: "parts".into() }),
            ("2026-11-24T10:00", Action::Resume { note: None }),
            ("2026-11-25T12:00", resolve("filled")),
            ("2026-11-26T09:00", Action::Reopen { reason: "sank again".into() }),
            ("2026-11-26T15:00", resolve("filled again")),
            ("2026-11-27T09:00", Action::Close { note: None }),
            ("2026-11-27T09:05", Action::Rate { score: 4, comment: String::new() }),
        ],
    );
    let f = Facts::of(&r, &events);
    // The close is the last entry into resolved (Thursday 15:00), not the close after it.
    assert_eq!(f.closed_at, Some(at("2026-11-26T15:00")));
    assert!(f.reopened && !f.transferred && !f.duplicate);
    assert_eq!(f.rating, Some(4));
    assert_eq!(f.hours_to_close(), Some(78.0));
    // Business hours: Mon 8, Tue 9, Wed 9, Thu 08:00-15:00 7 = 33.
    assert_eq!(f.business_hours_to_close(cal), Some(33.0));
    // Reopening restarts the clock: 18 business hours from Thursday 09:00 are Thursday
    // 8, Friday 9 and Monday 1 — due Monday 09:00, and the second resolve beat it.
    assert_eq!(f.due, Some(at("2026-11-30T09:00")));
    assert_eq!(f.met(), Some(true));

    // On hold for 9 business hours moves the due time from Wednesday 09:00 to Thursday
    // 09:00; resolved Thursday 10:00 misses it.
    let mut late = request(&m, at("2026-11-23T09:00"));
    let events = history(
        &m,
        &mut late,
        &[
            ("2026-11-23T10:00", Action::Hold { reason: "parts".into() }),
            ("2026-11-24T10:00", Action::Resume { note: None }),
            ("2026-11-26T10:00", resolve("filled")),
        ],
    );
    let f = Facts::of(&late, &events);
    assert_eq!((f.due, f.met()), (Some(at("2026-11-26T09:00")), Some(false)));
    assert!(!f.reopened);

    // Transferred, then merged as a duplicate: no close time, a duplicate.
    let mut d = request(&m, at("2026-11-23T09:00"));
    let transfer = Action::Transfer { department: "SAN".into(), team: None, reason: "theirs".into() };
    let events = history(&m, &mut d, &[("2026-11-23T11:00", transfer)]);
    let f = Facts::of(&d, &events);
    assert!(f.transferred && f.closed_at.is_none() && f.met().is_none());
    let mut events = events;
    let merge = Action::Merge { into: "2026-000002".into() };
    events.extend(history(&m, &mut d, &[("2026-11-23T12:00", merge)]).into_iter().skip(1));
    let f = Facts::of(&d, &events);
    assert!(f.duplicate && f.transferred && f.closed_at.is_none() && f.met().is_none());
    assert_eq!(f.duplicate_at, Some(at("2026-11-23T12:00")));
}
