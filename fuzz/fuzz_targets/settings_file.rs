//! The settings file on any bytes: the defaults with the reason, or settings that save and read
//! back as themselves.
#![no_main]
use libfuzzer_sys::fuzz_target;
use scrivo_settings::Settings;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(settings) = Settings::parse(text) {
        let _ = settings.problems();
        let _ = settings.style();
        let saved = toml::to_string(&settings).expect("settings serialise");
        assert_eq!(Settings::parse(&saved).expect("saved settings read back"), settings);
    }
});
