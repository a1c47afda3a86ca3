//! Self-corrections and restarts: "move it to Tuesday, no, Wednesday" -> "move it to
//! Wednesday"; "Who did, no, what did the government want" -> "What did the government want".
//!
//! A correction is `reparandum MARKER repair`. The marker is found first (with guards, because
//! "no", "sorry" and "wait" are ordinary words too); the reparandum is then found by aligning
//! the words before the marker with the start of the repair:
//! 1. restart: the repair opens with a question word and the sentence so far also does: the
//!    whole sentence so far goes;
//! 2. anchor: the repair's first word also occurs shortly before the marker ("the Bank of
//!    America Tower, or wait, the Wells Fargo Center"): delete from that occurrence;
//! 3. parallel structure: a later repair word lines up with a word before the marker ("Wahl and
//!    Ammann, no, Karlen and Singer"): delete the aligned span;
//! 4. otherwise the one word before the marker.
//!
//! Protected words (numbers, negations, the caller's terms) are only deleted when the repair
//! brings a word of the same kind (a number corrected by a number); otherwise the correction is
//! not applied at all, so meaning never silently changes.

/// Marker phrases, longest first. `strong` markers are corrections wherever they occur
/// mid-sentence; weak ones need more evidence (see [`weak_marker_ok`]).
const MARKERS: &[(&[&str], bool)] = &[
    (&["no", "scratch", "that", "i", "mean"], true),
    (&["scratch", "that"], true),
    (&["make", "that"], true),
    (&["or", "rather"], true),
    (&["or", "wait"], true),
    (&["no", "wait"], true),
    (&["no", "sorry"], true),
    (&["sorry", "no"], true),
    (&["no", "no"], false),
    (&["i", "mean"], false),
    (&["sorry"], false),
    (&["wait"], false),
    (&["no"], false),
    (&["or"], false),
];

/// Words that start a question.
pub const QUESTION_WORDS: &[&str] = &["who", "what", "when", "where", "why", "which", "how", "whose", "whom"];

/// Words after "no" that make it an ordinary determiner or answer ("no one", "no longer").
const NO_PHRASES: &[&str] = &[
    "one", "longer", "more", "matter", "doubt", "way", "problem", "idea", "need", "less", "than", "thanks", "longer", "sooner",
    "further", "other", "such", "reason", "time", "money", "chance", "point", "change", "changes", "comment", "response",
];

/// Words before "no" that make it part of the sentence ("there is no", "with no").
const BEFORE_NO: &[&str] = &[
    "is", "was", "are", "were", "be", "been", "there's", "have", "has", "had", "with", "of", "by", "say", "said", "says", "and",
    "or", "yes", "means", "got", "get", "make", "made", "take", "took", "give", "gave", "see", "saw", "show", "shows", "at", "in",
    "for", "to", "show", "find", "found", "left", "leaves",
];

/// Small closed-class words: an anchor on these is only trusted close to the marker.
const FUNCTION_WORDS: &[&str] = &[
    "the", "a", "an", "of", "in", "on", "at", "to", "for", "by", "with", "from", "and", "or", "is", "was", "are", "were", "did",
    "does", "do", "that", "this", "these", "those", "it", "its", "his", "her", "their", "our", "my", "your",
];

/// A correction: delete `start..marker_end` (reparandum and marker), keep the repair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Correction {
    pub start: usize,
    pub marker_start: usize,
    pub marker_end: usize,
}

/// What the caller knows about each word.
pub(crate) struct Word<'a> {
    /// Lower-case word without surrounding punctuation.
    pub core: &'a str,
    /// Punctuation right after the word in the raw text (",", ".", ...).
    pub after: &'a str,
    pub protected: Protection,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protection {
    None,
    Number,
    Negation,
    Term,
}

fn ends_sentence(w: &Word<'_>) -> bool {
    w.after.contains(['.', '?', '!'])
}

/// The corrections in `words` (indices into `words`, which holds only the words still kept).
pub(crate) fn find(words: &[Word<'_>]) -> Vec<Correction> {
    let mut out = Vec::new();
    let mut sentence_start = 0;
    let mut i = 0;
    while i < words.len() {
        if i > 0 && ends_sentence(&words[i - 1]) {
            sentence_start = i;
        }
        let Some((len, strong)) = marker_at(words, i) else {
            i += 1;
            continue;
        };
        let (prefix, repair) = (&words[sentence_start..i], &words[i + len..]);
        let repair: Vec<&Word<'_>> = repair.iter().collect();
        if prefix.is_empty() || repair.is_empty() || ends_sentence(&words[i - 1]) {
            i += len;
            continue;
        }
        let marker = &words[i..i + len];
        // "Carolina, sorry." ends the sentence on the marker: an apology, not a correction.
        if ends_sentence(&marker[len - 1]) {
            i += len;
            continue;
        }
        let start = reparandum(prefix, &repair, marker, strong).map(|k| i - k);
        if let Some(start) = start.filter(|&s| safe(&words[s..i], &repair)) {
            out.push(Correction { start, marker_start: i, marker_end: i + len });
            sentence_start = i + len;
        }
        i += len;
    }
    out
}

fn marker_at(words: &[Word<'_>], i: usize) -> Option<(usize, bool)> {
    MARKERS.iter().find_map(|(phrase, strong)| {
        let n = phrase.len();
        let hit = words.get(i..i + n).is_some_and(|w| w.iter().zip(phrase.iter()).all(|(a, b)| a.core == *b));
        // A marker's inner words carry no sentence end ("No. Wait" is two sentences).
        let inner_break = hit && words[i..i + n - 1].iter().any(ends_sentence);
        (hit && !inner_break).then_some((n, *strong))
    })
}

/// How many words before the marker form the reparandum, or `None` when this is no correction.
fn reparandum(prefix: &[Word<'_>], repair: &[&Word<'_>], marker: &[Word<'_>], strong: bool) -> Option<usize> {
    let first = repair[0].core;
    let marker_words: Vec<&str> = marker.iter().map(|w| w.core).collect();
    // A question word, "or", the same word again is a pair of alternatives ("Why or why
    // not?"), not a restart ("When or what did they rely on?").
    let alternatives = marker_words == ["or"] && prefix.len() == 1 && prefix[0].core == first;
    let restart = QUESTION_WORDS.contains(&first) && prefix.iter().take(2).any(|w| QUESTION_WORDS.contains(&w.core)) && !alternatives;
    if restart {
        return Some(prefix.len());
    }
    // "or" is a plain conjunction unless it starts a restart (handled above).
    if marker_words == ["or"] {
        return None;
    }
    let anchor = anchor(prefix, repair);
    let pause = |w: &Word<'_>| w.after.contains([',', '\u{2026}', '-', ';']);
    let pause_before = prefix.last().is_some_and(pause);
    let pause_after = marker.last().is_some_and(pause);
    // "make that" and "scratch that" are also plain verb phrases ("we need to make that
    // happen"): as markers they follow a pause.
    if strong && matches!(marker_words.as_slice(), ["make", "that"] | ["scratch", "that"]) && !pause_before {
        return None;
    }
    if !strong && !weak_marker_ok(&marker_words, prefix, repair, anchor.is_some(), pause_before, pause_after) {
        return None;
    }
    Some(anchor.unwrap_or(1).min(prefix.len()))
}

/// Evidence that a weak marker ("no", "sorry", "wait", "I mean", "no no") is a correction.
fn weak_marker_ok(marker: &[&str], prefix: &[Word<'_>], repair: &[&Word<'_>], aligned: bool, pause_before: bool, pause_after: bool) -> bool {
    let before = prefix.last().map(|w| w.core).unwrap_or("");
    let after = repair[0].core;
    match marker {
        ["no"] | ["no", "no"] => {
            if BEFORE_NO.contains(&before) || NO_PHRASES.contains(&after) || prefix.len() < 2 {
                return false;
            }
            aligned || (pause_before && pause_after) || same_kind(prefix.last(), repair[0])
        }
        // "I mean" mid-sentence is usually a correction; at the start it is a filler (the
        // filler pass handles that).
        ["i", "mean"] => aligned && (pause_before || pause_after),
        // "sorry" and "wait" are apologies and verbs unless set off on both sides
        // ("the empire, sorry, the name"); "I'm sorry," is never a marker.
        _ => !BEFORE_SORRY.contains(&before) && pause_before && pause_after,
    }
}

/// Words before "sorry"/"wait" that make it part of the sentence.
const BEFORE_SORRY: &[&str] = &["i'm", "am", "so", "very", "really", "feel", "be", "was", "were", "are", "is", "oh", "to", "can't", "will", "just"];

/// Two words of one kind: both numbers, both negations, or the same inflection ("reflected,
/// no, inspired"), which a determiner "no" would not sit between.
fn same_kind(a: Option<&Word<'_>>, b: &Word<'_>) -> bool {
    a.is_some_and(|a| {
        let inflected = ["ed", "ing"].iter().any(|s| a.core.len() > s.len() + 2 && a.core.ends_with(s) && b.core.ends_with(s));
        (a.protected == b.protected && a.protected != Protection::None) || inflected
    })
}

/// Rules 2 and 3: the reparandum length given by aligning the repair with the words before
/// the marker.
fn anchor(prefix: &[Word<'_>], repair: &[&Word<'_>]) -> Option<usize> {
    let n = prefix.len();
    // 3a: the repair repeats the last word before the marker as its head ("Schuenemann's
    // study, no, the Haensch study"): the reparandum is as long as the repair up to it.
    let last = prefix[n - 1].core;
    if !FUNCTION_WORDS.contains(&last) {
        if let Some(j) = (1..repair.len().min(4)).find(|&j| repair[j].core == last) {
            return Some(j.min(n));
        }
    }
    // 2: the repair's first word, looked for up to 6 words back, nearest first.
    let first = repair[0].core;
    if let Some(k) = (1..=6.min(n)).find(|&k| prefix[n - k].core == first) {
        return Some(k);
    }
    // 3: repair word j lines up with the word j places into a reparandum of length k.
    for k in 2..=4.min(n) {
        for j in 1..k.min(repair.len()) {
            let w = repair[j].core;
            if prefix[n - k + j].core == w && FUNCTION_WORDS.contains(&w) {
                return Some(k);
            }
        }
    }
    None
}

/// A correction may delete a protected word only when the repair brings one of the same kind.
fn safe(deleted: &[Word<'_>], repair: &[&Word<'_>]) -> bool {
    deleted.iter().all(|w| w.protected == Protection::None || repair.iter().take(8).any(|r| r.protected == w.protected))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies `find` to a plain sentence and returns what stays.
    fn apply(text: &str) -> String {
        let raw: Vec<&str> = text.split_whitespace().collect();
        let cores: Vec<String> = raw.iter().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'').to_lowercase()).collect();
        let afters: Vec<&str> = raw.iter().map(|w| &w[w.trim_end_matches(|c: char| !c.is_alphanumeric()).len()..]).collect();
        let words: Vec<Word<'_>> = cores
            .iter()
            .zip(&afters)
            .map(|(c, a)| Word {
                core: c,
                after: a,
                protected: if c.chars().any(|ch| ch.is_ascii_digit()) {
                    Protection::Number
                } else if ["not", "never", "don't"].contains(&c.as_str()) {
                    Protection::Negation
                } else {
                    Protection::None
                },
            })
            .collect();
        let mut keep = vec![true; raw.len()];
        for c in find(&words) {
            (c.start..c.marker_end).for_each(|i| keep[i] = false);
        }
        raw.iter().zip(keep).filter(|(_, k)| *k).map(|(w, _)| *w).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn replacement_of_one_word() {
        assert_eq!(apply("move it to Tuesday, no, Wednesday"), "move it to Wednesday");
        assert_eq!(apply("What was the original empire, sorry, name?"), "What was the original name?");
        assert_eq!(apply("What dynasties reflected no inspired the elements?"), "What dynasties inspired the elements?");
    }

    #[test]
    fn anchored_and_parallel_repairs() {
        assert_eq!(
            apply("What makes the Bank of America Tower or wait the Wells Fargo Center stand out?"),
            "What makes the Wells Fargo Center stand out?"
        );
        assert_eq!(apply("What did Wahl and Ammann no no Karlen and Singer present?"), "What did Karlen and Singer present?");
        assert_eq!(
            apply("What is the status of Schuenemann's study no scratch that I mean the Haensch study?"),
            "What is the status of the Haensch study?"
        );
    }

    #[test]
    fn restarts_drop_the_abandoned_start() {
        assert_eq!(apply("Who did no What did the government want?"), "What did the government want?");
        assert_eq!(apply("When or what did they rely on?"), "what did they rely on?");
        // The same question word again after "or" offers alternatives.
        assert_eq!(apply("Is this sustainable? Why or why not?"), "Is this sustainable? Why or why not?");
    }

    #[test]
    fn numbers_are_corrected_only_by_numbers() {
        assert_eq!(apply("a modulo 8 or wait 9?"), "a modulo 9?");
        assert_eq!(apply("we need 8 servers, sorry, machines"), "we need 8 machines");
        assert_eq!(apply("I did not, sorry, will finish it"), "I did not, sorry, will finish it");
    }

    #[test]
    fn ordinary_uses_of_marker_words_stay() {
        for s in [
            "There is no way to do it",
            "No one came to the meeting",
            "I said no to the offer",
            "We have no idea",
            "Sorry, I'm late",
            "Wait for me at the door",
            "tea or coffee",
            "it is no longer needed",
            "I'm sorry for the delay",
        ] {
            assert_eq!(apply(s), s);
        }
    }
}
