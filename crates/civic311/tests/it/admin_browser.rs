//! An administrator at a desk, in a real headless Chromium, keeps the city's services
//! and rules by forms: adds a question with its answers in English and Spanish to a
//! service (the form submits everything else back unchanged), is told the notice
//! promises residents more than the SLA gives and fixes it, adds a routing rule on the
//! new question, and tries it with an answer. Every page passes the accessibility scan.

#![allow(clippy::unwrap_used)]

use civic311_domain::routing::Rule;
use civic311_domain::service::{Attribute, AttributeValue, Datatype, Service};
use civic311_testkit::browser::Browser;
use civic311_testkit::{Backend, TestApp, both_backends};
use common::{PASSWORD, set_password, setup};
use serde_json::json;

use crate::common;

both_backends!(an_administrator_adds_a_question_fixes_a_notice_and_routes_on_the_answer);

async fn pothole(app: &TestApp) -> Service {
    app.store.services().await.unwrap().into_iter().find(|s| s.code == "POTHOLE").unwrap()
}

/// Replaces what the field matching `css` holds with `text`, as someone selecting all
/// and typing over it.
async fn retype(b: &Browser, css: &str, text: &str) {
    b.script("document.querySelector(arguments[0]).value = ''", json!([css])).await;
    b.type_into(css, text).await;
}

async fn an_administrator_adds_a_question_fixes_a_notice_and_routes_on_the_answer(backend: Backend) {
    let app = setup(backend).await;
    assert_eq!(set_password(&app, "ada", PASSWORD).await.status, 200);
    let before = pothole(&app).await;
    let base = app.listen().await;
    let b = Browser::start(1280, 900).await;
    let mut problems = Vec::new();
    let mut scan = |page: &str, found: Vec<String>| problems.extend(found.into_iter().map(|p| format!("{page}: {p}")));

    b.goto(&format!("{base}/staff")).await;
    b.type_into("#username", "ada").await;
    b.type_into("#password", PASSWORD).await;
    b.keys_to_new_page("\u{E007}").await;
    b.goto(&format!("{base}/staff/admin/services")).await;
    scan("services", b.accessibility_problems().await);
    b.follow("a[href=\"/staff/admin/services/POTHOLE\"]").await;
    assert!(b.text("main").await.contains("The notice and the SLA disagree"), "told on opening it");
    scan("service", b.accessibility_problems().await);

    // The depth question in Spanish, and a new question with its answers in both.
    b.type_into("[name=\"q1.es.description\"]", "Profundidad en centímetros").await;
    b.type_into("[name=\"q7.code\"]", "LANE").await;
    b.type_into("[name=\"q7.description\"]", "Which lane?").await;
    b.type_into("[name=\"q7.values\"]", "travel = Travel lane\nbike = Bike lane").await;
    b.type_into("[name=\"q7.es.description\"]", "¿Qué carril?").await;
    b.type_into("[name=\"q7.es.values\"]", "travel = Carril de circulación\nbike = Ciclovía").await;
    b.follow("form[aria-labelledby=edit] button[type=submit]").await;
    // Refused while the notice promises 3 days against 8 business hours; nothing typed is lost.
    assert!(b.text("[role=alert]").await.contains("the notice promises 3 days"), "{}", b.source().await);
    assert_eq!(b.script("return document.querySelector('[name=\"q7.code\"]').value", json!([])).await, "LANE");
    assert_eq!(pothole(&app).await, before, "nothing saved");
    retype(&b, "[name=service_notice]", "Most potholes are filled within 8 business hours.").await;
    retype(&b, "[name=\"es.service_notice\"]", "La mayoría se rellenan en 8 horas hábiles.").await;
    b.follow("form[aria-labelledby=edit] button[type=submit]").await;
    assert!(b.text("[role=status]").await.contains("Saved"), "{}", b.source().await);
    assert!(!b.text("main").await.contains("disagree"));
    b.screenshot(&format!("admin-service-desktop-{backend:?}")).await;

    // Exactly what was changed, and everything else as it was.
    let mut expected = before.clone();
    expected.service_notice = "Most potholes are filled within 8 business hours.".into();
    expected.attributes.push(Attribute {
        code: "LANE".into(),
        variable: true,
        datatype: Datatype::Singlevaluelist,
        required: false,
        datatype_description: String::new(),
        order: 8,
        description: "Which lane?".into(),
        values: vec![
            AttributeValue { key: "travel".into(), name: "Travel lane".into() },
            AttributeValue { key: "bike".into(), name: "Bike lane".into() },
        ],
    });
    let es = expected.translations.get_mut("es").unwrap();
    es.service_notice = "La mayoría se rellenan en 8 horas hábiles.".into();
    es.questions.insert("DEPTH".into(), "Profundidad en centímetros".into());
    es.questions.insert("LANE".into(), "¿Qué carril?".into());
    es.answers.insert("travel".into(), "Carril de circulación".into());
    es.answers.insert("bike".into(), "Ciclovía".into());
    assert_eq!(pothole(&app).await, expected);

    // A rule on the new question's answer, added by the form.
    b.goto(&format!("{base}/staff/admin/rules")).await;
    scan("rules", b.accessibility_problems().await);
    b.follow("a[href=\"/staff/admin/rules/new\"]").await;
    scan("rule", b.accessibility_problems().await);
    b.type_into("#r-name", "potholes in the bike lane").await;
    b.click("details:has(input[value=POTHOLE]) summary").await;
    b.click("input[name=services][value=POTHOLE]").await;
    b.type_into("#r-attributes", "LANE = bike").await;
    b.select("#r-priority", "high").await;
    b.type_into("#r-tags", "bikes").await;
    b.follow("form[aria-labelledby=rule-h] button[type=submit]").await;
    assert!(b.text("[role=status]").await.contains("Saved"), "{}", b.source().await);
    let rules = app.store.rules().await.unwrap().rules;
    let expected: Rule = toml::from_str(
        "name = \"potholes in the bike lane\"\n[when]\nservices = [\"POTHOLE\"]\nattributes = { LANE = [\"bike\"] }\n\
         [then]\npriority = \"high\"\ntags = [\"bikes\"]",
    )
    .unwrap();
    assert_eq!(rules.last(), Some(&expected));

    // Tried: the category's questions are asked, and the answer makes the rule fire.
    b.select("#t-service", "POTHOLE").await;
    b.follow("form[aria-labelledby=sample] button[type=submit]").await;
    b.select("#a-LANE", "bike").await;
    b.follow("form[aria-labelledby=sample] button[type=submit]").await;
    let outcome = b.text("section[aria-labelledby=outcome]").await;
    assert!(outcome.contains("potholes in the bike lane") && outcome.contains("high"), "{outcome}");
    scan("rules tried", b.accessibility_problems().await);
    b.screenshot(&format!("admin-rules-desktop-{backend:?}")).await;
    b.close().await;
    assert!(problems.is_empty(), "accessibility problems: {problems:?}");
}
