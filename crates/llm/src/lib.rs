//! The polishing engine's language model: SmolLM2-135M-Instruct (llama architecture, GGUF) in
//! candle.
//!
//! - [`Model`]: the weights and a forward pass that returns logits at every position, so a
//!   draft (the rule pass's output) can be verified in one pass; the key/value [`Cache`] lives
//!   outside the model and clones cheaply (a prompt cache).
//! - [`TextTokenizer`]: byte-level BPE built from the GGUF metadata (candle's ready-made GGUF
//!   tokenizer inserts a prefix space that breaks the chat template).
//!
//! - [`LlmPolisher`]: the polishing engine's LLM stage, copy-constrained (it can only keep,
//!   drop, re-case and punctuate the input's words) and verifying the rule pass's draft.
//!
//! - [`TaggerPolisher`]: the default LLM stage: a keep/delete head on the frozen model's
//!   hidden states (the text read twice), trained by [`train`] on disfluent/fluent pairs.
//!
//! - [`ContextScorer`]: the model's log-probability of text, which judges biasing-list
//!   sound-alikes by their context.
//!
//! Only this crate links candle.

pub mod context;
pub mod finetune;
pub mod lora;
pub mod model;
pub mod packed_file;
pub mod polisher;
pub mod qgemm;
pub mod tagger;
pub mod tokenizer;
pub mod train;
pub mod tune;

use std::path::PathBuf;

pub use context::ContextScorer;
pub use model::{argmax_rows, BaseRun, Cache, Config, Model};
pub use polisher::LlmPolisher;
pub use tagger::{TaggerHead, TaggerPolisher};
pub use tokenizer::TextTokenizer;

/// What can go wrong loading or running the model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LlmError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: {detail}", path.display())]
    Format { path: PathBuf, detail: String },
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error("{0}")]
    Input(String),
    #[error("model: {0}")]
    Candle(#[from] candle_core::Error),
    #[error(transparent)]
    File(#[from] scrivo_models::Error),
}

/// Fixes the thread count candle uses, once, for the whole process. candle asks for it at
/// every f32 matrix product and, unless `RAYON_NUM_THREADS` is set, works it out each time by
/// reading `/proc/cpuinfo`: a third of the time a 22-token prompt prefix took through 8
/// adapted blocks (18.6 ms, 11.0 ms with the variable set), 4% of a polish. Sets the
/// variable to candle's own answer. Call it first thing in `main`, before any thread starts
/// (changing the environment while other threads read it is not safe).
pub fn settle_thread_count() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        let threads = candle_core::utils::get_num_threads();
        std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
    }
}
