//! A resident on a phone, in a real headless Chromium, opens a request that is past its
//! due time: it is marked delayed, with the new date the city gave and the date first
//! promised, in English and in Spanish, and the page passes the accessibility scan.

#![allow(clippy::unwrap_used)]

use civic311_testkit::browser::Browser;
use civic311_testkit::{Backend, both_backends};
use common::{file_pothole, setup};
use jiff::Timestamp;

use crate::common;

both_backends!(a_resident_sees_a_late_request_marked_delayed_with_its_new_date);

async fn a_resident_sees_a_late_request_marked_delayed_with_its_new_date(backend: Backend) {
    let app = setup(backend).await;
    // Filed Monday 09:00 with an 8-business-hour target on 08:00–17:00 days: due Monday
    // 17:00.
    app.set_now("2026-03-02T09:00:00-06:00");
    let id = file_pothole(&app).await;
    // The breach is swept Tuesday 09:01: the delay notice sets one more 8 business hours
    // from then, Wednesday 08:01.
    let breach: Timestamp = "2026-03-03T09:01:00-06:00".parse().unwrap();
    let model = app.state.city().workflow.clone();
    assert_eq!(civic311_jobs::sweep(&app.store, &model, breach, 100).await.unwrap().fired, 1);
    app.set_now("2026-03-03T12:00:00-06:00");
    let base = app.listen().await;
    let b = Browser::start(390, 844).await;
    let mut problems = Vec::new();
    let written = |lang: &str, at: &str| {
        let at: Timestamp = at.parse().unwrap();
        civic311_domain::i18n::datetime(civic311_domain::i18n::texts(lang), &at.to_zoned(app.state.city().tz.clone()))
    };
    assert_eq!(written("en", "2026-03-04T08:01:00-06:00"), "Wed 4 Mar 2026, 08:01");
    for (lang, delayed, now_expected, was) in [
        ("en", "Delayed", "Now expected by", "First expected by"),
        ("es", "Con retraso", "Ahora previsto para", "Previsto inicialmente para"),
    ] {
        let new_date = written(lang, "2026-03-04T08:01:00-06:00");
        let first_date = written(lang, "2026-03-02T17:00:00-06:00");
        b.goto(&format!("{base}/requests/{id}?lang={lang}")).await;
        let summary = b.text("section.card").await;
        for shown in [delayed, now_expected, was, &new_date, &first_date] {
            assert!(summary.contains(shown), "{lang}: '{shown}' in {summary}");
        }
        problems.extend(b.accessibility_problems().await.into_iter().map(|p| format!("{lang}: {p}")));
        b.screenshot(&format!("request-delayed-phone-{lang}-{backend:?}")).await;
    }
    b.close().await;
    assert!(problems.is_empty(), "accessibility problems: {problems:?}");
}
