//! The demo city's own rules do what its documentation says: safety keywords are
//! urgent, location and after-hours rules pick the right team, and every request has
//! an owner.

#![allow(clippy::unwrap_used)]

use std::process::Command;

use civic311_app::CityModel;
use civic311_app::intake::{RawRequest, prepare};
use civic311_domain::request::{Channel, Priority};
use civic311_testkit::{Backend, open_store, scratch_dir};

async fn riverton() -> CityModel {
    let dir = scratch_dir("civic311-riverton");
    let url = format!("sqlite://{}", dir.join("civic311.db").display());
    let out = Command::new(env!("CARGO_BIN_EXE_civic311"))
        .args(["demo", "--seed-only", "--requests", "0", "--database-url", &url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let city = CityModel::load(open_store(Backend::Sqlite, &url).await.as_ref()).await.unwrap();
    // The city is in memory now; these tests run outside `cleaning_up`.
    let _ = std::fs::remove_dir_all(&dir);
    city
}

/// Routes a request filed at `at` (UTC) and returns (department, team, priority, tags).
fn route(
    city: &CityModel,
    code: &str,
    text: &str,
    point: (f64, f64),
    answers: &[(&str, &str)],
    at: &str,
) -> (String, Option<String>, Priority, Vec<String>) {
    let mut raw = RawRequest {
        service_code: code.into(),
        description: text.into(),
        lat: Some(point.0.to_string()),
        long: Some(point.1.to_string()),
        ..RawRequest::default()
    };
    for (k, v) in answers {
        raw.answers.entry((*k).to_owned()).or_default().push((*v).to_owned());
    }
    let i = prepare(city, raw, Channel::Web, at.parse().unwrap(), "t".into()).map_err(|e| format!("{e:?}")).unwrap();
    let a = i.decision.assignment;
    (a.department, a.team, a.priority, a.tags)
}

/// A point in Ward 7 (south) and one in Ward 3 (north), from data/demo/wards.geojson.
const WARD_7: (f64, f64) = (40.15, -104.58);
const WARD_3: (f64, f64) = (40.28, -104.58);
/// Tuesday 2026-03-10 10:00 in Riverton (MDT, UTC-6).
const WEEKDAY_MORNING: &str = "2026-03-10T16:00:00Z";

#[tokio::test]
async fn safety_keywords_are_urgent() {
    let city = riverton().await;
    for text in [
        "There is a downed power line on my street",
        "The underpass is flooding again",
        "I smell gas near the corner",
        "A fallen branch is blocking traffic",
    ] {
        let (dept, _, priority, _) = route(&city, "OTHER", text, WARD_7, &[], WEEKDAY_MORNING);
        assert_eq!(priority, Priority::Urgent, "{text}");
        assert_eq!(dept, "TRIAGE", "keyword rules raise priority without taking ownership");
    }
    let (_, _, priority, _) = route(&city, "OTHER", "My gasoline bill is high", WARD_7, &[], WEEKDAY_MORNING);
    assert_eq!(priority, Priority::Normal, "whole words only");
}

#[tokio::test]
async fn location_attribute_and_after_hours_rules() {
    let city = riverton().await;
    let bulk = |p| route(&city, "BULK", "", p, &[("ITEMS", "a sofa")], WEEKDAY_MORNING);
    assert_eq!(bulk(WARD_3).1.as_deref(), Some("SAN-BULK"));
    assert!(bulk(WARD_3).3.contains(&"ward-3-bulk-route".to_string()));
    assert!(!bulk(WARD_7).3.contains(&"ward-3-bulk-route".to_string()));

    assert_eq!(
        route(&city, "POTHOLE", "", WARD_3, &[("SIZE", "small")], WEEKDAY_MORNING).1.as_deref(),
        Some("PW-NORTH")
    );
    let big = route(&city, "POTHOLE", "", WARD_7, &[("SIZE", "large"), ("LANE", "travel")], WEEKDAY_MORNING);
    assert_eq!((big.1.as_deref(), big.2), (Some("PW-SOUTH"), Priority::High));

    // A water main break at 22:00 local goes to the on-call crew; at 10:00 to the department.
    let night = route(&city, "WATERMAIN", "", WARD_7, &[], "2026-03-11T04:00:00Z");
    assert_eq!(night.1.as_deref(), Some("WATER-ONCALL"));
    assert_eq!(night.2, Priority::Urgent, "the after-hours rule's 'high' does not lower an urgent service");
    let sewer = route(&city, "SEWER", "", WARD_7, &[], "2026-03-11T04:00:00Z");
    assert_eq!(sewer.2, Priority::High);
    assert!(night.3.contains(&"after-hours".to_string()));
    let day = route(&city, "WATERMAIN", "", WARD_7, &[], WEEKDAY_MORNING);
    assert_eq!((day.0.as_str(), day.1.as_deref(), day.2), ("WATER", None, Priority::Urgent));

    let tree = route(&city, "TREE", "", WARD_7, &[("BLOCKING", "road")], WEEKDAY_MORNING);
    assert_eq!((tree.1.as_deref(), tree.2), (Some("PARKS-FORESTRY"), Priority::Urgent));
}

#[tokio::test]
async fn every_public_service_routes_to_an_existing_department() {
    let city = riverton().await;
    let departments: Vec<&str> = city.departments.iter().map(|d| d.code.as_str()).collect();
    let services: Vec<_> = city.public_services().cloned().collect();
    assert!(services.len() >= 34);
    for s in services {
        let mut answers: Vec<(String, String)> = s
            .attributes
            .iter()
            .filter(|a| a.required)
            .map(|a| (a.code.clone(), a.values.first().map_or("5".to_owned(), |v| v.key.clone())))
            .collect();
        // A service that requires an asset gets the one nearest the report.
        if let Some(used) = s.assets.as_ref().filter(|u| u.required) {
            let at = civic311_domain::geo::Point::new(WARD_7.0, WARD_7.1).unwrap();
            let near = city.assets.nearest(&used.types, at, 5_000.0).expect("an asset in the city");
            answers.push(("asset_id".into(), near.asset.id.clone()));
        }
        let answers: Vec<(&str, &str)> = answers.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let (dept, _, _, _) = route(&city, &s.code, "", WARD_7, &answers, WEEKDAY_MORNING);
        assert!(departments.contains(&dept.as_str()), "{} routed to unknown {dept}", s.code);
    }
}

#[tokio::test]
async fn every_demo_notice_promises_what_its_sla_gives_and_residents_read_it_in_spanish() {
    let city = riverton().await;
    for s in city.services() {
        let conflict = civic311_domain::workflow::notice_conflict(s, &city.workflow);
        assert_eq!(conflict, None, "{}", s.code);
        if s.is_public() {
            assert_eq!(s.missing_translations("es"), Vec::<String>::new(), "{} is not all in Spanish", s.code);
        }
    }
}
