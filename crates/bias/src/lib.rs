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

use std::path::PathBuf;

pub use lexicon::Lexicon;
pub use list::{entry_problems, BiasingList, Entry, EntryField, EntryProblem, Problem, Problems};
pub use matcher::{Change, ChangeKind, Considered, ContextModel, Corrected, Corrector, Guard, Settings};
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
    #[error("no biasing list called {name:?} in {}", dir.display())]
    NotFound { name: String, dir: PathBuf },
}
