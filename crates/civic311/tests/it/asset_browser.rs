//! Assets in a real headless Chromium: at phone width, in English and Spanish, a
//! resident reporting a streetlight picks it from the nearby ones and, once it is
//! reported, is offered to follow that report instead; staff read the light's page.
//! Every page on the way passes the accessibility scan.

#![allow(clippy::unwrap_used)]

use civic311_testkit::browser::Browser;
use civic311_testkit::fixture::IN_W2;
use civic311_testkit::{Backend, both_backends};
use serde_json::json;

use crate::assets::{beside, with_lights};

both_backends!(a_resident_picks_the_streetlight_and_is_offered_its_open_report);

const ENTER: &str = "\u{E007}";

async fn a_resident_picks_the_streetlight_and_is_offered_its_open_report(backend: Backend) {
    let app = with_lights(backend, true).await;
    // A second light some 60 m east, to pick on the map.
    let east = vec![crate::assets::light("SL-3", (IN_W2.0, IN_W2.1 + 0.0007))];
    civic311_app::configure::put_assets(&app.state.app, civic311_app::configure::By::Console, "streetlight", east)
        .await
        .unwrap();
    let base = app.listen().await;
    let name = format!("{backend:?}").to_lowercase();
    let (lat, long) = beside(IN_W2);
    let mut problems = Vec::new();
    let mut filed = None;
    for (lang, which, reported) in
        [("en", "Which one is it?", "This one is already reported"), ("es", "¿Cuál es?", "Este ya está reportado")]
    {
        let b = Browser::start(390, 844).await;
        b.goto(&format!("{base}/report/BULK?step=details&lat={lat}&long={long}&lang={lang}")).await;
        assert!(b.text("fieldset.assets legend").await.contains(which));
        let picked = b.script("return document.querySelector('fieldset.assets input:checked').value", json!([])).await;
        assert_eq!(picked, "SL-1", "the nearest light is picked");
        for p in b.accessibility_problems().await {
            problems.push(format!("asset list ({lang}): {p}"));
        }
        b.script("document.querySelector('fieldset.assets').scrollIntoView({ block: 'center' })", json!([])).await;
        b.screenshot(&format!("asset-pick-{lang}-{name}")).await;
        match &filed {
            None => {
                // A numbered pin on the map picks its light in the list, and back.
                let checked = "return document.querySelector('fieldset.assets input:checked').value";
                b.click(".asset-map a[data-asset='SL-3']").await;
                assert_eq!(b.script(checked, json!([])).await, "SL-3");
                b.click(".asset-map a[data-asset='SL-1']").await;
                assert_eq!(b.script(checked, json!([])).await, "SL-1");
                // Filed about the light picked.
                b.follow("main form button[type=submit]:not([formaction])").await;
                let url = b.current_url().await;
                assert!(url.contains("?filed=1"), "{url}");
                let id = url.rsplit("/requests/").next().unwrap().split('?').next().unwrap().to_owned();
                let stored = app.state.request_named(&id).await.unwrap().unwrap();
                assert_eq!(stored.areas.get("asset").map(String::as_str), Some("streetlight:SL-1"));
                filed = Some(id);
            }
            Some(id) => {
                // The next resident is offered to follow the report about it.
                assert!(b.text("#reported-h").await.contains(reported));
                assert!(b.text("main").await.contains(id.as_str()));
                b.script("document.querySelector('#reported-h').scrollIntoView()", json!([])).await;
                b.screenshot(&format!("asset-reported-{lang}-{name}")).await;
            }
        }
        b.close().await;
    }

    // Staff read the light's page: its request, open now.
    assert_eq!(crate::common::set_password(&app, "ada", "correct horse battery").await.status, 200);
    let b = Browser::start(1280, 900).await;
    b.goto(&format!("{base}/staff/sign-in")).await;
    b.type_into("#username", "ada").await;
    b.type_into("#password", "correct horse battery").await;
    b.keys_to_new_page(ENTER).await;
    b.goto(&format!("{base}/staff/assets/streetlight/SL-1")).await;
    assert!(b.text("#now + p").await.contains(filed.as_deref().unwrap()));
    problems.extend(b.accessibility_problems().await.into_iter().map(|p| format!("asset page: {p}")));
    b.screenshot(&format!("asset-page-{name}")).await;
    b.close().await;
    assert!(problems.is_empty(), "accessibility problems:\n{}", problems.join("\n"));
}
