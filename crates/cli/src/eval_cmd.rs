//! `scrivo eval ...`: the measurements in the closing notes, as commands that stay.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use scrivo_asr::{DecodeOptions, WhisperModel};
use scrivo_batch::Settings;
use scrivo_eval::{Table, WordErrors};
use scrivo_models::store::ModelStore;
use serde::Serialize;

use crate::asr_setup::{resolve_model, split_cores};

#[derive(Subcommand)]
pub enum EvalCommand {
    /// Word error rate and speed of speech recognition on a manifest of WAV files.
    Asr(AsrArgs),
}

#[derive(Args)]
pub struct AsrArgs {
    /// TSV with `file` (relative to the manifest) and `reference` columns, optionally `set`.
    #[arg(long)]
    pub manifest: PathBuf,
    /// Speech model id or ggml file (default: the manifest's default speech model).
    #[arg(long)]
    pub model: Option<String>,
    #[arg(long)]
    pub threads: Option<usize>,
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Always decode with whisper's full 30 s window.
    #[arg(long)]
    pub full_context: bool,
    /// Score these hypotheses (TSV with `file` and `hypothesis`) instead of transcribing,
    /// e.g. another engine's output, with the same normaliser.
    #[arg(long)]
    pub hypotheses: Option<PathBuf>,
    /// Also write each file's hypothesis to this TSV.
    #[arg(long)]
    pub save_hypotheses: Option<PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn run(cmd: EvalCommand, store: &ModelStore) -> Result<i32> {
    match cmd {
        EvalCommand::Asr(args) => asr(args, store),
    }
}

struct Item {
    file: String,
    path: PathBuf,
    reference: String,
    set: String,
}

#[derive(Serialize, Default)]
struct SetScore {
    wer: f64,
    files: usize,
    audio_seconds: f64,
    #[serde(flatten)]
    errors: WordErrors,
}

#[derive(Serialize)]
struct AsrReport {
    /// Corpus word error rate (a fraction), after `normaliser`.
    wer: f64,
    files: usize,
    failed: Vec<String>,
    audio_seconds: f64,
    /// Transcription time, model load excluded.
    wall_seconds: f64,
    load_seconds: f64,
    real_time_factor: f64,
    engine: String,
    threads: usize,
    jobs: usize,
    normaliser: &'static str,
    per_set: BTreeMap<String, SetScore>,
    #[serde(flatten)]
    errors: WordErrors,
}

fn read_manifest(path: &Path) -> Result<Vec<Item>> {
    let table = Table::read(path)?;
    table.require("file")?;
    table.require("reference")?;
    let base = path.parent().unwrap_or(Path::new("."));
    table
        .rows()
        .map(|row| {
            let file = row.get("file")?.to_owned();
            Ok(Item {
                path: base.join(&file),
                reference: row.get("reference")?.to_owned(),
                set: row.optional("set").filter(|s| !s.is_empty()).unwrap_or("all").to_owned(),
                file,
            })
        })
        .collect()
}

fn asr(args: AsrArgs, store: &ModelStore) -> Result<i32> {
    let items = read_manifest(&args.manifest)?;
    let (jobs, threads) = split_cores(args.jobs, args.threads);
    let mut failed = Vec::new();
    let (hypotheses, audio, engine, load_seconds, wall_seconds): (Vec<Option<String>>, Vec<f64>, String, f64, f64) = match &args.hypotheses {
        Some(path) => {
            let table = Table::read(path)?;
            table.require("hypothesis")?;
            let by_file: HashMap<String, String> = table
                .rows()
                .map(|r| Ok((r.get("file")?.to_owned(), r.get("hypothesis")?.to_owned())))
                .collect::<Result<_, scrivo_eval::TsvError>>()?;
            let hyps = items.iter().map(|i| by_file.get(&i.file).cloned()).collect::<Vec<_>>();
            for (item, h) in items.iter().zip(&hyps) {
                if h.is_none() {
                    failed.push(format!("{}: no hypothesis in {}", item.file, path.display()));
                }
            }
            let audio = items.iter().map(|i| scrivo_audio::probe_seconds(&i.path).unwrap_or(0.0)).collect();
            (hyps, audio, path.display().to_string(), 0.0, 0.0)
        }
        None => {
            let (model_path, model_name) = resolve_model(store, args.model.as_deref())?;
            let load = Instant::now();
            let model = WhisperModel::load(&model_path)?;
            let load_seconds = load.elapsed().as_secs_f64();
            let settings = Settings {
                jobs,
                decode: DecodeOptions { threads, fit_encoder_context: !args.full_context, ..DecodeOptions::default() },
                asr_model: model_name.clone(),
                polisher: None,
            };
            let paths: Vec<PathBuf> = items.iter().map(|i| i.path.clone()).collect();
            let started = Instant::now();
            let results = scrivo_batch::run(&model, &paths, &settings, &|| None, &|_| {}, &|_, _| Ok(()))?;
            let wall = started.elapsed().as_secs_f64();
            model.log_timings();
            let mut hyps = Vec::new();
            let mut audio = Vec::new();
            for r in results {
                match r {
                    Ok(done) => {
                        audio.push(done.document.duration_seconds);
                        hyps.push(Some(done.document.raw_text));
                    }
                    Err(e) => {
                        failed.push(e.to_string());
                        audio.push(0.0);
                        hyps.push(None);
                    }
                }
            }
            (hyps, audio, model_name, load_seconds, wall)
        }
    };
    if let Some(path) = &args.save_hypotheses {
        let mut tsv = String::from("file\thypothesis\n");
        for (item, h) in items.iter().zip(&hypotheses) {
            let h = h.as_deref().unwrap_or("").replace(['\t', '\n', '\r'], " ");
            tsv.push_str(&format!("{}\t{h}\n", item.file));
        }
        scrivo_batch::write_atomically(path, &tsv).with_context(|| format!("saving hypotheses to {}", path.display()))?;
    }
    let mut per_set: BTreeMap<String, SetScore> = BTreeMap::new();
    let mut total = WordErrors::default();
    for ((item, hyp), seconds) in items.iter().zip(&hypotheses).zip(&audio) {
        // A failed file counts as all deletions: a broken engine cannot score well by failing.
        let errors = WordErrors::english(&item.reference, hyp.as_deref().unwrap_or(""));
        total += errors;
        let set = per_set.entry(item.set.clone()).or_default();
        set.errors += errors;
        set.files += 1;
        set.audio_seconds += seconds;
    }
    for s in per_set.values_mut() {
        s.wer = s.errors.rate();
    }
    let audio_seconds: f64 = audio.iter().sum();
    let report = AsrReport {
        wer: total.rate(),
        files: items.len(),
        failed,
        audio_seconds,
        wall_seconds,
        load_seconds,
        real_time_factor: if audio_seconds > 0.0 { wall_seconds / audio_seconds } else { 0.0 },
        engine,
        threads,
        jobs,
        normaliser: "english: lower case, numbers as digits, punctuation and apostrophes removed",
        per_set,
        errors: total,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_asr(&report);
    }
    Ok(i32::from(!report.failed.is_empty()))
}

fn print_asr(r: &AsrReport) {
    println!("{:<28} {:>5} {:>8} {:>7}", "set", "files", "audio s", "WER");
    for (name, s) in &r.per_set {
        println!("{name:<28} {:>5} {:>8.1} {:>6.2}%", s.files, s.audio_seconds, s.wer * 100.0);
    }
    println!("{:<28} {:>5} {:>8.1} {:>6.2}%", "all", r.files, r.audio_seconds, r.wer * 100.0);
    println!(
        "{}: {} threads x {} jobs, {:.2} s wall ({:.3}x real time), model load {:.2} s; normaliser: {}",
        r.engine, r.threads, r.jobs, r.wall_seconds, r.real_time_factor, r.load_seconds, r.normaliser
    );
    for f in &r.failed {
        eprintln!("error: {f}");
    }
}
