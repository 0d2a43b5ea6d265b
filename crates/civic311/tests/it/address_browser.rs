//! Typed addresses in a real headless Chromium at phone width, in English and Spanish:
//! a resident types an address, picks a suggestion and the public page shows the
//! address; with scripts switched off the form offers the places the address may mean
//! as a list. Every page on the way passes the accessibility scan.

#![allow(clippy::unwrap_used)]

use civic311_app::configure::{By, put_address_layer};
use civic311_testkit::browser::Browser;
use civic311_testkit::{Backend, TestApp, both_backends};
use serde_json::json;

both_backends!(a_resident_reports_by_address_with_and_without_scripts, a_call_taker_logs_a_call_by_address_alone);

/// The WebDriver key code of Enter.
const ENTER: &str = "\u{E007}";

async fn a_resident_reports_by_address_with_and_without_scripts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    put_address_layer(&app.state.app, By::Console, crate::addresses::layer()).await.unwrap();
    let base = app.listen().await;
    let backend_name = format!("{backend:?}").to_lowercase();
    let mut problems = Vec::new();

    let languages = [("en", "Which one do you mean?", "Larger"), ("es", "¿Cuál quiere decir?", "Más grande")];
    for (lang, did_you_mean, larger) in languages {
        let shot = |page: &str| format!("address-{page}-{lang}-{backend_name}");

        // With scripts: suggestions as the address is typed; one is picked.
        let b = Browser::start(390, 844).await;
        b.goto(&format!("{base}/report/POTHOLE?lang={lang}")).await;
        b.type_into("#address", "120 oa").await;
        let options = "[...document.querySelectorAll('#address-suggestions option')].map(o => o.value)";
        b.wait_until(&format!("{options}.includes('120 Oak St')"), "the suggestions").await;
        assert_eq!(b.script(&format!("return {options}"), json!([])).await, json!(["120 Oak Ave", "120 Oak St"]));
        for p in b.accessibility_problems().await {
            problems.push(format!("where with suggestions ({lang}): {p}"));
        }
        b.screenshot(&shot("suggested")).await;
        // Picking an option puts its text in the box, as the browser does.
        b.script("document.querySelector('#address').value = ''", json!([])).await;
        b.type_into("#address", "120 Oak St").await;
        b.type_into("#description", "Hole by the bus stop").await;
        b.follow("main form button[type=submit]").await;
        let number = file(&b, None, "details-picked", &shot, &mut problems).await;
        b.goto(&format!("{base}/requests/{number}")).await;
        assert!(b.text("main").await.contains("120 Oak St"), "the public page shows the address");
        // An address that names two places: both are offered (scanned here, with the
        // scripts the scan needs).
        b.goto(&format!("{base}/report/POTHOLE?step=details&address=120%20Oak&lang={lang}")).await;
        assert!(b.text(".candidates").await.contains(did_you_mean));
        for p in b.accessibility_problems().await {
            problems.push(format!("where with candidates ({lang}): {p}"));
        }
        b.script("document.querySelector('.candidates').scrollIntoView({ block: 'center' })", json!([])).await;
        b.screenshot(&shot("candidates")).await;
        b.close().await;

        // Without scripts: the address as typed names two places; both are offered.
        let b = Browser::start_without_scripts(390, 844).await;
        b.goto(&format!("{base}/report/POTHOLE?lang={lang}")).await;
        b.type_into("#address", "120 Oak").await;
        // Keys, not clicks: chromedriver waits on a click without scripts.
        b.keys_to_new_page(ENTER).await;
        assert!(b.text(".candidates").await.contains(did_you_mean));
        b.tab_to(".candidates a[href*='Oak%20St']").await;
        b.keys_to_new_page(ENTER).await;
        let number = file(&b, Some(larger), "details-chosen", &shot, &mut problems).await;
        let stored = app.state.request_named(&number).await.unwrap().unwrap();
        assert_eq!(stored.location.address.as_deref(), Some("120 Oak St"));
        assert!(stored.location.point.is_some(), "located, so routed by its ward");
        b.goto(&format!("{base}/requests/{number}")).await;
        assert!(b.text("main").await.contains("120 Oak St"));
        b.close().await;
    }
    assert!(problems.is_empty(), "accessibility problems:\n{}", problems.join("\n"));
}

/// On the details step: checks the located address is shown, files the report, and
/// returns its number. Without scripts, the size is chosen by typing its answer's
/// first words (`without_scripts`) and the form sent with the keyboard.
async fn file(
    b: &Browser,
    without_scripts: Option<&str>,
    page: &str,
    shot: &impl Fn(&str) -> String,
    problems: &mut Vec<String>,
) -> String {
    assert!(b.text("#where-h + p").await.contains("120 Oak St"), "the details step shows the address");
    b.screenshot(&shot(page)).await;
    let file = "main form button[type=submit]:not([formaction])";
    match without_scripts {
        None => {
            for p in b.accessibility_problems().await {
                problems.push(format!("{page}: {p}"));
            }
            b.select("#a-SIZE", "large").await;
            b.follow(file).await;
        }
        Some(larger) => {
            b.type_into("#a-SIZE", larger).await;
            b.tab_to(file).await;
            b.keys_to_new_page(ENTER).await;
        }
    }
    let url = b.current_url().await;
    assert!(url.contains("?filed=1"), "{url}");
    url.rsplit("/requests/").next().unwrap().split('?').next().unwrap().to_owned()
}

async fn a_call_taker_logs_a_call_by_address_alone(backend: Backend) {
    let app = crate::common::setup(backend).await;
    put_address_layer(&app.state.app, By::Console, crate::addresses::layer()).await.unwrap();
    assert_eq!(crate::common::set_password(&app, "ada", "correct horse battery").await.status, 200);
    let base = app.listen().await;
    let name = format!("{backend:?}").to_lowercase();
    let b = Browser::start(1280, 900).await;
    b.goto(&format!("{base}/staff/sign-in")).await;
    b.type_into("#username", "ada").await;
    b.type_into("#password", "correct horse battery").await;
    b.keys_to_new_page(ENTER).await;

    // A bulk pickup by phone, located by what the caller says: "120 Oak".
    b.goto(&format!("{base}/staff/intake?service_code=BULK")).await;
    b.type_into("#phone", "+15550123").await;
    b.type_into("#description", "Old sofa at the curb").await;
    b.type_into("#address_string", "120 Oak").await;
    b.follow("#intake button:not([name])").await;
    // Two places match: the call taker asks which, and picks it.
    assert!(b.text(".candidates").await.contains("Which one does the caller mean?"));
    let mut problems = b.accessibility_problems().await;
    b.screenshot(&format!("intake-address-choices-{name}")).await;
    b.follow("button[name=pick_address][value='120 Oak St']").await;
    // Located: the nearby check ran, and the point is filled in.
    assert!(b.text("#nearby ~ p, #nearby + p").await.contains("No open report"), "checked nearby");
    assert_eq!(b.script("return document.querySelector('#address_string').value", json!([])).await, "120 Oak St");
    assert_ne!(b.script("return document.querySelector('#lat').value", json!([])).await, "");
    assert_eq!(b.script("return document.querySelector('#phone').value", json!([])).await, "+15550123", "kept");
    problems.extend(b.accessibility_problems().await);
    b.follow("#intake button:not([name])").await;
    assert!(b.text("[role=status]").await.contains("Filed;"));
    assert!(b.text("main").await.contains("120 Oak St"));
    let id = b.current_url().await.rsplit("/staff/requests/").next().unwrap().split('?').next().unwrap().to_owned();
    let stored = app.state.request_named(&id).await.unwrap().unwrap();
    assert_eq!(stored.assignment.team.as_deref(), Some("SAN-BULK"), "routed by the ward the address is in");
    b.close().await;
    assert!(problems.is_empty(), "accessibility problems: {problems:?}");
}
