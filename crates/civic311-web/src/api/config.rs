//! Configuration through the staff API: departments, teams, staff, services and routing
//! rules one at a time, and the workflow document, each change made through
//! [`crate::configure`] (checked against the whole city, in effect at once, audited).

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use civic311_domain::routing::RuleSet;
use civic311_domain::workflow::WorkflowConfig;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::ApiError;
use super::auth::{caller, require_admin, token_hash};
use crate::AppState;
use crate::configure::{self, ChangeError, Item};

type ApiResult = Result<Json<Value>, ApiError>;
type Written = Result<(StatusCode, Json<Value>), ApiError>;

fn bad(field: &str, detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, field, detail)
}

fn to_json(v: &impl Serialize) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(ApiError::internal)
}

impl From<ChangeError> for ApiError {
    fn from(e: ChangeError) -> Self {
        match e {
            ChangeError::Refused(f) => bad(&f.field, f.detail),
            ChangeError::NotFound(f) => ApiError::new(StatusCode::NOT_FOUND, &f.field, f.detail),
            ChangeError::Store(s) => s.into(),
            ChangeError::Load(e) => ApiError::internal(e),
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
    civic311_domain::exact::from_json("body", body).map_err(|e| bad(&e.field, e.detail))
}

/// `?confirm=delete_all`: the caller means to remove every rule, calendar or policy.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Confirm {
    confirm: Option<String>,
}

impl Confirm {
    fn delete_all(&self) -> bool {
        self.confirm.as_deref() == Some(configure::CONFIRM_DELETE_ALL)
    }
}

/// A whole document from a PUT body, read exactly: unknown fields are refused.
fn document<T: DeserializeOwned>(what: &str, body: Value) -> Result<T, ApiError> {
    civic311_domain::exact::from_json(what, body).map_err(|e| bad(&e.field, e.detail))
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
    let created = configure::put_item(&state, &admin, new.clone()).await?;
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
    let admin = caller(&state, &headers).await?;
    require_admin(&admin)?;
    let Json(body) = body.map_err(|e| bad("body", e.body_text()))?;
    let password = body.get("password").and_then(Value::as_str).unwrap_or_default().to_owned();
    configure::set_password(&state, &admin, &username, password).await?;
    Ok(Json(json!({ "username": username, "password": "set; their sessions have ended" })))
}

pub async fn get_rules(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    caller(&state, &headers).await?;
    Ok(Json(to_json(&state.store.rules().await?)?))
}

pub async fn put_rules(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(confirm): Query<Confirm>,
    body: Result<Json<Value>, JsonRejection>,
) -> ApiResult {
    let admin = caller(&state, &headers).await?;
    require_admin(&admin)?;
    let Json(body) = body.map_err(|e| bad("rules", e.body_text()))?;
    let rules: RuleSet = document("rules", body.clone())?;
    // Without its `rule` list the document would mean "no rules at all".
    civic311_domain::exact::require_key("rules", &body, "rule").map_err(|e| bad(&e.field, e.detail))?;
    configure::put_rules(&state, &admin, &rules, confirm.delete_all()).await?;
    Ok(Json(to_json(&rules)?))
}

pub async fn get_workflow(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    caller(&state, &headers).await?;
    let config = state.store.workflow_config().await?.unwrap_or_default();
    let mut body = to_json(&config.redacted())?;
    body["effective_templates"] = to_json(&state.city().workflow.templates.all().collect::<Vec<_>>())?;
    Ok(Json(body))
}

pub async fn put_workflow(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(confirm): Query<Confirm>,
    body: Result<Json<Value>, JsonRejection>,
) -> ApiResult {
    let admin = caller(&state, &headers).await?;
    require_admin(&admin)?;
    let Json(body) = body.map_err(|e| bad("workflow", e.body_text()))?;
    let config: WorkflowConfig = document("workflow", body)?;
    configure::put_workflow(&state, &admin, &config, confirm.delete_all()).await?;
    Ok(Json(to_json(&config.redacted())?))
}
