//! A city kept as readable files: `city.toml` (settings, departments, teams, staff),
//! `services.toml`, `rules.toml` and one GeoJSON file per boundary layer.

use anyhow::{Context, Result};
use civic311_domain::city::CitySettings;
use civic311_domain::geo::parse_geojson;
use civic311_domain::org::{Department, StaffUser, Team};
use civic311_domain::routing::{Org, RoutingEngine, RuleSet};
use civic311_domain::service::Catalog;
use civic311_store::Store;
use serde::Deserialize;

/// `city.toml`.
#[derive(Debug, Deserialize)]
pub struct CityFile {
    pub settings: CitySettings,
    #[serde(default, rename = "department")]
    pub departments: Vec<Department>,
    #[serde(default, rename = "team")]
    pub teams: Vec<Team>,
    #[serde(default, rename = "user")]
    pub users: Vec<StaffUser>,
}

/// The texts of a whole city.
pub struct CityTexts<'a> {
    pub city: &'a str,
    pub services: &'a str,
    pub rules: &'a str,
    /// `(layer, GeoJSON)`.
    pub layers: Vec<(&'a str, &'a str)>,
}

/// Writes a whole city into a store; every file is checked before anything is written.
pub async fn import_city(store: &dyn Store, texts: &CityTexts<'_>) -> Result<CityFile> {
    let city: CityFile = toml::from_str(texts.city).context("city.toml")?;
    let catalog = Catalog::from_toml(texts.services).map_err(|e| anyhow::anyhow!("services.toml: {e}"))?;
    let rules: RuleSet = toml::from_str(texts.rules).context("rules.toml")?;
    let org = Org {
        departments: city.departments.iter().map(|d| d.code.clone()).collect(),
        teams: city.teams.iter().map(|t| (t.code.clone(), t.department.clone())).collect(),
        triage_department: city.settings.triage_department.clone(),
    };
    let tz = city.settings.tz().with_context(|| format!("time zone {}", city.settings.time_zone))?;
    RoutingEngine::new(&rules, org, tz).map_err(|e| anyhow::anyhow!("rules.toml: {e}"))?;
    let mut layers = Vec::new();
    for (layer, text) in &texts.layers {
        layers.push((*layer, parse_geojson(layer, text, None).map_err(|e| anyhow::anyhow!("{layer}.geojson: {e}"))?));
    }
    store.put_settings(&city.settings).await?;
    for d in &city.departments {
        store.put_department(d).await?;
    }
    for t in &city.teams {
        store.put_team(t).await?;
    }
    for u in &city.users {
        store.put_user(u).await?;
    }
    for s in &catalog.services {
        store.put_service(s).await?;
    }
    for (layer, features) in &layers {
        store.replace_boundary_layer(layer, features).await?;
    }
    store.put_rules(&rules).await?;
    Ok(city)
}
