//! The supervisor view: every count opens the queue that lists exactly those requests,
//! escalations are listed with who was told and whether they are still open, and the
//! bulk list filters as a queue does and checks all at once.

#![allow(clippy::unwrap_used)]

use civic311_domain::org::Role;
use civic311_testkit::fixture::IN_W1;
use civic311_testkit::{Backend, TestApp, both_backends};
use common::{Browser, PASSWORD, act, add_staff, post_pothole, set_password, setup, unescape};
use jiff::Timestamp;
use serde_json::json;

use crate::common;

both_backends!(every_count_opens_its_queue_and_escalations_are_listed);

/// Every `<a href="/staff?…">N` on a page: the queue link and the count it shows.
fn counted_links(body: &str) -> Vec<(String, i64)> {
    body.split("<a href=\"/staff?")
        .skip(1)
        .filter_map(|rest| {
            let (href, after) = rest.split_once("\">")?;
            let digits: String =
                after.trim_start_matches("<strong>").chars().take_while(char::is_ascii_digit).collect();
            Some((format!("/staff?{}", unescape(href)), digits.parse().ok()?))
        })
        .collect()
}

/// How many requests a queue lists, across its pages.
async fn listed(app: &TestApp, browser: &mut Browser, link: &str) -> i64 {
    let page = browser.get(app, link).await;
    assert_eq!(page.status, 200, "{link}: {}", page.body);
    page.body.matches("<a href=\"/staff/requests/").count() as i64
}

/// Potholes filed at 09:00 on Monday 2 March, a minute apart.
async fn potholes(app: &TestApp, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..n {
        app.set_now(&format!("2026-03-02T09:{i:02}:00-06:00"));
        let r = post_pothole(app, IN_W1, &format!("pothole {i}"), &[("attribute[SIZE]", "large")]).await;
        out.push(r.json()[0]["service_request_id"].as_str().unwrap().to_owned());
    }
    out
}

async fn every_count_opens_its_queue_and_escalations_are_listed(backend: Backend) {
    let app = setup(backend).await;
    add_staff(&app, "pwboss", "PW", None, Role::Supervisor).await;
    set_password(&app, "pwboss", PASSWORD).await;
    set_password(&app, "pat", PASSWORD).await;
    let filed = potholes(&app, 4).await;
    act(&app, &filed[0], "ada", json!({ "action": "assign", "assignee": "pat" })).await;
    act(&app, &filed[1], "ada", json!({ "action": "hold", "reason": "waiting for the gas company" })).await;
    // Two days later the running ones have breached and escalate to the supervisor.
    let breach: Timestamp = "2026-03-04T09:00:00-06:00".parse().unwrap();
    let model = app.state.city().workflow.clone();
    let swept = civic311_jobs::sweep(&app.store, &model, breach, 100).await.unwrap();
    assert_eq!(swept.fired, 3, "all but the one on hold");
    app.set_now("2026-03-04T10:00:00-06:00");
    act(&app, &filed[2], "ada", json!({ "action": "resolve", "note": "Filled" })).await;

    let mut browser = Browser::default();
    browser.sign_in(&app, "pwboss", PASSWORD, "/staff/supervisor").await;
    let view = browser.get(&app, "/staff/supervisor").await;
    assert_eq!(view.status, 200, "{}", view.body);
    let links = counted_links(&view.body);
    // Open, overdue, due today, unassigned, escalated; then per team, per person and
    // per status and team, each open and overdue.
    assert!(links.len() >= 5 + 2 * 3, "{links:?}");
    for (link, shown) in &links {
        assert_eq!(listed(&app, &mut browser, link).await, *shown, "{link}");
    }
    let summary: Vec<i64> = links[..5].iter().map(|(_, n)| *n).collect();
    assert_eq!(summary, [3, 2, 0, 2, 2], "open, overdue, due today, unassigned, escalated");

    // The escalations: what, to whom, and whether still open.
    let section = view.body.split("id=\"escalations\"").nth(1).unwrap().split("</section>").next().unwrap();
    for id in [&filed[0], &filed[2], &filed[3]] {
        assert!(section.contains(id.as_str()), "{id} escalated: {section}");
    }
    assert!(!section.contains(filed[1].as_str()), "the one on hold never escalated");
    assert!(section.contains("told the supervisor"), "{section}");
    assert_eq!(section.matches("Still open").count(), 2, "{section}");

    // The bulk list filters as a queue does, and checks all at once.
    let bulk = browser.get(&app, "/staff/supervisor?owner=unassigned&check=all").await;
    let list = bulk.body.split("id=\"bulk\"").nth(1).unwrap();
    let boxes: Vec<&str> = list.split("<input type=\"checkbox\" name=\"id\"").skip(1).collect();
    assert_eq!(boxes.len(), 2, "the unassigned open ones: {list}");
    assert!(boxes.iter().all(|b| b.split('>').next().unwrap().contains("checked")));
    assert!(!list.contains(filed[0].as_str()), "assigned to pat");

    // Staff who supervise nothing are refused.
    let mut pat = Browser::at("10.0.0.9");
    pat.sign_in(&app, "pat", PASSWORD, "/staff").await;
    assert_eq!(pat.get(&app, "/staff/supervisor").await.status, 403);
}
