//! Keeping the report rollups up to date: every request written is queued in its own
//! transaction; a drain recomputes what each queued request adds to the cells (its
//! facts, as [`civic311_domain::report`] defines them) and moves the cells by the
//! difference. `serve` drains every few seconds, and a report drains what is left
//! before it reads, so no report misses a committed change.

use std::sync::Arc;
use std::time::Duration;

use civic311_domain::report::Facts;
use civic311_domain::report::flow::Flow;
use civic311_domain::report::rollup::Contribution;
use civic311_store::{Rollup, StoreError};

use crate::{App, AppError, CityModel};

/// Queued entries one drain transaction takes: short enough that intake never waits
/// long behind it for SQLite's one writer.
pub const BATCH: i64 = 1_000;
/// Queued entries one transaction takes when building the rollups from scratch
/// (`civic311 reports rebuild`): requests of one stretch share most of their cells, so
/// larger transactions read and write each cell far fewer times.
pub const REBUILD_BATCH: i64 = 20_000;
/// How many a report drains before it reads; beyond that it answers from the requests.
pub const BEFORE_READING: i64 = 20_000;

/// What a request adds to the rollups in `city`.
pub fn rollup(city: Arc<CityModel>) -> Rollup {
    Arc::new(move |r, events, last_resolved_here| {
        let mut history = events.to_vec();
        history.sort_by_key(|e| (e.at, e.id));
        let f = Facts::of(r, &history);
        let flow = Flow::of(r, &history, f.closed_at);
        let calendar = r.workflow.sla.as_ref().and_then(|c| city.workflow.calendar(&c.calendar));
        Contribution::of(r, &f, &flow, last_resolved_here, calendar, &city.tz, city.boundaries.layers())
    })
}

/// Drains what waits in the queue, up to [`BEFORE_READING`] entries, before a report
/// reads the cells; how many entries still wait after. Usually none waits (serve
/// drains every few seconds): then a report is only reads, and never queues behind
/// intake for SQLite's one writer.
pub async fn catch_up(app: &App) -> Result<i64, AppError> {
    let pending = app.store.reports_pending().await?;
    if pending == 0 {
        return Ok(0);
    }
    drain(app, BEFORE_READING).await?;
    Ok(app.store.reports_pending().await?)
}

/// Drains the queue until it is empty or `most` entries were taken; how many were.
pub async fn drain(app: &App, most: i64) -> Result<i64, AppError> {
    drain_by(app, most, BATCH).await
}

/// [`drain`], `batch` entries per transaction.
pub async fn drain_by(app: &App, most: i64, batch: i64) -> Result<i64, AppError> {
    let rollup = rollup(app.city());
    let mut done = 0i64;
    let mut conflicts = 0;
    while done < most {
        match app.store.drain_reports(batch.min(most - done), Arc::clone(&rollup)).await {
            Ok(0) => break,
            Ok(n) => done += i64::try_from(n).unwrap_or(i64::MAX),
            // Another process drained the same entries first: take the next ones.
            Err(StoreError::Conflict(_)) if conflicts < 10 => conflicts += 1,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(done)
}

/// Drains forever, every `every` (at once again while there is more), and queues the
/// weekly reports when they fall due.
pub async fn run(app: App, every: Duration) {
    // The week whose reports this node has seen queued (by itself or another).
    let mut reported = None;
    loop {
        match drain(&app, BATCH * 10).await {
            Ok(n) if n >= BATCH * 10 => continue,
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "report rollup drain failed; retrying"),
        }
        let now = (app.clock)();
        let week = crate::weekly::due(&app, now);
        if reported.as_ref() != Some(&week) {
            match crate::weekly::send_due(&app, now).await {
                Ok(_) => reported = Some(week),
                Err(e) => tracing::error!(error = %e, "queueing the weekly reports failed; retrying"),
            }
        }
        tokio::time::sleep(every).await;
    }
}
