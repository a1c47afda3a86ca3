//! Scrivo's desktop window: a thin Tauri 2 shell over the library crates.
//!
//! Commands only translate between the page and the libraries; anything a button does is a
//! library call the CLI can make too ([`scrivo_session`], [`scrivo_batch`], [`scrivo_bias`],
//! [`scrivo_history`], [`scrivo_models`]). One [`state::AppState`] holds the stores, the
//! settings and the model manager. The page is `ui/` (TypeScript, built into `ui/dist` and
//! embedded at build time); its types come from [`dto`] through ts-rs.
//!
//! Environment (for tests and portable setups): `SCRIVO_MODELS_DIR`, `SCRIVO_HISTORY_DIR`,
//! `SCRIVO_BIAS_DIR`, `SCRIVO_SETTINGS`.

mod batch;
mod dictation;
pub mod dto;
mod error;
mod history;
mod lists;
mod settings;
pub mod state;

use std::time::Duration;

use tauri::Manager;

/// How often idle models are checked for unloading.
const IDLE_CHECK: Duration = Duration::from_secs(5);

#[tauri::command]
fn app_info(state: tauri::State<'_, state::AppState>) -> dto::AppInfo {
    dto::AppInfo { version: env!("CARGO_PKG_VERSION").into(), notices: state.notices.clone() }
}

/// Opens the main window and runs until it closes.
pub fn run() {
    let state = match state::AppState::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("scrivo-app: {e:#}");
            std::process::exit(1);
        }
    };
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_global_shortcut::Builder::new().build())
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_dialog::init())
        .manage(state)
        .setup(|app| {
            if let Err(e) = dictation::tray(app) {
                tracing::warn!("no tray icon: {e}");
            }
            dictation::register_shortcuts(app.handle());
            let handle = app.handle().clone();
            // Models loaded before the first dictation, and unloaded when idle.
            std::thread::Builder::new().name("models".into()).spawn(move || {
                let state = handle.state::<state::AppState>();
                match state.take_pipeline() {
                    Ok(p) => state.put_pipeline(p),
                    Err(e) => tracing::warn!("models not preloaded: {e}"),
                }
                loop {
                    std::thread::sleep(IDLE_CHECK);
                    state.resident().unload_idle();
                }
            })?;
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            app_info,
            dictation::dictation_start,
            dictation::dictation_stop,
            dictation::dictation_cancel,
            dictation::copy_text,
            dictation::paste_text,
            batch::batch_expand,
            batch::batch_start,
            batch::batch_cancel,
            batch::open_path,
            lists::bias_lists,
            lists::bias_set_enabled,
            lists::bias_list_get,
            lists::bias_list_create,
            lists::bias_list_delete,
            lists::bias_validate,
            lists::bias_list_save,
            lists::bias_import,
            lists::bias_export,
            lists::bias_try,
            history::history_list,
            history::history_audio,
            history::history_rerun,
            history::history_set_text,
            history::history_delete,
            settings::settings_get,
            settings::settings_set,
            settings::devices,
            settings::models,
            settings::model_fetch,
            settings::model_import,
            settings::model_remove,
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("scrivo-app: could not start the window: {e}");
        std::process::exit(1);
    }
}
