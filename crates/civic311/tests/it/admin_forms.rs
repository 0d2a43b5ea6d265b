//! Administration by forms: a service's questions, answers and Spanish words edited in
//! a form (what the form does not show is kept; what is untranslated is named), a
//! notice that promises residents other than the SLA policy gives refused through
//! every door, and routing rules added, moved, removed and tried with answers to
//! questions. Only administrators may do any of it.

#![allow(clippy::unwrap_used)]

use civic311_domain::routing::Rule;
use civic311_domain::service::ServiceType;
use civic311_testkit::fixture::IN_W2;
use civic311_testkit::{Backend, TestApp, both_backends};
use common::{Browser, PASSWORD, api, hidden, set_password, setup, unescape};

use crate::common;

both_backends!(an_administrator_edits_services_and_rules_by_forms);

/// The text of the page's error box.
fn alert(page: &str) -> String {
    unescape(page.split("role=\"alert\"").nth(1).unwrap_or("").split("</p>").next().unwrap_or(""))
}

/// A member of staff signed in, with the form token of their pages.
async fn signed_in(app: &TestApp, user: &str) -> (Browser, String) {
    assert_eq!(set_password(app, user, PASSWORD).await.status, 200);
    let mut b = Browser::default();
    assert_eq!(b.sign_in(app, user, PASSWORD, "/staff").await.status, 303);
    let csrf = hidden(&b.get(app, "/staff/me").await.body, "csrf");
    (b, csrf)
}

/// Form fields as posted: `(name, value)` pairs with the form token.
fn with_csrf<'a>(fields: &[(&'a str, &'a str)], csrf: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut all = fields.to_vec();
    all.push(("csrf", csrf));
    all
}

async fn stored_rules(app: &TestApp) -> Vec<Rule> {
    app.store.rules().await.unwrap().rules
}

async fn an_administrator_edits_services_and_rules_by_forms(backend: Backend) {
    let app = setup(backend).await;

    // Only administrators: staff and supervisors are refused, reading or writing.
    for user in ["pat", "sam"] {
        let (mut b, csrf) = signed_in(&app, user).await;
        for page in ["/staff/admin/services/GRAFFITI", "/staff/admin/rules/1", "/staff/admin/rules/new"] {
            assert_eq!(b.get(&app, page).await.status, 403, "{user}: {page}");
        }
        let fields = with_csrf(&[("name", "mine"), ("questions", "0")], &csrf);
        assert_eq!(b.post(&app, "/staff/admin/services/GRAFFITI", &fields).await.status, 403, "{user}");
        assert_eq!(b.post(&app, "/staff/admin/rules/new", &fields).await.status, 403, "{user}");
    }
    assert_eq!(app.store.rules().await.unwrap().rules.len(), 2, "nothing changed");
    let (mut ada, csrf) = signed_in(&app, "ada").await;

    // A question with its answers, in English and Spanish, added by the form.
    let graffiti = [
        ("name", "Graffiti"),
        ("description", "Paint on public property"),
        ("group", "Streets"),
        ("keywords", "paint, tag"),
        ("department", "PW"),
        ("default_priority", "normal"),
        ("visibility", "public"),
        ("service_notice", "Crews paint over graffiti."),
        ("es.name", "Grafiti"),
        ("questions", "0"),
        ("q0.code", "OFFENSIVE"),
        ("q0.datatype", "singlevaluelist"),
        ("q0.order", "1"),
        ("q0.required", "yes"),
        ("q0.description", "Is it offensive?"),
        ("q0.values", "yes = Yes\nno = No"),
        ("q0.es.description", "¿Es ofensivo?"),
        ("q0.es.values", "yes = Sí\nno = "),
    ];
    let r = ada.post(&app, "/staff/admin/services/GRAFFITI", &with_csrf(&graffiti, &csrf)).await;
    assert_eq!(r.status, 303, "{}", alert(&r.body));
    assert_eq!(r.headers["location"], "/staff/admin/services/GRAFFITI?done=saved");
    let saved = app.store.services().await.unwrap().into_iter().find(|s| s.code == "GRAFFITI").unwrap();
    assert_eq!(saved.service_type, ServiceType::Batch, "what the form does not show is kept");
    assert_eq!(saved.keywords, ["paint", "tag"]);
    let q = &saved.attributes[0];
    assert_eq!((q.code.as_str(), q.required, q.description.as_str()), ("OFFENSIVE", true, "Is it offensive?"));
    assert_eq!(
        q.values.iter().map(|v| (v.key.as_str(), v.name.as_str())).collect::<Vec<_>>(),
        [("yes", "Yes"), ("no", "No")]
    );
    let es = &saved.translations["es"];
    assert_eq!(es.name, "Grafiti");
    assert_eq!(es.questions["OFFENSIVE"], "¿Es ofensivo?");
    assert_eq!(es.answers.iter().collect::<Vec<_>>(), [(&"yes".to_owned(), &"Sí".to_owned())]);
    // Residents reading Spanish get the question in Spanish, at once.
    let (lat, long) = (IN_W2.0, IN_W2.1);
    let r = app.get(&format!("/report/GRAFFITI?lang=es&step=details&lat={lat}&long={long}&description=tag")).await;
    assert!(r.body.contains("¿Es ofensivo?") && r.body.contains(">Sí</option>"), "{}", r.body);
    // What is still in English is named, on the service and in the list.
    let page = ada.get(&app, "/staff/admin/services/GRAFFITI").await;
    assert!(
        unescape(&page.body).contains("Not yet in Spanish:</strong> description, group, notice, answer no."),
        "{}",
        page.body
    );
    let list = unescape(&ada.get(&app, "/staff/admin/services").await.body);
    let row = |code: &str| list.split(&format!("({code})")).nth(1).unwrap().split("</tr>").next().unwrap().to_owned();
    assert!(row("GRAFFITI").contains("4 missing"), "{}", row("GRAFFITI"));

    // A question removed by the form is gone, with its translation.
    let mut removed = graffiti.to_vec();
    removed.push(("q0.remove", "yes"));
    let r = ada.post(&app, "/staff/admin/services/GRAFFITI", &with_csrf(&removed, &csrf)).await;
    assert_eq!(r.status, 303, "{}", alert(&r.body));
    let saved = app.store.services().await.unwrap().into_iter().find(|s| s.code == "GRAFFITI").unwrap();
    assert!(saved.attributes.is_empty() && saved.translations["es"].questions.is_empty());

    // A notice promising other than the SLA policy gives is pointed out, and a change
    // that keeps it is refused — by the form and by the API alike — with both named.
    assert!(row("POTHOLE").contains("disagree"), "{}", row("POTHOLE"));
    let said =
        "the notice promises 3 days, but requests of POTHOLE get SLA policy 'pothole', which gives 8 business hours";
    assert!(row("POTHOLE").contains(said), "{}", row("POTHOLE"));
    let workflow = unescape(&ada.get(&app, "/staff/admin/workflow").await.body);
    assert!(workflow.contains("Notices that no longer match their SLA") && workflow.contains(said), "{workflow}");
    let all = api(&app, "GET", "/api/v1/config/services", Some("ada"), None).await.json();
    let mut pothole = all["services"].as_array().unwrap().iter().find(|s| s["code"] == "POTHOLE").unwrap().clone();
    pothole["name"] = "Road hole".into();
    let r = api(&app, "PUT", "/api/v1/config/services/POTHOLE", Some("ada"), Some(pothole.clone())).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains(said), "{}", r.body);
    pothole["service_notice"] = "Most potholes are filled within 8 business hours.".into();
    let r = api(&app, "PUT", "/api/v1/config/services/POTHOLE", Some("ada"), Some(pothole.clone())).await;
    assert_eq!(r.status, 409, "the Spanish notice still promises 3 days: {}", r.body);
    assert!(r.body.contains("the notice (es) promises 3 days"), "{}", r.body);
    assert_eq!(app.state.city().service("POTHOLE").unwrap().name, "Pothole", "nothing saved");
    pothole["translations"]["es"]["service_notice"] = "La mayoría se rellenan en 8 horas hábiles.".into();
    let r = api(&app, "PUT", "/api/v1/config/services/POTHOLE", Some("ada"), Some(pothole)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let list = unescape(&ada.get(&app, "/staff/admin/services").await.body);
    assert!(!list.contains("disagree"), "every notice now matches its policy");
    let workflow = ada.get(&app, "/staff/admin/workflow").await.body;
    assert!(!workflow.contains("Notices that no longer match"));

    // A rule added by the form, first in the order, exactly as filled in.
    let rule = [
        ("name", "offensive graffiti in ward 2"),
        ("position", "1"),
        ("services", "GRAFFITI"),
        ("within.wards", "W2"),
        ("keywords", "swastika, slur"),
        ("channels", "web"),
        ("channels", "mobile"),
        ("attributes", "OFFENSIVE = yes"),
        ("days", "mon"),
        ("days", "tue"),
        ("time_from", "08:00"),
        ("time_to", "17:00"),
        ("team", "PW-NORTH"),
        ("priority", "high"),
        ("tags", "offensive"),
        ("stop", "yes"),
        ("was", ""),
    ];
    let r = ada.post(&app, "/staff/admin/services/GRAFFITI", &with_csrf(&graffiti, &csrf)).await;
    assert_eq!(r.status, 303, "{}", alert(&r.body));
    let r = ada.post(&app, "/staff/admin/rules/new", &with_csrf(&rule, &csrf)).await;
    assert_eq!(r.status, 303, "{}", alert(&r.body));
    assert_eq!(r.headers["location"], "/staff/admin/rules?done=saved");
    let expected: Rule = toml::from_str(
        r#"name = "offensive graffiti in ward 2"
           stop = true
           [when]
           services = ["GRAFFITI"]
           within = { wards = ["W2"] }
           keywords = ["swastika", "slur"]
           channels = ["web", "mobile"]
           attributes = { OFFENSIVE = ["yes"] }
           days = ["mon", "tue"]
           time = { from = "08:00", to = "17:00" }
           [then]
           team = "PW-NORTH"
           priority = "high"
           tags = ["offensive"]"#,
    )
    .unwrap();
    let names = |rules: &[Rule]| rules.iter().map(|r| r.name.clone()).collect::<Vec<_>>();
    let rules = stored_rules(&app).await;
    assert_eq!(rules[0], expected);
    assert_eq!(names(&rules), ["offensive graffiti in ward 2", "gas is urgent", "bulk items in ward 2"]);
    // The list says it in words, with names for codes.
    let page = unescape(&ada.get(&app, "/staff/admin/rules").await.body);
    assert!(page.contains("category Graffiti; in wards Ward 2; description says “swastika” or “slur”"), "{page}");

    // The tester asks the category's questions and takes the answers into account.
    let sample = format!(
        "/staff/admin/rules?service_code=GRAFFITI&description=a+slur+on+the+wall&lat={lat}&long={long}&channel=web&at=2026-03-03T10:00"
    );
    let page = ada.get(&app, &sample).await;
    assert!(page.body.contains("name=\"attribute[OFFENSIVE]\""), "the question is asked");
    assert!(!page.body.contains("<strong>offensive graffiti in ward 2</strong>"), "not without the answer");
    let page = ada.get(&app, &format!("{sample}&attribute%5BOFFENSIVE%5D=yes")).await;
    assert!(page.body.contains("<strong>offensive graffiti in ward 2</strong>"), "{}", page.body);
    assert!(page.body.contains("<dd>high</dd>"));

    // Moved down the order; an edit of a rule that moved meanwhile is refused.
    let page = ada.get(&app, "/staff/admin/rules/1").await;
    assert_eq!(hidden(&page.body, "was"), "offensive graffiti in ward 2");
    let mut moved = rule.to_vec();
    moved.retain(|(k, _)| !matches!(*k, "position" | "was"));
    moved.extend([("position", "3"), ("was", "offensive graffiti in ward 2")]);
    let r = ada.post(&app, "/staff/admin/rules/1", &with_csrf(&moved, &csrf)).await;
    assert_eq!(r.status, 303, "{}", alert(&r.body));
    assert_eq!(
        names(&stored_rules(&app).await),
        ["gas is urgent", "bulk items in ward 2", "offensive graffiti in ward 2"]
    );
    let r = ada.post(&app, "/staff/admin/rules/1", &with_csrf(&moved, &csrf)).await;
    assert_eq!(r.status, 409);
    assert!(alert(&r.body).contains("rule 1 is now 'gas is urgent'"), "{}", alert(&r.body));
    // A team that does not exist is refused naming the ones that do; nothing changes.
    let mut forged = moved.clone();
    forged.retain(|(k, _)| !matches!(*k, "team" | "was"));
    forged.extend([("team", "NOPE"), ("was", "offensive graffiti in ward 2")]);
    let r = ada.post(&app, "/staff/admin/rules/3", &with_csrf(&forged, &csrf)).await;
    assert_eq!(r.status, 409);
    assert!(alert(&r.body).contains("unknown team 'NOPE'; one of PW-NORTH, SAN-BULK"), "{}", alert(&r.body));
    assert!(r.body.contains("value=\"offensive graffiti in ward 2\""), "the form keeps what was typed");
    // Removed.
    let mut gone = moved.clone();
    gone.push(("delete", "yes"));
    let r = ada.post(&app, "/staff/admin/rules/3", &with_csrf(&gone, &csrf)).await;
    assert_eq!(r.status, 303, "{}", alert(&r.body));
    assert_eq!(names(&stored_rules(&app).await), ["gas is urgent", "bulk items in ward 2"]);
    assert_eq!(ada.get(&app, "/staff/admin/rules/9").await.status, 404);
}
