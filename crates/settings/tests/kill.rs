//! A settings save killed (SIGKILL) at any moment leaves the old settings or the new ones,
//! never a file that reads as damaged.

use std::time::Duration;

use scrivo_settings::Settings;

fn version(v: u64) -> Settings {
    Settings { memory_budget_mb: Some(100 + v % 60_000), input_device: Some(format!("device {v}")), ..Settings::default() }
}

#[test]
fn child_saves_settings_forever() {
    let Some(dir) = scrivo_faults::child_dir() else { return };
    let path = dir.join("settings.toml");
    scrivo_faults::ready();
    for v in 1.. {
        version(v).save_to(&path).expect("save");
    }
}

#[test]
fn a_settings_save_killed_at_any_moment_leaves_whole_settings() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("settings.toml");
    version(0).save_to(&path).expect("first save");
    let plan = scrivo_faults::Plan { points: 150, span: Duration::from_millis(30), seed: 18, wait_ready: true };
    let report = scrivo_faults::kill_at_points(
        plan,
        || scrivo_faults::child("child_saves_settings_forever", dir.path()),
        |_| {
            let loaded = Settings::load_from(&path);
            if let Some(problem) = loaded.problem {
                return Err(problem);
            }
            let s = loaded.settings;
            let v = s.memory_budget_mb.unwrap_or(0) - 100;
            if s != version(v) {
                return Err(format!("{s:?} is not a version that was saved"));
            }
            Ok(())
        },
    )
    .expect("every kill recovered");
    let removed = scrivo_models::AtomicFile::remove_abandoned(&path, Duration::ZERO);
    eprintln!("settings: {} kills, {} recovered, {removed} temporaries of cut saves removed", report.kills, report.recovered);
    assert_eq!(report.recovered, plan.points);
    let files: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").filter_map(Result::ok).map(|e| e.file_name()).collect();
    assert_eq!(files, ["settings.toml"]);
}
