//! The user's settings that outlive a run (`settings.toml` in the config dir, or the file named
//! by `SCRIVO_SETTINGS`): the chosen input device, the models' memory budget and idle timeout. Saved atomically; a missing or unreadable
//! file gives the defaults (with a warning for an unreadable one), never an error.

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The input device chosen with `--device`, used when none is given.
    pub input_device: Option<String>,
    /// Memory for the speech and polishing models together, in MB.
    pub memory_budget_mb: Option<u64>,
    /// Unload a model not used for this many seconds.
    pub idle_unload_seconds: Option<u64>,
}

fn path() -> PathBuf {
    std::env::var_os("SCRIVO_SETTINGS").map(PathBuf::from).unwrap_or_else(|| crate::paths::config("settings.toml"))
}

/// Both default models with room to spare (tiny.en q8_0 and SmolLM2 q8_0 measured 243 MB).
pub const DEFAULT_BUDGET_MB: u64 = 450;
pub const DEFAULT_IDLE_SECONDS: u64 = 300;

impl Settings {
    /// The model manager these settings ask for, with `budget_mb` over the saved budget.
    pub fn resident(&self, budget_mb: Option<u64>) -> scrivo_models::resident::Resident {
        let budget = budget_mb.or(self.memory_budget_mb).unwrap_or(DEFAULT_BUDGET_MB) << 20;
        scrivo_models::resident::Resident::new(budget, std::time::Duration::from_secs(self.idle_unload_seconds.unwrap_or(DEFAULT_IDLE_SECONDS)))
    }

    pub fn load() -> Settings {
        let path = path();
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).unwrap_or_else(|e| {
                tracing::warn!("{}: {e}; using the default settings", path.display());
                Settings::default()
            }),
            Err(_) => Settings::default(),
        }
    }

    pub fn save(&self) -> Result<()> {
        let path = path();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let text = toml::to_string(self).context("settings as TOML")?;
        scrivo_batch::write_atomically(&path, &text)?;
        Ok(())
    }
}
