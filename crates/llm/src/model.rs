//! A llama-architecture model from a GGUF file, with its own forward pass: logits at every
//! position (to verify a whole draft in one pass) and a key/value cache kept outside the model
//! (so a cache after a fixed prompt prefix can be cloned and reused).
//!
//! The token embedding stays quantized: it is shared by the input lookup
//! ([`QLinear::rows`]) and the tied output projection, instead of being expanded to f32.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use candle_core::quantized::gguf_file::Content;
use candle_core::{DType, Device, Tensor, D};

use crate::lora::{Adapter, Linear};
use crate::packed_file::PackedFile;
use crate::qgemm::{Kernel, QLinear};
use crate::tokenizer::TextTokenizer;
use crate::LlmError;

/// Positions the rotary tables cover.
const MAX_POSITIONS: usize = 4096;

struct Layer {
    attn_norm: Tensor,
    wq: QLinear,
    wk: QLinear,
    wv: QLinear,
    wo: QLinear,
    ffn_norm: Tensor,
    gate: QLinear,
    up: QLinear,
    down: QLinear,
}

/// Shape of the model, from the GGUF metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    pub layers: usize,
    pub hidden: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub head_dim: usize,
    pub vocab: usize,
}

/// The loaded weights. Immutable: any number of [`Cache`]s can run on one model.
pub struct Model {
    path: PathBuf,
    config: Config,
    eps: f64,
    embedding: QLinear,
    /// The output projection when the model has its own; `None`: tied to the embedding.
    output: Option<QLinear>,
    layers: Vec<Layer>,
    norm: Tensor,
    cos: Tensor,
    sin: Tensor,
    device: Device,
}

/// Keys and values of the positions run so far, per layer. Cloning is cheap (tensors are
/// shared), which makes a prompt cache.
#[derive(Clone, Default)]
pub struct Cache {
    kv: Vec<Option<(Tensor, Tensor)>>,
    len: usize,
}

/// Some tokens run from an empty cache through the base model's first blocks (no adapter),
/// each block's output kept ([`Model::base_run`]): what prompt prefixes with different
/// adapters share. Cloning is cheap.
#[derive(Clone)]
pub struct BaseRun {
    ids: Vec<u32>,
    cache: Cache,
    outputs: Vec<Tensor>,
}

impl BaseRun {
    /// The tokens run.
    pub fn ids(&self) -> &[u32] {
        &self.ids
    }

    /// How many blocks have run.
    pub fn depth(&self) -> usize {
        self.outputs.len()
    }
}

impl Cache {
    /// Positions already in the cache.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forgets every position from `len` on (a rejected draft's tail).
    pub fn truncate(&mut self, len: usize) -> Result<(), LlmError> {
        if len >= self.len {
            return Ok(());
        }
        for (k, v) in self.kv.iter_mut().flatten() {
            *k = k.narrow(2, 0, len)?;
            *v = v.narrow(2, 0, len)?;
        }
        self.len = len;
        Ok(())
    }
}

impl Model {
    /// Loads a llama-architecture GGUF model and its tokenizer.
    pub fn load(path: &Path) -> Result<(Model, TextTokenizer), LlmError> {
        Self::load_blocks(path, None)
    }

    /// Like [`Model::load`], but only the first `blocks` blocks when given: enough for
    /// [`Model::hidden_states`] up to that block, in less memory; [`Model::forward`] then fails.
    pub fn load_blocks(path: &Path, blocks: Option<usize>) -> Result<(Model, TextTokenizer), LlmError> {
        Self::load_with(path, blocks, Kernel::default())
    }

    /// Like [`Model::load_blocks`], with the blocks' linear maps on `kernel`.
    pub fn load_with(path: &Path, blocks: Option<usize>, kernel: Kernel) -> Result<(Model, TextTokenizer), LlmError> {
        let io = |e: std::io::Error| LlmError::Io { path: path.to_path_buf(), source: e };
        let format = |detail: String| LlmError::Format { path: path.to_path_buf(), detail };
        // Buffered: the metadata (the tokenizer's 49k tokens and merges) is read a value at a
        // time, which unbuffered took 150 ms of a 290 ms load.
        let mut file = BufReader::with_capacity(1 << 20, File::open(path).map_err(io)?);
        let content = Content::read(&mut file).map_err(|e| format(format!("not a GGUF file: {e}")))?;
        let arch = content.metadata.get("general.architecture").and_then(|v| v.to_string().ok()).cloned().unwrap_or_default();
        if arch != "llama" {
            return Err(format(format!("architecture {arch:?}; only llama models are supported")));
        }
        let get = |key: &str| -> Result<u32, LlmError> {
            content.metadata.get(key).and_then(|v| v.to_u32().ok()).ok_or_else(|| format(format!("no `{key}` in the metadata")))
        };
        let heads = get("llama.attention.head_count")? as usize;
        let kv_heads = get("llama.attention.head_count_kv")? as usize;
        let layers_n = get("llama.block_count")? as usize;
        let hidden = get("llama.embedding_length")? as usize;
        if heads == 0 || kv_heads == 0 || !hidden.is_multiple_of(heads) || !heads.is_multiple_of(kv_heads) || layers_n == 0 || layers_n > 256 {
            return Err(format(format!("inconsistent shape: {heads} heads, {kv_heads} key/value heads, {hidden} wide, {layers_n} layers")));
        }
        let head_dim = hidden / heads;
        let eps = content.metadata.get("llama.attention.layer_norm_rms_epsilon").and_then(|v| v.to_f32().ok()).unwrap_or(1e-5) as f64;
        let base = content.metadata.get("llama.rope.freq_base").and_then(|v| v.to_f32().ok()).unwrap_or(10_000.0);
        let tokenizer = TextTokenizer::from_gguf(&content, path)?;
        let device = Device::Cpu;
        // The packed kernel's tiles, mapped from the packed file beside the model where it can
        // be made; packed in memory at each load otherwise.
        let packed = if kernel == Kernel::Packed && crate::qgemm::available() {
            PackedFile::open_or_make(path, &content, &mut file)
                .inspect_err(|e| tracing::warn!(error = %e, "packed maps not kept on disk; packing in memory"))
                .ok()
        } else {
            None
        };
        let tensor = |file: &mut BufReader<File>, name: &str| content.tensor(file, name, &device).map_err(|e| format(format!("tensor `{name}`: {e}")));
        let vector = |file: &mut BufReader<File>, name: &str| -> Result<Tensor, LlmError> { Ok(tensor(file, name)?.dequantize(&device)?) };
        // A linear map: mapped from the packed file, or read (and packed where the kernel runs).
        let linear = |file: &mut BufReader<File>, name: &str| -> Result<Option<QLinear>, LlmError> {
            if let Some(p) = packed.as_ref().map(|f| f.map(name)).transpose()?.flatten() {
                return Ok(Some(QLinear::Packed(p)));
            }
            if !content.tensor_infos.contains_key(name) {
                return Ok(None);
            }
            Ok(Some(QLinear::new(tensor(file, name)?, kernel)?))
        };
        let embedding = linear(&mut file, "token_embd.weight")?.ok_or_else(|| format("no tensor `token_embd.weight`".into()))?;
        let output = linear(&mut file, "output.weight")?;
        let norm = vector(&mut file, "output_norm.weight")?;
        let loaded = blocks.map_or(layers_n, |b| b.min(layers_n));
        let mut layers = Vec::with_capacity(loaded);
        for i in 0..loaded {
            let mut q = |n: &str| linear(&mut file, &format!("blk.{i}.{n}.weight"))?.ok_or_else(|| format(format!("no tensor `blk.{i}.{n}.weight`")));
            let (wq, wk, wv, wo) = (q("attn_q")?, q("attn_k")?, q("attn_v")?, q("attn_output")?);
            let (gate, up, down) = (q("ffn_gate")?, q("ffn_up")?, q("ffn_down")?);
            layers.push(Layer {
                wq,
                wk,
                wv,
                wo,
                gate,
                up,
                down,
                attn_norm: vector(&mut file, &format!("blk.{i}.attn_norm.weight"))?,
                ffn_norm: vector(&mut file, &format!("blk.{i}.ffn_norm.weight"))?,
            });
        }
        let vocab = embedding.dims().0;
        let inv: Vec<f32> = (0..head_dim).step_by(2).map(|i| 1.0 / base.powf(i as f32 / head_dim as f32)).collect();
        let inv = Tensor::new(inv.as_slice(), &device)?;
        let positions = Tensor::arange(0, MAX_POSITIONS as u32, &device)?.to_dtype(DType::F32)?.reshape((MAX_POSITIONS, 1))?;
        let angles = positions.matmul(&inv.reshape((1, head_dim / 2))?)?;
        let config = Config { layers: layers_n, hidden, heads, kv_heads, head_dim, vocab };
        tracing::info!(path = %path.display(), ?config, blocks = loaded, "polishing model loaded");
        let model = Model { path: path.to_path_buf(), config, eps, embedding, output, layers, norm, cos: angles.cos()?, sin: angles.sin()?, device };
        Ok((model, tokenizer))
    }

    pub fn config(&self) -> Config {
        self.config
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many blocks are loaded (all of them unless [`Model::load_blocks`] said fewer).
    pub fn loaded_blocks(&self) -> usize {
        self.layers.len()
    }

    /// Block `block`'s weights (1-based) in f32, for training an adapter on it: the seven
    /// linear maps transposed (`in x out`, in [`Linear`] order), the attention norm and the
    /// feed-forward norm.
    pub fn block_weights(&self, block: usize) -> Result<(Vec<Tensor>, Tensor, Tensor), LlmError> {
        let layer = block.checked_sub(1).and_then(|i| self.layers.get(i)).ok_or_else(|| LlmError::Input(format!("block {block} is not loaded")))?;
        let dense = |m: &QLinear| -> Result<Tensor, LlmError> { Ok(m.dequantize()?.t()?.contiguous()?) };
        let linears = [&layer.wq, &layer.wk, &layer.wv, &layer.wo, &layer.gate, &layer.up, &layer.down].into_iter().map(dense).collect::<Result<Vec<_>, _>>()?;
        Ok((linears, layer.attn_norm.clone(), layer.ffn_norm.clone()))
    }

    /// The RMS norm's epsilon and the rotary tables (`(positions, head_dim / 2)` cosines and
    /// sines), for a training forward pass that must match this one.
    pub fn norm_and_rotary(&self) -> (f64, &Tensor, &Tensor) {
        (self.eps, &self.cos, &self.sin)
    }

    /// A cache for this model.
    pub fn new_cache(&self) -> Cache {
        Cache { kv: vec![None; self.config.layers], len: 0 }
    }

    /// Runs `ids` after the positions already in `cache` (which grows by `ids.len()`) and
    /// returns the logits of every new position: shape `(ids.len(), vocab)`.
    pub fn forward(&self, ids: &[u32], cache: &mut Cache) -> Result<Tensor, LlmError> {
        let x = self.run_all(ids, cache)?;
        self.project(&x)
    }

    /// Like [`Model::forward`], but the logits of the last new position only (`(vocab,)`): the
    /// output projection, 49k rows, is the costliest part of a pass over a prompt whose other
    /// positions' logits no one reads.
    pub fn forward_last(&self, ids: &[u32], cache: &mut Cache) -> Result<Tensor, LlmError> {
        if ids.is_empty() {
            return Err(LlmError::Input("no tokens to run".into()));
        }
        let x = self.run_all(ids, cache)?;
        Ok(self.project(&x.narrow(1, ids.len() - 1, 1)?)?.squeeze(0)?)
    }

    /// Every block over `ids` (which the output projection needs loaded).
    fn run_all(&self, ids: &[u32], cache: &mut Cache) -> Result<Tensor, LlmError> {
        if self.layers.len() < self.config.layers {
            return Err(LlmError::Input(format!("only {} of the model's {} blocks are loaded", self.layers.len(), self.config.layers)));
        }
        self.run_layers(ids, cache, self.config.layers, None, |_, _| Ok(()))
    }

    /// The final norm and the output projection (the embedding, when tied) of the last block's
    /// states `(1, t, hidden)`: `(t, vocab)` logits.
    fn project(&self, x: &Tensor) -> Result<Tensor, LlmError> {
        let x = candle_nn::ops::rms_norm(x, &self.norm, self.eps as f32)?;
        let logits = self.output.as_ref().unwrap_or(&self.embedding).forward(&x)?.squeeze(0)?;
        Ok(logits.to_dtype(DType::F32)?)
    }

    /// Runs `ids` through the first `layers` blocks only (no output projection) and returns
    /// the hidden state after each block named in `wanted` (1-based: block 1 is the first,
    /// `config().layers` the last), each of shape `(ids.len(), hidden)`, in `wanted`'s order.
    /// The cache holds only those blocks' keys and values afterwards, so it serves further
    /// calls to this method with the same `wanted`, not [`Model::forward`].
    pub fn hidden_states(&self, ids: &[u32], cache: &mut Cache, wanted: &[usize]) -> Result<Vec<Tensor>, LlmError> {
        self.hidden_states_adapted(ids, cache, wanted, None)
    }

    /// [`Model::hidden_states`] with a low-rank adapter added to the blocks it covers.
    pub fn hidden_states_adapted(&self, ids: &[u32], cache: &mut Cache, wanted: &[usize], adapter: Option<&Adapter>) -> Result<Vec<Tensor>, LlmError> {
        let deepest = wanted.iter().copied().max().unwrap_or(0);
        if deepest == 0 || deepest > self.layers.len() {
            return Err(LlmError::Input(format!("hidden states of blocks {wanted:?}; blocks 1..={} are loaded", self.layers.len())));
        }
        let mut found: Vec<Option<Tensor>> = vec![None; wanted.len()];
        self.run_layers(ids, cache, deepest, adapter, |block, x| {
            for (slot, &w) in found.iter_mut().zip(wanted) {
                if w == block {
                    *slot = Some(x.squeeze(0)?);
                }
            }
            Ok(())
        })?;
        found.into_iter().map(|t| t.ok_or_else(|| LlmError::Input("a requested block was not run".into()))).collect()
    }

    /// The embedding and the first `depth` blocks over `ids`, after `cache`; `each(block, x)`
    /// sees the output of every block (1-based). Returns the last block's output `(1, t, hidden)`.
    fn run_layers(
        &self,
        ids: &[u32],
        cache: &mut Cache,
        depth: usize,
        adapter: Option<&Adapter>,
        each: impl FnMut(usize, &Tensor) -> Result<(), LlmError>,
    ) -> Result<Tensor, LlmError> {
        let t = ids.len();
        let past = cache.len;
        if t == 0 {
            return Err(LlmError::Input("no tokens to run".into()));
        }
        if past + t > MAX_POSITIONS {
            return Err(LlmError::Input(format!("{} positions is more than the {MAX_POSITIONS} supported", past + t)));
        }
        if cache.kv.len() != self.config.layers {
            cache.kv = vec![None; self.config.layers];
        }
        let x = self.embedding.rows(ids)?.unsqueeze(0)?;
        let x = self.run_blocks(x, 0, depth, past, cache, adapter, each)?;
        cache.len = past + t;
        Ok(x)
    }

    /// Blocks `from + 1 ..= depth` (1-based) over `x`, the output of block `from` (or the
    /// embedding) for positions `past..` of `cache`, which each block's keys and values join.
    #[allow(clippy::too_many_arguments)]
    fn run_blocks(
        &self,
        mut x: Tensor,
        from: usize,
        depth: usize,
        past: usize,
        cache: &mut Cache,
        adapter: Option<&Adapter>,
        mut each: impl FnMut(usize, &Tensor) -> Result<(), LlmError>,
    ) -> Result<Tensor, LlmError> {
        let c = self.config;
        let t = x.dim(1)?;
        let cos = self.cos.narrow(0, past, t)?;
        let sin = self.sin.narrow(0, past, t)?;
        let mask = causal_mask(t, past, &self.device)?;
        for (block, (layer, slot)) in self.layers.iter().zip(cache.kv.iter_mut()).enumerate().take(depth).skip(from) {
            let lora = adapter.and_then(|a| Some((a.block(block + 1)?, a.scale)));
            // The maps in `group` (which all read `h`), each with its adapter's delta added.
            let lin = |group: &[(Linear, &QLinear)], h: &Tensor| -> candle_core::Result<Vec<Tensor>> {
                let plain = group.iter().map(|(_, m)| m.forward(h)).collect::<candle_core::Result<Vec<_>>>()?;
                let Some((l, scale)) = lora else { return Ok(plain) };
                let which: Vec<Linear> = group.iter().map(|(w, _)| *w).collect();
                plain.into_iter().zip(l.deltas(&which, h, scale)?).map(|(y, d)| y + d).collect()
            };
            let h = candle_nn::ops::rms_norm(&x, &layer.attn_norm, self.eps as f32)?;
            let [q, k, v]: [Tensor; 3] = lin(&[(Linear::Q, &layer.wq), (Linear::K, &layer.wk), (Linear::V, &layer.wv)], &h)?.try_into().map_err(|_| candle_core::Error::Msg("three maps".into()))?;
            let q = q.reshape((1, t, c.heads, c.head_dim))?.transpose(1, 2)?.contiguous()?;
            let k = k.reshape((1, t, c.kv_heads, c.head_dim))?.transpose(1, 2)?.contiguous()?;
            let v = v.reshape((1, t, c.kv_heads, c.head_dim))?.transpose(1, 2)?;
            let q = candle_nn::rotary_emb::rope_i(&q, &cos, &sin)?;
            let k = candle_nn::rotary_emb::rope_i(&k, &cos, &sin)?;
            let (k, v) = match slot.take() {
                Some((pk, pv)) => (Tensor::cat(&[&pk, &k], 2)?, Tensor::cat(&[&pv, &v], 2)?),
                None => (k, v.contiguous()?),
            };
            *slot = Some((k.clone(), v.clone()));
            let (k, v) = (repeat_kv(&k, c.heads / c.kv_heads)?, repeat_kv(&v, c.heads / c.kv_heads)?);
            let scores = (q.matmul(&k.t()?)? / (c.head_dim as f64).sqrt())?;
            let scores = scores.broadcast_add(&mask)?;
            let weights = candle_nn::ops::softmax_last_dim(&scores)?;
            let attn = weights.matmul(&v.contiguous()?)?.transpose(1, 2)?.reshape((1, t, c.hidden))?;
            let one = |v: Vec<Tensor>| v.into_iter().next().ok_or_else(|| candle_core::Error::Msg("one map".into()));
            x = (one(lin(&[(Linear::O, &layer.wo)], &attn)?)? + &x)?;
            let h = candle_nn::ops::rms_norm(&x, &layer.ffn_norm, self.eps as f32)?;
            let [gate, up]: [Tensor; 2] = lin(&[(Linear::Gate, &layer.gate), (Linear::Up, &layer.up)], &h)?.try_into().map_err(|_| candle_core::Error::Msg("two maps".into()))?;
            let mlp = one(lin(&[(Linear::Down, &layer.down)], &(candle_nn::ops::silu(&gate)? * up)?)?)?;
            x = (mlp + &x)?;
            each(block + 1, &x)?;
        }
        Ok(x)
    }

    /// Runs `ids` from an empty cache through the base model (no adapter), block by block up
    /// to `depth`, keeping each block's output: a prompt prefix that runs with an adapter later
    /// repeats only the adapted blocks ([`Model::prefix_after`]).
    pub fn base_run(&self, ids: &[u32], depth: usize) -> Result<BaseRun, LlmError> {
        let mut run = BaseRun { ids: ids.to_vec(), cache: self.new_cache(), outputs: Vec::new() };
        self.extend_base_run(&mut run, depth)?;
        Ok(run)
    }

    /// Runs more blocks of `run`, up to `depth` (no change when it already has them).
    fn extend_base_run(&self, run: &mut BaseRun, depth: usize) -> Result<(), LlmError> {
        let done = run.outputs.len();
        let depth = depth.min(self.layers.len());
        if depth <= done {
            return Ok(());
        }
        let mut outputs = Vec::with_capacity(depth - done);
        if done == 0 {
            self.run_layers(&run.ids, &mut run.cache, depth, None, |_, x| Ok(outputs.push(x.clone())))?;
        } else {
            let x = run.outputs[done - 1].clone();
            self.run_blocks(x, done, depth, 0, &mut run.cache, None, |_, x| Ok(outputs.push(x.clone())))?;
        }
        run.outputs.extend(outputs);
        Ok(())
    }

    /// The cache [`Model::hidden_states_adapted`] leaves after running `base`'s tokens from an
    /// empty cache up to block `deepest` with `adapter`, computed from `base`: the blocks below
    /// the adapter's first are the base model's (taken as they are, run first where `base`
    /// does not reach them yet), and only the blocks from the adapter's first on run again.
    pub fn prefix_after(&self, base: &mut BaseRun, deepest: usize, adapter: Option<&Adapter>) -> Result<Cache, LlmError> {
        if deepest == 0 || deepest > self.layers.len() {
            return Err(LlmError::Input(format!("a prefix up to block {deepest}; blocks 1..={} are loaded", self.layers.len())));
        }
        let same_up_to = adapter.map_or(deepest, |a| a.first.saturating_sub(1).min(deepest));
        self.extend_base_run(base, same_up_to)?;
        let mut cache = Cache { kv: vec![None; self.config.layers], len: 0 };
        cache.kv[..same_up_to].clone_from_slice(&base.cache.kv[..same_up_to]);
        if same_up_to < deepest {
            let x = match same_up_to {
                0 => self.embedding.rows(&base.ids)?.unsqueeze(0)?,
                n => base.outputs[n - 1].clone(),
            };
            self.run_blocks(x, same_up_to, deepest, 0, &mut cache, adapter, |_, _| Ok(()))?;
        }
        cache.len = base.ids.len();
        Ok(cache)
    }
}

/// Position i of the new tokens sees every cached position and new positions up to i.
fn causal_mask(t: usize, past: usize, device: &Device) -> Result<Tensor, LlmError> {
    let total = past + t;
    let values: Vec<f32> = (0..t).flat_map(|i| (0..total).map(move |j| if j > past + i { f32::NEG_INFINITY } else { 0.0 })).collect();
    Ok(Tensor::from_vec(values, (t, total), device)?)
}

/// Each key/value head repeated `n` times (grouped-query attention), for `(batch, heads,
/// positions, head_dim)`; differentiable, so the training pass uses it too.
pub(crate) fn repeat_kv(x: &Tensor, n: usize) -> candle_core::Result<Tensor> {
    if n == 1 {
        return Ok(x.clone());
    }
    let (b, h, s, d) = x.dims4()?;
    x.unsqueeze(2)?.expand((b, h, n, s, d))?.reshape((b, h * n, s, d))
}

/// The index of the largest value in each row of `(rows, vocab)` logits.
pub fn argmax_rows(logits: &Tensor) -> Result<Vec<u32>, LlmError> {
    Ok(logits.argmax(D::Minus1)?.to_vec1::<u32>()?)
}
