//! Common words: the sound-alike matcher never turns one of these into a term by itself (a
//! user who wants that lists the spelling under `sounds_like`).

use std::collections::HashSet;

/// A set of common words, compared in [`crate::text::normalise`]d form.
#[derive(Debug, Clone, Default)]
pub struct Lexicon {
    words: HashSet<String>,
    function_words: HashSet<String>,
}

/// How many of the most frequent English words count as function words: a sound-alike span
/// may not begin or end with one unless the term does.
const FUNCTION_WORDS: usize = 150;

impl Lexicon {
    /// The 1,000 most frequent English words (the `top-english-words` list).
    pub fn english() -> Self {
        let all: Vec<String> = top_english_words::get_words();
        let function_words = all.iter().take(FUNCTION_WORDS).map(|w| crate::text::normalise(w)).collect();
        Lexicon { words: all.iter().map(|w| crate::text::normalise(w)).collect(), function_words }
    }

    /// This lexicon plus `words` (for example every whole-word token of the speech model's
    /// vocabulary, which are the words it already spells well).
    pub fn with_words<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, words: I) -> Self {
        self.words.extend(words.into_iter().map(|w| crate::text::normalise(w.as_ref())).filter(|w| !w.is_empty()));
        self
    }

    /// True for a common word, a number, or a possessive "'s".
    pub fn is_common(&self, norm: &str) -> bool {
        norm == "'s" || norm.chars().all(|c| !c.is_alphabetic()) || self.words.contains(norm)
    }

    pub fn is_function_word(&self, norm: &str) -> bool {
        norm == "'s" || self.function_words.contains(norm)
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_knows_common_words_not_names() {
        let l = Lexicon::english();
        assert!(l.is_common("the") && l.is_common("people") && l.is_common("42") && l.is_common("'s"));
        assert!(!l.is_common("kubernetes"));
        assert!(l.is_function_word("of") && !l.is_function_word("table"));
        let l = l.with_words(["Kubernetes"]);
        assert!(l.is_common("kubernetes"));
    }
}
