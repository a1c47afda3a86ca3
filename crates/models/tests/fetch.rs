//! The URL install path against a local HTTP server: a complete download, one interrupted
//! mid-way that resumes with a Range request, and a wrong checksum that leaves nothing behind.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread;

use scrivo_models::fetch::{download, part_path, sha256_file};
use scrivo_models::{Error, NoProgress};
use sha2::{Digest, Sha256};

/// A file server that records the Range header of each request and, when `cut_first` is set,
/// sends only the first `cut_first` bytes of the first response before closing the connection.
struct Server {
    url: String,
    ranges: Arc<Mutex<Vec<Option<String>>>>,
}

fn payload() -> Vec<u8> {
    (0..300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}

fn serve(body: Vec<u8>, cut_first: Option<usize>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/model.bin", listener.local_addr().expect("addr"));
    let ranges = Arc::new(Mutex::new(Vec::new()));
    let seen = ranges.clone();
    thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(stream) = stream else { continue };
            let range = handle(stream, &body, if n == 0 { cut_first } else { None });
            seen.lock().expect("lock").push(range);
        }
    });
    Server { url, ranges }
}

fn handle(mut stream: TcpStream, body: &[u8], cut: Option<usize>) -> Option<String> {
    use std::io::Write;
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&request).to_string();
    let range = text.lines().find_map(|l| l.strip_prefix("Range: ").or_else(|| l.strip_prefix("range: "))).map(str::to_owned);
    let start: usize = range.as_deref().and_then(|r| r.strip_prefix("bytes=")).and_then(|r| r.trim_end_matches('-').parse().ok()).unwrap_or(0);
    let rest = &body[start.min(body.len())..];
    let head = if start > 0 {
        format!("HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {}-{}/{}\r\nConnection: close\r\n\r\n", rest.len(), start, body.len() - 1, body.len())
    } else {
        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", rest.len())
    };
    let _ = stream.write_all(head.as_bytes());
    let send = cut.map_or(rest, |c| &rest[..c.min(rest.len())]);
    let _ = stream.write_all(send);
    let _ = stream.flush();
    range
}

fn sha(data: &[u8]) -> String {
    format!("{:x}", Sha256::digest(data))
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir).expect("read dir").flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn complete_download_is_verified_and_renamed_into_place() {
    let body = payload();
    let server = serve(body.clone(), None);
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("model.bin");
    download(&server.url, &target, &sha(&body), &NoProgress).expect("download");
    assert_eq!(std::fs::read(&target).expect("read"), body);
    assert_eq!(files_in(dir.path()), vec!["model.bin"]);
}

#[test]
fn interrupted_download_resumes_from_the_partial_file() {
    let body = payload();
    let server = serve(body.clone(), Some(100_000));
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("model.bin");

    let first = download(&server.url, &target, &sha(&body), &NoProgress);
    let err = first.expect_err("the cut connection must fail");
    assert!(matches!(err, Error::Download { .. }), "{err}");
    assert!(err.to_string().contains("resume"), "{err}");
    assert!(!target.exists(), "nothing at the final path after an interruption");
    assert_eq!(std::fs::metadata(part_path(&target)).expect("partial kept").len(), 100_000);

    download(&server.url, &target, &sha(&body), &NoProgress).expect("resumed download");
    assert_eq!(sha256_file(&target).expect("hash"), sha(&body));
    assert_eq!(files_in(dir.path()), vec!["model.bin"]);
    let ranges = server.ranges.lock().expect("lock").clone();
    assert_eq!(ranges, vec![None, Some("bytes=100000-".to_string())]);
}

#[test]
fn wrong_checksum_is_rejected_and_leaves_nothing_half_written() {
    let body = payload();
    let server = serve(body, None);
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("model.bin");
    let wrong = "0".repeat(64);
    let err = download(&server.url, &target, &wrong, &NoProgress).expect_err("must reject");
    assert!(matches!(err, Error::Checksum { .. }), "{err}");
    assert!(err.to_string().contains("model.bin"), "{err}");
    assert!(files_in(dir.path()).is_empty(), "left behind: {:?}", files_in(dir.path()));
}

#[test]
fn unreachable_server_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = download("http://127.0.0.1:9/none.bin", &dir.path().join("x.bin"), "00", &NoProgress).expect_err("refused");
    assert!(err.to_string().contains("127.0.0.1:9/none.bin"), "{err}");
}
