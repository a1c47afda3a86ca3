//! Word error rate over a corpus: errors summed over all utterances, divided by the summed
//! reference length (not the mean of per-utterance rates). Alignment comes from `rwer`.

use serde::Serialize;

use crate::normalise::normalise_english;

/// Edit counts of one or many aligned utterances.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WordErrors {
    pub substitutions: usize,
    pub deletions: usize,
    pub insertions: usize,
    pub reference_words: usize,
}

impl WordErrors {
    /// Aligns two already-normalised texts.
    pub fn between(reference: &str, hypothesis: &str) -> Self {
        let out = rwer::process_words(reference, hypothesis);
        WordErrors {
            substitutions: out.substitutions,
            deletions: out.deletions,
            insertions: out.insertions,
            reference_words: out.ref_len,
        }
    }

    /// Normalises both sides with [`normalise_english`], then aligns them.
    pub fn english(reference: &str, hypothesis: &str) -> Self {
        Self::between(&normalise_english(reference), &normalise_english(hypothesis))
    }

    pub fn errors(&self) -> usize {
        self.substitutions + self.deletions + self.insertions
    }

    /// Errors per reference word; 0 for an empty reference with an empty hypothesis, and the
    /// insertion count when only the reference is empty.
    pub fn rate(&self) -> f64 {
        if self.reference_words == 0 {
            return self.errors() as f64;
        }
        self.errors() as f64 / self.reference_words as f64
    }
}

impl std::ops::AddAssign for WordErrors {
    fn add_assign(&mut self, o: Self) {
        self.substitutions += o.substitutions;
        self.deletions += o.deletions;
        self.insertions += o.insertions;
        self.reference_words += o.reference_words;
    }
}

#[cfg(test)]
mod tests {
    use super::WordErrors;

    #[test]
    fn counts_each_kind_of_error() {
        let e = WordErrors::between("the cat sat on the mat", "the cat sat on a mat today");
        assert_eq!((e.substitutions, e.deletions, e.insertions, e.reference_words), (1, 0, 1, 6));
        let e = WordErrors::between("a b c", "a c");
        assert_eq!(e.deletions, 1);
    }

    #[test]
    fn corpus_rate_weights_by_reference_length() {
        let mut total = WordErrors::english("One two three four.", "one two three four");
        total += WordErrors::english("Ten.", "10 and");
        assert_eq!(total.reference_words, 5);
        assert!((total.rate() - 0.2).abs() < 1e-9, "{}", total.rate());
    }

    #[test]
    fn empty_sides() {
        assert_eq!(WordErrors::between("", "").rate(), 0.0);
        assert_eq!(WordErrors::between("", "hello there").rate(), 2.0);
        assert_eq!(WordErrors::between("hello", "").rate(), 1.0);
    }
}
