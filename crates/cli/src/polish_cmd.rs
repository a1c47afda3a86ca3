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

/// Each input word: whether it was kept, the calibrated probability that it should go, and
/// whether that decision was uncertain.
fn words_json(raw: &str, out: &scrivo_polish::Polished) -> serde_json::Value {
    let words: Vec<&str> = raw.split_whitespace().collect();
    words
        .iter()
        .zip(scrivo_polish::word_decisions(out, &words, &scrivo_polish::RulePolisher::english()))
        .map(|(word, d)| {
            serde_json::json!({
                "word": word,
                "kept": !d.removed,
                "p_delete": d.p_delete.map(|p| (p * 1000.0).round() / 1000.0),
                "uncertain": d.uncertain,
            })
        })
        .collect()
}
