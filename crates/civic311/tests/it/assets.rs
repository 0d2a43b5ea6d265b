//! Assets at intake and after: a service about streetlights snaps a report to the
//! nearest one or takes the one named, can require one (refusing a report without it
//! in the interface's own format), offers residents to follow the open request about
//! the light they are about to report, and staff see each light's history — on both
//! backends.

#![allow(clippy::unwrap_used)]

use civic311_app::configure::{By, Imported, put_assets, put_item};
use civic311_domain::asset::Asset;
use civic311_domain::geo::Point;
use civic311_domain::service::AssetUse;
use civic311_store::RequestQuery;
use civic311_testkit::fixture::{API_KEY, IN_W1, IN_W2};
use civic311_testkit::{Backend, TestApp, both_backends};

use crate::common::{Browser, PASSWORD, set_password, setup};

both_backends!(
    a_report_names_its_asset_by_id_or_by_the_nearest_one,
    a_service_that_requires_an_asset_refuses_a_report_without_one,
    importing_the_same_assets_again_changes_nothing,
    the_portal_offers_to_follow_the_open_request_about_an_asset,
    staff_see_an_assets_requests_and_its_repeat_failures,
);

const V2: &str = "/open311/v2";

pub(crate) fn light(id: &str, (lat, lon): (f64, f64)) -> Asset {
    Asset {
        kind: "streetlight".into(),
        id: id.into(),
        name: Some(format!("Pole {id}")),
        point: Point::new(lat, lon).unwrap(),
        line: Vec::new(),
        properties: serde_json::Map::new(),
    }
}

/// SL-1 stands in ward 2, SL-2 in ward 1; bulk pickups concern streetlights (for the
/// test's sake), snapping within 30 m, and `required` says whether one must be named.
pub(crate) async fn with_lights(backend: Backend, required: bool) -> TestApp {
    let app = setup(backend).await;
    let lights = vec![light("SL-1", IN_W2), light("SL-2", IN_W1)];
    assert_eq!(put_assets(&app.state.app, By::Console, "streetlight", lights).await, Ok(Imported::Replaced(2)));
    let mut bulk = app.state.city().service("BULK").unwrap().clone();
    bulk.assets = Some(AssetUse { types: vec!["streetlight".into()], required, snap_m: 30 });
    put_item(&app.state.app, By::Console, bulk).await.unwrap();
    app
}

/// Posts a bulk pickup through Open311 with `fields`; the response.
async fn post(app: &TestApp, format: &str, fields: &[(&str, &str)]) -> civic311_testkit::app::TestResponse {
    let mut all = vec![("api_key", API_KEY), ("service_code", "BULK"), ("description", "Light out")];
    all.extend_from_slice(fields);
    app.post_form(&format!("{V2}/requests.{format}"), &all).await
}

async fn newest(app: &TestApp) -> civic311_domain::request::ServiceRequest {
    let listed = app.store.list_requests(&RequestQuery { limit: 1, ..RequestQuery::default() }).await.unwrap();
    listed.into_iter().next().expect("a request")
}

/// About 10 m north of `at`.
pub(crate) fn beside((lat, lon): (f64, f64)) -> (String, String) {
    ((lat + 0.00009).to_string(), lon.to_string())
}

async fn a_report_names_its_asset_by_id_or_by_the_nearest_one(backend: Backend) {
    let app = with_lights(backend, false).await;
    // A point beside SL-1: snapped to it.
    let (lat, long) = beside(IN_W2);
    assert_eq!(post(&app, "json", &[("lat", &lat), ("long", &long)]).await.status, 201);
    let r = newest(&app).await;
    assert_eq!(r.areas.get("asset").map(String::as_str), Some("streetlight:SL-1"));
    // Named by id alone, as an app that read the service definition does: the request
    // stands where the light does, in its ward.
    assert_eq!(post(&app, "json", &[("attribute[asset_id]", "SL-2")]).await.status, 201);
    let r = newest(&app).await;
    assert_eq!(r.areas.get("asset").map(String::as_str), Some("streetlight:SL-2"));
    assert_eq!(r.location.point.map(|p| (p.lat, p.lon)), Some(IN_W1));
    assert_eq!(r.areas.get("wards").map(String::as_str), Some("W1"));
    // Far from every light and none named: filed without one.
    assert_eq!(post(&app, "json", &[("lat", "41.02"), ("long", "-88.02")]).await.status, 201);
    assert!(!newest(&app).await.areas.contains_key("asset"));
    // A light that does not exist is an error, and nothing is filed.
    let before = app.store.count_requests().await.unwrap();
    let r = post(&app, "json", &[("lat", &lat), ("long", &long), ("attribute[asset_id]", "SL-9")]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.json()[0]["description"].as_str().unwrap().contains("no streetlight has the id SL-9"), "{}", r.body);
    assert_eq!(app.store.count_requests().await.unwrap(), before);
    // A service about no asset has no such question: refused as an unknown one.
    let fields = [
        ("api_key", API_KEY),
        ("service_code", "GRAFFITI"),
        ("description", "Tag"),
        ("lat", lat.as_str()),
        ("long", long.as_str()),
        ("attribute[asset_id]", "SL-1"),
    ];
    let r = app.post_form(&format!("{V2}/requests.json"), &fields).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("has no question asset_id"), "{}", r.body);
    // The service definition tells apps how to name one.
    let def = app.get(&format!("{V2}/services/BULK.json")).await.json();
    let asked = def["attributes"].as_array().unwrap().iter().find(|a| a["code"] == "asset_id").cloned().unwrap();
    assert_eq!(asked["required"], false);
}

async fn a_service_that_requires_an_asset_refuses_a_report_without_one(backend: Backend) {
    let app = with_lights(backend, true).await;
    // Open311, JSON and XML: refused in the format asked for, nothing filed.
    let r = post(&app, "json", &[("lat", "41.02"), ("long", "-88.02")]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()[0]["code"], 400);
    assert!(r.json()[0]["description"].as_str().unwrap().contains("asset_id"), "{}", r.body);
    let r = post(&app, "xml", &[("lat", "41.02"), ("long", "-88.02")]).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("<errors>") && r.body.contains("streetlight"), "{}", r.body);
    assert_eq!(app.store.count_requests().await.unwrap(), 0);
    // The resident's form says it in their words.
    let fields = [("lat", "41.02"), ("long", "-88.02"), ("description", "Dark")];
    let r = app.post_multipart("/report/BULK", &fields, &[]).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("Pick from the list which one has the problem."), "{}", r.body);
    let r = app.post_multipart("/report/BULK?lang=es", &fields, &[]).await;
    assert!(r.body.contains("Elija de la lista cuál tiene el problema."), "{}", r.body);
    assert_eq!(app.store.count_requests().await.unwrap(), 0);
    // Beside a light it is filed, about that light.
    let (lat, long) = beside(IN_W2);
    assert_eq!(post(&app, "json", &[("lat", &lat), ("long", &long)]).await.status, 201);
    assert_eq!(newest(&app).await.areas.get("asset").map(String::as_str), Some("streetlight:SL-1"));
}

async fn importing_the_same_assets_again_changes_nothing(backend: Backend) {
    let app = with_lights(backend, false).await;
    let audited = app.store.config_changes(100).await.unwrap().len();
    let again = vec![light("SL-2", IN_W1), light("SL-1", IN_W2)];
    assert_eq!(put_assets(&app.state.app, By::Console, "streetlight", again).await, Ok(Imported::Unchanged(2)));
    assert_eq!(app.store.config_changes(100).await.unwrap().len(), audited);
    // One moved and one new: only those are written; the other stays.
    let moved = vec![light("SL-1", (IN_W2.0 + 0.001, IN_W2.1)), light("SL-3", IN_W1)];
    assert_eq!(put_assets(&app.state.app, By::Console, "streetlight", moved).await, Ok(Imported::Replaced(2)));
    let stored = app.store.assets().await.unwrap();
    assert_eq!(stored.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["SL-1", "SL-2", "SL-3"]);
    assert!((stored[0].point.lat - (IN_W2.0 + 0.001)).abs() < 1e-9);
    assert_eq!(app.state.city().assets.len(), 3, "this node uses the new layer at once");
    let wrong = vec![light("SL-4", IN_W1)];
    assert!(put_assets(&app.state.app, By::Console, "Street Lights", wrong).await.is_err(), "not a type code");
}

async fn the_portal_offers_to_follow_the_open_request_about_an_asset(backend: Backend) {
    let app = with_lights(backend, true).await;
    let (lat, long) = beside(IN_W2);
    let details = format!("/report/BULK?step=details&lat={lat}&long={long}");
    // Nothing reported yet: the nearby lights to pick from, the nearest picked.
    let page = app.get(&details).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Which one is it?") && page.body.contains("Pole SL-1 (SL-1)"), "{}", page.body);
    assert!(page.body.contains(r#"value="SL-1" checked"#), "{}", page.body);
    assert!(!page.body.contains("already reported"));
    // Once it is reported, the next resident is offered to follow that request.
    assert_eq!(post(&app, "json", &[("lat", &lat), ("long", &long)]).await.status, 201);
    let id = newest(&app).await.id.to_string();
    let page = app.get(&details).await;
    assert!(page.body.contains("This one is already reported"), "{}", page.body);
    assert!(page.body.contains(&format!(r#"formaction="/report/BULK/follow/{id}""#)), "{}", page.body);
    let page = app.get(&format!("{details}&lang=es")).await;
    assert!(page.body.contains("Este ya está reportado"), "{}", page.body);
}

async fn staff_see_an_assets_requests_and_its_repeat_failures(backend: Backend) {
    let app = with_lights(backend, false).await;
    let (lat, long) = beside(IN_W2);
    for _ in 0..2 {
        assert_eq!(post(&app, "json", &[("lat", &lat), ("long", &long)]).await.status, 201);
    }
    let first = newest(&app).await.id.to_string();
    // Staff only: a resident is sent to sign in.
    let page = "/staff/assets/streetlight/SL-1";
    assert_eq!(app.get(page).await.status, 303);
    set_password(&app, "pat", PASSWORD).await;
    let mut pat = Browser::default();
    assert_eq!(pat.sign_in(&app, "pat", PASSWORD, "/staff").await.status, 303);
    let shown = pat.get(&app, page).await;
    assert_eq!(shown.status, 200);
    assert!(shown.body.contains("Pole SL-1") && shown.body.contains(&first), "{}", shown.body);
    assert!(!shown.body.contains("Repeat failure"), "two requests are not three");
    assert_eq!(post(&app, "json", &[("lat", &lat), ("long", &long)]).await.status, 201);
    let shown = pat.get(&app, page).await;
    assert!(shown.body.contains("Repeat failure"), "{}", shown.body);
    // The call taker checking a call beside the light sees it picked, already reported.
    let csrf = crate::common::hidden(&pat.get(&app, "/staff").await.body, "csrf");
    let fields = [("csrf", csrf.as_str()), ("service_code", "BULK"), ("lat", &lat), ("long", &long), ("check", "1")];
    let form = pat.post(&app, "/staff/intake", &fields).await;
    assert!(form.body.contains("Which one does the caller mean?"), "{}", form.body);
    assert!(form.body.contains(r#"value="SL-1" checked"#), "{}", form.body);
    assert!(form.body.contains(&format!(r#"formaction="/staff/intake/follow/{}""#, newest(&app).await.id)));
    // The request page links to it.
    let request = pat.get(&app, &format!("/staff/requests/{first}")).await;
    assert!(request.body.contains(r#"href="/staff/assets/streetlight/SL-1""#), "{}", request.body);
    assert_eq!(pat.get(&app, "/staff/assets/streetlight/SL-9").await.status, 404);
}
