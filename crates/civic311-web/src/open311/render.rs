//! Rendering domain values as Open311 documents.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use civic311_domain::request::{Event, EventKind, ServiceRequest};
use civic311_domain::service::{AssetUse, Service};
use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::Format;
use super::doc::{Document, Node};
use civic311_app::CityModel;

/// The document as an HTTP response in the chosen format.
pub fn respond(status: StatusCode, format: Format, doc: &Document) -> Response {
    match format {
        Format::Json => {
            (status, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], doc.to_json()).into_response()
        }
        Format::Xml => (status, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], doc.to_xml()).into_response(),
    }
}

/// W3C date-time in the city's zone, with its offset: `2026-03-01T14:05:00-06:00`.
pub fn datetime(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned(tz.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// One entry of the service list.
pub fn service_node(s: &Service) -> Node {
    Node::Obj(vec![
        ("service_code", Node::text(&s.code)),
        ("service_name", Node::text(&s.name)),
        ("description", Node::text(&s.description)),
        ("metadata", Node::Bool(s.has_metadata())),
        ("type", Node::text(s.service_type.as_str())),
        ("keywords", Node::text(s.keywords.join(", "))),
        ("group", Node::text(&s.group)),
    ])
}

/// A service's questions (Open311 service definition).
pub fn definition_document(s: &Service) -> Document {
    let mut attributes: Vec<Node> = s
        .ordered_attributes()
        .into_iter()
        .map(|a| {
            let values = a
                .values
                .iter()
                .map(|v| Node::Obj(vec![("key", Node::text(&v.key)), ("name", Node::text(&v.name))]))
                .collect();
            Node::Obj(vec![
                ("variable", Node::Bool(a.variable)),
                ("code", Node::text(&a.code)),
                ("datatype", Node::text(a.datatype.as_str())),
                ("required", Node::Bool(a.required)),
                ("datatype_description", Node::text(&a.datatype_description)),
                ("order", Node::Int(i64::from(a.order))),
                ("description", Node::text(&a.description)),
                ("values", Node::list("value", values)),
            ])
        })
        .collect();
    if let Some(used) = &s.assets {
        // The asset travels as `attribute[asset_id]`, like an answer.
        let kinds = used.types.join(" or ").replace(['_', '-'], " ");
        let left_out = if used.required { "required unless one stands" } else { "left out, the nearest one" };
        attributes.push(Node::Obj(vec![
            ("variable", Node::Bool(true)),
            ("code", Node::text(AssetUse::FIELD)),
            ("datatype", Node::text("string")),
            ("required", Node::Bool(used.required)),
            (
                "datatype_description",
                Node::text(format!("The city's id of the {kinds} ({left_out} within {} m of lat/long)", used.snap_m)),
            ),
            ("order", Node::Int(0)),
            ("description", Node::text(format!("Which {kinds}"))),
            ("values", Node::list("value", Vec::new())),
        ]));
    }
    Document {
        root: "service_definition",
        body: Node::Obj(vec![
            ("service_code", Node::text(&s.code)),
            ("attributes", Node::list("attribute", attributes)),
        ]),
    }
}

/// Options for rendering requests.
pub struct RequestView<'a> {
    pub city: &'a CityModel,
    /// `http://host` for absolute media links.
    pub base_url: &'a str,
    /// Adds `extended_attributes` and `notes` (the `extensions=true` parameter).
    pub extensions: bool,
    /// The moment of the answer: a request past its due time is said to be delayed.
    pub now: jiff::Timestamp,
}

/// `status_notes`: a delayed request says so first, with the date now expected.
fn status_notes(r: &ServiceRequest, now: jiff::Timestamp, tz: &TimeZone) -> Option<String> {
    if !r.delayed(now) {
        return r.status_notes.clone();
    }
    let delay = match r.expected_by().filter(|at| *at > now) {
        Some(at) => format!("Delayed: now expected by {}", datetime(at, tz)),
        None => "Delayed: past its expected date".to_owned(),
    };
    Some(match r.status_notes.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => format!("{delay}. {n}"),
        None => delay,
    })
}

/// What a public event says, in words.
pub fn public_text(e: &Event) -> String {
    let text = |k: &str| e.data.get(k).and_then(|v| v.as_str()).filter(|n| !n.is_empty());
    match e.kind {
        EventKind::Created => "Request received".to_owned(),
        EventKind::Note => text("text").unwrap_or_default().to_owned(),
        _ => {
            let to = text("to").unwrap_or("updated").replace('_', " ");
            match text("note") {
                Some(note) => format!("Status changed to {to}: {note}"),
                None => format!("Status changed to {to}"),
            }
        }
    }
}

/// One public note from an event: when, what, and the event kind.
fn note_node(e: &Event, tz: &TimeZone) -> Node {
    Node::Obj(vec![
        ("datetime", Node::text(datetime(e.at, tz))),
        ("description", Node::text(public_text(e))),
        ("type", Node::text(e.kind.as_str())),
    ])
}

/// A request as the public sees it: never the requester's contact details. `notes`
/// are its public events, used when `v.extensions` is set.
pub fn request_node(r: &ServiceRequest, v: &RequestView<'_>, notes: &[&Event]) -> Node {
    let tz = &v.city.tz;
    let service = v.city.service(&r.service_code);
    let point = r.location.point;
    let media_url = r.media_ids.first().map(|id| format!("{}/media/{id}", v.base_url)).or_else(|| r.media_url.clone());
    let mut fields = vec![
        ("service_request_id", Node::text(r.id.to_string())),
        ("status", Node::text(r.status.open311())),
        ("status_notes", Node::opt(status_notes(r, v.now, tz))),
        ("service_name", Node::text(service.map_or(r.service_code.as_str(), |s| s.name.as_str()))),
        ("service_code", Node::text(&r.service_code)),
        ("description", Node::text(&r.description)),
        ("agency_responsible", Node::text(v.city.department_name(&r.assignment.department))),
        ("service_notice", Node::opt(service.map(|s| s.service_notice.clone()).filter(|n| !n.is_empty()))),
        ("requested_datetime", Node::text(datetime(r.requested_at, tz))),
        ("updated_datetime", Node::text(datetime(r.closed_at.unwrap_or(r.updated_at), tz))),
        ("expected_datetime", Node::opt(r.expected_by().map(|t| datetime(t, tz)))),
        ("address", Node::opt(r.location.address.clone())),
        ("address_id", Node::opt(r.location.address_id.clone())),
        ("zipcode", Node::opt(r.location.zipcode.clone())),
        ("lat", point.map_or(Node::Null, |p| Node::Num(p.lat))),
        ("long", point.map_or(Node::Null, |p| Node::Num(p.lon))),
        ("media_url", Node::opt(media_url)),
    ];
    if v.extensions {
        let media = r.media_ids.iter().map(|id| Node::text(format!("{}/media/{id}", v.base_url))).collect();
        let areas = r.areas.iter().map(|(layer, feature)| {
            Node::Obj(vec![
                ("layer", Node::text(layer)),
                ("feature", Node::text(feature)),
                ("name", Node::text(v.city.boundaries.feature_name(layer, feature).unwrap_or(feature))),
            ])
        });
        fields.push((
            "extended_attributes",
            Node::Obj(vec![
                ("channel", Node::text(r.channel.as_str())),
                ("priority", Node::text(r.assignment.priority.as_str())),
                ("detailed_status", Node::text(r.status.as_str())),
                ("areas", Node::list("area", areas.collect())),
                ("media_urls", Node::list("media_url", media)),
            ]),
        ));
        fields.push(("notes", Node::list("note", notes.iter().map(|e| note_node(e, tz)).collect())));
    }
    Node::Obj(fields)
}
