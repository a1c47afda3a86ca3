//! `scrivo history`: past dictations (audio, raw and polished text), listed, shown, re-run
//! with another model or list, and deleted.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};
use scrivo_models::store::ModelStore;

use crate::asr_setup::{Pipeline, PipelineArgs};

#[derive(Args)]
pub struct HistoryArgs {
    /// The history folder (default: the user data dir, scrivo/history).
    #[arg(long, env = "SCRIVO_HISTORY_DIR", global = true)]
    pub history_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: HistoryCommand,
}

#[derive(Subcommand)]
pub enum HistoryCommand {
    /// Past dictations, newest first.
    List {
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// One dictation in full.
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Transcribe a dictation's audio again (another model, list or engine) and keep the new text.
    Rerun(RerunArgs),
    /// Delete a dictation and its audio.
    Delete { id: i64 },
}

#[derive(Args)]
pub struct RerunArgs {
    pub id: i64,
    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(|| format!("{ms} ms"), |t| t.format("%Y-%m-%d %H:%M UTC").to_string())
}

fn status(e: &scrivo_history::Entry) -> String {
    serde_json::to_value(e.status).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

pub fn run(args: HistoryArgs, models: &ModelStore) -> Result<i32> {
    let history = crate::dictate_cmd::history(args.history_dir)?;
    match args.command {
        HistoryCommand::List { limit, json } => {
            let entries = history.list(limit)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&entries)?);
                return Ok(0);
            }
            if entries.is_empty() {
                println!("no dictations yet");
            }
            for e in entries {
                let text = e.text.as_deref().or(e.error.as_deref()).unwrap_or("");
                let short: String = text.chars().take(70).collect();
                println!("{:>5}  {}  {:>5.1} s  {:<11}  {short}{}", e.id, when(e.created), e.duration_seconds, status(&e), if text.chars().count() > 70 { "..." } else { "" });
            }
        }
        HistoryCommand::Show { id, json } => {
            let e = history.get(id)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&e)?);
                return Ok(0);
            }
            println!("dictation {} ({}), {:.1} s, {}", e.id, when(e.created), e.duration_seconds, status(&e));
            println!("audio:     {}", history.audio_path(&e).display());
            println!("device:    {}", e.device.as_deref().unwrap_or("default input"));
            println!("models:    {} / {}", e.asr_model.as_deref().unwrap_or("-"), e.polisher.as_deref().unwrap_or("not polished"));
            if let Some(err) = &e.error {
                println!("error:     {err}");
            }
            println!("raw:       {}", e.raw_text.as_deref().unwrap_or(""));
            println!("polished:  {}", e.text.as_deref().unwrap_or(""));
            if let (Some(raw), Some(text)) = (&e.raw_text, &e.text) {
                // The marked removals the text still makes (one the user put back is not listed).
                let unsure: Vec<String> = scrivo_transcript::changes_marked(raw, text, &e.unsure_marks()).into_iter().filter(|c| c.unsure).map(|c| format!("\"{}\"", c.raw)).collect();
                if !unsure.is_empty() {
                    println!("to check:  removed without certainty: {}", unsure.join(", "));
                }
            }
        }
        HistoryCommand::Rerun(r) => {
            let mut pipeline = Pipeline::load(&r.pipeline.config(), models, std::sync::Arc::new(scrivo_session::settings::Settings::load().resident(None)))?;
            let entry = scrivo_session::dictation::rerun(&mut pipeline, &history, r.id)?;
            println!("{}", entry.text.unwrap_or_default());
        }
        HistoryCommand::Delete { id } => {
            history.delete(id)?;
            println!("dictation {id} deleted");
        }
    }
    Ok(0)
}
