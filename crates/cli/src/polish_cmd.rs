//! `scrivo polish [TEXT]`

use std::io::Read;

use anyhow::{Context, Result};
use clap::Args;
use scrivo_polish::EditKind;

#[derive(Args)]
pub struct PolishArgs {
    /// The text; read from stdin when absent.
    pub text: Option<String>,
    /// Print the result and every removed span as JSON.
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
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "text": out.text, "edits": edits }))?);
    } else {
        println!("{}", out.text);
    }
    Ok(0)
}
