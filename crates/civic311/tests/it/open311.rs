//! Open311 GeoReport v2, method by method, in both formats, on both backends.

#![allow(clippy::unwrap_used)]

use crate::support;

use civic311_testkit::app::TestResponse;
use civic311_testkit::fixture::{API_KEY, IN_W1, IN_W2, OUTSIDE};
use civic311_testkit::{Backend, TestApp, both_backends};
use support::{assert_valid, assert_valid_list};

both_backends!(
    discovery_and_services_in_both_formats,
    post_routes_commits_and_reads_back_without_personal_data,
    multipart_photo_is_stored_and_served,
    bad_posts_get_the_spec_status_and_change_nothing,
    batch_services_answer_with_a_token,
    list_defaults_filters_and_paging,
    list_parameter_errors,
    xml_documents_match_snapshots,
);

const V2: &str = "/open311/v2";

/// Form fields, the expected status, and a phrase the error must contain.
type Case<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str);

fn pothole<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("api_key", API_KEY),
        ("service_code", "POTHOLE"),
        ("attribute[SIZE]", "large"),
        ("lat", "41.01"),
        ("long", "-88.01"),
        ("description", "Deep hole in the right lane"),
    ];
    f.extend_from_slice(extra);
    f
}

async fn post(app: &TestApp, fields: &[(&str, &str)]) -> TestResponse {
    app.post_form(&format!("{V2}/requests.json"), fields).await
}

async fn created_id(app: &TestApp, fields: &[(&str, &str)]) -> String {
    let r = post(app, fields).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()[0]["service_request_id"].as_str().unwrap().to_owned()
}

async fn discovery_and_services_in_both_formats(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let d = app.get("/open311/discovery.json").await;
    assert_eq!(d.status, 200);
    assert_eq!(d.content_type(), "application/json; charset=utf-8");
    let d = d.json();
    assert_eq!(d["endpoints"][0]["specification"], "http://wiki.open311.org/GeoReport_v2");
    assert_eq!(d["endpoints"][0]["url"], "http://civic311.test/open311/v2");
    assert_eq!(d["endpoints"][0]["formats"][1], "application/json");
    let x = app.get("/open311/discovery.xml").await;
    assert_eq!(x.content_type(), "text/xml; charset=utf-8");
    assert!(
        x.body.contains("<endpoints><endpoint><specification>http://wiki.open311.org/GeoReport_v2</specification>")
    );

    let s = app.get(&format!("{V2}/services.json")).await;
    assert_eq!(s.status, 200);
    let s = s.json();
    assert_valid_list("service", &s);
    let codes: Vec<&str> = s.as_array().unwrap().iter().map(|x| x["service_code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["POTHOLE", "GRAFFITI", "BULK"], "internal-only services never appear");
    assert_eq!(s[0]["metadata"], true);
    assert_eq!(s[1]["type"], "batch");
    assert_eq!(s[0]["keywords"], "pothole, road");

    let def = app.get(&format!("{V2}/services/POTHOLE.json")).await.json();
    assert_valid("service-definition", &def);
    let attrs = def["attributes"].as_array().unwrap();
    let types: Vec<&str> = attrs.iter().map(|a| a["datatype"].as_str().unwrap()).collect();
    assert_eq!(types, ["singlevaluelist", "number", "multivaluelist", "datetime", "string", "text", "string"]);
    assert_eq!(attrs[0]["values"][1]["key"], "large");
    assert_eq!(attrs[6]["variable"], false);
    assert_eq!(app.get(&format!("{V2}/services/FACILITY.json")).await.status, 404, "internal definitions are hidden");
    let missing = app.get(&format!("{V2}/services/NOPE.xml")).await;
    assert_eq!(missing.status, 404);
    assert!(
        missing.body.contains("<errors><error><code>404</code><description>service_code NOPE not found</description>")
    );
    assert_eq!(app.get(&format!("{V2}/services.json?jurisdiction_id=elsewhere.gov")).await.status, 404);
    assert_eq!(app.get(&format!("{V2}/services.json?jurisdiction_id=test.civic311.org")).await.status, 200);
    assert_eq!(app.get(&format!("{V2}/services.json?jurisdiction_id=")).await.status, 200, "empty means absent");
    assert_eq!(app.get(&format!("{V2}/services.html")).await.status, 404);
    let nowhere = app.get(&format!("{V2}/nowhere/at/all.xml")).await;
    assert_eq!(nowhere.status, 404);
    assert!(nowhere.body.contains("<errors><error><code>404</code>"), "{}", nowhere.body);
    let put = app
        .call(axum::http::Request::put(format!("{V2}/services.json")).body(axum::body::Body::empty()).unwrap())
        .await;
    assert_eq!(put.status, 405);
    assert_eq!(put.json()[0]["code"], 405);
}

async fn post_routes_commits_and_reads_back_without_personal_data(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let personal = [
        ("email", "jo.resident@example.org"),
        ("phone", "555-0100"),
        ("first_name", "Josephine"),
        ("last_name", "Residentova"),
        ("device_id", "device-77"),
        ("account_id", "acct-99"),
        ("attribute[HAZARDS][]", "cars"),
        ("attribute[HAZARDS][]", "bikes"),
        ("attribute[DEPTH]", "12.5"),
        ("attribute[SEEN]", "2026-03-02T08:00:00-06:00"),
        ("address_string", "100 Main St"),
        ("zipcode", "60000"),
    ];
    let r = post(&app, &pothole(&personal)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let reply = r.json();
    let id = reply[0]["service_request_id"].as_str().unwrap().to_owned();
    assert_eq!(id, "2026-000001");
    assert_eq!(reply[0]["service_notice"], "Potholes are usually filled within 3 business days.");
    assert_eq!(reply[0]["account_id"], "acct-99");

    // Committed: the store has it, with the private details kept.
    let stored = app.store.request(1).await.unwrap().expect("committed before the reply");
    assert_eq!(stored.contact.email.as_deref(), Some("jo.resident@example.org"));
    assert_eq!(stored.answers["HAZARDS"], ["cars", "bikes"]);
    assert_eq!(stored.areas["wards"], "W1");

    let one = app.get(&format!("{V2}/requests/{id}.json")).await;
    assert_eq!(one.status, 200);
    let one_json = one.json();
    assert_valid_list("request", &one_json);
    let req = &one_json[0];
    assert_eq!(req["status"], "open");
    assert_eq!(req["service_name"], "Pothole");
    assert_eq!(req["agency_responsible"], "Public Works");
    assert_eq!(req["requested_datetime"], "2026-03-03T15:00:00-06:00");
    assert_eq!(req["lat"], 41.01);
    assert_eq!(req["address"], "100 Main St");
    let xml = app.get(&format!("{V2}/requests/{id}.xml")).await;
    assert!(xml.body.contains("<service_request_id>2026-000001</service_request_id>"));
    let list = app.get(&format!("{V2}/requests.json?extensions=true")).await;
    assert_valid_list("request", &list.json());
    for body in [&one.body, &xml.body, &list.body] {
        for (_, secret) in &personal[..6] {
            assert!(!body.contains(secret), "personal data '{secret}' leaked: {body}");
        }
    }
    // A keyword raises priority; the routing trace is recorded.
    let gas_fields: Vec<_> = pothole(&[]).into_iter().filter(|(k, _)| *k != "description").collect();
    let gas = created_id(&app, &[gas_fields, vec![("description", "Smell of GAS near the hole")]].concat()).await;
    let ext = app.get(&format!("{V2}/requests/{gas}.json?extensions=true")).await.json();
    assert_eq!(ext[0]["extended_attributes"]["priority"], "urgent");
    assert_eq!(ext[0]["extended_attributes"]["areas"][0]["name"], "Ward 1");
    assert_eq!(ext[0]["notes"][0]["description"], "Request received");
    assert_eq!(ext[0]["notes"][0]["datetime"], "2026-03-03T15:00:00-06:00");
    assert_eq!(ext[0]["notes"].as_array().unwrap().len(), 1, "routing is internal, not a public note");
    let events = app.store.events(2).await.unwrap();
    assert_eq!(events[1].data["priority_from"], "rule 'gas is urgent'");

    // Bulk items in ward 2 go to the bulk team's department by rule.
    let bulk =
        created_id(&app, &[("api_key", API_KEY), ("service_code", "BULK"), ("lat", "41.01"), ("long", "-87.99")]).await;
    let b = app.get(&format!("{V2}/requests/{bulk}.json")).await.json();
    assert_eq!(b[0]["agency_responsible"], "Sanitation");
    assert_eq!(app.store.request(3).await.unwrap().unwrap().assignment.team.as_deref(), Some("SAN-BULK"));

    // Ids that do not exist, or name the wrong year, are 404.
    assert_eq!(app.get(&format!("{V2}/requests/2025-000001.json")).await.status, 404);
    assert_eq!(app.get(&format!("{V2}/requests/999.json")).await.status, 404);
    assert_eq!(app.get(&format!("{V2}/requests/banana.xml")).await.status, 404);
    let _ = IN_W2;
}

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D,
    0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

async fn multipart_photo_is_stored_and_served(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = app
        .post_multipart(&format!("{V2}/requests.xml"), &pothole(&[]), &[("media", "hole.png", "image/png", PNG)])
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(
        r.body
            .starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<service_requests><request><service_request_id>")
    );
    let doc = app.get(&format!("{V2}/requests/2026-000001.json")).await.json();
    assert_valid_list("request", &doc);
    let url = doc[0]["media_url"].as_str().unwrap();
    let path = url.strip_prefix("http://civic311.test").expect("absolute media_url");
    let (status, headers, bytes) = app.get_bytes(path).await;
    assert_eq!(status, 200);
    // Re-encoded without metadata; with transparency it stays a PNG.
    assert_eq!(headers["content-type"], "image/png");
    assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
    assert_eq!(app.get("/media/424242").await.status, 404);

    // Photos of internal-only requests are not served publicly.
    let raw = civic311_app::intake::RawRequest {
        service_code: "FACILITY".into(),
        address: Some("City Hall".into()),
        media: vec![civic311_domain::request::Media {
            content_type: "image/png".into(),
            bytes: PNG.to_vec(),
            public: true,
        }],
        ..Default::default()
    };
    let city = app.state.city();
    let intake =
        civic311_app::intake::prepare(&city, raw, civic311_domain::request::Channel::Internal, app.now(), "t-1".into())
            .map_err(|e| format!("{e:?}"))
            .unwrap();
    let internal = app.store.create_request(intake).await.unwrap();
    assert_eq!(app.get(&format!("/media/{}", internal.media_ids[0])).await.status, 404);
    assert_eq!(app.get(&format!("{V2}/requests/{}.json", internal.id)).await.status, 404);
}

async fn bad_posts_get_the_spec_status_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let long = "x".repeat(4001);
    let cases: Vec<Case> = vec![
        (pothole(&[]).into_iter().filter(|(k, _)| *k != "api_key").collect(), 403, "api_key is required"),
        (
            pothole(&[]).into_iter().map(|(k, v)| if k == "api_key" { (k, "wrong") } else { (k, v) }).collect(),
            403,
            "api_key is not valid",
        ),
        (vec![("api_key", API_KEY), ("lat", "41.01"), ("long", "-88.01")], 400, "service_code: is required"),
        (
            vec![("api_key", API_KEY), ("service_code", "NOPE"), ("lat", "41.01"), ("long", "-88.01")],
            404,
            "service_code NOPE not found",
        ),
        (
            vec![("api_key", API_KEY), ("service_code", "FACILITY"), ("lat", "41.01"), ("long", "-88.01")],
            404,
            "FACILITY not found",
        ),
        (
            pothole(&[("description", long.as_str())])
                .into_iter()
                .filter(|(k, v)| *k != "description" || v.len() > 100)
                .collect(),
            400,
            "at most 4000 characters",
        ),
        (
            pothole(&[]).into_iter().filter(|(k, _)| *k != "attribute[SIZE]").collect(),
            400,
            "attribute[SIZE]: an answer is required",
        ),
        (
            pothole(&[]).into_iter().map(|(k, v)| if k == "attribute[SIZE]" { (k, "huge") } else { (k, v) }).collect(),
            400,
            "'huge' is not one of the allowed values",
        ),
        (pothole(&[("attribute[DEPTH]", "deep")]), 400, "attribute[DEPTH]: 'deep' is not a number"),
        (pothole(&[("attribute[SEEN]", "yesterday")]), 400, "attribute[SEEN]"),
        (pothole(&[("attribute[COLOUR]", "red")]), 400, "has no question COLOUR"),
        (pothole(&[("attribute[HAZARDS][]", "trains")]), 400, "'trains' is not one of the allowed values"),
        (
            pothole(&[]).into_iter().map(|(k, v)| if k == "lat" { (k, "north") } else { (k, v) }).collect(),
            400,
            "lat: 'north' is not a number",
        ),
        (
            pothole(&[]).into_iter().map(|(k, v)| if k == "lat" { (k, "91") } else { (k, v) }).collect(),
            400,
            "latitude must be a number between -90 and 90",
        ),
        (pothole(&[]).into_iter().filter(|(k, _)| *k != "long").collect(), 400, "lat and long must be given together"),
        (
            pothole(&[]).into_iter().filter(|(k, _)| *k != "lat" && *k != "long").collect(),
            400,
            "a location is required",
        ),
        (pothole(&[("email", "not-an-email")]), 400, "is not an email address"),
        (pothole(&[("media_url", "javascript:alert(1)")]), 400, "media_url"),
        (pothole(&[("jurisdiction_id", "elsewhere.gov")]), 404, "jurisdiction_id elsewhere.gov not found"),
    ];
    for (fields, status, message) in &cases {
        let r = post(&app, fields).await;
        assert_eq!(r.status, *status, "{fields:?} → {}", r.body);
        let doc = r.json();
        assert_eq!(doc[0]["code"], *status);
        assert!(r.body.contains(message), "expected '{message}' in {}", r.body);
    }
    let (lat, long) = (OUTSIDE.0.to_string(), OUTSIDE.1.to_string());
    let outside = pothole(&[])
        .into_iter()
        .filter(|(k, _)| *k != "lat" && *k != "long")
        .chain([("lat", lat.as_str()), ("long", long.as_str())]);
    let r = post(&app, &outside.collect::<Vec<_>>()).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("is outside Testville"), "{}", r.body);

    // Several problems are listed together; XML errors use the spec's document.
    let r = app
        .post_form(&format!("{V2}/requests.xml"), &pothole(&[("attribute[DEPTH]", "deep"), ("email", "nope")]))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.content_type(), "text/xml; charset=utf-8");
    assert_eq!(r.body.matches("<error><code>400</code>").count(), 2, "{}", r.body);

    // Uploads that are not photos, and bodies that are neither form nor multipart.
    let r = app
        .post_multipart(
            &format!("{V2}/requests.json"),
            &pothole(&[]),
            &[("media", "x.exe", "application/x-msdownload", b"MZ")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("photos must be JPEG, PNG, WebP or GIF"));
    let r = app
        .post_multipart(
            &format!("{V2}/requests.json"),
            &pothole(&[]),
            &[("media", "x.png", "image/png", b"MZ-not-a-png")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("not a valid image/png image"), "{}", r.body);
    let req = axum::http::Request::post(format!("{V2}/requests.json"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{}"))
        .unwrap();
    assert_eq!(app.call(req).await.status, 400);

    assert_eq!(app.store.count_requests().await.unwrap(), 0, "nothing was written");
}

async fn batch_services_answer_with_a_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = post(&app, &[("api_key", API_KEY), ("service_code", "GRAFFITI"), ("address_string", "5 Elm St")]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let doc = r.json();
    assert!(doc[0].get("service_request_id").is_none());
    let token = doc[0]["token"].as_str().unwrap();
    let t = app.get(&format!("{V2}/tokens/{token}.json")).await;
    assert_eq!(t.status, 200);
    assert_eq!(t.json()[0]["service_request_id"], "2026-000001");
    assert_eq!(t.json()[0]["token"], token);
    let x = app.get(&format!("{V2}/tokens/{token}.xml")).await;
    assert!(x.body.contains(&format!("<token>{token}</token>")));
    assert_eq!(app.get(&format!("{V2}/tokens/nope.json")).await.status, 404);
    assert_eq!(app.get(&format!("{V2}/tokens/{token}.json?jurisdiction_id=elsewhere.gov")).await.status, 404);
    // A request located by address only has no coordinates.
    let one = app.get(&format!("{V2}/requests/2026-000001.json")).await.json();
    assert_valid_list("request", &one);
    assert_eq!(one[0]["lat"], serde_json::Value::Null);
    assert_eq!(one[0]["address"], "5 Elm St");
}

async fn list_defaults_filters_and_paging(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // One request a day for 100 days before "now"; the default window is 90 days.
    let mut days = Vec::new();
    for d in (0..100).rev() {
        app.set_now(&jiff::Timestamp::from_second(1_772_571_600 - d * 86_400).unwrap().to_string());
        let (lat, long) = if d % 2 == 0 { ("41.01", "-88.01") } else { ("41.01", "-87.99") };
        let code = if d % 10 == 0 { "BULK" } else { "POTHOLE" };
        let fields = vec![
            ("api_key", API_KEY),
            ("service_code", code),
            ("attribute[SIZE]", "small"),
            ("lat", lat),
            ("long", long),
        ];
        let fields: Vec<_> = fields.into_iter().filter(|(k, _)| code == "POTHOLE" || *k != "attribute[SIZE]").collect();
        days.push(created_id(&app, &fields).await);
    }
    let ids = |r: TestResponse| -> Vec<String> {
        let doc = r.json();
        assert_valid_list("request", &doc);
        doc.as_array().unwrap().iter().map(|x| x["service_request_id"].as_str().unwrap().to_owned()).collect()
    };
    let all = ids(app.get(&format!("{V2}/requests.json")).await);
    assert_eq!(all.len(), 91, "the last 90 days, both ends included");
    assert_eq!(all[0], days[99], "newest first");

    let potholes = ids(app.get(&format!("{V2}/requests.json?service_code=POTHOLE")).await);
    assert_eq!(potholes.len(), 81);
    let both = ids(app.get(&format!("{V2}/requests.json?service_code=POTHOLE,BULK")).await);
    assert_eq!(both.len(), 91);

    let start = jiff::Timestamp::from_second(1_772_571_600 - 9 * 86_400).unwrap();
    let window = ids(app.get(&format!("{V2}/requests.json?start_date={start}")).await);
    assert_eq!(window.len(), 10);
    let end = jiff::Timestamp::from_second(1_772_571_600 - 95 * 86_400).unwrap();
    let old = ids(app.get(&format!("{V2}/requests.json?end_date={end}")).await);
    assert_eq!(old.len(), 5, "end_date alone looks 90 days back from it");

    let p1 = ids(app.get(&format!("{V2}/requests.json?page_size=10")).await);
    let p2 = ids(app.get(&format!("{V2}/requests.json?page_size=10&page=2")).await);
    assert_eq!(p1, all[..10]);
    assert_eq!(p2, all[10..20]);
    assert!(
        ids(app.get(&format!("{V2}/requests.json?page=50")).await).is_empty(),
        "past the end is empty, not an error"
    );

    let picked =
        ids(app.get(&format!("{V2}/requests.json?service_request_id={},{}&service_code=BULK", days[0], days[5])).await);
    assert_eq!(picked.len(), 2, "an id list overrides the other filters, even the date window");

    let near = ids(app.get(&format!("{V2}/requests.json?lat={}&long={}&radius=200", IN_W1.0, IN_W1.1)).await);
    assert_eq!(near.len(), 46);
    let bbox = ids(app.get(&format!("{V2}/requests.json?bbox=-88.0,41.0,-87.98,41.02")).await);
    assert_eq!(bbox.len(), 45);

    assert!(ids(app.get(&format!("{V2}/requests.json?status=closed")).await).is_empty());
    assert_eq!(ids(app.get(&format!("{V2}/requests.json?status=open")).await).len(), 91);

    let updated = ids(app.get(&format!("{V2}/requests.json?updated_after={start}")).await);
    assert_eq!(updated.len(), 10);
    let xml = app.get(&format!("{V2}/requests.xml?page_size=2")).await;
    assert_eq!(xml.body.matches("<request>").count(), 2);
}

async fn list_parameter_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cases = [
        ("start_date=yesterday", 400, "start_date: 'yesterday' is not a W3C date-time"),
        ("end_date=2026-13-01T00:00:00Z", 400, "end_date"),
        ("start_date=2026-01-01T00:00:00Z&end_date=2026-04-02T00:00:00Z", 400, "at most 90 days"),
        ("start_date=2026-03-01T00:00:00Z&end_date=2026-02-01T00:00:00Z", 400, "must not be before start_date"),
        ("status=pending", 400, "status: 'pending' must be open or closed"),
        ("service_code=NOPE", 404, "service_code NOPE not found"),
        ("service_code=FACILITY", 404, "service_code FACILITY not found"),
        ("page=0", 400, "page: must be between 1"),
        ("page=two", 400, "page: 'two' is not a valid number"),
        ("page_size=1001", 400, "page_size: must be between 1 and 1000"),
        ("page_size=0", 400, "page_size"),
        ("lat=41&long=-88", 400, "give all three"),
        ("lat=95&long=-88&radius=10", 400, "latitude"),
        ("lat=41&long=-88&radius=-1", 400, "radius"),
        ("bbox=1,2,3", 400, "bbox"),
        ("bbox=-87,41,-88,42", 400, "bbox"),
        ("updated_after=soon", 400, "updated_after"),
        ("service_request_id=abc", 400, "service_request_id: 'abc' is not a request id"),
        ("extensions=maybe", 400, "extensions"),
        ("jurisdiction_id=elsewhere.gov", 404, "jurisdiction_id"),
    ];
    for (query, status, message) in cases {
        for ext in ["json", "xml"] {
            let r = app.get(&format!("{V2}/requests.{ext}?{query}")).await;
            assert_eq!(r.status, status, "{query} → {}", r.body);
            assert!(r.body.contains(message), "{query}: expected '{message}' in {}", r.body);
        }
    }
    // Empty parameters behave exactly like absent ones.
    assert_eq!(app.get(&format!("{V2}/requests.json?start_date=&status=&page=")).await.status, 200);
}

async fn xml_documents_match_snapshots(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    insta::assert_snapshot!("services_xml", app.get(&format!("{V2}/services.xml")).await.body);
    insta::assert_snapshot!("pothole_definition_xml", app.get(&format!("{V2}/services/POTHOLE.xml")).await.body);
    created_id(&app, &pothole(&[("address_string", "12 Oak & Ash <corner>")])).await;
    insta::assert_snapshot!("request_xml", app.get(&format!("{V2}/requests/2026-000001.xml")).await.body);
    insta::assert_snapshot!("error_xml", app.get(&format!("{V2}/requests.xml?status=pending")).await.body);
}
