//! The one error type of this crate: each library's error passes through with its message.

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    #[error(transparent)]
    Models(#[from] scrivo_models::Error),
    #[error(transparent)]
    Asr(#[from] scrivo_asr::AsrError),
    #[error(transparent)]
    Llm(#[from] scrivo_llm::LlmError),
    #[error(transparent)]
    Bias(#[from] scrivo_bias::BiasError),
    #[error(transparent)]
    Polish(#[from] scrivo_polish::PolishError),
    #[error(transparent)]
    History(#[from] scrivo_history::HistoryError),
    #[error(transparent)]
    Capture(#[from] scrivo_capture::CaptureError),
    #[error(transparent)]
    Batch(#[from] scrivo_batch::BatchError),
    /// Something the models' manifest or the installation lacks.
    #[error("{0}")]
    Missing(String),
    #[error(transparent)]
    Settings(#[from] scrivo_settings::SettingsError),
    /// A recording was saved but could not be transcribed.
    #[error("{source}; the recording is kept as history entry {entry} (try `scrivo history rerun {entry}`)")]
    Transcription { entry: i64, source: Box<SessionError> },
}

pub type Result<T, E = SessionError> = std::result::Result<T, E>;
