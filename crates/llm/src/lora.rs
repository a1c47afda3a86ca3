//! Low-rank adapters (LoRA) on the polishing model's blocks: for each of a block's seven
//! linear maps `W`, two small matrices `A` (rank x in) and `B` (out x rank) add
//! `scale * B (A x)` to `W x`. The base weights stay as loaded (quantized); an adapter is a
//! few megabytes and is swapped without touching them.

use std::collections::HashMap;

use candle_core::{Device, Tensor};

use crate::LlmError;

/// The linear maps of a block, in the order adapters store them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Linear {
    Q = 0,
    K = 1,
    V = 2,
    O = 3,
    Gate = 4,
    Up = 5,
    Down = 6,
}

impl Linear {
    pub const ALL: [Linear; 7] = [Linear::Q, Linear::K, Linear::V, Linear::O, Linear::Gate, Linear::Up, Linear::Down];

    pub fn name(self) -> &'static str {
        ["q", "k", "v", "o", "gate", "up", "down"][self as usize]
    }
}

/// One block's adapter: per linear map, `A^T` (in x rank) and `B^T` (rank x out), stored
/// transposed so that a row of states multiplies them directly.
#[derive(Clone)]
pub struct BlockAdapter {
    pub a_t: Vec<Tensor>,
    pub b_t: Vec<Tensor>,
}

impl BlockAdapter {
    /// `scale * (x A^T) B^T` for `x` of shape `(.., in)`.
    pub fn delta(&self, which: Linear, x: &Tensor, scale: f64) -> candle_core::Result<Tensor> {
        let (a, b) = (&self.a_t[which as usize], &self.b_t[which as usize]);
        x.broadcast_matmul(a)?.broadcast_matmul(b)? * scale
    }
}

/// Adapters for a run of consecutive blocks.
#[derive(Clone)]
pub struct Adapter {
    /// The first adapted block (1-based, as in [`crate::Model::hidden_states`]).
    pub first: usize,
    pub rank: usize,
    pub scale: f64,
    pub blocks: Vec<BlockAdapter>,
}

impl Adapter {
    /// The adapter of block `block` (1-based), if it has one.
    pub fn block(&self, block: usize) -> Option<&BlockAdapter> {
        block.checked_sub(self.first).and_then(|i| self.blocks.get(i))
    }

    /// The last adapted block (1-based).
    pub fn last(&self) -> usize {
        self.first + self.blocks.len().saturating_sub(1)
    }

    /// Parameters in all its matrices.
    pub fn parameters(&self) -> usize {
        self.blocks.iter().flat_map(|b| b.a_t.iter().chain(&b.b_t)).map(|t| t.elem_count()).sum()
    }

    /// The tensors under `lora.*` names, for a safetensors file.
    pub fn to_tensors(&self) -> Result<HashMap<String, Tensor>, LlmError> {
        let mut t = HashMap::new();
        t.insert("lora.meta".to_owned(), Tensor::new(&[self.first as f32, self.rank as f32, self.scale as f32, self.blocks.len() as f32], &Device::Cpu)?);
        for (i, b) in self.blocks.iter().enumerate() {
            for l in Linear::ALL {
                t.insert(format!("lora.{}.{}.a_t", self.first + i, l.name()), b.a_t[l as usize].clone());
                t.insert(format!("lora.{}.{}.b_t", self.first + i, l.name()), b.b_t[l as usize].clone());
            }
        }
        Ok(t)
    }

    /// The adapter in `t` (taking its tensors out), `None` when `t` has none.
    pub fn from_tensors(t: &mut HashMap<String, Tensor>, source: &str) -> Result<Option<Adapter>, LlmError> {
        let bad = |detail: String| LlmError::Input(format!("{source}: {detail}"));
        let Some(meta) = t.remove("lora.meta") else { return Ok(None) };
        let meta = meta.to_vec1::<f32>()?;
        let [first, rank, scale, count] = meta[..] else { return Err(bad("`lora.meta` must hold [first block, rank, scale, blocks]".into())) };
        if !(first >= 1.0 && rank >= 1.0 && count >= 1.0 && first.fract() == 0.0 && rank.fract() == 0.0 && count.fract() == 0.0 && scale.is_finite()) {
            return Err(bad(format!("bad adapter settings: first block {first}, rank {rank}, scale {scale}, {count} blocks")));
        }
        let (first, rank, count) = (first as usize, rank as usize, count as usize);
        let mut blocks = Vec::with_capacity(count);
        for i in 0..count {
            let (mut a_t, mut b_t) = (Vec::new(), Vec::new());
            for l in Linear::ALL {
                let mut take = |part: &str| {
                    let name = format!("lora.{}.{}.{part}", first + i, l.name());
                    t.remove(&name).ok_or_else(|| bad(format!("no tensor `{name}`")))
                };
                let (a, b) = (take("a_t")?, take("b_t")?);
                if a.dims2()?.1 != rank || b.dims2()?.0 != rank {
                    return Err(bad(format!("block {} {}: shapes {:?} and {:?} are not of rank {rank}", first + i, l.name(), a.dims(), b.dims())));
                }
                a_t.push(a);
                b_t.push(b);
            }
            blocks.push(BlockAdapter { a_t, b_t });
        }
        Ok(Some(Adapter { first, rank, scale: scale as f64, blocks }))
    }
}
