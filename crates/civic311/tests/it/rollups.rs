//! The report rollups answer exactly what the requests themselves answer: over the demo
//! city's invented history (thousands of requests, closed late and early, reopened,
//! transferred, merged), each report read from the cells equals the one computed from
//! every request and its events — counts exactly, times to close exactly while a row's
//! cells hold every value and within 0.5% beyond. The flow cubes (time per status and
//! department, demand by hour, grid squares) add up to the same requests.

#![allow(clippy::unwrap_used)]

use civic311_app::App;
use civic311_app::reports::{Measures, Report, ReportQuery, exact, from_rollups, tally};
use civic311_domain::report::{Spread, rollup};
use civic311_testkit::{Backend, both_backends, open_store};

both_backends!(reports_from_the_rollups_equal_reports_from_the_requests);

/// A report to compare: what it is, its parameters, and the departments it may see.
type Case = (String, Vec<(&'static str, String)>, Option<Vec<String>>);

fn close(a: Option<Spread>, b: Option<Spread>, what: &str) {
    match (a, b) {
        (None, None) => {}
        (Some(a), Some(b)) => {
            for (x, y, name) in [(a.median, b.median, "median"), (a.p90, b.p90, "p90"), (a.mean, b.mean, "mean")] {
                let err = if y == 0.0 { x.abs() } else { ((x - y) / y).abs() };
                assert!(err <= 0.005 + 1e-9, "{what} {name}: {x} from the rollups, {y} exactly");
            }
        }
        _ => panic!("{what}: {a:?} from the rollups, {b:?} exactly"),
    }
}

fn same(a: &Measures, b: &Measures, what: &str) {
    let counts = |m: &Measures| {
        (
            m.opened,
            m.closed,
            m.open_at_end,
            m.met,
            m.missed,
            m.open_past_due_at_end,
            m.duplicates,
            m.transfers,
            m.reopened,
            m.rating_count,
        )
    };
    assert_eq!(counts(a), counts(b), "{what}");
    close(a.hours_to_close, b.hours_to_close, &format!("{what} hours"));
    close(a.business_hours_to_close, b.business_hours_to_close, &format!("{what} business hours"));
    match (a.rating_mean, b.rating_mean) {
        (Some(x), Some(y)) => assert!((x - y).abs() < 1e-9, "{what} rating"),
        (x, y) => assert_eq!(x, y, "{what} rating"),
    }
}

fn compare(cells: &Report, requests: &Report, what: &str) {
    same(&cells.total, &requests.total, &format!("{what}: total"));
    let keys = |r: &Report| r.rows.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    assert_eq!(keys(cells), keys(requests), "{what}: the same rows");
    for ((key, a), (_, b)) in cells.rows.iter().zip(&requests.rows) {
        same(a, b, &format!("{what}: {key:?}"));
    }
}

async fn reports_from_the_rollups_equal_reports_from_the_requests(backend: Backend) {
    let url = crate::common::seeded_demo(backend, 3000).await;
    let store = open_store(backend, &url).await;
    let app = App::load(store, civic311_app::system_clock(), None, civic311_codecs::codecs()).await.unwrap();
    assert_eq!(app.store.reports_pending().await.unwrap(), 3000, "every seeded request is queued");
    civic311_app::rollup::drain(&app, 100_000).await.unwrap();
    assert_eq!(app.store.reports_pending().await.unwrap(), 0);

    let city = app.city();
    let today = (app.clock)().to_zoned(city.tz.clone()).date();
    let back = |days: i64| today.checked_sub(jiff::Span::new().days(days)).unwrap().to_string();
    let layer = city.boundaries.layers()[0].clone();
    let cases: Vec<Case> = vec![
        ("two years".into(), vec![("from", back(730)), ("to", today.to_string())], None),
        ("by month".into(), vec![("from", back(400)), ("to", today.to_string()), ("group_by", "month".into())], None),
        (
            "by week and department".into(),
            vec![("from", back(120)), ("to", back(10)), ("group_by", "week,department".into())],
            None,
        ),
        (
            "by service and area".into(),
            vec![("from", back(365)), ("to", today.to_string()), ("group_by", format!("service_code,layer:{layer}"))],
            None,
        ),
        (
            "potholes by day".into(),
            vec![
                ("from", back(45)),
                ("to", today.to_string()),
                ("group_by", "day".into()),
                ("service_code", "POTHOLE".into()),
            ],
            None,
        ),
        (
            "by channel and priority".into(),
            vec![("from", back(200)), ("to", back(100)), ("group_by", "channel,priority".into())],
            None,
        ),
        (
            "a year ago, by team".into(),
            vec![("from", back(500)), ("to", back(400)), ("group_by", "team,group".into())],
            None,
        ),
        (
            "one department's own".into(),
            vec![("from", back(90)), ("to", today.to_string()), ("group_by", "service_code".into())],
            Some(vec![city.departments[1].code.clone()]),
        ),
    ];
    for (what, params, departments) in cases {
        let params: Vec<(String, String)> = params.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let q = ReportQuery::parse(&params, &city).unwrap();
        let cells = from_rollups(&app, q.clone(), departments.clone()).await.unwrap().expect("a cube answers it");
        let requests = exact(&app, q, departments).await.unwrap();
        assert!(requests.total.opened + requests.total.open_at_end > 0, "{what}: something to compare");
        compare(&cells, &requests, &what);
    }

    // The flow cubes add up to the same: every request filed once by hour of the week
    // and once by grid square; the time in each status, and with each department, adds
    // up to each closed request's time to close.
    let q = ReportQuery::parse(&[("from".into(), back(365)), ("to".into(), today.to_string())], &city).unwrap();
    let requests = exact(&app, q.clone(), None).await.unwrap().total;
    let period = (q.from, q.to);
    let all = |_: &[&str]| true;
    let total = |cube: &'static str| {
        let app = &app;
        async move {
            let read = tally::read(app, cube, period, &all, false).await.unwrap();
            read.values().fold((0i64, 0.0f64), |(n, h), t| (n + t.counts.opened, h + t.counts.hours_sum))
        }
    };
    assert_eq!(total(rollup::HOUR_OF_WEEK).await.0, i64::try_from(requests.opened).unwrap(), "by hour of the week");
    assert_eq!(total(rollup::GRID).await.0, i64::try_from(requests.opened).unwrap(), "by grid square");
    let every: Vec<String> = city.departments.iter().map(|d| d.code.clone()).collect();
    for cube in [rollup::HOUR_OF_WEEK, rollup::GRID] {
        let city_wide = tally::read_by_department(&app, cube, period, None).await.unwrap();
        let by_department = tally::read_by_department(&app, cube, period, Some(&every)).await.unwrap();
        let counts = |t: &tally::Tallies| t.iter().map(|(k, t)| (k.clone(), t.counts.opened)).collect::<Vec<_>>();
        assert_eq!(counts(&by_department), counts(&city_wide), "{cube}: the departments' copies add up to the city's");
    }
    let hours = requests.hours_to_close.unwrap().mean * requests.closed as f64;
    for cube in [rollup::STATUS_TIME, rollup::DEPARTMENT_TIME] {
        let (_, sum) = total(cube).await;
        assert!((sum - hours).abs() / hours < 1e-9, "{cube}: {sum} hours against {hours} to close");
    }
    let moved = total(rollup::TRANSFERS).await.0;
    assert!(moved >= i64::try_from(requests.transfers).unwrap() && moved > 0, "the demo's past has transfers");
}
