//! Microphone capture with cpal: the stream lives on its own thread, samples of any native
//! format and rate become mono f32 there and are resampled to 16 kHz as they arrive
//! ([`scrivo_audio::StreamResampler`]). A level meter (RMS and peak per callback) and voice
//! activity ([`scrivo_audio::VoiceDetector`]: speech started, speech ended) go to an event
//! callback a UI can draw; [`Capture::snapshot`] reads the audio so far while recording goes
//! on (for partial transcripts). If the device fails mid-recording, what was captured is kept
//! and the error comes with it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{SampleFormat, SizedSample};

/// No audio at all for this long means the device is gone.
const STALL: Duration = Duration::from_millis(1500);

/// The rate the speech model wants.
pub const TARGET_RATE: u32 = 16_000;

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

/// A recording in progress; [`Capture::stop`] ends it.
///
/// The capture thread hands the recording over before it closes the stream: closing a stream
/// whose sound server died can block inside the ALSA PulseAudio plugin for good, and the
/// recording must not wait on that (after a device failure the stream is not closed at all).
pub struct Capture {
    stop: Arc<AtomicBool>,
    /// The 16 kHz samples so far.
    samples: Arc<Mutex<Vec<f32>>>,
    done: mpsc::Receiver<Result<Recording, CaptureError>>,
    thread: Option<JoinHandle<()>>,
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

impl Capture {
    /// Opens `device` (by name; the default input when None) and starts recording.
    pub fn start(device: Option<&str>, on_event: impl Fn(CaptureEvent) + Send + 'static) -> Result<Capture, CaptureError> {
        Self::start_with(device, scrivo_audio::VadSettings::default(), on_event)
    }

    /// [`Capture::start`] with these voice activity settings.
    pub fn start_with(device: Option<&str>, vad: scrivo_audio::VadSettings, on_event: impl Fn(CaptureEvent) + Send + 'static) -> Result<Capture, CaptureError> {
        let device = find_device(device)?;
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::clone(&samples);
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), CaptureError>>();
        let (done_tx, done) = mpsc::channel::<Result<Recording, CaptureError>>();
        let stop_flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("scrivo-capture".into())
            .spawn(move || {
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
                    Ok((stream, config, rx, erx))
                })();
                let (stream, config, rx, erx) = match setup {
                    Ok(s) => {
                        let _ = ready_tx.send(Ok(()));
                        s
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let run = || -> Result<(Recording, bool), CaptureError> {
                    let mut resampler = scrivo_audio::StreamResampler::new(config.sample_rate, TARGET_RATE).map_err(CaptureError::Resample)?;
                    let mut voice = scrivo_audio::VoiceDetector::new(vad);
                    let append = |new: Vec<f32>, voice: &mut scrivo_audio::VoiceDetector| {
                        for e in voice.push(&new) {
                            on_event(CaptureEvent::Voice(e));
                        }
                        shared.lock().unwrap_or_else(|p| p.into_inner()).extend(new);
                    };
                    let mut error = None;
                    let mut last_data = Instant::now();
                    while !stop_flag.load(Ordering::Relaxed) {
                        if let Ok(e) = erx.try_recv() {
                            tracing::warn!("input device failed: {e}");
                            error = Some(e);
                            on_event(CaptureEvent::DeviceLost);
                            break;
                        }
                        match rx.recv_timeout(Duration::from_millis(50)) {
                            Ok(chunk) => {
                                last_data = Instant::now();
                                let rms = (chunk.iter().map(|v| v * v).sum::<f32>() / chunk.len().max(1) as f32).sqrt();
                                let peak = chunk.iter().fold(0f32, |m, v| m.max(v.abs()));
                                on_event(CaptureEvent::Level { rms, peak });
                                append(resampler.push(&chunk).map_err(CaptureError::Resample)?, &mut voice);
                            }
                            // A stream whose server died may say nothing: no audio at all (not quiet audio)
                            // from the device means it is gone.
                            Err(mpsc::RecvTimeoutError::Timeout) if last_data.elapsed() >= STALL => {
                                let e = format!("no audio from the input device for {:.1} s", STALL.as_secs_f64());
                                tracing::warn!("{e}");
                                error = Some(e);
                                on_event(CaptureEvent::DeviceLost);
                                break;
                            }
                            Err(mpsc::RecvTimeoutError::Timeout) => {}
                            Err(mpsc::RecvTimeoutError::Disconnected) => break,
                        }
                    }
                    let rest: Vec<f32> = rx.try_iter().flatten().collect();
                    append(resampler.push(&rest).map_err(CaptureError::Resample)?, &mut voice);
                    append(resampler.finish().map_err(CaptureError::Resample)?, &mut voice);
                    if let Some(e) = voice.finish() {
                        on_event(CaptureEvent::Voice(e));
                    }
                    let samples = std::mem::take(&mut *shared.lock().unwrap_or_else(|p| p.into_inner()));
                    let failed = error.is_some();
                    Ok((Recording { samples, native_rate: config.sample_rate, native_channels: config.channels, error }, failed))
                };
                match run() {
                    Ok((recording, failed)) => {
                        let _ = done_tx.send(Ok(recording));
                        if failed {
                            // Closing a stream whose server is gone can hang: leave it.
                            std::mem::forget(stream);
                        } else {
                            drop(stream);
                        }
                    }
                    Err(e) => {
                        let _ = done_tx.send(Err(e));
                        std::mem::forget(stream);
                    }
                }
            })
            .map_err(|e| CaptureError::Device(format!("capture thread: {e}")))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Capture { stop, samples, done, thread: Some(thread) }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => Err(CaptureError::Device("capture thread ended before the stream started".into())),
        }
    }

    /// The 16 kHz samples captured so far (the recording goes on).
    pub fn snapshot(&self) -> Vec<f32> {
        self.samples.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Seconds captured so far.
    pub fn seconds(&self) -> f64 {
        self.samples.lock().unwrap_or_else(|p| p.into_inner()).len() as f64 / f64::from(TARGET_RATE)
    }

    /// Whether the capture thread has ended (the device failed or the stream closed).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Ends the recording and returns it (16 kHz mono).
    pub fn stop(mut self) -> Result<Recording, CaptureError> {
        self.stop.store(true, Ordering::Relaxed);
        let result = match self.done.recv_timeout(Duration::from_secs(10)) {
            Ok(r) => r,
            Err(_) => {
                // The thread is stuck or gone: the samples it already passed on are the recording.
                let samples = std::mem::take(&mut *self.samples.lock().unwrap_or_else(|p| p.into_inner()));
                Ok(Recording { samples, native_rate: TARGET_RATE, native_channels: 1, error: Some("the capture thread stopped answering".into()) })
            }
        };
        // Reaped only when it has ended; a thread blocked in a dead server's stream is left.
        if let Some(t) = self.thread.take().filter(|t| t.is_finished()) {
            let _ = t.join();
        }
        result
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
