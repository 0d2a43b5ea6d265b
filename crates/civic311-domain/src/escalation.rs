//! Escalation chains and reminders: what happens, and when, as a request nears and
//! passes its resolution target, misses its first response, or sits without activity.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::calendar::{BusinessCalendar, parse_business_duration};
use crate::sla::SlaClock;

/// A chain as configured. The first chain whose conditions hold applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainConfig {
    pub name: String,
    #[serde(default)]
    pub departments: Vec<String>,
    #[serde(default)]
    pub services: Vec<String>,
    /// Remind the owner after this much business time without activity (`8h`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remind_after: Option<String>,
    /// Who is told, once, when the first-response target passes with no response.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response_overdue: Vec<Audience>,
    #[serde(default, rename = "level")]
    pub levels: Vec<LevelConfig>,
}

/// One step of a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelConfig {
    /// `80%` of the resolution target, `breach`, or `breach+1d` (business time after).
    pub at: String,
    /// Who is told: `assignee`, `supervisor`, `department`.
    #[serde(default)]
    pub notify: Vec<Audience>,
    /// Marks the request escalated (shown in queues).
    #[serde(default)]
    pub mark_escalated: bool,
    /// Moves the request to this team's queue (the manager's queue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reassign_team: Option<String>,
    /// Sends the resident the delay notice (once per request).
    #[serde(default)]
    pub notify_resident: bool,
}

/// Staff who can be told about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The person assigned, or the team's supervisor when nobody is.
    Assignee,
    /// The supervisor of the owning team (or department).
    Supervisor,
    /// The owning department's shared mailbox.
    Department,
}

/// When a level fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// When this share (in percent) of the resolution target has been used.
    Percent(u8),
    /// This much business time after the resolution due time.
    AfterBreach(SignedDuration),
}

/// A checked chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    pub config: ChainConfig,
    pub triggers: Vec<Trigger>,
    pub remind_after: Option<SignedDuration>,
}

impl Chain {
    /// Checks a chain; durations are read on `calendar` (a day is its working day).
    pub fn new(config: &ChainConfig, calendar: &BusinessCalendar) -> Result<Self, FieldError> {
        let field = |f: &str| format!("escalation[{}].{f}", config.name);
        let mut triggers = Vec::new();
        for (i, l) in config.levels.iter().enumerate() {
            let f = field(&format!("level[{}].at", i + 1));
            let at = l.at.trim();
            let t = if let Some(p) = at.strip_suffix('%') {
                let p: u8 = p
                    .trim()
                    .parse()
                    .ok()
                    .filter(|p| (1..=100).contains(p))
                    .ok_or_else(|| FieldError::new(&f, format!("'{at}' is not a share between 1% and 100%")))?;
                Trigger::Percent(p)
            } else if at == "breach" {
                Trigger::AfterBreach(SignedDuration::ZERO)
            } else if let Some(after) = at.strip_prefix("breach+") {
                Trigger::AfterBreach(parse_business_duration(&f, after, calendar)?)
            } else {
                return Err(FieldError::new(f, format!("'{at}' is not 80%, breach or breach+1d")));
            };
            triggers.push(t);
        }
        let remind_after = config
            .remind_after
            .as_deref()
            .map(|s| parse_business_duration(&field("remind_after"), s, calendar))
            .transpose()?;
        Ok(Self { config: config.clone(), triggers, remind_after })
    }

    /// True when the chain covers requests of this department and service.
    pub fn applies(&self, department: &str, service: &str) -> bool {
        let c = &self.config;
        (c.departments.is_empty() || c.departments.iter().any(|d| d == department))
            && (c.services.is_empty() || c.services.iter().any(|s| s == service))
    }

    /// When level `index` (0-based) fires for a running clock.
    pub fn level_due(&self, index: usize, clock: &SlaClock, calendar: &BusinessCalendar) -> Option<Timestamp> {
        let due = clock.due()?;
        match *self.triggers.get(index)? {
            Trigger::Percent(p) => {
                // The moment (100 - p)% of the target is left, counted back from the due time.
                let before = SignedDuration::from_secs(clock.resolution_target * i64::from(100 - p) / 100);
                subtract_business(calendar, due, before)
            }
            Trigger::AfterBreach(after) => calendar.add(due, after),
        }
    }
}

/// The instant `amount` of business time before `end`: the latest instant `t` with
/// `calendar.between(t, end) == amount`. Found by stepping back whole days, then
/// searching forward inside the day where it falls.
pub fn subtract_business(calendar: &BusinessCalendar, end: Timestamp, amount: SignedDuration) -> Option<Timestamp> {
    if amount <= SignedDuration::ZERO {
        return Some(end);
    }
    // Step back a day at a time until enough business time lies between.
    let day = SignedDuration::from_hours(24);
    let mut start = end;
    for _ in 0..3_660 {
        start = start.checked_sub(day).ok()?;
        if calendar.between(start, end) >= amount {
            // `between(start, end)` shrinks as `start` moves forward; the answer is
            // where `add(start, have - amount)` lands.
            let have = calendar.between(start, end);
            return calendar.add(start, have - amount);
        }
    }
    None
}
