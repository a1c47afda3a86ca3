//! Past dictations: list, play, re-run, put back what polishing removed, delete
//! ([`scrivo_history`]).

use tauri::ipc::Response;
use tauri::{AppHandle, State};

use crate::dto::HistoryEntry;
use crate::error::{fail, CommandResult};
use crate::state::AppState;

/// How many entries the History view lists.
const SHOWN: usize = 500;

#[tauri::command]
pub fn history_list(state: State<'_, AppState>) -> CommandResult<Vec<HistoryEntry>> {
    Ok(state.history.list(SHOWN)?.iter().map(HistoryEntry::from).collect())
}

/// The recording's WAV file, as bytes (an `ArrayBuffer` on the page).
#[tauri::command]
pub async fn history_audio(app: AppHandle, id: i64) -> CommandResult<Response> {
    crate::state::blocking(&app, move |state| {
        let entry = state.history.get(id)?;
        let path = state.history.audio_path(&entry);
        let bytes = std::fs::read(&path).map_err(|e| fail(format!("{}: {e}", path.display())))?;
        Ok(Response::new(bytes))
    })
    .await
}

/// Transcribes the recording again with the current settings and lists (on a worker thread:
/// the window stays responsive).
#[tauri::command]
pub async fn history_rerun(app: AppHandle, id: i64) -> CommandResult<HistoryEntry> {
    crate::state::blocking(&app, move |state| {
        let mut pipeline = state.take_pipeline()?;
        let result = scrivo_session::dictation::rerun(&mut pipeline, &state.history, id);
        state.put_pipeline(pipeline);
        Ok(HistoryEntry::from(&result?))
    })
    .await
}

/// Saves the text of a dictation after the user undid some of polishing's changes in the
/// History view (`raw`: the recogniser's text the changes were shown for).
#[tauri::command]
pub fn history_set_text(state: State<'_, AppState>, id: i64, raw: String, text: String) -> CommandResult<HistoryEntry> {
    state.history.set_text(id, &raw, &text)?;
    Ok(HistoryEntry::from(&state.history.get(id)?))
}

#[tauri::command]
pub fn history_delete(state: State<'_, AppState>, id: i64) -> CommandResult<()> {
    state.history.delete(id)?;
    Ok(())
}
