//! Progress bars on a terminal, nothing otherwise.

use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};
use scrivo_models::Progress;

/// Draws a byte progress bar on stderr when it is a terminal.
pub struct BarProgress {
    bar: Mutex<Option<ProgressBar>>,
    enabled: bool,
}

impl BarProgress {
    pub fn new() -> Self {
        BarProgress { bar: Mutex::new(None), enabled: std::io::stderr().is_terminal() }
    }
}

impl Progress for BarProgress {
    fn start(&self, what: &str, total: Option<u64>) {
        if !self.enabled {
            eprintln!("{what}");
            return;
        }
        let bar = match total {
            Some(n) => ProgressBar::new(n).with_style(
                ProgressStyle::with_template("{msg}\n{wide_bar} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            ),
            None => ProgressBar::new_spinner(),
        };
        bar.set_message(what.to_owned());
        if let Ok(mut slot) = self.bar.lock() {
            *slot = Some(bar);
        }
    }

    fn advance(&self, bytes: u64) {
        if let Ok(slot) = self.bar.lock() {
            if let Some(bar) = slot.as_ref() {
                bar.inc(bytes);
            }
        }
    }

    fn finish(&self) {
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(bar) = slot.take() {
                bar.finish_and_clear();
            }
        }
    }
}

/// The batch bar: audio seconds done of the total (the recordings in progress counted by their
/// decode progress), files done, speed, time left. When stderr is not a terminal (a scheduler's
/// log file), a line with the same figures at most every [`LOG_EVERY`].
pub struct BatchBar {
    bar: Option<ProgressBar>,
    /// Each recording's length as its header declares it (0 when unknown).
    seconds: Vec<f64>,
    total: f64,
    started: std::time::Instant,
    state: Mutex<BarState>,
    last_line: Mutex<std::time::Instant>,
}

#[derive(Default)]
struct BarState {
    files_done: usize,
    /// Audio transcribed.
    transcribed: f64,
    /// Audio of recordings that ended (transcribed or failed): what the time left counts from.
    settled: f64,
    /// Audio decoded so far of the recordings in progress, by index.
    in_flight: std::collections::HashMap<usize, f64>,
}

impl BarState {
    fn position(&self) -> f64 {
        self.settled + self.in_flight.values().sum::<f64>()
    }
}

/// How often a progress line is written to a log.
pub const LOG_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

impl BatchBar {
    pub fn new(seconds: Vec<f64>) -> Self {
        let total: f64 = seconds.iter().sum();
        let bar = std::io::stderr().is_terminal().then(|| {
            ProgressBar::new((total * 10.0).round() as u64).with_style(
                ProgressStyle::with_template("{wide_bar} {msg} eta {eta}").unwrap_or_else(|_| ProgressStyle::default_bar()),
            )
        });
        let now = std::time::Instant::now();
        let me = BatchBar { bar, seconds, total, started: now, state: Mutex::new(BarState::default()), last_line: Mutex::new(now) };
        me.redraw(None);
        me
    }

    fn redraw(&self, current: Option<&std::path::Path>) {
        let (files_done, transcribed, position) = {
            let Ok(state) = self.state.lock() else { return };
            (state.files_done, state.transcribed, state.position())
        };
        let wall = self.started.elapsed().as_secs_f64();
        let speed = if wall > 0.0 { position / wall } else { 0.0 };
        let files = self.seconds.len();
        let Some(bar) = &self.bar else { return self.log_line(files_done, transcribed, position, speed) };
        bar.set_position((position * 10.0).round() as u64);
        let name = current.and_then(|p| p.file_name()).map(|n| format!(" · {}", n.to_string_lossy())).unwrap_or_default();
        bar.set_message(format!("{files_done}/{files} files · {transcribed:.0} s audio · {speed:.1}x{name}"));
    }

    /// Without a terminal: files and audio done, speed and time left, when [`LOG_EVERY`] has
    /// passed since the last line.
    fn log_line(&self, files_done: usize, transcribed: f64, position: f64, speed: f64) {
        {
            let Ok(mut last) = self.last_line.lock() else { return };
            if last.elapsed() < LOG_EVERY {
                return;
            }
            *last = std::time::Instant::now();
        }
        let eta = if speed > 0.0 {
            indicatif::HumanDuration(std::time::Duration::from_secs_f64(((self.total - position) / speed).max(0.0))).to_string()
        } else {
            "unknown".into()
        };
        eprintln!(
            "progress: {files_done}/{} files, {position:.0} of {:.0} s of audio ({transcribed:.0} s written), {speed:.1}x real time, eta {eta}",
            self.seconds.len(),
            self.total
        );
    }

    fn update(&self, change: impl FnOnce(&mut BarState)) {
        if let Ok(mut state) = self.state.lock() {
            change(&mut state);
        }
    }

    pub fn started(&self, path: &std::path::Path) {
        self.redraw(Some(path));
    }

    /// The share `fraction` of recording `index` is decoded.
    pub fn progress(&self, index: usize, fraction: f32) {
        let seconds = self.seconds.get(index).copied().unwrap_or(0.0);
        self.update(|s| {
            s.in_flight.insert(index, seconds * f64::from(fraction.clamp(0.0, 1.0)));
        });
        self.redraw(None);
    }

    pub fn finished(&self, index: usize, audio_seconds: f64) {
        let seconds = self.seconds.get(index).copied().unwrap_or(audio_seconds);
        self.update(|s| {
            s.in_flight.remove(&index);
            s.files_done += 1;
            s.transcribed += audio_seconds;
            s.settled += seconds;
        });
        self.redraw(None);
    }

    pub fn failed(&self, index: usize, path: &std::path::Path, error: &str) {
        let seconds = self.seconds.get(index).copied().unwrap_or(0.0);
        self.update(|s| {
            s.in_flight.remove(&index);
            s.files_done += 1;
            s.settled += seconds;
        });
        match &self.bar {
            Some(bar) => bar.println(format!("error: {error}")),
            None => tracing::debug!(path = %path.display(), "failed"),
        }
        self.redraw(None);
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
