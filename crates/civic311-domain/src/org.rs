//! The city's organisation: departments, their teams and staff.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A department that owns requests (Public Works, Sanitation, 311 Triage…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    pub code: String,
    pub name: String,
    /// Shared mailbox for the department, used by notifications.
    #[serde(default)]
    pub email: String,
    /// The team whose queue receives requests transferred in without a team; its
    /// supervisor is told of each.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intake_team: Option<String>,
    /// The department's name in other languages, by language code (`es`), for what
    /// residents read (the public dashboard); a language without one reads `name`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub translations: BTreeMap<String, DepartmentText>,
}

/// A department's words in another language.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepartmentText {
    #[serde(default)]
    pub name: String,
}

impl Department {
    /// The name a reader of `language` (`es`, `es-MX`…) sees: its translation when the
    /// city gave one, else the name as written.
    pub fn name_in(&self, language: &str) -> &str {
        match self.translations.get(&crate::i18n::base_language(language)) {
            Some(t) if !t.name.trim().is_empty() => &t.name,
            _ => &self.name,
        }
    }
}

/// A team inside a department; requests are owned by a team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub code: String,
    pub department: String,
    pub name: String,
}

/// What a staff member may do; scoping by department is applied on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Intake,
    Staff,
    Field,
    Supervisor,
    Admin,
    Analyst,
}

impl Role {
    /// True for the roles that log phone and walk-in requests and add a caller as a
    /// follower: everyone but analysts, who only read.
    pub fn logs_requests(self) -> bool {
        !matches!(self, Role::Analyst)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Intake => "intake",
            Role::Staff => "staff",
            Role::Field => "field",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
            Role::Analyst => "analyst",
        }
    }
}

/// A member of staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffUser {
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub department: String,
    #[serde(default)]
    pub team: Option<String>,
    pub role: Role,
    /// Departments beyond their own whose requests they may act on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_departments: Vec<String>,
    /// False once the person has left: their tokens stop working, no work is assigned
    /// to them and no escalation is sent to them. Kept so history still names them.
    #[serde(default = "yes")]
    pub active: bool,
    /// How they want their notifications by email: at once, or bundled hourly or
    /// daily. Emergencies (urgent requests) always go at once.
    #[serde(default, skip_serializing_if = "MailDigest::is_immediate")]
    pub digest: MailDigest,
}

/// How a member of staff receives notification mail.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailDigest {
    /// Each message as it happens.
    #[default]
    Immediate,
    /// Bundled into one mail at the top of each hour.
    Hourly,
    /// Bundled into one mail each morning at 07:00 in the city's time zone.
    Daily,
}

impl MailDigest {
    pub const ALL: [MailDigest; 3] = [MailDigest::Immediate, MailDigest::Hourly, MailDigest::Daily];

    pub fn as_str(self) -> &'static str {
        match self {
            MailDigest::Immediate => "immediate",
            MailDigest::Hourly => "hourly",
            MailDigest::Daily => "daily",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }

    fn is_immediate(&self) -> bool {
        *self == MailDigest::Immediate
    }

    /// When mail held at `at` goes out: the next top of the hour, or the next 07:00 in
    /// `tz`; `None` for immediate delivery.
    pub fn release_after(self, at: jiff::Timestamp, tz: &jiff::tz::TimeZone) -> Option<jiff::Timestamp> {
        let local = at.to_zoned(tz.clone());
        let next = match self {
            MailDigest::Immediate => return None,
            MailDigest::Hourly => local
                .datetime()
                .with()
                .minute(0)
                .second(0)
                .subsec_nanosecond(0)
                .build()
                .ok()?
                .checked_add(jiff::SignedDuration::from_hours(1))
                .ok()?,
            MailDigest::Daily => {
                let seven = local.date().at(7, 0, 0, 0);
                if seven > local.datetime() { seven } else { local.date().tomorrow().ok()?.at(7, 0, 0, 0) }
            }
        };
        next.to_zoned(tz.clone()).ok().map(|z| z.timestamp())
    }
}

fn yes() -> bool {
    true
}

impl StaffUser {
    /// True when the user may act on requests owned by `department`.
    pub fn covers(&self, department: &str) -> bool {
        self.role == Role::Admin
            || self.department == department
            || self.also_departments.iter().any(|d| d == department)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_department_reads_in_the_readers_language_when_the_city_translated_it() {
        let mut d = Department {
            code: "PW".into(),
            name: "Public Works".into(),
            email: String::new(),
            intake_team: None,
            translations: BTreeMap::new(),
        };
        assert_eq!(d.name_in("es"), "Public Works", "no translation: the name as written");
        d.translations.insert("es".into(), DepartmentText { name: "Obras Públicas".into() });
        assert_eq!(d.name_in("es"), "Obras Públicas");
        assert_eq!(d.name_in("es-MX"), "Obras Públicas", "a variant reads its language's name");
        assert_eq!(d.name_in("en"), "Public Works");
        d.translations.insert("es".into(), DepartmentText { name: "  ".into() });
        assert_eq!(d.name_in("es"), "Public Works", "a blank translation is no translation");
    }
}
