//! Configuration through the staff API: departments, teams, staff, services and routing
//! rules one at a time, and the workflow document, each change made through
//! [`civic311_app::configure`] (checked against the whole city, in effect at once, audited).

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode};
use civic311_domain::routing::RuleSet;
use civic311_domain::workflow::WorkflowConfig;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::ApiError;
use super::auth::{caller, require_admin};
use super::extract::{ApiPath, ApiQuery};
use crate::AppState;
use civic311_app::configure::{self, Item};
use civic311_app::tokens::token_hash;
use civic311_store::UserToken;

type ApiResult = Result<Json<Value>, ApiError>;
type Written = Result<(StatusCode, Json<Value>), ApiError>;

fn bad(field: &str, detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, field, detail)
}

fn to_json(v: &impl Serialize) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(ApiError::internal)
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
    document("body", body)
}

/// `?confirm=delete_all`: the caller means to remove every rule, calendar or policy.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    confirm: Option<String>,
}

impl Confirm {
    /// True when removing everything is confirmed; any other word is refused, so a typo
    /// never reads as "not confirmed" by accident.
    fn delete_all(&self) -> Result<bool, ApiError> {
        match self.confirm.as_deref() {
            None => Ok(false),
            Some(configure::CONFIRM_DELETE_ALL) => Ok(true),
            Some(other) => Err(bad("confirm", format!("'{other}' is not a confirmation; the only one is delete_all"))),
        }
    }
}

/// A whole document from a PUT body, read exactly: unknown fields are refused. A
/// number with nothing after the point (`7.0`) is the whole number it is, as JSON has it.
fn document<T: DeserializeOwned>(what: &str, mut body: Value) -> Result<T, ApiError> {
    whole_numbers(&mut body);
    civic311_domain::exact::from_json(what, body).map_err(|e| bad(&e.field, e.detail))
}

/// Turns every number in `v` that has no fraction (and fits) into an integer.
fn whole_numbers(v: &mut Value) {
    match v {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() < 9.0e15
            {
                // Exact: every whole number below 2^53 is an f64 and an i64.
                #[allow(clippy::cast_possible_truncation)]
                let whole = f as i64;
                *v = Value::from(whole);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        Value::Object(fields) => fields.values_mut().for_each(whole_numbers),
        _ => {}
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
    ApiPath(id): ApiPath<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> Written {
    let admin = caller(&state, &headers).await?;
    require_admin(&admin)?;
    let new: T = item(T::KEY, &id, body)?;
    let created = configure::put_item(&state, configure::By::Staff(&admin), new.clone()).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(to_json(&new)?)))
}

/// How long a staff API token works unless the request says otherwise.
const TOKEN_DAYS: i64 = 365;

/// `POST /api/v1/config/users/{username}/tokens` with `label` and optional
/// `expires_in_days` (1–3650, default 365): a new token, shown in this answer only.
pub async fn create_user_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(username): ApiPath<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> Written {
    let admin = caller(&state, &headers).await?;
    require_admin(&admin)?;
    let Json(body) = body.map_err(|e| bad("body", e.body_text()))?;
    #[derive(serde::Deserialize)]
    struct TokenRequest {
        label: String,
        expires_in_days: Option<i64>,
    }
    let asked: TokenRequest = document("body", body)?;
    let label = asked.label.trim();
    if label.is_empty() || label.chars().count() > 100 {
        return Err(bad(
            "label",
            "say what the token is for (\"Jo's laptop\", \"GIS sync\"), in at most 100 characters",
        ));
    }
    let days = asked.expires_in_days.unwrap_or(TOKEN_DAYS);
    if !(1..=3650).contains(&days) {
        return Err(bad("expires_in_days", "a whole number of days from 1 to 3650"));
    }
    let user = state.store.users().await?.into_iter().find(|u| u.username == username);
    let user = user.ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "username", format!("no user {username}")))?;
    if !user.active {
        return Err(ApiError::new(StatusCode::CONFLICT, "username", format!("{username} is not active")));
    }
    let token = civic311_app::tokens::new_token();
    let hash = token_hash(&token);
    let now = state.now();
    let issued = UserToken {
        id: hash.chars().take(UserToken::ID_LEN).collect(),
        username: username.clone(),
        label: label.to_owned(),
        created_at: now,
        expires_at: now.checked_add(jiff::SignedDuration::from_hours(24 * days)).ok(),
    };
    state.store.put_user_token(&hash, &username, label, now, issued.expires_at).await?;
    let audited = json!({ "issued": issued.id, "label": issued.label, "expires_at": issued.expires_at });
    civic311_app::configure::audit(&state, configure::By::Staff(&admin), "token", &username, audited).await;
    let mut body = token_json(&issued);
    body["token"] = json!(token);
    body["note"] = json!("shown once; only its hash is kept");
    Ok((StatusCode::CREATED, Json(body)))
}

/// A token as listed: never the token itself.
fn token_json(t: &UserToken) -> Value {
    json!({
        "id": t.id,
        "username": t.username,
        "label": t.label,
        "created_at": t.created_at,
        "expires_at": t.expires_at,
    })
}

/// `GET /api/v1/config/users/{username}/tokens`: the member of staff's API tokens.
pub async fn list_user_tokens(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(username): ApiPath<String>,
) -> ApiResult {
    require_admin(&caller(&state, &headers).await?)?;
    if !state.store.users().await?.iter().any(|u| u.username == username) {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "username", format!("no user {username}")));
    }
    let tokens = state.store.user_tokens(&username).await?;
    Ok(Json(json!({ "tokens": tokens.iter().map(token_json).collect::<Vec<_>>() })))
}

/// `DELETE /api/v1/config/users/{username}/tokens/{id}`: revokes one token at once.
pub async fn revoke_user_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((username, id)): ApiPath<(String, String)>,
) -> ApiResult {
    let admin = caller(&state, &headers).await?;
    require_admin(&admin)?;
    if !state.store.revoke_user_token(&username, &id).await? {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "id", format!("{username} has no token {id}")));
    }
    civic311_app::configure::audit(&state, configure::By::Staff(&admin), "token", &username, json!({ "revoked": id }))
        .await;
    Ok(Json(json!({ "username": username, "id": id, "revoked": true })))
}

/// `PUT /api/v1/config/users/{username}/password`: sets the password the member of staff
/// signs in to the workspace with; their sessions end.
pub async fn set_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(username): ApiPath<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> ApiResult {
    let admin = caller(&state, &headers).await?;
    require_admin(&admin)?;
    let Json(body) = body.map_err(|e| bad("body", e.body_text()))?;
    #[derive(serde::Deserialize)]
    struct NewPassword {
        password: String,
    }
    let NewPassword { password } = document("body", body)?;
    configure::set_password(&state, configure::By::Staff(&admin), &username, password).await?;
    Ok(Json(json!({ "username": username, "password": "set; their sessions have ended" })))
}

pub async fn get_rules(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    caller(&state, &headers).await?;
    Ok(Json(to_json(&state.store.rules().await?)?))
}

pub async fn put_rules(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(confirm): ApiQuery<Confirm>,
    body: Result<Json<Value>, JsonRejection>,
) -> ApiResult {
    let admin = caller(&state, &headers).await?;
    require_admin(&admin)?;
    let Json(body) = body.map_err(|e| bad("rules", e.body_text()))?;
    let rules: RuleSet = document("rules", body.clone())?;
    // Without its `rule` list the document would mean "no rules at all".
    civic311_domain::exact::require_key("rules", &body, "rule").map_err(|e| bad(&e.field, e.detail))?;
    configure::put_rules(&state, configure::By::Staff(&admin), &rules, confirm.delete_all()?).await?;
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
    ApiQuery(confirm): ApiQuery<Confirm>,
    body: Result<Json<Value>, JsonRejection>,
) -> ApiResult {
    let admin = caller(&state, &headers).await?;
    require_admin(&admin)?;
    let Json(body) = body.map_err(|e| bad("workflow", e.body_text()))?;
    let config: WorkflowConfig = document("workflow", body)?;
    configure::put_workflow(&state, configure::By::Staff(&admin), &config, confirm.delete_all()?).await?;
    Ok(Json(to_json(&config.redacted())?))
}
