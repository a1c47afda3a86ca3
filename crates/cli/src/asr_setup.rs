//! What `transcribe` and `eval asr` share: choosing the speech model, the thread/job split and
//! the polisher.

use std::path::PathBuf;

use anyhow::{Context, Result};
use scrivo_models::manifest::Role;
use scrivo_models::store::ModelStore;
use scrivo_polish::{Polisher, RulePolisher};

/// The speech model to load: an installed id, a ggml file path, or the manifest's default.
/// Returns the path and the name recorded in outputs.
pub fn resolve_model(store: &ModelStore, model: Option<&str>) -> Result<(PathBuf, String)> {
    match model {
        Some(m) if PathBuf::from(m).is_file() => {
            let path = PathBuf::from(m);
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| m.to_owned());
            Ok((path, name))
        }
        Some(id) => Ok((store.installed(id)?, id.to_owned())),
        None => {
            let entry = store.manifest.default_for(Role::Asr).context("the manifest has no default speech model")?;
            Ok((store.installed(&entry.id)?, entry.id.clone()))
        }
    }
}

/// `(jobs, threads per job)`. Measured on 2 cores with tiny.en over the 32 eval clips:
/// see ARCHITECTURE.md ("Batch: jobs and threads"). One job using every core wins, because
/// whisper.cpp's encoder scales across threads and two jobs double the memory.
pub fn split_cores(jobs: Option<usize>, threads: Option<usize>) -> (usize, usize) {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let jobs = jobs.unwrap_or(1).max(1);
    let threads = threads.unwrap_or_else(|| (cores / jobs).max(1)).max(1);
    (jobs, threads)
}

pub const POLISHER_NAME: &str = "rules";

/// A polisher per worker, or none. The biasing-list terms are protected from deletion.
pub fn polisher_factory(polish: bool, protected: Vec<String>) -> impl Fn() -> Option<Box<dyn Polisher>> + Sync {
    move || polish.then(|| Box::new(RulePolisher::english().with_protected_terms(protected.iter().map(String::as_str))) as Box<dyn Polisher>)
}

/// The enabled biasing lists (or `names`) as the speech model's initial prompt and a
/// corrector; `(None, None)` when there are no terms.
pub fn biasing(
    lists_dir: Option<PathBuf>,
    names: &[String],
    model: &scrivo_asr::WhisperModel,
    models: &ModelStore,
) -> Result<(Option<String>, Option<std::sync::Arc<scrivo_bias::Corrector>>)> {
    let store = crate::bias_cmd::user_store(lists_dir);
    let lists = crate::bias_cmd::lists_for(&store, names)?;
    let corrector = crate::bias_cmd::corrector(&lists, crate::bias_cmd::lexicon(models));
    if corrector.is_empty() {
        return Ok((None, None));
    }
    let terms: Vec<&str> = corrector.terms().collect();
    let prompt = scrivo_bias::prompt::initial_prompt(&terms, scrivo_bias::prompt::DEFAULT_TOKEN_BUDGET, |t| model.count_tokens(t));
    tracing::info!(terms = terms.len(), prompt = prompt.as_deref().unwrap_or(""), "biasing lists in use");
    Ok((prompt, Some(std::sync::Arc::new(corrector))))
}

/// Which polishing engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// The deterministic rule pass.
    Rules,
    /// The rule pass as a draft, checked and changed by SmolLM2 under copy-constrained decoding.
    Llm,
}

/// A polisher of `engine`, protecting `terms`; the LLM comes from the installed default
/// polishing model.
pub fn make_polisher(engine: Engine, models: &ModelStore, terms: &[String]) -> Result<Box<dyn Polisher>> {
    let rules = RulePolisher::english().with_protected_terms(terms.iter().map(String::as_str));
    match engine {
        Engine::Rules => Ok(Box::new(rules)),
        Engine::Llm => {
            let entry = models.manifest.default_for(Role::Polish).context("the manifest has no default polishing model")?;
            let path = models.installed(&entry.id)?;
            let (model, tokenizer) = scrivo_llm::Model::load(&path)?;
            Ok(Box::new(scrivo_llm::LlmPolisher::new(std::sync::Arc::new(model), std::sync::Arc::new(tokenizer), rules)?))
        }
    }
}
