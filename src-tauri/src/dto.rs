//! What crosses between Rust and the page: every command's arguments and results and every
//! event's payload. ts-rs writes each as a TypeScript type into `ui/src/bindings/` (run
//! `cargo test -p scrivo-app`; a test fails when the committed files are out of date), and
//! `ui/src/api.ts` names the commands and events over them.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

macro_rules! dto {
    ($($item:item)*) => {
        $(
            #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
            #[serde(rename_all = "camelCase")]
            #[ts(export)]
            $item
        )*
    };
}

dto! {
    pub struct AppInfo {
        pub version: String,
        /// What the user should know from the start: a damaged settings file or history
        /// database kept aside, recordings found again. Shown as banners until dismissed.
        pub notices: Vec<String>,
    }

    pub enum ChangeKind { Same, Removed, Inserted, Replaced }

    /// One stretch of a text against the text it came from (word level).
    pub struct Change {
        pub kind: ChangeKind,
        pub raw: String,
        pub polished: String,
        /// A removal worth a second look (polishing was not sure of it, or of a word beside
        /// it): marked, so the user looks before sending.
        pub unsure: bool,
    }

    pub enum DictationPhase { Idle, Loading, Recording, Transcribing, Error }

    pub struct DictationState {
        pub phase: DictationPhase,
        pub message: Option<String>,
    }

    /// The input level, 0..1, about 20 times a second while recording.
    pub struct Level {
        pub rms: f32,
        pub peak: f32,
    }

    pub struct Partial {
        pub committed: String,
        pub tentative: String,
        pub seconds_since_speech: f64,
    }

    pub enum StopReason { Stopped, Silence, TimeLimit, DeviceLost }

    pub struct DictationResult {
        #[ts(type = "number")]
        pub history_id: i64,
        pub raw: String,
        pub text: String,
        pub changes: Vec<Change>,
        pub seconds: f64,
        #[ts(type = "number")]
        pub latency_ms: u64,
        pub stop_reason: StopReason,
        pub warning: Option<String>,
    }

    pub struct DictationOptions {
        pub hands_free: bool,
    }

    pub enum PasteMethod { Xdotool, Wtype, Clipboard }

    pub struct PasteOutcome {
        pub method: PasteMethod,
        pub message: String,
    }

    pub enum OutputFormat { Txt, Srt, Vtt, Json }

    pub struct BatchFile {
        pub path: String,
        pub name: String,
        #[ts(type = "number")]
        pub bytes: u64,
    }

    pub struct BatchRequest {
        pub files: Vec<String>,
        pub format: OutputFormat,
        pub out_dir: Option<String>,
        pub polish: bool,
    }

    pub enum BatchFileState { Queued, Running, Done, Failed, Cancelled }

    pub struct BatchProgress {
        pub index: usize,
        pub path: String,
        pub state: BatchFileState,
        pub fraction: f64,
        pub output: Option<String>,
        pub error: Option<String>,
    }

    pub struct BatchSummary {
        pub done: usize,
        pub failed: usize,
        pub cancelled: usize,
    }

    pub struct ListSummary {
        pub name: String,
        pub path: String,
        pub enabled: bool,
        pub terms: usize,
        pub problem: Option<String>,
    }

    pub struct TermRow {
        pub term: String,
        pub sounds_like: Vec<String>,
        pub note: String,
    }

    pub struct ListDoc {
        pub name: String,
        pub path: String,
        pub enabled: bool,
        pub terms: Vec<TermRow>,
        /// Changes whenever the file changes; a save names the version it was edited from.
        pub version: String,
    }

    pub enum ProblemField { Term, SoundsLike, Note, Name }

    pub struct RowProblem {
        pub row: Option<usize>,
        pub field: ProblemField,
        pub message: String,
    }

    pub struct SaveOutcome {
        pub version: String,
    }

    pub struct TryResult {
        pub text: String,
        pub changes: Vec<Change>,
    }

    pub enum HistoryStatus { Recorded, Transcribed, Failed }

    pub struct HistoryEntry {
        #[ts(type = "number")]
        pub id: i64,
        #[ts(type = "number")]
        pub created: i64,
        pub seconds: f64,
        pub raw: Option<String>,
        pub text: Option<String>,
        /// What polishing changed from `raw` to `text`, with the removals it was not sure of
        /// marked (empty without both texts).
        pub changes: Vec<Change>,
        pub status: HistoryStatus,
        pub error: Option<String>,
        pub asr_model: Option<String>,
        pub polisher: Option<String>,
    }

    pub struct Settings {
        pub input_device: Option<String>,
        #[ts(type = "number")]
        pub memory_budget_mb: u64,
        #[ts(type = "number")]
        pub idle_unload_seconds: u64,
        pub language: String,
        pub polish: bool,
        /// `clean` or `verbatim`.
        pub style: String,
        pub shortcut_toggle: String,
        pub shortcut_push_to_talk: String,
        pub start_at_login: bool,
    }

    pub struct Device {
        pub name: String,
        pub is_default: bool,
    }

    pub enum ModelRole { Asr, Polish }

    pub struct ModelRow {
        pub id: String,
        pub role: ModelRole,
        pub installed: bool,
        pub is_default: bool,
        #[ts(type = "number")]
        pub size_bytes: u64,
        #[ts(type = "number | null")]
        pub resident_bytes: Option<u64>,
        pub loaded: bool,
    }

    pub struct ModelProgress {
        pub id: String,
        #[ts(type = "number")]
        pub done: u64,
        #[ts(type = "number | null")]
        pub total: Option<u64>,
        pub stage: String,
    }
}

/// The events the page listens to, by name.
pub mod event {
    pub const DICTATION_STATE: &str = "dictation-state";
    pub const DICTATION_LEVEL: &str = "dictation-level";
    pub const DICTATION_PARTIAL: &str = "dictation-partial";
    pub const DICTATION_FINAL: &str = "dictation-final";
    pub const DICTATION_TOGGLE: &str = "dictation-toggle";
    pub const BATCH_PROGRESS: &str = "batch-progress";
    pub const BATCH_DONE: &str = "batch-done";
    pub const MODEL_PROGRESS: &str = "model-progress";
}

impl From<&scrivo_transcript::Change> for Change {
    fn from(c: &scrivo_transcript::Change) -> Self {
        use scrivo_transcript::ChangeKind as K;
        let kind = match c.kind {
            K::Same => ChangeKind::Same,
            K::Removed => ChangeKind::Removed,
            K::Inserted => ChangeKind::Inserted,
            K::Replaced => ChangeKind::Replaced,
        };
        Change { kind, raw: c.raw.clone(), polished: c.polished.clone(), unsure: c.unsure }
    }
}

/// The word-level changes from `raw` to `text`; `unsure` flags the raw words polishing removed
/// without being sure (empty: none).
pub fn changes(raw: &str, text: &str, unsure: &[bool]) -> Vec<Change> {
    scrivo_transcript::changes_marked(raw, text, unsure).iter().map(Change::from).collect()
}

impl From<&scrivo_history::Entry> for HistoryEntry {
    fn from(e: &scrivo_history::Entry) -> Self {
        let status = match e.status {
            scrivo_history::Status::Recorded => HistoryStatus::Recorded,
            scrivo_history::Status::Transcribed => HistoryStatus::Transcribed,
            scrivo_history::Status::Failed => HistoryStatus::Failed,
        };
        let changes = match (&e.raw_text, &e.text) {
            (Some(raw), Some(text)) => changes(raw, text, &e.unsure_marks()),
            _ => Vec::new(),
        };
        HistoryEntry {
            id: e.id,
            created: e.created,
            seconds: e.duration_seconds,
            raw: e.raw_text.clone(),
            text: e.text.clone(),
            changes,
            status,
            error: e.error.clone(),
            asr_model: e.asr_model.clone(),
            polisher: e.polisher.clone(),
        }
    }
}

impl From<&scrivo_session::settings::Settings> for Settings {
    fn from(s: &scrivo_session::settings::Settings) -> Self {
        Settings {
            input_device: s.input_device.clone(),
            memory_budget_mb: s.budget_mb(),
            idle_unload_seconds: s.idle_seconds(),
            language: s.language.clone(),
            polish: s.polish,
            style: s.style.clone(),
            shortcut_toggle: s.shortcut_toggle.clone(),
            shortcut_push_to_talk: s.shortcut_push_to_talk.clone(),
            start_at_login: s.start_at_login,
        }
    }
}

impl From<Settings> for scrivo_session::settings::Settings {
    fn from(s: Settings) -> Self {
        scrivo_session::settings::Settings {
            input_device: s.input_device.filter(|d| !d.is_empty()),
            memory_budget_mb: Some(s.memory_budget_mb),
            idle_unload_seconds: Some(s.idle_unload_seconds),
            language: s.language,
            polish: s.polish,
            style: s.style,
            shortcut_toggle: s.shortcut_toggle,
            shortcut_push_to_talk: s.shortcut_push_to_talk,
            start_at_login: s.start_at_login,
        }
    }
}

impl From<OutputFormat> for scrivo_transcript::Format {
    fn from(f: OutputFormat) -> Self {
        match f {
            OutputFormat::Txt => scrivo_transcript::Format::Txt,
            OutputFormat::Srt => scrivo_transcript::Format::Srt,
            OutputFormat::Vtt => scrivo_transcript::Format::Vtt,
            OutputFormat::Json => scrivo_transcript::Format::Json,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(raw: Option<&str>, text: Option<&str>, unsure: Vec<usize>) -> scrivo_history::Entry {
        scrivo_history::Entry {
            id: 7,
            created: 0,
            audio_file: "audio/x.wav".into(),
            duration_seconds: 2.0,
            device: None,
            asr_model: None,
            polisher: None,
            bias_lists: Vec::new(),
            raw_text: raw.map(Into::into),
            text: text.map(Into::into),
            unsure,
            error: None,
            status: scrivo_history::Status::Transcribed,
        }
    }

    #[test]
    fn a_history_entry_carries_its_changes_with_the_saved_marks() {
        // "three no sorry at" (raw words 2-5) was removed without certainty; 99 is past the end
        // of the text (a mark saved for another text) and is ignored.
        let e = HistoryEntry::from(&entry(Some("meet at three no sorry at four"), Some("Meet at four."), vec![2, 99]));
        let removed: Vec<(&str, bool)> = e.changes.iter().filter(|c| matches!(c.kind, ChangeKind::Removed)).map(|c| (c.raw.as_str(), c.unsure)).collect();
        assert_eq!(removed, [("three no sorry at", true)]);
        assert!(HistoryEntry::from(&entry(None, None, Vec::new())).changes.is_empty());
    }
}
