//! City-wide settings, and the whole configured city checked as one: its organisation,
//! catalogue, routing rules and workflow must agree with each other.

use std::collections::{BTreeMap, HashSet};

use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::kb::Article;
use crate::org::{Department, StaffUser, Team};
use crate::routing::{Org, RoutingEngine, RuleSet};
use crate::service::Service;
use crate::text::looks_like_email;
use crate::workflow::{Directory, WorkflowConfig, WorkflowModel};

/// Settings that apply to the whole jurisdiction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CitySettings {
    /// Open311 `jurisdiction_id` (a domain name by convention).
    pub jurisdiction_id: String,
    pub name: String,
    /// IANA time zone the city works in (`America/Chicago`).
    pub time_zone: String,
    /// When true, a request whose point falls in no feature of `boundary_layer` is refused.
    pub require_inside: bool,
    /// The layer that outlines the city (usually `wards`).
    pub boundary_layer: String,
    /// Department that receives whatever no rule and no service default claims.
    pub triage_department: String,
    /// Where staff and residents can reach the 311 centre (Open311 discovery `contact`).
    pub contact: String,
    /// How distances are written for the city's people: `us` (feet) or `metric`.
    #[serde(default, skip_serializing_if = "Units::is_metric")]
    pub units: Units,
    /// What each boundary layer is called where residents read it, by layer code and
    /// then language: `wards = { en = "Wards", es = "Distritos" }`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub layer_names: BTreeMap<String, BTreeMap<String, String>>,
}

/// How distances are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Units {
    #[default]
    Metric,
    /// US customary: feet.
    Us,
}

impl Units {
    fn is_metric(&self) -> bool {
        *self == Units::Metric
    }

    /// A distance as a number and its unit: `(120, "ft")` or `(35, "m")`.
    pub fn distance(self, metres: f64) -> (String, &'static str) {
        match self {
            Units::Metric => (format!("{metres:.0}"), "m"),
            Units::Us => (format!("{:.0}", metres * 3.280_84), "ft"),
        }
    }
}

impl CitySettings {
    /// The city's time zone; an unknown name is reported rather than silently taken as UTC.
    pub fn tz(&self) -> Result<TimeZone, jiff::Error> {
        TimeZone::get(&self.time_zone)
    }

    /// What `layer` is called for a reader of `language`: its name in that language,
    /// else in English, else its code.
    pub fn layer_name<'a>(&'a self, layer: &'a str, language: &str) -> &'a str {
        let Some(names) = self.layer_names.get(layer) else { return layer };
        let named = |l: &str| names.get(l).map(|n| n.trim()).filter(|n| !n.is_empty());
        named(&crate::i18n::base_language(language)).or_else(|| named(crate::i18n::DEFAULT)).unwrap_or(layer)
    }
}

/// Everything a city configures except its boundary layers: what an import writes and
/// what every configuration change is checked against before it is kept.
#[derive(Debug, Clone)]
pub struct CityConfig {
    pub settings: CitySettings,
    pub departments: Vec<Department>,
    pub teams: Vec<Team>,
    pub users: Vec<StaffUser>,
    pub services: Vec<Service>,
    pub rules: RuleSet,
    pub workflow: WorkflowConfig,
    /// The knowledge base's articles.
    pub articles: Vec<Article>,
}

/// A checked city: the parts intake and the workflow decide with.
#[derive(Debug)]
pub struct CheckedCity {
    pub tz: TimeZone,
    pub routing: RoutingEngine,
    pub workflow: WorkflowModel,
}

impl CityConfig {
    /// Checks that every reference resolves (teams to departments, staff to departments
    /// and teams, services to departments, rules and workflow to all of them), that codes
    /// are unique and that each service's questions are well formed.
    pub fn check(&self) -> Result<CheckedCity, FieldError> {
        let tz = self
            .settings
            .tz()
            .map_err(|_| FieldError::new("time_zone", format!("unknown time zone '{}'", self.settings.time_zone)))?;
        let departments = unique("department", self.departments.iter().map(|d| d.code.as_str()))?;
        unique("team", self.teams.iter().map(|t| t.code.as_str()))?;
        unique("user", self.users.iter().map(|u| u.username.as_str()))?;
        unique("service", self.services.iter().map(|s| s.code.as_str()))?;
        unique("article", self.articles.iter().map(|a| a.slug.as_str()))?;
        for a in &self.articles {
            a.validate()?;
            if let Some(code) = a.services.iter().find(|c| !self.services.iter().any(|s| &s.code == *c)) {
                return Err(FieldError::new(
                    format!("article {}", a.slug),
                    crate::error::unknown("service", code, self.services.iter().map(|s| s.code.as_str())),
                ));
            }
        }
        let known = |field: String, code: &str| {
            if departments.contains(code) {
                Ok(())
            } else {
                Err(FieldError::new(field, crate::error::unknown("department", code, departments.iter().copied())))
            }
        };
        let email = |field: String, address: &str| {
            if looks_like_email(address) {
                Ok(())
            } else {
                Err(FieldError::new(field, format!("'{address}' is not an email address")))
            }
        };
        for d in &self.departments {
            if d.name.trim().is_empty() {
                return Err(FieldError::new(format!("department {}", d.code), "a name is required"));
            }
            if !d.email.is_empty() {
                email(format!("department {}.email", d.code), &d.email)?;
            }
            if let Some(code) = &d.intake_team {
                let own: Vec<&str> =
                    self.teams.iter().filter(|t| t.department == d.code).map(|t| t.code.as_str()).collect();
                if !own.contains(&code.as_str()) {
                    let choices = if own.is_empty() { "it has no teams yet".to_owned() } else { own.join(", ") };
                    return Err(FieldError::new(
                        format!("department {}.intake_team", d.code),
                        format!("'{code}' is not a team of {}: one of {choices}", d.code),
                    ));
                }
            }
        }
        for t in &self.teams {
            if t.name.trim().is_empty() {
                return Err(FieldError::new(format!("team {}", t.code), "a name is required"));
            }
            known(format!("team {}.department", t.code), &t.department)?;
        }
        for u in &self.users {
            let field = |f: &str| format!("user {}.{f}", u.username);
            if u.display_name.trim().is_empty() {
                return Err(FieldError::new(field("display_name"), "a name is required"));
            }
            email(field("email"), &u.email)?;
            known(field("department"), &u.department)?;
            for d in &u.also_departments {
                known(field("also_departments"), d)?;
            }
            if let Some(code) = &u.team {
                match self.teams.iter().find(|t| &t.code == code) {
                    None => {
                        let theirs =
                            self.teams.iter().filter(|t| t.department == u.department).map(|t| t.code.as_str());
                        return Err(FieldError::new(field("team"), crate::error::unknown("team", code, theirs)));
                    }
                    Some(t) if t.department != u.department => {
                        return Err(FieldError::new(
                            field("team"),
                            format!("team {code} belongs to {}, not {}", t.department, u.department),
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
        for s in &self.services {
            s.validate()?;
            known(format!("service {}.department", s.code), &s.department)?;
        }
        let routing = RoutingEngine::new(&self.rules, self.org(), tz.clone())?;
        let workflow = WorkflowModel::new(self.workflow.clone(), self.directory(&tz))?;
        Ok(CheckedCity { tz, routing, workflow })
    }

    /// The departments and teams routing may assign to.
    pub fn org(&self) -> Org {
        Org {
            departments: self.departments.iter().map(|d| d.code.clone()).collect(),
            teams: self.teams.iter().map(|t| (t.code.clone(), t.department.clone())).collect(),
            triage_department: self.settings.triage_department.clone(),
        }
    }

    /// The organisation and catalogue the workflow refers to.
    pub fn directory(&self, tz: &TimeZone) -> Directory {
        fn by<T: Clone>(items: &[T], key: impl Fn(&T) -> &str) -> BTreeMap<String, T> {
            items.iter().map(|i| (key(i).to_owned(), i.clone())).collect()
        }
        Directory {
            city_name: self.settings.name.clone(),
            departments: by(&self.departments, |d| &d.code),
            teams: by(&self.teams, |t| &t.code),
            users: by(&self.users, |u| &u.username),
            services: by(&self.services, |s| &s.code),
            time_zone: tz.clone(),
        }
    }
}

/// The codes, or the first one that appears twice or is blank.
fn unique<'a>(kind: &str, codes: impl Iterator<Item = &'a str>) -> Result<HashSet<&'a str>, FieldError> {
    let mut seen = HashSet::new();
    for code in codes {
        if code.trim().is_empty() {
            return Err(FieldError::new(kind, format!("every {kind} needs a code")));
        }
        if !seen.insert(code) {
            return Err(FieldError::new(format!("{kind} {code}"), format!("two of the city's {kind}s have this code")));
        }
    }
    Ok(seen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::Role;

    fn city() -> CityConfig {
        let dept = |c: &str| Department {
            code: c.into(),
            name: c.into(),
            email: String::new(),
            intake_team: None,
            translations: Default::default(),
        };
        CityConfig {
            settings: CitySettings {
                jurisdiction_id: "t.example".into(),
                name: "T".into(),
                time_zone: "America/Chicago".into(),
                require_inside: false,
                boundary_layer: "wards".into(),
                triage_department: "TRIAGE".into(),
                contact: String::new(),
                units: Default::default(),
                layer_names: Default::default(),
            },
            departments: vec![dept("TRIAGE"), dept("PW")],
            teams: vec![Team { code: "PW-A".into(), department: "PW".into(), name: "A".into() }],
            users: vec![StaffUser {
                username: "u".into(),
                display_name: "U".into(),
                email: "u@t.example".into(),
                department: "PW".into(),
                team: Some("PW-A".into()),
                role: Role::Staff,
                also_departments: vec![],
                active: true,
                digest: Default::default(),
            }],
            services: vec![],
            rules: RuleSet::default(),
            workflow: WorkflowConfig::default(),
            articles: vec![],
        }
    }

    #[test]
    fn a_layer_reads_its_name_in_the_readers_language_then_in_english_then_its_code() {
        let mut settings = city().settings;
        assert_eq!(settings.layer_name("wards", "es"), "wards");
        let names = [("en".to_owned(), "Wards".to_owned()), ("es".to_owned(), "Distritos".to_owned())];
        settings.layer_names.insert("wards".into(), names.into());
        assert_eq!(settings.layer_name("wards", "es-MX"), "Distritos");
        assert_eq!(settings.layer_name("wards", "en"), "Wards");
        assert_eq!(settings.layer_name("wards", "fr"), "Wards", "a language without a name reads the English one");
        assert_eq!(settings.layer_name("zipcodes", "es"), "zipcodes");
    }

    #[test]
    fn a_consistent_city_checks() {
        assert!(city().check().is_ok());
    }

    #[test]
    fn every_reference_must_resolve_and_codes_must_be_unique() {
        let mut twice = city();
        twice.departments.push(twice.departments[1].clone());
        assert_eq!(twice.check().unwrap_err().field, "department PW");
        let mut scope = city();
        scope.users[0].also_departments = vec!["SAN".into()];
        assert_eq!(scope.check().unwrap_err().detail, "unknown department 'SAN'; one of PW, TRIAGE");
        let mut triage = city();
        triage.settings.triage_department = "NOPE".into();
        assert_eq!(triage.check().unwrap_err().field, "triage_department");
        let mut mail = city();
        mail.users[0].email = "u at t".into();
        assert_eq!(mail.check().unwrap_err().field, "user u.email");
        let mut tz = city();
        tz.settings.time_zone = "Mars/Olympus".into();
        assert_eq!(tz.check().unwrap_err().field, "time_zone");
    }
}
