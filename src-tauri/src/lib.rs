//! Scrivo's desktop window: a thin Tauri 2 shell over the library crates.
//!
//! Commands here only translate between the web page and the libraries; anything a button does
//! is a library call that the CLI can make too. The page itself is static files in `ui/`,
//! embedded into the binary at build time (`build.frontendDist` in `tauri.conf.json`).

use scrivo_models::manifest::{Manifest, ModelEntry};
use serde::Serialize;

/// What the page shows about this build.
#[derive(Debug, Serialize)]
pub struct AppInfo {
    pub version: &'static str,
    pub models: Vec<ModelSummary>,
}

/// One model from the built-in manifest, as the page lists it.
#[derive(Debug, Serialize)]
pub struct ModelSummary {
    pub id: String,
    /// `asr` or `polish`.
    pub role: String,
    pub format: String,
    pub size_bytes: u64,
}

impl From<&ModelEntry> for ModelSummary {
    fn from(m: &ModelEntry) -> Self {
        ModelSummary {
            id: m.id.clone(),
            role: m.role.to_string(),
            format: m.format.clone(),
            size_bytes: m.size_bytes,
        }
    }
}

/// The app version and the models this build knows (from the built-in manifest).
pub fn load_app_info() -> Result<AppInfo, scrivo_models::Error> {
    let manifest = Manifest::builtin()?;
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        models: manifest.models.iter().map(ModelSummary::from).collect(),
    })
}

/// `invoke('app_info')`: [`load_app_info`] for the page; an error crosses as its message.
#[tauri::command]
fn app_info() -> Result<AppInfo, String> {
    load_app_info().map_err(|e| e.to_string())
}

/// Opens the main window and runs until it closes.
pub fn run() {
    let result = tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![app_info])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("scrivo-app: could not start the window: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn app_info_lists_the_builtin_models() {
        let info = super::load_app_info().expect("built-in manifest parses");
        assert!(!info.models.is_empty());
        assert!(info
            .models
            .iter()
            .all(|m| !m.id.is_empty() && (m.role == "asr" || m.role == "polish")));
    }
}
