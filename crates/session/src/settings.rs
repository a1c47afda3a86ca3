//! The user's settings that outlive a run (`settings.toml` in the config dir, or the file named
//! by `SCRIVO_SETTINGS`): the chosen input device, the models' memory budget and idle timeout,
//! language, polishing, the desktop app's shortcuts and start at login. Saved atomically; a
//! missing or unreadable file gives the defaults (with a warning for an unreadable one), never
//! an error. Fields not set in the file take their defaults.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::{Result, SessionError};

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

    pub fn load() -> Settings {
        let path = path();
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).unwrap_or_else(|e| {
                tracing::warn!("{}: {e}; using the default settings", path.display());
                Settings::default()
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Settings::default(),
            Err(e) => {
                tracing::warn!("{}: {e}; using the default settings", path.display());
                Settings::default()
            }
        }
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

    pub fn save(&self) -> Result<()> {
        let path = path();
        let fail = |message: String| SessionError::Settings { path: path.clone(), message };
        if let Some((field, message)) = self.problems().into_iter().next() {
            return Err(fail(format!("{field} {message}")));
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| fail(format!("creating {}: {e}", dir.display())))?;
        }
        let text = toml::to_string(self).map_err(|e| fail(e.to_string()))?;
        scrivo_batch::write_atomically(&path, &text)?;
        Ok(())
    }
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
    fn bad_values_are_named() {
        let s = Settings { memory_budget_mb: Some(10), shortcut_push_to_talk: Settings::default().shortcut_toggle, ..Settings::default() };
        let fields: Vec<&str> = s.problems().iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["memory_budget_mb", "shortcut_push_to_talk"]);
        assert!(Settings::default().problems().is_empty());
    }
}
