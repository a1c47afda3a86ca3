//! The one error type of this crate. Every variant names the file it is about.

use std::path::PathBuf;

/// What went wrong with a model file, a download or a conversion.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a {expected} file ({detail})")]
    WrongKind { path: PathBuf, expected: &'static str, detail: String },
    #[error("{path}: file is truncated: {detail}")]
    Truncated { path: PathBuf, detail: String },
    #[error("{path}: corrupt model: {detail}")]
    Corrupt { path: PathBuf, detail: String },
    #[error("{path}: tensor '{tensor}': {detail}")]
    Tensor { path: PathBuf, tensor: String, detail: String },
    #[error("{path}: sha256 mismatch: expected {expected}, got {actual}")]
    Checksum { path: PathBuf, expected: String, actual: String },
    #[error("download of {url} failed: {detail}")]
    Download { url: String, detail: String },
    #[error("{path}: {detail}")]
    Manifest { path: PathBuf, detail: String },
    #[error("unknown model '{0}' (see `scrivo models list`)")]
    UnknownModel(String),
    #[error("{0}")]
    Unavailable(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
    pub(crate) fn corrupt(path: impl Into<PathBuf>, detail: impl Into<String>) -> Self {
        Error::Corrupt { path: path.into(), detail: detail.into() }
    }
    pub(crate) fn truncated(path: impl Into<PathBuf>, detail: impl Into<String>) -> Self {
        Error::Truncated { path: path.into(), detail: detail.into() }
    }
    pub(crate) fn tensor(path: impl Into<PathBuf>, tensor: &str, detail: impl Into<String>) -> Self {
        Error::Tensor { path: path.into(), tensor: tensor.to_owned(), detail: detail.into() }
    }
}
