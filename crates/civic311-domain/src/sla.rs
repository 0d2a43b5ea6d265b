//! Service-level agreements: which policy applies to a request, and the clock that
//! counts its business time towards a first response and a resolution.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::calendar::BusinessCalendar;
use crate::request::Priority;

/// An SLA policy as configured. The first policy whose conditions all hold applies;
/// an empty condition list matches anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaPolicyConfig {
    pub name: String,
    #[serde(default)]
    pub services: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub departments: Vec<String>,
    #[serde(default)]
    pub priorities: Vec<Priority>,
    /// The calendar business time is counted on.
    pub calendar: String,
    /// First-response target: `4h`, `1d`…
    pub response: String,
    /// Resolution target.
    pub resolution: String,
}

/// A checked policy with its targets in business time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaPolicy {
    pub config: SlaPolicyConfig,
    pub response: SignedDuration,
    pub resolution: SignedDuration,
}

impl SlaPolicy {
    /// True when the policy applies to a request of this service, group, department and priority.
    pub fn applies(&self, service: &str, group: &str, department: &str, priority: Priority) -> bool {
        let c = &self.config;
        (c.services.is_empty() || c.services.iter().any(|s| s == service))
            && (c.groups.is_empty() || c.groups.iter().any(|g| g.eq_ignore_ascii_case(group)))
            && (c.departments.is_empty() || c.departments.iter().any(|d| d == department))
            && (c.priorities.is_empty() || c.priorities.contains(&priority))
    }
}

/// A request's SLA clock. While paused the business time left is kept, and counted
/// again from the moment the clock resumes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaClock {
    pub policy: String,
    pub calendar: String,
    /// The resolution target in business seconds.
    pub resolution_target: i64,
    /// When the first response is due; `None` once responded. (What is `None` is left
    /// out of the stored form, which every request carries.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_due: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responded_at: Option<Timestamp>,
    /// When resolution is due; while paused, the due time as of the pause.
    pub resolution_due: Timestamp,
    /// Set while the clock is paused (on hold, waiting on the resident).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_at: Option<Timestamp>,
    /// Business seconds left to resolution (and to first response) when paused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_left: Option<(i64, Option<i64>)>,
    /// Set when the request has been resolved or closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_at: Option<Timestamp>,
}

impl SlaClock {
    /// Starts the clock at `now` under `policy`; `None` if the calendar has no working
    /// time ahead.
    pub fn start(policy: &SlaPolicy, calendar: &BusinessCalendar, now: Timestamp) -> Option<Self> {
        Some(Self {
            policy: policy.config.name.clone(),
            calendar: calendar.name.clone(),
            resolution_target: policy.resolution.as_secs(),
            response_due: Some(calendar.add(now, policy.response)?),
            responded_at: None,
            resolution_due: calendar.add(now, policy.resolution)?,
            paused_at: None,
            paused_left: None,
            stopped_at: None,
        })
    }

    /// True while time counts against the targets.
    pub fn running(&self) -> bool {
        self.paused_at.is_none() && self.stopped_at.is_none()
    }

    /// The resolution due time while running; `None` when paused or stopped.
    pub fn due(&self) -> Option<Timestamp> {
        self.running().then_some(self.resolution_due)
    }

    /// Records the first response (acknowledgement, assignment, any staff action).
    pub fn respond(&mut self, now: Timestamp) {
        if self.responded_at.is_none() {
            self.responded_at = Some(now);
            self.response_due = None;
        }
    }

    /// Pauses the clock, keeping the business time left.
    pub fn pause(&mut self, calendar: &BusinessCalendar, now: Timestamp) {
        if !self.running() {
            return;
        }
        let left = calendar.between(now, self.resolution_due).as_secs();
        let response_left = self.response_due.map(|d| calendar.between(now, d).as_secs());
        self.paused_at = Some(now);
        self.paused_left = Some((left, response_left));
    }

    /// Resumes a paused clock: the due times move by exactly the business time paused.
    pub fn resume(&mut self, calendar: &BusinessCalendar, now: Timestamp) {
        let (Some(_), Some((left, response_left))) = (self.paused_at, self.paused_left) else { return };
        if let Some(due) = calendar.add(now, SignedDuration::from_secs(left)) {
            self.resolution_due = due;
        }
        if let Some(r) = response_left {
            self.response_due = calendar.add(now, SignedDuration::from_secs(r));
        }
        self.paused_at = None;
        self.paused_left = None;
    }

    /// Stops the clock (resolved, closed, merged).
    pub fn stop(&mut self, now: Timestamp) {
        self.stopped_at.get_or_insert(now);
    }

    /// Restarts the resolution clock with the whole target from `now` (a reopened request).
    pub fn restart(&mut self, calendar: &BusinessCalendar, now: Timestamp) {
        if let Some(due) = calendar.add(now, SignedDuration::from_secs(self.resolution_target)) {
            self.resolution_due = due;
        }
        self.stopped_at = None;
        self.paused_at = None;
        self.paused_left = None;
    }
}
