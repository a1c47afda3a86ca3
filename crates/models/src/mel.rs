//! Whisper's mel filter bank: librosa's `filters.mel(sr=16000, n_fft=400, n_mels)` with the
//! Slaney mel scale and Slaney area normalisation, computed in f64 and stored as f32 in the
//! same order of operations as the reference, so the table matches it bit for bit.

use crate::ggml::N_FFT;

const SAMPLE_RATE: f64 = 16_000.0;
const F_SP: f64 = 200.0 / 3.0;
const MIN_LOG_HZ: f64 = 1000.0;
const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;

fn log_step() -> f64 {
    6.4f64.ln() / 27.0
}

fn hz_to_mel(f: f64) -> f64 {
    if f >= MIN_LOG_HZ {
        MIN_LOG_MEL + (f / MIN_LOG_HZ).ln() / log_step()
    } else {
        f / F_SP
    }
}

fn mel_to_hz(m: f64) -> f64 {
    if m >= MIN_LOG_MEL {
        MIN_LOG_HZ * (log_step() * (m - MIN_LOG_MEL)).exp()
    } else {
        F_SP * m
    }
}

/// `n_mels` rows of [`N_FFT`] (201) weights, row-major.
pub fn mel_filters(n_mels: usize) -> Vec<f32> {
    let fft_freqs: Vec<f64> = (0..N_FFT).map(|k| k as f64 * (SAMPLE_RATE / 400.0)).collect();
    let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(SAMPLE_RATE / 2.0));
    let points = n_mels + 2;
    let mel_f: Vec<f64> = (0..points)
        .map(|i| {
            // numpy.linspace: start + i * step, with the last point exactly `hi`.
            let m = if i == points - 1 { hi } else { lo + i as f64 * ((hi - lo) / (points - 1) as f64) };
            mel_to_hz(m)
        })
        .collect();
    let mut out = vec![0f32; n_mels * N_FFT];
    for i in 0..n_mels {
        let (f0, f1, f2) = (mel_f[i], mel_f[i + 1], mel_f[i + 2]);
        let enorm = 2.0 / (f2 - f0);
        for (k, &fk) in fft_freqs.iter().enumerate() {
            let lower = -(f0 - fk) / (f1 - f0);
            let upper = (f2 - fk) / (f2 - f1);
            let w = lower.min(upper).max(0.0) as f32;
            let w = (f64::from(w) * enorm) as f32;
            out[i * N_FFT + k] = if w == 0.0 { 0.0 } else { w };
        }
    }
    out
}
