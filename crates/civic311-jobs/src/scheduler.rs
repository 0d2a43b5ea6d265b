//! The background loop inside `serve`: sweep due timers, then deliver due messages,
//! every few seconds. Safe to run on every app node at once: work is claimed with leases.

use std::sync::Arc;
use std::time::Duration;

use civic311_domain::workflow::WorkflowModel;
use civic311_store::SharedStore;
use jiff::Timestamp;

use crate::{Dispatcher, sweep};

/// Most timers and messages handled per round.
const BATCH: i64 = 200;

/// Runs one round: the sweep, then delivery. Returns how much was done.
pub async fn round(
    store: &SharedStore,
    model: &WorkflowModel,
    dispatcher: &Dispatcher,
    now: Timestamp,
) -> civic311_store::StoreResult<usize> {
    let swept = sweep(store, model, now, BATCH).await?;
    let delivered = dispatcher.run(store, model, now, BATCH).await?;
    Ok(swept.claimed + delivered.sent + delivered.retried + delivered.dead)
}

/// Loops forever; a full round is followed at once by another.
pub async fn run(
    store: SharedStore,
    model: impl Fn() -> Arc<WorkflowModel> + Send + 'static,
    clock: Arc<dyn Fn() -> Timestamp + Send + Sync>,
    dispatcher: Dispatcher,
    every: Duration,
) {
    loop {
        let done = match round(&store, &model(), &dispatcher, clock()).await {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %e, "scheduler round failed; retrying");
                0
            }
        };
        if done < usize::try_from(BATCH).unwrap_or(usize::MAX) {
            tokio::time::sleep(every).await;
        }
    }
}
