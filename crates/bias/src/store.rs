//! Reading and writing list files: atomic saves that keep the previous version, conflict
//! detection, a folder of the user's lists, and import/export as text, CSV or TOML.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::list::{parse, BiasingList, Entry};
use crate::BiasError;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BiasError + '_ {
    move |source| BiasError::Io { path: path.to_path_buf(), source }
}

/// The largest list file read: a list of 100,000 terms with spellings and notes is about
/// 10 MB. A larger file is refused before it is read, so a wrong file (a recording, a disk
/// image) is an error and not a gigabyte of memory.
pub const MAX_FILE_BYTES: u64 = 32 << 20;

/// The text of a list or import file, refused when larger than [`MAX_FILE_BYTES`] or not UTF-8.
fn read_text(path: &Path) -> Result<String, BiasError> {
    use std::io::Read;
    let file = fs::File::open(path).map_err(io(path))?;
    let too_big = |size: u64| BiasError::TooLarge { path: path.to_path_buf(), size, limit: MAX_FILE_BYTES };
    let size = file.metadata().map_err(io(path))?.len();
    if size > MAX_FILE_BYTES {
        return Err(too_big(size));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // Read one byte past the limit: a file that grows while it is read is refused too.
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(io(path))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| BiasError::Format {
        path: path.to_path_buf(),
        line: 0,
        message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
    })
}

/// Reads and checks the list at `path`.
pub fn load(path: &Path) -> Result<BiasingList, BiasError> {
    let text = read_text(path)?;
    parse(&text, path).map_err(BiasError::Invalid)
}

/// The previous version of `path` kept by [`save`]: `NAME.toml.bak`.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".bak");
    path.with_file_name(name)
}

/// Writes `text` to `path` atomically (a temporary file in the same folder, synced, then
/// renamed over it). An existing file is first copied to [`backup_path`], atomically too: a
/// crash at any moment leaves the old file or the new one, and a whole backup or the one
/// before.
pub fn write_atomically(path: &Path, text: &str) -> Result<(), BiasError> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io(dir))?;
    let temporary = || tempfile::Builder::new().prefix(TEMPORARY_PREFIX).suffix(".tmp").tempfile_in(dir).map_err(io(dir));
    let mut tmp = temporary()?;
    tmp.write_all(text.as_bytes()).map_err(io(path))?;
    tmp.as_file().sync_all().map_err(io(path))?;
    match fs::File::open(path) {
        Ok(mut old) => {
            let backup = backup_path(path);
            let mut copy = temporary()?;
            std::io::copy(&mut old, &mut copy).map_err(io(&backup))?;
            copy.as_file().sync_all().map_err(io(&backup))?;
            copy.persist(&backup).map_err(|e| BiasError::Io { path: backup.clone(), source: e.error })?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(BiasError::Io { path: path.to_path_buf(), source: e }),
    }
    tmp.persist(path).map_err(|e| BiasError::Io { path: path.to_path_buf(), source: e.error })?;
    Ok(())
}

/// How [`write_atomically`]'s temporary files start; one left behind is a write cut off.
const TEMPORARY_PREFIX: &str = ".scrivo-";

/// How long a temporary must have been left untouched before [`Store::all`] takes it as the
/// leftover of a write cut off (a save takes milliseconds).
pub const ABANDONED_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Removes the temporaries of writes that never finished (a process killed while saving) from
/// `dir`, those untouched for `grace`; returns how many.
pub fn remove_abandoned_temporaries(dir: &Path, grace: std::time::Duration) -> usize {
    let Ok(entries) = fs::read_dir(dir) else { return 0 };
    let now = std::time::SystemTime::now();
    entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_str().is_some_and(|n| n.starts_with(TEMPORARY_PREFIX) && n.ends_with(".tmp")))
        .filter(|e| e.metadata().ok().and_then(|m| m.modified().ok()).and_then(|t| now.duration_since(t).ok()).is_some_and(|age| age >= grace))
        .filter(|e| fs::remove_file(e.path()).is_ok())
        .count()
}

/// Saves `list` to `path` (atomically, previous version kept).
pub fn save(path: &Path, list: &BiasingList) -> Result<(), BiasError> {
    write_atomically(path, &list.to_toml())
}

/// Saves `list` only if the file still holds `expected` (what the editor loaded); otherwise
/// [`BiasError::Conflict`] and nothing is written. `expected` None means the file must not exist.
pub fn save_if_unchanged(path: &Path, list: &BiasingList, expected: Option<&str>) -> Result<(), BiasError> {
    let current = match fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(BiasError::Io { path: path.to_path_buf(), source: e }),
    };
    if current.as_deref() != expected {
        return Err(BiasError::Conflict { path: path.to_path_buf() });
    }
    save(path, list)
}

/// A file name for a list name: lower case, letters and digits, words joined by '-', at most
/// [`MAX_STEM_CHARS`] characters. Nothing else survives, so no name reaches outside the lists
/// folder ("../x", "/etc/passwd", a NUL) or makes a name the file system refuses.
pub fn file_stem_for(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if out.chars().count() >= MAX_STEM_CHARS {
            break;
        }
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "list".into()
    } else {
        out
    }
}

/// The longest file stem [`file_stem_for`] makes (file systems allow 255 bytes; a letter may
/// take four).
pub const MAX_STEM_CHARS: usize = 60;

/// A list file and what loading it gave.
pub type Loaded = (PathBuf, Result<BiasingList, BiasError>);

/// The folder of the user's lists (one `.toml` file each).
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Store { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every list file in the folder, sorted by file name, each loaded or with its problems.
    /// Temporaries left by a save that was cut off are removed on the way.
    pub fn all(&self) -> Result<Vec<Loaded>, BiasError> {
        remove_abandoned_temporaries(&self.dir, ABANDONED_AFTER);
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(BiasError::Io { path: self.dir.clone(), source: e }),
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml") && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
            .collect();
        paths.sort();
        Ok(paths.into_iter().map(|p| (p.clone(), load(&p))).collect())
    }

    /// The enabled lists; a broken file is skipped with a warning naming its problems.
    pub fn enabled(&self) -> Result<Vec<BiasingList>, BiasError> {
        let mut out = Vec::new();
        for (path, list) in self.all()? {
            match list {
                Ok(l) if l.enabled => out.push(l),
                Ok(_) => {}
                Err(e) => tracing::warn!(path = %path.display(), "biasing list skipped: {e}"),
            }
        }
        Ok(out)
    }

    /// The file of the list called `name` (by list name, case-insensitive, or file stem); a new
    /// path when there is none.
    pub fn path_of(&self, name: &str) -> Result<PathBuf, BiasError> {
        for (path, list) in self.all()? {
            let by_stem = path.file_stem().is_some_and(|s| s.to_string_lossy().eq_ignore_ascii_case(name));
            let by_name = list.as_ref().is_ok_and(|l| l.name.eq_ignore_ascii_case(name));
            if by_stem || by_name {
                return Ok(path);
            }
        }
        Ok(self.dir.join(format!("{}.toml", file_stem_for(name))))
    }

    /// Loads the list called `name`.
    pub fn get(&self, name: &str) -> Result<(PathBuf, BiasingList), BiasError> {
        let path = self.path_of(name)?;
        if !path.exists() {
            return Err(BiasError::NotFound { name: name.to_string(), dir: self.dir.clone() });
        }
        let list = load(&path)?;
        Ok((path, list))
    }

    /// Loads the list called `name`, or a new empty enabled one.
    pub fn get_or_new(&self, name: &str) -> Result<(PathBuf, BiasingList), BiasError> {
        match self.get(name) {
            Err(BiasError::NotFound { .. }) => Ok((self.path_of(name)?, BiasingList::new(name))),
            other => other,
        }
    }
}

/// A file format for import and export, chosen by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// One term per line; blank lines and lines starting with '#' are skipped.
    Text,
    /// `term,sounds_like,note` with a header; several spellings in one cell separated by ';'.
    Csv,
    Toml,
}

impl FileFormat {
    pub fn of(path: &Path) -> Result<Self, BiasError> {
        match path.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase()).as_deref() {
            Some("txt") | Some("text") | Some("lst") => Ok(FileFormat::Text),
            Some("csv") => Ok(FileFormat::Csv),
            Some("toml") => Ok(FileFormat::Toml),
            _ => Err(BiasError::Format { path: path.to_path_buf(), line: 0, message: "unknown file type: use .txt, .csv or .toml".into() }),
        }
    }
}

/// Reads entries from a text, CSV or TOML file.
pub fn import(path: &Path) -> Result<Vec<Entry>, BiasError> {
    let format = FileFormat::of(path)?;
    if format == FileFormat::Toml {
        return Ok(load(path)?.entries);
    }
    let text = read_text(path)?;
    match format {
        FileFormat::Text => Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(Entry::new)
            .collect()),
        _ => import_csv(&text, path),
    }
}

fn import_csv(text: &str, path: &Path) -> Result<Vec<Entry>, BiasError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 1;
        let record = record.map_err(|e| BiasError::Format { path: path.to_path_buf(), line, message: e.to_string() })?;
        let term = record.get(0).unwrap_or("").to_string();
        if i == 0 && term.eq_ignore_ascii_case("term") {
            continue;
        }
        if crate::list::fold(&term).is_empty() {
            return Err(BiasError::Format { path: path.to_path_buf(), line, message: "empty term in the first column".into() });
        }
        let sounds_like = record.get(1).unwrap_or("").split(';').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
        let note = record.get(2).map(str::trim).filter(|s| !s.is_empty()).map(String::from);
        out.push(Entry { term, sounds_like, note });
    }
    Ok(out)
}

/// Writes `list` to `path` in the format its extension names. An existing file is replaced only
/// with `overwrite` (the user said yes); otherwise [`BiasError::Exists`] and nothing is written.
pub fn export(list: &BiasingList, path: &Path, overwrite: bool) -> Result<(), BiasError> {
    if !overwrite && fs::symlink_metadata(path).is_ok() {
        return Err(BiasError::Exists { path: path.to_path_buf() });
    }
    let text = match FileFormat::of(path)? {
        FileFormat::Toml => list.to_toml(),
        FileFormat::Text => list.entries.iter().map(|e| format!("{}\n", e.term)).collect(),
        FileFormat::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let csv_err = |e: csv::Error| BiasError::Format { path: path.to_path_buf(), line: 0, message: e.to_string() };
            w.write_record(["term", "sounds_like", "note"]).map_err(csv_err)?;
            for e in &list.entries {
                w.write_record([e.term.as_str(), &e.sounds_like.join("; "), e.note.as_deref().unwrap_or("")]).map_err(csv_err)?;
            }
            let bytes = w.into_inner().map_err(|e| BiasError::Format { path: path.to_path_buf(), line: 0, message: e.to_string() })?;
            String::from_utf8_lossy(&bytes).into_owned()
        }
    };
    write_atomically(path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> BiasingList {
        let mut l = BiasingList::new("Team words");
        l.add(Entry { term: "Anja Schmidt".into(), sounds_like: vec!["anya smith".into(), "anja schmit".into()], note: Some("CTO, Berlin".into()) });
        l.add(Entry::new("O'Reilly"));
        l
    }

    #[test]
    fn save_keeps_the_previous_version_and_never_leaves_temp_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("team.toml");
        let mut list = sample();
        save(&path, &list).expect("save");
        assert!(!backup_path(&path).exists());
        let first = fs::read_to_string(&path).expect("read");
        list.add(Entry::new("Tauri"));
        save(&path, &list).expect("save again");
        assert_eq!(fs::read_to_string(backup_path(&path)).expect("backup"), first);
        assert_eq!(load(&path).expect("load"), list);
        let names: Vec<String> = fs::read_dir(dir.path()).expect("dir").map(|e| e.expect("entry").file_name().to_string_lossy().into_owned()).collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn save_if_unchanged_detects_a_conflict() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("team.toml");
        let list = sample();
        save_if_unchanged(&path, &list, None).expect("new file");
        let loaded = fs::read_to_string(&path).expect("read");
        fs::write(&path, "name = \"changed elsewhere\"\n").expect("write");
        let err = save_if_unchanged(&path, &list, Some(&loaded)).expect_err("conflict");
        assert!(matches!(err, BiasError::Conflict { .. }));
        assert!(err.to_string().contains("team.toml"));
        assert_eq!(fs::read_to_string(&path).expect("read"), "name = \"changed elsewhere\"\n");
    }

    #[test]
    fn import_export_round_trips_in_every_format() {
        let dir = tempfile::tempdir().expect("tempdir");
        let list = sample();
        for ext in ["csv", "toml"] {
            let path = dir.path().join(format!("out.{ext}"));
            export(&list, &path, false).expect("export");
            assert_eq!(import(&path).expect("import"), list.entries, "{ext}");
        }
        let path = dir.path().join("out.txt");
        export(&list, &path, false).expect("export");
        let terms: Vec<String> = import(&path).expect("import").into_iter().map(|e| e.term).collect();
        assert_eq!(terms, vec!["Anja Schmidt", "O'Reilly"]);
        // An existing file is replaced only when the user said so.
        let err = export(&list, &path, false).expect_err("exists");
        assert!(matches!(err, BiasError::Exists { .. }) && err.to_string().contains("out.txt"), "{err}");
        assert_eq!(import(&path).expect("import").len(), 2);
        export(&list, &path, true).expect("replace");
    }

    #[test]
    fn hostile_names_stay_inside_the_lists_folder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::new(dir.path().join("lists"));
        let long = "x".repeat(100_000);
        for name in ["../escape", "/etc/passwd", "..", "a/../../b", "nul\0byte", "C:\\Windows\\x", "\u{202e}txt.exe", long.as_str(), ""] {
            let path = store.path_of(name).expect("path");
            assert_eq!(path.parent(), Some(store.dir()), "{name:?} -> {}", path.display());
            let stem = path.file_stem().and_then(|s| s.to_str()).expect("stem");
            assert!(stem.chars().count() <= MAX_STEM_CHARS && !stem.contains(".."), "{name:?} -> {stem}");
            let mut list = BiasingList::new(name);
            list.add(Entry::new("Kubernetes"));
            save(&path, &list).expect("save");
        }
        let outside: Vec<_> = fs::read_dir(dir.path()).expect("dir").filter_map(Result::ok).map(|e| e.file_name()).collect();
        assert_eq!(outside, ["lists"], "nothing written beside the lists folder");
    }

    #[test]
    fn a_huge_list_file_is_refused_before_it_is_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("huge.txt");
        // A sparse file: a gigabyte on paper, nothing on disk.
        fs::File::create(&path).and_then(|f| f.set_len(1 << 30)).expect("sparse file");
        for result in [import(&path).map(drop), load(&path).map(drop)] {
            let err = result.expect_err("too large");
            assert!(matches!(err, BiasError::TooLarge { size: 1073741824, .. }), "{err}");
            assert!(err.to_string().contains("huge.txt"), "{err}");
        }
    }

    #[test]
    fn abandoned_temporaries_are_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join(".scrivo-abc.tmp"), "half a list").expect("write");
        fs::write(dir.path().join("mine.toml"), "name = \"mine\"\n").expect("write");
        assert_eq!(remove_abandoned_temporaries(dir.path(), std::time::Duration::ZERO), 1);
        assert!(dir.path().join("mine.toml").exists());
    }

    #[test]
    fn import_reports_the_bad_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("in.csv");
        fs::write(&path, "term,sounds_like\nTauri,tory\n,nothing\n").expect("write");
        let err = import(&path).expect_err("bad line");
        assert!(err.to_string().contains("in.csv:3"), "{err}");
        assert!(import(&dir.path().join("x.docx")).is_err());
    }

    #[test]
    fn store_finds_lists_by_name_or_file_and_skips_broken_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::new(dir.path());
        assert!(store.all().expect("empty").is_empty());
        let (path, mut list) = store.get_or_new("Team Words").expect("new");
        assert_eq!(path, dir.path().join("team-words.toml"));
        list.add(Entry::new("Tauri"));
        save(&path, &list).expect("save");
        fs::write(dir.path().join("broken.toml"), "name = ").expect("write");
        assert_eq!(store.get("team words").expect("by name").1, list);
        assert_eq!(store.get("team-words").expect("by stem").1, list);
        assert_eq!(store.enabled().expect("enabled").len(), 1);
        assert!(matches!(store.get("nope"), Err(BiasError::NotFound { .. })));
    }
}
