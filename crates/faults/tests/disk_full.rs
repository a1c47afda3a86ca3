//! A full disk (a 1 MB tmpfs filled to the last byte): every save fails with an error that
//! names the file and says why, the file before the save stays whole, nothing half-written is
//! left, and the same saves succeed once there is room again.
//!
//! Mounting a tmpfs needs root (CI runs as root); elsewhere the test prints a notice and passes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use scrivo_bias::{store, BiasingList, Entry};
use scrivo_history::{History, NewEntry};
use scrivo_settings::Settings;

/// A small tmpfs mounted for the test, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(bytes: usize) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(SmallDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills every free byte; returns the filler so room can be made again.
    fn fill(&self) -> PathBuf {
        let filler = self.path().join("filler");
        let mut f = std::fs::File::create(&filler).expect("filler");
        let block = vec![0u8; 4096];
        while f.write_all(&block).is_ok() {}
        let mut byte = [0u8; 1];
        while f.write_all(&byte).is_ok() {
            byte[0] = byte[0].wrapping_add(1);
        }
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn list(version: usize, terms: usize) -> BiasingList {
    let mut list = BiasingList::new("disk full");
    list.entries = (0..terms).map(|i| Entry { term: format!("Term{i}v{version}"), sounds_like: Vec::new(), note: Some(format!("v{version}")) }).collect();
    list
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir).expect("dir").filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn saves_on_a_full_disk_fail_clearly_and_keep_the_old_files() {
    let Some(disk) = SmallDisk::mount(1 << 20) else {
        eprintln!("SKIP: cannot mount a tmpfs here (needs root); the disk-full checks did not run");
        return;
    };
    let root = disk.path();
    let list_path = root.join("lists/team.toml");
    let settings_path = root.join("settings.toml");
    let history_dir = root.join("history");

    // Before: a list (and its backup), settings and one dictation, with room to spare.
    store::save(&list_path, &list(0, 50)).expect("list v0");
    store::save(&list_path, &list(1, 50)).expect("list v1");
    let old_settings = Settings { memory_budget_mb: Some(300), ..Settings::default() };
    old_settings.save_to(&settings_path).expect("settings");
    let history = History::open(&history_dir).expect("history");
    let first = history.record(&[0.25; 16_000], NewEntry::default()).expect("first recording");
    let list_before = std::fs::read(&list_path).expect("list");
    let settings_before = std::fs::read(&settings_path).expect("settings");
    let listing_before = (names(root), names(&root.join("lists")), names(&history_dir.join("audio")));

    let filler = disk.fill();

    // A list save: an error naming the list, the old list and backup whole.
    let err = store::save(&list_path, &list(2, 2_000)).expect_err("no room for the list");
    let message = err.to_string();
    assert!(message.contains("team.toml") || message.contains("lists"), "{message}");
    assert!(message.to_lowercase().contains("space"), "says the disk is full: {message}");
    assert_eq!(std::fs::read(&list_path).expect("list"), list_before);
    assert_eq!(store::load(&store::backup_path(&list_path)).expect("backup").entries, list(0, 50).entries);

    // A settings save: an error naming the file, the old settings read back.
    let new_settings = Settings { memory_budget_mb: Some(400), input_device: Some("x".repeat(200_000)), ..Settings::default() };
    let err = new_settings.save_to(&settings_path).expect_err("no room for the settings");
    assert!(err.to_string().contains("settings.toml"), "{err}");
    assert_eq!(std::fs::read(&settings_path).expect("settings"), settings_before);
    assert_eq!(Settings::load_from(&settings_path).settings, old_settings);

    // A dictation: an error, no row, no audio file left; the earlier one untouched.
    let err = history.record(&vec![0.5; 16_000 * 60], NewEntry::default()).expect_err("no room for a minute of audio");
    assert!(err.to_string().contains("history") || err.to_string().contains("audio"), "{err}");
    let entries = history.list(10).expect("list");
    assert_eq!(entries.len(), 1);
    assert_eq!(history.read_audio(&first).expect("audio").len(), 16_000);

    // Nothing half-written is left anywhere.
    assert_eq!((names(root), names(&root.join("lists")), names(&history_dir.join("audio"))), {
        let (mut top, lists, audio) = listing_before;
        top.push("filler".into());
        top.sort();
        (top, lists, audio)
    });

    // Room again: the same saves succeed.
    std::fs::remove_file(filler).expect("rm filler");
    store::save(&list_path, &list(2, 2_000)).expect("list v2");
    new_settings.save_to(&settings_path).expect("settings");
    history.record(&vec![0.5; 16_000 * 5], NewEntry::default()).expect("recording");
    eprintln!("disk full: list, settings and dictation saves refused with the old files whole; all succeed once there is room");
}
