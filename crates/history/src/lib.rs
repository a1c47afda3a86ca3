//! The dictation history: every recording's audio and what became of it, kept in one folder.
//!
//! ```text
//! dir/history.sqlite3   one row per dictation (WAL mode, schema version in PRAGMA user_version)
//! dir/audio/            dictation-<created ms>-<random>.wav, 16-bit PCM, 16 kHz mono
//! ```
//!
//! **Audio first, then the row.** [`History::record`] writes the WAV to a temporary file in
//! `audio/`, syncs it and renames it into place before inserting the row, so a row never claims
//! audio that is not on disk; a crash in between leaves at worst a WAV without a row.
//! [`History::delete`] goes the other way: the row, then the file.
//!
//! **Statuses.** An entry starts [`Status::Recorded`] (audio saved, no text yet); it becomes
//! [`Status::Transcribed`] when [`History::set_result`] saves its text, or [`Status::Failed`] when
//! [`History::set_error`] says why transcription did not finish (the audio stays, so it can be
//! transcribed again). A `Recorded` entry found after a restart is one whose transcription was cut
//! off.
//!
//! [`History`] is `Send + Sync`: one connection behind a mutex, shared by the app's threads.
//!
//! ```
//! use scrivo_history::{History, NewEntry, Status};
//! let dir = tempfile::tempdir()?;
//! let history = History::open(dir.path())?;
//! let entry = history.record(&[0.0; 16_000], NewEntry::default())?;
//! history.set_result(entry.id, "um hello", "Hello.", &[], Some("base.en"), Some("rules"))?;
//! assert_eq!(history.get(entry.id)?.status, Status::Transcribed);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::hash::BuildHasher;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use serde::{Deserialize, Serialize};

/// The sample rate of every history WAV.
pub const SAMPLE_RATE: u32 = 16_000;
const DATABASE: &str = "history.sqlite3";
const AUDIO_DIR: &str = "audio";
const SCHEMA_VERSION: i64 = 2;
const COLUMNS: &str = "id, created, audio_file, duration_seconds, device, asr_model, polisher, \
                       bias_lists, raw_text, text, error, status, unsure";

/// What can go wrong with the history; each names the file concerned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: history database: {source}", path.display())]
    Database { path: PathBuf, source: rusqlite::Error },
    #[error("{}: written by a newer Scrivo (schema version {found}; this one knows up to {SCHEMA_VERSION})", path.display())]
    NewerSchema { path: PathBuf, found: i64 },
    #[error("{}: the database is damaged ({detail})", path.display())]
    Damaged { path: PathBuf, detail: String },
    #[error("{}: entry {id}: {message}", path.display())]
    Corrupt { path: PathBuf, id: i64, message: String },
    #[error("{}: {source}", path.display())]
    Wav { path: PathBuf, source: hound::Error },
    #[error("{}: expected 16 kHz mono, found {channels} channel(s) at {sample_rate} Hz", path.display())]
    WavFormat { path: PathBuf, channels: u16, sample_rate: u32 },
    #[error("no dictation with id {id} in {}", path.display())]
    NotFound { id: i64, path: PathBuf },
    #[error("{}: dictation {id} has not been transcribed, so it has no text to change", path.display())]
    NotTranscribed { id: i64, path: PathBuf },
    #[error("{}: dictation {id} was transcribed again since its text was shown; the edit was not saved (reload it)", path.display())]
    TranscribedAgain { id: i64, path: PathBuf },
}

pub type Result<T, E = HistoryError> = std::result::Result<T, E>;

/// Where a dictation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The audio is saved; no text yet.
    Recorded,
    /// The text is saved.
    Transcribed,
    /// Transcription did not finish; [`Entry::error`] says why.
    Failed,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Recorded => "recorded",
            Status::Transcribed => "transcribed",
            Status::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<Status> {
        [Status::Recorded, Status::Transcribed, Status::Failed].into_iter().find(|status| status.as_str() == s)
    }
}

/// One dictation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub id: i64,
    /// When it was recorded, in milliseconds since the Unix epoch.
    pub created: i64,
    /// The WAV, relative to the history folder (see [`History::audio_path`]).
    pub audio_file: String,
    pub duration_seconds: f64,
    /// The microphone it was recorded from.
    pub device: Option<String>,
    pub asr_model: Option<String>,
    pub polisher: Option<String>,
    /// The names of the biasing lists that were enabled.
    pub bias_lists: Vec<String>,
    /// The recogniser's text, before polishing.
    pub raw_text: Option<String>,
    /// The polished text.
    pub text: Option<String>,
    /// The positions in `raw_text`'s words (split at whitespace) of the removals polishing was
    /// not sure of, which the app marks for a second look.
    #[serde(default)]
    pub unsure: Vec<usize>,
    /// Why transcription did not finish (for example, the device was lost).
    pub error: Option<String>,
    pub status: Status,
}

impl Entry {
    /// One flag per word of the raw text (split at whitespace), set on the words of
    /// [`Entry::unsure`]; positions past the end are ignored.
    pub fn unsure_marks(&self) -> Vec<bool> {
        let mut marks = vec![false; self.raw_text.as_deref().map_or(0, |raw| raw.split_whitespace().count())];
        for &i in &self.unsure {
            if let Some(mark) = marks.get_mut(i) {
                *mark = true;
            }
        }
        marks
    }
}

/// What is known about a dictation when its audio is saved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewEntry {
    pub device: Option<String>,
    pub asr_model: Option<String>,
    pub polisher: Option<String>,
    pub bias_lists: Vec<String>,
}

/// The history folder: its database and its audio.
#[derive(Debug)]
pub struct History {
    dir: PathBuf,
    database: PathBuf,
    connection: Mutex<Connection>,
}

impl History {
    /// Opens the history in `dir`, creating the folder, its database and `audio/` as needed and
    /// bringing the schema up to date.
    pub fn open(dir: &Path) -> Result<History> {
        let audio = dir.join(AUDIO_DIR);
        std::fs::create_dir_all(&audio).map_err(|source| HistoryError::Io { path: audio, source })?;
        let database = dir.join(DATABASE);
        let db_error = |source| HistoryError::Database { path: database.clone(), source };
        let mut connection = Connection::open(&database).map_err(db_error)?;
        connection.busy_timeout(Duration::from_secs(5)).map_err(db_error)?;
        connection.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(())).map_err(db_error)?;
        migrate(&mut connection, &database)?;
        Ok(History { dir: dir.to_path_buf(), database, connection: Mutex::new(connection) })
    }

    /// Opens the history in `dir` whatever state it was left in, saying what was done:
    /// a database that cannot be used (not a database, damaged, a schema this version does not
    /// know) is renamed aside (`history.sqlite3.damaged-<unix seconds>`, with its `-wal` and
    /// `-shm`) and a new one started, then [`History::repair`] adopts every recording without a
    /// row. Only an error reaching the folder itself (permissions, a full disk) is returned.
    pub fn open_repairing(dir: &Path) -> Result<(History, Repair)> {
        let mut repair = Repair::default();
        let history = match History::open(dir).and_then(|h| h.check_schema().map(|()| h)) {
            Ok(history) => history,
            Err(HistoryError::Io { path, source }) => return Err(HistoryError::Io { path, source }),
            Err(damage) => {
                let database = dir.join(DATABASE);
                let kept = set_aside(&database)?;
                repair.damaged = Some(Damaged { kept, reason: damage.to_string() });
                History::open(dir)?
            }
        };
        let found = history.repair(REPAIR_GRACE)?;
        repair.adopted = found.adopted;
        repair.removed_temporaries = found.removed_temporaries;
        repair.unreadable = found.unreadable;
        Ok((history, repair))
    }

    /// Makes every recording in `audio/` visible: a WAV no row claims (its process stopped
    /// between saving the audio and its row, or the database was replaced) gets a `Recorded`
    /// row, so it can be transcribed again; a temporary WAV (a write cut off before it was
    /// complete) is removed. Files younger than `grace` are left alone: another process may be
    /// writing them now.
    pub fn repair(&self, grace: Duration) -> Result<Repair> {
        let audio_dir = self.dir.join(AUDIO_DIR);
        let io_error = |source| HistoryError::Io { path: audio_dir.clone(), source };
        let claimed: std::collections::HashSet<String> = {
            let connection = self.lock();
            let mut statement = connection.prepare("SELECT audio_file FROM entries").map_err(|e| self.db_error(e))?;
            let rows = statement.query_map([], |row| row.get::<_, String>(0)).map_err(|e| self.db_error(e))?;
            rows.collect::<rusqlite::Result<_>>().map_err(|e| self.db_error(e))?
        };
        let now = SystemTime::now();
        let mut repair = Repair::default();
        let mut files: Vec<_> = std::fs::read_dir(&audio_dir).map_err(io_error)?.filter_map(|e| e.ok()).collect();
        files.sort_by_key(|e| e.file_name());
        for file in files {
            let name = file.file_name().to_string_lossy().into_owned();
            let age = file.metadata().ok().and_then(|m| m.modified().ok()).and_then(|t| now.duration_since(t).ok());
            if age.is_none_or(|age| age < grace) {
                continue;
            }
            let path = file.path();
            if name.starts_with(".dictation-") && name.ends_with(".wav.tmp") {
                std::fs::remove_file(&path).map_err(|source| HistoryError::Io { path, source })?;
                repair.removed_temporaries += 1;
                continue;
            }
            let relative = format!("{AUDIO_DIR}/{name}");
            let Some(created) = created_of(&name) else { continue };
            if claimed.contains(&relative) {
                continue;
            }
            let Ok(reader) = hound::WavReader::open(&path) else {
                repair.unreadable.push(path);
                continue;
            };
            let duration = f64::from(reader.duration()) / f64::from(reader.spec().sample_rate.max(1));
            self.lock()
                .execute(
                    "INSERT INTO entries (created, audio_file, duration_seconds, status) VALUES (?1, ?2, ?3, 'recorded')",
                    params![created, relative, duration],
                )
                .map_err(|e| self.db_error(e))?;
            repair.adopted += 1;
        }
        Ok(repair)
    }

    /// Reads one row the way every query does: fails when the table is not the one this
    /// version writes (a database from elsewhere, or changed by hand).
    fn check_schema(&self) -> Result<()> {
        let sql = format!("SELECT {COLUMNS} FROM entries LIMIT 1");
        let connection = self.lock();
        let ok: String = connection.query_row("PRAGMA quick_check(1)", [], |r| r.get(0)).map_err(|e| self.db_error(e))?;
        if ok != "ok" {
            return Err(HistoryError::Damaged { path: self.database.clone(), detail: ok });
        }
        connection.prepare(&sql).map(drop).map_err(|e| self.db_error(e))
    }

    /// Saves a recording (16 kHz mono samples in [-1, 1]) as a WAV, then its row, `Recorded`.
    pub fn record(&self, samples_16k_mono: &[f32], meta: NewEntry) -> Result<Entry> {
        let created = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        let audio_file = self.write_wav(created, samples_16k_mono)?;
        let mut entry = Entry {
            id: 0,
            created,
            audio_file,
            duration_seconds: samples_16k_mono.len() as f64 / f64::from(SAMPLE_RATE),
            device: meta.device,
            asr_model: meta.asr_model,
            polisher: meta.polisher,
            bias_lists: meta.bias_lists,
            raw_text: None,
            text: None,
            unsure: Vec::new(),
            error: None,
            status: Status::Recorded,
        };
        let bias_lists = serde_json::to_string(&entry.bias_lists).unwrap_or_else(|_| "[]".into());
        let connection = self.lock();
        let inserted = connection.execute(
            "INSERT INTO entries (created, audio_file, duration_seconds, device, asr_model, polisher, bias_lists, status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                entry.created,
                entry.audio_file,
                entry.duration_seconds,
                entry.device,
                entry.asr_model,
                entry.polisher,
                bias_lists,
                entry.status.as_str()
            ],
        );
        if let Err(source) = inserted {
            // No row claims the WAV: remove it rather than leave it orphaned.
            let _ = std::fs::remove_file(self.audio_path(&entry));
            return Err(self.db_error(source));
        }
        entry.id = connection.last_insert_rowid();
        Ok(entry)
    }

    /// Saves the text of a dictation: `Transcribed`, error cleared. A `None` model or polisher
    /// keeps the one recorded before. `unsure`: the positions of the raw words whose removal
    /// polishing was not sure of ([`Entry::unsure`]).
    pub fn set_result(
        &self,
        id: i64,
        raw_text: &str,
        text: &str,
        unsure: &[usize],
        asr_model: Option<&str>,
        polisher: Option<&str>,
    ) -> Result<()> {
        let unsure = serde_json::to_string(unsure).unwrap_or_else(|_| "[]".into());
        self.update(
            id,
            "UPDATE entries SET raw_text = ?2, text = ?3, unsure = ?4, asr_model = COALESCE(?5, asr_model),
             polisher = COALESCE(?6, polisher), error = NULL, status = 'transcribed' WHERE id = ?1",
            params![id, raw_text, text, unsure, asr_model, polisher],
        )
    }

    /// Replaces the polished text of a transcribed dictation (the user put back a word polishing
    /// removed from `raw_text`, the recogniser's text the edit was made on); the raw text, the
    /// marks and the status stay. Refused when the dictation was transcribed again meanwhile.
    pub fn set_text(&self, id: i64, raw_text: &str, text: &str) -> Result<()> {
        let changed = self
            .lock()
            .execute("UPDATE entries SET text = ?2 WHERE id = ?1 AND raw_text = ?3", params![id, text, raw_text])
            .map_err(|e| self.db_error(e))?;
        if changed == 1 {
            return Ok(());
        }
        let path = self.database.clone();
        Err(match self.get(id)?.raw_text {
            None => HistoryError::NotTranscribed { id, path },
            Some(_) => HistoryError::TranscribedAgain { id, path },
        })
    }

    /// Marks a dictation `Failed` with the reason; its audio and any text stay.
    pub fn set_error(&self, id: i64, error: &str) -> Result<()> {
        self.update(id, "UPDATE entries SET error = ?2, status = 'failed' WHERE id = ?1", params![id, error])
    }

    /// The newest `limit` dictations, newest first.
    pub fn list(&self, limit: usize) -> Result<Vec<Entry>> {
        let connection = self.lock();
        let sql = format!("SELECT {COLUMNS} FROM entries ORDER BY created DESC, id DESC LIMIT ?1");
        let mut statement = connection.prepare_cached(&sql).map_err(|e| self.db_error(e))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = statement.query_map([limit], read_row).map_err(|e| self.db_error(e))?;
        let mut entries = Vec::new();
        for row in rows {
            entries.push(self.check_row(row.map_err(|e| self.db_error(e))?)?);
        }
        Ok(entries)
    }

    /// One dictation, or [`HistoryError::NotFound`].
    pub fn get(&self, id: i64) -> Result<Entry> {
        let sql = format!("SELECT {COLUMNS} FROM entries WHERE id = ?1");
        let row = self.lock().query_row(&sql, [id], read_row).optional().map_err(|e| self.db_error(e))?;
        self.check_row(row.ok_or_else(|| self.not_found(id))?)
    }

    /// Removes a dictation: its row, then its audio. If the file cannot be removed the row is
    /// already gone and the error names the file left behind.
    pub fn delete(&self, id: i64) -> Result<()> {
        let entry = self.get(id)?;
        self.update(id, "DELETE FROM entries WHERE id = ?1", params![id])?;
        let path = self.audio_path(&entry);
        match std::fs::remove_file(&path) {
            Err(source) if source.kind() != io::ErrorKind::NotFound => Err(HistoryError::Io { path, source }),
            _ => Ok(()),
        }
    }

    /// The full path of a dictation's WAV.
    pub fn audio_path(&self, entry: &Entry) -> PathBuf {
        self.dir.join(&entry.audio_file)
    }

    /// A dictation's audio as 16 kHz mono samples in [-1, 1].
    pub fn read_audio(&self, entry: &Entry) -> Result<Vec<f32>> {
        let path = self.audio_path(entry);
        let wav_error = |source| HistoryError::Wav { path: path.clone(), source };
        let reader = hound::WavReader::open(&path).map_err(wav_error)?;
        let spec = reader.spec();
        if spec.channels != 1 || spec.sample_rate != SAMPLE_RATE {
            return Err(HistoryError::WavFormat { path, channels: spec.channels, sample_rate: spec.sample_rate });
        }
        match spec.sample_format {
            hound::SampleFormat::Float => reader.into_samples::<f32>().collect::<Result<_, _>>().map_err(wav_error),
            hound::SampleFormat::Int => {
                let scale = ((1_i64 << (spec.bits_per_sample - 1)) - 1) as f32;
                reader
                    .into_samples::<i32>()
                    .map(|s| s.map(|s| s as f32 / scale))
                    .collect::<Result<_, _>>()
                    .map_err(wav_error)
            }
        }
    }

    /// Writes `audio/dictation-<created>-<random>.wav` atomically and returns its relative path.
    fn write_wav(&self, created: i64, samples: &[f32]) -> Result<String> {
        let audio_dir = self.dir.join(AUDIO_DIR);
        let io_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| HistoryError::Io { path, source }
        };
        let mut temp = tempfile::Builder::new()
            .prefix(".dictation-")
            .suffix(".wav.tmp")
            .tempfile_in(&audio_dir)
            .map_err(io_error(&audio_dir))?;
        let temp_path = temp.path().to_path_buf();
        let wav_error = |source| HistoryError::Wav { path: temp_path.clone(), source };
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: SAMPLE_RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::new(BufWriter::new(temp.as_file_mut()), spec).map_err(wav_error)?;
        for &sample in samples {
            writer.write_sample((sample.clamp(-1.0, 1.0) * 32767.0).round() as i16).map_err(wav_error)?;
        }
        writer.finalize().map_err(wav_error)?;
        temp.as_file().sync_all().map_err(io_error(&temp_path))?;
        // Never replace another dictation's audio: on a clash, draw another name.
        loop {
            let name =
                format!("dictation-{created}-{:08x}.wav", std::hash::RandomState::new().hash_one(created) as u32);
            let path = audio_dir.join(&name);
            match temp.persist_noclobber(&path) {
                Ok(_) => break sync_dir(&audio_dir).map(|()| format!("{AUDIO_DIR}/{name}")),
                Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => temp = e.file,
                Err(e) => break Err(HistoryError::Io { path, source: e.error }),
            }
        }
    }

    fn update(&self, id: i64, sql: &str, params: impl rusqlite::Params) -> Result<()> {
        match self.lock().execute(sql, params) {
            Ok(0) => Err(self.not_found(id)),
            Ok(_) => Ok(()),
            Err(source) => Err(self.db_error(source)),
        }
    }

    fn check_row(&self, row: RawRow) -> Result<Entry> {
        let corrupt =
            |message: String| HistoryError::Corrupt { path: self.database.clone(), id: row.entry.id, message };
        let status = Status::parse(&row.status).ok_or_else(|| corrupt(format!("unknown status {:?}", row.status)))?;
        let bias_lists = serde_json::from_str(&row.bias_lists)
            .map_err(|e| corrupt(format!("bias_lists {:?}: {e}", row.bias_lists)))?;
        // The marks are hints for the eye, not what was said: unreadable ones are dropped, and
        // the entry (its text and audio) still lists.
        let unsure = serde_json::from_str(&row.unsure).unwrap_or_default();
        Ok(Entry { status, bias_lists, unsure, ..row.entry })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves no half-done work: SQLite rolls it back.
        self.connection.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn db_error(&self, source: rusqlite::Error) -> HistoryError {
        HistoryError::Database { path: self.database.clone(), source }
    }

    fn not_found(&self, id: i64) -> HistoryError {
        HistoryError::NotFound { id, path: self.database.clone() }
    }
}

/// A row as stored, before its status, biasing lists and marks are checked.
struct RawRow {
    entry: Entry,
    status: String,
    bias_lists: String,
    unsure: String,
}

fn read_row(row: &Row) -> rusqlite::Result<RawRow> {
    Ok(RawRow {
        entry: Entry {
            id: row.get(0)?,
            created: row.get(1)?,
            audio_file: row.get(2)?,
            duration_seconds: row.get(3)?,
            device: row.get(4)?,
            asr_model: row.get(5)?,
            polisher: row.get(6)?,
            bias_lists: Vec::new(),
            raw_text: row.get(8)?,
            text: row.get(9)?,
            unsure: Vec::new(),
            error: row.get(10)?,
            status: Status::Recorded,
        },
        bias_lists: row.get(7)?,
        status: row.get(11)?,
        // Read whatever is stored there: marks that are not text are dropped in `check_row`.
        unsure: match row.get::<_, rusqlite::types::Value>(12)? {
            rusqlite::types::Value::Text(text) => text,
            _ => String::new(),
        },
    })
}

/// How long a file in `audio/` must have been left untouched before [`History::open_repairing`]
/// takes it as abandoned (a recording is written and claimed within a second).
pub const REPAIR_GRACE: Duration = Duration::from_secs(60);

/// What [`History::open_repairing`] or [`History::repair`] did.
#[derive(Debug, Default)]
pub struct Repair {
    /// The database that could not be used, if any.
    pub damaged: Option<Damaged>,
    /// Recordings given a row.
    pub adopted: usize,
    /// Temporary WAVs of writes that never finished, removed.
    pub removed_temporaries: usize,
    /// WAVs without a row whose header cannot be read: left where they are.
    pub unreadable: Vec<PathBuf>,
}

/// A database put aside.
#[derive(Debug)]
pub struct Damaged {
    /// Where it is now.
    pub kept: PathBuf,
    /// What was wrong with it.
    pub reason: String,
}

impl Repair {
    /// One line per thing the user should know, empty when nothing was wrong.
    pub fn notices(&self) -> Vec<String> {
        let mut notices = Vec::new();
        if let Some(d) = &self.damaged {
            notices.push(format!("The history database could not be used ({}); it is kept as {} and a new one was started", d.reason, d.kept.display()));
        }
        if self.adopted > 0 {
            notices.push(format!("{} recording(s) without text were found in the history folder and listed again (re-run them to transcribe)", self.adopted));
        }
        for path in &self.unreadable {
            notices.push(format!("{}: in the history folder but not a readable WAV; left where it is", path.display()));
        }
        notices
    }
}

/// The creation time (ms) in a history WAV's name, `dictation-<ms>-<hex>.wav`.
fn created_of(name: &str) -> Option<i64> {
    let (ms, _) = name.strip_prefix("dictation-")?.strip_suffix(".wav")?.split_once('-')?;
    ms.parse().ok()
}

/// Renames the database and its WAL files to `NAME.damaged-<unix seconds>[-n]`.
fn set_aside(database: &Path) -> Result<PathBuf> {
    let seconds = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let name = database.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut n = 0;
    let kept = loop {
        let suffix = if n == 0 { format!("damaged-{seconds}") } else { format!("damaged-{seconds}-{n}") };
        let kept = database.with_file_name(format!("{name}.{suffix}"));
        if !kept.exists() {
            break kept;
        }
        n += 1;
    };
    let io_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| HistoryError::Io { path, source }
    };
    for extra in ["-wal", "-shm"] {
        let from = database.with_file_name(format!("{name}{extra}"));
        if from.exists() {
            let to = kept.with_file_name(format!("{}{extra}", kept.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()));
            std::fs::rename(&from, &to).map_err(io_error(&from))?;
        }
    }
    std::fs::rename(database, &kept).map_err(io_error(database))?;
    Ok(kept)
}

/// Brings the schema to [`SCHEMA_VERSION`], one step per version, in one transaction.
fn migrate(connection: &mut Connection, database: &Path) -> Result<()> {
    let db_error = |source| HistoryError::Database { path: database.to_path_buf(), source };
    let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db_error)?;
    let found: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(db_error)?;
    if found > SCHEMA_VERSION {
        return Err(HistoryError::NewerSchema { path: database.to_path_buf(), found });
    }
    if found < 1 {
        tx.execute_batch(
            "CREATE TABLE entries (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 created INTEGER NOT NULL,
                 audio_file TEXT NOT NULL,
                 duration_seconds REAL NOT NULL,
                 device TEXT,
                 asr_model TEXT,
                 polisher TEXT,
                 bias_lists TEXT NOT NULL DEFAULT '[]',
                 raw_text TEXT,
                 text TEXT,
                 error TEXT,
                 status TEXT NOT NULL
             );
             CREATE INDEX entries_by_created ON entries (created DESC, id DESC);",
        )
        .map_err(db_error)?;
    }
    if found < 2 {
        // Version 2: the removals polishing was not sure of, as a JSON list of raw word positions.
        tx.execute_batch("ALTER TABLE entries ADD COLUMN unsure TEXT NOT NULL DEFAULT '[]';").map_err(db_error)?;
    }
    if found < SCHEMA_VERSION {
        tx.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(db_error)?;
    }
    tx.commit().map_err(db_error)
}

/// Makes a rename in `dir` durable (Unix; elsewhere the rename itself is all there is).
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| HistoryError::Io { path: dir.to_path_buf(), source })?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sine(n: usize) -> Vec<f32> {
        (0..n).map(|i| (i as f32 * 0.05).sin() * 0.8).collect()
    }

    fn meta() -> NewEntry {
        NewEntry {
            device: Some("USB mic".into()),
            bias_lists: vec!["work".into(), "names".into()],
            ..NewEntry::default()
        }
    }

    #[test]
    fn record_saves_audio_then_a_recorded_row() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::open(dir.path()).unwrap();
        let samples = sine(8_000);
        let entry = history.record(&samples, meta()).unwrap();
        assert_eq!(entry.status, Status::Recorded);
        assert_eq!(entry.duration_seconds, 0.5);
        assert!(entry.audio_file.starts_with("audio/dictation-"), "{}", entry.audio_file);
        assert!(history.audio_path(&entry).is_file());
        assert_eq!(history.get(entry.id).unwrap(), entry);
        assert_eq!(history.list(10).unwrap(), vec![entry.clone()]);
        let back = history.read_audio(&entry).unwrap();
        assert_eq!(back.len(), samples.len());
        assert!(back.iter().zip(&samples).all(|(a, b)| (a - b).abs() <= 1.0 / 32767.0));
        let temps = std::fs::read_dir(dir.path().join(AUDIO_DIR)).unwrap().count();
        assert_eq!(temps, 1, "only the WAV itself is left in audio/");
    }

    #[test]
    fn list_is_newest_first_and_limited() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::open(dir.path()).unwrap();
        let ids: Vec<i64> = (0..3).map(|_| history.record(&sine(10), NewEntry::default()).unwrap().id).collect();
        let listed: Vec<i64> = history.list(2).unwrap().iter().map(|e| e.id).collect();
        assert_eq!(listed, vec![ids[2], ids[1]]);
    }

    #[test]
    fn results_and_errors_update_the_entry() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::open(dir.path()).unwrap();
        let entry = history.record(&sine(100), meta()).unwrap();
        history.set_error(entry.id, "device lost").unwrap();
        let failed = history.get(entry.id).unwrap();
        assert_eq!((failed.status, failed.error.as_deref()), (Status::Failed, Some("device lost")));
        assert!(history.audio_path(&failed).is_file());

        history.set_result(entry.id, "um hello", "Hello.", &[0], Some("base.en"), None).unwrap();
        let done = history.get(entry.id).unwrap();
        assert_eq!(done.status, Status::Transcribed);
        assert_eq!(done.unsure, [0]);
        assert_eq!(done.unsure_marks(), [true, false]);
        assert_eq!(Entry { unsure: vec![1, 5], ..done.clone() }.unsure_marks(), [false, true], "a position past the end is ignored");
        assert_eq!((done.raw_text.as_deref(), done.text.as_deref()), (Some("um hello"), Some("Hello.")));
        assert_eq!((done.asr_model.as_deref(), done.polisher, done.error), (Some("base.en"), None, None));
        assert_eq!(done.bias_lists, ["work", "names"]);
        assert!(matches!(history.set_error(999, "x"), Err(HistoryError::NotFound { id: 999, .. })));
    }

    #[test]
    fn delete_removes_row_and_audio() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::open(dir.path()).unwrap();
        let entry = history.record(&sine(100), NewEntry::default()).unwrap();
        history.delete(entry.id).unwrap();
        assert!(!history.audio_path(&entry).exists());
        assert!(history.list(10).unwrap().is_empty());
        assert!(matches!(history.delete(entry.id), Err(HistoryError::NotFound { .. })));
    }

    #[test]
    fn missing_id_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::open(dir.path()).unwrap();
        let error = history.get(42).unwrap_err();
        assert!(matches!(error, HistoryError::NotFound { id: 42, .. }));
        assert!(error.to_string().contains("no dictation with id 42"), "{error}");
    }

    #[test]
    fn reopening_keeps_entries() {
        let dir = tempfile::tempdir().unwrap();
        let entry = History::open(dir.path()).unwrap().record(&sine(100), meta()).unwrap();
        let history = History::open(dir.path()).unwrap();
        assert_eq!(history.get(entry.id).unwrap(), entry);
        let version: i64 = history.lock().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }

    #[test]
    fn a_first_version_history_gains_the_marks_and_keeps_its_entries() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::open(dir.path()).unwrap();
        let entry = history.record(&sine(100), meta()).unwrap();
        history.set_result(entry.id, "um hello", "Hello.", &[], Some("base.en"), Some("rules")).unwrap();
        drop(history);
        // Back to how version 1 stored it: no `unsure` column.
        let connection = Connection::open(dir.path().join(DATABASE)).unwrap();
        connection.execute_batch("ALTER TABLE entries DROP COLUMN unsure; PRAGMA user_version = 1;").unwrap();
        drop(connection);
        let history = History::open(dir.path()).unwrap();
        let old = history.get(entry.id).unwrap();
        assert_eq!((old.text.as_deref(), old.unsure.len()), (Some("Hello."), 0));
        history.set_result(entry.id, "um hello no hi", "Hi.", &[1, 2], None, None).unwrap();
        assert_eq!(history.get(entry.id).unwrap().unsure, [1, 2]);
        // The user puts a removed word back: the text changes, the raw text and marks stay.
        history.set_text(entry.id, "um hello no hi", "No hi.").unwrap();
        let edited = history.get(entry.id).unwrap();
        assert_eq!((edited.raw_text.as_deref(), edited.text.as_deref(), edited.unsure.as_slice()), (Some("um hello no hi"), Some("No hi."), &[1, 2][..]));
        // An edit made on a raw text the dictation no longer has (it was re-run) is refused.
        let error = history.set_text(entry.id, "um hello", "x").unwrap_err();
        assert!(matches!(error, HistoryError::TranscribedAgain { .. }) && error.to_string().contains("transcribed again"), "{error}");
        assert_eq!(history.get(entry.id).unwrap().text.as_deref(), Some("No hi."));
        let untranscribed = history.record(&sine(100), meta()).unwrap();
        let error = history.set_text(untranscribed.id, "", "x").unwrap_err();
        assert!(matches!(error, HistoryError::NotTranscribed { .. }) && error.to_string().contains("has not been transcribed"), "{error}");
        assert!(matches!(history.set_text(999, "", "x"), Err(HistoryError::NotFound { id: 999, .. })));
        // Marks that cannot be read are dropped; the entry still lists with its text.
        for garbage in ["'not json'", "x'00ff'"] {
            let sql = format!("UPDATE entries SET unsure = {garbage} WHERE id = ?1");
            history.lock().execute(&sql, [entry.id]).unwrap();
            let listed = history.get(entry.id).unwrap();
            assert_eq!((listed.text.as_deref(), listed.unsure.len()), (Some("No hi."), 0), "{garbage}");
        }
        assert_eq!(history.list(10).unwrap().len(), 2);
        let version: i64 = history.lock().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(History::open(dir.path()).unwrap());
        Connection::open(dir.path().join(DATABASE)).unwrap().pragma_update(None, "user_version", 99).unwrap();
        let error = History::open(dir.path()).unwrap_err();
        assert!(matches!(error, HistoryError::NewerSchema { found: 99, .. }), "{error}");
    }

    #[test]
    fn a_corrupt_database_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join(DATABASE);
        std::fs::write(&database, vec![0x5a; 4096]).unwrap();
        let error = History::open(dir.path()).unwrap_err();
        assert!(matches!(error, HistoryError::Database { .. }), "{error}");
        assert!(error.to_string().contains(&database.display().to_string()), "{error}");
    }

    fn damage(dir: &Path, how: &str) {
        let database = dir.join(DATABASE);
        match how {
            "garbage" => std::fs::write(&database, vec![0x5a; 4096]).unwrap(),
            "truncated" => {
                let bytes = std::fs::read(&database).unwrap();
                std::fs::write(&database, &bytes[..bytes.len().min(1500)]).unwrap();
            }
            "newer schema" => Connection::open(&database).unwrap().pragma_update(None, "user_version", 99).unwrap(),
            "other schema" => Connection::open(&database).unwrap().execute_batch("DROP TABLE entries; CREATE TABLE entries (x);").unwrap(),
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_damaged_database_is_kept_aside_and_its_recordings_listed_again() {
        for how in ["garbage", "truncated", "newer schema", "other schema"] {
            let dir = tempfile::tempdir().unwrap();
            let recorded = {
                let history = History::open(dir.path()).unwrap();
                let entry = history.record(&sine(16_000), meta()).unwrap();
                history.lock().execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
                entry
            };
            damage(dir.path(), how);
            let before = std::fs::read(dir.path().join(DATABASE)).unwrap();
            let (history, _) = History::open_repairing(dir.path()).unwrap();
            // Young recordings are left to a writer that may still be at work ...
            assert!(history.list(10).unwrap().is_empty(), "{how}");
            // ... and adopted once left alone.
            let repair = history.repair(Duration::ZERO).unwrap();
            assert_eq!(repair.adopted, 1, "{how}");
            let entries = history.list(10).unwrap();
            assert_eq!(entries[0].audio_file, recorded.audio_file, "{how}");
            assert_eq!(entries[0].status, Status::Recorded);
            assert!((entries[0].duration_seconds - 1.0).abs() < 1e-6);
            assert_eq!(history.read_audio(&entries[0]).unwrap().len(), 16_000);
            let kept: Vec<_> = std::fs::read_dir(dir.path()).unwrap().filter_map(|e| e.ok()).filter(|e| e.file_name().to_string_lossy().starts_with("history.sqlite3.damaged-")).collect();
            assert!(kept.iter().any(|e| std::fs::read(e.path()).unwrap() == before), "{how}: the damaged database is kept as it was");
            drop(history);
            let (_, again) = History::open_repairing(dir.path()).unwrap();
            assert!(again.damaged.is_none() && again.adopted == 0, "{how}: a second open finds nothing to do");
        }
    }

    #[test]
    fn a_damaged_database_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(DATABASE), vec![0x5a; 4096]).unwrap();
        let (_, repair) = History::open_repairing(dir.path()).unwrap();
        let notices = repair.notices();
        assert_eq!(notices.len(), 1);
        assert!(notices[0].contains("history.sqlite3.damaged-") && notices[0].contains("new one was started"), "{notices:?}");
    }

    #[test]
    fn abandoned_temporaries_are_removed_and_odd_files_left() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::open(dir.path()).unwrap();
        let audio = dir.path().join(AUDIO_DIR);
        std::fs::write(audio.join(".dictation-abc.wav.tmp"), b"RIFF").unwrap();
        std::fs::write(audio.join("dictation-17-0000abcd.wav"), b"not a wav").unwrap();
        std::fs::write(audio.join("notes.txt"), b"mine").unwrap();
        let repair = history.repair(Duration::ZERO).unwrap();
        assert_eq!((repair.adopted, repair.removed_temporaries, repair.unreadable.len()), (0, 1, 1));
        assert!(audio.join("notes.txt").exists() && audio.join("dictation-17-0000abcd.wav").exists());
    }

    #[test]
    fn threads_share_one_history() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<History>();
        let dir = tempfile::tempdir().unwrap();
        let history = History::open(dir.path()).unwrap();
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| (0..5).for_each(|_| drop(history.record(&sine(10), NewEntry::default()).unwrap())));
            }
        });
        let entries = history.list(100).unwrap();
        assert_eq!(entries.len(), 20);
        assert!(entries.iter().all(|e| history.audio_path(e).is_file()));
    }
}
