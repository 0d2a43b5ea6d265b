//! A city kept as readable files: `city.toml` (settings, departments, teams, staff),
//! `services.toml`, `rules.toml`, an optional `workflow.toml` (calendars, SLA policies,
//! escalation, templates, webhooks, duplicate settings), an optional `articles.toml`
//! (the knowledge base) and one GeoJSON file per boundary layer.

use anyhow::Result;
use civic311_domain::city::{CityConfig, CitySettings};
use civic311_domain::exact::from_toml;
use civic311_domain::geo::parse_geojson;
use civic311_domain::kb::KnowledgeBase;
use civic311_domain::org::{Department, StaffUser, Team};
use civic311_domain::routing::RuleSet;
use civic311_domain::service::Catalog;
use civic311_domain::workflow::WorkflowConfig;
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
    /// `workflow.toml`, when the city has one.
    pub workflow: Option<&'a str>,
    /// `(layer, GeoJSON)`.
    pub layers: Vec<(&'a str, &'a str)>,
    /// `articles.toml` (the knowledge base), when the city has one.
    pub articles: Option<&'a str>,
}

/// Writes a whole city into a store; every file is checked before anything is written.
pub async fn import_city(store: &dyn Store, texts: &CityTexts<'_>) -> Result<CityFile> {
    let exact = |file: &str, e: civic311_domain::FieldError| anyhow::anyhow!("{file}: {}", e.detail);
    let city: CityFile = from_toml("city", texts.city).map_err(|e| exact("city.toml", e))?;
    let catalog = Catalog::from_toml(texts.services).map_err(|e| anyhow::anyhow!("services.toml: {e}"))?;
    let rules: RuleSet = from_toml("rules", texts.rules).map_err(|e| exact("rules.toml", e))?;
    let workflow: Option<WorkflowConfig> =
        texts.workflow.map(|t| from_toml("workflow", t)).transpose().map_err(|e| exact("workflow.toml", e))?;
    let articles = match texts.articles {
        Some(text) => KnowledgeBase::from_toml(text).map_err(|e| anyhow::anyhow!("articles.toml: {e}"))?.articles,
        None => Vec::new(),
    };
    let config = CityConfig {
        settings: city.settings.clone(),
        departments: city.departments.clone(),
        teams: city.teams.clone(),
        users: city.users.clone(),
        services: catalog.services,
        rules,
        workflow: workflow.clone().unwrap_or_default(),
        articles,
    };
    config.check().map_err(|e| anyhow::anyhow!("the city's files do not agree: {e}"))?;
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
    for s in &config.services {
        store.put_service(s).await?;
    }
    for (layer, features) in &layers {
        store.replace_boundary_layer(layer, features).await?;
    }
    store.put_rules(&config.rules).await?;
    if let Some(config) = &workflow {
        store.put_workflow_config(config).await?;
    }
    for a in &config.articles {
        store.put_article(a).await?;
    }
    Ok(city)
}
