//! `scrivo devices` and `scrivo dictate`: the microphone to polished text.
//!
//! The recording is saved in the history (audio first, then its row) before anything else
//! runs, so a failure later loses nothing; the text is added to the entry when it is ready.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use scrivo_history::History;
use scrivo_session::dictation;
use scrivo_models::store::ModelStore;

use crate::asr_setup::{Pipeline, PipelineArgs};

#[derive(Args)]
pub struct DictateArgs {
    /// Input device name (see `scrivo devices`); the one chosen last time, else the default input.
    #[arg(long)]
    pub device: Option<String>,
    /// Seconds to record (with --until-silence: the longest recording).
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Hands-free: stop when the voice activity detector hears the speech end.
    #[arg(long)]
    pub until_silence: bool,
    /// No partial text while speaking.
    #[arg(long)]
    pub no_partials: bool,
    /// Silence that ends the speech with --until-silence, in seconds (a pause for thought is
    /// not the end: JFK's "fellow Americans ... ask not" pause is over a second).
    #[arg(long, default_value_t = 1.5)]
    pub silence: f64,
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// The history folder: every dictation's audio and text (default: the user data dir,
    /// scrivo/history).
    #[arg(long, env = "SCRIVO_HISTORY_DIR")]
    pub history_dir: Option<PathBuf>,
}

pub fn devices() -> Result<i32> {
    let devices = scrivo_capture::input_devices()?;
    if devices.is_empty() {
        println!("no input devices");
    }
    let remembered = scrivo_session::settings::Settings::load().input_device;
    for d in devices {
        let mut notes = Vec::new();
        if d.is_default {
            notes.push("default");
        }
        if remembered.as_deref() == Some(d.name.as_str()) {
            notes.push("chosen");
        }
        println!("{}{}", d.name, if notes.is_empty() { String::new() } else { format!("  ({})", notes.join(", ")) });
    }
    Ok(0)
}

/// The history store at `dir` (or the user's); what was mended on opening it is said on stderr.
pub fn history(dir: Option<PathBuf>) -> Result<History> {
    let shown = dir.clone().unwrap_or_else(|| scrivo_session::paths::data("history"));
    let (history, notices) = scrivo_session::history(dir).with_context(|| format!("opening the history in {}", shown.display()))?;
    for notice in notices {
        eprintln!("warning: {notice}");
    }
    Ok(history)
}

pub fn dictate(args: DictateArgs, models: &ModelStore) -> Result<i32> {
    let mut settings = scrivo_session::settings::Settings::load();
    let config = args.pipeline.config();
    let history = history(args.history_dir.clone())?;

    let device = match (&args.device, &settings.input_device) {
        (Some(d), _) => Some(d.clone()),
        // The device chosen last time, if it is still there.
        (None, Some(d)) if scrivo_capture::input_devices().is_ok_and(|all| all.iter().any(|x| &x.name == d)) => Some(d.clone()),
        (None, Some(d)) => {
            eprintln!("the input device chosen last time ({d}) is not there; using the default input");
            None
        }
        (None, None) => None,
    };
    let options = dictation::Options {
        device: device.clone(),
        max_duration: Duration::from_secs_f64(args.seconds.max(0.1)),
        hands_free: args.until_silence,
        silence: Duration::from_secs_f64(args.silence.clamp(0.1, 10.0)),
        partials: !args.no_partials,
        transcribe: true,
        bias_lists: config.lists.bias_lists.clone(),
        microphone: None,
    };
    if let Some(name) = &args.device {
        settings.input_device = Some(name.clone());
        if let Err(e) = settings.save() {
            tracing::warn!("the device choice was not saved: {e}");
        }
    }
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // The microphone first, then the models: what is said while they load is recorded.
    let recording = dictation::start(&options)?;
    eprintln!("recording{} ...", if args.until_silence { " until you stop speaking" } else { "" });
    let mut pipeline = Pipeline::load(&config, models, std::sync::Arc::new(settings.resident(None)))?;
    pipeline.preload()?;
    let result = dictation::dictate_started(recording, &mut pipeline, &history, &options, &AtomicBool::new(false), |event| match event {
        dictation::Event::Level { rms, .. } if terminal => {
            let bars = ((rms * 60.0).sqrt() * 20.0).min(30.0) as usize;
            eprint!("\r[{:<30}]", "#".repeat(bars));
        }
        dictation::Event::Partial { committed, tentative, seconds_since_speech } => {
            if terminal {
                let text = format!("{committed} {tentative}");
                let line: String = text.trim().chars().rev().take(100).collect::<Vec<_>>().into_iter().rev().collect();
                eprint!("\r\x1b[K{line}");
            } else {
                eprintln!("partial {seconds_since_speech:.2} s after speech started: [{committed}] {tentative}");
            }
        }
        dictation::Event::Recorded { entry, reason, native_rate, native_channels, warning } => {
            if terminal {
                eprintln!();
            }
            eprintln!(
                "{:.1} s recorded ({native_rate} Hz, {native_channels} channel(s); {}), saved as history entry {} ({})",
                entry.duration_seconds,
                reason.describe(),
                entry.id,
                history.audio_path(&entry).display()
            );
            if let Some(w) = warning {
                eprintln!("warning: {w}");
            }
        }
        _ => {}
    });
    let outcome = result?;
    if let Some(t) = outcome.first_partial {
        eprintln!("first partial text {:.2} s after speech started; final text {:.2} s after the recording stopped", t.as_secs_f64(), outcome.latency.as_secs_f64());
    }
    writeln!(std::io::stdout(), "{}", outcome.text)?;
    Ok(0)
}
