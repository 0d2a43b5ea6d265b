//! Following a request with the follower's consent. Anyone may ask, from the portal or
//! an Open311 app, for a request's updates to go to an email address or phone; the
//! address is sent one message with a signed link to confirm, and nothing else until
//! it does. Every later message to it ends with a signed link to stop. The links are
//! sent at once, never through the outbox that staff read.

use civic311_domain::i18n;
use civic311_domain::notify::{Follower, LinkPurpose, NotifyChannel, link_signature, link_signature_ok};
use civic311_domain::request::ServiceRequest;
use civic311_domain::text::{looks_like_email, looks_like_phone};
use jiff::SignedDuration;

use crate::{App, AppError};

/// Why no confirmation can be sent without a public address to link to.
pub const NO_LINKS: &str = "CIVIC311_PUBLIC_URL is not set, so no confirmation link can be sent";

/// How long a confirmation link works.
pub const CONFIRM_WITHIN: SignedDuration = SignedDuration::from_hours(48);

/// Confirmations sent to one address are counted over this long…
const ASKS_WITHIN: SignedDuration = SignedDuration::from_hours(1);

/// …and at most this many go out in that time (one per request): a resident may
/// follow a few requests at once, nobody can flood an inbox.
const MOST_ASKS: i64 = 3;

/// Longest address accepted, as for a requester's contact.
const MAX_ADDRESS: usize = 250;

/// The error for a number that names no public request.
fn no_public_request() -> AppError {
    AppError::not_found("service_request_id", "no such public request")
}

/// The follower a form describes, checked as intake checks a requester's contact:
/// `email` or `phone`, `notify` (email or sms, else whichever was given) and
/// `language`. The error is a sentence naming the field.
pub fn follower(fields: &[(String, String)]) -> Result<Follower, String> {
    let get = |k: &str| fields.iter().find(|(n, v)| n == k && !v.trim().is_empty()).map(|(_, v)| v.trim());
    let (email, phone) = (get("email"), get("phone"));
    let channel = match get("notify") {
        None if email.is_some() => NotifyChannel::Email,
        None if phone.is_some() => NotifyChannel::Sms,
        None => return Err("email or phone is required to follow a request".into()),
        Some(n) => match NotifyChannel::parse(n) {
            Some(c @ (NotifyChannel::Email | NotifyChannel::Sms)) => c,
            _ => return Err(format!("notify: '{n}' must be email or sms")),
        },
    };
    let address = match channel {
        NotifyChannel::Email => email.filter(|e| e.chars().count() <= MAX_ADDRESS && looks_like_email(e)),
        _ => phone.filter(|p| p.chars().count() <= MAX_ADDRESS && looks_like_phone(p)),
    };
    let Some(address) = address else {
        return Err(match channel {
            NotifyChannel::Email => "email: a valid email address is needed to follow by email".into(),
            _ => "phone: a phone number (7 to 15 digits) is needed to follow by SMS".into(),
        });
    };
    let language = get("language").unwrap_or("en").to_ascii_lowercase();
    if language.len() > 8 || !language.chars().all(|c| c.is_ascii_alphabetic() || c == '-') {
        return Err("language: a language code like en or es".into());
    }
    Ok(Follower { channel, address: address.to_owned(), language })
}

/// The signature of a link for `purpose` about `seq` and `address`.
fn signature(app: &App, purpose: LinkPurpose, seq: i64, address: &str) -> String {
    link_signature(&app.link_key, purpose, seq, address)
}

/// The path of a signed link: `/requests/{number}/confirm/{sig}` or `…/unfollow/{sig}`.
pub fn link_path(app: &App, purpose: LinkPurpose, r: &ServiceRequest, address: &str) -> String {
    format!("/requests/{}/{}/{}", r.id, purpose.as_str(), signature(app, purpose, r.id.seq, address))
}

/// Asks for `follower` to follow the public request `seq` — the original when `seq`
/// was merged into a public one. Unless the address already follows it, was asked
/// about it within the hour, or was asked about `MOST_ASKS` requests within the hour,
/// a confirmation with a signed link is sent at once.
/// The answer is the same either way; it is the request followed.
pub async fn ask(app: &App, seq: i64, follower: Follower) -> Result<ServiceRequest, AppError> {
    let Some(base) = app.mail_base().map(str::to_owned) else { return Err(AppError::Unavailable(NO_LINKS.to_owned())) };
    let city = app.city();
    let found = app.store.request(seq).await?.ok_or_else(no_public_request)?;
    if !city.service(&found.service_code).is_some_and(|s| s.is_public()) {
        return Err(no_public_request());
    }
    let target = crate::duplicates::public_original(app, &city, &found).await?.unwrap_or(found);
    let now = app.now();
    let since = now.checked_sub(ASKS_WITHIN).unwrap_or(now);
    if !app.store.ask_to_follow(target.id.seq, &follower, now, since, MOST_ASKS).await? {
        tracing::info!(request = %target.id, "follow already confirmed, or asked about within the hour; nothing sent");
        return Ok(target);
    }
    let t = i18n::texts(&follower.language);
    let service =
        city.service(&target.service_code).map_or_else(|| target.service_code.clone(), |s| s.localized(t.code).name);
    let url = format!("{base}{}?lang={}", link_path(app, LinkPurpose::Confirm, &target, &follower.address), t.code);
    let fill = |s: &str| {
        s.replace("{city}", &city.settings.name)
            .replace("{number}", &target.id.to_string())
            .replace("{service}", &service)
            .replace("{url}", &url)
    };
    let sent = match follower.channel {
        NotifyChannel::Sms => app.notifiers.sms(&follower.address, &fill(t.get("follow.confirm_sms"))).await,
        _ => {
            let (subject, body) = (fill(t.get("follow.confirm_subject")), fill(t.get("follow.confirm_mail")));
            app.notifiers.email(&follower.address, &subject, &body).await
        }
    };
    if let Err(e) = sent {
        tracing::error!(error = %e, request = %target.id, "the confirmation of a follow could not be sent");
    }
    Ok(target)
}

/// The follower of `r` a signed link names: a pending one (asked within
/// [`CONFIRM_WITHIN`]) for [`LinkPurpose::Confirm`], a confirmed one for
/// [`LinkPurpose::Unfollow`]. `None` for a link that is forged, expired or used.
pub async fn named_by(
    app: &App,
    purpose: LinkPurpose,
    r: &ServiceRequest,
    sig: &str,
) -> civic311_store::StoreResult<Option<Follower>> {
    let seq = r.id.seq;
    let candidates = match purpose {
        LinkPurpose::Confirm => {
            let now = app.now();
            app.store.pending_followers(seq, now.checked_sub(CONFIRM_WITHIN).unwrap_or(now)).await?
        }
        LinkPurpose::Unfollow => app.store.followers(seq).await?,
    };
    Ok(candidates.into_iter().find(|f| link_signature_ok(&app.link_key, purpose, seq, &f.address, sig)))
}

/// An address as shown on a page reached by a link: enough to recognise, not to copy
/// (`r•••@example.test`, `•••0100`).
pub fn masked(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => format!("{}•••@{domain}", local.chars().next().unwrap_or('•')),
        None => {
            let digits: Vec<char> = address.chars().filter(char::is_ascii_digit).collect();
            let tail: String = digits[digits.len().saturating_sub(4)..].iter().collect();
            format!("•••{tail}")
        }
    }
}
