//! `GET /api/v1/reports/requests`: the requests report as JSON or CSV, for analysts
//! (every department), supervisors (their departments) and administrators.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use civic311_app::reports::{Measures, Report, ReportQuery};
use civic311_domain::report::Spread;
use serde_json::{Value, json};

use super::ApiError;
use super::auth::caller;
use super::extract::ApiQuery;
use crate::AppState;

/// `GET /api/v1/reports/requests`.
pub async fn requests(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let user = caller(&state, &headers).await?;
    let departments = civic311_domain::policy::report_scope(&user)
        .map_err(|why| ApiError::new(StatusCode::FORBIDDEN, "authorization", why))?;
    let format = params.iter().find(|(k, _)| k == "format").map_or("json", |(_, v)| v.as_str());
    if !matches!(format, "json" | "csv") {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "format", "json or csv"));
    }
    let city = state.city();
    let q = ReportQuery::parse(&params, &city)?;
    let asked = q.filters.iter().filter(|(d, _)| d.name() == "department").flat_map(|(_, v)| v);
    civic311_domain::policy::report_departments_allowed(&user, &departments, asked)
        .map_err(|why| ApiError::new(StatusCode::FORBIDDEN, "department", why))?;
    let report = civic311_app::reports::run(&state, q, departments).await?;
    Ok(if format == "csv" {
        ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv(&report)).into_response()
    } else {
        Json(as_json(&report)).into_response()
    })
}

/// Hours rounded to hundredths (what a report can show; the median and p90 are exact
/// before that).
fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn spread(s: &Option<Spread>) -> Value {
    s.map_or(Value::Null, |s| json!({ "median": round(s.median), "p90": round(s.p90), "mean": round(s.mean) }))
}

fn measures(m: &Measures) -> Value {
    json!({
        "opened": m.opened,
        "closed": m.closed,
        "open_at_end": m.open_at_end,
        "hours_to_close": spread(&m.hours_to_close),
        "business_hours_to_close": spread(&m.business_hours_to_close),
        "sla": {
            "met": m.met,
            "missed": m.missed,
            "compliance": m.compliance().map(|c| (c * 10_000.0).round() / 10_000.0),
            "open_past_due_at_end": m.open_past_due_at_end,
        },
        "duplicates": m.duplicates,
        "transfers": m.transfers,
        "reopened": m.reopened,
        "rating": { "count": m.rating_count, "mean": m.rating_mean.map(round) },
    })
}

fn as_json(r: &Report) -> Value {
    let names: Vec<String> = r.query.group_by.iter().map(|d| d.name()).collect();
    let rows: Vec<Value> = r
        .rows
        .iter()
        .map(|(key, m)| {
            let mut row = measures(m);
            row["key"] = names.iter().zip(key).map(|(n, v)| (n.clone(), json!(v))).collect();
            row
        })
        .collect();
    json!({
        "from": r.query.from.to_string(),
        "to": r.query.to.to_string(),
        "time_zone": r.time_zone,
        "group_by": names,
        "rows": rows,
        "total": measures(&r.total),
    })
}

/// The measures' columns in the CSV, after the key's.
const COLUMNS: [&str; 18] = [
    "opened",
    "closed",
    "open_at_end",
    "hours_to_close_median",
    "hours_to_close_p90",
    "hours_to_close_mean",
    "business_hours_to_close_median",
    "business_hours_to_close_p90",
    "business_hours_to_close_mean",
    "sla_met",
    "sla_missed",
    "sla_compliance",
    "sla_open_past_due_at_end",
    "duplicates",
    "transfers",
    "reopened",
    "rating_count",
    "rating_mean",
];

/// One field of RFC 4180 CSV.
pub(crate) fn field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) { format!("\"{}\"", v.replace('"', "\"\"")) } else { v.to_owned() }
}

/// The report's rows as RFC 4180 CSV with a header: the key's dimensions, then the
/// measures flattened (`hours_to_close_median`, …); what is not known is empty.
pub(crate) fn csv(r: &Report) -> String {
    let names: Vec<String> = r.query.group_by.iter().map(|d| d.name()).collect();
    let header: Vec<String> = names.iter().map(|n| field(n)).chain(COLUMNS.iter().map(|c| (*c).to_owned())).collect();
    let mut out = header.join(",") + "\r\n";
    for (key, m) in &r.rows {
        let row = measures(m);
        let flat = |v: &Value| match v {
            Value::Null => String::new(),
            other => other.to_string(),
        };
        let mut cells: Vec<String> = key.iter().map(|v| field(v.as_deref().unwrap_or(""))).collect();
        cells.extend(
            [
                &row["opened"],
                &row["closed"],
                &row["open_at_end"],
                &row["hours_to_close"]["median"],
                &row["hours_to_close"]["p90"],
                &row["hours_to_close"]["mean"],
                &row["business_hours_to_close"]["median"],
                &row["business_hours_to_close"]["p90"],
                &row["business_hours_to_close"]["mean"],
                &row["sla"]["met"],
                &row["sla"]["missed"],
                &row["sla"]["compliance"],
                &row["sla"]["open_past_due_at_end"],
                &row["duplicates"],
                &row["transfers"],
                &row["reopened"],
                &row["rating"]["count"],
                &row["rating"]["mean"],
            ]
            .into_iter()
            .map(flat),
        );
        out += &cells.join(",");
        out += "\r\n";
    }
    out
}
