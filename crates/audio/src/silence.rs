//! Trimming leading and trailing silence so the recogniser never decodes empty audio (where
//! whisper invents "you" or "Thank you.") and short clips get a short encoder window.

use crate::SAMPLE_RATE;

const FRAME: usize = (SAMPLE_RATE as usize) / 50; // 20 ms
/// Frames quieter than this (about -46 dBFS RMS) count as silence...
const ABSOLUTE_FLOOR: f32 = 0.005;
/// ...as do frames more than 40 dB below the loudest frame.
const RELATIVE_FLOOR: f32 = 0.01;
/// Audio kept on each side of the speech, so soft word onsets and endings survive.
const PAD: usize = (SAMPLE_RATE as usize) / 4; // 250 ms

/// The sample range of `samples` (16 kHz mono) that holds sound; empty when all is silence.
pub fn speech_bounds(samples: &[f32]) -> std::ops::Range<usize> {
    let rms: Vec<f32> = samples.chunks(FRAME).map(|f| (f.iter().map(|v| v * v).sum::<f32>() / f.len() as f32).sqrt()).collect();
    let peak = rms.iter().copied().fold(0f32, f32::max);
    let threshold = ABSOLUTE_FLOOR.max(peak * RELATIVE_FLOOR);
    let loud = |r: &f32| *r >= threshold;
    let (Some(first), Some(last)) = (rms.iter().position(loud), rms.iter().rposition(loud)) else {
        return 0..0;
    };
    let start = (first * FRAME).saturating_sub(PAD);
    let end = ((last + 1) * FRAME + PAD).min(samples.len());
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_has_no_speech() {
        assert_eq!(speech_bounds(&[0.0; 48_000]), 0..0);
        assert_eq!(speech_bounds(&vec![0.001; 48_000]), 0..0);
        assert_eq!(speech_bounds(&[]), 0..0);
    }

    #[test]
    fn tone_in_the_middle_is_kept_with_padding() {
        let mut s = vec![0.0f32; 48_000];
        for (i, v) in s[16_000..32_000].iter_mut().enumerate() {
            *v = (i as f32 * 0.1).sin() * 0.3;
        }
        let r = speech_bounds(&s);
        assert_eq!(r, 16_000 - PAD..32_000 + PAD);
    }
}
