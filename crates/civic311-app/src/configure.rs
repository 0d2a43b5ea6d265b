//! Changing the city's configuration, from the staff API, the administration pages or
//! the command line. Each change is one unit of work: checked against the whole city
//! as stored (a team's department must exist, a rule's team must belong to its
//! department…), then written together with its audit entry and a new configuration
//! version in one transaction — only if the version is still the one the check read,
//! so two changes made at once on different app nodes cannot both pass against a city
//! the other is changing: one wins, the other is told of the conflict. Once written,
//! the change is in effect here at once and on every other node within a second.

use civic311_domain::city::{CheckedCity, CityConfig};
use civic311_domain::geo::BoundaryFeature;
use civic311_domain::kb::Article;
use civic311_domain::org::{Department, StaffUser, Team};
use civic311_domain::routing::RuleSet;
use civic311_domain::service::Service;
use civic311_domain::workflow::WorkflowConfig;
use civic311_store::{ApiKey, ConfigChange, ConfigWrite, Store, StoreResult};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{App, AppError, CityModel, tokens};

/// Who makes a change, for the audit log and for the checks that depend on it.
#[derive(Debug, Clone, Copy)]
pub enum By<'a> {
    /// A member of staff, through the API or the administration pages.
    Staff(&'a StaffUser),
    /// An operator at the command line (`civic311 import`, `civic311 api-key`).
    Console,
}

impl By<'_> {
    /// The name the audit log records.
    pub fn name(&self) -> &str {
        match self {
            Self::Staff(u) => &u.username,
            Self::Console => "console",
        }
    }
}

/// What the loser of two changes made at once is told.
pub const CHANGED_MEANWHILE: &str = "the configuration was changed by someone else while this change was \
    being checked; nothing was saved — look at it again and retry";

fn refused(field: &str, detail: impl Into<String>) -> AppError {
    AppError::invalid(field, detail)
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
    /// The write that stores it.
    fn write(self) -> ConfigWrite;
    /// Refuses a change that is consistent on its own but not as a change from `old`
    /// or by this actor.
    fn admit(&self, _old: Option<&Self>, _by: By<'_>) -> Result<(), AppError> {
        Ok(())
    }
    /// Refuses an item that is consistent but would tell people something the rest of
    /// the city (as it would be after the change) contradicts.
    fn fits(&self, _city: &CheckedCity) -> Result<(), AppError> {
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
    fn write(self) -> ConfigWrite {
        ConfigWrite::Department(self)
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
    fn write(self) -> ConfigWrite {
        ConfigWrite::Team(self)
    }
    fn admit(&self, old: Option<&Self>, _by: By<'_>) -> Result<(), AppError> {
        // Open requests name the team with its department; moving it would split them.
        match old {
            Some(old) if old.department != self.department => Err(AppError::conflict(
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
    fn write(self) -> ConfigWrite {
        ConfigWrite::User(self)
    }
    fn admit(&self, _old: Option<&Self>, by: By<'_>) -> Result<(), AppError> {
        if let By::Staff(actor) = by
            && self.username == actor.username
            && !(self.active && self.role == actor.role)
        {
            return Err(AppError::conflict(
                "role",
                "you cannot deactivate yourself or give up your own administrator role",
            ));
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
    fn write(self) -> ConfigWrite {
        ConfigWrite::Service(self)
    }
    /// A notice promising residents a time its SLA policy does not give is refused.
    fn fits(&self, city: &CheckedCity) -> Result<(), AppError> {
        match civic311_domain::workflow::notice_conflict(self, &city.workflow) {
            Some(why) => Err(AppError::conflict("service_notice", why)),
            None => Ok(()),
        }
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
    fn write(self) -> ConfigWrite {
        ConfigWrite::Article(self)
    }
}

/// Removes a knowledge-base article, at once and for every app node.
pub async fn delete_article(app: &App, by: By<'_>, slug: &str) -> Result<(), AppError> {
    let at = Snapshot::read(app).await?;
    if !at.city.articles.iter().any(|a| a.slug == slug) {
        return Err(AppError::not_found("slug", format!("no article {slug}")));
    }
    let change = Change::new("article", slug, serde_json::json!({ "deleted": true }));
    at.commit(app, by, change.writing(ConfigWrite::DeleteArticle(slug.to_owned()))).await
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

/// The configuration as stored, and the version it was read at.
struct Snapshot {
    version: i64,
    city: CityConfig,
}

/// What a change writes, and what the audit log says of it.
struct Change {
    writes: Vec<ConfigWrite>,
    kind: &'static str,
    item: String,
    body: serde_json::Value,
}

impl Change {
    fn new(kind: &'static str, item: &str, body: serde_json::Value) -> Self {
        Self { writes: Vec::new(), kind, item: item.to_owned(), body }
    }

    fn writing(mut self, write: ConfigWrite) -> Self {
        self.writes.push(write);
        self
    }
}

impl Snapshot {
    /// Reads the version first, then the configuration: a change landing in between
    /// moves the version past the one read, so the commit is refused, never wrongly let through.
    async fn read(app: &App) -> Result<Self, AppError> {
        let version = app.store.config_version().await?;
        let city = CityModel::config(app.store.as_ref()).await?;
        Ok(Self { version, city })
    }

    /// Checks the configuration as it would be after `edit`: what it would leave
    /// inconsistent is a conflict with the city as stored.
    fn check(&self, edit: impl FnOnce(&mut CityConfig) -> Result<(), AppError>) -> Result<CheckedCity, AppError> {
        let mut city = self.city.clone();
        edit(&mut city)?;
        city.check().map_err(AppError::Conflict)
    }

    /// Writes `change` and its audit entry in one transaction if the configuration is
    /// still as read; then puts it into effect on this node.
    async fn commit(self, app: &App, by: By<'_>, change: Change) -> Result<(), AppError> {
        let audit = ConfigChange {
            at: app.now(),
            actor: by.name().to_owned(),
            kind: change.kind.to_owned(),
            item: change.item,
            body: change.body,
        };
        if app.store.change_config(self.version, change.writes, audit).await?.is_none() {
            return Err(AppError::conflict("", CHANGED_MEANWHILE));
        }
        // Written and audited: the change stands. Should loading it fail here, the
        // version this node holds is unchanged, so following picks it up again.
        if let Err(e) = app.reload().await {
            tracing::error!(error = %e, "a configuration change was saved but could not be loaded yet; retrying");
        }
        Ok(())
    }
}

/// Records what is not configuration but is audited with it (API tokens issued and
/// revoked); a failure is logged, never undoes what was done.
pub async fn audit(app: &App, by: By<'_>, kind: &str, item: &str, body: serde_json::Value) {
    let entry =
        ConfigChange { at: app.now(), actor: by.name().to_owned(), kind: kind.to_owned(), item: item.to_owned(), body };
    if let Err(e) = app.store.record_config_change(&entry).await {
        tracing::error!(error = %e, kind, item, "done, but could not be audited");
    }
}

/// Creates or replaces one item; true when it is new.
pub async fn put_item<T: Item>(app: &App, by: By<'_>, new: T) -> Result<bool, AppError> {
    let at = Snapshot::read(app).await?;
    let mut created = false;
    let checked = at.check(|c| {
        let items = T::all(c);
        new.admit(items.iter().find(|i| i.key() == new.key()), by)?;
        created = upsert(items, new.clone(), T::key);
        Ok(())
    })?;
    new.fits(&checked)?;
    let change = Change::new(T::KIND, new.key(), serde_json::to_value(&new).unwrap_or_default());
    at.commit(app, by, change.writing(new.write())).await?;
    Ok(created)
}

/// How a change that would remove every rule, calendar or policy is confirmed: the
/// API's `?confirm=delete_all`, a checkbox on the pages, a flag on the command line.
pub const CONFIRM_DELETE_ALL: &str = "delete_all";

/// Refuses a change that empties a list the city had, unless `confirmed`.
fn emptying(what: &str, field: &str, had: usize, has: usize, confirmed: bool) -> Result<(), AppError> {
    if has == 0 && had > 0 && !confirmed {
        return Err(AppError::conflict(
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
pub async fn put_rules(app: &App, by: By<'_>, rules: &RuleSet, confirmed: bool) -> Result<(), AppError> {
    let at = Snapshot::read(app).await?;
    at.check(|c| {
        c.rules = rules.clone();
        Ok(())
    })?;
    emptying("routing rules", "rule", at.city.rules.rules.len(), rules.rules.len(), confirmed)?;
    let change = Change::new("rules", "", serde_json::to_value(rules).unwrap_or_default());
    at.commit(app, by, change.writing(ConfigWrite::Rules(rules.clone()))).await
}

/// Replaces the workflow document.
/// Webhook secrets left as shown (see [`WorkflowConfig::redacted`]) keep their stored
/// values; the audit log records the document without them.
/// Removing every calendar, SLA policy or escalation chain needs `confirmed`.
pub async fn put_workflow(app: &App, by: By<'_>, config: &WorkflowConfig, confirmed: bool) -> Result<(), AppError> {
    let at = Snapshot::read(app).await?;
    let stored = &at.city.workflow;
    let mut config = config.clone();
    config.keep_secrets(stored).map_err(AppError::Conflict)?;
    at.check(|c| {
        c.workflow = config.clone();
        Ok(())
    })?;
    emptying("calendars", "calendar", stored.calendars.len(), config.calendars.len(), confirmed)?;
    emptying("SLA policies", "sla", stored.sla_policies.len(), config.sla_policies.len(), confirmed)?;
    emptying("escalation chains", "escalation", stored.escalations.len(), config.escalations.len(), confirmed)?;
    let change = Change::new("workflow", "", serde_json::to_value(config.redacted()).unwrap_or_default());
    at.commit(app, by, change.writing(ConfigWrite::Workflow(config))).await
}

/// Sets a member of staff's password (ending their sessions and revoking their
/// tokens); the audit log records that it happened, never the password.
pub async fn set_password(app: &App, by: By<'_>, username: &str, password: String) -> Result<(), AppError> {
    let no_user = || AppError::not_found("username", format!("no user {username}"));
    if !app.store.users().await?.iter().any(|u| u.username == username) {
        return Err(no_user());
    }
    civic311_domain::signin::check_password(username, &password)?;
    let hash = crate::passwords::hash(&app.codecs.passwords, password).await.map_err(|e| refused("password", e))?;
    // Read after hashing, which takes a while: the check and the write stay close.
    let at = Snapshot::read(app).await?;
    if !at.city.users.iter().any(|u| u.username == username) {
        return Err(no_user());
    }
    let change = Change::new("password", username, serde_json::json!({ "set": true }));
    at.commit(app, by, change.writing(ConfigWrite::Password { username: username.to_owned(), hash })).await
}

/// Replaces boundary layer `layer` with `features`. Refused when a routing rule names a
/// feature of the layer that the new version lacks, so no rule silently stops matching.
pub async fn put_boundary_layer(
    app: &App,
    by: By<'_>,
    layer: &str,
    features: &[BoundaryFeature],
) -> Result<(), AppError> {
    if layer.is_empty() || layer.len() > 40 || !layer.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b)) {
        return Err(refused("layer", "a layer name is 1-40 letters, digits, '-' or '_' (e.g. ward)"));
    }
    if features.is_empty() {
        return Err(refused("layer", "the file has no Polygon or MultiPolygon features"));
    }
    let at = Snapshot::read(app).await?;
    at.city.rules.check_layer(layer, features.iter().map(|f| f.feature.as_str())).map_err(AppError::Conflict)?;
    let listed: Vec<_> = features.iter().map(|f| serde_json::json!({ "id": f.feature, "name": f.name })).collect();
    let change = Change::new("boundaries", layer, serde_json::json!({ "features": listed }));
    let write = ConfigWrite::BoundaryLayer { layer: layer.to_owned(), features: features.to_vec() };
    at.commit(app, by, change.writing(write)).await
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Imported {
    /// These many rows were written (the whole layer, or the assets that were new or
    /// changed).
    Replaced(usize),
    /// The layer already held exactly these rows: nothing was written.
    Unchanged(usize),
}

/// Replaces the address layer with `points` as one audited change, unless it holds
/// exactly these already.
pub async fn put_address_layer(
    app: &App,
    by: By<'_>,
    points: Vec<civic311_domain::address::AddressPoint>,
) -> Result<Imported, AppError> {
    let digest = crate::layers::digest(&points);
    let count = points.len();
    put_address_rows(app, by, points.into(), count, digest).await
}

/// Replaces the address layer with the `count` points of `points` (whose
/// [`crate::layers::LayerDigest`] is `digest`) as one audited change, unless it holds
/// exactly these already.
pub async fn put_address_rows(
    app: &App,
    by: By<'_>,
    points: civic311_store::RowSource<civic311_domain::address::AddressPoint>,
    count: usize,
    digest: String,
) -> Result<Imported, AppError> {
    if count == 0 {
        return Err(AppError::invalid("file", "the file has no address points"));
    }
    replace_layer(app, by, "addresses", count, digest, |digest| ConfigWrite::Addresses { points, count, digest }).await
}

/// Replaces the street centreline layer with `segments` as one audited change, unless
/// it holds exactly these already.
pub async fn put_street_layer(
    app: &App,
    by: By<'_>,
    segments: Vec<civic311_domain::address::StreetSegment>,
) -> Result<Imported, AppError> {
    if segments.is_empty() {
        return Err(AppError::invalid("file", "the file has no street centrelines"));
    }
    let digest = crate::layers::digest(&segments);
    let count = segments.len();
    replace_layer(app, by, "streets", count, digest, |digest| ConfigWrite::Streets { segments, digest }).await
}

/// Replaces a whole `layer` of `count` rows named by `digest`, as `write` writes it,
/// unless the stored layer has that digest already.
async fn replace_layer(
    app: &App,
    by: By<'_>,
    layer: &'static str,
    count: usize,
    digest: String,
    write: impl FnOnce(String) -> ConfigWrite,
) -> Result<Imported, AppError> {
    if app.store.layer_digest(layer).await?.as_deref() == Some(digest.as_str()) {
        return Ok(Imported::Unchanged(count));
    }
    let at = Snapshot::read(app).await?;
    let change = Change::new(layer, layer, serde_json::json!({ "count": count, "digest": digest }));
    at.commit(app, by, change.writing(write(digest))).await?;
    Ok(Imported::Replaced(count))
}

/// Adds or updates `assets` (all of one type) by the city's id as one audited change;
/// assets not in the file stay. Only the new and changed ones are written, and nothing
/// when there are none.
pub async fn put_assets(
    app: &App,
    by: By<'_>,
    kind: &str,
    assets: Vec<civic311_domain::asset::Asset>,
) -> Result<Imported, AppError> {
    crate::layers::assets::check_kind(kind).map_err(|e| AppError::invalid("type", e))?;
    if assets.is_empty() {
        return Err(AppError::invalid("file", "the file has no assets"));
    }
    if let Some(other) = assets.iter().find(|a| a.kind != kind) {
        return Err(AppError::invalid("file", format!("asset {} is a {}, not a {kind}", other.id, other.kind)));
    }
    let known = app.city().assets.clone();
    let changed: Vec<_> = assets.into_iter().filter(|a| known.get(&a.kind, &a.id) != Some(a)).collect();
    if changed.is_empty() {
        return Ok(Imported::Unchanged(known.iter().filter(|a| a.kind == kind).count()));
    }
    let digest = crate::layers::digest(&changed);
    let count = changed.len();
    let at = Snapshot::read(app).await?;
    let change = Change::new("assets", kind, serde_json::json!({ "written": count, "digest": digest }));
    at.commit(app, by, change.writing(ConfigWrite::Assets { assets: changed, digest })).await?;
    Ok(Imported::Replaced(count))
}

/// Issues a new Open311 API key for an app or partner (`label`), in effect at once.
/// The audit log records who it is for and the key's last four characters, never the key.
pub async fn issue_api_key(app: &App, by: By<'_>, label: &str, per_minute: Option<u32>) -> Result<String, AppError> {
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 100 {
        return Err(refused("label", "say who the key is for, in at most 100 characters (e.g. city iOS app)"));
    }
    if per_minute == Some(0) {
        return Err(refused("per_minute", "at least 1 request a minute, or no limit for a trusted integration"));
    }
    let at = Snapshot::read(app).await?;
    let key = tokens::new_token();
    let issued = ApiKey { key: key.clone(), label: label.to_owned(), per_minute };
    let audit = serde_json::json!({ "issued": true, "ends": key_end(&key), "per_minute": per_minute });
    at.commit(app, by, Change::new("api_key", label, audit).writing(ConfigWrite::ApiKey(issued))).await?;
    Ok(key)
}

/// The last four characters of a key: enough to tell two keys of one holder apart in the
/// audit log, too few to use.
fn key_end(key: &str) -> String {
    let skip = key.chars().count().saturating_sub(4);
    format!("…{}", key.chars().skip(skip).collect::<String>())
}

/// Revokes an Open311 API key at once: requests made with it are refused from now on.
pub async fn revoke_api_key(app: &App, by: By<'_>, key: &str) -> Result<String, AppError> {
    let at = Snapshot::read(app).await?;
    let Some(label) = app.store.api_keys().await?.into_iter().find(|k| k.key == key).map(|k| k.label) else {
        return Err(AppError::not_found("key", "no such API key (already revoked?)"));
    };
    let change = Change::new("api_key", &label, serde_json::json!({ "revoked": true, "ends": key_end(key) }));
    at.commit(app, by, change.writing(ConfigWrite::RevokeApiKey(key.to_owned()))).await?;
    Ok(label)
}
