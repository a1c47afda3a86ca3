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
use scrivo_polish::{removed_runs, removed_words, render_kept, Polished, PolishError, Polisher, RulePolisher};

use crate::model::{Cache, Model};
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
/// The head shipped with Scrivo (trained by `scrivo train tagger`; see its model card).
const SHIPPED_HEAD: &[u8] = include_bytes!("../heads/clean.safetensors");

/// Runs the frozen model over a text twice and returns per-word states.
pub struct FeatureExtractor {
    model: Arc<Model>,
    tokenizer: Arc<TextTokenizer>,
    blocks: Vec<usize>,
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
        let prefix = match prefix {
            Some(p) => p,
            None => {
                let mut p = model.new_cache();
                model.hidden_states(&tokenizer.encode(PREFIX)?, &mut p, &blocks)?;
                p
            }
        };
        let middle = tokenizer.encode(MIDDLE)?;
        Ok(FeatureExtractor { model, tokenizer, blocks, prefix, middle })
    }

    pub fn blocks(&self) -> &[usize] {
        &self.blocks
    }

    /// The prompt prefix's cache (to start another extractor on the same model and blocks).
    pub fn prefix(&self) -> &Cache {
        &self.prefix
    }

    /// For each block, a `(words.len(), 2 * hidden)` tensor: per word of the second copy, the
    /// state at its last token, then the state just before its first token.
    pub fn word_states(&self, words: &[&str]) -> Result<Vec<Tensor>, LlmError> {
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
        let mut cache = self.prefix.clone();
        let states = self.model.hidden_states(&ids, &mut cache, &self.blocks)?;
        let device = Device::Cpu;
        let (last, before) = (Tensor::new(last.as_slice(), &device)?, Tensor::new(before.as_slice(), &device)?);
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

/// What is deleted, from the head's per-word probabilities: the best labelling by Viterbi,
/// where deleting a word costs `-ln p + ln(threshold / (1 - threshold))`, keeping it
/// `-ln(1 - p)`, and every switch between keeping and deleting `switch_cost` (disfluencies
/// are runs of words, so a lone confident-looking deletion inside kept text needs more
/// evidence). Interjections are always deleted; protected words are kept unless the rule pass
/// removed them too.
pub fn decide(probs: &[f32], bits: &[[bool; RULE_FEATURES]], threshold: f32, switch_cost: f32) -> Vec<bool> {
    const FORBIDDEN: f32 = 1e9;
    let bias = (threshold / (1.0 - threshold)).ln();
    let n = probs.len().min(bits.len());
    // cost[i][s], s = 0 keep, 1 delete; back[i][s] = the state of word i - 1 on the best path.
    let mut cost = vec![[0f32; 2]; n];
    let mut back = vec![[0u8; 2]; n];
    for i in 0..n {
        let p = probs[i].clamp(1e-6, 1.0 - 1e-6);
        let [by_rules, filler, protected] = bits[i];
        let mut emit = [-(1.0 - p).ln(), -p.ln() + bias];
        if filler {
            emit[0] = FORBIDDEN;
        } else if protected && !by_rules {
            emit[1] = FORBIDDEN;
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
    deleted
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
    pub threshold: f32,
    pub switch_cost: f32,
    pub mean: Tensor,
    pub std: Tensor,
    pub w1: Tensor,
    pub b1: Tensor,
    pub w2: Tensor,
    pub b2: Tensor,
}

/// The head's logits for standardised states `x` (`(rows, features)`), as used both in
/// training (with variables) and at run time.
pub fn head_logits(x: &Tensor, w1: &Tensor, b1: &Tensor, w2: &Tensor, b2: &Tensor) -> candle_core::Result<Tensor> {
    x.matmul(w1)?.broadcast_add(b1)?.relu()?.matmul(w2)?.broadcast_add(b2)?.squeeze(1)
}

impl TaggerHead {
    /// The head that ships with Scrivo.
    pub fn shipped() -> Result<Self, LlmError> {
        Self::from_tensors(candle_core::safetensors::load_buffer(SHIPPED_HEAD, &Device::Cpu)?, "the shipped head")
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
        let mut take = |name: &str| t.remove(name).ok_or_else(|| bad(format!("no tensor `{name}`")));
        let meta = take("meta")?.to_vec1::<f32>()?;
        let (mean, std, w1, b1, w2, b2) = (take("mean")?, take("std")?, take("w1")?, take("b1")?, take("w2")?, take("b2")?);
        let [block, threshold, switch_cost] = meta[..] else { return Err(bad("`meta` must hold [block, threshold, switch cost]".into())) };
        let features = mean.dims1()?;
        let (rows, hidden) = w1.dims2()?;
        if std.dims1()? != features || rows != features + RULE_FEATURES || b1.dims1()? != hidden || w2.dims2()? != (hidden, 1) || b2.dims1()? != 1 {
            return Err(bad(format!("inconsistent shapes: mean {features}, w1 {rows}x{hidden}, w2 {:?}", w2.dims())));
        }
        if !(block >= 1.0 && block.fract() == 0.0 && threshold > 0.0 && threshold < 1.0 && switch_cost >= 0.0) {
            return Err(bad(format!("bad block {block}, threshold {threshold} or switch cost {switch_cost}")));
        }
        Ok(TaggerHead { block: block as usize, threshold, switch_cost, mean, std, w1, b1, w2, b2 })
    }

    /// Writes the head as safetensors (temporary file, then rename).
    pub fn save(&self, path: &Path) -> Result<(), LlmError> {
        let meta = Tensor::new(&[self.block as f32, self.threshold, self.switch_cost], &Device::Cpu)?;
        let tensors: HashMap<String, Tensor> = [
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
        let tmp = path.with_extension("safetensors.tmp");
        candle_core::safetensors::save(&tensors, &tmp)?;
        std::fs::rename(&tmp, path).map_err(|e| LlmError::Io { path: path.into(), source: e })
    }

    /// States of this head's block standardised and joined with the rule bits.
    pub fn inputs(&self, states: &Tensor, rules: &Tensor) -> Result<Tensor, LlmError> {
        let x = states.broadcast_sub(&self.mean)?.broadcast_div(&self.std)?;
        Ok(Tensor::cat(&[x, rules.to_dtype(DType::F32)?], 1)?)
    }

    /// The probability that each word should be deleted.
    pub fn delete_probabilities(&self, states: &Tensor, rules: &Tensor) -> Result<Vec<f32>, LlmError> {
        let logits = head_logits(&self.inputs(states, rules)?, &self.w1, &self.b1, &self.w2, &self.b2)?;
        Ok(candle_nn::ops::sigmoid(&logits)?.to_vec1::<f32>()?)
    }
}

/// Polishes with the rule pass, then the tagger.
pub struct TaggerPolisher {
    features: FeatureExtractor,
    head: TaggerHead,
    rules: RulePolisher,
    budget: Duration,
    budget_per_word: Duration,
}

impl TaggerPolisher {
    pub fn new(model: Arc<Model>, tokenizer: Arc<TextTokenizer>, head: TaggerHead, rules: RulePolisher) -> Result<Self, LlmError> {
        Self::with_prefix(model, tokenizer, head, rules, None)
    }

    /// Like [`TaggerPolisher::new`], reusing the prompt prefix of an earlier tagger on the same
    /// model and head ([`TaggerPolisher::prefix`]): a tagger made per utterance then costs
    /// nothing before its text.
    pub fn with_prefix(model: Arc<Model>, tokenizer: Arc<TextTokenizer>, head: TaggerHead, rules: RulePolisher, prefix: Option<Cache>) -> Result<Self, LlmError> {
        if head.block > model.loaded_blocks() || head.mean.dims1()? != 2 * model.config().hidden {
            return Err(LlmError::Input(format!("the tagger head reads block {} of width {}, which this model does not have", head.block, head.mean.dims1()? / 2)));
        }
        let features = FeatureExtractor::with_prefix(model, tokenizer, vec![head.block], prefix)?;
        Ok(TaggerPolisher { features, head, rules, budget: DEFAULT_BUDGET, budget_per_word: BUDGET_PER_WORD })
    }

    /// The prompt prefix's cache.
    pub fn prefix(&self) -> Cache {
        self.features.prefix().clone()
    }

    /// Sets the time budget per text, `base + per_word * words`: sentences not reached within
    /// it keep the rule output.
    pub fn with_budget(mut self, base: Duration, per_word: Duration) -> Self {
        (self.budget, self.budget_per_word) = (base, per_word);
        self
    }

    /// Which words to keep, or an error from the model.
    fn keep(&self, words: &[&str], draft: &Polished) -> Result<Vec<bool>, LlmError> {
        let bits = rule_bits(&self.rules, words, draft);
        let mut keep: Vec<bool> = bits.iter().map(|[by_rules, ..]| !by_rules).collect();
        let started = Instant::now();
        let budget = self.budget + self.budget_per_word * words.len() as u32;
        for range in chunks(words) {
            if started.elapsed() > budget {
                tracing::warn!(?budget, "polishing past its time budget: the rest keeps the rule output");
                break;
            }
            let states = self.features.word_states(&words[range.clone()])?.remove(0);
            let probs = self.head.delete_probabilities(&states, &rule_tensor(&bits[range.clone()])?)?;
            let deleted = decide(&probs, &bits[range.clone()], self.head.threshold, self.head.switch_cost);
            for (i, d) in range.zip(deleted) {
                keep[i] = !d;
            }
        }
        Ok(keep)
    }
}

impl Polisher for TaggerPolisher {
    fn polish(&mut self, raw: &str) -> Result<Polished, PolishError> {
        let draft = self.rules.polish(raw)?;
        let words: Vec<&str> = raw.split_whitespace().collect();
        if words.is_empty() {
            return Ok(draft);
        }
        let keep = match self.keep(&words, &draft) {
            Ok(keep) => keep,
            Err(e) => {
                tracing::warn!("polishing model fell back to the rules: {e}");
                return Ok(draft);
            }
        };
        // Guard: deleting more than half of the words that are not interjections is not trusted.
        let content: Vec<usize> = (0..words.len()).filter(|&i| !self.rules.is_filler(words[i])).collect();
        let deleted = content.iter().filter(|&&i| !keep[i]).count();
        if deleted * 2 > content.len() {
            tracing::warn!(deleted, words = content.len(), "the tagger deleted too much; the rule output is used");
            return Ok(draft);
        }
        Ok(Polished { text: render_kept(raw, &keep), edits: removed_runs(&words, &keep, &draft.edits) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: [bool; RULE_FEATURES] = [false, false, false];

    #[test]
    fn decisions_follow_the_probabilities_without_a_switch_cost() {
        let bits = [PLAIN; 4];
        assert_eq!(decide(&[0.9, 0.2, 0.7, 0.1], &bits, 0.5, 0.0), vec![true, false, true, false]);
        // A higher threshold keeps the 0.7.
        assert_eq!(decide(&[0.9, 0.2, 0.7, 0.1], &bits, 0.8, 0.0), vec![true, false, false, false]);
    }

    #[test]
    fn a_switch_cost_removes_lone_deletions_and_fills_gaps() {
        let bits = [PLAIN; 5];
        assert_eq!(decide(&[0.1, 0.1, 0.6, 0.1, 0.1], &bits, 0.5, 2.0), vec![false; 5]);
        assert_eq!(decide(&[0.95, 0.95, 0.45, 0.95, 0.1], &bits, 0.5, 2.0), vec![true, true, true, true, false]);
    }

    #[test]
    fn fillers_always_go_and_protected_words_stay() {
        let filler = [false, true, false];
        let protected = [false, false, true];
        let protected_but_corrected = [true, false, true];
        assert_eq!(decide(&[0.0, 0.0, 0.99], &[PLAIN, filler, protected], 0.5, 1.0), vec![false, true, false]);
        assert_eq!(decide(&[0.99, 0.1], &[protected_but_corrected, PLAIN], 0.5, 1.0), vec![true, false]);
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
