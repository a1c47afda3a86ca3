//! Fine-tuning the tagger: low-rank adapters on the blocks below the head's, trained together
//! with the head on (disfluent, fluent) pairs.
//!
//! The blocks below the adapted ones stay frozen and run quantized, without gradients. The
//! adapted blocks run in f32 through a forward pass of differentiable operations only (candle's
//! fused rotary, norm and softmax kernels have no backward), which matches [`Model`]'s to within
//! the quantized activations. The head starts from a trained head (the shipped one) and the
//! adapters from zero (`B = 0`), so training starts where the frozen tagger is.
//!
//! Seeded and deterministic (batch order, initial weights); a checkpoint (all parameters, the
//! optimiser's moments and the step) is written every few steps, and a run given the same
//! checkpoint path resumes from it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::{DType, Device, Tensor, Var, D};
use scrivo_polish::{Polisher, RulePolisher};

use crate::lora::{Adapter, BlockAdapter, Linear};
use crate::model::{repeat_kv, Cache, Model};
use crate::tagger::{head_logits, rule_bits, rule_tensor, Decision, FeatureExtractor, TaggerHead, RULE_FEATURES};
use crate::train::{bce_with_logits, is_content, keep_labels, tune_decisions, Objective, Rng};
use crate::LlmError;

/// How to fine-tune.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoraOptions {
    /// The first adapted block (1-based); the adapters cover it up to the head's block.
    pub first: usize,
    pub rank: usize,
    /// The adapters' output is scaled by `alpha / rank`.
    pub alpha: f64,
    pub learning_rate: f64,
    pub weight_decay: f64,
    /// Examples per step.
    pub batch: usize,
    pub epochs: usize,
    /// Stop after this many steps (the learning-rate schedule still spans all epochs).
    pub max_steps: Option<usize>,
    pub warmup: usize,
    pub seed: u64,
    /// Every `holdout`-th pair is held out to choose the decision settings.
    pub holdout: u32,
    pub checkpoint_every: usize,
    /// The decision settings may delete at most this share of the held-out content words to
    /// keep (in the pairs that need more than the rule pass).
    pub content_budget: f64,
}

impl Default for LoraOptions {
    fn default() -> Self {
        LoraOptions {
            first: 15,
            rank: 8,
            alpha: 16.0,
            learning_rate: 5e-4,
            weight_decay: 0.0,
            batch: 8,
            epochs: 1,
            max_steps: None,
            warmup: 30,
            seed: 7,
            holdout: 10,
            checkpoint_every: 25,
            content_budget: 0.008,
        }
    }
}

/// One pair ready for training: the tokens after the prompt prefix and, per word, the
/// positions the head reads, the rule bits and the label.
struct Example {
    ids: Vec<u32>,
    last: Vec<u32>,
    before: Vec<u32>,
    bits: Vec<[bool; RULE_FEATURES]>,
    deleted: Vec<f32>,
    /// Per word, whether it carries content.
    content: Vec<bool>,
    pair: u32,
}

/// A frozen block's weights in f32 (linear maps transposed, `in x out`).
struct DenseBlock {
    linears: Vec<Tensor>,
    attn_norm: Tensor,
    ffn_norm: Tensor,
}

/// What a step reports.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    pub step: usize,
    pub steps: usize,
    pub loss: f64,
    pub learning_rate: f64,
}

/// What training produced, with the held-out figures of the head before and after.
pub struct Outcome {
    pub head: TaggerHead,
    pub before: Decisions,
    pub after: Decisions,
    pub train_pairs: usize,
    pub held_pairs: usize,
    pub steps: usize,
    pub resumed_from: usize,
}

/// Held-out decisions: the tuned settings and how they did.
#[derive(Debug, Clone, Copy)]
pub struct Decisions {
    pub decision: Decision,
    pub weighted_error: f64,
    pub precision: f64,
    pub recall: f64,
    pub loss: f64,
}

/// A minimal AdamW whose moments can be saved and restored (candle's keeps them private).
struct AdamW {
    vars: Vec<(String, Var)>,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    step: usize,
    weight_decay: f64,
}

impl AdamW {
    const B1: f64 = 0.9;
    const B2: f64 = 0.999;
    const EPS: f64 = 1e-8;

    fn new(vars: Vec<(String, Var)>, weight_decay: f64) -> Result<Self, LlmError> {
        let m = vars.iter().map(|(_, v)| v.as_tensor().zeros_like()).collect::<Result<Vec<_>, _>>()?;
        let v = m.clone();
        Ok(AdamW { vars, m, v, step: 0, weight_decay })
    }

    fn step(&mut self, loss: &Tensor, lr: f64) -> Result<(), LlmError> {
        let grads = loss.backward()?;
        self.step += 1;
        let (c1, c2) = (1.0 - Self::B1.powi(self.step as i32), 1.0 - Self::B2.powi(self.step as i32));
        for (k, (_, var)) in self.vars.iter().enumerate() {
            let Some(g) = grads.get(var.as_tensor()) else { continue };
            // Detached: the moments must not keep the history of every step alive.
            let g = g.detach();
            self.m[k] = ((&self.m[k] * Self::B1)? + (&g * (1.0 - Self::B1))?)?.detach();
            self.v[k] = ((&self.v[k] * Self::B2)? + (g.sqr()? * (1.0 - Self::B2))?)?.detach();
            let update = ((&self.m[k] / c1)? / ((&self.v[k] / c2)?.sqrt()? + Self::EPS)?)?;
            let decayed = (var.as_tensor().detach() * (1.0 - lr * self.weight_decay))?;
            var.set(&(decayed - (update * lr)?)?.detach())?;
        }
        Ok(())
    }

    fn save(&self, path: &Path, options: &LoraOptions, examples: usize) -> Result<(), LlmError> {
        let mut t: HashMap<String, Tensor> = HashMap::new();
        for (k, (name, var)) in self.vars.iter().enumerate() {
            t.insert(format!("param.{name}"), var.as_tensor().copy()?);
            t.insert(format!("m.{name}"), self.m[k].clone());
            t.insert(format!("v.{name}"), self.v[k].clone());
        }
        let mut state = vec![self.step as f64];
        state.extend(run_identity(options, examples));
        t.insert("state".into(), Tensor::new(state, &Device::Cpu)?);
        let tmp = path.with_extension("tmp");
        candle_core::safetensors::save(&t, &tmp)?;
        std::fs::rename(&tmp, path).map_err(|e| LlmError::Io { path: path.into(), source: e })
    }

    /// Restores a checkpoint written by [`AdamW::save`] for the same options and data.
    fn load(&mut self, path: &Path, options: &LoraOptions, examples: usize) -> Result<(), LlmError> {
        let bad = |detail: String| LlmError::Format { path: path.into(), detail };
        let mut t = candle_core::safetensors::load(path, &Device::Cpu).map_err(|e| bad(format!("not a checkpoint: {e}")))?;
        let state = t.remove("state").ok_or_else(|| bad("no `state`".into()))?.to_vec1::<f64>()?;
        let expected = run_identity(options, examples);
        if state.len() != expected.len() + 1 || state[1..] != expected[..] {
            return Err(bad(format!(
                "written for another run (seed, examples, first block, rank, batch, epochs, learning rate, alpha, warm-up, weight decay, held-out share {:?}; this run {expected:?}), or by a Scrivo that did not record the schedule: remove it to start again",
                state.get(1..)
            )));
        }
        for (k, (name, var)) in self.vars.iter().enumerate() {
            let mut take = |prefix: &str| t.remove(&format!("{prefix}.{name}")).ok_or_else(|| bad(format!("no `{prefix}.{name}`")));
            let (p, m, v) = (take("param")?, take("m")?, take("v")?);
            if p.dims() != var.as_tensor().dims() {
                return Err(bad(format!("`{name}` has shape {:?}, this run {:?}", p.dims(), var.as_tensor().dims())));
            }
            var.set(&p)?;
            (self.m[k], self.v[k]) = (m, v);
        }
        self.step = state[0] as usize;
        Ok(())
    }
}

/// What a checkpoint must agree on to be resumed: the data, the adapters' shape and the whole
/// schedule (a one-epoch checkpoint resumed under a two-epoch schedule would jump back up the
/// learning-rate curve). `max_steps` is not in it: a run stopped early may go on.
fn run_identity(options: &LoraOptions, examples: usize) -> Vec<f64> {
    vec![
        options.seed as f64,
        examples as f64,
        options.first as f64,
        options.rank as f64,
        options.batch as f64,
        options.epochs as f64,
        options.learning_rate,
        options.alpha,
        options.warmup as f64,
        options.weight_decay,
        f64::from(options.holdout),
    ]
}

/// `x / rms(x) * w` over the last dimension, from differentiable operations.
fn rms_norm(x: &Tensor, w: &Tensor, eps: f64) -> candle_core::Result<Tensor> {
    let ms = x.sqr()?.mean_keepdim(D::Minus1)?;
    x.broadcast_div(&(ms + eps)?.sqrt()?)?.broadcast_mul(w)
}

/// Rotary embedding on interleaved pairs (as `candle_nn::rotary_emb::rope_i`) for `x` of shape
/// `(batch, heads, positions, head_dim)`; `cos`/`sin` are `(positions, head_dim / 2)`.
fn rope_i(x: &Tensor, cos: &Tensor, sin: &Tensor) -> candle_core::Result<Tensor> {
    let (b, h, t, d) = x.dims4()?;
    let x = x.reshape((b, h, t, d / 2, 2))?;
    let (x0, x1) = (x.narrow(4, 0, 1)?, x.narrow(4, 1, 1)?);
    let (cos, sin) = (cos.reshape((1, 1, t, d / 2, 1))?, sin.reshape((1, 1, t, d / 2, 1))?);
    let r0 = (x0.broadcast_mul(&cos)? - x1.broadcast_mul(&sin)?)?;
    let r1 = (x0.broadcast_mul(&sin)? + x1.broadcast_mul(&cos)?)?;
    Tensor::cat(&[r0, r1], 4)?.reshape((b, h, t, d))
}

fn softmax_last(x: &Tensor) -> candle_core::Result<Tensor> {
    let max = x.max_keepdim(D::Minus1)?.detach();
    let e = x.broadcast_sub(&max)?.exp()?;
    e.broadcast_div(&e.sum_keepdim(D::Minus1)?)
}

/// The trainable part: frozen dense blocks with adapter variables, and the head.
struct Trainable {
    blocks: Vec<DenseBlock>,
    a_t: Vec<Vec<Var>>,
    b_t: Vec<Vec<Var>>,
    w1: Var,
    b1: Var,
    w2: Var,
    b2: Var,
    scale: f64,
}

impl Trainable {
    /// The blocks `options.first..=start.block` in f32 with fresh adapters (`A` seeded, `B`
    /// zero: the adapted model starts as the frozen one) and `start`'s head.
    fn new(model: &Model, start: &TaggerHead, options: &LoraOptions) -> Result<Self, LlmError> {
        let device = Device::Cpu;
        let mut rng = Rng(options.seed ^ 0x10_7A);
        let mut blocks = Vec::new();
        let (mut a_t, mut b_t) = (Vec::new(), Vec::new());
        for block in options.first..=start.block {
            let (linears, attn_norm, ffn_norm) = model.block_weights(block)?;
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for w in &linears {
                let (fan_in, fan_out) = w.dims2()?;
                let scale = (1.0 / fan_in as f32).sqrt();
                let values: Vec<f32> = (0..fan_in * options.rank).map(|_| rng.symmetric() * scale).collect();
                a.push(Var::from_tensor(&Tensor::from_vec(values, (fan_in, options.rank), &device)?)?);
                b.push(Var::zeros((options.rank, fan_out), DType::F32, &device)?);
            }
            blocks.push(DenseBlock { linears, attn_norm, ffn_norm });
            a_t.push(a);
            b_t.push(b);
        }
        Ok(Trainable {
            blocks,
            a_t,
            b_t,
            w1: Var::from_tensor(&start.w1)?,
            b1: Var::from_tensor(&start.b1)?,
            w2: Var::from_tensor(&start.w2)?,
            b2: Var::from_tensor(&start.b2)?,
            scale: options.alpha / options.rank as f64,
        })
    }

    fn vars(&self, first: usize) -> Vec<(String, Var)> {
        let mut out = Vec::new();
        for (i, (a, b)) in self.a_t.iter().zip(&self.b_t).enumerate() {
            for l in Linear::ALL {
                out.push((format!("lora.{}.{}.a_t", first + i, l.name()), a[l as usize].clone()));
                out.push((format!("lora.{}.{}.b_t", first + i, l.name()), b[l as usize].clone()));
            }
        }
        for (name, v) in [("w1", &self.w1), ("b1", &self.b1), ("w2", &self.w2), ("b2", &self.b2)] {
            out.push((name.to_owned(), v.clone()));
        }
        out
    }

    /// The adapted blocks over `x` (`(batch, positions, hidden)`).
    fn forward(&self, x: &Tensor, model: &Model) -> candle_core::Result<Tensor> {
        let c = model.config();
        let (eps, cos, sin) = model.norm_and_rotary();
        let (b, t, hidden) = x.dims3()?;
        let (cos, sin) = (cos.narrow(0, 0, t)?, sin.narrow(0, 0, t)?);
        let mask: Vec<f32> = (0..t).flat_map(|i| (0..t).map(move |j| if j > i { -1e9 } else { 0.0 })).collect();
        let mask = Tensor::from_vec(mask, (t, t), x.device())?;
        let mut x = x.reshape((b * t, hidden))?;
        for (k, block) in self.blocks.iter().enumerate() {
            let lin = |which: Linear, h: &Tensor| -> candle_core::Result<Tensor> {
                let base = h.matmul(&block.linears[which as usize])?;
                let delta = (h.matmul(self.a_t[k][which as usize].as_tensor())?.matmul(self.b_t[k][which as usize].as_tensor())? * self.scale)?;
                base + delta
            };
            let h = rms_norm(&x, &block.attn_norm, eps)?;
            let q = lin(Linear::Q, &h)?.reshape((b, t, c.heads, c.head_dim))?.transpose(1, 2)?.contiguous()?;
            let kk = lin(Linear::K, &h)?.reshape((b, t, c.kv_heads, c.head_dim))?.transpose(1, 2)?.contiguous()?;
            let v = lin(Linear::V, &h)?.reshape((b, t, c.kv_heads, c.head_dim))?.transpose(1, 2)?.contiguous()?;
            let (q, kk) = (rope_i(&q, &cos, &sin)?, rope_i(&kk, &cos, &sin)?);
            let (kk, v) = (repeat_kv(&kk, c.heads / c.kv_heads)?, repeat_kv(&v, c.heads / c.kv_heads)?);
            let scores = (q.matmul(&kk.t()?)? / (c.head_dim as f64).sqrt())?.broadcast_add(&mask)?;
            let attn = softmax_last(&scores)?.matmul(&v)?.transpose(1, 2)?.reshape((b * t, hidden))?;
            x = (lin(Linear::O, &attn)? + &x)?;
            let h = rms_norm(&x, &block.ffn_norm, eps)?;
            let mlp = lin(Linear::Down, &(lin(Linear::Gate, &h)?.silu()? * lin(Linear::Up, &h)?)?)?;
            x = (mlp + &x)?;
        }
        x.reshape((b, t, hidden))
    }

    fn adapter(&self, first: usize, rank: usize) -> Result<Adapter, LlmError> {
        let copy = |v: &Vec<Var>| v.iter().map(|x| x.as_tensor().copy()).collect::<Result<Vec<_>, _>>();
        let blocks = self.a_t.iter().zip(&self.b_t).map(|(a, b)| Ok(BlockAdapter::new(copy(a)?, copy(b)?))).collect::<Result<Vec<_>, LlmError>>()?;
        Ok(Adapter { first, rank, scale: self.scale, blocks })
    }
}

/// Fine-tunes `start` (whose block is the last adapted one) on `pairs`. `checkpoint`, when
/// given, is written every [`LoraOptions::checkpoint_every`] steps and resumed from when it
/// exists. `report` sees every step.
pub fn train_lora(
    model: Arc<Model>,
    tokenizer: Arc<crate::TextTokenizer>,
    start: &TaggerHead,
    pairs: &[(String, String)],
    options: LoraOptions,
    checkpoint: Option<&Path>,
    mut report: impl FnMut(Step),
    mut log: impl FnMut(&str),
) -> Result<Outcome, LlmError> {
    let last = start.block;
    if options.first < 2 || options.first > last || last > model.loaded_blocks() {
        return Err(LlmError::Input(format!("adapters on blocks {}..={last} need blocks 1..={last} loaded and a frozen block below them", options.first)));
    }
    // Examples.
    let plain = FeatureExtractor::new(Arc::clone(&model), Arc::clone(&tokenizer), vec![options.first - 1])?;
    let mut rules = RulePolisher::english();
    let mut examples = Vec::new();
    for (k, (disfluent, fluent)) in pairs.iter().enumerate() {
        let words: Vec<&str> = disfluent.split_whitespace().collect();
        if words.is_empty() {
            continue;
        }
        let draft = rules.polish(disfluent).map_err(|e| LlmError::Input(e.to_string()))?;
        let (ids, last_pos, before) = plain.encode_twice(&words)?;
        let deleted = keep_labels(&words, fluent).into_iter().map(|keep| if keep { 0.0 } else { 1.0 }).collect();
        let content = words.iter().map(|w| is_content(w)).collect();
        examples.push(Example { ids, last: last_pos, before, bits: rule_bits(&rules, &words, &draft), deleted, content, pair: k as u32 });
    }
    let holdout = options.holdout.max(2);
    let (train, held): (Vec<Example>, Vec<Example>) = examples.into_iter().partition(|e| e.pair % holdout != 0);
    if train.is_empty() || held.is_empty() {
        return Err(LlmError::Input(format!("{} pairs are too few to train and hold out", pairs.len())));
    }
    // The prefix through the frozen blocks, once.
    let prefix_ids = plain.prefix_ids()?;
    let mut prefix_cache = model.new_cache();
    let prefix_states = model.hidden_states(&prefix_ids, &mut prefix_cache, &[options.first - 1])?.remove(0);
    let p = prefix_ids.len();
    let trainable = Trainable::new(&model, start, &options)?;
    let mut opt = AdamW::new(trainable.vars(options.first), options.weight_decay)?;
    let mut resumed_from = 0;
    if let Some(path) = checkpoint.filter(|p| p.is_file()) {
        opt.load(path, &options, train.len())?;
        resumed_from = opt.step;
        log(&format!("resuming from {} at step {resumed_from}", path.display()));
    }
    let per_epoch = train.len().div_ceil(options.batch.max(1));
    let schedule = per_epoch * options.epochs.max(1);
    let steps = options.max_steps.map_or(schedule, |m| m.min(schedule));
    let lr_at = |step: usize| -> f64 {
        if step < options.warmup {
            return options.learning_rate * (step + 1) as f64 / options.warmup as f64;
        }
        let progress = (step - options.warmup) as f64 / (schedule - options.warmup).max(1) as f64;
        options.learning_rate * (0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * progress.min(1.0)).cos()))
    };
    // Batch order: a seeded shuffle per epoch; within each run of 16 batches, examples of
    // similar length go together (less padding).
    let order_of = |epoch: usize| -> Vec<Vec<u32>> {
        let mut order: Vec<u32> = (0..train.len() as u32).collect();
        Rng(options.seed.wrapping_add(epoch as u64 * 7919)).shuffle(&mut order);
        let span = options.batch.max(1) * 16;
        let mut batches = Vec::new();
        for group in order.chunks_mut(span) {
            group.sort_by_key(|&i| (train[i as usize].ids.len(), i));
            batches.extend(group.chunks(options.batch.max(1)).map(<[u32]>::to_vec));
        }
        let mut rng = Rng(options.seed.wrapping_add(epoch as u64 * 104_729));
        let mut idx: Vec<u32> = (0..batches.len() as u32).collect();
        rng.shuffle(&mut idx);
        idx.into_iter().map(|i| batches[i as usize].clone()).collect()
    };
    let mut epoch_batches: Option<(usize, Vec<Vec<u32>>)> = None;
    for step in resumed_from..steps {
        let epoch = step / per_epoch;
        if epoch_batches.as_ref().is_none_or(|(e, _)| *e != epoch) {
            epoch_batches = Some((epoch, order_of(epoch)));
        }
        let batch: Vec<&Example> = epoch_batches.as_ref().map(|(_, b)| b[step % per_epoch].iter().map(|&i| &train[i as usize]).collect()).unwrap_or_default();
        let loss = batch_loss(&model, &prefix_cache, &prefix_states, p, &trainable, start, &batch, options.first)?;
        let lr = lr_at(step);
        opt.step(&loss, lr)?;
        report(Step { step: step + 1, steps, loss: loss.to_scalar::<f32>()? as f64, learning_rate: lr });
        if let Some(path) = checkpoint {
            if (step + 1) % options.checkpoint_every.max(1) == 0 || step + 1 == steps {
                opt.save(path, &options, train.len())?;
            }
        }
    }
    // The adapter and head as used at run time, judged on the held-out pairs.
    let adapter = Arc::new(trainable.adapter(options.first, options.rank)?);
    let tuned = TaggerHead { w1: trainable.w1.as_tensor().copy()?, b1: trainable.b1.as_tensor().copy()?, w2: trainable.w2.as_tensor().copy()?, b2: trainable.b2.as_tensor().copy()?, adapter: Some(adapter), ..start.clone() };
    log("judging the head before and after on the held-out pairs");
    let before = held_out(&model, &tokenizer, &TaggerHead { adapter: None, ..start.clone() }, &held, options.content_budget)?;
    let after = held_out(&model, &tokenizer, &tuned, &held, options.content_budget)?;
    let head = TaggerHead { decision: after.decision, ..tuned };
    Ok(Outcome { head, before, after, train_pairs: train.len(), held_pairs: held.len(), steps, resumed_from })
}

/// The loss of one batch: the frozen blocks per example (quantized, no gradients), then the
/// adapted blocks and the head over the padded batch.
#[allow(clippy::too_many_arguments)]
fn batch_loss(model: &Model, prefix_cache: &Cache, prefix_states: &Tensor, p: usize, trainable: &Trainable, start: &TaggerHead, batch: &[&Example], first: usize) -> Result<Tensor, LlmError> {
    let device = Device::Cpu;
    let hidden = model.config().hidden;
    let t = p + batch.iter().map(|e| e.ids.len()).max().unwrap_or(0);
    let mut rows = Vec::with_capacity(batch.len());
    let (mut last, mut before, mut bits, mut targets) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (k, e) in batch.iter().enumerate() {
        let mut cache = prefix_cache.clone();
        let states = model.hidden_states(&e.ids, &mut cache, &[first - 1])?.remove(0);
        let pad = t - p - e.ids.len();
        let mut parts = vec![prefix_states.clone(), states];
        if pad > 0 {
            parts.push(Tensor::zeros((pad, hidden), DType::F32, &device)?);
        }
        rows.push(Tensor::cat(&parts, 0)?);
        let base = (k * t + p) as u32;
        last.extend(e.last.iter().map(|&i| base + i));
        before.extend(e.before.iter().map(|&i| base + i));
        bits.extend_from_slice(&e.bits);
        targets.extend_from_slice(&e.deleted);
    }
    let x = Tensor::stack(&rows, 0)?.detach();
    let out = trainable.forward(&x, model)?.reshape((batch.len() * t, hidden))?;
    let (last, before) = (Tensor::new(last.as_slice(), &device)?, Tensor::new(before.as_slice(), &device)?);
    let states = Tensor::cat(&[out.index_select(&last, 0)?, out.index_select(&before, 0)?], 1)?;
    let x = start.inputs(&states, &rule_tensor(&bits)?)?;
    let logits = head_logits(&x, trainable.w1.as_tensor(), trainable.b1.as_tensor(), trainable.w2.as_tensor(), trainable.b2.as_tensor())?;
    Ok(bce_with_logits(&logits, &Tensor::new(targets.as_slice(), &device)?)?)
}

/// `head` (with its adapter, if any) on the held-out examples, through the run-time path.
fn held_out(model: &Arc<Model>, tokenizer: &Arc<crate::TextTokenizer>, head: &TaggerHead, held: &[Example], content_budget: f64) -> Result<Decisions, LlmError> {
    let extractor = FeatureExtractor::adapted(Arc::clone(model), Arc::clone(tokenizer), vec![head.block], head.adapter.clone(), None)?;
    let (mut probs, mut labels, mut bits, mut pairs, mut content) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut loss_sum = 0.0;
    for e in held {
        let states = extractor.states_at(&e.ids, &e.last, &e.before)?.remove(0);
        let rules = rule_tensor(&e.bits)?;
        let logits = head_logits(&head.inputs(&states, &rules)?, &head.w1, &head.b1, &head.w2, &head.b2)?;
        loss_sum += bce_with_logits(&logits, &Tensor::new(e.deleted.as_slice(), &Device::Cpu)?)?.to_scalar::<f32>()? as f64 * e.deleted.len() as f64;
        probs.extend(candle_nn::ops::sigmoid(&logits)?.to_vec1::<f32>()?);
        labels.extend_from_slice(&e.deleted);
        bits.extend_from_slice(&e.bits);
        pairs.extend(std::iter::repeat_n(e.pair, e.deleted.len()));
        content.extend_from_slice(&e.content);
    }
    let (decision, weighted_error, precision, recall) = tune_decisions(&probs, &labels, &bits, &pairs, &content, Objective::ContentBudget(content_budget));
    Ok(Decisions { decision, weighted_error, precision, recall, loss: loss_sum / labels.len().max(1) as f64 })
}

/// Where a run's checkpoint goes by default: beside the output, `OUT.ckpt`.
pub fn checkpoint_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".ckpt");
    out.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Option<(Arc<Model>, Arc<crate::TextTokenizer>)> {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/smollm2-135m-instruct-q8_0.gguf");
        if !p.is_file() {
            eprintln!("SKIP: {} not installed (`make test` installs it)", p.display());
            return None;
        }
        let (m, t) = Model::load_blocks(&p, Some(18)).expect("load");
        Some((Arc::new(m), Arc::new(t)))
    }

    fn pairs() -> Vec<(String, String)> {
        let base = [
            ("What year, no, what month did the war end?", "What month did the war end?"),
            ("Who wrote um the first novel?", "Who wrote the first novel?"),
            ("How many people, sorry, cities voted for it?", "How many cities voted for it?"),
            ("Where is the the capital located?", "Where is the capital located?"),
        ];
        (0..6).flat_map(|_| base.iter().map(|(a, b)| (a.to_string(), b.to_string()))).collect()
    }

    #[test]
    fn the_training_pass_matches_the_models_with_zero_adapters() {
        let Some((model, tokenizer)) = model() else { return };
        let start = TaggerHead::frozen().expect("head");
        let options = LoraOptions { first: 16, ..LoraOptions::default() };
        let trainable = Trainable::new(&model, &start, &options).expect("trainable");
        let ids = tokenizer.encode("<|im_start|>user\nWhat year, no, what month did the war end?<|im_end|>\n").expect("encode");
        let below = model.hidden_states(&ids, &mut model.new_cache(), &[15]).expect("below").remove(0);
        let ours = trainable.forward(&below.unsqueeze(0).expect("batch"), &model).expect("forward").squeeze(0).expect("row");
        let theirs = model.hidden_states(&ids, &mut model.new_cache(), &[18]).expect("block 18").remove(0);
        // The model's quantized matmuls round their inputs to 8 bits; the training pass is f32.
        let scale = theirs.abs().expect("abs").mean_all().expect("mean").to_scalar::<f32>().expect("scalar");
        let diff = (ours - &theirs).expect("diff").abs().expect("abs").mean_all().expect("mean").to_scalar::<f32>().expect("scalar");
        assert!(diff < 0.05 * scale, "mean difference {diff} against a mean magnitude {scale}");
    }

    #[test]
    fn a_resumed_run_ends_where_an_uninterrupted_one_does() {
        let Some((model, tokenizer)) = model() else { return };
        let start = TaggerHead::frozen().expect("head");
        let dir = std::env::temp_dir().join(format!("scrivo-lora-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let ckpt = dir.join("run.ckpt");
        let options = LoraOptions { first: 17, batch: 4, epochs: 1, warmup: 1, checkpoint_every: 2, ..LoraOptions::default() };
        let run = |max_steps: usize, checkpoint: Option<&Path>| {
            let mut losses = Vec::new();
            let outcome = train_lora(Arc::clone(&model), Arc::clone(&tokenizer), &start, &pairs(), LoraOptions { max_steps: Some(max_steps), ..options }, checkpoint, |s| losses.push(s.loss), |_| {}).expect("train");
            (outcome, losses)
        };
        let (_, first_half) = run(2, Some(&ckpt));
        let (resumed, second_half) = run(4, Some(&ckpt));
        assert_eq!((resumed.resumed_from, first_half.len(), second_half.len()), (2, 2, 2));
        let (whole, all) = run(4, None);
        assert_eq!(all[..2], first_half[..]);
        let weights = |o: &Outcome| o.head.adapter.as_ref().expect("adapter").blocks[1].b_t[0].flatten_all().and_then(|t| t.to_vec1::<f32>()).expect("values");
        assert_eq!(weights(&resumed), weights(&whole));
        assert!(weights(&whole).iter().any(|&x| x != 0.0), "training moved the adapters");
        // A checkpoint of another run is refused, not silently mixed in.
        let other = train_lora(Arc::clone(&model), Arc::clone(&tokenizer), &start, &pairs(), LoraOptions { seed: 99, max_steps: Some(3), ..options }, Some(&ckpt), |_| {}, |_| {});
        let message = other.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("another run"), "{message}");
        // Nor is one written under another schedule: more epochs would restart its learning rate.
        let longer = train_lora(Arc::clone(&model), Arc::clone(&tokenizer), &start, &pairs(), LoraOptions { epochs: 2, max_steps: Some(5), ..options }, Some(&ckpt), |_| {}, |_| {});
        let message = longer.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("another run"), "{message}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn rope_matches_candles_kernel() -> candle_core::Result<()> {
        let device = Device::Cpu;
        let x = Tensor::randn(0f32, 1.0, (2, 3, 5, 8), &device)?;
        let cos = Tensor::randn(0f32, 1.0, (5, 4), &device)?;
        let sin = Tensor::randn(0f32, 1.0, (5, 4), &device)?;
        let ours = rope_i(&x, &cos, &sin)?;
        let theirs = candle_nn::rotary_emb::rope_i(&x.contiguous()?, &cos, &sin)?;
        let diff = (ours - theirs)?.abs()?.max_all()?.to_scalar::<f32>()?;
        assert!(diff < 1e-5, "{diff}");
        Ok(())
    }

    #[test]
    fn norm_and_softmax_match_candles_kernels() -> candle_core::Result<()> {
        let device = Device::Cpu;
        let x = Tensor::randn(0f32, 1.0, (4, 16), &device)?;
        let w = Tensor::randn(0f32, 1.0, 16, &device)?;
        let diff = (rms_norm(&x, &w, 1e-5)? - candle_nn::ops::rms_norm(&x, &w, 1e-5)?)?.abs()?.max_all()?.to_scalar::<f32>()?;
        assert!(diff < 1e-4, "{diff}");
        let diff = (softmax_last(&x)? - candle_nn::ops::softmax_last_dim(&x)?)?.abs()?.max_all()?.to_scalar::<f32>()?;
        assert!(diff < 1e-6, "{diff}");
        Ok(())
    }

    #[test]
    fn gradients_reach_through_the_norm_rope_and_softmax() -> candle_core::Result<()> {
        let device = Device::Cpu;
        let v = Var::from_tensor(&Tensor::randn(0f32, 1.0, (1, 1, 4, 8), &device)?)?;
        let cos = Tensor::randn(0f32, 1.0, (4, 4), &device)?;
        let sin = Tensor::randn(0f32, 1.0, (4, 4), &device)?;
        let w = Tensor::ones(8, DType::F32, &device)?;
        let y = softmax_last(&rms_norm(&rope_i(v.as_tensor(), &cos, &sin)?, &w, 1e-5)?)?;
        let loss = (y * Tensor::randn(0f32, 1.0, (1, 1, 4, 8), &device)?)?.sum_all()?;
        let grads = loss.backward()?;
        let g = grads.get(v.as_tensor()).expect("a gradient for the input");
        assert!(g.abs()?.sum_all()?.to_scalar::<f32>()? > 0.0);
        Ok(())
    }
}
