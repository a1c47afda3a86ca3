//! The WAV reader on any bytes: every encoding and header hound accepts, extensible headers,
//! chunk sizes that lie. It must return an error or 16 kHz samples in [-1, 1], never panic or
//! allocate what a header claims.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = scrivo_fuzz::scratch("input.wav", data);
    if let Ok(audio) = scrivo_audio::read_wav(&path) {
        assert!(audio.samples.iter().all(|s| (-1.0..=1.0).contains(s)), "a sample outside [-1, 1]");
    }
    let _ = scrivo_audio::probe_seconds(&path);
    if let Ok(mut stream) = scrivo_audio::WavStream::open(&path) {
        for _ in 0..64 {
            match stream.next_piece(8_000) {
                Ok(Some(piece)) => assert!(piece.iter().all(|s| s.is_finite())),
                _ => break,
            }
        }
    }
});
