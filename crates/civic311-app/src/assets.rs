//! Requests about the city's assets: the one open now (a resident about to report the
//! same streetlight follows it instead) and the history an asset's page shows.

use civic311_domain::asset::{ASSET_LAYER, Asset};
use civic311_domain::request::{ServiceRequest, Status};
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
