//! A small city for tests: three departments, four services (one internal-only, one
//! batch, one with every attribute datatype), two wards and two routing rules.

use civic311_domain::city::CitySettings;
use civic311_domain::geo::{BoundaryFeature, Polygon};
use civic311_domain::org::{Department, Role, StaffUser, Team};
use civic311_domain::routing::RuleSet;
use civic311_domain::service::{Catalog, Service};
use civic311_store::{ApiKey, Store};

/// The Open311 API key the fixture city accepts.
pub const API_KEY: &str = "test-key";
/// A point in ward W1, and one in ward W2.
pub const IN_W1: (f64, f64) = (41.01, -88.01);
pub const IN_W2: (f64, f64) = (41.01, -87.99);
/// A point outside the city.
pub const OUTSIDE: (f64, f64) = (42.0, -88.0);

pub fn settings() -> CitySettings {
    CitySettings {
        jurisdiction_id: "test.civic311.org".into(),
        name: "Testville".into(),
        time_zone: "America/Chicago".into(),
        require_inside: true,
        boundary_layer: "wards".into(),
        triage_department: "TRIAGE".into(),
        contact: "311@testville.example".into(),
        units: Default::default(),
        layer_names: Default::default(),
    }
}

const SERVICES: &str = r#"
[[service]]
code = "POTHOLE"
name = "Pothole"
description = "A hole in the road surface"
group = "Streets"
keywords = ["pothole", "road"]
department = "PW"
service_notice = "Potholes are usually filled within 3 business days."
  [[service.attributes]]
  code = "SIZE"
  datatype = "singlevaluelist"
  required = true
  order = 1
  description = "How big is it?"
  values = [{ key = "small", name = "Smaller than a plate" }, { key = "large", name = "Larger than a plate" }]
  [[service.attributes]]
  code = "DEPTH"
  datatype = "number"
  order = 2
  description = "Depth in centimetres"
  [[service.attributes]]
  code = "HAZARDS"
  datatype = "multivaluelist"
  order = 3
  description = "Who is at risk?"
  values = [{ key = "cars", name = "Cars" }, { key = "bikes", name = "Bikes" }, { key = "walkers", name = "Pedestrians" }]
  [[service.attributes]]
  code = "SEEN"
  datatype = "datetime"
  order = 4
  description = "When did you first see it?"
  [[service.attributes]]
  code = "LANDMARK"
  datatype = "string"
  order = 5
  description = "Nearest landmark"
  [[service.attributes]]
  code = "DETAILS"
  datatype = "text"
  order = 6
  description = "Anything else?"
  [[service.attributes]]
  code = "NOTE"
  variable = false
  datatype = "string"
  order = 7
  description = "Call 911 if the hole caused an accident."
  [service.translations.es]
  name = "Bache"
  group = "Calles"
  service_notice = "Los baches suelen rellenarse en 3 días hábiles."
  keywords = ["bache", "hoyo"]
  questions = { SIZE = "¿Qué tamaño tiene?" }
  answers = { small = "Más pequeño que un plato", large = "Más grande que un plato" }

[[service]]
code = "GRAFFITI"
name = "Graffiti"
description = "Paint on public property"
group = "Streets"
type = "batch"
department = "PW"

[[service]]
code = "BULK"
name = "Bulk item pickup"
description = "Furniture and appliances"
group = "Sanitation"
department = "SAN"

[[service]]
code = "FACILITY"
name = "Facilities repair"
description = "City buildings (staff only)"
group = "Internal"
visibility = "internal"
department = "TRIAGE"
"#;

const RULES: &str = r#"
[[rule]]
name = "gas is urgent"
when.keywords = ["gas", "downed power line"]
then.priority = "urgent"

[[rule]]
name = "bulk items in ward 2"
when.services = ["BULK"]
when.within = { wards = ["W2"] }
then.team = "SAN-BULK"
"#;

pub fn services() -> Vec<Service> {
    Catalog::from_toml(SERVICES).expect("fixture services parse").services
}

pub fn rules() -> RuleSet {
    toml::from_str(RULES).expect("fixture rules parse")
}

fn square(layer: &str, id: &str, x0: f64, y0: f64, x1: f64, y1: f64) -> BoundaryFeature {
    BoundaryFeature {
        layer: layer.into(),
        feature: id.into(),
        name: format!("Ward {}", &id[1..]),
        polygons: vec![Polygon { rings: vec![vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] }],
    }
}

/// The knowledge base: a public answer linked from potholes (also in Spanish) and an
/// internal article for staff.
pub const ARTICLES: &str = r#"
[[article]]
slug = "pothole-repairs"
title = "How potholes are repaired"
body = "Crews fill most potholes within three business days.\n\nClaims for damage go to the City Clerk."
services = ["POTHOLE"]
keywords = ["road damage", "tyre"]
  [article.translations.es]
  title = "Cómo se reparan los baches"
  body = "Los equipos rellenan la mayoría de los baches en tres días hábiles."

[[article]]
slug = "crew-radio-codes"
title = "Crew radio codes"
body = "Internal only: code 7 means the crew is on site."
public = false
services = ["POTHOLE"]
"#;

pub fn articles() -> Vec<civic311_domain::kb::Article> {
    civic311_domain::kb::KnowledgeBase::from_toml(ARTICLES).expect("fixture articles").articles
}

pub fn wards() -> Vec<BoundaryFeature> {
    vec![square("wards", "W1", -88.02, 41.0, -88.0, 41.02), square("wards", "W2", -88.0, 41.0, -87.98, 41.02)]
}

/// Writes the fixture city into an empty store.
pub async fn seed(store: &dyn Store) {
    store.put_settings(&settings()).await.expect("settings");
    for (code, name) in [("TRIAGE", "311 Triage"), ("PW", "Public Works"), ("SAN", "Sanitation")] {
        let d = Department {
            code: code.into(),
            name: name.into(),
            email: format!("{}@testville.example", code.to_lowercase()),
            intake_team: None,
            translations: Default::default(),
        };
        store.put_department(&d).await.expect("department");
    }
    for (code, dept) in [("PW-NORTH", "PW"), ("SAN-BULK", "SAN")] {
        store.put_team(&Team { code: code.into(), department: dept.into(), name: code.into() }).await.expect("team");
    }
    let user = StaffUser {
        username: "pat".into(),
        display_name: "Pat Public Works".into(),
        email: "pat@testville.example".into(),
        department: "PW".into(),
        team: Some("PW-NORTH".into()),
        role: Role::Staff,
        also_departments: vec![],
        active: true,
        digest: Default::default(),
    };
    store.put_user(&user).await.expect("user");
    for s in services() {
        store.put_service(&s).await.expect("service");
    }
    store.replace_boundary_layer("wards", &wards()).await.expect("wards");
    store.put_rules(&rules()).await.expect("rules");
    store.put_api_key(&ApiKey { key: API_KEY.into(), label: "tests".into(), per_minute: None }).await.expect("api key");
    for a in articles() {
        store.put_article(&a).await.expect("article");
    }
}
