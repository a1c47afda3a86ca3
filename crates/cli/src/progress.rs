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
