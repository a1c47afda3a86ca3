//! An utterance transcribed while it is spoken, so that little is left to do when it ends.
//!
//! Two things happen as the audio grows:
//! - **Stretches are finished at pauses.** A voice detector with a short hangover finds the
//!   pauses; when one follows at least [`MIN_STRETCH`] of audio not yet finished, that audio is
//!   recognised for good (prompted with the text before it) and never decoded again.
//! - **Partial text.** A quick pass over the unfinished rest; the words two consecutive passes
//!   agree on are committed ([`PrefixAgreement`]).
//!
//! When the utterance ends, only the audio after the last finished stretch is recognised, then
//! the whole text is corrected with the biasing lists and polished as one.

use std::time::Duration;

use scrivo_audio::{VadSettings, VoiceDetector, VoiceEvent, SAMPLE_RATE};
use scrivo_transcript::{Partial, PrefixAgreement};

use crate::pipeline::Pipeline;
use crate::Result;

/// Silence that makes a pause (a breath between phrases is shorter).
pub const PAUSE: Duration = Duration::from_millis(500);
/// A stretch recognised with fewer words than this per second of speech in it is not kept
/// (people say two to three words a second).
const MIN_WORDS_PER_SECOND: f64 = 1.2;
/// The shortest stretch finished on its own: shorter ones give the recogniser too little
/// context.
pub const MIN_STRETCH: Duration = Duration::from_secs(3);

fn seconds(samples: usize) -> f64 {
    samples as f64 / f64::from(SAMPLE_RATE)
}

fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a} {b}"),
    }
}

/// The state of one utterance in progress.
pub struct LiveUtterance {
    pauses: VoiceDetector,
    /// Samples given to the pause detector.
    heard: usize,
    /// Samples recognised for good.
    finished: usize,
    /// The finished stretches' text.
    text: String,
    agreement: PrefixAgreement,
    stretches: usize,
}

impl Default for LiveUtterance {
    fn default() -> Self {
        Self::new()
    }
}

impl LiveUtterance {
    pub fn new() -> Self {
        LiveUtterance {
            pauses: VoiceDetector::new(VadSettings { hangover: PAUSE, ..VadSettings::default() }),
            heard: 0,
            finished: 0,
            text: String::new(),
            agreement: PrefixAgreement::new(),
            stretches: 0,
        }
    }

    /// Takes the utterance's audio so far (16 kHz mono, from its start; only what is new is
    /// read) and finishes the stretch before a pause when there is one. Returns whether it did.
    pub fn listen(&mut self, pipeline: &mut Pipeline, audio: &[f32]) -> Result<bool> {
        let new = &audio[self.heard.min(audio.len())..];
        self.heard = audio.len();
        let mut finished_one = false;
        for event in self.pauses.push(new) {
            let VoiceEvent::Ended { at } = event else { continue };
            // In the middle of the pause (which is at least PAUSE long by now).
            let cut = (((at + PAUSE.as_secs_f64() / 2.0) * f64::from(SAMPLE_RATE)) as usize).min(audio.len());
            if seconds(cut.saturating_sub(self.finished)) < MIN_STRETCH.as_secs_f64() {
                continue;
            }
            let stretch = &audio[self.finished..cut];
            let words = pipeline.chunk(stretch, &self.text)?;
            // The recogniser sometimes stops after the first sentence of a stretch that holds a
            // pause: too few words for the speech in it means the stretch is left for the end.
            let voiced: usize = scrivo_audio::speech_spans(stretch, VadSettings::default()).iter().map(|(a, b)| b - a).sum();
            let count = words.split_whitespace().count();
            if (count as f64) < MIN_WORDS_PER_SECOND * seconds(voiced) {
                tracing::debug!(from = seconds(self.finished), to = seconds(cut), %words, voiced = seconds(voiced), "stretch not finished: too few words for its speech");
                continue;
            }
            tracing::debug!(from = seconds(self.finished), to = seconds(cut), %words, "stretch finished");
            self.text = join(&self.text, &words);
            self.finished = cut;
            self.agreement = PrefixAgreement::new();
            self.stretches += 1;
            finished_one = true;
        }
        Ok(finished_one)
    }

    /// A quick pass over the unfinished rest of `audio`: the partial text of the whole
    /// utterance (finished stretches are committed).
    pub fn partial(&mut self, pipeline: &mut Pipeline, audio: &[f32]) -> Result<Partial> {
        let rest = &audio[self.finished.min(audio.len())..];
        let pass = pipeline.partial(rest, &self.text)?;
        let p = self.agreement.update(&pass);
        Ok(Partial { committed: join(&self.text, &p.committed), tentative: p.tentative })
    }

    /// Stretches finished so far.
    pub fn stretches(&self) -> usize {
        self.stretches
    }

    /// Ends the utterance (`audio` is all of it): recognises the rest, then corrects and
    /// polishes the whole. (raw text, final text).
    pub fn finish(self, pipeline: &mut Pipeline, audio: &[f32]) -> Result<(String, String)> {
        let rest = &audio[self.finished.min(audio.len())..];
        let clock = std::time::Instant::now();
        let words = if rest.is_empty() { String::new() } else { pipeline.chunk(rest, &self.text)? };
        let recognised = clock.elapsed();
        let out = pipeline.finish(join(&self.text, &words));
        tracing::debug!(rest = seconds(rest.len()), recognised = ?recognised, polished = ?(clock.elapsed() - recognised), "utterance finished");
        out
    }
}
