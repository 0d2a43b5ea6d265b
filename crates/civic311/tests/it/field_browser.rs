//! A field crew on a phone, in a real headless Chromium: they land on their team's
//! work, and resolve a request in one submit — what was done, an "after" photo, and
//! its open duplicate closed with it. The page passes the accessibility scan.

#![allow(clippy::unwrap_used)]

use civic311_domain::org::Role;
use civic311_testkit::browser::Browser;
use civic311_testkit::fixture::IN_W1;
use civic311_testkit::{Backend, both_backends, photos};
use common::{PASSWORD, act, add_staff, post_pothole, set_password, setup};
use serde_json::json;

use crate::common;

both_backends!(a_crew_resolves_with_an_after_photo_and_closes_the_duplicate_in_one_submit);

async fn a_crew_resolves_with_an_after_photo_and_closes_the_duplicate_in_one_submit(backend: Backend) {
    let app = setup(backend).await;
    add_staff(&app, "fay", "PW", Some("PW-NORTH"), Role::Field).await;
    set_password(&app, "fay", PASSWORD).await;
    let file = |text: &str, at| {
        let app = &app;
        let text = text.to_owned();
        async move {
            let r = post_pothole(app, at, &text, &[("attribute[SIZE]", "large")]).await;
            r.json()[0]["service_request_id"].as_str().unwrap().to_owned()
        }
    };
    let id = file("Deep pothole by the bus stop", IN_W1).await;
    let twin = file("Pothole at the bus stop", (IN_W1.0 + 0.00005, IN_W1.1)).await;
    for r in [&id, &twin] {
        act(&app, r, "ada", json!({ "action": "assign", "team": "PW-NORTH" })).await;
    }
    let photo = civic311_testkit::scratch_dir("civic311-after").join("after.jpg");
    std::fs::write(&photo, photos::jpeg(640, 480)).unwrap();
    let base = app.listen().await;

    let b = Browser::start(390, 844).await;
    b.goto(&format!("{base}/staff")).await;
    b.type_into("#username", "fay").await;
    b.type_into("#password", PASSWORD).await;
    b.keys_to_new_page("\u{E007}").await;
    assert!(b.current_url().await.ends_with("/staff?view=team"), "a crew lands on its team's work");
    b.follow(&format!("a[href^=\"/staff/requests/{id}?queue=\"]")).await;
    b.click("details:has(#resolve-note) summary").await;
    b.type_into("#resolve-note", "Filled and rolled").await;
    b.type_into("#resolve-photos", photo.to_str().unwrap()).await;
    b.click(&format!("input[name=merge][value=\"{twin}\"]")).await;
    let problems = b.accessibility_problems().await;
    b.follow("details:has(#resolve-note) button[type=submit]").await;
    assert!(
        b.text("[role=status]").await.contains("Resolved; the requester and followers have been told."),
        "{}",
        b.source().await
    );
    b.screenshot(&format!("field-resolved-phone-{backend:?}")).await;
    b.close().await;
    std::fs::remove_file(&photo).ok();
    assert!(problems.is_empty(), "accessibility problems: {problems:?}");

    // One submit did it all: resolved with the note, the photo public, the twin merged.
    let seq = |n: &str| n.split_once('-').unwrap().1.parse::<i64>().unwrap();
    let done = app.store.request(seq(&id)).await.unwrap().unwrap();
    assert_eq!(done.status, civic311_domain::request::Status::Resolved);
    assert_eq!(done.status_notes.as_deref(), Some("Filled and rolled"));
    let shots = app.store.photos(seq(&id)).await.unwrap();
    assert_eq!(shots.iter().filter(|p| p.public).count(), 1, "the after photo, for residents to see");
    let twin = app.store.request(seq(&twin)).await.unwrap().unwrap();
    assert_eq!(twin.status, civic311_domain::request::Status::Duplicate);
    assert_eq!(twin.workflow.merged_into.as_deref(), Some(id.as_str()));
}
