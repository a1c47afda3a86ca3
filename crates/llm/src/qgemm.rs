//! The polishing model's linear maps (Q8_0 weights) multiplied with AVX-512 VNNI.
//!
//! candle multiplies a Q8_0 matrix one dot product of one input row against four weight rows
//! at a time (AVX2 `maddubs`). Its tiled VNNI kernel needs the inner size to be a multiple of
//! 256, which SmolLM2's 576-wide maps are not, so on this model only the down projection
//! took it. Here the weights are repacked once, at load time, into tiles of 16 output rows by
//! one 32-value block, so that one `vpdpbusd` adds four products to each of 16 outputs, and
//! each weight load serves eight input rows. The packed copy replaces the loaded tensor (the
//! same bytes plus one scale per row and block in f32), so memory does not grow. Where it can
//! be written, the packed copy is kept on disk beside the model and mapped at later loads
//! ([`crate::packed_file`]).
//!
//! The arithmetic is candle's: inputs are quantized to Q8_0 exactly as candle quantizes them,
//! each block's integer dot product is exact, and is scaled by the product of the two block
//! scales. Only the order of the float additions across blocks differs (a relative difference
//! of about 1e-7, tested against candle below).
//!
//! The weights are stored offset by +128 (`vpdpbusd` multiplies unsigned by signed bytes), and
//! `128 * sum(x)` per input block is taken off again.
//!
//! Without AVX-512 VNNI (or with `SCRIVO_QGEMM=off`, for comparisons) the maps stay candle's
//! `QMatMul`.

#![allow(unsafe_code)]

use std::sync::OnceLock;

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{DType, Device, Module, Storage, Tensor};
use half::f16;
use rayon::prelude::*;

/// Output rows per tile (one 512-bit register of i32 or f32).
const TILE_ROWS: usize = 16;
/// Values per Q8_0 block.
const BLOCK: usize = 32;
/// Input rows that share each weight load.
const ROWS_AT_ONCE: usize = 8;
/// Products below which one thread does the whole product: handing work to the other
/// threads costs more than it saves below about 4 million (on 2 cores, 40 rows: 576 x 192
/// took 45 us on one thread, 55 us on two; 576 x 576, 102 us and 90 us; 576 x 1536, 243 us
/// and 166 us).
const SERIAL_BELOW: usize = 1 << 22;

/// 16 output rows by one block of 32 inputs: `qs[g * 64 + r * 4 + j]` is row `r`'s weight
/// `4 * g + j` of the block plus 128; `d[r]` the row's block scale.
#[repr(C, align(64))]
#[derive(Clone)]
struct Tile {
    qs: [u8; BLOCK * TILE_ROWS],
    d: [f32; TILE_ROWS],
}

/// Bytes of one tile (no padding: 512 weights and 16 scales).
pub(crate) const TILE_BYTES: usize = std::mem::size_of::<Tile>();

/// A Q8_0 matrix of `n` outputs by `k` inputs, packed for [`PackedQ8::matmul`].
pub struct PackedQ8 {
    n: usize,
    k: usize,
    /// `[n / 16 rounded up][k / 32]`.
    tiles: Tiles,
}

/// Where the tiles live: packed in memory, or mapped from the model's packed file
/// ([`crate::packed_file`]), whose pages the page cache keeps after the model is let go.
enum Tiles {
    Owned(Vec<Tile>),
    Mapped(memmap2::Mmap),
}

impl Tiles {
    fn as_slice(&self) -> &[Tile] {
        match self {
            Tiles::Owned(tiles) => tiles,
            // SAFETY: `PackedQ8::from_map` checked that the mapping starts on a 64-byte
            // boundary and holds a whole number of tiles; any bytes are a valid `Tile` (bytes
            // and f32s); the mapping lives as long as `self`.
            Tiles::Mapped(map) => unsafe { std::slice::from_raw_parts(map.as_ptr().cast::<Tile>(), map.len() / TILE_BYTES) },
        }
    }
}

/// Whether this CPU runs the packed kernel, and it is not switched off.
pub fn available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let off = std::env::var("SCRIVO_QGEMM").is_ok_and(|v| v == "off" || v == "0");
        let cpu = cpu_has_vnni();
        tracing::debug!(cpu, off, "packed Q8_0 kernel");
        cpu && !off
    })
}

#[cfg(target_arch = "x86_64")]
fn cpu_has_vnni() -> bool {
    is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bw") && is_x86_feature_detected!("avx512vnni")
}

#[cfg(not(target_arch = "x86_64"))]
fn cpu_has_vnni() -> bool {
    false
}

impl PackedQ8 {
    /// Packs a `(n, k)` Q8_0 tensor; `None` for other types or shapes.
    pub fn pack(t: &QTensor) -> candle_core::Result<Option<PackedQ8>> {
        let Ok((n, k)) = t.shape().dims2() else { return Ok(None) };
        if t.dtype() != GgmlDType::Q8_0 || k == 0 || !k.is_multiple_of(BLOCK) || n == 0 {
            return Ok(None);
        }
        let data = t.data()?;
        let kb = k / BLOCK;
        // A Q8_0 block: the scale (f16, little-endian), then 32 signed bytes.
        const BLOCK_BYTES: usize = 2 + BLOCK;
        if data.len() != n * kb * BLOCK_BYTES {
            candle_core::bail!("a Q8_0 tensor of {n} x {k} holds {} bytes", data.len());
        }
        let n_tiles = n.div_ceil(TILE_ROWS);
        let empty = Tile { qs: [128; BLOCK * TILE_ROWS], d: [0.0; TILE_ROWS] };
        let mut tiles = vec![empty; n_tiles * kb];
        for row in 0..n {
            let (tile_row, r) = (row / TILE_ROWS, row % TILE_ROWS);
            for b in 0..kb {
                let src = &data[(row * kb + b) * BLOCK_BYTES..][..BLOCK_BYTES];
                let tile = &mut tiles[tile_row * kb + b];
                tile.d[r] = f16::from_le_bytes([src[0], src[1]]).to_f32();
                // Four weights at a time; adding 128 to a signed byte read as unsigned is
                // flipping its top bit.
                for (g, q) in src[2..].chunks_exact(4).enumerate() {
                    let at = g * 64 + r * 4;
                    tile.qs[at..at + 4].copy_from_slice(&[q[0] ^ 0x80, q[1] ^ 0x80, q[2] ^ 0x80, q[3] ^ 0x80]);
                }
            }
        }
        Ok(Some(PackedQ8 { n, k, tiles: Tiles::Owned(tiles) }))
    }

    /// How many bytes the tiles of an `n` x `k` matrix take.
    pub(crate) fn packed_len(n: usize, k: usize) -> usize {
        n.div_ceil(TILE_ROWS) * (k / BLOCK) * TILE_BYTES
    }

    /// The tiles as bytes, as [`PackedQ8::from_map`] reads them back.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        let tiles = self.tiles.as_slice();
        // SAFETY: `Tile` is `repr(C)` without padding (512 bytes then 16 f32s); reading its
        // bytes is reading initialised memory.
        unsafe { std::slice::from_raw_parts(tiles.as_ptr().cast::<u8>(), std::mem::size_of_val(tiles)) }
    }

    /// An `n` x `k` matrix whose tiles are `map` (written by [`PackedQ8::as_bytes`]).
    pub(crate) fn from_map(n: usize, k: usize, map: memmap2::Mmap) -> candle_core::Result<PackedQ8> {
        if k == 0 || n == 0 || !k.is_multiple_of(BLOCK) || map.len() != Self::packed_len(n, k) {
            candle_core::bail!("{} packed bytes for a matrix of {n} x {k}", map.len());
        }
        if !(map.as_ptr() as usize).is_multiple_of(std::mem::align_of::<Tile>()) {
            candle_core::bail!("packed tiles mapped off a {}-byte boundary", std::mem::align_of::<Tile>());
        }
        Ok(PackedQ8 { n, k, tiles: Tiles::Mapped(map) })
    }

    pub fn dims(&self) -> (usize, usize) {
        (self.n, self.k)
    }

    /// Rows `ids` of the matrix in f32, `(ids.len(), k)`: a lookup in an embedding table.
    pub fn rows(&self, ids: &[u32]) -> candle_core::Result<Tensor> {
        let kb = self.k / BLOCK;
        let mut out = vec![0f32; ids.len() * self.k];
        for (&id, dst) in ids.iter().zip(out.chunks_exact_mut(self.k)) {
            let row = id as usize;
            if row >= self.n {
                candle_core::bail!("row {row} of a matrix of {} rows", self.n);
            }
            let (tile_row, r) = (row / TILE_ROWS, row % TILE_ROWS);
            for (b, dst) in dst.chunks_exact_mut(BLOCK).enumerate() {
                let tile = &self.tiles.as_slice()[tile_row * kb + b];
                for (i, v) in dst.iter_mut().enumerate() {
                    *v = f32::from(i16::from(tile.qs[(i / 4) * 64 + r * 4 + i % 4]) - 128) * tile.d[r];
                }
            }
        }
        Tensor::from_vec(out, (ids.len(), self.k), &Device::Cpu)
    }

    /// The weights in f32, `(n, k)`: what candle's `dequantize` gives for the tensor packed.
    pub fn dequantize(&self) -> candle_core::Result<Tensor> {
        let all: Vec<u32> = (0..self.n as u32).collect();
        self.rows(&all)
    }

    /// `x W^T` for `x` of shape `(.., k)` (f32): shape `(.., n)`.
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let dims = x.dims().to_vec();
        let Some((&k, batch)) = dims.split_last() else { candle_core::bail!("a scalar input to a linear map") };
        if k != self.k {
            candle_core::bail!("an input {k} wide to a linear map of {} inputs", self.k);
        }
        let m: usize = batch.iter().product();
        let x = if x.dtype() == DType::F32 { x.contiguous()? } else { x.to_dtype(DType::F32)?.contiguous()? };
        let input = QuantizedInput::from_tensor(&x, m, k)?;
        let mut out = vec![0f32; m * self.n];
        self.matmul(&input, &mut out);
        let mut shape = dims;
        if let Some(last) = shape.last_mut() {
            *last = self.n;
        }
        Tensor::from_vec(out, shape, &Device::Cpu)
    }

    /// `out = input W^T`, `out` row-major `(m, n)`.
    fn matmul(&self, input: &QuantizedInput, out: &mut [f32]) {
        assert!(available(), "the packed kernel needs AVX-512 VNNI");
        assert_eq!(input.k, self.k);
        assert_eq!(out.len(), input.m * self.n);
        let n_tiles = self.n.div_ceil(TILE_ROWS);
        let threads = rayon::current_num_threads().max(1);
        // Enough pieces to balance the threads, few enough to keep each tile column's
        // weights in L1 across all input rows.
        let per_task = n_tiles.div_ceil(threads * 2).max(1);
        let out_ptr = OutPtr(out.as_mut_ptr());
        let run = |task: usize| {
            let out = out_ptr;
            for t in task * per_task..((task + 1) * per_task).min(n_tiles) {
                // SAFETY: each tile column `t` writes only columns `16 t .. 16 t + 16` (clipped
                // to `n`) of each output row, so tasks never write the same element, and
                // `out` (checked above to hold `m * n` values) outlives the parallel loop. The
                // CPU features the kernel uses were checked by `available()`.
                unsafe { self.tile_column(t, input, out.0) };
            }
        };
        let tasks = n_tiles.div_ceil(per_task);
        if input.m * self.n * self.k < SERIAL_BELOW {
            (0..tasks).for_each(run);
        } else {
            (0..tasks).into_par_iter().for_each(run);
        }
    }

    /// All output rows' columns `16 t ..` for tile column `t`.
    ///
    /// # Safety
    /// `out` must point to `input.m * self.n` floats that no one else writes these columns of,
    /// and the CPU must have AVX-512 F, BW and VNNI.
    #[cfg(target_arch = "x86_64")]
    unsafe fn tile_column(&self, t: usize, input: &QuantizedInput, out: *mut f32) {
        let mut row = 0;
        while row + ROWS_AT_ONCE <= input.m {
            unsafe { self.row_group::<ROWS_AT_ONCE>(t, input, row, out) };
            row += ROWS_AT_ONCE;
        }
        match input.m - row {
            7 => unsafe { self.row_group::<7>(t, input, row, out) },
            6 => unsafe { self.row_group::<6>(t, input, row, out) },
            5 => unsafe { self.row_group::<5>(t, input, row, out) },
            4 => unsafe { self.row_group::<4>(t, input, row, out) },
            3 => unsafe { self.row_group::<3>(t, input, row, out) },
            2 => unsafe { self.row_group::<2>(t, input, row, out) },
            1 => unsafe { self.row_group::<1>(t, input, row, out) },
            _ => {}
        }
    }

    #[cfg(not(target_arch = "x86_64"))]
    unsafe fn tile_column(&self, _t: usize, _input: &QuantizedInput, _out: *mut f32) {
        unreachable!("available() is false off x86-64")
    }

    /// Rows `row .. row + R` of the output, columns of tile column `t`.
    ///
    /// # Safety
    /// As [`PackedQ8::tile_column`], and `row + R <= input.m`.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    unsafe fn row_group<const R: usize>(&self, t: usize, input: &QuantizedInput, row: usize, out: *mut f32) {
        use std::arch::x86_64::*;
        let kb = self.k / BLOCK;
        let tiles = &self.tiles.as_slice()[t * kb..(t + 1) * kb];
        // Each input row's values, scales and sums (bounds checked here, once: the loops
        // below read `kb` blocks of each).
        let values: [&[i8]; R] = std::array::from_fn(|r| &input.qs[(row + r) * self.k..][..self.k]);
        let scales: [&[f32]; R] = std::array::from_fn(|r| &input.scales[(row + r) * kb..][..kb]);
        let sums: [&[i32]; R] = std::array::from_fn(|r| &input.sums[(row + r) * kb..][..kb]);
        let mut acc = [_mm512_setzero_ps(); R];
        for (b, tile) in tiles.iter().enumerate() {
            let mut dot = [_mm512_setzero_si512(); R];
            for g in 0..BLOCK / 4 {
                // SAFETY: `qs` holds 8 groups of 64 bytes and `Tile` is 64-byte aligned.
                let w = unsafe { _mm512_load_si512(tile.qs.as_ptr().add(g * 64).cast()) };
                for (dot, xs) in dot.iter_mut().zip(&values) {
                    // SAFETY: `b * 32 + g * 4 + 4 <= k`, the length of `xs`.
                    let four = unsafe { xs.as_ptr().add(b * BLOCK + g * 4).cast::<i32>().read_unaligned() };
                    *dot = _mm512_dpbusd_epi32(*dot, w, _mm512_set1_epi32(four));
                }
            }
            // SAFETY: `d` holds 16 floats, 64-byte aligned (it follows 512 bytes).
            let d = unsafe { _mm512_load_ps(tile.d.as_ptr()) };
            for (r, (dot, acc)) in dot.iter().zip(acc.iter_mut()).enumerate() {
                // SAFETY: `b < kb`, the length of both.
                let (scale, sum) = unsafe { (*scales[r].get_unchecked(b), *sums[r].get_unchecked(b)) };
                let exact = _mm512_sub_epi32(*dot, _mm512_set1_epi32(128 * sum));
                *acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(exact), _mm512_mul_ps(d, _mm512_set1_ps(scale)), *acc);
            }
        }
        let col = t * TILE_ROWS;
        let width = (self.n - col).min(TILE_ROWS);
        let mask: __mmask16 = if width == TILE_ROWS { 0xffff } else { (1u16 << width) - 1 };
        for (r, acc) in acc.iter().enumerate() {
            // SAFETY: row `row + r < m`, columns `col .. col + width <= n`: inside `out`.
            unsafe { _mm512_mask_storeu_ps(out.add((row + r) * self.n + col), mask, *acc) };
        }
    }

    #[cfg(not(target_arch = "x86_64"))]
    unsafe fn row_group<const R: usize>(&self, _t: usize, _input: &QuantizedInput, _row: usize, _out: *mut f32) {
        unreachable!("available() is false off x86-64")
    }
}

#[derive(Clone, Copy)]
struct OutPtr(*mut f32);
// SAFETY: the pointer is only written through at disjoint columns (see `PackedQ8::matmul`).
unsafe impl Send for OutPtr {}
unsafe impl Sync for OutPtr {}

/// Input rows quantized to Q8_0 as candle quantizes them: per block of 32, the scale
/// `max |x| / 127` (kept as f16), the values `round(x / scale)`, and their sum.
struct QuantizedInput {
    m: usize,
    k: usize,
    qs: Vec<i8>,
    scales: Vec<f32>,
    sums: Vec<i32>,
}

impl QuantizedInput {
    fn from_tensor(x: &Tensor, m: usize, k: usize) -> candle_core::Result<Self> {
        let (storage, layout) = x.storage_and_layout();
        let Storage::Cpu(cpu) = &*storage else { candle_core::bail!("the packed kernel runs on the CPU only") };
        let values = cpu.as_slice::<f32>()?;
        let values = &values[layout.start_offset()..layout.start_offset() + m * k];
        Ok(Self::quantize_fast(values, m, k))
    }

    /// [`QuantizedInput::quantize`] with AVX-512 (a fifth of the kernel's time was the scalar
    /// loop): the same values, bit for bit (tested).
    #[cfg(target_arch = "x86_64")]
    fn quantize_fast(values: &[f32], m: usize, k: usize) -> Self {
        assert!(available() && values.len() == m * k && k.is_multiple_of(BLOCK));
        let blocks = m * k / BLOCK;
        let mut input = QuantizedInput { m, k, qs: vec![0i8; m * k], scales: vec![0.0; blocks], sums: vec![0; blocks] };
        // SAFETY: the CPU features were checked by `available()`, and every slice holds what
        // the loop reads and writes (`blocks` blocks of 32 values).
        unsafe { quantize_blocks(values, &mut input.qs, &mut input.scales, &mut input.sums) };
        input
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn quantize_fast(values: &[f32], m: usize, k: usize) -> Self {
        Self::quantize(values, m, k)
    }

    #[cfg(any(test, not(target_arch = "x86_64")))]
    fn quantize(values: &[f32], m: usize, k: usize) -> Self {
        let blocks = m * k / BLOCK;
        let (mut qs, mut scales, mut sums) = (vec![0i8; m * k], Vec::with_capacity(blocks), Vec::with_capacity(blocks));
        for (xs, ys) in values.chunks_exact(BLOCK).zip(qs.chunks_exact_mut(BLOCK)) {
            let amax = xs.iter().fold(0f32, |a, x| a.max(x.abs()));
            let d = amax / 127.0;
            let id = if d != 0.0 { 1.0 / d } else { 0.0 };
            let mut sum = 0i32;
            for (y, &x) in ys.iter_mut().zip(xs) {
                *y = f32::round(x * id) as i8;
                sum += i32::from(*y);
            }
            scales.push(f16::from_f32(d).to_f32());
            sums.push(sum);
        }
        QuantizedInput { m, k, qs, scales, sums }
    }

    /// Row `row`'s block `b`: scale and sum.
    #[cfg(test)]
    #[inline(always)]
    fn block(&self, row: usize, b: usize) -> (f32, i32) {
        let i = row * (self.k / BLOCK) + b;
        (self.scales[i], self.sums[i])
    }
}

/// Quantizes `values` block by block as [`QuantizedInput::quantize`] does. Rounding half
/// away from zero (`f32::round`): truncate, then step away from zero where the part cut off
/// is at least one half (exact: the values are at most 127 in size).
///
/// # Safety
/// The CPU must have AVX-512 F and BW; `qs` must hold `values.len()` values, `scales` and
/// `sums` one per 32.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn quantize_blocks(values: &[f32], qs: &mut [i8], scales: &mut [f32], sums: &mut [i32]) {
    use std::arch::x86_64::*;
    let half = _mm512_set1_ps(0.5);
    for ((xs, ys), (scale, sum)) in values.chunks_exact(BLOCK).zip(qs.chunks_exact_mut(BLOCK)).zip(scales.iter_mut().zip(sums.iter_mut())) {
        // SAFETY: `xs` holds 32 floats: two registers.
        let (lo, hi) = unsafe { (_mm512_loadu_ps(xs.as_ptr()), _mm512_loadu_ps(xs.as_ptr().add(16))) };
        let amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(lo), _mm512_abs_ps(hi)));
        let d = amax / 127.0;
        let id = _mm512_set1_ps(if d != 0.0 { 1.0 / d } else { 0.0 });
        let mut total = _mm512_setzero_si512();
        for (i, v) in [lo, hi].into_iter().enumerate() {
            let v = _mm512_mul_ps(v, id);
            let t = _mm512_roundscale_ps::<{ _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC }>(v);
            let away = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(_mm512_abs_ps(_mm512_sub_ps(v, t)), half);
            let step = _mm512_or_ps(_mm512_set1_ps(1.0), _mm512_and_ps(v, _mm512_set1_ps(-0.0)));
            let r = _mm512_cvttps_epi32(_mm512_mask_add_ps(t, away, t, step));
            total = _mm512_add_epi32(total, r);
            // SAFETY: `ys` holds 32 bytes: 16 for each half.
            unsafe { _mm_storeu_si128(ys.as_mut_ptr().add(i * 16).cast(), _mm512_cvtepi32_epi8(r)) };
        }
        *scale = f16::from_f32(d).to_f32();
        *sum = _mm512_reduce_add_epi32(total);
    }
}

/// A linear map of the model: packed where the CPU runs the packed kernel, candle's
/// `QMatMul` otherwise.
pub enum QLinear {
    Packed(PackedQ8),
    Candle(QMatMul),
}

/// Which kernel multiplies the model's Q8_0 maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// [`PackedQ8`] where the CPU runs it (see [`available`]), candle's elsewhere.
    Packed,
    /// candle's `QMatMul` everywhere: bit for bit what candle-transformers computes.
    Candle,
}

impl Default for Kernel {
    fn default() -> Self {
        if available() {
            Kernel::Packed
        } else {
            Kernel::Candle
        }
    }
}

impl QLinear {
    /// Packs `t` for [`Kernel::Packed`] where the CPU has the kernel.
    pub fn new(t: QTensor, kernel: Kernel) -> candle_core::Result<QLinear> {
        if kernel == Kernel::Packed && available() {
            if let Some(p) = PackedQ8::pack(&t)? {
                return Ok(QLinear::Packed(p));
            }
        }
        Ok(QLinear::Candle(QMatMul::from_qtensor(t)?))
    }

    /// `x W^T` for `x` of shape `(.., k)`.
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            QLinear::Packed(p) => p.forward(x),
            QLinear::Candle(m) => m.forward(x),
        }
    }

    /// `(n, k)`.
    pub fn dims(&self) -> (usize, usize) {
        match self {
            QLinear::Packed(p) => p.dims(),
            QLinear::Candle(QMatMul::QTensor(q)) => q.shape().dims2().unwrap_or((0, 0)),
            QLinear::Candle(QMatMul::Tensor(t) | QMatMul::TensorF16(t)) => t.dims2().unwrap_or((0, 0)),
        }
    }

    /// Rows `ids` in f32, `(ids.len(), k)`: the lookup when the matrix is an embedding table.
    pub fn rows(&self, ids: &[u32]) -> candle_core::Result<Tensor> {
        match self {
            QLinear::Packed(p) => p.rows(ids),
            QLinear::Candle(QMatMul::QTensor(q)) => q.embedding(&Tensor::new(ids, &Device::Cpu)?),
            QLinear::Candle(QMatMul::Tensor(t) | QMatMul::TensorF16(t)) => t.index_select(&Tensor::new(ids, &Device::Cpu)?, 0)?.to_dtype(DType::F32),
        }
    }

    /// The weights in f32, `(n, k)`.
    pub fn dequantize(&self) -> candle_core::Result<Tensor> {
        match self {
            QLinear::Packed(p) => p.dequantize(),
            QLinear::Candle(QMatMul::QTensor(q)) => q.dequantize(&Device::Cpu),
            QLinear::Candle(QMatMul::Tensor(t) | QMatMul::TensorF16(t)) => t.to_dtype(DType::F32),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skip() -> bool {
        if !available() {
            println!("skipped: this CPU has no AVX-512 VNNI (or SCRIVO_QGEMM=off); candle's kernel is used");
            return true;
        }
        false
    }

    fn weights(n: usize, k: usize, seed: u64) -> QTensor {
        let values: Vec<f32> = (0..n * k).map(|i| (((i as u64).wrapping_mul(2_654_435_761).wrapping_add(seed) % 2001) as f32 - 1000.0) / 20_000.0).collect();
        let t = Tensor::from_vec(values, (n, k), &Device::Cpu).expect("tensor");
        QTensor::quantize(&t, GgmlDType::Q8_0).expect("quantize")
    }

    /// Q8_0 times Q8_0 by definition, in f64: per block, the exact integer dot product times
    /// both scales.
    fn reference(w: &QTensor, x: &[f32], m: usize) -> Vec<f32> {
        let (n, k) = w.shape().dims2().expect("2-d");
        let w = w.dequantize(&Device::Cpu).expect("dequantize").flatten_all().expect("flat").to_vec1::<f32>().expect("values");
        let input = QuantizedInput::quantize(x, m, k);
        let mut out = vec![0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                let mut sum = 0f64;
                for b in 0..k / BLOCK {
                    let (scale, _) = input.block(i, b);
                    let dot: f64 = (0..BLOCK).map(|v| f64::from(w[j * k + b * BLOCK + v]) * f64::from(input.qs[i * k + b * BLOCK + v])).sum();
                    sum += dot * f64::from(scale);
                }
                out[i * n + j] = sum as f32;
            }
        }
        out
    }

    fn worst(want: &[f32], got: &[f32]) -> (f32, f32) {
        let scale = want.iter().fold(0f32, |a, v| a.max(v.abs())).max(1e-6);
        (want.iter().zip(got).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max), scale)
    }

    #[test]
    fn matches_the_q8_0_arithmetic_and_candle_on_the_model_shapes_and_odd_ones() {
        if skip() {
            return;
        }
        for &(n, k) in &[(576, 576), (192, 576), (1536, 576), (576, 1536), (40, 64), (17, 32)] {
            let q = weights(n, k, (n * 31 + k) as u64);
            let packed = PackedQ8::pack(&q).expect("pack").expect("a Q8_0 matrix packs");
            for m in [1, 2, 3, 4, 5, 11, 40] {
                let x = Tensor::randn(0f32, 1.0, (1, m, k), &Device::Cpu).expect("input");
                let xs = x.flatten_all().expect("flat").to_vec1::<f32>().expect("values");
                let got = packed.forward(&x).expect("packed");
                assert_eq!(got.dims(), &[1, m, n]);
                let got = got.flatten_all().expect("flat").to_vec1::<f32>().expect("values");
                let (off, scale) = worst(&reference(&q, &xs, m), &got);
                assert!(off <= scale * 1e-5, "{n}x{k}, {m} rows: off by {off} (largest output {scale})");
                // candle's own Q8_0 kernel, where it does not take its tiled path (whose
                // inputs are quantized per 256 values instead of 32).
                if !k.is_multiple_of(256) {
                    let candle = QMatMul::from_qtensor(weights(n, k, (n * 31 + k) as u64)).expect("qmatmul");
                    let want = candle.forward(&x).expect("candle").flatten_all().expect("flat").to_vec1::<f32>().expect("values");
                    let (off, scale) = worst(&want, &got);
                    assert!(off <= scale * 1e-5, "{n}x{k}, {m} rows: off from candle by {off} (largest output {scale})");
                }
            }
        }
    }

    #[test]
    fn the_fast_input_quantizer_matches_the_plain_one() {
        if skip() {
            return;
        }
        let mut values: Vec<f32> = Tensor::randn(0f32, 3.0, (1, 64 * 32), &Device::Cpu).expect("randn").flatten_all().expect("flat").to_vec1().expect("values");
        // Halves, zeros, a whole block of zeros and outliers, where rounding can go wrong.
        for (i, v) in [0.5f32, -0.5, 1.5, -2.5, 0.0, 126.5, -126.5, 1e-30, 900.0, -0.49999997].into_iter().enumerate() {
            values[i * 7] = v;
        }
        values[32..64].fill(0.0);
        let (plain, fast) = (QuantizedInput::quantize(&values, 64, 32), QuantizedInput::quantize_fast(&values, 64, 32));
        assert_eq!(plain.qs, fast.qs);
        assert_eq!(plain.scales, fast.scales);
        assert_eq!(plain.sums, fast.sums);
    }

    #[test]
    fn dequantizes_as_candle_does() {
        if skip() {
            return;
        }
        let q = weights(40, 96, 7);
        let want = q.dequantize(&Device::Cpu).expect("dequantize").flatten_all().expect("flat").to_vec1::<f32>().expect("values");
        let packed = PackedQ8::pack(&q).expect("pack").expect("packs");
        let got = packed.dequantize().expect("dequantize").flatten_all().expect("flat").to_vec1::<f32>().expect("values");
        assert_eq!(want, got);
    }

    #[test]
    fn looks_up_rows_as_candle_does() {
        if skip() {
            return;
        }
        let q = weights(40, 96, 3);
        let ids = [0u32, 17, 39, 17];
        let want = q.embedding(&Tensor::new(&ids, &Device::Cpu).expect("ids")).expect("lookup").to_vec2::<f32>().expect("values");
        let packed = PackedQ8::pack(&q).expect("pack").expect("packs");
        assert_eq!(packed.rows(&ids).expect("rows").to_vec2::<f32>().expect("values"), want);
        assert!(packed.rows(&[40]).is_err());
    }

    #[test]
    fn other_types_and_bad_inputs_are_refused() {
        let f = Tensor::zeros((16, 64), DType::F32, &Device::Cpu).expect("tensor");
        let q4 = QTensor::quantize(&f, GgmlDType::Q4_0).expect("quantize");
        assert!(PackedQ8::pack(&q4).expect("pack").is_none());
        if skip() {
            return;
        }
        let packed = PackedQ8::pack(&weights(16, 64, 1)).expect("pack").expect("packs");
        let wrong = Tensor::zeros((1, 3, 32), DType::F32, &Device::Cpu).expect("tensor");
        assert!(packed.forward(&wrong).is_err());
    }
}
