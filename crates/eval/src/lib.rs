//! Scrivo's measurement kit: the English normaliser, corpus word error rate and the TSV test
//! sets in `../shared/eval`. Pure Rust, so the eval commands' logic is tested without a model.

pub mod normalise;
pub mod polish;
pub mod tsv;
pub mod wer;

pub use normalise::{normalise_english, words_english};
pub use tsv::{Row, Table, TsvError};
pub use wer::WordErrors;
