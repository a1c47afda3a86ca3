//! `scrivo history` on a real recording, and the voice activity detector on real speech.

use std::path::{Path, PathBuf};
use std::process::Command;

fn jfk() -> Option<PathBuf> {
    let p = std::env::var_os("SCRIVO_TEST_DATA").map(|d| PathBuf::from(d).join("jfk.wav")).filter(|p| p.is_file());
    if p.is_none() {
        eprintln!("SKIP: SCRIVO_TEST_DATA/jfk.wav missing (`make test` fetches it)");
    }
    p
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scrivo(history: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_scrivo"))
        .current_dir(repo())
        .env("SCRIVO_HISTORY_DIR", history)
        .env("SCRIVO_BIAS_DIR", history.join("no-lists"))
        .args(args)
        .output()
        .expect("run scrivo");
    assert!(out.status.success(), "scrivo {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_recorded_dictation_is_listed_rerun_and_deleted() {
    let Some(wav) = jfk() else { return };
    if !repo().join("models/ggml-tiny.en-q8_0.bin").is_file() {
        eprintln!("SKIP: models/ggml-tiny.en-q8_0.bin not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let audio = scrivo_audio::read_wav(&wav).expect("jfk");
    // As `scrivo dictate` leaves it when transcription never happened: audio, no text.
    let history = scrivo_history::History::open(dir.path()).expect("open");
    let entry = history.record(&audio.samples, scrivo_history::NewEntry::default()).expect("record");
    drop(history);
    let id = entry.id.to_string();
    assert!(scrivo(dir.path(), &["history", "list"]).contains("recorded"));
    let text = scrivo(dir.path(), &["history", "rerun", &id, "--engine", "rules"]);
    assert!(text.to_lowercase().contains("ask not what your country can do for you"), "{text}");
    let shown = scrivo(dir.path(), &["history", "show", &id, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&shown).expect("json");
    assert_eq!(v["status"], "transcribed");
    assert!(v["raw_text"].as_str().expect("raw").contains("fellow Americans"), "{shown}");
    assert_eq!(v["polisher"], "rules");
    let file = dir.path().join(v["audio_file"].as_str().expect("audio"));
    assert!(file.is_file());
    scrivo(dir.path(), &["history", "delete", &id]);
    assert!(!file.exists(), "the audio goes with the entry");
    assert!(scrivo(dir.path(), &["history", "list"]).contains("no dictations yet"));
}

#[test]
fn show_lists_the_unsure_removals_the_text_still_makes() {
    let dir = tempfile::tempdir().expect("dir");
    let history = scrivo_history::History::open(dir.path()).expect("open");
    let entry = history.record(&[0.0; 1_600], scrivo_history::NewEntry::default()).expect("record");
    // "three no sorry at" (raw words 4-7) went without certainty.
    history.set_result(entry.id, "meet at the office at three no sorry at four", "Meet at the office at four.", &[4, 5, 6, 7], None, None).expect("text");
    drop(history);
    let id = entry.id.to_string();
    let shown = scrivo(dir.path(), &["history", "show", &id]);
    assert!(shown.contains("to check:  removed without certainty: \"three no sorry at\""), "{shown}");
    // Put back by the user: nothing is left to check.
    let history = scrivo_history::History::open(dir.path()).expect("open");
    history.set_text(entry.id, "meet at the office at three no sorry at four", "Meet at the office at three no sorry at four.").expect("edit");
    drop(history);
    assert!(!scrivo(dir.path(), &["history", "show", &id]).contains("to check"));
}

#[test]
fn voice_activity_is_found_in_speech_and_not_in_silence() {
    let Some(wav) = jfk() else { return };
    let audio = scrivo_audio::read_wav(&wav).expect("jfk");
    let settings = scrivo_audio::VadSettings::default();
    let mut padded = vec![0.0f32; 32_000];
    padded.extend(&audio.samples);
    padded.extend(vec![0.0f32; 32_000]);
    let spans = scrivo_audio::speech_spans(&padded, settings);
    let (first, last) = (spans.first().expect("speech found").0, spans.last().expect("speech").1);
    assert!(first >= 32_000 && first < 32_000 + 16_000, "speech starts within the clip's first second: {spans:?}");
    assert!(last > padded.len() - 32_000 - 32_000 && last <= padded.len() - 32_000 + 8_000, "speech ends near the clip's end: {spans:?}");
    let trimmed = scrivo_audio::trim_silence(&padded, settings, std::time::Duration::from_millis(300));
    assert!(trimmed.len() < audio.samples.len() + 16_000, "the padding is trimmed: {} of {}", trimmed.len(), padded.len());
}
