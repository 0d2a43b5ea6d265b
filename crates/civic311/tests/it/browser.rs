//! The staff workspace in a real headless Chromium: signing in with the keyboard,
//! working from the queue, at desktop and phone widths. Screenshots are kept in
//! `target/screenshots/` as test artifacts.

#![allow(clippy::unwrap_used)]

use civic311_testkit::browser::Browser;
use civic311_testkit::{Backend, TestApp, both_backends};
use common::{act, api, file_pothole, setup, setup_with, tile_server};
use serde_json::json;

use crate::common;

both_backends!(
    a_member_of_staff_signs_in_and_finds_their_work,
    staff_assign_note_transfer_and_resolve_from_the_request_page,
    a_call_taker_logs_a_phone_request_and_adds_a_repeat_caller_as_a_follower,
    every_staff_page_passes_an_accessibility_scan,
    a_phone_request_is_logged_and_found_with_the_keyboard_alone,
    filters_and_category_search_answer_without_reloading_the_page,
    maps_show_tiles_when_they_load_and_outlines_when_they_cannot
);

const PASSWORD: &str = "pothole patrol 42";

/// Sets `user`'s password to [`PASSWORD`], as an administrator would (which revokes
/// their API tokens: the fixture's is issued again).
async fn give_password(app: &TestApp, user: &str) {
    assert_eq!(common::set_password(app, user, PASSWORD).await.status, 200);
}

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
    give_password(&app, "pat").await;
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
        // The work itself is on the first screen; on a phone the filters fold away.
        let first_row =
            b.script("return document.querySelector('tbody tr').getBoundingClientRect().top", json!([])).await;
        assert!(first_row.as_f64().unwrap() < f64::from(height) - 40.0, "{label}: first request at {first_row}");
        // The department tab, then a filter, all from the page.
        b.follow("nav.tabs a[href=\"?view=department\"]").await;
        assert_eq!(b.text("h1").await, "My department's requests");
        if label == "phone" {
            b.click("form.filters summary").await;
        }
        b.select("#priority", "urgent").await;
        b.follow("form.filters button").await;
        assert!(b.text("main").await.contains("Nothing here with these filters"));
        b.follow("header .who form button").await;
        assert!(b.current_url().await.ends_with("/staff/sign-in"), "signed out");
        b.close().await;
    }
}

/// Opens the request from the department queue.
async fn open_from_department_queue(b: &Browser, base: &str, id: &str) {
    b.goto(&format!("{base}/staff?view=department")).await;
    b.follow(&format!("a[href^=\"/staff/requests/{id}?queue=\"]")).await;
    assert!(b.text("h1").await.starts_with(id));
}

async fn staff_assign_note_transfer_and_resolve_from_the_request_page(backend: Backend) {
    let app: TestApp = setup(backend).await;
    for user in ["pat", "sam", "ada"] {
        give_password(&app, user).await;
    }
    // Sanitation takes transfers in on its bulk team's queue.
    let san = json!({ "name": "Sanitation", "intake_team": "SAN-BULK" });
    assert_eq!(api(&app, "PUT", "/api/v1/config/departments/SAN", Some("ada"), Some(san)).await.status, 200);
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
    assert!(b.text("[role=status]").await.contains("Assigned;"));
    assert!(b.text(".summary").await.contains("Pat Public Works"), "names, not codes");
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
    assert!(!b.text("#transfer-dept").await.contains("Public Works"), "never to the owning department");
    b.follow("details:has(#transfer-dept) button").await;
    let summary = b.text(".summary").await;
    assert!(summary.contains("Sanitation") && summary.contains("SAN-BULK"), "on the intake team: {summary}");
    b.screenshot(&format!("request-transferred-{name}")).await;
    b.close().await;
    // Sanitation's supervisor was mailed, with the way to the staff page.
    let mail = civic311_testkit::smtp::SmtpServer::start();
    let model = app.state.city().workflow.clone();
    let notifiers = civic311_app::Notifiers::new(Some(common::smtp(&mail)), None);
    civic311_jobs::Dispatcher::new(notifiers, Some(base.clone()))
        .run(&app.store, &model, app.now(), 100)
        .await
        .unwrap();
    let told = mail.received().into_iter().find(|m| m.to.contains("sam@testville.example")).expect("mail to sam");
    assert!(told.subject.starts_with("Transferred to Sanitation"), "{}", told.subject);
    assert!(told.body.contains("It is a sinkhole over a sewer"), "{}", told.body);
    let link = told.body.split_whitespace().find(|w| w.contains("/staff/requests/")).unwrap().to_owned();

    // Sanitation's supervisor opens the mailed link, signs in, and resolves it.
    let b = Browser::start(390, 844).await;
    b.goto(&link).await;
    b.type_into("#username", "sam").await;
    b.type_into("#password", PASSWORD).await;
    b.keys_to_new_page("\u{E007}").await;
    assert!(b.text("h1").await.starts_with(&id), "the mailed link leads to the request");
    b.click("details:has(#resolve-note) summary").await;
    b.type_into("#resolve-note", "Filled and sealed").await;
    b.follow("details:has(#resolve-note) button").await;
    assert!(b.text(".summary").await.contains("Resolved"));
    let timeline = b.text("ol.timeline").await;
    for step in [
        "Routed to Public Works",
        "Assigned to Public Works · PW-NORTH · Pat Public Works",
        "Internal note",
        "Transferred from Public Works to Sanitation · SAN-BULK",
        "Status open → resolved",
    ] {
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
    assert!(b.text("[role=status]").await.contains("The caller now follows this request"));
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
    assert!(b.text("[role=status]").await.contains("Filed;"));
    let glance = b.text("section[aria-labelledby=glance]").await;
    assert!(glance.contains("via walk_in"), "{glance}");
    assert!(b.text("section[aria-labelledby=requester]").await.contains("dee@example.test"));
    b.close().await;
}

async fn every_staff_page_passes_an_accessibility_scan(backend: Backend) {
    let app: TestApp = setup(backend).await;
    for user in ["pat", "sam", "ada"] {
        give_password(&app, user).await;
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
            ("request page from a queue", format!("/staff/requests/{id}?queue=view%3Ddepartment%26owner%3Dunassigned")),
            ("filtered queue", "/staff?view=department&due=overdue&owner=unassigned&team=none&escalated=on".to_owned()),
            ("search results", "/staff/search?q=pothole".to_owned()),
            ("my settings", "/staff/me".to_owned()),
            ("intake search", "/staff/intake?q=hole".to_owned()),
            ("intake form", "/staff/intake?service_code=POTHOLE".to_owned()),
        ] {
            b.goto(&format!("{base}{path}")).await;
            scan(what).await;
        }
        b.follow("button[name=check]").await;
        scan("intake with nearby reports").await;
        b.follow("header .who form button").await;
        sign_in(&b, &base, "sam").await;
        b.goto(&format!("{base}/staff/supervisor")).await;
        scan("supervisor view").await;
        b.goto(&format!("{base}/staff/supervisor?owner=unassigned&check=all")).await;
        scan("supervisor view, bulk list filtered and checked").await;
        b.follow("header .who form button").await;
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
            ("addresses, streets and assets", "/staff/admin/layers"),
            ("API keys", "/staff/admin/keys"),
            ("delivery log", "/staff/admin/deliveries"),
            ("knowledge base", "/staff/admin/articles"),
            ("an article", "/staff/admin/articles/pothole-repairs"),
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

async fn a_phone_request_is_logged_and_found_with_the_keyboard_alone(backend: Backend) {
    let app: TestApp = setup(backend).await;
    give_password(&app, "pat").await;
    let base = app.listen().await;
    let b = Browser::start(1280, 900).await;
    // Only keys from here on: Tab to move, type, Enter to follow or submit.
    b.goto(&format!("{base}/staff/sign-in")).await;
    b.keys("pat\u{E004}").await;
    b.keys(PASSWORD).await;
    b.keys_to_new_page("\u{E007}").await;
    b.tab_to("header a[href=\"/staff/intake\"]").await;
    b.keys_to_new_page("\u{E007}").await;
    b.keys("hole in the road").await;
    b.keys_to_new_page("\u{E007}").await;
    b.tab_to("a[href=\"/staff/intake?service_code=POTHOLE\"]").await;
    b.keys_to_new_page("\u{E007}").await;
    b.tab_to("#first_name").await;
    b.keys("Keyboard\u{E004}Caller").await;
    b.tab_to("#phone").await;
    b.keys("+15550142").await;
    b.tab_to("#description").await;
    b.keys("Deep hole by the school crossing").await;
    // A select answers to the first letters of an option.
    b.tab_to("#a-SIZE").await;
    b.keys("La").await;
    b.tab_to("#lat").await;
    b.keys(&civic311_testkit::fixture::IN_W1.0.to_string()).await;
    b.tab_to("#long").await;
    b.keys(&civic311_testkit::fixture::IN_W1.1.to_string()).await;
    b.tab_to("#intake button:not([name])").await;
    b.keys_to_new_page("\u{E007}").await;
    assert!(b.text("[role=status]").await.contains("Filed;"), "{}", b.source().await);
    let id = b.text("h1").await.split_whitespace().find(|w| w.starts_with("20")).unwrap().to_owned();
    assert!(b.text("section[aria-labelledby=requester]").await.contains("+15550142"));
    assert!(b.source().await.contains("Larger than a plate"), "the answer chosen by keys was filed");
    // And found again in the department's queue.
    b.tab_to("header a[href=\"/staff\"]").await;
    b.keys_to_new_page("\u{E007}").await;
    b.tab_to("nav.tabs a[href=\"?view=department\"]").await;
    b.keys_to_new_page("\u{E007}").await;
    b.tab_to(&format!("a[href^=\"/staff/requests/{id}?queue=\"]")).await;
    b.keys_to_new_page("\u{E007}").await;
    assert!(b.current_url().await.contains(&format!("/staff/requests/{id}?queue=")));
    assert!(b.text("nav.next").await.contains("Back to the queue"));
    b.close().await;
}

async fn filters_and_category_search_answer_without_reloading_the_page(backend: Backend) {
    let app: TestApp = setup(backend).await;
    give_password(&app, "pat").await;
    let id = file_pothole(&app).await;
    let base = app.listen().await;
    let b = Browser::start(1280, 900).await;
    sign_in(&b, &base, "pat").await;
    b.goto(&format!("{base}/staff?view=department")).await;
    b.wait_until("window.htmx", "htmx loading").await;
    assert!(b.text("#results").await.contains(&id));
    // The same document throughout: a full page load would drop this mark.
    b.script("window.__same_page = true", json!([])).await;
    b.select("#priority", "urgent").await;
    b.wait_until("location.search.includes('priority=urgent')", "the filter in the address").await;
    b.wait_until(
        "document.querySelector('#results').textContent.includes('Nothing here with these filters')",
        "the list narrowed",
    )
    .await;
    b.select("#priority", "any").await;
    b.wait_until(&format!("document.querySelector('#results').textContent.includes('{id}')"), "the list widened").await;
    assert_eq!(b.script("return window.__same_page === true", json!([])).await, json!(true), "no page load");

    b.goto(&format!("{base}/staff/intake")).await;
    b.wait_until("window.htmx", "htmx loading").await;
    b.script("window.__same_page = true", json!([])).await;
    b.type_into("#q", "graffiti").await;
    b.wait_until(
        "!document.querySelector('#category-list').textContent.includes('Pothole')",
        "categories narrowed as typed",
    )
    .await;
    assert!(b.text("#category-list").await.contains("Graffiti"));
    assert_eq!(b.script("return window.__same_page === true", json!([])).await, json!(true), "no page load");
    b.close().await;
}

/// A request page with its map, once Leaflet has tried every tile it wanted.
async fn open_map(b: &Browser, base: &str, id: &str) {
    b.goto(&format!("{base}/staff/requests/{id}")).await;
    b.wait_until(
        "document.querySelectorAll('.tiles img.leaflet-tile').length > 0 && \
         [...document.querySelectorAll('.tiles img.leaflet-tile')].every(i => i.complete)",
        "the map's tiles to be tried",
    )
    .await;
}

async fn maps_show_tiles_when_they_load_and_outlines_when_they_cannot(backend: Backend) {
    let (url, served) = tile_server().await;
    let tiles = civic311_web::MapTiles { url, attribution: "Test tiles".into() };
    let app: TestApp = setup_with(backend, |s| s.with_map_tiles(Some(tiles))).await;
    give_password(&app, "pat").await;
    let id = file_pothole(&app).await;
    let base = app.listen().await;
    let name = format!("{backend:?}").to_lowercase();
    let b = Browser::start(390, 844).await;
    sign_in(&b, &base, "pat").await;
    open_map(&b, &base, &id).await;
    b.wait_until("document.querySelector('figure.map.has-tiles')", "the map over tiles").await;
    assert!(served.load(std::sync::atomic::Ordering::SeqCst) > 0, "tiles came from the configured source");
    let outline_shown = "getComputedStyle(document.querySelector('figure.map > svg.map')).display !== 'none'";
    assert_eq!(
        b.script(&format!("return {outline_shown}"), json!([])).await,
        json!(false),
        "tiles replace the outline"
    );
    assert!(b.text(".leaflet-control-attribution").await.contains("Test tiles"));
    assert!(
        b.script("return document.querySelectorAll('.tiles path.leaflet-interactive, .tiles path').length", json!([]))
            .await
            .as_u64()
            .unwrap()
            >= 2,
        "outline and point drawn"
    );
    let problems = b.accessibility_problems().await;
    assert!(problems.is_empty(), "the map over tiles is accessible: {problems:?}");
    b.script("document.querySelector('figure.map').scrollIntoView()", json!([])).await;
    b.screenshot(&format!("request-map-tiles-{name}")).await;

    // On the intake screen a tap on the map fills in the location.
    b.goto(&format!("{base}/staff/intake?service_code=POTHOLE")).await;
    b.wait_until("document.querySelector('.pick.has-tiles')", "the map to pick on").await;
    b.click(".pick .tiles").await;
    b.wait_until("document.querySelector('#lat').value !== ''", "the pin to fill the location").await;
    let lat: f64 =
        b.script("return document.querySelector('#lat').value", json!([])).await.as_str().unwrap().parse().unwrap();
    let lon: f64 =
        b.script("return document.querySelector('#long').value", json!([])).await.as_str().unwrap().parse().unwrap();
    assert!((40.9..41.1).contains(&lat) && (-88.1..-87.9).contains(&lon), "in the city: {lat}, {lon}");
    b.close().await;

    // Tiles that cannot be reached leave the outline drawn by civic311.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = format!("http://{}/tiles/{{z}}/{{x}}/{{y}}", closed.local_addr().unwrap());
    drop(closed);
    let tiles = civic311_web::MapTiles { url: dead, attribution: "Unreachable".into() };
    let app: TestApp = setup_with(backend, |s| s.with_map_tiles(Some(tiles))).await;
    give_password(&app, "pat").await;
    let id = file_pothole(&app).await;
    let base = app.listen().await;
    let b = Browser::start(390, 844).await;
    sign_in(&b, &base, "pat").await;
    open_map(&b, &base, &id).await;
    assert_eq!(b.script("return !!document.querySelector('figure.map.has-tiles')", json!([])).await, json!(false));
    assert_eq!(b.script(&format!("return {outline_shown}"), json!([])).await, json!(true), "the outline stays");
    let focusable = "document.querySelector('.tiles').inert";
    assert_eq!(b.script(&format!("return {focusable}"), json!([])).await, json!(true), "hidden map takes no focus");
    b.script("document.querySelector('figure.map').scrollIntoView()", json!([])).await;
    b.screenshot(&format!("request-map-no-tiles-{name}")).await;
    b.close().await;
}
