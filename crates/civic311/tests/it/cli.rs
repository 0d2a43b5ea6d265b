//! The `civic311` binary end to end: the demo city, durability of acknowledged
//! requests across a crash, and configuration import/export, on both backends.

#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use civic311_store::SharedStore;
use civic311_testkit::{Backend, both_backends, fresh_database_url, open_store};

both_backends!(
    demo_seeds_a_whole_city_once,
    acknowledged_requests_survive_a_crash,
    rules_and_boundaries_import_and_export,
    a_city_imports_from_its_files_into_an_empty_database_only,
    address_files_import_whole_or_not_at_all,
    street_and_asset_files_import_whole_or_not_at_all,
);

async fn a_city_imports_from_its_files_into_an_empty_database_only(backend: Backend) {
    let url = fresh_database_url(backend).await;
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo");
    let out = civic311(&["import", "city", "--database-url", &url, demo]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("City of Riverton imported with 3 boundary layers"));
    let store = open_store(backend, &url).await;
    assert_eq!(store.services().await.unwrap().len(), 36);
    assert_eq!(store.count_requests().await.unwrap(), 0);
    // workflow.toml came along: the demo's calendars and SLA policies.
    let workflow = store.workflow_config().await.unwrap().expect("the workflow configuration");
    assert!(workflow.calendars.iter().any(|c| c.name == "city-hours"), "{workflow:?}");
    assert_eq!(workflow.sla_policies.len(), 8);
    let key = String::from_utf8(civic311(&["api-key", "--database-url", &url, "--label", "city app"]).stdout).unwrap();
    assert_eq!(key.trim().len(), 32);
    assert!(store.api_keys().await.unwrap().iter().any(|k| k.key == key.trim()));
    // Audited with who it is for and how it ends, never the key itself.
    let audited = store.config_changes(1).await.unwrap().remove(0);
    assert_eq!(
        (audited.actor.as_str(), audited.kind.as_str(), audited.item.as_str()),
        ("console", "api_key", "city app")
    );
    assert!(!audited.body.to_string().contains(key.trim()), "{}", audited.body);
    let again = Command::new(env!("CARGO_BIN_EXE_civic311"))
        .args(["import", "city", "--database-url", &url, demo])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds a city"));

    // A workflow that names an unknown calendar is refused before anything is written.
    let dir = civic311_testkit::scratch_dir("civic311-bad-city");
    for entry in std::fs::read_dir(demo).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
    let bad = "[[sla]]\nname = \"x\"\ncalendar = \"nope\"\nresponse = \"1h\"\nresolution = \"2h\"\n";
    std::fs::write(dir.join("workflow.toml"), bad).unwrap();
    let empty = fresh_database_url(backend).await;
    let refused = Command::new(env!("CARGO_BIN_EXE_civic311"))
        .args(["import", "city", "--database-url", &empty, dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("unknown calendar 'nope'"), "{refused:?}");
    assert!(open_store(backend, &empty).await.settings().await.unwrap().is_none(), "nothing written");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn civic311(args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_civic311")).args(args).env("RUST_LOG", "warn").output().unwrap();
    assert!(
        out.status.success(),
        "civic311 {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

async fn demo_seeds_a_whole_city_once(backend: Backend) {
    let url = fresh_database_url(backend).await;
    civic311(&["demo", "--seed-only", "--requests", "400", "--database-url", &url]);
    let store = open_store(backend, &url).await;
    assert_eq!(store.count_requests().await.unwrap(), 400);
    let services = store.services().await.unwrap();
    assert!(services.len() >= 30);
    assert_eq!(services.iter().filter(|s| !s.is_public()).count(), 2, "facilities and IT are internal-only");
    assert!(services.iter().filter(|s| s.has_metadata()).count() >= 5);
    assert!(store.departments().await.unwrap().len() >= 8);
    let layers: std::collections::BTreeSet<String> =
        store.boundary_features().await.unwrap().into_iter().map(|f| f.layer).collect();
    assert_eq!(layers.into_iter().collect::<Vec<_>>(), ["neighborhoods", "wards", "zipcodes"]);
    assert!(store.api_keys().await.unwrap().iter().any(|k| k.key == "civic311-demo-key"));
    let admin = civic311_app::tokens::token_hash("civic311-demo-admin-token");
    let now = jiff::Timestamp::now();
    assert_eq!(store.user_for_token(&admin, now).await.unwrap().map(|u| u.username).as_deref(), Some("admin"));

    let all = store.list_requests(&civic311_store::RequestQuery { limit: 1000, ..Default::default() }).await.unwrap();
    let layers = |r: &civic311_domain::request::ServiceRequest| r.areas.keys().filter(|l| *l != "asset").count();
    assert!(all.iter().all(|r| layers(r) == 3), "every request lies in a ward, neighbourhood and ZIP code");
    let about_assets = all.iter().filter(|r| ["STREETLIGHT", "HYDRANT"].contains(&r.service_code.as_str()));
    assert!(about_assets.clone().count() > 0);
    assert!(about_assets.clone().all(|r| r.areas.contains_key("asset")), "reports about assets name one");
    let lights = store.assets().await.unwrap();
    for kind in ["streetlight", "hydrant", "traffic_signal", "tree"] {
        assert!(lights.iter().any(|a| a.kind == kind), "the demo has {kind} assets");
    }
    assert!(lights.len() > 2_000, "a few thousand assets");
    assert!(store.street_segments().await.unwrap().len() > 1_000, "a street network");
    let first = all.last().unwrap().requested_at;
    let last = all.first().unwrap().requested_at;
    assert!(last.duration_since(first).as_hours() > 24 * 600, "the history spans about two years");
    assert!(all.iter().any(|r| r.status.is_closed()) && all.iter().any(|r| !r.status.is_closed()));
    assert!(all.iter().any(|r| r.status_notes.as_deref().is_some_and(|n| n.starts_with("Duplicate"))));
    // history.toml's phone shares average about 45%; web and apps take the rest.
    let phone = all.iter().filter(|r| r.channel == civic311_domain::request::Channel::Phone).count() as f64 / 400.0;
    assert!((0.3..0.6).contains(&phone), "phone share {phone}");
    // Late work escalated while it was open, as the sweep does: a past for the
    // escalation dashboards, ending in resolutions, each before its request closed.
    let events = store.sealed_events((0, 0), 100_000).await.unwrap();
    let escalated: Vec<_> = events.iter().filter(|e| e.kind == "escalated").collect();
    let closed_late = all.iter().filter(|r| r.status.is_closed() && escalated.iter().any(|e| e.request_id == r.id.seq));
    assert!(closed_late.count() > 20, "of 400, about three in ten are late");
    for e in &escalated {
        let r = all.iter().find(|r| r.id.seq == e.request_id).unwrap();
        assert!(r.closed_at.is_none_or(|c| civic311_domain::request::to_micros(c) > e.at_micros), "{e:?}");
    }

    // Running the demo again reopens the city without seeding twice.
    civic311(&["demo", "--seed-only", "--requests", "400", "--database-url", &url]);
    assert_eq!(store.count_requests().await.unwrap(), 400);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn post_once(port: u16, body: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    let req = format!(
        "POST /open311/v2/requests.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

async fn acknowledged_requests_survive_a_crash(backend: Backend) {
    let url = fresh_database_url(backend).await;
    civic311(&["demo", "--seed-only", "--requests", "0", "--database-url", &url]);
    let port = free_port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_civic311"))
        .args(["serve", "--database-url", &url, "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let body = "api_key=civic311-demo-key&service_code=POTHOLE&attribute%5BSIZE%5D=large&lat=40.2&long=-104.6&description=crash+test";
    let deadline = Instant::now() + Duration::from_secs(30);
    let reply = loop {
        if let Some(r) = post_once(port, body) {
            break r;
        }
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    };
    // Kill the process the instant the reply arrives: no graceful shutdown, no flush.
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(reply.starts_with("HTTP/1.1 201"), "{reply}");
    let id = reply.split("\"service_request_id\":\"").nth(1).and_then(|s| s.split('"').next()).unwrap();
    let seq: i64 = id.split('-').nth(1).unwrap().parse().unwrap();
    let store = open_store(backend, &url).await;
    let saved = store.request(seq).await.unwrap().expect("an acknowledged request survives the crash");
    assert_eq!(saved.description, "crash test");
}

async fn rules_and_boundaries_import_and_export(backend: Backend) {
    let url = fresh_database_url(backend).await;
    civic311(&["demo", "--seed-only", "--requests", "0", "--database-url", &url]);
    let dir = civic311_testkit::scratch_dir("civic311-cli");

    let exported = String::from_utf8(civic311(&["export", "rules", "--database-url", &url]).stdout).unwrap();
    assert!(exported.contains("name = \"bulk items in Ward 3\""));
    let rules_file = dir.join("rules.toml");
    let edited = exported.replace("downed power lines are urgent", "downed lines are urgent");
    std::fs::write(&rules_file, &edited).unwrap();
    civic311(&["import", "rules", "--database-url", &url, rules_file.to_str().unwrap()]);
    let store = open_store(backend, &url).await;
    assert_eq!(store.rules().await.unwrap().rules[0].name, "downed lines are urgent");
    // Audited as the same change through the API is, with the rules it installed.
    let audited = store.config_changes(1).await.unwrap().remove(0);
    assert_eq!((audited.actor.as_str(), audited.kind.as_str()), ("console", "rules"));
    assert_eq!(audited.body["rule"][0]["name"], "downed lines are urgent", "{}", audited.body);

    // A rule naming a department that does not exist is refused; the old rules stay.
    std::fs::write(&rules_file, "[[rule]]\nname = \"x\"\nthen.department = \"NOPE\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_civic311"))
        .args(["import", "rules", "--database-url", &url, rules_file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown department 'NOPE'; one of "));
    assert_eq!(store.rules().await.unwrap().rules[0].name, "downed lines are urgent");

    let districts = dir.join("districts.geojson");
    std::fs::write(
        &districts,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"district":"D1","name":"District One"},
            "geometry":{"type":"MultiPolygon","coordinates":[[[[-104.7,40.1],[-104.5,40.1],[-104.5,40.3],[-104.7,40.3],[-104.7,40.1]]]]}}]}"#,
    )
    .unwrap();
    civic311(&[
        "import",
        "boundaries",
        "--database-url",
        &url,
        "--layer",
        "districts",
        "--id-property",
        "district",
        districts.to_str().unwrap(),
    ]);
    let features = store.boundary_features().await.unwrap();
    let d1 = features.iter().find(|f| f.layer == "districts").unwrap();
    assert_eq!((d1.feature.as_str(), d1.name.as_str()), ("D1", "District One"));
    let audited = store.config_changes(1).await.unwrap().remove(0);
    assert_eq!(
        (audited.actor.as_str(), audited.kind.as_str(), audited.item.as_str()),
        ("console", "boundaries", "districts")
    );
    let changes = store.config_changes(100).await.unwrap().len();

    std::fs::write(&districts, "{\"type\":\"FeatureCollection\",\"features\":[]}").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_civic311"))
        .args(["import", "boundaries", "--database-url", &url, "--layer", "districts", districts.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success(), "an empty layer is refused");
    assert_eq!(store.boundary_features().await.unwrap().iter().filter(|f| f.layer == "districts").count(), 1);
    assert_eq!(store.config_changes(100).await.unwrap().len(), changes, "a refused import is not audited");

    // Wards without ward 3 would leave the rule "bulk items in Ward 3" matching nothing.
    let wards = |store_features: Vec<civic311_domain::geo::BoundaryFeature>| {
        store_features.iter().filter(|f| f.layer == "wards").count()
    };
    let before = wards(store.boundary_features().await.unwrap());
    let one_ward = dir.join("one-ward.geojson");
    std::fs::write(
        &one_ward,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"1","name":"Ward 1"},
            "geometry":{"type":"Polygon","coordinates":[[[-104.7,40.1],[-104.5,40.1],[-104.5,40.3],[-104.7,40.1]]]}}]}"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_civic311"))
        .args(["import", "boundaries", "--database-url", &url, "--layer", "wards", one_ward.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("rule 'bulk items in Ward 3' names wards"), "{out:?}");
    assert_eq!(wards(store.boundary_features().await.unwrap()), before);
}

/// Runs `civic311 ARGS` expecting it to fail; what it printed to stderr.
fn civic311_fails(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_civic311")).args(args).env("RUST_LOG", "warn").output().unwrap();
    assert!(!out.status.success(), "civic311 {args:?} should have failed");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A database seeded with the demo city (no requests), a scratch folder named after
/// `name`, and the store.
async fn seeded(backend: Backend, name: &str) -> (String, std::path::PathBuf, SharedStore) {
    let url = fresh_database_url(backend).await;
    civic311(&["demo", "--seed-only", "--requests", "0", "--database-url", &url]);
    let dir = civic311_testkit::scratch_dir(&format!("civic311-{name}"));
    let store = open_store(backend, &url).await;
    (url, dir, store)
}

async fn address_files_import_whole_or_not_at_all(backend: Backend) {
    let (url, dir, store) = seeded(backend, "addresses").await;
    let before = store.address_points().await.unwrap().len();

    // OpenAddresses CSV with two bad rows: nothing is written, and each is told by line.
    let csv = "LON,LAT,NUMBER,STREET,UNIT,CITY,DISTRICT,REGION,POSTCODE,ID,HASH\n\
               -104.6359,40.1527,120,Oak Street,,Riverton,,CO,80601,a1,\n\
               -104.6358,north,122,Oak Street,,Riverton,,CO,80601,a2,\n\
               -104.6357,40.1527,,Oak Street,,Riverton,,CO,80601,a3,\n\
               -104.6356,40.1527,\"124\",\"Oak Street, North\",4,Riverton,,CO,80601,a4,\n";
    let file = dir.join("addresses.csv");
    std::fs::write(&file, csv).unwrap();
    let path = file.to_str().unwrap();
    let said = civic311_fails(&["import", "addresses", "--database-url", &url, path]);
    assert!(said.contains("line 3: LAT 'north' is not a number"), "{said}");
    assert!(said.contains("line 4: no house number"), "{said}");
    assert!(said.contains("2 bad rows"), "{said}");
    assert_eq!(store.address_points().await.unwrap().len(), before, "nothing written");

    // Asked to, the good rows go in and the report says how many were left out.
    let out = civic311(&["import", "addresses", "--skip-bad", "--database-url", &url, path]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("2 address points imported") && said.contains("2 bad rows skipped"), "{said}");
    let stored = store.address_points().await.unwrap();
    assert_eq!(stored.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["a1", "a4"]);
    assert_eq!((stored[1].street.as_str(), stored[1].unit.as_deref()), ("Oak Street, North", Some("4")));
    let audited = store.config_changes(1000).await.unwrap();
    assert_eq!((audited[0].actor.as_str(), audited[0].kind.as_str()), ("console", "addresses"));

    // The same points as GeoJSON are the same layer: nothing changes.
    let geojson = serde_json::json!({ "type": "FeatureCollection", "features": [
        { "type": "Feature", "geometry": { "type": "Point", "coordinates": [-104.6359, 40.1527] },
          "properties": { "number": "120", "street": "Oak Street", "city": "Riverton", "postcode": "80601", "id": "a1" } },
        { "type": "Feature", "geometry": { "type": "Point", "coordinates": [-104.6356, 40.1527] },
          "properties": { "number": "124", "street": "Oak Street, North", "unit": "4", "city": "Riverton", "postcode": "80601", "id": "a4" } },
    ]});
    let file = dir.join("addresses.geojson");
    std::fs::write(&file, geojson.to_string()).unwrap();
    let out = civic311(&["import", "addresses", "--database-url", &url, file.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing changed"));
    assert_eq!(store.config_changes(1000).await.unwrap().len(), audited.len(), "nothing audited");
    std::fs::remove_dir_all(&dir).unwrap();
}

async fn street_and_asset_files_import_whole_or_not_at_all(backend: Backend) {
    let (url, dir, store) = seeded(backend, "streets").await;
    let (streets, assets) = (store.street_segments().await.unwrap(), store.assets().await.unwrap());

    // A centreline file with one bad feature: nothing is written; the feature is told.
    let line = |name: &str| {
        serde_json::json!({ "type": "Feature", "properties": { "name": name, "LFROMADD": 100, "LTOADD": 198 },
            "geometry": { "type": "LineString", "coordinates": [[-104.6, 40.2], [-104.59, 40.2]] } })
    };
    let file = dir.join("streets.geojson");
    let bad = serde_json::json!({ "type": "FeatureCollection", "features": [line("Ash Street"), line("Elm Street"),
        { "type": "Feature", "properties": {}, "geometry": { "type": "Point", "coordinates": [-104.6, 40.2] } }] });
    std::fs::write(&file, bad.to_string()).unwrap();
    let path = file.to_str().unwrap();
    let said = civic311_fails(&["import", "streets", "--database-url", &url, path]);
    assert!(said.contains("feature 3: the geometry is not a LineString or MultiLineString"), "{said}");
    assert!(said.contains("1 bad rows"), "{said}");
    assert_eq!(store.street_segments().await.unwrap(), streets, "nothing written");

    // Fixed, it replaces the layer; the same file again changes nothing.
    let good = serde_json::json!({ "type": "FeatureCollection", "features": [line("Ash Street")] });
    std::fs::write(&file, good.to_string()).unwrap();
    let out = civic311(&["import", "streets", "--database-url", &url, path]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 street segments imported"), "{out:?}");
    let out = civic311(&["import", "streets", "--database-url", &url, path]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing changed"), "{out:?}");

    // Assets: a bad feature stops the file unless asked to skip it.
    let file = dir.join("hydrants.geojson");
    std::fs::write(
        &file,
        serde_json::json!({ "type": "FeatureCollection", "features": [
            { "type": "Feature", "properties": { "asset_id": "HY-NEW", "colour": "red" },
              "geometry": { "type": "Point", "coordinates": [-104.6, 40.2] } },
            { "type": "Feature", "properties": { "colour": "red" },
              "geometry": { "type": "Point", "coordinates": [-104.6, 40.2] } } ] })
        .to_string(),
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let said = civic311_fails(&["import", "assets", "--type", "hydrant", "--database-url", &url, path]);
    assert!(said.contains("feature 2: no asset id"), "{said}");
    assert_eq!(store.assets().await.unwrap(), assets, "nothing written");
    let out = civic311(&["import", "assets", "--type", "hydrant", "--skip-bad", "--database-url", &url, path]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("1 hydrant assets imported") && said.contains("1 bad rows skipped"), "{said}");
    let now = store.assets().await.unwrap();
    assert_eq!(now.len(), assets.len() + 1, "the others stay");
    assert!(now.iter().any(|a| a.id == "HY-NEW" && a.properties["colour"] == "red"));
    std::fs::remove_dir_all(&dir).unwrap();
}
