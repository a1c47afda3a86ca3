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
    /// The polishing engine on disfluent/fluent sentence pairs.
    Polish(PolishArgs),
    /// Filler removal on verbatim transcripts.
    Fillers(FillersArgs),
    /// Biasing lists on recognised text with per-utterance lists: WER and rare-word recall.
    Bias(crate::eval_bias::BiasArgs),
    /// Over-correction: changes a biasing list makes to text that is already right.
    Overcorrect(crate::eval_bias::OvercorrectArgs),
    /// The voice activity detector on speech clips between silences, and on noise.
    Vad(crate::eval_vad::VadArgs),
    /// The dictation pipeline on simulated input: memory over a long session, under a budget,
    /// after the idle unload.
    Dictation(crate::eval_dictation::DictationArgs),
    /// Recognising while the user speaks against recognising whole at the end: WER and latency.
    Live(crate::eval_live::LiveArgs),
    /// Switching polishing styles on one loaded model: swap time and each style's output.
    Swap(crate::eval_swap::SwapArgs),
}

#[derive(Args)]
pub struct PolishArgs {
    /// TSV with `disfluent` and `fluent` columns (rows containing `#VALUE!` are skipped).
    #[arg(long)]
    pub pairs: PathBuf,
    /// Only the first N pairs.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Also write each row's output to this TSV (`disfluent`, `fluent`, `output`).
    #[arg(long)]
    pub save_outputs: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub engine: crate::asr_setup::EngineArgs,
}

#[derive(Args)]
pub struct FillersArgs {
    /// TSV with a `text_verbatim` column.
    #[arg(long)]
    pub turns: PathBuf,
    #[arg(long)]
    pub limit: Option<usize>,
    #[command(flatten)]
    pub groups: crate::groups::GroupArgs,
    /// Of the rows left, only every this-many-th (from the first).
    #[arg(long, default_value_t = 1)]
    pub stride: usize,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub engine: crate::asr_setup::EngineArgs,
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
    /// Bias recognition with this list (a name or a .toml file; repeatable): its terms go into
    /// the initial prompt and the corrector runs on the text. No list is used otherwise.
    #[arg(long = "bias-list")]
    pub bias_lists: Vec<String>,
    /// The folder of your biasing lists (for --bias-list NAME).
    #[arg(long, env = "SCRIVO_BIAS_DIR")]
    pub lists_dir: Option<PathBuf>,
    /// Logits added while decoding to the tokens that continue a listed term already begun
    /// (0: none; default: what `transcribe` uses).
    #[arg(long, requires = "bias_lists")]
    pub term_boost: Option<f32>,
    /// Logits added to the first token of every listed term (default: what `transcribe` uses).
    #[arg(long, requires = "bias_lists")]
    pub term_boost_start: Option<f32>,
    #[command(flatten)]
    pub bias_context: crate::bias_cmd::ContextArgs,
    /// Judge biasing-list sound-alikes without the recogniser's look at the audio.
    #[arg(long, requires = "bias_lists")]
    pub no_bias_ear: bool,
    /// Never decode a piece again prompted with the listed terms its text sounds near.
    #[arg(long, requires = "bias_lists")]
    pub no_bias_refocus: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn run(cmd: EvalCommand, store: &ModelStore) -> Result<i32> {
    match cmd {
        EvalCommand::Asr(args) => asr(args, store),
        EvalCommand::Polish(args) => polish(args, store),
        EvalCommand::Swap(args) => crate::eval_swap::run(args, store),
        EvalCommand::Fillers(args) => fillers(args, store),
        EvalCommand::Bias(args) => crate::eval_bias::bias(args, crate::bias_cmd::lexicon(store), store),
        EvalCommand::Vad(args) => crate::eval_vad::vad(args),
        EvalCommand::Dictation(args) => crate::eval_dictation::dictation(args, store),
        EvalCommand::Live(args) => crate::eval_live::run(args, store),
        EvalCommand::Overcorrect(args) => crate::eval_bias::overcorrect(args, crate::bias_cmd::lexicon(store), store),
    }
}

struct Item {
    file: String,
    path: PathBuf,
    reference: String,
    set: String,
    /// Terms the recording contains (`terms` column, separated by ';'), for term recall.
    terms: Vec<String>,
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
    /// Share of the manifest's `terms` written exactly (case-insensitive, whole words).
    #[serde(skip_serializing_if = "Option::is_none")]
    term_recall: Option<f64>,
    terms: usize,
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
                terms: row.optional("terms").unwrap_or("").split(';').map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect(),
                file,
            })
        })
        .collect()
}

fn asr(args: AsrArgs, store: &ModelStore) -> Result<i32> {
    let items = read_manifest(&args.manifest)?;
    let (jobs, threads) = split_cores(args.jobs, args.threads, items.len());
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
            let crate::asr_setup::Biasing { prompt: initial_prompt, mut boost, corrector: bias } =
                if args.bias_lists.is_empty() { Default::default() } else { crate::asr_setup::biasing(args.lists_dir.clone(), &args.bias_lists, &model, store)? };
            // Only when asked: `biasing` already installed what `transcribe` uses.
            if let Some(corrector) = bias.as_ref().filter(|_| args.term_boost.is_some() || args.term_boost_start.is_some()) {
                let bonus = args.term_boost.unwrap_or(scrivo_asr::DEFAULT_BONUS);
                let start = args.term_boost_start.unwrap_or(scrivo_asr::DEFAULT_START_BONUS);
                boost = (bonus > 0.0 || start > 0.0).then(|| std::sync::Arc::new(model.term_boost(corrector.terms(), bonus, start)));
            }
            let settings = Settings {
                jobs,
                decode: DecodeOptions { threads, fit_encoder_context: !args.full_context, initial_prompt, boost, ..DecodeOptions::default() },
                asr_model: model_name.clone(),
                polisher: None,
                bias_context: crate::asr_setup::bias_context(&args.bias_context, bias.is_some(), None, store)?,
                bias_by_ear: !args.no_bias_ear,
                bias_refocus: !args.no_bias_refocus,
                bias,
            };
            let paths: Vec<PathBuf> = items.iter().map(|i| i.path.clone()).collect();
            let started = Instant::now();
            // The sink keeps the (unpolished; corrected when there are lists) text.
            let results = scrivo_batch::run(&model, &paths, &settings, &|| None, &|_| {}, &|_, doc| Ok(doc.text.clone()))?;
            let wall = started.elapsed().as_secs_f64();
            model.log_timings();
            let mut hyps = Vec::new();
            let mut audio = Vec::new();
            for r in results {
                match r {
                    Ok(done) => {
                        audio.push(done.audio_seconds);
                        hyps.push(Some(done.value));
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
    let terms: usize = items.iter().map(|i| i.terms.len()).sum();
    let found: usize = items
        .iter()
        .zip(&hypotheses)
        .map(|(item, hyp)| {
            let hyp = format!(" {} ", scrivo_bias::list::fold(hyp.as_deref().unwrap_or("")));
            item.terms.iter().filter(|t| hyp.contains(&format!(" {} ", scrivo_bias::list::fold(t)))).count()
        })
        .sum();
    let report = AsrReport {
        term_recall: (terms > 0).then(|| found as f64 / terms as f64),
        terms,
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
    if let Some(recall) = r.term_recall {
        println!("term recall {:.1}% of {} terms", recall * 100.0, r.terms);
    }
    println!(
        "{}: {} threads x {} jobs, {:.2} s wall ({:.3}x real time), model load {:.2} s; normaliser: {}",
        r.engine, r.threads, r.jobs, r.wall_seconds, r.real_time_factor, r.load_seconds, r.normaliser
    );
    for f in &r.failed {
        eprintln!("error: {f}");
    }
}

#[derive(Serialize)]
struct PolishReport {
    engine: String,
    pairs: usize,
    skipped: usize,
    wer_to_fluent: f64,
    identity_wer: f64,
    exact_match: f64,
    inserted_words: usize,
    content_words_lost: f64,
    content_words_lost_count: usize,
    content_words_total: usize,
    latency_ms_p50: f64,
    latency_ms_p95: f64,
    normaliser: &'static str,
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn polish(args: PolishArgs, store: &ModelStore) -> Result<i32> {
    use scrivo_eval::polish::{content_words_lost, inserted_words};
    let table = Table::read(&args.pairs)?;
    table.require("disfluent")?;
    table.require("fluent")?;
    let mut polisher = crate::asr_setup::make_polisher(&args.engine, store, &[])?;
    let (mut out_errors, mut id_errors) = (WordErrors::default(), WordErrors::default());
    let (mut exact, mut inserted, mut lost, mut total, mut skipped, mut pairs) = (0usize, 0usize, 0usize, 0usize, 0usize, 0usize);
    let mut latencies = Vec::new();
    let mut saved = String::from("disfluent\tfluent\toutput\n");
    for row in table.rows() {
        if args.limit.is_some_and(|n| pairs >= n) {
            break;
        }
        let (disfluent, fluent) = (row.get("disfluent")?, row.get("fluent")?);
        if disfluent.contains("#VALUE!") || fluent.contains("#VALUE!") {
            skipped += 1;
            continue;
        }
        pairs += 1;
        let started = Instant::now();
        let output = polisher.polish(disfluent)?.text;
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        out_errors += WordErrors::english(fluent, &output);
        id_errors += WordErrors::english(fluent, disfluent);
        exact += usize::from(scrivo_eval::normalise_english(fluent) == scrivo_eval::normalise_english(&output));
        inserted += inserted_words(disfluent, &output);
        let (l, t) = content_words_lost(disfluent, fluent, &output);
        lost += l;
        total += t;
        saved.push_str(&format!("{disfluent}\t{fluent}\t{output}\n"));
    }
    if let Some(path) = &args.save_outputs {
        scrivo_batch::write_atomically(path, &saved)?;
    }
    latencies.sort_by(f64::total_cmp);
    let report = PolishReport {
        engine: args.engine.describe(),
        pairs,
        skipped,
        wer_to_fluent: out_errors.rate(),
        identity_wer: id_errors.rate(),
        exact_match: if pairs > 0 { exact as f64 / pairs as f64 } else { 0.0 },
        inserted_words: inserted,
        content_words_lost: if total > 0 { lost as f64 / total as f64 } else { 0.0 },
        content_words_lost_count: lost,
        content_words_total: total,
        latency_ms_p50: percentile(&latencies, 50.0),
        latency_ms_p95: percentile(&latencies, 95.0),
        normaliser: "english: lower case, numbers as digits, punctuation and apostrophes removed",
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("engine {}: {} pairs ({} skipped)", report.engine, report.pairs, report.skipped);
        println!("wer_to_fluent      {:.3}  (identity_wer {:.3})", report.wer_to_fluent, report.identity_wer);
        println!("exact_match        {:.3}", report.exact_match);
        println!("inserted_words     {}", report.inserted_words);
        println!("content_words_lost {:.4} ({} of {})", report.content_words_lost, lost, total);
        println!("latency ms         p50 {:.3}  p95 {:.3}", report.latency_ms_p50, report.latency_ms_p95);
    }
    Ok(0)
}

#[derive(Serialize)]
struct FillersReport {
    engine: String,
    turns: usize,
    um_uh_removed: f64,
    other_words_kept: f64,
    /// Counting a dropped repetition or "you know" / "I mean" as rightly gone.
    other_words_kept_or_disfluent: f64,
    #[serde(flatten)]
    counts: scrivo_eval::polish::FillerCounts,
}

fn fillers(args: FillersArgs, store: &ModelStore) -> Result<i32> {
    use scrivo_eval::polish::FillerCounts;
    let table = Table::read(&args.turns)?;
    table.require("text_verbatim")?;
    let mut polisher = crate::asr_setup::make_polisher(&args.engine, store, &[])?;
    let mut counts = FillerCounts::default();
    let chosen = args.groups.select(&table, true)?;
    let mut turns = 0;
    for row in chosen.into_iter().step_by(args.stride.max(1)).take(args.limit.unwrap_or(usize::MAX)) {
        let text = row.get("text_verbatim")?;
        counts += FillerCounts::of(text, &polisher.polish(text)?.text);
        turns += 1;
    }
    let ratio = |a: usize, b: usize| if b > 0 { a as f64 / b as f64 } else { 1.0 };
    let report = FillersReport {
        engine: args.engine.describe(),
        turns,
        um_uh_removed: 1.0 - ratio(counts.fillers_out, counts.fillers_in),
        other_words_kept: ratio(counts.other_kept, counts.other_in),
        other_words_kept_or_disfluent: ratio(counts.other_kept_or_disfluent(), counts.other_in),
        counts,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "engine {}: {} turns; um/uh removed {:.4} ({} -> {}); other words kept {:.4} ({} of {})",
            report.engine, turns, report.um_uh_removed, counts.fillers_in, counts.fillers_out, report.other_words_kept, counts.other_kept, counts.other_in
        );
        println!(
            "  of the {} dropped: {} repeated next to where they stood, {} in \"you know\" / \"I mean\", {} other; kept or disfluent {:.4}",
            counts.other_in - counts.other_kept,
            counts.dropped_repeated,
            counts.dropped_phrase,
            counts.dropped_other(),
            report.other_words_kept_or_disfluent
        );
    }
    Ok(0)
}
