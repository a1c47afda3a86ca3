//! Voice activity detection on 16 kHz mono audio, for trimming silence and for ending an
//! utterance in hands-free dictation.
//!
//! The detector is earshot's small neural network (pure Rust; 16 ms frames of 256 samples; a
//! score 0..1 per frame). Single frames flicker, so a state change needs a run of frames:
//! speech starts after `onset_frames` frames over the threshold in a row (and is dated from the
//! first of them), and ends after `hangover` of frames under it (dated from the end of the last
//! speech frame). The same detector serves a live stream ([`VoiceDetector::push`]) and a whole
//! recording ([`speech_spans`], [`trim_silence`]).

use std::time::Duration;

use crate::SAMPLE_RATE;

/// Samples per detector frame (16 ms at 16 kHz).
pub const FRAME: usize = 256;

/// How the frame scores become speech and silence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VadSettings {
    /// A frame scoring at least this is voiced.
    pub threshold: f32,
    /// Voiced frames in a row that start speech.
    pub onset_frames: usize,
    /// Silence that ends speech.
    pub hangover: Duration,
}

impl Default for VadSettings {
    /// Threshold 0.5 (earshot's suggested default), 3 frames (48 ms) to start, 0.8 s of silence
    /// to end: a pause between sentences ends nothing, a finished thought ends the utterance.
    fn default() -> Self {
        VadSettings { threshold: 0.5, onset_frames: 3, hangover: Duration::from_millis(800) }
    }
}

/// A change of state, in seconds from the start of the stream.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum VoiceEvent {
    Started { at: f64 },
    Ended { at: f64 },
}

/// Voice activity over a stream of 16 kHz samples pushed in pieces of any size.
pub struct VoiceDetector {
    detector: Box<earshot::Detector>,
    settings: VadSettings,
    hangover_frames: usize,
    pending: Vec<f32>,
    frame: Vec<f32>,
    /// Frames scored so far.
    frames: u64,
    speaking: bool,
    /// Frames in a row that disagree with the current state.
    run: usize,
    /// Voiced frames in all.
    voiced: u64,
}

fn frame_seconds(frames: u64) -> f64 {
    frames as f64 * FRAME as f64 / f64::from(SAMPLE_RATE)
}

impl VoiceDetector {
    pub fn new(settings: VadSettings) -> Self {
        let frame_ms = FRAME as f64 * 1000.0 / f64::from(SAMPLE_RATE);
        let hangover_frames = ((settings.hangover.as_secs_f64() * 1000.0 / frame_ms).ceil() as usize).max(1);
        VoiceDetector {
            detector: earshot::Detector::default_boxed(),
            settings,
            hangover_frames,
            pending: Vec::with_capacity(FRAME),
            frame: vec![0.0; FRAME],
            frames: 0,
            speaking: false,
            run: 0,
            voiced: 0,
        }
    }

    /// Scores `samples` (16 kHz mono) and returns the state changes they caused.
    pub fn push(&mut self, samples: &[f32]) -> Vec<VoiceEvent> {
        let mut events = Vec::new();
        let mut rest = samples;
        while !rest.is_empty() {
            let take = (FRAME - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() == FRAME {
                for (d, s) in self.frame.iter_mut().zip(&self.pending) {
                    *d = s.clamp(-1.0, 1.0);
                }
                self.pending.clear();
                let voiced = self.detector.predict_f32(&self.frame) >= self.settings.threshold;
                self.frames += 1;
                if voiced {
                    self.voiced += 1;
                }
                if let Some(e) = self.step(voiced) {
                    events.push(e);
                }
            }
        }
        events
    }

    fn step(&mut self, voiced: bool) -> Option<VoiceEvent> {
        if voiced == self.speaking {
            self.run = 0;
            return None;
        }
        self.run += 1;
        let needed = if self.speaking { self.hangover_frames } else { self.settings.onset_frames.max(1) };
        if self.run < needed {
            return None;
        }
        self.speaking = voiced;
        let at = frame_seconds(self.frames - self.run as u64);
        self.run = 0;
        Some(if voiced { VoiceEvent::Started { at } } else { VoiceEvent::Ended { at } })
    }

    /// In speech now (after the onset, until the hangover has passed).
    pub fn is_speaking(&self) -> bool {
        self.speaking
    }

    /// Seconds of audio scored.
    pub fn seconds(&self) -> f64 {
        frame_seconds(self.frames)
    }

    /// Share of the frames scored as voiced (no smoothing).
    pub fn voiced_share(&self) -> f64 {
        if self.frames == 0 {
            0.0
        } else {
            self.voiced as f64 / self.frames as f64
        }
    }

    /// Ends the stream: speech still open ends at the last voiced frame.
    pub fn finish(&mut self) -> Option<VoiceEvent> {
        if !self.speaking {
            return None;
        }
        self.speaking = false;
        let at = frame_seconds(self.frames - self.run as u64);
        self.run = 0;
        Some(VoiceEvent::Ended { at })
    }
}

/// The speech in `samples` (16 kHz mono) as sample ranges.
pub fn speech_spans(samples: &[f32], settings: VadSettings) -> Vec<(usize, usize)> {
    let mut vad = VoiceDetector::new(settings);
    let mut events = vad.push(samples);
    events.extend(vad.finish());
    let at = |s: f64| ((s * f64::from(SAMPLE_RATE)).round() as usize).min(samples.len());
    let mut spans = Vec::new();
    let mut start = None;
    for e in events {
        match e {
            VoiceEvent::Started { at: s } => start = Some(at(s)),
            VoiceEvent::Ended { at: s } => {
                if let Some(b) = start.take() {
                    spans.push((b, at(s)));
                }
            }
        }
    }
    spans
}

/// `samples` without the silence before the first speech and after the last, keeping `pad` of
/// it on each side; all of `samples` when no speech is found (nothing the user said is lost to
/// a detector that missed it).
pub fn trim_silence(samples: &[f32], settings: VadSettings, pad: Duration) -> &[f32] {
    let spans = speech_spans(samples, settings);
    let (Some(first), Some(last)) = (spans.first(), spans.last()) else { return samples };
    let pad = (pad.as_secs_f64() * f64::from(SAMPLE_RATE)) as usize;
    &samples[first.0.saturating_sub(pad)..(last.1 + pad).min(samples.len())]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A vowel-like buzz: a 140 Hz pulse train through two formant-ish resonances, amplitude
    /// modulated at syllable rate.
    fn buzz(seconds: f64) -> Vec<f32> {
        let n = (seconds * f64::from(SAMPLE_RATE)) as usize;
        (0..n)
            .map(|i| {
                let t = i as f64 / f64::from(SAMPLE_RATE);
                let f0 = 140.0 * (1.0 + 0.05 * (t * 3.0).sin());
                let voice: f64 = (1..30).map(|k| (2.0 * std::f64::consts::PI * f0 * k as f64 * t).sin() / k as f64 * (1.0 + 2.0 * (-((k as f64 * f0 - 700.0) / 300.0).powi(2)).exp())).sum();
                (0.08 * voice * (0.6 + 0.4 * (2.0 * std::f64::consts::PI * 4.0 * t).sin())) as f32
            })
            .collect()
    }

    #[test]
    fn silence_is_never_speech() {
        let silence = vec![0.0f32; SAMPLE_RATE as usize * 3];
        assert!(speech_spans(&silence, VadSettings::default()).is_empty());
        let mut vad = VoiceDetector::new(VadSettings::default());
        assert!(vad.push(&silence).is_empty());
        assert!((vad.seconds() - 3.0).abs() < 0.02);
        assert_eq!(vad.voiced_share(), 0.0);
        assert_eq!(trim_silence(&silence, VadSettings::default(), Duration::ZERO).len(), silence.len(), "no speech: nothing trimmed");
    }

    #[test]
    fn pieces_of_any_size_give_the_same_events() {
        let mut audio = vec![0.0f32; 16_000];
        audio.extend(buzz(1.5));
        audio.extend(vec![0.0f32; 24_000]);
        let mut whole = VoiceDetector::new(VadSettings::default());
        let a = whole.push(&audio);
        let mut pieces = VoiceDetector::new(VadSettings::default());
        let b: Vec<VoiceEvent> = audio.chunks(333).flat_map(|c| pieces.push(c)).collect();
        assert_eq!(a, b);
    }
}
