//! The polishing engine's learned stage: a keep/delete tagger on SmolLM2's hidden states.
//!
//! The frozen model reads the text twice, as a chat turn and its answer:
//! `<system>… <user>TEXT <assistant>TEXT`. A causal model sees no right context, but in the
//! second copy every word has already seen the whole text once, so its hidden state can tell a
//! false start from its repair. A small head (one hidden layer) reads, for each word of the
//! second copy, the state at its last token and the state just before its first token, plus
//! three bits from the rule pass (removed by the rules, an interjection, a protected word), and
//! gives the probability that the word should go.
//!
//! The output is the input with words deleted, so nothing can be invented, and deletion is
//! restricted further: interjections always go; protected words (numbers, negations,
//! biasing-list terms) go only where the rule pass also removed them (a correction that
//! replaces them with a word of the same kind). A guard falls back to the rule output when the
//! tagger would delete more than half of the words, and sentences not reached within the time
//! budget keep the rule output.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use candle_core::{DType, Device, Tensor};
use scrivo_polish::{core_of, ends_sentence, is_repair_marker, removed_runs, starts_two_word_marker, removed_words, render_kept, true_runs, EditKind, Polished, PolishError, Polisher, RulePolisher, QUESTION_WORDS, REPAIR_MARKERS};

use crate::lora::Adapter;
use crate::model::{BaseRun, Cache, Model};
use crate::tokenizer::TextTokenizer;
use crate::LlmError;

/// The fixed part of the prompt before the first copy (run once, then cached).
pub const PREFIX: &str = "<|im_start|>system\nRepeat the user's words without fillers, repetitions or false starts.<|im_end|>\n<|im_start|>user\n";
/// Between the two copies.
const MIDDLE: &str = "<|im_end|>\n<|im_start|>assistant\n";
/// The longest piece of text tagged in one pass, in words; longer texts are cut at sentence
/// ends first.
pub const MAX_CHUNK_WORDS: usize = 64;
/// Bits from the rule pass appended to the model's states: removed by the rules, an
/// interjection, a protected word.
pub const RULE_FEATURES: usize = 3;
/// Time for one text, plus [`BUDGET_PER_WORD`] for each of its words, before the remaining
/// sentences keep the rule output. The tagger takes about 7 ms a word on 2 cores.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(3);
pub const BUDGET_PER_WORD: Duration = Duration::from_millis(40);
/// The clean style shipped with Scrivo: the head and its adapters (trained by `scrivo train
/// lora`; see the model card in `heads/`).
const SHIPPED_HEAD: &[u8] = include_bytes!("../heads/clean.safetensors");
/// The head of the frozen model that the clean adapter was trained from (`scrivo train
/// tagger`): the engine without fine-tuning, for comparison.
const FROZEN_HEAD: &[u8] = include_bytes!("../heads/frozen.safetensors");

/// Runs the frozen model over a text twice and returns per-word states.
pub struct FeatureExtractor {
    model: Arc<Model>,
    tokenizer: Arc<TextTokenizer>,
    blocks: Vec<usize>,
    adapter: Option<Arc<Adapter>>,
    prefix: Cache,
    middle: Vec<u32>,
}

impl FeatureExtractor {
    /// States from the blocks in `blocks` (1-based, see [`Model::hidden_states`]).
    pub fn new(model: Arc<Model>, tokenizer: Arc<TextTokenizer>, blocks: Vec<usize>) -> Result<Self, LlmError> {
        Self::with_prefix(model, tokenizer, blocks, None)
    }

    /// Like [`FeatureExtractor::new`], with the prompt prefix's cache from an earlier extractor
    /// on the same model and blocks ([`FeatureExtractor::prefix`]) instead of running it again.
    pub fn with_prefix(model: Arc<Model>, tokenizer: Arc<TextTokenizer>, blocks: Vec<usize>, prefix: Option<Cache>) -> Result<Self, LlmError> {
        Self::adapted(model, tokenizer, blocks, None, prefix)
    }

    /// Like [`FeatureExtractor::with_prefix`], with a low-rank adapter on the model's blocks
    /// (the prefix cache, when given, must come from an extractor with the same adapter).
    pub fn adapted(model: Arc<Model>, tokenizer: Arc<TextTokenizer>, blocks: Vec<usize>, adapter: Option<Arc<Adapter>>, prefix: Option<Cache>) -> Result<Self, LlmError> {
        let prefix = match prefix {
            Some(p) => p,
            None => {
                let mut p = model.new_cache();
                model.hidden_states_adapted(&tokenizer.encode(PREFIX)?, &mut p, &blocks, adapter.as_deref())?;
                p
            }
        };
        let middle = tokenizer.encode(MIDDLE)?;
        Ok(FeatureExtractor { model, tokenizer, blocks, adapter, prefix, middle })
    }

    pub fn blocks(&self) -> &[usize] {
        &self.blocks
    }

    /// The prompt prefix's cache (to start another extractor on the same model and blocks).
    pub fn prefix(&self) -> &Cache {
        &self.prefix
    }

    /// The tokens after the prompt prefix (the text, the turn change, the text again) and, per
    /// word of the second copy, the position (counted from the first of those tokens) of its
    /// last token and of the token just before its first.
    pub fn encode_twice(&self, words: &[&str]) -> Result<(Vec<u32>, Vec<u32>, Vec<u32>), LlmError> {
        if words.is_empty() {
            return Err(LlmError::Input("no words to tag".into()));
        }
        let mut ids = self.tokenizer.encode(&words.join(" "))?;
        ids.extend_from_slice(&self.middle);
        let (mut last, mut before) = (Vec::with_capacity(words.len()), Vec::with_capacity(words.len()));
        for (i, w) in words.iter().enumerate() {
            let piece = self.tokenizer.encode(&if i == 0 { (*w).to_owned() } else { format!(" {w}") })?;
            if piece.is_empty() {
                return Err(LlmError::Input(format!("the word {w:?} has no tokens")));
            }
            before.push(ids.len() as u32 - 1);
            ids.extend_from_slice(&piece);
            last.push(ids.len() as u32 - 1);
        }
        Ok((ids, last, before))
    }

    /// The prompt prefix's tokens.
    pub fn prefix_ids(&self) -> Result<Vec<u32>, LlmError> {
        self.tokenizer.encode(PREFIX)
    }

    /// For each block, a `(words.len(), 2 * hidden)` tensor: per word of the second copy, the
    /// state at its last token, then the state just before its first token.
    pub fn word_states(&self, words: &[&str]) -> Result<Vec<Tensor>, LlmError> {
        let (ids, last, before) = self.encode_twice(words)?;
        self.states_at(&ids, &last, &before)
    }

    /// [`FeatureExtractor::word_states`] for tokens already made by
    /// [`FeatureExtractor::encode_twice`].
    pub fn states_at(&self, ids: &[u32], last: &[u32], before: &[u32]) -> Result<Vec<Tensor>, LlmError> {
        let mut cache = self.prefix.clone();
        let states = self.model.hidden_states_adapted(ids, &mut cache, &self.blocks, self.adapter.as_deref())?;
        let device = Device::Cpu;
        let (last, before) = (Tensor::new(last, &device)?, Tensor::new(before, &device)?);
        states.iter().map(|s| Ok(Tensor::cat(&[s.index_select(&last, 0)?, s.index_select(&before, 0)?], 1)?)).collect()
    }
}

/// The rule pass's view of each word: `(removed by the rules, interjection, protected)`.
pub fn rule_bits(rules: &RulePolisher, words: &[&str], draft: &Polished) -> Vec<[bool; RULE_FEATURES]> {
    words.iter().zip(removed_words(&draft.edits, words.len())).map(|(w, r)| [r, rules.is_filler(w), rules.is_protected(w)]).collect()
}

/// `(rows, RULE_FEATURES)` of 0/1.
pub fn rule_tensor(bits: &[[bool; RULE_FEATURES]]) -> Result<Tensor, LlmError> {
    let flat: Vec<f32> = bits.iter().flat_map(|b| b.iter().map(|&x| f32::from(u8::from(x)))).collect();
    Ok(Tensor::from_vec(flat, (bits.len(), RULE_FEATURES), &Device::Cpu)?)
}

/// How a head's probabilities become deletions (chosen on held-out pairs when it is trained).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// The probability above which a lone word would be deleted.
    pub threshold: f32,
    /// The cost of each switch between keeping and deleting.
    pub switch_cost: f32,
    /// The extra cost of deleting a protected word (number, negation, listed term) that the
    /// rule pass kept; infinite: never.
    pub protected_cost: f32,
    /// A sentence in which more than this share of the words (not counting interjections)
    /// would go keeps the rule pass's output instead.
    pub max_deleted: f32,
    /// The probability above which a word the rule pass removed (a repetition, a correction it
    /// aligned) is deleted: the rules' removal is evidence of its own, so it may need less.
    pub rule_threshold: f32,
    /// The head's logits are divided by this before the sigmoid (temperature scaling, fitted
    /// on held-out pairs so that a probability of 0.9 is right nine times in ten).
    pub temperature: f32,
    /// Which of the fixed rules after the decision run (each kept only where the held-out
    /// folds showed it helps).
    pub rules: FixedRules,
}

/// The fixed rules that follow the head's decision, as a set of bits (see [`keep_words`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FixedRules(pub u16);

impl FixedRules {
    /// A repetition the rule pass removed stays removed.
    pub const REPETITIONS: FixedRules = FixedRules(1);
    /// The copy just before a deleted run goes too ([`delete_copies_before_runs`]).
    pub const COPIES: FixedRules = FixedRules(2);
    /// The words after the last repair marker of a final deleted run stay
    /// ([`keep_the_final_repair`]).
    pub const FINAL_REPAIR: FixedRules = FixedRules(4);
    /// A replaced number goes ([`delete_replaced_numbers`]).
    pub const REPLACED_NUMBERS: FixedRules = FixedRules(8);
    /// A deleted run nothing marks as a disfluency stays ([`keep_unmarked_runs`]).
    pub const UNMARKED_RUNS: FixedRules = FixedRules(16);
    /// A deleted repair takes the words from the last copy of the repair's first word
    /// ([`delete_repair_onsets`]).
    pub const REPAIR_ONSETS: FixedRules = FixedRules(32);
    /// A repair that says three or more of the sentence's words again takes the abandoned
    /// phrase from where they were first said ([`delete_restarts`]).
    pub const RESTARTS: FixedRules = FixedRules(64);
    /// A single kept word between two deleted runs, the second holding a repair marker, goes
    /// too ([`delete_islands`]).
    pub const ISLANDS: FixedRules = FixedRules(128);
    /// The words a question starts with before a deleted run and a new question go
    /// ([`delete_false_start_remnants`]).
    pub const REMNANTS: FixedRules = FixedRules(256);
    /// An article left before another determiner across a deletion goes
    /// ([`delete_doubled_determiners`]).
    pub const DETERMINERS: FixedRules = FixedRules(512);
    pub const ALL: FixedRules = FixedRules(1023);
    /// The rules that existed before [`Self::UNMARKED_RUNS`]: what heads that do not name
    /// their rules decide with.
    pub const FIRST_FOUR: FixedRules = FixedRules(15);
    /// The rules that keep meaning rather than trade word errors, which tuning may not drop:
    /// without the replaced-number rule, "in 2011 [erm] 2009" becomes "in 2011 2009", two
    /// numbers side by side that read as one the speaker never said. Without the unmarked-run
    /// rule, a run nothing marks as a disfluency may go because the head is sure of it, and
    /// JFK's comma-less "what your country can do for you ask what you can do" loses its "do":
    /// a rewrite the speaker did not ask for, whatever it saves in word errors.
    pub const ALWAYS: FixedRules = FixedRules(Self::REPLACED_NUMBERS.0 | Self::UNMARKED_RUNS.0);
    pub const NONE: FixedRules = FixedRules(0);
    /// Each rule with its name, in bit order.
    pub const EACH: [(FixedRules, &'static str); 10] = [
        (Self::REPETITIONS, "repetitions stay removed"),
        (Self::COPIES, "copies before runs"),
        (Self::FINAL_REPAIR, "final repair kept"),
        (Self::REPLACED_NUMBERS, "replaced numbers"),
        (Self::UNMARKED_RUNS, "unmarked runs kept"),
        (Self::REPAIR_ONSETS, "repair onsets go"),
        (Self::RESTARTS, "restarted phrases go"),
        (Self::ISLANDS, "islands go"),
        (Self::REMNANTS, "false-start remnants go"),
        (Self::DETERMINERS, "doubled determiners go"),
    ];

    pub fn has(self, rule: FixedRules) -> bool {
        self.0 & rule.0 == rule.0
    }

    pub fn without(self, rule: FixedRules) -> FixedRules {
        FixedRules(self.0 & !rule.0)
    }
}

impl Decision {
    /// What heads trained before the last three settings existed decide with.
    pub const CLASSIC: Decision =
        Decision { threshold: 0.5, switch_cost: 0.0, protected_cost: f32::INFINITY, max_deleted: 0.5, rule_threshold: 0.5, temperature: 1.0, rules: FixedRules::FIRST_FOUR };

    /// The calibrated probability of deletion for a logit of the head.
    pub fn probability(&self, logit: f32) -> f32 {
        1.0 / (1.0 + (-logit / self.temperature).exp())
    }
}

/// What is deleted, from the head's per-word probabilities: the best labelling by Viterbi,
/// where deleting a word costs `-ln p + ln(threshold / (1 - threshold))`, keeping it
/// `-ln(1 - p)`, and every switch between keeping and deleting `switch_cost` (disfluencies
/// are runs of words, so a lone confident-looking deletion inside kept text needs more
/// evidence). Interjections are always deleted. A protected word the rule pass kept costs
/// `protected_cost` more to delete, and is never deleted alone: only inside a run of deleted
/// words (a number or "no" in an abandoned phrase, "the 2015 no 2014"). A sentence where more
/// than `max_deleted` of the words would go keeps the rule pass's decisions. A word the rule
/// pass removed is judged against `rule_threshold` instead of `threshold`.
pub fn decide(probs: &[f32], bits: &[[bool; RULE_FEATURES]], d: Decision) -> Vec<bool> {
    const FORBIDDEN: f32 = 1e9;
    let Decision { threshold, switch_cost, protected_cost, rule_threshold, .. } = d;
    let odds = |t: f32| (t / (1.0 - t)).ln();
    let (bias, rule_bias) = (odds(threshold), odds(rule_threshold));
    let n = probs.len().min(bits.len());
    // cost[i][s], s = 0 keep, 1 delete; back[i][s] = the state of word i - 1 on the best path.
    let mut cost = vec![[0f32; 2]; n];
    let mut back = vec![[0u8; 2]; n];
    for i in 0..n {
        let p = probs[i].clamp(1e-6, 1.0 - 1e-6);
        let [by_rules, filler, protected] = bits[i];
        let mut emit = [-(1.0 - p).ln(), -p.ln() + if by_rules { rule_bias } else { bias }];
        if filler {
            emit[0] = FORBIDDEN;
        } else if protected && !by_rules {
            emit[1] = if protected_cost.is_finite() { emit[1] + protected_cost } else { FORBIDDEN };
        }
        for s in 0..2 {
            if i == 0 {
                cost[i][s] = emit[s];
                continue;
            }
            let stay = cost[i - 1][s];
            // Interjections are removed by rule, not by judgement: no switch cost around them.
            let free = filler || bits[i - 1][1];
            let switch = cost[i - 1][1 - s] + if free { 0.0 } else { switch_cost };
            (cost[i][s], back[i][s]) = if stay <= switch { (stay + emit[s], s as u8) } else { (switch + emit[s], (1 - s) as u8) };
        }
    }
    let mut deleted = vec![false; n];
    let Some(last) = cost.last() else { return deleted };
    let mut s = usize::from(last[1] < last[0]);
    for i in (0..n).rev() {
        deleted[i] = s == 1;
        s = back[i][s] as usize;
    }
    // A protected word goes only with a deleted neighbour that is not an interjection.
    let alone: Vec<usize> = (0..n)
        .filter(|&i| {
            let [by_rules, _, protected] = bits[i];
            let with = |j: Option<usize>| j.is_some_and(|j| j < n && deleted[j] && !bits[j][1]);
            deleted[i] && protected && !by_rules && !with(i.checked_sub(1)) && !with(Some(i + 1))
        })
        .collect();
    for i in alone {
        deleted[i] = false;
    }
    if too_much_deleted(&deleted, bits, d.max_deleted) {
        return bits.iter().take(n).map(|b| b[0]).collect();
    }
    deleted
}


/// A deleted run that ends the sentence and holds a repair marker followed by other words has
/// taken the repair with it ("admitted to Harvard [no Radcliffe]?"): the words after its last
/// marker are what the speaker meant, so they stay.
pub fn keep_the_final_repair(words: &[&str], deleted: &mut [bool], bits: &[[bool; RULE_FEATURES]]) {
    let n = deleted.len().min(words.len()).min(bits.len());
    let mut start = n;
    while start > 0 && deleted[start - 1] {
        start -= 1;
    }
    if start == n || start == 0 {
        return;
    }
    let Some(marker) = (start..n).rev().find(|&i| is_repair_marker(words, i)) else { return };
    let repair: Vec<usize> = (marker + 1..n).filter(|&i| !bits[i][1]).collect();
    // A repair that starts a new question replaces the whole sentence, not a word or two.
    if repair.first().is_some_and(|&i| QUESTION_WORDS.contains(&core_of(words[i]).as_str())) {
        return;
    }
    for i in repair {
        deleted[i] = false;
    }
}


/// Whether word `i` stops a rule from deleting across it: a protected word (a number, a
/// negation, a listed term) or a sentence end.
fn in_the_way(words: &[&str], bits: &[[bool; RULE_FEATURES]], i: usize) -> bool {
    bits[i][2] || ends_sentence(words[i])
}

/// How far before a deleted repair [`delete_repair_onsets`] looks for the repair's first word.
const ONSET_REACH: usize = 3;

/// A deleted run holding a repair marker, followed by a kept word that was also said within
/// three words before the run, ends a correction whose abandoned phrase began at that earlier
/// copy ("in the downloads folder, [no wait] the desktop"; "I want the blue [one, I mean] the
/// red one"): the words from the copy up to the run go too. Never across a sentence end, nor
/// over a protected word (a number, a negation, a listed term).
pub fn delete_repair_onsets(words: &[&str], deleted: &mut [bool], bits: &[[bool; RULE_FEATURES]]) {
    let key: Vec<String> = words.iter().map(|w| core_of(w)).collect();
    let n = deleted.len().min(key.len()).min(bits.len());
    for std::ops::Range { start, end } in true_runs(&deleted[..n]) {
        if end >= n || key[end].is_empty() || !(start..end).any(|i| is_repair_marker(words, i)) {
            continue;
        }
        let Some(j) = (start.saturating_sub(ONSET_REACH)..start).rev().find(|&j| key[j] == key[end]) else { continue };
        if !(j..start).any(|i| in_the_way(words, bits, i)) {
            deleted[j..start].fill(true);
        }
    }
}

/// A single kept word between two deleted runs is the last of an abandoned phrase, left behind
/// by a head that took the words around it, when the first run is the phrase's start and the
/// second its end with the repair marker ("I want [the] blue [one, I mean] the red one" would
/// read "I want blue the red one"; "to [higher income] inequality [or rather] lower income
/// inequality"): it goes too, and the runs become one. Not where the first run holds a repair
/// marker (the word after a correction is the repair: "Asia, [no,] Africa, [rather]"), holds
/// only interjections, words the rule pass removed or cut-off words ("the, [uh,] tentacles, [I
/// mean,]"), or holds the word itself (a restart: "[We need] we [every, wait,] need"); nor
/// where the second run ends the sentence (a trailing marker follows a repair already made).
/// Never a protected word (a number, a negation, a listed term) nor a sentence end.
pub fn delete_islands(words: &[&str], deleted: &mut [bool], bits: &[[bool; RULE_FEATURES]]) {
    let key: Vec<String> = words.iter().map(|w| core_of(w)).collect();
    let n = deleted.len().min(key.len()).min(bits.len());
    let runs = true_runs(&deleted[..n]);
    for pair in runs.windows(2) {
        let (first, second) = (pair[0].clone(), pair[1].clone());
        let island = first.end;
        // The repair follows the second run: a marker that ends the sentence ("the West coast
        // [rather?]") trails a repair already made.
        if second.start != island + 1 || second.end >= n || in_the_way(words, bits, island) || !second.clone().any(|i| is_repair_marker(words, i)) {
            continue;
        }
        let starts_phrase = first.clone().any(|i| is_said(words, &key, bits, i)) && !first.clone().any(|i| is_repair_marker(words, i) || starts_two_word_marker(words, i));
        if starts_phrase && !first.clone().any(|i| key[i] == key[island]) {
            deleted[island] = true;
        }
    }
}

/// The most kept words a question may start with before a deleted run for
/// [`delete_false_start_remnants`] to take them.
const REMNANT_WORDS: usize = 3;

/// A question whose first kept words (three at most) are followed by a deleted run of words
/// the speaker said and then by a question word that starts the question again: those first
/// words are what the head left of the abandoned start ("The budget [report, sorry,] when is it
/// due?" would read "The budget when is it due?"; "Stephen Eildmann [cites or uh] what book of
/// the Bible discusses civil disobedience?"), and they go too. Only in a sentence that ends
/// with a question mark; not where the deleted run starts with a question word itself (the
/// first words are shared: "In [which, or no, make that] what century?"), nor over a question
/// word, a protected word (a number, a negation, a listed term) or a sentence end.
pub fn delete_false_start_remnants(words: &[&str], deleted: &mut [bool], bits: &[[bool; RULE_FEATURES]]) {
    let key: Vec<String> = words.iter().map(|w| core_of(w)).collect();
    let n = deleted.len().min(key.len()).min(bits.len());
    if n == 0 || !words[n - 1].trim_end_matches(['"', '\'', ')']).ends_with('?') {
        return;
    }
    let is_question = |i: usize| QUESTION_WORDS.contains(&key[i].as_str());
    let Some(first) = (0..n).find(|&i| !deleted[i]) else { return };
    let Some(run) = (first..n).find(|&i| deleted[i]) else { return };
    let Some(after) = (run..n).find(|&i| !deleted[i]) else { return };
    let remnant = first..run;
    let said = (run..after).any(|i| is_said(words, &key, bits, i));
    if remnant.len() <= REMNANT_WORDS && said && is_question(after) && !is_question(run) && !remnant.clone().any(|i| is_question(i) || in_the_way(words, bits, i)) {
        deleted[remnant].fill(true);
    }
}

/// Whether word `i` (`key`: the words' cores) is one the speaker said as part of a phrase: not an
/// interjection, a word the rule pass removed, a cut-off word or a mark alone.
fn is_said(words: &[&str], key: &[String], bits: &[[bool; RULE_FEATURES]], i: usize) -> bool {
    !(bits[i][0] || bits[i][1] || is_cut_off(words[i]) || key[i].is_empty())
}

/// A word the speaker broke off ("w-", "t-"), as the recogniser writes it.
fn is_cut_off(word: &str) -> bool {
    word.trim_end_matches([',', '.', '?', '!', ';', ':']).ends_with('-')
}

/// The fewest words a repair must say again, in order, from the earlier phrase to restart it
/// ([`delete_restarts`]).
const RESTART_WORDS: usize = 3;

/// A deleted run holding a repair marker, where the words after it say again at least
/// [`RESTART_WORDS`] words said earlier in the sentence, in order, and then something new,
/// restarts the phrase that began there ("Put it in the shared drive, [no,] actually, put it in
/// my folder"; "Go to the store and get, [no wait,] go to the pharmacy"): the words from that
/// earlier place up to the run go, and so do repair markers kept right after the run
/// ("actually,"), which would otherwise be left alone in the text. The latest such place is
/// taken (the shortest abandoned phrase). Never across a sentence end, nor over a protected
/// word (a number, a negation, a listed term).
pub fn delete_restarts(words: &[&str], deleted: &mut [bool], bits: &[[bool; RULE_FEATURES]]) {
    let key: Vec<String> = words.iter().map(|w| core_of(w)).collect();
    let n = deleted.len().min(key.len()).min(bits.len());
    for std::ops::Range { start, end } in true_runs(&deleted[..n]) {
        if !(start..end).any(|i| is_repair_marker(words, i)) {
            continue;
        }
        // Markers kept right after the run belong to it ("no, actually, ...").
        let mut after = end;
        while after < n && !deleted[after] && is_repair_marker(words, after) && !bits[after][2] {
            after += 1;
        }
        if after >= n || deleted[after] {
            continue;
        }
        // How many words from `j` on the repair says again, in order.
        let same = |j: usize| (0..).take_while(|&k| j + k < start && after + k < n && !key[j + k].is_empty() && key[j + k] == key[after + k]).count();
        let Some((j, same)) = (0..start).rev().map(|j| (j, same(j))).find(|&(_, same)| same >= RESTART_WORDS) else { continue };
        // The repair must say something new after the words it repeats: "the Peterloo
        // massacre what poet wrote ..., [no] the Peterloo massacre?" repeats a phrase, it
        // does not restart one.
        let says_more = (after + same..n).any(|i| !deleted[i] && !key[i].is_empty());
        if says_more && !(j..start).chain(end..after).any(|i| in_the_way(words, bits, i)) {
            deleted[j..start].fill(true);
            deleted[end..after].fill(true);
        }
    }
}

/// Words that mark a deleted run as a repair besides [`REPAIR_MARKERS`] ("scratch that",
/// "or rather", "nope", "oops", "my bad", "I intended", "first tell me").
const MORE_MARKERS: &[&str] = &["scratch", "or", "nope", "oops", "oopsie", "whoops", "ugh", "oh", "bad", "intended", "tell", "correction"];

/// How many words past its own length after a deleted run one of its words may be said again
/// for the run to count as a restart.
const RESTART_REACH: usize = 2;

/// A deleted run that nothing marks as a disfluency stays. A run is marked by an interjection,
/// a repair marker, a cut-off word ("wa- was") or a word the rule pass removed, in it or next
/// to it; by starting the sentence (a false start: "What year, when did ..."); by being
/// followed by a question word (a new question: "Who discovered what was ..."); or by a
/// restart, one of its words said again soon after it ("allowed to transfer allowed to
/// transfer"). Speakers mark what they take back; a deletion without a mark is the head
/// guessing, and a wrong guess changes what was said ("what your country can [do for] you ask
/// what you can do for your country").
pub fn keep_unmarked_runs(words: &[&str], deleted: &mut [bool], bits: &[[bool; RULE_FEATURES]]) {
    let key: Vec<String> = words.iter().map(|w| core_of(w)).collect();
    let n = deleted.len().min(key.len()).min(bits.len());
    let marks = |i: usize| {
        let [by_rules, filler, _] = bits[i];
        by_rules || filler || is_cut_off(words[i]) || REPAIR_MARKERS.contains(&key[i].as_str()) || MORE_MARKERS.contains(&key[i].as_str())
    };
    for std::ops::Range { start, end } in true_runs(&deleted[..n]) {
        let marked = (start.saturating_sub(1)..(end + 1).min(n)).any(marks);
        let new_question = key.get(end).is_some_and(|k| QUESTION_WORDS.contains(&k.as_str()));
        let after = &key[end..(2 * end - start + RESTART_REACH).min(n)];
        let restarted = key[start..end].iter().any(|k| !k.is_empty() && after.contains(k));
        if !(marked || start == 0 || new_question || restarted) {
            deleted[start..end].fill(false);
        }
    }
}

/// The longest copy checked by [`delete_copies_before_runs`].
const MAX_COPY_WORDS: usize = 3;

/// Where a deleted run is followed by the same words that come just before it ("what do
/// [petrologists no] what do ..."), the words before it are the start of the abandoned phrase:
/// they go too, also where some of them are already deleted. Their copy stays right after, so
/// no word is lost; repeated until nothing changes.
pub fn delete_copies_before_runs(words: &[&str], deleted: &mut [bool]) {
    let key: Vec<String> = words.iter().map(|w| core_of(w)).collect();
    let n = deleted.len().min(key.len());
    let mut changed = true;
    while changed {
        changed = false;
        // A run extended backwards only reaches words before it: the later runs stay as found.
        for std::ops::Range { start, end } in true_runs(&deleted[..n]) {
            for k in (1..=MAX_COPY_WORDS).rev() {
                if k > start || end + k > n {
                    continue;
                }
                // Words of the copy that are already deleted still count ("[What] do
                // [petrologists no] what do": "do" goes too).
                let before = start - k..start;
                if before.clone().all(|j| !key[j].is_empty()) && before.clone().any(|j| !deleted[j]) && key[before.clone()] == key[end..end + k] {
                    before.for_each(|j| deleted[j] = true);
                    changed = true;
                    break;
                }
            }
        }
    }
}

/// Whether `deleted` removes more than `max_share` of the words that are not interjections.
pub fn too_much_deleted(deleted: &[bool], bits: &[[bool; RULE_FEATURES]], max_share: f32) -> bool {
    let (mut words, mut gone) = (0usize, 0usize);
    for (d, b) in deleted.iter().zip(bits) {
        if !b[1] {
            words += 1;
            gone += usize::from(*d);
        }
    }
    gone as f32 > max_share * words as f32
}

/// Word ranges tagged in one pass each: sentences (cut after a word ending in `.`, `?` or
/// `!`), none longer than [`MAX_CHUNK_WORDS`].
pub fn chunks(words: &[&str]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, w) in words.iter().enumerate() {
        let ends = w.trim_end_matches(['"', '\'', ')']).ends_with(['.', '?', '!']);
        if ends || i + 1 - start >= MAX_CHUNK_WORDS {
            out.push(start..i + 1);
            start = i + 1;
        }
    }
    if start < words.len() {
        out.push(start..words.len());
    }
    out
}

/// The trained head: which block it reads, the standardisation of the states, two layers and
/// how its probabilities become decisions (see [`decide`]).
#[derive(Clone)]
pub struct TaggerHead {
    pub block: usize,
    pub decision: Decision,
    pub mean: Tensor,
    pub std: Tensor,
    pub w1: Tensor,
    pub b1: Tensor,
    pub w2: Tensor,
    pub b2: Tensor,
    /// Low-rank adapters on the blocks below the head, trained with it (`scrivo train lora`).
    pub adapter: Option<Arc<Adapter>>,
}

/// The head's logits for standardised states `x` (`(rows, features)`), as used both in
/// training (with variables) and at run time.
pub fn head_logits(x: &Tensor, w1: &Tensor, b1: &Tensor, w2: &Tensor, b2: &Tensor) -> candle_core::Result<Tensor> {
    x.matmul(w1)?.broadcast_add(b1)?.relu()?.matmul(w2)?.broadcast_add(b2)?.squeeze(1)
}

impl TaggerHead {
    /// The clean style that ships with Scrivo (the fine-tuned adapter and its head).
    pub fn shipped() -> Result<Self, LlmError> {
        Self::from_tensors(candle_core::safetensors::load_buffer(SHIPPED_HEAD, &Device::Cpu)?, "the shipped head")
    }

    /// The shipped head of the frozen model (no adapter): what the clean adapter started from.
    pub fn frozen() -> Result<Self, LlmError> {
        Self::from_tensors(candle_core::safetensors::load_buffer(FROZEN_HEAD, &Device::Cpu)?, "the frozen-model head")
    }

    /// The head a polishing style runs with: the shipped one for `clean`, its file's for an
    /// adapter, none for `verbatim` (which needs no model).
    pub fn for_style(style: &scrivo_polish::Style) -> Result<Option<Self>, LlmError> {
        Ok(match style {
            scrivo_polish::Style::Clean => Some(Self::shipped()?),
            scrivo_polish::Style::Verbatim => None,
            scrivo_polish::Style::Adapter(path) => Some(Self::load(path)?),
        })
    }

    /// A head saved by [`TaggerHead::save`].
    pub fn load(path: &Path) -> Result<Self, LlmError> {
        let bytes = std::fs::read(path).map_err(|e| LlmError::Io { path: path.into(), source: e })?;
        let tensors = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu)
            .map_err(|e| LlmError::Format { path: path.into(), detail: format!("not a tagger head: {e}") })?;
        Self::from_tensors(tensors, &path.display().to_string())
    }

    fn from_tensors(mut t: HashMap<String, Tensor>, source: &str) -> Result<Self, LlmError> {
        let bad = |detail: String| LlmError::Input(format!("{source}: {detail}"));
        let adapter = Adapter::from_tensors(&mut t, source)?;
        let mut take = |name: &str| t.remove(name).ok_or_else(|| bad(format!("no tensor `{name}`")));
        let meta = take("meta")?.to_vec1::<f32>()?;
        let (mean, std, w1, b1, w2, b2) = (take("mean")?, take("std")?, take("w1")?, take("b1")?, take("w2")?, take("b2")?);
        let (block, decision) = match meta[..] {
            [block, threshold, switch_cost] => (block, Decision { threshold, switch_cost, ..Decision::CLASSIC }),
            [block, threshold, switch_cost, protected_cost, max_deleted] => (block, Decision { threshold, switch_cost, protected_cost, max_deleted, rule_threshold: threshold, ..Decision::CLASSIC }),
            [block, threshold, switch_cost, protected_cost, max_deleted, rule_threshold] => (block, Decision { threshold, switch_cost, protected_cost, max_deleted, rule_threshold, ..Decision::CLASSIC }),
            [block, threshold, switch_cost, protected_cost, max_deleted, rule_threshold, temperature, rules] if rules.fract() == 0.0 && (0.0..=f32::from(FixedRules::ALL.0)).contains(&rules) => {
                (block, Decision { threshold, switch_cost, protected_cost, max_deleted, rule_threshold, temperature, rules: FixedRules(rules as u16) })
            }
            _ => return Err(bad("`meta` must hold [block, threshold, switch cost] and optionally [protected cost, most deleted[, rule threshold[, temperature, fixed rules (0-1023)]]]".into())),
        };
        let Decision { threshold, switch_cost, protected_cost, max_deleted, rule_threshold, temperature, .. } = decision;
        let features = mean.dims1()?;
        let (rows, hidden) = w1.dims2()?;
        if std.dims1()? != features || rows != features + RULE_FEATURES || b1.dims1()? != hidden || w2.dims2()? != (hidden, 1) || b2.dims1()? != 1 {
            return Err(bad(format!("inconsistent shapes: mean {features}, w1 {rows}x{hidden}, w2 {:?}", w2.dims())));
        }
        if !(block >= 1.0 && block.fract() == 0.0 && threshold > 0.0 && threshold < 1.0 && rule_threshold > 0.0 && rule_threshold < 1.0 && switch_cost >= 0.0 && protected_cost >= 0.0 && max_deleted > 0.0 && max_deleted <= 1.0 && temperature > 0.0 && temperature.is_finite()) {
            return Err(bad(format!("bad block {block} or decision settings {decision:?}")));
        }
        if let Some(a) = &adapter {
            if a.last() > block as usize {
                return Err(bad(format!("the adapter covers blocks {}..={}, past the head's block {block}", a.first, a.last())));
            }
        }
        Ok(TaggerHead { block: block as usize, decision, mean, std, w1, b1, w2, b2, adapter: adapter.map(Arc::new) })
    }

    /// Writes the head as safetensors (temporary file, then rename).
    pub fn save(&self, path: &Path) -> Result<(), LlmError> {
        let d = self.decision;
        let meta = Tensor::new(&[self.block as f32, d.threshold, d.switch_cost, d.protected_cost, d.max_deleted, d.rule_threshold, d.temperature, f32::from(d.rules.0)], &Device::Cpu)?;
        let mut tensors: HashMap<String, Tensor> = [
            ("meta", meta),
            ("mean", self.mean.clone()),
            ("std", self.std.clone()),
            ("w1", self.w1.clone()),
            ("b1", self.b1.clone()),
            ("w2", self.w2.clone()),
            ("b2", self.b2.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        if let Some(a) = &self.adapter {
            tensors.extend(a.to_tensors()?);
        }
        let tmp = path.with_extension("safetensors.tmp");
        candle_core::safetensors::save(&tensors, &tmp)?;
        std::fs::rename(&tmp, path).map_err(|e| LlmError::Io { path: path.into(), source: e })
    }

    /// One head from several trained on the same data from the same start (a "model soup"):
    /// their adapters averaged ([`Adapter::average`]), and their heads side by side on the
    /// averaged adapters' states, the logit the mean of theirs (the hidden layers joined, the
    /// output weights divided by their number). The decision settings are the first head's;
    /// `scrivo train tune` chooses them again for the average.
    pub fn average(heads: &[TaggerHead]) -> Result<TaggerHead, LlmError> {
        let Some(first) = heads.first() else { return Err(LlmError::Input("no heads to average".into())) };
        for h in &heads[1..] {
            let same_norm = (&h.mean - &first.mean)?.abs()?.max_all()?.to_scalar::<f32>()? == 0.0 && (&h.std - &first.std)?.abs()?.max_all()?.to_scalar::<f32>()? == 0.0;
            if h.block != first.block || !same_norm || h.adapter.is_some() != first.adapter.is_some() {
                return Err(LlmError::Input(format!(
                    "heads on blocks {} and {} (or with other state standardisation or adapters) cannot be averaged",
                    first.block, h.block
                )));
            }
        }
        let share = 1.0 / heads.len() as f64;
        let cat = |f: fn(&TaggerHead) -> &Tensor, dim: usize, scale: f64| -> Result<Tensor, LlmError> {
            let parts: Vec<Tensor> = heads.iter().map(|h| f(h) * scale).collect::<candle_core::Result<_>>()?;
            Ok(Tensor::cat(&parts, dim)?)
        };
        let b2 = heads.iter().skip(1).try_fold(first.b2.clone(), |sum, h| &sum + &h.b2)?;
        let adapters: Vec<&Adapter> = heads.iter().filter_map(|h| h.adapter.as_deref()).collect();
        Ok(TaggerHead {
            block: first.block,
            decision: first.decision,
            mean: first.mean.clone(),
            std: first.std.clone(),
            w1: cat(|h| &h.w1, 1, 1.0)?,
            b1: cat(|h| &h.b1, 0, 1.0)?,
            w2: cat(|h| &h.w2, 0, share)?,
            b2: (b2 * share)?,
            adapter: if adapters.is_empty() { None } else { Some(Arc::new(Adapter::average(&adapters)?)) },
        })
    }

    /// A fingerprint of the head's weights and adapter: two heads with the same id give the
    /// same prompt prefix and the same decisions.
    pub fn id(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        let d = self.decision;
        (self.block, d.threshold.to_bits(), d.switch_cost.to_bits(), d.protected_cost.to_bits(), d.max_deleted.to_bits(), d.rule_threshold.to_bits(), d.temperature.to_bits(), d.rules).hash(&mut h);
        let mut values = |t: &Tensor| {
            if let Ok(v) = t.flatten_all().and_then(|t| t.to_vec1::<f32>()) {
                v.iter().for_each(|x| x.to_bits().hash(&mut h));
            }
        };
        values(&self.w2);
        values(&self.b1);
        if let Some(a) = &self.adapter {
            a.blocks.iter().flat_map(|b| &b.b_t).for_each(|t| values(&t.narrow(1, 0, 1).unwrap_or_else(|_| t.clone())));
        }
        h.finish()
    }

    /// States of this head's block standardised and joined with the rule bits.
    pub fn inputs(&self, states: &Tensor, rules: &Tensor) -> Result<Tensor, LlmError> {
        let x = states.broadcast_sub(&self.mean)?.broadcast_div(&self.std)?;
        Ok(Tensor::cat(&[x, rules.to_dtype(DType::F32)?], 1)?)
    }

    /// The head's logit for each word (before the temperature).
    pub fn delete_logits(&self, states: &Tensor, rules: &Tensor) -> Result<Vec<f32>, LlmError> {
        Ok(head_logits(&self.inputs(states, rules)?, &self.w1, &self.b1, &self.w2, &self.b2)?.to_vec1::<f32>()?)
    }

    /// The calibrated probability that each word should be deleted.
    pub fn delete_probabilities(&self, states: &Tensor, rules: &Tensor) -> Result<Vec<f32>, LlmError> {
        Ok(self.delete_logits(states, rules)?.into_iter().map(|l| self.decision.probability(l)).collect())
    }
}

/// Polishes with the rule pass, then the tagger.
pub struct TaggerPolisher {
    features: FeatureExtractor,
    head: TaggerHead,
    rules: RulePolisher,
    budget: Duration,
    budget_per_word: Duration,
    /// The prompt prefix of every head used so far, by [`TaggerHead::id`]: swapping back to a
    /// style does not run the prefix again.
    prefixes: HashMap<u64, Cache>,
    /// The base model's run of the prompt prefix (no adapter), as deep as a head has needed:
    /// a new head's prefix runs only its adapted blocks. `None` when this polisher was given
    /// its prefix; made at the first swap then.
    base: Option<BaseRun>,
}

impl TaggerPolisher {
    pub fn new(model: Arc<Model>, tokenizer: Arc<TextTokenizer>, head: TaggerHead, rules: RulePolisher) -> Result<Self, LlmError> {
        Self::with_prefix(model, tokenizer, head, rules, None)
    }

    /// Like [`TaggerPolisher::new`], reusing the prompt prefix of an earlier tagger on the same
    /// model and head ([`TaggerPolisher::prefix`]): a tagger made per utterance then costs
    /// nothing before its text.
    pub fn with_prefix(model: Arc<Model>, tokenizer: Arc<TextTokenizer>, head: TaggerHead, rules: RulePolisher, prefix: Option<Cache>) -> Result<Self, LlmError> {
        Self::reusing(model, tokenizer, head, rules, prefix, None)
    }

    /// Like [`TaggerPolisher::with_prefix`], also reusing the base model's run of the prompt
    /// prefix from an earlier tagger on the same model ([`TaggerPolisher::base`]): without
    /// `prefix`, only the blocks from the head's adapter on run.
    pub fn reusing(model: Arc<Model>, tokenizer: Arc<TextTokenizer>, head: TaggerHead, rules: RulePolisher, prefix: Option<Cache>, base: Option<BaseRun>) -> Result<Self, LlmError> {
        Self::check_fits(&model, &head)?;
        let mut base = base;
        let prefix = match prefix {
            Some(p) => p,
            None => Self::prefix_from_base(&model, &tokenizer, &mut base, &head)?,
        };
        let features = Self::features_for(model, tokenizer, &head, prefix)?;
        let prefixes = HashMap::from([(head.id(), features.prefix().clone())]);
        Ok(TaggerPolisher { features, head, rules, budget: DEFAULT_BUDGET, budget_per_word: BUDGET_PER_WORD, prefixes, base })
    }

    /// `head`'s prompt prefix from `base`, the base model's run of it (made first when absent
    /// or of other tokens), which keeps any blocks it had to run further.
    fn prefix_from_base(model: &Model, tokenizer: &TextTokenizer, base: &mut Option<BaseRun>, head: &TaggerHead) -> Result<Cache, LlmError> {
        let ids = tokenizer.encode(PREFIX)?;
        let run = match base {
            Some(b) if b.ids() == ids.as_slice() => b,
            other => other.insert(model.base_run(&ids, 0)?),
        };
        model.prefix_after(run, head.block, head.adapter.as_deref())
    }

    /// Whether `head` and its adapter fit `model`.
    fn check_fits(model: &Model, head: &TaggerHead) -> Result<(), LlmError> {
        if head.block > model.loaded_blocks() || head.mean.dims1()? != 2 * model.config().hidden {
            return Err(LlmError::Input(format!("the tagger head reads block {} of width {}, which this model does not have", head.block, head.mean.dims1()? / 2)));
        }
        if let Some(a) = &head.adapter {
            let c = model.config();
            let widths_match = a.blocks.iter().all(|b| b.a_t[0].dims2().ok() == Some((c.hidden, a.rank)) && b.b_t[6].dims2().ok() == Some((a.rank, c.hidden)));
            if !widths_match {
                return Err(LlmError::Input(format!("the tagger's adapter does not fit this model ({} wide)", c.hidden)));
            }
        }
        Ok(())
    }

    /// The feature extractor for `head` on `model` with its prompt prefix's cache.
    fn features_for(model: Arc<Model>, tokenizer: Arc<TextTokenizer>, head: &TaggerHead, prefix: Cache) -> Result<FeatureExtractor, LlmError> {
        FeatureExtractor::adapted(model, tokenizer, vec![head.block], head.adapter.clone(), Some(prefix))
    }

    /// Swaps in another head and its adapter (another style) on the same loaded model: the
    /// base weights are untouched. Unless this polisher has used the head before or `prefix`
    /// is the one an earlier polisher computed for it ([`TaggerPolisher::prefix`]), the prompt
    /// prefix runs again, and only through the adapted blocks: the blocks below the adapter
    /// are the base model's, kept from the first head's prefix.
    pub fn set_head(&mut self, head: TaggerHead, prefix: Option<Cache>) -> Result<(), LlmError> {
        let id = head.id();
        let (model, tokenizer) = (Arc::clone(&self.features.model), Arc::clone(&self.features.tokenizer));
        Self::check_fits(&model, &head)?;
        let prefix = match prefix.or_else(|| self.prefixes.get(&id).cloned()) {
            Some(p) => p,
            None => Self::prefix_from_base(&model, &tokenizer, &mut self.base, &head)?,
        };
        self.features = Self::features_for(model, tokenizer, &head, prefix)?;
        self.prefixes.insert(id, self.features.prefix().clone());
        self.head = head;
        Ok(())
    }

    /// The head in use.
    pub fn head(&self) -> &TaggerHead {
        &self.head
    }

    /// The prompt prefix's cache.
    pub fn prefix(&self) -> Cache {
        self.features.prefix().clone()
    }

    /// The base model's run of the prompt prefix, when this polisher has one.
    pub fn base(&self) -> Option<BaseRun> {
        self.base.clone()
    }

    /// Sets the time budget per text, `base + per_word * words`: sentences not reached within
    /// it keep the rule output.
    pub fn with_budget(mut self, base: Duration, per_word: Duration) -> Self {
        (self.budget, self.budget_per_word) = (base, per_word);
        self
    }

    /// The head's logit for each word, `None` for the sentences not reached within the time
    /// budget (they keep the rule output), or an error from the model.
    fn logits(&self, words: &[&str], bits: &[[bool; RULE_FEATURES]]) -> Result<Vec<Option<f32>>, LlmError> {
        let mut logits = vec![None; words.len()];
        let started = Instant::now();
        let budget = self.budget + self.budget_per_word * words.len() as u32;
        for range in chunks(words) {
            if started.elapsed() > budget {
                tracing::warn!(?budget, "polishing past its time budget: the rest keeps the rule output");
                break;
            }
            let chunk = sentence_logits(&self.features, &self.head, &words[range.clone()], &bits[range.clone()])?;
            for (i, l) in range.zip(chunk) {
                logits[i] = Some(l);
            }
        }
        Ok(logits)
    }
}

/// The head's logit for each word of one sentence (a range from [`chunks`]), read by
/// `features` (which must be the head's block, with its adapter).
pub fn sentence_logits(features: &FeatureExtractor, head: &TaggerHead, words: &[&str], bits: &[[bool; RULE_FEATURES]]) -> Result<Vec<f32>, LlmError> {
    let states = features.word_states(words)?.remove(0);
    head.delete_logits(&states, &rule_tensor(bits)?)
}

/// Which words to keep, from the head's logits (`None`: the word's sentence keeps the rule
/// pass's decisions), the rule pass's view of each word and the spans of the repetitions it
/// removed: per sentence, [`decide`] and the sentence rules ([`delete_copies_before_runs`],
/// [`keep_the_final_repair`]); then over the whole text, the repetitions and
/// [`delete_replaced_numbers`], each where `d.rules` has it. The run-time path and the tuning
/// of the settings both decide through here.
pub fn keep_words(words: &[&str], bits: &[[bool; RULE_FEATURES]], logits: &[Option<f32>], repetitions: &[std::ops::Range<usize>], d: Decision, is_number: impl Fn(&str) -> bool) -> Vec<bool> {
    let n = words.len().min(bits.len()).min(logits.len());
    let mut keep: Vec<bool> = bits[..n].iter().map(|[by_rules, ..]| !by_rules).collect();
    for range in chunks(&words[..n]) {
        let Some(probs) = logits[range.clone()].iter().map(|l| l.map(|l| d.probability(l))).collect::<Option<Vec<f32>>>() else { continue };
        let mut deleted = decide(&probs, &bits[range.clone()], d);
        if d.rules.has(FixedRules::ISLANDS) {
            delete_islands(&words[range.clone()], &mut deleted, &bits[range.clone()]);
        }
        if d.rules.has(FixedRules::REMNANTS) {
            delete_false_start_remnants(&words[range.clone()], &mut deleted, &bits[range.clone()]);
        }
        if d.rules.has(FixedRules::RESTARTS) {
            delete_restarts(&words[range.clone()], &mut deleted, &bits[range.clone()]);
        }
        if d.rules.has(FixedRules::REPAIR_ONSETS) {
            delete_repair_onsets(&words[range.clone()], &mut deleted, &bits[range.clone()]);
        }
        if d.rules.has(FixedRules::COPIES) {
            delete_copies_before_runs(&words[range.clone()], &mut deleted);
        }
        if d.rules.has(FixedRules::UNMARKED_RUNS) {
            keep_unmarked_runs(&words[range.clone()], &mut deleted, &bits[range.clone()]);
        }
        if d.rules.has(FixedRules::FINAL_REPAIR) {
            keep_the_final_repair(&words[range.clone()], &mut deleted, &bits[range.clone()]);
        }
        for (i, del) in range.zip(deleted) {
            keep[i] = !del;
        }
    }
    // A repetition the rule pass removed (the same word or two said twice in a row) stays
    // removed: the rules find those exactly, and the head is unsure of some ("the the").
    if d.rules.has(FixedRules::REPETITIONS) {
        for r in repetitions {
            let end = r.end.min(n);
            keep[r.start.min(end)..end].iter_mut().for_each(|k| *k = false);
        }
    }
    if d.rules.has(FixedRules::REPLACED_NUMBERS) {
        delete_replaced_numbers(&words[..n], &mut keep, is_number);
    }
    if d.rules.has(FixedRules::DETERMINERS) {
        delete_doubled_determiners(&words[..n], &mut keep);
    }
    keep_alternatives(&words[..n], &mut keep);
    join_marker_words(&words[..n], &mut keep);
    keep
}

/// The word before the last of a two-word repair marker goes with it: "Tell John, I [mean]
/// Peter" would read "Tell John, I Peter", and "[make] that" is no better. Always, like
/// [`keep_alternatives`]: half a marker is never what the speaker said.
pub fn join_marker_words(words: &[&str], keep: &mut [bool]) {
    for i in 1..words.len().min(keep.len()) {
        if starts_two_word_marker(words, i - 1) && !keep[i] && keep[i - 1] {
            keep[i - 1] = false;
        }
    }
}

/// A question word, "or" and the same word again offer alternatives ("Is this sustainable? Why
/// or why not?"); cutting the first two reverses the question ("Why not?"). They stay, always:
/// a meaning rule like [`delete_replaced_numbers`], not a word-error trade for the tuning.
pub fn keep_alternatives(words: &[&str], keep: &mut [bool]) {
    for i in 0..words.len().min(keep.len()).saturating_sub(2) {
        let w = core_of(words[i]);
        if QUESTION_WORDS.contains(&w.as_str()) && core_of(words[i + 1]) == "or" && core_of(words[i + 2]) == w && keep[i + 2] {
            keep[i] = true;
            keep[i + 1] = true;
        }
    }
}

/// Determiners a kept article may not stand before ([`delete_doubled_determiners`]).
const DETERMINERS: &[&str] = &["a", "an", "the", "this", "that", "these", "those", "my", "your", "his", "her", "its", "our", "their"];

/// A kept article whose next kept word is another determiner, with words deleted between them,
/// is what is left of the abandoned phrase: "a [junior minister, no,] the second minister" would
/// read "a the second minister", "an [invertebrate, sorry,] a lysosome" "an a lysosome". It goes;
/// the determiner of the repair stays. English never puts an article before another determiner.
pub fn delete_doubled_determiners(words: &[&str], keep: &mut [bool]) {
    let n = words.len().min(keep.len());
    let kept: Vec<usize> = (0..n).filter(|&i| keep[i]).collect();
    for pair in kept.windows(2) {
        let (i, j) = (pair[0], pair[1]);
        let article = ["a", "an", "the"].contains(&core_of(words[i]).as_str()) && !ends_sentence(words[i]);
        if j > i + 1 && article && DETERMINERS.contains(&core_of(words[j]).as_str()) {
            keep[i] = false;
        }
    }
}

/// The spans of the repetitions the rule pass removed.
pub fn repetitions(draft: &Polished) -> Vec<std::ops::Range<usize>> {
    draft.edits.iter().filter(|e| e.kind == EditKind::Repetition).map(|e| e.start..e.end).collect()
}

/// A kept number whose next kept word is another number, with words deleted between them, is
/// the one the speaker replaced ("in 2011, erm, 2009"; "the three no two"): left in, the two
/// would read as one number ("three two").
pub fn delete_replaced_numbers(words: &[&str], keep: &mut [bool], is_number: impl Fn(&str) -> bool) {
    let kept: Vec<usize> = (0..keep.len().min(words.len())).filter(|&i| keep[i]).collect();
    for pair in kept.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if b > a + 1 && is_number(words[a]) && is_number(words[b]) {
            keep[a] = false;
        }
    }
    // With a word or two of unit between, where a repair was deleted: "30 seconds [actually
    // make it] 60" would read "30 seconds 60"; the number and its unit go.
    for k in 0..kept.len() {
        for units in 1..=UNIT_WORDS {
            let Some(&b) = kept.get(k + units + 1) else { break };
            let (a, last_unit) = (kept[k], kept[k + units]);
            let unit_words = &kept[k + 1..=k + units];
            // A repair marker, not just any deletion: "3 pm [or] 4 pm" offers two times.
            let repaired = (last_unit + 1..b).any(|i| is_repair_marker(words, i));
            let contiguous = unit_words.iter().enumerate().all(|(m, &u)| u == a + m + 1);
            if is_number(words[a]) && is_number(words[b]) && contiguous && repaired && unit_words.iter().all(|&u| !is_number(words[u])) {
                keep[a] = false;
                unit_words.iter().for_each(|&u| keep[u] = false);
            }
        }
    }
}

/// The most words of unit between a replaced number and the repair ([`delete_replaced_numbers`]).
const UNIT_WORDS: usize = 2;

impl Polisher for TaggerPolisher {
    fn polish(&mut self, raw: &str) -> Result<Polished, PolishError> {
        let draft = self.rules.polish(raw)?;
        let words: Vec<&str> = raw.split_whitespace().collect();
        if words.is_empty() {
            return Ok(draft);
        }
        let bits = rule_bits(&self.rules, &words, &draft);
        let logits = match self.logits(&words, &bits) {
            Ok(logits) => logits,
            Err(e) => {
                tracing::warn!("polishing model fell back to the rules: {e}");
                return Ok(draft);
            }
        };
        let d = self.head.decision;
        let keep = keep_words(&words, &bits, &logits, &repetitions(&draft), d, |w| self.rules.is_number(w));
        let confidence = logits.iter().map(|l| l.map(|l| d.probability(l))).collect();
        Ok(Polished { text: render_kept(raw, &keep), edits: removed_runs(&words, &keep, &draft.edits), confidence })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: [bool; RULE_FEATURES] = [false, false, false];

    fn at(threshold: f32, switch_cost: f32) -> Decision {
        Decision { threshold, switch_cost, protected_cost: f32::INFINITY, max_deleted: 1.0, rule_threshold: threshold, ..Decision::CLASSIC }
    }

    #[test]
    fn decisions_follow_the_probabilities_without_a_switch_cost() {
        let bits = [PLAIN; 4];
        assert_eq!(decide(&[0.9, 0.2, 0.7, 0.1], &bits, at(0.5, 0.0)), vec![true, false, true, false]);
        // A higher threshold keeps the 0.7.
        assert_eq!(decide(&[0.9, 0.2, 0.7, 0.1], &bits, at(0.8, 0.0)), vec![true, false, false, false]);
    }

    #[test]
    fn a_switch_cost_removes_lone_deletions_and_fills_gaps() {
        let bits = [PLAIN; 5];
        assert_eq!(decide(&[0.1, 0.1, 0.6, 0.1, 0.1], &bits, at(0.5, 2.0)), vec![false; 5]);
        assert_eq!(decide(&[0.95, 0.95, 0.45, 0.95, 0.1, 0.1], &[PLAIN; 6], at(0.5, 2.0)), vec![true, true, true, true, false, false]);
    }

    #[test]
    fn fillers_always_go_and_protected_words_stay() {
        let filler = [false, true, false];
        let protected = [false, false, true];
        let protected_but_corrected = [true, false, true];
        assert_eq!(decide(&[0.0, 0.0, 0.99], &[PLAIN, filler, protected], at(0.5, 1.0)), vec![false, true, false]);
        assert_eq!(decide(&[0.99, 0.1, 0.1], &[protected_but_corrected, PLAIN, PLAIN], at(0.5, 1.0)), vec![true, false, false]);
    }

    #[test]
    fn a_protected_word_goes_only_inside_a_deleted_run_at_its_cost() {
        let protected = [false, false, true];
        let d = Decision { protected_cost: 1.0, ..at(0.5, 1.0) };
        // "in 2015 no in 2014 ...": the abandoned number goes with its phrase.
        let bits = [PLAIN, protected, protected, PLAIN, protected, PLAIN, PLAIN, PLAIN, PLAIN];
        let probs = [0.97, 0.97, 0.97, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05];
        assert_eq!(decide(&probs, &bits, d), vec![true, true, true, false, false, false, false, false, false]);
        // Never alone, however sure the head is.
        assert_eq!(decide(&[0.05, 0.999, 0.05, 0.05], &[PLAIN, protected, PLAIN, PLAIN], Decision { protected_cost: 0.0, ..at(0.5, 0.0) }), vec![false; 4]);
        // And not at all with an infinite cost.
        assert_eq!(decide(&probs, &bits, at(0.5, 1.0))[1..3], [false, false]);
    }

    #[test]
    fn a_sentence_losing_too_much_keeps_the_rule_decisions() {
        let by_rules = [true, false, false];
        let bits = [by_rules, PLAIN, PLAIN, PLAIN];
        let probs = [0.9, 0.9, 0.9, 0.1];
        assert_eq!(decide(&probs, &bits, Decision { max_deleted: 0.5, ..at(0.5, 0.0) }), vec![true, false, false, false]);
        assert_eq!(decide(&probs, &bits, Decision { max_deleted: 0.8, ..at(0.5, 0.0) }), vec![true, true, true, false]);
    }

    #[test]
    fn an_average_of_heads_gives_the_mean_of_their_logits() {
        let d = Device::Cpu;
        let (features, hidden) = (6, 5);
        let head = |seed: f32| TaggerHead {
            block: 18,
            decision: Decision::CLASSIC,
            mean: Tensor::zeros(features, DType::F32, &d).expect("mean"),
            std: Tensor::ones(features, DType::F32, &d).expect("std"),
            w1: (Tensor::randn(0f32, 1.0, (features + RULE_FEATURES, hidden), &d).expect("w1") * f64::from(seed)).expect("scale"),
            b1: Tensor::randn(0f32, 1.0, hidden, &d).expect("b1"),
            w2: Tensor::randn(0f32, 1.0, (hidden, 1), &d).expect("w2"),
            b2: Tensor::new(&[seed], &d).expect("b2"),
            adapter: None,
        };
        let (one, two) = (head(1.0), head(2.0));
        let mean = TaggerHead::average(&[one.clone(), two.clone()]).expect("average");
        assert_eq!(mean.w1.dims(), [features + RULE_FEATURES, 2 * hidden]);
        let states = Tensor::randn(0f32, 1.0, (4, features), &d).expect("states");
        let rules = Tensor::zeros((4, RULE_FEATURES), DType::F32, &d).expect("rules");
        let logits = |h: &TaggerHead| h.delete_logits(&states, &rules).expect("logits");
        for ((a, b), m) in logits(&one).iter().zip(logits(&two)).zip(logits(&mean)) {
            assert!(((a + b) / 2.0 - m).abs() < 1e-4, "{a} {b} -> {m}");
        }
        let elsewhere = TaggerHead { block: 12, ..head(1.0) };
        assert!(TaggerHead::average(&[one, elsewhere]).is_err(), "heads on other blocks cannot be averaged");
    }

    #[test]
    fn half_a_marker_never_stays() {
        let run = |text: &str, gone: &[usize]| {
            let words: Vec<&str> = text.split(' ').collect();
            let mut keep = vec![true; words.len()];
            gone.iter().for_each(|&i| keep[i] = false);
            join_marker_words(&words, &mut keep);
            words.iter().zip(&keep).filter(|(_, k)| **k).map(|(w, _)| *w).collect::<Vec<_>>().join(" ")
        };
        assert_eq!(run("Tell John, I mean Peter, to call", &[3]), "Tell John, Peter, to call");
        assert_eq!(run("three make that four", &[2]), "three four");
        // "I" stays where "mean" does, or where it is not a marker's.
        assert_eq!(run("I mean it", &[]), "I mean it");
        assert_eq!(run("so I think um we go", &[3]), "so I think we go");
    }

    /// What `rule` keeps of `text` (words split at spaces) when the words at `gone` were
    /// deleted; a word with a digit is protected.
    fn after_rule(rule: fn(&[&str], &mut [bool], &[[bool; RULE_FEATURES]]), text: &str, gone: &[usize]) -> String {
        let words: Vec<&str> = text.split(' ').collect();
        let mut deleted = vec![false; words.len()];
        gone.iter().for_each(|&i| deleted[i] = true);
        let bits: Vec<[bool; RULE_FEATURES]> = words.iter().map(|w| [false, ["um", "uh"].contains(&core_of(w).as_str()), w.chars().any(|c| c.is_ascii_digit())]).collect();
        rule(&words, &mut deleted, &bits);
        words.iter().zip(&deleted).filter(|(_, d)| !**d).map(|(w, _)| *w).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn a_deleted_repair_takes_the_phrase_from_the_copy_of_its_first_word() {
        let check = |text: &str, gone: &[usize], want: &str| assert_eq!(after_rule(delete_repair_onsets, text, gone), want);
        check("it is in the downloads folder, no wait, the desktop", &[6, 7], "it is in the desktop");
        // Words of the phrase already deleted count: "I want [the] blue [one, I mean] the red one".
        check("I want the blue one, I mean the red one", &[2, 4, 5, 6], "I want the red one");
        // No marker in the run, no copy within reach, a sentence end or a protected word in
        // the way: nothing more goes.
        check("it connects the Posterior Rhine, um the Rhine Valley", &[4, 5], "it connects the Posterior the Rhine Valley");
        check("in a big old Warsaw no in the Cold War", &[5], "in a big old Warsaw in the Cold War");
        check("Go in. Then Warsaw no in the war", &[3, 4], "Go in. Then in the war");
        check("the 1989 Warsaw no the Cold War", &[2, 3], "the 1989 the Cold War");
    }

    #[test]
    fn a_word_left_between_an_abandoned_phrase_and_its_marker_goes() {
        let check = |text: &str, gone: &[usize], want: &str| assert_eq!(after_rule(delete_islands, text, gone), want);
        check("I want the blue one, I mean the red one.", &[2, 4, 5, 6], "I want the red one.");
        check("What leads to higher income inequality or rather lower income inequality?", &[3, 4, 6, 7], "What leads to lower income inequality?");
        // The first run holds a marker: the word after it is the repair.
        check("Meet on Tuesday, no, Wednesday, I mean, at noon.", &[2, 3, 5, 6], "Meet on Wednesday, at noon.");
        // The first run holds interjections or cut-off words only.
        check("the, uh, tentacles, I mean, are on", &[1, 3, 4], "the, tentacles, are on");
        check("Which t- two, I mean, groups", &[1, 3, 4], "Which two, groups");
        // A restart: the word was said in the first run.
        check("We need we every, wait, need to go.", &[0, 1, 3, 4], "we need to go.");
        // Two words between the runs, no marker in the second, a protected word or a sentence
        // end: nothing more goes.
        check("I want the blue big one, I mean the red one.", &[2, 5, 6, 7], "I want blue big the red one.");
        check("I want the blue one, um, the red one.", &[2, 4, 5], "I want blue the red one.");
        check("Set the 7 one, I mean the 8 one.", &[1, 3, 4, 5], "Set 7 the 8 one.");
        check("It was the end. No, go on.", &[1, 2, 4], "It end. go on.");
    }

    #[test]
    fn what_a_question_kept_of_its_abandoned_start_goes() {
        let check = |text: &str, gone: &[usize], want: &str| assert_eq!(after_rule(delete_false_start_remnants, text, gone), want);
        check("The budget report, sorry, when is it due?", &[2, 3], "when is it due?");
        check("Stephen Eildmann cites or uh what book discusses it?", &[2, 3, 4], "what book discusses it?");
        // The deleted run starts with a question word: the first words are the question's own.
        check("In which, or no make that, what century was it made?", &[1, 2, 3, 4, 5], "In what century was it made?");
        // Interjections alone, no question word after the run, not a question, more than
        // three words first, a protected word or a question word among them: they stay.
        check("Tell me, um, who is coming?", &[2], "Tell me, who is coming?");
        check("Ask Sarah, no wait, Tom is coming?", &[2, 3], "Ask Sarah, Tom is coming?");
        check("Ask Sarah, no wait, who is coming.", &[2, 3], "Ask Sarah, who is coming.");
        check("Can you ask Sarah, no wait, who is coming?", &[4, 5], "Can you ask Sarah, who is coming?");
        check("In 2019, no wait, who won?", &[2, 3], "In 2019, who won?");
    }

    #[test]
    fn an_article_left_before_the_repairs_determiner_goes() {
        let check = |text: &str, gone: &[usize], want: &str| {
            let words: Vec<&str> = text.split(' ').collect();
            let mut keep = vec![true; words.len()];
            gone.iter().for_each(|&i| keep[i] = false);
            delete_doubled_determiners(&words, &mut keep);
            assert_eq!(words.iter().zip(&keep).filter(|(_, k)| **k).map(|(w, _)| *w).collect::<Vec<_>>().join(" "), want);
        };
        check("Parliament elects a junior minister, no, the second minister.", &[3, 4, 5], "Parliament elects the second minister.");
        check("It fuses with an invertebrate, sorry, a lysosome.", &[4, 5], "It fuses with a lysosome.");
        // Side by side as said, or not an article first: they stay.
        check("Is this, um, the one?", &[2], "Is this, the one?");
        check("Pick the, uh, a blue one.", &[2], "Pick a blue one.");
        check("the this", &[], "the this");
    }

    #[test]
    fn a_repair_that_restarts_the_phrase_takes_it_from_where_it_began() {
        let check = |text: &str, gone: &[usize], want: &str| assert_eq!(after_rule(delete_restarts, text, gone), want);
        check("Go to the store and get, no wait, go to the pharmacy.", &[0, 5, 6, 7], "go to the pharmacy.");
        // A marker kept right after the run goes with it.
        check("Put it in the shared drive, no, actually, put it in my folder.", &[5, 6], "put it in my folder.");
        // The latest place: only the phrase that was abandoned.
        check("We need to ship it, we need to, no, we need to test it.", &[8], "We need to ship it, we need to test it.");
        // One word again is not a restart; no marker, a sentence end or a protected word in
        // the way: nothing more goes.
        check("Put it in the drive, no, in my folder.", &[5], "Put it in the drive, in my folder.");
        check("Put it in the drive, um, put it in my folder.", &[5], "Put it in the drive, put it in my folder.");
        check("Put it in. Then the drive, no, put it in my folder.", &[6], "Put it in. Then the drive, put it in my folder.");
        check("Set it to 7, no wait, set it to 8.", &[4, 5], "Set it to 7, set it to 8.");
        // Two words again are too few; a repair that only says the phrase again adds nothing.
        check("Send the report, no, send the memo.", &[3], "Send the report, send the memo.");
        // An earlier place that repeats enough words is found past a later one that does not
        // ("put it on" repeats two).
        check("Put it in the box, put it on, no, put it in my folder.", &[8], "put it in my folder.");
        check("After the Peterloo massacre what poet wrote it, no, the Peterloo massacre?", &[8], "After the Peterloo massacre what poet wrote it, the Peterloo massacre?");
    }

    #[test]
    fn the_copy_before_a_deleted_run_goes_with_it() {
        let words: Vec<&str> = "What do petrologists no what do unstable isotope studies indicate?".split(' ').collect();
        let mut deleted = vec![false; words.len()];
        (deleted[2], deleted[3]) = (true, true);
        delete_copies_before_runs(&words, &mut deleted);
        assert_eq!(deleted, [true, true, true, true, false, false, false, false, false, false]);
        // Part of the copy already deleted: the rest goes with it.
        let mut deleted = vec![true, false, true, true, false, false, false, false, false, false];
        delete_copies_before_runs(&words, &mut deleted);
        assert_eq!(deleted, [true, true, true, true, false, false, false, false, false, false]);
        // No copy after the run: nothing more goes.
        let words: Vec<&str> = "move it to Tuesday no Wednesday".split(' ').collect();
        let mut deleted = vec![false, false, false, true, true, false];
        delete_copies_before_runs(&words, &mut deleted);
        assert_eq!(deleted, [false, false, false, true, true, false]);
    }

    #[test]
    fn alternatives_stay_whole() {
        let words: Vec<&str> = "Is this sustainable? Why or why not?".split_whitespace().collect();
        let mut keep = vec![true, true, true, false, false, true, true];
        keep_alternatives(&words, &mut keep);
        assert!(keep.iter().all(|k| *k));
        // A restart to another question word is no pair of alternatives.
        let words: Vec<&str> = "When or what did they rely on?".split_whitespace().collect();
        let mut keep = vec![false, false, true, true, true, true, true];
        keep_alternatives(&words, &mut keep);
        assert_eq!(keep, vec![false, false, true, true, true, true, true]);
    }

    #[test]
    fn a_replaced_number_goes_when_its_replacement_follows_a_deletion() {
        let is_number = |w: &str| w.chars().all(|c| c.is_ascii_digit()) || w == "three" || w == "two";
        let words: Vec<&str> = "in 2011 erm 2009 and 2010".split(' ').collect();
        let mut keep = vec![true, true, false, true, true, true];
        delete_replaced_numbers(&words, &mut keep, is_number);
        assert_eq!(keep, [true, false, false, true, true, true], "2009 and 2010 were never side by side");
        let words: Vec<&str> = "the three two".split(' ').collect();
        let mut keep = vec![true; 3];
        delete_replaced_numbers(&words, &mut keep, is_number);
        assert_eq!(keep, [true; 3], "nothing was deleted between them");
        // A number and its unit before a deleted repair go; not without a repair marker in the
        // deletion, nor with more than two words between.
        let run = |text: &str, gone: &[usize]| {
            let words: Vec<&str> = text.split(' ').collect();
            let mut keep = vec![true; words.len()];
            gone.iter().for_each(|&i| keep[i] = false);
            delete_replaced_numbers(&words, &mut keep, is_number);
            words.iter().zip(&keep).filter(|(_, k)| **k).map(|(w, _)| *w).collect::<Vec<_>>().join(" ")
        };
        assert_eq!(run("set it to 30 seconds, actually make it 60", &[5, 6, 7]), "set it to 60");
        assert_eq!(run("we need 3 boxes, no, 4 boxes", &[4]), "we need 4 boxes");
        assert_eq!(run("at 3 pm um 4 people came", &[3]), "at 3 pm 4 people came");
        assert_eq!(run("3 big red boxes no 4", &[4]), "3 big red boxes 4");
        assert_eq!(run("at 3 pm or 4 pm", &[3]), "at 3 pm 4 pm");
    }

    #[test]
    fn a_deleted_run_nothing_marks_stays() {
        let sentence = "ask not what your country can do for you ask what you can do for your country";
        let words: Vec<&str> = sentence.split(' ').collect();
        let mut deleted = vec![false; words.len()];
        (deleted[6], deleted[7]) = (true, true);
        keep_unmarked_runs(&words, &mut deleted, &vec![PLAIN; words.len()]);
        assert!(deleted.iter().all(|d| !d), "{deleted:?}");
        // A marker in the run or next to it marks it.
        let words: Vec<&str> = "move it to Tuesday no Wednesday".split(' ').collect();
        let mut deleted = vec![false, false, false, true, true, false];
        keep_unmarked_runs(&words, &mut deleted, &[PLAIN; 6]);
        assert_eq!(deleted, [false, false, false, true, true, false]);
        // So does an interjection or a word the rule pass removed beside it.
        let words: Vec<&str> = "move it to Tuesday uh Wednesday".split(' ').collect();
        let mut deleted = vec![false, false, false, true, false, false];
        let mut bits = [PLAIN; 6];
        bits[4] = [true, true, false];
        keep_unmarked_runs(&words, &mut deleted, &bits);
        assert_eq!(deleted, [false, false, false, true, false, false]);
        // A restart: a word of the run said again right after it.
        let words: Vec<&str> = "so is the capital of is the largest city".split(' ').collect();
        let mut deleted = vec![false, true, true, true, true, false, false, false, false];
        keep_unmarked_runs(&words, &mut deleted, &[PLAIN; 9]);
        assert_eq!(deleted, [false, true, true, true, true, false, false, false, false]);
        // A cut-off word, a false start and a new question mark their runs.
        for (sentence, run) in [("the layers o- of sand", 2..3), ("What year When did it happen", 0..2), ("so who discovered what was found", 1..3)] {
            let words: Vec<&str> = sentence.split(' ').collect();
            let mut deleted = vec![false; words.len()];
            deleted[run.clone()].fill(true);
            let before = deleted.clone();
            keep_unmarked_runs(&words, &mut deleted, &vec![PLAIN; words.len()]);
            assert_eq!(deleted, before, "{sentence}");
        }
    }

    #[test]
    fn a_repair_at_the_end_of_a_sentence_stays() {
        let words: Vec<&str> = "admitted to Harvard no Radcliffe?".split(' ').collect();
        let mut deleted = vec![false, false, false, true, true];
        keep_the_final_repair(&words, &mut deleted, &[PLAIN; 5]);
        assert_eq!(deleted, [false, false, false, true, false]);
        // A final run without a marker stays deleted.
        let mut deleted = vec![false, false, true, true, true];
        let words: Vec<&str> = "admitted to Harvard uh Radcliffe?".split(' ').collect();
        keep_the_final_repair(&words, &mut deleted, &[PLAIN; 5]);
        assert_eq!(deleted, [false, false, true, true, true]);
    }

    #[test]
    fn chunks_follow_sentences_and_the_length_cap() {
        let text = "one two. three? four five";
        let words: Vec<&str> = text.split_whitespace().collect();
        assert_eq!(chunks(&words), vec![0..2, 2..3, 3..5]);
        let long: Vec<String> = (0..MAX_CHUNK_WORDS + 5).map(|i| format!("w{i}")).collect();
        let long: Vec<&str> = long.iter().map(String::as_str).collect();
        assert_eq!(chunks(&long), vec![0..MAX_CHUNK_WORDS, MAX_CHUNK_WORDS..MAX_CHUNK_WORDS + 5]);
    }
}
