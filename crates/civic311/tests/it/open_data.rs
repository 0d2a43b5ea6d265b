//! The open-data exports (docs/OPEN_DATA.md): nothing private or internal in any format,
//! a sensitive service published as its policy says, the change feed neither skipping
//! nor repeating while requests are written, filters, gzip, entity tags, clear refusals,
//! and a whole demo city streamed page after page.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use civic311_app::intake::{RawRequest, submit};
use civic311_domain::request::Channel;
use civic311_testkit::fixture::{API_KEY, IN_W1, IN_W2};
use civic311_testkit::{Backend, TestApp, both_backends};
use common::{act, api, post_pothole, setup};
use serde_json::{Value, json};

use crate::common;

both_backends!(
    nothing_private_or_internal_is_in_any_export,
    a_service_published_by_cell_shows_its_cells_centre_and_no_address,
    the_change_feed_neither_skips_nor_repeats_while_requests_are_written,
    exports_filter_compress_carry_a_tag_and_refuse_bad_input,
    a_whole_demo_city_streams_in_filing_order,
    the_open_data_is_described_for_people_and_for_portals,
    nightly_dumps_are_the_whole_export_kept_listed_and_served
);

const FORMATS: [&str; 3] = ["csv", "json", "geojson"];

/// GETs `uri`, gzipped when asked; the status, headers and the body as text.
async fn fetch(app: &TestApp, uri: &str, gzip: bool) -> (u16, axum::http::HeaderMap, String) {
    let mut req = axum::http::Request::get(uri);
    if gzip {
        req = req.header("accept-encoding", "gzip");
    }
    let (status, headers, bytes) = app.call_bytes(req.body(axum::body::Body::empty()).unwrap()).await;
    let gzipped = headers.get("content-encoding").is_some_and(|v| v == "gzip");
    assert_eq!(gzipped, gzip && status == 200, "{uri}: {headers:?}");
    let body = if gzipped {
        let mut text = String::new();
        flate2::read::GzDecoder::new(bytes.as_slice()).read_to_string(&mut text).unwrap();
        text
    } else {
        String::from_utf8(bytes).unwrap()
    };
    (status.as_u16(), headers, body)
}

/// The rows of an export in any format, as column → value (empty for none).
fn rows(format: &str, body: &str) -> Vec<BTreeMap<String, String>> {
    let text = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match format {
        "csv" => {
            let mut reader = csv::Reader::from_reader(body.as_bytes());
            let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
            reader
                .records()
                .map(|r| header.iter().cloned().zip(r.unwrap().iter().map(str::to_owned)).collect())
                .collect()
        }
        "json" => {
            let doc: Value = serde_json::from_str(body).unwrap();
            doc.as_array()
                .unwrap()
                .iter()
                .map(|o| o.as_object().unwrap().iter().map(|(k, v)| (k.clone(), text(v))).collect())
                .collect()
        }
        _ => {
            let doc: Value = serde_json::from_str(body).unwrap();
            assert_eq!(doc["type"], "FeatureCollection");
            doc["features"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    let mut row: BTreeMap<String, String> =
                        f["properties"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), text(v))).collect();
                    let c = &f["geometry"]["coordinates"];
                    row.insert("long".into(), if c.is_null() { String::new() } else { text(&c[0]) });
                    row.insert("lat".into(), if c.is_null() { String::new() } else { text(&c[1]) });
                    row
                })
                .collect()
        }
    }
}

/// Waits (at most a minute) until the change feed hands out request `id`. On PostgreSQL
/// the feed serves a change only once every transaction that began before it has ended,
/// on the whole server: another test's database on it can hold a page back for a moment.
async fn feed_reaches(app: &TestApp, id: &str) {
    for _ in 0..600 {
        let (status, _, body) = fetch(app, "/open-data/requests.json?limit=10000", false).await;
        assert_eq!(status, 200, "{body}");
        if by_id(rows("json", &body)).contains_key(id) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the change feed never reached request {id}");
}

fn by_id(rows: Vec<BTreeMap<String, String>>) -> BTreeMap<String, BTreeMap<String, String>> {
    rows.into_iter().map(|r| (r["service_request_id"].clone(), r)).collect()
}

/// Every private field of every kind of request carries a marker of its own; no export,
/// in any format, plain or gzipped, whole or as a change-feed page, holds one, and
/// neither does the dashboard or any of its tables.
async fn nothing_private_or_internal_is_in_any_export(backend: Backend) {
    let app = setup(backend).await;
    common::publish_to_the_block(&app, "BULK").await;
    let extra = [
        ("email", "mk-email-77@example.test"),
        ("phone", "+1 303 555 0177"),
        ("first_name", "Mkfirstname"),
        ("last_name", "Mklastname"),
        ("device_id", "mk-device-77"),
        ("account_id", "mk-account-77"),
        ("attribute[SIZE]", "large"),
        ("attribute[LANDMARK]", "mk-landmark-77"),
        ("attribute[DETAILS]", "mk-details-77"),
    ];
    let r = post_pothole(&app, IN_W1, "Deep hole by the school", &extra).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let pothole = r.json()[0]["service_request_id"].as_str().unwrap().to_owned();
    act(&app, &pothole, "ada", json!({ "action": "note", "text": "mk-internal-note-77", "public": false })).await;
    act(&app, &pothole, "ada", json!({ "action": "assign", "assignee": "pat" })).await;
    act(&app, &pothole, "ada", json!({ "action": "start", "internal_note": "mk-start-77" })).await;

    let words = "mk-bulk-words-77: the sofa of the tenant in 4B";
    let bulk = common::file_bulk_on_elm(&app, words, &[("email", "mk-bulk-email-77@example.test")]).await;
    act(&app, &bulk, "ada", json!({ "action": "resolve", "note": "mk-bulk-resolution-77" })).await;

    let mut raw = RawRequest {
        service_code: "FACILITY".into(),
        description: "mk-internal-request-77".into(),
        lat: Some(IN_W2.0.to_string()),
        long: Some(IN_W2.1.to_string()),
        ..RawRequest::default()
    };
    raw.contact.email = Some("mk-facility-77@example.test".into());
    let internal = submit(&app.state, raw, Channel::Internal).await.unwrap().id.to_string();
    feed_reaches(&app, &bulk).await;

    let markers = [
        "mk-email-77",
        "555 0177",
        "5550177",
        "Mkfirstname",
        "Mklastname",
        "mk-device-77",
        "mk-account-77",
        "mk-landmark-77",
        "mk-details-77",
        "mk-internal-note-77",
        "mk-start-77",
        "Pat Public Works",
        "SAN-BULK",
        "mk-bulk-words-77",
        "tenant in 4B",
        "mk-bulk-email-77",
        "mk-bulk-resolution-77",
        "1234 Elm",
        "41.01234",
        "87.98766",
        "mk-internal-request-77",
        "mk-facility-77",
        "Facilities repair",
        internal.as_str(),
    ];
    // The dashboard, in each language and each of its tables' CSVs.
    let mut pages = vec!["/open-data?lang=en".to_owned(), "/open-data?lang=es&period=365".to_owned()];
    for table in ["categories", "areas", "time", "escalations", "backlog", "hotspots"] {
        pages.push(format!("/open-data?table={table}&format=csv"));
    }
    for uri in &pages {
        let (status, _, body) = fetch(&app, uri, false).await;
        assert_eq!(status, 200, "{uri}: {body}");
        for m in markers.iter().chain(["Facilities", "mk-bulk"].iter()) {
            assert!(!body.to_lowercase().contains(&m.to_lowercase()), "{uri} holds {m}: {body}");
        }
    }
    for format in FORMATS {
        for query in ["", "?limit=100", "?updated_after=2000-01-01T00:00:00Z", "?wards=W2&service_code=BULK"] {
            for gzip in [false, true] {
                let uri = format!("/open-data/requests.{format}{query}");
                let (status, _, body) = fetch(&app, &uri, gzip).await;
                assert_eq!(status, 200, "{uri}: {body}");
                for m in markers {
                    assert!(!body.to_lowercase().contains(&m.to_lowercase()), "{uri} (gzip {gzip}) holds {m}: {body}");
                }
                let found = by_id(rows(format, &body));
                assert!(!found.contains_key(&internal), "{uri}");
                let b = &found[&bulk];
                assert_eq!(b["description"], "", "{uri}: the words of a sensitive service are withheld");
                assert_eq!(b["status_notes"], "", "{uri}");
                assert_eq!(b["address"], "1200 block of Elm St", "{uri}");
                assert_eq!((b["lat"].as_str(), b["long"].as_str()), ("41.012", "-87.988"), "{uri}");
                assert_eq!(b["service_name"], "Bulk item pickup");
                assert_eq!(b["status_description"], "resolved");
                assert_eq!(b["wards"], "W2");
                if query.contains("BULK") {
                    assert_eq!(found.len(), 1, "{uri}");
                    continue;
                }
                let p = &found[&pothole];
                assert_eq!(p["description"], "Deep hole by the school", "{uri}");
                assert_eq!((p["lat"].as_str(), p["long"].as_str()), ("41.01", "-88.01"), "{uri}");
                assert_eq!(p["agency_responsible"], "Public Works");
                assert_eq!(p["source"], "Mobile app");
                assert_eq!(p["channel"], "mobile");
                assert_eq!(p["requested_datetime"], "2026-03-03T15:00:00-06:00");
                assert_eq!(p["closed_date"], "");
                assert_eq!(found.len(), 2, "{uri}");
            }
        }
    }
}

/// A service published by H3 cell: each request's point becomes the centre of its cell
/// (worked out here with H3's own library, to six decimals), two reports metres apart in one cell are
/// published at the same place, the address is left out, and neither the address nor
/// the reported coordinates appear anywhere in the export.
async fn a_service_published_by_cell_shows_its_cells_centre_and_no_address(backend: Backend) {
    use civic311_domain::service::{OpenDataPolicy, Precision};
    let app = setup(backend).await;
    common::publish_as(&app, "POTHOLE", OpenDataPolicy { withhold_text: false, location: Precision::Cell(9) }).await;
    let reported = [(41.01234, -88.00766), (41.01237, -88.00771), (41.00512, -87.99533)];
    let mut ids = Vec::new();
    for (n, at) in reported.iter().enumerate() {
        let address = format!("{} Mkcell Ave", 70 + n);
        let extra = [("attribute[SIZE]", "small"), ("address_string", address.as_str())];
        let r = post_pothole(&app, *at, &format!("Hole {n}"), &extra).await;
        assert_eq!(r.status, 201, "{}", r.body);
        ids.push(r.json()[0]["service_request_id"].as_str().unwrap().to_owned());
    }
    let centre = |(lat, lon): (f64, f64)| {
        let cell = h3o::LatLng::new(lat, lon).unwrap().to_cell(h3o::Resolution::Nine);
        let c = h3o::LatLng::from(cell);
        let six = |v: f64| (v * 1e6).round() / 1e6;
        (cell, six(c.lat()), six(c.lng()))
    };
    let cells: Vec<_> = reported.iter().map(|at| centre(*at)).collect();
    assert_eq!(cells[0].0, cells[1].0, "the first two reports are metres apart, in one cell");
    assert_ne!(cells[0].0, cells[2].0);
    for format in FORMATS {
        let uri = format!("/open-data/requests.{format}");
        let (status, _, body) = fetch(&app, &uri, false).await;
        assert_eq!(status, 200, "{uri}: {body}");
        for marker in ["Mkcell", "41.0123", "88.007", "41.00512", "87.99533"] {
            assert!(!body.contains(marker), "{uri} holds {marker}: {body}");
        }
        let found = by_id(rows(format, &body));
        for (id, (_, lat, lon)) in ids.iter().zip(&cells) {
            let row = &found[id];
            assert_eq!(row["address"], "", "{uri}");
            let published: (f64, f64) = (row["lat"].parse().unwrap(), row["long"].parse().unwrap());
            assert_eq!(published, (*lat, *lon), "{uri}: {id} is published at its cell's centre");
        }
        assert_eq!(found[&ids[0]]["description"], "Hole 0", "{uri}: the text is not withheld by this policy");
        assert_eq!(found[&ids[0]]["lat"], found[&ids[1]]["lat"], "{uri}");
    }
}

/// Readers follow the feed a few rows at a time while requests are filed and changed;
/// every request filed is seen exactly once, and a request changed after it was seen is
/// seen once more, with the change, and nothing else is.
async fn the_change_feed_neither_skips_nor_repeats_while_requests_are_written(backend: Backend) {
    let app = setup(backend).await;
    const FILED: usize = 60;
    let write = async {
        let mut ids = Vec::new();
        for i in 0..FILED {
            let r = post_pothole(&app, IN_W1, &format!("Hole {i}"), &[("attribute[SIZE]", "small")]).await;
            assert_eq!(r.status, 201, "{}", r.body);
            ids.push(r.json()[0]["service_request_id"].as_str().unwrap().to_owned());
            tokio::task::yield_now().await;
        }
        ids
    };
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut cursor = String::new();
    let read_page = |cursor: String| {
        let app = &app;
        async move {
            let uri = if cursor.is_empty() {
                "/open-data/requests.json?limit=7".to_owned()
            } else {
                format!("/open-data/requests.json?limit=7&cursor={cursor}")
            };
            let (status, headers, body) = fetch(app, &uri, false).await;
            assert_eq!(status, 200, "{body}");
            let link = headers["link"].to_str().unwrap().to_owned();
            let next = link.split("cursor=").nth(1).unwrap().split('>').next().unwrap().to_owned();
            (rows("json", &body), next)
        }
    };
    let read = async {
        let mut pages = Vec::new();
        for _ in 0..40 {
            let (page, next) = read_page(cursor.clone()).await;
            cursor = next;
            pages.push(page);
            tokio::task::yield_now().await;
        }
        pages
    };
    let (filed, pages) = tokio::join!(write, read);
    for row in pages.into_iter().flatten() {
        *seen.entry(row["service_request_id"].clone()).or_default() += 1;
    }
    // What was still being written when the reader paused is read now, until the feed
    // has given every request (PostgreSQL holds back changes while older
    // transactions of other work run; each pass waits a little for them).
    for _ in 0..200 {
        if filed.iter().all(|id| seen.contains_key(id)) {
            break;
        }
        let (page, next) = read_page(cursor.clone()).await;
        cursor = next;
        if page.is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        for row in page {
            *seen.entry(row["service_request_id"].clone()).or_default() += 1;
        }
    }
    let wanted: BTreeSet<&String> = filed.iter().collect();
    let got: BTreeSet<&String> = seen.keys().collect();
    assert_eq!(got, wanted, "every request filed, and nothing else");
    assert!(seen.values().all(|n| *n == 1), "none twice: {seen:?}");

    // Five change; the feed gives exactly those five again, resolved.
    for id in &filed[10..15] {
        act(&app, id, "ada", json!({ "action": "resolve", "note": "Filled" })).await;
    }
    let mut again = Vec::new();
    for _ in 0..200 {
        let (page, next) = read_page(cursor.clone()).await;
        cursor = next;
        if page.is_empty() {
            if again.len() >= 5 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        again.extend(page);
    }
    let ids: Vec<&str> = again.iter().map(|r| r["service_request_id"].as_str()).collect();
    assert_eq!(ids, filed[10..15].iter().map(String::as_str).collect::<Vec<_>>());
    assert!(again.iter().all(|r| r["status_description"] == "resolved" && !r["closed_date"].is_empty()));
}

async fn exports_filter_compress_carry_a_tag_and_refuse_bad_input(backend: Backend) {
    let app = setup(backend).await;
    app.set_now("2026-03-02T09:00:00-06:00");
    let monday = post_pothole(&app, IN_W1, "Two lines,\n\"quoted\", and a comma", &[("attribute[SIZE]", "small")])
        .await
        .json()[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Late on Tuesday in the city is Wednesday in UTC: still Tuesday's.
    app.set_now("2026-03-03T23:30:00-06:00");
    let tuesday =
        post_pothole(&app, IN_W2, "Hole", &[("attribute[SIZE]", "small")]).await.json()[0]["service_request_id"]
            .as_str()
            .unwrap()
            .to_owned();
    app.set_now("2026-03-04T08:00:00-06:00");
    let bulk = app
        .post_form(
            "/open311/v2/requests.json",
            &[("api_key", API_KEY), ("service_code", "BULK"), ("lat", "41.01"), ("long", "-87.99")],
        )
        .await
        .json()[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let ids = |format: &str, body: &str| -> Vec<String> {
        rows(format, body).into_iter().map(|r| r["service_request_id"].clone()).collect()
    };
    let one = |id: &String| vec![id.clone()];
    for format in FORMATS {
        let get = |q: &str| {
            let uri = format!("/open-data/requests.{format}{q}");
            let app = &app;
            async move { fetch(app, &uri, false).await }
        };
        let (_, _, all) = get("").await;
        assert_eq!(ids(format, &all), [monday.clone(), tuesday.clone(), bulk.clone()], "filing order");
        let text = &rows(format, &all)[0]["description"];
        assert_eq!(text, "Two lines,\n\"quoted\", and a comma", "{format} carries the text whole");
        assert_eq!(ids(format, &get("?from=2026-03-03&to=2026-03-03").await.2), one(&tuesday));
        assert_eq!(ids(format, &get("?to=2026-03-02").await.2), one(&monday));
        assert_eq!(ids(format, &get("?service_code=BULK").await.2), one(&bulk));
        assert_eq!(ids(format, &get("?wards=W2").await.2), [tuesday.clone(), bulk.clone()]);
        assert_eq!(ids(format, &get("?wards=W2&service_code=POTHOLE,GRAFFITI").await.2), one(&tuesday));
        let (_, _, zipped) = fetch(&app, &format!("/open-data/requests.{format}"), true).await;
        assert_eq!(zipped, all, "gzip holds the same bytes");

        for (q, says) in [
            ("?from=yesterday", "from: 'yesterday' is not a date"),
            ("?from=2026-03-04&to=2026-03-03", "from must not be after to"),
            ("?service_code=FACILITY", "no service FACILITY"),
            ("?service_code=NOPE", "no service NOPE"),
            ("?wards=W9", "no feature W9"),
            ("?limit=0", "limit: '0' is not a whole number from 1 to 10000"),
            ("?cursor=abc", "not a cursor"),
            ("?updated_after=2026-03-01", "not a date-time with an offset"),
            ("?name=x", "unknown parameter name"),
        ] {
            let (status, headers, body) = get(q).await;
            assert_eq!(status, 400, "{q}: {body}");
            assert!(body.contains(says), "{q}: {body}");
            let json = headers["content-type"].to_str().unwrap().starts_with("application/json");
            assert_eq!(json, format != "csv", "{q}: errors come in the format asked for");
            if json {
                assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"]["code"], 400);
            }
        }
    }
    let (status, _, body) = fetch(&app, "/open-data/requests.xml", false).await;
    assert_eq!(status, 404, "{body}");
    let many: String = (0..40).map(|i| format!("from=2026-03-0{}&", i % 9 + 1)).collect();
    assert_eq!(fetch(&app, &format!("/open-data/requests.csv?{many}"), false).await.0, 400);

    // The entity tag: the same answer is "not modified"; a change makes a new one.
    let (_, headers, _) = fetch(&app, "/open-data/requests.csv", false).await;
    let tag = headers["etag"].to_str().unwrap().to_owned();
    let conditional = |tag: &str| {
        axum::http::Request::get("/open-data/requests.csv")
            .header("if-none-match", tag)
            .body(axum::body::Body::empty())
            .unwrap()
    };
    if backend == Backend::Sqlite {
        // PostgreSQL's tag also moves when other work in the database commits.
        let r = app.call(conditional(&tag)).await;
        assert_eq!(r.status, 304, "{:?}", r.headers);
        assert!(r.body.is_empty());
    }
    act(&app, &monday, "ada", json!({ "action": "resolve", "note": "Filled" })).await;
    let r = app.call(conditional(&tag)).await;
    assert_eq!(r.status, 200, "changed since");
    assert_ne!(r.headers["etag"].to_str().unwrap(), tag);
    // The gzipped answer is another entity, with a tag of its own.
    let (_, zipped, _) = fetch(&app, "/open-data/requests.csv", true).await;
    assert_ne!(zipped["etag"], r.headers["etag"]);
    assert_eq!(zipped["vary"], "accept-encoding");

    // Staff and the public read the same thing: exports need no sign-in and ignore one.
    let signed = api(&app, "GET", "/open-data/requests.csv", Some("ali"), None).await;
    assert_eq!(signed.status, 200);
    assert_eq!(rows("csv", &signed.body).len(), 3);
}

/// Thousands of demo requests (more than one page of the stream) come out whole, in
/// filing order, the same rows in every format; internal services' are left out.
async fn a_whole_demo_city_streams_in_filing_order(backend: Backend) {
    let app = TestApp::over(backend, common::seeded_demo(backend, 2500).await).await;
    let city = app.state.city();
    let internal: Vec<String> = city.internal_codes();
    let all = app.store.list_requests(&civic311_store::RequestQuery { limit: 10_000, ..Default::default() }).await;
    let public = all.unwrap().iter().filter(|r| !internal.contains(&r.service_code)).count();
    assert!(public > 2_000, "{public}");

    let mut first: Option<Vec<BTreeMap<String, String>>> = None;
    for format in FORMATS {
        let (status, _, body) = fetch(&app, &format!("/open-data/requests.{format}"), format == "csv").await;
        assert_eq!(status, 200);
        let got = rows(format, &body);
        assert_eq!(got.len(), public, "{format}");
        let times: Vec<jiff::Timestamp> = got.iter().map(|r| r["requested_datetime"].parse().unwrap()).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{format}: filing order");
        assert!(got.iter().all(|r| !internal.contains(&r["service_code"])));
        match &first {
            None => first = Some(got),
            Some(f) => assert_eq!(&got, f, "{format} holds the same rows as csv"),
        }
    }
}

/// The open data described for people, in both languages, and for data portals.
async fn the_open_data_is_described_for_people_and_for_portals(backend: Backend) {
    let app = setup(backend).await;
    for (lang, heading, column) in [
        ("en", "Open data: every request, for anyone", "The request&#39;s number, such as 2026-000042"),
        ("es", "Datos abiertos: todas las solicitudes, para todos", "El número de la solicitud, como 2026-000042"),
    ] {
        let page = app.get(&format!("/open-data?lang={lang}")).await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains(heading), "{lang}: {}", page.body);
        assert!(page.body.contains(column), "{lang}: {}", page.body);
        for c in civic311_app::open_data::columns(&app.state.city()) {
            assert!(page.body.contains(&format!("<code>{c}</code>")), "{lang}: {c}");
        }
        assert!(page.body.contains("href=\"/open-data/requests.csv\""));
    }
    let home = app.get("/").await;
    assert!(home.body.contains("href=\"/open-data\""), "every portal page links to it");

    let r = app.get("/data.json").await;
    assert_eq!(r.status, 200);
    let catalogue = r.json();
    assert_eq!(catalogue["conformsTo"], "https://project-open-data.cio.gov/v1.1/schema");
    let dataset = &catalogue["dataset"][0];
    assert_eq!(dataset["accessLevel"], "public");
    assert_eq!(dataset["publisher"]["name"], "Testville");
    assert_eq!(dataset["contactPoint"]["hasEmail"], "mailto:311@testville.example");
    assert_eq!(dataset["spatial"], "-88.02,41,-87.98,41.02");
    let urls: Vec<&str> =
        dataset["distribution"].as_array().unwrap().iter().map(|d| d["downloadURL"].as_str().unwrap()).collect();
    assert_eq!(
        urls,
        [
            "http://civic311.test/open-data/requests.csv",
            "http://civic311.test/open-data/requests.json",
            "http://civic311.test/open-data/requests.geojson"
        ]
    );
    for url in urls {
        let path = url.trim_start_matches("http://civic311.test");
        assert_eq!(app.get(path).await.status, 200, "{path}");
    }
}

/// Each night from 02:00 city time the whole CSV export is written gzipped, once; only
/// the newest are kept; the page lists them and serves them, and nothing else from the
/// directory.
async fn nightly_dumps_are_the_whole_export_kept_listed_and_served(backend: Backend) {
    use civic311_web::open_data::dumps::{DumpConfig, list, write_due};
    let dir = civic311_testkit::scratch_dir("civic311-dumps");
    let config = DumpConfig { dir: dir.clone(), keep: 2 };
    let kept = config.clone();
    let app = common::setup_with(backend, move |s| s.with_open_data_dumps(Some(kept))).await;
    for (at, words) in [(IN_W1, "Deep hole"), (IN_W2, "Two lines,\n\"quoted\"")] {
        let r = post_pothole(&app, at, words, &[("attribute[SIZE]", "small")]).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let page = app.get("/open-data").await.body;
    assert!(page.contains("the first will appear here then"), "none yet");

    // 01:30 is too early; 02:00 writes the day's dump, once.
    let at = |t: &str| t.parse::<jiff::Timestamp>().unwrap();
    assert_eq!(write_due(&app.state, &config, at("2026-03-04T01:30:00-06:00")).await.unwrap(), None);
    let first = write_due(&app.state, &config, at("2026-03-04T02:00:00-06:00")).await.unwrap();
    assert_eq!(first, Some(dir.join("requests-2026-03-04.csv.gz")));
    assert_eq!(write_due(&app.state, &config, at("2026-03-04T23:00:00-06:00")).await.unwrap(), None, "once a day");
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(first.unwrap()).unwrap()).read_to_string(&mut text).unwrap();
    let (_, _, export) = fetch(&app, "/open-data/requests.csv", false).await;
    assert_eq!(text, export, "the dump is the export");
    assert_eq!(rows("csv", &text).len(), 2);

    // Two more nights: the oldest goes.
    for night in ["2026-03-05T03:00:00-06:00", "2026-03-06T02:30:00-06:00"] {
        assert!(write_due(&app.state, &config, at(night)).await.unwrap().is_some());
    }
    let names: Vec<String> = list(&dir).into_iter().map(|f| f.name).collect();
    assert_eq!(names, ["requests-2026-03-06.csv.gz", "requests-2026-03-05.csv.gz"]);

    // Listed on the page, newest first, and served as they are.
    let page = app.get("/open-data?lang=en").await.body;
    let newest = page.find("/open-data/dumps/requests-2026-03-06.csv.gz").unwrap();
    assert!(newest < page.find("/open-data/dumps/requests-2026-03-05.csv.gz").unwrap());
    assert!(!page.contains("requests-2026-03-04"));
    let (status, headers, bytes) = app
        .call_bytes(
            axum::http::Request::get("/open-data/dumps/requests-2026-03-06.csv.gz")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/gzip");
    assert_eq!(bytes, std::fs::read(dir.join("requests-2026-03-06.csv.gz")).unwrap());
    std::fs::write(dir.join("secret.txt"), "not open data").unwrap();
    for name in ["requests-2026-03-04.csv.gz", "secret.txt", "..%2Fsecret.txt", "requests-2026-3-6.csv.gz"] {
        assert_eq!(app.get(&format!("/open-data/dumps/{name}")).await.status, 404, "{name}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
