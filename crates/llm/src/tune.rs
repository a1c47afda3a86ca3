//! Choosing the tagger's settings on held-out folds of the training pairs, never on a test set.
//!
//! Every held-out pair is judged once through the run-time path (the rule pass, then the
//! head's logit for each word, sentence by sentence). Then, without the model:
//! - **calibration**: one temperature for the logits, the one that minimises the negative
//!   log-likelihood of the word labels, so a probability of 0.9 is right about nine times in
//!   ten (checked on folds: fitted on four, measured on the fifth);
//! - **decision settings**: every setting of a grid is run through [`keep_words`] on every
//!   pair and scored as `scrivo eval polish` scores a test set (word errors against the fluent
//!   side, content words lost, inserted words). The chosen setting has the fewest word errors
//!   among those that lose at most a budget of the content words of every source (each data
//!   file with enough content words is held to it separately);
//! - **the budget**: chosen by k-fold cross-validation so that the content lost on the folds
//!   left out, where the settings were not chosen, stays within the target with room for its
//!   sampling error: the largest budget whose out-of-fold loss has a 90% upper confidence
//!   bound within the target;
//! - **the fixed rules** (in the caller, `scrivo train tune`): backward elimination, each round
//!   dropping the rule whose absence the left-out folds like best, while one does as well
//!   without it; the rules that keep meaning are never dropped.

use std::collections::HashMap;
use std::ops::Range;

use scrivo_eval::polish::{content_words_lost, inserted_words};
use scrivo_eval::WordErrors;
use scrivo_polish::{render_kept, Polisher, RulePolisher};

use crate::tagger::{chunks, keep_words, repetitions, rule_bits, sentence_logits, Decision, FeatureExtractor, FixedRules, TaggerHead, RULE_FEATURES};
use crate::train::keep_labels;
use crate::LlmError;

/// The head's logit for each word of `words`, a sentence (see [`chunks`]) at a time, as the
/// polisher computes them.
pub fn word_logits(features: &FeatureExtractor, head: &TaggerHead, words: &[&str], bits: &[[bool; RULE_FEATURES]]) -> Result<Vec<f32>, LlmError> {
    let mut logits = Vec::with_capacity(words.len());
    for range in chunks(words) {
        logits.extend(sentence_logits(features, head, &words[range.clone()], &bits[range])?);
    }
    Ok(logits)
}

/// One held-out pair as the tuner sees it.
pub struct Judged {
    /// Which data file it came from (an index into the caller's list).
    pub source: usize,
    pub input: String,
    pub fluent: String,
    pub bits: Vec<[bool; RULE_FEATURES]>,
    pub logits: Vec<Option<f32>>,
    pub repetitions: Vec<Range<usize>>,
    /// The input's words that the rule pass takes for numbers.
    pub numbers: Vec<String>,
    /// Per word: whether the fluent side leaves it out.
    pub labels: Vec<bool>,
}

impl Judged {
    /// The pair with the head's logits (from [`word_logits`] or a saved run).
    pub fn new(source: usize, input: &str, fluent: &str, logits: Vec<f32>, rules: &mut RulePolisher) -> Result<Self, LlmError> {
        let words: Vec<&str> = input.split_whitespace().collect();
        if logits.len() != words.len() {
            return Err(LlmError::Input(format!("{} logits for {} words of {input:?}", logits.len(), words.len())));
        }
        let draft = rules.polish(input).map_err(|e| LlmError::Input(e.to_string()))?;
        Ok(Judged {
            source,
            input: input.to_owned(),
            fluent: fluent.to_owned(),
            bits: rule_bits(rules, &words, &draft),
            logits: logits.into_iter().map(Some).collect(),
            repetitions: repetitions(&draft),
            numbers: words.iter().filter(|w| rules.is_number(w)).map(|w| (*w).to_owned()).collect(),
            labels: keep_labels(&words, fluent).into_iter().map(|keep| !keep).collect(),
        })
    }

    /// Which words the polisher would keep with `d`.
    pub fn keep(&self, d: Decision) -> Vec<bool> {
        let words: Vec<&str> = self.input.split_whitespace().collect();
        keep_words(&words, &self.bits, &self.logits, &self.repetitions, d, |w| self.numbers.iter().any(|n| n == w))
    }

    /// What the polisher would write with `d`.
    pub fn output(&self, d: Decision) -> String {
        render_kept(&self.input, &self.keep(d))
    }

    /// The pair's figures under `d`.
    pub fn tally(&self, d: Decision) -> Tally {
        self.tally_kept(&self.keep(d))
    }

    /// The pair's figures when `keep` says which words stay.
    pub fn tally_kept(&self, keep: &[bool]) -> Tally {
        let output = render_kept(&self.input, keep);
        let errors = WordErrors::english(&self.fluent, &output);
        let (lost, content) = content_words_lost(&self.input, &self.fluent, &output);
        Tally { errors: errors.errors(), reference: errors.reference_words, lost, content, inserted: inserted_words(&self.input, &output), pairs: 1 }
    }
}

/// Figures summed over pairs, as `scrivo eval polish` reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub errors: usize,
    pub reference: usize,
    pub lost: usize,
    pub content: usize,
    pub inserted: usize,
    pub pairs: usize,
}

impl Tally {
    pub fn wer(&self) -> f64 {
        self.errors as f64 / self.reference.max(1) as f64
    }

    pub fn content_lost(&self) -> f64 {
        self.lost as f64 / self.content.max(1) as f64
    }
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, o: Tally) {
        self.errors += o.errors;
        self.reference += o.reference;
        self.lost += o.lost;
        self.content += o.content;
        self.inserted += o.inserted;
        self.pairs += o.pairs;
    }
}

/// The temperature that minimises the negative log-likelihood of the labels of `pairs`
/// (golden-section search on its logarithm), over the words that are not interjections.
pub fn fit_temperature(pairs: &[&Judged]) -> f32 {
    let samples: Vec<(f32, bool)> = pairs
        .iter()
        .flat_map(|j| j.logits.iter().zip(&j.labels).zip(&j.bits).filter(|(_, b)| !b[1]).filter_map(|((l, &y), _)| l.map(|l| (l, y))))
        .collect();
    let nll = |log_t: f64| -> f64 {
        let t = log_t.exp();
        samples
            .iter()
            .map(|&(l, y)| {
                let z = f64::from(l) / t;
                // -ln sigmoid(z) for y, -ln sigmoid(-z) otherwise, computed stably.
                let s = if y { -z } else { z };
                s.max(0.0) + (-s.abs()).exp().ln_1p()
            })
            .sum()
    };
    let (mut a, mut b) = ((0.25f64).ln(), 4f64.ln());
    let g = (5f64.sqrt() - 1.0) / 2.0;
    for _ in 0..60 {
        let (c, d) = (b - g * (b - a), a + g * (b - a));
        if nll(c) < nll(d) {
            b = d;
        } else {
            a = c;
        }
    }
    ((a + b) / 2.0).exp() as f32
}

/// Expected calibration error (10 equal-width bins of the probability of deletion) of
/// `pairs`' non-interjection words at `temperature`.
pub fn calibration_error(pairs: &[&Judged], temperature: f32) -> f64 {
    let mut bins = [(0f64, 0f64, 0usize); 10];
    let d = Decision { temperature, ..Decision::CLASSIC };
    for j in pairs {
        for ((l, &y), b) in j.logits.iter().zip(&j.labels).zip(&j.bits) {
            let Some(l) = l.filter(|_| !b[1]) else { continue };
            let p = f64::from(d.probability(l));
            let bin = &mut bins[((p * 10.0) as usize).min(9)];
            bin.0 += p;
            bin.1 += f64::from(u8::from(y));
            bin.2 += 1;
        }
    }
    let n: usize = bins.iter().map(|b| b.2).sum();
    // An empty bin adds nothing: its sums are both zero.
    bins.iter().map(|&(p, y, _)| (p - y).abs()).sum::<f64>() / n.max(1) as f64
}

/// The decision settings tried: thresholds, switch costs, protected-word costs, the largest
/// shares deleted and the thresholds for the rules' words.
pub fn grid(temperature: f32, rules: FixedRules) -> Vec<Decision> {
    let mut out = Vec::new();
    for t in 6..20 {
        for c in 0..7 {
            for protected_cost in [f32::INFINITY, 2.0, 1.0] {
                for max_deleted in [0.5, 0.7, 0.9] {
                    for rule_threshold in [0.35, 0.7, 0.9] {
                        out.push(Decision { threshold: t as f32 * 0.05, switch_cost: c as f32 * 0.5, protected_cost, max_deleted, rule_threshold, temperature, rules });
                    }
                }
            }
        }
    }
    out
}

/// Every pair's figures under every setting: `[setting][pair]`, on up to four threads. Most
/// settings keep the same words of a pair, so each pair's figures are computed once per
/// distinct choice of words.
pub fn score(pairs: &[Judged], settings: &[Decision]) -> Vec<Vec<Tally>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
    let per = settings.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = settings
            .chunks(per)
            .map(|part| {
                s.spawn(move || {
                    let mut seen: Vec<HashMap<Vec<bool>, Tally>> = vec![HashMap::new(); pairs.len()];
                    part.iter()
                        .map(|&d| pairs.iter().zip(seen.iter_mut()).map(|(j, seen)| *seen.entry(j.keep(d)).or_insert_with_key(|keep| j.tally_kept(keep))).collect::<Vec<_>>())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    })
}

/// The fewest content words a source needs before the budget applies to it on its own (fewer
/// would make its share too noisy to judge).
pub const MIN_SOURCE_CONTENT: usize = 300;

/// Per source, the tally of the pairs in `members` under one setting's per-pair figures.
pub fn by_source(pairs: &[Judged], figures: &[Tally], members: &[usize], sources: usize) -> Vec<Tally> {
    let mut out = vec![Tally::default(); sources];
    for &i in members {
        out[pairs[i].source] += figures[i];
    }
    out
}

/// The index of the setting with the fewest word errors over `members` among those whose
/// every source (with at least [`MIN_SOURCE_CONTENT`] content words) loses at most `budget`
/// of its content words and which insert nothing; `None` when none does.
pub fn choose(pairs: &[Judged], scores: &[Vec<Tally>], members: &[usize], sources: usize, budget: f64) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    for (k, figures) in scores.iter().enumerate() {
        let per = by_source(pairs, figures, members, sources);
        let within = per.iter().all(|t| t.content < MIN_SOURCE_CONTENT || t.content_lost() <= budget) && per.iter().all(|t| t.inserted == 0);
        let errors: usize = per.iter().map(|t| t.errors).sum();
        if within && best.is_none_or(|(_, e)| errors < e) {
            best = Some((k, errors));
        }
    }
    best.map(|(k, _)| k)
}

/// The figures on each left-out fold of settings chosen on the others, summed per source.
pub fn out_of_fold(pairs: &[Judged], scores: &[Vec<Tally>], folds: usize, sources: usize, budget: f64) -> Option<Vec<Tally>> {
    let mut total = vec![Tally::default(); sources];
    for f in 0..folds {
        let (left, rest): (Vec<usize>, Vec<usize>) = (0..pairs.len()).partition(|&i| i % folds == f);
        let k = choose(pairs, scores, &rest, sources, budget)?;
        for (t, add) in total.iter_mut().zip(by_source(pairs, &scores[k], &left, sources)) {
            *t += add;
        }
    }
    Some(total)
}

/// The most content lost by any source big enough to be judged alone.
pub fn worst_loss(per_source: &[Tally]) -> f64 {
    per_source.iter().filter(|t| t.content >= MIN_SOURCE_CONTENT).map(Tally::content_lost).fold(0.0, f64::max)
}

/// The one-sided 90% upper confidence bound (normal approximation to the binomial) of the
/// content lost by the worst source big enough to be judged alone: the budget must hold on
/// unseen text, not only on the folds, so the folds' figure has to leave room for its own
/// sampling error.
pub fn worst_loss_bound(per_source: &[Tally]) -> f64 {
    const Z90: f64 = 1.2816;
    per_source
        .iter()
        .filter(|t| t.content >= MIN_SOURCE_CONTENT)
        .map(|t| {
            let p = t.content_lost();
            p + Z90 * (p * (1.0 - p) / t.content as f64).sqrt()
        })
        .fold(0.0, f64::max)
}

/// All sources together.
pub fn pooled(per_source: &[Tally]) -> Tally {
    let mut all = Tally::default();
    per_source.iter().for_each(|&t| all += t);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(input: &str, fluent: &str, logits: &[f32]) -> Judged {
        Judged::new(0, input, fluent, logits.to_vec(), &mut RulePolisher::english()).expect("judged")
    }

    #[test]
    fn the_fitted_temperature_undoes_an_overconfident_head() {
        // Logits of +-4 that are right three times in four: calibrated, +-4 / T ~ ln 3.
        let mut pairs = Vec::new();
        for i in 0..40 {
            let l = if i % 4 != 0 { 4.0 } else { -4.0 };
            pairs.push(judged("Send report", "report", &[l, -l]));
        }
        let refs: Vec<&Judged> = pairs.iter().collect();
        let t = fit_temperature(&refs);
        assert!((4.0 / t - 3f32.ln()).abs() < 0.05, "temperature {t}");
        assert!(calibration_error(&refs, t) < calibration_error(&refs, 1.0));
    }

    #[test]
    fn tallies_score_like_the_evaluation() {
        let j = judged("Send it to Anna no to Maria", "Send it to Maria", &[-5.0, -5.0, 5.0, 5.0, 5.0, -5.0, -5.0]);
        let d = Decision { threshold: 0.5, switch_cost: 0.0, max_deleted: 0.9, ..Decision::CLASSIC };
        assert_eq!(j.output(d), "Send it to Maria");
        let t = j.tally(d);
        assert_eq!((t.errors, t.lost, t.inserted), (0, 0, 0));
        // Deleting everything the head is unsure of loses "Maria".
        let all = judged("Send it to Anna no to Maria", "Send it to Maria", &[-5.0, -5.0, 5.0, 5.0, 5.0, -5.0, 5.0]);
        assert_eq!(all.tally(d).lost, 1);
    }

    #[test]
    fn the_chosen_setting_keeps_every_source_within_the_budget() {
        let pairs = vec![judged("a b c", "a b c", &[-5.0, -5.0, -5.0])];
        // Setting 0 makes fewer errors but loses content; setting 1 loses none.
        let lossy = Tally { errors: 0, reference: 3, lost: 400, content: 1000, inserted: 0, pairs: 1 };
        let safe = Tally { errors: 2, reference: 3, lost: 0, content: 1000, inserted: 0, pairs: 1 };
        let scores = vec![vec![lossy], vec![safe]];
        assert_eq!(choose(&pairs, &scores, &[0], 1, 0.01), Some(1));
        assert_eq!(choose(&pairs, &scores, &[0], 1, 0.5), Some(0));
    }
}
