//! The whisper.cpp engine.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Once};

use scrivo_models::ggml::{self, GgmlModelInfo};
use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState};

use crate::{filter, guard, AsrError, DecodeOptions, Segment, Transcriber, Transcript};

/// Encoder frames per second of audio (1500 frames cover 30 s).
const FRAMES_PER_SECOND: f64 = 50.0;
/// Extra frames beyond the clip. Smaller margins make whisper loop on short clips.
const CONTEXT_MARGIN: usize = 256;
const FULL_CONTEXT: usize = 1500;

/// Fewer words than this per second of speech from a prompted decode means the prompt sent
/// the decoder off (speech runs at 2-3 words a second; a pause inside the clip lowers it).
const MIN_PROMPTED_WORDS_PER_SECOND: f64 = 0.5;

/// Words (with a letter or digit) in decoded segments.
fn words(segments: &[(Segment, f32)]) -> usize {
    segments.iter().map(|(s, _)| s.text.split_whitespace().filter(|w| w.chars().any(char::is_alphanumeric)).count()).sum()
}

fn joined_text(segments: &[(Segment, f32)]) -> String {
    crate::join(segments.iter().map(|(s, _)| s.text.as_str()))
}

/// Marks that only continue a list; no transcript starts with one.
const LIST_MARKS: [char; 3] = [',', ';', ':'];

/// Whether a prompted decode of `seconds` of speech looks sent off by its prompt: far too few
/// words, or a list going on (text that starts with a list mark and has a comma for every
/// three words or fewer: ", Macteen, Wamir, Lamut, Osambi").
fn sent_off(segments: &[(Segment, f32)], seconds: f64) -> bool {
    let (text, words) = (joined_text(segments), words(segments));
    let listing = text.trim_start().starts_with(LIST_MARKS) && text.matches(',').count() * 3 > words;
    listing || (words as f64) < MIN_PROMPTED_WORDS_PER_SECOND * seconds
}

/// The encoder context is a multiple of this: ggml's tiled matrix kernel (llamafile's sgemm)
/// takes a product only when its inner size is a multiple of 16 (AVX-512) and its rows a
/// multiple of 4, and the encoder's attention multiplies over the context on both sides.
/// Other sizes fell back to one dot product at a time (`ggml_vec_dot_f16`).
const CONTEXT_STEP: usize = 16;

/// The encoder context for a clip of `seconds`: `ceil(seconds * 50) + 256` rounded up to a
/// multiple of 16, at most 1500.
pub fn encoder_context_for(seconds: f64) -> usize {
    ((seconds * FRAMES_PER_SECOND).ceil() as usize + CONTEXT_MARGIN).next_multiple_of(CONTEXT_STEP).min(FULL_CONTEXT)
}

/// A loaded whisper model. Cheap to clone; every [`WhisperEngine`] made from it shares the
/// weights and has its own decoding state, so several can run on separate threads.
#[derive(Clone)]
pub struct WhisperModel {
    path: PathBuf,
    info: GgmlModelInfo,
    context: Arc<WhisperContext>,
}

static QUIET: Once = Once::new();

impl WhisperModel {
    /// Validates and loads the ggml model at `path`.
    pub fn load(path: &Path) -> Result<Self, AsrError> {
        let info = ggml::validate(path)?;
        QUIET.call_once(whisper_rs::install_logging_hooks);
        let path_str = path.to_str().ok_or_else(|| AsrError::Load { path: path.into(), detail: "path is not UTF-8".into() })?;
        // Flash attention measured slower on CPU at the context sizes used here (0.55 s vs
        // 0.44 s for an 11 s clip), so it stays off.
        let context = WhisperContext::new_with_params(path_str, WhisperContextParameters::default())
            .map_err(|e| AsrError::Load { path: path.into(), detail: e.to_string() })?;
        Ok(WhisperModel { path: path.into(), info, context: Arc::new(context) })
    }

    /// Sends whisper.cpp's own timing table (mel, encode, decode, per-token) to the log at
    /// INFO level (target `whisper_rs`), then resets it.
    pub fn log_timings(&self) {
        self.context.print_timings();
        self.context.reset_timings();
    }

    /// How many tokens `text` takes in this model's vocabulary (a rough estimate when the
    /// tokenizer refuses it).
    pub fn count_tokens(&self, text: &str) -> usize {
        match self.context.tokenize(text, 1024) {
            Ok(tokens) => tokens.len(),
            Err(_) => text.chars().count().div_ceil(3),
        }
    }

    /// `terms` as token sequences of this model, for [`DecodeOptions::boost`]: the tokens that
    /// continue a term already begun get `bonus` logits, a term's first token `start_bonus`.
    pub fn term_boost<'a>(&self, terms: impl IntoIterator<Item = &'a str>, bonus: f32, start_bonus: f32) -> crate::TermBoost {
        crate::TermBoost::new(&self.context, terms, bonus, start_bonus)
    }

    /// A decoding state on this model.
    pub fn engine(&self) -> Result<WhisperEngine, AsrError> {
        let state = self.context.create_state().map_err(|e| AsrError::Load { path: self.path.clone(), detail: e.to_string() })?;
        Ok(WhisperEngine { model: self.clone(), state })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn info(&self) -> &GgmlModelInfo {
        &self.info
    }

    pub fn is_multilingual(&self) -> bool {
        self.info.multilingual
    }
}

/// One decoding state on a [`WhisperModel`].
pub struct WhisperEngine {
    model: WhisperModel,
    state: WhisperState,
}

impl WhisperEngine {
    /// Validates and loads the ggml model at `path` with one decoding state.
    pub fn load(path: &Path) -> Result<Self, AsrError> {
        WhisperModel::load(path)?.engine()
    }

    pub fn model(&self) -> &WhisperModel {
        &self.model
    }

    pub fn path(&self) -> &Path {
        self.model.path()
    }

    pub fn info(&self) -> &GgmlModelInfo {
        self.model.info()
    }

    pub fn is_multilingual(&self) -> bool {
        self.model.is_multilingual()
    }

    fn language<'a>(&self, requested: Option<&'a str>) -> Result<&'a str, AsrError> {
        let multilingual = self.model.info.multilingual;
        match requested {
            None | Some("auto") if multilingual => Ok("auto"),
            None | Some("auto") | Some("en") => Ok("en"),
            Some(other) if multilingual => Ok(other),
            Some(other) => Err(AsrError::Language {
                language: other.to_owned(),
                detail: format!("{} is an English-only model", self.model.path.display()),
            }),
        }
    }

    /// One whisper.cpp pass over `audio` with an encoder window of `context` frames.
    fn decode(&mut self, audio: &[f32], language: &str, context: usize, options: &DecodeOptions) -> Result<Vec<(Segment, f32)>, AsrError> {
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        params.set_n_threads(options.threads.max(1) as i32);
        params.set_language(Some(language));
        params.set_no_context(true);
        params.set_suppress_nst(true);
        // Retrying at higher temperatures costs seconds on short clips and does not cure loops.
        params.set_temperature_inc(0.0);
        params.set_print_special(false);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_timestamps(false);
        if let Some(prompt) = options.initial_prompt.as_deref().filter(|p| !p.is_empty()) {
            params.set_initial_prompt(prompt);
        }
        if context < FULL_CONTEXT {
            params.set_audio_ctx(context as i32);
        }
        if let Some(tokens) = guard::max_tokens(audio.len() as f64 / 16_000.0) {
            params.set_max_tokens(tokens as i32);
        }
        if let Some(boost) = options.boost.as_ref().filter(|b| !b.is_empty()) {
            // `options` keeps the boost alive until `full` below has returned.
            crate::boost::install(&mut params, boost);
        }
        if let Some(cancel) = options.cancel.clone() {
            // whisper-rs 0.16 boxes the closure twice but its trampoline reads the pointer as the
            // closure's own type, which is only right when that type is itself the boxed trait
            // object: pass exactly `Box<dyn FnMut() -> bool>` (a bare closure reads garbage and
            // makes whisper.cpp fail with -6 "failed to encode").
            let check: Box<dyn FnMut() -> bool> = Box::new(move || cancel.load(Ordering::Relaxed));
            params.set_abort_callback_safe::<_, Box<dyn FnMut() -> bool>>(check);
        }
        if let Some(progress) = options.progress.clone() {
            params.set_progress_callback_safe(move |percent: i32| (progress.0)(percent.clamp(0, 100) as f32 / 100.0));
        }
        let result = self.state.full(params, audio);
        if options.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(AsrError::Cancelled);
        }
        result.map_err(|e| AsrError::Decode(e.to_string()))?;
        let seconds = audio.len() as f64 / 16_000.0;
        let mut segments = Vec::new();
        for segment in self.state.as_iter() {
            let text = segment.to_str_lossy().map_err(|e| AsrError::Decode(e.to_string()))?.trim().to_owned();
            let start = segment.start_timestamp() as f64 / 100.0;
            let end = (segment.end_timestamp() as f64 / 100.0).min(seconds);
            segments.push((Segment { start_seconds: start, end_seconds: end, text }, segment.no_speech_probability()));
        }
        Ok(segments)
    }
}

impl Transcriber for WhisperEngine {
    fn transcribe(&mut self, audio: &[f32], options: &DecodeOptions) -> Result<Transcript, AsrError> {
        let language = self.language(options.language.as_deref())?;
        // Silence is never decoded: whisper invents "you" or "Thank you." on it.
        let bounds = scrivo_audio::speech_bounds(audio);
        if bounds.is_empty() {
            return Ok(Transcript::default());
        }
        let offset = bounds.start as f64 / 16_000.0;
        let audio = &audio[bounds];
        let seconds = audio.len() as f64 / 16_000.0;
        let fitted = if options.fit_encoder_context { encoder_context_for(seconds) } else { FULL_CONTEXT };
        let mut segments = self.decode(audio, language, fitted, options)?;
        // The options of the decode kept (without the prompt once it sent the decoder off).
        let mut kept = std::borrow::Cow::Borrowed(options);
        if options.initial_prompt.as_deref().is_some_and(|p| !p.is_empty()) && sent_off(&segments, seconds) {
            // A prompt can send the decoder off: a biasing list's glossary ("Glossary: A, B,
            // C.") made it answer "," for 3 s of "Ask the team whether Russia is ready for the
            // release.", or go on listing (", Macteen, Wamir, Lamut, ..."). Decoded again
            // without the prompt (the list's boost stays), which is kept unless it is empty.
            let bare = DecodeOptions { initial_prompt: None, ..options.clone() };
            let again = self.decode(audio, language, fitted, &bare)?;
            tracing::warn!(seconds, prompted = %joined_text(&segments), bare = %joined_text(&again), "the prompt sent the decoder off; decoded again without it");
            if words(&again) > 0 || words(&segments) == 0 {
                segments = again;
                kept = std::borrow::Cow::Owned(bare);
            }
        }
        if guard::looks_looped(&joined_text(&segments), seconds) && fitted < FULL_CONTEXT {
            tracing::warn!(seconds, context = fitted, text = %joined_text(&segments), "decoding looped; decoding again with the full 30 s window");
            segments = self.decode(audio, language, FULL_CONTEXT, &kept)?;
        }
        // The prompt's last mark carried over (", He was not an ill-disposed young man?").
        if let Some((first, _)) = segments.first_mut() {
            first.text = first.text.trim_start_matches(|c: char| LIST_MARKS.contains(&c) || c.is_whitespace()).to_string();
        }
        let looped = guard::looks_looped(&joined_text(&segments), seconds);
        tracing::debug!(seconds, context = fitted, segments = ?segments.iter().map(|(s, p)| (s.text.as_str(), *p)).collect::<Vec<_>>(), "decoded");
        let mut out: Vec<Segment> = Vec::new();
        for (mut segment, no_speech) in segments {
            if filter::is_non_speech(&segment.text) || filter::is_silence_hallucination(&segment.text, no_speech) {
                continue;
            }
            if looped {
                if out.last().is_some_and(|prev| prev.text == segment.text) {
                    continue;
                }
                segment.text = guard::collapse_loops(&segment.text);
            }
            segment.start_seconds += offset;
            segment.end_seconds += offset;
            out.push(segment);
        }
        if looped {
            tracing::warn!(seconds, "decoding still looped at the full window; repeats were collapsed");
        }
        Ok(Transcript { segments: out })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(texts: &[&str]) -> Vec<(Segment, f32)> {
        texts.iter().map(|t| (Segment { start_seconds: 0.0, end_seconds: 1.0, text: (*t).to_string() }, 0.0)).collect()
    }

    #[test]
    fn a_prompt_that_sent_the_decoder_off_is_recognised() {
        // A lone mark for 3 s of speech, and a list going on.
        assert!(sent_off(&decoded(&[","]), 3.0));
        assert!(sent_off(&decoded(&[", Macteen, Wamir, Lamut, Osambi, Randy, Fermor, release."]), 4.0));
        assert!(sent_off(&decoded(&[", Go Forward, 10 meters, Go Forward, 10 meters,"]), 2.4));
        assert!(sent_off(&decoded(&["Okay."]), 6.0), "one word for 6 s of speech");
        // Text the prompt only left its last mark on, and ordinary speech, are not.
        assert!(!sent_off(&decoded(&[", He was not an ill-disposed young man?"]), 3.0));
        assert!(!sent_off(&decoded(&["And so, my fellow Americans, ask not", "what your country can do for you."]), 5.0));
        assert!(!sent_off(&decoded(&["Yes."]), 1.0));
    }

    #[test]
    fn the_encoder_window_is_a_whole_number_of_kernel_steps() {
        for seconds in [0.5, 1.0, 2.97, 6.35, 11.0, 20.0] {
            let context = encoder_context_for(seconds);
            assert_eq!(context % CONTEXT_STEP, 0, "{seconds} s -> {context}");
            assert!(context >= (seconds * FRAMES_PER_SECOND).ceil() as usize + CONTEXT_MARGIN);
            assert!(context < (seconds * FRAMES_PER_SECOND).ceil() as usize + CONTEXT_MARGIN + CONTEXT_STEP);
        }
        // Near 30 s the whole window, which is not a multiple of 16.
        assert_eq!(encoder_context_for(24.9), FULL_CONTEXT);
        assert_eq!(encoder_context_for(29.0), FULL_CONTEXT);
    }
}
