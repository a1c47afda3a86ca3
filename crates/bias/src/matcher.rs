//! The post-recognition corrector: puts the user's terms into recognised text.
//!
//! Two passes over the words of the text ([`crate::text`]):
//! 1. Exact matches of each term and of its `sounds_like` spellings, found with `aho-corasick`
//!    (whole words only, case-insensitive, leftmost-longest; a phrase does not cross a comma
//!    or full stop).
//! 2. Sound-alike matches of 1-4 word spans that pass 1 left alone: a Double Metaphone key of
//!    the span's letters against each term's key (edit distance, both primary and alternate
//!    codes), blended with the spelling's own edit distance, scored 0-1.
//!
//! Guards against over-correction in pass 2:
//! - a span made only of common words ([`Lexicon`]) needs a strong match, and one of the most
//!   frequent words a near-identical spelling;
//! - a span with a word in capitals ("GAAP", "IPP") is left alone: an acronym was written on
//!   purpose;
//! - a function word ("the", "of", "and") in the span must be in the term too;
//! - the span has at least as many words as the term and at most two more;
//! - a common word that inflects the term ("webcast" for "webcasts", "drawer" for "drawers")
//!   is grammar, not a misrecognition, and stays;
//! - a span whose only uncommon words are known names ("Graham", "Harmon") needs a strong
//!   match (`name_threshold`);
//! - short terms need an equal phonetic key and a higher score;
//! - a term that is itself a function word ("her") is matched exactly only, and a span never
//!   starts with a possessive "'s".
//!
//! A span of several words whose letters spell the term exactly ("silver ware" for
//! "silverware") is joined whatever its words.
//!
//! With a [`ContextModel`] ([`Corrector::apply_in_context`]) each sound-alike change is also
//! judged by its sentence: the model's log-probability of the words around the span with the
//! term against with the words it replaces. A change that passed the guards is dropped when
//! the sentence becomes much less likely (`context_veto`); a span that scored below its guard
//! but above `context_floor` is changed when the sentence stays about as likely
//! (`context_margin`). Sound-alikes of common words are where the guards must be strict
//! ("lover" for "lever", "sons" for "sans"), and a language model tells those apart. A span
//! ruled out only for its grammar (a function word the term lacks, an inflection of a common
//! word) is changed when its score reaches `context_admit` and the sentence becomes likelier
//! with the term (`context_admit_margin`). A span with a word no lexicon knows, most often the
//! recogniser's spelling of a name it did not know ("Shavra" for "Chevron"), is changed from a
//! lower score (`unknown_floor`) when it is within two letters of the term's length and the
//! sentence is about as likely with the term (`unknown_margin`).

use std::collections::HashMap;

use aho_corasick::AhoCorasick;
use rphonetic::DoubleMetaphone;
use serde::Serialize;

use crate::lexicon::Lexicon;
use crate::list::{fold, Entry};
use crate::text::{joined, tokens, Token};

/// How a change was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// The term itself in other casing or apostrophes.
    Exact,
    /// One of the term's listed `sounds_like` spellings.
    SoundsLike,
    /// A span that sounds and looks like the term.
    SoundAlike,
}

/// One change, in byte offsets of the input text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub start: usize,
    pub end: usize,
    pub original: String,
    pub term: String,
    pub kind: ChangeKind,
    /// 1.0 for exact and listed spellings; the similarity for sound-alikes.
    pub score: f64,
}

/// The corrected text and every change made to get it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Corrected {
    pub text: String,
    pub changes: Vec<Change>,
}

/// The guard a sound-alike span met (see the module notes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Guard {
    /// Only the score threshold for the term's length.
    Plain,
    /// A short term: an equal phonetic key and a higher score.
    Short,
    /// Common words.
    Common,
    /// The most frequent words: a near-identical spelling.
    VeryCommon,
    /// Common words, more of them than the term has.
    Merge,
    /// Known names.
    Name,
    /// Ruled out: common words that inflect the term.
    Inflection,
    /// Ruled out: a function word or contraction the term does not have.
    FunctionWord,
    /// Ruled out: a word in capitals.
    Acronym,
    /// Ruled out: a word unlike the term's word in the same place.
    WordsDiffer,
}

impl Guard {
    /// Whether the guard rules the span out whatever its score.
    pub fn rules_out(self) -> bool {
        matches!(self, Guard::Inflection | Guard::FunctionWord | Guard::Acronym | Guard::WordsDiffer)
    }

    /// A guard that rules a span out for its grammar alone (a function word the term lacks,
    /// an inflection of a common word), which the context check may overrule
    /// (`Settings::context_admit`).
    pub fn context_may_admit(self) -> bool {
        matches!(self, Guard::Inflection | Guard::FunctionWord)
    }
}

/// A listed term that a span of a text sounds like ([`Corrector::sounds_near`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Near<'a> {
    pub term: &'a str,
    /// The words (compared form) of the spans that sound like it.
    pub heard: Vec<String>,
}

/// A sound-alike candidate as the corrector judged it ([`Corrector::explain`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Considered {
    pub start: usize,
    pub end: usize,
    pub original: String,
    pub term: String,
    pub score: f64,
    /// The score the span's guard asks for (infinite when the guard rules it out).
    pub needed: f64,
    pub guard: Guard,
    /// With a context model: the sentence's log-probability with the term minus with the
    /// recognised words.
    pub context: Option<f64>,
    /// Whether the decision kept it (before overlapping candidates are resolved).
    pub kept: bool,
    /// Whether it was made.
    pub chosen: bool,
}

/// A language model that judges a sound-alike change by its context (see the module notes).
pub trait ContextModel {
    /// The log-probability (natural log, summed over tokens) of each of `continuations` after
    /// `prefix`. A continuation starts where the prefix ends (with its space, if any).
    fn log_probs(&self, prefix: &str, continuations: &[String]) -> Result<Vec<f64>, Box<dyn std::error::Error + Send + Sync>>;
}

/// The recogniser's own judgement of a sound-alike change: how likely it finds each whole text
/// as what was said in the audio the text was recognised from.
pub trait AcousticModel {
    /// For each of `changed` (`original` with one span replaced), how much likelier it is than
    /// `original` as what was said: a difference of log-probabilities (natural log). A change
    /// may be reported with any score below its `floors` entry as soon as it is known to fall
    /// below it.
    fn log_prob_changes(&mut self, original: &str, changed: &[String], floors: &[f64]) -> Result<Vec<f64>, Box<dyn std::error::Error + Send + Sync>>;
}

/// Words of context before a span and after it that the context model reads.
const CONTEXT_BEFORE: usize = 24;
const CONTEXT_AFTER: usize = 8;

/// A sound-alike candidate: words `from..to` as term `term`, with its score, the score its
/// guard asks for, and the context model's verdict once judged.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    from: usize,
    to: usize,
    term: usize,
    score: f64,
    needed: f64,
    guard: Guard,
    context: Option<f64>,
    /// The recogniser's verdict once judged: the log-probability of the text with the term
    /// minus with the recognised words.
    acoustic: Option<f64>,
    /// Every word of the span is one no lexicon knows, and the span is about the term's length
    /// (`Settings::unknown_floor`).
    unknown: bool,
}

/// Thresholds of the sound-alike pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Minimum score for a sound-alike change.
    pub threshold: f64,
    /// Terms with at most this many letters are short.
    pub short_letters: usize,
    /// Minimum score for a short term (which also needs an equal phonetic key).
    pub short_threshold: f64,
    /// Minimum score for a span whose only uncommon words are known names.
    pub name_threshold: f64,
    /// Minimum score for a span of common words that are not among the most frequent ones
    /// (above 1.0: never).
    pub common_threshold: f64,
    /// Minimum score for a span of common words that has more words than the term ("unit
    /// credit" for "UniCredit"): recognisers split unknown words into known ones.
    pub merge_threshold: f64,
    /// Minimum score of each word against the term's word in the same place, when the span
    /// and the term have the same number of words (two or more).
    pub word_threshold: f64,
    /// With a context model: the lowest score a span below its guard's threshold may have and
    /// still be changed when the context agrees (above 1.0: none).
    pub context_floor: f64,
    /// With a context model: such a span is changed when the log-probability of its sentence
    /// with the term is at least this much (natural log, usually negative) of that with the
    /// recognised words.
    pub context_margin: f64,
    /// With a context model: a change that passed its guard is dropped when the sentence's
    /// log-probability falls by more than this.
    pub context_veto: f64,
    /// With a context model: the lowest score a span ruled out for its grammar alone
    /// ([`Guard::context_may_admit`]: "the tenacio" for "tenacity", "chill" for "chills") may
    /// have and still be changed when the context prefers the term (above 1.0: never).
    pub context_admit: f64,
    /// With a context model: such a span is changed when the sentence's log-probability with
    /// the term is at least this much above that with the recognised words.
    pub context_admit_margin: f64,
    /// With a context model: the lowest score a span of words no lexicon knows ("Shavra" for
    /// "Chevron") may have and still be changed when the context agrees (`unknown_margin`).
    /// Such a word is most often the recogniser's spelling of a name it did not know (above
    /// 1.0: never).
    pub unknown_floor: f64,
    /// With a context model: such a span is changed when the sentence's log-probability with
    /// the term is at least this much (natural log; negative: a little less likely is enough)
    /// of that with the recognised words.
    pub unknown_margin: f64,
    /// With the recogniser's judgement ([`AcousticModel`]): the lowest score a span may have
    /// to be judged by it (above 1.0: none).
    pub acoustic_floor: f64,
    /// With the recogniser's judgement: a span the other rules leave is changed when the text
    /// with the term is at most this much less likely to the recogniser (natural log) and the
    /// context does not veto it.
    pub acoustic_margin: f64,
}

/// The lowest scores for which a sound-alike is considered at all, by what its guard allows
/// (infinite without a context model).
#[derive(Clone, Copy)]
struct Reach {
    /// Below the guard's threshold, for the context to judge.
    floor: f64,
    /// Ruled out for grammar alone, for the context to admit.
    admit: f64,
    /// A word no lexicon knows, for the context to admit.
    unknown: f64,
}

impl Reach {
    /// Without a context model: only what the guards pass.
    const GUARDS_ONLY: Reach = Reach { floor: f64::INFINITY, admit: f64::INFINITY, unknown: f64::INFINITY };

    fn of(settings: &Settings) -> Self {
        Reach { floor: settings.context_floor, admit: settings.context_admit, unknown: settings.unknown_floor }
    }

    /// Every kind from `score` on (explaining lists candidates the settings would not consider).
    fn at_most(self, score: f64) -> Self {
        Reach { floor: self.floor.min(score), admit: self.admit.min(score), unknown: self.unknown.min(score) }
    }
}

/// The most letters a span of unknown words may differ from the term by in length and still get
/// the weaker match (`Settings::unknown_floor`).
const UNKNOWN_LENGTH_SLACK: usize = 2;

/// Minimum score to change a span of the most frequent words.
const VERY_COMMON_THRESHOLD: f64 = 0.95;

/// For lists of up to 100 terms.
const SMALL_LIST: Settings = Settings {
    threshold: 0.65,
    short_letters: 5,
    short_threshold: 0.75,
    name_threshold: 0.9,
    common_threshold: 0.75,
    merge_threshold: 0.75,
    word_threshold: 0.6,
    context_floor: 0.65,
    context_margin: -3.0,
    context_veto: -12.0,
    context_admit: 0.7,
    context_admit_margin: 0.0,
    unknown_floor: 0.55,
    unknown_margin: -1.0,
    acoustic_floor: 0.6,
    acoustic_margin: -6.0,
};

/// For lists of 2,000 terms and more: the more terms, the more chance near-misses.
const LARGE_LIST: Settings = Settings {
    threshold: 0.75,
    short_letters: 5,
    short_threshold: 0.9,
    name_threshold: 0.9,
    common_threshold: 0.95,
    merge_threshold: 0.85,
    word_threshold: 0.6,
    context_floor: 1.01,
    context_margin: -4.0,
    context_veto: -8.0,
    context_admit: 1.01,
    context_admit_margin: 0.0,
    unknown_floor: 1.01,
    unknown_margin: 0.0,
    acoustic_floor: 0.6,
    acoustic_margin: 0.0,
};

impl Settings {
    /// Thresholds for a list of `terms` terms, between [`SMALL_LIST`] (100 or fewer) and
    /// [`LARGE_LIST`] (2,000 or more), on a log scale. Tuned on `scrivo eval bias`
    /// (LibriSpeech test-other, 100-word lists) against `scrivo eval overcorrect` (Earnings-21,
    /// 1,782 terms): see ARCHITECTURE.md ("Biasing lists").
    pub fn for_terms(terms: usize) -> Self {
        let f = ((terms.max(1) as f64 / 100.0).log10() / 20f64.log10()).clamp(0.0, 1.0);
        let mix = |a: f64, b: f64| a + f * (b - a);
        let (s, l) = (SMALL_LIST, LARGE_LIST);
        Settings {
            threshold: mix(s.threshold, l.threshold),
            short_letters: s.short_letters,
            short_threshold: mix(s.short_threshold, l.short_threshold),
            name_threshold: mix(s.name_threshold, l.name_threshold),
            common_threshold: mix(s.common_threshold, l.common_threshold),
            merge_threshold: mix(s.merge_threshold, l.merge_threshold),
            word_threshold: mix(s.word_threshold, l.word_threshold),
            context_floor: mix(s.context_floor, l.context_floor),
            context_margin: mix(s.context_margin, l.context_margin),
            context_veto: mix(s.context_veto, l.context_veto),
            context_admit: mix(s.context_admit, l.context_admit),
            context_admit_margin: mix(s.context_admit_margin, l.context_admit_margin),
            unknown_floor: mix(s.unknown_floor, l.unknown_floor),
            unknown_margin: mix(s.unknown_margin, l.unknown_margin),
            acoustic_floor: mix(s.acoustic_floor, l.acoustic_floor),
            acoustic_margin: mix(s.acoustic_margin, l.acoustic_margin),
        }
    }
}

struct Term {
    text: String,
    /// Words, a possessive "'s" not counted.
    words: usize,
    /// Tokens, each "'s" counted.
    tokens: usize,
    /// The words, without "'s".
    word_list: Vec<String>,
    letters: String,
    keys: [String; 2],
}

/// A corrector for a set of terms. Build once per list change; `apply` is cheap.
pub struct Corrector {
    terms: Vec<Term>,
    /// Aho-Corasick pattern index -> (term index, kind).
    patterns: Vec<(usize, ChangeKind)>,
    exact: Option<AhoCorasick>,
    /// Terms by the first and by the second letter of their phonetic keys (`(0, c)`, `(1, c)`):
    /// a span is scored against the terms that share either with it, so a misheard first sound
    /// ("Vidora" for "Pidora", "Merisk" for "Verisk") still finds its term.
    by_key: HashMap<(u8, char), Vec<usize>>,
    /// Terms by their letters (words run together): a span of words that spells one may join
    /// into it ([`Corrector::inside_a_join`]).
    by_letters: HashMap<String, Vec<usize>>,
    lexicon: Lexicon,
    settings: Settings,
    metaphone: DoubleMetaphone,
}

fn letters_of(words: &[Token]) -> String {
    words.iter().flat_map(|t| t.norm.chars()).filter(|c| c.is_alphanumeric()).collect()
}

/// Double Metaphone codes (primary, alternate) of `letters`, spelled in ASCII first (the
/// encoder only knows Latin letters).
fn phonetic_keys(metaphone: &DoubleMetaphone, letters: &str) -> [String; 2] {
    let ascii: String = deunicode::deunicode(letters).chars().filter(|c| c.is_ascii_alphabetic()).collect();
    if ascii.is_empty() {
        return [String::new(), String::new()];
    }
    let code = metaphone.double_metaphone(&ascii);
    [code.primary(), code.alternate()]
}

fn is_possessive(t: &Token) -> bool {
    t.norm == "'s"
}

/// Words, not counting a possessive "'s" ("Anja's team" has two).
fn word_count(words: &[Token]) -> usize {
    words.iter().filter(|t| !is_possessive(t)).count()
}

/// A word written in capitals, two letters or more.
fn is_acronym(word: &str) -> bool {
    word.chars().filter(|c| c.is_alphabetic()).count() >= 2 && !word.chars().any(char::is_lowercase)
}

/// One spelling is the other plus a grammatical ending.
fn is_inflection(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    long.strip_prefix(short).is_some_and(|rest| ["s", "es", "ed", "d", "ing", "er", "ers"].contains(&rest))
}

fn similarity(a: &str, b: &str) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    strsim::normalized_levenshtein(a, b)
}

impl std::fmt::Debug for Corrector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Corrector").field("terms", &self.terms.len()).field("settings", &self.settings).finish()
    }
}

impl Corrector {
    /// The canonical spellings, in list order.
    pub fn terms(&self) -> impl Iterator<Item = &str> {
        self.terms.iter().map(|t| t.text.as_str())
    }

    /// A corrector for `entries` (duplicates by folded term are merged; the first wins) with
    /// thresholds for the list's size ([`Settings::for_terms`]).
    pub fn for_entries<'a>(entries: impl IntoIterator<Item = &'a Entry>, lexicon: Lexicon) -> Self {
        let entries: Vec<&Entry> = entries.into_iter().collect();
        let settings = Settings::for_terms(entries.len());
        Self::new(entries, lexicon, settings)
    }

    /// A corrector for `entries` with explicit thresholds.
    pub fn new<'a>(entries: impl IntoIterator<Item = &'a Entry>, lexicon: Lexicon, settings: Settings) -> Self {
        let metaphone = DoubleMetaphone::new(None);
        let mut terms: Vec<Term> = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut pattern_text: Vec<String> = Vec::new();
        let mut patterns = Vec::new();
        let mut by_key: HashMap<(u8, char), Vec<usize>> = HashMap::new();
        let mut by_letters: HashMap<String, Vec<usize>> = HashMap::new();
        for entry in entries {
            let key = fold(&entry.term);
            if key.is_empty() {
                continue;
            }
            let index = *seen.entry(key.clone()).or_insert_with(|| {
                let words = tokens(&entry.term);
                let letters = letters_of(&words);
                let keys = phonetic_keys(&metaphone, &letters);
                let i = terms.len();
                by_letters.entry(letters.clone()).or_default().push(i);
                for k in &keys {
                    for (at, c) in k.chars().take(2).enumerate() {
                        let bucket = by_key.entry((at as u8, c)).or_default();
                        if bucket.last() != Some(&i) {
                            bucket.push(i);
                        }
                    }
                }
                terms.push(Term {
                    // Quotes and sentence punctuation around a term are not part of it ("him'").
                    text: entry.term.trim().trim_matches(|c: char| "'\u{2019}\".,;:!?".contains(c)).to_string(),
                    words: word_count(&words),
                    tokens: words.len(),
                    word_list: words.iter().filter(|t| !is_possessive(t)).map(|t| t.norm.clone()).collect(),
                    letters,
                    keys,
                });
                pattern_text.push(key.clone());
                patterns.push((i, ChangeKind::Exact));
                i
            });
            for spelling in &entry.sounds_like {
                let folded = fold(spelling);
                if !folded.is_empty() && !pattern_text.contains(&folded) {
                    pattern_text.push(folded);
                    patterns.push((index, ChangeKind::SoundsLike));
                }
            }
        }
        let exact = if pattern_text.is_empty() {
            None
        } else {
            // Plain strings, no size limits hit at these list sizes: building cannot fail.
            AhoCorasick::new(&pattern_text).ok()
        };
        Corrector { terms, patterns, exact, by_key, by_letters, lexicon, settings, metaphone }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Corrects `text`.
    pub fn apply(&self, text: &str) -> Corrected {
        self.apply_with(text, None)
    }

    /// Corrects `text`, judging sound-alike changes by their context with `model`. When the
    /// model fails, its error is logged and the plain guards decide.
    pub fn apply_in_context(&self, text: &str, model: &dyn ContextModel) -> Corrected {
        self.apply_with(text, Some(model))
    }

    /// [`Corrector::apply_in_context`] when there is a model, [`Corrector::apply`] otherwise.
    pub fn apply_with(&self, text: &str, model: Option<&dyn ContextModel>) -> Corrected {
        self.run(text, model, None, None).0
    }

    /// [`Corrector::apply_with`], with the recogniser judging the sound-alikes too: `heard`
    /// scores whole texts against the audio `text` was recognised from. When it fails, its
    /// error is logged and the other rules decide.
    pub fn apply_heard(&self, text: &str, model: Option<&dyn ContextModel>, heard: &mut dyn AcousticModel) -> Corrected {
        self.run(text, model, None, Some(heard)).0
    }

    /// Listed terms that some span of `text` sounds like, best score first, at most `limit`:
    /// spans scoring at least `min_score` whatever their guard, except a span of the most
    /// frequent words alone; none already in `text`. What the recogniser may have heard where it
    /// wrote something else; a second decode prompted with these alone
    /// (`scrivo_batch`'s refocus) can spell a term that the full glossary left out or drowned.
    /// Each comes with the words (compared form) of the spans that sound like it.
    pub fn sounds_near(&self, text: &str, min_score: f64, limit: usize) -> Vec<Near<'_>> {
        let words = tokens(text);
        let mut claimed = vec![false; words.len()];
        let mut present = std::collections::HashSet::new();
        for (from, to, term, _) in self.exact_matches(text, &words) {
            claimed[from..to].iter_mut().for_each(|c| *c = true);
            present.insert(term);
        }
        let mut found = self.sound_alikes(text, &words, &claimed, Reach::GUARDS_ONLY.at_most(min_score), true);
        found.retain(|c| c.score >= min_score && c.guard != Guard::VeryCommon && !present.contains(&c.term));
        found.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.from.cmp(&b.from)));
        let mut near: Vec<(usize, Vec<String>)> = Vec::new();
        for c in found {
            let span = words[c.from..c.to].iter().map(|w| w.norm.clone());
            if let Some(at) = near.iter().position(|(t, _)| *t == c.term) {
                let heard = &mut near[at].1;
                let new: Vec<String> = span.filter(|w| !heard.contains(w)).collect();
                heard.extend(new);
            } else if near.len() < limit {
                near.push((c.term, span.collect()));
            }
        }
        near.into_iter().map(|(t, heard)| Near { term: self.terms[t].text.as_str(), heard }).collect()
    }

    /// Whether a second decode's text `second`, prompted with the terms `offered`, should
    /// replace the first decode's `first`: it spells one of `offered` and keeps every listed
    /// term `first` spells.
    pub fn prefers_refocused(&self, first: &str, second: &str, offered: &[&str]) -> bool {
        let (first, second) = (format!(" {} ", fold(first)), format!(" {} ", fold(second)));
        let spells = |text: &str, term: &str| text.contains(&format!(" {} ", fold(term)));
        offered.iter().any(|t| spells(&second, t) && !spells(&first, t)) && self.terms().filter(|t| spells(&first, t)).all(|t| spells(&second, t))
    }

    /// [`Corrector::apply_with`]'s result, and every sound-alike candidate in `text` with the
    /// guard it met, the context's verdict (with `model`), and whether it was kept and made:
    /// why a term was or was not put in. Candidates scoring at least `min_score` are listed,
    /// those the guards rule out too.
    pub fn explain(&self, text: &str, model: Option<&dyn ContextModel>, min_score: f64) -> (Corrected, Vec<Considered>) {
        let words = tokens(text);
        let (corrected, candidates, chosen) = self.run(text, model, Some(min_score), None);
        let considered = candidates
            .into_iter()
            .filter(|c| c.score >= min_score)
            .map(|c| {
                let (start, end) = (words[c.from].start, words[c.to - 1].end);
                Considered {
                    start,
                    end,
                    original: text[start..end].to_string(),
                    term: self.terms[c.term].text.clone(),
                    score: c.score,
                    needed: c.needed,
                    guard: c.guard,
                    context: c.context,
                    kept: self.keeps(&c),
                    chosen: chosen.contains(&(c.from, c.to, c.term)),
                }
            })
            .collect();
        (corrected, considered)
    }

    /// The corrected text, the sound-alike candidates considered, and those made as (first
    /// word, end word, term). `explain` (a lowest score) also considers every candidate from
    /// that score on, those the guards rule out too; the changes made stay the same.
    fn run(&self, text: &str, model: Option<&dyn ContextModel>, explain: Option<f64>, heard: Option<&mut dyn AcousticModel>) -> (Corrected, Vec<Candidate>, Vec<(usize, usize, usize)>) {
        let words = tokens(text);
        let mut claimed = vec![false; words.len()];
        let mut changes = Vec::new();
        let (waiting, exact): (Vec<_>, Vec<_>) = self.exact_matches(text, &words).into_iter().partition(|&(from, to, _, _)| self.inside_a_join(text, &words, from, to));
        let exact_change = |(from, to, term, kind): (usize, usize, usize, ChangeKind)| {
            let (start, end) = (words[from].start, words[to - 1].end);
            let t = &self.terms[term];
            (text[start..end] != t.text).then(|| Change { start, end, original: text[start..end].to_string(), term: t.text.clone(), kind, score: 1.0 })
        };
        for m in exact {
            claimed[m.0..m.1].iter_mut().for_each(|c| *c = true);
            changes.extend(exact_change(m));
        }
        let lowest = if model.is_some() { Reach::of(&self.settings) } else { Reach::GUARDS_ONLY };
        let lowest = explain.map_or(lowest, |min_score| lowest.at_most(min_score));
        let lowest = if heard.is_some() { lowest.at_most(self.settings.acoustic_floor) } else { lowest };
        let mut candidates = self.sound_alikes(text, &words, &claimed, lowest, explain.is_some());
        // Over a waiting exact match only a longer span competes with it.
        candidates.retain(|c| waiting.iter().all(|&(from, to, _, _)| c.to <= from || to <= c.from || (c.from <= from && to <= c.to && c.to - c.from > to - from)));
        if let Some(model) = model {
            self.judge_in_context(text, &words, &mut candidates, model);
        }
        if let Some(heard) = heard {
            self.judge_by_ear(text, &words, &mut candidates, heard);
        }
        let kept: Vec<Candidate> = candidates.iter().filter(|c| self.keeps(c)).copied().collect();
        let chosen = Self::without_overlaps(kept, words.len());
        // An exact match that waited for a join stands when no sound-alike took its words.
        for m in waiting {
            if !chosen.iter().any(|c| c.from < m.1 && m.0 < c.to) {
                changes.extend(exact_change(m));
            }
        }
        for c in &chosen {
            let (start, end) = (words[c.from].start, words[c.to - 1].end);
            let t = &self.terms[c.term];
            changes.push(Change { start, end, original: text[start..end].to_string(), term: t.text.clone(), kind: ChangeKind::SoundAlike, score: c.score });
        }
        changes.sort_by_key(|c| c.start);
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for c in &changes {
            out.push_str(&text[at..c.start]);
            out.push_str(&c.term);
            at = c.end;
        }
        out.push_str(&text[at..]);
        let chosen = chosen.iter().map(|c| (c.from, c.to, c.term)).collect();
        (Corrected { text: out, changes }, candidates, chosen)
    }

    /// The decision on one candidate: without a context verdict (no model, or the model
    /// failed) the guards decide; with one, a candidate that passed its guard stays unless the
    /// sentence becomes much less likely (`context_veto`), and one between `context_floor` and
    /// its guard is made when it stays about as likely (`context_margin`). One the text leaves
    /// is made when the recogniser finds the text with the term about as likely as heard
    /// (`acoustic_margin`).
    fn keeps(&self, c: &Candidate) -> bool {
        // Only candidates that `may_admit_by_ear` let through have a verdict.
        self.keeps_by_text(c) || c.acoustic.is_some_and(|delta| delta >= self.settings.acoustic_margin)
    }

    /// Whether the recogniser's verdict could admit `c` (judged only when the text leaves it).
    fn may_admit_by_ear(&self, c: &Candidate) -> bool {
        !matches!(c.guard, Guard::Acronym | Guard::WordsDiffer) && c.score >= self.settings.acoustic_floor && c.context.is_none_or(|d| d >= self.settings.context_veto)
    }

    /// [`Corrector::keeps`] from the text alone (the guards and the context).
    fn keeps_by_text(&self, c: &Candidate) -> bool {
        if c.guard.rules_out() {
            return c.guard.context_may_admit()
                && c.score >= self.settings.context_admit
                && c.context.is_some_and(|delta| delta >= self.settings.context_admit_margin);
        }
        match c.context {
            Some(delta) if c.score >= c.needed => delta >= self.settings.context_veto,
            Some(delta) => {
                (c.score >= self.settings.context_floor && delta >= self.settings.context_margin)
                    || (c.unknown && c.score >= self.settings.unknown_floor && delta >= self.settings.unknown_margin)
            }
            None => c.score >= c.needed,
        }
    }

    /// Whole-word exact matches, leftmost-longest, as (first word, end word, term, kind).
    fn exact_matches(&self, text: &str, words: &[Token]) -> Vec<(usize, usize, usize, ChangeKind)> {
        let Some(ac) = &self.exact else { return Vec::new() };
        let mut hay = String::new();
        let mut starts = HashMap::new();
        let mut ends = HashMap::new();
        for (i, w) in words.iter().enumerate() {
            if i > 0 {
                hay.push(' ');
            }
            starts.insert(hay.len(), i);
            hay.push_str(&w.norm);
            ends.insert(hay.len(), i + 1);
        }
        let mut found: Vec<(usize, usize, usize, ChangeKind)> = ac
            .find_overlapping_iter(&hay)
            .filter_map(|m| {
                let (from, to) = (*starts.get(&m.start())?, *ends.get(&m.end())?);
                let phrase_ok = (from + 1..to).all(|i| joined(text, words[i - 1].end, words[i].start));
                let (term, kind) = self.patterns[m.pattern().as_usize()];
                phrase_ok.then_some((from, to, term, kind))
            })
            .collect();
        found.sort_by_key(|&(from, to, _, kind)| (from, std::cmp::Reverse(to), kind != ChangeKind::Exact));
        let mut chosen = Vec::new();
        let mut next_free = 0;
        for m in found {
            if m.0 >= next_free {
                next_free = m.1;
                chosen.push(m);
            }
        }
        chosen
    }

    /// Whether the words of `span` (more than one, spelling `t`'s letters) may be joined into
    /// `t`: across a closed-class word only into a word ("to night"; "of elia" is not
    /// "Ofelia"); frequent content words join ("safe way").
    fn may_join(&self, span: &[Token], t: &Term) -> bool {
        let function = span.iter().filter(|w| self.lexicon.is_closed_class(&w.norm)).count();
        function == 0 || (function < word_count(span) && self.lexicon.is_common(&t.letters))
    }

    /// Whether the words `from..to` (an exact match) lie inside a longer span that spells
    /// another term and may join into it: "First Energy" with both Energy and FirstEnergy
    /// listed. Such a match waits for the sound-alikes, and is made only when they do not take
    /// its words.
    fn inside_a_join(&self, text: &str, words: &[Token], from: usize, to: usize) -> bool {
        let first = from.saturating_sub(3);
        (first..=from).any(|a| {
            (to..=(a + 4).min(words.len())).any(|b| {
                let span = &words[a..b];
                b - a > to - from
                    && (a + 1..b).all(|i| joined(text, words[i - 1].end, words[i].start))
                    && !span.iter().any(|w| is_possessive(w) || w.norm.chars().any(|c| c.is_ascii_digit()))
                    && self.by_letters.get(&letters_of(span)).is_some_and(|ts| ts.iter().any(|&t| word_count(span) > self.terms[t].words && self.may_join(span, &self.terms[t])))
            })
        })
    }

    /// Scores `span_letters` against term `t`, with the threshold for the term's length and
    /// whether the term is short; None when the lengths differ too much or a short term's key
    /// is not equal.
    fn score(&self, span_letters: &str, span_keys: &[String; 2], t: &Term) -> Option<(f64, f64, bool)> {
        let (a, b) = (span_letters.chars().count(), t.letters.chars().count());
        if a * 10 < b * 6 || b * 10 < a * 6 {
            return None;
        }
        let mut phonetic: f64 = 0.0;
        for sk in span_keys.iter().filter(|k| !k.is_empty()) {
            for tk in t.keys.iter().filter(|k| !k.is_empty()) {
                phonetic = phonetic.max(similarity(sk, tk));
            }
        }
        let spelling = similarity(span_letters, &t.letters);
        let score = 0.5 * phonetic + 0.5 * spelling;
        if b <= self.settings.short_letters {
            (phonetic >= 1.0).then_some((score, self.settings.short_threshold, true))
        } else {
            Some((score, self.settings.threshold, false))
        }
    }

    /// Each word of `span` against the term's word in the same place.
    fn words_match(&self, span: &[Token], t: &Term) -> bool {
        span.iter().filter(|w| !is_possessive(w)).zip(&t.word_list).all(|(w, tw)| {
            let (a, b): (String, String) = (w.norm.chars().filter(|c| c.is_alphanumeric()).collect(), tw.chars().filter(|c| c.is_alphanumeric()).collect());
            let (ka, kb) = (phonetic_keys(&self.metaphone, &a), phonetic_keys(&self.metaphone, &b));
            0.5 * similarity(&ka[0], &kb[0]).max(similarity(&ka[1], &kb[1])) + 0.5 * similarity(&a, &b) >= self.settings.word_threshold
        })
    }

    /// Sound-alike candidates among unclaimed words whose score reaches their guard's
    /// threshold or `lowest.floor` (`lowest.unknown` for a word no lexicon knows), and those
    /// ruled out whose score reaches `lowest.admit` (every ruled-out kind when explaining, where
    /// `admit` is the lowest score listed; else those the context may admit).
    fn sound_alikes(&self, text: &str, words: &[Token], claimed: &[bool], lowest: Reach, explain: bool) -> Vec<Candidate> {
        if self.terms.is_empty() {
            return Vec::new();
        }
        let mut found: Vec<Candidate> = Vec::new();
        for from in 0..words.len() {
            for to in from + 1..=(from + 4).min(words.len()) {
                if claimed[to - 1] || (to - 1 > from && !joined(text, words[to - 2].end, words[to - 1].start)) {
                    break;
                }
                // A possessive "'s" belongs to the word before it.
                if is_possessive(&words[from]) {
                    break;
                }
                let span = &words[from..to];
                // Numbers are never rewritten into names ("July 1st" is not "Julie Sweet").
                if span.iter().any(|w| w.norm.chars().any(|c| c.is_ascii_digit())) {
                    break;
                }
                let letters = letters_of(span);
                let acronym = span.iter().any(|w| is_acronym(&text[w.start..w.end]));
                let all_common = span.iter().all(|w| self.lexicon.is_common(&w.norm));
                let only_names = !all_common && span.iter().all(|w| self.lexicon.is_common(&w.norm) || self.lexicon.is_name(&w.norm));
                let very_common = span.iter().all(|w| self.lexicon.is_very_common(&w.norm));
                let all_unknown = span.iter().all(|w| !self.lexicon.is_common(&w.norm) && !self.lexicon.is_name(&w.norm));
                if letters.chars().count() < 3 {
                    continue;
                }
                let keys = phonetic_keys(&self.metaphone, &letters);
                let mut candidates: Vec<usize> = Vec::new();
                for k in &keys {
                    for (at, c) in k.chars().take(2).enumerate() {
                        if let Some(bucket) = self.by_key.get(&(at as u8, c)) {
                            candidates.extend(bucket);
                        }
                    }
                }
                candidates.sort_unstable();
                candidates.dedup();
                for ti in candidates {
                    let t = &self.terms[ti];
                    // A listed function word ("her", "with") is only ever matched exactly.
                    if t.words == 1 && self.lexicon.is_function_word(&t.letters) {
                        continue;
                    }
                    let n = word_count(span);
                    if n < t.words || n > t.words + 2 {
                        continue;
                    }
                    // The words spell the term: a split compound ("to night", "silver ware")
                    // or a possessive for a plural ("cutters" for "cutter's").
                    // Not a frequent word that differs only by an apostrophe ("was" is not
                    // "wa's").
                    if letters == t.letters {
                        let join = if n > 1 {
                            self.may_join(span, t)
                        } else {
                            to - from != t.tokens && !very_common
                        };
                        if join {
                            found.push(Candidate { from, to, term: ti, score: 1.0, needed: 1.0, guard: Guard::Plain, context: None, acoustic: None, unknown: false });
                        }
                        if join || very_common {
                            continue;
                        }
                    }
                    let merge = n > t.words;
                    let ruled_out = if acronym {
                        Some(Guard::Acronym)
                    } else if span.iter().any(|w| !is_possessive(w) && (self.lexicon.is_function_word(&w.norm) || crate::text::contraction_base(&w.norm).is_some()) && !t.word_list.contains(&w.norm)) {
                        Some(Guard::FunctionWord)
                    } else if n == t.words && n > 1 && !self.words_match(span, t) {
                        Some(Guard::WordsDiffer)
                    } else if all_common && is_inflection(&letters, &t.letters) {
                        Some(Guard::Inflection)
                    } else {
                        None
                    };
                    if ruled_out.is_some_and(|g| !explain && (!g.context_may_admit() || lowest.admit > 1.0)) {
                        continue;
                    }
                    if let Some((score, base, short)) = self.score(&letters, &keys, t) {
                        let (guard, threshold) = if let Some(g) = ruled_out {
                            (g, f64::INFINITY)
                        } else if very_common && merge {
                            (Guard::Merge, self.settings.merge_threshold.max(self.settings.common_threshold))
                        } else if very_common {
                            // Only a near-identical spelling ("automatic" for "Automattic").
                            (Guard::VeryCommon, VERY_COMMON_THRESHOLD.max(self.settings.common_threshold))
                        } else if all_common && merge {
                            (Guard::Merge, self.settings.merge_threshold)
                        } else if all_common {
                            (Guard::Common, self.settings.common_threshold)
                        } else if only_names {
                            (Guard::Name, self.settings.name_threshold)
                        } else if short {
                            (Guard::Short, 0.0)
                        } else {
                            (Guard::Plain, 0.0)
                        };
                        let needed = base.max(threshold);
                        // A misheard name keeps about its length ("Shavra" for "Chevron"; not
                        // "marguerite" for "Mercur").
                        let unknown = guard == Guard::Plain && all_unknown && letters.chars().count().abs_diff(t.letters.chars().count()) <= UNKNOWN_LENGTH_SLACK;
                        let reach = if ruled_out.is_some() {
                            lowest.admit
                        } else if unknown {
                            lowest.floor.min(lowest.unknown)
                        } else {
                            lowest.floor
                        };
                        if score >= needed || score >= reach {
                            found.push(Candidate { from, to, term: ti, score, needed, guard, context: None, acoustic: None, unknown });
                        }
                    }
                }
            }
        }
        found
    }

    /// Gives each candidate the context's verdict: the log-probability of its sentence with
    /// the term minus with the recognised words. Spans are read with their context once for
    /// all terms; when the model fails the verdict stays empty and the guards decide.
    fn judge_in_context(&self, text: &str, words: &[Token], candidates: &mut [Candidate], model: &dyn ContextModel) {
        let mut by_span: HashMap<(usize, usize), Vec<usize>> = HashMap::new();
        for (i, c) in candidates.iter().enumerate() {
            by_span.entry((c.from, c.to)).or_default().push(i);
        }
        let mut spans: Vec<_> = by_span.into_iter().collect();
        spans.sort_by_key(|(span, _)| *span);
        for ((from, to), group) in spans {
            let prefix_start = words[from.saturating_sub(CONTEXT_BEFORE)].start;
            let prefix_end = text[..words[from].start].trim_end().len().max(prefix_start);
            let end = words[(to - 1 + CONTEXT_AFTER).min(words.len() - 1)].end;
            let (span_start, span_end) = (words[from].start, words[to - 1].end);
            let mut continuations = vec![text[prefix_end..end].to_string()];
            continuations.extend(group.iter().map(|&i| format!("{}{}{}", &text[prefix_end..span_start], self.terms[candidates[i].term].text, &text[span_end..end])));
            match model.log_probs(&text[prefix_start..prefix_end], &continuations) {
                Ok(lp) if lp.len() == continuations.len() => {
                    for (k, &i) in group.iter().enumerate() {
                        candidates[i].context = Some(lp[k + 1] - lp[0]);
                    }
                }
                Ok(_) => tracing::warn!("the context model gave the wrong number of scores; the guards decide"),
                Err(e) => tracing::warn!("context model: {e}; the guards decide"),
            }
        }
    }

    /// The recogniser's verdict on each candidate the text leaves that it might admit
    /// ([`Corrector::may_admit_by_ear`]): the whole text with the term against the text as
    /// recognised, in one call. It does not judge the changes the text makes: the recogniser
    /// cannot hear a spelling, and its decoder finds the common one far likelier
    /// ("automatic" over the listed "Automattic" by 25 nats, "camerfermi" over "Camerfirma"
    /// by 21, both right changes).
    fn judge_by_ear(&self, text: &str, words: &[Token], candidates: &mut [Candidate], heard: &mut dyn AcousticModel) {
        let judged: Vec<usize> = (0..candidates.len()).filter(|&i| !self.keeps_by_text(&candidates[i]) && self.may_admit_by_ear(&candidates[i])).collect();
        if judged.is_empty() {
            return;
        }
        let changed: Vec<String> = judged
            .iter()
            .map(|&i| {
                let c = &candidates[i];
                format!("{}{}{}", &text[..words[c.from].start], self.terms[c.term].text, &text[words[c.to - 1].end..])
            })
            .collect();
        let floors = vec![self.settings.acoustic_margin; judged.len()];
        match heard.log_prob_changes(text, &changed, &floors) {
            Ok(deltas) if deltas.len() == changed.len() => {
                for (&i, delta) in judged.iter().zip(deltas) {
                    candidates[i].acoustic = Some(delta);
                    let c = &candidates[i];
                    tracing::debug!(original = &text[words[c.from].start..words[c.to - 1].end], term = %self.terms[c.term].text, score = c.score, guard = ?c.guard, context = ?c.context, acoustic = delta, "judged by ear");
                }
            }
            Ok(_) => tracing::warn!("the recogniser gave the wrong number of scores; the text decides"),
            Err(e) => tracing::warn!("recogniser's judgement: {e}; the text decides"),
        }
    }

    /// The best candidates, best first, without overlaps.
    fn without_overlaps(mut found: Vec<Candidate>, words: usize) -> Vec<Candidate> {
        found.sort_by(|a, b| b.score.total_cmp(&a.score).then((a.to - a.from).cmp(&(b.to - b.from))).then(a.from.cmp(&b.from)));
        let mut taken = vec![false; words];
        let mut chosen = Vec::new();
        for c in found {
            if taken[c.from..c.to].iter().any(|t| *t) {
                continue;
            }
            taken[c.from..c.to].iter_mut().for_each(|t| *t = true);
            chosen.push(c);
        }
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corrector(entries: &[(&str, &[&str])]) -> Corrector {
        let entries: Vec<Entry> = entries
            .iter()
            .map(|(t, s)| Entry { term: t.to_string(), sounds_like: s.iter().map(|x| x.to_string()).collect(), note: None })
            .collect();
        Corrector::new(&entries, Lexicon::english(), LARGE_LIST)
    }

    /// A context model that likes the words `good` and dislikes `bad` (log-probability -20
    /// each), for testing the decisions.
    struct Likes {
        good: &'static str,
        bad: &'static str,
    }

    impl ContextModel for Likes {
        fn log_probs(&self, _prefix: &str, continuations: &[String]) -> Result<Vec<f64>, Box<dyn std::error::Error + Send + Sync>> {
            Ok(continuations
                .iter()
                .map(|c| c.split_whitespace().map(|w| if w == self.bad { -20.0 } else if w == self.good { 0.0 } else { -5.0 }).sum())
                .collect())
        }
    }

    struct Broken;

    impl ContextModel for Broken {
        fn log_probs(&self, _prefix: &str, _continuations: &[String]) -> Result<Vec<f64>, Box<dyn std::error::Error + Send + Sync>> {
            Err("no model".into())
        }
    }

    /// The recogniser's verdict, scripted: each changed text that contains `term` scores
    /// `delta` against the original; it records the texts it was asked about.
    struct Hears {
        term: &'static str,
        delta: f64,
        asked: Vec<String>,
    }

    impl AcousticModel for Hears {
        fn log_prob_changes(&mut self, _original: &str, changed: &[String], floors: &[f64]) -> Result<Vec<f64>, Box<dyn std::error::Error + Send + Sync>> {
            assert_eq!(changed.len(), floors.len());
            self.asked.extend(changed.iter().cloned());
            Ok(changed.iter().map(|c| if c.contains(self.term) { self.delta } else { -30.0 }).collect())
        }
    }

    struct Deaf;

    impl AcousticModel for Deaf {
        fn log_prob_changes(&mut self, _original: &str, _changed: &[String], _floors: &[f64]) -> Result<Vec<f64>, Box<dyn std::error::Error + Send + Sync>> {
            Err("no recogniser".into())
        }
    }

    #[test]
    fn the_recogniser_admits_near_misses_and_vetoes_what_it_did_not_hear() {
        // The audio check's "us on" for "Asana" (score 0.70, ruled out for its function word):
        // the text alone leaves it; the recogniser finding it nearly as likely puts it in.
        let entries: Vec<Entry> = ["Asana", "Kubernetes"].into_iter().map(Entry::new).collect();
        let c = Corrector::new(&entries, Lexicon::english(), SMALL_LIST);
        let text = "customers keep asking about us on in their emails";
        let unsure = Likes { good: "", bad: "Asana" };
        assert_eq!(c.apply_in_context(text, &unsure).text, text);
        let mut near = Hears { term: "Asana", delta: -3.9, asked: Vec::new() };
        assert_eq!(c.apply_heard(text, Some(&unsure), &mut near).text, "customers keep asking about Asana in their emails");
        assert!(near.asked.iter().any(|t| t.contains("Asana")), "{:?}", near.asked);
        let mut far = Hears { term: "Asana", delta: -9.0, asked: Vec::new() };
        assert_eq!(c.apply_heard(text, Some(&unsure), &mut far).text, text);
        let neutral = Likes { good: "", bad: "" };
        // A change the text makes stays whatever the recogniser would say (it cannot hear a
        // spelling), and it is not asked.
        let text = "deploy to kubernete";
        let mut unheard = Hears { term: "Kubernetes", delta: -25.0, asked: Vec::new() };
        assert_eq!(c.apply_heard(text, Some(&neutral), &mut unheard).text, "deploy to Kubernetes");
        assert!(unheard.asked.iter().all(|t| !t.contains("Kubernetes")), "{:?}", unheard.asked);
        // A failing recogniser leaves the text to decide.
        assert_eq!(c.apply_heard(text, Some(&neutral), &mut Deaf).text, "deploy to Kubernetes");
        assert_eq!(c.apply_heard("customers keep asking about us on in their emails", Some(&unsure), &mut Deaf).text, "customers keep asking about us on in their emails");
    }

    #[test]
    fn a_misheard_first_sound_still_finds_its_term() {
        // Misheard in the audio check: the first sound differs, the rest agrees.
        let entries: Vec<Entry> = ["Pidora", "Verisk"].into_iter().map(Entry::new).collect();
        let c = Corrector::new(&entries, Lexicon::english(), SMALL_LIST);
        check(&c, "I think Vidora should be the first thing", "I think Pidora should be the first thing");
        check(&c, "The report says Merisk handled most of it", "The report says Verisk handled most of it");
    }

    #[test]
    fn the_context_admits_near_misses_and_vetoes_bad_fits() {
        let entries: Vec<Entry> = ["lever", "Kubernetes"].into_iter().map(Entry::new).collect();
        let c = Corrector::new(&entries, Lexicon::english().with_frequent_words(["lover"]), SMALL_LIST);
        // A common word below its guard: only where the context likes the term.
        check(&c, "pull the lover", "pull the lover");
        assert_eq!(c.apply_in_context("pull the lover", &Likes { good: "lever", bad: "" }).text, "pull the lever");
        assert_eq!(c.apply_in_context("pull the lover", &Likes { good: "", bad: "lever" }).text, "pull the lover");
        // A change the guards allow is dropped when the context strongly dislikes it.
        check(&c, "deploy to kubernete", "deploy to Kubernetes");
        assert_eq!(c.apply_in_context("deploy to kubernete", &Likes { good: "", bad: "Kubernetes" }).text, "deploy to kubernete");
        assert_eq!(c.apply_in_context("deploy to kubernete", &Likes { good: "", bad: "" }).text, "deploy to Kubernetes");
        // A failing model leaves the guards to decide.
        assert_eq!(c.apply_in_context("pull the lover to kubernete", &Broken).text, "pull the lover to Kubernetes");
    }

    #[test]
    fn an_unknown_word_is_changed_on_a_weaker_match_when_the_context_agrees() {
        // The audio check's "Shavra" for "Chevron" scores 0.59, below the plain threshold.
        let entries: Vec<Entry> = ["Chevron"].into_iter().map(Entry::new).collect();
        let c = Corrector::new(&entries, Lexicon::english(), SMALL_LIST);
        let text = "Ask the team whether Shavra is ready";
        check(&c, text, text);
        assert_eq!(c.apply_in_context(text, &Likes { good: "Chevron", bad: "" }).text, "Ask the team whether Chevron is ready");
        assert_eq!(c.apply_in_context(text, &Likes { good: "", bad: "Chevron" }).text, text);
        // A common word gets no such allowance, nor anything in a large list.
        let common = Corrector::new(&entries, Lexicon::english().with_words(["shavra"]), SMALL_LIST);
        assert_eq!(common.apply_in_context(text, &Likes { good: "Chevron", bad: "" }).text, text);
        let large = Corrector::new(&entries, Lexicon::english(), LARGE_LIST);
        assert_eq!(large.apply_in_context(text, &Likes { good: "Chevron", bad: "" }).text, text);
        // Nor a span far from the term's length (a name the lexicon lacks, scored 0.60).
        let mercur = Corrector::new(&[Entry::new("Mercur")], Lexicon::english(), SMALL_LIST);
        let text = "you in the way marguerite but how";
        assert_eq!(mercur.apply_in_context(text, &Likes { good: "Mercur", bad: "" }).text, text);
    }

    #[test]
    fn the_context_may_overrule_a_guard_that_objects_to_grammar_only() {
        let entries: Vec<Entry> = ["chills", "Kubernetes"].into_iter().map(Entry::new).collect();
        let c = Corrector::new(&entries, Lexicon::english().with_words(["chill"]), SMALL_LIST);
        // "chill" inflects "chills": the guards leave it; a sentence that is likelier with the
        // term changes it, one that is less likely does not.
        check(&c, "the chill ran down", "the chill ran down");
        assert_eq!(c.apply_in_context("the chill ran down", &Likes { good: "chills", bad: "" }).text, "the chills ran down");
        assert_eq!(c.apply_in_context("the chill ran down", &Likes { good: "", bad: "chills" }).text, "the chill ran down");
        // A word in capitals is never overruled, nor anything in a large list.
        assert_eq!(c.apply_in_context("the CHILL ran down", &Likes { good: "chills", bad: "" }).text, "the CHILL ran down");
        let large = Corrector::new(&entries, Lexicon::english().with_words(["chill"]), LARGE_LIST);
        assert_eq!(large.apply_in_context("the chill ran down", &Likes { good: "chills", bad: "" }).text, "the chill ran down");
    }

    #[test]
    fn explain_lists_each_candidate_with_its_guard_and_verdict() {
        let entries: Vec<Entry> = ["lever", "Webcasts", "Kubernetes"].into_iter().map(Entry::new).collect();
        let c = Corrector::new(&entries, Lexicon::english().with_frequent_words(["lover"]).with_words(["webcast"]), SMALL_LIST);
        let text = "pull the lover and our webcast on kubernete";
        let (corrected, seen) = c.explain(text, None, 0.5);
        assert_eq!(corrected, c.apply(text));
        let find = |original: &str| seen.iter().find(|x| x.original == original).unwrap_or_else(|| panic!("{original} not in {seen:?}"));
        let lover = find("lover");
        assert_eq!((lover.term.as_str(), lover.guard, lover.kept, lover.chosen), ("lever", Guard::VeryCommon, false, false));
        assert!(lover.score < lover.needed && lover.context.is_none());
        let webcast = find("webcast");
        assert_eq!((webcast.guard, webcast.kept), (Guard::Inflection, false));
        assert!(webcast.needed.is_infinite());
        let kube = find("kubernete");
        assert_eq!((kube.term.as_str(), kube.guard, kube.kept, kube.chosen), ("Kubernetes", Guard::Plain, true, true));
        assert_eq!(&text[kube.start..kube.end], "kubernete");
        // What explain says was made is what apply makes; with a model each gets a verdict.
        let model = Likes { good: "lever", bad: "Webcasts" };
        let (_, judged) = c.explain(text, Some(&model), 0.5);
        let made: Vec<&str> = judged.iter().filter(|x| x.chosen).map(|x| x.term.as_str()).collect();
        assert_eq!(made, ["lever", "Kubernetes"]);
        assert_eq!(c.apply_in_context(text, &model).text, "pull the lever and our webcast on Kubernetes");
        assert!(judged.iter().all(|x| x.context.is_some()));
    }

    #[test]
    fn function_word_terms_and_possessives_are_left_alone() {
        let c = corrector(&[("her", &[]), ("Scrapper", &[])]);
        check(&c, "I hear you", "I hear you");
        check(&c, "the bee's keeper", "the bee's keeper");
    }

    fn check(c: &Corrector, input: &str, expected: &str) {
        assert_eq!(c.apply(input).text, expected, "input: {input}");
    }

    #[test]
    fn exact_terms_get_their_casing() {
        let c = corrector(&[("Kubernetes", &[]), ("PostgreSQL", &[]), ("O'Reilly", &[])]);
        check(&c, "we run kubernetes and postgresql", "we run Kubernetes and PostgreSQL");
        check(&c, "ask o’reilly", "ask O'Reilly");
        let r = c.apply("KUBERNETES.");
        assert_eq!(r.changes.len(), 1);
        assert_eq!((r.changes[0].start, r.changes[0].end, r.changes[0].kind), (0, 10, ChangeKind::Exact));
        assert!(c.apply("Kubernetes").changes.is_empty(), "already right: no change reported");
        let c = corrector(&[("him'", &[]), ("'Tis", &[])]);
        check(&c, "tell him.", "tell him.");
        check(&c, "tis true", "Tis true");
    }

    #[test]
    fn whole_words_only() {
        let c = corrector(&[("Java", &[]), ("Tauri", &["tory"])]);
        check(&c, "javascript and java", "javascript and Java");
        check(&c, "the history of tory", "the history of Tauri");
        check(&c, "victory", "victory");
    }

    #[test]
    fn sounds_like_spellings_and_multi_word_terms() {
        let c = corrector(&[("Kubernetes", &["cube nettys"]), ("Anja Schmidt", &["anya smith"]), ("PostgreSQL", &["post gress"])]);
        check(&c, "deploy it on cube nettys with post gress", "deploy it on Kubernetes with PostgreSQL");
        check(&c, "ask anya smith's team", "ask Anja Schmidt's team");
        check(&c, "ask anja schmidt", "ask Anja Schmidt");
        // A listed phrase does not cross a full stop.
        check(&c, "a cube. Nettys", "a cube. Nettys");
    }

    #[test]
    fn overlapping_terms_leftmost_longest() {
        let c = corrector(&[("Visual Studio", &[]), ("Visual Studio Code", &[]), ("Studio Code", &[])]);
        check(&c, "open visual studio code now", "open Visual Studio Code now");
        check(&c, "open visual studio now", "open Visual Studio now");
    }

    #[test]
    fn sound_alike_fixes_misspelt_names() {
        let c = corrector(&[("Fauchelevent", &[]), ("Kubernetes", &[])]);
        let r = c.apply("asked jean foshelevent replied");
        assert_eq!(r.text, "asked jean Fauchelevent replied");
        assert_eq!(r.changes[0].kind, ChangeKind::SoundAlike);
        assert!(r.changes[0].score >= 0.8 && r.changes[0].score < 1.0);
        check(&c, "we use kubernetties daily", "we use Kubernetes daily");
        let c = corrector(&[("Banco Santander México", &[])]);
        check(&c, "banco santander mexico", "Banco Santander México");
        check(&c, "Ölmühle ÉÉÉ", "Ölmühle ÉÉÉ");
    }

    #[test]
    fn common_words_are_never_sound_alike_replaced() {
        let c = corrector(&[("Tori", &[]), ("Nuclear", &[]), ("Thyme", &[])]);
        check(&c, "it is time to go", "it is time to go");
        check(&c, "the story", "the story");
    }

    #[test]
    fn split_compounds_are_joined_and_names_need_a_strong_match() {
        let entries: Vec<Entry> = ["silverware", "Hermon's", "Graeme"].into_iter().map(Entry::new).collect();
        let c = Corrector::new(&entries, Lexicon::english().with_words(["silver", "ware"]).with_names(["harmon", "graham"]), LARGE_LIST);
        check(&c, "its silver ware", "its silverware");
        check(&c, "lose harmon's regard", "lose Hermon's regard");
        check(&c, "sir graham", "sir graham");
        // Frequent content words join too; a closed-class word only into a word.
        let entries: Vec<Entry> = ["Safeway", "FirstEnergy", "WellCare", "Mattermost", "Inuse", "tonight"].into_iter().map(Entry::new).collect();
        let c = Corrector::new(&entries, Lexicon::english(), SMALL_LIST);
        for (input, expected) in [
            ("please open safe way before", "please open Safeway before"),
            ("says First Energy handled", "says FirstEnergy handled"),
            ("asking about well-care in", "asking about WellCare in"),
            ("please open matter most before", "please open Mattermost before"),
            ("it is in use", "it is in use"),
            ("see you to night", "see you tonight"),
        ] {
            check(&c, input, expected);
        }
    }

    #[test]
    fn a_split_compound_joins_over_a_shorter_listed_term() {
        let c = corrector(&[("Energy", &[]), ("FirstEnergy", &[]), ("Safeway", &[]), ("way", &[])]);
        check(&c, "Our first energy contract was renewed.", "Our FirstEnergy contract was renewed.");
        check(&c, "We buy at safe way on Mondays.", "We buy at Safeway on Mondays.");
        // Alone, the shorter term still gets its casing; across a closed-class word it stays.
        check(&c, "The energy bill went up.", "The Energy bill went up.");
        check(&c, "The first of energy prices.", "The first of Energy prices.");
    }

    #[test]
    fn terms_heard_nearby_are_offered_to_a_second_decode() {
        let c = corrector(&[("Daimler", &[]), ("InSpec", &[]), ("Hathaway", &[]), ("Kibana", &[]), ("OpenCL", &[])]);
        // What the guards keep from changing the text (a frequent word in the span) is still
        // offered, best first ("open Time" for OpenCL: 0.55); a term already spelt and a lone
        // frequent word ("open" for OpenCL: 0.63) are not.
        let terms = |near: Vec<Near>| near.into_iter().map(|n| n.term.to_owned()).collect::<Vec<String>>();
        let near = c.sounds_near("Please open Time Blur before the meeting starts.", 0.55, 6);
        assert_eq!(near[0].heard, ["time", "blur"]);
        assert_eq!(terms(near), ["Daimler", "OpenCL"]);
        assert_eq!(terms(c.sounds_near("Please open Time Blur before the meeting starts.", 0.56, 6)), ["Daimler"]);
        assert_eq!(terms(c.sounds_near("The report has, has the way handled most of it.", 0.55, 6)), ["Hathaway"]);
        assert!(c.sounds_near("Please open Kibana before Hathaway starts.", 0.55, 6).is_empty());
        assert!(c.sounds_near("Please open Time Blur before the meeting starts.", 0.95, 6).is_empty());
        assert_eq!(c.sounds_near("has the way in pack", 0.55, 1).len(), 1);
        // The second decode is taken when it spells an offered term and keeps the first's.
        let offered = ["Daimler"];
        assert!(c.prefers_refocused("Please open Time Blur.", "Please open Daimler.", &offered));
        assert!(!c.prefers_refocused("Please open Time Blur.", "Please open time blur.", &offered));
        assert!(!c.prefers_refocused("Open Kibana, Time Blur.", "Open key banner, Daimler.", &offered));
        assert!(!c.prefers_refocused("Open Daimler, time blur.", "Open Daimler, Daimler.", &offered));
    }

    #[test]
    fn short_terms_need_an_equal_key() {
        let c = corrector(&[("Tauri", &[])]);
        check(&c, "we use taurie", "we use Tauri");
        check(&c, "we use tarot", "we use tarot");
    }

    #[test]
    fn spans_keep_function_words_acronyms_and_inflections() {
        let entries: Vec<Entry> = ["Ofelia", "Cepheid Radiometer", "Webcasts", "Gap", "Bank of Amerika", "Kubernetes"].into_iter().map(Entry::new).collect();
        let c = Corrector::new(&entries, Lexicon::english().with_words(["webcast"]), LARGE_LIST);
        check(&c, "to kubernete", "to Kubernetes");
        // "of elia" would sound like the term, but "of" is a function word.
        check(&c, "the music of elia", "the music of elia");
        check(&c, "cepheid and radiometer", "cepheid and radiometer");
        check(&c, "our webcast", "our webcast");
        check(&c, "non-GAAP results", "non-GAAP results");
        check(&c, "the bank of amerrika", "the Bank of Amerika");
        let c = corrector(&[("NordVPN", &[])]);
        check(&c, "use Nord VPN now", "use NordVPN now");
        let entries: Vec<Entry> = ["Julie Sweet", "Progressive", "Intercontinental Exchange", "UniCredit"].into_iter().map(Entry::new).collect();
        let c = Corrector::new(&entries, Lexicon::english().with_words(["progress", "risk", "unit", "credit"]), LARGE_LIST);
        check(&c, "on July 1st", "on July 1st");
        check(&c, "the progress we've made", "the progress we've made");
        check(&c, "intercontinental risk", "intercontinental risk");
        check(&c, "the unit credit bank", "the UniCredit bank");
    }

    #[test]
    fn change_offsets_point_into_the_input() {
        let c = corrector(&[("Kubernetes", &["cube nettys"])]);
        let input = "Über cube nettys!";
        let r = c.apply(input);
        assert_eq!(&input[r.changes[0].start..r.changes[0].end], "cube nettys");
        assert_eq!(r.changes[0].original, "cube nettys");
        assert_eq!(r.text, "Über Kubernetes!");
    }
}
