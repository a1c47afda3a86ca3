//! The user's settings that outlive a run (`settings.toml` in the config dir, or the file named
//! by `SCRIVO_SETTINGS`): the chosen input device, the models' memory budget and idle timeout,
//! language, polishing, the desktop app's shortcuts and start at login, and [`paths`], the
//! user's folders.
//!
//! Reading never stops the app: a missing file gives the defaults; a file that cannot be parsed
//! is renamed aside (`settings.toml.damaged-<unix seconds>`), so the next save cannot overwrite
//! what the user wrote, and [`Settings::load_checked`] says what was wrong and where the file
//! went. Fields not set in the file take their defaults. Saves are atomic (a temporary file,
//! synced, renamed over the old one): a crash or a full disk leaves the old file whole.

pub mod paths;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A save that did not happen; the message names the field or the file.
#[derive(Debug, thiserror::Error)]
#[error("settings file {}: {message}", path.display())]
pub struct SettingsError {
    pub path: PathBuf,
    pub message: String,
}

pub type Result<T, E = SettingsError> = std::result::Result<T, E>;

/// What [`Settings::load_checked`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub settings: Settings,
    /// Why the file was not used, when it was not: what is wrong and where it was put aside.
    pub problem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The input device chosen last, used when none is given.
    pub input_device: Option<String>,
    /// Memory for the speech and polishing models together, in MB.
    pub memory_budget_mb: Option<u64>,
    /// Unload a model not used for this many seconds (0: never).
    pub idle_unload_seconds: Option<u64>,
    /// The spoken language (the shipped models are English-only).
    pub language: String,
    /// Polish the recognised text (off: the recogniser's text with the biasing lists applied).
    pub polish: bool,
    /// The polishing style: `clean` or `verbatim` (or an adapter file from `scrivo train lora`).
    pub style: String,
    /// The desktop app's shortcut that starts and stops a dictation.
    pub shortcut_toggle: String,
    /// The desktop app's shortcut that records while held.
    pub shortcut_push_to_talk: String,
    /// Start the desktop app when the user logs in.
    pub start_at_login: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            input_device: None,
            memory_budget_mb: None,
            idle_unload_seconds: None,
            language: "en".into(),
            polish: true,
            style: "clean".into(),
            shortcut_toggle: "CommandOrControl+Shift+Space".into(),
            shortcut_push_to_talk: "CommandOrControl+Shift+D".into(),
            start_at_login: false,
        }
    }
}

/// The settings file.
pub fn path() -> PathBuf {
    std::env::var_os("SCRIVO_SETTINGS").map(PathBuf::from).unwrap_or_else(|| crate::paths::config("settings.toml"))
}

/// Both default models with room to spare (tiny.en q8_0 and SmolLM2 q8_0 measured 243 MB).
pub const DEFAULT_BUDGET_MB: u64 = 450;
pub const DEFAULT_IDLE_SECONDS: u64 = 300;

impl Settings {
    pub fn budget_mb(&self) -> u64 {
        self.memory_budget_mb.unwrap_or(DEFAULT_BUDGET_MB)
    }

    /// The polishing style; an unknown one is warned about and taken as clean.
    pub fn style(&self) -> scrivo_polish::Style {
        self.style.parse().unwrap_or_else(|e: String| {
            tracing::warn!("settings: style: {e}; using clean");
            scrivo_polish::Style::Clean
        })
    }

    pub fn idle_seconds(&self) -> u64 {
        self.idle_unload_seconds.unwrap_or(DEFAULT_IDLE_SECONDS)
    }

    /// The model manager these settings ask for, with `budget_mb` over the saved budget.
    pub fn resident(&self, budget_mb: Option<u64>) -> scrivo_models::resident::Resident {
        let budget = budget_mb.unwrap_or(self.budget_mb()) << 20;
        let idle = match self.idle_seconds() {
            0 => std::time::Duration::MAX,
            s => std::time::Duration::from_secs(s),
        };
        scrivo_models::resident::Resident::new(budget, idle)
    }

    /// The saved settings, or the defaults (a problem is logged as a warning).
    pub fn load() -> Settings {
        let loaded = Settings::load_checked();
        if let Some(problem) = &loaded.problem {
            tracing::warn!("{problem}");
        }
        loaded.settings
    }

    /// The settings in [`path`]; the defaults with the reason when the file is missing (no
    /// reason), unreadable, or damaged (then kept aside under a new name, nothing deleted).
    pub fn load_checked() -> Loaded {
        Settings::load_from(&path())
    }

    /// [`Settings::load_checked`] for the file at `path`.
    pub fn load_from(path: &Path) -> Loaded {
        scrivo_models::AtomicFile::remove_abandoned(path, std::time::Duration::from_secs(60));
        let defaults = |problem: String| Loaded { settings: Settings::default(), problem: Some(problem) };
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Loaded { settings: Settings::default(), problem: None },
            Err(e) => return defaults(format!("{}: {e}; using the default settings", path.display())),
        };
        let parsed = std::str::from_utf8(&bytes).map_err(|e| format!("not UTF-8 text ({e})")).and_then(Settings::parse);
        match parsed {
            Ok(settings) => Loaded { settings, problem: None },
            Err(why) => {
                let aside = set_aside(path);
                let kept = match &aside {
                    Ok(to) => format!("kept as {}", to.display()),
                    Err(e) => format!("could not be renamed aside ({e}); it is left in place and will be replaced by the next save"),
                };
                defaults(format!("{}: {why}; using the default settings (the damaged file is {kept})", path.display()))
            }
        }
    }

    /// Parses the text of a settings file.
    pub fn parse(text: &str) -> std::result::Result<Settings, String> {
        toml::from_str(text).map_err(|e: toml::de::Error| e.message().to_string())
    }

    /// What is wrong with these settings, field by field (empty when they can be saved).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if let Some(mb) = self.memory_budget_mb {
            if !(50..=65_536).contains(&mb) {
                problems.push(("memory_budget_mb", format!("{mb} MB is outside 50 to 65536 MB")));
            }
        }
        if self.language != "en" {
            problems.push(("language", format!("{:?} is not available: the installed models are English-only", self.language)));
        }
        match self.style.parse::<scrivo_polish::Style>() {
            Err(e) => problems.push(("style", e)),
            Ok(scrivo_polish::Style::Adapter(p)) if !p.is_file() => problems.push(("style", format!("{} does not exist", p.display()))),
            Ok(_) => {}
        }
        if !self.shortcut_toggle.is_empty() && self.shortcut_toggle == self.shortcut_push_to_talk {
            problems.push(("shortcut_push_to_talk", "is the same as the start/stop shortcut".into()));
        }
        problems
    }

    /// Saves to [`path`] atomically; a problem with a field (see [`Settings::problems`]) saves
    /// nothing.
    pub fn save(&self) -> Result<()> {
        self.save_to(&path())
    }

    /// [`Settings::save`] to `path`.
    pub fn save_to(&self, path: &Path) -> Result<()> {
        let fail = |message: String| SettingsError { path: path.to_path_buf(), message };
        if let Some((field, message)) = self.problems().into_iter().next() {
            return Err(fail(format!("{field} {message}")));
        }
        let text = toml::to_string(self).map_err(|e| fail(e.to_string()))?;
        let file = scrivo_models::AtomicFile::create(path).map_err(|e| fail(e.to_string()))?;
        std::io::Write::write_all(&mut file.handle(), text.as_bytes()).map_err(|e| fail(format!("writing: {e}")))?;
        file.commit().map_err(|e| fail(e.to_string()))?;
        Ok(())
    }
}

/// Renames a damaged file to `NAME.damaged-<unix seconds>` (a number added if that exists).
fn set_aside(path: &Path) -> std::io::Result<PathBuf> {
    let seconds = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut to = path.with_file_name(format!("{name}.damaged-{seconds}"));
    let mut n = 1;
    while to.exists() {
        to = path.with_file_name(format!("{name}.damaged-{seconds}-{n}"));
        n += 1;
    }
    std::fs::rename(path, &to)?;
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_old_file_gets_the_new_fields_defaults() {
        let s: Settings = toml::from_str("input_device = \"pulse\"\nmemory_budget_mb = 200\n").expect("parses");
        assert_eq!(s.input_device.as_deref(), Some("pulse"));
        assert_eq!(s.budget_mb(), 200);
        assert!(s.polish);
        assert_eq!(s.language, "en");
        assert_eq!(s.idle_seconds(), DEFAULT_IDLE_SECONDS);
    }

    #[test]
    fn a_damaged_file_is_kept_aside_and_named() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("settings.toml");
        for damaged in [&b"memory_budget_mb = \"lots\"\n"[..], b"[[[", b"\xff\xfe\x00garbage", b"polish = true\npolish = false\n"] {
            std::fs::write(&path, damaged).expect("write");
            let loaded = Settings::load_from(&path);
            assert_eq!(loaded.settings, Settings::default());
            let problem = loaded.problem.expect("a problem is reported");
            assert!(problem.contains("settings.toml") && problem.contains("damaged"), "{problem}");
            assert!(!path.exists(), "the damaged file is moved away");
            let kept: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").filter_map(|e| e.ok()).filter(|e| std::fs::read(e.path()).ok().as_deref() == Some(damaged)).collect();
            assert_eq!(kept.len(), 1, "the damaged bytes are kept once");
            // The next save writes a fresh file; the kept one is untouched.
            Settings::default().save_to(&path).expect("save");
            assert_eq!(Settings::load_from(&path), Loaded { settings: Settings::default(), problem: None });
            std::fs::remove_file(kept[0].path()).expect("rm");
        }
    }

    #[test]
    fn a_missing_file_is_the_defaults_without_a_problem() {
        let dir = tempfile::tempdir().expect("tmp");
        assert_eq!(Settings::load_from(&dir.path().join("none.toml")), Loaded { settings: Settings::default(), problem: None });
    }

    #[test]
    fn bad_values_are_named() {
        let s = Settings { memory_budget_mb: Some(10), shortcut_push_to_talk: Settings::default().shortcut_toggle, ..Settings::default() };
        let fields: Vec<&str> = s.problems().iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["memory_budget_mb", "shortcut_push_to_talk"]);
        assert!(Settings::default().problems().is_empty());
    }
}
