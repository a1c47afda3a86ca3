//! The deterministic rule pass.

use crate::corrections::{self, Protection, Word};
use crate::{Edit, EditKind, Polished, PolishError, Polisher};

/// Filler removal, self-correction repair and repetition collapsing for one language.
#[derive(Debug, Clone)]
pub struct RulePolisher {
    fillers: Vec<&'static str>,
    /// Multi-word interjections, removed only where commas or a sentence edge set them off
    /// ("you know" in "it was, you know, late" but not in "you know the answer").
    phrase_fillers: Vec<&'static [&'static str]>,
    negations: Vec<&'static str>,
    number_words: Vec<&'static str>,
    /// Lower-case words of the user's terms (biasing list): never deleted.
    terms: std::collections::HashSet<String>,
}

impl RulePolisher {
    /// English interjections. ("um" is a word in German and Portuguese, so lists are per language.)
    pub fn english() -> Self {
        RulePolisher {
            fillers: vec!["um", "umm", "uh", "uhh", "uhm", "er", "erm", "ah", "hmm", "mm", "mhm"],
            phrase_fillers: vec![&["you", "know"], &["i", "mean"], &["like"], &["you", "see"]],
            negations: vec![
                "not", "no", "never", "nothing", "none", "nobody", "nowhere", "neither", "nor", "without", "cannot", "can't", "don't",
                "doesn't", "didn't", "won't", "wouldn't", "shouldn't", "couldn't", "isn't", "aren't", "wasn't", "weren't", "haven't",
                "hasn't", "hadn't", "mustn't", "needn't",
            ],
            number_words: vec![
                "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen",
                "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty", "thirty", "forty", "fifty", "sixty",
                "seventy", "eighty", "ninety", "hundred", "thousand", "million", "billion", "half", "quarter", "first", "second",
                "third", "percent",
            ],
            terms: Default::default(),
        }
    }

    /// Words of these terms (e.g. the biasing list) are never deleted.
    pub fn with_protected_terms<'a>(mut self, terms: impl IntoIterator<Item = &'a str>) -> Self {
        for t in terms {
            self.terms.extend(t.split_whitespace().map(core_of));
        }
        self
    }

    /// A number, a negation or a protected term: never deleted (the LLM stage asks too).
    pub fn is_protected(&self, word: &str) -> bool {
        self.protection(&core_of(word)) != Protection::None
    }

    /// A number, in digits or words.
    pub fn is_number(&self, word: &str) -> bool {
        self.protection(&core_of(word)) == Protection::Number
    }

    /// A single-word interjection ("um", "uh").
    pub fn is_filler(&self, word: &str) -> bool {
        self.fillers.contains(&core_of(word).as_str())
    }

    fn protection(&self, core: &str) -> Protection {
        if core.chars().any(|c| c.is_ascii_digit()) || self.number_words.contains(&core) {
            Protection::Number
        } else if self.negations.contains(&core) || core.ends_with("n't") {
            Protection::Negation
        } else if self.terms.contains(core) {
            Protection::Term
        } else {
            Protection::None
        }
    }
}

/// Words that can correctly appear twice in a row.
const LEGIT_DOUBLES: &[&str] = &["that", "had", "is"];

/// A word without the punctuation around it, lower case ("Wednesday," -> "wednesday").
pub fn core_of(raw: &str) -> String {
    raw.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'').to_lowercase()
}

/// A word with the punctuation around it split off.
struct Token<'a> {
    raw: &'a str,
    core: String,
}

fn tokens(text: &str) -> Vec<Token<'_>> {
    text.split_whitespace()
        .map(|raw| Token { raw, core: core_of(raw) })
        .collect()
}

fn trailing_punct(raw: &str) -> &str {
    let end = raw.trim_end_matches(|c: char| !c.is_alphanumeric() && c != '\'');
    &raw[end.len()..]
}

impl Polisher for RulePolisher {
    fn polish(&mut self, raw: &str) -> Result<Polished, PolishError> {
        let toks = tokens(raw);
        let mut keep = vec![true; toks.len()];
        let mut edits = Vec::new();
        for (i, t) in toks.iter().enumerate() {
            if self.fillers.contains(&t.core.as_str()) {
                keep[i] = false;
                edits.push(Edit { start: i, end: i + 1, removed: t.raw.to_owned(), kind: EditKind::Filler });
            }
        }
        self.phrase_fillers(&toks, &mut keep, &mut edits);
        self.corrections(&toks, &mut keep, &mut edits);
        // Immediate repetitions of one or two words ("I I", "we should we should"), ignoring
        // fillers between them. Numbers are never collapsed: "two two" may be meant.
        let kept: Vec<usize> = (0..toks.len()).filter(|&i| keep[i]).collect();
        let mut k = 0;
        while k < kept.len() {
            let mut collapsed = false;
            for n in [2usize, 1] {
                if k + 2 * n > kept.len() {
                    continue;
                }
                let a: Vec<&str> = kept[k..k + n].iter().map(|&i| toks[i].core.as_str()).collect();
                let b: Vec<&str> = kept[k + n..k + 2 * n].iter().map(|&i| toks[i].core.as_str()).collect();
                let numeric = a.iter().any(|w| self.protection(w) == Protection::Number);
                let ends_sentence = kept[k..k + n].iter().any(|&i| matches!(trailing_punct(toks[i].raw), "." | "?" | "!"));
                // "that that" and "had had" are grammatical when said without a pause.
                let grammatical = n == 1 && LEGIT_DOUBLES.contains(&a[0]) && trailing_punct(toks[kept[k]].raw).is_empty();
                if a == b && !a.iter().any(|w| w.is_empty()) && !numeric && !ends_sentence && !grammatical {
                    let (s, e) = (kept[k], kept[k + n - 1] + 1);
                    (s..e).for_each(|i| keep[i] = false);
                    let removed = toks[s..e].iter().map(|t| t.raw).collect::<Vec<_>>().join(" ");
                    edits.push(Edit { start: s, end: e, removed, kind: EditKind::Repetition });
                    k += n;
                    collapsed = true;
                    break;
                }
            }
            if !collapsed {
                k += 1;
            }
        }
        edits.sort_by_key(|e| e.start);
        Ok(Polished { text: render(&toks, &keep, true), edits, confidence: Vec::new() })
    }
}

impl RulePolisher {
    /// "you know", "I mean", "like" set off by commas or a sentence edge.
    fn phrase_fillers(&self, toks: &[Token<'_>], keep: &mut [bool], edits: &mut Vec<Edit>) {
        let kept: Vec<usize> = (0..toks.len()).filter(|&i| keep[i]).collect();
        let mut k = 0;
        while k < kept.len() {
            let hit = self.phrase_fillers.iter().find(|p| {
                kept.get(k..k + p.len()).is_some_and(|idx| idx.iter().zip(p.iter()).all(|(&i, w)| toks[i].core == *w))
            });
            let Some(phrase) = hit else {
                k += 1;
                continue;
            };
            let (first, last) = (kept[k], kept[k + phrase.len() - 1]);
            let before = k.checked_sub(1).map(|b| trailing_punct(toks[kept[b]].raw));
            let at_start = before.is_none_or(|p| p.contains(['.', '?', '!']));
            let opened = (at_start && phrase[0] == "i") || before.is_some_and(|p| p.contains(','));
            let after = trailing_punct(toks[last].raw);
            let at_end = kept.get(k + phrase.len()).is_none() || after.contains(['.', '?', '!']);
            let closed = after.contains(',') || at_end;
            // "I mean" at a sentence start only with its comma ("I mean, it works"); elsewhere
            // it may be a correction marker, handled by the correction pass.
            let comma_needed = phrase.len() > 1 && phrase[0] == "i" && !after.contains(',');
            let inner_break = (first..last).any(|i| trailing_punct(toks[i].raw).contains(['.', '?', '!', ',']));
            if opened && closed && !comma_needed && !inner_break && !(at_start && at_end) {
                (first..=last).for_each(|i| keep[i] = false);
                let removed = toks[first..=last].iter().map(|t| t.raw).collect::<Vec<_>>().join(" ");
                edits.push(Edit { start: first, end: last + 1, removed, kind: EditKind::Filler });
                k += phrase.len();
            } else {
                k += 1;
            }
        }
    }

    /// Self-corrections and restarts (see `corrections`).
    fn corrections(&self, toks: &[Token<'_>], keep: &mut [bool], edits: &mut Vec<Edit>) {
        let kept: Vec<usize> = (0..toks.len()).filter(|&i| keep[i]).collect();
        let words: Vec<Word<'_>> = kept
            .iter()
            .map(|&i| Word { core: &toks[i].core, after: trailing_punct(toks[i].raw), protected: self.protection(&toks[i].core) })
            .collect();
        for c in corrections::find(&words) {
            let (s, e) = (kept[c.start], kept[c.marker_end - 1] + 1);
            let removed = (s..e).filter(|&i| keep[i]).map(|i| toks[i].raw).collect::<Vec<_>>().join(" ");
            (s..e).for_each(|i| keep[i] = false);
            edits.push(Edit { start: s, end: e, removed, kind: EditKind::Correction });
        }
    }
}

/// The words of `raw` (split at whitespace) where `keep` is true, joined as the rule pass
/// joins them: a comma left dangling by a removal is dropped, a sentence end of a removed word
/// moves to the word before it, and each sentence starts with a capital. Words past the end of
/// `keep` are kept.
pub fn render_kept(raw: &str, keep: &[bool]) -> String {
    render_kept_after(raw, keep, true)
}

/// [`render_kept`] for a piece of a longer text: `starts_sentence` says whether the text
/// before it ended a sentence (so whether its first word gets a capital).
pub fn render_kept_after(raw: &str, keep: &[bool], starts_sentence: bool) -> String {
    let toks = tokens(raw);
    let keep: Vec<bool> = (0..toks.len()).map(|i| keep.get(i).copied().unwrap_or(true)).collect();
    render(&toks, &keep, starts_sentence)
}

/// Joins the kept words. A comma left dangling by a removal is dropped; the first word of each
/// sentence is capitalised.
fn render(toks: &[Token<'_>], keep: &[bool], starts_sentence: bool) -> String {
    let mut words: Vec<String> = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if !keep[i] {
            // "should, uh, ship" -> the comma before the filler goes with it.
            let punct = trailing_punct(t.raw);
            if let Some(last) = words.last_mut() {
                if last.ends_with(',') && (punct == "," || punct.is_empty()) {
                    last.pop();
                } else if matches!(punct, "." | "?" | "!") && !last.ends_with(['.', '?', '!']) {
                    last.push_str(punct.trim_start_matches(','));
                }
            }
            continue;
        }
        let mut w = t.raw.to_owned();
        let sentence_start = words.last().map_or(starts_sentence, |l| l.ends_with(['.', '?', '!']));
        if sentence_start {
            w = w.trim_start_matches(',').to_owned();
            let mut c = w.chars();
            if let Some(f) = c.next() {
                w = f.to_uppercase().chain(c).collect();
            }
        }
        if !w.is_empty() {
            words.push(w);
        }
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &str) {
        let out = RulePolisher::english().polish(input).expect("polish");
        assert_eq!(out.text, expected, "input: {input}");
    }

    #[test]
    fn fillers_go_with_their_commas() {
        check("um so we should, uh, ship it on Tuesday", "So we should ship it on Tuesday");
        check("I think, um, that's right.", "I think that's right.");
        check("it works. uh, mostly", "It works. Mostly");
    }

    #[test]
    fn repetitions_collapse() {
        check("I I think the the plan is fine", "I think the plan is fine");
        check("we should we should ship it", "We should ship it");
        check("I, uh, I want it", "I want it");
    }

    #[test]
    fn corrections_keep_the_repair() {
        check("move it to Tuesday, no, Wednesday", "Move it to Wednesday");
        check("um who did, no, what did the government want?", "What did the government want?");
        check("send it to the the team, uh, sorry, the board", "Send it to the board");
    }

    #[test]
    fn phrase_fillers_need_their_commas() {
        check("it was, you know, late", "It was late");
        check("you know the answer", "You know the answer");
        check("I mean, it works", "It works");
        check("I like it, like, a lot", "I like it a lot");
    }

    #[test]
    fn protected_terms_are_never_corrected_away() {
        let mut p = RulePolisher::english().with_protected_terms(["Anja Schmidt"]);
        let out = p.polish("ask Anja, sorry, the team").expect("polish");
        assert_eq!(out.text, "Ask Anja, sorry, the team");
    }

    #[test]
    fn numbers_names_and_negations_stay() {
        check("we need 2 2 servers", "We need 2 2 servers");
        check("do not not do that", "Do not do that");
        check("It is not done. It is not done.", "It is not done. It is not done.");
    }

    #[test]
    fn nothing_is_invented() {
        let input = "um, so, uh, the the meeting moved to Wednesday, you see";
        let out = RulePolisher::english().polish(input).expect("polish");
        let inputs: Vec<String> = input.split_whitespace().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase()).collect();
        for w in out.text.split_whitespace() {
            let core = w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
            assert!(inputs.contains(&core), "{core} was not in the input");
        }
        // "um", "uh" and the trailing ", you see".
        assert_eq!(out.edits.iter().filter(|e| e.kind == EditKind::Filler).count(), 3);
    }
}
