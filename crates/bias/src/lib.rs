//! Biasing lists: the words a user's recordings contain that generic models get wrong (names,
//! products, jargon), and their use after recognition.
//!
//! - [`list`]: the TOML format, with every problem reported by line and column.
//! - [`store`]: atomic saves that keep the previous version, conflict checks, the user's folder
//!   of lists, import/export as text, CSV or TOML.
//! - [`Corrector`]: puts the terms into recognised text (exact, listed and sound-alike
//!   spellings), reporting every change so it can be shown and undone.
//! - [`prompt`]: the speech model's initial prompt from the enabled terms.
//!
//! ```
//! use scrivo_bias::{Corrector, Entry, Lexicon};
//! let entries = [Entry { term: "Kubernetes".into(), sounds_like: vec!["cube nettys".into()], note: None }];
//! let corrector = Corrector::for_entries(&entries, Lexicon::english());
//! assert_eq!(corrector.apply("deploy to cube nettys").text, "deploy to Kubernetes");
//! ```

pub mod lexicon;
pub mod list;
pub mod matcher;
pub mod prompt;
pub mod store;
pub mod text;

use std::collections::HashSet;
use std::path::PathBuf;

pub use lexicon::Lexicon;
pub use list::{entry_problems, BiasingList, Entry, EntryField, EntryProblem, Problem, Problems};
pub use matcher::{AcousticModel, Change, ChangeKind, Considered, ContextModel, Corrected, Corrector, Guard, Near, Settings};
pub use store::Store;

/// What can go wrong with a biasing list.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BiasError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Invalid(Problems),
    #[error("{}:{line}: {message}", path.display())]
    Format { path: PathBuf, line: usize, message: String },
    #[error("{}: the file changed on disk since it was opened; reload it before saving", path.display())]
    Conflict { path: PathBuf },
    #[error("{}: {size} bytes is more than a list file can be ({limit} bytes)", path.display())]
    TooLarge { path: PathBuf, size: u64, limit: u64 },
    #[error("{}: already exists; say so to replace it (--force)", path.display())]
    Exists { path: PathBuf },
    #[error("no biasing list called {name:?} in {}", dir.display())]
    NotFound { name: String, dir: PathBuf },
}

/// The corrector's promise, checked: every word of `corrected` is a word of `text` or of one of
/// `terms` (words compared in lower case, split at anything not a letter or digit), so nothing
/// outside the lists is ever written. `Err` names the first word that breaks it.
///
/// ```
/// assert!(scrivo_bias::only_terms_written("ask cube nettys", "ask Kubernetes", ["Kubernetes"]).is_ok());
/// assert!(scrivo_bias::only_terms_written("ask cube nettys", "ask Kubernetes now", ["Kubernetes"]).is_err());
/// ```
pub fn only_terms_written<'a>(text: &str, corrected: &str, terms: impl IntoIterator<Item = &'a str>) -> Result<(), String> {
    fn pieces(text: &str) -> impl Iterator<Item = String> + '_ {
        text.split(|c: char| !c.is_alphanumeric()).filter(|p| !p.is_empty()).map(text::normalise)
    }
    let mut allowed: HashSet<String> = pieces(text).collect();
    for term in terms {
        allowed.extend(pieces(term));
    }
    match pieces(corrected).find(|p| !allowed.contains(p)) {
        Some(word) => Err(format!("{word:?} is neither in the text nor in a listed term")),
        None => Ok(()),
    }
}
