//! A crew attaches photos to a request through the staff API: public ones join the
//! request's Open311 media, internal ones are served to staff only, every upload is an
//! event naming who attached it, and a refused upload stores nothing.

#![allow(clippy::unwrap_used)]

use civic311_testkit::app::{TestResponse, multipart};
use civic311_testkit::{Backend, TestApp, both_backends, photos};
use common::{api, file_pothole, setup};

use crate::common;

both_backends!(a_crew_attaches_public_and_internal_photos, refused_uploads_store_nothing);

/// A file to upload: field name, file name, content type, bytes.
type File<'a> = (&'a str, &'a str, &'a str, &'a [u8]);

type Fields<'a> = &'a [(&'a str, &'a str)];

async fn upload(app: &TestApp, id: &str, user: &str, fields: &[(&str, &str)], files: &[File<'_>]) -> TestResponse {
    let mut req = multipart(&format!("/api/v1/requests/{id}/photos"), fields, files);
    req.headers_mut().insert("authorization", format!("Bearer {user}-token").parse().unwrap());
    app.call(req).await
}

async fn a_crew_attaches_public_and_internal_photos(backend: Backend) {
    let (jpeg_bytes, png_bytes) = (photos::jpeg(8, 6), photos::png(4, 4));
    let (jpeg_file, png_file) = (jpeg_bytes.as_slice(), png_bytes.as_slice());
    let app = setup(backend).await;
    let id = file_pothole(&app).await;
    let r = upload(
        &app,
        &id,
        "pat",
        &[("public", "true"), ("note", "after the repair")],
        &[("photo", "after.jpg", "image/jpeg", jpeg_file)],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = upload(&app, &id, "pat", &[("public", "false")], &[("photo", "plate.png", "image/png", png_file)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let photos = r.json()["photos"].clone();
    assert_eq!(photos.as_array().unwrap().len(), 2, "{photos}");
    let (public, internal) = (photos[0]["id"].as_i64().unwrap(), photos[1]["id"].as_i64().unwrap());
    assert_eq!((photos[0]["public"].as_bool(), photos[1]["public"].as_bool()), (Some(true), Some(false)));

    // Residents and Open311 apps see the public photo only.
    let open311 = app.get(&format!("/open311/v2/requests/{id}.json?extensions=true")).await.json();
    let urls: Vec<String> =
        open311[0]["extended_attributes"]["media_urls"].as_array().unwrap().iter().map(|u| u.to_string()).collect();
    assert_eq!(urls.len(), 1, "{open311}");
    assert!(urls[0].ends_with(&format!("/media/{public}\"")), "{urls:?}");
    let (status, _, bytes) = app.get_bytes(&format!("/media/{public}")).await;
    // Stored re-encoded (no metadata), the same picture.
    assert_eq!(status.as_u16(), 200);
    assert!(bytes.starts_with(&[0xFF, 0xD8, 0xFF]) && bytes.len() > 100, "a JPEG comes back");
    assert_eq!(app.get(&format!("/media/{internal}")).await.status, 404, "internal photos are not public");

    // Staff see both, and the history says who attached what.
    let r = api(&app, "GET", &format!("/api/v1/media/{internal}"), Some("ali"), None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["cache-control"], "private, max-age=3600");
    assert_eq!(api(&app, "GET", &format!("/api/v1/media/{internal}"), None, None).await.status, 401);
    let staff_view = api(&app, "GET", &format!("/api/v1/requests/{id}"), Some("ali"), None).await.json();
    assert_eq!(staff_view["photos"].as_array().unwrap().len(), 2);
    let attached: Vec<_> =
        staff_view["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "photos_attached").collect();
    assert_eq!(attached.len(), 2);
    assert_eq!(attached[0]["actor"], "pat");
    assert_eq!(attached[0]["data"]["public"], true);
    assert_eq!(attached[0]["data"]["note"], "after the repair");
    assert_eq!(attached[1]["data"]["public"], false);
}

async fn refused_uploads_store_nothing(backend: Backend) {
    let (jpeg_bytes, png_bytes) = (photos::jpeg(8, 6), photos::png(4, 4));
    let (jpeg_file, png_file) = (jpeg_bytes.as_slice(), png_bytes.as_slice());
    let app = setup(backend).await;
    let id = file_pothole(&app).await;
    let jpeg = [("photo", "a.jpg", "image/jpeg", jpeg_file)];
    let cases: [(&str, Fields, &[File], u16, &str); 5] = [
        ("pat", &[], &jpeg, 400, "public=true or public=false"),
        ("pat", &[("public", "true")], &[("photo", "a.txt", "text/plain", b"hello")], 400, "JPEG, PNG, WebP or GIF"),
        ("pat", &[("public", "true")], &[("photo", "a.jpg", "image/jpeg", png_file)], 400, "not a valid image/jpeg"),
        ("pat", &[("public", "true")], &[], 400, "between 1 and 5"),
        ("ali", &[("public", "true")], &jpeg, 403, "analyst role may not attach_photos"),
    ];
    for (user, fields, files, status, says) in cases {
        let r = upload(&app, &id, user, fields, files).await;
        assert_eq!(r.status, status, "{says}: {}", r.body);
        assert!(r.body.contains(says), "{says}: {}", r.body);
    }
    let r = upload(&app, &id, "sam", &[("public", "true")], &jpeg).await;
    assert_eq!(r.status, 403, "another department's supervisor");
    let six: Vec<_> = (0..6).map(|_| ("photo", "a.jpg", "image/jpeg", jpeg_file)).collect();
    let r = upload(&app, &id, "pat", &[("public", "true")], &six).await;
    assert_eq!(r.status, 400);
    let staff_view = api(&app, "GET", &format!("/api/v1/requests/{id}"), Some("ada"), None).await.json();
    assert_eq!(staff_view["photos"], serde_json::json!([]));
    assert!(staff_view["events"].as_array().unwrap().iter().all(|e| e["kind"] != "photos_attached"));
}
