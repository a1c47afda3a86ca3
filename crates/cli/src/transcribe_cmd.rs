//! `scrivo transcribe FILE_OR_DIR...`

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{bail, Result};
use clap::Args;
use scrivo_asr::{DecodeOptions, WhisperModel};
use scrivo_batch::summary::{Record, Status, SummaryWriter};
use scrivo_batch::{Event, Format, Settings, Shard};
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
    /// Recordings transcribed at once (default: one per core, one thread each; measured
    /// fastest on 2 cores).
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
    /// Judge biasing-list sound-alikes without asking the recogniser how well each fits the
    /// audio (a second look at each piece with a candidate the text leaves).
    #[arg(long)]
    pub no_bias_ear: bool,
    /// Never decode a piece again prompted with the listed terms its text sounds near (a
    /// second decode of each piece whose text sounds like a term it does not spell).
    #[arg(long)]
    pub no_bias_refocus: bool,
    /// Transcribe only share I of N of the recordings (I from 0), e.g. one task of a Slurm array
    /// or a Kubernetes Indexed Job: every shard plans the same inputs in path order and takes
    /// every N-th. `auto/N` reads the index from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID.
    #[arg(long, value_name = "I/N", env = "SCRIVO_SHARD")]
    pub shard: Option<String>,
    /// Leave out recordings whose output already exists and is no older than the recording
    /// (outputs are written whole or not at all), so a stopped run resumes where it was; the
    /// temporary files a killed run left beside this run's outputs are removed.
    #[arg(long)]
    pub skip_existing: bool,
    /// Append a JSON line per recording to FILE (input, output, status, audio and wall seconds,
    /// error); `scrivo batch merge` combines the files of several shards.
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
}

/// Exit code after Ctrl-C (128 + SIGINT), as shells report it.
const INTERRUPTED: i32 = 130;

/// The first Ctrl-C sets `cancel` (the recording in progress stops, finished outputs stay); a
/// second one quits at once.
fn stop_on_ctrl_c(cancel: &Arc<AtomicBool>) {
    let cancel = Arc::clone(cancel);
    let installed = ctrlc::set_handler(move || {
        if cancel.swap(true, Ordering::SeqCst) {
            eprintln!("\nStopped.");
            std::process::exit(INTERRUPTED);
        }
        eprintln!("\nStopping: finished outputs are kept (Ctrl-C again to quit at once).");
    });
    if let Err(e) = installed {
        tracing::warn!("Ctrl-C will stop the process without finishing: {e}");
    }
}

pub fn run(args: TranscribeArgs, store: &ModelStore) -> Result<i32> {
    let to_stdout = args.out.as_deref() == Some(Path::new("-"));
    if to_stdout && args.skip_existing {
        bail!("--skip-existing needs output files: leave out `--out -`");
    }
    let mut plan = scrivo_batch::plan(&args.inputs, args.format, args.out.as_deref().filter(|_| !to_stdout));
    let shard = args.shard.as_deref().map(|spec| Shard::parse(spec, |name| std::env::var(name).ok())).transpose().map_err(anyhow::Error::msg)?;
    if let Some(shard) = shard {
        plan = plan.shard(shard);
    }
    let finished = if args.skip_existing {
        for stale in plan.remove_stale_temporaries() {
            tracing::info!(path = %stale.display(), "removed what a stopped run left half-written");
        }
        plan.take_finished()
    } else {
        Vec::new()
    };
    let summary = args.summary.as_deref().map(SummaryWriter::append).transpose()?;
    let record = |input: &Path, output: Option<&Path>, status: Status| Record {
        input: input.display().to_string(),
        output: output.map(|o| o.display().to_string()),
        status,
        audio_seconds: 0.0,
        wall_seconds: 0.0,
        error: None,
        shard: shard.map(|s| s.to_string()),
    };
    let summary_error: Mutex<Option<String>> = Mutex::new(None);
    let note = |r: Record| {
        if let Some(writer) = &summary {
            if let Err(e) = writer.write(&r) {
                summary_error.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e.to_string());
            }
        }
    };
    for job in &finished {
        note(record(&job.input, Some(&job.output), Status::Skipped));
    }
    for problem in &plan.problems {
        let path = problem.path().unwrap_or(Path::new(""));
        note(Record { error: Some(problem.to_string()), ..record(path, None, Status::Failed) });
    }
    let shard_note = shard.map(|s| format!(" (shard {s})")).unwrap_or_default();
    if !finished.is_empty() {
        eprintln!("Skipping {} recording(s) whose output is already there{shard_note}.", finished.len());
    }
    if plan.jobs.is_empty() {
        eprintln!("Nothing to transcribe{shard_note}.");
        for f in &plan.problems {
            eprintln!("  error: {f}");
        }
        return Ok(i32::from(!plan.problems.is_empty()));
    }
    let (model_path, model_name) = resolve_model(store, args.model.as_deref())?;
    let model = WhisperModel::load(&model_path)?;
    let (jobs, threads) = split_cores(args.jobs, args.threads, plan.jobs.len());
    let lists = &args.lists;
    let crate::asr_setup::Biasing { prompt, boost, corrector: bias } =
        if lists.no_bias { Default::default() } else { biasing(lists.lists_dir.clone(), &lists.bias_lists, &model, store)? };
    let protected: Vec<String> = bias.as_ref().map(|c| c.terms().map(String::from).collect()).unwrap_or_default();
    let context = bias.is_some() && !lists.context.no_bias_context;
    let cancel = Arc::new(AtomicBool::new(false));
    stop_on_ctrl_c(&cancel);
    let polishers = (!args.no_polish).then(|| PolisherMaker::new(&args.engine.choice(), store, &protected, context)).transpose()?;
    let bias_context = crate::asr_setup::bias_context(&lists.context, bias.is_some(), polishers.as_ref(), store)?;
    let settings = Settings {
        jobs,
        decode: DecodeOptions {
            threads,
            language: Some(args.language.clone()),
            fit_encoder_context: !args.full_context,
            initial_prompt: prompt,
            boost,
            cancel: Some(Arc::clone(&cancel)),
            ..DecodeOptions::default()
        },
        asr_model: model_name,
        polisher: polishers.as_ref().map(|p| p.name().to_owned()),
        bias,
        bias_context,
        bias_by_ear: !args.no_bias_ear,
        bias_refocus: !args.no_bias_refocus,
    };
    let inputs: Vec<PathBuf> = plan.jobs.iter().map(|j| j.input.clone()).collect();
    let bar = BatchBar::new(inputs.iter().map(|p| scrivo_audio::probe_seconds(p).unwrap_or(0.0)).collect());
    let on_event = |event: Event| match event {
        Event::Started { path, .. } => bar.started(&path),
        Event::Progress { index, fraction } => bar.progress(index, fraction),
        Event::Finished { index, path, audio_seconds, wall_seconds } => {
            bar.finished(index, audio_seconds);
            let output = (!to_stdout).then(|| plan.jobs[index].output.as_path());
            note(Record { audio_seconds, wall_seconds, ..record(&path, output, Status::Done) });
        }
        Event::Failed { index, path, error, cancelled } => {
            let status = if cancelled { Status::Cancelled } else { Status::Failed };
            if !cancelled {
                bar.failed(index, &path, &error);
            }
            note(Record { error: Some(error), ..record(&path, None, status) });
        }
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
    let mut cancelled = 0;
    for result in results {
        match result {
            Ok(done) => {
                audio += done.audio_seconds;
                written += 1;
            }
            Err(scrivo_batch::BatchError::Cancelled { .. }) => cancelled += 1,
            Err(e) => failures.push(e.to_string()),
        }
    }
    failures.extend(summary_error.into_inner().unwrap_or_else(|p| p.into_inner()).map(|e| format!("the summary: {e}")));
    let total = written + failures.len() + cancelled;
    let speed = if wall > 0.0 { audio / wall } else { 0.0 };
    let place = match (&args.out, to_stdout) {
        (_, true) => "to stdout".to_owned(),
        (Some(dir), _) => format!("under {}", dir.display()),
        (None, _) => "beside the inputs".to_owned(),
    };
    eprintln!(
        "Transcribed {written} of {total} file(s){shard_note}: {audio:.1} s of audio in {wall:.1} s ({speed:.1}x real time), {} files {place}.",
        format.extension()
    );
    if !failures.is_empty() {
        eprintln!("{} failed:", failures.len());
        for f in &failures {
            eprintln!("  error: {f}");
        }
    }
    if cancel.load(Ordering::SeqCst) {
        let resume = if to_stdout { String::new() } else { " Run the same command with --skip-existing to go on.".to_owned() };
        eprintln!("Stopped by Ctrl-C: {cancelled} file(s) not transcribed.{resume}");
        return Ok(INTERRUPTED);
    }
    Ok(i32::from(!failures.is_empty()))
}
