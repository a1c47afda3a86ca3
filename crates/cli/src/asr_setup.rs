//! The command-line options of the commands that recognise and polish, over
//! [`scrivo_session::pipeline`].

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
use scrivo_models::store::ModelStore;
use scrivo_polish::Polisher;
pub use scrivo_session::pipeline::{biasing, Biasing, polishing_model_path, resolve_model, split_cores, Pipeline, PolisherMaker};
use scrivo_session::pipeline::{Engine, EngineChoice, ListChoice, PipelineConfig};

/// Which polishing engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineName {
    /// The deterministic rule pass.
    Rules,
    /// The rule pass, then SmolLM2's keep/delete tagger (the text read twice; deletions only).
    Tagger,
    /// The rule pass as a draft, checked and changed by SmolLM2 under copy-constrained decoding.
    Llm,
}

/// The polishing options shared by every command that polishes.
#[derive(clap::Args, Debug, Clone)]
pub struct EngineArgs {
    /// The polishing engine (the tagger measured best: see ARCHITECTURE.md).
    #[arg(long, value_enum, default_value = "tagger")]
    pub engine: EngineName,
    /// A tagger head other than the style's (written by `scrivo train tagger` or `train lora`).
    #[arg(long)]
    pub tagger_head: Option<PathBuf>,
    /// What the polished text keeps: `clean` (the shipped tagger head: interjections,
    /// repetitions and false starts out), `verbatim` (every word kept; sentence casing only), or
    /// an adapter file written by `scrivo train lora`.
    #[arg(long, default_value = "clean")]
    pub style: scrivo_polish::Style,
}

impl EngineArgs {
    pub fn choice(&self) -> EngineChoice {
        let engine = match self.engine {
            EngineName::Rules => Engine::Rules,
            EngineName::Tagger => Engine::Tagger,
            EngineName::Llm => Engine::Llm,
        };
        EngineChoice { engine, tagger_head: self.tagger_head.clone(), style: self.style.clone() }
    }

    /// A short description for reports.
    pub fn describe(&self) -> String {
        self.choice().describe()
    }
}

/// A polisher as `args` say, protecting `terms`.
pub fn make_polisher(args: &EngineArgs, models: &ModelStore, terms: &[String]) -> Result<Box<dyn Polisher>> {
    Ok(PolisherMaker::new(&args.choice(), models, terms, false)?.make()?)
}

/// The biasing lists' context check for a run: shared with the polishers' model when they
/// loaded it whole, loaded on its own otherwise; `None` without terms or when turned off.
pub fn bias_context(
    args: &crate::bias_cmd::ContextArgs,
    has_terms: bool,
    polishers: Option<&PolisherMaker>,
    models: &ModelStore,
) -> Result<Option<Arc<dyn scrivo_bias::ContextModel + Send + Sync>>> {
    if !has_terms || args.no_bias_context {
        return Ok(None);
    }
    let scorer = match polishers.and_then(PolisherMaker::context_scorer) {
        Some(s) => Some(s),
        None => scrivo_session::lists::context_scorer(models)?.map(Arc::new),
    };
    Ok(scorer.map(|s| s as Arc<dyn scrivo_bias::ContextModel + Send + Sync>))
}

/// Which biasing lists a run uses.
#[derive(clap::Args, Debug, Clone)]
pub struct ListArgs {
    /// Use this biasing list (a name or a .toml file) instead of the enabled ones (repeatable).
    #[arg(long = "bias-list")]
    pub bias_lists: Vec<String>,
    /// Use no biasing list.
    #[arg(long, conflicts_with = "bias_lists")]
    pub no_bias: bool,
    /// The folder of your biasing lists.
    #[arg(long, env = "SCRIVO_BIAS_DIR")]
    pub lists_dir: Option<PathBuf>,
    #[command(flatten)]
    pub context: crate::bias_cmd::ContextArgs,
}

/// The recogniser, polishing and list options of the commands that turn one recording into
/// text (`dictate`, `history rerun`).
#[derive(clap::Args, Debug, Clone)]
pub struct PipelineArgs {
    /// Speech model id or ggml file.
    #[arg(long)]
    pub model: Option<String>,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Keep the recogniser's raw text only.
    #[arg(long)]
    pub no_polish: bool,
    #[command(flatten)]
    pub lists: ListArgs,
}

impl ListArgs {
    pub fn choice(&self) -> ListChoice {
        ListChoice { bias_lists: self.bias_lists.clone(), no_bias: self.no_bias, lists_dir: self.lists_dir.clone(), no_context: self.context.no_bias_context }
    }
}

impl PipelineArgs {
    pub fn config(&self) -> PipelineConfig {
        PipelineConfig { model: self.model.clone(), engine: self.engine.choice(), no_polish: self.no_polish, lists: self.lists.choice() }
    }
}
