//! A list save killed (SIGKILL) at any moment leaves the list whole: the version before or the
//! one being saved, never a mix or a torn file; the backup is whole too; the temporaries a cut
//! save leaves are removed later.

use std::path::Path;
use std::time::Duration;

use scrivo_bias::{store, BiasingList, Entry};

const TERMS: usize = 1_000;

/// Version `v` of the list: every term carries the version, so a mix of two shows.
fn version(v: usize) -> BiasingList {
    let mut list = BiasingList::new("crash test");
    list.entries = (0..TERMS)
        .map(|i| Entry { term: format!("Term{i}v{v}"), sounds_like: vec![format!("term {i} vee {v}")], note: Some(format!("version {v}")) })
        .collect();
    list
}

/// The version a file holds; an error when it is not one whole version.
fn version_of(path: &Path) -> Result<usize, String> {
    let list = store::load(path).map_err(|e| e.to_string())?;
    if list.entries.len() != TERMS {
        return Err(format!("{} holds {} terms, not {TERMS}", path.display(), list.entries.len()));
    }
    let v = list.entries[0].note.clone().unwrap_or_default();
    if list.entries.iter().any(|e| e.note.as_deref() != Some(v.as_str())) {
        return Err(format!("{} mixes versions", path.display()));
    }
    v.trim_start_matches("version ").parse().map_err(|e| format!("{v}: {e}"))
}

#[test]
fn child_saves_the_list_forever() {
    let Some(dir) = scrivo_faults::child_dir() else { return };
    let path = dir.join("crash-test.toml");
    let start = version_of(&path).unwrap_or(0) + 1;
    scrivo_faults::ready();
    for v in start.. {
        store::save(&path, &version(v)).expect("save");
    }
}

#[test]
fn a_save_killed_at_any_moment_leaves_a_whole_list() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("crash-test.toml");
    store::save(&path, &version(0)).expect("first save");
    let mut last = 0;
    let plan = scrivo_faults::Plan { points: 150, span: Duration::from_millis(400), seed: 18, wait_ready: true };
    let report = scrivo_faults::kill_at_points(
        plan,
        || scrivo_faults::child("child_saves_the_list_forever", dir.path()),
        |_| {
            let v = version_of(&path)?;
            if v < last {
                return Err(format!("went back from version {last} to {v}"));
            }
            last = v;
            let backup = store::backup_path(&path);
            if backup.exists() {
                let b = version_of(&backup).map_err(|e| format!("backup: {e}"))?;
                if b > v {
                    return Err(format!("backup holds version {b}, newer than the list's {v}"));
                }
            }
            Ok(())
        },
    )
    .expect("every kill recovered");
    eprintln!("list save: {} kills, {} recovered, last version {last}", report.kills, report.recovered);
    assert_eq!(report.recovered, plan.points);
    assert!(last > 20, "the kills fell among many saves (last version {last})");
    let left = store::remove_abandoned_temporaries(dir.path(), Duration::ZERO);
    let files: Vec<String> = std::fs::read_dir(dir.path()).expect("dir").filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    let mut files = files;
    files.sort();
    assert_eq!(files, ["crash-test.toml", "crash-test.toml.bak"], "{left} temporaries removed");
}
