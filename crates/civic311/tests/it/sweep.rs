//! Several app nodes sweeping one database: every due escalation is carried out exactly
//! once, whether two sweepers run side by side or one picks up timers whose lease
//! another let lapse.

#![allow(clippy::unwrap_used)]

use civic311_domain::org::Role;
use civic311_jobs::sweep;
use civic311_store::OutboxQuery;
use civic311_testkit::fixture::IN_W1;
use civic311_testkit::{Backend, both_backends};
use common::{add_staff, post_pothole, setup};
use jiff::{SignedDuration, Timestamp};

use crate::common;

both_backends!(two_sweepers_escalate_each_request_exactly_once, a_lapsed_lease_never_fires_twice);

const REQUESTS: usize = 24;

/// Files `REQUESTS` potholes on a Monday morning; returns the time all have breached.
async fn breached_city(backend: Backend) -> (civic311_testkit::TestApp, Timestamp) {
    let app = setup(backend).await;
    add_staff(&app, "pwboss", "PW", None, Role::Supervisor).await;
    app.set_now("2026-03-02T09:00:00-06:00");
    for i in 0..REQUESTS {
        let at = (IN_W1.0 + i as f64 * 0.0001, IN_W1.1);
        let r = post_pothole(&app, at, &format!("pothole {i}"), &[("attribute[SIZE]", "large")]).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    // 8 business hours from 09:00 Monday is 09:00 Tuesday; a day later all have breached.
    (app, "2026-03-04T09:00:00-06:00".parse().unwrap())
}

async fn escalations(app: &civic311_testkit::TestApp) -> Vec<i64> {
    let events = app.store.sealed_events((0, 0), 100_000).await.unwrap();
    events.into_iter().filter(|e| e.kind == "escalated").map(|e| e.request_id).collect()
}

async fn two_sweepers_escalate_each_request_exactly_once(backend: Backend) {
    let (app, breach) = breached_city(backend).await;
    let model = app.state.city().workflow.clone();
    let (a, b) = (app.store.clone(), app.second_node().await);
    // Small batches so the two nodes interleave their claims.
    let run = |store: civic311_store::SharedStore, model: std::sync::Arc<_>| async move {
        let mut total = civic311_jobs::SweepReport::default();
        loop {
            let r = sweep(&store, &model, breach, 3).await.unwrap();
            if r.claimed == 0 {
                return total;
            }
            total.claimed += r.claimed;
            total.fired += r.fired;
            total.lost += r.lost;
        }
    };
    let (ra, rb) = tokio::join!(tokio::spawn(run(a, model.clone())), tokio::spawn(run(b, model.clone())));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.fired + rb.fired, REQUESTS, "{ra:?} {rb:?}");
    let mut escalated = escalations(&app).await;
    assert_eq!(escalated.len(), REQUESTS);
    escalated.sort_unstable();
    escalated.dedup();
    assert_eq!(escalated.len(), REQUESTS, "no request escalated twice");
    // One escalation email per request to the supervisor of the owning department.
    let outbox = app.store.outbox(&OutboxQuery { limit: 1000, ..OutboxQuery::default() }).await.unwrap();
    let emails = outbox
        .iter()
        .filter(|m| m.message.kind == "escalated" && m.message.recipient == "pwboss@testville.example")
        .count();
    assert_eq!(emails, REQUESTS);
    // And a later sweep finds nothing left to do.
    assert_eq!(sweep(&app.store, &model, breach, 100).await.unwrap().fired, 0);
}

async fn a_lapsed_lease_never_fires_twice(backend: Backend) {
    let (app, breach) = breached_city(backend).await;
    let model = app.state.city().workflow.clone();
    let second = app.second_node().await;
    // Node A claims everything, then stalls past its lease.
    let lease = breach + civic311_jobs::LEASE;
    let claimed_by_a = app.store.claim_timers(breach, lease, 100).await.unwrap();
    assert_eq!(claimed_by_a.len(), REQUESTS);
    // While the lease holds, node B gets nothing.
    assert_eq!(second.claim_timers(breach, lease, 100).await.unwrap().len(), 0);
    // After it lapses, node B sweeps and escalates each request once...
    let later = lease + SignedDuration::from_secs(1);
    let b = sweep(&second, &model, later, 100).await.unwrap();
    assert_eq!(b.fired, REQUESTS);
    // ...and node A, waking up, finds every timer already consumed.
    for (seq, kind, due) in claimed_by_a {
        let req = app.store.request(seq).await.unwrap().unwrap();
        let change = civic311_domain::workflow::fire(&model, &req, kind, breach);
        let mut u = civic311_store::RequestUpdate::new(change.map_or(req, |c| c.request));
        u.fired = Some((kind, due));
        let r = app.store.commit(vec![u]).await;
        assert!(matches!(r, Err(civic311_store::StoreError::Conflict(_))), "{r:?}");
    }
    assert_eq!(escalations(&app).await.len(), REQUESTS);
}
