//! Channel mixing and sample-rate conversion.

use rubato::{FftFixedIn, Resampler};

/// Averages interleaved channels into one.
pub fn to_mono(interleaved: &[f32], channels: usize) -> Vec<f32> {
    if channels <= 1 {
        return interleaved.to_vec();
    }
    interleaved.chunks_exact(channels).map(|frame| frame.iter().sum::<f32>() / channels as f32).collect()
}

const CHUNK: usize = 1024;

/// Converts mono audio from `from` Hz to `to` Hz with a band-limited FFT resampler.
/// The output is aligned with the input (the filter delay is removed) and has
/// `round(len * to / from)` samples.
pub fn resample(input: &[f32], from: u32, to: u32) -> Result<Vec<f32>, String> {
    if from == to || input.is_empty() {
        return Ok(input.to_vec());
    }
    let mut resampler = FftFixedIn::<f32>::new(from as usize, to as usize, CHUNK, 2, 1).map_err(|e| e.to_string())?;
    let delay = resampler.output_delay();
    let expected = (input.len() as u64 * u64::from(to) + u64::from(from) / 2) / u64::from(from);
    let mut out = Vec::with_capacity(expected as usize + delay + CHUNK);
    let mut pos = 0;
    while pos < input.len() {
        let need = resampler.input_frames_next();
        if pos + need <= input.len() {
            let chunk = resampler.process(&[&input[pos..pos + need]], None).map_err(|e| e.to_string())?;
            out.extend_from_slice(&chunk[0]);
            pos += need;
        } else {
            let chunk = resampler.process_partial(Some(&[&input[pos..]]), None).map_err(|e| e.to_string())?;
            out.extend_from_slice(&chunk[0]);
            pos = input.len();
        }
    }
    // Flush the filter until the delayed tail is out.
    while out.len() < delay + expected as usize {
        let chunk = resampler.process_partial::<&[f32]>(None, None).map_err(|e| e.to_string())?;
        if chunk[0].is_empty() {
            break;
        }
        out.extend_from_slice(&chunk[0]);
    }
    let end = (delay + expected as usize).min(out.len());
    Ok(out[delay.min(end)..end].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f32, rate: u32, seconds: f32) -> Vec<f32> {
        let n = (rate as f32 * seconds) as usize;
        (0..n).map(|i| (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin() * 0.5).collect()
    }

    #[test]
    fn resampled_sine_keeps_its_frequency_and_length() {
        let input = sine(440.0, 44_100, 1.0);
        let out = resample(&input, 44_100, 16_000).expect("resample");
        assert_eq!(out.len(), 16_000);
        let reference = sine(440.0, 16_000, 1.0);
        // Away from the edges the converted signal matches a sine generated at 16 kHz.
        let err = out[1000..15_000].iter().zip(&reference[1000..15_000]).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(err < 0.01, "max error {err}");
    }

    #[test]
    fn content_above_the_new_nyquist_is_removed() {
        let input = sine(12_000.0, 48_000, 1.0);
        let out = resample(&input, 48_000, 16_000).expect("resample");
        let rms = (out[1000..15_000].iter().map(|v| v * v).sum::<f32>() / 14_000.0).sqrt();
        assert!(rms < 0.01, "aliased energy {rms}");
    }

    #[test]
    fn stereo_is_averaged() {
        assert_eq!(to_mono(&[1.0, 0.0, 0.5, 0.5], 2), vec![0.5, 0.5]);
    }
}
