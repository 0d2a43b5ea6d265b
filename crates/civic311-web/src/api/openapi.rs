//! The one table of staff API operations, from which both the router and the OpenAPI
//! 3.1 document are built.

use axum::Json;
use axum::routing::{MethodRouter, delete, get, post, put};
use serde_json::{Value, json};

use civic311_domain::org::{Department, StaffUser, Team};
use civic311_domain::request::{Priority, Status};
use civic311_domain::service::Service;
use civic311_store::OutboxState;

use super::{config, handlers, photos, reports};
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
    /// Query parameters: name, what it takes, description.
    pub query: &'static [(&'static str, Param, &'static str)],
}

/// What a query parameter takes, as the handler checks it. Empty means absent.
#[derive(Debug, Clone, Copy)]
pub enum Param {
    /// Any text.
    Text,
    /// `true` or `false`.
    Bool,
    /// A whole number in a range.
    Int(i64, i64),
    /// An RFC 3339 time.
    Time,
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// One of the words a type names (its `ALL`, written as the API writes it).
    OneOfType(fn() -> Vec<&'static str>),
    /// Comma-separated words, each one a type names.
    ListOfType(fn() -> Vec<&'static str>),
    /// Text matching a regular expression.
    Pattern(&'static str),
    /// A calendar date (`2026-11-01`) that must be given.
    RequiredDate,
}

impl Param {
    /// The JSON schema of the parameter.
    pub fn schema(self) -> Value {
        match self {
            Param::Text => json!({ "type": "string" }),
            Param::Bool => json!({ "type": "boolean" }),
            Param::Int(min, max) => json!({ "type": "integer", "minimum": min, "maximum": max }),
            Param::Time => json!({ "type": "string", "format": "date-time" }),
            Param::OneOf(words) => json!({ "type": "string", "enum": words }),
            Param::OneOfType(words) => json!({ "type": "string", "enum": words() }),
            Param::ListOfType(words) => list_pattern(&words()),
            Param::Pattern(p) => json!({ "type": "string", "pattern": p }),
            Param::RequiredDate => json!({ "type": "string", "format": "date" }),
        }
    }
}

/// Comma-separated words, each one of `words`.
fn list_pattern(words: &[&str]) -> Value {
    let one = words.join("|");
    json!({ "type": "string", "pattern": format!("^({one})(,({one}))*$") })
}

/// Every status a request can be in, as the API writes it.
fn statuses() -> Vec<&'static str> {
    Status::ALL.map(Status::as_str).to_vec()
}

/// Every state of a message in the outbox.
fn outbox_states() -> Vec<&'static str> {
    OutboxState::ALL.map(OutboxState::as_str).to_vec()
}

/// Every channel, as the API writes it.
fn channels() -> Vec<&'static str> {
    civic311_domain::request::Channel::ALL.map(civic311_domain::request::Channel::as_str).to_vec()
}

/// Every priority, as the API writes it.
fn priorities() -> Vec<&'static str> {
    Priority::ALL.map(Priority::as_str).to_vec()
}

/// The orders a listing can be sorted in.
pub const SORTS: &[&str] = &["newest", "oldest", "updated", "due", "priority"];
/// A `next_cursor`: the order, the sort key and the request's id.
pub const CURSOR: &str = "^(newest|oldest|updated|due|priority)\\.-?[0-9]{1,18}\\.[0-9]{1,18}$";
/// What a report is grouped by: one or two dimensions.
pub const GROUP_BY: &str = "^(service_code|group|department|team|channel|priority|day|week|month|layer:[^,:]+)\
                            (,(service_code|group|department|team|channel|priority|day|week|month|layer:[^,:]+))?$";
/// Areas as `layer:feature`, comma-separated.
pub const AREAS: &str = "^[^,:]+:[^,:]+(,[^,:]+:[^,:]+)*$";

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
            ("department", Param::Text, "comma-separated department codes"),
            ("team", Param::Text, "comma-separated team codes"),
            ("assignee", Param::Text, "comma-separated usernames"),
            ("status", Param::ListOfType(statuses), "comma-separated statuses"),
            ("priority", Param::ListOfType(priorities), "comma-separated priorities"),
            ("service_code", Param::Text, "comma-separated service codes"),
            ("overdue", Param::Bool, "only open requests past their resolution due time"),
            (
                "area",
                Param::Pattern(AREAS),
                "comma-separated boundary features as layer:feature (wards:W3); any feature of a layer, every layer; \
                 a feature the city does not have is a 404",
            ),
            ("q", Param::Text, "words that must all appear in the description"),
            ("created_after", Param::Time, "RFC 3339 time"),
            ("created_before", Param::Time, "RFC 3339 time"),
            ("updated_after", Param::Time, "RFC 3339 time"),
            ("updated_before", Param::Time, "RFC 3339 time"),
            (
                "sort",
                Param::OneOf(SORTS),
                "newest (default), oldest, updated, due (soonest first) or priority (urgent first, then oldest)",
            ),
            ("limit", Param::Int(1, 500), "page size, 1-500 (default 50)"),
            (
                "cursor",
                Param::Pattern(CURSOR),
                "next_cursor of the previous page; it continues the listing in its own order (a different sort is a 409)",
            ),
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
        query: &[("confirm", Param::OneOf(&["delete_all"]), "needed to remove every routing rule")],
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
        query: &[(
            "confirm",
            Param::OneOf(&["delete_all"]),
            "needed to remove every calendar, SLA policy or escalation chain",
        )],
    },
    Operation {
        id: "listOutbox",
        method: "get",
        path: "/api/v1/outbox",
        summary: "Notifications and their delivery state (pending, sent, dead letters); links that carry a token are withheld",
        roles: "supervisor, admin",
        body: None,
        query: &[
            ("state", Param::OneOfType(outbox_states), "pending, sent or dead"),
            ("channel", Param::OneOf(&["email", "sms", "webhook"]), "email, sms or webhook"),
            ("limit", Param::Int(1, 1000), "1-1000 (default 100)"),
        ],
    },
    Operation {
        id: "reportRequests",
        method: "get",
        path: "/api/v1/reports/requests",
        summary: "Requests opened, closed and open over a period, time to close and SLA compliance, grouped and filtered (docs/REPORTS.md)",
        roles: "analyst (every department), supervisor (their departments), admin",
        body: None,
        query: &[
            ("from", Param::RequiredDate, "first day, in the city's time zone"),
            ("to", Param::RequiredDate, "last day, inclusive; at most 3660 days after from"),
            (
                "group_by",
                Param::Pattern(GROUP_BY),
                "up to two of service_code, group, department, team, channel, priority, layer:NAME (a boundary \
                 layer of the city), day, week, month; at most one of day, week and month",
            ),
            ("service_code", Param::Text, "comma-separated service codes"),
            ("group", Param::Text, "comma-separated service groups"),
            ("department", Param::Text, "comma-separated department codes"),
            ("team", Param::Text, "comma-separated team codes"),
            ("channel", Param::ListOfType(channels), "comma-separated channels"),
            ("priority", Param::ListOfType(priorities), "comma-separated priorities"),
            ("area", Param::Pattern(AREAS), "comma-separated boundary features as layer:feature (wards:3)"),
            ("format", Param::OneOf(&["json", "csv"]), "json (default) or csv"),
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
        "reportRequests" => get(reports::requests),
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
    let (must, may) = (written(true), written(false));
    let variants = [
        ("acknowledge", s(json!({ "note": may }), &[])),
        ("assign", s(json!({ "team": text(), "assignee": text() }), &[])),
        ("transfer", s(json!({ "department": code(), "team": text(), "reason": must }), &["department", "reason"])),
        ("involve", s(json!({ "department": code(), "note": must }), &["department", "note"])),
        ("start", s(json!({ "note": may }), &[])),
        ("hold", s(json!({ "reason": must }), &["reason"])),
        ("wait_on_resident", s(json!({ "question": must }), &["question"])),
        ("resume", s(json!({ "note": may }), &[])),
        ("set_priority", s(json!({ "priority": { "enum": priorities() }, "reason": may }), &["priority"])),
        ("note", s(json!({ "text": must, "public": { "type": "boolean" } }), &["text", "public"])),
        ("resolve", s(json!({ "note": must }), &["note"])),
        ("close", s(json!({ "note": may }), &[])),
        ("reopen", s(json!({ "reason": must }), &["reason"])),
        ("merge", s(json!({ "into": { "type": "string", "description": "the original's number" } }), &["into"])),
    ];
    let one_of: Vec<Value> = variants
        .into_iter()
        .map(|(name, (mut props, required))| {
            props["action"] = json!({ "const": name });
            if super::handlers::NOTED_ACTIONS.contains(&name) {
                props["internal_note"] = written(false);
                props["internal_note"]["description"] =
                    json!("a note for staff only, recorded with the action; the action's own text is public");
            }
            let mut req = vec!["action"];
            req.extend(required);
            let mut variant =
                json!({ "type": "object", "properties": props, "required": req, "additionalProperties": false });
            if name == "assign" {
                variant["anyOf"] = json!([{ "required": ["team"] }, { "required": ["assignee"] }]);
            }
            variant
        })
        .collect();
    json!({ "oneOf": one_of })
}

fn text() -> Value {
    json!({ "type": "string" })
}

/// Text a person writes with an action: at most 4000 characters, none that a document
/// cannot carry (controls other than tab and line breaks, U+FFFE, U+FFFF); when
/// `required`, more than spaces.
fn written(required: bool) -> Value {
    let chars = json!({ "pattern": "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\uFFFE\\uFFFF]*$" });
    let mut all = vec![chars];
    if required {
        all.push(json!({ "pattern": "\\S" }));
    }
    json!({ "type": "string", "maxLength": 4000, "allOf": all })
}

/// A name that must say something: not empty, not only spaces.
fn named() -> Value {
    json!({ "type": "string", "pattern": "\\S" })
}

/// A code naming a department, team or service.
fn code() -> Value {
    json!({ "type": "string", "minLength": 1 })
}

/// An email address as the server checks it (see `looks_like_email`).
fn email() -> Value {
    json!({ "type": "string", "pattern": EMAIL, "maxLength": 254 })
}

/// An email address, or nothing.
fn email_or_empty() -> Value {
    json!({ "anyOf": [{ "const": "" }, email()] })
}

/// One `local@domain.tld` shape: no spaces, quotes, brackets or a second `@`.
const EMAIL: &str = "^[^\\s\"<>(),;:\\[\\]\\\\@.][^\\s\"<>(),;:\\[\\]\\\\@]{0,62}@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$";

fn list_of(items: Value) -> Value {
    json!({ "type": "array", "items": items })
}

/// Text by a key: translated questions and answers.
fn words_by_key() -> Value {
    json!({ "type": "object", "additionalProperties": text() })
}

/// A service's question.
fn attribute_schema() -> Value {
    object(
        &["code", "datatype", "order", "description"],
        json!({
            "code": code(),
            "variable": { "type": "boolean", "default": true },
            "datatype": { "enum": ["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"] },
            "required": { "type": "boolean" },
            "datatype_description": text(),
            "order": { "type": "integer", "minimum": 0, "maximum": 4_294_967_295_u64 },
            "description": text(),
            "values": list_of(object(&["key", "name"], json!({ "key": text(), "name": text() }))),
        }),
    )
}

/// A routing and priority rule.
fn rule_schema() -> Value {
    let codes = list_of(text());
    let by_key = json!({ "type": "object", "additionalProperties": list_of(text()) });
    let channels = ["web", "mobile", "phone", "sms", "email", "walk_in", "internal"];
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    object(
        &["name", "then"],
        json!({
            "name": text(),
            "when": object(&[], json!({
                "services": codes, "groups": codes, "within": by_key, "keywords": codes,
                "channels": list_of(json!({ "enum": channels })),
                "attributes": by_key,
                "days": list_of(json!({ "enum": days })),
                "time": object(&["from", "to"], json!({ "from": text(), "to": text() })),
            })),
            "then": object(&[], json!({
                "department": text(), "team": text(), "assignee": text(),
                "priority": { "enum": priorities() }, "tags": codes,
            })),
            "stop": { "type": "boolean" },
        }),
    )
}

/// The workflow document: calendars, SLA policies, escalation chains, message
/// templates, webhooks and the duplicate search.
fn workflow_schema() -> Value {
    let codes = list_of(text());
    let audiences = list_of(json!({ "enum": ["assignee", "supervisor", "department"] }));
    let holiday = object(
        &["name"],
        json!({
            "name": text(),
            "date": { "type": "string", "format": "date" },
            "annual": text(),
            "nth_weekday": object(
                &["month", "weekday", "n"],
                json!({
                    "month": { "type": "integer", "minimum": -128, "maximum": 127 },
                    "weekday": text(),
                    "n": { "type": "integer", "minimum": -128, "maximum": 127 },
                }),
            ),
            "observed": { "type": "boolean" },
        }),
    );
    let calendar = object(
        &["name", "time_zone"],
        json!({
            "name": text(), "time_zone": text(), "always_open": { "type": "boolean" },
            "hours": { "type": "object", "additionalProperties": codes }, "holiday": list_of(holiday),
        }),
    );
    let sla = object(
        &["name", "calendar", "response", "resolution"],
        json!({
            "name": text(), "services": codes, "groups": codes, "departments": codes,
            "priorities": list_of(json!({ "enum": priorities() })),
            "calendar": text(), "response": text(), "resolution": text(),
        }),
    );
    let level = object(
        &["at"],
        json!({
            "at": text(), "notify": audiences, "mark_escalated": { "type": "boolean" },
            "reassign_team": text(), "notify_resident": { "type": "boolean" },
        }),
    );
    let chain = object(
        &["name"],
        json!({
            "name": text(), "departments": codes, "services": codes, "remind_after": text(),
            "response_overdue": audiences, "level": list_of(level),
        }),
    );
    let template = object(
        &["kind", "language", "subject", "body"],
        json!({ "kind": text(), "language": text(), "subject": text(), "body": text() }),
    );
    let webhook = object(&["name", "url"], json!({ "name": text(), "url": text(), "secret": text(), "events": codes }));
    let whole = |min: i64| json!({ "type": "integer", "minimum": min, "maximum": 100_000 });
    let duplicates = object(
        &[],
        json!({
            "radius_m": { "type": "number", "minimum": 0, "maximum": 100_000 },
            "window_days": whole(0), "recently_closed_days": whole(0),
            "same_group": { "type": "boolean" }, "limit": whole(0),
        }),
    );
    object(
        &[],
        json!({
            "calendar": list_of(calendar), "sla": list_of(sla), "escalation": list_of(chain),
            "template": list_of(template), "webhook": list_of(webhook), "duplicates": duplicates,
        }),
    )
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
            // An empty value is the same as leaving the parameter out.
            .map(|(n, p, d)| {
                let required = matches!(p, Param::RequiredDate);
                json!({
                    "name": n, "in": "query", "required": required, "allowEmptyValue": !required,
                    "description": d, "schema": p.schema(),
                })
            })
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
                "413": { "$ref": "#/components/responses/Error" },
                "503": { "$ref": "#/components/responses/Error" },
            },
        });
        // An operation with a `format` answers CSV as well.
        if op.query.iter().any(|(n, ..)| *n == "format") {
            o["responses"]["200"]["content"]["text/csv"] = json!({ "schema": { "type": "string" } });
        }
        if op.method != "get" {
            o["responses"]["201"] = json!({ "description": "Created", "content": { "application/json": { "schema": { "type": "object" } } } });
        }
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
                // An item's key (code, username) is the last segment of its URL.
                "Department": object(
                    &["name"],
                    json!({
                        "name": named(), "email": email_or_empty(), "intake_team": { "type": ["string", "null"] },
                        // By language code: what residents reading it see (the public dashboard).
                        "translations": {
                            "type": "object",
                            "additionalProperties": object(&[], json!({ "name": { "type": "string" } })),
                        },
                    }),
                ),
                "Team": object(&["department", "name"], json!({ "department": code(), "name": named() })),
                "User": object(
                    &["display_name", "email", "department", "role"],
                    json!({
                        "display_name": named(), "email": email(), "department": code(),
                        "team": { "type": ["string", "null"] },
                        "role": { "enum": ["intake", "staff", "field", "supervisor", "admin", "analyst"] },
                        "also_departments": { "type": "array", "items": code() },
                        "active": { "type": "boolean", "default": true },
                    }),
                ),
                "TokenRequest": object(
                    &["label"],
                    json!({
                        "label": { "type": "string", "pattern": "\\S", "maxLength": 100 },
                        "expires_in_days": { "type": ["integer", "null"], "minimum": 1, "maximum": 3650 },
                    }),
                ),
                "Password": object(&["password"], json!({ "password": { "type": "string", "minLength": 10, "maxLength": 200 } })),
                "Photos": object(
                    &["photo", "public"],
                    json!({
                        "photo": {
                            "type": "array", "minItems": 1, "maxItems": civic311_domain::workflow::MAX_PHOTOS,
                            "items": { "type": "string", "contentMediaType": "image/*" },
                        },
                        "public": { "enum": ["true", "false"] },
                        "note": text(),
                    }),
                ),
                "Service": object(
                    &["name", "description", "group", "department"],
                    json!({
                        "name": named(), "description": text(), "group": text(), "department": code(),
                        "keywords": list_of(text()),
                        "type": { "enum": ["realtime", "batch", "blackbox"] },
                        "visibility": { "enum": ["public", "internal"] },
                        "default_priority": { "enum": priorities() },
                        "service_notice": text(),
                        "attributes": list_of(attribute_schema()),
                        "translations": { "type": "object", "additionalProperties": object(&[], json!({
                            "name": text(), "description": text(), "group": text(), "service_notice": text(),
                            "keywords": list_of(text()),
                            "questions": words_by_key(), "answers": words_by_key(),
                        })) },
                    }),
                ),
                "Rules": object(&["rule"], json!({ "rule": list_of(rule_schema()) })),
                "WorkflowConfig": workflow_schema(),
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
