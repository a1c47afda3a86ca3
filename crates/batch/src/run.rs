//! The worker pool.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use scrivo_asr::{AsrError, DecodeOptions, ProgressFn, Transcriber, WhisperEngine, WhisperModel};
use scrivo_bias::Corrector;
use scrivo_polish::Polisher;
use scrivo_transcript::{join, Document, DocumentSegment};

use crate::{BatchError, Done};

/// How to run a batch.
#[derive(Clone)]
pub struct Settings {
    /// Recordings transcribed at once, each on its own decoding state.
    pub jobs: usize,
    /// Per-recording decoding (threads per job, language, prompt, cancel flag).
    pub decode: DecodeOptions,
    /// Recorded in each [`Document`].
    pub asr_model: String,
    /// The polishing engine's name, recorded in each [`Document`]; `None` when not polishing.
    pub polisher: Option<String>,
    /// The enabled biasing lists, applied to the recognised text before polishing.
    pub bias: Option<Arc<Corrector>>,
    /// Judges the lists' sound-alike changes by their context, when set.
    pub bias_context: Option<Arc<dyn scrivo_bias::ContextModel + Send + Sync>>,
}

/// Progress of a batch, in the order things happen on each worker.
#[derive(Debug, Clone)]
pub enum Event {
    Started { index: usize, path: PathBuf },
    /// The share of the recording's decode done, 0..1.
    Progress { index: usize, fraction: f32 },
    Finished { index: usize, path: PathBuf, audio_seconds: f64, wall_seconds: f64 },
    Failed { index: usize, path: PathBuf, error: String },
}

type Outcome<T> = Result<Done<T>, BatchError>;

/// Transcribes `inputs` on `settings.jobs` threads sharing `model`, polishes each (when
/// `make_polisher` gives a polisher; one is made per worker) and passes each [`Document`] to
/// `sink`. Returns one outcome per input, in input order. Only a failure to create the decoding
/// states is an error of the whole batch.
pub fn run<T: Send>(
    model: &WhisperModel,
    inputs: &[PathBuf],
    settings: &Settings,
    make_polisher: &(dyn Fn() -> Option<Box<dyn Polisher>> + Sync),
    on_event: &(dyn Fn(Event) + Sync),
    sink: &(dyn Fn(usize, &Document) -> Result<T, BatchError> + Sync),
) -> Result<Vec<Outcome<T>>, AsrError> {
    let workers = settings.jobs.clamp(1, inputs.len().max(1));
    let engines = (0..workers).map(|_| model.engine()).collect::<Result<Vec<_>, _>>()?;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Outcome<T>>>> = Mutex::new((0..inputs.len()).map(|_| None).collect());
    // Decode progress comes from whisper.cpp's threads: it is passed on to `on_event` here. The
    // channel never closes (whisper-rs keeps each progress closure, and its sender, for good),
    // so the forwarder stops on a flag once the workers are done.
    let (progress_tx, progress_rx) = mpsc::channel::<(usize, f32)>();
    let finished = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let finished = &finished;
        scope.spawn(move || {
            while !finished.load(Ordering::Relaxed) {
                if let Ok((index, fraction)) = progress_rx.recv_timeout(Duration::from_millis(100)) {
                    on_event(Event::Progress { index, fraction });
                }
            }
        });
        let workers: Vec<_> = engines
            .into_iter()
            .map(|mut engine| {
                let (next, results, progress_tx) = (&next, &results, progress_tx.clone());
                scope.spawn(move || {
                    let mut polisher = make_polisher();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(path) = inputs.get(index) else { break };
                        let mut file = settings.clone();
                        let tx = progress_tx.clone();
                        file.decode.progress = Some(ProgressFn(Arc::new(move |fraction| {
                            let _ = tx.send((index, fraction));
                        })));
                        let outcome = one(&mut engine, &mut polisher, index, path, &file, on_event, sink);
                        if let Ok(mut slots) = results.lock() {
                            slots[index] = Some(outcome);
                        }
                    }
                })
            })
            .collect();
        for worker in workers {
            let _ = worker.join();
        }
        finished.store(true, Ordering::Relaxed);
    });
    let slots = results.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    Ok(slots
        .into_iter()
        .zip(inputs)
        .map(|(slot, path)| slot.unwrap_or_else(|| Err(BatchError::Input { path: path.clone(), detail: "a worker stopped before this file".into() })))
        .collect())
}

fn one<T>(
    engine: &mut WhisperEngine,
    polisher: &mut Option<Box<dyn Polisher>>,
    index: usize,
    path: &Path,
    settings: &Settings,
    on_event: &(dyn Fn(Event) + Sync),
    sink: &(dyn Fn(usize, &Document) -> Result<T, BatchError> + Sync),
) -> Outcome<T> {
    let started = Instant::now();
    let cancelled = settings.decode.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed));
    let result = if cancelled {
        Err(BatchError::Cancelled { path: path.into() })
    } else {
        on_event(Event::Started { index, path: path.into() });
        transcribe(engine, polisher.as_deref_mut(), path, settings).and_then(|document| {
            let value = sink(index, &document)?;
            Ok(Done { index, document, value })
        })
    };
    match &result {
        Ok(done) => on_event(Event::Finished {
            index,
            path: path.into(),
            audio_seconds: done.document.duration_seconds,
            wall_seconds: started.elapsed().as_secs_f64(),
        }),
        Err(e) => on_event(Event::Failed { index, path: path.into(), error: e.to_string() }),
    }
    result
}

/// Reads, transcribes and polishes one recording.
pub fn transcribe(engine: &mut WhisperEngine, mut polisher: Option<&mut (dyn Polisher + '_)>, path: &Path, settings: &Settings) -> Result<Document, BatchError> {
    let audio = scrivo_audio::read_wav(path)?;
    let transcript = engine.transcribe(&audio.samples, &settings.decode).map_err(|source| match source {
        AsrError::Cancelled => BatchError::Cancelled { path: path.into() },
        source => BatchError::Asr { path: path.into(), source },
    })?;
    let biased: Vec<String> = transcript
        .segments
        .iter()
        .map(|seg| match &settings.bias {
            Some(c) => c.apply_with(&seg.text, settings.bias_context.as_deref().map(|m| m as &dyn scrivo_bias::ContextModel)).text,
            None => seg.text.clone(),
        })
        .collect();
    // The segments are polished as one text: a segment alone ("ask what you can do for your
    // country.") can look like a false start that the whole sentence shows it is not.
    let (text, polished) = match polisher.as_deref_mut() {
        Some(p) => {
            let pieces: Vec<&str> = biased.iter().map(String::as_str).collect();
            let (whole, polished) = scrivo_polish::polish_pieces(p, &pieces).map_err(|source| BatchError::Polish { path: path.into(), source })?;
            (whole.text, polished)
        }
        None => (join(biased.iter().map(String::as_str)), biased),
    };
    let segments: Vec<DocumentSegment> = transcript
        .segments
        .into_iter()
        .zip(polished)
        .map(|(seg, text)| DocumentSegment { start_seconds: seg.start_seconds, end_seconds: seg.end_seconds, raw_text: seg.text, text })
        .collect();
    Ok(Document {
        source: path.display().to_string(),
        duration_seconds: audio.duration_seconds(),
        asr_model: settings.asr_model.clone(),
        polisher: settings.polisher.clone().filter(|_| polisher.is_some()),
        language: settings.decode.language.clone().unwrap_or_else(|| "auto".into()),
        text,
        raw_text: join(segments.iter().map(|s| s.raw_text.as_str())),
        segments,
    })
}
