//! Speech recognition for Scrivo.
//!
//! [`Transcriber`] is the seam the pipeline depends on; [`WhisperEngine`] is the real
//! implementation on whisper.cpp (through `whisper-rs`). A model file is validated completely
//! by [`scrivo_models::ggml::validate`] before whisper.cpp sees it, because whisper.cpp aborts
//! the process on some malformed files.
//!
//! ```no_run
//! use scrivo_asr::{DecodeOptions, Transcriber, WhisperEngine};
//! let mut engine = WhisperEngine::load(std::path::Path::new("models/ggml-tiny.en.bin"))?;
//! let audio = vec![0.0f32; 16_000];
//! let transcript = engine.transcribe(&audio, &DecodeOptions::default())?;
//! println!("{}", transcript.text());
//! # Ok::<(), scrivo_asr::AsrError>(())
//! ```

mod boost;
mod encodes;
mod filter;
mod guard;
mod whisper;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

pub use boost::{TermBoost, DEFAULT_BONUS, DEFAULT_START_BONUS};
pub use filter::{is_non_speech, is_silence_hallucination};
pub use guard::{collapse_loops, looks_looped};
pub use scrivo_transcript::{join, Segment, Transcript};
pub use whisper::{encoder_context_for, WhisperEngine, WhisperModel, WordConfidence};

/// How to decode.
#[derive(Debug, Clone)]
pub struct DecodeOptions {
    pub threads: usize,
    /// `None` or `Some("auto")` detects the language (multilingual models only).
    pub language: Option<String>,
    /// Text that conditions the decoder (e.g. biasing-list terms).
    pub initial_prompt: Option<String>,
    /// Listed terms favoured while decoding ([`WhisperModel::term_boost`]).
    pub boost: Option<Arc<TermBoost>>,
    /// Shrink the encoder window to fit short clips instead of always paying for 30 s.
    pub fit_encoder_context: bool,
    /// Set to stop a decode in progress; the call then returns [`AsrError::Cancelled`].
    pub cancel: Option<Arc<AtomicBool>>,
    /// Told the share of the decode done so far (0..1), for a progress bar.
    pub progress: Option<ProgressFn>,
}

/// A progress callback: the share of a decode done, 0..1.
#[derive(Clone)]
pub struct ProgressFn(pub Arc<dyn Fn(f32) + Send + Sync>);

impl std::fmt::Debug for ProgressFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressFn")
    }
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions { threads: 2, language: Some("en".into()), initial_prompt: None, boost: None, fit_encoder_context: true, cancel: None, progress: None }
    }
}

/// Turns 16 kHz mono audio into text.
pub trait Transcriber {
    fn transcribe(&mut self, audio: &[f32], options: &DecodeOptions) -> Result<Transcript, AsrError>;
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AsrError {
    #[error(transparent)]
    Model(#[from] scrivo_models::Error),
    #[error("{path}: whisper.cpp could not load the model: {detail}")]
    Load { path: PathBuf, detail: String },
    #[error("language '{language}' is not available: {detail}")]
    Language { language: String, detail: String },
    #[error("transcription failed: {0}")]
    Decode(String),
    #[error("transcription cancelled")]
    Cancelled,
}
