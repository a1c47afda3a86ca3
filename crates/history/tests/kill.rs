//! A dictation killed (SIGKILL) at any moment of saving it (audio, then its row, then its
//! text) leaves a history that opens, rows whose audio is whole, and no recording the app
//! cannot show once the history is repaired.

use std::time::Duration;

use scrivo_history::{History, NewEntry, Status};

/// One second of a tone at 16 kHz.
fn recording() -> Vec<f32> {
    (0..16_000).map(|i| (i as f32 * 0.07).sin() * 0.5).collect()
}

#[test]
fn child_dictates_forever() {
    let Some(dir) = scrivo_faults::child_dir() else { return };
    let history = History::open(&dir).expect("open");
    let samples = recording();
    scrivo_faults::ready();
    loop {
        let entry = history.record(&samples, NewEntry { device: Some("test".into()), ..NewEntry::default() }).expect("record");
        history.set_result(entry.id, "um hello there", "Hello there.", &[], Some("tiny.en"), Some("rules")).expect("text");
    }
}

#[test]
fn a_dictation_killed_at_any_moment_leaves_a_history_that_opens_whole() {
    let dir = tempfile::tempdir().expect("tmp");
    let plan = scrivo_faults::Plan { points: 120, span: Duration::from_millis(60), seed: 18, wait_ready: true };
    let report = scrivo_faults::kill_at_points(
        plan,
        || scrivo_faults::child("child_dictates_forever", dir.path()),
        |_| {
            let history = History::open(dir.path()).map_err(|e| e.to_string())?;
            for entry in history.list(usize::MAX).map_err(|e| e.to_string())? {
                let audio = history.read_audio(&entry).map_err(|e| format!("entry {}: {e}", entry.id))?;
                if audio.len() != 16_000 {
                    return Err(format!("entry {}: {} samples, not 16000", entry.id, audio.len()));
                }
                if entry.status == Status::Transcribed && entry.text.as_deref() != Some("Hello there.") {
                    return Err(format!("entry {}: text {:?}", entry.id, entry.text));
                }
            }
            Ok(())
        },
    )
    .expect("every kill recovered");
    assert_eq!(report.recovered, plan.points);

    let history = History::open(dir.path()).expect("open");
    let before = history.list(usize::MAX).expect("list");
    let repair = history.repair(Duration::ZERO).expect("repair");
    let after = history.list(usize::MAX).expect("list");
    eprintln!(
        "history: {} kills, {} recovered; {} entries ({} without text), {} recordings adopted, {} temporaries removed",
        report.kills,
        report.recovered,
        before.len(),
        before.iter().filter(|e| e.status == Status::Recorded).count(),
        repair.adopted,
        repair.removed_temporaries
    );
    assert!(before.len() > 100, "the kills fell among many dictations ({})", before.len());
    assert!(repair.unreadable.is_empty(), "{:?}", repair.unreadable);
    // Every WAV in audio/ is now some entry's, and nothing else is there.
    let mut claimed: Vec<String> = after.iter().map(|e| e.audio_file.clone()).collect();
    claimed.sort();
    let mut on_disk: Vec<String> = std::fs::read_dir(dir.path().join("audio"))
        .expect("audio dir")
        .filter_map(Result::ok)
        .map(|e| format!("audio/{}", e.file_name().to_string_lossy()))
        .collect();
    on_disk.sort();
    assert_eq!(on_disk, claimed);
    assert_eq!(after.len(), before.len() + repair.adopted);
}
