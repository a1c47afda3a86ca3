//! `scrivo transcribe ...`

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use scrivo_asr::{DecodeOptions, Transcriber, WhisperEngine};
use scrivo_models::manifest::Role;
use scrivo_models::store::ModelStore;
use scrivo_polish::{Polisher, RulePolisher};

#[derive(Args)]
pub struct TranscribeArgs {
    /// WAV files to transcribe.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Speech model id (see `scrivo models list`) or a path to a ggml file.
    #[arg(long)]
    pub model: Option<String>,
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Language code, or `auto` (multilingual models).
    #[arg(long, default_value = "en")]
    pub language: String,
    /// Print only the recogniser's raw text.
    #[arg(long)]
    pub no_polish: bool,
}

pub fn run(args: TranscribeArgs, store: &ModelStore) -> Result<i32> {
    let model_path = match &args.model {
        Some(m) if PathBuf::from(m).is_file() => PathBuf::from(m),
        Some(id) => store.installed(id)?,
        None => {
            let entry = store.manifest.default_for(Role::Asr).context("the manifest has no default speech model")?;
            store.installed(&entry.id)?
        }
    };
    let mut engine = WhisperEngine::load(&model_path)?;
    let options = DecodeOptions { threads: args.threads, language: Some(args.language.clone()), ..DecodeOptions::default() };
    let mut polisher = RulePolisher::english();
    let mut failed = 0;
    for input in &args.inputs {
        let result = scrivo_audio::read_wav(input)
            .map_err(anyhow::Error::from)
            .and_then(|audio| engine.transcribe(&audio.samples, &options).map_err(anyhow::Error::from));
        match result {
            Ok(t) if args.no_polish => println!("{}: {}", input.display(), t.text()),
            Ok(t) => {
                let raw = t.text();
                let polished = polisher.polish(&raw)?;
                println!("{}\n  raw:      {raw}\n  polished: {}", input.display(), polished.text);
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                failed += 1;
            }
        }
    }
    Ok(i32::from(failed > 0))
}
