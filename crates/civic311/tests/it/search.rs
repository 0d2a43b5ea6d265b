//! The staff search in every header: a request found by its number (with or without
//! its dash and year), a caller's phone or email, an address, a name and words of its
//! description, from each database's full-text index; the caller's other requests on
//! the request page; and the search for signed-in staff only.

#![allow(clippy::unwrap_used)]

use civic311_store::StaffSearch;
use civic311_testkit::fixture::{IN_W1, IN_W2};
use civic311_testkit::{Backend, TestApp, both_backends};
use common::{Browser, PASSWORD, post_pothole, set_password, setup};

use crate::common;

both_backends!(
    staff_find_a_request_by_every_kind_of_key,
    a_request_stays_findable_as_it_is_worked_and_closed,
    the_search_is_for_signed_in_staff_only,
    words_are_found_newest_first_among_recent_and_older_requests
);

/// Files a pothole from `who` (first, last, phone, email) at `address`; its number.
async fn file(app: &TestApp, at: (f64, f64), description: &str, who: [&str; 4], address: &str) -> String {
    let [first, last, phone, email] = who;
    let extra = [
        ("first_name", first),
        ("last_name", last),
        ("phone", phone),
        ("email", email),
        ("address_string", address),
        ("attribute[SIZE]", "small"),
    ];
    let r = post_pothole(app, at, description, &extra).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()[0]["service_request_id"].as_str().unwrap().to_owned()
}

/// The request numbers a store search finds for `text`, in the order found.
async fn found(app: &TestApp, text: &str) -> Vec<String> {
    let found = app.store.search_requests(&StaffSearch::parse(text), 50).await.unwrap();
    found.iter().map(|r| r.id.to_string()).collect()
}

const MARIA: [&str; 4] = ["María", "López", "(303) 555-0142", "Maria.Lopez@example.test"];
const JOHN: [&str; 4] = ["John", "Okafor", "+1 720 555 0199", "john@example.test"];

async fn staff_find_a_request_by_every_kind_of_key(backend: Backend) {
    let app = setup(backend).await;
    let first = file(&app, IN_W1, "Deep pothole by the bus stop", MARIA, "120 Oak St").await;
    let other = file(&app, IN_W2, "Crater swallowing bicycle wheels", JOHN, "45 Elm Ave").await;
    let again = file(&app, IN_W2, "Another hole, near the school", MARIA, "9 Birch Rd").await;
    let seq: i64 = first.split_once('-').unwrap().1.parse().unwrap();
    let year = first.split_once('-').unwrap().0;

    // A request number with its dash, without it, and without its year.
    assert_eq!(found(&app, &first).await[0], first);
    assert_eq!(found(&app, &format!("{year}{seq:06}")).await[0], first);
    assert_eq!(found(&app, &seq.to_string()).await[0], first);
    // The caller's phone, typed any way, with or without the country and area codes.
    for phone in ["303-555-0142", "3035550142", "+1 (303) 555 0142", "555-0142"] {
        assert_eq!(found(&app, phone).await, [again.as_str(), first.as_str()], "{phone}");
    }
    // Their email in any case: newest first.
    assert_eq!(found(&app, "maria.lopez@EXAMPLE.test").await, [again.as_str(), first.as_str()]);
    // A name, accents or not; an address; words of the description, the last one
    // still being typed.
    assert_eq!(found(&app, "lopez").await, [again.as_str(), first.as_str()]);
    assert_eq!(found(&app, "María López").await, [again.as_str(), first.as_str()]);
    assert_eq!(found(&app, "okafor").await, [other.as_str()]);
    assert_eq!(found(&app, "120 Oak St").await, [first.as_str()]);
    assert_eq!(found(&app, "45 elm").await, [other.as_str()]);
    assert_eq!(found(&app, "bicycle whe").await, [other.as_str()]);
    assert_eq!(found(&app, "pothole bus").await, [first.as_str()]);
    assert!(found(&app, "pothole school").await.is_empty(), "every word must match");
    assert!(found(&app, "nowhere@example.test").await.is_empty());

    // In the browser: the header's search box, a number opening its request at once,
    // and the request page listing the caller's other requests.
    set_password(&app, "pat", PASSWORD).await;
    let mut browser = Browser::default();
    browser.sign_in(&app, "pat", PASSWORD, "/staff").await;
    let queue = browser.get(&app, "/staff").await;
    assert!(queue.body.contains("action=\"/staff/search\""), "the header has the search box: {}", queue.body);
    let r = browser.get(&app, &format!("/staff/search?q={seq}")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.headers["location"], format!("/staff/requests/{first}"));
    let page = browser.get(&app, &format!("/staff/requests/{first}")).await;
    let others = page.body.split("Other requests from this caller").nth(1).expect("the caller's other requests");
    assert!(others.contains(&again) && !others.contains(&other), "{others}");
    let list = browser.get(&app, "/staff/search?q=L%C3%B3pez").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains(&first) && list.body.contains(&again) && !list.body.contains(&other));
    assert!(list.body.contains("120 Oak St"), "where it is, by its address");
    let none = browser.get(&app, "/staff/search?q=zzzz").await;
    assert!(none.body.contains("Nothing found"), "{}", none.body);
}

async fn a_request_stays_findable_as_it_is_worked_and_closed(backend: Backend) {
    let app = setup(backend).await;
    let id = file(&app, IN_W1, "Sinkhole opening under the kerb", JOHN, "45 Elm Ave").await;
    let seq: i64 = id.split_once('-').unwrap().1.parse().unwrap();
    let mut r = app.store.request(seq).await.unwrap().unwrap();
    r.status = civic311_domain::request::Status::Closed;
    r.assignment.assignee = Some("pat".into());
    app.store.commit(vec![civic311_store::RequestUpdate::new(r)]).await.unwrap();
    assert_eq!(found(&app, "sinkhole").await, [id.as_str()]);
    assert_eq!(found(&app, "okafor elm").await, [id.as_str()]);
    assert_eq!(found(&app, "720 555 0199").await, [id.as_str()]);
}

async fn the_search_is_for_signed_in_staff_only(backend: Backend) {
    let app = setup(backend).await;
    file(&app, IN_W1, "Pothole", MARIA, "120 Oak St").await;
    let r = Browser::default().get(&app, "/staff/search?q=lopez").await;
    assert_eq!(r.status, 303, "signed out, the search sends you to sign in");
    assert!(r.headers["location"].to_str().unwrap().starts_with("/staff/sign-in"));
    assert!(!r.body.contains("López"));
    // Residents have no such search: the portal's lookup takes a tracking number only.
    let r = app.get("/requests?q=lopez").await;
    assert!(!r.body.contains("López"), "{}", r.body);
}

async fn words_are_found_newest_first_among_recent_and_older_requests(backend: Backend) {
    let app = setup(backend).await;
    // Six requests, "gravel" in the first, the fourth and the last: with one or two
    // requests tried first on PostgreSQL, some are found among the newest and the rest
    // among the older ones.
    let mut filed = Vec::new();
    for i in 0..6 {
        let text = if [0, 3, 5].contains(&i) { "Gravel washed out" } else { "Pothole" };
        filed.push(file(&app, IN_W1, text, JOHN, "45 Elm Ave").await);
    }
    let gravel = [filed[5].as_str(), filed[3].as_str(), filed[0].as_str()];
    // However many are tried first (SQLite's index needs no such steps), the same
    // requests come back, newest first.
    for recent in [0, 1, 2, 3, 20_000] {
        let search = StaffSearch { recent, ..StaffSearch::parse("gravel") };
        let found = app.store.search_requests(&search, 50).await.unwrap();
        assert_eq!(found.iter().map(|r| r.id.to_string()).collect::<Vec<_>>(), gravel, "recent {recent}");
        let found = app.store.search_requests(&search, 2).await.unwrap();
        assert_eq!(found.iter().map(|r| r.id.to_string()).collect::<Vec<_>>(), gravel[..2], "recent {recent}");
    }
}
