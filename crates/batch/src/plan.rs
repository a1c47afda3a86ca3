//! Which files to read and where each result goes.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use scrivo_models::AtomicFile;
use scrivo_transcript::Format;
use walkdir::WalkDir;

use crate::{BatchError, Shard};

/// One recording to transcribe and where its result goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub input: PathBuf,
    pub output: PathBuf,
}

/// The jobs, and the inputs that cannot be transcribed (each with its reason).
#[derive(Debug, Default)]
pub struct Plan {
    pub jobs: Vec<Job>,
    pub problems: Vec<BatchError>,
}

fn is_wav(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("wav") || e.eq_ignore_ascii_case("wave"))
}

fn hidden(entry: &walkdir::DirEntry) -> bool {
    entry.depth() > 0 && entry.file_name().to_string_lossy().starts_with('.')
}

/// Expands `inputs` (files and folders; folders are searched recursively for `.wav` files,
/// hidden entries skipped), orders the recordings by path, and decides each output path: the input with the
/// format's extension, or, with `out_dir`, the same name under `out_dir` (keeping the path
/// below a folder the user named, so equal names in different subfolders do not collide).
///
/// An output that would replace any input, or another job's output, is a problem, not a job.
pub fn plan(inputs: &[PathBuf], format: Format, out_dir: Option<&Path>) -> Plan {
    let mut found: Vec<(PathBuf, PathBuf)> = Vec::new(); // (input, path relative to out_dir)
    let mut problems = Vec::new();
    for input in inputs {
        if !input.is_dir() {
            let name = input.file_name().map(PathBuf::from).unwrap_or_else(|| input.clone());
            found.push((input.clone(), name));
            continue;
        }
        let before = found.len();
        for entry in WalkDir::new(input).sort_by_file_name().into_iter().filter_entry(|e| !hidden(e)) {
            match entry {
                Ok(e) if e.file_type().is_file() && is_wav(e.path()) => {
                    let relative = e.path().strip_prefix(input).map(Path::to_path_buf).unwrap_or_else(|_| e.path().into());
                    found.push((e.into_path(), relative));
                }
                Ok(_) => {}
                Err(e) => {
                    let path = e.path().map(Path::to_path_buf).unwrap_or_else(|| input.clone());
                    problems.push(BatchError::Input { path, detail: format!("cannot read the folder: {e}") });
                }
            }
        }
        if found.len() == before {
            problems.push(BatchError::Input { path: input.clone(), detail: "folder holds no .wav files".into() });
        }
    }
    // One order for every process that plans the same inputs: shards agree without talking.
    found.sort_by(|a, b| a.0.cmp(&b.0));
    let key = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let input_keys: HashSet<PathBuf> = found.iter().map(|(i, _)| key(i)).collect();
    let mut claimed: HashMap<PathBuf, PathBuf> = HashMap::new();
    let mut jobs = Vec::new();
    let mut seen_inputs = HashSet::new();
    for (input, relative) in found {
        if !seen_inputs.insert(key(&input)) {
            continue; // the same file named twice (e.g. a file and its folder)
        }
        let output = match out_dir {
            Some(dir) => dir.join(relative).with_extension(format.extension()),
            None => input.with_extension(format.extension()),
        };
        let output_key = std::fs::canonicalize(output.parent().unwrap_or(Path::new(".")))
            .map(|d| d.join(output.file_name().unwrap_or_default()))
            .unwrap_or_else(|_| output.clone());
        if input_keys.contains(&output_key) {
            problems.push(BatchError::Input { path: input, detail: format!("its output {} would overwrite an input", output.display()) });
        } else if let Some(first) = claimed.get(&output_key) {
            problems.push(BatchError::Input {
                path: input,
                detail: format!("its output {} is already the output of {}", output.display(), first.display()),
            });
        } else {
            claimed.insert(output_key, input.clone());
            jobs.push(Job { input, output });
        }
    }
    Plan { jobs, problems }
}

impl Plan {
    /// The jobs of one shard: every `count`-th job from position `index` of the path order, so
    /// the shards of a batch share its jobs out without overlap and with similar amounts of
    /// work. The plan's problems are reported by shard 0 alone.
    pub fn shard(mut self, shard: Shard) -> Plan {
        let count = shard.count.max(1);
        self.jobs = self.jobs.into_iter().enumerate().filter(|(i, _)| i % count == shard.index).map(|(_, j)| j).collect();
        if shard.index != 0 {
            self.problems.clear();
        }
        self
    }

    /// Removes what a run killed while writing left beside this plan's outputs (each output's
    /// temporary files; an output itself is never half-written) and returns the paths removed.
    /// Each folder is read once, however many outputs it holds. Outputs belong to one job and
    /// one shard, so no other process's file in progress is touched.
    pub fn remove_stale_temporaries(&self) -> Vec<PathBuf> {
        let mut by_folder: HashMap<&Path, HashSet<&std::ffi::OsStr>> = HashMap::new();
        for job in &self.jobs {
            if let (Some(dir), Some(name)) = (job.output.parent(), job.output.file_name()) {
                by_folder.entry(dir).or_default().insert(name);
            }
        }
        let mut removed = Vec::new();
        for (dir, names) in by_folder {
            let Ok(entries) = std::fs::read_dir(if dir.as_os_str().is_empty() { Path::new(".") } else { dir }) else { continue };
            for entry in entries.flatten() {
                let file_name = entry.file_name();
                let target = file_name.to_str().and_then(AtomicFile::target_of_temporary);
                if target.is_some_and(|t| names.contains(std::ffi::OsStr::new(t))) && std::fs::remove_file(entry.path()).is_ok() {
                    removed.push(entry.path());
                }
            }
        }
        removed
    }

    /// Takes out the jobs whose output is already there and no older than its input (outputs are
    /// written atomically, so one that exists is whole) and returns them.
    pub fn take_finished(&mut self) -> Vec<Job> {
        let (finished, todo) = std::mem::take(&mut self.jobs).into_iter().partition(Job::is_finished);
        self.jobs = todo;
        finished
    }
}

impl Job {
    /// Whether the output exists as a file modified no earlier than the input.
    pub fn is_finished(&self) -> bool {
        let modified = |p: &Path| std::fs::metadata(p).ok().filter(|m| m.is_file()).and_then(|m| m.modified().ok());
        match (modified(&self.output), modified(&self.input)) {
            (Some(output), Some(input)) => output >= input,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}

/// Writes `contents` to `path` through a temporary file and a rename, creating folders.
pub fn write_atomically(path: &Path, contents: &str) -> Result<(), BatchError> {
    let output = |detail: String| BatchError::Output { path: path.into(), detail };
    let file = AtomicFile::create(path).map_err(|e| output(e.to_string()))?;
    let mut handle = file.handle();
    handle.write_all(contents.as_bytes()).map_err(|e| output(e.to_string()))?;
    file.commit().map_err(|e| output(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, b"x").expect("write");
    }

    #[test]
    fn outputs_go_beside_inputs_or_under_the_out_folder() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path();
        for f in ["rec/a.wav", "rec/sub/a.WAV", "rec/notes.txt", "rec/.hidden/x.wav", "single.wav"] {
            touch(&root.join(f));
        }
        let inputs = [root.join("rec"), root.join("single.wav")];
        let p = plan(&inputs, Format::Srt, None);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let outs: Vec<_> = p.jobs.iter().map(|j| j.output.strip_prefix(root).expect("under root").to_path_buf()).collect();
        assert_eq!(outs, [PathBuf::from("rec/a.srt"), "rec/sub/a.srt".into(), "single.srt".into()]);

        let out = root.join("out");
        let p = plan(&inputs, Format::Json, Some(&out));
        let outs: Vec<_> = p.jobs.iter().map(|j| j.output.strip_prefix(&out).expect("under out").to_path_buf()).collect();
        assert_eq!(outs, [PathBuf::from("a.json"), "sub/a.json".into(), "single.json".into()]);
    }

    #[test]
    fn never_overwrites_an_input_or_another_output() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path();
        for f in ["talk.wav", "talk.txt", "x/dup.wav", "y/dup.wav"] {
            touch(&root.join(f));
        }
        // "talk.txt" is also given as an input (a WAV with an odd name): its own output would be itself.
        let p = plan(&[root.join("talk.wav"), root.join("talk.txt")], Format::Txt, None);
        assert_eq!(p.jobs.len(), 0, "{:?}", p.jobs);
        assert_eq!(p.problems.len(), 2);
        assert!(p.problems[0].to_string().contains("would overwrite an input"), "{}", p.problems[0]);

        let p = plan(&[root.join("x/dup.wav"), root.join("y/dup.wav")], Format::Txt, Some(&root.join("out")));
        assert_eq!(p.jobs.len(), 1);
        assert!(p.problems[0].to_string().contains("is already the output of"), "{}", p.problems[0]);
    }

    #[test]
    fn empty_folders_and_duplicates() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path();
        std::fs::create_dir_all(root.join("empty")).expect("mkdir");
        touch(&root.join("d/a.wav"));
        let p = plan(&[root.join("empty"), root.join("d"), root.join("d/a.wav")], Format::Txt, None);
        assert_eq!(p.jobs.len(), 1);
        assert_eq!(p.problems.len(), 1);
        assert!(p.problems[0].to_string().contains("no .wav files"));
    }

    #[test]
    fn shards_share_the_path_order_out_whatever_order_the_inputs_came_in() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path();
        let names = ["b/2.wav", "a/1.wav", "a/3.wav", "c.wav", "b/1.wav"];
        for f in names {
            touch(&root.join(f));
        }
        let forwards = [root.join("a"), root.join("b"), root.join("c.wav")];
        let backwards = [root.join("c.wav"), root.join("b"), root.join("a")];
        let order = |p: &Plan| p.jobs.iter().map(|j| j.input.strip_prefix(root).expect("under root").to_path_buf()).collect::<Vec<_>>();
        let whole = plan(&forwards, Format::Txt, None);
        assert_eq!(order(&whole), order(&plan(&backwards, Format::Txt, None)));
        assert_eq!(order(&whole), ["a/1.wav", "a/3.wav", "b/1.wav", "b/2.wav", "c.wav"].map(PathBuf::from));
        let mut union = Vec::new();
        for index in 0..3 {
            let part = plan(&backwards, Format::Txt, None).shard(Shard { index, count: 3 });
            assert!(part.jobs.len() == 1 || part.jobs.len() == 2, "{:?}", part.jobs);
            union.extend(part.jobs);
        }
        union.sort_by(|a, b| a.input.cmp(&b.input));
        assert_eq!(union, whole.jobs);
    }

    #[test]
    fn finished_jobs_are_those_with_an_output_no_older_than_the_input() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path();
        for f in ["done.wav", "todo.wav", "redone.wav"] {
            touch(&root.join(f));
        }
        touch(&root.join("done.txt"));
        touch(&root.join("redone.txt"));
        // redone.wav was recorded again after its output was written.
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(60);
        std::fs::File::options().write(true).open(root.join("redone.wav")).expect("open").set_modified(later).expect("touch");
        let mut p = plan(&[root.to_path_buf()], Format::Txt, None);
        let finished: Vec<_> = p.take_finished().into_iter().map(|j| j.input).collect();
        assert_eq!(finished, [root.join("done.wav")]);
        assert_eq!(p.jobs.iter().map(|j| j.input.clone()).collect::<Vec<_>>(), [root.join("redone.wav"), root.join("todo.wav")]);
    }

    #[test]
    fn a_killed_run_s_temporaries_are_removed_and_nothing_else() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path();
        for f in ["a.wav", "b.wav", ".a.txt.4242.tmp", ".c.txt.17.tmp", ".a.txt.notes", "a.txt.1.tmp"] {
            touch(&root.join(f));
        }
        let p = plan(&[root.join("a.wav"), root.join("b.wav")], Format::Txt, None);
        assert_eq!(p.remove_stale_temporaries(), [root.join(".a.txt.4242.tmp")]);
        // Another output's temporary (c.txt is not this plan's) and other files stay.
        for f in [".c.txt.17.tmp", ".a.txt.notes", "a.txt.1.tmp"] {
            assert!(root.join(f).exists(), "{f}");
        }
    }

    #[test]
    fn atomic_write_replaces_whole_files() {
        let tmp = tempfile::tempdir().expect("tmp");
        let path = tmp.path().join("deep/er/out.txt");
        write_atomically(&path, "one").expect("write");
        write_atomically(&path, "two").expect("rewrite");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "two");
        let leftovers = std::fs::read_dir(path.parent().expect("dir")).expect("ls").count();
        assert_eq!(leftovers, 1);
    }
}
