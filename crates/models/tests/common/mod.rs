//! Locating the test inputs that `make test` fetches from package registries.

#![allow(dead_code)]

use std::path::PathBuf;

/// Where `make` keeps downloaded wheels (`SCRIVO_WHEEL_CACHE`, else ~/.cache/scrivo/wheels).
pub fn wheel_cache() -> PathBuf {
    std::env::var_os("SCRIVO_WHEEL_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/scrivo/wheels")
    })
}

/// The cached wheel whose file name starts with `prefix`, or None with a printed notice.
pub fn wheel(prefix: &str) -> Option<PathBuf> {
    let found = std::fs::read_dir(wheel_cache())
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(prefix)));
    if found.is_none() {
        eprintln!("SKIP: wheel {prefix}* not in {} (run `make test`, which fetches it)", wheel_cache().display());
    }
    found
}
