//! Which files to read and where each result goes.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use scrivo_models::AtomicFile;
use scrivo_transcript::Format;
use walkdir::WalkDir;

use crate::BatchError;

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
/// hidden entries skipped, in name order) and decides each output path: the input with the
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
