//! `scrivo train tagger`: trains the polishing tagger's head on disfluent/fluent pairs.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use scrivo_eval::Table;
use scrivo_llm::finetune::LoraOptions;
use scrivo_llm::train::{Dataset, TrainOptions};
use scrivo_llm::tagger::{FeatureExtractor, TaggerHead};
use scrivo_models::store::ModelStore;
use scrivo_polish::RulePolisher;

#[derive(Subcommand)]
pub enum TrainCommand {
    /// Make training pairs (`disfluent`, `fluent`) from plain text.
    Data(DataArgs),
    /// Train the keep/delete head of the polishing tagger.
    Tagger(TaggerArgs),
    /// Fine-tune the tagger: low-rank adapters (LoRA) on the model's blocks below the head,
    /// trained with the head; writes one adapter file (a style for `--style`).
    Lora(LoraArgs),
    /// Choose a trained head's settings (temperature, decision settings, content budget, fixed
    /// rules) on k folds of its held-out training pairs; writes the head with them.
    Tune(crate::train_tune::TuneArgs),
    /// Average heads trained on the same data from the same start (`train lora` runs of other
    /// lengths): one head whose adapters change each weight by the mean of theirs and whose
    /// logit is the mean of their heads'. Its settings are then chosen by `train tune`.
    Average(AverageArgs),
}

#[derive(Args)]
pub struct AverageArgs {
    /// The heads (adapter files written by `scrivo train lora`), two or more.
    #[arg(long = "head", required = true, num_args = 1)]
    pub heads: Vec<PathBuf>,
    /// Where the average goes.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct LoraArgs {
    /// TSV files with `disfluent` and `fluent` columns (rows with `#VALUE!` are skipped).
    #[arg(long = "data", required = true)]
    pub data: Vec<PathBuf>,
    /// Where the adapter goes (safetensors: the adapters and the head).
    #[arg(long)]
    pub out: PathBuf,
    /// Use at most this many pairs from each file.
    #[arg(long)]
    pub limit: Option<usize>,
    /// The head to start from (default: the shipped head of the frozen model); its block is the
    /// last adapted one.
    #[arg(long)]
    pub start_head: Option<PathBuf>,
    /// The first adapted block (1-based).
    #[arg(long, default_value_t = LoraOptions::default().first)]
    pub first_block: usize,
    #[arg(long, default_value_t = LoraOptions::default().rank)]
    pub rank: usize,
    #[arg(long, default_value_t = LoraOptions::default().alpha)]
    pub alpha: f64,
    #[arg(long, default_value_t = LoraOptions::default().learning_rate)]
    pub learning_rate: f64,
    #[arg(long, default_value_t = LoraOptions::default().batch)]
    pub batch: usize,
    #[arg(long, default_value_t = LoraOptions::default().epochs)]
    pub epochs: usize,
    /// Stop after this many steps (the learning-rate schedule still spans all epochs).
    #[arg(long)]
    pub max_steps: Option<usize>,
    #[arg(long, default_value_t = LoraOptions::default().seed)]
    pub seed: u64,
    /// The checkpoint, written every few steps and resumed from when it exists (default:
    /// OUT.ckpt).
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    #[arg(long, default_value_t = LoraOptions::default().checkpoint_every)]
    pub checkpoint_every: usize,
    /// The decision settings may delete at most this share of the held-out content words
    /// that should stay.
    #[arg(long, default_value_t = LoraOptions::default().content_budget)]
    pub content_budget: f64,
}

#[derive(Args)]
pub struct DataArgs {
    /// Fluent text that needs nothing removed, as TSV:COLUMN: each cell is a pair with itself.
    #[arg(long, value_name = "TSV:COLUMN")]
    pub identity: Vec<String>,
    /// Verbatim speech transcripts, as TSV:COLUMN: each sentence is a pair with what the rule pass
    /// makes of it (interjections and repetitions removed, every other word kept).
    #[arg(long, value_name = "TSV:COLUMN")]
    pub rules_target: Vec<String>,
    /// For the `--rules-target` files (and `--synthetic` files with the column): only some
    /// groups of rows, so that the others stay unseen for evaluation.
    #[command(flatten)]
    pub groups: crate::groups::GroupArgs,
    /// Fluent text made disfluent by the seeded rules of `scrivo_synth` (fillers, stutters,
    /// partial words, repetitions, self-corrections, restarts, false starts), as TSV:COLUMN or a
    /// .txt file with a sentence or more per line. Long cells are cut at sentence ends.
    #[arg(long, value_name = "TSV:COLUMN|TXT")]
    pub synthetic: Vec<String>,
    /// For `--synthetic`: take the rule pass's output of each sentence as the fluent side (for
    /// verbatim transcripts: their own fillers and repetitions out first).
    #[arg(long)]
    pub clean_first: bool,
    /// For `--synthetic`: the seed (the same seed and inputs give the same pairs).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// At most this many pairs from each source, spread evenly over it.
    #[arg(long)]
    pub limit: Option<usize>,
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct TaggerArgs {
    /// TSV files with `disfluent` and `fluent` columns (rows with `#VALUE!` are skipped).
    #[arg(long, required_unless_present = "features")]
    pub pairs: Vec<PathBuf>,
    /// Where the trained head goes (safetensors).
    #[arg(long)]
    pub out: PathBuf,
    /// Use at most this many pairs from each file.
    #[arg(long)]
    pub limit: Option<usize>,
    /// The model blocks to read (comma-separated, 1-based); one head is trained per block and
    /// the best on the held-out pairs is kept.
    #[arg(long, value_delimiter = ',', default_value = "15,18,21,24")]
    pub blocks: Vec<usize>,
    /// Save the extracted features here, or read them from here when the file exists (skips
    /// running the model; `--blocks` then picks among the blocks saved).
    #[arg(long)]
    pub features: Option<PathBuf>,
    /// More saved features to train on, after those above (repeatable).
    #[arg(long)]
    pub also_features: Vec<PathBuf>,
    #[arg(long, default_value_t = TrainOptions::default().epochs)]
    pub epochs: usize,
    #[arg(long, default_value_t = TrainOptions::default().hidden)]
    pub hidden: usize,
    #[arg(long, default_value_t = TrainOptions::default().seed)]
    pub seed: u64,
    #[arg(long, default_value_t = TrainOptions::default().learning_rate)]
    pub learning_rate: f64,
    #[arg(long, default_value_t = TrainOptions::default().weight_decay)]
    pub weight_decay: f64,
}

pub fn run(cmd: TrainCommand, store: &ModelStore) -> Result<i32> {
    match cmd {
        TrainCommand::Data(args) => data(args),
        TrainCommand::Tagger(args) => tagger(args, store),
        TrainCommand::Lora(args) => lora(args, store),
        TrainCommand::Tune(args) => crate::train_tune::run(args, store),
        TrainCommand::Average(args) => average(args),
    }
}

/// The cells of `spec` (`FILE:COLUMN`), only those in the groups `args` selects when `grouped`.
fn cells(spec: &str, args: &DataArgs, grouped: bool) -> Result<Vec<String>> {
    let (file, column) = spec.rsplit_once(':').with_context(|| format!("{spec}: expected FILE:COLUMN"))?;
    let table = Table::read(std::path::Path::new(file))?;
    table.require(column)?;
    let mut out = Vec::new();
    for row in args.groups.select(&table, grouped)? {
        let cell = row.get(column)?.trim();
        if !cell.is_empty() && !cell.contains("#VALUE!") {
            out.push(cell.to_owned());
        }
    }
    Ok(out)
}

/// At most `limit` of `items`, evenly spaced.
fn spread<T: Clone>(items: Vec<T>, limit: Option<usize>) -> Vec<T> {
    match limit {
        Some(n) if n < items.len() => (0..n).map(|i| items[i * items.len() / n].clone()).collect(),
        _ => items,
    }
}

fn data(args: DataArgs) -> Result<i32> {
    use scrivo_polish::Polisher;
    let mut tsv = String::from("disfluent\tfluent\tsource\n");
    let mut counts = Vec::new();
    let clean = |t: &str| t.replace(['\t', '\n', '\r'], " ");
    for spec in &args.identity {
        let pairs = spread(cells(spec, &args, false)?, args.limit);
        for text in &pairs {
            tsv.push_str(&format!("{0}\t{0}\tidentity\n", clean(text)));
        }
        counts.push(format!("{} identity pairs from {spec}", pairs.len()));
    }
    let mut rules = RulePolisher::english();
    for spec in &args.rules_target {
        let mut sentences = Vec::new();
        for turn in cells(spec, &args, true)? {
            let words: Vec<&str> = turn.split_whitespace().collect();
            sentences.extend(scrivo_llm::tagger::chunks(&words).into_iter().map(|r| words[r].join(" ")));
        }
        let sentences = spread(sentences, args.limit);
        for s in &sentences {
            let target = rules.polish(s)?.text;
            if !target.trim().is_empty() {
                tsv.push_str(&format!("{}\t{}\trules\n", clean(s), clean(&target)));
            }
        }
        counts.push(format!("{} rule-target sentences from {spec}", sentences.len()));
    }
    let mut synth = scrivo_synth::Synthesizer::new(args.seed, scrivo_synth::Rates::default());
    for spec in &args.synthetic {
        let lines = if spec.ends_with(".txt") && std::path::Path::new(spec).is_file() {
            std::fs::read_to_string(spec).with_context(|| format!("reading {spec}"))?.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect()
        } else {
            // `--group` applies to the files that have that column (the Earnings-21 calls).
            let grouped = match (&args.groups.group, spec.rsplit_once(':')) {
                (Some(g), Some((file, _))) => Table::read(std::path::Path::new(file))?.require(g).is_ok(),
                _ => false,
            };
            cells(spec, &args, grouped)?
        };
        let mut sentences = Vec::new();
        for line in &lines {
            let words: Vec<&str> = line.split_whitespace().collect();
            sentences.extend(scrivo_llm::tagger::chunks(&words).into_iter().map(|r| words[r].join(" ")));
        }
        let mut sentences = spread(sentences, args.limit);
        if args.clean_first {
            sentences = sentences.iter().map(|s| rules.polish(s).map(|p| p.text)).collect::<Result<_, _>>()?;
        }
        for s in sentences.iter().filter(|s| s.split_whitespace().count() >= 3) {
            synth.learn(s);
        }
        let mut n = 0;
        for s in sentences.iter().filter(|s| s.split_whitespace().count() >= 3) {
            let pair = synth.pair(s);
            tsv.push_str(&format!("{}\t{}\tsynthetic\n", clean(&pair.disfluent), clean(&pair.fluent)));
            n += 1;
        }
        counts.push(format!("{n} synthetic pairs from {spec} (seed {})", args.seed));
    }
    scrivo_batch::write_atomically(&args.out, &tsv)?;
    println!("{}; wrote {}", counts.join(", "), args.out.display());
    Ok(0)
}

fn read_pairs(files: &[PathBuf], limit: Option<usize>) -> Result<Vec<(String, String)>> {
    Ok(read_sourced_pairs(files, limit)?.into_iter().map(|(_, d, f)| (d, f)).collect())
}

/// The pairs of `files` in order, each with the index of its file (the order `train lora`
/// numbers them in, so every `--holdout`-th is the same pair for training and tuning).
pub(crate) fn read_sourced_pairs(files: &[PathBuf], limit: Option<usize>) -> Result<Vec<(usize, String, String)>> {
    let mut pairs = Vec::new();
    for (source, path) in files.iter().enumerate() {
        let table = Table::read(path)?;
        table.require("disfluent")?;
        table.require("fluent")?;
        let mut n = 0;
        for row in table.rows() {
            if limit.is_some_and(|l| n >= l) {
                break;
            }
            let (d, f) = (row.get("disfluent")?, row.get("fluent")?);
            if d.contains("#VALUE!") || f.contains("#VALUE!") || d.trim().is_empty() {
                continue;
            }
            pairs.push((source, d.to_owned(), f.to_owned()));
            n += 1;
        }
    }
    if pairs.is_empty() {
        bail!("no usable pairs in {}", files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
    }
    Ok(pairs)
}

fn tagger(args: TaggerArgs, store: &ModelStore) -> Result<i32> {
    let started = Instant::now();
    let data = match &args.features {
        Some(path) if path.is_file() => {
            eprintln!("reading features from {}", path.display());
            Dataset::load(path)?.only_blocks(&args.blocks)?
        }
        _ => {
            let pairs = read_pairs(&args.pairs, args.limit)?;
            let model_path = crate::asr_setup::polishing_model_path(store)?;
            let deepest = args.blocks.iter().copied().max();
            let (model, tokenizer) = scrivo_llm::Model::load_blocks(&model_path, deepest)?;
            let extractor = FeatureExtractor::new(Arc::new(model), Arc::new(tokenizer), args.blocks.clone())?;
            let bar = if std::io::stderr().is_terminal() { ProgressBar::new(pairs.len() as u64) } else { ProgressBar::hidden() };
            bar.set_style(ProgressStyle::with_template("features {wide_bar} {pos}/{len} pairs, eta {eta}").unwrap_or_else(|_| ProgressStyle::default_bar()));
            let data = Dataset::extract(&extractor, &RulePolisher::english(), &pairs, |done| bar.set_position(done as u64))?;
            bar.finish_and_clear();
            eprintln!("features of {} pairs ({} words) in {:.0} s", pairs.len(), data.rows(), started.elapsed().as_secs_f64());
            if let Some(path) = &args.features {
                data.save(path).with_context(|| format!("saving features to {}", path.display()))?;
            }
            data
        }
    };
    let mut data = data;
    for path in &args.also_features {
        eprintln!("adding features from {}", path.display());
        data = data.append(Dataset::load(path)?.only_blocks(&args.blocks)?)?;
    }
    let options = TrainOptions {
        epochs: args.epochs,
        hidden: args.hidden,
        seed: args.seed,
        learning_rate: args.learning_rate,
        weight_decay: args.weight_decay,
        ..TrainOptions::default()
    };
    let verbose = std::io::stderr().is_terminal();
    let (head, figures) = scrivo_llm::train::train(&data, options, |line| {
        if verbose || line.contains("held-out") {
            eprintln!("{line}");
        }
    })?;
    head.save(&args.out)?;
    println!("block  held-out rows  epoch  {DECISION_HEADER}  weighted error  precision  recall");
    for f in &figures {
        println!("{:<6} {:<14} {:<6} {}  {:<15.4} {:<10.3} {:.3}", f.block, f.rows, f.best_epoch, decision_cells(f.decision), f.weighted_error, f.precision, f.recall);
    }
    println!("kept block {} ({}); wrote {} in {:.0} s", head.block, decision_cells(head.decision), args.out.display(), started.elapsed().as_secs_f64());
    Ok(0)
}

fn lora(args: LoraArgs, store: &ModelStore) -> Result<i32> {
    let started = Instant::now();
    let pairs = read_pairs(&args.data, args.limit)?;
    let start = match &args.start_head {
        Some(path) => scrivo_llm::TaggerHead::load(path)?,
        None => scrivo_llm::TaggerHead::frozen()?,
    };
    if start.adapter.is_some() {
        bail!("the starting head already has adapters: start from a head of the frozen model");
    }
    let model_path = crate::asr_setup::polishing_model_path(store)?;
    let (model, tokenizer) = scrivo_llm::Model::load_blocks(&model_path, Some(start.block))?;
    let options = LoraOptions {
        first: args.first_block,
        rank: args.rank,
        alpha: args.alpha,
        learning_rate: args.learning_rate,
        batch: args.batch,
        epochs: args.epochs,
        max_steps: args.max_steps,
        seed: args.seed,
        checkpoint_every: args.checkpoint_every,
        content_budget: args.content_budget,
        ..LoraOptions::default()
    };
    let checkpoint = args.checkpoint.clone().unwrap_or_else(|| scrivo_llm::finetune::checkpoint_path(&args.out));
    eprintln!(
        "fine-tuning blocks {}..={} (rank {}, alpha {}) with the head on {} pairs; checkpoint {}",
        options.first,
        start.block,
        options.rank,
        options.alpha,
        pairs.len(),
        checkpoint.display()
    );
    let bar = if std::io::stderr().is_terminal() { ProgressBar::new(0) } else { ProgressBar::hidden() };
    bar.set_style(ProgressStyle::with_template("lora {wide_bar} {pos}/{len} steps, loss {msg}, eta {eta}").unwrap_or_else(|_| ProgressStyle::default_bar()));
    let (mut window, mut logged) = (std::collections::VecDeque::new(), Instant::now());
    let outcome = scrivo_llm::finetune::train_lora(
        Arc::new(model),
        Arc::new(tokenizer),
        &start,
        &pairs,
        options,
        Some(&checkpoint),
        |step| {
            window.push_back(step.loss);
            if window.len() > 50 {
                window.pop_front();
            }
            let mean = window.iter().sum::<f64>() / window.len() as f64;
            bar.set_length(step.steps as u64);
            bar.set_position(step.step as u64);
            bar.set_message(format!("{mean:.4}"));
            if bar.is_hidden() && (logged.elapsed().as_secs() >= 60 || step.step == step.steps) {
                eprintln!("step {}/{}: loss {mean:.4} (mean of the last {}), lr {:.2e}, {:.0} s", step.step, step.steps, window.len(), step.learning_rate, started.elapsed().as_secs_f64());
                logged = Instant::now();
            }
        },
        |line| eprintln!("{line}"),
    )?;
    bar.finish_and_clear();
    outcome.head.save(&args.out)?;
    let size = std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0);
    println!("held-out pairs: {} (training pairs {}, steps {}, resumed at {})", outcome.held_pairs, outcome.train_pairs, outcome.steps, outcome.resumed_from);
    println!("head            {DECISION_HEADER}  weighted error  precision  recall  loss");
    for (name, d) in [("frozen model", outcome.before), ("with adapters", outcome.after)] {
        println!("{name:<15} {}  {:<15.4} {:<10.3} {:<7.3} {:.4}", decision_cells(d.decision), d.weighted_error, d.precision, d.recall, d.loss);
    }
    println!("wrote {} ({:.1} MB) in {:.0} s", args.out.display(), size as f64 / 1e6, started.elapsed().as_secs_f64());
    Ok(0)
}

pub(crate) const DECISION_HEADER: &str = "threshold  switch  protected  most deleted  rule threshold";

/// A head's decision settings as cells under [`DECISION_HEADER`].
pub(crate) fn decision_cells(d: scrivo_llm::tagger::Decision) -> String {
    let protected = if d.protected_cost.is_finite() { format!("{:.1}", d.protected_cost) } else { "never".into() };
    format!("{:<10.2} {:<7.1} {:<10} {:<13.1} {:<14.2}", d.threshold, d.switch_cost, protected, d.max_deleted, d.rule_threshold)
}

fn average(args: AverageArgs) -> Result<i32> {
    if args.heads.len() < 2 {
        bail!("--head: give two or more heads to average (got {})", args.heads.len());
    }
    let heads = args.heads.iter().map(|p| TaggerHead::load(p).with_context(|| format!("reading {}", p.display()))).collect::<Result<Vec<_>>>()?;
    let mean = TaggerHead::average(&heads)?;
    mean.save(&args.out).with_context(|| format!("writing {}", args.out.display()))?;
    let rank = mean.adapter.as_ref().map_or(0, |a| a.rank);
    println!("wrote {}: the average of {} heads (adapter rank {rank}, head width {})", args.out.display(), heads.len(), mean.b1.dims1()?);
    Ok(0)
}
