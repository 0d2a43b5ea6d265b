//! The requests report over a week worked out by hand (Monday 2 to Sunday 8 March
//! 2026, in Chicago, whose clocks go forward on the Sunday): one request resolved in
//! time, one late, one resolved, reopened and resolved again, one transferred, one
//! merged as a duplicate, one filed before the week and one in another ward, both still
//! open. The pothole SLA is 8 business hours on 08:00–17:00 weekdays. JSON and CSV
//! agree; only analysts, supervisors (their departments) and administrators may ask.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use civic311_testkit::fixture::{IN_W1, IN_W2};
use civic311_testkit::{Backend, TestApp, both_backends};
use common::{act, api, post_pothole, setup};
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::common;

both_backends!(
    a_week_of_requests_is_reported_exactly_as_defined,
    the_dashboards_show_the_api_numbers_to_those_who_may_see_them,
    a_holiday_weekend_a_hold_and_two_transfers_are_reported_as_defined
);

async fn file(app: &TestApp, at: &str, point: (f64, f64)) -> String {
    app.set_now(at);
    let r = post_pothole(app, point, "Hole", &[("attribute[SIZE]", "small")]).await;
    r.json()[0]["service_request_id"].as_str().unwrap().to_owned()
}

async fn act_at(app: &TestApp, at: &str, id: &str, action: Value) {
    app.set_now(at);
    act(app, id, "ada", action).await;
}

async fn report(app: &TestApp, user: &str, query: &str) -> (u16, Value) {
    let r =
        api(app, "GET", &format!("/api/v1/reports/requests?from=2026-03-02&to=2026-03-08{query}"), Some(user), None)
            .await;
    let status = r.status;
    (status.as_u16(), if status == 200 { r.json() } else { serde_json::from_str(&r.body).unwrap_or(Value::Null) })
}

/// The week the module describes, on a new city; the clock left on Tuesday the 10th.
pub async fn week(backend: Backend) -> TestApp {
    let app = setup(backend).await;
    let resolve = || json!({ "action": "resolve", "note": "Filled" });
    file(&app, "2026-02-27T09:00:00-06:00", IN_W1).await; // F: before the week, still open
    let a = file(&app, "2026-03-02T09:00:00-06:00", IN_W1).await;
    let b = file(&app, "2026-03-02T10:00:00-06:00", IN_W1).await;
    file(&app, "2026-03-02T11:00:00-06:00", IN_W2).await; // G: ward 2, still open
    act_at(&app, "2026-03-02T15:00:00-06:00", &a, resolve()).await; // 6 h, due 17:00: met
    act_at(&app, "2026-03-03T10:00:00-06:00", &b, resolve()).await; // 24 h, 9 business; due Tue 09:00: missed
    let c = file(&app, "2026-03-04T09:00:00-06:00", IN_W1).await;
    act_at(&app, "2026-03-04T12:00:00-06:00", &c, resolve()).await;
    // Reading now adds C as resolved to the rollups; its reopening must take that away.
    assert_eq!(report(&app, "ali", "").await.1["total"]["closed"], 3, "A, B and C so far");
    act_at(&app, "2026-03-05T09:00:00-06:00", &c, json!({ "action": "reopen", "reason": "sank" })).await;
    let d = file(&app, "2026-03-05T09:00:00-06:00", IN_W1).await;
    let to_san = json!({ "action": "transfer", "department": "SAN", "reason": "a sinkhole, not a pothole" });
    act_at(&app, "2026-03-05T10:00:00-06:00", &d, to_san).await;
    // C's clock restarted Thursday 09:00, due 17:00; resolved again Friday 09:00: missed.
    act_at(&app, "2026-03-06T09:00:00-06:00", &c, resolve()).await; // 48 h, 8 + 9 + 1 = 18 business
    let e = file(&app, "2026-03-06T09:00:00-06:00", IN_W1).await;
    act_at(&app, "2026-03-06T10:00:00-06:00", &e, json!({ "action": "merge", "into": d })).await;
    app.set_now("2026-03-10T09:00:00-05:00");
    app
}

async fn a_week_of_requests_is_reported_exactly_as_defined(backend: Backend) {
    let app = week(backend).await;

    // The whole week.
    let (status, all) = report(&app, "ali", "").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(
        (all["from"].as_str(), all["to"].as_str(), all["time_zone"].as_str()),
        (Some("2026-03-02"), Some("2026-03-08"), Some("America/Chicago"))
    );
    let t = &all["total"];
    assert_eq!(t["opened"], 6, "A, B, C, D, E, G: {t}");
    assert_eq!(t["closed"], 3, "A, B and C (at its last resolve)");
    assert_eq!(t["open_at_end"], 3, "D, F and G");
    assert_eq!(t["hours_to_close"], json!({ "median": 24.0, "p90": 48.0, "mean": 26.0 }));
    assert_eq!(t["business_hours_to_close"], json!({ "median": 9.0, "p90": 18.0, "mean": 11.0 }));
    assert_eq!(t["sla"], json!({ "met": 1, "missed": 2, "compliance": 0.3333, "open_past_due_at_end": 3 }));
    assert_eq!(
        (t["duplicates"].as_u64(), t["transfers"].as_u64(), t["reopened"].as_u64()),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(t["rating"], json!({ "count": 0, "mean": null }));

    // By day, in local days (Sunday the 8th is 23 hours long).
    let (_, by_day) = report(&app, "ali", "&group_by=day").await;
    let day = |key: &str| by_day["rows"].as_array().unwrap().iter().find(|r| r["key"]["day"] == key).cloned().unwrap();
    let monday = day("2026-03-02");
    assert_eq!(
        (monday["opened"].as_u64(), monday["closed"].as_u64(), monday["open_at_end"].as_u64()),
        (Some(3), Some(1), Some(3))
    );
    let friday = day("2026-03-06");
    assert_eq!(
        (friday["opened"].as_u64(), friday["closed"].as_u64(), friday["open_at_end"].as_u64()),
        (Some(1), Some(1), Some(3))
    );
    assert_eq!(day("2026-03-08")["open_at_end"], 3, "Sunday still has its open work");

    // By department (as owned now) and ward; filtered by an area.
    let (_, by_dept) = report(&app, "ali", "&group_by=department,layer:wards").await;
    let rows: BTreeMap<String, Value> = by_dept["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                format!("{}/{}", r["key"]["department"].as_str().unwrap(), r["key"]["layer:wards"].as_str().unwrap()),
                r.clone(),
            )
        })
        .collect();
    assert_eq!(rows.keys().collect::<Vec<_>>(), ["PW/W1", "PW/W2", "SAN/W1"]);
    assert_eq!((rows["SAN/W1"]["opened"].as_u64(), rows["SAN/W1"]["transfers"].as_u64()), (Some(1), Some(1)));
    let (_, ward2) = report(&app, "ali", "&area=wards:W2").await;
    assert_eq!((ward2["total"]["opened"].as_u64(), ward2["total"]["open_at_end"].as_u64()), (Some(1), Some(1)));

    // The CSV has the same numbers, one row per key.
    let csv = api(
        &app,
        "GET",
        "/api/v1/reports/requests?from=2026-03-02&to=2026-03-08&group_by=day&format=csv",
        Some("ali"),
        None,
    )
    .await;
    assert_eq!(csv.status, 200);
    assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert!(lines[0].starts_with("day,opened,closed,open_at_end,hours_to_close_median"), "{}", lines[0]);
    assert_eq!(lines.len() - 1, by_day["rows"].as_array().unwrap().len());
    for row in by_day["rows"].as_array().unwrap() {
        let key = row["key"]["day"].as_str().unwrap();
        let line = lines.iter().find(|l| l.starts_with(key)).unwrap();
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(
            (cells[1], cells[2], cells[3]),
            (
                row["opened"].to_string().as_str(),
                row["closed"].to_string().as_str(),
                row["open_at_end"].to_string().as_str()
            )
        );
    }

    // Who may ask: a supervisor sees their department only; staff are refused.
    let (status, sam) = report(&app, "sam", "").await;
    assert_eq!(status, 200);
    assert_eq!(sam["total"]["opened"], 1, "Sanitation's one request: D");
    let (status, refused) = report(&app, "sam", "&department=PW").await;
    assert_eq!(status, 403, "{refused}");
    let (status, refused) = report(&app, "pat", "").await;
    assert_eq!(status, 403);
    assert!(refused["errors"][0]["detail"].as_str().unwrap().contains("analysts, supervisors and administrators"));
    assert_eq!(report(&app, "ada", "").await.1["total"], all["total"]);

    // Bad input is named.
    for (query, field) in [
        ("&group_by=colour", "group_by"),
        ("&group_by=day,month", "group_by"),
        ("&group_by=team,channel,priority", "group_by"),
        ("&layer:nope=1", "layer:nope"),
    ] {
        let (status, body) = report(&app, "ali", query).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["errors"][0]["field"], field, "{query}: {body}");
    }
    for (from, to, group_by) in [
        ("2026-03-08", "2026-03-02", ""),
        ("9999-01-01", "9999-12-31", "month"),
        ("-009999-01-01", "-009999-02-01", "week"),
    ] {
        let uri = format!("/api/v1/reports/requests?from={from}&to={to}&group_by={group_by}");
        let r = api(&app, "GET", &uri, Some("ali"), None).await;
        assert_eq!(r.status, 400, "{uri}: {}", r.body);
    }
}

/// Signs `user` in to the staff pages over HTTP.
async fn signed_in(app: &TestApp, user: &str) -> common::Browser {
    assert_eq!(common::set_password(app, user, "reports for all 42").await.status, 200);
    let mut b = common::Browser::default();
    let r = b.sign_in(app, user, "reports for all 42", "/staff").await;
    assert_eq!(r.status, 303, "{user} signs in: {}", r.body);
    b
}

async fn the_dashboards_show_the_api_numbers_to_those_who_may_see_them(backend: Backend) {
    let app = week(backend).await;
    let week = "from=2026-03-02&to=2026-03-08";
    let mut ali = signed_in(&app, "ali").await;
    let page = ali.get(&app, &format!("/staff/reports?{week}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let (_, all) = report(&app, "ali", "").await;
    let t = &all["total"];
    let figures = common::unescape(&page.body);
    for (label, value) in [
        ("Opened", t["opened"].to_string()),
        ("Closed", t["closed"].to_string()),
        ("Open at the end", t["open_at_end"].to_string()),
    ] {
        let shown = format!("<span class=\"label\">{label}</span> <strong>{value}</strong>");
        assert!(figures.contains(&shown), "{label} = {value} as the API says");
    }
    // Three closed are too few to judge a time or a compliance.
    assert!(figures.contains("<strong>too few (3)</strong>"), "the median is withheld");
    assert!(figures.contains("/staff/reports/csv?from=2026-03-02&to=2026-03-08&group_by=day\""), "a day by day CSV");
    assert!(figures.contains("Categories by area: wards"), "a layer the city did not name reads its code");
    let mut settings = civic311_testkit::fixture::settings();
    settings.layer_names.insert("wards".into(), [("en".into(), "Wards".into())].into());
    app.store.put_settings(&settings).await.unwrap();
    app.state.reload().await.unwrap();
    let named = common::unescape(&ali.get(&app, &format!("/staff/reports?{week}")).await.body);
    assert!(named.contains("Categories by area: Wards") && named.contains(">Wards</option>"), "{named}");

    // Each chart's CSV is the API's, byte for byte.
    for group_by in ["day", "service_code", "department", "service_code,layer:wards"] {
        let query = format!("{week}&group_by={}", group_by.replace(':', "%3A").replace(',', "%2C"));
        let mine = ali.get(&app, &format!("/staff/reports/csv?{query}")).await;
        assert_eq!(mine.status, 200, "{}", mine.body);
        assert!(mine.headers["content-disposition"].to_str().unwrap().contains("requests-2026-03-02-2026-03-08.csv"));
        let theirs = api(&app, "GET", &format!("/api/v1/reports/requests?{query}&format=csv"), Some("ali"), None).await;
        assert_eq!(mine.body, theirs.body, "group_by={group_by}");
    }
    let bad = ali.get(&app, "/staff/reports/csv?from=2026-03-02&to=March").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("to"), "{}", bad.body);
    // A date that is not one is named on the page, with the form to try again.
    let bad = ali.get(&app, "/staff/reports?from=2026-03-02&to=March").await;
    assert_eq!(bad.status, 400);
    let said = common::unescape(&bad.body);
    assert!(said.contains("role=\"alert\"") && said.contains("to — 'March' is not a date"), "{said}");
    assert!(bad.body.contains("name=\"from\""), "the form is there");
    let bad = ali.get(&app, "/staff/reports/operations?department=NOPE").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("there is no department NOPE"), "{}", bad.body);
    let bad = ali.get(&app, &format!("/staff/reports?{week}&department=NOPE")).await;
    assert_eq!(bad.status, 200, "an unknown department reports nothing: {}", bad.body);

    // Operations now: F and G are Public Works' open work, D Sanitation's.
    let ops = ali.get(&app, "/staff/reports/operations?format=csv&table=backlog").await;
    assert_eq!(ops.status, 200, "{}", ops.body);
    let lines: Vec<&str> = ops.body.lines().collect();
    assert_eq!(lines[0], "Department,Open,Overdue,Oldest waiting");
    assert!(lines.iter().any(|l| l.starts_with("Public Works,2,2,")), "{}", ops.body);
    assert!(lines.iter().any(|l| l.starts_with("Sanitation,1,")), "{}", ops.body);
    let aging = ali.get(&app, "/staff/reports/operations?format=csv&table=aging").await;
    assert_eq!(aging.body, "Age,Open\r\n0–7 days,2\r\n8–30 days,1\r\n31–90 days,0\r\nover 90 days,0\r\n");
    let page = ali.get(&app, "/staff/reports/operations").await;
    assert!(common::unescape(&page.body).contains("<span class=\"label\">Open</span> <strong>3</strong>"));
    // This morning's escalations, counted for the department asked for.
    let breach: Timestamp = "2026-03-10T08:30:00-05:00".parse().unwrap();
    let swept = civic311_jobs::sweep(&app.store, &app.state.city().workflow.clone(), breach, 100).await.unwrap();
    assert_eq!(swept.fired, 3, "F, G and D");
    for (department, n) in [("PW", 2), ("SAN", 1)] {
        let page = ali.get(&app, &format!("/staff/reports/operations?department={department}")).await;
        assert!(page.body.contains(&format!("open; {n} escalations today")), "{department}: {}", page.body);
    }

    // A supervisor sees their department; staff see nothing.
    let mut sam = signed_in(&app, "sam").await;
    let own = sam.get(&app, &format!("/staff/reports?{week}")).await;
    assert!(common::unescape(&own.body).contains("<span class=\"label\">Opened</span> <strong>1</strong>"));
    for uri in [
        format!("/staff/reports?{week}&department=PW"),
        format!("/staff/reports/csv?{week}&department=PW"),
        "/staff/reports/operations?department=PW".to_owned(),
    ] {
        assert_eq!(sam.get(&app, &uri).await.status, 403, "{uri}");
    }
    let mut pat = signed_in(&app, "pat").await;
    for uri in ["/staff/reports", "/staff/reports/csv?from=2026-03-02&to=2026-03-08", "/staff/reports/operations"] {
        let r = pat.get(&app, uri).await;
        assert_eq!(r.status, 403, "{uri}");
        assert!(r.body.contains("analysts, supervisors and administrators"), "{}", r.body);
    }
    assert!(!pat.get(&app, "/staff").await.body.contains("href=\"/staff/reports\""), "no link for staff");
}

/// Memorial Day week 2026 on the fixture's office calendar (08:00–17:00 weekdays, the
/// Monday a holiday): one request filed Friday afternoon and resolved Tuesday morning,
/// one put on hold for two days and resolved within its moved due time, one transferred
/// away and back.
async fn a_holiday_weekend_a_hold_and_two_transfers_are_reported_as_defined(backend: Backend) {
    let app = setup(backend).await;
    let resolve = || json!({ "action": "resolve", "note": "Filled" });
    // A: 90 hours on the clock, but 1 h on Friday + 2 h on Tuesday = 3 business hours;
    // due Tuesday 15:00 (1 h Friday, 7 h Tuesday): met.
    let a = file(&app, "2026-05-22T16:00:00-05:00", IN_W1).await;
    act_at(&app, "2026-05-26T10:00:00-05:00", &a, resolve()).await;
    // B: due Tuesday 17:00, held from 10:00 Tuesday to 10:00 Thursday (18 business
    // hours), so due Thursday 17:00; resolved Thursday 16:00: met. 55 hours; 8 + 9 + 8 =
    // 25 business hours (the pause is still business time).
    let b = file(&app, "2026-05-26T09:00:00-05:00", IN_W1).await;
    act_at(&app, "2026-05-26T10:00:00-05:00", &b, json!({ "action": "hold", "reason": "owner to move the car" })).await;
    act_at(&app, "2026-05-28T10:00:00-05:00", &b, json!({ "action": "resume" })).await;
    act_at(&app, "2026-05-28T16:00:00-05:00", &b, resolve()).await;
    // C: to Sanitation and back to Public Works: one request transferred, still open.
    let c = file(&app, "2026-05-27T09:00:00-05:00", IN_W1).await;
    let to = |d: &str| json!({ "action": "transfer", "department": d, "reason": "not ours" });
    act_at(&app, "2026-05-27T10:00:00-05:00", &c, to("SAN")).await;
    act_at(&app, "2026-05-27T11:00:00-05:00", &c, to("PW")).await;
    app.set_now("2026-06-02T09:00:00-05:00");

    let uri = "/api/v1/reports/requests?from=2026-05-22&to=2026-05-28&group_by=department";
    let r = api(&app, "GET", uri, Some("ali"), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body = r.json();
    let t = &body["total"];
    assert_eq!((t["opened"].as_u64(), t["closed"].as_u64(), t["open_at_end"].as_u64()), (Some(3), Some(2), Some(1)));
    assert_eq!(t["hours_to_close"], json!({ "median": 72.5, "p90": 90.0, "mean": 72.5 }), "{t}");
    assert_eq!(t["business_hours_to_close"], json!({ "median": 14.0, "p90": 25.0, "mean": 14.0 }), "{t}");
    assert_eq!(t["sla"], json!({ "met": 2, "missed": 0, "compliance": 1.0, "open_past_due_at_end": 1 }), "{t}");
    assert_eq!(t["transfers"], 1, "C counts once however often it moved");
    let rows = body["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "all three are Public Works' now: {rows:?}");
    assert_eq!(rows[0]["key"]["department"], "PW");

    // The CSV says the same.
    let csv = api(&app, "GET", &format!("{uri}&format=csv"), Some("ali"), None).await;
    let line = csv.body.lines().nth(1).unwrap().to_owned();
    assert!(line.starts_with("PW,3,2,1,72.5,90.0,72.5,14.0,25.0,14.0,2,0,1.0,1,0,1,0,0,"), "{line}");

    // Where the work stalled: A waited 90 h open; B 1 h open, 48 h on hold and 6 h in
    // progress (resuming takes it up again): of 145 hours, 91 open, 6 in progress, 48
    // on hold.
    let mut ali = signed_in(&app, "ali").await;
    let week = "from=2026-05-22&to=2026-05-28";
    let table = |page: &str, table: &str| format!("/staff/reports/{page}?{week}&format=csv&table={table}");
    let statuses = ali.get(&app, &table("stalls", "statuses")).await;
    assert_eq!(statuses.status, 200, "{}", statuses.body);
    assert_eq!(
        statuses.body,
        "Status,Requests,Median,90% within,Mean,Share of the time\r\n\
         Open,2,too few (2),–,–,63%\r\nIn progress,1,too few (1),–,–,4%\r\nOn hold,1,too few (1),–,–,33%\r\n"
    );
    let transfers = ali.get(&app, &table("stalls", "transfers")).await;
    assert_eq!(transfers.body, "From,To,Transfers\r\nPublic Works,Sanitation,1\r\nSanitation,Public Works,1\r\n");
    let held = ali.get(&app, &table("stalls", "departments")).await;
    assert_eq!(held.body, "Department,Requests,Median,90% within,Mean\r\nPublic Works,2,too few (2),–,–\r\n");
    let longest = ali.get(&app, &table("stalls", "longest")).await;
    assert_eq!(longest.body.lines().count(), 2, "C alone is open: {}", longest.body);
    assert!(longest.body.contains(&format!("Open,{c},Pothole,Public Works,6 d")), "{}", longest.body);
    let page = ali.get(&app, &format!("/staff/reports/stalls?{week}")).await;
    let figures = common::unescape(&page.body);
    assert!(figures.contains("<span class=\"label\">Transferred</span> <strong>1</strong>"), "as the API says");
    assert!(figures.contains("<strong>too few (2)</strong>"), "two closed are too few for a median, as on performance");
    assert!(!figures.contains("role=\"status\""), "nothing waits to be added to the totals");

    // When the requests came in: Friday 16:00, Tuesday 09:00, Wednesday 09:00.
    let hours = ali.get(&app, &table("demand", "hour-of-week")).await;
    let lines: Vec<&str> = hours.body.lines().collect();
    assert_eq!(lines[0], "Hour,Mon,Tue,Wed,Thu,Fri,Sat,Sun");
    assert_eq!(lines[10], "09:00,0,1,1,0,0,0,0");
    assert_eq!(lines[17], "16:00,0,0,0,0,1,0,0");
    let fax = ali.get(&app, &format!("/staff/reports/demand?{week}&channel=fax")).await;
    assert_eq!(fax.status, 400, "an unknown channel is named");
    assert!(common::unescape(&fax.body).contains("channel — 'fax' is not one of web"), "{}", fax.body);
    // C was filed at A's place the day after A was resolved: reported again.
    let again = ali.get(&app, &table("recurring", "reported-again")).await;
    let lines: Vec<&str> = again.body.lines().collect();
    assert_eq!((lines[0], lines.len()), ("Where,Category,Reported again", 2), "{}", again.body);
    assert!(lines[1].ends_with(",Pothole,1") && lines[1].contains("Ward 1"), "{}", again.body);
    let contacts = ali.get(&app, &table("recurring", "repeat-contacts")).await;
    assert!(contacts.body.contains("\r\nPublic Works,3,0,0,0%\r\n"), "{}", contacts.body);
    let bad = ali.get(&app, &table("recurring", "nope")).await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("hotspots, reported-again, escalations, repeat-contacts"), "{}", bad.body);

    // Only those who may see reports, and a supervisor only their own department.
    let mut sam = signed_in(&app, "sam").await;
    let mut pat = signed_in(&app, "pat").await;
    for page in ["stalls", "recurring", "demand"] {
        let own = sam.get(&app, &format!("/staff/reports/{page}?{week}")).await;
        assert_eq!(own.status, 200, "{page}: {}", own.body);
        let other = sam.get(&app, &format!("/staff/reports/{page}?{week}&department=PW")).await;
        assert_eq!(other.status, 403, "{page}");
        let refused = pat.get(&app, &format!("/staff/reports/{page}?{week}")).await;
        assert_eq!(refused.status, 403, "{page}");
        assert!(refused.body.contains("analysts, supervisors and administrators"), "{}", refused.body);
    }
    // Sanitation held C for an hour; Public Works' own times are not Sanitation's to see.
    let theirs = sam.get(&app, &table("stalls", "transfers")).await;
    assert_eq!(theirs.body, "From,To,Transfers\r\nPublic Works,Sanitation,1\r\nSanitation,Public Works,1\r\n");
    let theirs = sam.get(&app, &table("stalls", "statuses")).await;
    assert_eq!(theirs.body.lines().count(), 1, "none of Sanitation's closed: {}", theirs.body);
}
