//! The one table of staff API operations, from which both the router and the OpenAPI
//! 3.1 document are built.

use axum::Json;
use axum::routing::{MethodRouter, delete, get, post, put};
use serde_json::{Value, json};

use civic311_domain::org::{Department, StaffUser, Team};
use civic311_domain::service::Service;

use super::{config, handlers, photos};
use crate::AppState;

/// One operation of the staff API.
pub struct Operation {
    pub id: &'static str,
    pub method: &'static str,
    /// The path in OpenAPI form (`/api/v1/requests/{id}`), which axum 0.8 shares.
    pub path: &'static str,
    pub summary: &'static str,
    /// Who may call it.
    pub roles: &'static str,
    /// The request body's schema component, if any.
    pub body: Option<&'static str>,
    /// Query parameters: name, JSON type, description.
    pub query: &'static [(&'static str, &'static str, &'static str)],
}

/// Every operation, in document order.
pub const OPERATIONS: &[Operation] = &[
    Operation {
        id: "listRequests",
        method: "get",
        path: "/api/v1/requests",
        summary: "List, filter and sort requests, with cursor pagination",
        roles: "any signed-in role",
        body: None,
        query: &[
            ("department", "string", "comma-separated department codes"),
            ("team", "string", "comma-separated team codes"),
            ("assignee", "string", "comma-separated usernames"),
            ("status", "string", "comma-separated statuses"),
            ("priority", "string", "comma-separated priorities"),
            ("service_code", "string", "comma-separated service codes"),
            ("overdue", "boolean", "only open requests past their resolution due time"),
            (
                "area",
                "string",
                "comma-separated boundary features as layer:feature (wards:W3); any feature of a layer, every layer",
            ),
            ("q", "string", "words that must all appear in the description"),
            ("created_after", "string", "RFC 3339 time"),
            ("created_before", "string", "RFC 3339 time"),
            ("updated_after", "string", "RFC 3339 time"),
            ("updated_before", "string", "RFC 3339 time"),
            (
                "sort",
                "string",
                "newest (default), oldest, updated, due (soonest first) or priority (urgent first, then oldest)",
            ),
            ("limit", "integer", "page size, 1-500 (default 50)"),
            ("cursor", "string", "next_cursor of the previous page"),
        ],
    },
    Operation {
        id: "getRequest",
        method: "get",
        path: "/api/v1/requests/{id}",
        summary: "One request with its SLA and full event history; supervisors and admins also get its notifications",
        roles: "any signed-in role",
        body: None,
        query: &[],
    },
    Operation {
        id: "listDuplicates",
        method: "get",
        path: "/api/v1/requests/{id}/duplicates",
        summary: "Requests this one probably repeats (related service, nearby, recent), best first, to merge into",
        roles: "any signed-in role",
        body: None,
        query: &[],
    },
    Operation {
        id: "actOnRequest",
        method: "post",
        path: "/api/v1/requests/{id}/actions",
        summary: "Apply a workflow action (acknowledge, assign, transfer, involve, start, hold, wait_on_resident, resume, set_priority, note, resolve, close, reopen, merge)",
        roles: "admin; supervisor and staff in the owning department; field: start/hold/resume/note/resolve; intake: note",
        body: Some("Action"),
        query: &[],
    },
    Operation {
        id: "attachPhotos",
        method: "post",
        path: "/api/v1/requests/{id}/photos",
        summary: "Attach up to 5 photos (JPEG, PNG, WebP, GIF; 10 MB each; stored upright, at most 2048 px, without metadata) as multipart/form-data, with `public` (true: residents and Open311 see them; false: staff only) and an optional `note`",
        roles: "admin; supervisor, staff and field in the owning department; intake",
        body: Some("Photos"),
        query: &[],
    },
    Operation {
        id: "getMedia",
        method: "get",
        path: "/api/v1/media/{id}",
        summary: "A photo's bytes, public or internal",
        roles: "any signed-in role",
        body: None,
        query: &[],
    },
    Operation {
        id: "listDepartments",
        method: "get",
        path: "/api/v1/config/departments",
        summary: "The city's departments",
        roles: "any signed-in role",
        body: None,
        query: &[],
    },
    Operation {
        id: "putDepartment",
        method: "put",
        path: "/api/v1/config/departments/{code}",
        summary: "Create or replace a department (201 when new); checked against the whole city, effective at once",
        roles: "admin",
        body: Some("Department"),
        query: &[],
    },
    Operation {
        id: "listTeams",
        method: "get",
        path: "/api/v1/config/teams",
        summary: "Teams and the department each belongs to",
        roles: "any signed-in role",
        body: None,
        query: &[],
    },
    Operation {
        id: "putTeam",
        method: "put",
        path: "/api/v1/config/teams/{code}",
        summary: "Create or replace a team; its department must exist and rules naming it must still agree",
        roles: "admin",
        body: Some("Team"),
        query: &[],
    },
    Operation {
        id: "listUsers",
        method: "get",
        path: "/api/v1/config/users",
        summary: "Staff, their roles, departments and teams, active or not",
        roles: "any signed-in role",
        body: None,
        query: &[],
    },
    Operation {
        id: "putUser",
        method: "put",
        path: "/api/v1/config/users/{username}",
        summary: "Create or replace a member of staff; `active: false` stops their tokens and keeps them out of assignment and escalation",
        roles: "admin",
        body: Some("User"),
        query: &[],
    },
    Operation {
        id: "createUserToken",
        method: "post",
        path: "/api/v1/config/users/{username}/tokens",
        summary: "Issue an API token for an active member of staff (expires_in_days: 1-3650, default 365); the token is in this response only",
        roles: "admin",
        body: Some("TokenRequest"),
        query: &[],
    },
    Operation {
        id: "listUserTokens",
        method: "get",
        path: "/api/v1/config/users/{username}/tokens",
        summary: "A member of staff's API tokens: id, label, issued, expires (never the tokens)",
        roles: "admin",
        body: None,
        query: &[],
    },
    Operation {
        id: "revokeUserToken",
        method: "delete",
        path: "/api/v1/config/users/{username}/tokens/{id}",
        summary: "Revoke one API token at once (a password change or deactivation revokes them all)",
        roles: "admin",
        body: None,
        query: &[],
    },
    Operation {
        id: "setUserPassword",
        method: "put",
        path: "/api/v1/config/users/{username}/password",
        summary: "Set the password a member of staff signs in to the workspace with (at least 10 characters, not the username); ends their sessions",
        roles: "admin",
        body: Some("Password"),
        query: &[],
    },
    Operation {
        id: "listServices",
        method: "get",
        path: "/api/v1/config/services",
        summary: "Every service, public and internal, with its questions",
        roles: "any signed-in role",
        body: None,
        query: &[],
    },
    Operation {
        id: "putService",
        method: "put",
        path: "/api/v1/config/services/{code}",
        summary: "Create or replace a service and its questions; SLA policies and rules naming it must still agree",
        roles: "admin",
        body: Some("Service"),
        query: &[],
    },
    Operation {
        id: "getRules",
        method: "get",
        path: "/api/v1/config/rules",
        summary: "Routing and priority rules in evaluation order",
        roles: "any signed-in role",
        body: None,
        query: &[],
    },
    Operation {
        id: "putRules",
        method: "put",
        path: "/api/v1/config/rules",
        summary: "Replace the ordered rule list (order decides which rule wins); checked first, effective at once",
        roles: "admin",
        body: Some("Rules"),
        query: &[("confirm", "string", "delete_all: needed to remove every rule")],
    },
    Operation {
        id: "getWorkflowConfig",
        method: "get",
        path: "/api/v1/config/workflow",
        summary: "Calendars, SLA policies, escalation chains, templates, webhooks and duplicate settings",
        roles: "any signed-in role",
        body: None,
        query: &[],
    },
    Operation {
        id: "putWorkflowConfig",
        method: "put",
        path: "/api/v1/config/workflow",
        summary: "Replace the workflow configuration; checked first, effective at once",
        roles: "admin",
        body: Some("WorkflowConfig"),
        query: &[("confirm", "string", "delete_all: needed to remove every calendar, SLA policy or escalation chain")],
    },
    Operation {
        id: "listOutbox",
        method: "get",
        path: "/api/v1/outbox",
        summary: "Notifications and their delivery state (pending, sent, dead letters); links that carry a token are withheld",
        roles: "supervisor, admin",
        body: None,
        query: &[
            ("state", "string", "pending, sent or dead"),
            ("channel", "string", "email, sms or webhook"),
            ("limit", "integer", "1-1000 (default 100)"),
        ],
    },
    Operation {
        id: "retryOutbox",
        method: "post",
        path: "/api/v1/outbox/{id}/retry",
        summary: "Queue a dead letter for delivery again",
        roles: "admin",
        body: None,
        query: &[],
    },
];

fn handler(id: &str) -> MethodRouter<AppState> {
    match id {
        "listRequests" => get(handlers::list_requests),
        "getRequest" => get(handlers::get_request),
        "listDuplicates" => get(handlers::list_duplicates),
        "actOnRequest" => post(handlers::act),
        "attachPhotos" => post(photos::attach),
        "getMedia" => get(photos::media),
        "listDepartments" => get(config::list_items::<Department>),
        "putDepartment" => put(config::put_item::<Department>),
        "listTeams" => get(config::list_items::<Team>),
        "putTeam" => put(config::put_item::<Team>),
        "listUsers" => get(config::list_items::<StaffUser>),
        "putUser" => put(config::put_item::<StaffUser>),
        "createUserToken" => post(config::create_user_token),
        "listUserTokens" => get(config::list_user_tokens),
        "revokeUserToken" => delete(config::revoke_user_token),
        "setUserPassword" => put(config::set_password),
        "listServices" => get(config::list_items::<Service>),
        "putService" => put(config::put_item::<Service>),
        "getRules" => get(config::get_rules),
        "putRules" => put(config::put_rules),
        "getWorkflowConfig" => get(config::get_workflow),
        "putWorkflowConfig" => put(config::put_workflow),
        "listOutbox" => get(handlers::list_outbox),
        "retryOutbox" => post(handlers::retry_outbox),
        other => unreachable!("operation {other} has no handler"),
    }
}

/// The staff API router, built from [`OPERATIONS`].
pub fn router() -> axum::Router<AppState> {
    let mut r = axum::Router::new().route("/api/v1/openapi.json", get(|| async { Json(document()) }));
    for op in OPERATIONS {
        r = r.route(op.path, handler(op.id));
    }
    r
}

fn action_schema() -> Value {
    let s = |props: Value, required: &[&'static str]| (props, required.to_vec());
    let text = json!({ "type": "string" });
    let variants = [
        ("acknowledge", s(json!({ "note": text }), &[])),
        ("assign", s(json!({ "team": text, "assignee": text }), &[])),
        ("transfer", s(json!({ "department": text, "team": text, "reason": text }), &["department", "reason"])),
        ("involve", s(json!({ "department": text, "note": text }), &["department", "note"])),
        ("start", s(json!({ "note": text }), &[])),
        ("hold", s(json!({ "reason": text }), &["reason"])),
        ("wait_on_resident", s(json!({ "question": text }), &["question"])),
        ("resume", s(json!({ "note": text }), &[])),
        (
            "set_priority",
            s(json!({ "priority": { "enum": ["low", "normal", "high", "urgent"] }, "reason": text }), &["priority"]),
        ),
        ("note", s(json!({ "text": text, "public": { "type": "boolean" } }), &["text", "public"])),
        ("resolve", s(json!({ "note": text }), &["note"])),
        ("close", s(json!({ "note": text }), &[])),
        ("reopen", s(json!({ "reason": text }), &["reason"])),
        ("merge", s(json!({ "into": { "type": "string", "description": "the original's number" } }), &["into"])),
    ];
    let one_of: Vec<Value> = variants
        .into_iter()
        .map(|(name, (mut props, required))| {
            props["action"] = json!({ "const": name });
            if super::handlers::NOTED_ACTIONS.contains(&name) {
                props["internal_note"] = json!({
                    "type": "string",
                    "description": "a note for staff only, recorded with the action; the action's own text is public",
                });
            }
            let mut req = vec!["action"];
            req.extend(required);
            json!({ "type": "object", "properties": props, "required": req, "additionalProperties": false })
        })
        .collect();
    json!({ "oneOf": one_of })
}

fn text() -> Value {
    json!({ "type": "string" })
}

/// An object schema; configuration is read exactly, so no other property is allowed.
fn object(required: &[&str], properties: Value) -> Value {
    json!({ "type": "object", "required": required, "properties": properties, "additionalProperties": false })
}

/// The `{name}` segments of a path.
fn path_params(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
}

/// The OpenAPI 3.1 description of the staff API.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for op in OPERATIONS {
        let mut params: Vec<Value> = op
            .query
            .iter()
            .map(|(n, t, d)| json!({ "name": n, "in": "query", "required": false, "description": d, "schema": { "type": t } }))
            .collect();
        for name in path_params(op.path) {
            params.push(json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }));
        }
        let mut o = json!({
            "operationId": op.id,
            "summary": op.summary,
            "description": format!("Allowed: {}.", op.roles),
            "security": [{ "bearer": [] }],
            "parameters": params,
            "responses": {
                "200": { "description": "OK", "content": { "application/json": { "schema": { "type": "object" } } } },
                "400": { "$ref": "#/components/responses/Error" },
                "401": { "$ref": "#/components/responses/Error" },
                "403": { "$ref": "#/components/responses/Error" },
                "404": { "$ref": "#/components/responses/Error" },
                "409": { "$ref": "#/components/responses/Error" },
            },
        });
        if let Some(b) = op.body {
            let media = if b == "Photos" { "multipart/form-data" } else { "application/json" };
            o["requestBody"] = json!({
                "required": true,
                "content": { media: { "schema": { "$ref": format!("#/components/schemas/{b}") } } },
            });
        }
        let entry = paths.entry(op.path.to_owned()).or_insert_with(|| json!({}));
        entry[op.method] = o;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "civic311 staff API",
            "version": "1",
            "description": "Requests, workflow actions and configuration for city staff. Authenticate with a per-user API token: `Authorization: Bearer <token>`. Errors are `{\"errors\":[{\"field\",\"detail\"}]}`.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "responses": {
                "Error": {
                    "description": "The request was refused; nothing was changed.",
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Errors" } } },
                },
            },
            "schemas": {
                "Action": action_schema(),
                "Department": object(&["code", "name"], json!({ "code": text(), "name": text(), "email": text() })),
                "Team": object(&["code", "department", "name"], json!({ "code": text(), "department": text(), "name": text() })),
                "User": object(
                    &["username", "display_name", "email", "department", "role"],
                    json!({
                        "username": text(), "display_name": text(), "email": text(), "department": text(),
                        "team": { "type": ["string", "null"] },
                        "role": { "enum": ["intake", "staff", "field", "supervisor", "admin", "analyst"] },
                        "also_departments": { "type": "array", "items": text() },
                        "active": { "type": "boolean", "default": true },
                    }),
                ),
                "TokenRequest": object(
                    &["label"],
                    json!({ "label": text(), "expires_in_days": { "type": "integer", "minimum": 1, "maximum": 3650 } }),
                ),
                "Password": object(&["password"], json!({ "password": { "type": "string", "minLength": 10 } })),
                "Photos": object(
                    &["photo", "public"],
                    json!({
                        "photo": { "type": "array", "items": { "type": "string", "contentMediaType": "image/*" } },
                        "public": { "enum": ["true", "false"] },
                        "note": text(),
                    }),
                ),
                "Service": object(
                    &["code", "name", "description", "group", "department"],
                    json!({
                        "code": text(), "name": text(), "description": text(), "group": text(), "department": text(),
                        "keywords": { "type": "array", "items": text() },
                        "type": { "enum": ["realtime", "batch", "blackbox"] },
                        "visibility": { "enum": ["public", "internal"] },
                        "default_priority": { "enum": ["low", "normal", "high", "urgent"] },
                        "service_notice": text(),
                        "attributes": { "type": "array", "items": { "type": "object" } },
                    }),
                ),
                "Rules": object(&["rule"], json!({ "rule": { "type": "array", "items": { "type": "object" } } })),
                "WorkflowConfig": {
                    "type": "object",
                    "properties": {
                        "calendar": { "type": "array", "items": { "type": "object" } },
                        "sla": { "type": "array", "items": { "type": "object" } },
                        "escalation": { "type": "array", "items": { "type": "object" } },
                        "template": { "type": "array", "items": { "type": "object" } },
                        "webhook": { "type": "array", "items": { "type": "object" } },
                        "duplicates": { "type": "object" },
                    },
                    "additionalProperties": false,
                },
                "Errors": {
                    "type": "object",
                    "required": ["errors"],
                    "properties": {
                        "errors": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": { "field": { "type": "string" }, "detail": { "type": "string" } },
                            },
                        },
                    },
                },
            },
        },
    })
}
