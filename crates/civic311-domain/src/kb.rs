//! The knowledge base: short answers residents can read before they report (opening
//! hours, bulk pickup rules, who to call for what), linked from the categories they
//! concern, and internal articles only staff see. Kept as readable TOML (`[[article]]`),
//! searched in plain words with ranked results.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::text::{contains_phrase, words};

/// Longest article body, in characters.
pub const MAX_BODY: usize = 20_000;

/// One answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Article {
    /// Its address: `/help/{slug}`; lowercase letters, digits and dashes.
    pub slug: String,
    pub title: String,
    /// Plain text; a blank line starts a new paragraph.
    pub body: String,
    /// False for internal articles, which only staff see.
    #[serde(default = "yes")]
    pub public: bool,
    /// Codes of the services it is about: shown where residents report those.
    #[serde(default)]
    pub services: Vec<String>,
    /// Words people use when they look for it.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The article in other languages, by language code.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub translations: BTreeMap<String, ArticleText>,
}

fn yes() -> bool {
    true
}

/// An article's words in one other language; empty fields are not translated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleText {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub keywords: Vec<String>,
}

/// Articles as kept in a readable file: one `[[article]]` table each.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KnowledgeBase {
    #[serde(default, rename = "article")]
    pub articles: Vec<Article>,
}

impl KnowledgeBase {
    /// Parses and checks a TOML file of articles.
    pub fn from_toml(text: &str) -> Result<Self, FieldError> {
        let kb: KnowledgeBase = crate::exact::from_toml("articles", text)?;
        for a in &kb.articles {
            a.validate()?;
        }
        Ok(kb)
    }
}

impl Article {
    /// Checks the article on its own: a usable slug, a title, a body of sensible size.
    pub fn validate(&self) -> Result<(), FieldError> {
        let field = format!("article {}", self.slug);
        let slug_ok = !self.slug.is_empty()
            && self.slug.len() <= 80
            && self.slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !slug_ok {
            return Err(FieldError::new(field, "the slug is 1-80 lowercase letters, digits and dashes (bulk-pickup)"));
        }
        if self.title.trim().is_empty() || self.title.chars().count() > 200 {
            return Err(FieldError::new(field, "a title of 1-200 characters is required"));
        }
        let bodies = std::iter::once(&self.body).chain(self.translations.values().map(|t| &t.body));
        if self.body.trim().is_empty() || bodies.into_iter().any(|b| b.chars().count() > MAX_BODY) {
            return Err(FieldError::new(field, format!("a body of 1-{MAX_BODY} characters is required")));
        }
        Ok(())
    }

    /// The article as a reader of `language` sees it; what is not translated stays.
    pub fn localized(&self, language: &str) -> Article {
        let base = crate::i18n::base_language(language);
        let mut a = self.clone();
        if let Some(t) = self.translations.get(&base) {
            if !t.title.trim().is_empty() {
                a.title.clone_from(&t.title);
            }
            if !t.body.trim().is_empty() {
                a.body.clone_from(&t.body);
            }
            a.keywords.extend(t.keywords.iter().cloned());
        }
        a
    }

    /// The body's paragraphs.
    pub fn paragraphs(&self) -> Vec<&str> {
        self.body.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).collect()
    }

    /// The first sentence or so, for a list of results.
    pub fn summary(&self) -> String {
        let first = self.paragraphs().first().copied().unwrap_or("");
        let mut out: String = first.chars().take(160).collect();
        if first.chars().count() > 160 {
            out.push('…');
        }
        out
    }
}

/// Articles matching what someone typed, best first: a word in the title counts most,
/// then a keyword phrase, then the body. An empty query matches nothing.
pub fn search<'a>(articles: impl IntoIterator<Item = &'a Article>, query: &str) -> Vec<&'a Article> {
    let asked = words(query);
    let mut scored: Vec<(u32, usize, &Article)> = articles
        .into_iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let (title, body) = (words(&a.title), words(&a.body));
            let has =
                |ws: &[String], w: &String| ws.iter().any(|x| x == w || (w.len() > 3 && x.starts_with(w.as_str())));
            let mut score: u32 = asked
                .iter()
                .map(|w| {
                    if has(&title, w) {
                        5
                    } else if has(&body, w) {
                        1
                    } else {
                        0
                    }
                })
                .sum();
            score += a.keywords.iter().filter(|k| contains_phrase(&asked, &words(k))).count() as u32 * 4;
            (score > 0).then_some((score, i, a))
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, _, a)| a).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
[[article]]
slug = "bulk-pickup"
title = "Bulk item pickup rules"
body = "Put up to three items at the curb by 6 a.m.\n\nMattresses must be wrapped."
services = ["BULK"]
keywords = ["couch", "mattress"]
  [article.translations.es]
  title = "Reglas de recogida de objetos voluminosos"
  keywords = ["sofá", "colchón"]

[[article]]
slug = "city-hall-hours"
title = "City Hall opening hours"
body = "Monday to Friday, 8 to 5. Bulk questions go to Sanitation."

[[article]]
slug = "crew-safety"
title = "Crew safety checklist"
body = "Internal: cones before work."
public = false
"#;

    #[test]
    fn search_ranks_titles_and_keywords_above_bodies() {
        let kb = KnowledgeBase::from_toml(FILE).expect("parses");
        let found = |q: &str| search(&kb.articles, q).iter().map(|a| a.slug.as_str()).collect::<Vec<_>>();
        assert_eq!(found("bulk"), ["bulk-pickup", "city-hall-hours"]);
        assert_eq!(found("old couch"), ["bulk-pickup"]);
        assert_eq!(found("hours"), ["city-hall-hours"]);
        assert!(found("").is_empty());
        assert!(!kb.articles[2].public);
    }

    #[test]
    fn a_translation_replaces_what_it_has() {
        let kb = KnowledgeBase::from_toml(FILE).expect("parses");
        let es = kb.articles[0].localized("es");
        assert_eq!(es.title, "Reglas de recogida de objetos voluminosos");
        assert_eq!(es.paragraphs().len(), 2, "the body was not translated, so it stays");
        assert_eq!(search([&es], "colchón").len(), 1);
        assert_eq!(kb.articles[0].summary(), "Put up to three items at the curb by 6 a.m.");
    }

    #[test]
    fn bad_articles_are_refused() {
        let bad = |s: &str| KnowledgeBase::from_toml(s).is_err();
        assert!(bad("[[article]]\nslug = \"Bad Slug\"\ntitle = \"t\"\nbody = \"b\""));
        assert!(bad("[[article]]\nslug = \"ok\"\ntitle = \"\"\nbody = \"b\""));
        assert!(bad("[[article]]\nslug = \"ok\"\ntitle = \"t\"\nbody = \"\""));
    }
}
