//! The dashboards in a real headless Chromium, over the week `reports` works out by
//! hand: an analyst reads the figures, narrows them to a department with the form,
//! downloads a chart's CSV (the API's, byte for byte), opens the live operations view
//! and the views of where work stalls, recurring problems and demand — at desktop and
//! phone widths, each page passing the accessibility scan.

#![allow(clippy::unwrap_used)]

use civic311_testkit::browser::Browser;
use civic311_testkit::{Backend, both_backends};
use serde_json::json;

use crate::common::{self, api};
use crate::reports::week;

both_backends!(an_analyst_reads_narrows_and_downloads_the_dashboards);

const PASSWORD: &str = "dashboards for directors";

/// The figure under `label` in the page's summary.
async fn figure(b: &Browser, label: &str) -> String {
    let got = b
        .script(
            "for (const li of document.querySelectorAll('ul.figures li')) {
               if (li.querySelector('.label').textContent === arguments[0]) return li.querySelector('strong').textContent;
             }
             return null;",
            json!([label]),
        )
        .await;
    got.as_str().unwrap_or_else(|| panic!("no figure {label}")).to_owned()
}

/// Types the fixture's week into the period, as a person would, and shows it.
async fn show_the_week(b: &Browser) {
    b.script(
        "document.querySelector('#from').value = '2026-03-02'; document.querySelector('#to').value = '2026-03-08';",
        json!([]),
    )
    .await;
    b.follow("form.filters button[type=submit]").await;
}

async fn an_analyst_reads_narrows_and_downloads_the_dashboards(backend: Backend) {
    let app = week(backend).await;
    assert_eq!(common::set_password(&app, "ali", PASSWORD).await.status, 200);
    let base = app.listen().await;
    let api_csv = api(
        &app,
        "GET",
        "/api/v1/reports/requests?from=2026-03-02&to=2026-03-08&group_by=day&format=csv",
        Some("ali"),
        None,
    )
    .await
    .body;
    for (width, height, name) in [(1280, 900, "desktop"), (390, 844, "phone")] {
        let b = Browser::start(width, height).await;
        b.goto(&format!("{base}/staff/sign-in")).await;
        b.type_into("#username", "ali").await;
        b.type_into("#password", PASSWORD).await;
        b.keys_to_new_page("\u{E007}").await;
        b.follow("nav.primary a[href='/staff/reports']").await;
        assert_eq!(b.text("h1").await, "Reports");
        show_the_week(&b).await;
        assert_eq!(figure(&b, "Opened").await, "6");
        assert_eq!(figure(&b, "Closed").await, "3");
        assert_eq!(figure(&b, "Open at the end").await, "3");
        assert!(b.source().await.contains("<svg class=\"chart\""), "charts are drawn on the server");
        let mut problems = b.accessibility_problems().await;
        b.screenshot(&format!("reports-performance-{name}-{backend:?}")).await;

        // The first chart's CSV, fetched as the download link would.
        let link = "section[aria-labelledby=opened-closed] a[download]";
        let href = b.script("return document.querySelector(arguments[0]).getAttribute('href')", json!([link])).await;
        let href = href.as_str().unwrap().to_owned();
        assert!(href.contains("group_by=day"), "{href}");
        let fetched = b
            .script_async(
                "const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.text()).then(done);",
                json!([href]),
            )
            .await;
        assert_eq!(fetched.as_str().unwrap(), api_csv, "the dashboard's CSV is the API's");

        // Narrowed to one department with the form.
        b.select("#department", "SAN").await;
        b.follow("form.filters button[type=submit]").await;
        assert!(b.current_url().await.contains("department=SAN"), "the filters are in the URL to share");
        assert_eq!(figure(&b, "Opened").await, "1");
        assert_eq!(b.text("#department option:checked").await, "Sanitation");

        b.follow("nav.tabs a[href='/staff/reports/operations']").await;
        assert_eq!(figure(&b, "Open").await, "3", "D, F and G are still open");
        assert!(b.text("section[aria-labelledby=aging]").await.contains("8–30 days"));
        problems.extend(b.accessibility_problems().await);
        b.screenshot(&format!("reports-operations-{name}-{backend:?}")).await;

        // Where work stalls, over the week, by the tab and the form.
        b.follow("nav.tabs a[href='/staff/reports/stalls']").await;
        show_the_week(&b).await;
        assert_eq!(figure(&b, "Closed").await, "3");
        assert_eq!(figure(&b, "Transferred").await, "1");
        let transfers = b.text("section[aria-labelledby=transfers] tbody").await;
        assert!(transfers.contains("Public Works") && transfers.contains("Sanitation"), "{transfers}");
        // The longest-waiting request opens from its link.
        let first = "section[aria-labelledby=longest] tbody a";
        assert!(b.text(first).await.starts_with("2026-"), "a request number");
        problems.extend(b.accessibility_problems().await);
        b.screenshot(&format!("reports-stalls-{name}-{backend:?}")).await;
        b.follow(first).await;
        assert!(b.current_url().await.contains("/staff/requests/"), "to the request");

        b.goto(&format!("{base}/staff/reports/recurring?from=2026-03-02&to=2026-03-08")).await;
        assert_eq!(figure(&b, "Reported again").await, "3", "C, D and E at A's place after A was resolved");
        let contacts = b.text("section[aria-labelledby=repeat-contacts]").await;
        assert!(contacts.contains("20%"), "E of Public Works' five was a duplicate: {contacts}");
        problems.extend(b.accessibility_problems().await);
        b.screenshot(&format!("reports-recurring-{name}-{backend:?}")).await;

        b.follow("nav.tabs a[href='/staff/reports/demand']").await;
        assert!(b.source().await.contains("<svg class=\"chart heat\""), "the hours of the week are drawn");
        b.select("#channel", "phone").await;
        b.follow("form.filters button[type=submit]").await;
        assert!(b.current_url().await.contains("channel=phone"), "the channel is in the URL to share");
        assert!(b.text("#hour-of-week").await.ends_with("Phone"));
        problems.extend(b.accessibility_problems().await);
        b.screenshot(&format!("reports-demand-{name}-{backend:?}")).await;
        b.close().await;
        assert!(
            problems.is_empty(),
            "serious or critical accessibility problems at {width}px:\n{}",
            problems.join("\n")
        );
    }
}
