//! Training the tagger head on (disfluent, fluent) pairs: word labels by alignment, the frozen
//! model's states as features, a one-hidden-layer head trained with AdamW, the block and the
//! deletion threshold chosen on a held-out part of the training pairs. Seeded and
//! deterministic: the same pairs, options and seed give the same head.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use scrivo_polish::{Polisher, RulePolisher};

use crate::tagger::{decide, head_logits, rule_bits, rule_tensor, Decision, FeatureExtractor, TaggerHead, RULE_FEATURES};
use crate::LlmError;

/// Lower case, letters, digits and inner apostrophes only: how words are compared.
fn norm(word: &str) -> String {
    word.chars().filter(|c| c.is_alphanumeric() || *c == '\'').collect::<String>().trim_matches('\'').to_lowercase()
}

/// Which words of `disfluent` the fluent text keeps: a longest common subsequence of the
/// normalised words that matches each fluent word as late as possible, so a false start
/// ("what do petrologists no what do isotopes show") is what goes, not its repair.
pub fn keep_labels(disfluent: &[&str], fluent: &str) -> Vec<bool> {
    let d: Vec<String> = disfluent.iter().map(|w| norm(w)).collect();
    let f: Vec<String> = fluent.split_whitespace().map(norm).filter(|w| !w.is_empty()).collect();
    let (n, m) = (d.len(), f.len());
    // lcs[i][j]: longest common subsequence of d[i..] and f[j..].
    let mut lcs = vec![vec![0u16; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if !d[i].is_empty() && d[i] == f[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let mut keep = vec![false; n];
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if lcs[i + 1][j] == lcs[i][j] {
            i += 1; // dropping d[i] loses nothing: match later
        } else if d[i] == f[j] {
            keep[i] = true;
            i += 1;
            j += 1;
        } else {
            j += 1;
        }
    }
    keep
}

/// Features and labels of many pairs: one row per input word.
pub struct Dataset {
    pub blocks: Vec<usize>,
    /// Per block, `(rows, 2 * hidden)`.
    pub states: Vec<Tensor>,
    /// `(rows, RULE_FEATURES)`.
    pub rules: Tensor,
    /// 1 where the word should be deleted.
    pub deleted: Vec<f32>,
    /// The pair each row came from.
    pub pair: Vec<u32>,
}

impl Dataset {
    /// Runs the model over every pair. `progress(done)` is called after each pair.
    pub fn extract(extractor: &FeatureExtractor, rules: &RulePolisher, pairs: &[(String, String)], mut progress: impl FnMut(usize)) -> Result<Dataset, LlmError> {
        let mut rules = rules.clone();
        let blocks = extractor.blocks().to_vec();
        let mut states: Vec<Vec<Tensor>> = vec![Vec::new(); blocks.len()];
        let (mut bits, mut deleted, mut pair) = (Vec::new(), Vec::new(), Vec::new());
        for (k, (disfluent, fluent)) in pairs.iter().enumerate() {
            let words: Vec<&str> = disfluent.split_whitespace().collect();
            if words.is_empty() {
                continue;
            }
            let draft = rules.polish(disfluent).map_err(|e| LlmError::Input(e.to_string()))?;
            for (slot, s) in states.iter_mut().zip(extractor.word_states(&words)?) {
                slot.push(s);
            }
            bits.extend(rule_bits(&rules, &words, &draft));
            deleted.extend(keep_labels(&words, fluent).into_iter().map(|keep| if keep { 0.0 } else { 1.0 }));
            pair.extend(std::iter::repeat_n(k as u32, words.len()));
            progress(k + 1);
        }
        let states = states.iter().map(|s| Tensor::cat(s, 0)).collect::<Result<Vec<_>, _>>()?;
        Ok(Dataset { blocks, states, rules: rule_tensor(&bits)?, deleted, pair })
    }

    /// Only the states of `blocks` (all of them must be present).
    pub fn only_blocks(mut self, blocks: &[usize]) -> Result<Dataset, LlmError> {
        let mut states = Vec::new();
        for b in blocks {
            let k = self.blocks.iter().position(|x| x == b).ok_or_else(|| LlmError::Input(format!("block {b} is not among the saved blocks {:?}", self.blocks)))?;
            states.push(self.states[k].clone());
        }
        self.blocks = blocks.to_vec();
        self.states = states;
        Ok(self)
    }

    /// `other`'s rows after these (its pairs numbered after these pairs); both must hold the
    /// same blocks.
    pub fn append(mut self, other: Dataset) -> Result<Dataset, LlmError> {
        if self.blocks != other.blocks {
            return Err(LlmError::Input(format!("feature sets of blocks {:?} and {:?} cannot be joined", self.blocks, other.blocks)));
        }
        let offset = self.pair.iter().max().map_or(0, |m| m + 1);
        self.states = self.states.iter().zip(&other.states).map(|(a, b)| Tensor::cat(&[a, b], 0)).collect::<Result<_, _>>()?;
        self.rules = Tensor::cat(&[&self.rules, &other.rules], 0)?;
        self.deleted.extend(other.deleted);
        self.pair.extend(other.pair.into_iter().map(|p| p + offset));
        Ok(self)
    }

    pub fn rows(&self) -> usize {
        self.deleted.len()
    }

    /// Saves the features (safetensors), so that heads can be trained again without the model.
    pub fn save(&self, path: &Path) -> Result<(), LlmError> {
        let device = Device::Cpu;
        let mut t: HashMap<String, Tensor> = HashMap::new();
        for (b, s) in self.blocks.iter().zip(&self.states) {
            t.insert(format!("block.{b}"), s.clone());
        }
        t.insert("rules".into(), self.rules.clone());
        t.insert("deleted".into(), Tensor::new(self.deleted.as_slice(), &device)?);
        t.insert("pair".into(), Tensor::new(self.pair.as_slice(), &device)?);
        let tmp = path.with_extension("tmp");
        candle_core::safetensors::save(&t, &tmp)?;
        std::fs::rename(&tmp, path).map_err(|e| LlmError::Io { path: path.into(), source: e })
    }

    /// Features saved by [`Dataset::save`].
    pub fn load(path: &Path) -> Result<Dataset, LlmError> {
        let bad = |detail: String| LlmError::Format { path: path.into(), detail };
        let mut t = candle_core::safetensors::load(path, &Device::Cpu).map_err(|e| bad(format!("not a feature file: {e}")))?;
        let mut blocks: Vec<usize> = t.keys().filter_map(|k| k.strip_prefix("block.")?.parse().ok()).collect();
        blocks.sort_unstable();
        let states = blocks.iter().map(|b| t.remove(&format!("block.{b}")).ok_or_else(|| bad(format!("no block {b}")))).collect::<Result<Vec<_>, _>>()?;
        let mut take = |name: &str| t.remove(name).ok_or_else(|| bad(format!("no tensor `{name}`")));
        let (rules, deleted, pair) = (take("rules")?, take("deleted")?.to_vec1::<f32>()?, take("pair")?.to_vec1::<u32>()?);
        if states.iter().any(|s| s.dims().first() != Some(&deleted.len())) || rules.dims() != [deleted.len(), RULE_FEATURES] || pair.len() != deleted.len() {
            return Err(bad("the tensors disagree on the number of rows".into()));
        }
        Ok(Dataset { blocks, states, rules, deleted, pair })
    }
}

/// How to train a head.
#[derive(Debug, Clone, Copy)]
pub struct TrainOptions {
    pub hidden: usize,
    pub epochs: usize,
    pub batch: usize,
    pub learning_rate: f64,
    pub weight_decay: f64,
    pub seed: u64,
    /// Every `holdout`-th pair is held out to choose the block and the threshold.
    pub holdout: u32,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions { hidden: 256, epochs: 12, batch: 256, learning_rate: 1e-3, weight_decay: 0.01, seed: 7, holdout: 10 }
    }
}

/// How much worse deleting a word that should stay is than keeping one that should go: the
/// first loses content, the second only leaves a disfluency in.
pub const WRONG_DELETION_WEIGHT: f64 = 3.0;

/// How a head did on the held-out rows.
#[derive(Debug, Clone, Copy)]
pub struct HeldOut {
    pub block: usize,
    pub rows: usize,
    pub decision: Decision,
    /// Wrong decisions per row, wrong deletions weighted by [`WRONG_DELETION_WEIGHT`].
    pub weighted_error: f64,
    pub precision: f64,
    pub recall: f64,
    /// The epoch whose weights were kept (lowest held-out loss), and that loss.
    pub best_epoch: usize,
    pub held_out_loss: f64,
}

/// A seeded generator (splitmix64): initial weights and the batch order.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    pub(crate) fn symmetric(&mut self) -> f32 {
        ((self.next() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    pub(crate) fn shuffle(&mut self, v: &mut [u32]) {
        for i in (1..v.len()).rev() {
            v.swap(i, (self.next() % (i as u64 + 1)) as usize);
        }
    }
}

/// Numerically stable binary cross-entropy on logits.
pub(crate) fn bce_with_logits(logits: &Tensor, targets: &Tensor) -> candle_core::Result<Tensor> {
    let softplus = (logits.abs()?.neg()?.exp()? + 1.0)?.log()?;
    (logits.relu()? - (logits * targets)?)?.add(&softplus)?.mean_all()
}

/// Trains one head per block on the rows of pairs not held out, and returns the one that
/// decides the held-out rows best, with every block's figures.
pub fn train(data: &Dataset, options: TrainOptions, mut log: impl FnMut(&str)) -> Result<(TaggerHead, Vec<HeldOut>), LlmError> {
    let device = Device::Cpu;
    let holdout = options.holdout.max(2);
    let (train_rows, held_rows): (Vec<u32>, Vec<u32>) = (0..data.rows() as u32).partition(|&r| data.pair[r as usize] % holdout != 0);
    if train_rows.is_empty() || held_rows.is_empty() {
        return Err(LlmError::Input(format!("{} rows are too few to train and hold out", data.rows())));
    }
    let pick = |rows: &[u32], t: &Tensor| t.index_select(&Tensor::new(rows, &device)?, 0);
    let targets = Tensor::new(data.deleted.as_slice(), &device)?;
    let (train_y, held_y) = (pick(&train_rows, &targets)?, pick(&held_rows, &targets)?);
    let held_labels: Vec<f32> = held_rows.iter().map(|&r| data.deleted[r as usize]).collect();
    let held_pairs: Vec<u32> = held_rows.iter().map(|&r| data.pair[r as usize]).collect();
    let all_bits = data.rules.to_vec2::<f32>()?;
    let held_bits: Vec<[bool; RULE_FEATURES]> = held_rows.iter().map(|&r| std::array::from_fn(|k| all_bits[r as usize][k] > 0.5)).collect();
    let (train_rules, held_rules) = (pick(&train_rows, &data.rules)?, pick(&held_rows, &data.rules)?);
    let mut best: Option<(TaggerHead, HeldOut)> = None;
    let mut figures = Vec::new();
    for (&block, states) in data.blocks.iter().zip(&data.states) {
        let train_x = pick(&train_rows, states)?;
        let mean = train_x.mean(0)?;
        let std = (train_x.broadcast_sub(&mean)?.sqr()?.mean(0)? + 1e-5)?.sqrt()?;
        let scaffold = TaggerHead { block, decision: Decision::CLASSIC, mean, std, w1: Tensor::zeros(1, DType::F32, &device)?, b1: Tensor::zeros(1, DType::F32, &device)?, w2: Tensor::zeros(1, DType::F32, &device)?, b2: Tensor::zeros(1, DType::F32, &device)?, adapter: None };
        let x = scaffold.inputs(&train_x, &train_rules)?;
        let features = x.dims2()?.1;
        let mut rng = Rng(options.seed ^ block as u64);
        let mut init = |rows: usize, cols: usize| -> Result<Var, LlmError> {
            let scale = (1.0 / rows as f32).sqrt();
            let values: Vec<f32> = (0..rows * cols).map(|_| rng.symmetric() * scale).collect();
            Ok(Var::from_tensor(&Tensor::from_vec(values, (rows, cols), &device)?)?)
        };
        let (w1, w2) = (init(features, options.hidden)?, init(options.hidden, 1)?);
        let (b1, b2) = (Var::zeros(options.hidden, DType::F32, &device)?, Var::zeros(1, DType::F32, &device)?);
        let params = ParamsAdamW { lr: options.learning_rate, weight_decay: options.weight_decay, ..ParamsAdamW::default() };
        let mut opt = AdamW::new(vec![w1.clone(), b1.clone(), w2.clone(), b2.clone()], params)?;
        let mut order: Vec<u32> = (0..train_rows.len() as u32).collect();
        let held_x = scaffold.inputs(&pick(&held_rows, states)?, &held_rules)?;
        let mut kept: Option<(usize, f64, [Tensor; 4])> = None;
        for epoch in 0..options.epochs {
            rng.shuffle(&mut order);
            let (mut sum, mut batches) = (0.0, 0);
            for batch in order.chunks(options.batch.max(1)) {
                let idx = Tensor::new(batch, &device)?;
                let logits = head_logits(&x.index_select(&idx, 0)?, &w1, &b1, &w2, &b2)?;
                let loss = bce_with_logits(&logits, &train_y.index_select(&idx, 0)?)?;
                opt.backward_step(&loss)?;
                sum += loss.to_scalar::<f32>()? as f64;
                batches += 1;
            }
            let held_loss = bce_with_logits(&head_logits(&held_x, &w1, &b1, &w2, &b2)?, &held_y)?.to_scalar::<f32>()? as f64;
            log(&format!("block {block} epoch {}/{}: loss {:.4}, held-out {held_loss:.4}", epoch + 1, options.epochs, sum / batches.max(1) as f64));
            if kept.as_ref().is_none_or(|(_, best, _)| held_loss < *best) {
                let snapshot = [w1.as_tensor().copy()?, b1.as_tensor().copy()?, w2.as_tensor().copy()?, b2.as_tensor().copy()?];
                kept = Some((epoch + 1, held_loss, snapshot));
            }
        }
        let Some((best_epoch, held_out_loss, [w1, b1, w2, b2])) = kept else { return Err(LlmError::Input("no epochs to train".into())) };
        let head = TaggerHead { w1, b1, w2, b2, ..scaffold };
        let probs = head.delete_probabilities(&pick(&held_rows, states)?, &held_rules)?;
        let (decision, weighted_error, precision, recall) = tune_decisions(&probs, &held_labels, &held_bits, &held_pairs, &[], Objective::Weighted);
        let figure = HeldOut { block, rows: held_rows.len(), decision, weighted_error, precision, recall, best_epoch, held_out_loss };
        log(&format!("block {block}: held-out weighted error {weighted_error:.4} with {decision:?} (precision {precision:.3}, recall {recall:.3}; epoch {best_epoch})"));
        figures.push(figure);
        if best.as_ref().is_none_or(|(_, b)| weighted_error < b.weighted_error) {
            best = Some((TaggerHead { decision, ..head }, figure));
        }
    }
    let (head, _) = best.ok_or_else(|| LlmError::Input("no blocks to train on".into()))?;
    Ok((head, figures))
}

/// The protected-word costs tried (infinite: never deleted unless the rule pass did).
const PROTECTED_COSTS: [f32; 5] = [f32::INFINITY, 4.0, 2.0, 1.0, 0.0];
/// The largest shares of a sentence the tagger may delete that are tried.
const MAX_DELETED: [f32; 5] = [0.5, 0.6, 0.7, 0.8, 0.9];
/// The thresholds tried for the words the rule pass removed.
const RULE_THRESHOLDS: [f32; 5] = [0.2, 0.35, 0.5, 0.7, 0.9];

/// What the decision settings are chosen for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Objective {
    /// The fewest wrong decisions, a wrong deletion counted [`WRONG_DELETION_WEIGHT`] times.
    Weighted,
    /// The fewest wrong decisions (as word errors count them) among the settings that delete
    /// at most this share of the content words to keep, in the pairs that need more than the
    /// rule pass (the must-not-lose-content bound, held out).
    ContentBudget(f64),
}

/// Whether a word carries content (not one of the closed-class words the measures leave out).
pub fn is_content(word: &str) -> bool {
    scrivo_eval::words_english(word).iter().any(|w| !scrivo_eval::polish::STOP_WORDS.contains(&w.as_str()))
}

/// The decision settings (threshold in steps of 0.05, switch cost in steps of 0.5, the
/// protected-word cost, the largest share deleted and the rules' words' threshold from [`PROTECTED_COSTS`],
/// [`MAX_DELETED`] and [`RULE_THRESHOLDS`]) best for `objective` on held-out rows (`content`: per row, whether the word
/// carries content; only [`Objective::ContentBudget`] reads it), decided a pair at a time as
/// at run time: `(settings, weighted error, precision, recall)` of deletions.
pub(crate) fn tune_decisions(probs: &[f32], deleted: &[f32], bits: &[[bool; RULE_FEATURES]], pairs: &[u32], content: &[bool], objective: Objective) -> (Decision, f64, f64, f64) {
    let mut groups = Vec::new();
    let mut start = 0;
    for i in 1..=pairs.len() {
        if i == pairs.len() || pairs[i] != pairs[start] {
            groups.push(start..i);
            start = i;
        }
    }
    // The pairs that need the tagger: a word to delete that the rule pass kept.
    let needs: Vec<bool> = groups.iter().map(|g| g.clone().any(|i| deleted[i] > 0.5 && !bits[i][0])).collect();
    let mut best = (Decision::CLASSIC, f64::INFINITY, 0.0, 0.0);
    let mut best_score = f64::INFINITY;
    for t_step in 4..20 {
        for c_step in 0..9 {
            for protected_cost in PROTECTED_COSTS {
                for (max_deleted, rule_threshold) in MAX_DELETED.into_iter().flat_map(|m| RULE_THRESHOLDS.map(|r| (m, r))) {
                    let d = Decision { threshold: t_step as f32 * 0.05, switch_cost: c_step as f32 * 0.5, protected_cost, max_deleted, rule_threshold, ..Decision::CLASSIC };
                    let (mut tp, mut fp, mut fneg, mut lost, mut kept) = (0usize, 0usize, 0usize, 0usize, 0usize);
                    for (g, &needs) in groups.iter().zip(&needs) {
                        for (i, del) in g.clone().zip(decide(&probs[g.clone()], &bits[g.clone()], d)) {
                            let y = deleted[i] > 0.5;
                            match (del, y) {
                                (true, true) => tp += 1,
                                (true, false) => fp += 1,
                                (false, true) => fneg += 1,
                                _ => {}
                            }
                            if needs && !y && content.get(i).copied().unwrap_or(false) {
                                kept += 1;
                                lost += usize::from(del);
                            }
                        }
                    }
                    let error = (WRONG_DELETION_WEIGHT * fp as f64 + fneg as f64) / probs.len().max(1) as f64;
                    let score = match objective {
                        Objective::Weighted => error,
                        Objective::ContentBudget(budget) if lost as f64 > budget * kept.max(1) as f64 => f64::INFINITY,
                        Objective::ContentBudget(_) => (fp + fneg) as f64,
                    };
                    if score < best_score {
                        best_score = score;
                        best = (d, error, tp as f64 / (tp + fp).max(1) as f64, tp as f64 / (tp + fneg).max(1) as f64);
                    }
                }
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deleted(disfluent: &str, fluent: &str) -> Vec<String> {
        let words: Vec<&str> = disfluent.split_whitespace().collect();
        let keep = keep_labels(&words, fluent);
        words.iter().zip(keep).filter(|(_, k)| !k).map(|(w, _)| w.to_string()).collect()
    }

    #[test]
    fn labels_delete_the_false_start_not_the_repair() {
        assert_eq!(
            deleted("What do petrologists no what do unstable isotope studies indicate?", "What do unstable isotope studies indicate?"),
            vec!["What", "do", "petrologists", "no"]
        );
        assert_eq!(deleted("move it to Tuesday, no, Wednesday", "Move it to Wednesday."), vec!["Tuesday,", "no,"]);
        assert_eq!(deleted("um the the plan", "The plan"), vec!["um", "the"]);
    }

    #[test]
    fn labels_survive_rewording() {
        // The fluent side may reword; only words it shares are kept.
        assert_eq!(deleted("cells are capable of remembering", "Cells can remember"), vec!["are", "capable", "of", "remembering"]);
    }

    #[test]
    fn decision_settings_minimise_the_weighted_error() {
        let plain = [[false; RULE_FEATURES]; 4];
        let (d, error, precision, recall) = tune_decisions(&[0.9, 0.8, 0.3, 0.1], &[1.0, 1.0, 0.0, 0.0], &plain, &[0, 0, 0, 0], &[], Objective::Weighted);
        assert!(d.threshold > 0.29 && d.threshold < 0.8, "{d:?}");
        assert_eq!((error, precision, recall), (0.0, 1.0, 1.0));
    }

    #[test]
    fn a_content_budget_gives_up_recall_to_keep_content() {
        let plain = [[false; RULE_FEATURES]; 4];
        // Word 2 carries content and looks deletable; deleting it breaks any budget.
        let (probs, labels, content) = ([0.9, 0.8, 0.75, 0.1], [1.0, 1.0, 0.0, 0.0], [false, false, true, true]);
        let (d, ..) = tune_decisions(&probs, &labels, &plain, &[0; 4], &content, Objective::ContentBudget(0.0));
        assert_eq!(decide(&probs, &plain, d), vec![true, true, false, false], "{d:?}");
        assert!(is_content("Wednesday,") && !is_content("the,"));
    }

    #[test]
    fn shuffles_are_seeded() {
        let (mut a, mut b) = ((0..50).collect::<Vec<u32>>(), (0..50).collect::<Vec<u32>>());
        Rng(3).shuffle(&mut a);
        Rng(3).shuffle(&mut b);
        assert_eq!(a, b);
        assert_ne!(a, (0..50).collect::<Vec<u32>>());
    }
}
