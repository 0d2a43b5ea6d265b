//! Configuration through the staff API: departments, teams, staff, services and routing
//! rules one at a time, and the workflow document. Every change is checked against the
//! whole city as it would be afterwards (a team's department must exist, a rule's team
//! must belong to its department…), written only if that passes, and in effect for the
//! next request.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use civic311_domain::city::CityConfig;
use civic311_domain::org::{Department, StaffUser, Team};
use civic311_domain::routing::RuleSet;
use civic311_domain::service::Service;
use civic311_domain::workflow::WorkflowConfig;
use civic311_store::{Store, StoreResult};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::OwnedMutexGuard;

use super::ApiError;
use super::auth::{caller, require_admin, token_hash};
use crate::{AppState, CityModel, LoadError};

type ApiResult = Result<Json<Value>, ApiError>;
type Written = Result<(StatusCode, Json<Value>), ApiError>;

fn bad(field: &str, detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, field, detail)
}

fn to_json(v: &impl Serialize) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(ApiError::internal)
}

/// Applies `edit` to the stored city (it says whether it added something new) and
/// checks the result as a whole. On success the configuration lock is held until the
/// caller has written its part and reloaded: two edits on this node cannot each pass
/// against a city the other is changing.
async fn edited(
    state: &AppState,
    edit: impl FnOnce(&mut CityConfig) -> Result<bool, ApiError>,
) -> Result<(OwnedMutexGuard<()>, bool), ApiError> {
    let guard = state.config_lock().await;
    let mut city = CityModel::config(state.store.as_ref()).await.map_err(ApiError::internal)?;
    let created = edit(&mut city)?;
    city.check().map_err(|e| bad(&e.field, e.detail))?;
    Ok((guard, created))
}

/// Puts the written configuration into effect, then lets the next edit in.
async fn kept(state: &AppState, guard: OwnedMutexGuard<()>) -> Result<(), ApiError> {
    state.reload().await.map_err(|e| match e {
        LoadError::Store(s) => ApiError::from(s),
        e => ApiError::internal(e),
    })?;
    drop(guard);
    Ok(())
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

/// A JSON object from a PUT body whose key field (`code`, `username`) is the one in the
/// URL: taken from there when the body leaves it out, refused when it differs.
fn item<T: DeserializeOwned>(key: &str, id: &str, body: Result<Json<Value>, JsonRejection>) -> Result<T, ApiError> {
    let Json(mut body) = body.map_err(|e| bad("body", e.body_text()))?;
    let obj = body.as_object_mut().ok_or_else(|| bad("body", "send a JSON object"))?;
    match obj.get(key) {
        None => {
            obj.insert(key.to_owned(), json!(id));
        }
        Some(Value::String(s)) if s == id => {}
        Some(_) => {
            return Err(bad(
                key,
                format!("the {key} in the body must be '{id}', as in the URL; a {key} cannot be renamed"),
            ));
        }
    }
    serde_json::from_value(body).map_err(|e| bad("body", e.to_string()))
}

/// A configuration item kept one at a time: a department, team, member of staff or service.
pub trait Item: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// The JSON field that names it, also the last URL segment.
    const KEY: &'static str;
    /// The name of the list in `GET` responses.
    const PLURAL: &'static str;
    fn key(&self) -> &str;
    fn all(city: &mut CityConfig) -> &mut Vec<Self>;
    fn read(store: &dyn Store) -> impl Future<Output = StoreResult<Vec<Self>>> + Send;
    fn write(&self, store: &dyn Store) -> impl Future<Output = StoreResult<()>> + Send;
    /// Refuses a change that is consistent on its own but not as a change from `old`
    /// or by this caller.
    fn admit(&self, _old: Option<&Self>, _caller: &StaffUser) -> Result<(), ApiError> {
        Ok(())
    }
}

impl Item for Department {
    const KEY: &'static str = "code";
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
    fn admit(&self, old: Option<&Self>, _caller: &StaffUser) -> Result<(), ApiError> {
        // Open requests name the team with its department; moving it would split them.
        match old {
            Some(old) if old.department != self.department => Err(bad(
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
    fn admit(&self, _old: Option<&Self>, caller: &StaffUser) -> Result<(), ApiError> {
        if self.username == caller.username && !(self.active && self.role == caller.role) {
            return Err(bad("role", "you cannot deactivate yourself or give up your own administrator role"));
        }
        Ok(())
    }
}

impl Item for Service {
    const KEY: &'static str = "code";
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

/// `GET /api/v1/config/{plural}`: every item, in the store's order.
pub async fn list_items<T: Item>(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    caller(&state, &headers).await?;
    Ok(Json(json!({ T::PLURAL: to_json(&T::read(state.store.as_ref()).await?)? })))
}

/// `PUT /api/v1/config/{plural}/{key}`: create (201) or replace (200) one item.
pub async fn put_item<T: Item>(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> Written {
    let admin = caller(&state, &headers).await?;
    require_admin(&admin)?;
    let new: T = item(T::KEY, &id, body)?;
    let (guard, created) = edited(&state, |c| {
        let items = T::all(c);
        new.admit(items.iter().find(|i| i.key() == new.key()), &admin)?;
        Ok(upsert(items, new.clone(), T::key))
    })
    .await?;
    new.write(state.store.as_ref()).await?;
    kept(&state, guard).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(to_json(&new)?)))
}

pub async fn create_user_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(username): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> Written {
    require_admin(&caller(&state, &headers).await?)?;
    let Json(body) = body.map_err(|e| bad("body", e.body_text()))?;
    let label = body.get("label").and_then(Value::as_str).map(str::trim).unwrap_or_default();
    if label.is_empty() {
        return Err(bad(
            "label",
            "say what the token is for (\"Jo's laptop\", \"GIS sync\"), so it can be told apart later",
        ));
    }
    let user = state.store.users().await?.into_iter().find(|u| u.username == username);
    let user = user.ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "username", format!("no user {username}")))?;
    if !user.active {
        return Err(ApiError::new(StatusCode::CONFLICT, "username", format!("{username} is not active")));
    }
    let token = crate::intake::new_token();
    state.store.put_user_token(&token_hash(&token), &username, label).await?;
    let body =
        json!({ "username": username, "label": label, "token": token, "note": "shown once; only its hash is kept" });
    Ok((StatusCode::CREATED, Json(body)))
}

/// `PUT /api/v1/config/users/{username}/password`: sets the password the member of staff
/// signs in to the workspace with; their sessions end.
pub async fn set_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(username): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> ApiResult {
    require_admin(&caller(&state, &headers).await?)?;
    let Json(body) = body.map_err(|e| bad("body", e.body_text()))?;
    let password = body.get("password").and_then(Value::as_str).unwrap_or_default().to_owned();
    if !state.store.users().await?.iter().any(|u| u.username == username) {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "username", format!("no user {username}")));
    }
    civic311_domain::signin::check_password(&username, &password).map_err(|e| bad(&e.field, e.detail))?;
    let hash = crate::passwords::hash(password).await.map_err(ApiError::internal)?;
    state.store.set_password(&username, &hash).await?;
    Ok(Json(json!({ "username": username, "password": "set; their sessions have ended" })))
}

pub async fn get_rules(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    caller(&state, &headers).await?;
    Ok(Json(to_json(&state.store.rules().await?)?))
}

pub async fn put_rules(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<RuleSet>, JsonRejection>,
) -> ApiResult {
    require_admin(&caller(&state, &headers).await?)?;
    let Json(rules) = body.map_err(|e| bad("rules", e.body_text()))?;
    let (guard, _) = edited(&state, |c| {
        c.rules = rules.clone();
        Ok(false)
    })
    .await?;
    state.store.put_rules(&rules).await?;
    kept(&state, guard).await?;
    Ok(Json(to_json(&rules)?))
}

pub async fn get_workflow(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    caller(&state, &headers).await?;
    let config = state.store.workflow_config().await?.unwrap_or_default();
    let mut body = to_json(&config)?;
    body["effective_templates"] = to_json(&state.city().workflow.templates.all().collect::<Vec<_>>())?;
    Ok(Json(body))
}

pub async fn put_workflow(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<WorkflowConfig>, JsonRejection>,
) -> ApiResult {
    require_admin(&caller(&state, &headers).await?)?;
    let Json(config) = body.map_err(|e| bad("workflow", e.body_text()))?;
    let (guard, _) = edited(&state, |c| {
        c.workflow = config.clone();
        Ok(false)
    })
    .await?;
    state.store.put_workflow_config(&config).await?;
    kept(&state, guard).await?;
    Ok(Json(to_json(&config)?))
}
