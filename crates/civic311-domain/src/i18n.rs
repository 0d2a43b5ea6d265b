//! Texts of the resident portal and notifications in each language, from the TOML
//! files in `i18n/`. Adding a language is adding a file here and to `FILES`; a key a
//! translation lacks falls back to English.

use std::collections::HashMap;
use std::sync::LazyLock;

/// The translation files compiled in: `(language code, TOML text)`. English first.
const FILES: [(&str, &str); 2] = [("en", include_str!("../i18n/en.toml")), ("es", include_str!("../i18n/es.toml"))];

/// The default language.
pub const DEFAULT: &str = "en";

/// One language's texts, by dotted key (`rate.title`).
#[derive(Debug, Default)]
pub struct Texts {
    pub code: &'static str,
    map: HashMap<String, String>,
}

static CATALOG: LazyLock<Vec<Texts>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(code, src)| {
            let mut map = HashMap::new();
            // The files are compiled in and checked by a test: a broken one is a build bug.
            let table: toml::Table = toml::from_str(src).unwrap_or_else(|e| panic!("i18n/{code}.toml: {e}"));
            flatten("", &table, &mut map);
            Texts { code, map }
        })
        .collect()
});

fn flatten(prefix: &str, table: &toml::Table, out: &mut HashMap<String, String>) {
    for (k, v) in table {
        let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            other => {
                out.insert(key, other.to_string());
            }
        }
    }
}

/// The language `language` is a variant of: `es` for `es-MX`, `es_US` or `ES`.
pub fn base_language(language: &str) -> String {
    language.split(['-', '_']).next().unwrap_or(language).to_ascii_lowercase()
}

/// The texts of `language` (`es`, `es-MX`…), or English when it has none.
pub fn texts(language: &str) -> &'static Texts {
    let base = base_language(language);
    CATALOG.iter().find(|t| t.code == base).unwrap_or_else(|| &CATALOG[0])
}

/// Every language with texts: `(code, its own name)`.
pub fn languages() -> Vec<(&'static str, &'static str)> {
    CATALOG.iter().map(|t| (t.code, t.get("language_name"))).collect()
}

/// A date and time written the way `t`'s language writes them (`format.datetime`, a
/// strftime pattern where `{day}` and `{month}` are names from `format.days` and
/// `format.months`).
pub fn datetime(t: &Texts, at: &jiff::Zoned) -> String {
    written(t, at, "format.datetime")
}

/// A date alone, the way `t`'s language writes it (`format.date`).
pub fn date(t: &Texts, at: &jiff::Zoned) -> String {
    written(t, at, "format.date")
}

fn written(t: &Texts, at: &jiff::Zoned, pattern: &str) -> String {
    let name = |key: &str, i: i8| -> String {
        let i = usize::try_from(i).unwrap_or(0);
        t.get(key).split(',').nth(i).unwrap_or("").trim().to_owned()
    };
    let month = name("format.months", at.month() - 1);
    let day = name("format.days", at.weekday().to_monday_zero_offset());
    at.strftime(&t.get(pattern).replace("{month}", &month).replace("{day}", &day)).to_string()
}

impl Texts {
    /// The text for a key built at run time, in English when this language lacks it.
    pub fn find(&self, key: &str) -> Option<&str> {
        self.map.get(key).or_else(|| CATALOG.first().and_then(|en| en.map.get(key))).map(String::as_str)
    }

    /// How this language names a request's status.
    pub fn status(&self, status: crate::request::Status) -> &str {
        self.find(&format!("status.{}", status.as_str())).unwrap_or(status.as_str())
    }

    /// The text for `key`, in English when this language lacks it, else the key itself.
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.find(key).unwrap_or(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_translation_has_every_english_key() {
        let english = texts("en");
        for t in CATALOG.iter() {
            let missing: Vec<_> = english.map.keys().filter(|k| !t.map.contains_key(*k)).collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", t.code);
        }
        assert_eq!(texts("es-MX").get("rate.submit"), "Enviar calificación");
        assert_eq!(texts("fr").get("rate.submit"), "Send rating");
    }
}
