//! The attacks a security review of the demo found, each reproduced from outside as an
//! attacker would try it, and refused.

#![allow(clippy::unwrap_used)]

use civic311_store::ApiKey;
use civic311_testkit::app::multipart;
use civic311_testkit::fixture::{API_KEY, IN_W1};
use civic311_testkit::{Backend, both_backends, photos};
use common::{Browser, PASSWORD, api, file_pothole, hidden, post_pothole, set_password, setup, setup_with, smtp};
use serde_json::json;

use crate::common;

both_backends!(
    links_in_mail_never_come_from_the_host_header,
    an_image_bomb_is_refused_before_it_is_decoded,
    public_forms_and_open311_keys_have_budgets,
    a_merge_never_exposes_a_request,
    guesses_sent_at_once_are_counted_before_they_are_checked,
    secrets_are_write_only_and_the_outbox_is_for_supervisors,
    staff_forms_say_what_residents_see_and_keep_internal_notes_internal,
    nothing_is_sent_to_a_follower_before_it_consents,
    text_no_document_can_carry_is_refused,
    configuration_writes_are_exact,
    staff_api_tokens_are_listed_revoked_and_expire,
    an_analyst_cannot_file_or_follow_through_the_intake_screen,
    notices_on_staff_pages_never_repeat_the_address,
    every_response_carries_the_security_headers,
    bad_input_is_refused_in_the_interfaces_own_format
);

/// The fields of a pothole report at `IN_W1`.
fn report_fields() -> Vec<(&'static str, String)> {
    vec![
        ("service_code", "POTHOLE".into()),
        ("lat", IN_W1.0.to_string()),
        ("long", IN_W1.1.to_string()),
        ("description", "Deep hole".into()),
        ("attribute[SIZE]", "large".into()),
    ]
}

fn borrowed<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Mail from the city to the test SMTP server `mail`, with the public URL `public`.
fn mailing(
    mail: &civic311_testkit::smtp::SmtpServer,
    public: Option<&str>,
) -> impl FnOnce(civic311_web::AppState) -> civic311_web::AppState {
    let config = smtp(mail);
    let public = public.map(str::to_owned);
    move |mut s| {
        s.app.public_url = public;
        s.with_notifiers(civic311_app::Notifiers::new(Some(config), None))
    }
}

async fn links_in_mail_never_come_from_the_host_header(backend: Backend) {
    let forged = [("host".to_owned(), "attacker.example".to_owned())];
    // Configured: the links point at the city's address whatever Host says.
    let mail = civic311_testkit::smtp::SmtpServer::start();
    let app = setup_with(backend, mailing(&mail, Some("https://311.testville.example/"))).await;
    set_password(&app, "pat", PASSWORD).await;
    file_pothole(&app).await;
    let mut b = Browser { headers: forged.to_vec(), ..Browser::default() };
    let form = b.get(&app, "/staff/forgot").await;
    let r = b.post(&app, "/staff/forgot", &[("who", "pat"), ("csrf", &hidden(&form.body, "csrf"))]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(b.post(&app, "/my", &[("email", "res@example.test")]).await.status, 200);
    let received = mail.received();
    assert_eq!(received.len(), 2, "{received:?}");
    for m in &received {
        assert!(!m.raw.contains("attacker.example"), "{}", m.raw);
        assert!(m.body.contains("https://311.testville.example/"), "{}", m.body);
    }

    // Not configured: no link is mailed at all, and the page says what to set.
    let mail = civic311_testkit::smtp::SmtpServer::start();
    let app = setup_with(backend, mailing(&mail, None)).await;
    set_password(&app, "pat", PASSWORD).await;
    file_pothole(&app).await;
    let mut b = Browser { headers: forged.to_vec(), ..Browser::default() };
    let form = b.get(&app, "/staff/forgot").await;
    let r = b.post(&app, "/staff/forgot", &[("who", "pat"), ("csrf", &hidden(&form.body, "csrf"))]).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("CIVIC311_PUBLIC_URL"), "{}", r.body);
    let r = b.post(&app, "/my", &[("email", "res@example.test")]).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(mail.received().is_empty(), "{:?}", mail.received());
}

async fn an_image_bomb_is_refused_before_it_is_decoded(backend: Backend) {
    let app = setup(backend).await;
    // 12,000 × 12,000 pixels of zeros: 41 kB on the wire, 144 MB and more decoded.
    let bomb = photos::png_of_zeros(12_000);
    assert!(bomb.len() < 100_000, "{}", bomb.len());
    let files = [("media", "bomb.png", "image/png", bomb.as_slice())];
    let fields = report_fields();
    let open311 = "/open311/v2/requests.json";

    // Without a key, or with a wrong one in the address: refused before any decoding.
    let r = app.post_multipart(open311, &borrowed(&fields), &files).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("api_key is required"), "{}", r.body);
    let r = app.post_multipart(&format!("{open311}?api_key=wrong"), &borrowed(&fields), &files).await;
    assert_eq!(r.status, 403, "{}", r.body);

    // An address that keeps posting without a valid key is refused before its bodies
    // are read; a key given in the address still gets through, and other addresses too.
    let from = |ip: [u8; 4], uri: &str| {
        let mut req = multipart(uri, &borrowed(&fields), &files);
        req.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((ip, 1))));
        req
    };
    for _ in 0..10 {
        assert_eq!(app.call(from([203, 0, 113, 9], open311)).await.status, 403);
    }
    let r = app.call(from([203, 0, 113, 9], open311)).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.headers.contains_key("retry-after"));
    assert!(r.body.contains("from this address without a valid api_key"), "{}", r.body);
    assert_eq!(app.call(from([203, 0, 113, 10], open311)).await.status, 403, "another address is not held back");
    let with_key = format!("{open311}?api_key={API_KEY}");
    assert_eq!(
        app.call(from([203, 0, 113, 9], &with_key)).await.status,
        413,
        "a valid key in the address gets through"
    );

    // With a key: refused from the size the file declares, as too large.
    let mut keyed = fields.clone();
    keyed.push(("api_key", API_KEY.into()));
    let r = app.post_multipart(open311, &borrowed(&keyed), &files).await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.body.contains("12000 × 12000 pixels") && r.body.contains("40 megapixels"), "{}", r.body);

    // To the portal, several at once: each refused with the reason, nothing filed.
    let portal = borrowed(&fields);
    let files = [("photo", "bomb.png", "image/png", bomb.as_slice())];
    let send = || app.call(multipart("/report/POTHOLE", &portal, &files));
    let answers = tokio::join!(send(), send(), send(), send(), send(), send());
    for r in [answers.0, answers.1, answers.2, answers.3, answers.4, answers.5] {
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(r.body.contains("at most 10 MB and 40 megapixels"), "{}", r.body);
    }
    assert_eq!(app.store.count_requests().await.unwrap(), 0, "nothing was stored");
}

async fn public_forms_and_open311_keys_have_budgets(backend: Backend) {
    let app = setup(backend).await;
    // One address may send a burst of the portal's forms, then must wait; another may not.
    let mut neighbour = Browser::at("192.0.2.10");
    for _ in 0..20 {
        let r = neighbour.post(&app, "/my", &[("email", "someone@example.test")]).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = neighbour.post(&app, "/my", &[("email", "someone@example.test")]).await;
    assert_eq!(r.status, 429, "{}", r.body);
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(r.body.contains("Please wait a moment") && r.body.contains("<html"), "{}", r.body);
    let files: [(&str, &str, &str, &[u8]); 0] = [];
    let mut report = multipart("/report/POTHOLE", &borrowed(&report_fields()), &files);
    report.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::from(([192, 0, 2, 10], 1))));
    assert_eq!(app.call(report).await.status, 429, "the report form shares the budget");
    assert_eq!(Browser::at("192.0.2.11").post(&app, "/my", &[("email", "a@example.test")]).await.status, 200);
    // A minute later the address may send again.
    app.set_now("2026-03-03T15:01:00-06:00");
    assert_eq!(neighbour.post(&app, "/my", &[("email", "someone@example.test")]).await.status, 200);

    // Open311 filings are budgeted per key, however many addresses an app's users have.
    let key = ApiKey { key: "small-budget-key".into(), label: "a small app".into(), per_minute: Some(2) };
    app.store.put_api_key(&key).await.unwrap();
    app.state.reload().await.unwrap();
    let mut fields = report_fields();
    fields.push(("api_key", key.key.clone()));
    for ip in ["198.51.100.1", "198.51.100.2"] {
        let r = Browser::at(ip).post(&app, "/open311/v2/requests.json", &borrowed(&fields)).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let r = Browser::at("198.51.100.3").post(&app, "/open311/v2/requests.xml", &borrowed(&fields)).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.headers.contains_key("retry-after"));
    assert!(r.body.starts_with("<?xml") && r.body.contains("<code>429</code>"), "{}", r.body);
    assert!(r.body.contains("this api_key has used its budget"), "{}", r.body);
    // The city's own, unlimited key is never held back.
    let mut fields = report_fields();
    fields.push(("api_key", API_KEY.into()));
    for _ in 0..40 {
        let r = app.post_form("/open311/v2/requests.json", &borrowed(&fields)).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
}

/// An internal facilities request, logged by staff; its number.
async fn internal_request(app: &civic311_testkit::TestApp) -> String {
    let raw = civic311_app::intake::RawRequest {
        service_code: "FACILITY".into(),
        address: Some("City Hall, room 2".into()),
        description: "Broken door to the records room".into(),
        ..Default::default()
    };
    let city = app.state.city();
    let channel = civic311_domain::request::Channel::Internal;
    let intake = civic311_app::intake::prepare(&city, raw, channel, app.now(), "t-internal".into()).unwrap();
    app.store.create_request(intake).await.unwrap().id.to_string()
}

async fn a_merge_never_exposes_a_request(backend: Backend) {
    let app = setup(backend).await;
    let pothole = file_pothole(&app).await;
    let internal = internal_request(&app).await;
    let merge = |into: &str| json!({ "action": "merge", "into": into });
    let path = |id: &str| format!("/api/v1/requests/{id}/actions");

    // Not into internal work, not across the line, not into another department's request.
    let r = api(&app, "POST", &path(&pothole), Some("ada"), Some(merge(&internal))).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("internal work"), "{}", r.body);
    let r = api(&app, "POST", &path(&internal), Some("ada"), Some(merge(&pothole))).await;
    assert_eq!(r.status, 409, "{}", r.body);
    let r = post_pothole(&app, IN_W1, "A second hole", &[("attribute[SIZE]", "small")]).await;
    let bulk = app
        .post_form(
            "/open311/v2/requests.json",
            &[("api_key", API_KEY), ("service_code", "BULK"), ("address_string", "1 Main St"), ("description", "Sofa")],
        )
        .await;
    assert_eq!(bulk.status, 201, "{}", bulk.body);
    let bulk = bulk.json()[0]["service_request_id"].as_str().unwrap().to_owned();
    let r2 = r.json()[0]["service_request_id"].as_str().unwrap().to_owned();
    let r = api(&app, "POST", &path(&r2), Some("pat"), Some(merge(&bulk))).await;
    assert_eq!(r.status, 403, "pat works in PW and may not write into SAN's request: {}", r.body);
    // A number from another year is not this request.
    let other_year = format!("2025-{}", pothole.split_once('-').unwrap().1);
    let r = api(&app, "POST", &path(&r2), Some("pat"), Some(merge(&other_year))).await;
    assert_eq!(r.status, 404, "{}", r.body);
    for id in [&pothole, &internal, &r2, &bulk] {
        let r = api(&app, "GET", &format!("/api/v1/requests/{id}"), Some("ada"), None).await;
        assert!(r.json()["merged_into"].is_null(), "nothing was merged: {}", r.body);
    }

    // A merge recorded before these checks still leads nobody to internal work.
    let seq = |id: &str| id.split_once('-').unwrap().1.parse::<i64>().unwrap();
    let mut old = app.store.request(seq(&r2)).await.unwrap().unwrap();
    old.workflow.merged_into = Some(internal.clone());
    old.status = civic311_domain::request::Status::Duplicate;
    app.store.commit(vec![civic311_store::RequestUpdate::new(old)]).await.unwrap();
    let page = app.get(&format!("/requests/{r2}")).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains(&internal), "{}", page.body);
    let r = app.post_form(&format!("/requests/{r2}/follow"), &[("email", "neighbour@example.test")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.headers["location"].to_str().unwrap().contains(&r2), "{:?}", r.headers);
    let r = app
        .post_form(
            &format!("/open311/v2/requests/{r2}/followers.json"),
            &[("api_key", API_KEY), ("email", "app-user@example.test")],
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.json()[0]["service_request_id"], r2.as_str());
    let since = jiff::Timestamp::UNIX_EPOCH;
    assert!(
        app.store.pending_followers(seq(&internal), since).await.unwrap().is_empty(),
        "nobody asks for internal work"
    );
    assert_eq!(app.store.pending_followers(seq(&r2), since).await.unwrap().len(), 2);
}

/// A sign-in POST as a browser at `ip` that has just opened the form sends it.
fn sign_in_request(ip: [u8; 4], username: &str, password: &str) -> axum::http::Request<axum::body::Body> {
    let body = format!("username={username}&password={}&csrf=c&next=%2Fstaff", civic311_testkit::app::encode(password));
    let mut req = axum::http::Request::post("/staff/sign-in")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", "civic311_sign_in=c")
        .body(axum::body::Body::from(body))
        .unwrap();
    req.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((ip, 40_000))));
    req
}

async fn guesses_sent_at_once_are_counted_before_they_are_checked(backend: Backend) {
    let app = setup(backend).await;
    set_password(&app, "pat", PASSWORD).await;
    // Thirty guesses at pat's password at once from one address: at most five are
    // checked; the rest are turned away without hashing anything. An unknown name is
    // treated the same, so the answers tell nobody which names exist.
    for name in ["pat", "nobody"] {
        let ip = if name == "pat" { [203, 0, 113, 1] } else { [203, 0, 113, 2] };
        let guesses = (0..30).map(|i| sign_in_request(ip, name, &format!("guess number {i}"))).collect();
        let answers = app.call_all(guesses).await;
        let checked = answers.iter().filter(|r| r.status == 401).count();
        let refused = answers.iter().filter(|r| r.status == 429).count();
        assert_eq!((checked, refused), (5, 25), "{name}: {:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
        // Locked out from that address, even with the right password.
        let r = app.call(sign_in_request(ip, name, PASSWORD)).await;
        assert_eq!(r.status, 429, "{}", r.body);
    }
    // The real pat, elsewhere, is not locked out by a stranger's guessing.
    let r = app.call(sign_in_request([198, 51, 100, 7], "pat", PASSWORD)).await;
    assert_eq!(r.status, 303, "{}", r.body);

    // Guessing from many addresses locks the account everywhere, past 50 attempts;
    // the reset link is then the way in, and it clears the lock.
    for i in 0..10u8 {
        let guesses = (0..5).map(|_| sign_in_request([192, 0, 2, i], "pat", "wrong password")).collect();
        assert!(app.call_all(guesses).await.iter().all(|r| r.status == 401));
    }
    let r = app.call(sign_in_request([198, 51, 100, 7], "pat", PASSWORD)).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("Forgotten your password"), "{}", r.body);
    set_password(&app, "pat", "a fresh passphrase").await;
    let r = app.call(sign_in_request([198, 51, 100, 7], "pat", "a fresh passphrase")).await;
    assert_eq!(r.status, 303, "{}", r.body);
}

/// A webhook receiver that fails every delivery with a body echoing a secret; the URL
/// to post to and how many deliveries it received.
async fn failing_receiver() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let received = std::sync::Arc::new(AtomicUsize::new(0));
    let count = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            count.fetch_add(1, Ordering::SeqCst);
            async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "echo: the receiver's own password is hunter2") }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

async fn secrets_are_write_only_and_the_outbox_is_for_supervisors(backend: Backend) {
    let app = setup(backend).await;
    let secret = "s3cret-signing-key-42";
    let (hook, received) = failing_receiver().await;
    let mut doc = api(&app, "GET", "/api/v1/config/workflow", Some("ada"), None).await.json();
    doc.as_object_mut().unwrap().remove("effective_templates");
    doc["webhook"] = json!([{ "name": "workorders", "url": hook, "secret": secret, "events": ["created"] }]);
    let r = api(&app, "PUT", "/api/v1/config/workflow", Some("ada"), Some(doc)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.contains(secret) && r.body.contains("(set)"), "{}", r.body);
    // Never shown again: not to anyone through the API, the page or the audit log.
    for who in ["ada", "pat"] {
        let r = api(&app, "GET", "/api/v1/config/workflow", Some(who), None).await;
        assert!(!r.body.contains(secret) && r.body.contains("(set)"), "{}", r.body);
    }
    set_password(&app, "ada", PASSWORD).await;
    let mut ada = Browser::default();
    assert_eq!(ada.sign_in(&app, "ada", PASSWORD, "/staff").await.status, 303);
    for page in ["/staff/admin/workflow", "/staff/admin/audit"] {
        let r = ada.get(&app, page).await;
        assert_eq!(r.status, 200);
        assert!(!r.body.contains(secret), "{page} shows the secret");
    }
    // Sending the document back as shown keeps the secret; a new webhook needs its own.
    let mut shown = api(&app, "GET", "/api/v1/config/workflow", Some("ada"), None).await.json();
    shown.as_object_mut().unwrap().remove("effective_templates");
    assert_eq!(api(&app, "PUT", "/api/v1/config/workflow", Some("ada"), Some(shown.clone())).await.status, 200);
    let stored = app.store.workflow_config().await.unwrap().unwrap();
    assert_eq!(stored.webhooks[0].secret, secret);
    shown["webhook"][0]["name"] = json!("renamed");
    let r = api(&app, "PUT", "/api/v1/config/workflow", Some("ada"), Some(shown)).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("needs a secret"), "{}", r.body);

    // A failed delivery keeps its status, never what the receiver answered.
    let id = file_pothole(&app).await;
    let model = app.state.city().workflow.clone();
    let dispatcher = civic311_jobs::Dispatcher::new(
        civic311_app::Notifiers::new(None, None),
        Some("https://311.testville.example".into()),
    );
    dispatcher.run(&app.store, &model, app.now(), 100).await.unwrap();
    assert_eq!(received.load(std::sync::atomic::Ordering::SeqCst), 1);
    let outbox = api(&app, "GET", "/api/v1/outbox?channel=webhook", Some("ada"), None).await;
    assert_eq!(outbox.json()["messages"][0]["last_error"], "HTTP 500 Internal Server Error", "{}", outbox.body);
    assert!(!outbox.body.contains("hunter2"), "{}", outbox.body);

    // The outbox is for supervisors and administrators only.
    for who in ["pat", "ali"] {
        let r = api(&app, "GET", "/api/v1/outbox", Some(who), None).await;
        assert_eq!(r.status, 403, "{who}: {}", r.body);
        let r = api(&app, "GET", &format!("/api/v1/requests/{id}"), Some(who), None).await;
        assert!(r.json().get("notifications").is_none(), "{who}: {}", r.body);
    }
    assert_eq!(api(&app, "GET", "/api/v1/outbox", Some("sam"), None).await.status, 200);

    // Resolved: the resident's rating link works in the message, but the log withholds it.
    let r = api(
        &app,
        "POST",
        &format!("/api/v1/requests/{id}/actions"),
        Some("ada"),
        Some(json!({ "action": "resolve", "note": "Filled" })),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    dispatcher.run(&app.store, &model, app.now(), 100).await.unwrap();
    let seq: i64 = id.split_once('-').unwrap().1.parse().unwrap();
    let token = app.store.request(seq).await.unwrap().unwrap().token;
    let outbox = api(&app, "GET", "/api/v1/outbox?channel=email", Some("ada"), None).await;
    assert!(outbox.body.contains("/rate/[link withheld]"), "{}", outbox.body);
    assert!(!outbox.body.contains(&token), "{}", outbox.body);
    let detail = api(&app, "GET", &format!("/api/v1/requests/{id}"), Some("ada"), None).await;
    assert!(!detail.body.contains(&token), "{}", detail.body);
}

async fn staff_forms_say_what_residents_see_and_keep_internal_notes_internal(backend: Backend) {
    let app = setup(backend).await;
    set_password(&app, "pat", PASSWORD).await;
    let id = file_pothole(&app).await;
    let mut pat = Browser::default();
    assert_eq!(pat.sign_in(&app, "pat", PASSWORD, "/staff").await.status, 303);
    let page = pat.get(&app, &format!("/staff/requests/{id}")).await;
    assert_eq!(page.status, 200);
    // Every form whose text residents see says so beside the field, with a separate
    // internal note; the request is new, so acknowledge, start, hold and close show.
    for field in ["status-note", "hold-reason", "close-note"] {
        let hint = format!("id=\"{field}-hint\">Public: the resident and followers are told");
        assert!(page.body.contains(&hint), "{field}: {}", page.body);
        assert!(page.body.contains(&format!("aria-describedby=\"{field}-hint\"")), "{field}");
    }
    for action in ["status", "hold", "close"] {
        assert!(page.body.contains(&format!("id=\"{action}-internal\" name=\"internal_note\"")), "{action}");
    }
    let csrf = hidden(&page.body, "csrf");
    let r = pat
        .post(
            &app,
            &format!("/staff/requests/{id}/act"),
            &[
                ("csrf", &csrf),
                ("action", "hold"),
                ("reason", "Waiting for the gas company"),
                ("internal_note", "Caller was rude; gas co. ticket 4471"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    // The reason is public, the internal note is not, and both are in the history.
    let public = app.get(&format!("/requests/{id}")).await;
    assert!(public.body.contains("Waiting for the gas company"), "{}", public.body);
    assert!(!public.body.contains("4471"));
    let open311 = app.get(&format!("/open311/v2/requests/{id}.json?extensions=true")).await;
    assert!(!open311.body.contains("4471"), "{}", open311.body);
    let detail = api(&app, "GET", &format!("/api/v1/requests/{id}"), Some("pat"), None).await.json();
    let notes: Vec<_> = detail["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "note").collect();
    assert_eq!(notes.len(), 1, "{detail}");
    assert_eq!(notes[0]["data"]["public"], false);
    assert_eq!(notes[0]["data"]["text"], "Caller was rude; gas co. ticket 4471");
    // The staff API takes the same internal note, beside public text only.
    let r = api(
        &app,
        "POST",
        &format!("/api/v1/requests/{id}/actions"),
        Some("pat"),
        Some(json!({ "action": "resume", "note": "Gas company done", "internal_note": "ticket closed" })),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = api(
        &app,
        "POST",
        &format!("/api/v1/requests/{id}/actions"),
        Some("pat"),
        Some(json!({ "action": "assign", "assignee": "pat", "internal_note": "mine" })),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
}

async fn nothing_is_sent_to_a_follower_before_it_consents(backend: Backend) {
    let mail = civic311_testkit::smtp::SmtpServer::start();
    let app = setup_with(backend, mailing(&mail, Some("https://311.testville.example"))).await;
    let id = file_pothole(&app).await;
    let other = file_pothole(&app).await;
    let model = app.state.city().workflow.clone();
    let dispatcher = civic311_jobs::Dispatcher::new(
        civic311_app::Notifiers::new(Some(smtp(&mail)), None),
        app.state.public_url.clone(),
    )
    .with_link_key(app.state.link_key.as_str());
    let to_victim = || {
        mail.received().into_iter().filter(|m| m.to.to_lowercase().contains("victim@example.test")).collect::<Vec<_>>()
    };
    let note = |text: &str| json!({ "action": "note", "text": text, "public": true });
    let path = format!("/api/v1/requests/{id}/actions");

    // Someone signs a stranger up: the stranger gets one message per request, asking
    // to confirm, however often it is asked for; at most three requests an hour.
    for _ in 0..3 {
        let r = app.post_form(&format!("/requests/{id}/follow"), &[("email", "victim@example.test")]).await;
        assert_eq!(r.status, 303, "the same answer whether or not anything is sent: {}", r.body);
    }
    assert_eq!(to_victim().len(), 1, "one confirmation, however often it is asked for");
    let mut more = vec![other.clone()];
    for _ in 0..3 {
        more.push(file_pothole(&app).await);
    }
    for n in &more {
        let r = app.post_form(&format!("/requests/{n}/follow"), &[("email", "VICTIM@example.test")]).await;
        assert_eq!(r.status, 303);
    }
    assert_eq!(to_victim().len(), 3, "at most three requests an hour");
    let confirmation = to_victim()[0].body.clone();
    assert!(confirmation.contains("If it was not you, ignore this message"), "{confirmation}");
    api(&app, "POST", &path, Some("pat"), Some(note("Crew booked for Monday"))).await;
    dispatcher.run(&app.store, &model, app.now(), 100).await.unwrap();
    assert_eq!(to_victim().len(), 3, "no update before consent: {:?}", to_victim());

    // Confirmed from the link: updates arrive, each with a signed link to stop.
    let link = confirmation.split_whitespace().find(|w| w.contains("/confirm/")).unwrap();
    let confirm = link.strip_prefix("https://311.testville.example").unwrap();
    assert_eq!(app.get(confirm).await.status, 200);
    assert_eq!(app.post_form(confirm, &[]).await.status, 303);
    api(&app, "POST", &path, Some("pat"), Some(note("Filled today"))).await;
    dispatcher.run(&app.store, &model, app.now(), 100).await.unwrap();
    let update = to_victim().into_iter().find(|m| m.body.contains("Filled today")).expect("the update");
    let stop = update.body.split_whitespace().find(|w| w.contains("/unfollow/")).expect("a link to stop").to_owned();
    let outbox = api(&app, "GET", "/api/v1/outbox?channel=email", Some("ada"), None).await;
    let sig = stop.rsplit('/').next().unwrap().split('?').next().unwrap();
    assert!(!outbox.body.contains(sig) && outbox.body.contains("/unfollow/[link withheld]"), "{}", outbox.body);

    // Nobody stops another's updates by typing their address, or with a made-up link.
    assert_eq!(
        app.post_form(&format!("/requests/{id}/unfollow"), &[("address", "victim@example.test")]).await.status,
        404
    );
    let forged = format!("/requests/{id}/unfollow/{}", "a".repeat(32));
    assert_eq!(app.post_form(&forged, &[]).await.status, 404);
    assert_eq!(app.store.followers(id.split_once('-').unwrap().1.parse().unwrap()).await.unwrap().len(), 1);
    // The link from the message does.
    let stop = stop.strip_prefix("https://311.testville.example").unwrap();
    assert_eq!(app.post_form(stop, &[]).await.status, 303);
    assert!(app.store.followers(id.split_once('-').unwrap().1.parse().unwrap()).await.unwrap().is_empty());

    // Addresses are checked as intake checks them.
    for (k, v) in [("email", "victim@"), ("email", "victim@example"), ("phone", "12")] {
        let r = app.post_form(&format!("/requests/{id}/follow"), &[(k, v)]).await;
        assert_eq!(r.status, 400, "{k}={v}: {}", r.body);
        let r =
            app.post_form(&format!("/open311/v2/requests/{id}/followers.json"), &[("api_key", API_KEY), (k, v)]).await;
        assert_eq!(r.status, 400, "{k}={v}: {}", r.body);
    }
    for (k, v) in [("email", "victim@example"), ("phone", "call me")] {
        let r = post_pothole(&app, IN_W1, "Hole", &[("attribute[SIZE]", "small"), (k, v)]).await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(r.body.contains(k), "{}", r.body);
    }

    // Staff may stop an address's updates from the request page; an analyst may not.
    let r = app.post_form(&format!("/requests/{other}/follow"), &[("phone", "+15550123")]).await;
    assert_eq!(r.status, 303);
    common::confirm_follow(&app, &other, "+15550123").await;
    for (who, status) in [("ali", 403), ("pat", 303)] {
        set_password(&app, who, PASSWORD).await;
        let mut b = Browser::default();
        assert_eq!(b.sign_in(&app, who, PASSWORD, "/staff").await.status, 303);
        let page = b.get(&app, &format!("/staff/requests/{other}")).await;
        let csrf = hidden(&page.body, "csrf");
        let r = b
            .post(&app, &format!("/staff/requests/{other}/unfollow"), &[("csrf", &csrf), ("address", "+15550123")])
            .await;
        assert_eq!(r.status, status, "{who}: {}", r.body);
    }
    assert!(app.store.followers(other.split_once('-').unwrap().1.parse().unwrap()).await.unwrap().is_empty());
}

async fn text_no_document_can_carry_is_refused(backend: Backend) {
    let app = setup(backend).await;
    // U+0001, U+FFFF and an escape sequence, percent-encoded as an app would send them.
    for (field, raw) in [("description", "bad%01text"), ("description", "x%EF%BF%BF"), ("address_string", "%1B%5B2J")] {
        let body = format!(
            "api_key={API_KEY}&service_code=POTHOLE&attribute%5BSIZE%5D=small&lat={}&long={}&{field}={raw}",
            IN_W1.0, IN_W1.1
        );
        for format in ["json", "xml"] {
            let req = axum::http::Request::post(format!("/open311/v2/requests.{format}"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(axum::body::Body::from(body.clone()))
                .unwrap();
            let r = app.call(req).await;
            assert_eq!(r.status, 400, "{field}={raw}: {}", r.body);
            assert!(r.body.contains(field) && r.body.contains("contains the character U+"), "{}", r.body);
        }
    }
    assert_eq!(app.store.count_requests().await.unwrap(), 0, "nothing was stored");
    // Staff text too: a note with a bell in it changes nothing.
    let id = file_pothole(&app).await;
    let r = api(
        &app,
        "POST",
        &format!("/api/v1/requests/{id}/actions"),
        Some("pat"),
        Some(json!({ "action": "note", "text": "zzding\u{7}", "public": true })),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("U+0007"), "{}", r.body);
    let xml = app.get(&format!("/open311/v2/requests/{id}.xml?extensions=true")).await;
    assert_eq!(xml.status, 200);
    assert!(!xml.body.contains("zzding"));
}

async fn configuration_writes_are_exact(backend: Backend) {
    let app = setup(backend).await;
    let rules = || async { app.store.rules().await.unwrap().rules.len() };
    let had = rules().await;
    assert!(had > 0);
    // A misspelt or missing top-level key used to mean "no rules at all".
    let put = |uri: &'static str, body: serde_json::Value| api(&app, "PUT", uri, Some("ada"), Some(body));
    let r = put("/api/v1/config/rules", json!({ "rules": [] })).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("unknown field `rules`"), "{}", r.body);
    let r = put("/api/v1/config/rules", json!({})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("top-level `rule` list"), "{}", r.body);
    let mut exported = api(&app, "GET", "/api/v1/config/rules", Some("ada"), None).await.json();
    exported["rule"][0]["whn"] = json!({});
    let r = put("/api/v1/config/rules", exported).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("whn"), "{}", r.body);
    // Emptying a list the city had takes an explicit confirmation.
    let r = put("/api/v1/config/rules", json!({ "rule": [] })).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains(&format!("delete all {had} routing rules")) && r.body.contains("confirm=delete_all"));
    assert_eq!(rules().await, had, "nothing changed");
    let r = put("/api/v1/config/workflow", json!({ "calendars": [] })).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("unknown field `calendars`"), "{}", r.body);
    let r = put("/api/v1/config/workflow", json!({})).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("delete all 1 calendars"), "{}", r.body);
    assert!(app.store.workflow_config().await.unwrap().unwrap().calendars.len() == 1, "nothing changed");
    let r =
        put("/api/v1/config/departments/PW", json!({ "name": "Public Works", "emial": "pw@testville.example" })).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("unknown field `emial`"), "{}", r.body);
    // The same through the administration page's editor.
    set_password(&app, "ada", PASSWORD).await;
    let mut ada = Browser::default();
    assert_eq!(ada.sign_in(&app, "ada", PASSWORD, "/staff").await.status, 303);
    let page = ada.get(&app, "/staff/admin/rules").await;
    let csrf = hidden(&page.body, "csrf");
    let r = ada.post(&app, "/staff/admin/rules", &[("csrf", &csrf), ("rules", "[[rules]]\nname = \"x\"\n")]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("unknown field"), "{}", r.body);
    let r = ada.post(&app, "/staff/admin/rules", &[("csrf", &csrf), ("rules", "")]).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(rules().await, had, "nothing changed");
    // Confirmed, it is done.
    let r = ada.post(&app, "/staff/admin/rules", &[("csrf", &csrf), ("rules", ""), ("confirm", "delete_all")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(rules().await, 0);
    let r = put("/api/v1/config/workflow?confirm=delete_all", json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// A call to the staff API with a raw bearer token.
async fn with_token(app: &civic311_testkit::TestApp, token: &str) -> u16 {
    let req = axum::http::Request::get("/api/v1/requests")
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    app.call(req).await.status.as_u16()
}

async fn staff_api_tokens_are_listed_revoked_and_expire(backend: Backend) {
    let app = setup(backend).await;
    let tokens = "/api/v1/config/users/pat/tokens";
    let issue =
        |days: i64| api(&app, "POST", tokens, Some("ada"), Some(json!({ "label": "laptop", "expires_in_days": days })));
    let r = issue(1).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let short = r.json()["token"].as_str().unwrap().to_owned();
    let r = issue(30).await;
    let long = r.json()["token"].as_str().unwrap().to_owned();
    let long_id = r.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(issue(0).await.status, 400, "an expiry is a number of days from 1");
    assert_eq!(with_token(&app, &short).await, 200);

    // Listed without the tokens themselves; only administrators list or revoke.
    let listed = api(&app, "GET", tokens, Some("ada"), None).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.json()["tokens"].as_array().unwrap().len(), 3, "{}", listed.body);
    assert!(!listed.body.contains(&short) && !listed.body.contains(&long));
    assert!(listed.body.contains(&long_id) && listed.body.contains("expires_at"));
    assert_eq!(api(&app, "GET", tokens, Some("pat"), None).await.status, 403);
    let revoke = format!("{tokens}/{long_id}");
    assert_eq!(api(&app, "DELETE", &revoke, Some("sam"), None).await.status, 403);
    assert_eq!(with_token(&app, &long).await, 200);
    assert_eq!(api(&app, "DELETE", &revoke, Some("ada"), None).await.status, 200);
    assert_eq!(with_token(&app, &long).await, 401, "revoked at once");
    assert_eq!(api(&app, "DELETE", &revoke, Some("ada"), None).await.status, 404);

    // A day later the short one has expired.
    app.set_now("2026-03-04T15:00:01-06:00");
    assert_eq!(with_token(&app, &short).await, 401);
    assert_eq!(with_token(&app, "pat-token").await, 200, "a token without an expiry still works");

    // A new password revokes every token of its holder.
    let r =
        api(&app, "PUT", "/api/v1/config/users/pat/password", Some("ada"), Some(json!({ "password": PASSWORD }))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(with_token(&app, "pat-token").await, 401);

    // Deactivating revokes; making the user active again does not bring a token back.
    let sam = api(&app, "GET", "/api/v1/config/users", Some("ada"), None).await.json()["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "sam")
        .unwrap()
        .clone();
    assert_eq!(with_token(&app, "sam-token").await, 200);
    for active in [false, true] {
        let mut u = sam.clone();
        u["active"] = json!(active);
        let r = api(&app, "PUT", "/api/v1/config/users/sam", Some("ada"), Some(u)).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    assert_eq!(with_token(&app, "sam-token").await, 401);
}

async fn an_analyst_cannot_file_or_follow_through_the_intake_screen(backend: Backend) {
    let app = setup(backend).await;
    let id = file_pothole(&app).await;
    let before = app.store.count_requests().await.unwrap();
    let seq: i64 = id.split_once('-').unwrap().1.parse().unwrap();
    let (lat, long) = (IN_W1.0.to_string(), IN_W1.1.to_string());
    for (who, allowed) in [("ali", false), ("pat", true)] {
        set_password(&app, who, PASSWORD).await;
        let mut b = Browser::default();
        assert_eq!(b.sign_in(&app, who, PASSWORD, "/staff").await.status, 303);
        let queue = b.get(&app, "/staff").await;
        assert_eq!(queue.body.contains("href=\"/staff/intake\""), allowed, "{who}'s navigation");
        let form = b.get(&app, "/staff/intake?service_code=POTHOLE").await;
        assert_eq!(form.status.as_u16(), if allowed { 200 } else { 403 }, "{who}: {}", form.body);
        let csrf = hidden(&queue.body, "csrf");
        let filed = b
            .post(
                &app,
                "/staff/intake",
                &[
                    ("csrf", &csrf),
                    ("service_code", "POTHOLE"),
                    ("attribute[SIZE]", "small"),
                    ("lat", &lat),
                    ("long", &long),
                    ("description", "Caller reports a hole"),
                ],
            )
            .await;
        let follow = b
            .post(&app, &format!("/staff/intake/follow/{id}"), &[("csrf", &csrf), ("email", "caller@example.test")])
            .await;
        if allowed {
            assert_eq!((filed.status.as_u16(), follow.status.as_u16()), (303, 303), "{}{}", filed.body, follow.body);
        } else {
            assert_eq!((filed.status.as_u16(), follow.status.as_u16()), (403, 403));
            assert_eq!(app.store.count_requests().await.unwrap(), before, "nothing was filed");
            assert!(app.store.followers(seq).await.unwrap().is_empty(), "nobody was made to follow");
        }
    }
}

async fn notices_on_staff_pages_never_repeat_the_address(backend: Backend) {
    let app = setup(backend).await;
    let id = file_pothole(&app).await;
    let lure = "Your%20account%20is%20locked%3A%20call%20555-0199";
    let shown = "Your account is locked";
    for who in ["ada", "sam"] {
        set_password(&app, who, PASSWORD).await;
    }
    let mut ada = Browser::default();
    assert_eq!(ada.sign_in(&app, "ada", PASSWORD, "/staff").await.status, 303);
    for page in [
        "/staff/admin",
        "/staff/admin/departments",
        "/staff/admin/services",
        "/staff/admin/rules",
        "/staff/admin/workflow",
        "/staff/admin/keys",
        "/staff/admin/boundaries",
        "/staff/admin/layers",
        "/staff/admin/articles",
        "/staff/admin/deliveries",
    ] {
        let r = ada.get(&app, &format!("{page}?done={lure}")).await;
        assert_eq!(r.status, 200, "{page}");
        assert!(!r.body.contains(shown), "{page} repeats the address");
    }
    let r = ada.get(&app, &format!("/staff/requests/{id}?done={lure}")).await;
    assert!(!r.body.contains(shown));
    // A code of ours says what it was made to say.
    let r = ada.get(&app, "/staff/admin/keys?done=key_issued").await;
    assert!(r.body.contains("Key issued; it is listed below."), "{}", r.body);
    let r = ada.get(&app, &format!("/staff/requests/{id}?done=resolve")).await;
    assert!(r.body.contains("Resolved;"));
    let mut sam = Browser::default();
    assert_eq!(sam.sign_in(&app, "sam", PASSWORD, "/staff").await.status, 303);
    let r = sam.get(&app, &format!("/staff/supervisor?assigned=2&refused={lure}")).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("2 request(s) reassigned.") && !r.body.contains(shown), "{}", r.body);
}

async fn every_response_carries_the_security_headers(backend: Backend) {
    let app = setup(backend).await;
    for path in ["/", "/report/POTHOLE", "/staff/sign-in", "/open311/v2/services.json", "/api/v1/openapi.json", "/nope"]
    {
        let r = app.get(path).await;
        let h = |name: &str| r.headers.get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        let csp = h("content-security-policy");
        assert!(csp.contains("script-src 'self'") && csp.contains("style-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe"), "{path}: {csp}");
        assert_eq!(h("x-frame-options"), "DENY", "{path}");
        assert_eq!(h("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(h("referrer-policy"), "same-origin", "{path}");
        assert_eq!(h("strict-transport-security"), "", "{path}: not over plain HTTP");
    }
    // A page that must send no referrer at all keeps its own policy.
    let id = file_pothole(&app).await;
    app.post_form(&format!("/requests/{id}/follow"), &[("email", "n@example.test")]).await;
    common::confirm_follow(&app, &id, "n@example.test").await;
    let seq = id.split_once('-').unwrap().1.parse().unwrap();
    let sig = civic311_domain::notify::link_signature(
        &app.state.link_key,
        civic311_domain::notify::LinkPurpose::Unfollow,
        seq,
        "n@example.test",
    );
    let r = app.get(&format!("/requests/{id}/unfollow/{sig}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers["referrer-policy"], "no-referrer");

    // Served over HTTPS: HSTS, and every cookie is Secure.
    let app = setup_with(backend, |mut s| {
        s.app.public_url = Some("https://311.testville.example".into());
        s
    })
    .await;
    let r = app.get("/?lang=es").await;
    assert_eq!(r.headers["strict-transport-security"], "max-age=31536000");
    let cookie = r.headers["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("lang=es") && cookie.ends_with("; Secure"), "{cookie}");
    let r = app.get("/staff/sign-in").await;
    let cookies: Vec<_> = r.headers.get_all("set-cookie").iter().map(|c| c.to_str().unwrap().to_owned()).collect();
    assert!(!cookies.is_empty() && cookies.iter().all(|c| c.matches("Secure").count() == 1), "{cookies:?}");
}

/// A POST of `body` as `content_type`.
fn raw_post(uri: &str, content_type: &str, body: impl Into<axum::body::Body>) -> axum::http::Request<axum::body::Body> {
    axum::http::Request::post(uri).header("content-type", content_type).body(body.into()).unwrap()
}

async fn bad_input_is_refused_in_the_interfaces_own_format(backend: Backend) {
    let app = setup(backend).await;
    let id = file_pothole(&app).await;
    let form = "application/x-www-form-urlencoded";
    let before = app.store.count_requests().await.unwrap();

    // Text that is not UTF-8 is refused, never stored with replacement characters.
    let r = app.call(raw_post("/my", form, "email=caf%E9%40example.test")).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("<html") && r.body.contains("The form could not be read. Please go back"), "{}", r.body);
    let r = app.call(raw_post("/my?lang=es", form, "email=caf%E9%40example.test")).await;
    assert!(r.body.contains("No se pudo leer el formulario"), "in the resident's language: {}", r.body);
    let r = app.call(raw_post("/staff/sign-in", form, "username=p%FFt&password=x&csrf=c")).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("311 staff") && r.body.contains("not valid UTF-8"), "{}", r.body);
    let body = format!(
        "api_key={API_KEY}&service_code=POTHOLE&attribute%5BSIZE%5D=small&lat=41.01&long=-88.01&description=caf%E9"
    );
    let r = app.call(raw_post("/open311/v2/requests.xml", form, body)).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("<errors>") && r.body.contains("description: the text is not valid UTF-8"), "{}", r.body);
    let mut multipart =
        b"--b\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\ncaf\xe9\r\n--b--\r\n".to_vec();
    let r = app.call(raw_post("/report/POTHOLE", "multipart/form-data; boundary=b", multipart.clone())).await;
    assert_eq!(r.status, 400, "{}", r.body);
    multipart
        .splice(0..0, format!("--b\r\nContent-Disposition: form-data; name=\"api_key\"\r\n\r\n{API_KEY}\r\n").bytes());
    let r = app.call(raw_post("/open311/v2/requests.json", "multipart/form-data; boundary=b", multipart)).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("not valid UTF-8"), "{}", r.body);

    // A body that is not a form gets the page's own error, not a bare line of text.
    let r = app.call(raw_post("/my", "application/json", r#"{"email":"a@b.test"}"#)).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("<html") && r.body.contains("Something went wrong"), "{}", r.body);
    let r = app.call(raw_post("/staff/sign-in", "text/plain", "username=pat")).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("<html") && r.body.contains("expected a form"), "{}", r.body);
    let r = app.call(raw_post(&format!("/open311/v2/requests/{id}/followers.xml"), "application/json", "{}")).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("<errors>"), "{}", r.body);
    let r = app.call(raw_post("/report/POTHOLE", form, "description=hole")).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("<html") && r.body.contains("The form could not be read"), "{}", r.body);

    // Too large is 413, said as too large.
    let big = format!("email={}", "a".repeat(2 * 1024 * 1024));
    let r = app.call(raw_post("/my", form, big)).await;
    assert_eq!(r.status, 413, "{}", &r.body[..r.body.len().min(500)]);
    assert!(r.body.contains("too large to be read"), "the page says why");
    let huge = format!("api_key={API_KEY}&description={}", "a".repeat(33 * 1024 * 1024));
    let r = app.call(raw_post("/open311/v2/requests.json", form, huge)).await;
    assert_eq!(r.status, 413, "{}", &r.body[..r.body.len().min(500)]);
    assert!(r.body.contains("larger than 32 MB"), "{}", r.body);
    let mut photo = photos::jpeg(8, 8);
    photo.resize(11 * 1024 * 1024, 0);
    let mut fields = report_fields();
    fields.push(("api_key", API_KEY.into()));
    let r = app
        .post_multipart("/open311/v2/requests.json", &borrowed(&fields), &[("media", "big.jpg", "image/jpeg", &photo)])
        .await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.body.contains("at most 10 MB"), "{}", r.body);
    assert_eq!(app.store.count_requests().await.unwrap(), before, "nothing was stored");

    // A number is matched whole: another year's request 1 is not this one.
    let other = format!("2025-{}", id.split_once('-').unwrap().1);
    assert_eq!(app.get(&format!("/open311/v2/requests/{other}.json")).await.status, 404);
    let listed = app.get(&format!("/open311/v2/requests.json?service_request_id={other}")).await;
    assert_eq!(listed.json(), json!([]), "{}", listed.body);
    assert_eq!(app.get(&format!("/requests/{other}")).await.status, 404);
    assert_eq!(api(&app, "GET", &format!("/api/v1/requests/{other}"), Some("pat"), None).await.status, 404);
    let r = api(
        &app,
        "POST",
        &format!("/api/v1/requests/{other}/actions"),
        Some("pat"),
        Some(json!({ "action": "start" })),
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.body);
    set_password(&app, "pat", PASSWORD).await;
    let mut pat = Browser::default();
    assert_eq!(pat.sign_in(&app, "pat", PASSWORD, "/staff").await.status, 303);
    assert_eq!(pat.get(&app, &format!("/staff/requests/{other}")).await.status, 404);
    let detail = api(&app, "GET", &format!("/api/v1/requests/{id}"), Some("pat"), None).await.json();
    assert_eq!(detail["status"], "open", "nothing was started");
}
