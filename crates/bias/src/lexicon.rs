//! Common words: the sound-alike matcher never turns one of these into a term by itself (a
//! user who wants that lists the spelling under `sounds_like`).

use std::collections::HashSet;
use std::sync::Arc;

/// A set of common words, compared in [`crate::text::normalise`]d form. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Lexicon {
    /// The most frequent English words: never changed by a sound-alike.
    top: Arc<HashSet<String>>,
    words: Arc<HashSet<String>>,
    function_words: Arc<HashSet<String>>,
    names: Arc<HashSet<String>>,
}

/// English closed-class words (see [`Lexicon::is_closed_class`]).
const CLOSED_CLASS: &[&str] = &[
    "a", "an", "the", "this", "that", "these", "those", "my", "your", "his", "her", "its", "our", "their", "some", "any", "no",
    "every", "each", "either", "neither", "all", "both", "few", "many", "much", "more", "most", "such", "what", "which", "whose",
    "i", "me", "you", "he", "him", "she", "it", "we", "us", "they", "them", "who", "whom", "mine", "yours", "hers", "ours", "theirs",
    "myself", "yourself", "himself", "herself", "itself", "ourselves", "themselves", "of", "in", "on", "at", "to", "for", "with",
    "by", "from", "about", "into", "onto", "over", "under", "after", "before", "between", "through", "during", "without", "within",
    "against", "among", "around", "across", "behind", "beyond", "up", "down", "off", "out", "upon", "than", "as", "and", "or",
    "but", "nor", "so", "yet", "if", "because", "while", "although", "though", "unless", "until", "since", "when", "where",
    "whether", "how", "why", "then", "be", "am", "is", "are", "was", "were", "been", "being", "have", "has", "had", "having",
    "do", "does", "did", "will", "would", "shall", "should", "can", "could", "may", "might", "must", "not", "there", "here",
];

/// How many of the most frequent English words count as function words: a sound-alike span
/// may not begin or end with one unless the term does.
const FUNCTION_WORDS: usize = 150;

impl Lexicon {
    /// The 1,000 most frequent English words (the `top-english-words` list).
    pub fn english() -> Self {
        let all: Vec<String> = top_english_words::get_words();
        let function_words = all.iter().take(FUNCTION_WORDS).map(|w| crate::text::normalise(w)).collect();
        let top: Arc<HashSet<String>> = Arc::new(all.iter().map(|w| crate::text::normalise(w)).collect());
        Lexicon { words: Arc::clone(&top), top, function_words: Arc::new(function_words), names: Arc::default() }
    }

    /// This lexicon plus `words` (for example every whole-word token of the speech model's
    /// vocabulary, which are the words it already spells well).
    pub fn with_words<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, words: I) -> Self {
        Arc::make_mut(&mut self.words).extend(words.into_iter().map(|w| crate::text::normalise(w.as_ref())).filter(|w| !w.is_empty()));
        self
    }

    /// This lexicon plus more of the most frequent words, which a sound-alike never changes
    /// (they are also added to the common words). For example the speech model's earliest
    /// whole-word tokens: byte-pair merges come in frequency order, so low token ids are the
    /// most frequent words, inflected forms included ("was", "had", "said"), which the lemma
    /// list lacks.
    pub fn with_frequent_words<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, words: I) -> Self {
        let words: Vec<String> = words.into_iter().map(|w| crate::text::normalise(w.as_ref())).filter(|w| !w.is_empty()).collect();
        Arc::make_mut(&mut self.top).extend(words.iter().cloned());
        Arc::make_mut(&mut self.words).extend(words);
        self
    }

    /// This lexicon plus known names (for example the capitalised whole-word tokens of the
    /// speech model's vocabulary): a span of names and common words is changed only on a
    /// strong match.
    pub fn with_names<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, names: I) -> Self {
        let words = Arc::clone(&self.words);
        Arc::make_mut(&mut self.names)
            .extend(names.into_iter().map(|w| crate::text::normalise(w.as_ref())).filter(|w| !w.is_empty() && !words.contains(w)));
        self
    }

    /// A known name (and not a common word).
    pub fn is_name(&self, norm: &str) -> bool {
        self.names.contains(norm)
            || norm.split_once('\'').is_some_and(|(base, end)| end == "s" && self.names.contains(base))
    }

    /// True for a common word, a number, a possessive "'s", or a contraction of a common word
    /// ("we've", "it'll").
    pub fn is_common(&self, norm: &str) -> bool {
        norm == "'s"
            || norm.chars().all(|c| !c.is_alphabetic())
            || self.words.contains(norm)
            || self.is_contraction(norm)
    }

    /// Like [`Lexicon::is_common`], for the most frequent English words only.
    pub fn is_very_common(&self, norm: &str) -> bool {
        norm == "'s" || norm.chars().all(|c| !c.is_alphabetic()) || self.top.contains(norm) || contraction_of(norm, &self.top)
    }

    fn is_contraction(&self, norm: &str) -> bool {
        contraction_of(norm, &self.words)
    }

    pub fn is_function_word(&self, norm: &str) -> bool {
        norm == "'s" || self.function_words.contains(norm)
    }

    /// A function word ([`Lexicon::is_function_word`]) of a closed class (article, pronoun,
    /// preposition, conjunction, auxiliary, negation). The most frequent words also hold
    /// content words that make compounds: "safe way", "first energy" and "well care" join like
    /// "silver ware", where "to night" joins only because "tonight" is a word itself.
    pub fn is_closed_class(&self, norm: &str) -> bool {
        self.is_function_word(norm) && (norm == "'s" || CLOSED_CLASS.contains(&norm))
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
}

fn contraction_of(norm: &str, words: &HashSet<String>) -> bool {
    match crate::text::contraction_base(norm).or_else(|| norm.strip_suffix("'s")) {
        Some(base) => ["ca", "wo", "ai"].contains(&base) || words.contains(base),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_knows_common_words_not_names() {
        let l = Lexicon::english();
        assert!(l.is_common("the") && l.is_common("people") && l.is_common("42") && l.is_common("'s"));
        assert!(l.is_common("we've") && l.is_common("don't") && !l.is_common("o'reilly"));
        assert!(!l.is_common("kubernetes"));
        assert!(l.is_function_word("of") && !l.is_function_word("table"));
        let l = l.with_words(["Kubernetes"]).with_names(["Harmon", "people"]);
        assert!(l.is_common("kubernetes"));
        assert!(l.is_name("harmon") && l.is_name("harmon's") && !l.is_name("people") && !l.is_common("harmon"));
    }
}
