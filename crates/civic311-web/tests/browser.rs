//! The staff workspace in a real headless Chromium: signing in with the keyboard,
//! working from the queue, at desktop and phone widths. Screenshots are kept in
//! `target/screenshots/` as test artifacts.

#![allow(clippy::unwrap_used)]

use civic311_testkit::browser::Browser;
use civic311_testkit::{Backend, TestApp, both_backends};
use common::{act, api, file_pothole, setup};
use serde_json::json;

mod common;

both_backends!(
    a_member_of_staff_signs_in_and_finds_their_work,
    staff_assign_note_transfer_and_resolve_from_the_request_page,
    a_call_taker_logs_a_phone_request_and_adds_a_repeat_caller_as_a_follower,
    every_staff_page_passes_an_accessibility_scan
);

const PASSWORD: &str = "pothole patrol 42";

async fn sign_in(b: &Browser, base: &str, user: &str) {
    b.goto(&format!("{base}/staff")).await;
    assert!(b.current_url().await.contains("/staff/sign-in"), "sent to sign in");
    b.type_into("#username", user).await;
    b.type_into("#password", PASSWORD).await;
    // Enter submits, as a person at a keyboard would.
    b.keys_to_new_page("\u{E007}").await;
    assert!(!b.current_url().await.contains("/staff/sign-in"), "{user} is signed in");
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

/// Opens the request from the department queue.
async fn open_from_department_queue(b: &Browser, base: &str, id: &str) {
    b.goto(&format!("{base}/staff?view=department")).await;
    b.follow(&format!("a[href=\"/staff/requests/{id}\"]")).await;
    assert!(b.text("h1").await.starts_with(id));
}

async fn staff_assign_note_transfer_and_resolve_from_the_request_page(backend: Backend) {
    let app: TestApp = setup(backend).await;
    for user in ["pat", "sam", "ada"] {
        let uri = format!("/api/v1/config/users/{user}/password");
        assert_eq!(api(&app, "PUT", &uri, Some("ada"), Some(json!({ "password": PASSWORD }))).await.status, 200);
    }
    let id = file_pothole(&app).await;
    let base = app.listen().await;
    let name = format!("{backend:?}").to_lowercase();

    let b = Browser::start(1280, 900).await;
    sign_in(&b, &base, "pat").await;
    open_from_department_queue(&b, &base, &id).await;
    let requester = b.text("section[aria-labelledby=requester]").await;
    assert!(requester.contains("res@example.test"), "staff see the contact: {requester}");
    // Assign to myself.
    b.click("details:has(#assign-person) summary").await;
    b.select("#assign-person", "pat").await;
    b.follow("details:has(#assign-person) button").await;
    assert!(b.text("[role=status]").await.contains("Done: assign"));
    assert!(b.text(".summary").await.contains("pat"));
    // An internal note, clearly marked.
    b.type_into("#note-text", "Crew booked for Thursday").await;
    b.follow("details:has(#note-text) button").await;
    assert!(b.text("ol.timeline").await.contains("Internal note"));
    // A transfer without a reason is refused with the reason shown; nothing changes.
    b.click("details:has(#transfer-dept) summary").await;
    b.select("#transfer-dept", "SAN").await;
    b.script("document.querySelector('#transfer-reason').removeAttribute('required')", json!([])).await;
    b.follow("details:has(#transfer-dept) button").await;
    assert!(b.text("[role=alert]").await.contains("reason"), "the refusal names the missing field");
    b.click("details:has(#transfer-dept) summary").await;
    b.select("#transfer-dept", "SAN").await;
    b.type_into("#transfer-reason", "It is a sinkhole over a sewer: Sanitation's").await;
    b.follow("details:has(#transfer-dept) button").await;
    assert!(b.text(".summary").await.contains("Sanitation"));
    b.screenshot(&format!("request-transferred-{name}")).await;
    b.close().await;

    // Sanitation's supervisor finds it in their department's queue and resolves it.
    let b = Browser::start(390, 844).await;
    sign_in(&b, &base, "sam").await;
    open_from_department_queue(&b, &base, &id).await;
    b.click("details:has(#resolve-note) summary").await;
    b.type_into("#resolve-note", "Filled and sealed").await;
    b.follow("details:has(#resolve-note) button").await;
    assert!(b.text(".summary").await.contains("Resolved"));
    let timeline = b.text("ol.timeline").await;
    for step in
        ["Routed to PW", "Assigned to PW", "Internal note", "Transferred from PW to SAN", "Status open → resolved"]
    {
        assert!(timeline.contains(step), "the timeline shows '{step}': {timeline}");
    }
    b.screenshot(&format!("request-resolved-phone-{name}")).await;
    b.close().await;
}

async fn a_call_taker_logs_a_phone_request_and_adds_a_repeat_caller_as_a_follower(backend: Backend) {
    let app: TestApp = setup(backend).await;
    let carla = json!({ "display_name": "Carla Intake", "email": "carla@testville.example", "department": "TRIAGE", "role": "intake" });
    assert_eq!(api(&app, "PUT", "/api/v1/config/users/carla", Some("ada"), Some(carla)).await.status, 201);
    let r = api(&app, "PUT", "/api/v1/config/users/carla/password", Some("ada"), Some(json!({ "password": PASSWORD })))
        .await;
    assert_eq!(r.status, 200);
    let existing = file_pothole(&app).await;
    let base = app.listen().await;
    let name = format!("{backend:?}").to_lowercase();
    let (lat, long) = (civic311_testkit::fixture::IN_W1.0.to_string(), civic311_testkit::fixture::IN_W1.1.to_string());

    let b = Browser::start(1280, 900).await;
    sign_in(&b, &base, "carla").await;
    b.follow("header a[href=\"/staff/intake\"]").await;
    // Find the category in plain words, from the keyboard.
    b.type_into("#q", "big hole in the road").await;
    b.keys_to_new_page("\u{E007}").await;
    b.follow("ul.choices a[href=\"/staff/intake?service_code=POTHOLE\"]").await;
    // A second caller about the same pothole: check nearby first, then follow it instead.
    b.type_into("#phone", "+15550199").await;
    b.select("#notify", "sms").await;
    b.select("#a-SIZE", "large").await;
    b.type_into("#lat", &lat).await;
    b.type_into("#long", &long).await;
    b.follow("button[name=check]").await;
    assert_eq!(b.script("return document.querySelector('#phone').value", json!([])).await, "+15550199", "kept");
    b.screenshot(&format!("intake-nearby-{name}")).await;
    b.follow(&format!("button[formaction=\"/staff/intake/follow/{existing}\"]")).await;
    assert!(b.text("[role=status]").await.contains("Done: follow"));
    assert!(b.text("section[aria-labelledby=glance]").await.contains("Followers\n1"));
    // A new report from a walk-in: filed, routed, and on its page.
    b.goto(&format!("{base}/staff/intake?service_code=GRAFFITI")).await;
    b.click("input[name=channel][value=walk_in]").await;
    b.type_into("#first_name", "Dee").await;
    b.type_into("#email", "dee@example.test").await;
    b.select("#notify", "email").await;
    b.type_into("#description", "Tag on the library wall").await;
    b.type_into("#address_string", "Library, 100 Main St").await;
    b.follow("#intake button:not([name])").await;
    assert!(b.text("[role=status]").await.contains("Done: filed"));
    let glance = b.text("section[aria-labelledby=glance]").await;
    assert!(glance.contains("via walk_in"), "{glance}");
    assert!(b.text("section[aria-labelledby=requester]").await.contains("dee@example.test"));
    b.close().await;
}

async fn every_staff_page_passes_an_accessibility_scan(backend: Backend) {
    let app: TestApp = setup(backend).await;
    for user in ["pat", "sam", "ada"] {
        let uri = format!("/api/v1/config/users/{user}/password");
        assert_eq!(api(&app, "PUT", &uri, Some("ada"), Some(json!({ "password": PASSWORD }))).await.status, 200);
    }
    let id = file_pothole(&app).await;
    act(&app, &id, "ada", json!({ "action": "note", "text": "Crew booked", "public": false })).await;
    let base = app.listen().await;
    for (width, height) in [(1280, 900), (390, 844)] {
        let b = Browser::start(width, height).await;
        let mut problems = Vec::new();
        let mut scan = async |what: &str| {
            for p in b.accessibility_problems().await {
                problems.push(format!("{what} at {width}px: {p}"));
            }
        };
        b.goto(&format!("{base}/staff/forgot")).await;
        scan("forgotten password").await;
        b.goto(&format!("{base}/staff/reset/not-a-link")).await;
        scan("expired reset link").await;
        b.goto(&format!("{base}/staff/sign-in")).await;
        scan("sign-in").await;
        b.type_into("#username", "pat").await;
        b.type_into("#password", "wrong password!").await;
        b.keys_to_new_page("\u{E007}").await;
        scan("sign-in with an error").await;
        sign_in(&b, &base, "pat").await;
        scan("my work").await;
        for (what, path) in [
            ("department queue", "/staff?view=department&sort=priority".to_owned()),
            ("request page", format!("/staff/requests/{id}")),
            ("intake search", "/staff/intake?q=hole".to_owned()),
            ("intake form", "/staff/intake?service_code=POTHOLE".to_owned()),
        ] {
            b.goto(&format!("{base}{path}")).await;
            scan(what).await;
        }
        b.follow("button[name=check]").await;
        scan("intake with nearby reports").await;
        b.follow("header form button").await;
        sign_in(&b, &base, "sam").await;
        b.goto(&format!("{base}/staff/supervisor")).await;
        scan("supervisor view").await;
        b.follow("header form button").await;
        sign_in(&b, &base, "ada").await;
        for (what, path) in [
            ("staff administration", "/staff/admin"),
            ("try the rules", "/staff/admin/rules?service_code=POTHOLE&description=gas&lat=41.01&long=-88.01"),
            ("audit log", "/staff/admin/audit"),
            ("workflow document and message previews", "/staff/admin/workflow"),
            ("departments and teams", "/staff/admin/departments"),
            ("services", "/staff/admin/services"),
            ("a service and its questions", "/staff/admin/services/POTHOLE"),
            ("boundary layers", "/staff/admin/boundaries"),
            ("API keys", "/staff/admin/keys"),
            ("delivery log", "/staff/admin/deliveries"),
        ] {
            b.goto(&format!("{base}{path}")).await;
            scan(what).await;
        }
        b.goto(&format!("{base}/staff/intake")).await;
        // The scanner itself must be able to fail: an unlabelled field is caught.
        b.script("document.body.insertAdjacentHTML('beforeend', '<input type=text>')", json!([])).await;
        let caught = b.accessibility_problems().await;
        assert!(
            caught.iter().any(|p| p.starts_with("label:")),
            "axe-core ran and saw the unlabelled field: {caught:?}"
        );
        b.close().await;
        assert!(problems.is_empty(), "serious or critical accessibility problems:\n{}", problems.join("\n"));
    }
}
