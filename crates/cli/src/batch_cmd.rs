//! `scrivo batch merge`: the summaries of a sharded or resumed batch as one.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;
use scrivo_batch::summary::{self, Status, Totals};

#[derive(Subcommand)]
pub enum BatchCommand {
    /// Combine `transcribe --summary` files (one per shard, or several runs of one) into one
    /// line per recording, in path order, and print the totals. A later run's line replaces an
    /// earlier one, except that `skipped` keeps the `done` line of the run that wrote the output.
    /// Exits with 1 when a recording failed or was not finished.
    Merge {
        /// Summary files (JSON lines).
        #[arg(required = true, value_name = "SUMMARY")]
        summaries: Vec<PathBuf>,
        /// Write the merged lines here (atomically) instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

pub fn run(cmd: BatchCommand) -> Result<i32> {
    let BatchCommand::Merge { summaries, out } = cmd;
    let mut records = Vec::new();
    for path in &summaries {
        records.extend(summary::read(path)?);
    }
    let merged = summary::merge(records);
    let mut lines = String::new();
    for r in &merged {
        lines.push_str(&serde_json::to_string(r)?);
        lines.push('\n');
    }
    match &out {
        Some(path) => scrivo_batch::write_atomically(path, &lines)?,
        None => std::io::stdout().lock().write_all(lines.as_bytes())?,
    }
    let t = Totals::of(&merged);
    eprintln!(
        "{} recording(s): {} done, {} skipped (already there), {} failed, {} cancelled; {:.1} s of audio in {:.1} s of worker time.",
        merged.len(),
        t.done,
        t.skipped,
        t.failed,
        t.cancelled,
        t.audio_seconds,
        t.wall_seconds
    );
    for r in merged.iter().filter(|r| matches!(r.status, Status::Failed | Status::Cancelled)) {
        eprintln!("  {:?}: {}", r.status, r.error.as_deref().unwrap_or(&r.input));
    }
    Ok(i32::from(t.failed + t.cancelled > 0))
}
