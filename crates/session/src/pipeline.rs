//! One recording to polished text: choosing the speech model, the thread split, the biasing
//! lists and the polisher; [`Pipeline`] takes both models from the model manager.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use scrivo_models::manifest::Role;
use scrivo_models::resident::Resident;
use scrivo_models::store::ModelStore;
use scrivo_polish::{Polisher, RulePolisher, Style, VerbatimPolisher};

use crate::{Result, SessionError};

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
            let entry = store.manifest.default_for(Role::Asr).ok_or_else(|| SessionError::Missing("the manifest has no default speech model".into()))?;
            Ok((store.installed(&entry.id)?, entry.id.clone()))
        }
    }
}

/// `(jobs, threads per job)` for `files` recordings. Unless told, the jobs fill the cores, one
/// thread each, up to one job per file: measured on 2 cores with tiny.en over the 32 eval
/// clips (see ARCHITECTURE.md, "Jobs and threads"), two jobs of one thread took 4.80 s where
/// one job of two took 5.47-5.81 s, since whisper.cpp's threads wait for each other at every
/// step of the graph; the second decoding state costs about 55 MB. `threads` alone sets the
/// threads per job and the jobs fill the cores with it.
pub fn split_cores(jobs: Option<usize>, threads: Option<usize>, files: usize) -> (usize, usize) {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let files = files.max(1);
    let jobs = jobs.unwrap_or_else(|| (cores / threads.unwrap_or(1).max(1)).clamp(1, files)).max(1);
    let threads = threads.unwrap_or_else(|| (cores / jobs).max(1)).max(1);
    (jobs, threads)
}

/// The enabled biasing lists as the speech model reads them (an initial prompt and a boost
/// toward the terms while decoding) and the corrector after it.
#[derive(Debug, Clone, Default)]
pub struct Biasing {
    pub prompt: Option<String>,
    pub boost: Option<std::sync::Arc<scrivo_asr::TermBoost>>,
    pub corrector: Option<std::sync::Arc<scrivo_bias::Corrector>>,
}

/// The enabled biasing lists (or `names`) for `model`; all empty when there are no terms.
pub fn biasing(lists_dir: Option<PathBuf>, names: &[String], model: &scrivo_asr::WhisperModel, models: &ModelStore) -> Result<Biasing> {
    let store = crate::lists::user_store(lists_dir);
    let lists = crate::lists::lists_for(&store, names)?;
    let lexicon = crate::lists::lexicon(models);
    let corrector = crate::lists::corrector(&lists, lexicon.clone());
    if corrector.is_empty() {
        return Ok(Biasing::default());
    }
    let terms: Vec<&str> = corrector.terms().collect();
    let ordered = scrivo_bias::prompt::rare_spellings_first(&terms, |w| lexicon.is_common(w));
    let prompt = scrivo_bias::prompt::initial_prompt(&ordered, scrivo_bias::prompt::DEFAULT_TOKEN_BUDGET, |t| model.count_tokens(t));
    let boost = model.term_boost(terms.iter().copied(), scrivo_asr::DEFAULT_BONUS, scrivo_asr::DEFAULT_START_BONUS);
    tracing::info!(terms = terms.len(), prompt = prompt.as_deref().unwrap_or(""), "biasing lists in use");
    Ok(Biasing { prompt, boost: Some(std::sync::Arc::new(boost)), corrector: Some(std::sync::Arc::new(corrector)) })
}

/// Which polishing engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    /// The deterministic rule pass.
    Rules,
    /// The rule pass, then SmolLM2's keep/delete tagger (the text read twice; deletions only).
    #[default]
    Tagger,
    /// The rule pass as a draft, checked and changed by SmolLM2 under copy-constrained decoding.
    Llm,
}

/// The polishing engine and, for the tagger, its head.
#[derive(Debug, Clone, Default)]
pub struct EngineChoice {
    pub engine: Engine,
    /// A tagger head other than the style's (written by `scrivo train tagger` or `train lora`).
    pub tagger_head: Option<PathBuf>,
    /// What the polished text keeps: the shipped clean adapter, verbatim, or another adapter.
    pub style: Style,
}

impl EngineChoice {
    /// A short description for reports.
    pub fn describe(&self) -> String {
        match self.engine {
            Engine::Rules => "rules".into(),
            _ if self.style == Style::Verbatim => "verbatim (every word kept)".into(),
            Engine::Tagger => match (&self.tagger_head, &self.style) {
                (Some(p), _) => format!("tagger (SmolLM2-135M, head {})", p.display()),
                (None, Style::Adapter(p)) => format!("tagger (SmolLM2-135M, adapter {})", p.display()),
                (None, _) => "tagger (SmolLM2-135M, clean adapter)".into(),
            },
            Engine::Llm => "llm (SmolLM2-135M, copy-constrained, rule draft)".into(),
        }
    }
}

/// Which biasing lists a run uses.
#[derive(Debug, Clone, Default)]
pub struct ListChoice {
    /// These lists (names or .toml files) instead of the enabled ones.
    pub bias_lists: Vec<String>,
    /// No list at all.
    pub no_bias: bool,
    /// The folder of the user's lists (default: the config dir's).
    pub lists_dir: Option<PathBuf>,
    /// Judge sound-alikes by the matcher's guards alone, without the polishing model's
    /// context check.
    pub no_context: bool,
}

/// An utterance recognised, corrected and polished ([`Pipeline::finish`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Finished {
    /// The recogniser's text.
    pub raw: String,
    /// The text after the lists and polishing.
    pub text: String,
    /// Per word of `raw`: a removal worth a second look ([`scrivo_polish::removals_to_check`]:
    /// one the polisher was not sure of, or one beside a kept word it leaned to remove); for
    /// the changes a UI marks ([`scrivo_transcript::changes_marked`]). Empty when none is.
    pub unsure: Vec<bool>,
}

/// What [`Pipeline::load`] sets up.
#[derive(Debug, Clone, Default)]
pub struct PipelineConfig {
    /// Speech model id or ggml file (default: the manifest's).
    pub model: Option<String>,
    pub engine: EngineChoice,
    /// Keep the recogniser's raw text (with the lists applied).
    pub no_polish: bool,
    pub lists: ListChoice,
}

/// The installed default polishing model.
pub fn polishing_model_path(models: &ModelStore) -> Result<PathBuf> {
    let entry = models.manifest.default_for(Role::Polish).ok_or_else(|| SessionError::Missing("the manifest has no default polishing model".into()))?;
    Ok(models.installed(&entry.id)?)
}

/// A tagger's prompt prefix, for the model and head (its adapter changes the prefix) it was
/// computed on.
pub struct KeptPrefix {
    /// The model file and shape it was computed on: the same weights after an unload and a
    /// reload (under a tight budget) give the same prefix, so it is kept across them.
    model: (PathBuf, scrivo_llm::Config),
    /// The prompt prefix's cache for the head `head` ([`scrivo_llm::TaggerHead::id`]).
    prefix: scrivo_llm::Cache,
    head: u64,
    /// The base model's run of the prompt prefix: another head's prefix then runs only its
    /// adapted blocks.
    base: Option<scrivo_llm::BaseRun>,
}

/// Makes polishers as `args` say, protecting `terms`: the polishing model (when the engine
/// needs one) is loaded once and shared by every polisher made.
pub struct PolisherMaker {
    rules: RulePolisher,
    engine: Engine,
    model: Option<(Arc<scrivo_llm::Model>, Arc<scrivo_llm::TextTokenizer>)>,
    /// The model manager's copy `model` comes from, held so that the manager counts it in use
    /// (and never loads a second copy while this one lives).
    held: Option<Arc<LanguageModel>>,
    /// The tagger's head; `None` with a model means the copy-constrained generator.
    head: Option<scrivo_llm::TaggerHead>,
    /// The verbatim style: every word kept, no model.
    verbatim: bool,
    name: String,
}

impl PolisherMaker {
    /// With `context`, every block of the model is loaded (for any engine) so that the
    /// biasing lists' context check ([`PolisherMaker::context_scorer`]) shares it. The model
    /// is this maker's own: for a one-off process (the CLI).
    pub fn new(args: &EngineChoice, models: &ModelStore, terms: &[String], context: bool) -> Result<Self> {
        Self::loading(args, terms, context, |blocks| {
            let (model, tokenizer) = scrivo_llm::Model::load_blocks(&polishing_model_path(models)?, blocks)?;
            Ok(((Arc::new(model), Arc::new(tokenizer)), None))
        })
    }

    /// Like [`PolisherMaker::new`], with the polishing model from the model manager: the one
    /// copy every other user of `resident` shares ([`LanguageModel::installed`]), held in use
    /// while this maker lives.
    pub fn shared(args: &EngineChoice, models: &ModelStore, resident: &Resident, terms: &[String], context: bool) -> Result<Self> {
        Self::loading(args, terms, context, |blocks| {
            let lm = LanguageModel::installed(models, resident, blocks)?;
            Ok((lm.parts(), Some(lm)))
        })
    }

    #[allow(clippy::type_complexity)]
    fn loading(
        args: &EngineChoice,
        terms: &[String],
        context: bool,
        load: impl FnOnce(Option<usize>) -> Result<((Arc<scrivo_llm::Model>, Arc<scrivo_llm::TextTokenizer>), Option<Arc<LanguageModel>>)>,
    ) -> Result<Self> {
        let mut maker = Self::with_model(args, terms, None)?;
        if maker.needs_model(context) {
            match load(maker.blocks(context)) {
                Ok((model, held)) => (maker.model, maker.held) = (Some(model), held),
                Err(e) if args.engine == Engine::Rules => tracing::warn!("no context check for biasing lists: {e}"),
                Err(e) => return Err(e),
            }
        }
        Ok(maker)
    }

    /// A maker over a polishing model loaded elsewhere (the model manager), or none yet.
    pub fn with_model(args: &EngineChoice, terms: &[String], model: Option<(Arc<scrivo_llm::Model>, Arc<scrivo_llm::TextTokenizer>)>) -> Result<Self> {
        let rules = RulePolisher::english().with_protected_terms(terms.iter().map(String::as_str));
        let verbatim = args.style == Style::Verbatim;
        let head = match (args.engine, &args.tagger_head) {
            _ if verbatim => None,
            (Engine::Tagger, Some(path)) => Some(scrivo_llm::TaggerHead::load(path)?),
            (Engine::Tagger, None) => scrivo_llm::TaggerHead::for_style(&args.style)?,
            _ => None,
        };
        Ok(PolisherMaker { rules, engine: args.engine, verbatim, model, held: None, head, name: args.describe() })
    }

    /// Whether the polishing model is needed: for the engine, or for the context check.
    pub fn needs_model(&self, context: bool) -> bool {
        (self.engine != Engine::Rules && !self.verbatim) || context
    }

    /// The blocks to load: the tagger reads one block's states, so the blocks after it are
    /// not loaded unless the context check needs the whole model (`None`: all).
    pub fn blocks(&self, context: bool) -> Option<usize> {
        if context {
            None
        } else {
            self.head.as_ref().map(|h| h.block)
        }
    }

    /// The biasing lists' context check over the loaded model, when every block is loaded.
    pub fn context_scorer(&self) -> Option<Arc<scrivo_llm::ContextScorer>> {
        let (model, tokenizer) = self.model.clone()?;
        scrivo_llm::ContextScorer::new(model, tokenizer).ok().map(Arc::new)
    }

    /// What goes into outputs as the polisher's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn make(&self) -> Result<Box<dyn Polisher>> {
        self.make_on(self.model.clone())
    }

    /// A polisher over `model` (the polishing model as loaded now), with this maker's rules
    /// and head.
    pub fn make_on(&self, model: Option<(Arc<scrivo_llm::Model>, Arc<scrivo_llm::TextTokenizer>)>) -> Result<Box<dyn Polisher>> {
        if self.verbatim {
            return Ok(Box::new(VerbatimPolisher));
        }
        let rules = self.rules.clone();
        let Some((model, tokenizer)) = model.filter(|_| self.engine != Engine::Rules) else { return Ok(Box::new(rules)) };
        Ok(match &self.head {
            Some(head) => Box::new(scrivo_llm::TaggerPolisher::new(model, tokenizer, head.clone(), rules)?),
            None => Box::new(scrivo_llm::LlmPolisher::new(model, tokenizer, rules)?),
        })
    }

    /// Like [`PolisherMaker::make_on`], reusing the tagger's prompt prefix kept in `prefix`
    /// from the last polisher made on the same model file (and keeping the new one's there).
    /// Nothing of the model itself is kept: it can still be unloaded, and the prefix serves
    /// the model loaded again.
    pub fn make_reusing(&self, model: Option<(Arc<scrivo_llm::Model>, Arc<scrivo_llm::TextTokenizer>)>, prefix: &mut Option<KeptPrefix>) -> Result<Box<dyn Polisher>> {
        let (Some(head), Some((model, tokenizer)), true) = (&self.head, model.as_ref(), self.engine == Engine::Tagger) else { return self.make_on(model) };
        let source = (model.path().to_path_buf(), model.config());
        let (cache, base) = match prefix.take().filter(|k| k.model == source) {
            Some(k) if k.head == head.id() => (Some(k.prefix), k.base),
            Some(k) => (None, k.base),
            None => (None, None),
        };
        let polisher = scrivo_llm::TaggerPolisher::reusing(Arc::clone(model), Arc::clone(tokenizer), head.clone(), self.rules.clone(), cache, base)?;
        *prefix = Some(KeptPrefix { model: source, prefix: polisher.prefix(), head: head.id(), base: polisher.base() });
        Ok(Box::new(polisher))
    }

    /// A polisher per batch worker; one that cannot be made falls back to the rule pass.
    pub fn factory(&self) -> impl Fn() -> Option<Box<dyn Polisher>> + Sync + '_ {
        move || {
            Some(self.make().unwrap_or_else(|e| {
                tracing::warn!("polishing model unavailable, using the rule pass: {e:#}");
                Box::new(self.rules.clone()) as Box<dyn Polisher>
            }))
        }
    }
}

/// Words of the text before a stretch that prompt its decoding (continuity of casing,
/// punctuation and names across the stretches of an utterance).
const CONTEXT_WORDS: usize = 30;

/// The model manager's key for the polishing model `id` loaded with `blocks` (`None`: all):
/// a model loaded in part is never handed out where the whole one is needed.
pub fn language_key(id: &str, blocks: Option<usize>) -> String {
    match blocks {
        Some(b) => format!("{id}#{b}-blocks"),
        None => format!("{id}#all"),
    }
}

/// The speech model with one decoding state, as the model manager keeps it: loaded and
/// measured together, since the state's buffers take as much memory as tiny.en's weights.
pub struct SpeechModel {
    pub engine: std::sync::Mutex<scrivo_asr::WhisperEngine>,
}

impl SpeechModel {
    pub fn load(path: &std::path::Path) -> Result<Self, scrivo_asr::AsrError> {
        Ok(SpeechModel { engine: std::sync::Mutex::new(scrivo_asr::WhisperEngine::load(path)?) })
    }
}

/// The polishing model as the model manager keeps it.
pub struct LanguageModel {
    pub model: Arc<scrivo_llm::Model>,
    pub tokenizer: Arc<scrivo_llm::TextTokenizer>,
}

impl LanguageModel {
    /// The polishing model `id` at `path` through the model manager, one copy for every
    /// caller: a request for the first `blocks` blocks is served by the whole model when that
    /// is resident, and loading the whole model lets go of a partial copy no one holds (one
    /// still held goes when its holder lets go, like any idle model). `estimate` is the whole
    /// model's resident size.
    pub fn shared(resident: &Resident, id: &str, path: &Path, estimate: u64, blocks: Option<usize>) -> Result<Arc<LanguageModel>> {
        let whole = language_key(id, None);
        if blocks.is_some() {
            if let Some(model) = resident.loaded::<LanguageModel>(&whole) {
                return Ok(model);
            }
        } else {
            let partial = format!("{id}#");
            resident.unload_unused(|key| key.starts_with(&partial) && key != whole);
        }
        Ok(resident.get(&language_key(id, blocks), estimate, || {
            scrivo_llm::Model::load_blocks(path, blocks).map(|(m, t)| LanguageModel { model: Arc::new(m), tokenizer: Arc::new(t) })
        })?)
    }

    /// The manifest's default polishing model, installed in `models`, through
    /// [`LanguageModel::shared`].
    pub fn installed(models: &ModelStore, resident: &Resident, blocks: Option<usize>) -> Result<Arc<LanguageModel>> {
        let entry = models.manifest.default_for(Role::Polish).ok_or_else(|| SessionError::Missing("the manifest has no default polishing model".into()))?;
        let path = models.installed(&entry.id)?;
        Self::shared(resident, &entry.id, &path, entry.resident_bytes.unwrap_or(entry.size_bytes), blocks)
    }

    /// The biasing lists' context check over this model, holding it: while the check lives,
    /// the model manager counts the model in use and never loads another copy beside it.
    pub fn context_scorer(self: &Arc<Self>) -> Result<HeldScorer> {
        Ok(HeldScorer { scorer: scrivo_llm::ContextScorer::new(Arc::clone(&self.model), Arc::clone(&self.tokenizer))?, _held: Arc::clone(self) })
    }

    /// The model and tokenizer, as polishers take them.
    pub fn parts(&self) -> (Arc<scrivo_llm::Model>, Arc<scrivo_llm::TextTokenizer>) {
        (Arc::clone(&self.model), Arc::clone(&self.tokenizer))
    }
}

/// A context check that holds the model manager's copy of the polishing model
/// ([`LanguageModel::context_scorer`]).
pub struct HeldScorer {
    scorer: scrivo_llm::ContextScorer,
    _held: Arc<LanguageModel>,
}

impl scrivo_bias::ContextModel for HeldScorer {
    fn log_probs(&self, prefix: &str, continuations: &[String]) -> std::result::Result<Vec<f64>, Box<dyn std::error::Error + Send + Sync>> {
        scrivo_bias::ContextModel::log_probs(&self.scorer, prefix, continuations)
    }
}

/// An installed model the pipeline loads through the manager.
struct ModelFile {
    id: String,
    path: PathBuf,
    estimate: u64,
    /// Blocks to load (the polishing model); `None`: all.
    blocks: Option<usize>,
}

/// Everything that turns one recording into text. The speech and polishing models come from
/// the model manager ([`scrivo_models::resident::Resident`]) when a step needs them and are
/// let go after it, so under a budget too small for both they take turns.
pub struct Pipeline {
    resident: Arc<scrivo_models::resident::Resident>,
    speech: ModelFile,
    language: Option<ModelFile>,
    pub model_name: String,
    prompt: Option<String>,
    boost: Option<Arc<scrivo_asr::TermBoost>>,
    bias: Option<Arc<scrivo_bias::Corrector>>,
    context: bool,
    /// `None`: not polishing.
    maker: Option<PolisherMaker>,
    /// The speech model and a decoding state, held while an utterance is being recorded.
    partial: Option<Arc<SpeechModel>>,
    /// The tagger's prompt prefix from the last utterance.
    prefix: Option<KeptPrefix>,
}

impl Pipeline {
    pub fn load(args: &PipelineConfig, models: &ModelStore, resident: Arc<scrivo_models::resident::Resident>) -> Result<Self> {
        let (path, model_name) = resolve_model(models, args.model.as_deref())?;
        let estimate = models.manifest.get(&model_name).ok().map_or_else(
            || std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
            |e| e.resident_bytes.unwrap_or(e.size_bytes),
        );
        let speech = ModelFile { id: model_name.clone(), path, estimate, blocks: None };
        let model = resident.get(&speech.id, speech.estimate, || SpeechModel::load(&speech.path))?;
        let lists = &args.lists;
        let Biasing { prompt, boost, corrector: bias } = if lists.no_bias {
            Biasing::default()
        } else {
            let engine = model.engine.lock().unwrap_or_else(|p| p.into_inner());
            biasing(lists.lists_dir.clone(), &lists.bias_lists, engine.model(), models)?
        };
        drop(model);
        let terms: Vec<String> = bias.as_ref().map(|c| c.terms().map(String::from).collect()).unwrap_or_default();
        let context = bias.is_some() && !lists.no_context;
        let maker = (!args.no_polish).then(|| PolisherMaker::with_model(&args.engine, &terms, None)).transpose()?;
        let wants_model = maker.as_ref().map_or(context, |m| m.needs_model(context));
        let language = if wants_model {
            let entry = models.manifest.default_for(Role::Polish).ok_or_else(|| SessionError::Missing("the manifest has no default polishing model".into()))?;
            match models.installed(&entry.id) {
                Ok(path) => Some(ModelFile {
                    id: entry.id.clone(),
                    path,
                    estimate: entry.resident_bytes.unwrap_or(entry.size_bytes),
                    blocks: maker.as_ref().and_then(|m| m.blocks(context)),
                }),
                Err(e) if maker.as_ref().is_none_or(|m| !m.needs_model(false)) => {
                    tracing::warn!("no context check for biasing lists: {e}");
                    None
                }
                Err(e) => return Err(e.into()),
            }
        } else {
            None
        };
        let context = context && language.is_some();
        Ok(Pipeline { resident, speech, language, model_name, prompt, boost, bias, context, maker, partial: None, prefix: None })
    }

    /// Takes over what `old` (a pipeline this one replaces, e.g. after a change of style)
    /// kept of the tagger's prompt prefix: the base model's part of it still serves when the
    /// polishing model is the same.
    pub fn take_prefix_from(&mut self, old: Pipeline) {
        if self.prefix.is_none() {
            self.prefix = old.prefix;
        }
    }

    /// Lets go of the speech model held for recording: the model manager may then unload it
    /// when idle or to make room (call it when putting a pipeline aside).
    pub fn release(&mut self) {
        self.partial = None;
    }

    /// The polishing engine's name; `None` when not polishing.
    pub fn polisher_name(&self) -> Option<&str> {
        self.maker.as_ref().map(PolisherMaker::name)
    }

    fn language_model(&self) -> Result<Option<Arc<LanguageModel>>> {
        let Some(l) = &self.language else { return Ok(None) };
        Ok(Some(LanguageModel::shared(&self.resident, &l.id, &l.path, l.estimate, l.blocks)?))
    }

    /// Loads both models now (before a recording, so its end is not held up by a load); they
    /// stay resident as the budget allows. The polishing model is loaded first and let go, so
    /// under a budget too small for both it makes room for the speech model, which is held
    /// for the recording.
    pub fn preload(&mut self) -> Result<()> {
        self.language_model()?;
        self.decoder()?;
        Ok(())
    }

    fn options(&self) -> scrivo_asr::DecodeOptions {
        let (_, threads) = split_cores(Some(1), None, 1);
        scrivo_asr::DecodeOptions {
            threads,
            language: Some("en".into()),
            fit_encoder_context: true,
            initial_prompt: self.prompt.clone(),
            boost: self.boost.clone(),
            ..scrivo_asr::DecodeOptions::default()
        }
    }

    fn decoder(&mut self) -> Result<Arc<SpeechModel>> {
        if let Some(speech) = &self.partial {
            return Ok(Arc::clone(speech));
        }
        let s = &self.speech;
        let speech = self.resident.get(&s.id, s.estimate, || SpeechModel::load(&s.path))?;
        self.partial = Some(Arc::clone(&speech));
        Ok(speech)
    }

    /// Recognises `samples`, the decoder prompted with the end of `context` (the utterance's
    /// text before them). With `trim`, silence before and after the speech (by the voice
    /// detector) is not decoded; the recogniser's own energy bounds apply either way.
    fn recognise(&mut self, samples: &[f32], context: &str, trim: bool) -> Result<String> {
        let speech = if trim { scrivo_audio::trim_silence(samples, scrivo_audio::VadSettings::default(), std::time::Duration::from_millis(300)) } else { samples };
        let mut options = self.options();
        let words: Vec<&str> = context.split_whitespace().collect();
        if !words.is_empty() {
            let before = words[words.len().saturating_sub(CONTEXT_WORDS)..].join(" ");
            options.initial_prompt = Some(match options.initial_prompt.take() {
                Some(terms) => format!("{terms} {before}"),
                None => before,
            });
        }
        let model = self.decoder()?;
        let mut engine = model.engine.lock().unwrap_or_else(|p| p.into_inner());
        Ok(scrivo_asr::Transcriber::transcribe(&mut *engine, speech, &options)?.text())
    }

    /// A quick pass over the utterance so far (the last 30 s of it at most), after `context`:
    /// the recogniser's text only, for partial results while the user speaks. The speech
    /// model stays held until [`Pipeline::finish`].
    pub fn partial(&mut self, samples: &[f32], context: &str) -> Result<String> {
        let window = &samples[samples.len().saturating_sub(30 * scrivo_audio::SAMPLE_RATE as usize)..];
        // Untrimmed: fitted tightly to a short stretch, the encoder window makes tiny.en
        // loop ("And so my fellow Americans." again and again).
        self.recognise(window, context, false)
    }

    /// Recognises one stretch of an utterance for good (the speech before a pause), after
    /// `context`, its text before. The speech model stays held.
    pub fn chunk(&mut self, samples: &[f32], context: &str) -> Result<String> {
        self.recognise(samples, context, true)
    }

    /// The recogniser's text of a whole utterance, corrected with the lists and polished. The
    /// speech model is let go first, so under a tight budget it makes room for the polishing
    /// model; both are let go at the end.
    pub fn finish(&mut self, raw: String) -> Result<Finished> {
        self.partial = None;
        let lm = self.language_model()?;
        let scorer = match (&lm, self.context) {
            (Some(lm), true) => Some(scrivo_llm::ContextScorer::new(Arc::clone(&lm.model), Arc::clone(&lm.tokenizer))?),
            _ => None,
        };
        let biased = match &self.bias {
            Some(c) => c.apply_with(&raw, scorer.as_ref().map(|s| s as &dyn scrivo_bias::ContextModel)).text,
            None => raw.clone(),
        };
        let Some(maker) = &self.maker else {
            return Ok(Finished { unsure: Vec::new(), raw, text: biased });
        };
        let polished = maker.make_reusing(lm.as_ref().map(|l| (Arc::clone(&l.model), Arc::clone(&l.tokenizer))), &mut self.prefix)?.polish(&biased)?;
        let words: Vec<&str> = biased.split_whitespace().collect();
        let decisions = scrivo_polish::word_decisions(&polished, &words, &scrivo_polish::RulePolisher::english());
        let unsure = scrivo_polish::removals_to_check(&decisions, &words);
        let unsure = if unsure.contains(&true) { scrivo_transcript::marks_back(&raw, &biased, &unsure) } else { Vec::new() };
        Ok(Finished { unsure, raw, text: polished.text })
    }

    /// Recognises a whole recording (16 kHz mono), corrects and polishes it.
    pub fn run(&mut self, samples: &[f32]) -> Result<Finished> {
        let raw = self.recognise(samples, "", true);
        self.partial = None;
        self.finish(raw?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verbatim_style_needs_no_model_and_keeps_every_word() {
        let choice = EngineChoice { style: Style::Verbatim, ..EngineChoice::default() };
        let maker = PolisherMaker::with_model(&choice, &[], None).expect("maker");
        assert!(!maker.needs_model(false), "verbatim runs no model");
        assert!(maker.needs_model(true), "the lists' context check still does");
        let out = maker.make().expect("polisher").polish("um so I I think, uh, tuesday no wednesday").expect("polish");
        assert_eq!(out.text, "Um so I I think, uh, tuesday no wednesday");
        assert!(choice.describe().contains("verbatim"));
    }

    #[test]
    fn the_clean_style_is_the_shipped_head() {
        let maker = PolisherMaker::with_model(&EngineChoice::default(), &[], None).expect("maker");
        let head = maker.head.as_ref().expect("a tagger head");
        assert_eq!(maker.blocks(false), Some(head.block));
    }
}
