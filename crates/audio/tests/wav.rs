//! Every WAV encoding decodes to the expected samples; every kind of bad file is a one-line
//! error that names it.

use std::path::{Path, PathBuf};

use hound::{SampleFormat, WavSpec, WavWriter};
use scrivo_audio::{read_wav, AudioError};

/// A 16 kHz test signal: a ramp through the full range, so scaling errors show.
fn signal() -> Vec<f32> {
    (0..1600).map(|i| ((i as f32 / 1600.0) * 2.0 - 1.0) * 0.9).collect()
}

fn write(dir: &Path, name: &str, spec: WavSpec, frames: &[f32]) -> PathBuf {
    let path = dir.join(name);
    let mut w = WavWriter::create(&path, spec).expect("create");
    for &v in frames {
        for _ in 0..spec.channels {
            match (spec.sample_format, spec.bits_per_sample) {
                (SampleFormat::Float, _) => w.write_sample(v).expect("write"),
                (SampleFormat::Int, 8) => w.write_sample((v * 127.0).round() as i8).expect("write"),
                (SampleFormat::Int, 16) => w.write_sample((v * 32767.0).round() as i16).expect("write"),
                (SampleFormat::Int, 24) => w.write_sample((v * 8_388_607.0).round() as i32).expect("write"),
                (SampleFormat::Int, _) => w.write_sample((f64::from(v) * 2_147_483_647.0).round() as i32).expect("write"),
            }
        }
    }
    w.finalize().expect("finalize");
    path
}

fn spec(channels: u16, rate: u32, bits: u16, format: SampleFormat) -> WavSpec {
    WavSpec { channels, sample_rate: rate, bits_per_sample: bits, sample_format: format }
}

#[test]
fn every_pcm_encoding_decodes_to_the_same_samples() {
    let dir = tempfile::tempdir().expect("tempdir");
    let want = signal();
    // (encoding, channels, tolerance: two quantisation steps of the encoding, as the reader
    // scales by 2^(bits-1) and the writer here by 2^(bits-1) - 1)
    let cases = [
        ("u8.wav", spec(1, 16_000, 8, SampleFormat::Int), 2.0 / 127.0),
        ("s16.wav", spec(1, 16_000, 16, SampleFormat::Int), 2.0 / 32_767.0),
        ("s24.wav", spec(1, 16_000, 24, SampleFormat::Int), 1e-6),
        ("s32.wav", spec(1, 16_000, 32, SampleFormat::Int), 1e-6),
        ("f32.wav", spec(1, 16_000, 32, SampleFormat::Float), 1e-7),
        ("stereo-s16.wav", spec(2, 16_000, 16, SampleFormat::Int), 2.0 / 32_767.0),
        // hound writes WAVE_FORMAT_EXTENSIBLE for more than two channels
        ("six-channel-s24.wav", spec(6, 16_000, 24, SampleFormat::Int), 1e-6),
    ];
    for (name, spec, tol) in cases {
        let path = write(dir.path(), name, spec, &want);
        let audio = read_wav(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(audio.samples.len(), want.len(), "{name}");
        assert_eq!(audio.source_channels, spec.channels);
        let err = audio.samples.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(err <= tol * 1.01, "{name}: max error {err} > {tol}");
    }
    let header = std::fs::read(dir.path().join("six-channel-s24.wav")).expect("read");
    assert_eq!(u16::from_le_bytes([header[20], header[21]]), 0xFFFE, "extensible header written");
}

#[test]
fn other_rates_are_resampled_to_16_khz() {
    let dir = tempfile::tempdir().expect("tempdir");
    for rate in [8_000u32, 22_050, 44_100, 48_000] {
        let n = rate as usize; // one second of a 300 Hz tone
        let tone: Vec<f32> = (0..n).map(|i| (2.0 * std::f32::consts::PI * 300.0 * i as f32 / rate as f32).sin() * 0.5).collect();
        let path = write(dir.path(), &format!("{rate}.wav"), spec(1, rate, 16, SampleFormat::Int), &tone);
        let audio = read_wav(&path).expect("read");
        assert_eq!(audio.samples.len(), 16_000, "{rate}");
        assert_eq!(audio.source_rate, rate);
        let expected: Vec<f32> = (0..16_000).map(|i| (2.0 * std::f32::consts::PI * 300.0 * i as f32 / 16_000.0).sin() * 0.5).collect();
        let err = audio.samples[800..15_200].iter().zip(&expected[800..15_200]).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        // 48 kHz -> 16 kHz leaves a sub-sample (~0.3 sample) delay: 0.02 at this tone.
        assert!(err < 0.025, "{rate}: max error {err}");
    }
}

fn assert_error(path: &Path, check: impl Fn(&AudioError) -> bool) {
    let err = read_wav(path).expect_err("must fail");
    let msg = err.to_string();
    assert!(check(&err), "{}: unexpected {err:?}", path.display());
    assert!(msg.contains(&path.display().to_string()), "error must name the file: {msg}");
    assert!(!msg.contains('\n'), "one line: {msg}");
}

#[test]
fn bad_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();

    let text = d.join("notes.wav");
    std::fs::write(&text, "this is not audio at all, just text").expect("write");
    assert_error(&text, |e| matches!(e, AudioError::NotWav { .. }));

    let good = write(d, "good.wav", spec(1, 16_000, 16, SampleFormat::Int), &signal());
    let bytes = std::fs::read(&good).expect("read");
    let truncated = d.join("truncated.wav");
    std::fs::write(&truncated, &bytes[..bytes.len() - 1000]).expect("write");
    assert_error(&truncated, |e| matches!(e, AudioError::Truncated { .. }));

    let header_cut = d.join("header-cut.wav");
    std::fs::write(&header_cut, &bytes[..20]).expect("write");
    assert_error(&header_cut, |e| matches!(e, AudioError::Truncated { .. } | AudioError::NotWav { .. }));

    let empty = write(d, "empty.wav", spec(1, 16_000, 16, SampleFormat::Int), &[]);
    assert_error(&empty, |e| matches!(e, AudioError::Empty { .. }));

    let mut absurd = bytes.clone();
    absurd[24..28].copy_from_slice(&u32::MAX.to_le_bytes()); // sample rate
    let absurd_path = d.join("absurd-rate.wav");
    std::fs::write(&absurd_path, &absurd).expect("write");
    assert_error(&absurd_path, |e| matches!(e, AudioError::BadHeader { .. } | AudioError::NotWav { .. }));

    let mut no_channels = bytes.clone();
    no_channels[22..24].copy_from_slice(&0u16.to_le_bytes());
    let no_channels_path = d.join("zero-channels.wav");
    std::fs::write(&no_channels_path, &no_channels).expect("write");
    assert_error(&no_channels_path, |e| matches!(e, AudioError::BadHeader { .. } | AudioError::NotWav { .. }));

    assert_error(d, |e| matches!(e, AudioError::Directory { .. }));
    assert_error(&d.join("missing.wav"), |e| matches!(e, AudioError::Io { .. }));
}

#[test]
fn a_stream_in_pieces_gives_what_the_whole_read_gives() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Five seconds of a 44.1 kHz stereo tone, so the resampler and the channel mix both run.
    let frames: Vec<f32> = (0..44_100 * 5).map(|i| (i as f32 * 440.0 * std::f32::consts::TAU / 44_100.0).sin() * 0.5).collect();
    let path = write(dir.path(), "tone.wav", spec(2, 44_100, 16, SampleFormat::Int), &frames);
    let whole = read_wav(&path).expect("read").samples;
    for piece in [1_000, 16_000, 37_000, 1 << 20] {
        let mut stream = scrivo_audio::WavStream::open(&path).expect("open");
        assert!((stream.seconds() - 5.0).abs() < 1e-9);
        let mut joined = Vec::new();
        while let Some(p) = stream.next_piece(piece).expect("piece") {
            assert!(!p.is_empty() && p.len() <= piece, "{piece}: a piece of {}", p.len());
            joined.extend(p);
        }
        assert_eq!(joined.len(), whole.len(), "pieces of {piece}");
        let err = joined.iter().zip(&whole).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(err < 1e-4, "pieces of {piece}: max difference {err}");
    }
}

#[test]
fn a_header_claiming_more_than_the_file_holds_is_refused_before_reading() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = write(dir.path(), "good.wav", spec(1, 16_000, 16, SampleFormat::Int), &signal());
    let mut bytes = std::fs::read(&good).expect("read");
    // The data chunk's size (bytes 40..44 of hound's plain header) says 4 GB.
    bytes[40..44].copy_from_slice(&(u32::MAX - 1).to_le_bytes());
    let huge = dir.path().join("claims-4gb.wav");
    std::fs::write(&huge, &bytes).expect("write");
    for result in [read_wav(&huge).map(|_| ()), scrivo_audio::WavStream::open(&huge).map(|_| ())] {
        let e = result.expect_err("refused");
        assert!(matches!(e, AudioError::Truncated { .. }), "{e}");
        assert!(e.to_string().contains("claims-4gb.wav"), "{e}");
    }
    // Cut by less than the header's size, the file passes the size check at open: a stream
    // says it is truncated once it reaches the end.
    let cut = dir.path().join("cut.wav");
    let whole = std::fs::read(&good).expect("read");
    std::fs::write(&cut, &whole[..whole.len() - 20]).expect("write");
    let mut stream = scrivo_audio::WavStream::open(&cut).expect("open");
    let mut last = Ok(None);
    for _ in 0..100 {
        last = stream.next_piece(400);
        if !matches!(last, Ok(Some(_))) {
            break;
        }
    }
    assert!(matches!(last, Err(AudioError::Truncated { .. })), "{:?}", last.map(|p| p.map(|v| v.len())));
}

/// Inputs the `wav_reader` fuzz target found crashing it (fuzz/regressions/wav_reader), read
/// again: an error or samples in [-1, 1]. The first was an 8 kHz 8-bit square wave whose
/// resampled ringing reached 1.09.
#[test]
fn fuzz_found_wavs_read_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/wav_reader");
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).expect("regressions folder") {
        let from = entry.expect("entry").path();
        let path = tmp.path().join("input.wav");
        std::fs::copy(&from, &path).expect("copy");
        if let Ok(audio) = read_wav(&path) {
            assert!(audio.samples.iter().all(|s| (-1.0..=1.0).contains(s)), "{}", from.display());
        }
        let mut stream = scrivo_audio::WavStream::open(&path);
        while let Ok(Some(piece)) = stream.as_mut().map(|s| s.next_piece(8_000)).unwrap_or(Ok(None)) {
            assert!(piece.iter().all(|s| (-1.0..=1.0).contains(s)), "{}", from.display());
        }
        replayed += 1;
    }
    assert!(replayed > 0);
}
