//! The weekly report by email: on the Monday after the week `reports` works out by
//! hand, each department with an address is sent last week's numbers against the week
//! before — the reporting API's numbers — through the outbox and a real SMTP server,
//! once however often it is asked.

#![allow(clippy::unwrap_used)]

use civic311_app::Notifiers;
use civic311_jobs::Dispatcher;
use civic311_testkit::smtp::SmtpServer;
use civic311_testkit::{Backend, both_backends};
use jiff::Timestamp;

use crate::common::{self, api};
use crate::reports::week;

both_backends!(each_department_gets_last_weeks_numbers_once_on_monday_morning);

async fn each_department_gets_last_weeks_numbers_once_on_monday_morning(backend: Backend) {
    let app = week(backend).await;
    let mut node = app.state.app.clone();
    node.public_url = Some("http://civic311.test".into());
    // Monday 9 March, 06:30: the week of the 2nd is not due yet (the week before it,
    // with nothing in it, is).
    let early: Timestamp = "2026-03-09T06:30:00-05:00".parse().unwrap();
    assert_eq!(civic311_app::weekly::due(&node, early), "2026-W09");
    let monday: Timestamp = "2026-03-09T08:00:00-05:00".parse().unwrap();
    assert_eq!(civic311_app::weekly::due(&node, monday), "2026-W10");
    let queued = civic311_app::weekly::send_due(&node, monday).await.unwrap();
    assert_eq!(queued, 3, "311 Triage, Public Works and Sanitation each have an address");
    assert_eq!(civic311_app::weekly::send_due(&node, monday).await.unwrap(), 0, "never twice");
    let later: Timestamp = "2026-03-11T10:00:00-05:00".parse().unwrap();
    assert_eq!(civic311_app::weekly::send_due(&node, later).await.unwrap(), 0, "nor later in the week");

    let mail = SmtpServer::start();
    let model = app.state.city().workflow.clone();
    let notifiers = Notifiers::new(Some(common::smtp(&mail)), None);
    let sent = Dispatcher::new(notifiers, Some("http://civic311.test".into()))
        .run(&app.store, &model, monday, 100)
        .await
        .unwrap();
    assert_eq!((sent.dead, sent.retried), (0, 0));
    let inbox = mail.received();
    let weekly = inbox.iter().filter(|m| m.subject.contains("311 last week (2026-W10)")).count();
    assert_eq!(weekly, 3, "one each");
    let pw = inbox.iter().find(|m| m.to.contains("pw@testville.example")).unwrap();
    assert_eq!(pw.subject, "Public Works: 311 last week (2026-W10)");
    let api_total =
        api(&app, "GET", "/api/v1/reports/requests?from=2026-03-02&to=2026-03-08&department=PW", Some("ali"), None)
            .await
            .json()["total"]
            .clone();
    for line in [
        format!("Requests opened: {} (the week before: 1)", api_total["opened"]),
        format!("Requests closed: {} (the week before: 0)", api_total["closed"]),
        "Median time to close: too few closed to judge (3)".to_owned(),
        format!(
            "Open at the end of the week: {}, {} of them past due (the week before: 1, 1 past due)",
            api_total["open_at_end"], api_total["sla"]["open_past_due_at_end"]
        ),
        "Public Works, week 2026-W10 (Mar 2 – Mar 8, 2026):".to_owned(),
        "http://civic311.test/staff/reports?from=2026-03-02&to=2026-03-08&department=PW".to_owned(),
    ] {
        assert!(pw.body.contains(&line), "{line}\nin:\n{}", pw.body);
    }
}
