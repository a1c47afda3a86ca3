//! The GGUF reader and the polishing model's validator on any bytes: counts, string lengths,
//! array lengths, tensor shapes and offsets that lie.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::path::Path::new("fuzz.gguf");
    if let Ok(gguf) = scrivo_models::gguf::Gguf::parse(data, path) {
        for t in &gguf.tensors {
            gguf.tensor_data(t, path).expect("parse checked every tensor");
        }
        let _ = gguf.get("general.architecture").and_then(|v| v.as_str());
    }
    let file = scrivo_fuzz::scratch("model.gguf", data);
    let _ = scrivo_models::gguf::validate_llm(&file);
});
