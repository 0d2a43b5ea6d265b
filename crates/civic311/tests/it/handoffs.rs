//! Handoffs that notify and leave a trace: a transfer lands on the receiving
//! department's intake team and its supervisor is mailed a link to the staff page; the
//! person given work is told; assigning outside the owning team asks first; field
//! staff transfer only where the city allows it; a call taker's request records who
//! logged it.

#![allow(clippy::unwrap_used)]

use civic311_app::Notifiers;
use civic311_domain::org::{Role, Team};
use civic311_domain::workflow::WorkflowConfig;
use civic311_jobs::Dispatcher;
use civic311_testkit::fixture::{API_KEY, IN_W1};
use civic311_testkit::smtp::SmtpServer;
use civic311_testkit::{Backend, TestApp, both_backends, photos};
use common::{Browser, PASSWORD, WORKFLOW, add_staff, api, file_pothole, hidden, set_password, setup};
use serde_json::json;

use crate::common;

both_backends!(
    a_transfer_lands_on_the_intake_team_and_mails_its_supervisor,
    assigning_outside_the_owning_team_asks_first_and_tells_the_person,
    field_staff_transfer_only_where_the_city_allows,
    resolving_in_one_step_is_refused_to_roles_that_may_not_resolve,
    a_duplicate_that_may_not_be_closed_leaves_everything_as_it_was,
    a_call_taker_is_recorded_on_the_request_they_logged
);

/// Delivers the outbox through a real SMTP server; the mail it received.
async fn deliver(app: &TestApp, mail: &SmtpServer) -> Vec<civic311_testkit::smtp::ReceivedMail> {
    let model = app.state.city().workflow.clone();
    let dispatcher =
        Dispatcher::new(Notifiers::new(Some(common::smtp(mail)), None), Some("http://civic311.test".into()));
    let report = dispatcher.run(&app.store, &model, app.now(), 100).await.unwrap();
    assert_eq!(report.dead + report.retried, 0);
    mail.received()
}

fn seq(id: &str) -> i64 {
    id.split_once('-').unwrap().1.parse().unwrap()
}

async fn a_transfer_lands_on_the_intake_team_and_mails_its_supervisor(backend: Backend) {
    let app = setup(backend).await;
    let san = json!({ "name": "Sanitation", "email": "san@testville.example", "intake_team": "SAN-BULK" });
    let r = api(&app, "PUT", "/api/v1/config/departments/SAN", Some("ada"), Some(san)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // An intake team of another department is refused, naming the valid ones.
    let wrong = json!({ "name": "Sanitation", "intake_team": "PW-NORTH" });
    let r = api(&app, "PUT", "/api/v1/config/departments/SAN", Some("ada"), Some(wrong)).await;
    assert!(r.status.is_client_error() && r.body.contains("SAN-BULK"), "{}", r.body);

    let id = file_pothole(&app).await;
    let mail = SmtpServer::start();
    deliver(&app, &mail).await;
    let before = mail.received().len();
    // A department that does not exist is refused, naming the ones that do.
    let nowhere = json!({ "action": "transfer", "department": "SANITATION", "reason": "x" });
    let r = api(&app, "POST", &format!("/api/v1/requests/{id}/actions"), Some("pat"), Some(nowhere)).await;
    assert!(r.body.contains("unknown department 'SANITATION'; one of PW, SAN, TRIAGE"), "{}", r.body);
    let transfer = json!({ "action": "transfer", "department": "SAN", "reason": "A sewer cave-in, not a pothole" });
    let r = api(&app, "POST", &format!("/api/v1/requests/{id}/actions"), Some("pat"), Some(transfer)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.json()["department"].as_str(), r.json()["team"].as_str()), (Some("SAN"), Some("SAN-BULK")));

    let inbox = deliver(&app, &mail).await;
    let new: Vec<_> = inbox[before..].iter().filter(|m| m.to.contains("sam@testville.example")).collect();
    assert_eq!(new.len(), 1, "Sanitation's supervisor is told once: {inbox:?}");
    let m = new[0];
    assert!(m.subject.contains(&format!("Transferred to Sanitation: request {id} (Pothole")), "{}", m.subject);
    assert!(
        m.body.contains("A sewer cave-in, not a pothole") && m.body.contains("on the SAN-BULK queue"),
        "{}",
        m.body
    );
    assert!(m.body.contains(&format!("http://civic311.test/staff/requests/{id}")), "the staff page: {}", m.body);
    assert!(!m.body.contains(&format!("/requests/{id}?lang")), "never the public page");
}

async fn assigning_outside_the_owning_team_asks_first_and_tells_the_person(backend: Backend) {
    let app = setup(backend).await;
    let south = Team { code: "PW-SOUTH".into(), department: "PW".into(), name: "Streets South".into() };
    app.store.put_team(&south).await.unwrap();
    add_staff(&app, "sol", "PW", Some("PW-SOUTH"), Role::Staff).await;
    set_password(&app, "pat", PASSWORD).await;
    let id = file_pothole(&app).await;
    let own = json!({ "action": "assign", "team": "PW-NORTH" });
    api(&app, "POST", &format!("/api/v1/requests/{id}/actions"), Some("pat"), Some(own)).await;

    let mut browser = Browser::default();
    browser.sign_in(&app, "pat", PASSWORD, "/staff").await;
    let page = browser.get(&app, &format!("/staff/requests/{id}")).await;
    let csrf = hidden(&page.body, "csrf");
    let uri = format!("/staff/requests/{id}/act");
    let fields = [("csrf", csrf.as_str()), ("action", "assign"), ("assignee", "sol")];
    let asked = browser.post(&app, &uri, &fields).await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert!(asked.body.contains("sol is on the Streets South team, not on PW-NORTH"), "{}", asked.body);
    let stored = app.store.request(seq(&id)).await.unwrap().unwrap();
    assert_eq!(stored.assignment.assignee, None, "nothing changes until it is confirmed");
    let confirmed = [("csrf", csrf.as_str()), ("action", "assign"), ("assignee", "sol"), ("confirm", "yes")];
    let done = browser.post(&app, &uri, &confirmed).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let stored = app.store.request(seq(&id)).await.unwrap().unwrap();
    assert_eq!(
        (stored.assignment.assignee.as_deref(), stored.assignment.team.as_deref()),
        (Some("sol"), Some("PW-SOUTH"))
    );
    // Sol is told; pat, taking work for themselves, is not.
    let mail = SmtpServer::start();
    let inbox = deliver(&app, &mail).await;
    let to_sol: Vec<_> = inbox.iter().filter(|m| m.to.contains("sol@testville.example")).collect();
    assert_eq!(to_sol.len(), 1, "{inbox:?}");
    assert!(to_sol[0].subject.starts_with(&format!("Assigned to you: request {id} (Pothole")), "{}", to_sol[0].subject);
    // Taking it oneself from the page ("Assign to me") is not asked about, even off the team.
    let take = [("csrf", csrf.as_str()), ("action", "assign"), ("assignee", "pat")];
    assert_eq!(browser.post(&app, &uri, &take).await.status, 303, "taken without a question");
    let inbox = deliver(&app, &mail).await;
    assert!(!inbox.iter().any(|m| m.to.contains("pat@testville.example")), "{inbox:?}");
}

async fn field_staff_transfer_only_where_the_city_allows(backend: Backend) {
    let app = setup(backend).await;
    add_staff(&app, "fay", "PW", Some("PW-NORTH"), Role::Field).await;
    let transfer = json!({ "action": "transfer", "department": "SAN", "reason": "Bulk trash, not a pothole" });
    let id = file_pothole(&app).await;
    let uri = format!("/api/v1/requests/{id}/actions");
    common::give_token(&app, "fay").await;
    let r = api(&app, "POST", &uri, Some("fay"), Some(transfer.clone())).await;
    assert_eq!(r.status, 403, "{}", r.body);
    // A city that lets field crews transfer says so in its workflow document.
    let mut config: WorkflowConfig = toml::from_str(WORKFLOW).unwrap();
    config.roles.may_transfer = vec![Role::Field];
    app.store.put_workflow_config(&config).await.unwrap();
    app.state.reload().await.unwrap();
    let r = api(&app, "POST", &uri, Some("fay"), Some(transfer)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["department"], "SAN");
    // Analysts can never be given transfers: the document is refused, naming the choices.
    let bad = format!("{WORKFLOW}\n[roles]\nmay_transfer = [\"analyst\"]\n");
    let parsed: WorkflowConfig = toml::from_str(&bad).unwrap();
    let city = app.state.city();
    let refused = civic311_domain::workflow::WorkflowModel::new(parsed, city.workflow.directory.clone()).unwrap_err();
    assert!(refused.to_string().contains("one of field, intake"), "{refused}");
}

async fn a_call_taker_is_recorded_on_the_request_they_logged(backend: Backend) {
    let app = setup(backend).await;
    add_staff(&app, "ian", "TRIAGE", None, Role::Intake).await;
    set_password(&app, "ian", PASSWORD).await;
    let mut browser = Browser::default();
    browser.sign_in(&app, "ian", PASSWORD, "/staff/intake").await;
    let form = browser.get(&app, "/staff/intake?service_code=GRAFFITI").await;
    let csrf = hidden(&form.body, "csrf");
    let fields = [
        ("csrf", csrf.as_str()),
        ("service_code", "GRAFFITI"),
        ("channel", "phone"),
        ("lat", "41.01"),
        ("long", "-88.01"),
        ("description", "Tags on the underpass"),
        ("first_name", "Ana"),
        ("phone", "+15550142"),
    ];
    let filed = browser.post(&app, "/staff/intake", &fields).await;
    assert_eq!(filed.status, 303, "{}", filed.body);
    let page = browser.get(&app, filed.headers["location"].to_str().unwrap()).await;
    assert!(page.body.contains("<dt>Logged by</dt><dd>ian</dd>"), "{}", page.body);
    assert!(page.body.contains("Logged by ian for the caller (phone)"), "{}", page.body);
    let id = page.body.split("<h1>").nth(1).unwrap().split(' ').next().unwrap().to_owned();
    let events = app.store.events(seq(&id)).await.unwrap();
    let created = events.iter().find(|e| e.kind == civic311_domain::request::EventKind::Created).unwrap();
    assert_eq!((created.actor.as_str(), created.data["logged_by"].as_str()), ("ian", Some("ian")));
}

async fn resolving_in_one_step_is_refused_to_roles_that_may_not_resolve(backend: Backend) {
    let app = setup(backend).await;
    add_staff(&app, "ian", "TRIAGE", None, Role::Intake).await;
    set_password(&app, "ian", PASSWORD).await;
    let id = file_pothole(&app).await;
    let mut browser = Browser::default();
    browser.sign_in(&app, "ian", PASSWORD, "/staff").await;
    let page = browser.get(&app, &format!("/staff/requests/{id}")).await;
    let csrf = hidden(&page.body, "csrf");
    let fields = [("csrf", csrf.as_str()), ("note", "Filled"), ("merge", id.as_str())];
    let mut req = civic311_testkit::app::multipart(&format!("/staff/requests/{id}/resolve"), &fields, &[]);
    req.headers_mut().insert("cookie", browser.header().parse().unwrap());
    let r = app.call(req).await;
    assert_eq!(r.status, 403, "a call taker does not resolve: {}", r.body);
    let stored = app.store.request(seq(&id)).await.unwrap().unwrap();
    assert_eq!(stored.status, civic311_domain::request::Status::Open, "nothing changed");
}

async fn a_duplicate_that_may_not_be_closed_leaves_everything_as_it_was(backend: Backend) {
    let app = setup(backend).await;
    set_password(&app, "pat", PASSWORD).await;
    let id = file_pothole(&app).await;
    // A Sanitation request: Public Works staff may not close it.
    let (lat, long) = (IN_W1.0.to_string(), IN_W1.1.to_string());
    let fields = [
        ("api_key", API_KEY),
        ("service_code", "BULK"),
        ("lat", lat.as_str()),
        ("long", long.as_str()),
        ("description", "Sofa on the curb"),
    ];
    let r = app.post_form("/open311/v2/requests.json", &fields).await;
    let other = r.json()[0]["service_request_id"].as_str().unwrap().to_owned();
    let mut browser = Browser::default();
    browser.sign_in(&app, "pat", PASSWORD, "/staff").await;
    let page = browser.get(&app, &format!("/staff/requests/{id}")).await;
    let csrf = hidden(&page.body, "csrf");
    let fields = [("csrf", csrf.as_str()), ("note", "Filled"), ("merge", other.as_str())];
    let photo = photos::jpeg(320, 240);
    let files = [("photo", "after.jpg", "image/jpeg", photo.as_slice())];
    let mut req = civic311_testkit::app::multipart(&format!("/staff/requests/{id}/resolve"), &fields, &files);
    req.headers_mut().insert("cookie", browser.header().parse().unwrap());
    let r = app.call(req).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains(&format!("{other} cannot be closed with it")), "{}", r.body);
    // Nothing written: not resolved, no photo, the other request still open.
    let stored = app.store.request(seq(&id)).await.unwrap().unwrap();
    assert_eq!(stored.status, civic311_domain::request::Status::Open);
    assert!(app.store.photos(seq(&id)).await.unwrap().is_empty(), "the after photo was not kept");
    let other = app.store.request(seq(&other)).await.unwrap().unwrap();
    assert_eq!(other.status, civic311_domain::request::Status::Open);
}
