//! No floods: a member of staff who chose an hourly digest (in a real headless
//! Chromium) gets one mail for many events (an urgent request still at once), and
//! warnings that came due while the scheduler was not running reach each person as
//! one catch-up mail.

#![allow(clippy::unwrap_used)]

use civic311_app::Notifiers;
use civic311_domain::org::Role;
use civic311_jobs::Dispatcher;
use civic311_testkit::fixture::IN_W1;
use civic311_testkit::smtp::{ReceivedMail, SmtpServer};
use civic311_testkit::{Backend, TestApp, both_backends};
use common::{Browser, PASSWORD, act, add_staff, file_pothole, post_pothole, set_password, setup};
use jiff::Timestamp;
use serde_json::json;

use crate::common;

both_backends!(
    an_hourly_digest_bundles_the_hour_into_one_mail,
    overdue_warnings_found_late_come_as_one_catch_up_mail,
    a_catch_up_cut_by_a_full_batch_still_goes_out_whole
);

/// Delivers what is due at `now` through a real SMTP server; the mail it has received.
async fn deliver(app: &TestApp, mail: &SmtpServer, now: Timestamp) -> Vec<ReceivedMail> {
    deliver_batches(app, mail, now, 500).await
}

/// [`deliver`], claiming `batch` messages a round.
async fn deliver_batches(app: &TestApp, mail: &SmtpServer, now: Timestamp, batch: i64) -> Vec<ReceivedMail> {
    let model = app.state.city().workflow.clone();
    let notifiers = Notifiers::new(Some(common::smtp(mail)), None);
    let report = Dispatcher::new(notifiers, Some("http://civic311.test".into()))
        .run(&app.store, &model, now, batch)
        .await
        .unwrap();
    assert_eq!(report.dead + report.retried, 0);
    mail.received()
}

fn to<'a>(inbox: &'a [ReceivedMail], who: &str) -> Vec<&'a ReceivedMail> {
    inbox.iter().filter(|m| m.to.contains(who)).collect()
}

async fn an_hourly_digest_bundles_the_hour_into_one_mail(backend: Backend) {
    let app = setup(backend).await;
    set_password(&app, "pat", PASSWORD).await;
    // Pat chooses the hourly digest on their own settings page.
    let mut browser = Browser::default();
    assert_eq!(browser.get(&app, "/staff/me").await.status, 303, "signed out: sign in first");
    browser.sign_in(&app, "pat", PASSWORD, "/staff/me").await;
    assert_eq!(browser.post(&app, "/staff/me", &[("digest", "hourly")]).await.status, 403, "needs the form's CSRF");
    // In a real browser at a desk, as pat would.
    let base = app.listen().await;
    let b = civic311_testkit::browser::Browser::start(1280, 900).await;
    b.goto(&format!("{base}/staff/sign-in?next=/staff/me")).await;
    b.type_into("#username", "pat").await;
    b.type_into("#password", PASSWORD).await;
    b.keys_to_new_page("\u{E007}").await;
    b.click("input[name=digest][value=hourly]").await;
    b.follow("main form button[type=submit]").await;
    assert!(b.text("[role=status]").await.contains("Saved"), "{}", b.source().await);
    assert_eq!(
        b.script("return document.querySelector('input[name=digest][value=hourly]').checked", json!([])).await,
        json!(true)
    );
    b.close().await;
    let digest = app.store.users().await.unwrap().into_iter().find(|u| u.username == "pat").unwrap().digest;
    assert_eq!(digest, civic311_domain::org::MailDigest::Hourly);

    // Three requests given to pat in one hour...
    app.set_now("2026-03-02T09:10:00-06:00");
    let mut ids = Vec::new();
    for _ in 0..3 {
        let id = file_pothole(&app).await;
        act(&app, &id, "ada", json!({ "action": "assign", "assignee": "pat" })).await;
        ids.push(id);
    }
    let mail = SmtpServer::start();
    let inbox = deliver(&app, &mail, app.now()).await;
    assert!(to(&inbox, "pat@testville.example").is_empty(), "held for the digest: {inbox:?}");
    // ...but an urgent one (the fixture's rules make "gas" urgent) comes at once.
    let gas = post_pothole(&app, IN_W1, "pothole, smells of gas", &[("attribute[SIZE]", "large")]).await;
    let gas = gas.json()[0]["service_request_id"].as_str().unwrap().to_owned();
    act(&app, &gas, "ada", json!({ "action": "assign", "assignee": "pat" })).await;
    let inbox = deliver(&app, &mail, app.now()).await;
    let now_mail = to(&inbox, "pat@testville.example");
    assert_eq!(now_mail.len(), 1, "{inbox:?}");
    assert!(now_mail[0].subject.contains(&gas));

    // At ten o'clock the three come as one mail.
    let ten: Timestamp = "2026-03-02T10:00:00-06:00".parse().unwrap();
    let inbox = deliver(&app, &mail, ten).await;
    let pats = to(&inbox, "pat@testville.example");
    assert_eq!(pats.len(), 2, "the urgent one and one digest: {inbox:?}");
    let digest = pats.iter().find(|m| m.subject.contains("hourly digest")).expect("the digest");
    assert!(digest.subject.contains("3 update(s)"), "{}", digest.subject);
    for id in &ids {
        assert!(digest.body.contains(&format!("Assigned to you: request {id}")), "{}", digest.body);
        assert!(digest.body.contains(&format!("http://civic311.test/staff/requests/{id}")), "{}", digest.body);
    }
    // Nothing is sent twice.
    let again = deliver(&app, &mail, ten).await;
    assert_eq!(again.len(), inbox.len());
}

async fn overdue_warnings_found_late_come_as_one_catch_up_mail(backend: Backend) {
    let app = setup(backend).await;
    add_staff(&app, "pwboss", "PW", None, Role::Supervisor).await;
    app.set_now("2026-03-02T09:00:00-06:00");
    let mut ids = Vec::new();
    for i in 0..6 {
        let r =
            post_pothole(&app, (IN_W1.0 + f64::from(i) * 0.0001, IN_W1.1), "pothole", &[("attribute[SIZE]", "large")])
                .await;
        ids.push(r.json()[0]["service_request_id"].as_str().unwrap().to_owned());
    }
    // The scheduler first runs two days later (a restart): every breach is long past,
    // and what it finds over its sweeps goes out together at the next quarter hour.
    let later: Timestamp = "2026-03-04T09:00:00-06:00".parse().unwrap();
    let model = app.state.city().workflow.clone();
    let swept = civic311_jobs::sweep(&app.store, &model, later, 100).await.unwrap();
    assert_eq!(swept.fired, 6);
    let mail = SmtpServer::start();
    let inbox = deliver(&app, &mail, later).await;
    assert!(to(&inbox, "pwboss@testville.example").is_empty(), "held to the quarter hour: {inbox:?}");
    let quarter: Timestamp = "2026-03-04T09:15:00-06:00".parse().unwrap();
    let inbox = deliver(&app, &mail, quarter).await;
    let boss = to(&inbox, "pwboss@testville.example");
    assert_eq!(boss.len(), 1, "one catch-up mail, not six: {inbox:?}");
    assert!(boss[0].subject.contains("6 requests need attention (catch-up)"), "{}", boss[0].subject);
    for id in &ids {
        assert!(boss[0].body.contains(id.as_str()), "{}", boss[0].body);
    }
    // Residents' delay notices are theirs alone, never bundled.
    assert!(inbox.iter().all(|m| !m.subject.contains("catch-up") || m.to.contains("pwboss")));
    // A breach seen as it happens is mailed at once, on its own.
    app.set_now("2026-03-04T10:00:00-06:00");
    let id = file_pothole(&app).await;
    let due =
        app.store.request(id.split_once('-').unwrap().1.parse().unwrap()).await.unwrap().unwrap().expected_at.unwrap();
    let at_breach = due + jiff::SignedDuration::from_mins(1);
    civic311_jobs::sweep(&app.store, &model, at_breach, 100).await.unwrap();
    let inbox = deliver(&app, &mail, at_breach).await;
    let boss = to(&inbox, "pwboss@testville.example");
    assert_eq!(boss.len(), 2, "{inbox:?}");
    assert!(boss[1].subject.starts_with(&format!("Escalated to you: request {id}")), "{}", boss[1].subject);
}

async fn a_catch_up_cut_by_a_full_batch_still_goes_out_whole(backend: Backend) {
    let app = setup(backend).await;
    // Two supervisors: abe for work on no team, zed for the north crew's.
    add_staff(&app, "abe", "PW", None, Role::Supervisor).await;
    add_staff(&app, "zed", "PW", Some("PW-NORTH"), Role::Supervisor).await;
    app.set_now("2026-03-02T09:00:00-06:00");
    for i in 0..6 {
        let at = (IN_W1.0 + f64::from(i) * 0.0001, IN_W1.1);
        let r = post_pothole(&app, at, "pothole", &[("attribute[SIZE]", "large")]).await;
        let id = r.json()[0]["service_request_id"].as_str().unwrap().to_owned();
        if i % 2 == 0 {
            act(&app, &id, "ada", json!({ "action": "assign", "team": "PW-NORTH" })).await;
        }
    }
    let later: Timestamp = "2026-03-04T09:00:00-06:00".parse().unwrap();
    let model = app.state.city().workflow.clone();
    assert_eq!(civic311_jobs::sweep(&app.store, &model, later, 100).await.unwrap().fired, 6);
    // Claimed four at a time, recipient by recipient: abe's three and one of zed's fill
    // the first batch; zed's bundle waits, whole, for the next.
    let mail = SmtpServer::start();
    let quarter: Timestamp = "2026-03-04T09:15:00-06:00".parse().unwrap();
    deliver_batches(&app, &mail, quarter, 4).await;
    let inbox = deliver_batches(&app, &mail, quarter, 4).await;
    let (abe, zed) = (to(&inbox, "abe@testville.example"), to(&inbox, "zed@testville.example"));
    assert_eq!((abe.len(), zed.len()), (1, 1), "one mail each: {inbox:?}");
    assert!(abe[0].subject.contains("3 requests") && zed[0].subject.contains("3 requests"), "{inbox:?}");
}
