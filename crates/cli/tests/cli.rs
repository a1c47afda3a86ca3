//! The `scrivo` binary end to end, on the models `make test` installs in `models/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scrivo(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scrivo")).current_dir(repo()).args(args).output().expect("run scrivo")
}

fn jfk() -> Option<PathBuf> {
    let p = std::env::var_os("SCRIVO_TEST_DATA").map(|d| PathBuf::from(d).join("jfk.wav")).filter(|p| p.is_file());
    if p.is_none() {
        eprintln!("SKIP: SCRIVO_TEST_DATA/jfk.wav missing (`make test` fetches it)");
    }
    p
}

#[test]
fn models_list_shows_every_manifest_entry() {
    let out = scrivo(&["models", "list", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let ids: Vec<&str> = rows.as_array().expect("array").iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(ids, ["whisper-tiny.en", "whisper-tiny.en-q8_0", "whisper-base", "smollm2-135m-instruct"]);
}

#[test]
fn models_check_names_a_bad_file() {
    let dir = std::env::temp_dir().join(format!("scrivo-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let bad = dir.join("broken-model.bin");
    std::fs::write(&bad, b"lmgg\x01\x00").expect("write");
    let out = scrivo(&["models", "check", bad.to_str().expect("utf8")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken-model.bin") && err.contains("truncated"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn transcribe_reports_bad_files_and_finishes_the_rest() {
    let Some(jfk) = jfk() else { return };
    if !repo().join("models/ggml-tiny.en-q8_0.bin").is_file() {
        eprintln!("SKIP: default model not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("scrivo-cli-t-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let bad = dir.join("not-audio.wav");
    std::fs::write(&bad, "hello").expect("write");
    let out = scrivo(&["transcribe", bad.to_str().expect("utf8"), jfk.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(1), "a failed file makes the exit code non-zero");
    let stdout = String::from_utf8_lossy(&out.stdout).to_lowercase();
    assert!(stdout.contains("ask not what your country can do for you"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not-audio.wav") && stderr.contains("not a WAV"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
