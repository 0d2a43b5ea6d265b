//! The address layer at intake: a typed address is located (so polygon routing runs),
//! an address that names no one place is accepted and marked unverified, and a point
//! gets the nearest address — on both backends.

#![allow(clippy::unwrap_used)]

use civic311_app::configure::{By, Imported, put_address_layer, put_address_rows, put_street_layer};
use civic311_app::intake::LOCATION_UNVERIFIED;
use civic311_domain::address::{AddressPoint, HouseRange, StreetSegment};
use civic311_domain::geo::Point;
use civic311_domain::request::ServiceRequest;
use civic311_store::RequestQuery;
use civic311_testkit::fixture::{API_KEY, IN_W1, IN_W2};
use civic311_testkit::{Backend, TestApp, both_backends};

both_backends!(
    a_typed_address_is_located_and_routed_by_its_ward,
    an_address_that_names_no_one_place_is_accepted_unverified,
    a_point_gets_the_nearest_address,
    the_same_layer_imported_twice_changes_nothing,
    a_layer_that_gives_fewer_points_than_were_checked_writes_nothing,
    suggestions_are_bounded_and_budgeted,
    intersections_and_interpolated_numbers_locate_from_the_centrelines,
);

const V2: &str = "/open311/v2";

fn at(id: &str, number: &str, street: &str, (lat, lon): (f64, f64)) -> AddressPoint {
    AddressPoint {
        id: id.into(),
        number: number.into(),
        street: street.into(),
        unit: None,
        city: Some("Testville".into()),
        postcode: Some("60601".into()),
        point: Point::new(lat, lon).unwrap(),
    }
}

/// 120 Oak Street in ward 2; 120 Oak Avenue and 7 Elm Street in ward 1.
pub(crate) fn layer() -> Vec<AddressPoint> {
    vec![
        at("a1", "120", "Oak Street", IN_W2),
        at("a2", "120", "Oak Avenue", (IN_W1.0 + 0.002, IN_W1.1)),
        at("a3", "7", "Elm Street", (IN_W1.0 + 0.0002, IN_W1.1)),
    ]
}

async fn with_layer(backend: Backend) -> TestApp {
    let app = TestApp::spawn(backend).await;
    assert_eq!(put_address_layer(&app.state.app, By::Console, layer()).await, Ok(Imported::Replaced(3)));
    app
}

/// Files a request through Open311 with `fields` (and the API key); the request stored.
async fn file(app: &TestApp, fields: &[(&str, &str)]) -> ServiceRequest {
    let mut all = vec![("api_key", API_KEY)];
    all.extend_from_slice(fields);
    let r = app.post_form(&format!("{V2}/requests.json"), &all).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let listed = app.store.list_requests(&RequestQuery { limit: 1, ..RequestQuery::default() }).await.unwrap();
    listed.into_iter().next().expect("the request is stored")
}

async fn a_typed_address_is_located_and_routed_by_its_ward(backend: Backend) {
    let app = with_layer(backend).await;
    // Bulk pickups in ward 2 go to the bulk team: a rule on the ward polygon, which
    // only a located request can match. Typed with a typo and the long street type.
    let r =
        file(&app, &[("service_code", "BULK"), ("address_string", "120 oka street"), ("description", "Sofa")]).await;
    let point = r.location.point.expect("located");
    assert_eq!((point.lat, point.lon), IN_W2);
    assert_eq!(r.location.address.as_deref(), Some("120 Oak St"));
    assert_eq!(r.areas.get("wards").map(String::as_str), Some("W2"));
    assert_eq!(r.assignment.team.as_deref(), Some("SAN-BULK"));
    assert!(!r.assignment.tags.iter().any(|t| t == LOCATION_UNVERIFIED), "{:?}", r.assignment.tags);
}

async fn an_address_that_names_no_one_place_is_accepted_unverified(backend: Backend) {
    let app = with_layer(backend).await;
    // Oak Street and Oak Avenue both have a 120: an Open311 client is not refused.
    let r = file(&app, &[("service_code", "BULK"), ("address_string", "120 Oak"), ("description", "Sofa")]).await;
    assert_eq!(r.location.point, None);
    assert_eq!(r.location.address.as_deref(), Some("120 Oak"), "kept as typed");
    assert!(r.assignment.tags.iter().any(|t| t == LOCATION_UNVERIFIED), "{:?}", r.assignment.tags);
    assert_eq!(r.assignment.team, None, "routed by category only");
}

async fn a_point_gets_the_nearest_address(backend: Backend) {
    let app = with_layer(backend).await;
    let (lat, lon) = (IN_W1.0.to_string(), IN_W1.1.to_string());
    let fields = [
        ("service_code", "POTHOLE"),
        ("attribute[SIZE]", "large"),
        ("lat", &lat),
        ("long", &lon),
        ("email", "res@example.test"),
        ("notify", "email"),
    ];
    let r = file(&app, &fields).await;
    assert_eq!(r.location.address.as_deref(), Some("7 Elm St"));
    // The resident's "received" message names the place.
    let query = civic311_store::OutboxQuery { request: Some(r.id.seq), limit: 10, ..Default::default() };
    let sent = app.store.outbox(&query).await.unwrap();
    let received = sent.iter().find(|m| m.message.kind == "received").expect("the received message");
    assert_eq!(received.message.vars.get("where").map(String::as_str), Some(" (7 Elm St)"));
    let shown = app.get(&format!("{V2}/requests/{}.json", r.id)).await;
    assert_eq!(shown.json()[0]["address"], "7 Elm St", "Open311 shows it where the reporter gave none");
    assert_eq!(shown.json()[0]["lat"], IN_W1.0, "the coordinates stay");
    // Pages say it is the address nearest the pin, in the resident's language; the
    // list of reported problems too.
    let page = app.get(&format!("/requests/{}", r.id)).await;
    assert!(page.body.contains("near 7 Elm St"), "{}", page.body);
    let page = app.get(&format!("/requests/{}?lang=es", r.id)).await;
    assert!(page.body.contains("cerca de 7 Elm St"), "{}", page.body);
    assert!(app.get("/requests").await.body.contains("near 7 Elm St"));
    // A request filed at an address reads as that address.
    let typed =
        file(&app, &[("service_code", "BULK"), ("address_string", "120 Oak St"), ("description", "Sofa")]).await;
    let page = app.get(&format!("/requests/{}", typed.id)).await;
    assert!(page.body.contains("120 Oak St") && !page.body.contains("near 120 Oak St"), "{}", page.body);
}

async fn the_same_layer_imported_twice_changes_nothing(backend: Backend) {
    let app = with_layer(backend).await;
    let audited = app.store.config_changes(100).await.unwrap().len();
    let mut shuffled = layer();
    shuffled.reverse();
    assert_eq!(put_address_layer(&app.state.app, By::Console, shuffled).await, Ok(Imported::Unchanged(3)));
    assert_eq!(app.store.config_changes(100).await.unwrap().len(), audited, "nothing audited, nothing written");
    // A newer layer replaces the old one whole, in one audited change.
    let newer = vec![at("b1", "9", "Ash Street", IN_W2)];
    assert_eq!(put_address_layer(&app.state.app, By::Console, newer).await, Ok(Imported::Replaced(1)));
    let stored = app.store.address_points().await.unwrap();
    assert_eq!(stored.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["b1"]);
    let change = app.store.config_changes(1).await.unwrap().remove(0);
    assert_eq!(
        (change.actor.as_str(), change.kind.as_str(), change.body["count"].as_u64()),
        ("console", "addresses", Some(1))
    );
    assert!(app.state.city().addresses.locate("9 Ash St").is_some(), "this node uses the new layer at once");
    assert!(app.state.city().addresses.locate("120 Oak Street").is_none());
}

/// The points of an import are read from its file again as they are written; should
/// fewer come than were checked, the old layer stays whole and the change fails.
async fn a_layer_that_gives_fewer_points_than_were_checked_writes_nothing(backend: Backend) {
    let app = with_layer(backend).await;
    let (before, audited) = (app.store.address_points().await.unwrap(), app.store.config_changes(100).await.unwrap());
    let digest = app.store.layer_digest("addresses").await.unwrap();
    let short = vec![at("b1", "9", "Ash Street", IN_W2)];
    let written = put_address_rows(&app.state.app, By::Console, short.into(), 2, "digest of two".into()).await;
    assert!(written.is_err(), "{written:?}");
    assert_eq!(app.store.address_points().await.unwrap(), before, "the layer as it was");
    assert_eq!(app.store.config_changes(100).await.unwrap().len(), audited.len(), "nothing audited");
    assert_eq!(app.store.layer_digest("addresses").await.unwrap(), digest);
    assert!(app.state.city().addresses.locate("120 Oak Street").is_some(), "this node keeps the layer it had");
}

async fn suggestions_are_bounded_and_budgeted(backend: Backend) {
    let app = with_layer(backend).await;
    let r = app.get("/addresses/suggest?q=120%20oa").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type(), "text/html; charset=utf-8");
    assert_eq!(r.body.trim(), "<option value=\"120 Oak Ave\"></option>\n<option value=\"120 Oak St\"></option>");
    // The address box's own field name works too (htmx sends it).
    assert!(app.get("/addresses/suggest?address_string=7%20elm").await.body.contains("7 Elm St"));
    // Too short or too long to name an address: nothing is looked up.
    assert_eq!(app.get("/addresses/suggest?q=12").await.body.trim(), "");
    let long = "1".repeat(civic311_web::addresses::MAX_TYPED + 1);
    assert_eq!(app.get(&format!("/addresses/suggest?q={long}")).await.body.trim(), "");
    // Each client has a budget; past it, 429 with when to try again.
    let budget = civic311_web::throttle::LOOKUPS.burst;
    for _ in 0..budget {
        app.get("/addresses/suggest?q=oak").await;
    }
    let r = app.get("/addresses/suggest?q=oak").await;
    assert_eq!(r.status, 429);
    assert!(r.headers.get("retry-after").is_some());
}

/// Oak Street runs east–west through ward 2 (100–198 on its sides) and meets Elm
/// Street, which runs north–south, at `IN_W2`.
pub(crate) fn centrelines() -> Vec<StreetSegment> {
    let (lat, lon) = IN_W2;
    let segment = |id: &str, name: &str, line: Vec<[f64; 2]>| StreetSegment {
        id: id.into(),
        name: name.into(),
        lines: vec![line],
        left: Some(HouseRange { from: 100, to: 198 }),
        right: Some(HouseRange { from: 101, to: 199 }),
    };
    vec![
        segment("c1", "Oak Street", vec![[lon - 0.004, lat], [lon, lat], [lon + 0.004, lat]]),
        segment("c2", "Elm Street", vec![[lon, lat - 0.004], [lon, lat]]),
        segment("c3", "Elm Street", vec![[lon, lat], [lon, lat + 0.004]]),
    ]
}

async fn intersections_and_interpolated_numbers_locate_from_the_centrelines(backend: Backend) {
    let app = with_layer(backend).await;
    let by = By::Console;
    assert_eq!(put_street_layer(&app.state.app, by, centrelines()).await, Ok(Imported::Replaced(3)));
    assert_eq!(put_street_layer(&app.state.app, by, centrelines()).await, Ok(Imported::Unchanged(3)));

    // An intersection, written as people write them, is located and routed by ward.
    for typed in ["Oak St & Elm St", "oak and elm"] {
        let r = file(&app, &[("service_code", "BULK"), ("address_string", typed), ("description", "Sofa")]).await;
        let point = r.location.point.unwrap_or_else(|| panic!("{typed} is located"));
        assert!((point.lat - IN_W2.0).abs() < 1e-9 && (point.lon - IN_W2.1).abs() < 1e-9, "{point:?}");
        assert_eq!(r.location.address.as_deref(), Some("Oak St & Elm St"));
        assert_eq!(r.assignment.team.as_deref(), Some("SAN-BULK"), "routed by the ward polygon");
    }
    // A house number the points lack is interpolated along Oak Street's range.
    let r =
        file(&app, &[("service_code", "BULK"), ("address_string", "150 Oak Street"), ("description", "Sofa")]).await;
    assert_eq!(r.location.address.as_deref(), Some("150 Oak St"));
    assert!(r.location.point.is_some_and(|p| p.lon > IN_W2.1 - 0.004 && p.lon < IN_W2.1 + 0.004));
    assert_eq!(r.areas.get("wards").map(String::as_str), Some("W2"));
    // Suggestions offer intersections as they are typed.
    let offered = app.get("/addresses/suggest?q=oak+%26+el").await;
    assert!(offered.body.contains("Oak St &#38; Elm St"), "{}", offered.body);
}
