//! Resumable HTTP download with a sha256 check: bytes go to `<file>.part`; an interrupted
//! download continues from there with a `Range` request; only a file whose hash matches is
//! renamed into place, and a mismatch deletes the partial file.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::Progress;

pub fn part_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".part");
    target.with_file_name(name)
}

pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(format!("{:x}", hasher.finalize()))
}

/// Downloads `url` to `target`, resuming a previous `.part`, and checks `sha256`.
pub fn download(url: &str, target: &Path, sha256: &str, progress: &dyn Progress) -> Result<()> {
    let part = part_path(target);
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    let agent = ureq::AgentBuilder::new().timeout_connect(Duration::from_secs(15)).timeout_read(Duration::from_secs(60)).build();
    let mut request = agent.get(url);
    if have > 0 {
        request = request.set("Range", &format!("bytes={have}-"));
    }
    let fail = |detail: String| Error::Download { url: url.to_owned(), detail };
    let response = match request.call() {
        Ok(r) => r,
        // The server says our partial file is already complete (or larger): start over.
        Err(ureq::Error::Status(416, _)) => {
            std::fs::remove_file(&part).map_err(|e| Error::io(&part, e))?;
            return download(url, target, sha256, progress);
        }
        Err(ureq::Error::Status(code, r)) => return Err(fail(format!("HTTP {code} {}", r.status_text()))),
        Err(e) => return Err(fail(e.to_string())),
    };
    let resumed = response.status() == 206;
    let length: Option<u64> = response.header("Content-Length").and_then(|v| v.parse().ok());
    let start = if resumed { have } else { 0 };
    let mut file = OpenOptions::new()
        .create(true)
        .write(true)
        .append(resumed)
        .truncate(!resumed)
        .open(&part)
        .map_err(|e| Error::io(&part, e))?;
    progress.start(url, length.map(|l| l + start));
    progress.advance(start);
    let mut body = response.into_reader();
    let mut buf = vec![0u8; 1 << 16];
    let mut got = 0u64;
    loop {
        let n = body.read(&mut buf).map_err(|e| fail(format!("connection lost after {} bytes ({e}); run again to resume", start + got)))?;
        if n == 0 {
            break;
        }
        file.write_all(&buf[..n]).map_err(|e| Error::io(&part, e))?;
        got += n as u64;
        progress.advance(n as u64);
    }
    file.sync_all().map_err(|e| Error::io(&part, e))?;
    drop(file);
    progress.finish();
    if let Some(len) = length.filter(|l| got < *l) {
        return Err(fail(format!("connection closed after {} of {} bytes; run again to resume", start + got, start + len)));
    }
    let actual = sha256_file(&part)?;
    if !actual.eq_ignore_ascii_case(sha256) {
        let _ = std::fs::remove_file(&part);
        return Err(Error::Checksum { path: target.into(), expected: sha256.to_owned(), actual });
    }
    std::fs::rename(&part, target).map_err(|e| Error::io(target, e))?;
    Ok(())
}
