//! Synthetic (disfluent, fluent) pairs for training the polisher: fluent sentences made
//! disfluent the way people speak, by seeded rules, so the fluent side is known exactly.
//!
//! Each rule is applied with its own rate ([`Rates`]); a sentence gets at most
//! [`Rates::max_edits`] edits, and the fluent side is always the input sentence unchanged:
//!
//! | rule | example (fluent -> disfluent) |
//! |---|---|
//! | filler | "we can start" -> "we, um, can start" (`um`, `uh`, `er`, `you know`, `I mean`) |
//! | stutter | "we can" -> "w- we can" (the first one or two letters, a hyphen) |
//! | partial word | "see you tomorrow" -> "see you tomor- tomorrow" (half the word or more) |
//! | repetition | "I think it works" -> "I think I think it works" (one to three words) |
//! | self-correction | "on Wednesday" -> "on Tuesday, no, Wednesday" (markers `no`, `I mean`, `or rather`, `wait`, `sorry`) |
//! | restart | "The plan is fine" -> "The plan, the plan is fine" (the sentence's first one to three words) |
//! | false start | "We should go" -> "So I was, we should go" (an abandoned opening) |
//!
//! A self-correction replaces a word by a wrong word of the same kind, then the marker, then
//! the right word: a number by a nearby number, a weekday or month by another, a capitalised
//! name by another name seen in the text given, any other word of four letters or more by
//! another such word seen (the generator learns them from the sentences it is given).
//!
//! ```
//! use scrivo_synth::{Rates, Synthesizer};
//! let mut synth = Synthesizer::new(7, Rates::default());
//! let pair = synth.pair("We can meet on Wednesday at the office.");
//! assert_eq!(pair.fluent, "We can meet on Wednesday at the office.");
//! assert_ne!(pair.disfluent, pair.fluent);
//! ```

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How often each rule fires: per word for fillers, stutters, partial words and repetitions;
/// per sentence for self-corrections, restarts and false starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    pub filler: f64,
    pub stutter: f64,
    pub partial_word: f64,
    pub repetition: f64,
    pub correction: f64,
    pub restart: f64,
    pub false_start: f64,
    /// At most this many edits in one sentence; a sentence with none gets one.
    pub max_edits: usize,
}

impl Default for Rates {
    /// Roughly Disfl-QA's and Switchboard's mix: a filler every 12 words, a repetition every
    /// 25, a self-correction in a third of the sentences.
    fn default() -> Self {
        Rates { filler: 0.08, stutter: 0.02, partial_word: 0.02, repetition: 0.04, correction: 0.35, restart: 0.12, false_start: 0.08, max_edits: 3 }
    }
}

/// One training pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub disfluent: String,
    pub fluent: String,
}

const FILLERS: &[&str] = &["um", "uh", "er", "you know", "I mean"];
const MARKERS: &[&str] = &["no", "I mean", "or rather", "wait", "sorry"];
const OPENINGS: &[&str] = &["So I was", "What I", "I think the", "We were", "And then"];
const DAYS: &[&str] = &["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const MONTHS: &[&str] = &["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const FUNCTION_WORDS: &[&str] = &[
    "the", "a", "an", "and", "or", "but", "of", "to", "in", "on", "at", "for", "with", "from", "by", "as", "is", "are", "was", "were", "be", "been",
    "that", "this", "these", "those", "it", "its", "they", "them", "their", "there", "what", "which", "who", "when", "where", "how", "not", "no",
    "have", "has", "had", "do", "does", "did", "will", "would", "can", "could", "should", "about", "into", "than", "then", "also", "very",
];

/// Makes disfluent versions of fluent sentences; the same seed and inputs give the same pairs.
pub struct Synthesizer {
    rng: ChaCha8Rng,
    rates: Rates,
    /// Capitalised words seen (names), for wrong names in self-corrections.
    names: Vec<String>,
    /// Other words of four letters or more seen.
    words: Vec<String>,
}

fn bare(word: &str) -> &str {
    word.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'')
}

/// The word with `replacement` in place of its letters, punctuation around it kept.
fn respell(word: &str, replacement: &str) -> String {
    let core = bare(word);
    match word.find(core) {
        Some(at) if !core.is_empty() => format!("{}{replacement}{}", &word[..at], &word[at + core.len()..]),
        _ => replacement.to_string(),
    }
}

fn is_function(word: &str) -> bool {
    FUNCTION_WORDS.contains(&word.to_lowercase().as_str())
}

impl Synthesizer {
    pub fn new(seed: u64, rates: Rates) -> Self {
        Synthesizer { rng: ChaCha8Rng::seed_from_u64(seed), rates, names: Vec::new(), words: Vec::new() }
    }

    /// Remembers the names and longer words of `text` as wrong words for self-corrections.
    pub fn learn(&mut self, text: &str) {
        for (i, w) in text.split_whitespace().enumerate() {
            let b = bare(w);
            if b.len() < 4 || !b.chars().all(char::is_alphabetic) || is_function(b) {
                continue;
            }
            let list = if i > 0 && b.chars().next().is_some_and(char::is_uppercase) { &mut self.names } else { &mut self.words };
            if list.len() < 20_000 && !list.iter().any(|x| x == b) {
                list.push(b.to_string());
            }
        }
    }

    /// A wrong word of the same kind as `word`, if there is one.
    fn wrong_for(&mut self, word: &str, first: bool) -> Option<String> {
        let b = bare(word);
        if let Ok(n) = b.parse::<i64>() {
            let delta = self.rng.random_range(1..=3) * if self.rng.random_bool(0.5) { 1 } else { -1 };
            return Some((n + delta).max(0).to_string()).filter(|w| w != b);
        }
        for list in [DAYS, MONTHS] {
            if list.contains(&b) {
                return list.iter().filter(|d| **d != b).copied().collect::<Vec<_>>().choose(&mut self.rng).map(|d| d.to_string());
            }
        }
        if b.len() < 4 || !b.chars().all(char::is_alphabetic) || is_function(b) {
            return None;
        }
        let names = !first && b.chars().next().is_some_and(char::is_uppercase);
        let pool = if names { &self.names } else { &self.words };
        let choice = pool.iter().filter(|w| w.as_str() != b).collect::<Vec<_>>().choose(&mut self.rng).map(|w| w.to_string());
        choice
    }

    /// A disfluent version of `fluent` (one sentence), and `fluent` itself.
    pub fn pair(&mut self, fluent: &str) -> Pair {
        self.learn(fluent);
        let words: Vec<&str> = fluent.split_whitespace().collect();
        let mut out: Vec<String> = Vec::with_capacity(words.len() * 2);
        let mut edits = 0usize;
        let rates = self.rates;
        // Sentence-level rules first, at most one of them.
        let roll = self.rng.random::<f64>();
        let mut corrected_at = None;
        if roll < rates.correction {
            // Not the first word: its capital would move into the wrong word.
            let candidates: Vec<usize> = (1..words.len()).filter(|&i| self.wrong_for(words[i], false).is_some()).collect();
            corrected_at = candidates.choose(&mut self.rng).copied();
        }
        if corrected_at.is_none() && words.len() >= 4 {
            if roll < rates.correction + rates.restart {
                let n = self.rng.random_range(1..=3.min(words.len() - 2));
                let mut opening: Vec<String> = words[..n].iter().map(|w| bare(w).to_string()).collect();
                if let Some(last) = opening.last_mut() {
                    last.push(',');
                }
                out.extend(opening);
                edits += 1;
            } else if roll < rates.correction + rates.restart + rates.false_start {
                let opening = OPENINGS.choose(&mut self.rng).copied().unwrap_or("So I was");
                out.push(format!("{opening},"));
                edits += 1;
            }
        }
        // After an opening the sentence's first word is no longer first: "The plan, the plan".
        let restarted = !out.is_empty();
        for (i, word) in words.iter().enumerate() {
            let owned = if i == 0 && restarted && is_function(bare(word)) { word.to_lowercase() } else { (*word).to_string() };
            let word = owned.as_str();
            let room = edits < rates.max_edits;
            if Some(i) == corrected_at {
                if let Some(wrong) = self.wrong_for(word, i == 0) {
                    let marker = MARKERS.choose(&mut self.rng).copied().unwrap_or("no");
                    out.push(format!("{},", respell(word, &wrong).trim_end_matches(|c: char| !c.is_alphanumeric())));
                    out.push(format!("{marker},"));
                    edits += 1;
                }
            } else if room && i > 0 && self.rng.random_bool(rates.filler) {
                let filler = FILLERS.choose(&mut self.rng).copied().unwrap_or("um");
                if let Some(prev) = out.last_mut() {
                    if !prev.ends_with(',') && prev.ends_with(|c: char| c.is_alphanumeric()) {
                        prev.push(',');
                    }
                }
                out.push(format!("{filler},"));
                edits += 1;
            }
            let b = bare(word);
            let room = edits < rates.max_edits;
            let roll = self.rng.random::<f64>();
            if room && b.len() >= 2 && b.chars().all(char::is_alphabetic) && roll < rates.stutter {
                let cut = b.char_indices().nth(if b.len() > 3 { 2 } else { 1 }).map_or(b.len(), |(at, _)| at);
                out.push(format!("{}-", &b[..cut]));
                edits += 1;
            } else if room && b.len() >= 6 && b.chars().all(char::is_alphabetic) && roll < rates.stutter + rates.partial_word {
                let half = b.len() / 2 + self.rng.random_range(0..=b.len() / 4);
                let cut = b.char_indices().nth(half).map_or(b.len(), |(at, _)| at);
                out.push(format!("{}-", &b[..cut]));
                edits += 1;
            } else if room && roll < rates.stutter + rates.partial_word + rates.repetition {
                let n = self.rng.random_range(1..=3).min(words.len() - i);
                out.extend(words[i..i + n].iter().map(|w| bare(w).to_string()));
                edits += 1;
            }
            out.push(word.to_string());
        }
        if edits == 0 && !words.is_empty() {
            // Every pair teaches something: at least a filler.
            let at = self.rng.random_range(0..words.len());
            let filler = FILLERS.choose(&mut self.rng).copied().unwrap_or("um");
            if at > 0 && out[at - 1].ends_with(|c: char| c.is_alphanumeric()) {
                out[at - 1].push(',');
            }
            if at == 0 && is_function(bare(&out[0])) {
                out[0] = out[0].to_lowercase();
            }
            out.insert(at, if at == 0 { format!("{}{},", filler[..1].to_uppercase(), &filler[1..]) } else { format!("{filler},") });
        }
        Pair { disfluent: out.join(" "), fluent: fluent.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only(rates: Rates) -> Rates {
        Rates { filler: 0.0, stutter: 0.0, partial_word: 0.0, repetition: 0.0, correction: 0.0, restart: 0.0, false_start: 0.0, ..rates }
    }

    /// The disfluent side's words, once the disfluencies are taken out, are the fluent words
    /// in order: every rule only adds.
    fn contains_in_order(disfluent: &str, fluent: &str) -> bool {
        let mut d = disfluent.split_whitespace().map(|w| bare(w).to_lowercase());
        fluent.split_whitespace().map(|w| bare(w).to_lowercase()).all(|w| d.any(|x| x == w))
    }

    #[test]
    fn the_same_seed_gives_the_same_pairs() {
        let text = ["We can meet on Wednesday at the office.", "The quarterly report goes to Maria before Friday."];
        let run = |seed| {
            let mut s = Synthesizer::new(seed, Rates::default());
            text.iter().map(|t| s.pair(t).disfluent).collect::<Vec<_>>()
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }

    #[test]
    fn every_rule_only_adds_words_and_the_fluent_side_is_the_input() {
        let mut s = Synthesizer::new(11, Rates { filler: 0.3, stutter: 0.1, partial_word: 0.1, repetition: 0.1, max_edits: 6, ..Rates::default() });
        s.learn("Maria and Johnson reviewed the budget and the schedule yesterday.");
        for sentence in ["We can meet on Wednesday at the office.", "Send 12 copies to Johnson in March please.", "The schedule looks fine to me today."] {
            for _ in 0..20 {
                let p = s.pair(sentence);
                assert_eq!(p.fluent, sentence);
                assert!(contains_in_order(&p.disfluent, sentence), "{p:?}");
                assert!(p.disfluent.split_whitespace().count() > sentence.split_whitespace().count(), "{p:?}");
            }
        }
    }

    #[test]
    fn a_self_correction_puts_a_wrong_word_of_the_same_kind_then_a_marker() {
        let mut s = Synthesizer::new(5, Rates { correction: 1.0, ..only(Rates::default()) });
        let p = s.pair("We meet on Wednesday.");
        let words: Vec<&str> = p.disfluent.split_whitespace().collect();
        let at = words.iter().position(|w| DAYS.iter().any(|d| w.trim_end_matches(',') == *d && *d != "Wednesday")).expect("a wrong day");
        assert!(MARKERS.iter().any(|m| words[at + 1..].join(" ").starts_with(&format!("{m},"))), "{p:?}");
        assert!(p.disfluent.ends_with("Wednesday."), "{p:?}");
        let p = s.pair("It is 12.");
        assert!(p.disfluent.starts_with("It is ") && p.disfluent.ends_with(" 12."), "{p:?}");
        assert!(p.disfluent.split_whitespace().nth(2).is_some_and(|w| w.trim_end_matches(',').parse::<i64>().is_ok_and(|n| n != 12)), "{p:?}");
    }

    #[test]
    fn stutters_and_partial_words_end_in_a_hyphen_before_the_whole_word() {
        let mut s = Synthesizer::new(9, Rates { stutter: 0.5, partial_word: 0.5, max_edits: 10, ..only(Rates::default()) });
        let p = s.pair("tomorrow afternoon works");
        for (i, w) in p.disfluent.split_whitespace().enumerate() {
            if let Some(stem) = w.strip_suffix('-') {
                let next = p.disfluent.split_whitespace().nth(i + 1).expect("a whole word follows");
                assert!(next.starts_with(stem), "{p:?}");
            }
        }
    }
}
