//! Service categories (Open311 "services") and their intake questions
//! (Open311 service-definition attributes).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::request::Priority;
use crate::text::{contains_phrase, words};

/// How a service creates requests, per Open311: `realtime` returns an id at once,
/// `batch` returns a token to look the id up later, `blackbox` offers no lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ServiceType {
    #[default]
    Realtime,
    Batch,
    Blackbox,
}

impl ServiceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::Realtime => "realtime",
            ServiceType::Batch => "batch",
            ServiceType::Blackbox => "blackbox",
        }
    }
}

/// The six Open311 attribute datatypes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Datatype {
    String,
    Number,
    Datetime,
    Text,
    Singlevaluelist,
    Multivaluelist,
}

impl Datatype {
    pub fn as_str(self) -> &'static str {
        match self {
            Datatype::String => "string",
            Datatype::Number => "number",
            Datatype::Datetime => "datetime",
            Datatype::Text => "text",
            Datatype::Singlevaluelist => "singlevaluelist",
            Datatype::Multivaluelist => "multivaluelist",
        }
    }

    fn is_list(self) -> bool {
        matches!(self, Datatype::Singlevaluelist | Datatype::Multivaluelist)
    }
}

/// One allowed answer of a list question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeValue {
    pub key: String,
    pub name: String,
}

/// An intake question (Open311 service-definition attribute).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    pub code: String,
    /// False for text shown to the resident that takes no answer.
    #[serde(default = "yes")]
    pub variable: bool,
    pub datatype: Datatype,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub datatype_description: String,
    /// Display order, 1 first, unique within the service.
    pub order: u32,
    /// The question as shown to the resident.
    pub description: String,
    #[serde(default)]
    pub values: Vec<AttributeValue>,
}

fn yes() -> bool {
    true
}

/// Whether a service is offered to the public or only to staff (facilities, IT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    #[default]
    Public,
    Internal,
}

/// How a service's requests appear in the city's open data. Personal details and
/// internal services never do; this is for services whose reports can point at a
/// person (a tenant's complaint, an encampment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct OpenDataPolicy {
    /// Leave out the resident's words and staff's notes.
    #[serde(default)]
    pub withhold_text: bool,
    /// How precisely the location is published.
    #[serde(default)]
    pub location: Precision,
}

impl OpenDataPolicy {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// How precisely a location is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(try_from = "String", into = "String")]
pub enum Precision {
    /// The point and the address as reported (`"exact"`).
    #[default]
    Exact,
    /// The address's hundred block (`100 block of Oak St`) and the point rounded to
    /// three decimals (about 110 m north–south): a city block, not a door (`"block"`).
    Block,
    /// The centre of the H3 cell of this resolution that holds the point, and no
    /// address (`"h3:9"`): every report in the cell is published at the same place.
    Cell(u8),
}

impl Precision {
    /// The finest H3 resolution a policy may ask for: 10, cells of about 15,000 m²
    /// (66 m edges). Finer cells would point at a door again.
    pub const FINEST_CELL: u8 = 10;
}

impl TryFrom<String> for Precision {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        let cell = s.strip_prefix("h3:").map(|r| r.parse::<u8>());
        match (s.as_str(), cell) {
            ("exact", _) => Ok(Precision::Exact),
            ("block", _) => Ok(Precision::Block),
            (_, Some(Ok(res))) if res <= Self::FINEST_CELL => Ok(Precision::Cell(res)),
            _ => Err(format!(
                "location \"{s}\" is not one of \"exact\", \"block\" or \"h3:RES\" with RES an H3 resolution \
                 from 0 to {} (7: about 5 km², 8: 0.7 km², 9: 0.1 km², 10: 0.015 km²)",
                Self::FINEST_CELL
            )),
        }
    }
}

impl From<Precision> for String {
    fn from(p: Precision) -> String {
        match p {
            Precision::Exact => "exact".to_owned(),
            Precision::Block => "block".to_owned(),
            Precision::Cell(res) => format!("h3:{res}"),
        }
    }
}

/// A service category residents can report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub code: String,
    pub name: String,
    pub description: String,
    pub group: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default, rename = "type")]
    pub service_type: ServiceType,
    #[serde(default)]
    pub visibility: Visibility,
    /// The department that owns requests of this service when no rule says otherwise.
    pub department: String,
    #[serde(default)]
    pub default_priority: Priority,
    /// Shown to the resident after they file (Open311 `service_notice`).
    #[serde(default)]
    pub service_notice: String,
    #[serde(default)]
    pub attributes: Vec<Attribute>,
    /// The city's assets a report of this service concerns, when it names some.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assets: Option<AssetUse>,
    /// The service in other languages, by language code (`es`); what a translation
    /// leaves out is shown as written above.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub translations: BTreeMap<String, ServiceText>,
    /// How its requests appear in open data.
    #[serde(default, skip_serializing_if = "OpenDataPolicy::is_default")]
    pub open_data: OpenDataPolicy,
}

/// Which assets a service concerns and how a report names one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetUse {
    /// Asset types (`streetlight`), as `civic311 import assets --type` names them.
    pub types: Vec<String>,
    /// A report must name one (picked, or the nearest within `snap_m`).
    #[serde(default)]
    pub required: bool,
    /// How far from the reported point the nearest asset is taken as the one meant.
    #[serde(default = "AssetUse::default_snap_m")]
    pub snap_m: u32,
}

impl AssetUse {
    /// The Open311 attribute (and form field) that names the asset.
    pub const FIELD: &'static str = "asset_id";

    fn default_snap_m() -> u32 {
        30
    }
}

/// A service's words in one other language. Empty fields are not translated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceText {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub service_notice: String,
    /// Words residents use in this language; searched as well as the originals.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Questions, by attribute code.
    #[serde(default)]
    pub questions: BTreeMap<String, String>,
    /// Answers of list questions, by value key.
    #[serde(default)]
    pub answers: BTreeMap<String, String>,
}

/// A list of services as kept in a readable file: one `[[service]]` table each.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    #[serde(default, rename = "service")]
    pub services: Vec<Service>,
}

impl Catalog {
    /// Parses and checks a TOML catalogue.
    pub fn from_toml(text: &str) -> Result<Self, FieldError> {
        let c: Catalog = crate::exact::from_toml("services", text)?;
        for s in &c.services {
            s.validate()?;
        }
        Ok(c)
    }
}

/// Services matching what someone typed, best first: every word counts where it
/// appears — in the name most, then a keyword phrase, the group, the description — so
/// "tree fell on my car" finds Downed Tree. An empty query matches nothing.
pub fn search<'a>(services: impl IntoIterator<Item = &'a Service>, query: &str) -> Vec<&'a Service> {
    let asked = words(query);
    let mut scored: Vec<(u32, usize, &Service)> = services
        .into_iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let (name, group, text) = (words(&s.name), words(&s.group), words(&s.description));
            let mut score: u32 = asked
                .iter()
                .map(|w| {
                    let has = |ws: &[String]| ws.iter().any(|x| x == w || (w.len() > 3 && x.starts_with(w.as_str())));
                    if has(&name) {
                        6
                    } else if has(&group) {
                        2
                    } else if has(&text) {
                        1
                    } else {
                        0
                    }
                })
                .sum();
            score += s.keywords.iter().filter(|k| contains_phrase(&asked, &words(k))).count() as u32 * 4;
            (score > 0).then_some((score, i, s))
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, _, s)| s).collect()
}

/// Answers to a service's questions, by attribute code; single answers are one-element lists.
pub type Answers = BTreeMap<String, Vec<String>>;

/// Longest answer accepted for `string` questions, and for `text` ones.
const MAX_STRING: usize = 250;
const MAX_TEXT: usize = 4000;

impl Service {
    /// The service as a resident reading `language` sees it: every translated word in
    /// place, the rest as written. Codes and keys never change.
    pub fn localized(&self, language: &str) -> Service {
        let base = crate::i18n::base_language(language);
        let mut s = self.clone();
        let Some(t) = self.translations.get(&base) else { return s };
        let put = |to: &mut String, from: &String| {
            if !from.trim().is_empty() {
                to.clone_from(from);
            }
        };
        put(&mut s.name, &t.name);
        put(&mut s.description, &t.description);
        put(&mut s.group, &t.group);
        put(&mut s.service_notice, &t.service_notice);
        s.keywords.extend(t.keywords.iter().cloned());
        for a in &mut s.attributes {
            if let Some(q) = t.questions.get(&a.code) {
                put(&mut a.description, q);
            }
            for v in &mut a.values {
                if let Some(n) = t.answers.get(&v.key) {
                    put(&mut v.name, n);
                }
            }
        }
        s
    }

    /// What a resident reading `language` would still see in the original words: each
    /// written text with no translation, as `name`, `description`, `group`, `notice`,
    /// `question CODE` or `answer KEY`.
    pub fn missing_translations(&self, language: &str) -> Vec<String> {
        let t = self.translations.get(language);
        let has = |f: fn(&ServiceText) -> &String| t.is_some_and(|t| !f(t).trim().is_empty());
        let mut missing: Vec<String> = [
            ("name", &self.name, has(|t| &t.name)),
            ("description", &self.description, has(|t| &t.description)),
            ("group", &self.group, has(|t| &t.group)),
            ("notice", &self.service_notice, has(|t| &t.service_notice)),
        ]
        .into_iter()
        .filter(|(_, text, done)| !text.trim().is_empty() && !done)
        .map(|(what, _, _)| what.to_owned())
        .collect();
        let given = |map: fn(&ServiceText) -> &BTreeMap<String, String>, key: &str| {
            t.and_then(|t| map(t).get(key)).is_some_and(|v| !v.trim().is_empty())
        };
        for a in self.ordered_attributes() {
            if !a.description.trim().is_empty() && !given(|t| &t.questions, &a.code) {
                missing.push(format!("question {}", a.code));
            }
            for v in &a.values {
                if !given(|t| &t.answers, &v.key) {
                    missing.push(format!("answer {}", v.key));
                }
            }
        }
        missing
    }

    pub fn is_public(&self) -> bool {
        self.visibility == Visibility::Public
    }

    /// True when the service has questions (Open311 `metadata`).
    pub fn has_metadata(&self) -> bool {
        !self.attributes.is_empty() || self.assets.is_some()
    }

    /// Attributes in display order.
    pub fn ordered_attributes(&self) -> Vec<&Attribute> {
        let mut attrs: Vec<&Attribute> = self.attributes.iter().collect();
        attrs.sort_by_key(|a| a.order);
        attrs
    }

    /// Checks raw answers against this service's questions: unknown questions, missing
    /// required answers, values not in a list, malformed numbers and dates. Empty
    /// answers count as absent. Returns every problem at once.
    pub fn parse_answers(&self, raw: &Answers) -> Result<Answers, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut answers = Answers::new();
        for (code, values) in raw {
            let values: Vec<String> = values.iter().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).collect();
            if values.is_empty() {
                continue;
            }
            let field = format!("attribute[{code}]");
            let Some(attr) = self.attributes.iter().find(|a| &a.code == code && a.variable) else {
                errors.push(FieldError::new(field, format!("service {} has no question {code}", self.code)));
                continue;
            };
            match check_values(attr, &values) {
                Ok(()) => {
                    answers.insert(code.clone(), values);
                }
                Err(detail) => errors.push(FieldError::new(field, detail)),
            }
        }
        for attr in self.attributes.iter().filter(|a| a.variable && a.required) {
            let answered = raw.get(&attr.code).is_some_and(|v| v.iter().any(|x| !x.trim().is_empty()));
            if !answered {
                errors.push(FieldError::new(
                    format!("attribute[{}]", attr.code),
                    format!("an answer is required: {}", attr.description),
                ));
            }
        }
        if errors.is_empty() { Ok(answers) } else { Err(errors) }
    }

    /// Checks the definition itself: unique codes and orders, lists with values.
    pub fn validate(&self) -> Result<(), FieldError> {
        let field = format!("service {}", self.code);
        if self.code.trim().is_empty() || self.name.trim().is_empty() {
            return Err(FieldError::new(field, "code and name are required"));
        }
        let mut orders: Vec<u32> = self.attributes.iter().map(|a| a.order).collect();
        orders.sort_unstable();
        if orders.windows(2).any(|w| w[0] == w[1]) || orders.first() == Some(&0) {
            return Err(FieldError::new(field, "attribute orders must be unique and start at 1"));
        }
        for a in &self.attributes {
            if a.datatype.is_list() && a.values.is_empty() {
                return Err(FieldError::new(field, format!("list attribute {} has no values", a.code)));
            }
            if self.attributes.iter().filter(|b| b.code == a.code).count() > 1 {
                return Err(FieldError::new(field, format!("attribute code {} appears twice", a.code)));
            }
        }
        Ok(())
    }
}

fn check_values(attr: &Attribute, values: &[String]) -> Result<(), String> {
    let single = || {
        if values.len() > 1 { Err("takes one answer, not several".to_owned()) } else { Ok(&values[0]) }
    };
    let known = |v: &String| attr.values.iter().any(|k| &k.key == v);
    match attr.datatype {
        Datatype::String | Datatype::Text => {
            let v = single()?;
            let max = if attr.datatype == Datatype::Text { MAX_TEXT } else { MAX_STRING };
            if v.chars().count() > max {
                return Err(format!("at most {max} characters"));
            }
            Ok(())
        }
        Datatype::Number => {
            let v = single()?;
            match v.parse::<f64>() {
                Ok(n) if n.is_finite() => Ok(()),
                _ => Err(format!("'{v}' is not a number")),
            }
        }
        Datatype::Datetime => {
            let v = single()?;
            v.parse::<jiff::Timestamp>()
                .map(|_| ())
                .map_err(|_| format!("'{v}' is not an ISO 8601 date and time with an offset"))
        }
        Datatype::Singlevaluelist => {
            let v = single()?;
            if known(v) { Ok(()) } else { Err(unknown_value(attr, v)) }
        }
        Datatype::Multivaluelist => match values.iter().find(|v| !known(v)) {
            Some(v) => Err(unknown_value(attr, v)),
            None => Ok(()),
        },
    }
}

fn unknown_value(attr: &Attribute, v: &str) -> String {
    let keys: Vec<&str> = attr.values.iter().map(|k| k.key.as_str()).collect();
    format!("'{v}' is not one of the allowed values ({})", keys.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_policy_reads_and_writes_as_the_city_spells_it() {
        for (spelled, p) in [("exact", Precision::Exact), ("block", Precision::Block), ("h3:9", Precision::Cell(9))] {
            assert_eq!(Precision::try_from(spelled.to_owned()), Ok(p));
            assert_eq!(String::from(p), spelled);
        }
        assert_eq!(Precision::try_from("h3:0".to_owned()), Ok(Precision::Cell(0)));
        for wrong in ["h3:11", "h3:", "h3:-1", "h3:nine", "hex", "Block", ""] {
            let e = Precision::try_from(wrong.to_owned()).unwrap_err();
            assert!(e.contains("\"h3:RES\"") && e.contains("from 0 to 10"), "{wrong}: {e}");
        }
        let policy: OpenDataPolicy = toml::from_str("location = \"h3:8\"").unwrap();
        assert_eq!(policy, OpenDataPolicy { withhold_text: false, location: Precision::Cell(8) });
        let e = toml::from_str::<OpenDataPolicy>("location = \"h3:12\"").unwrap_err().to_string();
        assert!(e.contains("h3:12") && e.contains("from 0 to 10"), "{e}");
    }

    fn pothole() -> Service {
        Service {
            code: "POTHOLE".into(),
            name: "Pothole".into(),
            description: String::new(),
            group: "Streets".into(),
            keywords: vec![],
            service_type: ServiceType::Realtime,
            visibility: Visibility::Public,
            department: "PW".into(),
            default_priority: Priority::Normal,
            service_notice: String::new(),
            attributes: vec![
                Attribute {
                    code: "SIZE".into(),
                    variable: true,
                    datatype: Datatype::Singlevaluelist,
                    required: true,
                    datatype_description: String::new(),
                    order: 1,
                    description: "How big?".into(),
                    values: vec![AttributeValue { key: "small".into(), name: "Small".into() }],
                },
                Attribute {
                    code: "DEPTH".into(),
                    variable: true,
                    datatype: Datatype::Number,
                    required: false,
                    datatype_description: String::new(),
                    order: 2,
                    description: "Depth in cm".into(),
                    values: vec![],
                },
            ],
            assets: None,
            translations: Default::default(),
            open_data: Default::default(),
        }
    }

    fn raw(pairs: &[(&str, &[&str])]) -> Answers {
        pairs.iter().map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect())).collect()
    }

    #[test]
    fn accepts_known_values_and_reports_every_problem() {
        let s = pothole();
        assert!(s.parse_answers(&raw(&[("SIZE", &["small"])])).is_ok());
        let errs = s.parse_answers(&raw(&[("SIZE", &["huge"]), ("DEPTH", &["deep"]), ("X", &["1"])])).unwrap_err();
        assert_eq!(errs.len(), 3, "{errs:?}");
        let errs = s.parse_answers(&raw(&[("SIZE", &[" "])])).unwrap_err();
        assert_eq!(errs[0].field, "attribute[SIZE]");
        assert!(errs[0].detail.contains("required"));
    }

    #[test]
    fn a_translation_replaces_only_the_words_it_has() {
        let mut s = pothole();
        let es = ServiceText {
            name: "Bache".into(),
            keywords: vec!["hoyo".into()],
            questions: [("SIZE".to_owned(), "¿Qué tamaño?".to_owned())].into(),
            answers: [("small".to_owned(), "Pequeño".to_owned())].into(),
            ..ServiceText::default()
        };
        s.translations.insert("es".into(), es);
        let seen = s.localized("es-MX");
        assert_eq!((seen.code.as_str(), seen.name.as_str(), seen.group.as_str()), ("POTHOLE", "Bache", "Streets"));
        assert_eq!(seen.attributes[0].description, "¿Qué tamaño?");
        assert_eq!(seen.attributes[0].values[0].name, "Pequeño");
        assert_eq!(seen.attributes[1].description, "Depth in cm");
        assert_eq!(search([&seen], "hoyo").len(), 1);
        assert_eq!(s.localized("fr"), s);
        // What is still in English is named: the group, the second question.
        assert_eq!(s.missing_translations("es"), ["group", "question DEPTH"]);
        assert_eq!(
            pothole().missing_translations("es"),
            ["name", "group", "question SIZE", "answer small", "question DEPTH"]
        );
    }
}

#[cfg(test)]
mod search_tests {
    use super::*;

    fn service(code: &str, name: &str, group: &str, keywords: &[&str]) -> Service {
        toml::from_str::<Service>(&format!(
            "code = \"{code}\"\nname = \"{name}\"\ndescription = \"\"\ngroup = \"{group}\"\ndepartment = \"D\"\nkeywords = {keywords:?}"
        ))
        .expect("service")
    }

    #[test]
    fn plain_words_find_the_service() {
        let all = [
            service("TREE", "Downed tree or limb", "Trees and Parks", &["fell", "fallen", "branch"]),
            service("TREE_TRIM", "Tree trimming", "Trees and Parks", &["overgrown"]),
            service("POTHOLE", "Pothole", "Streets", &["hole", "road damage"]),
        ];
        let found = |q: &str| search(&all, q).iter().map(|s| s.code.as_str()).collect::<Vec<_>>();
        assert_eq!(found("tree fell on my car")[0], "TREE");
        assert_eq!(found("road damage"), ["POTHOLE"]);
        assert_eq!(found("trimming"), ["TREE_TRIM"]);
        assert!(found("").is_empty());
        assert!(found("noise complaint").is_empty());
    }
}
