//! Text handling shared across the domain: words for keyword routing and service
//! search, and the shape of an email address.

/// Lower-cased words of `text`, split on anything that is not a letter or digit.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// True when the words of `phrase` occur consecutively in `haystack` (already split by
/// [`words`]): whole words, case-insensitive, so "gas" matches "smell of gas" but not
/// "gasoline".
pub fn contains_phrase(haystack: &[String], phrase: &[String]) -> bool {
    !phrase.is_empty() && haystack.windows(phrase.len()).any(|w| w == phrase)
}

/// True for a character every document can carry — XML 1.0's `Char`: tab, newline,
/// return, and everything from U+0020 except U+FFFE and U+FFFF (Rust strings never hold
/// the surrogates, so an unpaired one never gets this far).
pub fn is_document_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// Refuses text holding a character no document can carry (a control character, or
/// U+FFFE or U+FFFF), naming it, so what is stored can always be published.
pub fn check_text(field: &str, s: &str) -> Result<(), crate::FieldError> {
    match s.chars().find(|c| !is_document_char(*c)) {
        None => Ok(()),
        Some(c) => Err(crate::FieldError::new(
            field,
            format!("contains the character U+{:04X}, which cannot be stored or published; remove it", u32::from(c)),
        )),
    }
}

/// True when `s` has the shape of an email address: one `@` between a local part of at
/// most 64 characters and a domain of dot-separated labels (letters, digits, hyphens;
/// at least two labels), at most 254 characters in all, with no spaces, controls,
/// quotes or angle brackets. Deliverability is only known by sending.
pub fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    let plain = |c: char| !(c.is_whitespace() || c.is_control() || "\"<>(),;:[]\\@".contains(c));
    let label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    s.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && local.chars().all(plain)
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && domain.split('.').count() >= 2
        && domain.split('.').all(label)
}

/// True when `s` reads as a phone number: digits with the usual separators (`+`,
/// spaces, dots, hyphens, brackets), 7 to 15 digits (E.164's longest).
pub fn looks_like_phone(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    (7..=15).contains(&digits) && s.chars().all(|c| c.is_ascii_digit() || " +-.()".contains(c))
}

/// Accented Latin letters and the letters they fold to, lowercased — as PostgreSQL's
/// staff-search document folds them (its migration 19); SQLite's FTS5 folds every
/// accent itself.
const FOLD: [(&str, char); 8] =
    [("áàâäãå", 'a'), ("éèêë", 'e'), ("íìîï", 'i'), ("óòôöõ", 'o'), ("úùûü", 'u'), ("ñ", 'n'), ("ç", 'c'), ("ý", 'y')];

/// A word lowercased with its accents folded: `López` → `lopez`.
pub fn fold(word: &str) -> String {
    word.to_lowercase()
        .chars()
        .map(|c| FOLD.iter().find(|(from, _)| from.contains(c)).map_or(c, |(_, to)| *to))
        .collect()
}

/// Percent-encodes a URL component (everything but letters, digits and `-_.~`).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_addresses_have_a_local_part_and_a_domain() {
        for good in ["res@example.test", "First.Last+tag@sub.example.gov", "a@b.co", "josé@ejemplo.es"] {
            assert!(looks_like_email(good), "{good}");
        }
        for bad in [
            "res",
            "res@",
            "@example.test",
            "res@example",
            "res@@example.test",
            "res at example.test",
            "res@exa mple.test",
            "res@example..test",
            "res@-example.test",
            "<res@example.test>",
            "res\u{7}@example.test",
            ".res@example.test",
            "r..s@example.test",
            "res@example.test.",
        ] {
            assert!(!looks_like_email(bad), "{bad}");
        }
        assert!(!looks_like_email(&format!("{}@example.test", "a".repeat(65))));
    }

    #[test]
    fn phone_numbers_are_digits_with_separators() {
        for good in ["+15550100", "555-0100", "(303) 555-0100", "+1 303.555.0100"] {
            assert!(looks_like_phone(good), "{good}");
        }
        for bad in ["555", "call me", "+1555010012345678", "555-0100; DROP", "phone@example.test"] {
            assert!(!looks_like_phone(bad), "{bad}");
        }
    }

    #[test]
    fn text_every_document_can_carry() {
        assert!(check_text("d", "Tab\there, lines\r\nand émojis 🕳️").is_ok());
        for bad in ["nul\0", "bell\u{7}", "escape\u{1b}[2J", "\u{FFFE}", "x\u{FFFF}"] {
            let e = check_text("description", bad).expect_err(bad);
            assert_eq!(e.field, "description");
            assert!(e.detail.starts_with("contains the character U+"), "{}", e.detail);
        }
    }

    #[test]
    fn whole_words_only() {
        let h = words("Smell of GAS near the gasoline station!");
        assert!(contains_phrase(&h, &words("gas")));
        assert!(contains_phrase(&h, &words("gasoline station")));
        assert!(!contains_phrase(&h, &words("gas station")));
        assert!(!contains_phrase(&h, &words("")));
    }
}
