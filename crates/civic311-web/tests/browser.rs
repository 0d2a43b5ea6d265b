//! The staff workspace in a real headless Chromium: signing in with the keyboard,
//! working from the queue, at desktop and phone widths. Screenshots are kept in
//! `target/screenshots/` as test artifacts.

#![allow(clippy::unwrap_used)]

use civic311_testkit::browser::Browser;
use civic311_testkit::{Backend, TestApp, both_backends};
use common::{act, api, file_pothole, setup};
use serde_json::json;

mod common;

both_backends!(a_member_of_staff_signs_in_and_finds_their_work);

const PASSWORD: &str = "pothole patrol 42";

async fn sign_in(b: &Browser, base: &str, user: &str) {
    b.goto(&format!("{base}/staff")).await;
    assert!(b.current_url().await.contains("/staff/sign-in"), "sent to sign in");
    b.type_into("#username", user).await;
    b.type_into("#password", PASSWORD).await;
    // Enter submits, as a person at a keyboard would.
    b.keys_to_new_page("\u{E007}").await;
}

async fn a_member_of_staff_signs_in_and_finds_their_work(backend: Backend) {
    let app: TestApp = setup(backend).await;
    let r =
        api(&app, "PUT", "/api/v1/config/users/pat/password", Some("ada"), Some(json!({ "password": PASSWORD }))).await;
    assert_eq!(r.status, 200);
    let id = file_pothole(&app).await;
    act(&app, &id, "ada", json!({ "action": "assign", "assignee": "pat" })).await;
    let base = app.listen().await;
    let name = format!("{backend:?}").to_lowercase();

    for (width, height, label) in [(1280, 800, "desktop"), (390, 844, "phone")] {
        let b = Browser::start(width, height).await;
        sign_in(&b, &base, "pat").await;
        assert_eq!(b.text("h1").await, "My work");
        assert!(b.text("tbody").await.contains(&id), "the request assigned to pat is in their work");
        let width_seen = b.script("return window.innerWidth", json!([])).await;
        assert_eq!(width_seen, json!(width), "the page is laid out at {label} width");
        b.screenshot(&format!("queue-{label}-{name}")).await;
        // The department tab, then a filter, all from the page.
        b.follow("nav.tabs a[href=\"?view=department\"]").await;
        assert_eq!(b.text("h1").await, "My department's requests");
        b.select("#priority", "urgent").await;
        b.follow("form.filters button").await;
        assert!(b.text("main").await.contains("Nothing here with these filters"));
        b.follow("header form button").await;
        assert!(b.current_url().await.ends_with("/staff/sign-in"), "signed out");
        b.close().await;
    }
}
