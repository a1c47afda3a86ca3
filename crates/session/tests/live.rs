//! The live utterance on the real models: jfk.wav fed a second at a time finishes stretches at
//! its pauses, and the final text has every word. Skips (with a notice) without the models or
//! the clip.

use std::path::PathBuf;
use std::sync::Arc;

use scrivo_session::live::LiveUtterance;
use scrivo_session::pipeline::{Finished, Pipeline, PipelineConfig};

fn jfk() -> Option<Vec<f32>> {
    let dir = std::env::var_os("SCRIVO_TEST_DATA").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/scrivo/test-data"));
    let path = dir.join("jfk.wav");
    if !path.is_file() {
        eprintln!("SKIP: {} not found (make test-data)", path.display());
        return None;
    }
    Some(scrivo_audio::read_wav(&path).expect("jfk.wav reads").samples)
}

fn pipeline() -> Option<Pipeline> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models");
    let models = scrivo_session::models_store(Some(dir)).expect("models store");
    let resident = Arc::new(scrivo_models::resident::Resident::new(450 << 20, std::time::Duration::from_secs(300)));
    let config = PipelineConfig { lists: scrivo_session::pipeline::ListChoice { no_bias: true, ..Default::default() }, ..Default::default() };
    match Pipeline::load(&config, &models, resident) {
        Ok(p) => Some(p),
        Err(e) => {
            eprintln!("SKIP: models not installed ({e})");
            None
        }
    }
}

/// `text` in lower case without punctuation or digits.
fn words(text: &str) -> String {
    text.to_lowercase().chars().filter(|c| c.is_alphabetic() || c.is_whitespace()).collect()
}

#[test]
fn jfk_is_finished_at_its_pauses_and_loses_no_word() {
    let (Some(audio), Some(mut pipeline)) = (jfk(), pipeline()) else { return };
    let mut live = LiveUtterance::new();
    let second = scrivo_audio::SAMPLE_RATE as usize;
    let mut partials = Vec::new();
    for end in (second..audio.len()).step_by(second) {
        live.listen(&mut pipeline, &audio[..end]).expect("listen");
        partials.push(live.partial(&mut pipeline, &audio[..end]).expect("partial").text());
    }
    live.listen(&mut pipeline, &audio).expect("listen");
    assert!(live.stretches() >= 1, "JFK pauses for over a second after \"fellow Americans\": no stretch finished");
    assert!(partials.last().is_some_and(|p| p.to_lowercase().contains("fellow americans")), "{partials:?}");
    let Finished { raw, text, .. } = live.finish(&mut pipeline, &audio).expect("finish");
    assert!(words(&raw).contains("ask not what your country can do for you ask what you can do for your country"), "{raw}");
    assert!(words(&text).contains("my fellow americans ask not what your country can do for you"), "{text}");
}

#[test]
fn a_fluent_speaker_is_finished_at_short_pauses() {
    let (Some(audio), Some(mut pipeline)) = (jfk(), pipeline()) else { return };
    // JFK twice with every pause cut to 0.3 s: no pause is long enough for a stretch, but the
    // utterance runs well past the length at which a short pause finishes one.
    let rate = scrivo_audio::SAMPLE_RATE as usize;
    let tight = scrivo_audio::VadSettings { hangover: std::time::Duration::from_millis(100), ..Default::default() };
    let spans = scrivo_audio::speech_spans(&audio, tight);
    assert!(spans.len() >= 2, "jfk.wav's pauses were not found: {spans:?}");
    let mut fluent: Vec<f32> = Vec::new();
    for _ in 0..2 {
        for &(a, b) in &spans {
            fluent.extend(std::iter::repeat_n(0.0f32, 3 * rate / 10));
            fluent.extend_from_slice(&audio[a..b]);
        }
    }
    fluent.extend(std::iter::repeat_n(0.0f32, 3 * rate / 10));
    let mut live = LiveUtterance::new();
    for end in (rate..fluent.len()).step_by(rate) {
        live.listen(&mut pipeline, &fluent[..end]).expect("listen");
    }
    live.listen(&mut pipeline, &fluent).expect("listen");
    assert!(live.stretches() >= 1, "{:.1} s without a pause of 0.5 s: no stretch finished at a short pause", fluent.len() as f64 / rate as f64);
    let raw = live.finish(&mut pipeline, &fluent).expect("finish").raw;
    assert_eq!(words(&raw).matches("what you can do for your country").count(), 2, "{raw}");
}

#[test]
fn finish_marks_the_words_polishing_removed_unsure() {
    let Some(mut pipeline) = pipeline() else { return };
    // The rules take out the number a correction replaces ("two years, no, sorry, three
    // years") where the model would keep it: a removal made without the model's agreement.
    let raw = "We are happy to sign for two years, no, sorry, three years at the current rent.";
    let done = pipeline.finish(raw.to_string()).expect("finish");
    assert!(!done.text.contains("two"), "{}", done.text);
    let words: Vec<&str> = raw.split_whitespace().collect();
    assert_eq!(done.unsure.len(), words.len(), "one flag per raw word: {:?}", done.unsure);
    assert!(done.unsure[6], "\"two\" was removed unsure: {:?}", done.unsure);
    // Only removed words are flagged, and the changes a UI shows carry the flag.
    let changes = scrivo_transcript::changes_marked(&done.raw, &done.text, &done.unsure);
    let unsure: Vec<&scrivo_transcript::Change> = changes.iter().filter(|c| c.unsure).collect();
    assert!(!unsure.is_empty() && unsure.iter().all(|c| c.kind != scrivo_transcript::ChangeKind::Same && c.raw.contains("two")), "{changes:?}");
    // A correction half made: "one, I mean" goes for sure, and of the abandoned "the blue"
    // only "the" (0.80 against "blue"'s 0.77), so the sentence reads "I want blue the red one":
    // the removal is marked.
    let half = pipeline.finish("I want the blue one, I mean the red one.".to_string()).expect("finish");
    let marked: Vec<&str> = half.raw.split_whitespace().zip(&half.unsure).filter(|(_, u)| **u).map(|(w, _)| w).collect();
    assert!(half.text.contains("blue") && !marked.is_empty(), "{half:?}");
    // A marker removed alone, what it corrects kept (the shipped head does this here): "Add a
    // bullet point a numbered list" is marked at the marker.
    let alone = pipeline.finish("Add a bullet point, no, a numbered list.".to_string()).expect("finish");
    let marked: Vec<&str> = alone.raw.split_whitespace().zip(&alone.unsure).filter(|(_, u)| **u).map(|(w, _)| w).collect();
    assert!(alone.text.contains("bullet point a numbered") && marked.contains(&"no,"), "{alone:?}");
    // A fluent sentence has nothing to check.
    let fluent = pipeline.finish("We are happy to sign for three years.".to_string()).expect("finish");
    assert!(fluent.unsure.iter().all(|u| !u), "{fluent:?}");
}
