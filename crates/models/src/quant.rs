//! Block quantisation formats shared by whisper.cpp ggml files and GGUF files, written from
//! ggml's reference definitions: Q8_0 (f16 scale + 32 x i8), Q4_0 (f16 scale + 32 x 4 bit,
//! offset 8) and Q4_1 (f16 scale, f16 minimum + 32 x 4 bit).

use half::f16;

pub const BLOCK: usize = 32;

pub fn f16_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| f16::from_f32(*v).to_le_bytes()).collect()
}

pub fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Q8_0 as ggml's `quantize_row_q8_0_ref`: d = max|x| / 127, q = round(x / d).
/// `values.len()` must be a multiple of 32.
pub fn quantize_q8_0(values: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() / BLOCK * 34);
    for block in values.chunks_exact(BLOCK) {
        let amax = block.iter().fold(0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
        out.extend(block.iter().map(|v| (v * id).round() as i8 as u8));
    }
    out
}

pub fn dequantize_q8_0(data: &[u8]) -> Vec<f32> {
    let mut out = Vec::with_capacity(data.len() / 34 * BLOCK);
    for block in data.chunks_exact(34) {
        let d = f16::from_le_bytes([block[0], block[1]]).to_f32();
        out.extend(block[2..].iter().map(|&q| f32::from(q as i8) * d));
    }
    out
}

/// Q4_0 as ggml's `quantize_row_q4_0_ref`: the value of largest magnitude maps to -8.
pub fn quantize_q4_0(values: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() / BLOCK * 18);
    for block in values.chunks_exact(BLOCK) {
        let max = block.iter().fold(0f32, |m, &v| if v.abs() > m.abs() { v } else { m });
        let d = max / -8.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
        let q = |v: f32| ((v * id + 8.5) as i32).clamp(0, 15) as u8;
        for j in 0..BLOCK / 2 {
            out.push(q(block[j]) | (q(block[j + BLOCK / 2]) << 4));
        }
    }
    out
}

pub fn dequantize_q4_1(data: &[u8]) -> Vec<f32> {
    let mut out = Vec::with_capacity(data.len() / 20 * BLOCK);
    for block in data.chunks_exact(20) {
        let d = f16::from_le_bytes([block[0], block[1]]).to_f32();
        let m = f16::from_le_bytes([block[2], block[3]]).to_f32();
        let qs = &block[4..];
        let mut vals = [0f32; BLOCK];
        for j in 0..BLOCK / 2 {
            vals[j] = f32::from(qs[j] & 0x0F) * d + m;
            vals[j + BLOCK / 2] = f32::from(qs[j] >> 4) * d + m;
        }
        out.extend_from_slice(&vals);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q8_0_round_trip_error_is_within_half_a_step() {
        let values: Vec<f32> = (0..256).map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0).collect();
        let back = dequantize_q8_0(&quantize_q8_0(&values));
        for (block, back) in values.chunks(32).zip(back.chunks(32)) {
            let d = block.iter().fold(0f32, |m, v| m.max(v.abs())) / 127.0;
            // Half a step, plus the f16 rounding of the scale carried to the largest code.
            let bound = d * 0.5 + 127.0 * (d - f16::from_f32(d).to_f32()).abs() + 1e-9;
            for (a, b) in block.iter().zip(back) {
                assert!((a - b).abs() <= bound, "{a} vs {b}, bound {bound}");
            }
        }
    }

    #[test]
    fn q8_0_of_zeros_is_zero() {
        assert!(dequantize_q8_0(&quantize_q8_0(&[0.0; 32])).iter().all(|v| *v == 0.0));
    }

    #[test]
    fn q4_1_block_decodes_scale_and_minimum() {
        let mut block = Vec::new();
        block.extend_from_slice(&f16::from_f32(0.5).to_le_bytes());
        block.extend_from_slice(&f16::from_f32(-1.0).to_le_bytes());
        block.extend((0..16u8).map(|j| j | (15 - j) << 4));
        let v = dequantize_q4_1(&block);
        assert_eq!(v[0], -1.0);
        assert_eq!(v[3], 0.5);
        assert_eq!(v[16], 6.5);
    }
}
