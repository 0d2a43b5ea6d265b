//! The attacks a security review of the demo found, each reproduced from outside as an
//! attacker would try it, and refused.

#![allow(clippy::unwrap_used)]

use civic311_testkit::{Backend, both_backends};
use common::{Browser, PASSWORD, file_pothole, hidden, set_password, setup_with, smtp};

mod common;

both_backends!(links_in_mail_never_come_from_the_host_header);

/// Mail from the city to the test SMTP server `mail`, with the public URL `public`.
fn mailing(
    mail: &civic311_testkit::smtp::SmtpServer,
    public: Option<&str>,
) -> impl FnOnce(civic311_web::AppState) -> civic311_web::AppState {
    let config = smtp(mail);
    let public = public.map(str::to_owned);
    move |mut s| {
        s.public_url = public;
        s.with_notifiers(civic311_jobs::Notifiers::new(Some(config), None))
    }
}

async fn links_in_mail_never_come_from_the_host_header(backend: Backend) {
    let forged = [("host".to_owned(), "attacker.example".to_owned())];
    // Configured: the links point at the city's address whatever Host says.
    let mail = civic311_testkit::smtp::SmtpServer::start();
    let app = setup_with(backend, mailing(&mail, Some("https://311.testville.example/"))).await;
    set_password(&app, "pat", PASSWORD).await;
    file_pothole(&app).await;
    let mut b = Browser { headers: forged.to_vec(), ..Browser::default() };
    let form = b.get(&app, "/staff/forgot").await;
    let r = b.post(&app, "/staff/forgot", &[("who", "pat"), ("csrf", &hidden(&form.body, "csrf"))]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(b.post(&app, "/my", &[("email", "res@example.test")]).await.status, 200);
    let received = mail.received();
    assert_eq!(received.len(), 2, "{received:?}");
    for m in &received {
        assert!(!m.raw.contains("attacker.example"), "{}", m.raw);
        assert!(m.body.contains("https://311.testville.example/"), "{}", m.body);
    }

    // Not configured: no link is mailed at all, and the page says what to set.
    let mail = civic311_testkit::smtp::SmtpServer::start();
    let app = setup_with(backend, mailing(&mail, None)).await;
    set_password(&app, "pat", PASSWORD).await;
    file_pothole(&app).await;
    let mut b = Browser { headers: forged.to_vec(), ..Browser::default() };
    let form = b.get(&app, "/staff/forgot").await;
    let r = b.post(&app, "/staff/forgot", &[("who", "pat"), ("csrf", &hidden(&form.body, "csrf"))]).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("CIVIC311_PUBLIC_URL"), "{}", r.body);
    let r = b.post(&app, "/my", &[("email", "res@example.test")]).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(mail.received().is_empty(), "{:?}", mail.received());
}
