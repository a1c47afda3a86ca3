//! A model download killed (SIGKILL) at any moment, again and again, from a local HTTP server
//! that sends slowly: the model file is never there unless whole and verified, the `.part`
//! always holds a prefix of the file and the next run resumes from it (a Range request), and
//! the download finishes with the right checksum.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use scrivo_models::fetch::{download, part_path};
use scrivo_models::NoProgress;
use sha2::{Digest, Sha256};

const SIZE: usize = 6 << 20;

fn body() -> Vec<u8> {
    (0..SIZE as u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect()
}

/// Serves `body` (honouring `Range: bytes=N-`) in 64 KB pieces 2 ms apart: about 0.2 s for
/// the whole file, so kills land in the middle of it.
fn serve_slowly(body: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/model.bin", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let body = body.clone();
            std::thread::spawn(move || {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request).to_lowercase();
                let start: usize = text.lines().find_map(|l| l.strip_prefix("range: bytes=")).and_then(|r| r.trim().trim_end_matches('-').parse().ok()).unwrap_or(0);
                let start = start.min(body.len());
                let head = if start > 0 {
                    format!("HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{}/{}\r\nConnection: close\r\n\r\n", body.len() - start, body.len() - 1, body.len())
                } else {
                    format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())
                };
                if stream.write_all(head.as_bytes()).is_err() {
                    return;
                }
                for piece in body[start..].chunks(64 << 10) {
                    if stream.write_all(piece).is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
            });
        }
    });
    url
}

fn sha(data: &[u8]) -> String {
    format!("{:x}", Sha256::digest(data))
}

#[test]
fn child_downloads_forever() {
    let Some(dir) = scrivo_faults::child_dir() else { return };
    let url = std::fs::read_to_string(dir.join("url.txt")).expect("url");
    let target = dir.join("model.bin");
    let sha = sha(&body());
    scrivo_faults::ready();
    loop {
        download(&url, &target, &sha, &NoProgress).expect("download");
        // Again from the start: every kill should find a download under way.
        std::fs::remove_file(&target).expect("rm");
    }
}

#[test]
fn a_download_killed_at_any_moment_is_never_taken_for_a_model() {
    let body = body();
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("url.txt"), serve_slowly(body.clone())).expect("url");
    let target = dir.path().join("model.bin");
    let part = part_path(&target);
    let mut resumable = 0;
    let plan = scrivo_faults::Plan { points: 40, span: Duration::from_millis(400), seed: 18, wait_ready: true };
    let report = scrivo_faults::kill_at_points(
        plan,
        || scrivo_faults::child("child_downloads_forever", dir.path()),
        |_| {
            if target.exists() && std::fs::read(&target).map_err(|e| e.to_string())? != body {
                return Err("model.bin is there but not the whole file".into());
            }
            if let Ok(held) = std::fs::read(&part) {
                if held.len() > body.len() || held[..] != body[..held.len()] {
                    return Err(format!("the .part ({} bytes) is not a prefix of the file", held.len()));
                }
                resumable += usize::from(!held.is_empty());
            }
            Ok(())
        },
    )
    .expect("every kill recovered");
    // The last kill's .part is resumed to the end.
    let url = std::fs::read_to_string(dir.path().join("url.txt")).expect("url");
    let _ = std::fs::remove_file(&target);
    download(&url, &target, &sha(&body), &NoProgress).expect("resumed download");
    assert_eq!(std::fs::read(&target).expect("model"), body);
    assert!(!part.exists(), "the .part is gone once the file is whole");
    eprintln!("download: {} kills, {} recovered, {resumable} left a .part to resume", report.kills, report.recovered);
    assert_eq!(report.recovered, plan.points);
    assert!(resumable >= 10, "most kills fell inside a download ({resumable})");
}
