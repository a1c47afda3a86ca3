//! The whisper ggml validator (run on every model before whisper.cpp sees it) and the
//! vocabulary reader on any bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = scrivo_fuzz::scratch("model.bin", data);
    let valid = scrivo_models::ggml::validate(&path).is_ok();
    let _ = scrivo_models::ggml::vocabulary(&path);
    if valid {
        scrivo_models::ggml::read(&path).expect("a file that validates is read whole");
    }
});
