//! The escalation sweep: claims due timers with a lease and carries each out in one
//! transaction with its events and messages. It reads only due timers (an index on
//! the due time), so a sweep with nothing due costs the same with a million open
//! requests as with ten.

use civic311_domain::notify::{DIGEST_CATCH_UP, DIGEST_VAR, STAFF_KINDS};
use civic311_domain::workflow::{self, WorkflowModel};
use civic311_store::{RequestUpdate, SharedStore, StoreError, StoreResult};
use jiff::{SignedDuration, Timestamp};

use civic311_app::engine::update_for;

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub claimed: usize,
    /// Timers that escalated or reminded.
    pub fired: usize,
    /// Timers that were stale (the request changed) and were only rescheduled.
    pub rescheduled: usize,
    /// Timers another node carried out first.
    pub lost: usize,
}

/// How long a claimed timer is reserved for this node.
pub const LEASE: SignedDuration = SignedDuration::from_secs(60);

/// A timer this long overdue when first seen came due while the scheduler was not
/// running (a restart, the demo's first start): its staff mail is folded into one
/// catch-up message per person instead of one mail each.
pub const CATCH_UP_AFTER: SignedDuration = SignedDuration::from_mins(15);

/// Catch-up mail is held to the next quarter hour, so that everything a restart finds
/// overdue (over many sweeps) goes out together.
const CATCH_UP_RELEASE: i64 = 15 * 60;

/// Marks the staff mail of `update` for the catch-up bundle (see [`CATCH_UP_AFTER`]),
/// released at the next quarter hour after `now`; mail already held for a digest stays
/// in it.
fn fold_into_catch_up(update: &mut RequestUpdate, now: Timestamp) {
    let secs = now.as_second();
    let release = Timestamp::from_second(secs - secs.rem_euclid(CATCH_UP_RELEASE) + CATCH_UP_RELEASE).ok();
    for m in &mut update.messages {
        if m.channel == "email" && STAFF_KINDS.contains(&m.kind.as_str()) && !m.vars.contains_key(DIGEST_VAR) {
            m.vars.insert(DIGEST_VAR.into(), DIGEST_CATCH_UP.into());
            m.not_before = release;
        }
    }
}

/// Carries out up to `limit` due timers at `now`.
pub async fn sweep(store: &SharedStore, model: &WorkflowModel, now: Timestamp, limit: i64) -> StoreResult<SweepReport> {
    let lease_until = now.checked_add(LEASE).unwrap_or(now);
    let claimed = store.claim_timers(now, lease_until, limit).await?;
    let mut report = SweepReport { claimed: claimed.len(), ..SweepReport::default() };
    for (seq, kind, due) in claimed {
        let Some(req) = store.request(seq).await? else { continue };
        let (update, fired) = match workflow::fire(model, &req, kind, now) {
            Some(change) => (update_for(store, model, change).await?, true),
            None => {
                let timers = workflow::timers(model, &req);
                let mut u = RequestUpdate::new(req);
                u.timers = timers;
                (u, false)
            }
        };
        let mut update = update;
        if now.duration_since(due) > CATCH_UP_AFTER {
            fold_into_catch_up(&mut update, now);
        }
        update.fired = Some((kind, due));
        match store.commit(vec![update]).await {
            Ok(_) if fired => report.fired += 1,
            Ok(_) => report.rescheduled += 1,
            Err(StoreError::Conflict(_)) => report.lost += 1,
            Err(e) => return Err(e),
        }
    }
    Ok(report)
}
