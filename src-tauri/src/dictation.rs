//! Dictation from the window, the tray and the global shortcuts: start, stop, and the text out
//! (clipboard, or typed at the cursor).
//!
//! The loop is [`scrivo_session::dictation::dictate`] on a thread of its own; its events go to
//! the page as `dictation-*` events.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use scrivo_session::dictation::{self, Event, StopReason};
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_clipboard_manager::ClipboardExt;

use crate::dto::{self, event, DictationPhase, DictationState, PasteMethod, PasteOutcome};
use crate::error::CommandResult;
use crate::state::{lock, AppState};

/// The level meter is drawn at most this often.
const LEVEL_EVERY: Duration = Duration::from_millis(50);

fn phase(app: &AppHandle, phase: DictationPhase, message: Option<String>) {
    let _ = app.emit(event::DICTATION_STATE, DictationState { phase, message });
}

fn stop_reason(r: StopReason) -> dto::StopReason {
    match r {
        StopReason::Stopped => dto::StopReason::Stopped,
        StopReason::Silence => dto::StopReason::Silence,
        StopReason::TimeLimit => dto::StopReason::TimeLimit,
        StopReason::DeviceLost => dto::StopReason::DeviceLost,
    }
}

/// Starts a dictation on its own thread unless one is running.
pub fn start(app: &AppHandle, hands_free: bool) -> CommandResult<()> {
    let stop = crate::state::claim(&app.state::<AppState>().dictation, "dictation")?;
    let app = app.clone();
    std::thread::Builder::new().name("dictation".into()).spawn(move || {
        let state = app.state::<AppState>();
        let result = run(&app, &state, hands_free, &stop);
        *lock(&state.dictation) = None;
        match result {
            Ok(()) => phase(&app, DictationPhase::Idle, None),
            Err(e) => {
                tracing::error!("dictation failed: {e}");
                phase(&app, DictationPhase::Error, Some(e.to_string()));
            }
        }
    })?;
    Ok(())
}

fn run(app: &AppHandle, state: &AppState, hands_free: bool, stop: &AtomicBool) -> scrivo_session::Result<()> {
    let settings = state.settings();
    let device = settings.input_device.clone().filter(|d| scrivo_capture::input_devices().is_ok_and(|all| all.iter().any(|x| &x.name == d)));
    let microphone = state.microphone(device.as_deref())?;
    let options = dictation::Options { device, hands_free, microphone: Some(microphone), ..dictation::Options::default() };
    // Recording starts before the models load: what is said meanwhile is kept.
    let recording = dictation::start(&options)?;
    let loading = lock(&state.pipeline).is_none() || state.pipeline_stale.load(Ordering::SeqCst);
    if loading {
        phase(app, DictationPhase::Loading, Some("Recording; loading the models…".into()));
    }
    let mut pipeline = state.take_pipeline()?;
    phase(app, DictationPhase::Recording, None);
    let mut last_level = Instant::now() - LEVEL_EVERY;
    let result = dictation::dictate_started(recording, &mut pipeline, &state.history, &options, stop, |e| match e {
        Event::Level { rms, peak } if last_level.elapsed() >= LEVEL_EVERY => {
            last_level = Instant::now();
            let _ = app.emit(event::DICTATION_LEVEL, dto::Level { rms, peak });
        }
        Event::Partial { committed, tentative, seconds_since_speech } => {
            let _ = app.emit(event::DICTATION_PARTIAL, dto::Partial { committed, tentative, seconds_since_speech });
        }
        Event::Recorded { warning, .. } => phase(app, DictationPhase::Transcribing, warning),
        _ => {}
    });
    state.put_pipeline(pipeline);
    let outcome = result?;
    let result = dto::DictationResult {
        history_id: outcome.entry,
        changes: dto::changes(&outcome.raw, &outcome.text, &outcome.unsure),
        raw: outcome.raw,
        text: outcome.text,
        seconds: outcome.seconds,
        latency_ms: outcome.latency.as_millis() as u64,
        stop_reason: stop_reason(outcome.reason),
        warning: outcome.warning,
    };
    let _ = app.emit(event::DICTATION_FINAL, result);
    Ok(())
}

/// Asks the running dictation to stop; it then transcribes what it has.
pub fn stop(app: &AppHandle) {
    if let Some(flag) = lock(&app.state::<AppState>().dictation).as_ref() {
        flag.store(true, Ordering::SeqCst);
    }
}

pub fn is_running(app: &AppHandle) -> bool {
    lock(&app.state::<AppState>().dictation).is_some()
}

/// Start when idle, stop when recording (the tray and the toggle shortcut).
pub fn toggle(app: &AppHandle) {
    if is_running(app) {
        stop(app);
    } else if let Err(e) = start(app, false) {
        tracing::warn!("could not start a dictation: {e:?}");
    }
    let _ = app.emit(event::DICTATION_TOGGLE, ());
}

#[tauri::command]
pub fn dictation_start(app: AppHandle, options: dto::DictationOptions) -> CommandResult<()> {
    start(&app, options.hands_free)
}

#[tauri::command]
pub fn dictation_stop(app: AppHandle) {
    stop(&app);
}

/// Stops without waiting for more speech. The recording is still saved and transcribed:
/// nothing the user recorded is dropped.
#[tauri::command]
pub fn dictation_cancel(app: AppHandle) {
    stop(&app);
}

#[tauri::command]
pub fn copy_text(app: AppHandle, text: String) -> CommandResult<()> {
    app.clipboard().write_text(text)?;
    Ok(())
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
}

/// Puts `text` on the clipboard and pastes it into the focused window: `wtype` on Wayland,
/// `xdotool` on X11; the clipboard alone when neither is there.
#[tauri::command]
pub async fn paste_text(app: AppHandle, text: String) -> CommandResult<PasteOutcome> {
    app.clipboard().write_text(text)?;
    // The paste tool runs on a blocking thread; the text itself never reaches a shell or the
    // tool's arguments: it goes through the clipboard, and the tool only sends Ctrl+V.
    crate::state::blocking(&app, |_| Ok(paste_from_clipboard())).await
}

fn paste_from_clipboard() -> PasteOutcome {
    let wayland = std::env::var_os("WAYLAND_DISPLAY").is_some();
    let x11 = std::env::var_os("DISPLAY").is_some();
    let (method, program, args): (PasteMethod, &str, &[&str]) = if wayland && on_path("wtype") {
        (PasteMethod::Wtype, "wtype", &["-M", "ctrl", "v", "-m", "ctrl"])
    } else if x11 && on_path("xdotool") {
        (PasteMethod::Xdotool, "xdotool", &["key", "--clearmodifiers", "ctrl+v"])
    } else {
        return PasteOutcome { method: PasteMethod::Clipboard, message: "Copied. Install xdotool (X11) or wtype (Wayland) to paste at the cursor.".into() };
    };
    let status = std::process::Command::new(program).args(args).status();
    match status {
        Ok(s) if s.success() => PasteOutcome { method, message: format!("Pasted at the cursor ({program}).") },
        Ok(s) => PasteOutcome { method: PasteMethod::Clipboard, message: format!("Copied; {program} could not paste ({s}).") },
        Err(e) => PasteOutcome { method: PasteMethod::Clipboard, message: format!("Copied; {program} could not run ({e}).") },
    }
}

/// Registers the settings' shortcuts: the toggle one starts and stops, the push-to-talk one
/// records while held. A shortcut the desktop refuses is logged and skipped.
pub fn register_shortcuts(app: &AppHandle) -> Vec<String> {
    use tauri_plugin_global_shortcut::{GlobalShortcutExt, ShortcutState};
    let settings = app.state::<AppState>().settings();
    let shortcuts = app.global_shortcut();
    if let Err(e) = shortcuts.unregister_all() {
        tracing::warn!("could not clear the shortcuts: {e}");
    }
    let mut problems = Vec::new();
    let toggle_key = settings.shortcut_toggle.clone();
    if !toggle_key.is_empty() {
        if let Err(e) = shortcuts.on_shortcut(toggle_key.as_str(), |app, _, event| {
            if event.state() == ShortcutState::Pressed {
                toggle(app);
            }
        }) {
            problems.push(format!("shortcut {toggle_key}: {e}"));
        }
    }
    let talk_key = settings.shortcut_push_to_talk.clone();
    if !talk_key.is_empty() {
        if let Err(e) = shortcuts.on_shortcut(talk_key.as_str(), |app, _, event| match event.state() {
            ShortcutState::Pressed if !is_running(app) => {
                if let Err(e) = start(app, false) {
                    tracing::warn!("push to talk: {e:?}");
                }
            }
            ShortcutState::Released => stop(app),
            _ => {}
        }) {
            problems.push(format!("shortcut {talk_key}: {e}"));
        }
    }
    for p in &problems {
        tracing::warn!("{p}");
    }
    problems
}

/// The tray icon: start/stop, show the window, quit.
pub fn tray(app: &tauri::App) -> tauri::Result<()> {
    use tauri::menu::{Menu, MenuItem};
    use tauri::tray::TrayIconBuilder;
    let toggle_item = MenuItem::with_id(app, "toggle", "Start / stop dictation", true, None::<&str>)?;
    let show = MenuItem::with_id(app, "show", "Show Scrivo", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&toggle_item, &show, &quit])?;
    let mut builder = TrayIconBuilder::with_id("scrivo").tooltip("Scrivo").menu(&menu).on_menu_event(|app, e| match e.id().as_ref() {
        "toggle" => toggle(app),
        "show" => {
            if let Some(w) = app.get_webview_window("main") {
                let _ = w.show();
                let _ = w.set_focus();
            }
        }
        "quit" => app.exit(0),
        _ => {}
    });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)?;
    Ok(())
}
