//! Measures for the polishing engine. Every word comparison is on [`words_english`] output.
//!
//! - inserted words: output words that the input does not have (as a multiset): must be 0;
//! - content words lost: words of the fluent reference that the input had and the output
//!   dropped (multiset), counting only content words (not in [`STOP_WORDS`]);
//! - filler removal: "um"/"uh" occurrences in the input vs in the output, and the share of the
//!   input's other words still present in the output; of the other words dropped, how many
//!   were said again next to where they stood (a repetition: "we, we") or were part of a
//!   spoken filler phrase ("you know", "I mean"), which the polisher is meant to remove.

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

/// Spoken filler phrases ([`FillerCounts::dropped_phrase`]).
pub const FILLER_PHRASES: &[[&str; 2]] = &[["you", "know"], ["i", "mean"]];

/// A dropped word said again this close (in words, either side) counts as a repetition: a
/// phrase of three words said again after a filler ("a lot of, uh, a lot of").
const REPEAT_REACH: usize = 4;

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
    /// Of the other words dropped, those said again within four words of where they stood.
    pub dropped_repeated: usize,
    /// Of the other words dropped (and not repeated), those in a [`FILLER_PHRASES`] phrase.
    pub dropped_phrase: usize,
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
        for i in dropped(&input, &output).into_iter().filter(|&i| !is_filler(&input[i])) {
            let (lo, hi) = (i.saturating_sub(REPEAT_REACH), (i + REPEAT_REACH + 1).min(input.len()));
            if (lo..hi).any(|j| j != i && input[j] == input[i]) {
                c.dropped_repeated += 1;
            } else if in_phrase(&input, i) {
                c.dropped_phrase += 1;
            }
        }
        c
    }

    /// Other words kept, counting a dropped repetition or filler phrase as rightly gone.
    pub fn other_kept_or_disfluent(&self) -> usize {
        (self.other_kept + self.dropped_repeated + self.dropped_phrase).min(self.other_in)
    }

    /// Other words dropped that were neither a repetition nor in a filler phrase.
    pub fn dropped_other(&self) -> usize {
        self.other_in - self.other_kept_or_disfluent()
    }
}

/// Positions of `input` that `output` leaves out, matching `output` in order (the polisher only
/// deletes; an output word not found further on is skipped).
fn dropped(input: &[String], output: &[String]) -> Vec<usize> {
    let mut kept = vec![false; input.len()];
    let mut at = 0;
    for w in output {
        if let Some(k) = input[at..].iter().position(|x| x == w) {
            kept[at + k] = true;
            at += k + 1;
        }
    }
    (0..input.len()).filter(|&i| !kept[i]).collect()
}

/// Whether `input[i]` is part of a [`FILLER_PHRASES`] phrase.
fn in_phrase(input: &[String], i: usize) -> bool {
    FILLER_PHRASES.iter().any(|[a, b]| {
        (input[i] == *a && input.get(i + 1).is_some_and(|w| w == b)) || (input[i] == *b && i > 0 && input[i - 1] == *a)
    })
}

impl std::ops::AddAssign for FillerCounts {
    fn add_assign(&mut self, o: Self) {
        self.fillers_in += o.fillers_in;
        self.fillers_out += o.fillers_out;
        self.other_in += o.other_in;
        self.other_kept += o.other_kept;
        self.dropped_repeated += o.dropped_repeated;
        self.dropped_phrase += o.dropped_phrase;
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
        assert_eq!(c, FillerCounts { fillers_in: 3, fillers_out: 0, other_in: 5, other_kept: 5, dropped_repeated: 0, dropped_phrase: 0 });
    }

    #[test]
    fn dropped_words_are_told_apart() {
        // "we," said twice, "you know" and "really" dropped: two disfluencies, one lost word.
        let c = FillerCounts::of("So we, we, you know, really ship it today", "So we ship it today");
        assert_eq!((c.other_in, c.other_kept, c.dropped_repeated, c.dropped_phrase), (9, 5, 1, 2));
        assert_eq!((c.other_kept_or_disfluent(), c.dropped_other()), (8, 1));
        // "know" alone is not the phrase; a word said again far away is not a repetition.
        let c = FillerCounts::of("I know the plan and the team knows the plan", "I the plan and the team knows the");
        assert_eq!((c.dropped_repeated, c.dropped_phrase), (0, 0));
    }
}
