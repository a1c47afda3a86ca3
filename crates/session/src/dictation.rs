//! One dictation from the microphone: capture with level and voice events, partial text while
//! the user speaks, the recording saved in the history before anything else can fail, then the
//! final polished text.
//!
//! The loop runs on the caller's thread (the capture has its own). Stop it from elsewhere with
//! the `stop` flag (a key released, a button); with [`Options::hands_free`] it also ends when
//! the voice activity detector hears the speech end.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use scrivo_audio::{VadSettings, VoiceEvent};
use scrivo_capture::{Capture, CaptureEvent, Microphone};
use scrivo_history::{History, NewEntry};

use crate::live::LiveUtterance;
use crate::pipeline::{Finished, Pipeline};
use crate::{Result, SessionError};

/// Audio heard before the first partial pass, and the time between passes.
const FIRST_PARTIAL: Duration = Duration::from_millis(700);
const PARTIAL_EVERY: Duration = Duration::from_millis(1000);
/// How often the audio is checked for a pause that ends a stretch.
const LISTEN_EVERY: Duration = Duration::from_millis(200);

/// How one dictation runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The input device (default: the system's default input).
    pub device: Option<String>,
    /// The longest recording.
    pub max_duration: Duration,
    /// Stop when the speech ends (the voice activity detector hears `silence` of it).
    pub hands_free: bool,
    /// Silence that ends the speech in hands-free mode (a pause for thought is not the end:
    /// JFK's "fellow Americans ... ask not" pause is over a second).
    pub silence: Duration,
    /// Partial text while speaking.
    pub partials: bool,
    /// Transcribe when the recording stops (off: only save it in the history).
    pub transcribe: bool,
    /// The biasing lists' names, recorded in the history entry.
    pub bias_lists: Vec<String>,
    /// A microphone kept warm between dictations (for `device`); a new stream is opened when
    /// it is `None`, closed or for another device.
    pub microphone: Option<Arc<Microphone>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            device: None,
            max_duration: Duration::from_secs(300),
            hands_free: false,
            silence: Duration::from_millis(1500),
            partials: true,
            transcribe: true,
            bias_lists: Vec::new(),
            microphone: None,
        }
    }
}

/// Why the recording stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The `stop` flag was set.
    Stopped,
    /// Hands-free: the speech ended.
    Silence,
    TimeLimit,
    /// The input device failed or went silent; what was captured is kept.
    DeviceLost,
}

impl StopReason {
    pub fn describe(self) -> &'static str {
        match self {
            StopReason::Stopped => "stopped",
            StopReason::Silence => "speech ended",
            StopReason::TimeLimit => "time limit",
            StopReason::DeviceLost => "input device lost",
        }
    }
}

/// What happens during a dictation, in order.
#[derive(Debug, Clone)]
pub enum Event {
    /// Level of the latest audio, 0..1.
    Level { rms: f32, peak: f32 },
    SpeechStarted,
    /// Text so far: words two passes agreed on, then the latest pass's guess for the rest.
    Partial { committed: String, tentative: String, seconds_since_speech: f64 },
    /// The recording stopped and is saved as this history entry; transcription starts.
    Recorded { entry: scrivo_history::Entry, reason: StopReason, native_rate: u32, native_channels: u16, warning: Option<String> },
}

/// A finished dictation.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub entry: i64,
    pub raw: String,
    /// The final text (empty when not transcribed).
    pub text: String,
    pub reason: StopReason,
    pub seconds: f64,
    /// From the end of the recording to the final text.
    pub latency: Duration,
    /// From the start of speech to the first partial text.
    pub first_partial: Option<Duration>,
    /// The device failed during the recording (what was captured is kept).
    pub warning: Option<String>,
    /// Per word of `raw`: removed by a decision the polisher was not sure of
    /// ([`Finished::unsure`]).
    pub unsure: Vec<bool>,
}

/// A recording under way, before its models are ready: see [`start`].
pub struct Started {
    capture: Capture,
    events: mpsc::Receiver<CaptureEvent>,
    /// When the recording's first sample was heard (the warm stream's pre-roll included).
    at: Instant,
}

/// Opens the microphone (or takes the warm one) and starts recording. Call it before loading
/// the models: what the user says while they load is kept, and [`dictate_started`] catches up
/// with it.
pub fn start(options: &Options) -> Result<Started> {
    let vad = VadSettings { hangover: options.silence.clamp(Duration::from_millis(100), Duration::from_secs(10)), ..VadSettings::default() };
    let (tx, events) = mpsc::channel::<CaptureEvent>();
    let forward = move |event| {
        let _ = tx.send(event);
    };
    let capture = match options.microphone.as_ref().filter(|m| m.is_open() && m.device() == options.device.as_deref()) {
        Some(warm) => warm.record(vad, forward)?,
        None => Capture::start_with(options.device.as_deref(), vad, forward)?,
    };
    // The recording may begin with the warm stream's pre-roll: its clock starts that much earlier.
    let at = Instant::now().checked_sub(Duration::from_secs_f64(capture.seconds())).unwrap_or_else(Instant::now);
    Ok(Started { capture, events, at })
}

/// Records from the microphone until `stop` is set (or the speech ends, in hands-free mode),
/// saves the recording in `history`, transcribes and polishes it with `pipeline`: [`start`]
/// then [`dictate_started`].
pub fn dictate(pipeline: &mut Pipeline, history: &History, options: &Options, stop: &AtomicBool, on_event: impl FnMut(Event)) -> Result<Outcome> {
    let recording = start(options)?;
    dictate_started(recording, pipeline, history, options, stop, on_event)
}

/// Goes on with a recording begun by [`start`] until `stop` is set (or the speech ends, in
/// hands-free mode), saves it in `history`, transcribes and polishes it with `pipeline`. Load
/// the pipeline's models ([`Pipeline::preload`]) between the two so the end of speech is not
/// held up.
///
/// A recording that cannot be transcribed stays in the history:
/// [`SessionError::Transcription`] names its entry.
pub fn dictate_started(recording: Started, pipeline: &mut Pipeline, history: &History, options: &Options, stop: &AtomicBool, mut on_event: impl FnMut(Event)) -> Result<Outcome> {
    let Started { capture, events: rx, at: started } = recording;
    let mut heard = false;
    let mut live = LiveUtterance::new();
    let mut listened = Instant::now();
    let mut speech_started: Option<Instant> = None;
    let mut next_partial: Option<Instant> = None;
    let mut first_partial: Option<Duration> = None;
    // The recording so far, brought up to date by copying only what is new.
    let mut so_far: Vec<f32> = Vec::new();
    let reason = loop {
        // Stretches before pauses are recognised while the user goes on speaking.
        if heard && listened.elapsed() >= LISTEN_EVERY {
            listened = Instant::now();
            capture.read_new(&mut so_far);
            if let Err(e) = live.listen(pipeline, &so_far) {
                tracing::warn!("a stretch of the utterance was not recognised ahead: {e}");
            }
        }
        if let (Some(due), true) = (next_partial, options.partials) {
            if Instant::now() >= due {
                capture.read_new(&mut so_far);
                // A failed partial pass only loses the preview; the final pass decides.
                match live.partial(pipeline, &so_far) {
                    Ok(partial) => {
                        let since = speech_started.map_or(Duration::ZERO, |s| s.elapsed());
                        first_partial.get_or_insert(since);
                        on_event(Event::Partial { committed: partial.committed.clone(), tentative: partial.tentative.clone(), seconds_since_speech: since.as_secs_f64() });
                    }
                    Err(e) => tracing::warn!("partial pass failed: {e}"),
                }
                next_partial = Some(Instant::now() + PARTIAL_EVERY);
            }
        }
        if stop.load(Ordering::Relaxed) {
            break StopReason::Stopped;
        }
        // Every event queued while a partial pass ran, oldest first: the end of speech must
        // not wait behind a backlog of level readings.
        let mut events = Vec::new();
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(first) => events.push(first),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break StopReason::DeviceLost,
        }
        events.extend(rx.try_iter());
        let mut latest_level = None;
        let mut ended = None;
        for event in events {
            match event {
                CaptureEvent::Level { rms, peak } => latest_level = Some((rms, peak)),
                CaptureEvent::Voice(VoiceEvent::Started { at }) => {
                    tracing::debug!(at, "speech started");
                    if !heard {
                        let began = started + Duration::from_secs_f64(at);
                        speech_started = Some(began);
                        next_partial = Some(began + FIRST_PARTIAL);
                        on_event(Event::SpeechStarted);
                    }
                    heard = true;
                }
                CaptureEvent::Voice(VoiceEvent::Ended { at }) => {
                    tracing::debug!(at, recorded = capture.seconds(), "speech ended");
                    if heard && options.hands_free {
                        ended = Some(StopReason::Silence);
                        break;
                    }
                }
                CaptureEvent::DeviceLost => {
                    ended = Some(StopReason::DeviceLost);
                    break;
                }
            }
        }
        if let Some((rms, peak)) = latest_level {
            on_event(Event::Level { rms, peak });
        }
        if let Some(reason) = ended {
            break reason;
        }
        if started.elapsed() >= options.max_duration {
            break StopReason::TimeLimit;
        }
        if capture.is_finished() {
            break StopReason::DeviceLost;
        }
    };
    let recording = capture.stop()?;
    let stopped = Instant::now();
    // Saved before anything else can fail.
    let entry = history.record(
        &recording.samples,
        NewEntry {
            device: options.device.clone(),
            asr_model: Some(pipeline.model_name.clone()),
            polisher: pipeline.polisher_name().map(String::from),
            bias_lists: options.bias_lists.clone(),
        },
    )?;
    let warning = recording.error.as_ref().map(|e| format!("the input device failed during the recording ({e}); what was captured is kept"));
    let id = entry.id;
    on_event(Event::Recorded { entry, reason, native_rate: recording.native_rate, native_channels: recording.native_channels, warning: warning.clone() });
    let mut outcome = Outcome {
        entry: id,
        raw: String::new(),
        text: String::new(),
        reason,
        seconds: recording.seconds(),
        latency: Duration::ZERO,
        first_partial,
        warning,
        unsure: Vec::new(),
    };
    if !options.transcribe {
        return Ok(outcome);
    }
    match live.finish(pipeline, &recording.samples) {
        Ok(done) => {
            history.set_result(id, &done.raw, &done.text, &marked_positions(&done.unsure), None, None)?;
            outcome.latency = stopped.elapsed();
            outcome.raw = done.raw;
            outcome.text = done.text;
            outcome.unsure = done.unsure;
            Ok(outcome)
        }
        Err(e) => {
            history.set_error(id, &e.to_string())?;
            Err(SessionError::Transcription { entry: id, source: Box::new(e) })
        }
    }
}

/// Re-runs a saved recording through `pipeline` and stores the new text in its entry.
pub fn rerun(pipeline: &mut Pipeline, history: &History, id: i64) -> Result<scrivo_history::Entry> {
    let entry = history.get(id)?;
    let samples = history.read_audio(&entry)?;
    let Finished { raw, text, unsure } = pipeline.run(&samples)?;
    history.set_result(id, &raw, &text, &marked_positions(&unsure), Some(&pipeline.model_name), Some(pipeline.polisher_name().unwrap_or("none")))?;
    Ok(history.get(id)?)
}

/// The positions of the marked raw words ([`Finished::unsure`]), as the history keeps them.
fn marked_positions(unsure: &[bool]) -> Vec<usize> {
    unsure.iter().enumerate().filter(|(_, &u)| u).map(|(i, _)| i).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_history_keeps_the_positions_of_the_marked_words() {
        assert_eq!(super::marked_positions(&[false, true, true, false, true]), [1, 2, 4]);
        assert!(super::marked_positions(&[]).is_empty());
    }
}
