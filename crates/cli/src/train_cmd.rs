//! `scrivo train tagger`: trains the polishing tagger's head on disfluent/fluent pairs.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use scrivo_eval::Table;
use scrivo_llm::train::{Dataset, TrainOptions};
use scrivo_llm::tagger::FeatureExtractor;
use scrivo_models::store::ModelStore;
use scrivo_polish::RulePolisher;

#[derive(Subcommand)]
pub enum TrainCommand {
    /// Train the keep/delete head of the polishing tagger.
    Tagger(TaggerArgs),
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
        TrainCommand::Tagger(args) => tagger(args, store),
    }
}

fn read_pairs(args: &TaggerArgs) -> Result<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    for path in &args.pairs {
        let table = Table::read(path)?;
        table.require("disfluent")?;
        table.require("fluent")?;
        let mut n = 0;
        for row in table.rows() {
            if args.limit.is_some_and(|l| n >= l) {
                break;
            }
            let (d, f) = (row.get("disfluent")?, row.get("fluent")?);
            if d.contains("#VALUE!") || f.contains("#VALUE!") || d.trim().is_empty() {
                continue;
            }
            pairs.push((d.to_owned(), f.to_owned()));
            n += 1;
        }
    }
    if pairs.is_empty() {
        bail!("no usable pairs in {}", args.pairs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
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
            let pairs = read_pairs(&args)?;
            let model_path = crate::asr_setup::polishing_model_path(store)?;
            let (model, tokenizer) = scrivo_llm::Model::load(&model_path)?;
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
    println!("block  held-out rows  epoch  threshold  switch cost  weighted error  precision  recall");
    for f in &figures {
        println!(
            "{:<6} {:<14} {:<6} {:<10.2} {:<12.1} {:<15.4} {:<10.3} {:.3}",
            f.block, f.rows, f.best_epoch, f.threshold, f.switch_cost, f.weighted_error, f.precision, f.recall
        );
    }
    println!(
        "kept block {} (threshold {:.2}, switch cost {:.1}); wrote {} in {:.0} s",
        head.block,
        head.threshold,
        head.switch_cost,
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(0)
}
