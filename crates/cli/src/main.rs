//! `scrivo`: the command line over the Scrivo library.

mod asr_setup;
mod batch_cmd;
mod bias_cmd;
mod dictate_cmd;
mod eval_bias;
mod eval_cmd;
mod eval_dictation;
mod eval_live;
mod eval_swap;
mod eval_vad;
mod groups;
mod models_cmd;
mod polish_cmd;
mod progress;
mod history_cmd;
mod train_cmd;
mod train_tune;
mod transcribe_cmd;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "scrivo", version, about = "Offline speech to polished text")]
struct Cli {
    /// Where models are installed (default: ./models in a checkout, else the user data dir).
    #[arg(long, global = true, env = "SCRIVO_MODELS_DIR")]
    models_dir: Option<PathBuf>,
    /// More log output (-v, -vv).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List, install, import and check models.
    #[command(subcommand)]
    Models(models_cmd::ModelsCommand),
    /// Transcribe WAV files.
    Transcribe(transcribe_cmd::TranscribeArgs),
    /// Large batches: combine the summaries of shards and resumed runs.
    #[command(subcommand)]
    Batch(batch_cmd::BatchCommand),
    /// Measure Scrivo on a test set (word error rate, speed).
    #[command(subcommand)]
    Eval(eval_cmd::EvalCommand),
    /// Clean up dictated text: remove fillers and repetitions (stdin when no text is given).
    Polish(polish_cmd::PolishArgs),
    /// Biasing lists: your names, products and jargon, spelled your way.
    Bias(bias_cmd::BiasArgs),
    /// The microphones (input devices) there are.
    Devices,
    /// Record from the microphone and print the polished text.
    Dictate(dictate_cmd::DictateArgs),
    /// Past dictations: list, show, re-run, delete.
    History(history_cmd::HistoryArgs),
    /// Train the polishing engine's learned parts.
    #[command(subcommand)]
    Train(train_cmd::TrainCommand),
}

/// glibc's allocator raises its mmap threshold each time a large block is freed, after which
/// model-sized tensors come from the heap and are not given back when a model is unloaded
/// (163 MB stayed resident after unloading both models; with a fixed threshold 73 MB, measured
/// with `scrivo eval dictation`). The threshold is an environment tunable read at start-up,
/// so the process starts itself again once with it set. 4 MB: with 64 KB every activation of
/// a sentence (40 tokens x 576 floats is 90 KB) was a fresh mapping, faulted in page by page
/// and unmapped again, and polishing the dictation set took 69-71 ms p50 instead of 43-44 ms.
/// The idle unload trims the heap (`malloc_trim`), so idle memory is the same (66 MB); under a
/// budget too small for both models each unload for room trims it too (peak 208-210 MB
/// against 194 MB with 64 KB, `--budget-mb 150`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn with_fixed_mmap_threshold() {
    use std::os::unix::process::CommandExt as _;
    const MARK: &str = "SCRIVO_MALLOC_TUNED";
    if std::env::var_os(MARK).is_some() || std::env::var("GLIBC_TUNABLES").is_ok_and(|t| t.contains("mmap_threshold")) {
        return;
    }
    let Ok(exe) = std::env::current_exe() else { return };
    let tunables = match std::env::var("GLIBC_TUNABLES") {
        Ok(t) if !t.is_empty() => format!("{t}:glibc.malloc.mmap_threshold=4194304"),
        _ => "glibc.malloc.mmap_threshold=4194304".to_string(),
    };
    let err = std::process::Command::new(exe).args(std::env::args_os().skip(1)).env("GLIBC_TUNABLES", tunables).env(MARK, "1").exec();
    // Only reached when the exec failed: run as we are.
    eprintln!("note: could not restart with a fixed allocator threshold ({err}); memory may stay high after models unload");
}

fn main() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    with_fixed_mmap_threshold();
    scrivo_llm::settle_thread_count();
    let cli = Cli::parse();
    let level = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("SCRIVO_LOG").unwrap_or_else(|_| level.into()))
        .with_writer(std::io::stderr)
        .without_time()
        .init();
    match run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
}

fn run(cli: Cli) -> Result<i32> {
    let store = models_cmd::open_store(cli.models_dir)?;
    match cli.command {
        Command::Models(cmd) => models_cmd::run(cmd, &store),
        Command::Transcribe(args) => transcribe_cmd::run(args, &store),
        Command::Batch(cmd) => batch_cmd::run(cmd),
        Command::Polish(args) => polish_cmd::run(args, &store),
        Command::Eval(cmd) => eval_cmd::run(cmd, &store),
        Command::Bias(args) => bias_cmd::run(args, &store),
        Command::Devices => dictate_cmd::devices(),
        Command::Dictate(args) => dictate_cmd::dictate(args, &store),
        Command::History(args) => history_cmd::run(args, &store),
        Command::Train(cmd) => train_cmd::run(cmd, &store),
    }
}
