//! Batch transcription from the window: [`scrivo_batch`] on a thread, each file's progress as a
//! `batch-progress` event. A file that fails is reported and the others go on.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use scrivo_batch::Event;
use scrivo_session::pipeline::{biasing, resolve_model, split_cores, EngineChoice, PolisherMaker};
use tauri::{AppHandle, Emitter, Manager};

use crate::dto::{event, BatchFile, BatchFileState, BatchProgress, BatchRequest, BatchSummary};
use crate::error::{fail, CommandResult};
use crate::state::{lock, AppState};

/// The WAV files in `paths` (folders searched recursively, as `scrivo transcribe` does); a
/// file given by name is kept even when it is not a WAV, so that its error shows in the queue.
#[tauri::command]
pub async fn batch_expand(app: AppHandle, paths: Vec<String>) -> CommandResult<Vec<BatchFile>> {
    crate::state::blocking(&app, move |_| Ok(expand(&paths))).await
}

fn expand(paths: &[String]) -> Vec<BatchFile> {
    let inputs: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
    let plan = scrivo_batch::plan(&inputs, scrivo_transcript::Format::Txt, None);
    let mut files: Vec<PathBuf> = plan.jobs.into_iter().map(|j| j.input).collect();
    files.extend(plan.problems.iter().filter_map(|p| p.path().map(Path::to_path_buf)).filter(|p| p.is_file()));
    files
        .into_iter()
        .map(|p| BatchFile {
            name: p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            bytes: std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0),
            path: p.to_string_lossy().into_owned(),
        })
        .collect()
}

#[tauri::command]
pub fn batch_start(app: AppHandle, request: BatchRequest) -> CommandResult<()> {
    let cancel = crate::state::claim(&app.state::<AppState>().batch, "batch")?;
    let app = app.clone();
    std::thread::Builder::new().name("batch".into()).spawn(move || {
        let state = app.state::<AppState>();
        let summary = run(&app, &state, &request, &cancel);
        *lock(&state.batch) = None;
        let _ = app.emit(event::BATCH_DONE, summary);
    })?;
    Ok(())
}

#[tauri::command]
pub fn batch_cancel(app: AppHandle) {
    if let Some(flag) = lock(&app.state::<AppState>().batch).as_ref() {
        flag.store(true, Ordering::SeqCst);
    }
}

/// Opens a result (or its folder) with the desktop's default application.
#[tauri::command]
pub fn open_path(path: String) -> CommandResult<()> {
    if !Path::new(&path).exists() {
        return Err(fail(format!("{path}: not found")));
    }
    std::process::Command::new("xdg-open").arg(&path).spawn().map_err(|e| fail(format!("could not open {path} (xdg-open: {e})")))?;
    Ok(())
}

fn progress(index: usize, path: &Path, state: BatchFileState) -> BatchProgress {
    let fraction = if matches!(state, BatchFileState::Done | BatchFileState::Failed) { 1.0 } else { 0.0 };
    BatchProgress { index, path: path.to_string_lossy().into_owned(), state, fraction, output: None, error: None }
}

fn run(app: &AppHandle, state: &AppState, request: &BatchRequest, cancel: &Arc<AtomicBool>) -> BatchSummary {
    let emit = |p: BatchProgress| {
        let _ = app.emit(event::BATCH_PROGRESS, p);
    };
    let index_of = |path: &Path| request.files.iter().position(|f| Path::new(f) == path);
    let inputs: Vec<PathBuf> = request.files.iter().map(PathBuf::from).collect();
    let format: scrivo_transcript::Format = request.format.clone().into();
    let plan = scrivo_batch::plan(&inputs, format, request.out_dir.as_deref().map(Path::new));
    let mut summary = BatchSummary { done: 0, failed: 0, cancelled: 0 };
    for problem in &plan.problems {
        let path = problem.path().map(Path::to_path_buf).unwrap_or_default();
        emit(BatchProgress { error: Some(problem.to_string()), ..progress(index_of(&path).unwrap_or(0), &path, BatchFileState::Failed) });
        summary.failed += 1;
    }
    if plan.jobs.is_empty() {
        return summary;
    }
    let jobs: Vec<PathBuf> = plan.jobs.iter().map(|j| j.input.clone()).collect();
    let fail_all = |summary: &mut BatchSummary, message: String| {
        for path in &jobs {
            emit(BatchProgress { error: Some(message.clone()), ..progress(index_of(path).unwrap_or(0), path, BatchFileState::Failed) });
            summary.failed += 1;
        }
    };
    let setup = || -> scrivo_session::Result<_> {
        let (path, name) = resolve_model(&state.models, None)?;
        let estimate = state.models.manifest.get(&name).ok().map_or(0, |e| e.resident_bytes.unwrap_or(e.size_bytes));
        // The same entry as the dictation pipeline's; held (in use) for the whole batch.
        let speech = state.resident().get(&name, estimate, || scrivo_session::pipeline::SpeechModel::load(&path))?;
        let model = speech.engine.lock().unwrap_or_else(|p| p.into_inner()).model().clone();
        let scrivo_session::pipeline::Biasing { prompt, boost, corrector: bias } = biasing(state.lists_dir.clone(), &[], &model, &state.models)?;
        let terms: Vec<String> = bias.as_ref().map(|c| c.terms().map(String::from).collect()).unwrap_or_default();
        // The polishing model is the model manager's copy, shared with the dictation pipeline.
        let choice = EngineChoice { style: state.settings().style(), ..EngineChoice::default() };
        let polishers = request.polish.then(|| PolisherMaker::shared(&choice, &state.models, &state.resident(), &terms, bias.is_some())).transpose()?;
        Ok((speech, model, name, prompt, boost, bias, polishers))
    };
    let (speech, model, name, prompt, boost, bias, polishers) = match setup() {
        Ok(s) => s,
        Err(e) => {
            fail_all(&mut summary, e.to_string());
            return summary;
        }
    };
    let settings = scrivo_batch::Settings {
        jobs: 1,
        decode: scrivo_asr::DecodeOptions {
            threads: split_cores(Some(1), None, 1).1,
            language: Some(state.settings().language),
            initial_prompt: prompt,
            boost,
            cancel: Some(Arc::clone(cancel)),
            ..scrivo_asr::DecodeOptions::default()
        },
        asr_model: name,
        polisher: polishers.as_ref().map(|p| p.name().to_owned()),
        bias_context: polishers.as_ref().and_then(PolisherMaker::context_scorer).map(|s| s as Arc<dyn scrivo_bias::ContextModel + Send + Sync>),
        bias,
        bias_by_ear: true,
        bias_refocus: true,
    };
    let on_event = |e: Event| match e {
        Event::Started { path, .. } => emit(progress(index_of(&path).unwrap_or(0), &path, BatchFileState::Running)),
        Event::Progress { index, fraction } => {
            if let Some(path) = jobs.get(index) {
                emit(BatchProgress { fraction: f64::from(fraction), ..progress(index_of(path).unwrap_or(0), path, BatchFileState::Running) })
            }
        }
        Event::Finished { index, path, .. } => {
            let output = plan.jobs.get(index).map(|j| j.output.to_string_lossy().into_owned());
            emit(BatchProgress { output, ..progress(index_of(&path).unwrap_or(0), &path, BatchFileState::Done) })
        }
        Event::Failed { path, cancelled: true, .. } => emit(progress(index_of(&path).unwrap_or(0), &path, BatchFileState::Cancelled)),
        Event::Failed { path, error, .. } => emit(BatchProgress { error: Some(error), ..progress(index_of(&path).unwrap_or(0), &path, BatchFileState::Failed) }),
    };
    let sink = |index: usize, doc: &scrivo_transcript::Document| -> Result<PathBuf, scrivo_batch::BatchError> {
        let job = &plan.jobs[index];
        scrivo_batch::write_atomically(&job.output, &format.render(doc))?;
        Ok(job.output.clone())
    };
    let no_polisher = || None;
    let results = match &polishers {
        Some(p) => scrivo_batch::run(&model, &jobs, &settings, &p.factory(), &on_event, &sink),
        None => scrivo_batch::run(&model, &jobs, &settings, &no_polisher, &on_event, &sink),
    };
    drop(model);
    drop(speech);
    match results {
        Ok(results) => {
            for result in results {
                match result {
                    Ok(_) => summary.done += 1,
                    Err(scrivo_batch::BatchError::Cancelled { .. }) => summary.cancelled += 1,
                    Err(_) => summary.failed += 1,
                }
            }
        }
        Err(e) => fail_all(&mut summary, e.to_string()),
    }
    summary
}
