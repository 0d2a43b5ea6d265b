//! `civic311 demo`: the fictional City of Riverton, its configuration embedded in the
//! binary (from `data/demo/`) and two years of invented history.

pub mod addresses;
pub mod history;
mod past;

use anyhow::Result;
use civic311_store::{ApiKey, ConfigChange, ConfigWrite, Store};

use crate::city_files::{CityFile, CityTexts, import_city};

pub use history::seed_history;

/// The demo's Open311 API key: fixed and documented so apps and scripts can use it.
pub const DEMO_API_KEY: &str = "civic311-demo-key";

pub fn texts() -> CityTexts<'static> {
    CityTexts {
        city: include_str!("../../../data/demo/city.toml"),
        services: include_str!("../../../data/demo/services.toml"),
        rules: include_str!("../../../data/demo/rules.toml"),
        workflow: Some(include_str!("../../../data/demo/workflow.toml")),
        articles: Some(include_str!("../../../data/demo/articles.toml")),
        layers: vec![
            ("wards", include_str!("../../../data/demo/wards.geojson")),
            ("neighborhoods", include_str!("../../../data/demo/neighborhoods.geojson")),
            ("zipcodes", include_str!("../../../data/demo/zipcodes.geojson")),
        ],
    }
}

pub const HISTORY: &str = include_str!("../../../data/demo/history.toml");

/// The demo administrator's staff API token: fixed and documented.
pub const DEMO_ADMIN_TOKEN: &str = "civic311-demo-admin-token";

/// Every demo user's workspace password: fixed and documented (a demo, not a city).
pub const DEMO_PASSWORD: &str = "civic311-demo";

/// Seeds the demo city into an empty store; returns the city file for the welcome text.
pub async fn seed_city(store: &dyn Store) -> Result<CityFile> {
    let city = import_city(store, &texts()).await?;
    // The demo's own app: trusted, so unlimited (the intake benchmarks post with it).
    store.put_api_key(&ApiKey { key: DEMO_API_KEY.into(), label: "demo".into(), per_minute: None }).await?;
    // One hash serves every demo user: same password, and seeding stays quick.
    let hash = civic311_app::passwords::hash(&civic311_codecs::codecs().passwords, DEMO_PASSWORD.to_owned())
        .await
        .map_err(anyhow::Error::msg)?;
    for u in &city.users {
        store.set_password(&u.username, &hash).await?;
    }
    seed_addresses(store).await?;
    // After the passwords, which revoke a user's tokens.
    // The demo's own administrator token does not expire: it is printed on every start.
    let hash = civic311_app::tokens::token_hash(DEMO_ADMIN_TOKEN);
    store.put_user_token(&hash, "admin", "demo", jiff::Timestamp::now(), None).await?;
    Ok(city)
}

/// Writes the demo's generated layers (addresses, streets, assets), as imports would.
async fn seed_addresses(store: &dyn Store) -> Result<()> {
    let features = store.boundary_features().await?;
    let layer = |name: &str| {
        civic311_domain::geo::BoundaryIndex::new(features.iter().filter(|f| f.layer == name).cloned().collect())
    };
    let (outline, zipcodes) = (layer("wards"), layer("zipcodes"));
    let points = addresses::points(&outline, &zipcodes);
    let (count, digest) = (points.len(), civic311_app::layers::digest(&points));
    write_address_layer(store, "demo", points.into(), count, digest).await?;
    let segments = addresses::streets(&outline);
    let digest = civic311_app::layers::digest(&segments);
    write_layer(store, "demo", "streets", ConfigWrite::Streets { segments, digest }).await?;
    let assets = addresses::assets(&outline);
    let digest = civic311_app::layers::digest(&assets);
    write_layer(store, "demo", "assets", ConfigWrite::Assets { assets, digest }).await
}

/// Replaces the address layer with `points`, audited as `actor`, straight through the
/// store: for the demo's seeding and the benchmarks, which run before any app node
/// (a city's own imports go through `configure::put_address_layer`).
pub async fn write_address_layer(
    store: &dyn Store,
    actor: &str,
    points: civic311_store::RowSource<civic311_domain::address::AddressPoint>,
    count: usize,
    digest: String,
) -> Result<()> {
    write_layer(store, actor, "addresses", ConfigWrite::Addresses { points, count, digest }).await
}

/// Writes one layer (`kind`) as one audited change by `actor`.
async fn write_layer(store: &dyn Store, actor: &str, kind: &str, write: ConfigWrite) -> Result<()> {
    let (count, digest) = match &write {
        ConfigWrite::Addresses { count, digest, .. } => (*count, digest.clone()),
        ConfigWrite::Streets { segments, digest } => (segments.len(), digest.clone()),
        ConfigWrite::Assets { assets, digest } => (assets.len(), digest.clone()),
        _ => (0, String::new()),
    };
    let change = ConfigChange {
        at: jiff::Timestamp::now(),
        actor: actor.into(),
        kind: kind.into(),
        item: kind.into(),
        body: serde_json::json!({ "count": count, "digest": digest }),
    };
    let version = store.config_version().await?;
    store.change_config(version, vec![write], change).await?;
    Ok(())
}

/// The staff list as printed when the demo starts.
pub fn staff_lines() -> Result<Vec<String>> {
    let city: CityFile = toml::from_str(texts().city)?;
    Ok(city.users.iter().map(|u| format!("{:<18} {:<11} {}", u.username, u.role.as_str(), u.display_name)).collect())
}
