//! What the fuzz targets share: a scratch file for the parsers that take a path (the app reads
//! files by path, so that is the entry point fuzzed), and the biasing list the corrector target
//! uses.

use std::path::PathBuf;

/// Writes `data` to `name` in this process's scratch folder (in `/dev/shm` when there is one,
/// so no disk is worn) and returns its path.
pub fn scratch(name: &str, data: &[u8]) -> PathBuf {
    let base = if std::path::Path::new("/dev/shm").is_dir() { PathBuf::from("/dev/shm") } else { std::env::temp_dir() };
    let dir = base.join(format!("scrivo-fuzz-{}", std::process::id()));
    // A fuzz target may panic on its own failures, never on its scratch space being unwritable:
    // that would be reported as a crash of the code under test.
    if std::fs::create_dir_all(&dir).is_err() {
        std::process::exit(2);
    }
    let path = dir.join(name);
    if std::fs::write(&path, data).is_err() {
        std::process::exit(2);
    }
    path
}

/// A small list like a user's: names, jargon, sounds-like spellings, a multi-word term and an
/// acronym.
pub fn sample_entries() -> Vec<scrivo_bias::Entry> {
    let entry = |term: &str, sounds_like: &[&str]| scrivo_bias::Entry {
        term: term.into(),
        sounds_like: sounds_like.iter().map(|s| (*s).into()).collect(),
        note: None,
    };
    vec![
        entry("Kubernetes", &["cube nettys"]),
        entry("Siobhan", &[]),
        entry("Nguyen", &["win"]),
        entry("PostgreSQL", &["postgres sequel"]),
        entry("Anthropic", &[]),
        entry("TensorFlow Lite", &[]),
        entry("NATO", &[]),
        entry("Dvořák", &[]),
    ]
}
