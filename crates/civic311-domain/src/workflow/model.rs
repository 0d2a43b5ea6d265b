//! The workflow configuration of a city — calendars, SLA policies, escalation chains,
//! templates, webhooks, duplicate settings — checked against its organisation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::calendar::{BusinessCalendar, CalendarConfig, parse_business_duration};
use crate::duplicates::DuplicateSettings;
use crate::escalation::{Chain, ChainConfig};
use crate::notify::{Template, Templates, Webhook};
use crate::org::{Department, Role, StaffUser, Team};
use crate::request::Priority;
use crate::service::Service;
use crate::sla::{SlaPolicy, SlaPolicyConfig};

/// Everything configurable about the workflow, as one TOML document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkflowConfig {
    #[serde(default, rename = "calendar")]
    pub calendars: Vec<CalendarConfig>,
    #[serde(default, rename = "sla")]
    pub sla_policies: Vec<SlaPolicyConfig>,
    #[serde(default, rename = "escalation")]
    pub escalations: Vec<ChainConfig>,
    #[serde(default, rename = "template")]
    pub templates: Vec<Template>,
    #[serde(default, rename = "webhook")]
    pub webhooks: Vec<Webhook>,
    #[serde(default)]
    pub duplicates: DuplicateSettings,
    /// When an asset is marked as failing again and again.
    #[serde(default)]
    pub repeat_failure: crate::asset::RepeatFailure,
    /// What the city lets roles do beyond their defaults.
    #[serde(default, skip_serializing_if = "RoleSettings::is_default")]
    pub roles: RoleSettings,
}

/// What the city lets roles do beyond their defaults (`[roles]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleSettings {
    /// Roles besides staff, supervisors and administrators that may transfer a request
    /// to another department (always with a reason): `field`, `intake`.
    #[serde(default)]
    pub may_transfer: Vec<Role>,
}

impl RoleSettings {
    /// The roles [`RoleSettings::may_transfer`] may name.
    pub const TRANSFER_EXTRA: [Role; 2] = [Role::Field, Role::Intake];

    fn is_default(&self) -> bool {
        *self == Self::default()
    }

    fn validate(&self) -> Result<(), FieldError> {
        match self.may_transfer.iter().find(|r| !Self::TRANSFER_EXTRA.contains(r)) {
            Some(r) => Err(FieldError::new(
                "roles.may_transfer",
                format!("'{}' cannot be given transfers; one of field, intake", r.as_str()),
            )),
            None => Ok(()),
        }
    }
}

impl WorkflowConfig {
    /// The document as people see it: every webhook secret that is set shown as
    /// [`Webhook::SECRET_SET`], never itself.
    pub fn redacted(&self) -> Self {
        let mut shown = self.clone();
        for w in &mut shown.webhooks {
            if !w.secret.is_empty() {
                w.secret = Webhook::SECRET_SET.to_owned();
            }
        }
        shown
    }

    /// Fills in the secrets a submitted document left as shown (empty or
    /// [`Webhook::SECRET_SET`]) from the webhook of the same name in `stored`; a new
    /// webhook must bring its own.
    pub fn keep_secrets(&mut self, stored: &WorkflowConfig) -> Result<(), FieldError> {
        for w in &mut self.webhooks {
            if !(w.secret.is_empty() || w.secret == Webhook::SECRET_SET) {
                continue;
            }
            let old = stored.webhooks.iter().find(|o| o.name == w.name && !o.secret.is_empty());
            w.secret = match old {
                Some(o) => o.secret.clone(),
                None => {
                    return Err(FieldError::new(
                        format!("webhook[{}]", w.name),
                        "a new webhook needs a secret of at least 16 characters",
                    ));
                }
            };
        }
        Ok(())
    }
}

/// The organisation and catalogue the workflow refers to.
#[derive(Debug, Clone)]
pub struct Directory {
    pub city_name: String,
    pub departments: BTreeMap<String, Department>,
    pub teams: BTreeMap<String, Team>,
    pub users: BTreeMap<String, StaffUser>,
    pub services: BTreeMap<String, Service>,
    /// The city's time zone, for times in messages.
    pub time_zone: jiff::tz::TimeZone,
}

impl Directory {
    /// The supervisor of a team, or of the department when the team has none.
    pub fn supervisor(&self, department: &str, team: Option<&str>) -> Option<&StaffUser> {
        let sups =
            || self.users.values().filter(|u| u.active && u.role == Role::Supervisor && u.department == department);
        team.and_then(|t| sups().find(|u| u.team.as_deref() == Some(t))).or_else(|| sups().next())
    }

    /// True when residents may see requests of service `code` (unknown codes are not public).
    pub fn is_public(&self, code: &str) -> bool {
        self.services.get(code).is_some_and(Service::is_public)
    }

    pub fn service_name(&self, code: &str) -> String {
        self.services.get(code).map_or_else(|| code.to_owned(), |s| s.name.clone())
    }
}

/// A checked workflow configuration, ready to decide with.
#[derive(Debug, Clone)]
pub struct WorkflowModel {
    pub config: WorkflowConfig,
    pub directory: Directory,
    pub calendars: BTreeMap<String, BusinessCalendar>,
    policies: Vec<SlaPolicy>,
    chains: Vec<Chain>,
    pub templates: Templates,
}

impl WorkflowModel {
    /// Checks `config` against the directory: calendars compile, policies name known
    /// calendars, chains name known teams, templates use known placeholders.
    pub fn new(config: WorkflowConfig, directory: Directory) -> Result<Self, FieldError> {
        let mut calendars = BTreeMap::new();
        for c in &config.calendars {
            if calendars.insert(c.name.clone(), BusinessCalendar::new(c)?).is_some() {
                return Err(FieldError::new(format!("calendar[{}]", c.name), "two calendars have this name"));
            }
        }
        let mut policies = Vec::new();
        for p in &config.sla_policies {
            let field = |f: &str| format!("sla[{}].{f}", p.name);
            let cal = calendars
                .get(&p.calendar)
                .ok_or_else(|| FieldError::new(field("calendar"), format!("unknown calendar '{}'", p.calendar)))?;
            for s in &p.services {
                if !directory.services.contains_key(s) {
                    let known = directory.services.keys().map(String::as_str);
                    return Err(FieldError::new(field("services"), crate::error::unknown("service", s, known)));
                }
            }
            let response = parse_business_duration(&field("response"), &p.response, cal)?;
            let resolution = parse_business_duration(&field("resolution"), &p.resolution, cal)?;
            policies.push(SlaPolicy { config: p.clone(), response, resolution });
        }
        let default_cal = calendars.values().next();
        let mut chains = Vec::new();
        for c in &config.escalations {
            let cal = default_cal.ok_or_else(|| {
                FieldError::new(format!("escalation[{}]", c.name), "escalation chains need a calendar to count on")
            })?;
            for l in &c.levels {
                if let Some(t) = &l.reassign_team
                    && !directory.teams.contains_key(t)
                {
                    let known = directory.teams.keys().map(String::as_str);
                    return Err(FieldError::new(
                        format!("escalation[{}]", c.name),
                        crate::error::unknown("team", t, known),
                    ));
                }
            }
            chains.push(Chain::new(c, cal)?);
        }
        for w in &config.webhooks {
            w.validate()?;
        }
        config.duplicates.validate()?;
        config.roles.validate()?;
        let templates = Templates::new(&config.templates)?;
        Ok(Self { config, directory, calendars, policies, chains, templates })
    }

    /// The SLA policy for a request, with its calendar.
    pub fn policy_for(
        &self,
        service: &str,
        department: &str,
        priority: Priority,
    ) -> Option<(&SlaPolicy, &BusinessCalendar)> {
        let group = self.directory.services.get(service).map_or("", |s| s.group.as_str());
        let p = self.policies.iter().find(|p| p.applies(service, group, department, priority))?;
        Some((p, self.calendars.get(&p.config.calendar)?))
    }

    /// The escalation chain for a request.
    pub fn chain_for(&self, department: &str, service: &str) -> Option<&Chain> {
        self.chains.iter().find(|c| c.applies(department, service))
    }

    pub fn calendar(&self, name: &str) -> Option<&BusinessCalendar> {
        self.calendars.get(name)
    }
}
