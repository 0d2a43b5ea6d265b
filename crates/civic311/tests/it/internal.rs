//! Internal requests (facilities, IT): the staff form has no caller section, the
//! signed-in member of staff is the requester, and they are kept informed by email as a
//! resident would be, with links to the staff page (an internal request has no public
//! one). Analysts, who only read, cannot log one.

#![allow(clippy::unwrap_used)]

use civic311_app::Notifiers;
use civic311_domain::request::Channel;
use civic311_jobs::Dispatcher;
use civic311_testkit::smtp::SmtpServer;
use civic311_testkit::{Backend, TestApp, both_backends};
use common::{Browser, PASSWORD, act, hidden, set_password, setup};
use serde_json::json;

use crate::common;

both_backends!(a_member_of_staff_files_an_internal_request_and_is_kept_informed);

async fn deliver(app: &TestApp, mail: &SmtpServer) -> Vec<civic311_testkit::smtp::ReceivedMail> {
    let model = app.state.city().workflow.clone();
    let notifiers = Notifiers::new(Some(common::smtp(mail)), None);
    Dispatcher::new(notifiers, Some("http://civic311.test".into()))
        .run(&app.store, &model, app.now(), 100)
        .await
        .unwrap();
    mail.received()
}

async fn a_member_of_staff_files_an_internal_request_and_is_kept_informed(backend: Backend) {
    let app = setup(backend).await;
    set_password(&app, "pat", PASSWORD).await;
    set_password(&app, "ali", PASSWORD).await;
    let mut analyst = Browser::at("10.0.0.7");
    analyst.sign_in(&app, "ali", PASSWORD, "/staff").await;
    assert_eq!(analyst.get(&app, "/staff/intake?service_code=FACILITY").await.status, 403);

    let mut browser = Browser::default();
    browser.sign_in(&app, "pat", PASSWORD, "/staff").await;
    let form = browser.get(&app, "/staff/intake?service_code=FACILITY").await;
    assert_eq!(form.status, 200);
    assert!(!form.body.contains("<legend>Caller</legend>"), "no caller section: {}", form.body);
    assert!(form.body.contains("you are the requester") && form.body.contains("pat@testville.example"));
    let csrf = hidden(&form.body, "csrf");
    let fields = [
        ("csrf", csrf.as_str()),
        ("service_code", "FACILITY"),
        ("description", "The heating in the north depot is off"),
        ("lat", "41.01"),
        ("long", "-88.01"),
        // Whatever a caller section would have sent is not taken.
        ("email", "someone@example.test"),
    ];
    let filed = browser.post(&app, "/staff/intake", &fields).await;
    assert_eq!(filed.status, 303, "{}", filed.body);
    let number =
        filed.headers["location"].to_str().unwrap().split('/').nth(3).unwrap().split('?').next().unwrap().to_owned();
    let stored = app.store.request(number.split_once('-').unwrap().1.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.channel, Channel::Internal);
    assert_eq!(stored.contact.email.as_deref(), Some("pat@testville.example"));

    // Pat hears of it as a resident would, with the way to the staff page.
    let mail = SmtpServer::start();
    let inbox = deliver(&app, &mail).await;
    let got = inbox.iter().find(|m| m.to.contains("pat@testville.example")).expect("the acknowledgement");
    assert!(got.body.contains(&format!("http://civic311.test/staff/requests/{number}")), "{}", got.body);
    assert!(!inbox.iter().any(|m| m.to.contains("someone@example.test")));
    act(&app, &number, "ada", json!({ "action": "resolve", "note": "Boiler restarted" })).await;
    let inbox = deliver(&app, &mail).await;
    let resolved = inbox.iter().rfind(|m| m.to.contains("pat@testville.example")).unwrap();
    assert!(resolved.body.contains("Boiler restarted"), "{}", resolved.body);
}
