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

/// True when `s` has the shape of an email address (an `@`, no spaces). Deliverability
/// is only known by sending.
pub fn looks_like_email(s: &str) -> bool {
    s.contains('@') && !s.contains(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_words_only() {
        let h = words("Smell of GAS near the gasoline station!");
        assert!(contains_phrase(&h, &words("gas")));
        assert!(contains_phrase(&h, &words("gasoline station")));
        assert!(!contains_phrase(&h, &words("gas station")));
        assert!(!contains_phrase(&h, &words("")));
    }
}
