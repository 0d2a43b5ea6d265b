//! Requests about the city's assets: the one open now (a resident about to report the
//! same streetlight follows it instead) and the history an asset's page shows.

use civic311_domain::asset::{ASSET_LAYER, Asset};
use civic311_domain::geo::Point;
use civic311_domain::request::{ServiceRequest, Status};
use civic311_domain::service::AssetUse;
use civic311_store::query::{RequestQuery, Sort};

use crate::{App, AppError};

/// The most requests an asset's page lists.
const HISTORY: u32 = 200;

fn about(asset_key: &str) -> RequestQuery {
    RequestQuery { areas: vec![(ASSET_LAYER.to_owned(), vec![asset_key.to_owned()])], ..RequestQuery::default() }
}

/// The oldest open request about the asset keyed `asset_key` (`streetlight:SL-1001`),
/// among those the public may see.
pub async fn open_request(app: &App, asset_key: &str) -> Result<Option<ServiceRequest>, AppError> {
    let q = RequestQuery {
        statuses: Status::ACTIVE.to_vec(),
        exclude_services: app.city().internal_codes(),
        sort: Sort::Oldest,
        limit: 1,
        ..about(asset_key)
    };
    Ok(app.store.list_requests(&q).await?.into_iter().next())
}

/// What staff see of an asset: its requests, newest first, the one open now, and
/// whether it is failing again and again.
#[derive(Debug)]
pub struct History {
    pub asset: Asset,
    pub requests: Vec<ServiceRequest>,
    pub open: Option<ServiceRequest>,
    /// It failed the city's repeat-failure number of times within its window.
    pub repeat_failure: bool,
}

/// The history of asset `id` of type `kind`; not found when the city has no such asset.
pub async fn history(app: &App, kind: &str, id: &str) -> Result<History, AppError> {
    let city = app.city();
    let asset = city.assets.get(kind, id).cloned().ok_or_else(|| AppError::not_found("asset", "no such asset"))?;
    let q = RequestQuery { sort: Sort::Newest, limit: HISTORY, ..about(&asset.key()) };
    let requests = app.store.list_requests(&q).await?;
    let open = requests.iter().filter(|r| Status::ACTIVE.contains(&r.status)).min_by_key(|r| r.requested_at).cloned();
    let filed: Vec<_> = requests.iter().map(|r| r.requested_at).collect();
    let repeat_failure = city.workflow.config.repeat_failure.marks(&filed);
    Ok(History { asset, requests, open, repeat_failure })
}

/// An asset near a report, for a person to pick.
#[derive(Debug, Clone)]
pub struct Nearby {
    pub asset: Asset,
    pub metres: f64,
    /// The open request about it, when there is one: follow that instead.
    pub reported: Option<String>,
    /// The one a report there is taken to be about: the one named, else the nearest
    /// within the service's snapping distance.
    pub picked: bool,
}

/// How many nearby assets are offered, and how far from the report they may be.
const OFFERED: usize = 8;
const OFFERED_WITHIN_M: f64 = 200.0;

/// The assets of the kinds `used` names near `at`, nearest first, each with its open
/// request; `named` is the id a form already picked.
pub async fn nearby(app: &App, used: &AssetUse, at: Point, named: Option<&str>) -> Vec<Nearby> {
    let city = app.city();
    let near = city.assets.near(&used.types, at, OFFERED_WITHIN_M.max(f64::from(used.snap_m)), OFFERED);
    let picked = named
        .map(str::to_owned)
        .or_else(|| near.first().filter(|n| n.metres <= f64::from(used.snap_m)).map(|n| n.asset.id.clone()));
    let mut out = Vec::with_capacity(near.len());
    for n in near {
        let reported = match open_request(app, &n.asset.key()).await {
            Ok(r) => r.map(|r| r.id.to_string()),
            Err(e) => {
                // The report can still be made; the offer is a courtesy.
                tracing::warn!(error = %e, "open request lookup for an asset failed");
                None
            }
        };
        let picked = picked.as_deref() == Some(n.asset.id.as_str());
        out.push(Nearby { asset: n.asset.clone(), metres: n.metres, reported, picked });
    }
    out
}
