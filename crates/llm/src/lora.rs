//! Low-rank adapters (LoRA) on the polishing model's blocks: for each of a block's seven
//! linear maps `W`, two small matrices `A` (rank x in) and `B` (out x rank) add
//! `scale * B (A x)` to `W x`. The base weights stay as loaded (quantized); an adapter is a
//! few megabytes and is swapped without touching them.

use std::collections::HashMap;
use std::sync::OnceLock;

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
    /// The matrices as a forward pass uses them, made at its first use.
    fused: OnceLock<Fused>,
}

/// The maps that read the same input share one product with their `A^T`s side by side
/// (`x [A_q^T A_k^T A_v^T]`, then each map's columns times its `B^T`), and the scale is in the
/// `B^T`s: 11 small products a block instead of 14, and no scaling pass (each such operation
/// costs more in dispatch than in arithmetic at a sentence's 20-60 rows).
#[derive(Clone)]
struct Fused {
    scale: f64,
    /// `A^T` of each group in [`GROUPS`], side by side.
    a_t: Vec<Tensor>,
    /// `scale * B^T` of each map.
    b_t: Vec<Tensor>,
}

/// The maps grouped by their input: attention's input, its output, the feed-forward input,
/// and the down projection's input.
const GROUPS: [&[Linear]; 4] = [&[Linear::Q, Linear::K, Linear::V], &[Linear::O], &[Linear::Gate, Linear::Up], &[Linear::Down]];

impl BlockAdapter {
    pub fn new(a_t: Vec<Tensor>, b_t: Vec<Tensor>) -> Self {
        BlockAdapter { a_t, b_t, fused: OnceLock::new() }
    }

    /// `scale * (x A^T) B^T` for `x` of shape `(.., in)`.
    pub fn delta(&self, which: Linear, x: &Tensor, scale: f64) -> candle_core::Result<Tensor> {
        let (a, b) = (&self.a_t[which as usize], &self.b_t[which as usize]);
        x.broadcast_matmul(a)?.broadcast_matmul(b)? * scale
    }

    /// [`BlockAdapter::delta`] of each map in `group` (one of attention's input maps `[Q, K,
    /// V]`, `[O]`, `[Gate, Up]` or `[Down]`, which read the same `x`), in its order.
    pub fn deltas(&self, group: &[Linear], x: &Tensor, scale: f64) -> candle_core::Result<Vec<Tensor>> {
        if self.fused.get().is_none() {
            let a_t = GROUPS.iter().map(|g| Tensor::cat(&g.iter().map(|&l| &self.a_t[l as usize]).collect::<Vec<_>>(), 1)?.contiguous()).collect::<candle_core::Result<Vec<_>>>()?;
            let b_t = self.b_t.iter().map(|b| (b * scale)?.contiguous()).collect::<candle_core::Result<Vec<_>>>()?;
            // Two threads may both make it; either copy serves.
            let _ = self.fused.set(Fused { scale, a_t, b_t });
        }
        // An adapter runs with one scale; the fused matrices hold the first one asked for.
        let (Some(g), Some(fused)) = (GROUPS.iter().position(|g| *g == group), self.fused.get().filter(|f| f.scale == scale)) else {
            return group.iter().map(|&l| self.delta(l, x, scale)).collect();
        };
        let dims = x.dims().to_vec();
        let Some((&width, rows)) = dims.split_last() else { candle_core::bail!("a scalar input to an adapter") };
        let rows: usize = rows.iter().product();
        let xa = x.reshape((rows, width))?.matmul(&fused.a_t[g])?;
        let rank = self.a_t[group[0] as usize].dim(1)?;
        group
            .iter()
            .enumerate()
            .map(|(i, &l)| {
                let d = xa.narrow(1, i * rank, rank)?.matmul(&fused.b_t[l as usize])?;
                let mut shape = dims.clone();
                if let Some(last) = shape.last_mut() {
                    *last = d.dim(1)?;
                }
                d.reshape(shape)
            })
            .collect()
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

    /// One adapter whose weight change is the mean of `adapters`' (same blocks and scale): the
    /// `A^T`s side by side and the `B^T`s stacked, each divided by their number, so the ranks add
    /// up and `scale * B A` is exactly the mean of theirs.
    pub fn average(adapters: &[&Adapter]) -> Result<Adapter, LlmError> {
        let Some(first) = adapters.first() else { return Err(LlmError::Input("no adapters to average".into())) };
        if let Some(other) = adapters.iter().find(|a| a.first != first.first || a.blocks.len() != first.blocks.len() || a.scale != first.scale) {
            return Err(LlmError::Input(format!(
                "adapters on blocks {}..={} (scale {}) and {}..={} (scale {}) cannot be averaged",
                first.first,
                first.last(),
                first.scale,
                other.first,
                other.last(),
                other.scale
            )));
        }
        let share = 1.0 / adapters.len() as f64;
        let mut blocks = Vec::with_capacity(first.blocks.len());
        for i in 0..first.blocks.len() {
            let (mut a_t, mut b_t) = (Vec::new(), Vec::new());
            for l in Linear::ALL {
                let a: Vec<&Tensor> = adapters.iter().map(|x| &x.blocks[i].a_t[l as usize]).collect();
                let b: Vec<Tensor> = adapters.iter().map(|x| &x.blocks[i].b_t[l as usize] * share).collect::<candle_core::Result<_>>()?;
                a_t.push(Tensor::cat(&a, 1)?);
                b_t.push(Tensor::cat(&b, 0)?);
            }
            blocks.push(BlockAdapter::new(a_t, b_t));
        }
        Ok(Adapter { first: first.first, rank: adapters.iter().map(|a| a.rank).sum(), scale: first.scale, blocks })
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
            blocks.push(BlockAdapter::new(a_t, b_t));
        }
        Ok(Some(Adapter { first, rank, scale: scale as f64, blocks }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WIDTH: usize = 24;
    const WIDE: usize = 40;
    const OUTS: [usize; 7] = [WIDTH, 8, 8, WIDTH, WIDE, WIDE, WIDTH];
    const INS: [usize; 7] = [WIDTH, WIDTH, WIDTH, WIDTH, WIDTH, WIDTH, WIDE];

    fn random_block(rank: usize) -> BlockAdapter {
        let d = Device::Cpu;
        let a_t = INS.iter().map(|&i| Tensor::randn(0f32, 1.0, (i, rank), &d)).collect::<candle_core::Result<Vec<_>>>().expect("a");
        let b_t = OUTS.iter().map(|&o| Tensor::randn(0f32, 1.0, (rank, o), &d)).collect::<candle_core::Result<Vec<_>>>().expect("b");
        BlockAdapter::new(a_t, b_t)
    }

    fn largest_difference(a: &Tensor, b: &Tensor) -> f32 {
        (a - b).expect("sub").abs().expect("abs").max_all().expect("max").to_scalar::<f32>().expect("scalar")
    }

    #[test]
    fn an_average_changes_each_map_by_the_mean_of_the_changes() {
        let adapter = |rank| Adapter { first: 3, rank, scale: 2.0, blocks: vec![random_block(rank), random_block(rank)] };
        let (one, two) = (adapter(4), adapter(4));
        let mean = Adapter::average(&[&one, &two]).expect("average");
        assert_eq!((mean.first, mean.rank, mean.blocks.len()), (3, 8, 2));
        for l in Linear::ALL {
            let x = Tensor::randn(0f32, 1.0, (1, 5, INS[l as usize]), &Device::Cpu).expect("x");
            let want = ((one.blocks[1].delta(l, &x, 2.0).expect("one") + two.blocks[1].delta(l, &x, 2.0).expect("two")).expect("sum") * 0.5).expect("half");
            let got = mean.blocks[1].delta(l, &x, mean.scale).expect("mean");
            assert!(largest_difference(&got, &want) < 1e-3, "{}", l.name());
        }
        let elsewhere = Adapter { first: 4, ..adapter(4) };
        assert!(Adapter::average(&[&one, &elsewhere]).is_err(), "other blocks cannot be averaged");
        assert!(Adapter::average(&[]).is_err());
    }

    #[test]
    fn grouped_deltas_are_the_maps_one_by_one() {
        let d = Device::Cpu;
        let (ins, block) = (INS, random_block(4));
        for group in GROUPS {
            let x = Tensor::randn(0f32, 1.0, (1, 5, ins[group[0] as usize]), &d).expect("x");
            let together = block.deltas(group, &x, 0.5).expect("deltas");
            for (l, got) in group.iter().zip(together) {
                let want = block.delta(*l, &x, 0.5).expect("delta");
                assert_eq!(got.dims(), want.dims());
                let off = largest_difference(&got, &want);
                assert!(off < 1e-4, "{}: off by {off}", l.name());
            }
        }
    }
}
