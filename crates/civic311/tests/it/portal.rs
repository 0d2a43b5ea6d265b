//! The resident portal over HTTP, as a browser without JavaScript uses it: reporting,
//! the nearby-report check, following, the public page, the map and list, the
//! knowledge base, languages, and what a page weighs.

#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::Request;
use civic311_domain::org::Role;
use civic311_store::OutboxQuery;
use civic311_testkit::fixture::{IN_W1, IN_W2};
use civic311_testkit::{Backend, TestApp, both_backends, photos};
use common::{
    Browser, PASSWORD, act, add_staff, api, confirm_follow, file_pothole, hidden, post_pothole, set_password, setup,
    setup_with, smtp, unescape,
};
use serde_json::json;

use crate::common;

both_backends!(
    a_resident_reports_a_pothole_without_scripts_and_tracks_it,
    refused_reports_say_why_in_the_residents_words_and_store_nothing,
    residents_follow_and_stop_following,
    the_language_is_chosen_remembered_and_used_for_updates,
    the_public_map_and_list_filter_and_never_show_internal_work,
    the_knowledge_base_answers_publicly_and_keeps_internal_articles_in,
    a_report_page_weighs_under_300_kb,
    a_resident_is_mailed_a_link_to_every_request_they_reported_or_follow,
    a_new_report_says_how_long_such_requests_took_there_once_there_are_enough
);

/// A file to upload: field name, file name, content type, bytes.
type Upload<'a> = (&'a str, &'a str, &'a str, &'a [u8]);

/// A refused report: its fields, its files, and what the page says.
type Case<'a> = (Vec<(&'a str, &'a str)>, &'a [Upload<'a>], &'a str);

fn at(p: (f64, f64)) -> (String, String) {
    (p.0.to_string(), p.1.to_string())
}

/// A GET with headers (cookie, Accept-Language).
async fn get_with(app: &TestApp, uri: &str, headers: &[(&str, &str)]) -> civic311_testkit::app::TestResponse {
    let mut req = Request::get(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    app.call(req.body(Body::empty()).unwrap()).await
}

async fn a_resident_reports_a_pothole_without_scripts_and_tracks_it(backend: Backend) {
    let app = setup(backend).await;
    // Plain words find the category; its page offers the public answer, not the internal one.
    let found = app.get("/report?q=road+damage").await;
    assert_eq!(found.status, 200);
    assert!(found.body.contains("href=\"/report/POTHOLE\""), "{}", found.body);
    let first = app.get("/report/POTHOLE").await;
    assert!(first.body.contains("How potholes are repaired") && !first.body.contains("Crew radio codes"));
    assert!(first.body.contains("id=\"address\""), "the typed address needs no map");

    // Step two at a point with an open pothole nearby: the check offers to follow it.
    let existing = file_pothole(&app).await;
    let (lat, long) = at(IN_W1);
    let details = app.get(&format!("/report/POTHOLE?step=details&lat={lat}&long={long}&description=hole")).await;
    assert_eq!(details.status, 200, "{}", details.body);
    assert!(details.body.contains("Already reported nearby?"));
    assert!(details.body.contains(&format!("formaction=\"/report/POTHOLE/follow/{existing}\"")));

    // Filed with a photo and an email for updates.
    let jpeg = photos::jpeg(64, 48);
    let fields = [
        ("lat", lat.as_str()),
        ("long", long.as_str()),
        ("address_string", "12 Elm Street"),
        ("description", "Deep hole by the school"),
        ("attribute[SIZE]", "large"),
        ("email", "reporter@example.test"),
        ("phone", "+15550111"),
        ("notify", "email"),
        ("language", "en"),
    ];
    let r = app.post_multipart("/report/POTHOLE", &fields, &[("photo", "hole.jpg", "image/jpeg", &jpeg)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let location = r.headers["location"].to_str().unwrap().to_owned();
    let number = location.strip_prefix("/requests/").unwrap().strip_suffix("?filed=1").unwrap().to_owned();
    assert_ne!(number, existing);

    // The confirmation: the tracking number, the service notice, the expected date.
    let page = app.get(&location).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Your tracking number is") && page.body.contains(&number));
    assert!(page.body.contains("Potholes are usually filled within 3 business days."));
    assert!(page.body.contains("We expect to deal with it by"));
    assert!(page.body.contains("12 Elm Street") && page.body.contains("Deep hole by the school"));
    let stored = api(&app, "GET", &format!("/api/v1/requests/{number}"), Some("ada"), None).await.json();
    assert_eq!(stored["channel"], "web", "{stored}");
    assert_eq!(stored["photos"].as_array().unwrap().len(), 1);
    let photo = stored["photos"][0]["id"].as_i64().unwrap();
    assert!(page.body.contains(&format!("src=\"/media/{photo}\"")));
    // Never the resident's contact details.
    assert!(!page.body.contains("reporter@example.test") && !page.body.contains("5550111"));

    // Staff work shows up in words; internal notes never do.
    act(&app, &number, "ada", json!({ "action": "note", "text": "Crew radio code 7", "public": false })).await;
    act(&app, &number, "ada", json!({ "action": "note", "text": "A crew is booked for Tuesday", "public": true }))
        .await;
    act(&app, &number, "ada", json!({ "action": "start" })).await;
    let page = app.get(&format!("/requests/{number}")).await;
    assert!(page.body.contains("A crew is booked for Tuesday"), "{}", page.body);
    assert!(page.body.contains("Status changed to In progress"));
    assert!(!page.body.contains("Crew radio code 7"));
    assert!(page.body.contains("In progress"));

    // Tracking by number from the home page, typed as people type it.
    let (year, seq) = number.split_once('-').unwrap();
    for typed in [number.clone(), format!("{year}{seq}"), format!("{year}+{seq}"), format!("%20{number}%20")] {
        let r = app.get(&format!("/track?number={typed}")).await;
        assert_eq!(
            (r.status.as_u16(), r.headers["location"].to_str().unwrap()),
            (303, format!("/requests/{number}?lang=en").as_str()),
            "{typed}"
        );
    }
    assert_eq!(app.get("/track?number=not-a-number").await.status, 404);
    assert_eq!(app.get("/requests/2026-999999").await.status, 404);
}

async fn refused_reports_say_why_in_the_residents_words_and_store_nothing(backend: Backend) {
    let app = setup(backend).await;
    let count = || async {
        api(&app, "GET", "/api/v1/requests", Some("ada"), None).await.json()["requests"].as_array().unwrap().len()
    };
    let before = count().await;
    let r = app.get("/report/POTHOLE?step=details&address=").await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("Tell us where the problem is"), "{}", r.body);
    let r = app.get("/report/POTHOLE?step=details&lat=91&long=0").await;
    assert!(r.body.contains("are not a place on the map"));
    assert_eq!(app.get("/report/FACILITY").await.status, 404, "internal services are not offered");

    let (lat, long) = at(IN_W1);
    let base = [("lat", lat.as_str()), ("long", long.as_str())];
    let cases: [Case; 5] = [
        (base.to_vec(), &[], "Please answer: How big is it?"),
        ([&base[..], &[("attribute[SIZE]", "large"), ("notify", "email")]].concat(), &[], "enter your email address"),
        (
            [&base[..], &[("attribute[SIZE]", "large"), ("email", "not-an-address")]].concat(),
            &[],
            "does not look right",
        ),
        (
            [&base[..], &[("attribute[SIZE]", "large")]].concat(),
            &[("photo", "a.txt", "text/plain", b"hello")],
            "Photos must be JPEG, PNG, WebP or GIF.",
        ),
        (
            [&base[..], &[("attribute[SIZE]", "large")]].concat(),
            &[("photo", "a.jpg", "image/jpeg", b"\xFF\xD8\xFF not a photo")],
            "could not be read as an image",
        ),
    ];
    for (fields, files, says) in cases {
        let r = app.post_multipart("/report/POTHOLE", &fields, files).await;
        assert_eq!(r.status, 400, "{says}: {}", r.body);
        assert!(r.body.contains(says), "{says}: {}", r.body);
        // What was typed is kept.
        assert!(r.body.contains(&format!("value=\"{lat}\"")), "{says}");
    }
    let r = app.post_multipart("/report/POTHOLE?lang=es", &base, &[]).await;
    assert!(r.body.contains("Responda, por favor: ¿Qué tamaño tiene?"), "{}", r.body);
    assert_eq!(count().await, before, "nothing was filed");
}

async fn residents_follow_and_stop_following(backend: Backend) {
    let app = setup(backend).await;
    let id = file_pothole(&app).await;
    let seq = id.rsplit('-').next().unwrap().parse::<i64>().unwrap();
    let followers =
        || async { app.store.followers(seq).await.unwrap().into_iter().map(|f| f.address).collect::<Vec<_>>() };
    let before = followers().await;

    let r = app.post_form(&format!("/requests/{id}/follow"), &[("notify", "email")]).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("To follow, enter a valid email address"));
    let r = app
        .post_form(&format!("/requests/{id}/follow"), &[("email", "neighbour@example.test"), ("notify", "email")])
        .await;
    assert_eq!(
        (r.status.as_u16(), r.headers["location"].to_str().unwrap()),
        (303, format!("/requests/{id}?asked=1").as_str())
    );
    let asked = app.get(&format!("/requests/{id}?asked=1")).await;
    assert!(asked.body.contains("we have sent a link to that address"), "{}", asked.body);
    assert_eq!(followers().await, before, "nothing is sent before the address confirms");
    // The link mailed to the address shows what it confirms, and a button does it.
    let confirm = confirm_follow(&app, &id, "neighbour@example.test").await;
    assert_eq!(confirm.headers["location"], format!("/requests/{id}?followed=1&lang=en").as_str());
    assert!(app.get(&format!("/requests/{id}?followed=1")).await.body.contains("You are following this request"));
    assert!(followers().await.contains(&"neighbour@example.test".to_owned()));

    // From the report form, one button with the contact typed on it; confirmed by text.
    let (lat, long) = at(IN_W1);
    let fields = [("lat", lat.as_str()), ("long", long.as_str()), ("phone", "+15550199"), ("notify", "sms")];
    let r = app.post_multipart(&format!("/report/POTHOLE/follow/{id}"), &fields, &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(!followers().await.contains(&"+15550199".to_owned()));
    confirm_follow(&app, &id, "+15550199").await;
    assert!(followers().await.contains(&"+15550199".to_owned()));
    let r = app.post_multipart(&format!("/report/POTHOLE/follow/{id}"), &fields[..2], &[]).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("To follow, enter"), "{}", r.body);

    // Stopping takes the signed link from a message: typing an address does nothing.
    let r = app.post_form(&format!("/requests/{id}/unfollow"), &[("address", "neighbour@example.test")]).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let sig = civic311_domain::notify::link_signature(
        &app.state.link_key,
        civic311_domain::notify::LinkPurpose::Unfollow,
        seq,
        "neighbour@example.test",
    );
    let page = app.get(&format!("/requests/{id}/unfollow/{sig}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("n•••@example.test") && !page.body.contains("neighbour@"), "{}", page.body);
    assert_eq!(page.headers["cache-control"], "no-store");
    assert_eq!(followers().await.len(), before.len() + 2, "opening the link changes nothing");
    let r = app.post_form(&format!("/requests/{id}/unfollow/{sig}"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(app.get(&format!("/requests/{id}?unfollowed=1")).await.body.contains("will get no more updates"));
    let mut now = followers().await;
    now.sort();
    let mut expected = [before, vec!["+15550199".to_owned()]].concat();
    expected.sort();
    assert_eq!(now, expected);
    // A used or forged link works no more.
    assert_eq!(app.post_form(&format!("/requests/{id}/unfollow/{sig}"), &[]).await.status, 404);
    assert_eq!(app.get(&format!("/requests/{id}/confirm/{}", "0".repeat(32))).await.status, 404);
}

async fn the_language_is_chosen_remembered_and_used_for_updates(backend: Backend) {
    let app = setup(backend).await;
    let r = app.get("/?lang=es").await;
    assert!(r.body.contains("<html lang=\"es\">") && r.body.contains("Díganos qué hay que arreglar"));
    let cookie = r.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("lang=es;") && cookie.contains("Max-Age="), "{cookie}");
    let r = get_with(&app, "/report", &[("cookie", "lang=es")]).await;
    assert!(r.body.contains("Bache") && r.body.contains("Calles"), "category names in Spanish");
    assert!(r.headers.get("set-cookie").is_none(), "remembered, not set again");
    let r = get_with(&app, "/", &[("accept-language", "es-MX,es;q=0.9,en;q=0.5")]).await;
    assert!(r.body.contains("<html lang=\"es\">"));
    let r = get_with(&app, "/", &[("accept-language", "fr-FR")]).await;
    assert!(r.body.contains("<html lang=\"en\">"));
    let r = app.get("/report?q=hoyo&lang=es").await;
    assert!(r.body.contains("href=\"/report/POTHOLE\""), "Spanish words find Spanish names");

    // A report in Spanish asks for updates in Spanish: the service, status and date too.
    let (lat, long) = at(IN_W2);
    let fields = [
        ("lat", lat.as_str()),
        ("long", long.as_str()),
        ("attribute[SIZE]", "small"),
        ("email", "vecina@example.test"),
        ("notify", "email"),
        ("language", "es"),
    ];
    let r = app.post_multipart("/report/POTHOLE?lang=es", &fields, &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = get_with(&app, r.headers["location"].to_str().unwrap(), &[("cookie", "lang=es")]).await;
    assert!(page.body.contains("Su número de seguimiento es") && page.body.contains("Prevemos atenderlo"));
    let sent = app
        .store
        .outbox(&OutboxQuery { channel: Some("email".into()), limit: 50, ..OutboxQuery::default() })
        .await
        .unwrap();
    let mine = sent.iter().find(|m| m.message.recipient == "vecina@example.test").expect("a received message");
    assert_eq!(mine.message.language, "es");
    assert_eq!(mine.message.vars["service"], "Bache");
    assert_eq!(mine.message.vars["status"], "abierta");
    assert!(mine.message.vars["expected"].contains(" de "), "a Spanish date: {}", mine.message.vars["expected"]);
}

async fn the_public_map_and_list_filter_and_never_show_internal_work(backend: Backend) {
    let app = setup(backend).await;
    let w1 = file_pothole(&app).await;
    let r = post_pothole(&app, IN_W2, "Second hole", &[("attribute[SIZE]", "small")]).await;
    let w2 = r.json()[0]["service_request_id"].as_str().unwrap().to_owned();
    let list = app.get("/requests").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains(&w1) && list.body.contains(&w2));
    assert!(list.body.contains("2 requests match."));
    assert!(list.body.contains("<svg class=\"map\""), "a map that needs no tiles");
    let ward2 = app.get("/requests?area=W2").await;
    assert!(ward2.body.contains(&w2) && !ward2.body.contains(&format!(">{w1}<")));
    assert!(app.get("/requests?status=closed").await.body.contains("No requests match these filters."));
    assert!(app.get("/requests?service=POTHOLE&status=open").await.body.contains("2 requests match."));
    let r = app.get("/requests?from=yesterday").await;
    assert!(r.body.contains("A date was not understood"));
    let today = app.state.now().to_zoned(app.state.city().tz.clone()).date().to_string();
    assert!(app.get(&format!("/requests?from={today}&to={today}")).await.body.contains("2 requests match."));
    // An internal request (a facilities repair logged by staff) is not listed, nor has a public page.
    let raw = civic311_app::intake::RawRequest {
        service_code: "FACILITY".into(),
        address: Some("City Hall".into()),
        description: "Broken door".into(),
        ..Default::default()
    };
    let city = app.state.city();
    let channel = civic311_domain::request::Channel::Internal;
    let intake = civic311_app::intake::prepare(&city, raw, channel, app.now(), "t-internal".into()).unwrap();
    let internal = app.store.create_request(intake).await.unwrap();
    assert_eq!(api(&app, "GET", &format!("/api/v1/requests/{}", internal.id), Some("ada"), None).await.status, 200);
    assert!(!app.get("/requests").await.body.contains("Broken door"));
    assert!(app.get("/requests").await.body.contains("2 requests match."), "internal work is not counted");
    assert_eq!(app.get(&format!("/requests/{}", internal.id)).await.status, 404);
}

async fn the_knowledge_base_answers_publicly_and_keeps_internal_articles_in(backend: Backend) {
    let app = setup(backend).await;
    let r = app.get("/help?q=tyre").await;
    assert!(r.body.contains("href=\"/help/pothole-repairs\""), "{}", r.body);
    assert!(!app.get("/help").await.body.contains("Crew radio codes"));
    assert_eq!(app.get("/help/crew-radio-codes").await.status, 404);
    let a = app.get("/help/pothole-repairs?lang=es").await;
    assert!(a.body.contains("Cómo se reparan los baches") && a.body.contains("href=\"/report/POTHOLE\""));
    assert!(app.get("/help?q=zebra+crossing").await.body.contains("No answer matched"));
}

/// Every `/static/…` file a page links to, with the page itself: bytes sent.
async fn weight(app: &TestApp, uri: &str) -> usize {
    let page = app.get(uri).await;
    assert_eq!(page.status, 200, "{uri}");
    let mut total = page.body.len();
    for part in page.body.split("/static/").skip(1) {
        let path = part.split('"').next().unwrap();
        let (_, _, bytes) = app.get_bytes(&format!("/static/{path}")).await;
        total += bytes.len();
    }
    total
}

async fn a_report_page_weighs_under_300_kb(backend: Backend) {
    let tiles = civic311_web::MapTiles { url: "http://127.0.0.1:9/{z}/{x}/{y}.png".into(), attribution: "T".into() };
    let app = setup_with(backend, |s| s.with_map_tiles(Some(tiles))).await;
    file_pothole(&app).await;
    let (lat, long) = at(IN_W1);
    for uri in ["/report/POTHOLE".to_owned(), format!("/report/POTHOLE?step=details&lat={lat}&long={long}")] {
        let bytes = weight(&app, &uri).await;
        assert!(bytes < 300 * 1024, "{uri} weighs {bytes} bytes with its scripts and styles");
        assert!(bytes > 150 * 1024, "{uri}: the map scripts are counted ({bytes} bytes)");
    }
}

async fn a_resident_is_mailed_a_link_to_every_request_they_reported_or_follow(backend: Backend) {
    let mail = civic311_testkit::smtp::SmtpServer::start();
    let app = setup_with(backend, |s| s.with_notifiers(civic311_app::Notifiers::new(Some(smtp(&mail)), None))).await;
    // res@example.test reported one pothole and follows a neighbour's; an internal
    // request with the same address is staff business and never listed.
    let reported = file_pothole(&app).await;
    let r = post_pothole(&app, IN_W2, "Another hole", &[("attribute[SIZE]", "small")]).await;
    let followed = r.json()[0]["service_request_id"].as_str().unwrap().to_owned();
    let r = app.post_form(&format!("/requests/{followed}/follow"), &[("email", "Res@Example.TEST")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(mail.received().len(), 1, "the link to confirm the follow");
    confirm_follow(&app, &followed, "Res@Example.TEST").await;
    let other = post_pothole(&app, IN_W1, "Somebody else's", &[("attribute[SIZE]", "small")]).await;
    let other = other.json()[0]["service_request_id"].as_str().unwrap().to_owned();
    let mut raw = civic311_app::intake::RawRequest {
        service_code: "FACILITY".into(),
        address: Some("City Hall".into()),
        description: "Broken door".into(),
        ..Default::default()
    };
    raw.contact.email = Some("res@example.test".into());
    let city = app.state.city();
    let channel = civic311_domain::request::Channel::Internal;
    let intake = civic311_app::intake::prepare(&city, raw, channel, app.now(), "t-internal".into()).unwrap();
    let internal = app.store.create_request(intake).await.unwrap();

    let form = app.get("/my").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("name=\"email\""));
    assert!(app.get("/").await.body.contains("href=\"/my\""), "the home page leads there");
    // A typo is refused with the reason; an unknown address gets the same answer as a
    // known one, and no mail.
    let bad = app.post_form("/my", &[("email", "res at example")]).await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("Enter a valid email address"), "{}", bad.body);
    let unknown = app.post_form("/my", &[("email", "nobody@example.test")]).await;
    assert_eq!(unknown.status, 200);
    assert!(unknown.body.contains("If nobody@example.test was used"), "{}", unknown.body);
    assert_eq!(mail.received().len(), 1, "no mail to an address with no requests");

    let asked = app.post_form("/my", &[("email", " RES@example.test ")]).await;
    assert_eq!(asked.status, 200);
    assert!(asked.body.contains("If RES@example.test was used"), "{}", asked.body);
    let received = mail.received();
    assert_eq!(received.len(), 2);
    let sent = received.iter().find(|m| m.subject.contains("Your requests to Testville 311")).unwrap();
    assert!(sent.to.contains("RES@example.test"), "{}", sent.to);
    let link = sent.body.split_whitespace().find(|w| w.contains("/my/")).unwrap().to_owned();
    let path = format!("/my/{}", link.split("/my/").nth(1).unwrap());
    assert!(path.ends_with("?lang=en"), "{path}");
    // Asking again at once sends nothing more, and the link never sits in the outbox.
    app.post_form("/my", &[("email", "res@example.test")]).await;
    assert_eq!(mail.received().len(), 2);
    let outbox = api(&app, "GET", "/api/v1/outbox", Some("ada"), None).await;
    assert_eq!(outbox.status, 200, "{}", outbox.body);
    assert!(!outbox.body.contains("/my/"));

    let page = app.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.headers["cache-control"], "no-store");
    assert_eq!(page.headers["referrer-policy"], "no-referrer");
    let (mine, theirs) = page.body.split_once("Followed by you").unwrap();
    assert!(mine.contains(&format!("href=\"/requests/{reported}\"")), "{}", page.body);
    assert!(theirs.contains(&format!("href=\"/requests/{followed}\"")), "{}", page.body);
    for absent in [other.as_str(), internal.id.to_string().as_str()] {
        assert!(!page.body.contains(absent), "{absent} is not theirs to see: {}", page.body);
    }
    assert!(!page.body.contains("Broken door"));
    // In Spanish, and not at all once the day is over or with a made-up token.
    let es = app.get(&path.replace("lang=en", "lang=es")).await;
    assert!(es.body.contains("Reportadas por usted") && es.body.contains("Bache"), "{}", es.body);
    assert_eq!(app.get("/my/not-a-token").await.status, 404);
    app.set_now("2030-01-01T00:00:00Z");
    let late = app.get(&path).await;
    assert_eq!(late.status, 404);
    assert!(late.body.contains("This link has expired") && late.body.contains("name=\"email\""), "{}", late.body);
}

async fn a_new_report_says_how_long_such_requests_took_there_once_there_are_enough(backend: Backend) {
    let app = setup(backend).await;
    // Twenty potholes in ward 1 filed on Monday morning, resolved one every 12 hours:
    // half a day to ten days, so the median is (5 + 5.5) / 2 = 5.25 days: "6 days".
    app.set_now("2026-03-02T09:00:00-06:00");
    let start: jiff::Timestamp = "2026-03-02T09:00:00-06:00".parse().unwrap();
    let mut ids = Vec::new();
    for _ in 0..20 {
        let r = post_pothole(&app, IN_W1, "Hole", &[("attribute[SIZE]", "small")]).await;
        ids.push(r.json()[0]["service_request_id"].as_str().unwrap().to_owned());
    }
    // One resolved in ward 2 does not count for ward 1.
    let elsewhere = post_pothole(&app, IN_W2, "Hole", &[("attribute[SIZE]", "small")]).await;
    let elsewhere = elsewhere.json()[0]["service_request_id"].as_str().unwrap().to_owned();
    let resolve = |i: usize| {
        let at = start + jiff::SignedDuration::from_hours(12 * (i as i64 + 1));
        app.set_now(&at.to_string());
        json!({ "action": "resolve", "note": "Filled" })
    };
    for (i, id) in ids.iter().enumerate().take(9) {
        act(&app, id, "ada", resolve(i)).await;
    }
    act(&app, &elsewhere, "ada", json!({ "action": "resolve", "note": "Filled" })).await;
    let (lat, long) = (IN_W1.0.to_string(), IN_W1.1.to_string());
    let fields =
        [("lat", lat.as_str()), ("long", long.as_str()), ("description", "Another"), ("attribute[SIZE]", "large")];
    let filed = |lang: &'static str| {
        let app = &app;
        async move {
            let r = app.post_multipart(&format!("/report/POTHOLE?lang={lang}"), &fields, &[]).await;
            assert_eq!(r.status, 303, "{}", r.body);
            app.get(&format!("{}&lang={lang}", r.headers["location"].to_str().unwrap())).await.body
        }
    };
    // Nine resolved are too few to judge.
    assert!(!filed("en").await.contains("resolved in the last 90 days"));
    for (i, id) in ids.iter().enumerate().skip(9) {
        act(&app, id, "ada", resolve(i)).await;
    }
    let page = filed("en").await;
    assert!(
        page.contains("Half of the Pothole requests in Ward 1 resolved in the last 90 days took 6 days or less."),
        "{page}"
    );
    let page = filed("es").await;
    assert!(page.contains("tardaron 6 días o menos"), "{page}");
    // A call taker logging one hears the same, to tell the caller.
    add_staff(&app, "ian", "TRIAGE", None, Role::Intake).await;
    set_password(&app, "ian", PASSWORD).await;
    let mut desk = Browser::default();
    desk.sign_in(&app, "ian", PASSWORD, "/staff/intake").await;
    let form = desk.get(&app, "/staff/intake?service_code=POTHOLE").await;
    let csrf = hidden(&form.body, "csrf");
    let logged = [
        ("csrf", csrf.as_str()),
        ("service_code", "POTHOLE"),
        ("channel", "phone"),
        ("lat", lat.as_str()),
        ("long", long.as_str()),
        ("description", "Caller says it is deep"),
        ("attribute[SIZE]", "large"),
    ];
    let done = desk.post(&app, "/staff/intake", &logged).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let staff_page = desk.get(&app, done.headers["location"].to_str().unwrap()).await;
    assert!(
        unescape(&staff_page.body).contains(
            "You can tell the caller: Half of the Pothole requests in Ward 1 resolved in the last 90 days took 6 days or less."
        ),
        "{}",
        staff_page.body
    );
    // Ninety days on, they no longer count.
    app.set_now("2026-06-20T09:00:00-06:00");
    assert!(!filed("en").await.contains("resolved in the last 90 days"));
}
