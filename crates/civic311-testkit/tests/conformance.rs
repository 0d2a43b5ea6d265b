//! The store conformance suite: every test runs against SQLite and PostgreSQL.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use civic311_app::CityModel;
use civic311_app::intake::{RawRequest, prepare};
use civic311_app::tokens::new_token;
use civic311_domain::report::rollup::{BASE, Grain, SEP};
use civic311_domain::request::{Channel, EventKind, Media, Status};
use civic311_domain::routing::RuleSet;
use civic311_domain::signin::Lockout;
use civic311_store::{ConfigChange, ConfigWrite, Intake, RequestQuery, Session, SharedStore, StoreError};
use civic311_testkit::{Backend, both_backends, empty_store, fixture, fresh_database_url, open_store, seeded_store};
use jiff::{SignedDuration, Timestamp};

both_backends!(
    configuration_round_trips,
    requests_round_trip_with_events_and_media,
    listing_filters_and_orders,
    a_failing_unit_changes_nothing_and_others_commit,
    concurrent_intake_gets_distinct_ids,
    passwords_and_sessions,
    sign_in_attempts_are_counted_before_they_are_checked,
    workload_counts_open_requests_by_team_person_and_status,
    a_configuration_change_commits_only_at_the_version_it_was_checked_at,
    an_import_sets_indexes_aside_and_they_are_built_again_even_when_it_is_cut_off,
    a_rollup_cell_that_no_longer_counts_anything_is_removed,
);

fn t(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

async fn intake(store: &SharedStore, code: &str, text: &str, at: (f64, f64), now: Timestamp) -> Intake {
    let city = CityModel::load(store.as_ref()).await.expect("city");
    let mut raw = RawRequest {
        service_code: code.into(),
        description: text.into(),
        lat: Some(at.0.to_string()),
        long: Some(at.1.to_string()),
        ..RawRequest::default()
    };
    if code == "POTHOLE" {
        raw.answers.insert("SIZE".into(), vec!["large".into()]);
    }
    raw.contact.email = Some("resident@example.org".into());
    match prepare(&city, raw, Channel::Phone, now, new_token()) {
        Ok(i) => i,
        Err(e) => panic!("intake refused: {e:?}"),
    }
}

async fn configuration_round_trips(backend: Backend) {
    let store = empty_store(backend).await;
    assert_eq!(store.settings().await.unwrap(), None);
    fixture::seed(store.as_ref()).await;
    assert_eq!(store.settings().await.unwrap(), Some(fixture::settings()));
    assert_eq!(store.departments().await.unwrap().len(), 3);
    assert_eq!(store.teams().await.unwrap().len(), 2);
    assert_eq!(store.users().await.unwrap()[0].username, "pat");
    assert_eq!(store.services().await.unwrap(), fixture::services(), "services keep their order and every field");
    assert_eq!(store.rules().await.unwrap(), fixture::rules());
    assert_eq!(store.boundary_features().await.unwrap(), fixture::wards());
    assert!(store.api_keys().await.unwrap().iter().any(|k| k.key == fixture::API_KEY));
    assert!(!store.api_keys().await.unwrap().iter().any(|k| k.key == "nope"));
    assert_eq!(store.api_keys().await.unwrap().iter().map(|k| k.key.as_str()).collect::<Vec<_>>(), [fixture::API_KEY]);

    // Updating a service keeps its place; replacing a layer drops the old features.
    // Every configuration write moves the version other app nodes watch.
    let mut version = store.config_version().await.unwrap();
    let mut moved = async || {
        let now = store.config_version().await.unwrap();
        let grew = now > version;
        version = now;
        grew
    };
    let mut pothole = fixture::services()[0].clone();
    pothole.name = "Pothole or sinkhole".into();
    store.put_service(&pothole).await.unwrap();
    assert!(moved().await);
    let services = store.services().await.unwrap();
    assert_eq!(services[0].name, "Pothole or sinkhole");
    assert_eq!(services.len(), 4);
    store.replace_boundary_layer("wards", &fixture::wards()[..1]).await.unwrap();
    assert!(moved().await);
    assert_eq!(store.boundary_features().await.unwrap().len(), 1);
    store.put_rules(&RuleSet::default()).await.unwrap();
    assert!(moved().await);
    assert!(store.rules().await.unwrap().rules.is_empty());
    // A team in a department that does not exist is refused.
    let bad = civic311_domain::org::Team { code: "X".into(), department: "NOPE".into(), name: "X".into() };
    assert!(matches!(store.put_team(&bad).await, Err(StoreError::Conflict(_))));
}

async fn requests_round_trip_with_events_and_media(backend: Backend) {
    let store = seeded_store(backend).await;
    let now = t("2026-03-03T21:00:00.123456789Z");
    // Full-precision coordinates: every read path must give back the same f64.
    let mut i =
        intake(&store, "BULK", "Sofa on the curb, smells of gas", (41.012345678901234, -87.98765432109876), now).await;
    i.request.media.push(Media {
        content_type: "image/png".into(),
        bytes: vec![0x89, b'P', b'N', b'G', 1, 2, 3],
        public: true,
    });
    i.request.media.push(Media { content_type: "image/gif".into(), bytes: b"GIF89a".to_vec(), public: false });
    let created = store.create_request(i).await.unwrap();
    assert_eq!(created.status, Status::Open);
    assert_eq!(created.assignment.team.as_deref(), Some("SAN-BULK"));
    assert_eq!(created.assignment.priority.as_str(), "urgent");
    assert_eq!(created.areas, BTreeMap::from([("wards".to_string(), "W2".to_string())]));
    assert_eq!(created.requested_at, t("2026-03-03T21:00:00.123456Z"), "kept to the microsecond on both backends");

    let read = store.request(created.id.seq).await.unwrap().expect("stored");
    assert_eq!(read, created, "what was acknowledged is what is stored");
    assert_eq!(store.request_by_token(&created.token).await.unwrap().as_ref(), Some(&created));
    let listed = store
        .list_requests(&RequestQuery { ids: vec![created.id.seq], limit: 10, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(listed, vec![created.clone()], "a listing returns exactly what was stored");
    assert_eq!(read.contact.email.as_deref(), Some("resident@example.org"));
    let (media, service) = store.media(read.media_ids[0]).await.unwrap().expect("media");
    assert_eq!(service, "BULK");
    assert_eq!(media.bytes, vec![0x89, b'P', b'N', b'G', 1, 2, 3]);
    assert!(store.media(999_999).await.unwrap().is_none());
    // The request lists its public photo only; staff see both.
    assert_eq!(read.media_ids.len(), 1);
    let photos = store.photos(created.id.seq).await.unwrap();
    assert_eq!(
        photos.iter().map(|p| (p.content_type.as_str(), p.public)).collect::<Vec<_>>(),
        [("image/png", true), ("image/gif", false)]
    );
    assert!(!store.media(photos[1].id).await.unwrap().expect("internal media").0.public);

    let events = store.events(created.id.seq).await.unwrap();
    assert_eq!(events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), ["created", "routed"]);
    let routed = &events[1].data;
    assert_eq!(routed["owner_from"], "rule 'bulk items in ward 2'");
    assert_eq!(routed["priority_from"], "rule 'gas is urgent'");
    assert!(routed["rules"].as_array().unwrap().contains(&serde_json::json!("gas is urgent")), "{routed}");
    assert_eq!(store.count_requests().await.unwrap(), 1);
}

async fn listing_filters_and_orders(backend: Backend) {
    let store = seeded_store(backend).await;
    let base = t("2026-03-01T12:00:00Z");
    let mut batch = Vec::new();
    for n in 0..30i64 {
        let code = ["POTHOLE", "GRAFFITI", "BULK"][(n % 3) as usize];
        let at = if n % 2 == 0 { fixture::IN_W1 } else { fixture::IN_W2 };
        let when = base + SignedDuration::from_hours(n);
        let mut i = intake(&store, code, &format!("report {n}"), at, when).await;
        if n % 5 == 0 {
            i.closed = Some((when + SignedDuration::from_hours(100), "Fixed".into()));
        }
        batch.push(i);
    }
    assert_eq!(store.import_requests(batch).await.unwrap(), 30);
    let all = |q: RequestQuery| RequestQuery { limit: 1000, ..q };
    let list = |q| {
        let store = store.clone();
        async move {
            let q = all(q);
            let found = store.list_requests(&q).await.unwrap();
            assert_eq!(store.count_matching(&q).await.unwrap(), found.len() as i64, "counted as listed: {q:?}");
            found
        }
    };

    let everything = list(RequestQuery::default()).await;
    assert_eq!(everything.len(), 30);
    assert!(everything.windows(2).all(|w| w[0].requested_at >= w[1].requested_at), "newest first");

    let potholes = list(RequestQuery { service_codes: vec!["POTHOLE".into()], ..Default::default() }).await;
    assert_eq!(potholes.len(), 10);
    assert!(potholes.iter().all(|r| r.service_code == "POTHOLE"));
    let not_bulk = list(RequestQuery { exclude_services: vec!["BULK".into()], ..Default::default() }).await;
    assert_eq!(not_bulk.len(), 20);

    let closed = list(RequestQuery { statuses: Status::from_open311("closed").unwrap(), ..Default::default() }).await;
    assert_eq!(closed.len(), 6);
    assert!(closed.iter().all(|r| r.closed_at.is_some() && r.status_notes.as_deref() == Some("Fixed")));

    let window = list(RequestQuery {
        requested_from: Some(base + SignedDuration::from_hours(10)),
        requested_to: Some(base + SignedDuration::from_hours(19)),
        ..Default::default()
    })
    .await;
    assert_eq!(window.len(), 10, "both ends inclusive");
    let updated =
        list(RequestQuery { updated_from: Some(base + SignedDuration::from_hours(100)), ..Default::default() }).await;
    assert_eq!(updated.len(), 6, "only the closed ones were updated that late");

    let near_w1 = list(RequestQuery {
        near: Some((civic311_domain::geo::Point::new(fixture::IN_W1.0, fixture::IN_W1.1).unwrap(), 100.0)),
        ..Default::default()
    })
    .await;
    assert_eq!(near_w1.len(), 15);
    let bbox = list(RequestQuery { bbox: Some([-88.0, 41.0, -87.98, 41.02]), ..Default::default() }).await;
    assert_eq!(bbox.len(), 15);
    assert!(bbox.iter().all(|r| r.areas.get("wards").map(String::as_str) == Some("W2")));

    let closed_ids: Vec<i64> = closed.iter().map(|r| r.id.seq).collect();
    let history = store.events_of(&closed_ids, &[EventKind::StatusChanged]).await.unwrap();
    assert_eq!(history.len(), 6, "one closing event each, and only the kinds asked for");
    assert!(history.iter().all(|(id, e)| closed_ids.contains(id) && e.data["note"] == "Fixed"));
    assert!(store.events_of(&[], &[EventKind::Created]).await.unwrap().is_empty());

    let ids = vec![everything[0].id.seq, everything[3].id.seq, 999_999];
    assert_eq!(list(RequestQuery { ids, ..Default::default() }).await.len(), 2);

    let page2 = store.list_requests(&RequestQuery { limit: 7, offset: 7, ..Default::default() }).await.unwrap();
    assert_eq!(
        page2.iter().map(|r| r.id).collect::<Vec<_>>(),
        everything[7..14].iter().map(|r| r.id).collect::<Vec<_>>()
    );
    let past_end = store.list_requests(&RequestQuery { limit: 7, offset: 700, ..Default::default() }).await.unwrap();
    assert!(past_end.is_empty());
    let cursor = RequestQuery { limit: 7, after: Some((i64::MAX, i64::MAX)), ..Default::default() };
    assert_eq!(store.count_matching(&cursor).await.unwrap(), 30, "a count ignores the page and cursor");
}

async fn a_failing_unit_changes_nothing_and_others_commit(backend: Backend) {
    let store = seeded_store(backend).await;
    let now = t("2026-03-03T21:00:00Z");
    let mut bad = intake(&store, "POTHOLE", "bad owner", fixture::IN_W1, now).await;
    bad.decision.assignment.department = "NO-SUCH-DEPARTMENT".into();
    let good = intake(&store, "POTHOLE", "fine", fixture::IN_W1, now).await;
    let (a, b) = tokio::join!(store.create_request(bad), store.create_request(good));
    assert!(matches!(a, Err(StoreError::Conflict(_))), "{a:?}");
    let b = b.expect("the good request commits");
    assert_eq!(store.count_requests().await.unwrap(), 1);
    let events = store.events(b.id.seq).await.unwrap();
    assert_eq!(events.len(), 2, "no event of the failed unit survives");
    // Reusing a token is a conflict and leaves nothing behind.
    let mut dup = intake(&store, "POTHOLE", "dup", fixture::IN_W1, now).await;
    dup.token = b.token.clone();
    assert!(matches!(store.create_request(dup).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.count_requests().await.unwrap(), 1);
}

async fn concurrent_intake_gets_distinct_ids(backend: Backend) {
    // Many requests at once (SQLite writes them in shared commits), a few of them bad:
    // the bad ones are refused alone and every good one is stored exactly once.
    let store = seeded_store(backend).await;
    let now = t("2026-03-03T21:00:00Z");
    let mut handles = Vec::new();
    for n in 0..64 {
        let mut i = intake(&store, "POTHOLE", &format!("hole {n}"), fixture::IN_W1, now).await;
        if n % 16 == 5 {
            i.decision.assignment.department = "NO-SUCH-DEPARTMENT".into();
        }
        let s = store.clone();
        handles.push(tokio::spawn(async move { s.create_request(i).await }));
    }
    let mut ids = Vec::new();
    for (n, h) in handles.into_iter().enumerate() {
        match h.await.unwrap() {
            Ok(r) => {
                assert_ne!(n % 16, 5, "a bad request was accepted");
                assert_eq!(store.request(r.id.seq).await.unwrap().unwrap().description, format!("hole {n}"));
                ids.push(r.id.seq);
            }
            Err(e) => {
                assert_eq!(n % 16, 5, "a good request was refused: {e}");
                assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");
            }
        }
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 60);
    assert_eq!(store.count_requests().await.unwrap(), 60);
}

async fn passwords_and_sessions(backend: Backend) {
    let store = seeded_store(backend).await;
    let now = t("2026-03-03T21:00:00Z");
    assert_eq!(store.credentials("pat").await.unwrap(), None, "no password until one is set");
    store.set_password("pat", "$argon2id$first").await.unwrap();
    assert_eq!(store.credentials("pat").await.unwrap().expect("credentials").password_hash, "$argon2id$first");

    let session = Session {
        token_hash: "h1".into(),
        username: "pat".into(),
        csrf: "c1".into(),
        created_at: now,
        expires_at: t("2026-03-04T09:00:00Z"),
    };
    store.create_session(&session).await.unwrap();
    let (found, user) = store.session("h1", now).await.unwrap().expect("live session");
    assert_eq!((found, user.username.as_str()), (session.clone(), "pat"));
    assert!(store.session("h1", t("2026-03-04T09:00:00Z")).await.unwrap().is_none(), "expired");
    assert!(store.session("nope", now).await.unwrap().is_none());
    store.end_session("h1").await.unwrap();
    assert!(store.session("h1", now).await.unwrap().is_none(), "signed out");

    // A new password ends every session and forgets the failed sign-ins.
    store.create_session(&Session { token_hash: "h2".into(), ..session }).await.unwrap();
    let one = Lockout { free: 1 };
    assert_eq!(store.claim_sign_in("pat", "192.0.2.1", one, now).await.unwrap(), Ok(()));
    assert!(store.claim_sign_in("pat", "192.0.2.1", one, now).await.unwrap().is_err());
    store.set_password("pat", "$argon2id$second").await.unwrap();
    assert!(store.session("h2", now).await.unwrap().is_none());
    assert_eq!(store.credentials("pat").await.unwrap().expect("credentials").password_hash, "$argon2id$second");
    assert_eq!(store.claim_sign_in("pat", "192.0.2.1", one, now).await.unwrap(), Ok(()));
}

async fn sign_in_attempts_are_counted_before_they_are_checked(backend: Backend) {
    let store = seeded_store(backend).await;
    let now = t("2026-03-03T21:00:00Z");
    let lockout = Lockout { free: 5 };
    // Thirty guesses at once, as one name from one address: five are let through.
    let mut guesses = tokio::task::JoinSet::new();
    for _ in 0..30 {
        let store = store.clone();
        guesses.spawn(async move { store.claim_sign_in("nobody", "192.0.2.1", lockout, now).await.unwrap() });
    }
    let outcomes = guesses.join_all().await;
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 5, "{outcomes:?}");
    let until = t("2026-03-03T21:00:30Z");
    assert!(outcomes.iter().all(|o| o.is_ok() || *o == Err(until)), "{outcomes:?}");
    // Another address, and the same address once the wait is over, may try again.
    assert_eq!(store.claim_sign_in("nobody", "192.0.2.2", lockout, now).await.unwrap(), Ok(()));
    assert_eq!(store.claim_sign_in("nobody", "192.0.2.1", lockout, until).await.unwrap(), Ok(()));
    assert_eq!(
        store.claim_sign_in("nobody", "192.0.2.1", lockout, until).await.unwrap(),
        Err(t("2026-03-03T21:01:30Z")),
        "the next wait is twice as long"
    );
    store.clear_sign_ins("nobody", Some("192.0.2.1")).await.unwrap();
    assert_eq!(store.claim_sign_in("nobody", "192.0.2.1", lockout, until).await.unwrap(), Ok(()));
}

async fn workload_counts_open_requests_by_team_person_and_status(backend: Backend) {
    let store = seeded_store(backend).await;
    let now = t("2026-03-03T21:00:00Z");
    let w1 = (41.01, -88.01);
    let w2 = (41.01, -87.99);
    for (code, at) in [("POTHOLE", w1), ("POTHOLE", w2), ("BULK", w2)] {
        let i = intake(&store, code, "something", at, now).await;
        store.create_request(i).await.unwrap();
    }
    let all = store.workload(&["PW".into(), "SAN".into()], now).await.unwrap();
    assert_eq!(all.iter().map(|w| w.open).sum::<i64>(), 3);
    let pw: Vec<_> = store.workload(&["PW".into()], now).await.unwrap();
    assert_eq!(pw.iter().map(|w| w.open).sum::<i64>(), 2);
    assert!(pw.iter().all(|w| w.status == Status::Open && w.oldest == now));
    let bulk = all.iter().find(|w| w.team.as_deref() == Some("SAN-BULK")).expect("the bulk team's row");
    assert_eq!((bulk.open, bulk.overdue), (1, 0));
    assert!(store.workload(&[], now).await.unwrap().is_empty());
}

async fn a_configuration_change_commits_only_at_the_version_it_was_checked_at(backend: Backend) {
    let store = seeded_store(backend).await;
    let now = t("2026-03-03T21:00:00Z");
    let base = store.departments().await.unwrap().remove(0);
    let department = |name: &str| {
        let mut d = base.clone();
        d.name = name.into();
        d
    };
    let change = |name: &str| {
        let audit = ConfigChange {
            at: now,
            actor: "ada".into(),
            kind: "department".into(),
            item: department(name).code,
            body: serde_json::json!({ "name": name }),
        };
        (vec![ConfigWrite::Department(department(name))], audit)
    };
    let audited = store.config_changes(100).await.unwrap().len();
    let checked_at = store.config_version().await.unwrap();

    // Two changes checked against the same version, committed at once: exactly one
    // lands, with its audit entry; the other writes nothing.
    let ((w1, a1), (w2, a2)) = (change("First"), change("Second"));
    let (one, two) = tokio::join!(store.change_config(checked_at, w1, a1), store.change_config(checked_at, w2, a2));
    let (one, two) = (one.unwrap(), two.unwrap());
    assert_eq!([one, two].iter().filter(|v| v.is_some()).count(), 1, "{one:?} {two:?}");
    assert_eq!(one.or(two), Some(checked_at + 1));
    assert_eq!(store.config_version().await.unwrap(), checked_at + 1);
    let winner = if one.is_some() { "First" } else { "Second" };
    let stored = store.departments().await.unwrap();
    assert_eq!(stored.iter().find(|d| d.code == department(winner).code).unwrap().name, winner);
    let log = store.config_changes(100).await.unwrap();
    assert_eq!(log.len(), audited + 1, "only the change that landed is audited");
    assert_eq!(log[0].body["name"], winner);

    // A change checked before the winner landed is refused afterwards too.
    let (w, a) = change("Late");
    assert_eq!(store.change_config(checked_at, w, a).await.unwrap(), None);
    assert_eq!(store.config_changes(100).await.unwrap().len(), audited + 1);
    let (w, a) = change("Current");
    assert_eq!(store.change_config(checked_at + 1, w, a).await.unwrap(), Some(checked_at + 2));
}

async fn an_import_sets_indexes_aside_and_they_are_built_again_even_when_it_is_cut_off(backend: Backend) {
    let url = fresh_database_url(backend).await;
    let store = open_store(backend, &url).await;
    fixture::seed(store.as_ref()).await;
    let parked = store.park_indexes(100).await.unwrap();
    assert!(parked >= 8, "the requests' and events' secondary indexes are set aside: {parked}");
    assert_eq!(store.park_indexes(100).await.unwrap(), 0, "nothing is set aside twice");
    if backend == Backend::Sqlite {
        // SQLite keeps its partial indexes (over open requests, over escalations), which
        // a history mostly closed hardly adds to, and sets the others aside.
        let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url).await.unwrap();
        for (index, there) in [("requests_open_by_age", 1), ("events_escalated", 1), ("requests_department", 0)] {
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?")
                .bind(index)
                .fetch_one(&mut conn)
                .await
                .unwrap();
            assert_eq!(n, there, "{index}");
        }
    }

    // Requests written and read meanwhile are stored and found as always.
    let base = t("2026-03-01T12:00:00Z");
    let mut batch = Vec::new();
    for n in 0..30i64 {
        let code = ["POTHOLE", "GRAFFITI", "BULK"][(n % 3) as usize];
        batch.push(
            intake(&store, code, &format!("report {n}"), fixture::IN_W1, base + SignedDuration::from_hours(n)).await,
        );
    }
    assert_eq!(store.import_requests(batch).await.unwrap(), 30);
    let potholes = RequestQuery { service_codes: vec!["POTHOLE".into()], limit: 100, ..Default::default() };
    assert_eq!(store.list_requests(&potholes).await.unwrap().len(), 10);

    // Cut off here: the next opening of the store builds everything again.
    drop(store);
    let store = open_store(backend, &url).await;
    assert_eq!(store.restore_indexes().await.unwrap(), 0, "already built when the store opened");
    assert_eq!(store.list_requests(&potholes).await.unwrap().len(), 10);
    // The staff search finds what was written meanwhile, and what is written after.
    let search = |text: &str| civic311_store::StaffSearch::parse(text);
    assert_eq!(store.search_requests(&search("report "), 100).await.unwrap().len(), 30);
    let later = intake(&store, "POTHOLE", "crater after the import", fixture::IN_W1, base).await;
    store.create_request(later).await.unwrap();
    assert_eq!(store.search_requests(&search("crater "), 10).await.unwrap().len(), 1);
    assert_eq!(store.park_indexes(100).await.unwrap(), parked, "every index and key set aside is back");
    assert_eq!(store.restore_indexes().await.unwrap(), parked);
    // A city holding as many requests as the limit keeps its indexes.
    assert_eq!(store.park_indexes(31).await.unwrap(), 0);
    assert_eq!(store.park_indexes(32).await.unwrap(), parked);
    assert_eq!(store.restore_indexes().await.unwrap(), parked);

    // Settling after the import: SQLite's log is moved into the database file and
    // emptied; PostgreSQL's planner has counted the requests.
    store.settle().await.unwrap();
    match backend {
        Backend::Sqlite => {
            let log = format!("{}-wal", url.trim_start_matches("sqlite://"));
            let size = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
            assert_eq!(size, 0, "the write-ahead log is empty after settling");
        }
        Backend::Postgres => {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url).await.unwrap();
            // (Building an index also counts a table's rows; only ANALYZE stamps it.)
            let analyzed: Option<bool> = sqlx::query_scalar(
                "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'requests'",
            )
            .fetch_optional(&mut conn)
            .await
            .unwrap();
            assert_eq!(analyzed, Some(true), "the requests' statistics are gathered");
        }
    }
    assert_eq!(store.list_requests(&potholes).await.unwrap().len(), 11, "settling changes nothing stored");
}

/// The departments named by the base cube's cells of `grain` over the days stored.
async fn departments_in_cells(store: &SharedStore, grain: Grain) -> Vec<String> {
    let (first, last) = store.report_days(BASE).await.unwrap().expect("day cells");
    let starts: Vec<i32> = if grain == Grain::All { vec![i32::MIN] } else { (first..=last).collect() };
    let mut departments: Vec<String> = store
        .report_cells(BASE, grain, &starts)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, dims, _)| dims.split(SEP).nth(1).expect("a department in the key").to_owned())
        .collect();
    departments.sort_unstable();
    departments.dedup();
    departments
}

async fn a_rollup_cell_that_no_longer_counts_anything_is_removed(backend: Backend) {
    let store = seeded_store(backend).await;
    let city = std::sync::Arc::new(CityModel::load(store.as_ref()).await.expect("city"));
    let now = t("2026-03-03T21:00:00Z");
    let created = store.create_request(intake(&store, "POTHOLE", "deep", fixture::IN_W1, now).await).await.unwrap();
    let rollup = civic311_app::rollup::rollup(city);
    assert_eq!(store.drain_reports(100, rollup.clone()).await.unwrap(), 1);
    let first = created.assignment.department.clone();
    for grain in [Grain::Day, Grain::All] {
        assert_eq!(departments_in_cells(&store, grain).await, vec![first.clone()], "{grain:?}");
    }

    // Moved to another department, the request leaves its old cells empty: they go.
    let mut moved = created.clone();
    moved.assignment.department = "SAN".into();
    assert_ne!(first, "SAN");
    store.commit(vec![civic311_store::RequestUpdate::new(moved)]).await.unwrap();
    assert_eq!(store.drain_reports(100, rollup).await.unwrap(), 1);
    for grain in [Grain::Day, Grain::All] {
        assert_eq!(departments_in_cells(&store, grain).await, vec!["SAN".to_owned()], "{grain:?}");
    }
}
