//! The user's biasing lists as a corrector, the common words that guard it, and the
//! polishing model's context check.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use scrivo_bias::{store, BiasingList, Corrector, Lexicon, Store};
use scrivo_models::store::ModelStore;

use crate::Result;

/// The folder of the user's lists.
pub fn user_store(dir: Option<PathBuf>) -> Store {
    Store::new(dir.unwrap_or_else(|| crate::paths::config("biasing-lists")))
}

/// Common words: the top English words plus every lower-case whole-word token of the installed
/// default speech model's vocabulary (words it already spells well), when one is installed; its
/// capitalised whole-word tokens are known names. Read once per model file and kept for the
/// process (a pipeline rebuilt after a settings or list change does not read it again); a model
/// file replaced on disk is read anew.
pub fn lexicon(models: &ModelStore) -> Lexicon {
    type Key = (Option<PathBuf>, Option<std::time::SystemTime>, u64);
    static CACHE: std::sync::Mutex<Option<(Key, Lexicon)>> = std::sync::Mutex::new(None);
    let path = crate::pipeline::resolve_model(models, None).ok().map(|(p, _)| p);
    let meta = path.as_deref().and_then(|p| std::fs::metadata(p).ok());
    let key: Key = (path.clone(), meta.as_ref().and_then(|m| m.modified().ok()), meta.as_ref().map_or(0, |m| m.len()));
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((cached, lexicon)) = cache.as_ref() {
        if *cached == key {
            return lexicon.clone();
        }
    }
    let lexicon = read_lexicon(path.as_deref());
    *cache = Some((key, lexicon.clone()));
    lexicon
}

fn read_lexicon(path: Option<&Path>) -> Lexicon {
    let base = Lexicon::english();
    let Some(path) = path else { return base };
    match scrivo_models::ggml::vocabulary(path) {
        Ok(tokens) => {
            let words: Vec<(usize, &str)> = tokens
                .iter()
                .enumerate()
                .filter_map(|(id, t)| Some((id, std::str::from_utf8(t.strip_prefix(b" ")?).ok()?)))
                .filter(|(_, w)| w.len() >= 2 && w.chars().all(char::is_alphabetic))
                .collect();
            let is_lower = |w: &str| w.chars().next().is_some_and(char::is_lowercase);
            base.with_frequent_words(words.iter().filter(|(id, w)| *id < FREQUENT_TOKEN_IDS && is_lower(w)).map(|(_, w)| *w))
                .with_words(words.iter().filter(|(_, w)| is_lower(w)).map(|(_, w)| *w))
                .with_names(words.iter().filter(|(_, w)| !is_lower(w)).map(|(_, w)| *w))
        }
        Err(e) => {
            tracing::warn!("common words from {} not read: {e}", path.display());
            base
        }
    }
}

/// Whole-word tokens below this id count as the most frequent words (measured: 20,000 kept
/// LibriSpeech over-correction lower than 10,000 at a small cost in recall).
const FREQUENT_TOKEN_IDS: usize = 20_000;

/// The lists named in `names` (list names or .toml paths), or the enabled ones when empty.
pub fn lists_for(store: &Store, names: &[String]) -> Result<Vec<BiasingList>> {
    if names.is_empty() {
        return Ok(store.enabled()?);
    }
    names
        .iter()
        .map(|n| {
            let path = Path::new(n);
            if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
                Ok(store::load(path)?)
            } else {
                Ok(store.get(n)?.1)
            }
        })
        .collect()
}

pub fn corrector(lists: &[BiasingList], lexicon: Lexicon) -> Corrector {
    Corrector::for_entries(lists.iter().flat_map(|l| &l.entries), lexicon)
}

/// The biasing lists' context check over the installed polishing model, loaded on its own;
/// `None` with a warning when it is not installed.
pub fn context_scorer(models: &ModelStore) -> Result<Option<scrivo_llm::ContextScorer>> {
    let path = match crate::pipeline::polishing_model_path(models) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!("no context check for biasing lists: {e}");
            return Ok(None);
        }
    };
    let (model, tokenizer) = scrivo_llm::Model::load(&path)?;
    Ok(Some(scrivo_llm::ContextScorer::new(Arc::new(model), Arc::new(tokenizer))?))
}

/// What correcting `text` with `corrector` changes: the corrected text and its changes
/// against `text`, word by word.
pub fn try_text(corrector: &Corrector, context: Option<&dyn scrivo_bias::ContextModel>, text: &str) -> (String, Vec<scrivo_transcript::Change>) {
    let corrected = corrector.apply_with(text, context).text;
    let changes = scrivo_transcript::changes(text, &corrected);
    (corrected, changes)
}
