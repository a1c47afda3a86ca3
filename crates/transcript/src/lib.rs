//! Transcript types and the output formats Scrivo writes.
//!
//! [`Transcript`] is what the recogniser returns (timed segments of raw text). A [`Document`]
//! is what a user gets for one recording: the raw text, the polished text and the segments
//! with both, rendered by [`Format::render`] as plain text, JSON, SRT or WebVTT.

mod format;
mod changes;
pub mod partial;

pub use format::{Format, UnknownFormat};
pub use changes::{changes, changes_marked, marks_back, Change, ChangeKind};
pub use partial::{Partial, PrefixAgreement};
use serde::{Deserialize, Serialize};

/// One stretch of recognised speech, times in seconds from the start of the recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub start_seconds: f64,
    pub end_seconds: f64,
    pub text: String,
}

/// The recogniser's output for one clip.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    pub segments: Vec<Segment>,
}

impl Transcript {
    /// All segment texts joined with single spaces.
    pub fn text(&self) -> String {
        join(self.segments.iter().map(|s| s.text.as_str()))
    }
}

/// A segment of a [`Document`]: its times, the raw text and the polished text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentSegment {
    pub start_seconds: f64,
    pub end_seconds: f64,
    pub raw_text: String,
    /// Equal to `raw_text` when polishing is off.
    pub text: String,
}

/// Everything Scrivo knows about one transcribed recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// The recording, as the user named it.
    pub source: String,
    pub duration_seconds: f64,
    /// Speech model id or file name.
    pub asr_model: String,
    /// The polishing engine, `None` when polishing was off.
    pub polisher: Option<String>,
    pub language: String,
    /// The polished text (the raw text when polishing was off).
    pub text: String,
    pub raw_text: String,
    pub segments: Vec<DocumentSegment>,
}

/// Joins non-empty trimmed pieces with single spaces.
pub fn join<'a>(pieces: impl IntoIterator<Item = &'a str>) -> String {
    pieces.into_iter().map(str::trim).filter(|t| !t.is_empty()).collect::<Vec<_>>().join(" ")
}
