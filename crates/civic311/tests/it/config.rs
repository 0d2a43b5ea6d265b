//! An administrator sets up a new department through the staff API — department, team,
//! service, routing rule, a member of staff with a token — and each change is in effect
//! for the next request; a change that would leave the city inconsistent is refused and
//! changes nothing; a member of staff who leaves stops being able to call the API; two
//! nodes changing configuration at once on one PostgreSQL cannot both win.

#![allow(clippy::unwrap_used)]

use civic311_testkit::fixture::{API_KEY, IN_W1};
use civic311_testkit::{Backend, both_backends};
use common::{api, setup};
use serde_json::{Value, json};

use crate::common;

both_backends!(
    an_administrator_sets_up_a_department_through_the_api,
    inconsistent_configuration_is_refused,
    a_change_made_through_one_node_reaches_the_others,
    the_staff_api_answers_every_refusal_in_its_json_format
);

async fn put(app: &civic311_testkit::TestApp, uri: &str, user: &str, body: Value) -> (u16, Value) {
    let r = api(app, "PUT", uri, Some(user), Some(body)).await;
    (r.status.as_u16(), r.json())
}

async fn an_administrator_sets_up_a_department_through_the_api(backend: Backend) {
    let app = setup(backend).await;
    let (status, _) = put(&app, "/api/v1/config/departments/PARKS", "ada", json!({ "name": "Parks" })).await;
    assert_eq!(status, 201);
    let (status, body) =
        put(&app, "/api/v1/config/departments/PARKS", "ada", json!({ "name": "Parks & Forestry" })).await;
    assert_eq!((status, body["name"].as_str()), (200, Some("Parks & Forestry")), "a second PUT replaces");
    let named = json!({ "name": "Parks & Forestry", "translations": { "es": { "name": "Parques" } } });
    let (status, body) = put(&app, "/api/v1/config/departments/PARKS", "ada", named).await;
    assert_eq!((status, body["translations"]["es"]["name"].as_str()), (200, Some("Parques")), "{body}");
    let typo = json!({ "name": "Parks & Forestry", "translations": { "es": { "nombre": "Parques" } } });
    let (status, body) = put(&app, "/api/v1/config/departments/PARKS", "ada", typo).await;
    assert_eq!(status, 400, "a translation's unknown field is refused, not dropped: {body}");
    let team = json!({ "department": "PARKS", "name": "Forestry crew" });
    assert_eq!(put(&app, "/api/v1/config/teams/PARKS-TREES", "ada", team).await.0, 201);
    let tree = json!({
        "name": "Downed Tree",
        "description": "A fallen tree or large branch",
        "group": "Parks",
        "department": "PARKS",
        "keywords": ["tree", "branch"],
    });
    assert_eq!(put(&app, "/api/v1/config/services/TREE", "ada", tree).await.0, 201);

    // Rules are an ordered list: read, append, write back.
    let mut rules = api(&app, "GET", "/api/v1/config/rules", Some("ali"), None).await.json();
    rules["rule"].as_array_mut().unwrap().push(json!({
        "name": "trees on cars are urgent",
        "when": { "services": ["TREE"], "keywords": ["car"] },
        "then": { "team": "PARKS-TREES", "priority": "urgent" },
    }));
    let (status, _) = put(&app, "/api/v1/config/rules", "ada", rules).await;
    assert_eq!(status, 200);

    // In effect for the next request: residents see the service, and it routes by the rule.
    let services = app.get("/open311/v2/services.json").await.json();
    assert!(services.as_array().unwrap().iter().any(|s| s["service_code"] == "TREE"), "{services}");
    let (lat, long) = (IN_W1.0.to_string(), IN_W1.1.to_string());
    let fields = [
        ("api_key", API_KEY),
        ("service_code", "TREE"),
        ("lat", lat.as_str()),
        ("long", long.as_str()),
        ("description", "A tree fell on my car"),
    ];
    let filed = app.post_form("/open311/v2/requests.json", &fields).await;
    assert_eq!(filed.status, 201, "{}", filed.body);
    let id = filed.json()[0]["service_request_id"].as_str().unwrap().to_owned();
    let staff_view = api(&app, "GET", &format!("/api/v1/requests/{id}"), Some("ada"), None).await.json();
    assert_eq!(staff_view["department"], "PARKS");
    assert_eq!(staff_view["team"], "PARKS-TREES");
    assert_eq!(staff_view["priority"], "urgent");

    // A new member of staff gets a token and works the department's requests.
    let jo = json!({
        "display_name": "Jo Rivera",
        "email": "jo@testville.example",
        "department": "PARKS",
        "team": "PARKS-TREES",
        "role": "staff",
    });
    assert_eq!(put(&app, "/api/v1/config/users/jo", "ada", jo.clone()).await.0, 201);
    let issued =
        api(&app, "POST", "/api/v1/config/users/jo/tokens", Some("ada"), Some(json!({ "label": "tablet" }))).await;
    assert_eq!(issued.status, 201, "{}", issued.body);
    let token = issued.json()["token"].as_str().unwrap().to_owned();
    let as_jo = |method: &str, uri: &str, body: Option<Value>| {
        let req = axum::http::Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json");
        app.call(req.body(axum::body::Body::from(body.map(|b| b.to_string()).unwrap_or_default())).unwrap())
    };
    let assign = json!({ "action": "assign", "assignee": "jo" });
    let r = as_jo("POST", &format!("/api/v1/requests/{id}/actions"), Some(assign.clone())).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["assignee"], "jo");

    // Jo leaves: the token stops working and no work can be given to Jo.
    let mut gone = jo;
    gone["active"] = json!(false);
    assert_eq!(put(&app, "/api/v1/config/users/jo", "ada", gone).await.0, 200);
    let r = as_jo("GET", "/api/v1/requests", None).await;
    assert_eq!(r.status, 401);
    assert!(r.body.contains("revoked"), "leaving revokes every token: {}", r.body);
    let r = api(&app, "POST", &format!("/api/v1/requests/{id}/actions"), Some("ada"), Some(assign)).await;
    assert_eq!(r.status, 409, "well formed, but not possible as things are");
    assert!(r.body.contains("no longer active"), "{}", r.body);
    let users = api(&app, "GET", "/api/v1/config/users", Some("ali"), None).await.json();
    let listed = users["users"].as_array().unwrap().iter().find(|u| u["username"] == "jo").cloned().unwrap();
    assert_eq!(listed["active"], false, "kept, so history still names Jo");

    // Every change is in the audit log with who made it; a password only as "set".
    let log = app.store.config_changes(50).await.unwrap();
    let kinds: Vec<(&str, &str)> = log.iter().rev().map(|c| (c.kind.as_str(), c.item.as_str())).collect();
    assert_eq!(
        kinds,
        [
            ("department", "PARKS"),
            ("department", "PARKS"),
            ("department", "PARKS"),
            ("team", "PARKS-TREES"),
            ("service", "TREE"),
            ("rules", ""),
            ("user", "jo"),
            ("token", "jo"),
            ("user", "jo"),
        ]
    );
    assert!(log.iter().all(|c| c.actor == "ada"));
    assert_eq!(log[0].body["active"], false, "the log keeps what it became");
}

async fn inconsistent_configuration_is_refused(backend: Backend) {
    let app = setup(backend).await;
    let teams_before = api(&app, "GET", "/api/v1/config/teams", Some("ada"), None).await.json();
    let rules_before = api(&app, "GET", "/api/v1/config/rules", Some("ada"), None).await.json();

    // Only administrators configure.
    let (status, body) = put(&app, "/api/v1/config/departments/X", "sam", json!({ "name": "X" })).await;
    assert_eq!(status, 403);
    assert!(body["errors"][0]["detail"].as_str().unwrap().contains("only administrators"));

    // References that do not resolve, each refused with the field at fault: well formed,
    // but not possible with the city as it is (409); a key that differs from the URL's
    // is malformed (400).
    let cases = [
        ("/api/v1/config/teams/T1", json!({ "department": "NOPE", "name": "t" }), "unknown department 'NOPE'"),
        (
            "/api/v1/config/users/kim",
            json!({ "display_name": "Kim", "email": "k@x.example", "department": "SAN", "team": "PW-NORTH", "role": "staff" }),
            "team PW-NORTH belongs to PW, not SAN",
        ),
        (
            "/api/v1/config/services/NEW",
            json!({ "name": "n", "description": "", "group": "g", "department": "PW",
                    "attributes": [{ "code": "A", "datatype": "singlevaluelist", "description": "?", "order": 1, "values": [] }] }),
            "has no values",
        ),
        (
            "/api/v1/config/users/lee",
            json!({ "display_name": "Lee", "email": "lee at city", "department": "SAN", "role": "staff" }),
            "'lee at city' is not an email address",
        ),
        // Open requests name a team with its department: teams do not move.
        ("/api/v1/config/teams/SAN-BULK", json!({ "department": "PW", "name": "Bulk" }), "do not move"),
        ("/api/v1/config/teams/PW-NORTH", json!({ "code": "PW-SOUTH", "department": "PW", "name": "n" }), "renamed"),
    ];
    for (uri, body, says) in cases {
        let (status, got) = put(&app, uri, "ada", body).await;
        assert_eq!(status, if says == "renamed" { 400 } else { 409 }, "{uri}: {got}");
        assert!(got["errors"][0]["detail"].as_str().unwrap().contains(says), "{uri}: {got}");
    }
    let rule_to_wrong_team = json!({ "rule": [{
        "name": "bad", "when": { "services": ["POTHOLE"] }, "then": { "department": "PW", "team": "SAN-BULK" },
    }] });
    let (status, got) = put(&app, "/api/v1/config/rules", "ada", rule_to_wrong_team).await;
    assert_eq!(status, 409, "{got}");
    assert!(got["errors"][0]["field"].as_str().unwrap().contains("rule 'bad'"), "{got}");

    // An administrator cannot lock themselves out.
    let me = json!({ "display_name": "Ada", "email": "a@x.example", "department": "TRIAGE", "role": "admin", "active": false });
    assert_eq!(put(&app, "/api/v1/config/users/ada", "ada", me).await.0, 409);

    // Nothing changed.
    assert_eq!(api(&app, "GET", "/api/v1/config/teams", Some("ada"), None).await.json(), teams_before);
    assert_eq!(api(&app, "GET", "/api/v1/config/rules", Some("ada"), None).await.json(), rules_before);
    let users = api(&app, "GET", "/api/v1/config/users", Some("ada"), None).await.json();
    assert!(users["users"].as_array().unwrap().iter().all(|u| u["username"] != "kim"));
    let r = api(&app, "GET", "/api/v1/requests", Some("ada"), None).await;
    assert_eq!(r.status, 200, "ada still works");
}

async fn a_change_made_through_one_node_reaches_the_others(backend: Backend) {
    let app = setup(backend).await;
    let other =
        civic311_app::App::load(app.second_node().await, app.state.clock.clone(), None, app.state.codecs.clone())
            .await
            .unwrap();
    // PostgreSQL announces the change (LISTEN/NOTIFY): the other node polls only once an
    // hour, so only the announcement can bring the change within this test. SQLite has
    // no announcements; its nodes poll.
    let poll = match backend {
        Backend::Postgres => std::time::Duration::from_secs(3600),
        Backend::Sqlite => std::time::Duration::from_millis(20),
    };
    tokio::spawn(other.clone().follow_config(poll));
    assert!(other.city().service("TREE").is_none());
    let tree = json!({ "name": "Downed Tree", "description": "", "group": "Parks", "department": "PW" });
    assert_eq!(put(&app, "/api/v1/config/services/TREE", "ada", tree).await.0, 201);
    // Liveness, not speed: the other node must pick the change up, however long it takes here.
    for _ in 0..500 {
        if other.city().service("TREE").is_some() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the other node never loaded the new service");
}

/// Two app nodes on one PostgreSQL rename the same department at the same moment: both
/// read and check the city as stored, then both try to write. Exactly one lands; the
/// other is told the configuration changed meanwhile (a 409 through the API) and writes
/// nothing, and the audit log holds the one change that is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_changing_configuration_at_once_cannot_both_win() {
    civic311_testkit::cleaning_up(two_nodes_race()).await;
}

async fn two_nodes_race() {
    use civic311_app::configure::{By, CHANGED_MEANWHILE, put_item};
    use civic311_app::{App, AppError};

    let app = setup(Backend::Postgres).await;
    let one = app.state.app.clone();
    let two =
        App::load(app.second_node().await, app.state.clock.clone(), None, app.state.codecs.clone()).await.unwrap();
    let ada = app.store.users().await.unwrap().into_iter().find(|u| u.username == "ada").unwrap();
    let base = app.store.departments().await.unwrap().remove(0);
    let renamed = |name: &str| civic311_domain::org::Department { name: name.into(), ..base.clone() };
    let audited = app.store.config_changes(100).await.unwrap().len();

    let mut hold = civic311_testkit::hold::ConfigHold::take(&app.database_url).await;
    let rename = |node: App, name: &'static str| {
        let (ada, department) = (ada.clone(), renamed(name));
        tokio::spawn(async move { put_item(&node, By::Staff(&ada), department).await })
    };
    let (first, second) = (rename(one, "Public Works North"), rename(two.clone(), "Public Works South"));
    hold.wait_for_waiters(2).await;
    hold.release().await;
    let (first, second) = (first.await.unwrap(), second.await.unwrap());

    let (winner, loser) = match (&first, &second) {
        (Ok(_), Err(e)) => ("Public Works North", e),
        (Err(e), Ok(_)) => ("Public Works South", e),
        _ => panic!("exactly one change must win: {first:?} {second:?}"),
    };
    assert_eq!(loser, &AppError::conflict("", CHANGED_MEANWHILE));
    let answered = civic311_web::api::ApiError::from(loser.clone());
    assert_eq!(answered.status, 409, "the staff API says so with a 409");

    let stored = app.store.departments().await.unwrap();
    assert_eq!(stored.iter().find(|d| d.code == base.code).unwrap().name, winner);
    let log = app.store.config_changes(100).await.unwrap();
    assert_eq!(log.len(), audited + 1, "only the change that was stored is audited");
    assert_eq!((log[0].kind.as_str(), log[0].body["name"].as_str()), ("department", Some(winner)));
    // The node that lost can make its change again, now against the city as it is.
    assert_eq!(put_item(&two, By::Staff(&ada), renamed("Public Works")).await, Ok(false));
}

/// Methods a path does not take, paths that name nothing and unreadable path segments
/// are all answered as the staff API answers everything: `{"errors":[…]}`.
async fn the_staff_api_answers_every_refusal_in_its_json_format(backend: Backend) {
    let app = setup(backend).await;
    let r = api(&app, "DELETE", "/api/v1/config/rules", Some("ada"), None).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.headers["allow"], "GET,HEAD,PUT");
    assert_eq!(r.json()["errors"][0]["field"], "method", "{}", r.body);
    let r = api(&app, "GET", "/api/v1/nothing-here", Some("ada"), None).await;
    assert_eq!(r.status, 404);
    assert!(r.json()["errors"][0]["detail"].as_str().unwrap().contains("openapi.json"), "{}", r.body);
    let r = api(&app, "POST", "/api/v1/outbox/not-a-number/retry", Some("ada"), None).await;
    assert_eq!((r.status.as_u16(), r.content_type()), (404, "application/json"), "{}", r.body);
    let r = api(&app, "PUT", "/api/v1/config/rules?confirm=yes", Some("ada"), Some(json!({ "rule": [] }))).await;
    assert_eq!(r.status, 400, "only delete_all confirms: {}", r.body);
    assert_eq!(r.json()["errors"][0]["field"], "confirm");
    // A whole number is whole however JSON writes it.
    let token = json!({ "label": "GIS sync", "expires_in_days": 30.0 });
    assert_eq!(api(&app, "POST", "/api/v1/config/users/pat/tokens", Some("ada"), Some(token)).await.status, 201);
}
