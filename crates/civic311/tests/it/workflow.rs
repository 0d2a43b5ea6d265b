//! The workflow end to end through the real entry points, on both backends, with a
//! moving clock: SLA due times on a business calendar with a holiday, a transfer, a
//! hold, a breach swept into escalation, messages delivered to a local SMS provider
//! over HTTP, resolution with a rating link, and an intact hash chain.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use civic311_app::Notifiers;
use civic311_app::notifiers::SmsConfig;
use civic311_jobs::Dispatcher;
use civic311_store::OutboxQuery;
use civic311_testkit::smtp::SmtpServer;
use civic311_testkit::{Backend, both_backends};
use common::{act, api, file_pothole, setup};
use jiff::Timestamp;

use crate::common;

both_backends!(
    pothole_before_a_holiday_weekend_is_transferred_held_escalated_and_resolved,
    staff_api_refusals,
    update_feed_shows_public_changes_in_fixmystreet_format,
    resident_rates_a_resolved_request_from_the_link
);

async fn sms_provider() -> (String, Arc<Mutex<Vec<Vec<(String, String)>>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&got);
    let app = axum::Router::new().route(
        "/Accounts/{account}/Messages.json",
        axum::routing::post(move |axum::extract::Form(f): axum::extract::Form<Vec<(String, String)>>| {
            let sink = Arc::clone(&sink);
            async move {
                sink.lock().unwrap().push(f);
                (axum::http::StatusCode::CREATED, "{\"sid\":\"SM1\"}")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

async fn pothole_before_a_holiday_weekend_is_transferred_held_escalated_and_resolved(backend: Backend) {
    let app = setup(backend).await;
    // Friday 16:55 before Memorial Day: 5 minutes on Friday, Monday off, 7h55 on Tuesday.
    app.set_now("2026-05-22T16:55:00-05:00");
    let id = file_pothole(&app).await;
    let one = app.get(&format!("/open311/v2/requests/{id}.json")).await.json();
    assert_eq!(one[0]["expected_datetime"], "2026-05-26T15:55:00-05:00");

    app.set_now("2026-05-26T09:00:00-05:00");
    let r = api(
        &app,
        "POST",
        &format!("/api/v1/requests/{id}/actions"),
        Some("pat"),
        Some(serde_json::json!({
            "action": "transfer", "department": "SAN", "reason": "a dumped sofa, not a pothole"
        })),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["department"], "SAN");

    let due_before: Timestamp = r.json()["sla"]["resolution_due"].as_str().unwrap().parse().unwrap();
    app.set_now("2026-05-26T10:00:00-05:00");
    let held = api(
        &app,
        "POST",
        &format!("/api/v1/requests/{id}/actions"),
        Some("sam"),
        Some(serde_json::json!({
            "action": "hold", "reason": "waiting for the owner to move the car"
        })),
    )
    .await;
    assert_eq!(held.json()["status"], "on_hold", "{}", held.body);
    app.set_now("2026-05-29T10:00:00-05:00");
    let resumed = api(
        &app,
        "POST",
        &format!("/api/v1/requests/{id}/actions"),
        Some("sam"),
        Some(serde_json::json!({ "action": "resume" })),
    )
    .await;
    let due_after: Timestamp = resumed.json()["sla"]["resolution_due"].as_str().unwrap().parse().unwrap();
    let city = app.state.city();
    let cal = city.workflow.calendar("office").unwrap();
    let paused = cal.between("2026-05-26T15:00:00Z".parse().unwrap(), "2026-05-29T15:00:00Z".parse().unwrap());
    assert_eq!(cal.between(due_before, due_after), paused, "the due time moves by exactly the paused business time");
    assert_eq!(paused, jiff::SignedDuration::from_hours(27));

    // Nothing is due before the breach; after it, one sweep escalates once.
    let model = city.workflow.clone();
    let before = civic311_jobs::sweep(&app.store, &model, app.now(), 100).await.unwrap();
    assert_eq!(before.fired, 0);
    let breach = due_after + jiff::SignedDuration::from_mins(1);
    let swept = civic311_jobs::sweep(&app.store, &model, breach, 100).await.unwrap();
    assert_eq!(swept.fired, 1);
    let again = civic311_jobs::sweep(&app.store, &model, breach, 100).await.unwrap();
    assert_eq!(again.fired, 0, "never the same escalation twice");

    // Residents see the delay and the new date: one more 8-hour target from the breach
    // (Fri 15:56 + 1h04 on Friday + 6h56 on Monday), on the page, in Open311 and in
    // the notice.
    app.set_now(&breach.to_string());
    let new_date = "2026-06-01T14:56:00-05:00";
    let one = app.get(&format!("/open311/v2/requests/{id}.json")).await.json();
    assert_eq!(one[0]["expected_datetime"], new_date);
    let notes = one[0]["status_notes"].as_str().unwrap();
    assert!(notes.starts_with(&format!("Delayed: now expected by {new_date}")), "{notes}");
    let written = |lang: &str| {
        let at: jiff::Zoned = new_date.parse::<Timestamp>().unwrap().to_zoned(city.tz.clone());
        civic311_domain::i18n::datetime(civic311_domain::i18n::texts(lang), &at)
    };
    let page = app.get(&format!("/requests/{id}")).await;
    let shown = |p: &civic311_testkit::app::TestResponse, text: &str| p.body.contains(text);
    assert!(shown(&page, ">Delayed<") && shown(&page, "Now expected by"), "{}", page.body);
    assert!(shown(&page, &written("en")), "{}", page.body);

    let (sms_url, texts) = sms_provider().await;
    let sms = SmsConfig { base_url: sms_url, account: "AC1".into(), token: "secret".into(), from: "+15550000".into() };
    let mail = SmtpServer::start();
    let dispatcher =
        Dispatcher::new(Notifiers::new(Some(common::smtp(&mail)), Some(sms)), Some("http://civic311.test".into()));
    let report = dispatcher.run(&app.store, &model, breach, 100).await.unwrap();
    let errors: Vec<_> = app
        .store
        .outbox(&OutboxQuery { limit: 100, ..OutboxQuery::default() })
        .await
        .unwrap()
        .into_iter()
        .filter_map(|m| m.last_error)
        .collect();
    assert_eq!(report.dead + report.retried, 0, "{errors:?}");
    let texts_now = texts.lock().unwrap().clone();
    let bodies: Vec<String> =
        texts_now.iter().filter_map(|f| f.iter().find(|(k, _)| k == "Body").map(|(_, v)| v.clone())).collect();
    assert!(texts_now.iter().all(|f| f.contains(&("To".into(), "+15550100".into()))));
    assert!(bodies.iter().any(|b| b.contains("recibimos") || b.contains("Recibimos")), "{bodies:?}");
    assert!(
        bodies.iter().any(|b| b.contains("tardando más") && b.contains(&written("es"))),
        "the delay notice in Spanish, with the new date: {bodies:?}"
    );
    let detail = api(&app, "GET", &format!("/api/v1/requests/{id}"), Some("ali"), None).await.json();
    assert_eq!(detail["escalated"], true);
    assert!(detail.get("notifications").is_none(), "who was sent what is not for analysts");
    let detail = api(&app, "GET", &format!("/api/v1/requests/{id}"), Some("sam"), None).await.json();
    let notes = detail["notifications"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n["recipient"] == "sam@testville.example" && n["kind"] == "escalated" && n["state"] == "sent")
    );
    // The supervisor's escalation went through a real SMTP server.
    let inbox = mail.received();
    let escalation = inbox
        .iter()
        .find(|m| m.to.contains("sam@testville.example") && m.subject.starts_with("Escalated"))
        .expect("the supervisor's email");
    assert!(escalation.body.contains(&id) && escalation.body.contains("escalated"), "{}", escalation.body);

    app.set_now("2026-06-01T11:00:00-05:00");
    let done = api(
        &app,
        "POST",
        &format!("/api/v1/requests/{id}/actions"),
        Some("sam"),
        Some(serde_json::json!({
            "action": "resolve", "note": "Sofa collected"
        })),
    )
    .await;
    assert_eq!(done.json()["status"], "resolved");
    // Resolved, then closed: each date is the moment it happened.
    let page = app.get(&format!("/requests/{id}")).await;
    assert!(!shown(&page, ">Delayed<") && !shown(&page, "Now expected by"), "{}", page.body);
    let resolved_at =
        civic311_domain::i18n::datetime(civic311_domain::i18n::texts("en"), &app.now().to_zoned(city.tz.clone()));
    assert!(shown(&page, &format!("<dt>Resolved</dt><dd>{resolved_at}</dd>")), "{}", page.body);
    assert!(!shown(&page, "<dt>Closed</dt>"), "{}", page.body);
    dispatcher.run(&app.store, &model, app.now(), 100).await.unwrap();
    let last = texts.lock().unwrap().last().cloned().unwrap();
    let body = &last.iter().find(|(k, _)| k == "Body").unwrap().1;
    assert!(body.contains("Sofa collected") && body.contains("http://civic311.test/rate/"), "{body}");
    // ...and the resolution email with the rating link reached the resident's mailbox.
    let inbox = mail.received();
    let resolved = inbox.iter().rfind(|m| m.to.contains("res@example.test")).expect("the resident's resolution email");
    assert!(resolved.body.contains("Sofa collected"), "{}", resolved.body);
    assert!(resolved.body.contains("http://civic311.test/rate/"), "{}", resolved.body);
    // The link opens the rating page.
    let link = resolved.body.split_whitespace().find(|w| w.starts_with("http://civic311.test/rate/")).unwrap();
    let page = app.get(link.trim_start_matches("http://civic311.test")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("name=\"score\""), "{}", page.body);

    app.set_now("2026-06-03T09:00:00-05:00");
    let closed = act(&app, &id, "sam", serde_json::json!({ "action": "close" })).await;
    assert_eq!(closed["status"], "closed", "{closed}");
    let page = app.get(&format!("/requests/{id}")).await;
    let closed_at =
        civic311_domain::i18n::datetime(civic311_domain::i18n::texts("en"), &app.now().to_zoned(city.tz.clone()));
    assert!(shown(&page, &format!("<dt>Resolved</dt><dd>{resolved_at}</dd>")), "{}", page.body);
    assert!(shown(&page, &format!("<dt>Closed</dt><dd>{closed_at}</dd>")), "{}", page.body);

    // Every request's history is an unbroken hash chain.
    let events = app.store.sealed_events((0, 0), 10_000).await.unwrap();
    let seq = events.iter().rfind(|e| e.kind == "status_changed").unwrap().request_id;
    let chain: Vec<_> = events.into_iter().filter(|e| e.request_id == seq).collect();
    assert!(chain.len() >= 7);
    assert_eq!(civic311_domain::audit::first_break(&chain), None);
    assert!(chain.iter().all(|e| e.prev_hash.is_empty()), "each hash covers the one before; it is not stored twice");
    let mut removed = chain.clone();
    removed.remove(3);
    assert!(
        civic311_domain::audit::first_break(&removed).is_some_and(|why| why.contains("an event before it was removed"))
    );
}

async fn staff_api_refusals(backend: Backend) {
    let app = setup(backend).await;
    let id = file_pothole(&app).await;
    let uri = format!("/api/v1/requests/{id}/actions");
    let r = api(&app, "GET", "/api/v1/requests", None, None).await;
    assert_eq!(r.status, 401);
    assert!(r.json()["errors"][0]["detail"].as_str().unwrap().contains("Bearer"));
    assert_eq!(api(&app, "GET", "/api/v1/requests", Some("nobody"), None).await.status, 401);
    let listed = api(&app, "GET", "/api/v1/requests?department=PW&limit=1", Some("ali"), None).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.json()["requests"][0]["id"], id.as_str());
    // An analyst reads but never acts; another department's supervisor cannot act.
    let note = serde_json::json!({ "action": "note", "text": "hi", "public": false });
    let r = api(&app, "POST", &uri, Some("ali"), Some(note.clone())).await;
    assert_eq!(r.status, 403);
    let r = api(&app, "POST", &uri, Some("sam"), Some(note)).await;
    assert_eq!(r.status, 403);
    assert!(r.json()["errors"][0]["detail"].as_str().unwrap().contains("owned by PW"));
    // A forbidden transition and a missing reason change nothing.
    let before = app.store.events(id.split('-').nth(1).unwrap().parse().unwrap()).await.unwrap().len();
    let r = api(&app, "POST", &uri, Some("pat"), Some(serde_json::json!({ "action": "resume" }))).await;
    assert_eq!(r.status, 409, "{}", r.body);
    let r = api(
        &app,
        "POST",
        &uri,
        Some("pat"),
        Some(serde_json::json!({ "action": "transfer", "department": "SAN", "reason": " " })),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["errors"][0]["field"], "reason");
    let r = api(&app, "POST", &uri, Some("pat"), Some(serde_json::json!({ "action": "fly" }))).await;
    assert_eq!(r.status, 400);
    let after = app.store.events(id.split('-').nth(1).unwrap().parse().unwrap()).await.unwrap().len();
    assert_eq!(before, after);
    // Configuration is for administrators, and is checked before it is kept.
    let r = api(&app, "PUT", "/api/v1/config/workflow", Some("pat"), Some(serde_json::json!({}))).await;
    assert_eq!(r.status, 403);
    let bad = serde_json::json!({ "sla": [{ "name": "x", "calendar": "nope", "response": "1h", "resolution": "2h" }] });
    let r = api(&app, "PUT", "/api/v1/config/workflow", Some("ada"), Some(bad)).await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("unknown calendar"));
    // The OpenAPI document lists every operation the router serves.
    let doc = app.get("/api/v1/openapi.json").await.json();
    assert_eq!(doc["openapi"], "3.1.0");
    for op in civic311_web::api::openapi::OPERATIONS {
        assert!(doc["paths"][op.path][op.method].is_object(), "{} is documented", op.id);
        let path: Vec<&str> = op.path.split('/').map(|seg| if seg.starts_with('{') { "1" } else { seg }).collect();
        let path = path.join("/");
        let r = api(&app, &op.method.to_uppercase(), &path, None, None).await;
        assert_eq!(r.status, 401, "{} {} is served", op.method, op.path);
    }
}

async fn update_feed_shows_public_changes_in_fixmystreet_format(backend: Backend) {
    let app = setup(backend).await;
    app.set_now("2026-03-03T15:00:00-06:00");
    let id = file_pothole(&app).await;
    app.set_now("2026-03-03T15:10:00-06:00");
    act(&app, &id, "pat", serde_json::json!({ "action": "acknowledge" })).await;
    act(&app, &id, "pat", serde_json::json!({ "action": "note", "text": "crew gossip", "public": false })).await;
    app.set_now("2026-03-04T09:00:00-06:00");
    act(&app, &id, "pat", serde_json::json!({ "action": "note", "text": "Crew booked for Thursday", "public": true }))
        .await;
    act(&app, &id, "pat", serde_json::json!({ "action": "resolve", "note": "Filled" })).await;

    let uri = "/open311/v2/servicerequestupdates.json?start_date=2026-03-03T00:00:00-06:00&end_date=2026-03-05T00:00:00-06:00";
    let r = app.get(uri).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let updates = r.json();
    let updates = updates.as_array().unwrap();
    let statuses: Vec<_> = updates.iter().map(|u| u["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["open", "fixed"], "{updates:?}");
    assert!(updates.iter().all(|u| u["service_request_id"] == id.as_str()));
    assert_eq!(updates[0]["description"], "Crew booked for Thursday");
    assert_eq!(updates[1]["description"], "Status changed to resolved: Filled");
    assert_eq!(updates[1]["external_status_code"], "resolved");
    assert_eq!(updates[1]["updated_datetime"], "2026-03-04T09:00:00-06:00");
    assert!(!r.body.contains("gossip"), "internal notes never leave the building");
    let ids: Vec<i64> = updates.iter().map(|u| u["update_id"].as_str().unwrap().parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));

    let xml = app.get(&uri.replace(".json", ".xml")).await;
    assert_eq!(xml.status, 200);
    assert!(xml.body.contains("<service_request_updates>") && xml.body.contains("<request_update>"), "{}", xml.body);
    assert!(xml.body.contains("<status>fixed</status>"), "{}", xml.body);

    // A window before the change is empty; malformed or reversed windows are 400s.
    let early = app
        .get("/open311/v2/servicerequestupdates.json?start_date=2026-03-01T00:00:00Z&end_date=2026-03-02T00:00:00Z")
        .await;
    assert_eq!(early.json(), serde_json::json!([]));
    let bad = app.get("/open311/v2/servicerequestupdates.json?start_date=yesterday").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("start_date"));
    let reversed = app
        .get("/open311/v2/servicerequestupdates.xml?start_date=2026-03-05T00:00:00Z&end_date=2026-03-01T00:00:00Z")
        .await;
    assert_eq!(reversed.status, 400);
    assert!(reversed.body.contains("<errors>"), "{}", reversed.body);
}

async fn resident_rates_a_resolved_request_from_the_link(backend: Backend) {
    let app = setup(backend).await;
    let id = file_pothole(&app).await;
    let seq: i64 = id.split('-').nth(1).unwrap().parse().unwrap();
    let token = app.store.request(seq).await.unwrap().unwrap().token;
    let uri = format!("/rate/{token}");
    // Before resolution there is nothing to rate; the resident chose Spanish.
    let early = app.get(&uri).await;
    assert_eq!(early.status, 200);
    assert!(early.body.contains("lang=\"es\"") && early.body.contains("aún no está resuelta"), "{}", early.body);
    assert!(!early.body.contains("name=\"score\""));
    let refused = app.post_form(&uri, &[("score", "5")]).await;
    assert_eq!(refused.status, 409);

    act(&app, &id, "pat", serde_json::json!({ "action": "resolve", "note": "Bache rellenado" })).await;
    let form = app.get(&uri).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("¿Cómo lo hicimos?") && form.body.contains("Bache rellenado"), "{}", form.body);
    assert!(form.body.contains("<meta name=\"viewport\""));
    let english = app.get(&format!("{uri}?lang=en")).await;
    assert!(english.body.contains("How did we do?") && english.body.contains("lang=\"en\""));

    // No score: the form comes back with the error and the comment kept; nothing stored.
    let missing = app.post_form(&uri, &[("comment", "Muy rápido <3"), ("lang", "es")]).await;
    assert_eq!(missing.status, 400);
    assert!(missing.body.contains("Elija una calificación"), "{}", missing.body);
    assert!(missing.body.contains("Muy rápido &#60;3"), "the comment is kept, escaped: {}", missing.body);
    let detail = api(&app, "GET", &format!("/api/v1/requests/{id}"), Some("ali"), None).await.json();
    assert!(detail["rating"].is_null());
    let bad = app.post_form(&uri, &[("score", "9")]).await;
    assert_eq!(bad.status, 400);

    let sent = app.post_form(&uri, &[("score", "4"), ("comment", "Muy rápido"), ("lang", "es")]).await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let location = sent.headers.get("location").unwrap().to_str().unwrap().to_owned();
    assert_eq!(location, format!("/rate/{token}?lang=es&done=1"));
    let thanks = app.get(&location).await;
    assert!(thanks.body.contains("Gracias") && thanks.body.contains("4/5"), "{}", thanks.body);

    // Staff see it, and the history names the resident.
    let detail = api(&app, "GET", &format!("/api/v1/requests/{id}"), Some("ali"), None).await.json();
    assert_eq!(detail["rating"]["score"], 4);
    assert_eq!(detail["rating"]["comment"], "Muy rápido");
    let events = app.store.events(seq).await.unwrap();
    let rated = events.iter().rfind(|e| e.kind == civic311_domain::request::EventKind::Rated).unwrap();
    assert_eq!(rated.actor, "resident");

    let unknown = app.get("/rate/not-a-token").await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.body.contains("not valid") || unknown.body.contains("no es válido"));
}
