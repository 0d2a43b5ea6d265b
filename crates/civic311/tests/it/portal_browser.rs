//! The resident portal in a real headless Chromium at phone width, in English and in
//! Spanish: a resident finds the category in plain words, places the pin on the map,
//! is shown the report already made nearby and follows it, then reports their own
//! pothole with a photo, tracks it, sees the status change staff made, rates the work
//! from the link in the resolution email, and finds both requests again from the "my
//! requests" link mailed to them. Every page on the way passes an accessibility scan. Screenshots are kept in
//! `target/screenshots/` as test artifacts.

#![allow(clippy::unwrap_used)]

use civic311_app::Notifiers;
use civic311_domain::notify::{LinkPurpose, link_signature};
use civic311_domain::request::RequestId;
use civic311_jobs::Dispatcher;
use civic311_testkit::browser::Browser;
use civic311_testkit::smtp::SmtpServer;
use civic311_testkit::{Backend, TestApp, both_backends, photos};
use common::{act, api, post_pothole, setup_with, smtp, tile_server};
use serde_json::json;

use crate::common;

both_backends!(
    a_resident_reports_follows_and_tracks_on_a_phone_in_english_and_spanish,
    a_resident_reports_follows_and_rates_with_scripts_switched_off
);

/// The WebDriver key code of Enter.
const ENTER: &str = "\u{E007}";
/// The WebDriver key code of the down arrow.
const ARROW_DOWN: &str = "\u{E015}";

/// The words the test reads on the pages, per language.
struct Words {
    lang: &'static str,
    search: &'static str,
    nearby: &'static str,
    asked: &'static str,
    following: &'static str,
    tracking: &'static str,
    in_progress: &'static str,
    thanks: &'static str,
    mine_sent: &'static str,
}

const ENGLISH: Words = Words {
    lang: "en",
    search: "a hole in the road",
    nearby: "Already reported nearby?",
    asked: "we have sent a link to that address",
    following: "You are following this request",
    tracking: "Your tracking number is",
    in_progress: "In progress",
    thanks: "Your rating has been recorded",
    mine_sent: "we have sent it a link",
};

const SPANISH: Words = Words {
    lang: "es",
    search: "hay un hoyo en la calle",
    nearby: "¿Ya reportado cerca?",
    asked: "hemos enviado un enlace a esa dirección",
    following: "Está siguiendo esta solicitud",
    tracking: "Su número de seguimiento es",
    in_progress: "En curso",
    thanks: "Hemos registrado su calificación",
    mine_sent: "le hemos enviado un enlace",
};

async fn a_resident_reports_follows_and_tracks_on_a_phone_in_english_and_spanish(backend: Backend) {
    let (url, _) = tile_server().await;
    let tiles = civic311_web::MapTiles { url, attribution: "Test tiles".into() };
    let mail = SmtpServer::start();
    let notifiers = Notifiers::new(Some(smtp(&mail)), None);
    let app: TestApp = setup_with(backend, |s| s.with_map_tiles(Some(tiles)).with_notifiers(notifiers)).await;
    // A pothole already reported where the map opens (the middle of the city).
    let r =
        post_pothole(&app, (41.0102, -88.0003), "Big pothole near the corner", &[("attribute[SIZE]", "large")]).await;
    let existing = r.json()[0]["service_request_id"].as_str().unwrap().to_owned();
    let base = app.listen().await;
    let dispatcher = Dispatcher::new(Notifiers::new(Some(smtp(&mail)), None), Some(base.clone()));
    // The link in the newest mail to `to` whose body names `path`.
    let link_in_mail = |to: &str, path: &str| {
        let mails = mail.received();
        let found = mails.iter().rev().find(|m| m.to.contains(to) && m.body.contains(path));
        let body = &found.unwrap_or_else(|| panic!("a mail to {to} with {path}: {mails:?}")).body;
        body.split_whitespace().find(|w| w.contains(path)).unwrap().to_owned()
    };
    let photo = civic311_testkit::scratch_dir("civic311-hole").join("hole.jpg");
    std::fs::write(&photo, photos::jpeg(800, 600)).unwrap();
    let backend_name = format!("{backend:?}").to_lowercase();

    for w in [ENGLISH, SPANISH] {
        let shot = |page: &str| format!("portal-{page}-{}-{backend_name}", w.lang);
        let b = Browser::start(390, 844).await;
        let mut problems = Vec::new();
        let mut scan = async |what: &str| {
            for p in b.accessibility_problems().await {
                problems.push(format!("{what} ({}): {p}", w.lang));
            }
        };

        // The home page, in the chosen language; a search in plain words.
        b.goto(&format!("{base}/?lang={}", w.lang)).await;
        assert_eq!(b.script("return document.documentElement.lang", json!([])).await, json!(w.lang));
        scan("home").await;
        b.screenshot(&shot("home")).await;
        b.type_into("#q", w.search).await;
        b.follow("form[role=search] button").await;
        scan("categories").await;
        b.follow("section a[href=\"/report/POTHOLE\"]").await;

        // Where: a tap on the map places the pin.
        b.wait_until("document.querySelector('.pick.has-tiles')", "the map to pick on").await;
        scan("where").await;
        b.click(".pick .tiles").await;
        b.wait_until("document.querySelector('#lat').value !== ''", "the pin to fill the location").await;
        b.type_into("#description", "Deep pothole by the school gate").await;
        b.screenshot(&shot("where")).await;
        b.follow("main form button[type=submit]").await;

        // Already reported nearby: follow it with an email, one button.
        let details = b.current_url().await;
        assert!(b.text(".nearby").await.contains(w.nearby), "the nearby report is offered");
        assert!(b.text(".nearby").await.contains(&existing));
        scan("details with nearby reports").await;
        b.screenshot(&shot("nearby")).await;
        let neighbour = format!("neighbour-{}@example.test", w.lang);
        b.type_into("#email", &neighbour).await;
        b.follow(&format!("button[formaction=\"/report/POTHOLE/follow/{existing}\"]")).await;
        assert!(b.current_url().await.contains(&format!("/requests/{existing}?asked=1")));
        assert!(b.text("main").await.contains(w.asked));
        // Nothing is sent there until the address confirms, from the link mailed to it.
        b.goto(&link_in_mail(&neighbour, "/confirm/").replace("http://civic311.test", &base)).await;
        scan("confirm following").await;
        b.screenshot(&shot("confirm")).await;
        b.follow("main form button[type=submit]").await;
        assert!(b.current_url().await.contains(&format!("/requests/{existing}?followed=1")));
        assert!(b.text("main").await.contains(w.following));
        scan("followed request").await;

        // Then report their own, with a photo.
        b.goto(&details).await;
        b.select("#a-SIZE", "large").await;
        b.type_into("#photos", photo.to_str().unwrap()).await;
        b.type_into("#email", &format!("reporter-{}@example.test", w.lang)).await;
        b.click("input[name=notify][value=email]").await;
        b.follow("main form button[type=submit]:not([formaction])").await;
        let url = b.current_url().await;
        assert!(url.contains("?filed=1"), "{url}");
        let number = url.rsplit("/requests/").next().unwrap().split('?').next().unwrap().to_owned();
        assert!(b.text(".confirm").await.contains(w.tracking));
        assert!(b.text(".confirm").await.contains(&number));
        assert_eq!(b.script("return document.querySelectorAll('ul.photos img').length", json!([])).await, json!(1));
        b.wait_until("document.querySelector('ul.photos img').complete", "the photo to load").await;
        assert_eq!(
            b.script("return document.querySelector('ul.photos img').naturalWidth", json!([])).await,
            json!(800),
            "the photo is served"
        );
        scan("confirmation").await;
        b.screenshot(&shot("confirmation")).await;

        // Staff start the work and leave a public note; the resident sees both.
        act(&app, &number, "ada", json!({ "action": "start" })).await;
        act(&app, &number, "ada", json!({ "action": "note", "text": "Crew on site", "public": true })).await;
        b.goto(&format!("{base}/requests/{number}")).await;
        assert!(b.text(".status").await.contains(w.in_progress));
        assert!(b.text("ol.timeline").await.contains("Crew on site"));
        scan("tracking page").await;
        b.screenshot(&shot("tracking")).await;

        // Staff resolve it; the resident rates the work from the link in the email.
        let reporter = format!("reporter-{}@example.test", w.lang);
        act(&app, &number, "ada", json!({ "action": "resolve", "note": "Filled and sealed" })).await;
        let city = app.state.city();
        let sent = dispatcher.run(&app.store, &city.workflow, app.now(), 100).await.unwrap();
        assert_eq!(sent.dead + sent.retried, 0, "every notice was delivered");
        b.goto(&link_in_mail(&reporter, "/rate/")).await;
        assert_eq!(b.script("return document.documentElement.lang", json!([])).await, json!(w.lang));
        assert!(b.text("main").await.contains("Filled and sealed"));
        scan("rating").await;
        b.click("input[name=score][value='5']").await;
        b.type_into("#comment", "Quick work").await;
        b.follow("main form button[type=submit]").await;
        assert!(b.text("[role=status]").await.contains(w.thanks));
        b.screenshot(&shot("rated")).await;
        let rated = api(&app, "GET", &format!("/api/v1/requests/{number}"), Some("ali"), None).await.json();
        assert_eq!(rated["rating"]["score"], 5);

        // "My requests": the address they used gets a link listing both requests.
        b.goto(&format!("{base}/")).await;
        b.follow("a[href=\"/my\"]").await;
        scan("my requests form").await;
        b.type_into("#email", &reporter).await;
        b.follow("main form button[type=submit]").await;
        assert!(b.text("[role=status]").await.contains(w.mine_sent));
        // The app's configured public address is civic311.test; this one listens here.
        b.goto(&link_in_mail(&reporter, "/my/").replace("http://civic311.test", &base)).await;
        let listed = b.text("main").await;
        assert!(listed.contains(&number), "{listed}");
        scan("my requests").await;
        b.screenshot(&shot("mine")).await;

        // The public map and list, the help pages.
        for (what, path) in
            [("public map and list", "/requests"), ("help", "/help"), ("an answer", "/help/pothole-repairs")]
        {
            b.goto(&format!("{base}{path}")).await;
            scan(what).await;
        }
        b.screenshot(&shot("answer")).await;
        b.close().await;
        assert!(problems.is_empty(), "serious or critical accessibility problems:\n{}", problems.join("\n"));
    }
    let _ = std::fs::remove_file(&photo);
}

/// Every step a resident takes works with the browser's scripts switched off: a typed
/// address instead of the map, plain forms for following and rating.
async fn a_resident_reports_follows_and_rates_with_scripts_switched_off(backend: Backend) {
    // Tiles are configured, so the report page would draw a map if scripts ran.
    let (url, _) = tile_server().await;
    let tiles = civic311_web::MapTiles { url, attribution: "Test tiles".into() };
    let app: TestApp = setup_with(backend, |s| s.with_map_tiles(Some(tiles))).await;
    let r = post_pothole(&app, (41.0102, -88.0003), "Pothole by the bakery", &[("attribute[SIZE]", "small")]).await;
    let existing = r.json()[0]["service_request_id"].as_str().unwrap().to_owned();
    let base = app.listen().await;
    // axe cannot run where the page's scripts are off (its timers never fire); the same
    // pages are scanned with scripts on in the test above. The resident uses the keyboard:
    // chromedriver's clicks wait 30 s for scripts that never run when scripts are off.
    let b = Browser::start_without_scripts(390, 844).await;

    // Find the category, then say where by a typed address: no map, no location.
    b.goto(&format!("{base}/?lang=en")).await;
    b.type_into("#q", "pothole").await;
    b.keys_to_new_page(ENTER).await;
    b.tab_to("section a[href=\"/report/POTHOLE\"]").await;
    b.keys_to_new_page(ENTER).await;
    assert_eq!(b.script("return typeof window.L", json!([])).await, json!("undefined"), "the page's scripts are off");
    b.type_into("#description", "Hole by the bus stop").await;
    b.type_into("#address", "12 Elm Street").await;
    b.keys_to_new_page(ENTER).await;
    b.type_into("#a-SIZE", "Larger").await;
    assert_eq!(b.script("return document.querySelector('#a-SIZE').value", json!([])).await, json!("large"));
    b.type_into("#email", "plain@example.test").await;
    b.keys_to_new_page(ENTER).await;
    let url = b.current_url().await;
    assert!(url.contains("?filed=1"), "{url}");
    let number = url.rsplit("/requests/").next().unwrap().split('?').next().unwrap().to_owned();
    assert!(b.text(".confirm").await.contains(&number));
    assert!(b.text("main").await.contains("12 Elm Street"));
    b.screenshot(&format!("portal-noscript-confirmation-{backend:?}").to_lowercase()).await;

    // Follow the neighbour's report from its page.
    b.goto(&format!("{base}/requests/{existing}")).await;
    b.type_into("#email", "plain@example.test").await;
    b.keys_to_new_page(ENTER).await;
    assert!(b.text("main").await.contains("we have sent a link to that address"));
    // The address confirms from the link it was sent, with the keyboard.
    let seq = RequestId::parse(&existing).unwrap().1;
    let sig = link_signature(&app.state.link_key, LinkPurpose::Confirm, seq, "plain@example.test");
    b.goto(&format!("{base}/requests/{existing}/confirm/{sig}")).await;
    b.tab_to("main form button").await;
    b.keys_to_new_page(ENTER).await;
    assert!(b.text("main").await.contains("You are following this request"));
    let followers = app.store.followers(RequestId::parse(&existing).unwrap().1).await.unwrap();
    assert!(followers.iter().any(|f| f.address == "plain@example.test"));

    // Resolved by staff; rated from the link the resolution notice carries.
    act(&app, &number, "ada", json!({ "action": "resolve", "note": "Patched" })).await;
    let seq = RequestId::parse(&number).unwrap().1;
    let token = app.store.request(seq).await.unwrap().unwrap().token;
    b.goto(&format!("{base}/rate/{token}?lang=en")).await;
    // Tab into the choices (one stop), then the arrow keys pick 4.
    b.tab_to("input[name=score]").await;
    b.keys(&ARROW_DOWN.repeat(3)).await;
    assert_eq!(b.script("return document.activeElement.value", json!([])).await, json!("4"));
    b.keys_to_new_page(ENTER).await;
    assert!(b.text("[role=status]").await.contains("Your rating has been recorded"));
    let rated = api(&app, "GET", &format!("/api/v1/requests/{number}"), Some("ali"), None).await.json();
    assert_eq!(rated["rating"]["score"], 4);
    b.close().await;
}
