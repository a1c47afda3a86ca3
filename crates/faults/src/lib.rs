//! Crash-consistency testing: a writer runs in a child process and is killed with SIGKILL at
//! many moments; after each kill the test checks what is on disk (the old file or the new one,
//! never a torn one; a database that opens; nothing the user made lost).
//!
//! The child is the test binary itself, running one named test that does the writing forever:
//! that test returns at once unless [`child_dir`] says it is the child.
//!
//! ```no_run
//! use std::time::Duration;
//! #[test]
//! fn child_saves_forever() {
//!     let Some(dir) = scrivo_faults::child_dir() else { return };
//!     scrivo_faults::ready();
//!     loop { /* save something in dir */ }
//! }
//! #[test]
//! fn a_killed_save_leaves_a_whole_file() {
//!     let dir = tempfile::tempdir().unwrap();
//!     let report = scrivo_faults::kill_at_points(
//!         scrivo_faults::Plan { points: 100, span: Duration::from_millis(50), seed: 7, wait_ready: true },
//!         || scrivo_faults::child("child_saves_forever", dir.path()),
//!         |_| Ok(()), // check the files in dir
//!     ).unwrap();
//!     assert_eq!(report.recovered, 100);
//! }
//! ```

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHILD_VAR: &str = "SCRIVO_FAULT_CHILD_DIR";
const READY: &str = "SCRIVO-FAULT-CHILD-READY";

/// The folder to write in when this process is the child of [`kill_at_points`]; `None` in a
/// normal test run.
pub fn child_dir() -> Option<PathBuf> {
    std::env::var_os(CHILD_VAR).map(PathBuf::from)
}

/// Tells the parent that the child has set up and is about to write: the kill delay is counted
/// from here, so every kill lands among the writes, not in the process's start.
pub fn ready() {
    println!("{READY}");
}

/// The command that runs test `name` of this test binary as the child writing in `dir`.
pub fn child(name: &str, dir: &Path) -> Command {
    // The test binary runs; a test binary always has a path.
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/proc/self/exe"));
    let mut command = Command::new(exe);
    command.args([name, "--exact", "--nocapture", "--test-threads=1"]).env(CHILD_VAR, dir);
    command
}

/// How many kills, and over how long after the child is ready they are spread.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub points: usize,
    /// Each kill comes after a delay drawn uniformly from `[0, span)`.
    pub span: Duration,
    pub seed: u64,
    /// Count the delay from the child's [`ready`] line (a test child); `false` counts it from
    /// the start of the process (any program, such as the `scrivo` binary).
    pub wait_ready: bool,
}

/// What [`kill_at_points`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Kills made (the child was still running when it was killed).
    pub kills: usize,
    /// Runs that had finished by themselves before their kill came.
    pub finished: usize,
    /// Checks after a kill that passed.
    pub recovered: usize,
}

/// Starts the child `plan.points` times, kills each (SIGKILL) after a random delay and runs
/// `check(i)` after each kill; stops at the first failed check and returns its message.
pub fn kill_at_points(
    plan: Plan,
    mut spawn: impl FnMut() -> Command,
    mut check: impl FnMut(usize) -> Result<(), String>,
) -> Result<Report, String> {
    let mut rng = fastrand::Rng::with_seed(plan.seed);
    let mut report = Report { kills: 0, finished: 0, recovered: 0 };
    for i in 0..plan.points {
        let mut child = spawn().stdout(Stdio::piped()).stderr(Stdio::null()).spawn().map_err(|e| format!("starting the child: {e}"))?;
        let stdout = child.stdout.take().ok_or("the child has no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let started = Instant::now();
        // libtest may have written "test NAME ... " on the same line before it.
        if plan.wait_ready && !lines.by_ref().map_while(Result::ok).any(|l| l.trim_end().ends_with(READY)) {
            let status = child.wait().map_err(|e| e.to_string())?;
            return Err(format!("kill {i}: the child ended ({status}) before it was ready, after {:?}", started.elapsed()));
        }
        // Whatever else the child writes is read and dropped, so it never blocks on a full pipe.
        let drain = std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
        let delay = plan.span.mul_f64(rng.f64());
        std::thread::sleep(delay);
        if child.try_wait().map_err(|e| e.to_string())?.is_some() {
            if plan.wait_ready {
                return Err(format!("kill {i}: the child stopped writing by itself"));
            }
            report.finished += 1;
        } else {
            child.kill().map_err(|e| format!("kill {i}: {e}"))?;
            report.kills += 1;
        }
        child.wait().map_err(|e| e.to_string())?;
        let _ = drain.join();
        check(i).map_err(|e| format!("after kill {i} ({delay:?} into the writes): {e}"))?;
        report.recovered += 1;
    }
    Ok(report)
}
