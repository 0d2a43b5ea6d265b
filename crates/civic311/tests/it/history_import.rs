//! `civic311 import requests` (docs/OPEN_DATA.md), run as a city would run it: our own
//! export imported into an empty city exports the same rows again, and an NYC-layout
//! file with the awkward rows real files have is imported with exactly the outcomes a
//! dry run reported; importing either again changes nothing and tells nobody. Chicago's
//! duplicates are merged into the request imported from their parent's row.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use civic311_app::import::NYC_COLUMNS;
use civic311_store::{OutboxQuery, RequestQuery};
use civic311_testkit::fixture::{IN_W1, IN_W2};
use civic311_testkit::{Backend, TestApp, both_backends};
use common::{act, post_pothole, setup};
use serde_json::json;

use crate::common;

both_backends!(
    our_export_imported_into_an_empty_city_exports_the_same_rows,
    an_nyc_file_with_awkward_rows_is_imported_with_exactly_the_outcomes_reported,
    a_chicago_file_carries_its_duplicates_into_merges
);

/// A path named `name` in a new scratch directory.
fn temp(name: &str) -> PathBuf {
    civic311_testkit::scratch_dir("civic311-import").join(name)
}

/// Runs `civic311 import requests` on the app's database; its standard output.
fn import(app: &TestApp, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_civic311"))
        .args(["import", "requests", "--database-url", &app.database_url])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

async fn csv(app: &TestApp) -> String {
    let r = app.get("/open-data/requests.csv").await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

async fn filed(app: &TestApp, at: (f64, f64), text: &str) -> String {
    let r = post_pothole(app, at, text, &[("attribute[SIZE]", "small")]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()[0]["service_request_id"].as_str().unwrap().to_owned()
}

async fn our_export_imported_into_an_empty_city_exports_the_same_rows(backend: Backend) {
    let city = setup(backend).await;
    let resolved = filed(&city, IN_W1, "Deep hole").await;
    act(&city, &resolved, "ada", json!({ "action": "resolve", "note": "Filled" })).await;
    let held = filed(&city, IN_W1, "Hole, \"big\"\nby the school").await;
    act(&city, &held, "ada", json!({ "action": "hold", "reason": "waiting for parts" })).await;
    let started = filed(&city, IN_W2, "Another").await;
    act(&city, &started, "ada", json!({ "action": "start" })).await;
    let twin = filed(&city, IN_W1, "Deep hole again").await;
    act(&city, &twin, "ada", json!({ "action": "merge", "into": resolved })).await;
    let moved = filed(&city, IN_W2, "A sofa in a hole").await;
    let to_san = json!({ "action": "transfer", "department": "SAN", "reason": "a sofa, not a pothole" });
    act(&city, &moved, "ada", to_san).await;
    common::publish_to_the_block(&city, "BULK").await;
    common::file_bulk_on_elm(&city, "The tenant's sofa", &[]).await;
    let exported = csv(&city).await;
    assert_eq!(exported.matches("\r\n").count(), 7, "a header and six rows: {exported}");
    let file = temp("ours.csv");
    std::fs::write(&file, &exported).unwrap();

    let empty = setup(backend).await;
    common::publish_to_the_block(&empty, "BULK").await;
    let path = file.to_str().unwrap();
    let dry = import(&empty, &["--format", "open311-bulk", "--dry-run", path]);
    assert_eq!(dry, "6 rows: 6 would be imported, 0 already imported, 0 rejected\n");
    assert_eq!(empty.store.count_requests().await.unwrap(), 0, "a dry run writes nothing");
    let done = import(&empty, &["--format", "open311-bulk", path]);
    assert_eq!(done, "6 rows: 6 imported, 0 already imported, 0 rejected\n");
    assert_eq!(csv(&empty).await, exported, "the same rows, byte for byte");

    let again = import(&empty, &["--format", "open311-bulk", path]);
    assert_eq!(again, "6 rows: 0 imported, 6 already imported, 0 rejected\n");
    assert_eq!(csv(&empty).await, exported);
    assert_eq!(empty.store.count_requests().await.unwrap(), 6);

    // Nobody was told; the history says where it came from.
    let outbox = empty.store.outbox(&OutboxQuery { limit: 100, ..OutboxQuery::default() }).await.unwrap();
    assert!(outbox.is_empty(), "{outbox:?}");
    let seq = |id: &str| id.split_once('-').unwrap().1.parse::<i64>().unwrap();
    let events = empty.store.events(seq(&resolved)).await.unwrap();
    assert_eq!(events[0].data["imported"], format!("open311-bulk:{resolved}"));
    let closing = events.iter().find(|e| e.data["to"] == "resolved").unwrap();
    assert_eq!(closing.data["imported"], format!("open311-bulk:{resolved}"));
    let merged = empty.store.request(seq(&twin)).await.unwrap().unwrap();
    assert_eq!(merged.workflow.merged_into.as_deref(), Some(resolved.as_str()));
    let open = empty.store.request(seq(&held)).await.unwrap().unwrap();
    assert_eq!(open.status.as_str(), "on_hold");

    // New requests take numbers after the imported ones.
    let next = filed(&empty, IN_W1, "New").await;
    let highest = empty
        .store
        .list_requests(&RequestQuery { limit: 100, ..RequestQuery::default() })
        .await
        .unwrap()
        .iter()
        .map(|r| r.id.seq)
        .max()
        .unwrap();
    assert_eq!(seq(&next), highest);
    assert_eq!(seq(&next), 7, "after the six imported");

    // Into a city whose own requests have two of the numbers: the other four keep
    // theirs, the two get the next free ones, in one batch.
    let busy = setup(backend).await;
    common::publish_to_the_block(&busy, "BULK").await;
    let own = [filed(&busy, IN_W1, "Ours one").await, filed(&busy, IN_W1, "Ours two").await];
    assert_eq!(own.iter().map(|id| seq(id)).collect::<Vec<_>>(), [1, 2]);
    let done = import(&busy, &["--format", "open311-bulk", path]);
    assert_eq!(done, "6 rows: 6 imported, 0 already imported, 0 rejected\n");
    let all = busy.store.list_requests(&RequestQuery { limit: 100, ..RequestQuery::default() }).await.unwrap();
    let mut numbers: Vec<i64> = all.iter().map(|r| r.id.seq).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=8).collect::<Vec<i64>>());
    assert_eq!(
        busy.store.request(seq(&twin)).await.unwrap().unwrap().description,
        "Deep hole again",
        "kept its number"
    );
    let after = filed(&busy, IN_W1, "New").await;
    assert_eq!(seq(&after), 9);
}

/// NYC's header (41 columns) and one row in it, by column name.
fn nyc_row(fields: &[(&str, &str)]) -> String {
    let cell = |name: &str| fields.iter().find(|(k, _)| *k == name).map_or("", |(_, v)| *v);
    let quote = |v: &str| format!("\"{}\"", v.replace('"', "\"\""));
    NYC_COLUMNS.iter().map(|c| quote(cell(c))).collect::<Vec<_>>().join(",")
}

async fn an_nyc_file_with_awkward_rows_is_imported_with_exactly_the_outcomes_reported(backend: Backend) {
    let app = setup(backend).await;
    let good = |key: &'static str| {
        vec![
            ("Unique Key", key),
            ("Created Date", "01/05/2026 08:30:00 AM"),
            ("Closed Date", "01/06/2026 03:15:00 PM"),
            ("Agency", "DOT"),
            ("Complaint Type", "Street Condition"),
            ("Descriptor", "Pothole"),
            ("Status", "Closed"),
            ("Resolution Description", "The Department of Transportation repaired the problem."),
            ("Open Data Channel Type", "PHONE"),
            ("Incident Address", "12 MAIN STREET"),
            ("Latitude", "41.0105"),
            ("Longitude", "-88.0105"),
        ]
    };
    let with = |key: &'static str, changes: &[(&'static str, &'static str)]| {
        let mut row = good(key);
        for (k, v) in changes {
            row.retain(|(name, _)| name != k);
            row.push((k, v));
        }
        nyc_row(&row)
    };
    let rows = [
        nyc_row(&good("1001")),
        with(
            "1002",
            &[
                ("Complaint Type", "Bulky Item"),
                ("Descriptor", "Sofa,\nand a chair"),
                ("Agency", "DSNY"),
                ("Status", "Open"),
                ("Closed Date", ""),
                ("Latitude", "41.0105"),
                ("Longitude", "-87.9905"),
                ("Open Data Channel Type", "ONLINE"),
                ("Due Date", "01/09/2026 05:00:00 PM"),
            ],
        ),
        with("1003", &[("Status", "In Progress"), ("Closed Date", "")]),
        with("1004", &[("Latitude", ""), ("Longitude", ""), ("Incident Address", "")]),
        with("1005", &[("Latitude", ""), ("Longitude", ""), ("Incident Address", "99 NOWHERE LANE")]),
        with("1006", &[("Closed Date", "01/04/2026 09:00:00 AM")]),
        with("1007", &[("Complaint Type", "Noise - Residential"), ("Descriptor", "Loud Music/Party")]),
        with("1001", &[("Descriptor", "Pothole again")]),
        with("1008", &[("Latitude", "42.0"), ("Longitude", "-88.0")]),
        with("1009", &[("Created Date", "31/31/2026 08:30:00 AM")]),
        with("1010", &[("Status", "Frobbed")]),
    ];
    let text = format!("{}\n{}\n", NYC_COLUMNS.join(","), rows.join("\n"));
    let file = temp("nyc.csv");
    std::fs::write(&file, &text).unwrap();
    let mapping = temp("nyc-mapping.toml");
    std::fs::write(
        &mapping,
        "[services]\n\"Street Condition|Pothole\" = \"POTHOLE\"\n\"Bulky Item\" = \"BULK\"\n\
         [departments]\nDOT = \"PW\"\nDSNY = \"SAN\"\n",
    )
    .unwrap();
    let (path, map) = (file.to_str().unwrap(), mapping.to_str().unwrap());
    let expected = |verb: &str, imported: u64, already: u64| {
        let reasons = [
            "an address the city's address points do not have",
            "closed before it was created",
            "no location",
            "outside the city",
            "the same id as an earlier row",
            "unknown status \"Frobbed\"",
            "unknown type \"Noise - Residential\" (not in the mapping)",
            "unreadable created date",
        ];
        let mut out = format!("11 rows: {imported} {verb}, {already} already imported, 8 rejected\n");
        for why in reasons {
            out.push_str(&format!("{:>10}  {why}\n", 1));
        }
        out
    };
    let args = |extra: &[&'static str]| -> Vec<String> {
        let mut a: Vec<String> = vec!["--format".into(), "nyc".into(), "--mapping".into(), map.into()];
        a.extend(extra.iter().map(|s| (*s).to_owned()));
        a.push(path.into());
        a
    };
    let run = |extra: &[&'static str]| {
        let a = args(extra);
        import(&app, &a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    assert_eq!(run(&["--dry-run"]), expected("would be imported", 3, 0));
    assert_eq!(app.store.count_requests().await.unwrap(), 0);
    assert_eq!(run(&[]), expected("imported", 3, 0));
    // The first import set the indexes aside (the city was empty) and built them again.
    assert_eq!(app.store.restore_indexes().await.unwrap(), 0, "nothing left set aside");
    if backend == Backend::Postgres {
        // And settled the database: the planner's statistics are gathered. (SQLite's
        // emptied log is checked in the conformance tests: here the app may write.)
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&app.database_url).await.unwrap();
        let analyzed: bool =
            sqlx::query_scalar("SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'requests'")
                .fetch_one(&mut conn)
                .await
                .unwrap();
        assert!(analyzed, "a first import gathers the planner's statistics");
    }
    let indexes = app.store.park_indexes(1_000).await.unwrap();
    assert!(indexes >= 8, "every index is back: {indexes}");
    assert_eq!(app.store.restore_indexes().await.unwrap(), indexes);
    assert_eq!(run(&[]), expected("imported", 0, 3), "the second import changes nothing");
    assert_eq!(app.store.count_requests().await.unwrap(), 3);

    // The same file gzipped reads the same.
    let gz = temp("nyc.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::fast());
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap();
    let out = import(&app, &["--format", "nyc", "--mapping", map, "--dry-run", gz.to_str().unwrap()]);
    assert_eq!(out, expected("would be imported", 0, 3));

    let found = app.store.list_requests(&RequestQuery { limit: 10, ..RequestQuery::default() }).await.unwrap();
    let by_text = |t: &str| found.iter().find(|r| r.description == t).unwrap_or_else(|| panic!("{t}: {found:?}"));
    let pothole = found.iter().find(|r| r.status.as_str() == "closed").unwrap();
    assert_eq!(pothole.status.as_str(), "closed");
    assert_eq!(pothole.requested_at.to_string(), "2026-01-05T14:30:00Z", "in the city's time zone");
    assert_eq!(pothole.closed_at.unwrap().to_string(), "2026-01-06T21:15:00Z");
    assert_eq!(pothole.status_notes.as_deref(), Some("The Department of Transportation repaired the problem."));
    assert_eq!(pothole.assignment.department, "PW");
    assert_eq!(pothole.channel.as_str(), "phone");
    assert_eq!(pothole.location.address.as_deref(), Some("12 MAIN STREET"));
    let sofa = by_text("Sofa,\nand a chair");
    assert_eq!((sofa.status.as_str(), sofa.assignment.department.as_str()), ("open", "SAN"));
    assert_eq!(sofa.areas["wards"], "W2");
    assert_eq!(sofa.channel.as_str(), "web");
    assert_eq!(sofa.expected_at.unwrap().to_string(), "2026-01-09T23:00:00Z", "the due date given");
    let started = found.iter().find(|r| r.status.as_str() == "in_progress").unwrap();
    // Open work keeps its SLA clock: 8 business hours from Monday 08:30.
    assert_eq!(started.expected_at.unwrap().to_string(), "2026-01-05T22:30:00Z");
    let outbox = app.store.outbox(&OutboxQuery { limit: 100, ..OutboxQuery::default() }).await.unwrap();
    assert!(outbox.is_empty(), "nobody is notified: {outbox:?}");
}

/// Chicago links a duplicate to its parent by `DUPLICATE` and `PARENT_SR_NUMBER`: each
/// is merged into the request imported from the parent's row, wherever that row is in
/// the file (before it, after it, in an earlier import); one whose parent is not in the
/// import keeps its own status. The dry run says so too, and a second run changes nothing.
async fn a_chicago_file_carries_its_duplicates_into_merges(backend: Backend) {
    let app = setup(backend).await;
    let header = "SR_NUMBER,SR_TYPE,OWNER_DEPARTMENT,STATUS,ORIGIN,CREATED_DATE,LAST_MODIFIED_DATE,CLOSED_DATE,\
                  STREET_ADDRESS,LATITUDE,LONGITUDE,DUPLICATE,PARENT_SR_NUMBER";
    let row = |id: &str, status: &str, duplicate: &str, parent: &str| {
        let closed = if status == "Open" { "" } else { "01/06/2026 03:15:00 PM" };
        format!(
            "{id},Pothole in Street Complaint,CDOT - Department of Transportation,{status},Phone Call,\
             01/05/2026 08:30:00 AM,01/06/2026 03:15:00 PM,{closed},12 MAIN ST,41.0105,-88.0105,{duplicate},{parent}"
        )
    };
    let first = [
        row("SR26-0001", "Open", "false", ""),
        // Before its parent in the file, and merged all the same.
        row("SR26-0003", "Completed", "true", "SR26-0002"),
        row("SR26-0002", "Completed", "false", ""),
        row("SR26-0004", "Canceled", "true", "SR26-0001"),
        // Its parent is nowhere in the import: it stays closed, unlinked.
        row("SR26-0005", "Completed", "true", "SR25-9999"),
    ];
    let file = temp("chicago.csv");
    std::fs::write(&file, format!("{header}\n{}\n", first.join("\n"))).unwrap();
    let mapping = temp("chicago-mapping.toml");
    std::fs::write(
        &mapping,
        "[services]\n\"Pothole in Street Complaint\" = \"POTHOLE\"\n\
         [departments]\n\"CDOT - Department of Transportation\" = \"PW\"\n",
    )
    .unwrap();
    let map = mapping.to_str().unwrap().to_owned();
    let run = |path: &PathBuf, dry: bool| {
        let mut a = vec!["--format", "chicago", "--mapping", map.as_str()];
        if dry {
            a.push("--dry-run");
        }
        a.push(path.to_str().unwrap());
        import(&app, &a)
    };
    let said = |verb: &str, imported: u64, already: u64, merged: u64, unlinked: u64| {
        let mut out =
            format!("{} rows: {imported} {verb}, {already} already imported, 0 rejected\n", imported + already);
        if merged + unlinked > 0 {
            out.push_str(&format!(
                "  duplicates: {merged} merged into the request they duplicate, {unlinked} kept their own status \
                 (their parent is not in the import)\n"
            ));
        }
        out
    };
    assert_eq!(run(&file, true), said("would be imported", 5, 0, 2, 1));
    assert_eq!(run(&file, false), said("imported", 5, 0, 2, 1));
    assert_eq!(run(&file, false), said("imported", 0, 5, 0, 0), "a second import changes nothing");

    // A later file whose duplicate's parent came in the first.
    let later = temp("chicago-later.csv");
    std::fs::write(&later, format!("{header}\n{}\n", row("SR26-0006", "Completed", "true", "SR26-0002"))).unwrap();
    assert_eq!(run(&later, false), said("imported", 1, 0, 1, 0));

    let all = app.store.list_requests(&RequestQuery { limit: 10, ..RequestQuery::default() }).await.unwrap();
    let sources = app
        .store
        .imported_requests(&(1..=6).map(|n| format!("chicago:SR26-000{n}")).collect::<Vec<_>>())
        .await
        .unwrap();
    let number = |sr: &str| {
        let id = sources.iter().find(|(s, _)| s == &format!("chicago:{sr}")).unwrap().1;
        all.iter().find(|r| r.id == id).unwrap()
    };
    let (one, two) = (number("SR26-0001"), number("SR26-0002"));
    assert_eq!(one.status.as_str(), "open");
    for (dup, parent) in [("SR26-0003", two), ("SR26-0004", one), ("SR26-0006", two)] {
        let r = number(dup);
        assert_eq!(r.status.as_str(), "duplicate", "{dup}");
        assert_eq!(r.workflow.merged_into.as_deref(), Some(parent.id.to_string().as_str()), "{dup}");
        assert!(r.closed_at.is_some(), "{dup}");
    }
    let lone = number("SR26-0005");
    assert_eq!((lone.status.as_str(), lone.workflow.merged_into.as_deref()), ("closed", None));

    // The export says what each duplicates.
    let exported = csv(&app).await;
    let line = exported.lines().find(|l| l.starts_with(&number("SR26-0003").id.to_string())).unwrap();
    assert!(line.ends_with(&format!(",{}", two.id)), "{line}");

    // Batches are written while the next is read (5,000 rows each): a duplicate whose
    // parent is in the batch before still finds it.
    let mut rows: Vec<String> = (1..=5_000).map(|n| row(&format!("SR27-{n:05}"), "Open", "false", "")).collect();
    rows.push(row("SR27-05001", "Completed", "true", "SR27-05000"));
    let many = temp("chicago-many.csv");
    std::fs::write(&many, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
    assert_eq!(run(&many, false), said("imported", 5_001, 0, 1, 0));
}
