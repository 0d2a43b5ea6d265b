//! A service as form fields and back: what the service editor's form shows, and the
//! service its posted fields describe. Reading the fields never fails — whatever was
//! typed becomes a service that the city's checks then accept or refuse by name, and
//! the form is shown again as typed.

use civic311_domain::i18n;
use civic311_domain::request::Priority;
use civic311_domain::service::{Attribute, AttributeValue, Datatype, Service, ServiceText, Visibility};

use super::{comma_list, field};

/// The datatypes a question may have, as the form offers them.
pub(super) const DATATYPES: [(Datatype, &str); 6] = [
    (Datatype::Singlevaluelist, "one answer from a list"),
    (Datatype::Multivaluelist, "any answers from a list"),
    (Datatype::String, "a short text"),
    (Datatype::Text, "a longer text"),
    (Datatype::Number, "a number"),
    (Datatype::Datetime, "a date and time"),
];

/// One text and its translations, for a set of form fields: `PREFIXKEY` in the
/// original language, `PREFIXLANG.KEY` in each other.
pub(super) struct Pair {
    /// `q3.` for the fields of the fourth question; empty for the service's own.
    pub(super) prefix: String,
    pub(super) key: &'static str,
    pub(super) label: &'static str,
    pub(super) original: String,
    /// `(language code, language name, translated text)`.
    pub(super) translations: Vec<(&'static str, &'static str, String)>,
    pub(super) long: bool,
}

impl Pair {
    /// The field of the original text.
    pub(super) fn name(&self) -> String {
        format!("{}{}", self.prefix, self.key)
    }

    /// The field of the text in `language`.
    pub(super) fn name_in(&self, language: &str) -> String {
        format!("{}{language}.{}", self.prefix, self.key)
    }

    /// True when the original has words the translation `text` lacks (for answers, a
    /// `key =` line with nothing after it): the form prompts for them.
    pub(super) fn missing(&self, text: &str) -> bool {
        !self.original.trim().is_empty()
            && (text.trim().is_empty() || text.lines().any(|l| l.trim_end().ends_with('=')))
    }
}

/// One question of the service, for its block of the form.
pub(super) struct QuestionForm {
    /// Position in the form: the fields are `q{i}.code`, `q{i}.values`…
    pub(super) i: usize,
    pub(super) code: String,
    pub(super) datatype: &'static str,
    pub(super) required: bool,
    pub(super) order: u32,
    /// The question in each language (`q{i}.description`, `q{i}.LANG.description`).
    pub(super) text: Pair,
    /// Answers, one per line `key = Name`, and in each language `key = translation`.
    pub(super) values: Pair,
}

/// The whole form.
pub(super) struct ServiceForm {
    pub(super) code: String,
    pub(super) department: String,
    pub(super) priority: &'static str,
    pub(super) public: bool,
    pub(super) texts: Vec<Pair>,
    pub(super) questions: Vec<QuestionForm>,
    /// What a resident reading each other language would still see untranslated (none
    /// for a staff-only service).
    pub(super) missing: Vec<(&'static str, Vec<String>)>,
}

/// The languages a service is translated into: every language the portal speaks but
/// the original, as `(code, name in English)`.
pub(super) fn languages() -> Vec<(&'static str, &'static str)> {
    i18n::languages()
        .into_iter()
        .filter(|(code, _)| *code != i18n::DEFAULT)
        .map(|(code, own)| (code, if code == "es" { "Spanish" } else { own }))
        .collect()
}

/// Answers as the form writes them: `key = Name` a line.
fn lines<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    pairs.map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join("\n")
}

/// `key = Name` lines read back; a line without `=` is its own key and name.
fn read_lines(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.trim().to_owned(), v.trim().to_owned()),
            None => (l.to_owned(), l.to_owned()),
        })
        .collect()
}

impl ServiceForm {
    /// The form for `s`.
    pub(super) fn of(s: &Service) -> Self {
        let langs = languages();
        let tr = |f: fn(&ServiceText) -> String| -> Vec<(&'static str, &'static str, String)> {
            langs.iter().map(|&(l, n)| (l, n, s.translations.get(l).map(f).unwrap_or_default())).collect()
        };
        let pair = |key, label, original: &str, f: fn(&ServiceText) -> String, long| Pair {
            prefix: String::new(),
            key,
            label,
            original: original.to_owned(),
            translations: tr(f),
            long,
        };
        let texts = vec![
            pair("name", "Name", &s.name, |t| t.name.clone(), false),
            pair("description", "What to report here", &s.description, |t| t.description.clone(), true),
            pair("group", "Group", &s.group, |t| t.group.clone(), false),
            pair(
                "keywords",
                "Words residents use (comma-separated)",
                &s.keywords.join(", "),
                |t| t.keywords.join(", "),
                false,
            ),
            pair(
                "service_notice",
                "Notice after filing (what happens next, how long)",
                &s.service_notice,
                |t| t.service_notice.clone(),
                true,
            ),
        ];
        let questions = s
            .ordered_attributes()
            .into_iter()
            .enumerate()
            .map(|(i, a)| QuestionForm::of(i, a, s))
            .chain(std::iter::once(QuestionForm::blank(s.attributes.len())))
            .collect();
        ServiceForm {
            code: s.code.clone(),
            department: s.department.clone(),
            priority: s.default_priority.as_str(),
            public: s.visibility == Visibility::Public,
            texts,
            questions,
            // Only residents read other languages; staff-only services need none.
            missing: langs
                .iter()
                .filter(|_| s.is_public())
                .map(|&(l, n)| (n, s.missing_translations(l)))
                .filter(|(_, m)| !m.is_empty())
                .collect(),
        }
    }

    /// The service the posted `fields` describe, starting from `base` (the service as
    /// stored, so what the form does not show — its type, assets, other questions'
    /// details — is kept).
    pub(super) fn read(base: &Service, fields: &[(String, String)]) -> Service {
        let f = |k: &str| field(fields, k);
        let mut s = base.clone();
        if s.code.is_empty() {
            s.code = f("code");
        }
        s.name = f("name");
        s.description = f("description");
        s.group = f("group");
        s.keywords = comma_list(&f("keywords"));
        s.department = f("department");
        s.default_priority = Priority::parse(&f("default_priority")).unwrap_or(s.default_priority);
        s.visibility = if f("visibility") == "internal" { Visibility::Internal } else { Visibility::Public };
        s.service_notice = f("service_notice");
        let count: usize = f("questions").parse().unwrap_or(0).min(200);
        let mut attributes = Vec::new();
        let mut translated: Vec<(&str, ServiceText)> = Vec::new();
        for (lang, _) in languages() {
            let l = |k: &str| f(&format!("{lang}.{k}"));
            let text = ServiceText {
                name: l("name"),
                description: l("description"),
                group: l("group"),
                service_notice: l("service_notice"),
                keywords: comma_list(&l("keywords")),
                ..ServiceText::default()
            };
            translated.push((lang, text));
        }
        for i in 0..=count {
            let q = |k: &str| f(&format!("q{i}.{k}"));
            let code = q("code");
            if code.is_empty() || q("remove") == "yes" {
                continue;
            }
            let datatype =
                DATATYPES.iter().find(|(d, _)| d.as_str() == q("datatype")).map_or(Datatype::String, |d| d.0);
            let before = base.attributes.iter().find(|a| a.code == code);
            let values = if matches!(datatype, Datatype::Singlevaluelist | Datatype::Multivaluelist) {
                read_lines(&q("values")).into_iter().map(|(key, name)| AttributeValue { key, name }).collect()
            } else {
                Vec::new()
            };
            for (lang, text) in &mut translated {
                let question = f(&format!("q{i}.{lang}.description"));
                if !question.is_empty() {
                    text.questions.insert(code.clone(), question);
                }
                for (key, name) in read_lines(&f(&format!("q{i}.{lang}.values"))) {
                    if !name.is_empty() && name != key {
                        text.answers.insert(key, name);
                    }
                }
            }
            attributes.push(Attribute {
                order: q("order").parse().unwrap_or(u32::try_from(i + 1).unwrap_or(u32::MAX)),
                variable: before.is_none_or(|a| a.variable),
                datatype_description: before.map(|a| a.datatype_description.clone()).unwrap_or_default(),
                code,
                datatype,
                required: q("required") == "yes",
                description: q("description"),
                values,
            });
        }
        attributes.sort_by_key(|a| a.order);
        s.attributes = attributes;
        for (lang, text) in translated {
            if text == ServiceText::default() {
                s.translations.remove(lang);
            } else {
                s.translations.insert(lang.to_owned(), text);
            }
        }
        s
    }
}

impl QuestionForm {
    fn of(i: usize, a: &Attribute, s: &Service) -> Self {
        let langs = languages();
        let t = |l: &str| s.translations.get(l);
        let values = Pair {
            prefix: format!("q{i}."),
            key: "values",
            label: "Answers, one a line: key = Answer",
            original: lines(a.values.iter().map(|v| (v.key.as_str(), v.name.as_str()))),
            translations: langs
                .iter()
                .map(|&(l, n)| {
                    let answer = |key: &str| t(l).and_then(|t| t.answers.get(key)).map_or("", String::as_str);
                    (l, n, lines(a.values.iter().map(|v| (v.key.as_str(), answer(&v.key)))))
                })
                .collect(),
            long: true,
        };
        QuestionForm {
            i,
            code: a.code.clone(),
            datatype: a.datatype.as_str(),
            required: a.required,
            order: a.order,
            text: Pair {
                prefix: format!("q{i}."),
                key: "description",
                label: "The question",
                original: a.description.clone(),
                translations: langs
                    .iter()
                    .map(|&(l, n)| (l, n, t(l).and_then(|t| t.questions.get(&a.code)).cloned().unwrap_or_default()))
                    .collect(),
                long: false,
            },
            values,
        }
    }

    /// An empty block that adds a question when its code is filled in.
    fn blank(i: usize) -> Self {
        let a = Attribute {
            code: String::new(),
            variable: true,
            datatype: Datatype::Singlevaluelist,
            required: false,
            datatype_description: String::new(),
            order: u32::try_from(i + 1).unwrap_or(u32::MAX),
            description: String::new(),
            values: Vec::new(),
        };
        let empty = Service { attributes: Vec::new(), ..blank_service() };
        QuestionForm::of(i, &a, &empty)
    }
}

/// A service with nothing in it, the form's starting point for a new one.
pub(super) fn blank_service() -> Service {
    Service {
        code: String::new(),
        name: String::new(),
        description: String::new(),
        group: String::new(),
        keywords: Vec::new(),
        service_type: Default::default(),
        visibility: Visibility::Public,
        department: String::new(),
        default_priority: Priority::Normal,
        service_notice: String::new(),
        attributes: Vec::new(),
        assets: None,
        translations: Default::default(),
        open_data: Default::default(),
    }
}
