//! A service's questions as form fields, shared by the resident's report form, the
//! call-taker's intake screen and the service editor's preview (`questions.html`).

use civic311_domain::service::{Datatype, Service};

use crate::i18n::Texts;

/// One question of a service, ready to render.
pub(crate) struct Question {
    pub(crate) code: String,
    pub(crate) label: String,
    pub(crate) required: bool,
    pub(crate) kind: &'static str,
    pub(crate) options: Vec<(String, String, bool)>,
    pub(crate) value: String,
    /// Words after a required question's label, and the empty choice of a list.
    pub(crate) required_text: &'static str,
    pub(crate) choose_text: &'static str,
}

/// The questions of `service` that take an answer, in order, with the answers in `fields`.
pub(crate) fn questions(service: &Service, fields: &[(String, String)], t: &'static Texts) -> Vec<Question> {
    let given = |code: &str| -> Vec<&str> {
        let (one, many) = (format!("attribute[{code}]"), format!("attribute[{code}][]"));
        fields.iter().filter(|(k, _)| *k == one || *k == many).map(|(_, v)| v.as_str()).collect()
    };
    service
        .ordered_attributes()
        .into_iter()
        .filter(|a| a.variable)
        .map(|a| {
            let chosen = given(&a.code);
            Question {
                code: a.code.clone(),
                label: a.description.clone(),
                required: a.required,
                kind: match a.datatype {
                    Datatype::String => "text",
                    Datatype::Number => "number",
                    Datatype::Datetime => "datetime-local",
                    Datatype::Text => "textarea",
                    Datatype::Singlevaluelist => "select",
                    Datatype::Multivaluelist => "checkboxes",
                },
                options: a
                    .values
                    .iter()
                    .map(|v| (v.key.clone(), v.name.clone(), chosen.contains(&v.key.as_str())))
                    .collect(),
                value: chosen.first().map(|s| (*s).to_owned()).unwrap_or_default(),
                required_text: t.get("form.required"),
                choose_text: t.get("form.choose"),
            }
        })
        .collect()
}
