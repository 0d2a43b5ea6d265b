//! `GET /data.json`: a DCAT-US 1.1 catalogue of the city's open data, where CKAN,
//! Socrata and data.gov harvesters look for it. Public.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::AppState;
use crate::open311::requests::base_url;

pub async fn catalogue(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let base = base_url(&state, &headers);
    let city = state.city();
    let name = &city.settings.name;
    let today = state.now().to_zoned(city.tz.clone()).date().to_string();
    let outline = &city.settings.boundary_layer;
    let mut bbox: Option<[f64; 4]> = None;
    for f in city.boundaries.features().iter().filter(|f| &f.layer == outline) {
        let (lo, hi) = f.bbox();
        let b = bbox.get_or_insert([lo[0], lo[1], hi[0], hi[1]]);
        *b = [b[0].min(lo[0]), b[1].min(lo[1]), b[2].max(hi[0]), b[3].max(hi[1])];
    }
    let columns = format!("{base}/open-data");
    let distribution = |ext: &str, media: &str, format: &str| -> Value {
        json!({
            "@type": "dcat:Distribution",
            "title": format!("311 service requests ({format})"),
            "downloadURL": format!("{base}/open-data/requests.{ext}"),
            "mediaType": media,
            "format": format,
            "describedBy": columns,
            "describedByType": "text/html",
        })
    };
    let mut dataset = json!({
        "@type": "dcat:Dataset",
        "identifier": format!("{base}/open-data/requests"),
        "title": format!("{name} 311 service requests"),
        "description": format!(
            "Every request made to a public service of {name}'s 311 — what was reported, where, when, \
             the department responsible, its status and when it was closed — in the columns of the \
             Open311 GeoReport bulk format. Updated as requests are handled; nothing personal is published."
        ),
        "keyword": ["311", "service requests", "Open311", "city services"],
        "modified": today,
        "accrualPeriodicity": "irregular",
        "publisher": { "@type": "org:Organization", "name": name },
        "contactPoint": {
            "@type": "vcard:Contact",
            "fn": format!("{name} 311"),
            "hasEmail": format!("mailto:{}", city.settings.contact),
        },
        "accessLevel": "public",
        "landingPage": columns,
        "describedBy": columns,
        "describedByType": "text/html",
        "distribution": [
            distribution("csv", "text/csv", "CSV"),
            distribution("json", "application/json", "JSON"),
            distribution("geojson", "application/geo+json", "GeoJSON"),
        ],
    });
    if let Some([w, s, e, n]) = bbox {
        dataset["spatial"] = json!(format!("{w},{s},{e},{n}"));
    }
    axum::Json(json!({
        "@context": "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld",
        "@id": format!("{base}/data.json"),
        "@type": "dcat:Catalog",
        "conformsTo": "https://project-open-data.cio.gov/v1.1/schema",
        "describedBy": "https://project-open-data.cio.gov/v1.1/schema/catalog.json",
        "dataset": [dataset],
    }))
    .into_response()
}
