//! Changing the city's configuration, from the staff API or the administration pages:
//! each change is checked against the whole city as it would be afterwards (a team's
//! department must exist, a rule's team must belong to its department…), written only
//! if that passes, put into effect at once, and recorded in the audit log with who made
//! it.

use civic311_domain::FieldError;
use civic311_domain::city::CityConfig;
use civic311_domain::geo::BoundaryFeature;
use civic311_domain::kb::Article;
use civic311_domain::org::{Department, StaffUser, Team};
use civic311_domain::routing::RuleSet;
use civic311_domain::service::Service;
use civic311_domain::workflow::WorkflowConfig;
use civic311_store::{ConfigChange, Store, StoreError, StoreResult};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::OwnedMutexGuard;

use crate::{AppState, CityModel, LoadError};

/// Why a change was not made.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// The change would leave the city inconsistent, or is not allowed as a change.
    #[error("{0}")]
    Refused(FieldError),
    /// The item to change does not exist.
    #[error("{0}")]
    NotFound(FieldError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the configuration could not be loaded: {0}")]
    Load(LoadError),
}

fn refused(field: &str, detail: impl Into<String>) -> ChangeError {
    ChangeError::Refused(FieldError::new(field, detail))
}

/// A configuration item kept one at a time: a department, team, member of staff or service.
pub trait Item: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// The JSON field that names it, also the last URL segment.
    const KEY: &'static str;
    /// What the audit log calls it.
    const KIND: &'static str;
    /// The name of the list in `GET` responses.
    const PLURAL: &'static str;
    fn key(&self) -> &str;
    fn all(city: &mut CityConfig) -> &mut Vec<Self>;
    fn read(store: &dyn Store) -> impl Future<Output = StoreResult<Vec<Self>>> + Send;
    fn write(&self, store: &dyn Store) -> impl Future<Output = StoreResult<()>> + Send;
    /// Refuses a change that is consistent on its own but not as a change from `old`
    /// or by this actor.
    fn admit(&self, _old: Option<&Self>, _actor: &StaffUser) -> Result<(), ChangeError> {
        Ok(())
    }
}

impl Item for Department {
    const KEY: &'static str = "code";
    const KIND: &'static str = "department";
    const PLURAL: &'static str = "departments";
    fn key(&self) -> &str {
        &self.code
    }
    fn all(city: &mut CityConfig) -> &mut Vec<Self> {
        &mut city.departments
    }
    async fn read(store: &dyn Store) -> StoreResult<Vec<Self>> {
        store.departments().await
    }
    async fn write(&self, store: &dyn Store) -> StoreResult<()> {
        store.put_department(self).await
    }
}

impl Item for Team {
    const KEY: &'static str = "code";
    const KIND: &'static str = "team";
    const PLURAL: &'static str = "teams";
    fn key(&self) -> &str {
        &self.code
    }
    fn all(city: &mut CityConfig) -> &mut Vec<Self> {
        &mut city.teams
    }
    async fn read(store: &dyn Store) -> StoreResult<Vec<Self>> {
        store.teams().await
    }
    async fn write(&self, store: &dyn Store) -> StoreResult<()> {
        store.put_team(self).await
    }
    fn admit(&self, old: Option<&Self>, _actor: &StaffUser) -> Result<(), ChangeError> {
        // Open requests name the team with its department; moving it would split them.
        match old {
            Some(old) if old.department != self.department => Err(refused(
                "department",
                format!(
                    "team {} belongs to {}; teams do not move between departments: create a team in {} instead",
                    self.code, old.department, self.department
                ),
            )),
            _ => Ok(()),
        }
    }
}

impl Item for StaffUser {
    const KEY: &'static str = "username";
    const KIND: &'static str = "user";
    const PLURAL: &'static str = "users";
    fn key(&self) -> &str {
        &self.username
    }
    fn all(city: &mut CityConfig) -> &mut Vec<Self> {
        &mut city.users
    }
    async fn read(store: &dyn Store) -> StoreResult<Vec<Self>> {
        store.users().await
    }
    async fn write(&self, store: &dyn Store) -> StoreResult<()> {
        store.put_user(self).await
    }
    fn admit(&self, _old: Option<&Self>, actor: &StaffUser) -> Result<(), ChangeError> {
        if self.username == actor.username && !(self.active && self.role == actor.role) {
            return Err(refused("role", "you cannot deactivate yourself or give up your own administrator role"));
        }
        Ok(())
    }
}

impl Item for Service {
    const KEY: &'static str = "code";
    const KIND: &'static str = "service";
    const PLURAL: &'static str = "services";
    fn key(&self) -> &str {
        &self.code
    }
    fn all(city: &mut CityConfig) -> &mut Vec<Self> {
        &mut city.services
    }
    async fn read(store: &dyn Store) -> StoreResult<Vec<Self>> {
        store.services().await
    }
    async fn write(&self, store: &dyn Store) -> StoreResult<()> {
        store.put_service(self).await
    }
}

impl Item for Article {
    const KEY: &'static str = "slug";
    const KIND: &'static str = "article";
    const PLURAL: &'static str = "articles";
    fn key(&self) -> &str {
        &self.slug
    }
    fn all(city: &mut CityConfig) -> &mut Vec<Self> {
        &mut city.articles
    }
    async fn read(store: &dyn Store) -> StoreResult<Vec<Self>> {
        store.articles().await
    }
    async fn write(&self, store: &dyn Store) -> StoreResult<()> {
        store.put_article(self).await
    }
}

/// Removes a knowledge-base article, at once and for every app node.
pub async fn delete_article(state: &AppState, actor: &StaffUser, slug: &str) -> Result<(), ChangeError> {
    let guard = state.config_lock().await;
    if !state.store.delete_article(slug).await? {
        return Err(ChangeError::NotFound(FieldError::new("slug", format!("no article {slug}"))));
    }
    done(state, guard, actor, ("article", slug, serde_json::json!({ "deleted": true }))).await
}

/// Replaces the item with the same key, or appends it; true when it is new.
fn upsert<T>(items: &mut Vec<T>, item: T, key: impl Fn(&T) -> &str) -> bool {
    match items.iter().position(|i| key(i) == key(&item)) {
        Some(at) => {
            items[at] = item;
            false
        }
        None => {
            items.push(item);
            true
        }
    }
}

/// Applies `edit` to the stored city (it says whether it adds something new) and
/// checks the result as a whole. On success the configuration lock is held until
/// [`done`]: two changes on this node cannot each pass against a city the other is
/// changing.
async fn checked(
    state: &AppState,
    edit: impl FnOnce(&mut CityConfig) -> Result<bool, ChangeError>,
) -> Result<(OwnedMutexGuard<()>, bool), ChangeError> {
    let guard = state.config_lock().await;
    let mut city = CityModel::config(state.store.as_ref()).await.map_err(ChangeError::Load)?;
    let created = edit(&mut city)?;
    city.check().map_err(ChangeError::Refused)?;
    Ok((guard, created))
}

/// After the change is written: puts it into effect, audits it, lets the next one in.
async fn done(
    state: &AppState,
    guard: OwnedMutexGuard<()>,
    actor: &StaffUser,
    (kind, item, body): (&str, &str, serde_json::Value),
) -> Result<(), ChangeError> {
    state.reload().await.map_err(ChangeError::Load)?;
    drop(guard);
    audit(state, actor, kind, item, body).await;
    Ok(())
}

/// Records a change; a failure is logged, never undoes a change already made.
pub(crate) async fn audit(state: &AppState, actor: &StaffUser, kind: &str, item: &str, body: serde_json::Value) {
    let entry = ConfigChange {
        at: state.now(),
        actor: actor.username.clone(),
        kind: kind.to_owned(),
        item: item.to_owned(),
        body,
    };
    if let Err(e) = state.store.record_config_change(&entry).await {
        tracing::error!(error = %e, kind, item, "a configuration change was made but could not be audited");
    }
}

/// Creates or replaces one item; true when it is new.
pub async fn put_item<T: Item>(state: &AppState, actor: &StaffUser, new: T) -> Result<bool, ChangeError> {
    let (guard, created) = checked(state, |c| {
        let items = T::all(c);
        new.admit(items.iter().find(|i| i.key() == new.key()), actor)?;
        Ok(upsert(items, new.clone(), T::key))
    })
    .await?;
    new.write(state.store.as_ref()).await?;
    done(state, guard, actor, (T::KIND, new.key(), serde_json::to_value(&new).unwrap_or_default())).await?;
    Ok(created)
}

/// Replaces the ordered rule list.
/// How a change that would remove every rule, calendar or policy is confirmed: the
/// API's `?confirm=delete_all`, a checkbox on the pages, a flag on the command line.
pub const CONFIRM_DELETE_ALL: &str = "delete_all";

/// Refuses a change that empties a list the city had, unless `confirmed`.
fn emptying(what: &str, field: &str, had: usize, has: usize, confirmed: bool) -> Result<(), ChangeError> {
    if has == 0 && had > 0 && !confirmed {
        return Err(refused(
            field,
            format!(
                "this would delete all {had} {what}; if that is what you mean, confirm it \
                 (confirm={CONFIRM_DELETE_ALL})"
            ),
        ));
    }
    Ok(())
}

/// Replaces the routing and priority rules. Removing every rule needs `confirmed`.
pub async fn put_rules(
    state: &AppState,
    actor: &StaffUser,
    rules: &RuleSet,
    confirmed: bool,
) -> Result<(), ChangeError> {
    let had = state.store.rules().await?.rules.len();
    let (guard, _) = checked(state, |c| {
        c.rules = rules.clone();
        Ok(false)
    })
    .await?;
    emptying("routing rules", "rule", had, rules.rules.len(), confirmed)?;
    state.store.put_rules(rules).await?;
    done(state, guard, actor, ("rules", "", serde_json::to_value(rules).unwrap_or_default())).await
}

/// Replaces the workflow document.
/// Webhook secrets left as shown (see [`WorkflowConfig::redacted`]) keep their stored
/// values; the audit log records the document without them.
/// Removing every calendar, SLA policy or escalation chain needs `confirmed`.
pub async fn put_workflow(
    state: &AppState,
    actor: &StaffUser,
    config: &WorkflowConfig,
    confirmed: bool,
) -> Result<(), ChangeError> {
    let mut config = config.clone();
    let stored = state.store.workflow_config().await?.unwrap_or_default();

    config.keep_secrets(&stored).map_err(ChangeError::Refused)?;
    let (guard, _) = checked(state, |c| {
        c.workflow = config.clone();
        Ok(false)
    })
    .await?;
    emptying("calendars", "calendar", stored.calendars.len(), config.calendars.len(), confirmed)?;
    emptying("SLA policies", "sla", stored.sla_policies.len(), config.sla_policies.len(), confirmed)?;
    emptying("escalation chains", "escalation", stored.escalations.len(), config.escalations.len(), confirmed)?;
    state.store.put_workflow_config(&config).await?;
    done(state, guard, actor, ("workflow", "", serde_json::to_value(config.redacted()).unwrap_or_default())).await
}

/// Sets a member of staff's password (ending their sessions); the audit log records
/// that it happened, never the password.
pub async fn set_password(
    state: &AppState,
    actor: &StaffUser,
    username: &str,
    password: String,
) -> Result<(), ChangeError> {
    if !state.store.users().await?.iter().any(|u| u.username == username) {
        return Err(ChangeError::NotFound(FieldError::new("username", format!("no user {username}"))));
    }
    civic311_domain::signin::check_password(username, &password).map_err(ChangeError::Refused)?;
    let hash = crate::passwords::hash(password).await.map_err(|e| refused("password", e))?;
    state.store.set_password(username, &hash).await?;
    audit(state, actor, "password", username, serde_json::json!({ "set": true })).await;
    Ok(())
}

/// Replaces boundary layer `layer` with `features`. Refused when a routing rule names a
/// feature of the layer that the new version lacks, so no rule silently stops matching.
pub async fn put_boundary_layer(
    state: &AppState,
    actor: &StaffUser,
    layer: &str,
    features: &[BoundaryFeature],
) -> Result<(), ChangeError> {
    if layer.is_empty() || layer.len() > 40 || !layer.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b)) {
        return Err(refused("layer", "a layer name is 1-40 letters, digits, '-' or '_' (e.g. ward)"));
    }
    if features.is_empty() {
        return Err(refused("layer", "the file has no Polygon or MultiPolygon features"));
    }
    let (guard, _) = checked(state, |c| {
        c.rules.check_layer(layer, features.iter().map(|f| f.feature.as_str())).map_err(ChangeError::Refused)?;
        Ok(false)
    })
    .await?;
    state.store.replace_boundary_layer(layer, features).await?;
    let listed: Vec<_> = features.iter().map(|f| serde_json::json!({ "id": f.feature, "name": f.name })).collect();
    done(state, guard, actor, ("boundaries", layer, serde_json::json!({ "features": listed }))).await
}

/// Issues a new Open311 API key for an app or partner (`label`), in effect at once.
/// The audit log records who it is for and the key's last four characters, never the key.
pub async fn issue_api_key(
    state: &AppState,
    actor: &StaffUser,
    label: &str,
    per_minute: Option<u32>,
) -> Result<String, ChangeError> {
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 100 {
        return Err(refused("label", "say who the key is for, in at most 100 characters (e.g. city iOS app)"));
    }
    if per_minute == Some(0) {
        return Err(refused("per_minute", "at least 1 request a minute, or no limit for a trusted integration"));
    }
    let guard = state.config_lock().await;
    let key = crate::intake::new_token();
    let issued = civic311_store::ApiKey { key: key.clone(), label: label.to_owned(), per_minute };
    state.store.put_api_key(&issued).await?;
    let audit = serde_json::json!({ "issued": true, "ends": key_end(&key), "per_minute": per_minute });
    done(state, guard, actor, ("api_key", label, audit)).await?;
    Ok(key)
}

/// The last four characters of a key: enough to tell two keys of one holder apart in the
/// audit log, too few to use.
fn key_end(key: &str) -> String {
    let skip = key.chars().count().saturating_sub(4);
    format!("…{}", key.chars().skip(skip).collect::<String>())
}

/// Revokes an Open311 API key at once: requests made with it are refused from now on.
pub async fn revoke_api_key(state: &AppState, actor: &StaffUser, key: &str) -> Result<String, ChangeError> {
    let guard = state.config_lock().await;
    let Some(label) = state.store.api_keys().await?.into_iter().find(|k| k.key == key).map(|k| k.label) else {
        return Err(ChangeError::NotFound(FieldError::new("key", "no such API key (already revoked?)")));
    };
    state.store.revoke_api_key(key).await?;
    done(state, guard, actor, ("api_key", &label, serde_json::json!({ "revoked": true, "ends": key_end(key) })))
        .await?;
    Ok(label)
}
