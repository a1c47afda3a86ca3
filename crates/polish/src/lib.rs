//! Scrivo's polishing engine: raw recogniser text in, clean text out.
//!
//! [`Polisher`] is the seam; [`RulePolisher`] is the deterministic first pass: it removes
//! interjections ("um", "uh", ...) and immediate repetitions ("I I think", "the the"), and fixes
//! sentence casing. It only ever deletes words of its input and changes casing and punctuation
//! next to a deletion, so it cannot invent content. Every removal is reported as an [`Edit`].
//! The tiny-LLM stage (copy-constrained SmolLM2) builds on top of this pass.
//!
//! ```
//! use scrivo_polish::{Polisher, RulePolisher};
//! let out = RulePolisher::english().polish("um so I I think we should, uh, ship it").unwrap();
//! assert_eq!(out.text, "So I think we should ship it");
//! ```

mod corrections;
mod rules;
mod style;

pub use corrections::QUESTION_WORDS;
pub use rules::{core_of, render_kept, render_kept_after, RulePolisher};
pub use style::{Style, VerbatimPolisher};

/// Why a span was removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditKind {
    /// An interjection ("um", "uh", "you know").
    Filler,
    /// A word or two said twice in a row.
    Repetition,
    /// A self-correction or restart: the abandoned words and the marker ("Tuesday, no,").
    Correction,
}

/// One removal, by word index in the input (`start..end`, exclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub removed: String,
    pub kind: EditKind,
}

/// The polished text and what was done to get it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Polished {
    pub text: String,
    pub edits: Vec<Edit>,
    /// Per input word, the engine's calibrated probability that the word should go (a deleted
    /// word at 0.85 is wrongly deleted about three times in twenty); `None` for a word it did
    /// not judge. Empty when the engine judges no words (the rules alone, verbatim).
    pub confidence: Vec<Option<f32>>,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolishError {
    #[error("polishing failed: {0}")]
    Engine(String),
}

/// Turns raw recogniser text into clean text without adding or changing content.
pub trait Polisher {
    fn polish(&mut self, raw: &str) -> Result<Polished, PolishError>;
}

/// The polisher's promise, checked: every word of `polished` is a word of `raw`, in the same
/// order (compared without case and the punctuation around them), so nothing was invented,
/// changed or moved. `Err` names the first word that breaks it.
///
/// ```
/// assert!(scrivo_polish::only_deletes("um so uh Tuesday", "So Tuesday.").is_ok());
/// assert!(scrivo_polish::only_deletes("see you Tuesday", "See you Wednesday.").is_err());
/// ```
pub fn only_deletes(raw: &str, polished: &str) -> Result<(), String> {
    // Capitalising can change a letter's spelling ("ŉ" is "ʼN" in upper case, "ΐ" is "Ι" with
    // two combining marks): compare the cores of what both spellings become in upper case.
    let fold = |w: &str| core_of(&w.to_uppercase()).to_uppercase();
    let mut raw_words = raw.split_whitespace().map(fold).filter(|w| !w.is_empty());
    for word in polished.split_whitespace().map(fold).filter(|w| !w.is_empty()) {
        if !raw_words.any(|r| r == word) {
            return Err(format!("{word:?} is not one of the raw words left in order"));
        }
    }
    Ok(())
}

/// For each of `words` words, whether one of `edits` removed it.
pub fn removed_words(edits: &[Edit], words: usize) -> Vec<bool> {
    let mut removed = vec![false; words];
    for e in edits {
        removed[e.start.min(words)..e.end.min(words)].iter_mut().for_each(|r| *r = true);
    }
    removed
}

/// A decision the engine was less sure of than this (the calibrated probability of the side it
/// took) is uncertain: about one in ten such decisions is wrong.
pub const UNCERTAIN_BELOW: f32 = 0.9;

/// One input word's fate in a [`Polished`] text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WordDecision {
    pub removed: bool,
    /// The engine's calibrated probability that the word should go; `None` where it did not
    /// judge the word.
    pub p_delete: Option<f32>,
    /// The engine was less sure of the side it took than [`UNCERTAIN_BELOW`]. Never set for an
    /// interjection ("um", or a phrase the rules removed as one), which goes by rule whatever
    /// the model thinks of it.
    pub uncertain: bool,
    /// The word is an interjection (see `uncertain`).
    pub interjection: bool,
}

/// Words that introduce a repair ("Harvard, no, Radcliffe"; "I meant son"; "actually").
pub const REPAIR_MARKERS: &[&str] = &["no", "sorry", "mean", "meant", "rather", "wait", "actually", "instead"];

/// Whether `words[i]` introduces a repair: one of [`REPAIR_MARKERS`], or the "that" of "make
/// that" / "scratch that".
pub fn is_repair_marker(words: &[&str], i: usize) -> bool {
    let w = core_of(words[i]);
    REPAIR_MARKERS.contains(&w.as_str()) || (w == "that" && i > 0 && ["make", "scratch"].contains(&core_of(words[i - 1]).as_str()))
}

/// Whether `words[i]` is the first word of a two-word repair marker: "I mean", "I meant",
/// "make that", "scratch that".
pub fn starts_two_word_marker(words: &[&str], i: usize) -> bool {
    let next = words.get(i + 1).map(|w| core_of(w));
    match core_of(words[i]).as_str() {
        "i" => next.is_some_and(|n| n == "mean" || n == "meant"),
        "make" | "scratch" => next.is_some_and(|n| n == "that"),
        _ => false,
    }
}

/// Whether `words[i]` belongs to a repair marker: one itself, or the first word of a two-word one.
fn in_repair_marker(words: &[&str], i: usize) -> bool {
    starts_two_word_marker(words, i) || is_repair_marker(words, i)
}

/// Whether `word` ends a sentence (its punctuation, inside any closing quote or bracket).
pub fn ends_sentence(word: &str) -> bool {
    word.trim_end_matches(['"', '\'', ')']).ends_with(['.', '?', '!'])
}

/// The decision on each word of `out`'s input (`words`, split at whitespace); `rules` says
/// which words are interjections.
pub fn word_decisions(out: &Polished, words: &[&str], rules: &RulePolisher) -> Vec<WordDecision> {
    let n = words.len();
    let removed = removed_words(&out.edits, n);
    let mut by_rule: Vec<bool> = words.iter().map(|w| rules.is_filler(w)).collect();
    for e in out.edits.iter().filter(|e| e.kind == EditKind::Filler) {
        by_rule[e.start.min(n)..e.end.min(n)].iter_mut().for_each(|r| *r = true);
    }
    (0..n)
        .map(|i| {
            let p_delete = out.confidence.get(i).copied().flatten();
            let sure = p_delete.filter(|_| !by_rule[i]).map(|p| if removed[i] { p } else { 1.0 - p });
            WordDecision { removed: removed[i], p_delete, uncertain: sure.is_some_and(|s| s < UNCERTAIN_BELOW), interjection: by_rule[i] }
        })
        .collect()
}

/// Per word of `words` (the input `decisions` describe), whether it is a removal worth a
/// second look. Three kinds of correction half made are:
/// - a removal the engine was not sure of;
/// - one beside a kept word the engine leaned to remove (`p_delete` of 0.5 or more): "on
///   Tuesday, [I mean] Wednesday" removed the marker for sure but kept "Tuesday," at 0.79, and
///   reads "on Tuesday Wednesday";
/// - a removed repair marker that took nothing of what it corrects with it: a run of markers
///   and interjections between kept words ("Add a bullet point, [no,] a numbered list"), or a
///   run followed by a marker that stayed ("the shared [drive, no,] actually, put it ...").
pub fn removals_to_check(decisions: &[WordDecision], words: &[&str]) -> Vec<bool> {
    let mut check: Vec<bool> = decisions.iter().map(|d| d.removed && d.uncertain).collect();
    for (i, d) in decisions.iter().enumerate() {
        if d.removed || d.p_delete.is_none_or(|p| p < 0.5) {
            continue;
        }
        for j in [i.checked_sub(1), Some(i + 1)].into_iter().flatten() {
            if decisions.get(j).is_some_and(|n| n.removed) {
                check[j] = true;
            }
        }
    }
    let n = decisions.len().min(words.len());
    let removed: Vec<bool> = decisions[..n].iter().map(|d| d.removed).collect();
    for run in true_runs(&removed) {
        let markers: Vec<usize> = run.clone().filter(|&i| !decisions[i].interjection && in_repair_marker(words, i)).collect();
        // A marker that starts a sentence or ends the text corrects nothing left in it.
        let starts_sentence = run.start == 0 || ends_sentence(words[run.start - 1]);
        if markers.is_empty() || starts_sentence || run.end >= n {
            continue;
        }
        let only_markers = run.clone().all(|i| decisions[i].interjection || in_repair_marker(words, i));
        let marker_left_after = in_repair_marker(words, run.end);
        if only_markers || marker_left_after {
            markers.iter().for_each(|&i| check[i] = true);
        }
    }
    check
}

/// The maximal runs of consecutive `true` flags, in order.
pub fn true_runs(flags: &[bool]) -> Vec<std::ops::Range<usize>> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < flags.len() {
        if !flags[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i < flags.len() && flags[i] {
            i += 1;
        }
        runs.push(start..i);
    }
    runs
}

/// Every run of words where `keep` is false, as one edit each, with the reason of the edit in
/// `reasons` that covers the run (a correction where none does).
pub fn removed_runs(words: &[&str], keep: &[bool], reasons: &[Edit]) -> Vec<Edit> {
    let removed: Vec<bool> = (0..words.len()).map(|i| !keep.get(i).copied().unwrap_or(true)).collect();
    true_runs(&removed)
        .into_iter()
        .map(|r| {
            let kind = reasons.iter().find(|e| e.start <= r.start && r.end <= e.end).map_or(EditKind::Correction, |e| e.kind);
            Edit { start: r.start, end: r.end, removed: words[r].join(" "), kind }
        })
        .collect()
}

/// Polishes consecutive pieces of one text (a recording's segments) together, so that each
/// is judged in the context of the others, and returns the whole polished text and each
/// piece's share of it. A piece that does not start a sentence keeps its first word's case.
pub fn polish_pieces(polisher: &mut dyn Polisher, pieces: &[&str]) -> Result<(Polished, Vec<String>), PolishError> {
    let joined = pieces.iter().map(|p| p.trim()).filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" ");
    let whole = polisher.polish(&joined)?;
    let keep: Vec<bool> = removed_words(&whole.edits, joined.split_whitespace().count()).into_iter().map(|r| !r).collect();
    let (mut out, mut at, mut starts_sentence) = (Vec::with_capacity(pieces.len()), 0, true);
    for piece in pieces {
        let n = piece.split_whitespace().count();
        let text = render_kept_after(piece, &keep[at.min(keep.len())..(at + n).min(keep.len())], starts_sentence);
        if !text.is_empty() {
            starts_sentence = text.ends_with(['.', '?', '!']);
        }
        out.push(text);
        at += n;
    }
    Ok((whole, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_polished_together_and_keep_their_share() {
        let mut rules = RulePolisher::english();
        let (whole, pieces) = polish_pieces(&mut rules, &["um so we we should", "ship it, uh, today.", "Then rest."]).expect("polish");
        assert_eq!(whole.text, "So we should ship it today. Then rest.");
        assert_eq!(pieces, vec!["So we should", "ship it today.", "Then rest."]);
        // A repetition across pieces is seen as one.
        let (_, pieces) = polish_pieces(&mut rules, &["the the", "plan works"]).expect("polish");
        assert_eq!(pieces, vec!["The", "plan works"]);
    }
    #[test]
    fn interjections_are_never_uncertain_even_inside_a_longer_run() {
        // "so um" went as one run (a correction, not a filler edit): "so" was the model's
        // unsure call, "um" goes by rule whatever the model said.
        let words = ["so", "um", "we", "ship", "it"];
        let out = Polished {
            text: "We ship it".into(),
            edits: vec![Edit { start: 0, end: 2, removed: "so um".into(), kind: EditKind::Correction }],
            confidence: vec![Some(0.8), Some(0.3), Some(0.01), Some(0.05), None],
        };
        let d = word_decisions(&out, &words, &RulePolisher::english());
        let got: Vec<(bool, bool)> = d.iter().map(|d| (d.removed, d.uncertain)).collect();
        assert_eq!(got, [(true, true), (true, false), (false, false), (false, false), (false, false)]);
        assert_eq!(d[4].p_delete, None);
        // A sure removal beside a kept word the model leaned to remove is worth a look too.
        let half_made = Polished {
            text: "On Tuesday, Wednesday.".into(),
            edits: vec![Edit { start: 2, end: 4, removed: "I mean".into(), kind: EditKind::Correction }],
            confidence: vec![Some(0.0), Some(0.79), Some(0.99), Some(1.0), Some(0.02)],
        };
        let words = ["on", "Tuesday,", "I", "mean", "Wednesday."];
        let d = word_decisions(&half_made, &words, &RulePolisher::english());
        assert!(d.iter().all(|d| !d.uncertain || !d.removed), "the removal itself was sure");
        // ... and the marker it removed alone, between kept words, too.
        assert_eq!(removals_to_check(&d, &words), [false, false, true, true, false]);
        // The rules alone judge no word: nothing is uncertain.
        let rules_only = Polished { confidence: Vec::new(), ..out };
        assert!(word_decisions(&rules_only, &words, &RulePolisher::english()).iter().all(|d| !d.uncertain));
    }

    #[test]
    fn a_marker_removed_without_what_it_corrects_is_worth_a_look() {
        // Sure decisions throughout (p 0.0 kept, 1.0 removed): only the shape marks them.
        let check = |text: &str, gone: &[usize], fillers: &[usize]| {
            let words: Vec<&str> = text.split(' ').collect();
            let d: Vec<WordDecision> = (0..words.len())
                .map(|i| {
                    let removed = gone.contains(&i);
                    WordDecision { removed, p_delete: Some(if removed { 1.0 } else { 0.0 }), uncertain: false, interjection: fillers.contains(&i) }
                })
                .collect();
            let marks = removals_to_check(&d, &words);
            words.iter().zip(marks).filter(|(_, m)| *m).map(|(w, _)| *w).collect::<Vec<_>>().join(" ")
        };
        assert_eq!(check("Add a bullet point, no, a numbered list.", &[4], &[]), "no,");
        assert_eq!(check("Add a bullet point, um, no, a numbered list.", &[4, 5], &[4]), "no,");
        assert_eq!(check("Put it in the shared drive, no, actually, put it in my folder.", &[5, 6], &[]), "no,");
        // The correction made whole, a marker that starts a sentence or ends the text, and a
        // plain interjection: nothing to look at.
        assert_eq!(check("Send it on Tuesday, I mean Wednesday.", &[3, 4, 5], &[]), "");
        assert_eq!(check("Is it ready? No, it is not.", &[3], &[]), "");
        assert_eq!(check("It is ready, no", &[3], &[]), "");
        assert_eq!(check("so um we go", &[1], &[1]), "");
    }
}
