//! Rendering a [`Document`] as a file.

use std::fmt::Write as _;
use std::str::FromStr;

use crate::{Document, DocumentSegment};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// The polished text, one paragraph.
    Txt,
    /// The whole [`Document`] (raw and polished text, timed segments).
    Json,
    /// SubRip subtitles.
    Srt,
    /// WebVTT subtitles.
    Vtt,
}

#[derive(Debug, thiserror::Error)]
#[error("unknown output format '{0}' (expected txt, json, srt or vtt)")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "txt" | "text" => Ok(Format::Txt),
            "json" => Ok(Format::Json),
            "srt" => Ok(Format::Srt),
            "vtt" | "webvtt" => Ok(Format::Vtt),
            _ => Err(UnknownFormat(s.into())),
        }
    }
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Txt, Format::Json, Format::Srt, Format::Vtt];

    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Txt => "txt",
            Format::Json => "json",
            Format::Srt => "srt",
            Format::Vtt => "vtt",
        }
    }

    pub fn render(self, doc: &Document) -> String {
        match self {
            Format::Txt => {
                let mut s = doc.text.clone();
                s.push('\n');
                s
            }
            Format::Json => {
                // Serialising plain data with string keys cannot fail.
                let mut s = serde_json::to_string_pretty(doc).unwrap_or_default();
                s.push('\n');
                s
            }
            Format::Srt => subtitles(doc, ',', |i, out| {
                let _ = writeln!(out, "{}", i + 1);
            }),
            Format::Vtt => {
                let mut s = String::from("WEBVTT\n\n");
                s.push_str(&subtitles(doc, '.', |_, _| {}));
                s
            }
        }
    }
}

/// Cue blocks: an optional header line per cue, the time line, the text, a blank line.
fn subtitles(doc: &Document, millis_separator: char, header: impl Fn(usize, &mut String)) -> String {
    let mut out = String::new();
    let cues = doc.segments.iter().filter(|s| !s.text.trim().is_empty());
    for (i, seg) in cues.enumerate() {
        header(i, &mut out);
        let (start, end) = cue_times(seg);
        let _ = writeln!(out, "{} --> {}", timestamp(start, millis_separator), timestamp(end, millis_separator));
        let _ = writeln!(out, "{}\n", cue_text(&seg.text));
    }
    out
}

/// Players reject cues that end before they start; give every cue at least 10 ms.
fn cue_times(seg: &DocumentSegment) -> (f64, f64) {
    let start = seg.start_seconds.max(0.0);
    (start, seg.end_seconds.max(start + 0.01))
}

/// A cue's text may not contain a blank line (it ends the cue), a line break other than `\n`
/// (players that take `\r` or U+2028 as one would see a blank line) or the arrow.
fn cue_text(text: &str) -> String {
    let breaks = |c: char| matches!(c, '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{85}' | '\u{2028}' | '\u{2029}');
    let mut text = text.split(breaks).map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n");
    // "--->" would become "-->" again after one pass.
    while text.contains("-->") {
        text = text.replace("-->", "->");
    }
    text
}

/// `HH:MM:SS,mmm` (SRT) or `HH:MM:SS.mmm` (WebVTT).
fn timestamp(seconds: f64, millis_separator: char) -> String {
    let total_ms = (seconds.max(0.0) * 1000.0).round() as u64;
    let (h, rest) = (total_ms / 3_600_000, total_ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, ms) = (rest / 1000, rest % 1000);
    format!("{h:02}:{m:02}:{s:02}{millis_separator}{ms:03}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Document {
        let seg = |a, b, raw: &str, text: &str| DocumentSegment { start_seconds: a, end_seconds: b, raw_text: raw.into(), text: text.into() };
        Document {
            source: "talk.wav".into(),
            duration_seconds: 3725.5,
            asr_model: "whisper-tiny.en".into(),
            polisher: Some("rules".into()),
            language: "en".into(),
            text: "Hello there. Bye.".into(),
            raw_text: "Um, hello there. Bye.".into(),
            segments: vec![seg(0.0, 1.5, "Um, hello there.", "Hello there."), seg(3723.25, 3725.5, "Bye --> now", "Bye --> now"), seg(5.0, 5.0, "", "")],
        }
    }

    #[test]
    fn cue_text_has_no_blank_line_or_arrow_whatever_the_text() {
        // Found by the transcript_writers fuzz target's rules before it ran: "--->" kept an
        // arrow after one replacement, and "\r" or U+2028 made a blank line for some players.
        assert_eq!(cue_text("a --->b"), "a ->b");
        assert_eq!(cue_text("a\r\r b\u{2028}\u{2028}c"), "a\nb\nc");
        assert_eq!(cue_text("---->>"), "->>");
    }

    #[test]
    fn srt_cues_are_numbered_with_comma_millis() {
        let srt = Format::Srt.render(&doc());
        assert_eq!(srt, "1\n00:00:00,000 --> 00:00:01,500\nHello there.\n\n2\n01:02:03,250 --> 01:02:05,500\nBye -> now\n\n");
    }

    #[test]
    fn vtt_has_header_and_dot_millis() {
        let vtt = Format::Vtt.render(&doc());
        assert!(vtt.starts_with("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHello there.\n\n"), "{vtt}");
        assert!(!vtt.contains("\n1\n"));
    }

    #[test]
    fn json_round_trips_and_keeps_raw_text() {
        let json = Format::Json.render(&doc());
        let back: Document = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, doc());
        assert!(json.contains("\"raw_text\": \"Um, hello there. Bye.\""));
    }

    #[test]
    fn txt_is_the_polished_text() {
        assert_eq!(Format::Txt.render(&doc()), "Hello there. Bye.\n");
    }

    #[test]
    fn formats_parse_by_name() {
        assert_eq!("VTT".parse::<Format>().ok(), Some(Format::Vtt));
        assert!("docx".parse::<Format>().expect_err("unknown").to_string().contains("docx"));
        for f in Format::ALL {
            assert_eq!(f.extension().parse::<Format>().ok(), Some(f));
        }
    }

    #[test]
    fn zero_length_cues_get_a_duration() {
        let seg = DocumentSegment { start_seconds: 2.0, end_seconds: 1.0, raw_text: String::new(), text: "x".into() };
        assert_eq!(cue_times(&seg), (2.0, 2.01));
    }
}
