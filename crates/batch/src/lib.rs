//! Batch transcription: WAV files and folders in, one output file per recording out.
//!
//! [`plan`] expands folders, decides every output path (beside the input or under an output
//! folder, never over an input) and reports inputs that cannot be used. [`run`] transcribes the
//! planned recordings on `jobs` worker threads that share one loaded whisper model, polishes
//! each one, and hands every [`Document`] to a sink (the CLI writes files, the evaluator keeps
//! text). One bad file never stops the others; progress arrives as [`Event`]s.

mod plan;
mod run;

use std::path::PathBuf;

pub use plan::{plan, write_atomically, Job, Plan};
pub use run::{run, transcribe, Event, Settings};
use scrivo_transcript::Document;
pub use scrivo_transcript::Format;

/// Why one input failed. The message always names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    #[error(transparent)]
    Audio(#[from] scrivo_audio::AudioError),
    #[error("{path}: {source}")]
    Asr { path: PathBuf, source: scrivo_asr::AsrError },
    #[error("{path}: {source}")]
    Polish { path: PathBuf, source: scrivo_polish::PolishError },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {detail}")]
    Input { path: PathBuf, detail: String },
    #[error("{path}: could not write the output: {detail}")]
    Output { path: PathBuf, detail: String },
    #[error("{path}: cancelled")]
    Cancelled { path: PathBuf },
}

impl BatchError {
    /// The input (or output) file the error is about, when it names one.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            BatchError::Audio(_) => None,
            BatchError::Asr { path, .. }
            | BatchError::Polish { path, .. }
            | BatchError::Io { path, .. }
            | BatchError::Input { path, .. }
            | BatchError::Output { path, .. }
            | BatchError::Cancelled { path } => Some(path),
        }
    }
}

/// A finished recording: the document and what the sink made of it (e.g. the output path).
#[derive(Debug)]
pub struct Done<T> {
    pub index: usize,
    pub document: Document,
    pub value: T,
}
