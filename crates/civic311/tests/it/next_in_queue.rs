//! Working down a queue: its next page keeps every filter, a request opened from it
//! leads to the next one in the same order, and "Assign to me" takes a request — for
//! field staff too, who may take work for themselves but give it to no one else.

#![allow(clippy::unwrap_used)]

use civic311_domain::org::Role;
use civic311_testkit::fixture::IN_W1;
use civic311_testkit::{Backend, TestApp, both_backends};
use common::{Browser, PASSWORD, act, add_staff, hidden, post_pothole, set_password, setup, unescape};
use serde_json::json;

use crate::common;

both_backends!(a_queue_leads_page_by_page_and_request_by_request, assign_to_me_takes_the_request_and_nothing_more);

/// The request numbers a queue page lists, in its order, each with its link.
fn rows(body: &str) -> Vec<(String, String)> {
    body.split("<a href=\"/staff/requests/")
        .skip(1)
        .map(|rest| {
            let href = format!("/staff/requests/{}", unescape(rest.split('"').next().unwrap()));
            let number = rest.split(['?', '"']).next().unwrap().to_owned();
            (number, href)
        })
        .collect()
}

/// The link after `marker` on a page.
fn link_after(body: &str, marker: &str) -> Option<String> {
    let rest = &body[body.find(marker)? + marker.len()..];
    let rest = &rest[rest.find("href=\"")? + 6..];
    Some(unescape(rest.split('"').next()?))
}

/// `n` potholes, a minute apart from 09:00 on Monday 2 March.
async fn potholes(app: &TestApp, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..n {
        app.set_now(&format!("2026-03-02T{:02}:{:02}:00-06:00", 9 + i / 60, i % 60));
        let r = post_pothole(app, IN_W1, &format!("pothole {i}"), &[("attribute[SIZE]", "large")]).await;
        assert_eq!(r.status, 201, "{}", r.body);
        out.push(r.json()[0]["service_request_id"].as_str().unwrap().to_owned());
    }
    out
}

async fn a_queue_leads_page_by_page_and_request_by_request(backend: Backend) {
    let app = setup(backend).await;
    set_password(&app, "pat", PASSWORD).await;
    let filed = potholes(&app, 52).await;
    act(&app, &filed[0], "ada", json!({ "action": "assign", "assignee": "pat" })).await;
    // Three weeks later every one of them is overdue.
    app.set_now("2026-03-23T09:00:00-05:00");
    let mut browser = Browser::default();
    browser.sign_in(&app, "pat", PASSWORD, "/staff").await;

    // Fifty a page; the next page keeps the filters, so together they are exactly the
    // 51 unassigned requests, oldest first.
    let first = browser.get(&app, "/staff?view=department&owner=unassigned&due=overdue&sort=oldest").await;
    assert_eq!(first.status, 200, "{}", first.body);
    let page1 = rows(&first.body);
    let next_page = link_after(&first.body, "class=\"pager\"").expect("a next page");
    let second = browser.get(&app, &next_page).await;
    let page2 = rows(&second.body);
    let listed: Vec<&str> = page1.iter().chain(&page2).map(|(n, _)| n.as_str()).collect();
    let unassigned: Vec<&str> = filed[1..].iter().map(String::as_str).collect();
    assert_eq!(listed, unassigned);
    assert_eq!((page1.len(), page2.len()), (50, 1));

    // Opened from the queue, a request leads to the next one in it...
    let (number, href) = &page1[0];
    let page = browser.get(&app, href).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let next = link_after(&page.body, "Next in this queue").expect("the next request");
    assert!(next.starts_with(&format!("/staff/requests/{}?queue=", page1[1].0)), "{next}");
    // ...and still does once it is taken off that queue by "Assign to me".
    let action = format!("/staff/requests/{number}/act{}", &href[href.find('?').unwrap()..]);
    let csrf = hidden(&page.body, "csrf");
    let fields = [("csrf", csrf.as_str()), ("action", "assign"), ("assignee", "pat"), ("team", "PW-NORTH")];
    let done = browser.post(&app, &action, &fields).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let seq = |id: &str| id.split_once('-').unwrap().1.parse::<i64>().unwrap();
    let stored = app.store.request(seq(number)).await.unwrap().unwrap();
    assert_eq!(stored.assignment.assignee.as_deref(), Some("pat"));
    let after = browser.get(&app, done.headers["location"].to_str().unwrap()).await;
    assert!(after.body.contains("Assigned;"), "{}", after.body);
    let next = link_after(&after.body, "Next in this queue").expect("the next request");
    assert!(next.starts_with(&format!("/staff/requests/{}?", page1[1].0)), "{next}");
    // The last request of the queue says so, with the way back.
    let last = browser.get(&app, &page2[0].1).await;
    assert!(last.body.contains("That is the last request in this queue."), "{}", last.body);
    let back = link_after(&last.body, "That is the last request").unwrap();
    assert!(back.contains("owner=unassigned") && back.contains("due=overdue") && back.contains("sort=oldest"));
}

async fn assign_to_me_takes_the_request_and_nothing_more(backend: Backend) {
    let app = setup(backend).await;
    add_staff(&app, "fay", "PW", Some("PW-NORTH"), Role::Field).await;
    set_password(&app, "fay", PASSWORD).await;
    let filed = potholes(&app, 1).await;
    let number = &filed[0];
    let mut browser = Browser::default();
    browser.sign_in(&app, "fay", PASSWORD, "/staff").await;
    let page = browser.get(&app, &format!("/staff/requests/{number}")).await;
    assert!(page.body.contains(">Assign to me</button>"), "{}", page.body);
    let csrf = hidden(&page.body, "csrf");
    let uri = format!("/staff/requests/{number}/act");
    let stored = || async { app.store.request(filed[0].split_once('-').unwrap().1.parse().unwrap()).await.unwrap() };

    // Field staff may not give work to someone else...
    let other = [("csrf", csrf.as_str()), ("action", "assign"), ("assignee", "pat")];
    let refused = browser.post(&app, &uri, &other).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(stored().await.unwrap().assignment.assignee, None);
    // ...but take it for themselves and their team.
    let me = [("csrf", csrf.as_str()), ("action", "assign"), ("assignee", "fay"), ("team", "PW-NORTH")];
    let taken = browser.post(&app, &uri, &me).await;
    assert_eq!(taken.status, 303, "{}", taken.body);
    let r = stored().await.unwrap();
    assert_eq!((r.assignment.assignee.as_deref(), r.assignment.team.as_deref()), (Some("fay"), Some("PW-NORTH")));
    let page = browser.get(&app, &format!("/staff/requests/{number}")).await;
    assert!(!page.body.contains(">Assign to me</button>"), "already theirs");
}
