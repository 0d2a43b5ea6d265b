//! Duplicates end to end on both backends: a resident asks before filing and is offered
//! the open request nearby, follows it instead; an app that files anyway is told what
//! the new request probably repeats; staff see the candidates and merge, and the
//! duplicate's requester and followers move to the original.

#![allow(clippy::unwrap_used)]

use civic311_store::OutboxQuery;
use civic311_testkit::fixture::{API_KEY, IN_W1};
use civic311_testkit::{Backend, both_backends};
use common::{act, api, confirm_follow, file_pothole, post_pothole, setup};

use crate::common;

both_backends!(residents_find_follow_and_staff_merge_duplicates);

fn seq(id: &str) -> i64 {
    id.split('-').nth(1).unwrap().parse().unwrap()
}

async fn residents_find_follow_and_staff_merge_duplicates(backend: Backend) {
    let app = setup(backend).await;
    let original = file_pothole(&app).await;
    // About 30 m north of it.
    let (lat, long) = ((IN_W1.0 + 0.00027).to_string(), IN_W1.1.to_string());

    let check =
        format!("/open311/v2/duplicates.json?service_code=POTHOLE&lat={lat}&long={long}&description=deep+pothole");
    let r = app.get(&check).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let found = r.json();
    assert_eq!(found[0]["service_request_id"], original.as_str(), "{found}");
    let distance = found[0]["distance_m"].as_f64().unwrap();
    assert!((25.0..=35.0).contains(&distance), "{distance}");
    assert!(found[0].get("email").is_none() && !r.body.contains("res@example.test"), "no personal data");
    let xml = app.get(&check.replace(".json", ".xml")).await;
    assert!(xml.body.contains("<distance_m>"), "{}", xml.body);
    // Far away, nothing; bad questions get the Open311 error they deserve.
    let far =
        app.get(&format!("/open311/v2/duplicates.json?service_code=POTHOLE&lat={}&long={long}", IN_W1.0 + 0.01)).await;
    assert_eq!(far.json(), serde_json::json!([]));
    assert_eq!(app.get("/open311/v2/duplicates.json?service_code=POTHOLE&lat=41").await.status, 400);
    assert_eq!(
        app.get(&format!("/open311/v2/duplicates.json?service_code=NOPE&lat={lat}&long={long}")).await.status,
        404
    );

    // A neighbour follows the original instead of filing.
    let follow = format!("/open311/v2/requests/{original}/followers.json");
    let r = app.post_form(&follow, &[("api_key", API_KEY), ("email", "neighbour@example.test")]).await;
    assert_eq!(r.status, 202, "pending until the address confirms: {}", r.body);
    assert_eq!(r.json()[0]["service_request_id"], original.as_str());
    assert_eq!(r.json()[0]["following"], "pending");
    assert!(app.store.followers(seq(&original)).await.unwrap().is_empty());
    confirm_follow(&app, &original, "neighbour@example.test").await;
    assert_eq!(app.post_form(&follow, &[("email", "x@example.test")]).await.status, 403);
    let not_a_form = axum::http::Request::post(follow.replace(".json", ".xml"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{}"))
        .unwrap();
    let r = app.call(not_a_form).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("<errors>"), "an Open311 XML error: {}", r.body);
    let bad = app.post_form(&follow, &[("api_key", API_KEY), ("email", "not an address")]).await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("email"));
    let missing = app
        .post_form("/open311/v2/requests/2026-999999/followers.json", &[("api_key", API_KEY), ("email", "a@b.test")])
        .await;
    assert_eq!(missing.status, 404);

    // An app files anyway, asking for extensions: the response names the original.
    let extra = [("attribute[SIZE]", "small"), ("email", "second@example.test"), ("extensions", "true")];
    let r = post_pothole(&app, (IN_W1.0 + 0.00027, IN_W1.1), "Another deep pothole", &extra).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let dup = r.json()[0]["service_request_id"].as_str().unwrap().to_owned();
    assert_eq!(r.json()[0]["duplicates"][0]["service_request_id"], original.as_str(), "{}", r.body);

    // Staff see the same candidate, merge, and everyone following moves over.
    let listed = api(&app, "GET", &format!("/api/v1/requests/{dup}/duplicates"), Some("ali"), None).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.json()["duplicates"][0]["id"], original.as_str());
    assert!(listed.json()["duplicates"].as_array().unwrap().iter().all(|d| d["id"] != dup.as_str()));
    let merged = act(&app, &dup, "pat", serde_json::json!({ "action": "merge", "into": original })).await;
    assert_eq!(merged["status"], "duplicate");
    assert_eq!(merged["merged_into"], original.as_str());
    let followers: Vec<String> =
        app.store.followers(seq(&original)).await.unwrap().into_iter().map(|f| f.address).collect();
    assert!(followers.contains(&"neighbour@example.test".to_owned()), "{followers:?}");
    assert!(followers.contains(&"second@example.test".to_owned()), "the duplicate's requester: {followers:?}");
    let told =
        app.store.outbox(&OutboxQuery { request: Some(seq(&dup)), limit: 50, ..OutboxQuery::default() }).await.unwrap();
    assert!(told.iter().any(|m| m.message.kind == "merged" && m.message.recipient == "second@example.test"));
    let history = app.store.events(seq(&original)).await.unwrap();
    assert!(history.iter().any(|e| e.kind == civic311_domain::request::EventKind::MergedIn));

    // Following the duplicate follows the original; a merged duplicate is never offered again.
    let r = app
        .post_form(
            &format!("/open311/v2/requests/{dup}/followers.json"),
            &[("api_key", API_KEY), ("phone", "+15550199")],
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.json()[0]["service_request_id"], original.as_str());
    let again = app.get(&check).await.json();
    assert!(again.as_array().unwrap().iter().all(|d| d["service_request_id"] != dup.as_str()), "{again}");
}
