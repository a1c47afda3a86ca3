//! The whisper.cpp engine.

use std::path::{Path, PathBuf};
use std::sync::Once;

use scrivo_models::ggml::{self, GgmlModelInfo};
use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState};

use crate::{filter, AsrError, DecodeOptions, Segment, Transcriber, Transcript};

/// Encoder frames per second of audio (1500 frames cover 30 s).
const FRAMES_PER_SECOND: f64 = 50.0;
/// Extra frames beyond the clip. Smaller margins make whisper loop on short clips.
const CONTEXT_MARGIN: usize = 256;
const FULL_CONTEXT: usize = 1500;

/// The encoder context for a clip of `seconds`: `ceil(seconds * 50) + 256`, at most 1500.
pub fn encoder_context_for(seconds: f64) -> usize {
    ((seconds * FRAMES_PER_SECOND).ceil() as usize + CONTEXT_MARGIN).min(FULL_CONTEXT)
}

/// A loaded whisper model and one decoding state.
pub struct WhisperEngine {
    path: PathBuf,
    info: GgmlModelInfo,
    // Field order matters: the state must be dropped before the context it came from.
    state: WhisperState,
    _context: WhisperContext,
}

static QUIET: Once = Once::new();

impl WhisperEngine {
    /// Validates and loads the ggml model at `path`.
    pub fn load(path: &Path) -> Result<Self, AsrError> {
        let info = ggml::validate(path)?;
        QUIET.call_once(whisper_rs::install_logging_hooks);
        let path_str = path.to_str().ok_or_else(|| AsrError::Load { path: path.into(), detail: "path is not UTF-8".into() })?;
        let context = WhisperContext::new_with_params(path_str, WhisperContextParameters::default())
            .map_err(|e| AsrError::Load { path: path.into(), detail: e.to_string() })?;
        let state = context.create_state().map_err(|e| AsrError::Load { path: path.into(), detail: e.to_string() })?;
        Ok(WhisperEngine { path: path.into(), info, state, _context: context })
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

impl Transcriber for WhisperEngine {
    fn transcribe(&mut self, audio: &[f32], options: &DecodeOptions) -> Result<Transcript, AsrError> {
        let language = match options.language.as_deref() {
            None | Some("auto") if self.info.multilingual => Some("auto"),
            None | Some("auto") | Some("en") => Some("en"),
            Some(other) if self.info.multilingual => Some(other),
            Some(other) => {
                return Err(AsrError::Language {
                    language: other.to_owned(),
                    detail: format!("{} is an English-only model", self.path.display()),
                })
            }
        };
        // Silence is never decoded: whisper invents "you" or "Thank you." on it.
        let bounds = scrivo_audio::speech_bounds(audio);
        if bounds.is_empty() {
            return Ok(Transcript::default());
        }
        let offset = bounds.start as f64 / 16_000.0;
        let audio = &audio[bounds];
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        params.set_n_threads(options.threads.max(1) as i32);
        params.set_language(language);
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
        let seconds = audio.len() as f64 / 16_000.0;
        if options.fit_encoder_context {
            params.set_audio_ctx(encoder_context_for(seconds) as i32);
        }
        self.state.full(params, audio).map_err(|e| AsrError::Decode(e.to_string()))?;
        let mut segments = Vec::new();
        for segment in self.state.as_iter() {
            let text = segment.to_str_lossy().map_err(|e| AsrError::Decode(e.to_string()))?.trim().to_owned();
            if filter::is_non_speech(&text) {
                continue;
            }
            segments.push(Segment {
                start_seconds: offset + segment.start_timestamp() as f64 / 100.0,
                end_seconds: (offset + segment.end_timestamp() as f64 / 100.0).min(offset + seconds),
                text,
            });
        }
        Ok(Transcript { segments })
    }
}
