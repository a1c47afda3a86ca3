//! The `scrivo` binary end to end, on the models `make test` installs in `models/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs scrivo with no biasing lists of the user's (an empty lists folder).
fn scrivo(args: &[&str]) -> Output {
    let no_lists = std::env::temp_dir().join("scrivo-tests-no-biasing-lists");
    Command::new(env!("CARGO_BIN_EXE_scrivo")).current_dir(repo()).env("SCRIVO_BIAS_DIR", no_lists).args(args).output().expect("run scrivo")
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

/// Whether `models/FILE` is installed; prints a skip notice when it is not.
fn model_installed(file: &str) -> bool {
    let ok = repo().join("models").join(file).is_file();
    if !ok {
        eprintln!("SKIP: models/{file} not installed (`make test` installs it)");
    }
    ok
}

fn default_model_installed() -> bool {
    model_installed("ggml-tiny.en-q8_0.bin")
}

#[test]
fn transcribe_reports_bad_files_and_finishes_the_rest() {
    let Some(jfk) = jfk() else { return };
    if !default_model_installed() {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(inbox.join("sub")).expect("dir");
    std::fs::copy(&jfk, inbox.join("jfk.wav")).expect("copy");
    std::fs::copy(&jfk, inbox.join("sub/again.wav")).expect("copy");
    std::fs::write(inbox.join("not-audio.wav"), "hello").expect("write");
    let out_dir = dir.path().join("out");
    let out = scrivo(&["transcribe", inbox.to_str().expect("utf8"), "--format", "json", "--out", out_dir.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(1), "a failed file makes the exit code non-zero");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not-audio.wav") && stderr.contains("not a WAV"), "{stderr}");
    assert!(stderr.contains("Transcribed 2 of 3"), "{stderr}");
    for name in ["jfk.json", "sub/again.json"] {
        let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out_dir.join(name)).expect(name)).expect("json");
        let raw = doc["raw_text"].as_str().expect("raw_text").to_lowercase();
        assert!(raw.contains("ask not what your country can do for you"), "{raw}");
        let seg = &doc["segments"][0];
        assert!(seg["start_seconds"].as_f64().expect("start") < seg["end_seconds"].as_f64().expect("end"));
        assert!(doc["text"].as_str().expect("text").starts_with("And so"), "{doc}");
    }
    assert!(!out_dir.join("not-audio.json").exists());
    // Inputs are untouched.
    assert_eq!(std::fs::read(inbox.join("not-audio.wav")).expect("read"), b"hello");
}

#[test]
fn transcribe_writes_subtitles_beside_the_input_or_to_stdout() {
    let Some(jfk) = jfk() else { return };
    if !default_model_installed() {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let wav = dir.path().join("speech.wav");
    std::fs::copy(&jfk, &wav).expect("copy");
    let out = scrivo(&["transcribe", wav.to_str().expect("utf8"), "--format", "srt"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let srt = std::fs::read_to_string(dir.path().join("speech.srt")).expect("srt beside the input");
    assert!(srt.starts_with("1\n00:00:0"), "{srt}");
    assert!(srt.contains(" --> "), "{srt}");

    let out = scrivo(&["transcribe", "--out", "-", "--format", "vtt", wav.to_str().expect("utf8")]);
    assert!(out.status.success());
    let vtt = String::from_utf8_lossy(&out.stdout);
    assert!(vtt.starts_with("WEBVTT\n\n00:00:0"), "{vtt}");
    assert!(vtt.to_lowercase().contains("ask not what your country"), "{vtt}");

    // Polished with the whole recording as context: the second segment alone ("ask what you
    // can do for your country.") looks like a false start, and its "ask" must stay.
    let out = scrivo(&["transcribe", "--out", "-", wav.to_str().expect("utf8")]);
    assert!(out.status.success());
    let txt = String::from_utf8_lossy(&out.stdout);
    assert!(txt.contains("can do for you ask what you can do for your country"), "{txt}");
}

#[test]
fn eval_asr_scores_a_manifest() {
    let Some(jfk) = jfk() else { return };
    if !default_model_installed() {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    std::fs::copy(&jfk, dir.path().join("jfk.wav")).expect("copy");
    let manifest = dir.path().join("m.tsv");
    let reference = "And so my fellow Americans ask not what your country can do for you ask what you can do for your country";
    std::fs::write(&manifest, format!("file\treference\tset\njfk.wav\t{reference}\tjfk\n")).expect("write");
    let out = scrivo(&["eval", "asr", "--manifest", manifest.to_str().expect("utf8"), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(r["files"], 1);
    assert!(r["wer"].as_f64().expect("wer") < 0.1, "{r}");
    assert!((r["audio_seconds"].as_f64().expect("audio") - 11.0).abs() < 0.1, "{r}");
    assert!(r["wall_seconds"].as_f64().expect("wall") > 0.0);
    assert!(r["per_set"]["jfk"]["files"] == 1, "{r}");

    // Scoring another engine's hypotheses uses the same normaliser: digits equal words.
    let hyps = dir.path().join("h.tsv");
    std::fs::write(&hyps, "file\thypothesis\njfk.wav\tand so my fellow americans ask not what your country can do for you ask what you can do for your country\n").expect("write");
    let out = scrivo(&["eval", "asr", "--manifest", manifest.to_str().expect("utf8"), "--hypotheses", hyps.to_str().expect("utf8"), "--json"]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(r["wer"].as_f64(), Some(0.0), "{r}");
}

#[test]
fn eval_asr_on_the_shared_manifest() {
    let manifest = repo().join("../shared/eval/asr/manifest.tsv");
    if !manifest.is_file() {
        eprintln!("SKIP: ../shared/eval/asr/manifest.tsv not found");
        return;
    }
    if !default_model_installed() {
        return;
    }
    let out = scrivo(&["eval", "asr", "--manifest", manifest.to_str().expect("utf8"), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(r["files"], 32);
    // faster-whisper tiny.en int8 scores 4.32% here with the same normaliser (make bench).
    assert!(r["wer"].as_f64().expect("wer") < 0.0532, "WER within 1 point of faster-whisper: {r}");
}

#[test]
fn eval_polish_and_fillers_report_their_measures() {
    let dir = tempfile::tempdir().expect("dir");
    let pairs = dir.path().join("pairs.tsv");
    std::fs::write(
        &pairs,
        "id\tdisfluent\tfluent\n1\tmove it to Tuesday, no, Wednesday\tmove it to Wednesday\n2\tbroken #VALUE!\tx\n3\tum I I think so\tI think so\n",
    )
    .expect("write");
    let out = scrivo(&["eval", "polish", "--pairs", pairs.to_str().expect("utf8"), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!((r["pairs"].as_u64(), r["skipped"].as_u64()), (Some(2), Some(1)), "{r}");
    assert_eq!(r["wer_to_fluent"].as_f64(), Some(0.0), "{r}");
    assert!(r["identity_wer"].as_f64().expect("identity") > 0.3, "{r}");
    assert_eq!(r["inserted_words"], 0);
    assert_eq!(r["exact_match"].as_f64(), Some(1.0));

    let turns = dir.path().join("turns.tsv");
    std::fs::write(&turns, "turn\ttext_verbatim\n0\tUm, we uh grew revenue, uh, by 10%.\n").expect("write");
    let out = scrivo(&["eval", "fillers", "--turns", turns.to_str().expect("utf8"), "--json"]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(r["um_uh_removed"].as_f64(), Some(1.0), "{r}");
    assert_eq!(r["other_words_kept"].as_f64(), Some(1.0), "{r}");

    // A repetition and "you know" dropped are told apart from lost words.
    std::fs::write(&turns, "turn\ttext_verbatim\n0\tUm, we, we grew revenue, you know, by 10%.\n").expect("write");
    let out = scrivo(&["eval", "fillers", "--turns", turns.to_str().expect("utf8"), "--engine", "rules", "--json"]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!((r["dropped_repeated"].as_u64(), r["dropped_phrase"].as_u64()), (Some(1), Some(2)), "{r}");
    assert!(r["other_words_kept"].as_f64().expect("kept") < 1.0, "{r}");
    assert_eq!(r["other_words_kept_or_disfluent"].as_f64(), Some(1.0), "{r}");

    // Only the calls left unseen by `train data --every 2 --offset 0`, every second turn.
    std::fs::write(&turns, "call_id\ttext_verbatim\nA\tUm, seen.\nB\tUh, one.\nB\tUm, two.\nB\tUh, three.\nC\tUm, seen too.\n").expect("write");
    let out = scrivo(&["eval", "fillers", "--turns", turns.to_str().expect("utf8"), "--group", "call_id", "--every", "2", "--offset", "1", "--stride", "2", "--engine", "rules", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!((r["turns"].as_u64(), r["other_in"].as_u64()), (Some(2), Some(2)), "{r}");
}

#[test]
fn eval_polish_on_disfl_qa_invents_nothing() {
    let pairs = repo().join("../shared/eval/text/disfl-qa.dev.tsv");
    if !pairs.is_file() {
        eprintln!("SKIP: ../shared/eval/text/disfl-qa.dev.tsv not found");
        return;
    }
    let out = scrivo(&["eval", "polish", "--pairs", pairs.to_str().expect("utf8"), "--json"]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(r["inserted_words"], 0, "{r}");
    assert!(r["content_words_lost"].as_f64().expect("lost") <= 0.02, "{r}");
    assert!(r["wer_to_fluent"].as_f64().expect("wer") < r["identity_wer"].as_f64().expect("identity"), "{r}");
}

/// The 200 dictation-style pairs written for the test suite (`tests/polish/`): the shipped
/// style invents nothing and loses at most 1% of their content words.
#[test]
fn eval_polish_on_the_dictation_set_keeps_content() {
    if !polishing_model_installed() {
        return;
    }
    let pairs = repo().join("tests/polish/dictation.tsv");
    let out = scrivo(&["eval", "polish", "--pairs", pairs.to_str().expect("utf8"), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(r["pairs"], 200, "{r}");
    assert_eq!(r["inserted_words"], 0, "{r}");
    assert!(r["content_words_lost"].as_f64().expect("lost") <= 0.01, "{r}");
    assert!(r["wer_to_fluent"].as_f64().expect("wer") < r["identity_wer"].as_f64().expect("identity"), "{r}");
}

fn polishing_model_installed() -> bool {
    model_installed("smollm2-135m-instruct-q8_0.gguf")
}

#[test]
fn train_data_makes_identity_and_rule_target_pairs_from_chosen_groups() {
    let dir = tempfile::tempdir().expect("dir");
    let turns = dir.path().join("turns.tsv");
    std::fs::write(
        &turns,
        "call_id\ttext_verbatim\nA\tUm, we we grew. Revenue rose.\nA\tThanks.\nB\tThis call is unseen.\nC\tUh, margins, uh, held.\n",
    )
    .expect("write");
    let questions = dir.path().join("q.tsv");
    std::fs::write(&questions, "id\tfluent\n1\tWhat is it?\n2\t#VALUE!\n").expect("write");
    let out_path = dir.path().join("pairs.tsv");
    let spec = |p: &Path, c: &str| format!("{}:{c}", p.display());
    let out = scrivo(&[
        "train", "data", "--identity", &spec(&questions, "fluent"), "--rules-target", &spec(&turns, "text_verbatim"),
        "--group", "call_id", "--every", "2", "--out", out_path.to_str().expect("utf8"),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let tsv = std::fs::read_to_string(&out_path).expect("read");
    let lines: Vec<&str> = tsv.lines().collect();
    // Grouping applies to the transcripts only: call B (group 1) is left out.
    assert_eq!(
        lines,
        vec![
            "disfluent\tfluent\tsource",
            "What is it?\tWhat is it?\tidentity",
            "Um, we we grew.\tWe grew.\trules",
            "Revenue rose.\tRevenue rose.\trules",
            "Thanks.\tThanks.\trules",
            "Uh, margins, uh, held.\tMargins held.\trules",
        ],
        "{tsv}"
    );
}

#[test]
fn tune_names_a_misspelt_rule_before_any_work() {
    let dir = tempfile::tempdir().expect("dir");
    let missing = dir.path().join("missing.safetensors");
    let out = scrivo(&[
        "train", "tune", "--head", missing.to_str().expect("utf8"), "--data", "no.tsv", "--out", "out.safetensors", "--show-rule", "restarts",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no fixed rule is named \"restarts\"") && err.contains("restarted phrases go"), "{err}");
}

#[test]
fn train_data_makes_seeded_synthetic_pairs_whose_fluent_side_is_the_input() {
    let dir = tempfile::tempdir().expect("dir");
    let text = dir.path().join("corpus.txt");
    std::fs::write(&text, "We can meet on Wednesday at the office.\nThe quarterly report goes to Maria before Friday. Send twelve copies to the team.\n").expect("write");
    let run = |seed: &str, name: &str| {
        let out_path = dir.path().join(name);
        let out = scrivo(&["train", "data", "--synthetic", text.to_str().expect("utf8"), "--seed", seed, "--out", out_path.to_str().expect("utf8")]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        std::fs::read_to_string(&out_path).expect("read")
    };
    let (a, b, c) = (run("3", "a.tsv"), run("3", "b.tsv"), run("4", "c.tsv"));
    assert_eq!(a, b, "the same seed gives the same pairs");
    assert_ne!(a, c, "another seed gives other pairs");
    let rows: Vec<Vec<&str>> = a.lines().skip(1).map(|l| l.split('\t').collect()).collect();
    let fluent: Vec<&str> = rows.iter().map(|r| r[1]).collect();
    assert_eq!(fluent, ["We can meet on Wednesday at the office.", "The quarterly report goes to Maria before Friday.", "Send twelve copies to the team."]);
    for r in &rows {
        assert_ne!(r[0], r[1], "every pair has a disfluency: {r:?}");
        assert_eq!(r[2], "synthetic");
    }
}

#[test]
fn train_tagger_writes_a_head_that_polishes() {
    let pairs = repo().join("../shared/eval/text/disfl-qa.train.tsv");
    if !pairs.is_file() || !polishing_model_installed() {
        eprintln!("SKIP: ../shared/eval/text/disfl-qa.train.tsv or the polishing model missing");
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let head = dir.path().join("head.safetensors");
    let out = scrivo(&[
        "train", "tagger", "--pairs", pairs.to_str().expect("utf8"), "--limit", "40", "--blocks", "6", "--epochs", "2", "--out",
        head.to_str().expect("utf8"),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("kept block 6"), "{report}");
    let out = scrivo(&["polish", "--engine", "tagger", "--tagger-head", head.to_str().expect("utf8"), "um so we we ship it"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.to_lowercase().contains("um "), "{text}");

    // Its settings chosen on folds of its held-out pairs: the tuned head polishes, and a second
    // run reads the saved logits instead of the model and chooses the same.
    let (tuned, logits) = (dir.path().join("tuned.safetensors"), dir.path().join("logits.txt"));
    let tune = || {
        scrivo(&[
            "train", "tune", "--head", head.to_str().expect("utf8"), "--data", pairs.to_str().expect("utf8"), "--holdout", "200", "--folds", "2",
            "--logits", logits.to_str().expect("utf8"), "--out", tuned.to_str().expect("utf8"),
        ])
    };
    let out = tune();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let first = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(first.contains("temperature") && first.contains("chosen: budget") && first.contains("out-of-fold"), "{first}");
    assert_eq!(std::fs::read_to_string(&logits).expect("logits").lines().count(), 36, "every 200th of the 7,163 pairs");
    let again = tune();
    assert_eq!(String::from_utf8_lossy(&again.stdout).lines().filter(|l| !l.starts_with("wrote")).collect::<Vec<_>>(), first.lines().filter(|l| !l.starts_with("wrote")).collect::<Vec<_>>());
    let out = scrivo(&["polish", "--engine", "tagger", "--tagger-head", tuned.to_str().expect("utf8"), "--json", "um so we we ship it"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let words = r["words"].as_array().expect("words");
    assert_eq!(words.len(), 6, "{r}");
    assert_eq!((words[0]["word"].as_str(), words[0]["kept"].as_bool(), words[0]["uncertain"].as_bool()), (Some("um"), Some(false), Some(false)), "an interjection goes by rule: {r}");
    assert!(words.iter().all(|w| w["p_delete"].as_f64().is_some_and(|p| (0.0..=1.0).contains(&p))), "{r}");

    let bad = dir.path().join("not-a-head.safetensors");
    std::fs::write(&bad, b"nonsense").expect("write");
    let out = scrivo(&["polish", "--engine", "tagger", "--tagger-head", bad.to_str().expect("utf8"), "hello"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not-a-head.safetensors") && err.contains("not a tagger head"), "{err}");
}

/// Both default models through the model manager: with room for both they stay; with a
/// budget for one, the speech model is unloaded to make room for the polishing model.
#[test]
fn models_status_loads_both_models_within_the_budget() {
    if !default_model_installed() || !polishing_model_installed() {
        return;
    }
    let run = |budget: &str| -> serde_json::Value {
        let out = scrivo(&["models", "status", "--budget-mb", budget, "--json"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("json")
    };
    let roomy = run("450");
    let ids = |v: &serde_json::Value| -> Vec<String> { v["status"]["models"].as_array().expect("models").iter().map(|m| m["id"].as_str().expect("id").to_owned()).collect() };
    assert_eq!(ids(&roomy), ["smollm2-135m-instruct", "whisper-tiny.en-q8_0"]);
    assert!(roomy["status"]["resident_bytes"].as_u64().expect("bytes") > 100 << 20, "{roomy}");
    let tight = run("200");
    assert_eq!(ids(&tight), ["smollm2-135m-instruct"]);
    let events = tight["events"].as_array().expect("events");
    assert!(events.iter().any(|e| e["event"] == "unloaded" && e["id"] == "whisper-tiny.en-q8_0" && e["reason"] == "budget"), "{tight}");
}
