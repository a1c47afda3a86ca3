//! `scrivo polish [TEXT]`

use std::io::Read;

use anyhow::{Context, Result};
use clap::Args;
use scrivo_polish::EditKind;

#[derive(Args)]
pub struct PolishArgs {
    /// The text; read from stdin when absent.
    pub text: Option<String>,
    /// Print the result and every removed span as JSON; with the polishing model, also each
    /// word with the calibrated probability that it should go (`p_delete`) and whether the
    /// decision on it was uncertain.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub engine: crate::asr_setup::EngineArgs,
}

pub fn run(args: PolishArgs, models: &scrivo_models::store::ModelStore) -> Result<i32> {
    let text = match args.text {
        Some(t) => t,
        None => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).context("reading text from stdin")?;
            s
        }
    };
    let out = crate::asr_setup::make_polisher(&args.engine, models, &[])?.polish(&text)?;
    if args.json {
        let edits: Vec<_> = out
            .edits
            .iter()
            .map(|e| {
                let reason = match e.kind {
                    EditKind::Filler => "filler",
                    EditKind::Repetition => "repetition",
                    EditKind::Correction => "correction",
                };
                serde_json::json!({ "words": [e.start, e.end], "removed": e.removed, "reason": reason })
            })
            .collect();
        let mut json = serde_json::json!({ "text": out.text, "edits": edits });
        if !out.confidence.is_empty() {
            json["words"] = words_json(&text, &out);
        }
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        println!("{}", out.text);
    }
    Ok(0)
}

/// A decision the model was less sure of than this (the calibrated probability of the side it
/// took) is marked `uncertain`: about one in ten such decisions is wrong.
pub const UNCERTAIN_BELOW: f32 = 0.9;

/// Each input word: whether it was kept, the calibrated probability that it should go, and
/// whether that decision was uncertain.
fn words_json(raw: &str, out: &scrivo_polish::Polished) -> serde_json::Value {
    let n = raw.split_whitespace().count();
    let removed = scrivo_polish::removed_words(&out.edits, n);
    // Interjections go by rule, whatever the model thinks of them.
    let fillers: Vec<&scrivo_polish::Edit> = out.edits.iter().filter(|e| e.kind == EditKind::Filler).collect();
    raw.split_whitespace()
        .zip(removed)
        .enumerate()
        .map(|(i, (word, removed))| {
            let p = out.confidence.get(i).copied().flatten();
            let by_rule = fillers.iter().any(|e| (e.start..e.end).contains(&i));
            let sure = p.filter(|_| !by_rule).map(|p| if removed { p } else { 1.0 - p });
            serde_json::json!({
                "word": word,
                "kept": !removed,
                "p_delete": p.map(|p| (p * 1000.0).round() / 1000.0),
                "uncertain": sure.is_some_and(|s| s < UNCERTAIN_BELOW),
            })
        })
        .collect()
}
