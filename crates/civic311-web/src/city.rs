//! The city's configuration as the request path needs it: services, boundary index and
//! routing engine, loaded once from the store and swapped whole when it changes.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use civic311_domain::city::CitySettings;
use civic311_domain::geo::BoundaryIndex;
use civic311_domain::org::Department;
use civic311_domain::routing::{Org, RoutingEngine, RuleSet};
use civic311_domain::service::Service;
use civic311_domain::workflow::{Directory, WorkflowConfig, WorkflowModel};
use civic311_store::{Store, StoreError};
use jiff::tz::TimeZone;

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("the database has no city yet: run `civic311 demo` or import a city first")]
    NoCity,
    #[error("the city's time zone '{0}' is unknown")]
    TimeZone(String),
    #[error("the routing rules are invalid: {0}")]
    Rules(civic311_domain::FieldError),
    #[error("the workflow configuration is invalid: {0}")]
    Workflow(civic311_domain::FieldError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Everything intake and the public APIs read on every request.
#[derive(Debug)]
pub struct CityModel {
    pub settings: CitySettings,
    pub tz: TimeZone,
    services: Vec<Service>,
    by_code: HashMap<String, usize>,
    pub departments: Vec<Department>,
    pub boundaries: BoundaryIndex,
    pub routing: RoutingEngine,
    api_keys: HashSet<String>,
    /// Calendars, SLA policies, escalation chains, templates and webhooks.
    pub workflow: Arc<WorkflowModel>,
}

impl CityModel {
    pub async fn load(store: &dyn Store) -> Result<Self, LoadError> {
        let (settings, tz, departments) = city_of(store).await?;
        let services = store.services().await?;
        let org = org_of(store, &settings, &departments).await?;
        let routing = RoutingEngine::new(&store.rules().await?, org, tz.clone()).map_err(LoadError::Rules)?;
        let boundaries = BoundaryIndex::new(store.boundary_features().await?);
        let by_code = services.iter().enumerate().map(|(i, s)| (s.code.clone(), i)).collect();
        let api_keys = store.api_keys().await?.into_iter().collect();
        let config = store.workflow_config().await?.unwrap_or_default();
        let workflow = Arc::new(Self::workflow_model(store, &settings, &tz, &departments, &services, config).await?);
        Ok(Self { settings, tz, services, by_code, departments, boundaries, routing, api_keys, workflow })
    }

    /// Checks a workflow configuration against the stored city.
    pub async fn check_workflow(store: &dyn Store, config: WorkflowConfig) -> Result<WorkflowModel, LoadError> {
        let (settings, tz, departments) = city_of(store).await?;
        let services = store.services().await?;
        Self::workflow_model(store, &settings, &tz, &departments, &services, config).await
    }

    async fn workflow_model(
        store: &dyn Store,
        settings: &CitySettings,
        tz: &TimeZone,
        departments: &[Department],
        services: &[Service],
        config: WorkflowConfig,
    ) -> Result<WorkflowModel, LoadError> {
        let directory = Directory {
            city_name: settings.name.clone(),
            departments: departments.iter().map(|d| (d.code.clone(), d.clone())).collect(),
            teams: store.teams().await?.into_iter().map(|t| (t.code.clone(), t)).collect(),
            users: store.users().await?.into_iter().map(|u| (u.username.clone(), u)).collect(),
            services: services.iter().map(|s| (s.code.clone(), s.clone())).collect(),
            time_zone: tz.clone(),
        };
        WorkflowModel::new(config, directory).map_err(LoadError::Workflow)
    }

    /// Checks a rule set against the stored city's departments, teams and time zone
    /// without changing anything.
    pub async fn check_rules(store: &dyn Store, rules: &RuleSet) -> Result<(), LoadError> {
        let (settings, tz, departments) = city_of(store).await?;
        let org = org_of(store, &settings, &departments).await?;
        RoutingEngine::new(rules, org, tz).map(drop).map_err(LoadError::Rules)
    }

    /// True for a known Open311 API key (checked on every POST, so kept in memory).
    pub fn api_key_valid(&self, key: &str) -> bool {
        self.api_keys.contains(key)
    }

    pub fn service(&self, code: &str) -> Option<&Service> {
        self.by_code.get(code).map(|&i| &self.services[i])
    }

    /// Services residents and apps may see, in the city's order.
    pub fn public_services(&self) -> impl Iterator<Item = &Service> {
        self.services.iter().filter(|s| s.is_public())
    }

    /// Codes of internal-only services, excluded from every public listing.
    pub fn internal_codes(&self) -> Vec<String> {
        self.services.iter().filter(|s| !s.is_public()).map(|s| s.code.clone()).collect()
    }

    /// The service and, when duplicates count across a group, the others in its group.
    pub fn related_services(&self, code: &str) -> Vec<String> {
        let same_group = self.workflow.config.duplicates.same_group;
        let group = self.service(code).map(|s| s.group.as_str()).filter(|g| same_group && !g.is_empty());
        let mut out = vec![code.to_owned()];
        out.extend(
            self.services.iter().filter(|s| s.code != code && group == Some(s.group.as_str())).map(|s| s.code.clone()),
        );
        out
    }

    pub fn department_name<'a>(&'a self, code: &'a str) -> &'a str {
        self.departments.iter().find(|d| d.code == code).map_or(code, |d| d.name.as_str())
    }
}

async fn city_of(store: &dyn Store) -> Result<(CitySettings, TimeZone, Vec<Department>), LoadError> {
    let settings = store.settings().await?.ok_or(LoadError::NoCity)?;
    let tz = settings.tz().map_err(|_| LoadError::TimeZone(settings.time_zone.clone()))?;
    Ok((settings, tz, store.departments().await?))
}

/// The departments and teams routing may assign to.
async fn org_of(store: &dyn Store, settings: &CitySettings, departments: &[Department]) -> Result<Org, LoadError> {
    Ok(Org {
        departments: departments.iter().map(|d| d.code.clone()).collect(),
        teams: store.teams().await?.into_iter().map(|t| (t.code, t.department)).collect(),
        triage_department: settings.triage_department.clone(),
    })
}
