//! The city's configuration as the request path needs it: services, boundary index and
//! routing engine, loaded once from the store and swapped whole when it changes.

use std::collections::HashMap;
use std::sync::Arc;

use civic311_domain::address::Gazetteer;
use civic311_domain::asset::AssetIndex;
use civic311_domain::city::{CityConfig, CitySettings};
use civic311_domain::geo::{BoundaryFeature, BoundaryIndex};
use civic311_domain::kb::Article;
use civic311_domain::org::Department;
use civic311_domain::routing::RoutingEngine;
use civic311_domain::service::Service;
use civic311_domain::workflow::WorkflowModel;
use civic311_store::{Store, StoreError};
use jiff::tz::TimeZone;

/// A point this close to an address point stands at that address.
const SAME_PLACE_M: f64 = 1.0;

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("the database has no city yet: run `civic311 demo` or import a city first")]
    NoCity,
    #[error("the city's configuration is invalid: {0}")]
    Invalid(civic311_domain::FieldError),
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
    /// Open311 API keys and their budgets (`None`: unlimited).
    api_keys: HashMap<String, Option<u32>>,
    /// Calendars, SLA policies, escalation chains, templates and webhooks.
    pub workflow: Arc<WorkflowModel>,
    /// The knowledge base, public and internal articles.
    pub articles: Vec<Article>,
    /// The address points and street centrelines, for typed addresses and the address
    /// nearest a point.
    pub addresses: Arc<Gazetteer>,
    /// The city's assets, for the ones near a report.
    pub assets: Arc<AssetIndex>,
}

/// Reads the address layer a page at a time into a gazetteer, with the centrelines.
async fn load_gazetteer(store: &dyn Store, digest: Option<String>) -> Result<Gazetteer, LoadError> {
    let mut builder = civic311_domain::address::GazetteerBuilder::default();
    civic311_store::each_address_point(store, |p| builder.push(&p)).await?;
    Ok(builder.finish(store.street_segments().await?, digest))
}

impl CityModel {
    pub async fn load(store: &dyn Store) -> Result<Self, LoadError> {
        Self::load_after(store, None).await
    }

    /// Loads the city again after a change, keeping `previous`'s address and asset
    /// indexes when their layers are the same (indexing a city's layers takes seconds).
    pub async fn load_after(store: &dyn Store, previous: Option<&CityModel>) -> Result<Self, LoadError> {
        let (points, streets) = (store.layer_digest("addresses").await?, store.layer_digest("streets").await?);
        let digest = (points.is_some() || streets.is_some())
            .then(|| format!("{}/{}", points.unwrap_or_default(), streets.unwrap_or_default()));
        let addresses = match previous {
            Some(p) if p.addresses.digest == digest => Arc::clone(&p.addresses),
            _ => Arc::new(load_gazetteer(store, digest).await?),
        };
        let digest = store.layer_digest("assets").await?;
        let assets = match previous {
            Some(p) if p.assets.digest == digest => Arc::clone(&p.assets),
            _ => Arc::new(AssetIndex::new(store.assets().await?, digest)),
        };
        let config = Self::config(store).await?;
        let checked = config.check().map_err(LoadError::Invalid)?;
        let boundaries = BoundaryIndex::new(store.boundary_features().await?);
        let by_code = config.services.iter().enumerate().map(|(i, s)| (s.code.clone(), i)).collect();
        let api_keys = store.api_keys().await?.into_iter().map(|k| (k.key, k.per_minute)).collect();
        Ok(Self {
            settings: config.settings,
            tz: checked.tz,
            services: config.services,
            by_code,
            departments: config.departments,
            boundaries,
            routing: checked.routing,
            api_keys,
            workflow: Arc::new(checked.workflow),
            articles: config.articles,
            addresses,
            assets,
        })
    }

    /// The stored city's configuration, for a change to be checked against before it
    /// is written.
    pub async fn config(store: &dyn Store) -> Result<CityConfig, LoadError> {
        Ok(CityConfig {
            settings: store.settings().await?.ok_or(LoadError::NoCity)?,
            departments: store.departments().await?,
            teams: store.teams().await?,
            users: store.users().await?,
            services: store.services().await?,
            rules: store.rules().await?,
            workflow: store.workflow_config().await?.unwrap_or_default(),
            articles: store.articles().await?,
        })
    }

    /// True for a known Open311 API key (checked on every POST, so kept in memory).
    pub fn api_key_valid(&self, key: &str) -> bool {
        self.api_keys.contains_key(key)
    }

    /// How many requests a minute a known key may file: `None` when it is unlimited
    /// (or unknown).
    pub fn api_key_per_minute(&self, key: &str) -> Option<u32> {
        *self.api_keys.get(key)?
    }

    pub fn service(&self, code: &str) -> Option<&Service> {
        self.by_code.get(code).map(|&i| &self.services[i])
    }

    /// Every service, internal ones included (staff log those too), in the city's order.
    pub fn services(&self) -> impl Iterator<Item = &Service> {
        self.services.iter()
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

    /// The features of the city's outline layer (its wards, say) that `areas` lie in.
    pub fn outline_of(&self, areas: &std::collections::BTreeMap<String, String>) -> Vec<&BoundaryFeature> {
        let layer = &self.settings.boundary_layer;
        self.boundaries
            .features()
            .iter()
            .filter(|f| &f.layer == layer && areas.get(layer) == Some(&f.feature))
            .collect()
    }

    /// How a request's place reads: its address, and whether it is only the address
    /// nearest its point (worked out at intake from a pin, not given or found as such:
    /// pages say "near …"). `None` when the request has no address.
    pub fn place_of(&self, location: &civic311_domain::request::Location) -> Option<(String, bool)> {
        let address = location.address.clone()?;
        let near = location.point.is_some_and(|p| {
            self.addresses
                .nearest(p, crate::intake::NEAR_METRES)
                .is_some_and(|a| a.label() == address && a.point.distance_m(&p) > SAME_PLACE_M)
        });
        Some((address, near))
    }

    /// The department's name as staff read it (its code when the city no longer knows it).
    pub fn department_name<'a>(&'a self, code: &'a str) -> &'a str {
        self.departments.iter().find(|d| d.code == code).map_or(code, |d| d.name.as_str())
    }

    /// [`Self::department_name`] for a reader of `language` (see `Department::name_in`).
    pub fn department_name_in<'a>(&'a self, code: &'a str, language: &str) -> &'a str {
        self.departments.iter().find(|d| d.code == code).map_or(code, |d| d.name_in(language))
    }
}
