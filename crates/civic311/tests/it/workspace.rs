//! The staff workspace over HTTP: signing in with a password set by an administrator,
//! the session cookie, CSRF on every form, throttled guessing, signing out, and the
//! queues a member of staff works from.

#![allow(clippy::unwrap_used)]

use civic311_store::{Delivery, OutboxQuery};
use civic311_testkit::app::{TestResponse, multipart};
use civic311_testkit::fixture::{API_KEY, IN_W1};
use civic311_testkit::{Backend, TestApp, both_backends};
use common::{
    Browser, PASSWORD, act, api, file_pothole, hidden, post_pothole, set_password, setup, setup_with, unescape,
};
use serde_json::json;

use crate::common;

both_backends!(
    staff_sign_in_work_their_queue_and_sign_out,
    guessing_passwords_is_throttled_and_forms_need_their_csrf_value,
    the_request_page_acts_only_with_csrf_and_within_the_department,
    a_supervisor_sees_the_workload_and_reassigns_in_bulk,
    a_forgotten_password_is_reset_by_a_mailed_link_that_works_once,
    an_administrator_manages_staff_tries_the_rules_and_reads_the_audit_log,
    an_administrator_keeps_departments_services_boundaries_and_keys,
    the_delivery_log_shows_dead_letters_and_sends_them_again,
    pages_load_their_styles_and_scripts_from_the_binary_cached_for_a_year,
    escalated_work_is_marked_in_the_queue_and_the_supervisor_view,
    an_administrator_keeps_the_knowledge_base_and_call_takers_see_it,
    each_role_lands_where_it_works,
    queues_filter_by_due_owner_team_and_escalation_and_starting_work_takes_it
);

async fn queues_filter_by_due_owner_team_and_escalation_and_starting_work_takes_it(backend: Backend) {
    let app = setup(backend).await;
    set_password(&app, "pat", PASSWORD).await;
    let mine = file_pothole(&app).await;
    act(&app, &mine, "ada", json!({ "action": "assign", "assignee": "pat" })).await;
    let loose = file_pothole(&app).await;
    let flagged = file_pothole(&app).await;
    let seq = |id: &str| id.split_once('-').unwrap().1.parse::<i64>().unwrap();
    let mut r = app.store.request(seq(&flagged)).await.unwrap().unwrap();
    r.workflow.escalated = true;
    app.store.commit(vec![civic311_store::RequestUpdate::new(r)]).await.unwrap();

    let mut browser = Browser::default();
    browser.sign_in(&app, "pat", PASSWORD, "/staff").await;
    let shows = |body: &str, ids: &[&String]| {
        [&mine, &loose, &flagged].map(|id| body.contains(id.as_str()))
            == [&mine, &loose, &flagged].map(|id| ids.contains(&id))
    };
    let page = browser.get(&app, "/staff?view=department&owner=unassigned").await;
    assert!(shows(&page.body, &[&loose, &flagged]), "{}", page.body);
    let page = browser.get(&app, "/staff?view=department&owner=me").await;
    assert!(shows(&page.body, &[&mine]));
    let page = browser.get(&app, "/staff?view=department&escalated=on").await;
    assert!(shows(&page.body, &[&flagged]));
    let page = browser.get(&app, "/staff?view=department&team=PW-NORTH").await;
    assert!(shows(&page.body, &[&mine]), "assigning pat put it on pat's team");
    // Filed at 09:00 with an 8-business-hour SLA: due the next working day, not today.
    let page = browser.get(&app, "/staff?view=department&due=today").await;
    assert!(shows(&page.body, &[]), "{}", page.body);
    app.set_now("2026-03-20T09:00:00-05:00");
    browser.sign_in(&app, "pat", PASSWORD, "/staff").await;
    let page = browser.get(&app, "/staff?view=department&due=overdue").await;
    assert!(shows(&page.body, &[&mine, &loose, &flagged]), "{}", page.body);

    // Starting unassigned work puts it on "My work".
    act(&app, &loose, "pat", json!({ "action": "start" })).await;
    let page = browser.get(&app, "/staff").await;
    assert!(shows(&page.body, &[&mine, &loose]), "{}", page.body);
}

async fn each_role_lands_where_it_works(backend: Backend) {
    use civic311_domain::org::{Role, StaffUser};
    let app = setup(backend).await;
    let user = |name: &str, role, team: Option<&str>| StaffUser {
        username: name.into(),
        display_name: name.into(),
        email: format!("{name}@testville.example"),
        department: "PW".into(),
        team: team.map(Into::into),
        role,
        also_departments: vec![],
        active: true,
        digest: Default::default(),
    };
    app.store.put_user(&user("ian", Role::Intake, None)).await.unwrap();
    app.store.put_user(&user("fay", Role::Field, Some("PW-NORTH"))).await.unwrap();
    let landings = [
        ("ian", "/staff/intake"),
        ("fay", "/staff?view=team"),
        ("sam", "/staff/supervisor"),
        ("ali", "/staff?view=department"),
        ("pat", "/staff"),
        ("ada", "/staff"),
    ];
    for (i, (name, landing)) in landings.into_iter().enumerate() {
        set_password(&app, name, PASSWORD).await;
        // Each from their own desk, as sign-ins are throttled per address.
        let mut browser = Browser::at(&format!("10.0.1.{i}"));
        let r = browser.sign_in(&app, name, PASSWORD, "/staff").await;
        assert_eq!(r.status, 303, "{name}: {}", r.body);
        assert_eq!(r.headers["location"], landing, "{name}");
        assert_eq!(browser.get(&app, landing).await.status, 200, "{name} may use their landing page");
        // A page asked for before signing in is still where they go.
        let r = Browser::at(&format!("10.0.2.{i}")).sign_in(&app, name, PASSWORD, "/staff/search?q=x").await;
        assert_eq!(r.headers["location"], "/staff/search?q=x", "{name}");
    }
}

async fn staff_sign_in_work_their_queue_and_sign_out(backend: Backend) {
    let app = setup(backend).await;
    let r = set_password(&app, "pat", "short").await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(set_password(&app, "pat", PASSWORD).await.status, 200);
    let mine = file_pothole(&app).await;
    act(&app, &mine, "ada", json!({ "action": "assign", "assignee": "pat" })).await;
    let theirs = file_pothole(&app).await;

    let mut browser = Browser::default();
    let r = browser.get(&app, "/staff?view=department").await;
    assert_eq!(r.status, 303, "signed out, the workspace sends you to sign in");
    assert_eq!(r.headers["location"], "/staff/sign-in?next=%2Fstaff%3Fview%3Ddepartment");

    let r = browser.sign_in(&app, "pat", PASSWORD, "/staff?view=department").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.headers["location"], "/staff?view=department", "back where they were going");
    let cookie = r.headers.get_all("set-cookie").iter().find(|c| c.to_str().unwrap().starts_with("civic311_session="));
    let cookie = cookie.unwrap().to_str().unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");

    let queue = browser.get(&app, "/staff").await;
    assert_eq!(queue.status, 200);
    assert!(queue.body.contains("My work"));
    assert!(queue.body.contains(&mine) && !queue.body.contains(&theirs), "my work is what is assigned to me");
    let dept = browser.get(&app, "/staff?view=department&sort=oldest").await;
    assert!(dept.body.contains(&mine) && dept.body.contains(&theirs), "the department sees both");
    assert!(dept.body.find(&mine).unwrap() < dept.body.find(&theirs).unwrap(), "oldest first");
    // Each tab counts its open requests; the list says how many match and are overdue.
    assert!(dept.body.contains("My work <span class=\"count\">1<"), "{}", dept.body);
    assert!(dept.body.contains("My department <span class=\"count\">2<"));
    assert!(dept.body.contains("2 request(s);"), "{}", dept.body);
    let urgent = browser.get(&app, "/staff?view=department&priority=urgent").await;
    assert!(urgent.body.contains("0 request(s) match") || urgent.body.contains("Nothing here with these filters"));
    // Narrowed to a ward and a category: both were filed in ward 1.
    let w1 = browser.get(&app, "/staff?view=department&area=wards:W1&service=POTHOLE").await;
    assert!(w1.body.contains(&mine) && w1.body.contains(&theirs));
    let w2 = browser.get(&app, "/staff?view=department&area=wards:W2").await;
    assert!(!w2.body.contains(&mine) && w2.body.contains("Nothing here with these filters"));
    // Sessions last a working day; the next morning, past its due time, the queue marks it.
    app.set_now("2026-03-20T09:00:00-05:00");
    assert_eq!(browser.get(&app, "/staff").await.status, 303, "the session has expired");
    assert_eq!(browser.sign_in(&app, "pat", PASSWORD, "/staff").await.status, 303);
    let late = browser.get(&app, "/staff").await;
    assert!(late.body.contains("Overdue"), "{}", late.body);

    // Signing out needs the session's CSRF value, and ends the session.
    let csrf = hidden(&late.body, "csrf");
    let r = browser.post(&app, "/staff/sign-out", &[("csrf", "forged")]).await;
    assert_eq!(r.status, 403);
    let r = browser.post(&app, "/staff/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303);
    assert_eq!(browser.get(&app, "/staff").await.status, 303, "signed out");

    // A member of staff who is deactivated is signed out at their next page.
    let mut other = Browser::default();
    assert_eq!(other.sign_in(&app, "pat", PASSWORD, "/staff").await.status, 303);
    let users = api(&app, "GET", "/api/v1/config/users", Some("ada"), None).await.json();
    let mut pat = users["users"].as_array().unwrap().iter().find(|u| u["username"] == "pat").cloned().unwrap();
    pat["active"] = json!(false);
    assert_eq!(api(&app, "PUT", "/api/v1/config/users/pat", Some("ada"), Some(pat)).await.status, 200);
    assert_eq!(other.get(&app, "/staff").await.status, 303);
}

async fn guessing_passwords_is_throttled_and_forms_need_their_csrf_value(backend: Backend) {
    let app = setup(backend).await;
    assert_eq!(set_password(&app, "pat", PASSWORD).await.status, 200);
    let mut browser = Browser::default();

    // A sign-in posted from elsewhere (no form cookie) is refused.
    let r =
        browser.post(&app, "/staff/sign-in", &[("username", "pat"), ("password", PASSWORD), ("csrf", "guess")]).await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("expired"));

    // Unknown names and wrong passwords get the same answer.
    let unknown = browser.sign_in(&app, "nobody", PASSWORD, "/staff").await;
    let wrong = browser.sign_in(&app, "pat", "not the password", "/staff").await;
    assert_eq!((unknown.status.as_u16(), wrong.status.as_u16()), (401, 401));
    assert!(unknown.body.contains("The username or password is not right."));
    assert!(wrong.body.contains("The username or password is not right."));
    assert!(wrong.body.contains("value=\"pat\""), "the username is kept");

    // Five wrong in a row, then even the right password waits.
    for _ in 0..4 {
        assert_eq!(browser.sign_in(&app, "pat", "still wrong!!", "/staff").await.status, 401);
    }
    let r = browser.sign_in(&app, "pat", PASSWORD, "/staff").await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("Too many failed sign-ins"));
    // An open redirect is not followed once the wait is over.
    let later = app.now().checked_add(jiff::SignedDuration::from_secs(31)).unwrap();
    app.set_now(&later.to_string());
    let r = browser.sign_in(&app, "pat", PASSWORD, "https://evil.example/").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.headers["location"], "/staff");
}

async fn the_request_page_acts_only_with_csrf_and_within_the_department(backend: Backend) {
    let app = setup(backend).await;
    for user in ["pat", "sam"] {
        assert_eq!(set_password(&app, user, PASSWORD).await.status, 200);
    }
    let id = file_pothole(&app).await;
    let seq: i64 = id.split('-').nth(1).unwrap().parse().unwrap();
    let events = || async { app.store.events(seq).await.unwrap().len() };
    let before = events().await;
    let mut pat = Browser::default();
    assert_eq!(pat.sign_in(&app, "pat", PASSWORD, "/staff").await.status, 303);
    let page = pat.get(&app, &format!("/staff/requests/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("res@example.test"), "staff see the requester");
    let csrf = hidden(&page.body, "csrf");
    let uri = format!("/staff/requests/{id}/act");

    // No CSRF value, a forged one, a blank required field: refused, nothing changed.
    let r = pat.post(&app, &uri, &[("action", "note"), ("text", "hi"), ("public", "false")]).await;
    assert_eq!(r.status, 403);
    let r = pat.post(&app, &uri, &[("action", "note"), ("text", "hi"), ("public", "false"), ("csrf", "x")]).await;
    assert_eq!(r.status, 403);
    let r = pat.post(&app, &uri, &[("action", "resolve"), ("note", " "), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("role=\"alert\""), "the refusal is shown on the page");
    let r = pat.post(&app, &uri, &[("action", "resume"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 409, "resume is not allowed while open");
    assert_eq!(events().await, before);

    // A public note goes through and is marked public.
    let r = pat
        .post(&app, &uri, &[("action", "note"), ("text", "Crew on the way"), ("public", "true"), ("csrf", &csrf)])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.headers["location"], format!("/staff/requests/{id}?done=note"));
    let page = pat.get(&app, &format!("/staff/requests/{id}?done=note")).await;
    assert!(page.body.contains("Note added.") && page.body.contains("Public note"));

    // A photo from the page, internal, then seen only through the staff route.
    let mut req = multipart(
        &format!("/staff/requests/{id}/photos"),
        &[("csrf", &csrf), ("public", "false")],
        &[("photo", "crack.png", "image/png", &civic311_testkit::photos::png(4, 4))],
    );
    req.headers_mut().insert("cookie", pat.header().parse().unwrap());
    let r = app.call(req).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let photo = app.store.photos(seq).await.unwrap()[0].id;
    assert_eq!(pat.get(&app, &format!("/staff/media/{photo}")).await.status, 200);
    assert_eq!(app.get(&format!("/media/{photo}")).await.status, 404, "internal");
    assert_eq!(Browser::default().get(&app, &format!("/staff/media/{photo}")).await.status, 303, "signed out");

    // Another department's supervisor reads it but cannot act on it.
    let mut sam = Browser::default();
    assert_eq!(sam.sign_in(&app, "sam", PASSWORD, "/staff").await.status, 303);
    let page = sam.get(&app, &format!("/staff/requests/{id}")).await;
    assert!(page.body.contains("you can read it but act only on Sanitation requests"), "{}", page.body);
    let csrf = hidden(&page.body, "csrf");
    let r =
        sam.post(&app, &uri, &[("action", "note"), ("text", "mine now"), ("public", "false"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 403);
    assert_eq!(sam.get(&app, "/staff/requests/2026-999999").await.status, 404);
}

async fn a_supervisor_sees_the_workload_and_reassigns_in_bulk(backend: Backend) {
    let app = setup(backend).await;
    let lee = json!({ "display_name": "Lee Bulk", "email": "lee@testville.example", "department": "SAN", "team": "SAN-BULK", "role": "field" });
    assert_eq!(api(&app, "PUT", "/api/v1/config/users/lee", Some("ada"), Some(lee)).await.status, 201);
    for user in ["pat", "sam"] {
        assert_eq!(set_password(&app, user, PASSWORD).await.status, 200);
    }
    let (lat, long) = (civic311_testkit::fixture::IN_W2.0.to_string(), civic311_testkit::fixture::IN_W2.1.to_string());
    let mut ids = Vec::new();
    for text in ["Old sofa", "Mattress"] {
        let fields = [
            ("api_key", civic311_testkit::fixture::API_KEY),
            ("service_code", "BULK"),
            ("lat", lat.as_str()),
            ("long", long.as_str()),
            ("description", text),
        ];
        let r = app.post_form("/open311/v2/requests.json", &fields).await;
        assert_eq!(r.status, 201, "{}", r.body);
        ids.push(r.json()[0]["service_request_id"].as_str().unwrap().to_owned());
    }
    let mut pat = Browser::default();
    assert_eq!(pat.sign_in(&app, "pat", PASSWORD, "/staff").await.status, 303);
    assert_eq!(pat.get(&app, "/staff/supervisor").await.status, 403, "staff are not supervisors");

    let mut sam = Browser::default();
    assert_eq!(sam.sign_in(&app, "sam", PASSWORD, "/staff").await.status, 303);
    let page = sam.get(&app, "/staff/supervisor").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Sanitation: workload"));
    // Each row's open count, as the link to its queue shows it.
    let open_of = |body: &str, row: &str| {
        let rest = body.split(row).nth(1).unwrap().split("<td data-label=\"Open\">").nth(1).unwrap();
        rest.split("\">").nth(1).unwrap().split('<').next().unwrap().to_owned()
    };
    assert_eq!(open_of(&page.body, "<td data-label=\"Team\">SAN-BULK</td>"), "2", "{}", page.body);
    assert_eq!(open_of(&page.body, "<td data-label=\"Person\">Unassigned</td>"), "2");
    let csrf = hidden(&page.body, "csrf");
    let r = sam
        .post(
            &app,
            "/staff/supervisor/assign",
            &[
                ("csrf", csrf.as_str()),
                ("department", "SAN"),
                ("id", ids[0].as_str()),
                ("id", ids[1].as_str()),
                ("assignee", "lee"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let page = sam.get(&app, r.headers["location"].to_str().unwrap()).await;
    assert!(page.body.contains("2 request(s) reassigned."), "{}", page.body);
    assert_eq!(open_of(&page.body, "<td data-label=\"Person\">Lee Bulk</td>"), "2");
    for id in &ids {
        let r = api(&app, "GET", &format!("/api/v1/requests/{id}"), Some("ada"), None).await.json();
        assert_eq!(r["assignee"], "lee");
    }
    // A filtered list keeps its filters through a reassignment, refused or done.
    let page = sam.get(&app, "/staff/supervisor?department=SAN&priority=normal").await;
    let filters = unescape(&hidden(&page.body, "filters"));
    assert!(filters.contains("priority=normal"), "{filters}");
    let post = |assignee: &str| -> Vec<(&'static str, String)> {
        let fields = [("department", "SAN"), ("filters", filters.as_str()), ("id", ids[0].as_str())];
        let mut fields: Vec<_> = fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        fields.extend([("csrf", csrf.clone()), ("assignee", assignee.to_owned())]);
        fields
    };
    let refused = post("nobody");
    let r = sam
        .post(&app, "/staff/supervisor/assign", &refused.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>())
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Not reassigned"), "{}", r.body);
    assert!(r.body.contains("<option value=\"normal\" selected>"), "the list is still filtered: {}", r.body);
    let done = post("lee");
    let r = sam
        .post(&app, "/staff/supervisor/assign", &done.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>())
        .await;
    assert_eq!(r.status, 303);
    let to = r.headers["location"].to_str().unwrap();
    assert!(to.contains("priority=normal") && to.contains("department=SAN") && to.contains("assigned=1"), "{to}");
    // A forged form changes nothing.
    let r = sam
        .post(&app, "/staff/supervisor/assign", &[("csrf", "x"), ("department", "SAN"), ("id", ids[0].as_str())])
        .await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("expired; nothing was changed"), "{}", r.body);
}

async fn a_forgotten_password_is_reset_by_a_mailed_link_that_works_once(backend: Backend) {
    let mail = civic311_testkit::smtp::SmtpServer::start();
    let app =
        setup_with(backend, |s| s.with_notifiers(civic311_app::Notifiers::new(Some(common::smtp(&mail)), None))).await;
    assert_eq!(set_password(&app, "pat", PASSWORD).await.status, 200);
    let mut old = Browser::default();
    assert_eq!(old.sign_in(&app, "pat", PASSWORD, "/staff").await.status, 303);

    // Ask by email address; unknown accounts get the same answer and no mail.
    let mut b = Browser::default();
    for who in ["nobody@example.test", "PAT@testville.example"] {
        let form = b.get(&app, "/staff/forgot").await;
        let csrf = hidden(&form.body, "csrf");
        let r = b.post(&app, "/staff/forgot", &[("who", who), ("csrf", &csrf)]).await;
        assert_eq!(r.status, 200);
        assert!(r.body.contains("If that account exists"), "{}", r.body);
    }
    let received = mail.received();
    assert_eq!(received.len(), 1, "one mail, to pat only");
    assert_eq!(received[0].to, "pat@testville.example");
    let link = received[0].body.split_whitespace().find(|w| w.contains("/staff/reset/")).unwrap().to_owned();
    let path = link.trim_start_matches("http://civic311.test").to_owned();
    // Asking again at once sends nothing more.
    let form = b.get(&app, "/staff/forgot").await;
    let csrf = hidden(&form.body, "csrf");
    b.post(&app, "/staff/forgot", &[("who", "pat"), ("csrf", &csrf)]).await;
    assert_eq!(mail.received().len(), 1);
    // Nothing about the link is in the outbox that staff can read.
    let outbox = api(&app, "GET", "/api/v1/outbox", Some("ada"), None).await;
    assert_eq!(outbox.status, 200, "{}", outbox.body);
    assert!(!outbox.body.contains("/staff/reset/"));

    let page = b.get(&app, &path).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("For <strong>pat</strong>"));
    let new = "a brand new passphrase";
    let r = b.post(&app, &path, &[("password", new), ("confirm", "something else")]).await;
    assert_eq!(r.status, 400);
    let r = b.post(&app, &path, &[("password", "short"), ("confirm", "short")]).await;
    assert_eq!(r.status, 400);
    let r = b.post(&app, &path, &[("password", new), ("confirm", new)]).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.headers["location"], "/staff/sign-in?reset=1");
    // Once only; the old password and the old session are gone; the new one works.
    assert_eq!(b.post(&app, &path, &[("password", new), ("confirm", new)]).await.status, 404);
    assert_eq!(old.get(&app, "/staff").await.status, 303, "signed out everywhere");
    assert_eq!(Browser::default().sign_in(&app, "pat", PASSWORD, "/staff").await.status, 401);
    assert_eq!(Browser::default().sign_in(&app, "pat", new, "/staff").await.status, 303);
}

async fn an_administrator_manages_staff_tries_the_rules_and_reads_the_audit_log(backend: Backend) {
    let app = setup(backend).await;
    for user in ["pat", "ada"] {
        assert_eq!(set_password(&app, user, PASSWORD).await.status, 200);
    }
    let mut pat = Browser::default();
    assert_eq!(pat.sign_in(&app, "pat", PASSWORD, "/staff").await.status, 303);
    assert_eq!(pat.get(&app, "/staff/admin").await.status, 403);
    assert_eq!(pat.get(&app, "/staff/admin/rules").await.status, 403);

    let mut ada = Browser::default();
    assert_eq!(ada.sign_in(&app, "ada", PASSWORD, "/staff").await.status, 303);
    let page = ada.get(&app, "/staff/admin").await;
    assert_eq!(page.status, 200);
    let csrf = hidden(&page.body, "csrf");
    let kim = |team: &'static str| {
        vec![
            ("username", "kim"),
            ("display_name", "Kim Lee"),
            ("email", "kim@testville.example"),
            ("department", "SAN"),
            ("team", team),
            ("role", "staff"),
            ("active", "true"),
        ]
    };
    // A team of another department is refused with the reason; nothing saved.
    let mut fields = kim("PW-NORTH");
    fields.push(("csrf", &csrf));
    let r = ada.post(&app, "/staff/admin/users", &fields).await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("team PW-NORTH belongs to PW, not SAN"), "{}", r.body);
    assert!(r.body.contains("value=\"Kim Lee\""), "the form keeps what was typed");
    let r = ada.post(&app, "/staff/admin/users", &kim("SAN-BULK")).await;
    assert_eq!(r.status, 403, "no CSRF value");
    let mut fields = kim("SAN-BULK");
    fields.push(("csrf", &csrf));
    let r = ada.post(&app, "/staff/admin/users", &fields).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = ada.get(&app, r.headers["location"].to_str().unwrap()).await;
    assert!(page.body.contains("Added; in effect now."));
    let r = ada
        .post(
            &app,
            "/staff/admin/password",
            &[("username", "kim"), ("password", "kim's long password"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(Browser::default().sign_in(&app, "kim", "kim's long password", "/staff").await.status, 303);

    // Try the rules: which rule fires for a sample, and why.
    let (lat, long) = (civic311_testkit::fixture::IN_W2.0.to_string(), civic311_testkit::fixture::IN_W2.1.to_string());
    let page = ada.get(&app, &format!("/staff/admin/rules?service_code=BULK&description=smells+of+gas&lat={lat}&long={long}&channel=phone&at=2026-03-03T10:00")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<dd>SAN-BULK</dd>"), "{}", page.body);
    assert!(page.body.contains("<dd>urgent</dd>"));
    assert!(page.body.contains("<strong>bulk items in ward 2</strong>"));
    assert!(page.body.contains("<strong>gas is urgent</strong>"));
    let page = ada.get(&app, "/staff/admin/rules?service_code=POTHOLE&at=yesterday").await;
    assert!(page.body.contains("is not a date and time"));

    // The rules and the workflow document are edited as text, checked before saving.
    let page = ada.get(&app, "/staff/admin/rules").await;
    let rules_now = page.body.split("name=\"rules\"").nth(1).unwrap();
    assert!(rules_now.contains("bulk items in ward 2"));
    let bad = "[[rule]]\nname = \"bad\"\nwhen.services = [\"BULK\"]\nthen.team = \"NOPE\"\n";
    let r = ada.post(&app, "/staff/admin/rules", &[("rules", bad), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 409);
    assert!(
        unescape(&r.body).contains("unknown team 'NOPE'; one of PW-NORTH, SAN-BULK") && r.body.contains("bad"),
        "{}",
        r.body
    );
    let good = "[[rule]]\nname = \"bulk to the bulk crew\"\nwhen.services = [\"BULK\"]\nthen.team = \"SAN-BULK\"\n";
    let r = ada.post(&app, "/staff/admin/rules", &[("rules", good), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        api(&app, "GET", "/api/v1/config/rules", Some("ada"), None).await.json()["rule"][0]["name"],
        "bulk to the bulk crew"
    );
    let page = ada.get(&app, "/staff/admin/workflow").await;
    assert!(page.body.contains("received · es"), "templates are previewed");
    let text = page.body.split("name=\"workflow\"").nth(1).unwrap().split('>').skip(1).collect::<Vec<_>>().join(">");
    let text = unescape(text.split("</textarea").next().unwrap());
    assert!(text.contains("[[calendar]]"), "{text}");
    let broken = text.replace("calendar = \"office\"", "calendar = \"nope\"");
    let r = ada.post(&app, "/staff/admin/workflow", &[("workflow", &broken), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("unknown calendar"), "{}", r.body.split("role=\"alert\"").nth(1).unwrap_or(""));
    let r = ada.post(&app, "/staff/admin/workflow", &[("workflow", &text), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 303, "the document saved as it was shown: {}", r.body);

    // The audit log names who changed what; passwords only as set.
    let page = ada.get(&app, "/staff/admin/audit").await;
    assert!(page.body.contains("<td data-label=\"What\">user</td><td data-label=\"Which\">kim</td>"), "{}", page.body);
    assert!(page.body.contains("<td data-label=\"What\">password</td><td data-label=\"Which\">kim</td>"));
    assert!(!page.body.contains("long password"));
}

/// Ada, the fixture's administrator, signed in; and her CSRF value.
async fn admin(app: &TestApp) -> (Browser, String) {
    assert_eq!(set_password(app, "ada", PASSWORD).await.status, 200);
    let mut ada = Browser::default();
    assert_eq!(ada.sign_in(app, "ada", PASSWORD, "/staff").await.status, 303);
    let page = ada.get(app, "/staff/admin").await;
    let csrf = hidden(&page.body, "csrf");
    (ada, csrf)
}

/// Uploads a boundary layer from the administration page.
async fn upload(app: &TestApp, ada: &Browser, layer: &str, file: &str, csrf: &str) -> TestResponse {
    let mut req = multipart(
        "/staff/admin/boundaries",
        &[("csrf", csrf), ("layer", layer)],
        &[("file", "layer.geojson", "application/geo+json", file.as_bytes())],
    );
    req.headers_mut().insert("cookie", ada.header().parse().unwrap());
    app.call(req).await
}

/// Uploads an address, street or asset layer from the administration page.
async fn upload_layer(app: &TestApp, who: &Browser, fields: &[(&str, &str)], file: &str, csrf: &str) -> TestResponse {
    let mut all = vec![("csrf", csrf)];
    all.extend_from_slice(fields);
    let mut req =
        multipart("/staff/admin/layers", &all, &[("file", "layer.geojson", "application/geo+json", file.as_bytes())]);
    req.headers_mut().insert("cookie", who.header().parse().unwrap());
    app.call(req).await
}

/// Files a pothole through Open311 with `key`; the status.
async fn file_with(app: &TestApp, key: &str) -> axum::http::StatusCode {
    let fields = [
        ("api_key", key),
        ("service_code", "POTHOLE"),
        ("lat", "41.01"),
        ("long", "-88.01"),
        ("attribute[SIZE]", "small"),
    ];
    app.post_form("/open311/v2/requests.json", &fields).await.status
}

/// The text of the page's error box.
fn alert(page: &str) -> &str {
    page.split("role=\"alert\"").nth(1).unwrap_or("").split("</p>").next().unwrap_or("")
}

async fn an_administrator_keeps_departments_services_boundaries_and_keys(backend: Backend) {
    let app = setup(backend).await;
    assert_eq!(set_password(&app, "pat", PASSWORD).await.status, 200);
    let mut pat = Browser::default();
    assert_eq!(pat.sign_in(&app, "pat", PASSWORD, "/staff").await.status, 303);
    for page in [
        "/staff/admin/departments",
        "/staff/admin/services",
        "/staff/admin/boundaries",
        "/staff/admin/layers",
        "/staff/admin/keys",
    ] {
        assert_eq!(pat.get(&app, page).await.status, 403, "{page} is for administrators");
    }
    let pat_csrf = hidden(&pat.get(&app, "/staff").await.body, "csrf");
    let r = pat.post(&app, "/staff/admin/keys", &[("label", "mine"), ("csrf", &pat_csrf)]).await;
    assert_eq!(r.status, 403);
    let (mut ada, csrf) = admin(&app).await;

    // Departments and teams: added, renamed, and a team never moves between departments.
    let page = ada.get(&app, "/staff/admin/departments").await;
    assert!(page.body.contains("Sanitation") && page.body.contains("SAN-BULK"), "{}", page.body);
    let parks = [
        ("code", "PRK"),
        ("name", "Parks"),
        ("name_es", " Parques "),
        ("email", "parks@testville.example"),
        ("csrf", csrf.as_str()),
    ];
    let r = ada.post(&app, "/staff/admin/departments", &parks).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.headers["location"], "/staff/admin/departments?done=added");
    let stored = |app: &TestApp| {
        let store = app.store.clone();
        async move { store.departments().await.unwrap().into_iter().find(|d| d.code == "PRK").unwrap() }
    };
    assert_eq!(stored(&app).await.name_in("es"), "Parques", "its Spanish name, trimmed");
    let page = ada.get(&app, "/staff/admin/departments").await;
    assert!(page.body.contains("Spanish: Parques"), "the list shows it: {}", page.body);
    let without = [("code", "PRK"), ("name", "Parks"), ("name_es", ""), ("csrf", csrf.as_str())];
    assert_eq!(ada.post(&app, "/staff/admin/departments", &without).await.status, 303);
    assert_eq!(stored(&app).await.name_in("es"), "Parks", "emptied, as the mailbox: removed");
    assert!(stored(&app).await.translations.is_empty());
    assert_eq!(ada.post(&app, "/staff/admin/departments", &parks).await.status, 303);
    let r = ada.post(&app, "/staff/admin/departments", &[("code", "PRK"), ("name", " "), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 409);
    assert!(alert(&r.body).contains("a name is required"), "{}", r.body);
    let r = ada.post(&app, "/staff/admin/departments", &[("code", "PRK"), ("name", "Parks"), ("csrf", "forged")]).await;
    assert_eq!(r.status, 403);
    let trees = [("code", "PRK-TREES"), ("department", "PRK"), ("name", "Tree crew"), ("csrf", csrf.as_str())];
    assert_eq!(ada.post(&app, "/staff/admin/teams", &trees).await.status, 303);
    let moved = [("code", "PRK-TREES"), ("department", "SAN"), ("name", "Tree crew"), ("csrf", csrf.as_str())];
    let r = ada.post(&app, "/staff/admin/teams", &moved).await;
    assert_eq!(r.status, 409);
    assert!(alert(&r.body).contains("teams do not move between departments"), "{}", r.body);
    assert!(r.body.contains("value=\"PRK-TREES\""), "what was typed is kept");
    let teams = app.store.teams().await.unwrap();
    assert_eq!(teams.iter().find(|t| t.code == "PRK-TREES").unwrap().department, "PRK");

    // A service with a question: added from the starter, previewed, in effect at once.
    let page = ada.get(&app, "/staff/admin/services/new").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Where exactly?"), "the starter's question is previewed");
    let text = "code = \"TREE\"\nname = \"Downed tree\"\ndescription = \"A tree or large limb down\"\ngroup = \"Parks\"\n\
                keywords = [\"fell\", \"branch\"]\ndepartment = \"PRK\"\n\n[[attributes]]\ncode = \"BLOCKING\"\n\
                datatype = \"singlevaluelist\"\nrequired = true\norder = 1\ndescription = \"Is it blocking the road?\"\n\
                values = [{ key = \"yes\", name = \"Yes\" }, { key = \"no\", name = \"No\" }]\n";
    let r = ada.post(&app, "/staff/admin/services/new", &[("service", text), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", alert(&r.body));
    assert_eq!(r.headers["location"], "/staff/admin/services/TREE?done=added");
    let page = ada.get(&app, "/staff/admin/services/TREE").await;
    assert!(page.body.contains("Is it blocking the road?") && page.body.contains("<option value=\"yes\">Yes</option>"));
    let r = app.get("/open311/v2/services.json").await;
    assert!(r.body.contains("Downed tree"), "Open311 lists it at once: {}", r.body);
    let r = ada.post(&app, "/staff/admin/services/new", &[("service", text), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 400, "a new service cannot take a code in use");
    assert!(alert(&r.body).contains("TREE is taken"), "{}", r.body);
    let renamed = text.replace("code = \"TREE\"", "code = \"TREE2\"");
    let r = ada.post(&app, "/staff/admin/services/TREE", &[("service", &renamed), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 400);
    assert!(alert(&r.body).contains("keeps its code"));
    let unowned = text.replace("department = \"PRK\"", "department = \"NOPE\"");
    let r = ada.post(&app, "/staff/admin/services/TREE", &[("service", &unowned), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 409);
    assert!(alert(&r.body).contains("unknown department"), "{}", r.body);
    let r = ada.post(&app, "/staff/admin/services/TREE", &[("service", "code = "), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 400);
    assert!(alert(&r.body).contains("not valid TOML"));
    assert_eq!(ada.get(&app, "/staff/admin/services/NOPE").await.status, 404);

    // A boundary layer from GeoJSON; one that drops a ward a rule names is refused.
    let square = |id: &str, x0: f64| {
        json!({ "type": "Feature", "properties": { "code": id, "name": format!("Park {id}") },
                "geometry": { "type": "Polygon", "coordinates": [[[x0, 41.0], [x0 + 0.02, 41.0], [x0 + 0.02, 41.02], [x0, 41.02], [x0, 41.0]]] } })
    };
    let parks =
        json!({ "type": "FeatureCollection", "features": [square("P1", -88.02), square("P2", -88.0)] }).to_string();
    let r = upload(&app, &ada, "parks", &parks, &csrf).await;
    assert_eq!(r.status, 303, "{}", alert(&r.body));
    let page = ada.get(&app, "/staff/admin/boundaries").await;
    assert!(page.body.contains("Park P1, Park P2"), "{}", page.body);
    let one_ward = json!({ "type": "FeatureCollection", "features": [square("W1", -88.02)] }).to_string();
    let r = upload(&app, &ada, "wards", &one_ward, &csrf).await;
    assert_eq!(r.status, 409);
    assert!(alert(&r.body).contains("rule &#39;bulk items in ward 2&#39; names wards W2"), "{}", alert(&r.body));
    assert_eq!(app.store.boundary_features().await.unwrap().iter().filter(|f| f.layer == "wards").count(), 2);
    let r = upload(&app, &ada, "parks", "{ not json", &csrf).await;
    assert_eq!(r.status, 400);
    assert!(alert(&r.body).contains("not valid JSON"));
    assert_eq!(upload(&app, &ada, "parks", &parks, "forged").await.status, 403);
    assert_eq!(upload(&app, &pat, "parks", &one_ward, &pat_csrf).await.status, 403, "administrators only");

    // Street centrelines and assets from their page: a bad feature stops the file and
    // is told by number; the good file is in effect at once.
    let street = |name: &str, geometry: serde_json::Value| json!({ "type": "Feature", "properties": { "name": name, "left_from": 100, "left_to": 198 }, "geometry": geometry });
    let line = json!({ "type": "LineString", "coordinates": [[-88.02, 41.01], [-88.0, 41.01]] });
    let point = json!({ "type": "Point", "coordinates": [-88.0, 41.01] });
    let bad =
        json!({ "type": "FeatureCollection", "features": [street("Oak St", line.clone()), street("Elm St", point)] });
    let r = upload_layer(&app, &ada, &[("layer", "streets")], &bad.to_string(), &csrf).await;
    assert_eq!(r.status, 400);
    assert!(alert(&r.body).contains("feature 2: the geometry is not a LineString"), "{}", alert(&r.body));
    assert_eq!(app.state.city().addresses.segment_count(), 0, "nothing imported");
    let good = json!({ "type": "FeatureCollection", "features": [street("Oak St", line)] });
    let r = upload_layer(&app, &ada, &[("layer", "streets")], &good.to_string(), &csrf).await;
    assert_eq!(r.status, 303, "{}", alert(&r.body));
    assert_eq!(app.state.city().addresses.segment_count(), 1);
    assert!(app.state.city().addresses.locate("150 Oak St").is_some(), "interpolated along the new centreline");
    let lights = json!({ "type": "FeatureCollection", "features": [
        { "type": "Feature", "properties": { "asset_id": "SL-1" }, "geometry": { "type": "Point", "coordinates": [-88.01, 41.01] } }] });
    let r = upload_layer(&app, &ada, &[("layer", "assets"), ("type", "streetlight")], &lights.to_string(), &csrf).await;
    assert_eq!(r.status, 303, "{}", alert(&r.body));
    let page = ada.get(&app, "/staff/admin/layers").await;
    assert!(page.body.contains("Assets: streetlight"), "{}", page.body);
    let r = upload_layer(&app, &pat, &[("layer", "streets")], &good.to_string(), &pat_csrf).await;
    assert_eq!(r.status, 403, "administrators only");
    assert_eq!(app.store.boundary_features().await.unwrap().iter().filter(|f| f.layer == "parks").count(), 2);
    let filed = post_pothole(&app, IN_W1, "by the swings", &[("attribute[SIZE]", "small")]).await.json()[0]["service_request_id"].clone();
    let r = api(&app, "GET", &format!("/api/v1/requests/{}", filed.as_str().unwrap()), Some("ada"), None).await;
    assert_eq!(r.json()["areas"]["parks"], "P1", "new requests are tagged with the new layer: {}", r.body);

    // Open311 keys: issued, used, revoked.
    let r = ada.post(&app, "/staff/admin/keys", &[("label", "city iOS app"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 303);
    let key = app.store.api_keys().await.unwrap().into_iter().find(|k| k.label == "city iOS app").unwrap().key;
    let page = ada.get(&app, "/staff/admin/keys").await;
    assert!(page.body.contains(&key) && page.body.contains(API_KEY));
    assert_eq!(file_with(&app, &key).await, 201);
    assert_eq!(ada.post(&app, "/staff/admin/keys", &[("label", " "), ("csrf", &csrf)]).await.status, 400);
    let r = ada.post(&app, "/staff/admin/keys/revoke", &[("key", &key), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 303);
    assert_eq!(file_with(&app, &key).await, 403, "refused at once");
    assert_eq!(ada.post(&app, "/staff/admin/keys/revoke", &[("key", &key), ("csrf", &csrf)]).await.status, 400);

    let audit = ada.get(&app, "/staff/admin/audit").await.body;
    for kind in ["department", "team", "service", "boundaries", "api_key"] {
        assert!(audit.contains(&format!("<td data-label=\"What\">{kind}</td>")), "{kind} is audited");
    }
    assert!(!audit.contains(&key), "the audit log never shows a key");
    assert!(audit.contains(&format!("…{}", &key[key.len() - 4..])), "but tells keys apart by their end");
}

async fn the_delivery_log_shows_dead_letters_and_sends_them_again(backend: Backend) {
    let app = setup(backend).await;
    let id = file_pothole(&app).await;
    let now = app.now();
    let claimed = app.store.claim_messages(now, now + jiff::SignedDuration::from_mins(1), 10).await.unwrap();
    let sms = claimed.iter().find(|m| m.message.channel == "sms").unwrap().id;
    for m in &claimed {
        let outcome = if m.id == sms {
            Delivery::Dead { error: "provider said 21211: invalid number".into() }
        } else {
            Delivery::Sent { subject: String::new(), body: "ok".into() }
        };
        app.store.finish_message(m.id, outcome, now).await.unwrap();
    }
    let (mut ada, csrf) = admin(&app).await;
    let page = ada.get(&app, "/staff/admin/deliveries?channel=sms&state=dead").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("21211: invalid number") && page.body.contains("dead letter"), "{}", page.body);
    assert!(
        page.body
            .contains(&format!("href=\"/staff/requests/{}\"", id.split('-').nth(1).unwrap().trim_start_matches('0')))
    );
    let page = ada.get(&app, "/staff/admin/deliveries?channel=email").await;
    assert!(page.body.contains("res@example.test") && !page.body.contains("+15550100"), "filtered by channel");
    let page = ada.get(&app, "/staff/admin/deliveries?channel=carrier-pigeon").await;
    assert_eq!(page.status, 200, "an unknown filter lists everything");

    let uri = format!("/staff/admin/deliveries/{sms}/retry");
    assert_eq!(ada.post(&app, &uri, &[("csrf", "forged")]).await.status, 403);
    let r = ada.post(&app, &uri, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let q = OutboxQuery { channel: Some("sms".into()), limit: 10, ..OutboxQuery::default() };
    assert_eq!(app.store.outbox(&q).await.unwrap()[0].state, civic311_store::OutboxState::Pending);
    let r = ada.post(&app, &uri, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 400, "only a dead letter is sent again");
}

async fn pages_load_their_styles_and_scripts_from_the_binary_cached_for_a_year(backend: Backend) {
    let app = setup(backend).await;
    let page = app.get("/staff/sign-in").await;
    let css = page.body.split("<link rel=\"stylesheet\" href=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let js = page.body.split("<script src=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert!(css.starts_with("/static/") && css.ends_with("/staff.css"), "{css}");
    assert!(js.ends_with("/vendor/htmx.min.js"), "{js}");
    for (url, kind) in [(&css, "text/css"), (&js, "text/javascript")] {
        let r = app.get(url).await;
        assert_eq!(r.status, 200);
        assert!(r.headers["content-type"].to_str().unwrap().starts_with(kind));
        assert_eq!(r.headers["cache-control"], "public, max-age=31536000, immutable");
    }
    assert!(app.get(&css).await.body.contains(".card"), "the stylesheet itself");
    // A page from before an upgrade names an old hash: it gets today's file, uncached.
    let old = app.get("/static/000000000000/staff.css").await;
    assert_eq!((old.status.as_u16(), old.headers["cache-control"].to_str().unwrap()), (200, "no-cache"));
    assert_eq!(app.get("/static/000000000000/secrets.txt").await.status, 404);
    assert_eq!(app.get("/static/000000000000/../Cargo.toml").await.status, 404);
}

async fn escalated_work_is_marked_in_the_queue_and_the_supervisor_view(backend: Backend) {
    let app = setup(backend).await;
    app.set_now("2026-03-02T09:00:00-06:00");
    let late = file_pothole(&app).await;
    // 8 business hours later it has breached; the sweep escalates it.
    let breach: jiff::Timestamp = "2026-03-04T09:00:00-06:00".parse().unwrap();
    app.set_now("2026-03-04T09:00:00-06:00");
    let model = app.state.city().workflow.clone();
    let report = civic311_jobs::sweep(&app.store, &model, breach, 10).await.unwrap();
    assert!(report.fired >= 1, "{report:?}");
    let fresh = file_pothole(&app).await;
    assert_eq!(set_password(&app, "pat", PASSWORD).await.status, 200);
    let (mut ada, _) = admin(&app).await;
    let mut pat = Browser::default();
    assert_eq!(pat.sign_in(&app, "pat", PASSWORD, "/staff").await.status, 303);
    for page in [pat.get(&app, "/staff?view=department").await, ada.get(&app, "/staff/supervisor?department=PW").await]
    {
        let row = |id: &str| page.body.split("<tr>").find(|r| r.contains(id)).unwrap().to_owned();
        assert!(row(&late).contains("Escalated") && row(&late).contains("Overdue"), "{}", row(&late));
        assert!(!row(&fresh).contains("Escalated"));
    }
}

async fn an_administrator_keeps_the_knowledge_base_and_call_takers_see_it(backend: Backend) {
    let app = setup(backend).await;
    let (mut ada, csrf) = admin(&app).await;
    let list = ada.get(&app, "/staff/admin/articles").await;
    assert!(list.body.contains("How potholes are repaired") && list.body.contains("staff only"), "{}", list.body);
    assert!(ada.get(&app, "/staff/admin/articles/new").await.body.contains("short-name-for-the-address"));

    // Added, linked from a service, public at once.
    let text = "slug = \"bulk-rules\"\ntitle = \"Bulk pickup rules\"\nservices = [\"BULK\"]\nbody = \"Three items a week.\\n\\nWrap mattresses.\"\n";
    let r = ada.post(&app, "/staff/admin/articles/new", &[("article", text), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(app.get("/help?q=mattresses").await.body.contains("href=\"/help/bulk-rules\""));
    assert!(app.get("/report/BULK").await.body.contains("Bulk pickup rules"), "offered beside its category");

    // Refusals keep the text and change nothing.
    let bad = text.replace("BULK", "NOPE");
    let r = ada.post(&app, "/staff/admin/articles/bulk-rules", &[("article", &bad), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 409);
    assert!(alert(&r.body).contains("unknown service"), "{}", r.body);
    let r = ada.post(&app, "/staff/admin/articles/new", &[("article", text), ("csrf", &csrf)]).await;
    assert!(alert(&r.body).contains("is taken"), "{}", r.body);
    let r = ada.post(&app, "/staff/admin/articles/bulk-rules", &[("article", text), ("csrf", "forged")]).await;
    assert_eq!(r.status, 403);

    // The call-taker sees internal articles beside the form; the public never does.
    let intake = ada.get(&app, "/staff/intake?service_code=POTHOLE").await;
    assert!(intake.body.contains("Crew radio codes") && intake.body.contains("(staff only)"), "{}", intake.body);

    // Deleted, audited.
    let r = ada.post(&app, "/staff/admin/articles/bulk-rules/delete", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303);
    assert_eq!(app.get("/help/bulk-rules").await.status, 404);
    let audit = ada.get(&app, "/staff/admin/audit").await.body;
    assert!(audit.contains("bulk-rules"), "{audit}");
}
