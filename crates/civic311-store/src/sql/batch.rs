//! Intake batching: requests that arrive while earlier ones are being written are
//! stored together, in one transaction with multi-row inserts, instead of one
//! transaction each. Each caller is answered after the commit that holds its request.
//! When a merged batch fails (one bad request), its requests are written one by one,
//! so only the bad one is refused.

use std::sync::Arc;

use civic311_domain::request::ServiceRequest;
use tokio::sync::{Mutex, mpsc, oneshot};

use super::{SqlBackend, SqlTx, insert_intakes};
use crate::Intake;
use crate::error::{StoreError, StoreResult};

/// Most requests merged into one transaction.
const MAX_BATCH: usize = 256;

type Pending = (Intake, oneshot::Sender<StoreResult<ServiceRequest>>);

/// The queue of requests waiting to be stored, and the workers that store them.
pub struct IntakeBatcher {
    queue: mpsc::Sender<Pending>,
}

impl IntakeBatcher {
    /// Starts `workers` tasks writing batches concurrently through `backend`.
    pub fn spawn<B: SqlBackend>(backend: Arc<B>, workers: usize) -> Self {
        let (queue, rx) = mpsc::channel::<Pending>(8192);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..workers.max(1) {
            let (backend, rx) = (Arc::clone(&backend), Arc::clone(&rx));
            tokio::spawn(async move {
                while let Some(batch) = next_batch(&rx).await {
                    write_batch(backend.as_ref(), batch).await;
                }
            });
        }
        Self { queue }
    }

    /// Stores one request; returns once it is committed.
    pub async fn submit(&self, intake: Intake) -> StoreResult<ServiceRequest> {
        let (reply, answer) = oneshot::channel();
        self.queue.send((intake, reply)).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

/// Waits for one request, then takes every other one already waiting.
async fn next_batch(rx: &Mutex<mpsc::Receiver<Pending>>) -> Option<Vec<Pending>> {
    let mut rx = rx.lock().await;
    let first = rx.recv().await?;
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(p) => batch.push(p),
            Err(_) => break,
        }
    }
    Some(batch)
}

async fn write_batch<B: SqlBackend>(backend: &B, batch: Vec<Pending>) {
    let (intakes, replies): (Vec<Intake>, Vec<_>) = batch.into_iter().unzip();
    // Shared, not cloned: a batch may carry photos.
    let intakes = Arc::new(intakes);
    if intakes.len() > 1 {
        let all = Arc::clone(&intakes);
        let merged = backend
            .write(Box::new(move |tx: &mut dyn SqlTx| Box::pin(async move { insert_intakes(tx, &all).await })))
            .await;
        if let Ok(stored) = merged
            && stored.len() == replies.len()
        {
            for (reply, s) in replies.into_iter().zip(stored) {
                let _ = reply.send(Ok(s));
            }
            return;
        }
    }
    for (i, reply) in replies.into_iter().enumerate() {
        let all = Arc::clone(&intakes);
        let result = backend
            .write(Box::new(move |tx: &mut dyn SqlTx| {
                Box::pin(async move { insert_intakes(tx, std::slice::from_ref(&all[i])).await })
            }))
            .await
            .and_then(|mut v| v.pop().ok_or_else(|| StoreError::Corrupt("insert returned nothing".into())));
        let _ = reply.send(result);
    }
}
