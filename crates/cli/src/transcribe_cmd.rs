//! `scrivo transcribe FILE_OR_DIR...`

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::Result;
use clap::Args;
use scrivo_asr::{DecodeOptions, WhisperModel};
use scrivo_batch::{Event, Format, Settings};
use scrivo_models::store::ModelStore;

use crate::asr_setup::{biasing, resolve_model, split_cores, EngineArgs, PolisherMaker};
use crate::progress::BatchBar;

#[derive(Args)]
pub struct TranscribeArgs {
    /// WAV files, or folders searched for .wav files.
    #[arg(required = true, value_name = "FILE_OR_DIR")]
    pub inputs: Vec<PathBuf>,
    /// Speech model id (see `scrivo models list`) or a path to a ggml file.
    #[arg(long)]
    pub model: Option<String>,
    /// Output format: txt (polished text), json (raw and polished text, timed segments), srt, vtt.
    #[arg(long, default_value = "txt")]
    pub format: Format,
    /// Folder for the outputs (default: beside each input); `-` prints them on stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Threads per job (default: all cores divided by the jobs).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Recordings transcribed at once (default 1: measured fastest on 2 cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Language code, or `auto` (multilingual models).
    #[arg(long, default_value = "en")]
    pub language: String,
    /// Keep the recogniser's raw text only.
    #[arg(long)]
    pub no_polish: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Always decode with whisper's full 30 s window (slower; for comparison).
    #[arg(long)]
    pub full_context: bool,
    #[command(flatten)]
    pub lists: crate::asr_setup::ListArgs,
}

pub fn run(args: TranscribeArgs, store: &ModelStore) -> Result<i32> {
    let to_stdout = args.out.as_deref() == Some(Path::new("-"));
    let plan = scrivo_batch::plan(&args.inputs, args.format, args.out.as_deref().filter(|_| !to_stdout));
    let (model_path, model_name) = resolve_model(store, args.model.as_deref())?;
    let model = WhisperModel::load(&model_path)?;
    let (jobs, threads) = split_cores(args.jobs, args.threads);
    let lists = &args.lists;
    let (prompt, bias) = if lists.no_bias { (None, None) } else { biasing(lists.lists_dir.clone(), &lists.bias_lists, &model, store)? };
    let protected: Vec<String> = bias.as_ref().map(|c| c.terms().map(String::from).collect()).unwrap_or_default();
    let context = bias.is_some() && !lists.context.no_bias_context;
    let polishers = (!args.no_polish).then(|| PolisherMaker::new(&args.engine.choice(), store, &protected, context)).transpose()?;
    let bias_context = crate::asr_setup::bias_context(&lists.context, bias.is_some(), polishers.as_ref(), store)?;
    let settings = Settings {
        jobs,
        decode: DecodeOptions {
            threads,
            language: Some(args.language.clone()),
            fit_encoder_context: !args.full_context,
            initial_prompt: prompt,
            ..DecodeOptions::default()
        },
        asr_model: model_name,
        polisher: polishers.as_ref().map(|p| p.name().to_owned()),
        bias,
        bias_context,
    };
    let inputs: Vec<PathBuf> = plan.jobs.iter().map(|j| j.input.clone()).collect();
    let total_audio: f64 = inputs.iter().filter_map(|p| scrivo_audio::probe_seconds(p)).sum();
    let bar = BatchBar::new(inputs.len(), total_audio);
    let on_event = |event: Event| match event {
        Event::Started { path, .. } => bar.started(&path),
        Event::Progress { .. } => {}
        Event::Finished { audio_seconds, .. } => bar.finished(audio_seconds),
        Event::Failed { path, error, .. } => bar.failed(&path, &error),
    };
    let stdout = Mutex::new(std::io::stdout());
    let format = args.format;
    let sink = |index: usize, doc: &scrivo_transcript::Document| -> Result<PathBuf, scrivo_batch::BatchError> {
        let job = &plan.jobs[index];
        let rendered = format.render(doc);
        if to_stdout {
            let mut out = stdout.lock().unwrap_or_else(|p| p.into_inner());
            let io = |source| scrivo_batch::BatchError::Io { path: "stdout".into(), source };
            out.write_all(rendered.as_bytes()).map_err(io)?;
            out.flush().map_err(io)?;
            return Ok("-".into());
        }
        scrivo_batch::write_atomically(&job.output, &rendered)?;
        tracing::info!(input = %job.input.display(), output = %job.output.display(), "written");
        Ok(job.output.clone())
    };
    let started = Instant::now();
    let no_polisher = || None;
    let results = match &polishers {
        Some(p) => scrivo_batch::run(&model, &inputs, &settings, &p.factory(), &on_event, &sink)?,
        None => scrivo_batch::run(&model, &inputs, &settings, &no_polisher, &on_event, &sink)?,
    };
    bar.finish();
    let wall = started.elapsed().as_secs_f64();
    let mut failures: Vec<String> = plan.problems.iter().map(ToString::to_string).collect();
    let mut audio = 0.0;
    let mut written = 0;
    for result in results {
        match result {
            Ok(done) => {
                audio += done.document.duration_seconds;
                written += 1;
            }
            Err(e) => failures.push(e.to_string()),
        }
    }
    let total = written + failures.len();
    let speed = if wall > 0.0 { audio / wall } else { 0.0 };
    let place = match (&args.out, to_stdout) {
        (_, true) => "to stdout".to_owned(),
        (Some(dir), _) => format!("under {}", dir.display()),
        (None, _) => "beside the inputs".to_owned(),
    };
    eprintln!(
        "Transcribed {written} of {total} file(s): {audio:.1} s of audio in {wall:.1} s ({speed:.1}x real time), {} files {place}.",
        format.extension()
    );
    if !failures.is_empty() {
        eprintln!("{} failed:", failures.len());
        for f in &failures {
            eprintln!("  error: {f}");
        }
    }
    Ok(i32::from(!failures.is_empty()))
}
