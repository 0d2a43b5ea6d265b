//! How work flowed through one request, read from its history: the time it spent in
//! each status and in each department before it closed, the transfers between
//! departments, the escalations and the residents who followed it. The dashboards of
//! where work stalls and of recurring problems add these up (as tallies in the
//! rollups), so they too cost in proportion to the cells read.

use jiff::Timestamp;

use crate::request::{Event, EventKind, ServiceRequest, Status};

/// A request's flow.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Flow {
    /// Hours spent in each status from the request to its close (only for a closed
    /// request), in the order first entered. A resolution later reopened counts as
    /// time in `resolved`.
    pub statuses: Vec<(Status, f64)>,
    /// Hours spent with each department from the request to its close (only for a
    /// closed request), in the order first held.
    pub departments: Vec<(String, f64)>,
    /// Each transfer: from, to, when.
    pub transfers: Vec<(String, String, Timestamp)>,
    /// When each escalation happened.
    pub escalations: Vec<Timestamp>,
    /// When residents asked to follow it (each a contact about something reported).
    pub follows: Vec<Timestamp>,
}

fn hours(from: Timestamp, to: Timestamp) -> f64 {
    to.duration_since(from).as_secs_f64().max(0.0) / 3600.0
}

/// Adds `h` to `key`'s entry, keeping the order first seen.
fn add<K: PartialEq>(list: &mut Vec<(K, f64)>, key: K, h: f64) {
    match list.iter_mut().find(|(k, _)| *k == key) {
        Some((_, total)) => *total += h,
        None => list.push((key, h)),
    }
}

impl Flow {
    /// The flow of `r` from its events (oldest first); `closed_at` is its close time
    /// as [`super::Facts`] defines it (`None` while open or for a duplicate).
    pub fn of(r: &ServiceRequest, events: &[Event], closed_at: Option<Timestamp>) -> Flow {
        let mut flow = Flow::default();
        let text = |e: &Event, k: &str| e.data[k].as_str().map(str::to_owned);
        // Where it started: the first change's "from", else where it is now.
        let mut status = events
            .iter()
            .find(|e| e.kind == EventKind::StatusChanged)
            .and_then(|e| e.data["from"].as_str().and_then(Status::parse))
            .unwrap_or(r.status);
        let mut department = events
            .iter()
            .find(|e| e.kind == EventKind::Transferred)
            .and_then(|e| text(e, "from"))
            .unwrap_or_else(|| r.assignment.department.clone());
        let (mut status_since, mut department_since) = (r.requested_at, r.requested_at);
        let end = closed_at.unwrap_or(Timestamp::MAX);
        for e in events {
            match e.kind {
                EventKind::StatusChanged if e.at <= end => {
                    if let Some(to) = e.data["to"].as_str().and_then(Status::parse) {
                        add(&mut flow.statuses, status, hours(status_since, e.at));
                        (status, status_since) = (to, e.at);
                    }
                }
                EventKind::Transferred => {
                    let (from, to) = (text(e, "from").unwrap_or_default(), text(e, "to").unwrap_or_default());
                    if e.at <= end {
                        add(&mut flow.departments, department, hours(department_since, e.at));
                        (department, department_since) = (to.clone(), e.at);
                    }
                    flow.transfers.push((from, to, e.at));
                }
                EventKind::Escalated => flow.escalations.push(e.at),
                EventKind::Followed => flow.follows.push(e.at),
                _ => {}
            }
        }
        match closed_at {
            Some(close) => {
                add(&mut flow.departments, department, hours(department_since, close));
                // The status it closed into holds no time before the close.
                flow.statuses.retain(|(_, h)| *h > 0.0);
                flow.departments.retain(|(_, h)| *h > 0.0);
            }
            None => {
                flow.statuses.clear();
                flow.departments.clear();
            }
        }
        flow
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use serde_json::json;

    use super::Flow;
    use crate::request::*;

    fn request() -> ServiceRequest {
        let now = Timestamp::UNIX_EPOCH;
        ServiceRequest {
            id: RequestId::new(1, now),
            service_code: "POTHOLE".into(),
            description: String::new(),
            location: Location::default(),
            answers: Default::default(),
            channel: Channel::Web,
            contact: Contact::default(),
            status: Status::Open,
            status_notes: None,
            assignment: Assignment {
                department: "PW".into(),
                team: None,
                assignee: None,
                priority: Priority::Normal,
                tags: vec![],
            },
            areas: Default::default(),
            media_url: None,
            media_ids: vec![],
            token: String::new(),
            requested_at: now,
            updated_at: now,
            closed_at: None,
            expected_at: None,
            workflow: Default::default(),
            version: 1,
        }
    }

    fn event(id: i64, at: &str, kind: EventKind, data: serde_json::Value) -> Event {
        Event { id, at: at.parse().unwrap(), kind, actor: "system".into(), data }
    }

    #[test]
    fn time_in_each_status_and_department_adds_up_to_the_time_to_close() {
        let mut r = request();
        r.requested_at = "2026-03-02T10:00:00Z".parse().unwrap();
        r.status = Status::Closed;
        r.assignment.department = "sanitation".into();
        let status =
            |id, at, from: &str, to: &str| event(id, at, EventKind::StatusChanged, json!({"from": from, "to": to}));
        let events = vec![
            status(1, "2026-03-02T12:00:00Z", "new", "open"),
            event(2, "2026-03-02T16:00:00Z", EventKind::Transferred, json!({"from": "streets", "to": "parks"})),
            status(3, "2026-03-03T10:00:00Z", "open", "on_hold"),
            event(4, "2026-03-03T11:00:00Z", EventKind::Followed, json!({})),
            status(5, "2026-03-04T10:00:00Z", "on_hold", "open"),
            event(6, "2026-03-04T12:00:00Z", EventKind::Transferred, json!({"from": "parks", "to": "sanitation"})),
            event(7, "2026-03-05T09:00:00Z", EventKind::Escalated, json!({"level": 1})),
            status(8, "2026-03-05T10:00:00Z", "open", "closed"),
        ];
        let close: Timestamp = "2026-03-05T10:00:00Z".parse().unwrap();
        let f = Flow::of(&r, &events, Some(close));
        assert_eq!(f.statuses, vec![(Status::New, 2.0), (Status::Open, 22.0 + 24.0), (Status::OnHold, 24.0)]);
        assert_eq!(
            f.departments,
            vec![("streets".to_owned(), 6.0), ("parks".to_owned(), 44.0), ("sanitation".to_owned(), 22.0)]
        );
        let total: f64 = f.statuses.iter().map(|(_, h)| h).sum();
        assert_eq!(total, 72.0, "the stages add up to the 72 hours it took");
        assert_eq!(f.transfers.len(), 2);
        assert_eq!((f.escalations.len(), f.follows.len()), (1, 1));
        // Still open: no stage times yet, but the transfers and contacts count.
        let open = Flow::of(&r, &events[..7], None);
        assert!(open.statuses.is_empty() && open.departments.is_empty());
        assert_eq!(open.transfers.len(), 2);
    }
}
