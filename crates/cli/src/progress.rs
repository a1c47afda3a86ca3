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

/// The batch bar: audio seconds done of the total, files done, speed, time left. When stderr
/// is not a terminal (a scheduler's log file), a line with the same figures at most every
/// [`LOG_EVERY`].
pub struct BatchBar {
    bar: Option<ProgressBar>,
    files: usize,
    done: std::sync::atomic::AtomicUsize,
    started: std::time::Instant,
    audio_done: Mutex<f64>,
    audio_total: f64,
    last_line: Mutex<std::time::Instant>,
}

/// How often a progress line is written to a log.
pub const LOG_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

impl BatchBar {
    pub fn new(files: usize, audio_seconds: f64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            ProgressBar::new((audio_seconds * 10.0).round() as u64).with_style(
                ProgressStyle::with_template("{wide_bar} {msg} eta {eta}").unwrap_or_else(|_| ProgressStyle::default_bar()),
            )
        });
        let now = std::time::Instant::now();
        let me = BatchBar { bar, files, done: 0.into(), started: now, audio_done: Mutex::new(0.0), audio_total: audio_seconds, last_line: Mutex::new(now) };
        me.redraw(None);
        me
    }

    fn redraw(&self, current: Option<&std::path::Path>) {
        let Some(bar) = &self.bar else { return self.log_line() };
        let audio = self.audio_done.lock().map(|a| *a).unwrap_or(0.0);
        let wall = self.started.elapsed().as_secs_f64();
        let speed = if wall > 0.0 { audio / wall } else { 0.0 };
        let done = self.done.load(std::sync::atomic::Ordering::Relaxed);
        let name = current.and_then(|p| p.file_name()).map(|n| format!(" · {}", n.to_string_lossy())).unwrap_or_default();
        bar.set_message(format!("{done}/{} files · {audio:.0} s audio · {speed:.1}x{name}", self.files));
    }

    /// Without a terminal: files and audio done, speed and time left, when [`LOG_EVERY`] has
    /// passed since the last line.
    fn log_line(&self) {
        {
            let Ok(mut last) = self.last_line.lock() else { return };
            if last.elapsed() < LOG_EVERY {
                return;
            }
            *last = std::time::Instant::now();
        }
        let audio = self.audio_done.lock().map(|a| *a).unwrap_or(0.0);
        let wall = self.started.elapsed().as_secs_f64();
        let speed = if wall > 0.0 { audio / wall } else { 0.0 };
        let done = self.done.load(std::sync::atomic::Ordering::Relaxed);
        let eta = if speed > 0.0 {
            indicatif::HumanDuration(std::time::Duration::from_secs_f64(((self.audio_total - audio) / speed).max(0.0))).to_string()
        } else {
            "unknown".into()
        };
        eprintln!("progress: {done}/{} files, {audio:.0} of {:.0} s of audio, {speed:.1}x real time, eta {eta}", self.files, self.audio_total);
    }

    pub fn started(&self, path: &std::path::Path) {
        self.redraw(Some(path));
    }

    pub fn finished(&self, audio_seconds: f64) {
        self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Ok(mut a) = self.audio_done.lock() {
            *a += audio_seconds;
        }
        if let Some(bar) = &self.bar {
            bar.inc((audio_seconds * 10.0).round() as u64);
        }
        self.redraw(None);
    }

    pub fn failed(&self, path: &std::path::Path, error: &str) {
        self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
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
