//! The SRT, VTT, JSON and text writers fed any segment text and times: no panic, JSON that
//! reads back, SRT and VTT cues that do not run into each other.
#![no_main]
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use scrivo_transcript::{Document, DocumentSegment, Format};

#[derive(Arbitrary, Debug)]
struct Input {
    source: String,
    duration: f64,
    segments: Vec<(f64, f64, String, String)>,
}

fuzz_target!(|input: Input| {
    let segments: Vec<DocumentSegment> = input
        .segments
        .into_iter()
        .map(|(start_seconds, end_seconds, raw_text, text)| DocumentSegment { start_seconds, end_seconds, raw_text, text })
        .collect();
    let text = scrivo_transcript::join(segments.iter().map(|s| s.text.as_str()));
    let raw_text = scrivo_transcript::join(segments.iter().map(|s| s.raw_text.as_str()));
    let doc = Document {
        source: input.source,
        duration_seconds: input.duration,
        asr_model: "tiny.en".into(),
        polisher: Some("rules".into()),
        language: "en".into(),
        text,
        raw_text,
        segments,
    };
    for format in [Format::Txt, Format::Srt, Format::Vtt, Format::Json] {
        let out = format.render(&doc);
        match format {
            Format::Json => {
                let back: serde_json::Value = serde_json::from_str(&out).expect("JSON output parses");
                assert_eq!(back["text"].as_str(), Some(doc.text.as_str()));
            }
            Format::Srt | Format::Vtt => {
                // One block per cue with text, each with one arrow (its time line) and no other
                // line break than \n: a blank line or a second arrow would end the cue early
                // and turn the rest into garbage for players.
                let body = out.strip_prefix("WEBVTT\n\n").unwrap_or(&out);
                let cues = doc.segments.iter().filter(|s| !s.text.trim().is_empty()).count();
                let blocks: Vec<&str> = body.split("\n\n").filter(|b| !b.is_empty()).collect();
                assert_eq!(blocks.len(), cues, "{out:?}");
                for block in blocks {
                    assert_eq!(block.matches("-->").count(), 1, "{block:?}");
                    assert!(!block.contains(['\r', '\u{2028}', '\u{2029}', '\u{85}', '\u{0b}', '\u{0c}']), "{block:?}");
                }
            }
            _ => {}
        }
    }
});
