//! Intake: turns what a resident or app sent into a validated, located and routed
//! request ready to store. Shared by every channel.

use std::collections::BTreeMap;

use civic311_domain::FieldError;
use civic311_domain::asset::{ASSET_LAYER, Asset};
use civic311_domain::geo::Point;
use civic311_domain::notify::NotifyChannel;
use civic311_domain::request::{Channel, Contact, Description, EventKind, Location, Media, NewRequest, ServiceRequest};
use civic311_domain::routing::RoutingInput;
use civic311_domain::service::{Answers, AssetUse};
use civic311_domain::workflow;
use civic311_store::Intake;
use jiff::Timestamp;

use crate::city::CityModel;
use crate::{App, AppError, tokens};

/// A request as received, before any checking.
#[derive(Debug, Clone, Default)]
pub struct RawRequest {
    pub service_code: String,
    pub description: String,
    pub lat: Option<String>,
    pub long: Option<String>,
    pub address: Option<String>,
    pub address_id: Option<String>,
    pub zipcode: Option<String>,
    pub answers: Answers,
    pub contact: Contact,
    pub media_url: Option<String>,
    pub media: Vec<Media>,
    /// How the requester wants updates: `email`, `sms` or `none`.
    pub notify: Option<String>,
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

fn coordinate(raw: &Option<String>, field: &str, errors: &mut Vec<FieldError>) -> Option<f64> {
    let s = non_empty(raw)?;
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Some(v),
        _ => {
            errors.push(FieldError::new(field, format!("'{s}' is not a number")));
            None
        }
    }
}

/// The tag on a request whose typed address could not be placed: routed by category
/// only, for staff to locate.
pub const LOCATION_UNVERIFIED: &str = "location-unverified";

/// How far from a point the nearest address may be and still describe it.
pub const NEAR_METRES: f64 = 100.0;

/// Where a request is, once the address layer has been asked.
struct Placed {
    point: Option<Point>,
    address: Option<String>,
    zipcode: Option<String>,
    /// An address was typed but no one place matches it.
    unverified: bool,
}

/// Completes a location from the address layer: a typed address that clearly names
/// one address point is located there (as the point's address); a point given without
/// an address gets the nearest one. A typed address that matches nothing clearly is
/// kept as typed and marked unverified — a report is never refused for it.
fn place(city: &CityModel, point: Option<Point>, address: Option<String>, zipcode: Option<String>) -> Placed {
    let layer = &city.addresses;
    match (point, address) {
        (Some(p), None) => {
            let near = layer.nearest(p, NEAR_METRES);
            let zipcode = zipcode.or_else(|| near.as_ref().and_then(|a| a.postcode.clone()));
            Placed { point: Some(p), address: near.map(|a| a.label()), zipcode, unverified: false }
        }
        (None, Some(typed)) => match layer.locate(&typed) {
            Some(found) => Placed {
                point: Some(found.point),
                address: Some(found.label),
                zipcode: zipcode.or(found.postcode),
                unverified: false,
            },
            None => Placed { point: None, address: Some(typed), zipcode, unverified: true },
        },
        (point, address) => Placed { point, address, zipcode, unverified: false },
    }
}

/// The asset a report of a service that concerns `used` assets is about: the one it
/// names by id, else the nearest to `point` within the service's snapping distance.
/// A named asset that does not exist, or none for a service that requires one, is an
/// error in `errors` (a requirement holds once the city has assets of those types).
fn named_asset<'a>(
    city: &'a CityModel,
    used: &AssetUse,
    point: Option<Point>,
    id: Option<String>,
    errors: &mut Vec<FieldError>,
) -> Option<&'a Asset> {
    let kinds = used.types.join(" or ").replace(['_', '-'], " ");
    let found = match &id {
        Some(id) => {
            let found = city.assets.find(&used.types, id);
            if found.is_none() {
                errors.push(FieldError::new(AssetUse::FIELD, format!("no {kinds} has the id {id}")));
            }
            found
        }
        None => point.and_then(|p| city.assets.nearest(&used.types, p, f64::from(used.snap_m))).map(|n| n.asset),
    };
    if used.required && id.is_none() && found.is_none() && city.assets.holds(&used.types) {
        errors.push(FieldError::new(
            AssetUse::FIELD,
            format!(
                "say which {kinds} this is about: pick one on the map or from the list (none stands within {} m of \
                 the location given)",
                used.snap_m
            ),
        ));
    }
    found
}

/// Longest value accepted for short free-text fields (names, address, ids).
const MAX_FIELD: usize = 250;

/// Files a request from any channel: checked, located and routed against the city as
/// it is now, and stored with everything it causes in one transaction. The request as
/// stored; when this returns, it is committed.
pub async fn submit(app: &App, raw: RawRequest, channel: Channel) -> Result<ServiceRequest, AppError> {
    let intake = prepare(&app.city(), raw, channel, app.now(), tokens::new_request_token())?;
    Ok(app.store.create_request(intake).await?)
}

/// [`submit`] for a request a member of staff logs on a caller's behalf (by phone, at
/// the counter): its history records who logged it.
pub async fn submit_for_caller(
    app: &App,
    raw: RawRequest,
    channel: Channel,
    staff: &str,
) -> Result<ServiceRequest, AppError> {
    let mut intake = prepare(&app.city(), raw, channel, app.now(), tokens::new_request_token())?;
    intake.logged_by = Some(staff.to_owned());
    Ok(app.store.create_request(intake).await?)
}

/// Validates, locates and routes a request. Every problem is reported at once.
pub fn prepare(
    city: &CityModel,
    mut raw: RawRequest,
    channel: Channel,
    now: Timestamp,
    token: String,
) -> Result<Intake, AppError> {
    let code = raw.service_code.trim();
    let service = match city.service(code) {
        Some(s) if s.is_public() || !matches!(channel, Channel::Mobile | Channel::Web) => s,
        // No public service has this code (or, for staff channels, no service at all).
        _ if code.is_empty() => return Err(AppError::invalid("service_code", "is required")),
        _ => return Err(AppError::not_found("service_code", format!("service_code {code} not found"))),
    };
    let mut errors = Vec::new();
    // The asset a report names travels as Open311 `attribute[asset_id]`, not as an
    // answer to one of the service's questions.
    // A service that concerns no asset has no such question: left among the answers,
    // it is refused as any unknown question is.
    let asset_id = service
        .assets
        .as_ref()
        .and_then(|_| raw.answers.remove(AssetUse::FIELD))
        .and_then(|ids| ids.into_iter().map(|id| id.trim().to_owned()).find(|id| !id.is_empty()));
    let description = Description::parse(&raw.description).map_err(|e| errors.push(e)).unwrap_or_default();
    let lat = coordinate(&raw.lat, "lat", &mut errors);
    let lon = coordinate(&raw.long, "long", &mut errors);
    let point = match (lat, lon) {
        (Some(lat), Some(lon)) => Point::new(lat, lon).map_err(|e| errors.push(e)).ok(),
        (None, None) => None,
        (Some(_), None) => {
            errors.push(FieldError::new("long", "lat and long must be given together"));
            None
        }
        (None, Some(_)) => {
            errors.push(FieldError::new("lat", "lat and long must be given together"));
            None
        }
    };
    let address = non_empty(&raw.address);
    let address_id = non_empty(&raw.address_id);
    if point.is_none()
        && address.is_none()
        && address_id.is_none()
        && asset_id.is_none()
        && errors.iter().all(|e| e.field != "lat" && e.field != "long")
    {
        errors.push(FieldError::new("location", "a location is required: lat and long, address_string or address_id"));
    }
    let contact = Contact {
        email: non_empty(&raw.contact.email),
        phone: non_empty(&raw.contact.phone),
        first_name: non_empty(&raw.contact.first_name),
        last_name: non_empty(&raw.contact.last_name),
        device_id: non_empty(&raw.contact.device_id),
        account_id: non_empty(&raw.contact.account_id),
        notify: match non_empty(&raw.notify) {
            None => None,
            Some(n) => NotifyChannel::parse(&n).or_else(|| {
                errors.push(FieldError::new("notify", format!("'{n}' is not one of email, sms, both or none")));
                None
            }),
        },
        language: non_empty(&raw.contact.language).map(|l| l.to_ascii_lowercase()),
    };
    let by = |c| contact.notify == Some(c) || contact.notify == Some(NotifyChannel::Both);
    if by(NotifyChannel::Email) && contact.email.is_none() {
        errors.push(FieldError::new("email", "an email address is needed for updates by email"));
    }
    if by(NotifyChannel::Sms) && contact.phone.is_none() {
        errors.push(FieldError::new("phone", "a phone number is needed for updates by SMS"));
    }
    if contact.language.as_ref().is_some_and(|l| l.len() > 8 || !l.chars().all(|c| c.is_ascii_alphabetic() || c == '-'))
    {
        errors.push(FieldError::new("language", "a language code like en or es"));
    }
    if let Some(email) = &contact.email
        && !civic311_domain::text::looks_like_email(email)
    {
        errors.push(FieldError::new("email", format!("'{email}' is not an email address")));
    }
    if let Some(phone) = &contact.phone
        && !civic311_domain::text::looks_like_phone(phone)
    {
        errors.push(FieldError::new("phone", format!("'{phone}' is not a phone number (7 to 15 digits)")));
    }
    let zipcode = non_empty(&raw.zipcode);
    let media_url = non_empty(&raw.media_url);
    for (field, v) in [
        ("address_string", &address),
        ("address_id", &address_id),
        ("zipcode", &zipcode),
        ("email", &contact.email),
        ("phone", &contact.phone),
        ("first_name", &contact.first_name),
        ("last_name", &contact.last_name),
        ("device_id", &contact.device_id),
        ("account_id", &contact.account_id),
    ] {
        if v.as_ref().is_some_and(|v| v.chars().count() > MAX_FIELD) {
            errors.push(FieldError::new(field, format!("at most {MAX_FIELD} characters")));
        }
    }
    if let Some(url) = &media_url
        && !((url.starts_with("http://") || url.starts_with("https://")) && url.len() <= 2000)
    {
        errors.push(FieldError::new("media_url", "must be an http or https URL of at most 2000 characters"));
    }
    // Whatever is stored must be publishable in every format, XML included.
    let texts = [
        ("description", Some(&raw.description)),
        ("lat", raw.lat.as_ref()),
        ("long", raw.long.as_ref()),
        ("address_string", raw.address.as_ref()),
        ("address_id", raw.address_id.as_ref()),
        ("zipcode", raw.zipcode.as_ref()),
        ("media_url", raw.media_url.as_ref()),
        ("email", raw.contact.email.as_ref()),
        ("phone", raw.contact.phone.as_ref()),
        ("first_name", raw.contact.first_name.as_ref()),
        ("last_name", raw.contact.last_name.as_ref()),
        ("device_id", raw.contact.device_id.as_ref()),
        ("account_id", raw.contact.account_id.as_ref()),
    ];
    for (field, text) in texts {
        if let Some(Err(e)) = text.map(|t| civic311_domain::text::check_text(field, t)) {
            errors.retain(|old| old.field != e.field);
            errors.push(e);
        }
    }
    for (code, values) in &raw.answers {
        for v in values {
            if let Err(e) = civic311_domain::text::check_text(&format!("attribute[{code}]"), v) {
                errors.push(e);
            }
        }
    }
    let answers = service.parse_answers(&raw.answers).map_err(|e| errors.extend(e)).unwrap_or_default();

    let mut placed = place(city, point, address, zipcode);
    let asset = service.assets.as_ref().and_then(|used| named_asset(city, used, placed.point, asset_id, &mut errors));
    if let (None, Some(asset)) = (placed.point, asset) {
        // Named by its asset alone: the request stands where the asset does.
        let typed = placed.address.filter(|_| !placed.unverified);
        placed = place(city, Some(asset.point), typed, placed.zipcode);
    }
    let (point, address, zipcode) = (placed.point, placed.address, placed.zipcode);
    let mut areas: BTreeMap<String, String> = point.map(|p| city.boundaries.locate(&p)).unwrap_or_default();
    if let Some(asset) = asset {
        areas.insert(ASSET_LAYER.to_owned(), asset.key());
    }
    if let Some(p) = point
        && city.settings.require_inside
        && city.boundaries.layers().contains(&city.settings.boundary_layer)
        && !areas.contains_key(&city.settings.boundary_layer)
    {
        errors.push(FieldError::new(
            "lat",
            format!(
                "the location {:.5}, {:.5} is outside {}; this service covers the city only",
                p.lat, p.lon, city.settings.name
            ),
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }

    let mut decision = city.routing.route(&RoutingInput {
        service,
        description: description.as_str(),
        areas: &areas,
        channel,
        answers: &answers,
        requested_at: now,
    });
    if placed.unverified {
        decision.assignment.tags.push(LOCATION_UNVERIFIED.to_owned());
    }
    let request = NewRequest {
        service_code: service.code.clone(),
        description,
        location: Location { point, address, address_id, zipcode },
        answers,
        channel,
        contact,
        media_url,
        media: raw.media,
        areas,
        requested_at: now,
    };
    let workflow = civic311_domain::workflow::start(
        &city.workflow,
        &request.service_code,
        &decision.assignment.department,
        decision.assignment.priority,
        now,
    );
    let mut intake = Intake {
        request,
        decision,
        token,
        closed: None,
        workflow,
        messages: vec![],
        timers: vec![],
        logged_by: None,
        history: vec![],
        imported: None,
    };
    let provisional = intake.provisional();
    let model = &city.workflow;
    intake.timers = workflow::timers(model, &provisional);
    intake.messages = workflow::resident_messages(model, &provisional, &[], "received", None);
    let created =
        workflow::NewEvent { kind: EventKind::Created, actor: "resident".into(), data: serde_json::json!({}) };
    intake.messages.extend(workflow::webhook_messages(model, &provisional, &[created]));
    Ok(intake)
}
