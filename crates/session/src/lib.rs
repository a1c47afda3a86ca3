//! What the `scrivo` CLI and the desktop app share, so that anything a button does is a
//! library call the CLI can make too:
//!
//! - [`settings`]: the user's settings file (input device, memory budget, polishing, shortcuts);
//! - [`lists`]: the user's biasing lists as a corrector, and the common words it guards;
//! - [`pipeline`]: one recording to polished text, with both models taken from the model
//!   manager under one memory budget;
//! - [`live`]: an utterance recognised while it is spoken (stretches finished at pauses,
//!   partial text), so little is left to do when it ends;
//! - [`dictation`]: the microphone loop (level, voice activity, partial text), saving every
//!   recording in the history before it is transcribed;
//! - [`paths`]: the user's folders.
//!
//! ```no_run
//! use std::sync::{atomic::AtomicBool, Arc};
//! use scrivo_session::{dictation, pipeline::{Pipeline, PipelineConfig}, settings::Settings};
//! # fn main() -> Result<(), scrivo_session::SessionError> {
//! let models = scrivo_session::models_store(None)?;
//! let settings = Settings::load();
//! let mut pipeline = Pipeline::load(&PipelineConfig::default(), &models, Arc::new(settings.resident(None)))?;
//! let history = scrivo_history::History::open(&scrivo_session::paths::data("history"))?;
//! let options = dictation::Options { hands_free: true, ..dictation::Options::default() };
//! let outcome = dictation::dictate(&mut pipeline, &history, &options, &AtomicBool::new(false), |_| {})?;
//! println!("{}", outcome.text);
//! # Ok(()) }
//! ```

pub mod dictation;
mod error;
pub mod lists;
pub mod live;
pub mod pipeline;
/// The user's settings file (its own crate, so that tools and tests read it without the models).
pub use scrivo_settings as settings;
pub use scrivo_settings::paths;

pub use error::{Result, SessionError};

use std::path::PathBuf;

/// The installed models: `dir`, else `./models` when it holds a manifest (a checkout), else the
/// user data dir; wheels are cached in `$SCRIVO_WHEEL_CACHE` or the user cache dir.
pub fn models_store(dir: Option<PathBuf>) -> Result<scrivo_models::store::ModelStore> {
    let dir = dir.unwrap_or_else(|| if PathBuf::from("models/manifest.toml").is_file() { PathBuf::from("models") } else { paths::data("models") });
    let cache = std::env::var_os("SCRIVO_WHEEL_CACHE").map(PathBuf::from).unwrap_or_else(|| paths::cache("wheels"));
    Ok(scrivo_models::store::ModelStore::new(dir, scrivo_models::manifest::Manifest::builtin()?, cache))
}

/// The history store at `dir` (or the user's), opened whatever state it was left in, with what
/// the user should be told about it (a damaged database kept aside, recordings listed again).
pub fn history(dir: Option<PathBuf>) -> Result<(scrivo_history::History, Vec<String>)> {
    let dir = dir.unwrap_or_else(|| paths::data("history"));
    let (history, repair) = scrivo_history::History::open_repairing(&dir)?;
    Ok((history, repair.notices()))
}
