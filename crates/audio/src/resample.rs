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

/// Sample-rate conversion of a stream that arrives in pieces (a microphone): push native
/// samples as they come, take 16 kHz samples out as soon as the filter has them, and
/// [`StreamResampler::finish`] flushes the tail. The concatenated output equals what
/// [`resample`] gives for the whole input (same filter, delay removed, same length).
pub struct StreamResampler {
    inner: Option<FftFixedIn<f32>>,
    pending: Vec<f32>,
    /// Output samples still to drop (the filter's delay).
    skip: usize,
    from: u32,
    to: u32,
    pushed: u64,
    produced: u64,
}

impl StreamResampler {
    pub fn new(from: u32, to: u32) -> Result<Self, String> {
        let inner = if from == to { None } else { Some(FftFixedIn::<f32>::new(from as usize, to as usize, CHUNK, 2, 1).map_err(|e| e.to_string())?) };
        let skip = inner.as_ref().map_or(0, |r| r.output_delay());
        Ok(StreamResampler { inner, pending: Vec::new(), skip, from, to, pushed: 0, produced: 0 })
    }

    fn emit(&mut self, chunk: &[f32], out: &mut Vec<f32>) {
        let drop = self.skip.min(chunk.len());
        self.skip -= drop;
        out.extend_from_slice(&chunk[drop..]);
        self.produced += (chunk.len() - drop) as u64;
    }

    /// Converts what it can of `input` (plus what was held back) now.
    pub fn push(&mut self, input: &[f32]) -> Result<Vec<f32>, String> {
        self.pushed += input.len() as u64;
        let Some(inner) = self.inner.as_mut() else {
            self.produced += input.len() as u64;
            return Ok(input.to_vec());
        };
        self.pending.extend_from_slice(input);
        let mut out = Vec::new();
        let mut pos = 0;
        let mut chunks = Vec::new();
        loop {
            let need = inner.input_frames_next();
            if pos + need > self.pending.len() {
                break;
            }
            chunks.push(inner.process(&[&self.pending[pos..pos + need]], None).map_err(|e| e.to_string())?.remove(0));
            pos += need;
        }
        self.pending.drain(..pos);
        for c in chunks {
            self.emit(&c, &mut out);
        }
        Ok(out)
    }

    /// The rest of the output, once the input has ended.
    pub fn finish(mut self) -> Result<Vec<f32>, String> {
        let expected = (self.pushed * u64::from(self.to) + u64::from(self.from) / 2) / u64::from(self.from);
        // Output already handed out by `push`; the rest of `expected` is owed now.
        let owed = expected.saturating_sub(self.produced) as usize;
        let mut out = Vec::new();
        let Some(mut inner) = self.inner.take() else { return Ok(out) };
        let mut chunks = Vec::new();
        if !self.pending.is_empty() {
            chunks.push(inner.process_partial(Some(&[&self.pending[..]]), None).map_err(|e| e.to_string())?.remove(0));
        }
        let mut total = self.produced + chunks.iter().map(|c| c.len() as u64).sum::<u64>();
        while total < expected + self.skip as u64 {
            let c = inner.process_partial::<&[f32]>(None, None).map_err(|e| e.to_string())?.remove(0);
            if c.is_empty() {
                break;
            }
            total += c.len() as u64;
            chunks.push(c);
        }
        for c in chunks {
            self.emit(&c, &mut out);
        }
        out.truncate(owed);
        Ok(out)
    }
}

#[cfg(test)]
mod stream_tests {
    use super::*;

    #[test]
    fn streaming_equals_whole_buffer_resampling() {
        let input: Vec<f32> = (0..48_000 * 2 + 123).map(|i| ((i as f32) * 0.01).sin() * 0.5).collect();
        let whole = resample(&input, 48_000, 16_000).expect("whole");
        let mut s = StreamResampler::new(48_000, 16_000).expect("new");
        let mut streamed = Vec::new();
        for piece in input.chunks(441) {
            streamed.extend(s.push(piece).expect("push"));
        }
        streamed.extend(s.finish().expect("finish"));
        assert_eq!(streamed.len(), whole.len());
        let worst = streamed.iter().zip(&whole).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(worst < 1e-4, "largest difference {worst}");
    }
}
