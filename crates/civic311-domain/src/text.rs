//! Word-level text handling shared by keyword routing and service search.

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
