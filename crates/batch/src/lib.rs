//! Batch transcription: WAV files and folders in, one output file per recording out.
//!
//! [`plan`] expands folders, decides every output path (beside the input or under an output
//! folder, never over an input) and reports inputs that cannot be used. [`run`] transcribes the
//! planned recordings on `jobs` worker threads that share one loaded whisper model, polishes
//! each one, and hands every [`Document`](scrivo_transcript::Document) to a sink (the CLI writes files, the evaluator keeps
//! text). One bad file never stops the others; progress arrives as [`Event`]s. A recording is
//! read [`BLOCK_SECONDS`] at a time and recognised in pieces of at most [`PIECE_SECONDS`] cut
//! in pauses, so a file of hours holds minutes of samples.
//!
//! A batch too large for one machine is split with [`Plan::shard`] (every process plans the same
//! inputs in the same path order and takes every N-th job), resumed with
//! [`Plan::take_finished`], and accounted for in [`summary`] files, one line per recording.

mod plan;
mod run;
mod shard;
pub mod summary;

use std::path::PathBuf;

pub use plan::{plan, write_atomically, Job, Plan};
pub use run::{run, transcribe, Event, Settings, BLOCK_SECONDS, PIECE_SECONDS};
pub use shard::{Shard, INDEX_VARIABLES};
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
    #[error("{path}: {detail}")]
    Summary { path: PathBuf, detail: String },
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
            | BatchError::Cancelled { path }
            | BatchError::Summary { path, .. } => Some(path),
        }
    }
}

/// A finished recording: its length and what the sink made of its [`Document`](scrivo_transcript::Document) (e.g. the
/// output path). The document itself is not kept, so a batch of any size holds one at a time per
/// worker.
#[derive(Debug)]
pub struct Done<T> {
    pub index: usize,
    pub audio_seconds: f64,
    pub value: T,
}
