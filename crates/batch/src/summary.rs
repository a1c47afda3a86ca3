//! The machine-readable account of a batch: one JSON line per recording (`--summary FILE.jsonl`),
//! appended as each one ends, so a shard killed half-way leaves the lines of what it finished.
//! Shards write a file each; [`merge`] combines them (a re-run's lines replace earlier ones,
//! except that `skipped` never hides the `done` line of the run that wrote the output).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::BatchError;

/// What became of one recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Transcribed and written.
    Done,
    /// Its output was already there (`--skip-existing`).
    Skipped,
    Failed,
    /// Stopped (Ctrl-C) before or while it ran.
    Cancelled,
}

/// One line of a summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub input: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    pub status: Status,
    /// Seconds of audio transcribed (0 unless done).
    #[serde(default)]
    pub audio_seconds: f64,
    /// Seconds from the recording's start to its end in this run.
    #[serde(default)]
    pub wall_seconds: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The shard that wrote the line (`I/N`), when the run was sharded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
}

/// Appends records to a summary file, a whole line per write.
pub struct SummaryWriter {
    path: PathBuf,
    file: Mutex<std::fs::File>,
}

impl SummaryWriter {
    /// Opens `path` for appending (creating it and its folder): a resumed run adds to the lines
    /// of the run before. A last line without its newline, which a run killed while writing it
    /// leaves, is cut off first, so the new lines start on a line of their own.
    pub fn append(path: &Path) -> Result<Self, BatchError> {
        let io = |source| BatchError::Io { path: path.into(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let file = std::fs::OpenOptions::new().create(true).append(true).read(true).open(path).map_err(io)?;
        let before = std::fs::read(path).map_err(io)?;
        if before.last().is_some_and(|&b| b != b'\n') {
            let whole_lines = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            tracing::warn!(path = %path.display(), "cutting off a torn last line (a run stopped while writing it)");
            file.set_len(whole_lines as u64).map_err(io)?;
        }
        Ok(SummaryWriter { path: path.into(), file: Mutex::new(file) })
    }

    pub fn write(&self, record: &Record) -> Result<(), BatchError> {
        let mut line = serde_json::to_string(record).map_err(|e| BatchError::Summary { path: self.path.clone(), detail: e.to_string() })?;
        line.push('\n');
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        file.write_all(line.as_bytes()).map_err(|source| BatchError::Io { path: self.path.clone(), source })
    }
}

/// Reads a summary file. A last line without its newline that does not parse is what a kill in
/// the middle of a write leaves: it is skipped with a warning. Any other bad line is an error
/// naming the file and the line.
pub fn read(path: &Path) -> Result<Vec<Record>, BatchError> {
    let text = std::fs::read_to_string(path).map_err(|source| BatchError::Io { path: path.into(), source })?;
    let complete = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    let mut records = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(line) {
            Ok(r) => records.push(r),
            Err(_) if i + 1 == lines.len() && !complete => {
                tracing::warn!(path = %path.display(), line = i + 1, "skipping a torn last line (a run stopped while writing it)");
            }
            Err(e) => return Err(BatchError::Summary { path: path.into(), detail: format!("line {}: {e}", i + 1) }),
        }
    }
    Ok(records)
}

/// One record per input, in input order: the last one read, except that a `skipped` line does
/// not replace a `done` one (the run that made the output has its times).
pub fn merge(records: impl IntoIterator<Item = Record>) -> Vec<Record> {
    let mut by_input: BTreeMap<String, Record> = BTreeMap::new();
    for record in records {
        match by_input.get(&record.input) {
            Some(kept) if kept.status == Status::Done && record.status == Status::Skipped => {}
            _ => {
                by_input.insert(record.input.clone(), record);
            }
        }
    }
    by_input.into_values().collect()
}

/// Counts and sums over records.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Totals {
    pub done: usize,
    pub skipped: usize,
    pub failed: usize,
    pub cancelled: usize,
    pub audio_seconds: f64,
    pub wall_seconds: f64,
}

impl Totals {
    pub fn of(records: &[Record]) -> Totals {
        let mut t = Totals::default();
        for r in records {
            match r.status {
                Status::Done => t.done += 1,
                Status::Skipped => t.skipped += 1,
                Status::Failed => t.failed += 1,
                Status::Cancelled => t.cancelled += 1,
            }
            t.audio_seconds += r.audio_seconds;
            t.wall_seconds += r.wall_seconds;
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(input: &str, status: Status, wall: f64) -> Record {
        Record { input: input.into(), output: None, status, audio_seconds: 1.0, wall_seconds: wall, error: None, shard: None }
    }

    #[test]
    fn lines_are_appended_and_read_back_and_a_torn_last_line_is_skipped() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("deep/summary.jsonl");
        let a = record("a.wav", Status::Done, 2.0);
        SummaryWriter::append(&path).expect("open").write(&a).expect("write");
        let b = Record { error: Some("b.wav: not a WAV file".into()), ..record("b.wav", Status::Failed, 0.1) };
        SummaryWriter::append(&path).expect("reopen").write(&b).expect("write");
        assert_eq!(read(&path).expect("read"), [a.clone(), b.clone()]);

        let mut torn = std::fs::read_to_string(&path).expect("read");
        torn.push_str("{\"input\":\"c.wav\",\"sta");
        std::fs::write(&path, &torn).expect("write");
        assert_eq!(read(&path).expect("read"), [a.clone(), b.clone()]);
        // A run resumed after that kill cuts the torn line off before adding its own.
        let c = record("c.wav", Status::Done, 1.5);
        SummaryWriter::append(&path).expect("reopen").write(&c).expect("write");
        assert_eq!(read(&path).expect("read"), [a, b, c]);

        std::fs::write(&path, "{\"input\":\"c.wav\"}\n{}\n").expect("write");
        let e = read(&path).expect_err("bad line");
        assert!(e.to_string().contains("summary.jsonl") && e.to_string().contains("line 1"), "{e}");
    }

    #[test]
    fn a_later_line_wins_except_skipped_over_done() {
        let merged = merge([
            record("b.wav", Status::Cancelled, 0.0),
            record("a.wav", Status::Done, 2.0),
            record("b.wav", Status::Done, 3.0),
            record("a.wav", Status::Skipped, 0.0),
            record("c.wav", Status::Failed, 0.1),
            record("c.wav", Status::Skipped, 0.0),
        ]);
        let got: Vec<(&str, Status, f64)> = merged.iter().map(|r| (r.input.as_str(), r.status, r.wall_seconds)).collect();
        assert_eq!(got, [("a.wav", Status::Done, 2.0), ("b.wav", Status::Done, 3.0), ("c.wav", Status::Skipped, 0.0)]);
        let t = Totals::of(&merged);
        assert_eq!((t.done, t.skipped, t.failed, t.cancelled), (2, 1, 0, 0));
    }
}
