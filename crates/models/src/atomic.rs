//! Write-to-temporary-then-rename, so a reader never sees a half-written file and a failed
//! write leaves the old file (or nothing) in place.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A file being written beside its final path; dropped without [`AtomicFile::commit`] it is removed.
pub struct AtomicFile {
    temp: PathBuf,
    target: PathBuf,
    file: Option<File>,
}

impl AtomicFile {
    pub fn create(target: &Path) -> Result<Self> {
        if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let temp = target.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
        let file = File::create(&temp).map_err(|e| Error::io(&temp, e))?;
        Ok(AtomicFile { temp, target: target.to_path_buf(), file: Some(file) })
    }

    /// The name of the file that `temporary` (a file name) was being written into, when it is
    /// one of this type's temporaries (`.NAME.PID.tmp`): what a process killed while writing
    /// leaves behind.
    pub fn target_of_temporary(temporary: &str) -> Option<&str> {
        let inner = temporary.strip_prefix('.')?.strip_suffix(".tmp")?;
        let (name, pid) = inner.rsplit_once('.')?;
        (!name.is_empty() && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())).then_some(name)
    }

    /// Removes the temporaries of `target` that writes cut off left behind (a process killed
    /// while writing): those whose process is gone (Linux: no `/proc/PID`) or that were left
    /// untouched for at least `grace`; returns how many.
    pub fn remove_abandoned(target: &Path, grace: std::time::Duration) -> usize {
        let Some(name) = target.file_name().and_then(|n| n.to_str()) else { return 0 };
        let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
        let now = std::time::SystemTime::now();
        let writer_gone = |file: &str| {
            let pid = file.strip_suffix(".tmp").and_then(|f| f.rsplit_once('.')).map(|(_, pid)| pid).unwrap_or("");
            cfg!(target_os = "linux") && !pid.is_empty() && !Path::new("/proc").join(pid).exists()
        };
        let untouched = |e: &std::fs::DirEntry| {
            e.metadata().ok().and_then(|m| m.modified().ok()).and_then(|t| now.duration_since(t).ok()).is_some_and(|age| age >= grace)
        };
        entries
            .filter_map(std::result::Result::ok)
            .filter(|e| e.file_name().to_str().and_then(AtomicFile::target_of_temporary) == Some(name))
            .filter(|e| e.file_name().to_str().is_some_and(writer_gone) || untouched(e))
            .filter(|e| std::fs::remove_file(e.path()).is_ok())
            .count()
    }

    pub fn handle(&self) -> &File {
        // Present until commit consumes self.
        self.file.as_ref().expect("file is open until commit")
    }

    /// Flushes to disk and renames into place; returns the file size.
    pub fn commit(mut self) -> Result<u64> {
        let file = self.file.take().expect("file is open until commit");
        file.sync_all().map_err(|e| Error::io(&self.temp, e))?;
        let len = file.metadata().map_err(|e| Error::io(&self.temp, e))?.len();
        drop(file);
        std::fs::rename(&self.temp, &self.target).map_err(|e| {
            // Nothing will rename it later: a failed rename must not leave the temporary.
            let _ = std::fs::remove_file(&self.temp);
            Error::io(&self.target, e)
        })?;
        Ok(len)
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_temporary_names_its_target() {
        let dir = tempfile::tempdir().expect("tmp");
        let target = dir.path().join("talk.json");
        let file = AtomicFile::create(&target).expect("create");
        let temp = file.temp.file_name().and_then(|n| n.to_str()).expect("name").to_owned();
        assert_eq!(AtomicFile::target_of_temporary(&temp), Some("talk.json"));
        drop(file);
        for other in ["talk.json", ".talk.json.tmp", ".talk.json.12a.tmp", "..1.tmp", ".x.1.tmp.bak"] {
            assert_eq!(AtomicFile::target_of_temporary(other), None, "{other}");
        }
        assert_eq!(AtomicFile::target_of_temporary(".a.b.c.77.tmp"), Some("a.b.c"));
    }

    #[test]
    fn a_failed_rename_leaves_no_temporary() {
        let dir = tempfile::tempdir().expect("tmp");
        let target = dir.path().join("in-the-way");
        std::fs::create_dir_all(target.join("child")).expect("a folder in the way");
        let file = AtomicFile::create(&target).expect("create");
        assert!(file.commit().is_err(), "renamed onto a folder that is not empty");
        let names: Vec<_> = std::fs::read_dir(dir.path()).expect("list").filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("in-the-way")]);
    }
}
