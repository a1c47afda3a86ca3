//! `scrivo devices` and `scrivo dictate`: the microphone to polished text.
//!
//! The recording is saved in the history (audio first, then its row) before anything else
//! runs, so a failure later loses nothing; the text is added to the entry when it is ready.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use scrivo_audio::{VadSettings, VoiceEvent};
use scrivo_capture::{Capture, CaptureEvent};
use scrivo_history::{History, NewEntry};
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
    let remembered = crate::settings::Settings::load().input_device;
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

/// The history store at `dir` (or the user's).
pub fn history(dir: Option<PathBuf>) -> Result<History> {
    let dir = dir.unwrap_or_else(|| crate::paths::data("history"));
    History::open(&dir).with_context(|| format!("opening the history in {}", dir.display()))
}

/// Audio heard before the first partial pass, and the time between passes.
const FIRST_PARTIAL: Duration = Duration::from_millis(700);
const PARTIAL_EVERY: Duration = Duration::from_millis(1000);

/// Why the recording stopped.
enum Stop {
    Time,
    Silence,
    DeviceLost,
}

pub fn dictate(args: DictateArgs, models: &ModelStore) -> Result<i32> {
    // Load the models first, so the recording is not held up afterwards.
    let mut settings = crate::settings::Settings::load();
    let mut pipeline = Pipeline::load(&args.pipeline, models, std::sync::Arc::new(settings.resident(None)))?;
    pipeline.preload()?;
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
    let vad = VadSettings { hangover: Duration::from_secs_f64(args.silence.clamp(0.1, 10.0)), ..VadSettings::default() };
    let meter = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let (tx, rx) = mpsc::channel::<CaptureEvent>();
    let capture = Capture::start_with(device.as_deref(), vad, move |event| {
        if meter {
            if let CaptureEvent::Level { rms, .. } = event {
                let bars = ((rms * 60.0).sqrt() * 20.0).min(30.0) as usize;
                eprint!("\r[{:<30}]", "#".repeat(bars));
            }
        }
        let _ = tx.send(event);
    })?;
    if let Some(name) = &args.device {
        settings.input_device = Some(name.clone());
        if let Err(e) = settings.save() {
            tracing::warn!("the device choice was not saved: {e:#}");
        }
    }
    eprintln!("recording{} ...", if args.until_silence { " until you stop speaking" } else { "" });
    let limit = Duration::from_secs_f64(args.seconds.max(0.1));
    let started = Instant::now();
    let mut heard = false;
    // Partial passes: the first soon after speech starts, then one a second.
    let mut agreement = scrivo_transcript::PrefixAgreement::new();
    let mut speech_started: Option<Instant> = None;
    let mut next_partial: Option<Instant> = None;
    let mut first_partial: Option<f64> = None;
    let stop = loop {
        if let (Some(due), false) = (next_partial, args.no_partials) {
            if Instant::now() >= due {
                let samples = capture.snapshot();
                let text = pipeline.partial(&samples)?;
                let partial = agreement.update(&text);
                let since = speech_started.map_or(0.0, |s| s.elapsed().as_secs_f64());
                first_partial.get_or_insert(since);
                if meter {
                    let line: String = partial.text().chars().rev().take(100).collect::<Vec<_>>().into_iter().rev().collect();
                    eprint!("\r\x1b[K{line}");
                } else {
                    eprintln!("partial {since:.2} s after speech started: [{}] {}", partial.committed, partial.tentative);
                }
                next_partial = Some(Instant::now() + PARTIAL_EVERY);
            }
        }
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(CaptureEvent::Voice(VoiceEvent::Started { at })) => {
                if !heard {
                    let began = started + Duration::from_secs_f64(at);
                    speech_started = Some(began);
                    next_partial = Some(began + FIRST_PARTIAL);
                }
                heard = true;
            }
            Ok(CaptureEvent::Voice(VoiceEvent::Ended { .. })) if heard && args.until_silence => break Stop::Silence,
            Ok(CaptureEvent::DeviceLost) => break Stop::DeviceLost,
            Ok(_) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break Stop::DeviceLost,
        }
        if started.elapsed() >= limit {
            break Stop::Time;
        }
        if capture.is_finished() {
            break Stop::DeviceLost;
        }
    };
    let recording = capture.stop()?;
    let stopped = Instant::now();
    if meter {
        eprintln!();
    }
    // Saved before anything else can fail.
    let entry = history.record(
        &recording.samples,
        NewEntry {
            device: device.clone(),
            asr_model: Some(pipeline.model_name.clone()),
            polisher: pipeline.polisher_name().map(String::from),
            bias_lists: args.pipeline.lists.bias_lists.clone(),
        },
    )?;
    let why = match stop {
        Stop::Time => "time limit",
        Stop::Silence => "speech ended",
        Stop::DeviceLost => "input device lost",
    };
    eprintln!(
        "{:.1} s recorded ({} Hz, {} channel(s); {why}), saved as history entry {} ({})",
        recording.seconds(),
        recording.native_rate,
        recording.native_channels,
        entry.id,
        history.audio_path(&entry).display()
    );
    if let Some(e) = &recording.error {
        eprintln!("warning: the input device failed during the recording ({e}); what was captured is kept and transcribed");
    }

    let result = pipeline.run(&recording.samples);
    if let Some(t) = first_partial {
        eprintln!("first partial text {t:.2} s after speech started; final text {:.2} s after the recording stopped", stopped.elapsed().as_secs_f64());
    }
    match result {
        Ok((raw, text)) => {
            history.set_result(entry.id, &raw, &text, None, None)?;
            let mut out = std::io::stdout();
            writeln!(out, "{text}")?;
            Ok(0)
        }
        Err(e) => {
            history.set_error(entry.id, &format!("{e:#}"))?;
            Err(e.context(format!("the recording is kept as history entry {}; try `scrivo history rerun {}`", entry.id, entry.id)))
        }
    }
}
