//! The app's one state: the libraries' stores, the settings, the model manager and what is
//! running now. Commands reach it through `tauri::State<AppState>`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use scrivo_history::History;
use scrivo_models::resident::Resident;
use scrivo_models::store::ModelStore;
use scrivo_session::pipeline::{EngineChoice, HeldScorer, LanguageModel, ListChoice, Pipeline, PipelineConfig};
use scrivo_session::settings::Settings;

/// Marks a job as running in `slot` (a dictation, a batch) and returns its stop flag; an error
/// naming `what` when one is running already.
pub fn claim(slot: &Mutex<Option<Arc<AtomicBool>>>, what: &str) -> crate::error::CommandResult<Arc<AtomicBool>> {
    let mut running = lock(slot);
    if running.is_some() {
        return Err(crate::error::fail(format!("a {what} is already running")));
    }
    let flag = Arc::new(AtomicBool::new(false));
    *running = Some(Arc::clone(&flag));
    Ok(flag)
}

/// How long the microphone stays open after a dictation.
pub const KEEP_WARM: std::time::Duration = std::time::Duration::from_secs(30);

/// A lock that survives a panicked holder (the data is plain and stays usable).
/// Runs `work` with the app's state on a thread for blocking work, never on the async
/// runtime's own threads (file reads, recognition, downloads, the context model): the page's
/// other commands and events go on meanwhile.
pub async fn blocking<T: Send + 'static>(
    app: &tauri::AppHandle,
    work: impl FnOnce(&AppState) -> crate::error::CommandResult<T> + Send + 'static,
) -> crate::error::CommandResult<T> {
    use tauri::Manager as _;
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || work(&app.state::<AppState>()))
        .await
        .map_err(|e| crate::error::fail(format!("the worker stopped: {e}")))?
}

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub struct AppState {
    pub models: ModelStore,
    pub history: History,
    /// `SCRIVO_BIAS_DIR`, else the user's config dir.
    pub lists_dir: Option<PathBuf>,
    pub settings: Mutex<Settings>,
    pub resident: Mutex<Arc<Resident>>,
    /// The dictation pipeline, kept between dictations so its models stay warm; `None` while
    /// a dictation or re-run has it, or before it is first needed.
    pub pipeline: Mutex<Option<Pipeline>>,
    /// Set when the settings or the lists change: the kept pipeline is rebuilt before its next use.
    pub pipeline_stale: AtomicBool,
    /// The running dictation's stop flag.
    pub dictation: Mutex<Option<Arc<AtomicBool>>>,
    /// The running batch's cancel flag.
    pub batch: Mutex<Option<Arc<AtomicBool>>>,
    /// The microphone, kept open for a while after a dictation so the next one starts at once
    /// and with what was said as it started.
    pub microphone: Mutex<Option<Arc<scrivo_capture::Microphone>>>,
    /// What was found wrong at start and mended (a damaged settings file or history database
    /// kept aside, recordings listed again), for the page to show.
    pub notices: Vec<String>,
}

impl AppState {
    /// The stores from the environment (`SCRIVO_MODELS_DIR`, `SCRIVO_HISTORY_DIR`,
    /// `SCRIVO_BIAS_DIR`, `SCRIVO_SETTINGS`) or the user's folders.
    pub fn from_env() -> anyhow::Result<AppState> {
        let dir = |var: &str| std::env::var_os(var).map(PathBuf::from);
        let models = scrivo_session::models_store(dir("SCRIVO_MODELS_DIR"))?;
        let (history, mut notices) = scrivo_session::history(dir("SCRIVO_HISTORY_DIR"))?;
        let loaded = Settings::load_checked();
        notices.extend(loaded.problem);
        for notice in &notices {
            tracing::warn!("{notice}");
        }
        let settings = loaded.settings;
        let resident = Arc::new(settings.resident(None));
        Ok(AppState {
            models,
            history,
            lists_dir: dir("SCRIVO_BIAS_DIR"),
            settings: Mutex::new(settings),
            resident: Mutex::new(resident),
            pipeline: Mutex::new(None),
            pipeline_stale: AtomicBool::new(false),
            dictation: Mutex::new(None),
            batch: Mutex::new(None),
            microphone: Mutex::new(None),
            notices,
        })
    }

    pub fn settings(&self) -> Settings {
        lock(&self.settings).clone()
    }

    pub fn resident(&self) -> Arc<Resident> {
        Arc::clone(&lock(&self.resident))
    }

    pub fn lists(&self) -> scrivo_bias::Store {
        scrivo_session::lists::user_store(self.lists_dir.clone())
    }

    pub fn list_choice(&self) -> ListChoice {
        ListChoice { lists_dir: self.lists_dir.clone(), ..ListChoice::default() }
    }

    /// The pipeline the settings ask for.
    pub fn pipeline_config(&self) -> PipelineConfig {
        let settings = self.settings();
        let engine = EngineChoice { style: settings.style(), ..EngineChoice::default() };
        PipelineConfig { no_polish: !settings.polish, engine, lists: self.list_choice(), ..PipelineConfig::default() }
    }

    /// The kept pipeline (rebuilt when stale), its models loaded: taken out of the state
    /// until [`AppState::put_pipeline`].
    pub fn take_pipeline(&self) -> scrivo_session::Result<Pipeline> {
        let kept = lock(&self.pipeline).take();
        let stale = self.pipeline_stale.swap(false, Ordering::SeqCst);
        let mut pipeline = match kept {
            Some(p) if !stale => p,
            old => {
                let mut new = Pipeline::load(&self.pipeline_config(), &self.models, self.resident())?;
                // A new style's prompt prefix then runs only through its adapted blocks.
                if let Some(old) = old {
                    new.take_prefix_from(old);
                }
                new
            }
        };
        pipeline.preload()?;
        Ok(pipeline)
    }

    pub fn put_pipeline(&self, mut pipeline: Pipeline) {
        pipeline.release();
        *lock(&self.pipeline) = Some(pipeline);
    }

    /// The biasing lists' context check over the polishing model, the one copy the model
    /// manager shares with the pipeline and batches; `None` when the model is not installed.
    pub fn context_scorer(&self) -> Option<HeldScorer> {
        match LanguageModel::installed(&self.models, &self.resident(), None).and_then(|lm| lm.context_scorer()) {
            Ok(scorer) => Some(scorer),
            Err(e) => {
                tracing::warn!("no context check for the biasing lists: {e}");
                None
            }
        }
    }

    /// The microphone for `device`, warm when it still is, else opened now.
    pub fn microphone(&self, device: Option<&str>) -> scrivo_session::Result<Arc<scrivo_capture::Microphone>> {
        let mut kept = lock(&self.microphone);
        if let Some(m) = kept.as_ref().filter(|m| m.is_open() && m.device() == device) {
            return Ok(Arc::clone(m));
        }
        let opened = scrivo_capture::Microphone::open(device, KEEP_WARM)?;
        *kept = Some(Arc::clone(&opened));
        Ok(opened)
    }

    /// The lists or settings changed.
    pub fn invalidate_pipeline(&self) {
        self.pipeline_stale.store(true, Ordering::SeqCst);
    }
}
