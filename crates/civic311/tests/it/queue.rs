//! The staff list as a queue: every sort pages through all matching requests exactly
//! once in its order, and the boundary filter narrows to a ward.

#![allow(clippy::unwrap_used)]

use civic311_testkit::fixture::{IN_W1, IN_W2};
use civic311_testkit::{Backend, TestApp, both_backends};
use common::{act, api, post_pothole, setup};
use serde_json::{Value, json};

use crate::common;

both_backends!(every_sort_pages_through_the_queue_once_in_order, the_queue_narrows_to_a_ward);

/// Every page of `uri` (which has no cursor yet), two at a time.
async fn all_pages(app: &TestApp, uri: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page_uri = match &next {
            Some(c) => format!("{uri}&limit=2&cursor={c}"),
            None => format!("{uri}&limit=2"),
        };
        let page = api(app, "GET", &page_uri, Some("ada"), None).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let page = page.json();
        out.extend(page["requests"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => next = Some(c.to_owned()),
            None => return out,
        }
    }
}

async fn file(app: &TestApp, at: (f64, f64), when: &str, description: &str) -> String {
    app.set_now(when);
    let r = post_pothole(app, at, description, &[("attribute[SIZE]", "small")]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()[0]["service_request_id"].as_str().unwrap().to_owned()
}

async fn every_sort_pages_through_the_queue_once_in_order(backend: Backend) {
    let app = setup(backend).await;
    // Five potholes over a week; the fixture's rule makes "gas" urgent.
    let a = file(&app, IN_W1, "2026-03-02T09:00:00-06:00", "pothole").await;
    let b = file(&app, IN_W2, "2026-03-03T09:00:00-06:00", "pothole, smells of gas").await;
    let c = file(&app, IN_W1, "2026-03-04T09:00:00-06:00", "pothole").await;
    let d = file(&app, IN_W2, "2026-03-05T09:00:00-06:00", "pothole").await;
    let e = file(&app, IN_W1, "2026-03-05T09:00:00-06:00", "gas leak near pothole").await;
    app.set_now("2026-03-06T09:00:00-06:00");
    act(&app, &a, "ada", json!({ "action": "set_priority", "priority": "high", "reason": "school route" })).await;
    act(&app, &c, "ada", json!({ "action": "hold", "reason": "waiting for parts" })).await;

    let ids = |rs: &[Value]| rs.iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    let base = "/api/v1/requests?service_code=POTHOLE";
    assert_eq!(ids(&all_pages(&app, base).await), [&e, &d, &c, &b, &a].map(String::as_str), "newest first by default");
    assert_eq!(ids(&all_pages(&app, &format!("{base}&sort=oldest")).await), [&a, &b, &c, &d, &e].map(String::as_str));
    assert_eq!(
        ids(&all_pages(&app, &format!("{base}&sort=priority")).await),
        [&b, &e, &a, &c, &d].map(String::as_str),
        "urgent, then high, then normal; oldest first within each"
    );
    let updated = ids(&all_pages(&app, &format!("{base}&sort=updated")).await);
    assert_eq!(updated[..2], [c.clone(), a.clone()], "the last changed first");
    // Due: soonest first; c is on hold, so nothing is due on it and it comes last.
    let due = all_pages(&app, &format!("{base}&sort=due")).await;
    assert_eq!(due.len(), 5);
    assert_eq!(due[4]["id"], c.as_str());
    let times: Vec<&str> = due[..4].iter().map(|r| r["sla"]["resolution_due"].as_str().unwrap()).collect();
    let parsed: Vec<jiff::Timestamp> = times.iter().map(|t| t.parse().unwrap()).collect();
    assert!(parsed.windows(2).all(|w| w[0] <= w[1]), "soonest due first: {times:?}");

    // A cursor belongs to its order: it continues in it, and a different sort beside it
    // is a conflict; bad sorts are named.
    let first = api(&app, "GET", &format!("{base}&sort=oldest&limit=2"), Some("ada"), None).await.json();
    let cursor = first["next_cursor"].as_str().unwrap();
    let r = api(&app, "GET", &format!("{base}&sort=due&cursor={cursor}"), Some("ada"), None).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["errors"][0]["field"], "cursor");
    let next = api(&app, "GET", &format!("{base}&limit=2&cursor={cursor}"), Some("ada"), None).await.json();
    let again = api(&app, "GET", &format!("{base}&sort=oldest&limit=2&cursor={cursor}"), Some("ada"), None).await;
    assert_eq!(next, again.json(), "without sort, the cursor's own order");
    // An empty parameter is left out; a page size outside 1-500 is refused.
    let empty = api(&app, "GET", &format!("{base}&sort=&limit=2&cursor="), Some("ada"), None).await.json();
    assert_eq!(
        empty["requests"],
        api(&app, "GET", &format!("{base}&limit=2"), Some("ada"), None).await.json()["requests"]
    );
    assert_eq!(api(&app, "GET", &format!("{base}&limit=0"), Some("ada"), None).await.status, 400);
    let r = api(&app, "GET", &format!("{base}&sort=sideways"), Some("ada"), None).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("newest, oldest, updated, due, priority"), "{}", r.body);
}

async fn the_queue_narrows_to_a_ward(backend: Backend) {
    let app = setup(backend).await;
    let a = file(&app, IN_W1, "2026-03-02T09:00:00-06:00", "pothole").await;
    let b = file(&app, IN_W2, "2026-03-03T09:00:00-06:00", "pothole").await;
    let list = |q: &'static str| {
        let app = &app;
        async move {
            let r = api(app, "GET", &format!("/api/v1/requests?{q}"), Some("ada"), None).await;
            (r.status.as_u16(), r.json())
        }
    };
    let (_, w1) = list("area=wards:W1").await;
    assert_eq!(w1["requests"].as_array().unwrap().len(), 1);
    assert_eq!(w1["requests"][0]["id"], a.as_str());
    let (_, both) = list("area=wards:W1,wards:W2&sort=oldest").await;
    assert_eq!(
        both["requests"].as_array().unwrap().iter().map(|r| r["id"].clone()).collect::<Vec<_>>(),
        [json!(a), json!(b)]
    );
    let (status, body) = list("area=wards:W9").await;
    assert_eq!(status, 404, "a feature the city does not have");
    assert!(body["errors"][0]["detail"].as_str().unwrap().contains("no wards feature 'W9'"), "{body}");
    let (status, _) = list("area=W1").await;
    assert_eq!(status, 400);
}
