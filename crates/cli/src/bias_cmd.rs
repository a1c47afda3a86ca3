//! `scrivo bias ...`: the user's biasing lists.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use scrivo_bias::{store, BiasingList, Entry, Store};
pub use scrivo_session::lists::{corrector, lexicon, lists_for, user_store};
use scrivo_models::store::ModelStore;

#[derive(Args)]
pub struct BiasArgs {
    /// The folder of your lists (default: the user config dir, scrivo/biasing-lists).
    #[arg(long, global = true, env = "SCRIVO_BIAS_DIR")]
    pub lists_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: BiasCommand,
}

#[derive(Subcommand)]
pub enum BiasCommand {
    /// Your lists, with their state and size.
    List,
    /// The entries of one list.
    Show { name: String },
    /// Add a term (or more sounds-like spellings to it); the list is created if needed.
    Add {
        name: String,
        term: String,
        /// A spelling the recogniser writes instead (repeatable).
        #[arg(long = "sounds-like")]
        sounds_like: Vec<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// Remove a term.
    Remove { name: String, term: String },
    /// Use the list when transcribing.
    Enable { name: String },
    /// Keep the list but do not use it.
    Disable { name: String },
    /// Add the terms of a .txt (one per line), .csv (term,sounds_like,note) or .toml file.
    Import { name: String, file: PathBuf },
    /// Write a list as .txt, .csv or .toml (an existing file only with --force).
    Export {
        name: String,
        file: PathBuf,
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Check list files (default: all of yours); every problem with its line and column.
    Check { files: Vec<PathBuf> },
    /// Correct text with the enabled lists (stdin when no text is given) and show each change.
    Apply {
        text: Option<String>,
        /// Use this list (a name or a .toml file) instead of the enabled ones (repeatable).
        #[arg(long = "list")]
        lists: Vec<String>,
        #[command(flatten)]
        context: ContextArgs,
        /// Also list every sound-alike candidate scoring at least 0.5, with the guard it met,
        /// the context check's verdict and whether it was made (on stderr; in `--json` as
        /// `candidates`).
        #[arg(long)]
        explain: bool,
        #[arg(long)]
        json: bool,
    },
}

/// The lowest score `--explain` lists.
pub const EXPLAIN_MIN_SCORE: f64 = 0.5;

/// Whether sound-alike changes are checked against their context by the polishing model.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ContextArgs {
    /// Judge biasing-list sound-alikes by the matcher's guards alone, without the polishing
    /// model's context check (on whenever the polishing model is installed).
    #[arg(long)]
    pub no_bias_context: bool,
}

impl ContextArgs {
    /// The context scorer, unless turned off; `None` with a warning when the polishing model
    /// is not installed.
    pub fn scorer(&self, models: &ModelStore) -> Result<Option<scrivo_llm::ContextScorer>> {
        if self.no_bias_context {
            return Ok(None);
        }
        Ok(scrivo_session::lists::context_scorer(models)?)
    }
}


fn read_text(text: Option<String>) -> Result<String> {
    match text {
        Some(t) => Ok(t),
        None => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).context("reading stdin")?;
            Ok(s)
        }
    }
}

fn modify(store: &Store, name: &str, change: impl FnOnce(&mut BiasingList) -> Result<String>) -> Result<i32> {
    let (path, mut list) = store.get_or_new(name)?;
    let message = change(&mut list)?;
    store::save(&path, &list)?;
    println!("{message} ({})", path.display());
    Ok(0)
}

pub fn run(args: BiasArgs, models: &ModelStore) -> Result<i32> {
    let store = user_store(args.lists_dir);
    match args.command {
        BiasCommand::List => {
            let all = store.all()?;
            if all.is_empty() {
                println!("no biasing lists in {} (add one with `scrivo bias add NAME TERM`)", store.dir().display());
            }
            for (path, list) in all {
                match list {
                    Ok(l) => println!("{:<24} {:<8} {:>5} terms  {}", l.name, if l.enabled { "enabled" } else { "off" }, l.entries.len(), path.display()),
                    Err(e) => println!("{:<24} {:<8} {:>5}        {}\n  {e}", "?", "broken", "", path.display()),
                }
            }
            Ok(0)
        }
        BiasCommand::Show { name } => {
            let (path, list) = store.get(&name)?;
            println!("{} ({}, {}, {} terms) {}", list.name, if list.enabled { "enabled" } else { "off" }, list.language, list.entries.len(), path.display());
            for e in &list.entries {
                let sounds = if e.sounds_like.is_empty() { String::new() } else { format!("  sounds like: {}", e.sounds_like.join(", ")) };
                let note = e.note.as_deref().map(|n| format!("  ({n})")).unwrap_or_default();
                println!("  {}{sounds}{note}", e.term);
            }
            Ok(0)
        }
        BiasCommand::Add { name, term, sounds_like, note } => modify(&store, &name, |list| {
            if scrivo_bias::list::fold(&term).is_empty() {
                bail!("the term {term:?} is empty: it needs a letter or digit");
            }
            let changed = list.add(Entry { term: term.trim().to_string(), sounds_like, note });
            Ok(if changed { format!("{term:?} saved in {:?}", list.name) } else { format!("{term:?} was already in {:?}", list.name) })
        }),
        BiasCommand::Remove { name, term } => {
            let (path, mut list) = store.get(&name)?;
            if !list.remove(&term) {
                bail!("{term:?} is not in {:?} ({})", list.name, path.display());
            }
            store::save(&path, &list)?;
            println!("{term:?} removed from {:?} ({})", list.name, path.display());
            Ok(0)
        }
        BiasCommand::Enable { name } => set_enabled(&store, &name, true),
        BiasCommand::Disable { name } => set_enabled(&store, &name, false),
        BiasCommand::Import { name, file } => {
            let entries = store::import(&file)?;
            modify(&store, &name, |list| {
                let n = entries.len();
                let added = entries.into_iter().filter(|e| list.add(e.clone())).count();
                Ok(format!("{added} of {n} terms from {} added to {:?}", file.display(), list.name))
            })
        }
        BiasCommand::Export { name, file, force } => {
            let (_, list) = store.get(&name)?;
            store::export(&list, &file, force)?;
            println!("{} terms written to {}", list.entries.len(), file.display());
            Ok(0)
        }
        BiasCommand::Check { files } => {
            let results: Vec<store::Loaded> =
                if files.is_empty() { store.all()? } else { files.into_iter().map(|f| (f.clone(), store::load(&f))).collect() };
            let mut bad = 0;
            for (path, r) in results {
                match r {
                    Ok(l) => println!("ok      {} ({} terms)", path.display(), l.entries.len()),
                    Err(e) => {
                        bad += 1;
                        println!("{e}");
                    }
                }
            }
            Ok(i32::from(bad > 0))
        }
        BiasCommand::Apply { text, lists, context, explain, json } => {
            let lists = lists_for(&store, &lists)?;
            let text = read_text(text)?;
            let text = text.trim_end_matches('\n');
            let corrector = corrector(&lists, lexicon(models));
            let scorer = if corrector.is_empty() { None } else { context.scorer(models)? };
            let model = scorer.as_ref().map(|s| s as &dyn scrivo_bias::ContextModel);
            let (corrected, candidates) = if explain { corrector.explain(text, model, EXPLAIN_MIN_SCORE) } else { (corrector.apply_with(text, model), Vec::new()) };
            if json {
                let mut value = serde_json::to_value(&corrected)?;
                if explain {
                    value["candidates"] = serde_json::to_value(&candidates)?;
                }
                println!("{}", serde_json::to_string_pretty(&value)?);
            } else {
                println!("{}", corrected.text);
                for c in &corrected.changes {
                    eprintln!("  {:?} -> {:?} ({:?}, score {:.2}, bytes {}..{})", c.original, c.term, c.kind, c.score, c.start, c.end);
                }
                if explain {
                    eprintln!("sound-alike candidates ({}):", candidates.len());
                }
                for c in &candidates {
                    let context = c.context.map_or(String::new(), |d| format!(", context {d:+.1}"));
                    let verdict = if c.chosen { "made" } else if c.kept { "kept, overlapped by a better one" } else { "not made" };
                    eprintln!("  {:?} -> {:?}: score {:.2}, needs {:.2} ({:?}){context}: {verdict}", c.original, c.term, c.score, c.needed, c.guard);
                }
            }
            Ok(0)
        }
    }
}

fn set_enabled(store: &Store, name: &str, enabled: bool) -> Result<i32> {
    let (path, mut list) = store.get(name)?;
    list.enabled = enabled;
    store::save(&path, &list)?;
    println!("{:?} {} ({})", list.name, if enabled { "enabled" } else { "disabled" }, path.display());
    Ok(0)
}
