//! Microphone capture with cpal: the stream lives on its own thread, samples of any native
//! format and rate become mono f32 there and are resampled to 16 kHz as they arrive
//! ([`scrivo_audio::StreamResampler`]). A [`Microphone`] keeps its stream open between
//! recordings for a while, holding the last [`PREROLL`] of audio, so a recording started then
//! begins at once and with the words said as the key went down. A level meter (RMS and peak per callback) and voice
//! activity ([`scrivo_audio::VoiceDetector`]: speech started, speech ended) go to an event
//! callback a UI can draw; [`Capture::snapshot`] reads the audio so far while recording goes
//! on (for partial transcripts). If the device fails mid-recording, what was captured is kept
//! and the error comes with it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{SampleFormat, SizedSample};

/// No audio at all for this long means the device is gone.
const STALL: Duration = Duration::from_millis(1500);

/// The rate the speech model wants.
pub const TARGET_RATE: u32 = 16_000;

/// Audio from just before a recording starts that it begins with, when the stream was warm.
pub const PREROLL: Duration = Duration::from_millis(300);

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    #[error("no input device{}", .0.as_deref().map(|n| format!(" called {n:?}")).unwrap_or_default())]
    NoDevice(Option<String>),
    #[error("audio device: {0}")]
    Device(String),
    #[error("resampling: {0}")]
    Resample(String),
}

/// An input device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputDevice {
    pub name: String,
    pub is_default: bool,
}

/// The input devices of the default host.
pub fn input_devices() -> Result<Vec<InputDevice>, CaptureError> {
    let host = cpal::default_host();
    let default = host.default_input_device().map(|d| d.to_string());
    let devices = host.input_devices().map_err(|e| CaptureError::Device(e.to_string()))?;
    Ok(devices
        .map(|d| {
            let name = d.to_string();
            InputDevice { is_default: Some(&name) == default.as_ref(), name }
        })
        .collect())
}

/// What a UI can draw while recording.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CaptureEvent {
    /// Level of the latest chunk, 0..1.
    Level { rms: f32, peak: f32 },
    /// Speech started or ended (seconds from the start of the recording).
    Voice(scrivo_audio::VoiceEvent),
    /// The device failed; the recording ends with what was captured.
    DeviceLost,
}

/// A finished recording at 16 kHz mono.
#[derive(Debug, Clone)]
pub struct Recording {
    pub samples: Vec<f32>,
    /// The device's own rate and channel count.
    pub native_rate: u32,
    pub native_channels: u16,
    /// Set when the device failed before the end: the samples up to then are kept.
    pub error: Option<String>,
}

impl Recording {
    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64 / TARGET_RATE as f64
    }
}

fn find_device(name: Option<&str>) -> Result<cpal::Device, CaptureError> {
    let host = cpal::default_host();
    match name {
        None => host.default_input_device().ok_or(CaptureError::NoDevice(None)),
        Some(wanted) => host
            .input_devices()
            .map_err(|e| CaptureError::Device(e.to_string()))?
            .find(|d| d.to_string() == wanted)
            .ok_or_else(|| CaptureError::NoDevice(Some(wanted.to_string()))),
    }
}

fn build<T>(
    device: &cpal::Device,
    config: cpal::StreamConfig,
    tx: mpsc::Sender<Vec<f32>>,
    errors: mpsc::Sender<String>,
) -> Result<cpal::Stream, CaptureError>
where
    T: SizedSample,
    f32: cpal::FromSample<T>,
{
    let channels = usize::from(config.channels.max(1));
    device
        .build_input_stream(
            config,
            move |data: &[T], _: &cpal::InputCallbackInfo| {
                let mono: Vec<f32> = data
                    .chunks(channels)
                    .map(|frame| frame.iter().map(|s| <f32 as cpal::FromSample<T>>::from_sample_(*s)).sum::<f32>() / channels as f32)
                    .collect();
                let _ = tx.send(mono);
            },
            move |e| {
                let _ = errors.send(e.to_string());
            },
            None,
        )
        .map_err(|e| CaptureError::Device(e.to_string()))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One recording on a microphone's stream.
struct Session {
    samples: Vec<f32>,
    voice: scrivo_audio::VoiceDetector,
    on_event: Box<dyn Fn(CaptureEvent) + Send>,
    /// Set by [`Capture::stop`]: the stream thread hands the recording over through `done`.
    stop: bool,
    done: mpsc::Sender<Recording>,
}

/// What the stream thread and the handles share.
struct Shared {
    session: Mutex<Option<Session>>,
    /// The last [`PREROLL`] of 16 kHz audio, while no recording runs.
    preroll: Mutex<VecDeque<f32>>,
    /// Why the stream ended, once it has (`None` inside: closed normally).
    ended: Mutex<Option<Option<String>>>,
    close: AtomicBool,
    native_rate: u32,
    native_channels: u16,
}

/// An input device's stream, open on its own thread. It stays open while a recording runs and
/// for `keep_warm` after the last one ends; then, or when the device fails, it closes and the
/// microphone must be opened again ([`Microphone::is_open`]).
pub struct Microphone {
    shared: Arc<Shared>,
    device: Option<String>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Microphone {
    /// Opens `device` (by name; the default input when None).
    pub fn open(device: Option<&str>, keep_warm: Duration) -> Result<Arc<Microphone>, CaptureError> {
        let found = find_device(device)?;
        let (ready_tx, ready_rx) = mpsc::channel::<Result<Arc<Shared>, CaptureError>>();
        let thread = std::thread::Builder::new()
            .name("scrivo-capture".into())
            .spawn(move || stream_thread(found, keep_warm, ready_tx))
            .map_err(|e| CaptureError::Device(format!("capture thread: {e}")))?;
        match ready_rx.recv() {
            Ok(Ok(shared)) => Ok(Arc::new(Microphone { shared, device: device.map(String::from), thread: Mutex::new(Some(thread)) })),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => Err(CaptureError::Device("capture thread ended before the stream started".into())),
        }
    }

    /// The device name it was opened with (`None`: the default input).
    pub fn device(&self) -> Option<&str> {
        self.device.as_deref()
    }

    /// Whether the stream is still open (not closed after `keep_warm`, not failed).
    pub fn is_open(&self) -> bool {
        lock(&self.shared.ended).is_none()
    }

    /// Starts a recording: it begins with the audio of the last [`PREROLL`] and goes on until
    /// [`Capture::stop`]. Voice activity is judged with `vad`; `on_event` gets levels, voice
    /// events and a lost device, on the stream's thread (the pre-roll's voice events on the
    /// caller's), with the recording's lock held: it must not call back into the [`Capture`].
    pub fn record(self: &Arc<Self>, vad: scrivo_audio::VadSettings, on_event: impl Fn(CaptureEvent) + Send + 'static) -> Result<Capture, CaptureError> {
        let (done_tx, done) = mpsc::channel();
        // The stream thread marks the stream ended under this lock: checked under it, a
        // recording never lands on a stream that is going.
        let mut session = lock(&self.shared.session);
        if !self.is_open() {
            return Err(CaptureError::Device("the input stream is closed".into()));
        }
        if session.is_some() {
            return Err(CaptureError::Device("a recording is already running on this input".into()));
        }
        let preroll: Vec<f32> = lock(&self.shared.preroll).drain(..).collect();
        let mut voice = scrivo_audio::VoiceDetector::new(vad);
        let on_event: Box<dyn Fn(CaptureEvent) + Send> = Box::new(on_event);
        for e in voice.push(&preroll) {
            on_event(CaptureEvent::Voice(e));
        }
        *session = Some(Session { samples: preroll, voice, on_event, stop: false, done: done_tx });
        Ok(Capture { microphone: Arc::clone(self), done: Some(done) })
    }

}

impl std::fmt::Debug for Microphone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Microphone").field("device", &self.device).field("open", &self.is_open()).finish()
    }
}

impl Drop for Microphone {
    fn drop(&mut self) {
        self.shared.close.store(true, Ordering::Relaxed);
        // Reaped only when it has ended; a thread blocked in a dead server's stream is left.
        if let Some(t) = lock(&self.thread).take().filter(|t| t.is_finished()) {
            let _ = t.join();
        }
    }
}

/// Opens the stream, then moves its audio into the recording (or the pre-roll) until it is
/// closed, idle for `keep_warm`, or fails.
fn stream_thread(device: cpal::Device, keep_warm: Duration, ready: mpsc::Sender<Result<Arc<Shared>, CaptureError>>) {
    let setup = (|| {
        let supported = device.default_input_config().map_err(|e| CaptureError::Device(e.to_string()))?;
        let format = supported.sample_format();
        let config: cpal::StreamConfig = supported.config();
        let (tx, rx) = mpsc::channel();
        let (etx, erx) = mpsc::channel();
        let stream = match format {
            SampleFormat::F32 => build::<f32>(&device, config.clone(), tx, etx)?,
            SampleFormat::I16 => build::<i16>(&device, config.clone(), tx, etx)?,
            SampleFormat::I32 => build::<i32>(&device, config.clone(), tx, etx)?,
            SampleFormat::U16 => build::<u16>(&device, config.clone(), tx, etx)?,
            other => return Err(CaptureError::Device(format!("unsupported sample format {other}"))),
        };
        stream.play().map_err(|e| CaptureError::Device(e.to_string()))?;
        let resampler = scrivo_audio::StreamResampler::new(config.sample_rate, TARGET_RATE).map_err(CaptureError::Resample)?;
        Ok((stream, config, rx, erx, resampler))
    })();
    let (stream, config, rx, erx, mut resampler) = match setup {
        Ok(s) => s,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let shared = Arc::new(Shared {
        session: Mutex::new(None),
        preroll: Mutex::new(VecDeque::new()),
        ended: Mutex::new(None),
        close: AtomicBool::new(false),
        native_rate: config.sample_rate,
        native_channels: config.channels,
    });
    if ready.send(Ok(Arc::clone(&shared))).is_err() {
        return;
    }
    let preroll_len = (PREROLL.as_secs_f64() * f64::from(TARGET_RATE)) as usize;
    // New audio into the recording, or into the pre-roll when none runs.
    let take = |new: Vec<f32>, session: &mut Option<Session>| match session {
        Some(s) => {
            for e in s.voice.push(&new) {
                (s.on_event)(CaptureEvent::Voice(e));
            }
            s.samples.extend(new);
        }
        None => {
            let mut preroll = lock(&shared.preroll);
            preroll.extend(new);
            let extra = preroll.len().saturating_sub(preroll_len);
            preroll.drain(..extra);
        }
    };
    let mut error: Option<String> = None;
    let mut last_data = Instant::now();
    // The stream closes `keep_warm` after the last recording ends; opened with no keep-warm,
    // it waits for its one recording first.
    let mut idle_since = (!keep_warm.is_zero()).then(Instant::now);
    loop {
        if shared.close.load(Ordering::Relaxed) {
            break;
        }
        if let Ok(e) = erx.try_recv() {
            tracing::warn!("input device failed: {e}");
            error = Some(e);
            break;
        }
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(chunk) => {
                last_data = Instant::now();
                let rms = (chunk.iter().map(|v| v * v).sum::<f32>() / chunk.len().max(1) as f32).sqrt();
                let peak = chunk.iter().fold(0f32, |m, v| m.max(v.abs()));
                let resampled = match resampler.push(&chunk) {
                    Ok(r) => r,
                    Err(e) => {
                        error = Some(format!("resampling: {e}"));
                        break;
                    }
                };
                let mut session = lock(&shared.session);
                if let Some(s) = session.as_ref() {
                    (s.on_event)(CaptureEvent::Level { rms, peak });
                }
                take(resampled, &mut session);
            }
            // A stream whose server died may say nothing: no audio at all (not quiet audio)
            // from the device means it is gone.
            Err(mpsc::RecvTimeoutError::Timeout) if last_data.elapsed() >= STALL => {
                let e = format!("no audio from the input device for {:.1} s", STALL.as_secs_f64());
                tracing::warn!("{e}");
                error = Some(e);
                break;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        let mut session = lock(&shared.session);
        if session.as_ref().is_some_and(|s| s.stop) {
            // Everything the device has sent so far belongs to the recording.
            let rest: Vec<f32> = rx.try_iter().flatten().collect();
            let mut tail = resampler.push(&rest).unwrap_or_default();
            // What the filter still owes goes to this recording; the next starts afresh.
            if let Ok(fresh) = scrivo_audio::StreamResampler::new(config.sample_rate, TARGET_RATE) {
                tail.extend(std::mem::replace(&mut resampler, fresh).finish().unwrap_or_default());
            }
            take(tail, &mut session);
            if let Some(mut s) = session.take() {
                if let Some(e) = s.voice.finish() {
                    (s.on_event)(CaptureEvent::Voice(e));
                }
                let recording = Recording { samples: std::mem::take(&mut s.samples), native_rate: config.sample_rate, native_channels: config.channels, error: None };
                let _ = s.done.send(recording);
            }
            idle_since = Some(Instant::now());
        } else if session.is_none() && idle_since.is_some_and(|t| t.elapsed() >= keep_warm) {
            break;
        }
    }
    // A recording still running ends here and is handed over with what it has; the stream is
    // marked ended under the same lock `record` checks it under.
    {
        let mut session = lock(&shared.session);
        *lock(&shared.ended) = Some(error.clone());
        if let Some(mut s) = session.take() {
            if error.is_some() {
                (s.on_event)(CaptureEvent::DeviceLost);
            }
            if let Some(e) = s.voice.finish() {
                (s.on_event)(CaptureEvent::Voice(e));
            }
            let recording = Recording { samples: std::mem::take(&mut s.samples), native_rate: config.sample_rate, native_channels: config.channels, error: error.clone() };
            let _ = s.done.send(recording);
        }
    }
    let failed = error.is_some();
    if failed {
        // Closing a stream whose server is gone can hang: leave it.
        std::mem::forget(stream);
    } else {
        drop(stream);
    }
}

/// A recording in progress; [`Capture::stop`] ends it and hands it over.
pub struct Capture {
    microphone: Arc<Microphone>,
    done: Option<mpsc::Receiver<Recording>>,
}

impl Capture {
    /// Opens `device` (by name; the default input when None) and starts recording; the stream
    /// closes when the recording stops.
    pub fn start(device: Option<&str>, on_event: impl Fn(CaptureEvent) + Send + 'static) -> Result<Capture, CaptureError> {
        Self::start_with(device, scrivo_audio::VadSettings::default(), on_event)
    }

    /// [`Capture::start`] with these voice activity settings.
    pub fn start_with(device: Option<&str>, vad: scrivo_audio::VadSettings, on_event: impl Fn(CaptureEvent) + Send + 'static) -> Result<Capture, CaptureError> {
        Microphone::open(device, Duration::ZERO)?.record(vad, on_event)
    }

    /// The 16 kHz samples captured so far (the recording goes on). A loop that reads the
    /// recording again and again should keep its own copy up to date with [`Capture::read_new`].
    pub fn snapshot(&self) -> Vec<f32> {
        lock(&self.microphone.shared.session).as_ref().map(|s| s.samples.clone()).unwrap_or_default()
    }

    /// Appends to `so_far` the samples captured since it was last brought up to date: `so_far`
    /// holds the recording's first `so_far.len()` samples, and only what follows is copied
    /// (under the lock the capture thread appends with, so it is held for the new part only).
    pub fn read_new(&self, so_far: &mut Vec<f32>) {
        if let Some(s) = lock(&self.microphone.shared.session).as_ref() {
            if let Some(new) = s.samples.get(so_far.len()..) {
                so_far.extend_from_slice(new);
            }
        }
    }

    /// Seconds captured so far.
    pub fn seconds(&self) -> f64 {
        lock(&self.microphone.shared.session).as_ref().map_or(0.0, |s| s.samples.len() as f64) / f64::from(TARGET_RATE)
    }

    /// Whether the stream has ended (the device failed or the stream closed).
    pub fn is_finished(&self) -> bool {
        !self.microphone.is_open()
    }

    /// Ends the recording and returns it (16 kHz mono). The stream stays warm when the
    /// microphone was opened to keep warm.
    pub fn stop(mut self) -> Result<Recording, CaptureError> {
        let shared = Arc::clone(&self.microphone.shared);
        if let Some(s) = lock(&shared.session).as_mut() {
            s.stop = true;
        }
        // The stream thread hands the recording over within one chunk, or as it ends.
        if let Some(recording) = self.done.take().and_then(|done| done.recv_timeout(Duration::from_secs(10)).ok()) {
            return Ok(recording);
        }
        // The thread is stuck (a dead server): what it passed on already is the recording.
        let samples = lock(&shared.session).take().map(|s| s.samples).unwrap_or_default();
        Ok(Recording { samples, native_rate: shared.native_rate, native_channels: shared.native_channels, error: Some("the capture thread stopped answering".into()) })
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Some(s) = lock(&self.microphone.shared.session).as_mut() {
            s.stop = true;
        }
    }
}
