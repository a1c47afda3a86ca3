//! Measures for the polishing engine. Every word comparison is on [`words_english`] output.
//!
//! - inserted words: output words that the input does not have (as a multiset): must be 0;
//! - content words lost: words of the fluent reference that the input had and the output
//!   dropped (multiset), counting only content words (not in [`STOP_WORDS`]);
//! - filler removal: "um"/"uh" occurrences in the input vs in the output, and the share of the
//!   input's other words still present in the output.

use std::collections::HashMap;

use crate::normalise::words_english;

/// Closed-class words left out of "content words".
pub const STOP_WORDS: &[&str] = &[
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "by", "with", "from", "and", "or", "but", "is", "was", "are", "were",
    "be", "been", "did", "does", "do", "that", "this", "these", "those", "it", "its", "as", "what", "which", "who", "whom", "whose",
    "when", "where", "why", "how", "i", "you", "he", "she", "we", "they", "his", "her", "their", "our", "my", "your", "so", "if",
    "than", "then", "there", "has", "have", "had", "into", "about",
];

/// Filler words counted by [`FillerCounts`].
pub const UM_UH: &[&str] = &["um", "uh", "umm", "uhh", "uhm"];

fn bag(words: &[String]) -> HashMap<&str, usize> {
    let mut m = HashMap::new();
    for w in words {
        *m.entry(w.as_str()).or_insert(0) += 1;
    }
    m
}

/// Output words not in the input (multiset difference).
pub fn inserted_words(input: &str, output: &str) -> usize {
    let mut available = bag(&words_english(input)).into_iter().map(|(k, v)| (k.to_owned(), v)).collect::<HashMap<_, _>>();
    let mut inserted = 0;
    for w in words_english(output) {
        match available.get_mut(&w) {
            Some(n) if *n > 0 => *n -= 1,
            _ => inserted += 1,
        }
    }
    inserted
}

/// `(lost, kept_in_input)`: content words of `fluent` present in `input`, and how many of those
/// the output dropped.
pub fn content_words_lost(input: &str, fluent: &str, output: &str) -> (usize, usize) {
    let (input, output) = (words_english(input), words_english(output));
    let (mut in_bag, mut out_bag) = (bag(&input), bag(&output));
    let (mut lost, mut total) = (0, 0);
    for w in words_english(fluent) {
        if STOP_WORDS.contains(&w.as_str()) {
            continue;
        }
        let Some(n) = in_bag.get_mut(w.as_str()).filter(|n| **n > 0) else { continue };
        *n -= 1;
        total += 1;
        match out_bag.get_mut(w.as_str()) {
            Some(m) if *m > 0 => *m -= 1,
            _ => lost += 1,
        }
    }
    (lost, total)
}

/// Filler and other-word counts of one input/output pair.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct FillerCounts {
    pub fillers_in: usize,
    pub fillers_out: usize,
    pub other_in: usize,
    /// Of `other_in`, how many are still in the output (multiset).
    pub other_kept: usize,
}

impl FillerCounts {
    pub fn of(input: &str, output: &str) -> Self {
        let (input, output) = (words_english(input), words_english(output));
        let is_filler = |w: &String| UM_UH.contains(&w.as_str());
        let mut out_bag = bag(&output);
        let mut c = FillerCounts { fillers_out: output.iter().filter(|w| is_filler(w)).count(), ..Default::default() };
        for w in &input {
            if is_filler(w) {
                c.fillers_in += 1;
                continue;
            }
            c.other_in += 1;
            if let Some(n) = out_bag.get_mut(w.as_str()).filter(|n| **n > 0) {
                *n -= 1;
                c.other_kept += 1;
            }
        }
        c
    }
}

impl std::ops::AddAssign for FillerCounts {
    fn add_assign(&mut self, o: Self) {
        self.fillers_in += o.fillers_in;
        self.fillers_out += o.fillers_out;
        self.other_in += o.other_in;
        self.other_kept += o.other_kept;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insertions_are_counted_as_a_multiset() {
        assert_eq!(inserted_words("the cat, the dog", "The cat."), 0);
        assert_eq!(inserted_words("the cat", "the the cat"), 1);
        assert_eq!(inserted_words("ten cats", "10 cats"), 0, "numbers compare normalised");
        assert_eq!(inserted_words("move it to Tuesday", "move it to Wednesday"), 1);
    }

    #[test]
    fn content_words_lost_ignores_words_the_input_lacked() {
        let input = "What makes the Bank of America Tower or wait the Wells Fargo Center stand out?";
        let fluent = "What makes the Wells Fargo Center stand out?";
        assert_eq!(content_words_lost(input, fluent, "What makes the Wells Fargo Center stand out?"), (0, 6));
        assert_eq!(content_words_lost(input, fluent, "What makes the Center stand out?"), (2, 6));
        assert_eq!(content_words_lost("a cat", "a dog", "a"), (0, 0));
    }

    #[test]
    fn filler_counts() {
        let c = FillerCounts::of("Um, so we uh ship it, um, today", "So we ship it today");
        assert_eq!(c, FillerCounts { fillers_in: 3, fillers_out: 0, other_in: 5, other_kept: 5 });
    }
}
