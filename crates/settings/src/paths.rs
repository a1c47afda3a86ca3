//! The user's folders (XDG base directories, with the usual fallbacks under $HOME).

use std::path::PathBuf;

fn base(var: &str, fallback: &str) -> PathBuf {
    std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
        home.join(fallback)
    })
}

/// `$XDG_DATA_HOME/scrivo/<sub>` (default `~/.local/share/scrivo/<sub>`).
pub fn data(sub: &str) -> PathBuf {
    base("XDG_DATA_HOME", ".local/share").join("scrivo").join(sub)
}

/// `$XDG_CONFIG_HOME/scrivo/<sub>` (default `~/.config/scrivo/<sub>`).
pub fn config(sub: &str) -> PathBuf {
    base("XDG_CONFIG_HOME", ".config").join("scrivo").join(sub)
}

/// `$XDG_CACHE_HOME/scrivo/<sub>` (default `~/.cache/scrivo/<sub>`).
pub fn cache(sub: &str) -> PathBuf {
    base("XDG_CACHE_HOME", ".cache").join("scrivo").join(sub)
}
